#!/bin/sh
# Time `netstat -r[n]` against `nlstat -r[n]` on 100 000 IPv4 routes in a
# namespace of its own (needs root and iproute2). Usage:
#   scripts/routes-scale.sh [path/to/nlstat] [route count]
# Routes are /28 networks on a veth with no peer traffic; the namespace
# gets a resolver that fails at once, so `-r` measures lookups, not DNS.
set -eu
NLSTAT=${1:-target/release/nlstat}
COUNT=${2:-100000}
NS=nlstat-routes-scale-$$
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "/etc/netns/$NS"; }
trap cleanup EXIT INT TERM
ip netns add "$NS"
mkdir -p "/etc/netns/$NS"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"/etc/netns/$NS/resolv.conf"
ip -n "$NS" link set lo up
ip -n "$NS" link add v0 type veth peer name v1
ip -n "$NS" link set v0 up
ip -n "$NS" addr add 10.255.0.1/16 dev v0
python3 - "$COUNT" >"/tmp/$NS.batch" <<'PY'
import sys
n = int(sys.argv[1])
base = 11 << 24
for i in range(n):
    a = base + i * 16
    print(f"route add {a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}/28 via 10.255.0.2 dev v0")
PY
ip -n "$NS" -batch "/tmp/$NS.batch"
rm -f "/tmp/$NS.batch"
echo "routes in the main table: $(ip netns exec "$NS" sh -c 'tail -n +2 /proc/net/route | wc -l')"
# run LABEL OUTFILE COMMAND...: time one run, keep its output.
run() {
    label=$1; file=$2; shift 2
    start=$(date +%s.%N)
    ip netns exec "$NS" "$@" >"$file"
    end=$(date +%s.%N)
    printf '%-14s %8.2f s  %7d lines\n' "$label" "$(echo "$end - $start" | bc)" "$(wc -l <"$file")"
}
T=/tmp/$NS
run "netstat -rn" "$T.netstat-rn" /usr/bin/netstat -rn
run "nlstat -rn" "$T.nlstat-rn" "$NLSTAT" -rn
run "nlstat -r" "$T.nlstat-r" "$NLSTAT" -r
run "netstat -r" "$T.netstat-r" /usr/bin/netstat -r
for mode in rn r; do
    if cmp -s "$T.netstat-$mode" "$T.nlstat-$mode"; then
        echo "-$mode output identical"
    else
        echo "-$mode output DIFFERS"
    fi
done
rm -f "$T".*
