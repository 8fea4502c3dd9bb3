/*
 * test_map_patterns.c - byte-exact reads under the access patterns that
 * defeat naive fault handling: random pages, a reverse scan, strided
 * touches; each on a fresh mapping, no byte ever fetched twice.
 */
#include "test_map_source.c"

#define SIZE ((3u << 20) + 4097)
#define PAGES ((SIZE + 4095) / 4096)

/* Check one byte at off (compare, count mismatches). */
static size_t at(const struct mu_map *m, uint64_t off) { return tmap_verify(m, off, 1); }

static void finish(struct mu_map *m, struct tsrc *t) {
  CHECK(tsrc_max_page_fetches(t) <= 1); /* no byte fetched twice */
  CHECK(atomic_load(&t->bytes) <= SIZE);
  mu_map_close(m);
  tsrc_free(t);
}

int main(void) {
  /* Random pages (fixed seed), 2000 touches, then the whole object. */
  struct tsrc *t = tsrc_new(SIZE, 0);
  struct mu_map *m = tmap_open(t, 16384, 0);
  srand(7);
  size_t bad = 0;
  for (int i = 0; i < 2000; i++)
    bad += at(m, ((uint64_t)rand() * 4096 + (uint64_t)rand()) % SIZE);
  bad += tmap_verify(m, 0, SIZE);
  CHECK_INT(bad, 0);
  finish(m, t);

  /* Reverse: from the last byte down to the first. */
  t = tsrc_new(SIZE, 0);
  m = tmap_open(t, 16384, 0);
  bad = 0;
  for (uint64_t off = SIZE; off-- > 0;)
    bad += at(m, off);
  CHECK_INT(bad, 0);
  finish(m, t);

  /* Strided: every 3rd page, then every 7th byte of the rest, block 4 KiB. */
  t = tsrc_new(SIZE, 0);
  m = tmap_open(t, 4096, 0);
  bad = 0;
  for (uint64_t p = 0; p < PAGES; p += 3)
    bad += at(m, p * 4096 + p % 4096);
  CHECK(atomic_load(&t->calls) <= (PAGES + 2) / 3 + 1); /* one fetch per touched page */
  for (uint64_t off = 0; off < SIZE; off += 7)
    bad += at(m, off);
  CHECK_INT(bad, 0);
  finish(m, t);

  mu_map_shutdown();
  return check_done();
}
