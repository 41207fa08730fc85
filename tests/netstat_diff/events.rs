//! `--events` against `ss -E` on the same namespace: the same closed
//! sockets (protocol, ends, state at close) in text and JSON, the filter
//! expression (kernel socket filter and user space) as ss applies it,
//! exact loss accounting with a stopped receiver, an unprivileged user,
//! closes counted per key with `-c`, and the exporter's close counters
//! read back by promtool and a real Prometheus.
//!
//! Nothing is masked except the time stamps, which are only checked to be
//! today's UTC date, and the ephemeral client ports, which both tools see
//! alike (they are compared, not masked).

use crate::exporter::{Prometheus, http, promtool_accepts, start_serving};
use crate::support::*;
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Opens and closes a known set of sockets in the namespace it runs in:
/// `N` TCP connections over IPv4 to 127.0.0.1:8080 (the client closes
/// first), `N` over IPv6 to [::1]:8443 reset by SO_LINGER 0, the two
/// listeners, a connected UDP/IPv4 socket and a bound UDP/IPv6 one.
/// With `rst`, every TCP connection is reset: each close is then exactly
/// two destroy events, at once.
const CHURN: &str = r#"
import socket, struct, sys, time
n, rst = int(sys.argv[1]), sys.argv[2] == "rst"
linger = struct.pack("ii", 1, 0)
l4 = socket.socket(); l4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l4.bind(("127.0.0.1", 8080)); l4.listen(1024)
l6 = socket.socket(socket.AF_INET6); l6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l6.bind(("::1", 8443)); l6.listen(1024)
for i in range(n):
    for listener, address in ((l4, ("127.0.0.1", 8080)), (l6, ("::1", 8443))):
        c = socket.create_connection(address); a, _ = listener.accept()
        if rst or listener is l6:
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            a.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        else:
            c.sendall(b"x" * 100); a.recv(100)
        c.close(); a.close()
if rst:
    l4.close(); l6.close()
    sys.exit(0)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 5353))
u.connect(("127.0.0.1", 53)); u.close()
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::1", 5354)); u.close()
time.sleep(0.3)
l4.close(); l6.close()
"#;

/// One closed socket as both tools name it.
type Close = (String, IpAddr, u16, IpAddr, u16, u8);

fn churn(ns: &Namespace, n: usize, rst: bool) {
    let out = ns.run(
        "python3",
        &["-c", CHURN, &n.to_string(), if rst { "rst" } else { "fin" }],
    );
    assert!(out.status.success(), "churn: {}", text(&out.stderr));
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// nlstat listening in `ns` (through `--netns`, so the child is nlstat
/// itself and signals reach it).
fn listen(ns: &Namespace, args: &[&str], env: &[(&str, &str)]) -> Listener {
    let mut command = Command::new(nlstat());
    command
        .args(["--netns", &ns.name, "--events"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    Listener::new(command.spawn().expect("start nlstat --events"))
}

/// `ss -E` (line-buffered) in `ns` with `args` (a filter).
fn ss_listen(ns: &Namespace, args: &[&str]) -> Listener {
    let mut all = vec!["-oL", "ss", "-E", "-tun"];
    all.extend_from_slice(args);
    ns.command("stdbuf", &all)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map(Listener::new)
        .expect("start ss -E")
}

/// Give the subscriptions time to join their groups (there is no
/// handshake: a close before the join is not sent).
fn settle() {
    std::thread::sleep(Duration::from_millis(700));
}

/// A listener whose output is read as it comes (so a long stream never
/// blocks it on a full pipe).
/// A listener is killed when dropped, so a failing test leaves none
/// behind.
struct Listener {
    child: Child,
    stdout: Option<std::thread::JoinHandle<Vec<u8>>>,
    stderr: Option<std::thread::JoinHandle<Vec<u8>>>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Listener {
    fn new(mut child: Child) -> Listener {
        use std::io::Read;
        let mut out = child.stdout.take().expect("piped stdout");
        let mut err = child.stderr.take().expect("piped stderr");
        Listener {
            child,
            stdout: Some(std::thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = out.read_to_end(&mut bytes);
                bytes
            })),
            stderr: Some(std::thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = err.read_to_end(&mut bytes);
                bytes
            })),
        }
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on a child we started and have not reaped.
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }
}

/// After half a second (for the last events to arrive), `signal`, then
/// everything the process printed.
fn stop(mut listener: Listener, signal: i32) -> std::process::Output {
    std::thread::sleep(Duration::from_millis(500));
    listener.signal(signal);
    let status = listener.child.wait().expect("wait for the listener");
    std::process::Output {
        status,
        stdout: listener.stdout.take().unwrap().join().unwrap(),
        stderr: listener.stderr.take().unwrap().join().unwrap(),
    }
}

/// ss's rows: protocol, ends, state (UNCONN is a socket in CLOSE, 7).
fn ss_closes(output: &str) -> BTreeSet<Close> {
    output
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with('\t') && !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let v6 = f[4].starts_with('[') || f[4].starts_with("*:") && f[5].starts_with('[');
            let (la, lp) = ss_end(f[4], v6);
            let (ra, rp) = ss_end(f[5], v6);
            let state = match f[1] {
                "UNCONN" => 7,
                "ESTAB" => 1,
                other => panic!("ss state {other}: {line}"),
            };
            (f[0].to_string(), la, lp, ra, rp, state)
        })
        .collect()
}

fn ss_end(text: &str, v6: bool) -> (IpAddr, u16) {
    let (addr, port) = text.rsplit_once(':').expect("ADDR:PORT");
    let addr = match addr.trim_start_matches('[').trim_end_matches(']') {
        "*" if v6 => IpAddr::from([0u16; 8]),
        "*" => IpAddr::from([0u8; 4]),
        a => a.parse().expect("an address"),
    };
    (
        addr,
        if port == "*" {
            0
        } else {
            port.parse().unwrap()
        },
    )
}

/// nlstat's JSON objects of one kind.
fn objects(stdout: &[u8], kind: &str) -> Vec<serde_json::Value> {
    text(stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("a JSON line"))
        .filter(|v| v["kind"] == kind)
        .collect()
}

fn json_closes(stdout: &[u8]) -> BTreeSet<Close> {
    objects(stdout, "closed")
        .iter()
        .map(|v| {
            let addr = |k: &str| v[k].as_str().unwrap().parse::<IpAddr>().unwrap();
            let port = |k: &str| v[k].as_u64().unwrap_or(0) as u16;
            (
                v["proto"].as_str().unwrap().to_string(),
                addr("local_addr"),
                port("local_port"),
                addr("remote_addr"),
                port("remote_port"),
                v["state_code"].as_u64().unwrap() as u8,
            )
        })
        .collect()
}

/// nlstat's text rows after their time stamps (netstat's columns; `-n`).
fn text_closes(stdout: &[u8]) -> BTreeSet<Close> {
    let today = text(
        &Command::new("date")
            .args(["-u", "+%Y-%m-%d"])
            .output()
            .unwrap()
            .stdout,
    );
    let mut rows = text(stdout)
        .lines()
        .skip(2)
        .map(String::from)
        .collect::<Vec<_>>();
    rows.retain(|l| !l.starts_with(' '));
    rows.iter()
        .map(|line| {
            let (stamp, row) = line.split_at(25);
            assert!(
                stamp.starts_with(today.trim()) && stamp.as_bytes()[23] == b'Z',
                "time stamp: {line}"
            );
            let f: Vec<&str> = row.split_whitespace().collect();
            let end = |t: &str| {
                let (a, p) = t.rsplit_once(':').unwrap();
                (
                    a.parse::<IpAddr>().unwrap(),
                    if p == "*" { 0 } else { p.parse().unwrap() },
                )
            };
            let (la, lp) = end(f[3]);
            let (ra, rp) = end(f[4]);
            let state = match f.get(5) {
                Some(&"CLOSE") | None => 7,
                Some(&"ESTABLISHED") => 1,
                Some(other) => panic!("state {other}: {line}"),
            };
            (
                f[0].trim_end_matches('6').to_string(),
                la,
                lp,
                ra,
                rp,
                state,
            )
        })
        .collect()
}

fn end_counts(stdout: &[u8]) -> (u64, u64) {
    let end = objects(stdout, "events_end");
    assert_eq!(end.len(), 1, "one events_end: {}", text(stdout));
    (
        end[0]["received"].as_u64().unwrap(),
        end[0]["lost"].as_u64().unwrap(),
    )
}

/// The closed sockets of a churn in text and JSON, as ss -E saw them;
/// every row's final counts, status 0 on SIGINT and SIGTERM.
#[test]
fn closes_match_ss_in_text_and_json() {
    let Some(ns) = Namespace::create("evss") else {
        return;
    };
    if !require_tools(&["stdbuf"]) {
        return;
    }
    let json = listen(&ns, &["-n", "--json", "--info"], &[]);
    let rows = listen(&ns, &["-n"], &[]);
    let ss = ss_listen(&ns, &[]);
    settle();
    churn(&ns, 20, false);
    let json = stop(json, libc::SIGTERM);
    let rows = stop(rows, libc::SIGINT);
    let ss = stop(ss, libc::SIGTERM);
    assert_eq!(json.status.code(), Some(0), "{}", text(&json.stderr));
    assert_eq!(rows.status.code(), Some(0), "{}", text(&rows.stderr));
    let expected = ss_closes(&text(&ss.stdout));
    // 20 + 20 connections (two ends each), 2 listeners, 2 UDP sockets
    assert_eq!(
        expected.len(),
        84,
        "ss -E saw the churn:\n{}",
        text(&ss.stdout)
    );
    assert_eq!(json_closes(&json.stdout), expected);
    assert_eq!(text_closes(&rows.stdout), expected);
    let (received, lost) = end_counts(&json.stdout);
    assert_eq!((received, lost), (84, 0));
    assert_eq!(
        text(&rows.stderr).trim_end(),
        // the program's name as invoked, as netstat's messages give it
        format!("{}: close events: 84 received, 0 lost", nlstat()),
    );
    // --info: the final tcp_info of every TCP close, none for UDP
    for v in objects(&json.stdout, "closed") {
        let tcp = v["proto"] == "tcp";
        assert_eq!(v["info"]["rto"].is_u64(), tcp, "{v}");
        assert!(v["cookie"].as_u64().is_some_and(|c| c > 0), "{v}");
    }
}

/// A filter expression keeps what ss keeps, whether the kernel's socket
/// filter decides alone, user space alone, or both.
#[test]
fn filters_keep_what_ss_keeps() {
    let Some(ns) = Namespace::create("evfilter") else {
        return;
    };
    if !require_tools(&["stdbuf"]) {
        return;
    }
    let filter = ["( dport = :8080 and not src 10.0.0.0/8 ) or ( sport = :8443 and dst [::1] )"];
    let words: Vec<&str> = filter[0].split(' ').collect();
    let ss = ss_listen(&ns, &words);
    let mut runs = Vec::new();
    for placement in ["", "kernel", "user"] {
        let mut args = vec!["-n", "--json"];
        args.extend(&words);
        runs.push((
            placement,
            listen(&ns, &args, &[("NLSTAT_FILTER_IN", placement)]),
        ));
    }
    settle();
    churn(&ns, 10, false);
    let expected = ss_closes(&text(&stop(ss, libc::SIGTERM).stdout));
    // the IPv4 client ends, the IPv6 server ends (not their listener,
    // whose remote address is ::)
    assert_eq!(expected.len(), 20, "{expected:?}");
    for (placement, child) in runs {
        let out = stop(child, libc::SIGINT);
        assert_eq!(
            json_closes(&out.stdout),
            expected,
            "NLSTAT_FILTER_IN={placement}"
        );
        let (received, _) = end_counts(&out.stdout);
        if placement == "user" {
            // every close is delivered, user space drops the rest
            assert_eq!(received, 44, "no kernel filter");
        } else {
            // the socket filter kept the others out of the buffer
            assert_eq!(received, 20, "kernel filter, NLSTAT_FILTER_IN={placement}");
        }
    }
}

/// A receiver stopped during a burst loses events; received plus lost is
/// every event the kernel sent (the undisturbed run's count), reported as
/// JSON objects and on stderr in text.
#[test]
fn losses_are_counted_exactly() {
    let Some(ns) = Namespace::create("evloss") else {
        return;
    };
    // 300 reset connections over each family, 2 events each, and the two
    // listeners
    let sent = 300 * 4 + 2;
    let whole = listen(&ns, &["-n", "--json"], &[]);
    settle();
    churn(&ns, 300, true);
    let whole = stop(whole, libc::SIGINT);
    assert_eq!(
        end_counts(&whole.stdout),
        (sent, 0),
        "nothing lost with the default buffer"
    );

    let json = listen(&ns, &["-n", "--json", "--events-buffer", "16K"], &[]);
    let rows = listen(&ns, &["-n", "--events-buffer", "16K"], &[]);
    settle();
    for listener in [&json, &rows] {
        listener.signal(libc::SIGSTOP);
    }
    churn(&ns, 300, true);
    for listener in [&json, &rows] {
        listener.signal(libc::SIGCONT);
    }
    let json = stop(json, libc::SIGINT);
    let (received, lost) = end_counts(&json.stdout);
    assert!(lost > 0, "a 16 KiB buffer overflowed: {received} received");
    assert_eq!(received + lost, sent);
    assert_eq!(objects(&json.stdout, "closed").len() as u64, received);
    let reported: u64 = objects(&json.stdout, "lost")
        .iter()
        .map(|v| v["count"].as_u64().unwrap())
        .sum();
    assert_eq!(reported, lost);

    let rows = stop(rows, libc::SIGINT);
    let stderr = text(&rows.stderr);
    let mut lost_lines = 0;
    let mut end = None;
    for line in stderr.lines() {
        if let Some(n) = line
            .split(' ')
            .nth(1)
            .filter(|_| line.contains("close events lost"))
        {
            lost_lines += n.parse::<u64>().unwrap();
        } else if let Some(rest) = line.split_once("close events: ").map(|p| p.1) {
            let n: Vec<u64> = rest
                .split(' ')
                .filter_map(|w| w.trim_end_matches(',').parse().ok())
                .collect();
            end = Some((n[0], n[1]));
        }
    }
    let (received, lost) = end.expect("the final count on stderr");
    assert_eq!((received + lost, lost_lines), (sent, lost), "{stderr}");
    let printed = text(&rows.stdout).lines().count() as u64 - 2;
    assert_eq!(printed, received);
}

/// No privilege is needed: an unprivileged user sees the same closes.
#[test]
fn an_unprivileged_user_listens() {
    let Some(ns) = Namespace::create("evuser") else {
        return;
    };
    if !require_tools(&["setpriv"]) {
        return;
    }
    let child = ns
        .command(
            "setpriv",
            &[
                "--reuid=3141593",
                "--regid=3141593",
                "--clear-groups",
                nlstat(),
                "--events",
                "-n",
                "--json",
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map(Listener::new)
        .unwrap();
    settle();
    churn(&ns, 5, true);
    let out = stop(child, libc::SIGTERM);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(end_counts(&out.stdout), (22, 0));
}

/// `--group-by` counts closes per key per tick with `-c`; the counts of
/// every tick add up to the closes.
#[test]
fn closes_are_counted_per_key_and_tick() {
    let Some(ns) = Namespace::create("evgroup") else {
        return;
    };
    let child = listen(
        &ns,
        &[
            "-n",
            "--json",
            "-c",
            "--group-by",
            "proto,local_port",
            "--info",
        ],
        &[],
    );
    settle();
    churn(&ns, 10, true);
    std::thread::sleep(Duration::from_millis(1200));
    churn(&ns, 5, true);
    let out = stop(child, libc::SIGINT);
    let ticks = objects(&out.stdout, "tick").len();
    assert!(ticks >= 2, "{}", text(&out.stdout));
    let sum = |port: u64| -> u64 {
        objects(&out.stdout, "count")
            .iter()
            .filter(|v| v["local_port"] == port)
            .map(|v| v["count"].as_u64().unwrap())
            .sum()
    };
    // server ends and the listener's own close, on each listener's port
    assert_eq!((sum(8080), sum(8443)), (17, 17));
    let health = objects(&out.stdout, "count")
        .into_iter()
        .find(|v| v["local_port"] == 8080 && v["count"].as_u64() > Some(0))
        .unwrap();
    assert!(health["rtt_sockets"].is_u64(), "--info's columns: {health}");
}

/// The exporter's close counters: promtool accepts the exposition, and a
/// real Prometheus reads back the closes per listener and per backend.
#[test]
fn the_exporter_counts_closes_for_prometheus() {
    let Some(ns) = Namespace::create("evprom") else {
        return;
    };
    if !require_tools(&["prometheus", "promtool"]) {
        return;
    }
    // listeners that exist before nlstat starts: their server ends count
    // per listener
    let mut holder = ns
        .command("python3", &["-c", LISTENERS])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(first_line(&mut holder).trim(), "READY");
    let _server = start_serving(&ns, 9481, &["--events"]);
    let prometheus = Prometheus::start(&ns, 9481, 9091);
    std::thread::sleep(Duration::from_millis(1500));
    let out = ns.run("python3", &["-c", CONNECT, "25"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (code, body) = http(&ns, "http://127.0.0.1:9481/metrics", &[], "GET");
    assert_eq!(code, 200);
    promtool_accepts(&body);
    let listener = "nlstat_socket_closes_total{role=\"listener\",local_addr=\"127.0.0.1\",local_port=\"8090\"}";
    let backend = "nlstat_socket_closes_total{role=\"backend\",remote_addr=\"127.0.0.1\",remote_port=\"8090\"}";
    let acked = "nlstat_socket_closes_acked_bytes_total{role=\"backend\",remote_addr=\"127.0.0.1\",remote_port=\"8090\"}";
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut seen = (None, None, None, None);
    while Instant::now() < deadline {
        seen = (
            prometheus.query(&ns, listener),
            prometheus.query(&ns, backend),
            prometheus.query(&ns, acked),
            prometheus.query(&ns, "nlstat_events_lost_total"),
        );
        if seen.0 == Some(25.0) && seen.1 == Some(25.0) {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(
        (seen.0, seen.1, seen.3),
        (Some(25.0), Some(25.0), Some(0.0))
    );
    // each client sent 1000 bytes; bytes_acked counts the SYN and FIN too
    let acked = seen.2.unwrap_or(0.0);
    assert!((25.0 * 1000.0..=25.0 * 1002.0).contains(&acked), "{acked}");
    drop(holder.stdin.take());
    let _ = holder.wait();
}

/// A listener on 127.0.0.1:8090 accepting and reading until its stdin
/// closes.
const LISTENERS: &str = r#"
import socket, sys, threading
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 8090)); l.listen(128)
def serve():
    while True:
        a, _ = l.accept()
        while a.recv(65536):
            pass
        a.close()
threading.Thread(target=serve, daemon=True).start()
print("READY", flush=True)
sys.stdin.read()
"#;

/// N clients of 127.0.0.1:8090, each sending 1000 bytes and closing.
const CONNECT: &str = r#"
import socket, sys, time
for i in range(int(sys.argv[1])):
    c = socket.create_connection(("127.0.0.1", 8090)); c.sendall(b"x" * 1000)
    time.sleep(0.01); c.close()
time.sleep(0.5)
"#;

/// `--all-netns` listens in every namespace: the closes of a churn in one
/// carry its name, as the other outputs label them.
#[test]
fn every_namespace_is_listened_to_and_labelled() {
    let Some(ns) = Namespace::create("evall") else {
        return;
    };
    let child = Command::new(nlstat())
        .args(["--all-netns", "--events", "-n", "--json", "sport = :8443"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map(Listener::new)
        .expect("start nlstat --all-netns --events");
    settle();
    churn(&ns, 3, true);
    let out = stop(child, libc::SIGINT);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let ours: Vec<serde_json::Value> = objects(&out.stdout, "closed")
        .into_iter()
        .filter(|v| v["netns"] == ns.name.as_str())
        .collect();
    // the IPv6 server ends on 8443 (the listener's own close has port 8443
    // too)
    assert_eq!(ours.len(), 4, "{}", text(&out.stdout));
    let inode = std::fs::metadata(format!("/run/netns/{}", ns.name))
        .map(|m| std::os::unix::fs::MetadataExt::ino(&m))
        .unwrap();
    assert!(
        ours.iter()
            .all(|v| v["netns_inode"] == inode && v["local_port"] == 8443)
    );
}
