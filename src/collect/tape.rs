//! `--record FILE` and `--replay FILE`: what the kernel answered, tick by
//! tick, kept as it came (sock_diag datagrams, the /proc files read, the
//! `-p` owner map) so that any table, filter or view can be asked of it
//! later. The format is in doc/recording.md.
//!
//! One recording (or one replay) per process: every collector (netlink
//! sockets on several threads, /proc readers, the owner map) writes into
//! or reads from the same file, so the tape is process-wide state, set
//! once by the driver, as stdout's buffer is (io::stdio). Handing a handle
//! to every collector would thread it through every constructor for a
//! setting that never changes during a run.

use super::netlink::{NLMSG_HDRLEN, Transport};
use crate::model::TickStamp;
use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, UNIX_EPOCH};

/// The first bytes of every recording.
pub const MAGIC: &[u8] = b"nlstat-record\n";
/// The format version this build writes and reads.
pub const VERSION: u16 = 1;
#[cfg(target_endian = "little")]
const HOST_ORDER: u8 = 1;
#[cfg(target_endian = "big")]
const HOST_ORDER: u8 = 2;
/// zstd, the one compression of version 1.
const ZSTD: u8 = 1;
/// Level 1: recording must cost less than printing.
const LEVEL: i32 = 1;
/// The largest frame written or read (a /proc/net/tcp of a million
/// sockets is 150 MB): a damaged length is refused before it is allocated.
const FRAME_MAX: usize = 256 << 20;

/// Frame kinds (a kind byte, a little-endian u32 length, the payload).
mod kind {
    /// nlstat's version and the recording's command line, NUL-separated.
    pub const RUN: u8 = 1;
    /// A tick starts: number, elapsed ns, Unix ms, late ns (u64 each;
    /// late `u64::MAX` when on time).
    pub const TICK: u8 = 2;
    /// A dump request: its id (u32) and the request (sequence and port
    /// id zeroed).
    pub const DUMP: u8 = 3;
    /// A datagram of dump `id` (u32), as received.
    pub const DATA: u8 = 4;
    /// A /proc file: present (u8), path length (u16), path under /proc,
    /// contents.
    pub const FILE: u8 = 5;
    /// The `-p` owner map (enrich::processes' encoding).
    pub const OWNERS: u8 = 6;
    /// The tick is whole.
    pub const END: u8 = 7;
}

struct Recorder {
    out: zstd::stream::write::Encoder<'static, BufWriter<File>>,
    next_dump: u32,
    /// The first write that failed (a write inside a receive cannot
    /// report it there); the tick's end does.
    failed: Option<io::Error>,
}

static RECORDER: OnceLock<Mutex<Option<Recorder>>> = OnceLock::new();
static PLAYING: OnceLock<Mutex<Option<Arc<TickData>>>> = OnceLock::new();

fn recorder() -> Option<std::sync::MutexGuard<'static, Option<Recorder>>> {
    let guard = RECORDER.get()?.lock().unwrap_or_else(|e| e.into_inner());
    guard.is_some().then_some(guard)
}

/// Whether this run records.
pub fn recording() -> bool {
    recorder().is_some()
}

/// Whether this run replays a recording.
pub fn replaying() -> bool {
    PLAYING.get().is_some()
}

/// The 18 bytes before the zstd stream: magic, version, byte order,
/// compression.
fn header() -> Vec<u8> {
    let mut header = MAGIC.to_vec();
    header.extend_from_slice(&VERSION.to_le_bytes());
    header.extend_from_slice(&[HOST_ORDER, ZSTD]);
    header
}

/// Create `path` and write the header and the command line.
pub fn start_recording(path: &Path, args: &[std::ffi::OsString]) -> io::Result<()> {
    let mut file = BufWriter::with_capacity(1 << 20, File::create(path)?);
    file.write_all(&header())?;
    let mut recorder = Recorder {
        out: zstd::stream::write::Encoder::new(file, LEVEL)?,
        next_dump: 0,
        failed: None,
    };
    let mut run = env!("CARGO_PKG_VERSION").as_bytes().to_vec();
    for arg in args {
        run.push(0);
        run.extend_from_slice(arg.as_encoded_bytes());
    }
    recorder.frame(kind::RUN, &[&run]);
    if let Some(e) = recorder.failed.take() {
        return Err(e);
    }
    let slot = RECORDER.get_or_init(|| Mutex::new(None));
    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(recorder);
    Ok(())
}

impl Recorder {
    fn frame(&mut self, kind: u8, parts: &[&[u8]]) {
        if self.failed.is_some() {
            return;
        }
        let length: usize = parts.iter().map(|p| p.len()).sum();
        if length > FRAME_MAX {
            self.failed = Some(io::Error::other("a frame over 256 MiB cannot be recorded"));
            return;
        }
        let mut head = [0u8; 5];
        head[0] = kind;
        head[1..].copy_from_slice(&(length as u32).to_le_bytes());
        let result = self
            .out
            .write_all(&head)
            .and_then(|()| parts.iter().try_for_each(|p| self.out.write_all(p)));
        if let Err(e) = result {
            self.failed = Some(e);
        }
    }
}

fn with_recorder(write: impl FnOnce(&mut Recorder)) {
    if let Some(mut guard) = recorder()
        && let Some(recorder) = guard.as_mut()
    {
        write(recorder);
    }
}

/// A tick begins.
pub fn record_tick(stamp: &TickStamp) {
    with_recorder(|r| {
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX - 1);
        let unix = stamp.time.duration_since(UNIX_EPOCH).unwrap_or_default();
        let late = stamp.late.map_or(u64::MAX, nanos);
        r.frame(
            kind::TICK,
            &[
                &stamp.number.to_le_bytes(),
                &nanos(stamp.elapsed).to_le_bytes(),
                &(unix.as_millis() as u64).to_le_bytes(),
                &late.to_le_bytes(),
            ],
        );
    });
}

/// A /proc file as read (`None`: it does not exist).
pub fn record_file(relative: &str, contents: Option<&[u8]>) {
    with_recorder(|r| {
        let present = [u8::from(contents.is_some())];
        let length = (relative.len() as u16).to_le_bytes();
        r.frame(
            kind::FILE,
            &[
                &present,
                &length,
                relative.as_bytes(),
                contents.unwrap_or(&[]),
            ],
        );
    });
}

/// The tick's `-p` owner map.
pub fn record_owners(encoded: &[u8]) {
    with_recorder(|r| r.frame(kind::OWNERS, &[encoded]));
}

/// The tick is whole: its frames reach the file (a recording cut short
/// later still replays up to here).
pub fn end_tick() -> io::Result<()> {
    let Some(mut guard) = recorder() else {
        return Ok(());
    };
    let recorder = guard.as_mut().expect("checked by recorder()");
    recorder.frame(kind::END, &[]);
    if recorder.failed.is_none()
        && let Err(e) = recorder.out.flush()
    {
        recorder.failed = Some(e);
    }
    recorder.failed.take().map_or(Ok(()), Err)
}

/// Close the recording (the zstd stream's end and the file's).
pub fn finish_recording() -> io::Result<()> {
    let Some(slot) = RECORDER.get() else {
        return Ok(());
    };
    let Some(recorder) = slot.lock().unwrap_or_else(|e| e.into_inner()).take() else {
        return Ok(());
    };
    if let Some(e) = recorder.failed {
        return Err(e);
    }
    recorder.out.finish()?.flush()
}

/// A transport that records what another one sends and receives.
pub struct Tee {
    inner: Box<dyn Transport>,
    dump: u32,
}

impl Tee {
    pub fn new(inner: Box<dyn Transport>) -> Tee {
        Tee { inner, dump: 0 }
    }
}

impl Transport for Tee {
    fn send(&mut self, request: &[u8]) -> io::Result<()> {
        with_recorder(|r| {
            r.next_dump = r.next_dump.wrapping_add(1);
            self.dump = r.next_dump;
            let normal = normalized(request);
            r.frame(kind::DUMP, &[&self.dump.to_le_bytes(), &normal]);
        });
        self.inner.send(request)
    }

    fn recv(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let length = self.inner.recv(buffer)?;
        let datagram = &buffer[..length.min(buffer.len())];
        with_recorder(|r| r.frame(kind::DATA, &[&self.dump.to_le_bytes(), datagram]));
        Ok(length)
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.inner.reopen()
    }
}

/// A request with its sequence number and port id zeroed (they differ
/// from run to run and say nothing about what was asked).
fn normalized(request: &[u8]) -> Vec<u8> {
    let mut normal = request.to_vec();
    if let Some(ids) = normal.get_mut(8..16) {
        ids.fill(0);
    }
    normal
}

/// Why a recording cannot be replayed.
#[derive(Debug)]
pub enum TapeError {
    /// Not a recording, or from another version or byte order.
    Header(String),
    /// The file ends or breaks inside a tick.
    Damaged(String),
    Io(io::Error),
}

impl std::fmt::Display for TapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TapeError::Header(why) | TapeError::Damaged(why) => f.write_str(why),
            TapeError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// One recorded tick, whole in memory.
#[derive(Debug, Default)]
pub struct TickData {
    pub stamp: TickStamp,
    /// The recorded command line (for messages).
    recorded: Arc<str>,
    dumps: Vec<(u32, Vec<u8>)>,
    /// Datagrams with the dump they belong to, in the order received.
    datagrams: Vec<(u32, Vec<u8>)>,
    files: Vec<(String, Option<Vec<u8>>)>,
    pub owners: Option<Vec<u8>>,
}

/// Reads a recording tick by tick.
pub struct Player<R: Read> {
    input: R,
    /// The recorded command line (for messages).
    pub recorded_args: Arc<str>,
    ticks: u64,
}

/// A player over a file.
pub fn open(path: &Path) -> Result<Player<impl Read>, TapeError> {
    let file = File::open(path).map_err(TapeError::Io)?;
    Player::new(BufReader::with_capacity(1 << 20, file))
}

impl<R: Read> Player<zstd::stream::read::Decoder<'static, BufReader<R>>> {
    /// Check the header and read the recorded command line.
    pub fn new(mut input: R) -> Result<Self, TapeError> {
        let mut head = [0u8; 18];
        let got = read_full(&mut input, &mut head).map_err(TapeError::Io)?;
        let Some(rest) = head[..got].strip_prefix(MAGIC).filter(|r| r.len() == 4) else {
            return Err(TapeError::Header("not an nlstat recording".into()));
        };
        let version = u16::from_le_bytes([rest[0], rest[1]]);
        if version != VERSION {
            return Err(TapeError::Header(format!(
                "a recording of format version {version}; this nlstat reads version {VERSION}"
            )));
        }
        if rest[2] != HOST_ORDER || rest[3] != ZSTD {
            return Err(TapeError::Header(
                "a recording of another byte order or compression".into(),
            ));
        }
        let decoder = zstd::stream::read::Decoder::new(input).map_err(TapeError::Io)?;
        let mut player = Player {
            input: decoder,
            recorded_args: Arc::from(""),
            ticks: 0,
        };
        match player.frame()? {
            Some((kind::RUN, run)) => {
                let mut parts = run.split(|&b| b == 0);
                parts.next();
                // shown in error lines: control bytes would split them
                let args: Vec<String> = parts
                    .map(|a| {
                        String::from_utf8_lossy(a)
                            .chars()
                            .map(|c| if c.is_control() { '?' } else { c })
                            .collect()
                    })
                    .collect();
                player.recorded_args = args.join(" ").into();
            }
            _ => {
                return Err(TapeError::Damaged(
                    "the recording has no header frame".into(),
                ));
            }
        }
        Ok(player)
    }
}

impl<R: Read> Player<R> {
    /// The next frame; `None` at a clean end of the stream.
    fn frame(&mut self) -> Result<Option<(u8, Vec<u8>)>, TapeError> {
        let mut head = [0u8; 5];
        match read_full(&mut self.input, &mut head) {
            Ok(0) => return Ok(None),
            Ok(5) => {}
            Ok(_) => return Err(self.damaged("a frame header")),
            Err(_) => return Err(self.damaged("the compressed stream")),
        }
        let length = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
        // a frame is at most a datagram or a /proc file; refuse a length
        // no recording writes before allocating it
        if length > FRAME_MAX {
            return Err(self.damaged("a frame length"));
        }
        let mut payload = Vec::new();
        let read = (&mut self.input)
            .take(length as u64)
            .read_to_end(&mut payload)
            .map_err(|_| self.damaged("the compressed stream"))?;
        if read != length {
            return Err(self.damaged("a frame"));
        }
        Ok(Some((head[0], payload)))
    }

    fn damaged(&self, what: &str) -> TapeError {
        TapeError::Damaged(format!(
            "damaged recording: {what} breaks after tick {}",
            self.ticks
        ))
    }

    /// The next whole tick; `None` after the last. What was read between
    /// two ticks (a view reading its settings as it is made) belongs to
    /// the tick after it, as at replay it is read during that tick.
    pub fn next_tick(&mut self) -> Result<Option<TickData>, TapeError> {
        let mut tick = TickData {
            recorded: Arc::clone(&self.recorded_args),
            ..TickData::default()
        };
        let mut started = false;
        loop {
            let Some((kind, payload)) = self.frame()? else {
                if started {
                    return Err(self.damaged("the last tick"));
                }
                return Ok(None);
            };
            match kind {
                kind::TICK if !started && payload.len() == 32 => {
                    tick.stamp = stamp(&payload);
                    started = true;
                }
                kind::END if started => break,
                kind::DUMP | kind::DATA if payload.len() >= 4 => {
                    let id = u32::from_le_bytes([payload[0], payload[1], payload[2], payload[3]]);
                    let bytes = payload[4..].to_vec();
                    if kind == kind::DUMP {
                        tick.dumps.push((id, bytes));
                    } else {
                        tick.datagrams.push((id, bytes));
                    }
                }
                kind::FILE if payload.len() >= 3 => {
                    let length = usize::from(u16::from_le_bytes([payload[1], payload[2]]));
                    let Some(path) = payload.get(3..3 + length) else {
                        return Err(self.damaged("a file frame"));
                    };
                    let contents = (payload[0] == 1).then(|| payload[3 + length..].to_vec());
                    tick.files
                        .push((String::from_utf8_lossy(path).into_owned(), contents));
                }
                kind::OWNERS => tick.owners = Some(payload),
                _ => return Err(self.damaged("an unexpected frame")),
            }
        }
        self.ticks += 1;
        Ok(Some(tick))
    }
}

fn read_full(input: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buffer.len() {
        match input.read(&mut buffer[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn stamp(payload: &[u8]) -> TickStamp {
    let word = |i: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&payload[i * 8..i * 8 + 8]);
        u64::from_le_bytes(bytes)
    };
    TickStamp {
        number: word(0),
        time: UNIX_EPOCH + Duration::from_millis(word(2)),
        elapsed: Duration::from_nanos(word(1)),
        late: Some(word(3))
            .filter(|&late| late != u64::MAX)
            .map(Duration::from_nanos),
    }
}

/// Make `tick` the one collectors read from (the replay driver calls this
/// before each tick).
pub fn play(tick: Arc<TickData>) {
    let slot = PLAYING.get_or_init(|| Mutex::new(None));
    *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(tick);
}

fn playing() -> Option<Arc<TickData>> {
    PLAYING
        .get()?
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// At replay, a /proc file as the recording has it: `Err` when the
/// recording did not read it, `Ok(None)` when it did not exist then.
/// `None` when not replaying.
pub fn played_file(relative: &str) -> Option<Result<Option<Vec<u8>>, String>> {
    let tick = playing()?;
    Some(match tick.files.iter().find(|(path, _)| path == relative) {
        Some((_, contents)) => Ok(contents.clone()),
        None => {
            let why = format!("not in the recording (recorded: {})", tick.recorded);
            let mut missing = MISSING.lock().unwrap_or_else(|e| e.into_inner());
            missing.get_or_insert_with(|| format!("/proc/{relative}: {why}"));
            Err(why)
        }
    })
}

/// The clock rates are computed on: the recorded time since the run
/// started at replay (ticks are replayed back to back), else the time
/// since this process first asked.
pub fn tick_clock() -> std::time::Duration {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    match playing() {
        Some(tick) => tick.stamp.elapsed,
        None => START.get_or_init(std::time::Instant::now).elapsed(),
    }
}

/// The first /proc file a replayed tick wanted and the recording did not
/// hold, for readers that cannot fail (views' optional inputs): the
/// replay driver reports it after the tick.
static MISSING: Mutex<Option<String>> = Mutex::new(None);

/// Take the note of a /proc file the replayed tick lacked.
pub fn take_missing() -> Option<String> {
    MISSING.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// At replay, the recorded `-p` owner map (`None` when not replaying;
/// `Some(None)` when the recording has none).
pub fn played_owners() -> Option<Option<Vec<u8>>> {
    playing().map(|tick| tick.owners.clone())
}

const SOCK_DIAG_BY_FAMILY: u16 = 20;
const AF_UNIX: u8 = 1;
/// struct inet_diag_req_v2 and struct unix_diag_req.
const INET_REQUEST: usize = 56;
const UNIX_REQUEST: usize = 24;

/// What a sock_diag dump request asks for, read from its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Asked<'a> {
    family: u8,
    protocol: u8,
    states: u32,
    /// inet: the extensions byte; unix: the show flags.
    shown: u32,
    /// Everything else (a socket id, attributes such as a filter), which
    /// must be the same.
    rest: Vec<&'a [u8]>,
}

fn asked(request: &[u8]) -> Option<Asked<'_>> {
    let kind = u16::from_ne_bytes([*request.get(4)?, *request.get(5)?]);
    let body = request.get(NLMSG_HDRLEN..)?;
    if kind != SOCK_DIAG_BY_FAMILY {
        return None;
    }
    let word = |at: usize| {
        body.get(at..at + 4)
            .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    };
    if body.first() == Some(&AF_UNIX) {
        body.get(..UNIX_REQUEST)?;
        Some(Asked {
            family: AF_UNIX,
            protocol: body[1],
            states: word(4)?,
            shown: word(12)?,
            rest: vec![&body[8..12], &body[16..]],
        })
    } else {
        body.get(..INET_REQUEST)?;
        Some(Asked {
            family: body[0],
            protocol: body[1],
            states: word(4)?,
            shown: u32::from(body[2]),
            rest: vec![&body[8..]],
        })
    }
}

impl TickData {
    /// Which recorded dump answers `request`: one of the same request, or
    /// one that asked for more states and extensions (its records of other
    /// states then left out as they are handed over).
    fn answer(&self, request: &[u8]) -> Result<Answer, String> {
        let normal = normalized(request);
        // the last of equal requests: a dump the kernel interrupted
        // (NLM_F_DUMP_INTR) was asked again, and the later one is whole
        if let Some((id, _)) = self.dumps.iter().rev().find(|(_, r)| *r == normal) {
            return Ok(Answer {
                dump: *id,
                only: None,
            });
        }
        let wanted = asked(&normal).ok_or("not a sock_diag dump request")?;
        for (id, recorded) in self.dumps.iter().rev() {
            let Some(had) = asked(recorded) else { continue };
            if had.family == wanted.family
                && had.protocol == wanted.protocol
                && had.rest == wanted.rest
                && had.states & wanted.states == wanted.states
                && had.shown & wanted.shown == wanted.shown
            {
                let state_at = if wanted.family == AF_UNIX { 2 } else { 1 };
                return Ok(Answer {
                    dump: *id,
                    only: Some((wanted.states, state_at)),
                });
            }
        }
        Err(format!(
            "tick {} of the recording holds no {} sockets of these states and \
             extensions (recorded: {})",
            self.stamp.number,
            describe(&wanted),
            self.recorded
        ))
    }

    /// The next datagram of `answer` at or after `cursor` (moved past
    /// it). A datagram left with no message by the state filter is
    /// skipped: the kernel never sends an empty one.
    fn next_datagram(&self, answer: &Answer, cursor: &mut usize) -> Option<Cow<'_, [u8]>> {
        while let Some((of, datagram)) = self.datagrams.get(*cursor) {
            *cursor += 1;
            if *of != answer.dump {
                continue;
            }
            match answer.only {
                None => return Some(Cow::Borrowed(datagram)),
                Some((states, state_at)) => {
                    let kept = only_states(datagram, states, state_at);
                    if !kept.is_empty() {
                        return Some(Cow::Owned(kept));
                    }
                }
            }
        }
        None
    }

    /// Every datagram answering `request` (tests and the fuzz target).
    #[cfg(any(fuzzing, test))]
    fn answer_all(&self, request: &[u8]) -> Result<Vec<Vec<u8>>, String> {
        let answer = self.answer(request)?;
        let mut cursor = 0;
        Ok(
            std::iter::from_fn(|| self.next_datagram(&answer, &mut cursor))
                .map(Cow::into_owned)
                .collect(),
        )
    }
}

/// The recorded dump that answers a request, and the states kept of it.
#[derive(Debug, Clone, Copy)]
struct Answer {
    dump: u32,
    only: Option<(u32, usize)>,
}

fn describe(asked: &Asked) -> String {
    let family = match asked.family {
        AF_UNIX => return "unix".into(),
        2 => "IPv4 ",
        10 => "IPv6 ",
        _ => "",
    };
    let protocol = match asked.protocol {
        6 => "TCP".to_string(),
        17 => "UDP".to_string(),
        136 => "UDP-Lite".to_string(),
        255 => "raw".to_string(),
        other => format!("protocol {other}"),
    };
    format!("{family}{protocol}")
}

/// A datagram without the records whose state (the byte at `state_at` of
/// the payload) is not in `states`; control messages stay.
fn only_states(datagram: &[u8], states: u32, state_at: usize) -> Vec<u8> {
    let mut kept = Vec::with_capacity(datagram.len());
    let mut offset = 0;
    while let Some(header) = datagram.get(offset..offset + NLMSG_HDRLEN) {
        let size = u32::from_ne_bytes([header[0], header[1], header[2], header[3]]) as usize;
        let kind = u16::from_ne_bytes([header[4], header[5]]);
        let end = (offset + size.max(NLMSG_HDRLEN)).min(datagram.len());
        let aligned = ((offset + size.max(NLMSG_HDRLEN) + 3) & !3).min(datagram.len());
        let state = datagram.get(offset + NLMSG_HDRLEN + state_at).copied();
        let keep =
            kind != SOCK_DIAG_BY_FAMILY || state.is_some_and(|s| s < 32 && states & (1 << s) != 0);
        if keep {
            kept.extend_from_slice(&datagram[offset..aligned]);
        }
        if end >= datagram.len() {
            break;
        }
        offset = aligned;
    }
    kept
}

/// A sock_diag "socket" answered from the tick being replayed: the
/// datagrams are copied from the tick into each receive buffer, as the
/// kernel would fill it (the tick is not copied again).
#[derive(Default)]
pub struct Played {
    answering: Option<(Arc<TickData>, Answer)>,
    cursor: usize,
    sequence: u32,
}

impl Transport for Played {
    fn send(&mut self, request: &[u8]) -> io::Result<()> {
        if let Some(sequence) = request.get(8..12) {
            self.sequence =
                u32::from_ne_bytes([sequence[0], sequence[1], sequence[2], sequence[3]]);
        }
        self.answering = None;
        self.cursor = 0;
        let tick = playing().ok_or_else(|| io::Error::other("no tick is being replayed"))?;
        let answer = tick.answer(request).map_err(io::Error::other)?;
        self.answering = Some((tick, answer));
        Ok(())
    }

    fn recv(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let datagram = self
            .answering
            .as_ref()
            .and_then(|(tick, answer)| tick.next_datagram(answer, &mut self.cursor));
        let Some(datagram) = datagram else {
            return Err(io::Error::other(
                "the recorded dump ends without NLMSG_DONE",
            ));
        };
        let length = datagram.len().min(buffer.len());
        buffer[..length].copy_from_slice(&datagram[..length]);
        // the replies answer this run's request
        super::netlink::renumber(&mut buffer[..length], self.sequence);
        Ok(length)
    }

    fn reopen(&mut self) -> io::Result<()> {
        self.answering = None;
        Ok(())
    }
}

/// A recording read whole, every tick answering a few requests (the fuzz
/// target's body): `framed` is an uncompressed frame stream to be
/// wrapped in a valid header and zstd stream first, so the fuzzer reaches
/// the frame reader without having to find zstd's format.
#[cfg(any(fuzzing, test))]
pub fn read_all(data: &[u8], framed: bool) {
    let file;
    let bytes = if framed {
        let mut whole = header();
        whole.extend_from_slice(&zstd::encode_all(data, 1).unwrap_or_default());
        file = whole;
        &file[..]
    } else {
        data
    };
    let Ok(mut player) = Player::new(bytes) else {
        return;
    };
    let requests: Vec<Vec<u8>> = [(2u8, 6u8), (10, 6), (0, 6), (2, 17), (1, 0)]
        .iter()
        .map(|&(family, protocol)| {
            let mut body = vec![family, protocol, 0xff, 0];
            body.extend_from_slice(&u32::MAX.to_ne_bytes());
            body.extend_from_slice(&[0; 48]);
            let mut request = ((NLMSG_HDRLEN + body.len()) as u32).to_ne_bytes().to_vec();
            request.extend_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
            request.extend_from_slice(&[0; 10]);
            request.extend_from_slice(&body);
            request
        })
        .collect();
    while let Ok(Some(tick)) = player.next_tick() {
        for request in &requests {
            let _ = tick.answer_all(request);
        }
        if let Some(owners) = &tick.owners {
            let _ = crate::enrich::processes::ProcessIndex::decode_owners(owners);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u16, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&((NLMSG_HDRLEN + payload.len()) as u32).to_ne_bytes());
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(&2u16.to_ne_bytes());
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(payload);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out
    }

    fn inet_request(states: u32, ext: u8) -> Vec<u8> {
        let mut body = vec![2u8, 6, ext, 0];
        body.extend_from_slice(&states.to_ne_bytes());
        body.extend_from_slice(&[0; 48]);
        let mut request = message(SOCK_DIAG_BY_FAMILY, &body);
        request[8..16].copy_from_slice(&[7; 8]);
        request
    }

    fn record(state: u8) -> Vec<u8> {
        let mut payload = vec![2u8, state];
        payload.extend_from_slice(&[0; 70]);
        message(SOCK_DIAG_BY_FAMILY, &payload)
    }

    fn tick(recorded: &[u8], datagram: Vec<u8>) -> TickData {
        TickData {
            dumps: vec![(1, normalized(recorded))],
            datagrams: vec![(1, datagram)],
            ..TickData::default()
        }
    }

    #[test]
    fn the_same_request_gets_the_recorded_datagrams() {
        let datagram = [record(1), record(10)].concat();
        let tick = tick(&inet_request(u32::MAX, 0), datagram.clone());
        let mut asked_again = inet_request(u32::MAX, 0);
        asked_again[8..12].copy_from_slice(&99u32.to_ne_bytes());
        assert_eq!(tick.answer_all(&asked_again).unwrap(), vec![datagram]);
    }

    #[test]
    fn fewer_states_leave_the_other_records_out() {
        let datagram = [record(1), record(10), record(1)].concat();
        let tick = tick(&inet_request(u32::MAX, 0), datagram);
        let listening = tick.answer_all(&inet_request(1 << 10, 0)).unwrap();
        assert_eq!(listening, vec![record(10)]);
    }

    #[test]
    fn more_states_or_extensions_than_recorded_are_refused() {
        let tick = tick(&inet_request(1 << 10, 0), record(10));
        let why = tick.answer_all(&inet_request(u32::MAX, 0)).unwrap_err();
        assert!(why.contains("no IPv4 TCP sockets"), "{why}");
        let tick2 = TickData {
            dumps: vec![(1, normalized(&inet_request(u32::MAX, 0)))],
            ..TickData::default()
        };
        assert!(tick2.answer_all(&inet_request(u32::MAX, 2)).is_err());
    }

    /// The recorded fixture (tests/fixtures/README.md): two ticks, each
    /// with its TCP, UDP and unix dumps, the owner map and no /proc file.
    #[test]
    fn the_recorded_fixture_reads_whole() {
        let bytes = include_bytes!("../../tests/fixtures/replay/tuxanp-info.rec");
        let mut player = Player::new(&bytes[..]).unwrap();
        assert!(player.recorded_args.contains("-tuxanp --info"));
        let mut ticks = 0;
        while let Some(tick) = player.next_tick().unwrap() {
            ticks += 1;
            assert_eq!(tick.stamp.number, ticks);
            let owners = tick.owners.as_deref().expect("-p was recorded");
            let index = crate::enrich::processes::ProcessIndex::decode_owners(owners).unwrap();
            assert!(!index.is_empty());
            let kinds = |datagram: &[u8]| {
                let mut kinds = Vec::new();
                let mut at = 0;
                while at + NLMSG_HDRLEN <= datagram.len() {
                    let size = u32::from_ne_bytes(datagram[at..at + 4].try_into().unwrap());
                    let state = datagram.get(at + NLMSG_HDRLEN + 1).copied();
                    kinds.push((
                        u16::from_ne_bytes([datagram[at + 4], datagram[at + 5]]),
                        state,
                    ));
                    at += (size as usize + 3) & !3;
                }
                kinds
            };
            let mut narrowed = 0;
            for (id, request) in &tick.dumps {
                // every dump ends with NLMSG_DONE (type 3)
                let last = tick
                    .datagrams
                    .iter()
                    .rev()
                    .find(|(of, _)| of == id)
                    .unwrap();
                assert!(kinds(&last.1).iter().any(|(kind, _)| *kind == 3));
                // asked again for listeners only: LISTEN records alone
                let asked = asked(request).unwrap();
                if asked.family == AF_UNIX || asked.protocol != 6 {
                    continue;
                }
                let mut listeners = request.clone();
                let at = NLMSG_HDRLEN + 4;
                listeners[at..at + 4].copy_from_slice(&(1u32 << 10).to_ne_bytes());
                let records: Vec<_> = tick
                    .answer_all(&listeners)
                    .unwrap()
                    .iter()
                    .flat_map(|d| kinds(d))
                    .filter(|(kind, _)| *kind == SOCK_DIAG_BY_FAMILY)
                    .collect();
                assert!(!records.is_empty());
                assert!(records.iter().all(|(_, state)| *state == Some(10)));
                narrowed += 1;
            }
            assert!(narrowed > 0, "a TCP dump in each tick");
        }
        assert_eq!(ticks, 2);
        read_all(bytes, false);
        read_all(
            include_bytes!("../../tests/fixtures/replay/tuxanp-info.frames"),
            true,
        );
    }

    #[test]
    fn a_recording_round_trips_and_damage_is_an_error() {
        let mut bytes = header();
        let mut frames = Vec::new();
        let mut frame = |kind: u8, payload: &[u8]| {
            frames.push(kind);
            frames.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            frames.extend_from_slice(payload);
        };
        frame(kind::RUN, b"0.1.0\0-tan");
        frame(kind::TICK, &[[1u8; 8], [0; 8], [0; 8], [0xff; 8]].concat());
        frame(kind::FILE, &[&[1u8, 3, 0][..], b"a/b", b"text"].concat());
        frame(kind::END, &[]);
        bytes.extend_from_slice(&zstd::encode_all(&frames[..], 1).unwrap());
        let mut player = Player::new(&bytes[..]).unwrap();
        assert_eq!(&*player.recorded_args, "-tan");
        let tick = player.next_tick().unwrap().unwrap();
        assert_eq!(tick.stamp.late, None);
        assert_eq!(tick.files, vec![("a/b".into(), Some(b"text".to_vec()))]);
        assert!(player.next_tick().unwrap().is_none());
        // cut inside the compressed stream: an error, never a panic
        for cut in [MAGIC.len() + 2, bytes.len() / 2, bytes.len() - 3] {
            let result = Player::new(&bytes[..cut]).and_then(|mut p| p.next_tick());
            assert!(result.is_err(), "cut at {cut}");
        }
        let mut other = bytes.clone();
        other[MAGIC.len()] = 9;
        let Err(TapeError::Header(why)) = Player::new(&other[..]) else {
            panic!("another version is refused");
        };
        assert!(why.contains("version 9"), "{why}");
    }
}
