//! Plain socket records shared by every collector and renderer.
//!
//! A record borrows what it cannot hold by value (a unix path points into the
//! receive buffer or into /proc text), so building one never allocates.

use std::net::IpAddr;

/// When a tick started (JSON tick objects, views' time line, and what
/// `--record` keeps of it): set by the driver's schedule, or read back
/// from a recording.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TickStamp {
    /// From 1.
    pub number: u64,
    /// The wall clock at its start.
    pub time: std::time::SystemTime,
    /// Since the run started.
    pub elapsed: std::time::Duration,
    /// How far the previous tick ran past its slot, when it did.
    pub late: Option<std::time::Duration>,
}

impl Default for TickStamp {
    /// Tick 0 at the epoch: a stamp not read yet.
    fn default() -> Self {
        TickStamp {
            number: 0,
            time: std::time::UNIX_EPOCH,
            elapsed: std::time::Duration::ZERO,
            late: None,
        }
    }
}

/// What every record of one tick shares beyond the configuration: the
/// network namespace it was read in. Each output takes it as data: a view
/// counts it as the `netns` key, and under `--all-netns` every JSON object
/// carries it as `netns` and `netns_inode` (text prints a line above the
/// namespace's tables instead, which is the driver's framing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick<'a> {
    pub netns_inode: u64,
    /// How text and errors name the namespace (`pid 1`, a name, `self`).
    pub netns_label: &'a str,
    /// The `netns` JSON value and group key (`pid:1`, a name, `self`).
    pub netns_key: &'a str,
    /// Whether JSON objects carry the namespace (`--all-netns`).
    pub labelled: bool,
}

impl Tick<'static> {
    /// A tick of nlstat's own namespace, unlabelled: what the unit tests
    /// and the fuzz entry points run in.
    pub const OWN: Tick<'static> = Tick {
        netns_inode: 0,
        netns_label: "self",
        netns_key: "self",
        labelled: false,
    };
}

/// The sock_diag extensions `--info` asks for, as the kernel sent them:
/// `struct tcp_info` (`INET_DIAG_INFO`), the congestion control's name
/// (`INET_DIAG_CONG`) and the `SK_MEMINFO_*` array (`INET_DIAG_SKMEMINFO`).
/// Empty when not asked for or not returned; kept as bytes because their
/// layout grows with the kernel (see `collect::tcp_info`). Borrowed from
/// the receive buffer, or from an [`ExtArena`] while a row waits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SocketExt<'a> {
    pub info: &'a [u8],
    pub cong: &'a [u8],
    pub skmem: &'a [u8],
    /// The congestion control's own detail (`INET_DIAG_VEGASINFO`,
    /// `INET_DIAG_DCTCPINFO` or `INET_DIAG_BBRINFO`, named by `cc_kind`).
    pub cc_info: &'a [u8],
    /// The attribute type `cc_info` came as (0 when none).
    pub cc_kind: u16,
}

impl SocketExt<'_> {
    /// No extension: what /proc rows and plain tables carry.
    pub const NONE: SocketExt<'static> = SocketExt {
        info: &[],
        cong: &[],
        skmem: &[],
        cc_info: &[],
        cc_kind: 0,
    };

    pub fn is_empty(&self) -> bool {
        self.info.is_empty()
            && self.cong.is_empty()
            && self.skmem.is_empty()
            && self.cc_info.is_empty()
    }
}

/// The extensions of rows that wait (for names, owners or the IPv4 rows),
/// copied out of the receive buffer: one byte arena and a span per row,
/// indexed like the rows they belong to. Empty, and never touched, unless
/// `--info` asked for extensions.
#[derive(Debug, Default)]
pub struct ExtArena {
    bytes: Vec<u8>,
    /// Per row: where its info, cong, skmem and cc_info end in `bytes`,
    /// and its cc_kind.
    spans: Vec<([u32; 4], u16)>,
}

impl ExtArena {
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.spans.clear();
    }

    /// Keep `ext` as the next row's.
    pub fn push(&mut self, ext: SocketExt) {
        let mut ends = [0u32; 4];
        for (end, part) in ends
            .iter_mut()
            .zip([ext.info, ext.cong, ext.skmem, ext.cc_info])
        {
            self.bytes.extend_from_slice(part);
            *end = self.bytes.len() as u32;
        }
        self.spans.push((ends, ext.cc_kind));
    }

    /// Row `i`'s extensions; none when nothing was kept for it.
    pub fn get(&self, i: usize) -> SocketExt<'_> {
        let Some(&(ends, cc_kind)) = self.spans.get(i) else {
            return SocketExt::NONE;
        };
        let start = i
            .checked_sub(1)
            .and_then(|p| self.spans.get(p))
            .map_or(0, |s| s.0[3]) as usize;
        let [info, cong, skmem, cc] = ends.map(|end| end as usize);
        SocketExt {
            info: &self.bytes[start..info],
            cong: &self.bytes[info..cong],
            skmem: &self.bytes[cong..skmem],
            cc_info: &self.bytes[skmem..cc],
            cc_kind,
        }
    }
}

/// TCP states as the kernel numbers them (`include/net/tcp_states.h`).
pub mod tcp_state {
    pub const ESTABLISHED: u8 = 1;
    pub const SYN_SENT: u8 = 2;
    pub const SYN_RECV: u8 = 3;
    pub const FIN_WAIT1: u8 = 4;
    pub const FIN_WAIT2: u8 = 5;
    pub const TIME_WAIT: u8 = 6;
    pub const CLOSE: u8 = 7;
    pub const CLOSE_WAIT: u8 = 8;
    pub const LAST_ACK: u8 = 9;
    pub const LISTEN: u8 = 10;
    pub const CLOSING: u8 = 11;
    pub const NEW_SYN_RECV: u8 = 12;
    /// Sockets bound but never connected or listening (Linux 6.5+). Asking
    /// for them makes inet_diag walk the bind hash, which all namespaces
    /// share, and /proc/net/tcp (so netstat) never lists them.
    pub const BOUND_INACTIVE: u8 = 13;
    /// Every state, for "all states" requests; unknown future states are
    /// included so they are shown, not dropped.
    pub const ALL: u32 = !(1 << BOUND_INACTIVE);
}

/// Which inet table a socket belongs to; the order is netstat's print order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InetProto {
    Tcp,
    Udp,
    UdpLite,
    Raw,
}

impl InetProto {
    /// The IP protocol number used in diag requests.
    pub fn ip_protocol(self) -> u8 {
        match self {
            InetProto::Tcp => libc::IPPROTO_TCP as u8,
            InetProto::Udp => libc::IPPROTO_UDP as u8,
            InetProto::UdpLite => libc::IPPROTO_UDPLITE as u8,
            InetProto::Raw => libc::IPPROTO_RAW as u8,
        }
    }

    /// The name netstat prints in the Proto column.
    pub fn label(self, v6: bool) -> &'static str {
        match (self, v6) {
            (InetProto::Tcp, false) => "tcp",
            (InetProto::Tcp, true) => "tcp6",
            (InetProto::Udp, false) => "udp",
            (InetProto::Udp, true) => "udp6",
            (InetProto::UdpLite, false) => "udpl",
            (InetProto::UdpLite, true) => "udpl6",
            (InetProto::Raw, false) => "raw",
            (InetProto::Raw, true) => "raw6",
        }
    }

    /// The /proc/net file holding this table.
    pub fn proc_file(self, v6: bool) -> &'static str {
        match (self, v6) {
            (InetProto::Tcp, false) => "net/tcp",
            (InetProto::Tcp, true) => "net/tcp6",
            (InetProto::Udp, false) => "net/udp",
            (InetProto::Udp, true) => "net/udp6",
            (InetProto::UdpLite, false) => "net/udplite",
            (InetProto::UdpLite, true) => "net/udplite6",
            (InetProto::Raw, false) => "net/raw",
            (InetProto::Raw, true) => "net/raw6",
        }
    }

    /// The name netstat uses in "no support for `AF INET (tcp)'" messages.
    pub fn support_name(self) -> &'static str {
        match self {
            InetProto::Tcp => "AF INET (tcp)",
            InetProto::Udp => "AF INET (udp)",
            InetProto::UdpLite => "AF INET (udplite)",
            InetProto::Raw => "AF INET (raw)",
        }
    }
}

/// One TCP, UDP, UDP-Lite or raw socket. Kept small (72 bytes): `-p` and
/// name resolution hold every row of a table until the first is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InetSocket {
    pub proto: InetProto,
    /// Kernel state number; unknown values are kept and printed as numbers.
    pub state: u8,
    pub local: IpAddr,
    pub local_port: u16,
    pub remote: IpAddr,
    pub remote_port: u16,
    pub recv_q: u32,
    pub send_q: u32,
    pub uid: u32,
    pub inode: u64,
    /// Timer kind as /proc numbers it: 0 off, 1 retransmit, 2 keepalive,
    /// 3 TIME_WAIT, 4 zero-window probe; other values are kept as they come.
    pub timer: u8,
    /// Time to expiry in clock ticks of 1/100 s, as /proc reports it.
    pub timer_ticks: u32,
    /// The kernel keeps these two in a byte.
    pub retransmits: u8,
    /// Unanswered probes (the "timeout" column of /proc/net/tcp).
    pub probes: u8,
    /// A TCP listener's backlog (sock_diag reports it as the send queue,
    /// which netstat shows as 0); 0 for other sockets, and from /proc,
    /// which does not report it.
    pub backlog: u32,
}

#[cfg(any(test, fuzzing))]
impl InetSocket {
    /// A TCP socket between two ends, in `state`, inode 1 and every other
    /// field zero: what unit tests and fuzz targets hold filters and views
    /// against.
    pub fn tcp(state: u8, local: (IpAddr, u16), remote: (IpAddr, u16)) -> InetSocket {
        InetSocket {
            proto: InetProto::Tcp,
            state,
            local: local.0,
            local_port: local.1,
            remote: remote.0,
            remote_port: remote.1,
            recv_q: 0,
            send_q: 0,
            uid: 0,
            inode: 1,
            timer: 0,
            timer_ticks: 0,
            retransmits: 0,
            probes: 0,
            backlog: 0,
        }
    }
}

impl InetSocket {
    pub fn is_v6(&self) -> bool {
        self.local.is_ipv6()
    }

    /// The State column's word as netstat prints it; `Unknown` carries a
    /// state netstat has no word for, so it is shown rather than dropped.
    pub fn state_word(&self) -> StateWord {
        StateWord::of(self.proto, self.state)
    }

    /// netstat's word for the socket's timer (the Timer column before its
    /// parenthesis): TCP's `on`, `keepalive`, `timewait`, `probe`; `on1`
    /// and `on2` for the other tables; `unkn-N` for a kind netstat does
    /// not know.
    pub fn timer_word(&self) -> crate::text::Text<16> {
        let mut word = crate::text::Text::new();
        match (self.proto, self.timer) {
            (_, 0) => word.push_str("off"),
            (InetProto::Tcp, 1) => word.push_str("on"),
            (InetProto::Tcp, 2) => word.push_str("keepalive"),
            (InetProto::Tcp, 3) => word.push_str("timewait"),
            (InetProto::Tcp, 4) => word.push_str("probe"),
            (InetProto::Tcp, n) => {
                word.push_str("unkn-");
                word.push_u64(u64::from(n));
            }
            (_, n @ (1 | 2)) => {
                word.push_str("on");
                word.push_u64(u64::from(n));
            }
            (_, n) => {
                word.push_str("unkn-");
                word.push_u64(u64::from(n));
            }
        }
        word
    }
}

/// netstat's TCP state words, indexed by the kernel's state number.
const TCP_STATE_WORDS: [&str; 12] = [
    "",
    "ESTABLISHED",
    "SYN_SENT",
    "SYN_RECV",
    "FIN_WAIT1",
    "FIN_WAIT2",
    "TIME_WAIT",
    "CLOSE",
    "CLOSE_WAIT",
    "LAST_ACK",
    "LISTEN",
    "CLOSING",
];

/// What netstat shows in an inet socket's State column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateWord {
    Word(&'static str),
    /// Nothing (an unconnected UDP socket).
    Empty,
    /// A raw socket's state, printed as a number.
    Number(u8),
    /// A TCP state newer than netstat: `UNKNOWN(n)`.
    UnknownTcp(u8),
}

impl StateWord {
    /// The word for a kernel state number in one of the inet tables.
    pub fn of(proto: InetProto, state: u8) -> StateWord {
        match proto {
            InetProto::Tcp => match TCP_STATE_WORDS.get(usize::from(state)) {
                Some(&"") => StateWord::Empty,
                Some(word) => StateWord::Word(word),
                None => StateWord::UnknownTcp(state),
            },
            // UDP sockets are either connected or not; anything else is odd.
            InetProto::Udp | InetProto::UdpLite => match state {
                tcp_state::ESTABLISHED => StateWord::Word("ESTABLISHED"),
                tcp_state::CLOSE => StateWord::Empty,
                _ => StateWord::Word("UNKNOWN"),
            },
            // netstat prints a raw socket's state as its number.
            InetProto::Raw => StateWord::Number(state),
        }
    }

    /// The word as text, written into `out`; nothing for `Empty`.
    pub fn write_to<const N: usize>(self, out: &mut crate::text::Text<N>) {
        match self {
            StateWord::Word(word) => out.push_str(word),
            StateWord::Empty => {}
            StateWord::Number(n) => out.push_u64(u64::from(n)),
            StateWord::UnknownTcp(n) => {
                out.push_str("UNKNOWN(");
                out.push_u64(u64::from(n));
                out.push_byte(b')');
            }
        }
    }
}

/// Socket states of the BSD socket layer, which /proc/net/unix prints.
pub mod ss_state {
    pub const FREE: u8 = 0;
    pub const UNCONNECTED: u8 = 1;
    pub const CONNECTING: u8 = 2;
    pub const CONNECTED: u8 = 3;
    pub const DISCONNECTING: u8 = 4;
}

/// `SO_ACCEPTCON` as /proc/net/unix reports it in the flags column.
pub const SO_ACCEPTCON: u32 = 1 << 16;

/// The Flags column's words, in netstat's order: listening (`ACC`),
/// waiting for data (`W`), no space (`N`).
pub const UNIX_FLAG_WORDS: [(u32, &str); 3] =
    [(SO_ACCEPTCON, "ACC"), (1 << 17, "W"), (1 << 18, "N")];

/// One unix domain socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnixSocket<'a> {
    pub refcnt: u32,
    pub flags: u32,
    pub sock_type: u32,
    /// BSD socket state (`ss_state`), as /proc/net/unix prints it.
    pub state: u32,
    pub inode: u64,
    /// The bound name exactly as /proc/net/unix prints it: abstract names
    /// start with `@` and carry `@` for NUL bytes; `None` when unbound.
    pub path: Option<UnixPath<'a>>,
    /// The kernel's sk_state (TCP numbering: 10 listening, 1 connected,
    /// 7 unconnected, ...), which state filters select on.
    pub kernel_state: u8,
    /// The peer's bound name, when known (sock_diag, and only when a
    /// filter asks for it).
    pub peer: Option<UnixPath<'a>>,
    /// `--info`: the `SK_MEMINFO_*` array sock_diag gave (empty from
    /// /proc or when not asked for).
    pub skmem: &'a [u8],
}

impl UnixSocket<'_> {
    /// The Type column's word (`UNKNOWN` for a type netstat does not name).
    pub fn type_word(&self) -> &'static str {
        match self.sock_type {
            1 => "STREAM",
            2 => "DGRAM",
            3 => "RAW",
            4 => "RDM",
            5 => "SEQPACKET",
            _ => "UNKNOWN",
        }
    }

    /// The State column's word; empty for an unconnected, non-listening
    /// socket.
    pub fn state_word(&self) -> &'static str {
        match self.state {
            s if s == u32::from(ss_state::FREE) => "FREE",
            s if s == u32::from(ss_state::UNCONNECTED) => {
                if self.flags & SO_ACCEPTCON != 0 {
                    "LISTENING"
                } else {
                    ""
                }
            }
            s if s == u32::from(ss_state::CONNECTING) => "CONNECTING",
            s if s == u32::from(ss_state::CONNECTED) => "CONNECTED",
            s if s == u32::from(ss_state::DISCONNECTING) => "DISCONNECTING",
            _ => "UNKNOWN",
        }
    }

    /// The flag words set on this socket, in netstat's order.
    pub fn flag_words(&self) -> impl Iterator<Item = &'static str> + '_ {
        UNIX_FLAG_WORDS
            .iter()
            .filter(|(bit, _)| self.flags & bit != 0)
            .map(|(_, word)| *word)
    }
}

/// A unix socket name in one of its two raw forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnixPath<'a> {
    /// Already in /proc/net/unix text form.
    Text(&'a [u8]),
    /// `sun_path` bytes as sock_diag sends them (abstract names start with
    /// NUL; filesystem paths end with one).
    SunPath(&'a [u8]),
}

impl UnixPath<'_> {
    /// The whole name as /proc/net/unix shows it (`@` for the abstract
    /// namespace's leading NUL and for every NUL inside), into `out`.
    pub fn text_into(self, out: &mut Vec<u8>) {
        out.clear();
        let raw = match self {
            UnixPath::Text(text) => {
                out.extend_from_slice(text);
                return;
            }
            UnixPath::SunPath(raw) => raw,
        };
        let body = match raw.first() {
            None => return,
            Some(0) => {
                out.push(b'@');
                &raw[1..]
            }
            // the kernel keeps a filesystem path's terminating NUL
            Some(_) => raw.strip_suffix(b"\0").unwrap_or(raw),
        };
        out.extend(body.iter().map(|&b| if b == 0 { b'@' } else { b }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `-p` and name resolution hold every row of a table; keep rows small.
    #[test]
    fn inet_socket_stays_small() {
        assert!(std::mem::size_of::<InetSocket>() <= 72);
    }

    #[test]
    fn unix_names_as_proc_shows_them() {
        let mut out = Vec::new();
        UnixPath::SunPath(b"\0abstract\0with-nul").text_into(&mut out);
        assert_eq!(out, b"@abstract@with-nul");
        UnixPath::SunPath(b"/tmp/with space.sock\0").text_into(&mut out);
        assert_eq!(out, b"/tmp/with space.sock");
        UnixPath::Text(b"/x y").text_into(&mut out);
        assert_eq!(out, b"/x y");
    }

    #[test]
    fn dump_mask_leaves_out_bound_inactive_only() {
        assert_eq!(tcp_state::ALL.count_zeros(), 1);
        assert_eq!(tcp_state::ALL & (1 << tcp_state::BOUND_INACTIVE), 0);
    }

    /// Each row gets back exactly the extensions it was kept with, empty
    /// parts included; a row with none kept, or past the end, has none.
    #[test]
    fn ext_arena_gives_each_row_its_own_bytes() {
        let rows = [
            SocketExt {
                info: b"abcd",
                cong: b"bbr",
                skmem: b"12345678",
                cc_info: b"xy",
                cc_kind: 16,
            },
            SocketExt::NONE,
            SocketExt {
                info: b"",
                cong: b"cubic",
                skmem: b"",
                cc_info: b"",
                cc_kind: 0,
            },
        ];
        let mut arena = ExtArena::default();
        assert_eq!(arena.get(0), SocketExt::NONE);
        for ext in rows {
            arena.push(ext);
        }
        for (i, ext) in rows.iter().enumerate() {
            assert_eq!(arena.get(i), *ext, "row {i}");
        }
        assert_eq!(arena.get(3), SocketExt::NONE);
        arena.clear();
        assert_eq!(arena.get(0), SocketExt::NONE);
    }
}
