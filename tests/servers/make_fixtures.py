#!/usr/bin/python3
"""make_fixtures.py - mmapurl's test objects, made locally and uploaded to S3.

Run with Debian's /usr/bin/python3 (python3-botocore; boto3 is not needed).

    make_fixtures.py ENDPOINT OUTDIR     make OUTDIR/<bucket>/<key> (deterministic
                                         pseudo-random bytes), upload them with
                                         botocore PutObject (path-style, S3RVER
                                         credentials, us-east-1), read each back,
                                         and write OUTDIR/manifest.tsv
    make_fixtures.py --check ENDPOINT MANIFEST [--bucket B]
                                         GET every manifest key through ENDPOINT
                                         with botocore and compare the bytes

OUTDIR/manifest.tsv lists the objects of bucket mmapurl-test, one a line:
key<TAB>absolute local file path<TAB>size. Keys hold no TAB or newline.
OUTDIR/<bucket>/<key> is also the layout that s3_test_endpoint.py --root serves.
Bucket "demo" gets key "sample.bin" (8 MiB), not listed in the manifest.
"""

import os
import random
import sys

import botocore.session
from botocore.config import Config

TEST_BUCKET = "mmapurl-test"
DEMO_BUCKET = "demo"
SPECIAL_SIZE = 10000

TEST_OBJECTS = [
    ("size-0", 0),
    ("size-1", 1),
    ("size-4095", 4095),
    ("size-4096", 4096),
    ("size-4097", 4097),
    ("size-65536", 65536),
    ("size-65537", 65537),
    ("size-5MiB", 5 * 1048576 + 123),
] + [(key, SPECIAL_SIZE) for key in (
    "dir/sub/file.bin",
    "with space.bin",
    "plus+sign.bin",
    "eq=ual.bin",
    "tilde~.bin",
    "percent%25.bin",          # a literal '%25' in the key
    "parens(1).bin",
    "bang!star*quote'.bin",
    "données/ü.bin",
    "日本語.bin",
    "q?mark#hash.bin",
)]
DEMO_OBJECTS = [("sample.bin", 8 * 1048576)]


def content(bucket, key, size):
    """Deterministic bytes for an object: the same on every machine and run."""
    return random.Random(f"mmapurl-fixture:{bucket}/{key}:{size}").randbytes(size)


def client(endpoint):
    session = botocore.session.get_session()
    return session.create_client(
        "s3", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "S3RVER"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "S3RVER"),
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3},
                      connect_timeout=10, read_timeout=120))


def write_local(outdir, bucket, key, data):
    path = os.path.join(outdir, bucket, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return os.path.abspath(path)


def get_bytes(s3, bucket, key):
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def make(endpoint, outdir):
    s3 = client(endpoint)
    os.makedirs(outdir, exist_ok=True)
    manifest = []
    for bucket, objects in ((TEST_BUCKET, TEST_OBJECTS), (DEMO_BUCKET, DEMO_OBJECTS)):
        existing = {b["Name"] for b in s3.list_buckets()["Buckets"]}
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket)
        for key, size in objects:
            data = content(bucket, key, size)
            path = write_local(outdir, bucket, key, data)
            s3.put_object(Bucket=bucket, Key=key, Body=data)
            head = s3.head_object(Bucket=bucket, Key=key)
            if head["ContentLength"] != size or get_bytes(s3, bucket, key) != data:
                raise SystemExit(f"make_fixtures: {bucket}/{key} did not round-trip")
            if bucket == TEST_BUCKET:
                manifest.append((key, path, size))
    listed = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=TEST_BUCKET):
        listed.update(o["Key"] for o in page.get("Contents", []))
    missing = {k for k, _, _ in manifest} - listed
    if missing:
        raise SystemExit(f"make_fixtures: not listed by the server: {sorted(missing)}")
    tmp = os.path.join(outdir, "manifest.tsv.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for key, path, size in manifest:
            f.write(f"{key}\t{path}\t{size}\n")
    os.replace(tmp, os.path.join(outdir, "manifest.tsv"))
    print(f"make_fixtures: {len(manifest)} objects in s3://{TEST_BUCKET}, "
          f"{len(DEMO_OBJECTS)} in s3://{DEMO_BUCKET}; manifest "
          f"{os.path.join(outdir, 'manifest.tsv')}")


def check(endpoint, manifest, bucket=TEST_BUCKET):
    s3 = client(endpoint)
    failures = 0
    with open(manifest, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    for key, path, size in rows:
        with open(path, "rb") as local:
            want = local.read()
        try:
            got = get_bytes(s3, bucket, key)
            head = s3.head_object(Bucket=bucket, Key=key)
            ok = got == want and head["ContentLength"] == int(size)
        except Exception as exc:  # report every key, then fail
            print(f"check: {key!r}: {exc}", file=sys.stderr)
            ok = False
        if not ok:
            failures += 1
            print(f"check: {key!r}: FAILED", file=sys.stderr)
    print(f"check: {len(rows) - failures} of {len(rows)} objects read back "
          f"through {endpoint} with botocore")
    return 1 if failures else 0


def main(argv):
    if len(argv) >= 3 and argv[0] == "--check":
        bucket = argv[4] if len(argv) >= 5 and argv[3] == "--bucket" else TEST_BUCKET
        return check(argv[1], argv[2], bucket)
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    make(argv[0], argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
