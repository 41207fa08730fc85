//! `--live`: a full-screen view that refreshes every `--interval`, with six
//! screens (Summary, Listeners, Ephemeral, Group-by, Health, Closes).
//!
//! The screen is one more sink of the views: each screen's panes run the
//! view's own code as `--json -c` does ([`panes`]), the JSON lines are
//! read back ([`table`]) and drawn ([`screens`]), so the numbers shown are
//! those `nlstat --json -c --listeners` (and so on) prints. A refresh
//! ticks only the panes of the screen on display. What the operator
//! chooses lives in [`state`]; the terminal is taken and given back in
//! [`terminal`].

pub mod panes;
pub mod screens;
pub mod state;
pub mod table;
mod terminal;

use crate::config::{Config, Key, View};
use crate::error::{Error, Result};
use crate::filter::expr::Query;
use panes::{ClosePanes, Pane};
use ratatui::crossterm::event::{self, Event, KeyEventKind};
use rustc_hash::FxHashMap;
use screens::{Data, draw};
use state::{Action, Screen, Ui};
use std::time::{Duration, Instant};

/// The longest wait for a key, so signals and closes are seen promptly.
const POLL: Duration = Duration::from_millis(100);
/// Distinct stderr messages kept for the exit (a flood keeps the first).
const KEPT_MESSAGES: usize = 100;

/// What a run measured, for `-v`.
#[derive(Default)]
struct Timings {
    refreshes: u64,
    collecting: Duration,
    frames: u64,
    drawing: Duration,
    slowest_frame: Duration,
}

/// The live screen's state: the operator's choices, the views' last
/// ticks, and the panes that make them.
struct Live<'c> {
    config: &'c Config,
    ui: Ui,
    data: Data,
    /// The filter in force (the command line's, or the last good `/`).
    query: Option<Query>,
    /// The Group-by screen's view: the keys in force, `--top`, `--sort`.
    group_by: View,
    panes: FxHashMap<Screen, Vec<Pane>>,
    closes: Option<ClosePanes>,
    start: Instant,
    timings: Timings,
    /// What was meant for stderr, printed on exit.
    messages: Vec<String>,
}

/// Run `--live` until `q`, Ctrl-C, SIGINT, SIGTERM or `--count` refreshes.
pub fn run(config: &Config) -> Result<i32> {
    crate::io::stop::install();
    let mut live = Live::new(config)?;
    let mut session = terminal::Session::enter().map_err(Error::Output)?;
    crate::io::stdio::capture_stderr(true);
    let result = live.run(&mut session);
    drop(session);
    live.keep_messages();
    crate::io::stdio::capture_stderr(false);
    for message in &live.messages {
        eprintln!("{message}");
    }
    if config.verbose {
        live.report_timings();
    }
    result.map(|()| 0)
}

impl<'c> Live<'c> {
    fn new(config: &'c Config) -> Result<Self> {
        let (screen, group_by) = match &config.view {
            Some(View::Summary) => (Screen::Summary, None),
            Some(View::Listeners) => (Screen::Listeners, None),
            Some(View::Ephemeral) => (Screen::Ephemeral, None),
            Some(view @ View::GroupBy { .. }) => (Screen::GroupBy, Some(view.clone())),
            _ if config.events => (Screen::Closes, None),
            _ => (Screen::Summary, None),
        };
        // --group-by's keys, --top and --sort as given
        let group_by =
            group_by.unwrap_or_else(|| panes::group_by(vec![Key::State, Key::LocalPort]));
        let View::GroupBy { keys, .. } = &group_by else {
            unreachable!("a --group-by view")
        };
        let keys = keys.clone();
        let keys_text = keys.iter().map(|k| k.name()).collect::<Vec<_>>().join(",");
        let mut ui = Ui::new(
            screen,
            config.interval.unwrap_or(Duration::from_secs(1)),
            config.filter_text.clone(),
            keys_text,
        );
        ui.colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let closes = if config.events {
            Some(ClosePanes::new(config, config.query.clone())?)
        } else {
            None
        };
        Ok(Live {
            data: Data {
                info: config.info,
                events: config.events,
                programs: config.programs,
                netns: match (&config.netns, config.all_netns) {
                    (_, true) => "all".into(),
                    (Some(name), false) => name.clone(),
                    (None, false) => String::new(),
                },
                closes: closes.as_ref().map(|_| screens::Closes::default()),
                ..Data::default()
            },
            config,
            ui,
            query: config.query.clone(),
            group_by,
            panes: FxHashMap::default(),
            closes,
            start: Instant::now(),
            timings: Timings::default(),
            messages: Vec::new(),
        })
    }

    /// The loop: refresh on the schedule, draw when something changed,
    /// answer keys and signals.
    fn run(&mut self, session: &mut terminal::Session) -> Result<()> {
        let mut next = Instant::now();
        let mut dirty = true;
        loop {
            if crate::io::stop::requested() {
                return Ok(());
            }
            if session.suspend_requested() {
                self.suspend(session)?;
                dirty = true;
            }
            if session.continued() {
                session.retake().map_err(Error::Output)?;
                dirty = true;
            }
            if !self.ui.paused && Instant::now() >= next {
                self.refresh();
                dirty = true;
                next += self.ui.interval;
                // a slow refresh skips the slots it missed
                let now = Instant::now();
                if next < now {
                    next = now + self.ui.interval;
                }
            }
            if dirty {
                self.draw(session)?;
                dirty = false;
                assert!(
                    !self.config.inputs.live_panic,
                    "NLSTAT_LIVE_PANIC: a panic on purpose after the first frame"
                );
                if self
                    .config
                    .count
                    .is_some_and(|n| self.timings.refreshes >= n)
                {
                    return Ok(());
                }
            }
            if let Some(closes) = &mut self.closes
                && let Err(e) = closes.pump()
            {
                self.ui.notice = Some(e.to_string());
            }
            // paused, `next` stays in the past: wait for keys only
            let wait = if self.ui.paused {
                POLL
            } else {
                next.saturating_duration_since(Instant::now()).min(POLL)
            };
            // a signal (SIGTSTP, SIGCONT, SIGWINCH) interrupts the wait
            let next_event = match event::poll(wait) {
                Ok(true) => event::read(),
                Ok(false) => continue,
                Err(e) => Err(e),
            };
            let next_event = match next_event {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => other.map_err(Error::Output)?,
            };
            match next_event {
                Event::Key(key) if key.kind != KeyEventKind::Release => {
                    let columns = screens::sort_columns(&self.ui, &self.data);
                    match self.ui.key(key, &columns) {
                        Action::Quit => return Ok(()),
                        Action::Draw => {}
                        Action::Refresh => next = Instant::now(),
                        Action::Suspend => self.suspend(session)?,
                        Action::ApplyFilter(text) => {
                            if self.apply_filter(&text) {
                                next = Instant::now();
                            }
                        }
                        Action::ApplyKeys(text) => {
                            if self.apply_keys(&text) {
                                next = Instant::now();
                            }
                        }
                    }
                    dirty = true;
                }
                Event::Resize(..) => dirty = true,
                _ => {}
            }
        }
    }

    /// Stop as a shell's job, or say why not.
    fn suspend(&mut self, session: &mut terminal::Session) -> Result<()> {
        if !session.suspend().map_err(Error::Output)? {
            self.ui.notice =
                Some("Ctrl-Z: SIGTSTP is ignored (nlstat was started with it ignored)".into());
        }
        Ok(())
    }

    /// One frame, as one synchronized update (terminals that know it show
    /// the frame whole, never half drawn; the others ignore it).
    fn draw(&mut self, session: &mut terminal::Session) -> Result<()> {
        use ratatui::crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
        use ratatui::crossterm::{execute, queue};
        let began = Instant::now();
        let (ui, data) = (&self.ui, &self.data);
        let mut last_offset = 0;
        queue!(session.terminal.backend_mut(), BeginSynchronizedUpdate).map_err(Error::Output)?;
        session
            .terminal
            .draw(|frame| last_offset = draw(frame, ui, data))
            .map_err(Error::Output)?;
        execute!(session.terminal.backend_mut(), EndSynchronizedUpdate).map_err(Error::Output)?;
        self.ui.clamp_scroll(last_offset);
        let took = began.elapsed();
        self.timings.frames += 1;
        self.timings.drawing += took;
        self.timings.slowest_frame = self.timings.slowest_frame.max(took);
        Ok(())
    }

    /// Collect what the screen on display shows. A failure is shown in
    /// place; the next refresh tries again.
    fn refresh(&mut self) {
        let began = Instant::now();
        if let Err(e) = self.collect() {
            self.ui.notice = Some(e.to_string());
        }
        self.keep_messages();
        release_freed_memory();
        self.data.updated = now_text();
        self.timings.refreshes += 1;
        self.timings.collecting += began.elapsed();
    }

    fn collect(&mut self) -> Result<()> {
        let screen = self.ui.screen;
        if screen == Screen::Closes {
            let Some(closes) = &mut self.closes else {
                return Ok(());
            };
            closes.refresh()?;
            self.data.closes = Some(screens::Closes {
                listeners: closes.listener_closes.clone(),
                backends: closes.backend_closes.clone(),
                seconds: closes.seconds,
                lost: closes.lost,
                total_lost: closes.totals_lost,
            });
            return Ok(());
        }
        if screen == Screen::Health && !self.config.info {
            return Ok(());
        }
        // the previous tick's cells go before this tick's are read
        match screen {
            Screen::Summary => self.data.summary = Default::default(),
            Screen::Listeners => self.data.listeners = Default::default(),
            Screen::Ephemeral => self.data.ephemeral = Default::default(),
            Screen::GroupBy => self.data.groups = Default::default(),
            Screen::Health => {
                self.data.health_listeners = Default::default();
                self.data.health_backends = Default::default();
            }
            Screen::Closes => {}
        }
        let panes = match self.panes.entry(screen) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(make_panes(
                self.config,
                screen,
                &self.group_by,
                self.query.as_ref(),
            )),
        };
        for pane in panes.iter_mut() {
            pane.refresh()?;
        }
        let mut latest = |i: usize| std::mem::take(&mut panes[i].latest);
        match screen {
            Screen::Summary => {
                self.data.summary = latest(0);
                let now = self.start.elapsed().as_secs_f64();
                self.data
                    .history
                    .record(now, self.data.summary.table("summary"));
            }
            Screen::Listeners => self.data.listeners = latest(0),
            Screen::Ephemeral => self.data.ephemeral = latest(0),
            Screen::GroupBy => self.data.groups = latest(0),
            Screen::Health => {
                self.data.health_listeners = latest(0);
                self.data.health_backends = latest(1);
            }
            Screen::Closes => {}
        }
        Ok(())
    }

    /// Use the expression `text` from now on when it compiles (an empty
    /// one filters nothing); else show why and keep the one in force.
    fn apply_filter(&mut self, text: &str) -> bool {
        let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        if words.join(" ") == self.ui.filter {
            // the same filter: the closes keep their counts
            return false;
        }
        let query = if words.is_empty() {
            None
        } else {
            let unix_only = self.config.families.unix && !self.config.wants_inet_section();
            match crate::filter::expr::parse(&words, unix_only) {
                Ok(query) => Some(query),
                Err(e) => {
                    self.ui.notice = Some(format!("bad filter: {e} (kept: {})", self.ui.filter));
                    return false;
                }
            }
        };
        if self.config.events {
            match ClosePanes::new(self.config, query.clone()) {
                Ok(mut closes) => {
                    if let Some(old) = &self.closes {
                        closes.carry_losses_from(old);
                    }
                    self.closes = Some(closes);
                }
                Err(e) => {
                    self.ui.notice = Some(e.to_string());
                    return false;
                }
            }
        }
        self.query = query;
        self.ui.filter = words.join(" ");
        self.panes.clear();
        true
    }

    /// Count the Group-by screen by `text`'s keys from now on when they
    /// parse; else show why and keep the ones in force.
    fn apply_keys(&mut self, text: &str) -> bool {
        let keys = match crate::views::parse_keys(text.trim()) {
            Ok(keys) => keys,
            Err(e) => {
                self.ui.notice = Some(format!("bad keys: {e} (kept: {})", self.ui.keys));
                return false;
            }
        };
        if !self.config.programs && keys.iter().any(|k| matches!(k, Key::Pid | Key::Program)) {
            self.ui.notice = Some("bad keys: pid and program need -p".into());
            return false;
        }
        self.ui.keys = keys.iter().map(|k| k.name()).collect::<Vec<_>>().join(",");
        if let View::GroupBy { keys: now, .. } = &mut self.group_by {
            *now = keys;
        }
        let here = Screen::GroupBy.index();
        (self.ui.offset[here], self.ui.column[here]) = (0, 0);
        self.panes.remove(&Screen::GroupBy);
        true
    }

    /// Messages meant for stderr since the last look: the latest shown
    /// in place, each kept (once, at most [`KEPT_MESSAGES`]) for exit.
    fn keep_messages(&mut self) {
        let captured = crate::io::stdio::take_captured();
        for line in String::from_utf8_lossy(&captured).lines() {
            self.ui.notice = Some(line.to_string());
            if self.messages.len() < KEPT_MESSAGES && !self.messages.iter().any(|m| m == line) {
                self.messages.push(line.to_string());
            }
        }
    }

    fn report_timings(&self) {
        let t = &self.timings;
        let average = |total: Duration, n: u64| total.as_secs_f64() * 1000.0 / n.max(1) as f64;
        eprintln!(
            "{}: --live: {} refreshes, {:.1} ms collecting on average; {} frames, {:.2} ms drawing on average, {:.2} ms at most",
            self.config.program_name,
            t.refreshes,
            average(t.collecting, t.refreshes),
            t.frames,
            average(t.drawing, t.frames),
            t.slowest_frame.as_secs_f64() * 1000.0
        );
    }
}

/// The panes of `screen` (none for Closes: its source is the events').
fn make_panes(
    config: &Config,
    screen: Screen,
    group_by: &View,
    query: Option<&Query>,
) -> Vec<Pane> {
    let pane = |view: View, info: bool, query: Option<Query>| Pane::new(config, view, info, query);
    let user = || query.cloned();
    match screen {
        Screen::Summary => vec![pane(View::Summary, false, user())],
        Screen::Listeners => vec![pane(View::Listeners, false, user())],
        Screen::Ephemeral => vec![pane(View::Ephemeral, false, user())],
        Screen::GroupBy => vec![pane(group_by.clone(), false, user())],
        Screen::Health => vec![
            pane(View::Listeners, true, user()),
            pane(
                panes::group_by(vec![Key::RemoteAddr, Key::RemotePort]),
                true,
                Some(panes::backends_query(config, query)),
            ),
        ],
        Screen::Closes => Vec::new(),
    }
}

/// Give the pages a refresh freed back to the kernel: a dump of 440 000
/// sockets leaves glibc's arenas (one per dumping thread) holding their
/// peak, which a screen left open for hours should not keep resident.
fn release_freed_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only walks glibc's own arenas under their locks
    // and takes no pointer; any thread may call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Now, UTC, to the second (the status line's time).
fn now_text() -> String {
    let millis = crate::text::utc_millis(std::time::SystemTime::now());
    let text = String::from_utf8_lossy(&millis).into_owned();
    // 2026-12-06T06:16:33.797Z: the time of day
    text.get(11..19).unwrap_or(&text).to_string()
}
