//! The library's one error type: every failure names what it was doing.
//!
//! Two kinds of trouble are not failures of the whole run: a record or line
//! a parser cannot read ([`ParseError`]: the table goes on without it), and
//! a table the kernel could not dump consistently, reported with
//! [`report`] so the other tables still print and the exit status says
//! something went wrong.

use std::fmt;
use std::io;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(Debug)]
pub enum Error {
    /// A netlink socket could not be opened or a request failed.
    Netlink { what: String, source: io::Error },
    /// A dump the kernel could not complete consistently.
    Dump { what: String, problem: DumpProblem },
    /// A /proc (or other) file could not be read.
    File { path: String, source: io::Error },
    /// The kernel sent something we could not walk.
    Malformed { what: String },
    /// Writing the output failed (a closed pipe is reported as such).
    Output(io::Error),
    /// A BPF iterator cannot be used where the option named (`--pid-source
    /// bpf`, `--view-source bpf`) asks for it: the reason (the kernel's
    /// error, the verifier's last line). A walk that fails mid-run is
    /// reported the same way.
    Bpf {
        option: &'static str,
        reason: String,
    },
}

/// Why a dump is not to be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpProblem {
    /// NLM_F_DUMP_INTR: what the kernel walked changed during the dump.
    Interrupted,
    /// ENOBUFS (or NLMSG_OVERRUN): the kernel could not queue the rest.
    Overrun,
    /// No datagram within this long.
    Stalled(Duration),
}

impl Error {
    pub fn netlink(what: impl Into<String>, source: io::Error) -> Self {
        Error::Netlink {
            what: what.into(),
            source,
        }
    }

    pub fn dump(what: impl Into<String>, problem: DumpProblem) -> Self {
        Error::Dump {
            what: what.into(),
            problem,
        }
    }

    pub fn file(path: impl Into<String>, source: io::Error) -> Self {
        Error::File {
            path: path.into(),
            source,
        }
    }

    /// True when the error is only the reader going away (`nlstat | head`).
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Netlink { what, source } => write!(f, "netlink {what}: {source}"),
            Error::Dump { what, problem } => {
                write!(f, "netlink {what} dump: ")?;
                match problem {
                    DumpProblem::Interrupted => write!(
                        f,
                        "interrupted by concurrent changes (NLM_F_DUMP_INTR); \
                         rows may be missing or repeated"
                    ),
                    DumpProblem::Overrun => write!(
                        f,
                        "the kernel could not queue the rest of the dump (ENOBUFS); \
                         rows are missing"
                    ),
                    DumpProblem::Stalled(after) => write!(
                        f,
                        "no reply from the kernel within {} s; rows are missing",
                        after.as_secs()
                    ),
                }
            }
            Error::File { path, source } => write!(f, "{path}: {source}"),
            Error::Malformed { what } => write!(f, "malformed kernel data: {what}"),
            Error::Output(e) => write!(f, "writing output: {e}"),
            Error::Bpf { option, reason } => write!(f, "{option}: {reason}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Netlink { source, .. } | Error::File { source, .. } => Some(source),
            Error::Output(e) => Some(e),
            Error::Malformed { .. } | Error::Bpf { .. } | Error::Dump { .. } => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Output(e)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// A record or line a parser could not read: where it came from (a file
/// such as `/proc/net/tcp`, or a netlink message type such as
/// `inet_diag_msg`) and what was wrong. Static text, so reporting one
/// allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    pub source: &'static str,
    pub problem: &'static str,
}

impl ParseError {
    pub const fn new(source: &'static str, problem: &'static str) -> Self {
        ParseError { source, problem }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.problem)
    }
}

impl std::error::Error for ParseError {}

/// Records of one dump (or lines of one file) that did not parse: counted,
/// and reported once afterwards with the first reason, where netstat has
/// no message of its own to copy; the rest of the table prints.
#[derive(Debug, Default)]
pub struct Skipped {
    pub count: usize,
    pub first: Option<ParseError>,
}

impl Skipped {
    pub fn add(&mut self, error: ParseError) {
        self.count += 1;
        self.first.get_or_insert(error);
    }

    /// One line on stderr naming the dump (`what`) and the first reason,
    /// when anything was skipped.
    pub fn warn(&self, what: &str) {
        if let Some(first) = self.first {
            let s = if self.count == 1 { "" } else { "s" };
            let line = format!(
                "{}{what} dump: skipped {} unreadable record{s} ({first})\n",
                message_start(),
                self.count
            );
            crate::io::stdio::write_stderr(line.as_bytes());
        }
    }
}

// Global state, on purpose: a table's failure is reported where it
// happens, deep in collect/ and on whichever thread dumps it (every
// `--all-netns` namespace has its own), and the run goes on; only the
// exit status in main, after the run, and the exporter's error count
// (one collection at a time, behind its lock) look at the result. Passing
// a reporter down would thread one more argument through every collector
// and worker thread for one counter. The program name is set once by the
// binary and starts every message, including those from the same depths.
static PROGRAM: OnceLock<String> = OnceLock::new();
/// Some table failed this run: the exit status becomes 1.
static REPORTED: AtomicBool = AtomicBool::new(false);
/// How many failures were reported, for the exporter's scrape errors.
static REPORTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The name messages start with (`netstat` when invoked through a symlink
/// of that name).
pub fn set_program_name(name: &str) {
    let _ = PROGRAM.set(name.to_string());
}

pub fn program_name() -> &'static str {
    PROGRAM.get().map_or("nlstat", String::as_str)
}

thread_local! {
    /// What this thread is working on, for its messages (`netns lb1` while
    /// an `--all-netns` worker is inside that namespace). Per thread, and
    /// not passed down, for the reason above: the messages come from deep
    /// inside the collectors the worker calls.
    static CONTEXT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Name what the calling thread works on in the messages it reports until
/// the guard is dropped: with `--all-netns` a dump's trouble must say
/// which namespace it was in.
pub fn context(what: String) -> ContextGuard {
    CONTEXT.with(|c| *c.borrow_mut() = what);
    ContextGuard(())
}

/// Clears the thread's [`context`] when dropped.
pub struct ContextGuard(());

impl Drop for ContextGuard {
    fn drop(&mut self) {
        CONTEXT.with(|c| c.borrow_mut().clear());
    }
}

/// `nlstat: ` and the thread's context, if any (`nlstat: netns lb1: `):
/// how nlstat's own messages start (netstat's copied ones do not).
pub fn message_start() -> String {
    CONTEXT.with(|c| {
        let context = c.borrow();
        if context.is_empty() {
            format!("{}: ", program_name())
        } else {
            format!("{}: {context}: ", program_name())
        }
    })
}

/// Report a failure that ends one table but not the run: one line on
/// stderr, and the run's exit status becomes non-zero (see [`reported`]).
pub fn report(error: &Error) {
    REPORTED.store(true, Ordering::Relaxed);
    REPORTS.fetch_add(1, Ordering::Relaxed);
    // (not eprintln!, which panics when stderr cannot be written)
    let line = format!("{}{error}\n", message_start());
    crate::io::stdio::write_stderr(line.as_bytes());
}

/// A dump that could not be completed ends its table, not the run: the
/// error is [`report`]ed and `None` returned; any other error is passed on.
pub fn report_dump<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(error @ Error::Dump { .. }) => {
            report(&error);
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// How many times [`report`] was called (the exporter counts a collection
/// with a reported table as a failed scrape).
pub fn reports() -> usize {
    REPORTS.load(Ordering::Relaxed)
}

/// Whether [`report`] was called.
pub fn reported() -> bool {
    REPORTED.load(Ordering::Relaxed)
}

/// The C library's text for an error, without Rust's "(os error N)".
pub(crate) fn strerror(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(code) => {
            // SAFETY: strerror returns a valid C string for any code.
            let text = unsafe { std::ffi::CStr::from_ptr(libc::strerror(code)) };
            text.to_string_lossy().into_owned()
        }
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_context_names_where_messages_come_from() {
        assert_eq!(message_start(), format!("{}: ", program_name()));
        let guard = context("netns lb1".into());
        assert_eq!(message_start(), format!("{}: netns lb1: ", program_name()));
        // other threads keep their own (none)
        let other = std::thread::spawn(message_start).join().unwrap();
        assert_eq!(other, format!("{}: ", program_name()));
        drop(guard);
        assert_eq!(message_start(), format!("{}: ", program_name()));
    }

    #[test]
    fn every_message_is_one_line() {
        let errors = [
            Error::dump("sock_diag tcp", DumpProblem::Interrupted),
            Error::dump("RTM_GETLINK", DumpProblem::Overrun),
            Error::dump(
                "sock_diag unix",
                DumpProblem::Stalled(Duration::from_secs(30)),
            ),
            Error::netlink("x", io::Error::from_raw_os_error(libc::EBUSY)),
        ];
        for e in errors {
            let text = e.to_string();
            assert!(!text.contains('\n'), "{text}");
            assert!(text.starts_with("netlink "), "{text}");
        }
        let p = ParseError::new("inet_diag_msg", "shorter than its 72-byte header");
        assert_eq!(
            p.to_string(),
            "inet_diag_msg: shorter than its 72-byte header"
        );
    }

    #[test]
    fn strerror_has_no_rust_suffix() {
        let e = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(strerror(&e), "No such file or directory");
    }
}
