/*
 * bench_ref.h - the reference of scripts/bench's random reads: a keep-alive
 * libcurl ranged GET of 4 KiB, for bench_map (rangeget, and interleaved
 * with the C API's reads) and bench_io (interleaved with preads through the
 * shim). Interleaving one reference GET before each of our reads puts both
 * under the same conditions: on this VM, the p50 of the same GET loop moves
 * from 30 to 80 us with the machine's idle state.
 */
#ifndef MU_BENCH_REF_H
#define MU_BENCH_REF_H

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

struct mu_ref {
  CURL *c;
  unsigned char buf[MU_PAGE];
  size_t len;
  uint64_t size; /* the object's, from the warm-up's Content-Range */
};

static size_t mu_ref_body(char *data, size_t sz, size_t nm, void *ud) {
  struct mu_ref *r = ud;
  size_t n = sz * nm, room = sizeof r->buf - r->len;
  memcpy(r->buf + r->len, data, n < room ? n : room);
  r->len += n < room ? n : room;
  return n;
}

/* GET bytes [off, off+4096) into r->buf. 0, or -1 unless a 206 with all of
 * them. */
static inline int mu_ref_get(struct mu_ref *r, uint64_t off) {
  char range[64];
  snprintf(range, sizeof range, "%" PRIu64 "-%" PRIu64, off, off + MU_PAGE - 1);
  r->len = 0;
  curl_easy_setopt(r->c, CURLOPT_RANGE, range);
  long code = 0;
  if (curl_easy_perform(r->c) != CURLE_OK)
    return -1;
  curl_easy_getinfo(r->c, CURLINFO_RESPONSE_CODE, &code);
  return code == 206 && r->len == MU_PAGE ? 0 : -1;
}

/* Connect to url with one warm-up GET (which tells the size). 0 or -1 (a
 * message printed). */
static inline int mu_ref_open(struct mu_ref *r, const char *url) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  r->c = curl_easy_init();
  if (!r->c)
    return -1;
  curl_easy_setopt(r->c, CURLOPT_URL, url);
  curl_easy_setopt(r->c, CURLOPT_WRITEFUNCTION, mu_ref_body);
  curl_easy_setopt(r->c, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(r->c, CURLOPT_TCP_NODELAY, 1L);
  struct curl_header *h;
  const char *slash = NULL;
  if (mu_ref_get(r, 0) == 0 &&
      curl_easy_header(r->c, "Content-Range", 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
    slash = strrchr(h->value, '/'); /* Content-Range: bytes 0-4095/SIZE */
  r->size = slash ? strtoull(slash + 1, NULL, 10) : 0;
  if (r->size < MU_PAGE) {
    fprintf(stderr, "bench: reference GET of %s failed (no usable 206)\n", url);
    return -1;
  }
  return 0;
}

static inline void mu_ref_close(struct mu_ref *r) { curl_easy_cleanup(r->c); }

#endif
