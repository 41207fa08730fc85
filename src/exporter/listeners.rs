//! `nlstat_tcp_listener_*`: the TCP listeners' accept queues, backlogs and
//! connections by state, from the exporter view's counts, one series per
//! address and port: listeners that share them (SO_REUSEPORT) are one
//! group (two series with the same labels would make the exposition
//! invalid), and `nlstat_tcp_listener_sockets` says how many they are.

use crate::render::exposition::{Exposition, Kind};
use crate::views::listeners::{CONNECTION_STATES, ListenerCounts, ListenerGroup};
use std::io;

/// A listener's labels: family, local address, local port.
type Labels = (String, String, String);

/// The listener gauges, listeners by address and port.
pub(super) fn write(e: &mut Exposition<'_>, counts: &ListenerCounts) -> io::Result<()> {
    let groups = counts.groups();
    let labels: Vec<Labels> = groups
        .iter()
        .map(|g| {
            (
                if g.first.is_v6() { "inet6" } else { "inet" }.to_string(),
                g.first.local.to_string(),
                g.first.local_port.to_string(),
            )
        })
        .collect();
    queues(e, &groups, &labels)?;
    e.family(
        "nlstat_tcp_listener_connections",
        Kind::Gauge,
        "Sockets on a TCP listener's address and port, by state.",
    )?;
    for (g, (family, addr, port)) in groups.iter().zip(&labels) {
        let connections = counts.connections(&g.first);
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

/// The accept queue, backlog, longest queue and socket count families.
fn queues(e: &mut Exposition<'_>, groups: &[ListenerGroup], labels: &[Labels]) -> io::Result<()> {
    for (metric, help, pick) in [
        (
            "nlstat_tcp_listener_accept_queue",
            "Connections waiting in a TCP listener's accept queue (its sockets' added up).",
            (|g: &ListenerGroup| g.accept_queue) as fn(&ListenerGroup) -> u64,
        ),
        (
            "nlstat_tcp_listener_backlog",
            "A TCP listener's backlog, the accept queue's limit (its sockets' added up).",
            |g: &ListenerGroup| g.backlog,
        ),
        (
            "nlstat_tcp_listener_accept_queue_longest",
            "The longest accept queue of one listening socket on the address and port \
             (SO_REUSEPORT: a stuck worker's queue fills alone).",
            |g: &ListenerGroup| g.longest_queue,
        ),
        (
            "nlstat_tcp_listener_sockets",
            "Listening sockets on the address and port (more than one with SO_REUSEPORT).",
            |g: &ListenerGroup| g.sockets,
        ),
    ] {
        e.family(metric, Kind::Gauge, help)?;
        for (g, (family, addr, port)) in groups.iter().zip(labels) {
            e.sample(
                metric,
                &[
                    ("family", family),
                    ("local_addr", addr),
                    ("local_port", port),
                ],
                pick(g),
            )?;
        }
    }
    Ok(())
}
