#!/usr/bin/env bash
# unprivileged.sh: the shim as user nobody, where userfaultfd falls back to
# /dev/userfaultfd or user-mode-only (with vm.unprivileged_userfaultfd=0 and
# a root-only device). Under user-mode-only a write() whose buffer is an
# untouched page of our mapping gets EFAULT from the kernel; the shim must
# fault the pages in from user space and retry, so the bytes still arrive.
# Skipped (77) unless run as root with setpriv (to become nobody).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
shim_init

if selftest_skip "unprivileged (runs the shim as nobody)"; then finish; fi
if [[ $(id -u) != 0 ]] || ! command -v setpriv >/dev/null; then
  echo "skipped: needs root and setpriv to run as nobody"
  exit 77
fi

# nobody may not reach the build tree: copy the launcher, the shim (next
# to it, where mmapurl-run looks) and the script to a folder it can read.
U=$(mktemp -d /tmp/mu-shim-nobody.XXXXXX)
trap 'rm -rf "$U" "$T"' EXIT
cp "$MU_SHIM_RUN" "$MU_SHIM_LIB" "$SHIM_HERE/mapped_write.py" "$U/"
chmod -R a+rX "$U"
chmod a+w "$U"   # the stats report

want=$(sha256sum "$LOCAL/random.bin" | cut -d' ' -f1)
st=0
(cd /tmp && timeout -k 5 "$SHIM_TIMEOUT" setpriv --reuid=65534 --regid=65534 --clear-groups \
  env MMAPURL_STATS="$U/stats.json" "$U/mmapurl-run" "$PY" "$U/mapped_write.py" "$B/random.bin") \
  >"$T/out" 2>"$T/err" || st=$?
count_hang "$st"
got=$(head -c 64 "$T/out")
mode=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["uffd_mode"])' \
  "$U/stats.json" 2>/dev/null || echo "no report")
if [[ $st == 0 && $got == "$want" ]]; then
  ok "write() from an untouched mapping as nobody (userfaultfd: $mode)"
else
  fail "write() from an untouched mapping as nobody (userfaultfd: $mode)" \
    "exit $(describe_status "$st"), sha256 $got, want $want" "stderr: $(head -c 600 "$T/err")"
fi
finish
