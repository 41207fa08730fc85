//! A reader for BTF, the kernel's description of its own types
//! (/sys/kernel/btf/vmlinux), just enough to find a struct member's offset
//! and size: the BPF task_file iterator reads kernel structs whose layout
//! changes between kernel versions and configurations, so every offset it
//! uses comes from the running kernel's BTF instead of a header.
//!
//! [`parse`] is a pure function over bytes and never panics: on any input it
//! returns either a [`Btf`] whose lookups stay inside the buffer or an error.

use std::fmt;

/// BTF type kinds (`BTF_KIND_*` in the kernel's uapi/linux/btf.h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Int,
    Ptr,
    Array,
    Struct,
    Union,
    Enum,
    Fwd,
    Typedef,
    Volatile,
    Const,
    Restrict,
    Func,
    FuncProto,
    Var,
    Datasec,
    Float,
    DeclTag,
    TypeTag,
    Enum64,
}

impl Kind {
    fn from_raw(raw: u32) -> Option<Kind> {
        Some(match raw {
            1 => Kind::Int,
            2 => Kind::Ptr,
            3 => Kind::Array,
            4 => Kind::Struct,
            5 => Kind::Union,
            6 => Kind::Enum,
            7 => Kind::Fwd,
            8 => Kind::Typedef,
            9 => Kind::Volatile,
            10 => Kind::Const,
            11 => Kind::Restrict,
            12 => Kind::Func,
            13 => Kind::FuncProto,
            14 => Kind::Var,
            15 => Kind::Datasec,
            16 => Kind::Float,
            17 => Kind::DeclTag,
            18 => Kind::TypeTag,
            19 => Kind::Enum64,
            _ => return None,
        })
    }

    /// Bytes of kind-specific data after the 12-byte `btf_type`.
    fn extra(self, vlen: u32) -> u64 {
        let vlen = u64::from(vlen);
        match self {
            Kind::Int | Kind::Var | Kind::DeclTag => 4,
            Kind::Array => 12,
            Kind::Struct | Kind::Union | Kind::Datasec | Kind::Enum64 => 12 * vlen,
            Kind::Enum | Kind::FuncProto => 8 * vlen,
            _ => 0,
        }
    }
}

/// Why a BTF blob could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BtfError {
    /// Shorter than the header, or a section outside the blob.
    Truncated(&'static str),
    /// Not `0xeB9F` in either byte order.
    BadMagic(u16),
    UnsupportedVersion(u8),
    /// A type whose kind this reader does not know (it cannot be skipped).
    UnknownKind {
        id: u32,
        kind: u32,
    },
    /// More types than a type id can name.
    TooManyTypes,
}

impl fmt::Display for BtfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BtfError::Truncated(what) => write!(f, "truncated BTF ({what})"),
            BtfError::BadMagic(m) => write!(f, "not BTF (magic {m:#06x})"),
            BtfError::UnsupportedVersion(v) => write!(f, "BTF version {v} is not supported"),
            BtfError::UnknownKind { id, kind } => {
                write!(f, "BTF type {id} has unknown kind {kind}")
            }
            BtfError::TooManyTypes => write!(f, "too many BTF types"),
        }
    }
}

impl std::error::Error for BtfError {}

/// A parsed BTF blob: the bytes and where each type starts.
pub struct Btf<'a> {
    types: &'a [u8],
    strings: &'a [u8],
    /// Byte offset in `types` of each type; index 0 is `void`, which has no
    /// record.
    starts: Vec<u32>,
    big_endian: bool,
}

impl fmt::Debug for Btf<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Btf")
            .field("types", &self.type_count())
            .field("strings", &self.strings.len())
            .finish()
    }
}

/// A struct or union member, found by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    /// Offset from the start of the outermost struct, in bits.
    pub bit_offset: u64,
    /// Bit-field width; 0 for an ordinary member.
    pub bitfield_size: u32,
    pub type_id: u32,
}

/// How deep anonymous structs and unions may nest (garbage could loop).
const MAX_NESTING: u32 = 32;

/// Structs and unions one member lookup may open (a real kernel's
/// `task_struct` needs a handful).
const MAX_ANONYMOUS_VISITS: u32 = 256;

fn read_u16(bytes: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let raw: [u8; 2] = bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(raw)
    } else {
        u16::from_le_bytes(raw)
    })
}

fn read_u32(bytes: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let raw: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(raw)
    } else {
        u32::from_le_bytes(raw)
    })
}

/// Read a BTF blob (a header, a type section and a string section).
pub fn parse(bytes: &[u8]) -> Result<Btf<'_>, BtfError> {
    let magic = read_u16(bytes, 0, false).ok_or(BtfError::Truncated("header"))?;
    let big_endian = match magic {
        0xeb9f => false,
        0x9feb => true,
        other => return Err(BtfError::BadMagic(other)),
    };
    let version = *bytes.get(2).ok_or(BtfError::Truncated("header"))?;
    if version != 1 {
        return Err(BtfError::UnsupportedVersion(version));
    }
    let field = |at| read_u32(bytes, at, big_endian).ok_or(BtfError::Truncated("header"));
    let hdr_len = field(4)? as usize;
    if hdr_len < 24 {
        return Err(BtfError::Truncated("header length"));
    }
    let (type_off, type_len, str_off, str_len) = (field(8)?, field(12)?, field(16)?, field(20)?);
    let section = |off: u32, len: u32, what| {
        let start = hdr_len
            .checked_add(off as usize)
            .ok_or(BtfError::Truncated(what))?;
        let end = start
            .checked_add(len as usize)
            .ok_or(BtfError::Truncated(what))?;
        bytes.get(start..end).ok_or(BtfError::Truncated(what))
    };
    let types = section(type_off, type_len, "type section")?;
    let strings = section(str_off, str_len, "string section")?;
    let mut starts = Vec::with_capacity(types.len() / 32 + 1);
    starts.push(0);
    let mut at = 0usize;
    while at < types.len() {
        let id = u32::try_from(starts.len()).map_err(|_| BtfError::TooManyTypes)?;
        let info = read_u32(types, at + 4, big_endian).ok_or(BtfError::Truncated("type"))?;
        if at + 12 > types.len() {
            return Err(BtfError::Truncated("type"));
        }
        let raw_kind = (info >> 24) & 0x1f;
        let kind = Kind::from_raw(raw_kind).ok_or(BtfError::UnknownKind { id, kind: raw_kind })?;
        let next = at as u64 + 12 + kind.extra(info & 0xffff);
        if next > types.len() as u64 {
            return Err(BtfError::Truncated("type data"));
        }
        starts.push(u32::try_from(at).map_err(|_| BtfError::TooManyTypes)?);
        at = next as usize;
    }
    Ok(Btf {
        types,
        strings,
        starts,
        big_endian,
    })
}

impl<'a> Btf<'a> {
    /// Types in the blob, `void` (id 0) not counted.
    pub fn type_count(&self) -> usize {
        self.starts.len() - 1
    }

    fn u32_at(&self, at: usize) -> Option<u32> {
        read_u32(self.types, at, self.big_endian)
    }

    /// (name_off, info, size_or_type, start of the kind data) of a type.
    fn header(&self, id: u32) -> Option<(u32, u32, u32, usize)> {
        if id == 0 {
            return None;
        }
        let at = *self.starts.get(id as usize)? as usize;
        Some((
            self.u32_at(at)?,
            self.u32_at(at + 4)?,
            self.u32_at(at + 8)?,
            at + 12,
        ))
    }

    /// The string at `offset` in the string section, without its NUL.
    fn string(&self, offset: u32) -> Option<&'a [u8]> {
        let rest = self.strings.get(offset as usize..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        Some(&rest[..end])
    }

    /// Whether the string at `offset` is `name`, without looking for its
    /// end first (a scan of every type's name otherwise dominates
    /// [`find_each`](Self::find_each)).
    fn string_is(&self, offset: u32, name: &[u8]) -> bool {
        let end = offset as usize + name.len();
        self.strings.get(offset as usize..end) == Some(name) && self.strings.get(end) == Some(&0)
    }

    pub fn kind(&self, id: u32) -> Option<Kind> {
        let (_, info, _, _) = self.header(id)?;
        Kind::from_raw((info >> 24) & 0x1f)
    }

    /// The type's name; empty for an anonymous type.
    pub fn name(&self, id: u32) -> Option<&'a [u8]> {
        let (name_off, _, _, _) = self.header(id)?;
        self.string(name_off)
    }

    /// The first type of `kind` named `name`.
    pub fn find(&self, kind: Kind, name: &str) -> Option<u32> {
        let name = name.as_bytes();
        (1..self.starts.len() as u32)
            .find(|&id| self.kind(id) == Some(kind) && self.name(id) == Some(name))
    }

    /// Every type of `kind` named `name` (a well-formed vmlinux has one).
    pub fn find_all(&self, kind: Kind, name: &str) -> Vec<u32> {
        self.find_each(&[(kind, name)]).pop().unwrap_or_default()
    }

    /// For each (kind, name), every type that has it, in one pass over the
    /// types (a vmlinux has some 180 000).
    pub fn find_each(&self, wanted: &[(Kind, &str)]) -> Vec<Vec<u32>> {
        let mut found = vec![Vec::new(); wanted.len()];
        for id in 1..self.starts.len() as u32 {
            let Some(kind) = self.kind(id) else { continue };
            if !wanted.iter().any(|(k, _)| *k == kind) {
                continue;
            }
            let Some((name_off, ..)) = self.header(id) else {
                continue;
            };
            for (i, (k, n)) in wanted.iter().enumerate() {
                if *k == kind && self.string_is(name_off, n.as_bytes()) {
                    found[i].push(id);
                }
            }
        }
        found
    }

    /// The type behind typedefs and qualifiers (const, volatile, restrict,
    /// type tags).
    pub fn resolve(&self, mut id: u32) -> Option<u32> {
        for _ in 0..MAX_NESTING {
            match self.kind(id)? {
                Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                    id = self.header(id)?.2;
                }
                _ => return Some(id),
            }
        }
        None
    }

    /// The size in bytes of a type, through typedefs and qualifiers
    /// (pointers are 8 bytes: BPF is a 64-bit machine).
    pub fn size_of(&self, id: u32) -> Option<u32> {
        self.size_at_depth(id, 0)
    }

    /// `size_of`, arrays of arrays counted: a crafted array may contain
    /// itself.
    fn size_at_depth(&self, id: u32, depth: u32) -> Option<u32> {
        if depth > MAX_NESTING {
            return None;
        }
        let id = self.resolve(id)?;
        match self.kind(id)? {
            Kind::Int
            | Kind::Struct
            | Kind::Union
            | Kind::Enum
            | Kind::Enum64
            | Kind::Float
            | Kind::Datasec => Some(self.header(id)?.2),
            Kind::Ptr => Some(8),
            Kind::Array => {
                let (_, _, _, data) = self.header(id)?;
                let element = self.u32_at(data)?;
                let count = self.u32_at(data + 8)?;
                self.size_at_depth(element, depth + 1)?.checked_mul(count)
            }
            _ => None,
        }
    }

    /// The type a pointer points to.
    pub fn pointee(&self, id: u32) -> Option<u32> {
        let id = self.resolve(id)?;
        (self.kind(id)? == Kind::Ptr).then(|| self.header(id).map(|h| h.2))?
    }

    /// The member `name` of a struct or union, looking through anonymous
    /// struct and union members as C does (`task->pid` may sit in an
    /// unnamed union on some kernels).
    pub fn member(&self, struct_id: u32, name: &str) -> Option<Member> {
        let mut budget = MAX_ANONYMOUS_VISITS;
        self.member_in(struct_id, name.as_bytes(), 0, 0, &mut budget)
    }

    fn member_in(
        &self,
        id: u32,
        name: &[u8],
        base: u64,
        depth: u32,
        budget: &mut u32,
    ) -> Option<Member> {
        // depth alone does not bound a crafted blob: a struct with two
        // anonymous members of its own type would be walked 2^depth times
        if depth > MAX_NESTING || *budget == 0 {
            return None;
        }
        *budget -= 1;
        let id = self.resolve(id)?;
        let (_, info, _, data) = self.header(id)?;
        let kind = Kind::from_raw((info >> 24) & 0x1f)?;
        if !matches!(kind, Kind::Struct | Kind::Union) {
            return None;
        }
        let kind_flag = info >> 31 == 1;
        let vlen = info & 0xffff;
        let mut anonymous = Vec::new();
        for i in 0..vlen as usize {
            let at = data + 12 * i;
            let (name_off, type_id, offset) =
                (self.u32_at(at)?, self.u32_at(at + 4)?, self.u32_at(at + 8)?);
            let (bit_offset, bitfield_size) = if kind_flag {
                (offset & 0x00ff_ffff, offset >> 24)
            } else {
                (offset, 0)
            };
            let member_name = self.string(name_off)?;
            if member_name == name {
                return Some(Member {
                    bit_offset: base + u64::from(bit_offset),
                    bitfield_size,
                    type_id,
                });
            }
            if member_name.is_empty() {
                anonymous.push((type_id, base + u64::from(bit_offset)));
            }
        }
        anonymous
            .into_iter()
            .find_map(|(type_id, offset)| self.member_in(type_id, name, offset, depth + 1, budget))
    }

    /// The parameters (name, type) of a function or function prototype.
    pub fn params(&self, id: u32) -> Option<Vec<(&'a [u8], u32)>> {
        let id = match self.kind(id)? {
            Kind::Func => self.header(id)?.2,
            _ => id,
        };
        let (_, info, _, data) = self.header(id)?;
        if Kind::from_raw((info >> 24) & 0x1f)? != Kind::FuncProto {
            return None;
        }
        (0..(info & 0xffff) as usize)
            .map(|i| {
                let at = data + 8 * i;
                Some((self.string(self.u32_at(at)?)?, self.u32_at(at + 4)?))
            })
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds BTF blobs the way the kernel lays them out (uapi/linux/btf.h),
    /// for tests of the parser and of what uses it.
    #[derive(Default)]
    pub(crate) struct Builder {
        types: Vec<u8>,
        strings: Vec<u8>,
        count: u32,
    }

    impl Builder {
        pub(crate) fn new() -> Builder {
            Builder {
                types: Vec::new(),
                strings: vec![0],
                count: 0,
            }
        }

        fn name(&mut self, name: &str) -> u32 {
            if name.is_empty() {
                return 0;
            }
            let at = self.strings.len() as u32;
            self.strings.extend_from_slice(name.as_bytes());
            self.strings.push(0);
            at
        }

        fn push(&mut self, name: &str, kind: u32, vlen: u32, flag: bool, size_or_type: u32) -> u32 {
            let name_off = self.name(name);
            let info = (kind << 24) | vlen | (u32::from(flag) << 31);
            for v in [name_off, info, size_or_type] {
                self.types.extend_from_slice(&v.to_le_bytes());
            }
            self.count += 1;
            self.count
        }

        pub(crate) fn int(&mut self, name: &str, size: u32) -> u32 {
            let id = self.push(name, 1, 0, false, size);
            self.types.extend_from_slice(&(size * 8).to_le_bytes());
            id
        }

        pub(crate) fn ptr(&mut self, to: u32) -> u32 {
            self.push("", 2, 0, false, to)
        }

        pub(crate) fn typedef(&mut self, name: &str, to: u32) -> u32 {
            self.push(name, 8, 0, false, to)
        }

        pub(crate) fn fwd(&mut self, name: &str) -> u32 {
            self.push(name, 7, 0, false, 0)
        }

        /// A struct (or union) with members (name, type, bit offset); a
        /// bit-field width in the fourth place sets kind_flag.
        pub(crate) fn aggregate(
            &mut self,
            union: bool,
            name: &str,
            size: u32,
            members: &[(&str, u32, u32, u32)],
        ) -> u32 {
            let flag = members.iter().any(|m| m.3 != 0);
            let kind = if union { 5 } else { 4 };
            let id = self.push(name, kind, members.len() as u32, flag, size);
            for (member, type_id, offset, bits) in members {
                let name_off = self.name(member);
                let offset = if flag { (bits << 24) | offset } else { *offset };
                for v in [name_off, *type_id, offset] {
                    self.types.extend_from_slice(&v.to_le_bytes());
                }
            }
            id
        }

        pub(crate) fn func(&mut self, name: &str, params: &[(&str, u32)], ret: u32) -> u32 {
            let proto = self.push("", 13, params.len() as u32, false, ret);
            for (param, type_id) in params {
                let name_off = self.name(param);
                for v in [name_off, *type_id] {
                    self.types.extend_from_slice(&v.to_le_bytes());
                }
            }
            self.push(name, 12, 0, false, proto)
        }

        pub(crate) fn build(&self) -> Vec<u8> {
            let mut out = Vec::new();
            out.extend_from_slice(&0xeb9fu16.to_le_bytes());
            out.push(1);
            out.push(0);
            let header = [
                24u32,
                0,
                self.types.len() as u32,
                self.types.len() as u32,
                self.strings.len() as u32,
            ];
            for v in header {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&self.types);
            out.extend_from_slice(&self.strings);
            out
        }
    }

    fn sample() -> Vec<u8> {
        let mut b = Builder::new();
        let int = b.int("int", 4);
        let ushort = b.int("unsigned short", 2);
        let pid_t = b.typedef("pid_t", int);
        let umode_t = b.typedef("umode_t", ushort);
        let inner = b.aggregate(
            false,
            "",
            8,
            &[("pid", pid_t, 0, 0), ("tgid", pid_t, 32, 0)],
        );
        let wrap = b.aggregate(true, "", 8, &[("", inner, 0, 0)]);
        let flags = b.aggregate(
            false,
            "bits",
            4,
            &[
                ("low", int, 0, 3),
                ("high", int, 3, 5),
                ("mode", umode_t, 16, 0),
            ],
        );
        let task = b.aggregate(
            false,
            "task_struct",
            32,
            &[
                ("state", int, 0, 0),
                ("", wrap, 64, 0),
                ("flags", flags, 128, 0),
            ],
        );
        let task_ptr = b.ptr(task);
        b.func(
            "bpf_iter_task",
            &[("meta", task_ptr), ("task", task_ptr)],
            int,
        );
        b.fwd("file");
        b.build()
    }

    #[test]
    fn members_through_anonymous_unions_and_typedefs() {
        let bytes = sample();
        let btf = parse(&bytes).unwrap();
        assert_eq!(btf.type_count(), 12);
        let task = btf.find(Kind::Struct, "task_struct").unwrap();
        let tgid = btf.member(task, "tgid").unwrap();
        assert_eq!(tgid.bit_offset, 64 + 32);
        assert_eq!(btf.size_of(tgid.type_id), Some(4));
        assert_eq!(btf.name(tgid.type_id), Some(&b"pid_t"[..]));
        assert_eq!(btf.member(task, "pid").unwrap().bit_offset, 64);
        assert_eq!(btf.member(task, "missing"), None);
        let flags = btf.member(task, "flags").unwrap();
        let high = btf.member(flags.type_id, "high").unwrap();
        assert_eq!((high.bit_offset, high.bitfield_size), (3, 5));
        let mode = btf.member(flags.type_id, "mode").unwrap();
        assert_eq!((mode.bit_offset, btf.size_of(mode.type_id)), (16, Some(2)));
        assert_eq!(btf.size_of(task), Some(32));
        let func = btf.find(Kind::Func, "bpf_iter_task").unwrap();
        let params = btf.params(func).unwrap();
        assert_eq!(params.len(), 2);
        assert_eq!(params[1].0, b"task");
        assert_eq!(btf.pointee(params[1].1), Some(task));
        assert!(btf.find(Kind::Fwd, "file").is_some());
        assert!(btf.find(Kind::Struct, "file").is_none());
    }

    #[test]
    fn bad_blobs_are_errors() {
        assert_eq!(parse(&[]).unwrap_err(), BtfError::Truncated("header"));
        assert_eq!(
            parse(b"garbage, not BTF at all").unwrap_err(),
            BtfError::BadMagic(0x6167)
        );
        let mut bytes = sample();
        bytes[2] = 2;
        assert_eq!(parse(&bytes).unwrap_err(), BtfError::UnsupportedVersion(2));
        let bytes = sample();
        // cut inside the type section: the header's lengths no longer fit
        assert!(parse(&bytes[..40]).is_err());
        // an unknown kind in the first type
        let mut bytes = sample();
        bytes[24 + 7] = 0x1f;
        assert!(matches!(
            parse(&bytes).unwrap_err(),
            BtfError::UnknownKind { id: 1, kind: 0x1f }
        ));
    }

    /// Every prefix and many corruptions of a valid blob: no panic, and every
    /// lookup on what parses stays inside the buffer.
    #[test]
    fn no_panic_on_cut_or_corrupted_blobs() {
        let bytes = sample();
        let probe = |blob: &[u8]| {
            if let Ok(btf) = parse(blob) {
                for id in 0..btf.type_count() as u32 + 3 {
                    let _ = (btf.kind(id), btf.name(id), btf.size_of(id), btf.params(id));
                    let _ = (btf.member(id, "tgid"), btf.pointee(id), btf.resolve(id));
                }
                let _ = btf.find(Kind::Struct, "task_struct");
            }
        };
        for len in 0..bytes.len() {
            probe(&bytes[..len]);
        }
        let mut seed = 0x2545_f491_u32;
        for _ in 0..4000 {
            let mut blob = bytes.clone();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                let at = seed as usize % blob.len();
                blob[at] = (seed >> 24) as u8;
            }
            probe(&blob);
        }
    }

    /// clang's BTF for tests/fixtures/btf/layout.c against bpftool's dump of
    /// the same bytes (tests/fixtures/README.md says how both were
    /// recorded): every type's kind, name and size, and every named member.
    #[test]
    fn recorded_blob_reads_as_bpftool_reads_it() {
        let bytes = include_bytes!("../../tests/fixtures/btf/layout.btf");
        let dump = include_str!("../../tests/fixtures/btf/layout.bpftool.txt");
        let btf = parse(bytes).unwrap();
        let kinds = [
            ("INT", Kind::Int),
            ("PTR", Kind::Ptr),
            ("ARRAY", Kind::Array),
            ("STRUCT", Kind::Struct),
            ("UNION", Kind::Union),
            ("ENUM", Kind::Enum),
            ("FWD", Kind::Fwd),
            ("TYPEDEF", Kind::Typedef),
            ("VOLATILE", Kind::Volatile),
            ("CONST", Kind::Const),
            ("FUNC", Kind::Func),
            ("FUNC_PROTO", Kind::FuncProto),
            ("VAR", Kind::Var),
            ("DATASEC", Kind::Datasec),
        ];
        let field = |line: &str, key: &str| {
            line.split([' ', ','])
                .find_map(|w| w.strip_prefix(key))
                .map(|v| v.parse::<u64>().unwrap())
        };
        let (mut current, mut members, mut types) = (0u32, 0, 0);
        for line in dump.lines() {
            if let Some(rest) = line.strip_prefix('[') {
                let (id, rest) = rest.split_once("] ").unwrap();
                current = id.parse().unwrap();
                let kind = rest.split(' ').next().unwrap();
                let name = rest.split('\'').nth(1).unwrap();
                let name = if name == "(anon)" { "" } else { name };
                let expected = kinds.iter().find(|(k, _)| *k == kind).unwrap().1;
                assert_eq!(btf.kind(current), Some(expected), "kind of [{current}]");
                assert_eq!(
                    btf.name(current),
                    Some(name.as_bytes()),
                    "name of [{current}]"
                );
                if let Some(size) = field(line, "size=")
                    && expected != Kind::Datasec
                {
                    assert_eq!(
                        btf.size_of(current),
                        Some(size as u32),
                        "size of [{current}]"
                    );
                }
                types += 1;
            } else if let Some(rest) = line.strip_prefix('\t')
                && let Some(bits) = field(rest, "bits_offset=")
            {
                let name = rest.split('\'').nth(1).unwrap();
                if name == "(anon)" {
                    continue;
                }
                let member = btf.member(current, name).unwrap();
                assert_eq!(member.bit_offset, bits, "[{current}].{name}");
                assert_eq!(
                    u64::from(member.bitfield_size),
                    field(rest, "bitfield_size=").unwrap_or(0),
                    "[{current}].{name}"
                );
                assert_eq!(
                    u64::from(member.type_id),
                    field(rest, "type_id=").unwrap(),
                    "[{current}].{name}"
                );
                members += 1;
            }
        }
        assert_eq!(btf.type_count(), types);
        assert!(members > 20, "the dump's members were read: {members}");
        // through the anonymous union and struct, as C reads task->tgid
        let task = btf.find(Kind::Struct, "task_struct").unwrap();
        assert_eq!(btf.member(task, "tgid").unwrap().bit_offset, 64 + 32);
        let inode = btf.find(Kind::Struct, "inode").unwrap();
        let ino = btf.member(inode, "i_ino").unwrap();
        assert_eq!(
            btf.size_of(ino.type_id),
            Some(8),
            "through const volatile typedef"
        );
    }

    /// A typedef chain that loops (garbage) ends instead of recursing.
    #[test]
    fn looping_types_end() {
        let mut b = Builder::new();
        b.typedef("a", 2);
        b.typedef("b", 1);
        let s = b.aggregate(false, "s", 8, &[("", 4, 0, 0)]);
        b.aggregate(false, "t", 8, &[("", s, 0, 0)]);
        let bytes = b.build();
        let btf = parse(&bytes).unwrap();
        assert_eq!(btf.size_of(1), None);
        assert_eq!(btf.member(s, "x"), None);
    }

    /// A struct whose two anonymous members are itself took 2^32 steps to
    /// look a member up in (the `btf` fuzz target found it), and an array of
    /// itself recursed without end (found reading the same code).
    #[test]
    fn self_containing_types_end_quickly() {
        let mut b = Builder::new();
        let int = b.int("int", 4);
        let s = b.aggregate(
            false,
            "s",
            8,
            &[("", 2, 0, 0), ("", 2, 0, 0), ("x", int, 32, 0)],
        );
        let array = b.push("", 3, 0, false, 0);
        for v in [array, int, 4] {
            b.types.extend_from_slice(&v.to_le_bytes());
        }
        let bytes = b.build();
        // the same bytes as the fuzz regression input
        assert_eq!(
            bytes,
            include_bytes!("../../fuzz/regressions/btf/self-containing-struct-and-array")
        );
        let btf = parse(&bytes).unwrap();
        // (before the budget this call did not return)
        assert_eq!(btf.member(s, "y"), None);
        // the member after the loops is still found, at its own offset
        assert_eq!(btf.member(s, "x").map(|m| m.bit_offset), Some(32));
        assert_eq!(btf.size_of(array), None);
    }
}
