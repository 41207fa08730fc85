//! getopt_long's reading of the command line, where clap reads it
//! differently: abbreviations of long options (netstat's win over
//! nlstat's), values that start with `-`, getopt's exact diagnostics for a
//! bad option, and `-V`, `-h` and `-?` stopping wherever they stand.

use super::{EXIT_USAGE, Parsed, given_indices, invoked_as_netstat};
use std::ffi::OsString;

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
    ("view-source", true),
    ("json", false),
    ("info", false),
    ("group-by", true),
    ("top", true),
    ("sort", true),
    ("summary", false),
    ("listeners", false),
    ("ephemeral", false),
    ("serve", true),
    ("textfile", true),
    ("min-interval", true),
    ("max-series", true),
    ("netns", true),
    ("all-netns", false),
    ("events", false),
    ("events-buffer", true),
    ("interval", true),
    ("count", true),
    ("record", true),
    ("quiet", false),
    ("replay", true),
    ("live", false),
];

/// nlstat's own long options: an abbreviation that also fits one of
/// netstat's options stays netstat's (`--listen` is `--listening`).
pub(super) const OWN_LONG_OPTIONS: &[&str] = &[
    "source",
    "pid-source",
    "view-source",
    "json",
    "info",
    "group-by",
    "top",
    "sort",
    "summary",
    "listeners",
    "ephemeral",
    "serve",
    "textfile",
    "min-interval",
    "max-series",
    "netns",
    "all-netns",
    "events",
    "events-buffer",
    "interval",
    "count",
    "record",
    "quiet",
    "replay",
    "live",
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
pub(super) fn expand_long_options(args: &[OsString]) -> Vec<OsString> {
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

/// A diagnostic for a command line getopt_long rejects: the message, and
/// whether netstat's usage text follows it.
type Diagnostic = (String, bool);

/// Find the first argument getopt_long would reject, and say it getopt's
/// way (with the usage text after it: the bool); a missing value of one of
/// nlstat's own options is said in one line of nlstat's style instead.
pub(super) fn diagnostic(program: &str, args: &[OsString]) -> Option<Diagnostic> {
    let mut i = 1;
    while i < args.len() {
        let arg = args[i].to_string_lossy();
        i += 1;
        if arg == "--" {
            break;
        }
        let has_next = i < args.len();
        let takes_next = if let Some(long) = arg.strip_prefix("--") {
            long_option_diagnostic(program, &arg, long, has_next)
        } else if let Some(shorts) = arg.strip_prefix('-') {
            short_options_diagnostic(program, shorts, has_next)
        } else {
            continue; // an operand; getopt permutes it out of the way
        };
        match takes_next {
            Ok(true) => i += 1,
            Ok(false) => {}
            Err(diagnostic) => return Some(diagnostic),
        }
    }
    None
}

/// getopt_long's verdict on one `--name[=value]` argument (`long` is what
/// follows the dashes): whether it takes the next argument as its value,
/// or what is wrong with it.
fn long_option_diagnostic(
    program: &str,
    arg: &str,
    long: &str,
    has_next: bool,
) -> Result<bool, Diagnostic> {
    let (name, value) = match long.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (long, None),
    };
    let option = match resolve_long(name) {
        Ok(o) => o,
        Err(candidates) if candidates.is_empty() => {
            return Err((format!("{program}: unrecognized option '{arg}'\n"), true));
        }
        Err(candidates) => {
            let mut list = String::new();
            for n in &candidates {
                list.push_str(&format!(" '--{n}'"));
            }
            return Err((
                format!("{program}: option '--{name}' is ambiguous; possibilities:{list}\n"),
                true,
            ));
        }
    };
    match (option.1, value) {
        (false, Some(_)) if OWN_LONG_OPTIONS.contains(&option.0) => Err((
            format!("{program}: --{}: takes no value\n", option.0),
            false,
        )),
        (false, Some(_)) => Err((
            format!(
                "{program}: option '--{}' doesn't allow an argument\n",
                option.0
            ),
            true,
        )),
        (true, None) if !has_next && OWN_LONG_OPTIONS.contains(&option.0) => {
            Err((format!("{program}: --{}: needs a value\n", option.0), false))
        }
        (true, None) if !has_next => Err((
            format!("{program}: option '--{}' requires an argument\n", option.0),
            true,
        )),
        (true, None) => Ok(true),
        _ => Ok(false),
    }
}

/// getopt's verdict on one group of short options (`shorts` is what
/// follows the dash): whether its last option takes the next argument as
/// its value, or the first letter that is wrong.
fn short_options_diagnostic(
    program: &str,
    shorts: &str,
    has_next: bool,
) -> Result<bool, Diagnostic> {
    for (pos, c) in shorts.char_indices() {
        let Some(at) = SHORT_OPTIONS.find(c).filter(|_| c != ':') else {
            return Err((format!("{program}: invalid option -- '{c}'\n"), true));
        };
        if SHORT_OPTIONS[at + c.len_utf8()..].starts_with(':') {
            if pos + c.len_utf8() == shorts.len() {
                if !has_next {
                    return Err((
                        format!("{program}: option requires an argument -- '{c}'\n"),
                        true,
                    ));
                }
                return Ok(true);
            }
            // the rest of the group is the value
            return Ok(false);
        }
    }
    Ok(false)
}

/// getopt stops at the first -V, -h or -?, wherever it stands; the first
/// of them in argument order decides. Its position, and what it asks for.
pub(super) fn first_stop(
    matches: &clap::ArgMatches,
    program_name: &str,
) -> Option<(usize, Parsed)> {
    let mut stop: Option<(usize, Parsed)> = None;
    for id in ["version", "help", "question"] {
        if let Some(i) = given_indices(matches, id).and_then(|mut it| it.next())
            && stop.as_ref().is_none_or(|(j, _)| i < *j)
        {
            let parsed = match id {
                "version" => Parsed::Version,
                "help" => Parsed::Help {
                    own_options: !invoked_as_netstat(program_name),
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
    stop
}

#[cfg(test)]
mod tests {
    use crate::cli::Parsed;
    use crate::cli::tests::{config, run};
    use crate::config::Source;
    use crate::views::View;

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
}
