#!/usr/bin/env bash
# bench_smoke.sh - `wsk bench` keeps working: brief runs of every mode against Node's ws echo
# server must echo messages with no payload mismatch and print parseable JSON; against a server
# that corrupts some echoes, the bench must count mismatches and fail. No timing is asserted.
set -euo pipefail
: "${WSK_BUILD:?}" "${WSK_SRC:?}"
WSK=$WSK_BUILD/wsk
export NODE_PATH=${NODE_PATH:-$WSK_SRC/node_modules}
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Start a node server script ($1, then its args) that prints "listening PORT"; sets PORT.
start_node() {
  local log=$TMP/server$((${#PIDS[@]})).log i
  : >"$log" # (made now: the background job's redirection may come after the first awk below)
  node "$@" >"$log" 2>&1 &
  PIDS+=($!)
  PORT=
  for ((i = 0; i < 100; i++)); do
    PORT=$(awk '/^listening /{print $2; exit}' "$log")
    [ -n "$PORT" ] && return 0
    sleep 0.05
  done
  cat "$log" >&2
  fail "node server $1 did not start"
}

# Start `wsk serve` with these options on a kernel-picked port; sets PORT and SERVE_PID.
start_wsk() {
  local log=$TMP/wsk$((${#PIDS[@]})).log i
  : >"$log"
  "$WSK" serve --quiet --host 127.0.0.1 --port 0 "$@" >"$log" 2>&1 &
  PIDS+=($!)
  SERVE_PID=$!
  PORT=
  for ((i = 0; i < 100; i++)); do
    PORT=$(sed -n 's|.*listening on wss*://127.0.0.1:\([0-9]*\).*|\1|p' "$log")
    [ -n "$PORT" ] && return 0
    sleep 0.05
  done
  cat "$log" >&2
  fail "wsk serve $* did not start"
}

start_node "$WSK_SRC/bench/ws_echo_server.js" 0
URL=ws://127.0.0.1:$PORT/
WS_PID=${PIDS[0]}

# Text report: messages flowed and every echo matched.
out=$("$WSK" bench echo "$URL" -c 10 -d 4 -t 1 -w 0.2 -p "$WS_PID") || fail "echo run failed: $out"
echo "$out"
rate=$(sed -n 's/.* echoed, \([0-9]*\) msgs\/s.*/\1/p' <<<"$out")
[ -n "$rate" ] && [ "$rate" -gt 0 ] || fail "no msgs/s > 0 in the report"
grep -q ' 0 payload mismatches, 0 connection errors' <<<"$out" || fail "mismatches or errors reported"

# JSON reports of every mode parse and say the run was sound.
check_json() { # $1 = what, $2 = JSON line, $3 = JS condition on r
  node -e '
    const r = JSON.parse(process.argv[1]);
    if (!eval(process.argv[2])) { console.error("unexpected:", process.argv[1]); process.exit(1); }' \
    "$2" "$3" || fail "$1: JSON report not as expected"
  echo "ok: $1"
}
j=$("$WSK" bench echo "$URL" -c 10 -t 0.5 -w 0.1 --json) || fail "json echo failed: $j"
check_json "echo text json" "$j" 'r.ok && r.mode === "echo" && r.count > 0 && r.rate_per_s > 0 && r.mismatches === 0 && r.errors === 0 && r.latency_us.p50 > 0'
j=$("$WSK" bench echo "$URL" -c 4 -d 4 -s 70k --binary -t 0.5 -w 0.1 --json -p "$WS_PID") || fail "binary echo failed: $j"
check_json "echo binary json" "$j" 'r.ok && r.binary && r.size === 71680 && r.count > 0 && r.mismatches === 0 && r.server_cpu_s >= 0'
j=$("$WSK" bench connect "$URL" -c 5 -t 0.5 -w 0.1 --json) || fail "connect failed: $j"
check_json "connect json" "$j" 'r.ok && r.mode === "connect" && r.count > 0 && r.errors === 0'
j=$("$WSK" bench idle "$URL" -c 50 -t 0.3 -p "$WS_PID" --json) || fail "idle failed: $j"
check_json "idle json" "$j" 'r.ok && r.mode === "idle" && r.count === 50 && typeof r.server_rss_per_conn === "number"'

# wss://: against `wsk serve --tls-cert` and ws over https, the certificate checked against the
# test CA; connect with --resume must resume sessions.
bash "$WSK_SRC/tests/tls/make_certs.sh" "$TMP/certs"
start_wsk --echo --tls-cert "$TMP/certs/server.pem" --tls-key "$TMP/certs/server.key"
tls_ok='r.ok && r.count > 0 && r.errors === 0 && /^TLSv1\.3 /.test(r.tls.version) && typeof r.tls.ktls === "string"'
j=$("$WSK" bench echo "wss://127.0.0.1:$PORT/" --ca "$TMP/certs/ca.pem" -c 4 -d 4 -s 1k -t 0.5 -w 0.1 --json) ||
  fail "wss echo against wsk failed: $j"
check_json "wss echo wsk" "$j" "$tls_ok && r.mismatches === 0 && r.tls.handshakes === 4"
j=$("$WSK" bench connect "wss://127.0.0.1:$PORT/" --ca "$TMP/certs/ca.pem" -c 2 -t 0.5 -w 0.1 --resume --json) ||
  fail "wss connect --resume against wsk failed: $j"
check_json "wss connect --resume wsk" "$j" "$tls_ok && r.tls.resumed > 0"
if j=$("$WSK" bench echo "wss://127.0.0.1:$PORT/" -c 1 -t 0.2 -w 0 --json); then
  fail "wss echo trusted a certificate of an unknown CA: $j"
fi
check_json "wss certificate checked" "$j" '!r.ok && /certificate/.test(r.error)'
start_node "$WSK_SRC/bench/ws_echo_server.js" 0 "$TMP/certs/server.pem" "$TMP/certs/server.key"
j=$("$WSK" bench echo "wss://127.0.0.1:$PORT/" -k -c 4 -d 4 -s 1k -t 0.5 -w 0.1 --json) ||
  fail "wss echo against ws failed: $j"
check_json "wss echo ws" "$j" "$tls_ok && r.mismatches === 0"

# A server that flips one byte of every 7th echo: the bench must notice and fail.
cat >"$TMP/corrupt.js" <<'EOF'
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
let n = 0;
wss.on('connection', (ws) => ws.on('message', (d, bin) => {
  if (++n % 7 === 0) d[d.length - 1] ^= 1;
  ws.send(d, { binary: bin });
}));
wss.on('listening', () => console.log(`listening ${wss.address().port}`));
EOF
start_node "$TMP/corrupt.js"
if j=$("$WSK" bench echo "ws://127.0.0.1:$PORT/" -c 2 -t 0.3 -w 0 --binary -s 100 --json); then
  fail "bench exited 0 although echoes were corrupted: $j"
fi
check_json "corruption detected" "$j" 'r.mismatches > 0'

# Fan-out through `wsk serve --rooms` (more rooms than publishers, and publishers sharing rooms)
# and through the ws rooms server.
start_wsk --rooms
ROOMS_PID=$SERVE_PID
fanout_ok='r.ok && r.mode === "fanout" && r.count > 0 && r.publishes > 0 && r.lost === 0 && r.mismatches === 0 && r.errors === 0 && r.latency_us.p50 > 0'
j=$("$WSK" bench fanout "ws://127.0.0.1:$PORT/" -S 50 -T 5 -P 2 -t 1 -w 0.2 -p "$ROOMS_PID" --json) ||
  fail "fanout against wsk failed: $j"
check_json "fanout wsk -S 50 -T 5 -P 2" "$j" "$fanout_ok && r.topics === 5 && r.deliveries_per_server_cpu_s > 0"
j=$("$WSK" bench fanout "ws://127.0.0.1:$PORT/" -S 20 -T 2 -P 4 -W 4 -s 100 -t 0.5 -w 0.1 --json) ||
  fail "fanout with shared rooms failed: $j"
check_json "fanout wsk -S 20 -T 2 -P 4" "$j" "$fanout_ok"
# Subscribers dealt over several URLs (as over the nodes of a cluster; here twice the same
# server) and the CPU of several processes (here twice the same) added up.
j=$("$WSK" bench fanout "ws://127.0.0.1:$PORT/" "ws://127.0.0.1:$PORT" -S 20 -T 2 -t 0.5 -w 0.1 \
  -p "$ROOMS_PID" -p "$ROOMS_PID" --json) || fail "fanout over two URLs failed: $j"
check_json "fanout over two URLs" "$j" "$fanout_ok && r.urls.length === 2 && r.remote_latency_us.p50 > 0 && r.server_cpus_s.length === 2 && Math.abs(r.server_cpus_s[0] + r.server_cpus_s[1] - r.server_cpu_s) < 0.0015"
start_node "$WSK_SRC/bench/ws_rooms_server.js" 0
j=$("$WSK" bench fanout "ws://127.0.0.1:$PORT/" -S 50 -T 5 -P 2 -t 0.5 -w 0.1 --json) ||
  fail "fanout against ws failed: $j"
check_json "fanout ws -S 50 -T 5 -P 2" "$j" "$fanout_ok"

# A one-room server that drops every 50th message it relays: the bench must count losses and fail.
cat >"$TMP/lossy.js" <<'EOF'
const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
const room = new Set();
let n = 0;
wss.on('connection', (ws) => {
  room.add(ws);
  ws.on('message', (d, bin) => {
    for (const m of room) if (m !== ws && ++n % 50 !== 0) m.send(d, { binary: bin });
  });
});
wss.on('listening', () => console.log(`listening ${wss.address().port}`));
EOF
start_node "$TMP/lossy.js"
if j=$("$WSK" bench fanout "ws://127.0.0.1:$PORT/" -S 10 -t 0.3 -w 0 --json); then
  fail "fanout exited 0 although messages were dropped: $j"
fi
check_json "fanout loss detected" "$j" '!r.ok && r.lost > 0 && r.mismatches > 0'
echo "bench smoke: all good"
