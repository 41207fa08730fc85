//! netstat's flags as a clap table, one-to-one with net-tools netstat 2.10
//! (nlstat's own options are flattened in from [`super::own_args`], under
//! their own help heading).

use super::own_args::NlstatArgs;
use clap::{ArgAction, Parser};
use std::ffi::OsString;

/// netstat, byte for byte, from NETLINK_SOCK_DIAG and rtnetlink
///
/// nlstat prints what net-tools netstat 2.10 prints, with the same options,
/// the same columns and the same bytes, but reads sockets from the kernel's
/// NETLINK_SOCK_DIAG interface and routes and interfaces from rtnetlink
/// instead of parsing /proc text. The PID/Program column (-p) comes from the
/// kernel's BPF task_file iterator when nlstat may load BPF programs (as
/// root, on a kernel with BTF), else from one scan of /proc/*/fd into a
/// hash map; host names are resolved concurrently with a bounded wait. So
/// nlstat stays fast on hosts with hundreds of thousands of sockets.
///
/// Installed under the name netstat (a symbolic link), nlstat behaves
/// exactly as netstat, -h included; messages name the program as invoked.
/// Its own options are long options only, so every short letter stays
/// netstat's; an abbreviation that fits one of netstat's options and one of
/// nlstat's keeps netstat's meaning (--group is --groups).
#[derive(Parser, Debug, Default)]
#[command(
    name = "netstat",
    disable_help_flag = true,
    disable_version_flag = true,
    infer_long_args = true,
    allow_negative_numbers = false
)]
pub struct RawArgs {
    /// address families to list, comma-separated
    ///
    /// Address families, comma-separated, in the order they are to be
    /// printed: inet, inet6 and unix, and the aliases ip, ip6 and tcpip;
    /// ipx, ax25, netrom, x25, rose, ddp (appletalk), econet, ash and
    /// bluetooth are answered as netstat answers them on a kernel without
    /// them. An unknown name is an error (status 1).
    #[arg(short = 'A', long = "protocol", action = ArgAction::Append, value_name = "AF",
          value_parser = Words(AF_NAMES))]
    pub protocol: Vec<String>,
    /// display routing cache instead of FIB
    ///
    /// With -r, as netstat takes it.
    #[arg(short = 'C', long = "cache", action = ArgAction::Count)]
    pub cache: u8,
    /// display Forwarding Information Base (default)
    ///
    /// With -r, as netstat takes it.
    #[arg(short = 'F', long = "fib", action = ArgAction::Count)]
    pub fib: u8,
    /// display masqueraded connections
    ///
    /// What netstat says on a kernel without /proc/net/ip_masquerade (any
    /// kernel since 2.4): a message on standard error and status 1.
    #[arg(short = 'M', long = "masquerade", action = ArgAction::Count)]
    pub masquerade: u8,
    /// display all sockets (default: connected)
    ///
    /// Listening and connected sockets; with -i, every interface, not only
    /// those that are up.
    #[arg(short = 'a', long = "all", action = ArgAction::Count)]
    pub all: u8,
    /// continuous listing
    ///
    /// Print the selected table again every second, until interrupted.
    /// Statistics (-s) print once, as in netstat.
    #[arg(short = 'c', long = "continuous", action = ArgAction::Count)]
    pub continuous: u8,
    /// accepted, as netstat accepts it; no effect
    #[arg(short = 'd', action = ArgAction::Count)]
    pub debug: u8,
    /// display other/more information
    ///
    /// Add the User and Inode columns; -ee shows more detail in -i and -r.
    #[arg(short = 'e', long = "extend", action = ArgAction::Count)]
    pub extend: u8,
    /// display multicast group memberships
    ///
    /// Group memberships from /proc/net/igmp and igmp6; with socket flags
    /// the groups follow the inet tables, as in netstat.
    #[arg(short = 'g', long = "groups", action = ArgAction::Count)]
    pub groups: u8,
    /// print the usage text
    ///
    /// netstat's usage text on standard output and the address family list
    /// on standard error, status 0. Standard output is buffered as
    /// netstat's is: with both streams in one pipe the list comes first,
    /// on a terminal last. Invoked as nlstat, a summary of nlstat's own
    /// options and of the filter language follows on standard output;
    /// invoked as netstat, nothing is added.
    #[arg(short = 'h', long = "help", action = ArgAction::Count)]
    pub help: u8,
    /// netstat's -?: the usage text on standard error, status 3
    #[arg(short = '?', action = ArgAction::Count, hide = true)]
    pub question: u8,
    /// display interface table
    ///
    /// The interface table from RTM_GETLINK (64-bit counters) and
    /// RTM_GETADDR: interfaces that are up, every one with -a,
    /// ifconfig-style blocks with -e.
    #[arg(short = 'i', long = "interfaces", action = ArgAction::Count)]
    pub interfaces: u8,
    /// display listening server sockets
    ///
    /// Listening sockets only: TCP in LISTEN, UDP and raw sockets with no
    /// remote address, unix sockets that accept connections. The kernel
    /// selects them, so the cost grows with the listeners, not with all
    /// sockets.
    #[arg(short = 'l', long = "listening", action = ArgAction::Count)]
    pub listening: u8,
    /// don't resolve names
    #[arg(short = 'n', long = "numeric", action = ArgAction::Count)]
    pub numeric: u8,
    /// don't resolve host names
    #[arg(long = "numeric-hosts", action = ArgAction::Count)]
    pub numeric_hosts: u8,
    /// don't resolve port names
    #[arg(long = "numeric-ports", action = ArgAction::Count)]
    pub numeric_ports: u8,
    /// don't resolve user names
    #[arg(long = "numeric-users", action = ArgAction::Count)]
    pub numeric_users: u8,
    /// resolve hardware names
    ///
    /// Accepted, as netstat accepts it.
    #[arg(short = 'N', long = "symbolic", action = ArgAction::Count)]
    pub symbolic: u8,
    /// display timers
    ///
    /// Add the Timer column: off, on, keepalive, timewait or probe, with
    /// the seconds until the timer fires, retransmits and probes.
    #[arg(short = 'o', long = "timers", action = ArgAction::Count)]
    pub timers: u8,
    /// display PID/Program name for sockets
    ///
    /// Add the PID/Program name column (cut to 19 characters, - when
    /// unknown). The owners come from the kernel's BPF task_file iterator
    /// when nlstat may load BPF programs, else from one scan of
    /// /proc/*/fd (see --pid-source). Run as a user who cannot read other
    /// processes, netstat's note about them goes to standard error.
    /// --program is accepted too.
    #[arg(short = 'p', long = "programs", visible_alias = "program", action = ArgAction::Count)]
    pub programs: u8,
    /// display routing table
    ///
    /// The kernel routing table: IPv4 from an RTM_GETROUTE dump of the main
    /// table, IPv6 (-6, -A inet6) from /proc/net/ipv6_route; several
    /// families print in the order given. -e shows Metric, Ref and Use, -ee
    /// both column sets. Names are resolved concurrently, with the same
    /// bounded wait as for sockets.
    #[arg(short = 'r', long = "route", action = ArgAction::Count)]
    pub route: u8,
    /// display networking statistics (like SNMP)
    ///
    /// Protocol statistics from /proc/net/snmp, /proc/net/netstat and
    /// /proc/net/snmp6, in netstat's words; -t, -u, -U, -w and -6 choose
    /// sections. Printed once, even with -c.
    #[arg(short = 's', long = "statistics", action = ArgAction::Count)]
    pub statistics: u8,
    /// SCTP sockets
    ///
    /// nlstat cannot list SCTP sockets: it prints netstat's message for a
    /// kernel without SCTP and exits with status 1.
    #[arg(short = 'S', long = "sctp", action = ArgAction::Count)]
    pub sctp: u8,
    /// TCP sockets
    #[arg(short = 't', long = "tcp", action = ArgAction::Count)]
    pub tcp: u8,
    /// UDP sockets
    #[arg(short = 'u', long = "udp", action = ArgAction::Count)]
    pub udp: u8,
    /// UDP-Lite sockets
    #[arg(short = 'U', long = "udplite", action = ArgAction::Count)]
    pub udplite: u8,
    /// be verbose
    ///
    /// Also report address families this system has no support for.
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    pub verbose: u8,
    /// print nlstat's version
    #[arg(short = 'V', long = "version", action = ArgAction::Count)]
    pub version: u8,
    /// don't truncate IP addresses
    #[arg(short = 'W', long = "wide", action = ArgAction::Count)]
    pub wide: u8,
    /// the same as -W
    ///
    /// The same as -W: the spelling some netstat builds use (Debian's
    /// netstat 2.10 rejects it).
    #[arg(short = 'T', long = "notrim", action = ArgAction::Count)]
    pub notrim: u8,
    /// raw sockets
    #[arg(short = 'w', long = "raw", action = ArgAction::Count)]
    pub raw: u8,
    /// unix domain sockets
    #[arg(short = 'x', long = "unix", action = ArgAction::Count)]
    pub unix: u8,
    /// IPv6 only (the inet6 family)
    #[arg(short = '6', long = "inet6", action = ArgAction::Count)]
    pub inet6: u8,
    /// IPv4 only (the inet family)
    #[arg(short = '4', long = "inet", action = ArgAction::Count)]
    pub inet: u8,
    /// Bluetooth L2CAP sockets, answered as netstat answers without them
    #[arg(short = '2', long = "l2cap", action = ArgAction::Count)]
    pub l2cap: u8,
    /// Bluetooth RFCOMM sockets, answered as netstat answers without them
    #[arg(short = 'f', long = "rfcomm", action = ArgAction::Count)]
    pub rfcomm: u8,
    /// display SELinux security context for sockets
    ///
    /// netstat's answer on a system without SELinux: "SELinux is not
    /// enabled on this machine." and status 1.
    #[arg(short = 'Z', long = "context", action = ArgAction::Count)]
    pub context: u8,
    /// the same as -A ax25
    #[arg(long = "ax25", action = ArgAction::Count)]
    pub ax25: u8,
    /// the same as -A inet
    #[arg(long = "ip", action = ArgAction::Count)]
    pub ip: u8,
    /// the same as -A ipx
    #[arg(long = "ipx", action = ArgAction::Count)]
    pub ipx: u8,
    /// the same as -A ddp
    #[arg(long = "appletalk", action = ArgAction::Count)]
    pub appletalk: u8,
    /// the same as -A netrom
    #[arg(long = "netrom", action = ArgAction::Count)]
    pub netrom: u8,
    /// the same as -A ddp
    #[arg(long = "ddp", action = ArgAction::Count)]
    pub ddp: u8,
    /// the same as -A inet
    #[arg(long = "tcpip", action = ArgAction::Count)]
    pub tcpip: u8,
    /// the same as -A econet
    #[arg(long = "econet", action = ArgAction::Count)]
    pub econet: u8,
    /// the same as -A x25
    #[arg(long = "x25", action = ArgAction::Count)]
    pub x25: u8,
    /// the same as -A rose
    #[arg(long = "rose", action = ArgAction::Count)]
    pub rose: u8,
    /// the same as -A ash
    #[arg(long = "ash", action = ArgAction::Count)]
    pub ash: u8,
    /// the same as -A bluetooth
    #[arg(long = "bluetooth", action = ArgAction::Count)]
    pub bluetooth: u8,
    #[command(flatten)]
    pub own: NlstatArgs,
    /// a filter expression for the socket tables, in ss's language
    ///
    /// getopt ignores operands, and so does netstat; for socket tables
    /// they are nlstat's filter expression (see FILTERS).
    // hidden from the completions, which would offer the placeholder as a
    // word; the man page lists it all the same
    #[arg(value_name = "FILTER", num_args = 0.., trailing_var_arg = false, hide = true)]
    pub operands: Vec<OsString>,
}

/// A value parser that takes any text (nlstat checks it later, with its
/// own messages) but names the usual values, for completions and the man
/// page.
#[derive(Clone, Debug)]
pub struct Words(pub &'static [&'static str]);

impl clap::builder::TypedValueParser for Words {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            self.0.iter().map(|w| clap::builder::PossibleValue::new(*w)),
        ))
    }
}

/// The names -A takes, for completions and the man page (the parser is
/// [`super::families::AF_ALIASES`]).
const AF_NAMES: &[&str] = &[
    "inet",
    "inet6",
    "unix",
    "ip",
    "ip6",
    "tcpip",
    "ipx",
    "ax25",
    "netrom",
    "x25",
    "rose",
    "ddp",
    "appletalk",
    "econet",
    "ash",
    "bluetooth",
];
