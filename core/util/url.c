/*
 * url.c - parsing and encoding of the URLs users give (s3://bucket/key,
 * http(s)://...). Pure string work: never does I/O or reads configuration,
 * and never alters an S3 key (it is kept byte for byte, unencoded).
 */
#include "util/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mmapurl.h"
#include "util/buf.h"
#include "util/error.h"

#define URL_HELP "use s3://BUCKET/KEY, http://HOST/... or https://HOST/..."
#define QUOTE_MAX 200 /* bytes of a URL quoted in a detail before "..." */

/* Length of the well-formed UTF-8 sequence at p (1-4), or 0 if the bytes there
 * are not one (overlong forms, surrogates and code points past U+10FFFF are
 * rejected, as RFC 3629 requires). */
static size_t utf8_seq_len(const unsigned char *p) {
  unsigned char c = p[0];
  if (c < 0x80)
    return 1;
  size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (n == 0)
    return 0;
  unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
  if (c == 0xE0)
    lo = 0xA0;
  else if (c == 0xED)
    hi = 0x9F;
  else if (c == 0xF0)
    lo = 0x90;
  else if (c == 0xF4)
    hi = 0x8F;
  if (p[1] < lo || p[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++)
    if ((p[i] & 0xC0) != 0x80)
      return 0;
  return n;
}

/* Copy url into dst (size QUOTE_MAX + 8) for quoting in a detail: control
 * bytes and bytes that are not valid UTF-8 become \xNN, and a long URL is cut
 * with "...". */
static void quote_url(char *dst, const char *url) {
  size_t o = 0;
  const unsigned char *p = (const unsigned char *)url;
  while (*p && o < QUOTE_MAX) {
    size_t n = utf8_seq_len(p);
    if (n == 0 || *p < 0x20 || *p == 0x7F) {
      o += (size_t)snprintf(dst + o, 5, "\\x%02X", *p);
      p++;
      continue;
    }
    memcpy(dst + o, p, n);
    o += n;
    p += n;
  }
  snprintf(dst + o, 4, "%s", *p ? "..." : "");
}

/* Whether s has the form of a dotted-quad IPv4 address (four groups of 1-3
 * digits), whatever the values. */
static int looks_like_ipv4(const char *s) {
  for (int group = 0; group < 4; group++) {
    size_t digits = strspn(s, "0123456789");
    if (digits == 0 || digits > 3)
      return 0;
    s += digits;
    if (group < 3 && *s++ != '.')
      return 0;
  }
  return *s == '\0';
}

/* Whether s starts with prefix / ends with suffix. */
static int starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int ends_with(const char *s, size_t len, const char *suffix) {
  size_t n = strlen(suffix);
  return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

static int is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

/* The rule about characters that name breaks, or NULL. */
static const char *bucket_chars_problem(const char *name, size_t len) {
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z')
      return "it contains an uppercase letter (bucket names are lowercase)";
    if (!is_lower_alnum(c) && c != '.' && c != '-')
      return "it contains a character other than lowercase letters, digits, '.' and '-'";
  }
  if (!is_lower_alnum(name[0]))
    return "it must begin with a lowercase letter or a digit";
  if (!is_lower_alnum(name[len - 1]))
    return "it must end with a lowercase letter or a digit";
  if (strstr(name, ".."))
    return "it contains two adjacent periods";
  return NULL;
}

/* The reserved prefix or suffix rule that name breaks, or NULL. */
static const char *bucket_reserved_problem(const char *name, size_t len) {
  static const char *const prefixes[][2] = {
      {"xn--", "it must not start with \"xn--\""},
      {"sthree-", "it must not start with \"sthree-\""},
      {"amzn-s3-demo-", "it must not start with \"amzn-s3-demo-\""}};
  static const char *const suffixes[][2] = {
      {"-s3alias", "it must not end with \"-s3alias\" (reserved for access point aliases)"},
      {"--ol-s3", "it must not end with \"--ol-s3\" (reserved for Object Lambda aliases)"},
      {".mrap", "it must not end with \".mrap\" (reserved for Multi-Region Access Points)"},
      {"--x-s3", "it must not end with \"--x-s3\" (reserved for directory buckets)"},
      {"--table-s3", "it must not end with \"--table-s3\" (reserved for S3 Tables)"}};
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
    if (starts_with(name, prefixes[i][0]))
      return prefixes[i][1];
  for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
    if (ends_with(name, len, suffixes[i][0]))
      return suffixes[i][1];
  return NULL;
}

int mu_bucket_name_valid(const char *name, const char **why) {
  const char *problem = NULL;
  size_t len = name ? strlen(name) : 0;
  if (len == 0)
    problem = "it is empty";
  else if (len < 3)
    problem = "it is shorter than 3 characters";
  else if (len > 63)
    problem = "it is longer than 63 characters";
  else if (!(problem = bucket_chars_problem(name, len)) && looks_like_ipv4(name))
    problem = "it is formatted as an IP address";
  if (!problem)
    problem = bucket_reserved_problem(name, len);
  if (why)
    *why = problem;
  return problem == NULL;
}

int mu_bucket_dns_compatible(const char *name) {
  return mu_bucket_name_valid(name, NULL) && strchr(name, '.') == NULL;
}

/* Offset of the first byte of s that does not start valid UTF-8, or -1. */
static long utf8_invalid_at(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    size_t n = utf8_seq_len(p);
    if (n == 0)
      return (long)(p - (const unsigned char *)s);
    p += n;
  }
  return -1;
}

/* Check the key of an s3:// URL (quoted as q in details): non-empty UTF-8. */
static int check_key(const char *key, const char *q) {
  if (*key == '\0')
    return mu_fail(MMAPURL_E_URL, "empty key in \"%s\": expected s3://BUCKET/KEY with a non-empty KEY",
                   q);
  long bad = utf8_invalid_at(key);
  if (bad >= 0)
    return mu_fail(MMAPURL_E_URL,
                   "the key in \"%s\" is not valid UTF-8 (byte 0x%02X at offset %ld of the key)", q,
                   (unsigned char)key[bad], bad);
  return 0;
}

/* Parse the part of an s3:// URL after the scheme: BUCKET/KEY. */
static int parse_s3(const char *url, const char *rest, struct mu_url *out) {
  char q[QUOTE_MAX + 8];
  quote_url(q, url);
  size_t blen = strcspn(rest, "/");
  if (blen == 0)
    return mu_fail(MMAPURL_E_URL, "empty bucket name in \"%s\": expected s3://BUCKET/KEY", q);
  char *bucket = strndup(rest, blen);
  if (!bucket)
    return mu_fail(MMAPURL_E_NOMEM, "out of memory parsing \"%s\"", q);
  const char *why;
  int rc = 0;
  if (!mu_bucket_name_valid(bucket, &why)) {
    char qb[QUOTE_MAX + 8];
    quote_url(qb, bucket);
    rc = mu_fail(MMAPURL_E_URL, "invalid bucket name \"%s\" in \"%s\": %s", qb, q, why);
  } else {
    const char *key = rest[blen] ? rest + blen + 1 : "";
    rc = check_key(key, q);
    if (!rc && !(out->key = strdup(key)))
      rc = mu_fail(MMAPURL_E_NOMEM, "out of memory parsing \"%s\"", q);
  }
  if (rc) {
    free(bucket);
    return rc;
  }
  out->kind = MU_URL_S3;
  out->bucket = bucket;
  return 0;
}

/* Length of the host in the authority (auth, alen bytes) of an http URL:
 * after any "user@", before any ":port"; an IPv6 literal is "[...]". */
static size_t host_len(const char *auth, size_t alen) {
  const char *at = memrchr(auth, '@', alen);
  const char *host = at ? at + 1 : auth;
  size_t hlen = alen - (size_t)(host - auth);
  if (hlen > 0 && host[0] == '[') {
    const char *close = memchr(host, ']', hlen);
    return close ? (size_t)(close - host - 1) : 0;
  }
  const char *colon = memchr(host, ':', hlen);
  return colon ? (size_t)(colon - host) : hlen;
}

/* Check that an http(s) URL has a host and keep it verbatim. rest is the part
 * after "://". */
static int parse_http(const char *url, const char *rest, struct mu_url *out) {
  char q[QUOTE_MAX + 8];
  if (host_len(rest, strcspn(rest, "/?#")) == 0) {
    quote_url(q, url);
    return mu_fail(MMAPURL_E_URL, "no host in \"%s\": expected http://HOST/... or https://HOST/...",
                   q);
  }
  out->http = strdup(url);
  if (!out->http) {
    quote_url(q, url);
    return mu_fail(MMAPURL_E_NOMEM, "out of memory parsing \"%s\"", q);
  }
  out->kind = MU_URL_HTTP;
  return 0;
}

/* Length of the RFC 3986 scheme at the start of url (the part before ':'),
 * or 0 if url does not start with one. */
static size_t scheme_len(const char *url) {
  char c = url[0];
  if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
    return 0;
  size_t n = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-");
  return url[n] == ':' ? n : 0;
}

/* The detail for a URL without an accepted scheme. */
static int unsupported_scheme(const char *url) {
  char q[QUOTE_MAX + 8];
  if (!url)
    return mu_fail(MMAPURL_E_URL, "no URL given (NULL): " URL_HELP);
  if (!*url)
    return mu_fail(MMAPURL_E_URL, "empty URL: " URL_HELP);
  quote_url(q, url);
  size_t n = scheme_len(url);
  if (n == 0)
    return mu_fail(MMAPURL_E_URL, "no scheme in \"%s\": " URL_HELP, q);
  int known = (n == 2 && strncasecmp(url, "s3", 2) == 0) || (n == 4 && strncasecmp(url, "http", 4) == 0) ||
              (n == 5 && strncasecmp(url, "https", 5) == 0);
  if (known)
    return mu_fail(MMAPURL_E_URL, "malformed URL \"%s\": \"%.*s:\" must be followed by \"//\"; " URL_HELP,
                   q, (int)n, url);
  return mu_fail(MMAPURL_E_URL, "unsupported scheme \"%.*s\" in \"%s\": " URL_HELP, n > 20 ? 20 : (int)n,
                 url, q);
}

int mu_url_parse(const char *url, struct mu_url *out) {
  if (!out)
    return mu_fail(MMAPURL_E_INVALID_ARG, "mu_url_parse: NULL result pointer");
  memset(out, 0, sizeof *out);
  if (url && strncasecmp(url, "s3://", 5) == 0)
    return parse_s3(url, url + 5, out);
  if (url && strncasecmp(url, "http://", 7) == 0)
    return parse_http(url, url + 7, out);
  if (url && strncasecmp(url, "https://", 8) == 0)
    return parse_http(url, url + 8, out);
  return unsupported_scheme(url);
}

void mu_url_free(struct mu_url *u) {
  if (!u)
    return;
  free(u->bucket);
  free(u->key);
  free(u->http);
  memset(u, 0, sizeof *u);
}

int mu_uri_encode(struct mu_buf *b, const char *s, int keep_slash) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    unsigned char c = *p;
    int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
    char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
    int rc = plain ? mu_buf_putc(b, (char)c) : mu_buf_append(b, esc, 3);
    if (rc)
      return rc;
  }
  return 0;
}

void mu_url_for_log(const char *url, char *out, size_t cap) {
  const char *host = strstr(url, "://");
  host = host ? host + 3 : url;
  const char *path = host + strcspn(host, "/?#");
  const char *at = memchr(host, '@', (size_t)(path - host));
  const char *query = strpbrk(path, "?#");
  size_t prefix = (size_t)(host - url);
  const char *from = at ? at + 1 : host;
  size_t rest = query ? (size_t)(query - from) : strlen(from);
  snprintf(out, cap, "%.*s%.*s%s", (int)prefix, url, (int)rest, from, query ? "?..." : "");
}
