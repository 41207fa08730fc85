//! The interface table (`-i`, `-ie`) against /usr/bin/netstat: veth pairs
//! (one end in a second namespace), up and down ends, MTUs, IPv4 and IPv6
//! addresses, an alias label, a tun device, a 15-character name and
//! toggled flags, with counters made non-zero by bounded UDP traffic.
//!
//! Each test waits until the namespace is quiet (its counters stop moving:
//! IPv6 multicast listener reports and neighbour discovery die down within
//! seconds), so both tools see the same numbers. The one mask: netstat
//! shows zeros for a device with a 15-character name (its /proc/net/dev
//! parser fails on such names); nlstat shows the kernel's counters, so that
//! device's numbers are masked and checked against /proc/net/dev instead.

use crate::support::*;
use std::time::{Duration, Instant};

const FLAG_SETS: &[&[&str]] = &[
    &["-i"],
    &["-ia"],
    &["-ie"],
    &["-iae"],
    &["-iaee"],
    &["-in"],
    &["-ian"],
    &["-iv"],
    &["-iav"],
    &["-iW"],
    &["-iaW"],
    &["-iaeW"],
    &["--interfaces", "--all"],
    &["--interfaces", "--extend", "--numeric"],
];

/// Sysctls that keep a namespace from talking on its own: no router
/// solicitations, no duplicate address detection (addresses are usable
/// at once and no probes are sent).
pub(crate) const QUIET: &str = "sysctl -qw net.ipv6.conf.default.router_solicitations=0 \
     net.ipv6.conf.all.router_solicitations=0 \
     net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0";

/// Wait (at most 15 s) until /proc/net/dev reads the same twice 1.5 s
/// apart.
pub(crate) fn wait_quiet(ns: &Namespace) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut last = ns.run("cat", &["/proc/net/dev"]).stdout;
    loop {
        std::thread::sleep(Duration::from_millis(1500));
        let now = ns.run("cat", &["/proc/net/dev"]).stdout;
        if now == last {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "namespace {} never went quiet",
            ns.name
        );
        last = now;
    }
}

/// Send `count` UDP datagrams of `size` bytes to `address` (bounded).
pub(crate) fn udp_burst(ns: &Namespace, address: &str, count: u32, size: usize) {
    let family = if address.contains(':') {
        "AF_INET6"
    } else {
        "AF_INET"
    };
    let script = format!(
        "import socket\n\
         s = socket.socket(socket.{family}, socket.SOCK_DGRAM)\n\
         for _ in range({count}):\n\
         \x20   try:\n\
         \x20       s.sendto(b'x' * {size}, ('{address}', 9))\n\
         \x20   except OSError:\n\
         \x20       pass\n"
    );
    let out = ns.run("timeout", &["10", "python3", "-c", &script]);
    assert!(
        out.status.success(),
        "udp burst failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn interface_tables_match_netstat() {
    let Some(ns) = Namespace::create("if") else {
        return;
    };
    let Some(peer) = Namespace::create("ifpeer") else {
        return;
    };
    ns.sh(QUIET);
    peer.sh(QUIET);
    ns.sh(&format!(
        "ip link add veth-a type veth peer name veth-b netns {peer} && \
         ip link set veth-a mtu 1400 up && \
         ip addr add 10.77.0.1/24 dev veth-a && \
         ip addr add 10.77.0.9/24 dev veth-a label veth-a:1 && \
         ip addr add fd77::1/64 dev veth-a nodad && \
         ip link add down-end mtu 9000 type veth peer name up-end && \
         ip link set up-end up && \
         ip link add abcdefghijklmno type veth peer name short0 && \
         ip link set abcdefghijklmno up promisc on allmulticast on arp off && \
         ip link set short0 up multicast off && \
         ip addr add 10.78.0.1/30 dev short0 && \
         ip tuntap add tn0 mode tun && ip link set tn0 arp on",
        peer = peer.name
    ));
    peer.sh("ip link set veth-b mtu 1400 up && \
         ip addr add 10.77.0.2/24 dev veth-b && \
         ip addr add fd77::2/64 dev veth-b nodad");
    // 1 500 datagrams of 1 000 bytes: TX reaches MiB, and the peer's
    // port-unreachable replies give RX counts.
    udp_burst(&ns, "10.77.0.2", 1500, 1000);
    udp_burst(&ns, "fd77::2", 20, 200);
    udp_burst(&ns, "127.0.0.1", 3, 100);
    wait_quiet(&ns);
    let dev = String::from_utf8(ns.run("cat", &["/proc/net/dev"]).stdout).unwrap();
    let veth_line = dev
        .lines()
        .find(|l| l.contains("veth-a:"))
        .expect("veth-a in /proc/net/dev");
    let tx_packets: u64 = veth_line
        .split_whitespace()
        .nth(10)
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        tx_packets >= 1500,
        "traffic did not leave veth-a: {veth_line}"
    );
    udp_burst(&ns, "10.78.0.2", 7, 100);
    wait_quiet(&ns);
    let mut masked_by_netstat = 0;
    let failures: Vec<String> = FLAG_SETS
        .iter()
        .filter_map(|args| {
            let Comparison { netstat, nlstat } = run_both(&ns, args, &[]);
            let (theirs, hidden) = mask_device_counters(&latin1(&netstat.stdout), LONG_NAME);
            // the mask's premise: what it hides of netstat's output is zeros
            assert!(
                hidden.iter().all(|w| w == "0" || w == "(0.0"),
                "{args:?}: netstat printed {hidden:?} for {LONG_NAME}"
            );
            masked_by_netstat += hidden.len();
            let (ours, _) = mask_device_counters(&latin1(&nlstat.stdout), LONG_NAME);
            (theirs != ours || netstat.status.code() != nlstat.status.code()).then(|| {
                format!(
                    "{args:?}:\n{}",
                    describe_byte_diff(&from_latin1(&theirs), &from_latin1(&ours))
                )
            })
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        masked_by_netstat > 0,
        "{LONG_NAME}'s counters were in no table"
    );
    // The 15-character device's counters are the kernel's.
    let dev = String::from_utf8(ns.run("cat", &["/proc/net/dev"]).stdout).unwrap();
    let kernel = dev
        .lines()
        .find(|l| l.trim_start().starts_with(LONG_NAME))
        .unwrap();
    let kernel: Vec<&str> = kernel
        .split(':')
        .nth(1)
        .unwrap()
        .split_whitespace()
        .collect();
    let ours = String::from_utf8(ns.run(nlstat(), &["-i"]).stdout).unwrap();
    let row: Vec<&str> = ours
        .lines()
        .find(|l| l.starts_with(LONG_NAME))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        row[2], kernel[1],
        "RX-OK of {LONG_NAME} (netstat would print 0)"
    );
    assert_eq!(row[6], kernel[9], "TX-OK of {LONG_NAME}");
    // short0's ARP requests for 10.78.0.2 arrive on its peer
    assert_ne!(row[2], "0", "traffic must have reached {LONG_NAME}");
}

/// A device name of the kernel's maximum length.
const LONG_NAME: &str = "abcdefghijklmno";

/// Replace the numbers of `device`'s row (short table) or of its RX/TX
/// lines (`-e` blocks) with `#`; also the words replaced.
fn mask_device_counters(text: &str, device: &str) -> (String, Vec<String>) {
    let mut hidden = Vec::new();
    let mut out = String::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.starts_with(device) {
            in_block = line.starts_with(&format!("{device}: "));
            if !in_block {
                let fields: Vec<&str> = line.split_whitespace().collect();
                hidden.extend(fields[2..fields.len() - 1].iter().map(|w| w.to_string()));
                out.push_str(&format!(
                    "{} {} # {}\n",
                    fields[0],
                    fields[1],
                    fields[fields.len() - 1]
                ));
                continue;
            }
        } else if line.is_empty() {
            in_block = false;
        }
        if in_block
            && (line.trim_start().starts_with("RX ") || line.trim_start().starts_with("TX "))
        {
            let masked: String = line
                .split(' ')
                .map(|w| {
                    if w.chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_digit() || c == '(')
                    {
                        hidden.push(w.to_string());
                        "#"
                    } else {
                        w
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            out.push_str(&masked);
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    (out, hidden)
}

/// Names net-tools orders by number (eth, eth01, eth9, eth10, eth1a),
/// alias labels on a device that is down, a device with no flag left but
/// POINTOPOINT, and a point-to-point address (`destination`).
#[test]
fn interface_order_and_aliases_match_netstat() {
    let Some(ns) = Namespace::create("iford") else {
        return;
    };
    ns.sh(QUIET);
    ns.sh("ip link add eth10 type veth peer name eth9 && \
         ip link add eth type veth peer name eth1a && \
         ip link add eth01 type veth peer name x2 && \
         ip addr add 10.79.0.1/24 dev x2 label x2:7 && \
         ip addr add 10.79.0.2/24 dev x2 label x2:10 && \
         ip addr add 10.79.0.3/24 dev x2 && \
         ip link set eth up && ip link set eth1a up && \
         ip addr add 10.80.0.1/24 dev eth && \
         ip addr add 10.80.0.2/24 dev eth label eth:3 && \
         ip tuntap add p2p0 mode tun && ip link set p2p0 multicast off arp on");
    wait_quiet(&ns);
    assert_all_match(
        &ns,
        &[&["-i"], &["-ia"], &["-iae"], &["-ie"]],
        &[],
        Masks::default(),
    );
}
