#!/usr/bin/env python3
"""Socket owners that are hard to get right, for `-p` from either source.

Run inside a fresh network namespace (`ip netns exec NS python3 owners.py`).
Prints `READY key=value ...` once everything exists (the ports and pids the
test checks), then holds it until standard input closes or HOLD_SECONDS
pass. Only loopback addresses of this namespace are used; the churn loop is
bounded in forks and time.

- `many`: a process with 1500 TCP listeners, 1500 UDP sockets and 1000
  files that are not sockets (3 000 sockets for one owner).
- threads sharing the main process' file table, each opening sockets;
- `unshared`: a thread that unshared its file table (unshare(CLONE_FILES))
  and then opened a listener: /proc/PID/fd (the leader's table, which
  netstat reads) does not show it, so netstat prints `-` for it;
- `passed`: a listener created by a child and passed over SCM_RIGHTS to the
  main process, the child then closing its copy (owner: main);
- `shared`: a socket created by a child, passed to the main process, kept
  by both: the smaller pid (main) wins;
- `inflight`: a listener sent over a unix socket nobody reads, its sender's
  copy closed: no process holds it (`-`);
- `churn`: a process holding one listener, beside a child of its that
  forks short-lived children (which exit at once) the whole time: processes
  exit during every walk. The forking child closes every descriptor it
  inherited first, so no exiting process holds a socket of the population:
  pids wrap around (pid_max is 32768 here, and the churn alone takes 500 a
  second), and a child with a pid below its holder's would otherwise own
  the socket for as long as it lives, in one walk and not in the next;
- `nobody`: a child that switched to uid 65534 before opening a listener;
- `setuid`: a child that opened a listener as root, then switched to uid
  65534 (it is no longer dumpable: only root can read its /proc/PID/fd).
"""
import array
import ctypes
import os
import select
import socket
import sys
import threading
import time

HOLD_SECONDS = 600
CHURN_FORKS = 200_000
CLONE_FILES = 0x400
held = []
children = []
facts = {}


def keep(*socks):
    held.extend(socks)
    return socks[0]


def listener(port, family=socket.AF_INET, addr="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(4)
    return s


def send_fd(sock, fd):
    sock.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])


def recv_fd(sock):
    fds = array.array("i")
    _, ancdata, _, _ = sock.recvmsg(1, socket.CMSG_LEN(fds.itemsize))
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    return fds[0]


def hold_until_killed():
    """A child's life after setting up: sleep until the parent kills it."""
    while True:
        time.sleep(60)


def fork_child(body):
    pid = os.fork()
    if pid == 0:
        try:
            body()
        finally:
            os._exit(0)
    children.append(pid)
    return pid


# --- a process with many descriptors ----------------------------------------
def many():
    socks = []
    for i in range(1500):
        socks.append(listener(20000 + i))
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 20000 + i))
        socks.append(u)
    files = [open("/dev/null") for _ in range(1000)]
    ready_w.write(b"x")
    hold_until_killed()


ready_r, ready_w = os.pipe()
ready_r, ready_w = os.fdopen(ready_r, "rb", 0), os.fdopen(ready_w, "wb", 0)
facts["many"] = fork_child(many)
ready_r.read(1)

# --- threads sharing the file table ------------------------------------------
def thread_sockets(port):
    keep(listener(port))
    time.sleep(HOLD_SECONDS)


for i in range(4):
    threading.Thread(target=thread_sockets, args=(31000 + i,), daemon=True).start()

# --- a thread with a file table of its own -------------------------------------
unshared_ready = threading.Event()


def unshared_thread():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_FILES) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_FILES)")
    s = listener(32000)
    facts["unshared_tid"] = threading.get_native_id()
    unshared_ready.set()
    time.sleep(HOLD_SECONDS)
    s.close()


threading.Thread(target=unshared_thread, daemon=True).start()
unshared_ready.wait(10)

# --- sockets passed between processes ------------------------------------------
main_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
keep(main_end)


def passer():
    main_end.close()
    passed = listener(33000)
    send_fd(child_end, passed.fileno())
    passed.close()  # only the main process holds it now
    shared = listener(33001)
    send_fd(child_end, shared.fileno())
    child_end.recv(1)  # both hold it until the test ends
    hold_until_killed()


facts["passer"] = fork_child(passer)
keep(socket.socket(fileno=recv_fd(main_end)))
keep(socket.socket(fileno=recv_fd(main_end)))
child_end.close()

# --- a socket in flight only -----------------------------------------------------
sink, source = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
keep(sink, source)
inflight = listener(33002)
send_fd(source, inflight.fileno())
inflight.close()

# --- processes that exit during the walk --------------------------------------------
def churn():
    # main's descriptors, inherited by the fork: not this process's to hold
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    keep(listener(34000))
    if os.fork() == 0:
        forker()
        os._exit(0)
    hold_until_killed()


def forker():
    """Children that exit at once, holding nothing, until the churner goes."""
    churner = os.getppid()
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    deadline = time.time() + HOLD_SECONDS
    for _ in range(CHURN_FORKS):
        if time.time() > deadline or os.getppid() != churner:
            break
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        time.sleep(0.002)


facts["churn"] = fork_child(churn)

# --- sockets of another user -----------------------------------------------------
def as_nobody():
    os.setgid(65534)
    os.setuid(65534)
    keep(listener(35000))
    ready_w.write(b"x")
    hold_until_killed()


def setuid_after():
    keep(listener(35001))
    os.setgid(65534)
    os.setuid(65534)
    ready_w.write(b"x")
    hold_until_killed()


facts["nobody"] = fork_child(as_nobody)
ready_r.read(1)
facts["setuid"] = fork_child(setuid_after)
ready_r.read(1)
time.sleep(0.2)

facts["main"] = os.getpid()
print("READY " + " ".join("%s=%s" % kv for kv in sorted(facts.items())), flush=True)
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
