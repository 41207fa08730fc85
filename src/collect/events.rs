//! Close events: sock_diag's destroy multicast groups (Linux 4.2+).
//!
//! The kernel sends one `SOCK_DIAG_BY_FAMILY` message per TCP or UDP socket
//! it destroys to every netlink socket of the namespace that joined the
//! family's group, with the socket's addresses, state, queues and (TCP) its
//! final `tcp_info`; no uid, inode or timer (those fields are zero). There
//! is no request and no bytecode: a listener gets every message, so a
//! classic BPF socket filter ([`crate::filter::cbpf`]) may drop the ones a
//! filter expression refuses before they take room in the receive buffer.
//!
//! When the buffer is full the kernel drops messages, counts each in the
//! socket's drop counter (`SK_MEMINFO_DROPS`, /proc/net/netlink's Drops)
//! and reports `ENOBUFS` once until the queue drains; the counter read
//! after the queue has drained is exact.

use crate::error::{Error, Result};
use crate::model::{InetProto, InetSocket, SocketExt};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// The destroy groups (`enum sknetlink_groups`).
pub const SKNLGRP_INET_TCP_DESTROY: u32 = 1;
pub const SKNLGRP_INET_UDP_DESTROY: u32 = 2;
pub const SKNLGRP_INET6_TCP_DESTROY: u32 = 3;
pub const SKNLGRP_INET6_UDP_DESTROY: u32 = 4;

/// `INET_DIAG_PROTOCOL`: the message's protocol (its group says it too,
/// but only through recvmsg's address).
const INET_DIAG_PROTOCOL: u16 = 10;
/// `SOCK_DIAG_BY_FAMILY`, the type of every destroy message.
const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// `SK_MEMINFO_DROPS` in `SO_MEMINFO`'s array of `SK_MEMINFO_VARS` u32s.
const SK_MEMINFO_DROPS: usize = 8;
const SK_MEMINFO_VARS: usize = 9;
/// The receive buffer asked for when none is given: about 50 000 queued
/// messages of a TCP close (as root; others get net.core.rmem_max).
pub const DEFAULT_BUFFER: usize = 64 << 20;
/// A destroy message is under 400 bytes; a datagram holds one.
const DATAGRAM: usize = 8192;

/// The groups for the selected protocols and families.
pub fn groups(tcp: bool, udp: bool, v4: bool, v6: bool) -> Vec<u32> {
    let mut groups = Vec::new();
    for (wanted, group) in [
        (tcp && v4, SKNLGRP_INET_TCP_DESTROY),
        (udp && v4, SKNLGRP_INET_UDP_DESTROY),
        (tcp && v6, SKNLGRP_INET6_TCP_DESTROY),
        (udp && v6, SKNLGRP_INET6_UDP_DESTROY),
    ] {
        if wanted {
            groups.push(group);
        }
    }
    groups
}

/// What one receive brought.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// A datagram of this many bytes is in [`Subscription::datagram`].
    Datagram(usize),
    /// Nothing queued now.
    Empty,
    /// The kernel dropped messages (ENOBUFS); the count comes from
    /// [`Subscription::take_lost`] once the queue has drained.
    Overflow,
}

/// One netlink socket that joined destroy groups in the namespace it was
/// opened in.
pub struct Subscription {
    fd: OwnedFd,
    buffer: Vec<u8>,
    /// The drop counter when the losses were last taken.
    drops_taken: u32,
    /// The receive buffer the kernel granted (as getsockopt reports it).
    pub granted: usize,
}

fn os_error(what: &str) -> Error {
    Error::netlink(what.to_string(), io::Error::last_os_error())
}

fn set_int(fd: &OwnedFd, level: i32, option: i32, value: i32) -> io::Result<()> {
    // SAFETY: a valid fd and a pointer to an int of the length passed.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            option,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn get_int(fd: &OwnedFd, option: i32) -> i32 {
    let mut value: i32 = 0;
    let mut length = std::mem::size_of::<i32>() as libc::socklen_t;
    // SAFETY: a valid fd, an int and its length for the kernel to fill.
    unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (&mut value as *mut i32).cast(),
            &mut length,
        );
    }
    value
}

impl Subscription {
    /// Open a sock_diag socket in the calling thread's namespace, give it
    /// a receive buffer of `buffer` bytes (SO_RCVBUFFORCE as root, else
    /// SO_RCVBUF, which the kernel caps at net.core.rmem_max), attach
    /// `filter` (classic BPF) and join `groups`. No privilege is needed.
    pub fn open(
        groups: &[u32],
        buffer: usize,
        filter: Option<&[libc::sock_filter]>,
    ) -> Result<Self> {
        // SAFETY: plain socket(2); the result is checked before use.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                libc::NETLINK_SOCK_DIAG,
            )
        };
        if raw < 0 {
            return Err(os_error("socket for close events"));
        }
        // SAFETY: `raw` is a new descriptor nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let size = i32::try_from(buffer).unwrap_or(i32::MAX);
        if set_int(&fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, size).is_err() {
            set_int(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, size)
                .map_err(|e| Error::netlink("SO_RCVBUF for close events", e))?;
        }
        if let Some(program) = filter {
            attach(&fd, program)
                .map_err(|e| Error::netlink("SO_ATTACH_FILTER for close events", e))?;
        }
        // SAFETY: sockaddr_nl is plain data; zero is its unbound value.
        let mut address: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        address.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: a valid fd and a sockaddr_nl of the length passed.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&address as *const libc::sockaddr_nl).cast(),
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(os_error("bind for close events"));
        }
        for &group in groups {
            set_int(
                &fd,
                libc::SOL_NETLINK,
                libc::NETLINK_ADD_MEMBERSHIP,
                group as i32,
            )
            .map_err(|e| Error::netlink(format!("joining destroy group {group}"), e))?;
        }
        let granted = get_int(&fd, libc::SO_RCVBUF).max(0) as usize;
        let mut subscription = Subscription {
            fd,
            buffer: vec![0; DATAGRAM],
            drops_taken: 0,
            granted,
        };
        subscription.drops_taken = subscription.drops().unwrap_or(0);
        Ok(subscription)
    }

    /// The descriptor to poll.
    pub fn raw_fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// Receive one datagram without waiting.
    pub fn receive(&mut self) -> Result<Received> {
        loop {
            // SAFETY: a valid fd and a buffer of the length passed.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    self.buffer.as_mut_ptr().cast(),
                    self.buffer.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n >= 0 {
                return Ok(Received::Datagram(n as usize));
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::EAGAIN) => return Ok(Received::Empty),
                Some(libc::ENOBUFS) => return Ok(Received::Overflow),
                _ => return Err(Error::netlink("receiving close events", e)),
            }
        }
    }

    /// The datagram the last [`receive`](Self::receive) returned.
    pub fn datagram(&self, length: usize) -> &[u8] {
        &self.buffer[..length.min(self.buffer.len())]
    }

    /// The kernel's count of messages dropped for this socket; `None`
    /// before Linux 4.12, which has no SO_MEMINFO.
    fn drops(&self) -> Option<u32> {
        let mut info = [0u32; SK_MEMINFO_VARS];
        let mut length = std::mem::size_of_val(&info) as libc::socklen_t;
        // SAFETY: a valid fd, an array and its length for the kernel to fill.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_MEMINFO,
                info.as_mut_ptr().cast(),
                &mut length,
            )
        };
        let whole = length as usize >= std::mem::size_of_val(&info);
        (rc == 0 && whole).then_some(info[SK_MEMINFO_DROPS])
    }

    /// Messages dropped since the last call. Without the kernel's counter
    /// an overflow (`overflowed`) counts as one message lost: at least
    /// that many were.
    pub fn take_lost(&mut self, overflowed: bool) -> u64 {
        match self.drops() {
            Some(now) => {
                let lost = now.wrapping_sub(self.drops_taken);
                self.drops_taken = now;
                u64::from(lost)
            }
            None => u64::from(overflowed),
        }
    }
}

/// SO_ATTACH_FILTER with a classic BPF program.
fn attach(fd: &OwnedFd, program: &[libc::sock_filter]) -> io::Result<()> {
    let fprog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: a valid fd and a sock_fprog pointing at `program`, which
    // outlives the call (the kernel copies it).
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&fprog as *const libc::sock_fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// One closed socket as its destroy message describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed<'a> {
    pub socket: InetSocket,
    pub ext: SocketExt<'a>,
    /// The kernel's socket cookie (`idiag_cookie`, as ss prints it).
    pub cookie: u64,
}

/// The closed socket in one received datagram; `None` for anything else
/// (a message of another type, a family or protocol nlstat does not
/// list, a message too short to read).
pub fn parse_closed(datagram: &[u8]) -> Option<Closed<'_>> {
    let (message, _) = crate::collect::netlink::message_at(datagram, 0)?.ok()?;
    if message.message_type != SOCK_DIAG_BY_FAMILY {
        return None;
    }
    let payload = message.payload;
    let proto = protocol(payload)?;
    let (socket, ext) = crate::collect::sock_diag::parse_inet_ext(proto, payload).ok()?;
    let word = |at: usize| u64::from(u32::from_ne_bytes(payload[at..at + 4].try_into().unwrap()));
    Some(Closed {
        socket,
        ext,
        cookie: word(44) | word(48) << 32,
    })
}

/// The message's INET_DIAG_PROTOCOL, as nlstat's tables name it.
fn protocol(payload: &[u8]) -> Option<InetProto> {
    use netlink_packet_core::NlasIterator;
    let attributes = payload.get(crate::collect::sock_diag::INET_DIAG_MSG_LEN..)?;
    let value = NlasIterator::new(attributes)
        .flatten()
        .find(|a| a.kind() == INET_DIAG_PROTOCOL)
        .and_then(|a| a.value().first().copied())?;
    match i32::from(value) {
        libc::IPPROTO_TCP => Some(InetProto::Tcp),
        libc::IPPROTO_UDP => Some(InetProto::Udp),
        libc::IPPROTO_UDPLITE => Some(InetProto::UdpLite),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::recording::Recording;
    use crate::collect::tcp_info::{Field, TcpInfo};
    use std::net::IpAddr;

    // Recorded by scripts/record-events.py (see tests/fixtures/README.md):
    // the destroy messages of two TCP connections, their listeners and
    // two UDP sockets, and what `ss -E -tuni` printed for them.
    const CLOSES: &[u8] = include_bytes!("../../tests/fixtures/events/closes.nlrec");
    const SS: &str = include_str!("../../tests/fixtures/events/closes.ss-E.txt");

    /// ss's `ADDR:PORT` (`*` any address, `[v6]`, port `*` for 0).
    fn end(text: &str, v6: bool) -> (IpAddr, u16) {
        let (addr, port) = text.rsplit_once(':').unwrap();
        let addr = match addr.trim_start_matches('[').trim_end_matches(']') {
            "*" if v6 => IpAddr::from([0u16; 8]),
            "*" => IpAddr::from([0u8; 4]),
            a => a.parse().unwrap(),
        };
        (
            addr,
            if port == "*" {
                0
            } else {
                port.parse().unwrap()
            },
        )
    }

    /// Every recorded message parses into the socket ss printed for it:
    /// protocol, ends, state, queues (Send-Q -1 kept as the kernel's
    /// u32), and the final tcp_info's bytes_acked.
    #[test]
    fn recorded_destroy_messages_read_as_ss_reads_them() {
        let recording = Recording::new(CLOSES).unwrap();
        let closed: Vec<Closed<'_>> = recording.datagrams().filter_map(parse_closed).collect();
        let rows: Vec<&str> = SS
            .lines()
            .skip(1)
            .filter(|l| !l.starts_with('\t'))
            .collect();
        let infos: Vec<&str> = SS.lines().filter(|l| l.starts_with('\t')).collect();
        assert_eq!(closed.len(), rows.len());
        assert!(closed.len() >= 8);
        let mut info_lines = infos.iter();
        for (c, row) in closed.iter().zip(&rows) {
            let f: Vec<&str> = row.split_whitespace().collect();
            let s = &c.socket;
            let v6 = s.is_v6();
            let proto = match s.proto {
                InetProto::Tcp => "tcp",
                _ => "udp",
            };
            let state = match s.state {
                1 => "ESTAB",
                7 => "UNCONN",
                other => panic!("state {other}"),
            };
            assert_eq!((proto, state), (f[0], f[1]), "{row}");
            assert_eq!(s.recv_q.to_string(), f[2], "{row}");
            assert_eq!(s.send_q as i32, f[3].parse::<i32>().unwrap(), "{row}");
            assert_eq!((s.local, s.local_port), end(f[4], v6), "{row}");
            assert_eq!((s.remote, s.remote_port), end(f[5], v6), "{row}");
            assert_eq!((s.uid, s.inode), (0, 0), "the message carries neither");
            if s.proto == InetProto::Tcp {
                let line = info_lines.next().unwrap();
                let acked = TcpInfo::new(c.ext.info).get(Field::BYTES_ACKED).unwrap();
                let theirs = line
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("bytes_acked:"))
                    .map_or(0, |v| v.parse().unwrap());
                assert_eq!(acked, theirs, "{row}");
            } else {
                assert!(c.ext.info.is_empty());
            }
        }
        // cookies are the kernel's, one per socket
        let mut cookies: Vec<u64> = closed.iter().map(|c| c.cookie).collect();
        cookies.sort_unstable();
        cookies.dedup();
        assert_eq!(cookies.len(), closed.len());
        assert!(cookies[0] > 0);
    }

    /// A message cut anywhere, or of another type, is no close: never a
    /// panic.
    #[test]
    fn short_or_foreign_messages_are_skipped() {
        let recording = Recording::new(CLOSES).unwrap();
        let first = recording.datagrams().next().unwrap();
        for cut in 0..first.len() {
            let mut bytes = first[..cut].to_vec();
            if bytes.len() >= 4 {
                bytes[..4].copy_from_slice(&(cut as u32).to_ne_bytes());
            }
            let closed = parse_closed(&bytes);
            // no socket without a whole header and inet_diag_msg
            assert!(cut >= 16 + 72 || closed.is_none(), "cut at {cut}");
        }
        let mut other = first.to_vec();
        other[4] = 3; // NLMSG_DONE
        assert!(parse_closed(&other).is_none());
    }

    #[test]
    fn groups_follow_tables_and_families() {
        assert_eq!(groups(true, true, true, true), vec![1, 2, 3, 4]);
        assert_eq!(groups(true, false, false, true), vec![3]);
        assert!(groups(false, false, true, true).is_empty());
    }
}
