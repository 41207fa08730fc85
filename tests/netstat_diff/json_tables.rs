//! `--json` for the tables that are not sockets: `-r`, `-i`, `-s`, `-g`
//! and their `-c` ticks.
//!
//! The oracle is never nlstat: every object is checked against the rows
//! /usr/bin/netstat prints for the same namespace, and against the
//! kernel's own files (/proc/net/route, /proc/net/dev, /proc/net/snmp,
//! /proc/net/netstat, /proc/net/snmp6) read inside that namespace, or
//! against fixture /proc trees parsed here. Every stdout line must be one
//! JSON object of the right `kind`; row counts and row order must match
//! netstat's.

use crate::interfaces::{QUIET, udp_burst, wait_quiet};
use crate::support::*;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Output, Stdio};
use std::time::{Duration, Instant};

type Object = Map<String, Value>;

// ---------------------------------------------------------------------
// JSON and comparison helpers
// ---------------------------------------------------------------------

/// `nlstat --json ARGS` inside the namespace.
fn nl_json(ns: &Namespace, args: &[&str]) -> Output {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    ns.run(nlstat(), &all)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One stdout line as a JSON object, of `kind` when given.
fn parse_object(line: &str, kind: Option<&str>, what: &str) -> Object {
    let value: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("{what}: a line that is not JSON ({e}): {line:?}"));
    let Value::Object(object) = value else {
        panic!("{what}: a line that is not a JSON object: {line:?}");
    };
    if let Some(kind) = kind {
        assert_eq!(
            object.get("kind").and_then(Value::as_str),
            Some(kind),
            "{what}: wrong kind in {line}"
        );
    }
    object
}

/// Every stdout line as one object of `kind`. A run that wrote nothing
/// gives no objects; anything that is not a whole JSON line fails.
fn objects(out: &Output, kind: &str, what: &str) -> Vec<Object> {
    let stdout = std::str::from_utf8(&out.stdout)
        .unwrap_or_else(|e| panic!("{what}: stdout is not UTF-8: {e}"));
    assert!(
        stdout.is_empty() || stdout.ends_with('\n'),
        "{what}: stdout does not end with a newline: {stdout:?}"
    );
    stdout
        .lines()
        .map(|line| parse_object(line, Some(kind), what))
        .collect()
}

/// A run that must succeed quietly: status 0, nothing on stderr.
fn objects_ok(out: &Output, kind: &str, what: &str) -> Vec<Object> {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: exit status (stderr: {})",
        text(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{what}: unexpected stderr: {}",
        text(&out.stderr)
    );
    objects(out, kind, what)
}

fn show(object: &Object) -> String {
    serde_json::to_string(object).unwrap()
}

/// A field that must be present: its text, or `None` for `null`.
fn opt_str<'a>(object: &'a Object, key: &str) -> Option<&'a str> {
    match object.get(key) {
        Some(Value::String(s)) => Some(s),
        Some(Value::Null) => None,
        other => panic!(
            "field {key:?} must be a string or null, is {other:?} in {}",
            show(object)
        ),
    }
}

fn string<'a>(object: &'a Object, key: &str) -> &'a str {
    opt_str(object, key).unwrap_or_else(|| panic!("field {key:?} is null in {}", show(object)))
}

fn as_int(value: &Value) -> Option<i128> {
    value
        .as_u64()
        .map(i128::from)
        .or_else(|| value.as_i64().map(i128::from))
}

/// An integer field that must be present: its value, or `None` for `null`.
fn opt_int(object: &Object, key: &str) -> Option<i128> {
    match object.get(key) {
        Some(Value::Null) => None,
        Some(v) => Some(as_int(v).unwrap_or_else(|| {
            panic!(
                "field {key:?} must be an integer or null, is {v} in {}",
                show(object)
            )
        })),
        None => panic!("field {key:?} is missing in {}", show(object)),
    }
}

fn int(object: &Object, key: &str) -> i128 {
    opt_int(object, key).unwrap_or_else(|| panic!("field {key:?} is null in {}", show(object)))
}

fn boolean(object: &Object, key: &str) -> bool {
    object
        .get(key)
        .and_then(Value::as_bool)
        .unwrap_or_else(|| panic!("field {key:?} must be a boolean in {}", show(object)))
}

/// A netstat number column.
fn num(text: &str) -> i128 {
    text.parse()
        .unwrap_or_else(|_| panic!("netstat printed {text:?} where a number belongs"))
}

/// Mismatches collected over a whole table, reported at once.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn eq<T: PartialEq + std::fmt::Debug>(&mut self, what: impl Display, json: T, oracle: T) {
        if json != oracle {
            self.0
                .push(format!("{what}: JSON has {json:?}, oracle {oracle:?}"));
        }
    }

    fn check(&mut self, ok: bool, what: impl Display) {
        if !ok {
            self.0.push(what.to_string());
        }
    }

    fn result(self, title: &str) -> Result<(), String> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(format!("{title}:\n  {}", self.0.join("\n  ")))
        }
    }
}

/// Run a comparison up to three times, for tables whose numbers the
/// kernel may move by itself between two reads (each caller says which).
/// `oracle` reads the kernel state the comparison rests on (netstat's
/// table, the /proc files) before and after each attempt: a mismatch is
/// retried only when that state moved meanwhile; when it stood still the
/// difference is nlstat's and fails at once.
fn with_retries<S: PartialEq + std::fmt::Debug>(
    what: &str,
    mut oracle: impl FnMut() -> S,
    mut attempt: impl FnMut() -> Result<(), String>,
) {
    let mut last = String::new();
    for _ in 0..3 {
        let before = oracle();
        let result = attempt();
        let after = oracle();
        match result {
            Ok(()) => return,
            Err(e) if before == after => {
                panic!("{what}: differs while the kernel state stood still:\n{e}")
            }
            Err(e) => last = e,
        }
        std::thread::sleep(Duration::from_millis(700));
    }
    panic!("{what}: the kernel state moved during each of three attempts; the last:\n{last}");
}

/// The bytes `netstat ARGS` prints: the oracle's state for
/// [`with_retries`].
fn netstat_state(ns: &Namespace, args: &[&str]) -> Vec<u8> {
    ns.run(NETSTAT, args).stdout
}

/// netstat's table rows: the lines after the header line that starts
/// with `header`, split at blanks. Panics unless netstat succeeded.
fn netstat_rows(ns: &Namespace, args: &[&str], header: &str) -> Vec<Vec<String>> {
    let out = ns.run(NETSTAT, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "netstat {args:?}: {}",
        text(&out.stderr)
    );
    table_rows(&text(&out.stdout), header)
}

fn table_rows(stdout: &str, header: &str) -> Vec<Vec<String>> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with(header))
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// What `ip netns exec NS cat FILE` prints, or `None` when it fails.
fn read_in(ns: &Namespace, file: &str) -> Option<String> {
    let out = ns.run("cat", &[file]);
    out.status.success().then(|| text(&out.stdout))
}

/// Output of a `-c` run cut off after a while: the ticks, each with its
/// number, time and rows. A line cut by the kill is dropped.
struct Tick {
    number: i128,
    time: f64,
    rows: Vec<Object>,
}

fn ticks(stdout: &[u8], kind: &str, what: &str) -> Vec<Tick> {
    let stdout = String::from_utf8_lossy(stdout);
    let whole = match stdout.rfind('\n') {
        Some(end) => &stdout[..=end],
        None => "",
    };
    let mut ticks: Vec<Tick> = Vec::new();
    for line in whole.lines() {
        let object = parse_object(line, None, what);
        match object.get("kind").and_then(Value::as_str) {
            Some("tick") => {
                let time = object
                    .get("time")
                    .and_then(Value::as_str)
                    .and_then(rfc3339_seconds)
                    .unwrap_or_else(|| panic!("{what}: tick without a time: {line}"));
                ticks.push(Tick {
                    number: int(&object, "tick"),
                    time,
                    rows: Vec::new(),
                });
            }
            Some(k) if k == kind => match ticks.last_mut() {
                Some(tick) => tick.rows.push(object),
                None => panic!("{what}: a row before the first tick object: {line}"),
            },
            _ => panic!("{what}: unexpected object {line}"),
        }
    }
    ticks
}

/// `nlstat --json -c ARGS` for `seconds`, then killed.
fn run_killed(ns: &Namespace, args: &[&str], seconds: f64) -> Vec<u8> {
    let mut all = vec!["--json", "-c"];
    all.extend_from_slice(args);
    let mut child = ns
        .command(nlstat(), &all)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nlstat -c");
    std::thread::sleep(Duration::from_secs_f64(seconds));
    // `ip netns exec` execs the program: this is nlstat's own process.
    let _ = child.kill();
    let out = child.wait_with_output().expect("wait for nlstat -c");
    assert!(
        out.stderr.is_empty(),
        "{args:?}: stderr {}",
        text(&out.stderr)
    );
    out.stdout
}

/// The tick objects of a `-c` run: numbered 1, 2, ... with times a
/// second or more apart; every tick but the last is whole and passes
/// `check`; the last passes it when it has `full` rows (it may have been
/// cut by the kill).
fn check_ticks(
    stdout: &[u8],
    kind: &str,
    what: &str,
    full: usize,
    mut check: impl FnMut(&[Object]) -> Result<(), String>,
) {
    let ticks = ticks(stdout, kind, what);
    assert!(
        ticks.len() >= 2,
        "{what}: {} tick(s) in 2.5 s:\n{}",
        ticks.len(),
        text(stdout)
    );
    let mut problems = Problems::default();
    for (i, tick) in ticks.iter().enumerate() {
        problems.eq(format!("tick {i} number"), tick.number, i as i128 + 1);
        if i > 0 {
            let gap = tick.time - ticks[i - 1].time;
            problems.check(
                (0.99..3.0).contains(&gap),
                format!("tick {} starts {gap:.6} s after the previous one", i + 1),
            );
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        problems.check(
            (now - tick.time).abs() < 60.0,
            format!("tick {} time {} is not now ({now})", i + 1, tick.time),
        );
        let last = i + 1 == ticks.len();
        if last && tick.rows.len() < full {
            continue;
        }
        problems.eq(format!("tick {} rows", i + 1), tick.rows.len(), full);
        if let Err(e) = check(&tick.rows) {
            problems.0.push(format!("tick {}: {e}", i + 1));
        }
    }
    if let Err(e) = problems.result(what) {
        panic!("{e}");
    }
}

// ---------------------------------------------------------------------
// -r
// ---------------------------------------------------------------------

/// A resolver that fails at once (nothing listens on the namespace's
/// loopback), so name lookups do not wait on the host's DNS server.
const QUICK_RESOLVER: &str = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n";

/// Names for some of the route addresses; two longer than netstat's 15
/// columns.
const ROUTE_HOSTS: &str = "127.0.0.1 localhost
10.9.0.254 gw-router
10.9.0.3 a-very-long-gateway-name.example.test
10.21.0.5 host-twenty-one
10.22.0.7 h22
2001:db8::2 six-gw
2001:db8:d::1 six-host
";
const ROUTE_NETWORKS: &str = "testnet 10.20.0.0\na-rather-long-network-name 10.23.0.0\n";

/// A device name JSON must escape (`q"\x`, quoted for the shell): the
/// kernel allows quotes and backslashes in names.
const HOSTILE_DEV: &str = r#"'q"\x'"#;
const HOSTILE_NAME: &str = r#"q"\x"#;

/// A device name longer than the six columns `-rnee` gives it.
const LONG_ROUTE_DEV: &str = "veth-route-long";

/// IPv4 routes of every kind netstat prints differently, with metrics
/// (`mtu`/`advmss`, `window`, `rtt`) on a gateway route and on a reject
/// route, multipath and nexthop-object routes, and routes netstat must
/// not show (another table, a local route); IPv6 gateway, host, default,
/// unreachable, prohibit, blackhole and multipath routes. No link-local
/// addresses and no DAD: the links stay quiet.
fn populate_routes(ns: &Namespace) {
    ns.sh(&format!(
        "ip link add v0 type veth peer name v1 && ip link add {LONG_ROUTE_DEV} type veth peer name v3 \
         && for l in v0 v1 {LONG_ROUTE_DEV} v3; do ip link set $l addrgenmode none && ip link set $l up; done \
         && ip addr add 10.9.0.1/24 dev v0 && ip addr add 10.8.0.1/24 dev {LONG_ROUTE_DEV} \
         && ip addr add 2001:db8::1/64 dev v0 nodad \
         && ip link add {HOSTILE_DEV} type veth peer name q2 \
         && ip link set {HOSTILE_DEV} addrgenmode none && ip link set {HOSTILE_DEV} up \
         && ip route add 10.26.0.0/16 dev {HOSTILE_DEV} \
         && ip -6 route add 2001:db8:f::/64 dev {HOSTILE_DEV} \
         && ip route add default via 10.9.0.254 \
         && ip route add 10.20.0.0/16 via 10.9.0.2 metric 7 mtu 1400 advmss 1300 window 5000 rtt 40ms \
         && ip route add 10.21.0.5 via 10.9.0.3 \
         && ip route add 10.22.0.7/32 dev v0 \
         && ip route add 10.23.0.0/16 via 10.9.0.3 metric 20 \
         && ip route add 10.24.0.0/16 via 10.8.0.9 window 7000 \
         && ip route add unreachable 10.30.0.0/16 \
         && ip route add blackhole 10.31.0.0/16 \
         && ip route add prohibit 10.32.0.0/16 \
         && ip route add prohibit 10.34.0.9/32 metric 3 \
         && ip route add unreachable 10.35.0.0/16 advmss 1000 window 300 rtt 16ms \
         && ip route add throw 10.33.0.0/16 \
         && ip route add 10.40.0.0/16 via 10.200.0.1 dev v0 onlink \
         && ip route add 10.60.0.0/24 dev lo \
         && ip route add 127.0.0.0/8 via 10.9.0.9 metric 50 \
         && ip route add 10.90.0.0/16 nexthop via 10.9.0.5 dev v0 nexthop via 10.8.0.5 dev {LONG_ROUTE_DEV} \
         && ip nexthop add id 7 via 10.8.0.6 dev {LONG_ROUTE_DEV} && ip route add 10.91.0.0/16 nhid 7 \
         && ip nexthop add id 8 blackhole && ip route add 10.92.0.0/16 nhid 8 \
         && ip route add local 10.70.0.1 dev v0 table main \
         && ip route add 10.50.0.0/16 dev v0 table 100 \
         && ip -6 route add 2001:db8:5::/48 via 2001:db8::2 metric 5 \
         && ip -6 route add 2001:db8:d::1/128 dev v0 \
         && ip -6 route add default via 2001:db8::fe dev v0 \
         && ip -6 route add unreachable 2001:db8:9::/64 \
         && ip -6 route add prohibit 2001:db8:b::/64 \
         && ip -6 route add blackhole 2001:db8:a::/64 \
         && ip -6 route add 2001:db8:e::/64 dev {LONG_ROUTE_DEV} metric 33 \
         && ip -6 route add 2001:db8:77::/64 nexthop via 2001:db8::5 dev v0 nexthop via 2001:db8::6 dev v0 \
         && ip -6 route add 2001:db8:c::/64 dev v0 table 100 \
         && sleep 1"
    ));
}

/// One line of /proc/net/route.
struct KernelRoute {
    destination: Ipv4Addr,
    mask: Ipv4Addr,
    mtu: i128,
    window: i128,
    irtt: i128,
}

/// The kernel prints each `__be32` as a native-endian `%08X`.
fn proc_v4(hex: &str) -> Ipv4Addr {
    Ipv4Addr::from(u32::from_str_radix(hex, 16).unwrap().to_ne_bytes())
}

fn kernel_routes(ns: &Namespace) -> Vec<KernelRoute> {
    read_in(ns, "/proc/net/route")
        .expect("/proc/net/route")
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            KernelRoute {
                destination: proc_v4(f[1]),
                mask: proc_v4(f[7]),
                mtu: num(f[8]),
                window: num(f[9]),
                irtt: num(f[10]),
            }
        })
        .collect()
}

fn mask_len(mask: &str) -> i128 {
    i128::from(
        mask.parse::<Ipv4Addr>()
            .map(|m| u32::from(m).count_ones())
            .unwrap_or(99),
    )
}

/// The fields every route object has, with their JSON types.
fn route_shape(p: &mut Problems, at: &str, o: &Object, family: &str, numeric: bool) {
    p.eq(format!("{at} family"), string(o, "family"), family);
    p.eq(format!("{at} cache"), boolean(o, "cache"), false);
    for key in ["destination", "flags"] {
        let _ = string(o, key);
    }
    for key in ["gateway", "genmask", "iface"] {
        let _ = opt_str(o, key);
    }
    for key in ["prefix_len", "metric", "ref", "use"] {
        let _ = int(o, key);
    }
    for key in ["mss", "window", "irtt"] {
        let value = opt_int(o, key);
        if family == "inet6" {
            p.eq(format!("{at} {key} (IPv6)"), value, None);
        }
    }
    if numeric {
        p.check(
            !o.contains_key("destination_name") && !o.contains_key("gateway_name"),
            format!("{at}: names with -n: {}", show(o)),
        );
    }
}

/// `--json -rn` rows against `netstat -rnee` (every column, the device
/// cut to 6), `netstat -rn` (the whole device name) and /proc/net/route
/// (MSS, window and irtt, which netstat hides behind `-` on reject rows).
fn check_v4_numeric(
    rows: &[Object],
    wide: &[Vec<String>],
    plain: &[Vec<String>],
    kernel: &[KernelRoute],
) -> Result<(), String> {
    let mut p = Problems::default();
    p.eq("rows vs netstat -rnee", rows.len(), wide.len());
    p.eq("rows vs netstat -rn", rows.len(), plain.len());
    p.eq("rows vs /proc/net/route", rows.len(), kernel.len());
    for (i, o) in rows.iter().enumerate() {
        let (Some(e), Some(n), Some(k)) = (wide.get(i), plain.get(i), kernel.get(i)) else {
            break;
        };
        let at = format!("row {} ({})", i + 1, e.join(" "));
        route_shape(&mut p, &at, o, "inet", true);
        if e.len() != 11 || n.len() != 8 {
            p.0.push(format!("{at}: netstat row shape {e:?} / {n:?}"));
            continue;
        }
        let reject = e[3].contains('!');
        p.eq(format!("{at} destination"), string(o, "destination"), &e[0]);
        p.eq(format!("{at} genmask"), opt_str(o, "genmask"), Some(&e[2]));
        p.eq(
            format!("{at} prefix_len"),
            int(o, "prefix_len"),
            mask_len(&e[2]),
        );
        p.eq(format!("{at} flags"), string(o, "flags"), &e[3]);
        p.eq(format!("{at} metric"), int(o, "metric"), num(&e[4]));
        p.eq(format!("{at} use"), int(o, "use"), num(&e[6]));
        let gateway = opt_str(o, "gateway");
        let iface = opt_str(o, "iface");
        if reject {
            // netstat: `-` for gateway, Ref, device, MSS, window and irtt.
            p.eq(format!("{at} gateway (reject)"), gateway, None);
            p.eq(format!("{at} iface (reject)"), iface, None);
            p.eq(format!("{at} ref (reject)"), int(o, "ref"), 0);
            p.check(
                e[1] == "-" && e[5] == "-" && e[7..] == ["-", "-", "-", "-"],
                format!("{at}: netstat's reject row is not dashed"),
            );
        } else {
            p.eq(
                format!("{at} gateway"),
                gateway.unwrap_or("0.0.0.0"),
                e[1].as_str(),
            );
            p.check(
                gateway != Some("0.0.0.0"),
                format!("{at}: gateway 0.0.0.0 must be null"),
            );
            p.eq(format!("{at} ref"), int(o, "ref"), num(&e[5]));
            let short: String = iface.unwrap_or("*").chars().take(6).collect();
            p.eq(format!("{at} iface (-rnee)"), short.as_str(), e[7].as_str());
            p.eq(
                format!("{at} iface (-rn)"),
                iface.unwrap_or("*"),
                n[7].as_str(),
            );
            p.eq(format!("{at} mss"), opt_int(o, "mss"), Some(num(&e[8])));
            p.eq(
                format!("{at} window"),
                opt_int(o, "window"),
                Some(num(&e[9])),
            );
            p.eq(format!("{at} irtt"), opt_int(o, "irtt"), Some(num(&e[10])));
        }
        // The kernel's view, for every row (netstat reads the same file).
        p.eq(
            format!("{at} destination (/proc)"),
            string(o, "destination"),
            k.destination.to_string().as_str(),
        );
        p.eq(
            format!("{at} genmask (/proc)"),
            opt_str(o, "genmask"),
            Some(k.mask.to_string().as_str()),
        );
        p.eq(format!("{at} mss (/proc)"), opt_int(o, "mss"), Some(k.mtu));
        p.eq(
            format!("{at} window (/proc)"),
            opt_int(o, "window"),
            Some(k.window),
        );
        p.eq(
            format!("{at} irtt (/proc)"),
            opt_int(o, "irtt"),
            Some(k.irtt),
        );
    }
    p.result("--json -rn against netstat -rnee / -rn and /proc/net/route")
}

/// `--json -6rn` rows against `netstat -6rn`.
fn check_v6_numeric(rows: &[Object], theirs: &[Vec<String>]) -> Result<(), String> {
    let mut p = Problems::default();
    p.eq("rows vs netstat -6rn", rows.len(), theirs.len());
    for (i, (o, n)) in rows.iter().zip(theirs).enumerate() {
        let at = format!("row {} ({})", i + 1, n.join(" "));
        route_shape(&mut p, &at, o, "inet6", true);
        if n.len() != 7 {
            p.0.push(format!("{at}: netstat row shape {n:?}"));
            continue;
        }
        let destination = format!("{}/{}", string(o, "destination"), int(o, "prefix_len"));
        p.eq(
            format!("{at} destination/prefix_len"),
            destination,
            n[0].clone(),
        );
        let gateway = opt_str(o, "gateway");
        p.eq(
            format!("{at} gateway"),
            gateway.unwrap_or("::"),
            n[1].as_str(),
        );
        p.check(
            gateway != Some("::"),
            format!("{at}: gateway :: must be null"),
        );
        p.eq(format!("{at} genmask"), opt_str(o, "genmask"), None);
        p.eq(format!("{at} flags"), string(o, "flags"), n[2].as_str());
        p.eq(format!("{at} metric"), int(o, "metric"), num(&n[3]));
        p.eq(format!("{at} ref"), int(o, "ref"), num(&n[4]));
        p.eq(format!("{at} use"), int(o, "use"), num(&n[5]));
        p.eq(
            format!("{at} iface"),
            opt_str(o, "iface"),
            Some(n[6].as_str()),
        );
    }
    p.result("--json -6rn against netstat -6rn")
}

/// A name netstat cuts to 15 columns: equal when it fits, otherwise
/// netstat shows its first 15 characters and the resolver (`getent`,
/// inside the namespace) gives the whole name.
fn check_name(
    p: &mut Problems,
    ns: &Namespace,
    at: &str,
    name: &str,
    column: &str,
    getent: &[&str],
) {
    if name.chars().count() <= 15 {
        p.eq(at, name, column);
        return;
    }
    let head: String = name.chars().take(15).collect();
    p.eq(format!("{at} (first 15 characters)"), head.as_str(), column);
    let out = ns.run("getent", getent);
    let whole = text(&out.stdout);
    p.check(
        whole.split_whitespace().any(|w| w == name),
        format!("{at}: {name:?} is not what `getent {getent:?}` says: {whole:?}"),
    );
}

/// `--json -r` (names) rows against `netstat -r`.
fn check_v4_named(ns: &Namespace, rows: &[Object], theirs: &[Vec<String>]) -> Result<(), String> {
    let mut p = Problems::default();
    p.eq("rows vs netstat -r", rows.len(), theirs.len());
    for (i, (o, n)) in rows.iter().zip(theirs).enumerate() {
        let at = format!("row {} ({})", i + 1, n.join(" "));
        route_shape(&mut p, &at, o, "inet", false);
        if n.len() != 8 {
            p.0.push(format!("{at}: netstat row shape {n:?}"));
            continue;
        }
        let destination = string(o, "destination");
        let Some(name) = opt_str(o, "destination_name") else {
            p.0.push(format!("{at}: no destination_name: {}", show(o)));
            continue;
        };
        let lookup = if int(o, "prefix_len") == 32 {
            ["hosts", destination]
        } else {
            ["networks", destination]
        };
        check_name(
            &mut p,
            ns,
            &format!("{at} destination_name"),
            name,
            &n[0],
            &lookup,
        );
        match (opt_str(o, "gateway"), o.get("gateway_name")) {
            (Some(gateway), Some(Value::String(name))) => check_name(
                &mut p,
                ns,
                &format!("{at} gateway_name"),
                name,
                &n[1],
                &["hosts", gateway],
            ),
            (None, None) => p.check(
                n[1] == "0.0.0.0" || n[1] == "-",
                format!("{at}: no gateway in JSON, netstat shows {}", n[1]),
            ),
            (gateway, name) => p.0.push(format!(
                "{at}: gateway {gateway:?} with gateway_name {name:?}"
            )),
        }
        p.eq(format!("{at} flags"), string(o, "flags"), n[3].as_str());
        let iface = opt_str(o, "iface").unwrap_or(if n[3].contains('!') { "-" } else { "*" });
        p.eq(format!("{at} iface"), iface, n[7].as_str());
    }
    p.result("--json -r against netstat -r")
}

/// `--json -6r` rows against `netstat -6r`.
fn check_v6_named(rows: &[Object], theirs: &[Vec<String>]) -> Result<(), String> {
    let mut p = Problems::default();
    p.eq("rows vs netstat -6r", rows.len(), theirs.len());
    for (i, (o, n)) in rows.iter().zip(theirs).enumerate() {
        let at = format!("row {} ({})", i + 1, n.join(" "));
        route_shape(&mut p, &at, o, "inet6", false);
        if n.len() != 7 {
            p.0.push(format!("{at}: netstat row shape {n:?}"));
            continue;
        }
        let name = opt_str(o, "destination_name").unwrap_or("<none>");
        p.eq(
            format!("{at} destination_name/prefix_len"),
            format!("{name}/{}", int(o, "prefix_len")),
            n[0].clone(),
        );
        let hop = match (opt_str(o, "gateway"), o.get("gateway_name")) {
            (Some(_), Some(Value::String(name))) => name.as_str(),
            (None, None) => "[::]",
            _ => "<gateway and gateway_name disagree>",
        };
        p.eq(format!("{at} gateway_name"), hop, n[1].as_str());
        p.eq(format!("{at} flags"), string(o, "flags"), n[2].as_str());
        p.eq(
            format!("{at} iface"),
            opt_str(o, "iface"),
            Some(n[6].as_str()),
        );
    }
    p.result("--json -6r against netstat -6r")
}

#[test]
fn json_routes_match_netstat_numeric() {
    let Some(ns) = Namespace::create("jsonroutes") else {
        return;
    };
    populate_routes(&ns);
    // The setup gives what the comparison is meant to cover (netstat's
    // view, not nlstat's).
    let shown = text(&ns.run(NETSTAT, &["-rnee"]).stdout);
    for needle in [
        "UG    7      0        0 v0       1340  5000   40",
        "10.34.0.9       -               255.255.255.255 !H    3      -        0 -",
        "10.31.0.0       0.0.0.0         255.255.0.0     U     0      0        0 *",
        "UGH",
        "veth-r ",
    ] {
        assert!(shown.contains(needle), "setup lacks {needle:?}:\n{shown}");
    }
    let kernel = kernel_routes(&ns);
    assert!(
        kernel.iter().any(|k| k.mtu == 1040 && k.window == 300),
        "the reject route's metrics are not in /proc/net/route"
    );
    // IPv4: no counters involved, nothing moves.
    let rows = objects_ok(&nl_json(&ns, &["-rn"]), "route", "--json -rn");
    check_v4_numeric(
        &rows,
        &netstat_rows(&ns, &["-rnee"], "Destination"),
        &netstat_rows(&ns, &["-rn"], "Destination"),
        &kernel,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        rows.iter()
            .any(|o| opt_str(o, "iface") == Some(HOSTILE_NAME)),
        "no route on {HOSTILE_NAME}"
    );
    // The other -e levels print the same objects.
    for args in [&["-rne"][..], &["-rnee"], &["-rnv"], &["-rnW"], &["-rnF"]] {
        let other = objects_ok(&nl_json(&ns, args), "route", &format!("{args:?}"));
        assert_eq!(other, rows, "--json {args:?} differs from --json -rn");
    }
    // IPv6: the Ref column is the kernel's reference count on each FIB
    // entry, which a neighbour or socket can take for a moment: retried.
    with_retries(
        "--json -6rn",
        || netstat_state(&ns, &["-6rn"]),
        || {
            let rows = objects_ok(&nl_json(&ns, &["-6rn"]), "route", "--json -6rn");
            check_v6_numeric(&rows, &netstat_rows(&ns, &["-6rn"], "Destination"))
        },
    );
    let v6 = text(&ns.run(NETSTAT, &["-6rn"]).stdout);
    assert!(
        v6.contains("2001:db8:5::/48                2001:db8::2                UG   5")
            && v6.contains("2001:db8:9::/64                ::                         !n"),
        "IPv6 setup:\n{v6}"
    );
    // Both families in one run: IPv4 objects then IPv6 objects, and no
    // routing cache rows (netstat's -C tables are empty here).
    with_retries(
        "--json -rn -4 -6",
        || netstat_state(&ns, &["-6rn"]),
        || {
            let both = objects_ok(&nl_json(&ns, &["-rn", "-4", "-6"]), "route", "-rn -4 -6");
            let v4: Vec<Object> = both
                .iter()
                .filter(|o| o.get("family").and_then(Value::as_str) == Some("inet"))
                .cloned()
                .collect();
            let mut p = Problems::default();
            p.eq("IPv4 objects of -rn -4 -6", v4.len(), rows.len());
            p.check(
                both[..v4.len()] == v4[..],
                "-rn -4 -6: IPv4 objects do not come first",
            );
            p.result("-rn -4 -6")?;
            check_v6_numeric(
                &both[v4.len()..],
                &netstat_rows(&ns, &["-6rn"], "Destination"),
            )
        },
    );
    // The routing caches. A kernel since 3.6 (IPv4) and 4.15 (IPv6 route
    // exceptions) shows none in /proc: rt_cache is its header alone and no
    // ipv6_route line carries RTF_CACHE (0x01000000). Zero rows is then
    // the truth, told by /proc and by netstat, which prints the header.
    let rt_cache = read_in(&ns, "/proc/net/rt_cache").expect("/proc/net/rt_cache");
    assert_eq!(
        rt_cache.lines().count(),
        1,
        "IPv4 cache entries:\n{rt_cache}"
    );
    let v6_routes = read_in(&ns, "/proc/net/ipv6_route").expect("/proc/net/ipv6_route");
    assert!(!v6_routes.is_empty(), "the namespace has IPv6 routes");
    let cached = v6_routes
        .lines()
        .filter(|l| {
            let flags = l.split_whitespace().nth(8).expect("ipv6_route flags");
            u32::from_str_radix(flags, 16).unwrap() & 0x0100_0000 != 0
        })
        .count();
    assert_eq!(cached, 0, "IPv6 cache entries:\n{v6_routes}");
    for (args, title, header) in [
        (&["-rnC"][..], "Kernel IP routing cache", "Source"),
        (&["-6rnC"], "Kernel IPv6 routing cache", "Destination"),
    ] {
        let out = ns.run(NETSTAT, args);
        assert!(
            text(&out.stdout).starts_with(&format!("{title}\n{header} ")),
            "{args:?}: netstat's cache table:\n{}",
            text(&out.stdout)
        );
        let theirs = netstat_rows(&ns, args, header);
        assert_eq!(theirs.len(), 0, "{args:?}: netstat's cache rows");
        let ours = objects_ok(&nl_json(&ns, args), "route", &format!("{args:?}"));
        assert_eq!(ours.len(), 0, "{args:?}: cache rows");
    }
}

#[test]
fn json_routes_match_netstat_with_names() {
    let Some(ns) = Namespace::create_with_etc(
        "jsonroutenames",
        &[
            ("resolv.conf", QUICK_RESOLVER),
            ("hosts", ROUTE_HOSTS),
            ("networks", ROUTE_NETWORKS),
        ],
    ) else {
        return;
    };
    populate_routes(&ns);
    let shown = text(&ns.run(NETSTAT, &["-r"]).stdout);
    for needle in [
        "default         gw-router",
        "testnet",
        "host-twenty-one",
        "a-rather-long-n a-very-long-gat",
        "h22",
    ] {
        assert!(shown.contains(needle), "setup lacks {needle:?}:\n{shown}");
    }
    let rows = objects_ok(&nl_json(&ns, &["-r"]), "route", "--json -r");
    check_v4_named(&ns, &rows, &netstat_rows(&ns, &["-r"], "Destination"))
        .unwrap_or_else(|e| panic!("{e}"));
    // The numeric fields do not change with names.
    let numeric = objects_ok(&nl_json(&ns, &["-rn"]), "route", "--json -rn");
    let strip = |o: &Object| {
        let mut o = o.clone();
        o.remove("destination_name");
        o.remove("gateway_name");
        o
    };
    assert_eq!(
        rows.iter().map(strip).collect::<Vec<_>>(),
        numeric,
        "-r and -rn differ beyond the name fields"
    );
    let shown6 = text(&ns.run(NETSTAT, &["-6r"]).stdout);
    assert!(
        shown6.contains("six-gw") && shown6.contains("six-host/128"),
        "{shown6}"
    );
    // Ref counts may move for a moment (see the numeric test): retried.
    with_retries(
        "--json -6r",
        || netstat_state(&ns, &["-6r"]),
        || {
            let rows = objects_ok(&nl_json(&ns, &["-6r"]), "route", "--json -6r");
            check_v6_named(&rows, &netstat_rows(&ns, &["-6r"], "Destination"))
        },
    );
}

/// Families netstat has no routing table for: its stdout message moves to
/// stderr, stdout stays empty, the exit status is netstat's.
#[test]
fn json_routes_of_other_families() {
    let Some(ns) = Namespace::create("jsonroutesaf") else {
        return;
    };
    populate_routes(&ns);
    let mut failures = Vec::new();
    for af in [
        "ipx",
        "ax25",
        "netrom",
        "x25",
        "rose",
        "bluetooth",
        "inet,ipx",
    ] {
        let args = ["-rn", "-A", af];
        let theirs = ns.run(NETSTAT, &args);
        let ours = nl_json(&ns, &args);
        let mut p = Problems::default();
        p.eq("exit status", ours.status.code(), theirs.status.code());
        p.check(theirs.status.code() != Some(0), "netstat succeeded?");
        let err = text(&ours.stderr);
        let their_out = text(&theirs.stdout);
        // Every line netstat wrote but its IPv4 table: its stderr, and its
        // stdout message (after the table with inet,ipx).
        let table = if af.starts_with("inet,") {
            table_rows(&their_out, "Destination")
        } else {
            Vec::new()
        };
        // (With a table: its title, header and rows are skipped; the
        // complaint is the line table_rows took for a last row.)
        let mut wanted: Vec<String> = their_out
            .lines()
            .filter(|l| !l.is_empty())
            .skip(if table.is_empty() { 0 } else { table.len() + 1 })
            .map(str::to_string)
            .collect();
        wanted.extend(text(&theirs.stderr).lines().map(str::to_string));
        p.check(!wanted.is_empty(), "netstat said nothing?");
        for line in &wanted {
            p.check(
                err.lines().any(|l| l == line),
                format!("stderr lacks netstat's line {line:?}: {err:?}"),
            );
        }
        let rows = objects(&ours, "route", &format!("{args:?}"));
        if table.is_empty() {
            p.eq("stdout", text(&ours.stdout), String::new());
        } else {
            // The IPv4 table, then the IPX complaint (netstat prints it as
            // the table's last line on stdout).
            p.check(
                table.last().is_some_and(|r| r[0] == "IPX"),
                format!("netstat's last line is not IPX's: {their_out}"),
            );
            p.eq("IPv4 rows", rows.len(), table.len() - 1);
            p.check(
                rows.iter().all(|o| string(o, "family") == "inet"),
                "rows of another family",
            );
        }
        if let Err(e) = p.result(&format!("--json {args:?}")) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn json_routes_continuous() {
    let Some(ns) = Namespace::create("jsonroutesc") else {
        return;
    };
    populate_routes(&ns);
    let stdout = run_killed(&ns, &["-rn"], 2.5);
    let wide = netstat_rows(&ns, &["-rnee"], "Destination");
    let plain = netstat_rows(&ns, &["-rn"], "Destination");
    let kernel = kernel_routes(&ns);
    let once = objects_ok(&nl_json(&ns, &["-rn"]), "route", "--json -rn");
    check_ticks(&stdout, "route", "--json -c -rn", wide.len(), |rows| {
        check_v4_numeric(rows, &wide, &plain, &kernel)?;
        (rows == once.as_slice())
            .then_some(())
            .ok_or_else(|| "rows differ from a one-shot --json -rn".to_string())
    });
}

// ---------------------------------------------------------------------
// -i
// ---------------------------------------------------------------------

/// A device name of the kernel's maximum length: netstat's /proc/net/dev
/// parser fails on it and prints zeros (a netstat bug nlstat does not
/// copy), so its counters are checked against /proc/net/dev.
const LONG_NAME: &str = "abcdefghijklmno";

/// /proc/net/dev: device → its 16 counters.
fn proc_dev(ns: &Namespace) -> BTreeMap<String, Vec<i128>> {
    read_in(ns, "/proc/net/dev")
        .expect("/proc/net/dev")
        .lines()
        .skip(2)
        .map(|line| {
            let (name, counters) = line.split_once(':').expect("a /proc/net/dev row");
            let counters: Vec<i128> = counters.split_whitespace().map(num).collect();
            assert_eq!(counters.len(), 16, "{line}");
            (name.trim().to_string(), counters)
        })
        .collect()
}

/// ifindex of every device, from `ip -o link`.
fn link_indexes(ns: &Namespace) -> BTreeMap<String, i128> {
    text(&ns.sh("ip -o link show").stdout)
        .lines()
        .map(|line| {
            let mut parts = line.splitn(3, ": ");
            let index = num(parts.next().unwrap());
            let name = parts.next().unwrap();
            let name = name.split('@').next().unwrap();
            (name.to_string(), index)
        })
        .collect()
}

/// The short-table counters: JSON key, /proc/net/dev column.
const SHORT_COUNTERS: [(&str, usize); 8] = [
    ("rx_ok", 1),
    ("rx_err", 2),
    ("rx_drp", 3),
    ("rx_ovr", 4),
    ("tx_ok", 9),
    ("tx_err", 10),
    ("tx_drp", 11),
    ("tx_ovr", 12),
];

/// The `-e` counters: JSON key, /proc/net/dev column.
const LONG_COUNTERS: [(&str, usize); 7] = [
    ("rx_bytes", 0),
    ("rx_frame", 5),
    ("rx_compressed", 6),
    ("tx_bytes", 8),
    ("tx_carrier", 14),
    ("tx_collisions", 13),
    ("tx_compressed", 15),
];

fn base_name(iface: &str) -> &str {
    iface.split(':').next().unwrap()
}

/// Each object's counters against /proc/net/dev; alias labels (no
/// counters) must have every counter null.
fn check_counters_against_dev(
    p: &mut Problems,
    at: &str,
    o: &Object,
    dev: &BTreeMap<String, Vec<i128>>,
    long: bool,
) {
    let iface = string(o, "iface");
    let keys: Vec<(&str, usize)> = SHORT_COUNTERS
        .iter()
        .chain(if long { &LONG_COUNTERS[..] } else { &[] })
        .copied()
        .collect();
    match dev.get(iface) {
        Some(columns) => {
            for (key, column) in keys {
                p.eq(
                    format!("{at} {key} (/proc/net/dev)"),
                    opt_int(o, key),
                    Some(columns[column]),
                );
            }
        }
        None => {
            p.check(
                iface.contains(':'),
                format!("{at}: {iface} is neither in /proc/net/dev nor an alias label"),
            );
            for (key, _) in keys {
                p.eq(format!("{at} {key} (alias label)"), opt_int(o, key), None);
            }
        }
    }
}

/// `--json ARGS` (short table) against `netstat ARGS` and /proc/net/dev.
fn check_short_table(
    ns: &Namespace,
    json: &[Object],
    netstat: &[Vec<String>],
) -> Result<(), String> {
    let dev = proc_dev(ns);
    let indexes = link_indexes(ns);
    let mut p = Problems::default();
    p.eq("rows vs netstat", json.len(), netstat.len());
    for (i, (o, n)) in json.iter().zip(netstat).enumerate() {
        let line = n.join(" ");
        let at = format!("row {} ({line})", i + 1);
        let iface = string(o, "iface");
        p.eq(format!("{at} iface"), iface, n[0].as_str());
        p.eq(format!("{at} mtu"), int(o, "mtu"), num(&n[1]));
        p.eq(
            format!("{at} index"),
            Some(int(o, "index")),
            indexes.get(base_name(iface)).copied(),
        );
        let flags = string(o, "flags");
        if line.contains("- no statistics available -") {
            for (key, _) in SHORT_COUNTERS {
                p.eq(format!("{at} {key}"), opt_int(o, key), None);
            }
            p.eq(
                format!("{at} flags"),
                flags,
                line.rsplit("- no statistics available - ")
                    .next()
                    .unwrap_or(""),
            );
        } else {
            p.eq(format!("{at} flags"), flags, n[10..].join(" ").as_str());
            if iface != LONG_NAME {
                for (j, (key, _)) in SHORT_COUNTERS.iter().enumerate() {
                    p.eq(format!("{at} {key}"), opt_int(o, key), Some(num(&n[2 + j])));
                }
            }
        }
        check_counters_against_dev(&mut p, &at, o, &dev, false);
    }
    p.result("short interface table")
}

/// One ifconfig-style block of `netstat -ie`, as facts.
#[derive(Debug, Default)]
struct Block {
    name: String,
    flag_words: Vec<String>,
    mtu: i128,
    inet: Option<BTreeMap<String, String>>,
    inet6: BTreeSet<(String, i128, String)>,
    hw_type: String,
    hwaddr: Option<String>,
    txqueuelen: Option<i128>,
    /// `rx_packets`, `tx_errors`, ... as netstat words them.
    counters: BTreeMap<String, i128>,
}

fn parse_blocks(stdout: &str) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    for line in stdout.lines().skip(1) {
        if line.is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            let (name, rest) = line.split_once(": flags=").expect("block header");
            let words = rest
                .split_once('<')
                .and_then(|(_, w)| w.split_once('>'))
                .map(|(w, _)| w)
                .unwrap_or("");
            let mtu = rest.rsplit("mtu ").next().unwrap();
            blocks.push(Block {
                name: name.to_string(),
                flag_words: words
                    .split(',')
                    .filter(|w| !w.is_empty())
                    .map(str::to_string)
                    .collect(),
                mtu: num(mtu.trim()),
                ..Block::default()
            });
            continue;
        }
        let block = blocks.last_mut().expect("a line before any block");
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[0] {
            "inet" => {
                let mut facts = BTreeMap::new();
                facts.insert("inet".to_string(), words[1].to_string());
                for pair in words[2..].chunks(2) {
                    facts.insert(pair[0].to_string(), pair[1].to_string());
                }
                block.inet = Some(facts);
            }
            "inet6" => {
                // inet6 ADDR  prefixlen N  scopeid 0xS<words>
                block
                    .inet6
                    .insert((words[1].to_string(), num(words[3]), words[5].to_string()));
            }
            "RX" | "TX" => {
                let side = words[0].to_lowercase();
                for pair in words[1..].chunks(2) {
                    if let [key, value] = pair
                        && let Ok(value) = value.parse::<i128>()
                    {
                        block.counters.insert(format!("{side}_{key}"), value);
                    }
                }
            }
            "device" | "media" => {}
            _ => {
                block.hw_type = words[0].to_string();
                if words[0] == "ether" {
                    block.hwaddr = Some(words[1].to_string());
                }
                if let Some(at) = words.iter().position(|w| *w == "txqueuelen") {
                    block.txqueuelen = Some(num(words[at + 1]));
                }
            }
        }
    }
    blocks
}

/// JSON key → netstat's word for it in the RX/TX lines.
const BLOCK_COUNTERS: [(&str, &str); 13] = [
    ("rx_ok", "rx_packets"),
    ("rx_bytes", "rx_bytes"),
    ("rx_err", "rx_errors"),
    ("rx_drp", "rx_dropped"),
    ("rx_ovr", "rx_overruns"),
    ("rx_frame", "rx_frame"),
    ("tx_ok", "tx_packets"),
    ("tx_bytes", "tx_bytes"),
    ("tx_err", "tx_errors"),
    ("tx_drp", "tx_dropped"),
    ("tx_ovr", "tx_overruns"),
    ("tx_carrier", "tx_carrier"),
    ("tx_collisions", "tx_collisions"),
];

/// `--json -ie` objects against `netstat -ie` blocks and /proc/net/dev.
fn check_long_table(ns: &Namespace, json: &[Object], stdout: &str) -> Result<(), String> {
    let blocks = parse_blocks(stdout);
    let dev = proc_dev(ns);
    let mut p = Problems::default();
    p.eq("interfaces vs netstat", json.len(), blocks.len());
    for (i, (o, b)) in json.iter().zip(&blocks).enumerate() {
        let at = format!("interface {} ({})", i + 1, b.name);
        let iface = string(o, "iface");
        p.eq(format!("{at} iface"), iface, b.name.as_str());
        p.eq(format!("{at} mtu"), int(o, "mtu"), b.mtu);
        let words: Vec<String> = o
            .get("flag_words")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|w| w.as_str().unwrap().to_string()).collect())
            .unwrap_or_else(|| vec!["<flag_words is not an array>".into()]);
        p.eq(format!("{at} flag_words"), &words, &b.flag_words);
        let inet = b.inet.as_ref();
        let fact = |key: &str| inet.and_then(|f| f.get(key)).map(String::as_str);
        p.eq(
            format!("{at} inet_addr"),
            opt_str(o, "inet_addr"),
            fact("inet"),
        );
        p.eq(
            format!("{at} netmask"),
            opt_str(o, "netmask"),
            fact("netmask"),
        );
        p.eq(
            format!("{at} broadcast"),
            opt_str(o, "broadcast"),
            fact("broadcast"),
        );
        p.eq(
            format!("{at} destination"),
            opt_str(o, "destination"),
            fact("destination"),
        );
        let inet6: BTreeSet<(String, i128, String)> = o
            .get("inet6")
            .and_then(Value::as_array)
            .expect("inet6 array")
            .iter()
            .map(|a| {
                let a = a.as_object().expect("inet6 entry object");
                let scope = string(a, "scope");
                let id = int(a, "scope_id");
                let scope = if scope.is_empty() {
                    format!("0x{id:x}")
                } else {
                    format!("0x{id:x}<{scope}>")
                };
                (string(a, "addr").to_string(), int(a, "prefix_len"), scope)
            })
            .collect();
        p.eq(format!("{at} inet6"), &inet6, &b.inet6);
        p.eq(
            format!("{at} hw_type"),
            string(o, "hw_type"),
            b.hw_type.as_str(),
        );
        p.eq(
            format!("{at} hwaddr"),
            opt_str(o, "hwaddr"),
            b.hwaddr.as_deref(),
        );
        p.eq(
            format!("{at} txqueuelen"),
            opt_int(o, "txqueuelen"),
            b.txqueuelen,
        );
        if b.counters.is_empty() {
            // An alias label's block has no RX/TX lines.
            for (key, _) in BLOCK_COUNTERS {
                p.eq(format!("{at} {key} (no counters)"), opt_int(o, key), None);
            }
        } else if iface != LONG_NAME {
            for (key, word) in BLOCK_COUNTERS {
                p.eq(
                    format!("{at} {key}"),
                    opt_int(o, key),
                    b.counters.get(word).copied(),
                );
            }
        }
        check_counters_against_dev(&mut p, &at, o, &dev, true);
    }
    p.result("interface blocks")
}

/// veth pairs (one end in a second namespace), an end that is down with
/// MTU 9000, a 15-character name, an alias label, a point-to-point tun
/// device; then bounded UDP traffic and a wait until nothing moves.
fn populate_interfaces(ns: &Namespace, peer: &Namespace) {
    ns.sh(QUIET);
    peer.sh(QUIET);
    ns.sh(&format!(
        "ip link add veth-a type veth peer name veth-b netns {peer} && \
         ip link set veth-a mtu 1400 up && \
         ip addr add 10.77.0.1/24 brd + dev veth-a && \
         ip addr add 10.77.0.9/24 brd + dev veth-a label veth-a:1 && \
         ip addr add fd77::1/64 dev veth-a nodad && \
         ip addr add fd77::11/80 dev veth-a nodad && \
         ip link add down-end mtu 9000 type veth peer name up-end && \
         ip link set up-end up && \
         ip link add {LONG_NAME} type veth peer name short0 && \
         ip link set {LONG_NAME} mtu 1280 up && \
         ip link set short0 up && \
         ip addr add 10.78.0.1/30 dev short0 && \
         ip tuntap add tn0 mode tun && \
         ip addr add 10.88.0.1 peer 10.88.0.2 dev tn0 && ip link set tn0 up && \
         ip link add {HOSTILE_DEV} mtu 1450 type veth peer name q2 && \
         ip link set {HOSTILE_DEV} up && ip link set q2 up && \
         ip addr add 10.79.0.1/24 dev {HOSTILE_DEV}",
        peer = peer.name
    ));
    peer.sh("ip link set veth-b mtu 1400 up && \
         ip addr add 10.77.0.2/24 dev veth-b && \
         ip addr add fd77::2/64 dev veth-b nodad");
    udp_burst(ns, "10.77.0.2", 300, 1000);
    udp_burst(ns, "fd77::2", 20, 200);
    udp_burst(ns, "127.0.0.1", 3, 100);
    // ARP for 10.78.0.2 arrives on the 15-character device.
    udp_burst(ns, "10.78.0.2", 3, 100);
    wait_quiet(ns);
}

#[test]
fn json_interfaces_match_netstat_and_proc() {
    let Some(ns) = Namespace::create("jsonif") else {
        return;
    };
    let Some(peer) = Namespace::create("jsonifpeer") else {
        return;
    };
    populate_interfaces(&ns, &peer);
    // The setup shows what it is for, in the kernel's and netstat's view.
    let dev = proc_dev(&ns);
    assert!(dev["veth-a"][9] >= 300, "no traffic on veth-a: {dev:?}");
    assert!(dev[LONG_NAME][1] > 0, "no traffic on {LONG_NAME}: {dev:?}");
    let ia = text(&ns.run(NETSTAT, &["-ia"]).stdout);
    for needle in [
        "veth-a:1",
        "- no statistics available -",
        "down-end         9000",
    ] {
        assert!(ia.contains(needle), "setup lacks {needle:?}:\n{ia}");
    }
    // Counters are compared while nothing moves; a late IPv6 multicast
    // report or neighbour probe could still move one between the two
    // reads, hence the retries.
    for args in [&["-ia"][..], &["-i"], &["-ian"], &["-iaW"]] {
        with_retries(
            &format!("--json {args:?}"),
            || netstat_state(&ns, args),
            || {
                let theirs = netstat_rows(&ns, args, "Iface");
                let ours = objects_ok(&nl_json(&ns, args), "interface", &format!("{args:?}"));
                check_short_table(&ns, &ours, &theirs)
            },
        );
    }
    // -i leaves out the device that is down; -ia lists every device of
    // /proc/net/dev (alias labels besides).
    let short = objects_ok(&nl_json(&ns, &["-i"]), "interface", "-i");
    assert!(!short.iter().any(|o| string(o, "iface") == "down-end"));
    let all = objects_ok(&nl_json(&ns, &["-ia"]), "interface", "-ia");
    let with_counters: BTreeSet<&str> = all
        .iter()
        .filter(|o| opt_int(o, "rx_ok").is_some())
        .map(|o| string(o, "iface"))
        .collect();
    let devices: BTreeSet<&str> = dev.keys().map(String::as_str).collect();
    assert_eq!(with_counters, devices, "devices with counters in -ia");
    // -ie / -iae: every fact of netstat's blocks, bytes from /proc/net/dev.
    for args in [&["-ie"][..], &["-iae"], &["-ieW"]] {
        with_retries(
            &format!("--json {args:?}"),
            || netstat_state(&ns, args),
            || {
                let theirs = ns.run(NETSTAT, args);
                let ours = objects_ok(&nl_json(&ns, args), "interface", &format!("{args:?}"));
                check_long_table(&ns, &ours, &text(&theirs.stdout))
            },
        );
    }
    let long = objects_ok(&nl_json(&ns, &["-iae"]), "interface", "-iae");
    let find = |name: &str| {
        long.iter()
            .find(|o| string(o, "iface") == name)
            .unwrap_or_else(|| panic!("{name} missing from -iae"))
    };
    // The setup's facts made it into the table (addresses from `ip`).
    assert_eq!(opt_str(find("veth-a:1"), "inet_addr"), Some("10.77.0.9"));
    assert_eq!(opt_str(find("tn0"), "destination"), Some("10.88.0.2"));
    assert_eq!(opt_str(find(HOSTILE_NAME), "inet_addr"), Some("10.79.0.1"));
    assert_eq!(int(find(HOSTILE_NAME), "mtu"), 1450);
    assert_eq!(opt_str(find("veth-a"), "broadcast"), Some("10.77.0.255"));
    let inet6: BTreeSet<(String, i128)> = find("veth-a")["inet6"]
        .as_array()
        .expect("inet6 array")
        .iter()
        .filter_map(Value::as_object)
        .filter(|a| string(a, "scope") == "global")
        .map(|a| (string(a, "addr").to_string(), int(a, "prefix_len")))
        .collect();
    assert_eq!(
        inet6,
        BTreeSet::from([("fd77::1".to_string(), 64), ("fd77::11".to_string(), 80)]),
        "the global IPv6 addresses of veth-a"
    );
}

#[test]
fn json_interfaces_continuous() {
    let Some(ns) = Namespace::create("jsonifc") else {
        return;
    };
    ns.sh(QUIET);
    ns.sh("ip link add c0 type veth peer name c1 && \
         for l in c0 c1; do ip link set $l addrgenmode none && ip link set $l up; done && \
         ip addr add 10.5.0.1/24 dev c0 label c0:2");
    udp_burst(&ns, "127.0.0.1", 3, 100);
    wait_quiet(&ns);
    let theirs = netstat_rows(&ns, &["-i"], "Iface");
    let stdout = run_killed(&ns, &["-i"], 2.5);
    check_ticks(&stdout, "interface", "--json -c -i", theirs.len(), |rows| {
        check_short_table(&ns, rows, &theirs)
    });
}

// ---------------------------------------------------------------------
// -s
// ---------------------------------------------------------------------

type Counter = (String, String, i128);

/// /proc/net/snmp and /proc/net/netstat: a line of keys and a line of
/// values per section.
fn pair_counters(file: &str) -> Vec<Counter> {
    let lines: Vec<&str> = file.lines().filter(|l| !l.is_empty()).collect();
    let mut counters = Vec::new();
    for pair in lines.chunks(2) {
        let (section, keys) = pair[0].split_once(':').expect("a keys line");
        let (same, values) = pair[1].split_once(':').expect("a values line");
        assert_eq!(section, same);
        let keys: Vec<&str> = keys.split_whitespace().collect();
        let values: Vec<&str> = values.split_whitespace().collect();
        assert_eq!(keys.len(), values.len(), "section {section}");
        for (key, value) in keys.iter().zip(values) {
            counters.push((section.to_string(), key.to_string(), num(value)));
        }
    }
    counters
}

/// /proc/net/snmp6 (`section` = the key up to its first `6`) or
/// /proc/net/sctp/snmp (`section` = `Sctp`).
fn key_value_counters(file: &str, fixed_section: Option<&str>) -> Vec<Counter> {
    file.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(words.len(), 2, "{line:?}");
            let key = words[0];
            let section = match fixed_section {
                Some(s) => s.to_string(),
                None => match key.find('6') {
                    Some(six) => key[..=six].to_string(),
                    None => key.to_string(),
                },
            };
            (section, key.to_string(), num(words[1]))
        })
        .collect()
}

/// The counters a selection shows (doc/json.md: `-t` Tcp* and MPTcp*, `-u`
/// Udp*, `-U` UdpLite*, `-w` Ip* and Icmp*, `-S` Sctp; a section of no
/// known protocol always; no letter: everything).
fn selected(counters: &[Counter], letters: &str) -> Vec<Counter> {
    counters
        .iter()
        .filter(|(section, _, _)| {
            if letters.is_empty() {
                return true;
            }
            let letter = if section.starts_with("Tcp") || section.starts_with("MPTcp") {
                't'
            } else if section.starts_with("UdpLite") {
                'U'
            } else if section.starts_with("Udp") {
                'u'
            } else if section.starts_with("Sctp") {
                'S'
            } else if section.starts_with("Ip") || section.starts_with("Icmp") {
                'w'
            } else {
                return true;
            };
            letters.contains(letter)
        })
        .cloned()
        .collect()
}

fn json_counters(rows: &[Object]) -> Vec<Counter> {
    rows.iter()
        .map(|o| {
            let value = o
                .get("value")
                .and_then(as_int)
                .unwrap_or_else(|| panic!("value is not an integer: {}", show(o)));
            (
                string(o, "section").to_string(),
                string(o, "name").to_string(),
                value,
            )
        })
        .collect()
}

/// The same counters, each once: missing, extra and different ones named.
fn compare_counters(what: &str, json: &[Counter], expected: &[Counter]) -> Result<(), String> {
    let mut p = Problems::default();
    p.eq("number of counters", json.len(), expected.len());
    let as_map = |list: &[Counter]| -> BTreeMap<(String, String), i128> {
        list.iter()
            .map(|(s, n, v)| ((s.clone(), n.clone()), *v))
            .collect()
    };
    let (ours, theirs) = (as_map(json), as_map(expected));
    p.eq("distinct counters in JSON", ours.len(), json.len());
    for (key, value) in &theirs {
        match ours.get(key) {
            None => p.0.push(format!("missing {key:?} = {value}")),
            Some(v) => p.eq(format!("{key:?}"), v, value),
        }
    }
    for key in ours.keys().filter(|k| !theirs.contains_key(*k)) {
        p.0.push(format!("extra {key:?} = {}", ours[key]));
    }
    p.result(what)
}

/// All counters of the namespace's IPv4 statistics files (sctp when it
/// exists), and of its IPv6 ones (snmp6 and snmp's Tcp).
fn live_counters(ns: &Namespace) -> (Vec<Counter>, Vec<Counter>) {
    let snmp = pair_counters(&read_in(ns, "/proc/net/snmp").expect("/proc/net/snmp"));
    let mut v4 = snmp.clone();
    v4.extend(pair_counters(
        &read_in(ns, "/proc/net/netstat").expect("/proc/net/netstat"),
    ));
    if let Some(sctp) = read_in(ns, "/proc/net/sctp/snmp") {
        v4.extend(key_value_counters(&sctp, Some("Sctp")));
    }
    let mut v6 = key_value_counters(
        &read_in(ns, "/proc/net/snmp6").expect("/proc/net/snmp6"),
        None,
    );
    v6.extend(snmp.into_iter().filter(|(s, _, _)| s == "Tcp"));
    (v4, v6)
}

fn section_names(counters: &[Counter]) -> BTreeSet<&str> {
    counters.iter().map(|(s, _, _)| s.as_str()).collect()
}

#[test]
fn json_statistics_match_proc_files() {
    let Some(ns) = Namespace::create("jsonstats") else {
        return;
    };
    let traffic = ns.run("python3", &["-c", crate::statistics::TRAFFIC]);
    assert!(
        traffic.status.success(),
        "traffic: {}",
        text(&traffic.stderr)
    );
    let (v4, _) = live_counters(&ns);
    let get = |section: &str, name: &str| {
        v4.iter()
            .find(|(s, n, _)| s == section && n == name)
            .map(|c| c.2)
    };
    assert_eq!(get("Tcp", "ActiveOpens"), Some(2), "traffic did not show");
    assert_eq!(get("Tcp", "MaxConn"), Some(-1), "a negative counter");
    assert!(get("Udp", "NoPorts") >= Some(1));
    let cases: &[(&[&str], &str, bool)] = &[
        (&["-s"], "", false),
        (&["--statistics"], "", false),
        (&["-st"], "t", false),
        (&["-su"], "u", false),
        (&["-sw"], "w", false),
        (&["-sU"], "U", false),
        (&["-stu"], "tu", false),
        (&["-s", "-6"], "", true),
        (&["-s6t"], "t", true),
        (&["-s6u"], "u", true),
        (&["-s6U"], "U", true),
        (&["-s6w"], "w", true),
        (&["-s", "--inet6", "-n"], "", true),
    ];
    for (args, letters, six) in cases {
        // The namespace is idle, so the files should read the same before
        // and after nlstat; if a stray kernel timer moved a counter
        // between the reads, the comparison is retried.
        with_retries(
            &format!("--json {args:?}"),
            || live_counters(&ns),
            || {
                let before = live_counters(&ns);
                let out = nl_json(&ns, args);
                let after = live_counters(&ns);
                if before != after {
                    return Err("counters moved while nlstat ran".to_string());
                }
                let rows = objects_ok(&out, "statistic", &format!("{args:?}"));
                let all = if *six { &before.1 } else { &before.0 };
                compare_counters(
                    &format!("--json {args:?}"),
                    &json_counters(&rows),
                    &selected(all, letters),
                )
            },
        );
    }
    // The selections hold exactly the sections doc/json.md names.
    let sections = |args: &[&str]| -> BTreeSet<String> {
        let out = nl_json(&ns, args);
        json_counters(&objects_ok(&out, "statistic", "sections"))
            .into_iter()
            .map(|c| c.0)
            .collect()
    };
    let set =
        |names: &[&str]| -> BTreeSet<String> { names.iter().map(|s| s.to_string()).collect() };
    assert_eq!(sections(&["-st"]), set(&["MPTcpExt", "Tcp", "TcpExt"]));
    assert_eq!(sections(&["-su"]), set(&["Udp"]));
    assert_eq!(sections(&["-sU"]), set(&["UdpLite"]));
    assert_eq!(sections(&["-sw"]), set(&["Icmp", "IcmpMsg", "Ip", "IpExt"]));
    assert_eq!(
        sections(&["-s6"]),
        set(&["Icmp6", "Ip6", "Tcp", "Udp6", "UdpLite6"])
    );
}

/// Messages and statuses: a family without statistics and a /proc tree
/// without the file.
#[test]
fn json_statistics_errors() {
    let Some(ns) = Namespace::create("jsonstatserr") else {
        return;
    };
    for af in ["ipx", "inet,inet6", "unix"] {
        let args = ["-s", "-A", af];
        let theirs = ns.run(NETSTAT, &args);
        let ours = nl_json(&ns, &args);
        let message = text(&theirs.stdout);
        assert!(
            message.contains("No statistics support for specified address family"),
            "{message}"
        );
        assert!(ours.stdout.is_empty(), "{args:?}: {}", text(&ours.stdout));
        assert_eq!(text(&ours.stderr), message, "{args:?}: stderr");
        assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
    }
    let root = TempDir::new("json-noproc");
    std::fs::create_dir_all(root.join("net")).unwrap();
    for (args, file) in [
        (&["--json", "-s"][..], "snmp"),
        (&["--json", "-st"], "snmp"),
        (&["--json", "-s6"], "snmp6"),
    ] {
        let out = nlstat_at(&root, args);
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
        assert_eq!(
            text(&out.stderr),
            format!(
                "cannot open {}/net/{file}: No such file or directory\n",
                root.display()
            ),
            "{args:?}"
        );
        assert_eq!(out.status.code(), Some(1), "{args:?}");
    }
    // snmp6 alone is not enough for -s6: snmp's Tcp section is needed too.
    std::fs::write(root.join("net/snmp6"), "Ip6InReceives 4\n").unwrap();
    let out = nlstat_at(&root, &["--json", "-s6"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("/net/snmp: No such file or directory"));
    // snmp without netstat: its counters, status 0.
    let snmp = "Ip: Forwarding InReceives\nIp: 1 5\nUdp: InDatagrams\nUdp: 3\n";
    std::fs::write(root.join("net/snmp"), snmp).unwrap();
    let out = nlstat_at(&root, &["--json", "-s"]);
    let rows = objects_ok(&out, "statistic", "-s without net/netstat");
    compare_counters(
        "-s on snmp alone",
        &json_counters(&rows),
        &pair_counters(snmp),
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The counters of a fixture tree, IPv4 and IPv6, parsed from its files.
fn fixture_counters(root: &Path) -> (Vec<Counter>, Vec<Counter>) {
    let read = |file: &str| std::fs::read_to_string(root.join(file)).ok();
    let snmp = pair_counters(&read("net/snmp").expect("fixture net/snmp"));
    let mut v4 = snmp.clone();
    if let Some(netstat) = read("net/netstat") {
        v4.extend(pair_counters(&netstat));
    }
    if let Some(sctp) = read("net/sctp/snmp") {
        v4.extend(key_value_counters(&sctp, Some("Sctp")));
    }
    let mut v6 = key_value_counters(&read("net/snmp6").expect("fixture net/snmp6"), None);
    v6.extend(snmp.into_iter().filter(|(s, _, _)| s == "Tcp"));
    (v4, v6)
}

#[test]
fn json_statistics_of_fixture_trees() {
    let mut failures = Vec::new();
    for name in ["proc-stats", "proc-stats-keys"] {
        let root = fixture(name);
        let (v4, v6) = fixture_counters(&root);
        for (args, letters, six) in [
            (&["-s"][..], "", false),
            (&["-st"], "t", false),
            (&["-su"], "u", false),
            (&["-sU"], "U", false),
            (&["-sw"], "w", false),
            (&["-sS"], "S", false),
            (&["-stw"], "tw", false),
            (&["-s6"], "", true),
            (&["-s6t"], "t", true),
            (&["-s6u"], "u", true),
            (&["-s6U"], "U", true),
            (&["-s6w"], "w", true),
        ] {
            let mut all = vec!["--json"];
            all.extend_from_slice(args);
            let out = nlstat_at(&root, &all);
            let what = format!("{name} --json {args:?}");
            let rows = objects_ok(&out, "statistic", &what);
            let expected = selected(if six { &v6 } else { &v4 }, letters);
            if let Err(e) = compare_counters(&what, &json_counters(&rows), &expected) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The fixtures hold what makes this worth checking: an unknown
    // section (always shown), a negative and a maximal value, sctp.
    let (v4, v6) = fixture_counters(&fixture("proc-stats"));
    let has = |list: &[Counter], s: &str, n: &str, v: i128| {
        list.iter().any(|c| c.0 == s && c.1 == n && c.2 == v)
    };
    assert!(has(&v4, "NlstatExt", "Negative", -3));
    assert!(has(&v4, "NlstatExt", "Huge", i128::from(u64::MAX)));
    assert!(has(&v4, "Sctp", "SctpActiveEstabs", 5));
    assert!(has(&v6, "Nlstat6", "Nlstat6Unknown", 9));
    assert!(section_names(&selected(&v4, "t")).contains("NlstatExt"));
}

/// netstat prints -s once even with -c: one tick object, the counters,
/// and the run ends by itself.
#[test]
fn json_statistics_continuous_prints_once() {
    let Some(ns) = Namespace::create("jsonstatsc") else {
        return;
    };
    with_retries(
        "--json -c -s",
        || live_counters(&ns),
        || {
            let before = live_counters(&ns);
            let started = Instant::now();
            let out = ns.run("timeout", &["10", nlstat(), "--json", "-c", "-s"]);
            let took = started.elapsed();
            let after = live_counters(&ns);
            assert_eq!(out.status.code(), Some(0), "-c -s must end by itself");
            assert!(took < Duration::from_secs(5), "-c -s took {took:?}");
            let ticks = ticks(&out.stdout, "statistic", "--json -c -s");
            assert_eq!(ticks.len(), 1, "one tick object");
            assert_eq!(ticks[0].number, 1);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs_f64();
            assert!(
                (now - ticks[0].time).abs() < 30.0,
                "tick time {}",
                ticks[0].time
            );
            assert!(
                text(&out.stdout).starts_with("{\"kind\":\"tick\",\"tick\":1,\"time\":"),
                "{}",
                text(&out.stdout)
            );
            if before != after {
                return Err("counters moved while nlstat ran".to_string());
            }
            compare_counters("-c -s", &json_counters(&ticks[0].rows), &before.0)
        },
    );
}

// ---------------------------------------------------------------------
// -g
// ---------------------------------------------------------------------

const GROUP_HOSTS: &str = "127.0.0.1 localhost
239.5.5.5 my-group
ff15::abcd six-group
";

/// Joins held by a python3 process until dropped: 239.5.5.5 twice and
/// ff15::abcd twice on g0 (refcnt 2), 239.6.6.6 on lo.
struct Memberships {
    child: Child,
    stdin: Option<ChildStdin>,
}

const JOIN: &str = r#"
import socket, struct, sys
held = []
def v4(group, dev):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mreq = struct.pack("4s4si", socket.inet_aton(group), socket.inet_aton("0.0.0.0"), socket.if_nametoindex(dev))
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    held.append(s)
def v6(group, dev):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    mreq = socket.inet_pton(socket.AF_INET6, group) + struct.pack("@I", socket.if_nametoindex(dev))
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
    held.append(s)
v4("239.5.5.5", "g0"); v4("239.5.5.5", "g0"); v4("239.6.6.6", "lo")
v6("ff15::abcd", "g0"); v6("ff15::abcd", "g0")
print("READY", flush=True)
sys.stdin.read()
"#;

impl Memberships {
    fn join(ns: &Namespace) -> Memberships {
        let mut child = ns
            .command("python3", &["-c", JOIN])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3");
        let line = first_line(&mut child);
        assert_eq!(line.trim(), "READY", "the group joins failed");
        let stdin = child.stdin.take();
        Memberships { child, stdin }
    }
}

impl Drop for Memberships {
    fn drop(&mut self) {
        // Closing stdin ends the script.
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// Group memberships from the python3 joins and from `autojoin`
/// addresses on a 15-character device; then the table must settle.
fn populate_groups(ns: &Namespace) -> Memberships {
    ns.sh(QUIET);
    ns.sh(&format!(
        "ip link add g0 type veth peer name {LONG_NAME} && \
         ip link set g0 up && ip link set {LONG_NAME} up && \
         ip link add {HOSTILE_DEV} type veth peer name q2 && ip link set {HOSTILE_DEV} up && \
         ip addr add 239.1.2.3/32 dev {LONG_NAME} autojoin && \
         ip -6 addr add ff05::1234/128 dev {LONG_NAME} autojoin"
    ));
    let held = Memberships::join(ns);
    // Links coming up join their solicited-node groups a moment later:
    // wait (at most 6 s) until netstat's table holds still for 0.3 s.
    ns.sh(
        "prev=; for i in $(seq 20); do cur=$(/usr/bin/netstat -gn); \
         [ \"$cur\" = \"$prev\" ] && break; prev=$cur; sleep 0.3; done",
    );
    held
}

/// `--json -g…` rows against `netstat -g…` rows (interface, RefCnt,
/// group; the group column is the name without -n).
fn check_groups(rows: &[Object], theirs: &[Vec<String>], numeric: bool) -> Result<(), String> {
    let mut p = Problems::default();
    p.eq("rows vs netstat", rows.len(), theirs.len());
    for (i, (o, n)) in rows.iter().zip(theirs).enumerate() {
        let at = format!("row {} ({})", i + 1, n.join(" "));
        if n.len() != 3 {
            p.0.push(format!("{at}: netstat row shape"));
            continue;
        }
        let group = string(o, "group");
        p.eq(format!("{at} iface"), string(o, "iface"), n[0].as_str());
        p.eq(format!("{at} refcnt"), int(o, "refcnt"), num(&n[1]));
        let family = if group.contains(':') { "inet6" } else { "inet" };
        p.eq(format!("{at} family"), string(o, "family"), family);
        p.check(
            group.parse::<std::net::IpAddr>().is_ok(),
            format!("{at}: group {group:?} is not numeric"),
        );
        if numeric {
            p.eq(format!("{at} group"), group, n[2].as_str());
            p.check(
                !o.contains_key("group_host"),
                format!("{at}: group_host with -n"),
            );
        } else {
            p.eq(
                format!("{at} group_host"),
                opt_str(o, "group_host"),
                Some(n[2].as_str()),
            );
        }
    }
    p.result("group table")
}

#[test]
fn json_groups_match_netstat() {
    let Some(ns) = Namespace::create_with_etc(
        "jsongroups",
        &[("resolv.conf", QUICK_RESOLVER), ("hosts", GROUP_HOSTS)],
    ) else {
        return;
    };
    let _held = populate_groups(&ns);
    let shown = text(&ns.run(NETSTAT, &["-gn"]).stdout);
    for line in [
        "g0              2      239.5.5.5\n",
        "lo              1      239.6.6.6\n",
        "g0              2      ff15::abcd\n",
        "abcdefghijklmno 1      239.1.2.3\n",
        "abcdefghijklmno 1      ff05::1234\n",
    ] {
        assert!(shown.contains(line), "setup lacks {line:?}:\n{shown}");
    }
    let named = text(&ns.run(NETSTAT, &["-g"]).stdout);
    assert!(
        named.contains("my-group") && named.contains("six-group"),
        "{named}"
    );
    for (args, numeric) in [
        (&["-gn"][..], true),
        (&["-g"], false),
        (&["-gn", "-4"], true),
        (&["-gn", "-6"], true),
        (&["-g", "-6"], false),
        (&["--groups", "--numeric-hosts"], true),
    ] {
        // Memberships settled above; a late MLD/IGMP state change could
        // still land between the two runs, hence the retries.
        with_retries(
            &format!("--json {args:?}"),
            || netstat_state(&ns, args),
            || {
                let theirs = netstat_rows(&ns, args, "----");
                let ours = objects_ok(&nl_json(&ns, args), "group", &format!("{args:?}"));
                check_groups(&ours, &theirs, numeric)
            },
        );
    }
    let v4 = objects_ok(&nl_json(&ns, &["-gn", "-4"]), "group", "-gn -4");
    assert!(
        v4.iter().any(|o| string(o, "iface") == HOSTILE_NAME),
        "no group on {HOSTILE_NAME}"
    );
    assert!(v4.iter().all(|o| string(o, "family") == "inet"));
    let v6 = objects_ok(&nl_json(&ns, &["-gn", "-6"]), "group", "-gn -6");
    assert!(v6.iter().all(|o| string(o, "family") == "inet6"));
    // -c: every tick is the whole table (netstat's own -gc garbles later
    // ticks, so each tick is checked against its one-shot -gn).
    let theirs = netstat_rows(&ns, &["-gn"], "----");
    let stdout = run_killed(&ns, &["-gn"], 2.5);
    check_ticks(&stdout, "group", "--json -c -gn", theirs.len(), |rows| {
        check_groups(rows, &theirs, true)
    });
}

/// A mismatch while the oracle stood still is nlstat's: no retry forgives it.
#[test]
fn retries_do_not_forgive_a_mismatch_while_the_state_stands_still() {
    let mut attempts = 0;
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        with_retries(
            "still",
            || 7,
            || {
                attempts += 1;
                if attempts == 1 {
                    Err("first read differs".to_string())
                } else {
                    Ok(())
                }
            },
        )
    }));
    assert!(failed.is_err(), "a second attempt forgave the first");
    assert_eq!(attempts, 1);
}

/// A mismatch while the oracle moved is retried, and a later match passes.
#[test]
fn retries_follow_a_state_that_moved() {
    let (mut reads, mut attempts) = (0, 0);
    with_retries(
        "moved",
        || {
            reads += 1;
            reads
        },
        || {
            attempts += 1;
            if attempts == 1 {
                Err("moved".to_string())
            } else {
                Ok(())
            }
        },
    );
    assert_eq!(attempts, 2);
}
