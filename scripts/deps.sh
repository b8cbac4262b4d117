#!/usr/bin/env bash
# Makes sure this machine has what a make target needs, and installs what is missing. Each target
# asks only for its own: a plain build installs no test peer, no clang.
#   scripts/deps.sh --build      cmake, make, gcc, OpenSSL, zlib, hiredis, liburing, pkg-config (make run,
#                                make seed)
#   scripts/deps.sh --test       the above, plus the test peers: Node (>= 18) with npm, then Node's
#                                ws and playwright-core (npm ci, pinned by package-lock.json),
#                                Debian's chromium, openssl, procps, iproute2, redis-server, haproxy
#                                (make test, sanitize)
#   scripts/deps.sh --cluster    --build, redis-server and haproxy (make run-cluster)
#   scripts/deps.sh --valgrind   --test and valgrind
#   scripts/deps.sh --lint       --build, cppcheck and clang-tidy
#   scripts/deps.sh --fuzz       --build, clang and its libFuzzer runtime (Debian's default clang)
#   scripts/deps.sh --dev        --build and inotify-tools (make dev)
#   scripts/deps.sh              everything
#   scripts/deps.sh --list MODE  print the Debian packages MODE would want, one a line, and stop
# A Node that is already installed (Debian's, NodeSource's, nvm's) is used as it is; Debian's
# nodejs comes without npm, so Debian's npm is added to it. As root, missing Debian packages are
# installed with apt-get; otherwise the exact apt-get line to run is printed and it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
list=0
if [ "${1:-}" = --list ]; then
  list=1
  shift
fi
mode=${1:---all}

build_pkgs="cmake make gcc libc6-dev libssl-dev zlib1g-dev libhiredis-dev liburing-dev pkg-config"
cluster_pkgs="redis-server haproxy"
test_pkgs="chromium openssl procps iproute2 $cluster_pkgs"
want=$build_pkgs
node=0
case "$mode" in
  --build) ;;
  --test) want="$want $test_pkgs"; node=1 ;;
  --valgrind) want="$want $test_pkgs valgrind"; node=1 ;;
  --lint) want="$want cppcheck clang-tidy" ;;
  --fuzz) want="$want clang libclang-rt-dev" ;;
  --dev) want="$want inotify-tools" ;;
  --cluster) want="$want $cluster_pkgs" ;;
  --all) want="$want $test_pkgs valgrind cppcheck clang-tidy clang libclang-rt-dev inotify-tools"; node=1 ;;
  *) echo "deps: unknown mode '$mode' (--build, --test, --valgrind, --lint, --fuzz, --dev, --cluster)" >&2; exit 2 ;;
esac

# Node: keep any node already on the PATH; Debian's nodejs needs Debian's npm beside it.
if [ "$node" = 1 ]; then
  if ! command -v node >/dev/null; then
    want="$want nodejs npm"
  elif ! command -v npm >/dev/null; then
    if dpkg -S "$(readlink -f "$(command -v node)")" 2>/dev/null | grep -q '^nodejs:'; then
      want="$want npm"
    else
      echo "deps: $(command -v node) has no npm beside it: install npm for that Node" >&2
      exit 1
    fi
  fi
fi

if [ "$list" = 1 ]; then
  printf '%s\n' $want
  exit 0
fi

missing=()
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
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

if [ "$node" = 1 ]; then
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 18 ]; then
    echo "deps: node $(node --version) is too old: the test peers need Node 18 or later" >&2
    exit 1
  fi
  # Node peers, pinned by the lockfile; reinstalled only when the lockfile changed.
  stamp=node_modules/.wsk-lock-stamp
  if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    echo "deps: npm ci (ws, playwright-core, bufferutil, utf-8-validate)"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    cp package-lock.json "$stamp"
  fi
fi
