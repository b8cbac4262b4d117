#!/usr/bin/env bash
# scripts/run-cluster.sh BUILD_DIR PORT WELCOME - `make run-cluster`: the chat demo of `make run`
# on three `wsk serve --rooms` nodes that share their rooms through Redis (docs/scale-out.md),
# behind haproxy on PORT (scripts/cluster-haproxy.cfg, round robin, health checks). Each node
# welcomes its clients with WELCOME followed by " (node N of 3)", so a tab shows where it landed.
# redis-server (no persistence) listens on a port of its own and the nodes on kernel-picked
# ports, all on 127.0.0.1; their logs are in a temporary directory. Ctrl-C (or SIGTERM to this
# script) stops every process it started, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
PORT=${2:-8000}
WELCOME=${3:-Welcome to the websocket server!!!}
WSK=$BUILD/wsk
NODES=3

for tool in "$WSK" redis-server haproxy; do
  command -v "$tool" >/dev/null || { echo "run-cluster: $tool not found (make run-cluster installs what it needs)" >&2; exit 1; }
done

LOGS=$(mktemp -d -t wsk-cluster.XXXXXX)
PIDS=()
stop() {
  trap - EXIT INT TERM
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$LOGS"
  echo "run-cluster: stopped"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "run-cluster: $1" >&2
  [ -f "${2:-}" ] && sed 's/^/  /' "$2" >&2
  exit 1
}

# Wait (5 s at most) until file $2 has a line matching $3 or process $1 is gone. Prints the
# first capture group of the sed expression $3 (empty if it never came).
await_line() {
  local i got
  for ((i = 0; i < 100; i++)); do
    got=$(sed -n "$3" "$2")
    [ -n "$got" ] && { echo "$got"; return 0; }
    kill -0 "$1" 2>/dev/null || break
    sleep 0.05
  done
}

# redis-server cannot be given port 0 and tell which it got: try random free-looking ports.
REDIS_PORT=
for _ in 1 2 3 4 5 6 7 8; do
  port=$((20000 + RANDOM % 30000))
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >"$LOGS/redis.log" 2>&1 &
  pid=$!
  if [ -n "$(await_line "$pid" "$LOGS/redis.log" '/Ready to accept connections/p')" ]; then
    REDIS_PORT=$port
    REDIS_PID=$pid
    PIDS+=("$pid")
    break
  fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
[ -n "$REDIS_PORT" ] || fail "redis-server did not start:" "$LOGS/redis.log"

NODE_PORTS=()
for ((i = 1; i <= NODES; i++)); do
  log=$LOGS/node$i.log
  "$WSK" serve --host 127.0.0.1 --port 0 --root web --rooms --quiet \
    --redis "redis://127.0.0.1:$REDIS_PORT" --welcome "$WELCOME (node $i of $NODES)" 2>"$log" &
  PIDS+=($!)
  port=$(await_line $! "$log" 's|.*listening on [a-z]*://127.0.0.1:\([0-9]*\).*|\1|p')
  [ -n "$port" ] || fail "node $i did not start:" "$log"
  NODE_PORTS+=("$port")
done

export WSK_LB_BIND=":$PORT" WSK_NODE1=127.0.0.1:${NODE_PORTS[0]} WSK_NODE2=127.0.0.1:${NODE_PORTS[1]} \
  WSK_NODE3=127.0.0.1:${NODE_PORTS[2]}
haproxy -db -f scripts/cluster-haproxy.cfg &
HAPROXY_PID=$!
PIDS+=("$HAPROXY_PID")
for ((i = 0; i < 100; i++)); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  kill -0 "$HAPROXY_PID" 2>/dev/null || fail "haproxy did not start on port $PORT"
  sleep 0.05
done

cat <<EOF
run-cluster: open http://localhost:$PORT/#lobby in two tabs: haproxy (pid $HAPROXY_PID) deals
  the connections round robin over three wsk nodes, which share their rooms through Redis; each
  tab's welcome names its node. Member counts are per node.
EOF
for ((i = 1; i <= NODES; i++)); do
  echo "  node $i: ws://127.0.0.1:${NODE_PORTS[i - 1]} (pid ${PIDS[i]}, log $LOGS/node$i.log)"
done
cat <<EOF
  redis-server: 127.0.0.1:$REDIS_PORT (pid $REDIS_PID)
  kill a node's pid: haproxy marks it DOWN within ~1 s and its tabs reconnect to the others
  Ctrl-C (or kill $$) stops everything
EOF
wait "$HAPROXY_PID" || true
echo "run-cluster: haproxy exited" >&2
