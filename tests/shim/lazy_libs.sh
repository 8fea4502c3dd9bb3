#!/usr/bin/env bash
# lazy_libs.sh: the shim loads libcurl and libcrypto at a process's first S3
# request, not when it is preloaded (core/util/libs.c). A program that never
# touches /s3 maps neither; one that has read an object under /s3 maps both
# (and read the right bytes). The program is bash: `read` and `mapfile` are
# builtins, so the shell's own process opens the object and reads its own
# /proc/self/maps.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
shim_init

# bash -c "$libs_mapped" _ [OBJECT]: the first 5 bytes of OBJECT if given,
# then "libcrypto" and "libcurl" for each of them mapped in the shell.
# shellcheck disable=SC2016 # expanded by the bash that runs it
libs_mapped='
if (($#)); then IFS= read -r -N 5 head <"$1"; printf "%s\n" "$head"; fi
mapfile -t maps </proc/self/maps
for l in "${maps[@]}"; do
  case $l in */libcurl.so*) echo libcurl ;; */libcrypto.so*) echo libcrypto ;; esac
done | sort -u'

if ! selftest_skip "lazy libraries (only the shim loads them)"; then
  expect "no /s3 access: neither libcurl nor libcrypto mapped" --status 0 --stdout "" \
    -- bash -c "$libs_mapped" _
  expect "no /s3 access, a local file read: neither mapped" --status 0 --stdout "00001
" -- bash -c "$libs_mapped" _ "$LOCAL/text.txt"
  expect "after reading $B/text.txt: both mapped" --status 0 --stdout "00001
libcrypto
libcurl
" -- bash -c "$libs_mapped" _ "$B/text.txt"
fi
finish
