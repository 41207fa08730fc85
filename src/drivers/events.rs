//! `--events`: the driver that runs per event. One subscription to the
//! destroy groups per namespace (this one, `--netns`'s, or every one with
//! `--all-netns`, each opened on a thread that joined it), polled until
//! SIGINT or SIGTERM; each closed socket goes through the filter to a sink:
//! rows (netstat text after a time stamp, or JSON), a `--group-by` view
//! (printed every second with `-c`, else at the end), or the exporter's
//! close counters.

use crate::collect::Collector;
use crate::collect::events::{self, Closed, Received, Subscription};
use crate::collect::netlink::DiagSocket;
use crate::config::Config;
use crate::enrich::names::NameCache;
use crate::error::{Error, Result};
use crate::filter::{CompiledQuery, Placement, SocketFilter};
use crate::model::Tick;
use crate::netns::Namespace;
use crate::render::json::{JsonLine, SocketObjects};
use crate::render::netstat::RowWriter;
use crate::views::Aggregator;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

/// Datagrams taken from one subscription before the others get a turn.
const BATCH: usize = 1024;
/// The longest a poll waits, so a stop request is seen promptly.
const POLL_MS: i32 = 200;
/// How long what was queued before a stop may still be taken.
const STOP_DRAIN: Duration = Duration::from_secs(2);

/// One namespace's subscription and how its events are labelled.
pub struct Listening {
    subscription: Subscription,
    namespace: Namespace,
    /// A sock_diag socket of the same namespace, for its listeners.
    diag: Collector,
    /// The kernel reported a drop; the count is read once the queue drains.
    congested: bool,
}

/// What events go to.
enum Sink {
    Text(Box<RowWriter>),
    Json(Box<SocketObjects>),
    Counts(Box<Aggregator>),
}

/// Events received and lost over the run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub received: u64,
    pub lost: u64,
}

/// The subscriptions the configuration asks for: one in the calling
/// thread's namespace, or with `--all-netns` one in each namespace.
pub fn subscribe(config: &Config, tcp_only: bool) -> Result<Vec<Listening>> {
    let groups = events::groups(
        config.wants(config.protocols.tcp),
        config.wants(config.protocols.udp) && !tcp_only,
        config.wants_inet_v4(),
        config.wants_inet_v6(),
    );
    let filter = kernel_filter(config);
    let open = || -> Result<(Subscription, Collector)> {
        let subscription = Subscription::open(&groups, config.events_buffer, filter.as_deref())?;
        let root = config.inputs.proc_root.clone();
        let diag = Collector::with_diag(config.source, root, DiagSocket::open()?);
        Ok((subscription, diag))
    };
    if !config.all_netns {
        let (inode, key) = crate::netns::current(config.netns.as_deref());
        let namespace = Namespace {
            label: key.clone(),
            key,
            inode,
            path: "/proc/thread-self/ns/net".into(),
            named: false,
        };
        return Ok(vec![Listening::new(open()?, namespace)]);
    }
    let mut all = Vec::new();
    for namespace in crate::netns::all() {
        let opened = std::thread::scope(|s| {
            s.spawn(|| {
                crate::netns::join_thread(&namespace).map_err(|e| {
                    Error::netlink("joining the namespace", std::io::Error::other(e.message))
                })?;
                open()
            })
            .join()
            .unwrap_or_else(|_| {
                Err(Error::Malformed {
                    what: "namespace thread".into(),
                })
            })
        });
        match opened {
            Ok(opened) => all.push(Listening::new(opened, namespace)),
            Err(e) => eprintln!("{}: netns {}: {e}", config.program_name, namespace.label),
        }
    }
    if all.is_empty() {
        return Err(Error::netlink(
            "close events",
            std::io::Error::other("no namespace could be listened to"),
        ));
    }
    Ok(all)
}

impl Listening {
    fn new((subscription, diag): (Subscription, Collector), namespace: Namespace) -> Self {
        Listening {
            subscription,
            namespace,
            diag,
            congested: false,
        }
    }

    /// The namespace's inode.
    pub fn inode(&self) -> u64 {
        self.namespace.inode
    }

    /// The namespace's TCP listeners now (address, port); none when the
    /// dump fails (their closes then count as backends').
    pub fn listeners(&mut self) -> Vec<(std::net::IpAddr, u16)> {
        let mut all = Vec::new();
        for v6 in [false, true] {
            let _ = self.diag.inet_table(
                crate::model::InetProto::Tcp,
                v6,
                1 << crate::model::tcp_state::LISTEN,
                crate::collect::Extensions::default(),
                None,
                |s, _| {
                    all.push((s.local, s.local_port));
                    Ok(())
                },
            );
        }
        all
    }

    /// The namespace as views and JSON objects label it (`labelled`:
    /// under `--all-netns`).
    pub(crate) fn tick(&self, labelled: bool) -> Tick<'_> {
        Tick {
            netns_inode: self.namespace.inode,
            netns_label: &self.namespace.label,
            netns_key: &self.namespace.key,
            labelled,
        }
    }

    /// Take up to [`BATCH`] datagrams, each closed socket to `each`;
    /// returns the messages the kernel dropped once the queue has drained
    /// after an overflow (0 otherwise), and whether the queue is empty.
    pub fn drain(
        &mut self,
        totals: &mut Totals,
        deadline: Option<Instant>,
        each: &mut dyn FnMut(&Closed<'_>) -> Result<()>,
    ) -> Result<(u64, bool)> {
        for taken in 0..BATCH {
            if taken % 64 == 63 && deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            match self.subscription.receive()? {
                Received::Datagram(length) => {
                    totals.received += 1;
                    let datagram = self.subscription.datagram(length);
                    if let Some(closed) = events::parse_closed(datagram) {
                        each(&closed)?;
                    }
                }
                Received::Overflow => self.congested = true,
                Received::Empty => {
                    let lost = if self.congested {
                        self.congested = false;
                        self.subscription.take_lost(true)
                    } else {
                        0
                    };
                    totals.lost += lost;
                    return Ok((lost, true));
                }
            }
        }
        Ok((0, false))
    }

    /// Drops not yet counted (at the end of a run).
    pub fn final_lost(&mut self, totals: &mut Totals) -> u64 {
        let lost = self.subscription.take_lost(self.congested);
        totals.lost += lost;
        lost
    }
}

/// The classic BPF filter for the expression, unless `NLSTAT_FILTER_IN`
/// keeps filters in user space or cBPF cannot say it.
fn kernel_filter(config: &Config) -> Option<Vec<libc::sock_filter>> {
    if !config.inputs.filter_in.kernel {
        return None;
    }
    crate::filter::cbpf::compile(config.query.as_ref()?)
}

/// Wait until one of the subscriptions has something, a stop is asked
/// for, or `timeout` passes.
pub fn wait(listening: &[Listening], timeout: Duration) {
    let mut fds: Vec<libc::pollfd> = listening
        .iter()
        .map(|l| libc::pollfd {
            fd: l.subscription.raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    // rounded up: a tick less than a millisecond away is no reason to spin
    let ms = timeout.as_micros().div_ceil(1000).min(POLL_MS as u128) as i32;
    // SAFETY: `fds` is a valid array of pollfd of the length passed; an
    // error (EINTR from a stop signal) only ends the wait.
    unsafe {
        libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms);
    }
}

/// Run `--events` until SIGINT or SIGTERM: rows, or with `--group-by`
/// counts per key. Returns the exit status (0).
pub fn run(config: &Config, out: &mut impl Write) -> Result<i32> {
    crate::io::stop::install();
    let mut listening = subscribe(config, false)?;
    let compiled = config.query.as_ref().map(|q| {
        CompiledQuery::new(
            q,
            Placement {
                kernel: false,
                user: true,
            },
        )
    });
    // every close is shown (netstat's -a/-l rule is about listing); named
    // states and the expression apply
    let filter = SocketFilter {
        all: true,
        listening: false,
        compiled: compiled.as_ref(),
    };
    let mut names = NameCache::for_inputs(&config.inputs);
    let mut sink = match &config.view {
        Some(view) => Sink::Counts(Box::new(Aggregator::new(view.clone(), config.info))),
        None if config.output.is_json() => Sink::Json(Box::default()),
        None => {
            write_text_header(out, config)?;
            Sink::Text(Box::default())
        }
    };
    let mut totals = Totals::default();
    let ticking = matches!(sink, Sink::Counts(_)) && config.continuous;
    let start = Instant::now();
    let started = SystemTime::now();
    let interval = config.interval.unwrap_or(Duration::from_secs(1));
    let mut ticks = 0u64;
    let all_netns = config.all_netns;
    // after a stop, what the kernel queued before it is still taken (for
    // at most STOP_DRAIN: a flood does not hold the exit back)
    let mut draining: Option<Instant> = None;
    loop {
        let next = start + interval.saturating_mul(u32::try_from(ticks + 1).unwrap_or(u32::MAX));
        if draining.is_none() && crate::io::stop::requested() {
            draining = Some(Instant::now());
        }
        if draining.is_none() {
            // rows wait for events only; counts also for the next tick
            let until_tick = if ticking {
                next.saturating_duration_since(Instant::now())
            } else {
                Duration::MAX
            };
            wait(&listening, until_tick);
        }
        let mut all_empty = true;
        for l in &mut listening {
            let label = all_netns.then(|| l.namespace.key.clone());
            let namespace = l.namespace.clone();
            let labelled = Tick {
                netns_inode: namespace.inode,
                netns_label: &namespace.label,
                netns_key: &namespace.key,
                labelled: all_netns,
            };
            // this namespace's label for the objects and keys that follow
            match &mut sink {
                Sink::Json(objects) if all_netns => objects.begin_tick(&labelled),
                Sink::Counts(view) => view.begin_tick(&labelled),
                _ => {}
            }
            let deadline = draining.map(|since| since + STOP_DRAIN);
            let (lost, empty) = l.drain(&mut totals, deadline, &mut |closed| {
                if !filter.keep_inet(&closed.socket) {
                    return Ok(());
                }
                let now = SystemTime::now();
                match &mut sink {
                    Sink::Text(rows) => {
                        write_stamp(out, now, label.as_deref())?;
                        rows.inet_row(out, &closed.socket, closed.ext, config, &mut names, None)?;
                    }
                    Sink::Json(objects) => {
                        objects.closed_row(out, closed, now, config, &mut names)?;
                    }
                    Sink::Counts(view) => view.add_inet(&closed.socket, closed.ext, None),
                }
                Ok(())
            })?;
            all_empty &= empty;
            report_lost(out, config, &labelled, lost)?;
        }
        out.flush()?;
        if let Some(since) = draining
            && (all_empty || since.elapsed() >= STOP_DRAIN)
        {
            break;
        }
        if ticking && Instant::now() >= next {
            // a slow tick skips the slots it missed
            ticks = (start.elapsed().as_nanos() / interval.as_nanos().max(1)) as u64;
            if let Sink::Counts(view) = &mut sink {
                print_counts(out, config, view, &mut names, ticks, started, start)?;
            }
            if config.count.is_some_and(|n| ticks >= n) {
                crate::io::stop::request();
            }
        }
    }
    for l in &mut listening {
        let lost = l.final_lost(&mut totals);
        report_lost(out, config, &l.tick(all_netns), lost)?;
    }
    if let Sink::Counts(view) = &mut sink
        && config.count.is_none_or(|n| ticks < n)
    {
        print_counts(out, config, view, &mut names, ticks + 1, started, start)?;
    }
    write_end(out, config, totals)?;
    out.flush()?;
    Ok(0)
}

/// A view's counts since the previous tick (`-c`) or the start.
fn print_counts(
    out: &mut impl Write,
    config: &Config,
    view: &mut Aggregator,
    names: &mut NameCache,
    number: u64,
    started: SystemTime,
    start: Instant,
) -> Result<()> {
    if config.continuous {
        let elapsed = start.elapsed();
        let stamp = super::schedule::TickStamp {
            number,
            time: started + elapsed,
            elapsed,
            late: None,
        };
        super::write_tick_start(out, config, &stamp)?;
    }
    view.finish(out, config, names, None, &config.inputs.proc_root)?;
    out.flush()?;
    Ok(())
}

/// The title and column header of the text rows.
fn write_text_header(out: &mut impl Write, config: &Config) -> Result<()> {
    let mut header = Vec::new();
    crate::render::netstat::write_inet_header(&mut header, config)?;
    let columns = header.split(|b| *b == b'\n').nth(1).unwrap_or_default();
    out.write_all(b"Closed Internet connections (until interrupted)\n")?;
    out.write_all(format!("{:<STAMP_WIDTH$}", "Time (UTC)").as_bytes())?;
    if config.all_netns {
        out.write_all(format!("{:<NETNS_WIDTH$} ", "Netns").as_bytes())?;
    }
    out.write_all(columns)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Report messages the kernel dropped: a stderr line, or a JSON object.
fn report_lost(out: &mut impl Write, config: &Config, tick: &Tick, lost: u64) -> Result<()> {
    if lost == 0 {
        return Ok(());
    }
    if config.output.is_json() {
        let mut line = JsonLine::of_tick(tick);
        line.begin("lost").u64("count", lost);
        line.end(out)?;
    } else {
        out.flush()?;
        let place = if config.all_netns {
            format!(" in netns {}", tick.netns_label)
        } else {
            String::new()
        };
        eprintln!(
            "{}: {lost} close events lost{place}: the receive buffer was full (--events-buffer)",
            config.program_name
        );
    }
    Ok(())
}

/// The run's final count: a JSON object, or a stderr line.
fn write_end(out: &mut impl Write, config: &Config, totals: Totals) -> Result<()> {
    if config.output.is_json() {
        let mut line = JsonLine::new();
        line.begin("events_end")
            .u64("received", totals.received)
            .u64("lost", totals.lost);
        line.end(out)?;
    } else {
        out.flush()?;
        eprintln!(
            "{}: close events: {} received, {} lost",
            config.program_name, totals.received, totals.lost
        );
    }
    Ok(())
}

/// `2026-12-05T18:20:01.123Z ` and the padding after it.
const STAMP_WIDTH: usize = 25;
/// The namespace column of `--all-netns` text rows.
const NETNS_WIDTH: usize = 12;

/// A row's UTC time stamp (milliseconds) and namespace column.
fn write_stamp(out: &mut impl Write, time: SystemTime, netns: Option<&str>) -> std::io::Result<()> {
    out.write_all(&crate::text::utc_millis(time))?;
    out.write_all(b" ")?;
    if let Some(netns) = netns {
        write!(out, "{netns:<NETNS_WIDTH$} ")?;
    }
    Ok(())
}
