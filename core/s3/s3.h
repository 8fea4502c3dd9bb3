/*
 * s3.h - S3 (and plain HTTP) objects over the transport: endpoint and
 * addressing, signed ranged GETs, the one-request open (size + ETag + first
 * block), If-Match on every later read, error mapping, one redirect to the
 * bucket's region, and retries with backoff. Knows nothing of pages or
 * mappings.
 */
#ifndef MU_S3_H
#define MU_S3_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct mu_s3_object {
  /* Immutable after mu_s3_open returns; safe to read from any thread. */
  int is_s3;            /* 0: plain http(s) URL, unsigned */
  char *bucket, *key;   /* S3 only */
  uint64_t size;
  char etag[256];       /* "" when the server sent none (then no If-Match) */
  time_t last_modified; /* 0 when unknown */
  char last_modified_raw[64]; /* the header as sent ("" if none): later reads
                                 send it as If-Unmodified-Since when there is
                                 no strong ETag, and compare it */
  void *head;           /* owned: the first min(size, head_len) bytes */
  size_t head_len;
  /* Request target. region/url change only during open (redirect). */
  char *region;
  char *url;            /* full URL of the object */
  char *host;           /* Host header value */
  char *path;           /* encoded request path, for signing */
};

/* Open url, fetching its first `first_block` bytes (>= 1) in the same request.
 * Returns 0 or an MMAPURL_E_* code (detail set). */
int mu_s3_open(const char *url, size_t first_block, struct mu_s3_object **out);
/* Read [off, off+len) into buf with If-Match, retrying transient failures.
 * The range must lie inside the object (else MMAPURL_E_RANGE). */
int mu_s3_read(struct mu_s3_object *o, void *buf, size_t len, uint64_t off);
/* mu_s3_read, handing the bytes to put(ctx, data, n, at) on this thread as
 * they arrive instead of storing them (at: their offset from off; data
 * valid during the call only), once the answer's headers say it is the
 * version that was opened. A retried attempt starts again from at = 0 with
 * the same bytes. put returns 0, or a code (not a retryable one) to stop
 * the read with: it returns that code. Else the result still decides: a
 * later failure returns an error code, whatever was handed over. */
int mu_s3_read_to(struct mu_s3_object *o, size_t len, uint64_t off,
                  int (*put)(void *ctx, const void *data, size_t n, size_t at), void *ctx);
void mu_s3_close(struct mu_s3_object *o);

/* For tests: the endpoint URL prefix and path for bucket/key as the current
 * configuration addresses them ("https://b.s3.us-east-1.amazonaws.com", "/k"
 * or "http://127.0.0.1:4568", "/b/k"). Caller frees *base and *path. */
int mu_s3_address(const char *endpoint, const char *region, int addressing,
                  const char *bucket, const char *key, char **base, char **host,
                  char **path);

#endif
