//! `--info` against its oracle, `ss -tanim` and `ss -uanm` (iproute2),
//! on the same sockets: connections with known transfers that then go
//! idle (IPv4 and IPv6; BBR, the default here, and cubic and reno set per
//! socket), a peer that does not read, a path that lost packets for a
//! while (a veth pair to a second namespace whose route back is
//! blackholed, then restored) and UDP sockets with datagrams queued.
//!
//! Every token ss prints under a socket must be ours too, with the same
//! value. Values that move between two runs on an idle socket are not
//! masked but bracketed: ss runs before and after nlstat, and ours must
//! lie between the two. That holds for the ages (`lastsnd`, `lastrcv`,
//! `lastack`: milliseconds since an event, growing by the clock) and for
//! the time a stalled sender has been limited (`busy`, `rwnd_limited`,
//! `sndbuf_limited`: the kernel adds the running stretch when asked). Any
//! other token that differs between the two ss runs means an event
//! happened in between (a zero-window probe to the peer that does not
//! read): that attempt is retried, up to three times.

use crate::json_sockets::json_lines;
use crate::support::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Stdio;

/// In the peer namespace: a listener that reads everything it is sent.
const PEER: &str = r#"
import socket, sys, threading
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.91.0.2", 7100)); l.listen(4)
def drain(a):
    while a.recv(65536): pass
def serve():
    while True:
        a, _ = l.accept()
        threading.Thread(target=drain, args=(a,), daemon=True).start()
threading.Thread(target=serve, daemon=True).start()
print("READY", flush=True)
sys.stdin.read()
"#;

/// In the namespace under test: the sockets, then `READY` and the lossy
/// connection's total retransmissions, then idle until stdin closes.
const HOLDER: &str = r#"
import socket, struct, subprocess, sys, time
peer = sys.argv[1]
held = []
def family(addr): return socket.AF_INET6 if ":" in addr else socket.AF_INET
def listener(addr, port):
    s = socket.socket(family(addr)); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(16); held.append(s); return s
def connect(addr, port, cc=None):
    c = socket.socket(family(addr))
    if cc: c.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
    c.connect((addr, port)); held.append(c); return c
def receive(s, n):
    while n > 0:
        got = s.recv(min(n, 65536)); assert got; n -= len(got)
def tcp_info(s, offset): return struct.unpack_from("I", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104), offset)[0]
# (a) known transfers both ways, then idle
for addr, port in [("127.0.0.1", 7001), ("::1", 7002)]:
    l = listener(addr, port)
    for cc, size in [(None, 300000), ("cubic", 200000), ("reno", 50000)]:
        c = connect(addr, port, cc); a, _ = l.accept(); held.append(a)
        c.sendall(b"x" * size); receive(a, size)
        a.sendall(b"y" * 7000); receive(c, 7000)
# (b) a peer that does not read: the sender fills what it may
l = listener("127.0.0.1", 7200)
c = connect("127.0.0.1", 7200); a, _ = l.accept(); held.append(a)
c.setblocking(False)
try:
    while True: c.send(b"z" * 65536)
except BlockingIOError: pass
# (c) loss: the peer's route back blackholed while data is in flight
c = connect("10.91.0.2", 7100)
c.sendall(b"w" * 10000); time.sleep(0.2)
route = lambda verb: subprocess.run(["ip", "-n", peer, "route", verb, "blackhole", "10.91.0.1/32"], check=True)
route("add")
try:
    c.sendall(b"v" * 20000); time.sleep(1.0)
finally:
    route("del")
deadline = time.time() + 20
while tcp_info(c, 24) and time.time() < deadline: time.sleep(0.1)  # unacked
# (d) UDP with datagrams queued, IPv4 and IPv6
for addr, port in [("127.0.0.1", 7300), ("::1", 7301)]:
    u = socket.socket(family(addr), socket.SOCK_DGRAM); u.bind((addr, port)); held.append(u)
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    for _ in range(3): s.sendto(b"d" * 100, (addr, port))
    s.close()
time.sleep(0.5)  # delayed ACKs out: idle from here
print("READY", tcp_info(c, 100), flush=True)  # total_retrans
sys.stdin.read()
"#;

/// Tokens ss and nlstat print that move on an idle socket (see the
/// module's comment): compared within the bracket of two ss runs.
const MOVING: [&str; 6] = [
    "lastsnd:",
    "lastrcv:",
    "lastack:",
    "busy:",
    "rwnd_limited:",
    "sndbuf_limited:",
];

/// A socket: protocol (tcp or udp) and its addresses as netstat writes them.
type Key = (String, String, String);
/// An info line's tokens: (key, value); the key ends with `:` when the
/// token has one (`rtt:`), is the word for `send`, `pacing_rate` and
/// `delivery_rate` (value the next word), or the bare word (`bbr`,
/// `app_limited`) with an empty value.
type Tokens = Vec<(String, String)>;

fn tokens(line: &str) -> Tokens {
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = words[i];
        if matches!(word, "send" | "pacing_rate" | "delivery_rate") && i + 1 < words.len() {
            out.push((word.to_string(), words[i + 1].to_string()));
            i += 2;
            continue;
        }
        match word.split_once(':') {
            Some((key, value)) => out.push((format!("{key}:"), value.to_string())),
            None => out.push((word.to_string(), String::new())),
        }
        i += 1;
    }
    out
}

/// ss's `[::1]:7002` as netstat's `::1:7002`, and its `*:7500` (a
/// dual-stack socket on `::`) as `:::7500`.
fn netstat_address(ss: &str) -> String {
    match ss.strip_prefix('[').and_then(|r| r.split_once("]:")) {
        Some((addr, port)) => format!("{addr}:{port}"),
        None => match ss.strip_prefix("*:") {
            Some(port) => format!(":::{port}"),
            None => ss.to_string(),
        },
    }
}

/// Rows and the info line under each (`None`: no line).
fn rows(text: &str, ss: bool) -> BTreeMap<Key, Option<Tokens>> {
    let mut rows = BTreeMap::new();
    let mut last: Option<Key> = None;
    for line in text.lines() {
        if let Some(info) = line.strip_prefix('\t') {
            let key = last.take().expect("an info line under a row");
            rows.insert(key, Some(tokens(info)));
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        last = None;
        let proto = if ss {
            if fields.len() < 5 || fields[0] == "State" {
                continue;
            }
            String::new()
        } else {
            match fields.first().map(|p| p.trim_end_matches('6')) {
                Some(p @ ("tcp" | "udp")) if fields.len() >= 5 => p.to_string(),
                _ => continue,
            }
        };
        let key = (
            proto,
            netstat_address(fields[3]),
            netstat_address(fields[4]),
        );
        rows.insert(key.clone(), None);
        last = Some(key);
    }
    rows
}

/// ss's rows of both protocols, keyed like ours.
fn ss_rows(ns: &Namespace) -> BTreeMap<Key, Option<Tokens>> {
    let mut all = BTreeMap::new();
    for (proto, args) in [("tcp", "-tanim"), ("udp", "-uanm")] {
        let out = ns.run("ss", &[args]);
        assert!(out.status.success(), "ss {args}");
        for ((_, local, remote), line) in rows(&String::from_utf8_lossy(&out.stdout), true) {
            all.insert((proto.to_string(), local, remote), line);
        }
    }
    all
}

/// The numbers in a value, in order (`0.03/0.012` → 0.03, 0.012;
/// `(r0,rb131072,...)` → 0, 131072, ...; `12ms(45.6%)` → 12, 45.6).
fn numbers(value: &str) -> Vec<f64> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut flush = |current: &mut String| {
        if !current.is_empty() {
            out.push(current.parse().unwrap_or(f64::NAN));
            current.clear();
        }
    };
    let bytes = value.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let exponent = !current.is_empty()
            && (b == b'e' && bytes.get(i + 1).is_some_and(|n| matches!(n, b'+' | b'-'))
                || matches!(b, b'+' | b'-') && current.ends_with('e'));
        if b.is_ascii_digit() || b == b'.' && !current.is_empty() || exponent {
            current.push(b as char);
        } else {
            flush(&mut current);
        }
    }
    flush(&mut current);
    out
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= b.abs() * 1e-5 + 1e-9
}

/// Ours against ss before and after, token by token. `Err(true)`: an
/// event moved a token between the two ss runs (retry).
fn compare_tokens(
    what: &str,
    before: &Tokens,
    after: &Tokens,
    ours: &[(String, Vec<f64>, String)],
) -> Result<(), (bool, String)> {
    let keys = |t: &Tokens| t.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    if keys(before) != keys(after) {
        return Err((
            true,
            format!("{what}: ss's tokens changed between its runs"),
        ));
    }
    let our_keys: Vec<String> = ours.iter().map(|(k, _, _)| k.clone()).collect();
    if our_keys != keys(before) {
        return Err((
            false,
            format!("{what}: ss has {:?}, we have {our_keys:?}", keys(before)),
        ));
    }
    for (((key, first), (_, second)), (_, values, text)) in before.iter().zip(after).zip(ours) {
        let (low, high) = (numbers(first), numbers(second));
        if MOVING.contains(&key.as_str()) {
            let (Some(&lo), Some(&hi), Some(&v)) = (low.first(), high.first(), values.first())
            else {
                return Err((false, format!("{what}: {key} has no number")));
            };
            if !(lo <= v && v <= hi) {
                return Err((
                    false,
                    format!("{what}: {key}{text} not within {first}..{second}"),
                ));
            }
        } else if first != second {
            return Err((
                true,
                format!("{what}: {key} moved from {first} to {second}"),
            ));
        } else if values.len() != low.len() || values.iter().zip(&low).any(|(a, b)| !close(*a, *b))
        {
            return Err((false, format!("{what}: ss {key}{first}, we {key}{text}")));
        }
    }
    Ok(())
}

/// Our text tokens with their numbers.
fn with_numbers(tokens: &Tokens) -> Vec<(String, Vec<f64>, String)> {
    tokens
        .iter()
        .map(|(k, v)| (k.clone(), numbers(v), v.clone()))
        .collect()
}

/// What our JSON object says for each of ss's tokens, in ss's units
/// (`Err`: a token with no JSON member behind it).
fn json_tokens(o: &Value, ss: &Tokens) -> Result<Vec<(String, Vec<f64>, String)>, String> {
    let info = &o["info"];
    let n = |name: &str| -> Result<f64, String> {
        info[name]
            .as_u64()
            .map(|v| v as f64)
            .ok_or_else(|| format!("info.{name} is missing"))
    };
    let ms = |name: &str| n(name).map(|v| v / 1000.0);
    let mut out = Vec::new();
    for (key, _) in ss {
        let values: Vec<f64> = match key.as_str() {
            "skmem:" => {
                let skmem = o["skmem"].as_object().ok_or("no skmem object")?;
                let names = [
                    "rmem_alloc",
                    "rcvbuf",
                    "wmem_alloc",
                    "sndbuf",
                    "fwd_alloc",
                    "wmem_queued",
                    "optmem",
                    "backlog",
                    "drops",
                ];
                let values: Vec<f64> = names
                    .iter()
                    .map_while(|m| skmem.get(*m)?.as_u64().map(|v| v as f64))
                    .collect();
                if values.len() != skmem.len() {
                    return Err(format!("skmem has other members: {skmem:?}"));
                }
                values
            }
            "app_limited" => {
                if n("delivery_rate_app_limited")? != 1.0 {
                    return Err("app_limited without delivery_rate_app_limited 1".into());
                }
                vec![]
            }
            word if !word.ends_with(':')
                && !["send", "pacing_rate", "delivery_rate"].contains(&word) =>
            {
                if o["cong"] != *word {
                    return Err(format!("ss's algorithm {word}, cong {}", o["cong"]));
                }
                vec![]
            }
            "wscale:" => vec![n("snd_wscale")?, n("rcv_wscale")?],
            "rto:" => vec![ms("rto")?],
            "rtt:" => vec![ms("rtt")?, ms("rttvar")?],
            "ato:" => vec![ms("ato")?],
            "rcv_rtt:" => vec![ms("rcv_rtt")?],
            "minrtt:" => vec![ms("min_rtt")?],
            "mss:" => vec![n("snd_mss")?],
            "rcvmss:" => vec![n("rcv_mss")?],
            "cwnd:" => vec![n("snd_cwnd")?],
            "ssthresh:" => vec![n("snd_ssthresh")?],
            "notsent:" => vec![n("notsent_bytes")?],
            "retrans:" => vec![n("retrans")?, n("total_retrans")?],
            "lastsnd:" => vec![n("last_data_sent")?],
            "lastrcv:" => vec![n("last_data_recv")?],
            "lastack:" => vec![n("last_ack_recv")?],
            "busy:" => vec![(n("busy_time")? / 1000.0).floor()],
            "rwnd_limited:" | "sndbuf_limited:" => {
                let limited = n(key.trim_end_matches(':'))?;
                vec![
                    (limited / 1000.0).floor(),
                    100.0 * limited / n("busy_time")?,
                ]
            }
            "send" => vec![n("snd_cwnd")? * n("snd_mss")? * 8e6 / n("rtt")?],
            "delivery_rate" => vec![n("delivery_rate")? * 8.0],
            "pacing_rate" => {
                let mut rates = vec![n("pacing_rate")? * 8.0];
                let max = info["max_pacing_rate"]
                    .as_u64()
                    .ok_or("no max_pacing_rate")?;
                if max != 0 && max != u64::MAX {
                    rates.push(max as f64 * 8.0);
                }
                rates
            }
            "bbr:" => {
                let bbr = &o["bbr_info"];
                let get = |m: &str| bbr[m].as_u64().ok_or(format!("bbr_info.{m} is missing"));
                let mut values = vec![get("bw")? as f64 * 8.0, get("min_rtt")? as f64 / 1000.0];
                for gain in ["pacing_gain", "cwnd_gain"] {
                    if get(gain)? != 0 {
                        values.push(get(gain)? as f64 / 256.0);
                    }
                }
                values
            }
            member => match member.trim_end_matches(':') {
                name @ ("backoff" | "pmtu" | "advmss" | "bytes_sent" | "bytes_retrans"
                | "bytes_acked" | "bytes_received" | "segs_out" | "segs_in"
                | "data_segs_out" | "data_segs_in" | "delivered" | "delivered_ce"
                | "unacked" | "lost" | "sacked" | "dsack_dups" | "fackets"
                | "reordering" | "reord_seen" | "rcv_space" | "rcv_ssthresh"
                | "rcv_ooopack" | "snd_wnd") => vec![n(name)?],
                other => return Err(format!("no JSON member for ss's {other}")),
            },
        };
        let text = format!("{values:?}");
        out.push((key.clone(), values, text));
    }
    Ok(out)
}

/// What the kernel did not send is not in the object: UDP has no info or
/// cong, and a detail object is there exactly when ss printed one.
fn check_absent(what: &str, o: &Value, ss: &Tokens) -> Result<(), String> {
    let has = |k: &str| o.get(k).is_some();
    let ss_has = |k: &str| ss.iter().any(|(key, _)| key == k);
    if o["proto"] == "udp" && (has("info") || has("cong")) {
        return Err(format!("{what}: UDP with info or cong: {o}"));
    }
    if has("bbr_info") != ss_has("bbr:") || has("skmem") != ss_has("skmem:") {
        return Err(format!(
            "{what}: bbr_info or skmem where ss has none, or none where it has: {o}"
        ));
    }
    if has("dctcp_info") || has("vegas_info") {
        return Err(format!("{what}: a detail no socket here has: {o}"));
    }
    Ok(())
}

/// A socket row of nlstat's JSON keyed as [`rows`] keys it.
fn json_key(o: &Value) -> Key {
    let address = |side: &str| {
        let port = o[format!("{side}_port")]
            .as_u64()
            .map_or("*".into(), |p| p.to_string());
        format!("{}:{port}", o[format!("{side}_addr")].as_str().unwrap())
    };
    (
        o["proto"].as_str().unwrap().to_string(),
        address("local"),
        address("remote"),
    )
}

/// One attempt: ss, nlstat's text, ss, nlstat's JSON, ss.
fn attempt(ns: &Namespace) -> Result<(), (bool, String)> {
    let ss1 = ss_rows(ns);
    let text = ns.run(nlstat(), &["-tuanW", "--info"]);
    let ss2 = ss_rows(ns);
    let json = ns.run(nlstat(), &["-tuan", "--info", "--json"]);
    let ss3 = ss_rows(ns);
    assert!(text.status.success() && json.status.success());
    let ours = rows(&String::from_utf8_lossy(&text.stdout), false);
    let ours_keys: Vec<&Key> = ours.keys().collect();
    if ours_keys != ss1.keys().collect::<Vec<_>>() {
        return Err((
            true,
            format!("sockets: ss {:?}, ours {ours_keys:?}", ss1.keys()),
        ));
    }
    let mut objects = BTreeMap::new();
    for o in json_lines(&json.stdout) {
        objects.insert(json_key(&o), o);
    }
    for (key, line) in &ss1 {
        let what = format!("{} {} {}", key.0, key.1, key.2);
        let (Some(before), Some(middle), Some(after)) = (line, &ss2[key], &ss3[key]) else {
            return Err((false, format!("{what}: ss printed no info line")));
        };
        let Some(Some(ours)) = ours.get(key) else {
            return Err((false, format!("{what}: we printed no info line")));
        };
        compare_tokens(&what, before, middle, &with_numbers(ours))?;
        let object = objects
            .get(key)
            .ok_or((false, format!("{what}: no JSON object")))?;
        let json = json_tokens(object, middle).map_err(|e| (false, format!("{what}: {e}")))?;
        compare_tokens(&format!("{what} (JSON)"), middle, after, &json)?;
        check_absent(&what, object, middle).map_err(|e| (false, e))?;
    }
    // what the population is for is there
    let token = |local: &str, remote: &str, k: &str| {
        ours.iter()
            .find(|((_, l, r), _)| l.starts_with(local) && r.starts_with(remote))
            .and_then(|(_, t)| t.as_ref()?.iter().find(|(key, _)| key == k).cloned())
    };
    let lossy = token("10.91.0.1:", "10.91.0.2:7100", "retrans:");
    let notsent = token("127.0.0.1:", "127.0.0.1:7200", "notsent:");
    if lossy.is_none_or(|(_, v)| v.ends_with("/0")) || notsent.is_none() {
        return Err((
            false,
            "the lossy socket without retrans, or the stalled one without notsent".into(),
        ));
    }
    Ok(())
}

/// The population of the module's comment, held until dropped: the
/// holders are killed before their namespaces are deleted (fields drop
/// in order).
struct Setup {
    _holder: KillOnDrop,
    _peer_holder: KillOnDrop,
    peer: Namespace,
    ns: Namespace,
}

/// Start `script` with python3 in `ns`; its first line (`READY ...`).
fn spawn(ns: &Namespace, script: &str, args: &[&str]) -> (KillOnDrop, String) {
    let mut all = vec!["-c", script];
    all.extend_from_slice(args);
    let mut child = KillOnDrop(
        ns.command("python3", &all)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start python3"),
    );
    let line = first_line(&mut child.0);
    (child, line)
}

impl Setup {
    /// `None` where no namespace can be made (see [`Namespace::create`]).
    fn create(tag: &str) -> Option<Setup> {
        let ns = Namespace::create(tag)?;
        let peer = Namespace::create(&format!("{tag}peer"))?;
        ns.sh(&format!(
            "ip link add iv0 type veth peer name iv1 netns {peer} && ip link set iv0 up && \
             ip addr add 10.91.0.1/24 dev iv0",
            peer = peer.name
        ));
        peer.sh("ip link set iv1 up && ip addr add 10.91.0.2/24 dev iv1");
        let (peer_holder, ready) = spawn(&peer, PEER, &[]);
        assert_eq!(ready.trim(), "READY");
        let (holder, ready) = spawn(&ns, HOLDER, &[&peer.name]);
        let retrans: u32 = match ready.split_whitespace().collect::<Vec<_>>()[..] {
            ["READY", n] => n.parse().unwrap(),
            _ => panic!("the holder did not start: {ready:?}"),
        };
        assert!(retrans > 0, "the blackhole caused no retransmission");
        Some(Setup {
            _holder: holder,
            _peer_holder: peer_holder,
            peer,
            ns,
        })
    }
}

/// Up to three attempts: `Err((true, why))` (an event between the ss
/// runs) tries again, `Err((false, why))` fails at once.
fn retried(mut attempt: impl FnMut() -> Result<(), (bool, String)>) {
    let mut failure = String::new();
    for _ in 0..3 {
        match attempt() {
            Ok(()) => return,
            Err((true, why)) => failure = why,
            Err((false, why)) => panic!("{why}"),
        }
    }
    panic!("three attempts, each with an event between the runs; the last: {failure}");
}

#[test]
fn info_lines_and_json_match_ss() {
    let Some(setup) = Setup::create("info") else {
        return;
    };
    retried(|| attempt(&setup.ns));
}

/// Beside the population, for the aggregates (in the namespace under
/// test; the peer's name is the argument):
/// - a sender whose path to the peer stays blackholed (from a second
///   address, 10.91.0.3): its retransmission timer backs off, cwnd is 1,
///   its segments are lost and unacknowledged and data waits behind them
///   (cwnd- and sndbuf-limited). It is ready after its sixth
///   retransmission: the next comes about 13 s later, the attempts run
///   in between (one that sees it move is retried);
/// - a sender with a fixed send buffer (SO_SNDBUF) to a peer that does
///   not read, written until the buffer stays full (sndbuf-limited). Its
///   window probes carry data the full receiver drops (its drops count
///   moves), on a timer that backs off as the blackholed sender's does.
///   It is made first, and READY waits for its sixth probe as well: the
///   attempts run in the 13 s before either timer fires again, less the
///   time the blackholed sender took to make (a second or so);
/// - a dual-stack wildcard listener (`::` port 7500) serving an IPv4 and
///   an IPv6 connection with known transfers;
/// - a socket in TIME_WAIT to port 7400 (its listener gone), alone in
///   its group by remote port: a group whose one socket has neither
///   tcp_info nor skmem. TIME_WAIT lasts 60 s, longer than the attempts.
const EXTRA: &str = r#"
import socket, struct, subprocess, sys, time
peer = sys.argv[1]
held = []
def receive(s, n):
    while n > 0:
        got = s.recv(min(n, 65536)); assert got; n -= len(got)
def tcp_info(s, offset): return struct.unpack_from("I", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104), offset)[0]
def backoff(s): return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)[4]  # tcpi_backoff
def fill(c):
    c.setblocking(False)
    while True:
        sent = 0
        try:
            while True: sent += c.send(b"v" * 65536)
        except BlockingIOError: pass
        if not sent: return
        time.sleep(0.3)
# a full send buffer of fixed size
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 7600)); l.listen(4); held.append(l)
full = socket.socket(); full.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
full.connect(("127.0.0.1", 7600)); a, _ = l.accept(); held += [full, a]
fill(full)
# a path that stays blackholed
subprocess.run(["ip", "addr", "add", "10.91.0.3/24", "dev", "iv0"], check=True)
c = socket.socket(); c.bind(("10.91.0.3", 0)); c.connect(("10.91.0.2", 7100)); held.append(c)
c.sendall(b"w" * 10000); time.sleep(0.2)
subprocess.run(["ip", "-n", peer, "route", "add", "blackhole", "10.91.0.3/32"], check=True)
fill(c)
# both timers backed off six times: quiet for about 13 s (less the time
# between the two sixths)
deadline = time.time() + 30
while (tcp_info(c, 100) < 6 or backoff(full) < 6) and time.time() < deadline: time.sleep(0.05)
# a dual-stack wildcard listener
l = socket.socket(socket.AF_INET6); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
l.bind(("::", 7500)); l.listen(16); held.append(l)
for addr, size in [("127.0.0.1", 40000), ("::1", 60000)]:
    c = socket.create_connection((addr, 7500)); a, _ = l.accept(); held += [c, a]
    c.sendall(b"a" * size); receive(a, size)
    a.sendall(b"b" * 3000); receive(c, 3000)
# TIME_WAIT: the client closes first, then the server
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("127.0.0.1", 7400)); t.listen(1)
c = socket.create_connection(("127.0.0.1", 7400)); a, _ = t.accept()
c.close(); time.sleep(0.1); a.close(); t.close()
time.sleep(0.5)  # delayed ACKs out: idle from here
print("READY", flush=True)
sys.stdin.read()
"#;

/// The health columns of a group (and of a listener), in the order the
/// JSON object and the text table give them.
const HEALTH_COLUMNS: [&str; 19] = [
    "rtt_sockets",
    "rtt_p50",
    "rtt_p90",
    "rtt_p99",
    "rtt_max",
    "retrans",
    "total_retrans",
    "lost",
    "bytes_sent",
    "bytes_acked",
    "bytes_received",
    "bytes_retrans",
    "notsent_bytes",
    "recv_q",
    "send_q",
    "drops",
    "limited_rwnd",
    "limited_sndbuf",
    "limited_cwnd",
];

/// What ss shows of one socket that the health columns add up: its
/// state, Recv-Q and Send-Q, and the tokens of its info line, 0 where ss
/// omits one (it omits zeros: `lost:`, `bytes_*:`, `notsent:`,
/// `unacked:`, and `retrans:` when both counts are 0).
///
/// A listener's Send-Q is taken as 0: ss shows its backlog there,
/// nlstat's `send_q` is netstat's column, 0 for a listener (doc/json.md).
#[derive(Clone, Debug, Default, PartialEq)]
struct Health {
    state: String,
    recv_q: u64,
    send_q: u64,
    /// ss printed tcp_info (any token but `skmem:`).
    tcp_info: bool,
    /// ss printed `skmem:`.
    skmem: bool,
    /// `rtt:X/Y`'s X in microseconds (ss prints `tcpi_rtt / 1000` with
    /// `%g`, exact below 1000 ms); `None`: no `rtt:` (tcpi_rtt 0).
    rtt: Option<u64>,
    retrans: u64,
    total_retrans: u64,
    lost: u64,
    bytes_sent: u64,
    bytes_acked: u64,
    bytes_received: u64,
    bytes_retrans: u64,
    notsent: u64,
    mss: u64,
    snd_wnd: u64,
    unacked: u64,
    cwnd: u64,
    /// skmem's `w`, `tb` and `d`.
    wmem_queued: u64,
    sndbuf: u64,
    drops: u64,
}

impl Health {
    fn add_tokens(&mut self, tokens: &Tokens) {
        for (key, value) in tokens {
            if key == "skmem:" {
                self.skmem = true;
                for part in value.trim_matches(['(', ')']).split(',') {
                    let at = part
                        .find(|c: char| c.is_ascii_digit())
                        .unwrap_or(part.len());
                    let n: u64 = part[at..].parse().unwrap_or(0);
                    match &part[..at] {
                        "w" => self.wmem_queued = n,
                        "tb" => self.sndbuf = n,
                        "d" => self.drops = n,
                        _ => {}
                    }
                }
                continue;
            }
            self.tcp_info = true;
            let n = numbers(value);
            let first = n.first().copied().unwrap_or(0.0) as u64;
            match key.as_str() {
                "rtt:" => self.rtt = Some((n[0] * 1000.0).round() as u64),
                "retrans:" => (self.retrans, self.total_retrans) = (n[0] as u64, n[1] as u64),
                "lost:" => self.lost = first,
                "bytes_sent:" => self.bytes_sent = first,
                "bytes_acked:" => self.bytes_acked = first,
                "bytes_received:" => self.bytes_received = first,
                "bytes_retrans:" => self.bytes_retrans = first,
                "notsent:" => self.notsent = first,
                "mss:" => self.mss = first,
                "snd_wnd:" => self.snd_wnd = first,
                "unacked:" => self.unacked = first,
                "cwnd:" => self.cwnd = first,
                _ => {}
            }
        }
    }

    /// Data waits and what is in flight plus a segment would not fit the
    /// peer's window.
    fn limited_rwnd(&self) -> bool {
        self.notsent > 0 && self.send_q.saturating_sub(self.notsent) + self.mss > self.snd_wnd
    }

    /// Data waits and the congestion window is full.
    fn limited_cwnd(&self) -> bool {
        self.notsent > 0 && self.unacked >= self.cwnd
    }

    /// The send buffer is full.
    fn limited_sndbuf(&self) -> bool {
        self.skmem && self.wmem_queued >= self.sndbuf
    }
}

/// A sum column: its name, whether tcp_info reports it (else skmem), and
/// one socket's value.
type Summed = (&'static str, bool, fn(&Health) -> u64);

const SUMS: [Summed; 9] = [
    ("retrans", true, |h| h.retrans),
    ("total_retrans", true, |h| h.total_retrans),
    ("lost", true, |h| h.lost),
    ("bytes_sent", true, |h| h.bytes_sent),
    ("bytes_acked", true, |h| h.bytes_acked),
    ("bytes_received", true, |h| h.bytes_received),
    ("bytes_retrans", true, |h| h.bytes_retrans),
    ("notsent_bytes", true, |h| h.notsent),
    ("drops", false, |h| h.drops),
];

/// A count column: its name, whether tcp_info reports what it needs
/// (else skmem), and whether one socket counts.
type Counted = (&'static str, bool, fn(&Health) -> bool);

const LIMITED: [Counted; 3] = [
    ("limited_rwnd", true, Health::limited_rwnd),
    ("limited_sndbuf", false, Health::limited_sndbuf),
    ("limited_cwnd", true, Health::limited_cwnd),
];

/// ss's TCP and UDP sockets with what the health columns add up, keyed
/// like [`rows`] keys them.
fn ss_health(ns: &Namespace) -> BTreeMap<Key, Health> {
    let mut all = BTreeMap::new();
    for (proto, args) in [("tcp", "-tanimH"), ("udp", "-uanmH")] {
        let out = ns.run("ss", &[args]);
        assert!(out.status.success(), "ss {args}");
        let mut last: Option<Key> = None;
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            if let Some(info) = line.strip_prefix('\t') {
                let key = last.take().expect("an info line under a row");
                if let Some(health) = all.get_mut(&key) {
                    Health::add_tokens(health, &tokens(info));
                }
                continue;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            last = None;
            if f.len() < 5 {
                continue;
            }
            let key = (
                proto.to_string(),
                netstat_address(f[3]),
                netstat_address(f[4]),
            );
            let health = Health {
                state: f[0].to_string(),
                recv_q: f[1].parse().expect("ss's Recv-Q"),
                send_q: if f[0] == "LISTEN" {
                    0
                } else {
                    f[2].parse().expect("ss's Send-Q")
                },
                ..Health::default()
            };
            all.insert(key.clone(), health);
            last = Some(key);
        }
    }
    all
}

/// What changed between two ss runs (the reason to try again).
fn moved(before: &BTreeMap<Key, Health>, after: &BTreeMap<Key, Health>) -> String {
    if before.keys().ne(after.keys()) {
        return "the sockets changed between the ss runs".into();
    }
    match before.iter().find(|(k, h)| after[*k] != **h) {
        Some((k, h)) => format!("{k:?} moved between the ss runs: {h:?} -> {:?}", after[k]),
        None => "nothing moved".into(),
    }
}

/// A group (or a listener's connections) as ss's rows add it up.
#[derive(Debug, Default)]
struct Expected {
    count: u64,
    rtts: Vec<u64>,
    tcp_info: bool,
    skmem: bool,
    recv_q: u64,
    send_q: u64,
    sums: [u64; 9],
    limited: [u64; 3],
}

impl Expected {
    fn add(&mut self, h: &Health) {
        self.count += 1;
        self.rtts.extend(h.rtt);
        self.tcp_info |= h.tcp_info;
        self.skmem |= h.skmem;
        self.recv_q += h.recv_q;
        self.send_q += h.send_q;
        for (sum, (_, _, value)) in self.sums.iter_mut().zip(SUMS) {
            *sum += value(h);
        }
        for (count, (_, _, counts)) in self.limited.iter_mut().zip(LIMITED) {
            *count += u64::from(counts(h));
        }
    }

    /// A numeric column `--sort` may name: `count` or a sum (0 for none).
    fn value(&self, column: &str) -> u64 {
        if column == "count" {
            return self.count;
        }
        let at = SUMS
            .iter()
            .position(|(name, _, _)| *name == column)
            .expect("a sum column");
        self.sums[at]
    }
}

/// The value at 1-based rank ceil(pct/100 * n) of `sorted`.
fn nearest_rank(sorted: &[u64], pct: usize) -> u64 {
    let rank = (pct * sorted.len()).div_ceil(100).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Our health columns in `o` against what ss's rows add up to:
/// - `rtt_sockets` exact; the percentiles (nearest rank, from a sketch)
///   within 1 % of the exact nearest-rank value of ss's rtts, `rtt_max`
///   exact; all four `null` when no socket has an rtt;
/// - a sum exact when ss's rows add up to more than 0; 0 or `null` when
///   they add up to 0 (ss omits zeros, so a 0 and a socket without the
///   field look alike); `null` when no socket of the group reported the
///   field at all (no tcp_info: TIME_WAIT, UDP; no skmem: TIME_WAIT);
/// - `recv_q` and `send_q` exact;
/// - a `limited_*` count exact, where no socket reported what it needs
///   also `null` for 0.
fn check_health(what: &str, o: &Value, e: &Expected) -> Result<(), String> {
    let field = |name: &str| -> Result<&Value, String> {
        o.get(name)
            .ok_or_else(|| format!("{what}: no {name} in {o}"))
    };
    let mut rtts = e.rtts.clone();
    rtts.sort_unstable();
    let sockets = field("rtt_sockets")?;
    if sockets.as_u64() != Some(rtts.len() as u64) {
        return Err(format!(
            "{what}: rtt_sockets {sockets}, ss shows {} rtts {rtts:?}",
            rtts.len()
        ));
    }
    if rtts.is_empty() {
        for name in ["rtt_p50", "rtt_p90", "rtt_p99", "rtt_max"] {
            if !field(name)?.is_null() {
                return Err(format!("{what}: {name} {} without an rtt", o[name]));
            }
        }
    } else {
        for (name, pct) in [("rtt_p50", 50), ("rtt_p90", 90), ("rtt_p99", 99)] {
            let exact = nearest_rank(&rtts, pct) as f64;
            let got = field(name)?;
            let ok = got
                .as_f64()
                .is_some_and(|v| (v - exact).abs() <= 0.01 * exact);
            if !ok {
                return Err(format!(
                    "{what}: {name} {got}, the nearest-rank value of ss's rtts {rtts:?} is \
                     {exact} (1 % allowed)"
                ));
            }
        }
        let max = rtts[rtts.len() - 1];
        if field("rtt_max")?.as_u64() != Some(max) {
            return Err(format!(
                "{what}: rtt_max {}, ss's rtts {rtts:?}",
                o["rtt_max"]
            ));
        }
    }
    for ((name, by_tcp_info, _), sum) in SUMS.iter().zip(e.sums) {
        let reported = if *by_tcp_info { e.tcp_info } else { e.skmem };
        let got = field(name)?;
        let ok = if !reported {
            got.is_null()
        } else if sum == 0 {
            got.is_null() || got.as_u64() == Some(0)
        } else {
            got.as_u64() == Some(sum)
        };
        if !ok {
            return Err(if reported {
                format!("{what}: {name} {got}, ss's rows add up to {sum}")
            } else {
                format!("{what}: {name} {got}, no socket reports it (null)")
            });
        }
    }
    for (name, want) in [("recv_q", e.recv_q), ("send_q", e.send_q)] {
        let got = field(name)?;
        if got.as_u64() != Some(want) {
            return Err(format!("{what}: {name} {got}, ss's rows add up to {want}"));
        }
    }
    for ((name, by_tcp_info, _), count) in LIMITED.iter().zip(e.limited) {
        let reported = if *by_tcp_info { e.tcp_info } else { e.skmem };
        let got = field(name)?;
        if !(got.as_u64() == Some(count) || !reported && count == 0 && got.is_null()) {
            return Err(format!("{what}: {name} {got}, ss's rows count {count}"));
        }
    }
    Ok(())
}

/// nlstat's JSON lines in the namespace; a failure is not retried.
fn nlstat_json(ns: &Namespace, args: &[&str]) -> Result<Vec<Value>, (bool, String)> {
    let out = ns.run(nlstat(), args);
    if !out.status.success() {
        return Err((
            false,
            format!(
                "nlstat {}: status {:?}: {}",
                args.join(" "),
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ));
    }
    Ok(json_lines(&out.stdout))
}

/// A group's key as the JSON text of its key fields, the same for a
/// socket row and a group row.
fn group_key(o: &Value, keys: &[&str]) -> String {
    keys.iter()
        .map(|k| o.get(*k).map_or("(absent)".into(), Value::to_string))
        .collect::<Vec<_>>()
        .join(",")
}

/// The groupings checked: nlstat's selection and the keys. By state (the
/// TIME_WAIT and LISTEN groups), by peer (the lossy path's and the
/// stalled sender's groups, TIME_WAIT alone in one), by local port (a
/// listener with the connections it accepted), by family (the most
/// rtts: the percentiles), by protocol and family (UDP: skmem only).
const GROUPINGS: [(&str, &str); 5] = [
    ("-tan", "state"),
    ("-tan", "remote_addr,remote_port"),
    ("-tan", "local_port"),
    ("-tan", "family"),
    ("-tuan", "proto,family"),
];

/// `--sort COLUMN --top N` over the groups by peer.
const SORTS: [(&str, usize); 3] = [("bytes_sent", 2), ("total_retrans", 1), ("count", 2)];

/// The groups `flags` (`-tan`: TCP; `-tuan`: TCP and UDP) and `keys`
/// make of ss's sockets, each socket's key fields taken from our socket
/// row of it (`ours`).
fn expected_groups(
    ss: &BTreeMap<Key, Health>,
    ours: &BTreeMap<Key, Value>,
    flags: &str,
    keys: &[&str],
) -> BTreeMap<String, Expected> {
    let mut expected: BTreeMap<String, Expected> = BTreeMap::new();
    for (key, o) in ours {
        if flags == "-tuan" || key.0 == "tcp" {
            expected
                .entry(group_key(o, keys))
                .or_default()
                .add(&ss[key]);
        }
    }
    expected
}

/// What the population is for, as ss shows it, grouped by peer: what is
/// missing, if anything.
fn population_lacks(by_peer: &BTreeMap<String, Expected>, most_rtts: usize) -> Option<String> {
    let none = Expected::default();
    let peer = |key: &str| by_peer.get(key).unwrap_or(&none);
    let lossy = peer("\"10.91.0.2\",7100");
    let stalled = peer("\"127.0.0.1\",7200");
    let full = peer("\"127.0.0.1\",7600");
    let waiting = peer("\"127.0.0.1\",7400");
    // sums: retrans, total_retrans, lost, ..., notsent_bytes (7);
    // limited: rwnd, sndbuf, cwnd
    let lacking = [
        (
            lossy.sums[0] == 0,
            "segments out again (retrans) on the blackholed path",
        ),
        (lossy.sums[1] == 0, "retransmissions on the lossy path"),
        (lossy.sums[2] == 0, "lost segments on the blackholed path"),
        (
            lossy.limited[2] == 0,
            "a cwnd-limited sender on the blackholed path",
        ),
        (
            stalled.sums[7] == 0,
            "notsent bytes to the peer that does not read",
        ),
        (stalled.limited[0] == 0, "an rwnd-limited sender"),
        (full.limited[1] == 0, "an sndbuf-limited sender"),
        (
            waiting.count != 1 || waiting.tcp_info || waiting.skmem,
            "a TIME_WAIT group",
        ),
        (most_rtts < 6, "a group of 6 rtts"),
    ];
    let (_, what) = lacking.iter().find(|(lacks, _)| *lacks)?;
    Some(format!(
        "the population lacks what it is for, as ss shows it: {what} (by peer: {by_peer:?})"
    ))
}

/// One attempt: ss; nlstat's socket rows (the key fields of each
/// socket), every grouping with and without --info, the text table and
/// the sorted views; ss again. Nothing of ss's that the columns add up
/// may differ between the two ss runs (else retried); ours must then be
/// what ss's rows add up to.
fn group_attempt(ns: &Namespace) -> Result<(), (bool, String)> {
    let before = ss_health(ns);
    let sockets = nlstat_json(ns, &["-tuan", "--json"])?;
    let mut runs = Vec::new();
    for (flags, keys) in GROUPINGS {
        let health = nlstat_json(ns, &[flags, "--info", "--group-by", keys, "--json"])?;
        let counted = nlstat_json(ns, &[flags, "--group-by", keys, "--json"])?;
        runs.push((flags, keys, health, counted));
    }
    let text_args = ["-tan", "--info", "--group-by", "state"];
    let text = ns.run(nlstat(), &text_args);
    let mut sorted = Vec::new();
    for (column, top) in SORTS {
        let top_text = top.to_string();
        let args = [
            "-tan",
            "--info",
            "--group-by",
            "remote_addr,remote_port",
            "--sort",
            column,
            "--top",
            &top_text,
            "--json",
        ];
        sorted.push((column, top, nlstat_json(ns, &args)?));
    }
    let after = ss_health(ns);
    if before != after {
        return Err((true, moved(&before, &after)));
    }
    let ours: BTreeMap<Key, Value> = sockets.into_iter().map(|o| (json_key(&o), o)).collect();
    if ours.keys().ne(before.keys()) {
        return Err((
            false,
            format!(
                "sockets: ss {:?}, ours {:?}",
                before.keys().collect::<Vec<_>>(),
                ours.keys().collect::<Vec<_>>()
            ),
        ));
    }
    let mut by_peer = BTreeMap::new();
    let mut by_peer_json = BTreeMap::new();
    let mut by_state_json = Vec::new();
    let mut most_rtts = 0;
    for (flags, keys, health, counted) in runs {
        let key_list: Vec<&str> = keys.split(',').collect();
        let what = format!("nlstat {flags} --info --group-by {keys}");
        let expected = expected_groups(&before, &ours, flags, &key_list);
        let mut got = BTreeMap::new();
        for o in &health {
            if o["kind"] != "count" {
                return Err((false, format!("{what}: not a count row: {o}")));
            }
            if got.insert(group_key(o, &key_list), o.clone()).is_some() {
                return Err((false, format!("{what}: a group twice: {o}")));
            }
        }
        if got.keys().ne(expected.keys()) {
            return Err((
                false,
                format!(
                    "{what}: groups {:?}, ss's rows make {:?}",
                    got.keys().collect::<Vec<_>>(),
                    expected.keys().collect::<Vec<_>>()
                ),
            ));
        }
        for (k, e) in &expected {
            let o = &got[k];
            let what = format!("{what} [{k}]");
            if o["count"].as_u64() != Some(e.count) {
                return Err((
                    false,
                    format!("{what}: count {}, ss has {} sockets", o["count"], e.count),
                ));
            }
            check_health(&what, o, e).map_err(|e| (false, e))?;
            most_rtts = most_rtts.max(e.rtts.len());
        }
        // --info adds columns; the groups and their counts stay
        let counts = |objects: &[Value]| -> BTreeMap<String, Value> {
            objects
                .iter()
                .map(|o| (group_key(o, &key_list), o["count"].clone()))
                .collect()
        };
        if counts(&health) != counts(&counted) {
            return Err((
                false,
                format!(
                    "{what}: counts {:?}, without --info {:?}",
                    counts(&health),
                    counts(&counted)
                ),
            ));
        }
        if keys == "remote_addr,remote_port" {
            by_peer = expected;
            by_peer_json = got;
        } else if keys == "state" {
            by_state_json = health;
        }
    }
    if let Some(lacks) = population_lacks(&by_peer, most_rtts) {
        return Err((false, lacks));
    }
    check_text(&text, &by_state_json)
        .map_err(|e| (false, format!("nlstat {}: {e}", text_args.join(" "))))?;
    for (column, top, objects) in sorted {
        let what = format!(
            "nlstat -tan --info --group-by remote_addr,remote_port --sort {column} --top {top}"
        );
        let mut all: Vec<u64> = by_peer.values().map(|e| e.value(column)).collect();
        all.sort_unstable_by(|a, b| b.cmp(a));
        let mut values = Vec::new();
        for o in &objects {
            let k = group_key(o, &["remote_addr", "remote_port"]);
            let (Some(e), Some(full)) = (by_peer.get(&k), by_peer_json.get(&k)) else {
                return Err((false, format!("{what}: no such group {k}")));
            };
            if o != full {
                return Err((false, format!("{what}: {o}, unsorted {full}")));
            }
            values.push(e.value(column));
        }
        // the values must be the largest ones (the order of ties, by key,
        // is not checked: a tie may fall either side of the cut)
        if values != all[..top.min(all.len())] {
            return Err((
                false,
                format!(
                    "{what}: rows whose {column} ss's rows add up to {values:?}, the largest \
                     are {:?}: {objects:?}",
                    &all[..top.min(all.len())]
                ),
            ));
        }
    }
    Ok(())
}

/// The text table: a header of the key, `count` and the health columns;
/// each row's cells what the JSON row of its group says (`-` for null).
fn check_text(out: &std::process::Output, json: &[Value]) -> Result<(), String> {
    if !out.status.success() {
        return Err(format!(
            "status {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    let mut want = vec!["state", "count"];
    want.extend(HEALTH_COLUMNS);
    if header != want {
        return Err(format!("header {header:?}, expected {want:?}"));
    }
    let rows: Vec<&str> = lines.collect();
    if rows.len() != json.len() {
        return Err(format!(
            "{} rows, the JSON has {}:\n{text}",
            rows.len(),
            json.len()
        ));
    }
    for line in rows {
        let cells: Vec<&str> = line.split_whitespace().collect();
        let o = json
            .iter()
            .find(|o| o["state"] == cells[0])
            .ok_or_else(|| format!("no JSON row for {line:?}"))?;
        if cells.len() != header.len() {
            return Err(format!("row {line:?} is not as wide as the header"));
        }
        for (name, cell) in header[1..].iter().zip(&cells[1..]) {
            let ok = match &o[*name] {
                Value::Null => *cell == "-",
                v => cell.parse::<f64>().ok() == v.as_f64(),
            };
            if !ok {
                return Err(format!(
                    "{name}: text {cell}, JSON {} in {line:?}",
                    o[*name]
                ));
            }
        }
    }
    Ok(())
}

/// Per-group health against ss: every group's count, rtt percentiles,
/// sums, queues and limits are what ss's rows of its sockets add up to
/// (see [`check_health`] for what is exact and what is allowed); the
/// text table says what the JSON says; `--sort` with `--top` keeps the
/// groups with the largest values.
///
/// Masked or tolerated: a listener's Send-Q (ss: its backlog) counts as
/// 0, nlstat's column; a sum ss's rows add up to 0 may be 0 or null (ss
/// omits zeros); the percentiles within the sketch's 1 %. Nothing else:
/// an attempt where anything added up moved between the ss runs (a
/// zero-window probe answered, a timer) is retried, up to three times.
#[test]
fn group_by_health_matches_what_ss_rows_add_up_to() {
    let Some(setup) = Setup::create("ginfo") else {
        return;
    };
    let (_extra, ready) = spawn(&setup.ns, EXTRA, &[&setup.peer.name]);
    assert_eq!(ready.trim(), "READY", "the extra holder did not start");
    retried(|| group_attempt(&setup.ns));
}

/// One attempt of [`listeners_health_matches_ss`]: ss, nlstat, ss.
fn listener_attempt(ns: &Namespace) -> Result<(), (bool, String)> {
    let before = ss_health(ns);
    let objects = nlstat_json(ns, &["--listeners", "--info", "--json"])?;
    let after = ss_health(ns);
    if before != after {
        return Err((true, moved(&before, &after)));
    }
    let listeners: Vec<&Value> = objects.iter().filter(|o| o["kind"] == "listener").collect();
    let ss_listeners = before
        .iter()
        .filter(|(k, h)| k.0 == "tcp" && h.state == "LISTEN")
        .count();
    if listeners.len() != ss_listeners {
        return Err((
            false,
            format!(
                "{} listeners, ss has {ss_listeners}: {objects:?}",
                listeners.len()
            ),
        ));
    }
    let mut served_somewhere = 0;
    for o in listeners {
        let addr = o["local_addr"].as_str().unwrap_or_default();
        let port = o["local_port"].to_string();
        let wildcard = addr == "::" || addr == "0.0.0.0";
        let mut e = Expected::default();
        for ((proto, local, _), h) in &before {
            let (a, p) = local.rsplit_once(':').expect("address:port");
            if proto == "tcp" && h.state == "ESTAB" && p == port && (wildcard || a == addr) {
                e.add(h);
            }
        }
        let what = format!("nlstat --listeners --info: {addr} {port}");
        if o["established"].as_u64() != Some(e.count) {
            return Err((
                false,
                format!("{what}: established {}, ss {}", o["established"], e.count),
            ));
        }
        check_health(&what, o, &e).map_err(|e| (false, e))?;
        if e.rtts.len() >= 2 {
            served_somewhere += 1;
        }
        if addr == "::" && e.count != 2 {
            return Err((false, format!("{what}: the wildcard serves {e:?}")));
        }
    }
    if served_somewhere < 3 {
        return Err((false, "listeners without the connections they serve".into()));
    }
    Ok(())
}

/// `--listeners --info`: each listener's health columns are what ss's
/// rows of the ESTABLISHED connections it serves add up to (same local
/// port; the same local address, or any where the listener's is a
/// wildcard: `::` on 7500 serves an IPv4 and an IPv6 connection). The
/// same tolerances as the groups'.
#[test]
fn listeners_health_matches_ss() {
    let Some(setup) = Setup::create("linfo") else {
        return;
    };
    let (_extra, ready) = spawn(&setup.ns, EXTRA, &[&setup.peer.name]);
    assert_eq!(ready.trim(), "READY", "the extra holder did not start");
    retried(|| listener_attempt(&setup.ns));
}

/// `--sort` orders a view by a numeric column: refused as a usage error
/// (status 3, one line on stderr, nothing on stdout) without a view,
/// with a column no view has, and with a health column without --info;
/// `--sort count` needs no --info.
#[test]
fn sort_is_refused_where_it_has_nothing_to_order() {
    for args in [
        &["-tan", "--sort", "count"][..],
        &["-tan", "--info", "--sort", "bytes_sent"],
        &["-tan", "--group-by", "state", "--sort", "nosuchfield"],
        &[
            "-tan",
            "--info",
            "--group-by",
            "state",
            "--sort",
            "nosuchfield",
        ],
        &["-tan", "--group-by", "state", "--sort", "rtt_p50"],
        &["--listeners", "--sort", "rtt_p50"],
    ] {
        let out = std::process::Command::new(nlstat())
            .args(args)
            .output()
            .expect("run nlstat");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            stderr.starts_with(&format!("{}: ", nlstat())),
            "{args:?}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
    let args = [
        "-tan",
        "--group-by",
        "state",
        "--sort",
        "count",
        "--top",
        "1",
    ];
    let out = std::process::Command::new(nlstat())
        .args(args)
        .output()
        .expect("run nlstat");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `--info` where no socket table from sock_diag is printed: refused as a
/// usage error, nothing on stdout.
#[test]
fn info_is_refused_where_it_would_be_ignored() {
    for other in [
        &["-r"][..],
        &["-i"],
        &["-s"],
        &["-g"],
        &["-tan", "--source", "proc"],
        // --summary and --ephemeral count and show no health
        // (--group-by and --listeners do: tested above; the exporter's
        // health gauges are exporter.rs's)
        &["--summary"],
        &["--ephemeral"],
    ] {
        let mut args = vec!["--info"];
        args.extend_from_slice(other);
        let out = std::process::Command::new(nlstat())
            .args(&args)
            .output()
            .expect("run nlstat");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            stderr.starts_with(&format!("{}: --info", nlstat())),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1);
    }
}
