#!/usr/bin/python3
"""test_sigv4_botocore.py - cross-check of mmapurl's S3 SigV4 header signing
against botocore (Debian python3-botocore, run with /usr/bin/python3).

For S3 GET requests on awkward keys (spaces, + = ~ % ( ) ! * ', UTF-8,
leading/trailing/double slashes), with and without a session token, with
Range and If-Match headers and x-amz-content-sha256 = SHA-256 of the empty
body, botocore.auth.S3SigV4Auth signs the request (add_auth's steps, with the
timestamp fixed in request.context instead of read from the clock) and the C
tool tests/unit/sigv4_tool signs the same request through mu_uri_encode and
mu_sigv4_sign. The canonical request, string to sign and Authorization header
must be identical byte for byte.

usage: test_sigv4_botocore.py PATH/TO/sigv4_tool
Exit 0 when all match, 1 with a diff of each mismatch, 77 when botocore is
missing (skipped).
"""
import difflib
import hashlib
import itertools
import re
import subprocess
import sys

try:
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from botocore.utils import percent_encode
except ImportError as e:  # pragma: no cover
    print(f"skipped: botocore not importable with {sys.executable}: {e}")
    sys.exit(77)

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

KEYS = [
    "plain.txt",
    "with space.bin",
    "two  spaces",
    "a+b=c",
    "tilde~file",
    "per%cent",
    "100%25literal",
    "paren(1)",
    "bang!",
    "star*",
    "quote'",
    "données/ü.bin",
    "日本",
    "/lead",
    "trail/",
    "a//b",
    "//",
    "dir/sub/file.txt",
    "dot/./and/../dots",
    "all ~+=%()!*' ü/日本/x",
    "semi;colon,comma:at@amp&dollar$",
    "hash#question?",
]

CREDS = [
    ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", None),
    (
        "ASIAXAMPLETEMPKEY123",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
        "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+token==",
    ),
]

EXTRA_HEADERS = [
    [],
    [("Range", "bytes=0-1023")],
    [("If-Match", '"3858f62230ac3c915f300c664312c11f"')],
    [("Range", "bytes=4096-8191"), ("If-Match", '"9b2cf535f27731c974343645a3985328-3"')],
]

# (host, bucket, region, amz_date, query)
TARGETS = [
    ("s3.us-east-1.amazonaws.com", "examplebucket", "us-east-1", "20130524T000000Z", None),
    ("s3.eu-west-3.amazonaws.com", "my.bucket-1", "eu-west-3", "20240229T235959Z", None),
    ("127.0.0.1:9000", "local", "us-east-1", "20250101T120000Z", "versionId=3HL4kqtJ%2Bx&partNumber=2"),
]


def cases():
    for key, (akid, secret, token), extra, target in itertools.product(
        KEYS, CREDS, EXTRA_HEADERS, TARGETS
    ):
        host, bucket, region, date, query = target
        yield dict(key=key, akid=akid, secret=secret, token=token, extra=extra,
                   host=host, bucket=bucket, region=region, date=date, query=query)


def botocore_sign(c):
    """(canonical request, string to sign, Authorization) from botocore."""
    # The key as botocore's REST serializer puts it in the URI ({Key+}).
    path = "/" + c["bucket"] + "/" + percent_encode(c["key"], safe="/~")
    url = "https://" + c["host"] + path + ("?" + c["query"] if c["query"] else "")
    req = AWSRequest(method="GET", url=url, headers=dict(c["extra"]))
    auth = S3SigV4Auth(Credentials(c["akid"], c["secret"], c["token"]), "s3", c["region"])
    # add_auth, with the timestamp fixed instead of taken from the clock.
    req.context["timestamp"] = c["date"]
    auth._modify_request_before_signing(req)
    if req.headers.get("X-Amz-Content-SHA256") != EMPTY_SHA256:
        raise AssertionError("botocore did not sign the empty payload: %r"
                             % req.headers.get("X-Amz-Content-SHA256"))
    cr = auth.canonical_request(req)
    sts = auth.string_to_sign(req, cr)
    sig = auth.signature(sts, req)
    auth._inject_signature_to_request(req, sig)
    return cr, sts, req.headers["Authorization"]


def tool_line(c):
    fields = ["GET", c["host"], c["bucket"], c["key"], c["query"] or "-", c["date"],
              c["region"], c["akid"], c["secret"], c["token"] or "-"]
    fields += [f"{name}:{value}" for name, value in c["extra"]]
    for f in fields:
        if "\t" in f or "\n" in f:
            raise AssertionError(f"field {f!r} cannot go through the tool")
    return "\t".join(fields)


def unescape(s):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), s)


def run_tool(tool, lines):
    p = subprocess.run([tool], input=("\n".join(lines) + "\n").encode("utf-8"),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if p.returncode != 0:
        sys.stderr.write(p.stderr.decode("utf-8", "replace"))
        raise SystemExit(f"FAIL: {tool} exited with {p.returncode}")
    out = p.stdout.decode("utf-8").split("\n")
    results = []
    for i in range(0, len(lines) * 3, 3):
        tags = [out[i + k].split("\t", 1) for k in range(3)]
        if [t[0] for t in tags] != ["AUTH", "CR", "STS"]:
            raise SystemExit(f"FAIL: unexpected tool output near line {i}: {out[i:i + 3]!r}")
        auth, cr, sts = (unescape(t[1]) for t in tags)
        results.append((cr, sts, auth))
    return results


def diff(what, want, got):
    return "".join(difflib.unified_diff(
        want.splitlines(True), got.splitlines(True),
        f"{what} (botocore)", f"{what} (mmapurl)", lineterm="\n")) + "\n"


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    all_cases = list(cases())
    expected = [botocore_sign(c) for c in all_cases]
    got = run_tool(sys.argv[1], [tool_line(c) for c in all_cases])
    failures = 0
    for c, want, have in zip(all_cases, expected, got):
        for what, w, g in zip(("canonical request", "string to sign", "Authorization"),
                              want, have):
            if w != g:
                failures += 1
                print(f"FAIL key={c['key']!r} token={c['token'] is not None} "
                      f"headers={c['extra']} host={c['host']}: {what} differs")
                print(diff(what, w + "\n", g + "\n"))
    keys = len(KEYS)
    print(f"sigv4 vs botocore {__import__('botocore').__version__}: {len(all_cases)} requests "
          f"({keys} keys x {len(CREDS)} credential sets x {len(EXTRA_HEADERS)} header sets "
          f"x {len(TARGETS)} endpoints), {failures} mismatch(es)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
