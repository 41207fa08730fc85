//! `--view-source`: views counted from the BPF socket iterators against
//! the same views from sock_diag, and against ss, on one population (every
//! TCP state including SYN_RECV, SYN_SENT and a TIME_WAIT socket whose
//! substate is FIN_WAIT2; UDP; unix of every type; IPv4, IPv6 and
//! v4-mapped; sockets of other uids); the fallbacks (not root, a BTF file
//! that does not parse, a program the verifier refuses) and the option's
//! refusals.

use crate::support::*;
use crate::views::{Holder, ss_counts_by_state, unix_counts_by_state, view_counts_by_state};
use std::collections::BTreeMap;
use std::process::{Output, Stdio};

/// The TCP states population.py and the load-balancer population lack:
/// SYN_SENT (a connect to a host on a veth link whose other end has no
/// address, and the host a permanent neighbour entry with a MAC nobody
/// has: every packet is lost, and no failed ARP answers with an ICMP error
/// that would end the sockets after 3 s; this kernel has no dummy links),
/// SYN_RECV (SYNs sent from another such host: the SYN-ACKs are lost, so
/// the request sockets wait, retransmitting; 12 retries keep them and the
/// SYN_SENT socket for many minutes, longer than a loaded CI machine takes
/// for these tests) and a TIME_WAIT socket in its
/// FIN_WAIT2 substate (a connection closed by the client while the server
/// holds its end open).
const MORE_STATES: &str = r#"
import socket, struct, sys
held = []
c = socket.socket(); c.setblocking(False)
try: c.connect(("10.77.0.9", 7100))
except BlockingIOError: pass
held.append(c)
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("10.77.0.1", 7200)); l.listen(16); held.append(l)
def checksum(data):
    if len(data) % 2: data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
src, dst = socket.inet_aton("10.77.0.2"), socket.inet_aton("10.77.0.1")
raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for sport in (40001, 40002, 40003):
    tcp = struct.pack("!HHIIBBHHH", sport, 7200, 1000, 0, 5 << 4, 0x02, 65535, 0, 0)
    tcp = tcp[:16] + struct.pack("!H", checksum(src + dst + struct.pack("!BBH", 0, 6, 20) + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0, src, dst)
    raw.sendto(ip + tcp, ("10.77.0.1", 0))
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 7300)); s.listen(4); held.append(s)
c = socket.socket(); c.connect(("127.0.0.1", 7300)); held.append(s.accept()[0]); c.close()
print("READY", flush=True)
sys.stdin.read()
"#;

/// Starts MORE_STATES and returns it once ss shows every state it makes.
fn more_states(ns: &Namespace) -> KillOnDrop {
    ns.sh(
        "ip link add v0 type veth peer name v1 && ip addr add 10.77.0.1/24 dev v0 \
         && ip link set v0 up && ip link set v1 up \
         && ip neigh add 10.77.0.9 lladdr 02:00:00:00:00:09 dev v0 nud permanent \
         && ip neigh add 10.77.0.2 lladdr 02:00:00:00:00:02 dev v0 nud permanent \
         && sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.lo.rp_filter=0 \
         net.ipv4.tcp_synack_retries=12 net.ipv4.tcp_syn_retries=12",
    );
    let mut child = ns
        .command("python3", &["-c", MORE_STATES])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start python3");
    assert_eq!(first_line(&mut child).trim(), "READY");
    let mut states = BTreeMap::new();
    for _ in 0..50 {
        states = ss_counts_by_state(ns, &["-tanH"]);
        if states.get("\"SYN_RECV\"") == Some(&3) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    for state in [
        "SYN_SENT",
        "SYN_RECV",
        "FIN_WAIT2",
        "TIME_WAIT",
        "CLOSE_WAIT",
    ] {
        assert!(
            states.contains_key(&format!("\"{state}\"")),
            "the population has {state}: {states:?}"
        );
    }
    KillOnDrop(child)
}

fn with_source(ns: &Namespace, source: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut all = vec!["--view-source", source];
    all.extend_from_slice(args);
    let mut cmd = ns.command(nlstat(), &all);
    cmd.envs(env.iter().copied());
    cmd.output().expect("run nlstat")
}

/// A view's counts by state from `source` (`view_counts_by_state`).
fn counts_from(ns: &Namespace, source: &str, args: &[&str]) -> BTreeMap<String, u64> {
    let mut all = vec!["--view-source", source];
    all.extend_from_slice(args);
    view_counts_by_state(ns, &all)
}

/// What may differ between two runs a moment apart, and only that: the
/// kernel's totals after --summary's counts (/proc/net/sockstat: memory
/// pages move as SYN-ACKs are retransmitted), and the exporter's families
/// other than its socket gauges (interface and SNMP counters move too).
fn socket_part(args: &[&str], stdout: &[u8]) -> String {
    let text = String::from_utf8_lossy(stdout);
    if args.contains(&"--textfile") {
        unreachable!("textfiles are compared by socket_metrics");
    }
    if args.contains(&"--summary") {
        if args.contains(&"--json") {
            return text
                .lines()
                .filter(|l| !l.contains("\"kind\":\"sockstat\""))
                .collect::<Vec<_>>()
                .join("\n");
        }
        return text.split("\n\n").next().unwrap_or("").to_string();
    }
    text.into_owned()
}

/// The views, in text and JSON, that must count the same from both sources.
const VIEWS: &[&[&str]] = &[
    &["--summary"],
    &["-l", "--summary"],
    &["-4", "--summary"],
    &["-tan", "--group-by", "state,local_port"],
    &["-a", "--group-by", "proto,family,state,uid"],
    &["-tan", "--group-by", "local_addr,remote_addr,remote_port"],
    &["-tan", "--group-by", "remote_net/24,user"],
    &["-6", "-tan", "--group-by", "state,family"],
    &["-uan", "--group-by", "local_port,state"],
    &["-xa", "--group-by", "state"],
    &["-tanp", "--group-by", "program,state"],
    &["-xap", "--group-by", "state,pid"],
    &["--listeners"],
    &["-p", "--listeners"],
    &["--ephemeral"],
    // filters, run in user space over the records
    &[
        "-tn",
        "--group-by",
        "state",
        "sport = :8080 or dport = :8080",
    ],
    &["-t", "--group-by", "state,local_port", "state", "syn-recv"],
    &["-t", "--group-by", "state", "state", "fin-wait-2"],
    &["--group-by", "state", "src 127.0.0.0/8"],
    // a unix name pattern: unix from sock_diag, the rest from the iterators
    &["-x", "--group-by", "state", "src *with*"],
    // --info: TCP's health from the program's info block (the SYN_SENT
    // socket is left out: its SYN retransmits move its counters between
    // two runs)
    &[
        "-tn",
        "--info",
        "--group-by",
        "remote_addr,remote_port",
        "exclude",
        "syn-sent",
    ],
    &[
        "-ta",
        "--info",
        "--group-by",
        "state,uid",
        "exclude",
        "syn-sent",
    ],
    &[
        "-a",
        "--info",
        "--group-by",
        "proto,state",
        "exclude",
        "syn-sent",
    ],
    &["--listeners", "--info"],
];

#[test]
fn both_sources_count_the_same() {
    let Some(ns) = Namespace::create("vsrc") else {
        return;
    };
    let _population = Population::start(&ns);
    let _lb = Holder::start(&ns);
    let _more = more_states(&ns);
    let mut failures = Vec::new();
    for view in VIEWS {
        for json in [false, true] {
            let mut args = view.to_vec();
            if json {
                args.insert(0, "--json");
            }
            let netlink = with_source(&ns, "netlink", &args, &[]);
            let bpf = with_source(&ns, "bpf", &args, &[]);
            assert!(
                bpf.status.success() && netlink.status.success(),
                "{args:?}: {}{}",
                String::from_utf8_lossy(&bpf.stderr),
                String::from_utf8_lossy(&netlink.stderr)
            );
            let (ours, theirs) = (
                socket_part(&args, &bpf.stdout),
                socket_part(&args, &netlink.stdout),
            );
            assert!(!ours.trim().is_empty(), "{args:?} counts something");
            if ours != theirs {
                failures.push(format!("{args:?}\n{}", describe_diff(&theirs, &ours)));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The iterators' counts against ss's and netstat's rows (what the view
/// tests check for sock_diag), the state mapping (SYN_RECV from request
/// sockets, FIN_WAIT2 from a TIME_WAIT substate) and the uids ss shows.
#[test]
fn iterator_counts_match_ss() {
    let Some(ns) = Namespace::create("vsrcss") else {
        return;
    };
    let _population = Population::start(&ns);
    let _more = more_states(&ns);
    let bpf = |args: &[&str]| counts_from(&ns, "bpf", args);
    assert_eq!(
        bpf(&["-t", "--group-by", "state"]),
        ss_counts_by_state(&ns, &["-tanH"])
    );
    assert_eq!(
        bpf(&["-u", "--group-by", "state"]),
        ss_counts_by_state(&ns, &["-uanH"])
    );
    assert_eq!(bpf(&["-x", "--summary"]), unix_counts_by_state(&ns));
    // a state named in the filter selects as the kernel does for ss: a
    // TIME_WAIT socket by its substate, request sockets as SYN_RECV
    for (state, word) in [
        ("fin-wait-2", "FIN_WAIT2"),
        ("syn-recv", "SYN_RECV"),
        ("time-wait", "TIME_WAIT"),
    ] {
        let rows = ns.run("ss", &["-tanH", "state", state]).stdout;
        let expected = String::from_utf8_lossy(&rows).lines().count() as u64;
        assert!(expected > 0, "the population has {state}");
        assert_eq!(
            bpf(&["-t", "--group-by", "state", "state", state]),
            BTreeMap::from([(format!("\"{word}\""), expected)]),
            "state {state}"
        );
    }
    // uids: ss -e prints uid:N for a full socket of another user
    let ss = String::from_utf8_lossy(&ns.run("ss", &["-tanHe"]).stdout).into_owned();
    let mut expected: BTreeMap<u64, u64> = BTreeMap::new();
    for line in ss.lines() {
        let uid = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("uid:"))
            .map_or(0, |u| u.parse().unwrap());
        *expected.entry(uid).or_insert(0) += 1;
    }
    assert!(expected.contains_key(&65534), "other uids: {expected:?}");
    let out = with_source(&ns, "bpf", &["--json", "-t", "--group-by", "uid"], &[]);
    let mut actual = BTreeMap::new();
    for o in crate::json_sockets::json_lines(&out.stdout) {
        actual.insert(o["uid"].as_u64().unwrap(), o["count"].as_u64().unwrap());
    }
    assert_eq!(actual, expected);
}

/// `auto` leaves a TCP table to sock_diag when the kernel narrows its dump
/// to few sockets (listeners alone, states other than ESTABLISHED and
/// TIME_WAIT, an expression of exact ports or prefixes): `-v` names the
/// table and the reason, and the counts are ss's. What keeps most sockets
/// still counts from the iterator (no such line), with ss's counts too.
#[test]
fn auto_leaves_narrowed_dumps_to_sock_diag() {
    let Some(ns) = Namespace::create("vsrcnar") else {
        return;
    };
    let _population = Population::start(&ns);
    let _more = more_states(&ns);
    let told = |args: &[&str]| {
        let mut verbose = vec!["-v"];
        verbose.extend_from_slice(args);
        let out = with_source(&ns, "auto", &verbose, &[]);
        assert!(out.status.success(), "{args:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let auto = |args: &[&str]| counts_from(&ns, "auto", args);
    // ss leaves out the state column when one state is asked for: its
    // rows are then counted as that state
    for (args, ss_args, only, reason) in [
        (
            &["-tl", "--group-by", "state"][..],
            &["-tlnH"][..],
            None,
            "its dump of listeners alone skips the connections",
        ),
        (
            &["-t", "--group-by", "state", "state", "syn-recv"][..],
            &["-tanH", "state", "syn-recv"][..],
            Some("SYN_RECV"),
            "its dump skips the states not asked for",
        ),
        (
            &["-ta", "--group-by", "state", "sport = :7200"][..],
            &["-tanH", "sport = :7200"][..],
            None,
            "the kernel runs the filter expression on its dump",
        ),
    ] {
        let stderr = told(args);
        assert!(
            stderr.contains(&format!("the view counts TCP from sock_diag ({reason})")),
            "{args:?}: {stderr}"
        );
        let expected = match only {
            None => ss_counts_by_state(&ns, ss_args),
            Some(state) => {
                let rows = ns.run("ss", ss_args).stdout;
                let rows = String::from_utf8_lossy(&rows).lines().count() as u64;
                BTreeMap::from([(format!("\"{state}\""), rows)])
            }
        };
        assert!(
            expected.values().all(|&n| n > 0) && !expected.is_empty(),
            "{ss_args:?} lists sockets"
        );
        assert_eq!(auto(args), expected, "{args:?}");
    }
    // every table: TCP and UDP from sock_diag (the expression), unix from
    // its iterator (no unix socket matches an inet expression): the same
    // output as sock_diag alone gives
    let args = ["--group-by", "proto,state", "sport = :7200"];
    let stderr = told(&args);
    assert!(
        stderr.contains("counts TCP from sock_diag")
            && stderr.contains("counts UDP from sock_diag"),
        "{stderr}"
    );
    let netlink = with_source(&ns, "netlink", &args, &[]);
    assert_eq!(
        String::from_utf8_lossy(&with_source(&ns, "auto", &args, &[]).stdout),
        String::from_utf8_lossy(&netlink.stdout)
    );
    assert!(String::from_utf8_lossy(&netlink.stdout).contains("LISTEN"));
    // what keeps most sockets stays with the iterator: every state, the
    // bulk states, a negation, a port range
    for (args, ss_args) in [
        (&["-ta", "--group-by", "state"][..], &["-tanH"][..]),
        (
            &["-t", "--group-by", "state", "state", "time-wait"][..],
            &["-tanH", "state", "time-wait"][..],
        ),
        (
            &["-ta", "--group-by", "state", "not sport = :7200"][..],
            &["-tanH", "not sport = :7200"][..],
        ),
        (
            &["-ta", "--group-by", "state", "dport >= :1024"][..],
            &["-tanH", "dport >= :1024"][..],
        ),
    ] {
        let stderr = told(args);
        assert!(!stderr.contains("from sock_diag"), "{args:?}: {stderr}");
        let view: u64 = auto(args).values().sum();
        let rows = String::from_utf8_lossy(&ns.run("ss", ss_args).stdout)
            .lines()
            .count() as u64;
        assert!(rows > 0, "{ss_args:?} lists sockets");
        assert_eq!(view, rows, "{args:?}");
    }
}

/// The exporter's socket gauges: the same series and values from both
/// sources (one collection written with --textfile).
#[test]
fn the_exporters_socket_metrics_are_the_same() {
    let Some(ns) = Namespace::create("vsrcexp") else {
        return;
    };
    let _population = Population::start(&ns);
    let _lb = Holder::start(&ns);
    let _more = more_states(&ns);
    let dir = TempDir::new("vsrcexp");
    let metrics = |source: &str, info: bool| {
        let file = dir.path().join(format!("{source}.prom"));
        let mut args = vec!["--textfile", file.to_str().unwrap()];
        if info {
            args.push("--info");
        }
        let out = with_source(&ns, source, &args, &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = std::fs::read_to_string(&file).unwrap();
        // only the socket collectors: interface and SNMP counters move,
        // and so does the health of the SYN_SENT socket's backend (its SYN
        // is retransmitted)
        text.lines()
            .filter(|l| {
                ["nlstat_sockets", "nlstat_tcp_", "nlstat_ephemeral"]
                    .iter()
                    .any(|p| l.starts_with(p))
                    && !l.contains("remote_addr=\"10.77.0.9\"")
            })
            .map(String::from)
            .collect::<Vec<_>>()
    };
    let bpf = metrics("bpf", false);
    assert!(
        bpf.iter().any(|l| l.contains("state=\"SYN_RECV\"} 3")),
        "{bpf:#?}"
    );
    assert_eq!(bpf, metrics("netlink", false));
    let health = metrics("bpf", true);
    assert!(
        health
            .iter()
            .any(|l| l.starts_with("nlstat_tcp_rtt_seconds_count")),
        "{health:#?}"
    );
    assert_eq!(health, metrics("netlink", true));
}

/// Without the iterators the view is counted from sock_diag with the same
/// result; `-v` says why, `--view-source bpf` fails with the reason.
#[test]
fn fallbacks_count_the_same_and_bpf_says_why() {
    let Some(ns) = Namespace::create("vsrcfb") else {
        return;
    };
    if !require_tools(&["setpriv"]) {
        return;
    }
    let _population = Population::start(&ns);
    let garbage = TempDir::new("vsrcfb");
    let btf = garbage.path().join("vmlinux");
    std::fs::write(&btf, b"not BTF at all").unwrap();
    let btf = btf.to_str().unwrap().to_string();
    let args = ["-a", "--group-by", "proto,state,local_port"];
    let expected = with_source(&ns, "netlink", &args, &[]);
    assert!(expected.status.success());
    for (env, reason) in [
        (vec![("NLSTAT_BTF_PATH", btf.as_str())], "kernel BTF"),
        (
            vec![("NLSTAT_BPF_REJECT", "1")],
            "loading the tcp iterator program: Permission denied",
        ),
    ] {
        let auto = with_source(&ns, "auto", &args, &env);
        assert_eq!(auto.stdout, expected.stdout, "{env:?}");
        assert!(auto.stderr.is_empty(), "silent without -v: {env:?}");
        let mut verbose = args.to_vec();
        verbose.push("-v");
        let told = with_source(&ns, "auto", &verbose, &env);
        let told = String::from_utf8_lossy(&told.stderr);
        assert!(
            told.contains("the view counts from sock_diag (no BPF socket iterator: ")
                && told.contains(reason),
            "{env:?}: {told}"
        );
        let bpf = with_source(&ns, "bpf", &args, &env);
        let error = String::from_utf8_lossy(&bpf.stderr);
        assert_eq!(bpf.status.code(), Some(1), "{env:?}: {error}");
        assert!(bpf.stdout.is_empty(), "nothing printed before the error");
        assert_eq!(error.lines().count(), 1, "{error}");
        assert!(
            error.contains("--view-source bpf: ") && error.contains(reason),
            "{error}"
        );
    }
    // an unprivileged user: sock_diag, the same counts as that user sees
    let as_user = |source: &str| {
        ns.run(
            "setpriv",
            &[
                "--reuid=3141593",
                "--regid=3141593",
                "--clear-groups",
                nlstat(),
                "--view-source",
                source,
                "-a",
                "--group-by",
                "proto,state,local_port",
            ],
        )
    };
    let auto = as_user("auto");
    assert!(auto.status.success());
    assert_eq!(auto.stdout, expected.stdout);
    let bpf = as_user("bpf");
    assert_eq!(bpf.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bpf.stderr)
            .contains("--view-source bpf: loading BPF programs needs CAP_BPF and CAP_PERFMON"),
        "{}",
        String::from_utf8_lossy(&bpf.stderr)
    );
}

/// The JSON lines of `--all-netns` output labelled with one of
/// `namespaces`: other tests' namespaces come and go beside a test's own,
/// so only the rows of its own are compared.
fn rows_of(stdout: &[u8], namespaces: &[&Namespace]) -> Vec<String> {
    let labels: Vec<String> = namespaces
        .iter()
        .map(|n| format!("\"netns\":\"{}\"", n.name))
        .collect();
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| labels.iter().any(|n| l.contains(n.as_str())))
        .map(String::from)
        .collect()
}

/// Every namespace of --all-netns walks its own sockets.
#[test]
fn all_namespaces_count_the_same() {
    let Some(first) = Namespace::create("vsrcall1") else {
        return;
    };
    let Some(second) = Namespace::create("vsrcall2") else {
        return;
    };
    let _population = Population::start(&first);
    let _lb = Holder::start(&second);
    let run = |source: &str| {
        let out = std::process::Command::new(nlstat())
            .args([
                "--view-source",
                source,
                "--all-netns",
                "--json",
                "-tan",
                "--group-by",
                "state,local_port",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        rows_of(&out.stdout, &[&first, &second])
    };
    let bpf = run("bpf");
    for name in [&first.name, &second.name] {
        let label = format!("\"netns\":\"{name}\"");
        assert!(bpf.iter().any(|l| l.contains(&label)), "{name}: {bpf:#?}");
    }
    assert_eq!(bpf, run("netlink"));
}

#[test]
fn view_source_refusals() {
    for (args, expected) in [
        (
            &["--view-source", "bpf", "-tan"][..],
            "--view-source chooses where",
        ),
        (
            &["--view-source", "ebpf", "--summary"][..],
            "--view-source: unknown source `ebpf'",
        ),
        (
            &["--view-source", "bpf", "--source", "proc", "--summary"][..],
            "it does not go with --source proc",
        ),
        (
            &[
                "--view-source",
                "bpf",
                "--summary",
                "--replay",
                "/nonexistent",
            ][..],
            "it does not go with --record or --replay",
        ),
        (
            &["--view-source", "auto", "--events", "--group-by", "state"][..],
            "(not with --events)",
        ),
    ] {
        let out = std::process::Command::new(nlstat())
            .args(args)
            .output()
            .unwrap();
        let error = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {error}");
        assert!(
            error.lines().next().unwrap().contains(expected),
            "{args:?}: {error}"
        );
    }
}

/// One set of programs serves every namespace: 40 namespaces, two ticks,
/// under a limit of 64 descriptors (a program and a link per namespace
/// would need 80).
#[test]
fn many_namespaces_share_one_set_of_programs() {
    let namespaces: Vec<Namespace> = (0..40)
        .map_while(|i| Namespace::create(&format!("vsrcmany{i}")))
        .collect();
    if namespaces.len() < 40 {
        return;
    }
    // a listener with a connection in three of them
    let holders: Vec<KillOnDrop> = namespaces[..3]
        .iter()
        .map(|ns| {
            let mut child = ns
                .command("python3", &["-c", HOLD_ONE_CONNECTION])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("start python3");
            assert_eq!(first_line(&mut child).trim(), "READY");
            KillOnDrop(child)
        })
        .collect();
    let run = |source: &str| {
        let script = format!(
            "ulimit -n 64 && exec {} --view-source {source} --all-netns --json -tan --group-by state --count 2",
            nlstat()
        );
        let out = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{source}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        rows_of(&out.stdout, &namespaces.iter().collect::<Vec<_>>())
    };
    let bpf = run("bpf");
    // LISTEN and two ESTABLISHED in each of the three, on both ticks
    // (each tick keeps every namespace's listing)
    assert_eq!(bpf.len(), 12, "{bpf:#?}");
    assert_eq!(bpf, run("netlink"));
    drop(holders);
}

const HOLD_ONE_CONNECTION: &str = r#"
import socket, sys
l = socket.socket(); l.bind(("127.0.0.1", 7400)); l.listen(1)
c = socket.socket(); c.connect(("127.0.0.1", 7400)); a = l.accept()
print("READY", flush=True)
sys.stdin.read()
"#;
