//! `--listeners` (and the exporter's listener gauges): each TCP listener's
//! accept queue and backlog, and the connections on its address and port
//! by state; with the kernel's listen counters (TcpExt). The counts know
//! nothing of text or JSON: a tick's [`Report`] is printed by [`write`].

use super::change::change;
use super::health::{self, Health};
use super::output::{delta_text, json_delta, write_table};
use super::sockstat::listen_counters;
use crate::config::Config;
use crate::enrich::processes::ProcessIndex;
use crate::model::{InetProto, InetSocket, SocketExt, tcp_state};
use crate::render::json::JsonLine;
use rustc_hash::{FxHashMap, FxHashSet};
use std::io::{self, Write};
use std::net::IpAddr;

/// The connection states counted per listener, in column order.
pub(crate) const CONNECTION_STATES: [(u8, &str); 3] = [
    (tcp_state::SYN_RECV, "SYN_RECV"),
    (tcp_state::ESTABLISHED, "ESTABLISHED"),
    (tcp_state::TIME_WAIT, "TIME_WAIT"),
];

/// Listening TCP sockets (few) and connection counts per local end and
/// state, kept across `-c` ticks for the deltas.
#[derive(Default)]
pub(crate) struct ListenerCounts {
    listeners: Vec<InetSocket>,
    /// The listeners' ports: only sockets on them are counted per end
    /// (the kernel dumps a family's listeners before its connections).
    listener_ports: FxHashSet<u16>,
    per_end: FxHashMap<(IpAddr, u16, u8), u64>,
    /// With `--info`: the health of the established connections per
    /// local end.
    health_per_end: Option<FxHashMap<(IpAddr, u16), Health>>,
    /// The previous tick's listeners (their accept queues).
    previous_listeners: Option<Vec<InetSocket>>,
    previous_counters: Option<(std::time::Duration, Vec<(&'static str, u64)>)>,
}

/// A listening socket from one tick to the next: its address, port and
/// inode (SO_REUSEPORT listeners share the address and port).
type ListenerKey = (IpAddr, u16, u64);

fn key(l: &InetSocket) -> ListenerKey {
    (l.local, l.local_port, l.inode)
}

/// One listener's row.
struct Row {
    listener: InetSocket,
    fill: u64,
    counts: [u64; 3],
    delta: Option<i64>,
    /// With `--info`: its established connections' health.
    health: Option<Health>,
}

/// The listening sockets on one address and port. There is more than one
/// with SO_REUSEPORT (nginx's `reuseport` opens one per worker); the
/// connections on that address and port then belong to all of them, as
/// the kernel does not say which socket accepted a connection.
pub(crate) struct ListenerGroup {
    /// The first socket (its family, address and port label the group).
    pub first: InetSocket,
    pub sockets: u64,
    /// The sockets' accept queues and backlogs, added up.
    pub accept_queue: u64,
    pub backlog: u64,
    /// The longest accept queue of one socket (a stuck worker's fills
    /// alone while the sum stays low).
    pub longest_queue: u64,
}

/// The listen counters, with their rates per second (`-c`, after the
/// first tick).
struct Counters {
    values: Vec<(&'static str, u64)>,
    rates: Vec<Option<f64>>,
}

impl ListenerCounts {
    /// Listener counts; with `health`, their connections' health too.
    pub(crate) fn new(health: bool) -> Self {
        ListenerCounts {
            health_per_end: health.then(FxHashMap::default),
            ..ListenerCounts::default()
        }
    }

    pub(crate) fn add(&mut self, socket: &InetSocket, ext: SocketExt) {
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
            if let Some(health) = &mut self.health_per_end
                && socket.state == tcp_state::ESTABLISHED
            {
                health
                    .entry((socket.local, socket.local_port))
                    .or_insert_with(Health::with_histogram)
                    .add(socket, &ext);
            }
        }
    }

    /// Start counting afresh (the previous tick's listeners stay for `-c`).
    pub(crate) fn clear(&mut self) {
        self.listeners.clear();
        self.listener_ports.clear();
        self.per_end.clear();
        if let Some(health) = &mut self.health_per_end {
            health.clear();
        }
    }

    /// This tick's listeners by address and port, in that order.
    pub(crate) fn groups(&self) -> Vec<ListenerGroup> {
        let mut listeners = self.listeners.clone();
        listeners.sort_by_key(|l| (l.local, l.local_port));
        let mut groups: Vec<ListenerGroup> = Vec::with_capacity(listeners.len());
        for l in listeners {
            match groups.last_mut() {
                Some(g) if (g.first.local, g.first.local_port) == (l.local, l.local_port) => {
                    g.sockets += 1;
                    g.accept_queue += u64::from(l.recv_q);
                    g.backlog += u64::from(l.backlog);
                    g.longest_queue = g.longest_queue.max(u64::from(l.recv_q));
                }
                _ => groups.push(ListenerGroup {
                    first: l,
                    sockets: 1,
                    accept_queue: u64::from(l.recv_q),
                    backlog: u64::from(l.backlog),
                    longest_queue: u64::from(l.recv_q),
                }),
            }
        }
        groups
    }

    /// The connections listener `l` has, per [`CONNECTION_STATES`].
    pub(crate) fn connections(&self, l: &InetSocket) -> [u64; 3] {
        let mut counts = [0u64; 3];
        for (count, (state, _)) in counts.iter_mut().zip(CONNECTION_STATES) {
            *count = self
                .per_end
                .iter()
                .filter(|((addr, port, s), _)| {
                    *s == state && *port == l.local_port && served_by(l, addr, &self.listeners)
                })
                .map(|(_, n)| *n)
                .sum();
        }
        counts
    }

    /// With `--info`: the health of listener `l`'s established
    /// connections.
    pub(crate) fn health(&self, l: &InetSocket) -> Option<Health> {
        let per_end = self.health_per_end.as_ref()?;
        let mut health = Health::with_histogram();
        for ((addr, port), h) in per_end {
            if *port == l.local_port && served_by(l, addr, &self.listeners) {
                health.merge(h);
            }
        }
        Some(health)
    }

    /// The previous tick's listeners that are not listening now, with
    /// their accept queue then.
    fn listeners_gone(&self, previous: Option<&[InetSocket]>) -> Vec<(InetSocket, u64)> {
        let now: FxHashSet<ListenerKey> = self.listeners.iter().map(key).collect();
        let mut gone: Vec<(InetSocket, u64)> = previous
            .unwrap_or_default()
            .iter()
            .filter(|l| !now.contains(&key(l)))
            .map(|l| (*l, u64::from(l.recv_q)))
            .collect();
        gone.sort_by_key(|(l, _)| (l.local_port, l.local));
        gone
    }

    /// This tick's rows, fullest first, then the listeners gone since
    /// the previous tick (once more, all zero).
    fn rows(&mut self) -> Vec<Row> {
        let before = self.previous_listeners.take();
        let gone_listeners = self.listeners_gone(before.as_deref());
        let previous: Option<FxHashMap<ListenerKey, u64>> =
            before.map(|ls| ls.iter().map(|l| (key(l), u64::from(l.recv_q))).collect());
        let mut rows: Vec<Row> = self
            .listeners
            .iter()
            .map(|l| Row {
                listener: *l,
                fill: if l.backlog == 0 {
                    0
                } else {
                    u64::from(l.recv_q) * 100 / u64::from(l.backlog)
                },
                counts: self.connections(l),
                health: self.health(l),
                delta: change(previous.as_ref(), &key(l), u64::from(l.recv_q)),
            })
            .collect();
        rows.sort_by(|a, b| {
            b.fill
                .cmp(&a.fill)
                .then(b.listener.recv_q.cmp(&a.listener.recv_q))
                .then(a.listener.local_port.cmp(&b.listener.local_port))
                .then(a.listener.local.cmp(&b.listener.local))
        });
        for (mut gone, queue) in gone_listeners {
            gone.recv_q = 0;
            gone.backlog = 0;
            rows.push(Row {
                listener: gone,
                fill: 0,
                counts: [0; 3],
                health: self.health_per_end.as_ref().map(|_| Health::default()),
                delta: Some(-(queue as i64)),
            });
        }
        rows
    }

    /// The listen counters now, with their rates since the previous tick.
    fn counters(&mut self, config: &Config, root: &crate::collect::procfs::ProcRoot) -> Counters {
        let values = listen_counters(root);
        // (the recorded clock at replay, where ticks run back to back)
        let now = crate::collect::tape::tick_clock();
        let rates: Vec<Option<f64>> = match (&self.previous_counters, config.continuous) {
            (Some((then, before)), true) => {
                let seconds = now.saturating_sub(*then).as_secs_f64().max(0.001);
                values
                    .iter()
                    .map(|(name, value)| {
                        before
                            .iter()
                            .find(|(n, _)| n == name)
                            .map(|(_, b)| value.saturating_sub(*b) as f64 / seconds)
                    })
                    .collect()
            }
            _ => vec![None; values.len()],
        };
        if config.continuous {
            self.previous_counters = Some((now, values.clone()));
        }
        Counters { values, rates }
    }

    /// This tick's report (and what the next tick compares with, `-c`).
    pub(crate) fn report(
        &mut self,
        config: &Config,
        root: &crate::collect::procfs::ProcRoot,
    ) -> Report {
        let rows = self.rows();
        let counters = self.counters(config, root);
        if config.continuous {
            self.previous_listeners = Some(self.listeners.clone());
        }
        Report { rows, counters }
    }
}

/// What `--listeners` prints for one tick.
pub(crate) struct Report {
    rows: Vec<Row>,
    counters: Counters,
}

/// Print `--listeners` for one tick.
pub(crate) fn write(
    out: &mut dyn Write,
    config: &Config,
    json: &JsonLine,
    programs: Option<&ProcessIndex>,
    report: &Report,
) -> io::Result<()> {
    if config.output.is_json() {
        write_json(
            out,
            config,
            json.clone(),
            programs,
            &report.rows,
            &report.counters,
        )
    } else {
        write_text(out, config, programs, &report.rows, &report.counters)
    }
}

/// `--listeners --json`: a `listener` object per row, then the counters.
fn write_json(
    out: &mut dyn Write,
    config: &Config,
    mut line: JsonLine,
    programs: Option<&ProcessIndex>,
    rows: &[Row],
    counters: &Counters,
) -> io::Result<()> {
    for r in rows {
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
            match programs.and_then(|p| p.owner(l.inode)) {
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
            json_delta(&mut line, r.delta);
        }
        if let Some(health) = &r.health {
            for (name, value) in health::column_names().zip(health.columns()) {
                match value {
                    Some(v) => line.u64(name, v),
                    None => line.null(name),
                };
            }
        }
        line.end(out)?;
    }
    line.begin("listen_counters");
    for ((name, value), rate) in counters.values.iter().zip(&counters.rates) {
        line.u64(name, *value);
        if config.continuous {
            match rate {
                Some(r) => line.hundredths(&format!("{name}_per_s"), (r * 100.0) as u64),
                None => line.null(&format!("{name}_per_s")),
            };
        }
    }
    line.end(out)
}

/// `--listeners` as text: an aligned table, then the counters.
fn write_text(
    out: &mut dyn Write,
    config: &Config,
    programs: Option<&ProcessIndex>,
    rows: &[Row],
    counters: &Counters,
) -> io::Result<()> {
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
    if config.info {
        header.extend(health::column_names().map(String::from));
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
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
                cells.push(match programs.and_then(|p| p.owner(l.inode)) {
                    Some((pid, program)) => {
                        format!("{pid}/{}", String::from_utf8_lossy(program))
                    }
                    None => "-".into(),
                });
            }
            if config.continuous {
                cells.push(delta_text(r.delta));
            }
            if let Some(health) = &r.health {
                cells.extend(
                    health
                        .columns()
                        .map(|v| v.map_or_else(|| "-".into(), |v| v.to_string())),
                );
            }
            cells
        })
        .collect();
    write_table(out, &header, &table, 2)?;
    out.write_all(b"Listen counters (/proc/net/netstat TcpExt):\n")?;
    for ((name, value), rate) in counters.values.iter().zip(&counters.rates) {
        match rate {
            Some(r) => writeln!(out, "  {name:<22} {value:>12}  {r:>10.2}/s")?,
            None => writeln!(out, "  {name:<22} {value:>12}")?,
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn blank_socket() -> InetSocket {
        let any = IpAddr::V4([0, 0, 0, 0].into());
        InetSocket {
            inode: 0,
            ..InetSocket::tcp(0, (any, 0), (any, 0))
        }
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

    #[test]
    fn reuseport_listeners_group_by_address_and_port() {
        let mut counts = ListenerCounts::new(false);
        let listener = |addr: &str, port, queue, backlog, inode| InetSocket {
            local: addr.parse().unwrap(),
            local_port: port,
            state: tcp_state::LISTEN,
            recv_q: queue,
            backlog,
            inode,
            ..blank_socket()
        };
        for l in [
            listener("127.0.0.1", 80, 2, 8, 11),
            listener("0.0.0.0", 80, 1, 4, 12),
            listener("127.0.0.1", 80, 3, 16, 13),
            listener("127.0.0.1", 443, 0, 8, 14),
        ] {
            counts.add(&l, SocketExt::NONE);
        }
        let groups: Vec<_> = counts
            .groups()
            .iter()
            .map(|g| {
                let end = (g.first.local.to_string(), g.first.local_port);
                (end, g.sockets, g.accept_queue, g.backlog, g.longest_queue)
            })
            .collect();
        assert_eq!(
            groups,
            [
                (("0.0.0.0".to_string(), 80), 1, 1, 4, 1),
                (("127.0.0.1".to_string(), 80), 2, 5, 24, 3),
                (("127.0.0.1".to_string(), 443), 1, 0, 8, 0),
            ]
        );
    }
}
