//! One route as a table record: netstat's row, byte for byte, and its
//! facts as fields (see [`crate::sinks::table`]).

use super::names::NetworkNames;
use super::rtnl::RouteRecord;
use super::{RTF_REJECT, V6Line, prefix_mask, v4_flags, v4_kernel_flags};
use crate::enrich::names::NameCache;
use crate::sinks::table::{Fields, Record, TableRecord};
use crate::text::{Ipv6Text, Text, format_ipv4, format_ipv6};
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An IPv4 route of the main table, with its names looked up.
pub(super) struct V4Route<'a> {
    pub route: &'a RouteRecord,
    /// The column set (see `route_ext`); never 0, which prints no rows.
    pub ext: usize,
    pub numeric: bool,
    /// The destination as netstat shows it (a name unless numeric).
    pub destination: Ipv6Text,
    /// The device, for a route that is no reject and has one.
    pub iface: Option<&'a str>,
    pub hosts: &'a NameCache,
}

impl Record for V4Route<'_> {
    const KIND: &'static str = "route";

    fn fields(&self, fields: &mut impl Fields) {
        let route = self.route;
        let kernel_flags = v4_kernel_flags(route);
        let reject = kernel_flags & RTF_REJECT != 0;
        let mut flags: Text<8> = Text::new();
        v4_flags(kernel_flags, &mut flags);
        let gateway =
            (!reject && route.gateway != [0; 4]).then(|| IpAddr::V4(Ipv4Addr::from(route.gateway)));
        fields
            .str("family", b"inet")
            .ip("destination", IpAddr::V4(Ipv4Addr::from(route.dst)))
            .u64("prefix_len", u64::from(route.dst_len))
            .opt_ip("gateway", gateway)
            .ip(
                "genmask",
                IpAddr::V4(Ipv4Addr::from(prefix_mask(route.dst_len))),
            )
            .str("flags", flags.as_bytes())
            .i64("metric", i64::from(route.priority as i32))
            .u64("ref", 0)
            .u64("use", 0)
            .opt_str("iface", self.iface.map(str::as_bytes))
            .u64(
                "mss",
                if route.advmss == 0 {
                    0
                } else {
                    u64::from(route.advmss.wrapping_add(40))
                },
            )
            .u64("window", u64::from(route.window))
            .u64("irtt", u64::from(route.rtt >> 3))
            .bool("cache", false);
        if !self.numeric {
            fields.str("destination_name", self.destination.as_bytes());
            if gateway.is_some() {
                let mut text = Ipv6Text::new();
                v4_gateway(route, false, self.hosts, &mut text);
                fields.str("gateway_name", text.as_bytes());
            }
        }
    }
}

impl TableRecord for V4Route<'_> {
    /// Byte-exact writer: one row of netstat's `-r` table at each `-e`
    /// level, its reject rows included.
    fn write_netstat(&self, out: &mut dyn Write) -> io::Result<()> {
        let route = self.route;
        let mut dst = self.destination;
        dst.truncate(15);
        let mut mask: Text<16> = Text::new();
        format_ipv4(Ipv4Addr::from(prefix_mask(route.dst_len)), &mut mask);
        let kernel_flags = v4_kernel_flags(route);
        let mut flags: Text<8> = Text::new();
        v4_flags(kernel_flags, &mut flags);
        let (dst, mask, flags) = (dst.as_str(), mask.as_str(), flags.as_str());
        let metric = route.priority as i32;
        if kernel_flags & RTF_REJECT != 0 {
            return match self.ext {
                1 => writeln!(
                    out,
                    "{dst:<15} -               {mask:<15} {flags:<5} {metric:<6} -  {:>7} -",
                    0
                ),
                2 => writeln!(
                    out,
                    "{dst:<15} -               {mask:<15} {flags:<5}     - -          - -"
                ),
                _ => writeln!(
                    out,
                    "{dst:<15} -               {mask:<15} {flags:<5} {metric:<6} -  {:>7} -        -     -      -",
                    0
                ),
            };
        }
        let mut gateway = Ipv6Text::new();
        v4_gateway(route, self.numeric, self.hosts, &mut gateway);
        gateway.truncate(15);
        let gateway = gateway.as_str();
        let iface = self.iface.unwrap_or("*");
        let mss = if route.advmss == 0 {
            0
        } else {
            route.advmss.wrapping_add(40)
        } as i32;
        let window = route.window as i32;
        let irtt = (route.rtt >> 3) as i32;
        match self.ext {
            1 => writeln!(
                out,
                "{dst:<15} {gateway:<15} {mask:<15} {flags:<5} {metric:<6} {:<2} {:>7} {iface}",
                0, 0
            ),
            2 => writeln!(
                out,
                "{dst:<15} {gateway:<15} {mask:<15} {flags:<5} {mss:>5} {window:<5} {irtt:>6} {iface}"
            ),
            _ => writeln!(
                out,
                "{dst:<15} {gateway:<15} {mask:<15} {flags:<5} {metric:<6} {:<3} {:>6} {iface:<6.6}   {mss:<5} {window:<6} {irtt}",
                0, 0
            ),
        }
    }
}

/// A line of /proc/net/ipv6_route, with its flag letters.
pub(super) struct V6Route<'a> {
    pub route: &'a V6Line<'a>,
    pub flags: &'a Text<16>,
    /// The Iface column: netstat's sscanf leaves its buffer alone on a
    /// line without a device, so that is the previous line's.
    pub shown_iface: &'a Text<16>,
    pub cache: bool,
    pub numeric: bool,
    pub hosts: &'a NameCache,
}

impl Record for V6Route<'_> {
    const KIND: &'static str = "route";

    fn fields(&self, fields: &mut impl Fields) {
        let route = self.route;
        fields
            .str("family", b"inet6")
            .ip("destination", IpAddr::V6(route.dst))
            .u64("prefix_len", u64::from(route.prefix_len))
            .opt_ip("gateway", nonzero_v6(route.next_hop))
            .null("genmask")
            .str("flags", self.flags.as_bytes())
            .i64("metric", i64::from(route.metric as i32))
            .i64("ref", i64::from(route.refcnt as i32))
            .i64("use", i64::from(route.used as i32))
            .opt_str("iface", route.iface)
            .null("mss")
            .null("window")
            .null("irtt")
            .bool("cache", self.cache);
        if !self.numeric {
            let mut text = Ipv6Text::new();
            v6_text(self.hosts, route.dst, false, &mut text);
            fields.str("destination_name", text.as_bytes());
            if !route.next_hop.is_unspecified() {
                v6_text(self.hosts, route.next_hop, false, &mut text);
                fields.str("gateway_name", text.as_bytes());
            }
        }
    }
}

impl TableRecord for V6Route<'_> {
    fn write_netstat(&self, out: &mut dyn Write) -> io::Result<()> {
        let route = self.route;
        let (mut dst, mut hop) = (Ipv6Text::new(), Ipv6Text::new());
        v6_text(self.hosts, route.dst, self.numeric, &mut dst);
        dst.push_byte(b'/');
        dst.push_u64(u64::from(route.prefix_len));
        v6_text(self.hosts, route.next_hop, self.numeric, &mut hop);
        writeln!(
            out,
            "{:<30} {:<26} {:<4} {:<3} {:<1} {:>6} {}",
            dst.as_str(),
            hop.as_str(),
            self.flags.as_str(),
            route.metric as i32,
            route.refcnt as i32,
            route.used as i32,
            self.shown_iface.as_str()
        )
    }
}

/// INET6_rresolve: numbers with -n, `[::]` for the unspecified address,
/// otherwise getnameinfo's answer (its numeric form when the resolver has
/// no name).
fn v6_text(hosts: &NameCache, address: Ipv6Addr, numeric: bool, out: &mut Ipv6Text) {
    out.clear();
    if numeric || address.to_ipv4_mapped().is_some() {
        format_ipv6(address, out);
    } else {
        hosts.host_text(IpAddr::V6(address), false, out);
    }
}

fn nonzero_v6(address: Ipv6Addr) -> Option<IpAddr> {
    (!address.is_unspecified()).then_some(IpAddr::V6(address))
}

/// Destination text as INET_sprintmask gives it: `default` for 0.0.0.0/0,
/// 0.0.0.0 for other zero networks, a host name for host routes, a
/// network name for networks.
pub(super) fn v4_destination(
    route: &RouteRecord,
    numeric: bool,
    networks: &mut NetworkNames,
    hosts: &NameCache,
    out: &mut Ipv6Text,
) {
    out.clear();
    let address = Ipv4Addr::from(route.dst);
    if numeric {
        format_ipv4(address, out);
    } else if route.dst == [0; 4] {
        out.push_str(if route.dst_len == 0 {
            "default"
        } else {
            "0.0.0.0"
        });
    } else if route.dst_len == 32 || (u32::from(address) & !prefix_mask(route.dst_len)) != 0 {
        hosts.host_text(IpAddr::V4(address), false, out);
    } else if let Some(name) = networks.name(u32::from(address)) {
        out.push_str(name);
    } else {
        format_ipv4(address, out);
    }
}

/// Gateway text: always a host; 0.0.0.0 stays numeric.
fn v4_gateway(route: &RouteRecord, numeric: bool, hosts: &NameCache, out: &mut Ipv6Text) {
    out.clear();
    let address = Ipv4Addr::from(route.gateway);
    if numeric || route.gateway == [0; 4] {
        format_ipv4(address, out);
    } else {
        hosts.host_text(IpAddr::V4(address), false, out);
    }
}
