/*
 * fuzz_url - mu_url_parse, mu_bucket_name_valid and mu_uri_encode on
 * arbitrary strings.
 * Invariants: an s3:// URL that parses has a bucket that passes
 * mu_bucket_name_valid, a non-empty key, and bucket and key are exactly the
 * text after "s3://" split at the first '/'; an http(s) URL is kept verbatim;
 * a failure leaves nothing to free and a detail; the bucket rules hold
 * whenever a name is accepted; URI encoding emits only unreserved bytes and
 * %XX escapes and decodes back to its input.
 */
#include <strings.h>

#include "fuzz.h"
#include "mmapurl.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/url.h"

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1; /* lowercase hex is not what mu_uri_encode emits */
}

static int unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

/* Encode s, check the alphabet, decode and compare. */
static void check_encode(const char *s, int keep_slash) {
  struct mu_buf b = MU_BUF_INIT;
  FUZZ_CHECK(mu_uri_encode(&b, s, keep_slash) == 0);
  size_t len = strlen(s), o = 0;
  const char *e = b.p ? b.p : "";
  FUZZ_CHECK(strlen(e) == b.len);
  for (size_t i = 0; i < b.len; o++) {
    unsigned char c = (unsigned char)e[i];
    FUZZ_CHECK(o < len);
    if (c == '%') {
      FUZZ_CHECK(i + 2 < b.len);
      int hi = hexval(e[i + 1]), lo = hi < 0 ? -1 : hexval(e[i + 2]);
      FUZZ_CHECK(hi >= 0 && lo >= 0);
      unsigned char d = (unsigned char)(hi * 16 + lo);
      FUZZ_CHECK((unsigned char)s[o] == d);
      /* escaped only what needs it */
      FUZZ_CHECK(!unreserved(d) && !(keep_slash && d == '/'));
      i += 3;
    } else {
      FUZZ_CHECK(unreserved(c) || (keep_slash && c == '/'));
      FUZZ_CHECK((unsigned char)s[o] == c);
      i++;
    }
  }
  FUZZ_CHECK(o == len);
  mu_buf_free(&b);
}

/* The documented bucket rules, checked on a name mu_bucket_name_valid accepted. */
static void check_valid_bucket(const char *name) {
  size_t len = strlen(name);
  FUZZ_CHECK(len >= 3 && len <= 63);
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-');
  }
  FUZZ_CHECK(name[0] != '.' && name[0] != '-');
  FUZZ_CHECK(name[len - 1] != '.' && name[len - 1] != '-');
  FUZZ_CHECK(strstr(name, "..") == NULL);
  FUZZ_CHECK(strncmp(name, "xn--", 4) != 0);
  FUZZ_CHECK(len < 8 || strcmp(name + len - 8, "-s3alias") != 0);
  FUZZ_CHECK(len < 7 || strcmp(name + len - 7, "--ol-s3") != 0);
}

static void check_bucket_rules(const char *name) {
  const char *why = (const char *)1;
  int ok = mu_bucket_name_valid(name, &why);
  FUZZ_CHECK(ok ? why == NULL : why != NULL && *why != '\0');
  if (ok)
    check_valid_bucket(name);
  if (mu_bucket_dns_compatible(name))
    FUZZ_CHECK(ok && strchr(name, '.') == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *url = fuzz_cstr(data, size);
  size_t len = strlen(url);
  struct mu_url u;
  int rc = mu_url_parse(url, &u);
  if (rc == 0) {
    if (u.kind == MU_URL_S3) {
      FUZZ_CHECK(u.bucket && u.key && !u.http);
      FUZZ_CHECK(strncasecmp(url, "s3://", 5) == 0);
      const char *why;
      FUZZ_CHECK(mu_bucket_name_valid(u.bucket, &why));
      check_valid_bucket(u.bucket);
      FUZZ_CHECK(u.key[0] != '\0');
      size_t blen = strlen(u.bucket);
      FUZZ_CHECK(5 + blen + 1 + strlen(u.key) == len);
      FUZZ_CHECK(memcmp(url + 5, u.bucket, blen) == 0 && url[5 + blen] == '/');
      FUZZ_CHECK(strcmp(url + 6 + blen, u.key) == 0);
      check_encode(u.key, 1);
    } else {
      FUZZ_CHECK(u.kind == MU_URL_HTTP);
      FUZZ_CHECK(u.http && !u.bucket && !u.key);
      FUZZ_CHECK(strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
      FUZZ_CHECK(strcmp(u.http, url) == 0);
    }
  } else {
    FUZZ_CHECK(rc == MMAPURL_E_URL || rc == MMAPURL_E_NOMEM);
    FUZZ_CHECK(!u.bucket && !u.key && !u.http);
    FUZZ_CHECK(mu_err_detail()[0] != '\0');
  }
  mu_url_free(&u);
  FUZZ_CHECK(!u.bucket && !u.key && !u.http);

  check_bucket_rules(url);
  check_encode(url, 0);
  check_encode(url, 1);
  free(url);
  return 0;
}
