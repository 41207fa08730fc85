//! The terminal while `--live` owns it: raw mode, the alternate screen and
//! a hidden cursor, given back on every way out (quit, SIGTERM, a panic,
//! Ctrl-Z or SIGTSTP, after which SIGCONT takes it again).

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::{cursor, execute, terminal};
use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};

/// SIGTSTP arrived (from `kill`: Ctrl-Z in raw mode is a key).
static SUSPEND: AtomicBool = AtomicBool::new(false);
/// SIGCONT arrived: the screen may have been drawn over.
static CONTINUED: AtomicBool = AtomicBool::new(false);
/// nlstat holds the terminal (raw mode, the alternate screen). It is
/// given back once, by whichever comes first (the panic hook, a suspend,
/// the session's end): the hook outlives the session, and leaving the
/// alternate screen twice would put the cursor back over a message.
static TAKEN: AtomicBool = AtomicBool::new(false);
/// SIGTSTP was ignored when nlstat started (its parent ignored it, as
/// after a shell's `trap '' TSTP`): Ctrl-Z then leaves nlstat running,
/// as the signal itself would.
static STOPS_IGNORED: AtomicBool = AtomicBool::new(false);

extern "C" fn note_stop(_: libc::c_int) {
    SUSPEND.store(true, Ordering::Relaxed);
}

extern "C" fn note_continue(_: libc::c_int) {
    CONTINUED.store(true, Ordering::Relaxed);
}

/// Install `handler` for `signal` (without SA_RESETHAND: it stays).
fn catch(signal: libc::c_int, handler: extern "C" fn(libc::c_int)) {
    // SAFETY: sigaction with a zeroed struct, an empty mask and a handler
    // that only stores to an atomic (async-signal-safe).
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(signal, &action, std::ptr::null_mut());
    }
}

/// Whether `signal`'s disposition is to be ignored.
fn ignored(signal: libc::c_int) -> bool {
    // SAFETY: sigaction with a null new action only reads the disposition
    // into a zeroed struct this frame owns.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(signal, std::ptr::null(), &mut current) == 0
            && current.sa_sigaction == libc::SIG_IGN
    }
}

/// Put the terminal as it was: main screen, cursor shown, cooked mode.
/// Errors are ignored: this runs on the way out, a panic's included.
fn restore() {
    // once: a panic's hook gives the terminal back before its message,
    // and unwinding must not leave the alternate screen again over it
    if !TAKEN.swap(false, Ordering::Relaxed) {
        return;
    }
    let _ = execute!(io::stdout(), terminal::LeaveAlternateScreen, cursor::Show);
    let _ = terminal::disable_raw_mode();
}

fn take_over() -> io::Result<()> {
    TAKEN.store(true, Ordering::Relaxed);
    terminal::enable_raw_mode()?;
    execute!(io::stdout(), terminal::EnterAlternateScreen, cursor::Hide)
}

/// The terminal, taken over until dropped.
pub struct Session {
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Session {
    /// Take the terminal over; a panic gives it back before its message.
    pub fn enter() -> io::Result<Self> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            crate::io::stdio::capture_stderr(false);
            previous(info);
        }));
        if ignored(libc::SIGTSTP) {
            STOPS_IGNORED.store(true, Ordering::Relaxed);
        } else {
            catch(libc::SIGTSTP, note_stop);
        }
        catch(libc::SIGCONT, note_continue);
        if let Err(e) = take_over() {
            restore();
            return Err(e);
        }
        let terminal = Terminal::new(CrosstermBackend::new(io::stdout()));
        match terminal {
            Ok(terminal) => Ok(Session { terminal }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }

    /// Whether a SIGTSTP is waiting to be obeyed.
    pub fn suspend_requested(&self) -> bool {
        SUSPEND.swap(false, Ordering::Relaxed)
    }

    /// Whether SIGCONT arrived since the last look (redraw everything).
    pub fn continued(&self) -> bool {
        CONTINUED.swap(false, Ordering::Relaxed)
    }

    /// Give the terminal back and stop as a shell's job does; take it
    /// again when continued. Nothing when stops were ignored from the
    /// start (false then, for the caller to say so).
    pub fn suspend(&mut self) -> io::Result<bool> {
        if STOPS_IGNORED.load(Ordering::Relaxed) {
            return Ok(false);
        }
        restore();
        // SAFETY: resetting SIGTSTP to its default action and raising it
        // stops this process (its default action); signal and raise are
        // async-signal-safe and called from the main thread.
        unsafe {
            libc::signal(libc::SIGTSTP, libc::SIG_DFL);
            libc::raise(libc::SIGTSTP);
        }
        // running again (SIGCONT, already answered here)
        catch(libc::SIGTSTP, note_stop);
        CONTINUED.store(false, Ordering::Relaxed);
        self.retake()?;
        Ok(true)
    }

    /// Take the terminal again after someone else used it (SIGCONT after
    /// a SIGSTOP nlstat could not see coming).
    pub fn retake(&mut self) -> io::Result<()> {
        take_over()?;
        // Terminal::clear would ask the terminal where its cursor is;
        // instead the screen is cleared, and a blank frame makes what
        // ratatui believes is shown match it (the next frame is whole)
        execute!(io::stdout(), terminal::Clear(terminal::ClearType::All))?;
        self.terminal
            .draw(|frame| frame.render_widget(ratatui::widgets::Clear, frame.area()))?;
        Ok(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        restore();
    }
}
