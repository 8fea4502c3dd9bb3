/*
 * test_map_many.c - 200 mappings open at once share one fault reader and
 * one worker pool: each reads its own source's bytes exactly (also from 4
 * threads at once), then all close.
 */
#include "test_map_source.c"

#define NMAPS 200
#define NTHREADS 4

static struct tsrc *srcs[NMAPS];
static struct mu_map *maps[NMAPS];

/* Thread k reads a page of every 4th mapping, starting at k. */
static void *reader(void *arg) {
  size_t k = (size_t)(uintptr_t)arg, *bad = calloc(1, sizeof *bad);
  for (size_t i = k; i < NMAPS; i += NTHREADS) {
    uint64_t size = mu_map_size(maps[i]);
    *bad += tmap_verify(maps[i], size / 2, size - size / 2 < 4096 ? size - size / 2 : 4096);
  }
  return bad;
}

int main(void) {
  for (size_t i = 0; i < NMAPS; i++) {
    srcs[i] = tsrc_new(4096 * (i % 17) + 1 + i * 1000, 0);
    maps[i] = tmap_open(srcs[i], 16384, 0);
  }
  size_t bad = 0;
  for (size_t i = 0; i < NMAPS; i++) /* distinct addresses, right bytes */
    bad += tmap_verify(maps[i], 0, 1);
  pthread_t th[NTHREADS];
  for (size_t k = 0; k < NTHREADS; k++)
    pthread_create(&th[k], NULL, reader, (void *)(uintptr_t)k);
  for (size_t k = 0; k < NTHREADS; k++) {
    void *r;
    pthread_join(th[k], &r);
    bad += *(size_t *)r;
    free(r);
  }
  for (size_t i = 0; i < NMAPS; i++)
    bad += tmap_verify(maps[i], 0, mu_map_size(maps[i]));
  CHECK_INT(bad, 0);
  for (size_t i = 0; i < NMAPS; i++) {
    mu_map_close(maps[i]);
    tsrc_free(srcs[i]); /* checks the source was released */
  }
  mu_map_shutdown();
  return check_done();
}
