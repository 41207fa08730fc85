//! Command-line flags, one-to-one with net-tools netstat 2.10.
//!
//! clap parses; what clap cannot reproduce is getopt's exact wording for a
//! bad option and netstat's usage text, so errors are re-diagnosed here in
//! getopt's terms (`invalid option -- 'z'`, exit status 3).

use crate::config::{Config, Families, Mode, PidSource, Protocols, Source};
use crate::filter::expr::Query;
use crate::views::View;
use clap::{ArgAction, CommandFactory, FromArgMatches, Parser};
use std::ffi::OsString;

/// netstat's `E_USAGE`-style exit status for a bad command line.
pub const EXIT_USAGE: i32 = 3;

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

/// The heading of nlstat's own options in the clap definition; the help
/// text and the man page list these options in a section of their own.
pub const OWN_OPTIONS_HEADING: &str = "nlstat options";

/// nlstat's own options: long options only, so that every short letter
/// stays netstat's.
#[derive(clap::Args, Debug, Default)]
#[command(next_help_heading = OWN_OPTIONS_HEADING)]
pub struct NlstatArgs {
    /// socket tables from netlink (default) or proc
    ///
    /// netlink asks NETLINK_SOCK_DIAG and falls back to /proc/net per
    /// protocol when the kernel has no diag module for it (raw sockets);
    /// proc reads /proc/net for everything, as net-tools does. Socket
    /// tables only: refused with -r, -i, -s and -M.
    #[arg(long = "source", value_name = "SOURCE", value_parser = Words(&["netlink", "proc"]))]
    pub source: Option<String>,
    /// where -p finds socket owners: auto, bpf or proc
    ///
    /// auto (the default) uses the kernel's BPF task_file iterator when
    /// nlstat may load BPF programs and the kernel has BTF for it, and reads
    /// /proc/*/fd otherwise (-v says why); bpf fails when the iterator
    /// cannot be used, with the kernel's reason; proc always reads /proc.
    /// Only with -p.
    #[arg(long = "pid-source", value_name = "SOURCE", value_parser = Words(&["auto", "bpf", "proc"]))]
    pub pid_source: Option<String>,
    /// JSON Lines: one object per row, no headers
    ///
    /// With every mode, view and flag that prints a table (see JSON
    /// OUTPUT); not with --serve or --textfile, which write Prometheus'
    /// text format.
    #[arg(long = "json", action = ArgAction::Count)]
    pub json: u8,
    /// count sockets per distinct tuple of KEYS
    ///
    /// A view: one row per distinct tuple of the keys (comma-separated)
    /// with its count.
    /// Keys: proto, family, state, local_addr, local_port, remote_addr,
    /// remote_port, remote_net (or remote_net/LEN), uid, user, netns, and
    /// with -p pid and program (see LOAD-BALANCER VIEWS).
    #[arg(long = "group-by", value_name = "KEYS")]
    pub group_by: Option<String>,
    /// keep the first N rows of --group-by
    #[arg(long = "top", value_name = "N", value_hint = clap::ValueHint::Other)]
    pub top: Option<String>,
    /// socket counts per protocol, family and state
    ///
    /// Counts per protocol, family and state for every selected table, then
    /// the kernel's totals from /proc/net/sockstat and sockstat6.
    #[arg(long = "summary", action = ArgAction::Count)]
    pub summary: u8,
    /// TCP listeners: accept queues and connections
    ///
    /// One row per listening TCP socket: accept queue, backlog, fill, and
    /// the SYN_RECV, ESTABLISHED and TIME_WAIT sockets on its port; then
    /// the kernel's listen counters.
    #[arg(long = "listeners", action = ArgAction::Count)]
    pub listeners: u8,
    /// ephemeral port use per remote address and port
    ///
    /// Ports of net.ipv4.ip_local_port_range in use per (local address,
    /// remote address, remote port), against those available.
    #[arg(long = "ephemeral", action = ArgAction::Count)]
    pub ephemeral: u8,
    /// serve Prometheus metrics on [ADDR:]PORT (127.0.0.1 without ADDR)
    ///
    /// Answer Prometheus scrapes over HTTP (see PROMETHEUS EXPORTER). A
    /// port alone listens on 127.0.0.1; ADDR:PORT on that address
    /// ([::]:PORT or 0.0.0.0:PORT on every address). It serves until
    /// stopped, so not with -c.
    #[arg(long = "serve", value_name = "[ADDR:]PORT", value_hint = clap::ValueHint::Other)]
    pub serve: Option<String>,
    /// write the metrics to PATH (every tick with -c)
    ///
    /// Write the exposition to PATH through a temporary file and a rename,
    /// for node_exporter's textfile collector; with -c, every tick.
    #[arg(long = "textfile", value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub textfile: Option<OsString>,
    /// with --serve, reuse a collection for SECONDS (default 1)
    ///
    /// A scrape within SECONDS of the last collection is answered from it.
    /// Only with --serve.
    #[arg(long = "min-interval", value_name = "SECONDS", value_hint = clap::ValueHint::Other)]
    pub min_interval: Option<String>,
    /// ephemeral-port pairs to export (default 100)
    ///
    /// The exporter's nlstat_ephemeral_ports_* series cover the N fullest
    /// (local address, remote address, remote port) pairs (per namespace
    /// with --all-netns). Only with --serve or --textfile.
    #[arg(long = "max-series", value_name = "N", value_hint = clap::ValueHint::Other)]
    pub max_series: Option<String>,
    /// run in a network namespace (name or path)
    ///
    /// Join the namespace (a name from /run/netns, or a path such as
    /// /proc/PID/ns/net) before any socket or thread exists; for a name,
    /// /etc/netns/NAME is laid over /etc as ip netns exec does. Needs
    /// CAP_SYS_ADMIN.
    #[arg(long = "netns", value_name = "NAME|PATH")]
    pub netns: Option<String>,
    /// every network namespace, one after another
    ///
    /// nlstat's own namespace first, then those in /run/netns by name, then
    /// those only a process is in; each under a line "Network namespace
    /// NAME (inode N):". With every mode and option, -c, the views,
    /// --json, --serve and --textfile included (the views and the exporter
    /// count each namespace apart); not with --netns.
    #[arg(long = "all-netns", action = ArgAction::Count)]
    pub all_netns: u8,
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
/// [`AF_ALIASES`]).
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

/// What the command line asks for, before any work is done.
#[derive(Debug)]
pub enum Parsed {
    Run(Box<Config>),
    /// `-h`: usage on stdout (the address family list on stderr), status
    /// 0; `own_options` adds nlstat's section after it (not when invoked
    /// as `netstat`).
    Help {
        own_options: bool,
    },
    /// `-V`.
    Version,
    /// Print `message` to stderr, then exit with `status` (1 for a bad
    /// family name, 3 with the usage text for a bad option).
    Fail {
        message: String,
        usage: bool,
        status: i32,
    },
}

/// Long options getopt knows, with whether they take an argument; used to
/// reproduce getopt's diagnostics exactly.
const LONG_OPTIONS: &[(&str, bool)] = &[
    ("ax25", false),
    ("ip", false),
    ("ipx", false),
    ("appletalk", false),
    ("netrom", false),
    ("inet", false),
    ("inet6", false),
    ("ddp", false),
    ("unix", false),
    ("tcpip", false),
    ("econet", false),
    ("x25", false),
    ("rose", false),
    ("ash", false),
    ("bluetooth", false),
    ("version", false),
    ("interfaces", false),
    ("help", false),
    ("route", false),
    ("masquerade", false),
    ("protocol", true),
    ("tcp", false),
    ("sctp", false),
    ("udp", false),
    ("udplite", false),
    ("raw", false),
    ("l2cap", false),
    ("rfcomm", false),
    ("listening", false),
    ("all", false),
    ("timers", false),
    ("continuous", false),
    ("extend", false),
    ("programs", false),
    ("program", false),
    ("verbose", false),
    ("statistics", false),
    ("wide", false),
    ("notrim", false),
    ("numeric", false),
    ("numeric-hosts", false),
    ("numeric-ports", false),
    ("numeric-users", false),
    ("symbolic", false),
    ("cache", false),
    ("fib", false),
    ("groups", false),
    ("context", false),
    ("source", true),
    ("pid-source", true),
    ("json", false),
    ("group-by", true),
    ("top", true),
    ("summary", false),
    ("listeners", false),
    ("ephemeral", false),
    ("serve", true),
    ("textfile", true),
    ("min-interval", true),
    ("max-series", true),
    ("netns", true),
    ("all-netns", false),
];

/// nlstat's own long options: an abbreviation that also fits one of
/// netstat's options stays netstat's (`--listen` is `--listening`).
const OWN_LONG_OPTIONS: &[&str] = &[
    "source",
    "pid-source",
    "json",
    "group-by",
    "top",
    "summary",
    "listeners",
    "ephemeral",
    "serve",
    "textfile",
    "min-interval",
    "max-series",
    "netns",
    "all-netns",
];

/// getopt_long's reading of `--name`: the option it names, or the
/// candidates it cannot choose between (empty: no such option). netstat's
/// own options win over nlstat's, so that every abbreviation netstat
/// accepts keeps its meaning.
fn resolve_long(name: &str) -> Result<&'static (&'static str, bool), Vec<&'static str>> {
    if let Some(exact) = LONG_OPTIONS.iter().find(|(n, _)| *n == name) {
        return Ok(exact);
    }
    let candidates: Vec<&'static (&'static str, bool)> = LONG_OPTIONS
        .iter()
        .filter(|(n, _)| n.starts_with(name))
        .collect();
    type Candidates = Vec<&'static (&'static str, bool)>;
    let (own, mut netstat): (Candidates, Candidates) = candidates
        .into_iter()
        .partition(|(n, _)| OWN_LONG_OPTIONS.contains(n));
    // getopt counts two spellings of one option once (`--prog` fits
    // `--programs` and its alias `--program`: that is -p, not ambiguous)
    if netstat.iter().any(|(n, _)| *n == "programs") {
        netstat.retain(|option| option.0 != "program");
    }
    match (netstat.as_slice(), own.as_slice()) {
        ([one], _) | ([], [one]) => Ok(*one),
        ([], many) | (many, _) => Err(many.iter().map(|(n, _)| *n).collect()),
    }
}

/// The arguments with every long option written out in full, so that clap
/// reads abbreviations exactly as getopt (and [`resolve_long`]) does.
fn expand_long_options(args: &[OsString]) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut skip_value = false;
    let mut options_done = false;
    for (i, arg) in args.iter().enumerate() {
        let text = arg.to_string_lossy();
        if skip_value {
            // joined to its option above
            skip_value = false;
            continue;
        }
        if i == 0 || options_done {
            out.push(arg.clone());
            continue;
        }
        if text == "--" {
            options_done = true;
            out.push(arg.clone());
            continue;
        }
        if let Some(long) = text.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            if let Ok((full, takes_value)) = resolve_long(name) {
                // getopt takes the next argument as the value whatever it
                // looks like (`--top -3`); attached, clap does too
                let value = match value {
                    Some(v) => Some(OsString::from(v)),
                    None if *takes_value => {
                        skip_value = true;
                        args.get(i + 1).cloned()
                    }
                    None => None,
                };
                let mut spelled = OsString::from(format!("--{full}"));
                if let Some(v) = value {
                    spelled.push("=");
                    spelled.push(v);
                }
                out.push(spelled);
                continue;
            }
        } else if let Some(shorts) = text.strip_prefix('-')
            && shorts.find('A').is_some_and(|at| at + 1 == shorts.len())
            && let Some(value) = args.get(i + 1)
        {
            // -A takes the next argument, even one starting with `-`
            // (netstat: "Unknown address family `-3'."); attached, clap
            // takes it too
            let mut joined = arg.clone();
            joined.push(value);
            out.push(joined);
            skip_value = true;
            continue;
        }
        out.push(arg.clone());
    }
    out
}

const SHORT_OPTIONS: &str = "A:CFMacdeghilnNoprsStuUvVWwx64?Z2fT";

/// netstat's address family aliases: (alias, canonical name).
const AF_ALIASES: &[(&str, &str)] = &[
    ("x25", "x25"),
    ("ax25", "ax25"),
    ("ip", "inet"),
    ("ip6", "inet6"),
    ("ipx", "ipx"),
    ("appletalk", "ddp"),
    ("netrom", "netrom"),
    ("inet", "inet"),
    ("inet6", "inet6"),
    ("ddp", "ddp"),
    ("unix", "unix"),
    ("tcpip", "inet"),
    ("econet", "ec"),
    ("rose", "rose"),
    ("ash", "ash"),
    ("bluetooth", "bluetooth"),
];

/// Whether the program runs under netstat's name (a `netstat` symlink),
/// where `-h` must print exactly what netstat prints.
pub fn invoked_as_netstat(program_name: &str) -> bool {
    std::path::Path::new(program_name)
        .file_name()
        .is_some_and(|name| name == "netstat")
}

/// Parse a command line (`args[0]` is the program name).
pub fn parse(args: &[OsString]) -> Parsed {
    let program_name = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "nlstat".into());
    if let Some((message, usage)) = getopt_diagnostic(&program_name, args) {
        return Parsed::Fail {
            message,
            usage,
            status: EXIT_USAGE,
        };
    }
    let expanded = expand_long_options(args);
    let matches = match RawArgs::command().try_get_matches_from(&expanded) {
        Ok(m) => m,
        Err(e) => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("bad arguments").to_string();
            return Parsed::Fail {
                message: format!("{program_name}: {first}\n"),
                usage: true,
                status: EXIT_USAGE,
            };
        }
    };
    let raw = match RawArgs::from_arg_matches(&matches) {
        Ok(r) => r,
        Err(e) => {
            return Parsed::Fail {
                message: format!("{program_name}: {e}"),
                usage: true,
                status: EXIT_USAGE,
            };
        }
    };
    // Family options act in command-line order, as netstat's aftrans_opt.
    let mut af_events: Vec<(usize, String)> = Vec::new();
    let push_flag = |id: &str, alias: &str, af_events: &mut Vec<(usize, String)>| {
        if let Some(indices) = given_indices(&matches, id) {
            for i in indices {
                af_events.push((i, alias.to_string()));
            }
        }
    };
    for (id, alias) in [
        ("inet", "inet"),
        ("inet6", "inet6"),
        ("unix", "unix"),
        ("ax25", "ax25"),
        ("ip", "ip"),
        ("ipx", "ipx"),
        ("appletalk", "appletalk"),
        ("netrom", "netrom"),
        ("ddp", "ddp"),
        ("tcpip", "tcpip"),
        ("econet", "econet"),
        ("x25", "x25"),
        ("rose", "rose"),
        ("ash", "ash"),
        ("bluetooth", "bluetooth"),
    ] {
        push_flag(id, alias, &mut af_events);
    }
    if let (Some(values), Some(indices)) = (
        matches.get_many::<String>("protocol"),
        matches.indices_of("protocol"),
    ) {
        for (v, i) in values.zip(indices) {
            af_events.push((i, v.clone()));
        }
    }
    af_events.sort_by_key(|(i, _)| *i);
    // getopt stops at the first -V, -h or -?, wherever it stands; the first
    // of them in argument order decides.
    let mut stop: Option<(usize, Parsed)> = None;
    for id in ["version", "help", "question"] {
        if let Some(i) = given_indices(&matches, id).and_then(|mut it| it.next())
            && stop.as_ref().is_none_or(|(j, _)| i < *j)
        {
            let parsed = match id {
                "version" => Parsed::Version,
                "help" => Parsed::Help {
                    own_options: !invoked_as_netstat(&program_name),
                },
                // netstat's -? is its usage error: all on stderr, status 3
                _ => Parsed::Fail {
                    message: String::new(),
                    usage: true,
                    status: EXIT_USAGE,
                },
            };
            stop = Some((i, parsed));
        }
    }
    let mut families = Families::default();
    let mut af_names: Vec<&'static str> = Vec::new();
    for (index, list) in &af_events {
        if let Some((j, _)) = &stop
            && j < index
        {
            break;
        }
        for name in list.split(',') {
            match AF_ALIASES.iter().find(|(alias, _)| *alias == name) {
                Some((_, canonical)) => {
                    match *canonical {
                        "inet" => families.inet = true,
                        "inet6" => families.inet6 = true,
                        "unix" => families.unix = true,
                        "ipx" => families.ipx = true,
                        "ax25" => families.ax25 = true,
                        "netrom" => families.netrom = true,
                        "x25" => families.x25 = true,
                        "rose" => families.rose = true,
                        "bluetooth" => families.bluetooth = true,
                        _ => {}
                    }
                    af_names.push(canonical);
                }
                None => {
                    return Parsed::Fail {
                        message: format!("Unknown address family `{name}'.\n"),
                        usage: false,
                        status: 1,
                    };
                }
            }
        }
    }
    if let Some((_, parsed)) = stop {
        return parsed;
    }
    if raw.context > 0 {
        return Parsed::Fail {
            message: "SELinux is not enabled on this machine.\n".into(),
            usage: false,
            status: 1,
        };
    }
    let source = match raw.own.source.as_deref() {
        None | Some("auto") | Some("netlink") => Source::Auto,
        Some("proc") => Source::Proc,
        Some(other) => {
            return Parsed::Fail {
                message: format!(
                    "{program_name}: --source: unknown source `{other}' (use netlink or proc)\n"
                ),
                usage: false,
                status: EXIT_USAGE,
            };
        }
    };
    let pid_source = match raw.own.pid_source.as_deref() {
        None | Some("auto") => PidSource::Auto,
        Some("bpf") => PidSource::Bpf,
        Some("proc") => PidSource::Proc,
        Some(other) => {
            return Parsed::Fail {
                message: format!(
                    "{program_name}: --pid-source: unknown source `{other}' (use auto, bpf or proc)\n"
                ),
                usage: false,
                status: EXIT_USAGE,
            };
        }
    };
    let modes = u32::from(raw.interfaces)
        + u32::from(raw.route)
        + u32::from(raw.masquerade)
        + u32::from(raw.statistics);
    if modes > 1 {
        return Parsed::Fail {
            message: String::new(),
            usage: true,
            status: EXIT_USAGE,
        };
    }
    let mode = if raw.masquerade > 0 {
        Mode::Masquerade
    } else if raw.statistics > 0 {
        Mode::Statistics
    } else if raw.route > 0 {
        Mode::Routes
    } else if raw.interfaces > 0 {
        Mode::Interfaces
    } else {
        Mode::Sockets
    };
    let view = match choose_view(&raw, mode) {
        Ok(view) => view,
        Err(message) => {
            return Parsed::Fail {
                message: format!("{program_name}: {message}\n"),
                usage: false,
                status: EXIT_USAGE,
            };
        }
    };
    let mut protocols = Protocols {
        tcp: raw.tcp > 0,
        sctp: raw.sctp > 0,
        udp: raw.udp > 0,
        udplite: raw.udplite > 0,
        raw: raw.raw > 0,
        groups: raw.groups > 0,
        l2cap: raw.l2cap > 0,
        rfcomm: raw.rfcomm > 0,
    };
    let serve = match raw
        .own
        .serve
        .as_deref()
        .map(crate::exporter::parse_listen_address)
    {
        None => None,
        Some(Ok(address)) => Some(address),
        Some(Err(message)) => {
            return Parsed::Fail {
                message: format!("{program_name}: {message}\n"),
                usage: false,
                status: EXIT_USAGE,
            };
        }
    };
    if raw.own.all_netns > 0 && raw.own.netns.is_some() {
        return Parsed::Fail {
            message: format!("{program_name}: --all-netns and --netns: choose one\n"),
            usage: false,
            status: EXIT_USAGE,
        };
    }
    let mut view = view;
    if raw.own.all_netns > 0
        && let Some(View::GroupBy { keys, .. }) = &mut view
        && !keys.contains(&crate::views::Key::Netns)
    {
        // every namespace's sockets are its own: counted apart unless
        // the keys place `netns` elsewhere
        keys.insert(0, crate::views::Key::Netns);
    }
    let min_interval = match raw.own.min_interval.as_deref() {
        None => 1.0,
        Some(text) => match text.parse::<f64>() {
            Ok(v) if v >= 0.0 && v.is_finite() => v,
            _ => {
                return Parsed::Fail {
                    message: format!(
                        "{program_name}: --min-interval: expected seconds, got `{text}'\n"
                    ),
                    usage: false,
                    status: EXIT_USAGE,
                };
            }
        },
    };
    if matches!(view, Some(View::Listeners | View::Ephemeral)) {
        // TCP views: the TCP tables of the families asked for
        protocols = Protocols {
            tcp: true,
            ..Protocols::default()
        };
        families.unix = false;
    }
    let any_inet_proto = |p: &Protocols| p.tcp || p.sctp || p.udp || p.udplite || p.raw;
    if (families.inet || families.inet6 || mode == Mode::Statistics) && !any_inet_proto(&protocols)
    {
        // netstat 2.10 leaves SCTP out of the implied socket set (observed:
        // -4 lists UDP and raw, with no SCTP complaint) but keeps it for -s
        // (an sctp/snmp file shows under plain -s).
        protocols.tcp = true;
        protocols.udp = true;
        protocols.udplite = true;
        protocols.raw = true;
        protocols.sctp = mode == Mode::Statistics;
    }
    if (any_inet_proto(&protocols) || protocols.groups) && !(families.inet || families.inet6) {
        families.inet = true;
        families.inet6 = true;
    }
    if families.bluetooth && !(protocols.l2cap || protocols.rfcomm) {
        protocols.l2cap = true;
        protocols.rfcomm = true;
    }
    let any_selection = any_inet_proto(&protocols)
        || families.unix
        || families.ipx
        || families.ax25
        || families.netrom
        || protocols.groups
        || families.x25
        || families.rose
        || protocols.l2cap
        || protocols.rfcomm;
    // netstat ignores operands; for socket tables they are nlstat's filter.
    let query = if mode == Mode::Sockets {
        let unix_only = families.unix && !any_inet_proto(&protocols);
        match filter_query(&raw.operands, unix_only) {
            Ok(query) => query,
            Err(e) => {
                return Parsed::Fail {
                    message: format!("{program_name}: bad filter: {e}\n"),
                    usage: false,
                    status: EXIT_USAGE,
                };
            }
        }
    } else {
        None
    };
    let numeric = raw.numeric > 0;
    // A view (the exporter too) is an aggregate: it counts every socket of
    // the chosen tables, as `ss -s` does, unless -l narrows it to servers
    // (states named in the filter replace both rules).
    let aggregate = view.is_some();
    Parsed::Run(Box::new(Config {
        mode,
        source,
        pid_source,
        all: raw.all > 0 || (aggregate && raw.listening == 0),
        listening: raw.listening > 0,
        numeric_hosts: numeric || raw.numeric_hosts > 0,
        numeric_ports: numeric || raw.numeric_ports > 0,
        numeric_users: numeric || raw.numeric_users > 0,
        symbolic: raw.symbolic > 0,
        extend: 1 + u32::from(raw.extend),
        programs: raw.programs > 0,
        timers: raw.timers > 0,
        wide: raw.wide > 0 || raw.notrim > 0,
        notrim: raw.notrim > 0,
        continuous: raw.continuous > 0,
        verbose: raw.verbose > 0,
        json: raw.own.json > 0,
        route_cache: raw.cache > 0,
        route_fib: raw.fib > 0,
        families,
        protocols,
        af_names,
        any_selection,
        serve,
        netns: raw.own.netns.clone(),
        all_netns: raw.own.all_netns > 0,
        // namespaces are read side by side already
        parallel_families: raw.own.all_netns == 0,
        textfile: raw.own.textfile.clone().map(Into::into),
        min_interval,
        view,
        query,
        program_name,
    }))
}

/// The view the options ask for: at most one, only over socket tables.
fn choose_view(raw: &RawArgs, mode: Mode) -> Result<Option<View>, String> {
    let own = &raw.own;
    let mut chosen: Vec<(&str, View)> = Vec::new();
    if let Some(keys) = &own.group_by {
        let top = match own.top.as_deref() {
            None => None,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if n > 0 => Some(n),
                _ => return Err(format!("--top: expected a positive number, got `{text}'")),
            },
        };
        let keys = crate::views::parse_keys(keys)?;
        if raw.programs == 0
            && let Some(key) = keys
                .iter()
                .find(|k| matches!(k, crate::views::Key::Pid | crate::views::Key::Program))
        {
            return Err(format!("--group-by {} needs -p", key.name()));
        }
        chosen.push(("--group-by", View::GroupBy { keys, top }));
    } else if own.top.is_some() {
        return Err("--top goes with --group-by".into());
    }
    if own.summary > 0 {
        chosen.push(("--summary", View::Summary));
    }
    if own.listeners > 0 {
        chosen.push(("--listeners", View::Listeners));
    }
    if own.ephemeral > 0 {
        chosen.push(("--ephemeral", View::Ephemeral));
    }
    let exporter = match (&own.serve, &own.textfile) {
        (Some(_), Some(_)) => return Err("--serve and --textfile: choose one".into()),
        (Some(_), None) => Some("--serve"),
        (None, Some(_)) => Some("--textfile"),
        (None, None) => None,
    };
    let max_series = match own.max_series.as_deref() {
        None => 100,
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| format!("--max-series: expected a number, got `{text}'"))?,
    };
    if let Some(name) = exporter {
        chosen.push((name, View::Exporter { max_series }));
    } else if own.max_series.is_some() {
        return Err("--max-series goes with --serve or --textfile".into());
    }
    // options that would be accepted and then ignored are refused
    if own.min_interval.is_some() && own.serve.is_none() {
        return Err("--min-interval goes with --serve (it spaces scrapes)".into());
    }
    if let Some(name) = exporter
        && own.json > 0
    {
        return Err(format!(
            "{name} writes Prometheus' text format; --json does not go with it"
        ));
    }
    if own.serve.is_some() && raw.continuous > 0 {
        return Err(
            "--serve collects at every scrape until stopped; -c does not go with it".into(),
        );
    }
    if own.pid_source.is_some() && raw.programs == 0 {
        return Err("--pid-source goes with -p".into());
    }
    if own.source.is_some() && mode != Mode::Sockets {
        return Err(format!(
            "--source chooses where socket tables come from; it does not go with {}",
            mode_flag(mode)
        ));
    }
    match chosen.len() {
        0 => Ok(None),
        1 => {
            let (name, view) = chosen.pop().expect("one view");
            let other = if mode != Mode::Sockets {
                Some(mode_flag(mode))
            } else if raw.groups > 0 {
                Some("-g")
            } else {
                None
            };
            match other {
                Some(flag) => Err(format!("{name} counts sockets; it does not go with {flag}")),
                None => Ok(Some(view)),
            }
        }
        _ => Err(format!(
            "{}: choose one view",
            chosen
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(" and ")
        )),
    }
}

/// The flag that chose a mode other than the socket tables.
fn mode_flag(mode: Mode) -> &'static str {
    match mode {
        Mode::Routes => "-r",
        Mode::Interfaces => "-i",
        Mode::Statistics => "-s",
        _ => "-M",
    }
}

/// The filter expression the operands spell, if any.
fn filter_query(
    operands: &[OsString],
    unix_only: bool,
) -> Result<Option<Query>, crate::filter::expr::ParseError> {
    if operands.is_empty() {
        return Ok(None);
    }
    let words: Vec<String> = operands
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    crate::filter::expr::parse(&words, unix_only).map(Some)
}

/// Positions of an option on the command line; `None` when it was not
/// given (clap reports positions for defaults too).
fn given_indices<'m>(matches: &'m clap::ArgMatches, id: &str) -> Option<clap::parser::Indices<'m>> {
    if matches.value_source(id) != Some(clap::parser::ValueSource::CommandLine) {
        return None;
    }
    matches.indices_of(id)
}

/// Find the first argument getopt_long would reject, and say it getopt's
/// way (with the usage text after it: the bool); a missing value of one of
/// nlstat's own options is said in one line of nlstat's style instead.
fn getopt_diagnostic(program: &str, args: &[OsString]) -> Option<(String, bool)> {
    let mut i = 1;
    while i < args.len() {
        let arg = args[i].to_string_lossy();
        i += 1;
        if arg == "--" {
            break;
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let option = match resolve_long(name) {
                Ok(o) => o,
                Err(candidates) if candidates.is_empty() => {
                    return Some((format!("{program}: unrecognized option '{arg}'\n"), true));
                }
                Err(candidates) => {
                    let mut list = String::new();
                    for n in &candidates {
                        list.push_str(&format!(" '--{n}'"));
                    }
                    return Some((
                        format!(
                            "{program}: option '--{name}' is ambiguous; possibilities:{list}\n"
                        ),
                        true,
                    ));
                }
            };
            match (option.1, value) {
                (false, Some(_)) if OWN_LONG_OPTIONS.contains(&option.0) => {
                    return Some((
                        format!("{program}: --{}: takes no value\n", option.0),
                        false,
                    ));
                }
                (false, Some(_)) => {
                    return Some((
                        format!(
                            "{program}: option '--{}' doesn't allow an argument\n",
                            option.0
                        ),
                        true,
                    ));
                }
                (true, None) => {
                    if i >= args.len() && OWN_LONG_OPTIONS.contains(&option.0) {
                        return Some((
                            format!("{program}: --{}: needs a value\n", option.0),
                            false,
                        ));
                    }
                    if i >= args.len() {
                        return Some((
                            format!("{program}: option '--{}' requires an argument\n", option.0),
                            true,
                        ));
                    }
                    i += 1;
                }
                _ => {}
            }
            continue;
        }
        let Some(shorts) = arg.strip_prefix('-') else {
            continue; // an operand; getopt permutes it out of the way
        };
        if shorts.is_empty() {
            continue;
        }
        for (pos, c) in shorts.char_indices() {
            let Some(at) = SHORT_OPTIONS.find(c).filter(|_| c != ':') else {
                return Some((format!("{program}: invalid option -- '{c}'\n"), true));
            };
            if SHORT_OPTIONS[at + c.len_utf8()..].starts_with(':') {
                if pos + c.len_utf8() == shorts.len() {
                    if i >= args.len() {
                        return Some((
                            format!("{program}: option requires an argument -- '{c}'\n"),
                            true,
                        ));
                    }
                    i += 1;
                }
                break;
            }
        }
    }
    None
}

/// netstat's usage text; `-h` prints it on stdout with the family list on
/// stderr, a bad option prints all of it on stderr.
pub const USAGE: &str =
    "usage: netstat [-vWeenNcCF] [<Af>] -r         netstat {-V|--version|-h|--help}
       netstat [-vWnNcaeol] [<Socket> ...]
       netstat { [-vWeenNac] -i | [-cnNe] -M | -s [-6tuw] }

        -r, --route              display routing table
        -i, --interfaces         display interface table
        -g, --groups             display multicast group memberships
        -s, --statistics         display networking statistics (like SNMP)
        -M, --masquerade         display masqueraded connections

        -v, --verbose            be verbose
        -W, --wide               don't truncate IP addresses
        -n, --numeric            don't resolve names
        --numeric-hosts          don't resolve host names
        --numeric-ports          don't resolve port names
        --numeric-users          don't resolve user names
        -N, --symbolic           resolve hardware names
        -e, --extend             display other/more information
        -p, --programs           display PID/Program name for sockets
        -o, --timers             display timers
        -c, --continuous         continuous listing

        -l, --listening          display listening server sockets
        -a, --all                display all sockets (default: connected)
        -F, --fib                display Forwarding Information Base (default)
        -C, --cache              display routing cache instead of FIB
        -Z, --context            display SELinux security context for sockets

  <Socket>={-t|--tcp} {-u|--udp} {-U|--udplite} {-S|--sctp} {-w|--raw}
           {-x|--unix} --ax25 --ipx --netrom
  <AF>=Use '-6|-4' or '-A <af>' or '--<af>'; default: inet
  List of possible address families (which support routing):
";

/// The routable address family list that ends the usage text.
pub const AF_LIST: &str = "    inet (DARPA Internet) inet6 (IPv6) ax25 (AMPR AX.25) 
    netrom (AMPR NET/ROM) rose (AMPR ROSE) ipx (Novell IPX) 
    ddp (Appletalk DDP) x25 (CCITT X.25) 
";

pub const VERSION_TEXT: &str = concat!(
    "nlstat ",
    env!("CARGO_PKG_VERSION"),
    " (net-tools 2.10 compatible netstat over NETLINK_SOCK_DIAG)\n"
);

/// What `nlstat -h` prints after netstat's usage text (on stdout, after
/// the family list on stderr): nlstat's own options, listed from the clap
/// definition so that a new option shows up by itself, and the filter
/// language in brief. Invoked as `netstat`, none of it is printed.
pub fn own_options_help() -> String {
    let mut out =
        String::from("\nnlstat's own options (long only; all of the above stays netstat's):\n");
    let cmd = RawArgs::command();
    let own = cmd
        .get_arguments()
        .filter(|a| a.get_help_heading() == Some(OWN_OPTIONS_HEADING) && !a.is_hide_set());
    for arg in own {
        let Some(long) = arg.get_long() else {
            continue;
        };
        let mut left = format!("--{long}");
        if arg.get_action().takes_values() {
            for name in arg.get_value_names().unwrap_or_default() {
                left.push(' ');
                left.push_str(name);
            }
        }
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        push_help_row(&mut out, 25, &left, &help_summary(&help));
    }
    out.push_str("\n  <Filter>: words after the options select socket rows, as in ss(8):\n");
    let states = crate::filter::expr::STATE_NAMES.join(" ");
    let groups = crate::filter::expr::STATE_GROUPS.join(" ");
    for (left, text) in [
        ("state S, exclude S", format!("S: {states}")),
        ("", format!("or a group: {groups}")),
        (
            "src|dst ADDR[/LEN][:PORT]",
            "also [IPV6], *:PORT, :PORT or a host name; for unix sockets a shell pattern \
             (/run/*, @name)"
                .into(),
        ),
        (
            "sport|dport [OP] [:]PORT",
            "OP: = != < <= > >= (or eq ne lt le gt ge); PORT may be a service name".into(),
        ),
        (
            "and, or, not, ( )",
            "and/or bind equally, left to right; side by side means and".into(),
        ),
    ] {
        push_help_row(&mut out, 29, left, &text);
    }
    out.push_str(
        "  e.g. nlstat -tan state established '( dport = :443 or sport = :443 )'\n\
         \x20 See nlstat(1) for views, JSON fields, exporter metrics and exit statuses.\n",
    );
    out
}

/// A clap help line in the usage text's style: no final period, a
/// lowercase first word unless it is an acronym, no markdown quotes.
fn help_summary(help: &str) -> String {
    let text = help.trim().trim_end_matches('.').replace('`', "");
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && second.is_lowercase() => first
            .to_lowercase()
            .chain(text[first.len_utf8()..].chars())
            .collect(),
        _ => text,
    }
}

/// One `        OPTION   text` row of the usage text: the text starts at
/// column 8 + `width` and wraps before column 80 (on the next line when
/// the option is too wide).
fn push_help_row(out: &mut String, width: usize, left: &str, text: &str) {
    const INDENT: usize = 8;
    const COLUMNS: usize = 79;
    let start = out.len();
    out.push_str(&" ".repeat(INDENT));
    out.push_str(left);
    let column = INDENT + width;
    let mut line_start = start;
    if left.len() >= width {
        out.push('\n');
        line_start = out.len();
        out.push_str(&" ".repeat(column));
    } else {
        out.push_str(&" ".repeat(width - left.len()));
    }
    let mut at_column_start = true;
    for word in text.split_whitespace() {
        if !at_column_start && out.len() - line_start + 1 + word.len() > COLUMNS {
            out.push('\n');
            line_start = out.len();
            out.push_str(&" ".repeat(column));
            at_column_start = true;
        }
        if !at_column_start {
            out.push(' ');
        }
        out.push_str(word);
        at_column_start = false;
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Parsed {
        let v: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&v)
    }

    fn config(args: &[&str]) -> Config {
        match run(args) {
            Parsed::Run(c) => *c,
            other => panic!("expected a run for {args:?}, got {other:?}"),
        }
    }

    #[test]
    fn combined_short_flags() {
        let c = config(&["netstat", "-tanpe"]);
        assert!(c.protocols.tcp && c.all && c.numeric_hosts && c.programs);
        assert_eq!(c.extend, 2);
        assert!(c.families.inet && c.families.inet6);
        assert!(!c.protocols.udp);
    }

    #[test]
    fn double_e_counts() {
        assert_eq!(config(&["netstat", "-ee"]).extend, 3);
    }

    #[test]
    fn protocol_list_in_order() {
        let c = config(&["netstat", "--protocol=inet6,inet", "-A", "unix"]);
        assert_eq!(c.af_names, vec!["inet6", "inet", "unix"]);
        assert!(c.families.unix && c.protocols.tcp && c.protocols.raw);
        let c = config(&["netstat", "-6", "-4"]);
        assert_eq!(c.af_names, vec!["inet6", "inet"]);
    }

    #[test]
    fn nothing_selected_means_everything() {
        let c = config(&["netstat"]);
        assert!(!c.any_selection);
        assert!(c.wants_inet_section() && c.wants(c.families.unix));
    }

    #[test]
    fn getopt_messages() {
        let fail = |args: &[&str]| match run(args) {
            Parsed::Fail {
                message, status, ..
            } => (message, status),
            other => panic!("expected failure, got {other:?}"),
        };
        assert_eq!(
            fail(&["netstat", "-z"]),
            ("netstat: invalid option -- 'z'\n".into(), 3)
        );
        assert_eq!(
            fail(&["netstat", "-tz"]).0,
            "netstat: invalid option -- 'z'\n"
        );
        assert_eq!(
            fail(&["netstat", "--bogus"]).0,
            "netstat: unrecognized option '--bogus'\n"
        );
        assert_eq!(
            fail(&["netstat", "-A"]).0,
            "netstat: option requires an argument -- 'A'\n"
        );
        assert_eq!(
            fail(&["netstat", "--protocol"]).0,
            "netstat: option '--protocol' requires an argument\n"
        );
        assert_eq!(
            fail(&["netstat", "--tcp=3"]).0,
            "netstat: option '--tcp' doesn't allow an argument\n"
        );
        assert!(
            fail(&["netstat", "--num"])
                .0
                .contains("is ambiguous; possibilities: '--numeric'")
        );
        assert_eq!(
            fail(&["netstat", "-A", "foo"]),
            ("Unknown address family `foo'.\n".into(), 1)
        );
        assert_eq!(fail(&["netstat", "-r", "-i"]).1, 3);
    }

    #[test]
    fn all_netns_counts_each_namespace_apart() {
        use crate::views::Key;
        let keys = |args: &[&str]| match config(args).view {
            Some(View::GroupBy { keys, .. }) => keys,
            other => panic!("{other:?}"),
        };
        let all = ["netstat", "--all-netns", "--group-by", "state"];
        assert_eq!(keys(&all), vec![Key::Netns, Key::State]);
        let placed = ["netstat", "--all-netns", "--group-by", "state,netns"];
        assert_eq!(keys(&placed), vec![Key::State, Key::Netns]);
        assert_eq!(keys(&["netstat", "--group-by", "state"]), vec![Key::State]);
        assert!(!config(&["netstat", "--all-netns"]).parallel_families);
        match run(&["netstat", "--all-netns", "--netns", "x"]) {
            Parsed::Fail { status, .. } => assert_eq!(status, EXIT_USAGE),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn own_options_help_lists_every_own_long_option() {
        let text = own_options_help();
        for name in OWN_LONG_OPTIONS {
            assert!(
                text.contains(&format!("        --{name}")),
                "--{name} missing from:\n{text}"
            );
        }
        for line in text.lines() {
            assert!(line.chars().count() <= 79, "too wide: {line:?}");
            assert!(!line.ends_with(' '), "trailing blank: {line:?}");
        }
        assert!(text.contains("--serve [ADDR:]PORT"), "{text}");
    }

    /// The --group-by text lists every key the parser takes.
    #[test]
    fn group_by_help_names_every_key() {
        let cmd = RawArgs::command();
        let help = cmd
            .get_arguments()
            .find(|a| a.get_id() == "group_by")
            .and_then(|a| a.get_long_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        for key in crate::views::KEY_NAMES {
            assert!(help.contains(key), "--group-by's help lacks {key}: {help}");
        }
    }

    #[test]
    fn help_rows_wrap_under_their_column() {
        let mut out = String::new();
        push_help_row(&mut out, 10, "--x", &"word ".repeat(30));
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() > 1);
        assert!(lines[0].starts_with("        --x       word"));
        for line in &lines[1..] {
            assert!(line.starts_with(&" ".repeat(18)) && !line.starts_with(&" ".repeat(19)));
        }
        assert!(lines.iter().all(|l| l.len() <= 79));
        let mut out = String::new();
        push_help_row(&mut out, 5, "--long-option", "text");
        assert_eq!(out, "        --long-option\n             text\n");
        assert_eq!(help_summary("Where `x` is."), "where x is");
        assert_eq!(help_summary("JSON Lines."), "JSON Lines");
    }

    #[test]
    fn prefixes_and_help() {
        assert!(config(&["netstat", "--numeric-h"]).numeric_hosts);
        assert!(matches!(
            run(&["netstat", "-t", "-h"]),
            Parsed::Help { own_options: false }
        ));
        assert!(matches!(
            run(&["/usr/local/bin/netstat", "--help"]),
            Parsed::Help { own_options: false }
        ));
        assert!(matches!(
            run(&["nlstat", "-h"]),
            Parsed::Help { own_options: true }
        ));
        assert!(matches!(
            run(&["./target/release/nlstat", "--he"]),
            Parsed::Help { own_options: true }
        ));
        assert!(matches!(run(&["netstat", "-V", "-h"]), Parsed::Version));
        assert!(config(&["netstat", "--sou", "proc"]).source == Source::Proc);
    }

    /// `--programs` and its alias `--program` are one option to getopt:
    /// `--prog` is -p, and an ambiguity lists it once (as netstat does:
    /// `possibilities: '--protocol' '--programs'`).
    #[test]
    fn program_alias_is_one_option() {
        assert!(config(&["netstat", "--prog"]).programs);
        assert!(config(&["netstat", "--progr"]).programs);
        match run(&["netstat", "--p"]) {
            Parsed::Fail { message, .. } => assert_eq!(
                message,
                "netstat: option '--p' is ambiguous; possibilities: '--protocol' '--programs'\n"
            ),
            other => panic!("expected an ambiguity, got {other:?}"),
        }
    }

    /// Every bad value or combination of nlstat's own options: one line
    /// naming the option given (and only options given), status 3.
    #[test]
    fn own_option_errors_name_the_option() {
        for (args, option) in [
            (&["--group-by", "state", "--top", "-3"][..], "--top"),
            (&["--group-by", "state", "--top=0"], "--top"),
            (
                &["--serve", "9477", "--min-interval", "-1"],
                "--min-interval",
            ),
            (&["-tan", "--min-interval", "5"], "--min-interval"),
            (
                &["--textfile", "x", "--min-interval", "5"],
                "--min-interval",
            ),
            (&["-tan", "--max-series", "5"], "--max-series"),
            (&["--serve", "9477", "--max-series", "-2"], "--max-series"),
            (&["--serve", "9477", "-c"], "--serve"),
            (&["--serve", "9477", "--json"], "--serve"),
            (&["--textfile", "x", "--json"], "--textfile"),
            (&["--serve", "-1"], "--serve"),
            (&["--pid-source", "bpf", "-t"], "--pid-source"),
            (&["--source", "proc", "-r"], "--source"),
            (&["--source", "-x"], "--source"),
            (&["--top"], "--top"),
            (&["--json=yes"], "--json"),
            (&["--group-by", "-x"], "--group-by"),
            (&["--group-by", "state", "--summary"], "--group-by"),
        ] {
            let mut argv = vec!["nlstat"];
            argv.extend_from_slice(args);
            match run(&argv) {
                Parsed::Fail {
                    message,
                    usage,
                    status,
                } => {
                    assert_eq!((status, usage), (EXIT_USAGE, false), "{argv:?}: {message}");
                    assert!(
                        message.starts_with(&format!("nlstat: {option}")),
                        "{argv:?}: {message}"
                    );
                    assert_eq!(message.lines().count(), 1, "{argv:?}: {message}");
                    assert!(message.ends_with('\n'));
                    // no option is blamed that was not given (a hint
                    // after "goes with" may name one)
                    let blamed = message.split(" goes with ").next().unwrap_or_default();
                    for other in OWN_LONG_OPTIONS {
                        let other = format!("--{other}");
                        let given = argv.iter().any(|a| a.starts_with(&other));
                        assert!(
                            given || !blamed.contains(&format!("{other} ")),
                            "{argv:?} names {other}: {message}"
                        );
                    }
                }
                other => panic!("{argv:?}: expected a failure, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_value_may_start_with_a_dash() {
        match run(&["netstat", "-A", "-3"]) {
            Parsed::Fail {
                message, status, ..
            } => assert_eq!(
                (message.as_str(), status),
                ("Unknown address family `-3'.\n", 1)
            ),
            other => panic!("{other:?}"),
        }
        let c = config(&["netstat", "--group-by", "state", "--top", "3"]);
        assert!(matches!(c.view, Some(View::GroupBy { top: Some(3), .. })));
        let c = config(&["netstat", "-tA", "inet", "-n"]);
        assert!(c.protocols.tcp && c.numeric_hosts && c.af_names == ["inet"]);
    }

    #[test]
    fn pid_source() {
        assert_eq!(config(&["netstat", "-tanp"]).pid_source, PidSource::Auto);
        assert_eq!(
            config(&["netstat", "--pid-source", "bpf", "-tanp"]).pid_source,
            PidSource::Bpf
        );
        // getopt-style abbreviation; no netstat option starts with "pi"
        assert_eq!(
            config(&["netstat", "--pi=proc", "-p"]).pid_source,
            PidSource::Proc
        );
        // netstat's own abbreviations keep their meaning (`--p` is still
        // ambiguous between netstat's, see program_alias_is_one_option)
        assert!(config(&["netstat", "--prog"]).programs);
        match run(&["netstat", "--pid-source", "ebpf"]) {
            Parsed::Fail {
                message, status, ..
            } => {
                assert_eq!(status, 3);
                assert!(
                    message.starts_with("netstat: --pid-source: unknown source `ebpf'"),
                    "{message}"
                );
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}
