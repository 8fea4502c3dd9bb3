/*
 * buf.c - growable NUL-terminated byte buffer.
 * Must never leave a buffer half-appended: on allocation failure the
 * contents stay as they were.
 */
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmapurl.h"

static int buf_reserve(struct mu_buf *b, size_t extra) {
  if (extra > (size_t)-1 - b->len - 1)
    return MMAPURL_E_NOMEM;
  size_t need = b->len + extra + 1;
  if (need <= b->cap)
    return 0;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap = cap > (size_t)-1 / 2 ? need : cap * 2;
  char *p = realloc(b->p, cap);
  if (!p)
    return MMAPURL_E_NOMEM;
  b->p = p;
  b->cap = cap;
  return 0;
}

int mu_buf_append(struct mu_buf *b, const void *data, size_t n) {
  if (buf_reserve(b, n) != 0)
    return MMAPURL_E_NOMEM;
  if (n)
    memcpy(b->p + b->len, data, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

int mu_buf_puts(struct mu_buf *b, const char *s) { return mu_buf_append(b, s, strlen(s)); }

int mu_buf_putc(struct mu_buf *b, char c) { return mu_buf_append(b, &c, 1); }

int mu_buf_vprintf(struct mu_buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0 || buf_reserve(b, (size_t)n) != 0)
    return MMAPURL_E_NOMEM;
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return 0;
}

int mu_buf_printf(struct mu_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = mu_buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

void mu_buf_reset(struct mu_buf *b) {
  b->len = 0;
  if (b->p)
    b->p[0] = '\0';
}

char *mu_buf_steal(struct mu_buf *b) {
  char *p = b->p ? b->p : strdup("");
  b->p = NULL;
  b->len = b->cap = 0;
  return p;
}

void mu_buf_free(struct mu_buf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

void mu_buf_free_secure(struct mu_buf *b) {
  if (b->p)
    explicit_bzero(b->p, b->cap);
  mu_buf_free(b);
}
