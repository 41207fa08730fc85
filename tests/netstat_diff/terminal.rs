//! Terminal safety under a real pseudo-terminal: a process whose argv[0]
//! is escape sequences, unix socket paths holding a newline and ESC, a
//! host name with ESC in the namespace's /etc/hosts and an interface named
//! with ESC. Piped, nlstat prints netstat's bytes exactly; on the terminal
//! every control byte is `?` (doc/hardening.md), and the screen bytes are
//! netstat's bytes with that rule applied.

use crate::support::*;
use std::process::Stdio;

/// Runs argv under a new pty whose line discipline is raw (so the bytes
/// read are the bytes written: no `\r` added), prints them hex-encoded,
/// then the exit status.
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
_, status = os.waitpid(pid, 0)
print(out.hex())
print(os.waitstatus_to_exitcode(status))
"#;

/// Holds, under an argv[0] of control bytes (`sleep` inherits them), a
/// TCP listener on 127.0.0.5:7002 (named in /etc/hosts) and unix
/// listeners on a path with ESC and a newline and on an abstract name with
/// an OSC title sequence.
const HOLDER: &str = r#"
import os, socket, sys
d = sys.argv[1]
t = socket.socket(); t.bind(("127.0.0.5", 7002)); t.listen()
u = socket.socket(socket.AF_UNIX); u.bind(os.path.join(d, "a\x1b[31mred\nline").encode()); u.listen()
a = socket.socket(socket.AF_UNIX); a.bind(b"\0abs\x1b]2;owned\x07"); a.listen()
for s in (t, u, a): os.set_inheritable(s.fileno(), True)
if os.fork() == 0:
    # a second holder whose name holds a newline, with a UDP socket
    v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); v.bind(("127.0.0.5", 7003))
    os.set_inheritable(v.fileno(), True)
    os.execv("/bin/sleep", [b"two\nlines", b"60"])
print("READY", flush=True)
os.execv("/bin/sleep", [b"\x1b[2J\x07\xc2\x9b\x9b", b"60"])
"#;

/// The documented rule, told independently of nlstat's code: each C0
/// byte but `\n`, DEL, each UTF-8 C1 character, and each byte that is not
/// part of well-formed UTF-8 becomes `?`.
fn escaped(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            out.push(if (b < 0x20 && b != b'\n') || b == 0x7f {
                b'?'
            } else {
                b
            });
            i += 1;
            continue;
        }
        let char_len = (2..=4).find(|&n| {
            bytes
                .get(i..i + n)
                .and_then(|s| std::str::from_utf8(s).ok())
                .is_some_and(|s| s.chars().count() == 1)
        });
        match char_len {
            Some(n) => {
                let c = std::str::from_utf8(&bytes[i..i + n]).unwrap();
                if ('\u{80}'..='\u{9f}').contains(&c.chars().next().unwrap()) {
                    out.push(b'?');
                } else {
                    out.extend_from_slice(c.as_bytes());
                }
                i += n;
            }
            None => {
                out.push(b'?');
                i += 1;
            }
        }
    }
    out
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn hostile_names_cannot_drive_the_terminal() {
    let hosts = "127.0.0.1 localhost\n127.0.0.5 evil\x1b]0;pwned\x07host\n";
    let Some(ns) = Namespace::create_with_etc("tty", &[("hosts", hosts)]) else {
        return;
    };
    ns.sh(
        // no IPv6 on the new links: no neighbour discovery moving the
        // counters between the two runs
        "sysctl -qw net.ipv6.conf.default.disable_ipv6=1; \
         ip addr add 127.0.0.5/8 dev lo 2>/dev/null || true; \
         ip link add name \"$(printf 'e\\033[7mv')\" type veth peer name tty-peer0 && \
         ip link set \"$(printf 'e\\033[7mv')\" up && ip link set tty-peer0 up && \
         ip addr add 10.77.0.1/24 dev \"$(printf 'e\\033[7mv')\"",
    );
    let scratch = TempDir::new(&ns.name);
    let mut holder = ns
        .command("python3", &["-c", HOLDER, scratch.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let ready = first_line(&mut holder);
    assert_eq!(ready.trim(), "READY");
    // sleep has replaced python: wait until its argv[0] is the hostile one
    for _ in 0..100 {
        let comm = std::fs::read(format!("/proc/{}/cmdline", holder.id())).unwrap_or_default();
        if comm.starts_with(b"\x1b[2J") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    for args in [
        &["-xlp"][..],
        &["-tlp"],
        &["-tl"],
        &["-i", "-a"],
        &["-ie"],
        &["-rn"],
    ] {
        let theirs = ns.run(NETSTAT, args);
        let piped = ns.run(nlstat(), args);
        assert!(
            piped.stdout == theirs.stdout,
            "piped `nlstat {}` keeps netstat's bytes:\n{}",
            args.join(" "),
            describe_byte_diff(&theirs.stdout, &piped.stdout)
        );
        let mut pty_args = vec!["-c", PTY, nlstat()];
        pty_args.extend_from_slice(args);
        let run = ns.run("python3", &pty_args);
        let report = String::from_utf8(run.stdout).unwrap();
        let mut lines = report.lines();
        let screen = unhex(lines.next().unwrap_or_default());
        assert_eq!(
            lines.next(),
            Some("0"),
            "`nlstat {}` on a pty",
            args.join(" ")
        );
        let expected = escaped(&theirs.stdout);
        assert!(
            screen == expected,
            "`nlstat {}` on a pty: netstat's bytes, escaped:\n{}",
            args.join(" "),
            describe_byte_diff(&expected, &screen)
        );
        assert!(
            !screen
                .iter()
                .any(|&b| (b < 0x20 && b != b'\n') || b == 0x7f || b == 0x9b),
            "no control byte reaches the terminal"
        );
    }

    // What the rows say, spelled out (the names really were in them).
    let run = ns.run("python3", &["-c", PTY, nlstat(), "-xlp"]);
    let screen = unhex(
        String::from_utf8(run.stdout)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    );
    let screen = String::from_utf8(screen).unwrap();
    let pid = holder.id();
    // the path is cut at its first blank, the newline (as netstat cuts it)
    let path_row = screen
        .lines()
        .find(|l| l.ends_with("/a?[31mred"))
        .unwrap_or_else(|| panic!("the path row: {screen}"));
    // netstat's label: PID/argv[0] cut to 19 bytes, then escaped
    let mut label = format!("{pid}/").into_bytes();
    label.extend_from_slice(b"\x1b[2J\x07\xc2\x9b\x9b");
    label.truncate(19);
    let label = String::from_utf8(escaped(&label)).unwrap();
    // clear-screen, BEL, C1 CSI in UTF-8, a lone 8-bit CSI
    assert_eq!(label, format!("{pid}/?[2J???"));
    assert!(path_row.contains(&format!(" {label} ")), "{path_row}");
    assert!(
        screen.lines().any(|l| l.ends_with(" @abs?]2;owned?")),
        "{screen}"
    );
    let run = ns.run("python3", &["-c", PTY, nlstat(), "-tl"]);
    let screen = String::from_utf8(unhex(
        String::from_utf8(run.stdout)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    ))
    .unwrap();
    assert!(screen.contains(" evil?]0;pwned?host:7002 "), "{screen}");

    // A newline in a process name: piped, netstat's bytes (the row breaks
    // in two, as netstat's does); on the terminal one row, with `?`.
    let theirs = ns.run(NETSTAT, &["-ulnp"]);
    let piped = ns.run(nlstat(), &["-ulnp"]);
    assert_eq!(piped.stdout, theirs.stdout);
    assert!(String::from_utf8_lossy(&piped.stdout).contains("/two\nlines"));
    let run = ns.run("python3", &["-c", PTY, nlstat(), "-ulnp"]);
    let screen = String::from_utf8(unhex(
        String::from_utf8(run.stdout)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    ))
    .unwrap();
    let row = screen
        .lines()
        .find(|l| l.contains("127.0.0.5:7003"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(row.trim_end().ends_with("/two?lines"), "{row}");

    let _ = holder.kill();
    let _ = holder.wait();
}

/// Holds, under an argv[0] that is not UTF-8, a TCP listener, a UDP
/// socket and unix sockets at a path and an abstract name that are not
/// UTF-8 either (a lone continuation byte, 0xff, a cut sequence).
const NOT_UTF8: &str = r#"
import os, socket, sys
d = sys.argv[1].encode()
t = socket.socket(); t.bind(("127.0.0.1", 7010)); t.listen()
v = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); v.bind(("127.0.0.1", 7011))
u = socket.socket(socket.AF_UNIX); u.bind(d + b"/\x80p\xff\xfe\xc3.sock"); u.listen()
a = socket.socket(socket.AF_UNIX); a.bind(b"\0ab\xfe\xff\xe2\x82"); a.listen()
c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); c.bind(d + b"/dg\xbf\xc0")
for s in (t, v, u, a, c): os.set_inheritable(s.fileno(), True)
print("READY", flush=True)
os.execv("/bin/sleep", [b"n\xffa\xfe\x80me\xc3", b"60"])
"#;

/// Piped, nlstat prints netstat's bytes exactly for names and paths that
/// are not UTF-8: compared as bytes, so `\xff` is not `\xfe` and neither is
/// U+FFFD.
#[test]
fn names_and_paths_that_are_not_utf8_keep_netstats_bytes() {
    let Some(ns) = Namespace::create("notutf8") else {
        return;
    };
    let scratch = TempDir::new(&ns.name);
    let mut holder = ns
        .command("python3", &["-c", NOT_UTF8, scratch.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let ready = first_line(&mut holder);
    assert_eq!(ready.trim(), "READY");
    for _ in 0..100 {
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", holder.id())).unwrap_or_default();
        if cmdline.starts_with(b"n\xff") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // the oracle really prints the raw bytes
    let theirs = ns.run(NETSTAT, &["-xap"]);
    for raw in [
        &b"/\x80p\xff\xfe\xc3.sock"[..],
        b"@ab\xfe\xff\xe2\x82",
        b"/dg\xbf\xc0",
        b"/n\xffa\xfe\x80me\xc3",
    ] {
        assert!(
            theirs.stdout.windows(raw.len()).any(|w| w == raw),
            "netstat -xap shows {}:\n{}",
            show(raw),
            show(&theirs.stdout)
        );
    }
    assert_all_match(
        &ns,
        &[
            &["-xap"],
            &["-xa"],
            &["-xlp"],
            &["-xlpW"],
            &["-tlnp"],
            &["-tulnpe"],
            &["-uanp"],
        ],
        &[],
        Masks {
            timers: false,
            // accept-queue embryos: none here, but their order is not
            // the point of this test
            embryo_order: true,
        },
    );
    let _ = holder.kill();
    let _ = holder.wait();
}

#[test]
fn the_reference_rule_escapes_what_it_should() {
    assert_eq!(escaped(b"a\x1b[1mb\n"), b"a?[1mb\n");
    assert_eq!(escaped("x\u{9b}y".as_bytes()), b"x?y");
    assert_eq!(escaped(b"x\x9by\xc3"), b"x?y?");
    assert_eq!(escaped("é".as_bytes()), "é".as_bytes());
}
