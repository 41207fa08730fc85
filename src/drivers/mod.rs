//! Drivers: when and where the pipeline runs. One place decides how often
//! a mode runs (once, every second with `-c`, per scrape, per textfile
//! tick) and in which namespaces (this one, or every one with
//! `--all-netns`); the modes themselves ([`ModeState`]) are dispatched
//! here only.

pub mod all_netns;
pub mod events;
mod kernel_counts;
mod replay;
mod rows;
pub mod schedule;
pub mod sockets;

use crate::collect::Collector;
use crate::config::{Config, Mode, Tape};
use crate::enrich::processes::ProcessIndex;
use crate::error::{self, Result};
use crate::interfaces::Interfaces;
use crate::model::Tick;
use crate::routes::Routes;
use sockets::SocketListing;
use std::io::Write;
use std::sync::Arc;

/// Run the configured mode, once or every second with `-c`, in this
/// namespace or every one, or as an exporter. Returns the exit status
/// netstat would return.
pub fn run(config: &Config, out: &mut impl Write) -> Result<i32> {
    match &config.tape {
        Tape::None => {}
        Tape::Replay(path) => return replay::run(config, path, out),
        Tape::Record { path, quiet } => {
            let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
            crate::collect::tape::start_recording(path, &args)
                .map_err(|e| error::Error::file(path.display().to_string(), e))?;
            let status = if *quiet {
                run_live(config, &mut std::io::sink())
            } else {
                run_live(config, out)
            };
            let finished = crate::collect::tape::finish_recording()
                .map_err(|e| error::Error::file(path.display().to_string(), e));
            return status.and_then(|status| finished.map(|()| status));
        }
    }
    run_live(config, out)
}

/// The run against the kernel (recorded or not).
fn run_live(config: &Config, out: &mut impl Write) -> Result<i32> {
    if config.live {
        return crate::live::run(config);
    }
    if config.events && config.serve.is_none() && config.textfile.is_none() {
        return events::run(config, out);
    }
    if let Some(address) = config.serve {
        return crate::exporter::serve(config, address);
    }
    if let Some(path) = &config.textfile {
        // --events' counters grow until stopped: the file is written on
        // the schedule (every second without --interval) and once more at
        // the end
        let repeating = Config {
            continuous: config.continuous || config.events,
            ..config.clone()
        };
        let config = &repeating;
        let mut collection = crate::exporter::Collection::for_driver(config)?;
        let mut write = || {
            match crate::exporter::write_textfile(&mut collection, config, path) {
                // With -c a file that cannot be written this tick (a full
                // disk) is reported and tried again at the next; the
                // previous file stays as it was.
                Err(e @ error::Error::File { .. }) if config.continuous => error::report(&e),
                other => other?,
            }
            Ok(0)
        };
        let status = repeat(config, out, |_| write())?;
        if config.events {
            write()?;
        }
        return Ok(status);
    }
    if config.all_netns {
        return all_netns::run(config, out);
    }
    let mut state = ModeState::default();
    state.prepare(config);
    // the `netns` key of a view in one namespace: this one
    let (inode, name) = crate::netns::current(config.netns.as_deref());
    let tick = Tick {
        netns_inode: inode,
        netns_label: &name,
        netns_key: &name,
        labelled: false,
    };
    match config.mode {
        Mode::Statistics => once(config, out, |out| state.tick(config, &tick, out, None)),
        Mode::Masquerade => Ok(masquerade(config)),
        _ => repeat(config, out, |out| state.tick(config, &tick, out, None)),
    }
}

/// What one mode keeps from tick to tick in one namespace (netlink
/// sockets, name caches, the process map, a view's previous counts).
#[derive(Default)]
pub struct ModeState {
    listing: Option<SocketListing>,
    routes: Option<Routes>,
    interfaces: Option<Interfaces>,
}

impl ModeState {
    /// Make the selected mode's state now rather than at its first tick.
    pub fn prepare(&mut self, config: &Config) {
        match config.mode {
            Mode::Sockets => {
                self.listing(config);
            }
            Mode::Routes => {
                self.routes(config);
            }
            Mode::Interfaces => {
                self.interfaces(config);
            }
            Mode::Statistics | Mode::Masquerade => {}
        }
    }

    /// The socket listing, made on first use (on the calling thread, so
    /// its netlink sockets are the namespace's that thread is in).
    pub fn listing(&mut self, config: &Config) -> &mut SocketListing {
        self.listing.get_or_insert_with(|| {
            SocketListing::new(
                Collector::new(config.source, config.inputs.proc_root.clone()),
                config,
            )
        })
    }

    fn routes(&mut self, config: &Config) -> &mut Routes {
        self.routes
            .get_or_insert_with(|| Routes::new(&config.inputs))
    }

    fn interfaces(&mut self, config: &Config) -> &mut Interfaces {
        self.interfaces
            .get_or_insert_with(|| Interfaces::new(config.inputs.proc_root.clone()))
    }

    /// One tick of the selected mode; with `shared`, `-p` uses that map
    /// (built once for several namespaces). Returns netstat's exit status.
    pub fn tick(
        &mut self,
        config: &Config,
        tick: &Tick,
        out: &mut impl Write,
        shared: Option<Arc<ProcessIndex>>,
    ) -> Result<i32> {
        match config.mode {
            Mode::Sockets => self.listing(config).tick_with(config, tick, out, shared),
            Mode::Routes => self.routes(config).tick(config, tick, out),
            Mode::Interfaces => self.interfaces(config).tick(config, tick, out),
            Mode::Statistics => crate::statistics::Statistics::new(config.inputs.proc_root.clone())
                .tick(config, tick, out),
            Mode::Masquerade => Ok(masquerade(config)),
        }
    }
}

/// netstat prints the statistics once and exits, even with -c (under
/// `--json -c` as tick 1).
pub(crate) fn once<W: Write>(
    config: &Config,
    out: &mut W,
    tick: impl FnOnce(&mut W) -> Result<i32>,
) -> Result<i32> {
    if config.output.is_json() && config.continuous {
        let stamp = schedule::Schedule::new(config).begin();
        crate::render::json::write_tick(out, &stamp)?;
    }
    let status = tick(out)?;
    out.flush()?;
    Ok(status)
}

/// The `-c` loop: print, flush, wait for the next slot of the schedule
/// (netstat's second, or `--interval`), until a tick fails, `--count`
/// ticks are done or a stop is asked for.
pub(crate) fn repeat<W: Write>(
    config: &Config,
    out: &mut W,
    mut tick: impl FnMut(&mut W) -> Result<i32>,
) -> Result<i32> {
    let mut schedule = schedule::Schedule::new(config);
    loop {
        let stamp = schedule.begin();
        crate::collect::tape::record_tick(&stamp);
        if config.continuous {
            write_tick_start(out, config, &stamp)?;
        }
        // a tick that failed still ends its frames: the recording up to
        // it stays whole
        let status = tick(out).and_then(|status| Ok(out.flush().map(|()| status)?));
        let ended = crate::collect::tape::end_tick().map_err(|e| match &config.tape {
            Tape::Record { path, .. } => error::Error::file(path.display().to_string(), e),
            _ => error::Error::Output(e),
        });
        let status = status?;
        ended?;
        if status != 0 || !config.continuous {
            return Ok(status);
        }
        if !schedule.wait_next(&config.program_name, config.output.is_json()) {
            return Ok(0);
        }
    }
}

/// What starts a tick: a JSON tick object, or for a view's text a time
/// line (netstat's own tables stay netstat's bytes).
pub(crate) fn write_tick_start(
    out: &mut impl Write,
    config: &Config,
    stamp: &schedule::TickStamp,
) -> Result<()> {
    if config.output.is_json() {
        crate::render::json::write_tick(out, stamp)?;
    } else if config.view.is_some() && config.textfile.is_none() {
        let time = crate::text::utc_millis(stamp.time);
        writeln!(
            out,
            "Tick {} at {} ({:.3} s)",
            stamp.number,
            String::from_utf8_lossy(&time),
            stamp.elapsed.as_secs_f64()
        )?;
    }
    Ok(())
}

/// `-M`: kernels since 2.4 have no /proc/net/ip_masquerade, and netstat
/// then says so and exits 1, with or without `-c`, `-n` or `-e`. When the
/// file is there, netstat's failures are reproduced (exit 255 for its -1);
/// listing the entries of such an old kernel is not supported.
pub(crate) fn masquerade(config: &Config) -> i32 {
    let root = config.inputs.proc_root.clone();
    let path = root.path("net/ip_masquerade");
    let shown = root.shown("net/ip_masquerade");
    match std::fs::read(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("netstat: no support for `ip_masquerade' on this system.");
            1
        }
        Err(e) => {
            eprintln!("{}: {}", shown.display(), crate::error::strerror(&e));
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
