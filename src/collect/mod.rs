//! Socket collection: sock_diag first, /proc/net text where the kernel has
//! no diag module for a protocol (or everywhere under `--source proc`).
//! Records are pushed to a callback as they are parsed.

pub mod netlink;
pub mod procfs;
pub mod recording;
pub mod sock_diag;

use crate::config::Source;
use crate::error::Result;
use crate::model::{InetProto, InetSocket, UnixSocket};
use netlink::{DiagSocket, DumpEnd};
use procfs::ProcRoot;
use rustc_hash::{FxHashMap, FxHashSet};
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
    /// socket the kernel returns for `states`.
    pub fn inet_table(
        &mut self,
        proto: InetProto,
        v6: bool,
        states: u32,
        with_info: bool,
        bytecode: Option<&[u8]>,
        mut each: impl FnMut(&InetSocket) -> Result<()>,
    ) -> Result<Table> {
        if self.source == Source::Auto && !self.no_diag.contains(&(proto, v6)) {
            let what = format!("sock_diag {}", proto.label(v6));
            let message = sock_diag::inet_request(proto, v6, states, with_info);
            let diag = self.diag()?;
            let mut parse_error = false;
            let mut on_record = |payload: &[u8]| match sock_diag::parse_inet(proto, payload) {
                Some(socket) => each(&socket),
                None => {
                    parse_error = true;
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
                diag.dump_raw(&request, &what, &mut on_record)?
            } else {
                diag.dump(message, &what, &mut on_record)?
            };
            if parse_error {
                eprintln!("warning, got bogus {} diag message.", proto.label(v6));
            }
            match end {
                DumpEnd::Done => return Ok(Table::Read),
                DumpEnd::Unsupported(_) => {
                    self.no_diag.insert((proto, v6));
                }
            }
        }
        let mut text = std::mem::take(&mut self.text);
        let found = procfs::for_each_inet(&self.root, proto, v6, &mut text, each);
        self.text = text;
        Ok(if found? { Table::Read } else { Table::Missing })
    }

    /// Both TCP tables in one dump (one walk of the kernel's hash tables
    /// instead of one per family), in the kernel's order, which keeps each
    /// family's own order. `None` when that request is refused or
    /// sock_diag is not the source: then read the families one by one.
    pub fn tcp_both_families(
        &mut self,
        states: u32,
        with_info: bool,
        bytecode: Option<&[u8]>,
        mut each: impl FnMut(&InetSocket) -> Result<()>,
    ) -> Result<Option<Table>> {
        let proto = InetProto::Tcp;
        if self.source != Source::Auto
            || self.no_both_families
            || self.no_diag.contains(&(proto, false))
            || self.no_diag.contains(&(proto, true))
        {
            return Ok(None);
        }
        let mut request = sock_diag::tcp_both_families_request(states, with_info, 1);
        if let Some(program) = bytecode {
            request =
                sock_diag::with_attribute(request, &crate::filter::bytecode::attribute(program));
        }
        let diag = self.diag()?;
        let mut parse_error = false;
        let end = diag.dump_raw(
            &request,
            "sock_diag tcp",
            |payload| match sock_diag::parse_inet(proto, payload) {
                Some(socket) => each(&socket),
                None => {
                    parse_error = true;
                    Ok(())
                }
            },
        )?;
        if parse_error {
            eprintln!("warning, got bogus tcp diag message.");
        }
        match end {
            DumpEnd::Done => Ok(Some(Table::Read)),
            DumpEnd::Unsupported(_) => {
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
            let end = diag.dump(
                sock_diag::unix_request(states),
                "sock_diag unix",
                |payload| {
                    if let Some(r) = sock_diag::parse_unix(payload) {
                        let name = r.name.map(|n| {
                            let start = names.len() as u32;
                            names.extend_from_slice(n);
                            (start, n.len() as u32)
                        });
                        let first = pending.len() as u32;
                        pending.extend(r.pending_peers());
                        records.push(UnixEntry {
                            sock_type: r.sock_type,
                            state: r.state,
                            inode: r.inode,
                            peer_inode: r.peer_inode,
                            name,
                            pending: (first, pending.len() as u32 - first),
                        });
                    }
                    Ok(())
                },
            )?;
            let result = match end {
                DumpEnd::Unsupported(_) => {
                    self.unix_no_diag = true;
                    None
                }
                DumpEnd::Done => Some(emit_unix(&records, &names, &pending, peer_names, &mut each)),
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
                return Ok(Table::Missing);
            }
            for socket in procfs::unix_lines(&text) {
                match socket {
                    Some(socket) => each(&socket)?,
                    None => eprintln!("warning, got bogus unix line."),
                }
            }
            Ok(Table::Read)
        })();
        self.text = text;
        result
    }
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
    let name_of = |r: &UnixEntry| {
        r.name
            .map(|(start, len)| &names[start as usize..(start + len) as usize])
    };
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
            ..record
        };
        for _ in 0..r.pending.1 {
            // itself, the hash table, and its client's peer link
            each(&embryo.to_socket(3))?;
        }
    }
    Ok(())
}
