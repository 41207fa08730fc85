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
        if config.output.is_json() {
            return self.json(config, &family, tick, out);
        }
        let selection = selection(config);
        match family.as_str() {
            "inet" => self.inet(selection, out),
            "inet6" => self.inet6(selection, out),
            other => {
                // netstat says this on stdout.
                writeln!(
                    out,
                    "netstat: No statistics support for specified address family: {other}"
                )?;
                Ok(1)
            }
        }
    }

    /// `--json`: the counters of the files `-s` reads, with the same
    /// messages (on stderr) and exit statuses.
    fn json(
        &mut self,
        config: &Config,
        family: &str,
        tick: &Tick,
        out: &mut dyn Write,
    ) -> Result<i32> {
        let p = &config.protocols;
        let filter = counters::SectionFilter {
            raw: p.raw,
            tcp: p.tcp,
            udp: p.udp,
            udplite: p.udplite,
            sctp: p.sctp,
        };
        // (file, required, layout): the IPv6 counters have no TCP section
        // of their own; netstat adds snmp's Tcp, and so does this.
        enum Layout {
            Pairs(Option<&'static [u8]>),
            KeyValues(Option<&'static [u8]>),
        }
        let files: &[(&str, bool, Layout)] = match family {
            "inet" => &[
                ("net/snmp", true, Layout::Pairs(None)),
                ("net/netstat", false, Layout::Pairs(None)),
                ("net/sctp/snmp", false, Layout::KeyValues(Some(b"Sctp"))),
            ],
            "inet6" => &[
                ("net/snmp6", true, Layout::KeyValues(None)),
                ("net/snmp", true, Layout::Pairs(Some(b"Tcp"))),
            ],
            other => {
                eprintln!("netstat: No statistics support for specified address family: {other}");
                return Ok(1);
            }
        };
        let mut status = 0;
        let mut emit = counters::json_objects(out, tick);
        for (relative, required, layout) in files {
            match self.read(relative) {
                Loaded::Text => {}
                Loaded::Missing if !required => continue,
                Loaded::Missing => {
                    self.cannot_open(relative, None);
                    return Ok(1);
                }
                Loaded::Failed(e) => {
                    self.cannot_open(relative, Some(e));
                    if *required {
                        return Ok(1);
                    }
                    status = 1;
                    continue;
                }
            }
            let well_formed = match layout {
                Layout::Pairs(only) => counters::pairs(&mut emit, &self.buffer, filter, *only)?,
                Layout::KeyValues(section) => {
                    counters::key_values(&mut emit, &self.buffer, filter, *section)?
                }
            };
            if !well_formed {
                eprintln!(
                    "Problem while parsing {}",
                    self.root.shown(relative).display()
                );
                status = 1;
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
            strerror(&error)
        );
    }

    /// snmp, then the optional netstat and sctp/snmp files.
    fn inet(&mut self, selection: Selection, out: &mut dyn Write) -> Result<i32> {
        let mut sentences = Sentences::new(selection);
        match self.read("net/snmp") {
            Loaded::Text => {}
            Loaded::Missing => {
                self.cannot_open("net/snmp", None);
                return Ok(1);
            }
            Loaded::Failed(e) => {
                self.cannot_open("net/snmp", Some(e));
                return Ok(1);
            }
        }
        if !sentences.pairs(out, &self.buffer, Tables::Snmp, None)? {
            eprintln!(
                "Problem while parsing {}",
                self.root.shown("net/snmp").display()
            );
        }
        let mut status = 0;
        // netstat reads these two only when they exist.
        for (relative, pairs) in [("net/netstat", true), ("net/sctp/snmp", false)] {
            match self.read(relative) {
                Loaded::Text => {
                    if pairs {
                        if !sentences.pairs(out, &self.buffer, Tables::Snmp, None)? {
                            eprintln!(
                                "Problem while parsing {}",
                                self.root.shown(relative).display()
                            );
                        }
                    } else {
                        sentences.sctp(out, &self.buffer)?;
                    }
                }
                Loaded::Missing => {}
                Loaded::Failed(e) => {
                    self.cannot_open(relative, Some(e));
                    status = 1;
                }
            }
        }
        Ok(status)
    }

    /// snmp6, then the Tcp table of snmp (IPv6 has no TCP counters of its own).
    fn inet6(&mut self, selection: Selection, out: &mut dyn Write) -> Result<i32> {
        let mut sentences = Sentences::new(selection);
        for (relative, six) in [("net/snmp6", true), ("net/snmp", false)] {
            match self.read(relative) {
                Loaded::Text => {}
                Loaded::Missing => {
                    self.cannot_open(relative, None);
                    return Ok(1);
                }
                Loaded::Failed(e) => {
                    self.cannot_open(relative, Some(e));
                    return Ok(1);
                }
            }
            if six {
                sentences.lines6(out, &self.buffer)?;
            } else {
                // netstat ignores a format problem here.
                let _ = sentences.pairs(out, &self.buffer, Tables::Snmp, Some(b"Tcp"))?;
            }
        }
        Ok(0)
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

/// The C library's text for an error, without Rust's "(os error N)".
pub(crate) fn strerror(error: &std::io::Error) -> String {
    match error.raw_os_error() {
        Some(code) => {
            // SAFETY: strerror returns a valid C string for any code.
            let text = unsafe { std::ffi::CStr::from_ptr(libc::strerror(code)) };
            text.to_string_lossy().into_owned()
        }
        None => error.to_string(),
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

    #[test]
    fn strerror_has_no_rust_suffix() {
        let e = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(strerror(&e), "No such file or directory");
    }
}
