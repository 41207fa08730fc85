//! The texts `-h` and `-V` print: netstat's usage text and family list, and
//! (invoked as nlstat) a summary of nlstat's own options listed from the
//! clap table.

use super::netstat_args::RawArgs;
use super::own_args::OWN_OPTIONS_HEADING;
use clap::CommandFactory;

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
    use crate::cli::getopt::OWN_LONG_OPTIONS;

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
}
