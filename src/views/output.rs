//! How view results look: key values as shown (names or numbers), and
//! the aligned text tables and JSON lines the views print. The counting
//! types know nothing of this.

use super::keys::{Key, Tuple, Value};
use crate::config::Config;
use crate::enrich::names::NameCache;
use crate::enrich::processes::ProcessIndex;
use crate::model::StateWord;
use crate::render::json::JsonLine;
use crate::text::Text;
use rustc_hash::FxHashMap;
use std::io::{self, Write};

/// What a row is shown as: rendered key values (typed for JSON) and counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Shown {
    Null,
    Text(String),
    Number(u64),
    /// A namespace: its text label, its JSON `netns` value and its inode.
    Netns(String, String, u64),
}

impl Shown {
    pub(crate) fn text(&self) -> String {
        let mut text = String::new();
        self.text_into(&mut text);
        text
    }

    pub(crate) fn text_into(&self, text: &mut String) {
        use std::fmt::Write as _;
        match self {
            Shown::Null => text.push('-'),
            Shown::Text(t) => text.push_str(t),
            Shown::Number(n) => {
                let _ = write!(text, "{n}");
            }
            Shown::Netns(label, _, _) => text.push_str(label),
        }
    }

    pub(crate) fn json(&self, line: &mut JsonLine, key: &str) {
        match self {
            Shown::Null => line.null(key),
            Shown::Text(t) => line.str(key, t),
            Shown::Number(n) => line.u64(key, *n),
            Shown::Netns(_, name, inode) => line.str("netns", name).u64("netns_inode", *inode),
        };
    }
}

/// Namespace names by inode: (text label, JSON `netns` value).
pub type NetnsNames = FxHashMap<u64, (String, String)>;

/// Which names a text view shows (JSON keeps numbers): netstat's `-n`
/// rules for hosts and ports.
#[derive(Clone, Copy)]
struct Naming {
    hosts: bool,
    ports: bool,
}

/// A key's value as shown (names where `naming` asks for them) into
/// `shown`, whose text buffer is reused: rows written one after another
/// allocate nothing once the first has been shown.
fn show_in(
    key: Key,
    value: Value,
    names: &mut NameCache,
    programs: Option<&ProcessIndex>,
    naming: Naming,
    netns: &NetnsNames,
    shown: &mut Shown,
) {
    match value {
        Value::Netns(inode) => {
            let (label, key) = netns
                .get(&inode)
                .cloned()
                .unwrap_or_else(|| (inode.to_string(), inode.to_string()));
            *shown = Shown::Netns(label, key, inode);
        }
        Value::Null => *shown = Shown::Null,
        Value::Str(s) => text_of(shown).push_str(s),
        Value::Number(n) if naming.ports && matches!(key, Key::LocalPort | Key::RemotePort) => {
            match names.service(crate::enrich::names::ServiceTable::Tcp, n as u16) {
                Some(name) => text_of(shown).push_str(name),
                None => *shown = Shown::Number(n),
            }
        }
        Value::Number(n) => *shown = Shown::Number(n),
        Value::Addr(a) if naming.hosts => {
            let mut text = crate::text::Ipv6Text::new();
            names.host_text(a, false, &mut text);
            text_of(shown).push_str(text.as_str());
        }
        Value::Addr(a) => {
            let mut text: Text<64> = Text::new();
            crate::text::format_ip_display(a, &mut text);
            text_of(shown).push_str(text.as_str());
        }
        Value::Net(a, len) => {
            let mut text: Text<64> = Text::new();
            crate::text::format_ip_display(a, &mut text);
            text.push_byte(b'/');
            text.push_u64(u64::from(len));
            text_of(shown).push_str(text.as_str());
        }
        Value::InetState(proto, state) => match StateWord::of(proto, state) {
            StateWord::Empty => *shown = Shown::Null,
            word => {
                let mut text: Text<24> = Text::new();
                word.write_to(&mut text);
                text_of(shown).push_str(text.as_str());
            }
        },
        Value::User(uid) => match names.user(uid) {
            Some(name) => text_of(shown).push_str(name),
            None => *shown = Shown::Null,
        },
        Value::Program(pid) => match programs
            .and_then(|p| p.program_of(pid))
            .filter(|name| !name.is_empty())
        {
            Some(name) => text_of(shown).push_str(&String::from_utf8_lossy(name)),
            None => *shown = Shown::Null,
        },
    }
}

/// `shown` made an empty text, keeping its buffer if it was one.
fn text_of(shown: &mut Shown) -> &mut String {
    if !matches!(shown, Shown::Text(_)) {
        *shown = Shown::Text(String::new());
    }
    let Shown::Text(text) = shown else {
        unreachable!("made a text above")
    };
    text.clear();
    text
}

/// How one tick's tuples are shown.
pub(crate) struct Shower<'a> {
    names: &'a mut NameCache,
    programs: Option<&'a ProcessIndex>,
    naming: Naming,
    netns_names: NetnsNames,
    pub(crate) keys: Vec<Key>,
}

impl<'a> Shower<'a> {
    /// Names as `config` asks for them: netstat's `-n` rules for hosts
    /// and ports in text, numbers in JSON.
    pub(crate) fn new(
        config: &Config,
        names: &'a mut NameCache,
        programs: Option<&'a ProcessIndex>,
        netns_names: NetnsNames,
        keys: &[Key],
    ) -> Self {
        Shower {
            names,
            programs,
            naming: Naming {
                hosts: !config.output.is_json() && !config.numeric_hosts,
                ports: !config.output.is_json() && !config.numeric_ports,
            },
            netns_names,
            keys: keys.to_vec(),
        }
    }

    /// Numbers and addresses as they are, no programs (the exporter's
    /// labels).
    pub(crate) fn unnamed(names: &'a mut NameCache, netns_names: NetnsNames, keys: &[Key]) -> Self {
        Shower {
            names,
            programs: None,
            naming: Naming {
                hosts: false,
                ports: false,
            },
            netns_names,
            keys: keys.to_vec(),
        }
    }

    /// Whether addresses are shown as host names.
    pub(crate) fn names_hosts(&self) -> bool {
        self.naming.hosts
    }

    /// Look up the names of `addresses` at once (with netstat's bounded
    /// wait), before rows are shown.
    pub(crate) fn resolve_hosts(&mut self, addresses: impl Iterator<Item = std::net::IpAddr>) {
        self.names.resolve_hosts(addresses);
    }

    /// A tuple's values as shown.
    pub(crate) fn show(&mut self, tuple: &Tuple) -> Vec<Shown> {
        let mut shown = Vec::new();
        self.show_into(tuple, &mut shown);
        shown
    }

    /// [`show`](Self::show) into `shown`, reusing its values' buffers.
    pub(crate) fn show_into(&mut self, tuple: &Tuple, shown: &mut Vec<Shown>) {
        shown.truncate(tuple.len());
        shown.resize(tuple.len(), Shown::Null);
        for ((value, key), slot) in tuple.iter().zip(&self.keys).zip(shown.iter_mut()) {
            show_in(
                *key,
                *value,
                self.names,
                self.programs,
                self.naming,
                &self.netns_names,
                slot,
            );
        }
    }
}

/// One `--group-by`/`--summary` row as shown: its key, its count, its
/// change (`-c`) and, with `--info`, its health columns' values (see
/// `views::health::column_names`; `None` shows as null or `-`). The
/// writer keeps one and has each row filled into it.
#[derive(Default)]
pub(crate) struct CountRow {
    pub(crate) key: Vec<Shown>,
    pub(crate) count: u64,
    pub(crate) delta: Option<i64>,
    pub(crate) health: Vec<Option<u64>>,
}

/// What a tick's count rows are: their JSON kind, the key names and the
/// health columns each row carries (none without `--info`).
pub(crate) struct Columns<'a> {
    pub(crate) kind: &'a str,
    pub(crate) keys: &'a [String],
    pub(crate) health: &'a [&'a str],
}

/// `--group-by`/`--summary` rows, filled one at a time by `row` (twice
/// for text: once for the column widths, once to print).
pub(crate) fn write_count_rows(
    out: &mut dyn Write,
    config: &Config,
    json: &JsonLine,
    columns: &Columns<'_>,
    row: &mut dyn FnMut(usize, &mut CountRow),
    count: usize,
) -> io::Result<()> {
    let Columns {
        kind,
        keys: names_of,
        health,
    } = *columns;
    let mut r = CountRow::default();
    if config.output.is_json() {
        let mut line = json.clone();
        for i in 0..count {
            row(i, &mut r);
            line.begin(kind);
            for (name, value) in names_of.iter().zip(&r.key) {
                value.json(&mut line, name);
            }
            line.u64("count", r.count);
            if config.continuous {
                json_delta(&mut line, r.delta);
            }
            for (name, value) in health.iter().zip(&r.health) {
                match value {
                    Some(v) => line.u64(name, *v),
                    None => line.null(name),
                };
            }
            line.end(out)?;
        }
        return Ok(());
    }
    let mut header: Vec<String> = names_of.to_vec();
    header.push("count".into());
    if config.continuous {
        header.push("delta".into());
    }
    header.extend(health.iter().map(|h| h.to_string()));
    // the widths come from the values' lengths, without rendering them
    let mut widths: Vec<usize> = header.iter().map(|h| text_width(h)).collect();
    let mut numbers: Vec<Number> = Vec::with_capacity(header.len());
    for i in 0..count {
        row(i, &mut r);
        number_cells(&r, config.continuous, &mut numbers);
        let keys = r.key.iter().map(shown_width);
        for (w, cell) in widths
            .iter_mut()
            .zip(keys.chain(numbers.iter().map(Number::width)))
        {
            *w = (*w).max(cell);
        }
    }
    let left = names_of.len();
    write_line_with(out, &header, &widths, left, &mut String::new())?;
    let mut line: Vec<u8> = Vec::new();
    for i in 0..count {
        row(i, &mut r);
        number_cells(&r, config.continuous, &mut numbers);
        line.clear();
        for (shown, width) in r.key.iter().zip(&widths) {
            let pad = width.saturating_sub(shown_width(shown));
            shown_text(shown, &mut line);
            push_spaces(&mut line, pad + 2);
        }
        for (number, width) in numbers.iter().zip(&widths[left..]) {
            push_spaces(&mut line, width.saturating_sub(number.width()));
            number.push_to(&mut line);
            line.extend_from_slice(b"  ");
        }
        line.truncate(line.trim_ascii_end().len());
        line.push(b'\n');
        out.write_all(&line)?;
    }
    Ok(())
}

/// A numeric cell of a count row: `-` when absent, `+` before a rise.
#[derive(Clone, Copy)]
enum Number {
    Absent,
    Unsigned(u64),
    Signed(i64),
}

impl Number {
    fn width(&self) -> usize {
        let digits = |v: u64| v.checked_ilog10().map_or(1, |d| d as usize + 1);
        match *self {
            Number::Absent => 1,
            Number::Unsigned(v) => digits(v),
            Number::Signed(d) => digits(d.unsigned_abs()) + usize::from(d != 0),
        }
    }

    fn push_to(&self, line: &mut Vec<u8>) {
        let mut text: Text<24> = Text::new();
        match *self {
            Number::Absent => text.push_byte(b'-'),
            Number::Unsigned(v) => text.push_u64(v),
            Number::Signed(d) => {
                if d != 0 {
                    text.push_byte(if d > 0 { b'+' } else { b'-' });
                }
                text.push_u64(d.unsigned_abs());
            }
        }
        line.extend_from_slice(text.as_bytes());
    }
}

/// The count, change (`-c`) and health cells of `r`, in column order.
fn number_cells(r: &CountRow, continuous: bool, cells: &mut Vec<Number>) {
    cells.clear();
    cells.push(Number::Unsigned(r.count));
    if continuous {
        cells.push(r.delta.map_or(Number::Absent, Number::Signed));
    }
    cells.extend(
        r.health
            .iter()
            .map(|v| v.map_or(Number::Absent, Number::Unsigned)),
    );
}

/// How many columns a key's text takes.
fn shown_width(shown: &Shown) -> usize {
    match shown {
        Shown::Null => 1,
        Shown::Text(t) | Shown::Netns(t, _, _) => text_width(t),
        Shown::Number(n) => Number::Unsigned(*n).width(),
    }
}

fn shown_text(shown: &Shown, line: &mut Vec<u8>) {
    match shown {
        Shown::Null => line.push(b'-'),
        Shown::Text(t) | Shown::Netns(t, _, _) => line.extend_from_slice(t.as_bytes()),
        Shown::Number(n) => Number::Unsigned(*n).push_to(line),
    }
}

/// Characters, as the table pads them (one column each).
fn text_width(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    }
}

fn push_spaces(line: &mut Vec<u8>, n: usize) {
    line.resize(line.len() + n, b' ');
}

/// `-c`'s change column: `-` on the first tick, signed after.
pub(crate) fn delta_text(delta: Option<i64>) -> String {
    match delta {
        None => "-".into(),
        Some(d) if d > 0 => format!("+{d}"),
        Some(d) => d.to_string(),
    }
}

/// An aligned table: the first `left` columns left-aligned, the rest right.
pub(crate) fn write_table(
    out: &mut dyn Write,
    header: &[String],
    rows: &[Vec<String>],
    left: usize,
) -> io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    write_line(out, header, &widths, left)?;
    for row in rows {
        write_line(out, row, &widths, left)?;
    }
    Ok(())
}

/// One line of an aligned table.
fn write_line(
    out: &mut dyn Write,
    cells: &[String],
    widths: &[usize],
    left: usize,
) -> io::Result<()> {
    write_line_with(out, cells, widths, left, &mut String::new())
}

/// One line of an aligned table, made in `text` (a buffer kept across
/// lines).
fn write_line_with(
    out: &mut dyn Write,
    cells: &[String],
    widths: &[usize],
    left: usize,
    text: &mut String,
) -> io::Result<()> {
    text.clear();
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        if i > 0 {
            text.push_str("  ");
        }
        let pad = width.saturating_sub(cell.chars().count());
        if i < left {
            text.push_str(cell);
            text.extend(std::iter::repeat_n(' ', pad));
        } else {
            text.extend(std::iter::repeat_n(' ', pad));
            text.push_str(cell);
        }
    }
    text.truncate(text.trim_end().len());
    text.push('\n');
    out.write_all(text.as_bytes())
}

/// `-c`'s change in JSON: null on the first tick.
pub(crate) fn json_delta(line: &mut JsonLine, delta: Option<i64>) {
    match delta {
        Some(d) => line.i64("delta", d),
        None => line.null("delta"),
    };
}
