//! Terminal-safe output: when stdout is a terminal, names that anyone on
//! the host can choose (process names, unix socket paths, host names from
//! /etc/hosts or a resolver, interface and device names, user names) must
//! not be able to move the cursor, retitle the window or make the terminal
//! answer with keystrokes. Every byte that would reach the terminal as a
//! control is shown as `?`, as `ls` and `ps` show them:
//!
//! - C0 controls (0x00-0x1F) except the newline that ends a row, and DEL
//!   (0x7F): ESC, and with it every escape sequence, is one of them;
//! - C1 controls (U+0080-U+009F) written in UTF-8;
//! - every byte that is not part of well-formed UTF-8 (one `?` each): a
//!   terminal in 8-bit mode reads a lone 0x9B as CSI.
//!
//! `?` keeps a cut name's width, so netstat's columns stay aligned. A
//! newline inside a name (possible only in a process name) is replaced
//! where the name is read (`enrich::processes`, told by
//! `Config::terminal`), since here it cannot
//! be told from the end of a row. When stdout is not a terminal nothing
//! changes: pipes and scripts get netstat's bytes exactly, and `--json`
//! escapes by JSON's rules instead.

use std::io::{self, Write};

/// True for bytes that pass unchanged without looking further.
fn plain(b: u8) -> bool {
    (0x20..0x7f).contains(&b) || b == b'\n'
}

/// Append `text` with every control character (but `\n`) shown as `?`.
fn push_str_safe(out: &mut Vec<u8>, text: &str) {
    for c in text.chars() {
        if c.is_control() && c != '\n' {
            out.push(b'?');
        } else {
            let mut utf8 = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        }
    }
}

/// Escape `input` into `out` by the rule above. Returns how many bytes at
/// the end form an incomplete UTF-8 sequence (left out, for the caller to
/// keep until more bytes come).
pub fn escape_into(input: &[u8], out: &mut Vec<u8>) -> usize {
    let mut rest = input;
    loop {
        match std::str::from_utf8(rest) {
            Ok(text) => {
                push_str_safe(out, text);
                return 0;
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                // SAFETY-free: `valid` is what from_utf8 just checked.
                push_str_safe(out, std::str::from_utf8(valid).unwrap_or_default());
                match e.error_len() {
                    Some(bad) => {
                        out.extend(std::iter::repeat_n(b'?', bad));
                        rest = &after[bad..];
                    }
                    None => return after.len(),
                }
            }
        }
    }
}

/// A writer that shows control bytes as `?` when `enabled` (see the
/// module documentation), and passes everything through otherwise.
pub struct TerminalSafe<W: Write> {
    inner: W,
    enabled: bool,
    /// The start of a UTF-8 sequence the last write ended in.
    pending: Vec<u8>,
    scratch: Vec<u8>,
}

impl<W: Write> TerminalSafe<W> {
    /// Wrap `inner`, escaping when `enabled`.
    pub fn new(inner: W, enabled: bool) -> Self {
        TerminalSafe {
            inner,
            enabled,
            pending: Vec::new(),
            scratch: Vec::new(),
        }
    }

    pub fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for TerminalSafe<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if !self.enabled || (self.pending.is_empty() && buf.iter().all(|&b| plain(b))) {
            return self.inner.write_all(buf);
        }
        let mut input = std::mem::take(&mut self.pending);
        input.extend_from_slice(buf);
        self.scratch.clear();
        let incomplete = escape_into(&input, &mut self.scratch);
        input.drain(..input.len() - incomplete);
        self.pending = input;
        self.inner.write_all(&self.scratch)
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            // a sequence that never completed
            let stray = vec![b'?'; self.pending.len()];
            self.pending.clear();
            self.inner.write_all(&stray)?;
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safe(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let incomplete = escape_into(input, &mut out);
        out.extend(std::iter::repeat_n(b'?', incomplete));
        out
    }

    #[test]
    fn controls_become_question_marks() {
        assert_eq!(safe(b"plain text\n"), b"plain text\n");
        assert_eq!(safe(b"\x1b]0;owned\x07"), b"?]0;owned?");
        assert_eq!(safe(b"\x1b[2J\x7f\t\r"), b"?[2J???");
        // C1 in UTF-8 (CSI, U+009B), a lone 8-bit CSI byte, bad UTF-8
        assert_eq!(safe("a\u{9b}b".as_bytes()), b"a?b");
        assert_eq!(safe(b"a\x9bb"), b"a?b");
        assert_eq!(safe(b"\xff\xfe"), b"??");
        // printable UTF-8 stays, including U+00A0 just after C1
        assert_eq!(safe("café \u{a0}ü".as_bytes()), "café \u{a0}ü".as_bytes());
        // a sequence cut at the end of the input
        assert_eq!(safe(b"x\xc3"), b"x?");
    }

    #[test]
    fn a_sequence_split_across_writes_survives() {
        let mut out = TerminalSafe::new(Vec::new(), true);
        out.write_all(b"caf\xc3").unwrap();
        out.write_all(b"\xa9 \x1b[31m\n").unwrap();
        out.flush().unwrap();
        assert_eq!(out.into_inner(), "café ?[31m\n".as_bytes());
    }

    #[test]
    fn disabled_passes_every_byte() {
        let mut out = TerminalSafe::new(Vec::new(), false);
        out.write_all(b"\x1b[2J\xff\n").unwrap();
        out.flush().unwrap();
        assert_eq!(out.into_inner(), b"\x1b[2J\xff\n");
    }
}
