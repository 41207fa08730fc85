//! `-p` from the kernel: a BPF `iter/task_file` program that visits every
//! open file of every process inside the kernel and writes one record per
//! socket, so the inode → process map costs a few reads of a seq file
//! instead of one `readlinkat` per open file on the machine.
//!
//! The program is 25 instructions emitted here, with every struct offset
//! (the iterator's context, `bpf_iter_meta.seq`, `task_struct.pid/tgid`,
//! `file.f_inode`, `inode.i_mode/i_ino`) read from the running kernel's BTF
//! ([`crate::collect::btf`]), so it relocates by construction; it is loaded with the
//! raw `bpf()` syscall (BPF_PROG_LOAD as a tracing program attached to the
//! `bpf_iter_task_file` BTF function, BPF_LINK_CREATE, BPF_ITER_CREATE).
//! No compiler at build time, no loader crate.
//!
//! What it keeps matches what netstat reads: only a thread-group leader's
//! files (`task->pid == task->tgid`; netstat reads `/proc/PID/fd`, the
//! leader's table, and never a thread that unshared its own), and only
//! sockets (`S_IFSOCK` in `i_mode`). Records are `(tgid u32, fd u32, inode
//! u64)` in the CPU's byte order.

use crate::collect::bpf::{
    Asm, BPF_FUNC_SEQ_WRITE, EXIT, Field, Insn, IterProgram, JEQ_IMM, JNE_IMM, JNE_REG, R0, R1, R2,
    R3, R4, R5, R6, R7, R8, R10, add_imm, call, check_ctx_args, field, insn, load, mov, mov_imm,
    store, target, with_kernel_btf,
};
pub use crate::collect::bpf::{DEFAULT_BTF_PATH, Unavailable};
use crate::collect::btf::{Btf, Kind};

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
        check_ctx_args(
            btf,
            func,
            "bpf_iter_task_file",
            ctx_name,
            &[
                ("meta", ctx_meta),
                ("task", ctx_task),
                ("fd", ctx_fd),
                ("file", ctx_file),
            ],
        )?;
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

/// Bytes per record: tgid u32, fd u32, inode u64.
pub const RECORD_SIZE: usize = 16;
const S_IFMT: i32 = 0o170000;
const S_IFSOCK: i32 = 0o140000;

/// The program. With `reject`, the null check of the context's task is
/// left out: the verifier must refuse it (tests of the fallback use that).
pub fn program(layout: &Layout, reject: bool) -> Vec<Insn> {
    let mut a = Asm::default();
    let exit = a.label();
    a.push(mov(R6, R1)); // r6 = ctx
    a.push(load(R7, R6, layout.ctx_task));
    if !reject {
        a.jump(JEQ_IMM, R7, 0, exit); // the last call has no task (end of iteration)
    }
    a.push(load(R8, R6, layout.ctx_file));
    a.jump(JEQ_IMM, R8, 0, exit);
    a.push(load(R1, R7, layout.task_pid));
    a.push(load(R2, R7, layout.task_tgid));
    a.jump_reg(JNE_REG, R1, R2, exit); // if pid != tgid: not the leader's table
    a.push(load(R3, R8, layout.file_inode));
    a.push(load(R4, R3, layout.inode_mode));
    a.push(insn(0x57, R4, 0, 0, S_IFMT)); // r4 &= S_IFMT
    a.jump(JNE_IMM, R4, S_IFSOCK, exit);
    a.push(load(R5, R3, layout.inode_ino));
    a.push(store(R10, -16, R2, 4)); // tgid
    a.push(load(R1, R6, layout.ctx_fd));
    a.push(store(R10, -12, R1, 4)); // fd
    a.push(store(R10, -8, R5, 8)); // inode
    a.push(load(R1, R6, layout.ctx_meta)); // r1 = ctx->meta
    a.push(load(R1, R1, layout.meta_seq)); // r1 = meta->seq
    a.push(mov(R2, R10));
    a.push(add_imm(R2, -(RECORD_SIZE as i32))); // r2 = the record
    a.push(mov_imm(R3, RECORD_SIZE as i32));
    a.push(call(BPF_FUNC_SEQ_WRITE));
    a.bind(exit);
    a.push(mov_imm(R0, 0));
    a.push(EXIT);
    a.finish()
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

/// The loaded program and its iterator link, kept for every `-c` tick.
#[derive(Debug)]
pub struct TaskFiles {
    program: IterProgram,
    /// Reused between runs: the seq file is read in large chunks.
    buffer: Vec<u8>,
}

impl TaskFiles {
    /// Read the BTF, emit the program and load it. Any failure says why.
    /// `inputs` may name another BTF file or ask for a program the
    /// verifier rejects (tests).
    pub fn load(inputs: &crate::config::Inputs) -> Result<TaskFiles, Unavailable> {
        let layout = with_kernel_btf(inputs, Layout::from_btf)?;
        let insns = program(&layout, inputs.bpf_reject);
        let program = IterProgram::load(&insns, layout.attach_btf_id, "nlstat_owner", "task_file")?;
        Ok(TaskFiles {
            program,
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
        self.program.run_all(&mut self.buffer, RECORD_SIZE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::btf::{self, tests::Builder};

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
}
