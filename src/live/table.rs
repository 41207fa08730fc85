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
}

impl Table {
    /// A table with these columns and no rows.
    pub fn with_columns(columns: &[&str]) -> Self {
        Table {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
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
    /// Read the JSON lines a view wrote. A line that is not an object
    /// with a `kind` is an error naming it (the view wrote it, so this is
    /// a defect, not odd kernel data).
    pub fn read(lines: &[u8]) -> Result<Self, String> {
        let mut decoded = Decoded::default();
        for line in lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
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
            decoded.table_mut(&kind).push(fields);
        }
        Ok(decoded)
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
    fn hostile_text_is_escaped() {
        assert_eq!(safe_text("nginx"), "nginx");
        assert_eq!(safe_text("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(safe_text("x\u{202e}y\n"), "x\\u{202e}y\\x0a");
        assert_eq!(safe_text("\u{fffd}ok"), "\u{fffd}ok");
    }
}
