//! netstat's sentence tables for `-s`, in the exact order net-tools 2.10
//! declares them. The order matters: netstat finds a key with a binary
//! search over these arrays, and a few of them are not sorted the way
//! `strcmp` sorts (`Forwarding` before `ForwDatagrams`, `TW` after
//! `TWKilled`...), so some keys are never found and print as unknown.
//! The text was read from the installed /usr/bin/netstat's tables.

/// How a counter is printed (netstat's `enum State`), which also sets the
/// indentation of the next unknown key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Always printed.
    Number,
    /// Printed only when non-zero.
    OptNumber,
    /// `Forwarding is enabled/disabled` (never reached: it is a static
    /// entry and netstat does not print those).
    Forwarding,
    /// A line of the ICMP input histogram (non-zero only).
    IcmpIn,
    /// A line of the ICMP output histogram (non-zero only).
    IcmpOut,
    /// `RTO algorithm is ...` (static, never printed).
    RtoAlgorithm,
}

impl Kind {
    /// Spaces before a line printed in this state.
    pub fn indent(self) -> usize {
        match self {
            Kind::Number | Kind::OptNumber | Kind::Forwarding => 4,
            Kind::IcmpIn | Kind::IcmpOut => 8,
            // netstat's state table has no entry for it: zero.
            Kind::RtoAlgorithm => 0,
        }
    }

    /// The sub-heading a histogram starts with.
    pub fn title(self) -> Option<&'static str> {
        match self {
            Kind::IcmpIn => Some("ICMP input histogram:"),
            Kind::IcmpOut => Some("ICMP output histogram:"),
            _ => None,
        }
    }
}

/// One known counter: its /proc key, netstat's sentence (with `%llu` or
/// `%s` where the value goes; empty means never printed), and how.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub key: &'static str,
    pub text: &'static str,
    pub kind: Kind,
    /// A configuration value rather than a counter; netstat skips these.
    pub fixed: bool,
}

impl Entry {
    const fn new(key: &'static str, text: &'static str, kind: Kind, fixed: bool) -> Self {
        Entry {
            key,
            text,
            kind,
            fixed,
        }
    }
}

/// glibc's `bsearch` with `strcmp`, step for step, so that keys the
/// unsorted tables hide stay hidden.
pub fn lookup<'t>(table: &'t [Entry], key: &[u8]) -> Option<&'t Entry> {
    let (mut low, mut high) = (0usize, table.len());
    while low < high {
        let middle = (low + high) / 2;
        match key.cmp(table[middle].key.as_bytes()) {
            std::cmp::Ordering::Less => high = middle,
            std::cmp::Ordering::Greater => low = middle + 1,
            std::cmp::Ordering::Equal => return Some(&table[middle]),
        }
    }
    None
}

pub const IP: &[Entry] = &[
    Entry::new("DefaultTTL", "Default TTL is %llu", Kind::Number, true),
    Entry::new("Forwarding", "Forwarding is %s", Kind::Forwarding, true),
    Entry::new("ForwDatagrams", "%llu forwarded", Kind::Number, false),
    Entry::new(
        "FragCreates",
        "%llu fragments created",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "FragFails",
        "%llu outgoing packets failed fragmentation",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "FragOKs",
        "%llu outgoing packets fragmented ok",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "InAddrErrors",
        "%llu with invalid addresses",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "InDelivers",
        "%llu incoming packets delivered",
        Kind::Number,
        false,
    ),
    Entry::new(
        "InDiscards",
        "%llu incoming packets discarded",
        Kind::Number,
        false,
    ),
    Entry::new(
        "InHdrErrors",
        "%llu with invalid headers",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "InReceives",
        "%llu total packets received",
        Kind::Number,
        false,
    ),
    Entry::new(
        "InUnknownProtos",
        "%llu with unknown protocol",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "OutDiscards",
        "%llu outgoing packets dropped",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "OutNoRoutes",
        "%llu dropped because of missing route",
        Kind::OptNumber,
        false,
    ),
    Entry::new("OutRequests", "%llu requests sent out", Kind::Number, false),
    Entry::new(
        "ReasmFails",
        "%llu packet reassemblies failed",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "ReasmOKs",
        "%llu packets reassembled ok",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "ReasmReqds",
        "%llu reassemblies required",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "ReasmTimeout",
        "%llu fragments dropped after timeout",
        Kind::OptNumber,
        false,
    ),
];

pub const ICMP: &[Entry] = &[
    Entry::new(
        "InAddrMaskReps",
        "address mask replies: %llu",
        Kind::IcmpIn,
        false,
    ),
    Entry::new(
        "InAddrMasks",
        "address mask request: %llu",
        Kind::IcmpIn,
        false,
    ),
    Entry::new(
        "InDestUnreachs",
        "destination unreachable: %llu",
        Kind::IcmpIn,
        false,
    ),
    Entry::new("InEchoReps", "echo replies: %llu", Kind::IcmpIn, false),
    Entry::new("InEchos", "echo requests: %llu", Kind::IcmpIn, false),
    Entry::new(
        "InErrors",
        "%llu input ICMP message failed",
        Kind::Number,
        false,
    ),
    Entry::new("InMsgs", "%llu ICMP messages received", Kind::Number, false),
    Entry::new("InParmProbs", "wrong parameters: %llu", Kind::IcmpIn, false),
    Entry::new("InRedirects", "redirects: %llu", Kind::IcmpIn, false),
    Entry::new("InSrcQuenchs", "source quenches: %llu", Kind::IcmpIn, false),
    Entry::new(
        "InTimeExcds",
        "timeout in transit: %llu",
        Kind::IcmpIn,
        false,
    ),
    Entry::new(
        "InTimestampReps",
        "timestamp reply: %llu",
        Kind::IcmpIn,
        false,
    ),
    Entry::new(
        "InTimestamps",
        "timestamp request: %llu",
        Kind::IcmpIn,
        false,
    ),
    Entry::new(
        "OutAddrMaskReps",
        "address mask replies: %llu",
        Kind::IcmpOut,
        false,
    ),
    Entry::new(
        "OutAddrMasks",
        "address mask requests: %llu",
        Kind::IcmpOut,
        false,
    ),
    Entry::new(
        "OutDestUnreachs",
        "destination unreachable: %llu",
        Kind::IcmpOut,
        false,
    ),
    Entry::new("OutEchoReps", "echo replies: %llu", Kind::IcmpOut, false),
    Entry::new("OutEchos", "echo requests: %llu", Kind::IcmpOut, false),
    Entry::new(
        "OutErrors",
        "%llu ICMP messages failed",
        Kind::Number,
        false,
    ),
    Entry::new("OutMsgs", "%llu ICMP messages sent", Kind::Number, false),
    Entry::new(
        "OutParmProbs",
        "wrong parameters: %llu",
        Kind::IcmpOut,
        false,
    ),
    Entry::new("OutRedirects", "redirect: %llu", Kind::IcmpOut, false),
    Entry::new("OutSrcQuenchs", "source quench: %llu", Kind::IcmpOut, false),
    Entry::new("OutTimeExcds", "time exceeded: %llu", Kind::IcmpOut, false),
    Entry::new(
        "OutTimestampReps",
        "timestamp replies: %llu",
        Kind::IcmpOut,
        false,
    ),
    Entry::new(
        "OutTimestamps",
        "timestamp requests: %llu",
        Kind::IcmpOut,
        false,
    ),
];

pub const TCP: &[Entry] = &[
    Entry::new(
        "ActiveOpens",
        "%llu active connection openings",
        Kind::Number,
        false,
    ),
    Entry::new(
        "AttemptFails",
        "%llu failed connection attempts",
        Kind::Number,
        false,
    ),
    Entry::new(
        "CurrEstab",
        "%llu connections established",
        Kind::Number,
        false,
    ),
    Entry::new(
        "EstabResets",
        "%llu connection resets received",
        Kind::Number,
        false,
    ),
    Entry::new("InErrs", "%llu bad segments received", Kind::Number, false),
    Entry::new("InSegs", "%llu segments received", Kind::Number, false),
    Entry::new("MaxConn", "", Kind::Number, false),
    Entry::new("OutRsts", "%llu resets sent", Kind::Number, false),
    Entry::new("OutSegs", "%llu segments sent out", Kind::Number, false),
    Entry::new(
        "PassiveOpens",
        "%llu passive connection openings",
        Kind::Number,
        false,
    ),
    Entry::new(
        "RetransSegs",
        "%llu segments retransmitted",
        Kind::Number,
        false,
    ),
    Entry::new(
        "RtoAlgorithm",
        "RTO algorithm is %s",
        Kind::RtoAlgorithm,
        true,
    ),
    Entry::new("RtoMax", "", Kind::Number, false),
    Entry::new("RtoMin", "", Kind::Number, false),
];

pub const UDP: &[Entry] = &[
    Entry::new("InDatagrams", "%llu packets received", Kind::Number, false),
    Entry::new(
        "InErrors",
        "%llu packet receive errors",
        Kind::Number,
        false,
    ),
    Entry::new(
        "NoPorts",
        "%llu packets to unknown port received",
        Kind::Number,
        false,
    ),
    Entry::new("OutDatagrams", "%llu packets sent", Kind::Number, false),
    Entry::new(
        "RcvbufErrors",
        "%llu receive buffer errors",
        Kind::Number,
        false,
    ),
    Entry::new(
        "SndbufErrors",
        "%llu send buffer errors",
        Kind::Number,
        false,
    ),
];

pub const SCTP: &[Entry] = &[
    Entry::new(
        "SctpAborteds",
        "%llu Number of Aborteds ",
        Kind::Number,
        false,
    ),
    Entry::new(
        "SctpActiveEstabs",
        "%llu Active Associations",
        Kind::Number,
        false,
    ),
    Entry::new(
        "SctpChecksumErrors",
        "%llu Number of Packets with invalid Checksum",
        Kind::Number,
        false,
    ),
    Entry::new(
        "SctpCurrEstab",
        "%llu Current Associations",
        Kind::Number,
        false,
    ),
    Entry::new(
        "SctpFragUsrMsgs",
        "%llu Number of messages fragmented",
        Kind::Number,
        false,
    ),
    Entry::new(
        "SctpInCtrlChunks",
        "%llu Number of control chunks received",
        Kind::Number,
        false,
    ),
    Entry::new(
        "SctpInOrderChunks",
        "%llu Number of ordered chunks received",
        Kind::Number,
        false,
    ),
    Entry::new(
        "SctpInSCTPPacks",
        "%llu Number of SCTP packets received",
        Kind::Number,
        false,
    ),
    Entry::new(
        "SctpInUnorderChunks",
        "%llu Number of Unordered chunks received",
        Kind::Number,
        false,
    ),
    Entry::new(
        "SctpOutCtrlChunks",
        "%llu Number of control chunks sent",
        Kind::Number,
        false,
    ),
    Entry::new(
        "SctpOutOfBlues",
        "%llu Number of Out of Blue packets",
        Kind::Number,
        false,
    ),
    Entry::new(
        "SctpOutOrderChunks",
        "%llu Number of ordered chunks sent",
        Kind::Number,
        false,
    ),
    Entry::new(
        "SctpOutSCTPPacks",
        "%llu Number of SCTP packets sent",
        Kind::Number,
        false,
    ),
    Entry::new(
        "SctpOutUnorderChunks",
        "%llu Number of Unordered chunks sent",
        Kind::Number,
        false,
    ),
    Entry::new(
        "SctpPassiveEstabs",
        "%llu Passive Associations",
        Kind::Number,
        false,
    ),
    Entry::new(
        "SctpReasmUsrMsgs",
        "%llu Number of messages reassembled ",
        Kind::Number,
        false,
    ),
    Entry::new(
        "SctpShutdowns",
        "%llu Number of Graceful Terminations",
        Kind::Number,
        false,
    ),
];

pub const TCP_EXT: &[Entry] = &[
    Entry::new(
        "DelayedACKLocked",
        "%llu delayed acks further delayed because of locked socket",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "DelayedACKLost",
        "Quick ack mode was activated %llu times",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "DelayedACKs",
        "%llu delayed acks sent",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "EmbryonicRsts",
        "%llu resets received for embryonic SYN_RECV sockets",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "ListenDrops",
        "%llu SYNs to LISTEN sockets dropped",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "ListenOverflows",
        "%llu times the listen queue of a socket overflowed",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "LockDroppedIcmps",
        "%llu ICMP packets dropped because socket was locked",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "OfoPruned",
        "%llu packets dropped from out-of-order queue because of socket buffer overrun",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "OutOfWindowIcmps",
        "%llu ICMP packets dropped because they were out-of-window",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "PAWSActive",
        "%llu active connections rejected because of time stamp",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "PAWSEstab",
        "%llu packets rejected in established connections because of timestamp",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "PAWSPassive",
        "%llu passive connections rejected because of time stamp",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "PruneCalled",
        "%llu packets pruned from receive queue because of socket buffer overrun",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "RcvPruned",
        "%llu packets pruned from receive queue",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "SockMallocOOM",
        "Ran %llu times out of system memory during packet sending",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "SyncookiesFailed",
        "%llu invalid SYN cookies received",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "SyncookiesRecv",
        "%llu SYN cookies received",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "SyncookiesSent",
        "%llu SYN cookies sent",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPAbortFailed",
        "%llu times unable to send RST due to no memory",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPAbortOnClose",
        "%llu connections reset due to early user close",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPAbortOnData",
        "%llu connections reset due to unexpected data",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPAbortOnLinger",
        "%llu connections aborted after user close in linger timeout",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPAbortOnMemory",
        "%llu connections aborted due to memory pressure",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPAbortOnSyn",
        "%llu connections reset due to unexpected SYN",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPAbortOnTimeout",
        "%llu connections aborted due to timeout",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPDirectCopyFromBacklog",
        "%llu bytes directly in process context from backlog",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPDirectCopyFromPrequeue",
        "%llu bytes directly received in process context from prequeue",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPDSACKOfoRecv",
        "%llu DSACKs for out of order packets received",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPDSACKOfoSent",
        "%llu DSACKs sent for out of order packets",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPDSACKOldSent",
        "%llu DSACKs sent for old packets",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPDSACKRecv",
        "%llu DSACKs received",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPDSackUndo",
        "%llu congestion window recovered without slow start using DSACK",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPDSACKUndo",
        "%llu congestion windows recovered without slow start by DSACK",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPFACKReorder",
        "Detected reordering %llu times using FACK",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPFastRetrans",
        "%llu fast retransmits",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPForwardRetrans",
        "%llu forward retransmits",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPFullUndo",
        "%llu congestion windows fully recovered without slow start",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPHPAcks",
        "%llu predicted acknowledgments",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPHPHits",
        "%llu packet headers predicted",
        Kind::Number,
        false,
    ),
    Entry::new(
        "TCPHPHitsToUser",
        "%llu packet headers predicted and directly queued to user",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPLossFailures",
        "%llu timeouts in loss state",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPLoss",
        "%llu TCP data loss events",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPLossUndo",
        "%llu congestion windows recovered without slow start after partial ack",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPLostRetransmits",
        "%llu retransmits lost",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPMemoryPressures",
        "TCP ran low on memory %llu times",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPPartialUndo",
        "%llu congestion windows partially recovered using Hoe heuristic",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPPrequeued",
        "%llu packets directly queued to recvmsg prequeue",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPPrequeueDropped",
        "%llu packets dropped from prequeue",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPPureAcks",
        "%llu acknowledgments not containing data payload received",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPRcvCollapsed",
        "%llu packets collapsed in receive queue due to low socket buffer",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPRenoFailures",
        "%llu timeouts after reno fast retransmit",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPRenoRecoveryFailed",
        "%llu reno fast retransmits failed",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPRenoRecoveryFail",
        "%llu classic Reno fast retransmits failed",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPRenoRecovery",
        "%llu times recovered from packet loss due to fast retransmit",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPRenoReorder",
        "Detected reordering %llu times using reno fast retransmit",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPSackFailures",
        "%llu timeouts after SACK recovery",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPSackRecoveryFail",
        "%llu SACK retransmits failed",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPSackRecovery",
        "%llu times recovered from packet loss by selective acknowledgements",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPSACKReneging",
        "%llu bad SACK blocks received",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPSACKReorder",
        "Detected reordering %llu times using SACK",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPSchedulerFailed",
        "%llu times receiver scheduled too late for direct processing",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPSlowStartRetrans",
        "%llu retransmits in slow start",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPTimeouts",
        "%llu other TCP timeouts",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TCPTSReorder",
        "Detected reordering %llu times using time stamp",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TWKilled",
        "%llu TCP sockets finished time wait in slow timer",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TW",
        "%llu TCP sockets finished time wait in fast timer",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "TWRecycled",
        "%llu time wait sockets recycled by time stamp",
        Kind::OptNumber,
        false,
    ),
];

pub const IP6: &[Entry] = &[
    Entry::new(
        "Ip6FragCreates",
        "%llu fragments created",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "Ip6FragFails",
        "%llu outgoing packets failed fragmentation",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "Ip6FragOKs",
        "%llu outgoing packets fragmented ok",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "Ip6InAddrErrors",
        "%llu with invalid addresses",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "Ip6InDelivers",
        "%llu incoming packets delivered",
        Kind::Number,
        false,
    ),
    Entry::new(
        "Ip6InDiscards",
        "%llu incoming packets discarded",
        Kind::Number,
        false,
    ),
    Entry::new(
        "Ip6InHdrErrors",
        "%llu with invalid headers",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "Ip6InMcastPkts",
        "%llu incoming multicast packets",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "Ip6InNoRoutes",
        "%llu incoming packets with no route",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "Ip6InReceives",
        "%llu total packets received",
        Kind::Number,
        false,
    ),
    Entry::new(
        "Ip6InTooBigErrors",
        "%llu with packets too big",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "Ip6InTruncatedPkts",
        "%llu with truncated packets",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "Ip6InUnknownProtos",
        "%llu with unknown protocol",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "Ip6OutDiscards",
        "%llu outgoing packets dropped",
        Kind::OptNumber,
        false,
    ),
    Entry::new("Ip6OutForwDatagrams", "%llu forwarded", Kind::Number, false),
    Entry::new(
        "Ip6OutMcastPkts",
        "%llu outgoing multicast packets",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "Ip6OutNoRoutes",
        "%llu dropped because of missing route",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "Ip6OutRequests",
        "%llu requests sent out",
        Kind::Number,
        false,
    ),
    Entry::new(
        "Ip6ReasmFails",
        "%llu packet reassemblies failed",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "Ip6ReasmOKs",
        "%llu packets reassembled ok",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "Ip6ReasmReqds",
        "%llu reassemblies required",
        Kind::OptNumber,
        false,
    ),
    Entry::new(
        "Ip6ReasmTimeout",
        "%llu fragments dropped after timeout",
        Kind::OptNumber,
        false,
    ),
];

pub const ICMP6: &[Entry] = &[
    Entry::new(
        "Icmp6InDestUnreachs",
        "destination unreachable: %llu",
        Kind::IcmpIn,
        false,
    ),
    Entry::new(
        "Icmp6InEchoReplies",
        "echo replies: %llu",
        Kind::IcmpIn,
        false,
    ),
    Entry::new("Icmp6InEchos", "echo requests: %llu", Kind::IcmpIn, false),
    Entry::new(
        "Icmp6InErrors",
        "%llu input ICMP message failed",
        Kind::Number,
        false,
    ),
    Entry::new(
        "Icmp6InGroupMembQueries",
        "group member queries: %llu",
        Kind::IcmpIn,
        false,
    ),
    Entry::new(
        "Icmp6InGroupMembReductions",
        "group member reductions: %llu",
        Kind::IcmpIn,
        false,
    ),
    Entry::new(
        "Icmp6InGroupMembResponses",
        "group member responses: %llu",
        Kind::IcmpIn,
        false,
    ),
    Entry::new(
        "Icmp6InMsgs",
        "%llu ICMP messages received",
        Kind::Number,
        false,
    ),
    Entry::new(
        "Icmp6InNeighborAdvertisements",
        "neighbour advertisement: %llu",
        Kind::IcmpIn,
        false,
    ),
    Entry::new(
        "Icmp6InNeighborSolicits",
        "neighbour solicits: %llu",
        Kind::IcmpIn,
        false,
    ),
    Entry::new(
        "Icmp6InParmProblems",
        "parameter problem: %llu",
        Kind::IcmpIn,
        false,
    ),
    Entry::new(
        "Icmp6InPktTooBigs",
        "packets too big: %llu",
        Kind::IcmpIn,
        false,
    ),
    Entry::new("Icmp6InRedirects", "redirects: %llu", Kind::IcmpIn, false),
    Entry::new(
        "Icmp6InRouterAdvertisements",
        "router advertisement: %llu",
        Kind::IcmpIn,
        false,
    ),
    Entry::new(
        "Icmp6InRouterSolicits",
        "router solicits: %llu",
        Kind::IcmpIn,
        false,
    ),
    Entry::new(
        "Icmp6InTimeExcds",
        "received ICMPv6 time exceeded: %llu",
        Kind::IcmpIn,
        false,
    ),
    Entry::new(
        "Icmp6OutDestUnreachs",
        "destination unreachable: %llu",
        Kind::IcmpOut,
        false,
    ),
    Entry::new(
        "Icmp6OutEchoReplies",
        "echo replies: %llu",
        Kind::IcmpOut,
        false,
    ),
    Entry::new("Icmp6OutEchos", "echo requests: %llu", Kind::IcmpOut, false),
    Entry::new(
        "Icmp6OutGroupMembQueries",
        "group member queries: %llu",
        Kind::IcmpOut,
        false,
    ),
    Entry::new(
        "Icmp6OutGroupMembReductions",
        "group member reductions: %llu",
        Kind::IcmpOut,
        false,
    ),
    Entry::new(
        "Icmp6OutGroupMembResponses",
        "group member responses: %llu",
        Kind::IcmpOut,
        false,
    ),
    Entry::new(
        "Icmp6OutMsgs",
        "%llu ICMP messages sent",
        Kind::Number,
        false,
    ),
    Entry::new(
        "Icmp6OutNeighborAdvertisements",
        "neighbor advertisements: %llu",
        Kind::IcmpOut,
        false,
    ),
    Entry::new(
        "Icmp6OutNeighborSolicits",
        "neighbor solicits: %llu",
        Kind::IcmpOut,
        false,
    ),
    Entry::new(
        "Icmp6OutParmProblems",
        "parameter problem: %llu",
        Kind::IcmpOut,
        false,
    ),
    Entry::new(
        "Icmp6OutPktTooBigs",
        "packets too big: %llu",
        Kind::IcmpOut,
        false,
    ),
    Entry::new("Icmp6OutRedirects", "redirects: %llu", Kind::IcmpOut, false),
    Entry::new(
        "Icmp6OutRouterAdvertisements ",
        "router advertisement: %llu",
        Kind::IcmpOut,
        false,
    ),
    Entry::new(
        "Icmp6OutRouterSolicits",
        "router solicits: %llu",
        Kind::IcmpOut,
        false,
    ),
    Entry::new(
        "Icmp6OutTimeExcds",
        "sent ICMPv6 time exceeded: %llu",
        Kind::IcmpOut,
        false,
    ),
];

pub const UDP6: &[Entry] = &[
    Entry::new(
        "Udp6InDatagrams",
        "%llu packets received",
        Kind::Number,
        false,
    ),
    Entry::new(
        "Udp6InErrors",
        "%llu packet receive errors",
        Kind::Number,
        false,
    ),
    Entry::new(
        "Udp6NoPorts",
        "%llu packets to unknown port received",
        Kind::Number,
        false,
    ),
    Entry::new("Udp6OutDatagrams", "%llu packets sent", Kind::Number, false),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys of a table that its own lookup cannot find.
    fn hidden(table: &[Entry]) -> Vec<&'static str> {
        table
            .iter()
            .filter(|e| lookup(table, e.key.as_bytes()).is_none())
            .map(|e| e.key)
            .collect()
    }

    /// The keys netstat 2.10 prints as unknown although it has a sentence
    /// for them (checked with every key set in tests/fixtures/proc-stats-keys).
    #[test]
    fn the_same_keys_stay_hidden_as_in_netstat() {
        assert_eq!(hidden(IP), ["Forwarding"]);
        assert_eq!(
            hidden(TCP_EXT),
            [
                "TCPDirectCopyFromPrequeue",
                "TCPDSACKOfoRecv",
                "TCPDSACKOfoSent",
                "TCPDSACKOldSent",
                "TCPDSACKRecv",
                "TCPDSackUndo",
                "TCPDSACKUndo",
                "TCPLoss",
                "TCPPrequeueDropped",
                "TCPRenoRecoveryFailed",
                "TCPRenoRecoveryFail",
                "TCPSackFailures",
                "TCPSackRecoveryFail",
                "TCPSackRecovery",
                "TCPSACKReneging",
                "TCPTimeouts",
                "TWKilled",
            ]
        );
        for table in [ICMP, TCP, UDP, SCTP, IP6, UDP6] {
            assert!(hidden(table).is_empty());
        }
        // Its table key ends in a space, so the kernel's key never matches.
        assert!(lookup(ICMP6, b"Icmp6OutRouterAdvertisements").is_none());
        assert!(lookup(ICMP6, b"Icmp6OutRouterAdvertisements ").is_some());
    }

    #[test]
    fn every_sentence_has_one_place_for_its_value() {
        for table in [IP, ICMP, TCP, UDP, SCTP, TCP_EXT, IP6, ICMP6, UDP6] {
            for entry in table {
                let slots = entry.text.matches("%llu").count() + entry.text.matches("%s").count();
                let expected = usize::from(!entry.text.is_empty());
                assert_eq!(slots, expected, "{}: {:?}", entry.key, entry.text);
                assert_eq!(
                    entry.kind.title().is_some(),
                    matches!(entry.kind, Kind::IcmpIn | Kind::IcmpOut)
                );
            }
        }
    }

    #[test]
    fn histogram_lines_are_indented_deeper() {
        assert_eq!(Kind::IcmpIn.indent(), 8);
        assert_eq!(Kind::OptNumber.indent(), 4);
        assert_eq!(lookup(TCP, b"MaxConn").map(|e| e.text), Some(""));
        assert!(lookup(IP, b"DefaultTTL").is_some_and(|e| e.fixed));
    }
}
