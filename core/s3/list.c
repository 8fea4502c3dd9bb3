/*
 * list.c - S3 listings: ListObjectsV2 (GET /bucket/?list-type=2&...) page
 * after page, and ListBuckets (GET /), sent through request.c (signed,
 * retried, errors mapped) and parsed by listxml.c. Must never send a query
 * other than the one it signs, never follow more than one region redirect
 * per request, never keep more than LIST_BODY_MAX bytes of an answer, and
 * never loop on a continuation token the server gives back unchanged.
 */
#include "s3/list.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "http/http.h"
#include "s3/client.h"
#include "s3/request.h"
#include "s3/s3.h"
#include "util/buf.h"
#include "util/config.h"
#include "util/error.h"
#include "util/log.h"
#include "util/url.h"

/* The largest answer taken. A page of 1000 keys of 1024 bytes, every byte
 * %-encoded, is about 3 MiB of names plus 0.3 MiB of markup. The buffer is
 * allocated once per listing at this size: the kernel backs only the pages
 * an answer touches. */
#define LIST_BODY_MAX ((size_t)16 << 20)

/* One listing's requests: where they go, and where answers land. */
struct lister {
  const struct mu_config *cfg;
  const char *bucket;            /* NULL: ListBuckets */
  char *region, *base, *host, *path; /* owned; path is encoded, as signed */
  char what[1200];               /* how errors and logs name the listing */
  char *body;                    /* owned: LIST_BODY_MAX bytes */
  struct mu_http_response *rs;   /* owned */
};

/* (Re)address the listing for region: the bucket's root ("/bucket/", or
 * "/" on the bucket's virtual host), or for ListBuckets the service root.
 * mu_s3_address with an empty bucket, path-style, gives "<base>//"; the
 * service root is that without its last '/'. */
static int lister_address(struct lister *l, const char *region) {
  int svc = l->bucket == NULL;
  int addressing = svc ? MU_ADDR_PATH : (int)l->cfg->addressing;
  char *base, *host, *path, *r = strdup(region);
  if (!r)
    return MMAPURL_E_NOMEM;
  int rc = mu_s3_address(l->cfg->endpoint_url, region, addressing, svc ? "" : l->bucket, "",
                         &base, &host, &path);
  if (rc) {
    free(r);
    return rc;
  }
  if (svc)
    path[strlen(path) - 1] = '\0';
  free(l->region), free(l->base), free(l->host), free(l->path);
  l->region = r, l->base = base, l->host = host, l->path = path;
  return 0;
}

static void lister_close(struct lister *l) {
  free(l->region), free(l->base), free(l->host), free(l->path);
  if (l->body)
    munmap(l->body, LIST_BODY_MAX);
  free(l->rs);
}

/* Client, credentials, region, address and buffers. On failure the caller
 * still calls lister_close. */
static int lister_open(struct lister *l, const char *bucket, const char *prefix) {
  const struct mu_client *c;
  const struct mu_creds *cr;
  const char *region;
  memset(l, 0, sizeof *l);
  l->bucket = bucket;
  if (bucket)
    snprintf(l->what, sizeof l->what, "s3://%s/%s (listing)", bucket, prefix);
  else
    snprintf(l->what, sizeof l->what, "s3:// (list of buckets)");
  MU_TRY(mu_client_get(&c));
  MU_TRY(mu_client_creds(&cr, &region));
  l->cfg = c->cfg;
  /* Mapped, not malloc'ed: only the pages an answer fills are ever touched,
   * and all of them go back to the system at the end (malloc would move its
   * mmap threshold up and keep such buffers on the heap). */
  l->body = mmap(NULL, LIST_BODY_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (l->body == MAP_FAILED)
    l->body = NULL;
  l->rs = malloc(sizeof *l->rs);
  if (!l->body || !l->rs)
    return MMAPURL_E_NOMEM;
  return lister_address(l, region);
}

/* A 2xx answer to a listing must be a whole 200. */
static int check_answer(const struct lister *l, size_t *len) {
  if (l->rs->too_large)
    return mu_fail(MMAPURL_E_PROTOCOL, "GET %s: answer larger than %zu MiB", l->what,
                   LIST_BODY_MAX >> 20);
  if (l->rs->status != 200)
    return mu_fail(MMAPURL_E_PROTOCOL, "GET %s: HTTP %ld to a listing", l->what,
                   l->rs->status);
  *len = l->rs->received;
  return 0;
}

/* GET path?query into l->body, following one region redirect. */
static int get_answer(struct lister *l, const char *query, size_t *len) {
  char redirect[64] = "";
  for (int tries = 0;; tries++) {
    struct mu_buf url = MU_BUF_INIT;
    MU_TRY(mu_buf_printf(&url, "%s%s%s%s", l->base, l->path, *query ? "?" : "", query));
    struct mu_s3_target t = {.sign = 1, .url = url.p, .host = l->host, .path = l->path,
                             .query = *query ? query : NULL, .region = l->region,
                             .what = l->what};
    struct mu_s3_get g = {.t = &t, .dst = l->body, .body_cap = LIST_BODY_MAX};
    int rc = mu_s3_get(&g, l->rs, redirect);
    mu_buf_free(&url);
    if (rc != MMAPURL_E_WRONG_REGION || tries > 0 || !redirect[0] ||
        !strcmp(redirect, l->region))
      return rc ? rc : check_answer(l, len);
    MU_INFO("%s: bucket is in region %s, not %s: retrying there", l->what, redirect, l->region);
    MU_TRY(lister_address(l, redirect));
  }
}

/* Parse an answer; a malformed one's detail names the listing. */
static int parse_answer(const struct lister *l, size_t len, struct mu_s3_listing *out,
                        int *truncated, char **next) {
  int rc = mu_s3_list_parse(l->body, len, out, truncated, next);
  if (rc == MMAPURL_E_PROTOCOL) {
    char why[512];
    snprintf(why, sizeof why, "%s", mu_err_detail());
    rc = mu_fail(rc, "GET %s: %s", l->what, why);
  }
  return rc;
}

/* Append "name=value" (value SigV4-encoded) to the query. */
static int add_param(struct mu_buf *q, const char *name, const char *value) {
  MU_TRY(mu_buf_printf(q, "%s%s=", q->len ? "&" : "", name));
  return mu_uri_encode(q, value, 0);
}

struct list_args {
  const char *prefix, *delimiter; /* "" when none */
  size_t max_entries, page_keys;
};

/* The query of one page. Names in the canonical order and values encoded
 * as SigV4 encodes them, so it is byte for byte the canonical query that
 * sigv4.c derives from it: what is sent is what is signed. */
static int page_query(struct mu_buf *q, const struct list_args *a, size_t max_keys,
                      const char *token) {
  char keys[24];
  snprintf(keys, sizeof keys, "%zu", max_keys);
  int rc = mu_buf_puts(q, "");
  rc = rc || !token ? rc : add_param(q, "continuation-token", token);
  rc = rc || !*a->delimiter ? rc : add_param(q, "delimiter", a->delimiter);
  rc = rc ? rc : add_param(q, "encoding-type", "url");
  rc = rc ? rc : add_param(q, "list-type", "2");
  rc = rc || !max_keys ? rc : add_param(q, "max-keys", keys);
  rc = rc || !*a->prefix ? rc : add_param(q, "prefix", a->prefix);
  return rc;
}

/* One page: ask for what is still wanted, parse, and say whether to go on
 * (*token becomes the next page's token). */
static int list_page(struct lister *l, const struct list_args *a, char **token,
                     struct mu_s3_listing *out, int *more) {
  size_t keys = a->page_keys, len = 0;
  if (a->max_entries && (!keys || keys > a->max_entries - out->n))
    keys = a->max_entries - out->n; /* S3's max-keys counts keys and prefixes */
  struct mu_buf q = MU_BUF_INIT;
  int truncated = 0;
  char *next = NULL;
  int rc = page_query(&q, a, keys, *token);
  rc = rc ? rc : get_answer(l, q.p, &len);
  rc = rc ? rc : parse_answer(l, len, out, &truncated, &next);
  mu_buf_free(&q);
  if (!rc && truncated && (!next || !*next || (*token && !strcmp(next, *token))))
    rc = mu_fail(MMAPURL_E_PROTOCOL, "GET %s: a truncated page without a new "
                 "NextContinuationToken", l->what);
  free(*token);
  *token = next;
  *more = !rc && truncated && (!a->max_entries || out->n < a->max_entries);
  return rc;
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const struct mu_s3_entry *)a)->name, ((const struct mu_s3_entry *)b)->name);
}

int mu_s3_list(const char *bucket, const char *prefix, const char *delimiter,
               size_t max_entries, size_t page_keys, struct mu_s3_listing *out) {
  const char *why = NULL;
  if (!out)
    return mu_fail(MMAPURL_E_INVALID_ARG, "mu_s3_list: NULL listing");
  memset(out, 0, sizeof *out);
  if (!mu_bucket_name_valid(bucket, &why))
    return mu_fail(MMAPURL_E_URL, "bucket name \"%s\": %s", bucket ? bucket : "(null)", why);
  struct list_args a = {prefix ? prefix : "", delimiter ? delimiter : "", max_entries,
                        page_keys};
  struct lister l;
  char *token = NULL;
  int rc = lister_open(&l, bucket, a.prefix), more = 1, pages = 0;
  for (; !rc && more; pages++)
    rc = list_page(&l, &a, &token, out, &more);
  if (!rc && out->n > 1) /* each page lists its keys, then its prefixes */
    qsort(out->v, out->n, sizeof *out->v, by_name);
  if (!rc && max_entries)
    mu_s3_listing_truncate(out, max_entries);
  MU_DEBUG("%s: %zu entries in %d page%s%s", l.what, out->n, pages, pages == 1 ? "" : "s",
           rc ? " before a failure" : "");
  free(token);
  lister_close(&l);
  if (rc)
    mu_s3_listing_free(out);
  return rc;
}

int mu_s3_list_buckets(struct mu_s3_listing *out) {
  if (!out)
    return mu_fail(MMAPURL_E_INVALID_ARG, "mu_s3_list_buckets: NULL listing");
  memset(out, 0, sizeof *out);
  struct lister l;
  size_t len = 0;
  int truncated;
  char *next = NULL;
  int rc = lister_open(&l, NULL, NULL);
  rc = rc ? rc : get_answer(&l, "", &len);
  rc = rc ? rc : parse_answer(&l, len, out, &truncated, &next);
  free(next);
  lister_close(&l);
  if (rc)
    mu_s3_listing_free(out);
  return rc;
}
