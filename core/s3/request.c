/*
 * request.c - signed GETs with retries. Must never retry a request whose
 * failure is final (most 4xx), never sleep without jitter, never let a
 * credential reach an error detail or a log line unredacted.
 */
#include "s3/request.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/creds.h"
#include "auth/sigv4.h"
#include "http/http.h"
#include "http/retry.h"
#include "s3/client.h"
#include "s3/s3err.h"
#include "util/buf.h"
#include "util/config.h"
#include "util/error.h"
#include "util/log.h"
#include "util/stats.h"

#define MAX_HEADERS 8

/* Header lines of one attempt; storage for their text. */
struct hdrs {
  const char *lines[MAX_HEADERS];
  size_t n;
  char host[300], date[64], sha[96], token[4096], ifm[300], ius[100], auth[1024];
};

static void amz_now(char out[17]) {
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* Sign with SigV4 and add Authorization. 0 or an error code. */
static int sign(const struct mu_s3_get *g, const struct mu_creds *cr, struct hdrs *h,
                const char *date) {
  struct mu_header sh[7];
  size_t n = 0;
  /* cppcheck-suppress variableScope ; sh[] points into it until signing */
  char range[64] = "";
  sh[n++] = (struct mu_header){"host", g->t->host};
  if (g->if_match)
    sh[n++] = (struct mu_header){"if-match", g->if_match};
  if (g->if_unmodified_since)
    sh[n++] = (struct mu_header){"if-unmodified-since", g->if_unmodified_since};
  if (g->ranged) {
    mu_http_range_value(range, g->off, g->len);
    sh[n++] = (struct mu_header){"range", range};
  }
  sh[n++] = (struct mu_header){"x-amz-content-sha256", MU_EMPTY_SHA256};
  sh[n++] = (struct mu_header){"x-amz-date", date};
  if (cr->session_token)
    sh[n++] = (struct mu_header){"x-amz-security-token", cr->session_token};
  struct mu_sigv4_req sr = {
      .method = "GET", .path = g->t->path, .query = g->t->query, .headers = sh,
      .nheaders = n, .payload_hash = MU_EMPTY_SHA256, .amz_date = date,
      .region = g->t->region, .service = "s3", .access_key_id = cr->access_key_id,
      .secret_access_key = cr->secret_access_key, .session_token = cr->session_token,
  };
  struct mu_sigv4_out so;
  MU_TRY(mu_sigv4_sign(&sr, &so));
  snprintf(h->auth, sizeof h->auth, "Authorization: %s", so.authorization);
  h->lines[h->n++] = h->auth;
  mu_sigv4_out_free(&so);
  return 0;
}

/* Build the header lines of one attempt (signing it when needed). */
static int build(const struct mu_s3_get *g, struct hdrs *h) {
  h->n = 0;
  if (g->if_match) {
    snprintf(h->ifm, sizeof h->ifm, "If-Match: %s", g->if_match);
    h->lines[h->n++] = h->ifm;
  }
  if (g->if_unmodified_since) {
    snprintf(h->ius, sizeof h->ius, "If-Unmodified-Since: %s", g->if_unmodified_since);
    h->lines[h->n++] = h->ius;
  }
  if (!g->t->sign)
    return 0;
  const struct mu_creds *cr;
  const char *region;
  MU_TRY(mu_client_creds(&cr, &region));
  snprintf(h->host, sizeof h->host, "Host: %s", g->t->host);
  h->lines[h->n++] = h->host;
  if (cr->anonymous)
    return 0;
  char date[17];
  amz_now(date);
  snprintf(h->date, sizeof h->date, "x-amz-date: %s", date);
  snprintf(h->sha, sizeof h->sha, "x-amz-content-sha256: %s", MU_EMPTY_SHA256);
  h->lines[h->n++] = h->date;
  h->lines[h->n++] = h->sha;
  if (cr->session_token) {
    snprintf(h->token, sizeof h->token, "x-amz-security-token: %s", cr->session_token);
    h->lines[h->n++] = h->token;
  }
  return sign(g, cr, h, date);
}

/* A final HTTP failure: map it and describe it. */
static int http_failure(const struct mu_s3_get *g, const struct mu_http_response *rs,
                        const struct mu_s3_error *e) {
  int code = mu_s3err_map(rs->status, e->code);
  if (code == MMAPURL_E_WRONG_REGION && !g->t->sign)
    code = MMAPURL_E_HTTP;   /* a plain URL has no region to set: a redirect we do not follow */
  return mu_fail(code, "GET %s: HTTP %ld%s%s%s%s%s%s", g->t->what, rs->status,
                 e->code[0] ? " " : "", e->code, e->message[0] ? ": " : "", e->message,
                 rs->request_id[0] ? " (request id " : "",
                 rs->request_id[0] ? rs->request_id : "");
}

/* A transport failure after the last attempt. */
static int transport_failure(const struct mu_s3_get *g, int rc, const struct mu_http_response *rs,
                             int attempts) {
  if (rc == MMAPURL_E_NOMEM || rc == MMAPURL_E_PROTOCOL || rs->stopped)
    return rc; /* stopped: the caller's own code, already explained */
  return mu_fail(rc, "GET %s: %s after %d attempt%s", g->t->what,
                 rs->curl_code ? rs->curl_error : "response body shorter than announced",
                 attempts, attempts == 1 ? "" : "s");
}

/* Region S3 says the bucket is in, from header or XML; "" if none. */
static void redirect_region_of(const struct mu_http_response *rs, const struct mu_s3_error *e,
                               char out[64]) {
  const char *r = rs->bucket_region[0] ? rs->bucket_region : e->region;
  snprintf(out, 64, "%s", r);
}

/* One attempt. Returns 0 (final answer in rs), or -1 to retry, or an error. */
static int attempt(const struct mu_http *http, const struct mu_s3_get *g,
                   struct mu_http_response *rs, char redirect[64], int last, int n) {
  struct hdrs h;
  MU_TRY(build(g, &h));
  struct mu_http_request rq = {
      .method = "GET", .url = g->t->url, .headers = h.lines, .nheaders = h.n,
      .ranged = g->ranged, .range_off = g->off, .range_len = g->len, .dst = g->dst,
      .body_cap = g->body_cap, .on_body = g->on_body, .on_body_ctx = g->on_body_ctx,
  };
  int rc = mu_http_perform((struct mu_http *)http, &rq, rs);
  explicit_bzero(&h, sizeof h);
  if (rc)
    return mu_retry_retryable(rc, 0, NULL) && !last ? -1 : transport_failure(g, rc, rs, n);
  if ((rs->status >= 200 && rs->status <= 299) || rs->status == 416)
    return 0;
  struct mu_s3_error e;
  mu_s3err_parse(rs->errbody, rs->errbody_len, &e);
  redirect_region_of(rs, &e, redirect);
  if (g->t->sign && redirect[0] && (rs->status == 301 || rs->status == 400 || rs->status == 307))
    return mu_fail(MMAPURL_E_WRONG_REGION, "GET %s: bucket is in region %s", g->t->what, redirect);
  if (mu_retry_retryable(0, rs->status, e.code) && !last)
    return -1;
  return http_failure(g, rs, &e);
}

int mu_s3_get(const struct mu_s3_get *g, struct mu_http_response *rs, char redirect_region[64]) {
  const struct mu_client *c;
  MU_TRY(mu_client_get(&c));
  const struct mu_config *cfg = c->cfg;
  char redirect[64];
  for (int n = 1;; n++) {
    redirect[0] = '\0';
    int rc = attempt(c->http, g, rs, redirect, n >= cfg->max_attempts, n);
    if (rc != -1) {
      if (rc == MMAPURL_E_WRONG_REGION && redirect_region)
        snprintf(redirect_region, 64, "%s", redirect);
      return rc;
    }
    mu_stat_add(MU_STAT_RETRIES, 1);
    long ms = mu_retry_backoff_ms(n, cfg->retry_base_ms, cfg->retry_max_ms);
    MU_INFO("GET %s: attempt %d failed (HTTP %ld, %s); retrying in %ld ms", g->t->what, n,
            rs->status, rs->curl_code ? rs->curl_error : "no transport error", ms);
    mu_retry_sleep_ms(ms);
  }
}
