#!/usr/bin/env bash
# bench/run.sh BUILD_DIR - `make bench`: the same `wsk bench` scenarios against `wsk serve --echo`
# and against Node's ws echo server (bench/ws_echo_server.js), and the fan-out scenarios against
# `wsk serve --rooms` and bench/ws_rooms_server.js (and a cluster of `wsk serve --rooms --redis`
# nodes and redis-server), each server pinned to CPU 0 and the
# load generator to CPU 1, every run on a freshly started server, repeated; then a markdown table
# of medians with the ratio wsk/ws and the project's targets (bench/report.js).
#
# Environment (defaults keep the whole run near 6 minutes):
#   BENCH_DURATION=3   measured seconds per run      BENCH_WARMUP=1   warm-up seconds per run
#   BENCH_REPEATS=3    runs per scenario and server  BENCH_IDLE=10000 idle connections
#   BENCH_FANOUT=10000 connections of a fan-out run  BENCH_SERVERS="wsk wsku ws" which servers
#                                                    (wsku: wsk serve --io-uring)
#   BENCH_CLUSTER=3000 subscribers of a cluster run
#   BENCH_SCENARIOS="echo100 echo1000 echo16k connect idle echo100t2 echo1k wss1k wssconnect
#                    wssresume fanout1 fanout100 fanout1to1 fanout1t2 cluster1 cluster100"
# echo100t2 is echo100 against `wsk serve --threads 2` with the server on both CPUs and the load
# generator unpinned (wsk only): how two loops scale on two cores that the load generator shares.
# Fan-out (`wsk bench fanout`, 32-byte messages, window 16): fanout1 is one publisher and
# BENCH_FANOUT subscribers in one room (a broadcast), fanout100 the same subscribers over 100
# rooms (one publisher connection each), fanout1to1 BENCH_FANOUT/2 rooms of one subscriber and one
# publisher connection (half the connections each: the bench's two ends of 10 000 pairs would
# not fit an open-file limit of 20 000), fanout1t2 is fanout1 on `wsk serve --threads 2` (wsk
# only, pinned like echo100t2). cluster1 and cluster100 (wsk only): three `wsk serve --rooms
# --redis` nodes and redis-server, all on CPU 0, BENCH_CLUSTER subscribers dealt over the nodes in
# 1 room or 100, published through the first node: CPU is that of the four processes.
# TLS: echo1k is echo of 1 KiB text messages over ws://, wss1k the same over wss://, wssconnect
# and wssresume TLS handshakes without and with session resumption (`wsk bench --resume`), against
# `wsk serve --tls-cert` and ws_echo_server.js over https, with the certificate of
# tests/tls/make_certs.sh (checked by the bench against its CA).
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
SERVERS=${BENCH_SERVERS:-wsk wsku ws}
CLUSTER=${BENCH_CLUSTER:-3000}
SCENARIOS=${BENCH_SCENARIOS:-echo100 echo1000 echo16k connect idle echo100t2 echo1k wss1k wssconnect wssresume fanout1 fanout100 fanout1to1 fanout1t2 cluster1 cluster100}
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
SERVER_PIDS=()
stop_server() {
  for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  SERVER_PIDS=()
}
cleanup() {
  stop_server
  rm -rf "$TMP"
}
trap cleanup EXIT

# A throw-away certificate for 127.0.0.1 and its CA, for the wss scenarios.
CERTS=$TMP/certs
case " $SCENARIOS " in *" wss"*) bash "$SRC/tests/tls/make_certs.sh" "$CERTS" ;; esac

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

# Wait until process $2 accepts connections on port $1.
await_port() {
  local i
  for ((i = 0; i < 100; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

failed_start() {
  echo "bench: the $1 server did not start:" >&2
  cat "$TMP/server.log" >&2
  exit 1
}

# Start server $1 for scenario $2 in the background; sets SERVER_PIDS (a cluster: redis-server,
# then the nodes) and URLS (a cluster: the nodes, in the same order).
start_server() {
  local log=$TMP/server.log i port= scheme=ws tls=() tls_args=()
  : >"$log"
  if [[ $2 == wss* ]]; then
    scheme=wss
    tls=(--tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key")
    tls_args=("$CERTS/server.pem" "$CERTS/server.key")
  fi
  case $1 in
    wsk | wsku)
      local mode=--echo pin=("${PIN_SERVER[@]}") threads=() redis=() nodes=1 backend=(--epoll)
      [ "$1" = wsku ] && backend=(--io-uring)
      case $2 in fanout* | cluster*) mode=--rooms ;; esac
      case $2 in *t2) pin=("${PIN_SERVER_ALL[@]}") threads=(--threads 2) ;; esac
      if [[ $2 == cluster* ]]; then
        port=$(free_port)
        "${pin[@]}" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >"$log" 2>&1 &
        SERVER_PIDS=($!)
        await_port "$port" $! || failed_start redis-server
        redis=(--redis "redis://127.0.0.1:$port")
        nodes=3
      fi
      URLS=()
      for ((i = 0; i < nodes; i++)); do
        port=$(free_port)
        "${pin[@]}" "$WSK" serve "$mode" --quiet "${backend[@]}" "${threads[@]}" "${redis[@]}" "${tls[@]}" \
          --host 127.0.0.1 --port "$port" >>"$log" 2>&1 &
        SERVER_PIDS+=($!)
        await_port "$port" $! || failed_start wsk
        URLS+=("$scheme://127.0.0.1:$port/")
      done
      # the nodes share their rooms once both their Redis connections are up
      for ((i = 0; i < 100 && ${#redis[@]}; i++)); do
        [ "$(grep -c 'connected, topics shared' "$log")" = "$nodes" ] && break
        sleep 0.05
      done ;;
    ws)
      local script=ws_echo_server.js
      case $2 in fanout*) script=ws_rooms_server.js ;; esac
      "${PIN_SERVER[@]}" node "$SRC/bench/$script" 0 "${tls_args[@]}" >"$log" 2>&1 &
      SERVER_PIDS=($!)
      for ((i = 0; i < 100; i++)); do
        port=$(awk '/^listening /{print $2; exit}' "$log")
        [ -n "$port" ] && break
        kill -0 "${SERVER_PIDS[0]}" 2>/dev/null || break
        sleep 0.05
      done
      [ -n "$port" ] || failed_start ws
      URLS=("$scheme://127.0.0.1:$port/") ;;
  esac
}

scenario_args() {
  case $1 in
    echo100 | echo100t2) echo "echo -c 100 -d 16 -s 20" ;;
    echo1000) echo "echo -c 1000 -d 16 -s 20" ;;
    echo16k) echo "echo -c 100 -d 4 -s 16384 --binary" ;;
    connect) echo "connect -c 50" ;;
    echo1k | wss1k) echo "echo -c 100 -d 16 -s 1024" ;;
    wssconnect) echo "connect -c 50" ;;
    wssresume) echo "connect -c 50 --resume" ;;
    idle) echo "idle -c $IDLE" ;;
    fanout1 | fanout1t2) echo "fanout -S $FANOUT -T 1" ;;
    fanout100) echo "fanout -S $FANOUT -T 100" ;;
    fanout1to1) echo "fanout -S $((FANOUT / 2)) -T $((FANOUT / 2))" ;;
    cluster1) echo "fanout -S $CLUSTER -T 1" ;;
    cluster100) echo "fanout -S $CLUSTER -T 100" ;;
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
      case $scenario in *t2) [ "$server" != ws ] || continue ;; cluster*) [ "$server" = wsk ] || continue ;; esac
      [[ $scenario == *t2 ]] && pin_load=()
      start_server "$server" "$scenario"
      pids=()
      for p in "${SERVER_PIDS[@]}"; do pids+=(-p "$p"); done
      ca=()
      [[ $scenario == wss* ]] && ca=(--ca "$CERTS/ca.pem")
      # (the load generator waits with epoll whatever the default: the same load for every run)
      line=$(WSK_LOOP_BACKEND=epoll "${pin_load[@]}" "$WSK" bench "${args[@]}" "${ca[@]}" -w "$WARMUP" -t "$DURATION" \
               "${pids[@]}" --json "${URLS[@]}" 2>>"$TMP/bench.err") || true
      loop=$(sed -n 's/^wsk: event loop: //p' "$TMP/server.log" | head -1)
      stop_server
      [ -n "$line" ] || line='{"ok":false,"error":"wsk bench printed nothing"}'
      [ -n "$loop" ] && line="{\"loop\":\"${loop//\"/}\",${line#\{}"
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
