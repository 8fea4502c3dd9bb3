#!/usr/bin/python3
"""s3_test_endpoint.py - mmapurl's test-only S3 endpoint: SigV4 oracle and fault injector.

Run with Debian's /usr/bin/python3 (python3-botocore). Listens on 127.0.0.1 only.

    s3_test_endpoint.py (--upstream http://127.0.0.1:PORT | --root DIR)
        [--port N (0: any free port)] [--port-file F] [--pid-file F]
        [--verify-secret SECRET] [--access-key S3RVER] [--allow-anonymous]
        [--region REGION] [--tls-cert FILE --tls-key FILE] [--verbose]

Signature verification (--verify-secret): every request with an Authorization
header is re-signed with botocore's S3SigV4Auth over the request as received
(method, raw percent-encoded path, raw query, the SignedHeaders with their
received values, X-Amz-Date, x-amz-content-sha256). The raw path must also be
exactly how botocore encodes that bucket/key (each byte outside A-Za-z0-9-._~/
as %XX, uppercase). Differences answer 403 SignatureDoesNotMatch and both
canonical requests are logged to stderr. Unknown key id: 403 InvalidAccessKeyId.
No Authorization: 403 AccessDenied unless --allow-anonymous. With --region, a
credential scope naming another region answers 400 AuthorizationHeaderMalformed
with <Region> and x-amz-bucket-region, as S3 does. Without --verify-secret no
request is checked.

Serving:
  --upstream URL  proxy: method, raw path, query, headers and body go to the
                  upstream (s3rver); its status, headers and body stream back.
                  An upstream body that ends early ends the client's too.
                  --fix-empty-range: s3rver 3.7.1 answers a Range on a 0-byte
                  object with 206 "bytes 0-0/0", Content-Length 1 and no body;
                  the proxy answers 416 InvalidRange instead, as S3 does.
  --root DIR      origin: GET/HEAD /<bucket>/<key> serve DIR/<bucket>/<key>
                  with Range (206/416), ETag (quoted md5, or a new one after
                  "replace"), Last-Modified, If-Match (412), If-None-Match
                  (304), 404 NoSuchKey/NoSuchBucket; HEAD /<bucket>. Nothing else.

TLS (--tls-cert FILE --tls-key FILE, PEM): the listening socket speaks
HTTPS instead of HTTP (server side only, no client certificates), for object
and control requests alike; HTTP/1.1 keep-alive as without TLS. The handshake
runs in the connection's thread; a failed one (e.g. the client rejects the
certificate) closes that connection, is logged to stderr and counted in
"tls_handshake_failures". The certificate file may hold the chain after the
leaf.

Control (no authentication):
  POST /__fault  JSON, queued; each applies to the next `count` (default 1,
                 -1 = until reset) object requests with method `method`
                 (default GET) and, when given, `key` ("bucket/key"):
    {"action":"status","status":503,"code":"SlowDown","count":2}  XML error
    {"action":"reset","after_bytes":1000}    headers with the full length,
                 after_bytes of body, then RST (SO_LINGER 0)
    {"action":"short","after_bytes":1000}    same, but a clean close (FIN)
    {"action":"ignore_range"}                200 with the whole object
    {"action":"stall","seconds":30,"after_bytes":0,"then":"close"}
                 headers (+after_bytes), sleep, then close ("continue": send
                 the rest); POST /__reset wakes stalled requests
    {"action":"delay","seconds":0.05,"count":-1}  latency before answering
    {"action":"redirect_region","region":"eu-west-1"}  301 PermanentRedirect
                 with <Region> and x-amz-bucket-region
    {"action":"replace","key":"bucket/key"}  origin only, immediate: the
                 object gets a new ETag and Last-Modified, so If-Match with the
                 old ETag answers 412 from now on
    {"action":"tls_reset","count":1}  TLS only: the next `count` new
                 connections read the ClientHello, then RST (SO_LINGER 0) in
                 the middle of the handshake; "tls_close": a clean close (FIN)
                 instead. Not tied to a method or key.
    {"action":"etag_style","key":"bucket/key","style":"none"|"weak"}
                 origin only: that object is served without an ETag, or with
                 a weak one (W/"..."), which If-Match never matches; both
                 still honour If-Unmodified-Since against Last-Modified
  POST /__reset  clears faults, replacements, ETag styles and statistics
  GET  /__stats  {"requests","object_gets","bytes_sent","ranges" (Range header
                 or null of the last 1000 object GETs),"statuses","faults_fired",
                 "signature_failures","tls_handshake_failures","connections"
                 (TCP connections accepted),"armed"}
"""

import argparse
import collections
import email.utils
import hashlib
import http.client
import http.server
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
HANDSHAKE_FAULTS = ("tls_reset", "tls_close")
CHUNK = 256 * 1024


class ExactHeadersSigner(S3SigV4Auth):
    """botocore's S3 signer, signing exactly the headers the client listed."""

    def __init__(self, credentials, region, signed_names):
        super().__init__(credentials, "s3", region)
        self._signed_names = signed_names

    def headers_to_sign(self, request):
        headers = super().headers_to_sign(request)
        # botocore drops a few headers (user-agent, expect) it never signs
        # itself; a client may sign them, so take the client's list.
        for name in self._signed_names:
            if name not in headers and name in request.headers:
                headers[name] = request.headers[name]
        for name in list(headers.keys()):
            if name not in self._signed_names:
                del headers[name]
        return headers


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.faults = []
        self.generations = {}
        self.etag_styles = {}
        self.md5_cache = {}
        self.reset_stats()

    def reset_stats(self):
        self.stats = {
            "requests": 0, "object_gets": 0, "bytes_sent": 0,
            "ranges": collections.deque(maxlen=1000),
            "statuses": collections.Counter(), "faults_fired": 0,
            "signature_failures": 0, "tls_handshake_failures": 0,
            "connections": 0,
        }

    def take_fault(self, method, objkey, handshake=False):
        """The next armed request fault for method and objkey, or with
        handshake=True the next connection (tls_*) fault."""
        with self.lock:
            for fault in self.faults:
                if (fault["action"] in HANDSHAKE_FAULTS) != handshake:
                    continue
                if not handshake and (
                        fault.get("method", "GET").upper() != method or
                        fault.get("key") not in (None, objkey)):
                    continue
                if fault["count"] > 0:
                    fault["count"] -= 1
                self.faults = [f for f in self.faults if f["count"] != 0]
                self.stats["faults_fired"] += 1
                return dict(fault)
        return None


def xml_error(code, message, **extra):
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<Error>',
             f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message>"]
    for name, value in extra.items():
        parts.append(f"<{name}>{escape(str(value))}</{name}>")
    parts.append("<RequestId>mmapurl-test</RequestId></Error>")
    return "".join(parts).encode()


def parse_range(value, size):
    """(start, end) inclusive, None to ignore the header, 'unsatisfiable'."""
    if not value or not value.startswith("bytes=") or "," in value:
        return None
    first, sep, last = value[6:].strip().partition("-")
    if not sep:
        return None
    try:
        if first == "":
            n = int(last)
            if n <= 0 or size == 0:
                return "unsatisfiable"
            return (max(0, size - n), size - 1)
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if end < start:
        return None
    if start >= size:
        return "unsatisfiable"
    return (start, min(end, size - 1))


def modified_since(last_modified, since):
    """Whether Last-Modified is later than an If-Unmodified-Since date; an
    unparseable date counts as a failed precondition."""
    try:
        return email.utils.parsedate_to_datetime(last_modified) > \
            email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return True


def etag_matches(header, etag):
    for item in header.split(","):
        item = item.strip()
        if item == "*" or item.strip('"') == etag.strip('"'):
            return True
    return False


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    is_control = False
    server_version = "mmapurl-test-endpoint"

    def version_string(self):
        return self.server_version

    # -- plumbing -------------------------------------------------------------
    def log_message(self, fmt, *args):
        if self.server.state.args.verbose:
            sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    @property
    def state(self):
        return self.server.state

    def do_GET(self):
        self.dispatch()

    do_HEAD = do_PUT = do_POST = do_DELETE = do_GET

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(length) if length else b""

    def count_status(self, status):
        if self.is_control:
            return
        with self.state.lock:
            self.state.stats["statuses"][str(status)] += 1

    def send_simple(self, status, body=b"", headers=(), ctype="application/xml"):
        self.count_status(status)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amz-request-id", "mmapurl-test")
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def send_error_xml(self, status, code, message, headers=(), **extra):
        self.send_simple(status, xml_error(code, message, **extra), headers)

    def abort_connection(self, rst):
        self.close_connection = True
        try:
            if rst:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
            self.connection.close()
        except OSError:
            pass

    def send_body(self, fault, source, length, is_file, offset=0):
        """Send `length` bytes (from a file object at `offset`, or an iterator
        of chunks), applying a reset/short/stall fault. False if cut."""
        limit = length
        if fault and fault["action"] in ("reset", "short", "stall"):
            limit = min(length, int(fault.get("after_bytes", 0)))
        sent = 0
        leftover = b""
        try:
            if is_file:
                if limit:
                    sent = self.connection.sendfile(source, offset, limit)
            else:
                for chunk in source:
                    room = limit - sent
                    if len(chunk) > room:
                        self.wfile.write(chunk[:room])
                        sent += room
                        leftover = chunk[room:]
                        break
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    if sent == limit and limit < length:
                        break
                if sent < limit:
                    # The upstream ended early: do the same to our client
                    # rather than leave it waiting for promised bytes.
                    self.abort_connection(rst=False)
                    return False
        except (OSError, http.client.HTTPException):
            self.abort_connection(rst=False)
            return False
        finally:
            with self.state.lock:
                self.state.stats["bytes_sent"] += sent
        if limit == length:
            return True
        action = fault["action"]
        if action == "stall":
            self.state.wake.wait(float(fault.get("seconds", 30)))
            if fault.get("then") == "continue":
                rest = length - sent
                try:
                    if is_file:
                        self.connection.sendfile(source, offset + sent, rest)
                    else:
                        self.wfile.write(leftover)
                        for chunk in source:
                            self.wfile.write(chunk)
                except OSError:
                    self.close_connection = True
                    return False
                with self.state.lock:
                    self.state.stats["bytes_sent"] += rest
                return True
        self.abort_connection(rst=(action == "reset"))
        return False

    # -- request routing ---------------------------------------------------------
    def dispatch(self):
        raw = self.path
        if raw.startswith("http://") or raw.startswith("https://"):
            raw = "/" + raw.split("/", 3)[3] if raw.count("/") >= 3 else "/"
        path, _, query = raw.partition("?")
        body = self.read_body()
        self.is_control = path in ("/__fault", "/__reset", "/__stats")
        if self.is_control:
            return self.control(path, body)
        with self.state.lock:
            self.state.stats["requests"] += 1
        if not self.check_auth(path, query, body):
            return
        bucket, objkey = self.split_path(path)
        fault = None
        if objkey:
            fault = self.state.take_fault(self.command, f"{bucket}/{objkey}")
            if self.command == "GET":
                with self.state.lock:
                    self.state.stats["object_gets"] += 1
                    self.state.stats["ranges"].append(self.headers.get("Range"))
        if fault and fault["action"] == "delay":
            self.state.wake.wait(float(fault.get("seconds", 0.05)))
            fault = None
        if fault and fault["action"] == "status":
            status = int(fault.get("status", 503))
            code = fault.get("code", "SlowDown")
            return self.send_error_xml(status, code, fault.get(
                "message", f"injected {status} {code}"),
                headers=[(k, str(v)) for k, v in fault.get("headers", {}).items()])
        if fault and fault["action"] == "redirect_region":
            region = fault.get("region", "eu-west-1")
            return self.send_error_xml(
                301, "PermanentRedirect",
                "The bucket you are attempting to access must be addressed "
                "using the specified endpoint.",
                headers=[("x-amz-bucket-region", region)], Bucket=bucket,
                Endpoint=f"s3.{region}.amazonaws.com", Region=region)
        if self.state.args.upstream:
            return self.proxy(raw, body, fault)
        return self.origin(bucket, objkey, fault)

    @staticmethod
    def split_path(path):
        parts = path.split("/", 2)
        bucket = urllib.parse.unquote(parts[1]) if len(parts) > 1 else ""
        objkey = urllib.parse.unquote(parts[2]) if len(parts) > 2 else ""
        return bucket, objkey

    def control(self, path, body):
        state = self.state
        if path == "/__stats" and self.command == "GET":
            with state.lock:
                stats = dict(state.stats)
                stats["ranges"] = list(stats["ranges"])
                stats["statuses"] = dict(stats["statuses"])
                stats["armed"] = [dict(f) for f in state.faults]
            return self.send_simple(200, json.dumps(stats).encode(),
                                    ctype="application/json")
        if path == "/__reset" and self.command == "POST":
            with state.lock:
                state.faults = []
                state.generations = {}
                state.etag_styles = {}
                state.reset_stats()
                old_wake, state.wake = state.wake, threading.Event()
            old_wake.set()
            return self.send_simple(200, b'{"ok": true}\n', ctype="application/json")
        if path == "/__fault" and self.command == "POST":
            try:
                fault = json.loads(body or b"{}")
                action = fault["action"]
                if action not in ("status", "reset", "short", "ignore_range",
                                  "stall", "delay", "redirect_region", "replace",
                                  "etag_style", *HANDSHAKE_FAULTS):
                    raise ValueError(f"unknown action {action!r}")
                if action in HANDSHAKE_FAULTS and not state.args.tls_cert:
                    raise ValueError(f"{action} needs TLS (--tls-cert)")
                if action == "replace":
                    if not state.args.root:
                        raise ValueError("replace needs origin mode (--root)")
                    with state.lock:
                        key = fault["key"]
                        state.generations[key] = state.generations.get(key, 0) + 1
                elif action == "etag_style":
                    if fault["style"] not in ("none", "weak"):
                        raise ValueError("style must be none or weak")
                    with state.lock:
                        state.etag_styles[fault["key"]] = fault["style"]
                else:
                    fault["count"] = int(fault.get("count", 1))
                    with state.lock:
                        state.faults.append(fault)
            except (ValueError, KeyError, TypeError) as exc:
                return self.send_simple(400, json.dumps(
                    {"error": str(exc)}).encode(), ctype="application/json")
            return self.send_simple(200, b'{"ok": true}\n', ctype="application/json")
        return self.send_simple(405, b'{"error": "method"}\n', ctype="application/json")

    # -- SigV4 -----------------------------------------------------------------
    def check_auth(self, path, query, body):
        args = self.state.args
        if not args.verify_secret:
            return True
        auth = self.headers.get("Authorization")
        if auth is None:
            if args.allow_anonymous:
                return True
            self.send_error_xml(403, "AccessDenied", "Access Denied")
            return False
        fields = {}
        algorithm, _, rest = auth.partition(" ")
        for item in rest.split(","):
            name, _, value = item.strip().partition("=")
            fields[name] = value
        try:
            access_key, date, region, service, term = fields["Credential"].split("/")
            signed_names = fields["SignedHeaders"].split(";")
            signature = fields["Signature"]
        except (KeyError, ValueError):
            self.send_error_xml(400, "AuthorizationHeaderMalformed",
                                f"malformed Authorization: {auth}")
            return False
        if access_key != args.access_key:
            self.send_error_xml(403, "InvalidAccessKeyId",
                                "The AWS Access Key Id you provided does not "
                                "exist in our records.", AWSAccessKeyId=access_key)
            return False
        amz_date = self.headers.get("X-Amz-Date", "")
        problems = []
        if algorithm != "AWS4-HMAC-SHA256":
            problems.append(f"algorithm {algorithm!r}")
        if service != "s3" or term != "aws4_request":
            problems.append(f"credential scope {fields['Credential']!r}")
        if not amz_date or amz_date[:8] != date:
            problems.append(f"X-Amz-Date {amz_date!r} vs scope date {date!r}")
        for required in ("host", "x-amz-date", "x-amz-content-sha256"):
            if required not in signed_names:
                problems.append(f"{required} not signed")
        if args.region and region != args.region:
            self.send_error_xml(
                400, "AuthorizationHeaderMalformed",
                f"the region '{region}' is wrong; expecting '{args.region}'",
                headers=[("x-amz-bucket-region", args.region)], Region=args.region)
            return False
        content_sha = self.headers.get("x-amz-content-sha256")
        if content_sha and len(content_sha) == 64 and \
                hashlib.sha256(body).hexdigest() != content_sha:
            self.send_error_xml(400, "XAmzContentSHA256Mismatch",
                                "The provided 'x-amz-content-sha256' header does "
                                "not match what was computed.")
            return False

        raw_path = path if path else "/"
        raw_bytes = raw_path.encode("latin-1")
        botocore_path = percent_encode(urllib.parse.unquote_to_bytes(raw_bytes),
                                       safe="/~")
        if botocore_path != raw_path:
            problems.append(f"path {raw_path!r} is not encoded as botocore "
                            f"encodes that key: {botocore_path!r}")

        headers = {}
        for name in signed_names:
            values = self.headers.get_all(name)
            if values is None:
                problems.append(f"signed header {name!r} missing")
                continue
            headers[name] = ",".join(values)
        if content_sha and "x-amz-content-sha256" not in signed_names:
            headers["X-Amz-Content-SHA256"] = content_sha
        url = "http://" + self.headers.get("Host", "") + raw_path
        if query:
            url += "?" + query
        request = AWSRequest(method=self.command, url=url, headers=headers)
        request.context["timestamp"] = amz_date
        signer = ExactHeadersSigner(Credentials(access_key, args.verify_secret),
                                    region, signed_names)
        canonical = signer.canonical_request(request)
        string_to_sign = signer.string_to_sign(request, canonical)
        expected = signer.signature(string_to_sign, request)
        if expected != signature:
            problems.append("signature differs")
        if not problems:
            return True
        with self.state.lock:
            self.state.stats["signature_failures"] += 1
        sys.stderr.write(
            "s3_test_endpoint: SignatureDoesNotMatch for %s %s: %s\n"
            "--- botocore canonical request:\n%s\n--- botocore string to sign:\n%s\n"
            "--- botocore signature: %s\n--- received signature: %s\n"
            "--- received request: SignedHeaders=%s\n%s\n" % (
                self.command, self.path, "; ".join(problems), canonical,
                string_to_sign, expected, signature, ";".join(signed_names),
                "".join(f"{k}: {v}\n" for k, v in self.headers.items()
                        if k.lower() != "authorization")))
        sys.stderr.flush()
        self.send_error_xml(
            403, "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature "
            "you provided. Check your key and signing method. (" +
            "; ".join(problems) + ")",
            AWSAccessKeyId=access_key, StringToSign=string_to_sign,
            CanonicalRequest=canonical)
        return False

    # -- proxy mode ---------------------------------------------------------------
    def proxy(self, raw, body, fault):
        upstream = urllib.parse.urlsplit(self.state.args.upstream)
        headers = [(k, v) for k, v in self.headers.items()
                   if k.lower() not in ("connection", "keep-alive",
                                        "transfer-encoding", "content-length",
                                        "expect")]
        if fault and fault["action"] == "ignore_range":
            headers = [(k, v) for k, v in headers if k.lower() != "range"]
        conn = getattr(self, "_upstream", None)
        for attempt in (0, 1):
            if conn is None:
                conn = http.client.HTTPConnection(upstream.hostname, upstream.port,
                                                  timeout=120)
            try:
                conn.putrequest(self.command, raw, skip_host=True,
                                skip_accept_encoding=True)
                for name, value in headers:
                    conn.putheader(name, value)
                if body or self.command in ("PUT", "POST"):
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
                resp = conn.getresponse()
                break
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = None
                if attempt:
                    self._upstream = None
                    return self.send_error_xml(502, "BadGateway", f"upstream: {exc}")
        self._upstream = conn
        length = resp.getheader("Content-Length")
        if self.state.args.fix_empty_range and resp.status == 206 and \
                (resp.getheader("Content-Range") or "").endswith("/0"):
            # s3rver 3.7.1 answers a Range on a 0-byte object with 206,
            # Content-Range bytes 0-0/0, Content-Length 1 and no body; S3
            # answers 416 InvalidRange.
            conn.close()
            self._upstream = None
            sys.stderr.write("s3_test_endpoint: %s: upstream 206 for a 0-byte "
                             "object answered as 416\n" % self.path)
            return self.send_error_xml(
                416, "InvalidRange", "The requested range is not satisfiable",
                headers=[("Content-Range", "bytes */0")] + [
                    (k, v) for k, v in resp.getheaders()
                    if k.lower() in ("etag", "last-modified", "accept-ranges")],
                RangeRequested=self.headers.get("Range"), ActualObjectSize=0)
        out_headers = [(k, v) for k, v in resp.getheaders()
                       if k.lower() not in ("connection", "keep-alive",
                                            "transfer-encoding", "content-length",
                                            "date", "server")]
        if self.command == "HEAD" or resp.status in (204, 304):
            resp.read()
            data, length = None, length or "0"
        elif length is None:
            data = resp.read()
            length = str(len(data))
        else:
            data = None
        self.count_status(resp.status)
        self.send_response(resp.status)
        for name, value in out_headers:
            self.send_header(name, value)
        self.send_header("Content-Length", length)
        self.end_headers()
        if self.command == "HEAD" or resp.status in (204, 304):
            return
        if data is not None:
            source = iter([data])
        else:
            source = iter(lambda: resp.read(CHUNK), b"")
        if not self.send_body(fault, source, int(length), is_file=False):
            conn.close()
            self._upstream = None
        elif resp.will_close:
            self._upstream = None

    # -- origin mode --------------------------------------------------------------
    def object_etag(self, fspath, objid, st):
        key = (fspath, st.st_size, st.st_mtime_ns)
        with self.state.lock:
            digest = self.state.md5_cache.get(key)
            generation = self.state.generations.get(objid, 0)
        if digest is None:
            md5 = hashlib.md5()
            with open(fspath, "rb") as f:
                for chunk in iter(lambda: f.read(CHUNK), b""):
                    md5.update(chunk)
            digest = md5.hexdigest()
            with self.state.lock:
                self.state.md5_cache[key] = digest
        if generation:
            digest = hashlib.md5(f"{digest}:{generation}".encode()).hexdigest()
        mtime = st.st_mtime + generation
        return f'"{digest}"', email.utils.formatdate(mtime, usegmt=True)

    def origin(self, bucket, objkey, fault):
        root = self.state.args.root
        if self.command not in ("GET", "HEAD"):
            return self.send_error_xml(501, "NotImplemented",
                                       "origin mode serves GET and HEAD only")
        if not bucket or "/" in bucket or bucket in (".", ".."):
            return self.send_error_xml(400, "InvalidBucketName", "bad bucket")
        bucket_dir = os.path.join(root, bucket)
        if not os.path.isdir(bucket_dir):
            return self.send_error_xml(404, "NoSuchBucket",
                                       "The specified bucket does not exist",
                                       BucketName=bucket)
        if not objkey:
            if self.command == "HEAD":
                return self.send_simple(200)
            return self.send_error_xml(501, "NotImplemented",
                                       "origin mode does not list buckets")
        fspath = os.path.realpath(os.path.join(bucket_dir, objkey))
        if not fspath.startswith(os.path.realpath(bucket_dir) + os.sep) or \
                not os.path.isfile(fspath):
            return self.send_error_xml(404, "NoSuchKey",
                                       "The specified key does not exist.", Key=objkey)
        f = open(fspath, "rb")
        try:
            st = os.fstat(f.fileno())
            size = st.st_size
            etag, last_modified = self.object_etag(fspath, f"{bucket}/{objkey}", st)
            with self.state.lock:
                style = self.state.etag_styles.get(f"{bucket}/{objkey}")
            base = [("Last-Modified", last_modified), ("Accept-Ranges", "bytes")]
            if style != "none":
                base.insert(0, ("ETag", "W/" + etag if style == "weak" else etag))
            if_match = self.headers.get("If-Match")
            ius = self.headers.get("If-Unmodified-Since")
            if (if_match is not None and (style is not None or not etag_matches(if_match, etag))) \
                    or (ius is not None and modified_since(last_modified, ius)):
                return self.send_error_xml(
                    412, "PreconditionFailed",
                    "At least one of the pre-conditions you specified did not hold",
                    Condition="If-Unmodified-Since" if ius is not None else "If-Match")
            if_none = self.headers.get("If-None-Match")
            if if_none is not None and etag_matches(if_none, etag):
                self.count_status(304)
                self.send_response(304)
                for name, value in base:
                    self.send_header(name, value)
                self.end_headers()
                return
            rng = None
            if not (fault and fault["action"] == "ignore_range"):
                rng = parse_range(self.headers.get("Range"), size)
            if rng == "unsatisfiable":
                return self.send_error_xml(
                    416, "InvalidRange", "The requested range is not satisfiable",
                    headers=[("Content-Range", f"bytes */{size}")] + base,
                    RangeRequested=self.headers.get("Range"),
                    ActualObjectSize=size)
            if rng:
                start, end = rng
                status = 206
            else:
                start, end, status = 0, size - 1, 200
            length = end - start + 1
            self.count_status(status)
            self.send_response(status)
            for name, value in base:
                self.send_header(name, value)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(length))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.send_header("x-amz-request-id", "mmapurl-test")
            self.end_headers()
            if self.command == "GET" and length:
                self.send_body(fault, f, length, is_file=True, offset=start)
            elif self.command == "GET" and fault and fault["action"] in (
                    "reset", "short", "stall"):
                self.send_body(fault, f, 0, is_file=True, offset=0)
        finally:
            f.close()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def get_request(self):
        # Headers and body go out in separate writes: without TCP_NODELAY,
        # Nagle plus the client's delayed ACK adds 40 ms to every response.
        sock, addr = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.state.lock:
            self.state.stats["connections"] += 1
        return sock, addr

    tls_context = None

    def finish_request(self, request, client_address):
        # With TLS, the handshake happens here, in the connection's thread,
        # so a slow or failing client never holds up accept().
        if self.tls_context is None:
            return super().finish_request(request, client_address)
        fault = self.state.take_fault(None, None, handshake=True)
        if fault:
            # The ClientHello arrives, then the connection dies mid-handshake.
            try:
                request.recv(65536)
                if fault["action"] == "tls_reset":
                    request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
                else:
                    request.shutdown(socket.SHUT_RDWR)
                request.close()
            except OSError:
                pass
            return None
        try:
            conn = self.tls_context.wrap_socket(request, server_side=True)
        except OSError as exc:   # ssl.SSLError included
            with self.state.lock:
                self.state.stats["tls_handshake_failures"] += 1
            sys.stderr.write("s3_test_endpoint: TLS handshake with %s:%d failed: %s\n"
                             % (client_address[0], client_address[1], exc))
            sys.stderr.flush()
            return None
        try:
            return super().finish_request(conn, client_address)
        finally:
            conn.close()


def exit_with(pid):
    """Poll pid once a second; exit this server when it is gone."""
    while True:
        time.sleep(1)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass


def write_atomic(path, text):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--upstream", help="proxy to this http://127.0.0.1:PORT")
    mode.add_argument("--root", help="serve DIR/<bucket>/<key>")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--pid-file")
    parser.add_argument("--verify-secret")
    parser.add_argument("--access-key", default="S3RVER")
    parser.add_argument("--allow-anonymous", action="store_true")
    parser.add_argument("--region", help="the only region accepted in scopes")
    parser.add_argument("--fix-empty-range", action="store_true",
                        help="proxy: answer upstream's 206 for a Range on a "
                        "0-byte object (s3rver's bug) with S3's 416")
    parser.add_argument("--tls-cert", metavar="FILE",
                        help="serve HTTPS with this PEM certificate (chain)")
    parser.add_argument("--tls-key", metavar="FILE",
                        help="the PEM private key of --tls-cert")
    parser.add_argument("--exit-with", type=int, metavar="PID",
                        help="exit when process PID is gone (a test that starts "
                             "its own endpoint and may die before stopping it)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if args.upstream:
        host = urllib.parse.urlsplit(args.upstream).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            parser.error("--upstream must be on loopback")
    if args.root:
        args.root = os.path.realpath(args.root)

    server = Server(("127.0.0.1", args.port), Handler)
    server.state = State(args)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.tls_context = ctx
    if args.pid_file:
        write_atomic(args.pid_file, f"{os.getpid()}\n")
    if args.port_file:
        write_atomic(args.port_file, f"{server.server_address[1]}\n")
    sys.stderr.write("s3_test_endpoint: listening on %s://127.0.0.1:%d (%s)\n" % (
        "https" if args.tls_cert else "http", server.server_address[1],
        f"proxy to {args.upstream}" if args.upstream else f"origin {args.root}"))
    sys.stderr.flush()
    try:
        if args.exit_with:
            threading.Thread(target=exit_with, args=(args.exit_with,), daemon=True).start()
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
