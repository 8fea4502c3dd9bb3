/*
 * test_map_budget.c - the process-wide byte budget: streaming an object 8x
 * the budget keeps the accounted bytes and the mapping's resident pages
 * within the budget plus the documented overhead (a demand block per
 * faulting thread; SLACK allows one per worker); evicted blocks are
 * fetched again, byte-exact; with two mappings and threads under a slow
 * source nothing breaks; closing everything returns the count to zero.
 */
#include <sys/mman.h>

#include "test_map_source.c"

#define CAP ((size_t)4 << 20)
#define BLOCK 65536
#define SIZE (8 * CAP + 999)
#define SLACK (MU_MAP_WORKERS * BLOCK)

/* Resident bytes of the whole mapping. */
static size_t resident(const struct mu_map *m) {
  return tmap_resident_pages(m, 0, mu_map_size(m)) * 4096;
}

/* Scan in order, checking the budget every MiB. */
static size_t scan(const struct mu_map *m, size_t *max_resident) {
  size_t bad = 0;
  for (uint64_t off = 0; off < SIZE; off += 4096) {
    bad += tmap_verify(m, off, SIZE - off < 4096 ? SIZE - off : 4096);
    if (off % (1 << 20) == 0) {
      size_t r = resident(m);
      *max_resident = r > *max_resident ? r : *max_resident;
    }
  }
  return bad;
}

static void *scan_thread(void *arg) {
  size_t *out = calloc(2, sizeof *out);
  out[0] = scan(arg, &out[1]);
  return out;
}

int main(void) {
  mu_map_set_cache_max(CAP);
  struct tsrc *t = tsrc_new(SIZE, 0);
  struct mu_map *m = tmap_open(t, BLOCK, 0);
  size_t max_res = 0;
  /* Stream 8x the budget twice: the second pass refetches what was evicted. */
  CHECK_INT(scan(m, &max_res), 0);
  CHECK_INT(scan(m, &max_res), 0);
  struct mu_map_stats s;
  mu_map_stats(m, &s);
  printf("budget %zu: peak accounted %zu, peak resident %zu, %llu evictions, %lu bytes fetched\n",
         CAP, mu_map_cache_peak(), max_res, (unsigned long long)s.evictions,
         atomic_load(&t->bytes));
  CHECK(mu_map_cache_peak() <= CAP + SLACK);
  CHECK(max_res <= CAP + SLACK);
  CHECK(s.evictions > 0);
  CHECK(atomic_load(&t->bytes) >= 2 * (uint64_t)SIZE - CAP - SLACK); /* refetched */
  mu_map_close(m);
  tsrc_free(t);
  CHECK_INT(mu_map_cache_bytes(), 0);

  /* Two mappings, two threads each, 1 ms per fetch, same budget. */
  struct tsrc *ts[2] = {tsrc_new(SIZE, 1000), tsrc_new(SIZE, 1000)};
  struct mu_map *ms[2] = {tmap_open(ts[0], BLOCK, 0), tmap_open(ts[1], BLOCK, 0)};
  pthread_t th[4];
  for (int i = 0; i < 4; i++)
    pthread_create(&th[i], NULL, scan_thread, ms[i % 2]);
  for (int i = 0; i < 4; i++) {
    size_t *r;
    pthread_join(th[i], (void **)&r);
    CHECK_INT(r[0], 0);
    CHECK(r[1] <= CAP + SLACK);
    free(r);
  }
  CHECK(mu_map_cache_peak() <= CAP + 2 * SLACK);
  for (int i = 0; i < 2; i++) {
    mu_map_close(ms[i]);
    tsrc_free(ts[i]);
  }
  CHECK_INT(mu_map_cache_bytes(), 0); /* every byte accounted out */
  mu_map_set_cache_max(0);
  mu_map_shutdown();
  return check_done();
}
