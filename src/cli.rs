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

#[derive(Parser, Debug, Default)]
#[command(
    name = "netstat",
    disable_help_flag = true,
    disable_version_flag = true,
    infer_long_args = true,
    allow_negative_numbers = false
)]
pub struct RawArgs {
    #[arg(short = 'A', long = "protocol", action = ArgAction::Append, value_name = "AF")]
    pub protocol: Vec<String>,
    #[arg(short = 'C', long = "cache", action = ArgAction::Count)]
    pub cache: u8,
    #[arg(short = 'F', long = "fib", action = ArgAction::Count)]
    pub fib: u8,
    #[arg(short = 'M', long = "masquerade", action = ArgAction::Count)]
    pub masquerade: u8,
    #[arg(short = 'a', long = "all", action = ArgAction::Count)]
    pub all: u8,
    #[arg(short = 'c', long = "continuous", action = ArgAction::Count)]
    pub continuous: u8,
    #[arg(short = 'd', action = ArgAction::Count)]
    pub debug: u8,
    #[arg(short = 'e', long = "extend", action = ArgAction::Count)]
    pub extend: u8,
    #[arg(short = 'g', long = "groups", action = ArgAction::Count)]
    pub groups: u8,
    #[arg(short = 'h', long = "help", action = ArgAction::Count)]
    pub help: u8,
    #[arg(short = '?', action = ArgAction::Count)]
    pub question: u8,
    #[arg(short = 'i', long = "interfaces", action = ArgAction::Count)]
    pub interfaces: u8,
    #[arg(short = 'l', long = "listening", action = ArgAction::Count)]
    pub listening: u8,
    #[arg(short = 'n', long = "numeric", action = ArgAction::Count)]
    pub numeric: u8,
    #[arg(long = "numeric-hosts", action = ArgAction::Count)]
    pub numeric_hosts: u8,
    #[arg(long = "numeric-ports", action = ArgAction::Count)]
    pub numeric_ports: u8,
    #[arg(long = "numeric-users", action = ArgAction::Count)]
    pub numeric_users: u8,
    #[arg(short = 'N', long = "symbolic", action = ArgAction::Count)]
    pub symbolic: u8,
    #[arg(short = 'o', long = "timers", action = ArgAction::Count)]
    pub timers: u8,
    #[arg(short = 'p', long = "programs", visible_alias = "program", action = ArgAction::Count)]
    pub programs: u8,
    #[arg(short = 'r', long = "route", action = ArgAction::Count)]
    pub route: u8,
    #[arg(short = 's', long = "statistics", action = ArgAction::Count)]
    pub statistics: u8,
    #[arg(short = 'S', long = "sctp", action = ArgAction::Count)]
    pub sctp: u8,
    #[arg(short = 't', long = "tcp", action = ArgAction::Count)]
    pub tcp: u8,
    #[arg(short = 'u', long = "udp", action = ArgAction::Count)]
    pub udp: u8,
    #[arg(short = 'U', long = "udplite", action = ArgAction::Count)]
    pub udplite: u8,
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    pub verbose: u8,
    #[arg(short = 'V', long = "version", action = ArgAction::Count)]
    pub version: u8,
    #[arg(short = 'W', long = "wide", action = ArgAction::Count)]
    pub wide: u8,
    #[arg(short = 'T', long = "notrim", action = ArgAction::Count)]
    pub notrim: u8,
    #[arg(short = 'w', long = "raw", action = ArgAction::Count)]
    pub raw: u8,
    #[arg(short = 'x', long = "unix", action = ArgAction::Count)]
    pub unix: u8,
    #[arg(short = '6', long = "inet6", action = ArgAction::Count)]
    pub inet6: u8,
    #[arg(short = '4', long = "inet", action = ArgAction::Count)]
    pub inet: u8,
    #[arg(short = '2', long = "l2cap", action = ArgAction::Count)]
    pub l2cap: u8,
    #[arg(short = 'f', long = "rfcomm", action = ArgAction::Count)]
    pub rfcomm: u8,
    #[arg(short = 'Z', long = "context", action = ArgAction::Count)]
    pub context: u8,
    #[arg(long = "ax25", action = ArgAction::Count)]
    pub ax25: u8,
    #[arg(long = "ip", action = ArgAction::Count)]
    pub ip: u8,
    #[arg(long = "ipx", action = ArgAction::Count)]
    pub ipx: u8,
    #[arg(long = "appletalk", action = ArgAction::Count)]
    pub appletalk: u8,
    #[arg(long = "netrom", action = ArgAction::Count)]
    pub netrom: u8,
    #[arg(long = "ddp", action = ArgAction::Count)]
    pub ddp: u8,
    #[arg(long = "tcpip", action = ArgAction::Count)]
    pub tcpip: u8,
    #[arg(long = "econet", action = ArgAction::Count)]
    pub econet: u8,
    #[arg(long = "x25", action = ArgAction::Count)]
    pub x25: u8,
    #[arg(long = "rose", action = ArgAction::Count)]
    pub rose: u8,
    #[arg(long = "ash", action = ArgAction::Count)]
    pub ash: u8,
    #[arg(long = "bluetooth", action = ArgAction::Count)]
    pub bluetooth: u8,
    #[command(flatten)]
    pub own: NlstatArgs,
    /// getopt ignores operands; for socket tables they are nlstat's filter
    /// expression.
    #[arg(hide = true, num_args = 0.., trailing_var_arg = false)]
    pub operands: Vec<OsString>,
}

/// nlstat's own options: long options only, so that every short letter
/// stays netstat's.
#[derive(clap::Args, Debug, Default)]
#[command(next_help_heading = "nlstat options")]
pub struct NlstatArgs {
    /// Where socket tables come from (`netlink` or `proc`).
    #[arg(long = "source", value_name = "SOURCE")]
    pub source: Option<String>,
    /// Where -p finds socket owners (`auto`, `bpf` or `proc`).
    #[arg(long = "pid-source", value_name = "SOURCE")]
    pub pid_source: Option<String>,
    /// JSON Lines: one object per row, typed values, no headers.
    #[arg(long = "json", action = ArgAction::Count)]
    pub json: u8,
    /// Count sockets per distinct tuple of these keys.
    #[arg(long = "group-by", value_name = "KEYS")]
    pub group_by: Option<String>,
    /// Keep the first N rows of --group-by.
    #[arg(long = "top", value_name = "N")]
    pub top: Option<String>,
    /// Counts per protocol, family and state, and the kernel's totals.
    #[arg(long = "summary", action = ArgAction::Count)]
    pub summary: u8,
    /// Listening TCP sockets: accept queues, backlogs, connections.
    #[arg(long = "listeners", action = ArgAction::Count)]
    pub listeners: u8,
    /// Ephemeral port use per (local address, remote address, port).
    #[arg(long = "ephemeral", action = ArgAction::Count)]
    pub ephemeral: u8,
    /// Serve Prometheus metrics over HTTP on [ADDR:]PORT.
    #[arg(long = "serve", value_name = "ADDR:PORT")]
    pub serve: Option<String>,
    /// Write the metrics to PATH (every tick with -c), atomically.
    #[arg(long = "textfile", value_name = "PATH")]
    pub textfile: Option<OsString>,
    /// Reuse a collection younger than this many seconds (default 1).
    #[arg(long = "min-interval", value_name = "SECONDS")]
    pub min_interval: Option<String>,
    /// Ephemeral-port pairs exported at most (default 100).
    #[arg(long = "max-series", value_name = "N")]
    pub max_series: Option<String>,
    /// Run in this network namespace (a name in /run/netns or a path).
    #[arg(long = "netns", value_name = "NAME|PATH")]
    pub netns: Option<String>,
    /// Every network namespace of the host, one after another.
    #[arg(long = "all-netns", action = ArgAction::Count)]
    pub all_netns: u8,
}

/// What the command line asks for, before any work is done.
#[derive(Debug)]
pub enum Parsed {
    Run(Box<Config>),
    /// `-h`: usage on stdout (the address family list on stderr), status 0.
    Help,
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
        if i == 0 || skip_value || options_done {
            skip_value = false;
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
                skip_value = *takes_value && value.is_none();
                out.push(match value {
                    Some(v) => format!("--{full}={v}").into(),
                    None => format!("--{full}").into(),
                });
                continue;
            }
        } else if let Some(shorts) = text.strip_prefix('-') {
            // -A takes the next argument unless its value is attached
            skip_value = shorts.ends_with('A') && !shorts.is_empty();
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

/// Parse a command line (`args[0]` is the program name).
pub fn parse(args: &[OsString]) -> Parsed {
    let program_name = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_else(|| "nlstat".into());
    if let Some(message) = getopt_diagnostic(&program_name, args) {
        return Parsed::Fail {
            message,
            usage: true,
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
    for (id, kind) in [("version", 0), ("help", 1), ("question", 1)] {
        if let Some(i) = given_indices(&matches, id).and_then(|mut it| it.next())
            && stop.as_ref().is_none_or(|(j, _)| i < *j)
        {
            let parsed = if kind == 0 {
                Parsed::Version
            } else {
                Parsed::Help
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
                    "{program_name}: unknown --source `{other}' (use netlink or proc)\n"
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
                    "{program_name}: unknown --pid-source `{other}' (use auto, bpf or proc)\n"
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
    if raw.own.all_netns > 0 {
        let unsupported = if raw.own.netns.is_some() {
            Some("--netns")
        } else if raw.continuous > 0 {
            Some("-c")
        } else if raw.own.serve.is_some() || raw.own.textfile.is_some() {
            Some("--serve/--textfile")
        } else if view.is_some() {
            Some("a view")
        } else {
            None
        };
        if let Some(other) = unsupported {
            return Parsed::Fail {
                message: format!("{program_name}: --all-netns does not go with {other} yet\n"),
                usage: false,
                status: EXIT_USAGE,
            };
        }
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
    // the exporter covers every state unless -l narrows it
    let exporting = matches!(view, Some(View::Exporter { .. }));
    Parsed::Run(Box::new(Config {
        mode,
        source,
        pid_source,
        all: raw.all > 0 || (exporting && raw.listening == 0),
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
        parallel_families: true,
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
    } else if own.max_series.is_some() || own.min_interval.is_some() {
        return Err("--max-series and --min-interval go with --serve or --textfile".into());
    }
    match chosen.len() {
        0 => Ok(None),
        1 => {
            let (name, view) = chosen.pop().expect("one view");
            let other = if mode != Mode::Sockets {
                Some(match mode {
                    Mode::Routes => "-r",
                    Mode::Interfaces => "-i",
                    Mode::Statistics => "-s",
                    _ => "-M",
                })
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
            "choose one view: {} cannot be combined",
            chosen
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(" and ")
        )),
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

/// Find the first argument getopt_long would reject, and say it getopt's way.
fn getopt_diagnostic(program: &str, args: &[OsString]) -> Option<String> {
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
                    return Some(format!("{program}: unrecognized option '{arg}'\n"));
                }
                Err(candidates) => {
                    let mut list = String::new();
                    for n in &candidates {
                        list.push_str(&format!(" '--{n}'"));
                    }
                    return Some(format!(
                        "{program}: option '--{name}' is ambiguous; possibilities:{list}\n"
                    ));
                }
            };
            match (option.1, value) {
                (false, Some(_)) => {
                    return Some(format!(
                        "{program}: option '--{}' doesn't allow an argument\n",
                        option.0
                    ));
                }
                (true, None) => {
                    if i >= args.len() {
                        return Some(format!(
                            "{program}: option '--{}' requires an argument\n",
                            option.0
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
                return Some(format!("{program}: invalid option -- '{c}'\n"));
            };
            if SHORT_OPTIONS[at + c.len_utf8()..].starts_with(':') {
                if pos + c.len_utf8() == shorts.len() {
                    if i >= args.len() {
                        return Some(format!("{program}: option requires an argument -- '{c}'\n"));
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
    fn prefixes_and_help() {
        assert!(config(&["netstat", "--numeric-h"]).numeric_hosts);
        assert!(matches!(run(&["netstat", "-t", "-h"]), Parsed::Help));
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
                assert!(message.contains("unknown --pid-source `ebpf'"), "{message}");
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}
