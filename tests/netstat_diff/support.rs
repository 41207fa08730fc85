//! The namespace harness: create a namespace, fill it, run both tools in
//! it, compare their output and show the differing lines.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub const NETSTAT: &str = "/usr/bin/netstat";

/// The nlstat binary cargo built for this test run.
pub fn nlstat() -> &'static str {
    env!("CARGO_BIN_EXE_nlstat")
}

/// A symbolic link named `netstat` to the nlstat binary (one per test
/// process, under target/tmp): what `--as-netstat` installs.
pub fn nlstat_as_netstat() -> &'static str {
    static LINK: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    LINK.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("as-netstat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory for the netstat link");
        let link = dir.join("netstat");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(nlstat(), &link).expect("link netstat to nlstat");
        link.to_str()
            .expect("a UTF-8 temporary directory")
            .to_string()
    })
}

pub(crate) fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

/// The project's rule for a test that cannot have what it needs: under CI
/// (`ci`) that is a failure; elsewhere print `SKIPPED: <reason>` and let
/// the caller return. The one place the rule is written.
pub fn skip_or_fail(reason: &str, ci: bool) {
    if ci {
        panic!("CI=true but the test cannot run: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
}

/// Whether `tool` can be run: an absolute path that is an executable
/// file, or a name found so on $PATH (what `Command::new` and
/// `ip netns exec` look up).
pub fn tool_installed(tool: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if tool.contains('/') {
        return executable(Path::new(tool));
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| executable(&dir.join(tool))))
}

/// The name of the running test: libtest names each test's thread after it.
pub fn current_test() -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => name.to_string(),
        _ => "this test".to_string(),
    }
}

/// Whether every external tool in `tools` is installed. When one is not:
/// outside CI print `SKIPPED: <test>: <tool> is not installed` and return
/// false (the test returns); with CI=true fail, as .ci/run installs them.
pub fn require_tools(tools: &[&str]) -> bool {
    require_tools_for(&current_test(), tools, in_ci())
}

/// [`require_tools`] with the test name and the CI setting given, so the
/// rule itself can be tested without touching the process environment.
pub fn require_tools_for(test: &str, tools: &[&str], ci: bool) -> bool {
    match tools.iter().find(|tool| !tool_installed(tool)) {
        None => true,
        Some(tool) => {
            skip_or_fail(&format!("{test}: {tool} is not installed"), ci);
            false
        }
    }
}

/// A fresh directory under the system's temporary directory, removed with
/// everything in it when dropped, so a failing (panicking) or skipped test
/// leaves nothing behind.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "nlstat-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A network namespace that is deleted when dropped, with its optional
/// /etc/netns/NAME overlay (`ip netns exec` bind-mounts those files over
/// /etc, so a test can give the namespace its own hosts or resolv.conf).
pub struct Namespace {
    pub name: String,
    etc_overlay: Option<PathBuf>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl Namespace {
    /// Create a namespace with `lo` up. `None` (after printing why) when
    /// this machine cannot, outside CI; under CI that is a test failure.
    pub fn create(tag: &str) -> Option<Namespace> {
        Self::create_with_etc(tag, &[])
    }

    /// Like [`create`](Self::create), with files laid over /etc inside the
    /// namespace (name, contents).
    pub fn create_with_etc(tag: &str, etc_files: &[(&str, &str)]) -> Option<Namespace> {
        let name = format!(
            "nlstat-{tag}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        // what the harness itself runs in every namespace test: the
        // oracle, iproute2 (ip, ss) and python3 (the population holders)
        if !require_tools(&[NETSTAT, "ip", "ss", "python3"]) {
            return None;
        }
        let reason = {
            match Command::new("ip").args(["netns", "add", &name]).output() {
                Ok(o) if o.status.success() => None,
                Ok(o) => Some(format!(
                    "`ip netns add` failed: {}",
                    String::from_utf8_lossy(&o.stderr).trim()
                )),
                Err(e) => Some(format!("cannot run `ip`: {e}")),
            }
        };
        if let Some(reason) = reason {
            skip_or_fail(
                &format!(
                    "{}: {reason} (needs root; run as root to test)",
                    current_test()
                ),
                in_ci(),
            );
            return None;
        }
        let mut ns = Namespace {
            name,
            etc_overlay: None,
        };
        if !etc_files.is_empty() {
            let dir = PathBuf::from("/etc/netns").join(&ns.name);
            std::fs::create_dir_all(&dir).expect("create /etc/netns overlay");
            for (file, contents) in etc_files {
                std::fs::write(dir.join(file), contents).expect("write /etc/netns overlay file");
            }
            ns.etc_overlay = Some(dir);
        }
        ns.sh("ip link set lo up");
        Some(ns)
    }

    /// `ip netns exec NAME program args...`
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]).args(args);
        cmd
    }

    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        self.command(program, args)
            .output()
            .expect("run a command in the namespace")
    }

    /// Run a shell script in the namespace; panics when it fails.
    pub fn sh(&self, script: &str) -> Output {
        let out = self.run("sh", &["-c", script]);
        assert!(
            out.status.success(),
            "in {}: `{script}` failed: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        if let Some(dir) = self.etc_overlay.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// A child process that is killed when dropped, so a failing test does
/// not leave it running.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The first line a helper process prints on its piped stdout (its
/// `READY ...` line), or an empty string when it exits first.
pub fn first_line(child: &mut Child) -> String {
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the helper's first line");
    }
    line
}

/// A process (tests/netstat_diff/population.py) holding a known socket
/// population; it exits when dropped, or by itself after ten minutes.
pub struct Population {
    child: Child,
    stdin: Option<ChildStdin>,
    pub scratch: TempDir,
}

pub const LONG_V6: &str = "fd00:1234:5678:9abc:def0:1234:5678:9abc";

impl Population {
    pub fn start(ns: &Namespace) -> Population {
        ns.sh(&format!("ip addr add {LONG_V6}/128 dev lo nodad"));
        let scratch = TempDir::new(&ns.name);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/netstat_diff/population.py");
        let mut child = ns
            .command(
                "python3",
                &[script.to_str().unwrap(), scratch.to_str().unwrap()],
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3 population.py");
        let line = first_line(&mut child);
        assert_eq!(line.trim(), "READY", "population.py did not start");
        let stdin = child.stdin.take();
        Population {
            child,
            stdin,
            scratch,
        }
    }
}

impl Drop for Population {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.child.wait();
    }
}

/// Replace what legitimately moves between two runs: the seconds of a
/// running timer (`keepalive (7166.60/0/0)` → `keepalive (#/0/0)`).
pub fn mask_timers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find(" (") {
        let (head, tail) = rest.split_at(open + 2);
        out.push_str(head);
        let word_start = head[..open].rfind(' ').map(|i| i + 1).unwrap_or(0);
        let word = &head[word_start..open];
        let is_timer = matches!(
            word,
            "on" | "keepalive" | "timewait" | "probe" | "on1" | "on2"
        ) || word.starts_with("unkn-");
        match (is_timer, tail.find('/')) {
            (true, Some(slash)) if tail[..slash].parse::<f64>().is_ok() => {
                out.push('#');
                rest = &tail[slash..];
            }
            _ => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// What a comparison ignores, each with a reason stated at the call.
#[derive(Clone, Copy, Default)]
pub struct Masks {
    /// Timer seconds count down between the two runs.
    pub timers: bool,
    /// Unix sockets still in a listener's accept queue (inode 0) are placed
    /// by hash bucket in /proc, which sock_diag does not reveal; nlstat
    /// prints them after their listener. Their lines must still match.
    pub embryo_order: bool,
}

/// Lines of `expected` and `actual` that differ, side by side.
pub fn describe_diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let mut report = String::new();
    for i in 0..e.len().max(a.len()) {
        let (x, y) = (e.get(i).copied(), a.get(i).copied());
        if x != y {
            report.push_str(&format!(
                "line {}:\n  netstat: {:?}\n  nlstat:  {:?}\n",
                i + 1,
                x.unwrap_or("<none>"),
                y.unwrap_or("<none>")
            ));
        }
    }
    if report.is_empty() && expected != actual {
        report.push_str("outputs differ only in the final newline\n");
    }
    report
}

/// Bytes as a string with one char per byte (U+0000..U+00FF): lossless,
/// so two such strings are equal exactly when the bytes are, and the text
/// masks (which look at ASCII only) work on them unchanged.
pub fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// The bytes [`latin1`] was given back.
pub fn from_latin1(text: &str) -> Vec<u8> {
    text.chars().map(|c| c as u32 as u8).collect()
}

/// Bytes for a message: printable ASCII as is, every other byte escaped
/// (`\xff`, `\n`), so two different bytes never look alike.
pub fn show(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// Lines of `expected` and `actual` that differ, byte for byte, shown
/// with [`show`]; empty when the bytes are equal.
pub fn describe_byte_diff(expected: &[u8], actual: &[u8]) -> String {
    if expected == actual {
        return String::new();
    }
    let e: Vec<&[u8]> = expected.split(|&b| b == b'\n').collect();
    let a: Vec<&[u8]> = actual.split(|&b| b == b'\n').collect();
    let mut report = String::new();
    for i in 0..e.len().max(a.len()) {
        let (x, y) = (e.get(i), a.get(i));
        if x != y {
            let line = |l: Option<&&[u8]>| l.map_or("<none>".to_string(), |l| show(l));
            report.push_str(&format!(
                "line {}:\n  netstat: \"{}\"\n  nlstat:  \"{}\"\n",
                i + 1,
                line(x),
                line(y)
            ));
        }
    }
    report
}

/// Move inode-0 unix lines to a canonical place (sorted, at the end of the
/// unix section) in both outputs; everything else stays in order.
pub fn canonical_embryos(text: &str) -> String {
    let mut lines: Vec<&str> = Vec::new();
    let mut embryos: Vec<&str> = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let is_embryo = line.starts_with("unix ")
            && fields
                .iter()
                .any(|f| *f == "CONNECTING" || *f == "DISCONNECTING")
            && fields.contains(&"0");
        if is_embryo {
            embryos.push(line);
        } else {
            lines.push(line);
        }
    }
    embryos.sort_unstable();
    let mut out = String::new();
    for l in lines.iter().chain(embryos.iter()) {
        out.push_str(l);
        out.push('\n');
    }
    out
}

pub struct Comparison {
    pub netstat: Output,
    pub nlstat: Output,
}

/// Run `netstat ARGS` and `nlstat EXTRA ARGS` in the namespace.
pub fn run_both(ns: &Namespace, args: &[&str], extra: &[&str]) -> Comparison {
    let netstat = ns.run(NETSTAT, args);
    let mut nl_args: Vec<&str> = extra.to_vec();
    nl_args.extend_from_slice(args);
    let nlstat = ns.run(nlstat(), &nl_args);
    Comparison { netstat, nlstat }
}

/// Compare stdout bytes and exit statuses; `Err` describes the difference.
pub fn compare(ns: &Namespace, args: &[&str], extra: &[&str], masks: Masks) -> Result<(), String> {
    let Comparison { netstat, nlstat } = run_both(ns, args, extra);
    let mut expected = latin1(&netstat.stdout);
    let mut actual = latin1(&nlstat.stdout);
    if masks.timers {
        expected = mask_timers(&expected);
        actual = mask_timers(&actual);
    }
    if masks.embryo_order {
        expected = canonical_embryos(&expected);
        actual = canonical_embryos(&actual);
    }
    let mut problems = String::new();
    problems.push_str(&describe_byte_diff(
        &from_latin1(&expected),
        &from_latin1(&actual),
    ));
    if netstat.status.code() != nlstat.status.code() {
        problems.push_str(&format!(
            "exit status: netstat {:?}, nlstat {:?} (nlstat stderr: {})\n",
            netstat.status.code(),
            nlstat.status.code(),
            String::from_utf8_lossy(&nlstat.stderr)
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "`netstat {}` vs `nlstat {}`:\n{problems}",
            args.join(" "),
            {
                let mut v = extra.to_vec();
                v.extend_from_slice(args);
                v.join(" ")
            }
        ))
    }
}

/// Compare stdout, stderr and exit status of two runs of `args`; `Err`
/// shows what differs.
pub fn same_output(args: &[&str], theirs: &Output, ours: &Output) -> Result<(), String> {
    let mut problems = String::new();
    for (what, e, a) in [
        ("stdout", &theirs.stdout, &ours.stdout),
        ("stderr", &theirs.stderr, &ours.stderr),
    ] {
        if e != a {
            problems.push_str(&format!("{what}:\n{}", describe_byte_diff(e, a)));
        }
    }
    if theirs.status.code() != ours.status.code() {
        problems.push_str(&format!(
            "exit status: netstat {:?}, nlstat {:?}\n",
            theirs.status.code(),
            ours.status.code()
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{args:?}:\n{problems}"))
    }
}

/// Fail with every mismatch of a batch of comparisons at once.
pub fn assert_all(results: Vec<Result<(), String>>) {
    let total = results.len();
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(
        failures.is_empty(),
        "{} of {total} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// nlstat with its /proc at `root`.
pub fn nlstat_at(root: &Path, args: &[&str]) -> Output {
    Command::new(nlstat())
        .args(args)
        .env("NLSTAT_PROC_ROOT", root)
        .output()
        .expect("run nlstat")
}

/// netstat with a tmpfs /proc (in a private mount namespace) holding a
/// copy of `root`, so it reads fixture files. `None` when this machine cannot (not root, no unshare).
pub fn netstat_at(root: &Path, args: &[&str]) -> Option<Output> {
    if !require_tools(&["unshare", NETSTAT]) {
        return None;
    }
    let script = r#"mount -t tmpfs nlstat-fixture /proc && cp -r "$0"/. /proc/ && exec /usr/bin/netstat "$@""#;
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", script])
        .arg(root)
        .args(args)
        .output()
        .expect("run unshare");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("unshare failed")
        || stderr.contains("mount:")
        || stderr.contains("Operation not permitted")
    {
        skip_or_fail(
            &format!(
                "{}: cannot run netstat on a private /proc: {stderr}",
                current_test()
            ),
            in_ci(),
        );
        return None;
    }
    Some(out)
}

/// Compare many flag sets, reporting every mismatch at once.
pub fn assert_all_match(ns: &Namespace, flag_sets: &[&[&str]], extra: &[&str], masks: Masks) {
    let failures: Vec<String> = flag_sets
        .iter()
        .filter_map(|args| compare(ns, args, extra, masks).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} comparisons differ:\n{}",
        failures.len(),
        flag_sets.len(),
        failures.join("\n")
    );
}

/// Seconds since the epoch of a UTC time stamp `YYYY-MM-DDTHH:MM:SS.mmmZ`
/// (RFC 3339 as nlstat writes it); `None` when it is not one.
pub fn rfc3339_seconds(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    if b.len() != 24
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let n = |from: usize, to: usize| text[from..to].parse::<i64>().ok();
    let (y, m, d) = (n(0, 4)?, n(5, 7)?, n(8, 10)?);
    let (hh, mm, ss, ms) = (n(11, 13)?, n(14, 16)?, n(17, 19)?, n(20, 23)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // days from the civil date (Howard Hinnant's days_from_civil)
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss) as f64 + ms as f64 / 1000.0)
}

/// Runs nlstat with `args`, stopped (SIGSTOP) for `pause` once `after` has
/// passed, so a repeating run misses slots of its schedule.
pub fn run_paused(args: &[&str], after: Duration, pause: Duration) -> Output {
    let child = Command::new(nlstat())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nlstat");
    std::thread::sleep(after);
    // SAFETY: kill(2) on our own child, which has not been waited for.
    unsafe { libc::kill(child.id() as i32, libc::SIGSTOP) };
    std::thread::sleep(pause);
    // SAFETY: as above.
    unsafe { libc::kill(child.id() as i32, libc::SIGCONT) };
    child.wait_with_output().expect("nlstat's output")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MISSING: &str = "nlstat-test-no-such-tool";

    #[test]
    fn a_missing_tool_skips_outside_ci() {
        assert!(!require_tools_for("t", &["sh", MISSING], false));
        assert!(require_tools_for("t", &["sh", "/bin/sh"], false));
        assert!(require_tools_for("t", &["sh"], true));
    }

    #[test]
    fn a_missing_tool_fails_under_ci() {
        let failed = std::panic::catch_unwind(|| require_tools_for("t", &[MISSING], true))
            .expect_err("CI=true: a missing tool is a failure");
        let message = failed
            .downcast_ref::<String>()
            .expect("a formatted panic message");
        assert!(
            message.contains(&format!("t: {MISSING} is not installed")),
            "{message}"
        );
    }

    #[test]
    fn only_executable_files_count_as_tools() {
        assert!(tool_installed("/bin/sh"));
        assert!(!tool_installed("/nonexistent/sh"));
        assert!(!tool_installed(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/Cargo.toml"
        )));
        assert!(!tool_installed("/tmp"));
        assert!(!tool_installed(MISSING));
    }

    #[test]
    fn skip_messages_name_the_test() {
        assert_eq!(
            current_test(),
            "support::tests::skip_messages_name_the_test"
        );
    }

    #[test]
    fn a_temporary_directory_goes_even_when_the_test_panics() {
        let mut kept = PathBuf::new();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let dir = TempDir::new("panics");
            std::fs::write(dir.join("file"), "x").unwrap();
            kept = dir.to_path_buf();
            panic!("a failing test");
        }));
        assert!(result.is_err());
        assert!(kept.starts_with(std::env::temp_dir()), "{kept:?}");
        assert!(!kept.exists(), "{kept:?} stayed behind");
    }

    fn output(stdout: &[u8]) -> Output {
        use std::os::unix::process::ExitStatusExt;
        Output {
            status: std::process::ExitStatus::from_raw(0),
            stdout: stdout.to_vec(),
            stderr: Vec::new(),
        }
    }

    #[test]
    fn outputs_are_compared_byte_for_byte() {
        let theirs = output(b"unix /p\xff\n");
        for ours in [&b"unix /p\xfe\n"[..], "unix /p\u{fffd}\n".as_bytes()] {
            let diff = same_output(&["-x"], &theirs, &output(ours))
                .expect_err("a different byte is a difference");
            assert!(diff.contains("unix /p\\xff"), "{diff}");
        }
        assert!(same_output(&["-x"], &theirs, &output(b"unix /p\xff\n")).is_ok());
        // the masks see the bytes unchanged
        let raw = b"tcp x\xff keepalive (7.10/0/0)\n";
        assert_eq!(
            from_latin1(&mask_timers(&latin1(raw))),
            b"tcp x\xff keepalive (#/0/0)\n"
        );
    }

    #[test]
    fn timer_mask_keeps_counts() {
        assert_eq!(
            mask_timers("x keepalive (7166.60/0/1)\ny timewait (3.10/0/0)\nz off (0.00/0/0)\n"),
            "x keepalive (#/0/1)\ny timewait (#/0/0)\nz off (0.00/0/0)\n"
        );
    }

    #[test]
    fn embryo_lines_move_but_must_exist() {
        let a = "unix  3 [ ] STREAM CONNECTING 0 /p\nunix  2 [ ACC ] STREAM LISTENING 5 /p\n";
        let b = "unix  2 [ ACC ] STREAM LISTENING 5 /p\nunix  3 [ ] STREAM CONNECTING 0 /p\n";
        assert_eq!(canonical_embryos(a), canonical_embryos(b));
        assert_ne!(
            canonical_embryos(a),
            canonical_embryos("unix  2 [ ACC ] STREAM LISTENING 5 /p\n")
        );
    }
}
