#!/usr/bin/env python3
"""Build the seed corpus of every fuzz target from the recorded fixtures.

  scripts/fuzz-seeds.py OUT_DIR      (writes OUT_DIR/<target>/<seed>)

The inputs follow src/fuzz.rs: most start with a flags byte, and inputs of
several datagrams or files are framed (a little-endian u16 length before
each part). Sources: tests/fixtures/*.nlrec (sock_diag dumps),
tests/fixtures/rtnl/*.nlrec (rtnetlink dumps), tests/fixtures/proc-*/net
(/proc/net texts; scripts/record-fixtures.py made proc-net and rtnl), and
command lines and filters taken from the tests. fuzz/regressions/<target>
(inputs that once crashed) are added as seeds too, by scripts/fuzz.sh.
"""
import hashlib
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures")
MAGIC = b"nlstat-netlink-recording v1 le\n"


def datagrams(path):
    data = open(path, "rb").read()
    assert data.startswith(MAGIC), path
    at, out = len(MAGIC), []
    while at < len(data):
        (length,) = struct.unpack_from("<I", data, at)
        out.append(data[at + 4:at + 4 + length])
        at += 4 + length
    return out


def messages(datagram):
    """(type, payload) of each netlink message of a datagram."""
    at, out = 0, []
    while at + 16 <= len(datagram):
        length, kind = struct.unpack_from("=IH", datagram, at)
        if length < 16:
            break
        out.append((kind, datagram[at + 16:at + length]))
        at += (length + 3) & ~3
    return out


def frame(*parts):
    return b"".join(struct.pack("<H", len(p)) + p for p in parts)


def text(*path):
    return open(os.path.join(FIX, *path), "rb").read()


def main():
    out = sys.argv[1]
    seeds = {}

    def add(target, data):
        seeds.setdefault(target, []).append(data)

    tcp = datagrams(os.path.join(FIX, "tcp.nlrec"))
    unix = datagrams(os.path.join(FIX, "unix.nlrec"))
    records = [p for d in tcp for k, p in messages(d) if k == 20]
    unix_records = [p for d in unix for k, p in messages(d) if k == 20]
    for i, payload in enumerate(records[::16] + records[-4:]):
        add("sock_diag_inet", bytes([i % 16 | 0x00]) + payload)
    for i, datagram in enumerate(datagrams(os.path.join(FIX, "events", "closes.nlrec"))):
        add("sock_diag_events", bytes([i % 16]) + datagram)
    # a --record file whole (flag 0), and its frames uncompressed (flag 1:
    # the harness wraps them in a header and a zstd stream)
    replay = os.path.join(FIX, "replay", "tuxanp-info")
    add("replay", b"\x00" + open(replay + ".rec", "rb").read())
    add("replay", b"\x01" + open(replay + ".frames", "rb").read())
    for i, payload in enumerate(unix_records[::3]):
        add("sock_diag_unix", bytes([i % 4]) + payload)
    # the IPv4 dump (up to its NLMSG_DONE), then the IPv6 one
    first_done = next(i for i, d in enumerate(tcp) if any(k == 3 for k, _ in messages(d)))
    add("sock_diag_dump", bytes([0x00]) + frame(*tcp[:first_done + 1]))
    add("sock_diag_dump", bytes([0x19]) + frame(*tcp[first_done + 1:]))
    add("sock_diag_dump", bytes([0x21]) + frame(*tcp[:first_done + 1]))
    add("sock_diag_dump", bytes([0xc0]) + frame(*unix))
    add("sock_diag_dump", bytes([0xe1]) + frame(*unix))

    links = datagrams(os.path.join(FIX, "rtnl", "links.nlrec"))
    addrs = datagrams(os.path.join(FIX, "rtnl", "addrs.nlrec"))
    routes = datagrams(os.path.join(FIX, "rtnl", "routes.nlrec"))
    if_inet6 = text("proc-net", "net", "if_inet6")
    for flags in (0x00, 0x10, 0x01, 0x20):
        add("rtnl_route", bytes([flags]) + frame(*routes))
    for flags in (0x40, 0x50, 0x41, 0x00):
        add("rtnl_interfaces", bytes([flags]) + frame(if_inet6, *links, *addrs))
    link_payloads = [p for d in links for k, p in messages(d) if k == 16]
    addr_payloads = [p for d in addrs for k, p in messages(d) if k == 20]
    for i, link in enumerate(link_payloads):
        add("rtnl_link", frame(link, addr_payloads[i % len(addr_payloads)], if_inet6))

    for i, name in enumerate(["tcp", "udp", "udplite", "raw"]):
        for six in ("", "6"):
            path = os.path.join(FIX, "proc-net", "net", name + six)
            if os.path.exists(path):
                add("proc_inet", bytes([i << 6 | (1 if six else 0)]) + open(path, "rb").read())
    add("proc_unix", b"\x00" + text("proc-net", "net", "unix"))
    add("proc_unix", b"\x01" + text("proc-net", "net", "unix"))
    for tree in ("proc-net", "proc-stats", "proc-stats-keys"):
        net = lambda n: open(os.path.join(FIX, tree, "net", n), "rb").read() \
            if os.path.exists(os.path.join(FIX, tree, "net", n)) else b""
        for flags in (0x00, 0xf0, 0x12, 0x01, 0x03):
            add("proc_statistics", bytes([flags]) + frame(net("snmp"), net("netstat"), net("snmp6")))
    for tree in ("proc-net", "proc-groups"):
        net = lambda n: open(os.path.join(FIX, tree, "net", n), "rb").read()
        add("proc_igmp", b"\x00" + frame(net("igmp"), net("igmp6")))
        add("proc_igmp", b"\x01" + frame(net("igmp"), net("igmp6")))
    for flags in (0x00, 0x01, 0x02, 0x06):
        add("proc_ipv6_route", bytes([flags]) + text("proc-net", "net", "ipv6_route"))
    net = lambda n: text("proc-net", "net", n)
    add("proc_sockstat", b"\x00" + frame(net("sockstat"), net("sockstat6"), net("netstat"),
                                         b"32768\t60999\n", b"8080,9000-9010\n"))
    add("proc_sockstat", b"\x01" + frame(net("sockstat"), net("sockstat6"), net("netstat"),
                                         b"1024 65535\n", b"\n"))
    add("proc_if_inet6", if_inet6)
    for cmdline in (b"/usr/bin/python3\0-u\0x.py\0", b"nginx: worker process\0\0",
                    b"holder\twith-tab\0", b"\x1b]0;title\x07\x1b[2Jevil\nname\0arg\0",
                    b"/a/b/c/\0", b"./relative/x"):
        add("proc_cmdline", cmdline)

    argvs = [
        ["netstat", "-tanp"], ["netstat", "-xa"], ["nlstat", "-s6"], ["nlstat", "-rn", "-A", "inet,inet6"],
        ["nlstat", "-ie"], ["nlstat", "--json", "-tuna"], ["nlstat", "-tan", "state", "established",
                                                           "(", "dport", "=", ":443", "or", "sport", "=", ":443", ")"],
        ["nlstat", "--group-by", "state,remote_net/16", "--top", "5"], ["nlstat", "--listeners", "-c"],
        ["nlstat", "--serve", "127.0.0.1:9477", "--min-interval", "0.5"], ["nlstat", "--textfile", "/tmp/x.prom"],
        ["nlstat", "--numeric-h", "-ee", "-W"], ["nlstat", "-z"], ["nlstat", "--all-netns", "-tan"],
        ["nlstat", "--netns", "x", "-g"], ["netstat", "-A", "ipx,ax25"], ["nlstat", "-xa", "src", "/run/*"],
    ]
    for argv in argvs:
        add("cli", b"\0".join(a.encode() for a in argv))

    socket_bytes = b""
    for fam, lport, laddr, rport, raddr in (
            (0, 443, b"\x0a\x00\x00\x01", 51000, b"\x0a\x02\x03\x04"),
            (1, 22, b"\xfd" + b"\x00" * 14 + b"\x01", 8080, b"\xfe\x80" + b"\x00" * 13 + b"\x02"),
            (3, 8080, b"\x00" * 12 + b"\x7f\x00\x00\x01", 443, b"\x00" * 12 + b"\x0a\x01\x02\x03")):
        raw = bytearray(40)
        raw[0] = fam
        raw[1] = 1
        raw[2:4] = struct.pack(">H", lport)
        raw[4:4 + len(laddr)] = laddr
        raw[20:22] = struct.pack(">H", rport)
        raw[22:22 + len(raddr)] = raddr
        socket_bytes += bytes(raw)
    for words in (["sport", "=", ":443"], ["dst", "10.0.0.0/8"], ["(", "dport", ">=", ":1024", "or",
                   "sport", "<", ":100", ")", "and", "not", "src", "[fd00::]/8"],
                  ["state", "established", "dport", "!=", ":22"], ["src", "127.0.0.1:8080"],
                  ["exclude", "listening", "dst", "*:443"], ["src", "/run/*.sock"],
                  ["!", "(", "sport", "=", ":22", "|", "dport", "=", ":22", ")"]):
        add("filter", frame(b"\0".join(w.encode() for w in words), socket_bytes))

    for sample in (b"plain text\n", b"\x1b]0;title\x07", "caf\u00e9 \u009b x".encode(),
                   b"\x05\xc3\xa9\xff\x1b[31mred\n", b"\x9b2J"):
        add("terminal", sample)

    # the BTF the layout tests read, whole and cut; iterator records
    # (tgid, fd, inode; native endian) as the program writes them
    layout = open(os.path.join(FIX, "btf", "layout.btf"), "rb").read()
    add("btf", layout)
    add("btf", layout[:len(layout) // 2])
    recs = b"".join(struct.pack("=IIQ", tgid, fd, inode) for tgid, fd, inode in
                    [(1, 3, 12345), (1, 4, 12346), (77, 5, 12345), (77, 6, 0),
                     (4194304, 1023, (1 << 63) + 5), (2, 7, 1 << 32)])
    for chunk in (16, 7, 255):
        add("task_file_records", bytes([chunk]) + recs)
    # socket iterator records (src/collect/socket_iter.rs, slot): family,
    # state, substate or unix type, uid, local port, remote port (network
    # order), IPv4 addresses, a listener's queues, attached, inode, IPv6
    # addresses
    def socket_record(family, state, extra, inode, v6=b"\0" * 32):
        return (struct.pack("=HBBIH", family, state, extra, 1000, 8080) +
                struct.pack("!H", 40000) + bytes([10, 0, 0, 2, 127, 0, 0, 1]) +
                struct.pack("=IIIQ", 3, 128, 1, inode) + v6)
    # the first byte: 0 plain records, 1 with the 104-byte info block
    info = struct.pack("=16I", *range(1000, 1016)) + struct.pack("=4Q", 1 << 33, 7, 8, 9) + \
        struct.pack("=II", 1, 0)
    add("socket_iter_records", b"\x01" + socket_record(2, 1, 0, 1) + info +
        socket_record(2, 6, 5, 0) + b"\0" * 104)
    add("socket_iter_records", b"\x00" +
        socket_record(2, 10, 0, 4242) + socket_record(2, 12, 0, 0) +
        socket_record(2, 6, 5, 0) + socket_record(10, 1, 0, 1 << 40, bytes(range(32))) +
        socket_record(1, 1, 5, 0) + b"\x01\x02")

    for target, items in seeds.items():
        directory = os.path.join(out, target)
        os.makedirs(directory, exist_ok=True)
        for data in items:
            name = hashlib.sha1(data).hexdigest()
            with open(os.path.join(directory, name), "wb") as f:
                f.write(data)
    print(" ".join("%s:%d" % (t, len(v)) for t, v in sorted(seeds.items())))


if __name__ == "__main__":
    main()
