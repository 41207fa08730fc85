//! `--interval` and `--count` (issue 23): ticks on a fixed schedule, the
//! count that ends a run, late ticks reported, time stamps that parse, and
//! a stop by SIGTERM that leaves only whole lines. The oracle for times is
//! the test's own clock; for rows, the one-shot output of the same run.

use crate::support::*;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

fn json(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn ticks(objects: &[Value]) -> Vec<&Value> {
    objects.iter().filter(|o| o["kind"] == "tick").collect()
}

/// 50 ticks of `--interval 0.05`: numbered 1..50, each starting on its
/// slot (within 40 ms on a shared 2-core machine, unless reported late),
/// time stamps in RFC 3339 that follow the clock; status 0.
#[test]
fn count_and_interval_keep_the_schedule() {
    let Some(ns) = Namespace::create("cinterval") else {
        return;
    };
    let before = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let out = ns.run(
        nlstat(),
        &["--json", "--interval", "0.05", "--count", "50", "-tln"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let objects = json(&out.stdout);
    let ticks = ticks(&objects);
    assert_eq!(ticks.len(), 50);
    let mut late = 0;
    for (k, tick) in ticks.iter().enumerate() {
        assert_eq!(tick["tick"], k as u64 + 1);
        let elapsed = tick["elapsed"].as_f64().unwrap();
        let slot = 0.05 * k as f64;
        if tick.get("late_ms").is_some() {
            late += 1;
            continue;
        }
        // a tick starts on a slot boundary (a skipped slot moves it on)
        // (elapsed is in whole milliseconds: 0.15 / 0.05 may come out as
        // 2.9999, so the slot is found with a 1 ms margin)
        let slot_start = 0.05 * ((elapsed + 0.001) / 0.05).floor();
        assert!(
            elapsed + 0.001 >= slot,
            "tick {} at {elapsed} before its slot",
            k + 1
        );
        assert!(
            elapsed - slot_start < 0.04,
            "tick {} at {elapsed}: off its slot",
            k + 1
        );
        let time = rfc3339_seconds(tick["time"].as_str().unwrap()).expect("RFC 3339");
        assert!(
            time + 0.002 >= before + elapsed && time < before + elapsed + 5.0,
            "{tick}"
        );
    }
    assert!(late < 10, "{late} of 50 ticks late on an idle namespace");
}

/// A run stopped for 300 ms misses slots: the next tick says how late it
/// is (JSON `late_ms`, text a stderr line) and the schedule goes on.
#[test]
fn late_ticks_are_reported() {
    let Some(ns) = Namespace::create("clate") else {
        return;
    };
    for json_output in [true, false] {
        let mut args = vec![
            "--netns",
            ns.name.as_str(),
            "--interval",
            "0.05",
            "--count",
            "12",
            "-tln",
        ];
        if json_output {
            args.push("--json");
        }
        let out = run_paused(
            &args,
            Duration::from_millis(120),
            Duration::from_millis(300),
        );
        assert!(out.status.success());
        if json_output {
            let objects = json(&out.stdout);
            let late: Vec<u64> = ticks(&objects)
                .iter()
                .filter_map(|t| t["late_ms"].as_u64())
                .collect();
            assert!(late.iter().any(|ms| *ms >= 200), "late ticks: {late:?}");
            assert_eq!(ticks(&objects).len(), 12);
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let line = stderr
                .lines()
                .find(|l| l.contains(" ms late for its 0.05 s slot; "))
                .unwrap_or_else(|| panic!("no lateness line: {stderr}"));
            let ms: u64 = line
                .split(" is ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert!(ms >= 200, "{line}");
        }
    }
}

/// SIGTERM in the middle of a fast repeating run: status 0, every line
/// whole (the output ends with a newline and each row has every column).
#[test]
fn sigterm_leaves_whole_lines() {
    let Some(ns) = Namespace::create("cstop") else {
        return;
    };
    let _population = Population::start(&ns);
    for args in [
        &["-tan", "--interval", "0.01"][..],
        &["-tan", "--json", "--interval", "0.01"],
    ] {
        let mut all = vec!["--netns", ns.name.as_str()];
        all.extend_from_slice(args);
        let child = Command::new(nlstat())
            .args(&all)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(400));
        // SAFETY: kill(2) on our running child.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(out.stdout.ends_with(b"\n"), "{args:?}: ends mid-line");
        let text = String::from_utf8_lossy(&out.stdout);
        if args.contains(&"--json") {
            json(&out.stdout);
        } else {
            for line in text.lines().filter(|l| l.starts_with("tcp")) {
                assert!(line.split_whitespace().count() >= 5, "cut row: {line:?}");
            }
        }
        assert!(text.lines().count() > 10, "{args:?}: several ticks");
    }
}

/// A view's text ticks start with a time line; netstat's own `-c` tables
/// stay netstat's bytes (no time line).
#[test]
fn view_ticks_have_a_time_line() {
    let Some(ns) = Namespace::create("cview") else {
        return;
    };
    let out = ns.run(
        nlstat(),
        &["--summary", "--interval", "0.1", "--count", "3"],
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let stamps: Vec<&str> = text.lines().filter(|l| l.starts_with("Tick ")).collect();
    assert_eq!(stamps.len(), 3, "{text}");
    for (k, line) in stamps.iter().enumerate() {
        let f: Vec<&str> = line.split(' ').collect();
        assert_eq!(f[1], (k + 1).to_string());
        assert!(rfc3339_seconds(f[3]).is_some(), "{line}");
    }
    let plain = ns.run("timeout", &["-s", "INT", "0.5", nlstat(), "-c", "-tln"]);
    let plain = String::from_utf8_lossy(&plain.stdout);
    assert!(plain.starts_with("Active Internet connections"), "{plain}");
    assert!(!plain.contains("Tick "));
}
