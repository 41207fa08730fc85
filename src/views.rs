//! Load-balancer views: aggregates over the selected sockets instead of
//! their rows (`--group-by`, `--summary`, `--listeners`, `--ephemeral`).
//!
//! A view is a sink that keeps keys and counts, never rows: memory grows
//! with the number of distinct keys, not with the number of sockets. Key
//! names are the JSON field names of socket rows. With `-c` each view
//! prints every second with the change since the previous tick.

use crate::config::Config;
use crate::enrich::names::NameCache;
use crate::enrich::processes::ProcessIndex;
use crate::filter::expr::Query;
use crate::model::{InetProto, InetSocket, StateWord, UnixSocket, tcp_state};
use crate::render::json::{JsonLine, proto_name};
use crate::render::text::Text;
use rustc_hash::{FxHashMap, FxHashSet};
use smallvec::SmallVec;
use std::io::{self, Write};
use std::net::IpAddr;

/// Which view, with its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    GroupBy {
        keys: Vec<Key>,
        top: Option<usize>,
    },
    Summary,
    Listeners,
    Ephemeral,
    /// `--serve`/`--textfile`: every aggregate at once, as metrics.
    Exporter {
        max_series: usize,
    },
}

/// A `--group-by` key: a JSON field name of socket rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Proto,
    Family,
    State,
    LocalAddr,
    LocalPort,
    RemoteAddr,
    RemotePort,
    /// The peer's network: IPv4 /24 and IPv6 /64 unless a length is given.
    RemoteNet(Option<u8>),
    Uid,
    User,
    Pid,
    Program,
    /// The network namespace the socket is in (`--all-netns`).
    Netns,
}

impl Key {
    pub fn name(self) -> String {
        match self {
            Key::Proto => "proto".into(),
            Key::Family => "family".into(),
            Key::State => "state".into(),
            Key::LocalAddr => "local_addr".into(),
            Key::LocalPort => "local_port".into(),
            Key::RemoteAddr => "remote_addr".into(),
            Key::RemotePort => "remote_port".into(),
            Key::RemoteNet(None) => "remote_net".into(),
            Key::RemoteNet(Some(len)) => format!("remote_net/{len}"),
            Key::Uid => "uid".into(),
            Key::User => "user".into(),
            Key::Pid => "pid".into(),
            Key::Program => "program".into(),
            Key::Netns => "netns".into(),
        }
    }
}

/// The query to run: the user's filter, narrowed by what the view lets the
/// kernel skip (`--listeners`: listeners and the states it counts;
/// `--ephemeral`: connections whose local port is in the ephemeral range).
pub fn lowered_query(config: &Config) -> Option<Query> {
    use crate::filter::expr::{Cond, Expr, Side};
    let bit = |s: u8| 1u32 << s;
    let own = match &config.view {
        Some(View::Listeners) => Some(Query {
            states: Some(
                bit(tcp_state::LISTEN)
                    | bit(tcp_state::SYN_RECV)
                    | bit(tcp_state::ESTABLISHED)
                    | bit(tcp_state::TIME_WAIT),
            ),
            expr: None,
        }),
        Some(View::Ephemeral) => {
            let (lo, hi) = port_range(&crate::proc_root());
            Some(Query {
                states: Some(tcp_state::ALL & 0xFFF & !bit(tcp_state::LISTEN)),
                expr: Some(Expr::And(
                    Box::new(Expr::Cond(Cond::PortAtLeast(Side::Src, lo))),
                    Box::new(Expr::Cond(Cond::PortAtMost(Side::Src, hi))),
                )),
            })
        }
        _ => None,
    };
    match (config.query.clone(), own) {
        (user, None) => user,
        (None, own) => own,
        (Some(user), Some(own)) => Some(Query {
            states: match (user.states, own.states) {
                (Some(a), Some(b)) => Some(a & b),
                (a, b) => a.or(b),
            },
            expr: match (user.expr, own.expr) {
                (Some(a), Some(b)) => Some(Expr::And(Box::new(a), Box::new(b))),
                (a, b) => a.or(b),
            },
        }),
    }
}

/// `query` narrowed to sockets whose local port is one of `ports`
/// (listeners match too: they are on their own ports).
pub fn on_ports(query: &Query, ports: &[u16]) -> Query {
    use crate::filter::expr::{Cond, Expr, HostCond, Side};
    let cond = |port: Option<u16>| Expr::Cond(Cond::Host(Side::Src, HostCond::any_address(port)));
    // a balanced tree, so thousands of listeners stay shallow
    let mut level: Vec<Expr> = ports.iter().map(|p| cond(Some(*p))).collect();
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        let mut items = level.into_iter();
        while let Some(a) = items.next() {
            next.push(match items.next() {
                Some(b) => Expr::Or(Box::new(a), Box::new(b)),
                None => a,
            });
        }
        level = next;
    }
    // no listener: nothing to count
    let any_of = level
        .pop()
        .unwrap_or_else(|| Expr::Not(Box::new(cond(None))));
    Query {
        states: query.states,
        expr: Some(match &query.expr {
            Some(e) => Expr::And(Box::new(e.clone()), Box::new(any_of)),
            None => any_of,
        }),
    }
}

/// net.ipv4.ip_local_port_range as this namespace sees it.
pub(crate) fn port_range(root: &crate::collect::procfs::ProcRoot) -> (u16, u16) {
    std::fs::read_to_string(root.path("sys/net/ipv4/ip_local_port_range"))
        .ok()
        .and_then(|text| {
            let mut parts = text
                .split_whitespace()
                .filter_map(|p| p.parse::<u16>().ok());
            Some((parts.next()?, parts.next()?))
        })
        .unwrap_or((32768, 60999))
}

/// Parse `--group-by KEY[,KEY...]`.
/// The keys `--group-by` takes, as [`parse_keys`] reads them (the shell
/// completions offer these; `remote_net` also as `remote_net/LEN`).
pub const KEY_NAMES: &[&str] = &[
    "proto",
    "family",
    "state",
    "local_addr",
    "local_port",
    "remote_addr",
    "remote_port",
    "remote_net",
    "uid",
    "user",
    "pid",
    "program",
    "netns",
];

pub fn parse_keys(text: &str) -> Result<Vec<Key>, String> {
    let mut keys = Vec::new();
    for word in text.split(',') {
        let key = match word {
            "proto" => Key::Proto,
            "family" => Key::Family,
            "state" => Key::State,
            "local_addr" => Key::LocalAddr,
            "local_port" => Key::LocalPort,
            "remote_addr" => Key::RemoteAddr,
            "remote_port" => Key::RemotePort,
            "remote_net" => Key::RemoteNet(None),
            "uid" => Key::Uid,
            "user" => Key::User,
            "pid" => Key::Pid,
            "program" => Key::Program,
            "netns" => Key::Netns,
            other => match other.strip_prefix("remote_net/") {
                Some(len) => match len.parse::<u8>() {
                    Ok(len) if len <= 128 => Key::RemoteNet(Some(len)),
                    _ => {
                        return Err(format!(
                            "--group-by: bad prefix length in `{other}' (0 to 32 for IPv4, 128 for IPv6)"
                        ));
                    }
                },
                None => {
                    return Err(format!(
                        "--group-by: unknown key `{other}' (keys: {})",
                        KEY_NAMES
                            .join(", ")
                            .replace("remote_net", "remote_net[/LEN]")
                    ));
                }
            },
        };
        keys.push(key);
    }
    Ok(keys)
}

/// One key's value for one socket; small and without heap data, so
/// counting a socket allocates nothing once its key tuple is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Value {
    Null,
    Str(&'static str),
    Number(u64),
    Addr(IpAddr),
    Net(IpAddr, u8),
    /// An inet state, rendered as netstat's word.
    InetState(InetProto, u8),
    /// A user id, rendered as its login name.
    User(u32),
    /// A process, rendered as its command name.
    Program(u32),
    /// A network namespace by inode, rendered as its name.
    Netns(u64),
}

type Tuple = SmallVec<[Value; 3]>;

/// The payload widths in bits of `keys` packed into one `u64`, when
/// they fit (addresses, networks and namespaces do not). Each value takes
/// its payload and a 2-bit kind above it (see [`pack`]).
fn packing(keys: &[Key]) -> Option<Vec<(Key, u32)>> {
    let widths: Option<Vec<(Key, u32)>> = keys
        .iter()
        .map(|key| {
            let width = match key {
                // an index into PACKED_WORDS
                Key::Proto | Key::Family => 4,
                // a protocol and a state, or a word
                Key::State => 10,
                Key::LocalPort | Key::RemotePort => 16,
                Key::Uid | Key::User | Key::Pid | Key::Program => 32,
                _ => return None,
            };
            Some((*key, width))
        })
        .collect();
    widths.filter(|w| !w.is_empty() && w.iter().map(|(_, n)| n + 2).sum::<u32>() <= 64)
}

/// Protocol and family names and unix state words: every word a
/// packable key can have, in byte order (so packed keys sort as their
/// tuples do).
const PACKED_WORDS: [&str; 13] = [
    "CONNECTED",
    "CONNECTING",
    "DISCONNECTING",
    "FREE",
    "LISTENING",
    "UNKNOWN",
    "inet",
    "inet6",
    "raw",
    "tcp",
    "udp",
    "udplite",
    "unix",
];

const PROTOS: [InetProto; 4] = [
    InetProto::Tcp,
    InetProto::Udp,
    InetProto::UdpLite,
    InetProto::Raw,
];

/// A value of a packable key as bits: a 2-bit kind (null, number, word,
/// inet state: the order of [`Value`]'s variants for each key) above a
/// payload of `width` bits. [`unpack`] gives the value back; packed keys
/// compare as their tuples do.
fn pack(value: Value, width: u32) -> u64 {
    let (kind, payload) = match value {
        Value::Null => (0, 0),
        Value::Number(n) => (1, n),
        Value::User(uid) => (1, u64::from(uid)),
        Value::Program(pid) => (1, u64::from(pid)),
        Value::Str(word) => {
            let index = PACKED_WORDS.iter().position(|w| *w == word);
            debug_assert!(index.is_some(), "{word} is not in PACKED_WORDS");
            (2, index.unwrap_or(PACKED_WORDS.len() - 1) as u64)
        }
        Value::InetState(proto, state) => {
            let p = PROTOS.iter().position(|p| *p == proto).unwrap_or(0) as u64;
            (3, (p << 8) | u64::from(state))
        }
        // not packable (see `packing`)
        Value::Addr(_) | Value::Net(..) | Value::Netns(_) => (0, 0),
    };
    (kind << width) | (payload & ((1 << width) - 1))
}

/// The tuple `packed` holds.
fn unpack(packing: &[(Key, u32)], packed: u64) -> Tuple {
    let mut tuple = Tuple::new();
    let mut shift: u32 = packing.iter().map(|(_, w)| w + 2).sum();
    for (key, width) in packing {
        shift -= width + 2;
        let bits = packed >> shift;
        let payload = bits & ((1 << width) - 1);
        tuple.push(match ((bits >> width) & 3, key) {
            (0, _) => Value::Null,
            (1, Key::User) => Value::User(payload as u32),
            (1, Key::Program) => Value::Program(payload as u32),
            (1, _) => Value::Number(payload),
            (2, _) => Value::Str(PACKED_WORDS[payload as usize % PACKED_WORDS.len()]),
            _ => Value::InetState(PROTOS[(payload >> 8) as usize & 3], payload as u8),
        });
    }
    tuple
}

fn network(address: IpAddr, len: Option<u8>) -> Value {
    match address {
        IpAddr::V4(v4) => {
            let len = len.unwrap_or(24).min(32);
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(len))
            };
            Value::Net(IpAddr::V4((u32::from(v4) & mask).into()), len)
        }
        IpAddr::V6(v6) => {
            let len = len.unwrap_or(64).min(128);
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            Value::Net(IpAddr::V6((u128::from(v6) & mask).into()), len)
        }
    }
}

/// What a row is shown as: rendered key values (typed for JSON) and counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Shown {
    Null,
    Text(String),
    Number(u64),
    /// A namespace: its text label, its JSON `netns` value and its inode.
    Netns(String, String, u64),
}

impl Shown {
    fn text(&self) -> String {
        let mut text = String::new();
        self.text_into(&mut text);
        text
    }

    fn text_into(&self, text: &mut String) {
        use std::fmt::Write as _;
        match self {
            Shown::Null => text.push('-'),
            Shown::Text(t) => text.push_str(t),
            Shown::Number(n) => {
                let _ = write!(text, "{n}");
            }
            Shown::Netns(label, _, _) => text.push_str(label),
        }
    }

    fn json(&self, line: &mut JsonLine, key: &str) {
        match self {
            Shown::Null => line.null(key),
            Shown::Text(t) => line.str(key, t),
            Shown::Number(n) => line.u64(key, *n),
            Shown::Netns(_, name, inode) => line.str("netns", name).u64("netns_inode", *inode),
        };
    }
}

/// Namespace names by inode: (text label, JSON `netns` value).
pub type NetnsNames = FxHashMap<u64, (String, String)>;

/// Per-tick state of a view, kept across `-c` ticks for the deltas.
pub struct Aggregator {
    view: View,
    /// The keys of the tuples counted (none for `--listeners` and
    /// `--ephemeral`), kept once rather than made for each socket.
    key_list: Vec<Key>,
    /// When every key packs into one `u64` (no addresses, no namespace):
    /// the keys' widths in bits, and the counts by packed key. Hashing a
    /// `u64` is one multiply and an entry is 16 bytes, so a tick with
    /// hundreds of thousands of distinct keys stays in cache; tuples are
    /// unpacked at the end of the tick, once per key.
    packing: Option<Vec<(Key, u32)>>,
    packed: FxHashMap<u64, u64>,
    /// Keys of 32 bits or fewer (`state,local_port`) are counted here
    /// while sockets come, in half the room (8-byte entries), then moved
    /// to `packed` once per key.
    packed32: Option<FxHashMap<u32, u32>>,
    /// The packed counts of the previous tick, and with `--top` the
    /// packed keys it showed (`-c`).
    previous_packed: Option<FxHashMap<u64, u64>>,
    previous_shown_packed: Option<FxHashSet<u64>>,
    counts: FxHashMap<Tuple, u64>,
    /// Listening TCP sockets (few) and connection counts per local end
    /// and state, for `--listeners`.
    listeners: Vec<InetSocket>,
    /// The listeners' ports: only sockets on them are counted per end
    /// (the kernel dumps a family's listeners before its connections).
    listener_ports: rustc_hash::FxHashSet<u16>,
    per_end: FxHashMap<(IpAddr, u16, u8), u64>,
    /// `--ephemeral`: the port range and the reserved ports in it.
    range: (u16, u16),
    reserved_in_range: u64,
    /// IPv4 pairs as packed keys (local, remote, port, TIME_WAIT bit),
    /// counted by sorting at the end of the tick: appending is cheaper
    /// than a hash insert per connection.
    pairs4: Vec<u128>,
    /// Other pairs: (in use, TIME_WAIT) per (local, remote, port).
    pairs6: FxHashMap<(u128, u128, u16), (u64, u64)>,
    /// Rendered rows of the previous tick (views that merge tuples which
    /// render alike), for `-c`'s change column.
    previous: Option<FxHashMap<Vec<Shown>, u64>>,
    /// Counted tuples of the previous tick (views whose keys print as
    /// counted), for `-c`'s change column.
    previous_tuples: Option<FxHashMap<Tuple, u64>>,
    /// With `--top`, the keys the previous tick showed: only those are
    /// shown once more when they vanish.
    previous_shown: Option<FxHashSet<Vec<Shown>>>,
    previous_shown_tuples: Option<FxHashSet<Tuple>>,
    /// `--listeners`: the previous tick's listeners (their accept queues).
    previous_listeners: Option<Vec<InetSocket>>,
    /// `--ephemeral`: ports in use per pair at the previous tick.
    previous_pairs: Option<FxHashMap<(IpAddr, IpAddr, u16), u64>>,
    previous_counters: Option<(std::time::Instant, Vec<(&'static str, u64)>)>,
    ticks: u64,
    /// The namespace whose sockets are counted now (the `netns` key).
    netns: u64,
    netns_names: NetnsNames,
}

/// The kernel's listen counters that `--listeners` shows (TcpExt).
const LISTEN_COUNTERS: [&str; 5] = [
    "ListenOverflows",
    "ListenDrops",
    "TCPReqQFullDrop",
    "TCPReqQFullDoCookies",
    "SyncookiesSent",
];

impl Aggregator {
    pub fn new(view: View) -> Self {
        let key_list = match &view {
            View::GroupBy { keys, .. } => keys.clone(),
            View::Summary | View::Exporter { .. } => vec![Key::Proto, Key::Family, Key::State],
            _ => Vec::new(),
        };
        let packing = packing(&key_list);
        let packed32 = packing
            .as_ref()
            .filter(|p| p.iter().map(|(_, w)| w + 2).sum::<u32>() <= 32)
            .map(|_| FxHashMap::default());
        Aggregator {
            view,
            key_list,
            packing,
            packed: FxHashMap::default(),
            packed32,
            previous_packed: None,
            previous_shown_packed: None,
            counts: FxHashMap::default(),
            listeners: Vec::new(),
            listener_ports: Default::default(),
            per_end: FxHashMap::default(),
            range: (32768, 60999),
            reserved_in_range: 0,
            pairs4: Vec::new(),
            pairs6: FxHashMap::default(),
            previous: None,
            previous_tuples: None,
            previous_shown: None,
            previous_shown_tuples: None,
            previous_listeners: None,
            previous_pairs: None,
            previous_counters: None,
            ticks: 0,
            netns: 0,
            netns_names: NetnsNames::default(),
        }
    }

    /// Count the sockets that follow as those of namespace `inode`, named
    /// `label` in text and `key` in JSON.
    pub fn set_namespace(&mut self, inode: u64, label: &str, key: &str) {
        self.netns = inode;
        self.netns_names
            .insert(inode, (label.to_string(), key.to_string()));
    }

    /// Whether this view is counted across namespaces (`--group-by`) rather
    /// than printed for each one.
    pub fn merges_namespaces(&self) -> bool {
        matches!(self.view, View::GroupBy { .. })
    }

    /// Add `other`'s counts (another namespace's) to these and clear them.
    pub fn absorb(&mut self, other: &mut Aggregator) {
        other.widen_packed();
        if self.packing.is_some() && self.packing == other.packing {
            for (packed, n) in other.packed.drain() {
                *self.packed.entry(packed).or_insert(0) += n;
            }
        }
        other.unpack_counts();
        for (tuple, n) in other.counts.drain() {
            *self.counts.entry(tuple).or_insert(0) += n;
        }
        for (inode, names) in other.netns_names.drain() {
            self.netns_names.insert(inode, names);
        }
    }

    fn keys(&self) -> Vec<Key> {
        self.key_list.clone()
    }

    /// Move the 32-bit counts into `packed`.
    fn widen_packed(&mut self) {
        if let Some(narrow) = &mut self.packed32 {
            self.packed.reserve(narrow.len());
            for (packed, n) in narrow.drain() {
                *self.packed.entry(u64::from(packed)).or_insert(0) += u64::from(n);
            }
        }
    }

    /// Move the packed counts into `counts`, as tuples.
    fn unpack_counts(&mut self) {
        self.widen_packed();
        let Some(packing) = &self.packing else {
            return;
        };
        self.counts.reserve(self.packed.len());
        for (packed, n) in self.packed.drain() {
            *self.counts.entry(unpack(packing, packed)).or_insert(0) += n;
        }
    }

    /// Read what a tick needs from /proc before counting (the port range).
    pub fn start_tick(&mut self, root: &crate::collect::procfs::ProcRoot) {
        if matches!(self.view, View::Ephemeral | View::Exporter { .. }) {
            self.range = port_range(root);
            let (lo, hi) = self.range;
            self.reserved_in_range =
                std::fs::read_to_string(root.path("sys/net/ipv4/ip_local_reserved_ports"))
                    .map(|text| reserved_count(&text, lo, hi))
                    .unwrap_or(0);
        }
    }

    pub fn add_inet(&mut self, socket: &InetSocket, programs: Option<&ProcessIndex>) {
        if let View::Exporter { .. } = self.view {
            self.count_tuple(socket, programs);
            self.add_listener_side(socket);
            self.add_ephemeral(socket);
            return;
        }
        match self.view {
            View::Listeners => self.add_listener_side(socket),
            View::Ephemeral => self.add_ephemeral(socket),
            View::GroupBy { .. } | View::Summary | View::Exporter { .. } => {
                self.count_tuple(socket, programs)
            }
        }
    }

    fn add_listener_side(&mut self, socket: &InetSocket) {
        if socket.proto != InetProto::Tcp {
            return;
        }
        if socket.state == tcp_state::LISTEN {
            self.listeners.push(*socket);
            self.listener_ports.insert(socket.local_port);
        } else if matches!(
            socket.state,
            tcp_state::SYN_RECV | tcp_state::ESTABLISHED | tcp_state::TIME_WAIT
        ) && self.listener_ports.contains(&socket.local_port)
        {
            *self
                .per_end
                .entry((socket.local, socket.local_port, socket.state))
                .or_insert(0) += 1;
        }
    }

    fn add_ephemeral(&mut self, socket: &InetSocket) {
        let (lo, hi) = self.range;
        if socket.proto == InetProto::Tcp
            && socket.remote_port != 0
            && (lo..=hi).contains(&socket.local_port)
        {
            let time_wait = socket.state == tcp_state::TIME_WAIT;
            match (socket.local, socket.remote) {
                (IpAddr::V4(l), IpAddr::V4(r)) => self.pairs4.push(
                    (u128::from(u32::from(l)) << 49)
                        | (u128::from(u32::from(r)) << 17)
                        | (u128::from(socket.remote_port) << 1)
                        | u128::from(time_wait),
                ),
                (l, r) => {
                    let entry = self
                        .pairs6
                        .entry((v6_bits(l), v6_bits(r), socket.remote_port))
                        .or_insert((0, 0));
                    entry.0 += 1;
                    entry.1 += u64::from(time_wait);
                }
            }
        }
    }

    /// Every counted pair: ((local, remote, remote port), (in use,
    /// TIME_WAIT)), without collecting them.
    fn for_each_pair(&mut self, mut visit: impl FnMut((IpAddr, IpAddr, u16), (u64, u64))) {
        self.pairs4.sort_unstable();
        let mut i = 0;
        while i < self.pairs4.len() {
            let pair = self.pairs4[i] >> 1;
            let mut counts = (0u64, 0u64);
            while i < self.pairs4.len() && self.pairs4[i] >> 1 == pair {
                counts.0 += 1;
                counts.1 += (self.pairs4[i] & 1) as u64;
                i += 1;
            }
            let local = (pair >> 48) as u32;
            let remote = (pair >> 16) as u32;
            visit(
                (
                    IpAddr::V4(local.into()),
                    IpAddr::V4(remote.into()),
                    pair as u16,
                ),
                counts,
            );
        }
        for ((l, r, p), c) in &self.pairs6 {
            visit((IpAddr::V6((*l).into()), IpAddr::V6((*r).into()), *p), *c);
        }
    }

    fn count_tuple(&mut self, socket: &InetSocket, programs: Option<&ProcessIndex>) {
        let owner = programs
            .and_then(|p| p.owner(socket.inode))
            .map(|(pid, _)| pid);
        let value = |key: &Key| match key {
            Key::Proto => Value::Str(proto_name(socket.proto)),
            Key::Family => Value::Str(if socket.is_v6() { "inet6" } else { "inet" }),
            Key::State => Value::InetState(socket.proto, socket.state),
            Key::LocalAddr => Value::Addr(socket.local),
            Key::LocalPort => port(socket.local_port),
            Key::RemoteAddr => Value::Addr(socket.remote),
            Key::RemotePort => port(socket.remote_port),
            Key::RemoteNet(len) => network(socket.remote, *len),
            Key::Uid => Value::Number(u64::from(socket.uid)),
            Key::User => Value::User(socket.uid),
            Key::Pid => owner.map_or(Value::Null, |p| Value::Number(u64::from(p))),
            Key::Program => owner.map_or(Value::Null, Value::Program),
            Key::Netns => Value::Netns(self.netns),
        };
        if let Some(packing) = &self.packing {
            let mut packed = 0u64;
            for (key, width) in packing {
                packed = (packed << (width + 2)) | pack(value(key), *width);
            }
            match &mut self.packed32 {
                Some(narrow) => *narrow.entry(packed as u32).or_insert(0) += 1,
                None => *self.packed.entry(packed).or_insert(0) += 1,
            }
            return;
        }
        let tuple: Tuple = self.key_list.iter().map(value).collect();
        *self.counts.entry(tuple).or_insert(0) += 1;
    }

    pub fn add_unix(&mut self, socket: &UnixSocket<'_>, programs: Option<&ProcessIndex>) {
        if !matches!(
            self.view,
            View::GroupBy { .. } | View::Summary | View::Exporter { .. }
        ) {
            return;
        }
        let owner = programs
            .and_then(|p| p.owner(socket.inode))
            .map(|(pid, _)| pid);
        let state = socket.state_word();
        let value = |key: &Key| match key {
            Key::Proto => Value::Str("unix"),
            Key::Family => Value::Str("unix"),
            Key::State if state.is_empty() => Value::Null,
            Key::State => Value::Str(state),
            Key::Pid => owner.map_or(Value::Null, |p| Value::Number(u64::from(p))),
            Key::Program => owner.map_or(Value::Null, Value::Program),
            Key::Netns => Value::Netns(self.netns),
            _ => Value::Null,
        };
        if let Some(packing) = &self.packing {
            let mut packed = 0u64;
            for (key, width) in packing {
                packed = (packed << (width + 2)) | pack(value(key), *width);
            }
            match &mut self.packed32 {
                Some(narrow) => *narrow.entry(packed as u32).or_insert(0) += 1,
                None => *self.packed.entry(packed).or_insert(0) += 1,
            }
            return;
        }
        let tuple: Tuple = self.key_list.iter().map(value).collect();
        *self.counts.entry(tuple).or_insert(0) += 1;
    }

    /// Print the view for this tick and start counting afresh.
    pub fn finish(
        &mut self,
        out: &mut dyn Write,
        config: &Config,
        names: &mut NameCache,
        programs: Option<&ProcessIndex>,
        root: &crate::collect::procfs::ProcRoot,
    ) -> io::Result<()> {
        self.ticks += 1;
        let result = match self.view.clone() {
            View::GroupBy { keys, top } => {
                self.write_counts(out, config, names, programs, &keys, top)
            }
            View::Summary => {
                let keys = self.keys();
                self.write_counts(out, config, names, programs, &keys, None)?;
                write_sockstat(out, config, root)
            }
            View::Listeners => self.write_listeners(out, config, programs, root),
            View::Ephemeral => self.write_ephemeral(out, config),
            View::Exporter { max_series } => self.write_metrics(out, max_series),
        };
        self.counts.clear();
        self.packed.clear();
        if let Some(narrow) = &mut self.packed32 {
            narrow.clear();
        }
        self.listeners.clear();
        self.listener_ports.clear();
        self.per_end.clear();
        self.pairs4.clear();
        self.pairs6.clear();
        result
    }

    fn write_counts(
        &mut self,
        out: &mut dyn Write,
        config: &Config,
        names: &mut NameCache,
        programs: Option<&ProcessIndex>,
        keys: &[Key],
        top: Option<usize>,
    ) -> io::Result<()> {
        let names_of: Vec<String> = keys.iter().map(|k| k.name()).collect();
        let netns_names = &self.netns_names.clone();
        let naming = Naming {
            hosts: !config.json && !config.numeric_hosts,
            ports: !config.json && !config.numeric_ports,
        };
        if naming.hosts {
            // every distinct address at once, with netstat's bounded wait
            names.resolve_hosts(self.counts.keys().flat_map(|t| {
                t.iter().filter_map(|v| match v {
                    Value::Addr(a) => Some(*a),
                    _ => None,
                })
            }));
        }
        let kind = if self.view == View::Summary {
            "summary"
        } else {
            "count"
        };
        // Tuples that render alike (two processes of one program, two uids
        // without a name) are merged; other tuples are printed as counted,
        // without rendering them all into memory first.
        if keys.iter().any(|k| matches!(k, Key::Program | Key::User)) {
            self.unpack_counts();
            let mut merged: FxHashMap<Vec<Shown>, u64> = FxHashMap::default();
            for (tuple, count) in &self.counts {
                let shown: Vec<Shown> = tuple
                    .iter()
                    .zip(keys)
                    .map(|(v, k)| show(*k, *v, names, programs, naming, netns_names))
                    .collect();
                *merged.entry(shown).or_insert(0) += count;
            }
            let previous = self.previous.take();
            let shown_before = self.previous_shown.take();
            let mut rows: Vec<(Vec<Shown>, u64, Option<i64>)> = merged
                .iter()
                .map(|(key, n)| (key.clone(), *n, change(previous.as_ref(), key, *n)))
                .collect();
            rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            if let Some(n) = top {
                rows.truncate(n);
            }
            let live = rows.len();
            rows.extend(
                vanished(previous.as_ref(), shown_before.as_ref(), |k| {
                    merged.contains_key(k)
                })
                .map(|(key, delta)| (key.clone(), 0, Some(delta))),
            );
            rows[live..].sort_by(|a, b| a.0.cmp(&b.0));
            if config.continuous {
                self.previous_shown =
                    top.map(|_| rows[..live].iter().map(|r| r.0.clone()).collect());
                self.previous = Some(merged);
            }
            let mut row = |i: usize| rows[i].clone();
            return write_count_rows(out, config, kind, &names_of, &mut row, rows.len());
        }
        let summary = self.view == View::Summary;
        self.widen_packed();
        if let Some(packing) = self.packing.take() {
            // packed keys sort as their tuples; the summary's proto and
            // family are all but its last key (the state)
            let state_bits = packing.last().map_or(0, |(_, w)| w + 2);
            let previous = self.previous_packed.take();
            let shown_before = self.previous_shown_packed.take();
            let rows = counted_rows(
                &self.packed,
                previous.as_ref(),
                shown_before.as_ref(),
                top,
                |a: &u64, b: &u64| {
                    if summary {
                        (a >> state_bits).cmp(&(b >> state_bits))
                    } else {
                        std::cmp::Ordering::Equal
                    }
                },
            );
            let shown_now: Option<FxHashSet<u64>> = (top.is_some() && config.continuous)
                .then(|| rows.iter().filter(|r| r.1 > 0).map(|r| *r.0).collect());
            let mut row = |i: usize| {
                let key: Vec<Shown> = unpack(&packing, *rows[i].0)
                    .iter()
                    .zip(keys)
                    .map(|(v, k)| show(*k, *v, names, programs, naming, netns_names))
                    .collect();
                (key, rows[i].1, rows[i].2)
            };
            let written = write_count_rows(out, config, kind, &names_of, &mut row, rows.len());
            drop(rows);
            self.packing = Some(packing);
            if config.continuous {
                // this tick's counts become the next tick's previous ones
                // (the previous ones' room is reused)
                let mut room = previous.unwrap_or_default();
                room.clear();
                self.previous_packed = Some(std::mem::replace(&mut self.packed, room));
                self.previous_shown_packed = shown_now;
            }
            return written;
        }
        let previous = self.previous_tuples.take();
        let shown_before = self.previous_shown_tuples.take();
        let rows = counted_rows(
            &self.counts,
            previous.as_ref(),
            shown_before.as_ref(),
            top,
            |a: &Tuple, b: &Tuple| {
                if summary {
                    a[..2].cmp(&b[..2])
                } else {
                    std::cmp::Ordering::Equal
                }
            },
        );
        let shown_now: Option<FxHashSet<Tuple>> = (top.is_some() && config.continuous).then(|| {
            rows.iter()
                .filter(|r| r.1 > 0)
                .map(|r| r.0.clone())
                .collect()
        });
        let mut row = |i: usize| {
            let key: Vec<Shown> = rows[i]
                .0
                .iter()
                .zip(keys)
                .map(|(v, k)| show(*k, *v, names, programs, naming, netns_names))
                .collect();
            (key, rows[i].1, rows[i].2)
        };
        let written = write_count_rows(out, config, kind, &names_of, &mut row, rows.len());
        drop(rows);
        if config.continuous {
            // this tick's counts become the next tick's previous ones
            self.previous_tuples = Some(std::mem::take(&mut self.counts));
            self.previous_shown_tuples = shown_now;
        }
        written
    }

    /// The socket metrics of `--serve`/`--textfile` (all gauges, the same
    /// in both exposition formats).
    fn write_metrics(&mut self, out: &mut dyn Write, max_series: usize) -> io::Result<()> {
        use crate::render::exposition::{Exposition, Format, Kind};
        self.unpack_counts();
        let mut e = Exposition::new(out, Format::Prometheus);
        e.family(
            "nlstat_sockets",
            Kind::Gauge,
            "Sockets by protocol, family and state (state as netstat words it, empty for none).",
        )?;
        let mut names = NameCache::new();
        let no_names = Naming {
            hosts: false,
            ports: false,
        };
        let keys = self.keys();
        let mut rows: Vec<(Vec<Shown>, u64)> = self
            .counts
            .iter()
            .map(|(tuple, n)| {
                let shown = tuple
                    .iter()
                    .zip(&keys)
                    .map(|(v, k)| show(*k, *v, &mut names, None, no_names, &self.netns_names))
                    .collect();
                (shown, *n)
            })
            .collect();
        rows.sort();
        for (key, n) in &rows {
            let label = |s: &Shown| match s {
                Shown::Null => String::new(),
                other => other.text(),
            };
            let (proto, family, state) = (label(&key[0]), label(&key[1]), label(&key[2]));
            e.sample(
                "nlstat_sockets",
                &[("proto", &proto), ("family", &family), ("state", &state)],
                n,
            )?;
        }
        // listeners
        let mut listeners = self.listeners.clone();
        listeners.sort_by_key(|l| (l.local, l.local_port));
        let fams: Vec<(String, String, String)> = listeners
            .iter()
            .map(|l| {
                (
                    if l.is_v6() { "inet6" } else { "inet" }.to_string(),
                    l.local.to_string(),
                    l.local_port.to_string(),
                )
            })
            .collect();
        for (metric, help, pick) in [
            (
                "nlstat_tcp_listener_accept_queue",
                "Connections waiting in a TCP listener's accept queue.",
                (|l: &InetSocket| u64::from(l.recv_q)) as fn(&InetSocket) -> u64,
            ),
            (
                "nlstat_tcp_listener_backlog",
                "A TCP listener's backlog (the accept queue's limit).",
                |l: &InetSocket| u64::from(l.backlog),
            ),
        ] {
            e.family(metric, Kind::Gauge, help)?;
            for (l, (family, addr, port)) in listeners.iter().zip(&fams) {
                e.sample(
                    metric,
                    &[
                        ("family", family),
                        ("local_addr", addr),
                        ("local_port", port),
                    ],
                    pick(l),
                )?;
            }
        }
        e.family(
            "nlstat_tcp_listener_connections",
            Kind::Gauge,
            "Sockets on a TCP listener's address and port, by state.",
        )?;
        for (l, (family, addr, port)) in listeners.iter().zip(&fams) {
            for (state, word) in [
                (tcp_state::SYN_RECV, "SYN_RECV"),
                (tcp_state::ESTABLISHED, "ESTABLISHED"),
                (tcp_state::TIME_WAIT, "TIME_WAIT"),
            ] {
                let count: u64 = self
                    .per_end
                    .iter()
                    .filter(|((a, p, s), _)| {
                        *s == state && *p == l.local_port && served_by(l, a, &self.listeners)
                    })
                    .map(|(_, n)| *n)
                    .sum();
                e.sample(
                    "nlstat_tcp_listener_connections",
                    &[
                        ("family", family),
                        ("local_addr", addr),
                        ("local_port", port),
                        ("state", word),
                    ],
                    count,
                )?;
            }
        }
        // ephemeral ports: the fullest pairs only (bounded cardinality)
        let (lo, hi) = self.range;
        let available = (u64::from(hi) + 1)
            .saturating_sub(u64::from(lo))
            .saturating_sub(self.reserved_in_range);
        // the fullest pairs only, kept in a heap of max_series
        let mut heap: std::collections::BinaryHeap<(
            std::cmp::Reverse<u64>,
            (IpAddr, IpAddr, u16),
        )> = std::collections::BinaryHeap::with_capacity(max_series + 1);
        self.for_each_pair(|key, (in_use, _)| {
            let fuller =
                heap.len() < max_series || heap.peek().is_some_and(|(least, _)| in_use > least.0);
            if fuller && max_series > 0 {
                heap.push((std::cmp::Reverse(in_use), key));
                if heap.len() > max_series {
                    heap.pop();
                }
            }
        });
        let mut pairs: Vec<((IpAddr, IpAddr, u16), u64)> =
            heap.into_iter().map(|(n, key)| (key, n.0)).collect();
        pairs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let labels: Vec<(String, String, String)> = pairs
            .iter()
            .map(|((l, r, p), _)| (l.to_string(), r.to_string(), p.to_string()))
            .collect();
        e.family(
            "nlstat_ephemeral_ports_in_use",
            Kind::Gauge,
            "Ephemeral ports in use towards one remote address and port (the fullest pairs).",
        )?;
        for ((_, in_use), (l, r, p)) in pairs.iter().zip(&labels) {
            e.sample(
                "nlstat_ephemeral_ports_in_use",
                &[("local_addr", l), ("remote_addr", r), ("remote_port", p)],
                in_use,
            )?;
        }
        e.family(
            "nlstat_ephemeral_ports_available",
            Kind::Gauge,
            "Ephemeral ports a pair may use: the range minus the reserved ports.",
        )?;
        for (l, r, p) in &labels {
            e.sample(
                "nlstat_ephemeral_ports_available",
                &[("local_addr", l), ("remote_addr", r), ("remote_port", p)],
                available,
            )?;
        }
        Ok(())
    }

    /// The previous tick's listeners that are not listening now, with
    /// their accept queue then.
    fn listeners_gone(&self, previous: Option<&[InetSocket]>) -> Vec<(InetSocket, u64)> {
        let now: FxHashSet<(IpAddr, u16)> = self
            .listeners
            .iter()
            .map(|l| (l.local, l.local_port))
            .collect();
        let mut gone: Vec<(InetSocket, u64)> = previous
            .unwrap_or_default()
            .iter()
            .filter(|l| !now.contains(&(l.local, l.local_port)))
            .map(|l| (*l, u64::from(l.recv_q)))
            .collect();
        gone.sort_by_key(|(l, _)| (l.local_port, l.local));
        gone
    }

    fn write_listeners(
        &mut self,
        out: &mut dyn Write,
        config: &Config,
        programs: Option<&ProcessIndex>,
        root: &crate::collect::procfs::ProcRoot,
    ) -> io::Result<()> {
        struct Row {
            listener: InetSocket,
            fill: u64,
            counts: [u64; 3],
            delta: Option<i64>,
        }
        let before = self.previous_listeners.take();
        let gone_listeners = self.listeners_gone(before.as_deref());
        let previous: Option<FxHashMap<(IpAddr, u16), u64>> = before.map(|ls| {
            ls.iter()
                .map(|l| ((l.local, l.local_port), u64::from(l.recv_q)))
                .collect()
        });
        let mut rows: Vec<Row> = self
            .listeners
            .iter()
            .map(|l| {
                let mut counts = [0u64; 3];
                for (i, state) in [
                    tcp_state::SYN_RECV,
                    tcp_state::ESTABLISHED,
                    tcp_state::TIME_WAIT,
                ]
                .into_iter()
                .enumerate()
                {
                    counts[i] = self
                        .per_end
                        .iter()
                        .filter(|((addr, port, s), _)| {
                            *s == state
                                && *port == l.local_port
                                && served_by(l, addr, &self.listeners)
                        })
                        .map(|(_, n)| *n)
                        .sum();
                }
                let fill = if l.backlog == 0 {
                    0
                } else {
                    u64::from(l.recv_q) * 100 / u64::from(l.backlog)
                };
                Row {
                    listener: *l,
                    fill,
                    counts,
                    delta: change(
                        previous.as_ref(),
                        &(l.local, l.local_port),
                        u64::from(l.recv_q),
                    ),
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            b.fill
                .cmp(&a.fill)
                .then(b.listener.recv_q.cmp(&a.listener.recv_q))
                .then(a.listener.local_port.cmp(&b.listener.local_port))
                .then(a.listener.local.cmp(&b.listener.local))
        });
        // listeners gone since the previous tick: once more, all zero
        for (mut gone, queue) in gone_listeners {
            gone.recv_q = 0;
            gone.backlog = 0;
            rows.push(Row {
                listener: gone,
                fill: 0,
                counts: [0; 3],
                delta: Some(-(queue as i64)),
            });
        }
        let counters = listen_counters(root);
        let now = std::time::Instant::now();
        let rates: Vec<Option<f64>> = match (&self.previous_counters, config.continuous) {
            (Some((then, before)), true) => {
                let seconds = now.duration_since(*then).as_secs_f64().max(0.001);
                counters
                    .iter()
                    .map(|(name, value)| {
                        before
                            .iter()
                            .find(|(n, _)| n == name)
                            .map(|(_, b)| value.saturating_sub(*b) as f64 / seconds)
                    })
                    .collect()
            }
            _ => vec![None; counters.len()],
        };
        let deltas: Vec<Option<i64>> = rows.iter().map(|r| r.delta).collect();
        if config.continuous {
            self.previous_counters = Some((now, counters.clone()));
            self.previous_listeners = Some(self.listeners.clone());
        }
        let owner = |inode: u64| programs.and_then(|p| p.owner(inode));
        if config.json {
            let mut line = JsonLine::new();
            for (r, delta) in rows.iter().zip(&deltas) {
                let l = &r.listener;
                line.begin("listener")
                    .str("family", if l.is_v6() { "inet6" } else { "inet" })
                    .ip("local_addr", l.local)
                    .u64("local_port", u64::from(l.local_port))
                    .u64("accept_queue", u64::from(l.recv_q))
                    .u64("backlog", u64::from(l.backlog))
                    .u64("fill_pct", r.fill)
                    .u64("syn_recv", r.counts[0])
                    .u64("established", r.counts[1])
                    .u64("time_wait", r.counts[2])
                    .u64("inode", l.inode);
                if config.programs {
                    match owner(l.inode) {
                        Some((pid, program)) => {
                            line.u64("pid", u64::from(pid))
                                .opt_str("program", (!program.is_empty()).then_some(program));
                        }
                        None => {
                            line.null("pid").null("program");
                        }
                    }
                }
                if config.continuous {
                    match delta {
                        Some(d) => line.i64("delta", *d),
                        None => line.null("delta"),
                    };
                }
                line.end(out)?;
            }
            line.begin("listen_counters");
            for ((name, value), rate) in counters.iter().zip(&rates) {
                line.u64(name, *value);
                if config.continuous {
                    match rate {
                        Some(r) => line.hundredths(&format!("{name}_per_s"), (r * 100.0) as u64),
                        None => line.null(&format!("{name}_per_s")),
                    };
                }
            }
            return line.end(out);
        }
        let mut header: Vec<String> = [
            "local address",
            "port",
            "accept_queue",
            "backlog",
            "fill%",
            "syn_recv",
            "established",
            "time_wait",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if config.programs {
            header.push("PID/Program name".into());
        }
        if config.continuous {
            header.push("delta".into());
        }
        let table: Vec<Vec<String>> = rows
            .iter()
            .zip(&deltas)
            .map(|(r, delta)| {
                let l = &r.listener;
                let mut cells = vec![
                    l.local.to_string(),
                    l.local_port.to_string(),
                    l.recv_q.to_string(),
                    l.backlog.to_string(),
                    r.fill.to_string(),
                    r.counts[0].to_string(),
                    r.counts[1].to_string(),
                    r.counts[2].to_string(),
                ];
                if config.programs {
                    cells.push(match owner(l.inode) {
                        Some((pid, program)) => {
                            format!("{pid}/{}", String::from_utf8_lossy(program))
                        }
                        None => "-".into(),
                    });
                }
                if config.continuous {
                    cells.push(delta_text(*delta));
                }
                cells
            })
            .collect();
        write_table(out, &header, &table, 2)?;
        out.write_all(b"Listen counters (/proc/net/netstat TcpExt):\n")?;
        for ((name, value), rate) in counters.iter().zip(&rates) {
            match rate {
                Some(r) => writeln!(out, "  {name:<22} {value:>12}  {r:>10.2}/s")?,
                None => writeln!(out, "  {name:<22} {value:>12}")?,
            }
        }
        Ok(())
    }

    fn write_ephemeral(&mut self, out: &mut dyn Write, config: &Config) -> io::Result<()> {
        let (lo, hi) = self.range;
        let available = (u64::from(hi) + 1)
            .saturating_sub(u64::from(lo))
            .saturating_sub(self.reserved_in_range);
        let mut rows: Vec<EphemeralRow> = Vec::new();
        self.for_each_pair(|key, counts| {
            let pct = (counts.0 * 100).checked_div(available).unwrap_or(100);
            rows.push((key, counts, pct));
        });
        rows.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.0.cmp(&a.1.0)).then(a.0.cmp(&b.0)));
        let previous = self.previous_pairs.take();
        let mut deltas: Vec<Option<i64>> = rows
            .iter()
            .map(|(key, (in_use, _), _)| change(previous.as_ref(), key, *in_use))
            .collect();
        // pairs gone since the previous tick: once more, with nothing in use
        let now: FxHashMap<(IpAddr, IpAddr, u16), u64> =
            rows.iter().map(|(key, (n, _), _)| (*key, *n)).collect();
        let mut gone: Vec<((IpAddr, IpAddr, u16), i64)> =
            vanished(previous.as_ref(), None, |k| now.contains_key(k))
                .map(|(k, d)| (*k, d))
                .collect();
        gone.sort();
        for (key, delta) in gone {
            rows.push((key, (0, 0), 0));
            deltas.push(Some(delta));
        }
        if config.continuous {
            self.previous_pairs = Some(now);
        }
        if config.json {
            let mut line = JsonLine::new();
            for (((local, remote, port), (in_use, tw), pct), delta) in rows.iter().zip(&deltas) {
                line.begin("ephemeral")
                    .ip("local_addr", *local)
                    .ip("remote_addr", *remote)
                    .u64("remote_port", u64::from(*port))
                    .u64("in_use", *in_use)
                    .u64("time_wait", *tw)
                    .u64("available", available)
                    .u64("used_pct", *pct)
                    .bool("near_exhaustion", *pct >= 80);
                if config.continuous {
                    match delta {
                        Some(d) => line.i64("delta", *d),
                        None => line.null("delta"),
                    };
                }
                line.end(out)?;
            }
            return Ok(());
        }
        writeln!(
            out,
            "Ephemeral ports {lo}-{hi} ({available} available per (local, remote, port) after {} reserved)",
            self.reserved_in_range
        )?;
        let mut header: Vec<String> = [
            "local address",
            "remote address",
            "remote port",
            "in_use",
            "time_wait",
            "available",
            "used%",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if config.continuous {
            header.push("delta".into());
        }
        let table: Vec<Vec<String>> = rows
            .iter()
            .zip(&deltas)
            .map(|(((local, remote, port), (in_use, tw), pct), delta)| {
                let mut cells = vec![
                    local.to_string(),
                    remote.to_string(),
                    port.to_string(),
                    in_use.to_string(),
                    tw.to_string(),
                    available.to_string(),
                    pct.to_string(),
                    if *pct >= 80 {
                        "NEAR EXHAUSTION".into()
                    } else {
                        String::new()
                    },
                ];
                if config.continuous {
                    cells.push(delta_text(*delta));
                }
                cells
            })
            .collect();
        write_table(out, &header, &table, 3)
    }
}

/// A tick's rows of counted keys (tuples, or packed tuples, which sort
/// alike): by `group`, then count (descending), then key; `--top` keeps
/// the first rows; then the keys gone since the previous tick, with
/// count 0 (see [`vanished`]). Each with its change (`-c`).
fn counted_rows<'a, K: Eq + std::hash::Hash + Ord>(
    counts: &'a FxHashMap<K, u64>,
    previous: Option<&'a FxHashMap<K, u64>>,
    shown_before: Option<&'a FxHashSet<K>>,
    top: Option<usize>,
    group: impl Fn(&K, &K) -> std::cmp::Ordering,
) -> Vec<(&'a K, u64, Option<i64>)> {
    let order = |a: &(&K, u64, Option<i64>), b: &(&K, u64, Option<i64>)| {
        group(a.0, b.0)
            .then(b.1.cmp(&a.1))
            .then_with(|| a.0.cmp(b.0))
    };
    let mut rows: Vec<(&K, u64, Option<i64>)> = Vec::with_capacity(counts.len());
    rows.extend(counts.iter().map(|(k, n)| (k, *n, change(previous, k, *n))));
    rows.sort_unstable_by(order);
    if let Some(n) = top {
        rows.truncate(n);
    }
    let live = rows.len();
    rows.extend(
        vanished(previous, shown_before, |k| counts.contains_key(k)).map(|(k, d)| (k, 0, Some(d))),
    );
    if rows.len() > live {
        // by group, count 0 sorts last within each; without groups, last
        rows.sort_by(order);
    }
    rows
}

/// The change of a key's count since the previous tick (`-c`; `None` on
/// the first tick).
fn change<K: Eq + std::hash::Hash>(
    previous: Option<&FxHashMap<K, u64>>,
    key: &K,
    now: u64,
) -> Option<i64> {
    previous.map(|p| now as i64 - p.get(key).copied().unwrap_or(0) as i64)
}

/// Keys counted at the previous tick and gone at this one (with `--top`,
/// of those the previous tick showed), with their change: minus their
/// previous count. They are shown once more, with count 0, so a drop to
/// nothing is seen.
fn vanished<'a, K: Eq + std::hash::Hash>(
    previous: Option<&'a FxHashMap<K, u64>>,
    shown: Option<&'a FxHashSet<K>>,
    counted: impl Fn(&K) -> bool + 'a,
) -> impl Iterator<Item = (&'a K, i64)> + 'a {
    previous
        .into_iter()
        .flatten()
        .filter(move |(k, _)| !counted(k) && shown.is_none_or(|s| s.contains(*k)))
        .map(|(k, n)| (k, -(*n as i64)))
}

/// (local address, remote address, remote port), (in use, TIME_WAIT),
/// percent used.
type EphemeralRow = ((IpAddr, IpAddr, u16), (u64, u64), u64);

/// An address as IPv6 bits (IPv4 as IPv4-mapped), for compact keys.
fn v6_bits(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn port(number: u16) -> Value {
    if number == 0 {
        Value::Null
    } else {
        Value::Number(u64::from(number))
    }
}

/// Which names a text view shows (JSON keeps numbers): netstat's `-n`
/// rules for hosts and ports.
#[derive(Clone, Copy)]
struct Naming {
    hosts: bool,
    ports: bool,
}

fn show(
    key: Key,
    value: Value,
    names: &mut NameCache,
    programs: Option<&ProcessIndex>,
    naming: Naming,
    netns: &NetnsNames,
) -> Shown {
    match value {
        Value::Netns(inode) => {
            let (label, key) = netns
                .get(&inode)
                .cloned()
                .unwrap_or_else(|| (inode.to_string(), inode.to_string()));
            Shown::Netns(label, key, inode)
        }
        Value::Null => Shown::Null,
        Value::Str(s) => Shown::Text(s.into()),
        Value::Number(n) if naming.ports && matches!(key, Key::LocalPort | Key::RemotePort) => {
            match names.service(crate::enrich::names::ServiceTable::Tcp, n as u16) {
                Some(name) => Shown::Text(name.into()),
                None => Shown::Number(n),
            }
        }
        Value::Number(n) => Shown::Number(n),
        Value::Addr(a) if naming.hosts => {
            let mut text = crate::render::text::Ipv6Text::new();
            names.host_text(a, false, &mut text);
            Shown::Text(text.as_str().into())
        }
        Value::Addr(a) => Shown::Text(a.to_string()),
        Value::Net(a, len) => Shown::Text(format!("{a}/{len}")),
        Value::InetState(proto, state) => match StateWord::of(proto, state) {
            StateWord::Empty => Shown::Null,
            word => {
                let mut text: Text<24> = Text::new();
                word.write_to(&mut text);
                Shown::Text(text.as_str().into())
            }
        },
        Value::User(uid) => match names.user(uid) {
            Some(name) => Shown::Text(name.into()),
            None => Shown::Null,
        },
        Value::Program(pid) => programs
            .and_then(|p| p.program_of(pid))
            .filter(|name| !name.is_empty())
            .map_or(Shown::Null, |name| {
                Shown::Text(String::from_utf8_lossy(name).into_owned())
            }),
    }
}

/// `--group-by`/`--summary` rows, produced one at a time by `row` (twice
/// for text: once for the column widths, once to print).
fn write_count_rows(
    out: &mut dyn Write,
    config: &Config,
    kind: &str,
    names_of: &[String],
    row: &mut dyn FnMut(usize) -> (Vec<Shown>, u64, Option<i64>),
    count: usize,
) -> io::Result<()> {
    if config.json {
        let mut line = JsonLine::new();
        for i in 0..count {
            let (key, n, delta) = row(i);
            line.begin(kind);
            for (name, value) in names_of.iter().zip(&key) {
                value.json(&mut line, name);
            }
            line.u64("count", n);
            if config.continuous {
                match delta {
                    Some(d) => line.i64("delta", d),
                    None => line.null("delta"),
                };
            }
            line.end(out)?;
        }
        return Ok(());
    }
    let mut header: Vec<String> = names_of.to_vec();
    header.push("count".into());
    if config.continuous {
        header.push("delta".into());
    }
    // a row's cells are rendered into the same buffers every time: with
    // many rows, no allocation per cell
    let mut cells: Vec<String> = vec![String::new(); header.len()];
    let fill = |cells: &mut Vec<String>, (key, n, delta): (Vec<Shown>, u64, Option<i64>)| {
        use std::fmt::Write as _;
        for cell in cells.iter_mut() {
            cell.clear();
        }
        for (cell, value) in cells.iter_mut().zip(&key) {
            value.text_into(cell);
        }
        let _ = write!(cells[key.len()], "{n}");
        if config.continuous {
            cells[key.len() + 1].push_str(&delta_text(delta));
        }
    };
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for i in 0..count {
        fill(&mut cells, row(i));
        for (w, cell) in widths.iter_mut().zip(&cells) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let left = names_of.len();
    let mut line = String::new();
    write_line_with(out, &header, &widths, left, &mut line)?;
    for i in 0..count {
        fill(&mut cells, row(i));
        write_line_with(out, &cells, &widths, left, &mut line)?;
    }
    Ok(())
}

fn delta_text(delta: Option<i64>) -> String {
    match delta {
        None => "-".into(),
        Some(d) if d > 0 => format!("+{d}"),
        Some(d) => d.to_string(),
    }
}

/// An aligned table: the first `left` columns left-aligned, the rest right.
fn write_table(
    out: &mut dyn Write,
    header: &[String],
    rows: &[Vec<String>],
    left: usize,
) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    write_line(out, header, &widths, left)?;
    for row in rows {
        write_line(out, row, &widths, left)?;
    }
    Ok(())
}

/// One line of an aligned table.
fn write_line(
    out: &mut dyn Write,
    cells: &[String],
    widths: &[usize],
    left: usize,
) -> io::Result<()> {
    write_line_with(out, cells, widths, left, &mut String::new())
}

/// One line of an aligned table, made in `text` (a buffer kept across
/// lines).
fn write_line_with(
    out: &mut dyn Write,
    cells: &[String],
    widths: &[usize],
    left: usize,
    text: &mut String,
) -> io::Result<()> {
    text.clear();
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        if i > 0 {
            text.push_str("  ");
        }
        let pad = width.saturating_sub(cell.chars().count());
        if i < left {
            text.push_str(cell);
            text.extend(std::iter::repeat_n(' ', pad));
        } else {
            text.extend(std::iter::repeat_n(' ', pad));
            text.push_str(cell);
        }
    }
    text.truncate(text.trim_end().len());
    text.push('\n');
    out.write_all(text.as_bytes())
}

/// Whether a connection on `addr` is one that listener `l` accepted: the
/// same address, or for a wildcard listener any address of its family
/// (IPv6 wildcards also take IPv4-mapped ones) that no listener of its
/// own on the same port claims.
fn served_by(l: &InetSocket, addr: &IpAddr, listeners: &[InetSocket]) -> bool {
    if l.local == *addr {
        return true;
    }
    if !l.local.is_unspecified() {
        return false;
    }
    let family_fits = match (l.local, addr) {
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => true,
        (IpAddr::V6(_), IpAddr::V4(_)) => false,
        (IpAddr::V4(_), IpAddr::V6(_)) => false,
    };
    family_fits
        && !listeners
            .iter()
            .any(|other| other.local_port == l.local_port && other.local == *addr)
}

/// Ports of `lo..=hi` listed in ip_local_reserved_ports (`8080,9000-9010`).
pub(crate) fn reserved_count(text: &str, lo: u16, hi: u16) -> u64 {
    let mut count = 0u64;
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<u16>(), b.trim().parse::<u16>()),
            None => (part.trim().parse::<u16>(), part.trim().parse::<u16>()),
        };
        if let (Ok(a), Ok(b)) = (a, b) {
            let (a, b) = (a.max(lo), b.min(hi));
            if a <= b {
                count += u64::from(b - a) + 1;
            }
        }
    }
    count
}

/// The TcpExt listen counters from /proc/net/netstat.
pub(crate) fn listen_counters(root: &crate::collect::procfs::ProcRoot) -> Vec<(&'static str, u64)> {
    let text = std::fs::read_to_string(root.path("net/netstat")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let mut found: Vec<(&'static str, u64)> = LISTEN_COUNTERS.iter().map(|n| (*n, 0)).collect();
    for pair in lines.chunks(2) {
        let [keys, values] = pair else { continue };
        if !keys.starts_with("TcpExt:") {
            continue;
        }
        for (key, value) in keys
            .split_whitespace()
            .zip(values.split_whitespace())
            .skip(1)
        {
            if let Some(slot) = found.iter_mut().find(|(n, _)| *n == key) {
                slot.1 = value.parse().unwrap_or(0);
            }
        }
    }
    found
}

/// `--summary`'s second part: the kernel's own totals from
/// /proc/net/sockstat and sockstat6.
pub(crate) fn write_sockstat(
    out: &mut dyn Write,
    config: &Config,
    root: &crate::collect::procfs::ProcRoot,
) -> io::Result<()> {
    let mut fields: Vec<(String, u64)> = Vec::new();
    let mut text_lines: Vec<String> = Vec::new();
    for file in ["net/sockstat", "net/sockstat6"] {
        let Ok(text) = std::fs::read_to_string(root.path(file)) else {
            continue;
        };
        for line in text.lines() {
            let Some((proto, rest)) = line.split_once(':') else {
                continue;
            };
            text_lines.push(line.to_string());
            let words: Vec<&str> = rest.split_whitespace().collect();
            for pair in words.chunks(2) {
                if let [key, value] = pair
                    && let Ok(value) = value.parse::<u64>()
                {
                    fields.push((
                        format!(
                            "{}_{}",
                            proto.to_ascii_lowercase(),
                            key.to_ascii_lowercase()
                        ),
                        value,
                    ));
                }
            }
        }
    }
    if config.json {
        let mut line = JsonLine::new();
        line.begin("sockstat");
        for (name, value) in &fields {
            line.u64(name, *value);
        }
        return line.end(out);
    }
    out.write_all(b"\nKernel totals (/proc/net/sockstat, /proc/net/sockstat6):\n")?;
    for line in text_lines {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys the completions offer are the ones the parser takes.
    #[test]
    fn key_names_parse() {
        for name in KEY_NAMES {
            assert!(parse_keys(name).is_ok(), "{name}");
        }
        assert!(parse_keys("remote_net/24").is_ok());
        let unknown = parse_keys("bogus").unwrap_err();
        assert!(unknown.contains("remote_net[/LEN], uid"), "{unknown}");
    }

    fn blank_socket() -> InetSocket {
        InetSocket {
            proto: InetProto::Tcp,
            state: 0,
            local: IpAddr::V4([0, 0, 0, 0].into()),
            local_port: 0,
            remote: IpAddr::V4([0, 0, 0, 0].into()),
            remote_port: 0,
            recv_q: 0,
            send_q: 0,
            uid: 0,
            inode: 0,
            timer: 0,
            timer_ticks: 0,
            retransmits: 0,
            probes: 0,
            backlog: 0,
        }
    }

    #[test]
    fn keys_parse_and_refuse() {
        assert_eq!(
            parse_keys("state,local_port").unwrap(),
            vec![Key::State, Key::LocalPort]
        );
        assert_eq!(
            parse_keys("remote_net/16").unwrap(),
            vec![Key::RemoteNet(Some(16))]
        );
        assert!(parse_keys("bogus").unwrap_err().contains("`bogus'"));
        assert_eq!(
            parse_keys("netns,state").unwrap(),
            vec![Key::Netns, Key::State]
        );
        assert!(parse_keys("remote_net/200").is_err());
    }

    #[test]
    fn networks_mask_the_peer() {
        assert_eq!(
            network("10.1.2.3".parse().unwrap(), None),
            Value::Net("10.1.2.0".parse().unwrap(), 24)
        );
        assert_eq!(
            network("fd00::2:3:4:5".parse().unwrap(), None),
            Value::Net("fd00::".parse().unwrap(), 64)
        );
        assert_eq!(
            network("10.1.2.3".parse().unwrap(), Some(16)),
            Value::Net("10.1.0.0".parse().unwrap(), 16)
        );
    }

    #[test]
    fn vanished_keys_come_back_once_with_minus_their_count() {
        let previous: FxHashMap<&str, u64> = [("a", 3), ("b", 2), ("c", 1)].into_iter().collect();
        let now: FxHashMap<&str, u64> = [("a", 4)].into_iter().collect();
        assert_eq!(change(Some(&previous), &"a", 4), Some(1));
        assert_eq!(change(Some(&previous), &"d", 4), Some(4));
        assert_eq!(change(None, &"a", 4), None);
        let mut gone: Vec<(&str, i64)> = vanished(Some(&previous), None, |k| now.contains_key(k))
            .map(|(k, d)| (*k, d))
            .collect();
        gone.sort();
        assert_eq!(gone, [("b", -2), ("c", -1)]);
        // with --top, only what the previous tick showed
        let shown: FxHashSet<&str> = ["a", "b"].into_iter().collect();
        let gone: Vec<(&str, i64)> =
            vanished(Some(&previous), Some(&shown), |k| now.contains_key(k))
                .map(|(k, d)| (*k, d))
                .collect();
        assert_eq!(gone, [("b", -2)]);
        assert_eq!(vanished(None, None, |_: &&str| false).count(), 0);
    }

    #[test]
    fn packed_keys_unpack_and_sort_as_their_tuples() {
        let keys = [Key::Proto, Key::State, Key::LocalPort, Key::RemotePort];
        let layout = packing(&keys).expect("these keys pack");
        let mut tuples: Vec<Tuple> = Vec::new();
        for proto in ["tcp", "udp", "udplite", "raw", "unix"] {
            for state in [
                Value::Null,
                Value::Str("LISTENING"),
                Value::Str("CONNECTED"),
                Value::Str("UNKNOWN"),
                Value::InetState(InetProto::Tcp, tcp_state::ESTABLISHED),
                Value::InetState(InetProto::Raw, 7),
                Value::InetState(InetProto::Udp, 255),
            ] {
                for port in [Value::Null, Value::Number(1), Value::Number(65535)] {
                    for pid in [Value::Null, Value::Number(1), Value::Number(443)] {
                        tuples.push([Value::Str(proto), state, port, pid].into_iter().collect());
                    }
                }
            }
        }
        let pack_tuple = |t: &Tuple| {
            t.iter()
                .zip(&layout)
                .fold(0u64, |acc, (v, (_, w))| (acc << (w + 2)) | pack(*v, *w))
        };
        let mut packed: Vec<u64> = tuples.iter().map(pack_tuple).collect();
        for (t, p) in tuples.iter().zip(&packed) {
            assert_eq!(&unpack(&layout, *p), t);
        }
        tuples.sort();
        packed.sort();
        let unpacked: Vec<Tuple> = packed.iter().map(|p| unpack(&layout, *p)).collect();
        assert_eq!(unpacked, tuples);
        // every word a packable key can have is a packed word
        for word in PACKED_WORDS.windows(2) {
            assert!(word[0] < word[1], "{word:?} in byte order");
        }
        // addresses, networks and namespaces do not pack; too wide does not
        assert!(packing(&[Key::State, Key::LocalAddr]).is_none());
        assert!(packing(&[Key::Netns]).is_none());
        assert!(packing(&[Key::Uid, Key::Pid]).is_none());
        let owners = packing(&[Key::Program, Key::User]);
        assert!(owners.is_none(), "68 bits do not pack");
        let owners = packing(&[Key::Program, Key::State]).expect("these keys pack");
        let owners_too = packing(&[Key::User, Key::State]).expect("these keys pack");
        for (layout, t) in [
            (&owners, [Value::Null, Value::Null]),
            (&owners, [Value::Program(7), Value::Str("CONNECTED")]),
            (&owners_too, [Value::User(0), Value::Null]),
            (
                &owners_too,
                [Value::User(u32::MAX), Value::Str("LISTENING")],
            ),
        ] {
            let t: Tuple = t.into_iter().collect();
            let p = t
                .iter()
                .zip(layout)
                .fold(0u64, |acc, (v, (_, w))| (acc << (w + 2)) | pack(*v, *w));
            assert_eq!(unpack(layout, p), t);
        }
        assert!(packing(&[Key::Proto, Key::Family, Key::State]).is_some());
    }

    #[test]
    fn reserved_ports_in_range() {
        assert_eq!(reserved_count("", 1000, 2000), 0);
        assert_eq!(reserved_count("1500,1600-1609,3000\n", 1000, 2000), 11);
        assert_eq!(reserved_count("900-1005", 1000, 2000), 6);
    }

    #[test]
    fn wildcard_listeners_serve_unclaimed_addresses() {
        let mut any = blank_socket();
        any.local_port = 80;
        any.state = tcp_state::LISTEN;
        let mut specific = any;
        specific.local = "127.0.0.2".parse().unwrap();
        let listeners = [any, specific];
        let one: IpAddr = "127.0.0.1".parse().unwrap();
        let two: IpAddr = "127.0.0.2".parse().unwrap();
        assert!(served_by(&any, &one, &listeners));
        assert!(!served_by(&any, &two, &listeners));
        assert!(served_by(&specific, &two, &listeners));
        assert!(!served_by(&specific, &one, &listeners));
    }
}
