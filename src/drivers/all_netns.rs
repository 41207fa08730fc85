//! `--all-netns`: every network namespace of the host in one run.
//!
//! Each tick lists the namespaces afresh, builds the `-p` process map once
//! for all of them (socket inodes are unique host-wide), then reads them on
//! a few worker threads (one per core). A worker joins a namespace with
//! setns(CLONE_NEWNET) on its own thread only, so the netlink sockets it
//! opens there and the /proc/thread-self/net files it reads are that
//! namespace's, while the process stays where it is (an exporter keeps
//! serving from its own namespace). Each namespace keeps its state (netlink
//! sockets, name caches, a view's previous counts) across `-c` ticks.
//!
//! Output comes in a fixed order: nlstat's own namespace first, then the
//! named ones by name, then the others by inode, each under a line naming
//! it; JSON objects carry `netns` and `netns_inode` instead. `--group-by`
//! counts across namespaces (with `netns` as a key) and prints one table.

use super::ModeState;
use super::sockets::SocketListing;
use crate::config::{Config, Mode};
use crate::enrich::names::NameCache;
use crate::enrich::processes::ProcessIndex;
use crate::error::Result;
use crate::model::Tick;
use crate::netns::Namespace;
use crate::views::Aggregator;
use rustc_hash::FxHashMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// What reading one namespace printed, and netstat's exit status for it.
struct Outcome {
    bytes: Vec<u8>,
    status: i32,
}

/// State kept across `-c` ticks for every namespace.
pub struct AllNamespaces {
    states: FxHashMap<u64, ModeState>,
    processes: Option<Arc<ProcessIndex>>,
    /// `--group-by`: the counts of every namespace, printed as one table.
    merged: Option<Aggregator>,
    names: NameCache,
}

/// Run the selected mode in every namespace, once or every second (`-c`).
pub fn run(config: &Config, out: &mut impl Write) -> Result<i32> {
    let mut all = AllNamespaces::new(config);
    if config.mode == Mode::Statistics {
        return super::once(config, out, |out| all.tick(config, out));
    }
    super::repeat(config, out, |out| all.tick(config, out))
}

impl AllNamespaces {
    pub fn new(config: &Config) -> Self {
        let merged = config
            .view
            .clone()
            .filter(|v| matches!(v, crate::views::View::GroupBy { .. }))
            .map(|view| Aggregator::new(view, config.info));
        AllNamespaces {
            states: FxHashMap::default(),
            processes: None,
            merged,
            names: NameCache::for_inputs(&config.inputs),
        }
    }

    /// The `-p` map for this tick: built once for every namespace (from
    /// the BPF iterator where it may serve, else one /proc walk), then
    /// refreshed incrementally on later ticks.
    fn refresh_processes(&mut self, config: &Config) -> Result<()> {
        if !config.programs {
            return Ok(());
        }
        let root = &config.inputs.proc_root;
        // the listings of the last tick have let go of it
        let kept = self
            .processes
            .take()
            .and_then(|shared| Arc::try_unwrap(shared).ok());
        let index = crate::enrich::owners::shared_map(kept, config, root)?;
        self.processes = Some(Arc::new(index));
        Ok(())
    }

    /// One tick over every namespace, printed in order.
    pub fn tick(&mut self, config: &Config, out: &mut impl Write) -> Result<i32> {
        let namespaces = crate::netns::all();
        self.refresh_processes(config)?;
        let programs = self.processes.as_ref().filter(|_| config.programs);
        let mut status = 0;
        let mut failure = None;
        let joined_all = for_each_namespace(
            &config.program_name,
            &namespaces,
            &mut self.states,
            |ns, state| {
                visit(
                    ns,
                    state.get_or_insert_with(Default::default),
                    config,
                    programs,
                )
            },
            |ns, outcome| {
                if failure.is_some() {
                    return;
                }
                // a namespace that went away was reported already
                if let Some(Outcome { bytes, status: s }) = outcome {
                    if let Err(e) = emit(out, config, ns, &bytes) {
                        failure = Some(e);
                    }
                    if status == 0 {
                        status = s;
                    }
                }
            },
        );
        if let Some(e) = failure {
            return Err(e.into());
        }
        if !joined_all && status == 0 {
            status = 1;
        }
        if let Some(merged) = &mut self.merged {
            for ns in &namespaces {
                if let Some(view) = self
                    .states
                    .get_mut(&ns.inode)
                    .and_then(|s| s.listing.as_mut())
                    .and_then(SocketListing::view)
                {
                    merged.absorb(view);
                }
            }
            merged.finish(
                out,
                config,
                &mut self.names,
                programs.map(|p| &**p),
                &config.inputs.proc_root,
            )?;
        }
        Ok(status)
    }
}

/// Write one namespace's output: text under a line naming the namespace;
/// JSON objects carry it already (as the tick's label).
fn emit(
    out: &mut impl Write,
    config: &Config,
    ns: &Namespace,
    bytes: &[u8],
) -> std::io::Result<()> {
    if !config.output.is_json() {
        if bytes.is_empty() && config.view.is_some() {
            return Ok(());
        }
        writeln!(out, "Network namespace {} (inode {}):", ns.label, ns.inode)?;
    }
    out.write_all(bytes)
}

/// Run `work` for every namespace on up to one thread per core, each
/// thread joined to the namespace first, and hand the outcomes to `each`
/// in the namespaces' order as soon as they and all before them are done.
/// `work` gets the namespace's entry of `states` (by inode; `None` the
/// first time), which is kept for the next call; entries of namespaces
/// that are gone are dropped. A namespace that cannot be joined (it went
/// away) is reported on stderr and given to `each` as `None`; so is one
/// that refuses to be joined (no privilege), and then the result is false.
pub fn for_each_namespace<'n, S: Send, T: Send>(
    program: &str,
    namespaces: &'n [Namespace],
    states: &mut FxHashMap<u64, S>,
    work: impl Fn(&Namespace, &mut Option<S>) -> T + Sync,
    mut each: impl FnMut(&'n Namespace, Option<T>),
) -> bool {
    let slots: Vec<Mutex<Option<S>>> = namespaces
        .iter()
        .map(|ns| Mutex::new(states.remove(&ns.inode)))
        .collect();
    // what is left belongs to namespaces that are gone
    states.clear();
    let work = |i: usize, ns: &Namespace| {
        let mut slot = slots[i].lock().unwrap_or_else(|e| e.into_inner());
        work(ns, &mut slot)
    };
    let refused = std::sync::atomic::AtomicBool::new(false);
    let width = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(namespaces.len().max(1));
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel::<(usize, Option<T>)>();
    std::thread::scope(|scope| {
        for _ in 0..width {
            let sender = sender.clone();
            let (next, work, refused) = (&next, &work, &refused);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(ns) = namespaces.get(i) else { break };
                    let result = if ns.needs_own_mounts() {
                        // an /etc overlay needs a mount namespace of its
                        // own: on a thread that ends with it
                        std::thread::scope(|inner| {
                            inner
                                .spawn(|| joined(program, ns, i, work, refused))
                                .join()
                                .unwrap_or(None)
                        })
                    } else {
                        joined(program, ns, i, work, refused)
                    };
                    if sender.send((i, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut pending: Vec<Option<Option<T>>> = Vec::new();
        pending.resize_with(namespaces.len(), || None);
        let mut done = 0;
        for (i, result) in receiver {
            pending[i] = Some(result);
            while let Some(result) = pending.get_mut(done).and_then(Option::take) {
                each(&namespaces[done], result);
                done += 1;
            }
        }
    });
    for (ns, slot) in namespaces.iter().zip(slots) {
        if let Some(state) = slot.into_inner().unwrap_or_else(|e| e.into_inner()) {
            states.insert(ns.inode, state);
        }
    }
    !refused.into_inner()
}

/// `work` on the calling thread once it has joined `ns`; `None` (after
/// saying why on stderr) when it cannot.
fn joined<T>(
    program: &str,
    ns: &Namespace,
    i: usize,
    work: &(impl Fn(usize, &Namespace) -> T + Sync),
    refused: &std::sync::atomic::AtomicBool,
) -> Option<T> {
    if let Err(e) = crate::netns::join_thread(ns) {
        eprintln!("{program}: netns {}: {}", ns.label, e.message);
        if !e.vanished {
            refused.store(true, Ordering::Relaxed);
        }
        return None;
    }
    let _context = crate::error::context(format!("netns {}", ns.label));
    Some(work(i, ns))
}

/// Read one namespace on the calling thread (already joined to it).
fn visit(
    ns: &Namespace,
    state: &mut ModeState,
    config: &Config,
    programs: Option<&Arc<ProcessIndex>>,
) -> Outcome {
    let mut bytes = Vec::with_capacity(16 * 1024);
    if config.mode == Mode::Sockets {
        let listing = state.listing(config);
        if listing.view().is_some_and(|view| view.merges_namespaces()) {
            listing.defer_view();
        }
    }
    let tick = Tick {
        netns_inode: ns.inode,
        netns_label: &ns.label,
        netns_key: &ns.key,
        labelled: true,
    };
    let result = state.tick(config, &tick, &mut bytes, programs.cloned());
    match result {
        Ok(status) => Outcome { bytes, status },
        Err(e) => {
            eprintln!("{}: netns {}: {e}", config.program_name, ns.label);
            Outcome { bytes, status: 1 }
        }
    }
}
