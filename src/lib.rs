//! nlstat: net-tools `netstat`, byte for byte, from the kernel's netlink
//! interfaces (sock_diag, rtnetlink) instead of /proc text.
//!
//! The pipeline: [`cli`] → [`config`] → [`collect`] → [`model`] →
//! [`enrich`] → [`filter`] → [`render`]. Data flows one way; each tick of
//! `-c` reuses the sockets, buffers and caches of the previous one.

pub mod cli;
pub mod collect;
pub mod config;
pub mod enrich;
pub mod error;
pub mod filter;
pub mod groups;
pub mod interfaces;
pub mod model;
pub mod render;
pub mod routes;
pub mod sockets;
pub mod statistics;

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
    match config.mode {
        Mode::Sockets => {
            let mut listing = sockets::SocketListing::new(Collector::new(config.source, root));
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
            let mut statistics = statistics::Statistics::new(root);
            repeat(config, out, |out| statistics.tick(config, out))
        }
        Mode::Masquerade => Ok(masquerade(config)),
    }
}

/// netstat's `-c` loop: print, flush, sleep a second, until a tick fails.
fn repeat<W: Write>(
    config: &Config,
    out: &mut W,
    mut tick: impl FnMut(&mut W) -> Result<i32>,
) -> Result<i32> {
    loop {
        let status = tick(out)?;
        out.flush()?;
        if status != 0 || !config.continuous {
            return Ok(status);
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// `-M`: this kernel has no ip_masquerade table; say what netstat says.
fn masquerade(config: &Config) -> i32 {
    let path = proc_root().path("net/ip_masquerade");
    if path.exists() {
        // Kernels since 2.4 have no such file; reading it is not supported.
        eprintln!(
            "netstat: reading {} is not supported by nlstat",
            path.display()
        );
        return 1;
    }
    let _ = config;
    eprintln!("netstat: no support for `ip_masquerade' on this system.");
    1
}
