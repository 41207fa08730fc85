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

// One constructor per kind, so that each table row below reads as one line:
// key, sentence.
const fn entry(key: &'static str, text: &'static str, kind: Kind, fixed: bool) -> Entry {
    Entry {
        key,
        text,
        kind,
        fixed,
    }
}
const fn number(key: &'static str, text: &'static str) -> Entry {
    entry(key, text, Kind::Number, false)
}
const fn opt(key: &'static str, text: &'static str) -> Entry {
    entry(key, text, Kind::OptNumber, false)
}
const fn icmp_in(key: &'static str, text: &'static str) -> Entry {
    entry(key, text, Kind::IcmpIn, false)
}
const fn icmp_out(key: &'static str, text: &'static str) -> Entry {
    entry(key, text, Kind::IcmpOut, false)
}
/// A configuration value rather than a counter (netstat skips these).
const fn fixed(key: &'static str, text: &'static str, kind: Kind) -> Entry {
    entry(key, text, kind, true)
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

#[rustfmt::skip]
pub const IP: &[Entry] = &[
    fixed("DefaultTTL", "Default TTL is %llu", Kind::Number),
    fixed("Forwarding", "Forwarding is %s", Kind::Forwarding),
    number("ForwDatagrams", "%llu forwarded"),
    opt("FragCreates", "%llu fragments created"),
    opt("FragFails", "%llu outgoing packets failed fragmentation"),
    opt("FragOKs", "%llu outgoing packets fragmented ok"),
    opt("InAddrErrors", "%llu with invalid addresses"),
    number("InDelivers", "%llu incoming packets delivered"),
    number("InDiscards", "%llu incoming packets discarded"),
    opt("InHdrErrors", "%llu with invalid headers"),
    number("InReceives", "%llu total packets received"),
    opt("InUnknownProtos", "%llu with unknown protocol"),
    opt("OutDiscards", "%llu outgoing packets dropped"),
    opt("OutNoRoutes", "%llu dropped because of missing route"),
    number("OutRequests", "%llu requests sent out"),
    opt("ReasmFails", "%llu packet reassemblies failed"),
    opt("ReasmOKs", "%llu packets reassembled ok"),
    opt("ReasmReqds", "%llu reassemblies required"),
    opt("ReasmTimeout", "%llu fragments dropped after timeout"),
];

#[rustfmt::skip]
pub const ICMP: &[Entry] = &[
    icmp_in("InAddrMaskReps", "address mask replies: %llu"),
    icmp_in("InAddrMasks", "address mask request: %llu"),
    icmp_in("InDestUnreachs", "destination unreachable: %llu"),
    icmp_in("InEchoReps", "echo replies: %llu"),
    icmp_in("InEchos", "echo requests: %llu"),
    number("InErrors", "%llu input ICMP message failed"),
    number("InMsgs", "%llu ICMP messages received"),
    icmp_in("InParmProbs", "wrong parameters: %llu"),
    icmp_in("InRedirects", "redirects: %llu"),
    icmp_in("InSrcQuenchs", "source quenches: %llu"),
    icmp_in("InTimeExcds", "timeout in transit: %llu"),
    icmp_in("InTimestampReps", "timestamp reply: %llu"),
    icmp_in("InTimestamps", "timestamp request: %llu"),
    icmp_out("OutAddrMaskReps", "address mask replies: %llu"),
    icmp_out("OutAddrMasks", "address mask requests: %llu"),
    icmp_out("OutDestUnreachs", "destination unreachable: %llu"),
    icmp_out("OutEchoReps", "echo replies: %llu"),
    icmp_out("OutEchos", "echo requests: %llu"),
    number("OutErrors", "%llu ICMP messages failed"),
    number("OutMsgs", "%llu ICMP messages sent"),
    icmp_out("OutParmProbs", "wrong parameters: %llu"),
    icmp_out("OutRedirects", "redirect: %llu"),
    icmp_out("OutSrcQuenchs", "source quench: %llu"),
    icmp_out("OutTimeExcds", "time exceeded: %llu"),
    icmp_out("OutTimestampReps", "timestamp replies: %llu"),
    icmp_out("OutTimestamps", "timestamp requests: %llu"),
];

#[rustfmt::skip]
pub const TCP: &[Entry] = &[
    number("ActiveOpens", "%llu active connection openings"),
    number("AttemptFails", "%llu failed connection attempts"),
    number("CurrEstab", "%llu connections established"),
    number("EstabResets", "%llu connection resets received"),
    number("InErrs", "%llu bad segments received"),
    number("InSegs", "%llu segments received"),
    number("MaxConn", ""),
    number("OutRsts", "%llu resets sent"),
    number("OutSegs", "%llu segments sent out"),
    number("PassiveOpens", "%llu passive connection openings"),
    number("RetransSegs", "%llu segments retransmitted"),
    fixed("RtoAlgorithm", "RTO algorithm is %s", Kind::RtoAlgorithm),
    number("RtoMax", ""),
    number("RtoMin", ""),
];

#[rustfmt::skip]
pub const UDP: &[Entry] = &[
    number("InDatagrams", "%llu packets received"),
    number("InErrors", "%llu packet receive errors"),
    number("NoPorts", "%llu packets to unknown port received"),
    number("OutDatagrams", "%llu packets sent"),
    number("RcvbufErrors", "%llu receive buffer errors"),
    number("SndbufErrors", "%llu send buffer errors"),
];

#[rustfmt::skip]
pub const SCTP: &[Entry] = &[
    number("SctpAborteds", "%llu Number of Aborteds "),
    number("SctpActiveEstabs", "%llu Active Associations"),
    number("SctpChecksumErrors", "%llu Number of Packets with invalid Checksum"),
    number("SctpCurrEstab", "%llu Current Associations"),
    number("SctpFragUsrMsgs", "%llu Number of messages fragmented"),
    number("SctpInCtrlChunks", "%llu Number of control chunks received"),
    number("SctpInOrderChunks", "%llu Number of ordered chunks received"),
    number("SctpInSCTPPacks", "%llu Number of SCTP packets received"),
    number("SctpInUnorderChunks", "%llu Number of Unordered chunks received"),
    number("SctpOutCtrlChunks", "%llu Number of control chunks sent"),
    number("SctpOutOfBlues", "%llu Number of Out of Blue packets"),
    number("SctpOutOrderChunks", "%llu Number of ordered chunks sent"),
    number("SctpOutSCTPPacks", "%llu Number of SCTP packets sent"),
    number("SctpOutUnorderChunks", "%llu Number of Unordered chunks sent"),
    number("SctpPassiveEstabs", "%llu Passive Associations"),
    number("SctpReasmUsrMsgs", "%llu Number of messages reassembled "),
    number("SctpShutdowns", "%llu Number of Graceful Terminations"),
];

#[rustfmt::skip]
pub const TCP_EXT: &[Entry] = &[
    opt("DelayedACKLocked", "%llu delayed acks further delayed because of locked socket"),
    opt("DelayedACKLost", "Quick ack mode was activated %llu times"),
    opt("DelayedACKs", "%llu delayed acks sent"),
    opt("EmbryonicRsts", "%llu resets received for embryonic SYN_RECV sockets"),
    opt("ListenDrops", "%llu SYNs to LISTEN sockets dropped"),
    opt("ListenOverflows", "%llu times the listen queue of a socket overflowed"),
    opt("LockDroppedIcmps", "%llu ICMP packets dropped because socket was locked"),
    opt("OfoPruned", "%llu packets dropped from out-of-order queue because of socket buffer overrun"),
    opt("OutOfWindowIcmps", "%llu ICMP packets dropped because they were out-of-window"),
    opt("PAWSActive", "%llu active connections rejected because of time stamp"),
    opt("PAWSEstab", "%llu packets rejected in established connections because of timestamp"),
    opt("PAWSPassive", "%llu passive connections rejected because of time stamp"),
    opt("PruneCalled", "%llu packets pruned from receive queue because of socket buffer overrun"),
    opt("RcvPruned", "%llu packets pruned from receive queue"),
    opt("SockMallocOOM", "Ran %llu times out of system memory during packet sending"),
    opt("SyncookiesFailed", "%llu invalid SYN cookies received"),
    opt("SyncookiesRecv", "%llu SYN cookies received"),
    opt("SyncookiesSent", "%llu SYN cookies sent"),
    opt("TCPAbortFailed", "%llu times unable to send RST due to no memory"),
    opt("TCPAbortOnClose", "%llu connections reset due to early user close"),
    opt("TCPAbortOnData", "%llu connections reset due to unexpected data"),
    opt("TCPAbortOnLinger", "%llu connections aborted after user close in linger timeout"),
    opt("TCPAbortOnMemory", "%llu connections aborted due to memory pressure"),
    opt("TCPAbortOnSyn", "%llu connections reset due to unexpected SYN"),
    opt("TCPAbortOnTimeout", "%llu connections aborted due to timeout"),
    opt("TCPDirectCopyFromBacklog", "%llu bytes directly in process context from backlog"),
    opt("TCPDirectCopyFromPrequeue", "%llu bytes directly received in process context from prequeue"),
    opt("TCPDSACKOfoRecv", "%llu DSACKs for out of order packets received"),
    opt("TCPDSACKOfoSent", "%llu DSACKs sent for out of order packets"),
    opt("TCPDSACKOldSent", "%llu DSACKs sent for old packets"),
    opt("TCPDSACKRecv", "%llu DSACKs received"),
    opt("TCPDSackUndo", "%llu congestion window recovered without slow start using DSACK"),
    opt("TCPDSACKUndo", "%llu congestion windows recovered without slow start by DSACK"),
    opt("TCPFACKReorder", "Detected reordering %llu times using FACK"),
    opt("TCPFastRetrans", "%llu fast retransmits"),
    opt("TCPForwardRetrans", "%llu forward retransmits"),
    opt("TCPFullUndo", "%llu congestion windows fully recovered without slow start"),
    opt("TCPHPAcks", "%llu predicted acknowledgments"),
    number("TCPHPHits", "%llu packet headers predicted"),
    opt("TCPHPHitsToUser", "%llu packet headers predicted and directly queued to user"),
    opt("TCPLossFailures", "%llu timeouts in loss state"),
    opt("TCPLoss", "%llu TCP data loss events"),
    opt("TCPLossUndo", "%llu congestion windows recovered without slow start after partial ack"),
    opt("TCPLostRetransmits", "%llu retransmits lost"),
    opt("TCPMemoryPressures", "TCP ran low on memory %llu times"),
    opt("TCPPartialUndo", "%llu congestion windows partially recovered using Hoe heuristic"),
    opt("TCPPrequeued", "%llu packets directly queued to recvmsg prequeue"),
    opt("TCPPrequeueDropped", "%llu packets dropped from prequeue"),
    opt("TCPPureAcks", "%llu acknowledgments not containing data payload received"),
    opt("TCPRcvCollapsed", "%llu packets collapsed in receive queue due to low socket buffer"),
    opt("TCPRenoFailures", "%llu timeouts after reno fast retransmit"),
    opt("TCPRenoRecoveryFailed", "%llu reno fast retransmits failed"),
    opt("TCPRenoRecoveryFail", "%llu classic Reno fast retransmits failed"),
    opt("TCPRenoRecovery", "%llu times recovered from packet loss due to fast retransmit"),
    opt("TCPRenoReorder", "Detected reordering %llu times using reno fast retransmit"),
    opt("TCPSackFailures", "%llu timeouts after SACK recovery"),
    opt("TCPSackRecoveryFail", "%llu SACK retransmits failed"),
    opt("TCPSackRecovery", "%llu times recovered from packet loss by selective acknowledgements"),
    opt("TCPSACKReneging", "%llu bad SACK blocks received"),
    opt("TCPSACKReorder", "Detected reordering %llu times using SACK"),
    opt("TCPSchedulerFailed", "%llu times receiver scheduled too late for direct processing"),
    opt("TCPSlowStartRetrans", "%llu retransmits in slow start"),
    opt("TCPTimeouts", "%llu other TCP timeouts"),
    opt("TCPTSReorder", "Detected reordering %llu times using time stamp"),
    opt("TWKilled", "%llu TCP sockets finished time wait in slow timer"),
    opt("TW", "%llu TCP sockets finished time wait in fast timer"),
    opt("TWRecycled", "%llu time wait sockets recycled by time stamp"),
];

#[rustfmt::skip]
pub const IP6: &[Entry] = &[
    opt("Ip6FragCreates", "%llu fragments created"),
    opt("Ip6FragFails", "%llu outgoing packets failed fragmentation"),
    opt("Ip6FragOKs", "%llu outgoing packets fragmented ok"),
    opt("Ip6InAddrErrors", "%llu with invalid addresses"),
    number("Ip6InDelivers", "%llu incoming packets delivered"),
    number("Ip6InDiscards", "%llu incoming packets discarded"),
    opt("Ip6InHdrErrors", "%llu with invalid headers"),
    opt("Ip6InMcastPkts", "%llu incoming multicast packets"),
    opt("Ip6InNoRoutes", "%llu incoming packets with no route"),
    number("Ip6InReceives", "%llu total packets received"),
    opt("Ip6InTooBigErrors", "%llu with packets too big"),
    opt("Ip6InTruncatedPkts", "%llu with truncated packets"),
    opt("Ip6InUnknownProtos", "%llu with unknown protocol"),
    opt("Ip6OutDiscards", "%llu outgoing packets dropped"),
    number("Ip6OutForwDatagrams", "%llu forwarded"),
    opt("Ip6OutMcastPkts", "%llu outgoing multicast packets"),
    opt("Ip6OutNoRoutes", "%llu dropped because of missing route"),
    number("Ip6OutRequests", "%llu requests sent out"),
    opt("Ip6ReasmFails", "%llu packet reassemblies failed"),
    opt("Ip6ReasmOKs", "%llu packets reassembled ok"),
    opt("Ip6ReasmReqds", "%llu reassemblies required"),
    opt("Ip6ReasmTimeout", "%llu fragments dropped after timeout"),
];

#[rustfmt::skip]
pub const ICMP6: &[Entry] = &[
    icmp_in("Icmp6InDestUnreachs", "destination unreachable: %llu"),
    icmp_in("Icmp6InEchoReplies", "echo replies: %llu"),
    icmp_in("Icmp6InEchos", "echo requests: %llu"),
    number("Icmp6InErrors", "%llu input ICMP message failed"),
    icmp_in("Icmp6InGroupMembQueries", "group member queries: %llu"),
    icmp_in("Icmp6InGroupMembReductions", "group member reductions: %llu"),
    icmp_in("Icmp6InGroupMembResponses", "group member responses: %llu"),
    number("Icmp6InMsgs", "%llu ICMP messages received"),
    icmp_in("Icmp6InNeighborAdvertisements", "neighbour advertisement: %llu"),
    icmp_in("Icmp6InNeighborSolicits", "neighbour solicits: %llu"),
    icmp_in("Icmp6InParmProblems", "parameter problem: %llu"),
    icmp_in("Icmp6InPktTooBigs", "packets too big: %llu"),
    icmp_in("Icmp6InRedirects", "redirects: %llu"),
    icmp_in("Icmp6InRouterAdvertisements", "router advertisement: %llu"),
    icmp_in("Icmp6InRouterSolicits", "router solicits: %llu"),
    icmp_in("Icmp6InTimeExcds", "received ICMPv6 time exceeded: %llu"),
    icmp_out("Icmp6OutDestUnreachs", "destination unreachable: %llu"),
    icmp_out("Icmp6OutEchoReplies", "echo replies: %llu"),
    icmp_out("Icmp6OutEchos", "echo requests: %llu"),
    icmp_out("Icmp6OutGroupMembQueries", "group member queries: %llu"),
    icmp_out("Icmp6OutGroupMembReductions", "group member reductions: %llu"),
    icmp_out("Icmp6OutGroupMembResponses", "group member responses: %llu"),
    number("Icmp6OutMsgs", "%llu ICMP messages sent"),
    icmp_out("Icmp6OutNeighborAdvertisements", "neighbor advertisements: %llu"),
    icmp_out("Icmp6OutNeighborSolicits", "neighbor solicits: %llu"),
    icmp_out("Icmp6OutParmProblems", "parameter problem: %llu"),
    icmp_out("Icmp6OutPktTooBigs", "packets too big: %llu"),
    icmp_out("Icmp6OutRedirects", "redirects: %llu"),
    icmp_out("Icmp6OutRouterAdvertisements ", "router advertisement: %llu"),
    icmp_out("Icmp6OutRouterSolicits", "router solicits: %llu"),
    icmp_out("Icmp6OutTimeExcds", "sent ICMPv6 time exceeded: %llu"),
];

#[rustfmt::skip]
pub const UDP6: &[Entry] = &[
    number("Udp6InDatagrams", "%llu packets received"),
    number("Udp6InErrors", "%llu packet receive errors"),
    number("Udp6NoPorts", "%llu packets to unknown port received"),
    number("Udp6OutDatagrams", "%llu packets sent"),
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
