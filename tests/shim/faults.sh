#!/usr/bin/env bash
# faults.sh: the server failing under unmodified programs, on the `faults`
# fixture (tests/servers/s3_test_endpoint.py serving bucket mmapurl-test
# from $MU_IT_STATE/objects; faults armed through MU_TEST_CONTROL_URL).
#  - transient failures (503 SlowDown, a reset or a short body once) are
#    retried: the output is still byte-identical;
#  - every GET after the first failing (reset) or stalling: read() fails
#    with EIO ("Input/output error", plain nonzero exit), what was written
#    before is a prefix of the object (never wrong bytes, never a silent
#    early EOF), and an mmap reader dies by SIGBUS (status 135);
#  - everything under `timeout`, so a hang fails instead of blocking CI.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
shim_init
ulimit -c 0                     # the SIGBUS check would leave a core file

BIG=/s3/mmapurl-test/size-5MiB  # 5 MiB + 123 bytes
BIG_LOCAL=$LOCAL_MU/size-5MiB
ctl=${MU_TEST_CONTROL_URL:?MU_TEST_CONTROL_URL not set: run with the faults env file}
export AWS_MAX_ATTEMPTS=2 MMAPURL_RETRY_BASE=10ms

control() { # control PATH [JSON]
  curl -sS -f -o /dev/null -X POST --data "${2:-{\}}" "$ctl$1"
}
# Every object GET after the first one fails with ACTION (JSON members).
arm_after_first() {
  control /__reset
  control /__fault '{"action":"delay","seconds":0,"count":1}'
  control /__fault "{$1,\"count\":-1}"
}

# eio NAME CMD...: CMD must fail plainly, say "Input/output error" on stderr,
# and its stdout must be a strict prefix of the object.
eio() {
  local name=$1 st=0 lines=() size got
  shift
  shim_exec "$@" >"$T/eio.out" 2>"$T/eio.err" </dev/null || st=$?
  count_hang "$st"
  control /__reset
  if ((st == 0 || st == 124 || st > 128)); then
    lines+=("exit status $(describe_status "$st"), want a plain failure (1..123)")
  fi
  grep -qF "Input/output error" "$T/eio.err" || lines+=("stderr lacks 'Input/output error'")
  size=$(stat -c %s "$BIG_LOCAL")
  got=$(stat -c %s "$T/eio.out")
  if ((got >= size)); then
    lines+=("stdout has $got bytes: the whole object (or more), want fewer")
  elif ((got > 0)) && ! cmp -s -n "$got" "$T/eio.out" "$BIG_LOCAL"; then
    lines+=("stdout is not a prefix of the object: $(cmp -n "$got" "$T/eio.out" "$BIG_LOCAL" 2>&1 | sed "s|$T/||" || true)")
  fi
  local san
  san=$(sanitizer_report "$T/eio.err")
  [[ -z $san ]] || lines+=("sanitizer report: $san")
  if ((${#lines[@]} == 0)); then
    ok "$name (status $st, $got bytes before the error)"
  else
    fail "$name" "shim:  mmapurl-run $(quoted "$@")" "${lines[@]}" \
      "stderr: $(head -c 600 "$T/eio.err" | head -5)"
  fi
}

same "no fault: cat" -- cat "$BIG"
same "no fault: sha256sum" --filter field1 -- sha256sum "$BIG"

if ! selftest_skip "fault injection"; then
  control /__reset
  export AWS_MAX_ATTEMPTS=4
  control /__fault '{"action":"status","status":503,"code":"SlowDown","count":2}'
  same "503 SlowDown twice, retried: cat" -- cat "$BIG"
  control /__reset
  control /__fault '{"action":"reset","after_bytes":30000,"count":1}'
  same "reset mid-body once, retried: cat" -- cat "$BIG"
  control /__reset
  control /__fault '{"action":"short","after_bytes":30000,"count":1}'
  same "short body once, retried: sha256sum" --filter field1 -- sha256sum "$BIG"
  control /__reset
  export AWS_MAX_ATTEMPTS=2

  reset='"action":"reset","after_bytes":0'
  arm_after_first "$reset"
  eio "server down after open: cat -> EIO" cat "$BIG"
  arm_after_first "$reset"
  eio "server down after open: cat | pipe -> EIO" bash -c 'set -o pipefail; cat "$1" | cat' _ "$BIG"
  arm_after_first "$reset"
  eio "server down after open: dd bs=1M -> EIO" dd if="$BIG" bs=1M status=none
  arm_after_first "$reset"
  eio "server down after open: sha256sum -> EIO" sha256sum "$BIG"
  arm_after_first "$reset"
  eio "server down after open: tail -c 100 -> EIO" tail -c 100 "$BIG"
  arm_after_first "$reset"
  eio "server down after open: python read() -> EIO" "$PY" -c \
    'import sys; sys.stdout.buffer.write(open(sys.argv[1], "rb").read())' "$BIG"
  arm_after_first '"action":"stall","seconds":50,"after_bytes":0'
  export MMAPURL_STALL_TIMEOUT=2s
  eio "server stalls after open: cat -> EIO (stall timeout 2s)" cat "$BIG"
  unset MMAPURL_STALL_TIMEOUT

  # mmap: the page that cannot be fetched raises SIGBUS in the reader.
  mmap_reader='
import mmap, os, sys
want = open(sys.argv[2], "rb").read()
fd = os.open(sys.argv[1], os.O_RDONLY)
m = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
os.close(fd)
n = len(m)
print("mapped", n, flush=True)
for off in range(((n - 1) // 4096) * 4096, -1, -4096):  # last page first
    if m[off] != want[off]:
        print("WRONG BYTE at", off, flush=True)
        sys.exit(4)
print("no SIGBUS: every page read", flush=True)
sys.exit(3)
'
  arm_after_first "$reset"
  expect "server down after open: python mmap reader dies by SIGBUS" --status 135 \
    --stdout "mapped $(stat -c %s "$BIG_LOCAL")"$'\n' -- "$PY" -c "$mmap_reader" "$BIG" "$BIG_LOCAL"
  control /__reset
  arm_after_first "$reset"
  expect "server down after open: subprocess sees -7 (SIGBUS)" --status 0 \
    --stdout $'returncode -7\n' -- "$PY" -c '
import subprocess, sys
r = subprocess.run([sys.executable, "-c", sys.argv[1], sys.argv[2], sys.argv[3]],
                   stdout=subprocess.DEVNULL)
print("returncode", r.returncode)' "$mmap_reader" "$BIG" "$BIG_LOCAL"
  control /__reset
fi
# The server is back: a new process reads everything again.
same "after the faults: cat" -- cat "$BIG"
finish
