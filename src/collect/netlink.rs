//! One NETLINK_SOCK_DIAG socket: send a dump request, walk the replies in a
//! reused receive buffer, hand each message's payload to the caller.

use crate::error::{Error, Result};
use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NetlinkBuffer, NetlinkHeader,
    NetlinkMessage, NetlinkPayload,
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
    /// The kernel refused the request before sending any record: no diag
    /// handler for this family/protocol. Carries the errno.
    Unsupported(i32),
}

/// A sock_diag socket with its receive buffer, reused across dumps and
/// across `-c` ticks.
pub struct DiagSocket {
    socket: Socket,
    buffer: Vec<u8>,
    sequence: u32,
}

impl DiagSocket {
    pub fn open() -> Result<Self> {
        let mut socket = Socket::new(NETLINK_SOCK_DIAG)
            .map_err(|e| Error::netlink("socket(NETLINK_SOCK_DIAG)", e))?;
        socket
            .bind_auto()
            .map_err(|e| Error::netlink("bind(NETLINK_SOCK_DIAG)", e))?;
        socket
            .connect(&SocketAddr::new(0, 0))
            .map_err(|e| Error::netlink("connect(NETLINK_SOCK_DIAG)", e))?;
        Ok(DiagSocket {
            socket,
            buffer: vec![0; RECV_BUFFER],
            sequence: 0,
        })
    }

    /// Serialize a sock_diag request with the dump flags set.
    pub fn encode_request(message: SockDiagMessage, sequence: u32) -> Vec<u8> {
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | NLM_F_DUMP;
        header.sequence_number = sequence;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(message));
        packet.finalize();
        let mut bytes = vec![0; packet.buffer_len()];
        packet.serialize(&mut bytes);
        bytes
    }

    /// Send `message` as a dump request and call `on_record` with the
    /// payload of every reply until the kernel says done.
    pub fn dump(
        &mut self,
        message: SockDiagMessage,
        what: &str,
        on_record: impl FnMut(&[u8]) -> Result<()>,
    ) -> Result<DumpEnd> {
        self.sequence = self.sequence.wrapping_add(1);
        let request = Self::encode_request(message, self.sequence);
        self.dump_raw(&request, what, on_record)
    }

    /// Like [`dump`](Self::dump) for a request already serialized (one that
    /// carries attributes the typed request cannot express).
    pub fn dump_raw(
        &mut self,
        request: &[u8],
        what: &str,
        mut on_record: impl FnMut(&[u8]) -> Result<()>,
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
                        let payload = message.payload();
                        let code = payload
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
                    _ => {
                        records += 1;
                        on_record(message.payload())?;
                    }
                }
                offset += (length + 3) & !3;
            }
        }
    }
}
