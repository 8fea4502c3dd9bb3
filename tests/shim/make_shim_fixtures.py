#!/usr/bin/python3
"""make_shim_fixtures.py - the objects the shim tests read, local and in S3.

Run with Debian's /usr/bin/python3 (python3-botocore), like
tests/servers/make_fixtures.py, whose client and upload approach it reuses.

    make_shim_fixtures.py ENDPOINT OUTDIR
        make OUTDIR/<key> for every object below (deterministic content),
        create bucket shim-test, upload them with botocore PutObject, read each
        back, check the listing, and write OUTDIR.tsv (next to OUTDIR, not in
        it, so OUTDIR holds exactly the bucket's objects):
            key<TAB>size<TAB>Last-Modified (epoch seconds)<TAB>ETag
    make_shim_fixtures.py --check ENDPOINT OUTDIR
        the bucket holds exactly the keys of OUTDIR.tsv with the bytes of the
        local copies (after write attempts through the shim: nothing changed)

Objects (bucket shim-test):
    random.bin        3 MiB + 12345 bytes, pseudo-random (not block aligned)
    text.txt          5000 lines of words and numbers (wc, grep, sort, head)
    db.sqlite         sqlite database: table items (3000 rows), index on name
    archive.tar.gz    a tar.gz of a few small files (tar tzf, zcat)
    hello.sh          a shell script (sh FILE, . FILE)
    a/b/c.txt, a/d.txt, a/e/ (a 0-byte "folder" marker, an empty directory)
    with space.txt    a key with a space
    empty             a 0-byte object
"""

import io
import os
import random
import sqlite3
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "servers"))
from make_fixtures import client, get_bytes  # noqa: E402

BUCKET = "shim-test"
RANDOM_SIZE = 3 * 1048576 + 12345
WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo "
         "lima mike november oscar papa quebec romeo sierra tango uniform "
         "victor whiskey xray yankee zulu").split()


def rng(name):
    return random.Random(f"mmapurl-shim-fixture:{name}")


def text_lines(n=5000):
    r = rng("text")
    lines = []
    for i in range(1, n + 1):
        words = " ".join(r.choice(WORDS) for _ in range(r.randint(1, 7)))
        lines.append(f"{i:05d} {r.randint(0, 99999)} {words}\n")
    # Duplicates and a few needles for sort -u and grep.
    lines[1234] = "needle in the haystack\n"
    lines[4321] = "needle in the haystack\n"
    lines[2500] = "\tleading tab and trailing spaces   \n"
    return "".join(lines).encode()


def sqlite_db(path):
    r = rng("sqlite")
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=DELETE")
    con.execute("PRAGMA page_size=4096")
    con.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " qty INTEGER, price REAL, note BLOB)")
    con.executemany(
        "INSERT INTO items VALUES (?, ?, ?, ?, ?)",
        [(i, f"item-{r.choice(WORDS)}-{i:05d}", r.randint(0, 1000),
          round(r.uniform(0, 500), 2), r.randbytes(r.randint(0, 300)))
         for i in range(1, 3001)])
    con.execute("CREATE INDEX items_name ON items(name)")
    con.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID")
    con.executemany("INSERT INTO kv VALUES (?, ?)",
                    [(f"key{i:04d}", r.choice(WORDS) * r.randint(1, 50)) for i in range(500)])
    con.commit()
    con.execute("VACUUM")
    con.close()
    with open(path, "rb") as f:
        return f.read()


def tar_gz():
    r = rng("tar")
    buf = io.BytesIO()
    members = [("archive/readme.txt", b"mmapurl shim test archive\n" * 20),
               ("archive/data/numbers.txt",
                "".join(f"{i}\n" for i in range(2000)).encode()),
               ("archive/data/blob.bin", r.randbytes(100000))]
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.GNU_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1700000000
            info.mode = 0o644
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def objects(tmpdir):
    return [
        ("random.bin", rng("random").randbytes(RANDOM_SIZE)),
        ("text.txt", text_lines()),
        ("db.sqlite", sqlite_db(os.path.join(tmpdir, "db.sqlite"))),
        ("archive.tar.gz", tar_gz()),
        ("hello.sh", b'echo "hello from hello.sh"\necho "$((6 * 7))"\n'),
        ("a/b/c.txt", b"c: the deepest file\n"),
        ("a/d.txt", b"d line 1\nd line 2\nd line 3\n"),
        ("a/e/", b""),
        ("with space.txt", b"a key with a space\n"),
        ("empty", b""),
    ]


def write_local(outdir, key, data):
    path = os.path.join(outdir, key)
    if key.endswith("/"):  # a folder marker: an empty directory locally
        os.makedirs(path, exist_ok=True)
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)


def list_keys(s3):
    keys = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for o in page.get("Contents", []):
            keys[o["Key"]] = o["Size"]
    return keys


def make(endpoint, outdir):
    s3 = client(endpoint)
    outdir = os.path.abspath(outdir)
    if os.path.isdir(outdir):  # a fresh copy: no leftovers from an older run
        for top, dirs, files in os.walk(outdir, topdown=False):
            for name in files:
                os.unlink(os.path.join(top, name))
            for name in dirs:
                os.rmdir(os.path.join(top, name))
    os.makedirs(outdir, exist_ok=True)
    if BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=BUCKET)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        objs = objects(tmp)
    for key, data in objs:
        write_local(outdir, key, data)
        s3.put_object(Bucket=BUCKET, Key=key, Body=data)
        head = s3.head_object(Bucket=BUCKET, Key=key)
        if head["ContentLength"] != len(data) or get_bytes(s3, BUCKET, key) != data:
            raise SystemExit(f"make_shim_fixtures: {key} did not round-trip")
        mtime = int(head["LastModified"].timestamp())
        rows.append(f"{key}\t{len(data)}\t{mtime}\t{head['ETag'].strip(chr(34))}\n")
    listed = list_keys(s3)
    if set(listed) != {k for k, _ in objs}:
        raise SystemExit(f"make_shim_fixtures: listing {sorted(listed)} != objects")
    with open(outdir + ".tsv.tmp", "w", encoding="utf-8") as f:
        f.writelines(rows)
    os.replace(outdir + ".tsv.tmp", outdir + ".tsv")
    print(f"make_shim_fixtures: {len(objs)} objects in s3://{BUCKET}, local copies "
          f"in {outdir}, manifest {outdir}.tsv")


def check(endpoint, outdir):
    s3 = client(endpoint)
    with open(outdir.rstrip("/") + ".tsv", encoding="utf-8") as f:
        want = {line.split("\t")[0] for line in f if line.strip()}
    bad = []
    listed = list_keys(s3)
    if set(listed) != want:
        bad.append(f"keys now {sorted(listed)}, want {sorted(want)}")
    for key in sorted(want & set(listed)):
        local = b"" if key.endswith("/") else open(os.path.join(outdir, key), "rb").read()
        if get_bytes(s3, BUCKET, key) != local:
            bad.append(f"{key}: bytes on the server differ from the local copy")
    for line in bad:
        print(f"check: {line}", file=sys.stderr)
    return 1 if bad else 0


def main(argv):
    if len(argv) == 3 and argv[0] == "--check":
        return check(argv[1], argv[2])
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    make(argv[0], argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
