/*
 * http.h - the HTTP transport: libcurl easy handles that share one
 * connection cache, DNS cache and TLS session cache (a CURLSH), so any number
 * of threads can run requests at once over a bounded keep-alive pool.
 * One request in, one response out: no retries (retry.h decides), no S3
 * knowledge, no signing. Ranged bodies land directly in the caller's buffer;
 * a server that ignores Range never makes us buffer more than was asked.
 * TLS peer verification is never turned off.
 */
#ifndef MU_HTTP_H
#define MU_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct mu_http;

struct mu_http_opts {
  long connect_timeout_ms; /* TCP + TLS handshake */
  long stall_timeout_ms;   /* abort when no byte arrives for this long */
  int max_connections;     /* keep-alive connections kept in the pool */
  const char *ca_bundle;   /* CA file, or NULL for the system's */
};

/* Create a transport; the first one loads libcurl (util/libs.h). 0 or
 * MMAPURL_E_NOMEM / MMAPURL_E_INTERNAL / MMAPURL_E_LIBRARY. */
int mu_http_create(const struct mu_http_opts *opts, struct mu_http **out);
void mu_http_destroy(struct mu_http *h);

#define MU_HTTP_ERRBODY_MAX 4096

struct mu_http_response;

struct mu_http_request {
  const char *method;           /* "GET" */
  const char *url;              /* absolute, already encoded */
  const char *const *headers;   /* "Name: value" lines, nheaders of them */
  size_t nheaders;
  int ranged;                   /* 1: send Range: bytes=off-(off+len-1) */
  uint64_t range_off;
  size_t range_len;             /* > 0 when ranged */
  void *dst;                    /* ranged: range_len bytes for the body */
  /* Not ranged: the body (up to body_cap bytes) is kept in dst; more than
   * that aborts the transfer (sets too_large). Used for listings. */
  size_t body_cap;
  /* Optional, ranged requests: each piece of a 2xx body goes to on_body
   * on the transfer's thread, as it arrives, instead of into dst (unused
   * then): `data` is valid during the call only; rs is the response so far
   * (its headers complete; rs->received counts the pieces, this one in).
   * It returns 0, or an MMAPURL_E_* code to stop the transfer with:
   * mu_http_perform then returns that code and sets rs->stopped. */
  int (*on_body)(void *ctx, const struct mu_http_response *rs, const char *data, size_t n);
  void *on_body_ctx;
};

struct mu_http_response {
  long status;                  /* 0 if no response */
  size_t received;              /* body bytes stored in dst */
  int ignored_range;            /* 200 to a ranged request (we took our
                                   bytes and dropped the connection) */
  int too_large;                /* unranged body exceeded body_cap */
  int stopped;                  /* on_body stopped the transfer */
  int has_range;                /* Content-Range "bytes first-last/total" */
  uint64_t range_first, range_last;
  int has_total;                /* total size known (Content-Range or 200's length) */
  uint64_t total;
  char etag[256];
  char last_modified[64];
  char bucket_region[64];       /* x-amz-bucket-region */
  char request_id[128];         /* x-amz-request-id */
  char errbody[MU_HTTP_ERRBODY_MAX + 1]; /* body of a non-2xx answer, truncated */
  size_t errbody_len;
  int curl_code;                /* CURLcode of the transfer */
  char curl_error[256];         /* curl's message, may be "" */
};

/*
 * Perform one request. Returns 0 when a complete HTTP response arrived
 * (whatever its status; a ranged 2xx body is complete when received ==
 * range_len), else MMAPURL_E_NETWORK (connection refused/reset, short body),
 * MMAPURL_E_TIMEOUT (connect or stall), MMAPURL_E_TLS, MMAPURL_E_NOMEM.
 * Counts requests and bytes in stats.
 */
int mu_http_perform(struct mu_http *h, const struct mu_http_request *rq,
                    struct mu_http_response *rs);

/* The Range header value for [off, off+len): "bytes=off-(off+len-1)".
 * Signers use it so they sign exactly what is sent. */
void mu_http_range_value(char out[64], uint64_t off, size_t len);

#endif
