//! `--netns`: nlstat run from outside a namespace must print what
//! `ip netns exec NAME netstat` prints inside it.

use crate::sockets::FLAG_SETS;
use crate::support::*;

/// `ip netns exec NAME netstat ARGS` against `nlstat --netns SPEC ARGS`
/// run from the test's own namespace.
fn compare_from_outside(
    ns: &Namespace,
    spec: &str,
    args: &[&str],
    masks: Masks,
) -> Result<(), String> {
    let theirs = ns.run(NETSTAT, args);
    let mut ours_args = vec!["--netns", spec];
    ours_args.extend_from_slice(args);
    let ours = std::process::Command::new(nlstat())
        .args(&ours_args)
        .output()
        .expect("run nlstat");
    let clean = |text: &[u8]| {
        let mut text = latin1(text);
        if masks.timers {
            text = mask_timers(&text);
        }
        if masks.embryo_order {
            text = canonical_embryos(&text);
        }
        text
    };
    let (expected, actual) = (clean(&theirs.stdout), clean(&ours.stdout));
    if expected != actual || theirs.status.code() != ours.status.code() {
        return Err(format!(
            "{ours_args:?} (status {:?} vs {:?}):\n{}",
            theirs.status.code(),
            ours.status.code(),
            describe_byte_diff(&from_latin1(&expected), &from_latin1(&actual))
        ));
    }
    Ok(())
}

#[test]
fn netns_by_name_prints_what_netstat_prints_inside() {
    let Some(ns) = Namespace::create("nsname") else {
        return;
    };
    let _population = Population::start(&ns);
    let masks = Masks {
        timers: true,
        embryo_order: true,
    };
    let mut results: Vec<Result<(), String>> = FLAG_SETS
        .iter()
        .map(|args| compare_from_outside(&ns, &ns.name, args, masks))
        .collect();
    for args in [
        &["-rn"][..],
        &["-rne"],
        &["-6rn"],
        &["-ia"],
        &["-s"],
        &["-s", "-6"],
        &["-gn"],
    ] {
        results.push(compare_from_outside(&ns, &ns.name, args, Masks::default()));
    }
    assert_all(results);
}

#[test]
fn netns_by_path_and_with_nlstats_own_options() {
    let Some(ns) = Namespace::create("nspath") else {
        return;
    };
    if !require_tools(&["pgrep"]) {
        return;
    }
    let _population = Population::start(&ns);
    let path = format!("/run/netns/{}", ns.name);
    let masks = Masks {
        timers: false,
        embryo_order: true,
    };
    assert_all(vec![
        compare_from_outside(&ns, &path, &["-tan"], masks),
        compare_from_outside(&ns, &path, &["-xa"], masks),
    ]);
    // a process's namespace: the population's python3 is inside it
    let pattern = format!("population.py .*{}", ns.name);
    let pgrep = std::process::Command::new("pgrep")
        .args(["-o", "-f", &pattern])
        .output()
        .expect("pgrep");
    let pid = String::from_utf8_lossy(&pgrep.stdout).trim().to_string();
    assert!(!pid.is_empty(), "the population's pid");
    let by_pid = format!("/proc/{pid}/ns/net");
    assert_all(vec![compare_from_outside(
        &ns,
        &by_pid,
        &["-uan"],
        Masks::default(),
    )]);
    // filters, JSON and views run inside the namespace too
    let inside = ns.run(nlstat(), &["--json", "-tan", "sport", "=", ":22"]);
    let outside = std::process::Command::new(nlstat())
        .args(["--netns", &ns.name, "--json", "-tan", "sport", "=", ":22"])
        .output()
        .unwrap();
    assert_eq!(inside.stdout, outside.stdout);
    assert!(!outside.stdout.is_empty());
}

#[test]
fn bad_namespaces_fail_with_one_line() {
    let Some(ns) = Namespace::create("nsbad") else {
        return;
    };
    if !require_tools(&["setpriv"]) {
        return;
    }
    for spec in [
        "nlstat-no-such-namespace",
        "/etc/hostname",
        "/nonexistent/ns",
    ] {
        let out = std::process::Command::new(nlstat())
            .args(["--netns", spec, "-tan"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{spec}");
        assert!(out.stdout.is_empty(), "{spec}");
        assert_eq!(stderr.lines().count(), 1, "{spec}: {stderr}");
        assert!(
            stderr.contains(spec),
            "{spec}: names the namespace: {stderr}"
        );
    }
    // without the privilege to join: one line, non-zero
    let out = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            nlstat(),
            "--netns",
            &ns.name,
            "-tan",
        ])
        .output()
        .expect("setpriv (util-linux)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&ns.name));
}

/// `ss` state words as netstat (and nlstat's views) spell them.
fn netstat_state(ss: &str) -> String {
    match ss {
        "ESTAB" => "ESTABLISHED".to_string(),
        "UNCONN" => "null".to_string(),
        other => other.replace("FIN-WAIT-", "FIN_WAIT").replace('-', "_"),
    }
}

/// Counts per key of ss's rows (`ss ARGS -H` in the namespace).
fn ss_counts(ns: &Namespace, args: &[&str]) -> std::collections::BTreeMap<String, u64> {
    let out = ns.run("ss", args);
    assert!(out.status.success(), "ss {args:?}");
    let mut counts = std::collections::BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let state = line.split_whitespace().next().expect("a state column");
        *counts.entry(netstat_state(state)).or_insert(0) += 1;
    }
    counts
}

/// nlstat's JSON objects, run from outside with `--netns NAME`.
fn views_from_outside(ns: &Namespace, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["--netns", ns.name.as_str(), "--json"];
    all.extend_from_slice(args);
    let out = std::process::Command::new(nlstat())
        .args(&all)
        .output()
        .expect("run nlstat");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    crate::json_sockets::json_lines(&out.stdout)
}

/// `--netns NAME` with the views: what ss and /proc say inside that
/// namespace, not what the caller's namespace holds.
#[test]
fn netns_views_count_what_ss_counts_inside() {
    let Some(ns) = Namespace::create("nsviews") else {
        return;
    };
    let _population = Population::start(&ns);
    // --group-by state over TCP
    let theirs = ss_counts(&ns, &["-tanH"]);
    assert!(theirs.len() > 2, "the population's TCP states: {theirs:?}");
    let ours: std::collections::BTreeMap<String, u64> =
        views_from_outside(&ns, &["-tan", "--group-by", "state"])
            .iter()
            .map(|o| {
                assert_eq!(o["kind"], "count", "{o}");
                (
                    o["state"].as_str().expect("a state").to_string(),
                    o["count"].as_u64().expect("a count"),
                )
            })
            .collect();
    assert_eq!(ours, theirs, "--group-by state against ss -tan");
    // --summary: TCP and UDP per family and state, and the kernel totals
    let summary = views_from_outside(&ns, &["-tuan", "--summary"]);
    for (proto, family, ss_args) in [
        ("tcp", "inet", &["-tanH", "-4"][..]),
        ("tcp", "inet6", &["-tanH", "-6"]),
        ("udp", "inet", &["-uanH", "-4"]),
        ("udp", "inet6", &["-uanH", "-6"]),
    ] {
        let theirs = ss_counts(&ns, ss_args);
        let ours: std::collections::BTreeMap<String, u64> = summary
            .iter()
            .filter(|o| o["kind"] == "summary" && o["proto"] == proto && o["family"] == family)
            .map(|o| {
                let state = o["state"].as_str().unwrap_or("null").to_string();
                (state, o["count"].as_u64().expect("a count"))
            })
            .collect();
        assert_eq!(
            ours, theirs,
            "--summary {proto} {family} against ss {ss_args:?}"
        );
    }
    let sockstat = summary
        .iter()
        .find(|o| o["kind"] == "sockstat")
        .expect("a sockstat object");
    let proc_text =
        String::from_utf8_lossy(&ns.run("cat", &["/proc/net/sockstat"]).stdout).into_owned();
    let tcp_inuse = proc_text
        .lines()
        .find_map(|l| l.strip_prefix("TCP: inuse "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .expect("TCP: inuse");
    assert!(tcp_inuse > 0);
    assert_eq!(
        sockstat["tcp_inuse"].as_u64(),
        Some(tcp_inuse),
        "{proc_text}"
    );
}
