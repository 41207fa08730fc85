//! nlstat: net-tools `netstat`, byte for byte, from the kernel's netlink
//! interfaces (sock_diag, rtnetlink) instead of /proc text.
//!
//! The pipeline: [`cli`] → [`config`] → [`collect`] → [`model`] →
//! [`enrich`] → [`filter`] → [`render`], run by [`drivers`]. Data flows one way; each tick of
//! `-c` reuses the sockets, buffers and caches of the previous one.

/// Messages go to stderr without the risk std's `eprintln!` carries: it
/// panics (an abort in release builds) when stderr cannot be written (a
/// full disk, a closed pipe). A message that cannot be written is lost;
/// the run goes on. Defined before the modules, so every `eprintln!` in
/// the library is this one. Each lands after the stdout bytes netstat's
/// stdio would have written by then (see [`io::stdio`]).
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        let mut line = format!($($arg)*);
        line.push('\n');
        $crate::io::stdio::write_stderr(line.as_bytes());
    }};
}

/// `eprint!` without the panic, as [`eprintln`].
#[allow(unused_macros)]
macro_rules! eprint {
    ($($arg:tt)*) => {{
        $crate::io::stdio::write_stderr(format!($($arg)*).as_bytes());
    }};
}

pub mod cli;
pub mod collect;
pub mod config;
pub mod drivers;
pub mod enrich;
pub mod error;
pub mod exporter;
pub mod filter;
/// The fuzz targets' entry points (and their unit tests): not part of a
/// release build's library.
#[cfg(any(fuzzing, test))]
pub mod fuzz;
pub mod groups;
pub mod interfaces;
/// stdout's buffer and stderr's place after it: a leaf every stage may
/// use, so it lives outside render/.
pub mod io;
/// `--live`: the full-screen view, one more sink of the views.
pub mod live;
pub mod model;
pub mod netns;
pub mod render;
pub mod routes;
pub mod sinks;
pub mod statistics;
/// Fixed-capacity text buffers and address printers: a leaf every stage
/// may use (records, names, renderers), so it lives outside render/.
pub mod text;
pub mod views;

use config::Config;
use error::Result;
use std::io::Write;

/// Run the configured mode (see [`drivers::run`]). Returns the exit
/// status netstat would return.
pub fn run(config: &Config, out: &mut impl Write) -> Result<i32> {
    drivers::run(config, out)
}
