#!/usr/bin/env bash
# stats.sh: mmapurl-run --stats=FILE writes a JSON report at exit; it shows
# that a full read downloads at least the object, and that reads are lazy:
# head -c 100 or one 4 KiB block of a 3 MiB object download far less than
# the object (< 1 MiB).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
shim_init

R=$B/random.bin
size_r=$(manifest_field random.bin 2)
MiB=1048576

# downloaded NAME MIN MAX CMD...: run CMD through mmapurl-run --stats, check
# its stdout against the same command on the local copy, and MIN <=
# bytes_downloaded < MAX.
downloaded() {
  local name=$1 min=$2 max=$3 json=$T/stats.json st=0 lst=0 lines=() got
  shift 3
  rm -f "$json"
  shim_exec --stats="$json" "$@" >"$T/s.out" 2>"$T/s.err" </dev/null || st=$?
  count_hang "$st"
  local_exec "$@" 2>/dev/null </dev/null | from_local >"$T/l.out" || lst=${PIPESTATUS[0]}
  [[ $st == "$lst" ]] || lines+=("exit status: shim $(describe_status "$st"), local $lst")
  cmp -s "$T/s.out" "$T/l.out" || lines+=("stdout differs from the local run: $(cmp "$T/s.out" "$T/l.out" 2>&1 | sed "s|$T/||g" || true)")
  if [[ ! -s $json ]]; then
    lines+=("no stats report written to --stats=FILE")
  elif ! got=$("$PY" -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["bytes_downloaded"]))' "$json" 2>&1); then
    lines+=("report without a numeric bytes_downloaded: $(head -c 400 "$json")" "$got")
  elif ((got < min || got >= max)); then
    lines+=("bytes_downloaded $got, want >= $min and < $max" "report: $(head -c 400 "$json")")
  fi
  if ((${#lines[@]} == 0)); then
    ok "$name (bytes_downloaded $got)"
  else
    fail "$name" "shim:  mmapurl-run --stats=FILE $(quoted "$@")" "${lines[@]}" \
      "stderr: $(head -c 600 "$T/s.err" | head -5)"
  fi
}

if ! selftest_skip "stats (a report only mmapurl-run writes)"; then
  downloaded "cat: downloads the whole object" "$size_r" $((1 << 40)) cat "$R"
  downloaded "sha256sum: downloads the whole object" "$size_r" $((1 << 40)) sha256sum "$R"
  downloaded "head -c 100: lazy, < 1 MiB" 100 "$MiB" head -c 100 "$R"
  downloaded "dd one 4 KiB block at 2 MiB: lazy, < 1 MiB" 4096 "$MiB" \
    dd if="$R" bs=4096 skip=512 count=1 status=none
  downloaded "tail -c 100: lazy, < 1 MiB" 100 "$MiB" tail -c 100 "$R"
  downloaded "stat only: < 1 MiB" 0 "$MiB" stat -c %s "$R"
  downloaded "python mmap, one byte: lazy, < 1 MiB" 1 "$MiB" "$PY" -c \
    'import mmap, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); m = mmap.mmap(fd, 0, access=mmap.ACCESS_READ); print(m[1500000])' "$R"
fi
finish
