//! `--all-netns`: every namespace's section is what netstat prints inside
//! it (`ip netns exec NAME netstat` for a named one, `nsenter --net` for
//! one only a process is in); JSON rows, view rows and metrics carry the
//! namespace, and their counts are netstat's rows in it.
//!
//! Other tests run beside these and make namespaces of their own, so the
//! assertions look only at the namespaces a test made (and at the order).

use crate::json_sockets::json_lines;
use crate::sockets::FLAG_SETS;
use crate::support::*;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// The sections of `--all-netns` text: (header, body).
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

fn nlstat_all(args: &[&str]) -> Output {
    let mut all = vec!["--all-netns"];
    all.extend_from_slice(args);
    Command::new(nlstat())
        .args(&all)
        .output()
        .expect("run nlstat")
}

fn inode(path: &str) -> u64 {
    std::fs::metadata(path).expect("namespace file").ino()
}

/// A network namespace no name points at: a population process started
/// by `unshare --net` holds it.
struct Unnamed {
    child: Child,
    pid: u32,
    _scratch: TempDir,
}

impl Unnamed {
    fn start(tag: &str) -> Unnamed {
        let scratch = TempDir::new(tag);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/netstat_diff/population.py");
        let mut child = Command::new("unshare")
            .args([
                "--net",
                "--",
                "sh",
                "-c",
                &format!(
                    "ip link set lo up && ip addr add {LONG_V6}/128 dev lo nodad && exec python3 {} {}",
                    script.display(),
                    scratch.display()
                ),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("unshare (util-linux)");
        let line = first_line(&mut child);
        assert_eq!(line.trim(), "READY", "population in an unnamed namespace");
        let pid = child.id();
        Unnamed {
            child,
            pid,
            _scratch: scratch,
        }
    }

    fn ns_path(&self) -> String {
        format!("/proc/{}/ns/net", self.pid)
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        Command::new("nsenter")
            .arg(format!("--net={}", self.ns_path()))
            .arg(program)
            .args(args)
            .output()
            .expect("nsenter")
    }
}

impl Drop for Unnamed {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.child.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.wait();
    }
}

/// The lowest pid whose network namespace has inode `ns`, as root sees it.
fn by_pid_lowest(ns: u64) -> u32 {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::metadata(format!("/proc/{pid}/ns/net")).is_ok_and(|m| m.ino() == ns))
        .min()
        .expect("a process in the namespace")
}

fn own_header(pid: &u32) -> String {
    format!(
        "Network namespace pid {pid} (inode {}):",
        inode("/proc/self/ns/net")
    )
}

fn clean(text: &str) -> String {
    canonical_embryos(&mask_timers(text))
}

/// Compare the section headed `header` of `ours` with `theirs`.
fn section_matches(ours: &str, header: &str, theirs: &Output, args: &[&str]) -> Result<(), String> {
    let parts = sections(ours);
    let Some((_, body)) = parts.iter().find(|(h, _)| h.starts_with(header)) else {
        return Err(format!("{args:?}: no section `{header}'"));
    };
    // both sides as one char per byte: compared byte for byte
    let expected = clean(&latin1(&theirs.stdout));
    let actual = clean(body);
    if expected != actual {
        return Err(format!(
            "{args:?} in `{header}':\n{}",
            describe_byte_diff(&from_latin1(&expected), &from_latin1(&actual))
        ));
    }
    Ok(())
}

#[test]
fn every_namespace_prints_what_netstat_prints_inside_it() {
    // `a` has a hosts file of its own, as `ip netns exec` lays it over /etc
    let hosts = "127.0.0.1 lb-front.example lb-front\n::1 lb-six.example\n";
    let (Some(a), Some(b)) = (
        Namespace::create_with_etc("allx", &[("hosts", hosts)]),
        Namespace::create("ally"),
    ) else {
        return;
    };
    if !require_tools(&["unshare", "nsenter"]) {
        return;
    }
    let _pa = Population::start(&a);
    let _pb = Population::start(&b);
    let unnamed = Unnamed::start("allu");
    let u_header = format!("Network namespace pid {} (inode ", unnamed.pid);
    let mut flag_sets: Vec<&[&str]> = FLAG_SETS.to_vec();
    flag_sets.extend_from_slice(&[
        &["-rn"],
        &["-rne"],
        &["-6rn"],
        &["-ia"],
        &["-iae"],
        &["-s"],
        &["-s", "-6"],
        &["-st"],
        &["-gn"],
    ]);
    let mut results = Vec::new();
    for args in &flag_sets {
        let out = nlstat_all(args);
        let ours = latin1(&out.stdout);
        for ns in [&a, &b] {
            let header = format!(
                "Network namespace {} (inode {}):",
                ns.name,
                inode(&format!("/run/netns/{}", ns.name))
            );
            results.push(section_matches(
                &ours,
                &header,
                &ns.run(NETSTAT, args),
                args,
            ));
        }
        results.push(section_matches(
            &ours,
            &u_header,
            &unnamed.run(NETSTAT, args),
            args,
        ));
        // the order: nlstat's own first, named ones by name, then the rest
        let headers: Vec<String> = sections(&ours).into_iter().map(|(h, _)| h).collect();
        let pos = |prefix: &str| headers.iter().position(|h| h.starts_with(prefix));
        // nlstat's own namespace, named by the lowest pid in it
        let own = own_header(&by_pid_lowest(inode("/proc/self/ns/net")));
        let first_ok = headers.first().is_some_and(|h| *h == own);
        let (pa, pb, pu) = (
            pos(&format!("Network namespace {} ", a.name)),
            pos(&format!("Network namespace {} ", b.name)),
            pos(&u_header),
        );
        let in_order = matches!((pa, pb, pu), (Some(x), Some(y), Some(z)) if x < y && y < z);
        if !(first_ok && in_order) {
            results.push(Err(format!("{args:?}: order of sections: {headers:?}")));
        }
    }
    assert_all(results);
}

/// netstat's rows of one protocol by state word: `tcp`, `tcp6` lines.
fn netstat_states(output: &Output) -> std::collections::BTreeMap<String, u64> {
    let mut counts = std::collections::BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.first().is_some_and(|p| p.starts_with("tcp")) {
            *counts.entry(fields[5].to_string()).or_insert(0) += 1;
        }
    }
    counts
}

#[test]
fn json_views_and_metrics_carry_the_namespace() {
    let (Some(a), Some(b)) = (Namespace::create("allj"), Namespace::create("allk")) else {
        return;
    };
    if !require_tools(&["unshare", "nsenter", "promtool"]) {
        return;
    }
    let _pa = Population::start(&a);
    let _pb = Population::start(&b);
    let unnamed = Unnamed::start("allv");
    let u_key = format!("pid:{}", unnamed.pid);
    let targets: Vec<(String, u64, Output, Output)> = [&a, &b]
        .iter()
        .map(|ns| {
            (
                ns.name.clone(),
                inode(&format!("/run/netns/{}", ns.name)),
                ns.run(NETSTAT, &["-tan"]),
                ns.run("ss", &["-ltn"]),
            )
        })
        .chain(std::iter::once((
            u_key.clone(),
            inode(&unnamed.ns_path()),
            unnamed.run(NETSTAT, &["-tan"]),
            unnamed.run("ss", &["-ltn"]),
        )))
        .collect();

    // socket rows: each namespace's rows are netstat's rows there
    let rows = json_lines(&nlstat_all(&["--json", "-tan"]).stdout);
    assert!(
        rows.iter()
            .all(|o| o["netns"].is_string() && o["netns_inode"].is_u64())
    );
    for (key, ino, netstat, _) in &targets {
        let mine: Vec<_> = rows.iter().filter(|o| o["netns"] == key.as_str()).collect();
        assert!(
            mine.iter().all(|o| o["netns_inode"] == *ino),
            "{key}: inode {ino}"
        );
        let theirs: u64 = netstat_states(netstat).values().sum();
        assert_eq!(mine.len() as u64, theirs, "{key}: rows");
    }

    // filters run in every namespace's kernel: ss's rows there
    for filter in [
        &["sport", "=", ":22"][..],
        &["(", "dport", "=", ":80", "or", "sport", "=", ":80", ")"],
        &["state", "established", "dst", "127.0.0.1"],
    ] {
        let mut args = vec!["--json", "-tan"];
        args.extend_from_slice(filter);
        let rows = json_lines(&nlstat_all(&args).stdout);
        for ns in [&a, &b] {
            let mut ss_args = vec!["-tanH"];
            ss_args.extend_from_slice(filter);
            let theirs = String::from_utf8_lossy(&ns.run("ss", &ss_args).stdout)
                .lines()
                .count();
            let ours = rows
                .iter()
                .filter(|o| o["netns"] == ns.name.as_str())
                .count();
            assert_eq!(ours, theirs, "{filter:?} in {}", ns.name);
        }
    }

    // --group-by: counted per namespace (netns is implied first), or with
    // netns where the keys put it
    for keys in ["state", "state,netns", "netns,state"] {
        let out = nlstat_all(&["--json", "-tan", "--group-by", keys]);
        assert_eq!(out.status.code(), Some(0), "{keys}");
        let counts = json_lines(&out.stdout);
        for (key, ino, netstat, _) in &targets {
            let mut ours = std::collections::BTreeMap::new();
            for o in counts.iter().filter(|o| o["netns"] == key.as_str()) {
                assert_eq!(o["netns_inode"], *ino, "{keys} {key}");
                ours.insert(
                    o["state"].as_str().unwrap().to_string(),
                    o["count"].as_u64().unwrap(),
                );
            }
            assert_eq!(ours, netstat_states(netstat), "--group-by {keys} in {key}");
        }
    }
    // text: a netns column named as the sections are
    let text =
        String::from_utf8_lossy(&nlstat_all(&["-tan", "--group-by", "netns"]).stdout).into_owned();
    assert!(text.starts_with("netns "), "{text}");
    for (key, _, netstat, _) in &targets {
        let label = key.replace("pid:", "pid ");
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{label} ")))
            .unwrap_or_else(|| panic!("no row for {label}:\n{text}"));
        let count: u64 = line.split_whitespace().last().unwrap().parse().unwrap();
        assert_eq!(
            count,
            netstat_states(netstat).values().sum::<u64>(),
            "{line}"
        );
    }

    // --summary and --listeners: each namespace's own rows
    let summary = json_lines(&nlstat_all(&["--json", "-tan", "--summary"]).stdout);
    for (key, _, netstat, _) in &targets {
        let established: u64 = summary
            .iter()
            .filter(|o| {
                o["netns"] == key.as_str() && o["proto"] == "tcp" && o["state"] == "ESTABLISHED"
            })
            .map(|o| o["count"].as_u64().unwrap())
            .sum();
        assert_eq!(
            Some(&established),
            netstat_states(netstat).get("ESTABLISHED"),
            "{key}"
        );
    }
    let listeners = json_lines(&nlstat_all(&["--json", "--listeners"]).stdout);
    for (key, _, _, ss) in &targets {
        // ss -ltn: State Recv-Q Send-Q Local:Port; Recv-Q is the accept
        // queue, Send-Q the backlog
        let mut theirs: Vec<(u64, u64, u64)> = String::from_utf8_lossy(&ss.stdout)
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let port = f[3].rsplit(':').next().unwrap().parse().unwrap();
                (port, f[1].parse().unwrap(), f[2].parse().unwrap())
            })
            .collect();
        let mut ours: Vec<(u64, u64, u64)> = listeners
            .iter()
            .filter(|o| o["netns"] == key.as_str() && o["kind"] == "listener")
            .map(|o| {
                (
                    o["local_port"].as_u64().unwrap(),
                    o["accept_queue"].as_u64().unwrap(),
                    o["backlog"].as_u64().unwrap(),
                )
            })
            .collect();
        theirs.sort();
        ours.sort();
        assert_eq!(ours, theirs, "--listeners in {key}");
        assert!(!ours.is_empty());
    }

    // metrics: promtool accepts them; nlstat_sockets per namespace are
    // netstat's rows
    let dir = TempDir::new("allnetns-textfile");
    let file = dir.join("nlstat.prom");
    let out = nlstat_all(&["--textfile", file.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    crate::exporter::promtool_accepts(&text);
    for (key, ino, netstat, _) in &targets {
        for (state, n) in netstat_states(netstat) {
            // netstat's tcp rows are IPv4 and IPv6 together
            let sum: u64 = text
                .lines()
                .filter(|l| {
                    l.starts_with(&format!(
                        "nlstat_sockets{{netns=\"{key}\",netns_inode=\"{ino}\",proto=\"tcp\","
                    )) && l.contains(&format!("state=\"{state}\""))
                })
                .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
                .sum();
            assert_eq!(sum, n, "nlstat_sockets {state} in {key}");
        }
    }
    // each family's HELP once, with every namespace's samples under it
    assert_eq!(text.matches("# HELP nlstat_sockets ").count(), 1);
}

/// The output of `nlstat ARGS` up to where tick `ticks + 1` begins (a
/// line for which `starts_tick` holds), read as it comes; nlstat is then
/// stopped. At most 30 s.
fn first_ticks(args: &[&str], ticks: usize, starts_tick: impl Fn(&str) -> bool) -> String {
    use std::io::BufRead;
    let mut child = Command::new(nlstat())
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut text = String::new();
    let mut started = 0;
    for line in std::io::BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if starts_tick(&line) {
            started += 1;
            if started > ticks {
                break;
            }
        }
        text.push_str(&line);
        text.push('\n');
        if std::time::Instant::now() > deadline {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    text
}

#[test]
fn continuous_ticks_cover_every_namespace() {
    let Some(a) = Namespace::create("allc") else {
        return;
    };
    let _pa = Population::start(&a);
    let header = format!("Network namespace {} (inode ", a.name);
    // what two whole ticks printed: read until a third begins (so the
    // machine's load cannot cut a tick short), then stop nlstat
    let text = first_ticks(&["--all-netns", "-c", "-tan"], 2, |l| {
        l.starts_with(&header)
    });
    let theirs = clean(&String::from_utf8_lossy(&a.run(NETSTAT, &["-tan"]).stdout));
    let bodies: Vec<String> = sections(&text)
        .into_iter()
        .filter(|(h, _)| h.starts_with(&header))
        .map(|(_, b)| clean(&b))
        .collect();
    assert_eq!(bodies.len(), 2, "two ticks:\n{text}");
    for body in bodies {
        assert_eq!(body, theirs, "{}", describe_diff(&theirs, &body));
    }
    // JSON: a tick object per tick, then every namespace's rows
    let text = first_ticks(&["--all-netns", "-c", "--json", "-tan"], 2, |l| {
        l.starts_with("{\"kind\":\"tick\"")
    });
    let objects = json_lines(text.as_bytes());
    let ticks: Vec<usize> = objects
        .iter()
        .enumerate()
        .filter(|(_, o)| o["kind"] == "tick")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(ticks.len(), 2, "two ticks");
    let rows_per_tick = |from: usize, to: usize| {
        objects[from..to]
            .iter()
            .filter(|o| o["netns"] == a.name.as_str())
            .count()
    };
    let netstat_rows = theirs.lines().filter(|l| l.starts_with("tcp")).count();
    assert_eq!(rows_per_tick(ticks[0], ticks[1]), netstat_rows);
    assert_eq!(rows_per_tick(ticks[1], objects.len()), netstat_rows);
}

#[test]
fn failures_are_named_and_the_rest_still_prints() {
    let Some(a) = Namespace::create("allf") else {
        return;
    };
    if !require_tools(&["setpriv"]) {
        return;
    }
    let _pa = Population::start(&a);
    let out = nlstat_all(&["--netns", &a.name, "-tan"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);

    // a name whose namespace is gone (its file no longer a namespace, as
    // between `ip netns del`'s unmount and unlink): reported, the others
    // print
    let stale = format!("nlstat-stale-{}", std::process::id());
    let stale_path = format!("/run/netns/{stale}");
    std::fs::write(&stale_path, b"").unwrap();
    let out = nlstat_all(&["-tan"]);
    let _ = std::fs::remove_file(&stale_path);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        stderr
            .lines()
            .any(|l| l.contains(&format!("netns {stale}: "))),
        "{stderr}"
    );
    let ours = latin1(&out.stdout);
    let header = format!("Network namespace {} (inode ", a.name);
    assert_all(vec![section_matches(
        &ours,
        &header,
        &a.run(NETSTAT, &["-tan"]),
        &["-tan"],
    )]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "a vanished namespace is not a failure"
    );

    // without the privilege to join: the own namespace prints, each other
    // one is a line on stderr, and the status says so
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            nlstat(),
            "--all-netns",
            "-tan",
        ])
        .output()
        .expect("setpriv (util-linux)");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.contains(&format!("netns {}: permission denied", a.name))),
        "{stderr}"
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let parts = sections(&text);
    // nobody sees its own processes only: its namespace is named after
    // the lowest of them, nlstat itself
    let own_inode = inode("/proc/self/ns/net");
    assert!(
        parts[0].0.starts_with("Network namespace pid ")
            && parts[0].0.ends_with(&format!(" (inode {own_inode}):")),
        "{text}"
    );
    assert!(parts.iter().all(|(h, _)| !h.contains(&a.name)));
}
