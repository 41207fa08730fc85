//! Small resolutions of the parsed flags, one per concern: the mode, where
//! tables and owners come from, the options of the drivers (exporter,
//! namespaces), and the filter expression.

use super::families::any_inet_proto;
use super::netstat_args::RawArgs;
use super::own_args::NlstatArgs;
use super::{EXIT_USAGE, Parsed};
use crate::config::{Families, Mode, PidSource, Protocols, Source, ViewSource};
use crate::filter::expr::Query;
use std::ffi::OsString;

/// The mode -i, -r, -M or -s chooses (socket tables without one); more
/// than one is netstat's usage error.
pub(super) fn mode(raw: &RawArgs) -> Result<Mode, Parsed> {
    let modes = u32::from(raw.interfaces)
        + u32::from(raw.route)
        + u32::from(raw.masquerade)
        + u32::from(raw.statistics);
    if modes > 1 {
        return Err(Parsed::Fail {
            message: String::new(),
            usage: true,
            status: EXIT_USAGE,
        });
    }
    Ok(if raw.masquerade > 0 {
        Mode::Masquerade
    } else if raw.statistics > 0 {
        Mode::Statistics
    } else if raw.route > 0 {
        Mode::Routes
    } else if raw.interfaces > 0 {
        Mode::Interfaces
    } else {
        Mode::Sockets
    })
}

/// -Z: netstat's answer on a system without SELinux.
pub(super) fn refuse_context(raw: &RawArgs) -> Result<(), Parsed> {
    if raw.context > 0 {
        return Err(Parsed::Fail {
            message: "SELinux is not enabled on this machine.\n".into(),
            usage: false,
            status: 1,
        });
    }
    Ok(())
}

/// --source: where socket tables come from.
pub(super) fn source(own: &NlstatArgs, program: &str) -> Result<Source, Parsed> {
    match own.source.as_deref() {
        None | Some("auto") | Some("netlink") => Ok(Source::Auto),
        Some("proc") => Ok(Source::Proc),
        Some(other) => Err(Parsed::own_option_error(
            program,
            format!("--source: unknown source `{other}' (use netlink or proc)"),
        )),
    }
}

/// --pid-source: where -p finds socket owners.
pub(super) fn pid_source(own: &NlstatArgs, program: &str) -> Result<PidSource, Parsed> {
    match own.pid_source.as_deref() {
        None | Some("auto") => Ok(PidSource::Auto),
        Some("bpf") => Ok(PidSource::Bpf),
        Some("proc") => Ok(PidSource::Proc),
        Some(other) => Err(Parsed::own_option_error(
            program,
            format!("--pid-source: unknown source `{other}' (use auto, bpf or proc)"),
        )),
    }
}

/// --view-source: where views count sockets.
pub(super) fn view_source(own: &NlstatArgs, program: &str) -> Result<ViewSource, Parsed> {
    match own.view_source.as_deref() {
        None | Some("auto") => Ok(ViewSource::Auto),
        Some("bpf") => Ok(ViewSource::Bpf),
        Some("netlink") => Ok(ViewSource::Netlink),
        Some(other) => Err(Parsed::own_option_error(
            program,
            format!("--view-source: unknown source `{other}' (use auto, bpf or netlink)"),
        )),
    }
}

/// The options of the drivers that run a mode: the exporter's address and
/// file, the scrape spacing, and the namespaces to run in.
pub(super) struct Driver {
    pub serve: Option<std::net::SocketAddr>,
    pub textfile: Option<std::path::PathBuf>,
    pub min_interval: f64,
    pub netns: Option<String>,
    pub all_netns: bool,
}

/// --serve, --textfile, --min-interval, --netns and --all-netns, checked.
pub(super) fn driver(own: &NlstatArgs, program: &str) -> Result<Driver, Parsed> {
    let serve = match own
        .serve
        .as_deref()
        .map(crate::exporter::parse_listen_address)
    {
        None => None,
        Some(Ok(address)) => Some(address),
        Some(Err(message)) => return Err(Parsed::own_option_error(program, message)),
    };
    if own.all_netns > 0 && own.netns.is_some() {
        return Err(Parsed::own_option_error(
            program,
            "--all-netns and --netns: choose one",
        ));
    }
    let min_interval = match own.min_interval.as_deref() {
        None => 1.0,
        Some(text) => match text.parse::<f64>() {
            Ok(v) if v >= 0.0 && v.is_finite() => v,
            _ => {
                return Err(Parsed::own_option_error(
                    program,
                    format!("--min-interval: expected seconds, got `{text}'"),
                ));
            }
        },
    };
    Ok(Driver {
        serve,
        textfile: own.textfile.clone().map(Into::into),
        min_interval,
        netns: own.netns.clone(),
        all_netns: own.all_netns > 0,
    })
}

/// --interval and --count: how often and how many times a run repeats.
pub(super) fn repetition(
    own: &NlstatArgs,
    program: &str,
) -> Result<(Option<std::time::Duration>, Option<u64>), Parsed> {
    let interval = match own.interval.as_deref() {
        None => None,
        Some(text) => match text.parse::<f64>() {
            Ok(v) if v.is_finite() && (0.01..=86_400.0 * 365.0).contains(&v) => {
                Some(std::time::Duration::from_secs_f64(v))
            }
            _ => {
                return Err(Parsed::own_option_error(
                    program,
                    format!("--interval: expected seconds, at least 0.01, got `{text}'"),
                ));
            }
        },
    };
    let count = match own.count.as_deref() {
        None => None,
        Some(text) => match text.parse::<u64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                return Err(Parsed::own_option_error(
                    program,
                    format!("--count: expected a positive number of ticks, got `{text}'"),
                ));
            }
        },
    };
    Ok((interval, count))
}

/// --record, --quiet and --replay: socket listings only, one of the two,
/// and not with the drivers that never end a tick on their own terms.
pub(super) fn tape(
    raw: &RawArgs,
    mode: Mode,
    program: &str,
) -> Result<crate::config::Tape, Parsed> {
    use crate::config::Tape;
    let own = &raw.own;
    let refuse = |message: String| Err(Parsed::own_option_error(program, message));
    if own.quiet > 0 && own.record.is_none() {
        return refuse("--quiet: only with --record".into());
    }
    let (option, tape) = match (&own.record, &own.replay) {
        (None, None) => return Ok(Tape::None),
        (Some(_), Some(_)) => return refuse("--record and --replay: choose one".into()),
        (Some(path), None) => (
            "--record",
            Tape::Record {
                path: path.into(),
                quiet: own.quiet > 0,
            },
        ),
        (None, Some(path)) => ("--replay", Tape::Replay(path.into())),
    };
    let other = if mode != Mode::Sockets || raw.groups > 0 {
        Some("socket tables and views only (not -r, -i, -s, -g or -M)")
    } else if own.events > 0 {
        Some("not with --events")
    } else if own.serve.is_some() || own.textfile.is_some() {
        Some("not with --serve or --textfile")
    } else if own.all_netns > 0 {
        Some("not with --all-netns")
    } else {
        None
    };
    match other {
        Some(why) => refuse(format!("{option}: {why}")),
        None => Ok(tape),
    }
}

/// --live: socket views only, on a terminal, drawn rather than printed.
pub(super) fn live(raw: &RawArgs, mode: Mode, program: &str) -> Result<(), Parsed> {
    let own = &raw.own;
    if own.live == 0 {
        return Ok(());
    }
    let other = if mode != Mode::Sockets || raw.groups > 0 {
        Some(if raw.groups > 0 {
            "-g"
        } else {
            super::view::mode_flag(mode)
        })
    } else if own.json > 0 {
        Some("--json")
    } else if own.serve.is_some() {
        Some("--serve")
    } else if own.textfile.is_some() {
        Some("--textfile")
    } else if own.record.is_some() {
        Some("--record")
    } else if own.replay.is_some() {
        Some("--replay")
    } else {
        None
    };
    match other {
        Some(other) => Err(Parsed::own_option_error(
            program,
            format!("--live draws the socket views on a terminal; it does not go with {other}"),
        )),
        None => Ok(()),
    }
}

/// --events' receive buffer: bytes with an optional K, M or G suffix.
pub(super) fn events_buffer(own: &NlstatArgs, program: &str) -> Result<usize, Parsed> {
    let Some(text) = own.events_buffer.as_deref() else {
        return Ok(crate::collect::events::DEFAULT_BUFFER);
    };
    let (digits, shift) = match text.as_bytes().last() {
        Some(b'k' | b'K') => (&text[..text.len() - 1], 10),
        Some(b'm' | b'M') => (&text[..text.len() - 1], 20),
        Some(b'g' | b'G') => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    match digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_shl(shift).filter(|v| v >> shift == n))
    {
        // the kernel's floor is a few KiB; a size it would raise anyway
        // is taken as given
        Some(bytes) if bytes > 0 && bytes <= i32::MAX as usize => Ok(bytes),
        _ => Err(Parsed::own_option_error(
            program,
            format!(
                "--events-buffer: expected a size in bytes (K, M or G suffix), under 2G, got `{text}'"
            ),
        )),
    }
}

/// --events needs a table the kernel reports closes for.
pub(super) fn events_tables(
    own: &NlstatArgs,
    selection: &super::families::Selection,
    program: &str,
) -> Result<(), Parsed> {
    let p = &selection.protocols;
    let inet = !selection.any_selection || selection.families.inet || selection.families.inet6;
    let tables = !selection.any_selection || p.tcp || p.udp;
    if own.events > 0 && !(inet && tables) {
        return Err(Parsed::own_option_error(
            program,
            "--events: the kernel reports closes of TCP and UDP sockets only; select -t or -u (or no table)",
        ));
    }
    Ok(())
}

/// netstat ignores operands; for socket tables they are nlstat's filter
/// expression (read for unix sockets when only those are listed).
pub(super) fn query(
    operands: &[OsString],
    mode: Mode,
    families: &Families,
    protocols: &Protocols,
    program: &str,
) -> Result<Option<Query>, Parsed> {
    if mode != Mode::Sockets {
        return Ok(None);
    }
    let unix_only = families.unix && !any_inet_proto(protocols);
    filter_query(operands, unix_only)
        .map_err(|e| Parsed::own_option_error(program, format!("bad filter: {e}")))
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

#[cfg(test)]
mod tests {
    use crate::cli::Parsed;
    use crate::cli::tests::{config, run};
    use crate::config::PidSource;

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
