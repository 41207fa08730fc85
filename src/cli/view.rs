//! Which view of nlstat's the options ask for (--group-by, --summary,
//! --listeners, --ephemeral, or the exporter's --serve and --textfile),
//! and the refusal of own options that would be accepted and then ignored.

use super::netstat_args::RawArgs;
use super::own_args::NlstatArgs;
use crate::config::Mode;
use crate::views::{Key, View};
use clap::ArgAction;

/// The views' options: one field per view (adding a view adds its flag
/// here and its arm in [`choose`]). Flattened into nlstat's own options,
/// under their heading.
#[derive(clap::Args, Debug, Default)]
pub struct ViewArgs {
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
    /// order --group-by's rows by FIELD, largest first
    ///
    /// Order --group-by's rows by a numeric column, largest first (ties by
    /// count, then key): count, delta (with -c), or with --info one of
    /// the health columns (rtt_p50, bytes_sent, limited_rwnd, ...; see
    /// SOCKET HEALTH). With --top N, the first N rows in that order.
    #[arg(long = "sort", value_name = "FIELD", value_hint = clap::ValueHint::Other)]
    pub sort: Option<String>,
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
}

/// The view the options ask for: at most one, only over socket tables.
/// With --all-netns, a --group-by counts each namespace apart.
pub(super) fn choose(raw: &RawArgs, mode: Mode) -> Result<Option<View>, String> {
    let own = &raw.own;
    let views = &own.views;
    let mut chosen: Vec<(&str, View)> = Vec::new();
    if let Some(view) = group_by(raw)? {
        chosen.push(("--group-by", view));
    }
    for (given, name, view) in [
        (views.summary, "--summary", View::Summary),
        (views.listeners, "--listeners", View::Listeners),
        (views.ephemeral, "--ephemeral", View::Ephemeral),
    ] {
        if given > 0 {
            chosen.push((name, view));
        }
    }
    let exporter = exporter(own)?;
    refuse_ignored(raw, mode, exporter.as_ref().map(|(name, _)| *name))?;
    chosen.extend(exporter);
    // (--live shows the health on a screen of its own)
    if own.info > 0
        && own.live == 0
        && let Some((name, _)) = chosen.iter().find(|(_, view)| {
            !matches!(
                view,
                View::GroupBy { .. } | View::Listeners | View::Exporter { .. }
            )
        })
    {
        // these count sockets without their health: --info would be
        // ignored there
        return Err(format!(
            "--info adds health to --group-by, --listeners and the exporter; {name} does not show it"
        ));
    }
    let mut view = only_one(chosen, raw, mode)?;
    refuse_view_source(raw, view.as_ref())?;
    if own.all_netns > 0
        && let Some(View::GroupBy { keys, .. }) = &mut view
        && !keys.contains(&Key::Netns)
    {
        // every namespace's sockets are its own: counted apart unless
        // the keys place `netns` elsewhere
        keys.insert(0, Key::Netns);
    }
    Ok(view)
}

/// --group-by KEYS with its --top N, if given.
fn group_by(raw: &RawArgs) -> Result<Option<View>, String> {
    let own = &raw.own.views;
    let Some(keys) = &own.group_by else {
        if own.top.is_some() {
            return Err("--top goes with --group-by".into());
        }
        if own.sort.is_some() {
            return Err("--sort goes with --group-by".into());
        }
        return Ok(None);
    };
    let sort = sort_column(own.sort.as_deref(), raw)?;
    let top = match own.top.as_deref() {
        None => None,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(format!("--top: expected a positive number, got `{text}'")),
        },
    };
    let keys = crate::views::parse_keys(keys)?;
    if raw.programs == 0
        && let Some(key) = keys.iter().find(|k| matches!(k, Key::Pid | Key::Program))
    {
        return Err(format!("--group-by {} needs -p", key.name()));
    }
    Ok(Some(View::GroupBy { keys, top, sort }))
}

/// --sort's column, if given: a numeric column the rows will have.
fn sort_column(sort: Option<&str>, raw: &RawArgs) -> Result<Option<String>, String> {
    let Some(name) = sort else {
        return Ok(None);
    };
    let health = crate::views::health::column_names().any(|c| c == name);
    match name {
        "count" => Ok(Some(name.into())),
        "delta" if repeats(raw) => Ok(Some(name.into())),
        "delta" => Err("--sort delta: the change column comes with -c".into()),
        _ if health && raw.own.info > 0 => Ok(Some(name.into())),
        _ if health => Err(format!("--sort {name}: health columns come with --info")),
        _ => Err(format!(
            "--sort: `{name}' is not a numeric column (count, delta, or with --info {})",
            crate::views::health::column_names()
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The exporter's view (--serve or --textfile, with its --max-series),
/// named by the option that asked for it.
fn exporter(own: &NlstatArgs) -> Result<Option<(&'static str, View)>, String> {
    let name = match (&own.serve, &own.textfile) {
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
    match name {
        Some(name) => Ok(Some((name, View::Exporter { max_series }))),
        None if own.max_series.is_some() => {
            Err("--max-series goes with --serve or --textfile".into())
        }
        None => Ok(None),
    }
}

/// Options that would be accepted and then ignored are refused.
fn refuse_ignored(raw: &RawArgs, mode: Mode, exporter: Option<&str>) -> Result<(), String> {
    let own = &raw.own;
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
    if own.serve.is_some() && repeats(raw) {
        let other = if raw.continuous > 0 {
            "-c"
        } else if own.interval.is_some() {
            "--interval"
        } else {
            "--count"
        };
        return Err(format!(
            "--serve collects at every scrape until stopped; {other} does not go with it"
        ));
    }
    refuse_with_events(raw, mode)?;
    if own.pid_source.is_some() && raw.programs == 0 {
        return Err("--pid-source goes with -p".into());
    }
    if own.info > 0 {
        // a socket table from /proc has none of it: refused rather than
        // printed without the lines the user asked for
        let other = match mode {
            Mode::Sockets if raw.groups > 0 => Some("-g"),
            Mode::Sockets if own.source.as_deref() == Some("proc") => Some("--source proc"),
            Mode::Sockets => None,
            _ => Some(mode_flag(mode)),
        };
        if let Some(other) = other {
            return Err(format!(
                "--info shows what sock_diag tells of each socket; it does not go with {other}"
            ));
        }
    }
    if own.source.is_some() && mode != Mode::Sockets {
        return Err(format!(
            "--source chooses where socket tables come from; it does not go with {}",
            mode_flag(mode)
        ));
    }
    Ok(())
}

/// --view-source chooses how a view counts sockets: it needs a view that
/// counts them, and `bpf` refuses what only sock_diag can give.
fn refuse_view_source(raw: &RawArgs, view: Option<&View>) -> Result<(), String> {
    let own = &raw.own;
    let Some(source) = own.view_source.as_deref() else {
        return Ok(());
    };
    // --live counts on its own screens, beside the closes
    if own.live == 0 && (view.is_none() || own.events > 0) {
        return Err("--view-source chooses where --summary, --group-by, --listeners, --ephemeral and the exporter count sockets; it goes with one of them (not with --events)".into());
    }
    if source != "bpf" {
        return Ok(());
    }
    let other = if own.source.as_deref() == Some("proc") {
        Some("--source proc")
    } else if own.record.is_some() || own.replay.is_some() {
        Some("--record or --replay (a recording keeps sock_diag's replies)")
    } else {
        None
    };
    match other {
        Some(other) => Err(format!(
            "--view-source bpf counts in the kernel; it does not go with {other}"
        )),
        None => Ok(()),
    }
}

/// --events listens to TCP and UDP sockets from sock_diag; it counts
/// closes with --group-by and the exporter only.
fn refuse_with_events(raw: &RawArgs, mode: Mode) -> Result<(), String> {
    let own = &raw.own;
    if own.events == 0 {
        if own.events_buffer.is_some() {
            return Err("--events-buffer goes with --events".into());
        }
        return Ok(());
    }
    let other = match mode {
        Mode::Sockets if raw.groups > 0 => Some("-g"),
        Mode::Sockets if own.source.as_deref() == Some("proc") => Some("--source proc"),
        // --live shows these on screens of their own, beside the closes
        Mode::Sockets if own.live > 0 => None,
        Mode::Sockets if own.views.summary > 0 => Some("--summary"),
        Mode::Sockets if own.views.listeners > 0 => Some("--listeners"),
        Mode::Sockets if own.views.ephemeral > 0 => Some("--ephemeral"),
        Mode::Sockets => None,
        _ => Some(mode_flag(mode)),
    };
    if let Some(other) = other {
        return Err(format!(
            "--events prints or counts sockets as sock_diag reports them closed; it does not go with {other}"
        ));
    }
    if raw.programs > 0 && own.live == 0 {
        // the message carries no inode (--live: -p is for its other screens), and the owner is usually gone
        return Err(
            "--events: a destroy message names no socket inode, so -p cannot show a process".into(),
        );
    }
    Ok(())
}

/// Whether the run repeats: -c, --interval or --count.
pub(super) fn repeats(raw: &RawArgs) -> bool {
    raw.continuous > 0 || raw.own.interval.is_some() || raw.own.count.is_some()
}

/// The one view chosen, if any: two are refused, and so is a view with a
/// mode or table that is not socket tables (-r, -i, -s, -M, -g).
fn only_one(
    mut chosen: Vec<(&str, View)>,
    raw: &RawArgs,
    mode: Mode,
) -> Result<Option<View>, String> {
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
pub(super) fn mode_flag(mode: Mode) -> &'static str {
    match mode {
        Mode::Routes => "-r",
        Mode::Interfaces => "-i",
        Mode::Statistics => "-s",
        _ => "-M",
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::tests::{config, run};
    use crate::cli::{EXIT_USAGE, Parsed};
    use crate::views::{Key, View};

    #[test]
    fn all_netns_counts_each_namespace_apart() {
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
    fn info_goes_with_socket_tables_from_sock_diag_only() {
        for other in [
            &["-r"][..],
            &["-i"],
            &["-s"],
            &["-M"],
            &["-g"],
            &["--source", "proc"],
        ] {
            let mut args = vec!["netstat", "--info"];
            args.extend_from_slice(other);
            match run(&args) {
                Parsed::Fail { status, .. } => assert_eq!(status, EXIT_USAGE, "{args:?}"),
                parsed => panic!("{args:?}: {parsed:?}"),
            }
        }
        assert!(config(&["netstat", "--info", "-tan", "--source", "netlink"]).info);
        assert!(config(&["netstat", "--info", "-uan"]).info);
    }
}
