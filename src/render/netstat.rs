//! Byte-exact net-tools socket tables: headers, rows, widths, truncation.

use crate::config::Config;
use crate::enrich::names::{NameCache, ServiceTable};
use crate::enrich::processes::ProcessIndex;
use crate::model::{InetProto, InetSocket, SocketExt, UnixPath, UnixSocket};
use crate::render::ss_info;
use crate::text::{Ipv6Text, Text};
use std::fmt::Write as _;
use std::io::{self, Write};

/// netstat's column for `PID/Program name` (`%-20s`; labels hold 19).
pub const PROGRAM_WIDTH: usize = 20;

/// What the listing title says after "Active ... ".
pub fn selection_title(config: &Config) -> &'static str {
    if config.all {
        "(servers and established)"
    } else if config.listening {
        "(only servers)"
    } else {
        "(w/o servers)"
    }
}

pub fn write_inet_header(out: &mut impl Write, config: &Config) -> io::Result<()> {
    let mut line = String::with_capacity(160);
    line.push_str("Active Internet connections ");
    line.push_str(selection_title(config));
    line.push_str(
        "\nProto Recv-Q Send-Q Local Address           Foreign Address         State      ",
    );
    if config.show_user() {
        line.push_str(" User       Inode     ");
    }
    if config.programs {
        let _ = write!(line, " {:<PROGRAM_WIDTH$}", "PID/Program name");
    }
    if config.timers {
        line.push_str(" Timer");
    }
    line.push('\n');
    out.write_all(line.as_bytes())
}

pub fn write_unix_header(out: &mut impl Write, config: &Config) -> io::Result<()> {
    let mut line = String::with_capacity(160);
    line.push_str("Active UNIX domain sockets ");
    line.push_str(selection_title(config));
    line.push_str("\nProto RefCnt Flags       Type       State         I-Node  ");
    if config.programs {
        let _ = write!(line, " {:<PROGRAM_WIDTH$}", "PID/Program name");
    }
    line.push_str(" Path\n");
    out.write_all(line.as_bytes())
}

/// Formats socket rows into one reused line buffer, then writes them.
pub struct RowWriter {
    line: Vec<u8>,
    /// `--info`'s line under a row, reused.
    info: Vec<u8>,
    local: Ipv6Text,
    remote: Ipv6Text,
    host: Ipv6Text,
}

impl Default for RowWriter {
    fn default() -> Self {
        Self::new()
    }
}

/// net-tools' `addr_do_one`: `host:port`, cut to 23 columns unless `-W`.
fn address_column(
    out: &mut Ipv6Text,
    host: &Ipv6Text,
    port: u16,
    table: ServiceTable,
    config: &Config,
    names: &mut NameCache,
    buffer_size: usize,
) {
    const SHORT_LEN: usize = 22;
    let mut port_text: Text<64> = Text::new();
    if port == 0 {
        port_text.push_byte(b'*');
    } else if config.numeric_ports {
        port_text.push_u64(u64::from(port));
    } else {
        match names.service(table, port) {
            Some(name) => port_text.push_str(name),
            None => port_text.push_u64(u64::from(port)),
        }
    }
    out.clear();
    let (address, service) = (host.as_bytes(), port_text.as_bytes());
    if !config.wide && address.len() + service.len() > SHORT_LEN {
        let port_len = service.len().min(SHORT_LEN - 4);
        let address_len = SHORT_LEN - port_len;
        out.push_bytes(&address[..address_len.min(address.len())]);
        out.push_byte(b':');
        out.push_bytes(&service[..port_len]);
    } else {
        out.push_bytes(address);
        out.push_byte(b':');
        out.push_bytes(service);
        // snprintf into netstat's fixed buffer
        out.truncate(buffer_size - 1);
    }
}

fn pad_right(line: &mut Vec<u8>, text: &[u8], width: usize) {
    line.extend_from_slice(text);
    for _ in text.len()..width {
        line.push(b' ');
    }
}

fn pad_left_number(line: &mut Vec<u8>, value: u64, width: usize) {
    let mut digits: Text<20> = Text::new();
    digits.push_u64(value);
    for _ in digits.len()..width {
        line.push(b' ');
    }
    line.extend_from_slice(digits.as_bytes());
}

fn push_signed(line: &mut Vec<u8>, value: i64) {
    if value < 0 {
        line.push(b'-');
    }
    let mut digits: Text<20> = Text::new();
    digits.push_u64(value.unsigned_abs());
    line.extend_from_slice(digits.as_bytes());
}

impl RowWriter {
    pub fn new() -> Self {
        RowWriter {
            line: Vec::with_capacity(256),
            info: Vec::new(),
            local: Ipv6Text::new(),
            remote: Ipv6Text::new(),
            host: Ipv6Text::new(),
        }
    }

    /// One inet socket as netstat's row. A byte-exact writer of net-tools'
    /// columns, widths and truncation (`-W`, `-e`, `-p`, `-o`), kept in one
    /// piece so it reads against netstat's printf.
    pub fn inet_row(
        &mut self,
        out: &mut impl Write,
        socket: &InetSocket,
        ext: SocketExt<'_>,
        config: &Config,
        names: &mut NameCache,
        programs: Option<&ProcessIndex>,
    ) -> io::Result<()> {
        let v6 = socket.is_v6();
        let (table, buffer_size) = match socket.proto {
            InetProto::Tcp => (ServiceTable::Tcp, 128),
            InetProto::Udp | InetProto::UdpLite => (ServiceTable::Udp, 64),
            InetProto::Raw => (ServiceTable::Raw, 64),
        };
        names.host_text(socket.local, config.numeric_hosts, &mut self.host);
        address_column(
            &mut self.local,
            &self.host,
            socket.local_port,
            table,
            config,
            names,
            buffer_size,
        );
        names.host_text(socket.remote, config.numeric_hosts, &mut self.host);
        address_column(
            &mut self.remote,
            &self.host,
            socket.remote_port,
            table,
            config,
            names,
            buffer_size,
        );
        let line = &mut self.line;
        line.clear();
        let label = socket.proto.label(v6).as_bytes();
        match socket.proto {
            InetProto::Udp | InetProto::UdpLite => {
                pad_right(line, label, 5);
                line.push(b' ');
            }
            _ => {
                pad_right(line, label, 4);
                line.extend_from_slice(b"  ");
            }
        }
        pad_left_number(line, u64::from(socket.recv_q), 6);
        line.push(b' ');
        pad_left_number(line, u64::from(socket.send_q), 6);
        line.push(b' ');
        pad_right(line, self.local.as_bytes(), 23);
        line.push(b' ');
        pad_right(line, self.remote.as_bytes(), 23);
        line.push(b' ');
        let mut state: Text<24> = Text::new();
        socket.state_word().write_to(&mut state);
        pad_right(line, state.as_bytes(), 11);
        if config.show_user() {
            line.push(b' ');
            let name = if config.numeric_users {
                None
            } else {
                names.user(socket.uid)
            };
            match name {
                Some(name) => pad_right(line, name.as_bytes(), 10),
                None => {
                    let start = line.len();
                    push_signed(line, i64::from(socket.uid as i32));
                    let written = line.len() - start;
                    for _ in written..10 {
                        line.push(b' ');
                    }
                }
            }
            line.push(b' ');
            let mut inode: Text<20> = Text::new();
            inode.push_u64(socket.inode);
            pad_right(line, inode.as_bytes(), 10);
        }
        if let Some(programs) = programs {
            line.push(b' ');
            pad_right(line, programs.label(socket.inode), PROGRAM_WIDTH);
        }
        if config.timers {
            line.push(b' ');
            write_timer(line, socket);
        }
        line.push(b'\n');
        out.write_all(line)?;
        if config.info && !ext.is_empty() {
            self.write_info(out, socket, ext, config)?;
        }
        Ok(())
    }

    /// `--info`: the socket's tcp_info, congestion control and memory on
    /// the next line, as `ss -i -m` prints them (`-o` adds the options,
    /// `-n` whole-number rates, as in ss).
    fn write_info(
        &mut self,
        out: &mut impl Write,
        socket: &InetSocket,
        ext: SocketExt<'_>,
        config: &Config,
    ) -> io::Result<()> {
        let style = ss_info::Style {
            options: config.timers,
            numeric: config.numeric_hosts && config.numeric_ports,
        };
        self.info.clear();
        ss_info::write_line(
            &mut self.info,
            &ss_info::Health::of(socket.state, ext),
            style,
        );
        self.info.push(b'\n');
        out.write_all(&self.info)
    }

    pub fn unix_row(
        &mut self,
        out: &mut impl Write,
        socket: &UnixSocket<'_>,
        programs: Option<&ProcessIndex>,
    ) -> io::Result<()> {
        let line = &mut self.line;
        line.clear();
        line.extend_from_slice(b"unix  ");
        let mut number: Text<20> = Text::new();
        number.push_u64(u64::from(socket.refcnt));
        pad_right(line, number.as_bytes(), 6);
        line.push(b' ');
        let mut flags: Text<32> = Text::new();
        flags.push_str("[ ");
        for word in socket.flag_words() {
            flags.push_str(word);
            flags.push_byte(b' ');
        }
        flags.push_byte(b']');
        pad_right(line, flags.as_bytes(), 11);
        line.push(b' ');
        pad_right(line, socket.type_word().as_bytes(), 10);
        line.push(b' ');
        pad_right(line, socket.state_word().as_bytes(), 13);
        line.push(b' ');
        number.clear();
        number.push_u64(socket.inode);
        pad_right(line, number.as_bytes(), 8);
        if let Some(programs) = programs {
            line.push(b' ');
            pad_right(line, programs.label(socket.inode), PROGRAM_WIDTH);
        }
        line.push(b' ');
        match socket.path {
            None => {}
            Some(UnixPath::Text(text)) => line.extend_from_slice(first_word(text)),
            Some(UnixPath::SunPath(raw)) => push_sun_path(line, raw),
        }
        line.push(b'\n');
        if !socket.skmem.is_empty() {
            // --info: the socket's memory on the next line, as ss -xm
            // prints it on the row
            let memory = ss_info::Health {
                skmem: Some(crate::collect::tcp_info::SkMemInfo::new(socket.skmem)),
                ..ss_info::Health::default()
            };
            ss_info::write_line(line, &memory, ss_info::Style::default());
            line.push(b'\n');
        }
        out.write_all(line)
    }
}

/// A /proc/net/unix name as netstat's `%s` reads it: up to the first blank.
fn first_word(text: &[u8]) -> &[u8] {
    let end = text.iter().position(|&b| c_space(b)).unwrap_or(text.len());
    &text[..end]
}

/// A sock_diag name as /proc/net/unix prints it, then cut at the first
/// blank as netstat's `%s` cuts it.
pub fn push_sun_path(line: &mut Vec<u8>, raw: &[u8]) {
    let (prefix, body): (&[u8], &[u8]) = match raw.first() {
        None => return,
        Some(0) => (b"@", &raw[1..]),
        // the kernel stores the terminating NUL of a filesystem path
        Some(_) => (b"", &raw[..raw.len() - 1]),
    };
    line.extend_from_slice(prefix);
    for &b in body {
        let b = if b == 0 { b'@' } else { b };
        if c_space(b) {
            break;
        }
        line.push(b);
    }
}

/// C's isspace in the C locale.
fn c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn write_timer(line: &mut Vec<u8>, socket: &InetSocket) {
    let mut text: Text<64> = Text::new();
    let seconds = socket.timer_ticks as f64 / 100.0;
    let (retr, probes) = (socket.retransmits, socket.probes);
    text.push_bytes(socket.timer_word().as_bytes());
    let _ = if socket.timer == 0 {
        write!(text, " (0.00/{retr}/{probes})")
    } else {
        write!(text, " ({seconds:.2}/{retr}/{probes})")
    };
    line.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tcp_state;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    fn config(args: &[&str]) -> Config {
        let mut v = vec!["netstat"];
        v.extend_from_slice(args);
        let args: Vec<std::ffi::OsString> = v.iter().map(Into::into).collect();
        match crate::cli::parse(&args) {
            crate::cli::Parsed::Run(c) => *c,
            _ => panic!(),
        }
    }

    fn socket(
        proto: InetProto,
        local: IpAddr,
        lport: u16,
        remote: IpAddr,
        rport: u16,
    ) -> InetSocket {
        InetSocket {
            proto,
            state: tcp_state::ESTABLISHED,
            local,
            local_port: lport,
            remote,
            remote_port: rport,
            recv_q: 1234,
            send_q: 5,
            uid: 0,
            inode: 99,
            timer: 0,
            timer_ticks: 0,
            retransmits: 0,
            probes: 0,
            backlog: 0,
        }
    }

    fn row(s: &InetSocket, c: &Config) -> String {
        let mut out = Vec::new();
        let mut names = NameCache::new();
        RowWriter::new()
            .inet_row(&mut out, s, SocketExt::NONE, c, &mut names, None)
            .unwrap();
        String::from_utf8(out).unwrap()
    }

    const LONG: &str = "fd00:1234:5678:9abc:def0:1234:5678:9abc";

    #[test]
    fn tcp_row_numeric() {
        let c = config(&["-tn"]);
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert_eq!(
            row(&socket(InetProto::Tcp, lo, 22, lo, 40000), &c),
            "tcp     1234      5 127.0.0.1:22            127.0.0.1:40000         ESTABLISHED\n"
        );
    }

    #[test]
    fn truncation_keeps_port_and_cuts_address() {
        let c = config(&["-tn"]);
        let a: IpAddr = LONG.parse().unwrap();
        let text = row(&socket(InetProto::Tcp, a, 6000, a, 35203), &c);
        assert_eq!(
            text,
            "tcp6    1234      5 fd00:1234:5678:9ab:6000 fd00:1234:5678:9a:35203 ESTABLISHED\n"
        );
        let wide = row(
            &socket(InetProto::Tcp, a, 6000, a, 35203),
            &config(&["-tnW"]),
        );
        assert!(wide.contains(&format!("{LONG}:6000 {LONG}:35203 ESTABLISHED")));
    }

    #[test]
    fn udp_and_raw_columns() {
        let c = config(&["-uwn"]);
        let any = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
        let mut s = socket(InetProto::Udp, any, 123, any, 0);
        s.state = tcp_state::CLOSE;
        assert_eq!(
            row(&s, &c),
            "udp6    1234      5 :::123                  :::*                               \n"
        );
        s.proto = InetProto::Raw;
        s.local_port = 58;
        assert_eq!(
            row(&s, &c),
            "raw6    1234      5 :::58                   :::*                    7          \n"
        );
    }

    #[test]
    fn timers() {
        let c = config(&["-tno"]);
        let lo = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let mut s = socket(InetProto::Tcp, lo, 22, lo, 40000);
        s.timer = 2;
        s.timer_ticks = 716660;
        s.probes = 1;
        assert!(row(&s, &c).ends_with(" keepalive (7166.60/0/1)\n"));
        s.timer = 3;
        s.timer_ticks = 5443;
        assert!(row(&s, &c).ends_with(" timewait (54.43/0/1)\n"));
        s.timer = 0;
        assert!(row(&s, &c).ends_with(" off (0.00/0/1)\n"));
    }

    #[test]
    fn unix_paths() {
        let mut line = Vec::new();
        push_sun_path(&mut line, b"\0abstract\0with-nul");
        assert_eq!(line, b"@abstract@with-nul");
        line.clear();
        push_sun_path(&mut line, b"/tmp/with space.sock\0");
        assert_eq!(line, b"/tmp/with");
        line.clear();
        push_sun_path(&mut line, b"/run/x.sock\0");
        assert_eq!(line, b"/run/x.sock");
    }

    #[test]
    fn unix_row_unnamed_keeps_trailing_space() {
        let s = UnixSocket {
            refcnt: 3,
            flags: 0,
            sock_type: 1,
            state: 3,
            inode: 5590,
            path: None,
            kernel_state: 1,
            peer: None,
            skmem: &[],
        };
        let mut out = Vec::new();
        RowWriter::new().unix_row(&mut out, &s, None).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "unix  3      [ ]         STREAM     CONNECTED     5590     \n"
        );
    }

    #[test]
    fn headers() {
        let mut out = Vec::new();
        write_inet_header(&mut out, &config(&["-tanpeo"])).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Active Internet connections (servers and established)\nProto Recv-Q Send-Q Local Address           Foreign Address         State       User       Inode      PID/Program name     Timer\n"
        );
    }
}
