//! `--serve` and `--textfile` against their oracles: promtool checks the
//! exposition, a real Prometheus scrapes nlstat and its query API gives
//! back the values, which must equal what netstat, ss and /proc say for
//! the same namespace.

use crate::support::*;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A process in the namespace that is killed when dropped.
pub(crate) struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An HTTP request from inside the namespace (python3's urllib):
/// (status, body).
pub(crate) fn http(
    ns: &Namespace,
    url: &str,
    headers: &[(&str, &str)],
    method: &str,
) -> (u16, String) {
    let script = r#"
import sys, urllib.request, urllib.error
url, method = sys.argv[1], sys.argv[2]
req = urllib.request.Request(url, method=method)
for h in sys.argv[3:]:
    k, v = h.split(":", 1); req.add_header(k, v)
try:
    r = urllib.request.urlopen(req, timeout=20); code, body = r.status, r.read()
except urllib.error.HTTPError as e:
    code, body = e.code, e.read()
sys.stdout.write("%d\n" % code); sys.stdout.flush(); sys.stdout.buffer.write(body)
"#;
    let mut args = vec!["-c", script, url, method];
    let joined: Vec<String> = headers.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    args.extend(joined.iter().map(String::as_str));
    let out = ns.run("python3", &args);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (code, body) = text.split_once('\n').unwrap_or(("0", ""));
    (code.parse().unwrap_or(0), body.to_string())
}

pub(crate) fn start_serving(ns: &Namespace, port: u16, extra: &[&str]) -> Running {
    let address = format!("127.0.0.1:{port}");
    let mut args = vec!["--serve", address.as_str()];
    args.extend_from_slice(extra);
    let child = ns
        .command(nlstat(), &args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nlstat --serve");
    let running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if http(ns, &format!("http://{address}/"), &[], "GET").0 == 200 {
            return running;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("nlstat --serve did not answer on {address}");
}

/// `name{labels} value` lines of an exposition.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

pub(crate) fn promtool_accepts(text: &str) {
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool (Debian package prometheus) is installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics refuses the exposition:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A filter that keeps the test's own HTTP traffic (the exporter's port
/// and Prometheus') out of the exported counts.
fn without_ports(ports: &[u16]) -> Vec<String> {
    let mut words = vec!["not".to_string(), "(".to_string()];
    for (i, port) in ports.iter().enumerate() {
        if i > 0 {
            words.push("or".into());
        }
        words.extend([
            format!("sport = :{port}"),
            "or".into(),
            format!("dport = :{port}"),
        ]);
    }
    words.push(")".into());
    words
}

/// Socket counts per (proto label as netstat prints it, state) from
/// netstat -an's inet rows, leaving out those on `ports`.
fn netstat_counts(ns: &Namespace, ports: &[u16]) -> BTreeMap<(String, String), u64> {
    let out = ns.run(NETSTAT, &["-tuUwanW"]);
    let mut counts = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines().skip(2) {
        if ports.iter().any(|p| line.contains(&format!(":{p} "))) {
            continue;
        }
        let cols: Vec<&str> = line.split_whitespace().collect();
        let state = cols.get(5).map(|s| s.to_string()).unwrap_or_default();
        *counts.entry((cols[0].to_string(), state)).or_insert(0) += 1;
    }
    counts
}

fn proto_label(proto: &str, family: &str) -> String {
    let base = if proto == "udplite" { "udpl" } else { proto };
    format!("{base}{}", if family == "inet6" { "6" } else { "" })
}

#[test]
fn exposition_matches_netstat_ss_and_proc() {
    let Some(ns) = Namespace::create("xserve") else {
        return;
    };
    if !require_tools(&["promtool"]) {
        return;
    }
    let _population = Population::start(&ns);
    let filter = without_ports(&[9477]);
    let filter: Vec<&str> = filter.iter().map(String::as_str).collect();
    let _server = start_serving(&ns, 9477, &filter);
    let (code, text) = http(&ns, "http://127.0.0.1:9477/metrics", &[], "GET");
    assert_eq!(code, 200);
    promtool_accepts(&text);
    let values = samples(&text);
    // sockets per state: netstat's rows, the test's HTTP traffic aside
    let expected = netstat_counts(&ns, &[9477]);
    let mut actual: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (series, value) in &values {
        let Some(labels) = series.strip_prefix("nlstat_sockets{") else {
            continue;
        };
        let label = |key: &str| {
            labels
                .split(&format!("{key}=\""))
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or("")
                .to_string()
        };
        let (proto, family, state) = (label("proto"), label("family"), label("state"));
        if proto == "unix" {
            continue;
        }
        actual.insert((proto_label(&proto, &family), state), *value as u64);
    }
    assert_eq!(
        actual, expected,
        "exported socket counts against netstat's rows"
    );
    // listener queues: ss -tln's Recv-Q (accept queue) and Send-Q (backlog)
    let ss = String::from_utf8_lossy(&ns.run("ss", &["-tlnH"]).stdout).into_owned();
    // (the exporter's own listener is filtered out of the export)
    let listeners: Vec<&str> = ss.lines().filter(|l| !l.contains(":9477 ")).collect();
    assert!(!listeners.is_empty(), "the population's listeners in ss");
    for line in listeners {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let (addr, port) = cols[3].rsplit_once(':').unwrap();
        let addr = match addr.trim_start_matches('[').trim_end_matches(']') {
            "*" => "::",
            a => a,
        };
        let find = |metric: &str| {
            values
                .iter()
                .find(|(s, _)| {
                    s.starts_with(&format!("{metric}{{"))
                        && s.contains(&format!("local_addr=\"{addr}\""))
                        && s.contains(&format!("local_port=\"{port}\""))
                })
                .map(|(_, v)| *v as u64)
        };
        assert_eq!(
            find("nlstat_tcp_listener_accept_queue"),
            cols[1].parse().ok(),
            "{line}"
        );
        assert_eq!(
            find("nlstat_tcp_listener_backlog"),
            cols[2].parse().ok(),
            "{line}"
        );
    }
    // interface counters: /proc/net/dev's lo line (read after the scrape;
    // the scrape's own traffic may add to it)
    let dev = String::from_utf8_lossy(&ns.run("cat", &["/proc/net/dev"]).stdout).into_owned();
    let lo: Vec<u64> = dev
        .lines()
        .find(|l| l.trim_start().starts_with("lo:"))
        .unwrap()
        .split(':')
        .nth(1)
        .unwrap()
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    let exported = values["nlstat_interface_receive_packets_total{iface=\"lo\"}"] as u64;
    assert!(
        exported <= lo[1] && lo[1] - exported < 50,
        "lo rx packets {exported} vs {}",
        lo[1]
    );
    // SNMP counters: a counter that does not move in an idle namespace
    let snmp = String::from_utf8_lossy(&ns.run("cat", &["/proc/net/snmp"]).stdout).into_owned();
    let tcp: Vec<&str> = snmp.lines().filter(|l| l.starts_with("Tcp:")).collect();
    let keys: Vec<&str> = tcp[0].split_whitespace().collect();
    let nums: Vec<&str> = tcp[1].split_whitespace().collect();
    let at = keys.iter().position(|k| *k == "AttemptFails").unwrap();
    assert_eq!(
        values["nlstat_snmp_tcp_attempt_fails_total"],
        nums[at].parse::<f64>().unwrap()
    );
    assert_eq!(values["nlstat_scrape_errors_total"], 0.0);
    assert!(values.contains_key("nlstat_build_info{version=\"0.1.0\"}"));
}

/// A real Prometheus in `ns`, scraping nlstat on `target` every second
/// and answering queries on `port`; stopped (and its data removed) when
/// dropped.
pub(crate) struct Prometheus {
    _process: Running,
    _dir: TempDir,
    port: u16,
}

impl Prometheus {
    pub(crate) fn start(ns: &Namespace, target: u16, port: u16) -> Prometheus {
        let dir = TempDir::new(&format!("{}-prometheus-{port}", ns.name));
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: nlstat\n    static_configs:\n      - targets: ['127.0.0.1:{target}']\n"
            ),
        )
        .unwrap();
        let process = ns
            .command(
                "prometheus",
                &[
                    &format!("--config.file={}", config.display()),
                    &format!("--storage.tsdb.path={}", dir.join("data").display()),
                    &format!("--web.listen-address=127.0.0.1:{port}"),
                ],
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus (Debian package prometheus)");
        Prometheus {
            _process: Running(process),
            _dir: dir,
            port,
        }
    }

    /// The first value PromQL `query` gives now, if Prometheus answers
    /// with one.
    pub(crate) fn query(&self, ns: &Namespace, query: &str) -> Option<f64> {
        let mut encoded = String::new();
        for byte in query.bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' => {
                    encoded.push(char::from(byte))
                }
                other => encoded.push_str(&format!("%{other:02X}")),
            }
        }
        let url = format!(
            "http://127.0.0.1:{}/api/v1/query?query={encoded}",
            self.port
        );
        let (code, body) = http(ns, &url, &[], "GET");
        if code != 200 {
            return None;
        }
        let value: serde_json::Value = serde_json::from_str(&body).ok()?;
        value["data"]["result"][0]["value"][1]
            .as_str()
            .and_then(|v| v.parse::<f64>().ok())
    }
}

#[test]
fn a_real_prometheus_scrapes_nlstat() {
    let Some(ns) = Namespace::create("xprom") else {
        return;
    };
    if !require_tools(&["prometheus"]) {
        return;
    }
    let _population = Population::start(&ns);
    let filter = without_ports(&[9478, 9090]);
    let filter: Vec<&str> = filter.iter().map(String::as_str).collect();
    let _server = start_serving(&ns, 9478, &filter);
    let prometheus = Prometheus::start(&ns, 9478, 9090);
    let query = |q: &str| prometheus.query(&ns, q);
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut up = None;
    while Instant::now() < deadline {
        up = query("up{job=\"nlstat\"}");
        if up == Some(1.0) && query("nlstat_build_info").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(up, Some(1.0), "Prometheus scraped nlstat successfully");
    let expected = netstat_counts(&ns, &[9478, 9090]);
    let time_wait = query("nlstat_sockets{proto=\"tcp\",family=\"inet\",state=\"TIME_WAIT\"}");
    assert_eq!(
        time_wait,
        Some(expected[&("tcp".into(), "TIME_WAIT".into())] as f64)
    );
    let udp = query("nlstat_sockets{proto=\"udp\",family=\"inet\",state=\"\"}");
    // an empty label is no label in Prometheus: the unconnected UDP count
    let udp = udp.or_else(|| query("nlstat_sockets{proto=\"udp\",family=\"inet\",state=~\"\"}"));
    assert_eq!(udp, Some(expected[&("udp".into(), "".into())] as f64));
    let queue =
        query("nlstat_tcp_listener_accept_queue{local_addr=\"127.1.2.3\",local_port=\"54321\"}");
    assert_eq!(queue, Some(1.0), "the population's unaccepted connection");
    let lo = query("nlstat_interface_transmit_bytes_total{iface=\"lo\"}");
    assert!(lo.is_some_and(|v| v > 0.0));
}

#[test]
fn the_server_survives_bad_and_many_clients() {
    let Some(ns) = Namespace::create("xrobust") else {
        return;
    };
    let _server = start_serving(&ns, 9479, &["--min-interval", "0"]);
    let base = "http://127.0.0.1:9479";
    assert_eq!(http(&ns, &format!("{base}/nope"), &[], "GET").0, 404);
    assert_eq!(http(&ns, &format!("{base}/metrics"), &[], "POST").0, 405);
    let (code, body) = http(
        &ns,
        &format!("{base}/metrics"),
        &[("Accept", "application/openmetrics-text; version=1.0.0")],
        "GET",
    );
    assert_eq!(code, 200);
    assert!(body.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
    // garbage, a slow client, a client that goes away mid-response, and
    // 200 scrapes at once
    let script = r#"
import socket, threading, time, urllib.request
def garbage():
    s = socket.create_connection(("127.0.0.1", 9479)); s.sendall(b"\x00\xffNOT HTTP\r\n\r\n"); s.recv(100); s.close()
def slow():
    s = socket.create_connection(("127.0.0.1", 9479))
    for b in b"GET /metrics HTTP/1.1\r\n":
        s.send(bytes([b])); time.sleep(0.05)
    s.close()
def gone():
    s = socket.create_connection(("127.0.0.1", 9479)); s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"); s.close()
ok = []
def scrape():
    try:
        ok.append(urllib.request.urlopen("http://127.0.0.1:9479/metrics", timeout=60).status)
    except Exception as e:
        ok.append(str(e))
threads = [threading.Thread(target=f) for f in [garbage, slow, gone] * 3] + [threading.Thread(target=scrape) for _ in range(200)]
[t.start() for t in threads]; [t.join() for t in threads]
print(sum(1 for s in ok if s == 200), len(ok))
"#;
    let out = ns.run("python3", &["-c", script]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        text.trim(),
        "200 200",
        "every concurrent scrape answered: {text}"
    );
    assert_eq!(
        http(&ns, &format!("{base}/metrics"), &[], "GET").0,
        200,
        "still serving"
    );
}

#[test]
fn textfile_is_written_whole_every_tick() {
    let Some(ns) = Namespace::create("xtext") else {
        return;
    };
    if !require_tools(&["promtool"]) {
        return;
    }
    let dir = TempDir::new(&format!("{}-textfile", ns.name));
    let path = dir.join("nlstat.prom");
    let child = ns
        .command(nlstat(), &["-c", "--textfile", path.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nlstat -c --textfile");
    let mut child = KillOnDrop(child);
    // read the file as a collector would, while ticks replace it: every
    // read is a whole exposition (ends with the last metric's line)
    let mut seen: Vec<String> = Vec::new();
    let mut reads = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(3300) {
        if let Ok(text) = std::fs::read_to_string(&path) {
            reads += 1;
            assert!(
                text.ends_with("nlstat_build_info{version=\"0.1.0\"} 1\n")
                    && text.starts_with("# HELP ")
                    && text.contains("\n# TYPE nlstat_sockets gauge\n"),
                "read {reads} is not a whole exposition:\n{text}"
            );
            if seen.last() != Some(&text) {
                seen.push(text);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: a signal to our own child, still running
    unsafe { libc::kill(child.0.id() as i32, libc::SIGINT) };
    let mut stderr = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.0.wait().unwrap();
    // a run with nlstat's options stops cleanly on SIGINT (issue 23)
    assert_eq!(
        status.code(),
        Some(0),
        "ended by the interrupt, cleanly, and by nothing else: {stderr}"
    );
    assert_eq!(stderr, "", "no complaint on any tick");
    assert!(
        reads > 50,
        "the file was there to read while it ran ({reads})"
    );
    // each tick replaced the file (its scrape duration differs): 3.3 s
    // hold the ticks at 0, 1, 2 and 3 s; promtool accepts every version
    assert!(seen.len() >= 3, "{} versions of the file", seen.len());
    for text in &seen {
        promtool_accepts(text);
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name() != "nlstat.prom")
        .collect();
    assert!(leftovers.is_empty(), "no temporary file stays behind");
    // a directory that does not exist: one line, non-zero status
    let bad = ns.run(nlstat(), &["--textfile", "/nonexistent-dir/x.prom"]);
    assert_ne!(bad.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&bad.stderr).lines().count(), 1);
}

#[test]
fn bad_exporter_options_fail_with_one_line() {
    let Some(ns) = Namespace::create("xbad") else {
        return;
    };
    let _server = start_serving(&ns, 9480, &[]);
    for args in [
        &["--serve", "nowhere:x"][..],
        &["--serve", "127.0.0.1:9480"],
        &["--serve", "9481", "-r"],
        &["--serve", "9481", "-i"],
        &["--serve", "9481", "-s"],
        &["--serve", "9481", "--summary"],
        &["--serve", "9481", "--textfile", "/tmp/x"],
        &["--max-series", "5"],
    ] {
        let out = ns.run("timeout", &[&["5", nlstat()][..], args].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !matches!(out.status.code(), Some(0) | Some(124)),
            "{args:?}: status {:?}",
            out.status.code()
        );
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    }
}

/// A series whose sockets are gone is no longer exported (Prometheus
/// marks it stale), rather than exported as 0: the listener on 7010, its
/// connections and its ephemeral pair, before and after they close (as ss
/// sees them).
#[test]
fn series_of_sockets_that_close_are_no_longer_exported() {
    use std::io::BufRead;
    let Some(ns) = Namespace::create("xgone") else {
        return;
    };
    let mut helper = ns
        .command("python3", &["-c", crate::views::COMING_AND_GOING])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the helper");
    let mut answers = std::io::BufReader::new(helper.stdout.take().unwrap());
    let mut say = |what: &str| {
        writeln!(helper.stdin.as_mut().unwrap(), "{what}").unwrap();
        helper.stdin.as_mut().unwrap().flush().unwrap();
        let mut answer = String::new();
        answers.read_line(&mut answer).unwrap();
        answer.trim().to_string()
    };
    let _server = start_serving(&ns, 9479, &["--min-interval", "0"]);
    let on_7010 = |text: &str| -> Vec<String> {
        samples(text)
            .into_keys()
            .filter(|s| s.contains("\"7010\""))
            .collect()
    };
    assert_eq!(say("open"), "OPEN");
    let ss_7010 = ns.run("ss", &["-tlnH", "sport", "=", ":7010"]).stdout;
    assert_eq!(
        String::from_utf8_lossy(&ss_7010).lines().count(),
        1,
        "ss sees the listener"
    );
    let (code, open) = http(&ns, "http://127.0.0.1:9479/metrics", &[], "GET");
    assert_eq!(code, 200);
    let series = on_7010(&open);
    for metric in [
        "nlstat_tcp_listener_backlog{",
        "nlstat_tcp_listener_connections{",
        "nlstat_ephemeral_ports_in_use{",
    ] {
        assert!(
            series.iter().any(|s| s.starts_with(metric)),
            "{metric} for 7010 while it is open: {series:?}"
        );
    }
    assert_eq!(say("close"), "CLOSED");
    let ss_after = ns.run(
        "ss",
        &["-tanH", "sport", "=", ":7010", "or", "dport", "=", ":7010"],
    );
    assert!(ss_after.stdout.is_empty(), "ss sees nothing on 7010");
    let (code, closed) = http(&ns, "http://127.0.0.1:9479/metrics", &[], "GET");
    assert_eq!(code, 200);
    assert_eq!(on_7010(&closed), Vec::<String>::new());
    // the listener that stays is still there
    assert!(closed.contains("local_port=\"7020\""), "{closed}");
    drop(helper.stdin.take());
    let _ = helper.wait();
}

/// Six idle loopback connections to 127.0.0.1:7100, client i having sent
/// 1000 * (i + 1) bytes the server read: counters that stay put.
const IDLE_CONNECTIONS: &str = r#"
import socket, sys, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", 7100)); l.listen(64)
held = []
for i in range(6):
    c = socket.create_connection(("127.0.0.1", 7100)); s, _ = l.accept()
    c.sendall(b"x" * (1000 * (i + 1)))
    got = 0
    while got < 1000 * (i + 1):
        got += len(s.recv(65536))
    held += [c, s]
print("READY", flush=True)
time.sleep(float(sys.argv[1]))
"#;

/// The rtt (microseconds) and bytes counters ss prints for the sockets
/// `filter` selects (`rtt:` is milliseconds with three decimals, so whole
/// microseconds; a counter ss leaves out is 0).
fn ss_health(ns: &Namespace, filter: &str) -> (Vec<u64>, BTreeMap<String, u64>) {
    let out = ns.sh(&format!("ss -tinHm state established '{filter}'"));
    let text = String::from_utf8_lossy(&out.stdout);
    let (mut rtts, mut sums) = (Vec::new(), BTreeMap::new());
    for token in text.split_whitespace() {
        if let Some(rtt) = token.strip_prefix("rtt:") {
            let ms: f64 = rtt.split('/').next().unwrap().parse().unwrap();
            rtts.push((ms * 1000.0).round() as u64);
        }
        for name in ["bytes_acked", "bytes_received"] {
            if let Some(v) = token.strip_prefix(&format!("{name}:")) {
                *sums.entry(name.to_string()).or_insert(0) += v.parse::<u64>().unwrap();
            }
        }
    }
    (rtts, sums)
}

/// Prometheus' `histogram_quantile` over cumulative buckets (upper bound
/// in seconds, count): the bucket that holds rank q * count, linearly
/// interpolated from its lower bound (0 for the first).
fn histogram_quantile(q: f64, buckets: &[(f64, u64)]) -> f64 {
    let total = buckets.last().unwrap().1 as f64;
    let rank = q * total;
    let mut lower = (0.0, 0u64);
    for &(upper, count) in buckets {
        if count as f64 >= rank {
            return lower.0
                + (upper - lower.0) * (rank - lower.1 as f64) / (count - lower.1) as f64;
        }
        lower = (upper, count);
    }
    unreachable!("the +Inf bucket holds every rank")
}

#[test]
fn health_is_exported_as_ss_sees_it_and_prometheus_reads_the_histogram() {
    let Some(ns) = Namespace::create("xhealth") else {
        return;
    };
    if !require_tools(&["prometheus", "promtool", "ss"]) {
        return;
    }
    let mut population = ns
        .command("python3", &["-c", IDLE_CONNECTIONS, "60"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the connections");
    assert_eq!(first_line(&mut population).trim(), "READY");
    let _population = Running(population);
    let _server = start_serving(&ns, 9479, &["--info"]);
    let (text_code, text) = http(&ns, "http://127.0.0.1:9479/metrics", &[], "GET");
    assert_eq!(text_code, 200);
    promtool_accepts(&text);
    assert!(text.contains("# TYPE nlstat_tcp_rtt_seconds histogram\n"));
    let (_, open) = http(
        &ns,
        "http://127.0.0.1:9479/metrics",
        &[("Accept", "application/openmetrics-text; version=1.0.0")],
        "GET",
    );
    assert!(
        open.contains("# TYPE nlstat_tcp_rtt_seconds gaugehistogram\n"),
        "{open}"
    );
    assert!(open.contains("nlstat_tcp_rtt_seconds_gcount{role=\"backend\""));

    // the clients' side (backend 127.0.0.1:7100) and the server's (the
    // listener's established connections), against ss
    let values = samples(&text);
    let backend = "role=\"backend\",remote_addr=\"127.0.0.1\",remote_port=\"7100\"";
    let listener = "role=\"listener\",family=\"inet\",local_addr=\"127.0.0.1\",local_port=\"7100\"";
    let (client_rtts, client_sums) = ss_health(&ns, "( dport = :7100 )");
    let (server_rtts, server_sums) = ss_health(&ns, "( sport = :7100 )");
    assert_eq!(client_rtts.len(), 6, "ss sees the six clients");
    let mut buckets = Vec::new();
    for (labels, rtts) in [(backend, &client_rtts), (listener, &server_rtts)] {
        buckets.clear();
        for le in text
            .lines()
            .filter_map(|l| {
                l.strip_prefix(&format!("nlstat_tcp_rtt_seconds_bucket{{{labels},le=\""))
            })
            .map(|l| l.split('"').next().unwrap().to_string())
        {
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            let expected = rtts
                .iter()
                .filter(|&&us| us as f64 <= bound * 1e6 + 1e-6)
                .count();
            let series = format!("nlstat_tcp_rtt_seconds_bucket{{{labels},le=\"{le}\"}}");
            assert_eq!(values[&series], expected as f64, "{series}");
            buckets.push((bound, expected as u64));
        }
        assert_eq!(buckets.len(), 16, "15 bounds and +Inf for {labels}");
        let count = values[&format!("nlstat_tcp_rtt_seconds_count{{{labels}}}")];
        assert_eq!(count, rtts.len() as f64);
        let sum = values[&format!("nlstat_tcp_rtt_seconds_sum{{{labels}}}")];
        assert!(
            (sum - rtts.iter().sum::<u64>() as f64 / 1e6).abs() < 1e-9,
            "{labels}: {sum}"
        );
    }
    assert_eq!(
        values[&format!("nlstat_tcp_acked_bytes{{{backend}}}")],
        client_sums["bytes_acked"] as f64
    );
    assert_eq!(
        client_sums["bytes_acked"],
        21_000 + 6,
        "1000 * (1 + ... + 6) and the SYNs"
    );
    assert_eq!(
        values[&format!("nlstat_tcp_received_bytes{{{listener}}}")],
        server_sums["bytes_received"] as f64
    );

    // a real Prometheus computes the quantile from the same buckets
    let prometheus = Prometheus::start(&ns, 9479, 9091);
    let query = "histogram_quantile(0.9, nlstat_tcp_rtt_seconds_bucket{role=\"backend\",remote_port=\"7100\"})";
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut answer = None;
    while Instant::now() < deadline && answer.is_none() {
        std::thread::sleep(Duration::from_millis(500));
        answer = prometheus.query(&ns, query);
    }
    let mut client_buckets = Vec::new();
    let mut cumulative = 0;
    for bound in text
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("nlstat_tcp_rtt_seconds_bucket{{{backend},le=\"")))
        .map(|l| l.split('"').next().unwrap())
    {
        let bound = if bound == "+Inf" {
            f64::INFINITY
        } else {
            bound.parse().unwrap()
        };
        cumulative = client_rtts
            .iter()
            .filter(|&&us| us as f64 <= bound * 1e6 + 1e-6)
            .count();
        client_buckets.push((bound, cumulative as u64));
    }
    assert_eq!(cumulative, 6);
    let expected = histogram_quantile(0.9, &client_buckets);
    let answer = answer.expect("Prometheus answers histogram_quantile over nlstat's buckets");
    assert!(
        (answer - expected).abs() <= 1e-9 * expected.max(1.0),
        "{answer} vs {expected}"
    );
}

/// Three SO_REUSEPORT listeners on one address and port (as nginx's
/// `reuseport` opens one per worker): six connections wait in the first
/// one's accept queue, made before the other two listen (so the kernel's
/// reuseport hash has no say), whose queues are empty.
const REUSEPORT: &str = r#"
import socket, sys
held = []
def listener(backlog):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    l.bind(("127.0.0.1", 7400)); l.listen(backlog); held.append(l)
listener(8)
for _ in range(6):
    c = socket.socket(); c.connect(("127.0.0.1", 7400)); held.append(c)
listener(16)
listener(32)
print("READY", flush=True)
sys.stdin.read()
"#;

/// Starts REUSEPORT in `ns`; it holds its sockets until dropped.
pub(crate) fn hold_reuseport(ns: &Namespace) -> KillOnDrop {
    let mut child = ns
        .command("python3", &["-c", REUSEPORT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start python3");
    assert!(first_line(&mut child).starts_with("READY"));
    KillOnDrop(child)
}

/// Listeners that share an address and port are one series (two samples
/// with the same labels make an invalid exposition, which promtool does
/// not catch and Prometheus drops): their accept queues and backlogs added
/// up, as ss lists them, and `nlstat_tcp_listener_sockets` counts them.
#[test]
fn reuseport_listeners_are_one_series() {
    let Some(ns) = Namespace::create("xreuse") else {
        return;
    };
    if !require_tools(&["promtool", "ss"]) {
        return;
    }
    let _held = hold_reuseport(&ns);
    let dir = TempDir::new(&format!("{}-textfile", ns.name));
    let path = dir.join("nlstat.prom");
    let out = ns
        .command(nlstat(), &["--textfile", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    promtool_accepts(&text);
    let mut series = std::collections::BTreeSet::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name_labels, _) = line.rsplit_once(' ').unwrap();
        assert!(
            series.insert(name_labels),
            "a second sample of {name_labels}"
        );
    }
    // ss: one row per listening socket, Recv-Q its accept queue, Send-Q
    // its backlog
    let ss =
        String::from_utf8_lossy(&ns.run("ss", &["-tlnH", "sport = :7400"]).stdout).into_owned();
    let rows: Vec<Vec<&str>> = ss.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), 3, "{ss}");
    let sum =
        |column: usize| -> f64 { rows.iter().map(|r| r[column].parse::<f64>().unwrap()).sum() };
    let most = |column: usize| -> f64 {
        rows.iter()
            .map(|r| r[column].parse::<f64>().unwrap())
            .fold(0.0, f64::max)
    };
    let established = ns.run("ss", &["-tnH", "state", "established", "sport = :7400"]);
    let established = String::from_utf8_lossy(&established.stdout).lines().count() as f64;
    assert_eq!(established, 6.0);
    assert_eq!(most(1), 6.0, "the first listener holds every connection");
    let values = samples(&text);
    let labels = "family=\"inet\",local_addr=\"127.0.0.1\",local_port=\"7400\"";
    for (name, expected) in [
        ("nlstat_tcp_listener_sockets", 3.0),
        ("nlstat_tcp_listener_accept_queue", sum(1)),
        ("nlstat_tcp_listener_accept_queue_longest", most(1)),
        ("nlstat_tcp_listener_backlog", sum(2)),
    ] {
        assert_eq!(
            values.get(&format!("{name}{{{labels}}}")),
            Some(&expected),
            "{name}"
        );
    }
    assert_eq!(
        values.get(&format!(
            "nlstat_tcp_listener_connections{{{labels},state=\"ESTABLISHED\"}}"
        )),
        Some(&established)
    );
}
