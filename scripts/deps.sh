#!/usr/bin/env bash
# Makes sure this machine has what wsk needs, and installs what is missing.
#   scripts/deps.sh --build   compilers and libraries (cmake, gcc, clang, OpenSSL, zlib, pkg-config)
#   scripts/deps.sh --test    the above, plus the test peers: Node's ws and playwright-core (npm ci,
#                             pinned by package-lock.json) and Debian's chromium
#   scripts/deps.sh           everything, including the tools of `make dev` and `make bench`
# As root it installs missing Debian packages with apt-get; otherwise it prints the exact
# apt-get line to run and fails.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}

build_pkgs="cmake make gcc clang libclang-rt-14-dev libssl-dev zlib1g-dev pkg-config openssl"
test_pkgs="nodejs chromium procps iproute2 valgrind cppcheck clang-tidy"
extra_pkgs="inotify-tools util-linux"

want=$build_pkgs
case "$mode" in
  --build) ;;
  --test) want="$want $test_pkgs" ;;
  *) want="$want $test_pkgs $extra_pkgs" ;;
esac

missing=()
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    # nodejs may come from outside Debian (nodesource, nvm): a working node counts.
    if [ "$p" = nodejs ] && command -v node >/dev/null && command -v npm >/dev/null; then continue; fi
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || true
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "deps: missing Debian packages; run as root:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if [ "$mode" != --build ]; then
  # Node peers, pinned by the lockfile; reinstalled only when the lockfile changed.
  stamp=node_modules/.wsk-lock-stamp
  if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    echo "deps: npm ci (ws, playwright-core, bufferutil, utf-8-validate)"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    cp package-lock.json "$stamp"
  fi
fi
