//! `nlstat_ephemeral_ports_*`: ephemeral ports in use for the fullest
//! (local, remote, port) pairs, from the exporter view's counts.

use crate::render::exposition::{Exposition, Kind};
use crate::views::ephemeral::{EphemeralCounts, Pair};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;

/// The ephemeral gauges of the `max_series` fullest pairs (bounded
/// cardinality).
pub(super) fn write(
    e: &mut Exposition<'_>,
    counts: &mut EphemeralCounts,
    max_series: usize,
) -> io::Result<()> {
    let available = counts.available();
    let pairs = fullest(counts, max_series);
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

/// The `max_series` pairs with the most ports in use (kept in a heap),
/// fullest first.
fn fullest(counts: &mut EphemeralCounts, max_series: usize) -> Vec<(Pair, u64)> {
    let mut heap: BinaryHeap<(Reverse<u64>, Pair)> = BinaryHeap::with_capacity(max_series + 1);
    counts.for_each_pair(|key, (in_use, _)| {
        let fuller =
            heap.len() < max_series || heap.peek().is_some_and(|(least, _)| in_use > least.0);
        if fuller && max_series > 0 {
            heap.push((Reverse(in_use), key));
            if heap.len() > max_series {
                heap.pop();
            }
        }
    });
    let mut pairs: Vec<(Pair, u64)> = heap.into_iter().map(|(n, key)| (key, n.0)).collect();
    pairs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    pairs
}
