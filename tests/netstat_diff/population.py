#!/usr/bin/env python3
"""Fill the current network namespace with a known socket population.

Run inside a fresh namespace (`ip netns exec NS python3 population.py DIR`).
Prints one line `READY` once every socket exists, then holds them until its
standard input closes or HOLD_SECONDS pass, whichever comes first, so it
always stops by itself. DIR is a scratch directory for unix socket paths.
Only loopback addresses of this namespace are used.
"""
import os
import select
import socket
import subprocess
import sys
import time

HOLD_SECONDS = 600
scratch = sys.argv[1]
held = []  # keep every socket alive


def keep(*socks):
    held.extend(socks)
    return socks[0] if len(socks) == 1 else socks


def tcp_listener(family, addr, port, backlog=16, v6only=None):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    s.bind((addr, port))
    s.listen(backlog)
    return keep(s)


def tcp_pair(listener, family, addr, port, src=None):
    c = socket.socket(family, socket.SOCK_STREAM)
    if src is not None:
        c.bind((src, 0))
    c.connect((addr, port))
    a, _ = listener.accept()
    return keep(c, a)


# --- TCP ---------------------------------------------------------------
l_ssh = tcp_listener(socket.AF_INET, "0.0.0.0", 22)
l_http = tcp_listener(socket.AF_INET, "127.0.0.1", 80)
l_unnamed = tcp_listener(socket.AF_INET, "127.0.0.1", 4711)
l_v6any = tcp_listener(socket.AF_INET6, "::", 8080, v6only=0)  # dual stack
l_v6lo = tcp_listener(socket.AF_INET6, "::1", 443, v6only=1)
l_v6long = tcp_listener(socket.AF_INET6, "fd00:1234:5678:9abc:def0:1234:5678:9abc", 6000, v6only=1)
l_hiport = tcp_listener(socket.AF_INET, "127.1.2.3", 54321)

tcp_pair(l_ssh, socket.AF_INET, "127.0.0.1", 22)
tcp_pair(l_ssh, socket.AF_INET, "127.0.0.1", 22, src="127.45.67.89")
# IPv4 client to the dual-stack listener: the accepted socket is tcp6 with a
# v4-mapped address.
tcp_pair(l_v6any, socket.AF_INET, "127.0.0.1", 8080)
tcp_pair(l_v6lo, socket.AF_INET6, "::1", 443)
tcp_pair(l_v6long, socket.AF_INET6, "fd00:1234:5678:9abc:def0:1234:5678:9abc", 6000,
         src="fd00:1234:5678:9abc:def0:1234:5678:9abc")
# unread data on both ends
c, a = tcp_pair(l_unnamed, socket.AF_INET, "127.0.0.1", 4711)
c.sendall(b"x" * 1234)
a.sendall(b"y" * 77)
time.sleep(0.05)
# keepalive with a long idle time so its timer is visible and stable
c, a = tcp_pair(l_http, socket.AF_INET, "127.0.0.1", 80)
c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 7200)
# a connection waiting in the accept queue (never accepted)
pending = keep(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
pending.connect(("127.1.2.3", 54321))
# a half-closed connection: CLOSE_WAIT on one side, FIN_WAIT2 on the other
c, a = tcp_pair(l_hiport, socket.AF_INET, "127.1.2.3", 54321)
c.shutdown(socket.SHUT_WR)
# TIME_WAIT: the accepting side closes first
c, a = tcp_pair(l_unnamed, socket.AF_INET, "127.0.0.1", 4711)
held.remove(a)
a.close()
time.sleep(0.05)
held.remove(c)
c.close()

# --- UDP / UDP-Lite / raw ------------------------------------------------
def udp(family, addr, port, connect_to=None, proto=0):
    s = socket.socket(family, socket.SOCK_DGRAM, proto)
    s.bind((addr, port))
    if connect_to:
        s.connect(connect_to)
    return keep(s)


u_dns = udp(socket.AF_INET, "0.0.0.0", 53)
udp(socket.AF_INET, "127.0.0.1", 5353, connect_to=("127.0.0.1", 53))
u_q = udp(socket.AF_INET, "127.0.0.1", 40000)
sender = udp(socket.AF_INET, "127.0.0.1", 40001)
sender.sendto(b"q" * 300, ("127.0.0.1", 40000))  # unread datagram
udp(socket.AF_INET6, "::", 123)
udp(socket.AF_INET6, "::1", 2049, connect_to=("::1", 123))
IPPROTO_UDPLITE = 136
udp(socket.AF_INET, "127.0.0.1", 9999, proto=IPPROTO_UDPLITE)
udp(socket.AF_INET6, "::1", 9998, proto=IPPROTO_UDPLITE)
keep(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
keep(socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6))
r = keep(socket.socket(socket.AF_INET, socket.SOCK_RAW, 253))
r.connect(("127.0.0.1", 0))

# --- unix ----------------------------------------------------------------
def unix(kind, path=None, listen=False):
    s = socket.socket(socket.AF_UNIX, kind)
    if path is not None:
        s.bind(path)
    if listen:
        s.listen(8)
    return keep(s)


stream_path = os.path.join(scratch, "stream.sock")
u_stream = unix(socket.SOCK_STREAM, stream_path, listen=True)
for _ in range(2):
    c = unix(socket.SOCK_STREAM)
    c.connect(stream_path)
    keep(u_stream.accept()[0])
# a connection left in the listener's queue
c = unix(socket.SOCK_STREAM)
c.connect(stream_path)

dgram_path = os.path.join(scratch, "log")
u_log = unix(socket.SOCK_DGRAM, dgram_path)
for _ in range(3):
    c = unix(socket.SOCK_DGRAM)
    c.connect(dgram_path)
c.send(b"hello")

seq_path = os.path.join(scratch, "seq.sock")
u_seq = unix(socket.SOCK_SEQPACKET, seq_path, listen=True)
c = unix(socket.SOCK_SEQPACKET)
c.connect(seq_path)
keep(u_seq.accept()[0])

u_abs = unix(socket.SOCK_STREAM, "\0nlstat-abstract-listener", listen=True)
c = unix(socket.SOCK_STREAM)
c.connect("\0nlstat-abstract-listener")
keep(u_abs.accept()[0])
unix(socket.SOCK_DGRAM, "\0abstract\0with-nul")

long_dir = os.path.join(scratch, "d" * 40)
os.makedirs(long_dir, exist_ok=True)
long_path = os.path.join(long_dir, "a-rather-long-socket-name-" + "x" * 20)[:107]
unix(socket.SOCK_STREAM, long_path, listen=True)
unix(socket.SOCK_DGRAM, os.path.join(scratch, "with space.sock"))

keep(*socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM))
keep(*socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM))
unix(socket.SOCK_DGRAM)  # unbound, unconnected

# --- sockets owned by other users, held by another program ---------------
children = []


def other_uid_holder(uid, port, argv0):
    """A child that switches uid, opens a listener and becomes `sleep`."""
    pid = os.fork()
    if pid == 0:
        os.setgid(uid)
        os.setuid(uid)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", port))
        s.listen(4)
        u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        u.bind("\0nlstat-uid-%d" % uid)
        u.listen(4)
        os.set_inheritable(s.fileno(), True)
        os.set_inheritable(u.fileno(), True)
        os.execv("/bin/sleep", [argv0, str(HOLD_SECONDS)])
    children.append(pid)


other_uid_holder(65534, 8000, "/usr/local/bin/a-long-socket-holder-name")
other_uid_holder(4242, 8001, "holder\twith-tab")
time.sleep(0.3)

print("READY", flush=True)
deadline = time.time() + HOLD_SECONDS
while time.time() < deadline:
    r, _, _ = select.select([sys.stdin], [], [], 1.0)
    if r and not sys.stdin.read(1):
        break
for pid in children:
    try:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    except OSError:
        pass
