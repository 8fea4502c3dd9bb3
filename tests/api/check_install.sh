#!/usr/bin/env bash
# check_install - `cmake --install` into a scratch prefix gives a library,
# header, pkg-config file and CMake package that consumers can build with,
# both through pkg-config and through find_package(mmapurl).
set -euo pipefail
build=$1 src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
libdir=$(find "$tmp/prefix" -name 'libmmapurl.so.*.*' -printf '%h\n' | head -n1)
test -f "$tmp/prefix/include/mmapurl.h"
test -L "$libdir/libmmapurl.so"
# pkg-config consumer
PKG_CONFIG_PATH="$libdir/pkgconfig" cc -Wall -Werror -o "$tmp/s3cat-pc" "$src/examples/s3cat.c" \
  $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs mmapurl)
LD_LIBRARY_PATH="$libdir" "$tmp/s3cat-pc" 2>/dev/null && exit 1 || test $? -eq 2
PKG_CONFIG_PATH="$libdir/pkgconfig" cc -Wall -Werror -o "$tmp/mmap_to_stdout-pc" \
  "$src/examples/mmap_to_stdout.c" $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs mmapurl)
LD_LIBRARY_PATH="$libdir" "$tmp/mmap_to_stdout-pc" 2>/dev/null && exit 1 || test $? -eq 2
# CMake consumer
cmake -S "$src/tests/api/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/consumer" >/dev/null
LD_LIBRARY_PATH="$libdir" "$tmp/consumer/consumer"
echo "install ok"
