//! The state machine that turns /proc key/value pairs into netstat's
//! sentences. netstat keeps one "state" (the kind of the last printed
//! counter) across all tables and files of a run: it decides when an ICMP
//! histogram heading is due and how far an unknown key is indented, so an
//! unknown table inherits the indentation of whatever came before it.

use super::tables::{self, Entry, Kind};
use std::io::{self, Write};

/// Which known tables print (netstat's f_raw, f_tcp, f_udp, f_sctp);
/// tables netstat does not know always print.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Selection {
    pub raw: bool,
    pub tcp: bool,
    pub udp: bool,
    pub sctp: bool,
}

#[derive(Debug, Clone, Copy)]
enum Group {
    Raw,
    Tcp,
    Udp,
    Sctp,
}

/// A table netstat knows by its title.
struct Known {
    title: &'static str,
    entries: &'static [Entry],
    group: Group,
}

/// Titles in /proc/net/snmp and /proc/net/netstat.
const SNMP_TABLES: &[Known] = &[
    Known {
        title: "Ip",
        entries: tables::IP,
        group: Group::Raw,
    },
    Known {
        title: "Icmp",
        entries: tables::ICMP,
        group: Group::Raw,
    },
    Known {
        title: "Tcp",
        entries: tables::TCP,
        group: Group::Tcp,
    },
    Known {
        title: "Udp",
        entries: tables::UDP,
        group: Group::Udp,
    },
    Known {
        title: "Sctp",
        entries: tables::SCTP,
        group: Group::Sctp,
    },
    Known {
        title: "TcpExt",
        entries: tables::TCP_EXT,
        group: Group::Tcp,
    },
];

/// Title prefixes of /proc/net/snmp6 keys (Tcp6 reuses the Tcp sentences).
const SNMP6_TABLES: &[Known] = &[
    Known {
        title: "Ip6",
        entries: tables::IP6,
        group: Group::Raw,
    },
    Known {
        title: "Icmp6",
        entries: tables::ICMP6,
        group: Group::Raw,
    },
    Known {
        title: "Udp6",
        entries: tables::UDP6,
        group: Group::Udp,
    },
    Known {
        title: "Tcp6",
        entries: tables::TCP,
        group: Group::Tcp,
    },
];

/// Which file layout a table set belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tables {
    Snmp,
    Snmp6,
}

impl Tables {
    fn known(self) -> &'static [Known] {
        match self {
            Tables::Snmp => SNMP_TABLES,
            Tables::Snmp6 => SNMP6_TABLES,
        }
    }
}

/// The table the following keys belong to.
#[derive(Clone, Copy)]
struct Current {
    /// `None` for a table netstat does not know: every key is unknown.
    entries: Option<&'static [Entry]>,
    enabled: bool,
}

/// Prints sentences; one per run, as netstat's state is one per process.
pub struct Sentences {
    selection: Selection,
    state: Kind,
}

impl Sentences {
    pub fn new(selection: Selection) -> Self {
        Sentences {
            selection,
            state: Kind::Number,
        }
    }

    fn enabled(&self, group: Group) -> bool {
        match group {
            Group::Raw => self.selection.raw,
            Group::Tcp => self.selection.tcp,
            Group::Udp => self.selection.udp,
            Group::Sctp => self.selection.sctp,
        }
    }

    /// Start a table: its title line (known tables only when selected,
    /// unknown ones always). Only a known table resets the state.
    fn open_table(
        &mut self,
        out: &mut dyn Write,
        tables: Tables,
        title: &[u8],
    ) -> io::Result<Current> {
        if let Some(known) = tables.known().iter().find(|k| k.title.as_bytes() == title) {
            let enabled = self.enabled(known.group);
            if enabled {
                out.write_all(title)?;
                out.write_all(b":\n")?;
            }
            self.state = Kind::Number;
            return Ok(Current {
                entries: Some(known.entries),
                enabled,
            });
        }
        out.write_all(title)?;
        out.write_all(b":\n")?;
        Ok(Current {
            entries: None,
            enabled: true,
        })
    }

    /// One counter, as netstat's printval.
    fn value(
        &mut self,
        out: &mut dyn Write,
        table: Current,
        key: &[u8],
        value: u64,
    ) -> io::Result<()> {
        let entry = table
            .entries
            .and_then(|entries| tables::lookup(entries, key));
        let Some(entry) = entry else {
            if value != 0 {
                spaces(out, self.state.indent())?;
                out.write_all(key)?;
                writeln!(out, ": {value}")?;
            }
            return Ok(());
        };
        if entry.fixed || entry.text.is_empty() {
            return Ok(());
        }
        let mut kind = entry.kind;
        if let Some(title) = kind.title()
            && self.state != kind
        {
            spaces(out, self.state.indent())?;
            writeln!(out, "{title}")?;
        }
        let print = match kind {
            Kind::Number => true,
            Kind::OptNumber | Kind::IcmpIn | Kind::IcmpOut => value != 0,
            Kind::Forwarding => {
                kind = Kind::Number;
                let word = if value == 2 { "enabled" } else { "disabled" };
                spaces(out, kind.indent())?;
                writeln!(out, "{}", entry.text.replacen("%s", word, 1))?;
                false
            }
            Kind::RtoAlgorithm => false,
        };
        if print {
            spaces(out, kind.indent())?;
            match entry.text.split_once("%llu") {
                Some((before, after)) => writeln!(out, "{before}{value}{after}")?,
                None => writeln!(out, "{}", entry.text)?,
            }
        }
        self.state = kind;
        Ok(())
    }

    /// /proc/net/snmp and /proc/net/netstat: a header line of keys and a
    /// line of values per table. With `only`, tables whose title does not
    /// start with it are skipped. `Ok(false)` when a line pair has no
    /// colon (netstat then stops reading the file and complains).
    pub fn pairs(
        &mut self,
        out: &mut dyn Write,
        text: &[u8],
        tables: Tables,
        only: Option<&[u8]>,
    ) -> io::Result<bool> {
        let mut lines = c_lines(text);
        while let Some(keys) = lines.next() {
            if keys.first() == Some(&b'\n') {
                continue;
            }
            let Some(values) = lines.next() else { break };
            let (Some(key_colon), Some(value_colon)) = (
                keys.iter().position(|&b| b == b':'),
                values.iter().position(|&b| b == b':'),
            ) else {
                return Ok(false);
            };
            let title = &keys[..key_colon];
            if let Some(prefix) = only
                && !title.starts_with(prefix)
            {
                continue;
            }
            let table = self.open_table(out, tables, title)?;
            let mut values = &values[value_colon + 1..];
            for key in keys[key_colon + 1..].split(|b| b" \t\n".contains(b)) {
                if key.is_empty() {
                    continue;
                }
                let skip = values.iter().take_while(|b| b" \t\n".contains(b)).count();
                values = &values[skip..];
                if table.enabled {
                    let (value, used) = strtoull(values);
                    values = &values[used..];
                    self.value(out, table, key, value)?;
                }
            }
        }
        Ok(true)
    }

    /// /proc/net/snmp6: `Key value` lines; the table is the key up to and
    /// including its first `6`, and changes whenever a key does not
    /// contain the current table's name.
    pub fn lines6(&mut self, out: &mut dyn Write, text: &[u8]) -> io::Result<()> {
        // sscanf keeps the previous key and value when a line has none.
        let mut key: Vec<u8> = Vec::new();
        let mut value = 0u64;
        let mut title: Vec<u8> = Vec::new();
        let mut table: Option<Current> = None;
        for line in fgets_lines(text, 1024) {
            scan_key_value(line, &mut key, &mut value);
            let switch = match table {
                None => true,
                Some(_) => !contains(&key, &title),
            };
            if switch {
                title.clear();
                title.extend_from_slice(table_title(&key));
                table = Some(self.open_table(out, Tables::Snmp6, &title)?);
            }
            if let Some(current) = table
                && current.enabled
            {
                self.value(out, current, &key, value)?;
            }
        }
        Ok(())
    }

    /// /proc/net/sctp/snmp: `Key value` lines, all in netstat's Sctp table.
    pub fn sctp(&mut self, out: &mut dyn Write, text: &[u8]) -> io::Result<()> {
        let table = self.open_table(out, Tables::Snmp, b"Sctp")?;
        for line in fgets_lines(text, 1024) {
            let end = line
                .iter()
                .position(|b| b" \t\n".contains(b))
                .unwrap_or(line.len());
            let key = &line[..end];
            let rest = line.get(end + 1..).unwrap_or(&[]);
            let skip = rest.iter().take_while(|b| b" \t\n".contains(b)).count();
            let rest = &rest[skip..];
            if !rest.is_empty() && table.enabled {
                self.value(out, table, key, strtoull(rest).0)?;
            }
        }
        Ok(())
    }
}

fn spaces(out: &mut dyn Write, count: usize) -> io::Result<()> {
    const SPACES: &[u8] = b"        ";
    out.write_all(&SPACES[..count.min(SPACES.len())])
}

/// netstat's cpytitle: up to and including the first `6`.
fn table_title(key: &[u8]) -> &[u8] {
    match key.iter().position(|&b| b == b'6') {
        Some(six) => &key[..=six],
        None => key,
    }
}

/// `strstr(haystack, needle) != NULL`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// C `isspace` in the C locale.
fn c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// `strtoull(s, &end, 10)`: the value and how many bytes it used (0 when
/// there is no number; then the cursor does not move). Overflow gives the
/// maximum, a minus sign negates modulo 2^64.
pub fn strtoull(s: &[u8]) -> (u64, usize) {
    let mut i = s.iter().take_while(|&&b| c_space(b)).count();
    let negative = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let start = i;
    let mut value = 0u64;
    let mut overflow = false;
    while let Some(&b) = s.get(i).filter(|b| b.is_ascii_digit()) {
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return (0, 0);
    }
    let value = if overflow {
        u64::MAX
    } else if negative {
        value.wrapping_neg()
    } else {
        value
    };
    (value, i)
}

/// `sscanf(line, "%s %llu", key, &value)`: each part is only assigned when
/// it converts.
fn scan_key_value(line: &[u8], key: &mut Vec<u8>, value: &mut u64) {
    let start = line.iter().take_while(|&&b| c_space(b)).count();
    let rest = &line[start..];
    let len = rest.iter().take_while(|&&b| !c_space(b)).count();
    if len == 0 {
        return;
    }
    key.clear();
    key.extend_from_slice(&rest[..len]);
    let (number, used) = strtoull(&rest[len..]);
    if used > 0 {
        *value = number;
    }
}

/// Lines as `getline` returns them, each cut at its first NUL the way C
/// string functions then see it.
fn c_lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split_inclusive(|&b| b == b'\n')
        .map(|line| match line.iter().position(|&b| b == 0) {
            Some(nul) => &line[..nul],
            None => line,
        })
}

/// Lines as `fgets` with a buffer of `size` returns them: a longer line
/// comes back in pieces.
fn fgets_lines(text: &[u8], size: usize) -> impl Iterator<Item = &[u8]> {
    c_lines(text).flat_map(move |line| line.chunks(size - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Selection {
        Selection {
            raw: true,
            tcp: true,
            udp: true,
            sctp: true,
        }
    }

    fn render(selection: Selection, f: impl FnOnce(&mut Sentences, &mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        let mut sentences = Sentences::new(selection);
        f(&mut sentences, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strtoull_like_c() {
        assert_eq!(strtoull(b" 42 7"), (42, 3));
        assert_eq!(strtoull(b"-1"), (u64::MAX, 2));
        assert_eq!(strtoull(b"x"), (0, 0));
        assert_eq!(strtoull(b"99999999999999999999999"), (u64::MAX, 23));
    }

    #[test]
    fn histogram_heading_and_unknown_indent_carry_over() {
        let text = b"Icmp: InMsgs InErrors InCsumErrors InDestUnreachs OutMsgs OutDestUnreachs\n\
Icmp: 1 0 3 1 1 1\n\
IcmpMsg: InType3 OutType3\n\
IcmpMsg: 1 0\n";
        let got = render(all(), |s, out| {
            assert!(s.pairs(out, text, Tables::Snmp, None).unwrap())
        });
        assert_eq!(
            got,
            "Icmp:\n    1 ICMP messages received\n    0 input ICMP message failed\n    InCsumErrors: 3\n    ICMP input histogram:\n        destination unreachable: 1\n    1 ICMP messages sent\n    ICMP output histogram:\n        destination unreachable: 1\nIcmpMsg:\n        InType3: 1\n"
        );
    }

    #[test]
    fn unsorted_keys_fall_through_as_unknown() {
        // netstat's binary search cannot find Forwarding, so it prints it
        // as an unknown key; DefaultTTL is found and is a static entry.
        let text = b"Ip: Forwarding DefaultTTL InReceives FragOKs\nIp: 1 64 5 0\n";
        let got = render(all(), |s, out| {
            assert!(s.pairs(out, text, Tables::Snmp, None).unwrap())
        });
        assert_eq!(
            got,
            "Ip:\n    Forwarding: 1\n    5 total packets received\n"
        );
        // Checked against /usr/bin/netstat reading these lines.
        let tcp_ext = b"TcpExt: TW TWKilled TCPLoss TCPLossFailures\nTcpExt: 3 2 1 4\n";
        let got = render(all(), |s, out| {
            assert!(s.pairs(out, tcp_ext, Tables::Snmp, None).unwrap())
        });
        assert_eq!(
            got,
            "TcpExt:\n    3 TCP sockets finished time wait in fast timer\n    TWKilled: 2\n    TCPLoss: 1\n    4 timeouts in loss state\n"
        );
    }

    #[test]
    fn unselected_known_tables_are_silent_but_unknown_ones_print() {
        let text = b"Tcp: ActiveOpens\nTcp: 4\nUdpLite: InDatagrams NoPorts\nUdpLite: 0 2\n";
        let sel = Selection {
            udp: true,
            ..Selection::default()
        };
        let got = render(sel, |s, out| {
            assert!(s.pairs(out, text, Tables::Snmp, None).unwrap())
        });
        assert_eq!(got, "UdpLite:\n    NoPorts: 2\n");
    }

    #[test]
    fn missing_colon_is_a_format_error() {
        let got = render(all(), |s, out| {
            assert!(
                !s.pairs(out, b"Ip Forwarding\nIp 1\n", Tables::Snmp, None)
                    .unwrap()
            )
        });
        assert_eq!(got, "");
    }

    #[test]
    fn snmp6_titles_follow_the_first_six() {
        let text = b"Ip6InReceives 3\nIp6InHdrErrors 0\nIcmp6InMsgs 0\nIcmp6InType1 2\nUdpLite6InDatagrams 0\nUdpLite6NoPorts 5\n";
        let got = render(all(), |s, out| s.lines6(out, text).unwrap());
        assert_eq!(
            got,
            "Ip6:\n    3 total packets received\nIcmp6:\n    0 ICMP messages received\n    Icmp6InType1: 2\nUdpLite6:\n    UdpLite6NoPorts: 5\n"
        );
    }

    #[test]
    fn snmp6_blank_line_repeats_the_previous_pair() {
        let got = render(all(), |s, out| s.lines6(out, b"Foo6Bar 2\n\n").unwrap());
        assert_eq!(got, "Foo6:\n    Foo6Bar: 2\n    Foo6Bar: 2\n");
    }

    #[test]
    fn sctp_lines() {
        let text = b"SctpCurrEstab\t0\nSctpActiveEstabs 5\nSctpNew 3\nSctpZero 0\n";
        let got = render(all(), |s, out| s.sctp(out, text).unwrap());
        assert_eq!(
            got,
            "Sctp:\n    0 Current Associations\n    5 Active Associations\n    SctpNew: 3\n"
        );
        let sel = Selection {
            tcp: true,
            ..Selection::default()
        };
        assert_eq!(render(sel, |s, out| s.sctp(out, text).unwrap()), "");
    }
}
