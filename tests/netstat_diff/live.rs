//! `--live` in a real pseudo-terminal, read through pyte (a terminal
//! emulator written apart from nlstat; tests/netstat_diff/live_pty.py):
//! the counts on each screen against ss's on the same sockets, the keys
//! (screens, sort, filter, pause), close events against `ss -E`, and the
//! terminal given back on `q`, SIGTERM and SIGTSTP/SIGCONT.

use crate::support::*;
use crate::views::{Holder, ss_counts_by_state};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

/// The program under live_pty.py, answering one JSON step at a time.
struct Pty {
    child: Child,
    steps: ChildStdin,
    answers: BufReader<ChildStdout>,
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether pyte can be imported; else skip (or fail under CI).
fn have_pyte() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import pyte"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip_or_fail(
            &format!("{}: python3's pyte is not installed", current_test()),
            in_ci(),
        );
    }
    ok
}

impl Pty {
    /// `nlstat ARGS` on a `cols` x `rows` terminal, in `ns` when given.
    fn start(ns: Option<&Namespace>, cols: u16, rows: u16, args: &[&str]) -> Pty {
        Pty::start_ignoring(ns, (cols, rows), &[], args)
    }

    /// The same, started with the signals `ignored` (names without SIG)
    /// ignored, as a shell without job control starts its commands.
    fn start_ignoring(
        ns: Option<&Namespace>,
        (cols, rows): (u16, u16),
        ignored: &[&str],
        args: &[&str],
    ) -> Pty {
        let mut argv = vec![nlstat()];
        argv.extend_from_slice(args);
        Pty::start_command(ns, (cols, rows), ignored, &argv)
    }

    /// `argv` (a program and its arguments) on the terminal.
    fn start_command(
        ns: Option<&Namespace>,
        (cols, rows): (u16, u16),
        ignored: &[&str],
        argv: &[&str],
    ) -> Pty {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/netstat_diff/live_pty.py");
        let size = [cols.to_string(), rows.to_string()];
        let mut all = vec![script.to_str().unwrap(), &size[0], &size[1]];
        for signal in ignored {
            all.extend(["--ignore", signal]);
        }
        all.push("--");
        all.extend_from_slice(argv);
        let mut command = match ns {
            Some(ns) => ns.command("python3", &all),
            None => {
                let mut c = std::process::Command::new("python3");
                c.args(&all);
                c
            }
        };
        let mut child = command
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start live_pty.py");
        let steps = child.stdin.take().unwrap();
        let answers = BufReader::new(child.stdout.take().unwrap());
        Pty {
            child,
            steps,
            answers,
        }
    }

    fn step(&mut self, step: Value) -> Value {
        writeln!(self.steps, "{step}").expect("send a step");
        let mut line = String::new();
        self.answers.read_line(&mut line).expect("read an answer");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?} for {step}"))
    }

    /// The screen once it shows `text` (fails after 20 s).
    fn wait(&mut self, text: &str) -> Vec<String> {
        let answer = self.step(json!({"wait": text, "timeout": 20}));
        let lines = lines_of(&answer);
        assert!(
            answer["found"] == true,
            "the screen never showed {text:?}:\n{}",
            lines.join("\n")
        );
        lines
    }

    fn keys(&mut self, keys: &str) {
        self.step(json!({"keys": keys}));
    }

    /// Wait for the exit: its status, and the terminal as it was left.
    fn exit(&mut self) -> Value {
        self.step(json!({"exit": 10}))
    }
}

fn lines_of(answer: &Value) -> Vec<String> {
    answer["lines"]
        .as_array()
        .map(|l| l.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// The rows of the table titled `title` (its words, the box's sides
/// dropped), up to the box's bottom.
fn table_rows(lines: &[String], title: &str) -> Vec<Vec<String>> {
    let Some(top) = lines
        .iter()
        .position(|l| l.starts_with('┌') && l.contains(title))
    else {
        panic!("no table {title:?} on:\n{}", lines.join("\n"));
    };
    assert!(
        !lines[top].contains(" of "),
        "some rows are off screen: {}",
        lines[top]
    );
    lines[top + 2..]
        .iter()
        .take_while(|l| l.starts_with('│'))
        .map(|l| {
            l.trim_matches('│')
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .filter(|words| !words.is_empty())
        .collect()
}

/// The terminal left as it was found: out of the alternate screen, the
/// cursor shown, cooked mode.
fn assert_restored(exit: &Value) {
    assert_eq!(exit["status"], 0, "{exit}");
    assert_given_back(exit);
    // every frame a synchronized update, begun and ended (the screen
    // reads above rely on it to read frames whole)
    let frames = &exit["frames"];
    assert!(frames[0].as_u64() > Some(0), "{frames}");
    assert_eq!(frames[0], frames[1], "every update ends");
}

/// The terminal as nlstat found it: main screen, cursor shown, cooked.
fn assert_given_back(exit: &Value) {
    assert_eq!(exit["alternate"], false, "still on the alternate screen");
    assert_eq!(exit["cursor_hidden"], false, "the cursor stays hidden");
    assert_eq!(exit["raw"], false, "the terminal stays raw");
}

/// ss's TCP counts by state for one family (`-4` or `-6`).
fn ss_tcp_by_state(ns: &Namespace, family: &str) -> BTreeMap<String, u64> {
    ss_counts_by_state(ns, &[family, "-tanH"])
        .into_iter()
        .map(|(state, n)| (state.trim_matches('"').to_string(), n))
        .collect()
}

/// ss's counts of TCP sockets matching `filter` by (state, local port).
fn ss_by_state_and_port(ns: &Namespace, filter: &[&str]) -> BTreeMap<(String, String), u64> {
    let mut args = vec!["-tanH"];
    args.extend_from_slice(filter);
    let out = ns.run("ss", &args);
    let mut counts = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let state = crate::views::netstat_state(words[0]);
        let port = words[3].rsplit_once(':').unwrap().1.to_string();
        *counts
            .entry((state.as_str().unwrap().to_string(), port))
            .or_insert(0) += 1;
    }
    counts
}

/// The Summary, Listeners, Ephemeral and Group-by screens show ss's
/// counts on the load-balancer population; Tab and number keys switch
/// screens, `s` sorts, `/` filters (a bad expression shows its error and
/// keeps the one in force), `q` gives the terminal back.
#[test]
fn live_screens_match_ss_and_answer_keys() {
    if !have_pyte() {
        return;
    }
    let Some(ns) = Namespace::create("live") else {
        return;
    };
    let _population = Population::start(&ns);
    let _lb = Holder::start(&ns);
    let mut pty = Pty::start(Some(&ns), 160, 90, &["--live", "-n", "-t"]);

    // Summary: TCP per family and state, as ss counts them
    pty.wait("last minute");
    let lines = pty.wait("ESTABLISHED");
    let mut shown: BTreeMap<(String, String), u64> = BTreeMap::new();
    for row in table_rows(&lines, "Sockets by protocol") {
        assert_eq!(row[0], "tcp", "-t shows TCP only: {row:?}");
        shown.insert((row[1].clone(), row[2].clone()), row[3].parse().unwrap());
    }
    for (family, flag) in [("inet", "-4"), ("inet6", "-6")] {
        let ours: BTreeMap<String, u64> = shown
            .iter()
            .filter(|((f, _), _)| f == family)
            .map(|((_, state), n)| (state.clone(), *n))
            .collect();
        assert_eq!(ours, ss_tcp_by_state(&ns, flag), "{family}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("kernel totals: sockets_used"))
    );

    // Listeners: accept queue and backlog as ss -lt shows them
    pty.keys("2");
    let lines = pty.wait("TCP listeners");
    let listeners: BTreeMap<(String, String), String> = table_rows(&lines, "TCP listeners")
        .into_iter()
        .map(|r| ((r[0].clone(), r[1].clone()), r[3].clone()))
        .collect();
    let mut expected = BTreeMap::new();
    for line in String::from_utf8_lossy(&ns.run("ss", &["-ltnH"]).stdout).lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        let (addr, port) = w[3].rsplit_once(':').unwrap();
        let addr = addr.trim_matches(|c| c == '[' || c == ']');
        // a dual-stack wildcard listener is `*` to ss
        let addr = if addr == "*" { "::" } else { addr };
        expected.insert(
            (addr.to_string(), port.to_string()),
            format!("{}/{}", w[1], w[2]),
        );
    }
    assert_eq!(listeners, expected);
    assert!(lines.iter().any(|l| l.contains("ListenOverflows")));
    // s, s: by local_port, largest first
    pty.keys("ss");
    let lines = pty.wait("sorted by local_port");
    let ports: Vec<u64> = table_rows(&lines, "TCP listeners")
        .iter()
        .map(|r| r[1].parse().unwrap())
        .collect();
    assert!(ports.windows(2).all(|p| p[0] >= p[1]), "{ports:?}");
    assert!(ports.len() >= 4, "{ports:?}");

    // Ephemeral: 8 of the 9 ports to 127.0.0.20:9000
    pty.keys("3");
    let lines = pty.wait("NEAR EXHAUSTION");
    let rows = table_rows(&lines, "Ephemeral ports");
    let pair = rows
        .iter()
        .find(|r| r[1] == "127.0.0.20" && r[2] == "9000")
        .expect("the pair to 127.0.0.20:9000");
    let in_use = ns.run(
        "ss",
        &["-tnH", "state", "established", "dst", "127.0.0.20:9000"],
    );
    let in_use = String::from_utf8_lossy(&in_use.stdout).lines().count();
    // local remote port [bar] used% NEAR EXHAUSTION in_use time_wait available delta
    assert_eq!(pair[4], "88%", "{pair:?}");
    assert_eq!(pair[7], in_use.to_string(), "{pair:?}");
    assert_eq!(pair[9], "9", "{pair:?}");

    // Group-by (state, local_port) against ss; then with a filter
    pty.keys("\t");
    let lines = pty.wait("Sockets by state,local_port");
    let counted = |lines: &[String]| -> BTreeMap<(String, String), u64> {
        table_rows(lines, "Sockets by state,local_port")
            .into_iter()
            .map(|r| ((r[0].clone(), r[1].clone()), r[2].parse().unwrap()))
            .collect()
    };
    assert_eq!(counted(&lines), ss_by_state_and_port(&ns, &[]));
    pty.keys("/sport = :7002\r");
    // the status line (the edit line shows the same words until Enter)
    let lines = pty.wait("filter: sport = :7002  at");
    let filtered = counted(&lines);
    assert!(
        filtered.keys().all(|(_, port)| port == "7002"),
        "{filtered:?}"
    );
    assert_eq!(filtered, ss_by_state_and_port(&ns, &["sport = :7002"]));
    // a bad expression: its error in place, the filter kept
    pty.keys("/sport = :7002 and (\r");
    let lines = pty.wait("bad filter");
    assert!(lines[1].contains("filter: sport = :7002  "), "{}", lines[1]);
    assert_eq!(counted(&lines), filtered);

    pty.keys("q");
    assert_restored(&pty.exit());
}

/// `ss -E` (line-buffered) in `ns` for TCP, read as it comes.
struct SsEvents {
    child: Child,
    out: Option<std::thread::JoinHandle<String>>,
}

impl SsEvents {
    fn start(ns: &Namespace) -> SsEvents {
        let mut child = ns
            .command("stdbuf", &["-oL", "ss", "-E", "-tnH"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start ss -E");
        let mut stdout = child.stdout.take().unwrap();
        let out = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        SsEvents {
            child,
            out: Some(out),
        }
    }

    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.out.take().unwrap().join().unwrap()
    }
}

impl Drop for SsEvents {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A listener on 127.0.0.30:8000 holding 3 established connections of
/// its own (ephemeral client ends: their remote end is a backend) that,
/// at each line on stdin, accepts and closes 20 more.
const CHURN: &str = r#"
import socket, sys
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.30", 8000)); l.listen(64)
held = []
for _ in range(3):
    held.append(socket.create_connection(("127.0.0.30", 8000))); held.append(l.accept()[0])
print("READY", flush=True)
for _ in sys.stdin:
    for _ in range(20):
        c = socket.create_connection(("127.0.0.30", 8000)); a, _ = l.accept()
        c.close(); a.close()
"#;

/// Health (with --info) and Closes (with --events) through --netns: a
/// listener's established connections and a backend's as ss counts
/// them; closes per listener and per backend as `ss -E` saw them; the
/// terminal given back on SIGTSTP, taken again on SIGCONT, and given back
/// on SIGTERM.
#[test]
fn live_health_and_closes_match_ss() {
    if !have_pyte() || !require_tools(&["stdbuf"]) {
        return;
    }
    let Some(ns) = Namespace::create("livec") else {
        return;
    };
    let mut churn = KillOnDrop(
        ns.command("python3", &["-c", CHURN])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the churn"),
    );
    assert_eq!(first_line(&mut churn.0).trim(), "READY");
    let mut churn_in = churn.0.stdin.take().unwrap();
    let ss = SsEvents::start(&ns);
    // a long interval: refreshes come from keys (p pauses, p again
    // refreshes), so one refresh holds all the closes
    let mut pty = Pty::start(
        None,
        160,
        60,
        &[
            "--live",
            "-n",
            "-t",
            "--info",
            "--events",
            "--interval",
            "60",
            "--netns",
            &ns.name,
        ],
    );
    let lines = pty.wait("Closes per listener");
    assert!(
        lines[1].contains(&format!("netns {}", ns.name)),
        "{}",
        lines[1]
    );
    // the subscriptions have joined their groups
    std::thread::sleep(std::time::Duration::from_millis(700));
    writeln!(churn_in, "go").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    pty.keys("pp");
    pty.wait("Closes per listener (1 rows)");
    let lines = pty.wait("Closes per backend (1 rows)");
    let ss_text = ss.stop();
    let ss_lines: Vec<Vec<&str>> = ss_text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let server_ends = ss_lines
        .iter()
        .filter(|w| w[3] == "127.0.0.30:8000")
        .count();
    let client_ends = ss_lines
        .iter()
        .filter(|w| w[4] == "127.0.0.30:8000")
        .count();
    assert_eq!(
        (server_ends, client_ends),
        (20, 20),
        "ss -E saw:\n{ss_text}"
    );
    let closes = |title: &str| -> u64 {
        table_rows(&lines, title)
            .iter()
            .filter(|r| r[0] == "127.0.0.30" && r[1] == "8000")
            .map(|r| r[2].parse::<u64>().unwrap())
            .sum()
    };
    assert_eq!(closes("Closes per listener"), server_ends as u64);
    assert_eq!(closes("Closes per backend"), client_ends as u64);

    // Health: the listener's established connections, and the backend's
    pty.keys("5");
    let lines = pty.wait("Health per backend");
    let established = ns.run("ss", &["-tnH", "state", "established", "sport = :8000"]);
    let established = String::from_utf8_lossy(&established.stdout).lines().count();
    assert_eq!(established, 3);
    let listener = table_rows(&lines, "Health per listener")
        .into_iter()
        .find(|r| r[0] == "127.0.0.30" && r[1] == "8000")
        .expect("the listener on 127.0.0.30:8000");
    assert_eq!(listener[2], established.to_string(), "{listener:?}");
    // every established connection has its rtt measured
    assert_eq!(listener[3], established.to_string(), "{listener:?}");
    let backend = table_rows(&lines, "Health per backend")
        .into_iter()
        .find(|r| r[0] == "127.0.0.30" && r[1] == "8000")
        .expect("the backend 127.0.0.30:8000");
    let to_backend = ns.run(
        "ss",
        &["-tnH", "state", "established", "dst", "127.0.0.30:8000"],
    );
    let to_backend = String::from_utf8_lossy(&to_backend.stdout).lines().count();
    assert_eq!(backend[2], to_backend.to_string(), "{backend:?}");

    // SIGTSTP: the terminal given back and the process stopped; SIGCONT:
    // taken again and drawn
    pty.step(json!({"signal": "TSTP"}));
    pty.step(json!({"settle": 0.5}));
    let stopped = pty.step(json!({"state": true}));
    assert_eq!(stopped["state"], "T", "{stopped}");
    assert_eq!(
        (
            &stopped["alternate"],
            &stopped["cursor_hidden"],
            &stopped["raw"]
        ),
        (&json!(false), &json!(false), &json!(false)),
        "a stopped job gives the terminal back: {stopped}"
    );
    pty.step(json!({"signal": "CONT"}));
    pty.keys("1");
    pty.wait("Sockets by protocol");
    let running = pty.step(json!({"state": true}));
    assert_ne!(running["state"], "T", "{running}");
    assert_eq!(running["alternate"], true, "{running}");
    pty.step(json!({"signal": "TERM"}));
    assert_restored(&pty.exit());
    drop(churn_in);
}

/// Every namespace's sockets, labelled: this test's namespace is a value
/// of the Group-by screen's netns column, with ss's count. (A port no
/// other test uses, as a filter: the tests' namespaces come and go.)
#[test]
fn live_all_netns_has_a_namespace_column() {
    if !have_pyte() {
        return;
    }
    let Some(ns) = Namespace::create("livea") else {
        return;
    };
    let mut holder = KillOnDrop(
        ns.command(
            "python3",
            &["-c", "import socket, sys\ns = socket.socket(); s.bind(('127.0.0.1', 7341)); s.listen()\nprint('READY', flush=True); sys.stdin.read()"],
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start a listener"),
    );
    assert_eq!(first_line(&mut holder.0).trim(), "READY");
    let mut pty = Pty::start(
        None,
        200,
        60,
        &[
            "--live",
            "-n",
            "-t",
            "--all-netns",
            "--group-by",
            "state",
            "sport = :7341",
        ],
    );
    let lines = pty.wait(&ns.name);
    assert!(lines[1].contains("netns all"), "{}", lines[1]);
    let rows = table_rows(&lines, "Sockets by netns,state");
    let ss = ns.run("ss", &["-ltnH", "sport = :7341"]);
    let listening = String::from_utf8_lossy(&ss.stdout).lines().count();
    assert_eq!(
        rows,
        [vec![
            ns.name.clone(),
            "LISTEN".into(),
            listening.to_string(),
            "-".into()
        ]]
    );
    pty.keys("q");
    assert_restored(&pty.exit());
}

/// Started with SIGTSTP ignored (its parent ignored it, as after a
/// shell's `trap '' TSTP`), Ctrl-Z does not stop nlstat: it says why and
/// runs on.
#[test]
fn ctrl_z_without_job_control_says_so_and_runs_on() {
    if !have_pyte() {
        return;
    }
    let Some(ns) = Namespace::create("livez") else {
        return;
    };
    let mut pty = Pty::start_ignoring(Some(&ns), (100, 30), &["TSTP"], &["--live", "-n"]);
    pty.wait("Sockets by protocol");
    pty.keys("\x1a");
    pty.wait("SIGTSTP is ignored");
    pty.step(json!({"settle": 0.3}));
    let running = pty.step(json!({"state": true}));
    assert_ne!(running["state"], "T", "{running}");
    assert_eq!(running["alternate"], true, "{running}");
    pty.keys("q");
    assert_restored(&pty.exit());
}

/// A panic gives the terminal back before its message, which is shown on
/// the main screen.
#[test]
fn a_panic_gives_the_terminal_back() {
    if !have_pyte() {
        return;
    }
    let Some(ns) = Namespace::create("livep") else {
        return;
    };
    let args = ["env", "NLSTAT_LIVE_PANIC=1", nlstat(), "--live", "-n"];
    let mut pty = Pty::start_command(Some(&ns), (100, 30), &[], &args);
    let exit = pty.exit();
    assert_ne!(exit["status"], 0, "{exit}");
    assert_given_back(&exit);
    // on the main screen: written after the alternate screen was left
    // for the last time (pyte draws both screens as one)
    let after = exit["after_leaving"].as_str().unwrap_or_default();
    assert!(
        after.contains("a panic on purpose"),
        "the panic's message after leaving the alternate screen: {exit}"
    );
}

/// Without a terminal, and with what it cannot draw: one line, status 3.
#[test]
fn live_refuses_without_a_terminal() {
    for (args, message) in [
        (&["--live"][..], "standard output is not one"),
        // the usage error comes before the namespace is looked for
        (
            &["--live", "--netns", "nlstat-no-such-namespace"][..],
            "standard output is not one",
        ),
        (&["--live", "--json"][..], "does not go with --json"),
        (&["--live", "-r"][..], "does not go with -r"),
        (
            &["--live", "--serve", "9999"][..],
            "does not go with --serve",
        ),
        (
            &["--live", "--record", "/dev/null"][..],
            "does not go with --record",
        ),
    ] {
        let out = std::process::Command::new(nlstat())
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
