#!/usr/bin/env bash
# python.sh: Debian's /usr/bin/python3 reading /s3 objects (py_reader.py, one
# mode per check): open().read() binary and text, readline loops, seek/tell,
# os.pread, mmap (ACCESS_READ, ACCESS_COPY, offsets, several maps),
# shutil.copyfile (sendfile fallback), os.fork (shared offset, mappings
# across fork), threads, subprocesses inheriting our fds, listdir/scandir/
# walk, glob, pathlib, missing keys; compared with the same mode on the local
# copy. Shim-only expectations: stat fields, EROFS for every write attempt,
# copy_file_range/sendfile/splice refused before copying.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
shim_init

RD=$SHIM_HERE/py_reader.py
py() { same "python $1 ${2#"$B/"}" -- "$PY" "$RD" "$@"; }

for mode in read_binary chunks seek_tell pread mmap copyfile fork fork_mmap threads children; do
  py "$mode" "$B/random.bin"
done
for k in text.txt db.sqlite empty a/d.txt "with space.txt"; do
  py read_binary "$B/$k"
  py mmap "$B/$k"
done
py read_binary s3://shim-test/text.txt
py read_text "$B/text.txt"
py readlines "$B/text.txt"
py chunks "$B/text.txt"
py seek_tell "$B/db.sqlite"
py pread "$B/empty"
py mmap_many "$B/random.bin"
py fork "$B/text.txt"
py copyfile "$B/empty"
py stat "$B/random.bin"
py stat "$B/empty"
py stat "$B/a"
py listing "$B"
py listing "$B/a"
py listing "$B/a/e"
py glob "$B"
py pathlib "$B"
py missing "$B/no-such-key"
py missing "$B/no/such/prefix/key"
py missing "/s3/no-such-bucket-here/key"
py execve_own_env "$B/a/d.txt"
py lowest_fd "$B/random.bin"
py cwd_children "$B/a/d.txt"

py_expect() { # py_expect NAME EXPECTED-MODE -- MODE ARGS...
  local name=$1 want
  want=$("$PY" "$RD" "$2")$'\n'
  shift 3
  expect "$name" --status 0 --stdout "$want" -- "$PY" "$RD" "$@"
}
miss=$'open FileNotFoundError ENOENT\nos.open FileNotFoundError ENOENT\nstat FileNotFoundError ENOENT\nlistdir FileNotFoundError ENOENT\n'
expect "python missing key -> FileNotFoundError" --stdout "$miss" -- "$PY" "$RD" missing "$B/no-such-key"
if ! selftest_skip "python: stat fields, EROFS, copy refused"; then
  for k in random.bin text.txt empty "with space.txt"; do
    py_expect "python stat fields $k" stat_shim_expected -- stat_shim "$B/$k" \
      "$(manifest_field "$k" 2)" "$(manifest_field "$k" 3)"
  done
  py_expect "python writes -> EROFS" write_refused_expected -- write_refused \
    "$B/a/d.txt" "$B/a/new.txt" "$B/a"
  expect "python copy_file_range/sendfile/splice refused before copying" --status 0 \
    --stdout "copy_file_range failed
copy_file_range bytes in the output 0 offset 0
sendfile failed
sendfile bytes in the output 0 offset 0
splice failed
splice bytes in the pipe 0 offset 0
read after 100 $("$PY" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read(100)).hexdigest()[:32])' "$LOCAL/random.bin")
" -- "$PY" "$RD" copy_refused "$B/random.bin"
fi
finish
