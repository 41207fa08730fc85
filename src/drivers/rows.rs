//! How inet rows meet their `-p` owners: a row streams to the sink when
//! the owner map is ready, or waits (bounded) while the map is built on
//! another thread or until a filter has said which owners to look for.

use crate::collect::bpf::Unavailable;
use crate::collect::procfs::ProcRoot;
use crate::config::Config;
use crate::enrich::names::NameCache;
use crate::enrich::owners::{bpf_error, report_denied};
use crate::enrich::processes::ProcessIndex;
use crate::error::Result;
use crate::model::{ExtArena, InetSocket, SocketExt};
use crate::sinks::{SocketOutput, SocketSink};
use rustc_hash::FxHashSet;
use std::io::Write;
use std::thread::JoinHandle;

/// Where a table's rows go: straight to the output, or to the buffer that
/// waits for names and processes.
pub(super) struct RowSink<'a, W: Write> {
    /// Rows wait in `buffered`; shared by every table of the section, so
    /// that once streaming starts the later tables stream too.
    pub(super) buffer: &'a mut bool,
    /// The rows wait only for the process map being built on another
    /// thread: once it is ready, the waiting rows are printed and the rest
    /// stream (the iterator's map is usually ready before a large dump
    /// ends).
    pub(super) until_owners: bool,
    /// How many rows may wait for the map before the dump pauses until it
    /// is ready (unbounded for the /proc walk, which takes longer than the
    /// dump anyway; bounded for the iterator, whose map comes soon).
    pub(super) wait_at: usize,
    pub(super) buffered: &'a mut Vec<InetSocket>,
    /// `--info`: the waiting rows' extensions, by their index.
    pub(super) buffered_ext: &'a mut ExtArena,
    pub(super) rows: &'a mut SocketOutput,
    pub(super) names: &'a mut NameCache,
    pub(super) config: &'a Config,
    pub(super) out: &'a mut W,
    /// -p: the map, ready or being built.
    pub(super) programs: &'a mut Programs,
    pub(super) root: &'a ProcRoot,
    pub(super) ownerless: &'a mut FxHashSet<u64>,
    pub(super) rescanned: &'a mut bool,
    /// With a ready owner map, rows go out [`LOOKAHEAD`] rows late: each
    /// row's map slot is fetched when it arrives and read when it prints.
    pub(super) ahead: std::collections::VecDeque<InetSocket>,
}

/// Rows between a map slot's prefetch and its lookup: enough to cover a
/// memory access while rendering the rows in between.
pub(super) const LOOKAHEAD: usize = 16;

impl<W: Write> RowSink<'_, W> {
    pub(super) fn accept(&mut self, socket: &InetSocket, ext: SocketExt) -> Result<()> {
        if *self.buffer {
            let now = self.until_owners
                && (self.buffered.len() >= self.wait_at || self.programs.is_built());
            if !now {
                self.buffered.push(*socket);
                if self.config.info {
                    self.buffered_ext.push(ext);
                }
                return Ok(());
            }
            *self.buffer = false;
            let waiting = std::mem::take(self.buffered);
            let waiting_ext = std::mem::take(self.buffered_ext);
            for (i, row) in waiting.iter().enumerate() {
                self.emit(row, waiting_ext.get(i))?;
            }
            *self.buffered = waiting;
            *self.buffered_ext = waiting_ext;
            self.buffered.clear();
            self.buffered_ext.clear();
        }
        self.emit(socket, ext)
    }

    fn emit(&mut self, socket: &InetSocket, ext: SocketExt) -> Result<()> {
        let index = match &*self.programs {
            Programs::Shared(index) => &**index,
            Programs::Ready(index) => index,
            _ => return self.print(socket, ext),
        };
        if self.config.info {
            // the extensions borrow the receive buffer: no row goes late
            return self.print(socket, ext);
        }
        index.prefetch(socket.inode);
        self.ahead.push_back(*socket);
        if self.ahead.len() > LOOKAHEAD
            && let Some(row) = self.ahead.pop_front()
        {
            self.print(&row, SocketExt::NONE)?;
        }
        Ok(())
    }

    /// Print the rows still waiting for their lookahead.
    pub(super) fn flush(&mut self) -> Result<()> {
        while let Some(row) = self.ahead.pop_front() {
            self.print(&row, SocketExt::NONE)?;
        }
        Ok(())
    }

    fn print(&mut self, socket: &InetSocket, ext: SocketExt) -> Result<()> {
        if let Programs::Shared(index) = &*self.programs {
            self.rows
                .inet_row(self.out, socket, ext, self.config, self.names, Some(index))?;
            return Ok(());
        }
        let mut owners = self.programs.ready_mut()?.map(|index| Owners {
            index,
            root: self.root,
            ownerless: self.ownerless,
            rescanned: self.rescanned,
        });
        if let Some(owners) = &mut owners {
            owners.resolve(socket.inode)?;
        }
        let index = owners.as_ref().map(|o| &*o.index);
        self.rows
            .inet_row(self.out, socket, ext, self.config, self.names, index)?;
        Ok(())
    }
}

/// The process map while rows are printed, with the rescan rule: a socket
/// inode no process is known to hold may belong to a process whose files
/// changed without changing in number, so it triggers one full rescan per
/// tick, unless it stayed unowned after the last one.
pub(super) struct Owners<'a> {
    pub(super) index: &'a mut ProcessIndex,
    pub(super) root: &'a ProcRoot,
    pub(super) ownerless: &'a mut FxHashSet<u64>,
    /// Set once this tick has rescanned (one full rescan per tick at most).
    pub(super) rescanned: &'a mut bool,
}

impl Owners<'_> {
    pub(super) fn resolve(&mut self, inode: u64) -> Result<()> {
        if inode == 0 || self.index.contains(inode) {
            return Ok(());
        }
        if !*self.rescanned && !self.ownerless.contains(&inode) {
            self.index.refresh(self.root, true).map_err(bpf_error)?;
            *self.rescanned = true;
            self.ownerless.clear();
            if self.index.contains(inode) {
                return Ok(());
            }
        }
        self.ownerless.insert(inode);
        Ok(())
    }
}

/// The process map for this tick: being built on another thread, to be
/// built for the rows a filter kept, or ready.
pub(super) enum Programs {
    None,
    /// The /proc walk, or a run of the BPF iterator (`true`), beside the
    /// dump.
    Scanning(
        JoinHandle<std::result::Result<ProcessIndex, Unavailable>>,
        bool,
    ),
    /// Built after the dump, for the filtered rows' inodes only
    /// ([`ProcessIndex::scan_for`]).
    Targeted,
    Ready(ProcessIndex),
    /// A complete map made by the caller for several listings at once
    /// (`--all-netns`): read only, never rescanned here.
    Shared(std::sync::Arc<ProcessIndex>),
}

impl Programs {
    /// Whether the map is there without waiting for it.
    pub(super) fn is_built(&self) -> bool {
        match self {
            Programs::Scanning(handle, _) => handle.is_finished(),
            _ => true,
        }
    }

    pub(super) fn ready(&mut self) -> Result<Option<&ProcessIndex>> {
        if let Programs::Shared(index) = self {
            return Ok(Some(index));
        }
        Ok(self.ready_mut()?.map(|index| &*index))
    }

    /// The shared map, which rows are printed with but never rescanned.
    pub(super) fn shared(&self) -> Option<std::sync::Arc<ProcessIndex>> {
        match self {
            Programs::Shared(index) => Some(std::sync::Arc::clone(index)),
            _ => None,
        }
    }

    pub(super) fn ready_mut(&mut self) -> Result<Option<&mut ProcessIndex>> {
        if let Programs::Scanning(..) = self {
            let Programs::Scanning(handle, _) = std::mem::replace(self, Programs::None) else {
                unreachable!()
            };
            let index = handle
                .join()
                .unwrap_or_else(|_| Ok(ProcessIndex::default()));
            let index = index.map_err(bpf_error)?;
            report_denied(&index);
            *self = Programs::Ready(index);
        }
        Ok(match self {
            Programs::Ready(index) => Some(index),
            _ => None,
        })
    }
}

/// Run the BPF iterator again for `index` on another thread (its map is
/// rebuilt whole); with `auto`, a failure falls back to the /proc walk
/// there, saying why under `-v`.
pub(super) fn run_iterator(mut index: ProcessIndex, root: ProcRoot, config: &Config) -> Programs {
    let (verbose, program_name) = (config.verbose, config.program_name.clone());
    Programs::Scanning(
        std::thread::spawn(move || {
            index.refresh(&root, true)?;
            if let Some(reason) = index.fallback.take()
                && verbose
            {
                eprintln!("{program_name}: -p reads /proc (no BPF task_file iterator: {reason})");
            }
            Ok(index)
        }),
        true,
    )
}
