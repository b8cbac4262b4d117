#!/usr/bin/env bash
# The Makefile as a new user meets it: `make run` builds the server alone (not the tests and the
# benchmarks) and serves the chat with rooms, scripts/deps.sh asks each target only for its own
# packages (no clang for a plain build, nothing pinned to a compiler version), and `make seed`
# builds and starts the seed example (examples/just_ws_server), says which page to open, and
# answers HTTP with "I am connected!".
set -euo pipefail
: "${WSK_BUILD:?}" "${WSK_SRC:?}"
cd "$WSK_SRC"
fail() { echo "make_targets: $*" >&2; exit 1; }

# make run: one cmake --build, for the wsk target only.
run=$(make -n run BUILD="$WSK_BUILD")
builds=$(grep -c 'cmake --build' <<<"$run" || true)
[ "$builds" = 1 ] && grep -q 'cmake --build .* --target wsk$' <<<"$run" || fail "make run builds more than wsk: $run"
# ... and serves the chat page with rooms and the welcome (the page and chat_browser expect them).
grep -q "wsk serve --port 8000 --root web --rooms --welcome 'Welcome to the websocket server!!!'$" <<<"$run" ||
  fail "make run does not serve the chat with rooms: $run"

# deps.sh: what each mode wants. (grep reads the whole list, never -q: under pipefail, a grep that
# quits at its first match can kill the writer with SIGPIPE and fail the pipeline.)
wants() { bash scripts/deps.sh --list "$1"; }
for mode in --build --test --valgrind --lint --dev; do
  ! wants "$mode" | grep -x >/dev/null 'clang\|libclang-rt.*' || fail "deps.sh $mode wants clang: $(wants "$mode" | tr '\n' ' ')"
done
! wants --build | grep -x >/dev/null 'nodejs\|npm\|chromium\|valgrind' || fail "deps.sh --build wants test peers"
wants --test | grep -x >/dev/null chromium || fail "deps.sh --test does not want chromium"
wants --build | grep -x >/dev/null libhiredis-dev || fail "deps.sh --build does not want libhiredis-dev"
wants --build | grep -x >/dev/null liburing-dev || fail "deps.sh --build does not want liburing-dev"
wants --test | grep -x >/dev/null redis-server || fail "deps.sh --test does not want redis-server"
wants --test | grep -x >/dev/null haproxy || fail "deps.sh --test does not want haproxy"
# make run-cluster: the build, redis-server and haproxy, no test peer.
[ "$(wants --cluster | grep -cx 'redis-server\|haproxy')" = 2 ] || fail "deps.sh --cluster: $(wants --cluster | tr '\n' ' ')"
! wants --cluster | grep -x >/dev/null 'nodejs\|npm\|chromium' || fail "deps.sh --cluster wants test peers"
# A Node already installed (here: the one running the other tests) is kept, with its npm.
if command -v node >/dev/null && command -v npm >/dev/null; then
  ! wants --test | grep -x >/dev/null 'nodejs\|npm' || fail "deps.sh --test replaces the installed $(command -v node)"
fi
[ "$(wants --fuzz | grep -cx 'clang\|libclang-rt-dev')" = 2 ] || fail "deps.sh --fuzz: $(wants --fuzz | tr '\n' ' ')"
! grep -nE '(clang|llvm|gcc)[a-z-]*-[0-9]+' Makefile scripts/deps.sh || fail "a compiler version is hard-coded"

# make seed on a kernel-picked port.
out=$(mktemp)
trap 'kill -TERM -- -"$pid" 2>/dev/null || true; rm -f "$out"' EXIT
setsid make -s seed BUILD="$WSK_BUILD" SEED_PORT=0 >"$out" 2>&1 &
pid=$!
port=
for _ in $(seq 1 200); do
  port=$(sed -n 's|^listening on http://localhost:\([0-9]*\) .*|\1|p' "$out")
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || fail "make seed did not start: $(cat "$out")"
grep -q '^seed: open examples/justWs.html in a browser' "$out" || fail "make seed does not say what to open: $(cat "$out")"
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
reply=$(timeout 5 cat <&3)
exec 3<&-
grep -q 'I am connected!' <<<"$reply" || fail "seed server answered: $reply"
kill -TERM -- -"$pid"
wait "$pid" || true
echo "make_targets: make run builds wsk alone and serves rooms, deps.sh asks per target, make seed works"
