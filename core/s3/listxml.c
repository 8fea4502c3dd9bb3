/*
 * listxml.c - the XML of S3 listings turned into entries: a small
 * non-validating XML reader (elements, skipped attributes, comments,
 * processing instructions, CDATA, the predefined and numeric entities) that
 * keeps only the elements a listing needs. Must never read past the length
 * it is given, never accept a document it cannot account for (truncated,
 * unbalanced, a DOCTYPE, an unknown entity, a bad number, a key without a
 * name or size), and never leave part of a failed page in the caller's
 * listing.
 */
#include "s3/listxml.h"

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"

#define MAX_DEPTH 16

enum root { R_NONE, R_OBJECTS, R_BUCKETS };

/* What an element is to us. Leaves keep their text; entries become
 * mu_s3_entry; the rest is skipped. Values are bit numbers in px.seen. */
enum what {
  W_OTHER, W_ROOT, W_BUCKETS,                 /* containers */
  W_TRUNCATED, W_TOKEN, W_ENCODING,           /* page leaves */
  W_NAME, W_SIZE, W_MTIME, W_ETAG,            /* entry leaves */
  W_KEY_ENTRY, W_PREFIX_ENTRY, W_BUCKET_ENTRY /* entries */
};
#define BIT(w) (1u << (w))
#define ENTRY_LEAVES (BIT(W_NAME) | BIT(W_SIZE) | BIT(W_MTIME) | BIT(W_ETAG))

/* An element called name, inside an element that is parent, is what. */
struct rule {
  enum root root;
  enum what parent;
  const char *name;
  enum what what;
};

static const struct rule rules[] = {
    {R_OBJECTS, W_ROOT, "IsTruncated", W_TRUNCATED},
    {R_OBJECTS, W_ROOT, "NextContinuationToken", W_TOKEN},
    {R_OBJECTS, W_ROOT, "EncodingType", W_ENCODING},
    {R_OBJECTS, W_ROOT, "Contents", W_KEY_ENTRY},
    {R_OBJECTS, W_ROOT, "CommonPrefixes", W_PREFIX_ENTRY},
    {R_OBJECTS, W_KEY_ENTRY, "Key", W_NAME},
    {R_OBJECTS, W_KEY_ENTRY, "Size", W_SIZE},
    {R_OBJECTS, W_KEY_ENTRY, "LastModified", W_MTIME},
    {R_OBJECTS, W_KEY_ENTRY, "ETag", W_ETAG},
    {R_OBJECTS, W_PREFIX_ENTRY, "Prefix", W_NAME},
    {R_BUCKETS, W_ROOT, "Buckets", W_BUCKETS},
    {R_BUCKETS, W_BUCKETS, "Bucket", W_BUCKET_ENTRY},
    {R_BUCKETS, W_BUCKET_ENTRY, "Name", W_NAME},
    {R_BUCKETS, W_BUCKET_ENTRY, "CreationDate", W_MTIME},
};

struct elem {
  const char *name; /* into the input */
  size_t len;
  enum what what;
};

/* The state of one parse. Pointers into the input never pass end. */
struct px {
  const char *start, *p, *end;
  enum root root;
  int depth, closed;        /* closed: the document element has ended */
  struct elem st[MAX_DEPTH];
  struct mu_buf text;       /* decoded text of the open leaf */
  struct mu_s3_entry cur;   /* the entry being read (owns cur.name) */
  unsigned seen;            /* BIT(leaf) for the page and the current entry */
  int url_encoded, truncated;
  char *token;              /* owned until handed to the caller */
  struct mu_s3_listing *out;
};

static int bad(const struct px *x, const char *why) {
  return mu_fail(MMAPURL_E_PROTOCOL, "listing: malformed XML: %s (byte %zu)", why,
                 (size_t)(x->p - x->start));
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
static int is_leaf(enum what w) { return w >= W_TRUNCATED && w <= W_ETAG; }
static int is_entry(enum what w) { return w >= W_KEY_ENTRY; }
static size_t left(const struct px *x) { return (size_t)(x->end - x->p); }

static int starts(const struct px *x, const char *s) {
  size_t n = strlen(s);
  return left(x) >= n && memcmp(x->p, s, n) == 0;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* ---- text and entities ------------------------------------------------- */

static int append_utf8(struct mu_buf *b, unsigned long cp) {
  char u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (char)cp, n = 1;
  } else if (cp < 0x800) {
    u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
  } else if (cp < 0x10000) {
    u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
  } else {
    u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
  }
  return mu_buf_append(b, u, n);
}

/* The code point of "#N" or "#xN" (s[0..n)), or 0 when it is not a valid,
 * non-NUL Unicode scalar value. */
static unsigned long char_ref(const char *s, size_t n) {
  int hex = n > 1 && s[1] == 'x';
  size_t i = hex ? 2 : 1;
  unsigned long cp = 0;
  if (i >= n)
    return 0;
  for (; i < n; i++) {
    int d = hex ? hexval(s[i]) : (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1);
    if (d < 0)
      return 0;
    cp = cp * (hex ? 16 : 10) + (unsigned long)d;
    if (cp > 0x10FFFF)
      return 0;
  }
  return cp >= 0xD800 && cp <= 0xDFFF ? 0 : cp;
}

/* Decode the entity at s ('&', n bytes left) into x->text; *used: its length. */
static int entity(struct px *x, const char *s, size_t n, size_t *used) {
  static const char *const names[] = {"amp", "lt", "gt", "quot", "apos"};
  static const char chars[] = "&<>\"'";
  const char *semi = memchr(s, ';', n < 16 ? n : 16);
  if (!semi)
    return bad(x, "an unterminated entity");
  const char *name = s + 1;
  size_t len = (size_t)(semi - name);
  *used = len + 2;
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (len == strlen(names[i]) && memcmp(name, names[i], len) == 0)
      return mu_buf_putc(&x->text, chars[i]);
  unsigned long cp = len > 0 && name[0] == '#' ? char_ref(name, len) : 0;
  return cp ? append_utf8(&x->text, cp) : bad(x, "an unknown or invalid entity");
}

/* Append s[0..n), entities decoded, to the open leaf's text. */
static int append_text(struct px *x, const char *s, size_t n) {
  while (n > 0) {
    const char *amp = memchr(s, '&', n);
    size_t plain = amp ? (size_t)(amp - s) : n, used = 0;
    MU_TRY(mu_buf_append(&x->text, s, plain));
    s += plain, n -= plain;
    if (n > 0)
      MU_TRY(entity(x, s, n, &used));
    s += used, n -= used;
  }
  return 0;
}

/* Character data up to the next '<' (or the end). */
static int text(struct px *x) {
  const char *lt = memchr(x->p, '<', left(x));
  const char *e = lt ? lt : x->end;
  enum what w = x->depth ? x->st[x->depth - 1].what : W_OTHER;
  int rc = 0;
  if (x->depth == 0) {
    for (const char *c = x->p; c < e && !rc; c++)
      rc = is_space(*c) ? 0 : bad(x, "text outside the document element");
  } else if (is_leaf(w)) {
    rc = append_text(x, x->p, (size_t)(e - x->p));
  }
  x->p = e;
  return rc;
}

/* ---- values ------------------------------------------------------------ */

static int parse_u64(const char *s, uint64_t *out) {
  uint64_t v = 0;
  if (!*s)
    return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return -1;
    unsigned d = (unsigned)(*s - '0');
    if (v > (UINT64_MAX - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  *out = v;
  return 0;
}

static int digits(const char *s, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

/* "YYYY-MM-DDTHH:MM:SS[.fff]Z" as a time_t, or 0 when it is not one. */
static time_t iso8601(const char *s) {
  if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':')
    return 0;
  int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
  int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
  const char *r = s + 19;
  if (*r == '.')
    for (r++; *r >= '0' && *r <= '9'; r++)
      ;
  if (strcmp(r, "Z") != 0 || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 ||
      h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
    return 0;
  struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                  .tm_hour = h, .tm_min = mi, .tm_sec = sec};
  time_t t = timegm(&tm);
  return t > 0 ? t : 0;
}

/* A leaf ended: take its text. */
static int end_leaf(struct px *x, enum what w) {
  const char *t = x->text.p ? x->text.p : "";
  if (strlen(t) != x->text.len)
    return bad(x, "a NUL character in a value");
  switch (w) {
  case W_TRUNCATED:
    x->truncated = strcmp(t, "true") == 0;
    return x->truncated || strcmp(t, "false") == 0 ? 0 : bad(x, "IsTruncated not true or false");
  case W_TOKEN:
    x->token = strdup(t);
    return x->token ? 0 : MMAPURL_E_NOMEM;
  case W_ENCODING:
    x->url_encoded = strcmp(t, "url") == 0;
    return 0;
  case W_NAME:
    if (!*t)
      return bad(x, "an empty name");
    x->cur.name = mu_buf_steal(&x->text);
    return x->cur.name ? 0 : MMAPURL_E_NOMEM;
  case W_SIZE:
    return parse_u64(t, &x->cur.size) ? bad(x, "a Size that is not a number") : 0;
  case W_MTIME:
    x->cur.mtime = iso8601(t);
    return 0;
  default: /* W_ETAG */
    if (x->text.len >= sizeof x->cur.etag)
      return bad(x, "an ETag too long");
    memcpy(x->cur.etag, t, x->text.len + 1);
    return 0;
  }
}

/* ---- elements ---------------------------------------------------------- */

static int append_entry(struct mu_s3_listing *l, struct mu_s3_entry *e) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    struct mu_s3_entry *v = cap < SIZE_MAX / sizeof *v ? realloc(l->v, cap * sizeof *v) : NULL;
    if (!v)
      return MMAPURL_E_NOMEM;
    l->v = v, l->cap = cap;
  }
  l->v[l->n++] = *e;
  memset(e, 0, sizeof *e);
  return 0;
}

/* An entry ended: check it and hand it to the listing. */
static int end_entry(struct px *x, enum what w) {
  if (!(x->seen & BIT(W_NAME)))
    return bad(x, w == W_KEY_ENTRY ? "a key without <Key>" : "an entry without a name");
  if (w == W_KEY_ENTRY && !(x->seen & BIT(W_SIZE)))
    return bad(x, "a key without <Size>");
  x->cur.is_prefix = w != W_KEY_ENTRY;
  return append_entry(x->out, &x->cur);
}

static enum what classify(const struct px *x, const char *name, size_t n) {
  enum what parent = x->st[x->depth - 1].what;
  for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
    if (rules[i].root == x->root && rules[i].parent == parent &&
        strlen(rules[i].name) == n && memcmp(rules[i].name, name, n) == 0)
      return rules[i].what;
  return W_OTHER;
}

static int set_root(struct px *x, const char *name, size_t n) {
  if (n == 16 && memcmp(name, "ListBucketResult", n) == 0)
    x->root = R_OBJECTS;
  else if (n == 22 && memcmp(name, "ListAllMyBucketsResult", n) == 0)
    x->root = R_BUCKETS;
  else
    return mu_fail(MMAPURL_E_PROTOCOL, "listing: the answer is <%.*s>, not a listing",
                   (int)(n < 64 ? n : 64), name);
  return 0;
}

static int open_elem(struct px *x, const char *name, size_t n) {
  if (x->closed)
    return bad(x, "an element after the document element");
  if (x->depth == MAX_DEPTH)
    return bad(x, "elements nested too deeply");
  if (x->depth > 0 && is_leaf(x->st[x->depth - 1].what))
    return bad(x, "an element inside a value");
  if (x->depth == 0)
    MU_TRY(set_root(x, name, n));
  enum what w = x->depth == 0 ? W_ROOT : classify(x, name, n);
  x->st[x->depth++] = (struct elem){name, n, w};
  if (is_entry(w))
    x->seen &= ~ENTRY_LEAVES;
  if (!is_leaf(w))
    return 0;
  if (x->seen & BIT(w))
    return bad(x, "an element repeated");
  x->seen |= BIT(w);
  mu_buf_reset(&x->text);
  return 0;
}

static int close_elem(struct px *x) {
  enum what w = x->st[--x->depth].what;
  x->closed = x->depth == 0;
  if (is_leaf(w))
    return end_leaf(x, w);
  return is_entry(w) ? end_entry(x, w) : 0;
}

/* The name at s (a tag's), ending at a space, '/' or '>'. */
static int read_name(const struct px *x, const char *s, size_t *n) {
  const char *q = s;
  while (q < x->end && !is_space(*q) && *q != '/' && *q != '>') {
    if (strchr("<&\"'=", *q))  /* also true for a NUL byte */
      return bad(x, "a bad character in a tag name");
    q++;
  }
  if (q == x->end)
    return bad(x, "a tag cut short");
  *n = (size_t)(q - s);
  return *n ? 0 : bad(x, "a tag without a name");
}

/* From q (after a start tag's name) past its '>', quoted values skipped.
 * *empty: the tag ended with "/>". */
static int skip_attributes(const struct px *x, const char **q, int *empty) {
  for (const char *c = *q; c < x->end; c++) {
    if (*c == '"' || *c == '\'') {
      c = memchr(c + 1, *c, (size_t)(x->end - c - 1));
      if (!c)
        break;
    } else if (*c == '<') {
      return bad(x, "'<' inside a tag");
    } else if (*c == '>') {
      *empty = c[-1] == '/';
      *q = c + 1;
      return 0;
    }
  }
  return bad(x, "a tag cut short");
}

static int start_tag(struct px *x) {
  const char *name = x->p + 1, *q;
  size_t n;
  int empty = 0;
  MU_TRY(read_name(x, name, &n));
  q = name + n;
  MU_TRY(skip_attributes(x, &q, &empty));
  x->p = q;
  MU_TRY(open_elem(x, name, n));
  return empty ? close_elem(x) : 0;
}

static int end_tag(struct px *x) {
  const char *name = x->p + 2, *q;
  size_t n;
  MU_TRY(read_name(x, name, &n));
  for (q = name + n; q < x->end && is_space(*q); q++)
    ;
  if (q == x->end || *q != '>')
    return bad(x, "a bad end tag");
  const struct elem *top = x->depth ? &x->st[x->depth - 1] : NULL;
  if (!top || top->len != n || memcmp(top->name, name, n) != 0)
    return bad(x, "an end tag that closes no open element");
  x->p = q + 1;
  return close_elem(x);
}

/* Skip from x->p (at an opener of `skip` bytes) past the next `close`. */
static int skip_past(struct px *x, size_t skip, const char *close, const char **body) {
  size_t n = strlen(close);
  const char *e = left(x) >= skip ? memmem(x->p + skip, left(x) - skip, close, n) : NULL;
  if (!e)
    return bad(x, "a comment, CDATA or processing instruction cut short");
  *body = e;
  x->p = e + n;
  return 0;
}

/* CDATA: its bytes are text, taken as they are. */
static int cdata(struct px *x) {
  const char *from = x->p + 9, *e = NULL;
  MU_TRY(skip_past(x, 9, "]]>", &e));
  if (x->depth == 0)
    return bad(x, "CDATA outside the document element");
  enum what w = x->st[x->depth - 1].what;
  return is_leaf(w) ? mu_buf_append(&x->text, from, (size_t)(e - from)) : 0;
}

static int markup(struct px *x) {
  const char *ignored;
  if (starts(x, "<?"))
    return skip_past(x, 2, "?>", &ignored);
  if (starts(x, "<!--"))
    return skip_past(x, 4, "-->", &ignored);
  if (starts(x, "<![CDATA["))
    return cdata(x);
  if (starts(x, "<!"))
    return bad(x, "a DOCTYPE or other declaration");
  return starts(x, "</") ? end_tag(x) : start_tag(x);
}

/* ---- the page ---------------------------------------------------------- */

/* Undo "%XX" and '+' (a space) in s, in place. -1 if malformed or NUL. */
static int url_decode(char *s) {
  char *w = s;
  for (const char *r = s; *r; r++) {
    char c = *r; /* read before *w (which may be *r) is written */
    int hi = c == '%' ? hexval(r[1]) : 0, lo = c == '%' && hi >= 0 ? hexval(r[2]) : 0;
    if (hi < 0 || lo < 0 || (c == '%' && hi == 0 && lo == 0))
      return -1;
    *w++ = c == '%' ? (char)(hi * 16 + lo) : c == '+' ? ' ' : c;
    r += c == '%' ? 2 : 0;
  }
  *w = '\0';
  return 0;
}

void mu_s3_listing_truncate(struct mu_s3_listing *l, size_t n) {
  while (l->n > n)
    free(l->v[--l->n].name);
}

int mu_s3_list_parse(const char *xml, size_t len, struct mu_s3_listing *out, int *truncated,
                     char **next_token) {
  struct px x = {.start = xml ? xml : "", .out = out};
  size_t n0 = out->n;
  x.p = x.start, x.end = x.start + (xml ? len : 0);
  *truncated = 0, *next_token = NULL;
  int rc = 0;
  while (!rc && x.p < x.end)
    rc = *x.p == '<' ? markup(&x) : text(&x);
  if (!rc && !x.closed)
    rc = bad(&x, x.root == R_NONE ? "no document element" : "the document is cut short");
  for (size_t i = n0; !rc && x.url_encoded && i < out->n; i++)
    rc = url_decode(out->v[i].name) ? bad(&x, "a name with bad URL encoding") : 0;
  free(x.cur.name);
  mu_buf_free(&x.text);
  if (rc) {
    mu_s3_listing_truncate(out, n0);
    free(x.token);
    return rc;
  }
  *truncated = x.truncated, *next_token = x.token;
  return 0;
}

void mu_s3_listing_free(struct mu_s3_listing *l) {
  if (!l)
    return;
  mu_s3_listing_truncate(l, 0);
  free(l->v);
  memset(l, 0, sizeof *l);
}
