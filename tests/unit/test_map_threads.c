/*
 * test_map_threads.c - concurrency: 8 threads scanning overlapping ranges
 * read exact bytes with no byte fetched twice; N threads touching the same
 * block at once (slow source) share one fetch.
 */
#include "test_map_source.c"

#define SIZE ((8u << 20) + 333)
#define NTHREADS 8

struct job {
  const struct mu_map *m;
  uint64_t from, len;
  size_t bad;
};

/* Scan [from, from+len) page by page, forwards or backwards by index. */
static void *scan(void *arg) {
  struct job *j = arg;
  uint64_t pages = (j->len + 4095) / 4096;
  for (uint64_t k = 0; k < pages; k++) {
    uint64_t p = (j->from / 4096 + k * 5) % pages; /* interleaved order */
    uint64_t off = j->from + p * 4096, n = 4096;
    if (off >= j->from + j->len)
      continue;
    if (off + n > j->from + j->len)
      n = j->from + j->len - off;
    j->bad += tmap_verify(j->m, off, n);
  }
  j->bad += tmap_verify(j->m, j->from, j->len);
  return NULL;
}

/* Each thread reads half the object, starting at i/8 of it (overlaps). */
static void overlapping(void) {
  struct tsrc *t = tsrc_new(SIZE, 200);
  struct mu_map *m = tmap_open(t, 32768, 0);
  pthread_t th[NTHREADS];
  struct job jobs[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) {
    uint64_t from = (uint64_t)SIZE / NTHREADS * i, len = SIZE / 2;
    jobs[i] = (struct job){.m = m, .from = from, .len = from + len > SIZE ? SIZE - from : len};
    pthread_create(&th[i], NULL, scan, &jobs[i]);
  }
  for (int i = 0; i < NTHREADS; i++) {
    pthread_join(th[i], NULL);
    CHECK_INT(jobs[i].bad, 0);
  }
  CHECK(tsrc_max_page_fetches(t) <= 1); /* overlaps never fetched twice */
  mu_map_close(m);
  tsrc_free(t);
}

struct same {
  const struct mu_map *m;
  pthread_barrier_t *go;
  size_t bad;
  int index;
};

static void *touch_same(void *arg) {
  struct same *s = arg;
  pthread_barrier_wait(s->go);
  s->bad = tmap_verify(s->m, 4096 + (uint64_t)s->index * 64, 1); /* one block */
  return NULL;
}

/* 16 threads fault on one block while its 300 ms fetch runs: 1 fetch. */
static void dedup(void) {
  struct tsrc *t = tsrc_new(1 << 20, 300000);
  struct mu_map *m = tmap_open(t, 65536, 0);
  enum { N = 16 };
  pthread_t th[N];
  struct same s[N];
  pthread_barrier_t go;
  pthread_barrier_init(&go, NULL, N);
  for (int i = 0; i < N; i++) {
    s[i] = (struct same){.m = m, .go = &go, .index = i};
    pthread_create(&th[i], NULL, touch_same, &s[i]);
  }
  for (int i = 0; i < N; i++) {
    pthread_join(th[i], NULL);
    CHECK_INT(s[i].bad, 0);
  }
  CHECK_INT(atomic_load(&t->calls), 1);
  pthread_barrier_destroy(&go);
  mu_map_close(m);
  tsrc_free(t);
}

int main(void) {
  overlapping();
  dedup();
  mu_map_shutdown();
  return check_done();
}
