//! `--json`: JSON Lines, one object per row, written into one reused line
//! buffer so that a row costs no heap allocation.
//!
//! Strings are escaped so that every line is valid JSON and safe on a
//! terminal: `"` and `\` as usual, C0 controls, DEL and the C1 controls
//! (U+0080..U+009F) and U+2028/U+2029 as `\uXXXX`; bytes that are not
//! UTF-8 (a unix path or a process name can hold any byte) are written as
//! the four characters `\xNN`, so nothing is dropped or replaced.

use crate::config::Config;
use crate::enrich::names::{NameCache, ServiceTable};
use crate::enrich::processes::ProcessIndex;
use crate::model::{InetProto, InetSocket, SocketExt, StateWord, UnixSocket};
use crate::text::{Ipv6Text, Text, format_ipv4, format_ipv6};
use std::io::{self, Write};
use std::net::IpAddr;

/// One JSON object being built: `begin`, fields, `end`. A clone keeps the
/// tick's label (see [`JsonLine::for_tick`]).
#[derive(Clone)]
pub struct JsonLine {
    buffer: Vec<u8>,
    /// The next field is the first of a nested object: no comma before it.
    fresh_object: bool,
    /// The fields every object of this tick starts with (the namespace
    /// under `--all-netns`), made once per tick by [`JsonLine::for_tick`].
    label: Vec<u8>,
}

impl Default for JsonLine {
    fn default() -> Self {
        Self::new()
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl JsonLine {
    pub fn new() -> Self {
        JsonLine {
            buffer: Vec::with_capacity(512),
            fresh_object: false,
            label: Vec::new(),
        }
    }

    /// A line whose objects carry the tick's label (see [`for_tick`](Self::for_tick)).
    pub fn of_tick(tick: &crate::model::Tick) -> Self {
        let mut line = JsonLine::new();
        line.for_tick(tick);
        line
    }

    /// Label the objects of this tick: with `--all-netns` each starts with
    /// `"netns"` and `"netns_inode"`, ahead of `kind`.
    pub fn for_tick(&mut self, tick: &crate::model::Tick) -> &mut Self {
        self.label.clear();
        if tick.labelled {
            self.label.extend_from_slice(b"\"netns\":");
            push_string(&mut self.label, tick.netns_key.as_bytes());
            self.label.extend_from_slice(b",\"netns_inode\":");
            push_u64(&mut self.label, tick.netns_inode);
            self.label.push(b',');
        }
        self
    }

    /// Start an object with its `kind` (after the tick's label).
    pub fn begin(&mut self, kind: &str) -> &mut Self {
        self.buffer.clear();
        self.fresh_object = false;
        self.buffer.push(b'{');
        self.buffer.extend_from_slice(&self.label);
        self.buffer.extend_from_slice(b"\"kind\":\"");
        self.buffer.extend_from_slice(kind.as_bytes());
        self.buffer.push(b'"');
        self
    }

    fn key(&mut self, name: &str) {
        if self.fresh_object {
            self.fresh_object = false;
            self.buffer.push(b'"');
        } else {
            self.buffer.extend_from_slice(b",\"");
        }
        self.buffer.extend_from_slice(name.as_bytes());
        self.buffer.extend_from_slice(b"\":");
    }

    pub fn u64(&mut self, name: &str, value: u64) -> &mut Self {
        self.key(name);
        push_u64(&mut self.buffer, value);
        self
    }

    pub fn i64(&mut self, name: &str, value: i64) -> &mut Self {
        self.key(name);
        if value < 0 {
            self.buffer.push(b'-');
        }
        push_u64(&mut self.buffer, value.unsigned_abs());
        self
    }

    pub fn opt_u64(&mut self, name: &str, value: Option<u64>) -> &mut Self {
        match value {
            Some(v) => self.u64(name, v),
            None => self.null(name),
        }
    }

    /// A count of hundredths as a decimal number (`7166.60`).
    pub fn hundredths(&mut self, name: &str, value: u64) -> &mut Self {
        self.key(name);
        push_u64(&mut self.buffer, value / 100);
        self.buffer.push(b'.');
        let cents = (value % 100) as u8;
        self.buffer.push(b'0' + cents / 10);
        self.buffer.push(b'0' + cents % 10);
        self
    }

    /// A count of thousandths as a decimal number (`2.005`).
    pub fn thousandths(&mut self, name: &str, value: u64) -> &mut Self {
        self.key(name);
        push_u64(&mut self.buffer, value / 1000);
        self.buffer.push(b'.');
        let rest = value % 1000;
        for d in [100, 10, 1] {
            self.buffer.push(b'0' + (rest / d % 10) as u8);
        }
        self
    }

    /// Seconds since the epoch with microseconds.
    pub fn time(&mut self, name: &str, time: std::time::SystemTime) -> &mut Self {
        let since = time
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        self.key(name);
        push_u64(&mut self.buffer, since.as_secs());
        let mut micros: Text<8> = Text::new();
        micros.push_u64(u64::from(since.subsec_micros()) + 1_000_000);
        self.buffer.push(b'.');
        self.buffer.extend_from_slice(&micros.as_bytes()[1..]);
        self
    }

    pub fn bool(&mut self, name: &str, value: bool) -> &mut Self {
        self.key(name);
        self.buffer
            .extend_from_slice(if value { b"true" } else { b"false" });
        self
    }

    pub fn null(&mut self, name: &str) -> &mut Self {
        self.key(name);
        self.buffer.extend_from_slice(b"null");
        self
    }

    /// A string field; any bytes (see the module doc for the escaping).
    pub fn str(&mut self, name: &str, value: impl AsRef<[u8]>) -> &mut Self {
        self.key(name);
        push_string(&mut self.buffer, value.as_ref());
        self
    }

    /// A string field, or `null` for `None`.
    pub fn opt_str(&mut self, name: &str, value: Option<impl AsRef<[u8]>>) -> &mut Self {
        match value {
            Some(v) => self.str(name, v),
            None => self.null(name),
        }
    }

    /// An address in its numeric form (glibc's inet_ntop text).
    pub fn ip(&mut self, name: &str, address: IpAddr) -> &mut Self {
        let mut text: Text<48> = Text::new();
        match address {
            IpAddr::V4(v4) => format_ipv4(v4, &mut text),
            IpAddr::V6(v6) => format_ipv6(v6, &mut text),
        }
        self.key(name);
        self.buffer.push(b'"');
        self.buffer.extend_from_slice(text.as_bytes());
        self.buffer.push(b'"');
        self
    }

    /// An address, or `null` for `None`.
    pub fn opt_ip(&mut self, name: &str, address: Option<IpAddr>) -> &mut Self {
        match address {
            Some(a) => self.ip(name, a),
            None => self.null(name),
        }
    }

    /// An array of strings.
    pub fn str_array<'a>(
        &mut self,
        name: &str,
        values: impl IntoIterator<Item = &'a str>,
    ) -> &mut Self {
        self.key(name);
        self.buffer.push(b'[');
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.buffer.push(b',');
            }
            push_string(&mut self.buffer, value.as_bytes());
        }
        self.buffer.push(b']');
        self
    }

    /// Start a nested array of objects, each opened with
    /// [`object_begin`](Self::object_begin) and closed with
    /// [`object_end`](Self::object_end); close the array with
    /// [`array_end`](Self::array_end).
    pub fn array_begin(&mut self, name: &str) -> &mut Self {
        self.key(name);
        self.buffer.push(b'[');
        self
    }

    /// Open one object of the current array.
    pub fn object_begin(&mut self, first: bool) -> &mut Self {
        if !first {
            self.buffer.push(b',');
        }
        self.buffer.push(b'{');
        self.fresh_object = true;
        self
    }

    pub fn object_end(&mut self) -> &mut Self {
        // an object with no field leaves no first field pending
        self.fresh_object = false;
        self.buffer.push(b'}');
        self
    }

    pub fn array_end(&mut self) -> &mut Self {
        self.buffer.push(b']');
        self
    }

    /// Start a nested object as the field `name`; fields follow, then
    /// [`object_field_end`](Self::object_field_end).
    pub fn object_field(&mut self, name: &str) -> &mut Self {
        self.key(name);
        self.buffer.push(b'{');
        self.fresh_object = true;
        self
    }

    /// Close the object [`object_field`](Self::object_field) opened (an
    /// empty one too: the next field still gets its comma).
    pub fn object_field_end(&mut self) -> &mut Self {
        self.buffer.push(b'}');
        self.fresh_object = false;
        self
    }

    /// Close the object and write it as one line.
    pub fn end(&mut self, out: &mut (impl Write + ?Sized)) -> io::Result<()> {
        self.buffer.extend_from_slice(b"}\n");
        out.write_all(&self.buffer)
    }
}

fn push_u64(buffer: &mut Vec<u8>, value: u64) {
    let mut digits: Text<20> = Text::new();
    digits.push_u64(value);
    buffer.extend_from_slice(digits.as_bytes());
}

/// A JSON string of arbitrary bytes (see the module doc).
pub fn push_string(buffer: &mut Vec<u8>, bytes: &[u8]) {
    buffer.push(b'"');
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let mut plain_from = 0;
        for (at, c) in valid.char_indices() {
            let escape = matches!(c, '"' | '\\' | '\0'..='\x1f' | '\x7f'..='\u{9f}' | '\u{2028}' | '\u{2029}');
            if !escape {
                continue;
            }
            buffer.extend_from_slice(&valid.as_bytes()[plain_from..at]);
            plain_from = at + c.len_utf8();
            match c {
                '"' => buffer.extend_from_slice(b"\\\""),
                '\\' => buffer.extend_from_slice(b"\\\\"),
                '\n' => buffer.extend_from_slice(b"\\n"),
                '\t' => buffer.extend_from_slice(b"\\t"),
                '\r' => buffer.extend_from_slice(b"\\r"),
                _ => {
                    let code = c as u32;
                    buffer.extend_from_slice(b"\\u");
                    for shift in [12, 8, 4, 0] {
                        buffer.push(HEX[((code >> shift) & 0xf) as usize]);
                    }
                }
            }
        }
        buffer.extend_from_slice(&valid.as_bytes()[plain_from..]);
        for &b in chunk.invalid() {
            buffer.extend_from_slice(b"\\\\x");
            buffer.push(HEX[usize::from(b >> 4)]);
            buffer.push(HEX[usize::from(b & 0xf)]);
        }
    }
    buffer.push(b'"');
}

/// Socket rows as JSON objects (`"kind":"socket"`).
pub struct SocketObjects {
    line: JsonLine,
    host: Ipv6Text,
    path: Vec<u8>,
}

impl Default for SocketObjects {
    fn default() -> Self {
        Self::new()
    }
}

/// The kernel's protocol name for an inet table (netstat's Proto column
/// without its `6`).
pub fn proto_name(proto: InetProto) -> &'static str {
    match proto {
        InetProto::Tcp => "tcp",
        InetProto::Udp => "udp",
        InetProto::UdpLite => "udplite",
        InetProto::Raw => "raw",
    }
}

impl SocketObjects {
    pub fn new() -> Self {
        SocketObjects {
            line: JsonLine::new(),
            host: Ipv6Text::new(),
            path: Vec::with_capacity(128),
        }
    }

    /// Label this tick's objects (see [`JsonLine::for_tick`]).
    pub fn begin_tick(&mut self, tick: &crate::model::Tick) {
        self.line.for_tick(tick);
    }

    pub fn inet_row(
        &mut self,
        out: &mut impl Write,
        socket: &InetSocket,
        ext: SocketExt<'_>,
        config: &Config,
        names: &mut NameCache,
        programs: Option<&ProcessIndex>,
    ) -> io::Result<()> {
        self.line.begin("socket");
        self.inet_fields(socket, ext, config, names, programs, None);
        self.line.end(out)
    }

    /// A socket sock_diag reported closed (`--events`): `"kind":"closed"`,
    /// the time it was received, the row's fields and the kernel's cookie.
    pub fn closed_row(
        &mut self,
        out: &mut impl Write,
        closed: &crate::collect::events::Closed<'_>,
        time: std::time::SystemTime,
        config: &Config,
        names: &mut NameCache,
    ) -> io::Result<()> {
        self.line.begin("closed").time("time", time);
        self.inet_fields(
            &closed.socket,
            closed.ext,
            config,
            names,
            None,
            Some(closed.cookie),
        );
        self.line.end(out)
    }

    /// A socket row's fields after its kind, the cookie (if given) before
    /// `--info`'s.
    fn inet_fields(
        &mut self,
        socket: &InetSocket,
        ext: SocketExt<'_>,
        config: &Config,
        names: &mut NameCache,
        programs: Option<&ProcessIndex>,
        cookie: Option<u64>,
    ) {
        let v6 = socket.is_v6();
        let line = &mut self.line;
        line.str("proto", proto_name(socket.proto))
            .str("family", if v6 { "inet6" } else { "inet" });
        let mut state: Text<24> = Text::new();
        match socket.state_word() {
            StateWord::Empty => line.null("state"),
            word => {
                word.write_to(&mut state);
                line.str("state", state.as_bytes())
            }
        };
        line.u64("state_code", u64::from(socket.state))
            .ip("local_addr", socket.local)
            .opt_u64("local_port", port(socket.local_port))
            .ip("remote_addr", socket.remote)
            .opt_u64("remote_port", port(socket.remote_port))
            .u64("recv_q", u64::from(socket.recv_q))
            .u64("send_q", u64::from(socket.send_q));
        // a destroy message carries no uid or inode (the kernel sends 0):
        // absent rather than a false 0
        let closed = cookie.is_some();
        if !closed {
            line.u64("uid", u64::from(socket.uid))
                .u64("inode", socket.inode);
        }
        if socket.proto == InetProto::Tcp && socket.state == crate::model::tcp_state::LISTEN {
            line.u64("backlog", u64::from(socket.backlog));
        }
        if !config.numeric_hosts {
            names.host_text(socket.local, false, &mut self.host);
            line.str("local_host", self.host.as_bytes());
            names.host_text(socket.remote, false, &mut self.host);
            line.str("remote_host", self.host.as_bytes());
        }
        if !config.numeric_ports {
            let table = match socket.proto {
                InetProto::Tcp => ServiceTable::Tcp,
                InetProto::Udp | InetProto::UdpLite => ServiceTable::Udp,
                InetProto::Raw => ServiceTable::Raw,
            };
            for (key, number) in [
                ("local_service", socket.local_port),
                ("remote_service", socket.remote_port),
            ] {
                let name = (number != 0)
                    .then(|| names.service(table, number))
                    .flatten();
                line.opt_str(key, name);
            }
        }
        if !config.numeric_users && !closed {
            line.opt_str("user", names.user(socket.uid));
        }
        if config.timers {
            line.str("timer", socket.timer_word().as_bytes())
                .hundredths("timer_expires_s", u64::from(socket.timer_ticks))
                .u64("retransmits", u64::from(socket.retransmits))
                .u64("probes", u64::from(socket.probes));
        }
        if let Some(programs) = programs {
            owner_fields(line, programs, socket.inode);
        }
        if let Some(cookie) = cookie {
            line.u64("cookie", cookie);
        }
        if config.info {
            crate::render::ss_info::write_json(
                line,
                &crate::render::ss_info::Health::of(socket.state, ext),
            );
        }
    }

    pub fn unix_row(
        &mut self,
        out: &mut impl Write,
        socket: &UnixSocket<'_>,
        programs: Option<&ProcessIndex>,
    ) -> io::Result<()> {
        let line = &mut self.line;
        line.begin("socket")
            .str("proto", "unix")
            .str("family", "unix")
            .u64("refcnt", u64::from(socket.refcnt))
            .str_array("flags", socket.flag_words())
            .str("type", socket.type_word());
        match socket.state_word() {
            "" => line.null("state"),
            word => line.str("state", word),
        };
        line.u64("inode", socket.inode);
        match socket.path {
            None => line.null("path"),
            Some(path) => {
                path.text_into(&mut self.path);
                line.str("path", &self.path)
            }
        };
        if let Some(programs) = programs {
            owner_fields(line, programs, socket.inode);
        }
        if !socket.skmem.is_empty() {
            let memory = crate::render::ss_info::Health {
                skmem: Some(crate::collect::tcp_info::SkMemInfo::new(socket.skmem)),
                ..crate::render::ss_info::Health::default()
            };
            crate::render::ss_info::write_json(line, &memory);
        }
        line.end(out)
    }
}

/// A port field's value: netstat prints `*` for port 0.
fn port(number: u16) -> Option<u64> {
    (number != 0).then_some(u64::from(number))
}

fn owner_fields(line: &mut JsonLine, programs: &ProcessIndex, inode: u64) {
    match programs.owner(inode).filter(|_| inode != 0) {
        Some((pid, program)) => {
            line.u64("pid", u64::from(pid));
            line.opt_str("program", (!program.is_empty()).then_some(program));
        }
        None => {
            line.null("pid").null("program");
        }
    }
}

/// `{"kind":"tick",...}`: what starts each `-c` tick: its number, its
/// UTC time (RFC 3339, milliseconds), the seconds since the run started,
/// and `late_ms` when the tick before it overran its slot.
pub fn write_tick(out: &mut dyn Write, stamp: &crate::model::TickStamp) -> io::Result<()> {
    let mut line = JsonLine::new();
    line.begin("tick")
        .u64("tick", stamp.number)
        .str("time", crate::text::utc_millis(stamp.time))
        .thousandths("elapsed", stamp.elapsed.as_millis() as u64);
    if let Some(late) = stamp.late {
        line.u64("late_ms", late.as_millis() as u64);
    }
    line.end(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn string(bytes: &[u8]) -> String {
        let mut out = Vec::new();
        push_string(&mut out, bytes);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_escape_quotes_controls_and_bad_bytes() {
        assert_eq!(string(b"plain"), r#""plain""#);
        assert_eq!(string(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(string(b"l1\nl2\t\x1b[31m"), r#""l1\nl2\t\u001b[31m""#);
        assert_eq!(string(b"\x7f"), r#""\u007f""#);
        assert_eq!(string("\u{85}é\u{2028}".as_bytes()), r#""\u0085é\u2028""#);
        assert_eq!(string(b"bad\xff\xfeend"), r#""bad\\xff\\xfeend""#);
        // a truncated multi-byte sequence
        assert_eq!(string(b"x\xe2\x82"), r#""x\\xe2\\x82""#);
    }

    #[test]
    fn numbers_and_times() {
        let mut line = JsonLine::new();
        let mut out = Vec::new();
        line.begin("x")
            .hundredths("t", 716660)
            .hundredths("z", 5)
            .i64("n", -3)
            .opt_u64("p", None)
            .end(&mut out)
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"kind\":\"x\",\"t\":7166.60,\"z\":0.05,\"n\":-3,\"p\":null}\n"
        );
        let mut out = Vec::new();
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_700_000_000_000_042);
        line.begin("tick").time("time", at).end(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"kind\":\"tick\",\"time\":1700000000.000042}\n"
        );
    }
}
