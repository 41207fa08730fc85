//! What each screen collects: a pane is one view (`--summary`,
//! `--listeners`, ...) run by the same drivers as `--json -c` into a
//! buffer, then read back ([`Decoded`]). A refresh ticks only the panes
//! of the screen on display; each keeps its state (and so its deltas)
//! while another screen is shown.

use super::table::{Decoded, Reader};
use crate::config::{Config, Key, Output, View};
use crate::drivers::ModeState;
use crate::drivers::all_netns::AllNamespaces;
use crate::drivers::events::{Listening, Totals};
use crate::enrich::names::NameCache;
use crate::error::{Error, Result};
use crate::filter::expr::Query;
use crate::filter::{CompiledQuery, Placement, SocketFilter};
use crate::model::{InetProto, Tick, tcp_state};
use crate::views::Aggregator;
use rustc_hash::FxHashSet;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Where a pane's view runs: in this namespace, or in every one.
enum Runner {
    One {
        state: Box<ModeState>,
        inode: u64,
        name: String,
    },
    All(Box<AllNamespaces>),
}

/// One view, ticked on demand.
pub struct Pane {
    config: Config,
    runner: Runner,
    /// What the last tick printed.
    pub latest: Decoded,
}

impl Pane {
    /// The view `view` over the sockets `base` selects, with `info` for
    /// its health columns and `query` as its filter.
    pub fn new(base: &Config, view: View, info: bool, query: Option<Query>) -> Self {
        let config = pane_config(base, view, info, query);
        let runner = if config.all_netns {
            Runner::All(Box::new(AllNamespaces::new(&config)))
        } else {
            let (inode, name) = crate::netns::current(config.netns.as_deref());
            let mut state = Box::<ModeState>::default();
            state.prepare(&config);
            Runner::One { state, inode, name }
        };
        Pane {
            config,
            runner,
            latest: Decoded::default(),
        }
    }

    /// Run one tick of the view and read what it printed.
    pub fn refresh(&mut self) -> Result<()> {
        // the previous tick's cells go before this tick's are read
        self.latest = Decoded::default();
        let mut reader = Reader::default();
        match &mut self.runner {
            Runner::One { state, inode, name } => {
                let tick = Tick {
                    netns_inode: *inode,
                    netns_label: name,
                    netns_key: name,
                    labelled: false,
                };
                state.tick(&self.config, &tick, &mut reader, None)?;
            }
            Runner::All(all) => {
                all.tick(&self.config, &mut reader)?;
            }
        }
        self.latest = reader.finish().map_err(|what| Error::Malformed { what })?;
        Ok(())
    }
}

/// The configuration of a pane: the user's selection as `--json -c`
/// with one view, counting every socket unless `-l` narrows it (as a
/// view given on the command line does).
fn pane_config(base: &Config, view: View, info: bool, query: Option<Query>) -> Config {
    let view = match view {
        View::GroupBy {
            mut keys,
            top,
            sort,
        } if base.all_netns && !keys.contains(&Key::Netns) => {
            keys.insert(0, Key::Netns);
            View::GroupBy { keys, top, sort }
        }
        view => view,
    };
    let mut protocols = base.protocols;
    let mut families = base.families;
    let tcp_view = matches!(view, View::Listeners | View::Ephemeral);
    if tcp_view {
        // as on the command line: the TCP tables of the families asked for
        protocols = crate::config::Protocols {
            tcp: true,
            ..Default::default()
        };
        families.unix = false;
        // TCP without a family named: both, as selection() makes it
        if !(families.inet || families.inet6) {
            families.inet = true;
            families.inet6 = true;
        }
    }
    Config {
        protocols,
        families,
        any_selection: base.any_selection || tcp_view,
        output: Output::JsonLines,
        continuous: true,
        count: None,
        live: false,
        terminal: false,
        all: base.all || !base.listening,
        info,
        view: Some(view),
        query,
        ..base.clone()
    }
}

/// The `--group-by` view of `keys` (in the view's own order).
pub fn group_by(keys: Vec<Key>) -> View {
    View::GroupBy {
        keys,
        top: None,
        sort: None,
    }
}

/// `query` narrowed to established TCP connections from a local port in
/// the ephemeral range: the client ends, whose remote end is a backend.
pub fn backends_query(config: &Config, query: Option<&Query>) -> Query {
    use crate::filter::expr::{Cond, Expr, Side};
    let (lo, hi) = crate::views::port_range(&config.inputs.proc_root);
    let own = Expr::And(
        Box::new(Expr::Cond(Cond::PortAtLeast(Side::Src, lo))),
        Box::new(Expr::Cond(Cond::PortAtMost(Side::Src, hi))),
    );
    let established = 1u32 << tcp_state::ESTABLISHED;
    Query {
        states: Some(query.and_then(|q| q.states).unwrap_or(established) & established),
        expr: Some(match query.and_then(|q| q.expr.clone()) {
            Some(user) => Expr::And(Box::new(user), Box::new(own)),
            None => own,
        }),
    }
}

/// The Closes screen's source: sock_diag's destroy events, counted per
/// listener (server ends) and per backend (client ends) by the
/// `--events --group-by` view's code, between two refreshes.
pub struct ClosePanes {
    config: Config,
    listening: Vec<Listening>,
    /// The filter, compiled once (user space: the kernel's socket filter
    /// already ran where it could).
    compiled: Option<CompiledQuery>,
    /// Each namespace's TCP listeners (inode, address, port), read again
    /// every [`LISTENERS_EVERY`] whatever the screen shows.
    listeners: FxHashSet<(u64, IpAddr, u16)>,
    listeners_read: Instant,
    per_listener: Aggregator,
    per_backend: Aggregator,
    totals: Totals,
    names: NameCache,
    since: Instant,
    /// The last refresh: closes per listener and per backend, the seconds
    /// they were counted over, the events lost in them and in all.
    pub listener_closes: Decoded,
    pub backend_closes: Decoded,
    pub seconds: f64,
    pub lost: u64,
    pub totals_lost: u64,
    losses: Losses,
}

/// The events the kernel dropped, counted across subscriptions: a new
/// filter subscribes again, and "since the start" stays the screen's.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Losses {
    /// Lost under the subscriptions before this one.
    carried: u64,
    /// The total the last refresh reported.
    reported: u64,
}

impl Losses {
    /// With `now` lost under this subscription: (lost since the last
    /// report, lost since the start).
    fn report(&mut self, now: u64) -> (u64, u64) {
        let total = self.carried + now;
        let new = total.saturating_sub(self.reported);
        self.reported = total;
        (new, total)
    }

    /// What the next subscription starts from, when this one lost `now`
    /// (those not reported yet are in its next report).
    fn carried_over(self, now: u64) -> Losses {
        Losses {
            carried: self.carried + now,
            reported: self.reported,
        }
    }
}

/// How often the listeners are read again (a listener opened since counts
/// its server ends as a backend's until then).
const LISTENERS_EVERY: Duration = Duration::from_secs(1);
/// Datagrams one [`ClosePanes::pump`] takes at most per namespace, so a
/// flood of closes leaves the screen its keys and signals.
const PUMP_BATCHES: usize = 8;

impl ClosePanes {
    /// Subscribe to the destroy groups of the selected TCP tables.
    pub fn new(base: &Config, query: Option<Query>) -> Result<Self> {
        let config = pane_config(base, group_by(Vec::new()), false, query);
        let listening = crate::drivers::events::subscribe(&config, true)?;
        let keys = |keys: &[Key]| {
            let mut keys = keys.to_vec();
            if base.all_netns {
                keys.insert(0, Key::Netns);
            }
            group_by(keys)
        };
        let compiled = config.query.as_ref().map(|q| {
            CompiledQuery::new(
                q,
                Placement {
                    kernel: false,
                    user: true,
                },
            )
        });
        let mut panes = ClosePanes {
            per_listener: Aggregator::new(keys(&[Key::LocalAddr, Key::LocalPort]), false),
            per_backend: Aggregator::new(keys(&[Key::RemoteAddr, Key::RemotePort]), false),
            names: NameCache::for_inputs(&config.inputs),
            compiled,
            config,
            listening,
            listeners: FxHashSet::default(),
            listeners_read: Instant::now(),
            totals: Totals::default(),
            since: Instant::now(),
            listener_closes: Decoded::default(),
            backend_closes: Decoded::default(),
            seconds: 0.0,
            lost: 0,
            totals_lost: 0,
            losses: Losses::default(),
        };
        panes.find_listeners();
        Ok(panes)
    }

    fn find_listeners(&mut self) {
        self.listeners.clear();
        for l in &mut self.listening {
            let inode = l.inode();
            let found = l.listeners();
            self.listeners
                .extend(found.into_iter().map(|(addr, port)| (inode, addr, port)));
        }
        self.listeners_read = Instant::now();
    }

    /// Take the closes queued so far (called between refreshes, so the
    /// kernel's queue does not fill), at most [`PUMP_BATCHES`] batches per
    /// namespace.
    pub fn pump(&mut self) -> Result<()> {
        if self.listeners_read.elapsed() >= LISTENERS_EVERY {
            self.find_listeners();
        }
        let all_netns = self.config.all_netns;
        let filter = SocketFilter {
            all: true,
            listening: false,
            compiled: self.compiled.as_ref(),
        };
        for l in &mut self.listening {
            let tick = l.tick(all_netns);
            self.per_listener.begin_tick(&tick);
            self.per_backend.begin_tick(&tick);
            let inode = l.inode();
            let (listeners, per_listener, per_backend) = (
                &self.listeners,
                &mut self.per_listener,
                &mut self.per_backend,
            );
            for _ in 0..PUMP_BATCHES {
                let (_, empty) = l.drain(&mut self.totals, None, &mut |closed| {
                    let s = &closed.socket;
                    if s.proto != InetProto::Tcp || !filter.keep_inet(s) {
                        return Ok(());
                    }
                    let unspecified = match s.local {
                        IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                        IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
                    };
                    // a v4-mapped server end of a dual-stack listener is
                    // an IPv6 socket on `::`
                    let server_end = listeners.contains(&(inode, s.local, s.local_port))
                        || listeners.contains(&(inode, unspecified, s.local_port));
                    let view = if server_end {
                        &mut *per_listener
                    } else {
                        &mut *per_backend
                    };
                    view.add_inet(s, closed.ext, None);
                    Ok(())
                })?;
                if empty {
                    break;
                }
            }
        }
        Ok(())
    }

    /// The closes since the previous refresh, per listener and backend.
    pub fn refresh(&mut self) -> Result<()> {
        self.pump()?;
        self.seconds = self.since.elapsed().as_secs_f64();
        self.since = Instant::now();
        let root = self.config.inputs.proc_root.clone();
        for (view, decoded) in [
            (&mut self.per_listener, &mut self.listener_closes),
            (&mut self.per_backend, &mut self.backend_closes),
        ] {
            let mut reader = Reader::default();
            view.finish(&mut reader, &self.config, &mut self.names, None, &root)?;
            *decoded = reader.finish().map_err(|what| Error::Malformed { what })?;
        }
        (self.lost, self.totals_lost) = self.losses.report(self.totals.lost);
        Ok(())
    }

    /// Count the events lost from where `old` (the previous filter's
    /// subscription) left off.
    pub fn carry_losses_from(&mut self, old: &ClosePanes) {
        self.losses = old.losses.carried_over(old.totals.lost);
        self.totals_lost = self.losses.reported;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Parsed, parse};

    fn config(args: &[&str]) -> Config {
        let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        match parse(&args) {
            Parsed::Run(c) => *c,
            other => panic!("{other:?}"),
        }
    }

    /// Losses survive a new subscription: "since the start" keeps
    /// counting, and what the old one lost after its last report shows
    /// in the next.
    #[test]
    fn losses_carry_over_a_new_subscription() {
        let mut losses = Losses::default();
        assert_eq!(losses.report(3), (3, 3));
        assert_eq!(losses.report(5), (2, 5));
        // the old subscription lost 2 more before the filter changed
        let mut next = losses.carried_over(7);
        assert_eq!(next.report(0), (2, 7));
        assert_eq!(next.report(4), (4, 11));
        assert_eq!(next.report(4), (0, 11));
    }

    /// A screen's pane selects the tables its view selects on the command
    /// line, with or without table flags.
    #[test]
    fn panes_select_the_tables_their_views_select() {
        for (flags, view, option) in [
            (&[][..], View::Listeners, "--listeners"),
            (&[], View::Ephemeral, "--ephemeral"),
            (&[], View::Summary, "--summary"),
            (&["-6"], View::Listeners, "--listeners"),
            (&["-tu"], View::Summary, "--summary"),
            (&["-x"], View::Summary, "--summary"),
        ] {
            let mut live = vec!["nlstat", "--live"];
            live.extend_from_slice(flags);
            let mut alone = vec!["nlstat", option];
            alone.extend_from_slice(flags);
            let pane = pane_config(&config(&live), view, false, None);
            let view = config(&alone);
            assert_eq!(
                (pane.protocols, pane.families, pane.any_selection),
                (view.protocols, view.families, view.any_selection),
                "{flags:?} {option}"
            );
            assert_eq!(pane.all, view.all, "{flags:?} {option}");
        }
    }
}
