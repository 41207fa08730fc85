//! Resolved settings: what the rest of the program reads instead of raw flags.

use crate::collect::procfs::ProcRoot;
use crate::filter::Placement;

/// What nlstat prints this run; netstat allows only one table mode at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Sockets,
    Routes,
    Interfaces,
    Statistics,
    Masquerade,
}

/// The environment nlstat reads, read once at start into the
/// configuration and passed down from there (tests point nlstat at a
/// fake /proc or keep a filter on one side of the kernel boundary).
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// Where /proc is: `NLSTAT_PROC_ROOT` overrides it for tests.
    pub proc_root: ProcRoot,
    /// Where a filter runs: `NLSTAT_FILTER_IN` (`kernel` or `user`)
    /// keeps one side only, for tests that compare them.
    pub filter_in: Placement,
    /// The kernel BTF the `-p` iterator is built from: `NLSTAT_BTF_PATH`
    /// (tests point it at a missing or garbage file); `None`: the kernel's.
    pub btf_path: Option<std::path::PathBuf>,
    /// `NLSTAT_BPF_REJECT` (non-empty): emit an iterator program the
    /// verifier rejects, for tests of the fallback and its message.
    pub bpf_reject: bool,
    /// `NLSTAT_LIVE_PANIC` (non-empty): `--live` panics after its first
    /// frame, for the test that the panic path gives the terminal back.
    pub live_panic: bool,
    /// How long host lookups may hold up a table:
    /// `NLSTAT_RESOLVE_TIMEOUT_MS` (tests and slow resolvers); `None`: the
    /// default deadline.
    pub resolve_timeout: Option<std::time::Duration>,
}

impl Inputs {
    /// Read the environment.
    pub fn from_env() -> Self {
        Inputs {
            proc_root: match std::env::var_os("NLSTAT_PROC_ROOT") {
                Some(path) => ProcRoot(path.into()),
                None => ProcRoot::default(),
            },
            filter_in: match std::env::var("NLSTAT_FILTER_IN").as_deref() {
                Ok("kernel") => Placement {
                    kernel: true,
                    user: false,
                },
                Ok("user") => Placement {
                    kernel: false,
                    user: true,
                },
                _ => Placement {
                    kernel: true,
                    user: true,
                },
            },
            btf_path: std::env::var_os("NLSTAT_BTF_PATH").map(Into::into),
            bpf_reject: std::env::var_os("NLSTAT_BPF_REJECT").is_some_and(|v| !v.is_empty()),
            live_panic: std::env::var_os("NLSTAT_LIVE_PANIC").is_some_and(|v| !v.is_empty()),
            resolve_timeout: std::env::var("NLSTAT_RESOLVE_TIMEOUT_MS")
                .ok()
                .and_then(|v| v.parse().ok())
                .map(std::time::Duration::from_millis),
        }
    }
}

/// What an empty environment gives.
impl Default for Inputs {
    fn default() -> Self {
        Inputs {
            proc_root: ProcRoot::default(),
            filter_in: Placement {
                kernel: true,
                user: true,
            },
            btf_path: None,
            bpf_reject: false,
            live_panic: false,
            resolve_timeout: None,
        }
    }
}

/// Which load-balancer view (`crate::views`) replaces the socket rows,
/// with its options. Chosen here, counted there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    GroupBy {
        keys: Vec<Key>,
        top: Option<usize>,
        /// `--sort`: the numeric column rows are ordered by, descending
        /// (`count` when not given).
        sort: Option<String>,
    },
    Summary,
    Listeners,
    Ephemeral,
    /// `--serve`/`--textfile`: every aggregate at once, as metrics.
    Exporter {
        max_series: usize,
    },
}

/// A `--group-by` key: a JSON field name of socket rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Proto,
    Family,
    State,
    LocalAddr,
    LocalPort,
    RemoteAddr,
    RemotePort,
    /// The peer's network: IPv4 /24 and IPv6 /64 unless a length is given.
    RemoteNet(Option<u8>),
    Uid,
    User,
    Pid,
    Program,
    /// The network namespace the socket is in (`--all-netns`).
    Netns,
}

impl Key {
    pub fn name(self) -> String {
        match self {
            Key::Proto => "proto".into(),
            Key::Family => "family".into(),
            Key::State => "state".into(),
            Key::LocalAddr => "local_addr".into(),
            Key::LocalPort => "local_port".into(),
            Key::RemoteAddr => "remote_addr".into(),
            Key::RemotePort => "remote_port".into(),
            Key::RemoteNet(None) => "remote_net".into(),
            Key::RemoteNet(Some(len)) => format!("remote_net/{len}"),
            Key::Uid => "uid".into(),
            Key::User => "user".into(),
            Key::Pid => "pid".into(),
            Key::Program => "program".into(),
            Key::Netns => "netns".into(),
        }
    }
}

/// What format the run writes its records in. One choice instead of a
/// flag per format, so a new format is one more arm here and one more sink.
/// (The exporter's exposition is chosen by its driver, `--serve` or
/// `--textfile`, not here.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
    /// netstat's tables, byte for byte.
    #[default]
    NetstatText,
    /// `--json`: one JSON object per line.
    JsonLines,
}

impl Output {
    /// JSON Lines rather than text: no headers, no name lookups for display.
    pub fn is_json(self) -> bool {
        self == Output::JsonLines
    }
}

/// Where socket tables come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// sock_diag, falling back to /proc per protocol when the kernel lacks a
    /// diag module for it.
    Auto,
    /// /proc/net text for everything, as net-tools reads it.
    Proc,
}

/// Where `-p` learns which process holds each socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PidSource {
    /// The BPF task_file iterator when nlstat may load it, /proc otherwise.
    #[default]
    Auto,
    /// The iterator, or an error saying why it cannot be loaded.
    Bpf,
    /// The /proc/*/fd walk, as netstat does.
    Proc,
}

/// Where views count sockets (`--view-source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ViewSource {
    /// The BPF socket iterators when nlstat may load them, sock_diag
    /// otherwise.
    #[default]
    Auto,
    /// The iterators, or an error saying why they cannot be used.
    Bpf,
    /// sock_diag dumps.
    Netlink,
}

/// Address families netstat knows by name (`-A`, `--inet`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Families {
    pub inet: bool,
    pub inet6: bool,
    pub unix: bool,
    pub ipx: bool,
    pub ax25: bool,
    pub netrom: bool,
    pub x25: bool,
    pub rose: bool,
    pub bluetooth: bool,
}

/// Which socket tables were asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Protocols {
    pub tcp: bool,
    pub sctp: bool,
    pub udp: bool,
    pub udplite: bool,
    pub raw: bool,
    pub groups: bool,
    pub l2cap: bool,
    pub rfcomm: bool,
}

/// Whether a run records what the kernel answers, or replays a recording.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Tape {
    #[default]
    None,
    /// `--record FILE` (`--quiet`: without printing).
    Record {
        path: std::path::PathBuf,
        quiet: bool,
    },
    /// `--replay FILE`.
    Replay(std::path::PathBuf),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub mode: Mode,
    pub source: Source,
    /// `--pid-source`: where `-p` finds socket owners.
    pub pid_source: PidSource,
    /// `--view-source`: where views count sockets.
    pub view_source: ViewSource,
    pub all: bool,
    pub listening: bool,
    pub numeric_hosts: bool,
    pub numeric_ports: bool,
    pub numeric_users: bool,
    pub symbolic: bool,
    /// netstat's `flag_exp`: 1 plus the number of `-e`.
    pub extend: u32,
    pub programs: bool,
    pub timers: bool,
    /// `--info`: each socket's tcp_info, congestion control and memory.
    pub info: bool,
    pub wide: bool,
    pub notrim: bool,
    pub continuous: bool,
    pub verbose: bool,
    /// The output format (`--json`: JSON Lines instead of netstat's tables).
    pub output: Output,
    /// `-C`: routing cache instead of the FIB.
    pub route_cache: bool,
    /// `-F`: the FIB (the default).
    pub route_fib: bool,
    pub families: Families,
    pub protocols: Protocols,
    /// Address family names in the order given (`inet,inet6`), as netstat
    /// keeps them for `-r` and `-s`.
    pub af_names: Vec<&'static str>,
    /// True when any socket selection flag was given (netstat's `flag_arg`);
    /// without one, every table is printed.
    pub any_selection: bool,
    /// `--serve`: the address the exporter listens on.
    pub serve: Option<std::net::SocketAddr>,
    /// `--netns`: the network namespace to run in.
    pub netns: Option<String>,
    /// `--all-netns`: every network namespace of the host.
    pub all_netns: bool,
    /// Dump IPv4 and IPv6 tables side by side on two sockets (off where
    /// many small listings run in parallel anyway: --all-netns).
    pub parallel_families: bool,
    /// `--textfile`: where the exposition is written.
    pub textfile: Option<std::path::PathBuf>,
    /// `--min-interval`: how old a collection may be and still be served.
    pub min_interval: f64,
    /// `--interval`: the fixed schedule of a repeating run (`None`:
    /// netstat's `-c`, every second, no lateness reports).
    pub interval: Option<std::time::Duration>,
    /// `--count`: stop after this many ticks.
    pub count: Option<u64>,
    /// `--record` or `--replay`.
    pub tape: Tape,
    /// `--events`: listen for closed sockets instead of listing them.
    pub events: bool,
    /// `--events-buffer`: the close events' receive buffer in bytes.
    pub events_buffer: usize,
    /// A load-balancer view instead of the socket rows.
    pub view: Option<View>,
    /// The filter expression (positional arguments), for socket tables.
    pub query: Option<crate::filter::expr::Query>,
    /// The filter expression as given (`--live` shows it and edits it).
    pub filter_text: String,
    /// `--live`: the full-screen view instead of printed ticks.
    pub live: bool,
    /// The name the user invoked us by, for getopt-style messages.
    pub program_name: String,
    /// The environment, read once.
    pub inputs: Inputs,
    /// The rows go to a terminal, through the terminal-safe writer (set by
    /// the binary): names read for them lose their newlines too.
    pub terminal: bool,
}

impl Config {
    /// Show the user column and inode (netstat's `flag_exp > 1`).
    pub fn show_user(&self) -> bool {
        self.extend > 1
    }

    /// Whether a protocol table is printed, given netstat's "nothing selected
    /// means everything" rule.
    pub fn wants(&self, selected: bool) -> bool {
        !self.any_selection || selected
    }

    pub fn wants_inet_v4(&self) -> bool {
        !self.any_selection || self.families.inet
    }

    pub fn wants_inet_v6(&self) -> bool {
        !self.any_selection || self.families.inet6
    }

    pub fn wants_inet_section(&self) -> bool {
        let p = &self.protocols;
        !self.any_selection || p.tcp || p.sctp || p.udp || p.udplite || p.raw
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Sockets,
            source: Source::Auto,
            pid_source: PidSource::Auto,
            view_source: ViewSource::Auto,
            all: false,
            listening: false,
            numeric_hosts: false,
            numeric_ports: false,
            numeric_users: false,
            symbolic: false,
            extend: 1,
            programs: false,
            timers: false,
            info: false,
            wide: false,
            notrim: false,
            continuous: false,
            verbose: false,
            output: Output::NetstatText,
            route_cache: false,
            route_fib: false,
            families: Families::default(),
            protocols: Protocols::default(),
            af_names: Vec::new(),
            any_selection: false,
            serve: None,
            netns: None,
            all_netns: false,
            parallel_families: true,
            textfile: None,
            min_interval: 1.0,
            interval: None,
            count: None,
            tape: Tape::None,
            events: false,
            events_buffer: crate::collect::events::DEFAULT_BUFFER,
            view: None,
            query: None,
            filter_text: String::new(),
            live: false,
            program_name: "nlstat".into(),
            inputs: Inputs::default(),
            terminal: false,
        }
    }
}
