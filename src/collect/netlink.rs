//! One netlink socket of any protocol (sock_diag, rtnetlink): send a dump
//! request, walk the replies in a reused receive buffer, hand each
//! message's type and payload to the caller.
//!
//! The socket sits behind [`Transport`], so unit tests and fuzz targets can
//! replay recorded or crafted datagrams ([`Replay`]) through the same
//! message walker a real dump uses, with the faults a real kernel produces
//! only rarely (EINTR, ENOBUFS, NLM_F_DUMP_INTR, a dump that stalls).
//!
//! What the walker guarantees:
//! - every request carries a fresh sequence number, and replies with
//!   another one (the rest of a dump an earlier error abandoned) are
//!   skipped;
//! - a dump that ended early leaves the kernel's dump running on that
//!   socket (a new request would fail with EBUSY), so the socket is
//!   replaced before the next dump;
//! - EINTR is retried; ENOBUFS, a reply that does not come within
//!   [`RECV_TIMEOUT`] and NLM_F_DUMP_INTR are [`Error::Dump`]s, so a
//!   table is never silently cut short (callers that gather a whole dump
//!   before printing retry it, see [`retry_interrupted`]);
//! - past its first datagrams, a dump is received on a second thread and
//!   walked in order on the caller's, so the kernel's share (it builds each
//!   datagram inside the receive) runs beside the caller's parsing and
//!   printing.

use crate::error::{DumpProblem, Error, ParseError, Result, Skipped};
use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload, NetlinkSerializable,
};
use netlink_packet_sock_diag::SockDiagMessage;
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_SOCK_DIAG};
use std::collections::VecDeque;
use std::io;
use std::sync::mpsc;
use std::time::Duration;

/// Receive buffer size. The kernel fills at most about 32 KiB per dump
/// message batch; a larger buffer costs nothing and leaves headroom.
const RECV_BUFFER: usize = 64 * 1024;

/// How long one receive may wait for the kernel. A dump's next datagram is
/// produced inside the receive call itself, so a healthy kernel answers in
/// milliseconds even with hundreds of thousands of sockets; this bound only
/// turns a stalled dump into an error instead of a hang.
pub const RECV_TIMEOUT: Duration = Duration::from_secs(30);

/// Datagrams of a dump walked as they are received, before the rest is
/// received on another thread ([`NetlinkDumper::walk_read_ahead`]): small
/// dumps (a few thousand sockets) never start one.
const INLINE_DATAGRAMS: usize = 4;

/// Received datagrams waiting to be walked, at most.
const READ_AHEAD: usize = 4;

/// EINTRs in a row after which a dump gives up (a signal storm).
const MAX_INTERRUPTED_RECEIVES: u32 = 1000;

/// How often a gathered dump is retried after NLM_F_DUMP_INTR or ENOBUFS.
pub const DUMP_RETRIES: usize = 3;

pub(crate) const NLMSG_HDRLEN: usize = 16;
const NLMSG_NOOP: u16 = 1;
pub(crate) const NLMSG_ERROR: u16 = 2;
pub(crate) const NLMSG_DONE: u16 = 3;
const NLMSG_OVERRUN: u16 = 4;
/// Types below this are netlink's own control messages, not records.
const NLMSG_MIN_TYPE: u16 = 0x10;
/// The kernel's mark on a dump that raced with changes to what it walks.
pub const NLM_F_DUMP_INTR: u16 = 0x10;

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

/// Where netlink datagrams come from: the kernel, or a replay.
pub trait Transport: Send {
    /// Send one request.
    fn send(&mut self, request: &[u8]) -> io::Result<()>;
    /// Receive one datagram into `buffer`; returns its length.
    fn recv(&mut self, buffer: &mut [u8]) -> io::Result<usize>;
    /// Start over on a fresh socket (after a dump was abandoned midway).
    fn reopen(&mut self) -> io::Result<()>;
}

/// A real netlink socket, bound and connected to the kernel.
struct KernelSocket {
    socket: Socket,
    protocol: isize,
    strict: bool,
}

impl KernelSocket {
    fn open(protocol: isize, strict: bool) -> io::Result<Socket> {
        let mut socket = Socket::new(protocol)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        let timeout = libc::timeval {
            tv_sec: RECV_TIMEOUT.as_secs() as libc::time_t,
            tv_usec: 0,
        };
        // SAFETY: a valid fd and a timeval of the size passed.
        unsafe {
            use std::os::fd::AsRawFd;
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&timeout as *const libc::timeval).cast(),
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            );
        }
        if strict {
            let _ = socket.set_netlink_get_strict_chk(true);
        }
        Ok(socket)
    }
}

impl Transport for KernelSocket {
    fn send(&mut self, request: &[u8]) -> io::Result<()> {
        self.socket.send(request, 0).map(|_| ())
    }

    fn recv(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let mut space = &mut buffer[..];
        self.socket.recv(&mut space, 0)
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.socket = KernelSocket::open(self.protocol, self.strict)?;
        Ok(())
    }
}

/// Datagrams handed out in order, as a kernel would answer one dump after
/// another: recorded replies or crafted faults, for tests and fuzz targets.
/// A queued `Err` is what that receive returns; once the queue is empty a
/// receive times out, as a stalled kernel would.
#[derive(Default)]
pub struct Replay {
    queue: VecDeque<io::Result<Vec<u8>>>,
    /// Rewrite each message's sequence number to the last request's, so
    /// replies recorded elsewhere (or fuzzed) answer this request.
    renumber: bool,
    sequence: u32,
    /// How many requests were sent and how often the socket was reopened.
    pub sent: usize,
    pub reopened: usize,
}

impl Replay {
    /// Replies whose sequence numbers are rewritten to match each request.
    pub fn renumbering() -> Replay {
        Replay {
            renumber: true,
            ..Replay::default()
        }
    }

    /// Queue one datagram.
    pub fn datagram(mut self, bytes: impl Into<Vec<u8>>) -> Replay {
        self.queue.push_back(Ok(bytes.into()));
        self
    }

    /// Queue an error for one receive.
    pub fn error(mut self, error: io::Error) -> Replay {
        self.queue.push_back(Err(error));
        self
    }
}

impl Transport for Replay {
    fn send(&mut self, request: &[u8]) -> io::Result<()> {
        self.sent += 1;
        if let Some(sequence) = request.get(8..12) {
            self.sequence =
                u32::from_ne_bytes([sequence[0], sequence[1], sequence[2], sequence[3]]);
        }
        Ok(())
    }

    fn recv(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let datagram = match self.queue.pop_front() {
            Some(Ok(datagram)) => datagram,
            Some(Err(e)) => return Err(e),
            None => return Err(io::Error::from(io::ErrorKind::WouldBlock)),
        };
        let length = datagram.len().min(buffer.len());
        buffer[..length].copy_from_slice(&datagram[..length]);
        if self.renumber {
            renumber(&mut buffer[..length], self.sequence);
        }
        Ok(length)
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.reopened += 1;
        Ok(())
    }
}

/// Rewrite every message's sequence number in a datagram to `sequence`,
/// so replies recorded elsewhere answer this request.
pub(crate) fn renumber(datagram: &mut [u8], sequence: u32) {
    let mut offset = 0;
    while let Some(header) = datagram.get(offset..offset + NLMSG_HDRLEN) {
        let size = u32::from_ne_bytes([header[0], header[1], header[2], header[3]]) as usize;
        datagram[offset + 8..offset + 12].copy_from_slice(&sequence.to_ne_bytes());
        if size < NLMSG_HDRLEN {
            break;
        }
        offset = offset.saturating_add(align(size));
    }
}

fn align(length: usize) -> usize {
    length.saturating_add(3) & !3
}

/// What one dump has seen so far.
#[derive(Debug, Clone, Copy)]
pub struct DumpState {
    /// The request's sequence number; replies with another are stale.
    pub sequence: u32,
    /// Records handed to the caller.
    pub records: usize,
    /// Messages skipped because they answered an earlier request.
    pub stale: usize,
    /// Some message carried NLM_F_DUMP_INTR.
    pub interrupted: bool,
}

impl DumpState {
    pub fn new(sequence: u32) -> DumpState {
        DumpState {
            sequence,
            records: 0,
            stale: 0,
            interrupted: false,
        }
    }
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// One netlink message of a datagram: its header's fields and payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    pub message_type: u16,
    pub flags: u16,
    pub sequence: u32,
    /// The bytes after the 16-byte netlink header, up to the message length.
    pub payload: &'a [u8],
}

impl Message<'_> {
    /// NLMSG_DONE or NLMSG_ERROR: ends a dump rather than describing a socket.
    pub fn is_control(&self) -> bool {
        matches!(self.message_type, NLMSG_DONE | NLMSG_ERROR)
    }
}

/// The message at `offset` of `datagram`, and the offset of the next one.
/// `None` when fewer bytes than a header remain (the kernel's NLMSG_OK
/// ignores them); `Some(Err(length))` when the message's length is shorter
/// than a header or runs past the datagram. The one reader of netlink
/// headers, for dumps ([`walk_datagram`]) and recordings alike.
#[inline]
pub fn message_at(
    datagram: &[u8],
    offset: usize,
) -> Option<std::result::Result<(Message<'_>, usize), usize>> {
    let header = datagram.get(offset..offset + NLMSG_HDRLEN)?;
    let length = u32_at(header, 0) as usize;
    if length < NLMSG_HDRLEN || length > datagram.len() - offset {
        return Some(Err(length));
    }
    let message = Message {
        message_type: u16::from_ne_bytes([header[4], header[5]]),
        flags: u16::from_ne_bytes([header[6], header[7]]),
        sequence: u32_at(header, 8),
        payload: &datagram[offset + NLMSG_HDRLEN..offset + length],
    };
    Some(Ok((message, offset.saturating_add(align(length)))))
}

/// Walk the messages of one received datagram: records go to
/// `on_message` (type, payload); `Some` once the dump has ended. Bytes
/// after the last whole message (fewer than a header) are ignored, as the
/// kernel's NLMSG_OK ignores them.
pub fn walk_datagram(
    datagram: &[u8],
    what: &str,
    state: &mut DumpState,
    on_message: &mut dyn FnMut(u16, &[u8]) -> Result<()>,
) -> Result<Option<DumpEnd>> {
    let mut offset = 0;
    while let Some(read) = message_at(datagram, offset) {
        let (message, next) = match read {
            Ok(read) => read,
            Err(length) => {
                return Err(Error::Malformed {
                    what: format!(
                        "{what}: netlink message length {length} at offset {offset} of a {}-byte datagram",
                        datagram.len()
                    ),
                });
            }
        };
        offset = next;
        let payload = message.payload;
        if message.sequence != state.sequence {
            state.stale += 1;
            continue;
        }
        if message.flags & NLM_F_DUMP_INTR != 0 {
            state.interrupted = true;
        }
        match message.message_type {
            // A dump that fails reports its error either in an
            // NLMSG_ERROR or in the status word of NLMSG_DONE.
            NLMSG_DONE | NLMSG_ERROR => {
                let code = payload
                    .get(..4)
                    .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                    .unwrap_or(0);
                if code >= 0 {
                    if state.interrupted {
                        return Err(Error::dump(what, DumpProblem::Interrupted));
                    }
                    return Ok(Some(DumpEnd::Done));
                }
                let errno = code.checked_neg().unwrap_or(i32::MAX);
                if state.records == 0 {
                    return Ok(Some(DumpEnd::Unsupported(errno)));
                }
                return Err(Error::netlink(
                    format!("{what} dump"),
                    io::Error::from_raw_os_error(errno),
                ));
            }
            NLMSG_OVERRUN => return Err(Error::dump(what, DumpProblem::Overrun)),
            NLMSG_NOOP => {}
            kind if kind < NLMSG_MIN_TYPE => {}
            kind => {
                state.records += 1;
                on_message(kind, payload)?;
            }
        }
    }
    Ok(None)
}

/// Run `dump` again (up to [`DUMP_RETRIES`] more times) while it fails
/// with NLM_F_DUMP_INTR or ENOBUFS: for callers that gather the whole
/// dump before printing anything, so a retry cannot repeat a row.
pub fn retry_interrupted<T>(mut dump: impl FnMut() -> Result<T>) -> Result<T> {
    let mut attempt = 0;
    loop {
        match dump() {
            Err(Error::Dump { problem, .. })
                if attempt < DUMP_RETRIES
                    && matches!(problem, DumpProblem::Interrupted | DumpProblem::Overrun) =>
            {
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// A netlink socket with its receive buffer, reused across dumps and
/// across `-c` ticks.
pub struct NetlinkDumper {
    transport: Box<dyn Transport>,
    buffer: Vec<u8>,
    sequence: u32,
    /// The last dump stopped before its end: the kernel may still be
    /// running it on this socket.
    abandoned: bool,
}

impl NetlinkDumper {
    /// Open and connect a netlink socket; `name` (e.g. `NETLINK_ROUTE`)
    /// names it in error messages.
    pub fn open(protocol: isize, name: &str) -> Result<Self> {
        Self::open_with(protocol, name, false)
    }

    /// Like [`open`](Self::open), asking the kernel to apply a dump
    /// request's filters itself (NETLINK_GET_STRICT_CHK; older kernels
    /// ignore it).
    pub fn open_strict(protocol: isize, name: &str) -> Result<Self> {
        Self::open_with(protocol, name, true)
    }

    fn open_with(protocol: isize, name: &str, strict: bool) -> Result<Self> {
        let socket = KernelSocket::open(protocol, strict)
            .map_err(|e| Error::netlink(format!("socket({name})"), e))?;
        Ok(Self::with_transport(Box::new(KernelSocket {
            socket,
            protocol,
            strict,
        })))
    }

    /// A dumper over any transport (a [`Replay`] in tests).
    pub fn with_transport(transport: Box<dyn Transport>) -> Self {
        NetlinkDumper {
            transport,
            buffer: vec![0; RECV_BUFFER],
            sequence: 0,
            abandoned: false,
        }
    }

    /// Serialize `message` as a dump request (its sequence number is set
    /// when it is sent).
    pub fn request<M>(&mut self, message: M) -> Vec<u8>
    where
        M: NetlinkSerializable + Into<NetlinkPayload<M>>,
    {
        encode_dump_request(message, 0)
    }

    /// Send a serialized dump request (with the next sequence number
    /// written into it) and call `on_message` with the type and payload of
    /// every reply until the kernel says done.
    pub fn dump_raw(
        &mut self,
        request: &[u8],
        what: &str,
        mut on_message: impl FnMut(u16, &[u8]) -> Result<()>,
    ) -> Result<DumpEnd> {
        if self.abandoned {
            self.transport
                .reopen()
                .map_err(|e| Error::netlink(format!("reopen socket for {what}"), e))?;
            self.abandoned = false;
        }
        self.abandoned = true;
        let result = self.dump_once(request, what, &mut on_message);
        self.abandoned = result.is_err();
        result
    }

    fn dump_once(
        &mut self,
        request: &[u8],
        what: &str,
        on_message: &mut dyn FnMut(u16, &[u8]) -> Result<()>,
    ) -> Result<DumpEnd> {
        self.sequence = self.sequence.wrapping_add(1).max(1);
        let mut request = request.to_vec();
        if let Some(field) = request.get_mut(8..12) {
            field.copy_from_slice(&self.sequence.to_ne_bytes());
        }
        let mut interrupted = 0;
        loop {
            match self.transport.send(&request) {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    interrupted += 1;
                    if interrupted >= MAX_INTERRUPTED_RECEIVES {
                        return Err(Error::netlink(format!("send {what} request"), e));
                    }
                }
                Err(e) => return Err(Error::netlink(format!("send {what} request"), e)),
            }
        }
        let mut state = DumpState::new(self.sequence);
        if let Some(end) = self.walk_inline(what, &mut state, on_message, Some(INLINE_DATAGRAMS))? {
            return Ok(end);
        }
        match self.walk_read_ahead(what, &mut state, on_message) {
            Some(end) => end,
            // no thread to be had (a pids limit): the rest here, in turn
            None => self
                .walk_inline(what, &mut state, on_message, None)
                .map(|end| end.unwrap_or(DumpEnd::Done)),
        }
    }

    /// Receive and walk datagrams in turn, at most `limit` of them; `None`
    /// when the dump goes on past them.
    fn walk_inline(
        &mut self,
        what: &str,
        state: &mut DumpState,
        on_message: &mut dyn FnMut(u16, &[u8]) -> Result<()>,
        limit: Option<usize>,
    ) -> Result<Option<DumpEnd>> {
        for _ in 0..limit.unwrap_or(usize::MAX) {
            let received = receive(&mut *self.transport, &mut self.buffer)
                .map_err(|e| receive_error(what, e))?;
            let datagram = &self.buffer[..received.min(RECV_BUFFER)];
            if let Some(end) = walk_received(datagram, what, state, on_message)? {
                return Ok(Some(end));
            }
        }
        Ok(None)
    }

    /// The rest of a long dump: another thread receives (the kernel builds
    /// each datagram inside that receive, so its share of the work runs
    /// there) while this one walks what was received; on two cores a large
    /// dump takes about the longer of the two instead of their sum. `None`
    /// when the system gives no thread (nothing received yet).
    fn walk_read_ahead(
        &mut self,
        what: &str,
        state: &mut DumpState,
        on_message: &mut dyn FnMut(u16, &[u8]) -> Result<()>,
    ) -> Option<Result<DumpEnd>> {
        let sequence = state.sequence;
        let transport = &mut *self.transport;
        std::thread::scope(|scope| {
            let (full, received) = mpsc::sync_channel(READ_AHEAD);
            let (spare, empty) = mpsc::channel();
            for _ in 0..READ_AHEAD {
                let _ = spare.send(vec![0; RECV_BUFFER]);
            }
            std::thread::Builder::new()
                .spawn_scoped(scope, move || {
                    read_ahead(transport, sequence, &empty, &full)
                })
                .ok()?;
            let result = loop {
                let (buffer, length): (Vec<u8>, usize) = match received.recv() {
                    Ok(Ok(filled)) => filled,
                    Ok(Err(e)) => break Err(receive_error(what, e)),
                    Err(_) => break Err(Error::dump(what, DumpProblem::Stalled(RECV_TIMEOUT))),
                };
                let datagram = &buffer[..length.min(RECV_BUFFER)];
                match walk_received(datagram, what, state, on_message) {
                    Ok(Some(end)) => break Ok(end),
                    Ok(None) => {}
                    Err(e) => break Err(e),
                }
                let _ = spare.send(buffer);
            };
            // the receiving thread stops at its next hand-over
            drop((received, spare));
            Some(result)
        })
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
                io::Error::from_raw_os_error(errno),
            )),
        }
    }

    /// Like [`dump_all`](Self::dump_all), handing `on_record` the replies
    /// of type `kind` as `parse` reads them (`None`: not one the caller
    /// wants). A reply that does not parse is skipped rather than ending
    /// the table; one line on stderr names `what`, how many and the first
    /// reason.
    pub fn dump_parsed<T>(
        &mut self,
        request: &[u8],
        what: &str,
        kind: u16,
        parse: impl Fn(&[u8]) -> std::result::Result<Option<T>, ParseError>,
        mut on_record: impl FnMut(T) -> Result<()>,
    ) -> Result<()> {
        let mut skipped = Skipped::default();
        let result = self.dump_all(request, what, |message_type, payload| {
            if message_type == kind {
                match parse(payload) {
                    Ok(Some(record)) => on_record(record)?,
                    Ok(None) => {}
                    Err(e) => skipped.add(e),
                }
            }
            Ok(())
        });
        skipped.warn(what);
        result
    }
}

/// Receive one datagram, retrying EINTR a bounded number of times.
fn receive(transport: &mut dyn Transport, buffer: &mut [u8]) -> io::Result<usize> {
    let mut interrupted = 0;
    loop {
        match transport.recv(buffer) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                interrupted += 1;
                if interrupted >= MAX_INTERRUPTED_RECEIVES {
                    return Err(e);
                }
            }
            received => return received,
        }
    }
}

/// What a failed receive means for the dump `what`.
fn receive_error(what: &str, e: io::Error) -> Error {
    match e.raw_os_error() {
        Some(libc::ENOBUFS) => Error::dump(what, DumpProblem::Overrun),
        _ if matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) =>
        {
            Error::dump(what, DumpProblem::Stalled(RECV_TIMEOUT))
        }
        _ => Error::netlink(format!("receive {what} dump"), e),
    }
}

/// Walk one received datagram; an empty one is malformed.
fn walk_received(
    datagram: &[u8],
    what: &str,
    state: &mut DumpState,
    on_message: &mut dyn FnMut(u16, &[u8]) -> Result<()>,
) -> Result<Option<DumpEnd>> {
    if datagram.is_empty() {
        return Err(Error::Malformed {
            what: format!("{what}: an empty datagram"),
        });
    }
    walk_datagram(datagram, what, state, on_message)
}

/// The receiving side of [`NetlinkDumper::walk_read_ahead`]: fill the
/// spare buffers in turn until the datagram that ends the dump (or a
/// failed receive) is handed over, or the walker has gone.
fn read_ahead(
    transport: &mut dyn Transport,
    sequence: u32,
    empty: &mpsc::Receiver<Vec<u8>>,
    full: &mpsc::SyncSender<io::Result<(Vec<u8>, usize)>>,
) {
    while let Ok(mut buffer) = empty.recv() {
        let received = receive(transport, &mut buffer);
        let last = match received {
            Ok(length) => ends_dump(&buffer[..length.min(buffer.len())], sequence),
            Err(_) => true,
        };
        if full.send(received.map(|length| (buffer, length))).is_err() || last {
            return;
        }
    }
}

/// Whether [`walk_received`] stops at this datagram whatever its records
/// hold: it is empty or malformed, or carries this dump's DONE, ERROR or
/// OVERRUN. The receiving thread must not wait for a datagram after it.
fn ends_dump(datagram: &[u8], sequence: u32) -> bool {
    if datagram.is_empty() {
        return true;
    }
    let mut offset = 0;
    while let Some(read) = message_at(datagram, offset) {
        let Ok((message, next)) = read else {
            return true;
        };
        if message.sequence == sequence
            && matches!(
                message.message_type,
                NLMSG_DONE | NLMSG_ERROR | NLMSG_OVERRUN
            )
        {
            return true;
        }
        offset = next;
    }
    false
}

/// Serialize a netlink message with the dump flags set.
pub fn encode_dump_request<M>(message: M, sequence: u32) -> Vec<u8>
where
    M: NetlinkSerializable + Into<NetlinkPayload<M>>,
{
    encode_request(message, NLM_F_REQUEST | NLM_F_DUMP, sequence)
}

/// Serialize a netlink message with the header `flags` given.
pub fn encode_request<M>(message: M, flags: u16, sequence: u32) -> Vec<u8>
where
    M: NetlinkSerializable + Into<NetlinkPayload<M>>,
{
    let mut header = NetlinkHeader::default();
    header.flags = flags;
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
    /// The kernel's sock_diag; under `--replay` the tick being replayed,
    /// and under `--record` the kernel's, recorded.
    pub fn open() -> Result<Self> {
        if super::tape::replaying() {
            return Ok(Self::with_transport(Box::<super::tape::Played>::default()));
        }
        let dumper = NetlinkDumper::open(NETLINK_SOCK_DIAG, "NETLINK_SOCK_DIAG")?;
        if super::tape::recording() {
            return Ok(Self::with_transport(Box::new(super::tape::Tee::new(
                dumper.transport,
            ))));
        }
        Ok(DiagSocket { dumper })
    }

    /// A sock_diag "socket" over any transport (a [`Replay`] in tests).
    pub fn with_transport(transport: Box<dyn Transport>) -> Self {
        DiagSocket {
            dumper: NetlinkDumper::with_transport(transport),
        }
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

#[cfg(test)]
mod tests {
    //! Faults a real kernel produces only rarely, through the seam: each
    //! test replays crafted datagrams (see [`Replay`]) through the same
    //! walker a live dump uses. (The live paths are covered by the
    //! namespace tests in tests/netstat_diff/faults.rs.)

    use super::*;

    /// One netlink message: header (sequence 0: the replay renumbers it)
    /// and payload.
    fn message(kind: u16, flags: u16, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&((NLMSG_HDRLEN + payload.len()) as u32).to_ne_bytes());
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(&flags.to_ne_bytes());
        out.extend_from_slice(&0u32.to_ne_bytes());
        out.extend_from_slice(&0u32.to_ne_bytes());
        out.extend_from_slice(payload);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out
    }

    fn record(n: u8) -> Vec<u8> {
        message(20, 2, &[n; 8])
    }

    fn done(flags: u16) -> Vec<u8> {
        message(NLMSG_DONE, 2 | flags, &0i32.to_ne_bytes())
    }

    fn run(replay: Replay) -> (Result<DumpEnd>, Vec<u8>, usize) {
        let mut dumper = NetlinkDumper::with_transport(Box::new(replay));
        let mut seen = Vec::new();
        let result = dumper.dump_raw(&[0u8; 16], "test", |_, payload| {
            seen.push(payload[0]);
            Ok(())
        });
        (result, seen, dumper.sequence as usize)
    }

    #[test]
    fn records_then_done() {
        let mut first = record(1);
        first.extend(record(2));
        let replay = Replay::renumbering().datagram(first).datagram(done(0));
        let (result, seen, _) = run(replay);
        assert_eq!(result.unwrap(), DumpEnd::Done);
        assert_eq!(seen, [1, 2]);
    }

    /// EINTR from a signal during the dump (seam): the receive is retried
    /// and no record is lost or repeated.
    #[test]
    fn eintr_is_retried() {
        let replay = Replay::renumbering()
            .datagram(record(1))
            .error(io::Error::from_raw_os_error(libc::EINTR))
            .error(io::Error::from_raw_os_error(libc::EINTR))
            .datagram(record(2))
            .datagram(done(0));
        let (result, seen, _) = run(replay);
        assert_eq!(result.unwrap(), DumpEnd::Done);
        assert_eq!(seen, [1, 2]);
    }

    /// ENOBUFS (seam): the dump cannot go on; one error that says so, and
    /// the socket is replaced before the next dump.
    #[test]
    fn enobufs_is_an_overrun_and_the_socket_is_replaced() {
        let replay = Replay::renumbering()
            .datagram(record(1))
            .error(io::Error::from_raw_os_error(libc::ENOBUFS))
            .datagram(record(2))
            .datagram(done(0));
        let mut dumper = NetlinkDumper::with_transport(Box::new(replay));
        let error = dumper
            .dump_raw(&[0u8; 16], "sock_diag tcp", |_, _| Ok(()))
            .unwrap_err();
        assert!(matches!(
            error,
            Error::Dump {
                problem: DumpProblem::Overrun,
                ..
            }
        ));
        let text = error.to_string();
        assert!(text.starts_with("netlink sock_diag tcp dump: "), "{text}");
        assert!(text.contains("ENOBUFS"), "{text}");
        assert!(dumper.abandoned);
        // The next dump starts on a fresh socket and reads its own reply.
        let mut seen = 0;
        let end = dumper
            .dump_raw(&[0u8; 16], "sock_diag tcp", |_, _| {
                seen += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!((end, seen), (DumpEnd::Done, 1));
        assert!(!dumper.abandoned);
    }

    /// NLM_F_DUMP_INTR (seam): the records still arrive, then the dump
    /// ends in an error naming the flag, never in a silent `Done`.
    #[test]
    fn dump_intr_is_reported_after_the_records() {
        let mut first = record(1);
        first.extend(message(20, 2 | NLM_F_DUMP_INTR, &[2; 8]));
        let replay = Replay::renumbering().datagram(first).datagram(done(0));
        let (result, seen, _) = run(replay);
        assert_eq!(seen, [1, 2]);
        let text = result.unwrap_err().to_string();
        assert!(text.contains("NLM_F_DUMP_INTR"), "{text}");
        // The kernel sets the flag on NLMSG_DONE too (nl_dump_check_consistent).
        let replay = Replay::renumbering()
            .datagram(record(1))
            .datagram(done(NLM_F_DUMP_INTR));
        assert!(matches!(
            run(replay).0,
            Err(Error::Dump {
                problem: DumpProblem::Interrupted,
                ..
            })
        ));
    }

    /// A gathering caller retries an interrupted dump and gets a
    /// consistent one; after DUMP_RETRIES interrupted ones it reports.
    #[test]
    fn gathered_dumps_are_retried_a_bounded_number_of_times() {
        let mut replay = Replay::renumbering();
        for _ in 0..2 {
            replay = replay.datagram(record(9)).datagram(done(NLM_F_DUMP_INTR));
        }
        replay = replay.datagram(record(1)).datagram(done(0));
        let mut dumper = NetlinkDumper::with_transport(Box::new(replay));
        let mut rows = Vec::new();
        let mut attempts = 0;
        retry_interrupted(|| {
            attempts += 1;
            rows.clear();
            dumper.dump_all(&[0u8; 16], "RTM_GETLINK", |_, p| {
                rows.push(p[0]);
                Ok(())
            })
        })
        .unwrap();
        assert_eq!((attempts, rows), (3, vec![1]));

        let mut replay = Replay::renumbering();
        for _ in 0..=DUMP_RETRIES {
            replay = replay.datagram(record(9)).datagram(done(NLM_F_DUMP_INTR));
        }
        let mut dumper = NetlinkDumper::with_transport(Box::new(replay));
        attempts = 0;
        let result = retry_interrupted(|| {
            attempts += 1;
            dumper.dump_all(&[0u8; 16], "RTM_GETLINK", |_, _| Ok(()))
        });
        assert_eq!(attempts, DUMP_RETRIES + 1);
        assert!(result.is_err());
    }

    /// Replies to an earlier, abandoned request are skipped, not taken for
    /// this dump's records or its end.
    #[test]
    fn stale_replies_are_skipped() {
        let mut stale = record(7);
        stale.extend(done(0));
        // sequence 99 answers nothing we asked
        for chunk in [0, stale.len() - 20] {
            stale[chunk + 8..chunk + 12].copy_from_slice(&99u32.to_ne_bytes());
        }
        let mut fresh = record(1);
        fresh.extend(done(0));
        fresh[8..12].copy_from_slice(&1u32.to_ne_bytes());
        let at = fresh.len() - 20;
        fresh[at + 8..at + 12].copy_from_slice(&1u32.to_ne_bytes());
        let replay = Replay::default().datagram(stale).datagram(fresh);
        let (result, seen, _) = run(replay);
        assert_eq!(result.unwrap(), DumpEnd::Done);
        assert_eq!(seen, [1]);
    }

    /// `n` datagrams of one record each, records 1..=n.
    fn long_dump(n: u8) -> Replay {
        (1..=n).fold(Replay::renumbering(), |replay, i| {
            replay.datagram(record(i))
        })
    }

    /// A dump longer than INLINE_DATAGRAMS is received on another thread
    /// and walked here: every record once, in order, and the dumper is
    /// ready for the next dump on the same socket.
    #[test]
    fn long_dumps_are_received_ahead_in_order() {
        let n = (INLINE_DATAGRAMS + 3 * READ_AHEAD) as u8;
        let (result, seen, _) = run(long_dump(n).datagram(done(0)));
        assert_eq!(result.unwrap(), DumpEnd::Done);
        assert_eq!(seen, (1..=n).collect::<Vec<u8>>());
        // a stale DONE (another request's) in the read-ahead part does not
        // end the dump, nor stop the receiving thread (no renumbering here:
        // the first request is sequence 1)
        let numbered = |mut bytes: Vec<u8>, sequence: u32| {
            bytes[8..12].copy_from_slice(&sequence.to_ne_bytes());
            bytes
        };
        let replay = (1..=n)
            .fold(Replay::default(), |r, i| r.datagram(numbered(record(i), 1)))
            .datagram(numbered(done(0), 99))
            .datagram(numbered(record(200), 1))
            .datagram(numbered(done(0), 1));
        let mut dumper = NetlinkDumper::with_transport(Box::new(replay));
        let mut seen = Vec::new();
        let end = dumper.dump_raw(&[0u8; 16], "test", |_, p| {
            seen.push(p[0]);
            Ok(())
        });
        assert_eq!(end.unwrap(), DumpEnd::Done);
        assert_eq!(seen.len(), usize::from(n) + 1);
        assert_eq!(seen.last(), Some(&200));
    }

    /// Faults while receiving ahead are the same errors as inline: ENOBUFS
    /// is an overrun, a dry kernel a stall, a bad length malformed; EINTR
    /// is retried there too.
    #[test]
    fn faults_while_receiving_ahead() {
        let n = (INLINE_DATAGRAMS + 2) as u8;
        let enobufs = long_dump(n).error(io::Error::from_raw_os_error(libc::ENOBUFS));
        let text = run(enobufs).0.unwrap_err().to_string();
        assert!(
            text.contains("overrun") || text.contains("ENOBUFS") || text.contains("buffer"),
            "{text}"
        );
        let text = run(long_dump(n)).0.unwrap_err().to_string();
        assert!(text.contains("no reply"), "{text}");
        let mut bad = record(9);
        bad[0..4].copy_from_slice(&1000u32.to_ne_bytes());
        let text = run(long_dump(n).datagram(bad)).0.unwrap_err().to_string();
        assert!(text.contains("length 1000"), "{text}");
        let eintr = long_dump(n)
            .error(io::Error::from_raw_os_error(libc::EINTR))
            .datagram(record(50))
            .datagram(done(0));
        let (result, seen, _) = run(eintr);
        assert_eq!(result.unwrap(), DumpEnd::Done);
        assert_eq!(seen.last(), Some(&50));
    }

    /// The walker failing mid-dump (a closed pipe while printing) ends the
    /// dump at once: the receiving thread stops at its next hand-over, the
    /// error is the walker's, and the next dump starts on a fresh socket.
    #[test]
    fn a_walker_error_stops_the_receiving_thread() {
        let n = (INLINE_DATAGRAMS + 4 * READ_AHEAD) as u8;
        let mut dumper = NetlinkDumper::with_transport(Box::new(long_dump(n).datagram(done(0))));
        let mut seen = 0;
        let stop_at = INLINE_DATAGRAMS + 2;
        let error = dumper
            .dump_raw(&[0u8; 16], "test", |_, _| {
                seen += 1;
                if seen == stop_at {
                    return Err(Error::netlink(
                        "write",
                        io::Error::from_raw_os_error(libc::EPIPE),
                    ));
                }
                Ok(())
            })
            .unwrap_err();
        assert_eq!(seen, stop_at);
        assert!(error.to_string().contains("write"), "{error}");
        assert!(dumper.abandoned);
    }

    /// A kernel that stops answering mid-dump (seam: the replay runs dry
    /// like a receive timing out) is an error, not a hang.
    #[test]
    fn a_stalled_dump_is_an_error() {
        let replay = Replay::renumbering().datagram(record(1));
        let text = run(replay).0.unwrap_err().to_string();
        assert!(text.contains("no reply"), "{text}");
    }

    #[test]
    fn bad_lengths_are_malformed_not_panics() {
        for length in [0u32, 8, 15, 17, 1 << 20, u32::MAX] {
            let mut bytes = record(1);
            bytes[..4].copy_from_slice(&length.to_ne_bytes());
            let mut state = DumpState::new(0);
            let result = walk_datagram(&bytes, "x", &mut state, &mut |_, _| Ok(()));
            if length == 17 {
                // shorter than its slot, longer than the header: a record
                assert!(result.is_ok());
            } else {
                assert!(matches!(result, Err(Error::Malformed { .. })), "{length}");
            }
        }
    }

    /// The first error of a refused request (no diag module) is
    /// `Unsupported`; after records it is an error of the dump.
    #[test]
    fn errors_before_and_after_records() {
        let refusal = message(NLMSG_ERROR, 0, &(-libc::ENOENT).to_ne_bytes());
        let (result, _, _) = run(Replay::renumbering().datagram(refusal.clone()));
        assert_eq!(result.unwrap(), DumpEnd::Unsupported(libc::ENOENT));
        let (result, _, _) = run(Replay::renumbering().datagram(record(1)).datagram(refusal));
        assert!(result.unwrap_err().to_string().contains("No such file"));
        // i32::MIN cannot be negated; still an error, not a panic
        let odd = message(NLMSG_ERROR, 0, &i32::MIN.to_ne_bytes());
        let (result, _, _) = run(Replay::renumbering().datagram(odd));
        assert!(matches!(result.unwrap(), DumpEnd::Unsupported(_)));
    }
}
