#!/usr/bin/env bash
# Compares the working tree with an earlier commit on the interleaved overhead bench, the way
# docs/BENCHMARKS.md does: both are built once (each with its own target directory), then run
# alternately, N times each, so a slow phase of a shared machine lands on both alike. Prints
# every run's four comparisons and, per side, the median and range of the run medians.
#
# Usage: ./scripts/bench-ab.sh <commit> [N]      (N defaults to 8; about 5 s per pair after
#                                                 the two optimised builds)
set -euo pipefail
cd "$(dirname "$0")/.."
old_commit="${1:?usage: scripts/bench-ab.sh <commit> [N]}"
n="${2:-8}"
here="$PWD"
old_tree="$(mktemp -d "${TMPDIR:-/tmp}/agent-trace-ab.XXXXXX")"
results="$(mktemp "${TMPDIR:-/tmp}/agent-trace-ab-results.XXXXXX")"
trap 'git -C "$here" worktree remove --force "$old_tree" >/dev/null 2>&1 || rm -rf "$old_tree"; rm -f "$results"' EXIT
git worktree add --detach -q "$old_tree" "$old_commit"

bench() { # dir target-dir [--no-run]
  (cd "$1" && CARGO_TARGET_DIR="$2" cargo bench -q -p agent-trace-otel --bench interleaved "${@:3}")
}
old_target="$here/target/bench-ab/old"
new_target="$here/target/bench-ab/new"
echo "== building $old_commit and the working tree"
bench "$old_tree" "$old_target" --no-run
bench "$here" "$new_target" --no-run

for i in $(seq 1 "$n"); do
  for side in old new; do
    if [[ $side == old ]]; then out="$(bench "$old_tree" "$old_target")"; else out="$(bench "$here" "$new_target")"; fi
    if ! grep -q "^drops: ours 0 of" <<<"$out"; then
      echo "$out" | tail -5
      echo "a run dropped spans or failed" >&2
      exit 1
    fi
    line="$(awk -F'|' -v side="$side" -v i="$i" '
      /^\| sampled: ours \/ SDK/            { s = $3 }
      /^\| not sampled: ours \/ SDK/        { ns = $3 }
      /^\| tracing off: ours/               { off = $3 }
      /^\| async, tracing off: ours/        { aoff = $3 }
      /^\| sampled: ours \/ fastrace/       { fr = $3 }
      END { gsub(/[ *x]|ns/, "", s); gsub(/[ *x]|ns/, "", ns); gsub(/[ *+]|ns/, "", off); gsub(/[ *+]|ns/, "", aoff);
            gsub(/[ *x]/, "", fr); if (fr == "") fr = "nan";
            printf "%s %s %s %s %s %s %s\n", i, side, s, ns, off, aoff, fr }' <<<"$out")"
    echo "$line" >>"$results"
    read -r _ _ s ns off aoff fr <<<"$line"
    echo "run $i $side: sampled ${s}x, not sampled ${ns}x, tracing off +${off} ns, async off +${aoff} ns, sampled / fastrace ${fr}x"
  done
done

python3 - "$results" "$old_commit" <<'PYEOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
names = ["sampled: ours / SDK", "not sampled: ours / SDK", "tracing off: ours - plain (ns)",
         "async off: ours - async fn (ns)", "sampled: ours / fastrace (per span)"]
print(f"\n| comparison | {sys.argv[2]}: median (range) | working tree: median (range) |")
print("|---|---:|---:|")
for k, name in enumerate(names):
    cells = []
    for side in ("old", "new"):
        v = [float(r[2 + k]) for r in rows if r[1] == side]
        cells.append(f"{statistics.median(v):.2f} ({min(v):.2f}–{max(v):.2f})")
    print(f"| {name} | {cells[0]} | {cells[1]} |")
PYEOF
