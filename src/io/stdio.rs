//! Standard output buffered as netstat's C stdio buffers it, so that its
//! messages on standard error land at the same place in the output when
//! both streams go to one pipe or one terminal (`netstat -h 2>&1 | cat`
//! prints the family list, written to stderr last, first).
//!
//! glibc buffers stdout in blocks of `st_blksize` bytes (4096 for a pipe
//! or a file) when it is not a terminal, writing only whole blocks until
//! exit or fflush, and line by line on a terminal; stderr is unbuffered.
//! nlstat keeps its own large buffer for speed, and before every write to
//! stderr ([`write_stderr`]) emits exactly what netstat's stdio would have
//! emitted by then: the whole blocks, or the whole lines. The bytes and
//! their order are then netstat's; only the number of write calls differs.
//!
//! Rows are first staged per thread (no lock per row) and moved to the
//! shared buffer every few KiB, at a flush, and before that thread writes
//! to stderr; the thread that writes stdout (the main one) is the one
//! whose messages must fall in place.
//!
//! Why the buffer is global (as C's stdout is): stderr is written from
//! anywhere, by error reports deep in the collectors on any thread, and
//! each such write must first emit what netstat's stdout buffer would
//! have by then, so every writer of stderr must reach the one stdout
//! buffer.

use std::cell::RefCell;
use std::io::{self, Write};
use std::marker::PhantomData;
use std::sync::{Mutex, MutexGuard};

/// How much nlstat buffers before it writes (in netstat's block or line
/// steps, so the order with stderr stays exact).
const CAPACITY: usize = 64 * 1024;

/// How much a thread stages before it takes the lock.
const STAGE: usize = 8 * 1024;

thread_local! {
    /// This thread's rows not yet moved to the shared buffer (see above).
    static STAGED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Whether `fd` is a terminal.
pub fn is_terminal(fd: libc::c_int) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

/// How C stdio buffers stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Buffering {
    /// A terminal: each line as it ends.
    Line,
    /// Anything else: whole blocks of this many bytes.
    Block(usize),
}

impl Buffering {
    /// What glibc chooses for descriptor `fd`: line buffering on a
    /// terminal, else blocks of `st_blksize` (BUFSIZ when that is 0).
    pub fn of(fd: libc::c_int) -> Buffering {
        if is_terminal(fd) {
            return Buffering::Line;
        }
        // SAFETY: fstat writes into the zeroed stat buffer it is given.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: `stat` is a valid, writable struct stat.
        let ok = unsafe { libc::fstat(fd, &mut stat) } == 0;
        match ok && stat.st_blksize > 0 {
            true => Buffering::Block(stat.st_blksize as usize),
            false => Buffering::Block(8192),
        }
    }
}

struct Buffered {
    buffering: Buffering,
    pending: Vec<u8>,
    /// Bytes written to stdout so far.
    written: u64,
    /// A write error met while emitting for stderr, returned by the next
    /// write or flush.
    error: Option<io::Error>,
    /// Where the current table began (see [`mark`]).
    mark: u64,
    /// `written` at the last flush: stdio's blocks count from there.
    flushed: u64,
    sink: Box<dyn Write + Send>,
}

impl Buffered {
    /// Write what netstat's stdio would have written by now.
    fn emit_due(&mut self) -> io::Result<()> {
        self.emit_due_at(self.written + self.pending.len() as u64)
    }

    /// Write what netstat's stdio would have written when `total` bytes
    /// had been printed (no more than is pending).
    fn emit_due_at(&mut self, total: u64) -> io::Result<()> {
        let Some(ahead) = total.checked_sub(self.written) else {
            return Ok(());
        };
        let ahead = (ahead as usize).min(self.pending.len());
        let due = match self.buffering {
            Buffering::Line => self.pending[..ahead]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |at| at + 1),
            Buffering::Block(size) => {
                let size = size as u64;
                let since_flush = self.written + ahead as u64 - self.flushed;
                (self.flushed + since_flush / size * size).saturating_sub(self.written) as usize
            }
        };
        self.emit(due)
    }

    fn emit(&mut self, len: usize) -> io::Result<()> {
        if len == 0 {
            return Ok(());
        }
        let result = self
            .sink
            .write_all(&self.pending[..len])
            .and_then(|()| self.sink.flush());
        self.pending.drain(..len);
        self.written += len as u64;
        result
    }
}

/// The process' stdout buffer, once [`install`]ed (see the module doc for
/// why it is global).
static STDOUT: Mutex<Option<Buffered>> = Mutex::new(None);

fn state() -> MutexGuard<'static, Option<Buffered>> {
    STDOUT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The shared buffer, with this thread's staged bytes moved into it
/// (written straight to stdout when nothing is installed).
fn state_with_staged() -> (MutexGuard<'static, Option<Buffered>>, io::Result<()>) {
    let mut state = state();
    let result = STAGED.with(|staged| {
        let mut staged = staged.borrow_mut();
        if staged.is_empty() {
            return Ok(());
        }
        let result = match state.as_mut() {
            Some(out) => {
                out.pending.extend_from_slice(&staged);
                Ok(())
            }
            None => io::stdout().write_all(&staged),
        };
        staged.clear();
        result
    });
    (state, result)
}

/// Buffer standard output from now on as `buffering` says (the binary
/// does, once); returns the writer for it.
pub fn install(buffering: Buffering) -> Stdout {
    install_sink(buffering, Box::new(io::stdout()))
}

fn install_sink(buffering: Buffering, sink: Box<dyn Write + Send>) -> Stdout {
    *state() = Some(Buffered {
        buffering,
        pending: Vec::with_capacity(CAPACITY),
        written: 0,
        error: None,
        mark: 0,
        flushed: 0,
        sink,
    });
    Stdout(PhantomData)
}

/// Standard output as [`install`] set it up; `flush` is netstat's
/// `fflush(stdout)` (each `-c` tick, and exit). It stays on the thread
/// that made it (its bytes are staged there).
pub struct Stdout(PhantomData<*const ()>);

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let full = STAGED.with(|staged| {
            let mut staged = staged.borrow_mut();
            staged.extend_from_slice(buf);
            staged.len() >= STAGE
        });
        if !full {
            return Ok(());
        }
        let (mut state, moved) = state_with_staged();
        moved?;
        let Some(out) = state.as_mut() else {
            return Ok(());
        };
        if let Some(error) = out.error.take() {
            return Err(error);
        }
        if out.pending.len() >= CAPACITY {
            out.emit_due()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        let (mut state, moved) = state_with_staged();
        moved?;
        let Some(out) = state.as_mut() else {
            return io::stdout().flush();
        };
        if let Some(error) = out.error.take() {
            return Err(error);
        }
        let len = out.pending.len();
        out.emit(len)?;
        out.flushed = out.written;
        out.sink.flush()
    }
}

/// Write a message to stderr where netstat's would appear: after the
/// stdout bytes its stdio would have written by now. A message that
/// cannot be written is lost; a stdout error is kept for the next write.
pub fn write_stderr(message: &[u8]) {
    write_stderr_after(message, None);
}

/// Remember where a table begins: netstat reads the socket owners before
/// it prints a table's header, nlstat beside the dump, so its note about
/// them belongs here ([`write_stderr_at_mark`]).
pub fn mark() {
    let (mut state, moved) = state_with_staged();
    if let Some(out) = state.as_mut() {
        out.mark = out.written + out.pending.len() as u64;
        if let Err(error) = moved {
            out.error.get_or_insert(error);
        }
    }
}

/// [`write_stderr`] as if nothing had been printed since the [`mark`].
pub fn write_stderr_at_mark(message: &[u8]) {
    let mark = state().as_ref().map(|out| out.mark);
    write_stderr_after(message, mark);
}

/// While a full-screen view owns the terminal (`--live`), messages are
/// kept here for it to show instead of being written over its screen.
static CAPTURED: Mutex<Option<Vec<u8>>> = Mutex::new(None);

/// Keep later messages for [`take_captured`] (`true`) or write them to
/// stderr again (`false`, which also drops what was kept).
pub fn capture_stderr(capture: bool) {
    let mut captured = CAPTURED.lock().unwrap_or_else(|e| e.into_inner());
    *captured = capture.then(Vec::new);
}

/// The messages kept since the last call.
pub fn take_captured() -> Vec<u8> {
    let mut captured = CAPTURED.lock().unwrap_or_else(|e| e.into_inner());
    captured.as_mut().map(std::mem::take).unwrap_or_default()
}

fn write_stderr_after(message: &[u8], total: Option<u64>) {
    if let Some(kept) = CAPTURED.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        kept.extend_from_slice(message);
        return;
    }
    let (mut state, _) = state_with_staged();
    if let Some(out) = state.as_mut()
        && out.error.is_none()
    {
        let total = total.unwrap_or(out.written + out.pending.len() as u64);
        if let Err(error) = out.emit_due_at(total) {
            out.error = Some(error);
        }
    }
    let _ = io::stderr().write_all(message);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A sink that records what reached it, and when (in order with the
    /// stderr marks the test adds itself).
    #[derive(Clone, Default)]
    struct Log(Arc<Mutex<Vec<u8>>>);

    impl Write for Log {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// What reached the sink when a stderr message would be written.
    fn emitted_at_stderr(log: &Log) -> Vec<u8> {
        let (mut state, moved) = state_with_staged();
        moved.unwrap();
        state.as_mut().unwrap().emit_due().unwrap();
        log.0.lock().unwrap().clone()
    }

    // one test, since the state is the process' one stdout
    #[test]
    fn emits_what_c_stdio_would_have_written() {
        let log = Log::default();
        let mut out = install_sink(Buffering::Block(8), Box::new(log.clone()));
        out.write_all(b"0123").unwrap();
        assert_eq!(emitted_at_stderr(&log), b"");
        out.write_all(b"4567890").unwrap();
        assert_eq!(emitted_at_stderr(&log), b"01234567");
        out.write_all(b"abcdefghijklm").unwrap();
        // 24 bytes in all: three whole blocks
        assert_eq!(emitted_at_stderr(&log), b"01234567890abcdefghijklm");
        out.write_all(b"n").unwrap();
        out.flush().unwrap();
        assert_eq!(
            log.0.lock().unwrap().as_slice(),
            b"01234567890abcdefghijklmn"
        );
        // after a flush (a -c tick) blocks count from the flush, and a
        // message with less than a block pending emits nothing (it once
        // underflowed there)
        out.write_all(b"12345").unwrap();
        assert_eq!(emitted_at_stderr(&log).len(), 25);
        out.write_all(b"678").unwrap();
        assert_eq!(emitted_at_stderr(&log).len(), 33);

        let log = Log::default();
        let mut out = install_sink(Buffering::Line, Box::new(log.clone()));
        out.write_all(b"one\ntwo\nthr").unwrap();
        assert_eq!(emitted_at_stderr(&log), b"one\ntwo\n");
        out.write_all(b"ee").unwrap();
        assert_eq!(emitted_at_stderr(&log), b"one\ntwo\n");
        out.flush().unwrap();
        assert_eq!(log.0.lock().unwrap().as_slice(), b"one\ntwo\nthree");

        // a note that belongs before the table's header
        let log = Log::default();
        let mut out = install_sink(Buffering::Line, Box::new(log.clone()));
        out.write_all(b"before\n").unwrap();
        mark();
        out.write_all(b"header\nrow\n").unwrap();
        let mut state = state();
        let total = state.as_ref().unwrap().mark;
        state.as_mut().unwrap().emit_due_at(total).unwrap();
        assert_eq!(log.0.lock().unwrap().as_slice(), b"before\n");
        *state = None;
    }
}
