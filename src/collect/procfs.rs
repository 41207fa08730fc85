//! /proc/net text, the way net-tools reads it: the fallback for protocols
//! the kernel has no diag module for, and the whole source under
//! `--source proc`.

use crate::error::{Error, ParseError, Result};
use crate::model::{
    InetProto, InetSocket, SO_ACCEPTCON, UnixPath, UnixSocket, ss_state, tcp_state,
};
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

/// Where /proc is; tests point it elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcRoot(pub PathBuf);

impl Default for ProcRoot {
    fn default() -> Self {
        ProcRoot(PathBuf::from("/proc"))
    }
}

/// Whether this kernel has /proc/thread-self (Linux 3.17 and later).
/// A process-wide cache of a fact about the kernel, asked for every
/// /proc/net path.
fn has_thread_self() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| Path::new("/proc/thread-self").exists())
}

impl ProcRoot {
    /// The path to open for a /proc entry. /proc/net is a link to the
    /// thread-group leader's view (/proc/self/net), but a thread may have
    /// joined another network namespace (`--all-netns`), so `net/...` of
    /// the real /proc is opened through /proc/thread-self/net: the calling
    /// thread's own namespace, whichever that is. (/proc/sys/net needs no
    /// such care: it shows the opening thread's namespace already.)
    pub fn path(&self, relative: &str) -> PathBuf {
        if relative.starts_with("net/") && self.0 == Path::new("/proc") && has_thread_self() {
            return self.0.join("thread-self").join(relative);
        }
        self.0.join(relative)
    }

    /// The path messages name (`/proc/net/snmp`, as netstat says it).
    pub fn shown(&self, relative: &str) -> PathBuf {
        self.0.join(relative)
    }

    /// Read a whole file into `buffer` (reused across calls). `Ok(false)`
    /// when the file does not exist.
    /// Under `--replay` the file comes from the recording; under
    /// `--record` what was read is recorded.
    pub fn read_into(&self, relative: &str, buffer: &mut Vec<u8>) -> Result<bool> {
        let shown = || self.shown(relative).display().to_string();
        buffer.clear();
        if let Some(played) = super::tape::played_file(relative) {
            return match played {
                Ok(Some(contents)) => {
                    buffer.extend_from_slice(&contents);
                    Ok(true)
                }
                Ok(None) => Ok(false),
                Err(why) => Err(Error::file(shown(), std::io::Error::other(why))),
            };
        }
        let found = match std::fs::File::open(self.path(relative)) {
            Ok(mut file) => {
                file.read_to_end(buffer)
                    .map_err(|e| Error::file(shown(), e))?;
                true
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(Error::file(shown(), e)),
        };
        super::tape::record_file(relative, found.then_some(&buffer[..]));
        Ok(found)
    }

    /// A whole file, `None` when it cannot be read (for the views'
    /// optional inputs), through [`read_into`](Self::read_into).
    pub fn read_bytes(&self, relative: &str) -> Option<Vec<u8>> {
        let mut buffer = Vec::new();
        match self.read_into(relative, &mut buffer) {
            Ok(true) => Some(buffer),
            _ => None,
        }
    }

    /// [`read_bytes`](Self::read_bytes) as text.
    pub fn read_text(&self, relative: &str) -> Option<String> {
        String::from_utf8(self.read_bytes(relative)?).ok()
    }
}

fn hex(field: &[u8]) -> Option<u64> {
    if field.is_empty() || field.len() > 16 {
        return None;
    }
    let mut value = 0u64;
    for &b in field {
        let digit = (b as char).to_digit(16)?;
        value = (value << 4) | u64::from(digit);
    }
    Some(value)
}

fn decimal(field: &[u8]) -> Option<u64> {
    let (negative, digits) = match field.first() {
        Some(b'-') => (true, &field[1..]),
        _ => (false, field),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value = 0u64;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    // netstat reads these with %d into an int: a negative value wraps.
    Some(if negative {
        (value as i64).wrapping_neg() as u64
    } else {
        value
    })
}

/// `ADDR:PORT` as the kernel prints it: the address in 32-bit words of
/// host byte order.
fn address_port(field: &[u8]) -> Option<(IpAddr, u16)> {
    let colon = field.iter().position(|&b| b == b':')?;
    let (addr, port) = (&field[..colon], &field[colon + 1..]);
    let port = hex(port)? as u16;
    let ip = match addr.len() {
        8 => IpAddr::V4(Ipv4Addr::from((hex(addr)? as u32).to_ne_bytes())),
        32 => {
            let mut octets = [0u8; 16];
            for word in 0..4 {
                let value = hex(&addr[word * 8..word * 8 + 8])? as u32;
                octets[word * 4..word * 4 + 4].copy_from_slice(&value.to_ne_bytes());
            }
            IpAddr::V6(Ipv6Addr::from(octets))
        }
        _ => return None,
    };
    Some((ip, port))
}

/// Split on ASCII whitespace without allocating.
pub fn fields(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|b| b.is_ascii_whitespace())
        .filter(|f| !f.is_empty())
}

fn saturate_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

const INET_LINE: &str = "/proc/net socket table line";

fn bad_inet(problem: &'static str) -> ParseError {
    ParseError::new(INET_LINE, problem)
}

/// `LOW:HIGH` hex pair of a queue or timer field.
fn hex_pair(field: &[u8]) -> Option<(u64, u64)> {
    let colon = field.iter().position(|&b| b == b':')?;
    Some((hex(&field[..colon])?, hex(&field[colon + 1..])?))
}

/// Parse one data line of /proc/net/{tcp,udp,udplite,raw}[6]. An error
/// (naming the field) for a line netstat would call bogus.
pub fn parse_inet_line(
    proto: InetProto,
    line: &[u8],
) -> std::result::Result<InetSocket, ParseError> {
    let mut f = fields(line);
    let mut next = |what| f.next().ok_or(bad_inet(what));
    let _slot = next("no slot number")?;
    let (local, local_port) =
        address_port(next("no local address")?).ok_or(bad_inet("bad local address"))?;
    let (remote, remote_port) =
        address_port(next("no remote address")?).ok_or(bad_inet("bad remote address"))?;
    let state = hex(next("no state")?).ok_or(bad_inet("bad state"))? as u8;
    let (send_q, recv_q) = hex_pair(next("no queues")?).ok_or(bad_inet("bad queues"))?;
    let (send_q, recv_q) = (saturate_u32(send_q), saturate_u32(recv_q));
    let (timer, timer_ticks) = hex_pair(next("no timer")?).ok_or(bad_inet("bad timer"))?;
    let (timer, timer_ticks) = (timer as u8, saturate_u32(timer_ticks));
    let retransmits = hex(next("no retransmits")?)
        .ok_or(bad_inet("bad retransmits"))?
        .min(u64::from(u8::MAX)) as u8;
    let uid = f.next().and_then(decimal).unwrap_or(0) as u32;
    let probes = f
        .next()
        .and_then(decimal)
        .unwrap_or(0)
        .min(u64::from(u8::MAX)) as u8;
    let inode = f.next().and_then(decimal).unwrap_or(0);
    Ok(InetSocket {
        proto,
        state,
        local,
        local_port,
        remote,
        remote_port,
        recv_q,
        send_q,
        uid,
        inode,
        timer,
        timer_ticks,
        retransmits,
        probes,
        backlog: 0,
    })
}

/// Parse one data line of /proc/net/unix. The name is the rest of the
/// line (the kernel prints it raw after one space), so a name with blanks
/// stays whole; netstat's own reading stops at the first blank, which the
/// text renderer reproduces.
pub fn parse_unix_line(line: &[u8]) -> std::result::Result<UnixSocket<'_>, ParseError> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let mut rest = line;
    let mut next_field = || {
        let start = rest.iter().position(|b| !b.is_ascii_whitespace())?;
        let field = &rest[start..];
        let end = field
            .iter()
            .position(|b| b.is_ascii_whitespace())
            .unwrap_or(field.len());
        rest = &field[end..];
        Some(&field[..end])
    };
    let bad = || ParseError::new("/proc/net/unix line", "a field is missing or not hex");
    let _pointer = next_field().ok_or_else(bad)?;
    let mut number = || next_field().and_then(hex).ok_or_else(bad);
    let refcnt = number()? as u32;
    let _protocol = number()?;
    let flags = number()? as u32;
    let sock_type = number()? as u32;
    let state = number()? as u32;
    let inode = next_field().and_then(decimal).unwrap_or(0);
    let path = rest
        .strip_prefix(b" ")
        .filter(|name| !name.is_empty())
        .map(UnixPath::Text);
    // sk_state as sock_diag would report it (ss's reading of /proc too)
    let kernel_state = if flags & SO_ACCEPTCON != 0 {
        tcp_state::LISTEN
    } else {
        match state {
            s if s == u32::from(ss_state::CONNECTED) => tcp_state::ESTABLISHED,
            s if s == u32::from(ss_state::CONNECTING) => tcp_state::SYN_SENT,
            s if s == u32::from(ss_state::DISCONNECTING) => tcp_state::CLOSING,
            _ => tcp_state::CLOSE,
        }
    };
    Ok(UnixSocket {
        refcnt,
        flags,
        sock_type,
        state,
        inode,
        path,
        kernel_state,
        peer: None,
        skmem: &[],
    })
}

/// Call `each` for every socket line of an inet table file (after the
/// header line). Returns false when the file does not exist.
pub fn for_each_inet(
    root: &ProcRoot,
    proto: InetProto,
    v6: bool,
    buffer: &mut Vec<u8>,
    each: impl FnMut(&InetSocket) -> Result<()>,
) -> Result<bool> {
    if !root.read_into(proto.proc_file(v6), buffer)? {
        return Ok(false);
    }
    inet_lines(proto, buffer, each)?;
    Ok(true)
}

/// Call `each` for every socket line of an inet table's text (after the
/// header line); a line that does not parse gets netstat's warning and the
/// rest of the table goes on.
pub fn inet_lines(
    proto: InetProto,
    text: &[u8],
    mut each: impl FnMut(&InetSocket) -> Result<()>,
) -> Result<()> {
    for line in text.split(|&b| b == b'\n').skip(1) {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_inet_line(proto, line) {
            Ok(socket) => each(&socket)?,
            // netstat's message, which names no field
            Err(_) => {
                let name = match proto {
                    InetProto::Tcp => "tcp",
                    InetProto::Raw => "raw",
                    _ => "udp",
                };
                eprintln!("warning, got bogus {name} line.");
            }
        }
    }
    Ok(())
}

/// Read /proc/net/unix into `buffer`; false when it does not exist.
pub fn read_unix(root: &ProcRoot, buffer: &mut Vec<u8>) -> Result<bool> {
    root.read_into("net/unix", buffer)
}

/// Iterate the socket lines of /proc/net/unix text.
pub fn unix_lines(
    buffer: &[u8],
) -> impl Iterator<Item = std::result::Result<UnixSocket<'_>, ParseError>> {
    buffer
        .split(|&b| b == b'\n')
        .skip(1)
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .map(parse_unix_line)
}

/// The path of a /proc entry, for error messages.
pub fn display(root: &ProcRoot, relative: &str) -> String {
    root.shown(relative).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_line() {
        let line = b"   0: 0100007F:0016 0200007F:D2F2 01 00000004:000004D2 02:00001234 00000003  1000        5 5533 1 0000000000000000 100 0 0 10 0";
        let s = parse_inet_line(InetProto::Tcp, line).unwrap();
        assert_eq!(s.local, "127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(s.local_port, 22);
        assert_eq!(s.remote, "127.0.0.2".parse::<IpAddr>().unwrap());
        assert_eq!(s.remote_port, 0xD2F2);
        assert_eq!((s.send_q, s.recv_q), (4, 1234));
        assert_eq!((s.timer, s.timer_ticks, s.retransmits), (2, 0x1234, 3));
        assert_eq!((s.uid, s.probes, s.inode), (1000, 5, 5533));
    }

    #[test]
    fn tcp6_line() {
        let line = b"   1: 00000000000000000000000001000000:01BB 0000000000000000FFFF00000100007F:1F90 0A 00000000:00000000 00:00000000 00000000     0        0 5537 1 0000000000000000 100 0 0 10 0";
        let s = parse_inet_line(InetProto::Tcp, line).unwrap();
        assert_eq!(s.local, "::1".parse::<IpAddr>().unwrap());
        assert_eq!(s.remote, "::ffff:127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(s.local_port, 443);
    }

    #[test]
    fn unix_lines_with_and_without_path() {
        let text = b"Num       RefCount Protocol Flags    Type St Inode Path\n\
0000000000000000: 00000002 00000000 00010000 0001 01  5570 /tmp/x/stream.sock\n\
0000000000000000: 00000003 00000000 00000000 0001 03  5590\n\
0000000000000000: 00000002 00000000 00000000 0002 01  5588 /tmp/with space\n";
        let sockets: Vec<_> = unix_lines(text).map(std::result::Result::unwrap).collect();
        assert_eq!(sockets.len(), 3);
        assert_eq!(sockets[0].flags, crate::model::SO_ACCEPTCON);
        assert_eq!(sockets[0].path, Some(UnixPath::Text(b"/tmp/x/stream.sock")));
        assert_eq!(
            (sockets[1].refcnt, sockets[1].state, sockets[1].path),
            (3, 3, None)
        );
        // the whole name; the netstat renderer cuts it at the blank
        assert_eq!(sockets[2].path, Some(UnixPath::Text(b"/tmp/with space")));
    }

    #[test]
    fn bogus_lines_name_what_is_wrong() {
        let error = parse_inet_line(InetProto::Udp, b"   0: zz").unwrap_err();
        assert_eq!(error.problem, "bad local address");
        let cut = b"   0: 0100007F:0016 0200007F:D2F2 01 00000004:000004D2 02:0000";
        assert!(parse_inet_line(InetProto::Tcp, cut).is_err());
        assert!(parse_unix_line(b"0000000000000000: 00000002 0000").is_err());
    }
}
