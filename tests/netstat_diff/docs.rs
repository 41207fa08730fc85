//! Installable like a system tool: the man page and the shell completions
//! (generated from the clap definition, committed under doc/), the install
//! script and the .deb. Each is checked by the program that reads it: groff
//! and man render the page, bash, zsh and fish run the completions, dpkg
//! installs the package; netstat stays the oracle for what the installed
//! binary prints.

#[allow(dead_code)]
#[path = "../../examples/gen_docs/generate.rs"]
mod generate;

use crate::support::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// A fresh temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("nlstat-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn generated_docs_are_up_to_date() {
    let mut stale = Vec::new();
    for (path, expected) in generate::all(root()) {
        match std::fs::read_to_string(root().join(path)) {
            Ok(committed) if committed == expected => {}
            Ok(committed) => {
                let line = committed
                    .lines()
                    .zip(expected.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or_else(|| committed.lines().count().min(expected.lines().count()));
                stale.push(format!(
                    "{path} differs from line {}:\n  committed: {:?}\n  generated: {:?}",
                    line + 1,
                    committed.lines().nth(line).unwrap_or("<end>"),
                    expected.lines().nth(line).unwrap_or("<end>")
                ));
            }
            Err(e) => stale.push(format!("{path}: {e}")),
        }
    }
    assert!(
        stale.is_empty(),
        "the generated man page or completions are out of date (the clap definition in \
         src/cli/, README.md or doc/*.md changed): run `{}` and commit what it writes\n{}",
        generate::REGENERATE,
        stale.join("\n")
    );
}

/// The Markdown files of the repository (README.md, doc/, scripts/, ...),
/// without build output and fuzzing data.
fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if path.is_dir() {
                let skip = name.starts_with('.')
                    || ["target", "corpus", "artifacts"].contains(&name.as_ref());
                if !skip {
                    walk(&path, found);
                }
            } else if name.ends_with(".md") {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(root(), &mut found);
    found.sort();
    found
}

/// The anchor GitHub gives a heading: its text in lower case, without
/// punctuation other than `-` and `_`, spaces as `-`.
fn github_slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Every heading anchor of a Markdown text, a repeated one with GitHub's
/// `-1`, `-2`, ... suffixes.
fn heading_anchors(markdown: &str) -> Vec<String> {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let mut anchors: Vec<String> = Vec::new();
    let mut heading: Option<String> = None;
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let slug = github_slug(&heading.take().unwrap_or_default());
                let repeats = anchors
                    .iter()
                    .filter(|a| {
                        **a == slug
                            || a.strip_prefix(&slug).is_some_and(|r| {
                                r.starts_with('-') && r[1..].parse::<u32>().is_ok()
                            })
                    })
                    .count();
                anchors.push(if repeats == 0 {
                    slug
                } else {
                    format!("{slug}-{repeats}")
                });
            }
            _ => {}
        }
    }
    anchors
}

/// Every link and image destination of a Markdown text.
fn link_targets(markdown: &str) -> Vec<String> {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    Parser::new_ext(markdown, Options::ENABLE_TABLES)
        .filter_map(|event| match event {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                Some(dest_url.to_string())
            }
            _ => None,
        })
        .collect()
}

#[test]
fn github_slugs_are_githubs() {
    // anchors GitHub generated for headings of this README
    assert_eq!(github_slug("Socket owners (-p)"), "socket-owners--p");
    assert_eq!(
        github_slug("What differs from netstat"),
        "what-differs-from-netstat"
    );
    assert_eq!(github_slug("Terminal-safe output"), "terminal-safe-output");
    assert_eq!(
        heading_anchors("# A\n## `socket` (unix)\n## A\n## A\n"),
        ["a", "socket-unix", "a-1", "a-2"]
    );
}

/// Every relative link in the repository's Markdown files names a file
/// that exists, and a `#anchor` a heading of its target.
#[test]
fn relative_links_resolve() {
    let files = markdown_files();
    for required in ["README.md", "scripts/README.md"] {
        assert!(
            files.contains(&root().join(required)),
            "{required} not found"
        );
    }
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target.as_str(), None),
            };
            let resolved = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            if !resolved.exists() {
                broken.push(format!(
                    "{name}: {target}: {} does not exist",
                    resolved.display()
                ));
                continue;
            }
            if let Some(anchor) = anchor {
                let anchors = match std::fs::read_to_string(&resolved) {
                    Ok(target_text) => heading_anchors(&target_text),
                    Err(_) => Vec::new(),
                };
                if !anchors.iter().any(|a| a == anchor) {
                    broken.push(format!(
                        "{name}: {target}: {} has no heading #{anchor} (it has {anchors:?})",
                        resolved.display()
                    ));
                }
            }
        }
    }
    assert!(
        checked >= 20,
        "only {checked} relative links found in {files:?}"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The README is a newcomer's page: at most 530 lines (100 of them the
/// live screen's six screenshots), with the two
/// commands CI and the docs rely on, and a link to every reference page
/// under doc/ (which hold the rest).
#[test]
fn readme_is_short_and_links_every_reference_page() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let lines = readme.lines().count();
    assert!(lines <= 530, "README.md has {lines} lines, more than 530");
    let commands = generate::markdown_section(&readme, "The two commands")
        .expect("README.md has the section `The two commands'");
    for command in [
        "cargo build --release && ./target/release/nlstat -tan\n",
        "```sh\ncargo test\n```",
    ] {
        assert!(
            commands.contains(command),
            "`The two commands' lacks {command:?}"
        );
    }
    let linked = link_targets(&readme);
    let mut pages = 0;
    for entry in std::fs::read_dir(root().join("doc")).expect("doc/") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages += 1;
            let link = format!("doc/{}", path.file_name().unwrap().to_string_lossy());
            assert!(
                linked
                    .iter()
                    .any(|l| l.split('#').next() == Some(link.as_str())),
                "README.md does not link {link}"
            );
        }
    }
    assert!(pages >= 5, "doc/ has {pages} reference pages");
}

/// The page as `man` shows it, in plain ASCII, 80 columns.
fn man_text(page: &Path) -> Output {
    run(Command::new("man")
        .args(["--warnings", "-l"])
        .arg(page)
        .env("LC_ALL", "C")
        .env("MANWIDTH", "80")
        .env("MANPAGER", "cat")
        .env_remove("MAN_KEEP_FORMATTING"))
}

/// groff and man render the page without a single warning (`-ww` turns
/// all of them on), in ASCII and in UTF-8, at two widths.
fn assert_renders_cleanly(page: &Path) {
    // groff reads no gzipped page; man does
    let plain = page.extension().is_none_or(|e| e != "gz");
    if plain {
        for device in ["-Tascii", "-Tutf8"] {
            let out = run(Command::new("groff")
                .args(["-ww", "-man", device, "-z"])
                .arg(page));
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "groff -ww -man {device} -z {}: {}",
                page.display(),
                text(&out.stderr)
            );
        }
    }
    for (locale, width) in [("C", "80"), ("C.UTF-8", "80"), ("C.UTF-8", "64")] {
        let out = run(Command::new("man")
            .args(["--warnings", "-l"])
            .arg(page)
            .env("LC_ALL", locale)
            .env("MANWIDTH", width)
            .env("MANPAGER", "cat"));
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "man --warnings -l {} (LC_ALL={locale}, MANWIDTH={width}): {}",
            page.display(),
            text(&out.stderr)
        );
        assert!(text(&out.stdout).contains("NLSTAT(1)"));
    }
}

#[test]
fn man_page_renders_without_warnings() {
    if !require_tools(&["groff", "man"]) {
        return;
    }
    assert_renders_cleanly(&root().join(generate::MAN_PAGE));
}

/// Whether `option` stands in `text` as a word of its own (`--ip` in
/// `--ip,` but not in `--ipx`).
fn names(text: &str, option: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(option).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + option.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// The environment variables the source reads (`env::var("NLSTAT_...")`).
fn environment_variables() -> Vec<String> {
    fn walk(dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("src/") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let source = std::fs::read_to_string(&path).expect("a source file");
                for (i, _) in source.match_indices("env::var") {
                    let call = &source[i..source.len().min(i + 80)];
                    if let Some(start) = call.find("(\"NLSTAT_") {
                        let name: String = call[start + 2..]
                            .chars()
                            .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                            .collect();
                        if !found.contains(&name) {
                            found.push(name);
                        }
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(&root().join("src"), &mut found);
    found
}

#[test]
fn man_page_documents_every_option_section_and_variable() {
    if !require_tools(&["man"]) {
        return;
    }
    let out = man_text(&root().join(generate::MAN_PAGE));
    let page = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let cmd = generate::command();
    let mut missing = Vec::new();
    for arg in cmd.get_arguments().filter(|a| !a.is_positional()) {
        let longs = arg
            .get_long()
            .into_iter()
            .chain(arg.get_all_aliases().unwrap_or_default());
        for long in longs {
            if !names(&page, &format!("--{long}")) {
                missing.push(format!("--{long}"));
            }
        }
        if let Some(short) = arg.get_short().filter(|_| !arg.is_hide_set())
            && !names(&page, &format!("-{short}"))
        {
            missing.push(format!("-{short}"));
        }
    }
    assert!(
        missing.is_empty(),
        "options missing from nlstat(1): {missing:?}"
    );
    for (section, _, _) in generate::DOC_SECTIONS {
        assert!(
            page.lines().any(|l| l == *section),
            "nlstat(1) has no section {section}"
        );
    }
    // the section: its heading line, then indented or empty lines
    let environment: String = page
        .lines()
        .skip_while(|l| *l != "ENVIRONMENT")
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .collect::<Vec<_>>()
        .join("\n");
    let variables = environment_variables();
    assert!(variables.len() >= 3, "found {variables:?} in src/");
    for name in &variables {
        assert!(
            names(&environment, name),
            "ENVIRONMENT in nlstat(1) does not name {name}, which src/ reads:\n{environment}"
        );
    }
}

/// Complete `words` (the last one being completed) with the bash
/// completion in `file`, as bash's programmable completion calls it.
fn bash_complete(file: &Path, words: &[&str]) -> Vec<String> {
    let script = r#"
        source "$1" || exit 2
        shift
        spec=$(complete -p nlstat) || exit 3
        function=${spec##* -F }
        function=${function%% *}
        COMP_WORDS=("$@")
        COMP_CWORD=$(( $# - 1 ))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        "$function" nlstat "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
        printf '%s\n' "${COMPREPLY[@]}"
    "#;
    let out = run(Command::new("bash")
        .args(["--norc", "--noprofile", "-c", script, "bash"])
        .arg(file)
        .args(words));
    assert!(
        out.status.success(),
        "bash completion {}: {}",
        file.display(),
        text(&out.stderr)
    );
    text(&out.stdout).lines().map(str::to_string).collect()
}

/// What the completions must offer, for any shell: netstat's and nlstat's
/// long options by prefix, and the values -A and --source take.
fn check_completion(shell: &str, complete: impl Fn(&[&str]) -> Vec<String>) {
    let offered = complete(&["nlstat", "--gr"]);
    for want in ["--group-by", "--groups"] {
        assert!(
            offered.iter().any(|w| w == want),
            "{shell}: `nlstat --gr<TAB>` offers {offered:?}, not {want}"
        );
    }
    assert!(
        offered.iter().all(|w| w.starts_with("--gr")),
        "{shell}: `nlstat --gr<TAB>` offers {offered:?}"
    );
    let offered = complete(&["nlstat", "-t", "--source", ""]);
    let mut sorted = offered.clone();
    sorted.sort();
    assert_eq!(sorted, ["netlink", "proc"], "{shell}: `--source <TAB>`");
    let offered = complete(&["nlstat", "-A", "ine"]);
    let mut sorted = offered.clone();
    sorted.sort();
    assert_eq!(sorted, ["inet", "inet6"], "{shell}: `-A ine<TAB>`");
    let offered = complete(&["nlstat", "--all-n"]);
    assert_eq!(offered, ["--all-netns"], "{shell}: `--all-n<TAB>`");
    check_value_completion(shell, complete);
}

fn set<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> BTreeSet<String> {
    words.into_iter().map(|w| w.as_ref().to_string()).collect()
}

/// The values after nlstat's own options and the filter words, from the
/// code's own lists (the keys --group-by parses, the filter parser's
/// words and states) and from /run/netns.
fn check_value_completion(shell: &str, complete: impl Fn(&[&str]) -> Vec<String>) {
    use nlstat::filter::expr::{FILTER_WORDS, STATE_GROUPS, STATE_NAMES};
    let keys = set(nlstat::views::KEY_NAMES);
    let offered = complete(&["nlstat", "-t", "--group-by", ""]);
    assert_eq!(set(&offered), keys, "{shell}: `--group-by <TAB>`");
    // after a comma: the keys again, the ones given kept in front (bash
    // and fish complete the whole word, zsh the part after the comma)
    let offered = complete(&["nlstat", "--group-by", "state,lo"]);
    let after_comma = offered.iter().map(|w| w.trim_start_matches("state,"));
    assert_eq!(
        set(after_comma),
        set(["local_addr", "local_port"]),
        "{shell}: `--group-by state,lo<TAB>` offers {offered:?}"
    );
    let offered = complete(&["nlstat", "--pid-source", ""]);
    assert_eq!(set(&offered), set(["auto", "bpf", "proc"]), "{shell}");
    // numbers and a port: nothing (no file names)
    for option in ["--top", "--min-interval", "--max-series", "--serve"] {
        let offered = complete(&["nlstat", option, ""]);
        assert!(
            offered.iter().all(|w| w.is_empty()),
            "{shell}: `{option} <TAB>` offers {offered:?}"
        );
    }
    // operands: the filter words; after state or exclude, the states
    let filter_words = set(FILTER_WORDS);
    let offered = complete(&["nlstat", "-tan", ""]);
    assert_eq!(set(&offered), filter_words, "{shell}: `nlstat -tan <TAB>`");
    let offered = complete(&["nlstat", "-t", "--group-by", "state", ""]);
    assert_eq!(
        set(&offered),
        filter_words,
        "{shell}: after --group-by state"
    );
    let offered = complete(&["nlstat", "-tan", "dport", "=", ":443", "or", "sp"]);
    assert_eq!(offered, ["sport"], "{shell}: `... or sp<TAB>`");
    let states = set(STATE_NAMES.iter().chain(STATE_GROUPS));
    for word in ["state", "exclude"] {
        let offered = complete(&["nlstat", "-t", word, ""]);
        assert_eq!(set(&offered), states, "{shell}: `-t {word} <TAB>`");
    }
    // --netns: the names in /run/netns, one made here among them
    let Some(ns) = Namespace::create("complete") else {
        return;
    };
    // other tests make and delete namespaces meanwhile: a name offered
    // must be in /run/netns just before or just after the completion
    let listing = || -> Vec<String> {
        std::fs::read_dir("/run/netns")
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let before = listing();
    let offered = complete(&["nlstat", "--netns", ""]);
    let after = listing();
    assert!(
        offered.contains(&ns.name),
        "{shell}: `--netns <TAB>` offers {offered:?}, not {}",
        ns.name
    );
    assert!(
        offered
            .iter()
            .all(|name| before.contains(name) || after.contains(name)),
        "{shell}: `--netns <TAB>` offers {offered:?}, /run/netns held {before:?} then {after:?}"
    );
    let prefix = &ns.name[..ns.name.len() - 1];
    let offered = complete(&["nlstat", "-t", "--netns", prefix]);
    assert!(offered.contains(&ns.name), "{shell}: {offered:?}");
}

fn check_bash_completion(file: &Path) {
    check_completion("bash", |words| bash_complete(file, words));
}

#[test]
fn bash_completion_completes_options_and_values() {
    if !require_tools(&["bash"]) {
        return;
    }
    check_bash_completion(&root().join(generate::BASH_COMPLETION));
}

/// Complete in a real interactive zsh on a pseudo-terminal (zsh/zpty):
/// compinit, the completion function from `dir`, and a Tab at the end of
/// the line.
fn zsh_complete(dir: &Path, words: &[&str]) -> Vec<String> {
    let helper = root().join("tests/netstat_diff/zsh_complete.zsh");
    let out = run(Command::new("zsh")
        .arg("-f")
        .arg(&helper)
        .arg(dir)
        .arg(words.join(" ")));
    assert!(
        out.status.success(),
        "zsh completion of {words:?}: {}",
        text(&out.stderr)
    );
    let mut offered: Vec<String> = text(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("<<")?.strip_suffix(">>"))
        .map(str::to_string)
        .collect();
    offered.dedup();
    offered
}

#[test]
fn zsh_completion_completes_options_and_values() {
    if !require_tools(&["zsh"]) {
        return;
    }
    let file = root().join(generate::ZSH_COMPLETION);
    let syntax = run(Command::new("zsh").arg("-n").arg(&file));
    assert!(syntax.status.success(), "zsh -n: {}", text(&syntax.stderr));
    let dir = file.parent().unwrap().to_path_buf();
    check_completion("zsh", |words| zsh_complete(&dir, words));
}

fn fish_complete(file: &Path, words: &[&str]) -> Vec<String> {
    let out = run(Command::new("fish")
        .args([
            "--no-config",
            "-c",
            "source $argv[1]; and complete -C $argv[2]",
        ])
        .arg(file)
        .arg(words.join(" ")));
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "fish completion of {words:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn fish_completion_completes_options_and_values() {
    if !require_tools(&["fish"]) {
        return;
    }
    let file = root().join(generate::FISH_COMPLETION);
    let syntax = run(Command::new("fish").arg("--no-config").arg("-n").arg(&file));
    assert!(syntax.status.success(), "fish -n: {}", text(&syntax.stderr));
    check_completion("fish", |words| fish_complete(&file, words));
}

/// The installed nlstat and netstat link print what /usr/bin/netstat
/// prints, in a namespace with a socket population.
fn check_installed_binaries(bin: &Path, netstat_link: Option<&Path>) {
    let Some(ns) = Namespace::create("installed") else {
        return;
    };
    let _population = Population::start(&ns);
    let mut programs = vec![bin.to_path_buf()];
    programs.extend(netstat_link.map(Path::to_path_buf));
    let mut results = Vec::new();
    for program in &programs {
        for args in [&["-tan"][..], &["-uan"]] {
            let theirs = ns.run(NETSTAT, args);
            let ours = ns.run(program.to_str().unwrap(), args);
            results.push(
                same_output(args, &theirs, &ours)
                    .map_err(|e| format!("{}: {e}", program.display())),
            );
        }
    }
    if let Some(link) = netstat_link {
        // under netstat's name, -h is netstat's, byte for byte
        let theirs = ns.run(NETSTAT, &["-h"]);
        let ours = ns.run(link.to_str().unwrap(), &["-h"]);
        results.push(same_output(&["-h"], &theirs, &ours));
    }
    assert_all(results);
}

/// The size an installed nlstat may have: the release build stripped is
/// about 4 MB since recordings brought zstd's C library (2.6 MB before
/// issue 21), with its symbols and line tables about 28 MB; the cap tells
/// the two apart.
const INSTALLED_MAX_BYTES: u64 = 6_000_000;

/// `readelf` (binutils) on `file`: the oracle for what an ELF file holds.
fn readelf(args: &[&str], file: &Path) -> String {
    let out = run(Command::new("readelf").args(args).arg(file));
    assert!(
        out.status.success(),
        "readelf {args:?} {}: {}",
        file.display(),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The GNU build id of an ELF file, as `readelf -n` prints it: what
/// identifies one link of a binary, kept by `strip`.
fn build_id(file: &Path) -> String {
    readelf(&["-n"], file)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Build ID:"))
        .map(|id| id.trim().to_string())
        .unwrap_or_else(|| panic!("{} has no build id", file.display()))
}

/// The sections `readelf -S -W` lists: (name, flags).
fn elf_sections(file: &Path) -> Vec<(String, String)> {
    readelf(&["-S", "-W"], file)
        .lines()
        .filter_map(|l| {
            // `  [13] .name TYPE ADDRESS OFF SIZE ES FLG LK INF AL`, FLG
            // empty for a section without flags
            let (_, rest) = l.trim_start().strip_prefix('[')?.split_once(']')?;
            let cells: Vec<&str> = rest.split_whitespace().collect();
            let name = cells.first()?.to_string();
            let flags = cells
                .get(6)
                .filter(|f| !f.chars().all(|c| c.is_ascii_digit()))
                .map_or(String::new(), |f| f.to_string());
            Some((name, flags))
        })
        .filter(|(name, _)| !name.is_empty())
        .collect()
}

/// `file` carries no symbol table and no debug information (what `strip`
/// removes), and with `max_bytes` is at most that large.
fn assert_stripped(file: &Path, max_bytes: Option<u64>) {
    let sections = elf_sections(file);
    assert!(
        sections.iter().any(|(name, _)| name == ".text"),
        "readelf lists no .text in {}: {sections:?}",
        file.display()
    );
    // .debug_gdb_scripts is allocated (A): a few bytes of the loaded
    // image naming Rust's gdb helpers, which strip must keep
    let unstripped: Vec<&String> = sections
        .iter()
        .filter(|(name, flags)| {
            name == ".symtab" || (name.starts_with(".debug_") && !flags.contains('A'))
        })
        .map(|(name, _)| name)
        .collect();
    assert!(
        unstripped.is_empty(),
        "{} is not stripped: it has {unstripped:?}",
        file.display()
    );
    if let Some(max) = max_bytes {
        let size = std::fs::metadata(file).expect("the installed binary").len();
        assert!(
            size <= max,
            "{} is {size} bytes, more than {max}",
            file.display()
        );
    }
}

#[test]
fn install_script_installs_under_a_prefix() {
    if !require_tools(&["man", "bash", "readelf", "strip"]) {
        return;
    }
    let tmp = TempDir::new("install");
    let prefix = tmp.0.join("prefix");
    let install = |extra: &[&str]| {
        run(Command::new(root().join("scripts/install.sh"))
            .arg("--prefix")
            .arg(&prefix)
            .arg("--bin")
            .arg(nlstat())
            .args(extra))
    };
    let out = install(&["--as-netstat"]);
    assert!(out.status.success(), "install.sh: {}", text(&out.stderr));
    // twice is fine: the links are its own
    let again = install(&["--as-netstat"]);
    assert!(
        again.status.success(),
        "install.sh again: {}",
        text(&again.stderr)
    );
    // the binary given, stripped: its build id, without symbols or debug
    // information; the file given stays as it was
    let installed_bin = prefix.join("bin/nlstat");
    assert_eq!(build_id(&installed_bin), build_id(Path::new(nlstat())));
    assert_stripped(&installed_bin, None);
    assert!(
        elf_sections(Path::new(nlstat()))
            .iter()
            .any(|(name, _)| name == ".symtab"),
        "install.sh stripped the binary it was given, not its copy"
    );
    for (path, source) in [
        ("share/man/man1/nlstat.1", generate::MAN_PAGE),
        (
            "share/bash-completion/completions/nlstat",
            generate::BASH_COMPLETION,
        ),
        ("share/zsh/site-functions/_nlstat", generate::ZSH_COMPLETION),
        (
            "share/fish/vendor_completions.d/nlstat.fish",
            generate::FISH_COMPLETION,
        ),
    ] {
        let installed = std::fs::read(prefix.join(path))
            .unwrap_or_else(|e| panic!("{path} not installed: {e}"));
        let expected = std::fs::read(root().join(source)).unwrap();
        assert!(
            installed == expected,
            "{path} is not what was installed from"
        );
    }
    // --no-strip installs the very bytes given
    let unstripped = TempDir::new("install-no-strip");
    let out = run(Command::new(root().join("scripts/install.sh"))
        .arg("--prefix")
        .arg(&unstripped.0)
        .arg("--bin")
        .arg(nlstat())
        .arg("--no-strip"));
    assert!(
        out.status.success(),
        "install.sh --no-strip: {}",
        text(&out.stderr)
    );
    assert!(
        std::fs::read(unstripped.0.join("bin/nlstat")).unwrap() == std::fs::read(nlstat()).unwrap(),
        "install.sh --no-strip changed the binary"
    );
    drop(unstripped);

    let link = prefix.join("bin/netstat");
    assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("nlstat"));
    assert_eq!(
        std::fs::read_link(prefix.join("share/man/man8/netstat.8")).unwrap(),
        Path::new("../man1/nlstat.1")
    );
    // man finds both pages in the prefix (netstat(8) through its link to
    // nlstat(1), which man-db reports by its target), and renders them
    let nlstat_page = prefix.join("share/man/man1/nlstat.1");
    for name in ["nlstat", "netstat"] {
        let found = run(Command::new("man")
            .args(["-w", name])
            .env("MANPATH", prefix.join("share/man")));
        let path = PathBuf::from(text(&found.stdout).trim());
        assert_eq!(
            std::fs::canonicalize(&path).ok(),
            std::fs::canonicalize(&nlstat_page).ok(),
            "man -w {name} says {}: {}",
            path.display(),
            text(&found.stderr)
        );
    }
    let shown = man_text(&prefix.join("share/man/man8/netstat.8"));
    assert!(text(&shown.stdout).contains("NLSTAT(1)"));
    assert_renders_cleanly(&prefix.join("share/man/man8/netstat.8"));
    check_bash_completion(&prefix.join("share/bash-completion/completions/nlstat"));

    // a netstat that is not its link stays: nothing is installed then
    let other = TempDir::new("install-other");
    let other_prefix = other.0.join("prefix");
    std::fs::create_dir_all(other_prefix.join("bin")).unwrap();
    std::fs::write(other_prefix.join("bin/netstat"), "net-tools").unwrap();
    let refused = run(Command::new(root().join("scripts/install.sh"))
        .arg("--prefix")
        .arg(&other_prefix)
        .arg("--bin")
        .arg(nlstat())
        .arg("--as-netstat"));
    assert!(
        !refused.status.success(),
        "install.sh must not replace a netstat"
    );
    assert!(
        text(&refused.stderr).contains("not replacing it"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(
        std::fs::read(other_prefix.join("bin/netstat")).unwrap(),
        b"net-tools"
    );
    assert!(!other_prefix.join("bin/nlstat").exists());

    check_installed_binaries(&prefix.join("bin/nlstat"), Some(&link));
}

/// Purges the package when dropped, so that a failing check does not
/// leave it installed.
struct Installed;

impl Drop for Installed {
    fn drop(&mut self) {
        let out = Command::new("dpkg").args(["--purge", "nlstat"]).output();
        if let Ok(out) = out
            && !out.status.success()
        {
            eprintln!("dpkg --purge nlstat: {}", text(&out.stderr));
        }
    }
}

/// Whether the tests that build the release binary (and, for the .deb,
/// install into /usr) run: under CI, or with NLSTAT_TEST_DEB=1.
fn release_tests() -> bool {
    let asked = std::env::var("NLSTAT_TEST_DEB").is_ok_and(|v| v == "1");
    if !in_ci() && !asked {
        eprintln!(
            "SKIPPED: builds the release binary and installs a package system-wide; \
             set NLSTAT_TEST_DEB=1 (or CI=true)"
        );
    }
    in_ci() || asked
}

/// `cargo install --path .`, as the README documents it, into a
/// temporary root.
#[test]
fn cargo_install_installs_the_binary() {
    if !release_tests() {
        return;
    }
    let tmp = TempDir::new("cargo-install");
    let out = run(Command::new(env!("CARGO"))
        .args(["install", "--path", ".", "--locked", "--root"])
        .arg(&tmp.0)
        .current_dir(root()));
    assert!(out.status.success(), "cargo install: {}", text(&out.stderr));
    let version = run(Command::new(tmp.0.join("bin/nlstat")).arg("-V"));
    assert_eq!(text(&version.stdout), nlstat::cli::VERSION_TEXT);
}

/// Builds the .deb, installs it with dpkg, checks what it installed and
/// purges it again. It installs into /usr, so it runs only under CI or
/// with NLSTAT_TEST_DEB=1.
#[test]
fn deb_package_installs_and_purges() {
    if !release_tests() {
        return;
    }
    if !require_tools(&[
        "dpkg",
        "dpkg-query",
        "dpkg-deb",
        "dpkg-shlibdeps",
        "man",
        "bash",
        "readelf",
    ]) {
        return;
    }
    let status = run(Command::new("dpkg-query").args(["-W", "-f", "${Status}", "nlstat"]));
    assert!(
        !text(&status.stdout).contains("installed"),
        "a package named nlstat is installed already; this test leaves it alone"
    );
    let netstat_owner = run(Command::new("dpkg").args(["-S", NETSTAT]));

    let tmp = TempDir::new("deb");
    let built = run(Command::new(root().join("scripts/build-deb.sh"))
        .arg("--out")
        .arg(&tmp.0));
    assert!(
        built.status.success(),
        "build-deb.sh: {}",
        text(&built.stderr)
    );
    let deb = PathBuf::from(
        text(&built.stdout)
            .lines()
            .last()
            .expect("the .deb path")
            .trim(),
    );
    let contents = text(&run(Command::new("dpkg-deb").arg("-c").arg(&deb)).stdout);
    for path in [
        "./usr/bin/nlstat",
        "./usr/share/man/man1/nlstat.1.gz",
        "./usr/share/bash-completion/completions/nlstat",
        "./usr/share/zsh/site-functions/_nlstat",
        "./usr/share/fish/vendor_completions.d/nlstat.fish",
    ] {
        assert!(
            contents.lines().any(|l| l.ends_with(path)),
            "{path} not in the package:\n{contents}"
        );
    }
    assert!(
        !contents.contains("netstat"),
        "the package must not ship netstat:\n{contents}"
    );
    let fields = text(&run(Command::new("dpkg-deb").arg("-f").arg(&deb)).stdout);
    assert!(fields.contains("Package: nlstat\n"), "{fields}");
    assert!(fields.contains("Depends: libc6"), "{fields}");
    assert!(
        !fields.contains("Conflicts") && !fields.contains("Replaces"),
        "{fields}"
    );

    let installed = run(Command::new("dpkg").arg("-i").arg(&deb));
    let _purge = Installed;
    assert!(
        installed.status.success(),
        "dpkg -i: {}",
        text(&installed.stderr)
    );
    let listed = text(&run(Command::new("dpkg").args(["-L", "nlstat"])).stdout);
    assert!(listed.lines().any(|l| l == "/usr/bin/nlstat"), "{listed}");
    assert_stripped(Path::new("/usr/bin/nlstat"), Some(INSTALLED_MAX_BYTES));
    // net-tools' netstat is untouched
    let owner_now = run(Command::new("dpkg").args(["-S", NETSTAT]));
    assert_eq!(text(&owner_now.stdout), text(&netstat_owner.stdout));

    let page = Path::new("/usr/share/man/man1/nlstat.1.gz");
    assert_renders_cleanly(page);
    let found = run(Command::new("man").args(["-w", "nlstat"]));
    assert_eq!(text(&found.stdout).trim(), page.to_str().unwrap());
    check_bash_completion(Path::new("/usr/share/bash-completion/completions/nlstat"));
    check_installed_binaries(Path::new("/usr/bin/nlstat"), None);

    drop(_purge);
    assert!(
        !Path::new("/usr/bin/nlstat").exists(),
        "purged, /usr/bin/nlstat stays"
    );
    assert!(!page.exists(), "purged, the man page stays");
    let status = run(Command::new("dpkg-query").args(["-W", "-f", "${Status}", "nlstat"]));
    assert!(
        !text(&status.stdout).contains("ok installed"),
        "{}",
        text(&status.stdout)
    );
}

/// With CARGO_TARGET_DIR set, build-deb.sh packages the binary cargo built
/// there, not whatever target/release/nlstat holds, and strips it. The
/// fresh target directory is seeded with a copy of this build's release
/// directory (so cargo finds it up to date instead of spending minutes on
/// a build), whose nlstat gets a build id of its own: only that copy has
/// it, so the package shows which binary it took.
#[test]
fn deb_package_holds_the_binary_built_in_cargo_target_dir() {
    if !release_tests() {
        return;
    }
    if !require_tools(&[
        "dpkg",
        "dpkg-deb",
        "dpkg-shlibdeps",
        "readelf",
        "strip",
        "cp",
    ]) {
        return;
    }
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp is in the target directory");
    let built = run(Command::new(env!("CARGO"))
        .args(["build", "--release", "--locked", "--bin", "nlstat"])
        .env("CARGO_TARGET_DIR", target)
        .current_dir(root()));
    assert!(
        built.status.success(),
        "cargo build --release: {}",
        text(&built.stderr)
    );

    let tmp = TempDir::new("deb-target-dir");
    let fresh = tmp.0.join("target");
    std::fs::create_dir_all(&fresh).unwrap();
    let copied = run(Command::new("cp")
        .arg("-a")
        .arg(target.join("release"))
        .arg(&fresh));
    assert!(copied.status.success(), "cp -a: {}", text(&copied.stderr));
    let binary = fresh.join("release/nlstat");
    let original = build_id(&binary);
    let id: Vec<u8> = (0..original.len() / 2)
        .map(|i| u8::from_str_radix(&original[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let marked: Vec<u8> = id.iter().map(|b| !b).collect();
    let mut bytes = std::fs::read(&binary).unwrap();
    let at = bytes
        .windows(id.len())
        .position(|w| w == id.as_slice())
        .expect("the build id's bytes in the binary");
    bytes[at..at + id.len()].copy_from_slice(&marked);
    std::fs::write(&binary, &bytes).unwrap();
    let marked_id: String = marked.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(build_id(&binary), marked_id);

    let out_dir = tmp.0.join("out");
    let packaged = run(Command::new(root().join("scripts/build-deb.sh"))
        .arg("--out")
        .arg(&out_dir)
        .env("CARGO_TARGET_DIR", &fresh));
    assert!(
        packaged.status.success(),
        "build-deb.sh: {}",
        text(&packaged.stderr)
    );
    assert_eq!(
        build_id(&binary),
        marked_id,
        "cargo rebuilt the copied target directory; the test cannot tell the binaries apart"
    );
    let deb = PathBuf::from(
        text(&packaged.stdout)
            .lines()
            .last()
            .expect("the .deb path")
            .trim(),
    );
    let unpacked = tmp.0.join("unpacked");
    let extracted = run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&unpacked));
    assert!(
        extracted.status.success(),
        "dpkg-deb -x: {}",
        text(&extracted.stderr)
    );
    let shipped = unpacked.join("usr/bin/nlstat");
    assert_eq!(
        build_id(&shipped),
        marked_id,
        "the package holds another binary than the one cargo built in CARGO_TARGET_DIR (build id {original} is {})",
        target.join("release/nlstat").display()
    );
    assert_stripped(&shipped, Some(INSTALLED_MAX_BYTES));
}

/// The clauses of `text` (split at sentence ends and semicolons) that say
/// something is not supported.
fn negative_clauses(text: &str) -> Vec<String> {
    text.replace('\n', " ")
        .split(". ")
        .flat_map(|s| s.split(';'))
        .filter(|clause| {
            let lower = clause.to_lowercase();
            ["not ", "no ", "unsupported", "cannot"]
                .iter()
                .any(|w| lower.starts_with(w) || lower.contains(&format!(" {w}")))
        })
        .map(str::to_string)
        .collect()
}

/// The entry of `option` in `man` output: its tag line and the indented
/// lines under it.
fn man_entry(page: &str, option: &str) -> String {
    let mut lines = page.lines().skip_while(|l| {
        let t = l.trim_start();
        !(t.starts_with(option) && l.starts_with("       ") && !l.starts_with("        "))
    });
    let mut entry: Vec<&str> = lines.next().into_iter().collect();
    entry.extend(lines.take_while(|l| l.is_empty() || l.starts_with("              ")));
    entry.join("\n")
}

fn nlstat_run(args: &[&str]) -> Output {
    run(Command::new(nlstat()).args(args))
}

/// The help and the man page name no limitation the code does not have,
/// and the code does what they say: --all-netns with -c, the views,
/// --json, --serve and --textfile (each run here over the host's
/// namespaces), --serve's value [ADDR:]PORT (served at an ADDR:PORT), and
/// -p's owners from the BPF iterator by default.
#[test]
fn help_and_man_name_no_limitation_the_code_lacks() {
    let cmd = generate::command();
    let long_help = |id: &str| -> String {
        let arg = cmd
            .get_arguments()
            .find(|a| a.get_id() == id)
            .unwrap_or_else(|| panic!("no argument {id}"));
        arg.get_long_help()
            .or(arg.get_help())
            .map(|h| h.to_string())
            .unwrap_or_default()
    };
    // (what, the words that name it in the text, a run that must work)
    let combinations: &[(&str, &[&str], &[&str])] = &[
        ("-c", &["-c"], &["-tan", "-c"]),
        (
            "views",
            &["views", "--group-by"],
            &["-t", "--group-by", "state"],
        ),
        ("--summary", &["views", "--summary"], &["--summary"]),
        ("--listeners", &["views", "--listeners"], &["--listeners"]),
        ("--ephemeral", &["views", "--ephemeral"], &["--ephemeral"]),
        ("--json", &["--json"], &["-tan", "--json"]),
        ("--textfile", &["--textfile"], &[]),
        ("--serve", &["--serve"], &[]),
    ];
    let mut texts = vec![("--all-netns --help", long_help("all_netns"))];
    if require_tools(&["man"]) {
        let page = text(&man_text(&root().join(generate::MAN_PAGE)).stdout);
        texts.push(("man nlstat, --all-netns", man_entry(&page, "--all-netns")));
        let synopsis: String = page
            .lines()
            .skip_while(|l| *l != "SYNOPSIS")
            .take_while(|l| *l != "DESCRIPTION")
            .collect::<Vec<_>>()
            .join(" ");
        let synopsis = synopsis.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            synopsis.contains("--serve [ADDR:]PORT") && !synopsis.contains("--serve PORT"),
            "man nlstat SYNOPSIS: {synopsis}"
        );
        let serve = man_entry(&page, "--serve");
        assert!(serve.contains("--serve [ADDR:]PORT"), "{serve}");
        let description: String = page
            .lines()
            .skip_while(|l| *l != "DESCRIPTION")
            .take_while(|l| *l != "OPTIONS")
            .collect::<Vec<_>>()
            .join(" ");
        assert!(description.contains("BPF"), "DESCRIPTION: {description}");
    }
    for (where_, text) in &texts {
        assert!(
            text.contains("--netns") || text.contains("all-netns"),
            "{where_}: {text}"
        );
        for clause in negative_clauses(text) {
            for (what, words, _) in combinations {
                for name in *words {
                    assert!(
                        !names(&clause, name),
                        "{where_} says `{clause}', but --all-netns works with {what}"
                    );
                }
            }
        }
    }
    // -h: the metavar, and the help text of -p names the iterator
    let help = text(&nlstat_run(&["-h"]).stdout);
    assert!(
        help.contains("--serve [ADDR:]PORT") && !help.contains("--serve PORT"),
        "{help}"
    );
    let pid_sources: Vec<String> = cmd
        .get_arguments()
        .find(|a| a.get_id() == "pid_source")
        .map(|a| {
            a.get_possible_values()
                .iter()
                .map(|v| v.get_name().to_string())
                .collect()
        })
        .unwrap_or_default();
    assert!(pid_sources.iter().any(|v| v == "bpf"), "{pid_sources:?}");
    for (what, text) in [
        ("-p", long_help("programs")),
        ("DESCRIPTION", cmd.get_long_about().unwrap().to_string()),
    ] {
        assert!(
            text.contains("BPF") && text.contains("/proc"),
            "{what} does not say where owners come from: {text}"
        );
    }

    // and the code: each combination runs
    let mut failures = Vec::new();
    for (what, _, args) in combinations.iter().filter(|c| !c.2.is_empty()) {
        let mut argv = vec!["--all-netns"];
        argv.extend_from_slice(args);
        let out = if argv.contains(&"-c") {
            let mut timed = vec!["-s", "INT", "2.5", nlstat()];
            timed.extend_from_slice(&argv);
            run(Command::new("timeout").args(&timed))
        } else {
            nlstat_run(&argv)
        };
        let stdout = text(&out.stdout);
        let sections = stdout.matches("Network namespace ").count()
            + stdout.matches("\"netns\"").count().min(1);
        let ok = match *what {
            "-c" => stdout.matches("Active Internet connections").count() >= 2,
            "views" => stdout
                .lines()
                .next()
                .is_some_and(|l| l.starts_with("netns")),
            _ => sections >= 1,
        };
        if !ok {
            failures.push(format!(
                "nlstat {}: status {:?}\n{stdout}\n{}",
                argv.join(" "),
                out.status.code(),
                text(&out.stderr)
            ));
        }
    }
    let tmp = TempDir::new("all-netns-textfile");
    let file = tmp.0.join("nlstat.prom");
    let out = nlstat_run(&["--all-netns", "--textfile", file.to_str().unwrap()]);
    let written = std::fs::read_to_string(&file).unwrap_or_default();
    if !written.contains("nlstat_sockets{netns=\"") {
        failures.push(format!(
            "--all-netns --textfile: status {:?}, {}\n{written}",
            out.status.code(),
            text(&out.stderr)
        ));
    }
    // --serve at an ADDR:PORT
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let address = format!("127.0.0.1:{port}");
    let mut server = Command::new(nlstat())
        .args(["--all-netns", "--serve", &address])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start nlstat --serve");
    let mut answer = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        use std::io::{Read, Write};
        if let Ok(mut conn) = std::net::TcpStream::connect(&address) {
            let _ = conn.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
            let _ = conn.read_to_string(&mut answer);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = server.kill();
    let _ = server.wait();
    if !answer.contains("nlstat_sockets{netns=\"") {
        failures.push(format!(
            "--all-netns --serve {address}: answered {answer:?}"
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
