//! Filter expressions against ss, the oracle for what they mean: for each
//! expression the set of sockets nlstat shows (read from `--json`) must be
//! the set ss shows for the same expression, normalised to addresses,
//! ports and state (unix: inode and state), on the sock_diag path and with
//! `--source proc`. Also: filtered text tables keep netstat's rows byte for
//! byte, the kernel and user space agree on random expressions, and bad
//! expressions fail as a bad option does.

use crate::json_sockets::json_lines;
use crate::random_filters::random_expressions;
use crate::support::*;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// (local address, local port, remote address, remote port, state)
type InetKey = (IpAddr, u16, IpAddr, u16, u8);

fn ss_state(word: &str) -> u8 {
    match word {
        "ESTAB" => 1,
        "SYN-SENT" => 2,
        "SYN-RECV" => 3,
        "FIN-WAIT-1" => 4,
        "FIN-WAIT-2" => 5,
        "TIME-WAIT" => 6,
        "UNCONN" => 7,
        "CLOSE-WAIT" => 8,
        "LAST-ACK" => 9,
        "LISTEN" => 10,
        "CLOSING" => 11,
        other => panic!("ss state {other:?}"),
    }
}

/// `127.0.0.1:22`, `[::1]:443`, `*:8080` (ss's dual-stack wildcard),
/// `0.0.0.0:*`, `%lo` suffixes.
fn ss_endpoint(text: &str) -> (IpAddr, u16) {
    let colon = text.rfind(':').expect("address:port");
    let (host, port) = (&text[..colon], &text[colon + 1..]);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.split('%').next().unwrap();
    let address = if host == "*" {
        "::".parse().unwrap()
    } else {
        host.parse()
            .unwrap_or_else(|_| panic!("ss address {text:?}"))
    };
    let port = if port == "*" {
        0
    } else {
        port.parse().unwrap()
    };
    (address, port)
}

/// The one state an expression names, for ss's tables without a State
/// column (ss leaves it out when the filter allows a single state).
fn single_state(expr: &[&str]) -> u8 {
    let words: Vec<&str> = expr.iter().flat_map(|w| w.split_whitespace()).collect();
    let named: Vec<&str> = words
        .windows(2)
        .filter(|w| w[0] == "state")
        .map(|w| w[1])
        .collect();
    match named.as_slice() {
        ["established"] => 1,
        ["time-wait"] => 6,
        ["closed"] => 7,
        ["close-wait"] => 8,
        ["fin-wait-2"] => 5,
        ["listening"] => 10,
        other => panic!("ss printed no State column for states {other:?}"),
    }
}

fn ss_inet(stdout: &[u8], expr: &[&str]) -> BTreeSet<InetKey> {
    let text = String::from_utf8_lossy(stdout);
    let mut lines = text.lines();
    let has_state = lines.next().is_some_and(|h| h.starts_with("State"));
    lines
        .map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let (state, cols) = if has_state {
                (ss_state(cols[0]), &cols[1..])
            } else {
                (single_state(expr), &cols[..])
            };
            let (la, lp) = ss_endpoint(cols[2]);
            let (ra, rp) = ss_endpoint(cols[3]);
            (la, lp, ra, rp, state)
        })
        .collect()
}

fn json_inet(stdout: &[u8]) -> BTreeSet<InetKey> {
    json_lines(stdout)
        .iter()
        .map(|o| {
            let address = |k: &str| o[k].as_str().unwrap().parse::<IpAddr>().unwrap();
            let port = |k: &str| o[k].as_u64().unwrap_or(0) as u16;
            (
                address("local_addr"),
                port("local_port"),
                address("remote_addr"),
                port("remote_port"),
                o["state_code"].as_u64().unwrap() as u8,
            )
        })
        .collect()
}

/// ss's unix rows as (inode, state); columns counted from the right,
/// since a path may hold blanks.
fn ss_unix(stdout: &[u8], expr: &[&str]) -> BTreeSet<(u64, u8)> {
    let text = String::from_utf8_lossy(stdout);
    let mut lines = text.lines();
    let has_state = lines.next().is_some_and(|h| h.contains(" State "));
    lines
        .map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let inode = cols[cols.len() - 3].parse().unwrap();
            let state = if has_state {
                ss_state(cols[1])
            } else {
                single_state(expr)
            };
            (inode, state)
        })
        .collect()
}

/// nlstat's unix rows as (inode, state); connections still in a
/// listener's queue (inode 0) are invisible to ss.
fn json_unix(stdout: &[u8]) -> BTreeSet<(u64, u8)> {
    json_lines(stdout)
        .iter()
        .filter(|o| o["inode"] != 0)
        .map(|o| {
            let state = match (o["state"].as_str(), o["flags"].as_array().unwrap().len()) {
                (Some("LISTENING"), _) => 10,
                (Some("CONNECTED"), _) => 1,
                (None, _) => 7,
                (other, _) => panic!("unix state {other:?}"),
            };
            (o["inode"].as_u64().unwrap(), state)
        })
        .collect()
}

/// Expressions over TCP; every operator spelling, every state group,
/// negation, nesting, host names, service names.
const TCP_EXPRESSIONS: &[&[&str]] = &[
    &["sport", "=", ":22"],
    &["dport", "=", ":22"],
    &["sport", "==", ":80"],
    &["sport", "eq", ":443"],
    &["sport", ":4711"],
    &["dport", "!=", ":22"],
    &["sport", "ne", ":22"],
    &["sport", "neq", ":8080"],
    &["sport", "<", ":1024"],
    &["sport", "lt", ":443"],
    &["sport", "<=", ":443"],
    &["sport", "le", ":80"],
    &["sport", "leq", ":22"],
    &["sport", ">", ":1024"],
    &["dport", "gt", ":1024"],
    &["sport", ">=", ":8080"],
    &["sport", "ge", ":443"],
    &["dport", "geq", ":6000"],
    &["src", "127.0.0.1"],
    &["dst", "127.0.0.0/8"],
    &["src", "[::1]"],
    &["dst", "[fd00::/8]"],
    &["src", "127.1.2.3:54321"],
    &["dst", "[::1]:443"],
    &["src", "=", "127.45.67.89/32"],
    &["src", "127.0.0.0/24"],
    &["dst", "0.0.0.0/0"],
    &["sport", "=", ":ssh"],
    &["( sport = :22 or sport = :80 )"],
    &["sport", "=", ":22", "and", "dport", "!=", ":0"],
    &["not", "sport", "=", ":22"],
    &["!", "dst", "127.0.0.1"],
    &["( sport = :22 or sport = :443 ) and not dst [::1]"],
    &["sport = :22 || sport = :4711 && dport > :1024"],
    &["sport = :22 or sport = :80 dport > :1024"],
    &["( ( sport = :22 ) )"],
    &["not ( sport = :22 or not dport = :22 )"],
    &[
        "(",
        "sport",
        ">=",
        ":80",
        "&",
        "sport",
        "<=",
        ":443",
        ")",
        "|",
        "dst",
        "[fd00::/8]",
    ],
    &["state", "established"],
    &["state", "listening"],
    &["state", "time-wait"],
    &["state", "close-wait"],
    &["state", "fin-wait-2"],
    &["state", "connected"],
    &["state", "synchronized"],
    &["state", "bucket"],
    &["state", "big"],
    &["state", "all"],
    &["state", "closed"],
    &["exclude", "established"],
    &["exclude", "listening", "exclude", "time-wait"],
    &["state", "established", "state", "close-wait"],
    &["state", "established", "( dport = :22 or sport = :22 )"],
    &["state", "connected", "dst", "127.0.0.0/8"],
    &["exclude", "listening", "sport", "ge", ":1024"],
    &["state", "listening", "not", "src", "127.0.0.1"],
];

const UDP_EXPRESSIONS: &[&[&str]] = &[
    &["sport", "=", ":53"],
    &["state", "established"],
    &["state", "closed"],
    &["dst", "127.0.0.1"],
    &["not", "dst", "0.0.0.0/0", "and", "not", "dst", "[::/0]"],
    &["src", "[::/0]"],
    &["sport", ">", ":2000"],
];

const UNIX_EXPRESSIONS: &[&[&str]] = &[
    &["state", "listening"],
    &["state", "connected"],
    &["exclude", "connected"],
    &["state", "all"],
    &["src", "*/stream.sock"],
    &["src", "@nlstat-*"],
    &["src", "*SEQ*"],
    &["not", "src", "*.sock"],
    &["state", "listening", "src", "*/*"],
    &["dst", "*"],
];

fn run_ss(ns: &Namespace, table: &str, expr: &[&str]) -> std::process::Output {
    let mut args = vec![table];
    args.extend_from_slice(expr);
    let out = ns.run("ss", &args);
    assert!(
        out.status.success(),
        "ss {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn run_nlstat(ns: &Namespace, extra: &[&str], table: &str, expr: &[&str]) -> std::process::Output {
    let mut args = extra.to_vec();
    args.extend_from_slice(&["--json", table]);
    args.extend_from_slice(expr);
    let out = ns.run(nlstat(), &args);
    assert!(
        out.status.success(),
        "nlstat {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub(crate) fn compare_with_ss(ns: &Namespace, extra: &[&str]) {
    let mut results = Vec::new();
    let mut nonempty = 0;
    for (table, expressions) in [("-tan", TCP_EXPRESSIONS), ("-uan", UDP_EXPRESSIONS)] {
        for expr in expressions {
            let theirs = ss_inet(&run_ss(ns, table, expr).stdout, expr);
            let ours = json_inet(&run_nlstat(ns, extra, table, expr).stdout);
            nonempty += usize::from(!theirs.is_empty());
            results.push(if theirs == ours {
                Ok(())
            } else {
                Err(format!(
                    "{extra:?} {table} {expr:?}:\n  only ss: {:?}\n  only nlstat: {:?}",
                    theirs.difference(&ours).collect::<Vec<_>>(),
                    ours.difference(&theirs).collect::<Vec<_>>()
                ))
            });
        }
    }
    for expr in UNIX_EXPRESSIONS {
        let theirs = ss_unix(&run_ss(ns, "-xan", expr).stdout, expr);
        let ours = json_unix(&run_nlstat(ns, extra, "-xan", expr).stdout);
        nonempty += usize::from(!theirs.is_empty());
        results.push(if theirs == ours {
            Ok(())
        } else {
            Err(format!(
                "{extra:?} -xan {expr:?}:\n  only ss: {:?}\n  only nlstat: {:?}",
                theirs.difference(&ours).collect::<Vec<_>>(),
                ours.difference(&theirs).collect::<Vec<_>>()
            ))
        });
    }
    let total = results.len();
    assert!(
        nonempty * 10 >= total * 7,
        "only {nonempty} of {total} expressions matched anything: the population is missing"
    );
    assert_all(results);
}

#[test]
fn filters_mean_what_ss_means_over_sock_diag() {
    let Some(ns) = Namespace::create("fsd") else {
        return;
    };
    let _population = Population::start(&ns);
    compare_with_ss(&ns, &[]);
}

#[test]
fn filters_mean_what_ss_means_from_proc() {
    let Some(ns) = Namespace::create("fproc") else {
        return;
    };
    let _population = Population::start(&ns);
    compare_with_ss(&ns, &["--source", "proc"]);
}

/// With any socket flag, a filtered table is netstat's table with only
/// the matching rows: each printed row is one of netstat's rows, byte for
/// byte (timer seconds masked), and as many as ss finds.
#[test]
fn filtered_tables_keep_netstats_rows() {
    let Some(ns) = Namespace::create("frows") else {
        return;
    };
    let _population = Population::start(&ns);
    for (flags, expr, ss_table) in [
        (&["-tanpeo"][..], &["sport", "=", ":22"][..], "-tan"),
        (&["-taeW"], &["dst", "127.0.0.0/8"], "-tan"),
        (&["-6", "-tan"], &["state", "established"], "-6tan"),
        (&["-4", "-tanp"], &["not", "sport", "=", ":22"], "-4tan"),
        (&["-uanp"], &["sport", "=", ":53"], "-uan"),
        (&["-tn"], &["state", "listening"], "-tn"),
    ] {
        // named states override -a/-l: the rows come from netstat -a's
        let mut all = flags.to_vec();
        all.push("-a");
        let netstat = ns.run(NETSTAT, &all);
        let netstat_rows: BTreeSet<String> = String::from_utf8_lossy(&netstat.stdout)
            .lines()
            .map(mask_timers)
            .collect();
        let mut args = flags.to_vec();
        args.extend_from_slice(expr);
        let ours = ns.run(nlstat(), &args);
        let text = String::from_utf8_lossy(&ours.stdout);
        let mut lines = text.lines();
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("Active Internet connections")
        );
        assert!(lines.next().unwrap().starts_with("Proto Recv-Q"));
        let rows: Vec<String> = lines.map(mask_timers).collect();
        for row in &rows {
            assert!(
                netstat_rows.contains(row),
                "{args:?}: {row:?} is not one of netstat's rows"
            );
        }
        let mut ss_args = vec![ss_table];
        ss_args.extend_from_slice(expr);
        let ss_count = ss_inet(&ns.run("ss", &ss_args).stdout, expr).len();
        assert_eq!(rows.len(), ss_count, "{args:?}: as many rows as ss finds");
        assert!(!rows.is_empty(), "{args:?}: the population has matches");
    }
}

/// Random expressions decided by the kernel alone (bytecode) and by user
/// space alone give the same rows, and the same as both together.
#[test]
fn kernel_and_user_space_agree_on_random_expressions() {
    let Some(ns) = Namespace::create("fprop") else {
        return;
    };
    let _population = Population::start(&ns);
    let atoms = [
        "sport = :22",
        "dport = :22",
        "sport >= :443",
        "dport <= :8080",
        "sport > :1024",
        "dport < :1024",
        "dport != :0",
        "src 127.0.0.1",
        "dst 127.0.0.0/8",
        "src [::1]",
        "dst [fd00::]/8",
        "src 127.1.2.3:54321",
        "src 127.0.0.0/16",
        "dst [::ffff:127.0.0.1]",
        "src *:8080",
    ];
    let mut differing = Vec::new();
    let mut nonempty = 0;
    for expr in random_expressions(&atoms, 0x9e37_79b9_7f4a_7c15, 3, false).take(40) {
        let run = |place: &str| {
            let out = ns
                .command(nlstat(), &["--json", "-tan", &expr])
                .env("NLSTAT_FILTER_IN", place)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{expr}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            json_inet(&out.stdout)
        };
        let (kernel, user, both) = (run("kernel"), run("user"), run("both"));
        nonempty += usize::from(!kernel.is_empty());
        if kernel != user || user != both {
            differing.push(format!("{expr}: kernel {kernel:?}\n  user {user:?}"));
        }
    }
    assert!(differing.is_empty(), "{}", differing.join("\n"));
    assert!(nonempty >= 10, "random expressions matched too little");
}

/// A bad expression: one line naming the word and what was expected,
/// nothing on stdout, status 3.
#[test]
fn bad_expressions_fail_like_a_bad_option() {
    let Some(ns) = Namespace::create("fbad") else {
        return;
    };
    for (expr, word) in [
        (&["sport", "=", ":22", "bogus"][..], "`bogus'"),
        (&["sport", "="], "ends early"),
        (&["( sport = :22"], "ends early"),
        (&["sport = :22 )"], "`)'"),
        (&["dst", "10.0.0.0/33"], "`10.0.0.0/33'"),
        (&["sport", "=", ":99999"], "`:99999'"),
        (&["sport", "=", ":no-such-service"], "`:no-such-service'"),
        (&["state", "sleepy"], "`sleepy'"),
        (&["src", "[::1"], "`[::1'"),
        (&["and"], "`and'"),
        (&["not"], "ends early"),
    ] {
        let mut args = vec!["-tan"];
        args.extend_from_slice(expr);
        let out = ns.run(nlstat(), &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{expr:?}: status");
        assert!(out.stdout.is_empty(), "{expr:?}: nothing on stdout");
        assert_eq!(stderr.lines().count(), 1, "{expr:?}: one line: {stderr}");
        assert!(stderr.contains(word), "{expr:?}: names {word}: {stderr}");
        assert!(
            stderr.contains("expected"),
            "{expr:?}: says what was expected: {stderr}"
        );
    }
    // netstat ignores operands in the other modes; so does nlstat there
    let netstat = ns.run(NETSTAT, &["-rn", "whatever"]);
    let ours = ns.run(nlstat(), &["-rn", "whatever"]);
    assert_eq!(netstat.stdout, ours.stdout);
    assert_eq!(netstat.status.code(), ours.status.code());
}

/// `-c`: every tick is filtered.
#[test]
fn continuous_ticks_are_filtered() {
    let Some(ns) = Namespace::create("fcont") else {
        return;
    };
    let _population = Population::start(&ns);
    let out = ns.run(
        "timeout",
        &[
            "-s",
            "INT",
            "1.8",
            nlstat(),
            "-c",
            "-tan",
            "sport",
            "=",
            ":22",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let expr = ["sport", "=", ":22"];
    let theirs = ss_inet(&ns.run("ss", &["-tan", "sport", "=", ":22"]).stdout, &expr).len();
    let rows = text.lines().filter(|l| l.starts_with("tcp")).count();
    assert_eq!(text.matches("Active Internet").count(), 2, "two ticks");
    assert_eq!(rows, 2 * theirs, "each tick shows ss's {theirs} rows");
}
