//! Socket tables: the default listing and every socket option, on the
//! sock_diag path and on `--source proc`, against /usr/bin/netstat.

use crate::support::*;
use std::process::Command;

/// Flag combinations compared on both sources. Timers are masked where -o
/// is given (their seconds count down between the two runs); unix sockets
/// waiting in an accept queue may sit elsewhere in the list (see Masks).
pub(crate) const FLAG_SETS: &[&[&str]] = &[
    &[],
    &["-a"],
    &["-an"],
    &["-l"],
    &["-ln"],
    &["-t"],
    &["-tn"],
    &["-ta"],
    &["-tan"],
    &["-tln"],
    &["-u"],
    &["-uan"],
    &["-ul"],
    &["-wan"],
    &["-w"],
    &["-U"],
    &["-Uan"],
    &["--udplite", "-l"],
    &["-x"],
    &["-xa"],
    &["-xl"],
    &["--unix", "-a", "-n"],
    &["-A", "unix", "-l"],
    &["-tanp"],
    &["-xap"],
    &["-tanpe"],
    &["-tane"],
    &["-tae"],
    &["-taee"],
    &["-tano"],
    &["-tao"],
    &["-uano"],
    &["-tanW"],
    &["-taW"],
    &["-uW"],
    &["--numeric-hosts", "-ta"],
    &["--numeric-ports", "-ta"],
    &["--numeric-users", "-tae"],
    &["--numeric-hosts", "--numeric-ports", "-uae"],
    &["-4", "-an"],
    &["-6", "-an"],
    &["--inet", "-l"],
    &["--inet6", "-a"],
    &["-A", "inet6", "-an"],
    &["--protocol=inet,inet6", "-a"],
    &["--protocol=inet,unix", "-n"],
    &["-tunlp"],
    &["-aenpo"],
    &["-aeenpoW"],
    &["-N", "-ta"],
    &["-v", "-a"],
    &["-t", "-u", "-w", "-x", "-a", "-n"],
    &[
        "--tcp",
        "--udp",
        "--raw",
        "--listening",
        "--numeric",
        "--extend",
        "--programs",
    ],
    &["--all", "--timers", "--wide", "--numeric-ports"],
];

fn masks() -> Masks {
    Masks {
        timers: true,
        embryo_order: true,
    }
}

#[test]
fn socket_tables_match_netstat_over_sock_diag() {
    let Some(ns) = Namespace::create("sd") else {
        return;
    };
    let _population = Population::start(&ns);
    assert_all_match(&ns, FLAG_SETS, &[], masks());
}

#[test]
fn socket_tables_match_netstat_from_proc() {
    let Some(ns) = Namespace::create("proc") else {
        return;
    };
    let _population = Population::start(&ns);
    // Under --source proc nlstat reads what netstat reads, so even the
    // order of queued unix connections must match.
    let masks = Masks {
        timers: true,
        embryo_order: false,
    };
    assert_all_match(&ns, FLAG_SETS, &["--source", "proc"], masks);
}

#[test]
fn empty_namespace_prints_only_headers() {
    let Some(ns) = Namespace::create("empty") else {
        return;
    };
    assert_all_match(
        &ns,
        &[&[], &["-a"], &["-tulnpx"], &["-aeeo"]],
        &[],
        Masks::default(),
    );
}

#[test]
fn notrim_is_wide() {
    let Some(ns) = Namespace::create("notrim") else {
        return;
    };
    let _population = Population::start(&ns);
    // Debian's netstat 2.10 has no -T (other builds spell -W that way):
    // nlstat -T must print what netstat -W prints.
    let netstat = ns.run(NETSTAT, &["-taW"]);
    let nlstat = ns.run(nlstat(), &["-taT"]);
    let (e, a) = (
        String::from_utf8_lossy(&netstat.stdout),
        String::from_utf8_lossy(&nlstat.stdout),
    );
    assert!(
        e.contains(LONG_V6),
        "the population must have a long address"
    );
    assert_eq!(
        mask_timers(&e),
        mask_timers(&a),
        "{}",
        describe_diff(&e, &a)
    );
}

#[test]
fn usage_errors_match_netstat() {
    let Some(ns) = Namespace::create("usage") else {
        return;
    };
    for args in [
        &["-z"][..],
        &["-tz"],
        &["--bogus"],
        &["-A"],
        &["--protocol"],
        &["--tcp=3"],
        &["--num"],
        &["-A", "foo"],
        &["-r", "-i"],
        &["-s", "-i"],
        &["-Z"],
        &["-A", "bluetooth"],
        &["--ipx"],
        &["-S"],
        &["-?"],
        &["-t", "-?", "-h"],
    ] {
        let netstat = ns.run(NETSTAT, args);
        let ours_out = ns.run(nlstat(), args);
        assert_eq!(
            netstat.status.code(),
            ours_out.status.code(),
            "exit status for {args:?}"
        );
        assert_eq!(
            String::from_utf8_lossy(&netstat.stdout),
            String::from_utf8_lossy(&ours_out.stdout),
            "stdout for {args:?}"
        );
        // getopt names the program as invoked; compare with ours renamed.
        let theirs = String::from_utf8_lossy(&netstat.stderr).replace(NETSTAT, "PROG");
        let ours = String::from_utf8_lossy(&ours_out.stderr).replace(nlstat(), "PROG");
        assert_eq!(theirs, ours, "stderr for {args:?}");
    }
    // -h: usage on stdout, the family list on stderr, status 0. Invoked as
    // netstat, exactly that; as nlstat, its own section follows on stdout.
    for args in [
        &["-h"][..],
        &["--help"],
        &["--he"],
        &["-tan", "-h"],
        &["-?"],
    ] {
        let netstat = ns.run(NETSTAT, args);
        let linked = ns.run(nlstat_as_netstat(), args);
        assert_eq!(
            String::from_utf8_lossy(&netstat.stdout),
            String::from_utf8_lossy(&linked.stdout),
            "stdout of netstat {args:?}"
        );
        assert_eq!(netstat.stderr, linked.stderr, "stderr of netstat {args:?}");
        assert_eq!(netstat.status.code(), linked.status.code(), "{args:?}");
        let named = ns.run(nlstat(), args);
        assert_eq!(netstat.stderr, named.stderr, "stderr of nlstat {args:?}");
        assert_eq!(netstat.status.code(), named.status.code(), "{args:?}");
        if args.contains(&"-?") {
            // netstat's usage error, whatever the name
            assert_eq!(netstat.stdout, named.stdout);
            continue;
        }
        let text = String::from_utf8_lossy(&named.stdout);
        let own = text
            .strip_prefix(&*String::from_utf8_lossy(&netstat.stdout))
            .unwrap_or_else(|| panic!("nlstat {args:?} must start with netstat's usage: {text}"));
        assert!(
            own.starts_with("\nnlstat's own options") && own.contains("--json"),
            "nlstat {args:?}: {own}"
        );
    }
}

#[test]
fn invoked_as_netstat_through_a_symlink() {
    let Some(ns) = Namespace::create("link") else {
        return;
    };
    let _population = Population::start(&ns);
    let dir = TempDir::new(&format!("{}-bin", ns.name));
    let link = dir.join("netstat");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(nlstat(), &link).unwrap();
    let ours = ns.run(link.to_str().unwrap(), &["-tan"]);
    let theirs = ns.run(NETSTAT, &["-tan"]);
    assert_eq!(
        String::from_utf8_lossy(&theirs.stdout),
        String::from_utf8_lossy(&ours.stdout)
    );
    // getopt's messages name the program the way it was invoked
    let bad = ns.run(link.to_str().unwrap(), &["-z"]);
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .starts_with(&format!("{}: invalid option", link.display()))
    );
}

#[test]
fn closed_pipe_exits_quietly() {
    let Some(ns) = Namespace::create("pipe") else {
        return;
    };
    let _population = Population::start(&ns);
    let script = format!("{} -an | head -n 1; echo \"${{PIPESTATUS[0]}}\"", nlstat());
    let out = ns.run("bash", &["-c", &script]);
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("Active Internet connections (servers and established)")
    );
    assert_eq!(
        lines.next(),
        Some("0"),
        "nlstat must exit 0 on a closed pipe"
    );
    assert!(
        out.stderr.is_empty(),
        "no message on a closed pipe: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn continuous_repeats_the_table_every_second() {
    let Some(ns) = Namespace::create("cont") else {
        return;
    };
    let _population = Population::start(&ns);
    let once = ns.run(NETSTAT, &["-tln"]);
    let once = String::from_utf8_lossy(&once.stdout).into_owned();
    // Ticks start at 0 s and 1 s (the third at 2 s): 1.8 s holds exactly
    // two, with 0.8 s for start-up and both ticks on a busy machine.
    let out = ns.run("timeout", &["-s", "INT", "1.8", nlstat(), "-c", "-tln"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text,
        format!("{once}{once}"),
        "expected the table exactly twice"
    );
}

/// With -p the second tick streams its rows through the process map kept
/// from the first; both ticks must be what netstat prints once.
#[test]
fn continuous_with_programs_repeats_netstat() {
    let Some(ns) = Namespace::create("contp") else {
        return;
    };
    let _population = Population::start(&ns);
    for args in [&["-tanp"][..], &["-uanpe"]] {
        let once = String::from_utf8_lossy(&ns.run(NETSTAT, args).stdout).into_owned();
        let mut timed = vec!["-s", "INT", "1.8", nlstat(), "-c"];
        timed.extend_from_slice(args);
        let out = ns.run("timeout", &timed);
        let text = String::from_utf8_lossy(&out.stdout);
        let twice = format!("{once}{once}");
        assert!(
            once.contains("/python3"),
            "the population's owner must show: {once}"
        );
        assert_eq!(
            text,
            twice,
            "two ticks of {args:?}:\n{}",
            describe_diff(&twice, &text)
        );
    }
}

/// A hosts file for the namespace: long names to exercise truncation, an
/// IPv6 name, and names for the v4-mapped and loopback addresses.
pub(crate) const HOSTS: &str = "127.0.0.1 localhost
127.45.67.89 a-rather-long-hostname-for-truncation.example.org
127.1.2.3 mid.example
fd00:1234:5678:9abc:def0:1234:5678:9abc v6host.example
::1 ip6-localhost ip6-loopback
";

/// The resolver is asked (hosts file first, then a DNS server on the
/// namespace's loopback that never answers, with a one-second timeout), so
/// names, truncated names and the numeric fallback all come from the same
/// system resolver netstat uses.
#[test]
fn names_resolve_through_the_system_resolver() {
    let resolv = "nameserver 127.0.0.53\noptions timeout:1 attempts:1\n";
    let Some(ns) =
        Namespace::create_with_etc("names", &[("hosts", HOSTS), ("resolv.conf", resolv)])
    else {
        return;
    };
    let _population = Population::start(&ns);
    // The population's UDP socket on 0.0.0.0:53 never reads: queries for
    // names the hosts file lacks time out, as with a dead DNS server.
    let flag_sets: &[&[&str]] = &[
        &["-ta"],
        &["-t"],
        &["-taW"],
        &["-ua"],
        &["--numeric-ports", "-ta"],
        &["-tae"],
    ];
    assert_all_match(
        &ns,
        flag_sets,
        &[],
        Masks {
            timers: true,
            embryo_order: true,
        },
    );
    let out = ns.run(nlstat(), &["-ta"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("a-rather-long-hos:"),
        "hosts file names must be used: {text}"
    );
}

/// As an unprivileged user, -p can name only that user's processes and
/// netstat says so on stderr; sock_diag itself needs no privilege.
#[test]
fn unprivileged_user_sees_what_netstat_sees() {
    let Some(ns) = Namespace::create("nobody") else {
        return;
    };
    let population = Population::start(&ns);
    // nobody must be able to reach the unix socket paths' directory
    let _ = Command::new("chmod")
        .args(["755", population.scratch.to_str().unwrap()])
        .status();
    let as_nobody = ["--reuid=65534", "--regid=65534", "--clear-groups"];
    for args in [&["-tanp"][..], &["-tlpe"], &["-xp"], &["-uan"], &["-aeen"]] {
        let run = |program: &str| {
            let mut all = as_nobody.to_vec();
            all.push(program);
            all.extend_from_slice(args);
            ns.run("setpriv", &all)
        };
        let (theirs, ours) = (run(NETSTAT), run(nlstat()));
        let (e, a) = (
            canonical_embryos(&String::from_utf8_lossy(&theirs.stdout)),
            canonical_embryos(&String::from_utf8_lossy(&ours.stdout)),
        );
        assert_eq!(
            e,
            a,
            "stdout of {args:?} as nobody:\n{}",
            describe_diff(&e, &a)
        );
        assert_eq!(
            String::from_utf8_lossy(&theirs.stderr),
            String::from_utf8_lossy(&ours.stderr),
            "stderr of {args:?} as nobody"
        );
        assert_eq!(theirs.status.code(), ours.status.code());
        if args[0].contains('p') {
            let note = String::from_utf8_lossy(&ours.stderr);
            assert!(
                note.contains("Not all processes could be identified"),
                "{note}"
            );
            let table = String::from_utf8_lossy(&ours.stdout);
            assert!(
                table.contains("-                   "),
                "unknown owners print as -"
            );
        }
    }
}
