#!/usr/bin/env python3
"""A load balancer's view of its backends: two namespaces joined by a veth
pair, the clients (outbound connections) in FRONT, the servers in BACK.

`--listeners` on FRONT then sees few listeners and many connections to
ports it does not listen on: the case where lowering the listeners' ports
into the kernel request pays. Addresses are ULA IPv6 inside the two
namespaces this script creates; it holds the population until stdin
closes or --duration passes, then deletes both namespaces.

  sudo scripts/frontend-load.py --connections 200000
  ip netns exec nlfront nlstat --listeners     # in another shell
"""
import argparse, os, select, socket, subprocess, sys, time

FRONT, BACK = "nlfront", "nlback"
FRONT_ADDR, BACK_ADDR = "fd77::1", "fd77::2"
PER_PROCESS = 19000


def sh(*args):
    subprocess.run(list(args), check=True)


def setup(listeners):
    for ns in (FRONT, BACK):
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "link", "add", "nlfr0", "netns", FRONT, "type", "veth", "peer", "name", "nlbk0",
       "netns", BACK)
    for ns, dev, addr in ((FRONT, "nlfr0", FRONT_ADDR), (BACK, "nlbk0", BACK_ADDR)):
        sh("ip", "-n", ns, "addr", "add", addr + "/64", "dev", dev, "nodad")
        sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_local_port_range=1024 65535")
        sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.core.somaxconn=65535")


def worker(role, port, count):
    """Run in a namespace: BACK listens on `port` and accepts `count`;
    FRONT connects `count` times to it. Prints READY, holds until stdin closes."""
    held = []
    if role == "back":
        s = socket.socket(socket.AF_INET6)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((BACK_ADDR, port))
        s.listen(65535)
        print("LISTENING", flush=True)
        while len(held) < count:
            held.append(s.accept()[0])
    else:
        # a few idle listeners of the load balancer's own
        for p in range(8000, 8004):
            l = socket.socket(socket.AF_INET6)
            l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                l.bind((FRONT_ADDR, p + port))
                l.listen(128)
                held.append(l)
            except OSError:
                pass
        for _ in range(count):
            c = socket.socket(socket.AF_INET6)
            c.connect((BACK_ADDR, port))
            held.append(c)
    print("READY", flush=True)
    sys.stdin.read()


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=200000)
    parser.add_argument("--duration", type=float, default=1200)
    args = parser.parse_args()
    setup(0)
    procs = []
    remaining, port = args.connections, 9000
    while remaining > 0:
        n = min(PER_PROCESS, remaining)
        back = subprocess.Popen(["ip", "netns", "exec", BACK, sys.executable, __file__, "--worker",
                                 "back", str(port), str(n)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert back.stdout.readline().strip() == "LISTENING"
        front = subprocess.Popen(["ip", "netns", "exec", FRONT, sys.executable, __file__,
                                  "--worker", "front", str(port), str(n)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        procs += [back, front]
        remaining -= n
        port += 1
    for p in procs:
        assert p.stdout.readline().strip() == "READY"
    print("READY connections=%d" % args.connections, flush=True)
    deadline = time.time() + args.duration
    while time.time() < deadline:
        r, _, _ = select.select([sys.stdin], [], [], 1.0)
        if r and not sys.stdin.read(1):
            break
    for p in procs:
        p.stdin.close()
    for p in procs:
        p.wait()
    for ns in (FRONT, BACK):
        subprocess.run(["ip", "netns", "del", ns])


if __name__ == "__main__":
    main()
