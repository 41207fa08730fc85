//! Socket collection: sock_diag first, /proc/net text where the kernel has
//! no diag module for a protocol (or everywhere under `--source proc`).
//! Records are pushed to a callback as they are parsed.

pub mod bpf;
pub mod btf;
pub mod events;
pub mod netlink;
pub mod procfs;
pub mod recording;
pub mod sock_diag;
pub mod socket_iter;
pub mod tape;
pub mod tcp_info;

use crate::config::Source;
use crate::error::{Error, Result, Skipped};
use crate::model::{InetProto, InetSocket, SocketExt, UnixSocket};
use netlink::{DiagSocket, DumpEnd};
use procfs::ProcRoot;
use rustc_hash::{FxHashMap, FxHashSet};
pub use sock_diag::Extensions;
use sock_diag::UnixDiagRecord;

/// Whether a table could be read at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Read,
    /// Neither sock_diag nor /proc has it (netstat: "no support for").
    Missing,
}

/// Reads socket tables; keeps its netlink socket and buffers across ticks.
pub struct Collector {
    source: Source,
    root: ProcRoot,
    diag: Option<DiagSocket>,
    /// Tables the kernel refused over sock_diag; read from /proc from then on.
    no_diag: FxHashSet<(InetProto, bool)>,
    /// The kernel refused the one-walk TCP request (see
    /// [`tcp_both_families`](Self::tcp_both_families)).
    no_both_families: bool,
    unix_no_diag: bool,
    text: Vec<u8>,
    unix_records: Vec<UnixEntry>,
    unix_names: Vec<u8>,
    unix_pending: Vec<u32>,
}

/// A unix diag record with its name moved into the shared name arena.
#[derive(Clone, Copy)]
struct UnixEntry {
    sock_type: u8,
    state: u8,
    inode: u32,
    peer_inode: Option<u32>,
    name: Option<(u32, u32)>,
    /// `--info`: its `SK_MEMINFO_*` array, as a range of the names arena.
    skmem: (u32, u32),
    /// Client inodes of connections in a listener's accept queue, as a
    /// range of `unix_pending`.
    pending: (u32, u32),
}

impl Collector {
    pub fn new(source: Source, root: ProcRoot) -> Self {
        Collector {
            source,
            root,
            diag: None,
            no_diag: FxHashSet::default(),
            no_both_families: false,
            unix_no_diag: false,
            text: Vec::new(),
            unix_records: Vec::new(),
            unix_names: Vec::new(),
            unix_pending: Vec::new(),
        }
    }

    /// A collector whose sock_diag answers come from `diag` (a replay of
    /// recorded or crafted dumps, in tests and fuzz targets).
    pub fn with_diag(source: Source, root: ProcRoot, diag: DiagSocket) -> Self {
        Collector {
            diag: Some(diag),
            ..Collector::new(source, root)
        }
    }

    pub fn root(&self) -> &ProcRoot {
        &self.root
    }

    fn diag(&mut self) -> Result<&mut DiagSocket> {
        if self.diag.is_none() {
            self.diag = Some(DiagSocket::open()?);
        }
        Ok(self.diag.as_mut().expect("just opened"))
    }

    /// Read one inet table (protocol and family), calling `each` for every
    /// socket the kernel returns for `states`, with the `extensions` asked
    /// for (none from /proc).
    pub fn inet_table(
        &mut self,
        proto: InetProto,
        v6: bool,
        states: u32,
        extensions: Extensions,
        bytecode: Option<&[u8]>,
        mut each: impl FnMut(&InetSocket, SocketExt<'_>) -> Result<()>,
    ) -> Result<Table> {
        if self.source == Source::Auto && !self.no_diag.contains(&(proto, v6)) {
            let what = format!("sock_diag {}", proto.label(v6));
            let message = sock_diag::inet_request(proto, v6, states, extensions);
            let diag = self.diag()?;
            let mut bogus = Skipped::default();
            let mut on_record = |payload: &[u8]| match sock_diag::parse_inet_ext(proto, payload) {
                Ok((socket, ext)) => each(&socket, ext),
                Err(e) => {
                    bogus.add(e);
                    Ok(())
                }
            };
            let end = if proto == InetProto::Raw || bytecode.is_some() {
                let mut request = DiagSocket::encode_request(message, 1);
                if let Some(program) = bytecode {
                    request = sock_diag::with_attribute(
                        request,
                        &crate::filter::bytecode::attribute(program),
                    );
                }
                if proto == InetProto::Raw {
                    request = sock_diag::with_raw_protocol_filter(
                        request,
                        u32::from(libc::IPPROTO_RAW as u8),
                    );
                }
                diag.dump_raw(&request, &what, &mut on_record)
            } else {
                diag.dump(message, &what, &mut on_record)
            };
            bogus.warn(&what);
            // Rows stream as they arrive, so a dump that cannot be
            // completed is reported after them, not redone; the other
            // tables still print.
            match crate::error::report_dump(end)? {
                None | Some(DumpEnd::Done) => return Ok(Table::Read),
                Some(DumpEnd::Unsupported(_)) => {
                    self.no_diag.insert((proto, v6));
                }
            }
        }
        let mut text = std::mem::take(&mut self.text);
        let found = procfs::for_each_inet(&self.root, proto, v6, &mut text, |socket| {
            each(socket, SocketExt::NONE)
        });
        self.text = text;
        unreadable_table(found)
    }

    /// Both TCP tables in one dump (one walk of the kernel's hash tables
    /// instead of one per family), in the kernel's order, which keeps each
    /// family's own order. `None` when that request is refused or
    /// sock_diag is not the source: then read the families one by one.
    pub fn tcp_both_families(
        &mut self,
        states: u32,
        extensions: Extensions,
        bytecode: Option<&[u8]>,
        mut each: impl FnMut(&InetSocket, SocketExt<'_>) -> Result<()>,
    ) -> Result<Option<Table>> {
        let proto = InetProto::Tcp;
        if self.source != Source::Auto
            || self.no_both_families
            || self.no_diag.contains(&(proto, false))
            || self.no_diag.contains(&(proto, true))
        {
            return Ok(None);
        }
        let mut request = sock_diag::tcp_both_families_request(states, extensions, 1);
        if let Some(program) = bytecode {
            request =
                sock_diag::with_attribute(request, &crate::filter::bytecode::attribute(program));
        }
        let what = "sock_diag tcp";
        let diag = self.diag()?;
        let mut bogus = Skipped::default();
        let end = diag.dump_raw(&request, what, |payload| {
            match sock_diag::parse_inet_ext(proto, payload) {
                Ok((socket, ext)) => each(&socket, ext),
                Err(e) => {
                    bogus.add(e);
                    Ok(())
                }
            }
        });
        bogus.warn(what);
        // As for one family: rows have streamed, so a dump that cannot be
        // completed is reported after them.
        match crate::error::report_dump(end)? {
            None | Some(DumpEnd::Done) => Ok(Some(Table::Read)),
            Some(DumpEnd::Unsupported(_)) => {
                self.no_both_families = true;
                Ok(None)
            }
        }
    }

    /// Read the unix table. sock_diag carries no reference count, so the
    /// whole dump is kept (compactly) to derive it from peer links before
    /// the first row is passed on.
    pub fn unix_table(
        &mut self,
        states: u32,
        peer_names: bool,
        meminfo: bool,
        mut each: impl FnMut(&UnixSocket<'_>) -> Result<()>,
    ) -> Result<Table> {
        if self.source == Source::Auto && !self.unix_no_diag {
            let mut records = std::mem::take(&mut self.unix_records);
            let mut names = std::mem::take(&mut self.unix_names);
            let mut pending = std::mem::take(&mut self.unix_pending);
            records.clear();
            names.clear();
            pending.clear();
            let diag = self.diag()?;
            let mut bogus = Skipped::default();
            // The whole dump is gathered before the first row, so one the
            // kernel could not complete is simply redone.
            let end = crate::collect::netlink::retry_interrupted(|| {
                records.clear();
                names.clear();
                pending.clear();
                bogus = Skipped::default();
                diag.dump(
                    sock_diag::unix_request(states, meminfo),
                    "sock_diag unix",
                    |payload| {
                        match sock_diag::parse_unix(payload) {
                            Ok(r) => push_unix(&mut records, &mut names, &mut pending, &r),
                            Err(e) => bogus.add(e),
                        }
                        Ok(())
                    },
                )
            });
            bogus.warn("sock_diag unix");
            let result = match crate::error::report_dump(end) {
                Err(e) => Some(Err(e)),
                Ok(Some(DumpEnd::Unsupported(_))) => {
                    self.unix_no_diag = true;
                    None
                }
                // printed as far as it came, after the report
                Ok(None | Some(DumpEnd::Done)) => {
                    Some(emit_unix(&records, &names, &pending, peer_names, &mut each))
                }
            };
            self.unix_records = records;
            self.unix_names = names;
            self.unix_pending = pending;
            if let Some(result) = result {
                result?;
                return Ok(Table::Read);
            }
        }
        let mut text = std::mem::take(&mut self.text);
        let result = (|| {
            if !procfs::read_unix(&self.root, &mut text)? {
                return Ok(false);
            }
            for socket in procfs::unix_lines(&text) {
                match socket {
                    Ok(socket) => each(&socket)?,
                    // netstat's message
                    Err(_) => eprintln!("warning, got bogus unix line."),
                }
            }
            Ok(true)
        })();
        self.text = text;
        unreadable_table(result)
    }
}

/// How a /proc socket table went. A file that cannot be opened for lack
/// of permission counts as missing, as netstat counts it (its "no support"
/// message follows); one that cannot be read otherwise (EIO, a directory)
/// is reported in one line, and the run goes on with the next table.
fn unreadable_table(read: Result<bool>) -> Result<Table> {
    match read {
        Ok(true) => Ok(Table::Read),
        Ok(false) => Ok(Table::Missing),
        Err(Error::File { source, .. })
            if source.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            Ok(Table::Missing)
        }
        Err(error @ Error::File { .. }) => {
            crate::error::report(&error);
            Ok(Table::Read)
        }
        Err(error) => Err(error),
    }
}

/// Keep one unix record compactly: its name in the shared arena, its
/// queued peers in `pending`. Counts beyond u32 (impossible from a real
/// kernel) saturate instead of wrapping.
fn push_unix(
    records: &mut Vec<UnixEntry>,
    names: &mut Vec<u8>,
    pending: &mut Vec<u32>,
    r: &UnixDiagRecord<'_>,
) {
    let name = r.name.map(|n| {
        let start = u32::try_from(names.len()).unwrap_or(u32::MAX);
        names.extend_from_slice(n);
        (start, n.len() as u32)
    });
    let skmem_start = u32::try_from(names.len()).unwrap_or(u32::MAX);
    names.extend_from_slice(r.meminfo);
    let skmem = (skmem_start, r.meminfo.len() as u32);
    let first = u32::try_from(pending.len()).unwrap_or(u32::MAX);
    pending.extend(r.pending_peers());
    let count = u32::try_from(pending.len())
        .unwrap_or(u32::MAX)
        .saturating_sub(first);
    records.push(UnixEntry {
        sock_type: r.sock_type,
        state: r.state,
        inode: r.inode,
        peer_inode: r.peer_inode,
        name,
        skmem,
        pending: (first, count),
    });
}

/// Derive each socket's reference count the way the kernel keeps it: one
/// for the socket itself, one for its place in the hash table, and one for
/// every socket whose peer it is.
///
/// sock_diag skips sockets without an inode: the server ends of connections
/// still in a listener's accept queue. /proc lists them (CONNECTING, inode
/// 0, the listener's name), so they are rebuilt from the listener's queue
/// and printed right after it; /proc's order for them follows the hash
/// table, which sock_diag does not reveal.
/// With `peer_names`, each socket also carries its peer's name (for `dst`
/// filters).
fn emit_unix(
    records: &[UnixEntry],
    names: &[u8],
    pending: &[u32],
    peer_names: bool,
    each: &mut impl FnMut(&UnixSocket<'_>) -> Result<()>,
) -> Result<()> {
    let span = |(start, len): (u32, u32)| {
        let start = start as usize;
        names.get(start..start.saturating_add(len as usize))
    };
    let name_of = |r: &UnixEntry| r.name.and_then(span);
    let by_inode: FxHashMap<u32, &[u8]> = if peer_names {
        records
            .iter()
            .filter_map(|r| Some((r.inode, name_of(r)?)))
            .collect()
    } else {
        FxHashMap::default()
    };
    let mut referenced: FxHashMap<u32, u32> = FxHashMap::default();
    referenced.reserve(records.len());
    let peers = records.iter().filter_map(|r| r.peer_inode);
    // each queued connection's server end points at its client
    for peer in peers.chain(pending.iter().copied()).filter(|&p| p != 0) {
        *referenced.entry(peer).or_insert(0) += 1;
    }
    for r in records {
        let extra = referenced.get(&r.inode).copied().unwrap_or(0);
        let name = name_of(r);
        let record = UnixDiagRecord {
            sock_type: r.sock_type,
            state: r.state,
            inode: r.inode,
            peer_inode: r.peer_inode,
            name,
            pending_peers: &[],
            meminfo: span(r.skmem).unwrap_or_default(),
        };
        let mut socket = record.to_socket(2 + extra);
        socket.peer = r
            .peer_inode
            .and_then(|p| by_inode.get(&p))
            .map(|n| crate::model::UnixPath::SunPath(n));
        each(&socket)?;
        let embryo = UnixDiagRecord {
            state: crate::model::tcp_state::ESTABLISHED,
            inode: 0,
            peer_inode: None,
            meminfo: &[],
            ..record
        };
        for _ in 0..r.pending.1 {
            // itself, the hash table, and its client's peer link
            each(&embryo.to_socket(3))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Whole dumps through the collector, replayed from the recorded
    //! fixtures (tests/fixtures/README.md) over the netlink seam, with the
    //! faults a live kernel produces too rarely to test on: NLM_F_DUMP_INTR
    //! on gathered and on streamed tables.

    use super::*;
    use crate::collect::netlink::{NLM_F_DUMP_INTR, Replay};
    use crate::collect::recording::Recording;
    use crate::render::netstat::RowWriter;

    const TCP: &[u8] = include_bytes!("../../tests/fixtures/tcp.nlrec");
    const UNIX: &[u8] = include_bytes!("../../tests/fixtures/unix.nlrec");
    const UNIX_NETSTAT: &str = include_str!("../../tests/fixtures/unix.netstat-xa.txt");

    fn datagrams(recording: &[u8]) -> Vec<Vec<u8>> {
        Recording::new(recording)
            .unwrap()
            .datagrams()
            .map(<[u8]>::to_vec)
            .collect()
    }

    /// Mark every NLMSG_DONE of a datagram as the kernel marks a dump that
    /// raced with changes.
    fn interrupted(mut datagram: Vec<u8>) -> Vec<u8> {
        let mut at = 0;
        while at + 16 <= datagram.len() {
            let length = u32::from_ne_bytes(datagram[at..at + 4].try_into().unwrap()) as usize;
            if u16::from_ne_bytes([datagram[at + 4], datagram[at + 5]]) == 3 {
                let flags = u16::from_ne_bytes([datagram[at + 6], datagram[at + 7]]);
                datagram[at + 6..at + 8].copy_from_slice(&(flags | NLM_F_DUMP_INTR).to_ne_bytes());
            }
            at += (length + 3) & !3;
        }
        datagram
    }

    fn collector(replay: Replay) -> Collector {
        Collector::with_diag(
            Source::Auto,
            ProcRoot("/nonexistent".into()),
            DiagSocket::with_transport(Box::new(replay)),
        )
    }

    fn unix_rows(collector: &mut Collector) -> Vec<String> {
        let mut rows = RowWriter::new();
        let mut out = Vec::new();
        let table = collector
            .unix_table(crate::model::tcp_state::ALL, false, false, |s| {
                rows.unix_row(&mut out, s, None)?;
                Ok(())
            })
            .unwrap();
        assert_eq!(table, Table::Read);
        let mut lines: Vec<String> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        lines.sort();
        lines
    }

    fn netstat_unix_rows() -> Vec<String> {
        let mut rows: Vec<String> = UNIX_NETSTAT.lines().skip(2).map(str::to_string).collect();
        rows.sort();
        rows
    }

    /// The recorded unix dump, walked, parsed and its reference counts
    /// derived by the collector, prints netstat's rows (the oracle recorded
    /// from /proc in the same namespace), order aside.
    #[cfg(target_endian = "little")]
    #[test]
    fn replayed_unix_dump_prints_netstats_rows() {
        let mut replay = Replay::renumbering();
        for d in datagrams(UNIX) {
            replay = replay.datagram(d);
        }
        assert_eq!(unix_rows(&mut collector(replay)), netstat_unix_rows());
    }

    /// NLM_F_DUMP_INTR on the gathered unix table: the dump is redone and
    /// every row prints once.
    #[cfg(target_endian = "little")]
    #[test]
    fn interrupted_unix_dump_is_redone_without_repeating_rows() {
        let mut replay = Replay::renumbering();
        for d in datagrams(UNIX) {
            replay = replay.datagram(interrupted(d));
        }
        for d in datagrams(UNIX) {
            replay = replay.datagram(d);
        }
        assert_eq!(unix_rows(&mut collector(replay)), netstat_unix_rows());
    }

    /// Still interrupted after every retry: reported, and the last
    /// attempt's rows print (once each), not nothing and not a mixture.
    #[cfg(target_endian = "little")]
    #[test]
    fn unix_dump_interrupted_every_time_is_reported_and_printed_once() {
        let mut replay = Replay::renumbering();
        for _ in 0..=netlink::DUMP_RETRIES {
            for d in datagrams(UNIX) {
                replay = replay.datagram(interrupted(d));
            }
        }
        assert_eq!(unix_rows(&mut collector(replay)), netstat_unix_rows());
        assert!(crate::error::reported());
    }

    /// NLM_F_DUMP_INTR on a streamed inet table: the rows that came are
    /// printed, the table is reported (the run's status becomes 1), and
    /// the next table is dumped on a fresh socket.
    #[cfg(target_endian = "little")]
    #[test]
    fn interrupted_tcp_dump_prints_its_rows_then_reports() {
        let all = datagrams(TCP);
        let mut replay = Replay::renumbering();
        // the IPv4 dump, interrupted, then the IPv6 dump as recorded
        let mut v4_end = 0;
        for (i, d) in all.iter().enumerate() {
            let done = crate::collect::recording::messages(d).any(|m| m.message_type == 3);
            replay = replay.datagram(if v4_end == 0 {
                interrupted(d.clone())
            } else {
                d.clone()
            });
            if done && v4_end == 0 {
                v4_end = i + 1;
            }
        }
        let mut collector = collector(replay);
        let mut v4 = 0;
        let table = collector
            .inet_table(
                InetProto::Tcp,
                false,
                crate::model::tcp_state::ALL,
                Extensions::default(),
                None,
                |_, _| {
                    v4 += 1;
                    Ok(())
                },
            )
            .unwrap();
        assert_eq!((table, v4), (Table::Read, 436));
        assert!(crate::error::reported());
        let mut v6 = 0;
        collector
            .inet_table(
                InetProto::Tcp,
                true,
                crate::model::tcp_state::ALL,
                Extensions::default(),
                None,
                |_, _| {
                    v6 += 1;
                    Ok(())
                },
            )
            .unwrap();
        assert_eq!(v6, 44);
    }
}
