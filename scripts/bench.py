#!/usr/bin/env python3
"""Time nlstat next to ss and netstat on one held socket population.

One run: build nlstat in release mode (with its examples), start
scripts/loadgen.py to fill a namespace, then inside that namespace (through
`ip netns exec`, output to /dev/null) time each case for nlstat, ss, netstat
and the bare kernel dump (examples/kernel_dump: one sock_diag dump, records
discarded - the floor), several runs each: median, min and max of wall time,
CPU (user+sys of the child, from wait4) and peak RSS. Slow commands get fewer
runs and a per-command timeout. Then `nlstat -c` is run for a few ticks to
measure the CPU of a tick after the first. Prints markdown tables with the
ratios and the machine facts.

Default population: 200 000 IPv4 TCP connections (400 000 sockets, over at
least 20 processes), 20 000 IPv6 connections, 100 listeners, 1 000 UDP and
20 000 unix sockets. --small is a quick smoke run.

--many-keys measures `--group-by` with many distinct keys instead: 200 000
IPv4 connections between local processes whose client ends take every
port of 1024-65535 in turn (each on its own source address; 16 bits of
port allow no more distinct local ports) and 20 000 TIME_WAIT sockets; `nlstat -tan` and `nlstat -tan --group-by
state,local_port` run in turn (paired runs), reported with the number of
sockets and of distinct keys, median walls, the median of the per-pair
ratios and peak RSS.

--events measures `--events` under a close storm instead: in a namespace
of its own, examples/churn (pinned to CPU 0) opens and resets 127.0.0.1
connections to 100 listeners as fast as one core allows (two destroy
events per connection) for 60 s (10 with --small), while the listener runs
pinned to CPU 1 with its output to /dev/null: `nlstat --events --json -n`,
the same with a port filter matching 1 % of the connections (the kernel
socket filter at work), the same filter in user space only
(NLSTAT_FILTER_IN=user), and `ss -E -tn`. Reported per listener: the close
rate the generator reached, CPU (user+sys over the storm, % of one core),
peak and sampled RSS, and the events the kernel dropped for the listener's
socket (the Drops column of /proc/net/netlink, the counter nlstat reports
from), so received = sent - dropped exactly.

--continuous measures issue 23's repeating runs instead, on the default
population: `--summary` once against each tick of `--summary --interval
0.2 --count N` (total CPU from wait4 over N ticks), peak RSS of the first
and last of --rss-ticks ticks of `--summary --interval 0.01` (VmRSS sampled
from /proc while it runs), `-tan --record FILE --quiet` against `-tan`
(CPU, and the file's bytes per socket the kernel dumped), and `-tan
--replay FILE` against `-tan`.

--kernel-counts measures issue 24's views counted in the kernel instead, on
the default population (as root): the bare TCP dump (the floor), the TCP
socket iterator's walk with a program that writes nothing and with
nlstat's (examples/iter_walk), then `-tan --summary`, `-tan --group-by
state,local_port`, `--summary` (every table), a tick of `-tan --summary
--interval 0.2`, one exporter collection (`--textfile`) and `-tan
--group-by remote_addr --info` (health from the info block), each with
`--view-source bpf` and `--view-source netlink`: CPU and peak RSS, the
ratios to the floor and to the netlink path.

--live measures issue 25's live screen instead, on the default population
(as root): for `-tan --summary`, `-tn --listeners` and `-tan --group-by
state,local_port`, the CPU of a `-c` tick (`--interval 0.2 --count N`,
wait4 / N) against a refresh of `--live` on the same view and schedule in
a 200 x 50 pseudo-terminal (wait4 / N), and the frame times `-v` reports;
then `--live -n --info --events` for --live-minutes (default 10) with Tab
every 5 s (every screen in turn): VmRSS after 10 s, at the end and at
most.

--baseline REV (a git revision, or the path of an nlstat binary) pairs
two builds instead: REV is built in a worktree of its own (target dir
`baseline/` beside the release one), then on the default population each
nlstat case of PAIRED_CASES (or those --case names) runs with both
binaries in turn, the order alternating pair by pair, --runs pairs after
a warm-up of each; reported with median wall, CPU and peak RSS of each
and the median of the per-pair wall ratios (this build / the baseline).

Example:
  sudo scripts/bench.py --baseline main~3 --runs 7 --out /tmp/paired.md
  sudo scripts/bench.py --small
  sudo scripts/bench.py --out /tmp/bench.md
  sudo scripts/bench.py --many-keys --out scripts/RESULTS-groupby-many-keys.md
"""

import argparse
import json
import os
import platform
import re
import select
import signal
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CLK_TCK = os.sysconf("SC_CLK_TCK")

# (case label, nlstat/netstat args, ss args, kernel_dump args); ss or
# netstat args of None: that tool has no such case.
CASES = [
    ("-tan", ["-tan"], ["-tan"], ["tcp", "46", "shown"]),
    ("-tln", ["-tln"], ["-tln"], ["tcp", "46", "listen"]),
    ("-tanp", ["-tanp"], ["-tanp"], ["tcp", "46", "shown"]),
    ("-uan", ["-uan"], ["-uan"], ["udp", "46", "all"]),
    ("-xa", ["-xa"], ["-xa"], ["unix", "46", "all"]),
    ("-6 -tan (IPv6 only)", ["-6", "-tan"], ["-6", "-tan"], ["tcp", "6", "shown"]),
    # the floor again with the mask nlstat asks for today (TCP_BOUND_INACTIVE included)
    ("tcp dump, all 32 state bits", None, None, ["tcp", "46", "all"]),
    # nlstat's own options: no peer has them; compared with nlstat's own text
    ("-tan --json", ["-tan", "--json"], None, ["tcp", "46", "shown"]),
    # a filter for one listener's port (PORT: see pick_listener); netstat has
    # no filters, ss runs the same expression
    ("-tan 'sport = :PORT'", ["-tan", "sport = :{PORT}"], ["-tan", "sport = :{PORT}"],
     ["tcp", "46", "shown"]),
    ("-tanp 'sport = :PORT'", ["-tanp", "sport = :{PORT}"], ["-tanp", "sport = :{PORT}"],
     ["tcp", "46", "shown"]),
]

CASES += [
    # load-balancer views: keys and counts instead of rows
    ("-tan --group-by state,local_port", ["-tan", "--group-by", "state,local_port"], None,
     ["tcp", "46", "shown"]),
    ("-tan --summary", ["-tan", "--summary"], None, ["tcp", "46", "shown"]),
    ("--listeners", ["--listeners"], None, ["tcp", "46", "listen"]),
    # the exporter: one collection (as --textfile writes it) against the
    # summary of the same tables (every table, every state)
    ("-a --summary", ["-a", "--summary"], None, ["tcp", "46", "shown"]),
    ("--textfile (one collection)", ["--textfile", "/tmp/nlstat-bench.prom"], None,
     ["tcp", "46", "shown"]),
]

CASES += [
    # -p from the /proc walk (the default, -tanp, uses the BPF task_file
    # iterator when it loads; -v would say if it did not)
    ("-tanp --pid-source proc", ["-tanp", "--pid-source", "proc"], None,
     ["tcp", "46", "shown"]),
]

CASES += [
    # --info: tcp_info, congestion control and socket memory of every TCP
    # socket; ss on the same sockets (-a: the listeners too), and the floor
    # asking for the same extensions
    ("-tan --info", ["-tan", "--info"], ["-tain"], ["tcp", "46", "shown", "info"]),
    # per-group health: the same request, counted per backend address
    # instead of printed (bar: 1.2 x -tan --info, 32 MiB); one exporter
    # collection with health against one without (bar: 2 x)
    ("-tan --group-by remote_addr --info", ["-tan", "--group-by", "remote_addr", "--info"],
     None, ["tcp", "46", "shown", "info"]),
    ("--textfile --info (one collection)",
     ["--textfile", "/tmp/nlstat-bench.prom", "--info"], None, ["tcp", "46", "shown", "info"]),
]

# the nlstat cases --baseline pairs by default: one of each path (rows,
# JSON, owners, views, one exporter collection)
PAIRED_CASES = ["-tan", "-tanp", "-tan --json", "-tan --summary", "--listeners",
                "--textfile (one collection)"]

# the netstat2 crate (scripts/netstat2-pids, built by this script) for the
# cases it has: its TCP listing without and with owning pids
NETSTAT2 = {"-tan": ["--no-pids"], "-tanp": []}

# nlstat-only cases and the plain case each is compared with.
OWN_CASES = {"-tan --json": "-tan", "-tan 'sport = :PORT'": "-tan",
             "-tan --group-by state,local_port": "-tan", "-tan --summary": "-tan",
             "--listeners": "-tan", "--textfile (one collection)": "-a --summary",
             "-tanp": "-tan", "-tanp --pid-source proc": "-tan", "-tan --info": "-tan",
             "-tan --group-by remote_addr --info": "-tan --info",
             "--textfile --info (one collection)": "--textfile (one collection)"}
# cases netstat cannot run (no filters, no views) and ss cannot (no JSON,
# no views)
NO_NETSTAT = {"-tan --json", "-tan 'sport = :PORT'", "-tanp 'sport = :PORT'",
              "-tan --group-by state,local_port", "-tan --summary", "--listeners",
              "-a --summary", "--textfile (one collection)", "-tanp --pid-source proc",
              "-tan --info", "-tan --group-by remote_addr --info",
              "--textfile --info (one collection)"}
NO_SS = {"-tan --json", "-tan --group-by state,local_port", "-tan --summary", "--listeners",
         "-a --summary", "--textfile (one collection)", "-tanp --pid-source proc",
         "-tan --group-by remote_addr --info", "--textfile --info (one collection)"}
# `nlstat -c` runs: their later ticks against the one-shot case of the label
CONTINUOUS = [(["-tan"], "-tan"), (["-tanp"], "-tan"),
              (["-tanp", "--pid-source", "proc"], "-tan"),
              (["-tan", "--group-by", "state,local_port"], "-tan --group-by state,local_port"),
              (["--listeners"], "--listeners")]


def log(message):
    print(message, file=sys.stderr, flush=True)


class Result:
    def __init__(self):
        self.walls, self.cpus, self.rss = [], [], []
        self.timeout = False
        self.failed = None

    def add(self, wall, cpu, rss_kb):
        self.walls.append(wall)
        self.cpus.append(cpu)
        self.rss.append(rss_kb)

    def wall(self):
        return statistics.median(self.walls) if self.walls else None

    def cpu(self):
        return statistics.median(self.cpus) if self.cpus else None


def run_once(ns, cmd, timeout):
    """(wall s, cpu s, maxrss KiB, status) of one run, or None on timeout.

    Wall and CPU come from wait4 on the child. Peak RSS does not: a process
    forked (or vforked) from this Python inherits Python's RSS high-water
    mark at exec, so every child would report at least Python's ~16 MiB.
    GNU time, itself small, forks the command and reports its wait4
    ru_maxrss instead."""
    rss_file = "/tmp/nlstat-bench-rss.%d" % os.getpid()
    argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file, "ip", "netns", "exec", ns] + cmd
    start = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    expired = []

    def kill():
        expired.append(1)
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _, status, usage = os.wait4(p.pid, 0)
    finally:
        timer.cancel()
    wall = time.perf_counter() - start
    p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    if expired:
        return None
    try:
        with open(rss_file) as f:
            # "Command exited with non-zero status N" may come first
            maxrss = int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        maxrss = usage.ru_maxrss
    return wall, usage.ru_utime + usage.ru_stime, maxrss, p.returncode


def measure(ns, cmd, runs, slow_runs, timeout, slow_after=5.0):
    """Run `cmd` up to `runs` times after a warm-up; a slow command (a run
    over `slow_after` seconds) counts its first run and gets `slow_runs`."""
    result = Result()
    first = run_once(ns, cmd, timeout)
    if first is None:
        result.timeout = True
        return result
    if first[3] != 0:
        result.failed = first[3]
    target = runs
    if first[0] > slow_after:
        result.add(*first[:3])
        target = slow_runs
    while len(result.walls) < target:
        one = run_once(ns, cmd, timeout)
        if one is None:
            result.timeout = True
            break
        result.add(*one[:3])
    return result


def cpu_of(pid):
    """utime+stime of a whole process (all its threads, dead ones too)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def continuous(ns, nlstat, args, ticks, timeout):
    """Run `nlstat -c ARGS` (output to /dev/null) for `ticks` ticks; return
    (CPU of the first tick, CPU per later tick) in seconds, or None.

    nlstat sleeps a second between ticks, so its CPU time (all threads,
    /proc/PID/stat, sampled every 20 ms) rises in one burst per tick and
    stands still in between: a burst ends after 0.4 s without a change."""
    p = subprocess.Popen(["ip", "netns", "exec", ns, nlstat, "-c"] + args,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    bursts = []
    deadline = time.monotonic() + timeout
    try:
        time.sleep(0.05)  # let `ip netns exec` exec nlstat
        base = 0.0  # CPU when the current burst began (process start: 0)
        last_cpu, last_change = 0.0, time.monotonic()
        while len(bursts) < ticks and time.monotonic() < deadline:
            time.sleep(0.02)
            try:
                cpu = cpu_of(p.pid)
            except OSError:
                return None
            now = time.monotonic()
            if cpu != last_cpu:
                last_cpu, last_change = cpu, now
            elif now - last_change > 0.4 and cpu > base:
                bursts.append(cpu - base)
                base = cpu
        if len(bursts) < 2:
            return None
        return bursts[0], statistics.mean(bursts[1:])
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def fmt_s(values):
    if not values:
        return "-"
    med = statistics.median(values)
    if len(values) == 1:
        return "%.3f" % med
    return "%.3f (%.3f–%.3f)" % (med, min(values), max(values))


def ratio(a, b):
    if a is None or b is None or b <= 0:
        return "-"
    return "%.2f" % (a / b)


def start_loadgen(args, extra=()):
    cmd = [sys.executable, os.path.join(HERE, "loadgen.py"), "--ns", args.ns,
           "--tcp", str(args.tcp), "--tcp6", str(args.tcp6), "--listen", str(args.listen),
           "--udp", str(args.udp), "--unix", str(args.unix), "--workers", str(args.workers),
           "--duration", str(args.duration)] + list(extra)
    if not args.shared_hash:
        cmd.append("--private-hash")
    log("bench: " + " ".join(cmd))
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for line in p.stdout:
        if line.startswith("READY"):
            log("bench: " + line.strip())
            return p, dict(kv.split("=", 1) for kv in line.split()[1:])
    sys.exit("bench: loadgen exited before READY (status %s)" % p.wait())


def serve_memory(ns, nlstat, scrapes=100, port=9499):
    """Peak RSS (VmHWM, KiB) of `nlstat --serve` after 1, 10 and `scrapes`
    scrapes, each a fresh collection (--min-interval 0)."""
    import urllib.request
    p = subprocess.Popen(["ip", "netns", "exec", ns, nlstat, "--serve", "127.0.0.1:%d" % port,
                          "--min-interval", "0"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    marks = {}
    try:
        script = ("import urllib.request,sys\n"
                  "for _ in range(int(sys.argv[1])): urllib.request.urlopen("
                  "'http://127.0.0.1:%d/metrics', timeout=120).read()\n" % port)
        time.sleep(0.5)
        pid = None
        for child in os.listdir("/proc"):
            if child.isdigit():
                try:
                    with open("/proc/%s/cmdline" % child, "rb") as f:
                        cmd = f.read().split(b"\0")
                    if cmd[0].endswith(b"nlstat") and b"--serve" in cmd:
                        pid = int(child)
                except OSError:
                    pass
        done = 0
        start = time.perf_counter()
        for mark in (1, 10, scrapes):
            subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", script,
                            str(mark - done)], check=True)
            done = mark
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        marks[mark] = int(line.split()[1])
        marks["seconds"] = time.perf_counter() - start
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    return marks


def socket_inodes(pid):
    """The socket inodes a process holds."""
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def netlink_drops(ns, inodes):
    """Drops of the netlink sockets with those inodes that joined groups
    (/proc/net/netlink of the namespace)."""
    table = subprocess.run(["ip", "netns", "exec", ns, "cat", "/proc/net/netlink"],
                           stdout=subprocess.PIPE, text=True, check=True).stdout
    drops = 0
    for line in table.splitlines()[1:]:
        f = line.split()
        if f[-1] in inodes and int(f[3], 16) != 0:
            drops += int(f[8])
    return drops


def events_storm(args, nlstat, churn):
    """`--events` under a close storm; returns the report's lines."""
    seconds = 10 if args.small else 60
    ports = 100
    ns = args.ns
    subprocess.run(["ip", "netns", "add", ns], check=True)
    subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
    port_filter = ["sport", "=", ":20000", "or", "dport", "=", ":20000"]
    listeners = [
        ("`nlstat --events --json -n`", [nlstat, "--netns", ns, "--events", "--json", "-n"]),
        ("`nlstat --events --json -n sport = :20000 or dport = :20000` (1 %)",
         [nlstat, "--netns", ns, "--events", "--json", "-n"] + port_filter),
        ("the same, `NLSTAT_FILTER_IN=user` (no kernel filter)",
         ["env", "NLSTAT_FILTER_IN=user", nlstat, "--netns", ns, "--events", "--json", "-n"]
         + port_filter),
        ("`ss -E -tn`", ["ip", "netns", "exec", ns, "ss", "-E", "-tn"]),
    ]
    rows = []
    try:
        for label, cmd in listeners:
            log("bench: events: %s for %d s ..." % (label, seconds))
            p = subprocess.Popen(["taskset", "-c", "1"] + cmd, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True)
            time.sleep(1)
            inodes = socket_inodes(p.pid)
            cpu0 = cpu_of(p.pid)
            rss = []
            done = threading.Event()

            def sample():
                while not done.wait(1.0):
                    try:
                        with open("/proc/%d/status" % p.pid) as f:
                            for line in f:
                                if line.startswith("VmRSS:"):
                                    rss.append(int(line.split()[1]))
                    except OSError:
                        return
            sampler = threading.Thread(target=sample)
            sampler.start()
            started = time.time()
            out = subprocess.run(["ip", "netns", "exec", ns, "taskset", "-c", "0", churn,
                                  str(seconds), str(ports)],
                                 stdout=subprocess.PIPE, text=True, check=True).stdout
            storm = time.time() - started
            time.sleep(1)
            alive = p.poll() is None
            cpu = cpu_of(p.pid) - cpu0 if alive else float("nan")
            drops = netlink_drops(ns, inodes) if alive else None
            with open("/proc/%d/status" % p.pid) as f:
                hwm = next((int(l.split()[1]) for l in f if l.startswith("VmHWM:")), 0)
            done.set()
            sampler.join()
            err = ""
            for stop in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
                p.send_signal(stop)
                try:
                    err = p.communicate(timeout=10)[1]
                    break
                except subprocess.TimeoutExpired:
                    log("bench: events: %s did not stop on signal %d" % (label, stop))
            conns = int(out.strip())
            sent = 2 * conns + ports
            rows.append((label, conns / storm, sent, cpu / (storm + 1), hwm, rss, drops,
                         alive, err.strip().splitlines()[-1:] if err else []))
            log("bench: events: %s: %.0f conn/s, CPU %.1f %%, drops %s" %
                (label, conns / storm, 100 * cpu / (storm + 1), drops))
    finally:
        subprocess.run(["ip", "netns", "del", ns])
    lines = ["## `--events` under a close storm\n",
             "- machine: nproc %d, kernel %s, %s" %
             (os.cpu_count(), platform.release(), platform.machine()),
             "- command line: %s" % " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
             "- generator: `examples/churn %d %d` pinned to CPU 0 (connect, accept, reset both "
             "ends: 2 destroy events per connection, plus %d listener closes); listener pinned "
             "to CPU 1, output to /dev/null; CPU is user+sys of the listener over the storm "
             "and one second after it" % (seconds, ports, ports),
             "",
             "| listener | connections/s | events sent | CPU % of one core | peak RSS MiB | "
             "RSS first–last sample MiB | dropped (Drops) |",
             "|---|---|---|---|---|---|---|"]
    for label, rate, sent, cpu, hwm, rss, drops, alive, err in rows:
        first_last = "%.1f–%.1f" % (rss[0] / 1024, rss[-1] / 1024) if rss else "-"
        lines.append("| %s | %.0f | %d | %s | %.1f | %s | %s |" %
                     (label, rate, sent, "%.1f" % (100 * cpu) if alive else "(exited)",
                      hwm / 1024, first_last,
                      drops if drops is not None else "(exited: %s)" % " ".join(err)))
    lines.append("")
    lines.append("The filtered run's events sent to the listener are the 1 % of the closes "
                 "on port 20000; the kernel's socket filter drops the rest before they are "
                 "queued, so they are neither received nor dropped.")
    return lines


def many_keys(args, nlstat, floor):
    """`--group-by state,local_port` against `-tan` on a population with
    many distinct keys; returns the report's lines."""
    timewait = 2000 if args.small else 20_000
    loadgen, ready = start_loadgen(args, ["--timewait", str(timewait),
                                          "--port-range", "1024-65535", "--spread-ports"])
    plain = [nlstat, "-tan"]
    grouped = [nlstat, "-tan", "--group-by", "state,local_port"]
    try:
        records = subprocess.run(["ip", "netns", "exec", args.ns, floor, "tcp", "46", "all"],
                                 stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
        out = subprocess.run(["ip", "netns", "exec", args.ns] + grouped,
                             stdout=subprocess.PIPE, text=True, check=True).stdout
        keys = len(out.splitlines()) - 1  # less the header
        log("bench: %s TCP sockets, %d distinct state,local_port keys" % (records, keys))
        a, b, ratios = Result(), Result(), []
        run_once(args.ns, plain, args.timeout)  # warm-up of both
        run_once(args.ns, grouped, args.timeout)
        for i in range(args.runs):
            one = run_once(args.ns, plain, args.timeout)
            two = run_once(args.ns, grouped, args.timeout)
            if one is None or two is None:
                sys.exit("bench: a run timed out")
            a.add(*one[:3])
            b.add(*two[:3])
            ratios.append(two[0] / one[0])
            log("bench: pair %d: -tan %.3f s, --group-by %.3f s (%.2f x)" %
                (i + 1, one[0], two[0], ratios[-1]))
    finally:
        loadgen.stdin.close()
        loadgen.wait()
    lines = ["## `--group-by` with many distinct keys\n",
             "- machine: nproc %d, kernel %s, %s" %
             (os.cpu_count(), platform.release(), platform.machine()),
             "- population (loadgen READY): " +
             " ".join("%s=%s" % (k, ready[k]) for k in
                      ("workers", "tcp", "listen", "timewait", "sockets")) +
             "; port range 1024-65535, client ends on its ports in turn (--spread-ports)",
             "- TCP sockets the kernel dumps (`kernel_dump tcp 46 all`): %s; distinct "
             "`state,local_port` keys: %d" % (records, keys),
             "- command line: %s" % " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
             "- %d pairs, the two commands in turn (`ip netns exec %s CMD >/dev/null`) after "
             "one warm-up each" % (args.runs, args.ns),
             "",
             "| command | wall s median (min–max) | CPU s median | peak RSS MiB |",
             "|---|---|---|---|"]
    for cmd, r in ((plain, a), (grouped, b)):
        lines.append("| `nlstat %s` | %s | %.3f | %.1f |" %
                     (" ".join(cmd[1:]), fmt_s(r.walls), r.cpu(), max(r.rss) / 1024))
    lines.append("")
    lines.append("Wall `--group-by state,local_port` / `-tan`: median of the per-pair ratios "
                 "%.2f x (%.2f–%.2f); ratio of the medians %s x." %
                 (statistics.median(ratios), min(ratios), max(ratios),
                  ratio(b.wall(), a.wall())))
    return lines


def vm_rss_kib(pid, field="VmRSS"):
    """VmRSS (or another /proc/PID/status size) of a running process in
    KiB, or None once it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_over_ticks(ns, nlstat, ticks, timeout):
    """(first, last, peak) VmRSS in KiB of `nlstat --summary --interval
    0.01 --count TICKS` (every tick overruns its slot on a large
    population, so ticks run back to back), sampled every 50 ms; first is
    the sample after the first tick line, last the one before exit."""
    p = subprocess.Popen(["ip", "netns", "exec", ns, nlstat, "--summary", "--interval", "0.01",
                          "--count", str(ticks)], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         start_new_session=True)
    samples, seen = [], [0]

    def count_ticks():
        for line in p.stdout:
            if line.startswith("Tick "):
                seen[0] += 1

    reader = threading.Thread(target=count_ticks, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    try:
        while p.poll() is None and time.monotonic() < deadline:
            rss = vm_rss_kib(p.pid)
            if rss is not None and seen[0] >= 2:
                samples.append((seen[0], rss))
            time.sleep(0.05)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        reader.join(timeout=5)
    if not samples:
        return None
    return samples[0], samples[-1], max(r for _, r in samples), seen[0]


def report_head(title, args, ready, sockets):
    """The first lines of a mode's report: the machine, the population, the
    command line, how commands ran, and the header of its table."""
    return [title,
            "- machine: nproc %d, kernel %s, %s" %
            (os.cpu_count(), platform.release(), platform.machine()),
            "- population (loadgen READY): " +
            " ".join("%s=%s" % (k, ready[k]) for k in
                     ("workers", "tcp", "tcp6", "listen", "udp", "unix", "sockets")),
            "- TCP sockets the kernel dumps for -tan (`kernel_dump tcp 46 shown`): %d" % sockets,
            "- command line: %s" % " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
            "- each command as `ip netns exec %s CMD >/dev/null`; medians of %d runs "
            "(wall and CPU from wait4, peak RSS from GNU time)" % (args.ns, args.runs),
            "",
            "| command | wall s median (min–max) | CPU s median (min–max) | peak RSS MiB |",
            "|---|---|---|---|"]


def continuous_modes(args, nlstat, floor):
    """Issue 23's bars on the default population; returns the report's
    lines."""
    loadgen, ready = start_loadgen(args)
    tape = "/tmp/nlstat-bench.rec"
    ticks = 10 if args.small else 50
    try:
        sockets = int(subprocess.run(["ip", "netns", "exec", args.ns, floor, "tcp", "46", "shown"],
                                     stdout=subprocess.PIPE, text=True, check=True).stdout)
        log("bench: %d TCP sockets dumped" % sockets)
        once = measure(args.ns, [nlstat, "--summary"], args.runs, args.slow_runs, args.timeout)
        repeated = Result()
        for _ in range(max(1, args.runs // 2)):
            one = run_once(args.ns, [nlstat, "--summary", "--interval", "0.2", "--count",
                                     str(ticks)], args.timeout * ticks)
            if one is None:
                sys.exit("bench: --summary --interval 0.2 timed out")
            repeated.add(one[0] / ticks, one[1] / ticks, one[2])
        log("bench: --summary once CPU %s; per tick of --interval 0.2: %s" %
            (fmt_s(once.cpus), fmt_s(repeated.cpus)))
        rss = rss_over_ticks(args.ns, nlstat, args.rss_ticks, args.timeout * args.rss_ticks)
        log("bench: RSS over ticks: %s" % (rss,))
        tan = measure(args.ns, [nlstat, "-tan"], args.runs, args.slow_runs, args.timeout)
        record = measure(args.ns, [nlstat, "-tan", "--quiet", "--record", tape], args.runs,
                         args.slow_runs, args.timeout)
        size = os.path.getsize(tape)
        replay = measure(args.ns, [nlstat, "-tan", "--replay", tape], args.runs,
                         args.slow_runs, args.timeout)
    finally:
        loadgen.stdin.close()
        loadgen.wait()
        if os.path.exists(tape):
            os.unlink(tape)
    lines = report_head("## Continuous mode, recording and replay (issue 23)\n", args, ready,
                        sockets)
    for label, r in (("`nlstat --summary`", once),
                     ("`nlstat --summary --interval 0.2 --count %d`, per tick" % ticks, repeated),
                     ("`nlstat -tan`", tan),
                     ("`nlstat -tan --quiet --record FILE`", record),
                     ("`nlstat -tan --replay FILE`", replay)):
        lines.append("| %s | %s | %s | %.1f |" %
                     (label, fmt_s(r.walls), fmt_s(r.cpus), max(r.rss) / 1024))
    lines.append("")
    lines.append("- a tick of `--summary --interval 0.2`: %s x the CPU of one `--summary` "
                 "(its wall per tick is the slot it waits for)" % ratio(repeated.cpu(), once.cpu()))
    if rss:
        (t1, r1), (t2, r2), peak, seen = rss
        lines.append("- RSS over %d ticks of `--summary --interval 0.01` (ticks back to back): "
                     "%.1f MiB after tick %d, %.1f MiB after tick %d, peak %.1f MiB" %
                     (seen, r1 / 1024, t1, r2 / 1024, t2, peak / 1024))
    lines.append("- `--record` alone: %s x the CPU of `-tan` (%s x its wall); the file: %d bytes, "
                 "%.1f bytes per socket" % (ratio(record.cpu(), tan.cpu()),
                                            ratio(record.wall(), tan.wall()), size,
                                            size / max(sockets, 1)))
    lines.append("- `--replay` of that tick: %s x the wall of `-tan` live (%s x its CPU)" %
                 (ratio(replay.wall(), tan.wall()), ratio(replay.cpu(), tan.cpu())))
    return lines


def kernel_counts(args, nlstat, floor):
    """Issue 24's bars on the default population; returns the report's
    lines."""
    walker = os.path.join(os.path.dirname(floor), "iter_walk")
    loadgen, ready = start_loadgen(args)
    ticks = 10 if args.small else 25
    results = []
    try:
        sockets = int(subprocess.run(["ip", "netns", "exec", args.ns, floor, "tcp", "46", "shown"],
                                     stdout=subprocess.PIPE, text=True, check=True).stdout)
        log("bench: %d TCP sockets dumped" % sockets)

        def one(label, cmd):
            r = measure(args.ns, cmd, args.runs, args.slow_runs, args.timeout)
            if r.failed or r.timeout:
                sys.exit("bench: %s failed (%s)" % (label, r.failed or "timeout"))
            log("bench: %-48s cpu %s rss %.1f MiB" % (label, fmt_s(r.cpus), max(r.rss) / 1024))
            results.append((label, r))
            return r

        dump = one("bare dump `kernel_dump tcp 46 shown` (floor)",
                   [floor, "tcp", "46", "shown"])
        empty = one("walk alone `iter_walk tcp empty`", [walker, "tcp", "empty"])
        walked = one("walk with nlstat's program `iter_walk tcp records`",
                     [walker, "tcp", "records"])
        pairs = []
        for label, nargs in (("-tan --summary", ["-tan", "--summary"]),
                             ("-tan --group-by state,local_port",
                              ["-tan", "--group-by", "state,local_port"]),
                             ("--summary", ["--summary"]),
                             ("--textfile (one collection)",
                              ["--textfile", "/tmp/nlstat-bench.prom"]),
                             ("-tan --group-by remote_addr --info",
                              ["-tan", "--group-by", "remote_addr", "--info"])):
            bpf = one("`%s --view-source bpf`" % label,
                      [nlstat, "--view-source", "bpf"] + nargs)
            netlink = one("`%s --view-source netlink`" % label,
                          [nlstat, "--view-source", "netlink"] + nargs)
            pairs.append((label, bpf, netlink))
        # dumps the kernel narrows: auto leaves them to sock_diag
        narrowed = []
        for label, nargs in (("-tl --summary", ["-tl", "--summary"]),
                             ("-t --group-by state state syn-recv",
                              ["-t", "--group-by", "state", "state", "syn-recv"]),
                             ("-tan --summary sport = :5000",
                              ["-tan", "--summary", "sport = :5000"]),
                             # TCP from sock_diag with its bytecode, unix
                             # from the iterator
                             ("--summary sport = :5000", ["--summary", "sport = :5000"])):
            auto = one("`%s --view-source auto`" % label,
                       [nlstat, "--view-source", "auto"] + nargs)
            bpf = one("`%s --view-source bpf`" % label,
                      [nlstat, "--view-source", "bpf"] + nargs)
            narrowed.append((label, auto, bpf))
        per_tick = {}
        for source in ("bpf", "netlink"):
            r = Result()
            for _ in range(max(1, args.runs // 2)):
                once = run_once(args.ns, [nlstat, "--view-source", source, "-tan", "--summary",
                                          "--interval", "0.2", "--count", str(ticks)],
                                args.timeout * ticks)
                if once is None or once[3] != 0:
                    sys.exit("bench: -tan --summary --interval 0.2 (%s) failed" % source)
                r.add(once[0] / ticks, once[1] / ticks, once[2])
            log("bench: a tick of -tan --summary --interval 0.2, %s: cpu %s" %
                (source, fmt_s(r.cpus)))
            per_tick[source] = r
    finally:
        loadgen.stdin.close()
        loadgen.wait()
    lines = report_head("## Views counted in the kernel (issue 24)\n", args, ready, sockets)
    for label, r in results:
        lines.append("| %s | %s | %s | %.1f |" %
                     (label, fmt_s(r.walls), fmt_s(r.cpus), max(r.rss) / 1024))
    for source, r in per_tick.items():
        lines.append("| a tick of `-tan --summary --interval 0.2 --count %d --view-source %s` "
                     "| - | %s | %.1f |" % (ticks, source, fmt_s(r.cpus), max(r.rss) / 1024))
    lines.append("")
    lines.append("- the walk alone (a program that writes nothing): %s x the CPU of the bare "
                 "dump; with nlstat's program and its records read back: %s x" %
                 (ratio(empty.cpu(), dump.cpu()), ratio(walked.cpu(), dump.cpu())))
    for label, bpf, netlink in pairs:
        lines.append("- `%s`: from the iterators %s x the CPU of the bare dump, %s x the same "
                     "view from sock_diag; peak RSS %.1f MiB (sock_diag: %.1f)" %
                     (label, ratio(bpf.cpu(), dump.cpu()), ratio(bpf.cpu(), netlink.cpu()),
                      max(bpf.rss) / 1024, max(netlink.rss) / 1024))
    for label, auto, bpf in narrowed:
        lines.append("- `%s` (a dump the kernel narrows): `auto` (sock_diag) %s x the CPU of "
                     "`bpf` (the iterator's walk)" % (label, ratio(auto.cpu(), bpf.cpu())))
    lines.append("- a tick of `-tan --summary --interval 0.2`: %s x the bare dump's CPU, %s x "
                 "the same tick from sock_diag" %
                 (ratio(per_tick["bpf"].cpu(), dump.cpu()),
                  ratio(per_tick["bpf"].cpu(), per_tick["netlink"].cpu())))
    return lines


def live_in_pty(ns, cmd, keys_every=None, sample_at=None, quit_after=None, timeout=900):
    """Run `nlstat --live ...` (with -v) in a 200 x 50 pseudo-terminal in
    `ns`, reading (and dropping) what it draws; with `keys_every`, Tab every
    that many seconds (every screen in turn). Returns (cpu s from wait4,
    the -v timings line's numbers, VmRSS KiB samples as (seconds, KiB));
    the timings carry the peak (VmHWM KiB) as read before quitting."""
    import pty
    import fcntl
    import struct
    import termios
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        os.execvp("ip", ["ip", "netns", "exec", ns] + cmd)
    written = bytearray()
    samples = []
    start = time.monotonic()
    next_key = keys_every
    # with Tabs, samples fall midway between two (each shows one screen)
    next_sample = keys_every / 2 if keys_every and sample_at else 0.0
    status = usage = hwm = None
    while status is None:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                written.extend(os.read(fd, 1 << 16))
            except OSError:
                pass
        now = time.monotonic() - start
        if keys_every and now >= next_key:
            os.write(fd, b"\t")
            next_key += keys_every
        if quit_after and now >= quit_after:
            hwm = vm_rss_kib(pid, "VmHWM")
            os.write(fd, b"q")
            quit_after = None
            # what it holds while it runs, not while it exits
            sample_at = None
        if sample_at and now >= next_sample:
            rss = vm_rss_kib(pid)
            if rss is not None:
                samples.append((now, rss))
            next_sample += sample_at
        done, code, used = os.wait4(pid, os.WNOHANG)
        if done:
            status, usage = code, used
        elif now > timeout:
            os.kill(pid, signal.SIGKILL)
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError:
            break
        if not chunk:
            break
        written.extend(chunk)
    os.close(fd)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("bench: %s exited %d" % (" ".join(cmd), os.waitstatus_to_exitcode(status)))
    text = written.decode("utf-8", "replace")
    m = re.search(r"--live: (\d+) refreshes, ([\d.]+) ms collecting on average; (\d+) frames, "
                  r"([\d.]+) ms drawing on average, ([\d.]+) ms at most", text)
    if not m:
        sys.exit("bench: no -v timings from %s" % " ".join(cmd))
    timings = dict(refreshes=int(m.group(1)), collect_ms=float(m.group(2)),
                   frames=int(m.group(3)), draw_ms=float(m.group(4)),
                   draw_max_ms=float(m.group(5)), hwm_kib=hwm)
    return usage.ru_utime + usage.ru_stime, timings, samples


LIVE_VIEWS = (("Summary", ["-tan", "--summary"]),
              ("Listeners", ["-tn", "--listeners"]),
              ("Group-by", ["-tan", "--group-by", "state,local_port"]))


LIVE_SCREENS = ("Summary", "Listeners", "Ephemeral", "Group-by", "Health", "Closes")


def per_screen_rss(samples, keys_every):
    """The largest VmRSS sample taken while each screen was shown (Tab
    every `keys_every` seconds from Summary, samples midway between)."""
    most = {}
    for t, kib in samples:
        name = LIVE_SCREENS[int(t / keys_every + 1e-6) % len(LIVE_SCREENS)]
        most[name] = max(most.get(name, 0), kib)
    return [(name, most[name]) for name in LIVE_SCREENS if name in most]


def live_screen(args, nlstat, floor):
    """Issue 25's bars on the default population; returns the report's
    lines."""
    loadgen, ready = start_loadgen(args)
    ticks = 10 if args.small else 25
    rows = []
    try:
        sockets = int(subprocess.run(["ip", "netns", "exec", args.ns, floor, "tcp", "46", "shown"],
                                     stdout=subprocess.PIPE, text=True, check=True).stdout)
        log("bench: %d TCP sockets dumped" % sockets)
        for label, vargs in LIVE_VIEWS:
            repeat = ["--interval", "0.2", "--count", str(ticks)]
            tick, live, timing = Result(), Result(), []
            for _ in range(max(1, args.runs // 2)):
                once = run_once(args.ns, [nlstat] + vargs + repeat, args.timeout * ticks)
                if once is None or once[3] != 0:
                    sys.exit("bench: %s -c failed" % label)
                tick.add(once[0] / ticks, once[1] / ticks, once[2])
                cpu, timings, _ = live_in_pty(args.ns, [nlstat, "--live", "-v"] + vargs + repeat,
                                              timeout=args.timeout * ticks)
                live.add(0, cpu / ticks, 0)
                timing.append(timings)
            log("bench: %s: -c tick cpu %s, --live refresh cpu %s, frames %s" %
                (label, fmt_s(tick.cpus), fmt_s(live.cpus), timing))
            rows.append((label, vargs, tick, live, timing))
        minutes = args.live_minutes
        cmd = [nlstat, "--live", "-v", "-n", "--info", "--events"]
        samples = []
        if minutes > 0:
            log("bench: %s for %g minutes, Tab every 5 s" % (" ".join(cmd), minutes))
            _, long_timing, samples = live_in_pty(args.ns, cmd, keys_every=5.0, sample_at=5.0,
                                                  quit_after=minutes * 60,
                                                  timeout=minutes * 60 + 300)
    finally:
        loadgen.stdin.close()
        loadgen.wait()
    lines = report_head("## The live screen (issue 25)\n", args, ready, sockets)
    lines[-2:] = ["| view | `-c` tick CPU s | `--live` refresh CPU s | ratio | frame ms avg | "
                  "frame ms max |", "|---|---|---|---|---|---|"]
    for label, vargs, tick, live, timing in rows:
        lines.append("| %s (`%s`) | %s | %s | %s | %.2f | %.2f |" %
                     (label, " ".join(vargs), fmt_s(tick.cpus), fmt_s(live.cpus),
                      ratio(live.cpu(), tick.cpu()),
                      statistics.median(t["draw_ms"] for t in timing),
                      max(t["draw_max_ms"] for t in timing)))
    lines.append("")
    lines.append("- each `-c` tick: `nlstat VIEW --interval 0.2 --count %d` (CPU from wait4 / "
                 "%d); each refresh: `nlstat --live -v VIEW --interval 0.2 --count %d` in a "
                 "200 x 50 pty (CPU from wait4 / %d); frame times from `-v`" %
                 (ticks, ticks, ticks, ticks))
    if samples:
        first = next((r for t, r in samples if t >= 10), samples[0][1])
        lines.append("- `%s` for %g minutes (then `q`), every screen in turn (Tab every 5 s): VmRSS %.1f MiB "
                     "after 10 s, %.1f MiB at the end, %.1f MiB at most; %d refreshes, "
                     "frames %.2f ms on average, %.2f ms at most" %
                     (" ".join(["nlstat"] + cmd[1:]), minutes, first / 1024,
                      samples[-1][1] / 1024, max(r for _, r in samples) / 1024,
                      long_timing["refreshes"], long_timing["draw_ms"],
                      long_timing["draw_max_ms"]))
        lines.append("- the same run's peak (VmHWM) before `q`: %s MiB; VmRSS at most per screen "
                     "(sampled every 5 s, midway between two Tabs): %s" %
                     ("%.1f" % (long_timing["hwm_kib"] / 1024) if long_timing["hwm_kib"] else "-",
                      ", ".join("%s %.1f MiB" % (name, kib / 1024)
                                for name, kib in per_screen_rss(samples, 5.0))))
    return lines


def build_baseline(rev):
    """The nlstat binary of `rev`: a path to a binary as it is, else the
    git revision built in a detached worktree of its own (removed after)."""
    if os.path.isfile(rev):
        return os.path.abspath(rev)
    tree = os.path.join(target_dir(), "baseline-src")
    subprocess.run(["git", "worktree", "remove", "--force", tree], cwd=REPO,
                   stderr=subprocess.DEVNULL)
    subprocess.run(["git", "worktree", "add", "--detach", tree, rev], cwd=REPO, check=True)
    target = os.path.join(target_dir(), "baseline")
    try:
        log("bench: cargo build --release (baseline %s)" % rev)
        subprocess.run(["cargo", "build", "--release", "--locked", "--bin", "nlstat",
                        "--target-dir", target], cwd=tree, check=True)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", tree], cwd=REPO)
    return os.path.join(target, "release", "nlstat")


def paired(args, nlstat, baseline):
    """Each nlstat case with this build and the baseline in turn, on the
    default population; returns the report's lines."""
    labels = args.case or PAIRED_CASES
    cases = [c for c in CASES if c[0] in labels and c[1] is not None]
    if len(cases) != len(labels):
        sys.exit("bench: --baseline pairs nlstat cases only; labels: %s" %
                 ", ".join(c[0] for c in CASES if c[1] is not None))
    loadgen, ready = start_loadgen(args)
    rows = []
    try:
        port = pick_listener(args.ns, nlstat)
        for label, nargs, _, _ in cases:
            nargs = [arg.replace("{PORT}", port) for arg in nargs]
            new, old, ratios = Result(), Result(), []
            for binary in (nlstat, baseline):  # warm-up of both
                run_once(args.ns, [binary] + nargs, args.timeout)
            for i in range(args.runs):
                order = [(nlstat, new), (baseline, old)]
                if i % 2:
                    order.reverse()
                walls = {}
                for binary, result in order:
                    one = run_once(args.ns, [binary] + nargs, args.timeout)
                    if one is None:
                        sys.exit("bench: %s %s timed out" % (binary, label))
                    result.add(*one[:3])
                    walls[binary] = one[0]
                ratios.append(walls[nlstat] / walls[baseline])
            log("bench: %-30s baseline %s, this %s, ratio %.2f" %
                (label, fmt_s(old.walls), fmt_s(new.walls), statistics.median(ratios)))
            rows.append((label, old, new, ratios))
    finally:
        loadgen.stdin.close()
        loadgen.wait()
    lines = ["## This build against a baseline, paired\n",
             "- machine: nproc %d, kernel %s, %s" %
             (os.cpu_count(), platform.release(), platform.machine()),
             "- population (loadgen READY): " +
             " ".join("%s=%s" % (k, ready[k]) for k in sorted(ready)),
             "- baseline: `%s` (%s); this build: `%s`" % (args.baseline, baseline, nlstat),
             "- command line: %s" % " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
             "- %d pairs per case after a warm-up of each, the order alternating pair by pair; "
             "`ip netns exec %s CMD >/dev/null`" % (args.runs, args.ns),
             "",
             "| case | baseline wall s median (min–max) | this wall s median (min–max) | "
             "wall this/baseline, per-pair median (min–max) | CPU s baseline / this | "
             "peak RSS MiB baseline / this |",
             "|---|---|---|---|---|---|"]
    for label, old, new, ratios in rows:
        lines.append("| %s | %s | %s | %.2f (%.2f–%.2f) | %.3f / %.3f | %.1f / %.1f |" %
                     (label, fmt_s(old.walls), fmt_s(new.walls), statistics.median(ratios),
                      min(ratios), max(ratios), old.cpu(), new.cpu(),
                      max(old.rss) / 1024, max(new.rss) / 1024))
    return lines


def pick_listener(ns, nlstat):
    """The port of one IPv6 listener of its own port, held by the process
    /proc lists last: `-p` with a filter reads processes in /proc order
    until it has found its rows' owners, so this owner is its worst case."""
    out = subprocess.run(["ip", "netns", "exec", ns, nlstat, "-6tlnp"], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        fields = line.split()
        owner = fields[-1].split("/")[0]
        if owner.isdigit():
            rows.append((int(owner), fields[3].rsplit(":", 1)[1]))
    ports = [p for _, p in rows]
    unique = [(pid, p) for pid, p in rows if ports.count(p) == 1]
    return max(unique)[1] if unique else "22"


def host_facts():
    """What else on this machine the measurements share: -p walks every
    process' fds (the pid namespace is the host's), and with a shared hash a
    dump walks every namespace's TCP sockets."""
    fds = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                fds += len(os.listdir("/proc/%s/fd" % pid))
            except OSError:
                pass
    tcp_alloc = "?"
    with open("/proc/net/sockstat") as f:
        for line in f:
            if line.startswith("TCP:"):
                fields = line.split()
                tcp_alloc = fields[fields.index("alloc") + 1]
    return {"fds": fds, "tcp_alloc": tcp_alloc}


def target_dir():
    if os.environ.get("CARGO_TARGET_DIR"):
        return os.environ["CARGO_TARGET_DIR"]
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                         cwd=REPO, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)["target_directory"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--small", action="store_true", help="a quick smoke run")
    parser.add_argument("--ns", default="nlstat-bench")
    parser.add_argument("--tcp", type=int)
    parser.add_argument("--tcp6", type=int)
    parser.add_argument("--listen", type=int)
    parser.add_argument("--udp", type=int)
    parser.add_argument("--unix", type=int)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--runs", type=int, help="runs per fast command (default 5, small 3)")
    parser.add_argument("--slow-runs", type=int, default=2,
                        help="runs for a command slower than 5 s (default 2)")
    parser.add_argument("--timeout", type=float, help="per command run (default 180 s)")
    parser.add_argument("--ticks", type=int, default=5, help="ticks of nlstat -c (default 5)")
    parser.add_argument("--duration", type=float, default=3600,
                        help="loadgen's own deadline (default 3600 s)")
    parser.add_argument("--shared-hash", action="store_true",
                        help="let the namespace share the host's TCP/UDP hash tables (dumps "
                        "then also walk every other namespace's sockets)")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--no-frontend", action="store_true",
                        help="skip the load-balancer front population (frontend-load.py)")
    parser.add_argument("--only",
                        help="comma-separated tools: nlstat,ss,netstat,floor,netstat2")
    parser.add_argument("--case", action="append",
                        help="run only this case (its label, e.g. -tanp; repeatable); `nlstat "
                        "-c` runs only for the selected labels, and --serve is skipped")
    parser.add_argument("--no-netns", action="store_true",
                        help="skip --all-netns over 200 namespaces (scripts/netns-scale.py)")
    parser.add_argument("--out", help="also write the markdown report here")
    parser.add_argument("--events", action="store_true",
                        help="measure --events under a close storm instead (see above)")
    parser.add_argument("--baseline", metavar="REV",
                        help="pair this build with REV (a git revision or an nlstat binary) "
                        "on the nlstat cases (see above)")
    parser.add_argument("--continuous", action="store_true",
                        help="measure --interval, --record and --replay instead (see above)")
    parser.add_argument("--rss-ticks", type=int, default=1000,
                        help="ticks of the --continuous RSS run (default 1000)")
    parser.add_argument("--kernel-counts", action="store_true",
                        help="issue 24: views from the BPF socket iterators against sock_diag")
    parser.add_argument("--live", action="store_true",
                        help="issue 25: --live refreshes against -c ticks, frame times, RSS")
    parser.add_argument("--live-minutes", type=float, default=10,
                        help="with --live, how long the RSS run lasts (default 10; 0: none)")
    parser.add_argument("--many-keys", action="store_true",
                        help="only --group-by with many distinct keys against -tan (see above)")
    args = parser.parse_args()
    if args.baseline:
        args.only = args.only or "nlstat,floor"
    if args.many_keys:
        args.only = args.only or "nlstat,floor"
        for key in ("tcp6", "listen", "udp", "unix"):
            setattr(args, key, 0 if getattr(args, key) is None else getattr(args, key))
        if args.runs is None:
            args.runs = 7
    if args.small:
        defaults = dict(tcp=2000, tcp6=200, listen=20, udp=100, unix=500, workers=2, runs=3,
                        timeout=60)
    else:
        defaults = dict(tcp=200_000, tcp6=20_000, listen=100, udp=1000, unix=20_000,
                        workers=20, runs=5, timeout=180)
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    tools = set((args.only or "nlstat,ss,netstat,floor,netstat2").split(","))
    cases = [c for c in CASES if not args.case or c[0] in args.case]
    if args.case and len(cases) != len(set(args.case)):
        sys.exit("bench: unknown --case; labels: %s" % ", ".join(c[0] for c in CASES))
    continuous_cases = [c for c in CONTINUOUS if not args.case or " ".join(c[0]) in args.case]
    if os.geteuid() != 0:
        sys.exit("bench: needs root (ip netns)")

    if not args.skip_build:
        # --examples alone would build the examples but not the nlstat binary
        log("bench: cargo build --release --bins --examples")
        subprocess.run(["cargo", "build", "--release", "--bins", "--examples"], cwd=REPO,
                       check=True)
    release = os.path.join(target_dir(), "release")
    netstat2 = None
    if "netstat2" in tools:
        # its own workspace and lock file; built into nlstat's target dir
        n2_target = os.path.join(target_dir(), "netstat2-pids")
        if not args.skip_build:
            log("bench: cargo build --release (scripts/netstat2-pids)")
            subprocess.run(["cargo", "build", "--release", "--manifest-path",
                            os.path.join(HERE, "netstat2-pids", "Cargo.toml"), "--target-dir",
                            n2_target], check=True)
        netstat2 = os.path.join(n2_target, "release", "netstat2-pids")
    nlstat = os.path.join(release, "nlstat")
    floor = os.path.join(release, "examples", "kernel_dump")
    ss, netstat = "/usr/bin/ss", "/usr/bin/netstat"
    for path in (nlstat, floor, ss, netstat, "/usr/bin/time") + ((netstat2,) if netstat2 else ()):
        if not os.access(path, os.X_OK):
            sys.exit("bench: %s is missing" % path)
    if (args.many_keys or args.baseline or args.events or args.continuous or args.kernel_counts
            or args.live):
        if args.live:
            lines = live_screen(args, nlstat, floor)
        elif args.kernel_counts:
            lines = kernel_counts(args, nlstat, floor)
        elif args.continuous:
            lines = continuous_modes(args, nlstat, floor)
        elif args.events:
            lines = events_storm(args, nlstat, os.path.join(release, "examples", "churn"))
        elif args.many_keys:
            lines = many_keys(args, nlstat, floor)
        else:
            lines = paired(args, nlstat, build_baseline(args.baseline))
        report = "\n".join(lines) + "\n"
        print(report)
        if args.out:
            with open(args.out, "w") as f:
                f.write(report)
        return
    host = host_facts()

    loadgen, ready = start_loadgen(args)
    rows = []
    try:
        port = pick_listener(args.ns, nlstat)
        log("bench: filter cases use sport = :%s" % port)
        counts = {}
        for _, _, _, dump in cases:
            key = " ".join(dump)
            if key not in counts:
                out = subprocess.run(["ip", "netns", "exec", args.ns, floor] + dump,
                                     stdout=subprocess.PIPE, text=True, check=True).stdout
                counts[key] = int(out.strip())
        log("bench: kernel record counts: %s" % counts)
        overhead = measure(args.ns, ["true"], args.runs, args.slow_runs, args.timeout)
        log("bench: ip netns exec true: %s s" % fmt_s(overhead.walls))
        for label, nargs, ssargs, dump in cases:
            per_tool = {}
            for tool, cmd in (("nlstat", [nlstat] + (nargs or [])),
                              ("ss", [ss] + (ssargs or [])),
                              ("netstat", [netstat] + (nargs or [])),
                              ("netstat2", [netstat2] + NETSTAT2.get(label, [])),
                              ("floor", [floor] + dump)):
                if tool not in tools or (nargs is None and tool != "floor"):
                    continue
                if tool == "netstat2" and label not in NETSTAT2:
                    continue
                if (label in NO_NETSTAT and tool == "netstat") or (label in NO_SS and tool == "ss"):
                    continue
                cmd = [arg.replace("{PORT}", port) for arg in cmd]
                log("bench: %-22s %-8s ..." % (label, tool))
                r = measure(args.ns, cmd, args.runs, args.slow_runs, args.timeout)
                per_tool[tool] = r
                log("bench: %-22s %-8s wall %s cpu %s%s" %
                    (label, tool, fmt_s(r.walls), fmt_s(r.cpus),
                     " TIMEOUT" if r.timeout else ""))
            rows.append((label, " ".join(dump), per_tool))
        served = None
        if "nlstat" in tools and not args.case:
            log("bench: nlstat --serve, 100 scrapes ...")
            served = serve_memory(args.ns, nlstat)
        ticks = {}
        if "nlstat" in tools:
            for cargs, _ in continuous_cases:
                log("bench: nlstat -c %s for %d ticks ..." % (" ".join(cargs), args.ticks))
                ticks[" ".join(cargs)] = continuous(args.ns, nlstat, cargs, args.ticks,
                                                    max(args.timeout, 60) * 3)
    finally:
        loadgen.stdin.close()
        loadgen.wait()

    # A load balancer's front: outbound connections to backends in another
    # namespace and a few listeners of its own (scripts/frontend-load.py),
    # where --listeners asks the kernel for its listeners' ports only.
    front_rows = []
    if "nlstat" in tools and not args.no_frontend:
        front = subprocess.Popen([sys.executable, os.path.join(HERE, "frontend-load.py"),
                                  "--connections", str(args.tcp), "--duration", "1800"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            line = front.stdout.readline()
            log("bench: frontend-load " + line.strip())
            if line.startswith("READY"):
                for label, cmd in (("-tan", [nlstat, "-tan"]),
                                   ("--listeners", [nlstat, "--listeners"])):
                    r = measure("nlfront", cmd, args.runs, args.slow_runs, args.timeout)
                    log("bench: front %-12s wall %s" % (label, fmt_s(r.walls)))
                    front_rows.append((label, r))
        finally:
            front.stdin.close()
            front.wait()

    # --all-netns over many namespaces against shell loops of ip netns exec
    netns_lines = []
    if "nlstat" in tools and not args.no_netns:
        import importlib.util
        spec = importlib.util.spec_from_file_location("netns_scale",
                                                      os.path.join(HERE, "netns-scale.py"))
        netns_scale = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(netns_scale)
        netns_args = argparse.Namespace(namespaces=20 if args.small else 200, sockets=1000,
                                        runs=3 if args.small else 5, shared_hash=False)
        log("bench: --all-netns over %d namespaces" % netns_args.namespaces)
        netns_lines = netns_scale.measure(netns_args, nlstat,
                                          os.path.join(os.path.dirname(nlstat), "examples",
                                                       "netns_floor"))

    lines = []
    lines.append("## nlstat vs ss vs netstat\n")
    lines.append("- machine: nproc %d, kernel %s, %s" %
                 (os.cpu_count(), platform.release(), platform.machine()))
    lines.append("- population (loadgen READY): " +
                 " ".join("%s=%s" % (k, ready[k]) for k in
                          ("workers", "tcp", "tcp6", "listen", "udp", "unix", "sockets")))
    lines.append("- before loadgen started, host-wide: %d open fds in /proc/*/fd (what -p "
                 "walks besides loadgen's), %s TCP sockets allocated in all namespaces; "
                 "namespace with %s hash tables" %
                 (host["fds"], host["tcp_alloc"], "shared" if args.shared_hash else
                  "its own (--private-hash)"))
    lines.append("- kernel records per dump: " +
                 ", ".join("%s: %d" % (k, v) for k, v in counts.items()))
    lines.append("- command line: %s" % " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]))
    lines.append("- PORT in the filter cases: %s (an IPv6 listener of its own port, held by the "
                 "process /proc lists last: the worst case for a filtered -p)" % port)
    lines.append("- every command runs as `ip netns exec %s CMD >/dev/null`; that wrapper "
                 "alone (`true`) takes %s s wall, %s s CPU" %
                 (args.ns, fmt_s(overhead.walls), fmt_s(overhead.cpus)))
    lines.append("- fast commands: 1 warm-up + %d runs; commands over 5 s: %d runs; "
                 "timeout %d s per run" % (args.runs, args.slow_runs, args.timeout))
    lines.append("")
    lines.append("| case | tool | runs | wall s median (min–max) | CPU s median (min–max) "
                 "| peak RSS MiB |")
    lines.append("|---|---|---|---|---|---|")
    for label, dump, per_tool in rows:
        for tool, r in per_tool.items():
            name = "floor (`kernel_dump %s`)" % dump if tool == "floor" else tool
            if tool == "netstat2":
                name = "netstat2 crate (`netstat2-pids%s`)" % (
                    " --no-pids" if NETSTAT2.get(label) else "")
            if r.timeout and not r.walls:
                lines.append("| %s | %s | - | timeout (>%d s) | - | - |" %
                             (label, name, args.timeout))
                continue
            note = " (a run timed out)" if r.timeout else ""
            note += " (exit %s)" % r.failed if r.failed else ""
            lines.append("| %s | %s | %d | %s%s | %s | %.1f |" %
                         (label, name, len(r.walls), fmt_s(r.walls), note, fmt_s(r.cpus),
                          max(r.rss) / 1024))
    lines.append("")
    lines.append("Ratios of medians (below 1: nlstat is faster / leaner):\n")
    lines.append("| case | wall nlstat/ss | wall nlstat/netstat | wall nlstat/floor "
                 "| CPU nlstat/ss | CPU nlstat/netstat | CPU nlstat/floor |")
    lines.append("|---|---|---|---|---|---|---|")
    for label, _, per_tool in rows:
        n = per_tool.get("nlstat")
        if n is None:
            continue

        def get(tool, what):
            r = per_tool.get(tool)
            if r is None:
                return None
            if r.timeout and not r.walls:
                return float("inf")
            return r.wall() if what == "wall" else r.cpu()

        cells = []
        for what in ("wall", "cpu"):
            for tool in ("ss", "netstat", "floor"):
                other = get(tool, what)
                mine = n.wall() if what == "wall" else n.cpu()
                cells.append("< %.3f (timeout)" % (mine / args.timeout) if other == float("inf")
                             else ratio(mine, other))
        lines.append("| %s | %s |" % (label, " | ".join(cells)))
    own = [(label, per_tool["nlstat"], plain) for label, _, per_tool in rows
           for plain in [OWN_CASES.get(label)] if plain and "nlstat" in per_tool]
    if own:
        lines.append("")
        lines.append("nlstat's own options against the same table as text (same run):\n")
        lines.append("| case | against | wall ratio | CPU ratio | peak RSS MiB |")
        lines.append("|---|---|---|---|---|")
        for label, r, plain in own:
            base = next((p["nlstat"] for l, _, p in rows if l == plain and "nlstat" in p), None)
            lines.append("| nlstat %s | nlstat %s | %s | %s | %.1f |" %
                         (label, plain, ratio(r.wall(), base.wall() if base else None),
                          ratio(r.cpu(), base.cpu() if base else None), max(r.rss) / 1024))
    by_label = {label: per_tool for label, _, per_tool in rows}
    tanp, tan = by_label.get("-tanp", {}), by_label.get("-tan", {})
    if "nlstat" in tanp and "nlstat" in tan:
        lines.append("")
        lines.append("`-p`, the owner map (same run; `-tanp` takes the BPF task_file iterator "
                     "unless it cannot load):\n")
        lines.append("| measure | value |")
        lines.append("|---|---|")
        mine = tanp["nlstat"]
        lines.append("| wall nlstat -tanp / nlstat -tan | %s |" % ratio(mine.wall(),
                                                                     tan["nlstat"].wall()))
        proc = by_label.get("-tanp --pid-source proc", {}).get("nlstat")
        if proc:
            lines.append("| wall nlstat -tanp --pid-source proc / nlstat -tan | %s |" %
                         ratio(proc.wall(), tan["nlstat"].wall()))
            lines.append("| wall nlstat -tanp / nlstat -tanp --pid-source proc | %s |" %
                         ratio(mine.wall(), proc.wall()))
        if "netstat2" in tanp:
            lines.append("| wall nlstat -tanp / netstat2 crate with pids | %s |" %
                         ratio(mine.wall(), tanp["netstat2"].wall()))
        if "netstat2" in tan:
            lines.append("| wall nlstat -tan / netstat2 crate without pids | %s |" %
                         ratio(tan["nlstat"].wall(), tan["netstat2"].wall()))
        lines.append("| peak RSS nlstat -tanp | %.1f MiB |" % (max(mine.rss) / 1024))
        if proc:
            lines.append("| peak RSS nlstat -tanp --pid-source proc | %.1f MiB |" %
                         (max(proc.rss) / 1024))
    if served:
        lines.append("")
        lines.append("`nlstat --serve --min-interval 0`, %d scrapes one after another in %.1f s: "
                     "peak RSS (VmHWM) %.1f MiB after 1 scrape, %.1f MiB after 10, %.1f MiB "
                     "after 100." % (100, served["seconds"], served[1] / 1024, served[10] / 1024,
                                     served[100] / 1024))
    if front_rows:
        lines.append("")
        lines.append("Load-balancer front (scripts/frontend-load.py: %d outbound connections to "
                     "another namespace, a few listeners of its own), `ip netns exec nlfront`:\n"
                     % args.tcp)
        lines.append("| command | runs | wall s median (min–max) | CPU s median | peak RSS MiB "
                     "| wall / `nlstat -tan` |")
        lines.append("|---|---|---|---|---|---|")
        base = front_rows[0][1].wall()
        for label, r in front_rows:
            lines.append("| nlstat %s | %d | %s | %.3f | %.1f | %s |" %
                         (label, len(r.walls), fmt_s(r.walls), r.cpu(), max(r.rss) / 1024,
                          ratio(r.wall(), base)))
    if netns_lines:
        lines.append("")
        lines.extend(netns_lines)
    if ticks:
        lines.append("")
        lines.append("`nlstat -c` over %d ticks (CPU of each tick from /proc/PID/stat, "
                     "%d ms resolution; later = mean of ticks 2..%d):\n" %
                     (args.ticks, 1000 // CLK_TCK, args.ticks))
        lines.append("| command | first tick CPU s | later tick CPU s | one-shot case | one-shot "
                     "CPU s | later tick / one-shot |")
        lines.append("|---|---|---|---|---|---|")
        for (cargs_list, case), (cargs, value) in zip(continuous_cases, ticks.items()):
            oneshot = next((p["nlstat"].cpu() for label, _, p in rows
                            if label == case and "nlstat" in p), None)
            if value is None:
                lines.append("| nlstat -c %s | timeout | - | %s | - | - |" % (cargs, case))
                continue
            first, later = value
            lines.append("| nlstat -c %s | %.3f | %.3f | nlstat %s | %s | %s |" %
                         (cargs, first, later, case, "%.3f" % oneshot if oneshot else "-",
                          ratio(later, oneshot)))
    try:
        os.unlink("/tmp/nlstat-bench-rss.%d" % os.getpid())
    except OSError:
        pass
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report)


if __name__ == "__main__":
    main()
