/*
 * ini.c - parser for the AWS shared config and credentials files: sections,
 * "key = value" pairs, full-line '#'/';' comments, indented continuation
 * lines and nested sub-sections ("s3 =" then "  addressing_style = path",
 * kept as "s3.addressing_style").
 * Values may be secret keys: they are never put in an error detail (details
 * name the file and line only) and are wiped before their memory is freed.
 */
#include "auth/ini.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmapurl.h"
#include "util/buf.h"
#include "util/error.h"

#define NONE SIZE_MAX
#define INI_MAX_BYTES (1u << 20) /* larger than this is not a credentials file */

struct ini_pair {
  char *key;   /* owned */
  char *value; /* owned; may be secret: wiped before free */
};

struct ini_section {
  char *name; /* owned, surrounding whitespace stripped */
  struct ini_pair *pairs;
  size_t n, cap;
};

struct mu_ini {
  struct ini_section *secs;
  size_t n, cap;
};

/* Where the parser is: the file name and line for details, the current
 * section, and the pair that indented lines continue (NONE after a blank
 * line, a header or outside any pair); sub is 1 when that pair's value was
 * empty, making the indented lines its sub-section. */
struct parser {
  struct mu_ini *ini;
  const char *name;
  unsigned line;
  size_t sec;
  size_t last;
  int sub;
};

static int nomem(void) { return mu_fail(MMAPURL_E_NOMEM, "out of memory reading an AWS config file"); }

/* A malformed line: "FILE:LINE: why" (never the line's text: it may hold a key). */
static int malformed(const struct parser *ps, const char *why) {
  return mu_fail(MMAPURL_E_CREDENTIALS_FILE, "%s:%u: %s", ps->name, ps->line, why);
}

/* Make room for one more element of size elem in *arr (n used, *cap held). */
static int grow(void **arr, size_t *cap, size_t n, size_t elem) {
  if (n < *cap)
    return 0;
  size_t ncap = *cap ? *cap * 2 : 8;
  void *p = realloc(*arr, ncap * elem);
  if (!p)
    return nomem();
  *arr = p;
  *cap = ncap;
  return 0;
}

/* Zero then free a string that may be secret. */
static void free_secret(char *s) {
  if (s)
    explicit_bzero(s, strlen(s));
  free(s);
}

/* Strip spaces and tabs around the span [*s, *s + *len). */
static void trim(const char **s, size_t *len) {
  while (*len && (**s == ' ' || **s == '\t')) {
    (*s)++;
    (*len)--;
  }
  while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t' || (*s)[*len - 1] == '\r'))
    (*len)--;
}

/* Index of the section named name (of length len), or NONE. */
static size_t find_section(const struct mu_ini *ini, const char *name, size_t len) {
  for (size_t i = 0; i < ini->n; i++)
    if (strlen(ini->secs[i].name) == len && memcmp(ini->secs[i].name, name, len) == 0)
      return i;
  return NONE;
}

/* Index of the pair of sec whose key is key (of length len), or NONE. */
static size_t find_pair(const struct ini_section *sec, const char *key, size_t len) {
  for (size_t i = 0; i < sec->n; i++)
    if (strlen(sec->pairs[i].key) == len && memcmp(sec->pairs[i].key, key, len) == 0)
      return i;
  return NONE;
}

/* Make the section name current, adding it unless it exists already
 * (a repeated section continues the first). */
static int enter_section(struct parser *ps, const char *name, size_t len) {
  struct mu_ini *ini = ps->ini;
  ps->sec = find_section(ini, name, len);
  if (ps->sec != NONE)
    return 0;
  MU_TRY(grow((void **)&ini->secs, &ini->cap, ini->n, sizeof *ini->secs));
  struct ini_section *sec = &ini->secs[ini->n];
  memset(sec, 0, sizeof *sec);
  sec->name = strndup(name, len);
  if (!sec->name)
    return nomem();
  ps->sec = ini->n++;
  return 0;
}

/* Set key = value in the current section (a repeated key replaces the
 * value); *index receives the pair's index. */
static int set_pair(struct parser *ps, const char *key, size_t klen, const char *value,
                    size_t vlen, size_t *index) {
  struct ini_section *sec = &ps->ini->secs[ps->sec];
  char *v = strndup(value, vlen);
  if (!v)
    return nomem();
  size_t i = find_pair(sec, key, klen);
  if (i == NONE) {
    char *k = strndup(key, klen);
    if (!k || grow((void **)&sec->pairs, &sec->cap, sec->n, sizeof *sec->pairs) != 0) {
      free(k);
      free_secret(v);
      return nomem();
    }
    i = sec->n++;
    sec->pairs[i].key = k;
    sec->pairs[i].value = NULL;
  }
  free_secret(sec->pairs[i].value);
  sec->pairs[i].value = v;
  *index = i;
  return 0;
}

/* "[name]", optionally followed by a comment. */
static int parse_header(struct parser *ps, const char *s, size_t len) {
  const char *close = memchr(s, ']', len);
  if (!close)
    return malformed(ps, "unterminated section header: missing ']'");
  const char *rest = close + 1;
  size_t rlen = len - (size_t)(rest - s);
  trim(&rest, &rlen);
  if (rlen && *rest != '#' && *rest != ';')
    return malformed(ps, "unexpected text after the section header's ']'");
  const char *name = s + 1;
  size_t nlen = (size_t)(close - name);
  trim(&name, &nlen);
  if (nlen == 0)
    return malformed(ps, "empty section name");
  return enter_section(ps, name, nlen);
}

/* Split "key = value" at the first '='; 0, or -1 without '=' or a key. */
static int split_pair(const char *s, size_t len, const char **key, size_t *klen,
                      const char **value, size_t *vlen) {
  const char *eq = memchr(s, '=', len);
  if (!eq)
    return -1;
  *key = s;
  *klen = (size_t)(eq - s);
  *value = eq + 1;
  *vlen = len - *klen - 1;
  trim(key, klen);
  trim(value, vlen);
  return *klen ? 0 : -1;
}

/* A "key = value" line at the top level of a section. */
static int parse_pair(struct parser *ps, const char *s, size_t len) {
  const char *key, *value;
  size_t klen, vlen;
  if (ps->sec == NONE)
    return malformed(ps, "'key = value' before any [section] header");
  if (split_pair(s, len, &key, &klen, &value, &vlen) != 0)
    return malformed(ps, "expected 'key = value' (or a [section] header or a comment)");
  MU_TRY(set_pair(ps, key, klen, value, vlen, &ps->last));
  ps->sub = vlen == 0;
  return 0;
}

/* An indented "key = value" below "parent =": stored as "parent.key". */
static int parse_sub_pair(struct parser *ps, const char *s, size_t len) {
  const char *key, *value;
  size_t klen, vlen, ignored;
  if (split_pair(s, len, &key, &klen, &value, &vlen) != 0)
    return malformed(ps, "expected 'key = value' in an indented sub-section");
  struct mu_buf full = MU_BUF_INIT;
  const char *parent = ps->ini->secs[ps->sec].pairs[ps->last].key;
  if (mu_buf_printf(&full, "%s.%.*s", parent, (int)klen, key) != 0)
    return nomem();
  int rc = set_pair(ps, full.p, full.len, value, vlen, &ignored);
  mu_buf_free(&full);
  return rc;
}

/* An indented line continuing the last pair's value: appended after "\n". */
static int parse_continuation(struct parser *ps, const char *s, size_t len) {
  if (ps->sub)
    return parse_sub_pair(ps, s, len);
  char **value = &ps->ini->secs[ps->sec].pairs[ps->last].value;
  size_t old = strlen(*value);
  char *v = malloc(old + len + 2);
  if (!v)
    return nomem();
  memcpy(v, *value, old);
  v[old] = '\n';
  memcpy(v + old + 1, s, len);
  v[old + 1 + len] = '\0';
  free_secret(*value);
  *value = v;
  return 0;
}

/* One line, without its '\n'. */
static int parse_line(struct parser *ps, const char *s, size_t len) {
  size_t indent = 0;
  while (indent < len && (s[indent] == ' ' || s[indent] == '\t'))
    indent++;
  trim(&s, &len);
  if (len == 0) {
    ps->last = NONE;
    return 0;
  }
  if (*s == '#' || *s == ';')
    return 0;
  if (indent && ps->last != NONE)
    return parse_continuation(ps, s, len);
  ps->last = NONE;
  if (*s == '[')
    return parse_header(ps, s, len);
  return parse_pair(ps, s, len);
}

int mu_ini_parse(const char *text, const char *name, struct mu_ini **out) {
  *out = NULL;
  struct mu_ini *ini = calloc(1, sizeof *ini);
  if (!ini)
    return nomem();
  struct parser ps = {ini, name, 0, NONE, NONE, 0};
  const char *p = text;
  if (strncmp(p, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 byte order mark */
    p += 3;
  int rc = 0;
  while (rc == 0 && *p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    ps.line++;
    rc = parse_line(&ps, p, len);
    p += len + (nl ? 1 : 0);
  }
  if (rc != 0) {
    mu_ini_free(ini);
    return rc;
  }
  *out = ini;
  return 0;
}

/* Fail for path with errno's text. */
static int read_failed(const char *path, const char *what, int err) {
  char eb[128];
  return mu_fail(MMAPURL_E_CREDENTIALS_FILE, "%s: cannot %s: %s", path, what,
                 strerror_r(err, eb, sizeof eb));
}

/* Read the open file fd into buf (INI_MAX_BYTES + 2 bytes) as a string;
 * *got counts the bytes read, failure included. One buffer, never
 * reallocated, so no stray copy of a secret is left behind. */
static int read_all(int fd, const char *path, char *buf, size_t *got) {
  size_t len = 0;
  while (len <= INI_MAX_BYTES) {
    ssize_t n = read(fd, buf + len, INI_MAX_BYTES + 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return read_failed(path, "read", errno);
    if (n == 0)
      break;
    len += (size_t)n;
    *got = len;
  }
  if (len > INI_MAX_BYTES)
    return mu_fail(MMAPURL_E_CREDENTIALS_FILE, "%s: larger than 1 MiB: not an AWS config file", path);
  if (memchr(buf, '\0', len))
    return mu_fail(MMAPURL_E_CREDENTIALS_FILE, "%s: contains a NUL byte: not an AWS config file", path);
  buf[len] = '\0';
  return 0;
}

int mu_ini_load(const char *path, struct mu_ini **out) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
    return 0;
  if (fd < 0)
    return read_failed(path, "open", errno);
  char *buf = malloc(INI_MAX_BYTES + 2);
  size_t got = 0;
  int rc = buf ? read_all(fd, path, buf, &got) : nomem();
  close(fd);
  if (rc == 0)
    rc = mu_ini_parse(buf, path, out);
  if (buf)
    explicit_bzero(buf, got);
  free(buf);
  return rc;
}

const char *mu_ini_get(const struct mu_ini *ini, const char *section, const char *key) {
  if (!ini || !section || !key)
    return NULL;
  size_t s = find_section(ini, section, strlen(section));
  if (s == NONE)
    return NULL;
  size_t k = find_pair(&ini->secs[s], key, strlen(key));
  return k == NONE ? NULL : ini->secs[s].pairs[k].value;
}

int mu_ini_has_section(const struct mu_ini *ini, const char *section) {
  return ini && section && find_section(ini, section, strlen(section)) != NONE;
}

void mu_ini_free(struct mu_ini *ini) {
  if (!ini)
    return;
  for (size_t i = 0; i < ini->n; i++) {
    struct ini_section *sec = &ini->secs[i];
    for (size_t j = 0; j < sec->n; j++) {
      free(sec->pairs[j].key);
      free_secret(sec->pairs[j].value);
    }
    free(sec->pairs);
    free(sec->name);
  }
  free(ini->secs);
  free(ini);
}
