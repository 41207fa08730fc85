//! Which sockets to show: netstat's listening/connected rules, and the part
//! of them the kernel can apply itself (so `-l` costs O(listeners)).

pub mod bytecode;
pub mod cbpf;
pub mod expr;

use crate::config::Config;
use crate::model::{InetProto, InetSocket, SO_ACCEPTCON, UnixSocket, ss_state, tcp_state};
use expr::{Expr, Query};
use std::net::IpAddr;

/// Where a filter expression is evaluated. Both, normally: the kernel
/// runs the bytecode, and user space checks the rows that come back (and
/// decides alone for /proc tables and unix sockets). `NLSTAT_FILTER_IN`
/// (`kernel` or `user`, read by [`crate::config::Inputs`]) keeps one side
/// only, for tests that compare them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Placement {
    pub kernel: bool,
    pub user: bool,
}

/// The filter expression made ready once per run: its bytecode and where
/// it runs.
#[derive(Debug, Clone, Default)]
pub struct CompiledQuery {
    pub query: Query,
    /// The bytecode, when the kernel is to run it.
    pub bytecode: Option<Vec<u8>>,
    /// Whether user space checks inet rows too.
    pub user_inet: bool,
    /// Where it was asked to run (for queries derived from this one).
    pub placement: Placement,
}

impl CompiledQuery {
    pub fn new(query: &Query, placement: Placement) -> Self {
        let bytecode = if placement.kernel {
            query.expr.as_ref().and_then(bytecode::compile)
        } else {
            None
        };
        CompiledQuery {
            query: query.clone(),
            user_inet: placement.user || bytecode.is_none(),
            bytecode,
            placement,
        }
    }
}

/// What to show of each table this tick.
#[derive(Debug, Clone, Copy)]
pub struct SocketFilter<'a> {
    pub all: bool,
    pub listening: bool,
    pub compiled: Option<&'a CompiledQuery>,
}

/// `TCP_NEW_SYN_RECV`: request sockets, which diag reports as SYN_RECV.
const NEW_SYN_RECV: u8 = 12;

impl<'a> SocketFilter<'a> {
    pub fn from_config(config: &Config, compiled: Option<&'a CompiledQuery>) -> Self {
        SocketFilter {
            all: config.all,
            listening: config.listening,
            compiled,
        }
    }

    /// States the expression names, if any: they replace `-a`/`-l`.
    fn states(&self) -> Option<u32> {
        self.compiled.and_then(|c| c.query.states)
    }

    fn expr(&self) -> Option<&'a Expr> {
        self.compiled.and_then(|c| c.query.expr.as_ref())
    }

    /// The bytecode for inet dumps.
    pub fn bytecode(&self) -> Option<&'a [u8]> {
        self.compiled.and_then(|c| c.bytecode.as_deref())
    }

    /// The `idiag_states` mask for an inet dump: a superset of what
    /// [`keep_inet`](Self::keep_inet) keeps.
    pub fn inet_kernel_states(&self, proto: InetProto) -> u32 {
        if let Some(states) = self.states() {
            let mut mask = states & tcp_state::ALL;
            if mask & (1 << tcp_state::SYN_RECV) != 0 {
                mask |= 1 << NEW_SYN_RECV;
            }
            return mask;
        }
        if self.all || proto != InetProto::Tcp {
            // UDP and raw "listening" is about the remote address, which
            // the state mask cannot express.
            return tcp_state::ALL;
        }
        if self.listening {
            // Only listeners have no remote port; asking for LISTEN alone
            // keeps the kernel out of the established hash entirely.
            1 << tcp_state::LISTEN
        } else {
            tcp_state::ALL & !(1 << tcp_state::LISTEN)
        }
    }

    /// The `udiag_states` mask for a unix dump.
    pub fn unix_kernel_states(&self) -> u32 {
        if let Some(states) = self.states() {
            return states & tcp_state::ALL;
        }
        if self.listening && !self.all {
            1 << tcp_state::LISTEN
        } else {
            tcp_state::ALL
        }
    }

    /// Whether unix rows need their peers' names (a `dst` pattern).
    pub fn unix_peer_names(&self) -> bool {
        self.expr().is_some_and(Expr::has_unix_paths)
    }

    /// netstat's rule: TCP is a server when its remote port is 0; UDP and
    /// raw when the remote address is all zeros. Named states replace the
    /// rule; the expression must hold as well.
    pub fn keep_inet(&self, socket: &InetSocket) -> bool {
        let shown = match self.states() {
            Some(states) => states & (1u32 << socket.state.min(31)) != 0,
            None => {
                self.all || {
                    let server = match socket.proto {
                        InetProto::Tcp => socket.remote_port == 0,
                        _ => is_null(&socket.remote),
                    };
                    server == self.listening
                }
            }
        };
        shown
            && match (self.compiled, self.expr()) {
                (Some(c), Some(expr)) if c.user_inet => expr.matches_inet(socket),
                _ => true,
            }
    }

    /// Whether the expression holds for a row no kernel filter saw (an
    /// iterator's record): [`keep_inet`](Self::keep_inet) checks it only
    /// where user space is to (`NLSTAT_FILTER_IN`).
    pub fn expression_holds(&self, socket: &InetSocket) -> bool {
        self.expr().is_none_or(|e| e.matches_inet(socket))
    }

    /// netstat's rule: a unix server is an unconnected socket with
    /// SO_ACCEPTCON. Named states replace the rule; the expression must
    /// hold as well (name patterns; inet conditions never hold).
    pub fn keep_unix(&self, socket: &UnixSocket<'_>) -> bool {
        let shown = match self.states() {
            Some(states) => states & (1u32 << socket.kernel_state.min(31)) != 0,
            None => {
                self.all || {
                    let server = socket.state == u32::from(ss_state::UNCONNECTED)
                        && socket.flags & SO_ACCEPTCON != 0;
                    server == self.listening
                }
            }
        };
        if !shown {
            return false;
        }
        let Some(expr) = self.expr() else {
            return true;
        };
        if !self.unix_peer_names() {
            // no name pattern: the names cannot change the answer
            return expr.matches_unix(None, None);
        }
        let mut own = Vec::new();
        let mut peer = Vec::new();
        let own = socket.path.map(|p| {
            p.text_into(&mut own);
            &own[..]
        });
        let peer = socket.peer.map(|p| {
            p.text_into(&mut peer);
            &peer[..]
        });
        expr.matches_unix(own, peer)
    }
}

fn is_null(address: &IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => v4.is_unspecified(),
        IpAddr::V6(v6) => v6.is_unspecified(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn tcp(remote_port: u16) -> InetSocket {
        let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
        InetSocket::tcp(
            tcp_state::ESTABLISHED,
            (localhost, 22),
            (localhost, remote_port),
        )
    }

    #[test]
    fn tcp_servers_by_remote_port() {
        let default = SocketFilter {
            all: false,
            listening: false,
            compiled: None,
        };
        let listening = SocketFilter {
            all: false,
            listening: true,
            compiled: None,
        };
        assert!(default.keep_inet(&tcp(4000)) && !default.keep_inet(&tcp(0)));
        assert!(listening.keep_inet(&tcp(0)) && !listening.keep_inet(&tcp(4000)));
        assert_eq!(
            listening.inet_kernel_states(InetProto::Tcp),
            1 << tcp_state::LISTEN
        );
    }

    #[test]
    fn udp_servers_by_remote_address() {
        let mut s = tcp(0);
        s.proto = InetProto::Udp;
        s.remote = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let listening = SocketFilter {
            all: false,
            listening: true,
            compiled: None,
        };
        assert!(listening.keep_inet(&s));
        s.remote = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert!(!listening.keep_inet(&s));
        assert_eq!(listening.inet_kernel_states(InetProto::Udp), tcp_state::ALL);
    }
}
