//! The socket health attributes of an inet_diag record: `INET_DIAG_INFO`
//! (`struct tcp_info`), `INET_DIAG_SKMEMINFO` and `INET_DIAG_CONG`.
//!
//! `struct tcp_info` has grown from 104 bytes (Linux 2.6) to 280 (6.18) by
//! appending members, and the kernel sends as many bytes as its own struct
//! holds. So the payload is kept as bytes and each member is read only
//! when the payload covers all of it: a shorter payload (an older kernel)
//! leaves the missing tail absent, a longer one (a newer kernel) has its
//! unknown tail ignored. Nothing here fails or panics on any input, and
//! reading a field costs a bounds check and a load (no copy, no
//! allocation), so the socket path stays cheap.
//!
//! Integers are in the host's byte order, as netlink carries them.

/// How a member is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    U8,
    U16,
    U32,
    U64,
    /// A C bit-field inside the byte at the field's offset: `bits` wide,
    /// starting `shift` bits above the least significant one on a
    /// little-endian host (C compilers allocate bit-fields from the other
    /// end of the byte on big-endian hosts; [`Width::Bits`] reads handle
    /// both).
    Bits {
        shift: u8,
        bits: u8,
    },
    /// A u64 kept as two u32 halves, the low one first (`tcp_bbr_info`'s
    /// `bbr_bw_lo` and `bbr_bw_hi`), so the same on every byte order.
    LoHi,
}

impl Width {
    /// Bytes of the payload the member needs (a bit-field needs its byte).
    pub const fn bytes(self) -> usize {
        match self {
            Width::U8 | Width::Bits { .. } => 1,
            Width::U16 => 2,
            Width::U32 => 4,
            Width::U64 | Width::LoHi => 8,
        }
    }
}

/// What a member's number counts, in the kernel's own units (nothing is
/// converted: JSON carries the kernel's numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A state, an enumeration, a flag set or a bit-field value.
    Code,
    /// Events or objects counted (DSACK blocks, rehash attempts, ...).
    Count,
    /// TCP segments (packets).
    Segments,
    Bytes,
    BytesPerSecond,
    Microseconds,
    Milliseconds,
    /// A fixed-point fraction: the value divided by 256 (BBR's gains).
    Per256,
    /// A fixed-point fraction: the value divided by 1024 (DCTCP's alpha).
    Per1024,
}

impl Unit {
    pub const fn name(self) -> &'static str {
        match self {
            Unit::Code => "code",
            Unit::Count => "count",
            Unit::Segments => "segments",
            Unit::Bytes => "bytes",
            Unit::BytesPerSecond => "bytes/s",
            Unit::Microseconds => "us",
            Unit::Milliseconds => "ms",
            Unit::Per256 => "1/256",
            Unit::Per1024 => "1/1024",
        }
    }
}

/// One member of `struct tcp_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The kernel's member name without `tcpi_` (the JSON name).
    pub name: &'static str,
    /// Byte offset in the struct.
    pub offset: u16,
    pub width: Width,
    pub unit: Unit,
}

impl Field {
    /// The payload length this member needs to be present.
    pub const fn end(self) -> usize {
        self.offset as usize + self.width.bytes()
    }
}

/// Declares every member as an associated constant of [`Field`] and, in
/// the same order, the table [`FIELDS`].
macro_rules! tcp_info_fields {
    ($($constant:ident $name:literal $offset:literal $width:expr, $unit:ident;)*) => {
        impl Field {
            $(pub const $constant: Field = Field {
                name: $name,
                offset: $offset,
                width: $width,
                unit: Unit::$unit,
            };)*
        }
        /// Every member of the running kernel's `struct tcp_info` (Linux
        /// 6.18, x86_64: `bpftool btf dump` of `/sys/kernel/btf/vmlinux`,
        /// checked against include/uapi/linux/tcp.h), in struct order. A
        /// data table, so long.
        pub const FIELDS: &[Field] = &[$(Field::$constant),*];
    };
}

use Width::{Bits, LoHi, U8, U16, U32, U64};

tcp_info_fields! {
    // Linux 2.6 (the 104-byte struct)
    STATE "state" 0 U8, Code;
    CA_STATE "ca_state" 1 U8, Code;
    RETRANSMITS "retransmits" 2 U8, Count;
    PROBES "probes" 3 U8, Count;
    BACKOFF "backoff" 4 U8, Count;
    OPTIONS "options" 5 U8, Code;
    SND_WSCALE "snd_wscale" 6 Bits { shift: 0, bits: 4 }, Code;
    RCV_WSCALE "rcv_wscale" 6 Bits { shift: 4, bits: 4 }, Code;
    // 4.9 and 5.5: bit-fields in what was padding, so no length change
    DELIVERY_RATE_APP_LIMITED "delivery_rate_app_limited" 7 Bits { shift: 0, bits: 1 }, Code;
    FASTOPEN_CLIENT_FAIL "fastopen_client_fail" 7 Bits { shift: 1, bits: 2 }, Code;
    RTO "rto" 8 U32, Microseconds;
    ATO "ato" 12 U32, Microseconds;
    SND_MSS "snd_mss" 16 U32, Bytes;
    RCV_MSS "rcv_mss" 20 U32, Bytes;
    UNACKED "unacked" 24 U32, Segments;
    SACKED "sacked" 28 U32, Segments;
    LOST "lost" 32 U32, Segments;
    RETRANS "retrans" 36 U32, Segments;
    FACKETS "fackets" 40 U32, Segments;
    LAST_DATA_SENT "last_data_sent" 44 U32, Milliseconds;
    LAST_ACK_SENT "last_ack_sent" 48 U32, Milliseconds;
    LAST_DATA_RECV "last_data_recv" 52 U32, Milliseconds;
    LAST_ACK_RECV "last_ack_recv" 56 U32, Milliseconds;
    PMTU "pmtu" 60 U32, Bytes;
    RCV_SSTHRESH "rcv_ssthresh" 64 U32, Bytes;
    RTT "rtt" 68 U32, Microseconds;
    RTTVAR "rttvar" 72 U32, Microseconds;
    SND_SSTHRESH "snd_ssthresh" 76 U32, Segments;
    SND_CWND "snd_cwnd" 80 U32, Segments;
    ADVMSS "advmss" 84 U32, Bytes;
    REORDERING "reordering" 88 U32, Segments;
    RCV_RTT "rcv_rtt" 92 U32, Microseconds;
    RCV_SPACE "rcv_space" 96 U32, Bytes;
    TOTAL_RETRANS "total_retrans" 100 U32, Segments;
    // 3.15: 120 bytes
    PACING_RATE "pacing_rate" 104 U64, BytesPerSecond;
    MAX_PACING_RATE "max_pacing_rate" 112 U64, BytesPerSecond;
    // 4.1: 136
    BYTES_ACKED "bytes_acked" 120 U64, Bytes;
    BYTES_RECEIVED "bytes_received" 128 U64, Bytes;
    // 4.2: 144
    SEGS_OUT "segs_out" 136 U32, Segments;
    SEGS_IN "segs_in" 140 U32, Segments;
    // 4.6: 160
    NOTSENT_BYTES "notsent_bytes" 144 U32, Bytes;
    MIN_RTT "min_rtt" 148 U32, Microseconds;
    DATA_SEGS_IN "data_segs_in" 152 U32, Segments;
    DATA_SEGS_OUT "data_segs_out" 156 U32, Segments;
    // 4.9: 168
    DELIVERY_RATE "delivery_rate" 160 U64, BytesPerSecond;
    // 4.10: 192
    BUSY_TIME "busy_time" 168 U64, Microseconds;
    RWND_LIMITED "rwnd_limited" 176 U64, Microseconds;
    SNDBUF_LIMITED "sndbuf_limited" 184 U64, Microseconds;
    // 4.18: 200
    DELIVERED "delivered" 192 U32, Segments;
    DELIVERED_CE "delivered_ce" 196 U32, Segments;
    // 4.19: 224
    BYTES_SENT "bytes_sent" 200 U64, Bytes;
    BYTES_RETRANS "bytes_retrans" 208 U64, Bytes;
    DSACK_DUPS "dsack_dups" 216 U32, Count;
    REORD_SEEN "reord_seen" 220 U32, Count;
    // 5.4: 232 (rcv_ooopack and snd_wnd; the struct is padded to 8 bytes)
    RCV_OOOPACK "rcv_ooopack" 224 U32, Segments;
    SND_WND "snd_wnd" 228 U32, Bytes;
    // 6.2: 240
    RCV_WND "rcv_wnd" 232 U32, Bytes;
    REHASH "rehash" 236 U32, Count;
    // 6.7: 248
    TOTAL_RTO "total_rto" 240 U16, Count;
    TOTAL_RTO_RECOVERIES "total_rto_recoveries" 242 U16, Count;
    TOTAL_RTO_TIME "total_rto_time" 244 U32, Milliseconds;
    // 6.18: 280 (AccECN). A change after 6.18 re-splits bytes 276..280
    // into the bit-fields ecn_mode, accecn_opt_seen, accecn_fail_mode and
    // options2; this table follows the running 6.18.
    RECEIVED_CE "received_ce" 248 U32, Segments;
    DELIVERED_E1_BYTES "delivered_e1_bytes" 252 U32, Bytes;
    DELIVERED_E0_BYTES "delivered_e0_bytes" 256 U32, Bytes;
    DELIVERED_CE_BYTES "delivered_ce_bytes" 260 U32, Bytes;
    RECEIVED_E1_BYTES "received_e1_bytes" 264 U32, Bytes;
    RECEIVED_E0_BYTES "received_e0_bytes" 268 U32, Bytes;
    RECEIVED_CE_BYTES "received_ce_bytes" 272 U32, Bytes;
    ACCECN_FAIL_MODE "accecn_fail_mode" 276 U16, Code;
    ACCECN_OPT_SEEN "accecn_opt_seen" 278 U16, Code;
}

/// `sizeof(struct tcp_info)` of the kernel [`FIELDS`] describes; a longer
/// payload's tail is not read.
pub const KNOWN_LEN: usize = 280;

/// `tcpi_options` bits (include/uapi/linux/tcp.h `TCPI_OPT_*`).
pub mod options {
    pub const TIMESTAMPS: u64 = 1;
    pub const SACK: u64 = 2;
    pub const WSCALE: u64 = 4;
    pub const ECN: u64 = 8;
    pub const ECN_SEEN: u64 = 16;
    pub const SYN_DATA: u64 = 32;
}

/// `field` of a payload, or `None` when the payload ends before the field
/// does.
fn read(payload: &[u8], field: Field) -> Option<u64> {
    let at = usize::from(field.offset);
    let bytes = payload.get(at..at + field.width.bytes())?;
    let u32_at =
        |i: usize| u32::from_ne_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    Some(match field.width {
        Width::U8 => u64::from(bytes[0]),
        Width::U16 => u64::from(u16::from_ne_bytes([bytes[0], bytes[1]])),
        Width::U32 => u64::from(u32_at(0)),
        Width::U64 => u64::from_ne_bytes(bytes.try_into().ok()?),
        Width::LoHi => u64::from(u32_at(4)) << 32 | u64::from(u32_at(0)),
        Width::Bits { shift, bits } => {
            let shift = if cfg!(target_endian = "little") {
                shift
            } else {
                8 - shift - bits
            };
            u64::from((bytes[0] >> shift) & ((1u8 << bits) - 1))
        }
    })
}

/// An `INET_DIAG_INFO` payload.
#[derive(Debug, Clone, Copy)]
pub struct TcpInfo<'a>(&'a [u8]);

impl<'a> TcpInfo<'a> {
    pub fn new(payload: &'a [u8]) -> Self {
        TcpInfo(payload)
    }

    /// The payload's length as the kernel sent it.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The member's value, or `None` when the payload ends before the
    /// member does (the kernel that sent it has no such member).
    pub fn get(&self, field: Field) -> Option<u64> {
        read(self.0, field)
    }

    /// The member's value, 0 when absent: how ss reads a short payload
    /// (it zero-fills the missing tail).
    pub fn get_or_zero(&self, field: Field) -> u64 {
        self.get(field).unwrap_or(0)
    }

    /// The members the payload holds, in struct order.
    pub fn present(&self) -> impl Iterator<Item = (Field, u64)> + 'a {
        let info = *self;
        FIELDS
            .iter()
            .map_while(move |&field| Some((field, info.get(field)?)))
    }

    /// The members the payload holds as (JSON name, value), in struct
    /// order.
    pub fn fields(&self) -> impl Iterator<Item = (&'static str, u64)> + 'a {
        self.present().map(|(field, value)| (field.name, value))
    }
}

/// The `SK_MEMINFO_*` slots of an `INET_DIAG_SKMEMINFO` payload (an array
/// of u32), in the kernel's order, named as the JSON `skmem` object names
/// them (the constants' names lowercased).
pub const SKMEM_NAMES: [&str; 9] = [
    "rmem_alloc",
    "rcvbuf",
    "wmem_alloc",
    "sndbuf",
    "fwd_alloc",
    "wmem_queued",
    "optmem",
    "backlog",
    "drops",
];

/// Indices into [`SkMemInfo`] (`SK_MEMINFO_*`).
pub mod skmem {
    pub const RMEM_ALLOC: usize = 0;
    pub const RCVBUF: usize = 1;
    pub const WMEM_ALLOC: usize = 2;
    pub const SNDBUF: usize = 3;
    pub const FWD_ALLOC: usize = 4;
    pub const WMEM_QUEUED: usize = 5;
    pub const OPTMEM: usize = 6;
    pub const BACKLOG: usize = 7;
    pub const DROPS: usize = 8;
}

/// An `INET_DIAG_SKMEMINFO` payload: as many whole u32 slots as it holds
/// (backlog came in 3.8's array, drops in 4.6's); slots past the ones
/// named in [`SKMEM_NAMES`] are ignored, a trailing partial slot too.
#[derive(Debug, Clone, Copy)]
pub struct SkMemInfo<'a>(&'a [u8]);

impl<'a> SkMemInfo<'a> {
    pub fn new(payload: &'a [u8]) -> Self {
        SkMemInfo(payload)
    }

    /// Whole slots in the payload (including any beyond the known ones).
    pub fn len(&self) -> usize {
        self.0.len() / 4
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Slot `index` (see [`skmem`]), `None` when the payload ends first.
    pub fn get(&self, index: usize) -> Option<u32> {
        let at = index.checked_mul(4)?;
        let bytes = self.0.get(at..at.checked_add(4)?)?;
        Some(u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    /// The known slots the payload holds as (JSON name, value).
    pub fn fields(&self) -> impl Iterator<Item = (&'static str, u32)> + 'a {
        let info = *self;
        SKMEM_NAMES
            .iter()
            .enumerate()
            .map_while(move |(index, &name)| Some((name, info.get(index)?)))
    }
}

/// The struct an algorithm's own detail comes in: the attribute the
/// kernel's `get_info` chose (Vegas' struct is also what Westwood and
/// Illinois fill, with their own RTT measures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CcKind {
    /// `INET_DIAG_VEGASINFO`, `struct tcpvegas_info`.
    Vegas,
    /// `INET_DIAG_DCTCPINFO`, `struct tcp_dctcp_info`.
    Dctcp,
    /// `INET_DIAG_BBRINFO`, `struct tcp_bbr_info`.
    Bbr,
}

impl CcKind {
    /// The kind of an inet_diag attribute type, if it is one of these.
    pub const fn of_attribute(kind: u16) -> Option<CcKind> {
        match kind {
            3 => Some(CcKind::Vegas),
            9 => Some(CcKind::Dctcp),
            16 => Some(CcKind::Bbr),
            _ => None,
        }
    }

    /// The JSON object's name: the struct's, without `tcp`.
    pub const fn json_name(self) -> &'static str {
        match self {
            CcKind::Vegas => "vegas_info",
            CcKind::Dctcp => "dctcp_info",
            CcKind::Bbr => "bbr_info",
        }
    }

    /// The struct's members, in order.
    pub const fn fields(self) -> &'static [Field] {
        match self {
            CcKind::Vegas => VEGAS_FIELDS,
            CcKind::Dctcp => DCTCP_FIELDS,
            CcKind::Bbr => BBR_FIELDS,
        }
    }
}

/// Declares a congestion control struct's members as constants of
/// [`Field`] and the table `$table` of them in struct order.
macro_rules! cc_fields {
    ($table:ident: $($constant:ident $name:literal $offset:literal $width:expr, $unit:ident;)*) => {
        impl Field {
            $(pub const $constant: Field = Field {
                name: $name,
                offset: $offset,
                width: $width,
                unit: Unit::$unit,
            };)*
        }
        pub const $table: &[Field] = &[$(Field::$constant),*];
    };
}

// include/uapi/linux/inet_diag.h, unchanged since each struct came (Vegas
// 2.6.13, DCTCP 3.18, BBR 4.9); the names drop the tcpv_, dctcp_ and bbr_
// prefixes, and BBR's bw halves are one member.
cc_fields! { VEGAS_FIELDS:
    VEGAS_ENABLED "enabled" 0 U32, Code;
    VEGAS_RTTCNT "rttcnt" 4 U32, Count;
    VEGAS_RTT "rtt" 8 U32, Microseconds;
    VEGAS_MINRTT "minrtt" 12 U32, Microseconds;
}
cc_fields! { DCTCP_FIELDS:
    DCTCP_ENABLED "enabled" 0 U16, Code;
    DCTCP_CE_STATE "ce_state" 2 U16, Code;
    DCTCP_ALPHA "alpha" 4 U32, Per1024;
    DCTCP_AB_ECN "ab_ecn" 8 U32, Bytes;
    DCTCP_AB_TOT "ab_tot" 12 U32, Bytes;
}
cc_fields! { BBR_FIELDS:
    BBR_BW "bw" 0 LoHi, BytesPerSecond;
    BBR_MIN_RTT "min_rtt" 8 U32, Microseconds;
    BBR_PACING_GAIN "pacing_gain" 12 U32, Per256;
    BBR_CWND_GAIN "cwnd_gain" 16 U32, Per256;
}

/// A congestion control's own detail (`INET_DIAG_VEGASINFO`,
/// `INET_DIAG_DCTCPINFO` or `INET_DIAG_BBRINFO`), read like [`TcpInfo`]:
/// a member is present only when the payload covers it.
#[derive(Debug, Clone, Copy)]
pub struct CcInfo<'a> {
    pub kind: CcKind,
    payload: &'a [u8],
}

impl<'a> CcInfo<'a> {
    /// The detail in an attribute of type `kind`; `None` for another type.
    pub fn new(kind: u16, payload: &'a [u8]) -> Option<Self> {
        Some(CcInfo {
            kind: CcKind::of_attribute(kind)?,
            payload,
        })
    }

    /// The member's value; `None` past the payload's end.
    pub fn get(&self, field: Field) -> Option<u64> {
        read(self.payload, field)
    }

    /// The member's value, 0 when absent (ss zero-fills a short struct).
    pub fn get_or_zero(&self, field: Field) -> u64 {
        self.get(field).unwrap_or(0)
    }

    /// The members the payload holds as (JSON name, value), in struct
    /// order.
    pub fn fields(&self) -> impl Iterator<Item = (&'static str, u64)> + 'a {
        let info = *self;
        self.kind
            .fields()
            .iter()
            .map_while(move |&field| Some((field.name, info.get(field)?)))
    }
}

/// The congestion control name in an `INET_DIAG_CONG` payload: up to the
/// first NUL (the kernel sends a NUL-terminated string); bytes kept as
/// they are, valid UTF-8 or not.
pub fn cong_name(payload: &[u8]) -> &[u8] {
    let end = payload
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(payload.len());
    &payload[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length `sizeof(struct tcp_info)` has had, with the release
    /// that brought it (include/uapi/linux/tcp.h history; the struct is
    /// padded to 8 bytes once it holds a u64) and the last member it ends
    /// with.
    const HISTORY: [(usize, &str, &str); 12] = [
        (104, "2.6.x", "total_retrans"),
        (120, "3.15", "max_pacing_rate"),
        (136, "4.1", "bytes_received"),
        (144, "4.2", "segs_in"),
        (160, "4.6", "data_segs_out"),
        (168, "4.9", "delivery_rate"),
        (192, "4.10", "sndbuf_limited"),
        (200, "4.18", "delivered_ce"),
        (224, "4.19", "reord_seen"),
        (232, "5.4", "snd_wnd"),
        (240, "6.2", "rehash"),
        (248, "6.7", "total_rto_time"),
    ];

    /// A payload of `len` bytes whose every byte is its offset's low byte
    /// plus one, so each member reads a distinct, non-zero value.
    fn numbered(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i as u8).wrapping_add(1)).collect()
    }

    #[test]
    fn the_table_tiles_the_struct() {
        // no gaps or overlaps except the bit-fields sharing a byte, and
        // it ends at the known length
        let mut end = 0;
        for pair in FIELDS.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            let shared = a.offset == b.offset && matches!(b.width, Width::Bits { .. });
            assert!(
                shared || usize::from(b.offset) == a.end(),
                "{} then {}",
                a.name,
                b.name
            );
            // members are naturally aligned, as in C
            assert_eq!(usize::from(b.offset) % b.width.bytes(), 0, "{}", b.name);
            end = b.end();
        }
        assert_eq!(end, KNOWN_LEN);
        assert_eq!(FIELDS.len(), 70);
        let mut names: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FIELDS.len());
    }

    #[test]
    fn each_historical_length_holds_exactly_its_members() {
        for (len, version, last) in
            HISTORY
                .iter()
                .copied()
                .chain([(KNOWN_LEN, "6.18", "accecn_opt_seen")])
        {
            let payload = numbered(len);
            let info = TcpInfo::new(&payload);
            let present: Vec<&str> = info.fields().map(|(name, _)| name).collect();
            assert_eq!(present.last(), Some(&last), "Linux {version}: {len} bytes");
            let expected = FIELDS.iter().filter(|f| f.end() <= len).count();
            assert_eq!(present.len(), expected, "Linux {version}");
            for field in FIELDS {
                assert_eq!(
                    info.get(*field).is_some(),
                    field.end() <= len,
                    "{}",
                    field.name
                );
            }
            // a member ends exactly at the length (up to 8-byte padding)
            let last_end = FIELDS.iter().find(|f| f.name == last).unwrap().end();
            assert!(len - last_end < 8, "Linux {version}");
        }
    }

    #[test]
    fn values_are_read_in_host_order_at_their_offsets() {
        let payload = numbered(KNOWN_LEN);
        let info = TcpInfo::new(&payload);
        let bytes = |at: usize, width: usize| payload[at..at + width].to_vec();
        assert_eq!(info.get(Field::STATE), Some(1));
        let rtt = u32::from_ne_bytes(bytes(68, 4).try_into().unwrap());
        assert_eq!(info.get(Field::RTT), Some(u64::from(rtt)));
        let acked = u64::from_ne_bytes(bytes(120, 8).try_into().unwrap());
        assert_eq!(info.get(Field::BYTES_ACKED), Some(acked));
        let rto = u16::from_ne_bytes(bytes(240, 2).try_into().unwrap());
        assert_eq!(info.get(Field::TOTAL_RTO), Some(u64::from(rto)));
    }

    /// The table against the running kernel's own description of the
    /// struct (its BTF), when it has one: every member it shares with the
    /// table sits at the same offset with the same width. An older kernel
    /// lacks the newer members; a newer one that re-split bytes 276..280
    /// into bit-fields, or grew the struct, is reported, not failed.
    #[test]
    fn the_table_matches_the_running_kernels_btf() {
        use crate::collect::btf::{self, Kind};
        let Ok(bytes) = std::fs::read("/sys/kernel/btf/vmlinux") else {
            eprintln!("SKIPPED: no /sys/kernel/btf/vmlinux to check the table against");
            return;
        };
        let types = btf::parse(&bytes).unwrap();
        let Some(id) = types.find(Kind::Struct, "tcp_info") else {
            eprintln!("SKIPPED: the kernel's BTF has no struct tcp_info");
            return;
        };
        let size = types.size_of(id).unwrap_or(0) as usize;
        if size != KNOWN_LEN {
            eprintln!("the running kernel's tcp_info is {size} bytes, the table's {KNOWN_LEN}");
        }
        let mut checked = 0;
        for field in FIELDS {
            let Some(member) = types.member(id, &format!("tcpi_{}", field.name)) else {
                continue;
            };
            let resplit = field.offset >= 276 && member.bitfield_size != 0;
            if resplit {
                continue;
            }
            checked += 1;
            match field.width {
                Width::Bits { shift, bits } => {
                    assert_eq!(member.bitfield_size, u32::from(bits), "{}", field.name);
                    let bit = u64::from(field.offset) * 8 + u64::from(shift);
                    assert_eq!(member.bit_offset, bit, "{}", field.name);
                }
                width => {
                    assert_eq!(member.bitfield_size, 0, "{}", field.name);
                    let bit = u64::from(field.offset) * 8;
                    assert_eq!(member.bit_offset, bit, "{}", field.name);
                    let size = types.size_of(member.type_id);
                    assert_eq!(size, Some(width.bytes() as u32), "{}", field.name);
                }
            }
        }
        // 2.6's members at least
        assert!(checked >= 34, "{checked}");
    }

    #[test]
    fn a_member_straddling_the_end_is_absent() {
        // bytes_acked is 120..128: 127 bytes cut it
        let payload = numbered(127);
        let info = TcpInfo::new(&payload);
        assert_eq!(info.get(Field::BYTES_ACKED), None);
        assert!(info.get(Field::MAX_PACING_RATE).is_some());
        assert_eq!(info.fields().last().unwrap().0, "max_pacing_rate");
        assert_eq!(info.get_or_zero(Field::BYTES_ACKED), 0);
        // one byte short of a u32 member
        let payload = numbered(71);
        assert_eq!(TcpInfo::new(&payload).get(Field::RTT), None);
    }

    #[test]
    fn a_longer_payload_has_its_tail_ignored() {
        let mut payload = numbered(KNOWN_LEN);
        payload.extend_from_slice(&[0xee; 40]);
        let info = TcpInfo::new(&payload);
        assert_eq!(info.fields().count(), FIELDS.len());
        let short = numbered(KNOWN_LEN);
        assert!(info.fields().eq(TcpInfo::new(&short).fields()));
    }

    #[test]
    fn an_empty_payload_has_no_member() {
        let info = TcpInfo::new(&[]);
        assert!(info.is_empty());
        assert_eq!(info.fields().count(), 0);
        assert!(FIELDS.iter().all(|f| info.get(*f).is_none()));
    }

    #[test]
    fn bit_fields() {
        let mut payload = vec![0u8; 104];
        // snd_wscale 7, rcv_wscale 9; app_limited and client_fail 2
        #[cfg(target_endian = "little")]
        {
            payload[6] = 0x97;
            payload[7] = 0b101;
        }
        #[cfg(target_endian = "big")]
        {
            payload[6] = 0x79;
            payload[7] = 0b1100_0000;
        }
        let info = TcpInfo::new(&payload);
        assert_eq!(info.get(Field::SND_WSCALE), Some(7));
        assert_eq!(info.get(Field::RCV_WSCALE), Some(9));
        assert_eq!(info.get(Field::DELIVERY_RATE_APP_LIMITED), Some(1));
        assert_eq!(info.get(Field::FASTOPEN_CLIENT_FAIL), Some(2));
        // the bit-field byte alone is enough for them
        let seven = &payload[..8];
        assert_eq!(
            TcpInfo::new(seven).get(Field::FASTOPEN_CLIENT_FAIL),
            Some(2)
        );
        assert_eq!(
            TcpInfo::new(&payload[..7]).get(Field::DELIVERY_RATE_APP_LIMITED),
            None
        );
    }

    #[test]
    fn skmeminfo_holds_what_the_payload_holds() {
        let values: Vec<u8> = (1u32..=9).flat_map(|v| (v * 100).to_ne_bytes()).collect();
        let all = SkMemInfo::new(&values);
        assert_eq!(all.len(), 9);
        assert_eq!(all.get(skmem::DROPS), Some(900));
        assert_eq!(all.get(skmem::RCVBUF), Some(200));
        let names: Vec<&str> = all.fields().map(|(n, _)| n).collect();
        assert_eq!(names, SKMEM_NAMES);
        // an older kernel's 8 slots (no drops), with a partial ninth
        let older = SkMemInfo::new(&values[..34]);
        assert_eq!(older.len(), 8);
        assert_eq!(older.get(skmem::DROPS), None);
        assert_eq!(older.fields().last(), Some(("backlog", 800)));
        // slots beyond the known ones are ignored
        let mut longer = values.clone();
        longer.extend_from_slice(&7u32.to_ne_bytes());
        assert_eq!(SkMemInfo::new(&longer).fields().count(), 9);
        assert_eq!(SkMemInfo::new(&[]).fields().count(), 0);
        assert_eq!(SkMemInfo::new(&values).get(usize::MAX), None);
    }

    #[test]
    fn cong_name_stops_at_nul_and_keeps_bytes() {
        assert_eq!(cong_name(b"cubic\0"), b"cubic");
        assert_eq!(cong_name(b"bbr"), b"bbr");
        assert_eq!(cong_name(b"\0junk"), b"");
        assert_eq!(cong_name(b"\xffx\0y"), b"\xffx");
        assert_eq!(cong_name(b""), b"");
    }

    #[test]
    fn cc_structs_tile_and_read_any_length() {
        // the uapi sizes: tcpvegas_info 16, tcp_dctcp_info 16, tcp_bbr_info 20
        for (kind, size) in [(3, 16), (9, 16), (16, 20)] {
            let kind = CcKind::of_attribute(kind).unwrap();
            let fields = kind.fields();
            let mut end = 0;
            for field in fields {
                assert_eq!(usize::from(field.offset), end, "{}", field.name);
                end = field.end();
            }
            assert_eq!(end, size, "{}", kind.json_name());
            // every prefix of the struct: the members it covers, in order
            let payload = numbered(size + 5);
            for len in 0..=payload.len() {
                let cc = CcInfo::new(kind_attribute(kind), &payload[..len]).unwrap();
                let covered = fields.iter().filter(|f| f.end() <= len).count();
                assert_eq!(cc.fields().count(), covered, "{len}");
            }
        }
        assert!(CcKind::of_attribute(0).is_none());
        assert!(CcKind::of_attribute(2).is_none());
    }

    fn kind_attribute(kind: CcKind) -> u16 {
        match kind {
            CcKind::Vegas => 3,
            CcKind::Dctcp => 9,
            CcKind::Bbr => 16,
        }
    }

    #[test]
    fn bbr_bandwidth_joins_its_halves_low_first() {
        let payload: Vec<u8> = [7u32, 2, 12, 256, 0]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect();
        let bbr = CcInfo::new(16, &payload).unwrap();
        assert_eq!(bbr.get(Field::BBR_BW), Some((2 << 32) + 7));
        assert_eq!(bbr.get(Field::BBR_MIN_RTT), Some(12));
        assert_eq!(bbr.get(Field::BBR_PACING_GAIN), Some(256));
        // half a bandwidth is no bandwidth
        let short = CcInfo::new(16, &payload[..4]).unwrap();
        assert_eq!(short.get(Field::BBR_BW), None);
        assert_eq!(short.get_or_zero(Field::BBR_BW), 0);
        // DCTCP's u16 pair
        let dctcp = [1u8, 0, 3, 0];
        let dctcp = CcInfo::new(9, &dctcp).unwrap();
        let u16_of = |b: [u8; 2]| u64::from(u16::from_ne_bytes(b));
        assert_eq!(dctcp.get(Field::DCTCP_ENABLED), Some(u16_of([1, 0])));
        assert_eq!(dctcp.get(Field::DCTCP_CE_STATE), Some(u16_of([3, 0])));
        assert_eq!(dctcp.get(Field::DCTCP_ALPHA), None);
    }
}
