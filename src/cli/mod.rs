//! The command line: netstat's flags, one-to-one with net-tools netstat
//! 2.10, and nlstat's own long options, read into a [`Config`].
//!
//! clap parses, from two tables: netstat's flags ([`netstat_args`]) and
//! nlstat's own options ([`own_args`], flattened in under their own help
//! heading). What clap cannot reproduce is getopt's reading of
//! abbreviations and getopt's exact wording for a bad option, and
//! netstat's usage text: [`getopt`] re-reads the command line in getopt's
//! terms (`invalid option -- 'z'`, exit status 3) and [`help`] holds the
//! texts. [`parse`] then resolves the flags concern by concern: families
//! and protocols ([`families`]), the view ([`view`]), the mode, sources,
//! driver options and filter ([`resolve`]), and builds the [`Config`] in
//! one place ([`assemble_config`]).

mod families;
mod getopt;
mod help;
mod netstat_args;
mod own_args;
mod resolve;
mod view;

pub use help::{AF_LIST, USAGE, VERSION_TEXT, own_options_help};
pub use netstat_args::{RawArgs, Words};
pub use own_args::{NlstatArgs, OWN_OPTIONS_HEADING};

use crate::config::{Config, Mode, Output, PidSource, Source};
use crate::filter::expr::Query;
use crate::views::View;
use clap::{CommandFactory, FromArgMatches};
use std::ffi::OsString;

/// netstat's `E_USAGE`-style exit status for a bad command line.
pub const EXIT_USAGE: i32 = 3;

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

impl Parsed {
    /// A bad value or combination of nlstat's own options: one line
    /// `program: message` on stderr, no usage text, status 3.
    fn own_option_error(program: &str, message: impl std::fmt::Display) -> Parsed {
        Parsed::Fail {
            message: format!("{program}: {message}\n"),
            usage: false,
            status: EXIT_USAGE,
        }
    }
}

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
    match resolve_all(args, program_name) {
        Ok(config) => Parsed::Run(Box::new(config)),
        Err(other) => other,
    }
}

/// The configuration a command line asks for, or what to do instead (help,
/// version, or a failure). Each concern is resolved in the order netstat
/// and nlstat meet its errors, so the first error is the one reported.
fn resolve_all(args: &[OsString], program_name: String) -> Result<Config, Parsed> {
    if let Some((message, usage)) = getopt::diagnostic(&program_name, args) {
        return Err(Parsed::Fail {
            message,
            usage,
            status: EXIT_USAGE,
        });
    }
    let (matches, raw) = read_args(args, &program_name)?;
    let stop = getopt::first_stop(&matches, &program_name);
    let events = families::family_events(&matches);
    let (families, af_names) = families::families(&events, stop.as_ref().map(|(i, _)| *i))?;
    if let Some((_, parsed)) = stop {
        return Err(parsed);
    }
    resolve::refuse_context(&raw)?;
    let source = resolve::source(&raw.own, &program_name)?;
    let pid_source = resolve::pid_source(&raw.own, &program_name)?;
    let view_source = resolve::view_source(&raw.own, &program_name)?;
    let mode = resolve::mode(&raw)?;
    let view = view::choose(&raw, mode)
        .map_err(|message| Parsed::own_option_error(&program_name, message))?;
    let driver = resolve::driver(&raw.own, &program_name)?;
    // --live's other screens count every table selected; its TCP views
    // narrow their own (live::panes)
    let selection_view = view.as_ref().filter(|_| raw.own.live == 0);
    let selection = families::selection(&raw, families, mode, selection_view);
    let events_buffer = resolve::events_buffer(&raw.own, &program_name)?;
    let (interval, count) = resolve::repetition(&raw.own, &program_name)?;
    let tape = resolve::tape(&raw, mode, &program_name)?;
    resolve::live(&raw, mode, &program_name)?;
    resolve::events_tables(&raw.own, &selection, &program_name)?;
    let query = resolve::query(
        &raw.operands,
        mode,
        &selection.families,
        &selection.protocols,
        &program_name,
    )?;
    Ok(assemble_config(
        &raw,
        Resolved {
            mode,
            source,
            pid_source,
            view_source,
            view,
            af_names,
            selection,
            driver,
            query,
            events_buffer,
            interval,
            count,
            tape,
        },
        program_name,
    ))
}

/// clap's reading of the command line, abbreviations written out in full
/// first; getopt has found nothing wrong, so an error here is rare.
fn read_args(args: &[OsString], program_name: &str) -> Result<(clap::ArgMatches, RawArgs), Parsed> {
    let expanded = getopt::expand_long_options(args);
    let matches = match RawArgs::command().try_get_matches_from(&expanded) {
        Ok(m) => m,
        Err(e) => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("bad arguments").to_string();
            return Err(Parsed::Fail {
                message: format!("{program_name}: {first}\n"),
                usage: true,
                status: EXIT_USAGE,
            });
        }
    };
    match RawArgs::from_arg_matches(&matches) {
        Ok(raw) => Ok((matches, raw)),
        Err(e) => Err(Parsed::Fail {
            message: format!("{program_name}: {e}"),
            usage: true,
            status: EXIT_USAGE,
        }),
    }
}

/// Positions of an option on the command line; `None` when it was not
/// given (clap reports positions for defaults too).
fn given_indices<'m>(matches: &'m clap::ArgMatches, id: &str) -> Option<clap::parser::Indices<'m>> {
    if matches.value_source(id) != Some(clap::parser::ValueSource::CommandLine) {
        return None;
    }
    matches.indices_of(id)
}

/// What the resolution functions made of the flags that need more than a
/// count.
struct Resolved {
    mode: Mode,
    source: Source,
    pid_source: PidSource,
    view_source: crate::config::ViewSource,
    view: Option<View>,
    af_names: Vec<&'static str>,
    selection: families::Selection,
    driver: resolve::Driver,
    query: Option<Query>,
    events_buffer: usize,
    interval: Option<std::time::Duration>,
    count: Option<u64>,
    tape: crate::config::Tape,
}

/// The one place a [`Config`] is built: the resolved concerns, and the
/// flags that are read as they are.
fn assemble_config(raw: &RawArgs, resolved: Resolved, program_name: String) -> Config {
    let Resolved {
        mode,
        source,
        pid_source,
        view_source,
        view,
        af_names,
        selection,
        driver,
        query,
        events_buffer,
        interval,
        count,
        tape,
    } = resolved;
    let tape_filters_in_user_space = tape != crate::config::Tape::None;
    let numeric = raw.numeric > 0;
    // A view (the exporter too) is an aggregate: it counts every socket of
    // the chosen tables, as `ss -s` does, unless -l narrows it to servers
    // (states named in the filter replace both rules).
    let aggregate = view.is_some();
    Config {
        mode,
        source,
        pid_source,
        view_source,
        all: raw.all > 0 || (aggregate && raw.listening == 0),
        listening: raw.listening > 0,
        numeric_hosts: numeric || raw.numeric_hosts > 0,
        numeric_ports: numeric || raw.numeric_ports > 0,
        numeric_users: numeric || raw.numeric_users > 0,
        symbolic: raw.symbolic > 0,
        extend: 1 + u32::from(raw.extend),
        programs: raw.programs > 0,
        timers: raw.timers > 0,
        info: raw.own.info > 0,
        wide: raw.wide > 0 || raw.notrim > 0,
        notrim: raw.notrim > 0,
        continuous: view::repeats(raw) || raw.own.live > 0,
        interval,
        count,
        tape,
        verbose: raw.verbose > 0,
        output: if raw.own.json > 0 {
            Output::JsonLines
        } else {
            Output::NetstatText
        },
        route_cache: raw.cache > 0,
        route_fib: raw.fib > 0,
        families: selection.families,
        protocols: selection.protocols,
        af_names,
        any_selection: selection.any_selection,
        serve: driver.serve,
        netns: driver.netns,
        all_netns: driver.all_netns,
        // namespaces are read side by side already
        parallel_families: !driver.all_netns,
        textfile: driver.textfile,
        min_interval: driver.min_interval,
        events: raw.own.events > 0,
        events_buffer,
        view,
        query,
        filter_text: raw
            .operands
            .iter()
            .map(|w| w.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" "),
        live: raw.own.live > 0,
        program_name,
        inputs: {
            let mut inputs = crate::config::Inputs::from_env();
            if tape_filters_in_user_space {
                // a recording keeps whole tables (any filter can be asked
                // of it later), and a replay has no kernel to filter in
                inputs.filter_in = crate::filter::Placement {
                    kernel: false,
                    user: true,
                };
            }
            inputs
        },
        // the binary sets it, when it knows where stdout goes
        terminal: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::getopt::OWN_LONG_OPTIONS;

    /// `parse` of a command line given as words.
    pub(super) fn run(args: &[&str]) -> Parsed {
        let v: Vec<OsString> = args.iter().map(OsString::from).collect();
        parse(&v)
    }

    /// The configuration a command line must be accepted with.
    pub(super) fn config(args: &[&str]) -> Config {
        match run(args) {
            Parsed::Run(c) => *c,
            other => panic!("expected a run for {args:?}, got {other:?}"),
        }
    }

    #[test]
    fn events_buffer_sizes() {
        for (given, bytes) in [
            ("65536", 65536),
            ("16K", 16 << 10),
            ("64m", 64 << 20),
            ("1G", 1 << 30),
        ] {
            let c = config(&["nlstat", "--events", "--events-buffer", given]);
            assert_eq!((c.events, c.events_buffer), (true, bytes), "{given}");
        }
        let c = config(&["nlstat", "--events", "-tu", "--group-by", "state", "-c"]);
        assert!(c.events && c.continuous);
        assert!(!config(&["nlstat", "-t"]).events);
    }

    /// --live repeats, and takes what its screens show beside each other:
    /// -p with --events, --info with --summary, a view with --events.
    #[test]
    fn live_takes_what_its_screens_show() {
        let c = config(&["nlstat", "--live"]);
        assert!(c.live && c.continuous && c.view.is_none());
        for args in [
            &["nlstat", "--live", "-tp", "--events"][..],
            &["nlstat", "--live", "--info", "--summary"],
            &[
                "nlstat",
                "--live",
                "--events",
                "--listeners",
                "--view-source",
                "bpf",
            ],
            &["nlstat", "--live", "--interval", "0.5", "sport", "=", ":80"],
        ] {
            assert!(config(args).live, "{args:?}");
        }
        let c = config(&["nlstat", "--live", "sport", "=", ":80"]);
        assert_eq!(c.filter_text, "sport = :80");
        assert!(c.query.is_some());
        // without --live the refusals stand
        assert!(matches!(
            run(&["nlstat", "-tp", "--events"]),
            Parsed::Fail { .. }
        ));
    }

    #[test]
    fn double_e_counts() {
        assert_eq!(config(&["netstat", "-ee"]).extend, 3);
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
            (&["--events", "-x"], "--events"),
            (&["--events", "-r"], "--events"),
            (&["--events", "--listeners"], "--events"),
            (&["--events", "--source", "proc"], "--events"),
            (&["--events", "-tp"], "--events"),
            (&["-tan", "--interval", "0.001"], "--interval"),
            (&["-tan", "--interval", "x"], "--interval"),
            (&["-tan", "--count", "0"], "--count"),
            (&["-tan", "--quiet"], "--quiet"),
            (&["-tan", "--record", "f", "--replay", "f"], "--record"),
            (&["-r", "--record", "f"], "--record"),
            (&["-tan", "--replay", "f", "--all-netns"], "--replay"),
            (&["--events", "--record", "f"], "--record"),
            (&["--serve", "9477", "--interval", "5"], "--serve"),
            (&["--events-buffer", "1M"], "--events-buffer"),
            (&["--events", "--events-buffer", "1X"], "--events-buffer"),
            (&["--events", "--events-buffer", "0"], "--events-buffer"),
            (&["--events", "--events-buffer", "4G"], "--events-buffer"),
            (&["--live", "--json"], "--live"),
            (&["--live", "-s"], "--live"),
            (&["--live", "-g"], "--live"),
            (&["--live", "--serve", "9477"], "--live"),
            (&["--live", "--textfile", "x"], "--live"),
            (&["--live", "--record", "f"], "--live"),
            (&["--live", "--replay", "f"], "--live"),
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
}
