//! A tick of a view as the screen holds it: the JSON lines the view wrote
//! (the same bytes `--json -c` prints), read back into tables of cells,
//! one table per object kind, fields in the order they were written.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// One JSON object, its fields in the order written (serde_json's own map
/// would sort them, and columns are shown in the view's order).
struct Object(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = Object;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Object, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(16));
                while let Some(field) = map.next_entry::<String, Value>()? {
                    fields.push(field);
                }
                Ok(Object(fields))
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// The objects of one kind: columns in the order first written, a row per
/// object (a field an object lacks is null).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    /// Objects past [`ROWS_KEPT`], counted but not kept.
    pub more: usize,
}

/// Objects of one kind kept per tick: a screen shows a few dozen, and a
/// view in the view's order (fullest, largest first) puts those that
/// matter first; 200 000 ephemeral pairs would otherwise take some
/// 200 MiB as cells.
pub const ROWS_KEPT: usize = 5000;

impl Table {
    /// A table with these columns and no rows.
    pub fn with_columns(columns: &[&str]) -> Self {
        Table {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
            more: 0,
        }
    }

    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// Row `row`'s value of column `name` (null when there is none).
    pub fn get(&self, row: usize, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.column(name)
            .and_then(|c| self.rows.get(row)?.get(c))
            .unwrap_or(&NULL)
    }

    fn push(&mut self, fields: Vec<(String, Value)>) {
        let mut row = vec![Value::Null; self.columns.len()];
        for (name, value) in fields {
            match self.column(&name) {
                Some(c) => row[c] = value,
                None => {
                    self.columns.push(name);
                    for r in &mut self.rows {
                        r.push(Value::Null);
                    }
                    row.push(value);
                }
            }
        }
        self.rows.push(row);
    }
}

/// One tick's tables by object kind, in the order first written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decoded {
    pub tables: Vec<(String, Table)>,
}

impl Decoded {
    /// Read the JSON lines a view wrote (see [`Reader`]).
    pub fn read(lines: &[u8]) -> Result<Self, String> {
        let mut reader = Reader::default();
        reader.feed(lines);
        reader.finish()
    }

    /// Add one line a view wrote. A line that is not an object with a
    /// `kind` is an error naming it (the view wrote it, so this is a
    /// defect, not odd kernel data).
    fn add_line(&mut self, line: &[u8]) -> Result<(), String> {
        if let Some(kind) = kind_of(line)
            && let Some(table) = self.tables.iter_mut().find(|(k, _)| k == kind)
            && table.1.rows.len() >= ROWS_KEPT
        {
            table.1.more += 1;
            return Ok(());
        }
        let Object(mut fields) = serde_json::from_slice(line).map_err(|e| {
            format!(
                "a view wrote a line that is not JSON ({e}): {}",
                String::from_utf8_lossy(line)
            )
        })?;
        let Some(at) = fields.iter().position(|(name, _)| name == "kind") else {
            return Err(format!(
                "a view wrote an object without a kind: {}",
                String::from_utf8_lossy(line)
            ));
        };
        let kind = match fields.remove(at).1 {
            Value::String(kind) => kind,
            other => other.to_string(),
        };
        self.table_mut(&kind).push(fields);
        Ok(())
    }

    /// The table of objects of `kind` (empty when the view wrote none).
    pub fn table(&self, kind: &str) -> Option<&Table> {
        self.tables.iter().find(|(k, _)| k == kind).map(|(_, t)| t)
    }

    fn table_mut(&mut self, kind: &str) -> &mut Table {
        let at = match self.tables.iter().position(|(k, _)| k == kind) {
            Some(at) => at,
            None => {
                self.tables.push((kind.to_string(), Table::default()));
                self.tables.len() - 1
            }
        };
        &mut self.tables[at].1
    }
}

/// The `kind` of a line as the views write it (`"kind":"NAME"`, a name
/// without escapes), found without parsing the line.
fn kind_of(line: &[u8]) -> Option<&str> {
    const KEY: &[u8] = b"\"kind\":\"";
    let at = line.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let end = line[at..].iter().position(|b| *b == b'"')?;
    std::str::from_utf8(&line[at..at + end]).ok()
}

/// The JSON lines of a view, read as they are written (a `Write`): no
/// tick's output is held whole, only the line being written.
#[derive(Default)]
pub struct Reader {
    decoded: Decoded,
    line: Vec<u8>,
    error: Option<String>,
}

impl Reader {
    fn feed(&mut self, mut bytes: &[u8]) {
        while let Some(end) = bytes.iter().position(|b| *b == b'\n') {
            self.line.extend_from_slice(&bytes[..end]);
            if !self.line.is_empty() && self.error.is_none() {
                let line = std::mem::take(&mut self.line);
                self.error = self.decoded.add_line(&line).err();
                self.line = line;
            }
            self.line.clear();
            bytes = &bytes[end + 1..];
        }
        self.line.extend_from_slice(bytes);
    }

    /// What was read (a last line without its newline too), or the first
    /// line that could not be.
    pub fn finish(mut self) -> Result<Decoded, String> {
        self.feed(b"\n");
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.decoded),
        }
    }
}

impl std::io::Write for Reader {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.feed(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A cell as text: null as `-`, numbers as written, strings made safe for
/// a terminal (see [`safe_text`]).
pub fn cell_text(value: &Value) -> String {
    match value {
        Value::Null => "-".into(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u.to_string(),
            (None, Some(i), _) => i.to_string(),
            (None, None, Some(f)) => format!("{f:.2}"),
            _ => n.to_string(),
        },
        Value::String(s) => safe_text(s),
        other => safe_text(&other.to_string()),
    }
}

/// `text` with every control character and bidirectional override shown
/// as an escape (`\x1b`, `\u{202e}`): a socket's program or a host's name
/// is chosen by whoever runs it, and must not drive the terminal or turn
/// the row around. (Invalid UTF-8 was replaced when the view wrote JSON.)
pub fn safe_text(text: &str) -> String {
    let hostile =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(hostile) {
        return text.to_string();
    }
    let mut safe = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            c if (c as u32) < 0x100 && hostile(c) => safe.push_str(&format!("\\x{:02x}", c as u32)),
            c if hostile(c) => safe.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => safe.push(c),
        }
    }
    safe
}

/// A cell as a number for sorting and bars (null and text are `None`).
pub fn cell_number(value: &Value) -> Option<f64> {
    value.as_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_become_tables_in_written_order() {
        let lines = br#"{"kind":"listener","local_port":80,"accept_queue":3,"program":null}
{"kind":"listen_counters","ListenDrops":2,"ListenDrops_per_s":0.50}
{"kind":"listener","local_port":443,"accept_queue":0,"program":"nginx","delta":-1}
"#;
        let decoded = Decoded::read(lines).unwrap();
        let listeners = decoded.table("listener").unwrap();
        assert_eq!(
            listeners.columns,
            ["local_port", "accept_queue", "program", "delta"]
        );
        assert_eq!(listeners.rows.len(), 2);
        assert_eq!(cell_text(listeners.get(0, "delta")), "-");
        assert_eq!(cell_text(listeners.get(1, "delta")), "-1");
        assert_eq!(cell_text(listeners.get(1, "program")), "nginx");
        let counters = decoded.table("listen_counters").unwrap();
        assert_eq!(cell_text(counters.get(0, "ListenDrops_per_s")), "0.50");
        assert!(decoded.table("summary").is_none());
    }

    #[test]
    fn a_line_that_is_not_an_object_with_a_kind_is_an_error() {
        assert!(Decoded::read(b"{\"kind\":\"x\"\n").is_err());
        assert!(Decoded::read(b"{\"count\":1}\n").is_err());
        assert!(Decoded::read(b"[1]\n").is_err());
        assert_eq!(Decoded::read(b"").unwrap(), Decoded::default());
    }

    #[test]
    fn rows_past_the_limit_are_counted_not_kept() {
        let mut reader = Reader::default();
        for i in 0..ROWS_KEPT + 7 {
            // written in pieces, as a view's buffered writes may be
            let line = format!("{{\"kind\":\"count\",\"n\":{i}}}\n");
            let (a, b) = line.as_bytes().split_at(5);
            std::io::Write::write_all(&mut reader, a).unwrap();
            std::io::Write::write_all(&mut reader, b).unwrap();
        }
        std::io::Write::write_all(&mut reader, b"{\"kind\":\"other\"}").unwrap();
        let decoded = reader.finish().unwrap();
        let counts = decoded.table("count").unwrap();
        assert_eq!((counts.rows.len(), counts.more), (ROWS_KEPT, 7));
        assert_eq!(
            cell_text(counts.get(ROWS_KEPT - 1, "n")),
            (ROWS_KEPT - 1).to_string()
        );
        assert_eq!(decoded.table("other").unwrap().rows.len(), 1);
        assert_eq!(
            kind_of(br#"{"netns":"a","netns_inode":1,"kind":"summary"}"#),
            Some("summary")
        );
    }

    #[test]
    fn hostile_text_is_escaped() {
        assert_eq!(safe_text("nginx"), "nginx");
        assert_eq!(safe_text("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(safe_text("x\u{202e}y\n"), "x\\u{202e}y\\x0a");
        assert_eq!(safe_text("\u{fffd}ok"), "\u{fffd}ok");
    }
}
