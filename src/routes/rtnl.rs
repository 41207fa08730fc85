//! One NETLINK_ROUTE socket for RTM_GETROUTE dumps. Each reply is read in
//! place into a plain, copyable [`RouteRecord`] (no allocation per route),
//! so 100 000 routes stream to the renderer without being collected.

use crate::collect::netlink::NetlinkDumper;
use crate::error::{ParseError, Result};
use netlink_packet_core::{NlaBuffer, NlasIterator};
use netlink_packet_route::route::{RouteAttribute, RouteHeader, RouteMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::protocols::NETLINK_ROUTE;

/// Header of an rtmsg: family, dst_len, src_len, tos, table, protocol,
/// scope, type, flags (u32).
const RTMSG_LEN: usize = 12;
const RTM_NEWROUTE: u16 = 24;

const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_METRICS: u16 = 8;
const RTA_MULTIPATH: u16 = 9;
const RTA_TABLE: u16 = 15;
const RTA_VIA: u16 = 18;

const RTAX_WINDOW: u16 = 3;
const RTAX_RTT: u16 = 4;
const RTAX_ADVMSS: u16 = 8;

/// rtm_type values the renderer cares about.
pub const RTN_BROADCAST: u8 = 3;
pub const RTN_MULTICAST: u8 = 5;
pub const RTN_UNREACHABLE: u8 = 7;
pub const RTN_PROHIBIT: u8 = 8;
/// The main routing table, the only one /proc/net/route shows.
pub const RT_TABLE_MAIN: u32 = 254;

/// What one RTM_NEWROUTE reply says about an IPv4 route, in the shape
/// /proc/net/route would show it (first nexthop only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouteRecord {
    pub dst_len: u8,
    pub kind: u8,
    pub table: u32,
    /// Destination, network byte order as octets.
    pub dst: [u8; 4],
    /// IPv4 gateway of the first nexthop; 0.0.0.0 when none.
    pub gateway: [u8; 4],
    /// The first nexthop has a gateway (also true for an IPv6 `via`).
    pub has_gateway: bool,
    pub oif: u32,
    pub priority: u32,
    pub advmss: u32,
    pub window: u32,
    pub rtt: u32,
}

/// A NETLINK_ROUTE socket and its receive buffer, kept across `-c` ticks.
pub struct RouteSocket {
    dumper: NetlinkDumper,
}

impl RouteSocket {
    pub fn open() -> Result<Self> {
        // With strict checking the kernel dumps only the main table we ask
        // for; without it (old kernels) the records are filtered here.
        let dumper = NetlinkDumper::open_strict(NETLINK_ROUTE, "NETLINK_ROUTE")?;
        Ok(RouteSocket { dumper })
    }

    /// Over any dumper (a replay in tests and fuzz targets).
    pub fn with_dumper(dumper: NetlinkDumper) -> Self {
        RouteSocket { dumper }
    }

    fn request_v4_main(&mut self) -> Vec<u8> {
        let mut message = RouteMessage::default();
        message.header.address_family = AddressFamily::Inet;
        message.header.table = RouteHeader::RT_TABLE_MAIN;
        message
            .attributes
            .push(RouteAttribute::Table(RT_TABLE_MAIN));
        self.dumper.request(RouteNetlinkMessage::GetRoute(message))
    }

    /// Dump the IPv4 main table and call `on_route` for each route in the
    /// kernel's order (the FIB trie walk /proc/net/route also uses).
    pub fn dump_v4_main(
        &mut self,
        mut on_route: impl FnMut(&RouteRecord) -> Result<()>,
    ) -> Result<()> {
        let request = self.request_v4_main();
        let what = "RTM_GETROUTE (IPv4 main table)";
        self.dumper
            .dump_parsed(&request, what, RTM_NEWROUTE, parse_v4, |record| {
                on_route(&record)
            })
    }
}

fn u32_of(value: &[u8]) -> u32 {
    value
        .get(..4)
        .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        .unwrap_or(0)
}

fn v4_of(value: &[u8]) -> Option<[u8; 4]> {
    value.get(..4).map(|b| [b[0], b[1], b[2], b[3]])
}

const BAD_ATTRIBUTE: ParseError =
    ParseError::new("RTM_NEWROUTE", "an attribute runs past its message");

/// Read one rtmsg payload: `Ok(None)` for a route of another family (a
/// kernel without strict checking sends every family), an error for a
/// message shorter than its header or with an attribute that does not
/// parse (the route is left out, not shown with half its fields).
pub fn parse_v4(payload: &[u8]) -> std::result::Result<Option<RouteRecord>, ParseError> {
    if payload.len() < RTMSG_LEN {
        return Err(ParseError::new(
            "RTM_NEWROUTE",
            "shorter than its 12-byte rtmsg header",
        ));
    }
    if payload[0] != libc::AF_INET as u8 {
        return Ok(None);
    }
    let mut record = RouteRecord {
        dst_len: payload[1],
        table: u32::from(payload[4]),
        kind: payload[7],
        ..RouteRecord::default()
    };
    for nla in NlasIterator::new(&payload[RTMSG_LEN..]) {
        let nla = nla.map_err(|_| BAD_ATTRIBUTE)?;
        let value = nla.value();
        match nla.kind() {
            RTA_DST => record.dst = v4_of(value).unwrap_or_default(),
            RTA_OIF => record.oif = u32_of(value),
            RTA_GATEWAY => {
                if let Some(gw) = v4_of(value) {
                    record.gateway = gw;
                    record.has_gateway = gw != [0; 4];
                }
            }
            // An IPv6 nexthop for an IPv4 route: /proc shows no IPv4
            // gateway but the G flag.
            RTA_VIA => record.has_gateway = true,
            RTA_PRIORITY => record.priority = u32_of(value),
            RTA_TABLE => record.table = u32_of(value),
            RTA_METRICS => {
                for metric in NlasIterator::new(value) {
                    let metric = metric.map_err(|_| BAD_ATTRIBUTE)?;
                    let v = u32_of(metric.value());
                    match metric.kind() {
                        RTAX_ADVMSS => record.advmss = v,
                        RTAX_WINDOW => record.window = v,
                        RTAX_RTT => record.rtt = v,
                        _ => {}
                    }
                }
            }
            RTA_MULTIPATH => first_nexthop(value, &mut record)?,
            _ => {}
        }
    }
    Ok(Some(record))
}

/// /proc/net/route shows a multipath route by its first nexthop.
fn first_nexthop(value: &[u8], record: &mut RouteRecord) -> std::result::Result<(), ParseError> {
    // struct rtnexthop { u16 len; u8 flags; u8 hops; i32 ifindex; } + attrs
    if value.len() < 8 {
        return Err(BAD_ATTRIBUTE);
    }
    let length = usize::from(u16::from_ne_bytes([value[0], value[1]])).min(value.len());
    record.oif = u32_of(&value[4..8]);
    if length <= 8 {
        return Ok(());
    }
    for nla in NlasIterator::new(&value[8..length]) {
        let nla: NlaBuffer<&[u8]> = nla.map_err(|_| BAD_ATTRIBUTE)?;
        match nla.kind() {
            RTA_GATEWAY => {
                if let Some(gw) = v4_of(nla.value()) {
                    record.gateway = gw;
                    record.has_gateway = gw != [0; 4];
                }
            }
            RTA_VIA => record.has_gateway = true,
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nla(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(value);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out
    }

    #[test]
    fn reads_gateway_metrics_and_first_nexthop() {
        let mut payload = vec![libc::AF_INET as u8, 16, 0, 0, 254, 4, 0, 1, 0, 0, 0, 0];
        payload.extend(nla(RTA_TABLE, &254u32.to_ne_bytes()));
        payload.extend(nla(RTA_DST, &[10, 20, 0, 0]));
        payload.extend(nla(RTA_PRIORITY, &7u32.to_ne_bytes()));
        let mut metrics = nla(RTAX_ADVMSS, &1300u32.to_ne_bytes());
        metrics.extend(nla(RTAX_RTT, &320u32.to_ne_bytes()));
        payload.extend(nla(RTA_METRICS, &metrics));
        let mut hop = vec![0u8; 8];
        hop[4..8].copy_from_slice(&3u32.to_ne_bytes());
        hop.extend(nla(RTA_GATEWAY, &[10, 9, 0, 2]));
        let len = hop.len() as u16;
        hop[0..2].copy_from_slice(&len.to_ne_bytes());
        payload.extend(nla(RTA_MULTIPATH, &hop));
        let r = parse_v4(&payload).unwrap().unwrap();
        assert_eq!(r.dst, [10, 20, 0, 0]);
        assert_eq!((r.dst_len, r.table, r.priority), (16, 254, 7));
        assert_eq!((r.advmss, r.rtt, r.oif), (1300, 320, 3));
        assert_eq!(r.gateway, [10, 9, 0, 2]);
        assert!(r.has_gateway);
    }

    #[test]
    fn ignores_other_families() {
        assert_eq!(parse_v4(&[libc::AF_INET6 as u8; 12]), Ok(None));
        assert!(parse_v4(&[2, 0]).is_err());
        // an attribute longer than the message: the route is left out
        let mut payload = vec![libc::AF_INET as u8, 24, 0, 0, 254, 4, 0, 1, 0, 0, 0, 0];
        payload.extend(nla(RTA_DST, &[10, 20, 0]));
        payload[12..14].copy_from_slice(&40u16.to_ne_bytes());
        assert_eq!(parse_v4(&payload).unwrap_err().source, "RTM_NEWROUTE");
    }
}
