#!/usr/bin/env bash
# `make install` into a scratch DESTDIR, then build a tiny program against the installed copy twice:
# once with pkg-config and once with CMake's find_package(wsk). Both must compile, link and run.
set -euo pipefail
: "${WSK_BUILD:?}" "${WSK_SRC:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

cmake --install "$WSK_BUILD" --prefix "$prefix" >/dev/null
for f in include/wsk.h lib/libwsk.a lib/pkgconfig/wsk.pc lib/cmake/wsk/wskConfig.cmake bin/wsk; do
  [ -e "$prefix/$f" ] || { echo "install: $f missing" >&2; exit 1; }
done
ls "$prefix"/lib/libwsk.so* >/dev/null

cat > "$work/hello.c" <<'C'
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

# A sanitizer build's library needs the program linked with the same runtime.
cflags=
if grep -q '^WSK_SANITIZE:BOOL=ON' "$WSK_BUILD/CMakeCache.txt"; then
  cflags="-fsanitize=address,undefined"
fi

# pkg-config, shared library
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cc $cflags "$work/hello.c" -o "$work/hello_pc" $(pkg-config --cflags --libs wsk)
LD_LIBRARY_PATH="$prefix/lib" "$work/hello_pc"

# pkg-config, static library
cc $cflags "$work/hello.c" -o "$work/hello_static" $(pkg-config --static --cflags wsk) "$prefix/lib/libwsk.a" \
  $(pkg-config --static --libs-only-l wsk | sed 's/-lwsk//')
"$work/hello_static"

# CMake find_package
mkdir -p "$work/cm"
cat > "$work/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(hello C)
find_package(wsk REQUIRED)
add_executable(hello ../hello.c)
target_link_libraries(hello PRIVATE wsk::wsk)
CM
cmake -S "$work/cm" -B "$work/cm/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="$cflags" \
  -DCMAKE_EXE_LINKER_FLAGS="$cflags" >/dev/null
cmake --build "$work/cm/build" >/dev/null
LD_LIBRARY_PATH="$prefix/lib" "$work/cm/build/hello"
echo "install: pkg-config (shared, static) and find_package(wsk) all work"
