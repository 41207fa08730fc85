//! What the operator chose on screen (the screen shown, each screen's sort
//! column, the filter and keys being edited, the interval, the pause),
//! and what each key does to it. No terminal here: the keys are tested
//! as events.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::time::Duration;

/// The screens, in the order of their number keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Screen {
    Summary,
    Listeners,
    Ephemeral,
    GroupBy,
    Health,
    Closes,
}

impl Screen {
    pub const ALL: [Screen; 6] = [
        Screen::Summary,
        Screen::Listeners,
        Screen::Ephemeral,
        Screen::GroupBy,
        Screen::Health,
        Screen::Closes,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Screen::Summary => "Summary",
            Screen::Listeners => "Listeners",
            Screen::Ephemeral => "Ephemeral",
            Screen::GroupBy => "Group-by",
            Screen::Health => "Health",
            Screen::Closes => "Closes",
        }
    }

    pub fn index(self) -> usize {
        Screen::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// The line being edited at the bottom of the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Editing {
    /// The filter expression (`/`).
    Filter,
    /// The Group-by screen's keys (`k`).
    Keys,
}

/// What a key asks the driver to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing more than drawing again.
    Draw,
    /// Collect now (the screen or the interval changed, the pause ended).
    Refresh,
    /// Compile this filter expression and, when it is good, use it.
    ApplyFilter(String),
    /// Parse these keys and, when they are good, count by them.
    ApplyKeys(String),
    /// Give the terminal back and stop the process (Ctrl-Z).
    Suspend,
    Quit,
}

/// The intervals `+` and `-` step through (seconds).
const INTERVALS: [f64; 11] = [0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 15.0, 30.0, 60.0];

/// The operator's choices.
#[derive(Debug, Clone)]
pub struct Ui {
    pub screen: Screen,
    /// Per screen: the column its first table is sorted by (largest
    /// first; text A to Z), or the view's own order.
    pub sort: [Option<String>; 6],
    /// Per screen: the first row shown of its first table, and the
    /// first column shown after those that name the row.
    pub offset: [usize; 6],
    pub column: [usize; 6],
    pub editing: Option<(Editing, String)>,
    /// The filter expression in force, as typed.
    pub filter: String,
    /// The Group-by screen's keys in force.
    pub keys: String,
    /// An error or message shown above the help line until the next key.
    pub notice: Option<String>,
    pub interval: Duration,
    pub paused: bool,
    /// Colours (off with `NO_COLOR`).
    pub colour: bool,
}

impl Ui {
    pub fn new(screen: Screen, interval: Duration, filter: String, keys: String) -> Self {
        Ui {
            screen,
            sort: Default::default(),
            offset: [0; 6],
            column: [0; 6],
            editing: None,
            filter,
            keys,
            notice: None,
            interval,
            paused: false,
            colour: true,
        }
    }

    /// What `key` does; `columns` are the names of the screen's first
    /// table has (the sort cycles through them).
    pub fn key(&mut self, key: KeyEvent, columns: &[String]) -> Action {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            return Action::Quit;
        }
        if ctrl && key.code == KeyCode::Char('z') {
            return Action::Suspend;
        }
        if let Some((what, text)) = &mut self.editing {
            return match key.code {
                KeyCode::Enter => {
                    let (what, text) = (*what, std::mem::take(text));
                    self.editing = None;
                    match what {
                        Editing::Filter => Action::ApplyFilter(text),
                        Editing::Keys => Action::ApplyKeys(text),
                    }
                }
                KeyCode::Esc => {
                    self.editing = None;
                    Action::Draw
                }
                KeyCode::Backspace => {
                    text.pop();
                    Action::Draw
                }
                KeyCode::Char(c) if !ctrl => {
                    text.push(c);
                    Action::Draw
                }
                _ => Action::Draw,
            };
        }
        self.notice = None;
        let here = self.screen.index();
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => Action::Quit,
            KeyCode::Tab => self.show(Screen::ALL[(here + 1) % Screen::ALL.len()]),
            KeyCode::BackTab => {
                self.show(Screen::ALL[(here + Screen::ALL.len() - 1) % Screen::ALL.len()])
            }
            KeyCode::Char(c @ '1'..='6') => self.show(Screen::ALL[c as usize - '1' as usize]),
            KeyCode::Char('s') => {
                // by name: the columns may change (data arriving, new keys)
                let next = match &self.sort[here] {
                    None => 0,
                    Some(name) => columns.iter().position(|c| c == name).map_or(0, |c| c + 1),
                };
                self.sort[here] = columns.get(next).cloned();
                self.offset[here] = 0;
                Action::Draw
            }
            KeyCode::Char('/') => {
                self.editing = Some((Editing::Filter, self.filter.clone()));
                Action::Draw
            }
            KeyCode::Char('k') if self.screen == Screen::GroupBy => {
                self.editing = Some((Editing::Keys, self.keys.clone()));
                Action::Draw
            }
            KeyCode::Char('+') => self.step_interval(1),
            KeyCode::Char('-') => self.step_interval(-1),
            KeyCode::Char('p') => {
                self.paused = !self.paused;
                if self.paused {
                    Action::Draw
                } else {
                    Action::Refresh
                }
            }
            KeyCode::Down => self.scroll(1),
            KeyCode::Up => self.scroll(-1),
            KeyCode::PageDown => self.scroll(20),
            KeyCode::PageUp => self.scroll(-20),
            KeyCode::Right => {
                self.column[here] = (self.column[here] + 1).min(columns.len().saturating_sub(1));
                Action::Draw
            }
            KeyCode::Left => {
                self.column[here] = self.column[here].saturating_sub(1);
                Action::Draw
            }
            KeyCode::Home => {
                self.offset[here] = 0;
                self.column[here] = 0;
                Action::Draw
            }
            _ => Action::Draw,
        }
    }

    fn show(&mut self, screen: Screen) -> Action {
        if screen == self.screen {
            return Action::Draw;
        }
        self.screen = screen;
        Action::Refresh
    }

    /// Scroll the screen's first table no further than row `last`, the
    /// last it could be drawn from (as [`draw`](super::screens::draw)
    /// found it): keys past the end do not pile up.
    pub fn clamp_scroll(&mut self, last: usize) {
        let offset = &mut self.offset[self.screen.index()];
        *offset = (*offset).min(last);
    }

    fn scroll(&mut self, by: isize) -> Action {
        let offset = &mut self.offset[self.screen.index()];
        *offset = offset.saturating_add_signed(by);
        Action::Draw
    }

    /// The next interval up or down the steps (an interval between two
    /// steps moves to the next one in that direction).
    fn step_interval(&mut self, direction: i32) -> Action {
        let now = self.interval.as_secs_f64();
        let next = if direction > 0 {
            INTERVALS.iter().find(|s| **s > now + 1e-9)
        } else {
            INTERVALS.iter().rev().find(|s| **s < now - 1e-9)
        };
        match next {
            Some(seconds) => {
                self.interval = Duration::from_secs_f64(*seconds);
                Action::Refresh
            }
            None => Action::Draw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(ui: &mut Ui, code: KeyCode) -> Action {
        let columns = ["a", "b", "c"].map(String::from);
        ui.key(KeyEvent::new(code, KeyModifiers::NONE), &columns)
    }

    fn ui() -> Ui {
        Ui::new(
            Screen::Summary,
            Duration::from_secs(1),
            String::new(),
            "state".into(),
        )
    }

    #[test]
    fn tab_and_numbers_switch_screens() {
        let mut ui = ui();
        assert_eq!(press(&mut ui, KeyCode::Tab), Action::Refresh);
        assert_eq!(ui.screen, Screen::Listeners);
        assert_eq!(press(&mut ui, KeyCode::BackTab), Action::Refresh);
        assert_eq!(press(&mut ui, KeyCode::BackTab), Action::Refresh);
        assert_eq!(ui.screen, Screen::Closes);
        assert_eq!(press(&mut ui, KeyCode::Char('4')), Action::Refresh);
        assert_eq!(ui.screen, Screen::GroupBy);
        assert_eq!(press(&mut ui, KeyCode::Char('4')), Action::Draw);
    }

    #[test]
    fn s_cycles_the_sort_column_then_back_to_the_views_order() {
        let mut ui = ui();
        let sorts: Vec<Option<String>> = (0..4)
            .map(|_| {
                press(&mut ui, KeyCode::Char('s'));
                ui.sort[0].clone()
            })
            .collect();
        let name = |n: &str| Some(n.to_string());
        assert_eq!(sorts, [name("a"), name("b"), name("c"), None]);
        // a column gone since: from the first again
        ui.sort[0] = name("gone");
        press(&mut ui, KeyCode::Char('s'));
        assert_eq!(ui.sort[0], name("a"));
        // another screen keeps its own
        press(&mut ui, KeyCode::Char('2'));
        assert_eq!(ui.sort[1], None);
    }

    #[test]
    fn the_filter_is_edited_then_applied_or_abandoned() {
        let mut ui = ui();
        ui.filter = "sport = :80".into();
        press(&mut ui, KeyCode::Char('/'));
        for _ in 0..3 {
            press(&mut ui, KeyCode::Backspace);
        }
        for c in "443".chars() {
            // q and digits are text while editing
            press(&mut ui, KeyCode::Char(c));
        }
        press(&mut ui, KeyCode::Char('q'));
        press(&mut ui, KeyCode::Backspace);
        assert_eq!(
            press(&mut ui, KeyCode::Enter),
            Action::ApplyFilter("sport = 443".into())
        );
        assert!(ui.editing.is_none());
        press(&mut ui, KeyCode::Char('/'));
        press(&mut ui, KeyCode::Char('x'));
        assert_eq!(press(&mut ui, KeyCode::Esc), Action::Draw);
        assert_eq!(ui.editing, None);
        // keys are edited on the Group-by screen only
        assert_eq!(press(&mut ui, KeyCode::Char('k')), Action::Draw);
        assert!(ui.editing.is_none());
        press(&mut ui, KeyCode::Char('4'));
        press(&mut ui, KeyCode::Char('k'));
        press(&mut ui, KeyCode::Char(','));
        assert_eq!(
            press(&mut ui, KeyCode::Enter),
            Action::ApplyKeys("state,".into())
        );
    }

    #[test]
    fn interval_steps_and_pause() {
        let mut ui = ui();
        assert_eq!(press(&mut ui, KeyCode::Char('+')), Action::Refresh);
        assert_eq!(ui.interval, Duration::from_secs(2));
        ui.interval = Duration::from_millis(250);
        press(&mut ui, KeyCode::Char('-'));
        assert_eq!(ui.interval, Duration::from_millis(200));
        ui.interval = Duration::from_millis(100);
        assert_eq!(press(&mut ui, KeyCode::Char('-')), Action::Draw);
        assert_eq!(press(&mut ui, KeyCode::Char('p')), Action::Draw);
        assert!(ui.paused);
        assert_eq!(press(&mut ui, KeyCode::Char('p')), Action::Refresh);
    }

    #[test]
    fn quit_keys() {
        let mut ui = ui();
        assert_eq!(press(&mut ui, KeyCode::Char('q')), Action::Quit);
        assert_eq!(press(&mut ui, KeyCode::Esc), Action::Quit);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(ui.key(ctrl_c, &[]), Action::Quit);
        let ctrl_z = KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL);
        assert_eq!(ui.key(ctrl_z, &[]), Action::Suspend);
    }
}
