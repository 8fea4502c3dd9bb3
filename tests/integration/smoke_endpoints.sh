#!/usr/bin/env bash
# smoke_endpoints.sh STATE_DIR: proves the three test fixtures work.
#  - every manifest object reads back byte-identical through s3rver, the
#    verifying proxy and the fault origin, with curl --aws-sigv4 signing
#    (a third, independent signer) and with botocore (make_fixtures.py --check);
#  - ranged reads (206) match the local bytes, 416 for a 0-byte object;
#  - the verifier rejects a wrong secret (403 SignatureDoesNotMatch), an unknown
#    key id (403 InvalidAccessKeyId), a missing Authorization (403
#    AccessDenied), and a path encoded otherwise than botocore would;
#  - every fault action of the origin fires once as documented.
set -euo pipefail

state=${1:?usage: smoke_endpoints.sh STATE_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
manifest=$state/objects/manifest.tsv
python=/usr/bin/python3
empty_sha=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); }
fail() {
  failed=$((failed + 1))
  echo "FAIL: $*" >&2
}
expect() { # expect WHAT WANT GOT
  if [[ $2 == "$3" ]]; then ok; else fail "$1: want '$2', got '$3'"; fi
}

env_value() { # env_value FILE KEY
  sed -n "s/^$2=//p" "$1"
}

s3rver_url=$(env_value "$state/env" AWS_ENDPOINT_URL_S3)
verify_url=$(env_value "$state/verify.env" AWS_ENDPOINT_URL_S3)
faults_url=$(env_value "$state/faults.env" AWS_ENDPOINT_URL_S3)
verify_ctl=$(env_value "$state/verify.env" MU_TEST_CONTROL_URL)
faults_ctl=$(env_value "$state/faults.env" MU_TEST_CONTROL_URL)

# curl 7.88 signs SigV4 but does not add x-amz-content-sha256, which S3
# requires: pass it, and curl signs it along with host and x-amz-date.
s3curl() { # s3curl SECRET [curl args...]
  local secret=$1
  shift
  curl -sS -H "x-amz-content-sha256: $empty_sha" \
    --aws-sigv4 "aws:amz:us-east-1:s3" --user "S3RVER:$secret" "$@"
}
encode() { # the S3 encoding of a key, as botocore produces it
  "$python" -c 'import sys, urllib.parse
print(urllib.parse.quote(sys.argv[1].encode(), safe="/~"))' "$1"
}
fault() { # fault CONTROL_URL JSON
  curl -sS -f -o /dev/null -X POST --data "$2" "$1/__fault"
}
http_code() { # http_code [curl args...]: status of a signed GET, body to $tmp/body
  s3curl S3RVER -o "$tmp/body" -w '%{http_code}' "$@" || true
}
xml_code() {
  sed -n 's:.*<Code>\(.*\)</Code>.*:\1:p' "$tmp/body"
}

# 1. Every object through every endpoint, compared byte for byte.
while IFS=$'\t' read -r key path size; do
  enc=$(encode "$key")
  for url in "$s3rver_url" "$verify_url" "$faults_url"; do
    code=$(http_code "$url/mmapurl-test/$enc")
    if [[ $code == 200 ]] && cmp -s "$tmp/body" "$path" &&
      [[ $(stat -c %s "$tmp/body") == "$size" ]]; then
      ok
    else
      fail "GET $url/mmapurl-test/$enc: status $code or bytes differ from $path"
    fi
  done
done <"$manifest"
echo "smoke: $passed reads matched the local files (s3rver, verify, faults)"

# botocore, a second signer, through both verifying endpoints.
for url in "$verify_url" "$faults_url"; do
  if "$python" "$root/tests/servers/make_fixtures.py" --check "$url" "$manifest"; then
    ok
  else
    fail "botocore reads through $url"
  fi
done

# 2. Ranges.
big=$state/objects/mmapurl-test/size-5MiB
for url in "$s3rver_url" "$verify_url" "$faults_url"; do
  code=$(http_code -r 4095-1052671 "$url/mmapurl-test/size-5MiB")
  expect "206 from $url" 206 "$code"
  if ! cmp -s "$tmp/body" <(tail -c +4096 "$big" | head -c 1048577); then
    fail "range 4095-1052671 from $url differs"
  fi
  code=$(http_code -r 5243000- "$url/mmapurl-test/size-5MiB")
  expect "open-ended range from $url" "206 3" "$code $(stat -c %s "$tmp/body")"
done
for url in "$verify_url" "$faults_url"; do
  code=$(http_code -r 0-0 "$url/mmapurl-test/size-0")
  expect "416 for a 0-byte object from $url" "416 InvalidRange" "$code $(xml_code)"
done
hdr=$(s3curl S3RVER -o /dev/null -D - -r 0-0 "$faults_url/mmapurl-test/size-0" | tr -d '\r')
expect "Content-Range of 416" "Content-Range: bytes */0" "$(grep -i '^content-range:' <<<"$hdr")"
hdr=$(s3curl S3RVER -o /dev/null -D - -r 10-19 "$faults_url/mmapurl-test/size-4097" | tr -d '\r')
expect "Content-Range of 206" "Content-Range: bytes 10-19/4097" "$(grep -i '^content-range:' <<<"$hdr")"

# 3. The verifier's refusals.
for url in "$verify_url" "$faults_url"; do
  code=$(s3curl wrong-secret -o "$tmp/body" -w '%{http_code}' "$url/mmapurl-test/size-1" || true)
  expect "wrong secret at $url" "403 SignatureDoesNotMatch" "$code $(xml_code)"
  code=$(curl -sS -H "x-amz-content-sha256: $empty_sha" --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user NOBODY:S3RVER -o "$tmp/body" -w '%{http_code}' "$url/mmapurl-test/size-1" || true)
  expect "unknown key id at $url" "403 InvalidAccessKeyId" "$code $(xml_code)"
  code=$(curl -sS -o "$tmp/body" -w '%{http_code}' "$url/mmapurl-test/size-1" || true)
  expect "anonymous at $url" "403 AccessDenied" "$code $(xml_code)"
  # Signed correctly over a path that is not S3's canonical encoding ('+'
  # left raw, lower-case hex): botocore would never send it; refused.
  code=$(http_code "$url/mmapurl-test/plus+sign.bin")
  expect "raw '+' at $url" "403 SignatureDoesNotMatch" "$code $(xml_code)"
  code=$(http_code "$url/mmapurl-test/with%2aspace.bin")
  expect "lower-case hex at $url" "403 SignatureDoesNotMatch" "$code $(xml_code)"
done

# 4. Faults, on the origin (and the proxy where they apply).
file4097=$state/objects/mmapurl-test/size-4097
file64k=$state/objects/mmapurl-test/size-65537
for ctl in "$faults_ctl" "$verify_ctl"; do
  url=$ctl
  curl -sS -f -o /dev/null -X POST "$ctl/__reset"
  fault "$ctl" '{"action": "status", "status": 503, "code": "SlowDown", "count": 2}'
  codes="$(http_code "$url/mmapurl-test/size-4097") $(xml_code)"
  codes+=" $(http_code "$url/mmapurl-test/size-4097")"
  codes+=" $(http_code "$url/mmapurl-test/size-4097")"
  expect "503 SlowDown x2 at $url" "503 SlowDown 503 200" "$codes"

  fault "$ctl" '{"action": "reset", "after_bytes": 1000, "count": 1}'
  rc=0
  s3curl S3RVER -o "$tmp/body" "$url/mmapurl-test/size-65537" 2>/dev/null || rc=$?
  got=$(stat -c %s "$tmp/body")
  if ((rc != 0)) && ((got <= 1000)) && cmp -s "$tmp/body" <(head -c "$got" "$file64k"); then
    ok
  else
    fail "reset at $url: curl rc $rc, $got bytes"
  fi

  fault "$ctl" '{"action": "ignore_range", "count": 1}'
  code=$(http_code -r 0-99 "$url/mmapurl-test/size-65537")
  if [[ $code == 200 ]] && cmp -s "$tmp/body" "$file64k"; then ok; else
    fail "ignore_range at $url: $code"
  fi
  expect "range honoured again at $url" 206 "$(http_code -r 0-99 "$url/mmapurl-test/size-65537")"

  fault "$ctl" '{"action": "stall", "seconds": 30, "after_bytes": 100, "count": 1}'
  rc=0
  s3curl S3RVER -o "$tmp/body" --max-time 1 "$url/mmapurl-test/size-65537" 2>/dev/null || rc=$?
  expect "stall at $url (curl timeout, 100 bytes)" "28 100" "$rc $(stat -c %s "$tmp/body")"
  curl -sS -f -o /dev/null -X POST "$ctl/__reset" # wakes the stalled request

  fault "$ctl" '{"action": "redirect_region", "region": "eu-west-1", "count": 1}'
  hdr=$(s3curl S3RVER -o "$tmp/body" -D - "$url/mmapurl-test/size-1" | tr -d '\r')
  expect "redirect at $url" "301 PermanentRedirect eu-west-1 x-amz-bucket-region: eu-west-1" \
    "$(head -1 <<<"$hdr" | cut -d' ' -f2) $(xml_code) $(sed -n 's:.*<Region>\(.*\)</Region>.*:\1:p' "$tmp/body") $(grep -i '^x-amz-bucket-region:' <<<"$hdr")"
done

# replace (origin only): the old ETag stops matching.
etag=$(s3curl S3RVER -o /dev/null -D - "$faults_url/mmapurl-test/size-4097" | tr -d '\r' |
  sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
expect "ETag is the quoted md5" "\"$(md5sum <"$file4097" | cut -d' ' -f1)\"" "$etag"
expect "If-Match with the ETag" 206 "$(http_code -r 0-9 -H "If-Match: $etag" "$faults_url/mmapurl-test/size-4097")"
fault "$faults_ctl" '{"action": "replace", "key": "mmapurl-test/size-4097"}'
code=$(http_code -r 0-9 -H "If-Match: $etag" "$faults_url/mmapurl-test/size-4097")
expect "If-Match with the old ETag after replace" "412 PreconditionFailed" "$code $(xml_code)"
new_etag=$(s3curl S3RVER -o /dev/null -D - "$faults_url/mmapurl-test/size-4097" | tr -d '\r' |
  sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
expect "If-Match with the new ETag" 206 "$(http_code -r 0-9 -H "If-Match: $new_etag" "$faults_url/mmapurl-test/size-4097")"
expect "404 NoSuchKey" "404 NoSuchKey" "$(http_code "$faults_url/mmapurl-test/missing") $(xml_code)"
expect "404 NoSuchBucket" "404 NoSuchBucket" "$(http_code "$faults_url/no-bucket/missing") $(xml_code)"

# Statistics.
stats=$(curl -sS -f "$faults_ctl/__stats")
if "$python" -c 'import json, sys
s = json.loads(sys.argv[1])
assert s["object_gets"] >= 4 and s["bytes_sent"] > 0, s
assert "bytes=0-9" in s["ranges"], s["ranges"]' "$stats"; then ok; else fail "stats: $stats"; fi
curl -sS -f -o /dev/null -X POST "$faults_ctl/__reset"
curl -sS -f -o /dev/null -X POST "$verify_ctl/__reset"

echo "smoke_endpoints: $passed passed, $failed failed"
((failed == 0))
