/*
 * url.c - parsing and encoding of the URLs users give (s3://bucket/key,
 * http(s)://...). Pure string work: never does I/O or reads configuration.
 */
#include "util/url.h"

#include "mmapurl.h"
#include "util/buf.h"

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
