#!/usr/bin/env bash
# coreutils.sh: coreutils (and tar, gzip, grep, find) on /s3/shim-test through
# mmapurl-run, compared byte for byte with the same command on the local
# copies. Also: stat fields only the shim defines (blksize, mtime from
# Last-Modified, stable inode), test -w false, MMAPURL_PREFIX and s3:// paths.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
shim_init

R=$B/random.bin             # 3 MiB + 12345 bytes
X=$B/text.txt               # 5000 lines
size_r=$(manifest_field random.bin 2)

# cat: stdout a regular file (copy_file_range/sendfile candidates) and a pipe.
for k in random.bin text.txt "with space.txt" empty a/b/c.txt db.sqlite; do
  same "cat $k > file" -- cat "$B/$k"
  same "cat $k | pipe" --pipe -- cat "$B/$k"
done
same "cat > file (shell redirect)" --out -- sh -c 'cat "$1" > "$2"' _ "$R" @OUT@
same "cat two objects" -- cat "$B/a/d.txt" "$R" "$B/empty" "$X"
same "cp random.bin" --out -- cp "$R" @OUT@
same "cp text.txt" --out -- cp "$X" @OUT@
same "cp empty" --out -- cp "$B/empty" @OUT@
same "cp --sparse=always" --out -- cp --sparse=always "$R" @OUT@
same "sha256sum random.bin" --filter field1 -- sha256sum "$R"
same "sha256sum (several, names)" -- sha256sum "$X" "$B/with space.txt" "$B/a/d.txt" "$B/empty"
same "sha256sum s3:// path" --filter field1 -- sha256sum s3://shim-test/random.bin
same "md5sum random.bin" --filter field1 -- md5sum "$R"
same "md5sum db.sqlite" --filter field1 -- md5sum "$B/db.sqlite"
same "b2sum text.txt" --filter field1 -- b2sum "$X"
same "head -c 1000" -- head -c 1000 "$R"
same "head -n 5" -- head -n 5 "$X"
same "head -c -1000 (all but the last 1000)" -- head -c -1000 "$R"
same "tail -c 5000" -- tail -c 5000 "$R"
same "tail -n 3" -- tail -n 3 "$X"
same "tail -n +4990" -- tail -n +4990 "$X"
same "tail -c 5000 | pipe" --pipe -- tail -c 5000 "$R"
same "dd bs=4096 skip=7 count=13" -- dd if="$R" bs=4096 skip=7 count=13 status=none
same "dd bs=1 skip=3150000 count=8073" -- dd if="$R" bs=1 skip=3150000 count=8073 status=none
same "dd bs=65536 skip=48 (the unaligned tail)" -- dd if="$R" bs=65536 skip=48 status=none
same "dd bs=1M (whole object)" -- dd if="$R" bs=1M status=none
same "dd skip past the end" -- dd if="$R" bs=4096 skip=100000 count=1 status=none
same "dd iflag=skip_bytes,count_bytes" -- dd if="$R" iflag=skip_bytes,count_bytes skip=1048570 count=131085 bs=65536 status=none
same "wc" -- wc "$X"
same "wc random.bin" -- wc "$R"
same "wc -c" -- wc -c "$R"
same "wc -l -w -m" -- wc -l -w -m "$X" "$B/a/d.txt"
same "wc -c < object (sh)" -- sh -c 'wc -c < "$1"' _ "$R"
same "cmp object local-copy" -- cmp "$R" "$LOCAL/random.bin"
same "cmp -l object local-copy" -- cmp -l "$X" "$LOCAL/text.txt"
same "cmp object object" -- cmp "$B/db.sqlite" "$B/db.sqlite"
same "cmp differing objects" -- cmp "$R" "$B/db.sqlite"
same "od -An -tx1 -j 65530 -N 20" -- od -An -tx1 -j 65530 -N 20 "$R"
same "grep -n needle" -- grep -n needle "$X"
same "grep -c alpha" -- grep -c alpha "$X"
same "grep -v -c a" -- grep -v -c a "$X"
same "grep missing (status 1)" -- grep -q no-such-words-here "$X"
same "grep -r line (recursive in a/)" --filter sorted -- grep -r line "$B/a"
same "grep -c binary file" -- grep -c -a zzz "$R"
same "sort" -- sort "$X"
same "sort -u -k3" -- sort -u -k3 "$X"
same "sort -n -k2 -r" -- sort -n -k2 -r "$X"
same "uniq -c of sorted words" --pipe -- sh -c 'cut -d" " -f3 "$1" | sort | uniq -c' _ "$X"
same "tac" -- tac "$X"
same "nl" -- nl "$B/a/d.txt"
same "base64" -- base64 "$B/archive.tar.gz"

# Directories: listings of the bucket and of prefixes.
same "ls bucket" -- ls "$B"
same "ls bucket/" -- ls "$B/"
same "ls -l bucket (types, sizes, names)" --filter ls_long -- ls -l "$B/"
same "ls -l prefix a/" --filter ls_long -- ls -l "$B/a/"
same "ls -l prefix a (no slash)" --filter ls_long -- ls -l "$B/a"
same "ls -a a/b" -- ls -a "$B/a/b"
same "ls a/e (empty folder marker)" -- ls -A "$B/a/e"
same "ls -d bucket" -- ls -d "$B"
same "ls -R a" -- ls -R "$B/a"
same "ls object" -- ls "$R"
same "ls -l object (size)" --filter ls_long -- ls -l "$R"
same "ls -l key with space" --filter ls_long -- ls -l "$B/with space.txt"
same "ls glob a/*.txt (sh)" -- sh -c 'ls -d /s3/shim-test/a/*.txt'
same "echo glob bucket/* (sh)" -- sh -c 'echo /s3/shim-test/*'
same "echo glob */*/* (bash)" -- bash -c 'echo /s3/shim-test/*/*/*'
same "glob no match (bash nullglob)" -- bash -c 'shopt -s nullglob; echo /s3/shim-test/a/*.none'
same "find a" --filter sorted -- find "$B/a"
same "find bucket -type f" --filter sorted -- find "$B" -type f
same "find bucket -type d" --filter sorted -- find "$B" -type d
same "find -name '*.txt' -size +100c" --filter sorted -- find "$B" -name '*.txt' -size +100c
same "find -empty" --filter sorted -- find "$B" -empty
same "find -printf '%s %y %P'" --filter sorted -- find "$B" -type f -printf '%s %y %P\n'
same "du -b object" -- du -b "$R"
for k in random.bin text.txt empty "with space.txt" a/b/c.txt; do
  same "stat -c '%s %F %h' $k" -- stat -c '%s %F %h' "$B/$k"
done
for d in "" / /a /a/ /a/b /a/e; do
  same "stat -c %F bucket$d" -- stat -c %F "$B$d"
done
same "stat -L -c '%s %F' object" -- stat -L -c '%s %F' "$R"
same "stat missing key" -- stat -c %s "$B/no-such-key"
same "realpath object" -- realpath "$R"
same "readlink -f object" -- readlink -f "$B/a/b/c.txt"
same "tar tzf" -- tar tzf "$B/archive.tar.gz"
same "tar tvzf" -- tar tvzf "$B/archive.tar.gz"
same "tar xOzf (contents)" -- tar xOzf "$B/archive.tar.gz"
same "tar xzf -C dir" -- sh -c 'mkdir "$2" && tar xzf "$1" -C "$2" && cd "$2" && find . -type f | sort | xargs sha256sum' _ "$B/archive.tar.gz" @OUT@
same "zcat" -- zcat "$B/archive.tar.gz"
same "gzip -dc | pipe" --pipe -- gzip -dc "$B/archive.tar.gz"
same "gzip -t" -- gzip -t "$B/archive.tar.gz"
same "gzip -c (compress an object)" -- gzip -c -n "$X"
same "file -b" -- file -b "$B/archive.tar.gz"
same "sh hello.sh" -- sh "$B/hello.sh"

for t in "-f $R" "-f $B/empty" "-d $B" "-d $B/a" "-d $B/a/e" "-f $B/a" "-e $B/no-such-key" \
  "-r $R" "-s $R" "-s $B/empty"; do
  same "test $t" -- sh -c 'test "$1" "$2" && echo yes || echo no' _ ${t%% *} "${t#* }"
done
# Writable only locally: the shim refuses writes.
selftest_skip "test -w" || expect "test -w object is false" --stdout $'no\n' -- sh -c 'test -w "$1" && echo yes || echo no' _ "$R"
selftest_skip "[ -w ]" || expect "[ -w bucket ] is false" --stdout $'no\n' -- sh -c '[ -w "$1" ] && echo yes || echo no' _ "$B/a"

# Fields only the shim defines.
if ! selftest_skip "stat blksize, mtime, inode"; then
  expect "stat -c %o (st_blksize 65536)" --stdout $'65536\n' -- stat -c %o "$R"
  expect "stat -c %h object (1 link)" --stdout $'1\n' -- stat -c %h "$R"
  expect "stat -c %Y (mtime = Last-Modified)" --stdout "$(manifest_field random.bin 3)"$'\n' -- stat -c %Y "$R"
  expect "stat -c %Y text.txt" --stdout "$(manifest_field text.txt 3)"$'\n' -- stat -c %Y "$X"
  expect "stat -c %s exact size" --stdout "$size_r"$'\n' -- stat -c %s "$R"
  expect "st_ino stable within a process" --stdout $'same\n' -- sh -c \
    'a=$(stat -c %i "$1"); b=$(stat -c %i "$1"); [ "$a" = "$b" ] && [ "$a" != 0 ] && echo same || echo "differ: $a $b"' _ "$R"
  a=$(shim_exec stat -c %i "$R" 2>/dev/null || echo none)
  b=$(shim_exec stat -c %i "$R" 2>/dev/null || echo none)
  if [[ $a == "$b" && $a != none ]]; then ok "st_ino stable across processes"; else
    fail "st_ino stable across processes" "stat -c %i $R: $a, then $b"; fi
  expect "st_ino unique per object" --stdout $'6\n' -- sh -c \
    'stat -c %i "$@" | sort -u | wc -l' _ "$R" "$X" "$B/empty" "$B/a/d.txt" "$B/a/b/c.txt" "$B/db.sqlite"
  expect "stat -c %b*%B >= size" --stdout $'ok\n' -- sh -c \
    'set -- $(stat -c "%b %B %s" "$1"); [ $(($1 * $2)) -ge $3 ] && echo ok || echo "blocks $1 x $2 < size $3"' _ "$R"
  # MMAPURL_PREFIX moves the prefix; /s3 is then an ordinary (missing) path.
  export MMAPURL_PREFIX=/mnt/objs
  expect "MMAPURL_PREFIX=/mnt/objs: cat" --stdout-file "$LOCAL/text.txt" -- \
    cat /mnt/objs/shim-test/text.txt
  expect "MMAPURL_PREFIX=/mnt/objs: ls" --stdout $'b\nd.txt\ne\n' -- ls /mnt/objs/shim-test/a
  expect "MMAPURL_PREFIX=/mnt/objs: /s3 untouched" --status 1 \
    --stderr-has "No such file or directory" -- cat "$X"
  unset MMAPURL_PREFIX
fi
# Outside the prefix: untouched.
same "outside the prefix: /s3x" -- cat /s3x/shim-test/text.txt
finish
