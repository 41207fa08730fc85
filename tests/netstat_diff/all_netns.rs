//! `--all-netns`: every namespace's section is what `ip netns exec NAME
//! netstat` prints inside it; JSON rows carry the namespace.

use crate::json_sockets::json_lines;
use crate::support::*;

/// The sections of `--all-netns` output: (header, body).
fn sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with("Network namespace ") && line.ends_with("):") {
            out.push((line.to_string(), String::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

#[test]
fn every_namespace_prints_what_netstat_prints_inside_it() {
    let (Some(a), Some(b)) = (Namespace::create("allx"), Namespace::create("ally")) else {
        return;
    };
    let _pa = Population::start(&a);
    let _pb = Population::start(&b);
    for args in [&["-tan"][..], &["-xa"], &["-tanp"], &["-uan"]] {
        let mut all = vec!["--all-netns"];
        all.extend_from_slice(args);
        let out = std::process::Command::new(nlstat())
            .args(&all)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let parts = sections(&text);
        assert!(
            parts[0].0.starts_with("Network namespace self (inode "),
            "nlstat's own namespace first: {}",
            parts[0].0
        );
        for ns in [&a, &b] {
            let header = format!("Network namespace {} (inode ", ns.name);
            let (_, body) = parts
                .iter()
                .find(|(h, _)| h.starts_with(&header))
                .unwrap_or_else(|| panic!("{args:?}: no section for {}", ns.name));
            let theirs = String::from_utf8_lossy(&ns.run(NETSTAT, args).stdout).into_owned();
            let clean = |t: &str| canonical_embryos(&mask_timers(t));
            assert_eq!(
                clean(body),
                clean(&theirs),
                "{args:?} in {}:\n{}",
                ns.name,
                describe_diff(&clean(&theirs), &clean(body))
            );
        }
        // named namespaces come in name order
        let names: Vec<&String> = parts.iter().map(|(h, _)| h).collect();
        let pos = |n: &str| {
            names
                .iter()
                .position(|h| h.contains(&format!(" {n} ")))
                .unwrap()
        };
        assert!(pos(&a.name) < pos(&b.name));
    }
    let out = std::process::Command::new(nlstat())
        .args(["--all-netns", "--json", "-tan"])
        .output()
        .unwrap();
    let objects = json_lines(&out.stdout);
    assert!(
        objects
            .iter()
            .all(|o| o["netns"].is_string() && o["netns_inode"].is_u64())
    );
    let ours = objects
        .iter()
        .filter(|o| o["netns"] == a.name.as_str())
        .count();
    let theirs = String::from_utf8_lossy(&a.run(NETSTAT, &["-tan"]).stdout)
        .lines()
        .filter(|l| l.starts_with("tcp"))
        .count();
    assert_eq!(ours, theirs, "rows of {}", a.name);
    let bad = std::process::Command::new(nlstat())
        .args(["--all-netns", "-c", "-tan"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&bad.stderr).lines().count(), 1);
}
