#!/usr/bin/env bash
# `make dev`: the seed's nodemon habit for C. Rebuilds and restarts the demo server whenever a
# source or web file changes, and says why it restarted. Needs inotifywait (Debian inotify-tools).
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v inotifywait >/dev/null; then
  bash scripts/deps.sh --dev || { echo "dev: needs inotifywait: apt-get install inotify-tools" >&2; exit 1; }
fi
BUILD=${BUILD:-build}
pid=
stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=; }
trap 'stop; exit 0' INT TERM
start() {
  if cmake --build "$BUILD" -j "$(nproc)" >/tmp/wsk-dev-build.log 2>&1; then
    ./"$BUILD"/wsk serve --port "${PORT:-8000}" --root web --rooms \
      --welcome 'Welcome to the websocket server!!!' &
    pid=$!
  else
    echo "dev: build failed; waiting for the next change" >&2
    tail -n 20 /tmp/wsk-dev-build.log >&2
  fi
}
start
while true; do
  changed=$(inotifywait -q -r -e close_write,create,delete,move --format '%w%f' \
            src include tools examples web CMakeLists.txt 2>/dev/null) || continue
  case "$changed" in *~|*.swp|*/.#*) continue ;; esac
  echo "dev: $changed changed; rebuilding and restarting" >&2
  stop
  start
done
