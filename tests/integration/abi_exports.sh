#!/usr/bin/env bash
# The shared library's ABI surface: libwsk.so exports exactly the functions the public headers
# declare with WSK_API (nothing internal leaks: the objects are built with hidden visibility), its
# SONAME follows the README's version policy (libwsk.so.0.MINOR while the major is 0,
# libwsk.so.MAJOR from 1.0 on), each public header compiles on its own, as C11 and as C++, and
# every other global symbol of libwsk.a is internal by name (wsk__ prefix).
set -euo pipefail
: "${WSK_BUILD:?}" "${WSK_SRC:?}"
lib="$WSK_BUILD/libwsk.so"
[ -f "$lib" ] || { echo "abi_exports: no $lib" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Defined dynamic symbols, without version suffixes. GCC's target_clones (wsk_mask's AVX2 clone)
# adds an IFUNC resolver named "<function>.resolver": not a C name, not callable, left out.
nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | grep -v '\.resolver$' |
  sort -u >"$work/exported"
# WSK_API declarations: the name before the first "(" of each declaration line.
cat "$WSK_SRC"/include/*.h | grep -E '^WSK_API ' | sed -E 's/\(.*//; s/.*[ *]//' | sort -u \
  >"$work/declared"
[ -s "$work/declared" ] || { echo "abi_exports: no WSK_API declaration found" >&2; exit 1; }
if ! diff -u "$work/declared" "$work/exported" >"$work/diff"; then
  echo "abi_exports: the exports differ from the WSK_API declarations (- declared only, + exported only):" >&2
  grep -E '^[-+][a-z_]' "$work/diff" >&2
  exit 1
fi
if grep -q '^wsk__' "$work/exported"; then echo "abi_exports: an internal wsk__ name is exported" >&2; exit 1; fi
# Naming: every global symbol of the static library is either API (declared) or internal with
# the wsk__ prefix, so that no internal name looks like API and none can clash with a program's.
nm "$WSK_BUILD/libwsk.a" 2>/dev/null | awk '$2 ~ /^[TDBRVWi]$/ {print $3}' | grep -v '\.resolver$' |
  grep -v '^wsk__' | sort -u | comm -23 - "$work/declared" >"$work/misnamed"
if [ -s "$work/misnamed" ]; then
  echo "abi_exports: global symbols neither declared with WSK_API nor named wsk__*:" >&2
  cat "$work/misnamed" >&2
  exit 1
fi

major=$(sed -nE 's/^#define WSK_VERSION_MAJOR ([0-9]+).*/\1/p' "$WSK_SRC/include/wsk_proto.h")
minor=$(sed -nE 's/^#define WSK_VERSION_MINOR ([0-9]+).*/\1/p' "$WSK_SRC/include/wsk_proto.h")
want=libwsk.so.$major
[ "$major" = 0 ] && want=libwsk.so.0.$minor
soname=$(readelf -d "$lib" | sed -nE 's/.*Library soname: \[(.*)\].*/\1/p')
[ "$soname" = "$want" ] || { echo "abi_exports: SONAME $soname, the policy says $want" >&2; exit 1; }
for h in "$WSK_SRC"/include/*.h; do
  printf '#include "%s"\nint main(void) { return 0; }\n' "$(basename "$h")" >"$work/alone.c"
  cc -std=c11 -Wall -Wextra -Werror -pedantic -I"$WSK_SRC/include" -c "$work/alone.c" -o "$work/alone.o" ||
    { echo "abi_exports: $(basename "$h") does not compile on its own (C11)" >&2; exit 1; }
  if command -v c++ >/dev/null; then
    c++ -x c++ -Wall -Werror -I"$WSK_SRC/include" -c "$work/alone.c" -o "$work/alone.o" ||
      { echo "abi_exports: $(basename "$h") does not compile on its own (C++)" >&2; exit 1; }
  fi
done
echo "abi_exports: $(wc -l <"$work/exported") functions exported, as declared; SONAME $soname"
