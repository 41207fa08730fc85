//! Renderers: turn model records into net-tools text, byte for byte, or
//! into JSON Lines (`--json`).

pub mod exposition;
pub mod json;
pub mod netstat;
pub mod stdio;
pub mod terminal;
/// The text buffers moved to [`crate::text`] (a leaf below every stage);
/// this path stays for code written against the old one.
pub use crate::text;

use crate::config::Config;
use crate::enrich::names::NameCache;
use crate::enrich::processes::ProcessIndex;
use crate::model::{InetSocket, UnixSocket};
use std::io::{self, Write};

/// Socket rows in the output format the run asked for (boxed: the row
/// buffers are large and made once per run).
pub enum SocketRows {
    Netstat(Box<netstat::RowWriter>),
    Json(Box<json::SocketObjects>),
    /// A load-balancer view: rows are counted, and the view prints at
    /// the end of each tick.
    View(Box<crate::views::Aggregator>),
}

impl SocketRows {
    pub fn for_config(config: &Config) -> Self {
        if let Some(view) = &config.view {
            SocketRows::View(Box::new(crate::views::Aggregator::new(view.clone())))
        } else if config.output.is_json() {
            SocketRows::Json(Box::default())
        } else {
            SocketRows::Netstat(Box::default())
        }
    }

    /// The inet table's title and column header (JSON has none).
    pub fn inet_header(&self, out: &mut impl Write, config: &Config) -> io::Result<()> {
        match self {
            SocketRows::Netstat(_) => netstat::write_inet_header(out, config),
            SocketRows::Json(_) | SocketRows::View(_) => Ok(()),
        }
    }

    /// The unix table's title and column header (JSON has none).
    pub fn unix_header(&self, out: &mut impl Write, config: &Config) -> io::Result<()> {
        match self {
            SocketRows::Netstat(_) => netstat::write_unix_header(out, config),
            SocketRows::Json(_) | SocketRows::View(_) => Ok(()),
        }
    }

    pub fn inet_row(
        &mut self,
        out: &mut impl Write,
        socket: &InetSocket,
        config: &Config,
        names: &mut NameCache,
        programs: Option<&ProcessIndex>,
    ) -> io::Result<()> {
        match self {
            SocketRows::Netstat(rows) => rows.inet_row(out, socket, config, names, programs),
            SocketRows::Json(rows) => rows.inet_row(out, socket, config, names, programs),
            SocketRows::View(view) => {
                view.add_inet(socket, programs);
                Ok(())
            }
        }
    }

    pub fn unix_row(
        &mut self,
        out: &mut impl Write,
        socket: &UnixSocket<'_>,
        programs: Option<&ProcessIndex>,
    ) -> io::Result<()> {
        match self {
            SocketRows::Netstat(rows) => rows.unix_row(out, socket, programs),
            SocketRows::Json(rows) => rows.unix_row(out, socket, programs),
            SocketRows::View(view) => {
                view.add_unix(socket, programs);
                Ok(())
            }
        }
    }

    /// The view, when rows are counted rather than printed.
    pub fn view(&mut self) -> Option<&mut crate::views::Aggregator> {
        match self {
            SocketRows::View(view) => Some(view),
            _ => None,
        }
    }
}
