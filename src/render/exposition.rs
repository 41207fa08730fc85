//! Prometheus' text exposition format (0.0.4) and OpenMetrics 1.0 text:
//! HELP and TYPE once per metric family, escaped label values.

use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`
    Prometheus,
    /// `application/openmetrics-text; version=1.0.0`
    OpenMetrics,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Gauge,
    Counter,
    /// A distribution of what is there now (it may shrink): a histogram
    /// in the 0.0.4 format, OpenMetrics' gauge histogram (whose count and
    /// sum samples are `_gcount` and `_gsum`, see [`Exposition::suffixes`]).
    GaugeHistogram,
}

/// Writes metric families into a stream, or into [`Families`] when
/// several namespaces' samples of one family must end up together.
pub struct Exposition<'a> {
    out: Target<'a>,
    format: Format,
    /// Labels put first on every sample, already escaped and joined
    /// (`netns="a",netns_inode="1"`): the namespace being collected.
    labels: Vec<u8>,
}

enum Target<'a> {
    Stream(&'a mut dyn Write),
    Families(&'a mut Families),
}

impl<'a> Exposition<'a> {
    pub fn new(out: &'a mut dyn Write, format: Format) -> Self {
        Exposition {
            out: Target::Stream(out),
            format,
            labels: Vec::new(),
        }
    }

    /// Families into `families`, each sample labelled with `labels` first.
    pub fn labelled(families: &'a mut Families, format: Format, labels: &[(&str, &str)]) -> Self {
        let mut joined = Vec::new();
        for (i, (key, value)) in labels.iter().enumerate() {
            if i > 0 {
                joined.push(b',');
            }
            joined.extend_from_slice(key.as_bytes());
            joined.extend_from_slice(b"=\"");
            joined.extend_from_slice(escape_label(value).as_bytes());
            joined.push(b'"');
        }
        Exposition {
            out: Target::Families(families),
            format,
            labels: joined,
        }
    }

    /// Where the lines of the current family go (nowhere before a first
    /// family, with [`Families`]).
    fn lines(&mut self) -> &mut dyn Write {
        match &mut self.out {
            Target::Stream(out) => &mut **out,
            Target::Families(families) => families.samples(),
        }
    }

    /// Start a family. A counter's `name` is its base name: samples get
    /// `_total` (and so does the family in the 0.0.4 format).
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) -> io::Result<()> {
        let (family, word) = match (kind, self.format) {
            (Kind::Gauge, _) => (name.to_string(), "gauge"),
            (Kind::Counter, Format::Prometheus) => (format!("{name}_total"), "counter"),
            (Kind::Counter, Format::OpenMetrics) => (name.to_string(), "counter"),
            (Kind::GaugeHistogram, Format::Prometheus) => (name.to_string(), "histogram"),
            (Kind::GaugeHistogram, Format::OpenMetrics) => (name.to_string(), "gaugehistogram"),
        };
        let out: &mut dyn Write = match &mut self.out {
            Target::Stream(out) => &mut **out,
            Target::Families(families) => match families.start(&family) {
                Some(header) => header,
                // a family already started: its HELP and TYPE are written
                None => return Ok(()),
            },
        };
        writeln!(out, "# HELP {family} {}", escape_help(help))?;
        writeln!(out, "# TYPE {family} {word}")
    }

    /// The count and sum suffixes of a [`Kind::GaugeHistogram`]'s samples.
    pub fn suffixes(&self) -> (&'static str, &'static str) {
        match self.format {
            Format::Prometheus => ("_count", "_sum"),
            Format::OpenMetrics => ("_gcount", "_gsum"),
        }
    }

    /// One sample; `name` is the full sample name (with `_total` for a
    /// counter).
    pub fn sample(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        value: impl std::fmt::Display,
    ) -> io::Result<()> {
        let prefix = std::mem::take(&mut self.labels);
        let written = sample_line(self.lines(), name, &prefix, labels, value);
        self.labels = prefix;
        written
    }

    /// The end of the exposition (OpenMetrics needs `# EOF`).
    pub fn finish(&mut self) -> io::Result<()> {
        if self.format == Format::OpenMetrics {
            self.lines().write_all(b"# EOF\n")?;
        }
        Ok(())
    }
}

/// `name{prefix,labels} value`, braces only when there are labels.
fn sample_line(
    out: &mut dyn Write,
    name: &str,
    prefix: &[u8],
    labels: &[(&str, &str)],
    value: impl std::fmt::Display,
) -> io::Result<()> {
    out.write_all(name.as_bytes())?;
    if !labels.is_empty() || !prefix.is_empty() {
        out.write_all(b"{")?;
        out.write_all(prefix)?;
        for (i, (key, value)) in labels.iter().enumerate() {
            if i > 0 || !prefix.is_empty() {
                out.write_all(b",")?;
            }
            write!(out, "{key}=\"{}\"", escape_label(value))?;
        }
        out.write_all(b"}")?;
    }
    writeln!(out, " {value}")
}

/// Metric families kept apart: the format wants a family's samples
/// together, so several namespaces' samples are gathered family by family
/// (each family's HELP and TYPE from the first that has it) and written
/// at the end, in the order the families first came.
#[derive(Default)]
pub struct Families {
    order: Vec<String>,
    /// HELP and TYPE lines, and the samples, of each family.
    families: rustc_hash::FxHashMap<String, (Vec<u8>, Vec<u8>)>,
    /// The family samples go to now.
    current: Option<String>,
    /// Where lines outside any family go (dropped).
    nowhere: Vec<u8>,
}

impl Families {
    /// Make `family` the current one; its header buffer when it is new.
    fn start(&mut self, family: &str) -> Option<&mut Vec<u8>> {
        self.current = Some(family.to_string());
        if self.families.contains_key(family) {
            return None;
        }
        self.order.push(family.to_string());
        Some(&mut self.families.entry(family.to_string()).or_default().0)
    }

    fn samples(&mut self) -> &mut Vec<u8> {
        match self.current.as_ref().and_then(|c| self.families.get_mut(c)) {
            Some((_, samples)) => samples,
            None => {
                self.nowhere.clear();
                &mut self.nowhere
            }
        }
    }

    /// Add `other`'s families (another namespace's) after these.
    pub fn append(&mut self, other: Families) {
        let Families {
            order,
            mut families,
            ..
        } = other;
        for name in order {
            let Some((header, samples)) = families.remove(&name) else {
                continue;
            };
            match self.families.get_mut(&name) {
                Some(mine) => mine.1.extend_from_slice(&samples),
                None => {
                    self.order.push(name.clone());
                    self.families.insert(name, (header, samples));
                }
            }
        }
        self.current = None;
    }

    /// Write every family with its samples, in the order first added.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        for name in &self.order {
            if let Some((header, samples)) = self.families.get(name) {
                out.write_all(header)?;
                out.write_all(samples)?;
            }
        }
        Ok(())
    }
}

fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A metric name from kernel CamelCase (`TCPReqQFullDrop` →
/// `tcp_req_q_full_drop`), for names that stay snake_case as the
/// exposition format's conventions (and promtool) want.
pub fn snake_case(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            let boundary = match prev {
                None => false,
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                Some(_) => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    join_unit_like_words(&out)
}

/// Words that read as abbreviated units (promtool's lint rejects a name
/// with `_h_` or `_min_` in it) are joined to the word after them
/// (`ack_h_mac` → `ack_hmac`), or before them at the end.
fn join_unit_like_words(name: &str) -> String {
    const UNITS: &[&str] = &[
        "s", "ms", "us", "ns", "sec", "min", "hr", "h", "d", "w", "m", "y", "b", "kb", "mb", "gb",
        "tb", "pb",
    ];
    let words: Vec<&str> = name.split('_').collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut carry = String::new();
    for (i, word) in words.iter().enumerate() {
        let joined = format!("{carry}{word}");
        if UNITS.contains(word) && carry.is_empty() {
            if i + 1 < words.len() {
                carry = joined;
                continue;
            }
            if let Some(last) = out.last_mut() {
                last.push_str(word);
                continue;
            }
        }
        carry.clear();
        out.push(joined);
    }
    out.join("_")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One sample: name, labels, value.
    type Sample<'a> = (&'a str, &'a [(&'a str, &'a str)], u64);

    /// One namespace's families, each sample labelled with `labels`.
    fn exposition(samples: &[Sample<'_>], labels: &[(&str, &str)]) -> Families {
        let mut families = Families::default();
        let mut e = Exposition::labelled(&mut families, Format::Prometheus, labels);
        e.family("nlstat_sockets", Kind::Gauge, "Sockets.").unwrap();
        for (name, labels, value) in samples {
            e.sample(name, labels, value).unwrap();
        }
        e.family("nlstat_snmp_tcp_active_opens", Kind::Counter, "Opens.")
            .unwrap();
        e.sample("nlstat_snmp_tcp_active_opens_total", &[], 7)
            .unwrap();
        families
    }

    #[test]
    fn merged_families_keep_their_samples_together() {
        let mut merger = Families::default();
        merger.append(exposition(
            &[("nlstat_sockets", &[("state", "LISTEN")], 1)],
            &[("netns", "self"), ("netns_inode", "1")],
        ));
        merger.append(exposition(
            &[("nlstat_sockets", &[("state", "a \"b\"")], 2)],
            &[("netns", "pod \"x\""), ("netns_inode", "2")],
        ));
        let mut out = Vec::new();
        merger.write(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# HELP nlstat_sockets Sockets.\n\
             # TYPE nlstat_sockets gauge\n\
             nlstat_sockets{netns=\"self\",netns_inode=\"1\",state=\"LISTEN\"} 1\n\
             nlstat_sockets{netns=\"pod \\\"x\\\"\",netns_inode=\"2\",state=\"a \\\"b\\\"\"} 2\n\
             # HELP nlstat_snmp_tcp_active_opens_total Opens.\n\
             # TYPE nlstat_snmp_tcp_active_opens_total counter\n\
             nlstat_snmp_tcp_active_opens_total{netns=\"self\",netns_inode=\"1\"} 7\n\
             nlstat_snmp_tcp_active_opens_total{netns=\"pod \\\"x\\\"\",netns_inode=\"2\"} 7\n"
        );
    }

    #[test]
    fn kernel_names_become_snake_case() {
        assert_eq!(snake_case("ListenOverflows"), "listen_overflows");
        assert_eq!(snake_case("TCPReqQFullDrop"), "tcp_req_q_full_drop");
        assert_eq!(snake_case("TcpExt"), "tcp_ext");
        assert_eq!(snake_case("InType133"), "in_type133");
        assert_eq!(snake_case("Ip6"), "ip6");
        assert_eq!(snake_case("MPTcpExt"), "mp_tcp_ext");
        assert_eq!(
            snake_case("MPJoinAckHMacFailure"),
            "mp_join_ack_hmac_failure"
        );
        assert_eq!(snake_case("RtoMin"), "rtomin");
    }

    #[test]
    fn families_and_samples() {
        let mut out = Vec::new();
        let mut e = Exposition::new(&mut out, Format::Prometheus);
        e.family("x_bytes", Kind::Counter, "Bytes.").unwrap();
        e.sample("x_bytes_total", &[("iface", "a\"b\\c")], 5)
            .unwrap();
        e.finish().unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# HELP x_bytes_total Bytes.\n# TYPE x_bytes_total counter\nx_bytes_total{iface=\"a\\\"b\\\\c\"} 5\n"
        );
        let mut out = Vec::new();
        let mut e = Exposition::new(&mut out, Format::OpenMetrics);
        e.family("x_bytes", Kind::Counter, "Bytes.").unwrap();
        e.finish().unwrap();
        assert!(
            String::from_utf8(out)
                .unwrap()
                .ends_with("# TYPE x_bytes counter\n# EOF\n")
        );
    }
}
