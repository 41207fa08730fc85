//! `--serve --events` / `--textfile --events`: counters of the TCP closes
//! sock_diag reports, per listener (server ends: the local address and
//! port of a listener, or a wildcard listener on that port) and per
//! backend (client ends, by remote address and port; the busiest
//! `--max-series`), with the sums of the closed sockets' final
//! `total_retrans`, `bytes_acked` and `bytes_received`; and the events
//! received and lost. A thread receives the events; collections read the
//! counters. Labels follow the health families': `role="listener"` with
//! family, local_addr and local_port, `role="backend"` with remote_addr
//! and remote_port.

use crate::collect::events::Closed;
use crate::collect::tcp_info::{Field, TcpInfo};
use crate::config::Config;
use crate::drivers::events::{Listening, Totals};
use crate::error::Result;
use crate::model::{InetProto, tcp_state};
use crate::render::exposition::{Exposition, Kind};
use rustc_hash::FxHashMap;
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where a closed TCP socket is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Series {
    /// A server end: the listener's address and port.
    Listener(IpAddr, u16),
    /// A client end: the remote address and port.
    Backend(IpAddr, u16),
}

/// What the closes of one series add up to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Sums {
    closes: u64,
    with_retrans: u64,
    total_retrans: u64,
    bytes_acked: u64,
    bytes_received: u64,
}

/// One namespace's counters.
#[derive(Debug, Default)]
pub struct Closes {
    /// The namespace's TCP listeners: every one seen at a refresh (every
    /// second); a server end of a listener opened and closed between two
    /// refreshes counts as a backend's close.
    listeners: Vec<(IpAddr, u16)>,
    series: FxHashMap<Series, Sums>,
    /// Closes of series past [`MAX_KEPT`], counted but not labelled.
    untracked: u64,
    totals: Totals,
}

/// Series (and listeners) kept per namespace: about 8 MiB of counters.
/// Client ends whose listener nlstat never saw count per client port; on
/// a host with many of those the map would otherwise grow for ever.
const MAX_KEPT: usize = 100_000;

impl Closes {
    /// Count one closed socket (TCP only; a listener's own close and
    /// unconnected sockets have no series).
    pub fn add(&mut self, closed: &Closed<'_>) {
        let s = &closed.socket;
        if s.proto != InetProto::Tcp || s.remote_port == 0 || s.state == tcp_state::LISTEN {
            return;
        }
        // a wildcard listener has the sockets of its own family only (a
        // `::` listener's IPv4 clients are IPv4-mapped IPv6 sockets)
        let listener = self.listeners.iter().find(|(addr, port)| {
            *port == s.local_port
                && addr.is_ipv4() == s.local.is_ipv4()
                && (addr.is_unspecified() || *addr == s.local)
        });
        let key = match listener {
            Some(&(addr, port)) => Series::Listener(addr, port),
            None => Series::Backend(s.remote, s.remote_port),
        };
        if self.series.len() >= MAX_KEPT && !self.series.contains_key(&key) {
            self.untracked += 1;
            return;
        }
        let info = TcpInfo::new(closed.ext.info);
        let sums = self.series.entry(key).or_default();
        let total_retrans = info.get_or_zero(Field::TOTAL_RETRANS);
        sums.closes += 1;
        sums.with_retrans += u64::from(total_retrans > 0);
        sums.total_retrans += total_retrans;
        sums.bytes_acked += info.get_or_zero(Field::BYTES_ACKED);
        sums.bytes_received += info.get_or_zero(Field::BYTES_RECEIVED);
    }
}

/// Every namespace's counters, by namespace inode.
pub type Shared = Arc<Mutex<FxHashMap<u64, Closes>>>;

/// The counter families: (sum, metric base name, help).
type Pick = fn(&Sums) -> u64;

const COUNTERS: [(Pick, &str, &str); 5] = [
    (
        |s| s.closes,
        "nlstat_socket_closes",
        "TCP sockets closed (sock_diag destroy events), per listener or backend.",
    ),
    (
        |s| s.with_retrans,
        "nlstat_socket_closes_retransmitted",
        "TCP sockets closed that had retransmitted at least once (tcpi_total_retrans > 0).",
    ),
    (
        |s| s.total_retrans,
        "nlstat_socket_closes_retrans_segments",
        "Segments the closed TCP sockets retransmitted in their lives (final tcpi_total_retrans).",
    ),
    (
        |s| s.bytes_acked,
        "nlstat_socket_closes_acked_bytes",
        "Bytes the closed TCP sockets' peers acknowledged (final tcpi_bytes_acked).",
    ),
    (
        |s| s.bytes_received,
        "nlstat_socket_closes_received_bytes",
        "Bytes the closed TCP sockets received (final tcpi_bytes_received).",
    ),
];

/// The close families of one namespace: every listener, the busiest
/// `max_series` backends (by closes, then address).
pub(super) fn write(
    e: &mut Exposition<'_>,
    closes: Option<&Closes>,
    max_series: usize,
) -> io::Result<()> {
    let empty = Closes::default();
    let closes = closes.unwrap_or(&empty);
    let mut listeners: Vec<(&Series, &Sums)> = Vec::new();
    let mut backends: Vec<(&Series, &Sums)> = Vec::new();
    for entry in &closes.series {
        match entry.0 {
            Series::Listener(..) => listeners.push(entry),
            Series::Backend(..) => backends.push(entry),
        }
    }
    listeners.sort_by_key(|(k, _)| **k);
    backends.sort_by(|a, b| b.1.closes.cmp(&a.1.closes).then(a.0.cmp(b.0)));
    backends.truncate(max_series);
    let labelled: Vec<(Vec<(&str, String)>, &Sums)> = listeners
        .iter()
        .chain(&backends)
        .map(|(key, sums)| (labels(key), *sums))
        .collect();
    for (value, name, help) in COUNTERS {
        e.family(name, Kind::Counter, help)?;
        let sample = format!("{name}_total");
        for (labels, sums) in &labelled {
            let pairs: Vec<(&str, &str)> = labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
            e.sample(&sample, &pairs, value(sums))?;
        }
    }
    for (name, help, value) in [
        (
            "nlstat_socket_closes_untracked",
            "TCP closes of series past the 100 000 kept per namespace (counted in no series).",
            closes.untracked,
        ),
        (
            "nlstat_events_received",
            "Close events received from sock_diag's destroy groups.",
            closes.totals.received,
        ),
        (
            "nlstat_events_lost",
            "Close events the kernel dropped because nlstat's receive buffer was full (SK_MEMINFO_DROPS).",
            closes.totals.lost,
        ),
    ] {
        e.family(name, Kind::Counter, help)?;
        e.sample(&format!("{name}_total"), &[], value)?;
    }
    Ok(())
}

/// A series' labels, as the health families write them.
fn labels(key: &Series) -> Vec<(&'static str, String)> {
    let family = |a: &IpAddr| if a.is_ipv4() { "inet" } else { "inet6" }.to_string();
    match key {
        Series::Listener(addr, port) => vec![
            ("role", "listener".into()),
            ("family", family(addr)),
            ("local_addr", addr.to_string()),
            ("local_port", port.to_string()),
        ],
        Series::Backend(addr, port) => vec![
            ("role", "backend".into()),
            ("remote_addr", addr.to_string()),
            ("remote_port", port.to_string()),
        ],
    }
}

/// Subscribe (on the calling thread: each subscription in its namespace)
/// and count on a thread of its own until the process ends or a stop is
/// asked for.
pub fn start(config: &Config) -> Result<Shared> {
    // only TCP closes are counted: UDP's would only fill the buffer
    let listening = crate::drivers::events::subscribe(config, true)?;
    let shared: Shared = Arc::default();
    let counters = Arc::clone(&shared);
    let config = config.clone();
    std::thread::Builder::new()
        .name("close events".into())
        .spawn(move || count(listening, &counters, &config))
        .map_err(|e| crate::error::Error::netlink("starting the close events thread", e))?;
    Ok(shared)
}

/// The counting loop: the listeners of each namespace every second, the
/// events as they come.
fn count(mut listening: Vec<Listening>, shared: &Shared, config: &Config) {
    let compiled = config.query.as_ref().map(|q| {
        crate::filter::CompiledQuery::new(
            q,
            crate::filter::Placement {
                kernel: false,
                user: true,
            },
        )
    });
    let filter = crate::filter::SocketFilter {
        all: true,
        listening: false,
        compiled: compiled.as_ref(),
    };
    let mut refreshed: Option<Instant> = None;
    while !crate::io::stop::requested() {
        if refreshed.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
            refreshed = Some(Instant::now());
            for l in &mut listening {
                let now = l.listeners();
                let mut all = shared.lock().unwrap_or_else(|e| e.into_inner());
                let known = &mut all.entry(l.inode()).or_default().listeners;
                // a listener once seen stays one: its last connections
                // may close after it
                known.extend(now);
                known.sort_unstable();
                known.dedup();
                known.truncate(MAX_KEPT);
            }
        }
        crate::drivers::events::wait(&listening, Duration::from_millis(200));
        for l in &mut listening {
            let mut all = shared.lock().unwrap_or_else(|e| e.into_inner());
            let closes = all.entry(l.inode()).or_default();
            let mut totals = closes.totals;
            let drained = l.drain(&mut totals, None, &mut |closed| {
                if filter.keep_inet(&closed.socket) {
                    closes.add(closed);
                }
                Ok(())
            });
            closes.totals = totals;
            if let Err(e) = drained {
                eprintln!("{}: {e}", config.program_name);
                return;
            }
        }
    }
}
