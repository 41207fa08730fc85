//! The table sink seam: routes, interfaces, statistics and groups collect
//! their records and hand each to a [`TableOutput`], chosen once per tick
//! from `config.output`; they never ask which format it is.
//!
//! A record knows two things about itself: netstat's bytes for it (the
//! byte-exact writers stay beside their tables) and its facts as named
//! [`Fields`]. netstat's text is the one format that is particular to each
//! table; every other format is written from the fields, so adding one is
//! a variant of `config::Output`, its writer (in `render/`, with a
//! [`Fields`] impl here) and an arm in each `match` below (and in
//! [`RecordWriter`], which then becomes an enum): three files, no table
//! module. The set is closed and tables are small, so this is an
//! enum (like [`super::SocketOutput`]) whose arms inline, not a trait
//! object.

use crate::config::Config;
use crate::model::Tick;
use crate::render::json::JsonLine;
use std::io::{self, Write};
use std::net::IpAddr;

/// Where a record's facts are written, one named field at a time.
pub trait Fields {
    fn str(&mut self, name: &str, value: &[u8]) -> &mut Self;
    fn u64(&mut self, name: &str, value: u64) -> &mut Self;
    fn i64(&mut self, name: &str, value: i64) -> &mut Self;
    fn bool(&mut self, name: &str, value: bool) -> &mut Self;
    fn ip(&mut self, name: &str, address: IpAddr) -> &mut Self;
    /// A fact this record has no value for (netstat prints none).
    fn null(&mut self, name: &str) -> &mut Self;
    fn str_array<'a>(&mut self, name: &str, values: impl IntoIterator<Item = &'a str>)
    -> &mut Self;
    /// A list of nested records, each opened with `item_begin` and
    /// closed with `item_end`.
    fn list_begin(&mut self, name: &str) -> &mut Self;
    fn item_begin(&mut self, first: bool) -> &mut Self;
    fn item_end(&mut self) -> &mut Self;
    fn list_end(&mut self) -> &mut Self;

    fn opt_str(&mut self, name: &str, value: Option<&[u8]>) -> &mut Self {
        match value {
            Some(v) => self.str(name, v),
            None => self.null(name),
        }
    }

    fn opt_u64(&mut self, name: &str, value: Option<u64>) -> &mut Self {
        match value {
            Some(v) => self.u64(name, v),
            None => self.null(name),
        }
    }

    fn opt_ip(&mut self, name: &str, address: Option<IpAddr>) -> &mut Self {
        match address {
            Some(a) => self.ip(name, a),
            None => self.null(name),
        }
    }
}

impl Fields for JsonLine {
    fn str(&mut self, name: &str, value: &[u8]) -> &mut Self {
        JsonLine::str(self, name, value)
    }
    fn u64(&mut self, name: &str, value: u64) -> &mut Self {
        JsonLine::u64(self, name, value)
    }
    fn i64(&mut self, name: &str, value: i64) -> &mut Self {
        JsonLine::i64(self, name, value)
    }
    fn bool(&mut self, name: &str, value: bool) -> &mut Self {
        JsonLine::bool(self, name, value)
    }
    fn ip(&mut self, name: &str, address: IpAddr) -> &mut Self {
        JsonLine::ip(self, name, address)
    }
    fn null(&mut self, name: &str) -> &mut Self {
        JsonLine::null(self, name)
    }
    fn str_array<'a>(
        &mut self,
        name: &str,
        values: impl IntoIterator<Item = &'a str>,
    ) -> &mut Self {
        JsonLine::str_array(self, name, values)
    }
    fn list_begin(&mut self, name: &str) -> &mut Self {
        self.array_begin(name)
    }
    fn item_begin(&mut self, first: bool) -> &mut Self {
        self.object_begin(first)
    }
    fn item_end(&mut self) -> &mut Self {
        self.object_end()
    }
    fn list_end(&mut self) -> &mut Self {
        self.array_end()
    }
}

/// One record's facts: what every format but netstat's text writes.
pub trait Record {
    /// What kind of record it is (JSON's `kind`).
    const KIND: &'static str;

    fn fields(&self, fields: &mut impl Fields);
}

/// One row of a netstat table (a route, an interface, a group
/// membership): its facts, and netstat's bytes for it.
pub trait TableRecord: Record {
    /// netstat's bytes for this row: the text arm.
    fn write_netstat(&self, out: &mut dyn Write) -> io::Result<()>;
}

/// Input that netstat writes whole (a /proc counter file, as sentences
/// whose wording depends on the lines before) while other formats write
/// one record per fact in it.
pub trait RecordSource {
    /// netstat's text for the whole input; `Ok(false)` when netstat finds
    /// it malformed.
    fn write_netstat(&mut self, out: &mut dyn Write) -> io::Result<bool>;

    /// Hand every record to `records`; `Ok(false)` when the input is
    /// malformed (the records before the fault are handed on).
    fn records(&self, records: &mut RecordWriter<'_>) -> io::Result<bool>;
}

/// Where a [`RecordSource`] hands its records: the format, when it is
/// one written from fields.
pub struct RecordWriter<'s> {
    line: &'s mut JsonLine,
    out: &'s mut dyn Write,
}

impl RecordWriter<'_> {
    pub fn record<R: Record>(&mut self, record: &R) -> io::Result<()> {
        json_object(self.line, self.out, record)
    }
}

/// The format a tick's table records are written in.
pub enum TableOutput {
    /// netstat's tables, byte for byte, titles and headers included.
    NetstatText,
    /// One JSON object per record (labelled with the tick's namespace
    /// under `--all-netns`); no titles.
    JsonLines(JsonLine),
}

impl TableOutput {
    pub fn for_tick(config: &Config, tick: &Tick) -> Self {
        match config.output {
            crate::config::Output::NetstatText => TableOutput::NetstatText,
            crate::config::Output::JsonLines => TableOutput::JsonLines(JsonLine::of_tick(tick)),
        }
    }

    /// netstat's titles and column headers: text only.
    pub fn heading(&mut self, out: &mut dyn Write, text: &str) -> io::Result<()> {
        match self {
            TableOutput::NetstatText => out.write_all(text.as_bytes()),
            TableOutput::JsonLines(_) => Ok(()),
        }
    }

    /// An informational line netstat prints on stdout; where stdout holds
    /// records only (JSON), it goes to stderr.
    pub fn say(&mut self, out: &mut dyn Write, line: &str) -> io::Result<()> {
        match self {
            TableOutput::NetstatText => {
                out.write_all(line.as_bytes())?;
                out.write_all(b"\n")
            }
            TableOutput::JsonLines(_) => {
                eprintln!("{line}");
                Ok(())
            }
        }
    }

    pub fn record<R: TableRecord>(&mut self, out: &mut dyn Write, record: &R) -> io::Result<()> {
        match self {
            TableOutput::NetstatText => record.write_netstat(out),
            TableOutput::JsonLines(line) => json_object(line, out, record),
        }
    }

    /// Every record of `source`; `Ok(false)` when the format found it
    /// malformed.
    pub fn source(
        &mut self,
        out: &mut dyn Write,
        source: &mut impl RecordSource,
    ) -> io::Result<bool> {
        match self {
            TableOutput::NetstatText => source.write_netstat(out),
            TableOutput::JsonLines(line) => source.records(&mut RecordWriter { line, out }),
        }
    }

    /// Whether a malformed input fails the run: netstat reports it and
    /// exits 0; a record format that left records out says so in its
    /// status.
    pub fn malformed_fails(&self) -> bool {
        match self {
            TableOutput::NetstatText => false,
            TableOutput::JsonLines(_) => true,
        }
    }
}

/// One record as one JSON line: its kind, then its fields.
fn json_object<R: Record>(line: &mut JsonLine, out: &mut dyn Write, record: &R) -> io::Result<()> {
    line.begin(R::KIND);
    record.fields(line);
    line.end(out)
}
