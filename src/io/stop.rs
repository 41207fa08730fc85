//! SIGINT and SIGTERM as a request to stop: a run that goes on until
//! interrupted (`--events`) finishes its current line, prints its final
//! counts and exits 0 instead of dying mid-line.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn note_signal(_: libc::c_int) {
    REQUESTED.store(true, Ordering::Relaxed);
}

/// Catch the next SIGINT or SIGTERM. Without SA_RESTART, so a blocking
/// poll returns EINTR at once; the signal after it kills as usual.
pub fn install() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: sigaction with a zeroed struct, an empty mask and a
        // handler that only stores to an atomic (async-signal-safe).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = note_signal as *const () as libc::sighandler_t;
            // a second ^C (while the queue drains or a name is looked up)
            // ends the process as usual
            action.sa_flags = libc::SA_RESETHAND;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// Whether SIGINT or SIGTERM has arrived since [`install`].
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// Ask for a stop from within (`--count` reached where the loop waits for
/// events).
pub fn request() {
    REQUESTED.store(true, Ordering::Relaxed);
}
