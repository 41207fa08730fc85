//! `-p`: which process holds each socket, as a hash map keyed by inode
//! (net-tools and ss use small chained hash tables that turn 200 000
//! sockets into tens of seconds), built from one of two sources:
//!
//! - the BPF task_file iterator ([`super::task_files`]), when nlstat may
//!   load BPF programs: the kernel walks every open file and hands back
//!   only the sockets, a few reads for the whole machine;
//! - one scan of `/proc/*/fd` otherwise, with raw `openat`/`readdir`/
//!   `readlinkat` on reused buffers, allocating per process only when that
//!   process holds a socket.
//!
//! Either way the result is netstat's: the smallest pid holding an inode
//! wins (netstat reads /proc in ascending pid order and keeps the first),
//! program names come from `/proc/PID/cmdline`, read once per owning
//! process, a process whose cmdline cannot be opened (it exited meanwhile)
//! owns nothing, and nlstat's own process owns nothing (netstat holds no
//! socket while it scans; nlstat holds netlink sockets, which must not
//! count as an identified process when every other process is unreadable).

use super::inode_map::InodeMap;
use super::task_files::TaskFiles;
use crate::collect::bpf::Unavailable;
use crate::collect::procfs::ProcRoot;
use crate::text::Text;
use rustc_hash::{FxHashMap, FxHashSet};
use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Records between an inode's prefetch and its insertion into the map.
const PREFETCH_AHEAD: usize = 16;

/// `PID/name` as netstat prints it: at most 19 bytes.
pub type ProgramLabel = Text<19>;

/// inode → `PID/name`, first process found wins (as in netstat).
///
/// Kept across `-c` ticks: [`refresh`](Self::refresh) re-reads only the
/// processes that are new or whose number of open files changed.
#[derive(Default)]
pub struct ProcessIndex {
    by_inode: InodeMap,
    /// Every process read, in /proc order.
    processes: Vec<ProcessSockets>,
    /// Processes skipped because they vanished or denied access.
    pub skipped: usize,
    /// Whether some process' fd directory was unreadable (EACCES): netstat
    /// then prints a note on stderr.
    pub denied: bool,
    /// The BPF iterator this map came from; a refresh runs it again.
    iterator: Option<IteratorSource>,
    /// Why a later run of the iterator failed and the map was rebuilt from
    /// /proc (`-v` shows it).
    pub fallback: Option<Unavailable>,
    /// The rows go to a terminal: a newline in a process name is read as
    /// `?`, since there it would end the row early (the terminal-safe
    /// writer shows the other control bytes as `?` on the way out, but
    /// cannot tell a name's newline from a row's end).
    for_terminal: bool,
}

/// The iterator behind a map, and whether falling back to /proc is allowed.
struct IteratorSource {
    task_files: TaskFiles,
    /// `--pid-source bpf`: a failure is an error, not a fallback.
    required: bool,
}

/// What one process holds (possibly no socket: it is remembered so that
/// the next refresh need not read it again).
#[derive(Clone, Default)]
struct ProcessSockets {
    pid: u32,
    /// Open files as the kernel reports them in the size of /proc/PID/fd
    /// (Linux 6.2 and later); `None` when unknown, which forces a re-read.
    open_files: Option<i64>,
    label: ProgramLabel,
    /// The whole command name (the label cuts it), for structured output.
    program: Box<[u8]>,
    inodes: Vec<u64>,
}

/// What scanning one process found.
enum Scanned {
    Sockets(ProcessSockets),
    /// No socket among its files; carries its open-file count.
    NoSockets(Option<i64>),
    Denied,
    Gone,
}

impl ProcessIndex {
    /// The label for an inode, `-` when no process holds it.
    pub fn label(&self, inode: u64) -> &[u8] {
        match self.by_inode.get(inode) {
            Some(i) => self.processes[i as usize].label.as_bytes(),
            None => b"-",
        }
    }

    /// The pid and whole command name of the process holding `inode`
    /// (the name is empty when its cmdline could not be read).
    pub fn owner(&self, inode: u64) -> Option<(u32, &[u8])> {
        let process = &self.processes[self.by_inode.get(inode)? as usize];
        Some((process.pid, &process.program))
    }

    /// The whole command name of a process the index has read.
    pub fn program_of(&self, pid: u32) -> Option<&[u8]> {
        self.processes
            .iter()
            .find(|p| p.pid == pid)
            .map(|p| &*p.program)
    }

    pub fn contains(&self, inode: u64) -> bool {
        self.by_inode.contains(inode)
    }

    /// Start fetching what a lookup of `inode` reads: for rows a few
    /// places ahead of the one being printed.
    pub fn prefetch(&self, inode: u64) {
        self.by_inode.prefetch(inode);
    }

    /// Processes in the map (owners of a socket, and from /proc also the
    /// processes without one).
    pub fn processes_read(&self) -> usize {
        self.processes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_inode.is_empty()
    }

    /// Scan every process under `root` (names read `for_terminal` lose
    /// their newlines).
    pub fn scan(root: &ProcRoot, for_terminal: bool) -> ProcessIndex {
        let mut index = ProcessIndex {
            for_terminal,
            ..ProcessIndex::default()
        };
        index.refresh_proc(root, true);
        index
    }

    /// Whether the map comes from the BPF iterator (and is rebuilt whole by
    /// every refresh, so it is always complete).
    pub fn from_kernel(&self) -> bool {
        self.iterator.is_some()
    }

    /// An empty map backed by the BPF task_file iterator, loaded but not
    /// run yet (the first [`refresh`](Self::refresh) runs it), so that
    /// whatever keeps it from loading is known before any output.
    /// `required` (`--pid-source bpf`) makes a failure of a later run an
    /// error instead of a fallback to /proc. `config.inputs` may change
    /// how the program is built (tests); names read for a terminal lose
    /// their newlines.
    pub fn with_iterator(
        config: &crate::config::Config,
        root: &ProcRoot,
        required: bool,
    ) -> Result<ProcessIndex, Unavailable> {
        same_pid_namespace(root)?;
        let source = IteratorSource {
            task_files: TaskFiles::load(&config.inputs)?,
            required,
        };
        Ok(ProcessIndex {
            iterator: Some(source),
            for_terminal: config.terminal,
            ..ProcessIndex::default()
        })
    }

    /// Bring the index up to date. From the iterator: run it again (the
    /// whole walk takes milliseconds). From /proc: with `full`, every
    /// process is re-read; otherwise a process is re-read only when it is
    /// new or its number of open files changed since the last refresh.
    /// An error only when the iterator is required and fails.
    pub fn refresh(&mut self, root: &ProcRoot, full: bool) -> Result<(), Unavailable> {
        if let Some(mut source) = self.iterator.take() {
            match self.build_from(&mut source, root) {
                Ok(()) => {
                    self.iterator = Some(source);
                    return Ok(());
                }
                Err(reason) if source.required => return Err(reason),
                Err(reason) => {
                    self.fallback = Some(reason);
                    self.by_inode.clear();
                    self.processes.clear();
                    self.refresh_proc(root, true);
                    return Ok(());
                }
            }
        }
        self.refresh_proc(root, full);
        Ok(())
    }

    /// Turn a map from the iterator into the /proc walk's incremental map,
    /// for the ticks of `-c` after the first: re-reading only processes
    /// that are new or whose number of open files changed costs less than
    /// walking every open file again in the kernel (measured on the
    /// benchmark population: see doc/performance.md). Each
    /// owner's inodes and open-file count are taken from the map and its
    /// /proc/PID/fd; a socket that moved meanwhile is an unknown inode,
    /// which calls for one full rescan, as with the walk.
    pub fn into_incremental(&mut self, root: &ProcRoot) {
        if self.iterator.take().is_none() {
            return;
        }
        let Some(proc_dir) = ProcDir::open(root, self.for_terminal) else {
            return;
        };
        for process in &mut self.processes {
            process.open_files = proc_dir.open_files(process.pid);
        }
        for (inode, slot) in self.by_inode.iter() {
            self.processes[slot as usize].inodes.push(inode);
        }
    }

    /// Run the iterator and rebuild the map from its records.
    fn build_from(
        &mut self,
        source: &mut IteratorSource,
        root: &ProcRoot,
    ) -> Result<(), Unavailable> {
        self.by_inode.clear();
        self.processes.clear();
        self.skipped = 0;
        self.denied = false;
        let proc_dir = ProcDir::open(root, self.for_terminal)
            .ok_or_else(|| Unavailable(format!("{}: cannot be opened", root.0.display())))?;
        // nlstat's own pid as /proc numbers it; the iterator must report
        // the same number for a socket nlstat holds, or the two count pids
        // in different pid namespaces and the iterator's pids are useless
        let own = proc_dir
            .self_pid()
            .ok_or_else(|| Unavailable(format!("{}/self: unreadable", root.0.display())))?;
        let probe = Probe::open()?;
        let mut probe_owner = None;
        // tgid → index in `processes`, or None when its cmdline could not
        // be opened; records come grouped by task, so the last is cached
        let mut owners: FxHashMap<u32, Option<u32>> = FxHashMap::default();
        let mut last: Option<(u32, Option<u32>)> = None;
        let mut pid_text: Text<12> = Text::new();
        let processes = &mut self.processes;
        let by_inode = &mut self.by_inode;
        let bytes = source.task_files.run_all()?;
        by_inode.reserve(bytes.len() / super::task_files::RECORD_SIZE);
        let (records, _) = super::task_files::records(bytes);
        let mut ahead = super::task_files::records(bytes).0.skip(PREFETCH_AHEAD);
        records.for_each(|record| {
            // the map's slot for a record a few places on, fetched now
            if let Some(later) = ahead.next() {
                by_inode.prefetch(later.inode);
            }
            if record.inode == probe.inode {
                probe_owner = Some(record.tgid);
            }
            if record.tgid == own {
                return;
            }
            let slot = match last {
                Some((tgid, slot)) if tgid == record.tgid => slot,
                _ => {
                    let slot = *owners.entry(record.tgid).or_insert_with(|| {
                        pid_text.clear();
                        pid_text.push_u64(u64::from(record.tgid));
                        let (label, program) = program_label(&proc_dir, pid_text.as_bytes())?;
                        processes.push(ProcessSockets {
                            pid: record.tgid,
                            open_files: None,
                            label,
                            program,
                            inodes: Vec::new(),
                        });
                        Some(processes.len() as u32 - 1)
                    });
                    last = Some((record.tgid, slot));
                    slot
                }
            };
            let Some(slot) = slot else { return };
            // the smallest pid wins, as netstat's walk in /proc order
            by_inode.insert_unless(record.inode, slot, |held| {
                processes[held as usize].pid <= record.tgid
            });
        });
        drop(probe);
        if probe_owner != Some(own) {
            self.by_inode.clear();
            self.processes.clear();
            return Err(Unavailable(match probe_owner {
                Some(pid) => format!(
                    "the task_file iterator counts pids in another pid namespace (pid {pid} for nlstat's own socket, {own} in {})",
                    root.0.display()
                ),
                None => "the task_file iterator did not report nlstat's own socket".to_string(),
            }));
        }
        Ok(())
    }

    /// The /proc walk (see [`refresh`](Self::refresh)).
    fn refresh_proc(&mut self, root: &ProcRoot, full: bool) {
        self.skipped = 0;
        self.denied = false;
        let Some(mut proc_dir) = ProcDir::open(root, self.for_terminal) else {
            self.denied = true;
            self.by_inode.clear();
            self.processes.clear();
            return;
        };
        let pids = proc_dir.pids_but_own();
        let mut previous: FxHashMap<u32, ProcessSockets> =
            self.processes.drain(..).map(|p| (p.pid, p)).collect();
        // Decide per process: keep what we have, or read it again.
        let mut plan: Vec<(u32, Option<ProcessSockets>)> = Vec::with_capacity(pids.len());
        for pid in pids {
            let kept = previous.remove(&pid).filter(|old| {
                !full && old.open_files.is_some() && old.open_files == proc_dir.open_files(pid)
            });
            plan.push((pid, kept));
        }
        let to_read: Vec<u32> = plan
            .iter()
            .filter(|(_, k)| k.is_none())
            .map(|(p, _)| *p)
            .collect();
        // Nothing new, nothing gone: the inode map still holds.
        let unchanged = to_read.is_empty() && previous.is_empty() && !self.by_inode.is_empty();
        let mut fresh = proc_dir.scan_parallel(&to_read).into_iter();
        for (pid, kept) in plan {
            match kept {
                Some(process) => self.processes.push(process),
                None => match fresh.next() {
                    Some(Scanned::Sockets(process)) => self.processes.push(process),
                    Some(Scanned::NoSockets(open_files)) => self.processes.push(ProcessSockets {
                        pid,
                        open_files,
                        ..ProcessSockets::default()
                    }),
                    Some(Scanned::Denied) => {
                        self.denied = true;
                        self.skipped += 1;
                    }
                    Some(Scanned::Gone) | None => self.skipped += 1,
                },
            }
        }
        if unchanged {
            return;
        }
        self.by_inode.clear();
        for (i, process) in self.processes.iter().enumerate() {
            for &inode in &process.inodes {
                self.by_inode.insert_first(inode, i as u32);
            }
        }
    }
}

impl ProcessIndex {
    /// The owners of `wanted` only: processes are read in /proc order, two
    /// at a time, until every wanted inode has been seen, so a filtered
    /// `-p` listing whose few sockets sit in early processes does not read
    /// every descriptor on the host. Every process before the last one
    /// holding a wanted inode is read, so the first holder in /proc order
    /// still wins, as in a full scan.
    pub fn scan_for(root: &ProcRoot, wanted: &FxHashSet<u64>, for_terminal: bool) -> ProcessIndex {
        let mut index = ProcessIndex {
            for_terminal,
            ..ProcessIndex::default()
        };
        let Some(mut proc_dir) = ProcDir::open(root, for_terminal) else {
            index.denied = true;
            return index;
        };
        if wanted.is_empty() {
            return index;
        }
        let pids = proc_dir.pids_but_own();
        let remaining = Mutex::new(wanted.clone());
        let results = proc_dir.scan_in_turn(&pids, |scanned| match scanned {
            Scanned::Sockets(process) => {
                let mut left = remaining.lock().unwrap_or_else(|e| e.into_inner());
                let before = left.len();
                for inode in &process.inodes {
                    left.remove(inode);
                }
                (left.len() < before, left.is_empty())
            }
            Scanned::Denied => (true, false),
            _ => (false, false),
        });
        for (_, scanned) in results {
            match scanned {
                Scanned::Sockets(process) => index.processes.push(process),
                Scanned::Denied => {
                    index.denied = true;
                    index.skipped += 1;
                }
                _ => {}
            }
        }
        for (i, process) in index.processes.iter().enumerate() {
            for &inode in &process.inodes {
                if wanted.contains(&inode) {
                    index.by_inode.insert_first(inode, i as u32);
                }
            }
        }
        index
    }
}

/// An open /proc directory: a DIR stream to list processes, and its fd for
/// the `*at()` calls that read each process.
struct ProcDir {
    dir: *mut libc::DIR,
    fd: libc::c_int,
    /// Process names are read for a terminal (see [`program_label`]).
    for_terminal: bool,
}

// SAFETY: through a shared reference only `fd` (with openat, readlinkat and
// fstatat, which are thread-safe on one directory fd) and the immutable
// `for_terminal` flag are used. The
// DIR stream, which is not, is read only by `pids`, which takes `&mut
// self`, so no other reference exists while it reads; it is closed only in
// Drop, which owns the ProcDir.
unsafe impl Sync for ProcDir {}

impl Drop for ProcDir {
    fn drop(&mut self) {
        // SAFETY: `dir` came from opendir and is closed once, here; `fd`
        // belongs to it and goes with it.
        unsafe { libc::closedir(self.dir) };
    }
}

impl ProcDir {
    fn open(root: &ProcRoot, for_terminal: bool) -> Option<ProcDir> {
        let path = CString::new(root.0.as_os_str().as_bytes()).ok()?;
        // SAFETY: a NUL-terminated path; a null result is handled below.
        let dir = unsafe { libc::opendir(path.as_ptr()) };
        if dir.is_null() {
            return None;
        }
        Some(ProcDir {
            dir,
            // SAFETY: `dir` is a live DIR stream (checked non-null above).
            fd: unsafe { libc::dirfd(dir) },
            for_terminal,
        })
    }

    /// nlstat's own pid, as this /proc numbers it.
    fn self_pid(&self) -> Option<u32> {
        let mut link = [0u8; 16];
        // SAFETY: a NUL-terminated name, and a buffer writable for the
        // length passed; the result's length is checked before use.
        let n = unsafe {
            libc::readlinkat(
                self.fd,
                c"self".as_ptr(),
                link.as_mut_ptr().cast(),
                link.len(),
            )
        };
        parse_pid(link.get(..usize::try_from(n).ok()?)?)
    }

    /// Process ids in directory order (the order netstat walks them in),
    /// without nlstat's own: netstat holds no socket while it scans.
    fn pids_but_own(&mut self) -> Vec<u32> {
        let own = self.self_pid();
        let mut pids = self.pids();
        pids.retain(|&pid| Some(pid) != own);
        pids
    }

    /// Process ids in directory order (the order netstat walks them in).
    /// `&mut self`: the DIR stream must not be read from two threads (see
    /// the `Sync` impl).
    fn pids(&mut self) -> Vec<u32> {
        let mut pids = Vec::with_capacity(1024);
        loop {
            // SAFETY: a live DIR stream, read by this thread alone (`&mut`).
            let entry = unsafe { libc::readdir(self.dir) };
            if entry.is_null() {
                break;
            }
            // SAFETY: a non-null dirent from readdir, whose d_name is
            // NUL-terminated; the name is copied before the next readdir.
            let name = unsafe { CStr::from_ptr((*entry).d_name.as_ptr()) }.to_bytes();
            if let Some(pid) = parse_pid(name) {
                pids.push(pid);
            }
        }
        pids
    }

    fn open_files(&self, pid: u32) -> Option<i64> {
        let mut path: Text<32> = Text::new();
        path.push_u64(u64::from(pid));
        path.push_str("/fd\0");
        // SAFETY: stat is a plain C struct; all-zero is a valid value.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: the directory fd is open while `self` lives, the path is
        // NUL-terminated (pushed above) and `st` is live and writable.
        let rc = unsafe { libc::fstatat(self.fd, path.as_bytes().as_ptr().cast(), &mut st, 0) };
        (rc == 0 && st.st_size > 0).then_some(st.st_size)
    }

    /// Scan `pids` on up to four threads; results come back in `pids` order.
    fn scan_parallel(&self, pids: &[u32]) -> Vec<Scanned> {
        self.scan_in_turn(pids, |_| (true, false))
            .into_iter()
            .map(|(_, scanned)| scanned)
            .collect()
    }

    /// Scan `pids` on up to four threads, each taking the next process in
    /// turn (one process may hold tens of thousands of files, so fixed
    /// chunks would leave a thread idle). `visit` says of each result
    /// whether to keep it and whether to stop handing out processes; the
    /// kept results come back in `pids` order, and every process before
    /// the last one handed out has been scanned.
    fn scan_in_turn(
        &self,
        pids: &[u32],
        visit: impl Fn(&Scanned) -> (bool, bool) + Sync,
    ) -> Vec<(usize, Scanned)> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(4);
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let work = || {
            let mut kept = Vec::new();
            while !stop.load(Ordering::Acquire) {
                let i = next.fetch_add(1, Ordering::AcqRel);
                let Some(&pid) = pids.get(i) else { break };
                let scanned = self.scan_process(pid);
                let (keep, done) = visit(&scanned);
                if done {
                    stop.store(true, Ordering::Release);
                }
                if keep {
                    kept.push((i, scanned));
                }
            }
            kept
        };
        let mut results: Vec<(usize, Scanned)> = if threads <= 1 || pids.len() < 2 {
            work()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads).map(|_| scope.spawn(work)).collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap_or_default())
                    .collect()
            })
        };
        results.sort_unstable_by_key(|(i, _)| *i);
        results
    }

    fn scan_process(&self, pid: u32) -> Scanned {
        let mut path: Text<32> = Text::new();
        path.push_u64(u64::from(pid));
        path.push_str("/fd\0");
        let open_files = self.open_files(pid);
        // SAFETY: the directory fd is open while `self` lives and the path
        // is NUL-terminated; a negative result is handled below.
        let fd_dir_fd = unsafe {
            libc::openat(
                self.fd,
                path.as_bytes().as_ptr().cast(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if fd_dir_fd < 0 {
            return match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EACCES) => Scanned::Denied,
                _ => Scanned::Gone,
            };
        }
        // SAFETY: an fd this function opened; on success the DIR owns it.
        let fd_dir = unsafe { libc::fdopendir(fd_dir_fd) };
        if fd_dir.is_null() {
            // SAFETY: fdopendir failed, so the fd is still ours to close.
            unsafe { libc::close(fd_dir_fd) };
            return Scanned::Gone;
        }
        let mut link = [0u8; 64];
        let mut inodes = Vec::new();
        loop {
            // SAFETY: a live DIR stream local to this call and thread.
            let entry = unsafe { libc::readdir(fd_dir) };
            if entry.is_null() {
                break;
            }
            // SAFETY: a non-null dirent from readdir; it stays valid until
            // the next readdir on `fd_dir`, after its last use below.
            let fd_name = unsafe { (*entry).d_name.as_ptr() };
            // SAFETY: d_name is NUL-terminated, so its first byte exists.
            if !unsafe { *fd_name as u8 }.is_ascii_digit() {
                continue;
            }
            // SAFETY: fd_name is NUL-terminated and `link` is writable for
            // the length passed; the result is checked before use.
            let n = unsafe {
                libc::readlinkat(fd_dir_fd, fd_name, link.as_mut_ptr().cast(), link.len() - 1)
            };
            if n <= 0 {
                continue;
            }
            if let Some(inode) = socket_inode(&link[..n as usize]) {
                inodes.push(inode);
            }
        }
        // SAFETY: the DIR opened above, closed once (with its fd).
        unsafe { libc::closedir(fd_dir) };
        if inodes.is_empty() {
            return Scanned::NoSockets(open_files);
        }
        let mut pid_text: Text<12> = Text::new();
        pid_text.push_u64(u64::from(pid));
        // netstat skips a process whose cmdline cannot be opened
        let Some((label, program)) = program_label(self, pid_text.as_bytes()) else {
            return Scanned::Gone;
        };
        Scanned::Sockets(ProcessSockets {
            pid,
            open_files,
            label,
            program,
            inodes,
        })
    }
}

fn parse_pid(name: &[u8]) -> Option<u32> {
    if name.is_empty() || !name.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(name).ok()?.parse().ok()
}

/// `socket:[12345]` (or the old `[0000]:12345`) → 12345.
pub fn socket_inode(link: &[u8]) -> Option<u64> {
    let digits = if let Some(rest) = link.strip_prefix(b"socket:[") {
        rest.strip_suffix(b"]")?
    } else {
        link.strip_prefix(b"[0000]:")?
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// netstat's `PID/name`: argv[0] from cmdline (basename when it starts
/// with `/`), cut to 19 bytes; and the name whole. `None` when the cmdline
/// cannot be opened (the process is gone): netstat then skips the process.
/// Read for a terminal, a newline in the name becomes `?`.
fn program_label(proc_dir: &ProcDir, pid: &[u8]) -> Option<(ProgramLabel, Box<[u8]>)> {
    let mut label = ProgramLabel::new();
    label.push_bytes(pid);
    label.push_byte(b'/');
    let mut path: Text<64> = Text::new();
    path.push_bytes(pid);
    path.push_str("/cmdline\0");
    // SAFETY: proc_dir's fd is open while it lives (the whole call) and
    // the path is NUL-terminated; a negative result is handled.
    let fd = unsafe {
        libc::openat(
            proc_dir.fd,
            path.as_bytes().as_ptr().cast(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return None;
    }
    let mut cmdline = [0u8; 512];
    // SAFETY: an fd opened above, and a buffer writable for the length.
    let n = unsafe { libc::read(fd, cmdline.as_mut_ptr().cast(), cmdline.len() - 1) };
    // SAFETY: the fd opened above, closed once, here.
    unsafe { libc::close(fd) };
    if n <= 0 {
        return Some((label, Box::default()));
    }
    let name = command_name(&cmdline[..n as usize]);
    if proc_dir.for_terminal && name.contains(&b'\n') {
        // On a terminal a newline in a name would end the row early (the
        // other control bytes are shown as `?` on the way out).
        let name: Vec<u8> = name
            .iter()
            .map(|&b| if b == b'\n' { b'?' } else { b })
            .collect();
        label.push_bytes(&name);
        return Some((label, name.into()));
    }
    label.push_bytes(name);
    Some((label, name.into()))
}

/// The iterator reports pids as the initial pid namespace numbers them:
/// they mean nothing to a /proc of another one. Checked up front (nlstat
/// in the initial pid namespace, and /proc numbering it as getpid does);
/// each run checks it again on a socket nlstat holds ([`Probe`]).
fn same_pid_namespace(root: &ProcRoot) -> Result<(), Unavailable> {
    /// PROC_PID_INIT_INO: the initial pid namespace's inode, fixed in the
    /// kernel (include/linux/proc_ns.h) since namespaces have inodes.
    const INIT_PID_NS: &str = "pid:[4026531836]";
    let ns = std::fs::read_link(root.path("self/ns/pid"))
        .map_err(|e| Unavailable(format!("{}/self/ns/pid: {e}", root.0.display())))?;
    let own = std::fs::read_link(root.path("self"))
        .ok()
        .and_then(|p| p.to_str()?.parse::<u32>().ok());
    if ns.as_os_str() != INIT_PID_NS || own != Some(std::process::id()) {
        return Err(Unavailable(format!(
            "nlstat runs in another pid namespace ({}) than the iterator's pids (the initial one)",
            ns.display()
        )));
    }
    Ok(())
}

/// A socket nlstat holds while the iterator runs, so that its own pid can
/// be checked in the records: a netlink socket, which no table netstat
/// prints lists, even when the map is rebuilt in the middle of a dump.
struct Probe {
    _fd: std::os::fd::OwnedFd,
    inode: u64,
}

impl Probe {
    fn open() -> Result<Probe, Unavailable> {
        use std::os::fd::{AsRawFd, FromRawFd};
        // SAFETY: socket takes plain integers; a negative result is handled.
        let raw = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if raw < 0 {
            let e = std::io::Error::last_os_error();
            return Err(Unavailable(format!(
                "a netlink socket for the pid check: {e}"
            )));
        }
        // SAFETY: a new descriptor nothing else owns.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) };
        // SAFETY: stat is a plain C struct; all-zero is a valid value.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: an open descriptor and a live, writable stat.
        if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
            let e = std::io::Error::last_os_error();
            return Err(Unavailable(format!("fstat of the pid check's socket: {e}")));
        }
        Ok(Probe {
            _fd: fd,
            inode: st.st_ino,
        })
    }
}

/// argv[0] of a cmdline, reduced to its basename when it is an absolute path.
pub fn command_name(cmdline: &[u8]) -> &[u8] {
    let argv0 = match cmdline.iter().position(|&b| b == 0) {
        Some(end) => &cmdline[..end],
        None => cmdline,
    };
    if argv0.first() == Some(&b'/')
        && let Some(slash) = argv0.iter().rposition(|&b| b == b'/')
    {
        return &argv0[slash + 1..];
    }
    argv0
}

/// `--record`'s copy of the map: what rows need of it (owners of sockets,
/// in /proc order, and netstat's "denied" note), nothing of how it was read.
/// Layout: denied (u8), then per process pid (u32), label and program
/// (u16 length + bytes each), inode count (u32) and inodes (u64), all
/// little-endian.
impl ProcessIndex {
    pub fn encode_owners(&self) -> Vec<u8> {
        // the map, not the processes' own lists: the BPF iterator fills
        // only the map
        let mut owned: Vec<(u32, u64)> = self.by_inode.iter().map(|(i, o)| (o, i)).collect();
        owned.sort_unstable();
        let mut out = vec![u8::from(self.denied)];
        for run in owned.chunk_by(|a, b| a.0 == b.0) {
            let process = &self.processes[run[0].0 as usize];
            out.extend_from_slice(&process.pid.to_le_bytes());
            for bytes in [process.label.as_bytes(), &process.program] {
                out.extend_from_slice(&(bytes.len().min(0xffff) as u16).to_le_bytes());
                out.extend_from_slice(&bytes[..bytes.len().min(0xffff)]);
            }
            out.extend_from_slice(&(run.len() as u32).to_le_bytes());
            for (_, inode) in run {
                out.extend_from_slice(&inode.to_le_bytes());
            }
        }
        out
    }

    /// The map [`encode_owners`](Self::encode_owners) wrote; `None` when
    /// the bytes are not such a map.
    pub fn decode_owners(mut bytes: &[u8]) -> Option<ProcessIndex> {
        fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
            let (head, rest) = bytes.split_at_checked(n)?;
            *bytes = rest;
            Some(head)
        }
        fn u32_at(bytes: &mut &[u8]) -> Option<u32> {
            take(bytes, 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        }
        fn text<'a>(bytes: &mut &'a [u8]) -> Option<&'a [u8]> {
            let length = take(bytes, 2).map(|b| u16::from_le_bytes([b[0], b[1]]))?;
            take(bytes, usize::from(length))
        }
        let mut index = ProcessIndex {
            denied: *take(&mut bytes, 1)?.first()? != 0,
            ..ProcessIndex::default()
        };
        while !bytes.is_empty() {
            let pid = u32_at(&mut bytes)?;
            let mut label = ProgramLabel::new();
            label.push_bytes(text(&mut bytes)?);
            let program = text(&mut bytes)?.into();
            let count = u32_at(&mut bytes)? as usize;
            let raw = take(&mut bytes, count.checked_mul(8)?)?;
            let inodes = raw
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect();
            index.processes.push(ProcessSockets {
                pid,
                open_files: None,
                label,
                program,
                inodes,
            });
        }
        for (i, process) in index.processes.iter().enumerate() {
            for &inode in &process.inodes {
                index.by_inode.insert_first(inode, i as u32);
            }
        }
        Some(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inode_links() {
        assert_eq!(socket_inode(b"socket:[12345]"), Some(12345));
        assert_eq!(socket_inode(b"[0000]:77"), Some(77));
        assert_eq!(socket_inode(b"pipe:[12345]"), None);
        assert_eq!(socket_inode(b"socket:[]"), None);
    }

    #[test]
    fn command_names() {
        assert_eq!(command_name(b"/usr/bin/python3\0-u\0x.py\0"), b"python3");
        assert_eq!(command_name(b"nginx: worker\0"), b"nginx: worker");
        assert_eq!(command_name(b"holder\twith-tab\0"), b"holder\twith-tab");
        assert_eq!(command_name(b"./relative/x\0"), b"./relative/x");
    }

    #[test]
    fn label_cut_to_nineteen() {
        let mut label = ProgramLabel::new();
        label.push_str("2895/");
        label.push_bytes(command_name(b"/usr/local/bin/a-long-socket-holder-name\0"));
        assert_eq!(label.as_str(), "2895/a-long-socket-");
    }

    fn inode_of(socket: &impl std::os::fd::AsRawFd) -> u64 {
        let link = std::fs::read_link(format!("/proc/self/fd/{}", socket.as_raw_fd())).unwrap();
        socket_inode(link.as_os_str().as_bytes()).unwrap()
    }

    /// A child's socket is found; one nlstat holds itself is not (netstat
    /// holds none while it scans).
    #[test]
    fn scan_finds_a_child_socket_but_not_its_own() {
        let own = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let own_inode = inode_of(&own);
        let held = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let held_inode = inode_of(&held);
        let mut child = holder(held);
        let index = ProcessIndex::scan(&ProcRoot::default(), false);
        let label = String::from_utf8_lossy(index.label(held_inode)).into_owned();
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(label, format!("{}/sleep", child.id()));
        assert!(!index.contains(own_inode));
        assert_eq!(index.label(own_inode), b"-");
    }

    /// A child holding one socket as its stdin: its open files do not move
    /// while other tests in this process open and close theirs.
    fn holder(socket: std::net::UdpSocket) -> std::process::Child {
        let fd: std::os::fd::OwnedFd = socket.into();
        std::process::Command::new("sleep")
            .arg("30")
            .stdin(std::process::Stdio::from(fd))
            .spawn()
            .expect("spawn sleep")
    }

    #[test]
    fn refresh_follows_processes_that_come_and_go() {
        let root = ProcRoot::default();
        let first = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let first_inode = inode_of(&first);
        let mut first_holder = holder(first);
        let mut index = ProcessIndex::default();
        index.refresh(&root, false).unwrap();
        assert!(index.contains(first_inode));
        // Nothing changed for the holder: still known without a full read.
        index.refresh(&root, false).unwrap();
        assert!(index.contains(first_inode));
        // A new process is read; one that is gone leaves the map.
        let second = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let second_inode = inode_of(&second);
        let mut second_holder = holder(second);
        first_holder.kill().unwrap();
        first_holder.wait().unwrap();
        index.refresh(&root, false).unwrap();
        assert!(index.contains(second_inode));
        assert!(!index.contains(first_inode));
        second_holder.kill().unwrap();
        second_holder.wait().unwrap();
    }
}
