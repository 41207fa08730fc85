//! Fixed-capacity text buffers and the address printers net-tools relies
//! on (glibc's inet_ntop), so formatting a row never touches the heap.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Inline text of at most `N` bytes; pushes past the end are cut, as C's
/// fixed buffers cut them.
#[derive(Clone, Copy)]
pub struct Text<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

/// Big enough for any host name getnameinfo returns plus a port.
pub type Ipv6Text = Text<1088>;

impl<const N: usize> Default for Text<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> std::fmt::Debug for Text<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

impl<const N: usize> Text<N> {
    pub const fn new() -> Self {
        Text {
            bytes: [0; N],
            len: 0,
        }
    }

    pub fn clear(&mut self) {
        self.len = 0;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// The text, when it is UTF-8 (everything but raw unix paths is).
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    pub fn push_bytes(&mut self, bytes: &[u8]) {
        let room = N - self.len;
        let take = bytes.len().min(room);
        self.bytes[self.len..self.len + take].copy_from_slice(&bytes[..take]);
        self.len += take;
    }

    pub fn push_str(&mut self, text: &str) {
        self.push_bytes(text.as_bytes());
    }

    pub fn push_byte(&mut self, byte: u8) {
        if self.len < N {
            self.bytes[self.len] = byte;
            self.len += 1;
        }
    }

    pub fn push_u64(&mut self, mut value: u64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        self.push_bytes(&digits[at..]);
    }

    fn push_hex_word(&mut self, value: u16) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut started = false;
        for shift in [12, 8, 4, 0] {
            let nibble = (value >> shift) & 0xf;
            if nibble != 0 || started || shift == 0 {
                started = true;
                self.push_byte(HEX[nibble as usize]);
            }
        }
    }

    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Remove the first `count` bytes.
    pub fn drain_front(&mut self, count: usize) {
        let count = count.min(self.len);
        self.bytes.copy_within(count..self.len, 0);
        self.len -= count;
    }
}

impl<const N: usize> std::fmt::Write for Text<N> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

pub fn format_ipv4<const N: usize>(address: Ipv4Addr, out: &mut Text<N>) {
    for (i, octet) in address.octets().iter().enumerate() {
        if i > 0 {
            out.push_byte(b'.');
        }
        out.push_u64(u64::from(*octet));
    }
}

/// IPv6 text exactly as glibc's inet_ntop writes it (which differs from
/// Rust's Display for IPv4-compatible addresses such as `::1.2.3.4`).
pub fn format_ipv6<const N: usize>(address: Ipv6Addr, out: &mut Text<N>) {
    let words = address.segments();
    // The first longest run of two or more zero words.
    let (mut best_base, mut best_len) = (usize::MAX, 0usize);
    let (mut run_base, mut run_len) = (usize::MAX, 0usize);
    for (i, &w) in words.iter().enumerate() {
        if w == 0 {
            if run_base == usize::MAX {
                run_base = i;
                run_len = 1;
            } else {
                run_len += 1;
            }
        } else if run_base != usize::MAX {
            if best_base == usize::MAX || run_len > best_len {
                (best_base, best_len) = (run_base, run_len);
            }
            run_base = usize::MAX;
        }
    }
    if run_base != usize::MAX && (best_base == usize::MAX || run_len > best_len) {
        (best_base, best_len) = (run_base, run_len);
    }
    if best_base != usize::MAX && best_len < 2 {
        best_base = usize::MAX;
    }
    let in_best = |i: usize| best_base != usize::MAX && i >= best_base && i < best_base + best_len;
    for (i, &w) in words.iter().enumerate() {
        if in_best(i) {
            if i == best_base {
                out.push_byte(b':');
            }
            continue;
        }
        if i != 0 {
            out.push_byte(b':');
        }
        if i == 6 && best_base == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff)) {
            let o = address.octets();
            format_ipv4(Ipv4Addr::new(o[12], o[13], o[14], o[15]), out);
            return;
        }
        out.push_hex_word(w);
    }
    if best_base != usize::MAX && best_base + best_len == 8 {
        out.push_byte(b':');
    }
}

/// An address as Rust's `Display` writes it (nlstat's own views and
/// JSON), without the formatting machinery: inet_ntop's text, except for
/// the IPv4-compatible addresses (`::a.b.c.d`), which Display writes in hex.
pub fn format_ip_display<const N: usize>(address: IpAddr, out: &mut Text<N>) {
    match address {
        IpAddr::V4(v4) => format_ipv4(v4, out),
        IpAddr::V6(v6) => {
            let words = v6.segments();
            if words[..6] == [0; 6] && words[6] != 0 {
                let _ = std::fmt::Write::write_fmt(out, format_args!("{v6}"));
            } else {
                format_ipv6(v6, out);
            }
        }
    }
}

/// netstat's numeric IPv6 text: inet_ntop, then v4-mapped addresses keep
/// only their IPv4 part.
pub fn format_ipv6_netstat<const N: usize>(address: Ipv6Addr, out: &mut Text<N>) {
    let start = out.len();
    format_ipv6(address, out);
    if address.to_ipv4_mapped().is_some()
        && let Some(colon) = out.as_bytes()[start..].iter().rposition(|&b| b == b':')
    {
        let tail_start = start + colon + 1;
        let mut tail: Text<16> = Text::new();
        tail.push_bytes(&out.as_bytes()[tail_start..]);
        out.truncate(start);
        out.push_bytes(tail.as_bytes());
    }
}

/// `2026-12-05T18:20:01.123Z`: a UTC time stamp with milliseconds (RFC
/// 3339), for close events' rows and ticks; no allocation.
pub fn utc_millis(time: std::time::SystemTime) -> [u8; 24] {
    let since = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let (days, second) = (since.as_secs() / 86_400, since.as_secs() % 86_400);
    // the proleptic Gregorian date of a day count (Howard Hinnant's
    // civil_from_days)
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let fields = [
        (0, year.clamp(0, 9999) as u64, 4),
        (5, month as u64, 2),
        (8, day as u64, 2),
        (11, second / 3600, 2),
        (14, second / 60 % 60, 2),
        (17, second % 60, 2),
        (20, u64::from(since.subsec_millis()), 3),
    ];
    for (at, value, digits) in fields {
        for d in 0..digits {
            out[at + digits - 1 - d] = b'0' + (value / 10u64.pow(d as u32) % 10) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The views' address text is Display's, byte for byte, on the edge
    /// cases of zero runs, mapped and compatible addresses and a spread of
    /// others.
    #[test]
    fn display_text_is_displays() {
        let mut addresses: Vec<IpAddr> = [
            "0.0.0.0",
            "127.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::2:3",
            "::1.2.3.4",
            "::ffff:1.2.3.4",
            "::ffff:0:1.2.3.4",
            "1::",
            "1::1",
            "1:0:0:1::1",
            "1:0:1:0:1:0:1:0",
            "fe80::1:0:0:1",
            "2001:db8::ff00:42:8329",
            "0:0:1::",
            "::1:0:0:0:1",
        ]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..5000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // words zeroed at random, so zero runs of every length occur
            let mut words = [0u16; 8];
            for (i, w) in words.iter_mut().enumerate() {
                if (state >> (i + 40)) & 1 == 1 {
                    *w = (state >> (i * 5)) as u16;
                }
            }
            addresses.push(Ipv6Addr::from(words).into());
            addresses.push(Ipv4Addr::from(state as u32).into());
        }
        for a in addresses {
            let mut text: Text<64> = Text::new();
            format_ip_display(a, &mut text);
            assert_eq!(text.as_str(), a.to_string());
        }
    }

    fn v6(s: &str) -> String {
        let mut t = Ipv6Text::new();
        format_ipv6(s.parse().unwrap(), &mut t);
        t.as_str().to_string()
    }

    #[test]
    fn inet_ntop_forms() {
        assert_eq!(v6("::"), "::");
        assert_eq!(v6("::1"), "::1");
        assert_eq!(v6("fe80::1"), "fe80::1");
        assert_eq!(v6("::ffff:127.0.0.1"), "::ffff:127.0.0.1");
        assert_eq!(v6("::1.2.3.4"), "::1.2.3.4");
        assert_eq!(v6("1:0:0:2:0:0:0:3"), "1:0:0:2::3");
        assert_eq!(v6("1:0:0:2:3:0:0:4"), "1::2:3:0:0:4");
        assert_eq!(v6("1:2:3:4:5:6:7:8"), "1:2:3:4:5:6:7:8");
        assert_eq!(v6("1:2:3:4:5:6:7:0"), "1:2:3:4:5:6:7:0");
        assert_eq!(
            v6("fd00:1234:5678:9abc:def0:1234:5678:9abc"),
            "fd00:1234:5678:9abc:def0:1234:5678:9abc"
        );
        assert_eq!(v6("1::"), "1::");
    }

    #[test]
    fn mapped_addresses_print_as_ipv4() {
        let mut t = Ipv6Text::new();
        format_ipv6_netstat("::ffff:10.1.2.3".parse().unwrap(), &mut t);
        assert_eq!(t.as_str(), "10.1.2.3");
    }

    #[test]
    fn text_cuts_at_capacity() {
        let mut t: Text<4> = Text::new();
        t.push_str("abcdef");
        assert_eq!(t.as_str(), "abcd");
        t.drain_front(2);
        assert_eq!(t.as_str(), "cd");
        t.push_u64(1234);
        assert_eq!(t.as_str(), "cd12");
    }

    #[test]
    fn utc_stamps_with_milliseconds() {
        let at = |ms: u64| std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
        for (ms, text) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_796_494_801_123, "2026-12-05T18:20:01.123Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (1_709_251_199_999, "2024-02-29T23:59:59.999Z"),
            (4_102_444_800_000, "2100-01-01T00:00:00.000Z"),
        ] {
            assert_eq!(&utc_millis(at(ms)), text.as_bytes(), "{ms}");
        }
    }
}
