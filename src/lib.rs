//! nlstat: net-tools `netstat`, byte for byte, from the kernel's netlink
//! interfaces (sock_diag, rtnetlink) instead of /proc text.
//!
//! The pipeline: [`cli`] → [`config`] → [`collect`] → [`model`] →
//! [`enrich`] → [`filter`] → [`render`]. Data flows one way; each tick of
//! `-c` reuses the sockets, buffers and caches of the previous one.

/// Messages go to stderr without the risk std's `eprintln!` carries: it
/// panics (an abort in release builds) when stderr cannot be written (a
/// full disk, a closed pipe). A message that cannot be written is lost;
/// the run goes on. Defined before the modules, so every `eprintln!` in
/// the library is this one. Each lands after the stdout bytes netstat's
/// stdio would have written by then (see [`render::stdio`]).
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        let mut line = format!($($arg)*);
        line.push('\n');
        $crate::render::stdio::write_stderr(line.as_bytes());
    }};
}

/// `eprint!` without the panic, as [`eprintln`].
#[allow(unused_macros)]
macro_rules! eprint {
    ($($arg:tt)*) => {{
        $crate::render::stdio::write_stderr(format!($($arg)*).as_bytes());
    }};
}

pub mod all_netns;
pub mod cli;
pub mod collect;
pub mod config;
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
pub mod model;
pub mod netns;
pub mod render;
pub mod routes;
pub mod sockets;
pub mod statistics;
/// Fixed-capacity text buffers and address printers: a leaf every stage
/// may use (records, names, renderers), so it lives outside render/.
pub mod text;
pub mod views;

use collect::Collector;
use collect::procfs::ProcRoot;
use config::{Config, Mode};
use error::Result;
use std::io::Write;
use std::time::Duration;

/// Where /proc is: `NLSTAT_PROC_ROOT` overrides it for tests.
pub fn proc_root() -> ProcRoot {
    match std::env::var_os("NLSTAT_PROC_ROOT") {
        Some(path) => ProcRoot(path.into()),
        None => ProcRoot::default(),
    }
}

/// Run the configured mode, once or every second with `-c`. Returns the
/// exit status netstat would return.
pub fn run(config: &Config, out: &mut impl Write) -> Result<i32> {
    let root = proc_root();
    if let Some(address) = config.serve {
        return exporter::serve(config, address);
    }
    if let Some(path) = &config.textfile {
        let mut collection = exporter::Collection::new(config);
        return repeat(config, out, |_| {
            match exporter::write_textfile(&mut collection, config, path) {
                // With -c a file that cannot be written this tick (a full
                // disk) is reported and tried again at the next; the
                // previous file stays as it was.
                Err(e @ error::Error::File { .. }) if config.continuous => error::report(&e),
                other => other?,
            }
            Ok(0)
        });
    }
    if config.all_netns {
        return all_netns::run(config, out);
    }
    match config.mode {
        Mode::Sockets => {
            let mut listing =
                sockets::SocketListing::new(Collector::new(config.source, root), config);
            repeat(config, out, |out| listing.tick(config, out))
        }
        Mode::Routes => {
            let mut routes = routes::Routes::new(root);
            repeat(config, out, |out| routes.tick(config, out))
        }
        Mode::Interfaces => {
            let mut interfaces = interfaces::Interfaces::new(root);
            repeat(config, out, |out| interfaces.tick(config, out))
        }
        Mode::Statistics => {
            // netstat prints the statistics once and exits, even with -c.
            if config.output.is_json() && config.continuous {
                render::json::write_tick(out, 1)?;
            }
            let status = statistics::Statistics::new(root).tick(config, out)?;
            out.flush()?;
            Ok(status)
        }
        Mode::Masquerade => Ok(masquerade(config)),
    }
}

/// netstat's `-c` loop: print, flush, sleep a second, until a tick fails.
pub(crate) fn repeat<W: Write>(
    config: &Config,
    out: &mut W,
    mut tick: impl FnMut(&mut W) -> Result<i32>,
) -> Result<i32> {
    let mut number = 0;
    loop {
        number += 1;
        if config.output.is_json() && config.continuous {
            render::json::write_tick(out, number)?;
        }
        let status = tick(out)?;
        out.flush()?;
        if status != 0 || !config.continuous {
            return Ok(status);
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// `-M`: kernels since 2.4 have no /proc/net/ip_masquerade, and netstat
/// then says so and exits 1, with or without `-c`, `-n` or `-e`. When the
/// file is there, netstat's failures are reproduced (exit 255 for its -1);
/// listing the entries of such an old kernel is not supported.
pub(crate) fn masquerade(config: &Config) -> i32 {
    let _ = config;
    let root = proc_root();
    let path = root.path("net/ip_masquerade");
    let shown = root.shown("net/ip_masquerade");
    match std::fs::read(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("netstat: no support for `ip_masquerade' on this system.");
            1
        }
        Err(e) => {
            eprintln!("{}: {}", shown.display(), statistics::strerror(&e));
            255
        }
        Ok(text) if text.is_empty() => {
            eprintln!("masq_info: Internal Error `fgets() failed'.");
            255
        }
        Ok(_) => {
            eprintln!(
                "{}: listing masqueraded connections is not supported",
                shown.display()
            );
            255
        }
    }
}
