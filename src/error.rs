//! The library's one error type: every failure names what it was doing.

use std::fmt;
use std::io;

#[derive(Debug)]
pub enum Error {
    /// A netlink socket could not be opened or a request failed.
    Netlink { what: String, source: io::Error },
    /// A /proc (or other) file could not be read.
    File { path: String, source: io::Error },
    /// The kernel sent something we could not walk.
    Malformed { what: String },
    /// Writing the output failed (a closed pipe is reported as such).
    Output(io::Error),
    /// `--pid-source bpf` and the BPF task_file iterator cannot be used:
    /// the reason (the kernel's error, the verifier's last line).
    Bpf(String),
}

impl Error {
    pub fn netlink(what: impl Into<String>, source: io::Error) -> Self {
        Error::Netlink {
            what: what.into(),
            source,
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
            Error::File { path, source } => write!(f, "{path}: {source}"),
            Error::Malformed { what } => write!(f, "malformed kernel data: {what}"),
            Error::Output(e) => write!(f, "writing output: {e}"),
            Error::Bpf(reason) => write!(f, "--pid-source bpf: {reason}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Netlink { source, .. } | Error::File { source, .. } => Some(source),
            Error::Output(e) => Some(e),
            Error::Malformed { .. } | Error::Bpf(_) => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Output(e)
    }
}

pub type Result<T> = std::result::Result<T, Error>;
