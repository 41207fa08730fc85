//! The man page and the shell completions, rendered from the one
//! command-line definition (`nlstat::cli::RawArgs`) and, for the man page's
//! prose, from sections of the README and the reference pages under doc/.
//! `scripts/gen-docs.sh` writes them into the tree; the test suite renders
//! them again and fails when the committed files differ, so a new option or
//! a documentation change cannot leave them stale.

use clap::{Arg, Command, CommandFactory};
use roff::{Inline, Roff, bold, italic, roman};
use std::path::Path;

/// The generated files, relative to the repository root.
pub const MAN_PAGE: &str = "doc/nlstat.1";
pub const BASH_COMPLETION: &str = "doc/completions/nlstat.bash";
pub const ZSH_COMPLETION: &str = "doc/completions/_nlstat";
pub const FISH_COMPLETION: &str = "doc/completions/nlstat.fish";

/// The command that regenerates them, for messages.
#[allow(dead_code)]
pub const REGENERATE: &str = "scripts/gen-docs.sh";

/// Markdown sections that become man page sections, in the page's order:
/// (man section, file relative to the repository root, heading).
pub const DOC_SECTIONS: &[(&str, &str, &str)] = &[
    ("FILTERS", "doc/filters.md", "Filters"),
    ("LOAD-BALANCER VIEWS", "doc/views.md", "Load-balancer views"),
    ("CLOSE EVENTS", "doc/events.md", "Close events"),
    ("LIVE SCREEN", "doc/live.md", "Live screen"),
    ("RECORDING", "doc/recording.md", "Recording and replay"),
    ("JSON OUTPUT", "doc/json.md", "JSON output"),
    (
        "PROMETHEUS EXPORTER",
        "doc/exporter.md",
        "Prometheus exporter",
    ),
    (
        "NETWORK NAMESPACES",
        "doc/namespaces.md",
        "Network namespaces",
    ),
    ("EXIT STATUS", "doc/options.md", "Exit status"),
    ("ENVIRONMENT", "doc/options.md", "Environment"),
    (
        "DIFFERENCES FROM NETSTAT",
        "README.md",
        "What differs from netstat",
    ),
];

/// Forms of the command line nlstat adds to netstat's usage lines.
const OWN_SYNOPSIS: &[&str] = &[
    "nlstat [-vWnNcaeolp] [<Socket> ...] [--json] [--source SOURCE] [--pid-source SOURCE] [--netns NAME|PATH | --all-netns] [FILTER ...]",
    "nlstat [<Socket> ...] {--group-by KEYS [--top N] | --summary | --listeners | --ephemeral} [-c] [--json] [--view-source SOURCE] [FILTER ...]",
    "nlstat --live [--interval SECONDS] [-p] [--info] [--events] [<Socket> ...] [--group-by KEYS | --summary | --listeners | --ephemeral] [--netns NAME|PATH | --all-netns] [FILTER ...]",
    "nlstat {--serve [ADDR:]PORT [--min-interval SECONDS] | --textfile PATH [-c]} [--max-series N] [<Socket> ...] [FILTER ...]",
];

const SEE_ALSO: &str = "netstat(8), ss(8), ip(8), ip-netns(8), proc(5), sock_diag(7), rtnetlink(7)";

/// The command line as the generated files present it: named `nlstat`.
pub fn command() -> Command {
    let mut cmd = nlstat::cli::RawArgs::command()
        .name("nlstat")
        .bin_name("nlstat")
        .version(env!("CARGO_PKG_VERSION"));
    cmd.build();
    cmd
}

/// Every generated file: (path, contents), from the repository at `root`.
pub fn all(root: &Path) -> Vec<(&'static str, String)> {
    vec![
        (MAN_PAGE, man_page(root)),
        (BASH_COMPLETION, completion(clap_complete::Shell::Bash)),
        (ZSH_COMPLETION, completion(clap_complete::Shell::Zsh)),
        (FISH_COMPLETION, completion(clap_complete::Shell::Fish)),
    ]
}

/// A completion script, as clap_complete writes it from the definition.
pub fn completion(shell: clap_complete::Shell) -> String {
    // without hidden options: clap_complete's fish writer lists them too,
    // and `-s ?` is a glob to fish; netstat's -? has nothing to complete
    let full = command();
    let mut cmd = Command::new("nlstat")
        .bin_name("nlstat")
        .version(env!("CARGO_PKG_VERSION"))
        .disable_help_flag(true)
        .disable_version_flag(true)
        .args(
            full.get_arguments()
                .filter(|a| !a.is_hide_set() || a.is_positional())
                .cloned(),
        );
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "nlstat", &mut out);
    let script = String::from_utf8(out).expect("clap_complete writes UTF-8");
    let values = Values::from_code(&full);
    match shell {
        clap_complete::Shell::Bash => bash_values(&script, &values),
        clap_complete::Shell::Zsh => zsh_values(&script, &values),
        clap_complete::Shell::Fish => fish_values(&script, &values),
        _ => script,
    }
}

/// What clap_complete cannot describe, taken from the code: the keys of
/// `--group-by` (a comma-separated list), the names in /run/netns for
/// `--netns`, and the filter words after the options.
struct Values {
    keys: String,
    states: String,
    filter_words: String,
    /// Options that take a value (their next word is not a filter word).
    value_options: Vec<String>,
}

impl Values {
    fn from_code(cmd: &Command) -> Values {
        use nlstat::filter::expr::{FILTER_WORDS, STATE_GROUPS, STATE_NAMES};
        let mut value_options = Vec::new();
        for arg in cmd.get_arguments().filter(|a| !a.is_positional()) {
            if !arg.get_action().takes_values() {
                continue;
            }
            value_options.extend(arg.get_short().map(|c| format!("-{c}")));
            value_options.extend(arg.get_long().map(|l| format!("--{l}")));
        }
        Values {
            keys: nlstat::views::KEY_NAMES.join(" "),
            states: STATE_NAMES
                .iter()
                .chain(STATE_GROUPS)
                .copied()
                .collect::<Vec<_>>()
                .join(" "),
            filter_words: FILTER_WORDS.join(" "),
            value_options,
        }
    }
}

/// `text` with `from` replaced once; the generator fails when
/// clap_complete's output no longer has it (a new version).
fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(
        text.matches(from).count(),
        1,
        "clap_complete's output changed: {from:?} is not there once"
    );
    text.replacen(from, to, 1)
}

/// bash: clap_complete's function, renamed, behind one that completes
/// the values it cannot.
fn bash_values(script: &str, values: &Values) -> String {
    let script = replace_once(script, "_nlstat() {", "_nlstat_options() {");
    let value_options = values.value_options.join("|");
    let wrapper = r#"# Values clap_complete cannot describe (generated from nlstat's code):
# --group-by keys, also after a comma; names in /run/netns for --netns;
# after the options, the filter words, and states after state/exclude.
_nlstat_takes_value() {
    case "$1" in
        VALUE_OPTIONS) return 0 ;;
        --*) return 1 ;;
        -*A) return 0 ;;
    esac
    return 1
}

_nlstat() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="" before=""
    (( COMP_CWORD >= 1 )) && prev="${COMP_WORDS[COMP_CWORD-1]}"
    (( COMP_CWORD >= 2 )) && before="${COMP_WORDS[COMP_CWORD-2]}"
    if [[ $cur == = ]]; then
        cur=""
    elif [[ $prev == = ]]; then
        prev="$before"
        before=""
    fi
    case "$prev" in
        --group-by)
            local head=""
            [[ $cur == *,* ]] && head="${cur%,*},"
            COMPREPLY=($(compgen -P "$head" -W "KEYS" -- "${cur##*,}"))
            # a comma and another key may follow
            compopt -o nospace 2>/dev/null
            return 0
            ;;
        --netns)
            if [[ $cur == /* || $cur == .* ]]; then
                COMPREPLY=($(compgen -f -- "$cur"))
            else
                local names=(/run/netns/*)
                [[ -e ${names[0]} ]] || names=()
                COMPREPLY=($(compgen -W "${names[*]##*/}" -- "$cur"))
            fi
            return 0
            ;;
    esac
    if [[ $cur != -* ]] && (( COMP_CWORD > 1 )) && ! _nlstat_takes_value "$prev"; then
        case "$prev" in
            state|exclude|excl)
                if ! _nlstat_takes_value "$before"; then
                    COMPREPLY=($(compgen -W "STATES" -- "$cur"))
                    return 0
                fi
                ;;
            src|dst|sport|dport)
                # an address or a port: nothing to offer
                COMPREPLY=()
                compopt +o default +o bashdefault 2>/dev/null
                return 0
                ;;
        esac
        COMPREPLY=($(compgen -W "FILTER_WORDS" -- "$cur"))
        return 0
    fi
    _nlstat_options "$@"
}

"#
    .replace("VALUE_OPTIONS", &value_options)
    .replace("KEYS", &values.keys)
    .replace("STATES", &values.states)
    .replace("FILTER_WORDS", &values.filter_words);
    let at = script
        .find("if [[ \"${BASH_VERSINFO[0]}\" -eq 4")
        .expect("clap_complete's `complete` lines");
    format!("{}{wrapper}{}", &script[..at], &script[at..])
}

/// zsh: actions for --group-by (a comma-separated sequence of keys),
/// --netns and the operands, as functions in the completion file.
fn zsh_values(script: &str, values: &Values) -> String {
    let helpers = r#"# Values clap_complete cannot describe (generated from nlstat's code).
_nlstat_netns() {
    if [[ $PREFIX == /* || $PREFIX == .* ]]; then
        _files
    else
        local -a names
        names=(/run/netns/*(N:t))
        compadd -a names
    fi
}

_nlstat_filter() {
    case $words[CURRENT-1] in
        (state|exclude|excl) compadd - STATES ;;
        (src|dst|sport|dport) _message 'an address or a port' ;;
        (*) compadd - FILTER_WORDS ;;
    esac
}

"#
    .replace("STATES", &values.states)
    .replace("FILTER_WORDS", &values.filter_words);
    let script = replace_once(
        script,
        ":KEYS:_default' \\",
        &format!(":KEYS:_sequence compadd - {}' \\", values.keys),
    );
    let script = replace_once(
        &script,
        ":NAME|PATH:_default' \\",
        ":NAME|PATH:_nlstat_netns' \\",
    );
    // a colon in a value name would end _arguments' message
    let script = replace_once(&script, ":[ADDR:]PORT:' \\", ":[ADDR\\:]PORT:' \\");
    let script = replace_once(
        &script,
        "'*::operands -- a filter expression for the socket tables, in ss'\\''s language:_default' \\",
        "'*::operands -- a filter expression for the socket tables, in ss'\\''s language:_nlstat_filter' \\",
    );
    replace_once(
        &script,
        "\n_nlstat() {",
        &format!("\n{helpers}_nlstat() {{"),
    )
}

/// fish: argument lists for --group-by and --netns, and the filter words
/// where an operand goes.
fn fish_values(script: &str, values: &Values) -> String {
    let helpers = r#"# Values clap_complete cannot describe (generated from nlstat's code).
function __nlstat_takes_value
    contains -- $argv[1] VALUE_OPTIONS; or string match -qr -- '^-[^-]*A$' $argv[1]
end

function __nlstat_group_by_keys
    # the keys given so far stay in front (state,<TAB>)
    set -l token (string replace -r -- '^--[^=]*=' '' (commandline -ct))
    set -l head (string replace -r -- '[^,]*$' '' $token)
    for key in KEYS
        echo $head$key
    end
end

function __nlstat_netns
    set -l token (commandline -ct)
    if string match -qr -- '^[/.]' $token
        __fish_complete_path $token
    else
        for name in /run/netns/*
            basename $name
        end
    end
end

function __nlstat_operand
    string match -q -- '-*' (commandline -ct); and return 1
    set -l words (commandline -opc)
    test (count $words) -ge 2; or return 1
    not __nlstat_takes_value $words[-1]
end

function __nlstat_filter_words
    set -l words (commandline -opc)
    if contains -- $words[-1] state exclude excl; and not __nlstat_takes_value $words[-2]
        printf '%s
' STATES
    else if contains -- $words[-1] src dst sport dport
        return
    else
        printf '%s
' FILTER_WORDS
    end
end

"#
    .replace("VALUE_OPTIONS", &values.value_options.join(" "))
    .replace("KEYS", &values.keys)
    .replace("STATES", &values.states)
    .replace("FILTER_WORDS", &values.filter_words);
    let mut out = helpers;
    for line in script.lines() {
        out.push_str(line);
        if line.starts_with("complete -c nlstat -l group-by ") {
            out.push_str(" -f -a \"(__nlstat_group_by_keys)\"");
        } else if line.starts_with("complete -c nlstat -l netns ") {
            out.push_str(" -f -a \"(__nlstat_netns)\"");
        }
        out.push('\n');
    }
    out.push_str(
        "complete -c nlstat -n __nlstat_operand -f -a \"(__nlstat_filter_words)\" \
         -d 'filter word'\n",
    );
    out
}

/// The man page nlstat(1).
pub fn man_page(root: &Path) -> String {
    let cmd = command();
    let mut page = Roff::new();
    page.control(
        "TH",
        [
            "NLSTAT",
            "1",
            "",
            &format!("nlstat {}", env!("CARGO_PKG_VERSION")),
            "User Commands",
        ],
    );
    // no hyphenation (it would split option names) and no justification
    // (long JSON and key names would stretch the spaces of their lines)
    page.control("nh", []);
    page.control("ad", ["l"]);
    page.control("SH", ["NAME"]);
    let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
    page.text([roman(format!("nlstat - {about}"))]);

    page.control("SH", ["SYNOPSIS"]);
    let netstat_forms = nlstat::cli::USAGE
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .flat_map(|l| l.trim().trim_start_matches("usage:").split("   "))
        .map(str::trim)
        .filter(|form| !form.is_empty())
        .map(|form| form.replacen("netstat", "nlstat", 1))
        .collect::<Vec<_>>();
    for (i, form) in netstat_forms
        .iter()
        .map(String::as_str)
        .chain(OWN_SYNOPSIS.iter().copied())
        .enumerate()
    {
        if i > 0 {
            page.control("br", []);
        }
        let rest = form
            .strip_prefix("nlstat")
            .expect("a form starts with the name");
        page.text([bold("nlstat"), roman(rest)]);
    }

    page.control("SH", ["DESCRIPTION"]);
    let long_about = cmd
        .get_long_about()
        .map(|a| a.to_string())
        .unwrap_or_default();
    for paragraph in paragraphs(&long_about).skip(1) {
        page.control("PP", []);
        page.text([roman(paragraph)]);
    }

    page.control("SH", ["OPTIONS"]);
    page.text([roman(
        "Short options combine (-tanpe); long options may be abbreviated to any \
         unambiguous prefix, as getopt allows. A mode (-r, -i, -s, -M) or a view \
         excludes the others. In the synopsis, <Socket> stands for the socket \
         table options (-t, -u, -U, -S, -w, -x, --ax25, --ipx, --netrom) and \
         <Af> for an address family (-4, -6, -A AF or --AF).",
    )]);
    let heading = nlstat::cli::OWN_OPTIONS_HEADING;
    page.control("SS", ["netstat's options"]);
    let options = || cmd.get_arguments().filter(|a| !a.is_positional());
    for arg in options().filter(|a| a.get_help_heading() != Some(heading)) {
        render_option(&mut page, arg);
    }
    page.control("SS", ["nlstat's own options"]);
    page.text([roman(
        "Long options only, so that every short letter stays netstat's. An \
         abbreviation that fits one of netstat's options and one of these keeps \
         netstat's meaning (--group is --groups).",
    )]);
    for arg in options().filter(|a| a.get_help_heading() == Some(heading)) {
        render_option(&mut page, arg);
    }
    page.control("SS", ["Operands"]);
    for arg in cmd.get_positionals() {
        render_option(&mut page, arg);
    }

    for (section, file, heading) in DOC_SECTIONS {
        let path = root.join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let markdown = markdown_section(&text, heading)
            .unwrap_or_else(|| panic!("{file} has no section `{heading}' for {section}"));
        page.control("SH", [*section]);
        markdown_to_roff(&mut page, markdown);
    }

    page.control("SH", ["SEE ALSO"]);
    page.text([roman(SEE_ALSO)]);
    ascii_only(&page.render())
}

/// One `.TP` entry: the option's spellings and value, then its help text.
fn render_option(page: &mut Roff, arg: &Arg) {
    if arg.is_hide_set() && !arg.is_positional() {
        return;
    }
    let mut tag: Vec<Inline> = Vec::new();
    let spell = |inline: Inline, tag: &mut Vec<Inline>| {
        if !tag.is_empty() {
            tag.push(roman(", "));
        }
        tag.push(inline);
    };
    if let Some(short) = arg.get_short() {
        spell(bold(format!("-{short}")), &mut tag);
    }
    if let Some(long) = arg.get_long() {
        spell(bold(format!("--{long}")), &mut tag);
    }
    for alias in arg.get_visible_aliases().unwrap_or_default() {
        spell(bold(format!("--{alias}")), &mut tag);
    }
    let names = arg.get_value_names().unwrap_or_default();
    if arg.is_positional() {
        tag.push(italic(format!("{} ...", names.join(" "))));
    } else if arg.get_action().takes_values() {
        tag.push(roman(" "));
        tag.push(italic(names.join(" ")));
    }
    page.control("TP", []);
    page.text(tag);
    let short = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
    let long = arg.get_long_help().map(|h| h.to_string());
    let body: Vec<String> = match &long {
        Some(text) => paragraphs(text).skip(1).map(str::to_string).collect(),
        None => vec![sentence(&short)],
    };
    for (i, paragraph) in body.iter().enumerate() {
        if i > 0 {
            page.control("IP", []);
        }
        page.text([roman(paragraph.as_str())]);
    }
    let values: Vec<String> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect();
    if !values.is_empty() {
        page.control("IP", []);
        page.text([roman("Values: "), italic(values.join(", ")), roman(".")]);
    }
}

fn paragraphs(text: &str) -> impl Iterator<Item = &str> {
    text.split("\n\n").map(str::trim).filter(|p| !p.is_empty())
}

/// A help summary ("don't resolve names") as a sentence.
fn sentence(summary: &str) -> String {
    let mut chars = summary.trim().chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// The body of the Markdown section with this heading (any level), up to
/// the next heading of the same or a higher level.
pub fn markdown_section<'a>(markdown: &'a str, title: &str) -> Option<&'a str> {
    let mut offset = 0;
    let mut start: Option<(usize, usize)> = None;
    let mut in_fence = false;
    for line in markdown.split_inclusive('\n') {
        let here = offset;
        offset += line.len();
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        if in_fence {
            continue;
        }
        let level = line.chars().take_while(|c| *c == '#').count();
        if level == 0 || !line[level..].starts_with(' ') {
            continue;
        }
        match start {
            None if line[level..].trim() == title => start = Some((level, offset)),
            Some((open, body)) if level <= open => return Some(&markdown[body..here]),
            _ => {}
        }
    }
    start.map(|(_, body)| &markdown[body..])
}

/// Render a Markdown section (CommonMark with tables) as man page text:
/// paragraphs, `###` headings as subsections, lists, code blocks, and
/// tables as tagged paragraphs (first cell, the middle cells in
/// parentheses, then the last cell).
pub fn markdown_to_roff(page: &mut Roff, markdown: &str) {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let mut line: Vec<Inline> = Vec::new();
    let mut fonts: Vec<char> = Vec::new();
    let mut code: Option<String> = None;
    let mut items: Vec<Option<u64>> = Vec::new();
    let mut item_open = false;
    let mut heading: Option<usize> = None;
    let mut table_row: Vec<Vec<Inline>> = Vec::new();
    let mut table_rows: Vec<Vec<Vec<Inline>>> = Vec::new();
    let mut in_table_head = false;
    let styled = |text: &str, fonts: &[char]| -> Inline {
        match fonts.last() {
            Some('B') => bold(text),
            Some('I') => italic(text),
            _ => roman(text),
        }
    };
    // a paragraph's text: the first one of a list item goes after its
    // bullet, later ones are indented paragraphs of the item
    let flush = |page: &mut Roff, line: &mut Vec<Inline>, item_open: &mut bool, in_list: bool| {
        if line.is_empty() {
            return;
        }
        if !*item_open {
            page.control(if in_list { "IP" } else { "PP" }, []);
        }
        *item_open = false;
        page.text(std::mem::take(line));
    };
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Paragraph) => {}
            Event::End(TagEnd::Paragraph) => {
                flush(page, &mut line, &mut item_open, !items.is_empty())
            }
            Event::Start(Tag::Heading { level, .. }) => heading = Some(level as usize),
            Event::End(TagEnd::Heading(_)) => {
                let text: String = std::mem::take(&mut line)
                    .into_iter()
                    .map(|i| match i {
                        Inline::Roman(t) | Inline::Bold(t) | Inline::Italic(t) => t,
                        Inline::LineBreak => " ".into(),
                    })
                    .collect();
                match heading.take() {
                    Some(level) if level <= 3 => {
                        page.control("SS", [text.as_str()]);
                    }
                    _ => {
                        page.control("PP", []);
                        page.text([bold(text)]);
                    }
                }
            }
            Event::Start(Tag::List(first)) => {
                flush(page, &mut line, &mut item_open, !items.is_empty());
                if !items.is_empty() {
                    page.control("RS", []);
                }
                items.push(first);
            }
            Event::End(TagEnd::List(_)) => {
                flush(page, &mut line, &mut item_open, true);
                items.pop();
                if !items.is_empty() {
                    page.control("RE", []);
                }
            }
            Event::Start(Tag::Item) => {
                flush(page, &mut line, &mut item_open, true);
                match items.last_mut() {
                    Some(Some(n)) => {
                        page.control("IP", [format!("{n}.").as_str(), "4"]);
                        *n += 1;
                    }
                    _ => {
                        page.control("IP", ["\\(bu", "2"]);
                    }
                }
                item_open = true;
            }
            Event::End(TagEnd::Item) => flush(page, &mut line, &mut item_open, true),
            Event::Start(Tag::CodeBlock(_)) => {
                flush(page, &mut line, &mut item_open, !items.is_empty());
                code = Some(String::new());
            }
            Event::End(TagEnd::CodeBlock) => {
                let text = code.take().unwrap_or_default();
                let in_list = !items.is_empty();
                page.control(if in_list { "IP" } else { "PP" }, []);
                item_open = false;
                if !in_list {
                    page.control("RS", ["4"]);
                }
                page.control("nf", []);
                for code_line in text.lines() {
                    page.text([roman(code_line)]);
                }
                page.control("fi", []);
                if !in_list {
                    page.control("RE", []);
                }
            }
            Event::Start(Tag::Table(_)) => {
                flush(page, &mut line, &mut item_open, !items.is_empty());
                table_rows.clear();
            }
            Event::Start(Tag::TableHead) => in_table_head = true,
            Event::End(TagEnd::TableHead) => {
                in_table_head = false;
                table_row.clear();
            }
            Event::Start(Tag::TableRow) => table_row.clear(),
            Event::Start(Tag::TableCell) => line.clear(),
            Event::End(TagEnd::TableCell) => table_row.push(std::mem::take(&mut line)),
            Event::End(TagEnd::TableRow) => table_rows.push(std::mem::take(&mut table_row)),
            Event::End(TagEnd::Table) => {
                for mut row in table_rows.drain(..) {
                    let body = if row.len() > 1 { row.pop() } else { None };
                    let mut cells = row.into_iter();
                    let mut tag = cells.next().unwrap_or_default();
                    let middle: Vec<Vec<Inline>> = cells.filter(|c| !c.is_empty()).collect();
                    if !middle.is_empty() {
                        tag.push(roman(" ("));
                        for (i, cell) in middle.into_iter().enumerate() {
                            if i > 0 {
                                tag.push(roman("; "));
                            }
                            tag.extend(cell);
                        }
                        tag.push(roman(")"));
                    }
                    page.control("TP", []);
                    page.text(tag);
                    page.text(body.unwrap_or_default());
                }
            }
            Event::Start(Tag::Emphasis) => fonts.push('I'),
            Event::Start(Tag::Strong) => fonts.push('B'),
            Event::End(TagEnd::Emphasis | TagEnd::Strong) => {
                fonts.pop();
            }
            Event::Start(Tag::Link { .. }) | Event::End(TagEnd::Link) => {}
            Event::Text(text) => match &mut code {
                Some(block) => block.push_str(&text),
                None if in_table_head => {}
                None => line.push(styled(&text, &fonts)),
            },
            Event::Code(text) => {
                if !in_table_head {
                    // a long JSON object may break after its commas
                    line.push(bold(text.replace(',', &format!(",{BREAK_POINT}"))));
                }
            }
            Event::SoftBreak => line.push(styled(" ", &fonts)),
            Event::HardBreak => line.push(Inline::LineBreak),
            other => panic!("Markdown the man page cannot render: {other:?}"),
        }
    }
    flush(page, &mut line, &mut item_open, false);
}

/// Stands for groff's `\:` (a break point that prints nothing) until
/// [`ascii_only`] writes it, past the roff crate's escaping.
const BREAK_POINT: char = '\u{E000}';

/// The page in ASCII: groff reads its input as Latin-1 unless preconv
/// runs first, so every other character becomes a groff escape.
fn ascii_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if c.is_ascii() => out.push(c),
            BREAK_POINT => out.push_str("\\:"),
            '\u{2192}' => out.push_str("\\(->"),
            '\u{2013}' => out.push_str("\\(en"),
            '\u{2014}' => out.push_str("\\(em"),
            '\u{00d7}' => out.push_str("\\(mu"),
            '\u{2264}' => out.push_str("\\(<="),
            '\u{2265}' => out.push_str("\\(>="),
            '\u{201c}' => out.push_str("\\(lq"),
            '\u{201d}' => out.push_str("\\(rq"),
            '\u{2018}' => out.push_str("\\(oq"),
            '\u{2019}' => out.push_str("\\(cq"),
            other => out.push_str(&format!("\\[u{:04X}]", other as u32)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roff_of(markdown: &str) -> String {
        let mut page = Roff::new();
        markdown_to_roff(&mut page, markdown);
        ascii_only(&page.to_roff())
    }

    #[test]
    fn sections_end_at_a_heading_of_their_level_or_higher() {
        let readme = "# t\n## A\none\n### A.1\ntwo\n```sh\n## not a heading\n```\n## B\nthree\n";
        assert_eq!(
            markdown_section(readme, "A"),
            Some("one\n### A.1\ntwo\n```sh\n## not a heading\n```\n")
        );
        assert_eq!(
            markdown_section(readme, "A.1"),
            Some("two\n```sh\n## not a heading\n```\n")
        );
        assert_eq!(markdown_section(readme, "B"), Some("three\n"));
        assert_eq!(markdown_section(readme, "C"), None);
    }

    #[test]
    fn markdown_becomes_man_macros() {
        let text = roff_of(
            "Use `--json` *now*.\n\n- one\n- two `a,b`\n\n```sh\n.dot -x\n```\n\n### Sub `x`\n",
        );
        assert_eq!(
            text,
            ".PP\nUse \\fB\\-\\-json\\fR \\fInow\\fR.\n\
             .IP \\(bu 2\none\n\
             .IP \\(bu 2\ntwo \\fBa,\\:b\\fR\n\
             .PP\n.RS 4\n.nf\n\\&.dot \\-x\n.fi\n.RE\n\
             .SS \"Sub x\"\n"
        );
    }

    #[test]
    fn tables_become_tagged_paragraphs() {
        let text = roff_of(
            "| field | type | when | meaning |\n| --- | --- | --- | --- |\n| `a` | int | | the a |\n",
        );
        assert_eq!(text, ".TP\n\\fBa\\fR (int)\nthe a\n");
    }

    #[test]
    fn non_ascii_becomes_groff_escapes() {
        assert_eq!(
            ascii_only("a \u{2192} b \u{2013} \u{e9}"),
            "a \\(-> b \\(en \\[u00E9]"
        );
    }

    #[test]
    fn help_summaries_become_sentences() {
        assert_eq!(sentence("don't resolve names"), "Don't resolve names.");
        assert_eq!(sentence("TCP sockets."), "TCP sockets.");
    }
}
