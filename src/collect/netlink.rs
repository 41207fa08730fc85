//! One netlink socket of any protocol (sock_diag, rtnetlink): send a dump
//! request, walk the replies in a reused receive buffer, hand each
//! message's type and payload to the caller.

use crate::error::{Error, Result};
use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NetlinkBuffer, NetlinkHeader,
    NetlinkMessage, NetlinkPayload, NetlinkSerializable,
};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_SOCK_DIAG};

/// Receive buffer size. The kernel fills at most about 32 KiB per dump
/// message batch; a larger buffer costs nothing and leaves headroom.
const RECV_BUFFER: usize = 64 * 1024;

/// How a dump ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpEnd {
    /// NLMSG_DONE after zero or more records.
    Done,
    /// The kernel refused the request before sending any record (for
    /// sock_diag: no diag handler for this family/protocol). Carries the
    /// errno.
    Unsupported(i32),
}

/// A netlink socket with its receive buffer, reused across dumps and
/// across `-c` ticks.
pub struct NetlinkDumper {
    socket: Socket,
    buffer: Vec<u8>,
    sequence: u32,
}

impl NetlinkDumper {
    /// Open and connect a netlink socket; `name` (e.g. `NETLINK_ROUTE`)
    /// names it in error messages.
    pub fn open(protocol: isize, name: &str) -> Result<Self> {
        let mut socket =
            Socket::new(protocol).map_err(|e| Error::netlink(format!("socket({name})"), e))?;
        socket
            .bind_auto()
            .map_err(|e| Error::netlink(format!("bind({name})"), e))?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(|e| Error::netlink(format!("connect({name})"), e))?;
        Ok(NetlinkDumper {
            socket,
            buffer: vec![0; RECV_BUFFER],
            sequence: 0,
        })
    }

    /// Ask the kernel to apply a dump request's filters itself
    /// (NETLINK_GET_STRICT_CHK); older kernels ignore it.
    pub fn set_strict_checking(&self) {
        let _ = self.socket.set_netlink_get_strict_chk(true);
    }

    /// Serialize `message` as a dump request with the next sequence number.
    pub fn request<M>(&mut self, message: M) -> Vec<u8>
    where
        M: NetlinkSerializable + Into<NetlinkPayload<M>>,
    {
        self.sequence = self.sequence.wrapping_add(1);
        encode_dump_request(message, self.sequence)
    }

    /// Send a serialized dump request and call `on_message` with the type
    /// and payload of every reply until the kernel says done.
    pub fn dump_raw(
        &mut self,
        request: &[u8],
        what: &str,
        mut on_message: impl FnMut(u16, &[u8]) -> Result<()>,
    ) -> Result<DumpEnd> {
        self.socket
            .send(request, 0)
            .map_err(|e| Error::netlink(format!("send {what} request"), e))?;
        let mut records = 0usize;
        loop {
            let mut space = &mut self.buffer[..];
            let received = self
                .socket
                .recv(&mut space, 0)
                .map_err(|e| Error::netlink(format!("receive {what} dump"), e))?;
            let datagram = &self.buffer[..received.min(RECV_BUFFER)];
            let mut offset = 0;
            while offset + 16 <= datagram.len() {
                let message = NetlinkBuffer::new_checked(&datagram[offset..]).map_err(|e| {
                    Error::Malformed {
                        what: format!("{what} netlink header: {e}"),
                    }
                })?;
                let length = message.length() as usize;
                if length < 16 {
                    return Err(Error::Malformed {
                        what: format!("{what}: message length {length}"),
                    });
                }
                match message.message_type() {
                    // A dump that fails reports its error either in an
                    // NLMSG_ERROR or in the status word of NLMSG_DONE.
                    NLMSG_DONE | NLMSG_ERROR => {
                        let code = message
                            .payload()
                            .get(..4)
                            .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                            .unwrap_or(0);
                        if code >= 0 {
                            return Ok(DumpEnd::Done);
                        }
                        if records == 0 {
                            return Ok(DumpEnd::Unsupported(-code));
                        }
                        return Err(Error::netlink(
                            format!("{what} dump"),
                            std::io::Error::from_raw_os_error(-code),
                        ));
                    }
                    kind => {
                        records += 1;
                        on_message(kind, message.payload())?;
                    }
                }
                offset += (length + 3) & !3;
            }
        }
    }

    /// Like [`dump_raw`](Self::dump_raw), where a refusal is an error too
    /// (rtnetlink dumps have no fallback).
    pub fn dump_all(
        &mut self,
        request: &[u8],
        what: &str,
        on_message: impl FnMut(u16, &[u8]) -> Result<()>,
    ) -> Result<()> {
        match self.dump_raw(request, what, on_message)? {
            DumpEnd::Done => Ok(()),
            DumpEnd::Unsupported(errno) => Err(Error::netlink(
                format!("{what} dump"),
                std::io::Error::from_raw_os_error(errno),
            )),
        }
    }
}

/// Serialize a netlink message with the dump flags set.
pub fn encode_dump_request<M>(message: M, sequence: u32) -> Vec<u8>
where
    M: NetlinkSerializable + Into<NetlinkPayload<M>>,
{
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    header.sequence_number = sequence;
    let mut packet = NetlinkMessage::new(header, message.into());
    packet.finalize();
    let mut bytes = vec![0; packet.buffer_len()];
    packet.serialize(&mut bytes);
    bytes
}

/// A sock_diag socket.
pub struct DiagSocket {
    dumper: NetlinkDumper,
}

impl DiagSocket {
    pub fn open() -> Result<Self> {
        Ok(DiagSocket {
            dumper: NetlinkDumper::open(NETLINK_SOCK_DIAG, "NETLINK_SOCK_DIAG")?,
        })
    }

    /// Serialize a sock_diag request with the dump flags set.
    pub fn encode_request(message: SockDiagMessage, sequence: u32) -> Vec<u8> {
        encode_dump_request(message, sequence)
    }

    /// Send `message` as a dump request and call `on_record` with the
    /// payload of every reply until the kernel says done.
    pub fn dump(
        &mut self,
        message: SockDiagMessage,
        what: &str,
        mut on_record: impl FnMut(&[u8]) -> Result<()>,
    ) -> Result<DumpEnd> {
        let request = self.dumper.request(message);
        self.dumper
            .dump_raw(&request, what, |_, payload| on_record(payload))
    }

    /// Like [`dump`](Self::dump) for a request already serialized (one that
    /// carries attributes the typed request cannot express).
    pub fn dump_raw(
        &mut self,
        request: &[u8],
        what: &str,
        mut on_record: impl FnMut(&[u8]) -> Result<()>,
    ) -> Result<DumpEnd> {
        self.dumper
            .dump_raw(request, what, |_, payload| on_record(payload))
    }
}
