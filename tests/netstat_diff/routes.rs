//! Routing tables (-r) against /usr/bin/netstat: IPv4 and IPv6 routes of
//! every flag kind in a namespace of our own, numeric and with names.

use crate::support::*;

/// A resolver that fails at once (nothing listens on the namespace's
/// loopback), so name lookups for the test addresses do not wait on the
/// host's DNS server through a veth that leads nowhere. `ip netns exec`
/// lays /etc/netns/NAME/resolv.conf over /etc/resolv.conf.
const QUICK_RESOLVER: &str = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n";

/// Routes of every kind netstat distinguishes, plus some it must not show.
fn populate(ns: &Namespace) {
    // No link-local addresses (addrgenmode none) and no DAD: the links
    // stay quiet, so the IPv6 reference counts netstat prints do not move
    // between the two runs.
    ns.sh(
        "ip link add v0 type veth peer name v1 && ip link add v2 type veth peer name v3 \
         && for l in v0 v1 v2 v3; do ip link set $l addrgenmode none && ip link set $l up; done \
         && ip addr add 10.9.0.1/24 dev v0 && ip addr add 10.8.0.1/24 dev v2 \
         && ip addr add 2001:db8::1/64 dev v0 nodad \
         && ip route add default via 10.9.0.254 \
         && ip route add 0.0.0.0/1 via 10.9.0.253 \
         && ip route add 10.20.0.0/16 via 10.9.0.2 metric 7 mtu 1400 advmss 1300 window 5000 rtt 40ms \
         && ip route add 10.21.0.5 via 10.9.0.3 \
         && ip route add 10.22.0.7/32 dev v0 \
         && ip route add 127.0.0.1/32 dev v0 \
         && ip route add unreachable 10.30.0.0/16 \
         && ip route add blackhole 10.31.0.0/16 \
         && ip route add prohibit 10.32.0.0/16 \
         && ip route add throw 10.33.0.0/16 \
         && ip route add prohibit 10.34.0.9/32 metric 3 \
         && ip route add 10.40.0.0/16 via 10.200.0.1 dev v0 onlink \
         && ip route add 10.60.0.0/24 dev lo \
         && ip route add 127.0.0.0/8 via 10.9.0.9 metric 50 \
         && ip route add 169.254.0.0/16 dev v0 metric 1000 \
         && ip route add 10.90.0.0/16 nexthop via 10.9.0.5 dev v0 nexthop via 10.8.0.5 dev v2 \
         && ip nexthop add id 7 via 10.8.0.6 dev v2 && ip route add 10.91.0.0/16 nhid 7 \
         && ip nexthop add id 8 blackhole && ip route add 10.92.0.0/16 nhid 8 \
         && ip nexthop add id 9 via 10.8.0.7 dev v2 && ip nexthop add id 10 group 9/7 \
         && ip route add 10.93.0.0/16 nhid 10 \
         && ip route add 10.50.0.0/16 dev v0 table 100 \
         && ip route add 10.51.0.0/16 via 10.9.0.2 table 101 \
         && ip route add local 10.70.0.1 dev v0 table main \
         && ip -6 route add 2001:db8:5::/48 via 2001:db8::2 metric 5 \
         && ip -6 route add 2001:db8:d::1/128 dev v0 \
         && ip -6 route add default via 2001:db8::fe \
         && ip -6 route add unreachable 2001:db8:9::/64 \
         && ip -6 route add blackhole 2001:db8:a::/64 \
         && ip -6 route add prohibit 2001:db8:b::/64 \
         && ip -6 route add 2001:db8:e::/64 dev lo \
         && ip -6 route add 2001:db8:77::/64 nexthop via 2001:db8::5 dev v0 nexthop via 2001:db8::6 dev v0 \
         && ip -6 route add 2001:db8:c::/64 dev v0 table 100 \
         && ip -6 route add 2001:db8:f::/64 via 2001:db8::3 dev v0 metric 9 table 200 \
         && ip -6 route add 2001:db8:f::/64 via 2001:db8::3 dev v0 table 7 \
         && ip -6 route del 2001:db8:f::/64 via 2001:db8::3 dev v0 table 7 \
         && sleep 2",
    );
}

/// Numeric comparisons: no resolver involved.
const NUMERIC: &[&[&str]] = &[
    &["-rn"],
    &["-rne"],
    &["-rnee"],
    &["-rneee"],
    &["-rnv"],
    &["-rnW"],
    &["-rnC"],
    &["-rnCF"],
    &["-rnF"],
    &["-rN"],
    &["--route", "--numeric"],
    &["-6rn"],
    &["-6rnC"],
    &["-6rnFC"],
    &["-A", "inet6", "-rn"],
    &["-rn", "-4", "-6"],
    &["-6", "-rn", "-4"],
    &["--protocol=inet,inet6", "-rn"],
    &["-rn", "-A", "inet,unix"],
    &["-rn", "--protocol=unix,inet6"],
    &["-rn", "-A", "bluetooth"],
    &["-rn", "-t"],
];

/// With names: destinations as networks (/etc/networks), gateways and
/// host routes as hosts.
const NAMED: &[&[&str]] = &[
    &["-r"],
    &["-re"],
    &["-ree"],
    &["-rv"],
    &["-rW"],
    &["-rC"],
    &["-6r"],
    &["--inet6", "-re"],
    &["-r", "-4", "-6"],
];

#[test]
fn routing_tables_match_netstat_numeric() {
    let Some(ns) = Namespace::create("routes") else {
        return;
    };
    populate(&ns);
    // Nothing masked: routes do not change between the two runs, and no
    // traffic runs in this namespace to move the IPv6 reference counts.
    assert_all_match(&ns, NUMERIC, &[], Masks::default());
}

#[test]
fn routing_tables_match_netstat_with_names() {
    let Some(ns) = Namespace::create_with_etc("routenames", &[("resolv.conf", QUICK_RESOLVER)])
    else {
        return;
    };
    populate(&ns);
    assert_all_match(&ns, NAMED, &[], Masks::default());
}

#[test]
fn fresh_namespace_tables_match() {
    // Only lo: the IPv4 main table is empty and the IPv6 main table holds
    // nothing but its null entry.
    let Some(ns) = Namespace::create("routesempty") else {
        return;
    };
    assert_all_match(
        &ns,
        &[&["-rn"], &["-6rn"], &["-rne", "-4", "-6"]],
        &[],
        Masks::default(),
    );
}

#[test]
fn continuous_mode_repeats_the_table() {
    let Some(ns) = Namespace::create("routesloop") else {
        return;
    };
    populate(&ns);
    // Two ticks of -c, cut off by `timeout`: the table must print at least
    // twice, each copy byte for byte what `netstat -rn` prints (netstat's
    // own -rnc is block-buffered on a pipe and loses its output to the
    // signal, so its one-shot table is the oracle of every tick).
    let theirs = ns.run(NETSTAT, &["-rn"]);
    assert!(theirs.status.success());
    assert!(
        latin1(&theirs.stdout).lines().count() > 2,
        "the populated table has rows"
    );
    let looped = ns.run("timeout", &["1.5", nlstat(), "-rnc"]);
    let text = latin1(&looped.stdout);
    let title = "Kernel IP routing table\n";
    assert!(text.starts_with(title), "{text}");
    let ticks: Vec<String> = text
        .split(title)
        .skip(1)
        .map(|t| format!("{title}{t}"))
        .collect();
    assert!(ticks.len() >= 2, "two ticks in 1.5 s:\n{text}");
    for (i, tick) in ticks.iter().enumerate() {
        assert!(
            *tick == latin1(&theirs.stdout),
            "tick {}:\n{}",
            i + 1,
            describe_byte_diff(&theirs.stdout, &from_latin1(tick))
        );
    }
}
