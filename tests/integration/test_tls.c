/* test_tls - HTTPS works with the right CA, and certificate verification
 * is never off: an unknown CA, a wrong CA and a name the certificate does
 * not cover all fail with MMAPURL_E_TLS after one request (never retried),
 * and a missing CA file is a configuration error. Runs against the tls
 * fixture: tests/servers/s3_test_endpoint.py in origin mode over HTTPS, its
 * leaf (DNS:localhost, IP:127.0.0.1) signed by CERTDIR/ca.pem
 * (tests/servers/make_certs.sh). Each mode sets the environment before the
 * library's first call (the configuration is read once per process).
 * usage: test_tls MANIFEST MODE CERTDIR
 *   trusted    AWS_CA_BUNDLE=ca.pem       -> 5 MiB object byte-exact
 *   untrusted  no AWS_CA_BUNDLE           -> MMAPURL_E_TLS, 1 request
 *   wrongca    AWS_CA_BUNDLE=wrong-ca.pem -> MMAPURL_E_TLS, 1 request
 *              (same subject name as ca.pem, other key)
 *   badbundle  AWS_CA_BUNDLE=/nonexistent -> MMAPURL_E_CONFIG naming it
 *   hostname   right CA, endpoint host mmapurl-not-in-cert.localhost (libcurl
 *              resolves *.localhost to loopback itself) -> MMAPURL_E_TLS; the
 *              same server by IP then gets through TLS (403, unsigned URL)
 *   handshake_reset  right CA; the server resets the next connection in the
 *              middle of the handshake (fault tls_reset) -> a transient
 *              network failure: retried once, then byte-exact
 *   handshake_close  the same with a clean close (fault tls_close) */
#include <time.h>

#include "testlib.h"

#define BIG "size-5MiB"
#define WRONG_HOST "mmapurl-not-in-cert.localhost"

static struct tl_manifest m;
static const char *certdir;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void set_bundle(const char *file) {
  char path[1100];
  snprintf(path, sizeof path, "%s/%s", certdir, file);
  setenv("AWS_CA_BUNDLE", path, 1);
}

struct sbuf {
  char *p;
  size_t n, cap;
};

static size_t sbuf_add(char *d, size_t s, size_t n, void *u) {
  struct sbuf *b = u;
  size_t k = s * n, take = k < b->cap - 1 - b->n ? k : b->cap - 1 - b->n;
  memcpy(b->p + b->n, d, take);
  b->n += take;
  b->p[b->n] = '\0';
  return k;
}

/* The endpoint's /__stats (GET over TLS, verified with MU_TEST_CA) into out. */
static int server_stats_json(char *out, size_t cap) {
  char url[512];
  long status = 0;
  struct sbuf b = {out, 0, cap};
  out[0] = '\0';
  snprintf(url, sizeof url, "%s/__stats", getenv("MU_TEST_CONTROL_URL"));
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sbuf_add);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_CAINFO, getenv("MU_TEST_CA"));
  if (curl_easy_perform(c) == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  return status == 200 ? 0 : -1;
}

/* One counter of the endpoint's /__stats, or -1. */
static long server_stat(const char *name) {
  char json[8192], key[128];
  if (server_stats_json(json, sizeof json) != 0) {
    fprintf(stderr, "GET /__stats failed\n");
    return -1;
  }
  snprintf(key, sizeof key, "\"%s\": ", name);
  const char *p = strstr(json, key);
  return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/* The server counts a refused handshake when its thread sees the client's
 * alert, which may be just after our call returned: wait for it a little. */
static long server_handshake_failures_at_least(long want) {
  long n = -1;
  for (int i = 0; i < 50; i++) {
    n = server_stat("tls_handshake_failures");
    if (n >= want)
      break;
    struct timespec ts = {0, 40 * 1000000L};
    nanosleep(&ts, NULL);
  }
  return n;
}

static int open_key(const char *key, mmapurl_object **h) {
  char url[1024];
  tl_url(url, sizeof url, key);
  int rc = mmapurl_object_open(url, h);
  tl_explain(url, rc);
  return rc;
}

/* The whole 5 MiB object through TLS, in unaligned pieces, byte-exact. */
static void mode_trusted(void) {
  const struct tl_object *o = tl_find(&m, BIG);
  unsigned char *want = tl_read_file(o->path, o->size), *buf = malloc(o->size);
  mmapurl_object *h = NULL;
  struct mmapurl_stats st;
  set_bundle("ca.pem");
  CHECK_INT(open_key(BIG, &h), 0);
  if (!h)
    goto out;
  CHECK_INT(mmapurl_object_size(h), o->size);
  /* 1 MiB + 1 pieces, the last one short; then one read across them all. */
  const size_t piece = (1u << 20) + 1;
  for (uint64_t off = 0; off < o->size; off += piece) {
    size_t len = o->size - off < piece ? (size_t)(o->size - off) : piece;
    int rc = mmapurl_object_read(h, buf + off, len, off);
    tl_explain("read", rc);
    CHECK_INT(rc, 0);
  }
  CHECK(memcmp(buf, want, o->size) == 0);
  memset(buf, 0, o->size);
  CHECK_INT(mmapurl_object_read(h, buf, o->size - 12345, 12345), 0);
  CHECK(memcmp(buf, want + 12345, o->size - 12345) == 0);
  mmapurl_object_close(h);
  mmapurl_stats_get(&st);
  CHECK_INT(st.retries, 0);
  CHECK_INT(st.errors, 0);
  CHECK(st.bytes_downloaded >= o->size);
  /* every request arrived signed correctly, over completed handshakes */
  CHECK_INT(server_stat("signature_failures"), 0);
  CHECK_INT(server_stat("tls_handshake_failures"), 0);
  CHECK(server_stat("object_gets") >= 3);
out:
  free(want);
  free(buf);
}

/* A certificate failure: MMAPURL_E_TLS at once, one request, no retry, the
 * message pointing at AWS_CA_BUNDLE, the detail containing detail_part (if
 * not NULL), and no HTTP request ever reached the server (the signed request
 * is not sent to an unverified peer). A certificate the chain check rejects
 * aborts the handshake (the server counts it); a wrong name is found by
 * libcurl after a complete handshake, so the server sees a connection
 * closed before any request. */
static void expect_tls_failure(const char *key, const char *detail_part,
                               int handshake_refused) {
  mmapurl_object *h = NULL;
  struct mmapurl_stats a, b;
  mmapurl_stats_get(&a);
  double t0 = now_s();
  int rc = open_key(key, &h);
  double dt = now_s() - t0;
  mmapurl_stats_get(&b);
  CHECK_INT(rc, MMAPURL_E_TLS);
  CHECK(h == NULL);
  mmapurl_object_close(h);
  CHECK_INT(b.requests - a.requests, 1);   /* TLS verification is never retried */
  CHECK_INT(b.retries - a.retries, 0);
  CHECK_INT(b.errors - a.errors, 1);
  if (dt > 3.0) {
    fprintf(stderr, "TLS failure took %.2f s\n", dt);
    CHECK(dt <= 3.0);
  }
  CHECK(strstr(mmap_s3_errstr(MMAPURL_E_TLS), "AWS_CA_BUNDLE") != NULL);
  if (detail_part)
    CHECK(strstr(mmapurl_errdetail(), detail_part) != NULL);
  CHECK_INT(server_stat("requests"), 0);
  if (handshake_refused)
    CHECK(server_handshake_failures_at_least(1) >= 1);
}

static void mode_untrusted(void) {
  /* the system's CAs, which do not know the test CA */
  expect_tls_failure(BIG, "certificate", 1);
}

static void mode_wrongca(void) {
  set_bundle("wrong-ca.pem");
  /* OpenSSL's words for the bad signature vary ("certificate signature
   * failure", or an EVP error from the handshake): no detail check. */
  expect_tls_failure(BIG, NULL, 1);
}

static void mode_badbundle(void) {
  mmapurl_object *h = NULL;
  struct mmapurl_stats a, b;
  setenv("AWS_CA_BUNDLE", "/nonexistent", 1);
  mmapurl_stats_get(&a);
  CHECK_INT(open_key(BIG, &h), MMAPURL_E_CONFIG);
  mmapurl_stats_get(&b);
  CHECK(h == NULL);
  CHECK(strstr(mmapurl_errdetail(), "AWS_CA_BUNDLE") != NULL);
  CHECK(strstr(mmapurl_errdetail(), "/nonexistent") != NULL);
  CHECK_INT(b.requests - a.requests, 0);
  CHECK_INT(server_stat("requests"), 0);
  CHECK_INT(server_stat("tls_handshake_failures"), 0);
}

/* Right CA, wrong name: host verification is on. Then the same server by
 * its IP (in the certificate), as a plain unsigned https:// URL: TLS gets
 * through and the server itself answers (403: anonymous requests denied). */
static int mode_hostname(void) {
  const char *ep = getenv("AWS_ENDPOINT_URL_S3");
  const char *colon = strrchr(ep, ':');
  char url[1024];
  int port = colon ? (int)strtol(colon + 1, NULL, 10) : 0;
  CHECK(port > 0);
  set_bundle("ca.pem");
  snprintf(url, sizeof url, "https://%s:%d", WRONG_HOST, port);
  setenv("AWS_ENDPOINT_URL_S3", url, 1);
  {
    mmapurl_object *h = NULL;
    int rc = open_key(BIG, &h);
    mmapurl_object_close(h);
    if (rc == MMAPURL_E_NETWORK && strstr(mmapurl_errdetail(), "resolve")) {
      /* an older libcurl that does not resolve *.localhost itself */
      fprintf(stderr, "SKIP: %s does not resolve here\n", WRONG_HOST);
      return 77;
    }
  }
  CHECK_INT(tl_control("/__reset", "{}"), 200);
  expect_tls_failure(BIG, WRONG_HOST, 0);

  mmapurl_object *h = NULL;
  snprintf(url, sizeof url, "https://127.0.0.1:%d/%s/%s", port, TL_BUCKET, BIG);
  int rc = mmapurl_object_open(url, &h);
  tl_explain(url, rc);
  CHECK_INT(rc, MMAPURL_E_ACCESS_DENIED);
  mmapurl_object_close(h);
  CHECK_INT(server_stat("requests"), 1);
  return 0;
}

/* A connection that dies during the handshake is not a verification
 * failure: like any reset before a response, it is retried. */
static void mode_handshake_fault(const char *action) {
  const struct tl_object *o = tl_find(&m, "size-4097");
  unsigned char *want = tl_read_file(o->path, o->size), buf[4097];
  char json[128];
  mmapurl_object *h = NULL;
  struct mmapurl_stats a, b;
  set_bundle("ca.pem");
  snprintf(json, sizeof json, "{\"action\":\"%s\",\"count\":1}", action);
  CHECK_INT(tl_control("/__fault", json), 200);
  mmapurl_stats_get(&a);
  CHECK_INT(open_key(o->key, &h), 0);
  mmapurl_stats_get(&b);
  CHECK_INT(b.requests - a.requests, 2);
  CHECK_INT(b.retries - a.retries, 1);
  CHECK_INT(server_stat("faults_fired"), 1);
  if (h) {
    CHECK_INT(mmapurl_object_read(h, buf, sizeof buf, 0), 0);
    CHECK(memcmp(buf, want, sizeof buf) == 0);
    mmapurl_object_close(h);
  }
  free(want);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s MANIFEST MODE CERTDIR\n", argv[0]);
    return 2;
  }
  tl_manifest_load(argv[1], &m);
  const char *mode = argv[2];
  certdir = argv[3];
  const char *ep = getenv("AWS_ENDPOINT_URL_S3");
  if (!ep || strncmp(ep, "https://", 8) != 0 || !getenv("MU_TEST_CA")) {
    fprintf(stderr, "needs the tls fixture's environment (https endpoint, MU_TEST_CA)\n");
    return 1;
  }
  /* Only what each mode sets decides which CAs are trusted. */
  unsetenv("AWS_CA_BUNDLE");
  unsetenv("SSL_CERT_FILE");
  unsetenv("SSL_CERT_DIR");
  /* the default, explicitly: a retried TLS failure would show in the stats */
  setenv("AWS_MAX_ATTEMPTS", "5", 1);
  setenv("MMAPURL_RETRY_BASE", "100ms", 1);
  /* control over the same TLS socket, verified with MU_TEST_CA */
  CHECK_INT(tl_control("/__reset", "{}"), 200);
  int rc = 0;
  if (!strcmp(mode, "trusted")) {
    mode_trusted();
  } else if (!strcmp(mode, "untrusted")) {
    mode_untrusted();
  } else if (!strcmp(mode, "wrongca")) {
    mode_wrongca();
  } else if (!strcmp(mode, "badbundle")) {
    mode_badbundle();
  } else if (!strcmp(mode, "hostname")) {
    rc = mode_hostname();
  } else if (!strcmp(mode, "handshake_reset")) {
    mode_handshake_fault("tls_reset");
  } else if (!strcmp(mode, "handshake_close")) {
    mode_handshake_fault("tls_close");
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  if (rc == 77 && check_failures == 0)
    return 77;
  return check_done();
}
