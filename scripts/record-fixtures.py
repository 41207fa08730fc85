#!/usr/bin/env python3
"""Record rtnetlink dumps and /proc/net texts of a small, varied namespace
into tests/fixtures/ (root; python3, iproute2 and net-tools only).

  scripts/record-fixtures.py [OUT_DIR]      (default tests/fixtures; the machine needs veth and bridge)

Writes, from one namespace built here and deleted afterwards:
  rtnl/links.nlrec    RTM_GETLINK dump (all links)
  rtnl/addrs.nlrec    RTM_GETADDR dump, AF_INET
  rtnl/routes.nlrec   RTM_GETROUTE dump, AF_INET, every table
  rtnl/netstat-*.txt  what /usr/bin/netstat printed right after (-rn, -rne,
                      -ia, -iea)
  proc-net/net/*      the /proc/net files nlstat parses, copied at the same
                      moment (tcp, tcp6, udp, udp6, raw, raw6, unix, snmp,
                      netstat, snmp6, sockstat, sockstat6, igmp, igmp6,
                      ipv6_route, if_inet6; dev, which nlstat does not read,
                      as the kernel's own text of the counters)
Recordings use the format of src/collect/recording.rs (magic line, then
each datagram as a little-endian u32 length and its bytes, exactly as the
kernel returned them). They seed the fuzz targets (scripts/fuzz-seeds.py).
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import time

MAGIC = b"nlstat-netlink-recording v1 le\n"
NETLINK_ROUTE = 0
RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE = 18, 22, 26
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
NLMSG_DONE, NLMSG_ERROR = 3, 2

NS = "nlstat-record-%d" % os.getpid()


def sh(script):
    subprocess.run(["ip", "netns", "exec", NS, "sh", "-ec", script], check=True)


def dump(kind, body):
    """One dump's datagrams, as the kernel returned them."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    s.bind((0, 0))
    header = struct.pack("=IHHII", 16 + len(body), kind, NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
    s.send(header + body)
    datagrams = []
    while True:
        data = s.recv(65536)
        datagrams.append(data)
        at, done = 0, False
        while at + 16 <= len(data):
            length, mtype = struct.unpack_from("=IH", data, at)
            if mtype in (NLMSG_DONE, NLMSG_ERROR):
                done = True
            at += (length + 3) & ~3
        if done:
            return datagrams


def write_recording(path, datagrams):
    with open(path, "wb") as f:
        f.write(MAGIC)
        for d in datagrams:
            f.write(struct.pack("<I", len(d)) + d)


def child(out):
    """Runs inside the namespace (re-executed there)."""
    rtnl = os.path.join(out, "rtnl")
    net = os.path.join(out, "proc-net", "net")
    os.makedirs(rtnl, exist_ok=True)
    os.makedirs(net, exist_ok=True)
    # A few sockets of every table nlstat reads from /proc.
    held = []
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        listener = socket.socket(family)
        listener.bind((host, 0))
        listener.listen()
        client = socket.create_connection(listener.getsockname()[:2])
        accepted, _ = listener.accept()
        udp = socket.socket(family, socket.SOCK_DGRAM)
        udp.bind((host, 0))
        raw = socket.socket(family, socket.SOCK_RAW, socket.IPPROTO_ICMP if family == socket.AF_INET else socket.IPPROTO_ICMPV6)
        held += [listener, client, accepted, udp, raw]
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(b"\0nlstat-record")
    unix.listen()
    pair = socket.socketpair()
    held += [unix, *pair]
    multicast = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mreq = struct.pack("4s4s", socket.inet_aton("239.1.2.3"), socket.inet_aton("10.9.0.1"))
    multicast.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    held.append(multicast)
    time.sleep(0.2)

    write_recording(os.path.join(rtnl, "links.nlrec"),
                    dump(RTM_GETLINK, struct.pack("=BxHiII", socket.AF_UNSPEC, 0, 0, 0, 0)))
    write_recording(os.path.join(rtnl, "addrs.nlrec"),
                    dump(RTM_GETADDR, struct.pack("=BBBBI", socket.AF_INET, 0, 0, 0, 0)))
    write_recording(os.path.join(rtnl, "routes.nlrec"),
                    dump(RTM_GETROUTE, struct.pack("=BBBBBBBBI", socket.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0)))
    for args in (["-rn"], ["-rne"], ["-ia"], ["-iea"]):
        with open(os.path.join(rtnl, "netstat%s.txt" % args[0]), "wb") as f:
            f.write(subprocess.run(["netstat", *args], capture_output=True, check=True).stdout)
    for name in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6", "unix", "snmp", "netstat",
                 "snmp6", "sockstat", "sockstat6", "igmp", "igmp6", "ipv6_route", "if_inet6", "dev"):
        with open("/proc/net/" + name, "rb") as src, open(os.path.join(net, name), "wb") as dst:
            dst.write(src.read())


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures")
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        sh("""
ip link set lo up
ip link add dummy0 type bridge
ip link set dummy0 up mtu 1400
ip addr add 10.9.0.1/24 brd + dev dummy0
ip addr add 10.9.0.2/24 dev dummy0 label dummy0:1
ip addr add fd00:9::1/64 dev dummy0 nodad
ip link add a-fifteen-char0 type veth peer name p2p-peer
ip link set a-fifteen-char0 up
ip link set p2p-peer up
ip addr add 10.10.0.1 peer 10.10.0.2 dev a-fifteen-char0
ip link add veth-r0 type veth peer name veth-r1
ip link set veth-r0 up
ip link set veth-r1 up
ip route add 10.20.0.0/16 via 10.9.0.254 metric 7 mtu 1300 window 8000 rtt 40ms advmss 1200
ip route add default via 10.9.0.254
ip route add 10.30.0.0/24 nexthop via 10.9.0.253 nexthop via 10.9.0.252
ip route add unreachable 10.40.0.0/24
ip route add prohibit 10.41.0.1
ip route add blackhole 10.42.0.0/24
ip route add 10.43.0.0/24 dev veth-r0 table 100
ip -6 route add fd00:20::/48 via fd00:9::254
ip -6 route add unreachable fd00:21::/64
""")
        subprocess.run(["ip", "netns", "exec", NS, sys.executable, os.path.abspath(__file__),
                        "--child", out], check=True)
    finally:
        subprocess.run(["ip", "netns", "del", NS])
    print("recorded into", out, "with", subprocess.run(["uname", "-r"], capture_output=True,
                                                        text=True).stdout.strip())


if __name__ == "__main__":
    main()
