/*
 * headers.h - parsing of HTTP response header lines into a response:
 * status line, Content-Range, Content-Length, ETag, Last-Modified,
 * x-amz-bucket-region, x-amz-request-id. Pure functions on bytes that come
 * from the network: strict, bounded, never trusting a length or a number.
 */
#ifndef MU_HEADERS_H
#define MU_HEADERS_H

#include <stddef.h>
#include <stdint.h>

struct mu_http_response;

/* One header line as libcurl hands it (n bytes, not NUL-terminated, CRLF
 * included or not). A status line ("HTTP/1.1 206 ...") resets the fields a
 * previous response (100 Continue, a redirect) may have set. A line with a
 * NUL byte is ignored. Returns 1 for the blank line that ends the headers
 * ("\r\n" or "\n"), else 0. */
int mu_http_parse_header(const char *line, size_t n, struct mu_http_response *rs);

/* A Content-Range value: "bytes FIRST-LAST/TOTAL" (first <= last < total)
 * sets *has_range, *first, *last and *total; "bytes *\/TOTAL", and
 * "bytes 0-0/0" (s3rver's answer for an empty object), set *total only.
 * Returns 0, or -1 for anything else (nothing set). */
int mu_http_parse_content_range(const char *v, int *has_range, uint64_t *first, uint64_t *last,
                                uint64_t *total);

/* A decimal number of 1..20 digits that fits in 64 bits, stopping at the
 * first non-digit: returns the bytes used, or 0 (nothing set). */
size_t mu_parse_u64(const char *s, size_t n, uint64_t *out);

#endif
