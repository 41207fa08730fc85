//! One NETLINK_ROUTE socket for the interface table: an RTM_GETLINK dump
//! (flags, MTU, hardware address, 64-bit counters) and an AF_INET
//! RTM_GETADDR dump (addresses and their labels), walked in a reused
//! receive buffer and turned into plain records without decoding the
//! attributes nobody prints.

use crate::collect::netlink::NetlinkDumper;
use crate::error::{ParseError, Result};
use netlink_packet_core::{NlaBuffer, NlasIterator};
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::LinkMessage;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::protocols::NETLINK_ROUTE;
use std::net::Ipv4Addr;

const RTM_NEWLINK: u16 = 16;
const RTM_NEWADDR: u16 = 20;

const IFLA_ADDRESS: u16 = 1;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_STATS: u16 = 7;
const IFLA_TXQLEN: u16 = 13;
const IFLA_MAP: u16 = 14;
const IFLA_STATS64: u16 = 23;

const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;
const IFA_BROADCAST: u16 = 4;

/// An interface name as the kernel holds it: at most 15 bytes.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Name {
    bytes: [u8; 16],
    len: u8,
}

impl Name {
    pub fn new(raw: &[u8]) -> Name {
        let raw = match raw.iter().position(|&b| b == 0) {
            Some(end) => &raw[..end],
            None => raw,
        };
        let len = raw.len().min(15);
        let mut bytes = [0; 16];
        bytes[..len].copy_from_slice(&raw[..len]);
        Name {
            bytes,
            len: len as u8,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The device part of an alias label (`eth0:1` → `eth0`), as the
    /// kernel's interface ioctls strip it.
    pub fn base(&self) -> Name {
        match self.as_bytes().iter().position(|&b| b == b':') {
            Some(colon) => Name::new(&self.as_bytes()[..colon]),
            None => *self,
        }
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

/// The counters as /proc/net/dev shows them (and so as netstat reads
/// them): the kernel folds several rtnl_link_stats64 fields into one
/// column there, and this record folds them the same way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DevStats {
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub rx_fifo: u64,
    pub rx_frame: u64,
    pub rx_compressed: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
    pub tx_fifo: u64,
    pub collisions: u64,
    pub tx_carrier: u64,
    pub tx_compressed: u64,
}

impl DevStats {
    /// Fold `struct rtnl_link_stats64` (u64 fields, or the older u32
    /// `rtnl_link_stats` when `width` is 4) the way the kernel's
    /// dev_seq_printf_stats does for /proc/net/dev.
    pub fn from_rtnl(raw: &[u8], width: usize) -> DevStats {
        let field = |i: usize| -> u64 {
            let at = i * width;
            match raw.get(at..at + width) {
                Some(b) if width == 8 => u64::from_ne_bytes(b.try_into().unwrap_or([0; 8])),
                Some(b) => u64::from(u32::from_ne_bytes(b.try_into().unwrap_or([0; 4]))),
                None => 0,
            }
        };
        // Field order of rtnl_link_stats64.
        let (rx_packets, tx_packets, rx_bytes, tx_bytes) = (field(0), field(1), field(2), field(3));
        let (rx_errors, tx_errors, rx_dropped, tx_dropped) =
            (field(4), field(5), field(6), field(7));
        let collisions = field(9);
        let (rx_length, rx_over, rx_crc, rx_frame) = (field(10), field(11), field(12), field(13));
        let (rx_fifo, rx_missed) = (field(14), field(15));
        let (tx_aborted, tx_carrier, tx_fifo) = (field(16), field(17), field(18));
        let (tx_heartbeat, tx_window) = (field(19), field(20));
        let (rx_compressed, tx_compressed) = (field(21), field(22));
        DevStats {
            rx_bytes,
            rx_packets,
            rx_errors,
            rx_dropped: rx_dropped.wrapping_add(rx_missed),
            rx_fifo,
            rx_frame: rx_length
                .wrapping_add(rx_over)
                .wrapping_add(rx_crc)
                .wrapping_add(rx_frame),
            rx_compressed,
            tx_bytes,
            tx_packets,
            tx_errors,
            tx_dropped,
            tx_fifo,
            collisions,
            tx_carrier: tx_carrier
                .wrapping_add(tx_aborted)
                .wrapping_add(tx_window)
                .wrapping_add(tx_heartbeat),
            tx_compressed,
        }
    }
}

/// `struct rtnl_link_ifmap`: what SIOCGIFMAP reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DevMap {
    pub mem_start: u64,
    pub mem_end: u64,
    pub base_addr: u64,
    pub irq: u16,
    pub dma: u8,
    pub port: u8,
}

/// One RTM_NEWLINK record: what netstat's interface ioctls and
/// /proc/net/dev would tell about a device.
#[derive(Debug, Clone, Copy, Default)]
pub struct Link {
    pub index: u32,
    pub name: Name,
    /// ARPHRD_* type.
    pub kind: u16,
    /// dev_get_flags(), of which SIOCGIFFLAGS keeps the low 16 bits.
    pub flags: u32,
    pub mtu: u32,
    pub txqlen: Option<u32>,
    /// The first 8 bytes of the hardware address, zero padded, as
    /// net-tools copies them out of SIOCGIFHWADDR.
    pub hwaddr: [u8; 8],
    pub stats: Option<DevStats>,
    pub map: DevMap,
}

/// One IPv4 address (RTM_NEWADDR, AF_INET).
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Address {
    pub index: u32,
    pub label: Name,
    /// IFA_LOCAL: what SIOCGIFADDR returns.
    pub local: Ipv4Addr,
    /// IFA_ADDRESS: the peer on point-to-point links (SIOCGIFDSTADDR).
    pub address: Ipv4Addr,
    pub broadcast: Ipv4Addr,
    pub prefix_len: u8,
}

/// A NETLINK_ROUTE socket with its receive buffer, reused across `-c`
/// ticks.
pub struct RouteSocket {
    dumper: NetlinkDumper,
}

impl RouteSocket {
    pub fn open() -> Result<Self> {
        Ok(RouteSocket {
            dumper: NetlinkDumper::open(NETLINK_ROUTE, "NETLINK_ROUTE")?,
        })
    }

    /// Over any dumper (a replay in tests and fuzz targets).
    #[cfg(any(fuzzing, test))]
    pub fn with_dumper(dumper: NetlinkDumper) -> Self {
        RouteSocket { dumper }
    }

    /// Dump every link into `links` (cleared first), in the kernel's order.
    pub fn links(&mut self, links: &mut Vec<Link>) -> Result<()> {
        links.clear();
        let request = self
            .dumper
            .request(RouteNetlinkMessage::GetLink(LinkMessage::default()));
        self.dumper.dump_parsed(
            &request,
            "RTM_GETLINK",
            RTM_NEWLINK,
            |payload| parse_link(payload).map(Some),
            |link| {
                links.push(link);
                Ok(())
            },
        )
    }

    /// Dump every IPv4 address into `addresses` (cleared first).
    pub fn ipv4_addresses(&mut self, addresses: &mut Vec<Ipv4Address>) -> Result<()> {
        addresses.clear();
        let mut message = AddressMessage::default();
        message.header.family = AddressFamily::Inet;
        let request = self
            .dumper
            .request(RouteNetlinkMessage::GetAddress(message));
        self.dumper.dump_parsed(
            &request,
            "RTM_GETADDR (inet)",
            RTM_NEWADDR,
            parse_ipv4,
            |address| {
                addresses.push(address);
                Ok(())
            },
        )
    }
}

fn u32_at(value: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(value.get(..4)?.try_into().ok()?))
}

fn u64_at(value: &[u8], at: usize) -> u64 {
    value
        .get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_ne_bytes)
        .unwrap_or(0)
}

fn ipv4_at(value: &[u8]) -> Option<Ipv4Addr> {
    let b: [u8; 4] = value.get(..4)?.try_into().ok()?;
    Some(Ipv4Addr::from(b))
}

/// `struct ifinfomsg` (16 bytes) and the attributes netstat's output
/// needs. An error for a message shorter than its header or with an
/// attribute that does not parse (the link is left out, not shown with
/// half its fields).
pub(crate) fn parse_link(payload: &[u8]) -> std::result::Result<Link, ParseError> {
    let header = payload.get(..16).ok_or(ParseError::new(
        "RTM_NEWLINK",
        "shorter than its 16-byte ifinfomsg header",
    ))?;
    let mut link = Link {
        kind: u16::from_ne_bytes([header[2], header[3]]),
        index: u32::from_ne_bytes([header[4], header[5], header[6], header[7]]),
        flags: u32::from_ne_bytes([header[8], header[9], header[10], header[11]]),
        ..Link::default()
    };
    let mut stats32 = None;
    for nla in NlasIterator::new(&payload[16..]) {
        let nla: NlaBuffer<&[u8]> =
            nla.map_err(|_| ParseError::new("RTM_NEWLINK", "an attribute runs past its message"))?;
        let value = nla.value();
        match nla.kind() & 0x3fff {
            IFLA_IFNAME => link.name = Name::new(value),
            IFLA_MTU => link.mtu = u32_at(value).unwrap_or(0),
            IFLA_TXQLEN => link.txqlen = u32_at(value),
            IFLA_ADDRESS => {
                let take = value.len().min(8);
                link.hwaddr[..take].copy_from_slice(&value[..take]);
            }
            IFLA_STATS64 => link.stats = Some(DevStats::from_rtnl(value, 8)),
            IFLA_STATS => stats32 = Some(DevStats::from_rtnl(value, 4)),
            IFLA_MAP => {
                link.map = DevMap {
                    mem_start: u64_at(value, 0),
                    mem_end: u64_at(value, 8),
                    base_addr: u64_at(value, 16),
                    irq: value
                        .get(24..26)
                        .map(|b| u16::from_ne_bytes([b[0], b[1]]))
                        .unwrap_or(0),
                    dma: value.get(26).copied().unwrap_or(0),
                    port: value.get(27).copied().unwrap_or(0),
                }
            }
            _ => {}
        }
    }
    if link.stats.is_none() {
        link.stats = stats32;
    }
    Ok(link)
}

/// `struct ifaddrmsg` (8 bytes) and its address attributes: `Ok(None)` for
/// another family, an error as for [`parse_link`].
pub(crate) fn parse_ipv4(payload: &[u8]) -> std::result::Result<Option<Ipv4Address>, ParseError> {
    let header = payload.get(..8).ok_or(ParseError::new(
        "RTM_NEWADDR",
        "shorter than its 8-byte ifaddrmsg header",
    ))?;
    if header[0] != libc::AF_INET as u8 {
        return Ok(None);
    }
    let mut address = Ipv4Address {
        index: u32::from_ne_bytes([header[4], header[5], header[6], header[7]]),
        prefix_len: header[1],
        label: Name::default(),
        local: Ipv4Addr::UNSPECIFIED,
        address: Ipv4Addr::UNSPECIFIED,
        broadcast: Ipv4Addr::UNSPECIFIED,
    };
    let (mut local, mut peer) = (None, None);
    for nla in NlasIterator::new(&payload[8..]) {
        let nla: NlaBuffer<&[u8]> =
            nla.map_err(|_| ParseError::new("RTM_NEWADDR", "an attribute runs past its message"))?;
        let value = nla.value();
        match nla.kind() & 0x3fff {
            IFA_LOCAL => local = ipv4_at(value),
            IFA_ADDRESS => peer = ipv4_at(value),
            IFA_BROADCAST => address.broadcast = ipv4_at(value).unwrap_or(Ipv4Addr::UNSPECIFIED),
            IFA_LABEL => address.label = Name::new(value),
            _ => {}
        }
    }
    address.local = local.or(peer).unwrap_or(Ipv4Addr::UNSPECIFIED);
    address.address = peer.or(local).unwrap_or(Ipv4Addr::UNSPECIFIED);
    Ok(Some(address))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_fold_like_proc_net_dev() {
        let mut raw = [0u8; 25 * 8];
        for i in 0..25 {
            raw[i * 8..i * 8 + 8].copy_from_slice(&(i as u64 + 1).to_ne_bytes());
        }
        let s = DevStats::from_rtnl(&raw, 8);
        assert_eq!(
            (s.rx_packets, s.tx_packets, s.rx_bytes, s.tx_bytes),
            (1, 2, 3, 4)
        );
        assert_eq!(s.rx_dropped, 7 + 16);
        assert_eq!(s.rx_frame, 11 + 12 + 13 + 14);
        assert_eq!(s.rx_fifo, 15);
        assert_eq!(s.tx_carrier, 18 + 17 + 21 + 20);
        assert_eq!((s.tx_fifo, s.collisions), (19, 10));
    }

    /// A refused request surfaces as one error naming the request.
    #[test]
    fn refused_request_names_itself() {
        let mut socket = RouteSocket::open().expect("NETLINK_ROUTE socket");
        let mut message = LinkMessage::default();
        message.header.index = 0x7fff_fff0;
        // a plain request, not a dump: refused for its unknown index
        let request = crate::collect::netlink::encode_request(
            RouteNetlinkMessage::GetLink(message),
            netlink_packet_core::NLM_F_REQUEST,
            0,
        );
        let error = socket
            .dumper
            .dump_all(&request, "RTM_GETLINK", |_, _| Ok(()))
            .unwrap_err();
        let text = error.to_string();
        assert!(text.starts_with("netlink RTM_GETLINK dump: "), "{text}");
        assert!(!text.contains('\n'));
    }

    fn attribute(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut out = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(value);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
        out
    }

    /// A link with an attribute that runs past its message is left out
    /// with a reason, not listed without the attributes after it (it used
    /// to vanish without a word).
    #[test]
    fn links_with_broken_attributes_are_errors() {
        let mut payload = vec![0u8; 16];
        payload[4..8].copy_from_slice(&7u32.to_ne_bytes());
        payload.extend(attribute(IFLA_IFNAME, b"eth7\0"));
        payload.extend(attribute(IFLA_MTU, &9000u32.to_ne_bytes()));
        let link = parse_link(&payload).unwrap();
        assert_eq!(
            (link.index, link.mtu, link.name.as_bytes()),
            (7, 9000, &b"eth7"[..])
        );
        let mut broken = payload.clone();
        let at = broken.len() - 8;
        broken[at..at + 2].copy_from_slice(&64u16.to_ne_bytes());
        assert_eq!(parse_link(&broken).unwrap_err().source, "RTM_NEWLINK");
        assert!(parse_link(&payload[..10]).is_err());
        // an address of another family is skipped, a short one is an error
        assert_eq!(
            parse_ipv4(&[10, 64, 0, 0, 1, 0, 0, 0])
                .unwrap()
                .map(|a| a.index),
            None
        );
        assert!(parse_ipv4(&[2, 24]).is_err());
    }

    #[test]
    fn alias_base_name() {
        assert_eq!(Name::new(b"eth0:1").base(), Name::new(b"eth0"));
        assert_eq!(Name::new(b"eth0\0junk").as_bytes(), b"eth0");
    }
}
