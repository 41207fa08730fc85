#!/usr/bin/env python3
"""The instruction-count guard (issue 23): runs benches/instructions.rs
under valgrind (iai-callgrind), compares each benchmark's instruction count
(callgrind's Ir) with benches/instructions-baseline.txt and fails when one
grew more than 5 % without the baseline being updated in the same change.

  scripts/instructions-guard.py                  # run and compare (CI)
  scripts/instructions-guard.py --update "why"   # run and rewrite the baseline
  scripts/instructions-guard.py --from FILE      # compare a saved run instead
  scripts/instructions-guard.py --save FILE      # also keep this run's output

Counts rather than wall time: on a shared 2-core machine time moves by more
than any regression worth catching; a count moves only with the code, the
compiler and the libraries it runs (see doc/performance.md, "Instruction-
count guard"). Exit status: 0 all within the limit, 1 a benchmark grew too
much (or is missing from the baseline, or the baseline is stale or has no
why line), 2 the benchmarks could not be run or read.
"""

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = "instructions"
BASELINE = ROOT / "benches" / "instructions-baseline.txt"
# Growth allowed before the guard fails, as a fraction of the baseline.
LIMIT = 0.05
LIMIT_TEXT = f"{LIMIT * 100:g} %"

HEADER = """\
# Instruction counts (callgrind's Ir) of benches/instructions.rs, one line
# per benchmark: 100 000 TCP sockets expanded from tests/fixtures/tcp.nlrec
# through each hot path, counted under valgrind by iai-callgrind. Held by
# scripts/instructions-guard.py, which .ci/run runs after the tests: a
# count more than 5 % above its line fails CI. When a change makes a count
# grow on purpose, rewrite this file in the same change, saying why:
#   scripts/instructions-guard.py --update "why the counts moved"
"""


def fail_usage(message):
    print(f"instructions-guard: {message}", file=sys.stderr)
    sys.exit(2)


def run_benchmarks(save):
    """Run the benchmarks; their JSON summaries (one line each) go to stdout,
    cargo's and valgrind's messages to stderr."""
    command = [
        "cargo",
        "bench",
        "--locked",
        "--bench",
        BENCH,
        "--",
        "--output-format=json",
    ]
    print("instructions-guard: " + " ".join(command), file=sys.stderr, flush=True)
    result = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if save:
        Path(save).write_text(result.stdout)
    if result.returncode != 0:
        fail_usage(f"the benchmarks failed (cargo bench exit status {result.returncode})")
    return result.stdout


def counts_of(output):
    """Benchmark name (its function's name) -> instruction count, from
    iai-callgrind's JSON lines."""
    counts = {}
    for line in output.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        summary = json.loads(line)
        name = summary["function_name"]
        if name in counts:
            fail_usage(f"two benchmarks named {name}: give each its own function")
        metrics = None
        for profile in summary["profiles"]:
            total = profile["summaries"]["total"]["summary"]
            if "Callgrind" in total:
                metrics = total["Callgrind"]["Ir"]["metrics"]
        if metrics is None:
            fail_usage(f"{name}: no callgrind instruction count in the output")
        # {"Left": new} on a first run, {"Both": [new, old]} after one
        if "Both" in metrics:
            value = metrics["Both"][0]
        elif "Left" in metrics:
            value = metrics["Left"]
        else:
            fail_usage(f"{name}: no count of this run in the output ({metrics})")
        counts[name] = int(value["Int"])
    if not counts:
        fail_usage("no benchmark summary in the output")
    return counts


def read_baseline():
    """(counts, why, measured-with) of the committed baseline."""
    counts, why, tools = {}, None, None
    if not BASELINE.exists():
        return counts, why, tools
    for number, line in enumerate(BASELINE.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("why:"):
            why = line[len("why:") :].strip() or None
        elif line.startswith("measured-with:"):
            tools = line[len("measured-with:") :].strip()
        elif re.fullmatch(r"[A-Za-z0-9_]+\s+[0-9]+", line):
            name, count = line.split()
            counts[name] = int(count)
        else:
            fail_usage(f"{BASELINE.relative_to(ROOT)}:{number}: cannot read {line!r}")
    return counts, why, tools


def tool_versions():
    """What the counts depend on besides the code: the compiler, valgrind
    and iai-callgrind."""

    def first_line(command):
        try:
            out = subprocess.run(command, capture_output=True, text=True, check=True)
            return out.stdout.strip().splitlines()[0]
        except (OSError, subprocess.CalledProcessError, IndexError):
            return f"{command[0]} unknown"

    lock = (ROOT / "Cargo.lock").read_text()
    found = re.search(r'name = "iai-callgrind"\nversion = "([^"]+)"', lock)
    iai = f"iai-callgrind {found.group(1)}" if found else "iai-callgrind unknown"
    return ", ".join([first_line(["rustc", "-V"]), first_line(["valgrind", "--version"]), iai])


def change(old, new):
    return (new - old) / old * 100 if old else float("inf")


def write_baseline(counts, why, tools):
    lines = [HEADER.rstrip("\n"), f"why: {why}", f"measured-with: {tools}"]
    lines += [f"{name} {count}" for name, count in counts.items()]
    BASELINE.write_text("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(
        description="Fail when an instruction count of benches/instructions.rs "
        f"grew more than {LIMIT_TEXT} over benches/instructions-baseline.txt."
    )
    parser.add_argument(
        "--update",
        metavar="WHY",
        help="rewrite the baseline with this run's counts and WHY as its why line",
    )
    parser.add_argument(
        "--from",
        dest="source",
        metavar="FILE",
        help="read a saved run (iai-callgrind's --output-format=json lines) instead of running",
    )
    parser.add_argument("--save", metavar="FILE", help="keep this run's JSON lines in FILE")
    args = parser.parse_args()
    if args.update is not None and not args.update.strip():
        fail_usage("--update needs the reason the counts moved")

    output = Path(args.source).read_text() if args.source else run_benchmarks(args.save)
    counts = counts_of(output)
    baseline, why, tools = read_baseline()
    now_tools = tool_versions()

    width = max(len(name) for name in list(counts) + list(baseline))
    print(f"{'benchmark':<{width}}  {'baseline Ir':>13}  {'this run Ir':>13}  change")
    for name in list(counts) + [n for n in baseline if n not in counts]:
        old, new = baseline.get(name), counts.get(name)
        shown = f"{change(old, new):+7.2f} %" if old and new is not None else "      -"
        old_text = "-" if old is None else str(old)
        new_text = "-" if new is None else str(new)
        print(f"{name:<{width}}  {old_text:>13}  {new_text:>13}  {shown}")

    if args.update is not None:
        write_baseline(counts, args.update.strip(), now_tools)
        print(f"instructions-guard: wrote {BASELINE.relative_to(ROOT)} (why: {args.update.strip()})")
        return 0

    failures = []
    for name, new in counts.items():
        old = baseline.get(name)
        if old is None:
            failures.append(f"{name}: not in the baseline (this run: {new} instructions)")
        elif new > old * (1 + LIMIT):
            failures.append(
                f"{name}: {old} -> {new} instructions ({change(old, new):+.2f} %, "
                f"more than {LIMIT_TEXT})"
            )
        elif new < old:
            print(
                f"instructions-guard: {name} shrank {-change(old, new):.2f} % "
                f"({old} -> {new}); --update keeps the gain from being spent unnoticed"
            )
    for name in baseline:
        if name not in counts:
            failures.append(f"{name}: in the baseline but no longer a benchmark")
    if not BASELINE.exists():
        failures.append(f"{BASELINE.relative_to(ROOT)} does not exist")
    elif why is None:
        failures.append(f"{BASELINE.relative_to(ROOT)} has no `why:` line saying why it was last updated")

    if not failures:
        print(f"instructions-guard: {len(counts)} benchmarks within {LIMIT_TEXT} of the baseline")
        return 0
    for failure in failures:
        print(f"instructions-guard: FAIL {failure}")
    print(f"baseline measured with: {tools or 'unknown'}")
    print(f"this run measured with: {now_tools}")
    print(
        "If the change is meant to cost this, update the baseline in the same change:\n"
        '  scripts/instructions-guard.py --update "why the counts grew"\n'
        "(a new compiler or valgrind moves the counts too; say so in the why line)."
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
