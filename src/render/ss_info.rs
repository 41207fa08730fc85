//! A socket's health (`INET_DIAG_INFO`, `INET_DIAG_CONG`,
//! `INET_DIAG_SKMEMINFO`, read by [`crate::collect::tcp_info`]) as text in
//! ss's vocabulary, so an operator who knows `ss -i` reads it at once, and
//! as JSON in the kernel's names and units.
//!
//! The text is the indented line iproute2 6.1's `ss -tinm` prints under a
//! socket (misc/ss.c: `print_skmeminfo`, `tcp_show_info`,
//! `tcp_stats_print`): the same items in the same order, with the same
//! conditions, C types and printf conversions (`%g` and `%.0f` are
//! reproduced exactly; Rust's float formatting rounds the binary value
//! correctly, as glibc's does). Like ss, a payload shorter than the
//! running kernel's struct reads as zeros past its end, and so does a
//! short BBR, DCTCP or Vegas struct. Not printed: what needs attributes
//! nlstat does not ask for (TCP-MD5 keys, ULP info).
//!
//! Both write into a caller's reused buffer: no allocation per socket.

use crate::collect::tcp_info::{CcInfo, CcKind, Field, SkMemInfo, TcpInfo, cong_name, options};
use crate::model::SocketExt;
use crate::model::tcp_state;
use crate::render::json::JsonLine;
use crate::text::Text;
use std::io::Write;

/// The health attributes of one socket, as the kernel returned them
/// (`None`: the attribute was not in the record).
#[derive(Debug, Clone, Copy, Default)]
pub struct Health<'a> {
    /// The socket's TCP state (`idiag_state`).
    pub state: u8,
    pub info: Option<TcpInfo<'a>>,
    /// The raw `INET_DIAG_CONG` payload.
    pub cong: Option<&'a [u8]>,
    pub skmem: Option<SkMemInfo<'a>>,
    /// The congestion control's own detail (BBR, DCTCP, Vegas).
    pub cc: Option<CcInfo<'a>>,
}

impl<'a> Health<'a> {
    /// What a socket's `--info` extensions hold; empty parts are absent.
    pub fn of(state: u8, ext: SocketExt<'a>) -> Self {
        let present = |bytes: &'a [u8]| (!bytes.is_empty()).then_some(bytes);
        Health {
            state,
            info: present(ext.info).map(TcpInfo::new),
            cong: present(ext.cong),
            skmem: present(ext.skmem).map(SkMemInfo::new),
            cc: CcInfo::new(ext.cc_kind, ext.cc_info),
        }
    }
}

/// ss's switches that change the line.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// `-o`: the negotiated options (` ts sack ecn ecnseen fastopen`).
    pub options: bool,
    /// `-n`: rates as whole numbers of bit/s (`%.0f`), not `%.3g` with a
    /// k/M/G/T suffix.
    pub numeric: bool,
}

impl Default for Style {
    /// `ss -tinm`'s.
    fn default() -> Self {
        Style {
            options: false,
            numeric: true,
        }
    }
}

/// Append ss's line for one socket to `out`: a tab, then the items, each
/// after a space; no newline.
pub fn write_line(out: &mut Vec<u8>, health: &Health<'_>, style: Style) {
    out.push(b'\t');
    if let Some(skmem) = health.skmem {
        write_skmem(out, skmem);
    }
    if let Some(info) = health.info {
        write_options_and_windows(out, health, info, style);
        write_counters(out, info);
        if let Some(cc) = health.cc {
            write_cc(out, cc, style);
        }
        write_rates(out, info, health.cc, style);
        write_losses(out, health.state, info);
    }
}

/// ` skmem:(r..,rb..,t..,tb..,f..,w..,o..[,bl..][,d..])`, as many slots
/// as the kernel sent.
fn write_skmem(out: &mut Vec<u8>, skmem: SkMemInfo<'_>) {
    const LABELS: [&str; 9] = ["r", "rb", "t", "tb", "f", "w", "o", "bl", "d"];
    out.extend_from_slice(b" skmem:(");
    for (index, label) in LABELS.iter().enumerate() {
        let Some(value) = skmem.get(index) else {
            break;
        };
        if index > 0 {
            out.push(b',');
        }
        out.extend_from_slice(label.as_bytes());
        push_decimal(out, u64::from(value));
    }
    out.push(b')');
}

/// Options, the algorithm, window scales, timers, RTT, sizes and windows.
fn write_options_and_windows(
    out: &mut Vec<u8>,
    health: &Health<'_>,
    info: TcpInfo<'_>,
    style: Style,
) {
    let get = |field| info.get_or_zero(field);
    let has = |option| get(Field::OPTIONS) & option != 0;
    if style.options {
        let flags = [
            (options::TIMESTAMPS, " ts"),
            (options::SACK, " sack"),
            (options::ECN, " ecn"),
            (options::ECN_SEEN, " ecnseen"),
            (options::SYN_DATA, " fastopen"),
        ];
        for (option, word) in flags {
            if has(option) {
                out.extend_from_slice(word.as_bytes());
            }
        }
    }
    if let Some(cong) = health.cong {
        // ss copies it into char[16]
        let name = cong_name(cong);
        let name = &name[..name.len().min(15)];
        if !name.is_empty() {
            out.push(b' ');
            out.extend_from_slice(name);
        }
    }
    if has(options::WSCALE) {
        let (snd, rcv) = (get(Field::SND_WSCALE), get(Field::RCV_WSCALE));
        out.extend_from_slice(b" wscale:");
        push_decimal(out, snd);
        out.push(b',');
        push_decimal(out, rcv);
    }
    let rto = get(Field::RTO);
    if rto != 0 && rto != 3_000_000 {
        out.extend_from_slice(b" rto:");
        push_millis(out, rto);
    }
    number(out, " backoff:", get(Field::BACKOFF));
    if get(Field::RTT) != 0 {
        out.extend_from_slice(b" rtt:");
        push_millis(out, get(Field::RTT));
        out.push(b'/');
        push_millis(out, get(Field::RTTVAR));
    }
    milliseconds(out, " ato:", get(Field::ATO));
    signed(out, " mss:", get(Field::SND_MSS));
    number(out, " pmtu:", get(Field::PMTU));
    signed(out, " rcvmss:", get(Field::RCV_MSS));
    signed(out, " advmss:", get(Field::ADVMSS));
    number(out, " cwnd:", get(Field::SND_CWND));
    let ssthresh = get(Field::SND_SSTHRESH);
    if ssthresh < 0xffff {
        signed(out, " ssthresh:", ssthresh);
    }
}

/// Byte and segment counters.
fn write_counters(out: &mut Vec<u8>, info: TcpInfo<'_>) {
    let counters = [
        (" bytes_sent:", Field::BYTES_SENT),
        (" bytes_retrans:", Field::BYTES_RETRANS),
        (" bytes_acked:", Field::BYTES_ACKED),
        (" bytes_received:", Field::BYTES_RECEIVED),
        (" segs_out:", Field::SEGS_OUT),
        (" segs_in:", Field::SEGS_IN),
        (" data_segs_out:", Field::DATA_SEGS_OUT),
        (" data_segs_in:", Field::DATA_SEGS_IN),
    ];
    for (label, field) in counters {
        number(out, label, info.get_or_zero(field));
    }
}

/// ` dctcp:(ce_state:..,alpha:..,ab_ecn:..,ab_tot:..)` (or
/// ` dctcp:fallback_mode` when DCTCP is not in use, the peer lacking ECN),
/// ` bbr:(bw:..bps,mrtt:..[,pacing_gain:..][,cwnd_gain:..])`; Vegas'
/// struct prints nothing of its own (its RTT feeds `send`).
fn write_cc(out: &mut Vec<u8>, cc: CcInfo<'_>, style: Style) {
    let get = |field| cc.get_or_zero(field);
    match cc.kind {
        CcKind::Vegas => {}
        CcKind::Dctcp if get(Field::DCTCP_ENABLED) == 0 => {
            out.extend_from_slice(b" dctcp:fallback_mode");
        }
        CcKind::Dctcp => {
            let _ = write!(
                out,
                " dctcp:(ce_state:{},alpha:{},ab_ecn:{},ab_tot:{})",
                get(Field::DCTCP_CE_STATE),
                get(Field::DCTCP_ALPHA),
                get(Field::DCTCP_AB_ECN),
                get(Field::DCTCP_AB_TOT)
            );
        }
        CcKind::Bbr => {
            out.extend_from_slice(b" bbr:(bw:");
            push_bandwidth(out, get(Field::BBR_BW) as f64 * 8.0, style);
            out.extend_from_slice(b"bps,mrtt:");
            push_millis(out, get(Field::BBR_MIN_RTT));
            for (label, field) in [
                (",pacing_gain:", Field::BBR_PACING_GAIN),
                (",cwnd_gain:", Field::BBR_CWND_GAIN),
            ] {
                if get(field) != 0 {
                    out.extend_from_slice(label.as_bytes());
                    push_gain(out, get(field));
                }
            }
            out.push(b')');
        }
    }
}

/// The RTT ss computes `send` from: Vegas' own (its struct also comes
/// from Westwood and Illinois) when it has a sample, else tcp_info's.
fn send_rtt(info: TcpInfo<'_>, cc: Option<CcInfo<'_>>) -> u64 {
    if let Some(cc) = cc.filter(|cc| cc.kind == CcKind::Vegas) {
        let rtt = cc.get_or_zero(Field::VEGAS_RTT);
        if cc.get_or_zero(Field::VEGAS_ENABLED) != 0 && rtt != 0 && rtt != 0x7fff_ffff {
            return rtt;
        }
    }
    info.get_or_zero(Field::RTT)
}

/// The computed send rate, idle times, pacing and delivery rates, busy
/// times.
fn write_rates(out: &mut Vec<u8>, info: TcpInfo<'_>, cc: Option<CcInfo<'_>>, style: Style) {
    let get = |field| info.get_or_zero(field);
    let (rtt, mss, cwnd) = (
        send_rtt(info, cc),
        get(Field::SND_MSS),
        get(Field::SND_CWND),
    );
    if rtt > 0 && mss != 0 && cwnd != 0 {
        let send = cwnd as f64 * mss as f64 * 8_000_000.0 / rtt as f64;
        if send != 0.0 {
            out.extend_from_slice(b" send ");
            push_bandwidth(out, send, style);
            out.extend_from_slice(b"bps");
        }
    }
    number(out, " lastsnd:", get(Field::LAST_DATA_SENT));
    number(out, " lastrcv:", get(Field::LAST_DATA_RECV));
    number(out, " lastack:", get(Field::LAST_ACK_RECV));
    let (pacing, max_pacing) = (get(Field::PACING_RATE), get(Field::MAX_PACING_RATE));
    if pacing != 0 && pacing != u64::MAX {
        out.extend_from_slice(b" pacing_rate ");
        push_bandwidth(out, pacing as f64 * 8.0, style);
        out.extend_from_slice(b"bps");
        if max_pacing != 0 && max_pacing != u64::MAX {
            out.push(b'/');
            push_bandwidth(out, max_pacing as f64 * 8.0, style);
            out.extend_from_slice(b"bps");
        }
    }
    let delivery = get(Field::DELIVERY_RATE) as f64 * 8.0;
    if delivery != 0.0 {
        out.extend_from_slice(b" delivery_rate ");
        push_bandwidth(out, delivery, style);
        out.extend_from_slice(b"bps");
    }
    number(out, " delivered:", get(Field::DELIVERED));
    number(out, " delivered_ce:", get(Field::DELIVERED_CE));
    if get(Field::DELIVERY_RATE_APP_LIMITED) != 0 {
        out.extend_from_slice(b" app_limited");
    }
    let busy = get(Field::BUSY_TIME);
    if busy != 0 {
        let _ = write!(out, " busy:{}ms", busy / 1000);
        for (label, field) in [
            (" rwnd_limited:", Field::RWND_LIMITED),
            (" sndbuf_limited:", Field::SNDBUF_LIMITED),
        ] {
            let limited = get(field);
            if limited != 0 {
                let share = 100.0 * limited as f64 / busy as f64;
                let _ = write!(out, "{label}{}ms({share:.1}%)", limited / 1000);
            }
        }
    }
}

/// Queue, loss and reordering counters, receiver-side measures, unsent
/// bytes, the minimum RTT and the peer's window.
fn write_losses(out: &mut Vec<u8>, state: u8, info: TcpInfo<'_>) {
    let get = |field| info.get_or_zero(field);
    number(out, " unacked:", get(Field::UNACKED));
    let (retrans, total) = (get(Field::RETRANS), get(Field::TOTAL_RETRANS));
    if retrans != 0 || total != 0 {
        out.extend_from_slice(b" retrans:");
        push_decimal(out, retrans);
        out.push(b'/');
        push_decimal(out, total);
    }
    number(out, " lost:", get(Field::LOST));
    if state != tcp_state::LISTEN {
        number(out, " sacked:", get(Field::SACKED));
    }
    number(out, " dsack_dups:", get(Field::DSACK_DUPS));
    number(out, " fackets:", get(Field::FACKETS));
    let reordering = get(Field::REORDERING);
    if reordering != 3 {
        let _ = write!(out, " reordering:{}", reordering as u32 as i32);
    }
    signed(out, " reord_seen:", get(Field::REORD_SEEN));
    milliseconds(out, " rcv_rtt:", get(Field::RCV_RTT));
    signed(out, " rcv_space:", get(Field::RCV_SPACE));
    number(out, " rcv_ssthresh:", get(Field::RCV_SSTHRESH));
    number(out, " notsent:", get(Field::NOTSENT_BYTES));
    let min_rtt = get(Field::MIN_RTT);
    if min_rtt != u64::from(u32::MAX) {
        milliseconds(out, " minrtt:", min_rtt);
    }
    number(out, " rcv_ooopack:", get(Field::RCV_OOOPACK));
    number(out, " snd_wnd:", get(Field::SND_WND));
}

/// `label` and the value (`%u`/`%llu`), when it is not zero.
fn number(out: &mut Vec<u8>, label: &str, value: u64) {
    if value != 0 {
        out.extend_from_slice(label.as_bytes());
        push_decimal(out, value);
    }
}

/// `label` and a u32 member ss keeps in an `int` (`%d`), when not zero.
fn signed(out: &mut Vec<u8>, label: &str, value: u64) {
    if value != 0 {
        out.extend_from_slice(label.as_bytes());
        let value = value as u32 as i32;
        if value < 0 {
            out.push(b'-');
        }
        push_decimal(out, u64::from(value.unsigned_abs()));
    }
}

/// `%g` of a BBR gain (`gain / 256.0`, ss's words), without float
/// formatting: `n / 256` is `n * 390625` hundred-millionths exactly, so
/// rounding that integer to six significant digits (ties to even, as
/// printf rounds an exact tie) is what `%g` prints. Values `%g` would
/// print in exponent form take the general path.
fn push_gain(out: &mut Vec<u8>, gain: u64) {
    const SCALE: u64 = 100_000_000;
    let scaled = gain * 390_625;
    if !(10_000..SCALE * 1_000_000).contains(&scaled) {
        push_g(out, gain as f64 / 256.0, 6);
        return;
    }
    let digits = scaled.ilog10() + 1;
    let rounded = match digits.checked_sub(6).filter(|&d| d > 0) {
        None => scaled,
        Some(drop) => {
            let unit = 10u64.pow(drop);
            let (kept, rest) = (scaled / unit, scaled % unit);
            let up = rest > unit / 2 || (rest == unit / 2 && kept % 2 == 1);
            (kept + u64::from(up)) * unit
        }
    };
    if rounded >= SCALE * 1_000_000 {
        push_g(out, gain as f64 / 256.0, 6);
        return;
    }
    push_decimal(out, rounded / SCALE);
    let mut fraction = rounded % SCALE;
    if fraction != 0 {
        let mut width = 8;
        while fraction.is_multiple_of(10) {
            fraction /= 10;
            width -= 1;
        }
        let mut text: Text<24> = Text::new();
        text.push_u64(fraction);
        out.push(b'.');
        out.extend(std::iter::repeat_n(b'0', width - text.as_bytes().len()));
        out.extend_from_slice(text.as_bytes());
    }
}

/// `label` and microseconds as milliseconds (`%g`), when not zero.
fn milliseconds(out: &mut Vec<u8>, label: &str, micros: u64) {
    if micros != 0 {
        out.extend_from_slice(label.as_bytes());
        push_millis(out, micros);
    }
}

/// ss's `sprint_bw`: bit/s as `%.0f` under `-n`, else `%.3g` scaled to
/// k, M, G or T.
fn push_bandwidth(out: &mut Vec<u8>, bps: f64, style: Style) {
    if style.numeric {
        push_whole(out, bps);
        return;
    }
    let scales = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")];
    for (scale, suffix) in scales {
        if bps >= scale {
            push_g(out, bps / scale, 3);
            out.extend_from_slice(suffix.as_bytes());
            return;
        }
    }
    push_g(out, bps, 6);
}

/// `%g` of `micros / 1000.0` (ss's milliseconds), without float
/// formatting when the quotient has at most six significant digits (below
/// 1000 s), which is then its exact decimal: the common case, per socket.
fn push_millis(out: &mut Vec<u8>, micros: u64) {
    if micros >= 1_000_000 {
        push_g(out, micros as f64 / 1000.0, 6);
        return;
    }
    push_decimal(out, micros / 1000);
    let fraction = micros % 1000;
    if fraction != 0 {
        let digits = [
            b'.',
            b'0' + (fraction / 100) as u8,
            b'0' + (fraction / 10 % 10) as u8,
            b'0' + (fraction % 10) as u8,
        ];
        let used = if fraction.is_multiple_of(100) {
            2
        } else if fraction.is_multiple_of(10) {
            3
        } else {
            4
        };
        out.extend_from_slice(&digits[..used]);
    }
}

/// `%.0f` of a rate: the nearest whole number, printed as an integer when
/// that is exact (below 2^53, not a tie, whose rounding `printf` decides).
fn push_whole(out: &mut Vec<u8>, value: f64) {
    const EXACT: f64 = (1u64 << 53) as f64;
    if (0.0..EXACT).contains(&value) {
        let floor = value.floor();
        let rest = value - floor;
        if rest != 0.5 {
            push_decimal(out, floor as u64 + u64::from(rest > 0.5));
            return;
        }
    }
    let _ = write!(out, "{value:.0}");
}

/// An integer in decimal: two digits per division, one copy into `out`
/// (a line holds about forty numbers, so this is the per-socket path).
fn push_decimal(out: &mut Vec<u8>, value: u64) {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    if value < 10 {
        out.push(b'0' + value as u8);
        return;
    }
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = value;
    while rest >= 100 {
        let pair = (rest % 100) as usize * 2;
        rest /= 100;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if rest >= 10 {
        let pair = rest as usize * 2;
        at -= 2;
        digits[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        digits[at] = b'0' + rest as u8;
    }
    out.extend_from_slice(&digits[at..]);
}

/// C's `%.<precision>g` of a finite or infinite non-NaN double: the
/// shortest of fixed and exponent notation by C's rule (exponent when it
/// is below -4 or at least the precision), trailing zeros removed.
fn push_g(out: &mut Vec<u8>, value: f64, precision: usize) {
    if value == 0.0 {
        out.push(b'0');
        return;
    }
    if !value.is_finite() {
        let text = match (value.is_nan(), value < 0.0) {
            (true, _) => "nan",
            (false, true) => "-inf",
            (false, false) => "inf",
        };
        out.extend_from_slice(text.as_bytes());
        return;
    }
    let precision = precision.max(1);
    // rounded to `precision` significant digits: d.ddddde<exponent>
    let mut scientific: Text<48> = Text::new();
    let _ = std::fmt::Write::write_fmt(
        &mut scientific,
        format_args!("{:.*e}", precision - 1, value),
    );
    let text = scientific.as_str();
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if exponent < -4 || exponent >= precision as i32 {
        out.extend_from_slice(trim_fraction(mantissa).as_bytes());
        let sign = if exponent < 0 { '-' } else { '+' };
        let _ = write!(out, "e{sign}{:02}", exponent.unsigned_abs());
    } else {
        let decimals = (precision as i32 - 1 - exponent) as usize;
        let mut fixed: Text<400> = Text::new();
        let _ = std::fmt::Write::write_fmt(&mut fixed, format_args!("{value:.decimals$}"));
        out.extend_from_slice(trim_fraction(fixed.as_str()).as_bytes());
    }
}

/// `12.3400` → `12.34`, `5.000` → `5`; text without a point is kept.
fn trim_fraction(number: &str) -> &str {
    if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    }
}

/// The `info` object (the members the kernel sent, named as in `struct
/// tcp_info` without `tcpi_`, in its units), the `cong` string and the
/// `skmem` object (`SK_MEMINFO_*` lowercased), each only when the kernel
/// returned its attribute: a member it did not return is absent, never 0.
pub fn write_json(line: &mut JsonLine, health: &Health<'_>) {
    if let Some(info) = health.info {
        line.object_field("info");
        for (name, value) in info.fields() {
            line.u64(name, value);
        }
        line.object_field_end();
    }
    if let Some(cong) = health.cong {
        line.str("cong", cong_name(cong));
    }
    if let Some(skmem) = health.skmem {
        line.object_field("skmem");
        for (name, value) in skmem.fields() {
            line.u64(name, u64::from(value));
        }
        line.object_field_end();
    }
    if let Some(cc) = health.cc {
        line.object_field(cc.kind.json_name());
        for (name, value) in cc.fields() {
            line.u64(name, value);
        }
        line.object_field_end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::recording::Recording;
    use crate::collect::sock_diag::INET_DIAG_MSG_LEN;

    const DUMP: &[u8] = include_bytes!("../../tests/fixtures/ss-info/ss-tinm.nlrec");
    const SS: &str = include_str!("../../tests/fixtures/ss-info/ss-tinm.txt");

    const INET_DIAG_INFO: u16 = 2;
    const INET_DIAG_CONG: u16 = 4;
    const INET_DIAG_SKMEMINFO: u16 = 7;

    /// The health attributes of one recorded inet_diag record.
    fn health(record: &[u8]) -> Health<'_> {
        let mut health = Health {
            state: record[1],
            ..Health::default()
        };
        // rtattrs: u16 length (header included), u16 type, the value,
        // padded to 4 bytes
        let mut rest = &record[INET_DIAG_MSG_LEN..];
        while rest.len() >= 4 {
            let length = usize::from(u16::from_ne_bytes([rest[0], rest[1]]));
            let kind = u16::from_ne_bytes([rest[2], rest[3]]);
            let value = &rest[4..length.clamp(4, rest.len())];
            match kind {
                INET_DIAG_INFO => health.info = Some(TcpInfo::new(value)),
                INET_DIAG_CONG => health.cong = Some(value),
                INET_DIAG_SKMEMINFO => health.skmem = Some(SkMemInfo::new(value)),
                _ => {}
            }
            rest = &rest[((length + 3) & !3).clamp(4, rest.len())..];
        }
        health
    }

    fn line(health: &Health<'_>, style: Style) -> String {
        let mut out = Vec::new();
        write_line(&mut out, health, style);
        String::from_utf8(out).unwrap()
    }

    /// The oracle: for every socket of the recorded dump, the line ss
    /// printed from the very same bytes (tests/fixtures/README.md).
    #[cfg(target_endian = "little")]
    #[test]
    fn lines_match_what_ss_printed_from_the_same_dump() {
        let recording = Recording::new(DUMP).unwrap();
        let ours: Vec<String> = recording
            .records()
            .map(|record| line(&health(record), Style::default()))
            .collect();
        // ss pads its lines to the widest; the padding is not ours
        let theirs: Vec<&str> = SS
            .lines()
            .filter(|l| l.starts_with('\t'))
            .map(str::trim_end)
            .collect();
        assert_eq!(ours.len(), 6);
        assert_eq!(ours, theirs);
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn json_names_every_member_the_kernel_sent() {
        let recording = Recording::new(DUMP).unwrap();
        let record = recording.records().next().unwrap();
        let mut json = JsonLine::new();
        json.begin("socket");
        write_json(&mut json, &health(record));
        let mut out = Vec::new();
        json.end(&mut out).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let info = value["info"].as_object().unwrap();
        assert_eq!(info.len(), crate::collect::tcp_info::FIELDS.len());
        assert_eq!(info["state"], 1);
        assert!(info["rtt"].as_u64().unwrap() > 0);
        assert_eq!(value["cong"], "cubic");
        let skmem = value["skmem"].as_object().unwrap();
        let names: Vec<&str> = skmem.keys().map(String::as_str).collect();
        assert_eq!(names.len(), 9);
        assert_eq!(skmem["rcvbuf"], 131072);
    }

    #[test]
    fn json_leaves_out_what_the_kernel_did_not_send() {
        let payload = vec![0u8; 104];
        let health = Health {
            info: Some(TcpInfo::new(&payload)),
            skmem: Some(SkMemInfo::new(&[])),
            ..Health::default()
        };
        let mut json = JsonLine::new();
        json.begin("socket");
        write_json(&mut json, &health);
        json.u64("after", 1);
        let mut out = Vec::new();
        json.end(&mut out).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let info = value["info"].as_object().unwrap();
        assert_eq!(info.len(), 34);
        assert!(info.contains_key("total_retrans"));
        assert!(!info.contains_key("pacing_rate"));
        assert!(value.get("cong").is_none());
        assert_eq!(value["skmem"], serde_json::json!({}));
        assert_eq!(value["after"], 1);
    }

    #[test]
    fn a_short_payload_reads_as_zeros_like_ss() {
        // 2.6's 104 bytes: wscale, rto, rtt, mss, cwnd; nothing later
        let mut payload = vec![0u8; 104];
        payload[5] = options::WSCALE as u8 | options::SACK as u8;
        payload[6] = 0x77;
        payload[8..12].copy_from_slice(&204_000u32.to_ne_bytes());
        payload[68..72].copy_from_slice(&50u32.to_ne_bytes());
        payload[72..76].copy_from_slice(&25u32.to_ne_bytes());
        payload[16..20].copy_from_slice(&65483u32.to_ne_bytes());
        payload[80..84].copy_from_slice(&10u32.to_ne_bytes());
        payload[88..92].copy_from_slice(&3u32.to_ne_bytes());
        let health = Health {
            state: tcp_state::ESTABLISHED,
            info: Some(TcpInfo::new(&payload)),
            cong: Some(b"cubic\0"),
            skmem: None,
            cc: None,
        };
        let options = Style {
            options: true,
            numeric: true,
        };
        assert_eq!(
            line(&health, options),
            "\t sack cubic wscale:7,7 rto:204 rtt:0.05/0.025 mss:65483 cwnd:10 \
             send 104772800000bps"
        );
        let words = Style {
            options: false,
            numeric: false,
        };
        assert_eq!(
            line(&health, words),
            "\t cubic wscale:7,7 rto:204 rtt:0.05/0.025 mss:65483 cwnd:10 send 105Gbps"
        );
        // no attribute at all: the tab alone, as ss prints it
        assert_eq!(line(&Health::default(), Style::default()), "\t");
    }

    /// u32 words in the host's order, as the kernel sends them.
    fn words(values: &[u32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_ne_bytes()).collect()
    }

    /// The tcp_info of an established socket: rtt 30 us, mss 47616,
    /// cwnd 13 (send 165068800000bps, as ss computed it).
    fn established() -> Vec<u8> {
        let mut payload = vec![0u8; 104];
        payload[0] = tcp_state::ESTABLISHED;
        payload[68..72].copy_from_slice(&30u32.to_ne_bytes());
        payload[16..20].copy_from_slice(&47616u32.to_ne_bytes());
        payload[80..84].copy_from_slice(&13u32.to_ne_bytes());
        payload[88..92].copy_from_slice(&3u32.to_ne_bytes());
        payload
    }

    fn with_cc(info: &[u8], kind: u16, cc: &[u8], style: Style) -> String {
        let health = Health {
            state: tcp_state::ESTABLISHED,
            info: Some(TcpInfo::new(info)),
            cc: CcInfo::new(kind, cc),
            ..Health::default()
        };
        line(&health, style)
    }

    const BBR: u16 = 16;
    const DCTCP: u16 = 9;
    const VEGAS: u16 = 3;

    #[test]
    fn bbr_detail_is_sss() {
        // what ss 6.1 printed for a loopback BBR sender (bw 3527109008
        // bytes/s, min_rtt 12 us, both gains 739/256)
        let info = established();
        let bbr = words(&[3_527_109_008, 0, 12, 739, 739]);
        let send = " send 165068800000bps";
        assert_eq!(
            with_cc(&info, BBR, &bbr, Style::default()),
            format!(
                "\t rtt:0.03/0 mss:47616 cwnd:13 bbr:(bw:28216872064bps,mrtt:0.012,\
                 pacing_gain:2.88672,cwnd_gain:2.88672){send}"
            )
        );
        // zero gains are left out; the high half counts; words scale
        let bbr = words(&[0, 1, 6, 0, 512]);
        let words_style = Style {
            options: false,
            numeric: false,
        };
        assert_eq!(
            with_cc(&info, BBR, &bbr, words_style),
            "\t rtt:0.03/0 mss:47616 cwnd:13 bbr:(bw:34.4Gbps,mrtt:0.006,cwnd_gain:2) send 165Gbps"
        );
        // a short struct reads as zeros, as ss's calloc'd copy does
        assert_eq!(
            with_cc(&info, BBR, &[], Style::default()),
            format!("\t rtt:0.03/0 mss:47616 cwnd:13 bbr:(bw:0bps,mrtt:0){send}")
        );
    }

    #[test]
    fn dctcp_detail_is_sss() {
        let info = established();
        let mut dctcp = vec![1u8, 0, 2, 0];
        dctcp.extend(words(&[1024, 4500, 90000]));
        assert_eq!(
            with_cc(&info, DCTCP, &dctcp, Style::default()),
            "\t rtt:0.03/0 mss:47616 cwnd:13 dctcp:(ce_state:2,alpha:1024,ab_ecn:4500,ab_tot:90000) \
             send 165068800000bps"
        );
        // not enabled (no ECN with the peer): the fallback word alone
        let fallback = [0u8; 16];
        assert_eq!(
            with_cc(&info, DCTCP, &fallback, Style::default()),
            "\t rtt:0.03/0 mss:47616 cwnd:13 dctcp:fallback_mode send 165068800000bps"
        );
    }

    #[test]
    fn vegas_rtt_drives_send_and_prints_nothing() {
        let info = established();
        // Vegas' RTT (60 us) replaces tcp_info's (30 us) in send
        let vegas = words(&[1, 4, 60, 20]);
        assert_eq!(
            with_cc(&info, VEGAS, &vegas, Style::default()),
            "\t rtt:0.03/0 mss:47616 cwnd:13 send 82534400000bps"
        );
        // not enabled, no sample, or the "none yet" value: tcp_info's
        for vegas in [[0, 4, 60, 20], [1, 4, 0, 20], [1, 4, 0x7fff_ffff, 20]] {
            assert_eq!(
                with_cc(&info, VEGAS, &words(&vegas), Style::default()),
                "\t rtt:0.03/0 mss:47616 cwnd:13 send 165068800000bps"
            );
        }
        // an attribute type that is not a congestion control's: no detail
        assert!(CcInfo::new(2, &vegas).is_none());
    }

    #[test]
    fn json_names_the_detail_after_its_struct() {
        let json_of = |kind: u16, cc: &[u8]| {
            let health = Health {
                cc: CcInfo::new(kind, cc),
                ..Health::default()
            };
            let mut json = JsonLine::new();
            json.begin("socket");
            write_json(&mut json, &health);
            let mut out = Vec::new();
            json.end(&mut out).unwrap();
            serde_json::from_slice::<serde_json::Value>(&out).unwrap()
        };
        let bbr = json_of(BBR, &words(&[3_527_109_008, 1, 12, 739, 739]));
        assert_eq!(
            bbr["bbr_info"],
            serde_json::json!({"bw": 3_527_109_008u64 + (1 << 32), "min_rtt": 12,
                               "pacing_gain": 739, "cwnd_gain": 739})
        );
        let mut dctcp = vec![1u8, 0, 2, 0];
        dctcp.extend(words(&[1024, 4500, 90000]));
        assert_eq!(
            json_of(DCTCP, &dctcp)["dctcp_info"],
            serde_json::json!({"enabled": 1, "ce_state": 2, "alpha": 1024,
                               "ab_ecn": 4500, "ab_tot": 90000})
        );
        assert_eq!(
            json_of(VEGAS, &words(&[1, 4, 60, 20]))["vegas_info"],
            serde_json::json!({"enabled": 1, "rttcnt": 4, "rtt": 60, "minrtt": 20})
        );
        // a short struct: the members it covers, the rest absent
        assert_eq!(
            json_of(BBR, &words(&[5, 0, 7]))["bbr_info"],
            serde_json::json!({"bw": 5, "min_rtt": 7})
        );
        assert!(json_of(0, &[1, 2, 3, 4]).as_object().unwrap().len() == 1);
    }

    #[test]
    fn percent_g_is_cs() {
        let cases: [(f64, usize, &str); 14] = [
            (0.05, 6, "0.05"),
            (204.0, 6, "204"),
            (4.604, 6, "4.604"),
            (1234.567, 6, "1234.57"),
            (123456.5, 6, "123456"),
            (123457.5, 6, "123458"),
            (999999.9, 6, "1e+06"),
            (4294967.295, 6, "4.29497e+06"),
            (0.0001, 6, "0.0001"),
            (0.00001, 6, "1e-05"),
            (104.7728, 3, "105"),
            (1.5, 3, "1.5"),
            (999.9, 3, "1e+03"),
            (0.001, 6, "0.001"),
        ];
        for (value, precision, expected) in cases {
            let mut out = Vec::new();
            push_g(&mut out, value, precision);
            assert_eq!(String::from_utf8(out).unwrap(), expected, "{value}");
        }
    }

    /// BBR's gains: every value up to 2^20 and the u32 range's edges, as
    /// `%g` of `n / 256.0` prints them.
    #[test]
    fn gains_print_as_printf_would() {
        let gains = (0..1u64 << 20).chain([u64::from(u32::MAX), 255_999_999, 256_000_000]);
        for n in gains {
            let (mut fast, mut general) = (Vec::new(), Vec::new());
            push_gain(&mut fast, n);
            push_g(&mut general, n as f64 / 256.0, 6);
            assert_eq!(fast, general, "{n}");
        }
        let mut out = Vec::new();
        signed(&mut out, " x:", u64::from(u32::MAX));
        assert_eq!(out, b" x:-1");
        for n in (0..100_000u64).chain([u64::MAX, u64::MAX / 10, 1 << 53]) {
            out.clear();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    /// The fast paths print what the general ones print: `%g` of the
    /// milliseconds and `%.0f` of a rate, across magnitudes and the
    /// boundaries where they hand over.
    #[test]
    fn fast_number_paths_match_the_general_ones() {
        let mut micros: Vec<u64> = (0..3000).collect();
        micros.extend([999_999, 1_000_000, 1_000_001, 12_345_678, 4_294_967_295]);
        micros.extend((0..2000u64).map(|i| i.wrapping_mul(2_654_435_761) % 2_000_000));
        for us in micros {
            let (mut fast, mut general) = (Vec::new(), Vec::new());
            push_millis(&mut fast, us);
            push_g(&mut general, us as f64 / 1000.0, 6);
            assert_eq!(fast, general, "{us} us");
        }
        let mut rates = vec![
            0.0,
            0.4,
            0.5,
            0.6,
            1.5,
            2.5,
            1e15,
            9.007199254740991e15,
            1e17,
        ];
        rates.extend((1..2000u64).map(|i| (i * 7_919) as f64 * 8.0 / 3.0));
        for bps in rates {
            let mut fast = Vec::new();
            push_whole(&mut fast, bps);
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                format!("{bps:.0}"),
                "{bps}"
            );
        }
    }
}
