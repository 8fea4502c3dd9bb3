/*
 * test_map_read.c - mu_map_read: copies exact source bytes for many
 * offsets/sizes (inside a block, across blocks, the partial last block,
 * len 0, the whole object; past the end is MMAPURL_E_INVALID_ARG) without
 * faulting; shares installed pages with touches both ways (no refetch);
 * pages dropped behind the map's back are fetched again; sequential reads
 * trigger readahead and fetch each byte once; a block that always fails
 * returns the source's code (fetched twice, no SIGBUS, bounded time), one
 * that fails once reads right; readers and touchers at once (also with a
 * small cache_max and DONTNEED racing) read right with no deadlock; a
 * 4-block cache_max streams a 64-block source twice; mu_map_close while
 * readers wait on a slow or a not-yet-started fetch returns them an error
 * (no hang, no use after free); a fork while a reader waits leaves the
 * child a working mapping. Failures run with poison and, in a child,
 * with the signal fallback. A watchdog (alarm) turns a hang into a failure.
 */
#include <sys/wait.h>

#include "map/uffd.h"
#include "test_map_source.c"

#define BLOCK 65536

/* ThreadSanitizer cannot start threads in a child forked from a
 * multi-threaded process (it dies): the fork case is skipped there. */
#if defined(__SANITIZE_THREAD__)
#define T_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define T_TSAN 1
#endif
#endif
#ifndef T_TSAN
#define T_TSAN 0
#endif

/* ---- failure injection on top of tsrc_fetch ---- */
static atomic_long fail_b = -1;  /* a fetch overlapping this block fails */
static atomic_int fail_rc;       /* with this code */
static atomic_int fail_left;     /* this many more times; < 0: always */
static atomic_ulong fail_seen;   /* fetches that overlapped fail_b */

static int inj_fetch(void *ctx, size_t len, uint64_t off,
                     int (*put)(void *pctx, const void *data, size_t n, size_t at), void *pctx) {
  long fb = atomic_load(&fail_b);
  if (fb >= 0 && off < (uint64_t)(fb + 1) * BLOCK && off + len > (uint64_t)fb * BLOCK) {
    atomic_fetch_add(&fail_seen, 1);
    int left = atomic_load(&fail_left);
    if (left < 0 || (left > 0 && atomic_fetch_sub(&fail_left, 1) > 0)) {
      struct tsrc *t = ctx;
      if (t->delay_us)
        usleep(t->delay_us);
      atomic_fetch_add(&t->calls, 1);
      return atomic_load(&fail_rc);
    }
  }
  return tsrc_fetch(ctx, len, off, put, pctx);
}

static void inject(long block, int rc, int times) {
  atomic_store(&fail_seen, 0);
  atomic_store(&fail_rc, rc);
  atomic_store(&fail_left, times);
  atomic_store(&fail_b, block);
}

/* Open t with these options through inj_fetch, or exit 77 (skip). */
static struct mu_map *open_opts(struct tsrc *t, size_t block, size_t ra, size_t cache_max) {
  struct mu_map_source src = tsrc_source(t);
  src.fetch = inj_fetch;
  struct mu_map_opts opts = {.block_size = block, .readahead_max = ra, .cache_max = cache_max};
  return tmap_open_src(t, &src, &opts);
}

/* mu_map_read [off, off+len) into a guarded buffer; *bad = bytes differing
 * from the pattern plus guard bytes overwritten (only when rc is 0). */
static int rd(struct mu_map *m, uint64_t off, size_t len, size_t *bad) {
  enum { G = 64 };
  unsigned char *buf = malloc(len + 2 * G);
  memset(buf, 0xA5, len + 2 * G);
  int rc = mu_map_read(m, buf + G, len, off);
  size_t n = 0;
  if (rc == 0)
    for (size_t i = 0; i < len; i++)
      n += buf[G + i] != tsrc_byte(off + i);
  for (size_t i = 0; i < G; i++)
    n += (buf[i] != 0xA5) + (buf[G + len + i] != 0xA5);
  free(buf);
  if (bad)
    *bad = n;
  return rc;
}

/* Read and expect success with exact bytes. */
#define CHECK_READ(m, off, len)                                                 \
  do {                                                                          \
    size_t bad_ = 1;                                                            \
    uint64_t off_ = (off);                                                      \
    size_t len_ = (len);                                                        \
    int rc_ = rd((m), off_, len_, &bad_);                                       \
    if (rc_ != 0 || bad_ != 0)                                                  \
      fprintf(stderr, "  read off %llu len %zu: rc %d, %zu bad\n",              \
              (unsigned long long)off_, len_, rc_, bad_);                       \
    CHECK_INT(rc_, 0);                                                          \
    CHECK_INT(bad_, 0);                                                         \
  } while (0)

/* Join th within sec seconds, else a failed check (a hang). */
static int join_within(pthread_t th, int sec, void **ret) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += sec;
  int rc = pthread_timedjoin_np(th, ret, &ts);
  CHECK_INT(rc, 0);
  return rc;
}

/* ---- sizes and offsets ---- */
static void sizes_offsets(void) {
  watchdog(60);
  const uint64_t size = (1u << 20) + 1234; /* partial last block and page */
  struct tsrc *t = tsrc_new(size, 0);
  struct mu_map *m = open_opts(t, BLOCK, 0, 0);
  const uint64_t B = BLOCK;
  struct {
    uint64_t off;
    size_t len;
  } cases[] = {
      {0, 1},           {5, 100},          {B - 1, 1},         {B - 1, 2},
      {B - 100, 200},   {4095, 2},         {3 * B + 5, 5 * B + 7}, {2 * B, B},
      {7 * B, 3 * B},   {size - 1234, 1234}, {size - 1, 1},     {size - 5000, 5000},
      {size - B - 3, B + 3}, {9 * B + 4096, 4096}, {11 * B + 17, 3},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    CHECK_READ(m, cases[i].off, cases[i].len);
  unsigned seed = 1;
  for (int i = 0; i < 200; i++) {
    uint64_t off = (uint64_t)rand_r(&seed) % size;
    size_t len = (size_t)rand_r(&seed) % (3 * BLOCK);
    if (len > size - off)
      len = (size_t)(size - off);
    CHECK_READ(m, off, len);
  }
  CHECK_READ(m, 0, size);    /* the whole object */
  CHECK_READ(m, size, 0);    /* len 0 at the end */
  CHECK_READ(m, 12345, 0);   /* len 0 inside */
  CHECK_INT(mu_map_read(m, NULL, 0, 7), 0);

  /* Past the end, overflowing, NULL: refused, dst untouched. */
  char c = 'x';
  CHECK_INT(mu_map_read(m, &c, 1, size), MMAPURL_E_INVALID_ARG);
  CHECK_INT(mu_map_read(m, &c, 0, size + 1), MMAPURL_E_INVALID_ARG);
  CHECK_INT(mu_map_read(m, &c, 1, UINT64_MAX), MMAPURL_E_INVALID_ARG);
  CHECK_INT(mu_map_read(m, &c, SIZE_MAX, 1), MMAPURL_E_INVALID_ARG);
  CHECK_INT(c, 'x');
  char *big = malloc(size + 1);
  CHECK_INT(mu_map_read(m, big, size + 1, 0), MMAPURL_E_INVALID_ARG);
  CHECK_INT(mu_map_read(m, big, 11, size - 10), MMAPURL_E_INVALID_ARG);
  free(big);
  CHECK_INT(mu_map_read(m, NULL, 1, 0), MMAPURL_E_INVALID_ARG);
  CHECK_INT(mu_map_read(NULL, &c, 1, 0), MMAPURL_E_INVALID_ARG);

  struct mu_map_stats s = stats_of(m);
  CHECK_INT(s.faults, 0);                  /* never touched the mapping */
  CHECK_INT(s.bytes_fetched, size);        /* each byte once */
  CHECK_INT(atomic_load(&t->bytes), size);
  CHECK(tsrc_max_page_fetches(t) <= 1);
  /* The pages it fetched are installed: touching reads them, no fault. */
  CHECK_INT(tmap_verify(m, 0, size), 0);
  CHECK_INT(stats_of(m).faults, 0);
  CHECK_INT(stats_of(m).fetches, s.fetches);
  mu_map_close(m);
  tsrc_free(t);

  /* Sizes at the page edges (one short block), and size 0. */
  uint64_t small[] = {1, 4095, 4096, 4097, BLOCK + 1};
  for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
    t = tsrc_new(small[i], 0);
    m = open_opts(t, BLOCK, 0, 0);
    CHECK_READ(m, 0, small[i]);
    CHECK_READ(m, small[i] - 1, 1);
    CHECK_INT(mu_map_read(m, &c, 1, small[i]), MMAPURL_E_INVALID_ARG);
    CHECK_INT(atomic_load(&t->bytes), small[i]);
    mu_map_close(m);
    tsrc_free(t);
  }
  t = tsrc_new(0, 0);
  m = open_opts(t, BLOCK, 0, 0);
  CHECK_INT(mu_map_read(m, &c, 0, 0), 0);
  CHECK_INT(mu_map_read(m, &c, 1, 0), MMAPURL_E_INVALID_ARG);
  CHECK_INT(atomic_load(&t->calls), 0);
  mu_map_close(m);
  tsrc_free(t);
}

/* ---- sharing pages with touches ---- */
static void with_touches(void) {
  watchdog(60);
  const uint64_t size = 2u << 20;
  struct tsrc *t = tsrc_new(size, 0);
  struct mu_map *m = open_opts(t, BLOCK, 1, 0); /* no readahead: exact counts */

  /* Touched first (faults), read after: copied, no fetch. */
  CHECK_INT(tmap_verify(m, 2 * BLOCK, 2 * BLOCK), 0);
  CHECK_INT(tmap_verify(m, 5 * BLOCK + 8192, 1), 0); /* one page: block 5 installed */
  struct mu_map_stats a = stats_of(m);
  CHECK_INT(a.fetches, 3);
  CHECK(a.faults >= 3);
  CHECK_READ(m, 2 * BLOCK + 3, 2 * BLOCK - 6);
  CHECK_READ(m, 5 * BLOCK, BLOCK);
  struct mu_map_stats b = stats_of(m);
  CHECK_INT(b.fetches, a.fetches);
  CHECK_INT(b.bytes_fetched, a.bytes_fetched);
  CHECK_INT(b.faults, a.faults);

  /* Read first, touched after: the pages are installed, no fault, no fetch. */
  CHECK_READ(m, 10 * BLOCK + 1, 3 * BLOCK - 2);
  b = stats_of(m);
  CHECK_INT(b.fetches, a.fetches + 3);
  CHECK_INT(b.bytes_fetched, a.bytes_fetched + 3 * BLOCK);
  CHECK_INT(tmap_resident_pages(m, 10 * BLOCK, 3 * BLOCK), 3 * BLOCK / 4096);
  CHECK_INT(tmap_verify(m, 10 * BLOCK, 3 * BLOCK), 0);
  struct mu_map_stats c = stats_of(m);
  CHECK_INT(c.fetches, b.fetches);
  CHECK_INT(c.bytes_fetched, b.bytes_fetched);
  CHECK_INT(c.faults, b.faults);

  /* A page dropped behind the map's back (not through mu_map_advise): the
   * read sees it is gone and fetches the block again, never faulting under
   * the lock (a hang); a read of pages still there copies them. */
  char *base = mu_map_addr(m);
  CHECK_INT(madvise(base + 11 * BLOCK + 4096, 4096, MADV_DONTNEED), 0);
  CHECK_READ(m, 11 * BLOCK, 4096); /* its first page is still there */
  CHECK_INT(stats_of(m).fetches, c.fetches);
  CHECK_READ(m, 11 * BLOCK, BLOCK);
  CHECK_INT(stats_of(m).fetches, c.fetches + 1);
  CHECK_INT(madvise(base + 12 * BLOCK, BLOCK, MADV_DONTNEED), 0);
  CHECK_READ(m, 12 * BLOCK + 100, 100);
  CHECK_INT(stats_of(m).fetches, c.fetches + 2);
  CHECK_INT(tmap_verify(m, 10 * BLOCK, 3 * BLOCK), 0);
  CHECK_INT(stats_of(m).fetches, c.fetches + 2);
  /* A page gone in the middle of a run of installed blocks (copied as one
   * run): the blocks around it are copied, that one fetched again. */
  CHECK_INT(madvise(base + 11 * BLOCK + 8192, 4096, MADV_DONTNEED), 0);
  CHECK_READ(m, 10 * BLOCK + 1, 3 * BLOCK - 2);
  CHECK_INT(stats_of(m).fetches, c.fetches + 3);

  /* Dropped through the API (DONTNEED): read fetches again. */
  CHECK_INT(mu_map_advise(m, 2 * BLOCK, BLOCK, MU_MAP_DONTNEED), 0);
  CHECK_READ(m, 2 * BLOCK, BLOCK);
  CHECK_INT(stats_of(m).fetches, c.fetches + 4);
  mu_map_close(m);
  tsrc_free(t);

  /* With readahead: the parked marker is read (copied, then installed) and
   * touching after reads it without a fetch. */
  t = tsrc_new(size, 0);
  m = open_opts(t, BLOCK, 1 << 20, 0);
  CHECK_READ(m, 0, BLOCK);
  CHECK_READ(m, BLOCK, BLOCK); /* sequential: a window from block 2 */
  for (int i = 0; i < 500 && stats_of(m).fetches > atomic_load(&t->calls); i++)
    usleep(2000);
  usleep(20000);
  struct mu_map_stats r = stats_of(m);
  CHECK(r.readahead_blocks > 0);
  CHECK_READ(m, 2 * BLOCK + 7, 100);
  CHECK_INT(tmap_verify(m, 2 * BLOCK, 4 * BLOCK), 0);
  CHECK_READ(m, 0, 6 * BLOCK);
  CHECK(tsrc_max_page_fetches(t) <= 1);
  mu_map_close(m);
  tsrc_free(t);
}

/* ---- sequential reads: readahead ---- */
static void sequential(void) {
  watchdog(60);
  const uint64_t size = (8u << 20) + 777;
  const size_t nblocks = (size + BLOCK - 1) / BLOCK, chunk = 128 << 10;
  struct tsrc *t = tsrc_new(size, 500);
  struct mu_map *m = open_opts(t, BLOCK, 0, 0); /* default readahead */
  double t0 = tnow();
  for (uint64_t off = 0; off < size; off += chunk)
    CHECK_READ(m, off, size - off < chunk ? (size_t)(size - off) : chunk);
  struct mu_map_stats s = stats_of(m);
  printf("sequential %llu bytes in 128 KiB reads: %.3f s, %llu fetches (%llu demand) for "
         "%zu blocks, %llu read ahead\n",
         (unsigned long long)size, tnow() - t0, (unsigned long long)s.fetches,
         (unsigned long long)s.demand_fetches, nblocks, (unsigned long long)s.readahead_blocks);
  CHECK(s.readahead_blocks > 0);
  CHECK(s.fetches < nblocks / 2); /* windows, split across the workers */
  CHECK(s.demand_fetches <= 4);
  CHECK_INT(s.bytes_fetched, size);
  CHECK_INT(atomic_load(&t->bytes), size);
  CHECK(tsrc_max_page_fetches(t) <= 1);
  CHECK_INT(s.faults, 0);
  /* Again: all installed, nothing fetched. */
  for (uint64_t off = 0; off < size; off += chunk)
    CHECK_READ(m, off, size - off < chunk ? (size_t)(size - off) : chunk);
  CHECK_INT(stats_of(m).fetches, s.fetches);
  mu_map_close(m);
  tsrc_free(t);
}

/* ---- failures: an error code, never SIGBUS ---- */
static void failures(void) {
  watchdog(60);
  const uint64_t size = 2u << 20;
  struct tsrc *t = tsrc_new(size, 1000);
  struct mu_map *m = open_opts(t, BLOCK, 1, 0); /* no readahead */
  int before_bus = atomic_load(&tbus_count);

  /* Always fails: the source's code, after one retry, in bounded time. */
  inject(3, MMAPURL_E_SERVER, -1);
  double t0 = tnow();
  size_t bad = 0;
  CHECK_INT(rd(m, 3 * BLOCK + 10, 100, &bad), MMAPURL_E_SERVER);
  CHECK(tnow() - t0 < 5);
  CHECK_INT(atomic_load(&fail_seen), 2); /* fetched once more, not more */
  CHECK_INT(stats_of(m).failures, 2);
  /* A read spanning it fails too; the blocks around read right. */
  CHECK_INT(rd(m, 2 * BLOCK, 3 * BLOCK, &bad), MMAPURL_E_SERVER);
  CHECK_READ(m, 2 * BLOCK, BLOCK);
  CHECK_READ(m, 4 * BLOCK, BLOCK);
  CHECK_READ(m, 3 * BLOCK - 5, 5);
  CHECK_READ(m, 4 * BLOCK, 5);

  /* A thread touching it gets SIGBUS (the mapping's way); a read of it then
   * still gets the code, not a signal (poisoned: at once, no fetch). */
  unsigned char v = 0;
  CHECK_INT(tbus_touch((unsigned char *)mu_map_addr(m) + 3 * BLOCK + 1, &v), 1);
  before_bus++;
  unsigned long seen = atomic_load(&fail_seen);
  CHECK_INT(rd(m, 3 * BLOCK, BLOCK, &bad), MMAPURL_E_SERVER);
  if (mu_uffd_has_poison())
    CHECK_INT(atomic_load(&fail_seen), seen);
  else
    CHECK_INT(atomic_load(&fail_seen), seen + 2);

  /* Fails once, then works: 0 and the right bytes (fetched twice). */
  inject(6, MMAPURL_E_NETWORK, 1);
  CHECK_READ(m, 6 * BLOCK, BLOCK);
  CHECK_INT(atomic_load(&fail_seen), 2);
  CHECK_INT(tmap_verify(m, 6 * BLOCK, BLOCK), 0);
  inject(-1, 0, 0);
  CHECK_INT(atomic_load(&tbus_count), before_bus); /* no signal to the reader */
  mu_map_close(m);
  tsrc_free(t);

  /* With readahead: a failed window is read again block by block. */
  t = tsrc_new(size, 200);
  m = open_opts(t, BLOCK, 1 << 20, 0);
  inject(9, MMAPURL_E_TIMEOUT, 1);
  for (uint64_t off = 0; off < size; off += 128 << 10)
    CHECK_READ(m, off, 128 << 10);
  CHECK(atomic_load(&fail_seen) >= 2);
  CHECK(stats_of(m).failures >= 1);
  mu_map_close(m);
  tsrc_free(t);
  t = tsrc_new(size, 200);
  m = open_opts(t, BLOCK, 1 << 20, 0);
  inject(9, MMAPURL_E_TIMEOUT, -1);
  t0 = tnow();
  uint64_t off = 0;
  int rc = 0;
  for (; off < size && rc == 0; off += 128 << 10)
    rc = rd(m, off, 128 << 10, &bad);
  CHECK_INT(rc, MMAPURL_E_TIMEOUT);
  CHECK_INT(off, 5 * (128 << 10)); /* the read holding block 9 */
  CHECK(tnow() - t0 < 5);
  CHECK_READ(m, 10 * BLOCK, size - 10 * BLOCK);
  inject(-1, 0, 0);
  CHECK_INT(atomic_load(&tbus_count), before_bus);
  mu_map_close(m);
  tsrc_free(t);
}

/* ---- concurrency: readers and touchers ---- */
struct conc {
  struct mu_map *m;
  uint64_t size;
  double until;
  unsigned seed;
  atomic_ulong *errors, *ops;
};

static void *conc_reader(void *arg) {
  struct conc *c = arg;
  while (tnow() < c->until) {
    uint64_t off = (uint64_t)rand_r(&c->seed) % c->size;
    size_t len = 1 + (size_t)rand_r(&c->seed) % (256 << 10);
    if (len > c->size - off)
      len = (size_t)(c->size - off);
    size_t bad = 0;
    int rc = rd(c->m, off, len, &bad);
    if (rc != 0 || bad != 0) {
      fprintf(stderr, "  reader: off %llu len %zu: rc %d, %zu bad\n", (unsigned long long)off,
              len, rc, bad);
      atomic_fetch_add(c->errors, 1);
    }
    atomic_fetch_add(c->ops, 1);
  }
  return NULL;
}

static void *conc_toucher(void *arg) {
  struct conc *c = arg;
  while (tnow() < c->until) {
    uint64_t off = (uint64_t)rand_r(&c->seed) % c->size;
    size_t n = c->size - off < 64 ? (size_t)(c->size - off) : 64;
    if (tmap_verify(c->m, off, n) != 0)
      atomic_fetch_add(c->errors, 1);
    atomic_fetch_add(c->ops, 1);
  }
  return NULL;
}

static void *conc_dropper(void *arg) {
  struct conc *c = arg;
  while (tnow() < c->until) {
    uint64_t b = (uint64_t)rand_r(&c->seed) % (c->size / BLOCK);
    mu_map_advise(c->m, b * BLOCK, BLOCK, MU_MAP_DONTNEED);
    usleep(50);
  }
  return NULL;
}

static void concurrency(size_t cache_max, int dropper, double secs) {
  watchdog(120);
  const uint64_t size = (4u << 20) + 4321;
  struct tsrc *t = tsrc_new(size, 100);
  struct mu_map *m = open_opts(t, BLOCK, 0, cache_max);
  atomic_ulong errors = 0, ops = 0;
  enum { NR = 4, NT = 2 };
  pthread_t th[NR + NT + 1];
  struct conc c[NR + NT + 1];
  double until = tnow() + secs;
  int n = NR + NT + (dropper ? 1 : 0);
  for (int i = 0; i < n; i++) {
    c[i] = (struct conc){.m = m, .size = size, .until = until, .seed = 7u + (unsigned)i,
                         .errors = &errors, .ops = &ops};
    pthread_create(&th[i], NULL, i < NR ? conc_reader : i < NR + NT ? conc_toucher : conc_dropper,
                   &c[i]);
  }
  for (int i = 0; i < n; i++)
    join_within(th[i], 60, NULL);
  struct mu_map_stats s = stats_of(m);
  printf("concurrency (cache_max %zu%s): %lu ops, %llu fetches, %llu faults, %llu evictions\n",
         cache_max, dropper ? ", DONTNEED racing" : "", atomic_load(&ops),
         (unsigned long long)s.fetches, (unsigned long long)s.faults,
         (unsigned long long)s.evictions);
  CHECK_INT(atomic_load(&errors), 0);
  CHECK(atomic_load(&ops) > 0);
  if (!cache_max && !dropper)
    CHECK(tsrc_max_page_fetches(t) <= 1);
  CHECK_READ(m, 0, size);
  mu_map_close(m);
  tsrc_free(t);
}

/* A block read while another thread keeps dropping it (DONTNEED): each
 * read fetches it again as often as needed and never reports an error. */
struct dropper_arg {
  struct mu_map *m;
  atomic_int stop;
};

static void *drop_block(void *arg) {
  struct dropper_arg *d = arg;
  while (!atomic_load(&d->stop))
    mu_map_advise(d->m, 3 * BLOCK, BLOCK, MU_MAP_DONTNEED);
  return NULL;
}

static void dropped_between(void) {
  watchdog(120);
  struct tsrc *t = tsrc_new(1 << 20, 300);
  struct mu_map *m = open_opts(t, BLOCK, 1, 0);
  struct dropper_arg d = {.m = m};
  pthread_t th;
  pthread_create(&th, NULL, drop_block, &d);
  int errs = 0;
  for (int i = 0; i < 300; i++) {
    size_t bad = 0;
    int rc = rd(m, 3 * BLOCK, BLOCK, &bad);
    if (rc != 0 || bad != 0) {
      if (errs++ < 3)
        fprintf(stderr, "  read %d of a block being dropped: rc %d, %zu bad\n", i, rc, bad);
    }
  }
  atomic_store(&d.stop, 1);
  join_within(th, 10, NULL);
  printf("dropped between: %llu fetches for 300 reads, %d errors\n",
         (unsigned long long)stats_of(m).fetches, errs);
  CHECK_INT(errs, 0);
  CHECK_INT(stats_of(m).failures, 0);
  mu_map_close(m);
  tsrc_free(t);
}

/* ---- a small cache maximum ---- */
static void small_cache(void) {
  watchdog(60);
  const uint64_t size = 64 * BLOCK;
  struct tsrc *t = tsrc_new(size, 0);
  struct mu_map *m = open_opts(t, BLOCK, 0, 4 * BLOCK);
  for (int pass = 0; pass < 2; pass++)
    for (uint64_t off = 0; off < size; off += 128 << 10)
      CHECK_READ(m, off, 128 << 10);
  /* and in odd sizes across block edges */
  for (uint64_t off = 0; off < size; off += 50000)
    CHECK_READ(m, off, size - off < 70000 ? (size_t)(size - off) : 70000);
  struct mu_map_stats s = stats_of(m);
  printf("cache_max 4 blocks, 64 blocks read twice: %llu fetches, %llu evictions, peak %llu\n",
         (unsigned long long)s.fetches, (unsigned long long)s.evictions,
         (unsigned long long)s.cache_peak);
  CHECK_INT(s.cache_max, 4 * BLOCK);
  CHECK(s.evictions > 0);
  CHECK(s.cache_peak <= 5 * BLOCK);
  CHECK(s.cache_bytes <= 4 * BLOCK);
  CHECK(atomic_load(&t->bytes) >= 2 * size - 4 * BLOCK);
  CHECK_INT(s.failures, 0);
  mu_map_close(m);
  tsrc_free(t);
}

/* ---- close while readers wait ---- */
struct waiter {
  struct mu_map *m;
  uint64_t off;
  size_t len;
  int rc;
  atomic_int done;
  double t_done; /* tnow() when the read returned */
};

static void *wait_read(void *arg) {
  struct waiter *w = arg;
  size_t bad = 0;
  w->rc = rd(w->m, w->off, w->len, &bad);
  if (w->rc == 0)
    CHECK_INT(bad, 0);
  w->t_done = tnow();
  atomic_store(&w->done, 1);
  return NULL;
}

/* Readers blocked on slow fetches in flight (1 s): close is prompt, each
 * reader returns an error, the source is released once the fetches end.
 * A reader runs the fetch of the block it misses itself (no hand-off to a
 * worker), so it returns when that fetch ends; a reader waiting on another
 * thread's fetch returns at once. w[1] and w[2] both need block 3: one
 * fetches it, the other waits. */
static void close_inflight(void) {
  watchdog(60);
  struct tsrc *t = tsrc_new(1 << 20, 1000000);
  struct mu_map *m = open_opts(t, BLOCK, 1, 0);
  enum { N = 3 };
  struct waiter w[N] = {{.m = m, .off = BLOCK + 9, .len = 100},
                        {.m = m, .off = 3 * BLOCK, .len = BLOCK},
                        {.m = m, .off = 3 * BLOCK + 5, .len = 2 * BLOCK}};
  pthread_t th[N];
  double started = tnow();
  for (int i = 0; i < N; i++)
    pthread_create(&th[i], NULL, wait_read, &w[i]);
  usleep(150000);
  for (int i = 0; i < N; i++)
    CHECK_INT(atomic_load(&w[i].done), 0);
  double t0 = tnow();
  mu_map_close(m);
  CHECK(tnow() - t0 < 0.5);
  int prompt = 0;
  for (int i = 0; i < N; i++) {
    join_within(th[i], 5, NULL);
    CHECK_INT(w[i].rc, MMAPURL_E_INVALID_ARG);
    prompt += w[i].t_done - t0 < 0.5;
    CHECK(w[i].t_done - started < 1.5); /* never later than its own fetch */
  }
  CHECK_INT(prompt, 1); /* the one waiting on another's fetch */
  printf("close with readers on fetches in flight: readers out in %.3f s (%d at once)\n",
         tnow() - t0, prompt);
  tsrc_free(t); /* waits for the release */
}

/* Readers blocked on fetches no worker has started (every worker is busy
 * with another mapping's slow fetch): close cancels those fetches; the
 * readers must still return an error, and must not touch a freed mapping
 * (ASan) or hang on it. */
static void close_queued(void) {
  watchdog(60);
  struct tsrc *tb = tsrc_new(MU_MAP_WORKERS * BLOCK, 1500000);
  struct mu_map *busy = open_opts(tb, BLOCK, 1, 0);
  struct waiter wb[MU_MAP_WORKERS];
  pthread_t thb[MU_MAP_WORKERS];
  for (int i = 0; i < MU_MAP_WORKERS; i++) {
    wb[i] = (struct waiter){.m = busy, .off = (uint64_t)i * BLOCK, .len = 10};
    pthread_create(&thb[i], NULL, wait_read, &wb[i]);
  }
  for (int i = 0; i < 1000 && stats_of(busy).fetches < MU_MAP_WORKERS; i++)
    usleep(1000);
  usleep(100000); /* every worker is now in a 1.5 s fetch */
  CHECK_INT(stats_of(busy).fetches, MU_MAP_WORKERS);

  struct tsrc *t = tsrc_new(1 << 20, 0);
  struct mu_map *m = open_opts(t, BLOCK, 1, 0);
  enum { N = 6 };
  struct waiter w[N];
  pthread_t th[N];
  for (int i = 0; i < N; i++) {
    w[i] = (struct waiter){.m = m, .off = (uint64_t)(i % 4) * BLOCK + 1, .len = 100};
    pthread_create(&th[i], NULL, wait_read, &w[i]);
  }
  usleep(100000);
  int started = (int)atomic_load(&t->calls);
  double t0 = tnow();
  mu_map_close(m);
  for (int i = 0; i < N; i++) {
    join_within(th[i], 5, NULL);
    if (!started)
      CHECK_INT(w[i].rc, MMAPURL_E_INVALID_ARG);
  }
  CHECK(tnow() - t0 < 0.5);
  for (int i = 0; i < 100 && !atomic_load(&t->released); i++)
    usleep(10000);
  CHECK_INT(atomic_load(&t->released), 1); /* nothing held it: released at once */
  printf("close with readers on queued fetches (%d started): readers out in %.3f s\n",
         started, tnow() - t0);
  tsrc_free(t);

  mu_map_close(busy);
  for (int i = 0; i < MU_MAP_WORKERS; i++) {
    join_within(thb[i], 5, NULL);
    CHECK(wb[i].rc != 0);
  }
  tsrc_free(tb);
}

/* fork() while a thread waits in mu_map_read: the child (only the forking
 * thread) reads the same mapping, its own fetches settle it, it closes it;
 * the parent's reader is served as usual. */
static void fork_while_reading(void) {
  watchdog(60);
  struct tsrc *t = tsrc_new(1 << 20, 300000);
  struct mu_map *m = open_opts(t, BLOCK, 1, 0);
  struct waiter w = {.m = m, .off = BLOCK + 3, .len = 2 * BLOCK};
  pthread_t th;
  pthread_create(&th, NULL, wait_read, &w);
  usleep(50000);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    alarm(20);
    CHECK_READ(m, 5 * BLOCK + 1, 100);
    CHECK_READ(m, BLOCK, 3 * BLOCK);
    mu_map_close(m);
    _exit(check_done());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  join_within(th, 10, NULL);
  CHECK_INT(w.rc, 0);
  mu_map_close(m);
  tsrc_free(t);
}

int main(void) {
  tbus_install(); /* an unexpected SIGBUS exits 99: a failure */

  /* Failures with the targeted-signal fallback (a fresh child), then with
   * poison if the kernel has it. */
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    mu_uffd_disable_poison();
    failures();
    _exit(check_done());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
    return 77;
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0); /* signals */
  failures();
  printf("poison: %s\n", mu_uffd_has_poison() ? "used" : "unavailable (signals)");

  sizes_offsets();
  with_touches();
  sequential();
  concurrency(0, 0, 1.5);
  concurrency(8 * BLOCK, 1, 1.5);
  dropped_between();
  small_cache();
  close_inflight();
  close_queued();
  if (!T_TSAN)
    fork_while_reading();
  alarm(0);
  CHECK_INT(mu_map_cache_bytes(), 0); /* every byte accounted out */
  mu_map_shutdown();
  return check_done();
}
