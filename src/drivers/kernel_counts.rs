//! `--view-source`: whether a view's listing counts TCP, UDP and unix
//! sockets from the kernel's BPF socket iterators
//! ([`crate::collect::socket_iter`]) instead of sock_diag dumps, decided
//! once on its first tick (in the thread, so the namespace, that walks).

use crate::collect::socket_iter::{SocketIters, Walk};
use crate::config::{Config, Source, Tape, ViewSource};
use crate::error::{Error, Result};
use crate::filter::{CompiledQuery, SocketFilter};
use crate::model::{InetProto, tcp_state};

/// The listing's choice.
#[derive(Debug, Default)]
pub(super) enum KernelCounts {
    /// The first tick has not decided yet.
    #[default]
    Undecided,
    /// sock_diag, for every table.
    Off,
    /// The iterators for the tables they were loaded for; sock_diag for
    /// the others.
    On(SocketIters),
}

impl KernelCounts {
    /// Decide on the first tick: the iterators when the view may count
    /// from them and they load; with `auto`, sock_diag otherwise (`-v`
    /// says why); with `bpf`, the reason is the error. The filter
    /// expression is checked in user space on every record (see
    /// `SocketFilter::expression_holds`).
    pub(super) fn decide(
        &mut self,
        config: &Config,
        compiled: Option<&CompiledQuery>,
    ) -> Result<()> {
        if !matches!(self, KernelCounts::Undecided) {
            return Ok(());
        }
        *self = KernelCounts::Off;
        if config.view.is_none() || config.view_source == ViewSource::Netlink {
            return Ok(());
        }
        let loaded = match refusal(config) {
            Some(why) => Err(why.to_string()),
            None => match walks(config, compiled) {
                walks if walks.is_empty() => return Ok(()),
                walks => SocketIters::load(&config.inputs, &walks, (config.programs, config.info))
                    .map_err(|e| e.0),
            },
        };
        match loaded {
            Ok(iters) => {
                *self = KernelCounts::On(iters);
                Ok(())
            }
            Err(reason) if config.view_source == ViewSource::Bpf => Err(Error::Bpf {
                option: "--view-source bpf",
                reason,
            }),
            Err(reason) => {
                if config.verbose {
                    eprintln!(
                        "{}: the view counts from sock_diag (no BPF socket iterator: {reason})",
                        config.program_name
                    );
                }
                Ok(())
            }
        }
    }

    /// The iterators, and whether `walk`'s is loaded.
    pub(super) fn serving(&mut self, walk: Option<Walk>) -> Option<(&mut SocketIters, Walk)> {
        match (self, walk) {
            (KernelCounts::On(iters), Some(walk)) if iters.has(walk) => Some((iters, walk)),
            _ => None,
        }
    }
}

/// Why this run's view counts from sock_diag whatever the machine allows
/// (`--view-source bpf` refuses these on the command line).
fn refusal(config: &Config) -> Option<&'static str> {
    if config.source == Source::Proc {
        Some("--source proc")
    } else if config.tape != Tape::None {
        Some("a recording keeps sock_diag's replies")
    } else {
        None
    }
}

/// Why sock_diag, under `auto`, gives `walk`'s table for less than an
/// iterator would. An iterator visits (and locks) every socket of its
/// table whatever the view asks; sock_diag's dump of listeners alone walks
/// the listening hash only, and a dump narrowed by states or by a filter
/// expression (run as bytecode) builds no message for the sockets it
/// skips. With few sockets kept, that costs less than the iterator's walk
/// (on 440 000 sockets: 0.006-0.25 s of CPU against about 0.3 s); with
/// most of them kept, more (0.57 s against 0.32 s). Only conditions that
/// usually keep few count: listeners alone, states that are neither
/// ESTABLISHED nor TIME_WAIT (the bulk of a busy host), and an expression
/// that [narrows](crate::filter::expr::Expr::narrows).
fn narrowed_by_sock_diag(
    config: &Config,
    compiled: Option<&CompiledQuery>,
    walk: Walk,
) -> Option<&'static str> {
    let proto = match walk {
        Walk::Tcp => InetProto::Tcp,
        Walk::Udp => InetProto::Udp,
        Walk::Unix => return None, // unix_diag walks every socket too
    };
    // the user's own expression, not a view's (--ephemeral's port range)
    let user = config.query.as_ref().and_then(|q| q.expr.as_ref());
    if user.is_some_and(|e| e.narrows()) && compiled.is_some_and(|c| c.bytecode.is_some()) {
        return Some("the kernel runs the filter expression on its dump");
    }
    if proto != InetProto::Tcp {
        return None;
    }
    let states = SocketFilter::from_config(config, compiled).inet_kernel_states(proto);
    let bulk = (1 << tcp_state::ESTABLISHED) | (1 << tcp_state::TIME_WAIT);
    if states & !(1 << tcp_state::LISTEN) == 0 {
        Some("its dump of listeners alone skips the connections")
    } else if states & bulk == 0 {
        Some("its dump skips the states not asked for")
    } else {
        None
    }
}

/// The tables the iterators can walk for this run: TCP and UDP when
/// selected, unix unless a name pattern needs the names sock_diag gives;
/// with `--info`, TCP alone (its program reads what health needs; UDP's
/// and unix's memory info come from sock_diag).
fn walks(config: &Config, compiled: Option<&CompiledQuery>) -> Vec<Walk> {
    let p = config.protocols;
    let inet = config.wants_inet_section();
    let names = SocketFilter::from_config(config, compiled).unix_peer_names();
    [
        (inet && config.wants(p.tcp), Walk::Tcp),
        (inet && config.wants(p.udp) && !config.info, Walk::Udp),
        (
            config.wants(config.families.unix) && !names && !config.info,
            Walk::Unix,
        ),
    ]
    .into_iter()
    .filter_map(|(wanted, walk)| wanted.then_some(walk))
    .filter(|&walk| {
        config.view_source != ViewSource::Auto || !left_to_sock_diag(config, compiled, walk)
    })
    .collect()
}

/// Under `auto`: whether `walk`'s table is dumped by sock_diag instead
/// ([`narrowed_by_sock_diag`]); `-v` says so.
fn left_to_sock_diag(config: &Config, compiled: Option<&CompiledQuery>, walk: Walk) -> bool {
    let Some(why) = narrowed_by_sock_diag(config, compiled, walk) else {
        return false;
    };
    if config.verbose {
        eprintln!(
            "{}: the view counts {} from sock_diag ({why})",
            config.program_name,
            walk.name().to_uppercase()
        );
    }
    true
}
