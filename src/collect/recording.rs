//! Recorded sock_diag replies: a tiny framed file of raw netlink receive
//! buffers, so parsing and rendering can be tested and benchmarked without
//! a live namespace (the idea of ss's recorded-dump testsuite).
//!
//! Format: the magic line [`MAGIC`], then for each datagram the kernel
//! returned, its length as a little-endian `u32` followed by its bytes.
//! The netlink messages inside are stored exactly as received, in the
//! recording host's byte order; the magic line names that order and the
//! reader refuses a recording of the other one.

use std::io::{self, Write};

/// First bytes of every recording made on a little-endian host.
#[cfg(target_endian = "little")]
pub const MAGIC: &[u8] = b"nlstat-netlink-recording v1 le\n";
/// First bytes of every recording made on a big-endian host.
#[cfg(target_endian = "big")]
pub const MAGIC: &[u8] = b"nlstat-netlink-recording v1 be\n";

/// One netlink message inside a recorded datagram (read as a dump reads
/// it).
pub use super::netlink::Message;

/// Writes a recording: the magic line, then one frame per datagram.
pub struct RecordingWriter<W: Write> {
    out: W,
}

impl<W: Write> RecordingWriter<W> {
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(MAGIC)?;
        Ok(RecordingWriter { out })
    }

    /// Append one receive buffer exactly as the kernel filled it.
    pub fn datagram(&mut self, bytes: &[u8]) -> io::Result<()> {
        let length = u32::try_from(bytes.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "datagram over 4 GiB"))?;
        self.out.write_all(&length.to_le_bytes())?;
        self.out.write_all(bytes)
    }

    /// Flush and hand back the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A recording borrowed from memory; iterating it copies nothing.
#[derive(Debug, Clone, Copy)]
pub struct Recording<'a> {
    frames: &'a [u8],
}

/// Why a recording cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordingError {
    /// The file does not start with this host's magic line.
    BadMagic,
    /// A frame claims more bytes than the file holds (at this offset).
    Truncated(usize),
}

impl std::fmt::Display for RecordingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RecordingError::BadMagic => write!(f, "not a netlink recording for this byte order"),
            RecordingError::Truncated(at) => write!(f, "recording truncated at byte {at}"),
        }
    }
}

impl std::error::Error for RecordingError {}

impl<'a> Recording<'a> {
    /// Check the magic line and every frame length once, so iteration
    /// afterwards cannot fail.
    pub fn new(bytes: &'a [u8]) -> Result<Self, RecordingError> {
        let frames = bytes.strip_prefix(MAGIC).ok_or(RecordingError::BadMagic)?;
        let mut at = 0;
        while at < frames.len() {
            let header = frames
                .get(at..at + 4)
                .ok_or(RecordingError::Truncated(MAGIC.len() + at))?;
            let length = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
            at += 4;
            if frames.len() - at < length {
                return Err(RecordingError::Truncated(MAGIC.len() + at));
            }
            at += length;
        }
        Ok(Recording { frames })
    }

    /// The receive buffers, in the order they arrived.
    pub fn datagrams(&self) -> Datagrams<'a> {
        Datagrams { rest: self.frames }
    }

    /// Every netlink message of every datagram, control messages included.
    pub fn messages(&self) -> impl Iterator<Item = Message<'a>> + 'a {
        self.datagrams().flat_map(messages)
    }

    /// The payloads of the socket records (everything but DONE/ERROR), as
    /// `DiagSocket::dump` hands them to its callback.
    pub fn records(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.messages()
            .filter(|m| !m.is_control())
            .map(|m| m.payload)
    }
}

/// Iterator over the frames of a [`Recording`].
#[derive(Debug, Clone)]
pub struct Datagrams<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Datagrams<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        // lengths were checked by Recording::new
        let (header, rest) = self.rest.split_first_chunk::<4>()?;
        let length = u32::from_le_bytes(*header) as usize;
        let (datagram, rest) = rest.split_at(length);
        self.rest = rest;
        Some(datagram)
    }
}

/// Walk the netlink messages of one datagram. A message whose length is
/// shorter than a header or runs past the datagram ends the walk.
pub fn messages(datagram: &[u8]) -> impl Iterator<Item = Message<'_>> + '_ {
    let mut offset = 0;
    std::iter::from_fn(move || {
        let (message, next) = super::netlink::message_at(datagram, offset)?.ok()?;
        offset = next;
        Some(message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Parsed, parse};
    use crate::collect::netlink::NLMSG_DONE;
    use crate::collect::sock_diag::{parse_inet, parse_unix};
    use crate::enrich::names::NameCache;
    use crate::model::{InetProto, SocketExt, tcp_state};
    use crate::render::netstat::{RowWriter, write_inet_header};
    use std::collections::BTreeMap;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    // Recorded on x86_64; see tests/fixtures/README.md for how.
    const TCP: &[u8] = include_bytes!("../../tests/fixtures/tcp.nlrec");
    const TCP_NETSTAT: &str = include_str!("../../tests/fixtures/tcp.netstat-tan.txt");
    const UNIX: &[u8] = include_bytes!("../../tests/fixtures/unix.nlrec");
    const UNIX_NETSTAT: &str = include_str!("../../tests/fixtures/unix.netstat-xa.txt");

    fn header(length: u32, message_type: u16) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&length.to_ne_bytes());
        bytes.extend_from_slice(&message_type.to_ne_bytes());
        bytes.extend_from_slice(&2u16.to_ne_bytes());
        bytes.extend_from_slice(&7u32.to_ne_bytes());
        bytes.extend_from_slice(&0u32.to_ne_bytes());
        bytes
    }

    #[test]
    fn writes_and_reads_back_frames() {
        // one datagram holding a 3-byte record (padded to 4) and DONE
        let mut first = header(19, 20);
        first.extend_from_slice(b"abc\0");
        first.extend(header(20, NLMSG_DONE));
        first.extend_from_slice(&0u32.to_ne_bytes());
        let mut writer = RecordingWriter::new(Vec::new()).unwrap();
        writer.datagram(&first).unwrap();
        writer.datagram(&[]).unwrap();
        let bytes = writer.finish().unwrap();
        assert!(bytes.starts_with(MAGIC));

        let recording = Recording::new(&bytes).unwrap();
        let datagrams: Vec<&[u8]> = recording.datagrams().collect();
        assert_eq!(datagrams, [&first[..], &[][..]]);
        let all: Vec<Message<'_>> = recording.messages().collect();
        assert_eq!(all.len(), 2);
        assert_eq!(
            (all[0].message_type, all[0].flags, all[0].sequence),
            (20, 2, 7)
        );
        assert_eq!(all[0].payload, b"abc");
        assert!(all[1].is_control());
        assert_eq!(recording.records().collect::<Vec<_>>(), [&b"abc"[..]]);
    }

    #[test]
    fn refuses_bad_magic_and_truncation() {
        assert_eq!(
            Recording::new(b"not a recording").unwrap_err(),
            RecordingError::BadMagic
        );
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&10u32.to_le_bytes());
        bytes.extend_from_slice(b"short");
        assert_eq!(
            Recording::new(&bytes).unwrap_err(),
            RecordingError::Truncated(MAGIC.len() + 4)
        );
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[1, 0]);
        assert_eq!(
            Recording::new(&bytes).unwrap_err(),
            RecordingError::Truncated(MAGIC.len())
        );
    }

    #[test]
    fn message_walk_stops_at_a_bad_length() {
        let mut datagram = header(8, 20); // shorter than a header
        datagram.extend_from_slice(&[0; 8]);
        assert_eq!(messages(&datagram).count(), 0);
        let datagram = header(400, 20); // longer than the datagram
        assert_eq!(messages(&datagram).count(), 0);
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn tcp_fixture_replays_through_parse_inet() {
        let recording = Recording::new(TCP).unwrap();
        // the v4 dump and the v6 dump each end with DONE
        assert_eq!(recording.messages().filter(|m| m.is_control()).count(), 2);
        let sockets: Vec<_> = recording
            .records()
            .map(|payload| parse_inet(InetProto::Tcp, payload).expect("a whole inet_diag_msg"))
            .collect();
        assert_eq!(sockets.len(), 480);
        let mut by_state: BTreeMap<(bool, u8), usize> = BTreeMap::new();
        for socket in &sockets {
            *by_state.entry((socket.is_v6(), socket.state)).or_default() += 1;
        }
        let expected = BTreeMap::from([
            ((false, tcp_state::ESTABLISHED), 400),
            ((false, tcp_state::TIME_WAIT), 30),
            ((false, tcp_state::LISTEN), 6),
            ((true, tcp_state::ESTABLISHED), 40),
            ((true, tcp_state::LISTEN), 4),
        ]);
        assert_eq!(by_state, expected);

        let listener = |address: IpAddr, port: u16| {
            sockets
                .iter()
                .find(|s| s.local == address && s.local_port == port)
                .unwrap_or_else(|| panic!("no socket on {address}:{port}"))
        };
        // loadgen's TIME_WAIT maker listens on 127.250.0.1:9000
        let tw_listener = listener(IpAddr::V4(Ipv4Addr::new(127, 250, 0, 1)), 9000);
        assert_eq!(tw_listener.state, tcp_state::LISTEN);
        assert_eq!(tw_listener.remote, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        assert_ne!(tw_listener.inode, 0);
        let v6_listener = listener(IpAddr::V6(Ipv6Addr::LOCALHOST), 10000);
        assert_eq!(v6_listener.state, tcp_state::LISTEN);
        for socket in sockets.iter().filter(|s| s.state == tcp_state::TIME_WAIT) {
            // a TIME_WAIT socket has no inode and runs timer 3
            assert_eq!((socket.inode, socket.timer), (0, 3));
            assert_eq!(socket.remote_port, 9000);
        }
    }

    /// The replayed dump renders to exactly netstat's rows, recorded from
    /// the same namespace right after it (order aside: /proc and sock_diag
    /// walk the hash tables differently).
    #[cfg(target_endian = "little")]
    #[test]
    fn tcp_fixture_renders_as_netstat_did() {
        let args: Vec<std::ffi::OsString> = ["netstat", "-tan"].iter().map(Into::into).collect();
        let Parsed::Run(config) = parse(&args) else {
            panic!("-tan parses")
        };
        let mut names = NameCache::new();
        let mut rows = RowWriter::new();
        let mut out = Vec::new();
        write_inet_header(&mut out, &config).unwrap();
        let header_len = out.len();
        for payload in Recording::new(TCP).unwrap().records() {
            let socket = parse_inet(InetProto::Tcp, payload).unwrap();
            rows.inet_row(
                &mut out,
                &socket,
                SocketExt::NONE,
                &config,
                &mut names,
                None,
            )
            .unwrap();
        }
        let text = std::str::from_utf8(&out).unwrap();
        let (ours_header, ours_rows) = text.split_at(header_len);
        let netstat_header: String = TCP_NETSTAT
            .lines()
            .take(2)
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(ours_header, netstat_header);
        let mut ours: Vec<&str> = ours_rows.lines().collect();
        let mut theirs: Vec<&str> = TCP_NETSTAT.lines().skip(2).collect();
        ours.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(ours, theirs);
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn unix_fixture_replays_through_parse_unix() {
        let recording = Recording::new(UNIX).unwrap();
        let records: Vec<_> = recording
            .records()
            .map(|payload| parse_unix(payload).expect("a whole unix_diag_msg"))
            .collect();
        assert_eq!(records.len(), 50);
        let listeners: Vec<_> = records
            .iter()
            .filter(|r| r.state == tcp_state::LISTEN)
            .collect();
        assert_eq!(listeners.len(), 4);
        let abstract_names = listeners
            .iter()
            .filter_map(|r| r.name)
            .filter(|n| n.starts_with(b"\0nlstat-load-w"))
            .count();
        assert_eq!(abstract_names, 2);
        // the filesystem listeners and the server ends accepted from them
        let path_named = records
            .iter()
            .filter_map(|r| r.name)
            .filter(|n| n.starts_with(b"/tmp/nlstat-load-"))
            .count();
        assert_eq!(path_named, 2 + 10);
        // every connected socket knows its peer, and the pairs are mutual
        let connected: Vec<_> = records
            .iter()
            .filter(|r| r.state == tcp_state::ESTABLISHED)
            .collect();
        assert_eq!(connected.len(), 44);
        for r in &connected {
            let peer = r.peer_inode.expect("connected sockets have a peer");
            let back = records
                .iter()
                .find(|p| p.inode == peer)
                .expect("peer in the dump");
            assert_eq!(back.peer_inode, Some(r.inode));
        }
        // the same sockets netstat listed from /proc/net/unix
        let mut ours: Vec<u32> = records.iter().map(|r| r.inode).collect();
        let mut theirs: Vec<u32> = UNIX_NETSTAT
            .lines()
            .skip(2)
            // the I-Node column starts at byte 50 of every row
            .map(|line| {
                line[50..]
                    .split_whitespace()
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        ours.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(ours, theirs);
    }
}
