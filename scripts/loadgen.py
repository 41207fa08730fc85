#!/usr/bin/env python3
"""Fill a network namespace with a chosen socket population and hold it.

nlstat's performance work needs hundreds of thousands of sockets that sit
still while netstat, ss and nlstat read them. This script builds a network
namespace, starts worker processes inside it (each holds at most about
19 500 descriptors, below the per-process limit), opens the population on
loopback addresses only, prints a READY line, and holds everything until it
is stopped: SIGINT/SIGTERM, its stdin closing (when stdin is a pipe or a
terminal), or the --duration deadline. Then it kills its workers and deletes
the namespace if it created it.

Population (all on 127.0.0.0/8 or ::1 inside the namespace):
  --tcp N        N established IPv4 TCP connections (2N sockets)
  --tcp6 N       N established IPv6 TCP connections over ::1 (2N sockets)
  --listen M     M TCP listeners in total (at least one per worker that
                 accepts connections; idle extra ones make up the rest)
  --timewait T   about T TIME_WAIT sockets, replenished as they expire
  --udp U        U UDP sockets (half of them connected)
  --unix X       X unix sockets (stream pairs, accepted connections over a
                 filesystem and an abstract listener, datagram pairs)
  --port-range LO-HI
                 the namespace's ip_local_port_range (default 16384-65535)
  --spread-ports each IPv4 client end (and each --timewait one) binds the
                 next port of that range in turn (on its own source
                 address), so the client ends use every local port of the
                 range rather than the kernel's choice (which reuses ports
                 across source addresses)

Examples:
  sudo scripts/loadgen.py --tcp 200 --listen 10 --unix 50
  sudo scripts/loadgen.py --ns load --tcp 200000 --listen 100 --unix 20000
"""

import argparse
import json
import math
import os
import resource
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

# Linux values not exported by the socket module everywhere.
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)

# Descriptors a worker may use for sockets: under the 20 000 hard limit with
# room for stdio, pipes and Python's own files.
FD_BUDGET = 19_500

# Namespace-local sysctls (they live in the namespace and die with it).
NS_SYSCTLS = {
    "net.ipv4.ip_local_port_range": "16384 65535",
    "net.core.somaxconn": "65535",
    "net.ipv4.tcp_max_syn_backlog": "65535",
}


def log(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- worker


def raise_nofile():
    """Raise the soft descriptor limit to the hard one; return the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    for wanted in (hard, 1 << 20):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(wanted, hard)))
            return wanted
        except (ValueError, OSError):
            continue
    return soft


def v4_source(worker, j):
    """A distinct-enough 127/8 source address for connection j of a worker."""
    return "127.%d.%d.%d" % (1 + worker % 100, (j // 200) % 250, j % 200 + 1)


def server_address(worker):
    return "127.200.%d.%d" % (worker // 250, worker % 250 + 1)


def connect_batch(listener, family, count, source_of, keep, progress, port_of=None):
    """Open `count` connections to `listener`, keeping both ends in `keep`
    (client j bound to source_of(j) and port_of(j) when they are given)."""
    address = listener.getsockname()[:2]
    done = 0
    batch = 500
    while done < count:
        n = min(batch, count - done)
        clients = []
        for j in range(done, done + n):
            c = socket.socket(family, socket.SOCK_STREAM)
            # an abortive close at exit: no TIME_WAIT flood on teardown
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            source = source_of(j)
            if source is not None and port_of is not None:
                c.bind((source, port_of(j)))
            elif source is not None:
                c.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                c.bind((source, 0))
            c.connect(address)
            clients.append(c)
        for _ in range(n):
            s, _ = listener.accept()
            keep.append(s)
        keep.extend(clients)
        done += n
        progress(n)


def build_unix(count, worker, directory, keep):
    """About `count` unix sockets of several kinds; returns how many."""
    made = 0
    if count <= 0:
        return 0
    path = os.path.join(directory, "w%d.sock" % worker)
    path_listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    path_listener.bind(path)
    path_listener.listen(1024)
    keep.append(path_listener)
    made += 1
    if made < count:
        abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        abstract.bind("\0nlstat-load-w%d" % worker)
        abstract.listen(1024)
        keep.append(abstract)
        made += 1
    kind = 0
    while made + 2 <= count:
        if kind % 5 in (0, 1):
            # a connection accepted from the filesystem listener
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(path)
            s, _ = path_listener.accept()
            keep.extend((c, s))
        elif kind % 5 in (2, 3):
            keep.extend(socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM))
        else:
            keep.extend(socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM))
        made += 2
        kind += 1
    if made < count:
        keep.append(socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM))
        made += 1
    return made


def sockstat_timewait():
    """TIME_WAIT sockets in this namespace, from /proc/net/sockstat."""
    try:
        with open("/proc/net/sockstat") as f:
            for line in f:
                if line.startswith("TCP:"):
                    fields = line.split()
                    return int(fields[fields.index("tw") + 1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class TimeWaitMaker:
    """Makes TIME_WAIT sockets on demand: the client closes first."""

    def __init__(self, worker, spread=None):
        # with --spread-ports every port is bound, and connect() cannot
        # pick one of its own: these take the range's ports in turn too
        self.spread = spread
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.250.%d.1" % (worker % 250), 9000))
        self.listener.listen(4096)
        self.serial = 0

    def make(self, count):
        address = self.listener.getsockname()
        for _ in range(count):
            j = self.serial
            self.serial += 1
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            source = "127.251.%d.%d" % ((j // 250) % 250, j % 250 + 1)
            if self.spread:
                lo, hi = self.spread
                c.bind((source, lo + j % (hi - lo + 1)))
            else:
                c.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                c.bind((source, 0))
            c.connect(address)
            s, _ = self.listener.accept()
            c.close()  # FIN first: this end goes to TIME_WAIT
            s.close()


def worker_main(spec):
    """Runs inside the namespace: build one share of the population."""
    w = spec["worker"]
    limit = raise_nofile()
    keep = []
    counts = {"tcp": 0, "tcp6": 0, "listen": 0, "udp": 0, "unix": 0}
    last = [time.monotonic()]

    def progress(n, key):
        counts[key] += n
        now = time.monotonic()
        if now - last[0] > 1.0:
            last[0] = now
            print("PROGRESS %s" % json.dumps(counts), flush=True)

    if spec["tcp"] > 0:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((server_address(w), 8000))
        listener.listen(65535)
        keep.append(listener)
        counts["listen"] += 1
        port_of = None
        if spec.get("spread"):
            lo, hi = spec["spread"]
            port_of = lambda j: lo + (spec["first"] + j) % (hi - lo + 1)
        connect_batch(listener, socket.AF_INET, spec["tcp"], lambda j: v4_source(w, j), keep,
                      lambda n: progress(n, "tcp"), port_of)
    if spec["tcp6"] > 0:
        listener = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        listener.bind(("::1", 10000 + w))
        listener.listen(65535)
        keep.append(listener)
        counts["listen"] += 1
        connect_batch(listener, socket.AF_INET6, spec["tcp6"], lambda j: None, keep,
                      lambda n: progress(n, "tcp6"))
    for i in range(spec["listen"]):
        # idle listeners on their own addresses, half of them on IPv6
        if i % 2 and spec["ipv6_listeners"]:
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s.bind(("::1", 0))
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.201.%d.%d" % (w % 250, i % 250 + 1), 7000 + i // 250))
        s.listen(128)
        keep.append(s)
        counts["listen"] += 1
    for i in range(spec["udp"]):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.202.%d.%d" % (w % 250, (i // 250) % 250 + 1), 0))
        if i % 2:
            s.connect(("127.203.0.1", 5000 + i % 1000))
        keep.append(s)
        counts["udp"] += 1
    counts["unix"] = build_unix(spec["unix"], w, spec["unix_dir"], keep)
    maker = TimeWaitMaker(w, spec.get("spread")) if spec["timewait"] > 0 else None
    if maker:
        counts["listen"] += 1
        maker.make(spec["timewait"])
    print("READY %s" % json.dumps({"worker": w, "pid": os.getpid(), "fds": len(keep),
                                   "limit": limit, **counts}), flush=True)

    deadline = time.monotonic() + spec["duration"]
    stopping = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.append(1))
    while not stopping and time.monotonic() < deadline:
        ready, _, _ = select.select([sys.stdin], [], [], 1.0)
        if ready and not sys.stdin.buffer.read1(4096):
            break  # the master is gone
        if maker:
            missing = spec["timewait"] - sockstat_timewait()
            if missing > 0:
                maker.make(min(missing, 20_000))
    os._exit(0)


# ---------------------------------------------------------------- master


def run(cmd, check=True):
    return subprocess.run(cmd, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)


def split(total, parts):
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def plan(args):
    """How many workers, and each worker's share."""
    fds = 2 * args.tcp + 2 * args.tcp6 + args.listen + args.udp + args.unix
    workers = max(args.workers, math.ceil(fds / FD_BUDGET), 1)
    shares = [dict() for _ in range(workers)]
    for key, total in (("tcp", args.tcp), ("tcp6", args.tcp6), ("udp", args.udp),
                       ("unix", args.unix)):
        for share, n in zip(shares, split(total, workers)):
            share[key] = n
    # listeners that accept the connections count towards --listen
    accepting = sum((s["tcp"] > 0) + (s["tcp6"] > 0) for s in shares)
    accepting += 1 if args.timewait > 0 else 0
    idle = max(args.listen - accepting, 0)
    for share, n in zip(shares, split(idle, workers)):
        share["listen"] = n
    first = 0
    spread = None
    if args.spread_ports:
        lo, hi = (args.port_range or "16384-65535").split("-")
        spread = [int(lo), int(hi)]
    for i, share in enumerate(shares):
        share["first"] = first
        share["spread"] = spread
        first += share["tcp"]
        share["worker"] = i
        share["timewait"] = args.timewait if i == 0 else 0
        share["ipv6_listeners"] = args.tcp6 > 0
    return shares


def host_sysctl(name, value, changed):
    """Raise a host sysctl if it is below `value`; remember the old one."""
    path = "/proc/sys/" + name.replace(".", "/")
    try:
        with open(path) as f:
            old = f.read().strip()
        if int(old) < value:
            with open(path, "w") as f:
                f.write(str(value))
            changed.append((path, old))
            log("loadgen: raised %s from %s to %d" % (name, old, value))
    except (OSError, ValueError) as e:
        log("loadgen: cannot raise %s: %s" % (name, e))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--ns", default="nlstat-load", help="namespace name")
    parser.add_argument("--reuse", action="store_true",
                        help="use an existing namespace of that name (it is not deleted)")
    parser.add_argument("--tcp", type=int, default=0)
    parser.add_argument("--tcp6", type=int, default=0)
    parser.add_argument("--listen", type=int, default=0)
    parser.add_argument("--timewait", type=int, default=0)
    parser.add_argument("--udp", type=int, default=0)
    parser.add_argument("--unix", type=int, default=0)
    parser.add_argument("--port-range", help="the namespace's ip_local_port_range, LO-HI")
    parser.add_argument("--spread-ports", action="store_true",
                        help="IPv4 client ends take the range's ports in turn")
    parser.add_argument("--workers", type=int, default=1,
                        help="at least this many worker processes (more if descriptors need it)")
    parser.add_argument("--duration", type=float, default=1800,
                        help="stop by itself after this many seconds (default 1800)")
    parser.add_argument("--private-hash", action="store_true",
                        help="give the namespace its own TCP/UDP hash tables (host sysctls "
                        "net.ipv4.tcp_child_ehash_entries and udp_child_hash_entries are set "
                        "while it is created, then restored), so dumps do not walk other "
                        "namespaces' sockets")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker_main(json.loads(args.worker))
    if os.geteuid() != 0:
        sys.exit("loadgen: needs root (ip netns, sysctl)")

    stop = []

    def on_signal(signum, _frame):
        stop.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    shares = plan(args)
    total_fds = 2 * args.tcp + 2 * args.tcp6 + args.listen + args.udp + args.unix
    host_changed = []
    created = False
    workers = []
    unix_dir = tempfile.mkdtemp(prefix="nlstat-load-")
    try:
        existing = run(["ip", "netns", "list"]).stdout.split()
        if args.ns in existing:
            if not args.reuse:
                sys.exit("loadgen: namespace %s exists (use --reuse or delete it)" % args.ns)
        elif args.private_hash:
            # the child netns sizes its tables from these when it is created
            buckets = max(1024, 2 * (args.tcp + args.tcp6) + args.listen + args.timewait)
            saved = []
            try:
                host_sysctl("net.ipv4.tcp_child_ehash_entries", buckets, saved)
                host_sysctl("net.ipv4.udp_child_hash_entries", max(256, min(args.udp, 65536)),
                            saved)
                run(["ip", "netns", "add", args.ns])
                created = True
            finally:
                for path, old in saved:
                    with open(path, "w") as f:
                        f.write(old)
                    log("loadgen: restored %s to %s" % (path, old))
        else:
            run(["ip", "netns", "add", args.ns])
            created = True
        run(["ip", "-n", args.ns, "link", "set", "lo", "up"])
        sysctls = dict(NS_SYSCTLS)
        sysctls["net.ipv4.tcp_max_tw_buckets"] = str(max(262144, 2 * args.timewait))
        if args.port_range:
            sysctls["net.ipv4.ip_local_port_range"] = args.port_range.replace("-", " ")
        for name, value in sysctls.items():
            run(["ip", "netns", "exec", args.ns, "sysctl", "-q", "-w", "%s=%s" % (name, value)])
        host_sysctl("fs.file-max", total_fds + 200_000, host_changed)

        started = time.monotonic()
        for share in shares:
            share["unix_dir"] = unix_dir
            share["duration"] = args.duration + 60  # the master stops them first
            cmd = ["ip", "netns", "exec", args.ns, sys.executable, os.path.abspath(__file__),
                   "--worker", json.dumps(share)]
            workers.append(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE))
        log("loadgen: %d workers in namespace %s for %d sockets" %
            (len(workers), args.ns, total_fds))

        ready = {}
        progress = {}
        streams = {w.stdout.fileno(): (i, w) for i, w in enumerate(workers)}
        buffers = {fd: b"" for fd in streams}
        last = 0.0
        while len(ready) < len(workers) and not stop:
            fds, _, _ = select.select(list(streams), [], [], 1.0)
            for fd in fds:
                i, w = streams[fd]
                data = os.read(fd, 65536)
                if not data:
                    sys.exit("loadgen: worker %d exited (status %s) before READY" %
                             (i, w.wait()))
                buffers[fd] += data
                *lines, buffers[fd] = buffers[fd].split(b"\n")
                for line in lines:
                    kind, _, body = line.decode().partition(" ")
                    if kind == "PROGRESS":
                        progress[i] = json.loads(body)
                    elif kind == "READY":
                        ready[i] = json.loads(body)
                        progress[i] = ready[i]
            now = time.monotonic()
            if now - last > 2:
                last = now
                tcp = sum(p.get("tcp", 0) + p.get("tcp6", 0) for p in progress.values())
                log("loadgen: %5.1fs  %d/%d connections, %d/%d workers ready" %
                    (now - started, tcp, args.tcp + args.tcp6, len(ready), len(workers)))
        if stop:
            return 1
        for fd in streams:
            os.set_blocking(fd, True)
        total = {k: sum(r[k] for r in ready.values())
                 for k in ("tcp", "tcp6", "listen", "udp", "unix")}
        pids = [ready[i]["pid"] for i in sorted(ready)]
        print("READY ns=%s workers=%d tcp=%d tcp6=%d listen=%d timewait=%d udp=%d unix=%d "
              "sockets=%d seconds=%.1f pids=%s" %
              (args.ns, len(workers), total["tcp"], total["tcp6"], total["listen"],
               args.timewait, total["udp"], total["unix"],
               2 * total["tcp"] + 2 * total["tcp6"] + total["listen"] + total["udp"] +
               total["unix"] + args.timewait, time.monotonic() - started,
               ",".join(map(str, pids))), flush=True)

        # hold: until a signal, stdin closing (pipe or terminal) or the deadline
        watch_stdin = False
        try:
            mode = os.fstat(0).st_mode
            watch_stdin = stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(0)
        except OSError:
            pass
        deadline = time.monotonic() + args.duration
        while not stop and time.monotonic() < deadline:
            watched = [0] if watch_stdin else []
            fds, _, _ = select.select(watched, [], [], 1.0)
            if fds and not os.read(0, 4096):
                log("loadgen: stdin closed, stopping")
                break
            dead = [i for i, w in enumerate(workers) if w.poll() is not None]
            if dead:
                log("loadgen: worker(s) %s exited early, stopping" % dead)
                break
        else:
            if not stop:
                log("loadgen: --duration reached, stopping")
        return 0
    finally:
        for w in workers:
            if w.poll() is None:
                w.terminate()
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
        if created:
            run(["ip", "netns", "del", args.ns], check=False)
        for path, old in host_changed:
            try:
                with open(path, "w") as f:
                    f.write(old)
            except OSError as e:
                log("loadgen: cannot restore %s: %s" % (path, e))
        shutil.rmtree(unix_dir, ignore_errors=True)
        log("loadgen: stopped")


if __name__ == "__main__":
    sys.exit(main())
