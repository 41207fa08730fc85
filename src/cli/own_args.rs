//! nlstat's own options as a clap table, apart from netstat's.

use super::netstat_args::Words;
use clap::ArgAction;
use std::ffi::OsString;

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
    /// where views count sockets: auto, bpf or netlink
    ///
    /// auto (the default) counts --summary, --group-by, --listeners,
    /// --ephemeral and the exporter's socket metrics from the kernel's BPF
    /// socket iterators (TCP, UDP, unix) when nlstat may load BPF programs
    /// and the kernel has BTF and the iterators, and from sock_diag
    /// otherwise (-v says why), and from sock_diag for a TCP or UDP table
    /// whose dump the kernel narrows to few sockets (listeners alone,
    /// states other than ESTABLISHED and TIME_WAIT, an expression of exact
    /// ports or address prefixes); bpf fails when an iterator cannot be used,
    /// with the kernel's reason; netlink always asks sock_diag. The counts
    /// are the same either way. With --info, TCP's health is read by the
    /// program too; UDP and unix then count from sock_diag, and so do the
    /// other tables and unix with a name pattern.
    #[arg(long = "view-source", value_name = "SOURCE", value_parser = Words(&["auto", "bpf", "netlink"]))]
    pub view_source: Option<String>,
    /// JSON Lines: one object per row, no headers
    ///
    /// With every mode, view and flag that prints a table (see JSON
    /// OUTPUT); not with --serve or --textfile, which write Prometheus'
    /// text format.
    #[arg(long = "json", action = ArgAction::Count)]
    pub json: u8,
    /// tcp_info, congestion control and socket memory of each socket
    ///
    /// Ask the kernel for each TCP socket's tcp_info, congestion control
    /// and socket memory (socket memory only for UDP, raw and unix
    /// sockets) and print it under the socket's row in ss -i and -m's
    /// words and units, or as the info, cong and skmem fields of --json
    /// (see JSON OUTPUT). With --group-by, --listeners, --serve and
    /// --textfile: per-group rtt percentiles, sums and limited-socket
    /// counts instead (see SOCKET HEALTH in LOAD-BALANCER VIEWS). Socket
    /// tables from sock_diag only: refused with -r, -i, -s, -M, -g and
    /// --source proc (/proc/net has none of it), and with --summary and
    /// --ephemeral; a row that comes from /proc anyway (raw sockets without
    /// their diag module) has no line.
    #[arg(long = "info", action = ArgAction::Count)]
    pub info: u8,
    /// repeat every SECONDS on a fixed schedule (implies -c)
    ///
    /// Decimal seconds, at least 0.01. Tick k starts at start + k x
    /// SECONDS on the monotonic clock; a tick that overruns its slot is
    /// reported (stderr, or late_ms in JSON tick objects) and the missed
    /// slots are skipped. Plain -c stays netstat's one second.
    #[arg(long = "interval", value_name = "SECONDS", value_hint = clap::ValueHint::Other)]
    pub interval: Option<String>,
    /// stop after N ticks, status 0 (implies -c)
    #[arg(long = "count", value_name = "N", value_hint = clap::ValueHint::Other)]
    pub count: Option<String>,
    /// keep what each tick received from the kernel in FILE
    ///
    /// Write the raw sock_diag replies, the /proc files the output read and
    /// the -p owner map of every tick to FILE (zstd-compressed, see
    /// RECORDING), while printing as usual; --quiet records without
    /// printing. Socket tables, views, --info and --json; not with -r, -i,
    /// -s, -g, -M, --events, --serve, --textfile or --all-netns. A filter
    /// expression runs in user space, so the recording keeps every socket
    /// of the selected tables.
    #[arg(long = "record", value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub record: Option<OsString>,
    /// with --record, print nothing
    #[arg(long = "quiet", action = ArgAction::Count)]
    pub quiet: u8,
    /// run over a recording instead of the kernel
    ///
    /// Any socket table, filter expression, view, --info or --json over
    /// what --record kept, tick by tick with the recorded times (JSON tick
    /// objects and views' time lines carry them; nothing waits between
    /// ticks). Names are resolved now unless -n. A table, state, extension
    /// or /proc file the recording does not hold is an error, as are a
    /// damaged recording and one of another format version (status 1).
    #[arg(long = "replay", value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub replay: Option<OsString>,
    /// print TCP and UDP sockets as the kernel closes them
    ///
    /// Listen to sock_diag's destroy events of the selected tables (TCP,
    /// UDP) and families until interrupted: each closed socket as its
    /// netstat row (state as at close) after a UTC time stamp, with --info
    /// its final tcp_info line, or with --json a "closed" object. The
    /// filter expression applies (a kernel-side socket filter when it only
    /// names states, ports and addresses). Messages the kernel had to drop
    /// are counted exactly and reported. With --group-by: closes per key,
    /// every second with -c, else at the end; with --serve or --textfile:
    /// close counters per listener and per backend (see CLOSE EVENTS).
    #[arg(long = "events", action = ArgAction::Count)]
    pub events: u8,
    /// receive buffer for --events (default 64M as root)
    ///
    /// Bytes, with an optional K, M or G suffix. As root the size is set
    /// with SO_RCVBUFFORCE; others get at most net.core.rmem_max. Only
    /// with --events.
    #[arg(long = "events-buffer", value_name = "SIZE", value_hint = clap::ValueHint::Other)]
    pub events_buffer: Option<String>,
    /// a full-screen view that refreshes every --interval (default 1 s)
    ///
    /// Six screens (1 Summary, 2 Listeners, 3 Ephemeral, 4 Group-by, 5
    /// Health with --info, 6 Closes with --events), switched by Tab or
    /// their number; s sorts by the next column, / edits the filter
    /// expression, k the Group-by keys, + and - change the interval, p
    /// pauses, q, Esc or Ctrl-C quit (see LIVE SCREEN). The numbers are
    /// those --json -c prints for the same view. Starts on the screen of a
    /// view given (--listeners, --ephemeral, --group-by). Needs a terminal
    /// (status 3 otherwise); not with -r, -i, -s, -g, -M, --json, --serve,
    /// --textfile, --record or --replay. NO_COLOR turns colours off.
    #[arg(long = "live", action = ArgAction::Count)]
    pub live: u8,
    /// The views' options (--group-by, --top, --summary, --listeners,
    /// --ephemeral), defined beside their resolution in cli/view.rs.
    #[command(flatten)]
    pub views: super::view::ViewArgs,
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

#[cfg(test)]
mod tests {
    use super::super::netstat_args::RawArgs;
    use clap::CommandFactory;

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
}
