#!/usr/bin/env python3
"""Time `nlstat --all-netns -tan` against shell loops of
`ip netns exec NS nlstat -tan` and `ip netns exec NS netstat -tan` over
many namespaces, beside the floor (examples/netns_floor: every namespace
joined and dumped, nothing parsed or printed).

Creates --namespaces namespaces (nlns-0, nlns-1, ...), each with a
process holding --sockets loopback TCP sockets (half of them accepted
ends), runs the commands in turn --runs times (so a drift of the machine's
speed touches all of them alike), prints a markdown table with medians and
the ratios per run, then stops the holders and deletes the namespaces.
Root only; traffic stays on each namespace's loopback. scripts/bench.py
runs it too (unless --no-netns).

  sudo scripts/netns-scale.py --namespaces 200 --sockets 1000
"""
import argparse
import os
import resource
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

HOLDER = r'''
import socket, sys
n = int(sys.argv[1]) // 2
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(n + 8)
held = [l]
for _ in range(n):
    c = socket.create_connection(l.getsockname()); held += [c, l.accept()[0]]
print("READY", flush=True)
sys.stdin.read()
'''


def timed(cmd):
    """Wall and CPU seconds (children's user + system) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


class Population:
    """The namespaces and their holders; `close()` removes them all."""

    def __init__(self, namespaces, sockets, shared_hash):
        self.names = ["nlns-%d" % i for i in range(namespaces)]
        self.holders = []
        sysctl = "/proc/sys/net/ipv4/tcp_child_ehash_entries"
        saved = None
        if not shared_hash and os.path.exists(sysctl):
            # each namespace created now gets an established hash of its own
            with open(sysctl) as f:
                saved = f.read().strip()
            with open(sysctl, "w") as f:
                f.write(str(max(1024, sockets * 2)))
        try:
            for name in self.names:
                subprocess.run(["ip", "netns", "add", name], check=True)
                subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
                self.holders.append(subprocess.Popen(
                    ["ip", "netns", "exec", name, sys.executable, "-c", HOLDER, str(sockets)],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
            for p in self.holders:
                assert p.stdout.readline().strip() == "READY"
        except BaseException:
            self.close()
            raise
        finally:
            if saved is not None:
                with open(sysctl, "w") as f:
                    f.write(saved)

    def close(self):
        for p in self.holders:
            p.stdin.close()
        for p in self.holders:
            p.wait()
        self.holders = []
        for name in self.names:
            subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL)


def measure(args, nlstat, floor):
    """Run the cases in turn; return the markdown lines of the report."""
    population = Population(args.namespaces, args.sockets, args.shared_hash)
    try:
        loop = " ".join(population.names)
        cases = [
            ("nlstat --all-netns -tan", [nlstat, "--all-netns", "-tan"]),
            ("floor: every namespace dumped, nothing printed (`netns_floor both`)",
             [floor, "both"]),
            ("for NS: ip netns exec NS nlstat -tan",
             ["sh", "-c", "for n in %s; do ip netns exec $n %s -tan; done" % (loop, nlstat)]),
            ("for NS: ip netns exec NS netstat -tan",
             ["sh", "-c", "for n in %s; do ip netns exec $n netstat -tan; done" % loop]),
            ("nlstat --all-netns -tanp", [nlstat, "--all-netns", "-tanp"]),
            ("nlstat --all-netns -tan --group-by netns,state",
             [nlstat, "--all-netns", "-tan", "--group-by", "netns,state"]),
        ]
        results = {label: [] for label, _ in cases}
        for _ in range(args.runs + 1):  # the first round warms caches up
            for label, cmd in cases:
                results[label].append(timed(cmd))
        for label in results:
            results[label] = results[label][1:]
    finally:
        population.close()
    first = cases[0][0]

    def med(label, i):
        return statistics.median(r[i] for r in results[label])

    lines = ["%d namespaces x %d loopback TCP sockets (%s hash tables), %d runs of each "
             "command in turn after a warm-up round; `%s`:\n"
             % (args.namespaces, args.sockets, "shared" if args.shared_hash else "private",
                args.runs, " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:])),
             "| command | wall s median (min-max) | CPU s median | nlstat --all-netns -tan / "
             "this, wall (median of per-run ratios) |",
             "|---|---|---|---|"]
    for label, _ in cases:
        walls = [r[0] for r in results[label]]
        ratios = [a[0] / b[0] for a, b in zip(results[first], results[label])]
        lines.append("| %s | %.3f (%.3f-%.3f) | %.3f | %.3f |"
                     % (label, med(label, 0), min(walls), max(walls), med(label, 1),
                        statistics.median(ratios)))
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--nlstat", default=os.path.join(ROOT, "target/release/nlstat"))
    parser.add_argument("--floor", default=os.path.join(ROOT, "target/release/examples/netns_floor"))
    parser.add_argument("--shared-hash", action="store_true",
                        help="let the namespaces share the host's TCP hash table (then every "
                        "namespace's dump walks every namespace's sockets)")
    args = parser.parse_args()
    # a signal ends the run through the cleanup above
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    print("\n".join(measure(args, args.nlstat, args.floor)))


if __name__ == "__main__":
    main()
