/*
 * fuzz_headers - response header parsing: the input is a header block, one
 * line per '\n' (each line handed to mu_http_parse_header with its "\n", in an
 * allocation of exactly its size, as libcurl hands it), and every line is also
 * tried as a Content-Range value and as a number for mu_parse_u64.
 * Invariants: a Content-Range that parses has first <= last < total and
 * formats back to the same values; a failed parse sets nothing; the response
 * never holds a range without a total or past it; only a blank line ends the
 * headers; a Content-Length sets the total only from a valid number, and a
 * Content-Range header sets exactly what its whole value parses to; a status
 * line clears the previous response's fields; strings stay terminated;
 * mu_parse_u64 agrees with a 128-bit reference.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <strings.h>

#include "fuzz.h"
#include "http/headers.h"
#include "http/http.h"

#define SENTINEL UINT64_C(0xA5A5A5A5A5A5A5A5)

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* mu_parse_u64 against a reference on the same exact bytes. */
static void check_u64(const char *s, size_t n) {
  uint64_t v = SENTINEL;
  size_t k = mu_parse_u64(s, n, &v);
  size_t run = 0;
  while (run < n && is_digit(s[run]))
    run++;
  unsigned __int128 ref = 0;
  for (size_t i = 0; i < run && i < 21; i++)
    ref = ref * 10 + (unsigned)(s[i] - '0');
  if (run == 0 || run > 20 || ref > UINT64_MAX) {
    FUZZ_CHECK(k == 0 && v == SENTINEL);
  } else {
    FUZZ_CHECK(k == run && v == (uint64_t)ref);
  }
}

/* mu_http_parse_content_range on one NUL-terminated value. */
static void check_content_range(const char *val) {
  int has = 7;
  uint64_t a = SENTINEL, b = SENTINEL, t = SENTINEL;
  int rc = mu_http_parse_content_range(val, &has, &a, &b, &t);
  if (rc != 0) {
    FUZZ_CHECK(rc == -1);
    FUZZ_CHECK(has == 7 && a == SENTINEL && b == SENTINEL && t == SENTINEL);
    return;
  }
  FUZZ_CHECK(strncasecmp(val, "bytes ", 6) == 0);
  char again[96];
  if (has == 1) {
    FUZZ_CHECK(a <= b && b < t);
    snprintf(again, sizeof again, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, a, b, t);
  } else {
    FUZZ_CHECK(has == 7 && a == SENTINEL && b == SENTINEL); /* total only */
    snprintf(again, sizeof again, "bytes */%" PRIu64, t);
  }
  int has2 = 0;
  uint64_t a2 = 0, b2 = 0, t2 = SENTINEL;
  FUZZ_CHECK(mu_http_parse_content_range(again, &has2, &a2, &b2, &t2) == 0);
  FUZZ_CHECK(t2 == t && (has != 1 || (has2 == 1 && a2 == a && b2 == b)));
}

/* The response's own consistency, after any line. */
static void check_response(const struct mu_http_response *rs) {
  FUZZ_CHECK(rs->status >= 0 && rs->status <= 999);
  if (rs->has_range)
    FUZZ_CHECK(rs->has_total && rs->range_first <= rs->range_last && rs->range_last < rs->total);
  FUZZ_CHECK(fuzz_terminated(rs->etag, sizeof rs->etag));
  FUZZ_CHECK(fuzz_terminated(rs->last_modified, sizeof rs->last_modified));
  FUZZ_CHECK(fuzz_terminated(rs->bucket_region, sizeof rs->bucket_region));
  FUZZ_CHECK(fuzz_terminated(rs->request_id, sizeof rs->request_id));
}

/* Whether line[0..n) names header `name` (before its first ':'). */
static int is_header(const char *line, size_t n, const char *name) {
  const char *colon = memchr(line, ':', n);
  size_t klen = strlen(name);
  return colon && (size_t)(colon - line) == klen && strncasecmp(line, name, klen) == 0;
}

/* A Content-Length line that set the total: its trimmed value must be a
 * number (1 to 20 digits, fitting 64 bits) equal to the total. */
static const char *trimmed_value(const char *line, size_t n, size_t *vn);

static void check_length_line(const char *line, size_t n, const struct mu_http_response *rs) {
  size_t vn;
  const char *v = trimmed_value(line, n, &vn);
  FUZZ_CHECK(vn >= 1 && vn <= 20);
  uint64_t len = 0;
  FUZZ_CHECK(mu_parse_u64(v, vn, &len) == vn && len == rs->total);
  FUZZ_CHECK(rs->status == 200);
}

/* The trimmed value of a header line (after its first ':'), as the parser
 * trims it: *vn bytes at the returned pointer. */
static const char *trimmed_value(const char *line, size_t n, size_t *vn) {
  const char *v = (const char *)memchr(line, ':', n) + 1;
  *vn = n - (size_t)(v - line);
  while (*vn && (*v == ' ' || *v == '\t'))
    v++, (*vn)--;
  while (*vn && (v[*vn - 1] == '\r' || v[*vn - 1] == '\n' || v[*vn - 1] == ' ' || v[*vn - 1] == '\t'))
    (*vn)--;
  return v;
}

/* A Content-Range line leaves the range as its whole value says: what
 * mu_http_parse_content_range makes of it, or unchanged when that refuses it
 * (a value with a NUL byte is not one valid string). */
static void check_range_line(const char *line, size_t n, const struct mu_http_response *before,
                             const struct mu_http_response *rs) {
  size_t vn;
  const char *v = trimmed_value(line, n, &vn);
  int has = 0;
  uint64_t a = 0, b = 0, t = 0;
  char *val = fuzz_cstr((const uint8_t *)v, vn);
  int ok = !memchr(v, '\0', vn) && mu_http_parse_content_range(val, &has, &a, &b, &t) == 0;
  free(val);
  if (ok) {
    FUZZ_CHECK(rs->has_total == 1 && rs->total == t && rs->has_range == has);
    FUZZ_CHECK(!has || (rs->range_first == a && rs->range_last == b));
  } else {
    FUZZ_CHECK(rs->has_total == before->has_total && rs->total == before->total &&
               rs->has_range == before->has_range && rs->range_first == before->range_first &&
               rs->range_last == before->range_last);
  }
}

static void check_line(const char *line, size_t n, struct mu_http_response *rs) {
  int had_total = rs->has_total;
  struct mu_http_response before;
  memcpy(&before, rs, offsetof(struct mu_http_response, etag));
  int end = mu_http_parse_header(line, n, rs);
  FUZZ_CHECK(end == 0 || end == 1);
  if (end) { /* only the blank line ("\r\n", "\n") ends the headers */
    for (size_t i = 0; i < n; i++)
      FUZZ_CHECK(line[i] == '\r' || line[i] == '\n');
  }
  if (memchr(line, '\0', n)) { /* ignored whole: nothing changes */
    FUZZ_CHECK(rs->has_total == before.has_total && rs->total == before.total &&
               rs->has_range == before.has_range && rs->status == before.status);
  } else if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
    FUZZ_CHECK(!rs->has_range && !rs->has_total);
    FUZZ_CHECK(!rs->etag[0] && !rs->last_modified[0] && !rs->bucket_region[0] &&
               !rs->request_id[0]);
  } else if (is_header(line, n, "Content-Length") && !had_total && rs->has_total) {
    check_length_line(line, n, rs);
  } else if (is_header(line, n, "Content-Range")) {
    check_range_line(line, n, &before, rs);
  }
  check_response(rs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct mu_http_response *rs = calloc(1, sizeof *rs);
  if (!rs)
    abort();
  size_t off = 0;
  while (off < size) {
    const uint8_t *nl = memchr(data + off, '\n', size - off);
    size_t n = nl ? (size_t)(nl - (data + off)) + 1 : size - off;
    char *line = fuzz_exact(data + off, n);
    check_line(line, n, rs);
    check_u64(line, n);
    free(line);
    /* the line without its "\r\n" as a Content-Range value */
    size_t vn = n;
    while (vn && (data[off + vn - 1] == '\n' || data[off + vn - 1] == '\r'))
      vn--;
    char *val = fuzz_cstr(data + off, vn);
    check_content_range(val);
    free(val);
    off += n;
  }
  free(rs);
  return 0;
}
