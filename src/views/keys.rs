//! `--group-by` keys, defined once: their names (the JSON field names of
//! socket rows), their parsing, a socket's value for each, and the packing
//! of small keys into one `u64` so that counting stays cheap.

// The key type lives with the view selection in config (below views).
pub use crate::config::Key;
use crate::model::InetProto;
use smallvec::SmallVec;
use std::net::IpAddr;

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

/// Parse `--group-by KEY[,KEY...]`.
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
pub(crate) enum Value {
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

pub(crate) type Tuple = SmallVec<[Value; 3]>;

/// The payload widths in bits of `keys` packed into one `u64`, when
/// they fit (addresses, networks and namespaces do not). Each value takes
/// its payload and a 2-bit kind above it (see [`pack`]).
pub(crate) fn packing(keys: &[Key]) -> Option<Vec<(Key, u32)>> {
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
pub(crate) fn pack(value: Value, width: u32) -> u64 {
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

/// A tuple's bytes (see [`encode_value`]); any tuple of the keys there
/// are fits inline.
pub(crate) type KeyBytes = SmallVec<[u8; 256]>;

/// Append `value` as bytes that sort as the value does and end where it
/// ends: its kind (the order of [`Value`]'s variants), then its payload;
/// a number as the count of its significant big-endian bytes and those
/// bytes (a longer one is larger). [`decode_tuple`] reads them back.
pub(crate) fn encode_value(value: Value, out: &mut KeyBytes) {
    let number = |n: u64, out: &mut KeyBytes| {
        let bytes = n.to_be_bytes();
        let skip = (n.leading_zeros() / 8) as usize;
        out.push((8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    };
    let address = |a: IpAddr, out: &mut KeyBytes| match a {
        IpAddr::V4(v4) => {
            out.push(4);
            out.extend_from_slice(&v4.octets());
        }
        IpAddr::V6(v6) => {
            out.push(6);
            out.extend_from_slice(&v6.octets());
        }
    };
    match value {
        Value::Null => out.push(0),
        Value::Str(word) => {
            let index = PACKED_WORDS.iter().position(|w| *w == word);
            debug_assert!(index.is_some(), "{word} is not in PACKED_WORDS");
            out.extend_from_slice(&[1, index.unwrap_or(PACKED_WORDS.len() - 1) as u8]);
        }
        Value::Number(n) => {
            out.push(2);
            number(n, out);
        }
        Value::Addr(a) => {
            out.push(3);
            address(a, out);
        }
        Value::Net(a, len) => {
            out.push(4);
            address(a, out);
            out.push(len);
        }
        Value::InetState(proto, state) => out.extend_from_slice(&[5, proto as u8, state]),
        Value::User(uid) => {
            out.push(6);
            number(u64::from(uid), out);
        }
        Value::Program(pid) => {
            out.push(7);
            number(u64::from(pid), out);
        }
        Value::Netns(inode) => {
            out.push(8);
            number(inode, out);
        }
    }
}

/// The tuple [`encode_value`] wrote into `bytes`, value after value.
pub(crate) fn decode_tuple(mut bytes: &[u8]) -> Tuple {
    fn take<'a>(bytes: &mut &'a [u8], n: usize) -> &'a [u8] {
        let (head, tail) = bytes.split_at(n.min(bytes.len()));
        *bytes = tail;
        head
    }
    fn number(bytes: &mut &[u8]) -> u64 {
        let n = take(bytes, 1).first().map_or(0, |n| usize::from(*n));
        take(bytes, n)
            .iter()
            .fold(0, |acc, b| (acc << 8) | u64::from(*b))
    }
    fn address(bytes: &mut &[u8]) -> IpAddr {
        match take(bytes, 1) {
            [6] => {
                <[u8; 16]>::try_from(take(bytes, 16)).map_or(IpAddr::from([0u8; 16]), IpAddr::from)
            }
            _ => <[u8; 4]>::try_from(take(bytes, 4)).map_or(IpAddr::from([0u8; 4]), IpAddr::from),
        }
    }
    let mut tuple = Tuple::new();
    while let Some(&kind) = bytes.first() {
        bytes = &bytes[1..];
        tuple.push(match kind {
            1 => Value::Str(
                PACKED_WORDS[take(&mut bytes, 1).first().map_or(0, |i| usize::from(*i))
                    % PACKED_WORDS.len()],
            ),
            2 => Value::Number(number(&mut bytes)),
            3 => Value::Addr(address(&mut bytes)),
            4 => {
                let a = address(&mut bytes);
                Value::Net(a, take(&mut bytes, 1).first().copied().unwrap_or(0))
            }
            5 => {
                let head = take(&mut bytes, 2);
                let proto = PROTOS[usize::from(head.first().copied().unwrap_or(0)) % PROTOS.len()];
                Value::InetState(proto, head.get(1).copied().unwrap_or(0))
            }
            6 => Value::User(number(&mut bytes) as u32),
            7 => Value::Program(number(&mut bytes) as u32),
            8 => Value::Netns(number(&mut bytes)),
            _ => Value::Null,
        });
    }
    tuple
}

/// The packed key of one socket: `value` gives each key's value.
pub(crate) fn pack_tuple(packing: &[(Key, u32)], value: impl Fn(&Key) -> Value) -> u64 {
    let mut packed = 0u64;
    for (key, width) in packing {
        packed = (packed << (width + 2)) | pack(value(key), *width);
    }
    packed
}

/// The tuple `packed` holds.
pub(crate) fn unpack(packing: &[(Key, u32)], packed: u64) -> Tuple {
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

pub(crate) fn network(address: IpAddr, len: Option<u8>) -> Value {
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

/// A port as a key value: 0 (none) is null.
pub(crate) fn port(number: u16) -> Value {
    if number == 0 {
        Value::Null
    } else {
        Value::Number(u64::from(number))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tcp_state;

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
    fn encoded_tuples_decode_and_sort_as_tuples() {
        let values = [
            Value::Null,
            Value::Str("inet"),
            Value::Str("inet6"),
            Value::Str("tcp"),
            Value::Number(0),
            Value::Number(80),
            Value::Number(443),
            Value::Number(u64::MAX),
            Value::Addr("10.0.0.1".parse().unwrap()),
            Value::Addr("192.168.0.1".parse().unwrap()),
            Value::Addr("::1".parse().unwrap()),
            Value::Addr("fd00::1".parse().unwrap()),
            Value::Net("10.0.0.0".parse().unwrap(), 8),
            Value::Net("10.0.0.0".parse().unwrap(), 24),
            Value::Net("fd00::".parse().unwrap(), 64),
            Value::InetState(InetProto::Tcp, tcp_state::ESTABLISHED),
            Value::InetState(InetProto::Tcp, tcp_state::LISTEN),
            Value::InetState(InetProto::Udp, 7),
            Value::User(0),
            Value::User(1000),
            Value::Program(1),
            Value::Program(4_000_000),
            Value::Netns(4_026_531_840),
        ];
        let mut tuples: Vec<Tuple> = Vec::new();
        for a in &values {
            for b in &values {
                tuples.push([*a, *b].into_iter().collect());
            }
        }
        let encode = |t: &Tuple| {
            let mut bytes = KeyBytes::new();
            for v in t {
                encode_value(*v, &mut bytes);
            }
            bytes
        };
        for t in &tuples {
            assert_eq!(&decode_tuple(&encode(t)), t);
        }
        let mut by_tuple = tuples.clone();
        by_tuple.sort();
        let mut by_bytes = tuples;
        by_bytes.sort_by_key(|t| encode(t));
        assert_eq!(by_tuple, by_bytes);
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
}
