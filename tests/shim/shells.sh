#!/usr/bin/env bash
# shells.sh: shells (dash as sh, and bash) redirecting from /s3 objects, fds
# handed to child processes across fork+exec, one file offset shared by
# several processes in turn (dd reads exactly N bytes; head and bash's read
# seek back to what they consumed), pipelines, read loops, exec 3<, sourcing.
# Each compared byte for byte with the same shell command on the local copy.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
shim_init

R=$B/random.bin
X=$B/text.txt

for sh in sh bash; do
  same "$sh: cat < object" -- "$sh" -c 'cat < "$1"' _ "$R"
  same "$sh: cat < key with space" -- "$sh" -c 'cat < "/s3/shim-test/with space.txt"'
  same "$sh: cat < empty" -- "$sh" -c 'cat < "$1"; echo "status $?"' _ "$B/empty"
  same "$sh: sh -c '...' < object (inherited stdin)" -- "$sh" -c 'sh -c "cat" < "$1"' _ "$X"
  # One offset, two processes: dd reads exactly 100 bytes, cat the rest.
  same "$sh: { dd bs=100 count=1; cat; } < object" -- "$sh" -c \
    '{ dd bs=100 count=1 status=none > /dev/null; cat; } < "$1"' _ "$R"
  same "$sh: sh -c 'dd bs=100 count=1; cat' < object" -- "$sh" -c \
    "sh -c 'dd bs=100 count=1 status=none > /dev/null; cat' < \"\$1\"" _ "$R"
  same "$sh: three processes share one offset" -- "$sh" -c \
    '{ dd bs=4096 count=3 status=none > /dev/null; dd bs=1000 count=1 status=none; dd bs=1 count=7 status=none; wc -c; } < "$1"' _ "$R"
  # head -n seeks back to the end of what it printed when it exits.
  same "$sh: { head -n 2; head -n 3; cat; } < text" -- "$sh" -c \
    '{ head -n 2; echo ---; head -n 3; echo ---; cat; } < "$1"' _ "$X"
  same "$sh: { read a; read b; cat; } < text" -- "$sh" -c \
    '{ read -r a; read -r b; echo "a=$a"; echo "b=$b"; cat; } < "$1"' _ "$X"
  same "$sh: pipeline cat | sha256sum" -- "$sh" -c 'cat "$1" | sha256sum' _ "$R"
  same "$sh: pipeline cat < object | sha256sum" -- "$sh" -c 'cat < "$1" | sha256sum' _ "$R"
  same "$sh: sha256sum < object" -- "$sh" -c 'sha256sum < "$1"' _ "$B/db.sqlite"
  same "$sh: while read (20 lines)" -- "$sh" -c \
    'n=0; while IFS= read -r line; do n=$((n+1)); printf "%d:%s\n" "$n" "$line"; [ $n -ge 20 ] && break; done < "$1"' _ "$X"
  same "$sh: while read (whole file)" -- "$sh" -c \
    'n=0; while IFS= read -r line; do n=$((n+1)); last=$line; done < "$1"; echo "$n lines, last: $last"' _ "$X"
  same "$sh: while read, then cat the rest" -- "$sh" -c \
    'exec < "$1"; n=0; while IFS= read -r line; do n=$((n+1)); [ $n -ge 7 ] && break; done; cat' _ "$X"
  same "$sh: exec 3< object; cat <&3" -- "$sh" -c 'exec 3< "$1"; cat <&3' _ "$R"
  same "$sh: exec 3<; head -c 10 <&3 twice" -- "$sh" -c \
    'exec 3< "$1"; dd bs=10 count=1 status=none <&3; echo; dd bs=10 count=1 status=none <&3; echo; exec 3<&-; echo closed' _ "$X"
  same "$sh: fd 3 dup'ed to 4 shares the offset" -- "$sh" -c \
    'exec 3< "$1" 4<&3; dd bs=5 count=1 status=none <&3; dd bs=5 count=1 status=none <&4; exec 3<&- ; dd bs=5 count=1 status=none <&4' _ "$X"
  same "$sh: . script (source)" -- "$sh" -c '. "$1"' _ "$B/hello.sh"
  same "$sh: $sh script" -- "$sh" "$B/hello.sh"
  same "$sh: < missing key" -- "$sh" -c 'cat < "$1"; echo "after: $?"' _ "$B/no-such-key"
  same "$sh: for f in glob; cat" -- "$sh" -c 'for f in /s3/shim-test/a/*; do echo "== $f"; [ -f "$f" ] && cat "$f"; done; true'
done
same "bash: \$(< object)" -- bash -c 'x=$(< "$1"); printf "%s|" "$x"' _ "$B/a/d.txt"
same "bash: mapfile < object" -- bash -c 'mapfile -t lines < "$1"; echo "${#lines[@]} ${lines[4999]}"' _ "$X"
same "bash: read -N 4096 from object" -- bash -c 'read -r -N 4096 x < "$1"; printf %s "$x" | sha256sum' _ "$X"
same "bash: redirect into a loop, subshell" -- bash -c '( while read -r a b rest; do echo "$b"; done ) < "$1" | sort -n | tail -3' _ "$X"
same "bash: process substitution" -- bash -c 'cmp <(cat "$1") "$2" && echo same' _ "$R" "$LOCAL/random.bin"
same "xargs -a object" -- xargs -a "$B/a/d.txt" echo
finish
