//! `--summary`'s kernel totals (/proc/net/sockstat, sockstat6) and the
//! TcpExt listen counters `--listeners` shows (/proc/net/netstat, read
//! through [`crate::statistics::counters`]).

use crate::config::Config;
use crate::render::json::JsonLine;
use crate::statistics::counters::{self, SectionFilter, Value};
use std::io::{self, Write};

/// The kernel's listen counters that `--listeners` shows (TcpExt).
const LISTEN_COUNTERS: [&str; 5] = [
    "ListenOverflows",
    "ListenDrops",
    "TCPReqQFullDrop",
    "TCPReqQFullDoCookies",
    "SyncookiesSent",
];

/// The TcpExt listen counters from /proc/net/netstat (0 for one the
/// kernel does not have or a file it could not read).
pub(crate) fn listen_counters(root: &crate::collect::procfs::ProcRoot) -> Vec<(&'static str, u64)> {
    let text = root.read_bytes("net/netstat").unwrap_or_default();
    let mut found: Vec<(&'static str, u64)> = LISTEN_COUNTERS.iter().map(|n| (*n, 0)).collect();
    let all = SectionFilter::ALL;
    let mut emit = |_: &[u8], key: &[u8], value: Value| {
        if let Some(slot) = found.iter_mut().find(|(n, _)| n.as_bytes() == key) {
            slot.1 = match value {
                Value::Unsigned(v) => v,
                Value::Signed(_) => 0,
            };
        }
        Ok(())
    };
    // a malformed file keeps what was read before the fault
    let _ = counters::pairs(&mut emit, &text, all, Some(b"TcpExt"));
    found
}

/// `--summary`'s second part: the kernel's own totals from
/// /proc/net/sockstat and sockstat6.
pub(crate) fn write_sockstat(
    out: &mut dyn Write,
    config: &Config,
    json: &JsonLine,
    root: &crate::collect::procfs::ProcRoot,
) -> io::Result<()> {
    let mut fields: Vec<(String, u64)> = Vec::new();
    let mut text_lines: Vec<String> = Vec::new();
    for file in ["net/sockstat", "net/sockstat6"] {
        let Some(text) = root.read_text(file) else {
            continue;
        };
        for line in text.lines() {
            let Some((proto, rest)) = line.split_once(':') else {
                continue;
            };
            text_lines.push(line.to_string());
            let words: Vec<&str> = rest.split_whitespace().collect();
            for pair in words.chunks(2) {
                if let [key, value] = pair
                    && let Ok(value) = value.parse::<u64>()
                {
                    fields.push((
                        format!(
                            "{}_{}",
                            proto.to_ascii_lowercase(),
                            key.to_ascii_lowercase()
                        ),
                        value,
                    ));
                }
            }
        }
    }
    if config.output.is_json() {
        let mut line = json.clone();
        line.begin("sockstat");
        for (name, value) in &fields {
            line.u64(name, *value);
        }
        return line.end(out);
    }
    out.write_all(b"\nKernel totals (/proc/net/sockstat, /proc/net/sockstat6):\n")?;
    for line in text_lines {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_counters_come_from_tcp_ext() {
        let dir =
            std::env::temp_dir().join(format!("nlstat-listen-counters-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("net")).unwrap();
        std::fs::write(
            dir.join("net/netstat"),
            "TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 3 5 7\n\
             IpExt: ListenDrops\nIpExt: 9\n",
        )
        .unwrap();
        let root = crate::collect::procfs::ProcRoot(dir.clone());
        let counters = listen_counters(&root);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            counters,
            [
                ("ListenOverflows", 5),
                ("ListenDrops", 7),
                ("TCPReqQFullDrop", 0),
                ("TCPReqQFullDoCookies", 0),
                ("SyncookiesSent", 3),
            ]
        );
    }
}
