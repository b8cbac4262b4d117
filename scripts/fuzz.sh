#!/usr/bin/env bash
# Runs every libFuzzer target in DIR for SECONDS each, on its corpus in fuzz/corpus/<target>/.
# Exits non-zero as soon as a target finds a crash, a leak or a timeout.
set -euo pipefail
dir=$1 seconds=${2:-30}
src=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
targets=("$dir"/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then echo "fuzz: no targets in $dir" >&2; exit 1; fi
for t in "${targets[@]}"; do
  name=$(basename "$t")
  corpus="$src/fuzz/corpus/${name#fuzz_}"
  mkdir -p "$corpus"
  work=$(mktemp -d)
  echo "fuzz: $name for ${seconds}s (corpus $corpus)"
  # New inputs go to a scratch dir; the committed corpus is only read, so a run leaves the tree clean.
  if ! "$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
        -artifact_prefix="$work/" "$work" "$corpus" >"$work/log" 2>&1; then
    tail -n 60 "$work/log"
    echo "fuzz: $name FAILED (artifacts in $work)" >&2
    exit 1
  fi
  grep -E '^(Done|#[0-9]+ *DONE)' "$work/log" | tail -n 1 || true
  rm -rf "$work"
done
echo "fuzz: all ${#targets[@]} targets clean"
