#!/usr/bin/env bash
# The README's "A server in 30 lines", built and run exactly as the README says: its C block is
# server.c, and its commands (make install PREFIX=$HOME/.local, the PKG_CONFIG_PATH export, the cc
# line with pkg-config) run as written, with HOME in a scratch directory and the build directory
# of this test run; then ./server (on a kernel-picked port) must start without LD_LIBRARY_PATH,
# greet and echo a Node ws client, and close it with 1001 and exit 0 on SIGTERM. Also: the static
# library through pkg-config, and CMake's find_package(wsk) with the wsk::wsk target the README
# names. And the README's poll() client on the sans-I/O core ("The core in your own loop"),
# built the same way, talks to ./server.
set -euo pipefail
: "${WSK_BUILD:?}" "${WSK_SRC:?}"
work=$(mktemp -d)
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "install: $*" >&2; exit 1; }

# The fenced block (```lang) that follows the first line matching $1 in the README.
block() { awk -v start="$1" -v lang="$2" '
  index($0, start) { on = 1 } on && $0 == "```" lang { inside = 1; next }
  inside && $0 == "```" { exit } inside { print }' "$WSK_SRC/README.md"; }
mkdir -p "$work/app"
block '## A server in ' c >"$work/app/server.c"
grep -q 'wsk_server_new' "$work/app/server.c" || fail "no C block under '## A server in' in the README"
mapfile -t commands < <(block 'Build it against an installed wsk' sh)
[ "${#commands[@]}" -ge 3 ] || fail "no sh block after 'Build it against an installed wsk'"
[ "${commands[-1]}" = ./server ] || fail "the README's block should end with ./server"
grep -q 'wsk::wsk' "$WSK_SRC/README.md" || fail "the README does not name the CMake target wsk::wsk"

# A sanitizer build's library needs programs linked with the same runtime: `cc` gets the flags
# through a wrapper first in PATH, so that the README's line stays as it is.
cflags=
if grep -q '^WSK_SANITIZE:BOOL=ON' "$WSK_BUILD/CMakeCache.txt"; then
  cflags="-fsanitize=address,undefined"
  mkdir -p "$work/bin"
  printf '#!/bin/sh\nexec /usr/bin/cc %s "$@"\n' "$cflags" >"$work/bin/cc"
  chmod +x "$work/bin/cc"
  export PATH="$work/bin:$PATH"
fi

export HOME="$work/home"
mkdir -p "$HOME"
unset PKG_CONFIG_PATH LD_LIBRARY_PATH
for cmd in "${commands[@]:0:${#commands[@]}-1}"; do
  echo "install: \$ $cmd"
  case "$cmd" in
    # The one addition: which build directory to install from (this test run's).
    "make install "*) (cd "$WSK_SRC" && eval "$cmd BUILD=\"\$WSK_BUILD\"" >/dev/null) ;;
    *) cd "$work/app" && eval "$cmd" ;;
  esac
done
for f in include/wsk.h include/wsk_proto.h lib/libwsk.a lib/pkgconfig/wsk.pc lib/cmake/wsk/wskConfig.cmake bin/wsk; do
  [ -e "$HOME/.local/$f" ] || fail "$f missing"
done

# ./server, on port 0 (its argument) instead of 8000.
cd "$work/app"
./server 0 2>"$work/server.err" &
server_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/^listening on port \([0-9]*\)$/\1/p' "$work/server.err")
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || fail "./server did not start: $(cat "$work/server.err")"
  sleep 0.05
done
[ -n "$port" ] || fail "./server printed no port: $(cat "$work/server.err")"
# The README's client on the sans-I/O core, in its own poll() loop, against ./server.
block '## The core in your own loop' c >"$work/app/client.c"
grep -q 'wsk_session_feed' "$work/app/client.c" || fail "no C block under '## The core in your own loop'"
(cd "$work/app" && cc client.c $(pkg-config --cflags --libs wsk) -o client)
[ "$("$work/app/client" "$port")" = "$(printf 'Welcome!\nhello')" ] || fail "the README's poll() client"
node -e '
  const WebSocket = require("ws");
  const [port, pid] = process.argv.slice(1).map(Number);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  const got = [];
  const timer = setTimeout(() => { console.error("no close within 10 s", got); process.exit(1); }, 10000);
  ws.on("message", (d) => {
    got.push(d.toString());
    if (got.length === 1) ws.send("hello");
    if (got.length === 2) process.kill(pid, "SIGTERM");
  });
  ws.on("close", (code) => {
    clearTimeout(timer);
    if (code !== 1001 || got.join("|") !== "Welcome!|hello") {
      console.error("got", got, "close", code);
      process.exit(1);
    }
  });' "$port" "$server_pid"
wait "$server_pid" || fail "./server exited with $? after SIGTERM: $(cat "$work/server.err")"
server_pid=

# pkg-config, static library
prefix="$HOME/.local"
cat >"$work/hello.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <wsk.h>
int main(void) {
  char accept[WSK_ACCEPT_LEN + 1];
  const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
  wsk_handshake_accept(key, strlen(key), accept);
  puts(accept);
  return strcmp(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != 0;
}
C
cc "$work/hello.c" -o "$work/hello_static" $(pkg-config --static --cflags wsk) "$prefix/lib/libwsk.a" \
  $(pkg-config --static --libs-only-l wsk | sed 's/-lwsk//')
"$work/hello_static" >/dev/null

# CMake find_package, target wsk::wsk, no LD_LIBRARY_PATH
mkdir -p "$work/cm"
cat >"$work/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(hello C)
find_package(wsk REQUIRED)
add_executable(hello ../hello.c)
target_link_libraries(hello PRIVATE wsk::wsk)
CM
cmake -S "$work/cm" -B "$work/cm/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="$cflags" \
  -DCMAKE_EXE_LINKER_FLAGS="$cflags" >/dev/null
cmake --build "$work/cm/build" >/dev/null
"$work/cm/build/hello" >/dev/null
echo "install: the README's build commands, ./server, static pkg-config and find_package(wsk) work"
