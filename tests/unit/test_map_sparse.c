/*
 * test_map_sparse.c - only what is touched is fetched: k scattered touches
 * of a large object make at most k block fetches and at most k blocks of
 * bytes (no readahead for non-sequential access), with default options.
 */
#include "test_map_source.c"

#define SIZE ((uint64_t)1 << 30) /* 1 GiB, never materialized */
#define BLOCK MU_MAP_DEFAULT_BLOCK

int main(void) {
  struct tsrc *t = tsrc_new(SIZE, 0);
  struct mu_map *m = tmap_open(t, 0, 0);
  /* k = 100 touches, 3 blocks apart or more, in a scrambled order. */
  size_t k = 100, bad = 0;
  for (size_t i = 0; i < k; i++) {
    uint64_t blk = (i * 7919) % 3000 * 3;
    bad += tmap_verify(m, blk * BLOCK + i * 13, 1);
  }
  CHECK_INT(bad, 0);
  CHECK(atomic_load(&t->calls) <= k);
  CHECK(atomic_load(&t->bytes) <= k * BLOCK);
  struct mu_map_stats s;
  mu_map_stats(m, &s);
  CHECK_INT(s.readahead_blocks, 0);
  CHECK(s.faults >= k);

  /* Touching the same k bytes again fetches nothing more. */
  unsigned long calls = atomic_load(&t->calls);
  for (size_t i = 0; i < k; i++)
    bad += tmap_verify(m, (i * 7919) % 3000 * 3 * BLOCK + i * 13, 1);
  CHECK_INT(atomic_load(&t->calls), calls);
  printf("%zu touches of a 1 GiB object: %lu fetches, %lu bytes\n", k,
         atomic_load(&t->calls), atomic_load(&t->bytes));
  mu_map_close(m);
  tsrc_free(t);
  mu_map_shutdown();
  return check_done();
}
