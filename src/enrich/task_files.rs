//! `-p` from the kernel: a BPF `iter/task_file` program that visits every
//! open file of every process inside the kernel and writes one record per
//! socket, so the inode → process map costs a few reads of a seq file
//! instead of one `readlinkat` per open file on the machine.
//!
//! The program is 25 instructions emitted here, with every struct offset
//! (the iterator's context, `bpf_iter_meta.seq`, `task_struct.pid/tgid`,
//! `file.f_inode`, `inode.i_mode/i_ino`) read from the running kernel's BTF
//! ([`super::btf`]), so it relocates by construction; it is loaded with the
//! raw `bpf()` syscall (BPF_PROG_LOAD as a tracing program attached to the
//! `bpf_iter_task_file` BTF function, BPF_LINK_CREATE, BPF_ITER_CREATE).
//! No compiler at build time, no loader crate.
//!
//! What it keeps matches what netstat reads: only a thread-group leader's
//! files (`task->pid == task->tgid`; netstat reads `/proc/PID/fd`, the
//! leader's table, and never a thread that unshared its own), and only
//! sockets (`S_IFSOCK` in `i_mode`). Records are `(tgid u32, fd u32, inode
//! u64)` in the CPU's byte order.

use super::btf::{self, Btf, Kind};
use std::fmt;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Where the kernel publishes its BTF; `NLSTAT_BTF_PATH` overrides it
/// (tests point it at a missing or garbage file; see
/// [`crate::config::Inputs::btf_path`]).
pub const DEFAULT_BTF_PATH: &str = "/sys/kernel/btf/vmlinux";

/// Why the iterator cannot be used; shown with `-v`, or as the error of
/// `--pid-source bpf`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unavailable(pub String);

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn unavailable(what: impl Into<String>) -> Unavailable {
    Unavailable(what.into())
}

/// One field the program loads: byte offset and width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub offset: i16,
    pub size: u8,
}

/// Every offset the program needs, from one kernel's BTF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// BTF id of FUNC `bpf_iter_task_file`, the program's attach point.
    pub attach_btf_id: u32,
    pub ctx_meta: Field,
    pub ctx_task: Field,
    pub ctx_fd: Field,
    pub ctx_file: Field,
    pub meta_seq: Field,
    pub task_pid: Field,
    pub task_tgid: Field,
    pub file_inode: Field,
    pub inode_mode: Field,
    pub inode_ino: Field,
}

/// A member of a struct as a load the verifier accepts: whole bytes, not a
/// bit-field, 1, 2, 4 or 8 bytes wide, within a load's reach.
fn field(btf: &Btf, struct_id: u32, struct_name: &str, name: &str) -> Result<(Field, u32), String> {
    let member = btf
        .member(struct_id, name)
        .ok_or_else(|| format!("BTF: struct {struct_name} has no member {name}"))?;
    let size = btf.size_of(member.type_id).unwrap_or(0);
    if member.bitfield_size != 0 || member.bit_offset % 8 != 0 || ![1, 2, 4, 8].contains(&size) {
        return Err(format!(
            "BTF: {struct_name}.{name} is not a plain 1, 2, 4 or 8-byte field"
        ));
    }
    let offset = i16::try_from(member.bit_offset / 8)
        .map_err(|_| format!("BTF: {struct_name}.{name} lies beyond a load's reach"))?;
    Ok((
        Field {
            offset,
            size: size as u8,
        },
        member.type_id,
    ))
}

/// The struct a pointer field points to.
fn target(btf: &Btf, type_id: u32, what: &str) -> Result<u32, String> {
    btf.pointee(type_id)
        .and_then(|t| btf.resolve(t))
        .filter(|&t| btf.kind(t) == Some(Kind::Struct))
        .ok_or_else(|| format!("BTF: {what} is not a pointer to a struct"))
}

impl Layout {
    /// Read every offset from a kernel's BTF. The structs are reached from
    /// the iterator's context by following its pointer fields (no lookup of
    /// `task_struct` or `file` by name, which a module could duplicate).
    pub fn from_btf(btf: &Btf) -> Result<Layout, String> {
        let found = btf.find_each(&[
            (Kind::Func, "bpf_iter_task_file"),
            (Kind::Struct, "bpf_iter__task_file"),
        ]);
        let func = *found[0]
            .first()
            .ok_or("BTF: no FUNC bpf_iter_task_file (a kernel without the task_file iterator)")?;
        let ctx = match found[1].as_slice() {
            [one] => *one,
            [] => return Err("BTF: no struct bpf_iter__task_file".into()),
            _ => return Err("BTF: struct bpf_iter__task_file is defined twice".into()),
        };
        let ctx_name = "bpf_iter__task_file";
        let (ctx_meta, meta_type) = field(btf, ctx, ctx_name, "meta")?;
        let (ctx_task, task_type) = field(btf, ctx, ctx_name, "task")?;
        let (ctx_fd, _) = field(btf, ctx, ctx_name, "fd")?;
        let (ctx_file, file_type) = field(btf, ctx, ctx_name, "file")?;
        // The verifier reads the context as the function's arguments, one
        // u64 each: the struct must say the same.
        let params = btf
            .params(func)
            .ok_or("BTF: bpf_iter_task_file has no prototype")?;
        for (name, f) in [
            ("meta", ctx_meta),
            ("task", ctx_task),
            ("fd", ctx_fd),
            ("file", ctx_file),
        ] {
            let position = params.iter().position(|(p, _)| *p == name.as_bytes());
            if position.map(|i| i * 8) != Some(f.offset as usize) {
                return Err(format!(
                    "BTF: {ctx_name}.{name} is not argument {} of bpf_iter_task_file",
                    f.offset / 8
                ));
            }
        }
        let meta = target(btf, meta_type, "bpf_iter__task_file.meta")?;
        let task = target(btf, task_type, "bpf_iter__task_file.task")?;
        let file = target(btf, file_type, "bpf_iter__task_file.file")?;
        let (meta_seq, _) = field(btf, meta, "bpf_iter_meta", "seq")?;
        let (task_pid, _) = field(btf, task, "task_struct", "pid")?;
        let (task_tgid, _) = field(btf, task, "task_struct", "tgid")?;
        let (file_inode, inode_type) = field(btf, file, "file", "f_inode")?;
        let inode = target(btf, inode_type, "file.f_inode")?;
        let (inode_mode, _) = field(btf, inode, "inode", "i_mode")?;
        let (inode_ino, _) = field(btf, inode, "inode", "i_ino")?;
        let pointers = [ctx_meta, ctx_task, ctx_file, meta_seq, file_inode];
        if pointers.iter().any(|f| f.size != 8) || task_pid.size != task_tgid.size {
            return Err("BTF: unexpected field widths in the iterator's structs".into());
        }
        Ok(Layout {
            attach_btf_id: func,
            ctx_meta,
            ctx_task,
            ctx_fd,
            ctx_file,
            meta_seq,
            task_pid,
            task_tgid,
            file_inode,
            inode_mode,
            inode_ino,
        })
    }
}

/// One BPF instruction, as the kernel reads it (`struct bpf_insn`).
pub type Insn = [u8; 8];

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    let mut i = [0u8; 8];
    i[0] = code;
    i[1] = (dst & 0x0f) | (src << 4);
    i[2..4].copy_from_slice(&off.to_le_bytes());
    i[4..8].copy_from_slice(&imm.to_le_bytes());
    i
}

/// BPF_LDX | BPF_MEM | size: dst = *(size *)(src + off).
fn load(dst: u8, src: u8, f: Field) -> Insn {
    let size = match f.size {
        1 => 0x10,
        2 => 0x08,
        4 => 0x00,
        _ => 0x18,
    };
    insn(0x61 | size, dst, src, f.offset, 0)
}

const R0: u8 = 0;
const R1: u8 = 1;
const R2: u8 = 2;
const R3: u8 = 3;
const R4: u8 = 4;
const R5: u8 = 5;
const R6: u8 = 6;
const R7: u8 = 7;
const R8: u8 = 8;
const R10: u8 = 10;
/// `BPF_FUNC_seq_write` (uapi/linux/bpf.h; helper numbers never change).
const BPF_FUNC_SEQ_WRITE: i32 = 127;
/// Bytes per record: tgid u32, fd u32, inode u64.
pub const RECORD_SIZE: usize = 16;
const S_IFMT: i32 = 0o170000;
const S_IFSOCK: i32 = 0o140000;

/// The program. With `reject`, the null check of the context's task is
/// left out: the verifier must refuse it (tests of the fallback use that).
pub fn program(layout: &Layout, reject: bool) -> Vec<Insn> {
    // Jumps to the exit carry this placeholder offset until it is known.
    const TO_EXIT: i16 = i16::MIN;
    let jeq_imm = |reg, imm| insn(0x15, reg, 0, TO_EXIT, imm);
    let jne_imm = |reg, imm| insn(0x55, reg, 0, TO_EXIT, imm);
    let mut p = vec![
        insn(0xbf, R6, R1, 0, 0), // r6 = ctx
        load(R7, R6, layout.ctx_task),
    ];
    if !reject {
        p.push(jeq_imm(R7, 0)); // the last call has no task (end of iteration)
    }
    p.extend([
        load(R8, R6, layout.ctx_file),
        jeq_imm(R8, 0),
        load(R1, R7, layout.task_pid),
        load(R2, R7, layout.task_tgid),
        insn(0x5d, R1, R2, TO_EXIT, 0), // if pid != tgid: not the leader's table
        load(R3, R8, layout.file_inode),
        load(R4, R3, layout.inode_mode),
        insn(0x57, R4, 0, 0, S_IFMT), // r4 &= S_IFMT
        jne_imm(R4, S_IFSOCK),
        load(R5, R3, layout.inode_ino),
        insn(0x63, R10, R2, -16, 0), // *(u32 *)(r10 - 16) = tgid
        load(R1, R6, layout.ctx_fd),
        insn(0x63, R10, R1, -12, 0),   // *(u32 *)(r10 - 12) = fd
        insn(0x7b, R10, R5, -8, 0),    // *(u64 *)(r10 - 8) = inode
        load(R1, R6, layout.ctx_meta), // r1 = ctx->meta
        load(R1, R1, layout.meta_seq), // r1 = meta->seq
        insn(0xbf, R2, R10, 0, 0),
        insn(0x07, R2, 0, 0, -(RECORD_SIZE as i32)), // r2 = the record
        insn(0xb7, R3, 0, 0, RECORD_SIZE as i32),
        insn(0x85, 0, 0, 0, BPF_FUNC_SEQ_WRITE),
        insn(0xb7, R0, 0, 0, 0), // exit: r0 = 0
        insn(0x95, 0, 0, 0, 0),
    ]);
    let exit = p.len() - 2;
    for (pc, i) in p.iter_mut().enumerate() {
        if i16::from_le_bytes([i[2], i[3]]) == TO_EXIT {
            let off = (exit - pc - 1) as i16;
            i[2..4].copy_from_slice(&off.to_le_bytes());
        }
    }
    p
}

/// One socket held by a process, as the program writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// The process (thread-group) id, in the initial pid namespace.
    pub tgid: u32,
    pub fd: u32,
    pub inode: u64,
}

/// The whole records in `bytes` and how many bytes they took; a partial
/// record at the end is left for the next read. Never panics.
pub fn records(bytes: &[u8]) -> (impl Iterator<Item = Record> + '_, usize) {
    let whole = bytes.len() / RECORD_SIZE * RECORD_SIZE;
    let iter = bytes[..whole].chunks_exact(RECORD_SIZE).map(|r| {
        let word = |at: usize| u32::from_ne_bytes([r[at], r[at + 1], r[at + 2], r[at + 3]]);
        let mut inode = [0u8; 8];
        inode.copy_from_slice(&r[8..16]);
        Record {
            tgid: word(0),
            fd: word(4),
            inode: u64::from_ne_bytes(inode),
        }
    });
    (iter, whole)
}

/// `struct bpf_attr` for BPF_PROG_LOAD, up to `log_true_size` (Linux 6.4);
/// older kernels accept it as long as the fields they do not know are 0.
#[repr(C, align(8))]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
    prog_btf_fd: u32,
    func_info_rec_size: u32,
    func_info: u64,
    func_info_cnt: u32,
    line_info_rec_size: u32,
    line_info: u64,
    line_info_cnt: u32,
    attach_btf_id: u32,
    attach_btf_obj_fd: u32,
    core_relo_cnt: u32,
    fd_array: u64,
    core_relos: u64,
    core_relo_rec_size: u32,
    log_true_size: u32,
}

/// `struct bpf_attr` for BPF_LINK_CREATE of an iterator.
#[repr(C, align(8))]
#[derive(Default)]
struct LinkCreateAttr {
    prog_fd: u32,
    target_fd: u32,
    attach_type: u32,
    flags: u32,
    iter_info: u64,
    iter_info_len: u32,
    _pad: u32,
}

/// `struct bpf_attr` for BPF_ITER_CREATE.
#[repr(C, align(8))]
#[derive(Default)]
struct IterCreateAttr {
    link_fd: u32,
    flags: u32,
}

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_LINK_CREATE: libc::c_long = 28;
const BPF_ITER_CREATE: libc::c_long = 33;
const BPF_PROG_TYPE_TRACING: u32 = 26;
const BPF_TRACE_ITER: u32 = 28;
/// bpf_seq_write is GPL-only; the kernel checks the program's license.
const LICENSE: &[u8] = b"Dual MIT/GPL\0";

/// bpf(cmd, attr): a new descriptor, or the error.
fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> std::io::Result<OwnedFd> {
    // SAFETY: attr is a live, properly aligned bpf_attr prefix of its size.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T as *mut libc::c_void,
            std::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if rc < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(rc as libc::c_int) })
}

/// Whether this process may load tracing programs: CAP_BPF and
/// CAP_PERFMON, or CAP_SYS_ADMIN (kernels before 5.8 know only that one).
/// Checked first so an unprivileged `-p` does not read the BTF for nothing.
fn privileged() -> bool {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy, Default)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    let mut header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: header and two data words, as capget wants for version 3.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    if rc != 0 {
        return false;
    }
    let has = |cap: u32| data[(cap / 32) as usize].effective & (1 << (cap % 32)) != 0;
    const CAP_SYS_ADMIN: u32 = 21;
    const CAP_PERFMON: u32 = 38;
    const CAP_BPF: u32 = 39;
    has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))
}

/// The last line of a verifier log that says something (the line before
/// the `processed N insns` summary, when there is one).
fn verifier_reason(log: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(log);
    let text = text.trim_end_matches('\0');
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let line = lines
        .iter()
        .rev()
        .find(|l| !l.starts_with("processed ") && !l.starts_with("verification time"))?;
    Some((*line).to_string())
}

/// The BTF file's bytes: the kernel's own file mapped (it is immutable,
/// and reading its 5 MiB takes over a thousand 4 KiB reads, about 10 ms),
/// any other file read.
enum BtfBytes {
    Mapped { at: *mut libc::c_void, len: usize },
    Read(Vec<u8>),
}

impl BtfBytes {
    fn open(path: &std::path::Path) -> std::io::Result<BtfBytes> {
        if path == std::path::Path::new(DEFAULT_BTF_PATH) {
            use std::os::unix::ffi::OsStrExt;
            let name = std::ffi::CString::new(path.as_os_str().as_bytes())?;
            // SAFETY: a NUL-terminated path.
            let fd = unsafe { libc::open(name.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
            if fd >= 0 {
                // SAFETY: fd is ours; closed right after mapping.
                let fd = unsafe { OwnedFd::from_raw_fd(fd) };
                // SAFETY: stat is a plain C struct; all-zero is a valid value.
                let mut st: libc::stat = unsafe { std::mem::zeroed() };
                // SAFETY: an open descriptor and a live, writable stat.
                if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } == 0 && st.st_size > 0 {
                    let len = st.st_size as usize;
                    // SAFETY: a private read-only mapping of the whole file.
                    let at = unsafe {
                        libc::mmap(
                            std::ptr::null_mut(),
                            len,
                            libc::PROT_READ,
                            libc::MAP_PRIVATE,
                            fd.as_raw_fd(),
                            0,
                        )
                    };
                    if at != libc::MAP_FAILED {
                        return Ok(BtfBytes::Mapped { at, len });
                    }
                }
            }
        }
        std::fs::read(path).map(BtfBytes::Read)
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            // SAFETY: mapped readable for len bytes until drop; the kernel's
            // BTF never changes.
            BtfBytes::Mapped { at, len } => unsafe {
                std::slice::from_raw_parts(*at as *const u8, *len)
            },
            BtfBytes::Read(bytes) => bytes,
        }
    }
}

impl Drop for BtfBytes {
    fn drop(&mut self) {
        if let BtfBytes::Mapped { at, len } = self {
            // SAFETY: our own mapping, no slice of it outlives self.
            unsafe { libc::munmap(*at, *len) };
        }
    }
}

/// The loaded program and its iterator link, kept for every `-c` tick.
pub struct TaskFiles {
    _prog: OwnedFd,
    link: OwnedFd,
    /// Reused between runs: the seq file is read in large chunks.
    buffer: Vec<u8>,
}

impl fmt::Debug for TaskFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskFiles")
            .field("link", &self.link.as_raw_fd())
            .finish()
    }
}

/// How much room a read of the seq file gets at least (the kernel hands
/// out up to its seq buffer, 32 KiB, per read).
const READ_CHUNK: usize = 256 * 1024;

impl TaskFiles {
    /// Read the BTF, emit the program and load it. Any failure says why.
    /// `inputs` may name another BTF file or ask for a program the
    /// verifier rejects (tests).
    pub fn load(inputs: &crate::config::Inputs) -> Result<TaskFiles, Unavailable> {
        if !privileged() {
            return Err(unavailable(
                "loading BPF programs needs CAP_BPF and CAP_PERFMON (or root)",
            ));
        }
        let path = inputs
            .btf_path
            .as_deref()
            .unwrap_or(std::path::Path::new(DEFAULT_BTF_PATH));
        let bytes = BtfBytes::open(path)
            .map_err(|e| unavailable(format!("kernel BTF {}: {e}", path.display())))?;
        let btf = btf::parse(bytes.as_slice())
            .map_err(|e| unavailable(format!("kernel BTF {}: {e}", path.display())))?;
        let layout = Layout::from_btf(&btf).map_err(unavailable)?;
        drop(btf);
        drop(bytes);
        Self::load_program(&program(&layout, inputs.bpf_reject), layout.attach_btf_id)
    }

    fn load_program(insns: &[Insn], attach_btf_id: u32) -> Result<TaskFiles, Unavailable> {
        let mut name = [0u8; 16];
        name[..12].copy_from_slice(b"nlstat_owner");
        let attr = |log: &mut Vec<u8>| ProgLoadAttr {
            prog_type: BPF_PROG_TYPE_TRACING,
            insn_cnt: insns.len() as u32,
            insns: insns.as_ptr() as u64,
            license: LICENSE.as_ptr() as u64,
            log_level: u32::from(!log.is_empty()),
            log_size: log.len() as u32,
            log_buf: if log.is_empty() {
                0
            } else {
                log.as_mut_ptr() as u64
            },
            prog_name: name,
            expected_attach_type: BPF_TRACE_ITER,
            attach_btf_id,
            ..ProgLoadAttr::default()
        };
        let prog = match bpf(BPF_PROG_LOAD, &mut attr(&mut Vec::new())) {
            Ok(fd) => fd,
            Err(first) => {
                // again with the verifier's log, for its reason
                let mut log = vec![0u8; 1 << 20];
                let again = bpf(BPF_PROG_LOAD, &mut attr(&mut log));
                let reason = verifier_reason(&log);
                let error = again.err().unwrap_or(first);
                return Err(unavailable(match reason {
                    Some(line) => {
                        format!("loading the task_file iterator program: {error}: {line}")
                    }
                    None => format!("loading the task_file iterator program: {error}"),
                }));
            }
        };
        let mut link_attr = LinkCreateAttr {
            prog_fd: prog.as_raw_fd() as u32,
            attach_type: BPF_TRACE_ITER,
            ..LinkCreateAttr::default()
        };
        let link = bpf(BPF_LINK_CREATE, &mut link_attr)
            .map_err(|e| unavailable(format!("attaching the task_file iterator: {e}")))?;
        Ok(TaskFiles {
            _prog: prog,
            link,
            buffer: Vec::new(),
        })
    }

    /// Walk every open file once; `visit` gets each socket record.
    pub fn run(&mut self, visit: impl FnMut(Record)) -> Result<(), Unavailable> {
        let bytes = self.run_all()?;
        records(bytes).0.for_each(visit);
        Ok(())
    }

    /// Walk every open file once and return all the records' bytes (see
    /// [`records`]): knowing their number first lets the caller size its
    /// map once instead of growing it through every power of two.
    pub fn run_all(&mut self) -> Result<&[u8], Unavailable> {
        let mut attr = IterCreateAttr {
            link_fd: self.link.as_raw_fd() as u32,
            flags: 0,
        };
        let iter = bpf(BPF_ITER_CREATE, &mut attr)
            .map_err(|e| unavailable(format!("creating the task_file iterator: {e}")))?;
        self.buffer.clear();
        let mut retries = 0u32;
        loop {
            self.buffer.reserve(READ_CHUNK);
            let room = self.buffer.spare_capacity_mut();
            // SAFETY: room is writable for its length; read() initialises
            // the n bytes it reports, and only those are counted.
            let n = unsafe { libc::read(iter.as_raw_fd(), room.as_mut_ptr().cast(), room.len()) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                // EAGAIN: a million files without a socket in one read; the
                // iterator goes on from there
                let again = matches!(e.raw_os_error(), Some(libc::EINTR | libc::EAGAIN));
                if again && retries < 1_000_000 {
                    retries += 1;
                    continue;
                }
                return Err(unavailable(format!("reading the task_file iterator: {e}")));
            }
            if n == 0 {
                break;
            }
            // SAFETY: the kernel wrote n bytes into the spare capacity.
            unsafe { self.buffer.set_len(self.buffer.len() + n as usize) };
        }
        let filled = self.buffer.len();
        if !filled.is_multiple_of(RECORD_SIZE) {
            return Err(unavailable(
                "the task_file iterator ended inside a record".to_string(),
            ));
        }
        Ok(&self.buffer[..filled])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::btf::tests::Builder;

    /// A BTF with the iterator's types as this project's development
    /// kernel (6.18) lays them out, anonymous unions included, with the
    /// task's pid and tgid moved into an unnamed struct as some configs do.
    fn kernel_like() -> Vec<u8> {
        let mut b = Builder::new();
        let u32_t = b.int("unsigned int", 4);
        let int = b.int("int", 4);
        let ushort = b.int("unsigned short", 2);
        let ulong = b.int("long unsigned int", 8);
        let u64_t = b.int("long long unsigned int", 8);
        let pid_t = b.typedef("pid_t", int);
        let umode_t = b.typedef("umode_t", ushort);
        let seq = b.aggregate(false, "seq_file", 8, &[("count", ulong, 0, 0)]);
        let seq_ptr = b.ptr(seq);
        let seq_union = b.aggregate(true, "", 8, &[("seq", seq_ptr, 0, 0)]);
        let meta = b.aggregate(
            false,
            "bpf_iter_meta",
            24,
            &[("", seq_union, 0, 0), ("session_id", u64_t, 64, 0)],
        );
        let meta_ptr = b.ptr(meta);
        let ids = b.aggregate(
            false,
            "",
            8,
            &[("pid", pid_t, 0, 0), ("tgid", pid_t, 32, 0)],
        );
        let task = b.aggregate(
            false,
            "task_struct",
            3264,
            &[("__state", u32_t, 0, 0), ("", ids, 10112, 0)],
        );
        let task_ptr = b.ptr(task);
        let inode = b.aggregate(
            false,
            "inode",
            616,
            &[("i_mode", umode_t, 0, 0), ("i_ino", ulong, 512, 0)],
        );
        let inode_ptr = b.ptr(inode);
        let file = b.aggregate(false, "file", 184, &[("f_inode", inode_ptr, 256, 0)]);
        let file_ptr = b.ptr(file);
        let u_meta = b.aggregate(true, "", 8, &[("meta", meta_ptr, 0, 0)]);
        let u_task = b.aggregate(true, "", 8, &[("task", task_ptr, 0, 0)]);
        let u_file = b.aggregate(true, "", 8, &[("file", file_ptr, 0, 0)]);
        b.aggregate(
            false,
            "bpf_iter__task_file",
            32,
            &[
                ("", u_meta, 0, 0),
                ("", u_task, 64, 0),
                ("fd", u32_t, 128, 0),
                ("", u_file, 192, 0),
            ],
        );
        b.func(
            "bpf_iter_task_file",
            &[
                ("meta", meta_ptr),
                ("task", task_ptr),
                ("fd", u32_t),
                ("file", file_ptr),
            ],
            int,
        );
        b.build()
    }

    #[test]
    fn layout_from_btf() {
        let bytes = kernel_like();
        let btf = btf::parse(&bytes).unwrap();
        let layout = Layout::from_btf(&btf).unwrap();
        let f = |offset, size| Field { offset, size };
        assert_eq!(layout.ctx_meta, f(0, 8));
        assert_eq!(layout.ctx_task, f(8, 8));
        assert_eq!(layout.ctx_fd, f(16, 4));
        assert_eq!(layout.ctx_file, f(24, 8));
        assert_eq!(layout.meta_seq, f(0, 8));
        assert_eq!(layout.task_pid, f(1264, 4));
        assert_eq!(layout.task_tgid, f(1268, 4));
        assert_eq!(layout.file_inode, f(32, 8));
        assert_eq!(layout.inode_mode, f(0, 2));
        assert_eq!(layout.inode_ino, f(64, 8));
        assert_eq!(btf.kind(layout.attach_btf_id), Some(Kind::Func));
    }

    /// The offsets the program would load from clang's BTF of
    /// tests/fixtures/btf/layout.c, as bpftool's dump of it gives them.
    #[test]
    fn layout_from_recorded_btf() {
        let bytes = include_bytes!("../../tests/fixtures/btf/layout.btf");
        let btf = btf::parse(bytes).unwrap();
        let layout = Layout::from_btf(&btf).unwrap();
        let f = |offset, size| Field { offset, size };
        // from layout.bpftool.txt: bits_offset / 8, and the member sizes
        assert_eq!(layout.ctx_task, f(8, 8));
        assert_eq!(layout.ctx_fd, f(16, 4));
        assert_eq!(layout.ctx_file, f(24, 8));
        assert_eq!(layout.task_pid, f(8, 4));
        assert_eq!(layout.task_tgid, f(12, 4));
        assert_eq!(layout.file_inode, f(16, 8));
        assert_eq!(layout.inode_mode, f(0, 2));
        assert_eq!(layout.inode_ino, f(8, 8));
        assert_eq!(
            btf.name(layout.attach_btf_id),
            Some(&b"bpf_iter_task_file"[..])
        );
    }

    #[test]
    fn missing_iterator_is_a_reason() {
        let mut b = Builder::new();
        b.int("int", 4);
        let bytes = b.build();
        let btf = btf::parse(&bytes).unwrap();
        let reason = Layout::from_btf(&btf).unwrap_err();
        assert!(reason.contains("bpf_iter_task_file"), "{reason}");
    }

    #[test]
    fn program_jumps_land_on_the_exit() {
        let bytes = kernel_like();
        let btf = btf::parse(&bytes).unwrap();
        let layout = Layout::from_btf(&btf).unwrap();
        for reject in [false, true] {
            let p = program(&layout, reject);
            assert_eq!(p.last().unwrap()[0], 0x95, "ends with exit");
            let exit = p.len() - 2;
            for (pc, i) in p.iter().enumerate() {
                let class = i[0] & 0x07;
                let op = i[0] & 0xf0;
                if class == 0x05 && op != 0x80 && op != 0x90 {
                    let off = i16::from_le_bytes([i[2], i[3]]);
                    assert_eq!(pc as i64 + 1 + i64::from(off), exit as i64, "jump at {pc}");
                }
            }
            // the second instruction loads ctx->task at its BTF offset
            assert_eq!(p[1], [0x79, 0x67, 8, 0, 0, 0, 0, 0]);
        }
        assert_eq!(program(&layout, false).len(), 25);
        assert_eq!(program(&layout, true).len(), 24);
    }

    #[test]
    fn records_keep_a_partial_tail() {
        let mut bytes = Vec::new();
        for (tgid, fd, inode) in [(1u32, 3u32, 77u64), (4242, 19, 1 << 40)] {
            bytes.extend_from_slice(&tgid.to_ne_bytes());
            bytes.extend_from_slice(&fd.to_ne_bytes());
            bytes.extend_from_slice(&inode.to_ne_bytes());
        }
        bytes.extend_from_slice(&[1, 2, 3]);
        let (found, used) = records(&bytes);
        let found: Vec<Record> = found.collect();
        assert_eq!(used, 32);
        assert_eq!(
            found,
            vec![
                Record {
                    tgid: 1,
                    fd: 3,
                    inode: 77
                },
                Record {
                    tgid: 4242,
                    fd: 19,
                    inode: 1 << 40
                }
            ]
        );
        for len in 0..bytes.len() {
            let (found, used) = records(&bytes[..len]);
            assert_eq!(found.count(), len / 16);
            assert_eq!(used, len / 16 * 16);
        }
    }

    #[test]
    fn verifier_reason_is_the_last_telling_line() {
        let log = b"0: R1=ctx() R10=fp0\n; @ x\n1: (79) r7 = *(u64 *)(r6 +8)\nR7 invalid mem access 'ptr_or_null_'\nprocessed 3 insns (limit 1000000) max_states_per_insn 0\n\0\0";
        assert_eq!(
            verifier_reason(log).as_deref(),
            Some("R7 invalid mem access 'ptr_or_null_'")
        );
        assert_eq!(verifier_reason(b"\0\0\0"), None);
    }
}
