/*
 * test_map_close.c - mu_map_close is prompt and safe while other threads
 * are blocked faulting on the mapping (slow source): they get SIGBUS (or
 * are served), never hang, never read zeros; the source is released once
 * the fetches still running finish; queued readahead is dropped.
 */
#include "test_map_source.c"

#define BLOCK 65536
#define NT 4

struct blocked {
  const unsigned char *p;
  uint64_t off;
  int got_bus;
  unsigned char v;
};

static void *toucher(void *arg) {
  struct blocked *b = arg;
  b->got_bus = tbus_touch(b->p, &b->v);
  return NULL;
}

/* Join th, failing the check if it takes more than 5 s (a hang). */
static void join_or_fail(pthread_t th) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += 5;
  int rc = pthread_timedjoin_np(th, NULL, &ts);
  CHECK_INT(rc, 0);
}

int main(void) {
  tbus_install();
  /* NT threads block on NT blocks of a source answering in 1 s; close
   * after 100 ms. */
  struct tsrc *t = tsrc_new(1 << 20, 1000000);
  struct mu_map *m = tmap_open(t, BLOCK, 0);
  const unsigned char *base = mu_map_addr(m);
  pthread_t th[NT];
  struct blocked b[NT];
  for (int i = 0; i < NT; i++) {
    b[i] = (struct blocked){.off = (uint64_t)(2 * i + 1) * BLOCK + 17};
    b[i].p = base + b[i].off;
    pthread_create(&th[i], NULL, toucher, &b[i]);
  }
  usleep(100000);
  double t0 = tnow();
  mu_map_close(m);
  double took = tnow() - t0;
  printf("close took %.3f s with %d threads blocked\n", took, NT);
  CHECK(took < 0.5); /* prompt: does not wait for the 1 s fetches */
  for (int i = 0; i < NT; i++) {
    join_or_fail(th[i]);
    /* SIGBUS, or (if served before close) the right byte: never zero. */
    CHECK(b[i].got_bus || b[i].v == tsrc_byte(b[i].off));
  }
  for (int i = 0; i < 300 && !atomic_load(&t->released); i++)
    usleep(10000);
  CHECK_INT(atomic_load(&t->released), 1); /* after the running fetches end */
  tsrc_free(t);

  /* Close with readahead queued behind a sequential reader (slow source):
   * prompt, and the source is released. */
  t = tsrc_new(16 << 20, 50000);
  m = tmap_open(t, BLOCK, 8 << 20);
  CHECK_INT(tmap_verify(m, 0, 3 * BLOCK), 0);
  t0 = tnow();
  mu_map_close(m);
  CHECK(tnow() - t0 < 0.5);
  for (int i = 0; i < 300 && !atomic_load(&t->released); i++)
    usleep(10000);
  CHECK_INT(atomic_load(&t->released), 1);
  CHECK(atomic_load(&t->calls) < (16 << 20) / BLOCK); /* queued ones dropped */
  tsrc_free(t);

  mu_map_shutdown();
  return check_done();
}
