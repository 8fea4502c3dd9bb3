#!/usr/bin/env bash
# smoke.sh - ctest smoke run of scripts/bench-shim-overhead on an existing
# build: one round of a few iterations, checking only that the table has
# each operation with a number without and with the shim, and a ratio.
# It must never judge the numbers (that is not a test's job on shared CI).
#
#   smoke.sh SCRIPT BUILD_DIR
set -u
script=$1 build=$2
out=$(bash "$script" -b "$build" -r 1 -n 200) || { echo "$out"; echo "FAIL: the benchmark failed"; exit 1; }
echo "$out"
num='[0-9]+(\.[0-9]+)?'
for op in open_fstat_read4k_close stat read_1mib_seq; do
  if ! grep -qE "^$op +$num +$num +$num\$" <<<"$out"; then
    echo "FAIL: no row '$op  WITHOUT  WITH  RATIO' in the table"
    exit 1
  fi
done
echo "benchmark smoke run passed"
