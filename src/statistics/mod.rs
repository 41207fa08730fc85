//! `-s`: the kernel's SNMP counters (/proc/net/snmp, /proc/net/netstat,
//! /proc/net/sctp/snmp, /proc/net/snmp6) as net-tools' sentences.
//!
//! netstat prints the statistics once and exits, whatever `-c` says; the
//! address family list decides between the IPv4 and IPv6 files, and any
//! other list is refused.

pub mod counters;
pub(crate) mod sentences;
mod tables;

use crate::collect::procfs::ProcRoot;
use crate::config::Config;
use crate::error::Result;
use crate::model::Tick;
use crate::sinks::table::{RecordSource, RecordWriter, TableOutput};
use sentences::{Selection, Sentences, Tables};
use std::io::{Read, Write};

pub struct Statistics {
    root: ProcRoot,
    buffer: Vec<u8>,
}

/// How reading one /proc file went.
enum Loaded {
    Text,
    Missing,
    Failed(std::io::Error),
}

impl Statistics {
    pub fn new(root: ProcRoot) -> Self {
        Statistics {
            root,
            buffer: Vec::new(),
        }
    }

    /// Print the statistics; returns netstat's exit status (1 for an
    /// address family without statistics, or when a file could not be read).
    pub fn tick(&mut self, config: &Config, tick: &Tick, out: &mut dyn Write) -> Result<i32> {
        let family = if config.af_names.is_empty() {
            "inet".to_string()
        } else {
            config.af_names.join(",")
        };
        let mut sink = TableOutput::for_tick(config, tick);
        let files = match family.as_str() {
            "inet" => INET_FILES,
            "inet6" => INET6_FILES,
            other => {
                sink.say(
                    out,
                    &format!(
                        "netstat: No statistics support for specified address family: {other}"
                    ),
                )?;
                return Ok(1);
            }
        };
        let mut sentences = Sentences::new(selection(config));
        let mut status = 0;
        for file in files {
            match self.read(file.relative) {
                Loaded::Text => {}
                Loaded::Missing if !file.required => continue,
                Loaded::Missing => {
                    self.cannot_open(file.relative, None);
                    return Ok(1);
                }
                Loaded::Failed(e) => {
                    self.cannot_open(file.relative, Some(e));
                    if file.required {
                        return Ok(1);
                    }
                    status = 1;
                    continue;
                }
            }
            let mut counters = CounterFile {
                text: &self.buffer,
                layout: file.layout,
                sentences: &mut sentences,
                filter: section_filter(config),
            };
            if !sink.source(out, &mut counters)? {
                eprintln!(
                    "Problem while parsing {}",
                    self.root.shown(file.relative).display()
                );
                if sink.malformed_fails() {
                    status = 1;
                }
            }
        }
        Ok(status)
    }

    fn read(&mut self, relative: &str) -> Loaded {
        let path = self.root.path(relative);
        self.buffer.clear();
        match std::fs::File::open(&path).and_then(|mut f| f.read_to_end(&mut self.buffer)) {
            Ok(_) => Loaded::Text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Loaded::Missing,
            Err(e) => Loaded::Failed(e),
        }
    }

    /// `cannot open PATH: reason`, as netstat's perror says it.
    fn cannot_open(&self, relative: &str, error: Option<std::io::Error>) {
        let error = error.unwrap_or_else(|| std::io::Error::from_raw_os_error(libc::ENOENT));
        eprintln!(
            "cannot open {}: {}",
            self.root.shown(relative).display(),
            crate::error::strerror(&error)
        );
    }
}

/// One /proc file `-s` reads.
struct ProcFile {
    relative: &'static str,
    /// A required file that cannot be read ends the run with status 1;
    /// an optional one is skipped when missing.
    required: bool,
    layout: Layout,
}

#[derive(Clone, Copy)]
enum Layout {
    /// Lines of keys and values in pairs (snmp, netstat); with a title,
    /// only that section, whose format problems netstat's text ignores.
    Pairs(Option<&'static [u8]>),
    /// snmp6's `Key value` lines.
    Snmp6,
    /// sctp/snmp's `Key value` lines, all of section `Sctp`.
    Sctp,
}

/// snmp, then netstat and sctp/snmp when they exist.
const INET_FILES: &[ProcFile] = &[
    ProcFile {
        relative: "net/snmp",
        required: true,
        layout: Layout::Pairs(None),
    },
    ProcFile {
        relative: "net/netstat",
        required: false,
        layout: Layout::Pairs(None),
    },
    ProcFile {
        relative: "net/sctp/snmp",
        required: false,
        layout: Layout::Sctp,
    },
];

/// snmp6, then the Tcp section of snmp (IPv6 has no TCP counters of its
/// own; netstat adds IPv4's).
const INET6_FILES: &[ProcFile] = &[
    ProcFile {
        relative: "net/snmp6",
        required: true,
        layout: Layout::Snmp6,
    },
    ProcFile {
        relative: "net/snmp",
        required: true,
        layout: Layout::Pairs(Some(b"Tcp")),
    },
];

/// A file's counters: netstat's sentences (whose state runs on from file
/// to file), or one [`counters::Statistic`] record each.
struct CounterFile<'a> {
    text: &'a [u8],
    layout: Layout,
    sentences: &'a mut Sentences,
    filter: counters::SectionFilter,
}

impl RecordSource for CounterFile<'_> {
    fn write_netstat(&mut self, out: &mut dyn Write) -> std::io::Result<bool> {
        let (text, sentences) = (self.text, &mut *self.sentences);
        match self.layout {
            Layout::Pairs(None) => sentences.pairs(out, text, Tables::Snmp, None),
            Layout::Pairs(only) => {
                // netstat ignores a format problem here.
                let _ = sentences.pairs(out, text, Tables::Snmp, only)?;
                Ok(true)
            }
            Layout::Snmp6 => sentences.lines6(out, text).map(|()| true),
            Layout::Sctp => sentences.sctp(out, text).map(|()| true),
        }
    }

    fn records(&self, records: &mut RecordWriter<'_>) -> std::io::Result<bool> {
        let mut emit = |section: &[u8], name: &[u8], value| {
            records.record(&counters::Statistic {
                section,
                name,
                value,
            })
        };
        match self.layout {
            Layout::Pairs(only) => counters::pairs(&mut emit, self.text, self.filter, only),
            Layout::Snmp6 => counters::key_values(&mut emit, self.text, self.filter, None),
            Layout::Sctp => counters::key_values(&mut emit, self.text, self.filter, Some(b"Sctp")),
        }
    }
}

/// The sections `-s --json` writes: netstat's protocol selection, with
/// UDP-Lite of its own.
fn section_filter(config: &Config) -> counters::SectionFilter {
    let p = &config.protocols;
    counters::SectionFilter {
        raw: p.raw,
        tcp: p.tcp,
        udp: p.udp,
        udplite: p.udplite,
        sctp: p.sctp,
    }
}

/// netstat's f_raw/f_tcp/f_udp/f_sctp. With no protocol named, the cli
/// selects them all for -s, SCTP included (seen with a /proc/net/sctp/snmp
/// in place).
fn selection(config: &Config) -> Selection {
    let p = &config.protocols;
    Selection {
        raw: p.raw,
        tcp: p.tcp,
        udp: p.udp,
        sctp: p.sctp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Mode, Protocols};

    fn config(protocols: Protocols, af_names: Vec<&'static str>) -> Config {
        Config {
            mode: Mode::Statistics,
            protocols,
            af_names,
            ..Config::default()
        }
    }

    fn all() -> Protocols {
        Protocols {
            tcp: true,
            udp: true,
            udplite: true,
            raw: true,
            ..Protocols::default()
        }
    }

    fn parsed(args: &[&str]) -> Config {
        let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        match crate::cli::parse(&args) {
            crate::cli::Parsed::Run(c) => *c,
            _ => panic!("{args:?} must parse"),
        }
    }

    #[test]
    fn implied_protocols_include_sctp() {
        let s = selection(&parsed(&["netstat", "-s"]));
        assert_eq!(
            s,
            Selection {
                raw: true,
                tcp: true,
                udp: true,
                sctp: true
            }
        );
        let t = selection(&parsed(&["netstat", "-st"]));
        assert_eq!(
            t,
            Selection {
                tcp: true,
                ..Selection::default()
            }
        );
    }

    #[test]
    fn other_families_are_refused_on_stdout() {
        let dir = std::env::temp_dir().join(format!("nlstat-stat-unit-{}", std::process::id()));
        let mut statistics = Statistics::new(ProcRoot(dir));
        let mut out = Vec::new();
        let status = statistics
            .tick(&config(all(), vec!["inet", "unix"]), &Tick::OWN, &mut out)
            .unwrap();
        assert_eq!(status, 1);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "netstat: No statistics support for specified address family: inet,unix\n"
        );
    }

    #[test]
    fn missing_snmp_is_an_error_with_nothing_printed() {
        let dir = std::env::temp_dir().join(format!("nlstat-stat-missing-{}", std::process::id()));
        let mut statistics = Statistics::new(ProcRoot(dir));
        let mut out = Vec::new();
        assert_eq!(
            statistics
                .tick(&config(all(), vec![]), &Tick::OWN, &mut out)
                .unwrap(),
            1
        );
        assert_eq!(
            statistics
                .tick(&config(all(), vec!["inet6"]), &Tick::OWN, &mut out)
                .unwrap(),
            1
        );
        assert!(out.is_empty());
    }
}
