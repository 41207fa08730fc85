//! The socket sink seam: every consumer of socket records (netstat's text
//! rows, JSON Lines, a view that counts) implements [`SocketSink`], and the
//! socket walk (`drivers::sockets`) feeds a [`SocketOutput`] without knowing
//! which one it is. The set is closed and chosen once per run, so it is an
//! enum dispatched by `match` (inlined, no indirect call per row) rather
//! than a trait object; adding a consumer is one impl and one arm here.
//! The per-row context is what rows share within a tick: the settings, the
//! name caches and the `-p` owner map. [`table`] is the same seam for
//! netstat's other tables (routes, interfaces, statistics, groups).

pub mod table;

use crate::config::Config;
use crate::enrich::names::NameCache;
use crate::enrich::processes::ProcessIndex;
use crate::model::{InetSocket, SocketExt, Tick, UnixSocket};
use crate::render::{json, netstat};
use crate::views::Aggregator;
use std::io::{self, Write};

/// A consumer of socket records. Headers default to nothing (only
/// netstat's tables have them); a counting sink writes nothing per row.
pub trait SocketSink {
    /// A tick starts: what its records share (the namespace).
    fn begin_tick(&mut self, tick: &Tick) {
        let _ = tick;
    }

    /// The inet table's title and column header.
    fn inet_header(&mut self, out: &mut impl Write, config: &Config) -> io::Result<()> {
        let _ = (out, config);
        Ok(())
    }

    /// The unix table's title and column header.
    fn unix_header(&mut self, out: &mut impl Write, config: &Config) -> io::Result<()> {
        let _ = (out, config);
        Ok(())
    }

    /// One inet socket and its `--info` extensions, with the tick's names
    /// and owners.
    fn inet_row(
        &mut self,
        out: &mut impl Write,
        socket: &InetSocket,
        ext: SocketExt<'_>,
        config: &Config,
        names: &mut NameCache,
        owners: Option<&ProcessIndex>,
    ) -> io::Result<()>;

    /// One unix socket, with the tick's owners.
    fn unix_row(
        &mut self,
        out: &mut impl Write,
        socket: &UnixSocket<'_>,
        owners: Option<&ProcessIndex>,
    ) -> io::Result<()>;
}

impl SocketSink for netstat::RowWriter {
    fn inet_header(&mut self, out: &mut impl Write, config: &Config) -> io::Result<()> {
        netstat::write_inet_header(out, config)
    }

    fn unix_header(&mut self, out: &mut impl Write, config: &Config) -> io::Result<()> {
        netstat::write_unix_header(out, config)
    }

    fn inet_row(
        &mut self,
        out: &mut impl Write,
        socket: &InetSocket,
        ext: SocketExt<'_>,
        config: &Config,
        names: &mut NameCache,
        owners: Option<&ProcessIndex>,
    ) -> io::Result<()> {
        netstat::RowWriter::inet_row(self, out, socket, ext, config, names, owners)
    }

    fn unix_row(
        &mut self,
        out: &mut impl Write,
        socket: &UnixSocket<'_>,
        owners: Option<&ProcessIndex>,
    ) -> io::Result<()> {
        netstat::RowWriter::unix_row(self, out, socket, owners)
    }
}

impl SocketSink for json::SocketObjects {
    fn begin_tick(&mut self, tick: &Tick) {
        json::SocketObjects::begin_tick(self, tick);
    }

    fn inet_row(
        &mut self,
        out: &mut impl Write,
        socket: &InetSocket,
        ext: SocketExt<'_>,
        config: &Config,
        names: &mut NameCache,
        owners: Option<&ProcessIndex>,
    ) -> io::Result<()> {
        json::SocketObjects::inet_row(self, out, socket, ext, config, names, owners)
    }

    fn unix_row(
        &mut self,
        out: &mut impl Write,
        socket: &UnixSocket<'_>,
        owners: Option<&ProcessIndex>,
    ) -> io::Result<()> {
        json::SocketObjects::unix_row(self, out, socket, owners)
    }
}

/// A view counts rows; it prints at the end of each tick.
impl SocketSink for Aggregator {
    fn begin_tick(&mut self, tick: &Tick) {
        Aggregator::begin_tick(self, tick);
    }

    fn inet_row(
        &mut self,
        _out: &mut impl Write,
        socket: &InetSocket,
        ext: SocketExt<'_>,
        _config: &Config,
        _names: &mut NameCache,
        owners: Option<&ProcessIndex>,
    ) -> io::Result<()> {
        self.add_inet(socket, ext, owners);
        Ok(())
    }

    fn unix_row(
        &mut self,
        _out: &mut impl Write,
        socket: &UnixSocket<'_>,
        owners: Option<&ProcessIndex>,
    ) -> io::Result<()> {
        self.add_unix(socket, owners);
        Ok(())
    }
}

/// The sink a run's socket records go to, chosen once from the
/// configuration (boxed: the row buffers are large and made once per run).
pub enum SocketOutput {
    NetstatText(Box<netstat::RowWriter>),
    JsonLines(Box<json::SocketObjects>),
    /// A load-balancer view (or the exporter's counts).
    View(Box<Aggregator>),
}

/// Call the same [`SocketSink`] method on whichever sink this is.
macro_rules! each {
    ($self:ident, $sink:ident => $call:expr) => {
        match $self {
            SocketOutput::NetstatText($sink) => $call,
            SocketOutput::JsonLines($sink) => $call,
            SocketOutput::View($sink) => $call,
        }
    };
}

impl SocketOutput {
    pub fn for_config(config: &Config) -> Self {
        if let Some(view) = &config.view {
            SocketOutput::View(Box::new(Aggregator::new(view.clone(), config.info)))
        } else if config.output.is_json() {
            SocketOutput::JsonLines(Box::default())
        } else {
            SocketOutput::NetstatText(Box::default())
        }
    }

    /// The view, when rows are counted rather than printed.
    pub fn view(&mut self) -> Option<&mut Aggregator> {
        match self {
            SocketOutput::View(view) => Some(view),
            _ => None,
        }
    }
}

impl SocketSink for SocketOutput {
    fn begin_tick(&mut self, tick: &Tick) {
        each!(self, sink => sink.begin_tick(tick))
    }

    fn inet_header(&mut self, out: &mut impl Write, config: &Config) -> io::Result<()> {
        each!(self, sink => sink.inet_header(out, config))
    }

    fn unix_header(&mut self, out: &mut impl Write, config: &Config) -> io::Result<()> {
        each!(self, sink => sink.unix_header(out, config))
    }

    #[inline]
    fn inet_row(
        &mut self,
        out: &mut impl Write,
        socket: &InetSocket,
        ext: SocketExt<'_>,
        config: &Config,
        names: &mut NameCache,
        owners: Option<&ProcessIndex>,
    ) -> io::Result<()> {
        each!(self, sink => sink.inet_row(out, socket, ext, config, names, owners))
    }

    #[inline]
    fn unix_row(
        &mut self,
        out: &mut impl Write,
        socket: &UnixSocket<'_>,
        owners: Option<&ProcessIndex>,
    ) -> io::Result<()> {
        each!(self, sink => sink.unix_row(out, socket, owners))
    }
}
