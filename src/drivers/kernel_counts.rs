//! `--view-source`: whether a view's listing counts TCP, UDP and unix
//! sockets from the kernel's BPF socket iterators
//! ([`crate::collect::socket_iter`]) instead of sock_diag dumps, decided
//! once on its first tick (in the thread, so the namespace, that walks).

use crate::collect::socket_iter::{SocketIters, Walk};
use crate::config::{Config, Source, Tape, ViewSource};
use crate::error::{Error, Result};
use crate::filter::{CompiledQuery, Placement, SocketFilter};

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
    /// says why); with `bpf`, the reason is the error. When they serve,
    /// the filter runs in user space over their records, and `compiled`
    /// is made again for that.
    pub(super) fn decide(
        &mut self,
        config: &Config,
        compiled: &mut Option<CompiledQuery>,
    ) -> Result<()> {
        if !matches!(self, KernelCounts::Undecided) {
            return Ok(());
        }
        *self = KernelCounts::Off;
        if config.view.is_none() || config.view_source == ViewSource::Netlink {
            return Ok(());
        }
        let walks = walks(config, compiled.as_ref());
        let loaded = match refusal(config) {
            Some(why) => Err(why.to_string()),
            None if walks.is_empty() => return Ok(()),
            None => SocketIters::load(&config.inputs, &walks, (config.programs, config.info))
                .map_err(|e| e.0),
        };
        match loaded {
            Ok(iters) => {
                *self = KernelCounts::On(iters);
                let user_only = Placement {
                    kernel: false,
                    user: true,
                };
                *compiled = crate::views::lowered_query(config)
                    .map(|query| CompiledQuery::new(&query, user_only));
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
    .collect()
}
