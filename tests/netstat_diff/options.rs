//! nlstat's own options on the command line: a bad value or a combination
//! that would be accepted and then ignored is one line on stderr naming
//! the option given, status 3, nothing on stdout (README, Options); a
//! value of netstat's -A that starts with `-` is netstat's answer, byte for
//! byte; stdout and stderr share a pipe or a terminal as netstat's do.

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
    if !require_tools(&[NETSTAT]) {
        return;
    }
    let mut results = Vec::new();
    for args in [&["-A", "-3"][..], &["-tA", "-3"], &["--protocol", "-x"]] {
        let theirs = Command::new(NETSTAT)
            .args(args)
            .output()
            .expect("run netstat");
        let ours = Command::new(nlstat_as_netstat())
            .args(args)
            .output()
            .expect("run nlstat as netstat");
        results.push(same_output(args, &theirs, &ours));
    }
    assert_all(results);
}

/// Runs argv on a new pty (raw, so the bytes read are the bytes written)
/// with stdout and stderr both on it; prints what it read.
const PTY: &str = r#"
import os, pty, sys, tty
pid, fd = pty.fork()
if pid == 0:
    tty.setraw(1)
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
"#;

/// Holds 150 TCP listeners (netstat's -tln is then far more than one 4096
/// byte stdio block) until its stdin closes.
const LISTENERS: &str = r#"
import socket, sys
held = []
for port in range(21000, 21150):
    s = socket.socket(); s.bind(("127.0.0.1", port)); s.listen(); held.append(s)
print("READY", flush=True)
sys.stdin.read()
"#;

/// A uid without processes (and without a passwd entry) on any test host.
const LONE_UID: &str = "3141592";

/// Both streams into one pipe (`2>&1 | cat`) and both onto one terminal:
/// where netstat's stderr lines fall among its stdout lines depends on
/// C stdio's buffering (whole 4096-byte blocks into a pipe, lines onto a
/// terminal); nlstat under netstat's name gives the same bytes in the same
/// order: `-h` (the family list first in a pipe, last on a terminal), a
/// family message after a long table, and the `-p` note of a user who
/// cannot read other processes.
#[test]
fn stdout_and_stderr_interleave_as_netstats() {
    let Some(ns) = Namespace::create("interleave") else {
        return;
    };
    let mut holder = ns
        .command("python3", &["-c", LISTENERS])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the listeners");
    assert_eq!(first_line(&mut holder).trim(), "READY");
    // /usr/bin/python3 rather than a per-user shim, for an unprivileged user
    let python = if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    // the -p note as an unprivileged user needs setpriv (util-linux); the
    // other cases run without it. The user is a uid no other test runs
    // processes as: netstat says "Not all processes could be identified"
    // as soon as any process of that uid anywhere on the host holds a
    // socket (population.py's and owners.py's holders run as 65534), so
    // with `nobody` the note changed between netstat's run and nlstat's
    // when another test started or stopped one in between.
    let have_setpriv = require_tools(&["setpriv"]);
    let link = nlstat_as_netstat();
    let mut results = Vec::new();
    let mut cases: Vec<(&[&str], bool)> = vec![
        (&["-h"], false),
        (&["-tln", "--ipx"], false),
        (&["-tln", "-A", "inet,ipx"], false),
        (&["--ipx", "-tln", "--ax25"], false),
    ];
    if have_setpriv {
        cases.push((&["-tlnp"], true));
        cases.push((&["-tlp", "--ipx"], true));
    }
    for (args, unprivileged) in cases {
        for terminal in [false, true] {
            let run = |program: &str| {
                let mut argv: Vec<&str> = Vec::new();
                if unprivileged {
                    argv.extend([
                        "setpriv",
                        "--reuid",
                        LONE_UID,
                        "--regid",
                        LONE_UID,
                        "--clear-groups",
                    ]);
                }
                if terminal {
                    argv.extend([python, "-c", PTY]);
                    argv.push(program);
                    argv.extend(args);
                } else {
                    argv.extend(["sh", "-c", "exec \"$0\" \"$@\" 2>&1", program]);
                    argv.extend(args);
                }
                ns.run(argv[0], &argv[1..])
            };
            let theirs = run(NETSTAT);
            let ours = run(link);
            assert!(
                !theirs.stdout.is_empty(),
                "{args:?}: netstat printed nothing: {}",
                String::from_utf8_lossy(&theirs.stderr)
            );
            let how = if terminal {
                "on a pty"
            } else {
                "2>&1 into a pipe"
            };
            let mut label: Vec<&str> = args.to_vec();
            label.push(how);
            if unprivileged {
                label.push("as a lone uid");
            }
            results.push(same_output(&label, &theirs, &ours));
        }
    }
    drop(holder.stdin.take());
    let _ = holder.wait();
    assert_all(results);
}
