//! `--record` and `--replay` (issue 23). A run that prints and records at
//! once, replayed with the same options, prints the same bytes (the live
//! output is the oracle: every table it prints is held to netstat, ss or
//! /proc by the other test files); a replay with a filter expression keeps
//! exactly the rows ss finds for it; damaged, foreign and insufficient
//! recordings are one-line errors with status 1.

use crate::support::*;
use std::process::Output;
use std::time::Duration;

fn record_and_replay(ns: &Namespace, dir: &TempDir, args: &[&str]) -> Result<(), String> {
    let file = dir.join(format!("r{}.rec", args.join("_").replace(['/', ' '], "")));
    let file = file.to_str().unwrap();
    let mut live_args = args.to_vec();
    live_args.extend_from_slice(&["--record", file]);
    let live = ns.run(nlstat(), &live_args);
    let mut replay_args = args.to_vec();
    replay_args.extend_from_slice(&["--replay", file]);
    let replay = ns.run(nlstat(), &replay_args);
    if !live.status.success() || !replay.status.success() {
        return Err(format!(
            "{args:?}: live {:?} {}, replay {:?} {}",
            live.status,
            String::from_utf8_lossy(&live.stderr),
            replay.status,
            String::from_utf8_lossy(&replay.stderr)
        ));
    }
    if live.stdout.is_empty() {
        return Err(format!("{args:?}: printed nothing"));
    }
    if live.stdout != replay.stdout {
        return Err(format!(
            "{args:?}: the replay differs\n{}",
            describe_byte_diff(&live.stdout, &replay.stdout)
        ));
    }
    Ok(())
}

/// Tables, JSON, `-p`, `-e`, `-o`, `--info`, raw sockets (/proc), views
/// over several ticks with their deltas and time lines, the kernel's
/// totals (/proc/net/sockstat), names resolved and not.
#[test]
fn a_replay_prints_what_the_recorded_run_printed() {
    let Some(ns) = Namespace::create("rsame") else {
        return;
    };
    let _population = Population::start(&ns);
    let dir = TempDir::new(&ns.name);
    let arg_sets: &[&[&str]] = &[
        &["-tan"],
        &["-tuwxanpe"],
        &["-tuxapeo"],
        &["--json", "-tuxanpe", "--info"],
        &["-tano", "--info"],
        &["-4tn", "sport", ">", ":1000"],
        &["--source", "proc", "-tuan"],
        &["-tn", "--interval", "0.05", "--count", "4"],
        &["--json", "-tan", "--interval", "0.05", "--count", "3"],
        &[
            "-tan",
            "--group-by",
            "state,local_port",
            "--interval",
            "0.1",
            "--count",
            "3",
        ],
        &["--json", "--listeners", "--info", "--count", "2"],
        &["--ephemeral", "--interval", "0.1", "--count", "2"],
        &["--summary"],
        &["--json", "--group-by", "remote_addr", "--info", "-n"],
    ];
    assert_all(
        arg_sets
            .iter()
            .map(|args| record_and_replay(&ns, &dir, args))
            .collect(),
    );
}

/// One recording of every table, asked with each of the filter
/// expressions the filter tests ask ss: the replayed rows are the ones ss
/// finds now in the same (idle) population.
#[test]
fn a_replay_with_a_filter_keeps_the_rows_ss_finds() {
    let Some(ns) = Namespace::create("rfilter") else {
        return;
    };
    let _population = Population::start(&ns);
    let dir = TempDir::new(&ns.name);
    let file = dir.join("all.rec");
    let file = file.to_str().unwrap();
    let recorded = ns.run(nlstat(), &["-tuxan", "--quiet", "--record", file]);
    assert!(recorded.status.success());
    assert!(recorded.stdout.is_empty(), "--quiet prints nothing");
    crate::filters::compare_with_ss(&ns, &["--replay", file]);
}

fn fails_with_one_line(out: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(needle), "{needle:?} in {stderr}");
}

/// What a recording cannot answer, a damaged file and one of another
/// version: one line on stderr, status 1, no panic; the whole ticks before
/// the damage are printed.
#[test]
fn recordings_that_cannot_answer_are_errors() {
    let Some(ns) = Namespace::create("rerr") else {
        return;
    };
    let _population = Population::start(&ns);
    let dir = TempDir::new(&ns.name);
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let listeners = path("listeners.rec");
    let many = path("many.rec");
    assert!(
        ns.run(nlstat(), &["-tln", "--quiet", "--record", &listeners])
            .status
            .success()
    );
    assert!(
        ns.run(
            nlstat(),
            &[
                "-tan",
                "--quiet",
                "--interval",
                "0.02",
                "--count",
                "20",
                "--record",
                &many
            ]
        )
        .status
        .success()
    );
    let replay = |args: &[&str], file: &str| {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--replay", file]);
        ns.run(nlstat(), &all)
    };
    // more states, another table, -p and --info than were recorded
    fails_with_one_line(&replay(&["-tan"], &listeners), "recording holds no");
    fails_with_one_line(&replay(&["-uan"], &listeners), "UDP");
    fails_with_one_line(&replay(&["-tlnp"], &listeners), "no -p owners");
    fails_with_one_line(
        &replay(&["-tln", "--info"], &listeners),
        "recording holds no",
    );
    // every table, but not the kernel's totals --summary reads
    let tables = path("tables.rec");
    assert!(
        ns.run(nlstat(), &["-tuUwxan", "--quiet", "--record", &tables])
            .status
            .success()
    );
    fails_with_one_line(
        &replay(&["--summary"], &tables),
        "/proc/net/sockstat: not in the recording",
    );
    // fewer states than recorded is a narrower question: answered
    let narrower = replay(&["-tln"], &many);
    assert!(narrower.status.success());
    let live = ns.run(nlstat(), &["-tln"]);
    assert_eq!(
        String::from_utf8_lossy(&narrower.stdout).lines().count(),
        20 * String::from_utf8_lossy(&live.stdout).lines().count(),
        "20 ticks of the listeners (an idle population)"
    );
    // a file cut in the middle: the whole ticks, then the error
    let bytes = std::fs::read(&many).unwrap();
    let cut = path("cut.rec");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = replay(&["-tan"], &cut);
    fails_with_one_line(&out, "damaged recording");
    let header = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("Active Internet"))
        .count();
    assert!((1..20).contains(&header), "some whole ticks: {header}");
    // another format version, and a file that is no recording
    let mut other = bytes.clone();
    other[b"nlstat-record\n".len()] = 2;
    let foreign = path("v2.rec");
    std::fs::write(&foreign, &other).unwrap();
    fails_with_one_line(&replay(&["-tan"], &foreign), "format version 2");
    fails_with_one_line(
        &replay(&["-tan"], "/etc/hostname"),
        "not an nlstat recording",
    );
    fails_with_one_line(&replay(&["-tan"], &path("missing.rec")), "No such file");
}

/// SIGTERM in the middle of a recording run: status 0, and the file
/// replays every tick that was printed.
#[test]
fn a_stopped_recording_replays_whole() {
    let Some(ns) = Namespace::create("rstop") else {
        return;
    };
    let _population = Population::start(&ns);
    let dir = TempDir::new(&ns.name);
    let file = dir.join("stopped.rec");
    let file = file.to_str().unwrap();
    let args = ["--netns", &ns.name, "--json", "-tan", "--interval", "0.02"];
    let mut recording = args.to_vec();
    recording.extend_from_slice(&["--record", file]);
    let child = std::process::Command::new(nlstat())
        .args(&recording)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: kill(2) on our own running child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let live = child.wait_with_output().unwrap();
    assert_eq!(live.status.code(), Some(0));
    let mut replaying = args.to_vec();
    replaying.extend_from_slice(&["--replay", file]);
    let replay = std::process::Command::new(nlstat())
        .args(&replaying)
        .output()
        .unwrap();
    assert!(replay.status.success());
    assert!(live.stdout.ends_with(b"\n"));
    assert_eq!(
        String::from_utf8_lossy(&live.stdout),
        String::from_utf8_lossy(&replay.stdout)
    );
}
