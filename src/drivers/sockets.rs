//! The socket listing (netstat's default mode): which tables, in netstat's
//! order, with its messages for tables this system cannot provide.

use super::kernel_counts::KernelCounts;
use super::rows::{LOOKAHEAD, Owners, Programs, RowSink, run_iterator};
use crate::collect::socket_iter::Walk;
use crate::collect::{Collector, Extensions, Table};
use crate::config::Config;
use crate::enrich::names::NameCache;
use crate::enrich::owners::{bpf_error, owners_from_iterator, report_denied};
use crate::enrich::processes::ProcessIndex;
use crate::error::Result;
use crate::filter::{CompiledQuery, SocketFilter};
use crate::model::{ExtArena, InetProto, InetSocket, SocketExt, Tick};
use crate::sinks::{SocketOutput, SocketSink};
use rustc_hash::FxHashSet;
use std::io::Write;
use std::sync::mpsc;

/// netstat's ESYSNOT message.
fn no_support(name: &str) {
    eprintln!("netstat: no support for `{name}' on this system.");
}

/// Rows that may wait for the iterator's map (16 MiB of them): past that
/// the dump pauses until the map is ready, which bounds `-tanp`'s memory
/// on a busy machine where the map thread gets little CPU.
const ITERATOR_WAIT_ROWS: usize = (16 << 20) / std::mem::size_of::<InetSocket>();

/// IPv6 rows per chunk handed from the IPv6 dump thread.
const V6_CHUNK: usize = 4096;
/// Chunks that may wait while the IPv4 rows print (about 6 MB of rows);
/// when they are all full the IPv6 dump pauses.
const V6_CHUNKS_IN_FLIGHT: usize = 16;
/// The same with `--info`, whose rows keep about 500 bytes of extensions
/// each: about the same memory (some 6 MB) in fewer rows.
const V6_INFO_CHUNKS_IN_FLIGHT: usize = 2;
/// IPv6 rows per chunk when they are taken in any order (views): the
/// chunks are drained while the IPv4 dump runs, so they need little room.
const V6_CHUNK_ANY_ORDER: usize = 512;
/// IPv4 rows between two looks for IPv6 chunks, in any order.
const V6_DRAIN_EVERY: usize = 256;

fn consumer_gone() -> crate::error::Error {
    crate::error::Error::Output(std::io::Error::new(
        std::io::ErrorKind::BrokenPipe,
        "the IPv6 rows' consumer stopped",
    ))
}

/// State kept across `-c` ticks.
pub struct SocketListing {
    collector: Collector,
    /// A second sock_diag socket for the IPv6 dump that runs beside IPv4.
    v6_collector: Option<Collector>,
    names: NameCache,
    rows: SocketOutput,
    buffered: Vec<InetSocket>,
    /// `--info`: the extensions of `buffered`'s rows.
    buffered_ext: ExtArena,
    /// The process map, refreshed incrementally from tick to tick.
    processes: Option<ProcessIndex>,
    /// Socket inodes no process held after a full rescan; they do not
    /// trigger another one.
    ownerless: FxHashSet<u64>,
    /// Whether this tick did its full rescan for an unknown socket owner.
    rescanned: bool,
    /// The filter expression, compiled once for every tick.
    compiled: Option<CompiledQuery>,
    /// A view's counts are left for the caller to merge ([`defer_view`](Self::defer_view)).
    view_deferred: bool,
    /// IPv6 rows of a both-families dump, held until the IPv4 rows are out.
    v6_rows: Vec<InetSocket>,
    /// `--info`: the extensions of `v6_rows`.
    v6_ext: ExtArena,
    /// The BPF iterator was tried and cannot serve: later ticks read /proc
    /// without trying again.
    iterator_tried: bool,
    /// `--view-source`: whether a view counts from the socket iterators.
    kernel_counts: KernelCounts,
}

impl SocketListing {
    pub fn new(collector: Collector, config: &Config) -> Self {
        let rows = SocketOutput::for_config(config);
        SocketListing {
            collector,
            v6_collector: None,
            names: NameCache::for_inputs(&config.inputs),
            rows,
            buffered: Vec::new(),
            buffered_ext: ExtArena::default(),
            view_deferred: false,
            v6_rows: Vec::new(),
            v6_ext: ExtArena::default(),
            processes: None,
            ownerless: FxHashSet::default(),
            rescanned: false,
            iterator_tried: false,
            kernel_counts: KernelCounts::default(),
            compiled: crate::views::lowered_query(config).map(|q| {
                let mut placement = config.inputs.filter_in;
                // /proc tables are filtered in user space or not at all
                placement.user |= config.source == crate::config::Source::Proc;
                CompiledQuery::new(&q, placement)
            }),
        }
    }

    /// Print every selected table once; returns netstat's exit status.
    pub fn tick(&mut self, config: &Config, tick: &Tick, out: &mut impl Write) -> Result<i32> {
        self.tick_with(config, tick, out, None)
    }

    /// Don't print a view at the end of a tick: its counts are taken with
    /// [`view`](Self::view) and merged with other namespaces' counts.
    pub fn defer_view(&mut self) {
        self.view_deferred = true;
    }

    /// The view's aggregate, if this listing counts instead of printing.
    pub fn view(&mut self) -> Option<&mut crate::views::Aggregator> {
        self.rows.view()
    }

    /// One tick; with `shared`, `-p` uses that complete map (built once
    /// for several namespaces) instead of finding owners itself.
    pub fn tick_with(
        &mut self,
        config: &Config,
        tick: &Tick,
        out: &mut impl Write,
        shared: Option<std::sync::Arc<ProcessIndex>>,
    ) -> Result<i32> {
        let mut compiled = self.compiled.take();
        self.kernel_counts.decide(config, compiled.as_ref())?;
        let walked = self.kernel_counts.serving(Some(Walk::Tcp)).is_some();
        let kept = if matches!(config.view, Some(crate::views::View::Listeners)) && !walked {
            // --listeners: the connections it counts are those on the
            // listeners' ports, which a first dump of the listeners alone
            // names; the kernel then returns only those. (An iterator
            // walks every socket anyway, listeners first.)
            let ports = self.listener_ports(config)?;
            let per_tick = compiled.as_ref().map(|c| {
                CompiledQuery::new(&crate::views::on_ports(&c.query, &ports), c.placement)
            });
            std::mem::replace(&mut compiled, per_tick)
        } else {
            None
        };
        let filter = SocketFilter::from_config(config, compiled.as_ref());
        self.rows.begin_tick(tick);
        if let Some(view) = self.rows.view() {
            view.start_tick(self.collector.root());
        }
        // A filtered listing of inet tables looks for its own rows' owners
        // only, every tick (see ProcessIndex::scan_for).
        let targeted = config.programs
            && config.tape == crate::config::Tape::None
            && compiled.is_some()
            && config.wants_inet_section()
            && !config.wants(config.families.unix)
            && !config.protocols.groups;
        let mut programs = self.programs_for_tick(config, shared, targeted)?;
        let mut status = self.tick_tables(config, tick, out, &filter, &mut programs);
        if let (Ok(_), Some(view), false) = (&status, self.rows.view(), self.view_deferred) {
            match programs.ready() {
                Ok(index) => {
                    let root = self.collector.root();
                    if let Err(e) = view.finish(out, config, &mut self.names, index, root) {
                        status = Err(e.into());
                    }
                }
                Err(e) => status = Err(e),
            }
        }
        if config.programs
            && crate::collect::tape::recording()
            && let Ok(Some(index)) = programs.ready()
        {
            crate::collect::tape::record_owners(&index.encode_owners());
        }
        if let Programs::Ready(mut index) = programs
            && (!targeted || index.from_kernel())
        {
            // later ticks refresh incrementally (see into_incremental);
            // a filtered listing keeps the iterator (its /proc map is
            // targeted, not incremental)
            if config.continuous && !targeted {
                index.into_incremental(self.collector.root());
            }
            self.processes = Some(index);
        }
        self.compiled = kept.or(compiled);
        status
    }

    /// Where this tick's `-p` owners come from: the shared map of several
    /// namespaces, the iterator's, the previous tick's refreshed, a
    /// targeted walk after the dump, or a first walk beside the dump.
    fn programs_for_tick(
        &mut self,
        config: &Config,
        shared: Option<std::sync::Arc<ProcessIndex>>,
        targeted: bool,
    ) -> Result<Programs> {
        // The first tick reads every process anyway: that is its rescan.
        self.rescanned = self.processes.is_none();
        if !config.programs {
            return Ok(Programs::None);
        }
        if let Some(index) = shared {
            return Ok(Programs::Shared(index));
        }
        if let Some(owners) = crate::collect::tape::played_owners() {
            let why = match owners.as_deref().map(ProcessIndex::decode_owners) {
                None => "the recording holds no -p owners (record with -p)",
                Some(None) => "damaged recording: its -p owner map does not read",
                Some(Some(index)) => {
                    report_denied(&index);
                    return Ok(Programs::Shared(std::sync::Arc::new(index)));
                }
            };
            return Err(crate::error::Error::file(
                "--replay",
                std::io::Error::other(why),
            ));
        }
        let root = self.collector.root().clone();
        let mut kept = self.processes.take();
        if kept.is_none() && !self.iterator_tried {
            self.iterator_tried = true;
            kept = owners_from_iterator(config, &root)?;
        }
        Ok(match kept {
            // the iterator's map is whole: built again each tick, on
            // another thread, ready long before a large dump ends
            Some(index) if index.from_kernel() => {
                self.rescanned = true;
                run_iterator(index, root, config)
            }
            _ if targeted => {
                self.rescanned = true;
                Programs::Targeted
            }
            // Later ticks: the map from the previous tick is refreshed
            // in a few milliseconds (only changed processes are read),
            // so rows can stream instead of waiting in memory.
            Some(mut index) => {
                index.refresh(&root, false).map_err(bpf_error)?;
                report_denied(&index);
                Programs::Ready(index)
            }
            // The first tick reads every process, beside the dump.
            None => Programs::Scanning(
                std::thread::spawn({
                    let for_terminal = config.terminal;
                    move || Ok(ProcessIndex::scan(&root, for_terminal))
                }),
                false,
            ),
        })
    }

    /// The local ports of the TCP listeners the selected families have.
    fn listener_ports(&mut self, config: &Config) -> Result<Vec<u16>> {
        let mut ports = Vec::new();
        for (wanted, v6) in [
            (config.wants_inet_v4(), false),
            (config.wants_inet_v6(), true),
        ] {
            if wanted {
                self.collector.inet_table(
                    InetProto::Tcp,
                    v6,
                    1 << crate::model::tcp_state::LISTEN,
                    Extensions::default(),
                    None,
                    |s, _| {
                        ports.push(s.local_port);
                        Ok(())
                    },
                )?;
            }
        }
        ports.sort_unstable();
        ports.dedup();
        Ok(ports)
    }

    /// Every selected table of one tick, in netstat's order: the inet
    /// section, `-g`'s groups, unix, then netstat's messages for the
    /// families this system cannot list.
    fn tick_tables(
        &mut self,
        config: &Config,
        tick: &Tick,
        out: &mut impl Write,
        filter: &SocketFilter,
        programs: &mut Programs,
    ) -> Result<i32> {
        if config.wants_inet_section() {
            let status = self.inet_section(config, out, filter, programs)?;
            if status != 0 {
                return Ok(status);
            }
        }
        if config.protocols.groups {
            let status = crate::groups::write_groups(out, config, tick, &mut self.names)?;
            if status != 0 {
                return Ok(status);
            }
        }
        if config.wants(config.families.unix) && self.unix_section(config, out, filter, programs)? {
            return Ok(1);
        }
        Ok(unsupported_families(config))
    }

    /// The inet tables (TCP, SCTP, UDP, UDP-Lite, raw) under one header.
    fn inet_section(
        &mut self,
        config: &Config,
        out: &mut impl Write,
        filter: &SocketFilter,
        programs: &mut Programs,
    ) -> Result<i32> {
        // -p needs the process map and names need every address before
        // the first row; otherwise rows stream straight to the output.
        // The map is built beside the dump; rows that wait only for it
        // stream from the moment it is ready.
        // (views count numbers; names are looked up for their few keys)
        let names = !config.numeric_hosts && config.view.is_none();
        let mut buffer = matches!(programs, Programs::Scanning(..) | Programs::Targeted) || names;
        let until_owners = matches!(programs, Programs::Scanning(..)) && !names;
        let wait_at = match programs {
            Programs::Scanning(_, true) => ITERATOR_WAIT_ROWS,
            _ => usize::MAX,
        };
        crate::io::stdio::mark();
        self.rows.inet_header(out, config)?;
        self.buffered.clear();
        self.buffered_ext.clear();
        let p = config.protocols;
        // netstat's order: TCP, SCTP, UDP, UDP-Lite, raw.
        let tables = [
            (Some(InetProto::Tcp), p.tcp),
            (None, p.sctp),
            (Some(InetProto::Udp), p.udp),
            (Some(InetProto::UdpLite), p.udplite),
            (Some(InetProto::Raw), p.raw),
        ];
        let mut status = 0;
        for (proto, selected) in tables {
            if !config.wants(selected) {
                continue;
            }
            status = match proto {
                Some(proto) => self.inet_family_pair(
                    config,
                    filter,
                    proto,
                    (&mut buffer, until_owners, wait_at),
                    out,
                    programs,
                )?,
                None => self.sctp(config),
            };
            if status != 0 {
                break;
            }
        }
        if buffer {
            self.print_buffered(config, out, programs)?;
        }
        Ok(status)
    }

    /// The rows that waited for names or owners, now that both are known.
    fn print_buffered(
        &mut self,
        config: &Config,
        out: &mut impl Write,
        programs: &mut Programs,
    ) -> Result<()> {
        let sockets = std::mem::take(&mut self.buffered);
        let exts = std::mem::take(&mut self.buffered_ext);
        if let Programs::Targeted = programs {
            // --listeners names only the listeners' owners
            let listeners_only = matches!(config.view, Some(crate::views::View::Listeners));
            let wanted: FxHashSet<u64> = sockets
                .iter()
                .filter(|s| !listeners_only || s.state == crate::model::tcp_state::LISTEN)
                .map(|s| s.inode)
                .filter(|&inode| inode != 0)
                .collect();
            let index = ProcessIndex::scan_for(self.collector.root(), &wanted, config.terminal);
            report_denied(&index);
            *programs = Programs::Ready(index);
        }
        if !config.numeric_hosts && config.view.is_none() {
            self.names
                .resolve_hosts(sockets.iter().flat_map(|s| [s.local, s.remote]));
        }
        let root = self.collector.root().clone();
        let shared = programs.shared();
        let mut owners = programs.ready_mut()?.map(|index| Owners {
            index,
            root: &root,
            ownerless: &mut self.ownerless,
            rescanned: &mut self.rescanned,
        });
        for (i, socket) in sockets.iter().enumerate() {
            if let (Some(owners), Some(later)) = (&owners, sockets.get(i + LOOKAHEAD)) {
                owners.index.prefetch(later.inode);
            }
            if let Some(owners) = &mut owners {
                owners.resolve(socket.inode)?;
            }
            let index = owners.as_ref().map(|o| &*o.index).or(shared.as_deref());
            let ext = exts.get(i);
            self.rows
                .inet_row(out, socket, ext, config, &mut self.names, index)?;
        }
        self.buffered = sockets;
        self.buffered_ext = exts;
        Ok(())
    }

    /// The unix table; true when it is missing and a selection asked for
    /// it (netstat then exits 1).
    fn unix_section(
        &mut self,
        config: &Config,
        out: &mut impl Write,
        filter: &SocketFilter,
        programs: &mut Programs,
    ) -> Result<bool> {
        crate::io::stdio::mark();
        let index = programs.ready()?;
        self.rows.unix_header(out, config)?;
        let rows = &mut self.rows;
        if let Some((iters, walk)) = self.kernel_counts.serving(Some(Walk::Unix)) {
            iters.walk(walk, filter.unix_kernel_states(), |record| {
                let socket = record.unix_socket();
                if filter.keep_unix(&socket) {
                    rows.unix_row(out, &socket, index)?;
                }
                Ok(())
            })?;
            return Ok(false);
        }
        let table = self.collector.unix_table(
            filter.unix_kernel_states(),
            filter.unix_peer_names(),
            config.info,
            |socket| {
                if filter.keep_unix(socket) {
                    rows.unix_row(out, socket, index)?;
                }
                Ok(())
            },
        )?;
        if table == Table::Missing && (config.any_selection || config.verbose) {
            no_support("AF UNIX");
        }
        Ok(table == Table::Missing && config.any_selection)
    }

    /// SCTP: net-tools reads /proc/net/sctp; without it there is only the
    /// message (this kernel has no SCTP).
    fn sctp(&self, config: &Config) -> i32 {
        if self.collector.root().path("net/sctp/eps").exists() {
            return 0;
        }
        if config.any_selection || config.verbose {
            no_support("AF INET (sctp)");
        }
        i32::from(config.any_selection)
    }

    /// One protocol's IPv4 then IPv6 table: dumped beside each other, in
    /// one walk (TCP), or in turn.
    fn inet_family_pair(
        &mut self,
        config: &Config,
        filter: &SocketFilter,
        proto: InetProto,
        (buffer, until_owners, wait_at): (&mut bool, bool, usize),
        out: &mut impl Write,
        programs: &mut Programs,
    ) -> Result<i32> {
        let dump = Dump {
            proto,
            states: filter.inet_kernel_states(proto),
            extensions: Extensions {
                timers: config.timers,
                health: config.info,
            },
            bytecode: filter.bytecode(),
        };
        let root = self.collector.root().clone();
        let (want_v4, want_v6) = (config.wants_inet_v4(), config.wants_inet_v6());
        // Only a ready map streams; a map still being built is not waited
        // for here (it is built beside the dump).
        let mut sink = RowSink {
            buffer,
            until_owners,
            wait_at,
            buffered: &mut self.buffered,
            buffered_ext: &mut self.buffered_ext,
            rows: &mut self.rows,
            names: &mut self.names,
            config,
            out,
            programs,
            root: &root,
            ownerless: &mut self.ownerless,
            rescanned: &mut self.rescanned,
            ahead: std::collections::VecDeque::with_capacity(LOOKAHEAD + 1),
        };
        let mut keep = |socket: &InetSocket, ext: SocketExt| {
            if filter.keep_inet(socket) {
                sink.accept(socket, ext)?;
            }
            Ok(())
        };
        let collector = &mut self.collector;
        let v4_table =
            if let Some((iters, walk)) = self.kernel_counts.serving(Walk::for_inet(proto)) {
                // --info: each socket's extensions, one buffer for the walk
                let mut ext = crate::collect::socket_iter::ExtBuffer::default();
                iters.walk(walk, dump.states, |record| match record.is_v6() {
                    Some(v6) if (v6 && want_v6) || (!v6 && want_v4) => {
                        let socket = record.inet_socket(proto);
                        if filter.expression_holds(&socket) {
                            keep(&socket, record.ext(&mut ext))?;
                        }
                        Ok(())
                    }
                    _ => Ok(()),
                })?;
                Table::Read
            } else if want_v4 && want_v6 && config.parallel_families {
                let v6_collector = self
                    .v6_collector
                    .get_or_insert_with(|| Collector::new(config.source, collector.root().clone()));
                // a view counts rows in any order: the IPv6 ones are counted
                // as they come instead of waiting for the IPv4 ones
                let any_order = config.view.is_some();
                dump_beside(
                    collector,
                    v6_collector,
                    (&dump, any_order),
                    filter,
                    &mut keep,
                )?
            } else if let Some(table) = (proto == InetProto::Tcp && want_v4 && want_v6)
                .then(|| {
                    let v6 = (&mut self.v6_rows, &mut self.v6_ext);
                    dump_one_walk(collector, v6, &dump, filter, &mut keep)
                })
                .transpose()?
                .flatten()
            {
                table
            } else {
                dump_in_turn(collector, &dump, (want_v4, want_v6), &mut keep)?
            };
        sink.flush()?;
        // Only a missing IPv4 table is reported (after the IPv6 one is
        // printed), as netstat does.
        if v4_table == Table::Missing {
            if config.any_selection || config.verbose {
                no_support(proto.support_name());
            }
            if config.any_selection {
                return Ok(1);
            }
        }
        Ok(0)
    }
}

/// What one protocol's dump asks the kernel for.
struct Dump<'a> {
    proto: InetProto,
    states: u32,
    extensions: Extensions,
    bytecode: Option<&'a [u8]>,
}

impl Dump<'_> {
    fn table(
        &self,
        collector: &mut Collector,
        v6: bool,
        each: impl FnMut(&InetSocket, SocketExt) -> Result<()>,
    ) -> Result<Table> {
        collector.inet_table(
            self.proto,
            v6,
            self.states,
            self.extensions,
            self.bytecode,
            each,
        )
    }
}

/// Rows handed from the IPv6 dump thread, with their extensions.
type Chunk = (Vec<InetSocket>, ExtArena);

/// The IPv6 dump on a second socket and thread beside the IPv4 one; its
/// rows wait in a bounded channel (which pauses that dump when full) until
/// the IPv4 rows are out. Returns the IPv4 table's outcome.
/// With `any_order` (a view), the IPv6 rows are taken between IPv4 ones
/// as they come, in small chunks.
fn dump_beside(
    collector: &mut Collector,
    v6_collector: &mut Collector,
    (dump, any_order): (&Dump, bool),
    filter: &SocketFilter,
    keep: &mut impl FnMut(&InetSocket, SocketExt) -> Result<()>,
) -> Result<Table> {
    let health = dump.extensions.health;
    let (chunk_rows, in_flight) = match (any_order, health) {
        (true, _) => (V6_CHUNK_ANY_ORDER, 2),
        (false, true) => (V6_CHUNK, V6_INFO_CHUNKS_IN_FLIGHT),
        (false, false) => (V6_CHUNK, V6_CHUNKS_IN_FLIGHT),
    };
    let (sender, receiver) = mpsc::sync_channel::<Chunk>(in_flight);
    let (v4_table, _v6_table) = std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            let new_chunk = || (Vec::with_capacity(chunk_rows), ExtArena::default());
            let mut chunk = new_chunk();
            let table = dump.table(v6_collector, true, |s, ext| {
                if filter.keep_inet(s) {
                    chunk.0.push(*s);
                    if health {
                        chunk.1.push(ext);
                    }
                    if chunk.0.len() == chunk_rows {
                        let full = std::mem::replace(&mut chunk, new_chunk());
                        sender.send(full).map_err(|_| consumer_gone())?;
                    }
                }
                Ok(())
            })?;
            if !chunk.0.is_empty() {
                sender.send(chunk).map_err(|_| consumer_gone())?;
            }
            Ok::<Table, crate::error::Error>(table)
        });
        let take = |(rows, exts): Chunk,
                    keep: &mut dyn FnMut(&InetSocket, SocketExt) -> Result<()>| {
            (rows.iter().enumerate()).try_for_each(|(i, s)| keep(s, exts.get(i)))
        };
        let mut seen = 0usize;
        let v4_table = dump.table(collector, false, |s, ext| {
            keep(s, ext)?;
            seen += 1;
            if any_order && seen.is_multiple_of(V6_DRAIN_EVERY) {
                while let Ok(chunk) = receiver.try_recv() {
                    take(chunk, &mut *keep)?;
                }
            }
            Ok(())
        });
        let drained = v4_table.as_ref().ok().map(|_| {
            receiver
                .iter()
                .try_for_each(|chunk| take(chunk, &mut *keep))
        });
        drop(receiver);
        let v6_table = producer.join().unwrap_or_else(|_| Err(consumer_gone()));
        if let Some(result) = drained {
            result?;
        }
        Ok::<_, crate::error::Error>((v4_table?, v6_table?))
    })?;
    Ok(v4_table)
}

/// TCP of both families in one walk: IPv4 rows go out as they come, IPv6
/// ones wait for them (in `v6_rows` and their extensions, kept across
/// ticks). `None` when the kernel cannot walk both at once.
fn dump_one_walk(
    collector: &mut Collector,
    (v6_rows, v6_ext): (&mut Vec<InetSocket>, &mut ExtArena),
    dump: &Dump,
    filter: &SocketFilter,
    keep: &mut impl FnMut(&InetSocket, SocketExt) -> Result<()>,
) -> Result<Option<Table>> {
    v6_rows.clear();
    v6_ext.clear();
    let health = dump.extensions.health;
    let table =
        collector.tcp_both_families(dump.states, dump.extensions, dump.bytecode, |s, ext| {
            if s.is_v6() {
                if filter.keep_inet(s) {
                    v6_rows.push(*s);
                    if health {
                        v6_ext.push(ext);
                    }
                }
                Ok(())
            } else {
                keep(s, ext)
            }
        });
    let drained = match &table {
        Ok(Some(_)) => (v6_rows.iter().enumerate()).try_for_each(|(i, s)| keep(s, v6_ext.get(i))),
        _ => Ok(()),
    };
    drained.and(table)
}

/// The wanted families' tables one after the other; the IPv4 table's
/// outcome (`Read` when it was not wanted).
fn dump_in_turn(
    collector: &mut Collector,
    dump: &Dump,
    (want_v4, want_v6): (bool, bool),
    keep: &mut impl FnMut(&InetSocket, SocketExt) -> Result<()>,
) -> Result<Table> {
    let v4_table = if want_v4 {
        dump.table(collector, false, &mut *keep)?
    } else {
        Table::Read
    };
    if want_v6 {
        dump.table(collector, true, &mut *keep)?;
    }
    Ok(v4_table)
}

/// netstat's messages for the families this system has no tables for
/// (IPX, AX.25, X.25, NET/ROM, ROSE, Bluetooth): 1 when a selection asked
/// for one.
fn unsupported_families(config: &Config) -> i32 {
    let families = config.families;
    for (wanted, name) in [
        (families.ipx, "AF IPX"),
        (families.ax25, "AF AX25"),
        (families.x25, "AF X25"),
        (families.netrom, "AF NETROM"),
        (families.rose, "AF ROSE"),
    ] {
        if config.wants(wanted) {
            if config.any_selection || config.verbose {
                no_support(name);
            }
            if config.any_selection {
                return 1;
            }
        }
    }
    if config.any_selection && (config.protocols.l2cap || config.protocols.rfcomm) {
        eprintln!(
            "netstat: feature `AF BLUETOOTH' not supported.\nPlease recompile `net-tools' with newer kernel source or full configuration."
        );
        return 1;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::procfs::ProcRoot;
    use crate::model::tcp_state;
    use std::net::{IpAddr, Ipv4Addr};

    fn socket(port: u16) -> InetSocket {
        InetSocket {
            proto: InetProto::Tcp,
            state: tcp_state::LISTEN,
            local: IpAddr::V4(Ipv4Addr::LOCALHOST),
            local_port: port,
            remote: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            remote_port: 0,
            recv_q: 0,
            send_q: 0,
            uid: 0,
            inode: 1000 + u64::from(port),
            timer: 0,
            timer_ticks: 0,
            retransmits: 0,
            probes: 0,
            backlog: 0,
        }
    }

    /// Print `ports` through a RowSink whose map becomes ready after
    /// `ready_after` rows (None: ready from the start), as tick_tables
    /// does: then whatever still waits at the end.
    fn print(ports: &[u16], ready_after: Option<usize>, wait_at: usize) -> (Vec<u8>, usize) {
        let config = Config {
            programs: true,
            numeric_hosts: true,
            numeric_ports: true,
            all: true,
            ..Config::default()
        };
        let (release, gate) = mpsc::channel::<()>();
        let mut programs = match ready_after {
            None => Programs::Ready(ProcessIndex::default()),
            Some(_) => Programs::Scanning(
                std::thread::spawn(move || {
                    // released at row `ready_after`, or by itself a little
                    // later when the sink waits for it (a bound)
                    let _ = gate.recv_timeout(std::time::Duration::from_millis(100));
                    Ok(ProcessIndex::default())
                }),
                true,
            ),
        };
        let mut rows = SocketOutput::for_config(&config);
        let mut names = NameCache::new();
        let (mut buffered, mut ownerless, mut rescanned) = (Vec::new(), FxHashSet::default(), true);
        let mut buffer = ready_after.is_some();
        let root = ProcRoot::default();
        let mut out = Vec::new();
        let mut most_waiting = 0;
        {
            let mut sink = RowSink {
                buffer: &mut buffer,
                until_owners: true,
                wait_at,
                buffered: &mut buffered,
                buffered_ext: &mut ExtArena::default(),
                rows: &mut rows,
                names: &mut names,
                config: &config,
                out: &mut out,
                programs: &mut programs,
                root: &root,
                ownerless: &mut ownerless,
                rescanned: &mut rescanned,
                ahead: Default::default(),
            };
            for (i, &port) in ports.iter().enumerate() {
                if Some(i) == ready_after {
                    let _ = release.send(());
                    while !sink.programs.is_built() {
                        std::thread::yield_now();
                    }
                }
                sink.accept(&socket(port), SocketExt::NONE).unwrap();
                most_waiting = most_waiting.max(sink.buffered.len());
            }
            sink.flush().unwrap();
        }
        let _ = release.send(());
        if buffer {
            let index = programs.ready().unwrap();
            for s in &buffered {
                rows.inet_row(&mut out, s, SocketExt::NONE, &config, &mut names, index)
                    .unwrap();
            }
        }
        (out, most_waiting)
    }

    /// Rows that waited for the map print first, in order, then the rest
    /// stream; the bytes are those of a map ready from the start.
    #[test]
    fn waiting_rows_print_in_order_once_the_map_is_ready() {
        let ports: Vec<u16> = (1..=50).collect();
        let (streamed, waited) = print(&ports, None, usize::MAX);
        assert_eq!(waited, 0);
        assert_eq!(String::from_utf8_lossy(&streamed).lines().count(), 50);
        for ready_after in [0, 1, 17, 49, 50] {
            let (out, waited) = print(&ports, Some(ready_after), usize::MAX);
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&streamed),
                "ready after {ready_after} rows"
            );
            assert_eq!(waited, ready_after, "rows held in memory");
        }
        // at most 10 rows wait: the 11th waits for the map instead
        let (out, waited) = print(&ports, Some(40), 10);
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&streamed)
        );
        assert_eq!(waited, 10, "rows held in memory with a bound");
    }
}
