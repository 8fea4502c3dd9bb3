/*
 * test_map_landed.c - blocks are installed as their bytes land, before
 * the fetch that carries them ends: a thread touching a landed block goes
 * on while the rest of its fetch is still on the way; a block not landed
 * yet still waits; closing the mapping then signals nobody who went on;
 * a source that starts again from below (a retry) installs every block
 * once, with the right bytes; a fetch that ends while the closer waits for
 * a copy in progress still gets its blocked thread a SIGBUS (not SIGSEGV);
 * a fetch still running when its mapping closes is told to stop.
 */
#include <pthread.h>

#include "map/region.h"
#include "test_map_source.c"

#define BLOCK 16384
#define SIZE (4u << 20)
#define RA ((size_t)SIZE) /* a WILLNEED of all of it: 16 pieces */
#define PIECE (SIZE / 16) /* 16 blocks */

struct toucher {
  const struct mu_map *m;
  uint64_t off;
  atomic_int done;
  size_t bad;
};

static void *touch(void *arg) {
  struct toucher *tt = arg;
  tt->bad = tmap_verify(tt->m, tt->off, 4096);
  atomic_store(&tt->done, 1);
  return NULL;
}


/* Wait up to 5 s for *flag. */
/* The fetch of blocks 0..15 lands blocks 0 and 1, then holds. */
static void landed_early(void) {
  watchdog(60);
  struct tsrc *t = tsrc_new(SIZE, 100000);
  t->step = 2 * BLOCK;
  t->hold_off1 = 0 + 1;
  struct mu_map *m = tmap_open(t, BLOCK, RA);
  CHECK_INT(mu_map_advise(m, 0, SIZE, MU_MAP_WILLNEED), 0);
  /* Touch block 0 while its fetch sleeps: a waiter of that fetch. */
  struct toucher a = {.m = m, .off = 100}, b = {.m = m, .off = 2 * BLOCK + 4096};
  pthread_t ta, tb;
  pthread_create(&ta, NULL, touch, &a);
  CHECK(wait_flag(&t->holding));
  CHECK(wait_flag(&a.done)); /* landed: on its way, the fetch still held */
  CHECK_INT(a.bad, 0);
  CHECK_INT(atomic_load(&t->go), 0);
  pthread_create(&tb, NULL, touch, &b); /* block 2 has not landed */
  usleep(100000);
  CHECK_INT(atomic_load(&b.done), 0);
  atomic_store(&t->go, 1);
  pthread_join(tb, NULL);
  pthread_join(ta, NULL);
  CHECK_INT(b.bad, 0);
  struct mu_map_stats s;
  mu_map_stats(m, &s);
  printf("landed early: block 0 read while its 16-block fetch was held; %llu fetches\n",
         (unsigned long long)s.fetches);
  CHECK_INT(s.fetches, SIZE / PIECE);
  CHECK_INT(atomic_load(&t->max_len), PIECE);
  CHECK_INT(s.failures, 0);
  mu_map_close(m);
  tsrc_free(t);
}

/* Close while the fetch holds, after a waiter of it went on with a landed
 * block: that thread must not get the SIGBUS meant for threads still
 * blocked (an unexpected SIGBUS exits 99). */
static void close_after_landed(void) {
  watchdog(60);
  struct tsrc *t = tsrc_new(SIZE, 100000);
  t->step = 2 * BLOCK;
  t->hold_off1 = PIECE + 1;
  struct mu_map *m = tmap_open(t, BLOCK, RA);
  CHECK_INT(mu_map_advise(m, 0, SIZE, MU_MAP_WILLNEED), 0);
  /* This thread waits on the second piece's fetch (still asleep), goes on
   * once its first two blocks land, and is the one a stray signal would
   * hit. */
  CHECK_INT(tmap_verify(m, PIECE + BLOCK, 4096), 0);
  CHECK(wait_flag(&t->holding));
  mu_map_close(m); /* the fetch is still held */
  usleep(50000);   /* a stray signal would arrive by now */
  atomic_store(&t->go, 1);
  for (int i = 0; i < 1000 && !atomic_load(&t->released); i++)
    usleep(10000); /* the held fetch ends, its bytes dropped, the source released */
  CHECK_INT(atomic_load(&t->stopped), 1); /* told to stop, not to download the rest */
  tsrc_free(t);
  printf("close with a fetch held halfway: no signal to the thread that went on\n");
}

/* A source that hands over half, then everything again from the start
 * (a retry of the whole request): put() sees bytes it already had. */
static int twice_fetch(void *ctx, size_t len, uint64_t off,
                       int (*put)(void *pctx, const void *data, size_t n, size_t at),
                       void *pctx) {
  int rc = tsrc_fetch(ctx, len / 2, off, put, pctx); /* then "broke" */
  return rc ? rc : tsrc_fetch(ctx, len, off, put, pctx);
}

static void restarted(void) {
  watchdog(60);
  struct tsrc *t = tsrc_new(SIZE, 0);
  struct mu_map_source src = tsrc_source(t);
  src.fetch = twice_fetch;
  struct mu_map_opts opts = {.block_size = BLOCK, .readahead_max = RA};
  struct mu_map *m = tmap_open_src(t, &src, &opts);
  size_t bad = 0;
  for (uint64_t off = 0; off < SIZE; off += 4096)
    bad += tmap_verify(m, off, 4096);
  CHECK_INT(bad, 0);
  struct mu_map_stats s;
  mu_map_stats(m, &s);
  printf("restarted deliveries: %llu fetches, %llu failures\n", (unsigned long long)s.fetches,
         (unsigned long long)s.failures);
  CHECK_INT(s.failures, 0);
  CHECK_INT(s.bytes_fetched, SIZE); /* every block installed once */
  mu_map_close(m);
  tsrc_free(t);
}

/* ---- close while a copy is in progress ---- */
#define BIG ((size_t)64 << 20)
static struct mu_map *_Atomic bigm; /* read by fetching threads (TSan) */
static atomic_int a_landing, b_started;

/* Block 0: one big block, copied in through landed(). Block 2: the block a
 * thread waits on; its fetch ends only once the closer has started. */
static int big_fetch(void *ctx, size_t len, uint64_t off,
                     int (*put)(void *pctx, const void *data, size_t n, size_t at), void *pctx) {
  (void)ctx;
  if (off == 0) {
    char *buf = malloc(len);
    if (!buf)
      return MMAPURL_E_NOMEM;
    memset(buf, 0x5a, len);
    atomic_store(&a_landing, 1);
    int stop = put(pctx, buf, len, 0);
    free(buf);
    return stop;
  }
  atomic_store(&b_started, 1);
  struct mu_map *m = atomic_load(&bigm);
  for (int closing = 0; !closing; usleep(50)) {
    pthread_mutex_lock(&m->lock);
    closing = m->closing;
    pthread_mutex_unlock(&m->lock);
  }
  return MMAPURL_E_NETWORK; /* never handed over: dropped by the close */
}

static atomic_int toucher_bus;

static void *touch_at(void *arg) {
  unsigned char c;
  atomic_store(&toucher_bus, tbus_touch(arg, &c));
  return NULL;
}

/* The closer waits for block 0's copy with the lock dropped; meanwhile
 * block 2's fetch ends and is dropped, before the fence: its waiter must
 * still get SIGBUS (before, it woke into PROT_NONE: SIGSEGV, a crash). */
static void close_during_copy(void) {
  watchdog(60);
  struct mu_map_source src = {.size = 3 * BIG, .fetch = big_fetch};
  struct mu_map_opts opts = {.block_size = BIG, .readahead_max = 1};
  struct mu_map *m = NULL;
  int rc = mu_map_open(&src, &opts, &m);
  CHECK_INT(rc, 0);
  if (rc)
    return;
  atomic_store(&bigm, m);
  pthread_t t;
  pthread_create(&t, NULL, touch_at, (unsigned char *)mu_map_addr(m) + 2 * BIG + 100);
  while (!atomic_load(&b_started))
    usleep(100);
  usleep(20000); /* the toucher is a recorded waiter of block 2's fetch */
  CHECK_INT(mu_map_advise(m, 0, BIG, MU_MAP_WILLNEED), 0);
  while (!atomic_load(&a_landing))
    usleep(10);
  for (unsigned copying = 0; !copying;) { /* block 0's copy has begun */
    pthread_mutex_lock(&m->lock);
    copying = m->installing;
    pthread_mutex_unlock(&m->lock);
  }
  mu_map_close(m);
  pthread_join(t, NULL);
  CHECK_INT(atomic_load(&toucher_bus), 1);
  printf("close during a copy: the thread blocked on another fetch got SIGBUS\n");
}

int main(void) {
  tbus_install(); /* an unexpected SIGBUS exits 99: a failure */
  landed_early();
  close_after_landed();
  restarted();
  close_during_copy();
  alarm(0);
  CHECK_INT(mu_map_cache_bytes(), 0);
  mu_map_shutdown();
  return check_done();
}
