//! `-i`: netstat's kernel interface table, short (`ife_print_short`) or
//! ifconfig-style with `-e`, from an RTM_GETLINK dump (flags, MTU,
//! hardware address, 64-bit counters folded as /proc/net/dev folds them)
//! and an AF_INET RTM_GETADDR dump (addresses and alias labels, which
//! netstat learns from SIOCGIFCONF).

pub(crate) mod inet6;
mod order;
pub(crate) mod render;
pub(crate) mod rtnl;

use crate::collect::netlink::retry_interrupted;
use crate::collect::procfs::ProcRoot;
use crate::config::Config;
use crate::error::Result;
use crate::model::Tick;
use crate::sinks::table::TableOutput;
use inet6::Inet6Table;
use order::Entry;
use render::InterfaceRecord;
use rtnl::{Ipv4Address, Link, Name, RouteSocket};
use rustc_hash::FxHashMap;
use std::io::Write;

/// The interface table across `-c` ticks: the socket, the record vectors
/// and the lookup maps are kept and refilled.
pub struct Interfaces {
    root: ProcRoot,
    socket: Option<RouteSocket>,
    links: Vec<Link>,
    ipv4: Vec<Ipv4Address>,
    entries: Vec<Entry>,
    by_name: FxHashMap<Name, usize>,
    /// First position of each ifindex in `ipv4` (the dump is grouped by
    /// device).
    ipv4_start: FxHashMap<u32, usize>,
    inet6: Inet6Table,
    ticks: u64,
}

impl Interfaces {
    pub fn new(root: ProcRoot) -> Self {
        Self::with_socket(root, None)
    }

    /// With a given socket (a replay of recorded dumps, in tests and fuzz
    /// targets) instead of one opened on first use.
    pub(crate) fn with_socket(root: ProcRoot, socket: Option<RouteSocket>) -> Self {
        Interfaces {
            root,
            socket,
            links: Vec::new(),
            ipv4: Vec::new(),
            entries: Vec::new(),
            by_name: FxHashMap::default(),
            ipv4_start: FxHashMap::default(),
            inet6: Inet6Table::default(),
            ticks: 0,
        }
    }

    pub fn tick(&mut self, config: &Config, tick: &Tick, out: &mut dyn Write) -> Result<i32> {
        let mut sink = TableOutput::for_tick(config, tick);
        // netstat prints the title only while opening its ioctl socket,
        // which `-c` keeps open: once per run.
        if self.ticks == 0 {
            sink.heading(out, render::TITLE)?;
        }
        self.ticks += 1;
        let long = config.extend >= 2;
        if !long {
            sink.heading(out, render::HEADER)?;
        }
        self.collect(long)?;
        for entry in &self.entries {
            let Some(link) = entry.link.map(|i| &self.links[i]) else {
                continue;
            };
            if !config.all && !render::is_up(link.flags) {
                continue;
            }
            let stats = entry.has_stats.then(|| shown_counters(link));
            let record = InterfaceRecord {
                name: &entry.name,
                link,
                stats: stats.as_ref(),
                long: long.then(|| {
                    let ipv4 = self.ipv4_of(link.index, &entry.name);
                    (ipv4, || self.inet6.of(&entry.name))
                }),
            };
            sink.record(out, &record)?;
        }
        Ok(0)
    }

    /// Every device's counters (RTM_GETLINK's 64-bit statistics, folded
    /// as /proc/net/dev folds them), for the exporter.
    pub fn device_counters(&mut self) -> Result<Vec<DeviceCounters>> {
        self.collect(false)?;
        Ok(self
            .links
            .iter()
            .filter_map(|link| {
                let s = link.stats?;
                Some(DeviceCounters {
                    name: String::from_utf8_lossy(link.name.as_bytes()).into_owned(),
                    counters: [
                        ("receive_bytes", s.rx_bytes),
                        ("receive_packets", s.rx_packets),
                        ("receive_errors", s.rx_errors),
                        ("receive_drops", s.rx_dropped),
                        ("transmit_bytes", s.tx_bytes),
                        ("transmit_packets", s.tx_packets),
                        ("transmit_errors", s.tx_errors),
                        ("transmit_drops", s.tx_dropped),
                    ],
                })
            })
            .collect())
    }

    /// Refill links, addresses and the name list in netstat's order.
    fn collect(&mut self, long: bool) -> Result<()> {
        if self.socket.is_none() {
            self.socket = Some(RouteSocket::open()?);
        }
        let socket = self.socket.as_mut().expect("opened above");
        // Both dumps are gathered before anything prints, so one the
        // kernel marks interrupted (a device came or went) is redone.
        retry_interrupted(|| socket.links(&mut self.links))?;
        retry_interrupted(|| socket.ipv4_addresses(&mut self.ipv4))?;
        if long {
            self.inet6.refresh(&self.root)?;
        }

        self.entries.clear();
        self.by_name.clear();
        // /proc/net/dev names first (the devices, with counters)...
        for (i, link) in self.links.iter().enumerate() {
            self.by_name.insert(link.name, i);
            order::add(&mut self.entries, link.name, Some(i), true);
        }
        // ...then every IPv4 address label SIOCGIFCONF would list; labels
        // other than the device's own name become lines of their own.
        self.ipv4_start.clear();
        for (i, address) in self.ipv4.iter().enumerate() {
            self.ipv4_start.entry(address.index).or_insert(i);
            let link = self.by_name.get(&address.label.base()).copied();
            order::add(&mut self.entries, address.label, link, false);
        }
        Ok(())
    }

    /// What SIOCGIFADDR answers for `name`: the device's first IPv4
    /// address whose label is exactly that name.
    fn ipv4_of(&self, index: u32, name: &Name) -> Option<&Ipv4Address> {
        let start = *self.ipv4_start.get(&index)?;
        self.ipv4[start..]
            .iter()
            .take_while(|a| a.index == index)
            .find(|a| a.label == *name)
    }
}

/// One device's counters by their metric names.
pub struct DeviceCounters {
    pub name: String,
    pub counters: [(&'static str, u64); 8],
}

/// The counters shown for a device: the kernel's. (net-tools' /proc/net/dev
/// parser fails on a 15-byte name and shows zeros for such a device; nlstat
/// shows the real counters, a documented difference.)
fn shown_counters(link: &Link) -> rtnl::DevStats {
    link.stats.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `-c`: the title only on the first tick, the header on every one.
    #[test]
    fn title_once_header_every_tick() {
        let config = Config {
            mode: crate::config::Mode::Interfaces,
            ..Config::default()
        };
        let mut interfaces = Interfaces::new(ProcRoot::default());
        let (mut first, mut second) = (Vec::new(), Vec::new());
        interfaces
            .tick(&config, &Tick::OWN, &mut first)
            .expect("first tick");
        interfaces
            .tick(&config, &Tick::OWN, &mut second)
            .expect("second tick");
        let (first, second) = (
            String::from_utf8(first).unwrap(),
            String::from_utf8(second).unwrap(),
        );
        assert!(first.starts_with(render::TITLE));
        assert_eq!(
            &first[render::TITLE.len()..][..render::HEADER.len()],
            render::HEADER
        );
        assert!(second.starts_with(render::HEADER));
        assert!(second.lines().any(|l| l.starts_with("lo ")), "{second}");
    }

    /// The recorded RTM_GETLINK and RTM_GETADDR dumps (and if_inet6),
    /// replayed over the netlink seam, print what netstat printed in that
    /// namespace at the same moment (tests/fixtures/README.md), for the
    /// short table and for `-e`'s blocks.
    #[cfg(target_endian = "little")]
    #[test]
    fn replayed_dumps_print_netstats_interface_tables() {
        use crate::collect::netlink::{NetlinkDumper, Replay};
        use crate::collect::recording::Recording;
        const LINKS: &[u8] = include_bytes!("../../tests/fixtures/rtnl/links.nlrec");
        const ADDRS: &[u8] = include_bytes!("../../tests/fixtures/rtnl/addrs.nlrec");
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        for (args, expected) in [
            (&["netstat", "-ia"][..], "netstat-ia.txt"),
            (&["netstat", "-iea"][..], "netstat-iea.txt"),
        ] {
            let mut replay = Replay::renumbering();
            for recording in [LINKS, ADDRS] {
                for d in Recording::new(recording).unwrap().datagrams() {
                    replay = replay.datagram(d);
                }
            }
            let socket = RouteSocket::with_dumper(NetlinkDumper::with_transport(Box::new(replay)));
            let root = ProcRoot(fixtures.join("proc-net"));
            let mut interfaces = Interfaces::with_socket(root, Some(socket));
            let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
            let crate::cli::Parsed::Run(config) = crate::cli::parse(&args) else {
                panic!("{args:?} parses");
            };
            let mut out = Vec::new();
            interfaces.tick(&config, &Tick::OWN, &mut out).unwrap();
            let ours = String::from_utf8(out).unwrap();
            let theirs = std::fs::read_to_string(fixtures.join("rtnl").join(expected)).unwrap();
            // The 15-character device is the documented difference:
            // netstat's /proc/net/dev parser fails on its name and shows
            // zeros; nlstat shows the kernel's counters, which
            // /proc/net/dev (recorded beside) states.
            let long_name = "a-fifteen-char0";
            assert_eq!(
                without_device(&ours, long_name),
                without_device(&theirs, long_name),
                "{args:?}"
            );
            let dev = std::fs::read_to_string(fixtures.join("proc-net/net/dev")).unwrap();
            let counters: Vec<&str> = dev
                .lines()
                .find_map(|l| l.trim_start().strip_prefix("a-fifteen-char0:"))
                .expect("the device in /proc/net/dev")
                .split_whitespace()
                .collect();
            let (rx, tx) = (counters[1], counters[9]);
            if config.extend >= 2 {
                assert!(ours.contains(&format!("        RX packets {rx}  bytes {}", counters[0])));
                assert!(ours.contains(&format!("        TX packets {tx}  bytes {}", counters[8])));
            } else {
                let row = ours.lines().find(|l| l.starts_with(long_name)).unwrap();
                let fields: Vec<&str> = row.split_whitespace().collect();
                assert_eq!((fields[2], fields[6]), (rx, tx), "{row}");
            }
        }
    }

    /// The text without the line (short table) or block (`-e`) of one
    /// device.
    fn without_device(text: &str, name: &str) -> String {
        let mut out = String::new();
        let mut skipping = false;
        for line in text.lines() {
            if line.starts_with(name) {
                skipping = true;
                continue;
            }
            if skipping && (line.starts_with(' ') || line.is_empty()) && text.contains("\n\n") {
                skipping = !line.is_empty();
                continue;
            }
            skipping = false;
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    #[test]
    fn fifteen_byte_names_show_their_counters() {
        let stats = rtnl::DevStats {
            rx_packets: 4,
            tx_bytes: 9,
            ..Default::default()
        };
        let link = Link {
            stats: Some(stats),
            ..Link::default()
        };
        assert_eq!(shown_counters(&link), stats);
    }
}
