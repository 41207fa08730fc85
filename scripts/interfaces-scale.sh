#!/bin/sh
# Time `netstat -ia` against `nlstat -ia` (and the -e forms) with 2 000
# interfaces in a fresh network namespace, after checking both print the
# same bytes. Needs root and iproute2. Uses dummy devices when the kernel
# has them, else 1 000 veth pairs (2 000 interfaces either way).
#
# usage: scripts/interfaces-scale.sh [COUNT]     (default 2000)
set -eu
count=${1:-2000}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/wt-target/interfaces}
cargo build --release --quiet
nlstat=$CARGO_TARGET_DIR/release/nlstat
ns=nlstat-ifscale-$$
batch=$(mktemp)
out=$(mktemp -d)
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$batch" "$out"; }
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
# Keep the namespace quiet so both tools see the same counters: no router
# solicitations (they repeat with backoff), no duplicate address probes.
ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.router_solicitations=0 \
    net.ipv6.conf.all.router_solicitations=0 \
    net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
if ip -n "$ns" link add probe0 type dummy 2>/dev/null; then
    ip -n "$ns" link del probe0
    i=0; while [ "$i" -lt "$count" ]; do
        echo "link add dummy$i type dummy"; echo "link set dummy$i up"; i=$((i + 1))
    done > "$batch"
    kind=dummy
else
    i=0; while [ "$i" -lt $((count / 2)) ]; do
        echo "link add va$i type veth peer name vb$i"
        echo "link set va$i up"; echo "link set vb$i up"; i=$((i + 1))
    done > "$batch"
    kind="veth pairs"
fi
ip -n "$ns" -batch "$batch"
n=$(ip netns exec "$ns" sh -c 'ls /sys/class/net | wc -l')
echo "namespace $ns: $n interfaces ($kind)"
# Wait (at most 30 s) until the counters stop moving (listener reports).
tries=0
ip netns exec "$ns" cat /proc/net/dev > "$out/dev.before"
while :; do
    sleep 2
    ip netns exec "$ns" cat /proc/net/dev > "$out/dev.after"
    cmp -s "$out/dev.before" "$out/dev.after" && break
    tries=$((tries + 1))
    [ "$tries" -lt 15 ] || { echo "counters still moving; outputs may differ"; break; }
    mv "$out/dev.after" "$out/dev.before"
done

run() { # tool args... -> seconds for one run, output in $out/last
    start=$(date +%s.%N)
    ip netns exec "$ns" "$@" > "$out/last"
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

for args in -ia -iae; do
    ip netns exec "$ns" /usr/bin/netstat $args > "$out/netstat"
    ip netns exec "$ns" "$nlstat" $args > "$out/nlstat"
    if cmp -s "$out/netstat" "$out/nlstat"; then same="identical output"; else same="OUTPUT DIFFERS"; fi
    for run_no in 1 2 3; do
        t_netstat=$(run /usr/bin/netstat $args)
        t_nlstat=$(run "$nlstat" $args)
        printf '%-5s run %d: netstat %ss  nlstat %ss  (%s, %s lines)\n' \
            "$args" "$run_no" "$t_netstat" "$t_nlstat" "$same" "$(wc -l < "$out/nlstat")"
    done
done
