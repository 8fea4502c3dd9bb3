/*
 * test_map_cachemax.c - a mapping's own cache maximum (opts.cache_max):
 * streaming 8x a 1 MiB limit keeps that mapping's accounted bytes and
 * resident pages within the limit plus one block, byte-exact, by evicting
 * (counted in its stats and process-wide); a mapping without a limit in the
 * same process keeps all its pages; a block in flight is never evicted
 * (a slow fetch survives a stream of evictions around it, fetched once); a
 * limit below 4 blocks is raised to 4 blocks. No process-wide maximum here.
 */
#include <sys/mman.h>

#include "test_map_source.c"
#include "util/stats.h"

#define BLOCK 65536
#define LIMIT ((size_t)1 << 20)
#define SIZE (8 * LIMIT + 999)
#define SLOW_BLOCK 40 /* the block the slow source holds back */

/* Resident bytes of the whole mapping. */
static size_t resident(const struct mu_map *m) {
  return tmap_resident_pages(m, 0, mu_map_size(m)) * 4096;
}

/* tsrc_fetch, but the fetch of SLOW_BLOCK takes 300 ms. */
static int slow_fetch(void *ctx, size_t len, uint64_t off,
                      int (*put)(void *pctx, const void *data, size_t n, size_t at), void *pctx) {
  if (off / BLOCK == SLOW_BLOCK)
    usleep(300000);
  return tsrc_fetch(ctx, len, off, put, pctx);
}

/* Open a mapping of t with a cache maximum, or exit 77 (skip). */
static struct mu_map *open_max(struct tsrc *t, size_t ra, size_t max,
                               int (*fetch)(void *, size_t, uint64_t,
                                            int (*)(void *, const void *, size_t, size_t),
                                            void *)) {
  struct mu_map_source src = tsrc_source(t);
  src.fetch = fetch;
  struct mu_map_opts opts = {.block_size = BLOCK, .readahead_max = ra, .cache_max = max};
  return tmap_open_src(t, &src, &opts);
}

/* Read [from, to) of m in pages, checking the bytes and, every 64 KiB, the
 * resident pages (the largest seen goes to *max_res). Mismatches. */
static size_t scan(const struct mu_map *m, uint64_t from, uint64_t to, size_t *max_res) {
  size_t bad = 0;
  for (uint64_t off = from; off < to; off += 4096) {
    bad += tmap_verify(m, off, to - off < 4096 ? to - off : 4096);
    if (off % BLOCK == 0) {
      size_t r = resident(m);
      *max_res = r > *max_res ? r : *max_res;
    }
  }
  return bad;
}

/* Stream 8x the limit twice next to an unlimited mapping, which keeps all. */
static void test_stream(void) {
  struct tsrc *tb = tsrc_new(2 * LIMIT, 0), *ta = tsrc_new(SIZE, 0);
  struct mu_map *b = tmap_open(tb, BLOCK, 0);
  size_t max_res = 0, b_res = 0;
  CHECK_INT(scan(b, 0, 2 * LIMIT, &b_res), 0);
  struct mu_map *a = open_max(ta, 0, LIMIT, tsrc_fetch);
  uint64_t stat_before = mu_stat_read(MU_STAT_EVICTIONS);
  CHECK_INT(scan(a, 0, SIZE, &max_res), 0);
  CHECK_INT(scan(a, 0, SIZE, &max_res), 0); /* refetches what was evicted */
  struct mu_map_stats s = stats_of(a), sb = stats_of(b);
  printf("limit %zu: peak %llu, peak resident %zu, %llu evictions, %lu bytes fetched\n", LIMIT,
         (unsigned long long)s.cache_peak, max_res, (unsigned long long)s.evictions,
         atomic_load(&ta->bytes));
  CHECK_INT(s.cache_max, LIMIT);
  CHECK(s.cache_peak <= LIMIT + BLOCK);
  CHECK(max_res <= LIMIT + BLOCK);
  CHECK(s.cache_bytes <= LIMIT);
  CHECK(s.evictions > 0);
  CHECK(mu_map_evictions() >= s.evictions);
  CHECK(mu_stat_read(MU_STAT_EVICTIONS) - stat_before >= s.evictions);
  CHECK(atomic_load(&ta->bytes) >= 2 * (uint64_t)SIZE - LIMIT - BLOCK);
  /* The unlimited mapping kept every page and evicted nothing. */
  CHECK_INT(resident(b), 2 * LIMIT);
  CHECK_INT(sb.evictions, 0);
  CHECK_INT(sb.cache_max, 0);
  CHECK_INT(sb.cache_bytes, 2 * LIMIT);
  CHECK_INT(atomic_load(&tb->bytes), 2 * LIMIT);
  mu_map_close(a);
  mu_map_close(b);
  tsrc_free(ta);
  tsrc_free(tb);
}

static void *touch_slow(void *arg) {
  size_t *bad = malloc(sizeof *bad);
  *bad = tmap_verify(arg, (uint64_t)SLOW_BLOCK * BLOCK, BLOCK);
  return bad;
}

/* A block in flight while everything around it is evicted: it lands once. */
static void test_inflight(void) {
  struct tsrc *t = tsrc_new(SIZE, 0);
  struct mu_map *m = open_max(t, 1, 4 * BLOCK, slow_fetch); /* no readahead */
  pthread_t th;
  pthread_create(&th, NULL, touch_slow, m);
  for (int i = 0; i < 1000 && stats_of(m).fetches == 0; i++)
    usleep(1000);
  size_t max_res = 0;
  CHECK_INT(scan(m, 0, 32 * BLOCK, &max_res), 0); /* 32 blocks through 4 */
  struct mu_map_stats s = stats_of(m);
  CHECK(s.evictions >= 28);
  CHECK_INT(atomic_load(&t->page_fetches[SLOW_BLOCK * BLOCK / 4096]), 0); /* still in flight */
  size_t *bad;
  pthread_join(th, (void **)&bad);
  CHECK_INT(*bad, 0);
  free(bad);
  for (size_t p = 0; p < BLOCK / 4096; p++)
    CHECK_INT(atomic_load(&t->page_fetches[SLOW_BLOCK * BLOCK / 4096 + p]), 1);
  s = stats_of(m);
  CHECK(s.cache_peak <= 5 * BLOCK);
  CHECK(max_res <= 5 * BLOCK);
  mu_map_close(m);
  tsrc_free(t);
}

/* A limit of a byte is raised to 4 blocks, and kept. */
static void test_raised(void) {
  struct tsrc *t = tsrc_new(2 * LIMIT, 0);
  struct mu_map *m = open_max(t, 0, 1, tsrc_fetch);
  size_t max_res = 0;
  CHECK_INT(scan(m, 0, 2 * LIMIT, &max_res), 0);
  struct mu_map_stats s = stats_of(m);
  printf("limit 1 raised to %llu: peak %llu, peak resident %zu\n",
         (unsigned long long)s.cache_max, (unsigned long long)s.cache_peak, max_res);
  CHECK_INT(s.cache_max, 4 * BLOCK);
  CHECK(s.cache_peak <= 5 * BLOCK);
  CHECK(max_res <= 5 * BLOCK);
  CHECK(s.evictions > 0);
  mu_map_close(m);
  tsrc_free(t);
}

int main(void) {
  test_stream();
  test_inflight();
  test_raised();
  CHECK_INT(mu_map_cache_bytes(), 0); /* every byte accounted out */
  mu_map_shutdown();
  return check_done();
}
