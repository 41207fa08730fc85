//! `-g` against /usr/bin/netstat: group memberships on interfaces with
//! names of every length netstat's parser treats differently, alone and
//! combined with socket tables and families, once and under `-c`; and on
//! fixture files with odd lines (see statistics.rs for how netstat is run
//! on fixture files).

use crate::support::*;
use std::path::Path;

/// veth pairs named 2 to 15 characters (the IPv4 file pads names to 10
/// and follows long ones with the colon directly); IPv4 groups with a
/// zero last byte and IPv6 groups joined through `autojoin`. Then the
/// memberships must settle before anything is compared.
const SETUP: &str = "
ip link add abcdefghijklmno type veth peer name d0
ip link add abcdefghijkl type veth peer name abcdefghijk
ip link add abcdefghij type veth peer name abcdefghi
for l in abcdefghijklmno d0 abcdefghijkl abcdefghijk abcdefghij abcdefghi; do ip link set $l up; done
ip addr add 239.1.2.3/32 dev abcdefghijklmno autojoin
ip addr add 239.1.2.0/32 dev d0 autojoin
ip -6 addr add ff05::1234/128 dev d0 autojoin
ip -6 addr add ff0e::1:2/128 dev abcdefghij autojoin
# Links coming up join their solicited-node groups a moment later: wait
# (at most 6 s) until the table holds still for 0.3 s.
prev=; for i in $(seq 20); do cur=$(/usr/bin/netstat -gn); [ \"$cur\" = \"$prev\" ] && break; prev=$cur; sleep 0.3; done
";

const FLAG_SETS: &[&[&str]] = &[
    &["-g"],
    &["-gn"],
    &["--groups"],
    &["-tg"],
    &["-tgn"],
    &["-g", "-6"],
    &["-g6n"],
    &["-g", "-4"],
    &["-g", "--inet6", "-n"],
    &["-gA", "inet"],
    &["-g", "-A", "inet,inet6"],
    &["-gx"],
    &["-gxn"],
    &["-ga"],
    &["-gl"],
    &["-gu"],
    &["-gW"],
    &["-gv"],
    &["-ge"],
    &["-gtuwn"],
];

#[test]
fn groups_match_netstat() {
    let Some(ns) = Namespace::create("groups") else {
        return;
    };
    ns.sh(SETUP);
    let shown = String::from_utf8_lossy(&ns.run(NETSTAT, &["-gn"]).stdout).into_owned();
    for line in [
        "abcdefghijklmno 1      239.1.2.3\n",
        "d0              1      239.1.2.0\n",
        "abcdefghijk     1      224.0.0.1\n",
        "d0              1      ff05::1234\n",
    ] {
        assert!(
            shown.contains(line),
            "setup did not give {line:?}:\n{shown}"
        );
    }
    let results = FLAG_SETS
        .iter()
        .map(|args| same_output(args, &ns.run(NETSTAT, args), &ns.run(nlstat(), args)))
        .collect();
    assert_all(results);
}

#[test]
fn groups_of_a_bare_namespace() {
    let Some(ns) = Namespace::create("groups0") else {
        return;
    };
    let results = [&["-g"][..], &["-gn"], &["-g6"], &["-tg"]]
        .iter()
        .map(|args| same_output(args, &ns.run(NETSTAT, args), &ns.run(nlstat(), args)))
        .collect();
    assert_all(results);
}

/// From its second tick on, netstat reads /proc/net/igmp with the igmp6
/// layout (its parser state is static): warnings on stderr and garbage
/// rows. Both tools run for 2.6 s and the first two ticks are compared
/// (a first tick that resolves names may take a while, so a third tick
/// may or may not fit).
/// netstat never resets its igmp parser between `-c` ticks and prints
/// garbage from the second tick on; nlstat prints every tick as netstat
/// prints the first one (a documented difference).
#[test]
fn continuous_groups_repeat_the_first_table() {
    let Some(ns) = Namespace::create("groupsc") else {
        return;
    };
    ns.sh(SETUP);
    for args in [&["-g"][..], &["-gn"], &["-tgn"]] {
        let once = ns.run(NETSTAT, args);
        let mut timed = vec!["-s", "INT", "1.8", nlstat(), "-c"];
        timed.extend_from_slice(args);
        let ours = ns.run("timeout", &timed);
        let (once, ours) = (
            String::from_utf8_lossy(&once.stdout),
            String::from_utf8_lossy(&ours.stdout),
        );
        assert!(once.contains("IPv6/IPv4 Group Memberships"), "{once}");
        assert_eq!(
            ours,
            format!("{once}{once}"),
            "two identical ticks for {args:?}"
        );
    }
}

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proc-groups")
}

/// Fixture lines: a v4-mapped, an unspecified and a loopback address in
/// igmp6, a short hex address, a device line without an Idx number, a
/// device line shorter than 15 bytes (the rest of the previous name stays
/// behind), a bogus line in each file. Expected output recorded from
/// netstat on these files.
#[test]
fn fixture_groups_match_recorded_netstat_output() {
    let root = fixtures();
    let out = nlstat_at(&root, &["-gn"]);
    let want = std::fs::read_to_string(root.join("expected/gn.out")).unwrap();
    let got = String::from_utf8_lossy(&out.stdout);
    assert_eq!(got, want, "{}", describe_diff(&want, &got));
    let want = std::fs::read_to_string(root.join("expected/gn.err")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), want);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn fixture_groups_match_live_netstat() {
    let root = fixtures();
    let mut results = Vec::new();
    for args in [&["-g"][..], &["-gn"], &["--groups", "--numeric-hosts"]] {
        let Some(theirs) = netstat_at(&root, args) else {
            return;
        };
        results.push(same_output(args, &theirs, &nlstat_at(&root, args)));
    }
    assert_all(results);
}

/// No /proc/net/igmp: netstat's complaint, exit 1, and the IPv6 groups
/// still print; an IPv6-only run does not need the IPv4 file.
#[test]
fn missing_igmp_file() {
    let root = TempDir::new("groups-missing");
    std::fs::create_dir_all(root.join("net")).unwrap();
    std::fs::copy(fixtures().join("net/igmp6"), root.join("net/igmp6")).unwrap();
    let out = nlstat_at(&root, &["-gn"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("netstat: no support for `AF INET (igmp)' on this system.\n"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("lo              1      ff02::1\n"));
    if let Some(theirs) = netstat_at(&root, &["-gn"]) {
        assert_all(vec![same_output(&["-gn"], &theirs, &out)]);
    }
}
