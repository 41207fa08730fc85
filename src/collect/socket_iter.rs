//! Views counted from the kernel's BPF socket iterators (`iter/tcp`,
//! `iter/udp` since Linux 5.9, `iter/unix` since 5.15) instead of a
//! sock_diag dump: a program emitted here runs on each socket in place and
//! writes the few fields a view can key on as one fixed record, so the
//! kernel never builds a netlink message and user space never parses one.
//!
//! Every offset comes from the running kernel's BTF, as for `-p`'s program
//! ([`super::bpf`]). The records become the same [`InetSocket`] and
//! [`UnixSocket`] values the sock_diag path makes, with sock_diag's
//! conventions: a request socket (`TCP_NEW_SYN_RECV`) is SYN_RECV with uid
//! and inode 0, a TIME_WAIT socket shows its substate with uid and inode
//! 0, a listener's queue is its accept queue and its backlog, the inode is
//! truncated to 32 bits as `inet_diag_msg` carries it. With `--info`, a
//! TCP record also carries what health reads of a full socket, and the
//! queues and tcp_info are computed from it as the kernel computes them
//! for sock_diag; without it, queues other than a listener's, timers and
//! extensions are not read: views do not key on them.
//!
//! An iterator walks the network namespace of the thread that creates it
//! (`BPF_ITER_CREATE`), so each namespace's listing walks its own.

use super::bpf::{
    Asm, BPF_FUNC_SEQ_WRITE, EXIT, Field, IterProgram, JA, JEQ_IMM, JNE_IMM, R0, R1, R2, R3, R6,
    R7, R8, R9, R10, Unavailable, add_imm, call, check_ctx_args, field, load, mov, mov_imm, store,
    store_imm, target, with_kernel_btf,
};
use super::btf::{Btf, Kind};
use crate::model::{InetProto, InetSocket, SocketExt, UnixSocket, tcp_state};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One iterator: the table it walks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Walk {
    Tcp,
    Udp,
    Unix,
}

impl Walk {
    /// The iterator that walks `proto`'s table, if the kernel has one.
    pub fn for_inet(proto: InetProto) -> Option<Walk> {
        match proto {
            InetProto::Tcp => Some(Walk::Tcp),
            InetProto::Udp => Some(Walk::Udp),
            InetProto::UdpLite | InetProto::Raw => None,
        }
    }

    /// Its name in `bpf_iter_<name>` and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Walk::Tcp => "tcp",
            Walk::Udp => "udp",
            Walk::Unix => "unix",
        }
    }

    /// The context's socket member and the path from its struct to
    /// `struct sock`.
    fn socket_member(self) -> (&'static str, &'static [&'static str]) {
        match self {
            // sock_common itself; the full socket comes from a helper
            Walk::Tcp => ("sk_common", &[]),
            Walk::Udp => ("udp_sk", &["inet", "sk"]),
            Walk::Unix => ("unix_sk", &["sk"]),
        }
    }
}

/// Every offset one program needs, from one kernel's BTF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub walk: Walk,
    /// BTF id of FUNC `bpf_iter_<walk>`, the program's attach point.
    pub attach_btf_id: u32,
    pub ctx_meta: Field,
    pub ctx_socket: Field,
    pub ctx_uid: Field,
    pub meta_seq: Field,
    /// sock_common's fields, from the context's socket pointer.
    pub family: Field,
    pub state: Field,
    pub num: Field,
    pub dport: Field,
    pub daddr: Field,
    pub rcv_saddr: Field,
    /// Where the two `struct in6_addr` start (read as four u32 each).
    pub v6_daddr: i16,
    pub v6_rcv_saddr: i16,
    /// struct sock's fields, from the full socket's pointer (the
    /// `tcp_sock` a helper returns for TCP, the context's otherwise).
    pub ack_backlog: Field,
    pub max_ack_backlog: Field,
    pub sk_socket: Field,
    pub sk_type: Field,
    /// TCP: `tcp_timewait_sock`'s `tw_substate`.
    pub tw_substate: Field,
    /// From a `struct socket` to its inode number (`SOCK_INODE()`: the
    /// inode that follows it in `struct socket_alloc`).
    pub socket_ino: i32,
    /// TCP, for `--info`: the `tcp_sock` and `struct sock` fields
    /// tcp_get_info() and the memory info read, in [`INFO_FIELDS`]' order,
    /// from the `tcp_sock` pointer; `None` for other walks, and for a
    /// kernel that lacks one of them (then only `--info` cannot count here).
    pub info: Option<[Field; INFO_FIELDS.len()]>,
}

/// What `--info`'s health needs of a TCP socket, as (struct, member):
/// tcp_info's members come from these as tcp_get_info() computes them,
/// and the queues as sock_diag computes them ([`Record::ext`]). Their
/// order is their order in the record's info block.
pub const INFO_FIELDS: [(&str, &str); 20] = [
    ("tcp_sock", "srtt_us"),
    ("tcp_sock", "mss_cache"),
    ("tcp_sock", "packets_out"),
    ("tcp_sock", "snd_cwnd"),
    ("tcp_sock", "retrans_out"),
    ("tcp_sock", "total_retrans"),
    ("tcp_sock", "lost_out"),
    ("tcp_sock", "snd_wnd"),
    ("tcp_sock", "write_seq"),
    ("tcp_sock", "snd_nxt"),
    ("tcp_sock", "snd_una"),
    ("tcp_sock", "rcv_nxt"),
    ("tcp_sock", "copied_seq"),
    ("sock", "sk_sndbuf"),
    ("sock", "sk_wmem_queued"),
    ("sock", "sk_drops"),
    ("tcp_sock", "bytes_sent"),
    ("tcp_sock", "bytes_acked"),
    ("tcp_sock", "bytes_received"),
    ("tcp_sock", "bytes_retrans"),
];

/// Where each of [`INFO_FIELDS`] is in the block (its index there).
mod at {
    pub const SRTT_US: usize = 0;
    pub const MSS_CACHE: usize = 1;
    pub const PACKETS_OUT: usize = 2;
    pub const SND_CWND: usize = 3;
    pub const RETRANS_OUT: usize = 4;
    pub const TOTAL_RETRANS: usize = 5;
    pub const LOST_OUT: usize = 6;
    pub const SND_WND: usize = 7;
    pub const WRITE_SEQ: usize = 8;
    pub const SND_NXT: usize = 9;
    pub const SND_UNA: usize = 10;
    pub const RCV_NXT: usize = 11;
    pub const COPIED_SEQ: usize = 12;
    pub const SK_SNDBUF: usize = 13;
    pub const SK_WMEM_QUEUED: usize = 14;
    pub const SK_DROPS: usize = 15;
    pub const BYTES_SENT: usize = 16;
    pub const BYTES_ACKED: usize = 17;
    pub const BYTES_RECEIVED: usize = 18;
    pub const BYTES_RETRANS: usize = 19;
}

/// The info block's u32 fields come first, then the u64 ones.
const INFO_U32S: usize = 16;

/// Bytes per record; see [`Record`].
pub const RECORD_SIZE: usize = 72;

/// Bytes of the info block that follows a record with `--info`: the
/// [`INFO_FIELDS`] (16 u32, 4 u64), then a u32 that is 1 when they were
/// read (a full socket) and 4 bytes of padding.
pub const INFO_SIZE: usize = INFO_U32S * 4 + (INFO_FIELDS.len() - INFO_U32S) * 8 + 8;

/// Bytes per record of a program: with the info block or without.
pub fn record_size(info: bool) -> usize {
    if info {
        RECORD_SIZE + INFO_SIZE
    } else {
        RECORD_SIZE
    }
}

/// `BPF_FUNC_probe_read_kernel`, `BPF_FUNC_skc_to_tcp_sock`,
/// `BPF_FUNC_skc_to_tcp_timewait_sock` (uapi/linux/bpf.h).
const PROBE_READ_KERNEL: i32 = 113;
const SKC_TO_TCP_SOCK: i32 = 137;
const SKC_TO_TCP_TIMEWAIT_SOCK: i32 = 138;

/// Byte offset and type of the member reached from `struct_id` through
/// `names`, each a struct nested in the one before.
fn nested(
    btf: &Btf,
    struct_id: u32,
    struct_name: &str,
    names: &[&str],
) -> Result<(u32, u32), String> {
    let mut offset = 0u64;
    let mut id = struct_id;
    for name in names {
        let member = btf
            .member(id, name)
            .ok_or_else(|| format!("BTF: struct {struct_name} has no member {name}"))?;
        if member.bitfield_size != 0 || member.bit_offset % 8 != 0 {
            return Err(format!("BTF: {struct_name}.{name} is not byte-aligned"));
        }
        offset += member.bit_offset / 8;
        id = btf
            .resolve(member.type_id)
            .filter(|&t| btf.kind(t) == Some(Kind::Struct))
            .ok_or_else(|| format!("BTF: {struct_name}.{name} is not a struct"))?;
    }
    let offset = u32::try_from(offset).map_err(|_| format!("BTF: {struct_name} is too large"))?;
    Ok((offset, id))
}

/// A field of the struct at `base` bytes into another, of exactly `size`
/// bytes (the record has a slot of that width for it).
fn field_at(
    btf: &Btf,
    (base, id): (u32, u32),
    names: (&str, &str),
    size: u8,
) -> Result<Field, String> {
    let (f, _) = field(btf, id, names.0, names.1)?;
    if f.size != size {
        return Err(format!(
            "BTF: {}.{} is not {size} bytes wide",
            names.0, names.1
        ));
    }
    shifted(f, base, names)
}

fn shifted(f: Field, base: u32, names: (&str, &str)) -> Result<Field, String> {
    let offset = i16::try_from(i64::from(f.offset) + i64::from(base))
        .map_err(|_| format!("BTF: {}.{} lies beyond a load's reach", names.0, names.1))?;
    Ok(Field { offset, ..f })
}

/// Where a `struct in6_addr` member starts, checked to be 16 bytes.
fn in6_at(btf: &Btf, (base, id): (u32, u32), name: &str) -> Result<i16, String> {
    let member = btf
        .member(id, name)
        .ok_or_else(|| format!("BTF: struct sock_common has no member {name}"))?;
    if member.bit_offset % 8 != 0 || btf.size_of(member.type_id) != Some(16) {
        return Err(format!("BTF: sock_common.{name} is not a 16-byte address"));
    }
    i16::try_from(member.bit_offset / 8 + u64::from(base))
        .map_err(|_| format!("BTF: sock_common.{name} lies beyond a load's reach"))
}

/// The BTF ids layouts start from, found in one scan of the kernel's
/// types (about 150 000 of them: a scan per name would cost more than a
/// small host's whole walk).
struct Roots {
    /// Per walk asked for: FUNC `bpf_iter_<walk>` and every struct
    /// `bpf_iter__<walk>`.
    iterators: Vec<(Vec<u32>, Vec<u32>)>,
    tcp_sock: Option<u32>,
    tcp_timewait_sock: Option<u32>,
    socket_alloc: Option<u32>,
}

impl Roots {
    fn find(btf: &Btf, walks: &[Walk]) -> Roots {
        let names: Vec<(String, String)> = walks
            .iter()
            .map(|w| {
                (
                    format!("bpf_iter_{}", w.name()),
                    format!("bpf_iter__{}", w.name()),
                )
            })
            .collect();
        let mut wanted: Vec<(Kind, &str)> = vec![
            (Kind::Struct, "tcp_sock"),
            (Kind::Struct, "tcp_timewait_sock"),
            (Kind::Struct, "socket_alloc"),
        ];
        for (func, ctx) in &names {
            wanted.extend([(Kind::Func, func.as_str()), (Kind::Struct, ctx.as_str())]);
        }
        let mut found = btf.find_each(&wanted).into_iter();
        let mut first = || found.next().and_then(|ids| ids.first().copied());
        let (tcp_sock, tcp_timewait_sock, socket_alloc) = (first(), first(), first());
        let iterators = found
            .collect::<Vec<_>>()
            .chunks(2)
            .map(|pair| (pair[0].clone(), pair.get(1).cloned().unwrap_or_default()))
            .collect();
        Roots {
            iterators,
            tcp_sock,
            tcp_timewait_sock,
            socket_alloc,
        }
    }
}

/// [`INFO_FIELDS`] from a `tcp_sock` pointer (`sock` at `full`).
fn info_fields(
    btf: &Btf,
    roots: &Roots,
    full: (u32, u32),
) -> Result<[Field; INFO_FIELDS.len()], String> {
    let tcp_sock = (0, struct_named(roots.tcp_sock, "tcp_sock")?);
    let mut fields = [Field { offset: 0, size: 4 }; INFO_FIELDS.len()];
    for (i, (owner, name)) in INFO_FIELDS.iter().enumerate() {
        let size = if i < INFO_U32S { 4 } else { 8 };
        let base = if *owner == "sock" { full } else { tcp_sock };
        fields[i] = field_at(btf, base, (owner, name), size)?;
    }
    Ok(fields)
}

fn struct_named(id: Option<u32>, name: &str) -> Result<u32, String> {
    id.ok_or_else(|| format!("BTF: no struct {name}"))
}

impl Layout {
    /// Read every offset `walk`'s program needs from a kernel's BTF.
    pub fn from_btf(btf: &Btf, walk: Walk) -> Result<Layout, String> {
        Self::all_from_btf(btf, &[walk]).map(|mut all| all.remove(0))
    }

    /// The layouts of several walks, from one scan of the BTF's names.
    pub fn all_from_btf(btf: &Btf, walks: &[Walk]) -> Result<Vec<Layout>, String> {
        let roots = Roots::find(btf, walks);
        walks
            .iter()
            .zip(&roots.iterators)
            .map(|(&walk, (funcs, ctxs))| Self::from_roots(btf, walk, &roots, (funcs, ctxs)))
            .collect()
    }

    fn from_roots(
        btf: &Btf,
        walk: Walk,
        roots: &Roots,
        (funcs, ctxs): (&[u32], &[u32]),
    ) -> Result<Layout, String> {
        let func_name = format!("bpf_iter_{}", walk.name());
        let ctx_name = format!("bpf_iter__{}", walk.name());
        let func = *funcs.first().ok_or_else(|| {
            format!(
                "BTF: no FUNC {func_name} (a kernel without the {} iterator)",
                walk.name()
            )
        })?;
        let ctx = match ctxs {
            [one] => *one,
            [] => return Err(format!("BTF: no struct {ctx_name}")),
            _ => return Err(format!("BTF: struct {ctx_name} is defined twice")),
        };
        let (member, to_sock) = walk.socket_member();
        let (ctx_meta, meta_type) = field(btf, ctx, &ctx_name, "meta")?;
        let (ctx_socket, socket_type) = field(btf, ctx, &ctx_name, member)?;
        let (ctx_uid, _) = field(btf, ctx, &ctx_name, "uid")?;
        check_ctx_args(
            btf,
            func,
            &func_name,
            &ctx_name,
            &[("meta", ctx_meta), (member, ctx_socket), ("uid", ctx_uid)],
        )?;
        let meta = target(btf, meta_type, "bpf_iter_meta")?;
        let (meta_seq, _) = field(btf, meta, "bpf_iter_meta", "seq")?;
        let socket = target(btf, socket_type, &format!("{ctx_name}.{member}"))?;
        // the full socket: the context's own, or tcp_sock from the helper
        let full = match walk {
            Walk::Tcp => nested(
                btf,
                struct_named(roots.tcp_sock, "tcp_sock")?,
                "tcp_sock",
                &["inet_conn", "icsk_inet", "sk"],
            )?,
            _ => nested(btf, socket, member, to_sock)?,
        };
        let common = match walk {
            Walk::Tcp => (0, socket),
            _ => {
                let (at, id) = nested(btf, full.1, "sock", &["__sk_common"])?;
                (full.0 + at, id)
            }
        };
        let skc = |name: &str, size: u8| field_at(btf, common, ("sock_common", name), size);
        let sock = |name: &str, size: u8| field_at(btf, full, ("sock", name), size);
        let tw = nested(
            btf,
            struct_named(roots.tcp_timewait_sock, "tcp_timewait_sock")?,
            "tcp_timewait_sock",
            &["tw_sk"],
        )?;
        let socket_alloc = struct_named(roots.socket_alloc, "socket_alloc")?;
        let (vfs_inode, inode) = nested(btf, socket_alloc, "socket_alloc", &["vfs_inode"])?;
        let (i_ino, _) = field(btf, inode, "inode", "i_ino")?;
        if ctx_meta.size != 8
            || ctx_socket.size != 8
            || meta_seq.size != 8
            || ctx_uid.size != 4
            || i_ino.size != 8
        {
            return Err("BTF: unexpected field widths in the iterator's structs".into());
        }
        Ok(Layout {
            walk,
            attach_btf_id: func,
            ctx_meta,
            ctx_socket,
            ctx_uid,
            meta_seq,
            family: skc("skc_family", 2)?,
            state: skc("skc_state", 1)?,
            num: skc("skc_num", 2)?,
            dport: skc("skc_dport", 2)?,
            daddr: skc("skc_daddr", 4)?,
            rcv_saddr: skc("skc_rcv_saddr", 4)?,
            v6_daddr: in6_at(btf, common, "skc_v6_daddr")?,
            v6_rcv_saddr: in6_at(btf, common, "skc_v6_rcv_saddr")?,
            ack_backlog: sock("sk_ack_backlog", 4)?,
            max_ack_backlog: sock("sk_max_ack_backlog", 4)?,
            sk_socket: sock("sk_socket", 8)?,
            sk_type: sock("sk_type", 2)?,
            tw_substate: field_at(btf, tw, ("inet_timewait_sock", "tw_substate"), 1)?,
            socket_ino: (vfs_inode + i_ino.offset as u32) as i32,
            info: match walk {
                Walk::Tcp => info_fields(btf, roots, full).ok(),
                _ => None,
            },
        })
    }
}

/// Where each field sits in a record (and so on the program's stack, the
/// record being the 72 bytes below r10; stack accesses must be aligned to
/// their width, and are). Fields are in the CPU's byte
/// order except the remote port and the addresses, in the network's.
mod slot {
    pub const FAMILY: i16 = 0; // u16
    pub const STATE: i16 = 2; // u8: sk_state as the kernel keeps it
    pub const EXTRA: i16 = 3; // u8: TIME_WAIT's substate, or unix's type
    pub const UID: i16 = 4; // u32
    pub const NUM: i16 = 8; // u16: the local port
    pub const DPORT: i16 = 10; // u16, network order
    pub const DADDR: i16 = 12; // [u8; 4]
    pub const RCV_SADDR: i16 = 16; // [u8; 4]
    pub const ACK_BACKLOG: i16 = 20; // u32
    pub const MAX_ACK_BACKLOG: i16 = 24; // u32
    pub const ATTACHED: i16 = 28; // u32: 1 when a struct socket is attached
    pub const INODE: i16 = 32; // u64
    pub const V6_DADDR: i16 = 40; // [u8; 16]
    pub const V6_RCV_SADDR: i16 = 56; // [u8; 16]
}

/// Where a record of `size` bytes starts on the program's stack.
fn base(size: usize) -> i16 {
    -(size as i16)
}

/// What a program is asked to write beyond every socket's addresses,
/// ports and state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wanted {
    /// Every socket's inode (`-p` looks owners up by it); otherwise only
    /// listeners' (`--listeners` shows them) and, for the rest, whether a
    /// `struct socket` is attached (unix's state word depends on it).
    /// Reading an inode costs a cache miss per socket.
    pub inodes: bool,
    /// TCP's info block (`--info`): what health needs of a full socket.
    pub info: bool,
    /// Leave out the null check of the context's socket: the verifier
    /// must refuse the program (tests of the fallback use that).
    pub reject: bool,
}

/// The program: one record per socket, written with `bpf_seq_write`.
/// Only what the sockets need is read: a listener's queues, TIME_WAIT's
/// substate, unix's type, inodes and TCP's info block as [`Wanted`] says.
pub fn program(l: &Layout, wanted: Wanted) -> Vec<super::bpf::Insn> {
    let info_fields = l.info.filter(|_| wanted.info && l.walk == Walk::Tcp);
    let info = info_fields.is_some();
    let size = record_size(info);
    let at = |slot: i16| base(size) + slot;
    let mut a = Asm::default();
    let (exit, emit, timewait) = (a.label(), a.label(), a.label());
    a.push(mov(R6, R1)); // r6 = ctx
    a.push(load(R7, R6, l.ctx_socket));
    if !wanted.reject {
        a.jump(JEQ_IMM, R7, 0, exit); // the last call has no socket
    }
    // the slots only some sockets fill start at zero
    for (slot, width) in [
        (slot::EXTRA, 1),
        (slot::ACK_BACKLOG, 4),
        (slot::MAX_ACK_BACKLOG, 4),
        (slot::ATTACHED, 4),
        (slot::INODE, 8),
    ] {
        a.push(store_imm(R10, at(slot), width, 0));
    }
    if info {
        for word in (RECORD_SIZE..size).step_by(8) {
            a.push(store_imm(R10, at(word as i16), 8, 0));
        }
    }
    let copy = |a: &mut Asm, from: u8, f: Field, to: i16| {
        a.push(load(R1, from, f));
        a.push(store(R10, at(to), R1, f.size));
    };
    copy(&mut a, R6, l.ctx_uid, slot::UID);
    copy(&mut a, R7, l.family, slot::FAMILY);
    a.push(load(R9, R7, l.state)); // r9 = state, kept across calls
    a.push(store(R10, at(slot::STATE), R9, 1));
    copy(&mut a, R7, l.num, slot::NUM);
    copy(&mut a, R7, l.dport, slot::DPORT);
    copy(&mut a, R7, l.daddr, slot::DADDR);
    copy(&mut a, R7, l.rcv_saddr, slot::RCV_SADDR);
    for k in 0..4 {
        let word = |offset: i16| Field {
            offset: offset + 4 * k,
            size: 4,
        };
        copy(&mut a, R7, word(l.v6_daddr), slot::V6_DADDR + 4 * k);
        copy(&mut a, R7, word(l.v6_rcv_saddr), slot::V6_RCV_SADDR + 4 * k);
    }
    let listen = i32::from(tcp_state::LISTEN);
    match l.walk {
        Walk::Tcp => {
            a.jump(JEQ_IMM, R9, i32::from(tcp_state::TIME_WAIT), timewait);
            if !wanted.inodes && !info {
                a.jump(JNE_IMM, R9, listen, emit);
            }
            a.push(mov(R1, R7));
            a.push(call(SKC_TO_TCP_SOCK));
            a.push(mov(R8, R0));
            a.jump(JEQ_IMM, R8, 0, emit); // a request socket
            if let Some(fields) = info_fields {
                let mut offset = RECORD_SIZE as i16;
                for f in fields {
                    copy(&mut a, R8, f, offset);
                    offset += i16::from(f.size);
                }
                a.push(store_imm(R10, at(offset), 4, 1)); // read
            }
            let queues = a.label();
            a.jump(JNE_IMM, R9, listen, queues);
            copy(&mut a, R8, l.ack_backlog, slot::ACK_BACKLOG);
            copy(&mut a, R8, l.max_ack_backlog, slot::MAX_ACK_BACKLOG);
            a.bind(queues);
        }
        Walk::Udp => a.push(mov(R8, R7)),
        Walk::Unix => {
            a.push(mov(R8, R7));
            a.push(load(R1, R8, l.sk_type));
            a.push(store(R10, at(slot::EXTRA), R1, 1));
        }
    }
    // UDP without -p needs nothing of its full socket
    if l.walk != Walk::Udp || wanted.inodes {
        inode(&mut a, l, wanted, size, emit);
    }
    a.jump(JA, 0, 0, emit);
    a.bind(timewait);
    if l.walk == Walk::Tcp {
        a.push(mov(R1, R7));
        a.push(call(SKC_TO_TCP_TIMEWAIT_SOCK));
        a.jump(JEQ_IMM, R0, 0, emit);
        a.push(load(R1, R0, l.tw_substate));
        a.push(store(R10, at(slot::EXTRA), R1, 1));
    }
    a.bind(emit);
    a.push(load(R1, R6, l.ctx_meta));
    a.push(load(R1, R1, l.meta_seq));
    a.push(mov(R2, R10));
    a.push(add_imm(R2, i32::from(base(size))));
    a.push(mov_imm(R3, size as i32));
    a.push(call(BPF_FUNC_SEQ_WRITE));
    a.bind(exit);
    a.push(mov_imm(R0, 0));
    a.push(EXIT);
    a.finish()
}

/// Whether a `struct socket` is attached (`r8`: the full socket) and,
/// when wanted, its inode number as sock_i_ino() reads it.
fn inode(a: &mut Asm, l: &Layout, wanted: Wanted, size: usize, emit: usize) {
    let listen = i32::from(tcp_state::LISTEN);
    a.push(load(R3, R8, l.sk_socket));
    a.jump(JEQ_IMM, R3, 0, emit);
    a.push(store_imm(R10, base(size) + slot::ATTACHED, 4, 1));
    if !wanted.inodes {
        a.jump(JNE_IMM, R9, listen, emit);
    }
    a.push(add_imm(R3, l.socket_ino));
    a.push(mov(R1, R10));
    a.push(add_imm(R1, i32::from(base(size) + slot::INODE)));
    a.push(mov_imm(R2, 8));
    a.push(call(PROBE_READ_KERNEL));
}

/// One socket as the program wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub family: u16,
    /// `sk_state` as the kernel keeps it (12 for a request socket).
    pub state: u8,
    pub extra: u8,
    pub uid: u32,
    pub local_port: u16,
    pub remote_port: u16,
    pub daddr: [u8; 4],
    pub rcv_saddr: [u8; 4],
    pub ack_backlog: u32,
    pub max_ack_backlog: u32,
    /// A `struct socket` is attached (unix: a socket not yet accepted has
    /// none).
    pub attached: bool,
    /// 0 unless read (see [`Wanted`]).
    pub inode: u64,
    pub v6_daddr: [u8; 16],
    pub v6_rcv_saddr: [u8; 16],
    /// TCP with `--info`, a full socket: its [`INFO_FIELDS`].
    pub info: Option<InfoBlock>,
}

/// A full TCP socket's [`INFO_FIELDS`], as read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InfoBlock {
    pub words: [u32; INFO_U32S],
    pub wide: [u64; INFO_FIELDS.len() - INFO_U32S],
}

impl InfoBlock {
    fn read(block: &[u8]) -> Option<InfoBlock> {
        let word = |i: usize| {
            block
                .get(i * 4..i * 4 + 4)
                .map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        };
        if word(INFO_SIZE / 4 - 2) == 0 {
            return None; // not a full socket
        }
        let mut info = InfoBlock::default();
        for (i, w) in info.words.iter_mut().enumerate() {
            *w = word(i);
        }
        for (i, w) in info.wide.iter_mut().enumerate() {
            let at = INFO_U32S * 4 + i * 8;
            *w = block
                .get(at..at + 8)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u64::from_ne_bytes);
        }
        Some(info)
    }

    /// The [`INFO_FIELDS`] member at index `i` (see [`at`]).
    fn get(&self, i: usize) -> u64 {
        match i.checked_sub(INFO_U32S) {
            Some(wide) => self.wide.get(wide).copied().unwrap_or(0),
            None => self.words.get(i).copied().map_or(0, u64::from),
        }
    }
}

/// The whole records of `size` bytes ([`record_size`]) in `bytes`; a
/// partial one at the end is ignored (the reader refuses a walk that ends
/// inside a record). Never panics.
pub fn records(bytes: &[u8], size: usize) -> impl Iterator<Item = Record> + '_ {
    bytes.chunks_exact(size.max(RECORD_SIZE)).map(|r| {
        let take = |at: i16, n: usize| &r[at as usize..at as usize + n];
        let u16_at = |at| u16::from_ne_bytes(take(at, 2).try_into().unwrap_or_default());
        let u32_at = |at| u32::from_ne_bytes(take(at, 4).try_into().unwrap_or_default());
        let bytes4 = |at| <[u8; 4]>::try_from(take(at, 4)).unwrap_or_default();
        let bytes16 = |at| <[u8; 16]>::try_from(take(at, 16)).unwrap_or_default();
        Record {
            family: u16_at(slot::FAMILY),
            state: r[slot::STATE as usize],
            extra: r[slot::EXTRA as usize],
            uid: u32_at(slot::UID),
            local_port: u16_at(slot::NUM),
            remote_port: u16::from_be_bytes(take(slot::DPORT, 2).try_into().unwrap_or_default()),
            daddr: bytes4(slot::DADDR),
            rcv_saddr: bytes4(slot::RCV_SADDR),
            ack_backlog: u32_at(slot::ACK_BACKLOG),
            max_ack_backlog: u32_at(slot::MAX_ACK_BACKLOG),
            attached: u32_at(slot::ATTACHED) != 0,
            inode: u64::from_ne_bytes(take(slot::INODE, 8).try_into().unwrap_or_default()),
            v6_daddr: bytes16(slot::V6_DADDR),
            v6_rcv_saddr: bytes16(slot::V6_RCV_SADDR),
            info: InfoBlock::read(&r[RECORD_SIZE..]),
        }
    })
}

const AF_INET: u16 = libc::AF_INET as u16;
const AF_INET6: u16 = libc::AF_INET6 as u16;

impl Record {
    /// Whether it is an IPv6 socket; `None` for a family sock_diag would
    /// not list in an inet table.
    pub fn is_v6(&self) -> Option<bool> {
        match self.family {
            AF_INET => Some(false),
            AF_INET6 => Some(true),
            _ => None,
        }
    }

    /// The state sock_diag's `idiag_states` mask is tested on: a
    /// TIME_WAIT socket's substate (a FIN_WAIT2 one is selected by the
    /// FIN_WAIT2 bit), a request socket's 12.
    pub fn selected_state(&self, walk: Walk) -> u8 {
        if walk == Walk::Tcp && self.state == tcp_state::TIME_WAIT && self.extra != 0 {
            self.extra
        } else {
            self.state
        }
    }

    /// The socket as sock_diag describes it (see the module's notes).
    pub fn inet_socket(&self, proto: InetProto) -> InetSocket {
        let (local, remote) = if self.family == AF_INET6 {
            (
                IpAddr::V6(Ipv6Addr::from(self.v6_rcv_saddr)),
                IpAddr::V6(Ipv6Addr::from(self.v6_daddr)),
            )
        } else {
            (
                IpAddr::V4(Ipv4Addr::from(self.rcv_saddr)),
                IpAddr::V4(Ipv4Addr::from(self.daddr)),
            )
        };
        let (state, full) = match self.state {
            tcp_state::NEW_SYN_RECV if proto == InetProto::Tcp => (tcp_state::SYN_RECV, false),
            tcp_state::TIME_WAIT if proto == InetProto::Tcp => {
                (self.selected_state(Walk::Tcp), false)
            }
            state => (state, true),
        };
        let listener = proto == InetProto::Tcp && self.state == tcp_state::LISTEN;
        // tcp_diag_get_info()'s queues, when the info block was read
        let (recv_q, send_q) = match (&self.info, listener) {
            (_, true) => (self.ack_backlog, 0),
            (Some(i), false) => (
                ((i.get(at::RCV_NXT) as u32).wrapping_sub(i.get(at::COPIED_SEQ) as u32) as i32)
                    .max(0) as u32,
                (i.get(at::WRITE_SEQ) as u32).wrapping_sub(i.get(at::SND_UNA) as u32),
            ),
            (None, false) => (0, 0),
        };
        InetSocket {
            proto,
            state,
            local,
            local_port: self.local_port,
            remote,
            remote_port: self.remote_port,
            recv_q,
            send_q,
            uid: if full { self.uid } else { 0 },
            inode: if full {
                u64::from(self.inode as u32)
            } else {
                0
            },
            timer: 0,
            timer_ticks: 0,
            retransmits: 0,
            probes: 0,
            backlog: if listener { self.max_ack_backlog } else { 0 },
        }
    }

    /// The extensions `--info` asks sock_diag for, as far as health reads
    /// them: `struct tcp_info`'s members computed as tcp_get_info() does,
    /// and the memory info's send buffer, queued bytes and drops, written
    /// into `buffer`; none for a socket that is not a full TCP one (as
    /// sock_diag sends none for TIME_WAIT and request sockets).
    pub fn ext<'b>(&self, buffer: &'b mut ExtBuffer) -> SocketExt<'b> {
        use crate::collect::tcp_info::{Field, skmem};
        let Some(i) = &self.info else {
            return SocketExt::NONE;
        };
        buffer.info.fill(0);
        buffer.skmem.fill(0);
        let listener = self.state == tcp_state::LISTEN;
        let word = |index| i.get(index) as u32;
        let notsent = word(at::WRITE_SEQ).wrapping_sub(word(at::SND_NXT)) as i32;
        for (field, value) in [
            (Field::STATE, u64::from(self.state)),
            (Field::RTT, u64::from(word(at::SRTT_US) >> 3)),
            (Field::SND_MSS, i.get(at::MSS_CACHE)),
            (
                Field::UNACKED,
                if listener {
                    u64::from(self.ack_backlog)
                } else {
                    i.get(at::PACKETS_OUT)
                },
            ),
            (Field::SND_CWND, i.get(at::SND_CWND)),
            (Field::RETRANS, i.get(at::RETRANS_OUT)),
            (Field::TOTAL_RETRANS, i.get(at::TOTAL_RETRANS)),
            (Field::LOST, i.get(at::LOST_OUT)),
            (Field::SND_WND, i.get(at::SND_WND)),
            (Field::NOTSENT_BYTES, notsent.max(0) as u64),
            (Field::BYTES_SENT, i.get(at::BYTES_SENT)),
            (Field::BYTES_ACKED, i.get(at::BYTES_ACKED)),
            (Field::BYTES_RECEIVED, i.get(at::BYTES_RECEIVED)),
            (Field::BYTES_RETRANS, i.get(at::BYTES_RETRANS)),
        ] {
            let at = usize::from(field.offset);
            let bytes = value.to_ne_bytes();
            let width = field.width.bytes();
            // the low bytes: a u8 or u32 member takes its value's low end
            let low = if cfg!(target_endian = "little") {
                &bytes[..width]
            } else {
                &bytes[8 - width..]
            };
            buffer.info[at..at + width].copy_from_slice(low);
        }
        for (index, member) in [
            (skmem::SNDBUF, at::SK_SNDBUF),
            (skmem::WMEM_QUEUED, at::SK_WMEM_QUEUED),
            (skmem::DROPS, at::SK_DROPS),
        ] {
            buffer.skmem[index * 4..index * 4 + 4].copy_from_slice(&word(member).to_ne_bytes());
        }
        SocketExt {
            info: &buffer.info,
            skmem: &buffer.skmem,
            ..SocketExt::NONE
        }
    }

    /// The unix socket as sock_diag describes it (no name: views do not
    /// key on it).
    pub fn unix_socket(&self) -> UnixSocket<'static> {
        super::sock_diag::UnixDiagRecord {
            sock_type: self.extra,
            state: self.state,
            // /proc and sock_diag derive the state word from a non-zero
            // inode; without -p only its presence was read
            inode: if self.inode == 0 && self.attached {
                u32::MAX
            } else {
                self.inode as u32
            },
            peer_inode: None,
            name: None,
            pending_peers: &[],
            meminfo: &[],
        }
        .to_socket(0)
    }
}

/// Room for one socket's extensions ([`Record::ext`]), reused for every
/// socket of a walk.
#[derive(Debug, Clone)]
pub struct ExtBuffer {
    info: Vec<u8>,
    skmem: [u8; 36],
}

impl Default for ExtBuffer {
    fn default() -> Self {
        let len = crate::collect::tcp_info::FIELDS
            .iter()
            .map(|f| f.end())
            .max()
            .unwrap_or(0);
        ExtBuffer {
            info: vec![0; len],
            skmem: [0; 36],
        }
    }
}

/// Loaded programs, by walk: the same for every namespace and thread.
#[derive(Debug, Default)]
struct Programs {
    loaded: [Option<IterProgram>; 3],
    /// Whether TCP's records carry the info block.
    info: bool,
}

/// What a set of programs was loaded for: a listing of another namespace
/// asking the same gets the same programs (a host with hundreds of
/// namespaces would otherwise hold two descriptors per table for each, and
/// read the BTF for each).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Asked {
    walks: Vec<Walk>,
    wanted: Wanted,
    btf_path: Option<std::path::PathBuf>,
}

type Loaded = Result<std::sync::Arc<Programs>, Unavailable>;

/// Every set loaded by this process, or why it could not be.
static LOADED: std::sync::Mutex<Vec<(Asked, Loaded)>> = std::sync::Mutex::new(Vec::new());

/// A listing's socket iterators: the programs, and its own read buffer.
#[derive(Debug)]
pub struct SocketIters {
    programs: std::sync::Arc<Programs>,
    /// Reused between walks: the seq file is read in large chunks.
    buffer: Vec<u8>,
}

impl SocketIters {
    /// The programs for `walks` (loaded once per process, with one BTF
    /// read), reading every socket's inode when `inodes` (`-p`) and TCP's
    /// info block when `info` (`--info`). Any failure says why.
    pub fn load(
        inputs: &crate::config::Inputs,
        walks: &[Walk],
        (inodes, info): (bool, bool),
    ) -> Result<SocketIters, Unavailable> {
        let wanted = Wanted {
            inodes,
            info,
            reject: inputs.bpf_reject,
        };
        let asked = Asked {
            walks: walks.to_vec(),
            wanted,
            btf_path: inputs.btf_path.clone(),
        };
        let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
        let programs = match loaded.iter().find(|(a, _)| *a == asked) {
            Some((_, programs)) => programs.clone(),
            None => {
                let programs = Self::load_with(inputs, walks, |layout| {
                    (layout.info.is_some() || !info || layout.walk != Walk::Tcp)
                        .then(|| program(layout, wanted))
                })
                .map(|mut p| {
                    p.info = info;
                    std::sync::Arc::new(p)
                });
                loaded.push((asked, programs.clone()));
                programs
            }
        };
        Ok(SocketIters {
            programs: programs?,
            buffer: Vec::new(),
        })
    }

    /// Load programs that write nothing: what the kernel's walk alone
    /// costs (the benchmark's `examples/iter_walk`).
    pub fn load_empty(
        inputs: &crate::config::Inputs,
        walks: &[Walk],
    ) -> Result<SocketIters, Unavailable> {
        let programs = Self::load_with(inputs, walks, |_| Some(vec![mov_imm(R0, 0), EXIT]))?;
        Ok(SocketIters {
            programs: std::sync::Arc::new(programs),
            buffer: Vec::new(),
        })
    }

    /// `emit` gives a layout's program, or `None` when the kernel's BTF
    /// lacks what it must read.
    fn load_with(
        inputs: &crate::config::Inputs,
        walks: &[Walk],
        emit: impl Fn(&Layout) -> Option<Vec<super::bpf::Insn>>,
    ) -> Result<Programs, Unavailable> {
        let layouts = with_kernel_btf(inputs, |btf| Layout::all_from_btf(btf, walks))?;
        let mut programs = Programs::default();
        for layout in layouts {
            let insns = emit(&layout).ok_or_else(|| {
                Unavailable("BTF: tcp_sock or sock lacks a member --info reads".into())
            })?;
            let name = format!("nlstat_{}", layout.walk.name());
            let loaded =
                IterProgram::load(&insns, layout.attach_btf_id, &name, layout.walk.name())?;
            programs.loaded[layout.walk as usize] = Some(loaded);
        }
        Ok(programs)
    }

    /// Whether `walk`'s program is loaded.
    pub fn has(&self, walk: Walk) -> bool {
        self.programs.loaded[walk as usize].is_some()
    }

    /// Walk `walk`'s table in the calling thread's namespace; `each` gets
    /// every record whose state is in `states` (sock_diag's
    /// `idiag_states` test; see [`Record::selected_state`]).
    pub fn walk(
        &mut self,
        walk: Walk,
        states: u32,
        mut each: impl FnMut(&Record) -> crate::error::Result<()>,
    ) -> crate::error::Result<()> {
        let Some(iter) = &self.programs.loaded[walk as usize] else {
            return Ok(());
        };
        let size = record_size(self.programs.info && walk == Walk::Tcp);
        let failed = |e: Unavailable| crate::error::Error::Bpf {
            option: "--view-source",
            reason: e.0,
        };
        iter.run_chunks(&mut self.buffer, size, failed, |bytes| {
            for record in records(bytes, size) {
                if states & (1u32 << record.selected_state(walk).min(31)) != 0 {
                    each(&record)?;
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::btf::{self, tests::Builder};

    /// A BTF with the three iterators' types, nested as Linux 6.18 nests
    /// them (tcp_sock → inet_connection_sock → inet_sock → sock →
    /// sock_common), at offsets of its own so that a wrong path shows.
    fn kernel_like() -> Vec<u8> {
        let mut b = Builder::new();
        let u8_t = b.int("unsigned char", 1);
        let u16_t = b.int("short unsigned int", 2);
        let u32_t = b.int("unsigned int", 4);
        let int = b.int("int", 4);
        let ulong = b.int("long unsigned int", 8);
        let uid_t = b.typedef("uid_t", u32_t);
        let in6 = b.aggregate(false, "in6_addr", 16, &[("s6_addr32", u32_t, 0, 0)]);
        let common = b.aggregate(
            false,
            "sock_common",
            136,
            &[
                ("skc_daddr", u32_t, 0, 0),
                ("skc_rcv_saddr", u32_t, 32, 0),
                ("skc_dport", u16_t, 96, 0),
                ("skc_num", u16_t, 112, 0),
                ("skc_family", u16_t, 128, 0),
                ("skc_state", u8_t, 144, 0),
                ("skc_v6_daddr", in6, 448, 0),
                ("skc_v6_rcv_saddr", in6, 576, 0),
            ],
        );
        let inode = b.aggregate(false, "inode", 600, &[("i_ino", ulong, 512, 0)]);
        let socket = b.aggregate(false, "socket", 128, &[("state", int, 0, 0)]);
        b.aggregate(
            false,
            "socket_alloc",
            768,
            &[("socket", socket, 0, 0), ("vfs_inode", inode, 1024, 0)],
        );
        let socket_ptr = b.ptr(socket);
        let sock = b.aggregate(
            false,
            "sock",
            800,
            &[
                ("__sk_common", common, 0, 0),
                ("sk_type", u16_t, 2160, 0),
                ("sk_socket", socket_ptr, 2240, 0),
                ("sk_ack_backlog", u32_t, 2400, 0),
                ("sk_max_ack_backlog", u32_t, 2432, 0),
                ("sk_sndbuf", int, 2464, 0),
                ("sk_wmem_queued", int, 2496, 0),
                ("sk_drops", int, 2528, 0),
            ],
        );
        let inet = b.aggregate(false, "inet_sock", 1000, &[("sk", sock, 0, 0)]);
        let icsk = b.aggregate(
            false,
            "inet_connection_sock",
            1400,
            &[("icsk_inet", inet, 0, 0)],
        );
        let u64_t = b.int("long long unsigned int", 8);
        let mut tcp_members = vec![("inet_conn", icsk, 0, 0)];
        // the info block's tcp_sock members from byte 1400 on, in order
        let mut at = 1400 * 8;
        for (_, name) in INFO_FIELDS.iter().filter(|(o, _)| *o == "tcp_sock") {
            let wide = name.starts_with("bytes_");
            tcp_members.push((name, if wide { u64_t } else { u32_t }, at, 0));
            at += if wide { 64 } else { 32 };
        }
        b.aggregate(false, "tcp_sock", 2300, &tcp_members);
        let udp = b.aggregate(false, "udp_sock", 1200, &[("inet", inet, 64, 0)]);
        let unix = b.aggregate(false, "unix_sock", 1100, &[("sk", sock, 0, 0)]);
        let tw = b.aggregate(
            false,
            "inet_timewait_sock",
            200,
            &[
                ("__tw_common", common, 0, 0),
                ("tw_substate", u8_t, 1152, 0),
            ],
        );
        b.aggregate(false, "tcp_timewait_sock", 240, &[("tw_sk", tw, 0, 0)]);
        let seq = b.aggregate(false, "seq_file", 8, &[("count", ulong, 0, 0)]);
        let seq_ptr = b.ptr(seq);
        let meta = b.aggregate(false, "bpf_iter_meta", 24, &[("seq", seq_ptr, 0, 0)]);
        let meta_ptr = b.ptr(meta);
        for (walk, member, target) in [
            ("tcp", "sk_common", common),
            ("udp", "udp_sk", udp),
            ("unix", "unix_sk", unix),
        ] {
            let target_ptr = b.ptr(target);
            let u_meta = b.aggregate(true, "", 8, &[("meta", meta_ptr, 0, 0)]);
            let u_sock = b.aggregate(true, "", 8, &[(member, target_ptr, 0, 0)]);
            b.aggregate(
                false,
                &format!("bpf_iter__{walk}"),
                24,
                &[
                    ("", u_meta, 0, 0),
                    ("", u_sock, 64, 0),
                    ("uid", uid_t, 128, 0),
                ],
            );
            b.func(
                &format!("bpf_iter_{walk}"),
                &[("meta", meta_ptr), (member, target_ptr), ("uid", uid_t)],
                int,
            );
        }
        b.build()
    }

    fn layout(walk: Walk) -> Layout {
        let bytes = kernel_like();
        let btf = btf::parse(&bytes).unwrap();
        Layout::from_btf(&btf, walk).unwrap()
    }

    #[test]
    fn layouts_follow_each_iterators_path_to_the_socket() {
        let f = |offset, size| Field { offset, size };
        let tcp = layout(Walk::Tcp);
        assert_eq!((tcp.ctx_socket, tcp.ctx_uid), (f(8, 8), f(16, 4)));
        // sock_common straight from the context
        assert_eq!(tcp.state, f(18, 1));
        assert_eq!((tcp.v6_daddr, tcp.v6_rcv_saddr), (56, 72));
        // struct sock's fields from tcp_sock
        assert_eq!(tcp.sk_socket, f(280, 8));
        assert_eq!(tcp.ack_backlog, f(300, 4));
        assert_eq!(tcp.tw_substate, f(144, 1));
        assert_eq!(tcp.socket_ino, 128 + 64);
        let info = tcp.info.expect("the info block's members");
        assert_eq!(info[0], f(1400, 4)); // srtt_us
        assert_eq!(info[13], f(308, 4)); // sk_sndbuf, in sock
        assert_eq!(info[16], f(1400 + 13 * 4, 8)); // bytes_sent
        assert_eq!(layout(Walk::Udp).info, None);
        // udp_sock holds inet_sock 8 bytes in: every field moves with it
        let udp = layout(Walk::Udp);
        assert_eq!(udp.family, f(8 + 16, 2));
        assert_eq!(udp.v6_rcv_saddr, 8 + 72);
        assert_eq!(udp.max_ack_backlog, f(8 + 304, 4));
        let unix = layout(Walk::Unix);
        assert_eq!((unix.num, unix.sk_type), (f(14, 2), f(270, 2)));
    }

    #[test]
    fn a_kernel_without_an_iterator_is_a_reason() {
        let mut b = Builder::new();
        b.int("int", 4);
        let bytes = b.build();
        let btf = btf::parse(&bytes).unwrap();
        for walk in [Walk::Tcp, Walk::Udp, Walk::Unix] {
            let reason = Layout::from_btf(&btf, walk).unwrap_err();
            assert!(
                reason.contains(&format!("no FUNC bpf_iter_{}", walk.name())),
                "{reason}"
            );
        }
    }

    /// Every instruction reachable from the first (the verifier refuses
    /// unreachable code), every jump forward and inside the program, the
    /// last instruction an exit.
    fn check_flow(p: &[super::super::bpf::Insn]) -> Result<(), String> {
        let mut reached = vec![false; p.len()];
        let mut todo = vec![0usize];
        while let Some(pc) = todo.pop() {
            if pc >= p.len() {
                return Err(format!("falls off the end at {pc}"));
            }
            if std::mem::replace(&mut reached[pc], true) {
                continue;
            }
            let i = p[pc];
            let (class, op) = (i[0] & 0x07, i[0] & 0xf0);
            let off = i16::from_le_bytes([i[2], i[3]]);
            let target = pc as i64 + 1 + i64::from(off);
            match (class, op) {
                (0x05, 0x90) => {} // exit
                (0x05, 0x80) => todo.push(pc + 1),
                (0x05, 0x00) => todo.push(target as usize),
                (0x05, _) => {
                    if off <= 0 {
                        return Err(format!("jump at {pc} is not forward"));
                    }
                    todo.extend([pc + 1, target as usize]);
                }
                _ => todo.push(pc + 1),
            }
        }
        if let Some(pc) = reached.iter().position(|r| !r) {
            return Err(format!("instruction {pc} is unreachable"));
        }
        if p.last() != Some(&EXIT) {
            return Err("does not end with exit".into());
        }
        Ok(())
    }

    #[test]
    fn every_program_variant_flows_to_its_exit() {
        for walk in [Walk::Tcp, Walk::Udp, Walk::Unix] {
            let l = layout(walk);
            for (inodes, info) in [(false, false), (true, false), (false, true), (true, true)] {
                let wanted = Wanted {
                    inodes,
                    info,
                    reject: false,
                };
                let p = program(&l, wanted);
                assert_eq!(check_flow(&p), Ok(()), "{walk:?} {wanted:?}");
                // the first load is the context's socket, at its BTF offset
                assert_eq!(p[1], [0x79, 0x67, 8, 0, 0, 0, 0, 0], "{walk:?}");
                let rejected = program(
                    &l,
                    Wanted {
                        reject: true,
                        ..wanted
                    },
                );
                assert_eq!(rejected.len(), p.len() - 1);
            }
        }
        // reading inodes costs a helper call only when asked for
        let calls = |p: Vec<super::super::bpf::Insn>| {
            p.iter()
                .filter(|i| i[0] == 0x85 && i32::from_le_bytes([i[4], i[5], i[6], i[7]]) == 113)
                .count()
        };
        let udp = layout(Walk::Udp);
        let wanted = |inodes| Wanted {
            inodes,
            info: false,
            reject: false,
        };
        assert_eq!(calls(program(&udp, wanted(false))), 0);
        assert_eq!(calls(program(&udp, wanted(true))), 1);
    }

    /// A record laid out by hand as the program writes it (the CPU's byte
    /// order, the remote port and addresses in the network's).
    fn record(family: u16, state: u8, extra: u8, fill: impl FnOnce(&mut [u8])) -> Vec<u8> {
        let mut r = vec![0u8; RECORD_SIZE];
        r[0..2].copy_from_slice(&family.to_ne_bytes());
        r[2] = state;
        r[3] = extra;
        r[4..8].copy_from_slice(&1000u32.to_ne_bytes());
        r[8..10].copy_from_slice(&8080u16.to_ne_bytes());
        r[10..12].copy_from_slice(&40000u16.to_be_bytes());
        r[12..16].copy_from_slice(&[10, 0, 0, 2]);
        r[16..20].copy_from_slice(&[127, 0, 0, 1]);
        r[20..24].copy_from_slice(&3u32.to_ne_bytes());
        r[24..28].copy_from_slice(&128u32.to_ne_bytes());
        r[28..32].copy_from_slice(&1u32.to_ne_bytes());
        r[32..40].copy_from_slice(&((7u64 << 32) | 4242).to_ne_bytes());
        fill(&mut r);
        r
    }

    #[test]
    fn records_read_as_sock_diag_reports_sockets() {
        let mut bytes = record(2, tcp_state::LISTEN, 0, |_| {});
        bytes.extend(record(2, tcp_state::NEW_SYN_RECV, 0, |_| {}));
        bytes.extend(record(
            2,
            tcp_state::TIME_WAIT,
            tcp_state::FIN_WAIT2,
            |_| {},
        ));
        bytes.extend(record(10, tcp_state::ESTABLISHED, 0, |r| {
            r[40..56].copy_from_slice(&Ipv6Addr::LOCALHOST.octets());
            r[56..72].copy_from_slice(&Ipv4Addr::new(127, 0, 0, 1).to_ipv6_mapped().octets());
        }));
        bytes.extend([1, 2, 3]); // a partial record is not read
        let got: Vec<Record> = records(&bytes, RECORD_SIZE).collect();
        assert_eq!(got.len(), 4);
        let listener = got[0].inet_socket(InetProto::Tcp);
        assert_eq!(
            (listener.local, listener.local_port),
            (IpAddr::V4(Ipv4Addr::LOCALHOST), 8080)
        );
        assert_eq!((listener.remote_port, listener.uid), (40000, 1000));
        assert_eq!((listener.recv_q, listener.backlog), (3, 128));
        // inet_diag_msg carries 32 bits of the inode
        assert_eq!(listener.inode, 4242);
        let request = got[1].inet_socket(InetProto::Tcp);
        assert_eq!(
            (request.state, request.uid, request.inode, request.backlog),
            (tcp_state::SYN_RECV, 0, 0, 0)
        );
        let waiting = got[2].inet_socket(InetProto::Tcp);
        assert_eq!((waiting.state, waiting.uid), (tcp_state::FIN_WAIT2, 0));
        assert_eq!(got[2].selected_state(Walk::Tcp), tcp_state::FIN_WAIT2);
        assert_eq!(got[1].selected_state(Walk::Tcp), tcp_state::NEW_SYN_RECV);
        let v6 = got[3].inet_socket(InetProto::Tcp);
        assert_eq!(v6.remote, IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(v6.local.to_string(), "::ffff:127.0.0.1");
        assert_eq!((v6.recv_q, v6.backlog), (0, 0));
        assert_eq!(got[3].is_v6(), Some(true));
        assert_eq!(record(1, 7, 1, |_| {}).len(), RECORD_SIZE);
    }

    #[test]
    fn info_indices_name_their_members() {
        for (index, name) in [
            (at::SRTT_US, "srtt_us"),
            (at::MSS_CACHE, "mss_cache"),
            (at::PACKETS_OUT, "packets_out"),
            (at::SND_CWND, "snd_cwnd"),
            (at::RETRANS_OUT, "retrans_out"),
            (at::TOTAL_RETRANS, "total_retrans"),
            (at::LOST_OUT, "lost_out"),
            (at::SND_WND, "snd_wnd"),
            (at::WRITE_SEQ, "write_seq"),
            (at::SND_NXT, "snd_nxt"),
            (at::SND_UNA, "snd_una"),
            (at::RCV_NXT, "rcv_nxt"),
            (at::COPIED_SEQ, "copied_seq"),
            (at::SK_SNDBUF, "sk_sndbuf"),
            (at::SK_WMEM_QUEUED, "sk_wmem_queued"),
            (at::SK_DROPS, "sk_drops"),
            (at::BYTES_SENT, "bytes_sent"),
            (at::BYTES_ACKED, "bytes_acked"),
            (at::BYTES_RECEIVED, "bytes_received"),
            (at::BYTES_RETRANS, "bytes_retrans"),
        ] {
            assert_eq!(INFO_FIELDS[index].1, name);
        }
        assert_eq!(at::BYTES_SENT, INFO_U32S);
        assert_eq!(at::BYTES_RETRANS, INFO_FIELDS.len() - 1);
    }

    #[test]
    fn info_blocks_read_as_tcp_info_and_memory_info() {
        use crate::collect::tcp_info::{Field as Info, SkMemInfo, TcpInfo, skmem};
        let mut words = [0u32; INFO_U32S];
        for (i, w) in words.iter_mut().enumerate() {
            *w = 1000 + i as u32;
        }
        words[0] = 8 * 250; // srtt_us: rtt 250 us
        words[8] = 5000; // write_seq
        words[9] = 4000; // snd_nxt: 1000 bytes not sent
        words[10] = 3000; // snd_una: 2000 in the send queue
        words[11] = 10; // rcv_nxt
        words[12] = 20; // copied_seq past rcv_nxt: an empty receive queue
        let mut block = Vec::new();
        for w in words {
            block.extend(w.to_ne_bytes());
        }
        for wide in [1u64 << 33, 77, 88, 99] {
            block.extend(wide.to_ne_bytes());
        }
        block.extend(1u32.to_ne_bytes()); // read
        block.extend([0; 4]);
        let mut bytes = record(2, tcp_state::ESTABLISHED, 0, |_| {});
        bytes.extend(&block);
        let mut not_read = record(2, tcp_state::TIME_WAIT, 6, |_| {});
        not_read.extend(vec![0; INFO_SIZE]);
        bytes.extend(not_read);
        let got: Vec<Record> = records(&bytes, record_size(true)).collect();
        assert_eq!(got.len(), 2);
        let socket = got[0].inet_socket(InetProto::Tcp);
        assert_eq!((socket.recv_q, socket.send_q), (0, 2000));
        let mut buffer = ExtBuffer::default();
        let ext = got[0].ext(&mut buffer);
        let info = TcpInfo::new(ext.info);
        assert_eq!(info.get(Info::RTT), Some(250));
        assert_eq!(info.get(Info::SND_MSS), Some(1001));
        assert_eq!(info.get(Info::UNACKED), Some(1002));
        assert_eq!(info.get(Info::LOST), Some(1006));
        assert_eq!(info.get(Info::NOTSENT_BYTES), Some(1000));
        assert_eq!(info.get(Info::BYTES_SENT), Some(1 << 33));
        assert_eq!(info.get(Info::BYTES_RETRANS), Some(99));
        let memory = SkMemInfo::new(ext.skmem);
        assert_eq!(memory.get(skmem::SNDBUF), Some(1013));
        assert_eq!(memory.get(skmem::DROPS), Some(1015));
        // TIME_WAIT: no extensions, as sock_diag sends none
        assert!(got[1].ext(&mut buffer).is_empty());
    }

    #[test]
    fn unix_records_take_their_state_word_from_an_attached_socket() {
        let listening = record(1, tcp_state::LISTEN, 1, |_| {});
        let waiting = record(1, tcp_state::ESTABLISHED, 5, |r| r[28..40].fill(0));
        let unread = record(1, tcp_state::ESTABLISHED, 2, |r| r[32..40].fill(0));
        let words: Vec<(&str, &str)> = [listening, waiting, unread]
            .iter()
            .flat_map(|r| records(r, RECORD_SIZE))
            .map(|r| {
                let s = r.unix_socket();
                (s.type_word(), s.state_word())
            })
            .collect();
        // a connection not yet accepted has no struct socket: CONNECTING,
        // as /proc/net/unix shows it; without -p only its presence is read
        assert_eq!(
            words,
            [
                ("STREAM", "LISTENING"),
                ("SEQPACKET", "CONNECTING"),
                ("DGRAM", "CONNECTED")
            ]
        );
        assert_eq!(
            records(&record(77, 1, 0, |_| {}), RECORD_SIZE)
                .next()
                .unwrap()
                .is_v6(),
            None
        );
    }
}
