//! sock_diag wire records → model records.
//!
//! The fixed headers are read straight from the receive buffer. The
//! netlink-packet-sock-diag types build the requests, but its parsed
//! response drops fields netstat prints (the TIME_WAIT expiry, the raw timer
//! number), so responses are read here, without allocating.

use crate::error::ParseError;
use crate::model::{InetProto, InetSocket, SocketExt, UnixPath, UnixSocket};
use netlink_packet_core::NlasIterator;
use netlink_packet_sock_diag::{
    SockDiagMessage,
    constants::{
        AF_INET, AF_INET6, INET_DIAG_BBRINFO, INET_DIAG_CONG, INET_DIAG_DCTCPINFO, INET_DIAG_INFO,
        INET_DIAG_SKMEMINFO, INET_DIAG_VEGASINFO, UDIAG_SHOW_ICONS, UDIAG_SHOW_NAME,
        UDIAG_SHOW_PEER, UNIX_DIAG_ICONS, UNIX_DIAG_NAME, UNIX_DIAG_PEER,
    },
    inet::{ExtensionFlags, InetRequest, SocketId, StateFlags},
    unix::{ShowFlags, StateFlags as UnixStateFlags, UnixRequest},
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `sizeof(struct inet_diag_msg)`.
pub const INET_DIAG_MSG_LEN: usize = 72;
/// `sizeof(struct unix_diag_msg)`.
pub const UNIX_DIAG_MSG_LEN: usize = 16;
/// `INET_DIAG_REQ_PROTOCOL`: the raw protocol filter attribute.
const INET_DIAG_REQ_PROTOCOL: u16 = 8;

/// What a dump asks the kernel to add to each socket: `tcp_info` for
/// `-o`'s retransmit and probe counts, everything `--info` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extensions {
    /// `-o`: tcp_info's retransmits and probes.
    pub timers: bool,
    /// `--info`: tcp_info, the congestion control and socket memory.
    pub health: bool,
}

impl Extensions {
    /// The `idiag_ext` bits for `proto`: tcp_info and the congestion
    /// control exist for TCP only; socket memory for every protocol
    /// (bit n-1 asks for attribute n).
    pub fn bits(self, proto: InetProto) -> u8 {
        let bit = |attribute: u16| 1u8 << (attribute - 1);
        let tcp = proto == InetProto::Tcp;
        let mut bits = 0;
        if tcp && (self.timers || self.health) {
            bits |= bit(INET_DIAG_INFO);
        }
        if self.health {
            bits |= bit(INET_DIAG_SKMEMINFO);
            if tcp {
                // the congestion control's detail (Vegas, DCTCP and BBR
                // answer to this bit: idiag_ext has only 8)
                bits |= bit(INET_DIAG_CONG) | bit(INET_DIAG_VEGASINFO);
            }
        }
        bits
    }
}

/// A dump request for one inet table and family, with `extensions`.
pub fn inet_request(
    proto: InetProto,
    v6: bool,
    states: u32,
    extensions: Extensions,
) -> SockDiagMessage {
    let family = if v6 { AF_INET6 } else { AF_INET };
    SockDiagMessage::InetRequest(InetRequest {
        family,
        protocol: proto.ip_protocol(),
        extensions: ExtensionFlags::from_bits_retain(extensions.bits(proto)),
        states: StateFlags::from_bits_retain(states),
        socket_id: if v6 {
            SocketId::new_v6()
        } else {
            SocketId::new_v4()
        },
    })
}

/// `TCPDIAG_GETSOCK`: inet_diag's first request type, which the kernel
/// still answers for TCP with the family left unspecified, so one walk of
/// its tables returns the IPv4 and the IPv6 sockets together.
const TCPDIAG_GETSOCK: u16 = 18;

/// A serialized `TCPDIAG_GETSOCK` dump request (`struct inet_diag_req`,
/// the family left out) for both families' TCP sockets in `states`.
pub fn tcp_both_families_request(states: u32, extensions: Extensions, sequence: u32) -> Vec<u8> {
    const HEADER: usize = 16;
    // family, src_len, dst_len, ext; inet_diag_sockid (48); states; dbs
    const BODY: usize = 4 + 48 + 4 + 4;
    let mut request = vec![0u8; HEADER + BODY];
    let flags = netlink_packet_core::NLM_F_REQUEST | netlink_packet_core::NLM_F_DUMP;
    request[0..4].copy_from_slice(&((HEADER + BODY) as u32).to_ne_bytes());
    request[4..6].copy_from_slice(&TCPDIAG_GETSOCK.to_ne_bytes());
    request[6..8].copy_from_slice(&flags.to_ne_bytes());
    request[8..12].copy_from_slice(&sequence.to_ne_bytes());
    request[HEADER + 3] = extensions.bits(InetProto::Tcp);
    request[HEADER + 52..HEADER + 56].copy_from_slice(&states.to_ne_bytes());
    request
}

/// Append `INET_DIAG_REQ_PROTOCOL` to a serialized raw-socket request so the
/// kernel's raw_diag returns sockets of every protocol.
pub fn with_raw_protocol_filter(mut request: Vec<u8>, protocol: u32) -> Vec<u8> {
    request.extend_from_slice(&8u16.to_ne_bytes());
    request.extend_from_slice(&INET_DIAG_REQ_PROTOCOL.to_ne_bytes());
    request.extend_from_slice(&protocol.to_ne_bytes());
    let length = request.len() as u32;
    request[..4].copy_from_slice(&length.to_ne_bytes());
    request
}

/// Append an encoded attribute (such as the filter bytecode) to a
/// serialized request and fix its length.
pub fn with_attribute(mut request: Vec<u8>, attribute: &[u8]) -> Vec<u8> {
    request.extend_from_slice(attribute);
    while !request.len().is_multiple_of(4) {
        request.push(0);
    }
    let length = request.len() as u32;
    request[..4].copy_from_slice(&length.to_ne_bytes());
    request
}

/// `UDIAG_SHOW_MEMINFO` (`linux/unix_diag.h`): the socket's
/// `SK_MEMINFO_*` array as `UNIX_DIAG_MEMINFO`.
const UDIAG_SHOW_MEMINFO: u32 = 0x20;
const UNIX_DIAG_MEMINFO: u16 = 5;

/// A dump request for unix sockets with their names, peers and, for
/// listeners, the peers of connections still in the accept queue; with
/// `meminfo` (`--info`), their socket memory too.
pub fn unix_request(states: u32, meminfo: bool) -> SockDiagMessage {
    let memory = if meminfo { UDIAG_SHOW_MEMINFO } else { 0 };
    SockDiagMessage::UnixRequest(UnixRequest {
        state_flags: UnixStateFlags::from_bits_retain(states),
        inode: 0,
        show_flags: ShowFlags::from_bits_retain(
            UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_ICONS | memory,
        ),
        cookie: [0; 8],
    })
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn address(family: u8, bytes: &[u8]) -> IpAddr {
    if family == AF_INET6 {
        let mut octets = [0u8; 16];
        octets.copy_from_slice(&bytes[..16]);
        IpAddr::V6(Ipv6Addr::from(octets))
    } else {
        IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]))
    }
}

/// Parse one `inet_diag_msg` (and the attributes after it). An error when
/// the message is too short to hold the fixed header or names a family
/// other than AF_INET and AF_INET6; attributes that do not parse are
/// ignored (they only add detail).
pub fn parse_inet(proto: InetProto, payload: &[u8]) -> Result<InetSocket, ParseError> {
    parse_inet_ext(proto, payload).map(|(socket, _)| socket)
}

/// [`parse_inet`] with the extensions the message carries (`--info`), as
/// they came: a short or long attribute is kept, never an error.
pub fn parse_inet_ext(
    proto: InetProto,
    payload: &[u8],
) -> Result<(InetSocket, SocketExt<'_>), ParseError> {
    if payload.len() < INET_DIAG_MSG_LEN {
        return Err(ParseError::new(
            "inet_diag_msg",
            "shorter than its 72-byte header",
        ));
    }
    let family = payload[0];
    if family != AF_INET && family != AF_INET6 {
        return Err(ParseError::new(
            "inet_diag_msg",
            "address family is neither AF_INET nor AF_INET6",
        ));
    }
    let state = payload[1];
    let timer = payload[2];
    let retrans = payload[3];
    let local_port = u16::from_be_bytes([payload[4], payload[5]]);
    let remote_port = u16::from_be_bytes([payload[6], payload[7]]);
    let local = address(family, &payload[8..24]);
    let remote = address(family, &payload[24..40]);
    // struct inet_diag_msg: id occupies bytes 4..52, then expires, rqueue,
    // wqueue, uid and inode, four bytes each.
    let expires_ms = u32_at(payload, 52);
    let mut socket = InetSocket {
        proto,
        state,
        local,
        local_port,
        remote,
        remote_port,
        recv_q: u32_at(payload, 56),
        send_q: u32_at(payload, 60),
        uid: u32_at(payload, 64),
        inode: u64::from(u32_at(payload, 68)),
        timer,
        // /proc counts clock ticks (1/100 s) of the same jiffies delta the
        // diag message gives in milliseconds; truncating matches it.
        timer_ticks: if timer == 0 { 0 } else { expires_ms / 10 },
        retransmits: 0,
        probes: 0,
        backlog: 0,
    };
    if proto == InetProto::Tcp && state == crate::model::tcp_state::LISTEN {
        // sock_diag reports a listener's backlog as its send queue; /proc
        // (and so netstat) shows the send queue, which is empty.
        socket.backlog = socket.send_q;
        socket.send_q = 0;
    }
    match timer {
        // retransmit timer: idiag_retrans is icsk_retransmits
        1 => socket.retransmits = retrans,
        // keepalive and zero-window probe: idiag_retrans is the probe count
        2 | 4 => socket.probes = retrans,
        _ => {}
    }
    let mut ext = SocketExt::NONE;
    if payload.len() > INET_DIAG_MSG_LEN {
        for attribute in NlasIterator::new(&payload[INET_DIAG_MSG_LEN..]).flatten() {
            let kind = attribute.kind();
            let length = usize::from(attribute.length());
            // the value, borrowed from the receive buffer rather than the view
            let value = attribute.into_inner().get(4..length).unwrap_or(&[]);
            match kind {
                INET_DIAG_INFO => {
                    // struct tcp_info: state, ca_state, retransmits, probes, ...
                    if value.len() >= 4 {
                        socket.retransmits = value[2];
                        socket.probes = value[3];
                    }
                    ext.info = value;
                }
                INET_DIAG_CONG => ext.cong = value,
                INET_DIAG_SKMEMINFO => ext.skmem = value,
                INET_DIAG_VEGASINFO | INET_DIAG_DCTCPINFO | INET_DIAG_BBRINFO => {
                    ext.cc_info = value;
                    ext.cc_kind = kind;
                }
                _ => {}
            }
        }
    }
    Ok((socket, ext))
}

/// A unix socket as sock_diag describes it, before its reference count is
/// known (that needs the whole dump).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnixDiagRecord<'a> {
    pub sock_type: u8,
    /// TCP_* state number.
    pub state: u8,
    pub inode: u32,
    pub peer_inode: Option<u32>,
    pub name: Option<&'a [u8]>,
    /// For a listener: the inodes of the clients whose connections wait in
    /// its accept queue (`UNIX_DIAG_ICONS`), as raw native-endian u32s.
    pub pending_peers: &'a [u8],
    /// `UNIX_DIAG_MEMINFO`: the `SK_MEMINFO_*` array (empty when not
    /// asked for).
    pub meminfo: &'a [u8],
}

impl UnixDiagRecord<'_> {
    /// Client inodes of connections waiting in this listener's queue.
    pub fn pending_peers(&self) -> impl Iterator<Item = u32> + '_ {
        self.pending_peers.chunks_exact(4).map(|c| u32_at(c, 0))
    }
}

/// Parse one `unix_diag_msg` and its attributes. An error when the
/// message is too short for the fixed header; attributes that do not parse
/// end the attribute walk (what came before is kept).
pub fn parse_unix(payload: &[u8]) -> Result<UnixDiagRecord<'_>, ParseError> {
    if payload.len() < UNIX_DIAG_MSG_LEN {
        return Err(ParseError::new(
            "unix_diag_msg",
            "shorter than its 16-byte header",
        ));
    }
    let mut record = UnixDiagRecord {
        sock_type: payload[1],
        state: payload[2],
        inode: u32_at(payload, 4),
        peer_inode: None,
        name: None,
        pending_peers: &[],
        meminfo: &[],
    };
    for attribute in NlasIterator::new(&payload[UNIX_DIAG_MSG_LEN..]).flatten() {
        let kind = attribute.kind();
        let length = usize::from(attribute.length());
        // the value, borrowed from the receive buffer rather than the view
        let value = attribute.into_inner().get(4..length).unwrap_or(&[]);
        match kind {
            UNIX_DIAG_NAME => record.name = Some(value),
            UNIX_DIAG_PEER if value.len() >= 4 => record.peer_inode = Some(u32_at(value, 0)),
            UNIX_DIAG_ICONS => record.pending_peers = value,
            UNIX_DIAG_MEMINFO => record.meminfo = value,
            _ => {}
        }
    }
    Ok(record)
}

impl<'a> UnixDiagRecord<'a> {
    /// The record as /proc/net/unix would show it, given its reference count.
    pub fn to_socket(&self, refcnt: u32) -> UnixSocket<'a> {
        use crate::model::{SO_ACCEPTCON, ss_state, tcp_state};
        let listening = self.state == tcp_state::LISTEN;
        // /proc derives the BSD state from sk_state and whether a struct
        // socket is attached; a socket without one has inode 0.
        let established = self.state == tcp_state::ESTABLISHED;
        let state = match (self.inode != 0, established) {
            (true, true) => ss_state::CONNECTED,
            (true, false) => ss_state::UNCONNECTED,
            (false, true) => ss_state::CONNECTING,
            (false, false) => ss_state::DISCONNECTING,
        };
        UnixSocket {
            refcnt,
            flags: if listening { SO_ACCEPTCON } else { 0 },
            sock_type: u32::from(self.sock_type),
            state: u32::from(state),
            inode: u64::from(self.inode),
            path: self.name.map(UnixPath::SunPath),
            kernel_state: self.state,
            peer: None,
            skmem: self.meminfo,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{UnixPath, tcp_state};
    use netlink_packet_core::NetlinkBuffer;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The payloads of every netlink message in one datagram.
    fn payloads(datagram: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut offset = 0;
        while offset < datagram.len() {
            let message = NetlinkBuffer::new_checked(&datagram[offset..]).unwrap();
            out.push(message.payload());
            offset += (message.length() as usize + 3) & !3;
        }
        out
    }

    // Recorded on Linux 6.18 with
    //   strace -e trace=recvfrom -e read=3 nlstat -tane
    // in a namespace holding a TCP listener on 127.0.0.1:8080 (backlog 5),
    // one connection to it and 3 unread bytes on the accepted end; this is
    // the first datagram of the IPv4 dump (three SOCK_DIAG_BY_FAMILY
    // messages, each with INET_DIAG_* attributes the kernel always adds).
    const TCP_DUMP: &str = "7c0000001400020001000000a03e0000020a00001f9000007f0000010000000000000000000000000000000000000000000000000000000000000000f91100000000000000000000000000000500000000000000209c0000050008000000000008000f00000000000c001500010000000000000006001600520000007c0000001400020001000000a03e000002010000b35a1f907f0000010000000000000000000000007f00000100000000000000000000000000000000fa1100000000000000000000000000000000000000000000219c0000050008000000000008000f00000000000c001500010000000000000006001600520000007c0000001400020001000000a03e0000020100001f90b35a7f0000010000000000000000000000007f00000100000000000000000000000000000000fb1100000000000000000000030000000000000000000000229c0000050008000000000008000f00000000000c00150001000000000000000600160052000000";

    // Recorded the same way from `nlstat -xl` in that namespace, with a
    // unix stream listener on the abstract name "rec-listener".
    const UNIX_DUMP: &str = "400000001400020001000000a43e000001010a00239c0000061200000000000011000000007265632d6c697374656e6572000000040003000500060000000000";

    #[test]
    fn recorded_tcp_dump() {
        let datagram = hex(TCP_DUMP);
        let sockets: Vec<InetSocket> = payloads(&datagram)
            .into_iter()
            .map(|p| parse_inet(InetProto::Tcp, p).unwrap())
            .collect();
        assert_eq!(sockets.len(), 3);
        let localhost: IpAddr = "127.0.0.1".parse().unwrap();
        let listener = &sockets[0];
        assert_eq!(
            (listener.state, listener.local, listener.local_port),
            (tcp_state::LISTEN, localhost, 8080)
        );
        assert_eq!(listener.remote_port, 0);
        // the backlog (5) is not the send queue netstat shows
        assert_eq!((listener.recv_q, listener.send_q), (0, 0));
        assert_eq!((listener.uid, listener.inode), (0, 0x9c20));
        let client = &sockets[1];
        assert_eq!(
            (client.state, client.local_port, client.remote_port),
            (tcp_state::ESTABLISHED, 0xb35a, 8080)
        );
        let accepted = &sockets[2];
        assert_eq!(
            (accepted.local_port, accepted.recv_q, accepted.inode),
            (8080, 3, 0x9c22)
        );
        assert_eq!(accepted.timer, 0);
    }

    #[test]
    fn recorded_unix_dump() {
        let datagram = hex(UNIX_DUMP);
        let payload = payloads(&datagram)[0];
        let record = parse_unix(payload).unwrap();
        assert_eq!(
            (record.sock_type, record.state, record.inode),
            (1, tcp_state::LISTEN, 0x9c23)
        );
        assert_eq!(record.name, Some(&b"\0rec-listener"[..]));
        let socket = record.to_socket(2);
        assert_eq!(socket.flags, crate::model::SO_ACCEPTCON);
        assert_eq!(socket.path, Some(UnixPath::SunPath(b"\0rec-listener")));
    }

    // Recorded on Linux 6.18 with
    //   strace -e trace=recvfrom -e read=all -xx nlstat -xl --info
    // in a namespace holding one unix stream listener on the abstract name
    // "rec-listener" (backlog 5): UDIAG_SHOW_MEMINFO's UNIX_DIAG_MEMINFO
    // (nine u32s, rcvbuf and sndbuf 212992) and the RQLEN and SHUTDOWN
    // attributes the kernel adds.
    const UNIX_MEMINFO_DUMP: &str = "680000001400020001000000df7e000001010a00cb344a00824208000000000011000000007265632d6c697374656e657200000004000300280005000000000000400300000000000040030000000000000000000000000000000000000000000500060000000000";

    #[test]
    fn recorded_unix_dump_with_memory() {
        let datagram = hex(UNIX_MEMINFO_DUMP);
        let record = parse_unix(payloads(&datagram)[0]).unwrap();
        assert_eq!(record.name, Some(&b"\0rec-listener"[..]));
        let memory = crate::collect::tcp_info::SkMemInfo::new(record.meminfo);
        let slots: Vec<(&str, u32)> = memory.fields().collect();
        assert_eq!(slots.len(), 9);
        assert_eq!(slots[1], ("rcvbuf", 212_992));
        assert_eq!(slots[3], ("sndbuf", 212_992));
        assert_eq!(record.to_socket(2).skmem, record.meminfo);
        // the request asks for it only with --info
        let show = |meminfo| match unix_request(0, meminfo) {
            SockDiagMessage::UnixRequest(r) => r.show_flags.bits(),
            _ => unreachable!(),
        };
        assert_eq!(show(true) & !show(false), UDIAG_SHOW_MEMINFO);
    }

    #[test]
    fn short_or_odd_messages_do_not_panic() {
        assert!(parse_inet(InetProto::Tcp, &[0; 10]).is_err());
        assert!(parse_unix(&[1, 2, 3]).is_err());
        let mut unknown_family = vec![0u8; INET_DIAG_MSG_LEN];
        unknown_family[0] = 1; // AF_UNIX in an inet record
        assert_eq!(
            parse_inet(InetProto::Tcp, &unknown_family)
                .unwrap_err()
                .source,
            "inet_diag_msg"
        );
        // a full header followed by a truncated attribute is still a record
        let mut payload = vec![0u8; INET_DIAG_MSG_LEN];
        payload[0] = AF_INET;
        payload[1] = 99; // a state this code has never heard of
        payload.extend_from_slice(&[0xff, 0x00]);
        let socket = parse_inet(InetProto::Tcp, &payload).unwrap();
        assert_eq!(socket.state, 99);
    }

    #[test]
    fn raw_request_carries_the_protocol_filter() {
        let request = DiagSocket::encode_request(
            inet_request(InetProto::Raw, false, 1, Extensions::default()),
            7,
        );
        let request = with_raw_protocol_filter(request, 255);
        assert_eq!(
            u32::from_ne_bytes(request[..4].try_into().unwrap()) as usize,
            request.len()
        );
        assert_eq!(
            &request[request.len() - 8..request.len() - 4],
            &[8, 0, 8, 0]
        );
    }
    use crate::collect::netlink::DiagSocket;
}
