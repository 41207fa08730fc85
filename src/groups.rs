//! `-g`: multicast group memberships from /proc/net/igmp and
//! /proc/net/igmp6, as netstat prints them after the inet socket tables.
//!
//! netstat parses both files with one line handler whose parser state
//! (which file layout it is in, the current device, the last IPv6 words)
//! lives in C statics. Within one table nlstat follows that state exactly.
//! netstat never resets it, so from the second `-c` tick on it reads the
//! IPv4 file with the IPv6 layout and prints bogus-line warnings and
//! garbage groups; nlstat starts every tick afresh and prints the same
//! table each time (a documented difference).

use crate::collect::procfs::ProcRoot;
use crate::config::Config;
use crate::enrich::names::NameCache;
use crate::error::Result;
use crate::model::Tick;
use crate::sinks::table::{Fields, Record, TableOutput, TableRecord};
use crate::text::Ipv6Text;
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const HEADER: &str = "IPv6/IPv4 Group Memberships\n\
Interface       RefCnt Group\n\
--------------- ------ ---------------------\n";

/// netstat's static parser state, kept for the life of the process.
struct LineState {
    /// The igmp file has an Idx column (every kernel since 2.1).
    idx_column: bool,
    /// Set by the first igmp6 line and never cleared.
    igmp6_layout: bool,
    /// The device name, a C string (stale bytes stay behind the NUL).
    device: [u8; 16],
    /// The IPv6 address words as they sit in memory; netstat converts
    /// them in place, so words a short line does not fill are kept and
    /// byte-swapped again.
    words: [u32; 4],
}

impl LineState {
    const fn new() -> Self {
        LineState {
            idx_column: false,
            igmp6_layout: false,
            device: [0; 16],
            words: [0; 4],
        }
    }
}

/// One printed row.
struct Membership {
    device: [u8; 16],
    refcnt: i32,
    group: IpAddr,
}

/// A membership with its group's text (a host name unless `-n`).
struct GroupRecord<'a> {
    membership: &'a Membership,
    group: &'a Ipv6Text,
    numeric: bool,
}

impl Record for GroupRecord<'_> {
    const KIND: &'static str = "group";

    fn fields(&self, fields: &mut impl Fields) {
        let row = self.membership;
        let family = if row.group.is_ipv6() { "inet6" } else { "inet" };
        fields
            .str("family", family.as_bytes())
            .str("iface", c_str(&row.device).trim_ascii_end())
            .i64("refcnt", i64::from(row.refcnt))
            .ip("group", row.group);
        if !self.numeric {
            fields.str("group_host", self.group.as_bytes());
        }
    }
}

impl TableRecord for GroupRecord<'_> {
    fn write_netstat(&self, out: &mut dyn Write) -> io::Result<()> {
        let device = c_str(&self.membership.device);
        out.write_all(device)?;
        for _ in device.len()..15 {
            out.write_all(b" ")?;
        }
        writeln!(
            out,
            " {:<6} {}",
            self.membership.refcnt,
            self.group.as_str()
        )
    }
}

/// Print the group table; returns netstat's status (1 when
/// /proc/net/igmp is missing, 255 when a file cannot be read).
pub fn write_groups(
    out: &mut dyn Write,
    config: &Config,
    tick: &Tick,
    names: &mut NameCache,
) -> Result<i32> {
    write_groups_at(out, config, tick, names, &config.inputs.proc_root)
}

/// [`write_groups`] with /proc at `root`.
pub fn write_groups_at(
    out: &mut dyn Write,
    config: &Config,
    tick: &Tick,
    names: &mut NameCache,
    root: &ProcRoot,
) -> Result<i32> {
    let mut sink = TableOutput::for_tick(config, tick);
    sink.heading(out, HEADER)?;
    let mut rows: Vec<Membership> = Vec::new();
    let status = read_memberships(config, root, &mut rows);
    if !config.numeric_hosts {
        names.resolve_hosts(rows.iter().map(|r| r.group));
    }
    let mut group = Ipv6Text::new();
    for membership in &rows {
        names.host_text(membership.group, config.numeric_hosts, &mut group);
        let record = GroupRecord {
            membership,
            group: &group,
            numeric: config.numeric_hosts,
        };
        sink.record(out, &record)?;
    }
    Ok(status)
}

/// The memberships of the families asked for, read with one parser state
/// as netstat reads them; returns netstat's status for the files.
fn read_memberships(config: &Config, root: &ProcRoot, rows: &mut Vec<Membership>) -> i32 {
    let mut status = 0;
    let mut text = Vec::new();
    let mut state = LineState::new();
    for (relative, v6) in [("net/igmp", false), ("net/igmp6", true)] {
        let wanted = if v6 {
            config.families.inet6
        } else {
            config.families.inet
        };
        if !wanted {
            continue;
        }
        text.clear();
        match std::fs::File::open(root.path(relative)).and_then(|mut f| f.read_to_end(&mut text)) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // netstat complains only about the IPv4 file.
                if !v6 {
                    eprintln!("netstat: no support for `AF INET (igmp)' on this system.");
                    status = 1;
                }
                continue;
            }
            Err(e) => {
                eprintln!(
                    "{}: {}",
                    root.shown(relative).display(),
                    crate::error::strerror(&e)
                );
                return 255;
            }
        }
        // fgets with netstat's 8 KiB buffer.
        let lines = text
            .split_inclusive(|&b| b == b'\n')
            .flat_map(|line| line.chunks(8191));
        for (number, line) in lines.enumerate() {
            if let Some(row) = state.line(number, c_str(line)) {
                rows.push(row);
            }
        }
    }
    status
}

fn c_str(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == 0) {
        Some(nul) => &bytes[..nul],
        None => bytes,
    }
}

impl LineState {
    /// netstat's igmp_do_one for line `number` of either file.
    fn line(&mut self, number: usize, line: &[u8]) -> Option<Membership> {
        if number == 0 {
            if contains(line, b"Device") {
                self.idx_column = line.starts_with(b"Idx");
                return None;
            }
            self.igmp6_layout = true;
        }
        if self.igmp6_layout {
            self.line6(number, line)
        } else {
            self.line4(number, line)
        }
    }

    /// `%d %15s %64[0-9A-Fa-f] %d`: index, device, address, users.
    fn line6(&mut self, number: usize, line: &[u8]) -> Option<Membership> {
        let mut scan = Scan::new(line);
        let converted = (|| {
            scan.int()?;
            scan.skip_space();
            let device = scan.word(15)?;
            let len = device.len();
            self.device[..len].copy_from_slice(device);
            self.device[len] = 0;
            scan.skip_space();
            let hex = scan.hex(64)?;
            scan.skip_space();
            let refcnt = scan.int()?;
            Some((hex, refcnt))
        })();
        let Some((hex, refcnt)) = converted else {
            eprintln!("warning, got bogus igmp6 line {number}.");
            return None;
        };
        // `%08X%08X%08X%08X` fills as many words as the digits allow;
        // then every word is put in network order in place.
        for (word, chunk) in self.words.iter_mut().zip(hex.chunks(8)) {
            *word = chunk.iter().fold(0u32, |v, &d| (v << 4) | hex_value(d));
        }
        let mut octets = [0u8; 16];
        for (i, word) in self.words.iter_mut().enumerate() {
            *word = word.swap_bytes();
            octets[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
        }
        Some(Membership {
            device: self.device,
            refcnt,
            group: IpAddr::V6(Ipv6Addr::from(octets)),
        })
    }

    /// A device line (`%d\t%15c`) sets the device; a tab-led
    /// line `\t%8[0-9A-Fa-f] %d` is one group of it.
    fn line4(&mut self, number: usize, line: &[u8]) -> Option<Membership> {
        let mut scan = Scan::new(line);
        if line.first() != Some(&b'\t') {
            let ok = (|| {
                if self.idx_column {
                    scan.int()?;
                    scan.skip_space();
                }
                let chars = scan.chars(15)?;
                self.device[..chars.len()].copy_from_slice(chars);
                Some(())
            })();
            match ok {
                // The name ends at the last colon, if the 15 bytes hold one.
                Some(()) => {
                    let name = c_str(&self.device).len();
                    if let Some(colon) = self.device[..name].iter().rposition(|&b| b == b':') {
                        self.device[colon] = 0;
                    }
                }
                None => eprintln!("warning, got bogus igmp line {number}."),
            }
            return None;
        }
        scan.skip_space();
        let converted = (|| {
            let hex = scan.hex(8)?;
            scan.skip_space();
            Some((hex, scan.int()?))
        })();
        let Some((hex, refcnt)) = converted else {
            eprintln!("warning, got bogus igmp line {number}.");
            return None;
        };
        // The kernel prints the address as it sits in memory.
        let value = hex.iter().fold(0u32, |v, &d| (v << 4) | hex_value(d));
        let group = IpAddr::V4(Ipv4Addr::from(value.to_le_bytes()));
        Some(Membership {
            device: self.device,
            refcnt,
            group,
        })
    }
}

fn hex_value(digit: u8) -> u32 {
    (digit as char).to_digit(16).unwrap_or(0)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Just enough of sscanf for netstat's two formats.
struct Scan<'a> {
    rest: &'a [u8],
}

impl<'a> Scan<'a> {
    fn new(line: &'a [u8]) -> Self {
        Scan { rest: line }
    }

    fn skip_space(&mut self) {
        let n = self.rest.iter().take_while(|&&b| is_space(b)).count();
        self.rest = &self.rest[n..];
    }

    /// `%d`: leading blanks, a sign, digits; the value cut to an int.
    fn int(&mut self) -> Option<i32> {
        self.skip_space();
        let mut i = 0;
        let negative = match self.rest.first() {
            Some(b'-') => {
                i = 1;
                true
            }
            Some(b'+') => {
                i = 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut value: i64 = 0;
        let mut overflow = false;
        while let Some(&b) = self.rest.get(i).filter(|b| b.is_ascii_digit()) {
            match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(b - b'0')))
            {
                Some(v) => value = v,
                None => overflow = true,
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        self.rest = &self.rest[i..];
        let value = match (overflow, negative) {
            (true, false) => i64::MAX,
            (true, true) => i64::MIN,
            (false, true) => -value,
            (false, false) => value,
        };
        Some(value as i32)
    }

    /// `%Ns`: leading blanks, then up to `max` non-blank bytes.
    fn word(&mut self, max: usize) -> Option<&'a [u8]> {
        self.skip_space();
        let n = self
            .rest
            .iter()
            .take(max)
            .take_while(|&&b| !is_space(b))
            .count();
        self.take(n)
    }

    /// `%N[0-9A-Fa-f]`: up to `max` hex digits, at least one.
    fn hex(&mut self, max: usize) -> Option<&'a [u8]> {
        let n = self
            .rest
            .iter()
            .take(max)
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        self.take(n)
    }

    /// `%Nc`: up to `max` bytes of anything, at least one.
    fn chars(&mut self, max: usize) -> Option<&'a [u8]> {
        let n = self.rest.len().min(max);
        self.take(n)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n == 0 {
            return None;
        }
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some(taken)
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh() -> LineState {
        LineState {
            idx_column: false,
            igmp6_layout: false,
            device: [0; 16],
            words: [0; 4],
        }
    }

    fn text(m: &Membership) -> String {
        format!(
            "{} {} {}",
            String::from_utf8_lossy(c_str(&m.device)),
            m.refcnt,
            m.group
        )
    }

    #[test]
    fn igmp_device_and_group_lines() {
        let mut s = fresh();
        assert!(
            s.line(
                0,
                b"Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n"
            )
            .is_none()
        );
        assert!(s.idx_column);
        assert!(s.line(1, b"1\tlo        :     1      V3\n").is_none());
        let m = s
            .line(2, b"\t\t\t\t010000E0     1 0:00000000\t\t0\n")
            .unwrap();
        assert_eq!(text(&m), "lo         1 224.0.0.1");
        assert!(s.line(3, b"3\tabcdefghijklmno:     2      V3\n").is_none());
        let m = s
            .line(4, b"\t\t\t\t030201EF     1 0:00000000\t\t0\n")
            .unwrap();
        assert_eq!(text(&m), "abcdefghijklmno 1 239.1.2.3");
        assert!(s.line(5, b"4\tabcdefghijk:     1      V3\n").is_none());
        let m = s
            .line(6, b"\t\t\t\t010000E0     1 0:00000000\t\t0\n")
            .unwrap();
        assert_eq!(text(&m), "abcdefghijk 1 224.0.0.1");
    }

    #[test]
    fn igmp6_line() {
        let mut s = fresh();
        let m = s
            .line(
                0,
                b"1    lo              ff020000000000000000000000000001     1 0000000C 0\n",
            )
            .unwrap();
        assert_eq!(text(&m), "lo 1 ff02::1");
        assert!(s.igmp6_layout);
    }

    #[test]
    fn second_tick_reads_igmp_with_the_igmp6_layout() {
        // The parser state a table leaves behind reads the next igmp file
        // with the igmp6 layout (what netstat -gc prints on its second
        // tick; nlstat starts each tick with a fresh state instead).
        let mut s = fresh();
        s.line(
            0,
            b"1    lo              ff010000000000000000000000000001     1 00000008 0\n",
        )
        .unwrap();
        assert!(
            s.line(
                0,
                b"Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n"
            )
            .is_none()
        );
        assert!(s.line(1, b"1\tlo        :     1      V3\n").is_none());
        let m = s
            .line(2, b"\t\t\t\t010000E0     1 0:00000000\t\t0\n")
            .unwrap();
        assert_eq!(text(&m), "E0 0 0:1::100:0");
    }

    #[test]
    fn bogus_lines_give_nothing() {
        let mut s = fresh();
        s.line(0, b"Idx\tDevice\n");
        assert!(s.line(1, b"\tzz 1\n").is_none());
    }
}
