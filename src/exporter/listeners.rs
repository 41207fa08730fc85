//! `nlstat_tcp_listener_*`: each TCP listener's accept queue, backlog and
//! connections by state, from the exporter view's counts.

use crate::model::InetSocket;
use crate::render::exposition::{Exposition, Kind};
use crate::views::listeners::{CONNECTION_STATES, ListenerCounts};
use std::io;

/// A listener's labels: family, local address, local port.
type Labels = (String, String, String);

/// The listener gauges, listeners by address and port.
pub(super) fn write(e: &mut Exposition<'_>, counts: &ListenerCounts) -> io::Result<()> {
    let mut listeners = counts.listeners().to_vec();
    listeners.sort_by_key(|l| (l.local, l.local_port));
    let labels: Vec<Labels> = listeners
        .iter()
        .map(|l| {
            (
                if l.is_v6() { "inet6" } else { "inet" }.to_string(),
                l.local.to_string(),
                l.local_port.to_string(),
            )
        })
        .collect();
    queues(e, &listeners, &labels)?;
    e.family(
        "nlstat_tcp_listener_connections",
        Kind::Gauge,
        "Sockets on a TCP listener's address and port, by state.",
    )?;
    for (l, (family, addr, port)) in listeners.iter().zip(&labels) {
        let connections = counts.connections(l);
        for ((_, word), count) in CONNECTION_STATES.iter().zip(connections) {
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
    Ok(())
}

/// The accept queue and backlog families.
fn queues(e: &mut Exposition<'_>, listeners: &[InetSocket], labels: &[Labels]) -> io::Result<()> {
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
        for (l, (family, addr, port)) in listeners.iter().zip(labels) {
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
    Ok(())
}
