#!/usr/bin/env bash
# errors.sh: errors as programs see them. Missing keys, prefixes and buckets
# (ENOENT, compared with the local copy's messages), reading a directory
# (EISDIR), a key used as a directory (ENOTDIR); every kind of write under the
# prefix (shell redirections, cp, touch, rm, mkdir, rmdir, mv, truncate, dd,
# read-write opens) fails with "Read-only file system" and nothing hangs;
# afterwards the bucket is unchanged on the server.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
shim_init

R=$B/random.bin
D=$B/a/d.txt
ENOENT="No such file or directory"
EROFS="Read-only file system"

# Missing things: ENOENT, with the same messages and statuses as locally.
for p in "$B/no-such-key" "$B/no/such/prefix/key" "$B/a/no-such.txt" "/s3/no-such-bucket-here/key"; do
  same "cat missing: $p" -- cat "$p"
  same "stat missing: $p" -- stat -c %s "$p"
  same "ls missing: $p" -- ls "$p"
done
expect "cat missing key: status 1, ENOENT" --status 1 --stderr-has "$ENOENT" -- cat "$B/no-such-key"
same "head missing" -- head -c 10 "$B/no-such-key"
same "sha256sum missing and present" --filter field1 -- sha256sum "$B/no-such-key" "$D"
same "test -e missing" -- sh -c 'test -e "$1" && echo yes || echo no' _ "$B/nope"
same "ls missing prefix a/zz/" -- ls "$B/a/zz/"
same "cd missing prefix" -- sh -c 'cd "$1" && pwd' _ "$B/nothing-here"
same "cd prefix; cat relative" -- sh -c 'cd "$1" && cat d.txt b/c.txt' _ "$B/a"
same "cat a directory (EISDIR)" -- cat "$B/a"
same "cat the bucket (EISDIR)" -- cat "$B/"
same "cat key/ (ENOTDIR)" -- cat "$B/text.txt/"
same "ls key/child (ENOTDIR)" -- ls "$B/text.txt/child"
same "grep in a directory" -- grep -s x "$B/a"

if ! selftest_skip "write attempts (they would write the local copies)"; then
  w() { # w NAME CMD...: must fail plainly with EROFS on stderr
    expect "$1" --fail --stderr-has "$EROFS" -- "${@:2}"
  }
  w "sh: echo x > existing key (O_TRUNC)" sh -c 'echo x > "$1"' _ "$D"
  w "sh: echo x > new key (O_CREAT)" sh -c 'echo x > "$1"' _ "$B/a/new.txt"
  w "sh: echo x >> existing key (O_APPEND)" sh -c 'echo x >> "$1"' _ "$D"
  w "bash: exec 3<> key (O_RDWR)" bash -c 'exec 3<> "$1"' _ "$D"
  w "cp local -> new key" cp "$LOCAL/text.txt" "$B/copy.txt"
  w "cp local -> existing key" cp "$LOCAL/a/d.txt" "$D"
  w "cp local -> prefix/" cp "$LOCAL/text.txt" "$B/a/"
  w "cp key -> key" cp "$R" "$B/random-copy.bin"
  w "touch existing key" touch "$D"
  w "touch new key" touch "$B/touched"
  w "rm key" rm "$D"
  w "rm -f key" rm -f "$D"
  w "rm -r prefix" rm -r "$B/a"
  w "rmdir empty folder" rmdir "$B/a/e"
  w "mkdir new" mkdir "$B/newdir"
  w "mkdir new in prefix" mkdir "$B/a/newdir"
  w "mv key key2 (rename)" mv "$D" "$B/a/d2.txt"
  cp "$LOCAL/a/d.txt" "$T/victim"
  w "mv local -> bucket" mv "$T/victim" "$B/moved"
  w "mv key -> local" mv "$D" "$T/moved-here"
  w "truncate -s 0 key" truncate -s 0 "$D"
  w "truncate -s 0 new key" truncate -s 0 "$B/truncated"
  w "dd of=key" dd if=/dev/zero of="$R" bs=1 count=1 conv=notrunc status=none
  w "tee key" sh -c 'echo x | tee "$1"' _ "$B/tee.txt"
  w "sed -i key" sed -i s/d/D/ "$D"
  w "tar xf into bucket" tar xzf "$LOCAL/archive.tar.gz" -C "$B/a"
  expect "sqlite3 write to database" --fail --stderr-has "readonly database" -- \
    sqlite3 "$B/db.sqlite" "CREATE TABLE t2(x);"
  # Beyond the enumerated calls (open, mkdir, unlink, rename, truncate), but
  # writes all the same: "writes are refused".
  w "ln -s into bucket (symlink)" ln -s /etc/hostname "$B/link"
  w "ln into bucket (link)" ln "$LOCAL/a/d.txt" "$B/hardlink"
  w "chmod key" chmod 600 "$D"
  # The object is the same afterwards, through the shim...
  expect "key unchanged after the attempts" --status 0 --stdout-file "$LOCAL/a/d.txt" -- cat "$D"
  expect "random.bin unchanged after the attempts" --status 0 --stdout-file "$LOCAL/random.bin" -- cat "$R"
  # ...and on the server (botocore: exactly the fixture keys and bytes).
  if out=$(/usr/bin/python3 "$SHIM_HERE/make_shim_fixtures.py" --check \
    "$AWS_ENDPOINT_URL_S3" "$LOCAL" 2>&1); then
    ok "bucket unchanged on the server"
  else
    fail "bucket unchanged on the server" "$out"
  fi
fi
finish
