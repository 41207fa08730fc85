#!/usr/bin/env python3
"""Record sock_diag destroy events into tests/fixtures/events/ (the format
of src/collect/recording.rs): run as root from the repository root. It
makes a namespace, joins the four destroy groups there, opens and closes a
known set of sockets, and writes every datagram received, plus what
`ss -E -tuni` printed for the same closes (ss listening beside it)."""
import ctypes, os, socket, struct, subprocess, sys, time

NS = "nlstat-events-fixture"
OUT = "tests/fixtures/events"
MAGIC = b"nlstat-netlink-recording v1 le\n"
SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, NETLINK_SOCK_DIAG = 270, 1, 4

subprocess.run(["ip", "netns", "add", NS], check=True)
try:
    subprocess.run(["ip", "-n", NS, "link", "set", "lo", "up"], check=True)
    fd = os.open(f"/run/netns/{NS}", os.O_RDONLY)
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.setns(fd, 0x40000000) == 0  # CLONE_NEWNET
    ss = subprocess.Popen(["stdbuf", "-oL", "ss", "-E", "-tuni"], stdout=subprocess.PIPE, text=True)
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
    nl.bind((0, 0))
    for group in (1, 2, 3, 4):
        nl.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
    time.sleep(0.5)
    # TCP over IPv4 with data both ways, the client closing first
    l4 = socket.socket(); l4.bind(("127.0.0.1", 8080)); l4.listen(8)
    c = socket.create_connection(("127.0.0.1", 8080)); a, _ = l4.accept()
    c.sendall(b"x" * 5000); a.recv(65536); a.sendall(b"y" * 300); c.recv(65536)
    c.close(); time.sleep(0.1); a.close()
    # TCP over IPv6, reset by SO_LINGER 0
    l6 = socket.socket(socket.AF_INET6); l6.bind(("::1", 8443)); l6.listen(8)
    c = socket.create_connection(("::1", 8443)); a, _ = l6.accept()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close(); a.close()
    l4.close(); l6.close()
    # UDP: a connected IPv4 socket and a bound IPv6 one
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 5353))
    u.connect(("127.0.0.1", 53)); u.close()
    u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::1", 5354)); u.close()
    time.sleep(1)
    nl.settimeout(0.5)
    datagrams = []
    while True:
        try:
            datagrams.append(nl.recv(65536))
        except socket.timeout:
            break
    ss.terminate()
    text = ss.communicate()[0]
    with open(f"{OUT}/closes.nlrec", "wb") as f:
        f.write(MAGIC)
        for d in datagrams:
            f.write(struct.pack("<I", len(d)) + d)
    with open(f"{OUT}/closes.ss-E.txt", "w") as f:
        f.write(text)
    print(f"{len(datagrams)} datagrams", file=sys.stderr)
finally:
    subprocess.run(["ip", "netns", "del", NS])
