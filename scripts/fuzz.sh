#!/usr/bin/env bash
# Runs libFuzzer targets on their corpora in fuzz/corpus/<name>/ (with fuzz/<name>.dict if there is
# one), then prints one line per target (execs, exec/s, coverage, corpus) from libFuzzer's final
# stats.
#
#   scripts/fuzz.sh [-t NAME=SECONDS]... DIR SECONDS [NAME...]
#
# NAME is a target without its fuzz_ prefix (server, parser, ...); none given: every fuzz_* in DIR.
# Each runs for SECONDS, or for the seconds of its -t. Exits non-zero when a target found a crash,
# a leak or a timeout (its log's tail and the reproducer's path are printed).
set -euo pipefail
declare -A budget=()
while getopts t: opt; do
  case $opt in
    t) budget[${OPTARG%%=*}]=${OPTARG#*=} ;;
    *) echo "usage: $0 [-t NAME=SECONDS]... DIR SECONDS [NAME...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ $# -lt 2 ]; then echo "usage: $0 [-t NAME=SECONDS]... DIR SECONDS [NAME...]" >&2; exit 2; fi
dir=$1 seconds=$2
shift 2
src=$(cd "$(dirname "$0")/.." && pwd)
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  shopt -s nullglob
  for t in "$dir"/fuzz_*; do
    t=$(basename "$t")
    names+=("${t#fuzz_}")
  done
fi
if [ ${#names[@]} -eq 0 ]; then echo "fuzz: no targets in $dir" >&2; exit 1; fi

# The value after `key` in libFuzzer's last status line ("#N DONE cov: 812 ft: 3012 corp: 120/14Kb").
status_field() { grep -E '^#[0-9]+' "$1" | tail -n 1 | grep -oE "$2: [^ ]+" | cut -d' ' -f2 || true; }
final_stat() { grep -E "^stat::$2:" "$1" | awk '{print $2}' || true; }

table=$(printf '%-14s %6s %11s %8s %6s %7s %-12s %s' target seconds execs exec/s cov ft corpus result)
failed=0
for name in "${names[@]}"; do
  t="$dir/fuzz_$name"
  if [ ! -x "$t" ]; then echo "fuzz: no target $t" >&2; exit 1; fi
  secs=${budget[$name]:-$seconds}
  corpus="$src/fuzz/corpus/$name"
  mkdir -p "$corpus"
  work=$(mktemp -d)
  echo "fuzz: fuzz_$name for ${secs}s (corpus $corpus)"
  # New inputs go to a scratch dir; the committed corpus is only read, so a run leaves the tree clean.
  dict=()
  if [ -f "$src/fuzz/$name.dict" ]; then dict=(-dict="$src/fuzz/$name.dict"); fi
  result=clean
  if ! "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
        -artifact_prefix="$work/" "$work" "$corpus" >"$work/log" 2>&1; then
    tail -n 60 "$work/log"
    ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null || true
    echo "fuzz: fuzz_$name FAILED (artifacts and log in $work)" >&2
    result=FAILED
    failed=1
  fi
  table+=$'\n'$(printf '%-14s %6s %11s %8s %6s %7s %-12s %s' "$name" "$secs" \
    "$(final_stat "$work/log" number_of_executed_units)" "$(final_stat "$work/log" average_exec_per_sec)" \
    "$(status_field "$work/log" cov)" "$(status_field "$work/log" ft)" "$(status_field "$work/log" corp)" "$result")
  if [ $result = clean ]; then rm -rf "$work"; fi
done
echo "$table"
if [ $failed -ne 0 ]; then exit 1; fi
echo "fuzz: all ${#names[@]} targets clean"
