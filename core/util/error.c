/*
 * error.c - error messages (one switch, no default: the compiler flags a
 * code without a message) and the thread-local detail of the last failure.
 * Must never format a secret into a message or a detail.
 */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"

static __thread char err_detail[512];

static const char *errstr(enum mmapurl_error e) {
  switch (e) {
  case MMAPURL_OK:
    return "success";
  case MMAPURL_E_URL:
    return "invalid URL: use s3://BUCKET/KEY (a valid bucket name and a non-empty key) "
           "or an http:// or https:// URL";
  case MMAPURL_E_CONFIG:
    return "invalid configuration: an environment variable has a value mmapurl cannot use "
           "(the detail names it; see the configuration table in README.md)";
  case MMAPURL_E_NO_CREDENTIALS:
    return "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
           "or configure a profile in ~/.aws/credentials (AWS_PROFILE selects it), "
           "or set AWS_NO_SIGN_REQUEST=true for a public bucket";
  case MMAPURL_E_CREDENTIALS_FILE:
    return "malformed AWS credentials or config file: fix the line the detail names";
  case MMAPURL_E_NO_SUCH_KEY:
    return "object not found: check the key (keys are case-sensitive) and the bucket";
  case MMAPURL_E_NO_SUCH_BUCKET:
    return "bucket not found: check the bucket name and the endpoint (AWS_ENDPOINT_URL)";
  case MMAPURL_E_ACCESS_DENIED:
    return "access denied: the credentials in use lack s3:GetObject (or s3:ListBucket) "
           "on this object; check the bucket policy and IAM permissions, or the profile "
           "(AWS_PROFILE)";
  case MMAPURL_E_INVALID_KEY_ID:
    return "the AWS access key id is not known to the server: check AWS_ACCESS_KEY_ID or "
           "the profile in use, and that the endpoint is the right one";
  case MMAPURL_E_SIGNATURE:
    return "request signature rejected: the secret access key does not match the access "
           "key id; check AWS_SECRET_ACCESS_KEY or the profile's credentials";
  case MMAPURL_E_TOKEN_EXPIRED:
    return "the session token is expired or invalid: refresh the temporary credentials "
           "(AWS_SESSION_TOKEN)";
  case MMAPURL_E_CLOCK_SKEW:
    return "the server rejected the request time: set this machine's clock right "
           "(SigV4 allows 15 minutes of skew)";
  case MMAPURL_E_WRONG_REGION:
    return "the bucket is in another region: set AWS_REGION to the bucket's region";
  case MMAPURL_E_OBJECT_CHANGED:
    return "the object was replaced while it was open (its ETag or Last-Modified changed): "
           "open it again to "
           "read the new version";
  case MMAPURL_E_THROTTLED:
    return "the server kept throttling requests (SlowDown/429) after all retries: lower "
           "the request rate or raise AWS_MAX_ATTEMPTS";
  case MMAPURL_E_NETWORK:
    return "network error: could not connect, or the connection broke, after all retries; "
           "check the endpoint and the network";
  case MMAPURL_E_TIMEOUT:
    return "timed out after all retries: the server did not answer or stopped sending "
           "(MMAPURL_CONNECT_TIMEOUT, MMAPURL_STALL_TIMEOUT)";
  case MMAPURL_E_TLS:
    return "TLS error: the server's certificate could not be verified or the handshake "
           "failed; set AWS_CA_BUNDLE to the CA file that signs the endpoint's certificate";
  case MMAPURL_E_SERVER:
    return "the server kept failing (HTTP 5xx) after all retries: try again later";
  case MMAPURL_E_HTTP:
    return "unexpected HTTP status from the server (the detail has it)";
  case MMAPURL_E_PROTOCOL:
    return "malformed or inconsistent response from the server (the detail says what)";
  case MMAPURL_E_RANGE:
    return "read past the end of the object";
  case MMAPURL_E_NOMEM:
    return "out of memory";
  case MMAPURL_E_INVALID_ARG:
    return "invalid argument (NULL pointer or out-of-range value)";
  case MMAPURL_E_INTERNAL:
    return "internal error in mmapurl: please report it with the detail and MMAPURL_LOG=debug output";
  case MMAPURL_E_UFFD_UNAVAILABLE:
    return "userfaultfd is not permitted for this process, so pages cannot be served on "
           "demand: as root run `sysctl -w vm.unprivileged_userfaultfd=1`, or give this "
           "user read-write access to /dev/userfaultfd (Linux 6.1+), or run with "
           "CAP_SYS_PTRACE; in a container, also allow the userfaultfd syscall in the "
           "seccomp profile";
  case MMAPURL_E_LIBRARY:
    return "a shared library mmapurl loads at its first request is missing or too old: "
           "libcurl.so.4 (Debian: apt-get install libcurl4) or libcrypto.so.3 (Debian: "
           "apt-get install libssl3); the detail names which one and why the loader "
           "refused it";
  }
  return NULL;
}

const char *mmap_s3_errstr(int err) {
  const char *s = errstr((enum mmapurl_error)err);
  return s ? s : "unknown mmapurl error code";
}

int mu_fail(int code, const char *fmt, ...) {
  char full[2048];   /* redact before cutting, so no secret is half-kept */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(full, sizeof full, fmt, ap);
  va_end(ap);
  mu_log_redact(full);
  size_t n = strnlen(full, sizeof err_detail - 1);
  memcpy(err_detail, full, n);
  err_detail[n] = '\0';
  MU_DEBUG("error %d (%s): %s", code, mmap_s3_errstr(code), err_detail);
  return code;
}

void mu_err_clear(void) { err_detail[0] = '\0'; }

const char *mu_err_detail(void) { return err_detail; }
