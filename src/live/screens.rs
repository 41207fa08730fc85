//! The six screens, drawn from the views' last ticks ([`Data`]) and the
//! operator's choices ([`Ui`]). Drawing is a pure function of the two, so
//! every screen is tested on ratatui's test backend from fixed data.

use super::state::{Editing, Screen, Ui};
use super::table::{Decoded, Table, cell_number, cell_text};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table as TableWidget, Wrap};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// How far back the Summary's sparklines go (seconds).
const HISTORY_SECONDS: f64 = 60.0;
/// The sparklines' width (the latest samples).
const SPARK_WIDTH: usize = 20;
/// The width of a fill bar.
const BAR_WIDTH: usize = 10;
/// A column is never wider than this (addresses and programs are cut).
const MAX_COLUMN: u16 = 40;

/// Each Summary row's counts over the last minute (seconds since the
/// start, count), by the row's key.
#[derive(Debug, Default, Clone)]
pub struct History {
    rows: FxHashMap<String, VecDeque<(f64, u64)>>,
}

impl History {
    /// Add a refresh's summary rows at `now` and forget what is older
    /// than a minute (rows gone for a minute go too).
    pub fn record(&mut self, now: f64, summary: Option<&Table>) {
        if let Some(table) = summary {
            for row in 0..table.rows.len() {
                let count = table.get(row, "count").as_u64().unwrap_or(0);
                let samples = self.rows.entry(summary_key(table, row)).or_default();
                samples.push_back((now, count));
            }
        }
        self.rows.retain(|_, samples| {
            while samples
                .front()
                .is_some_and(|(t, _)| now - t > HISTORY_SECONDS)
            {
                samples.pop_front();
            }
            !samples.is_empty()
        });
    }

    fn sparkline(&self, key: &str) -> String {
        self.rows
            .get(key)
            .map(|samples| {
                let counts: Vec<u64> = samples.iter().map(|(_, n)| *n).collect();
                sparkline(&counts[counts.len().saturating_sub(SPARK_WIDTH)..])
            })
            .unwrap_or_default()
    }
}

/// A Summary row's key: its namespace, protocol, family and state.
fn summary_key(table: &Table, row: usize) -> String {
    ["netns", "proto", "family", "state"]
        .iter()
        .map(|c| cell_text(table.get(row, c)))
        .collect::<Vec<_>>()
        .join("/")
}

/// The closes of the last refresh (with `--events`).
#[derive(Debug, Default, Clone)]
pub struct Closes {
    pub listeners: Decoded,
    pub backends: Decoded,
    /// The seconds they were counted over.
    pub seconds: f64,
    /// Events the kernel dropped in that time, and since the start.
    pub lost: u64,
    pub total_lost: u64,
}

/// The last tick of each screen's views, and what the run was started
/// with.
#[derive(Debug, Default, Clone)]
pub struct Data {
    pub summary: Decoded,
    pub history: History,
    pub listeners: Decoded,
    pub ephemeral: Decoded,
    pub groups: Decoded,
    pub health_listeners: Decoded,
    pub health_backends: Decoded,
    pub closes: Option<Closes>,
    /// `--info`, `--events` and `-p` were given.
    pub info: bool,
    pub events: bool,
    pub programs: bool,
    /// The namespace shown: a name, or every one.
    pub netns: String,
    /// When the screen's data was collected (UTC, to the second).
    pub updated: String,
}

/// A cell as drawn: its text, its value for sorting, its style.
#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub text: String,
    pub number: Option<f64>,
    pub style: Style,
}

impl Cell {
    fn of(value: &serde_json::Value) -> Self {
        Cell {
            text: cell_text(value),
            number: cell_number(value),
            style: Style::new(),
        }
    }

    fn text(text: String) -> Self {
        Cell {
            text,
            ..Cell::default()
        }
    }
}

/// How a column makes the cell of a row (the row's index in the view's
/// table).
type CellOf<'a> = Box<dyn Fn(usize) -> Cell + 'a>;

/// One table on a screen. Cells are made only for the rows drawn: a view
/// with a hundred thousand groups costs a frame no more than a screenful
/// (and sorting, the one column sorted by).
#[derive(Default)]
pub struct Grid<'a> {
    pub title: String,
    pub header: Vec<String>,
    columns: Vec<CellOf<'a>>,
    /// Per column: numbers, aligned to the right.
    right: Vec<bool>,
    /// The view's rows in the order shown.
    order: Vec<usize>,
    /// The leading columns that name a row: they stay when the others
    /// scroll sideways.
    pub frozen: usize,
    /// Rows the view wrote past those kept ([`super::table::ROWS_KEPT`]).
    more: usize,
}

impl<'a> Grid<'a> {
    /// `columns` of `table` (those it has; with no table, those every
    /// run has), as they are; the first `frozen` name the row.
    fn of(title: &str, table: Option<&'a Table>, columns: &[&str], frozen: usize) -> Self {
        let present: Vec<&str> = match table {
            Some(t) => columns
                .iter()
                .copied()
                .filter(|c| t.column(c).is_some())
                .collect(),
            None => columns
                .iter()
                .copied()
                .filter(|c| !matches!(*c, "netns" | "pid" | "program"))
                .collect(),
        };
        let frozen = columns[..frozen.min(columns.len())]
            .iter()
            .filter(|c| present.contains(c))
            .count();
        let mut grid = Grid {
            title: title.into(),
            frozen,
            order: (0..table.map_or(0, |t| t.rows.len())).collect(),
            more: table.map_or(0, |t| t.more),
            ..Grid::default()
        };
        for name in present {
            grid.header.push(name.into());
            let Some(t) = table else {
                continue;
            };
            let at = t.column(name).unwrap_or(0);
            grid.right.push(
                !t.rows.is_empty()
                    && t.rows
                        .iter()
                        .all(|r| r.get(at).is_some_and(|v| v.is_number() || v.is_null())),
            );
            grid.columns.push(Box::new(move |r| {
                t.rows
                    .get(r)
                    .and_then(|row| row.get(at))
                    .map(Cell::of)
                    .unwrap_or_default()
            }));
        }
        grid
    }

    /// Every column of `table` but the namespace's inode.
    fn all_of(title: &str, table: Option<&'a Table>) -> Self {
        let columns: Vec<&str> = table
            .map(|t| t.columns.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let columns: Vec<&str> = columns
            .into_iter()
            .filter(|c| *c != "netns_inode")
            .collect();
        // the keys: every column before the count
        let frozen = columns.iter().position(|c| *c == "count").unwrap_or(0);
        Grid::of(title, table, &columns, frozen)
    }

    /// Add a column made from each row of `table` (the grid's rows are
    /// `table`'s), aligned right when `right`.
    fn push_column(
        &mut self,
        name: &str,
        table: Option<&'a Table>,
        right: bool,
        cell: impl Fn(&Table, usize) -> Cell + 'a,
    ) {
        self.header.push(name.into());
        let Some(table) = table else {
            return;
        };
        self.right.push(right);
        self.columns.push(Box::new(move |r| cell(table, r)));
    }

    /// How many rows the table has.
    fn len(&self) -> usize {
        self.order.len()
    }

    /// The cell of the `shown`th row shown, in column `column`.
    fn cell(&self, shown: usize, column: usize) -> Cell {
        match (self.order.get(shown), self.columns.get(column)) {
            (Some(row), Some(of)) => of(*row),
            _ => Cell::default(),
        }
    }

    /// Rows ordered by `column`: numbers largest first, text A to Z, an
    /// empty cell last; ties keep the view's order.
    fn sort_by(&mut self, column: Option<usize>) {
        let Some(of) = column.and_then(|c| self.columns.get(c)) else {
            return;
        };
        let cells: Vec<Cell> = (0..self.order.len()).map(of).collect();
        self.order.sort_by(|a, b| {
            let (a, b) = (&cells[*a], &cells[*b]);
            match (a.number, b.number) {
                (Some(x), Some(y)) => y.total_cmp(&x),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => (a.text == "-")
                    .cmp(&(b.text == "-"))
                    .then_with(|| a.text.cmp(&b.text)),
            }
        });
    }
}

/// Block characters of a sparkline, lowest first.
const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Counts as a sparkline scaled between their least and most.
pub fn sparkline(counts: &[u64]) -> String {
    let (Some(lo), Some(hi)) = (counts.iter().min(), counts.iter().max()) else {
        return String::new();
    };
    counts
        .iter()
        .map(|n| match hi - lo {
            0 => SPARKS[0],
            span => SPARKS[(u128::from(n - lo) * 7 / u128::from(span)) as usize],
        })
        .collect()
}

/// A fill bar of `percent` (0-100, more is shown full).
pub fn bar(percent: u64) -> String {
    let full = (percent.min(100) as usize * BAR_WIDTH).div_ceil(100);
    let mut text = "█".repeat(full);
    text.push_str(&"░".repeat(BAR_WIDTH - full));
    text
}

/// The style of a fill: red from 80 %, yellow from 50 % (plain without
/// colours).
fn fill_style(percent: u64, colour: bool) -> Style {
    match (colour, percent) {
        (false, _) => Style::new(),
        (true, 80..) => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        (true, 50..) => Style::new().fg(Color::Yellow),
        _ => Style::new(),
    }
}

/// The health columns the Health screen shows (of issue 17's set).
const HEALTH: [&str; 9] = [
    "rtt_sockets",
    "rtt_p50",
    "rtt_p90",
    "rtt_p99",
    "retrans",
    "lost",
    "limited_rwnd",
    "limited_sndbuf",
    "limited_cwnd",
];

/// The tables of a screen, its first sorted as the operator chose.
pub fn grids<'a>(ui: &Ui, data: &'a Data) -> Vec<Grid<'a>> {
    let mut grids = match ui.screen {
        Screen::Summary => vec![summary(data)],
        Screen::Listeners => vec![listeners(data, ui.colour)],
        Screen::Ephemeral => vec![ephemeral(data, ui.colour)],
        Screen::GroupBy => vec![Grid::all_of(
            &format!("Sockets by {}", ui.keys),
            data.groups.table("count"),
        )],
        Screen::Health if data.info => health(data),
        Screen::Closes if data.events => closes(data),
        Screen::Health | Screen::Closes => Vec::new(),
    };
    if let Some(first) = grids.first_mut() {
        let by = ui.sort[ui.screen.index()].as_ref();
        let column = by.and_then(|name| first.header.iter().position(|h| h == name));
        first.sort_by(column);
    }
    grids
}

fn summary(data: &Data) -> Grid<'_> {
    let table = data.summary.table("summary");
    let mut grid = Grid::of(
        "Sockets by protocol, family and state",
        table,
        &["netns", "proto", "family", "state", "count", "delta"],
        4,
    );
    grid.push_column("last minute", table, false, |t, r| {
        Cell::text(data.history.sparkline(&summary_key(t, r)))
    });
    grid
}

fn listeners(data: &Data, colour: bool) -> Grid<'_> {
    let table = data.listeners.table("listener");
    let mut grid = Grid::of(
        "TCP listeners",
        table,
        &["netns", "local_addr", "local_port", "pid", "program"],
        3,
    );
    grid.push_column("accept queue", table, false, move |t, r| {
        let fill = t.get(r, "fill_pct").as_u64().unwrap_or(0);
        Cell {
            text: format!(
                "{} {}/{}",
                bar(fill),
                cell_text(t.get(r, "accept_queue")),
                cell_text(t.get(r, "backlog"))
            ),
            number: Some(fill as f64),
            style: fill_style(fill, colour),
        }
    });
    for name in ["syn_recv", "established", "time_wait", "delta"] {
        grid.push_column(name, table, true, move |t, r| Cell::of(t.get(r, name)));
    }
    grid
}

fn ephemeral(data: &Data, colour: bool) -> Grid<'_> {
    let table = data.ephemeral.table("ephemeral");
    let mut grid = Grid::of(
        "Ephemeral ports per (local, remote, port), fullest first",
        table,
        &["netns", "local_addr", "remote_addr", "remote_port"],
        4,
    );
    // the gauge and the flag first: they matter most on a narrow screen
    grid.push_column("used", table, false, move |t, r| {
        let used = t.get(r, "used_pct").as_u64().unwrap_or(0);
        Cell {
            text: format!("{} {used:>3}%", bar(used)),
            number: Some(used as f64),
            style: fill_style(used, colour),
        }
    });
    grid.push_column("", table, false, move |t, r| {
        if t.get(r, "near_exhaustion").as_bool() == Some(true) {
            Cell {
                text: "NEAR EXHAUSTION".into(),
                number: None,
                style: if colour {
                    Style::new()
                        .fg(Color::White)
                        .bg(Color::Red)
                        .add_modifier(Modifier::BOLD)
                } else {
                    Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
                },
            }
        } else {
            Cell::default()
        }
    });
    for name in ["in_use", "time_wait", "available", "delta"] {
        grid.push_column(name, table, true, move |t, r| Cell::of(t.get(r, name)));
    }
    grid
}

fn health(data: &Data) -> Vec<Grid<'_>> {
    let mut per_listener = vec!["netns", "local_addr", "local_port", "established"];
    per_listener.extend(HEALTH);
    let mut per_backend = vec!["netns", "remote_addr", "remote_port", "count"];
    per_backend.extend(HEALTH);
    vec![
        Grid::of(
            "Health per listener (established connections)",
            data.health_listeners.table("listener"),
            &per_listener,
            3,
        ),
        Grid::of(
            "Health per backend (connections from ephemeral ports)",
            data.health_backends.table("count"),
            &per_backend,
            3,
        ),
    ]
}

fn closes<'a>(data: &'a Data) -> Vec<Grid<'a>> {
    let Some(closes) = &data.closes else {
        return Vec::new();
    };
    let grid = |title: &str, decoded: &'a Decoded, keys: [&str; 3]| -> Grid<'a> {
        let table = decoded.table("count");
        let mut grid = Grid::of(title, table, &keys, 3);
        grid.push_column("closes", table, true, |t, r| Cell::of(t.get(r, "count")));
        grid.push_column("per_s", table, true, move |t, r| {
            let per_s = t.get(r, "count").as_u64().unwrap_or(0) as f64 / closes.seconds.max(0.001);
            Cell {
                text: format!("{per_s:.2}"),
                number: Some(per_s),
                style: Style::new(),
            }
        });
        grid.push_column("delta", table, true, |t, r| Cell::of(t.get(r, "delta")));
        grid
    };
    vec![
        grid(
            "Closes per listener",
            &closes.listeners,
            ["netns", "local_addr", "local_port"],
        ),
        grid(
            "Closes per backend",
            &closes.backends,
            ["netns", "remote_addr", "remote_port"],
        ),
    ]
}

/// The names of the columns of the screen's first table (what `s` cycles
/// through).
pub fn sort_columns(ui: &Ui, data: &Data) -> Vec<String> {
    grids(ui, data)
        .into_iter()
        .next()
        .map(|g| g.header)
        .unwrap_or_default()
}

/// The keys, as the bottom line lists them.
const HELP: &str =
    "Tab/1-6 screen  s sort  / filter  k keys  +/- interval  p pause  ↑↓←→ scroll  q quit";

/// Draw the whole screen; returns the last first row the screen's first
/// table can be scrolled to at this size (scrolling stops there).
pub fn draw(frame: &mut Frame, ui: &Ui, data: &Data) -> usize {
    let [tabs, status, body, notice, help] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    frame.render_widget(tab_line(ui), tabs);
    frame.render_widget(status_line(ui, data), status);
    let last_offset = draw_body(frame, ui, data, body);
    frame.render_widget(notice_line(ui), notice);
    frame.render_widget(
        Paragraph::new(HELP).style(Style::new().add_modifier(Modifier::DIM)),
        help,
    );
    last_offset
}

fn tab_line(ui: &Ui) -> Paragraph<'static> {
    let mut spans = Vec::new();
    for (i, screen) in Screen::ALL.iter().enumerate() {
        let text = format!(" {} {} ", i + 1, screen.title());
        let style = match (*screen == ui.screen, ui.colour) {
            (false, _) => Style::new(),
            (true, true) => Style::new()
                .fg(Color::Black)
                .bg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            (true, false) => Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
        };
        spans.push(Span::styled(text, style));
    }
    Paragraph::new(Line::from(spans))
}

fn status_line(ui: &Ui, data: &Data) -> Paragraph<'static> {
    let mut text = format!("nlstat --live  every {}s", seconds(ui.interval));
    if !data.netns.is_empty() {
        text.push_str(&format!("  netns {}", super::table::safe_text(&data.netns)));
    }
    text.push_str(&format!(
        "  filter: {}",
        if ui.filter.is_empty() {
            "(none)".into()
        } else {
            super::table::safe_text(&ui.filter)
        }
    ));
    if !data.updated.is_empty() {
        text.push_str(&format!("  at {}", data.updated));
    }
    let mut spans = vec![Span::raw(text)];
    if ui.paused {
        spans.push(Span::styled(
            "  PAUSED",
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ));
    }
    Paragraph::new(Line::from(spans))
}

/// An interval as the shortest decimal (`0.5`, `1`, `2.5`).
fn seconds(interval: std::time::Duration) -> String {
    let text = format!("{:.2}", interval.as_secs_f64());
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn notice_line(ui: &Ui) -> Paragraph<'static> {
    match (&ui.editing, &ui.notice) {
        (Some((what, text)), _) => {
            let prompt = match what {
                Editing::Filter => "filter: ",
                Editing::Keys => "group by: ",
            };
            Paragraph::new(Line::from(vec![
                Span::styled(prompt, Style::new().add_modifier(Modifier::BOLD)),
                Span::raw(super::table::safe_text(text)),
                Span::styled("_", Style::new().add_modifier(Modifier::SLOW_BLINK)),
            ]))
        }
        (None, Some(notice)) => {
            let style = if ui.colour {
                Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
            } else {
                Style::new().add_modifier(Modifier::BOLD)
            };
            Paragraph::new(Span::styled(super::table::safe_text(notice), style))
        }
        (None, None) => Paragraph::new(""),
    }
}

/// The columns shown in `width`: the frozen ones, then from `first` on
/// (after the frozen) as many as fit, at least one.
fn columns_that_fit(
    grid: &Grid,
    first: usize,
    width: u16,
    width_of: impl Fn(usize) -> u16,
) -> Vec<usize> {
    let movable = grid.header.len().saturating_sub(grid.frozen);
    let first = grid.frozen + first.min(movable.saturating_sub(1));
    let mut used = 0u16;
    let mut columns = Vec::new();
    for c in (0..grid.frozen).chain(first..grid.header.len()) {
        let need = width_of(c) + if columns.is_empty() { 0 } else { 2 };
        if !columns.is_empty() && used + need > width {
            break;
        }
        used += need;
        columns.push(c);
    }
    columns
}

fn draw_body(frame: &mut Frame, ui: &Ui, data: &Data, area: Rect) -> usize {
    let grids = grids(ui, data);
    let why_empty = match ui.screen {
        Screen::Health if !data.info => Some("Health needs --info: run nlstat --live --info"),
        Screen::Closes if !data.events => Some("Closes need --events: run nlstat --live --events"),
        _ => None,
    };
    if let Some(why) = why_empty {
        frame.render_widget(
            Paragraph::new(why).block(Block::new().borders(Borders::ALL).title(ui.screen.title())),
            area,
        );
        return 0;
    }
    let footer = footer(ui, data);
    // each line wrapped to the box's inner width
    let inner = usize::from(area.width.saturating_sub(2)).max(1);
    let footer_lines: usize = footer
        .iter()
        .map(|l| l.width().div_ceil(inner).max(1))
        .sum();
    let footer_height = if footer.is_empty() {
        0
    } else {
        u16::try_from(footer_lines)
            .unwrap_or(u16::MAX)
            .saturating_add(2)
            .min(area.height / 3)
    };
    let [tables, below] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(footer_height)]).areas(area);
    let areas = Layout::vertical(vec![Constraint::Fill(1); grids.len().max(1)]).split(tables);
    let mut last_offset = 0;
    for (i, (grid, area)) in grids.iter().zip(areas.iter()).enumerate() {
        let here = ui.screen.index();
        let scroll = Scroll {
            row: if i == 0 { ui.offset[here] } else { 0 },
            column: ui.column[here],
        };
        let sorted = ui.sort[here]
            .as_deref()
            .filter(|name| i == 0 && grid.header.iter().any(|h| h == name));
        let last = draw_grid(frame, grid, *area, scroll, sorted);
        if i == 0 {
            last_offset = last;
        }
    }
    if footer_height > 0 {
        frame.render_widget(
            Paragraph::new(footer)
                .wrap(Wrap { trim: true })
                .block(Block::new().borders(Borders::ALL)),
            below,
        );
    }
    last_offset
}

/// What a screen shows under its tables: the kernel's totals (Summary),
/// the listen counters (Listeners), the events lost (Closes).
fn footer(ui: &Ui, data: &Data) -> Vec<Line<'static>> {
    match ui.screen {
        Screen::Summary => pairs(data.summary.table("sockstat"), "kernel totals: "),
        Screen::Listeners => {
            let Some(t) = data.listeners.table("listen_counters") else {
                return Vec::new();
            };
            let mut text = String::new();
            for name in t.columns.iter().filter(|c| !c.ends_with("_per_s")) {
                let rate = t.get(0, &format!("{name}_per_s"));
                text.push_str(&format!(
                    "{name} {} ({}/s)  ",
                    cell_text(t.get(0, name)),
                    cell_text(rate)
                ));
            }
            vec![Line::from(text.trim_end().to_string())]
        }
        Screen::Closes => data
            .closes
            .iter()
            .map(|c| {
                Line::from(format!(
                    "events lost: {} in the last {:.1} s, {} since the start",
                    c.lost, c.seconds, c.total_lost
                ))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A one-row table as `name value` pairs (per namespace, one line each).
fn pairs(table: Option<&Table>, lead: &str) -> Vec<Line<'static>> {
    let Some(t) = table else {
        return Vec::new();
    };
    (0..t.rows.len())
        .map(|r| {
            let mut text = lead.to_string();
            for (c, name) in t.columns.iter().enumerate() {
                if name == "netns_inode" {
                    continue;
                }
                text.push_str(&format!("{name} {}  ", cell_text(&t.rows[r][c])));
            }
            Line::from(text.trim_end().to_string())
        })
        .collect()
}

/// Where a table starts showing: its first row, and its first column
/// after the frozen ones.
#[derive(Debug, Clone, Copy, Default)]
struct Scroll {
    row: usize,
    column: usize,
}

/// Draw `grid` in `area`; returns the last first row it can scroll to.
fn draw_grid(
    frame: &mut Frame,
    grid: &Grid,
    area: Rect,
    scroll: Scroll,
    sorted: Option<&str>,
) -> usize {
    let visible = area.height.saturating_sub(3) as usize;
    let last_offset = grid.len().saturating_sub(visible.max(1));
    let offset = scroll.row.min(last_offset);
    let shown = grid.len().saturating_sub(offset).min(visible);
    let mut title = format!(" {} ", grid.title);
    if grid.len() > shown {
        title.push_str(&format!(
            "(rows {}-{} of {}) ",
            offset + 1,
            offset + shown,
            grid.len()
        ));
    } else {
        title.push_str(&format!("({} rows) ", grid.len()));
    }
    if grid.more > 0 {
        title.push_str(&format!("and {} more not kept ", grid.more));
    }
    if let Some(column) = sorted {
        title.push_str(&format!(
            "sorted by {} ",
            if column.is_empty() { "flag" } else { column }
        ));
    }
    // the rows drawn, every column (the widths come from them)
    let cells: Vec<Vec<Cell>> = (offset..offset + shown)
        .map(|r| (0..grid.header.len()).map(|c| grid.cell(r, c)).collect())
        .collect();
    let width_of = |c: usize| {
        let widest = cells
            .iter()
            .map(|r| r[c].text.chars().count())
            .chain([grid.header[c].chars().count()])
            .max()
            .unwrap_or(1);
        widest.min(usize::from(MAX_COLUMN)) as u16
    };
    let columns = columns_that_fit(grid, scroll.column, area.width.saturating_sub(2), width_of);
    if columns.len() < grid.header.len() {
        title.push_str(&format!(
            "columns {}/{} ←→ ",
            columns.len(),
            grid.header.len()
        ));
    }
    let widths: Vec<u16> = columns.iter().map(|c| width_of(*c)).collect();
    let aligned = |text: &str, i: usize| {
        if grid.right.get(columns[i]).copied().unwrap_or(false) {
            format!("{text:>w$}", w = widths[i] as usize)
        } else {
            text.to_string()
        }
    };
    let header = Row::new(
        columns
            .iter()
            .enumerate()
            .map(|(i, c)| aligned(&grid.header[*c], i)),
    )
    .style(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED));
    let rows = cells.iter().map(|r| {
        Row::new(columns.iter().enumerate().map(|(i, c)| {
            let v = &r[*c];
            ratatui::text::Text::from(Span::styled(aligned(&v.text, i), v.style))
        }))
    });
    let table = TableWidget::new(rows, widths.iter().map(|w| Constraint::Length(*w)))
        .header(header)
        .column_spacing(2)
        .block(Block::new().borders(Borders::ALL).title(title));
    frame.render_widget(table, area);
    last_offset
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use std::time::Duration;

    fn decoded(lines: &str) -> Decoded {
        Decoded::read(lines.as_bytes()).unwrap()
    }

    /// A run with every screen's data, as the views write it.
    fn data() -> Data {
        let summary = decoded(concat!(
            r#"{"kind":"summary","proto":"tcp","family":"inet","state":"ESTABLISHED","count":120,"delta":4}"#,
            "\n",
            r#"{"kind":"summary","proto":"tcp","family":"inet","state":"LISTEN","count":2,"delta":0}"#,
            "\n",
            r#"{"kind":"summary","proto":"tcp","family":"inet6","state":"TIME_WAIT","count":37,"delta":-3}"#,
            "\n",
            r#"{"kind":"sockstat","sockets_used":210,"tcp_inuse":122,"tcp_tw":37}"#,
            "\n",
        ));
        let mut history = History::default();
        for (t, n) in [(0.0, 100), (1.0, 110), (2.0, 116), (3.0, 120)] {
            let mut step = summary.clone();
            step.tables[0].1.rows[0][3] = serde_json::json!(n);
            history.record(t, step.table("summary"));
        }
        Data {
            summary,
            history,
            listeners: decoded(concat!(
                r#"{"kind":"listener","family":"inet","local_addr":"0.0.0.0","local_port":80,"accept_queue":90,"backlog":100,"fill_pct":90,"syn_recv":3,"established":100,"time_wait":20,"inode":1,"pid":42,"program":"nginx","delta":5}"#,
                "\n",
                r#"{"kind":"listener","family":"inet6","local_addr":"::","local_port":443,"accept_queue":1,"backlog":4096,"fill_pct":0,"syn_recv":0,"established":7,"time_wait":0,"inode":2,"pid":43,"program":"evil\u001b[2J\u202ename","delta":0}"#,
                "\n",
                r#"{"kind":"listen_counters","ListenOverflows":12,"ListenOverflows_per_s":2.00,"ListenDrops":12,"ListenDrops_per_s":2.00}"#,
                "\n",
            )),
            ephemeral: decoded(concat!(
                r#"{"kind":"ephemeral","local_addr":"10.0.0.1","remote_addr":"10.0.0.9","remote_port":8080,"in_use":24000,"time_wait":100,"available":28232,"used_pct":85,"near_exhaustion":true,"delta":300}"#,
                "\n",
                r#"{"kind":"ephemeral","local_addr":"10.0.0.1","remote_addr":"10.0.0.8","remote_port":8080,"in_use":100,"time_wait":0,"available":28232,"used_pct":0,"near_exhaustion":false,"delta":null}"#,
                "\n",
            )),
            groups: decoded(concat!(
                r#"{"kind":"count","state":"ESTABLISHED","local_port":80,"count":100,"delta":1}"#,
                "\n",
                r#"{"kind":"count","state":"TIME_WAIT","local_port":80,"count":20,"delta":-9}"#,
                "\n",
                r#"{"kind":"count","state":"LISTEN","local_port":443,"count":1,"delta":0}"#,
                "\n",
            )),
            health_listeners: decoded(concat!(
                r#"{"kind":"listener","local_addr":"0.0.0.0","local_port":80,"established":100,"rtt_sockets":100,"rtt_p50":210,"rtt_p90":900,"rtt_p99":4000,"rtt_max":9000,"retrans":3,"lost":1,"limited_rwnd":0,"limited_sndbuf":2,"limited_cwnd":5}"#,
                "\n",
            )),
            health_backends: decoded(concat!(
                r#"{"kind":"count","remote_addr":"10.0.0.9","remote_port":8080,"count":24000,"rtt_sockets":24000,"rtt_p50":80,"rtt_p90":120,"rtt_p99":300,"retrans":0,"lost":0,"limited_rwnd":0,"limited_sndbuf":0,"limited_cwnd":0}"#,
                "\n",
            )),
            closes: Some(Closes {
                listeners: decoded(concat!(
                    r#"{"kind":"count","local_addr":"0.0.0.0","local_port":80,"count":50,"delta":10}"#,
                    "\n",
                )),
                backends: decoded(concat!(
                    r#"{"kind":"count","remote_addr":"10.0.0.9","remote_port":8080,"count":200,"delta":null}"#,
                    "\n",
                )),
                seconds: 2.0,
                lost: 3,
                total_lost: 7,
            }),
            info: true,
            events: true,
            programs: true,
            netns: String::new(),
            updated: "06:00:00".into(),
        }
    }

    fn ui(screen: Screen) -> Ui {
        Ui::new(
            screen,
            Duration::from_secs(1),
            String::new(),
            "state,local_port".into(),
        )
    }

    /// The screen drawn on a `width` x `height` test terminal, as lines.
    fn drawn(ui: &Ui, data: &Data, width: u16, height: u16) -> (String, ratatui::buffer::Buffer) {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|frame| {
                draw(frame, ui, data);
            })
            .unwrap();
        let buffer = terminal.backend().buffer().clone();
        let mut text = String::new();
        for y in 0..height {
            let line: String = (0..width).map(|x| buffer[(x, y)].symbol()).collect();
            text.push_str(line.trim_end());
            text.push('\n');
        }
        (text, buffer)
    }

    fn body(text: &str) -> Vec<&str> {
        text.lines().collect()
    }

    #[test]
    fn summary_screen() {
        let (text, _) = drawn(&ui(Screen::Summary), &data(), 80, 24);
        let lines = body(&text);
        assert_eq!(
            lines[0],
            " 1 Summary  2 Listeners  3 Ephemeral  4 Group-by  5 Health  6 Closes"
        );
        assert_eq!(
            lines[1],
            "nlstat --live  every 1s  filter: (none)  at 06:00:00"
        );
        assert_eq!(
            lines[2],
            "┌ Sockets by protocol, family and state (3 rows) ──────────────────────────────┐"
        );
        assert_eq!(
            lines[3],
            "│proto  family  state        count  delta  last minute                         │"
        );
        assert_eq!(
            lines[4],
            "│tcp    inet    ESTABLISHED    120      4  ▁▄▆█                                │"
        );
        assert_eq!(
            lines[6],
            "│tcp    inet6   TIME_WAIT       37     -3  ▁▁▁▁                                │"
        );
        assert!(lines[20].contains("kernel totals: sockets_used 210  tcp_inuse 122  tcp_tw 37"));
        assert_eq!(
            lines[23],
            "Tab/1-6 screen  s sort  / filter  k keys  +/- interval  p pause  ↑↓←→ scroll  q"
        );
    }

    #[test]
    fn listeners_screen_shows_queue_fill_and_counter_rates() {
        let (text, buffer) = drawn(&ui(Screen::Listeners), &data(), 100, 24);
        let lines = body(&text);
        // 100 columns hold 7 of the 9
        assert!(lines[2].contains("TCP listeners (2 rows) columns 7/9 ←→"));
        assert_eq!(
            lines[3],
            "│local_addr  local_port  pid  program                  accept queue       syn_recv  established    │"
        );
        assert_eq!(
            lines[4],
            "│0.0.0.0             80   42  nginx                    █████████░ 90/100         3          100    │"
        );
        // the hostile program is escaped, not obeyed
        assert!(
            lines[5].contains(r"evil\x1b[2J\u{202e}name"),
            "{}",
            lines[5]
        );
        assert!(text.contains("ListenOverflows 12 (2.00/s)  ListenDrops 12 (2.00/s)"));
        // a queue 90 % full is red
        let bar = (0..100).find(|x| buffer[(*x, 4)].symbol() == "█").unwrap();
        assert_eq!(buffer[(bar, 4)].fg, Color::Red);
    }

    #[test]
    fn ephemeral_screen_flags_near_exhaustion() {
        let (text, buffer) = drawn(&ui(Screen::Ephemeral), &data(), 120, 24);
        let lines = body(&text);
        assert!(
            lines[4].contains("10.0.0.1    10.0.0.9            8080  █████████░  85%  NEAR EXHAUSTION   24000        100      28232    300"),
            "{}",
            lines[4]
        );
        assert!(!lines[5].contains("NEAR"));
        let at = lines[4].find("NEAR").unwrap();
        let x = lines[4][..at].chars().count() as u16;
        assert_eq!(buffer[(x, 4)].bg, Color::Red);
    }

    #[test]
    fn group_by_screen_sorts_by_the_chosen_column() {
        let mut ui = ui(Screen::GroupBy);
        let (text, _) = drawn(&ui, &data(), 80, 24);
        assert!(text.contains("Sockets by state,local_port (3 rows)"));
        assert!(body(&text)[4].contains("ESTABLISHED"));
        // delta, largest first
        ui.sort[Screen::GroupBy.index()] = Some("delta".into());
        let (text, _) = drawn(&ui, &data(), 80, 24);
        let lines = body(&text);
        assert!(lines[2].contains("sorted by delta"), "{}", lines[2]);
        let order: Vec<&str> = lines[4..7]
            .iter()
            .map(|l| {
                l.trim_start_matches('│')
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
            })
            .collect();
        assert_eq!(order, ["ESTABLISHED", "LISTEN", "TIME_WAIT"]);
        // state, A to Z
        ui.sort[Screen::GroupBy.index()] = Some("state".into());
        let (text, _) = drawn(&ui, &data(), 80, 24);
        assert!(body(&text)[4].contains("ESTABLISHED") && body(&text)[5].contains("LISTEN"));
    }

    #[test]
    fn health_screen_scrolls_sideways_on_a_narrow_terminal() {
        let mut ui = ui(Screen::Health);
        let (text, _) = drawn(&ui, &data(), 80, 24);
        let lines = body(&text);
        assert!(lines[2].contains("Health per listener"), "{}", lines[2]);
        assert!(lines[2].contains("columns 7/12"), "{}", lines[2]);
        assert!(lines[3].starts_with("│local_addr  local_port  established  rtt_sockets  rtt_p50"));
        ui.column[Screen::Health.index()] = 4;
        let (text, _) = drawn(&ui, &data(), 80, 24);
        let lines = body(&text);
        // the listener's address and port stay
        assert!(
            lines[3].starts_with("│local_addr  local_port  rtt_p99  retrans"),
            "{}",
            lines[3]
        );
        assert!(text.contains("Health per backend"));
        assert!(text.contains("10.0.0.9"));
        let without = Data {
            info: false,
            ..data()
        };
        let (text, _) = drawn(&ui, &without, 80, 24);
        assert!(text.contains("Health needs --info"));
    }

    #[test]
    fn closes_screen_shows_rates_and_losses() {
        let (text, _) = drawn(&ui(Screen::Closes), &data(), 80, 24);
        let lines = body(&text);
        assert!(
            lines[3].starts_with("│local_addr  local_port  closes  per_s  delta"),
            "{}",
            lines[3]
        );
        assert!(
            lines[4].starts_with("│0.0.0.0             80      50  25.00     10"),
            "{}",
            lines[4]
        );
        assert!(text.contains("events lost: 3 in the last 2.0 s, 7 since the start"));
        let without = Data {
            events: false,
            ..data()
        };
        let (text, _) = drawn(&ui(Screen::Closes), &without, 80, 24);
        assert!(text.contains("Closes need --events"));
    }

    #[test]
    fn editing_pausing_and_errors_show_on_the_bottom_lines() {
        let mut ui = ui(Screen::Summary);
        ui.editing = Some((Editing::Filter, "sport = :80".into()));
        ui.paused = true;
        let (text, _) = drawn(&ui, &data(), 80, 24);
        let lines = body(&text);
        assert!(lines[1].ends_with("PAUSED"), "{}", lines[1]);
        assert_eq!(lines[22], "filter: sport = :80_");
        ui.editing = None;
        ui.notice = Some("bad filter: unknown word `spurt'".into());
        let (text, _) = drawn(&ui, &data(), 80, 24);
        assert_eq!(body(&text)[22], "bad filter: unknown word `spurt'");
    }

    #[test]
    fn scrolling_stops_at_the_last_row() {
        let mut ui = ui(Screen::Listeners);
        let data = data();
        let draw_and_clamp = |ui: &mut Ui| {
            let mut terminal = Terminal::new(TestBackend::new(80, 9)).unwrap();
            let mut last = 0;
            terminal
                .draw(|frame| last = draw(frame, ui, &data))
                .unwrap();
            ui.clamp_scroll(last);
            last
        };
        let last = draw_and_clamp(&mut ui);
        assert!(last > 0, "the fixture's first table must not fit 9 lines");
        for _ in 0..50 {
            ui.key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE), &[]);
            draw_and_clamp(&mut ui);
        }
        assert_eq!(ui.offset[Screen::Listeners.index()], last);
        // one key up moves up at once, wherever the keys went past the end
        ui.key(KeyEvent::new(KeyCode::Up, KeyModifiers::NONE), &[]);
        draw_and_clamp(&mut ui);
        assert_eq!(ui.offset[Screen::Listeners.index()], last - 1);
        let (text, _) = drawn(&ui, &data, 80, 9);
        assert!(text.contains(&format!("(rows {}-", last)), "{text}");
    }

    #[test]
    fn a_tiny_terminal_draws_without_panicking() {
        for screen in Screen::ALL {
            for (w, h) in [(1, 1), (20, 5), (40, 12), (80, 24)] {
                let (text, _) = drawn(&ui(screen), &data(), w, h);
                // the first and last lines keep their place when there is room
                if h >= 12 {
                    let lines: Vec<&str> = text.lines().collect();
                    assert!(
                        lines[0].starts_with(" 1 Summ"),
                        "{screen:?} {w}x{h}: {text}"
                    );
                }
                // (5 rows leave the tab and help lines no room beside a table)
                if h >= 12 {
                    let lines: Vec<&str> = text.lines().collect();
                    let last = lines[h as usize - 1];
                    assert!(last.starts_with("Tab/1-6"), "{screen:?} {w}x{h}: {text}");
                }
            }
        }
    }

    #[test]
    fn no_colour_means_no_colour() {
        let mut ui = ui(Screen::Ephemeral);
        ui.colour = false;
        for screen in Screen::ALL {
            ui.screen = screen;
            let (_, buffer) = drawn(&ui, &data(), 120, 30);
            for cell in buffer.content() {
                assert_eq!(
                    (cell.fg, cell.bg),
                    (Color::Reset, Color::Reset),
                    "{screen:?}"
                );
            }
        }
    }

    #[test]
    fn sparklines_and_bars() {
        assert_eq!(sparkline(&[]), "");
        assert_eq!(sparkline(&[5, 5]), "▁▁");
        assert_eq!(sparkline(&[0, 7, 14]), "▁▄█");
        assert_eq!(bar(0), "░░░░░░░░░░");
        assert_eq!(bar(85), "█████████░");
        assert_eq!(bar(250), "██████████");
        let mut history = History::default();
        let table = decoded(
            r#"{"kind":"summary","proto":"tcp","family":"inet","state":"LISTEN","count":1}"#,
        );
        history.record(0.0, table.table("summary"));
        history.record(61.0, None);
        assert!(history.rows.is_empty(), "a minute old is forgotten");
    }
}
