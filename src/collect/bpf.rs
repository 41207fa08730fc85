//! What nlstat's BPF iterator programs share: instructions emitted with
//! offsets read from the running kernel's BTF ([`super::btf`]), loaded
//! with the raw `bpf()` syscall (BPF_PROG_LOAD as a tracing program attached
//! to an iterator's BTF function, BPF_LINK_CREATE, BPF_ITER_CREATE), and
//! their seq file read in large chunks. No compiler at build time, no
//! loader crate. Users: `-p`'s `iter/task_file` program
//! (`crate::enrich::task_files`) and the views' socket iterators
//! ([`super::socket_iter`]).

use super::btf::{Btf, Kind};
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

pub(crate) fn unavailable(what: impl Into<String>) -> Unavailable {
    Unavailable(what.into())
}

/// One field the program loads: byte offset and width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub offset: i16,
    pub size: u8,
}

/// A member of a struct as a load the verifier accepts: whole bytes, not a
/// bit-field, 1, 2, 4 or 8 bytes wide, within a load's reach.
pub(crate) fn field(
    btf: &Btf,
    struct_id: u32,
    struct_name: &str,
    name: &str,
) -> Result<(Field, u32), String> {
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
pub(crate) fn target(btf: &Btf, type_id: u32, what: &str) -> Result<u32, String> {
    btf.pointee(type_id)
        .and_then(|t| btf.resolve(t))
        .filter(|&t| btf.kind(t) == Some(Kind::Struct))
        .ok_or_else(|| format!("BTF: {what} is not a pointer to a struct"))
}

/// One BPF instruction, as the kernel reads it (`struct bpf_insn`).
pub type Insn = [u8; 8];

pub(crate) fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    let mut i = [0u8; 8];
    i[0] = code;
    i[1] = (dst & 0x0f) | (src << 4);
    i[2..4].copy_from_slice(&off.to_le_bytes());
    i[4..8].copy_from_slice(&imm.to_le_bytes());
    i
}

/// BPF_LDX | BPF_MEM | size: dst = *(size *)(src + off).
pub(crate) fn load(dst: u8, src: u8, f: Field) -> Insn {
    insn(0x61 | size_bits(f.size), dst, src, f.offset, 0)
}

pub(crate) const R0: u8 = 0;
pub(crate) const R1: u8 = 1;
pub(crate) const R2: u8 = 2;
pub(crate) const R3: u8 = 3;
pub(crate) const R4: u8 = 4;
pub(crate) const R5: u8 = 5;
pub(crate) const R6: u8 = 6;
pub(crate) const R7: u8 = 7;
pub(crate) const R8: u8 = 8;
pub(crate) const R9: u8 = 9;
pub(crate) const R10: u8 = 10;

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
pub(crate) fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> std::io::Result<OwnedFd> {
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
pub(crate) fn privileged() -> bool {
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
pub(crate) fn verifier_reason(log: &[u8]) -> Option<String> {
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
pub(crate) enum BtfBytes {
    Mapped { at: *mut libc::c_void, len: usize },
    Read(Vec<u8>),
}

impl BtfBytes {
    pub(crate) fn open(path: &std::path::Path) -> std::io::Result<BtfBytes> {
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

    pub(crate) fn as_slice(&self) -> &[u8] {
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

/// BPF_STX | BPF_MEM | size: *(size *)(dst + off) = src, `size` bytes.
pub(crate) fn store(dst: u8, off: i16, src: u8, size: u8) -> Insn {
    insn(0x63 | size_bits(size), dst, src, off, 0)
}

/// BPF_ST | BPF_MEM | size: *(size *)(dst + off) = imm.
pub(crate) fn store_imm(dst: u8, off: i16, size: u8, imm: i32) -> Insn {
    insn(0x62 | size_bits(size), dst, 0, off, imm)
}

fn size_bits(size: u8) -> u8 {
    match size {
        1 => 0x10,
        2 => 0x08,
        4 => 0x00,
        _ => 0x18,
    }
}

/// r`dst` = r`src` (64 bits).
pub(crate) fn mov(dst: u8, src: u8) -> Insn {
    insn(0xbf, dst, src, 0, 0)
}

/// r`dst` = imm.
pub(crate) fn mov_imm(dst: u8, imm: i32) -> Insn {
    insn(0xb7, dst, 0, 0, imm)
}

/// r`dst` += imm.
pub(crate) fn add_imm(dst: u8, imm: i32) -> Insn {
    insn(0x07, dst, 0, 0, imm)
}

/// Call helper number `helper` (arguments in r1-r5, result in r0; r1-r5
/// are clobbered).
pub(crate) fn call(helper: i32) -> Insn {
    insn(0x85, 0, 0, 0, helper)
}

pub(crate) const EXIT: Insn = [0x95, 0, 0, 0, 0, 0, 0, 0];

/// Instructions with forward jumps to labels, patched once every label is
/// placed: the programs branch on the socket's kind, and counting jump
/// offsets by hand breaks with every field added.
#[derive(Default)]
pub(crate) struct Asm {
    insns: Vec<Insn>,
    /// (instruction, label) of every jump.
    jumps: Vec<(usize, usize)>,
    labels: Vec<Option<usize>>,
}

impl Asm {
    pub(crate) fn push(&mut self, i: Insn) {
        self.insns.push(i);
    }

    /// A label to jump to, placed later with [`bind`](Self::bind).
    pub(crate) fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }

    /// Place `label` at the next instruction.
    pub(crate) fn bind(&mut self, label: usize) {
        self.labels[label] = Some(self.insns.len());
    }

    /// A conditional jump (`code`: BPF_JMP | op | BPF_K) comparing `reg`
    /// with `imm`, or `ja` with code 0x05.
    pub(crate) fn jump(&mut self, code: u8, reg: u8, imm: i32, to: usize) {
        self.jumps.push((self.insns.len(), to));
        self.insns.push(insn(code, reg, 0, 0, imm));
    }

    /// A conditional jump comparing two registers (`code`: BPF_JMP | op |
    /// BPF_X).
    pub(crate) fn jump_reg(&mut self, code: u8, dst: u8, src: u8, to: usize) {
        self.jumps.push((self.insns.len(), to));
        self.insns.push(insn(code, dst, src, 0, 0));
    }

    /// The program; every jump lands on its label (all forward).
    pub(crate) fn finish(mut self) -> Vec<Insn> {
        for (at, label) in self.jumps {
            let target = self.labels[label].expect("every jump's label is placed");
            let off = (target - at - 1) as i16;
            self.insns[at][2..4].copy_from_slice(&off.to_le_bytes());
        }
        self.insns
    }
}

pub(crate) const JEQ_IMM: u8 = 0x15;
pub(crate) const JNE_IMM: u8 = 0x55;
pub(crate) const JNE_REG: u8 = 0x5d;
pub(crate) const JA: u8 = 0x05;

/// The verifier reads an iterator's context as its BTF function's
/// arguments, one u64 each: every context member used must sit where its
/// argument does.
pub(crate) fn check_ctx_args(
    btf: &Btf,
    func: u32,
    func_name: &str,
    ctx_name: &str,
    members: &[(&str, Field)],
) -> Result<(), String> {
    let params = btf
        .params(func)
        .ok_or_else(|| format!("BTF: {func_name} has no prototype"))?;
    for (name, f) in members {
        let position = params.iter().position(|(p, _)| *p == name.as_bytes());
        if position.map(|i| i * 8) != Some(f.offset as usize) {
            return Err(format!(
                "BTF: {ctx_name}.{name} is not argument {} of {func_name}",
                f.offset / 8
            ));
        }
    }
    Ok(())
}

/// `BPF_FUNC_seq_write` (uapi/linux/bpf.h; helper numbers never change).
pub(crate) const BPF_FUNC_SEQ_WRITE: i32 = 127;

/// Read the kernel's BTF (or `inputs`' stand-in) and hand it to `with`.
/// Checks the privilege first, so an unprivileged run does not read the
/// BTF for nothing.
pub(crate) fn with_kernel_btf<T>(
    inputs: &crate::config::Inputs,
    with: impl FnOnce(&Btf) -> Result<T, String>,
) -> Result<T, Unavailable> {
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
    let btf = super::btf::parse(bytes.as_slice())
        .map_err(|e| unavailable(format!("kernel BTF {}: {e}", path.display())))?;
    with(&btf).map_err(unavailable)
}

/// A loaded iterator program and its link, kept for every `-c` tick. It
/// holds no state of a walk: one program serves every namespace (each
/// creates its own iterator from the link) and every thread.
pub(crate) struct IterProgram {
    _prog: OwnedFd,
    link: OwnedFd,
    /// What it walks (`task_file`, `tcp`, ...), for messages.
    what: &'static str,
}

impl fmt::Debug for IterProgram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IterProgram")
            .field("what", &self.what)
            .field("link", &self.link.as_raw_fd())
            .finish()
    }
}

/// How much room a read of the seq file gets at least (the kernel hands
/// out up to its seq buffer, 32 KiB, per read).
const READ_CHUNK: usize = 256 * 1024;

impl IterProgram {
    /// Load `insns` as an iterator program attached to the BTF function
    /// `attach_btf_id` (`bpf_iter_<what>`) and link it; `name` is what
    /// bpftool shows (at most 15 bytes).
    pub(crate) fn load(
        insns: &[Insn],
        attach_btf_id: u32,
        name: &str,
        what: &'static str,
    ) -> Result<IterProgram, Unavailable> {
        let mut prog_name = [0u8; 16];
        let n = name.len().min(15);
        prog_name[..n].copy_from_slice(&name.as_bytes()[..n]);
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
            prog_name,
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
                    Some(line) => format!("loading the {what} iterator program: {error}: {line}"),
                    None => format!("loading the {what} iterator program: {error}"),
                }));
            }
        };
        let mut link_attr = LinkCreateAttr {
            prog_fd: prog.as_raw_fd() as u32,
            attach_type: BPF_TRACE_ITER,
            ..LinkCreateAttr::default()
        };
        let link = bpf(BPF_LINK_CREATE, &mut link_attr)
            .map_err(|e| unavailable(format!("attaching the {what} iterator: {e}")))?;
        Ok(IterProgram {
            _prog: prog,
            link,
            what,
        })
    }

    /// Run the iterator once (in the calling thread's network namespace,
    /// for the socket iterators) and return every record's bytes, read
    /// into `buffer` (reused between runs); the records are `record_size`
    /// bytes each.
    pub(crate) fn run_all<'b>(
        &self,
        buffer: &'b mut Vec<u8>,
        record_size: usize,
    ) -> Result<&'b [u8], Unavailable> {
        let what = self.what;
        let iter = self.create()?;
        buffer.clear();
        while read_more(&iter, buffer, what)? {}
        if !buffer.len().is_multiple_of(record_size) {
            return Err(unavailable(format!(
                "the {what} iterator ended inside a record"
            )));
        }
        Ok(buffer)
    }

    /// Run the iterator once and hand `each` the whole records of every
    /// read as they come: memory stays at one read's worth however many
    /// sockets there are. `each`'s error stops the walk.
    /// The iterator's own failures become `E` through `failed`.
    pub(crate) fn run_chunks<E>(
        &self,
        buffer: &mut Vec<u8>,
        record_size: usize,
        failed: impl Fn(Unavailable) -> E,
        mut each: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        let what = self.what;
        let iter = self.create().map_err(&failed)?;
        buffer.clear();
        while read_more(&iter, buffer, what).map_err(&failed)? {
            let whole = buffer.len() / record_size * record_size;
            each(&buffer[..whole])?;
            buffer.drain(..whole);
        }
        if !buffer.is_empty() {
            return Err(failed(unavailable(format!(
                "the {what} iterator ended inside a record"
            ))));
        }
        Ok(())
    }

    fn create(&self) -> Result<OwnedFd, Unavailable> {
        let mut attr = IterCreateAttr {
            link_fd: self.link.as_raw_fd() as u32,
            flags: 0,
        };
        bpf(BPF_ITER_CREATE, &mut attr)
            .map_err(|e| unavailable(format!("creating the {} iterator: {e}", self.what)))
    }
}

/// One read of an iterator's seq file appended to `buffer`; false at its
/// end.
fn read_more(iter: &OwnedFd, buffer: &mut Vec<u8>, what: &str) -> Result<bool, Unavailable> {
    let mut retries = 0u32;
    loop {
        buffer.reserve(READ_CHUNK);
        let room = buffer.spare_capacity_mut();
        // SAFETY: room is writable for its length; read() initialises the
        // n bytes it reports, and only those are counted.
        let n = unsafe { libc::read(iter.as_raw_fd(), room.as_mut_ptr().cast(), room.len()) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            // EAGAIN: a million objects without a record in one read; the
            // iterator goes on from there
            let again = matches!(e.raw_os_error(), Some(libc::EINTR | libc::EAGAIN));
            if again && retries < 1_000_000 {
                retries += 1;
                continue;
            }
            return Err(unavailable(format!("reading the {what} iterator: {e}")));
        }
        // SAFETY: the kernel wrote n bytes into the spare capacity.
        unsafe { buffer.set_len(buffer.len() + n as usize) };
        return Ok(n > 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
