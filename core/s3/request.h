/*
 * request.h - one logical GET to S3 or a plain HTTP(S) URL: SigV4-signed
 * (unless anonymous or a plain URL), sent, and retried with backoff on
 * transient failures (AWS_MAX_ATTEMPTS). Maps final failures to
 * MMAPURL_E_* codes with a detail. Knows nothing of objects' sizes.
 */
#ifndef MU_REQUEST_H
#define MU_REQUEST_H

#include <stddef.h>
#include <stdint.h>

struct mu_http_response;

struct mu_s3_target {
  int sign;             /* 1: S3 request, signed with the client's credentials */
  const char *url;      /* full URL (without query) */
  const char *host;     /* Host header value (S3 only) */
  const char *path;     /* encoded path, as signed (S3 only) */
  const char *query;    /* query string without '?', or NULL */
  const char *region;   /* signing region (S3 only) */
  const char *what;     /* how errors name it: "s3://bucket/key" or the URL */
};

struct mu_s3_get {
  const struct mu_s3_target *t;
  int ranged;
  uint64_t off;
  size_t len;
  void *dst;            /* ranged: len bytes; else body_cap bytes */
  size_t body_cap;
  const char *if_match; /* ETag to require, or NULL */
  const char *if_unmodified_since; /* Last-Modified to require, or NULL */
  /* Optional, ranged: mu_http_request's on_body (dst unused), for every
   * attempt. */
  int (*on_body)(void *ctx, const struct mu_http_response *rs, const char *data, size_t n);
  void *on_body_ctx;
};

/*
 * Perform g, retrying transient failures. Returns 0 when the answer is 2xx
 * or 416 (rs holds it; the caller checks ranges), else an MMAPURL_E_* code
 * with the detail set. When S3 says the bucket lives in another region
 * (301/400 with x-amz-bucket-region or <Region>), returns
 * MMAPURL_E_WRONG_REGION and copies the region to redirect_region (if not
 * NULL) so the caller can re-address and try once more.
 */
int mu_s3_get(const struct mu_s3_get *g, struct mu_http_response *rs, char redirect_region[64]);

#endif
