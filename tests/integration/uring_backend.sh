#!/usr/bin/env bash
# The loop's backends: io_uring by default or when asked for (wsk_loop_new_with,
# WSK_LOOP_BACKEND, wsk serve --io-uring) and the kernel offers it, else epoll
# with the reason (forced here with tests/no_uring, a seccomp filter that makes io_uring_setup fail with EPERM,
# as kernel.io_uring_disabled=2 does); no fallback when the options forbid it. In the io_uring
# pass of the suite (uring/...), it also checks that the pass really gets io_uring.
set -euo pipefail
: "${WSK_BUILD:?}"
wsk=$WSK_BUILD/wsk
lb=$WSK_BUILD/tests/loop_backend
nou=$WSK_BUILD/tests/no_uring
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "uring_backend: $*" >&2; exit 1; }
# expect_fallback WHAT GOT: GOT is epoll with the reason the seccomp filter gives.
expect_fallback() {
  case "$2" in
    "epoll: io_uring_setup: Operation not permitted"*) ;;
    *) fail "$1: expected a fallback to epoll with the reason, got '$2'" ;;
  esac
}

# The library's choice, with and without the kernel's consent.
[ "$(env -u WSK_LOOP_BACKEND "$lb" default)" = io_uring ] || fail "the default is not io_uring"
expect_fallback "default, io_uring refused" "$(env -u WSK_LOOP_BACKEND "$nou" "$lb" default)"
[ "$(WSK_LOOP_BACKEND=epoll "$lb" default)" = epoll ] || fail "WSK_LOOP_BACKEND=epoll ignored"
[ "$("$lb" epoll)" = epoll ] || fail "epoll asked for, not given"
[ "$("$lb" io_uring strict)" = io_uring ] || fail "io_uring not given on this kernel: $("$lb" io_uring strict)"
[ "$(WSK_LOOP_BACKEND=io_uring "$lb" default)" = io_uring ] || fail "WSK_LOOP_BACKEND=io_uring ignored"
expect_fallback "refused io_uring" "$("$nou" "$lb" io_uring)"
[ "$("$nou" "$lb" io_uring strict)" = "failed: Function not implemented" ] ||
  fail "no_fallback: expected ENOSYS, got '$("$nou" "$lb" io_uring strict)'"
case "${WSK_LOOP_BACKEND:-}" in
  io_uring) [ "$("$lb" default)" = io_uring ] || fail "the io_uring pass of the suite does not get io_uring" ;;
  epoll) [ "$("$lb" default)" = epoll ] || fail "the epoll pass of the suite does not get epoll" ;;
esac
# Through the environment, a refused io_uring falls back to epoll (the reason in
# wsk_loop_backend_why).
expect_fallback "WSK_LOOP_BACKEND=io_uring refused" "$(WSK_LOOP_BACKEND=io_uring "$nou" "$lb" default)"

# wsk serve: what it says about its loop, and that it echoes either way.
serve() { # serve LOG [PREFIX...] -- ARGS: start a server, set pid and port
  local log=$1; shift
  local pre=()
  while [ "$1" != -- ]; do pre+=("$1"); shift; done
  shift
  "${pre[@]}" "$wsk" serve --echo --quiet --port 0 "$@" 2>"$log" &
  pid=$!
  for _ in $(seq 100); do grep -q 'listening on' "$log" && break; sleep 0.05; done
  port=$(sed -nE 's/.*listening on ws:\/\/[^ ]*:([0-9]+)$/\1/p' "$log")
  [ -n "$port" ] || fail "server did not start: $(cat "$log")"
}
check_echo() {
  local out
  out=$("$wsk" connect "ws://127.0.0.1:$port/" -x "hello $1" --wait 0.5 2>/dev/null)
  [ "$out" = "hello $1" ] || fail "$1: no echo (got '$out')"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
}
serve "$work/a" env -- --io-uring
grep -qx 'wsk: event loop: io_uring' "$work/a" || fail "--io-uring: $(cat "$work/a")"
check_echo io_uring
serve "$work/b" "$nou" -- --io-uring
grep -qx 'wsk: event loop: epoll (io_uring is not available: io_uring_setup: Operation not permitted (kernel.io_uring_disabled?))' "$work/b" ||
  fail "refused io_uring: $(cat "$work/b")"
check_echo fallback
serve "$work/c" env WSK_LOOP_BACKEND=io_uring -- --epoll
if grep -q 'event loop' "$work/c"; then fail "--epoll: $(cat "$work/c")"; fi
check_echo epoll
serve "$work/d" env -u WSK_LOOP_BACKEND -- # the default says nothing about its loop
if grep -q 'event loop' "$work/d"; then fail "default: $(cat "$work/d")"; fi
check_echo default
echo "uring_backend: io_uring when asked for, epoll with the reason when the kernel refuses it"
