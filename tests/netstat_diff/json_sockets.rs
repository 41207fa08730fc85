//! `--json` socket rows against netstat's rows on the same sockets: every
//! flag set the text tests compare, on both sources. netstat's rows (with
//! `-W`, since JSON never truncates) are the oracle; each JSON object is
//! turned back into the columns netstat would print from the same facts
//! (addresses, ports, states, queues, users, inodes, owners, timers) and
//! the two multisets of rows must be equal. serde_json parses the output.
//!
//! Also here: the schema tables of doc/json.md checked against real output, the
//! `-c` tick objects, hostile process names and unix paths, and the
//! options that print no table.

use crate::sockets::FLAG_SETS;
use crate::support::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// Parse stdout as JSON Lines: every line one object with a `kind`.
pub(crate) fn json_lines(stdout: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(stdout).expect("--json output is UTF-8");
    text.lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {line:?}"));
            assert!(
                value.get("kind").and_then(Value::as_str).is_some(),
                "object without a kind: {line}"
            );
            value
        })
        .collect()
}

fn has(args: &[&str], short: char, long: &[&str]) -> bool {
    args.iter().any(|a| {
        if let Some(name) = a.strip_prefix("--") {
            long.contains(&name)
        } else {
            a.starts_with('-') && a.contains(short)
        }
    })
}

/// What the flag set shows, in the terms netstat's columns need.
struct Shown {
    extend: bool,
    programs: bool,
    timers: bool,
}

impl Shown {
    fn of(args: &[&str]) -> Shown {
        Shown {
            extend: has(args, 'e', &["extend"]),
            programs: has(args, 'p', &["programs"]),
            timers: has(args, 'o', &["timers"]),
        }
    }
}

/// A netstat row as whitespace-separated columns, with running timer
/// seconds masked (they count down between the two runs).
fn columns(line: &str) -> String {
    mask_timers(line)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// netstat's socket rows (no titles or headers).
fn netstat_rows(stdout: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(stdout);
    let mut rows: Vec<String> = text
        .lines()
        .filter(|l| {
            let proto = l.split_whitespace().next().unwrap_or("");
            matches!(
                proto,
                "tcp" | "tcp6" | "udp" | "udp6" | "udpl" | "udpl6" | "raw" | "raw6" | "unix"
            )
        })
        .map(columns)
        .collect();
    rows.sort();
    rows
}

fn str_field<'a>(o: &'a Value, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Value::as_str)
}

fn u64_field(o: &Value, key: &str) -> u64 {
    o.get(key)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{key} must be an unsigned integer in {o}"))
}

/// How netstat prints a numeric address: IPv4-mapped IPv6 as IPv4.
fn netstat_numeric(address: &str) -> String {
    match address.strip_prefix("::ffff:") {
        Some(v4) if v4.contains('.') => v4.to_string(),
        _ => address.to_string(),
    }
}

/// `host:port` as netstat -W prints it, from the JSON facts.
fn endpoint(o: &Value, side: &str) -> String {
    let address = str_field(o, &format!("{side}_addr")).expect("address string");
    let host = match str_field(o, &format!("{side}_host")) {
        Some(name) => name.to_string(),
        None => netstat_numeric(address),
    };
    let port = match o.get(format!("{side}_port")).expect("port field") {
        Value::Null => "*".to_string(),
        number => {
            let number = number.as_u64().expect("port is a number");
            match str_field(o, &format!("{side}_service")) {
                Some(service) => service.to_string(),
                None => number.to_string(),
            }
        }
    };
    format!("{host}:{port}")
}

/// `PID/name` cut to 19 bytes, or `-`.
fn program_label(o: &Value) -> String {
    match o.get("pid").expect("-p gives pid") {
        Value::Null => "-".to_string(),
        pid => {
            let program = str_field(o, "program").unwrap_or("");
            let mut label = format!("{}/{program}", pid.as_u64().expect("pid number"));
            let mut cut = 19.min(label.len());
            while !label.is_char_boundary(cut) {
                cut -= 1;
            }
            label.truncate(cut);
            label
        }
    }
}

/// The row netstat would print for one JSON socket object.
fn row_from_json(o: &Value, shown: &Shown) -> String {
    let mut cols: Vec<String> = Vec::new();
    let proto = str_field(o, "proto").expect("proto");
    if proto == "unix" {
        cols.push("unix".into());
        cols.push(u64_field(o, "refcnt").to_string());
        cols.push("[".into());
        for flag in o["flags"].as_array().expect("flags array") {
            cols.push(flag.as_str().expect("flag word").into());
        }
        cols.push("]".into());
        cols.push(str_field(o, "type").expect("type").into());
        if let Some(state) = str_field(o, "state") {
            cols.push(state.into());
        }
        cols.push(u64_field(o, "inode").to_string());
        if shown.programs {
            cols.push(program_label(o));
        }
        if let Some(path) = str_field(o, "path") {
            // netstat reads the name with %s: up to the first blank
            let first = path.split([' ', '\t', '\n', '\r', '\x0b', '\x0c']).next();
            cols.push(first.unwrap_or("").into());
        }
    } else {
        let family = str_field(o, "family").expect("family");
        let label = match proto {
            "udplite" => "udpl",
            other => other,
        };
        cols.push(format!(
            "{label}{}",
            if family == "inet6" { "6" } else { "" }
        ));
        cols.push(u64_field(o, "recv_q").to_string());
        cols.push(u64_field(o, "send_q").to_string());
        cols.push(endpoint(o, "local"));
        cols.push(endpoint(o, "remote"));
        if let Some(state) = str_field(o, "state") {
            cols.push(state.into());
        }
        if shown.extend {
            match str_field(o, "user") {
                Some(user) => cols.push(user.into()),
                None => cols.push((u64_field(o, "uid") as u32 as i32).to_string()),
            }
            cols.push(u64_field(o, "inode").to_string());
        }
        if shown.programs {
            cols.push(program_label(o));
        }
        if shown.timers {
            let word = str_field(o, "timer").expect("timer word");
            let seconds = o["timer_expires_s"].as_f64().expect("timer seconds");
            cols.push(format!(
                "{word} ({seconds:.2}/{}/{})",
                u64_field(o, "retransmits"),
                u64_field(o, "probes")
            ));
        }
    }
    columns(&cols.join(" "))
}

fn json_rows(objects: &[Value], shown: &Shown) -> Vec<String> {
    let mut rows: Vec<String> = objects
        .iter()
        .inspect(|o| assert_eq!(o["kind"], "socket", "only socket objects: {o}"))
        .map(|o| row_from_json(o, shown))
        .collect();
    rows.sort();
    rows
}

/// netstat `ARGS -W` against `nlstat EXTRA --json ARGS`: same rows, same
/// facts, same exit status, nothing but JSON on stdout. `Ok` carries the
/// number of rows compared.
fn compare_json(ns: &Namespace, args: &[&str], extra: &[&str]) -> Result<usize, String> {
    let mut netstat_args = args.to_vec();
    netstat_args.push("-W");
    let netstat = ns.run(NETSTAT, &netstat_args);
    let mut ours_args = extra.to_vec();
    ours_args.push("--json");
    ours_args.extend_from_slice(args);
    let ours = ns.run(nlstat(), &ours_args);
    let shown = Shown::of(args);
    let expected = netstat_rows(&netstat.stdout);
    let actual = json_rows(&json_lines(&ours.stdout), &shown);
    let mut problems = String::new();
    if expected != actual {
        problems.push_str(&format!(
            "rows differ ({} netstat, {} JSON):\n{}",
            expected.len(),
            actual.len(),
            describe_diff(&expected.join("\n"), &actual.join("\n"))
        ));
    }
    if netstat.status.code() != ours.status.code() {
        problems.push_str(&format!(
            "exit status: netstat {:?}, nlstat {:?}\n",
            netstat.status.code(),
            ours.status.code()
        ));
    }
    if problems.is_empty() {
        Ok(expected.len())
    } else {
        Err(format!("`nlstat {}`:\n{problems}", ours_args.join(" ")))
    }
}

/// Every flag set compared; a set may legitimately show nothing (`-U`
/// without `-a`), but the batch as a whole must have compared rows.
fn compare_all(ns: &Namespace, extra: &[&str]) {
    let results: Vec<Result<usize, String>> = FLAG_SETS
        .iter()
        .map(|args| compare_json(ns, args, extra))
        .collect();
    let empty = results.iter().filter(|r| matches!(r, Ok(0))).count();
    assert!(
        empty <= 2,
        "{empty} flag sets showed no rows: the population is missing"
    );
    assert_all(results.into_iter().map(|r| r.map(|_| ())).collect());
}

#[test]
fn json_sockets_carry_netstat_facts_over_sock_diag() {
    let Some(ns) = Namespace::create("jsd") else {
        return;
    };
    let _population = Population::start(&ns);
    compare_all(&ns, &[]);
}

#[test]
fn json_sockets_carry_netstat_facts_from_proc() {
    let Some(ns) = Namespace::create("jproc") else {
        return;
    };
    let _population = Population::start(&ns);
    compare_all(&ns, &["--source", "proc"]);
}

/// Facts that the row comparison cannot see: numeric addresses stay
/// numeric (v4-mapped as the kernel gives it), wildcards are null, types.
#[test]
fn json_socket_values_are_typed_and_numeric() {
    let Some(ns) = Namespace::create("jtyped") else {
        return;
    };
    let _population = Population::start(&ns);
    let out = ns.run(nlstat(), &["--json", "-tuwa"]);
    let objects = json_lines(&out.stdout);
    let mapped = objects
        .iter()
        .filter(|o| o["family"] == "inet6" && o["remote_addr"] == "::ffff:127.0.0.1")
        .count();
    assert!(mapped >= 1, "the v4-mapped accepted socket keeps ::ffff:");
    let listener = objects
        .iter()
        .find(|o| o["local_port"] == 22 && o["state"] == "LISTEN")
        .expect("the 0.0.0.0:22 listener");
    assert_eq!(listener["local_addr"], "0.0.0.0");
    assert_eq!(listener["remote_port"], Value::Null);
    assert_eq!(listener["local_service"], "ssh");
    assert_eq!(listener["remote_service"], Value::Null);
    assert_eq!(listener["user"], "root");
    let unconnected_udp = objects
        .iter()
        .find(|o| o["proto"] == "udp" && o["local_port"] == 53)
        .expect("the UDP socket on port 53");
    assert_eq!(unconnected_udp["state"], Value::Null);
    // the queued bytes of the population's connections
    assert!(objects.iter().any(|o| o["recv_q"] == 1234));
    assert!(
        objects
            .iter()
            .any(|o| o["proto"] == "udp" && o["recv_q"].as_u64() > Some(0))
    );
    let raw = objects
        .iter()
        .find(|o| o["proto"] == "raw" && o["family"] == "inet6")
        .expect("the raw6 socket");
    assert_eq!(raw["state"], "7", "raw state as netstat prints it");
    assert_eq!(raw["state_code"], 7);
    for o in &objects {
        for key in ["local_port", "remote_port"] {
            assert!(o[key].is_null() || o[key].is_u64(), "{key} in {o}");
        }
        for key in ["recv_q", "send_q", "uid", "inode", "state_code"] {
            assert!(o[key].is_u64(), "{key} in {o}");
        }
    }
    let unix = ns.run(nlstat(), &["--json", "-xa"]);
    let unix = json_lines(&unix.stdout);
    let spaced = unix
        .iter()
        .find(|o| str_field(o, "path").is_some_and(|p| p.ends_with("/with space.sock")))
        .expect("the path with a space, whole");
    assert_eq!(spaced["type"], "DGRAM");
    assert!(
        unix.iter().any(|o| o["path"] == "@abstract@with-nul"),
        "abstract names as netstat shows them"
    );
    assert!(
        unix.iter()
            .any(|o| o["flags"] == serde_json::json!(["ACC"]))
    );
    assert!(unix.iter().any(|o| o["path"].is_null()));
}

/// Type names of the schema tables in doc/json.md.
fn type_matches(documented: &str, value: &Value) -> bool {
    let (base, nullable) = match documented.strip_suffix(" or null") {
        Some(base) => (base, true),
        None => (documented, false),
    };
    if value.is_null() {
        return nullable;
    }
    match base {
        "string" => value.is_string(),
        "integer" => value.is_u64() || value.is_i64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        other => panic!("doc/json.md names an unknown type {other:?}"),
    }
}

/// One row of a schema table: field name, JSON type, and whether
/// every object of the kind has it.
type SchemaField = (String, String, bool);

/// The documented schema: (table heading, its fields), from the tables
/// under the level-2 headings of doc/json.md (the README links to it).
fn documented_schema() -> Vec<(String, Vec<SchemaField>)> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/doc/json.md"))
        .expect("doc/json.md");
    let section = doc
        .split("# JSON output\n")
        .nth(1)
        .expect("doc/json.md has a JSON output section");
    let mut tables = Vec::new();
    for part in section.split("\n## ").skip(1) {
        let heading = part.lines().next().unwrap().to_string();
        let fields: Vec<SchemaField> = part
            .lines()
            .filter(|l| l.starts_with("| `"))
            .map(|l| {
                let cells: Vec<&str> = l.split(" | ").collect();
                let name = cells[0]
                    .trim_start_matches("| ")
                    .trim_matches('`')
                    .to_string();
                (
                    name,
                    cells[1].trim().to_string(),
                    cells[2].trim() == "always",
                )
            })
            .collect();
        assert!(!fields.is_empty(), "no fields under {heading}");
        tables.push((heading, fields));
    }
    tables
}

/// Every field each table of doc/json.md lists appears in real output
/// with the documented type, fields marked "always" are in every object,
/// and no object carries a field the tables do not list.
#[test]
fn readme_schema_matches_the_output() {
    let Some(ns) = Namespace::create("jschema") else {
        return;
    };
    let _population = Population::start(&ns);
    // a gateway route (for gateway_name) and an IPv6 address for -ie
    ns.sh(
        "ip link add jv0 type veth peer name jv1 && ip link set jv0 up && ip link set jv1 up && \
         ip addr add 10.77.0.1/24 dev jv0 && ip route add 10.78.0.0/16 via 10.77.0.254 && \
         ip -6 addr add fd77::1/64 dev jv0 nodad",
    );
    let run = |args: &[&str]| {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        json_lines(&ns.run(nlstat(), &all).stdout)
    };
    let ticks = json_lines(
        &ns.run(
            "timeout",
            &["-s", "INT", "1.5", nlstat(), "--json", "-c", "-tln"],
        )
        .stdout,
    );
    // a run stopped for 300 ms: its next tick carries late_ms
    let late_run = run_paused(
        &[
            "--netns",
            &ns.name,
            "--json",
            "--interval",
            "0.05",
            "--count",
            "10",
            "-tln",
        ],
        Duration::from_millis(120),
        Duration::from_millis(300),
    );
    let mut ticks = ticks;
    ticks.extend(json_lines(&late_run.stdout));
    let mut by_table: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    let sockets = run(&[
        "-a", "-t", "-u", "-U", "-w", "-x", "-e", "-o", "-p", "--info",
    ]);
    let (unix, inet): (Vec<Value>, Vec<Value>) =
        sockets.into_iter().partition(|o| o["proto"] == "unix");
    by_table.insert("`socket` (TCP, UDP, UDP-Lite, raw)", inet);
    by_table.insert("`socket` (unix)", unix);
    let mut routes = run(&["-r"]);
    routes.extend(run(&["-6r"]));
    by_table.insert("`route` (`-r`)", routes);
    by_table.insert("`interface` (`-i`)", run(&["-iae"]));
    by_table.insert("`statistic` (`-s`)", run(&["-s"]));
    by_table.insert("`group` (`-g`)", run(&["-g"]));
    by_table.insert(
        "`tick` (`-c`)",
        ticks.into_iter().filter(|o| o["kind"] == "tick").collect(),
    );
    let (closed, lost, end) = close_events(&ns);
    by_table.insert("`closed` (`--events`)", closed);
    by_table.insert("`lost` (`--events`)", lost);
    by_table.insert("`events_end` (`--events`)", end);
    let schema = documented_schema();
    let mut headings: Vec<&str> = schema.iter().map(|(h, _)| h.as_str()).collect();
    headings.sort_unstable();
    assert_eq!(
        headings,
        by_table.keys().copied().collect::<Vec<_>>(),
        "every documented table is exercised, and only those"
    );
    for (heading, fields) in &schema {
        let objects = by_table
            .get(heading.as_str())
            .unwrap_or_else(|| panic!("no output exercises documented table {heading}"));
        assert!(!objects.is_empty(), "no objects for {heading}");
        for (name, documented, always) in fields {
            let mut seen = 0;
            for o in objects {
                match o.get(name) {
                    Some(value) => {
                        seen += 1;
                        assert!(
                            type_matches(documented, value),
                            "{heading}: {name} is documented as {documented}, got {value} in {o}"
                        );
                    }
                    None => assert!(!always, "{heading}: {name} is always there, not in {o}"),
                }
            }
            assert!(seen > 0, "{heading}: no object has {name}");
        }
        for o in objects {
            for key in o.as_object().unwrap().keys() {
                assert!(
                    fields.iter().any(|(name, _, _)| name == key),
                    "{heading}: field {key} is not documented in doc/json.md ({o})"
                );
            }
        }
    }
}

/// `--events` objects of every kind: closes with `-o --info` and names
/// (one listener), losses and the final count (another, stopped during a
/// burst with a 4 KiB buffer).
fn close_events(ns: &Namespace) -> (Vec<Value>, Vec<Value>, Vec<Value>) {
    let start = |args: &[&str]| {
        std::process::Command::new(nlstat())
            .args(["--netns", &ns.name, "--events", "--json"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start nlstat --events")
    };
    let signal = |child: &std::process::Child, signal: i32| {
        // SAFETY: kill(2) on a child of ours that has not been reaped.
        unsafe { libc::kill(child.id() as i32, signal) };
    };
    let named = start(&["-o", "--info"]);
    let small = start(&["-n", "--events-buffer", "4K"]);
    std::thread::sleep(std::time::Duration::from_millis(700));
    signal(&small, libc::SIGSTOP);
    let burst = r#"
import socket, struct
l = socket.socket(); l.bind(("127.0.0.1", 1080)); l.listen(64)
for i in range(200):
    c = socket.create_connection(("127.0.0.1", 1080)); a, _ = l.accept()
    for s in (c, a):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close(); a.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 5355)); u.close()
l.close()
"#;
    assert!(ns.run("python3", &["-c", burst]).status.success());
    signal(&small, libc::SIGCONT);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut objects = Vec::new();
    for child in [named, small] {
        signal(&child, libc::SIGINT);
        objects.extend(json_lines(&child.wait_with_output().unwrap().stdout));
    }
    let of = |kind: &str| -> Vec<Value> {
        objects
            .iter()
            .filter(|o| o["kind"] == kind)
            .cloned()
            .collect()
    };
    (of("closed"), of("lost"), of("events_end"))
}

/// Names from the system resolver (a hosts file, and a DNS server that
/// never answers) go into `*_host` fields as netstat shows them.
#[test]
fn json_names_match_netstat_names() {
    let resolv = "nameserver 127.0.0.53\noptions timeout:1 attempts:1\n";
    let Some(ns) = Namespace::create_with_etc(
        "jnames",
        &[("hosts", crate::sockets::HOSTS), ("resolv.conf", resolv)],
    ) else {
        return;
    };
    let _population = Population::start(&ns);
    let results = [
        &["-ta"][..],
        &["-tae"],
        &["-ua"],
        &["--numeric-ports", "-ta"],
    ]
    .iter()
    .map(|args| compare_json(&ns, args, &[]).map(|_| ()))
    .collect();
    assert_all(results);
    let objects = json_lines(&ns.run(nlstat(), &["--json", "-ta"]).stdout);
    assert!(
        objects.iter().any(|o| o["remote_host"]
            == "a-rather-long-hostname-for-truncation.example.org"
            && o["remote_addr"] == "127.45.67.89"),
        "long names are whole, beside the numeric address"
    );
}

/// A process whose name and whose unix socket's path hold quotes,
/// backslashes, newlines, escape sequences and bytes that are not UTF-8.
const HOSTILE: &str = r#"
import os, socket, sys, time
scratch = sys.argv[1]
argv0 = b'evil"name\\with\nnewline\x1b[31m\x07\x7f\xc2\x9b\xff\xfe'
path = os.path.join(scratch.encode(), b'q"b\\s\t\x1b[7m \xff.sock')
pid = os.fork()
if pid == 0:
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 7777))
    t.listen(1)
    u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    u.bind(path)
    u.listen(1)
    a = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    a.bind(b'\0abstract"\n\x1b\xff')
    for s in (t, u, a):
        os.set_inheritable(s.fileno(), True)
    os.execv("/bin/sleep", [argv0, "60"])
print(pid, flush=True)
sys.stdin.read()
os.kill(pid, 9)
"#;

#[test]
fn hostile_names_stay_on_one_valid_line() {
    let Some(ns) = Namespace::create("jhostile") else {
        return;
    };
    let scratch = TempDir::new(&ns.name);
    let mut child = ns
        .command("python3", &["-c", HOSTILE, scratch.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the hostile holder");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let pid: u64 = line.trim().parse().expect("holder pid");
    // exec has happened once /proc/PID/cmdline shows the new argv[0]
    for _ in 0..50 {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmdline.starts_with(b"evil") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let program = "evil\"name\\with\nnewline\u{1b}[31m\u{7}\u{7f}\u{9b}\\xff\\xfe";
    let path_end = "q\"b\\s\t\u{1b}[7m \\xff.sock";
    for args in [
        &["--json", "-tlnp"][..],
        &["--json", "-xap"],
        &["--source", "proc", "--json", "-xap"],
        &["--source", "proc", "--json", "-tlnp"],
    ] {
        let out = ns.run(nlstat(), args);
        // terminal safety: no control byte but the line ends
        assert!(
            out.stdout
                .iter()
                .all(|&b| b == b'\n' || (b >= 0x20 && b != 0x7f)),
            "{args:?}: control bytes reached stdout"
        );
        assert!(
            !out.stdout.windows(2).any(|w| w == [0xc2, 0x9b]),
            "{args:?}: a C1 control reached stdout"
        );
        let objects = json_lines(&out.stdout);
        // a second, independent parser: Python's json module, line by line
        let mut python = std::process::Command::new("python3")
            .args([
                "-c",
                "import json,sys\nfor l in sys.stdin.buffer: assert type(json.loads(l)) is dict",
            ])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("python3");
        std::io::Write::write_all(python.stdin.as_mut().unwrap(), &out.stdout).unwrap();
        drop(python.stdin.take());
        assert!(
            python.wait().unwrap().success(),
            "{args:?}: json.loads refused a line"
        );
        let held: Vec<&Value> = objects.iter().filter(|o| o["pid"] == pid).collect();
        assert!(!held.is_empty(), "{args:?}: the holder's sockets");
        for o in &held {
            assert_eq!(o["program"], program, "{args:?}");
        }
        if args.contains(&"-xap") {
            assert!(
                held.iter().any(|o| str_field(o, "path").is_some_and(|p| p
                    .starts_with(scratch.to_str().unwrap())
                    && p.ends_with(path_end))),
                "{args:?}: the whole path, escaped: {held:?}"
            );
            // /proc/net/unix prints names raw, so there a newline in a
            // name splits its line (for netstat too); sock_diag keeps it.
            if !args.contains(&"proc") {
                assert!(
                    held.iter().any(|o| o["path"] == "@abstract\"\n\u{1b}\\xff"),
                    "{args:?}: the abstract name, escaped: {held:?}"
                );
            }
        }
    }
    drop(child.stdin.take());
    let _ = child.wait();
}

/// `-c`: a tick object starts every tick, and each tick's rows are the
/// table netstat prints once.
#[test]
fn continuous_json_ticks() {
    let Some(ns) = Namespace::create("jcont") else {
        return;
    };
    let _population = Population::start(&ns);
    let once = netstat_rows(&ns.run(NETSTAT, &["-tlnpW"]).stdout);
    let shown = Shown::of(&["-tlnp"]);
    // ticks start at 0 s and 1 s: 1.8 s holds exactly two (see sockets.rs)
    let out = ns.run(
        "timeout",
        &["-s", "INT", "1.8", nlstat(), "--json", "-c", "-tlnp"],
    );
    let objects = json_lines(&out.stdout);
    let mut ticks: Vec<(u64, f64, Vec<Value>)> = Vec::new();
    for o in objects {
        if o["kind"] == "tick" {
            let time = o["time"]
                .as_str()
                .and_then(rfc3339_seconds)
                .expect("time is an RFC 3339 UTC time stamp");
            ticks.push((u64_field(&o, "tick"), time, Vec::new()));
        } else {
            ticks
                .last_mut()
                .expect("a tick object comes first")
                .2
                .push(o);
        }
    }
    assert_eq!(ticks.len(), 2, "two ticks in 1.8 s");
    assert_eq!((ticks[0].0, ticks[1].0), (1, 2));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - ticks[0].1).abs() < 60.0, "time is Unix seconds");
    let gap = ticks[1].1 - ticks[0].1;
    assert!((0.9..1.9).contains(&gap), "ticks a second apart: {gap}");
    for (number, _, rows) in &ticks {
        assert_eq!(json_rows(rows, &shown), once, "tick {number}");
    }
    // -s prints once even with -c: one tick, then the counters, then exit
    let out = ns.run("timeout", &["5", nlstat(), "--json", "-c", "-s"]);
    assert_eq!(out.status.code(), Some(0), "-s -c exits by itself");
    let objects = json_lines(&out.stdout);
    assert_eq!(objects[0]["kind"], "tick");
    assert_eq!(objects[0]["tick"], 1);
    assert!(objects[1..].iter().all(|o| o["kind"] == "statistic"));
    assert!(objects.len() > 100);
}

/// Options that print no table behave exactly as without `--json`.
#[test]
fn json_without_a_table_changes_nothing() {
    let Some(ns) = Namespace::create("jnotable") else {
        return;
    };
    let strip = |args: &[&str]| -> Vec<String> {
        args.iter()
            .filter(|a| **a != "--json")
            .map(|a| a.to_string())
            .collect()
    };
    // netstat is the oracle where it prints the same text as nlstat
    for args in [
        &["--json", "-M"][..],
        &["--json", "-Z"],
        &["-M", "--json", "-c"],
        &["--json", "-h"],
        &["--json", "-tan", "-h"],
        &["--json", "-r", "-A", "ipx"],
        &["--json", "-A", "ax25"],
        &["--json", "--ipx"],
        &["--json", "-S"],
    ] {
        let netstat_args = strip(args);
        let netstat_args: Vec<&str> = netstat_args.iter().map(String::as_str).collect();
        let theirs = ns.run(NETSTAT, &netstat_args);
        // as netstat: -h prints netstat's usage alone
        let program = if args.contains(&"-h") {
            nlstat_as_netstat()
        } else {
            nlstat()
        };
        let ours = ns.run(program, args);
        assert_eq!(
            theirs.status.code(),
            ours.status.code(),
            "exit status of {args:?}"
        );
        if args.contains(&"-h") {
            assert_eq!(theirs.stdout, ours.stdout, "{args:?}: usage on stdout");
            assert_eq!(theirs.stderr, ours.stderr, "{args:?}");
            continue;
        }
        assert!(
            ours.stdout.is_empty(),
            "{args:?}: no table, nothing on stdout: {}",
            String::from_utf8_lossy(&ours.stdout)
        );
        // netstat's message, wherever netstat put it, is on our stderr
        let theirs_text = format!(
            "{}{}",
            String::from_utf8_lossy(&theirs.stderr),
            String::from_utf8_lossy(&theirs.stdout)
        );
        let ours_text = String::from_utf8_lossy(&ours.stderr);
        // (table titles and headers are not messages: JSON has none)
        let messages = theirs_text.lines().filter(|l| {
            !l.trim().is_empty() && !l.starts_with("Active ") && !l.starts_with("Proto ")
        });
        for line in messages {
            assert!(
                ours_text.contains(line),
                "{args:?}: netstat says {line:?}; nlstat's stderr: {ours_text}"
            );
        }
    }
    // an unknown option with --json: netstat's usage error for the same
    // options without --json, byte for byte, getopt naming each program
    for args in [
        &["--json", "-z"][..],
        &["-tz", "--json"],
        &["-z", "--json", "-t"],
    ] {
        let without = strip(args);
        let without: Vec<&str> = without.iter().map(String::as_str).collect();
        let theirs = ns.run(NETSTAT, &without);
        let ours = ns.run(nlstat(), args);
        assert_eq!(theirs.status.code(), Some(3), "netstat {without:?}");
        assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
        assert_eq!(ours.stdout, theirs.stdout, "{args:?}");
        let renamed = |bytes: &[u8], program: &str| latin1(bytes).replacen(program, "PROG", 1);
        assert_eq!(
            renamed(&ours.stderr, nlstat()),
            renamed(&theirs.stderr, NETSTAT),
            "{args:?}"
        );
        let invalid = format!("{NETSTAT}: invalid option -- 'z'\n");
        assert!(latin1(&theirs.stderr).starts_with(&invalid), "{args:?}");
    }
    // against nlstat itself without --json where netstat differs (the
    // version text)
    let args = ["--json", "-V"];
    let plain = ns.run(nlstat(), &["-V"]);
    let ours = ns.run(nlstat(), &args);
    assert_eq!(plain.stdout, ours.stdout, "{args:?}");
    assert_eq!(plain.stderr, ours.stderr, "{args:?}");
    assert_eq!(plain.status.code(), ours.status.code(), "{args:?}");
    assert!(!plain.stdout.is_empty() || !plain.stderr.is_empty());
}

#[test]
fn json_closed_pipe_exits_quietly() {
    let Some(ns) = Namespace::create("jpipe") else {
        return;
    };
    let _population = Population::start(&ns);
    let script = format!(
        "{} --json -an | head -n 1; echo \"${{PIPESTATUS[0]}}\"",
        nlstat()
    );
    let out = ns.run("bash", &["-c", &script]);
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let first: Value = serde_json::from_str(lines.next().unwrap()).expect("one JSON row");
    assert_eq!(first["kind"], "socket");
    assert_eq!(lines.next(), Some("0"), "exit 0 on a closed pipe");
    assert!(out.stderr.is_empty());
}
