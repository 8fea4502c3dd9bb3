#!/usr/bin/env bash
# test_run.sh - tests of mmapurl-run (shim/run.c), no S3 server needed:
# LD_PRELOAD composition, every option, option stop and "--", exit statuses
# (the command's own, signals, 125/126/127), --help/--version, value checks,
# the warnings for static, set-ID and capability programs (and none for a
# dynamic one), where the shim is found (build tree, installed layout,
# through a symlink, missing), and that no secret is ever printed.
# It must never touch anything outside its own scratch directory.
#
#   test_run.sh MMAPURL_RUN SHIM PROBE BIN_TO_LIB VERSION
# MU_SANITIZER_RUNTIME (sanitizer builds): preloaded first into programs the
# launcher runs, since the sanitized shim cannot load without it.
set -u
run=$1 shim=$2 probe=$3 bin_to_lib=$4 version=$5
rt=${MU_SANITIZER_RUNTIME:-}
pre=${rt:+$rt:}                 # what LD_PRELOAD holds before the shim

T=$(mktemp -d "${TMPDIR:-/tmp}/mmapurl-run-test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
failures=0

# Every launch starts from this environment only (inherited AWS_* or
# MMAPURL_* must not leak into the assertions).
base=(PATH="$PATH")
if [[ -n $rt ]]; then
  base+=(LD_PRELOAD="$rt" ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0)
fi

# go [--bare] [VAR=VALUE...] CMD...: run in the base environment (--bare:
# PATH only, no sanitizer preload; for the static probe); sets rc, out, err.
go() {
  local env=("${base[@]}")
  if [[ $1 == --bare ]]; then
    env=(PATH="$PATH")
    shift
  fi
  env -i "${env[@]}" "$@" >"$T/out" 2>"$T/err"
  rc=$?
  out=$(<"$T/out") err=$(<"$T/err")
}
bad() { echo "FAIL: $*"; echo "  rc=$rc"; sed 's/^/  out| /' "$T/out"; sed 's/^/  err| /' "$T/err"; failures=$((failures + 1)); }
expect_rc() { [[ $rc == "$1" ]] || bad "$2: expected exit $1"; }
expect_line() { grep -qFx -- "$1" "$T/out" || bad "$2: expected line '$1'"; }
expect_no_line() { ! grep -q -- "$1" "$T/out" || bad "$2: unexpected line matching '$1'"; }
expect_err() { grep -qF -- "$1" "$T/err" || bad "$2: expected '$1' on stderr"; }
expect_no_err() { [[ -z $err ]] || bad "$1: expected an empty stderr"; }

# --- LD_PRELOAD -----------------------------------------------------------
# A dynamic program that prints its environment. Not env(1) in sanitizer
# builds: there, coreutils programs that call setlocale hang at exit once
# the sanitizer runtime and the shim (libcurl -> gnutls -> p11-kit) are
# preloaded (p11-kit's destructor blocks in freelocale); dash does not.
printer=(env)
# shellcheck disable=SC2016  # expanded by sh
[[ -z $rt ]] || printer=(sh -c 'echo "LD_PRELOAD=$LD_PRELOAD"')
go "$run" "${printer[@]}"
expect_rc 0 "${printer[0]}"
expect_line "LD_PRELOAD=$pre$shim" "${printer[0]}: shim appended after any existing entry"
expect_no_err "${printer[0]}: a dynamic program gets no warning"
[[ $shim == /* ]] || bad "shim path $shim is not absolute"

go --bare "$run" "$probe"
expect_line "LD_PRELOAD=$shim" "no LD_PRELOAD: just the shim"
go LD_PRELOAD= "$run" "$probe"
expect_line "LD_PRELOAD=$shim" "empty LD_PRELOAD: just the shim"
go LD_PRELOAD="$pre/nonexistent/a.so" "$run" "$probe"
expect_line "LD_PRELOAD=$pre/nonexistent/a.so:$shim" "existing LD_PRELOAD kept first"
go LD_PRELOAD="$pre/nonexistent/a.so:" "$run" "$probe"
expect_line "LD_PRELOAD=$pre/nonexistent/a.so:$shim" "trailing ':' not doubled"
go LD_PRELOAD="$pre/nonexistent/a.so /nonexistent/b.so" "$run" "$probe"
expect_line "LD_PRELOAD=$pre/nonexistent/a.so /nonexistent/b.so:$shim" "space-separated list kept"
go LD_PRELOAD="$pre$shim" "$run" "$probe"
expect_line "LD_PRELOAD=$pre$shim" "shim already last: not added twice"
go LD_PRELOAD="$pre$shim:/nonexistent/b.so" "$run" "$probe"
expect_line "LD_PRELOAD=$pre$shim:/nonexistent/b.so" "shim already listed: not added twice"
ln -s "$shim" "$T/shim-link.so"
go LD_PRELOAD="$pre$T/shim-link.so" "$run" "$probe"
expect_line "LD_PRELOAD=$pre$T/shim-link.so" "shim listed by another path: not added twice"

# --- options --------------------------------------------------------------
go "$run" --cache-max 64M --region eu-west-3 --profile prod --prefix /data/ --stats "$probe"
for line in MMAPURL_CACHE_MAX=64M AWS_REGION=eu-west-3 AWS_PROFILE=prod MMAPURL_PREFIX=/data \
            MMAPURL_STATS=1; do
  expect_line "$line" "options"
done
expect_no_line '^MMAPURL_LOG=' "no -v: MMAPURL_LOG left alone"
go MMAPURL_LOG=error "$run" "$probe"
expect_line "MMAPURL_LOG=error" "no -v: inherited MMAPURL_LOG kept"
mkdir "$T/cwd"
cd "$T/cwd" || exit 1
go "$run" --stats=report.json "$probe"
cd - >/dev/null || exit 1
expect_line "MMAPURL_STATS=$T/cwd/report.json" "--stats=FILE made absolute"
go "$run" --stats=/abs/r.json "$probe"
expect_line "MMAPURL_STATS=/abs/r.json" "--stats=/abs"
go AWS_ENDPOINT_URL_S3=http://old:1 AWS_ENDPOINT_URL=http://generic:2 "$run" --endpoint https://new:9000 "$probe"
expect_line "AWS_ENDPOINT_URL_S3=https://new:9000" "--endpoint wins over an inherited one"
go "$run" -v "$probe"
expect_line "MMAPURL_LOG=info" "-v"
expect_err "mmapurl-run: MMAPURL_LOG=info" "-v prints what it set"
expect_err "mmapurl-run: LD_PRELOAD=$pre$shim" "-v prints LD_PRELOAD"
expect_err "mmapurl-run: exec $probe" "-v prints the command"
for v in -vv "-v -v" "--verbose --verbose"; do
  # shellcheck disable=SC2086  # split on purpose
  go "$run" $v "$probe"
  expect_line "MMAPURL_LOG=debug" "$v"
done

# Sizes: the cases of tests/unit/test_config.c's test_parse_size, within
# MMAPURL_CACHE_MAX's range (0, or 1M to 1T).
for s in 0 1048576 1024K 1024KB 1024KiB 8M 8m 8Mb 1G 1gb 1GiB 1024G; do
  go "$run" --cache-max "$s" "$probe"
  expect_line "MMAPURL_CACHE_MAX=$s" "--cache-max $s accepted"
done
for s in "" K -1 +1 " 1" "1 " 1.5M 12Q 1T 1KK 1Bi 1iB 1Ki 0x10 18446744073709551616 \
         17179869184G 512K 1025G; do
  go "$run" --cache-max "$s" "$probe"
  expect_rc 125 "--cache-max '$s' refused"
  expect_err "--cache-max '$s'" "--cache-max '$s': error names the value"
  [[ -z $out ]] || bad "--cache-max '$s': the command must not run"
done

for args in "--prefix data" "--prefix /" "--prefix //" "--region=" "--profile=" "--stats=" \
            "--endpoint ftp://h" "--endpoint http://" "--endpoint" "--bogus" "-x"; do
  # shellcheck disable=SC2086
  go "$run" $args "$probe"
  expect_rc 125 "'$args' refused"
  [[ -z $out ]] || bad "'$args': the command must not run"
  [[ -n $err ]] || bad "'$args': no message"
done

# --- option stop, --, usage -----------------------------------------------
go "$run" "$probe" --region r -v
expect_no_line '^AWS_REGION=' "options after CMD belong to CMD"
expect_line "arg=--region" "CMD gets its options"
expect_line "arg=-v" "CMD gets -v"
go "$run" --profile p -- "$probe" --profile q
expect_line "AWS_PROFILE=p" "-- ends the options"
expect_line "arg=q" "-- : CMD args"
go "$run" -- --region
expect_rc 127 "after --, --region is the command"
go "$run"
expect_rc 125 "no command"
go "$run" --region r --
expect_rc 125 "no command after --"
go "$run" --help
expect_rc 0 "--help"
grep -q "^Usage: mmapurl-run" "$T/out" || bad "--help prints the usage on stdout"
go "$run" -h
expect_rc 0 "-h"
go "$run" --version
expect_rc 0 "--version"
expect_line "mmapurl-run (mmapurl) $version" "--version prints PROJECT_VERSION"

# --- exit status, signals, pid ----------------------------------------------
go "$run" sh -c 'exit 7'
expect_rc 7 "exit status propagates"
{ go "$run" sh -c 'kill -TERM $$'; } 2>/dev/null   # bash would say "Terminated"
expect_rc 143 "a command killed by SIGTERM"
env -i "${base[@]}" "$run" sh -c 'echo $$' >"$T/pid" 2>"$T/err" &
pid=$!
wait "$pid"
rc=$?
[[ $(<"$T/pid") == "$pid" ]] || bad "exec keeps the pid ($pid, the command said $(<"$T/pid"))"

go "$run" no-such-command-mmapurl
expect_rc 127 "not found on PATH"
expect_err "no-such-command-mmapurl: command not found" "not found: message"
go "$run" "$T/nonexistent"
expect_rc 127 "not found by path"
printf 'data\n' >"$T/plain"
go "$run" "$T/plain"
expect_rc 126 "not executable"
expect_err "Permission denied" "not executable: message"
go "$run" "$T"
expect_rc 126 "a directory"
mkdir "$T/pathdir"
cp "$T/plain" "$T/pathdir/only-data"
go PATH="$T/pathdir:$PATH" "$run" only-data
expect_rc 126 "on PATH but not executable"
printf '#!/nonexistent/interpreter\n' >"$T/badinterp"
chmod +x "$T/badinterp"
go "$run" "$T/badinterp"
expect_rc 126 "missing interpreter"
expect_err "interpreter or loader is missing" "missing interpreter: message"

# shellcheck disable=SC2016  # $1 is for the script
printf 'echo "no shebang $1"; exit 3\n' >"$T/noshebang"
chmod +x "$T/noshebang"
go "$run" "$T/noshebang" x
expect_rc 3 "a script without #! runs under /bin/sh"
expect_line "no shebang x" "no-#! script output"
# shellcheck disable=SC2016
printf '#!/bin/sh\necho "script $1"\n' >"$T/script"
chmod +x "$T/script"
go PATH="$T:$PATH" "$run" script y
expect_rc 0 "#! script"
expect_line "script y" "#! script found on PATH"
expect_no_err "#! script: no warning"

# --- warnings -------------------------------------------------------------
go "$run" "$probe"
expect_rc 0 "static program runs"
expect_err "$probe is statically linked: LD_PRELOAD cannot reach it, so it will see no files under /s3" \
  "static warning"
[[ $(wc -l <"$T/err") == 1 ]] || bad "static warning: one line"
go "$run" --prefix /data "$probe"
expect_err "no files under /data" "warning names the prefix"
go "$run" true
expect_rc 0 "dynamic true"
expect_no_err "dynamic program: no warning"
# An ELF of the other word size (a bare 32-bit i386 header): it cannot run
# here anyway, but first it is named as out of the shim's reach.
printf '\177ELF\001\001\001\000\000\000\000\000\000\000\000\000\002\000\003\000\001\000\000\000\000\000\000\000\064\000\000\000\000\000\000\000\000\000\000\000\064\000\040\000\001\000\000\000\000\000\000\000\003\000\000\000%028d' 0 \
  >"$T/elf32"
chmod +x "$T/elf32"
go "$run" "$T/elf32"
expect_err "elf32 is built for another machine or word size than the shim" "32-bit ELF warning"

if [[ $(id -u) != 0 ]]; then
  echo "note: not root; set-ID and capability cases need chown and are not checked"
elif findmnt -no OPTIONS --target "$T" | grep -qw nosuid; then
  echo "note: $T is on a nosuid mount; set-ID and capability cases not checked"
else
  cp /bin/true "$T/suid-true"
  chown 65534 "$T/suid-true" && chmod u+s "$T/suid-true"
  go "$run" "$T/suid-true"
  expect_rc 0 "setuid program runs"
  expect_err "suid-true is set-user-ID: LD_PRELOAD cannot reach it" "setuid warning"
  cp /bin/true "$T/sgid-true"
  chgrp 65534 "$T/sgid-true" && chmod g+s "$T/sgid-true"
  go "$run" "$T/sgid-true"
  expect_err "sgid-true is set-group-ID: LD_PRELOAD cannot reach it" "setgid warning"
  # Set-user-ID to ourselves changes no id: no secure mode, no warning.
  cp /bin/true "$T/own-suid-true"
  chmod u+s "$T/own-suid-true"
  go "$run" "$T/own-suid-true"
  expect_no_err "setuid to our own uid: no warning"
  # File capabilities put an unprivileged user in secure mode.
  if command -v setcap >/dev/null && command -v setpriv >/dev/null; then
    mkdir -p "$T/caps"
    cp /bin/true "$T/caps/cap-true"
    cp "$run" "$shim" "$T/caps/"
    chmod -R a+rX "$T"
    if setcap cap_net_raw+ep "$T/caps/cap-true" 2>/dev/null; then
      go setpriv --reuid=65534 --regid=65534 --clear-groups "$T/caps/mmapurl-run" "$T/caps/cap-true"
      expect_err "cap-true has file capabilities: LD_PRELOAD cannot reach it" "capabilities warning"
    else
      echo "note: setcap refused here; file capability case not checked"
    fi
  fi
fi

# --- where the shim is found ----------------------------------------------
mkdir -p "$T/alone/bin"
cp "$run" "$T/alone/bin/"
go "$T/alone/bin/mmapurl-run" "$probe"
expect_rc 125 "no shim"
expect_err "cannot find the shim $(basename "$shim")" "no shim: message"
[[ -z $out ]] || bad "no shim: the command must not run"

mkdir -p "$T/inst/bin/$bin_to_lib"
cp "$run" "$T/inst/bin/"
cp "$shim" "$T/inst/bin/$bin_to_lib/"
installed=$(realpath "$T/inst/bin/$bin_to_lib/$(basename "$shim")")
go --bare "$T/inst/bin/mmapurl-run" "$probe"
expect_line "LD_PRELOAD=$installed" "installed layout: shim in libdir ($bin_to_lib)"

mkdir -p "$T/links"
ln -s "$run" "$T/links/mr"
go --bare "$T/links/mr" "$probe"
expect_line "LD_PRELOAD=$shim" "through a symlink: shim next to the real executable"

# --- secrets --------------------------------------------------------------
go AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYSECRET AWS_SESSION_TOKEN=TOKENsecretXYZ \
  "$run" -vv --endpoint http://user:PassWord42@127.0.0.1:9000/ "$probe"
expect_rc 0 "-vv with secrets around"
expect_err "AWS_ENDPOINT_URL_S3=http://***@127.0.0.1:9000/" "endpoint user:password hidden"
if grep -qE 'wJalrXUtnFEMIK7MDENGbPxRfiCYSECRET|TOKENsecretXYZ|PassWord42' "$T/err"; then
  bad "a secret was printed"
fi
go "$run" --endpoint "ftp://user:PassWord42@h" "$probe"
if grep -q PassWord42 "$T/err"; then bad "a refused endpoint's password was printed"; fi

if ((failures > 0)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all mmapurl-run checks passed"
