# lib.sh - shared helpers of the shim tests (tests/shim/*.sh); source it.
#
# The tests judge the shim by unmodified programs: each check runs a command
# through mmapurl-run on /s3/<bucket>/<key> paths ("shim" side) and the same
# command with those paths replaced by the local copies of the objects
# ("local" side), and compares stdout byte for byte, stderr (local paths
# mapped back to /s3/...) and the exit status. Every check runs under
# `timeout`, so a hang fails that check (status 124, "HANG") instead of
# blocking CI. A script runs all its checks, then lists the failures.
#
# Environment (tests/shim/CMakeLists.txt sets it; the S3 variables come from
# the fixture's env file through tests/with-env):
#   MU_SHIM_RUN      mmapurl-run
#   MU_SHIM_LIB      libmmapurl_shim.so (checked to exist, for a clear message)
#   MU_IT_STATE      fixture state: local copies of bucket shim-test in
#                    $MU_IT_STATE/shim-objects/<key>, manifest
#                    $MU_IT_STATE/shim-objects.tsv (key, size, mtime, etag);
#                    bucket mmapurl-test in $MU_IT_STATE/objects/mmapurl-test
#   MU_SHIM_TIMEOUT  seconds one command may take (default 60)
#   MU_SHIM_SELFTEST=1  checks the harness, not the shim: the "shim" side runs
#                    the command directly with /s3/<bucket> and s3://<bucket>
#                    replaced by the local folders. Checks only a shim can
#                    pass (EROFS, stats, faults) are skipped, and a script
#                    that passes exits 77 (skipped), never 0.
#
# Writing a check:
#   same NAME [options] -- CMD ARGS...    shim and local runs must agree
#       --filter FN   pipe both stdouts through shell function FN first
#                     (field1, ls_long, sorted, ...)
#       --out         the files named @OUT@ must be identical too (@OUT@ in
#                     an argument always becomes a fresh path per side)
#       --pipe        the command's stdout is a pipe (default: a regular file)
#       --no-stderr   do not compare stderr (e.g. timings)
#   expect NAME [options] -- CMD ARGS...  the shim run alone, against fixed
#                     expectations: --status N | --fail (nonzero, not a
#                     timeout or signal); --stdout TEXT (exact, no newline
#                     added); --stderr-has TEXT; --stdout-file FILE (bytes)
#   selftest_skip NAME  in a check that only the shim can pass: skip it
#   finish            summary; exit 1 if any check failed
# shellcheck shell=bash

export LC_ALL=C                 # stable sort/ls order and English messages
SHIM_TIMEOUT=${MU_SHIM_TIMEOUT:-60}
SHIM_BUCKET=shim-test
B=/s3/$SHIM_BUCKET              # the test bucket under the default prefix
SHIM_PASS=0
SHIM_FAIL=0
SHIM_SKIP=0
SHIM_FAILED=()
SHIM_HANGS=0
SHIM_SELFTEST=${MU_SHIM_SELFTEST:-0}
SHIM_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3             # Debian's: its sqlite3 module, no pip packages

# shim_init: check the inputs, make $T (a temp dir removed on exit).
shim_init() {
  : "${MU_IT_STATE:?MU_IT_STATE not set (run through ctest)}"
  LOCAL=$MU_IT_STATE/shim-objects
  MANIFEST=$MU_IT_STATE/shim-objects.tsv
  LOCAL_MU=$MU_IT_STATE/objects/mmapurl-test
  if [[ ! -f $MANIFEST ]]; then
    echo "FATAL: $MANIFEST missing: the shim_objects fixture did not run" >&2
    exit 1
  fi
  # Without the shim /s3 must not exist, or a shim that lets a call through
  # would read (or write) local files instead of failing.
  if [[ -e /s3 || -e /mnt/objs ]]; then
    echo "FATAL: /s3 or /mnt/objs exists on this machine: remove it (the tests need" \
      "them to be missing outside the shim)" >&2
    exit 1
  fi
  if [[ $SHIM_SELFTEST == 1 ]]; then
    echo "*** SELF-TEST MODE (MU_SHIM_SELFTEST=1): the shim is NOT exercised ***"
  else
    local f
    for f in "${MU_SHIM_RUN:-}" "${MU_SHIM_LIB:-}"; do
      if [[ -z $f || ! -e $f ]]; then
        echo "FATAL: '${f}' not built (MU_SHIM_RUN=${MU_SHIM_RUN:-} MU_SHIM_LIB=${MU_SHIM_LIB:-});" \
          "build the targets mmapurl-run and mmapurl_shim" >&2
        exit 1
      fi
    done
  fi
  T=$(mktemp -d "${TMPDIR:-/tmp}/mu-shim.XXXXXX")
  trap 'rm -rf "$T"' EXIT
}

# to_local STRING: STRING with every /s3/<bucket> or s3://<bucket> of a
# fixture bucket replaced by the local folder of its copies.
to_local() {
  local s=$1
  s=${s//"/s3/$SHIM_BUCKET"/"$LOCAL"}
  s=${s//"s3://$SHIM_BUCKET"/"$LOCAL"}
  s=${s//"/s3/mmapurl-test"/"$LOCAL_MU"}
  s=${s//"s3://mmapurl-test"/"$LOCAL_MU"}
  printf '%s' "$s"
}

# from_local < IN > OUT: local folders named back as /s3/<bucket>.
from_local() {
  L1=$LOCAL L2=$LOCAL_MU B1=/s3/$SHIM_BUCKET perl -pe \
    's/\Q$ENV{L1}\E/$ENV{B1}/g; s/\Q$ENV{L2}\E/\/s3\/mmapurl-test/g'
}

# Argument list translation for the local side: sets LOCAL_ARGS.
local_args() {
  LOCAL_ARGS=()
  local a
  for a in "$@"; do
    LOCAL_ARGS+=("$(to_local "$a")")
  done
}

# shim_exec CMD ARGS...: CMD through mmapurl-run (under timeout). In
# self-test mode, CMD runs directly on the local copies.
shim_exec() {
  if [[ $SHIM_SELFTEST == 1 ]]; then
    if [[ ${1:-} == --stats=* ]]; then shift; fi
    local_args "$@"
    timeout -k 5 "$SHIM_TIMEOUT" "${LOCAL_ARGS[@]}"
    return
  fi
  timeout -k 5 "$SHIM_TIMEOUT" "$MU_SHIM_RUN" "$@"
}

# local_exec CMD ARGS...: CMD on the local copies (under timeout).
local_exec() {
  local_args "$@"
  timeout -k 5 "$SHIM_TIMEOUT" "${LOCAL_ARGS[@]}"
}

# Output filters for --filter (stdin to stdout).
field1() { awk '{ print $1 }'; }
sorted() { sort; }
# ls -l: the type letter, the size of regular files, and the name; "total"
# lines, links, owners and dates dropped (folders have no size in S3).
ls_long() {
  awk '/^total / { next }
    /^[-dlcbps][-rwxsStT.+]+ / {
      type = substr($1, 1, 1); size = (type == "-") ? $5 : "";
      name = $0; for (i = 1; i <= 8; i++) sub(/^[^ ]+ +/, "", name);
      print type, size, name; next }
    { print }'
}

ok() {
  SHIM_PASS=$((SHIM_PASS + 1))
  echo "ok: $1"
}

# fail NAME LINE...: record a failure and print its lines.
fail() {
  local name=$1
  shift
  SHIM_FAIL=$((SHIM_FAIL + 1))
  SHIM_FAILED+=("$name")
  echo "FAIL: $name"
  local line
  for line in "$@"; do
    printf '    %s\n' "$line"
  done
  if ((SHIM_HANGS >= 3)); then
    echo "STOPPING: $SHIM_HANGS commands hung (killed after ${SHIM_TIMEOUT}s each); the other checks were not run"
    finish
  fi
}

selftest_skip() {
  if [[ $SHIM_SELFTEST == 1 ]]; then
    SHIM_SKIP=$((SHIM_SKIP + 1))
    echo "skip (self-test): $1"
    return 0
  fi
  return 1
}

quoted() { printf '%q ' "$@"; }

# describe_status N: "0", "1", "124 (HANG: killed by timeout)", "135 (SIGBUS)".
describe_status() {
  local st=$1
  if ((st == 124 || st == 137)); then
    echo "$st (HANG: no answer within ${SHIM_TIMEOUT}s, killed by timeout)"
  elif ((st > 128 && st < 160)); then
    echo "$st (killed by SIG$(kill -l $((st - 128)) 2>/dev/null || echo ?))"
  else
    echo "$st"
  fi
}

# sanitizer_report FILE: the sanitizer error lines in FILE, if any.
sanitizer_report() {
  grep -E 'ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:|SUMMARY: .*Sanitizer' "$1" |
    head -5 || true
}

# show_diff NAME SHIMFILE LOCALFILE: lines explaining how two outputs differ.
show_diff() {
  local what=$1 s=$2 l=$3 ssize lsize
  ssize=$(stat -c %s "$s")
  lsize=$(stat -c %s "$l")
  DIFF_LINES+=("$what differs: shim $ssize bytes, local $lsize bytes")
  DIFF_LINES+=("  $({ cmp "$s" "$l" 2>&1 || true; } | sed "s|$T/||g" | head -1)")
  local line bytes=()
  while IFS= read -r line; do
    bytes+=("    $line")
  done < <(cmp -l "$s" "$l" 2>/dev/null | head -8)
  if ((${#bytes[@]})); then
    DIFF_LINES+=("  first differing bytes (offset from 1, shim octal, local octal):" "${bytes[@]}")
  fi
  if ((ssize < 200000 && lsize < 200000)) && ! grep -qP '\x00' "$s" "$l" 2>/dev/null; then
    DIFF_LINES+=("  diff -u local shim (first 30 lines):")
    while IFS= read -r line; do
      DIFF_LINES+=("    $line")
    done < <(diff -u --label local --label shim "$l" "$s" | head -32 | tail -n +3)
  fi
}

# run_side SIDE PIPE CMD...: run one side to $T/SIDE.out, .err, .st.
run_side() {
  local side=$1 pipe=$2 runner
  shift 2
  if [[ $side == shim ]]; then runner=shim_exec; else runner=local_exec; fi
  local st=0
  if [[ $pipe == 1 ]]; then
    {
      "$runner" "$@" 2>"$T/$side.err0" </dev/null || st=$?
      echo "$st" >"$T/$side.st"
    } | cat >"$T/$side.out0"
  else
    "$runner" "$@" >"$T/$side.out0" 2>"$T/$side.err0" </dev/null || st=$?
    echo "$st" >"$T/$side.st"
  fi
  from_local <"$T/$side.err0" >"$T/$side.err"
  [[ $side != shim ]] || count_hang "$(<"$T/$side.st")"
}

# count_hang STATUS: note a shim command killed by timeout (see fail()).
count_hang() {
  if (($1 == 124 || $1 == 137)); then
    SHIM_HANGS=$((SHIM_HANGS + 1))
  fi
}

# same NAME [--filter FN] [--out] [--pipe] [--no-stderr] -- CMD ARGS...
same() {
  local name=$1 filter="" out=0 pipe=0 errs=1
  shift
  while (($#)) && [[ $1 != -- ]]; do
    case $1 in
      --filter) filter=$2; shift ;;
      --out) out=1 ;;
      --pipe) pipe=1 ;;
      --no-stderr) errs=0 ;;
      *) echo "same: bad option $1" >&2; exit 2 ;;
    esac
    shift
  done
  shift
  local side args a
  for side in shim local; do
    rm -rf "$T/$side.file"
    args=()
    for a in "$@"; do
      args+=("${a//@OUT@/$T/$side.file}")
    done
    run_side "$side" "$pipe" "${args[@]}"
    from_local <"$T/$side.out0" >"$T/$side.out1"
    if [[ -n $filter ]]; then
      "$filter" <"$T/$side.out1" >"$T/$side.out"
    else
      mv "$T/$side.out1" "$T/$side.out"
    fi
  done
  local sst lst
  sst=$(<"$T/shim.st")
  lst=$(<"$T/local.st")
  DIFF_LINES=()
  if [[ $sst != "$lst" ]]; then
    DIFF_LINES+=("exit status: shim $(describe_status "$sst"), local $(describe_status "$lst")")
  fi
  if ! cmp -s "$T/shim.out" "$T/local.out"; then
    show_diff "stdout${filter:+ (through $filter)}" "$T/shim.out" "$T/local.out"
  fi
  if ((out)); then
    if [[ ! -f $T/shim.file ]] || [[ ! -f $T/local.file ]]; then
      DIFF_LINES+=("output file: shim $([[ -f $T/shim.file ]] && echo present || echo MISSING)," \
        "local $([[ -f $T/local.file ]] && echo present || echo MISSING)")
    elif ! cmp -s "$T/shim.file" "$T/local.file"; then
      show_diff "output file" "$T/shim.file" "$T/local.file"
    fi
  fi
  if ((errs)) && ! cmp -s "$T/shim.err" "$T/local.err"; then
    DIFF_LINES+=("stderr differs")
  fi
  local san
  san=$(sanitizer_report "$T/shim.err")
  [[ -z $san ]] || DIFF_LINES+=("sanitizer report on the shim side: $san")
  if ((${#DIFF_LINES[@]} == 0)); then
    ok "$name"
    return 0
  fi
  local_args "$@"
  fail "$name" "shim:  mmapurl-run $(quoted "$@")" "local: $(quoted "${LOCAL_ARGS[@]}")" \
    "${DIFF_LINES[@]}" "stderr, shim:  $(head -c 600 "$T/shim.err" | head -5)" \
    "stderr, local: $(head -c 600 "$T/local.err" | head -5)"
  return 0
}

# expect NAME [--status N|--fail] [--stdout TEXT] [--stdout-file F]
#        [--stderr-has TEXT] [--pipe] -- CMD ARGS...
# The shim run alone against fixed expectations.
expect() {
  local name=$1 want_st="" want_fail=0 want_out="" has_out=0 out_file="" want_err=() pipe=0
  shift
  while (($#)) && [[ $1 != -- ]]; do
    case $1 in
      --status) want_st=$2; shift ;;
      --fail) want_fail=1 ;;
      --stdout) want_out=$2; has_out=1; shift ;;
      --stdout-file) out_file=$2; shift ;;
      --stderr-has) want_err+=("$2"); shift ;;
      --pipe) pipe=1 ;;
      *) echo "expect: bad option $1" >&2; exit 2 ;;
    esac
    shift
  done
  shift
  run_side shim "$pipe" "$@"
  local st lines=() e
  st=$(<"$T/shim.st")
  if [[ -n $want_st && $st != "$want_st" ]]; then
    lines+=("exit status $(describe_status "$st"), want $(describe_status "$want_st")")
  fi
  if ((want_fail)) && { ((st == 0)) || ((st == 124 || st > 128)); }; then
    lines+=("exit status $(describe_status "$st"), want a plain failure (1..123)")
  fi
  if ((has_out)) && [[ $(cat "$T/shim.out0"; echo .) != "$want_out." ]]; then
    lines+=("stdout: got '$(head -c 300 "$T/shim.out0")', want '$want_out'")
  fi
  if [[ -n $out_file ]] && ! cmp -s "$T/shim.out0" "$out_file"; then
    DIFF_LINES=()
    show_diff stdout "$T/shim.out0" "$out_file"
    lines+=("${DIFF_LINES[@]}")
  fi
  for e in "${want_err[@]}"; do
    grep -qF -- "$e" "$T/shim.err" || lines+=("stderr lacks '$e'")
  done
  local san
  san=$(sanitizer_report "$T/shim.err")
  [[ -z $san ]] || lines+=("sanitizer report: $san")
  if ((${#lines[@]} == 0)); then
    ok "$name"
    return 0
  fi
  fail "$name" "shim:  mmapurl-run $(quoted "$@")" "${lines[@]}" \
    "stderr: $(head -c 600 "$T/shim.err" | head -5)"
  return 0
}

# manifest_field KEY N: field N (2 size, 3 mtime, 4 etag) of KEY's manifest line.
manifest_field() {
  awk -F '\t' -v k="$1" -v n="$2" '$1 == k { print $n }' "$MANIFEST"
}

finish() {
  echo
  echo "$(basename "$0"): $SHIM_PASS passed, $SHIM_FAIL failed, $SHIM_SKIP skipped"
  if ((SHIM_FAIL)); then
    local n
    for n in "${SHIM_FAILED[@]}"; do
      echo "  failed: $n"
    done
    exit 1
  fi
  if [[ $SHIM_SELFTEST == 1 ]]; then
    echo "self-test passed (harness only: the shim was not run): exit 77"
    exit 77
  fi
  exit 0
}
