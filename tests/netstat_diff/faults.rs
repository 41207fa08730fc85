//! Fault injection, each case in a namespace of its own (or a private
//! mount namespace): sockets and processes churning under the listings, a
//! reader that goes away mid-table, a full disk under `--textfile`, and
//! /proc files missing, unreadable or cut mid-line.
//!
//! These use the real kernel. The faults a kernel produces too rarely to
//! provoke (NLM_F_DUMP_INTR, ENOBUFS, EINTR during a dump, a stalled dump)
//! are tested through the netlink seam instead: unit tests at the bottom
//! of src/collect/netlink.rs and src/collect/mod.rs.

use crate::support::*;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// netstat's TCP state words (and the empty one of an unconnected UDP
/// socket).
const INET_STATES: &[&str] = &[
    "ESTABLISHED",
    "SYN_SENT",
    "SYN_RECV",
    "FIN_WAIT1",
    "FIN_WAIT2",
    "TIME_WAIT",
    "CLOSE",
    "CLOSE_WAIT",
    "LAST_ACK",
    "LISTEN",
    "CLOSING",
    "",
];

/// A `PID/Program name` cell: `-`, or digits, a slash and a name.
fn program_cell(cell: &[u8]) -> bool {
    let cell = cell.trim_ascii_end();
    if cell == b"-" {
        return true;
    }
    let digits = cell.iter().take_while(|b| b.is_ascii_digit()).count();
    digits > 0 && cell.get(digits) == Some(&b'/') && cell.len() <= 19
}

/// One row of `-tanp`/`-uanp` in netstat's fixed layout
/// (`%-4s  %6ld %6ld %-23s %-23s %-11s %-20s`), or why not. A queue wider
/// than six digits widens its cell and shifts the rest of the row, as printf
/// does: a SYN_SENT socket caught inside connect() shows write_seq - snd_una
/// before snd_una is set (a ten-digit Send-Q), in netstat as in nlstat.
fn check_inet_row(line: &[u8], programs: bool) -> Result<(), String> {
    let bad = |why: &str| Err(format!("{why}: {:?}", String::from_utf8_lossy(line)));
    if line.len() < 19 {
        return bad("row too short");
    }
    let proto = line[..6].trim_ascii_end();
    if !matches!(
        proto,
        b"tcp" | b"tcp6" | b"udp" | b"udp6" | b"raw" | b"raw6"
    ) {
        return bad("unknown protocol");
    }
    let mut shift = 0;
    for (start, what) in [(6, "Recv-Q"), (13, "Send-Q")] {
        let cell_start = start + shift;
        let mut end = cell_start + 6;
        while line.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        let cell = line[cell_start..end.min(line.len())].trim_ascii_start();
        if cell.is_empty() || !cell.iter().all(u8::is_ascii_digit) {
            return bad(what);
        }
        shift = end - (start + 6);
    }
    let line = &line[shift..];
    if line.len() < if programs { 81 } else { 79 } {
        return bad("row too short");
    }
    for (range, what) in [(20..43, "local address"), (44..67, "foreign address")] {
        let cell = line[range].trim_ascii_end();
        if !cell.contains(&b':') || cell.contains(&b' ') || cell.is_empty() {
            return bad(what);
        }
    }
    if [19, 43, 67].iter().any(|&i| line[i] != b' ') {
        return bad("column separator");
    }
    let state = std::str::from_utf8(line[68..79].trim_ascii_end()).unwrap_or("?");
    if !INET_STATES.contains(&state) {
        return bad("state");
    }
    if programs && (line[79] != b' ' || !program_cell(&line[80..line.len().min(100)])) {
        return bad("PID/Program name");
    }
    Ok(())
}

/// One row of `-xap` (`unix  %-6d %-11s %-10s %-13s %-8lu %-20s path`).
fn check_unix_row(line: &[u8]) -> Result<(), String> {
    let bad = |why: &str| Err(format!("{why}: {:?}", String::from_utf8_lossy(line)));
    if line.len() < 80 || !line.starts_with(b"unix  ") {
        return bad("not a unix row");
    }
    let refcnt = line[6..12].trim_ascii_end();
    if refcnt.is_empty() || !refcnt.iter().all(u8::is_ascii_digit) {
        return bad("RefCnt");
    }
    let flags = line[13..24].trim_ascii_end();
    if !flags.starts_with(b"[ ") || !flags.ends_with(b"]") {
        return bad("Flags");
    }
    let kind = line[25..35].trim_ascii_end();
    if !matches!(
        kind,
        b"STREAM" | b"DGRAM" | b"SEQPACKET" | b"RAW" | b"RDM" | b"UNKNOWN"
    ) {
        return bad("Type");
    }
    let state = line[36..49].trim_ascii_end();
    if !matches!(
        state,
        b"" | b"LISTENING" | b"CONNECTED" | b"CONNECTING" | b"DISCONNECTING" | b"FREE" | b"UNKNOWN"
    ) {
        return bad("State");
    }
    let inode = line[50..58].trim_ascii_end();
    if inode.is_empty() || !inode.iter().all(u8::is_ascii_digit) {
        return bad("I-Node");
    }
    if !program_cell(&line[59..79]) || line[79] != b' ' {
        return bad("PID/Program name");
    }
    Ok(())
}

/// Every row of a listing (titles and headers aside) well-formed; returns
/// the rows.
fn rows_of(stdout: &[u8], check: fn(&[u8]) -> Result<(), String>) -> Vec<Vec<u8>> {
    let mut rows = Vec::new();
    for line in stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        if line.starts_with(b"Active ") || line.starts_with(b"Proto ") {
            continue;
        }
        if let Err(why) = check(line) {
            panic!("a malformed row: {why}");
        }
        rows.push(line.to_vec());
    }
    rows
}

fn inet_programs(line: &[u8]) -> Result<(), String> {
    check_inet_row(line, true)
}

/// Churn for `seconds` (and at most a bounded number of rounds): threads
/// opening and closing loopback TCP connections and unix socket pairs,
/// and processes forking, binding sockets and exiting, beside a stable
/// holder of a TCP listener on 127.0.0.1:7001 and the unix listener
/// @nlstat-stable, which every listing must show with their owner.
const CHURN: &str = r#"
import os, socket, struct, sys, threading, time
stop = time.time() + float(sys.argv[1])
ROUNDS = 200000
stable = socket.socket(); stable.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
stable.bind(("127.0.0.1", 7001)); stable.listen()
ustable = socket.socket(socket.AF_UNIX); ustable.bind(b"\0nlstat-stable"); ustable.listen()
linger = struct.pack("ii", 1, 0)
def sockets():
    for _ in range(ROUNDS):
        if time.time() > stop: return
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
        c = socket.create_connection(s.getsockname()); a, _ = s.accept()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        u, v = socket.socketpair()
        for x in (c, a, s, u, v): x.close()
def processes():
    for _ in range(ROUNDS):
        if time.time() > stop: return
        pid = os.fork()
        if pid == 0:
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
            u = socket.socket(socket.AF_UNIX); u.bind(b""); u.listen()
            time.sleep(0.002)
            os._exit(0)
        os.waitpid(pid, 0)
threads = [threading.Thread(target=f) for f in (sockets, sockets, processes, processes)]
for t in threads: t.start()
print("READY", os.getpid(), flush=True)
for t in threads: t.join()
"#;

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn listings_stay_well_formed_while_sockets_and_processes_churn() {
    let Some(ns) = Namespace::create("churn") else {
        return;
    };
    let mut churn = ns
        .command("python3", &["-c", CHURN, "25"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the churn");
    let ready = first_line(&mut churn);
    let holder: u32 = ready
        .strip_prefix("READY ")
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("churn did not start: {ready:?}"));
    let owner = format!("{holder}/python3");

    // The checker accepts what the oracle prints under the same churn.
    let theirs = ns.run(NETSTAT, &["-tanp"]);
    assert!(theirs.status.success(), "{}", stderr_of(&theirs));
    assert!(!rows_of(&theirs.stdout, inet_programs).is_empty());

    for round in 0..4 {
        let tanp = ns.run(nlstat(), &["-tanp"]);
        assert_eq!(tanp.status.code(), Some(0), "-tanp: {}", stderr_of(&tanp));
        assert_eq!(stderr_of(&tanp), "", "-tanp round {round}");
        let rows = rows_of(&tanp.stdout, inet_programs);
        let stable = rows
            .iter()
            .find(|r| r.starts_with(b"tcp        0      0 127.0.0.1:7001 "))
            .expect("the stable listener is listed");
        assert_eq!(
            String::from_utf8_lossy(&stable[80..]).trim_end(),
            owner,
            "its owner"
        );

        let xap = ns.run(nlstat(), &["-xap"]);
        assert_eq!(xap.status.code(), Some(0), "-xap: {}", stderr_of(&xap));
        assert_eq!(stderr_of(&xap), "", "-xap round {round}");
        let rows = rows_of(&xap.stdout, check_unix_row);
        let stable = rows
            .iter()
            .find(|r| r.ends_with(b" @nlstat-stable"))
            .expect("the stable unix listener is listed");
        assert_eq!(
            String::from_utf8_lossy(&stable[59..79]).trim_end(),
            owner,
            "its owner"
        );

        // a view, checked by an independent JSON parser
        let view = ns.run(nlstat(), &["-tan", "--json", "--group-by", "state"]);
        assert_eq!(view.status.code(), Some(0), "view: {}", stderr_of(&view));
        assert_eq!(stderr_of(&view), "");
        let mut listening = 0;
        for line in String::from_utf8(view.stdout).unwrap().lines() {
            let row: serde_json::Value = serde_json::from_str(line).expect("a JSON row");
            assert_eq!(row["kind"], "count", "{line}");
            assert!(row["count"].as_u64().is_some_and(|c| c > 0), "{line}");
            if row["state"] == "LISTEN" {
                listening = row["count"].as_u64().unwrap();
            }
        }
        assert!(listening >= 1, "the stable listener is counted");
    }

    // -c: tick after tick while everything moves
    let ticks = Command::new("timeout")
        .args([
            "-s",
            "INT",
            "3.5",
            "ip",
            "netns",
            "exec",
            &ns.name,
            nlstat(),
        ])
        .args(["-c", "-tanp"])
        .output()
        .unwrap();
    assert_eq!(stderr_of(&ticks), "", "-c -tanp");
    let headers = ticks
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| l.starts_with(b"Active Internet connections"))
        .count();
    assert!(headers >= 2, "at least two ticks, saw {headers}");
    let rows = rows_of(&ticks.stdout, inet_programs);
    let stable = rows
        .iter()
        .filter(|r| r.starts_with(b"tcp        0      0 127.0.0.1:7001 "))
        .count();
    assert!(stable >= headers - 1, "the stable listener in every tick");

    let status = churn.wait().unwrap();
    assert!(status.success(), "the churn itself failed");
}

/// Holds `count` loopback TCP connections (2 * count + 1 sockets) until
/// its stdin closes.
const MANY: &str = r#"
import socket, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(4096)
held = []
for _ in range(int(sys.argv[1])):
    c = socket.create_connection(l.getsockname()); a, _ = l.accept(); held += [c, a]
print("READY", flush=True)
sys.stdin.read()
"#;

/// A reader that stops after one line of a table far larger than a pipe
/// holds: nlstat ends quietly with status 0 (netstat dies of SIGPIPE),
/// also with -p, --json, -c and the unix table.
#[test]
fn a_reader_that_goes_away_mid_table_ends_the_run_quietly() {
    let Some(ns) = Namespace::create("pipe") else {
        return;
    };
    let mut holder = ns
        .command("python3", &["-c", MANY, "3000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let ready = first_line(&mut holder);
    assert_eq!(ready.trim(), "READY");
    let cases: &[(&[&str], &str)] = &[
        (
            &["-tan"],
            "Active Internet connections (servers and established)",
        ),
        (
            &["-tanp"],
            "Active Internet connections (servers and established)",
        ),
        (&["-tan", "--json"], "{\"kind\":\"socket\""),
        (
            &["-c", "-tan"],
            "Active Internet connections (servers and established)",
        ),
        (
            &["-an"],
            "Active Internet connections (servers and established)",
        ),
    ];
    for (args, first) in cases {
        // `timeout` turns a hang into a failure; head keeps one line
        let script = format!(
            "timeout 30 {} {} 2>/tmp/nlstat-pipe-$$.err | head -1; \
             echo \"status=${{PIPESTATUS[0]}}\"; cat /tmp/nlstat-pipe-$$.err; rm -f /tmp/nlstat-pipe-$$.err",
            nlstat(),
            args.join(" ")
        );
        let out = ns.run("bash", &["-c", &script]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut lines = text.lines();
        let line = lines.next().unwrap_or_default();
        assert!(line.starts_with(first), "{args:?}: first line {line:?}");
        assert_eq!(lines.next(), Some("status=0"), "{args:?}: {text}");
        assert_eq!(lines.next(), None, "{args:?}: nothing on stderr: {text}");
    }
    // the oracle on the same table is killed by SIGPIPE: nlstat's quiet
    // exit is its own documented choice, not a copy
    let out = ns.run(
        "bash",
        &[
            "-c",
            "netstat -tan | head -1 >/dev/null; echo ${PIPESTATUS[0]}",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "141");
    drop(holder.stdin.take());
    holder.wait().unwrap();
}

/// SIGSTOP and SIGCONT again and again while a dump runs. With a receive
/// timeout set (nlstat sets one) Linux makes a receive that was waiting
/// fail with EINTR after such a stop (signal(7)); nlstat retries it. The
/// kernel produces a dump's datagrams inside the receive call, so the
/// wait is rare and this cannot force an EINTR every time (the seam test
/// `eintr_is_retried` does); what it checks is that a listing stopped and
/// continued hundreds of times prints exactly the rows of an undisturbed
/// one, with status 0 and nothing on stderr.
#[test]
fn a_listing_stopped_and_continued_mid_dump_prints_every_row() {
    let Some(ns) = Namespace::create("stop") else {
        return;
    };
    let mut holder = ns
        .command("python3", &["-c", MANY, "5000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let ready = first_line(&mut holder);
    assert_eq!(ready.trim(), "READY");
    let sorted_rows = |stdout: &[u8]| {
        let mut rows: Vec<Vec<u8>> = stdout.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
        rows.sort();
        rows
    };
    let quiet = ns.run(nlstat(), &["-tan"]);
    assert_eq!(quiet.status.code(), Some(0));
    let out_dir = TempDir::new(&format!("{}-out", ns.name));
    for args in [&["-tan"][..], &["-tanp"], &["-xa"]] {
        let reference = ns.run(nlstat(), args);
        let out_path = out_dir.join("out");
        let child = ns
            .command(nlstat(), args)
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let mut stops = 0;
        // bounded: at most 5 000 stops, or until the listing is done
        while stops < 5000
            && std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| !s.contains(") Z "))
        {
            // SAFETY: signals to our own child, which is still running
            unsafe {
                libc::kill(pid, libc::SIGSTOP);
                libc::kill(pid, libc::SIGCONT);
            }
            stops += 1;
        }
        let done = child.wait_with_output().unwrap();
        let stdout = std::fs::read(&out_path).unwrap();
        let _ = std::fs::remove_file(&out_path);
        assert_eq!(
            done.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr_of(&done)
        );
        assert_eq!(stderr_of(&done), "", "{args:?}");
        assert!(stops > 0, "{args:?}: the listing was never stopped");
        assert_eq!(
            sorted_rows(&stdout),
            sorted_rows(&reference.stdout),
            "{args:?}: stopped {stops} times"
        );
    }
    drop(holder.stdin.take());
    holder.wait().unwrap();
}

/// `--textfile` on a full tmpfs (mounted in a private mount namespace):
/// one line on stderr, status 1, the previous file intact, no temporary
/// left behind (also when stderr itself is a file on that disk); with -c
/// the failure is reported every tick and the next tick after space comes
/// back writes the file.
#[test]
fn textfile_on_a_full_disk_keeps_the_previous_file() {
    let Some(ns) = Namespace::create("full") else {
        return;
    };
    let dir = TempDir::new(&format!("{}-mnt", ns.name));
    // stderr files, off the full disk
    let errs = TempDir::new(&format!("{}-err", ns.name));
    let d = dir.display();
    let script = format!(
        r#"set -u
mount -t tmpfs -o size=512k nlstat-full {d} || exit 99
printf 'previous\n' > {d}/nlstat.prom
dd if=/dev/zero of={d}/fill bs=1k 2>/dev/null
{nl} --textfile {d}/nlstat.prom 2>{e}/err1; echo "once=$?"
echo "kept=$(cat {d}/nlstat.prom)"
echo "err1=$(cat {e}/err1)"
rm {e}/err1
{nl} --textfile {d}/nlstat.prom 2>>{d}/nlstat.prom.err; echo "stderr_full=$?"
rm -f {d}/nlstat.prom.err
timeout -s INT 2.5 {nl} -c --textfile {d}/nlstat.prom 2>{e}/err2 &
sleep 1.2; echo "still=$(cat {d}/nlstat.prom)"; rm {d}/fill
wait
echo "lines=$(grep -c 'No space left on device' {e}/err2)"
echo "other=$(grep -vc 'No space left on device' {e}/err2)"
rm -f {e}/err2
echo "written=$(grep -c '^nlstat_build_info' {d}/nlstat.prom)"
echo "left=$(ls -A {d} | tr '\n' ' ')"
umount {d}
"#,
        nl = nlstat(),
        e = errs.display()
    );
    let out = ns.run("unshare", &["-m", "bash", "-c", &script]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_ne!(
        out.status.code(),
        Some(99),
        "cannot mount a tmpfs: {}",
        stderr_of(&out)
    );
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .to_string()
    };
    assert_eq!(field("once"), "1", "{text}");
    assert_eq!(field("kept"), "previous", "{text}");
    let path = format!("{d}/nlstat.prom");
    assert_eq!(
        field("err1"),
        format!(
            "{}: {path}: No space left on device (os error 28)",
            nlstat()
        ),
        "{text}"
    );
    // stderr on the full disk too: the message is lost, the status is
    // still 1 (std's eprintln! would panic, and abort a release build)
    assert_eq!(field("stderr_full"), "1", "{text}");
    assert_eq!(field("still"), "previous", "{text}");
    let reported: u32 = field("lines").parse().unwrap();
    assert!(reported >= 1, "{text}");
    assert_eq!(field("other"), "0", "{text}");
    assert_eq!(field("written"), "1", "a later tick wrote the file: {text}");
    assert_eq!(field("left"), "nlstat.prom ", "no temporary file: {text}");
}

/// A /proc tree: the recorded /proc/net files, changed by `change`.
fn proc_tree(tag: &str, change: impl FnOnce(&Path)) -> TempDir {
    let root = TempDir::new(&format!("faults-{tag}"));
    let net = root.join("net");
    std::fs::create_dir_all(&net).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proc-net/net");
    for entry in std::fs::read_dir(fixtures).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), net.join(entry.file_name())).unwrap();
    }
    change(&net);
    root
}

/// Keep the first `count` lines of a file (1: the header alone).
fn keep_lines(file: &Path, count: usize) {
    let text = std::fs::read(file).unwrap();
    let kept: Vec<u8> = text
        .split_inclusive(|&b| b == b'\n')
        .take(count)
        .flatten()
        .copied()
        .collect();
    std::fs::write(file, kept).unwrap();
}

/// Cut a file in the middle of its `line`-th line (0 is the header).
fn cut_mid_line(file: &Path, line: usize) {
    let text = std::fs::read(file).unwrap();
    let start: usize = text
        .split_inclusive(|&b| b == b'\n')
        .take(line)
        .map(<[u8]>::len)
        .sum();
    let next = text[start..]
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(text.len() - start);
    std::fs::write(file, &text[..start + next / 2]).unwrap();
}

/// The two tools on the same tree, as `user` (root when `None`): nlstat
/// through NLSTAT_PROC_ROOT (`--source proc` for socket tables), netstat
/// with the tree copied over a private /proc.
fn both_at(
    root: &Path,
    args: &[&str],
    extra: &[&str],
    user: Option<u32>,
) -> Option<(Output, Output)> {
    let drop_to: Vec<String> = match user {
        Some(uid) => vec![
            "setpriv".into(),
            format!("--reuid={uid}"),
            format!("--regid={uid}"),
            "--clear-groups".into(),
        ],
        None => Vec::new(),
    };
    if !require_tools(&["unshare", "setpriv", NETSTAT]) {
        return None;
    }
    let script = r#"mount -t tmpfs nlstat-fixture /proc && cp -r "$0"/. /proc/ && exec "$@""#;
    let theirs = Command::new("unshare")
        .args(["-m", "sh", "-c", script])
        .arg(root)
        .args(&drop_to)
        .arg(NETSTAT)
        .args(args)
        .output()
        .expect("run unshare");
    let stderr = stderr_of(&theirs);
    if stderr.contains("unshare failed") || stderr.contains("mount:") {
        skip_or_fail(
            &format!(
                "{}: cannot run netstat on a private /proc: {stderr}",
                current_test()
            ),
            in_ci(),
        );
        return None;
    }
    let mut ours = match drop_to.split_first() {
        Some((program, rest)) => {
            let mut c = Command::new(program);
            c.args(rest).arg(nlstat());
            c
        }
        None => Command::new(nlstat()),
    };
    let ours = ours
        .args(extra)
        .args(args)
        .env("NLSTAT_PROC_ROOT", root)
        .output()
        .unwrap();
    Some((theirs, ours))
}

/// Compare all three channels; nlstat names the files under its
/// NLSTAT_PROC_ROOT where netstat names /proc.
fn same(args: &[&str], theirs: &Output, ours: &Output, root: &Path) -> Result<(), String> {
    let mut ours = ours.clone();
    ours.stderr = stderr_of(&ours)
        .replace(&root.display().to_string(), "/proc")
        .into_bytes();
    same_output(args, theirs, &ours)
}

/// Files missing, empty, cut mid-line or unreadable for the user: netstat's
/// messages, status and output, byte for byte.
#[test]
fn proc_files_missing_truncated_or_forbidden_read_as_netstat_reads_them() {
    type Change = Box<dyn Fn(&Path)>;
    /// (tag, how the tree differs, netstat's arguments, nlstat's extra
    /// ones, the uid to run as)
    type Case = (
        &'static str,
        Change,
        &'static [&'static str],
        &'static [&'static str],
        Option<u32>,
    );
    let cases: Vec<Case> = vec![
        (
            "tcp-missing",
            Box::new(|n| std::fs::remove_file(n.join("tcp")).unwrap()),
            &["-tan"],
            &["--source", "proc"],
            None,
        ),
        (
            "tcp-cut",
            Box::new(|n| cut_mid_line(&n.join("tcp"), 2)),
            &["-tan"],
            &["--source", "proc"],
            None,
        ),
        (
            "tcp6-cut-header",
            Box::new(|n| cut_mid_line(&n.join("tcp6"), 0)),
            &["-tan"],
            &["--source", "proc"],
            None,
        ),
        (
            "udp-empty",
            Box::new(|n| std::fs::write(n.join("udp"), b"").unwrap()),
            &["-uan"],
            &["--source", "proc"],
            None,
        ),
        (
            "unix-cut",
            Box::new(|n| cut_mid_line(&n.join("unix"), 2)),
            &["-xa"],
            &["--source", "proc"],
            None,
        ),
        (
            "unix-missing",
            Box::new(|n| std::fs::remove_file(n.join("unix")).unwrap()),
            &["-xa"],
            &["--source", "proc"],
            None,
        ),
        (
            "tcp-forbidden",
            Box::new(|n| {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(n.join("tcp"), std::fs::Permissions::from_mode(0o000))
                    .unwrap()
            }),
            &["-tan"],
            &["--source", "proc"],
            Some(65534),
        ),
        (
            "snmp-cut",
            Box::new(|n| cut_mid_line(&n.join("snmp"), 5)),
            &["-s"],
            &[],
            None,
        ),
        (
            "netstat-missing",
            Box::new(|n| std::fs::remove_file(n.join("netstat")).unwrap()),
            &["-s"],
            &[],
            None,
        ),
        (
            "snmp6-cut",
            Box::new(|n| cut_mid_line(&n.join("snmp6"), 10)),
            &["-s6"],
            &[],
            None,
        ),
        (
            "igmp-cut",
            Box::new(|n| {
                cut_mid_line(&n.join("igmp"), 3);
                cut_mid_line(&n.join("igmp6"), 2)
            }),
            &["-gn"],
            &[],
            None,
        ),
        (
            "ipv6_route-missing",
            Box::new(|n| std::fs::remove_file(n.join("ipv6_route")).unwrap()),
            &["-6", "-rn"],
            &[],
            None,
        ),
    ];
    let mut results = Vec::new();
    for (tag, change, args, extra, user) in cases {
        let root = proc_tree(tag, change);
        let Some((theirs, ours)) = both_at(&root, args, extra, user) else {
            let _ = std::fs::remove_dir_all(&root);
            return;
        };
        results.push(same(args, &theirs, &ours, &root).map_err(|e| format!("{tag}: {e}")));
        let _ = std::fs::remove_dir_all(&root);
    }
    assert_all(results);
}

/// A /proc socket table that exists but cannot be read (here a directory
/// in its place: read fails with EISDIR). netstat has no message for it
/// (it spins forever in its read loop, so it cannot be the oracle here);
/// nlstat says so in one line, prints every other table exactly as
/// netstat prints them when that table is empty, and exits 1.
#[test]
fn an_unreadable_proc_table_is_one_line_and_the_rest_still_prints() {
    let empty = proc_tree("tcp-empty", |n| keep_lines(&n.join("tcp"), 1));
    let Some((theirs, _)) = both_at(&empty, &["-tuan"], &["--source", "proc"], None) else {
        let _ = std::fs::remove_dir_all(&empty);
        return;
    };
    let _ = std::fs::remove_dir_all(&empty);
    let broken = proc_tree("tcp-dir", |n| {
        std::fs::remove_file(n.join("tcp")).unwrap();
        std::fs::create_dir(n.join("tcp")).unwrap();
    });
    let ours = Command::new(nlstat())
        .args(["--source", "proc", "-tuan"])
        .env("NLSTAT_PROC_ROOT", broken.path())
        .output()
        .unwrap();
    let path = broken.join("net/tcp");
    let _ = std::fs::remove_dir_all(&broken);
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&theirs.stdout),
        "the other tables"
    );
    assert_eq!(
        stderr_of(&ours),
        format!(
            "{}: {}: Is a directory (os error 21)\n",
            nlstat(),
            path.display()
        )
    );
    assert_eq!(ours.status.code(), Some(1));
}

/// A line of /proc/net/ipv6_route cut short: netstat prints a row of the
/// previous line's values for it and says nothing; nlstat leaves it out
/// with one line on stderr, and the rest is netstat's output without that
/// row (the oracle: netstat on the file without the line).
#[test]
fn a_cut_ipv6_route_line_is_left_out_with_a_message() {
    let cut = proc_tree("v6-cut", |n| {
        keep_lines(&n.join("ipv6_route"), 4);
        cut_mid_line(&n.join("ipv6_route"), 3)
    });
    let whole = proc_tree("v6-whole", |n| keep_lines(&n.join("ipv6_route"), 3));
    let Some((theirs, _)) = both_at(&whole, &["-6", "-rn"], &[], None) else {
        let _ = std::fs::remove_dir_all(&cut);
        let _ = std::fs::remove_dir_all(&whole);
        return;
    };
    let ours = nlstat_at(&cut, &["-6", "-rn"]);
    let path = cut.join("net/ipv6_route");
    let _ = std::fs::remove_dir_all(&cut);
    let _ = std::fs::remove_dir_all(&whole);
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&theirs.stdout)
    );
    assert_eq!(
        stderr_of(&ours),
        format!(
            "{}: {}: left out 1 line that does not parse (the first is line 4)\n",
            nlstat(),
            path.display()
        )
    );
    assert_eq!(ours.status.code(), theirs.status.code());
}

#[test]
fn the_row_checkers_refuse_what_is_not_a_row() {
    let good = b"tcp        0      0 127.0.0.1:7001          0.0.0.0:*               LISTEN      123/python3         ";
    assert!(check_inet_row(good, true).is_ok());
    let mut shifted = good.to_vec();
    shifted.insert(20, b' ');
    assert!(check_inet_row(&shifted, true).is_err());
    let mut no_owner = good.to_vec();
    no_owner[80] = b'x';
    assert!(check_inet_row(&no_owner, true).is_err());
    // seen in CI: a SYN_SENT socket inside connect(), as netstat prints it
    let wide = b"tcp   1917984101      0 127.0.0.1:41798         127.0.0.1:56939         SYN_SENT    -                   ";
    assert!(check_inet_row(wide, true).is_ok());
    let mut wide_shifted = wide.to_vec();
    wide_shifted.insert(30, b' ');
    assert!(check_inet_row(&wide_shifted, true).is_err());
    let unix = b"unix  2      [ ACC ]     STREAM     LISTENING     12345    123/python3          @nlstat-stable";
    assert!(check_unix_row(unix).is_ok());
    assert!(check_unix_row(&unix[1..]).is_err());
}
