//! Which sockets to show: netstat's listening/connected rules, and the part
//! of them the kernel can apply itself (so `-l` costs O(listeners)).

use crate::config::Config;
use crate::model::{InetProto, InetSocket, SO_ACCEPTCON, UnixSocket, ss_state, tcp_state};
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketFilter {
    pub all: bool,
    pub listening: bool,
}

impl SocketFilter {
    pub fn from_config(config: &Config) -> Self {
        SocketFilter {
            all: config.all,
            listening: config.listening,
        }
    }

    /// The `idiag_states` mask for an inet dump: a superset of what
    /// [`keep_inet`](Self::keep_inet) keeps.
    pub fn inet_kernel_states(&self, proto: InetProto) -> u32 {
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
        if self.listening && !self.all {
            1 << tcp_state::LISTEN
        } else {
            tcp_state::ALL
        }
    }

    /// netstat's rule: TCP is a server when its remote port is 0; UDP and
    /// raw when the remote address is all zeros.
    pub fn keep_inet(&self, socket: &InetSocket) -> bool {
        if self.all {
            return true;
        }
        let server = match socket.proto {
            InetProto::Tcp => socket.remote_port == 0,
            _ => is_null(&socket.remote),
        };
        server == self.listening
    }

    /// netstat's rule: a unix server is an unconnected socket with
    /// SO_ACCEPTCON.
    pub fn keep_unix(&self, socket: &UnixSocket<'_>) -> bool {
        if self.all {
            return true;
        }
        let server =
            socket.state == u32::from(ss_state::UNCONNECTED) && socket.flags & SO_ACCEPTCON != 0;
        server == self.listening
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
        InetSocket {
            proto: InetProto::Tcp,
            state: tcp_state::ESTABLISHED,
            local: IpAddr::V4(Ipv4Addr::LOCALHOST),
            local_port: 22,
            remote: IpAddr::V4(Ipv4Addr::LOCALHOST),
            remote_port,
            recv_q: 0,
            send_q: 0,
            uid: 0,
            inode: 1,
            timer: 0,
            timer_ticks: 0,
            retransmits: 0,
            probes: 0,
        }
    }

    #[test]
    fn tcp_servers_by_remote_port() {
        let default = SocketFilter {
            all: false,
            listening: false,
        };
        let listening = SocketFilter {
            all: false,
            listening: true,
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
        };
        assert!(listening.keep_inet(&s));
        s.remote = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert!(!listening.keep_inet(&s));
        assert_eq!(listening.inet_kernel_states(InetProto::Udp), tcp_state::ALL);
    }
}
