/*
 * sigv4.c - AWS Signature Version 4 (AWS4-HMAC-SHA256) with OpenSSL: builds
 * the canonical request, the string to sign and the signature of one request,
 * as an Authorization header value or as a presigned query string.
 *
 * Pure functions of their inputs: no clock, no I/O, no globals, thread-safe
 * (but for libcrypto, loaded by the first hash: util/libs.h).
 * Must never log, print or put in an error detail the secret access key or
 * anything derived from it, and never copy either into an output: the secret
 * reaches only HMAC, and every derived key (kSecret, kDate, kRegion, kService,
 * kSigning) is wiped with explicit_bzero before the call returns.
 */
#include "auth/sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/libs.h"
#include "util/url.h"

#define ALGORITHM "AWS4-HMAC-SHA256"

/* ---- hashing ----------------------------------------------------------- */

static void hex_encode(const unsigned char *in, size_t n, char *out) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = hex[in[i] >> 4];
    out[2 * i + 1] = hex[in[i] & 15];
  }
  out[2 * n] = '\0';
}

/* Hex SHA-256 of data into hex[65]. 0 or MMAPURL_E_INTERNAL / MMAPURL_E_LIBRARY. */
static int sha256_hex(const void *data, size_t len, char hex[65]) {
  const struct mu_crypto *k;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  MU_TRY(mu_libs_crypto(&k));
  if (!k->digest(data, len, md, &mdlen, k->sha256(), NULL) || mdlen != 32)
    return mu_fail(MMAPURL_E_INTERNAL, "sigv4: SHA-256 failed in OpenSSL");
  hex_encode(md, 32, hex);
  return 0;
}

void mu_sha256_hex(const void *data, size_t len, char hex[65]) {
  if (sha256_hex(data, len, hex) != 0)
    hex[0] = '\0';
}

/* out[32] = HMAC-SHA256(key, msg). 0 or MMAPURL_E_INTERNAL / MMAPURL_E_LIBRARY. */
static int hmac256(const void *key, size_t klen, const char *msg, size_t mlen,
                   unsigned char out[32]) {
  const struct mu_crypto *k;
  unsigned int olen = 0;
  MU_TRY(mu_libs_crypto(&k));
  if (klen > 0x7fffffff ||
      !k->hmac(k->sha256(), key, (int)klen, (const unsigned char *)msg, mlen, out, &olen) ||
      olen != 32)
    return mu_fail(MMAPURL_E_INTERNAL, "sigv4: HMAC-SHA256 failed in OpenSSL");
  return 0;
}

/* kSigning = HMAC chain over "AWS4"+secret, date, region, service,
 * "aws4_request"; every intermediate is wiped. 0 or an error code. */
static int signing_key(const struct mu_sigv4_req *r, unsigned char key[32]) {
  struct mu_buf ksecret = MU_BUF_INIT;
  unsigned char k1[32], k2[32];
  int rc = mu_buf_puts(&ksecret, "AWS4");
  if (!rc)
    rc = mu_buf_puts(&ksecret, r->secret_access_key);
  if (!rc)
    rc = hmac256(ksecret.p, ksecret.len, r->amz_date, 8, k1);
  mu_buf_free_secure(&ksecret);
  if (!rc)
    rc = hmac256(k1, 32, r->region, strlen(r->region), k2);
  if (!rc)
    rc = hmac256(k2, 32, r->service, strlen(r->service), k1);
  if (!rc)
    rc = hmac256(k1, 32, "aws4_request", 12, key);
  explicit_bzero(k1, sizeof k1);
  explicit_bzero(k2, sizeof k2);
  if (rc)
    explicit_bzero(key, 32);
  return rc;
}

/* signature[65] = hex HMAC(kSigning, string to sign). */
static int sign_string(const struct mu_sigv4_req *r, const struct mu_buf *sts,
                       char signature[65]) {
  unsigned char key[32], mac[32];
  int rc = signing_key(r, key);
  if (!rc)
    rc = hmac256(key, 32, sts->p, sts->len, mac);
  explicit_bzero(key, sizeof key);
  if (!rc)
    hex_encode(mac, 32, signature);
  explicit_bzero(mac, sizeof mac);
  return rc;
}

/* ---- canonical URI ----------------------------------------------------- */

/* Append path with empty and "." segments dropped and ".." popping the last
 * segment, starting with '/' and keeping a trailing '/' (the AWS suite's
 * rules, as aws-c-auth applies them). */
static int append_normalized(struct mu_buf *b, const char *path) {
  size_t start = b->len, plen = strlen(path);
  for (const char *s = path; *s;) {
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n == 2 && s[0] == '.' && s[1] == '.') {
      while (b->len > start && b->p[b->len - 1] != '/')
        b->len--;
      if (b->len > start) /* drop the '/' before the popped segment */
        b->p[--b->len] = '\0';
    } else if (n > 0 && !(n == 1 && s[0] == '.')) {
      MU_TRY(mu_buf_putc(b, '/'));
      MU_TRY(mu_buf_append(b, s, n));
    }
    s += n + (e != NULL);
  }
  if (b->len == start || (plen > 0 && path[plen - 1] == '/'))
    MU_TRY(mu_buf_putc(b, '/'));
  return 0;
}

/* The canonical URI: the path as sent (S3), or normalized and/or encoded
 * once more when the request asks for it. */
static int append_canonical_uri(struct mu_buf *b, const struct mu_sigv4_req *r) {
  const char *path = r->path && r->path[0] ? r->path : "/";
  if (!r->normalize_path)
    return r->encode_path ? mu_uri_encode(b, path, 1) : mu_buf_puts(b, path);
  if (!r->encode_path)
    return append_normalized(b, path);
  struct mu_buf norm = MU_BUF_INIT;
  int rc = append_normalized(&norm, path);
  if (!rc)
    rc = mu_uri_encode(b, norm.p, 1);
  mu_buf_free(&norm);
  return rc;
}

/* ---- canonical headers ------------------------------------------------- */

struct hent {
  const char *name;
  const char *value;
  size_t idx; /* position in the request: keeps duplicates in order */
};

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

/* Byte order of the lowercased names (locale independent). */
static int name_cmp(const char *a, const char *b) {
  for (;; a++, b++) {
    int x = lower((unsigned char)*a), y = lower((unsigned char)*b);
    if (x != y || !x)
      return x - y;
  }
}

static int hent_cmp(const void *pa, const void *pb) {
  const struct hent *a = pa, *b = pb;
  int c = name_cmp(a->name, b->name);
  return c ? c : (a->idx > b->idx) - (a->idx < b->idx);
}

static int has_header(const struct mu_sigv4_req *r, const char *name) {
  for (size_t i = 0; i < r->nheaders; i++)
    if (name_cmp(r->headers[i].name, name) == 0)
      return 1;
  return 0;
}

/* Append value trimmed, inner runs of blanks folded to one space. */
static int append_trimmed(struct mu_buf *b, const char *v) {
  int gap = 0;
  while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
    v++;
  for (; *v; v++) {
    if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
      gap = 1;
      continue;
    }
    if (gap)
      MU_TRY(mu_buf_putc(b, ' '));
    gap = 0;
    MU_TRY(mu_buf_putc(b, *v));
  }
  return 0;
}

static int append_lower(struct mu_buf *b, const char *s) {
  for (; *s; s++)
    MU_TRY(mu_buf_putc(b, (char)lower((unsigned char)*s)));
  return 0;
}

/* The signed header list: the request's headers plus, in header mode,
 * x-amz-date and x-amz-security-token unless present. *out is malloc'd. */
static int collect_headers(const struct mu_sigv4_req *r, int presign, struct hent **out,
                           size_t *n) {
  struct hent *h = calloc(r->nheaders + 2, sizeof *h);
  if (!h)
    return MMAPURL_E_NOMEM;
  size_t k = 0;
  for (; k < r->nheaders; k++)
    h[k] = (struct hent){r->headers[k].name, r->headers[k].value, k};
  if (!presign && !has_header(r, "x-amz-date")) {
    h[k] = (struct hent){"x-amz-date", r->amz_date, k};
    k++;
  }
  if (!presign && r->session_token && !r->session_token_unsigned &&
      !has_header(r, "x-amz-security-token")) {
    h[k] = (struct hent){"x-amz-security-token", r->session_token, k};
    k++;
  }
  qsort(h, k, sizeof *h, hent_cmp);
  *out = h;
  *n = k;
  return 0;
}

/* Canonical header lines ("name:value\n", duplicates joined with ',') into
 * lines, and the signed header list ("a;b;c") into names. */
static int canonical_headers(const struct mu_sigv4_req *r, int presign, struct mu_buf *lines,
                             struct mu_buf *names) {
  struct hent *h;
  size_t n;
  MU_TRY(collect_headers(r, presign, &h, &n));
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    int first = i == 0 || name_cmp(h[i - 1].name, h[i].name) != 0;
    int last = i + 1 == n || name_cmp(h[i + 1].name, h[i].name) != 0;
    if (first && i > 0)
      rc = mu_buf_putc(names, ';');
    if (first && !rc)
      rc = append_lower(names, h[i].name);
    if (first && !rc)
      rc = append_lower(lines, h[i].name);
    if (!rc)
      rc = mu_buf_putc(lines, first ? ':' : ',');
    if (!rc)
      rc = append_trimmed(lines, h[i].value);
    if (last && !rc)
      rc = mu_buf_putc(lines, '\n');
  }
  free(h);
  return rc;
}

/* ---- canonical query --------------------------------------------------- */

struct qparam {
  char *kv;    /* owned: "name=value", both SigV4-encoded */
  size_t nlen; /* length of the name */
};

struct qlist {
  struct qparam *v;
  size_t n, cap;
};

static void qlist_free(struct qlist *q) {
  for (size_t i = 0; i < q->n; i++)
    free(q->v[i].kv);
  free(q->v);
  memset(q, 0, sizeof *q);
}

static int hexval(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  c = lower(c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Append s[0..n) percent-decoded ('%' not followed by two hex digits stays);
 * '+' stays a plus. */
static int append_decoded(struct mu_buf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int hi = i + 2 < n && s[i] == '%' ? hexval((unsigned char)s[i + 1]) : -1;
    int lo = hi >= 0 ? hexval((unsigned char)s[i + 2]) : -1;
    char c = lo >= 0 ? (char)(hi * 16 + lo) : s[i];
    MU_TRY(mu_buf_putc(b, c));
    i += lo >= 0 ? 2 : 0;
  }
  return 0;
}

/* Append s[0..n) decoded then SigV4-encoded into b. A decoded NUL cannot be
 * represented in a C string: it is refused. */
static int append_reencoded(struct mu_buf *b, const char *s, size_t n) {
  struct mu_buf dec = MU_BUF_INIT;
  int rc = mu_buf_puts(&dec, "");
  if (!rc)
    rc = append_decoded(&dec, s, n);
  if (!rc && strlen(dec.p) != dec.len)
    rc = mu_fail(MMAPURL_E_INVALID_ARG, "sigv4: query parameter contains %%00");
  if (!rc)
    rc = mu_uri_encode(b, dec.p, 0);
  mu_buf_free(&dec);
  return rc;
}

/* Add the param "name=value" (each already encoded unless raw, in which case
 * they are decoded then encoded). */
static int qlist_add(struct qlist *q, const char *name, size_t nlen, const char *value,
                     size_t vlen, int raw) {
  if (q->n == q->cap) {
    size_t cap = q->cap ? q->cap * 2 : 16;
    struct qparam *v = realloc(q->v, cap * sizeof *v);
    if (!v)
      return MMAPURL_E_NOMEM;
    q->v = v;
    q->cap = cap;
  }
  struct mu_buf b = MU_BUF_INIT;
  int rc = raw ? append_reencoded(&b, name, nlen) : mu_buf_append(&b, name, nlen);
  size_t enlen = b.len;
  if (!rc)
    rc = mu_buf_putc(&b, '=');
  if (!rc)
    rc = raw ? append_reencoded(&b, value, vlen) : mu_buf_append(&b, value, vlen);
  if (rc) {
    mu_buf_free(&b);
    return rc;
  }
  q->v[q->n++] = (struct qparam){b.p, enlen};
  return 0;
}

/* Add the param name=value, value encoded here. */
static int qlist_add_enc(struct qlist *q, const char *name, const char *value) {
  struct mu_buf v = MU_BUF_INIT;
  int rc = mu_buf_puts(&v, "");
  if (!rc)
    rc = mu_uri_encode(&v, value, 0);
  if (!rc)
    rc = qlist_add(q, name, strlen(name), v.p, v.len, 0);
  mu_buf_free(&v);
  return rc;
}

/* Add the request's own params: split on '&' (empty pieces dropped), "a"
 * without '=' meaning "a=". */
static int qlist_parse(struct qlist *q, const char *query) {
  for (const char *s = query ? query : ""; *s;) {
    const char *e = strchr(s, '&');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    const char *eq = memchr(s, '=', n);
    size_t nlen = eq ? (size_t)(eq - s) : n;
    if (n > 0)
      MU_TRY(qlist_add(q, s, nlen, eq ? eq + 1 : "", eq ? n - nlen - 1 : 0, 1));
    s += n + (e != NULL);
  }
  return 0;
}

/* Order by encoded name, then encoded value (bytes, unsigned). */
static int qparam_cmp(const void *pa, const void *pb) {
  const struct qparam *a = pa, *b = pb;
  size_t n = a->nlen < b->nlen ? a->nlen : b->nlen;
  int c = memcmp(a->kv, b->kv, n);
  if (c || a->nlen != b->nlen)
    return c ? c : (a->nlen < b->nlen ? -1 : 1);
  return strcmp(a->kv + a->nlen, b->kv + b->nlen);
}

/* Sort q and append it joined with '&'. */
static int append_query(struct mu_buf *b, struct qlist *q) {
  if (q->n > 1)
    qsort(q->v, q->n, sizeof *q->v, qparam_cmp);
  for (size_t i = 0; i < q->n; i++) {
    if (i > 0)
      MU_TRY(mu_buf_putc(b, '&'));
    MU_TRY(mu_buf_puts(b, q->v[i].kv));
  }
  return 0;
}

/* ---- signing ----------------------------------------------------------- */

/* The work of one signing: intermediate strings, freed by job_free. */
struct job {
  const struct mu_sigv4_req *r;
  int presign;
  struct mu_buf scope;   /* date/region/service/aws4_request */
  struct mu_buf hlines;  /* canonical header lines */
  struct mu_buf hnames;  /* signed headers */
  struct qlist q;        /* query params, sorted when appended */
  struct mu_buf cr, sts; /* canonical request, string to sign */
};

static void job_free(struct job *j) {
  mu_buf_free(&j->scope);
  mu_buf_free(&j->hlines);
  mu_buf_free(&j->hnames);
  qlist_free(&j->q);
  mu_buf_free(&j->cr);
  mu_buf_free(&j->sts);
}

static int req_valid(const struct mu_sigv4_req *r) {
  if (!r || !r->method || !r->payload_hash || !r->amz_date || strlen(r->amz_date) < 8 ||
      !r->region || !r->service || !r->access_key_id || !r->secret_access_key ||
      (r->nheaders && !r->headers))
    return mu_fail(MMAPURL_E_INVALID_ARG, "sigv4: a required request field is missing");
  for (size_t i = 0; i < r->nheaders; i++)
    if (!r->headers[i].name || !r->headers[i].value)
      return mu_fail(MMAPURL_E_INVALID_ARG, "sigv4: header %zu has no name or value", i);
  return 0;
}

/* Presign: the X-Amz-* params that are signed. */
static int add_presign_params(struct job *j) {
  const struct mu_sigv4_req *r = j->r;
  char expires[32];
  struct mu_buf cred = MU_BUF_INIT;
  snprintf(expires, sizeof expires, "%ld", r->expires);
  int rc = mu_buf_printf(&cred, "%s/%s", r->access_key_id, j->scope.p);
  if (!rc)
    rc = qlist_add_enc(&j->q, "X-Amz-Algorithm", ALGORITHM);
  if (!rc)
    rc = qlist_add_enc(&j->q, "X-Amz-Credential", cred.p);
  if (!rc)
    rc = qlist_add_enc(&j->q, "X-Amz-Date", r->amz_date);
  if (!rc)
    rc = qlist_add_enc(&j->q, "X-Amz-Expires", expires);
  if (!rc)
    rc = qlist_add_enc(&j->q, "X-Amz-SignedHeaders", j->hnames.p);
  if (!rc && r->session_token && !r->session_token_unsigned)
    rc = qlist_add_enc(&j->q, "X-Amz-Security-Token", r->session_token);
  mu_buf_free(&cred);
  return rc;
}

/* Canonical request and string to sign into j->cr and j->sts. */
static int build_strings(struct job *j) {
  const struct mu_sigv4_req *r = j->r;
  char crhash[65];
  MU_TRY(mu_buf_printf(&j->scope, "%.8s/%s/%s/aws4_request", r->amz_date, r->region,
                       r->service));
  MU_TRY(mu_buf_puts(&j->hnames, ""));
  MU_TRY(canonical_headers(r, j->presign, &j->hlines, &j->hnames));
  MU_TRY(qlist_parse(&j->q, r->query));
  if (j->presign)
    MU_TRY(add_presign_params(j));
  MU_TRY(mu_buf_printf(&j->cr, "%s\n", r->method));
  MU_TRY(append_canonical_uri(&j->cr, r));
  MU_TRY(mu_buf_putc(&j->cr, '\n'));
  MU_TRY(append_query(&j->cr, &j->q));
  MU_TRY(mu_buf_printf(&j->cr, "\n%s\n%s\n%s", j->hlines.p ? j->hlines.p : "", j->hnames.p,
                       r->payload_hash));
  MU_TRY(sha256_hex(j->cr.p, j->cr.len, crhash));
  return mu_buf_printf(&j->sts, ALGORITHM "\n%s\n%s\n%s", r->amz_date, j->scope.p, crhash);
}

/* The output of header mode: the Authorization value. */
static char *authorization(const struct job *j, const char *signature) {
  struct mu_buf b = MU_BUF_INIT;
  if (mu_buf_printf(&b, ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s",
                    j->r->access_key_id, j->scope.p, j->hnames.p, signature) != 0)
    return NULL;
  return mu_buf_steal(&b);
}

/* The output of presign mode: every param, X-Amz-Signature included, sorted. */
static char *signed_query(struct job *j, const char *signature) {
  struct mu_buf b = MU_BUF_INIT;
  int rc = qlist_add_enc(&j->q, "X-Amz-Signature", signature);
  if (!rc && j->r->session_token && j->r->session_token_unsigned)
    rc = qlist_add_enc(&j->q, "X-Amz-Security-Token", j->r->session_token);
  if (!rc)
    rc = append_query(&b, &j->q);
  if (rc) {
    mu_buf_free(&b);
    return NULL;
  }
  return mu_buf_steal(&b);
}

/* Both modes: fills out entirely, or leaves it zeroed. */
static int sign_common(const struct mu_sigv4_req *r, int presign, struct mu_sigv4_out *out) {
  struct job j = {.r = r, .presign = presign};
  memset(out, 0, sizeof *out);
  int rc = req_valid(r);
  if (!rc)
    rc = build_strings(&j);
  if (!rc)
    rc = sign_string(r, &j.sts, out->signature);
  if (!rc) {
    char **res = presign ? &out->query : &out->authorization;
    *res = presign ? signed_query(&j, out->signature) : authorization(&j, out->signature);
    out->canonical_request = mu_buf_steal(&j.cr);
    out->string_to_sign = mu_buf_steal(&j.sts);
    if (!*res || !out->canonical_request || !out->string_to_sign)
      rc = MMAPURL_E_NOMEM;
  }
  job_free(&j);
  if (rc)
    mu_sigv4_out_free(out);
  return rc;
}

int mu_sigv4_sign(const struct mu_sigv4_req *req, struct mu_sigv4_out *out) {
  return sign_common(req, 0, out);
}

int mu_sigv4_presign(const struct mu_sigv4_req *req, struct mu_sigv4_out *out) {
  return sign_common(req, 1, out);
}

void mu_sigv4_out_free(struct mu_sigv4_out *out) {
  if (!out)
    return;
  free(out->canonical_request);
  free(out->string_to_sign);
  free(out->authorization);
  free(out->query);
  memset(out, 0, sizeof *out);
}
