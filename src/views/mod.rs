//! Load-balancer views: aggregates over the selected sockets instead of
//! their rows (`--group-by`, `--summary`, `--listeners`, `--ephemeral`).
//!
//! A view is a sink that keeps keys and counts, never rows: memory grows
//! with the number of distinct keys, not with the number of sockets. Key
//! names are the JSON field names of socket rows. With `-c` each view
//! prints every second with the change since the previous tick.
//!
//! One file per view ([`counts`]: `--group-by` and `--summary`,
//! [`listeners`], [`ephemeral`], [`sockstat`]: the kernel's totals), the
//! keys in [`keys`], how results look in [`output`]; the exporter renders
//! the same counts as metrics (`crate::exporter`).

mod change;
pub(crate) mod counts;
pub(crate) mod ephemeral;
pub mod health;
mod health_groups;
mod keys;
pub(crate) mod listeners;
pub(crate) mod output;
mod sockstat;

pub use crate::config::{Key, View};
pub(crate) use ephemeral::port_range;
#[cfg(any(fuzzing, test))]
pub(crate) use ephemeral::reserved_count;
pub use keys::{KEY_NAMES, parse_keys};
pub use output::NetnsNames;
#[cfg(any(fuzzing, test))]
pub(crate) use sockstat::listen_counters;
pub(crate) use sockstat::write_sockstat;

use crate::config::Config;
use crate::enrich::names::NameCache;
use crate::enrich::processes::ProcessIndex;
use crate::filter::expr::Query;
use crate::model::{InetSocket, SocketExt, Tick, UnixSocket, tcp_state};
use crate::render::json::JsonLine;
use counts::GroupCounts;
use ephemeral::EphemeralCounts;
use listeners::ListenerCounts;
use std::io::{self, Write};

/// The query to run: the user's filter, narrowed by what the view lets the
/// kernel skip (`--listeners`: listeners and the states it counts;
/// `--ephemeral`: connections whose local port is in the ephemeral range).
pub fn lowered_query(config: &Config) -> Option<Query> {
    use crate::filter::expr::{Cond, Expr, Side};
    let bit = |s: u8| 1u32 << s;
    let own = match &config.view {
        Some(View::Listeners) => Some(Query {
            states: Some(
                bit(tcp_state::LISTEN)
                    | bit(tcp_state::SYN_RECV)
                    | bit(tcp_state::ESTABLISHED)
                    | bit(tcp_state::TIME_WAIT),
            ),
            expr: None,
        }),
        Some(View::Ephemeral) => {
            let (lo, hi) = port_range(&config.inputs.proc_root);
            Some(Query {
                states: Some(tcp_state::ALL & 0xFFF & !bit(tcp_state::LISTEN)),
                expr: Some(Expr::And(
                    Box::new(Expr::Cond(Cond::PortAtLeast(Side::Src, lo))),
                    Box::new(Expr::Cond(Cond::PortAtMost(Side::Src, hi))),
                )),
            })
        }
        _ => None,
    };
    match (config.query.clone(), own) {
        (user, None) => user,
        (None, own) => own,
        (Some(user), Some(own)) => Some(Query {
            states: match (user.states, own.states) {
                (Some(a), Some(b)) => Some(a & b),
                (a, b) => a.or(b),
            },
            expr: match (user.expr, own.expr) {
                (Some(a), Some(b)) => Some(Expr::And(Box::new(a), Box::new(b))),
                (a, b) => a.or(b),
            },
        }),
    }
}

/// `query` narrowed to sockets whose local port is one of `ports`
/// (listeners match too: they are on their own ports).
pub fn on_ports(query: &Query, ports: &[u16]) -> Query {
    use crate::filter::expr::{Cond, Expr, HostCond, Side};
    let cond = |port: Option<u16>| Expr::Cond(Cond::Host(Side::Src, HostCond::any_address(port)));
    // a balanced tree, so thousands of listeners stay shallow
    let mut level: Vec<Expr> = ports.iter().map(|p| cond(Some(*p))).collect();
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        let mut items = level.into_iter();
        while let Some(a) = items.next() {
            next.push(match items.next() {
                Some(b) => Expr::Or(Box::new(a), Box::new(b)),
                None => a,
            });
        }
        level = next;
    }
    // no listener: nothing to count
    let any_of = level
        .pop()
        .unwrap_or_else(|| Expr::Not(Box::new(cond(None))));
    Query {
        states: query.states,
        expr: Some(match &query.expr {
            Some(e) => Expr::And(Box::new(e.clone()), Box::new(any_of)),
            None => any_of,
        }),
    }
}

/// Per-tick state of a view, kept across `-c` ticks for the deltas: the
/// counts each view needs (the exporter needs all three).
pub struct Aggregator {
    view: View,
    /// `--group-by`, `--summary`, the exporter's socket gauges.
    counts: Option<GroupCounts>,
    /// `--listeners`, the exporter's listener gauges.
    listeners: Option<ListenerCounts>,
    /// `--ephemeral`, the exporter's ephemeral gauges.
    ephemeral: Option<EphemeralCounts>,
    /// The exporter's health per backend (`--info`).
    backends: Option<health::BackendHealth>,
    /// The JSON line of this tick, labelled with its namespace under
    /// `--all-netns`; each table starts from a clone of it.
    json: JsonLine,
}

impl Aggregator {
    /// The view's counts; with `info` (`--info`), each group's and each
    /// listener's health too.
    pub fn new(view: View, info: bool) -> Self {
        let (key_list, sort) = match &view {
            View::GroupBy { keys, sort, .. } => (Some(keys.clone()), sort.clone()),
            View::Summary | View::Exporter { .. } => {
                (Some(vec![Key::Proto, Key::Family, Key::State]), None)
            }
            _ => (None, None),
        };
        let group_health = info && matches!(view, View::GroupBy { .. });
        let exporter = matches!(view, View::Exporter { .. });
        Aggregator {
            counts: key_list.map(|keys| GroupCounts::new(keys, group_health, sort)),
            listeners: (exporter || view == View::Listeners).then(|| ListenerCounts::new(info)),
            backends: (exporter && info).then(health::BackendHealth::default),
            ephemeral: (exporter || view == View::Ephemeral).then(EphemeralCounts::default),
            view,
            json: JsonLine::new(),
        }
    }

    /// Count the sockets that follow as those of the tick's namespace (the
    /// `netns` key), and label this tick's JSON objects as the tick says.
    pub fn begin_tick(&mut self, tick: &Tick) {
        if let Some(counts) = &mut self.counts {
            counts.set_namespace(tick.netns_inode, tick.netns_label, tick.netns_key);
        }
        self.json.for_tick(tick);
    }

    /// Whether this view is counted across namespaces (`--group-by`) rather
    /// than printed for each one.
    pub fn merges_namespaces(&self) -> bool {
        matches!(self.view, View::GroupBy { .. })
    }

    /// Add `other`'s counts (another namespace's) to these and clear them.
    pub fn absorb(&mut self, other: &mut Aggregator) {
        if let (Some(counts), Some(theirs)) = (&mut self.counts, &mut other.counts) {
            counts.absorb(theirs);
        }
    }

    /// Read what a tick needs from /proc before counting (the port range).
    pub fn start_tick(&mut self, root: &crate::collect::procfs::ProcRoot) {
        if let Some(ephemeral) = &mut self.ephemeral {
            ephemeral.start_tick(root);
            if let Some(backends) = &mut self.backends {
                backends.start_tick(ephemeral.range());
            }
        }
    }

    pub fn add_inet(
        &mut self,
        socket: &InetSocket,
        ext: SocketExt,
        programs: Option<&ProcessIndex>,
    ) {
        if let Some(counts) = &mut self.counts {
            counts.add_inet(socket, ext, programs);
        }
        if let Some(listeners) = &mut self.listeners {
            listeners.add(socket, ext);
        }
        if let Some(ephemeral) = &mut self.ephemeral {
            ephemeral.add(socket);
        }
        if let Some(backends) = &mut self.backends {
            backends.add(socket, &ext);
        }
    }

    pub fn add_unix(&mut self, socket: &UnixSocket<'_>, programs: Option<&ProcessIndex>) {
        if let Some(counts) = &mut self.counts {
            counts.add_unix(socket, programs);
        }
    }

    /// Print the view for this tick and start counting afresh. The
    /// exporter's view prints nothing here: the exporter takes its counts
    /// (see [`parts`](Self::parts)) and then [`clear`](Self::clear)s them.
    pub fn finish(
        &mut self,
        out: &mut dyn Write,
        config: &Config,
        names: &mut NameCache,
        programs: Option<&ProcessIndex>,
        root: &crate::collect::procfs::ProcRoot,
    ) -> io::Result<()> {
        let result = match (
            &self.view,
            &mut self.counts,
            &mut self.listeners,
            &mut self.ephemeral,
        ) {
            (View::Exporter { .. }, ..) => return Ok(()),
            (View::GroupBy { top, .. }, Some(counts), ..) => {
                counts.write(out, config, &self.json, names, programs, *top, false)
            }
            (View::Summary, Some(counts), ..) => counts
                .write(out, config, &self.json, names, programs, None, true)
                .and_then(|()| write_sockstat(out, config, &self.json, root)),
            (View::Listeners, _, Some(counts), _) => {
                let report = counts.report(config, root);
                listeners::write(out, config, &self.json, programs, &report)
            }
            (View::Ephemeral, .., Some(counts)) => {
                ephemeral::write(out, config, &self.json, &counts.report(config))
            }
            _ => Ok(()),
        };
        self.clear();
        result
    }

    /// Start counting afresh (what `-c` compares with stays).
    pub fn clear(&mut self) {
        if let Some(counts) = &mut self.counts {
            counts.clear();
        }
        if let Some(listeners) = &mut self.listeners {
            listeners.clear();
        }
        if let Some(ephemeral) = &mut self.ephemeral {
            ephemeral.clear();
        }
        if let Some(backends) = &mut self.backends {
            backends.clear();
        }
    }

    /// The exporter's view: its `max_series` and this tick's counts.
    pub(crate) fn parts(&mut self) -> Option<ExporterParts<'_>> {
        let View::Exporter { max_series } = self.view else {
            return None;
        };
        Some(ExporterParts {
            max_series,
            counts: self.counts.as_mut()?,
            listeners: self.listeners.as_ref()?,
            ephemeral: self.ephemeral.as_mut()?,
            backends: self.backends.as_ref(),
        })
    }
}

/// What the exporter renders of one tick's counts.
pub(crate) struct ExporterParts<'a> {
    pub(crate) max_series: usize,
    pub(crate) counts: &'a mut GroupCounts,
    pub(crate) listeners: &'a ListenerCounts,
    pub(crate) ephemeral: &'a mut EphemeralCounts,
    /// With `--info`: the health per backend.
    pub(crate) backends: Option<&'a health::BackendHealth>,
}
