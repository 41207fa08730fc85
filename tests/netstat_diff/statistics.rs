//! `-s` and `-M` against /usr/bin/netstat: in fresh namespaces with a
//! little loopback traffic, and on fixture /proc files.
//!
//! netstat cannot be pointed at another /proc, but as root it can be run
//! in a private mount namespace with a tmpfs over /proc holding only the
//! fixture files (`unshare -m`). That is how the expected outputs under
//! tests/fixtures/proc-stats/expected were made, and the live check below
//! redoes it so the recorded files cannot drift from the oracle.

use crate::support::*;
use std::path::{Path, PathBuf};

/// Bounded loopback traffic so the counters are not all zero: one TCP
/// connection with a few bytes each way, closed with a reset so that no
/// TIME_WAIT timer can move a counter later; one UDP datagram to a port
/// nobody listens on (an ICMP port unreachable comes back); two ICMP
/// echo requests (ping is not installed; a raw socket sends them); the
/// same TCP and UDP over ::1. Then a pause so delayed ACKs have fired.
pub(crate) const TRAFFIC: &str = r#"
import socket, struct, time
def tcp(family, host):
    s = socket.socket(family); s.bind((host, 0)); s.listen()
    c = socket.create_connection(s.getsockname()[:2]); a, _ = s.accept()
    c.sendall(b"ping"); a.recv(4); a.sendall(b"pong"); c.recv(4)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close(); a.close(); s.close()
def checksum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
tcp(socket.AF_INET, "127.0.0.1")
tcp(socket.AF_INET6, "::1")
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b"x", ("127.0.0.1", 9)); u.close()
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.sendto(b"x", ("::1", 9)); u.close()
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); r.settimeout(1)
for seq in (1, 2):
    h = struct.pack("!BBHHH", 8, 0, 0, 77, seq) + b"nlstat"
    r.sendto(struct.pack("!BBHHH", 8, 0, checksum(h), 77, seq) + b"nlstat", ("127.0.0.1", 0))
    r.recv(256); r.recv(256)
time.sleep(0.5)
"#;

/// Every `-s` selection netstat accepts, and the ones it refuses.
const FLAG_SETS: &[&[&str]] = &[
    &["-s"],
    &["--statistics"],
    &["-st"],
    &["-su"],
    &["-sU"],
    &["-sw"],
    &["-sS"],
    &["-stu"],
    &["-s", "-6"],
    &["-s6"],
    &["-s6t"],
    &["-s6u"],
    &["-s6w"],
    &["-s", "--inet6"],
    &["-A", "inet6", "-s"],
    &["-s", "-A", "ip6"],
    &["-s", "-4"],
    &["-s", "--inet"],
    &["-s", "-A", "inet"],
    &["-sn"],
    &["-sg"],
    &["-sa"],
    &["-sv"],
    &["-sW"],
    &["-sp"],
    &["-s", "--numeric-hosts"],
    &["-se"],
    &["-sx"],
    &["-A", "unix", "-s"],
    &["-s", "-4", "-6"],
    &["-s", "-6", "-4"],
    &["-s", "-A", "inet,inet6"],
    &["-s", "-A", "ipx"],
    &["-s", "-A", "appletalk"],
    &["-s", "-x", "-t"],
];

/// stdout, stderr and exit status of both tools for `args`.
fn compare_all(ns: &Namespace, args: &[&str]) -> Result<(), String> {
    let theirs = ns.run(NETSTAT, args);
    let ours = ns.run(nlstat(), args);
    same_output(args, &theirs, &ours)
}

#[test]
fn statistics_match_netstat_after_loopback_traffic() {
    let Some(ns) = Namespace::create("stats") else {
        return;
    };
    let traffic = ns.run("python3", &["-c", TRAFFIC]);
    assert!(
        traffic.status.success(),
        "traffic: {}",
        String::from_utf8_lossy(&traffic.stderr)
    );
    // The traffic must show, or the comparison proves little.
    let s = String::from_utf8_lossy(&ns.run(NETSTAT, &["-s"]).stdout).into_owned();
    assert!(s.contains("    2 active connection openings\n"), "{s}");
    assert!(s.contains("        echo requests: 2\n"), "{s}");
    assert!(
        s.contains("    1 packets to unknown port received\n"),
        "{s}"
    );
    let s6 = String::from_utf8_lossy(&ns.run(NETSTAT, &["-s6"]).stdout).into_owned();
    assert!(
        s6.contains("Udp6:\n    0 packets received\n    1 packets to unknown port"),
        "{s6}"
    );
    // Nothing moves in a quiet namespace: no masks.
    assert_all(
        FLAG_SETS
            .iter()
            .map(|args| compare_all(&ns, args))
            .collect(),
    );
}

#[test]
fn statistics_of_an_untouched_namespace() {
    let Some(ns) = Namespace::create("stats0") else {
        return;
    };
    assert_all(
        [&["-s"][..], &["-s6"], &["-st"]]
            .iter()
            .map(|a| compare_all(&ns, a))
            .collect(),
    );
}

/// netstat prints the statistics once and exits, even with -c.
#[test]
fn statistics_ignore_continuous() {
    let Some(ns) = Namespace::create("statsc") else {
        return;
    };
    let theirs = ns.run("timeout", &["3", NETSTAT, "-s", "-c"]);
    let ours = ns.run("timeout", &["3", nlstat(), "-s", "-c"]);
    assert_all(vec![same_output(&["-s", "-c"], &theirs, &ours)]);
}

#[test]
fn masquerade_matches_netstat() {
    let Some(ns) = Namespace::create("masq") else {
        return;
    };
    let sets: &[&[&str]] = &[
        &["-M"],
        &["-Mn"],
        &["-M", "-c"],
        &["-Mne"],
        &["--masquerade", "-6"],
        &["-Mt"],
    ];
    let results = sets
        .iter()
        .map(|args| {
            // -c must not loop here: guard with a timeout all the same.
            let mut timed = vec!["5", NETSTAT];
            timed.extend_from_slice(args);
            let theirs = ns.run("timeout", &timed);
            timed[1] = nlstat();
            let ours = ns.run("timeout", &timed);
            same_output(args, &theirs, &ours)
        })
        .collect();
    assert_all(results);
}

fn fixtures() -> PathBuf {
    fixture("proc-stats")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The recorded expectations: (fixture, arguments, file under expected/).
/// proc-stats holds real kernel files plus an unknown key in Ip and in
/// snmp6, zero values, an unknown table with a negative and a maximal
/// value, a non-zero ICMPv6 histogram and a /proc/net/sctp/snmp.
/// proc-stats-keys sets every key netstat has a sentence for to a
/// different number, so each sentence, and each key netstat's lookup
/// cannot find, is checked.
const FIXTURE_RUNS: &[(&str, &[&str], &str)] = &[
    ("proc-stats", &["-s"], "s.out"),
    ("proc-stats", &["-st"], "st.out"),
    ("proc-stats", &["-su"], "su.out"),
    ("proc-stats", &["-sw"], "sw.out"),
    ("proc-stats", &["-sU"], "sU.out"),
    ("proc-stats", &["-s6"], "s6.out"),
    ("proc-stats", &["-s6t"], "s6t.out"),
    ("proc-stats", &["-s6u"], "s6u.out"),
    ("proc-stats", &["-s6w"], "s6w.out"),
    ("proc-stats-keys", &["-s"], "s.out"),
    ("proc-stats-keys", &["-s6"], "s6.out"),
];

#[test]
fn fixture_statistics_match_recorded_netstat_output() {
    for (name, args, expected) in FIXTURE_RUNS {
        let root = fixture(name);
        let want = std::fs::read_to_string(root.join("expected").join(expected)).unwrap();
        let out = nlstat_at(&root, args);
        let got = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            got,
            want,
            "{name} {args:?}:\n{}",
            describe_diff(&want, &got)
        );
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The fixture exercises what it claims to.
    let all = std::fs::read_to_string(fixtures().join("expected/s.out")).unwrap();
    for line in [
        "    NlstatNewKey: 7\n",
        "NlstatExt:\n    Beta: 12\n    Negative: 18446744073709551613\n    Huge: 18446744073709551615\n",
        "Sctp:\n    0 Current Associations\n    5 Active Associations\n",
        "    Forwarding: 2\n",
    ] {
        assert!(all.contains(line), "missing {line:?}");
    }
    assert!(!all.contains("NlstatZeroKey"));
    let keys = std::fs::read_to_string(fixture("proc-stats-keys").join("expected/s.out")).unwrap();
    assert!(keys.contains("    TWKilled: 130\n") && keys.contains("        redirect: 41\n"));
}

#[test]
fn fixture_statistics_match_live_netstat() {
    let mut results = Vec::new();
    for (name, args, expected) in FIXTURE_RUNS {
        let root = fixture(name);
        let Some(theirs) = netstat_at(&root, args) else {
            return;
        };
        let want = std::fs::read(root.join("expected").join(expected)).unwrap();
        assert_eq!(
            theirs.stdout, want,
            "recorded {name}/{expected} is not what netstat prints now"
        );
        results.push(same_output(args, &theirs, &nlstat_at(&root, args)));
    }
    assert_all(results);
}

/// A missing file: netstat's message (with the path) on stderr, nothing
/// on stdout. netstat exits 0 there; nlstat exits 1, as every unreadable
/// /proc file does in nlstat.
#[test]
fn missing_statistics_files() {
    let empty = TempDir::new("empty-proc");
    std::fs::create_dir_all(empty.join("net")).unwrap();
    for (args, file) in [
        (&["-s"][..], "snmp"),
        (&["-s6"], "snmp6"),
        (&["-st"], "snmp"),
    ] {
        let out = nlstat_at(&empty, args);
        assert!(out.stdout.is_empty(), "{args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "cannot open {}/net/{file}: No such file or directory\n",
                empty.display()
            )
        );
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        if let Some(theirs) = netstat_at(&empty, args) {
            assert!(theirs.stdout.is_empty());
            assert_eq!(
                String::from_utf8_lossy(&theirs.stderr),
                format!("cannot open /proc/net/{file}: No such file or directory\n")
            );
        }
    }
    // Without /proc/net/netstat (optional for netstat) the rest still prints.
    let partial = empty.join("partial");
    std::fs::create_dir_all(partial.join("net")).unwrap();
    std::fs::copy(fixtures().join("net/snmp"), partial.join("net/snmp")).unwrap();
    let out = nlstat_at(&partial, &["-s"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Ip:\n    Forwarding: 2\n"));
    if let Some(theirs) = netstat_at(&partial, &["-s"]) {
        assert_all(vec![same_output(&["-s"], &theirs, &out)]);
    }
}

/// A header line without its colon: netstat complains, stops reading
/// that file and goes on with /proc/net/netstat, exiting 0.
#[test]
fn format_problem_is_reported_and_reading_goes_on() {
    let root = TempDir::new("bad-snmp");
    std::fs::create_dir_all(root.join("net")).unwrap();
    std::fs::write(
        root.join("net/snmp"),
        "Ip: Forwarding InReceives\nIp: 1 5\nBroken line\nno colon\nUdp: InDatagrams\nUdp: 3\n",
    )
    .unwrap();
    std::fs::write(root.join("net/netstat"), "TcpExt: TW\nTcpExt: 9\n").unwrap();
    let out = nlstat_at(&root, &["-s"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Ip:\n    Forwarding: 1\n    5 total packets received\n\
         TcpExt:\n    9 TCP sockets finished time wait in fast timer\n"
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("Problem while parsing {}/net/snmp\n", root.display())
    );
    assert_eq!(out.status.code(), Some(0));
    if let Some(theirs) = netstat_at(&root, &["-s"]) {
        assert_eq!(theirs.stdout, out.stdout);
        assert_eq!(
            String::from_utf8_lossy(&theirs.stderr),
            "Problem while parsing /proc/net/snmp\n"
        );
        assert_eq!(theirs.status.code(), Some(0));
    }
}
