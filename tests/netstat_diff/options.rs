//! nlstat's own options on the command line: a bad value or a combination
//! that would be accepted and then ignored is one line on stderr naming
//! the option given, status 3, nothing on stdout (README, Options); a
//! value of netstat's -A that starts with `-` is netstat's answer, byte for
//! byte.

use crate::support::*;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Run nlstat; one that is still running after ten seconds (an option
/// accepted, and a server started) is killed, and what it wrote returned.
fn nlstat_briefly(args: &[&str]) -> (Output, bool) {
    let mut child = Command::new(nlstat())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run nlstat");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut killed = false;
    while child.try_wait().expect("wait for nlstat").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            killed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (child.wait_with_output().expect("nlstat's output"), killed)
}

#[test]
fn bad_own_option_values_are_one_line_and_status_3() {
    let cases: &[(&[&str], &str)] = &[
        (&["--group-by", "state", "--top", "-3"], "--top"),
        (&["--group-by", "state", "--top", "zero"], "--top"),
        (
            &["--serve", "127.0.0.1:0", "--min-interval", "-1"],
            "--min-interval",
        ),
        (&["-tan", "--min-interval", "5"], "--min-interval"),
        (&["-tan", "--max-series", "5"], "--max-series"),
        (&["--serve", "127.0.0.1:0", "-c"], "--serve"),
        (&["--serve", "127.0.0.1:0", "--json"], "--serve"),
        (
            &["--textfile", "/nonexistent/x.prom", "--json"],
            "--textfile",
        ),
        (
            &["--textfile", "/nonexistent/x.prom", "--min-interval", "2"],
            "--min-interval",
        ),
        (&["--pid-source", "proc", "-tan"], "--pid-source"),
        (&["--source", "proc", "-s"], "--source"),
        (&["--source", "-1"], "--source"),
        (&["--serve", "-1"], "--serve"),
        (&["--group-by", "-x"], "--group-by"),
        (&["--top"], "--top"),
        (&["--json=1"], "--json"),
    ];
    let mut failures = Vec::new();
    for (args, option) in cases {
        let (out, killed) = nlstat_briefly(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let ok = !killed
            && out.status.code() == Some(3)
            && out.stdout.is_empty()
            && stderr.lines().count() == 1
            && stderr.ends_with('\n')
            && stderr.starts_with(&format!("{}: {option}", nlstat()));
        if !ok {
            failures.push(format!(
                "nlstat {}: {}status {:?}, stdout {:?}, stderr {stderr:?}",
                args.join(" "),
                if killed {
                    "still running after 10 s, "
                } else {
                    ""
                },
                out.status.code(),
                String::from_utf8_lossy(&out.stdout)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// getopt takes the word after -A whatever it is; netstat then names it.
#[test]
fn a_family_starting_with_a_dash_is_netstats_answer() {
    let mut results = Vec::new();
    for args in [&["-A", "-3"][..], &["-tA", "-3"], &["--protocol", "-x"]] {
        let theirs = Command::new(NETSTAT).args(args).output();
        let Ok(theirs) = theirs else {
            if in_ci() {
                panic!("CI=true but {NETSTAT} cannot run");
            }
            eprintln!("SKIPPED: {NETSTAT} cannot run");
            return;
        };
        let ours = Command::new(nlstat_as_netstat())
            .args(args)
            .output()
            .expect("run nlstat as netstat");
        results.push(same_output(args, &theirs, &ours));
    }
    assert_all(results);
}
