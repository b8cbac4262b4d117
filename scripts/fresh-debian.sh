#!/usr/bin/env bash
# `make fresh-check`: a new user's path on a stock Debian 12, for real. Builds a minimal bookworm
# root with Debian's debootstrap, puts a fresh clone of this repository (its committed HEAD) in
# /root/wsk there, and runs the README's set-up commands inside it as root: `make run` (then
# checks the chat page and a WebSocket message relayed between two clients, and stops the server
# by its PID) and `make test`. Needs root, the network to the apt mirror and the npm registry, and
# port 8000 free (the chroot shares this machine's network). Not part of `make test` or CI: it
# downloads and installs everything from scratch (see the README for how long it takes).
#   FRESH_ROOT=DIR   where to build the root (default /var/tmp/wsk-fresh; emptied first)
#   FRESH_KEEP=1     keep the root afterwards
#   FRESH_MIRROR=URL the Debian mirror (default: the first deb.debian.org-style URI in
#                    /etc/apt/sources.list*, else http://deb.debian.org/debian)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
root=${FRESH_ROOT:-/var/tmp/wsk-fresh}
log() { printf 'fresh-check: %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

# The README's set-up commands, in order, exactly as the README has them (tests/integration/
# readme.test.js checks that the README's fenced block and this list are the same).
QUICK_START=(
  "apt-get install -y make"
  "make run"
  "make test"
)

[ "$(id -u)" = 0 ] || fail "run as root (debootstrap and chroot need it)"
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
mirror=${FRESH_MIRROR:-$(cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
  awk '/^(URIs:|deb) +https?:\/\/[^ ]+\/debian\/?( |$)/ { print $2; exit }' || true)}
mirror=${mirror:-http://deb.debian.org/debian}
if ss -ltn 2>/dev/null | grep -q ':8000 '; then fail "port 8000 is in use here; make run needs it"; fi

server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  for m in dev/pts dev/shm sys proc; do
    mountpoint -q "$root/$m" && umount "$root/$m" 2>/dev/null || umount -l "$root/$m" 2>/dev/null || true
  done
  if [ "${FRESH_KEEP:-0}" != 1 ] && [ -d "$root" ]; then
    if findmnt -rn -o TARGET | grep -q "^$root/"; then
      log "not removing $root: something is still mounted under it"
    else
      rm -rf "$root"
    fi
  fi
}
trap cleanup EXIT

t0=$SECONDS
step_start=$SECONDS
step() { log "$1 ($((SECONDS - step_start)) s)"; step_start=$SECONDS; }

rm -rf "$root"
mkdir -p "$root"
log "debootstrap --variant=minbase bookworm $root $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
  fail "debootstrap failed; see $root.debootstrap.log"
rm -f "$root.debootstrap.log"
# A stock bookworm also has the security and updates suites.
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian*}/debian-security bookworm-security main
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf"
# debootstrap writes no /etc/hosts; Debian's installer writes this one (localhost resolves).
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
mount -t proc proc "$root/proc"
mount -t sysfs -o ro sysfs "$root/sys"
mkdir -p "$root/dev/pts" "$root/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
ln -sf pts/ptmx "$root/dev/ptmx" # pseudo-terminals from the root's own devpts (script(1) in the tests)
# This machine may reach the npm registry through a TLS-inspecting proxy whose CA it trusts
# (/usr/local/share/ca-certificates): Node in the root is told to trust the same certificates,
# or `npm ci` fails with SELF_SIGNED_CERT_IN_CHAIN. A machine without such a proxy has none.
node_ca=()
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
  mkdir -p "$root/etc/ssl"
  cat /usr/local/share/ca-certificates/*.crt >"$root/etc/ssl/host-extra-ca.pem"
  node_ca=(NODE_EXTRA_CA_CERTS=/etc/ssl/host-extra-ca.pem)
fi
git clone -q --no-local "$repo" "$root/root/wsk"
chroot "$root" apt-get update -qq >/dev/null
step "minimal bookworm root ready"

# Run one command in the root as a new user's shell would: a clean environment, in the clone.
shell=(chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb "${node_ca[@]}"
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin bash -c)
in_root() { "${shell[@]}" "cd /root/wsk && $1"; }

for cmd in "${QUICK_START[@]}"; do
  log "\$ $cmd"
  case "$cmd" in
    "make run")
      "${shell[@]}" "cd /root/wsk && exec $cmd" >"$root/run.log" 2>&1 &
      make_pid=$! # (chroot, env and bash exec: this is make's PID)
      for _ in $(seq 1 1800); do
        grep -q 'listening on ws://' "$root/run.log" && break
        kill -0 "$make_pid" 2>/dev/null || fail "make run exited: $(tail -n 20 "$root/run.log")"
        sleep 0.5
      done
      grep -q 'listening on ws://' "$root/run.log" || fail "make run did not start in 15 min"
      server=$(ps -o pid= --ppid "$make_pid" | tr -d ' ')
      [ -n "$server" ] || fail "no server process under make ($make_pid)"
      step "make run: built and serving (server PID $server)"
      page=$(in_root 'exec 3<>/dev/tcp/127.0.0.1/8000; printf "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" >&3; timeout 5 cat <&3')
      grep -q '^HTTP/1.1 200' <<<"$page" && grep -qi '<html' <<<"$page" || fail "the chat page: $page"
      # Two clients: one listens (its welcome, then what the other sends), one sends.
      in_root 'build/wsk connect ws://127.0.0.1:8000/ --wait 3 </dev/null' >"$root/listener.log" 2>&1 &
      listener=$!
      sleep 1
      in_root "build/wsk connect ws://127.0.0.1:8000/ -x 'hello from a fresh Debian' --wait 0.5" >/dev/null
      wait "$listener" || fail "the listening client: $(cat "$root/listener.log")"
      grep -qx 'Welcome to the websocket server!!!' "$root/listener.log" &&
        grep -qx 'hello from a fresh Debian' "$root/listener.log" || fail "WebSocket relay: $(cat "$root/listener.log")"
      kill -TERM "$server"
      wait "$make_pid" || fail "make run did not stop cleanly: $(tail -n 5 "$root/run.log")"
      server=
      step "make run: page served, message relayed, server stopped"
      ;;
    *)
      in_root "$cmd" >"$root/step.log" 2>&1 || { tail -n 60 "$root/step.log" >&2; fail "$cmd"; }
      grep -E 'tests passed|tests failed' "$root/step.log" >&2 || true
      step "$cmd: done"
      ;;
  esac
done
log "passed in $((SECONDS - t0)) s (node $(in_root 'node --version'), npm $(in_root 'npm --version'))"
