//! `--info`'s families: per TCP listener (its established connections)
//! and per backend (outbound connections by remote address and port, the
//! busiest `--max-series`), the round-trip time histogram
//! `nlstat_tcp_rtt_seconds` and gauges of the health sums
//! (`views::health`). Each series is labelled `role="listener"` with the
//! listener's family, address and port, or `role="backend"` with the
//! remote address and port.

use crate::render::exposition::{Exposition, Kind};
use crate::views::health::{Health, LIMITED, RTT_BOUNDS_US};
use crate::views::listeners::ListenerCounts;
use std::io;
use std::net::IpAddr;

/// The sums as gauges: (sum, metric, help). The sums are over the sockets
/// open now, so they may fall: gauges, not counters.
const GAUGES: [(&str, &str, &str); 11] = [
    (
        "retrans",
        "nlstat_tcp_unacked_retrans_segments",
        "Retransmitted segments not yet acknowledged (tcpi_retrans), summed over the sockets.",
    ),
    (
        "total_retrans",
        "nlstat_tcp_retransmitted_segments",
        "Segments the open sockets retransmitted in their lives (tcpi_total_retrans).",
    ),
    (
        "lost",
        "nlstat_tcp_lost_segments",
        "Segments the sockets consider lost now (tcpi_lost).",
    ),
    (
        "bytes_sent",
        "nlstat_tcp_sent_bytes",
        "Bytes the open sockets sent, retransmissions included (tcpi_bytes_sent).",
    ),
    (
        "bytes_acked",
        "nlstat_tcp_acked_bytes",
        "Bytes the open sockets' peers acknowledged (tcpi_bytes_acked).",
    ),
    (
        "bytes_received",
        "nlstat_tcp_received_bytes",
        "Bytes the open sockets received (tcpi_bytes_received).",
    ),
    (
        "bytes_retrans",
        "nlstat_tcp_retransmitted_bytes",
        "Bytes the open sockets retransmitted (tcpi_bytes_retrans).",
    ),
    (
        "notsent_bytes",
        "nlstat_tcp_notsent_bytes",
        "Bytes written but not yet sent (tcpi_notsent_bytes).",
    ),
    (
        "recv_q",
        "nlstat_tcp_receive_queue_bytes",
        "Bytes received and not yet read (Recv-Q).",
    ),
    (
        "send_q",
        "nlstat_tcp_send_queue_bytes",
        "Bytes written and not yet acknowledged (Send-Q).",
    ),
    (
        "drops",
        "nlstat_tcp_dropped_packets",
        "Packets the sockets dropped (SK_MEMINFO_DROPS).",
    ),
];

/// One series' labels and health.
struct Series {
    labels: Vec<(&'static str, String)>,
    health: Health,
}

/// The health families of this collection's listeners and backends.
pub(super) fn write(
    e: &mut Exposition<'_>,
    listeners: &ListenerCounts,
    backends: &[(&(IpAddr, u16), &Health)],
) -> io::Result<()> {
    let mut series = listener_series(listeners);
    series.extend(backends.iter().map(|((addr, port), health)| Series {
        labels: vec![
            ("role", "backend".into()),
            ("remote_addr", addr.to_string()),
            ("remote_port", port.to_string()),
        ],
        health: (*health).clone(),
    }));
    rtt_histogram(e, &series)?;
    for (sum, metric, help) in GAUGES {
        e.family(metric, Kind::Gauge, help)?;
        for s in &series {
            if let Some(value) = s.health.sum(sum) {
                e.sample(metric, &labels_of(&s.labels, None), value)?;
            }
        }
    }
    e.family(
        "nlstat_tcp_limited_sockets",
        Kind::Gauge,
        "Sockets held back now by the peer's receive window (rwnd), their send buffer (sndbuf) or the congestion window (cwnd).",
    )?;
    for s in &series {
        for name in LIMITED {
            let limit = name.trim_start_matches("limited_");
            let value = s.health.limited(name).unwrap_or(0);
            let labels = labels_of(&s.labels, Some(("limit", limit)));
            e.sample("nlstat_tcp_limited_sockets", &labels, value)?;
        }
    }
    Ok(())
}

/// Every listener's series, by address and port (one for the sockets
/// that share them).
fn listener_series(counts: &ListenerCounts) -> Vec<Series> {
    counts
        .groups()
        .iter()
        .map(|g| &g.first)
        .filter_map(|l| {
            Some(Series {
                labels: vec![
                    ("role", "listener".into()),
                    ("family", if l.is_v6() { "inet6" } else { "inet" }.into()),
                    ("local_addr", l.local.to_string()),
                    ("local_port", l.local_port.to_string()),
                ],
                health: counts.health(l)?,
            })
        })
        .collect()
}

fn labels_of<'a>(
    labels: &'a [(&'static str, String)],
    extra: Option<(&'static str, &'a str)>,
) -> Vec<(&'a str, &'a str)> {
    labels
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .chain(extra)
        .collect()
}

/// `nlstat_tcp_rtt_seconds`: the sockets' smoothed round-trip times
/// (sockets without a sample left out), cumulative per bound.
fn rtt_histogram(e: &mut Exposition<'_>, series: &[Series]) -> io::Result<()> {
    const NAME: &str = "nlstat_tcp_rtt_seconds";
    e.family(
        NAME,
        Kind::GaugeHistogram,
        "Smoothed round-trip times of the TCP sockets open now (tcpi_rtt).",
    )?;
    let (count_suffix, sum_suffix) = e.suffixes();
    let bounds: Vec<String> = RTT_BOUNDS_US
        .iter()
        .map(|us| seconds(u64::from(*us)))
        .chain(std::iter::once("+Inf".to_string()))
        .collect();
    for s in series {
        let (buckets, count, sum_us) = s.health.rtt_histogram();
        let mut cumulative = 0u64;
        for (bucket, le) in buckets.iter().zip(&bounds) {
            cumulative += u64::from(*bucket);
            let labels = labels_of(&s.labels, Some(("le", le)));
            e.sample(&format!("{NAME}_bucket"), &labels, cumulative)?;
        }
        let labels = labels_of(&s.labels, None);
        e.sample(&format!("{NAME}{count_suffix}"), &labels, count)?;
        e.sample(&format!("{NAME}{sum_suffix}"), &labels, seconds(sum_us))?;
    }
    Ok(())
}

/// Microseconds as seconds, exactly (no float rounding: `0.00025`).
fn seconds(us: u64) -> String {
    let (whole, fraction) = (us / 1_000_000, us % 1_000_000);
    if fraction == 0 {
        return format!("{whole}");
    }
    let digits = format!("{fraction:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microseconds_print_as_exact_seconds() {
        assert_eq!(seconds(100), "0.0001");
        assert_eq!(seconds(250), "0.00025");
        assert_eq!(seconds(1_000_000), "1");
        assert_eq!(seconds(2_500_000), "2.5");
        assert_eq!(seconds(0), "0");
    }
}
