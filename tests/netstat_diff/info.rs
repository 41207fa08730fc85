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

/// ss's `[::1]:7002` as netstat's `::1:7002`.
fn netstat_address(ss: &str) -> String {
    match ss.strip_prefix('[').and_then(|r| r.split_once("]:")) {
        Some((addr, port)) => format!("{addr}:{port}"),
        None => ss.to_string(),
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
        let address = |side: &str| {
            let port = o[format!("{side}_port")]
                .as_u64()
                .map_or("*".into(), |p| p.to_string());
            format!("{}:{port}", o[format!("{side}_addr")].as_str().unwrap())
        };
        let key = (
            o["proto"].as_str().unwrap().to_string(),
            address("local"),
            address("remote"),
        );
        objects.insert(key, o);
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

#[test]
fn info_lines_and_json_match_ss() {
    let Some(ns) = Namespace::create("info") else {
        return;
    };
    let Some(peer) = Namespace::create("infopeer") else {
        return;
    };
    ns.sh(&format!(
        "ip link add iv0 type veth peer name iv1 netns {peer} && ip link set iv0 up && \
         ip addr add 10.91.0.1/24 dev iv0",
        peer = peer.name
    ));
    peer.sh("ip link set iv1 up && ip addr add 10.91.0.2/24 dev iv1");
    let spawn = |ns: &Namespace, script: &str, args: &[&str]| {
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
    };
    let (_peer_holder, ready) = spawn(&peer, PEER, &[]);
    assert_eq!(ready.trim(), "READY");
    let (_holder, ready) = spawn(&ns, HOLDER, &[&peer.name]);
    let retrans: u32 = match ready.split_whitespace().collect::<Vec<_>>()[..] {
        ["READY", n] => n.parse().unwrap(),
        _ => panic!("the holder did not start: {ready:?}"),
    };
    assert!(retrans > 0, "the blackhole caused no retransmission");
    let mut failure = String::new();
    for _ in 0..3 {
        match attempt(&ns) {
            Ok(()) => return,
            Err((true, why)) => failure = why,
            Err((false, why)) => panic!("{why}"),
        }
    }
    panic!("three attempts, each with an event between the runs; the last: {failure}");
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
        // the views and the exporter count; per-group health is not counted
        &["-tan", "--group-by", "state"],
        &["--summary"],
        &["--listeners"],
        &["--ephemeral"],
        &["--textfile", "/nonexistent/nlstat-info.prom"],
        &["--serve", "127.0.0.1:9"],
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
