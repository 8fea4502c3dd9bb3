/*
 * http.c - libcurl transport: easy handles drawn from a pool, all sharing
 * one connection/DNS/TLS-session cache (CURLSH), so many threads run
 * requests at once over keep-alive connections.
 * Must never: buffer more of a body than the caller asked for (a server that
 * ignores Range is cut off once our bytes are in), follow redirects on its
 * own, turn off TLS verification, or log a header value unredacted.
 */
#include "http/http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/headers.h"
#include "mmapurl.h"
#include "util/error.h"
#include "util/libs.h"
#include "util/log.h"
#include "util/stats.h"
#include "util/url.h"

#define POOL_MAX 64

/* A CURLSH (connections, DNS, TLS sessions) and the mutexes it locks with,
 * one per curl_lock_data. Replaced whole in a forked child. */
struct share {
  CURLSH *sh;
  pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
};

struct mu_http {
  struct mu_http *next;                    /* all transports, for fork handling */
  struct mu_http_opts opts;
  char *ca_bundle;                         /* owned copy of opts.ca_bundle */
  struct share *share;                     /* the connection cache in use */
  pthread_mutex_t pool_lock;               /* guards pool[] and npool */
  CURL *pool[POOL_MAX];
  int npool;
};

/* Per-transfer state, touched only by the thread running the transfer. */
struct xfer {
  const struct mu_http_request *rq;
  struct mu_http_response *rs;
  uint64_t skipped;     /* body bytes discarded before range_off (ignored Range) */
  int done_early;       /* we stopped the transfer deliberately: all bytes in */
  int stop;             /* on_body's code: it wants no more */
  int bad_range;        /* Content-Range does not match what we asked */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static const struct mu_curl *curl; /* libcurl's functions, set by global_init */
static int global_rc;              /* 0 or MMAPURL_E_*, with global_detail */
static char global_detail[512];
/* Every live transport; guarded by all_lock. */
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mu_http *all;

/* fork(): a child must never talk on its parent's keep-alive connections
 * (both would read one socket's stream). In the child each transport gets a
 * fresh share (new connection cache, new mutexes: a parent thread may have
 * held one of the old ones at the fork) and an empty pool. The parent's
 * handles and share are abandoned in the child, not cleaned up: cleanup could
 * send a TLS close_notify on the parent's sessions. The share's own mutexes
 * are not taken around the fork: libcurl nests them in its own order. */
static void fork_prepare(void) {
  pthread_mutex_lock(&all_lock);
  for (struct mu_http *h = all; h; h = h->next)
    pthread_mutex_lock(&h->pool_lock);
}

static void fork_parent(void) {
  for (struct mu_http *h = all; h; h = h->next)
    pthread_mutex_unlock(&h->pool_lock);
  pthread_mutex_unlock(&all_lock);
}

static struct share *share_new(void);
static void share_free(struct share *s);

static void fork_child(void) {
  for (struct mu_http *h = all; h; h = h->next) {
    h->npool = 0;
    h->share = share_new();   /* NULL: no sharing, each handle its own cache */
    pthread_mutex_unlock(&h->pool_lock);
  }
  pthread_mutex_unlock(&all_lock);
}

/* Load libcurl (util/libs.c: first use, not start-up) and initialise it. */
static void global_init(void) {
  global_rc = mu_libs_curl(&curl);
  if (global_rc == 0) {
    CURLcode cc = curl->global_init(CURL_GLOBAL_DEFAULT);
    if (cc != CURLE_OK)
      global_rc = mu_fail(MMAPURL_E_INTERNAL, "curl_global_init: %s", curl->easy_strerror(cc));
    else if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0)
      global_rc = mu_fail(MMAPURL_E_INTERNAL, "pthread_atfork failed");
  }
  if (global_rc)
    snprintf(global_detail, sizeof global_detail, "%s", mu_err_detail());
}

static void share_lock(CURL *c, curl_lock_data d, curl_lock_access a, void *u) {
  (void)c, (void)a;
  pthread_mutex_lock(&((struct share *)u)->locks[d]);
}

static void share_unlock(CURL *c, curl_lock_data d, void *u) {
  (void)c;
  pthread_mutex_unlock(&((struct share *)u)->locks[d]);
}

int mu_http_create(const struct mu_http_opts *opts, struct mu_http **out) {
  pthread_once(&global_once, global_init);
  if (global_rc)
    return mu_fail(global_rc, "%s", global_detail);
  struct mu_http *h = calloc(1, sizeof *h);
  if (!h)
    return MMAPURL_E_NOMEM;
  h->opts = *opts;
  h->ca_bundle = opts->ca_bundle ? strdup(opts->ca_bundle) : NULL;
  h->share = share_new();
  if (!h->share || (opts->ca_bundle && !h->ca_bundle)) {
    free(h->ca_bundle);
    share_free(h->share);
    free(h);
    return MMAPURL_E_NOMEM;
  }
  pthread_mutex_init(&h->pool_lock, NULL);
  pthread_mutex_lock(&all_lock);
  h->next = all;
  all = h;
  pthread_mutex_unlock(&all_lock);
  *out = h;
  return 0;
}

/* A share of connections, DNS and TLS sessions with its mutexes, or NULL. */
static struct share *share_new(void) {
  struct share *s = malloc(sizeof *s);
  if (!s || !(s->sh = curl->share_init())) {
    free(s);
    return NULL;
  }
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_init(&s->locks[i], NULL);
  curl->share_setopt(s->sh, CURLSHOPT_LOCKFUNC, share_lock);
  curl->share_setopt(s->sh, CURLSHOPT_UNLOCKFUNC, share_unlock);
  curl->share_setopt(s->sh, CURLSHOPT_USERDATA, s);
  curl->share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  curl->share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl->share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  return s;
}

static void share_free(struct share *s) {
  if (!s)
    return;
  curl->share_cleanup(s->sh);
  for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_destroy(&s->locks[i]);
  free(s);
}

void mu_http_destroy(struct mu_http *h) {
  if (!h)
    return;
  pthread_mutex_lock(&all_lock);
  for (struct mu_http **p = &all; *p; p = &(*p)->next)
    if (*p == h) {
      *p = h->next;
      break;
    }
  pthread_mutex_unlock(&all_lock);
  for (int i = 0; i < h->npool; i++)
    curl->easy_cleanup(h->pool[i]);
  share_free(h->share);
  pthread_mutex_destroy(&h->pool_lock);
  free(h->ca_bundle);
  free(h);
}

static CURL *handle_get(struct mu_http *h) {
  CURL *c = NULL;
  pthread_mutex_lock(&h->pool_lock);
  if (h->npool > 0)
    c = h->pool[--h->npool];
  pthread_mutex_unlock(&h->pool_lock);
  if (c)
    curl->easy_reset(c);
  else
    c = curl->easy_init();
  return c;
}

static void handle_put(struct mu_http *h, CURL *c) {
  pthread_mutex_lock(&h->pool_lock);
  if (h->npool < POOL_MAX) {
    h->pool[h->npool++] = c;
    c = NULL;
  }
  pthread_mutex_unlock(&h->pool_lock);
  if (c)
    curl->easy_cleanup(c);
}

/* At the blank line ending the headers. A 206 whose Content-Range says the
 * object has 0 bytes ("bytes 0-0/0", as s3rver sends for empty objects,
 * promising a body byte it never sends) is taken for what it says: size 0,
 * nothing to read; the transfer is stopped here instead of waiting for it. */
static size_t end_of_headers(struct xfer *x, size_t n) {
  struct mu_http_response *rs = x->rs;
  if (rs->status == 206 && !rs->has_range && rs->has_total && rs->total == 0) {
    x->done_early = 1;
    return 0;
  }
  return n;
}

static size_t on_header(char *data, size_t size, size_t nitems, void *ud) {
  struct xfer *x = ud;
  size_t n = size * nitems;
  return mu_http_parse_header(data, n, x->rs) ? end_of_headers(x, n) : n;
}

/* Body of a non-2xx answer: keep the first MU_HTTP_ERRBODY_MAX bytes. */
static size_t body_error(struct xfer *x, const char *data, size_t n) {
  struct mu_http_response *rs = x->rs;
  size_t room = MU_HTTP_ERRBODY_MAX - rs->errbody_len;
  int full = n > room;
  size_t take = full ? room : n;
  memcpy(rs->errbody + rs->errbody_len, data, take);
  rs->errbody_len += take;
  rs->errbody[rs->errbody_len] = '\0';
  if (full) {
    x->done_early = 1;   /* enough of an error body: drop the rest */
    return 0;
  }
  return n;
}

/* Ranged request answered 206: the bytes go straight to dst. */
static size_t body_partial(struct xfer *x, const char *data, size_t n) {
  const struct mu_http_request *rq = x->rq;
  struct mu_http_response *rs = x->rs;
  if (!rs->has_range || rs->range_first != rq->range_off ||
      rs->range_last - rs->range_first >= rq->range_len ||
      rs->received + n > rs->range_last - rs->range_first + 1) {
    x->bad_range = 1;
    return 0;
  }
  rs->received += n;
  if (!rq->on_body)
    memcpy((char *)rq->dst + rs->received - n, data, n);
  else if ((x->stop = rq->on_body(rq->on_body_ctx, rs, data, n)) != 0)
    return 0;
  return n;
}

/* Ranged request answered 200 (Range ignored): discard the bytes before
 * range_off, copy ours, then stop the transfer, dropping the connection. */
static size_t body_ignored_range(struct xfer *x, const char *data, size_t n) {
  const struct mu_http_request *rq = x->rq;
  struct mu_http_response *rs = x->rs;
  rs->ignored_range = 1;
  size_t used = 0;
  if (x->skipped < rq->range_off) {
    uint64_t skip = rq->range_off - x->skipped;
    used = skip < n ? (size_t)skip : n;
    x->skipped += used;
  }
  size_t take = n - used;
  if (take > rq->range_len - rs->received)
    take = rq->range_len - rs->received;
  rs->received += take;
  if (take && !rq->on_body)
    memcpy((char *)rq->dst + rs->received - take, data + used, take);
  else if (take && (x->stop = rq->on_body(rq->on_body_ctx, rs, data + used, take)) != 0)
    return 0;
  if (rs->received == rq->range_len) {
    x->done_early = 1;
    return 0;
  }
  return n;
}

/* Unranged 2xx body: up to body_cap bytes into dst. */
static size_t body_whole(struct xfer *x, const char *data, size_t n) {
  const struct mu_http_request *rq = x->rq;
  struct mu_http_response *rs = x->rs;
  if (rs->received + n > rq->body_cap) {
    rs->too_large = 1;
    x->done_early = 1;
    return 0;
  }
  memcpy((char *)rq->dst + rs->received, data, n);
  rs->received += n;
  return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
  struct xfer *x = ud;
  size_t n = size * nmemb;
  long st = x->rs->status;
  mu_stat_add(MU_STAT_BYTES_DOWNLOADED, n);
  if (st < 200 || st > 299)
    return body_error(x, data, n);
  if (!x->rq->ranged)
    return body_whole(x, data, n);
  return st == 206 ? body_partial(x, data, n) : body_ignored_range(x, data, n);
}

/* Whether a failed TLS connect was the connection dying under the handshake
 * (reset, or closed: OpenSSL's SSL_ERROR_SYSCALL / unexpected EOF), which
 * another attempt may get past, rather than TLS refusing the peer (bad chain,
 * bad signature, no common cipher), which it will not. libcurl gives both
 * the same code; the socket's errno and OpenSSL's reason tell them apart. */
static int handshake_dropped(long os_errno, const char *msg) {
  return os_errno != 0 || strstr(msg, "SSL_ERROR_SYSCALL") || strstr(msg, "unexpected eof");
}

/* The transport outcome of a finished transfer, as an MMAPURL_E_* code. */
static int map_curl(CURLcode cc, const struct xfer *x, long os_errno, const char *msg) {
  if (cc == CURLE_WRITE_ERROR && x->stop)
    return x->stop;
  if (cc == CURLE_OK || (cc == CURLE_WRITE_ERROR && x->done_early))
    return 0;
  if (cc == CURLE_WRITE_ERROR && x->bad_range)
    return mu_fail(MMAPURL_E_PROTOCOL, "server sent Content-Range other than the range asked for");
  switch (cc) {
  case CURLE_OPERATION_TIMEDOUT:
    return MMAPURL_E_TIMEOUT;
  case CURLE_OUT_OF_MEMORY:
    return MMAPURL_E_NOMEM;
  case CURLE_SSL_CONNECT_ERROR:
    return handshake_dropped(os_errno, msg) ? MMAPURL_E_NETWORK : MMAPURL_E_TLS;
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_ISSUER_ERROR:
    return MMAPURL_E_TLS;
  default:
    return MMAPURL_E_NETWORK;
  }
}

void mu_http_range_value(char out[64], uint64_t off, size_t len) {
  snprintf(out, 64, "bytes=%llu-%llu", (unsigned long long)off,
           (unsigned long long)(off + len - 1));
}

/* The request's headers plus Range; a transfer cut short by us closes its
 * connection (libcurl never reuses a connection with unread body). */
static struct curl_slist *build_headers(const struct mu_http_request *rq, int *oom) {
  struct curl_slist *list = NULL, *t;
  char range[80];
  *oom = 0;
  for (size_t i = 0; i < rq->nheaders; i++) {
    if (!(t = curl->slist_append(list, rq->headers[i])))
      goto fail;
    list = t;
  }
  if (rq->ranged) {
    char value[64];
    mu_http_range_value(value, rq->range_off, rq->range_len);
    snprintf(range, sizeof range, "Range: %s", value);
    if (!(t = curl->slist_append(list, range)))
      goto fail;
    list = t;
  }
  /* No Accept header, no Expect: keep requests minimal and signable. */
  if (!(t = curl->slist_append(list, "Accept:")))
    goto fail;
  return t;
fail:
  curl->slist_free_all(list);
  *oom = 1;
  return NULL;
}

static void set_options(struct mu_http *h, CURL *c, const struct mu_http_request *rq,
                        struct curl_slist *hdrs, struct xfer *x, char *errbuf) {
  long stall_s = (h->opts.stall_timeout_ms + 999) / 1000;
  curl->easy_setopt(c, CURLOPT_SHARE, h->share ? h->share->sh : NULL);
  curl->easy_setopt(c, CURLOPT_URL, rq->url);
  curl->easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(rq->method, "GET") ? rq->method : NULL);
  curl->easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  curl->easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl->easy_setopt(c, CURLOPT_HEADERDATA, x);
  curl->easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl->easy_setopt(c, CURLOPT_WRITEDATA, x);
  curl->easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl->easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl->easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl->easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  curl->easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, h->opts.connect_timeout_ms);
  curl->easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl->easy_setopt(c, CURLOPT_LOW_SPEED_TIME, stall_s > 0 ? stall_s : 1L);
  curl->easy_setopt(c, CURLOPT_MAXCONNECTS, (long)h->opts.max_connections);
  curl->easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl->easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
  curl->easy_setopt(c, CURLOPT_USERAGENT, "mmapurl/0.1");
  curl->easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl->easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (h->ca_bundle)
    curl->easy_setopt(c, CURLOPT_CAINFO, h->ca_bundle);
}

int mu_http_perform(struct mu_http *h, const struct mu_http_request *rq,
                    struct mu_http_response *rs) {
  memset(rs, 0, sizeof *rs);
  if (rq->ranged && rq->range_len == 0)
    return mu_fail(MMAPURL_E_INTERNAL, "empty range requested");
  int oom;
  struct curl_slist *hdrs = build_headers(rq, &oom);
  CURL *c = oom ? NULL : handle_get(h);
  if (!c) {
    curl->slist_free_all(hdrs);
    return MMAPURL_E_NOMEM;
  }
  struct xfer x = {.rq = rq, .rs = rs};
  char errbuf[CURL_ERROR_SIZE] = "";
  set_options(h, c, rq, hdrs, &x, errbuf);
  mu_stat_add(MU_STAT_REQUESTS, 1);
  CURLcode cc = curl->easy_perform(c);
  rs->curl_code = (int)cc;
  snprintf(rs->curl_error, sizeof rs->curl_error, "%s", errbuf[0] ? errbuf : curl->easy_strerror(cc));
  long os_errno = 0;
  curl->easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
  curl->slist_free_all(hdrs);
  handle_put(h, c);
  if (mu_log_enabled(MU_LOG_DEBUG)) {
    char url[512];
    mu_url_for_log(rq->url, url, sizeof url);
    mu_log(MU_LOG_DEBUG, "%s %s -> %ld (%s, %zu bytes)", rq->method, url, rs->status,
           cc == CURLE_OK ? "ok" : rs->curl_error, rs->received);
  }
  int rc = map_curl(cc, &x, os_errno, rs->curl_error);
  rs->stopped = cc == CURLE_WRITE_ERROR && x.stop;
  if (rc == 0 && rq->ranged && rs->status == 206 && rs->has_range &&
      rs->received != rs->range_last - rs->range_first + 1)
    rc = MMAPURL_E_NETWORK;   /* body shorter than its Content-Range */
  return rc;
}
