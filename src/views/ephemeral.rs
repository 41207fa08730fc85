//! `--ephemeral` (and the exporter's ephemeral gauges): ephemeral ports in
//! use per (local address, remote address, remote port), against the
//! ports the range leaves after the reserved ones. The counts know nothing
//! of text or JSON: a tick's [`Report`] is printed by [`write`].

use super::change::{change, vanished};
use super::output::{delta_text, json_delta, write_table};
use crate::config::Config;
use crate::model::{InetProto, InetSocket, tcp_state};
use crate::render::json::JsonLine;
use rustc_hash::FxHashMap;
use std::io::{self, Write};
use std::net::IpAddr;

/// (local address, remote address, remote port).
pub(crate) type Pair = (IpAddr, IpAddr, u16);

/// (local address, remote address, remote port), (in use, TIME_WAIT),
/// percent used.
type EphemeralRow = (Pair, (u64, u64), u64);

/// Connections counted per pair, kept across `-c` ticks for the deltas.
pub(crate) struct EphemeralCounts {
    /// The port range and the reserved ports in it.
    range: (u16, u16),
    reserved_in_range: u64,
    /// IPv4 pairs as packed keys (local, remote, port, TIME_WAIT bit),
    /// counted by sorting at the end of the tick: appending is cheaper
    /// than a hash insert per connection.
    pairs4: Vec<u128>,
    /// Other pairs: (in use, TIME_WAIT) per (local, remote, port).
    pairs6: FxHashMap<(u128, u128, u16), (u64, u64)>,
    /// Ports in use per pair at the previous tick.
    previous_pairs: Option<FxHashMap<Pair, u64>>,
}

impl Default for EphemeralCounts {
    fn default() -> Self {
        EphemeralCounts {
            range: (32768, 60999),
            reserved_in_range: 0,
            pairs4: Vec::new(),
            pairs6: FxHashMap::default(),
            previous_pairs: None,
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

    /// This tick's report: rows fullest first, then the pairs gone since
    /// the previous tick (once more, with nothing in use); each with its
    /// change (`-c`).
    pub(crate) fn report(&mut self, config: &Config) -> Report {
        let available = self.available();
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
        let now: FxHashMap<Pair, u64> = rows.iter().map(|(key, (n, _), _)| (*key, *n)).collect();
        let mut gone: Vec<(Pair, i64)> = vanished(previous.as_ref(), None, |k| now.contains_key(k))
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
        Report {
            rows,
            deltas,
            range: self.range,
            reserved: self.reserved_in_range,
            available,
        }
    }
}

/// What `--ephemeral` prints for one tick.
pub(crate) struct Report {
    rows: Vec<EphemeralRow>,
    deltas: Vec<Option<i64>>,
    range: (u16, u16),
    reserved: u64,
    available: u64,
}

/// Print `--ephemeral` for one tick.
pub(crate) fn write(
    out: &mut dyn Write,
    config: &Config,
    json: &JsonLine,
    report: &Report,
) -> io::Result<()> {
    let Report {
        rows,
        deltas,
        available,
        ..
    } = report;
    if config.output.is_json() {
        return write_json(out, config, json.clone(), rows, deltas, *available);
    }
    let (lo, hi) = report.range;
    writeln!(
        out,
        "Ephemeral ports {lo}-{hi} ({available} available per (local, remote, port) after {} reserved)",
        report.reserved
    )?;
    write_text(out, config, rows, deltas, *available)
}

/// `--ephemeral --json`: an `ephemeral` object per pair.
fn write_json(
    out: &mut dyn Write,
    config: &Config,
    mut line: JsonLine,
    rows: &[EphemeralRow],
    deltas: &[Option<i64>],
    available: u64,
) -> io::Result<()> {
    for (((local, remote, port), (in_use, tw), pct), delta) in rows.iter().zip(deltas) {
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
            json_delta(&mut line, *delta);
        }
        line.end(out)?;
    }
    Ok(())
}

/// `--ephemeral` as an aligned table.
fn write_text(
    out: &mut dyn Write,
    config: &Config,
    rows: &[EphemeralRow],
    deltas: &[Option<i64>],
    available: u64,
) -> io::Result<()> {
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
        .zip(deltas)
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
}
