//! `--ephemeral` (and the exporter's ephemeral gauges): ephemeral ports in
//! use per (local address, remote address, remote port), against the
//! ports the range leaves after the reserved ones. The counts know nothing
//! of text or JSON: a tick's [`Report`] is printed by [`write`].

use super::output::{delta_text, json_delta, write_table};
use crate::config::Config;
use crate::model::{InetProto, InetSocket, tcp_state};
use crate::render::json::JsonLine;
use rustc_hash::FxHashMap;
use std::io::{self, Write};
use std::net::IpAddr;

/// (local address, remote address, remote port).
pub(crate) type Pair = (IpAddr, IpAddr, u16);

/// A row's pair: an IPv4 pair packed as (local << 48 | remote << 16 |
/// remote port), whose order is [`Pair`]'s; with [`V6_KEY`] set, an index
/// into the report's other pairs (numbered in their order too).
type PackedPair = u128;
const V6_KEY: u128 = 1 << 127;

/// A pair of other families: (local, remote) as IPv6 bits, remote port.
type Pair6 = (u128, u128, u16);

/// The ports in use per pair at the previous tick, in key order: IPv4 as
/// (packed pair << 32 | in use), 16 bytes a pair, so that 200 000 pairs
/// keep their deltas in a few MiB; other families beside.
#[derive(Default)]
struct Previous {
    v4: Vec<u128>,
    v6: Vec<(Pair6, u32)>,
}

/// Connections counted per pair, kept across `-c` ticks for the deltas.
pub(crate) struct EphemeralCounts {
    /// The port range and the reserved ports in it.
    range: (u16, u16),
    reserved_in_range: u64,
    /// IPv4 pairs as packed keys (packed pair << 1 | TIME_WAIT bit),
    /// counted by sorting at the end of the tick: appending is cheaper
    /// than a hash insert per connection.
    pairs4: Vec<u128>,
    /// Other pairs: (in use, TIME_WAIT) per (local, remote, port).
    pairs6: FxHashMap<Pair6, (u64, u64)>,
    /// The previous tick's pairs (`-c`).
    previous: Option<Previous>,
}

impl Default for EphemeralCounts {
    fn default() -> Self {
        EphemeralCounts {
            range: (32768, 60999),
            reserved_in_range: 0,
            pairs4: Vec::new(),
            pairs6: FxHashMap::default(),
            previous: None,
        }
    }
}

impl EphemeralCounts {
    /// Read the port range and the reserved ports before counting.
    pub(crate) fn start_tick(&mut self, root: &crate::collect::procfs::ProcRoot) {
        self.range = port_range(root);
        let (lo, hi) = self.range;
        self.reserved_in_range = root
            .read_text("sys/net/ipv4/ip_local_reserved_ports")
            .map(|text| reserved_count(&text, lo, hi))
            .unwrap_or(0);
    }

    /// This tick's ephemeral port range.
    pub(crate) fn range(&self) -> (u16, u16) {
        self.range
    }

    pub(crate) fn add(&mut self, socket: &InetSocket) {
        let (lo, hi) = self.range;
        if socket.proto == InetProto::Tcp
            && socket.remote_port != 0
            && (lo..=hi).contains(&socket.local_port)
        {
            let time_wait = socket.state == tcp_state::TIME_WAIT;
            match (socket.local, socket.remote) {
                (IpAddr::V4(l), IpAddr::V4(r)) => self.pairs4.push(
                    (pack4(u32::from(l), u32::from(r), socket.remote_port) << 1)
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

    /// Start counting afresh (the previous tick's pairs stay for `-c`).
    pub(crate) fn clear(&mut self) {
        self.pairs4.clear();
        self.pairs6.clear();
    }

    /// The ports a pair may use: the range minus the reserved ports.
    pub(crate) fn available(&self) -> u64 {
        let (lo, hi) = self.range;
        (u64::from(hi) + 1)
            .saturating_sub(u64::from(lo))
            .saturating_sub(self.reserved_in_range)
    }

    /// Every counted pair: ((local, remote, remote port), (in use,
    /// TIME_WAIT)), without collecting them.
    pub(crate) fn for_each_pair(&mut self, mut visit: impl FnMut(Pair, (u64, u64))) {
        self.pairs4.sort_unstable();
        for (pair, counts) in groups4(&self.pairs4) {
            visit(unpack4(pair), counts);
        }
        for (pair, counts) in &self.pairs6 {
            visit(unpack6(pair), *counts);
        }
    }

    /// This tick's report: rows fullest first, then the pairs gone since
    /// the previous tick (once more, with nothing in use); each with its
    /// change (`-c`). This tick's pairs and the previous tick's are walked
    /// together in key order: no map of the pairs is built.
    pub(crate) fn report(&mut self, config: &Config) -> Report {
        self.pairs4.sort_unstable();
        let distinct4 = groups4(&self.pairs4).count();
        let mut pairs6: Vec<(Pair6, (u64, u64))> =
            self.pairs6.iter().map(|(k, c)| (*k, *c)).collect();
        pairs6.sort_unstable();
        let before = self.previous.take();
        let mut report = Report {
            rows: Vec::with_capacity(distinct4 + pairs6.len()),
            gone: Vec::new(),
            v6: Vec::new(),
            first: before.is_none(),
            range: self.range,
            reserved: self.reserved_in_range,
            available: self.available(),
        };
        let before = before.unwrap_or_default();
        let keep = config.continuous;
        let mut now = Previous {
            v4: Vec::with_capacity(if keep { distinct4 } else { 0 }),
            v6: Vec::new(),
        };
        let Report { rows, gone, v6, .. } = &mut report;
        merge(
            groups4(&self.pairs4),
            before
                .v4
                .iter()
                .map(|packed| (packed >> 32, *packed as u32)),
            |pair| pair,
            (rows, gone),
            |pair, in_use| {
                if keep {
                    now.v4.push((pair << 32) | u128::from(in_use));
                }
            },
        );
        let mut index6 = |pair: Pair6| {
            v6.push(pair);
            V6_KEY | (v6.len() - 1) as u128
        };
        merge(
            pairs6.into_iter(),
            before.v6.into_iter(),
            &mut index6,
            (rows, gone),
            |pair, in_use| {
                if keep {
                    now.v6.push((pair, in_use));
                }
            },
        );
        // fullest first: the percentage grows with the ports in use
        rows.sort_unstable_by(|a, b| b.in_use.cmp(&a.in_use).then(a.key.cmp(&b.key)));
        if keep {
            self.previous = Some(now);
        }
        report
    }
}

/// Sorted IPv4 keys (packed pair << 1 | TIME_WAIT bit) as (packed pair,
/// (in use, TIME_WAIT)) per pair, in order.
fn groups4(sorted: &[u128]) -> impl Iterator<Item = (PackedPair, (u64, u64))> + '_ {
    sorted.chunk_by(|a, b| a >> 1 == b >> 1).map(|same| {
        let time_wait = same.iter().filter(|key| *key & 1 == 1).count();
        (same[0] >> 1, (same.len() as u64, time_wait as u64))
    })
}

/// Walk this tick's pairs and the previous tick's (in use per pair), both
/// in key order: a row per pair counted now with its change, a gone row
/// per pair counted before and not now; `kept` sees each pair counted now.
fn merge<K: Ord + Copy>(
    now: impl Iterator<Item = (K, (u64, u64))>,
    before: impl Iterator<Item = (K, u32)>,
    mut key_of: impl FnMut(K) -> PackedPair,
    (rows, gone): (&mut Vec<Row>, &mut Vec<Row>),
    mut kept: impl FnMut(K, u32),
) {
    let mut before = before.peekable();
    for (pair, (in_use, time_wait)) in now {
        let mut was = 0;
        while let Some(&(old, n)) = before.peek()
            && old <= pair
        {
            before.next();
            if old == pair {
                was = n;
            } else {
                gone.push(Row::gone(key_of(old), n));
            }
        }
        let in_use = saturating_u32(in_use);
        rows.push(Row {
            key: key_of(pair),
            in_use,
            time_wait: saturating_u32(time_wait),
            delta: i64::from(in_use) - i64::from(was),
        });
        kept(pair, in_use);
    }
    for (old, n) in before {
        gone.push(Row::gone(key_of(old), n));
    }
}

fn saturating_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One pair of a report: its key, ports in use, of them in TIME_WAIT, and
/// the change since the previous tick. 32 bytes.
#[derive(Clone, Copy)]
struct Row {
    key: PackedPair,
    in_use: u32,
    time_wait: u32,
    delta: i64,
}

impl Row {
    /// A pair gone since the previous tick, when it had `was` in use.
    fn gone(key: PackedPair, was: u32) -> Row {
        Row {
            key,
            in_use: 0,
            time_wait: 0,
            delta: -i64::from(was),
        }
    }
}

/// What `--ephemeral` prints for one tick.
pub(crate) struct Report {
    /// The pairs counted, fullest first.
    rows: Vec<Row>,
    /// The pairs gone since the previous tick, in key order.
    gone: Vec<Row>,
    /// The pairs of other families that rows name by index.
    v6: Vec<Pair6>,
    /// No previous tick: no changes to show.
    first: bool,
    range: (u16, u16),
    reserved: u64,
    available: u64,
}

impl Report {
    /// Each row as (pair, (in use, TIME_WAIT), percent used, change).
    fn each(&self) -> impl Iterator<Item = (Pair, (u64, u64), u64, Option<i64>)> + '_ {
        self.rows.iter().chain(&self.gone).map(|row| {
            let pair = if row.key & V6_KEY == 0 {
                unpack4(row.key)
            } else {
                unpack6(&self.v6[(row.key & !V6_KEY) as usize])
            };
            let in_use = u64::from(row.in_use);
            let pct = if in_use == 0 {
                0
            } else {
                (in_use * 100).checked_div(self.available).unwrap_or(100)
            };
            let delta = (!self.first).then_some(row.delta);
            (pair, (in_use, u64::from(row.time_wait)), pct, delta)
        })
    }
}

/// Print `--ephemeral` for one tick.
pub(crate) fn write(
    out: &mut dyn Write,
    config: &Config,
    json: &JsonLine,
    report: &Report,
) -> io::Result<()> {
    let available = report.available;
    if config.output.is_json() {
        return write_json(out, config, json.clone(), report);
    }
    let (lo, hi) = report.range;
    writeln!(
        out,
        "Ephemeral ports {lo}-{hi} ({available} available per (local, remote, port) after {} reserved)",
        report.reserved
    )?;
    write_text(out, config, report)
}

/// `--ephemeral --json`: an `ephemeral` object per pair.
fn write_json(
    out: &mut dyn Write,
    config: &Config,
    mut line: JsonLine,
    report: &Report,
) -> io::Result<()> {
    for ((local, remote, port), (in_use, tw), pct, delta) in report.each() {
        line.begin("ephemeral")
            .ip("local_addr", local)
            .ip("remote_addr", remote)
            .u64("remote_port", u64::from(port))
            .u64("in_use", in_use)
            .u64("time_wait", tw)
            .u64("available", report.available)
            .u64("used_pct", pct)
            .bool("near_exhaustion", pct >= 80);
        if config.continuous {
            json_delta(&mut line, delta);
        }
        line.end(out)?;
    }
    Ok(())
}

/// `--ephemeral` as an aligned table.
fn write_text(out: &mut dyn Write, config: &Config, report: &Report) -> io::Result<()> {
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
    let table: Vec<Vec<String>> = report
        .each()
        .map(|((local, remote, port), (in_use, tw), pct, delta)| {
            let mut cells = vec![
                local.to_string(),
                remote.to_string(),
                port.to_string(),
                in_use.to_string(),
                tw.to_string(),
                report.available.to_string(),
                pct.to_string(),
                if pct >= 80 {
                    "NEAR EXHAUSTION".into()
                } else {
                    String::new()
                },
            ];
            if config.continuous {
                cells.push(delta_text(delta));
            }
            cells
        })
        .collect();
    write_table(out, &header, &table, 3)
}

/// An IPv4 pair packed in [`PackedPair`]'s order.
fn pack4(local: u32, remote: u32, port: u16) -> PackedPair {
    (u128::from(local) << 48) | (u128::from(remote) << 16) | u128::from(port)
}

fn unpack4(pair: PackedPair) -> Pair {
    let local = (pair >> 48) as u32;
    let remote = (pair >> 16) as u32;
    (
        IpAddr::V4(local.into()),
        IpAddr::V4(remote.into()),
        pair as u16,
    )
}

/// Other families' pairs show as IPv6 (IPv4 as IPv4-mapped).
fn unpack6(&(local, remote, port): &Pair6) -> Pair {
    (IpAddr::V6(local.into()), IpAddr::V6(remote.into()), port)
}

/// An address as IPv6 bits (IPv4 as IPv4-mapped), for compact keys.
fn v6_bits(address: IpAddr) -> u128 {
    match address {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// net.ipv4.ip_local_port_range as this namespace sees it.
pub(crate) fn port_range(root: &crate::collect::procfs::ProcRoot) -> (u16, u16) {
    root.read_text("sys/net/ipv4/ip_local_port_range")
        .and_then(|text| {
            let mut parts = text
                .split_whitespace()
                .filter_map(|p| p.parse::<u16>().ok());
            Some((parts.next()?, parts.next()?))
        })
        .unwrap_or((32768, 60999))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_ports_in_range() {
        assert_eq!(reserved_count("", 1000, 2000), 0);
        assert_eq!(reserved_count("1500,1600-1609,3000\n", 1000, 2000), 11);
        assert_eq!(reserved_count("900-1005", 1000, 2000), 6);
    }

    /// `n` connections from `local` to `remote`:`port` (ephemeral local
    /// ports), the first `time_wait` of them in TIME_WAIT.
    fn connect(
        counts: &mut EphemeralCounts,
        local: &str,
        remote: &str,
        port: u16,
        n: u16,
        time_wait: u16,
    ) {
        for i in 0..n {
            let state = if i < time_wait {
                tcp_state::TIME_WAIT
            } else {
                tcp_state::ESTABLISHED
            };
            let socket = InetSocket::tcp(
                state,
                (local.parse().unwrap(), 40000 + i),
                (remote.parse().unwrap(), port),
            );
            counts.add(&socket);
        }
    }

    fn rows(counts: &mut EphemeralCounts) -> Vec<(String, u64, u64, Option<i64>)> {
        let config = Config {
            continuous: true,
            ..Config::default()
        };
        let report = counts.report(&config);
        counts.clear();
        report
            .each()
            .map(|((l, r, p), (in_use, tw), _, delta)| (format!("{l} {r} {p}"), in_use, tw, delta))
            .collect()
    }

    #[test]
    fn pairs_fullest_first_then_by_key_with_changes_and_gone_pairs() {
        let mut counts = EphemeralCounts::default();
        connect(&mut counts, "10.0.0.2", "10.0.0.1", 80, 3, 1);
        connect(&mut counts, "10.0.0.1", "10.0.0.9", 443, 3, 0);
        connect(&mut counts, "fe80::1", "fe80::2", 80, 3, 2);
        connect(&mut counts, "::1", "::1", 80, 5, 0);
        connect(&mut counts, "10.0.0.1", "::ffff:10.0.0.1", 9, 1, 0);
        let first = rows(&mut counts);
        let expected = [
            ("::1 ::1 80", 5, 0, None),
            ("10.0.0.1 10.0.0.9 443", 3, 0, None),
            ("10.0.0.2 10.0.0.1 80", 3, 1, None),
            ("fe80::1 fe80::2 80", 3, 2, None),
            ("::ffff:10.0.0.1 ::ffff:10.0.0.1 9", 1, 0, None),
        ];
        let as_strings = |rows: &[(&str, u64, u64, Option<i64>)]| {
            rows.iter()
                .map(|(k, a, b, d)| (k.to_string(), *a, *b, *d))
                .collect::<Vec<_>>()
        };
        assert_eq!(first, as_strings(&expected));
        // the next tick: one pair grows, one shrinks, one is new, three go
        connect(&mut counts, "10.0.0.2", "10.0.0.1", 80, 4, 0);
        connect(&mut counts, "::1", "::1", 80, 2, 0);
        connect(&mut counts, "10.0.0.3", "10.0.0.1", 80, 1, 0);
        let second = rows(&mut counts);
        let expected = [
            ("10.0.0.2 10.0.0.1 80", 4, 0, Some(1)),
            ("::1 ::1 80", 2, 0, Some(-3)),
            ("10.0.0.3 10.0.0.1 80", 1, 0, Some(1)),
            ("10.0.0.1 10.0.0.9 443", 0, 0, Some(-3)),
            ("::ffff:10.0.0.1 ::ffff:10.0.0.1 9", 0, 0, Some(-1)),
            ("fe80::1 fe80::2 80", 0, 0, Some(-3)),
        ];
        assert_eq!(second, as_strings(&expected));
        // gone pairs show once
        assert_eq!(rows(&mut counts).len(), 3);
    }
}
