/*
 * s3.c - objects: addressing (endpoint, path/virtual style), the
 * one-request open (size, ETag, Last-Modified and the first block from one
 * ranged GET), and reads with If-Match. Must never return bytes of two
 * versions of an object, never buffer more than the range asked for, and
 * never read past the size the open established.
 */
#include "s3/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http.h"
#include "s3/client.h"
#include "s3/request.h"
#include "util/buf.h"
#include "util/config.h"
#include "util/error.h"
#include "util/libs.h"
#include "util/log.h"
#include "util/stats.h"
#include "util/url.h"

/* Split "scheme://hostport/base" into its parts (base may be ""). */
static int split_endpoint(const char *ep, char scheme[8], char hostport[256], const char **base) {
  const char *p = strstr(ep, "://");
  if (!p || (size_t)(p - ep) >= 8)
    return mu_fail(MMAPURL_E_CONFIG, "endpoint \"%s\" is not an http:// or https:// URL", ep);
  memcpy(scheme, ep, (size_t)(p - ep));
  scheme[p - ep] = '\0';
  p += 3;
  size_t n = strcspn(p, "/");
  if (n == 0 || n >= 256)
    return mu_fail(MMAPURL_E_CONFIG, "endpoint \"%s\" has no host", ep);
  memcpy(hostport, p, n);
  hostport[n] = '\0';
  *base = p + n;
  return 0;
}

static int virtual_style(const char *endpoint, int addressing, const char *bucket) {
  if (addressing == MU_ADDR_PATH)
    return 0;
  if (addressing == MU_ADDR_VIRTUAL)
    return 1;
  return endpoint == NULL && mu_bucket_dns_compatible(bucket);
}

int mu_s3_address(const char *endpoint, const char *region, int addressing, const char *bucket,
                  const char *key, char **base_out, char **host_out, char **path_out) {
  char scheme[8], hostport[256], aws[256];
  const char *base = "";
  if (!endpoint)
    snprintf(aws, sizeof aws, "https://s3.%s.amazonaws.com", region);
  MU_TRY(split_endpoint(endpoint ? endpoint : aws, scheme, hostport, &base));
  int virt = virtual_style(endpoint, addressing, bucket);
  struct mu_buf host = MU_BUF_INIT, path = MU_BUF_INIT, url = MU_BUF_INIT;
  int rc = virt ? mu_buf_printf(&host, "%s.%s", bucket, hostport) : mu_buf_puts(&host, hostport);
  rc = rc ? rc : mu_buf_printf(&path, "%s/", base);
  rc = rc || virt ? rc : mu_buf_printf(&path, "%s/", bucket);
  rc = rc ? rc : mu_uri_encode(&path, key, 1);
  rc = rc ? rc : mu_buf_printf(&url, "%s://%s", scheme, host.p);
  if (rc) {
    mu_buf_free(&host), mu_buf_free(&path), mu_buf_free(&url);
    return rc;
  }
  *base_out = mu_buf_steal(&url);
  *host_out = mu_buf_steal(&host);
  *path_out = mu_buf_steal(&path);
  return 0;
}

/* (Re)compute url/host/path of an S3 object for region. */
static int object_address(struct mu_s3_object *o, const struct mu_config *cfg, const char *region) {
  char *base, *host, *path;
  MU_TRY(mu_s3_address(cfg->endpoint_url, region, (int)cfg->addressing, o->bucket, o->key, &base,
                       &host, &path));
  struct mu_buf url = MU_BUF_INIT;
  int rc = mu_buf_printf(&url, "%s%s", base, path);
  free(base);
  char *r = strdup(region);
  if (rc || !r) {
    free(host), free(path), free(r), mu_buf_free(&url);
    return MMAPURL_E_NOMEM;
  }
  free(o->url), free(o->host), free(o->path), free(o->region);
  o->url = mu_buf_steal(&url), o->host = host, o->path = path, o->region = r;
  return 0;
}

static void target_of(const struct mu_s3_object *o, struct mu_s3_target *t, const char *what) {
  *t = (struct mu_s3_target){.sign = o->is_s3, .url = o->url, .host = o->host,
                             .path = o->path, .region = o->region, .what = what};
}

static void describe(const struct mu_s3_object *o, char *what, size_t cap) {
  if (o->is_s3)
    snprintf(what, cap, "s3://%s/%s", o->bucket, o->key);
  else
    mu_url_for_log(o->url, what, cap);
}

/* Turn a parsed URL into an unopened object. */
static int object_new(const char *url, struct mu_s3_object **out) {
  struct mu_url u;
  MU_TRY(mu_url_parse(url, &u));
  struct mu_s3_object *o = calloc(1, sizeof *o);
  if (!o) {
    mu_url_free(&u);
    return MMAPURL_E_NOMEM;
  }
  o->is_s3 = u.kind == MU_URL_S3;
  o->bucket = u.bucket, o->key = u.key, o->url = u.http;
  *out = o;
  return 0;
}

/* A strong ETag can be required with If-Match; a weak one ("W/...") never
 * matches If-Match (RFC 9110), so it is only compared. */
static int strong_etag(const char *etag) { return etag[0] && strncmp(etag, "W/", 2) != 0; }

/* Fill size, ETag and Last-Modified from the open's response. */
static int take_metadata(struct mu_s3_object *o, const struct mu_http_response *rs,
                         const char *what) {
  if (rs->status == 416) {
    if (rs->has_total && rs->total != 0)
      return mu_fail(MMAPURL_E_PROTOCOL, "GET %s: 416 for the first block of a non-empty object",
                     what);
    o->size = 0;
  } else if (rs->has_total) {
    o->size = rs->total;
  } else {
    return mu_fail(MMAPURL_E_PROTOCOL, "GET %s: response tells no size (no Content-Range)", what);
  }
  snprintf(o->etag, sizeof o->etag, "%s", rs->etag);
  snprintf(o->last_modified_raw, sizeof o->last_modified_raw, "%s", rs->last_modified);
  if (!o->etag[0] && !o->last_modified_raw[0] && o->size > rs->received)
    MU_WARN("%s: the server sends neither ETag nor Last-Modified: if the object is replaced "
            "while open, mmapurl cannot tell (only a size change is caught)", what);
  if (rs->last_modified[0]) {
    const struct mu_curl *curl; /* loaded: the response came through it */
    MU_TRY(mu_libs_curl(&curl));
    time_t t = curl->getdate(rs->last_modified, NULL);
    o->last_modified = t > 0 ? t : 0;
  }
  return 0;
}

/* The first request: ranged GET of the first block, following one region
 * redirect for S3. */
static int first_get(struct mu_s3_object *o, const struct mu_config *cfg, size_t first_block,
                     struct mu_http_response *rs, const char *what) {
  struct mu_s3_target t;
  char redirect[64] = "";
  for (int tries = 0;; tries++) {
    target_of(o, &t, what);
    struct mu_s3_get g = {.t = &t, .ranged = 1, .off = 0, .len = first_block, .dst = o->head};
    int rc = mu_s3_get(&g, rs, redirect);
    if (rc != MMAPURL_E_WRONG_REGION || !o->is_s3 || tries > 0 || !redirect[0] ||
        !strcmp(redirect, o->region))
      return rc;
    MU_INFO("%s: bucket is in region %s, not %s: retrying there", what, redirect, o->region);
    MU_TRY(object_address(o, cfg, redirect));
  }
}

static int open_object(struct mu_s3_object *o, size_t first_block, const char *what) {
  const struct mu_client *c;
  MU_TRY(mu_client_get(&c));
  if (o->is_s3) {
    const struct mu_creds *cr;
    const char *region;
    MU_TRY(mu_client_creds(&cr, &region));
    MU_TRY(object_address(o, c->cfg, region));
  }
  if (!(o->head = malloc(first_block)))
    return MMAPURL_E_NOMEM;
  struct mu_http_response *rs = malloc(sizeof *rs);
  if (!rs)
    return MMAPURL_E_NOMEM;
  int rc = first_get(o, c->cfg, first_block, rs, what);
  rc = rc ? rc : take_metadata(o, rs, what);
  if (rc == 0) {
    o->head_len = rs->status == 416 ? 0 : rs->received;
    if (o->head_len != (o->size < first_block ? o->size : first_block))
      rc = mu_fail(MMAPURL_E_PROTOCOL, "GET %s: first block has %zu bytes, expected %llu", what,
                   o->head_len, (unsigned long long)(o->size < first_block ? o->size : first_block));
  }
  free(rs);
  return rc;
}

int mu_s3_open(const char *url, size_t first_block, struct mu_s3_object **out) {
  *out = NULL;
  if (!url || first_block == 0)
    return mu_fail(MMAPURL_E_INVALID_ARG, "mu_s3_open: NULL URL or zero first block");
  struct mu_s3_object *o;
  MU_TRY(object_new(url, &o));
  char what[1024];
  describe(o, what, sizeof what);
  int rc = open_object(o, first_block, what);
  if (rc) {
    mu_s3_close(o);
    return rc;
  }
  MU_DEBUG("opened %s: %llu bytes, ETag %s", what, (unsigned long long)o->size, o->etag);
  *out = o;
  return 0;
}

/* Which header of an answer says it is not the version that was opened:
 * 0 none, 1 the size, 2 the ETag, 3 Last-Modified. */
static int other_version(const struct mu_s3_object *o, const struct mu_http_response *rs) {
  if (rs->status == 416 || (rs->has_total && rs->total != o->size))
    return 1;
  if (o->etag[0] && rs->etag[0] && strcmp(o->etag, rs->etag) != 0)
    return 2;
  if (o->last_modified_raw[0] && rs->last_modified[0] &&
      strcmp(o->last_modified_raw, rs->last_modified) != 0)
    return 3;
  return 0;
}

/* Check an answer's headers: the version that was opened. */
static int check_version(const struct mu_s3_object *o, const struct mu_http_response *rs,
                         const char *what) {
  switch (other_version(o, rs)) {
  case 1:
    return mu_fail(MMAPURL_E_OBJECT_CHANGED, "GET %s: size changed from %llu while open", what,
                   (unsigned long long)o->size);
  case 2:
    return mu_fail(MMAPURL_E_OBJECT_CHANGED, "GET %s: ETag changed from %s to %s while open",
                   what, o->etag, rs->etag);
  case 3:
    return mu_fail(MMAPURL_E_OBJECT_CHANGED, "GET %s: Last-Modified changed from %s to %s",
                   what, o->last_modified_raw, rs->last_modified);
  default:
    return 0;
  }
}

/* Check a read's response: our range, our version, every byte. */
static int check_read(const struct mu_s3_object *o, const struct mu_http_response *rs,
                      size_t len, const char *what) {
  MU_TRY(check_version(o, rs, what));
  if (rs->received != len)
    return mu_fail(MMAPURL_E_PROTOCOL, "GET %s: got %zu bytes of %zu", what, rs->received, len);
  return 0;
}

/* A read's body as it arrives (mu_http_request.on_body): handed to the
 * caller once the answer's headers are known to be of the opened version.
 * A 2xx answer of another version is never handed over, whatever it holds. */
struct delivery {
  const struct mu_s3_object *o;
  int (*put)(void *ctx, const void *data, size_t n, size_t at);
  void *ctx;
};

static int on_piece(void *ctx, const struct mu_http_response *rs, const char *data, size_t n) {
  const struct delivery *d = ctx;
  if (rs->status >= 200 && rs->status <= 299 && other_version(d->o, rs) == 0)
    return d->put(d->ctx, data, n, rs->received - n);
  return 0;
}

/* mu_s3_read into buf, or through d (buf unused). */
static int read_range(struct mu_s3_object *o, void *buf, size_t len, uint64_t off,
                      struct delivery *d) {
  if (len == 0)
    return 0;
  if (off > o->size || len > o->size - off)
    return mu_fail(MMAPURL_E_RANGE, "read of %zu bytes at %llu past the end (%llu bytes)", len,
                   (unsigned long long)off, (unsigned long long)o->size);
  if (off + len <= o->head_len) {
    if (d)
      return d->put(d->ctx, (char *)o->head + off, len, 0);
    memcpy(buf, (char *)o->head + off, len);
    return 0;
  }
  char what[1024];
  describe(o, what, sizeof what);
  struct mu_s3_target t;
  target_of(o, &t, what);
  int strong = strong_etag(o->etag);
  struct mu_s3_get g = {
      .t = &t, .ranged = 1, .off = off, .len = len, .dst = buf,
      .if_match = strong ? o->etag : NULL,
      .if_unmodified_since = !strong && o->last_modified_raw[0] ? o->last_modified_raw : NULL,
      .on_body = d ? on_piece : NULL, .on_body_ctx = d};
  struct mu_http_response *rs = malloc(sizeof *rs);
  if (!rs)
    return MMAPURL_E_NOMEM;
  int rc = mu_s3_get(&g, rs, NULL);
  rc = rc ? rc : check_read(o, rs, len, what);
  free(rs);
  return rc;
}

int mu_s3_read(struct mu_s3_object *o, void *buf, size_t len, uint64_t off) {
  return read_range(o, buf, len, off, NULL);
}

int mu_s3_read_to(struct mu_s3_object *o, size_t len, uint64_t off,
                  int (*put)(void *ctx, const void *data, size_t n, size_t at), void *ctx) {
  struct delivery d = {.o = o, .put = put, .ctx = ctx};
  return read_range(o, NULL, len, off, &d);
}

void mu_s3_close(struct mu_s3_object *o) {
  if (!o)
    return;
  free(o->bucket), free(o->key), free(o->head);
  free(o->region), free(o->url), free(o->host), free(o->path);
  free(o);
}
