/*
 * buf.h - growable byte buffer (always NUL-terminated) for building strings:
 * URLs, canonical requests, headers, messages.
 * Never holds secrets longer than needed: mu_buf_free_secure wipes before free.
 */
#ifndef MU_BUF_H
#define MU_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct mu_buf {
  char *p;    /* owned; NUL-terminated when non-NULL */
  size_t len; /* bytes used, excluding the NUL */
  size_t cap; /* bytes allocated */
};

#define MU_BUF_INIT {NULL, 0, 0}

/* Each append returns 0, or MMAPURL_E_NOMEM leaving the buffer unchanged. */
int mu_buf_append(struct mu_buf *b, const void *data, size_t n);
int mu_buf_puts(struct mu_buf *b, const char *s);
int mu_buf_putc(struct mu_buf *b, char c);
int mu_buf_printf(struct mu_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int mu_buf_vprintf(struct mu_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Empty the buffer, keeping its memory. */
void mu_buf_reset(struct mu_buf *b);
/* Give the string to the caller (never NULL: "" for an empty buffer, or NULL
 * on allocation failure); the buffer is left empty. */
char *mu_buf_steal(struct mu_buf *b);
void mu_buf_free(struct mu_buf *b);
/* Zero the memory, then free: for buffers that held key material. */
void mu_buf_free_secure(struct mu_buf *b);

#endif
