/*
 * headers.c - response header lines into struct mu_http_response.
 * Input comes from the network: every number is parsed digit by digit with
 * overflow checks (no sscanf/strtoull on untrusted text), every copy is
 * bounded. Must never read past the n bytes it is given.
 */
#include "http/headers.h"

#include <string.h>
#include <strings.h>

#include "http/http.h"

size_t mu_parse_u64(const char *s, size_t n, uint64_t *out) {
  uint64_t v = 0;
  size_t i = 0;
  for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
    unsigned d = (unsigned)(s[i] - '0');
    if (i >= 20 || v > (UINT64_MAX - d) / 10)
      return 0;
    v = v * 10 + d;
  }
  if (i)
    *out = v;
  return i;
}

/* Parse "NUM" at *p (advancing it) then require the character `next`
 * (or the end when next is 0). 0 or -1. */
static int take_num(const char **p, const char *end, char next, uint64_t *out) {
  size_t k = mu_parse_u64(*p, (size_t)(end - *p), out);
  if (!k)
    return -1;
  *p += k;
  if (next == 0)
    return *p == end ? 0 : -1;
  if (*p == end || **p != next)
    return -1;
  (*p)++;
  return 0;
}

int mu_http_parse_content_range(const char *v, int *has_range, uint64_t *first, uint64_t *last,
                                uint64_t *total) {
  const char *p = v, *end = v + strlen(v);
  uint64_t a, b, t;
  if (strncasecmp(p, "bytes ", 6) != 0)
    return -1;
  p += 6;
  if (*p == '*') {
    p++;
    if (p == end || *p++ != '/' || take_num(&p, end, 0, &t) != 0)
      return -1;
    *total = t;
    return 0;
  }
  if (take_num(&p, end, '-', &a) || take_num(&p, end, '/', &b) || take_num(&p, end, 0, &t))
    return -1;
  if (t == 0 && a == 0 && b == 0) {   /* s3rver's "bytes 0-0/0": an empty object */
    *total = 0;
    return 0;
  }
  if (a > b || b >= t)
    return -1;
  *has_range = 1, *first = a, *last = b, *total = t;
  return 0;
}

/* Copy a header value, trimmed, into out[cap] (truncating). */
static void header_value(const char *v, size_t n, char *out, size_t cap) {
  while (n && (*v == ' ' || *v == '\t'))
    v++, n--;
  while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
    n--;
  if (n >= cap)
    n = cap - 1;
  memcpy(out, v, n);
  out[n] = '\0';
}

/* "HTTP/x[.y] NNN ...": the status, and a clean slate for this response. */
static void status_line(const char *line, size_t n, struct mu_http_response *rs) {
  const char *sp = memchr(line, ' ', n);
  uint64_t st = 0;
  size_t off = sp ? (size_t)(sp - line) + 1 : n;
  rs->status = mu_parse_u64(line + off, n - off, &st) == 3 ? (long)st : 0;
  rs->has_range = rs->has_total = 0;
  rs->etag[0] = rs->bucket_region[0] = rs->last_modified[0] = rs->request_id[0] = '\0';
}

static void content_range(const char *v, size_t n, struct mu_http_response *rs) {
  char val[128];
  header_value(v, n, val, sizeof val);
  int has = 0;
  uint64_t a = 0, b = 0, t = 0;
  if (mu_http_parse_content_range(val, &has, &a, &b, &t) != 0)
    return;
  rs->has_range = has, rs->range_first = a, rs->range_last = b;
  rs->has_total = 1, rs->total = t;
}

static void content_length(const char *v, size_t n, struct mu_http_response *rs) {
  char val[32];
  uint64_t len = 0;
  header_value(v, n, val, sizeof val);
  size_t vlen = strlen(val);
  if (rs->status == 200 && !rs->has_total && vlen && mu_parse_u64(val, vlen, &len) == vlen)
    rs->has_total = 1, rs->total = len;
}

int mu_http_parse_header(const char *line, size_t n, struct mu_http_response *rs) {
  if ((n == 2 && line[0] == '\r' && line[1] == '\n') || (n == 1 && line[0] == '\n'))
    return 1;   /* the blank line that ends the headers */
  if (memchr(line, '\0', n))
    return 0;   /* a NUL would cut a value short behind our back: ignore the line */
  if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
    status_line(line, n, rs);
    return 0;
  }
  const char *colon = memchr(line, ':', n);
  if (!colon)
    return 0;
  size_t klen = (size_t)(colon - line), vlen = n - klen - 1;
  const char *v = colon + 1;
#define IS(name) (klen == sizeof(name) - 1 && strncasecmp(line, name, klen) == 0)
  if (IS("Content-Range"))
    content_range(v, vlen, rs);
  else if (IS("Content-Length"))
    content_length(v, vlen, rs);
  else if (IS("ETag"))
    header_value(v, vlen, rs->etag, sizeof rs->etag);
  else if (IS("Last-Modified"))
    header_value(v, vlen, rs->last_modified, sizeof rs->last_modified);
  else if (IS("x-amz-bucket-region"))
    header_value(v, vlen, rs->bucket_region, sizeof rs->bucket_region);
  else if (IS("x-amz-request-id"))
    header_value(v, vlen, rs->request_id, sizeof rs->request_id);
#undef IS
  return 0;
}
