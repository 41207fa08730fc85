#!/usr/bin/env python3
"""Time `nlstat --all-netns -tan` against a shell loop of
`ip netns exec NS nlstat -tan` (and of netstat) over many namespaces.

Creates --namespaces namespaces (nlns-0, nlns-1, ...), each with a
process holding --sockets loopback TCP sockets (half of them accepted
ends), times the three commands --runs times each (medians), prints a
markdown table, then stops the holders and deletes the namespaces.
Root only; traffic stays on each namespace's loopback.

  sudo scripts/netns-scale.py --namespaces 200 --sockets 1000
"""
import argparse, os, statistics, subprocess, sys, time

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


def timed(cmd, runs):
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        walls.append(time.perf_counter() - start)
    return statistics.median(walls), min(walls), max(walls)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--namespaces", type=int, default=200)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--nlstat", default=os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "target/release/nlstat"))
    parser.add_argument("--shared-hash", action="store_true",
                        help="let the namespaces share the host's TCP hash table (then every "
                        "namespace's dump walks every namespace's sockets)")
    args = parser.parse_args()
    names = ["nlns-%d" % i for i in range(args.namespaces)]
    holders = []
    sysctl = "/proc/sys/net/ipv4/tcp_child_ehash_entries"
    saved = None
    if not args.shared_hash and os.path.exists(sysctl):
        # each namespace created now gets an established hash of its own
        saved = open(sysctl).read().strip()
        open(sysctl, "w").write(str(max(1024, args.sockets * 2)))
    try:
        for name in names:
            subprocess.run(["ip", "netns", "add", name], check=True)
            subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
            p = subprocess.Popen(["ip", "netns", "exec", name, sys.executable, "-c", HOLDER,
                                  str(args.sockets)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
            holders.append(p)
        for p in holders:
            assert p.stdout.readline().strip() == "READY"
        if saved is not None:
            open(sysctl, "w").write(saved)
            saved = None
        loop = " ".join(names)
        rows = [
            ("nlstat --all-netns -tan", [args.nlstat, "--all-netns", "-tan"]),
            ("for NS: ip netns exec NS nlstat -tan",
             ["sh", "-c", "for n in %s; do ip netns exec $n %s -tan; done" % (loop, args.nlstat)]),
            ("for NS: ip netns exec NS netstat -tan",
             ["sh", "-c", "for n in %s; do ip netns exec $n netstat -tan; done" % loop]),
        ]
        results = [(label, timed(cmd, args.runs)) for label, cmd in rows]
        base = results[0][1][0]
        print("%d namespaces x %d sockets, %d runs each (wall s, median (min-max)):\n"
              % (args.namespaces, args.sockets, args.runs))
        print("| command | wall s | nlstat --all-netns / this |")
        print("|---|---|---|")
        for label, (med, lo, hi) in results:
            print("| %s | %.3f (%.3f-%.3f) | %.3f |" % (label, med, lo, hi, base / med))
    finally:
        if saved is not None:
            open(sysctl, "w").write(saved)
        for p in holders:
            p.stdin.close()
        for p in holders:
            p.wait()
        for name in names:
            subprocess.run(["ip", "netns", "del", name], stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
