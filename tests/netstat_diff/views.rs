//! Load-balancer views against counts the test makes itself from
//! netstat's and ss's rows on the same sockets, and against the kernel's
//! /proc/net/sockstat and /proc/net/netstat.

use crate::json_sockets::json_lines;
use crate::support::*;
use serde_json::Value;
use std::collections::BTreeMap;

use std::process::{Child, Stdio};

/// Listeners with connections left in their accept queues, "backends"
/// with connections in several states, and one (source, backend) pair
/// using most of a narrowed ephemeral port range.
const LB_POPULATION: &str = r#"
import socket, sys, time
held = []
def listener(addr, port, backlog):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(backlog); held.append(s); return s
def connect(addr, port, src=None):
    c = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    if src: c.bind((src, 0))
    c.connect((addr, port)); held.append(c); return c
# a listener whose queue fills: 5 connections never accepted, backlog 8
full = listener("127.0.0.1", 7001, 8)
for _ in range(5): connect("127.0.0.1", 7001)
# a dual-stack listener with accepted connections, v4 and v6
web = listener("::", 7002, 64)
for addr in ["127.0.0.1", "127.0.0.1", "::1"]:
    connect(addr, 7002); held.append(web.accept()[0])
# backends: 3 established to 127.0.0.10:80, 2 to 127.0.0.11:80, one of
# them closed by the backend (CLOSE_WAIT / FIN_WAIT2), one TIME_WAIT
b1 = listener("127.0.0.10", 80, 16)
b2 = listener("127.0.0.11", 80, 16)
for _ in range(3): connect("127.0.0.10", 80); held.append(b1.accept()[0])
c = connect("127.0.0.11", 80); a = b2.accept()[0]; held.append(a)
c = connect("127.0.0.11", 80); a = b2.accept()[0]; a.shutdown(socket.SHUT_WR)
c = connect("127.0.0.11", 80); a = b2.accept()[0]; a.close(); time.sleep(0.05); held.remove(c); c.close()
# ephemeral pressure: the range narrowed to 40000-40009 with 40009
# reserved, so (127.0.0.1, 127.0.0.20:9000) may use 9 ports; 8 are in use
e = listener("127.0.0.20", 9000, 64)
open("/proc/sys/net/ipv4/ip_local_port_range", "w").write("40000 40009")
open("/proc/sys/net/ipv4/ip_local_reserved_ports", "w").write("40009")
for _ in range(8): connect("127.0.0.20", 9000); held.append(e.accept()[0])
print("READY", flush=True)
sys.stdin.read()
"#;

pub(crate) struct Holder {
    child: Child,
}

impl Holder {
    pub(crate) fn start(ns: &Namespace) -> Holder {
        let mut child = ns
            .command("python3", &["-c", LB_POPULATION])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the load-balancer population");
        let line = first_line(&mut child);
        assert_eq!(line.trim(), "READY");
        Holder { child }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

pub(crate) fn nlstat_json(ns: &Namespace, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = ns.run(nlstat(), &all);
    assert!(
        out.status.success(),
        "{all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_lines(&out.stdout)
}

/// netstat -W rows (no headers), split into columns.
fn netstat_rows(ns: &Namespace, args: &[&str]) -> Vec<Vec<String>> {
    let mut all = args.to_vec();
    all.push("-W");
    let out = ns.run(NETSTAT, &all);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| {
            matches!(
                l.split_whitespace().next(),
                Some("tcp" | "tcp6" | "udp" | "udp6" | "udpl" | "udpl6" | "raw" | "raw6" | "unix")
            )
        })
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}

fn port_of(endpoint: &str) -> Value {
    match endpoint.rsplit_once(':').map(|(_, p)| p) {
        Some("*") | None => Value::Null,
        Some(p) => Value::from(p.parse::<u64>().unwrap()),
    }
}

#[test]
fn group_by_counts_netstats_rows() {
    let Some(ns) = Namespace::create("vgroup") else {
        return;
    };
    let _population = Population::start(&ns);
    let _lb = Holder::start(&ns);
    // netstat -tan columns: proto recv send local remote state
    let mut expected: BTreeMap<(String, String), u64> = BTreeMap::new();
    for row in netstat_rows(&ns, &["-tan"]) {
        *expected
            .entry((row[5].clone(), port_of(&row[3]).to_string()))
            .or_insert(0) += 1;
    }
    let objects = nlstat_json(&ns, &["-tan", "--group-by", "state,local_port"]);
    let mut actual: BTreeMap<(String, String), u64> = BTreeMap::new();
    for o in &objects {
        assert_eq!(o["kind"], "count");
        let key = (
            o["state"].as_str().unwrap().to_string(),
            o["local_port"].to_string(),
        );
        assert!(actual.insert(key, o["count"].as_u64().unwrap()).is_none());
    }
    assert_eq!(actual, expected);
    // sorted by count, then key; --top keeps the first rows
    let counts: Vec<u64> = objects
        .iter()
        .map(|o| o["count"].as_u64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    let top = nlstat_json(
        &ns,
        &["-tan", "--group-by", "state,local_port", "--top", "3"],
    );
    assert_eq!(top, objects[..3].to_vec());
    // remote_net: the /24 of the peer; family, proto over every table
    let nets = nlstat_json(&ns, &["-tan", "--group-by", "remote_net/8,family"]);
    let total: u64 = nets.iter().map(|o| o["count"].as_u64().unwrap()).sum();
    assert_eq!(total, netstat_rows(&ns, &["-tan"]).len() as u64);
    assert!(
        nets.iter()
            .any(|o| o["remote_net/8"] == "127.0.0.0/8" && o["family"] == "inet")
    );
    // text: an aligned table with a header, the same numbers
    let text = ns.run(nlstat(), &["-tan", "--group-by", "state,local_port"]);
    let text = String::from_utf8_lossy(&text.stdout);
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        ["state", "local_port", "count"]
    );
    assert_eq!(lines.count(), expected.len());
    // without -n, the text names hosts and ports as netstat -ta does
    let named = ns.run(nlstat(), &["-ta", "--group-by", "local_addr,local_port"]);
    let named = String::from_utf8_lossy(&named.stdout).into_owned();
    let netstat_ta = String::from_utf8_lossy(&ns.run(NETSTAT, &["-taW"]).stdout).into_owned();
    for (host, port) in [("localhost", "ssh"), ("localhost", "http")] {
        assert!(
            netstat_ta.contains(&format!("{host}:{port}")),
            "netstat names {host}:{port}"
        );
        assert!(
            named.lines().any(|l| {
                let c: Vec<&str> = l.split_whitespace().collect();
                c.first() == Some(&host) && c.get(1) == Some(&port)
            }),
            "the view names {host} {port}: {named}"
        );
    }
    // programs: every socket of the population belongs to python3
    let by_program = nlstat_json(&ns, &["-tanp", "--group-by", "program"]);
    let python = by_program
        .iter()
        .find(|o| o["program"] == "python3")
        .unwrap();
    let python_rows = netstat_rows(&ns, &["-tanp"])
        .iter()
        .filter(|r| r.iter().any(|c| c.ends_with("/python3")))
        .count() as u64;
    assert_eq!(python["count"].as_u64().unwrap(), python_rows);
}

#[test]
fn summary_counts_every_table_and_the_kernel_totals() {
    let Some(ns) = Namespace::create("vsum") else {
        return;
    };
    let _population = Population::start(&ns);
    let mut expected: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    for row in netstat_rows(&ns, &["-an"]) {
        let (proto, family, state) = match row[0].as_str() {
            "unix" => {
                // unix  RefCnt [ flags ] Type State? I-Node Path?
                let close = row.iter().position(|c| c == "]").unwrap();
                let state = &row[close + 2];
                let state = if state.parse::<u64>().is_ok() {
                    "null".to_string()
                } else {
                    state.clone()
                };
                ("unix".to_string(), "unix".to_string(), state)
            }
            label => {
                let v6 = label.ends_with('6');
                let proto = match label.trim_end_matches('6') {
                    "udpl" => "udplite",
                    other => other,
                };
                let state = row.get(5).cloned().unwrap_or_else(|| "null".into());
                (
                    proto.to_string(),
                    if v6 { "inet6" } else { "inet" }.to_string(),
                    state,
                )
            }
        };
        *expected.entry((proto, family, state)).or_insert(0) += 1;
    }
    let objects = nlstat_json(&ns, &["-an", "--summary"]);
    let mut actual: BTreeMap<(String, String, String), u64> = BTreeMap::new();
    let mut sockstat = None;
    for o in &objects {
        match o["kind"].as_str().unwrap() {
            "summary" => {
                let state = match &o["state"] {
                    Value::Null => "null".to_string(),
                    s => s.as_str().unwrap().to_string(),
                };
                let key = (
                    o["proto"].as_str().unwrap().to_string(),
                    o["family"].as_str().unwrap().to_string(),
                    state,
                );
                actual.insert(key, o["count"].as_u64().unwrap());
            }
            "sockstat" => sockstat = Some(o.clone()),
            other => panic!("unexpected kind {other}"),
        }
    }
    assert_eq!(actual, expected);
    // the kernel's totals, as /proc/net/sockstat in the namespace says
    let sockstat = sockstat.expect("a sockstat object");
    let proc_text = ["/proc/net/sockstat", "/proc/net/sockstat6"]
        .map(|f| String::from_utf8_lossy(&ns.run("cat", &[f]).stdout).into_owned())
        .concat();
    // `SECTION: ... WORD N` of sockstat / sockstat6
    let field = |section: &str, word: &str| -> u64 {
        proc_text
            .lines()
            .find_map(|l| {
                let words: Vec<&str> = l.strip_prefix(section)?.split_whitespace().collect();
                words[words.iter().position(|w| *w == word)? + 1]
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("{section} {word} in {proc_text}"))
    };
    for (key, section, word) in [
        ("sockets_used", "sockets:", "used"),
        ("tcp_inuse", "TCP:", "inuse"),
        ("udp_inuse", "UDP:", "inuse"),
        ("raw_inuse", "RAW:", "inuse"),
        ("tcp6_inuse", "TCP6:", "inuse"),
        ("udp6_inuse", "UDP6:", "inuse"),
    ] {
        assert_eq!(
            sockstat[key].as_u64(),
            Some(field(section, word)),
            "{key} in {sockstat} against:\n{proc_text}"
        );
    }
    assert!(
        field("TCP:", "inuse") > 0,
        "the population holds TCP sockets"
    );
}

/// ss -tln reports a listener's accept queue as Recv-Q and its backlog as
/// Send-Q; its connections are counted from ss -tan's rows.
#[test]
fn listeners_match_ss_queues_and_connections() {
    let Some(ns) = Namespace::create("vlisten") else {
        return;
    };
    let _lb = Holder::start(&ns);
    let ss_listeners = String::from_utf8_lossy(&ns.run("ss", &["-tlnH"]).stdout).into_owned();
    let ss_all = String::from_utf8_lossy(&ns.run("ss", &["-tanH"]).stdout).into_owned();
    let objects = nlstat_json(&ns, &["--listeners", "-p"]);
    let listeners: Vec<&Value> = objects.iter().filter(|o| o["kind"] == "listener").collect();
    assert_eq!(listeners.len(), ss_listeners.lines().count());
    let strip = |a: &str| a.trim_start_matches('[').trim_end_matches(']').to_string();
    for line in ss_listeners.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let (addr, port) = cols[3].rsplit_once(':').unwrap();
        let addr = if addr == "*" {
            "::".to_string()
        } else {
            strip(addr)
        };
        let port: u64 = port.parse().unwrap();
        let o = listeners
            .iter()
            .find(|o| o["local_port"] == port && o["local_addr"] == addr.as_str())
            .unwrap_or_else(|| panic!("no listener row for {addr}:{port}"));
        assert_eq!(o["accept_queue"].as_u64(), cols[1].parse().ok(), "{line}");
        assert_eq!(o["backlog"].as_u64(), cols[2].parse().ok(), "{line}");
        assert_eq!(o["program"], "python3");
        for (key, state) in [("established", "ESTAB"), ("time_wait", "TIME-WAIT")] {
            let count = ss_all
                .lines()
                .filter(|l| {
                    let c: Vec<&str> = l.split_whitespace().collect();
                    let (local, local_port) = c[3].rsplit_once(':').unwrap();
                    let wildcard = addr == "::" || addr == "0.0.0.0";
                    c[0] == state
                        && local_port == port.to_string()
                        && (wildcard || strip(local) == addr)
                })
                .count() as u64;
            assert_eq!(o[key].as_u64(), Some(count), "{key} of {addr}:{port}");
        }
    }
    let full = listeners.iter().find(|o| o["local_port"] == 7001).unwrap();
    assert_eq!(full["accept_queue"], 5);
    assert_eq!(full["backlog"], 8);
    assert_eq!(full["fill_pct"], 62);
    // sorted by fill: the filling listener first
    assert_eq!(listeners[0]["local_port"], 7001);
    // the listen counters are /proc/net/netstat's
    let counters = objects
        .iter()
        .find(|o| o["kind"] == "listen_counters")
        .unwrap();
    let netstat =
        String::from_utf8_lossy(&ns.run("cat", &["/proc/net/netstat"]).stdout).into_owned();
    let lines: Vec<&str> = netstat.lines().collect();
    let keys: Vec<&str> = lines[0].split_whitespace().collect();
    let values: Vec<&str> = lines[1].split_whitespace().collect();
    for name in [
        "ListenOverflows",
        "ListenDrops",
        "TCPReqQFullDrop",
        "SyncookiesSent",
    ] {
        let at = keys.iter().position(|k| *k == name).unwrap();
        assert_eq!(counters[name].as_u64(), values[at].parse().ok(), "{name}");
    }
}

/// SO_REUSEPORT listeners sharing an address and port: one row each, with
/// ss's accept queue and backlog (matched by inode), every row counting
/// the connections on the port (the kernel does not say which socket
/// accepted one), and `-c` deltas of each socket's own queue: zero when
/// nothing moved, though the siblings' queues differ.
#[test]
fn reuseport_listeners_keep_their_own_rows_and_deltas() {
    let Some(ns) = Namespace::create("vreuse") else {
        return;
    };
    let _held = crate::exporter::hold_reuseport(&ns);
    let ss =
        String::from_utf8_lossy(&ns.run("ss", &["-tlneH", "sport = :7400"]).stdout).into_owned();
    let mut expected: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for line in ss.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let inode = cols
            .iter()
            .find_map(|c| c.strip_prefix("ino:"))
            .unwrap()
            .parse()
            .unwrap();
        expected.insert(inode, (cols[1].parse().unwrap(), cols[2].parse().unwrap()));
    }
    assert_eq!(expected.len(), 3, "{ss}");
    let established = ns.run("ss", &["-tnH", "state", "established", "sport = :7400"]);
    let established = String::from_utf8_lossy(&established.stdout).lines().count() as u64;
    // sock_diag (auto: the expression) and the TCP iterator
    for source in ["auto", "bpf"] {
        let objects = nlstat_json(
            &ns,
            &[
                "--view-source",
                source,
                "-tn",
                "--listeners",
                "--interval",
                "0.3",
                "--count",
                "2",
                "sport = :7400",
            ],
        );
        let rows: Vec<&Value> = objects.iter().filter(|o| o["kind"] == "listener").collect();
        assert_eq!(rows.len(), 6, "{source}: three rows a tick");
        for (i, row) in rows.iter().enumerate() {
            let inode = row["inode"].as_u64().unwrap();
            let (queue, backlog) = expected[&inode];
            assert_eq!(row["accept_queue"].as_u64(), Some(queue), "{source}: {row}");
            assert_eq!(row["backlog"].as_u64(), Some(backlog), "{source}: {row}");
            assert_eq!(
                row["established"].as_u64(),
                Some(established),
                "{source}: {row}"
            );
            let delta = if i < 3 { Value::Null } else { Value::from(0) };
            assert_eq!(row["delta"], delta, "{source}: {row}");
        }
    }
}

#[test]
fn ephemeral_pressure_matches_ss_rows() {
    let Some(ns) = Namespace::create("veph") else {
        return;
    };
    let _lb = Holder::start(&ns);
    let objects = nlstat_json(&ns, &["--ephemeral"]);
    // ss: connections whose local port is in 40000-40009
    let ss_all = String::from_utf8_lossy(&ns.run("ss", &["-tanH"]).stdout).into_owned();
    let mut expected: BTreeMap<(String, String, u64), u64> = BTreeMap::new();
    for line in ss_all.lines() {
        let c: Vec<&str> = line.split_whitespace().collect();
        let (laddr, lport) = c[3].rsplit_once(':').unwrap();
        let (raddr, rport) = c[4].rsplit_once(':').unwrap();
        let lport: u64 = lport.parse().unwrap();
        if !(40000..=40009).contains(&lport) || rport == "*" {
            continue;
        }
        *expected
            .entry((laddr.to_string(), raddr.to_string(), rport.parse().unwrap()))
            .or_insert(0) += 1;
    }
    let mut actual = BTreeMap::new();
    for o in &objects {
        assert_eq!(o["kind"], "ephemeral");
        assert_eq!(o["available"], 9, "range of 10 minus one reserved");
        actual.insert(
            (
                o["local_addr"].as_str().unwrap().to_string(),
                o["remote_addr"].as_str().unwrap().to_string(),
                o["remote_port"].as_u64().unwrap(),
            ),
            o["in_use"].as_u64().unwrap(),
        );
    }
    assert_eq!(actual, expected);
    let busy = &objects[0];
    assert_eq!(busy["remote_addr"], "127.0.0.20");
    assert_eq!(busy["in_use"], 8);
    assert_eq!(busy["used_pct"], 88);
    assert_eq!(busy["near_exhaustion"], true);
    let text = String::from_utf8_lossy(&ns.run(nlstat(), &["--ephemeral"]).stdout).into_owned();
    assert!(text.contains("NEAR EXHAUSTION"), "{text}");
}

#[test]
fn continuous_views_carry_deltas() {
    let Some(ns) = Namespace::create("vcont") else {
        return;
    };
    let _lb = Holder::start(&ns);
    let out = ns.run(
        "timeout",
        &[
            "-s",
            "INT",
            "1.8",
            nlstat(),
            "--json",
            "-c",
            "-tan",
            "--group-by",
            "state",
        ],
    );
    let objects = json_lines(&out.stdout);
    let ticks: Vec<usize> = objects
        .iter()
        .enumerate()
        .filter(|(_, o)| o["kind"] == "tick")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(ticks.len(), 2, "two ticks in 1.8 s");
    let first = &objects[ticks[0] + 1..ticks[1]];
    let second = &objects[ticks[1] + 1..];
    assert!(!first.is_empty());
    assert!(
        first.iter().all(|o| o["delta"].is_null()),
        "no change on the first tick"
    );
    // nothing moves in the population between the ticks
    assert!(!second.is_empty(), "the second tick has rows");
    assert!(second.iter().all(|o| o["delta"] == 0), "{second:?}");
    // the listen counters move between the ticks: SYNs to the listener
    // whose accept queue is full overflow it
    let listen_drops = || -> u64 {
        let text =
            String::from_utf8_lossy(&ns.run("cat", &["/proc/net/netstat"]).stdout).into_owned();
        let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("TcpExt:")).collect();
        let at = lines[0]
            .split_whitespace()
            .position(|k| k == "ListenDrops")
            .expect("TcpExt ListenDrops");
        lines[1]
            .split_whitespace()
            .nth(at)
            .unwrap()
            .parse()
            .unwrap()
    };
    let before = listen_drops();
    let run = ns
        .command(nlstat(), &["-c", "--listeners"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start nlstat -c --listeners");
    let mut run = KillOnDrop(run);
    std::thread::sleep(std::time::Duration::from_millis(400));
    let flood = "import socket, time\nheld = []\nfor _ in range(20):\n    c = socket.socket(); c.setblocking(False); c.connect_ex((\"127.0.0.1\", 7001)); held.append(c)\ntime.sleep(0.3)\n";
    assert!(ns.run("python3", &["-c", flood]).status.success());
    std::thread::sleep(std::time::Duration::from_millis(1000));
    // SAFETY: a signal to our own child, still running (or a zombie)
    unsafe { libc::kill(run.0.id() as i32, libc::SIGINT) };
    let mut text = Vec::new();
    std::io::Read::read_to_end(run.0.stdout.as_mut().unwrap(), &mut text).unwrap();
    let after = listen_drops();
    let text = String::from_utf8_lossy(&text).into_owned();
    assert!(
        after > before,
        "the flood dropped SYNs: {before} -> {after}"
    );
    // ListenDrops per tick: (value, rate), rate absent on the first
    let rows: Vec<(u64, Option<f64>)> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("ListenDrops "))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let rate = words
                .get(2)
                .map(|r| r.strip_suffix("/s").expect("a rate").parse().unwrap());
            (words[1].parse().unwrap(), rate)
        })
        .collect();
    assert!(rows.len() >= 2, "two ticks at least:\n{text}");
    assert_eq!(rows[0].1, None, "no rate on the first tick:\n{text}");
    for pair in rows.windows(2) {
        let ((v1, _), (v2, rate)) = (pair[0], pair[1]);
        assert!(
            before <= v1 && v1 <= v2 && v2 <= after,
            "/proc says {before}..{after}:\n{text}"
        );
        // the rate is the change per second between the two reads of
        // the counter: ticks start on fixed slots a second apart and each
        // reads it after its dump, so the reads are a second apart give
        // or take a tick's length (the first tick also loads what later
        // ones reuse): between half a second and two seconds here
        let rate = rate.expect("a rate after the first tick");
        let change = (v2 - v1) as f64;
        assert!(
            change / 2.0 - 0.01 <= rate && rate <= change * 2.0 + 0.01,
            "rate {rate}/s for a change of {change} in about 1 s:\n{text}"
        );
    }
    assert!(
        rows.windows(2).any(|p| p[1].0 > p[0].0),
        "the counter moved between two ticks:\n{text}"
    );
}

#[test]
fn bad_view_options_fail_with_one_line() {
    let Some(ns) = Namespace::create("vbad") else {
        return;
    };
    for args in [
        &["--group-by", "bogus"][..],
        &["--group-by", "state", "--top", "0"],
        &["--group-by", "state", "--top", "many"],
        &["--top", "3"],
        &["--summary", "-r"],
        &["--listeners", "-i"],
        &["--ephemeral", "-s"],
        &["--group-by", "state", "-g"],
        &["--summary", "--listeners"],
        &["--group-by", "remote_net/300"],
        &["--group-by", "state,pid"],
    ] {
        let out = ns.run(nlstat(), args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
    // netstat's abbreviations keep their meaning beside nlstat's options
    let theirs = ns.run(NETSTAT, &["--listen", "-tn"]);
    let ours = ns.run(nlstat(), &["--listen", "-tn"]);
    assert_eq!(theirs.stdout, ours.stdout);
    let theirs = ns.run(NETSTAT, &["--group", "-n"]);
    let ours = ns.run(nlstat(), &["--group", "-n"]);
    assert_eq!(theirs.stdout, ours.stdout);
}

/// ss's TCP or UDP state name as netstat words it (`null` for none:
/// unconnected UDP).
pub(crate) fn netstat_state(ss_state: &str) -> Value {
    let word = match ss_state {
        "UNCONN" => return Value::Null,
        "ESTAB" => "ESTABLISHED",
        "SYN-SENT" => "SYN_SENT",
        "SYN-RECV" => "SYN_RECV",
        "FIN-WAIT-1" => "FIN_WAIT1",
        "FIN-WAIT-2" => "FIN_WAIT2",
        "TIME-WAIT" => "TIME_WAIT",
        "CLOSE-WAIT" => "CLOSE_WAIT",
        "LAST-ACK" => "LAST_ACK",
        other => other,
    };
    Value::from(word)
}

/// Counts by state of ss's rows (`ss -tanH` lists every socket of the
/// table, as a view counts them).
pub(crate) fn ss_counts_by_state(ns: &Namespace, args: &[&str]) -> BTreeMap<String, u64> {
    let text = String::from_utf8_lossy(&ns.run("ss", args).stdout).into_owned();
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        let state = line.split_whitespace().next().unwrap();
        *counts.entry(netstat_state(state).to_string()).or_insert(0) += 1;
    }
    counts
}

/// Counts by state of netstat -xan's rows (ss leaves out the sockets
/// still in a listener's queue, netstat -a lists them).
pub(crate) fn unix_counts_by_state(ns: &Namespace) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for row in netstat_rows(ns, &["-xan"]) {
        // unix  RefCnt [ flags ] Type State? I-Node Path?
        let close = row.iter().position(|c| c == "]").unwrap();
        let state = &row[close + 2];
        let state = if state.parse::<u64>().is_ok() {
            Value::Null
        } else {
            Value::from(state.as_str())
        };
        *counts.entry(state.to_string()).or_insert(0) += 1;
    }
    counts
}

pub(crate) fn view_counts_by_state(ns: &Namespace, args: &[&str]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for o in nlstat_json(ns, args) {
        if matches!(o["kind"].as_str(), Some("count" | "summary")) {
            *counts.entry(o["state"].to_string()).or_insert(0) += o["count"].as_u64().unwrap();
        }
    }
    counts
}

/// A view is an aggregate: without -a it counts every socket of the
/// chosen tables (listeners too, as `ss -tan` and `netstat -a` list
/// them); -l or a state in the filter expression narrows it.
#[test]
fn views_count_every_socket_of_the_tables() {
    let Some(ns) = Namespace::create("vevery") else {
        return;
    };
    let _population = Population::start(&ns);
    let _lb = Holder::start(&ns);
    for (ours, server) in [
        ("-t", "\"LISTEN\""),
        ("-u", "null"),
        ("-x", "\"LISTENING\""),
    ] {
        let expected = match ours {
            "-t" => ss_counts_by_state(&ns, &["-tanH"]),
            "-u" => ss_counts_by_state(&ns, &["-uanH"]),
            _ => unix_counts_by_state(&ns),
        };
        assert!(
            expected.contains_key(server),
            "the population has servers in {ours}: {expected:?}"
        );
        let by_state = view_counts_by_state(&ns, &[ours, "--group-by", "state"]);
        assert_eq!(by_state, expected, "{ours} --group-by state");
        let summary = view_counts_by_state(&ns, &[ours, "--summary"]);
        assert_eq!(summary, expected, "{ours} --summary");
    }
    // -l: the servers alone, as ss -l lists them
    assert_eq!(
        view_counts_by_state(&ns, &["-tl", "--group-by", "state"]),
        ss_counts_by_state(&ns, &["-tlnH"])
    );
    // a state in the expression: those sockets alone (ss leaves the
    // state column out when one state is asked for)
    let established = ns.run("ss", &["-tanH", "state", "established"]).stdout;
    let established = String::from_utf8_lossy(&established).lines().count() as u64;
    assert_eq!(
        view_counts_by_state(&ns, &["-t", "--group-by", "state", "state", "established"]),
        BTreeMap::from([("\"ESTABLISHED\"".to_string(), established)])
    );
}

/// Connections that come and go on command: `open` makes a listener on
/// 127.0.0.1:7010 with 4 accepted connections and 2 left in its queue,
/// `close` closes them all with a reset (no TIME_WAIT: every socket on
/// 7010 is gone at once); a listener on 7020 with 2 connections stays.
pub(crate) const COMING_AND_GOING: &str = r#"
import socket, struct, sys
def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port)); s.listen(16); return s
def connect(port):
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.connect(("127.0.0.1", port)); return c
stay = listener(7020)
kept = [connect(7020) for _ in range(2)]
kept += [stay.accept()[0] for _ in range(2)]
going = []
for line in sys.stdin:
    if line.strip() == "open":
        l = listener(7010)
        going = [l] + [connect(7010) for _ in range(6)]
        for _ in range(4):
            a = l.accept()[0]
            a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            going.append(a)
        print("OPEN", flush=True)
    elif line.strip() == "close":
        for s in reversed(going):
            s.close()
        going = []
        print("CLOSED", flush=True)
"#;

/// `nlstat -c ARGS`' output, one tick per item: `open` before it starts,
/// `close` once its first tick is printed, then read until the third
/// tick is complete (the fourth begins). Also the local ports of the
/// clients of 7010 while they were open, as ss lists them.
fn ticks_around_a_close(
    ns: &Namespace,
    helper: &mut Child,
    lines: &std::sync::mpsc::Receiver<String>,
    args: &[&str],
    starts_tick: &dyn Fn(&str) -> bool,
) -> (Vec<Vec<String>>, Vec<u64>) {
    use std::io::Write;
    let say = |helper: &mut Child, what: &str| {
        let stdin = helper.stdin.as_mut().unwrap();
        writeln!(stdin, "{what}").unwrap();
        stdin.flush().unwrap();
        let answer = lines
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the helper answers");
        assert_eq!(
            answer.trim(),
            if what == "open" { "OPEN" } else { "CLOSED" }
        );
    };
    say(helper, "open");
    let clients = client_ports(ns);
    let mut all = vec!["-c"];
    all.extend_from_slice(args);
    let mut child = ns
        .command(nlstat(), &all)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start nlstat -c");
    let (send, receive) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            if send.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let mut ticks: Vec<Vec<String>> = Vec::new();
    let mut closed = false;
    loop {
        let line = receive
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("nlstat -c {args:?} stopped ticking: {ticks:?}"));
        if line.starts_with("Tick ") {
            // a view's text tick opens with its time line (issue 23)
            continue;
        }
        if starts_tick(&line) {
            assert!(ticks.len() != 1 || closed, "a first tick without rows");
            if ticks.len() == 3 {
                break;
            }
            ticks.push(Vec::new());
            continue;
        }
        ticks.last_mut().expect("a tick starts first").push(line);
        if ticks.len() == 1 && !closed {
            // a tick prints its rows once its dump is over: close now,
            // a second before the next dump
            say(helper, "close");
            closed = true;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    (ticks, clients)
}

/// The local ports of the connections to 7010, as ss lists them.
fn client_ports(ns: &Namespace) -> Vec<u64> {
    String::from_utf8_lossy(
        &ns.run(
            "ss",
            &["-tanH", "state", "established", "dport", "=", ":7010"],
        )
        .stdout,
    )
    .lines()
    .map(|l| {
        let local = l.split_whitespace().nth(2).unwrap();
        local.rsplit_once(':').unwrap().1.parse().unwrap()
    })
    .collect()
}

/// The helper's answers, line by line.
fn answers(helper: &mut Child) -> std::sync::mpsc::Receiver<String> {
    let (send, receive) = std::sync::mpsc::channel();
    let stdout = helper.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines() {
            if send.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    receive
}

/// How many lines `ss -tanH FILTER` prints in the namespace.
fn ss_count(ns: &Namespace, filter: &[&str]) -> u64 {
    let mut args = vec!["-tanH"];
    args.extend_from_slice(filter);
    String::from_utf8_lossy(&ns.run("ss", &args).stdout)
        .lines()
        .count() as u64
}

/// With -c, a key present at one tick and gone at the next is shown once
/// more at the tick it went, with count 0 and minus its count as delta,
/// then no more: --group-by (JSON and text), --listeners, --ephemeral.
#[test]
fn continuous_views_show_keys_that_vanish() {
    let Some(ns) = Namespace::create("vgone") else {
        return;
    };
    let mut helper = ns
        .command("python3", &["-c", COMING_AND_GOING])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the helper");
    let lines = answers(&mut helper);
    let json_tick = |l: &str| l.starts_with("{\"kind\":\"tick\"");

    // what ss sees while 7010 is open, and once it is closed
    {
        use std::io::Write;
        writeln!(helper.stdin.as_mut().unwrap(), "open").unwrap();
        assert_eq!(lines.recv().unwrap(), "OPEN");
    }
    let established_7010 = ss_count(&ns, &["state", "established", "sport", "=", ":7010"]);
    let clients_7010 = client_ports(&ns);
    let queue_7010: u64 =
        String::from_utf8_lossy(&ns.run("ss", &["-tlnH", "sport", "=", ":7010"]).stdout)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
    assert_eq!(
        (established_7010, clients_7010.len(), queue_7010),
        (6, 6, 2),
        "4 accepted connections and 2 in the queue"
    );
    {
        use std::io::Write;
        writeln!(helper.stdin.as_mut().unwrap(), "close").unwrap();
        assert_eq!(lines.recv().unwrap(), "CLOSED");
    }
    assert_eq!(
        ss_count(&ns, &["sport", "=", ":7010", "or", "dport", "=", ":7010"]),
        0
    );

    // --group-by, JSON
    let (ticks, clients) = ticks_around_a_close(
        &ns,
        &mut helper,
        &lines,
        &["--json", "-tn", "--group-by", "state,local_port"],
        &json_tick,
    );
    assert_eq!(clients.len(), clients_7010.len());
    let rows: Vec<Vec<Value>> = ticks
        .iter()
        .map(|t| t.iter().map(|l| serde_json::from_str(l).unwrap()).collect())
        .collect();
    let find = |tick: &[Value], state: &str, port: u64| -> Option<Value> {
        tick.iter()
            .find(|o| o["state"] == state && o["local_port"] == port)
            .cloned()
    };
    let before = find(&rows[0], "ESTABLISHED", 7010).expect("ESTABLISHED 7010 at the first tick");
    assert_eq!(before["count"], established_7010);
    let gone = find(&rows[1], "ESTABLISHED", 7010).expect("ESTABLISHED 7010 once more");
    assert_eq!(gone["count"], 0, "{gone}");
    assert_eq!(gone["delta"], -(established_7010 as i64), "{gone}");
    let listen = find(&rows[1], "LISTEN", 7010).expect("LISTEN 7010 once more");
    assert_eq!(
        (&listen["count"], &listen["delta"]),
        (&Value::from(0), &Value::from(-1))
    );
    for port in &clients {
        let client = find(&rows[1], "ESTABLISHED", *port).expect("each client end once more");
        assert_eq!(
            (&client["count"], &client["delta"]),
            (&Value::from(0), &Value::from(-1))
        );
        assert!(find(&rows[2], "ESTABLISHED", *port).is_none());
    }
    assert!(
        find(&rows[2], "ESTABLISHED", 7010).is_none(),
        "then it leaves"
    );
    assert!(rows[2].iter().all(|o| o["count"] != 0), "{:?}", rows[2]);
    // the keys that stay carry their change (none)
    let stays = find(&rows[1], "ESTABLISHED", 7020).unwrap();
    assert_eq!(stays["delta"], 0);
    assert_eq!(
        stays["count"],
        find(&rows[2], "ESTABLISHED", 7020).unwrap()["count"]
    );

    // --group-by, text: `state local_port count delta`
    let (ticks, _) = ticks_around_a_close(
        &ns,
        &mut helper,
        &lines,
        &["-tn", "--group-by", "state,local_port"],
        &|l: &str| l.starts_with("state "),
    );
    let row = |tick: &[String], port: u64| -> Option<Vec<String>> {
        tick.iter()
            .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
            .find(|c| c[0] == "ESTABLISHED" && c[1] == port.to_string())
    };
    assert_eq!(
        row(&ticks[0], 7010).unwrap()[2..],
        [established_7010.to_string(), "-".to_string()]
    );
    assert_eq!(
        row(&ticks[1], 7010).unwrap()[2..],
        ["0".to_string(), format!("-{established_7010}")]
    );
    assert!(row(&ticks[2], 7010).is_none(), "{:?}", ticks[2]);

    // --listeners: the listener once more, all zero, minus its queue
    let (ticks, _) = ticks_around_a_close(
        &ns,
        &mut helper,
        &lines,
        &["--json", "--listeners"],
        &json_tick,
    );
    let listener = |tick: &[String]| -> Option<Value> {
        tick.iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|o| o["kind"] == "listener" && o["local_port"] == 7010)
    };
    assert_eq!(listener(&ticks[0]).unwrap()["accept_queue"], queue_7010);
    let gone = listener(&ticks[1]).expect("the listener once more");
    assert_eq!(gone["accept_queue"], 0, "{gone}");
    assert_eq!(gone["established"], 0, "{gone}");
    assert_eq!(gone["delta"], -(queue_7010 as i64), "{gone}");
    assert!(listener(&ticks[2]).is_none());

    // --ephemeral: the pair towards 127.0.0.1:7010 once more, nothing in use
    let (ticks, _) = ticks_around_a_close(
        &ns,
        &mut helper,
        &lines,
        &["--json", "--ephemeral"],
        &json_tick,
    );
    let pair = |tick: &[String]| -> Option<Value> {
        tick.iter()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|o| o["remote_port"] == 7010)
    };
    assert_eq!(pair(&ticks[0]).unwrap()["in_use"], clients_7010.len());
    let gone = pair(&ticks[1]).expect("the pair once more");
    assert_eq!(gone["in_use"], 0, "{gone}");
    assert_eq!(gone["delta"], -(clients_7010.len() as i64), "{gone}");
    assert!(pair(&ticks[2]).is_none());

    drop(helper.stdin.take());
    let _ = helper.wait();
}
