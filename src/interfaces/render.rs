//! net-tools' interface printers, byte for byte: the short table row
//! (`ife_print_short`) and the ifconfig-style block (`ife_print_long`).

use super::inet6::Inet6Address;
use super::rtnl::{DevMap, DevStats, Ipv4Address, Link, Name};
use crate::sinks::table::{Fields, Record, TableRecord};
use crate::text::{Text, format_ipv4, format_ipv6};
use std::io::{Result, Write};
use std::net::{IpAddr, Ipv4Addr};

pub const TITLE: &str = "Kernel Interface table\n";
pub const HEADER: &str =
    "Iface             MTU    RX-OK RX-ERR RX-DRP RX-OVR    TX-OK TX-ERR TX-DRP TX-OVR Flg\n";

const IFF_UP: i16 = 0x1;
const IFF_BROADCAST: i16 = 0x2;
const IFF_DEBUG: i16 = 0x4;
const IFF_LOOPBACK: i16 = 0x8;
const IFF_POINTOPOINT: i16 = 0x10;
const IFF_NOTRAILERS: i16 = 0x20;
const IFF_RUNNING: i16 = 0x40;
const IFF_NOARP: i16 = 0x80;
const IFF_PROMISC: i16 = 0x100;
const IFF_ALLMULTI: i16 = 0x200;
const IFF_MASTER: i16 = 0x400;
const IFF_SLAVE: i16 = 0x800;
const IFF_MULTICAST: i16 = 0x1000;
const IFF_PORTSEL: i16 = 0x2000;
const IFF_AUTOMEDIA: i16 = 0x4000;
const IFF_DYNAMIC: i16 = 0x8000u16 as i16;

/// SIOCGIFFLAGS hands back a `short`: the kernel's upper flag bits
/// (LOWER_UP, DORMANT, ECHO) are cut off and DYNAMIC makes it negative.
pub fn ioctl_flags(flags: u32) -> i16 {
    flags as u16 as i16
}

/// Whether netstat lists this interface without `-a`.
pub fn is_up(flags: u32) -> bool {
    ioctl_flags(flags) & IFF_UP != 0
}

/// The `Flg` column: `[NO FLAGS]` or letters in net-tools' order (`P`
/// stands for both PROMISC and POINTOPOINT).
pub fn flag_letters(flags: i16) -> Text<32> {
    let mut out = Text::new();
    if flags == 0 {
        out.push_str("[NO FLAGS]");
    }
    let letters: [(i16, u8); 14] = [
        (IFF_ALLMULTI, b'A'),
        (IFF_BROADCAST, b'B'),
        (IFF_DEBUG, b'D'),
        (IFF_LOOPBACK, b'L'),
        (IFF_MULTICAST, b'M'),
        (IFF_DYNAMIC, b'd'),
        (IFF_PROMISC, b'P'),
        (IFF_NOTRAILERS, b'N'),
        (IFF_NOARP, b'O'),
        (IFF_POINTOPOINT, b'P'),
        (IFF_SLAVE, b's'),
        (IFF_MASTER, b'm'),
        (IFF_RUNNING, b'R'),
        (IFF_UP, b'U'),
    ];
    for (bit, letter) in letters {
        if flags & bit != 0 {
            out.push_byte(letter);
        }
    }
    out
}

/// `flags=4163<UP,BROADCAST,RUNNING,MULTICAST>`, including net-tools'
/// way of closing the list: a trailing `,` becomes `>`, and otherwise the
/// last character is dropped (so no known flag leaves `flags=N<` or, for
/// zero, `flags=0<`).
pub fn flag_words(flags: i16) -> Text<200> {
    let mut out = Text::new();
    out.push_str("flags=");
    if flags < 0 {
        out.push_byte(b'-');
    }
    out.push_u64(u64::from(flags.unsigned_abs()));
    out.push_byte(b'<');
    if flags == 0 {
        out.push_byte(b'>');
    }
    for word in flag_word_list(flags) {
        out.push_str(word);
        out.push_byte(b',');
    }
    close_list(&mut out);
    out
}

/// ifconfig's flag words, in its order.
const FLAG_WORDS: [(i16, &str); 14] = [
    (IFF_UP, "UP"),
    (IFF_BROADCAST, "BROADCAST"),
    (IFF_DEBUG, "DEBUG"),
    (IFF_LOOPBACK, "LOOPBACK"),
    (IFF_POINTOPOINT, "POINTOPOINT"),
    (IFF_NOTRAILERS, "NOTRAILERS"),
    (IFF_RUNNING, "RUNNING"),
    (IFF_NOARP, "NOARP"),
    (IFF_PROMISC, "PROMISC"),
    (IFF_ALLMULTI, "ALLMULTI"),
    (IFF_SLAVE, "SLAVE"),
    (IFF_MASTER, "MASTER"),
    (IFF_MULTICAST, "MULTICAST"),
    (IFF_DYNAMIC, "DYNAMIC"),
];

/// The words of the flags that are set.
pub fn flag_word_list(flags: i16) -> impl Iterator<Item = &'static str> {
    FLAG_WORDS
        .iter()
        .filter(move |(bit, _)| flags & bit != 0)
        .map(|(_, word)| *word)
}

fn close_list<const N: usize>(out: &mut Text<N>) {
    let len = out.len();
    if out.as_bytes().last() == Some(&b',') {
        out.truncate(len - 1);
        out.push_byte(b'>');
    } else if len > 0 {
        out.truncate(len - 1);
    }
}

/// ifconfig's human-readable byte count: tenths of the largest binary
/// unit the value exceeds, truncated, as `(whole, tenth, unit)`.
pub fn human_size(bytes: u64) -> (u64, u64, &'static str) {
    const KIB: u64 = 1 << 10;
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    const TIB: u64 = 1 << 40;
    const PIB: u64 = 1 << 50;
    let tenths = bytes.wrapping_mul(10);
    let (short, unit) = if bytes > PIB {
        if bytes > i64::MAX as u64 / 10 {
            (bytes / (PIB / 10), "PiB")
        } else {
            (tenths / PIB, "PiB")
        }
    } else if bytes > TIB {
        (tenths / TIB, "TiB")
    } else if bytes > GIB {
        (tenths / GIB, "GiB")
    } else if bytes > MIB {
        (tenths / MIB, "MiB")
    } else if bytes > KIB {
        (tenths / KIB, "KiB")
    } else {
        (tenths, "B")
    };
    (short / 10, short % 10, unit)
}

/// `%-15.15s `: the name cut to 15 bytes, padded to 16 columns.
fn write_name_column(out: &mut dyn Write, name: &Name) -> Result<()> {
    let bytes = name.as_bytes();
    let take = bytes.len().min(15);
    out.write_all(&bytes[..take])?;
    out.write_all(&b"                "[..16 - take])
}

/// One row of the short table.
pub fn write_short(
    out: &mut dyn Write,
    name: &Name,
    link: &Link,
    stats: Option<&DevStats>,
) -> Result<()> {
    write_name_column(out, name)?;
    write!(out, "{:5} ", link.mtu as i32)?;
    match stats {
        Some(s) => {
            write!(
                out,
                "{:8} {:6} {:6} {:<6} {:8} {:6} {:6} {:6} ",
                s.rx_packets,
                s.rx_errors,
                s.rx_dropped,
                s.rx_fifo,
                s.tx_packets,
                s.tx_errors,
                s.tx_dropped,
                s.tx_fifo
            )?;
        }
        None => write!(out, "{:<56}", "     - no statistics available -")?,
    }
    out.write_all(flag_letters(ioctl_flags(link.flags)).as_bytes())?;
    out.write_all(b"\n")
}

/// How net-tools names and prints a hardware type.
struct HwType {
    name: &'static str,
    title: &'static str,
    print: HwPrint,
}

enum HwPrint {
    /// No address printer: only the type name.
    None,
    /// A printer that prints nothing (tunnel): the name and a space.
    Empty,
    Ether,
    Unspec,
}

fn hw_type(kind: u16) -> HwType {
    let (name, title, print) = match kind {
        772 => ("loop", "Local Loopback", HwPrint::None),
        1 => ("ether", "Ethernet", HwPrint::Ether),
        512 => ("ppp", "Point-to-Point Protocol", HwPrint::None),
        768 => ("tunnel", "IPIP Tunnel", HwPrint::Empty),
        776 => ("sit", "IPv6-in-IPv4", HwPrint::None),
        _ => ("unspec", "UNSPEC", HwPrint::Unspec),
    };
    HwType { name, title, print }
}

const PORT_NAMES: [&str; 7] = [
    "unknown",
    "10base2",
    "10baseT",
    "AUI",
    "100baseT",
    "100baseTX",
    "100baseFX",
];

fn ipv4_text(address: Ipv4Addr) -> Text<16> {
    let mut t = Text::new();
    format_ipv4(address, &mut t);
    t
}

fn netmask(prefix_len: u8) -> Ipv4Addr {
    match prefix_len {
        0 => Ipv4Addr::UNSPECIFIED,
        n => Ipv4Addr::from(u32::MAX << (32 - u32::from(n.min(32)))),
    }
}

/// The `scopeid 0x20<link>` tail of an inet6 line.
pub fn scope_text(scope: u32) -> Text<48> {
    let mut t = Text::new();
    t.push_str("  scopeid 0x");
    let _ = std::fmt::Write::write_fmt(&mut t, format_args!("{scope:x}"));
    let mut words: Text<32> = Text::new();
    words.push_byte(b'<');
    scope_words(scope, &mut words);
    if words.len() > 1 {
        words.push_byte(b',');
    }
    close_list(&mut words);
    t.push_bytes(words.as_bytes());
    t
}

/// ifconfig's scope words, comma separated (`link`, `global`, ...).
fn scope_words(scope: u32, words: &mut Text<32>) {
    let start = words.len();
    let mut scope = scope as i32;
    if scope & 0x80 != 0 {
        words.push_str("compat,");
        scope -= 0x80;
    }
    if scope == 0 {
        words.push_str("global,");
    }
    if scope & 0x20 != 0 {
        words.push_str("link,");
    }
    if scope & 0x40 != 0 {
        words.push_str("site,");
    }
    if scope & 0x10 != 0 {
        words.push_str("host,");
    }
    if words.len() > start {
        words.truncate(words.len() - 1);
    }
}

/// One interface: a row of the short table, or with `-e` ifconfig's block.
pub struct InterfaceRecord<'a, F> {
    pub name: &'a Name,
    pub link: &'a Link,
    pub stats: Option<&'a DevStats>,
    /// `-e`: the device's IPv4 address (SIOCGIFADDR's) and where its IPv6
    /// addresses come from.
    pub long: Option<(Option<&'a Ipv4Address>, F)>,
}

impl<'a, F, I> Record for InterfaceRecord<'a, F>
where
    F: Fn() -> I,
    I: Iterator<Item = &'a Inet6Address>,
{
    const KIND: &'static str = "interface";

    /// The short table's columns; `-e` adds the addresses, the hardware
    /// type and every counter of the ifconfig-style block.
    fn fields(&self, fields: &mut impl Fields) {
        let (link, stats) = (self.link, self.stats);
        let flags = ioctl_flags(link.flags);
        fields
            .str("iface", self.name.as_bytes())
            .u64("index", u64::from(link.index))
            .u64("mtu", u64::from(link.mtu));
        let counter = |pick: fn(&DevStats) -> u64| stats.map(pick);
        fields
            .opt_u64("rx_ok", counter(|s| s.rx_packets))
            .opt_u64("rx_err", counter(|s| s.rx_errors))
            .opt_u64("rx_drp", counter(|s| s.rx_dropped))
            .opt_u64("rx_ovr", counter(|s| s.rx_fifo))
            .opt_u64("tx_ok", counter(|s| s.tx_packets))
            .opt_u64("tx_err", counter(|s| s.tx_errors))
            .opt_u64("tx_drp", counter(|s| s.tx_dropped))
            .opt_u64("tx_ovr", counter(|s| s.tx_fifo))
            .str("flags", flag_letters(flags).as_bytes());
        let Some((ipv4, inet6)) = &self.long else {
            return;
        };
        fields
            .str_array("flag_words", flag_word_list(flags))
            .opt_u64("rx_bytes", counter(|s| s.rx_bytes))
            .opt_u64("rx_frame", counter(|s| s.rx_frame))
            .opt_u64("rx_compressed", counter(|s| s.rx_compressed))
            .opt_u64("tx_bytes", counter(|s| s.tx_bytes))
            .opt_u64("tx_carrier", counter(|s| s.tx_carrier))
            .opt_u64("tx_collisions", counter(|s| s.collisions))
            .opt_u64("tx_compressed", counter(|s| s.tx_compressed));
        hardware_fields(fields, link);
        ipv4_fields(fields, *ipv4, flags);
        fields.list_begin("inet6");
        for (i, a) in inet6().enumerate() {
            let mut scope: Text<32> = Text::new();
            scope_words(a.scope, &mut scope);
            fields
                .item_begin(i == 0)
                .ip("addr", IpAddr::V6(a.address))
                .u64("prefix_len", u64::from(a.prefix_len))
                .u64("scope_id", u64::from(a.scope))
                .str("scope", scope.as_bytes())
                .item_end();
        }
        fields.list_end();
    }
}

impl<'a, F, I> TableRecord for InterfaceRecord<'a, F>
where
    F: Fn() -> I,
    I: Iterator<Item = &'a Inet6Address>,
{
    fn write_netstat(&self, out: &mut dyn Write) -> Result<()> {
        match &self.long {
            Some((ipv4, inet6)) => {
                write_long(out, self.name, self.link, self.stats, *ipv4, inet6())
            }
            None => write_short(out, self.name, self.link, self.stats),
        }
    }
}

/// The hardware type, its address (Ethernet's only) and queue length.
fn hardware_fields(fields: &mut impl Fields, link: &Link) {
    let hw = hw_type(link.kind);
    fields.str("hw_type", hw.name.as_bytes());
    if matches!(hw.print, HwPrint::Ether) {
        let m = &link.hwaddr;
        let mut text: Text<24> = Text::new();
        for (i, b) in m[..6].iter().enumerate() {
            if i > 0 {
                text.push_byte(b':');
            }
            text.push_byte(HEX_DIGITS[usize::from(b >> 4)]);
            text.push_byte(HEX_DIGITS[usize::from(b & 0xf)]);
        }
        fields.str("hwaddr", text.as_bytes());
    } else {
        fields.null("hwaddr");
    }
    fields.opt_u64("txqueuelen", link.txqlen.map(u64::from));
}

/// The IPv4 address with its netmask, and the broadcast or peer address
/// where the flags say the device has one.
fn ipv4_fields(fields: &mut impl Fields, ipv4: Option<&Ipv4Address>, flags: i16) {
    let v4 = |pick: fn(&Ipv4Address) -> Ipv4Addr| ipv4.map(|a| IpAddr::V4(pick(a)));
    fields
        .opt_ip("inet_addr", v4(|a| a.local))
        .opt_ip("netmask", v4(|a| netmask(a.prefix_len)))
        .opt_ip(
            "broadcast",
            ipv4.filter(|_| flags & IFF_BROADCAST != 0)
                .map(|a| IpAddr::V4(a.broadcast)),
        )
        .opt_ip(
            "destination",
            ipv4.filter(|_| flags & IFF_POINTOPOINT != 0)
                .map(|a| IpAddr::V4(a.address)),
        );
}

/// One ifconfig-style block (`-e`), byte for byte.
pub fn write_long<'a>(
    out: &mut dyn Write,
    name: &Name,
    link: &Link,
    stats: Option<&DevStats>,
    ipv4: Option<&Ipv4Address>,
    inet6: impl Iterator<Item = &'a Inet6Address>,
) -> Result<()> {
    let flags = ioctl_flags(link.flags);
    out.write_all(name.as_bytes())?;
    out.write_all(b": ")?;
    out.write_all(flag_words(flags).as_bytes())?;
    writeln!(out, "  mtu {}", link.mtu as i32)?;
    write_addresses(out, flags, ipv4, inet6)?;
    write_hardware(out, link)?;
    if flags & IFF_PORTSEL != 0 {
        let port = PORT_NAMES
            .get(link.map.port as usize)
            .copied()
            .unwrap_or("unknown");
        write!(out, "        media {port}")?;
        if flags & IFF_AUTOMEDIA != 0 {
            out.write_all(b"autoselect")?;
        }
        out.write_all(b"\n")?;
    }
    if let Some(s) = stats {
        // CSLIP and CSLIP6 count compressed packets.
        write_counters(out, s, matches!(link.kind, 257 | 259))?;
    }
    write_device_map(out, &link.map)?;
    out.write_all(b"\n")
}

/// The block's `inet` line and its `inet6` lines.
fn write_addresses<'a>(
    out: &mut dyn Write,
    flags: i16,
    ipv4: Option<&Ipv4Address>,
    inet6: impl Iterator<Item = &'a Inet6Address>,
) -> Result<()> {
    if let Some(a) = ipv4 {
        out.write_all(b"        inet ")?;
        out.write_all(ipv4_text(a.local).as_bytes())?;
        out.write_all(b"  netmask ")?;
        out.write_all(ipv4_text(netmask(a.prefix_len)).as_bytes())?;
        if flags & IFF_BROADCAST != 0 {
            out.write_all(b"  broadcast ")?;
            out.write_all(ipv4_text(a.broadcast).as_bytes())?;
        }
        if flags & IFF_POINTOPOINT != 0 {
            out.write_all(b"  destination ")?;
            out.write_all(ipv4_text(a.address).as_bytes())?;
        }
        out.write_all(b"\n")?;
    }
    for a in inet6 {
        let mut text: Text<64> = Text::new();
        format_ipv6(a.address, &mut text);
        out.write_all(b"        inet6 ")?;
        out.write_all(text.as_bytes())?;
        write!(out, "  prefixlen {}", a.prefix_len as i32)?;
        out.write_all(scope_text(a.scope).as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// The hardware line: type, address, queue length and type title.
fn write_hardware(out: &mut dyn Write, link: &Link) -> Result<()> {
    let hw = hw_type(link.kind);
    out.write_all(b"        ")?;
    out.write_all(hw.name.as_bytes())?;
    match hw.print {
        HwPrint::None => {}
        HwPrint::Empty => out.write_all(b" ")?,
        HwPrint::Ether => {
            let m = &link.hwaddr;
            write!(
                out,
                " {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                m[0], m[1], m[2], m[3], m[4], m[5]
            )?;
        }
        HwPrint::Unspec => {
            // sizeof(struct sockaddr) bytes of net-tools' hwaddr buffer, of
            // which only the first 8 are ever filled.
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&link.hwaddr);
            for (i, b) in bytes.iter().enumerate() {
                write!(out, "{}{b:02X}", if i == 0 { " " } else { "-" })?;
            }
        }
    }
    if let Some(qlen) = link.txqlen {
        write!(out, "  txqueuelen {}", qlen as i32)?;
    }
    writeln!(out, "  ({})", hw.title)
}

/// The RX and TX lines (with the compressed counts where the link type
/// has them).
fn write_counters(out: &mut dyn Write, s: &DevStats, can_compress: bool) -> Result<()> {
    let (whole, tenth, unit) = human_size(s.rx_bytes);
    writeln!(
        out,
        "        RX packets {}  bytes {} ({whole}.{tenth} {unit})",
        s.rx_packets, s.rx_bytes
    )?;
    if can_compress {
        writeln!(out, "        RX compressed:{}", s.rx_compressed)?;
    }
    writeln!(
        out,
        "        RX errors {}  dropped {}  overruns {}  frame {}",
        s.rx_errors, s.rx_dropped, s.rx_fifo, s.rx_frame
    )?;
    let (whole, tenth, unit) = human_size(s.tx_bytes);
    writeln!(
        out,
        "        TX packets {}  bytes {} ({whole}.{tenth} {unit})",
        s.tx_packets, s.tx_bytes
    )?;
    if can_compress {
        writeln!(out, "        TX compressed {}", s.tx_compressed)?;
    }
    writeln!(
        out,
        "        TX errors {}  dropped {} overruns {}  carrier {}  collisions {}",
        s.tx_errors, s.tx_dropped, s.tx_fifo, s.tx_carrier, s.collisions
    )
}

/// The `device` line: struct ifmap as SIOCGIFMAP fills it, a short base
/// address and a one-byte irq.
fn write_device_map(out: &mut dyn Write, map: &DevMap) -> Result<()> {
    let (irq, base) = (map.irq as u8, map.base_addr as u16);
    if irq != 0 || map.mem_start != 0 || map.dma != 0 || base >= 0x100 {
        out.write_all(b"        device ")?;
        if irq != 0 {
            write!(out, "interrupt {irq}  ")?;
        }
        if base >= 0x100 {
            write!(out, "base 0x{base:x}  ")?;
        }
        if map.mem_start != 0 {
            write!(out, "memory 0x{:x}-{:x}  ", map.mem_start, map.mem_end)?;
        }
        if map.dma != 0 {
            write!(out, "  dma 0x{:x}", map.dma)?;
        }
        out.write_all(b"\n")?;
    }
    Ok(())
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_letters_in_net_tools_order() {
        assert_eq!(flag_letters(0).as_str(), "[NO FLAGS]");
        assert_eq!(flag_letters(0x1043).as_str(), "BMRU");
        assert_eq!(flag_letters(0x49).as_str(), "LRU");
        assert_eq!(flag_letters(0x10d0).as_str(), "MOPR");
        assert_eq!(flag_letters(0x1302).as_str(), "ABMP");
        assert_eq!(flag_letters(ioctl_flags(0x8c04)).as_str(), "Ddsm");
        // LOWER_UP (0x10000) does not survive SIOCGIFFLAGS.
        assert_eq!(flag_letters(ioctl_flags(0x11043)).as_str(), "BMRU");
    }

    #[test]
    fn flag_words_close_like_net_tools() {
        assert_eq!(
            flag_words(4163).as_str(),
            "flags=4163<UP,BROADCAST,RUNNING,MULTICAST>"
        );
        assert_eq!(flag_words(73).as_str(), "flags=73<UP,LOOPBACK,RUNNING>");
        assert_eq!(flag_words(0).as_str(), "flags=0<");
        assert_eq!(flag_words(0x2000).as_str(), "flags=8192");
        assert_eq!(
            flag_words(ioctl_flags(0x8001)).as_str(),
            "flags=-32767<UP,DYNAMIC>"
        );
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_size(0), (0, 0, "B"));
        assert_eq!(human_size(1024), (1024, 0, "B"));
        assert_eq!(human_size(1025), (1, 0, "KiB"));
        assert_eq!(human_size(3245), (3, 1, "KiB"));
        assert_eq!(human_size(214221), (209, 2, "KiB"));
        assert_eq!(human_size(58645982), (55, 9, "MiB"));
        assert_eq!(human_size(1 << 30), (1024, 0, "MiB"));
        assert_eq!(human_size(3 << 40), (3, 0, "TiB"));
        assert_eq!(human_size(1 << 40), (1024, 0, "GiB"));
        assert_eq!(human_size(u64::MAX), (16384, 0, "PiB"));
    }

    #[test]
    fn scope_words() {
        assert_eq!(scope_text(0x20).as_str(), "  scopeid 0x20<link>");
        assert_eq!(scope_text(0).as_str(), "  scopeid 0x0<global>");
        assert_eq!(scope_text(0x10).as_str(), "  scopeid 0x10<host>");
        assert_eq!(scope_text(0x90).as_str(), "  scopeid 0x90<compat,host>");
        assert_eq!(scope_text(0x1).as_str(), "  scopeid 0x1");
    }

    #[test]
    fn hardware_lines() {
        let line = |kind: u16| {
            let link = Link {
                kind,
                txqlen: Some(500),
                hwaddr: [1, 2, 3, 4, 5, 6, 0, 0],
                ..Link::default()
            };
            let mut out = Vec::new();
            write_long(
                &mut out,
                &Name::new(b"x"),
                &link,
                None,
                None,
                std::iter::empty(),
            )
            .unwrap();
            String::from_utf8(out)
                .unwrap()
                .lines()
                .nth(1)
                .unwrap()
                .to_string()
        };
        assert_eq!(
            line(1),
            "        ether 01:02:03:04:05:06  txqueuelen 500  (Ethernet)"
        );
        assert_eq!(line(772), "        loop  txqueuelen 500  (Local Loopback)");
        assert_eq!(line(768), "        tunnel   txqueuelen 500  (IPIP Tunnel)");
        assert_eq!(
            line(65534),
            "        unspec 01-02-03-04-05-06-00-00-00-00-00-00-00-00-00-00  txqueuelen 500  (UNSPEC)"
        );
    }

    #[test]
    fn short_row_layout() {
        let link = Link {
            mtu: 1500,
            flags: 0x1043,
            ..Link::default()
        };
        let stats = DevStats {
            rx_packets: 7,
            tx_packets: 9,
            rx_fifo: 2,
            ..DevStats::default()
        };
        let mut out = Vec::new();
        write_short(
            &mut out,
            &Name::new(b"veth-with-long1"),
            &link,
            Some(&stats),
        )
        .unwrap();
        write_short(&mut out, &Name::new(b"v0:5"), &link, None).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "veth-with-long1  1500        7      0      0 2             9      0      0      0 BMRU\n\
             v0:5             1500      - no statistics available -                        BMRU\n"
        );
    }
}
