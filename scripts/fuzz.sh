#!/usr/bin/env bash
# Run every fuzz target (cargo fuzz, nightly) for a while; exit non-zero
# on any crash, hang (an input over 10 s) or memory blow-up.
#
#   scripts/fuzz.sh [-t SECONDS] [-r RUNS] [-j PARALLEL] [-s SANITIZER] [TARGET...]
#
#   -t SECONDS  time per target (default 30)
#   -r RUNS     stop a target after RUNS executions instead (with -t too:
#               whichever comes first)
#   -j N        targets run at once, one job each (default 1)
#   -s NAME     cargo fuzz's sanitizer (default address; `none` runs two to
#               three times as many inputs a second, and the parsers are
#               safe Rust, so the long passes use it)
#   TARGET...   only these (default: every target `cargo fuzz list` shows,
#               so a new target needs no change here)
#
# First every input under fuzz/regressions/TARGET (inputs that once
# crashed) is replayed; then each target runs on fuzz/corpus/TARGET, seeded
# from the recorded fixtures (scripts/fuzz-seeds.py) and kept between runs.
# A crash leaves its input in fuzz/artifacts/TARGET; the log of each run is
# fuzz/logs/TARGET.log. The summary prints the executions of each target.
set -euo pipefail
self=$(readlink -f "$0")
cd "$(dirname "$self")/../fuzz"

seconds=30 runs=0 parallel=1 sanitizer=address
while getopts "t:r:j:s:" opt; do
    case $opt in
        t) seconds=$OPTARG ;;
        r) runs=$OPTARG ;;
        j) parallel=$OPTARG ;;
        s) sanitizer=$OPTARG ;;
        *) sed -n '2,23p' "$self" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))

cargo +nightly fuzz build --sanitizer "$sanitizer"
if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
bin=target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release

mkdir -p logs corpus
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
python3 ../scripts/fuzz-seeds.py "$seeds" >/dev/null

failed=()
rm -f logs/.failed
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    cp -n "$seeds/$t"/* "corpus/$t/" 2>/dev/null || true
    if [ -d "regressions/$t" ] && [ -n "$(ls -A "regressions/$t")" ]; then
        if ! "$bin/$t" -runs=1 -timeout=10 "regressions/$t"/* >"logs/$t.regressions.log" 2>&1; then
            echo "$t: a regression input crashes again (logs/$t.regressions.log)" >&2
            failed+=("$t")
        fi
        cp -n "regressions/$t"/* "corpus/$t/"
    fi
done

run_one() {
    local t=$1 limit=()
    [ "$runs" -gt 0 ] && limit+=("-runs=$runs")
    mkdir -p "artifacts/$t"
    "$bin/$t" "corpus/$t" -max_total_time="$seconds" "${limit[@]}" -timeout=10 \
        -rss_limit_mb=2048 -close_fd_mask=3 -print_final_stats=1 \
        -artifact_prefix="artifacts/$t/" >"logs/$t.log" 2>&1
}
export -f run_one
export bin seconds runs

printf '%s\n' "${targets[@]}" |
    xargs -P "$parallel" -I{} bash -c 'run_one {} || echo {} >> logs/.failed' || true

printf '%-18s %14s %8s %s\n' target executions seconds result
for t in "${targets[@]}"; do
    log=logs/$t.log
    units=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    result=ok
    if grep -qx "$t" logs/.failed 2>/dev/null; then
        result="CRASH (see $log, artifacts/$t/)"
        failed+=("$t")
    fi
    printf '%-18s %14s %8s %s\n' "$t" "${units:-?}" "${secs:-?}" "$result"
done
rm -f logs/.failed
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing failed: ${failed[*]}" >&2
    exit 1
fi
