#!/usr/bin/env bash
# bench/run.sh BUILD_DIR - `make bench`: the same `wsk bench` scenarios against `wsk serve --echo`
# and against Node's ws echo server (bench/ws_echo_server.js), and the fan-out scenarios against
# `wsk serve --rooms` and bench/ws_rooms_server.js, each server pinned to CPU 0 and the
# load generator to CPU 1, every run on a freshly started server, repeated; then a markdown table
# of medians with the ratio wsk/ws and the project's targets (bench/report.js).
#
# Environment (defaults keep the whole run near 6 minutes):
#   BENCH_DURATION=3   measured seconds per run      BENCH_WARMUP=1   warm-up seconds per run
#   BENCH_REPEATS=3    runs per scenario and server  BENCH_IDLE=10000 idle connections
#   BENCH_FANOUT=10000 connections of a fan-out run  BENCH_SERVERS="wsk ws" which servers to run
#   BENCH_SCENARIOS="echo100 echo1000 echo16k connect idle echo100t2
#                    fanout1 fanout100 fanout1to1 fanout1t2"
# echo100t2 is echo100 against `wsk serve --threads 2` with the server on both CPUs and the load
# generator unpinned (wsk only): how two loops scale on two cores that the load generator shares.
# Fan-out (`wsk bench fanout`, 32-byte messages, window 16): fanout1 is one publisher and
# BENCH_FANOUT subscribers in one room (a broadcast), fanout100 the same subscribers over 100
# rooms (one publisher connection each), fanout1to1 BENCH_FANOUT/2 rooms of one subscriber and one
# publisher connection (half the connections each: the bench's two ends of 10 000 pairs would
# not fit an open-file limit of 20 000), fanout1t2 is fanout1 on `wsk serve --threads 2` (wsk
# only, pinned like echo100t2).
#   BENCH_OUT=BUILD_DIR/bench-results.jsonl          one JSON object per run
set -euo pipefail

BUILD=$(cd "${1:-build}" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
WSK=$BUILD/wsk
DURATION=${BENCH_DURATION:-3}
WARMUP=${BENCH_WARMUP:-1}
REPEATS=${BENCH_REPEATS:-3}
IDLE=${BENCH_IDLE:-10000}
FANOUT=${BENCH_FANOUT:-10000}
SERVERS=${BENCH_SERVERS:-wsk ws}
SCENARIOS=${BENCH_SCENARIOS:-echo100 echo1000 echo16k connect idle echo100t2 fanout1 fanout100 fanout1to1 fanout1t2}
OUT=${BENCH_OUT:-$BUILD/bench-results.jsonl}
export NODE_PATH=$SRC/node_modules

[ -x "$WSK" ] || { echo "bench: $WSK not built (run make first)" >&2; exit 1; }
command -v node >/dev/null || { echo "bench: node is needed for the ws server and the report" >&2; exit 1; }

# Both ends of 10 000 idle (or fan-out) connections need a descriptor each, plus slack (the
# fan-out publishers: 100 at most).
want_fds=$(((IDLE > FANOUT + 100 ? IDLE : FANOUT + 100) + 1024))
if [ "$(ulimit -n)" -lt "$want_fds" ]; then
  ulimit -n "$want_fds" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  if [ "$(ulimit -n)" -lt "$want_fds" ]; then
    echo "bench: open-file limit $(ulimit -n) is below $want_fds; lower BENCH_IDLE/BENCH_FANOUT or raise the hard limit" >&2
    exit 1
  fi
fi

# Server on CPU 0, load generator on CPU 1, when there are two CPUs to pin to (the threaded
# scenario: server on CPUs 0 and 1, load generator anywhere).
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  PIN_SERVER=(taskset -c 0)
  PIN_LOAD=(taskset -c 1)
  PIN_SERVER_ALL=(taskset -c 0,1)
else
  echo "bench: fewer than 2 CPUs or no taskset: running unpinned, figures will be noisy" >&2
  PIN_SERVER=()
  PIN_LOAD=()
  PIN_SERVER_ALL=()
fi

TMP=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# Start server $1 for scenario $2 in the background; sets SERVER_PID and PORT.
start_server() {
  local log=$TMP/server.log i
  : >"$log"
  case $1 in
    wsk)
      PORT=$(free_port)
      local mode=--echo pin=("${PIN_SERVER[@]}") threads=()
      case $2 in fanout*) mode=--rooms ;; esac
      case $2 in *t2) pin=("${PIN_SERVER_ALL[@]}") threads=(--threads 2) ;; esac
      "${pin[@]}" "$WSK" serve "$mode" --quiet "${threads[@]}" --host 127.0.0.1 --port "$PORT" \
        >"$log" 2>&1 &
      SERVER_PID=$!
      for ((i = 0; i < 100; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
      done ;;
    ws)
      local script=ws_echo_server.js
      case $2 in fanout*) script=ws_rooms_server.js ;; esac
      "${PIN_SERVER[@]}" node "$SRC/bench/$script" 0 >"$log" 2>&1 &
      SERVER_PID=$!
      for ((i = 0; i < 100; i++)); do
        PORT=$(awk '/^listening /{print $2; exit}' "$log")
        [ -n "$PORT" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.05
      done ;;
  esac
  echo "bench: the $1 server did not start:" >&2
  cat "$log" >&2
  exit 1
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

scenario_args() {
  case $1 in
    echo100 | echo100t2) echo "echo -c 100 -d 16 -s 20" ;;
    echo1000) echo "echo -c 1000 -d 16 -s 20" ;;
    echo16k) echo "echo -c 100 -d 4 -s 16384 --binary" ;;
    connect) echo "connect -c 50" ;;
    idle) echo "idle -c $IDLE" ;;
    fanout1 | fanout1t2) echo "fanout -S $FANOUT -T 1" ;;
    fanout100) echo "fanout -S $FANOUT -T 100" ;;
    fanout1to1) echo "fanout -S $((FANOUT / 2)) -T $((FANOUT / 2))" ;;
    *) echo "bench: unknown scenario $1" >&2; exit 1 ;;
  esac
}

: >"$OUT"
echo "bench: servers [$SERVERS], scenarios [$SCENARIOS], $REPEATS x ${DURATION}s after ${WARMUP}s warm-up" >&2
for scenario in $SCENARIOS; do
  read -r -a args <<<"$(scenario_args "$scenario")"
  for ((run = 1; run <= REPEATS; run++)); do
    for server in $SERVERS; do
      pin_load=("${PIN_LOAD[@]}")
      if [[ $scenario == *t2 ]]; then
        [ "$server" = wsk ] || continue
        pin_load=()
      fi
      start_server "$server" "$scenario"
      line=$("${pin_load[@]}" "$WSK" bench "${args[@]}" -w "$WARMUP" -t "$DURATION" -p "$SERVER_PID" \
               --json "ws://127.0.0.1:$PORT/" 2>>"$TMP/bench.err") || true
      stop_server
      [ -n "$line" ] || line='{"ok":false,"error":"wsk bench printed nothing"}'
      echo "{\"server\":\"$server\",\"scenario\":\"$scenario\",\"run\":$run,${line#\{}" >>"$OUT"
      printf 'bench: %-8s %-4s run %d done\n' "$scenario" "$server" "$run" >&2
    done
  done
done
node "$SRC/bench/report.js" "$OUT"
# permessage-deflate: bytes a compressed connection holds (default and low-memory settings), from
# zlib's own allocations (bench/micro_deflate.c).
echo
"$BUILD/bench/micro_deflate"
