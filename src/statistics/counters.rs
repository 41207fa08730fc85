//! `-s --json`: every kernel counter of the selected sections as one
//! `{"kind":"statistic","section","name","value"}` object, read straight
//! from the /proc files (netstat's sentences, hidden keys and histogram
//! headings are a matter of its text, not of the facts).

use crate::sinks::table::{Fields, Record};
use std::io;

/// Which protocol a section belongs to, for `-st`, `-su`, `-sU`, `-sw`
/// (IP and ICMP sections go with `-w`, as netstat's raw selection).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SectionFilter {
    pub raw: bool,
    pub tcp: bool,
    pub udp: bool,
    pub udplite: bool,
    pub sctp: bool,
}

impl SectionFilter {
    /// Every section: what the exporter exports and the views read.
    pub const ALL: SectionFilter = SectionFilter {
        raw: true,
        tcp: true,
        udp: true,
        udplite: true,
        sctp: true,
    };

    /// Sections of no known protocol are always shown, as netstat shows
    /// tables it does not know.
    pub fn wants(&self, section: &[u8]) -> bool {
        if section.starts_with(b"Tcp") || section.starts_with(b"MPTcp") {
            self.tcp
        } else if section.starts_with(b"UdpLite") {
            self.udplite
        } else if section.starts_with(b"Udp") {
            self.udp
        } else if section.starts_with(b"Sctp") {
            self.sctp
        } else if section.starts_with(b"Ip") || section.starts_with(b"Icmp") {
            self.raw
        } else {
            true
        }
    }
}

/// One value as the file has it: counters are unsigned, a few fields
/// (`Tcp: MaxConn -1`) are signed.
fn value(text: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(text).ok()?;
    if let Some(negative) = text.strip_prefix('-') {
        negative.parse::<u64>().ok()?;
        return text.parse::<i64>().ok().map(Value::Signed);
    }
    text.parse::<u64>().ok().map(Value::Unsigned)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    Unsigned(u64),
    Signed(i64),
}

/// Where each counter goes: (section, the kernel's key, value).
pub type Emit<'a> = dyn FnMut(&[u8], &[u8], Value) -> io::Result<()> + 'a;

/// One counter as a record: `{"kind":"statistic","section","name","value"}`
/// in JSON. netstat writes no counter alone (its text is sentences over a
/// whole file), so this is a [`Record`] and no table row.
pub struct Statistic<'a> {
    pub section: &'a [u8],
    pub name: &'a [u8],
    pub value: Value,
}

impl Record for Statistic<'_> {
    const KIND: &'static str = "statistic";

    fn fields(&self, fields: &mut impl Fields) {
        fields.str("section", self.section).str("name", self.name);
        match self.value {
            Value::Unsigned(v) => fields.u64("value", v),
            Value::Signed(v) => fields.i64("value", v),
        };
    }
}

fn words(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
}

/// /proc/net/snmp and /proc/net/netstat: a line of keys and a line of
/// values per section, both starting `Title:`. With `only`, just the
/// section of that title. `Ok(false)` when the file is malformed (a line
/// pair without titles, or titles or counts that do not match); the
/// counters before that point are written.
pub fn pairs(
    emit: &mut Emit<'_>,
    text: &[u8],
    filter: SectionFilter,
    only: Option<&[u8]>,
) -> io::Result<bool> {
    let mut lines = text.split(|&b| b == b'\n').filter(|l| !l.is_empty());
    while let Some(keys) = lines.next() {
        let Some(values) = lines.next() else {
            return Ok(false);
        };
        let split = |l: &'_ [u8]| {
            let colon = l.iter().position(|&b| b == b':')?;
            Some((l[..colon].to_vec(), colon))
        };
        let (Some((title, key_colon)), Some((value_title, value_colon))) =
            (split(keys), split(values))
        else {
            return Ok(false);
        };
        if title != value_title {
            return Ok(false);
        }
        if only.is_some_and(|o| o != title.as_slice()) || !filter.wants(&title) {
            continue;
        }
        let names: Vec<&[u8]> = words(&keys[key_colon + 1..]).collect();
        let numbers: Vec<&[u8]> = words(&values[value_colon + 1..]).collect();
        if names.len() != numbers.len() {
            return Ok(false);
        }
        for (name, number) in names.into_iter().zip(numbers) {
            let Some(number) = value(number) else {
                return Ok(false);
            };
            emit(&title, name, number)?;
        }
    }
    Ok(true)
}

/// /proc/net/snmp6 (`Ip6InReceives 12`, section `Ip6`: the key up to
/// its first `6`, as netstat titles it) and /proc/net/sctp/snmp
/// (`SctpCurrEstab 0`, section `Sctp`). The name is the key as the
/// kernel writes it. `Ok(false)` on a line that is not `KEY VALUE`.
pub fn key_values(
    emit: &mut Emit<'_>,
    text: &[u8],
    filter: SectionFilter,
    fixed_section: Option<&[u8]>,
) -> io::Result<bool> {
    for text_line in text.split(|&b| b == b'\n') {
        let mut parts = words(text_line);
        let Some(key) = parts.next() else { continue };
        let (Some(number), None) = (parts.next().and_then(value), parts.next()) else {
            return Ok(false);
        };
        let section = fixed_section.unwrap_or_else(|| match key.iter().position(|&b| b == b'6') {
            Some(six) => &key[..=six],
            None => key,
        });
        if filter.wants(section) {
            emit(section, key, number)?;
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::render::json::JsonLine;

    /// The counters as JSON objects, written as the table sink writes
    /// records.
    fn run(f: impl FnOnce(&mut Emit<'_>) -> io::Result<bool>) -> (bool, String) {
        let mut out = Vec::new();
        let mut line = JsonLine::new();
        let ok = {
            let mut emit = |section: &[u8], name: &[u8], value: Value| {
                line.begin(Statistic::KIND);
                Statistic {
                    section,
                    name,
                    value,
                }
                .fields(&mut line);
                line.end(&mut out)
            };
            f(&mut emit).unwrap()
        };
        (ok, String::from_utf8(out).unwrap())
    }

    #[test]
    fn pairs_give_every_counter_signed_where_negative() {
        let text = b"Tcp: RtoAlgorithm MaxConn ActiveOpens\nTcp: 1 -1 18446744073709551615\nUdp: InDatagrams\nUdp: 5\n";
        let (ok, json) = run(|out| pairs(out, text, SectionFilter::ALL, None));
        assert!(ok);
        assert_eq!(
            json,
            "{\"kind\":\"statistic\",\"section\":\"Tcp\",\"name\":\"RtoAlgorithm\",\"value\":1}\n\
             {\"kind\":\"statistic\",\"section\":\"Tcp\",\"name\":\"MaxConn\",\"value\":-1}\n\
             {\"kind\":\"statistic\",\"section\":\"Tcp\",\"name\":\"ActiveOpens\",\"value\":18446744073709551615}\n\
             {\"kind\":\"statistic\",\"section\":\"Udp\",\"name\":\"InDatagrams\",\"value\":5}\n"
        );
        let tcp_only = SectionFilter {
            tcp: true,
            ..SectionFilter::default()
        };
        let (_, json) = run(|out| pairs(out, text, tcp_only, None));
        assert_eq!(json.lines().count(), 3);
        let (_, json) = run(|out| pairs(out, text, SectionFilter::ALL, Some(b"Udp")));
        assert_eq!(json.lines().count(), 1);
    }

    #[test]
    fn malformed_pairs_are_reported() {
        for text in [
            &b"Tcp: A B\nTcp: 1\n"[..],
            b"Tcp: A\nUdp: 1\n",
            b"Tcp A\nTcp 1\n",
            b"Tcp: A\n",
            b"Tcp: A\nTcp: x\n",
        ] {
            assert!(
                !run(|out| pairs(out, text, SectionFilter::ALL, None)).0,
                "{text:?}"
            );
        }
    }

    #[test]
    fn snmp6_sections_follow_netstat_titles() {
        let text = b"Ip6InReceives                   \t7\nIcmp6InMsgs 2\nUdpLite6InErrors 0\n";
        let (ok, json) = run(|out| key_values(out, text, SectionFilter::ALL, None));
        assert!(ok);
        assert!(json.contains("\"section\":\"Ip6\",\"name\":\"Ip6InReceives\",\"value\":7"));
        assert!(json.contains("\"section\":\"Icmp6\",\"name\":\"Icmp6InMsgs\",\"value\":2"));
        assert!(json.contains("\"section\":\"UdpLite6\""));
        let udplite = SectionFilter {
            udplite: true,
            ..SectionFilter::default()
        };
        let (_, json) = run(|out| key_values(out, text, udplite, None));
        assert_eq!(json.lines().count(), 1);
        assert!(!run(|out| key_values(out, b"Ip6InReceives\n", SectionFilter::ALL, None)).0);
        let (_, json) =
            run(|out| key_values(out, b"SctpCurrEstab 3\n", SectionFilter::ALL, Some(b"Sctp")));
        assert!(json.contains("\"section\":\"Sctp\",\"name\":\"SctpCurrEstab\",\"value\":3"));
    }
}
