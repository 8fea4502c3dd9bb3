/*
 * test_map_readahead.c - sequential detection and readahead: a warm
 * sequential scan makes (almost) no demand fetches, its windows grow past
 * one block and are split into pieces, no byte is fetched twice (also with
 * two readers on the same range); a jump fetches one block and restarts
 * the ramp; a marker plans a window while the reader still has two ahead,
 * four times as large as the last if the reader had to wait on it and the
 * origin is slow, as a stream's window is on a slow origin;
 * interleaved readers of their own parts each get readahead,
 * and under a small cache none fetches another's part again;
 * readahead_max below the block size disables it.
 */
#include "test_map_source.c"

#define BLOCK 65536
#define SIZE ((32u << 20) + 1000)
#define NBLOCKS ((SIZE + BLOCK - 1) / BLOCK)

/* Read every page in order (the reader touches pages, not bytes). */
static size_t scan(const struct mu_map *m, uint64_t from, uint64_t to) {
  size_t bad = 0;
  for (uint64_t off = from; off < to; off += 4096)
    bad += tmap_verify(m, off, to - off < 4096 ? to - off : 4096);
  return bad;
}

static void *scan_all(void *arg) {
  size_t *bad = malloc(sizeof *bad);
  *bad = scan(arg, 0, SIZE);
  return bad;
}

/* Warm sequential scan with 2 ms per fetch. */
static void sequential(void) {
  struct tsrc *t = tsrc_new(SIZE, 2000);
  struct mu_map *m = tmap_open(t, BLOCK, 4 << 20);
  double t0 = tnow();
  CHECK_INT(scan(m, 0, SIZE), 0);
  struct mu_map_stats s;
  mu_map_stats(m, &s);
  printf("sequential 32 MiB, 2 ms/fetch: %.3f s, %llu fetches (%llu demand), largest %lu\n",
         tnow() - t0, (unsigned long long)s.fetches, (unsigned long long)s.demand_fetches,
         atomic_load(&t->max_len));
  CHECK(s.demand_fetches <= 4);                     /* never stalls once warm */
  CHECK(s.fetches < NBLOCKS / 2);                   /* windows of several blocks */
  CHECK(atomic_load(&t->max_len) >= 4 * BLOCK);     /* it grew */
  CHECK(atomic_load(&t->max_len) <= (4 << 20) / 2); /* split across workers */
  CHECK(tsrc_max_page_fetches(t) <= 1);             /* no byte twice */
  CHECK_INT(atomic_load(&t->bytes), SIZE);          /* nothing past the end */
  mu_map_close(m);
  tsrc_free(t);
}

/* Two threads scan the same object at once: overlapping readaheads. */
static void two_readers(void) {
  struct tsrc *t = tsrc_new(SIZE, 1000);
  struct mu_map *m = tmap_open(t, BLOCK, 2 << 20);
  pthread_t a, b;
  pthread_create(&a, NULL, scan_all, m);
  pthread_create(&b, NULL, scan_all, m);
  void *ra, *rb;
  pthread_join(a, &ra);
  pthread_join(b, &rb);
  CHECK_INT(*(size_t *)ra + *(size_t *)rb, 0);
  free(ra);
  free(rb);
  CHECK(tsrc_max_page_fetches(t) <= 1);
  mu_map_close(m);
  tsrc_free(t);
}

/* A jump fetches only its block; the next block in order ramps again. */
static void jump(void) {
  struct tsrc *t = tsrc_new(SIZE, 0);
  struct mu_map *m = tmap_open(t, BLOCK, 4 << 20);
  CHECK_INT(scan(m, 0, 8 * BLOCK), 0);
  usleep(100000); /* let the readahead in flight land */
  struct mu_map_stats before, after;
  mu_map_stats(m, &before);
  CHECK(before.readahead_blocks > 0);
  CHECK_INT(tmap_verify(m, 400 * BLOCK, 1), 0); /* far away */
  mu_map_stats(m, &after);
  CHECK_INT(after.readahead_blocks, before.readahead_blocks);
  CHECK_INT(after.fetches, before.fetches + 1);
  CHECK_INT(tmap_verify(m, 401 * BLOCK, 1), 0); /* the next block: sequential */
  mu_map_stats(m, &after);
  CHECK(after.readahead_blocks > before.readahead_blocks);
  /* the ramp restarts small: a first window (4 blocks) and the next (8) */
  CHECK(after.readahead_blocks <= before.readahead_blocks + 4 + 8);
  mu_map_close(m);
  tsrc_free(t);
}

/* A mapping of a source with delay_us per fetch whose fetch at block
 * `held` is held open after its first bytes; blocks 0 and 1 read (two
 * misses: windows A = [2, 6) and B = [6, 14) planned), the held fetch
 * reached. */
static struct mu_map *open_held(struct tsrc **t, unsigned delay_us, size_t held) {
  *t = tsrc_new(SIZE, delay_us);
  (*t)->hold_off1 = held * BLOCK + 1;
  struct mu_map *m = tmap_open(*t, BLOCK, 4 << 20);
  CHECK_INT(tmap_verify(m, 0, 2 * BLOCK), 0);
  CHECK(wait_flag(&(*t)->holding));
  return m;
}

/* Two windows ahead: the second miss plans windows A = [2, 6) and B =
 * [6, 14); B's first piece is held open. The marker (block 2) plans C =
 * [14, 30) while the reader still has A and B ahead, and moves into B, at
 * its first block still in flight: blocks 3-5 plan nothing, block 6 plans
 * D = [30, 62). (With one window ahead, block 2 planned B alone.) The
 * reader never waits on a marker, so windows double on a slow origin
 * (2 ms to every first byte) too. */
static void two_ahead(unsigned delay_us) {
  watchdog(60);
  struct tsrc *t;
  struct mu_map *m = open_held(&t, delay_us, 6);
  CHECK_INT(stats_of(m).readahead_blocks, 4 + 8);
  /* A landed (block 2 parked): the touch below does not wait on it, so
   * the window grows twice, however loaded the machine. */
  CHECK(tmap_wait_resident(m, 3 * BLOCK, 3 * BLOCK));
  CHECK_INT(tmap_verify(m, 2 * BLOCK, 1), 0);
  CHECK_INT(stats_of(m).readahead_blocks, 4 + 8 + 16);
  atomic_store(&t->go, 1); /* B lands: block 6 parked (the marker), 7..13 installed */
  CHECK(tmap_wait_resident(m, 7 * BLOCK, 7 * BLOCK));
  CHECK_INT(tmap_resident_pages(m, 6 * BLOCK, BLOCK), 0);
  CHECK_INT(tmap_verify(m, 2 * BLOCK, 4 * BLOCK), 0);
  CHECK_INT(stats_of(m).readahead_blocks, 4 + 8 + 16);
  CHECK_INT(tmap_verify(m, 6 * BLOCK, 1), 0);
  CHECK_INT(stats_of(m).readahead_blocks, 4 + 8 + 16 + 32);
  CHECK_INT(scan(m, 0, SIZE), 0);
  CHECK(tsrc_max_page_fetches(t) <= 1);
  mu_map_close(m);
  tsrc_free(t);
}

struct touch {
  const struct mu_map *m;
  uint64_t off;
  size_t bad;
};

static void *touch_one(void *arg) {
  struct touch *tc = arg;
  tc->bad = tmap_verify(tc->m, tc->off, 1);
  return NULL;
}

/* Start *th touching tc->off, a block in flight, and return once its fault
 * was served (anything planned then is planned: same lock): it waits. */
static void touch_waiting(struct touch *tc, pthread_t *th) {
  uint64_t faults = stats_of(tc->m).faults;
  CHECK_INT(pthread_create(th, NULL, touch_one, tc), 0);
  for (int i = 0; i < 5000 && stats_of(tc->m).faults == faults; i++)
    usleep(1000);
  CHECK(stats_of(tc->m).faults > faults);
}

/* A reader waits on the marker (block 2: A's one piece is held open after
 * its first bytes) as in two_ahead. When A lands, C is planned from 14:
 * twice B (16 blocks) on an origin answering at once, four times B (32)
 * if every first byte took 2 ms (a slow origin, as S3 is). */
static void slow_marker(unsigned delay_us, size_t want_c) {
  watchdog(60);
  struct tsrc *t;
  struct mu_map *m = open_held(&t, delay_us, 2);
  struct touch tc = {.m = m, .off = 2 * BLOCK};
  pthread_t th;
  touch_waiting(&tc, &th);
  CHECK_INT(stats_of(m).readahead_blocks, 4 + 8);
  atomic_store(&t->go, 1);
  CHECK_INT(pthread_join(th, NULL), 0);
  CHECK_INT(tc.bad, 0);
  /* The copy woke the toucher before the installer, back under the lock,
   * planned C. */
  for (int i = 0; i < 5000 && stats_of(m).readahead_blocks == 4 + 8; i++)
    usleep(1000);
  CHECK_INT(stats_of(m).readahead_blocks, 4 + 8 + want_c);
  CHECK_INT(scan(m, 0, SIZE), 0);
  CHECK(tsrc_max_page_fetches(t) <= 1);
  mu_map_close(m);
  tsrc_free(t);
}

/* Two readers, X from block 0 and Y from block 200, misses interleaved:
 * each is a stream of its own, and its second miss plans a first window
 * of 4 blocks (X: [2, 6), one piece, held open after its first bytes).
 * X waits on block 2 with no more than a window ahead: X's next window is
 * planned, from 6: twice 4 blocks on an origin answering at once, four
 * times on a slow one. Block 0 comes at once from the source's memory (as
 * the first block of an S3 object does, fetched at open): that says
 * nothing about the origin. */
static void slow_stream(unsigned delay_us, size_t want_next) {
  watchdog(60);
  struct tsrc *t = tsrc_new(SIZE, delay_us);
  t->hold_off1 = 2 * BLOCK + 1;
  t->fast_prefix = BLOCK;
  struct mu_map *m = tmap_open(t, BLOCK, 4 << 20);
  CHECK_INT(tmap_verify(m, 0, 1), 0);
  CHECK_INT(tmap_verify(m, 200 * BLOCK, 1), 0);
  CHECK_INT(tmap_verify(m, BLOCK, 1), 0);
  CHECK_INT(tmap_verify(m, 201 * BLOCK, 1), 0);
  CHECK(wait_flag(&t->holding));
  CHECK_INT(stats_of(m).readahead_blocks, 4 + 4);
  struct touch tc = {.m = m, .off = 2 * BLOCK};
  pthread_t th;
  touch_waiting(&tc, &th);
  CHECK_INT(stats_of(m).readahead_blocks, 4 + 4 + want_next);
  atomic_store(&t->go, 1);
  CHECK_INT(pthread_join(th, NULL), 0);
  CHECK_INT(tc.bad, 0);
  CHECK_INT(scan(m, 0, SIZE), 0);
  CHECK(tsrc_max_page_fetches(t) <= 1);
  mu_map_close(m);
  tsrc_free(t);
}

#define QUARTER ((uint64_t)SIZE / 4 / 4096 * 4096)

/* Four sequential readers of disjoint quarters whose misses interleave
 * (threads reading their own parts), page by page, touched in turn from
 * one thread so the interleaving is exact; then the tail past them. The
 * number of bad bytes. */
static size_t touch_quarters(const struct mu_map *m) {
  size_t bad = 0;
  for (uint64_t off = 0; off < QUARTER; off += 4096)
    for (int q = 0; q < 4; q++)
      bad += tmap_verify(m, q * QUARTER + off, 4096);
  for (uint64_t off = 4 * QUARTER; off < SIZE; off += 4096)
    bad += tmap_verify(m, off, SIZE - off < 4096 ? SIZE - off : 4096);
  return bad;
}

/* The four readers are each recognised as a stream of their own and read
 * ahead, where one detector would see only jumps. */
static void interleaved_streams(void) {
  struct tsrc *t = tsrc_new(SIZE, 0);
  struct mu_map *m = tmap_open(t, BLOCK, 4 << 20);
  CHECK_INT(touch_quarters(m), 0);
  struct mu_map_stats s;
  mu_map_stats(m, &s);
  printf("4 interleaved streams: %llu fetches (%llu demand) for %u blocks, %llu read ahead\n",
         (unsigned long long)s.fetches, (unsigned long long)s.demand_fetches,
         (unsigned)NBLOCKS, (unsigned long long)s.readahead_blocks);
  CHECK(s.readahead_blocks > 4 * QUARTER / BLOCK / 2); /* most blocks came ahead */
  CHECK(s.demand_fetches < 4 * QUARTER / BLOCK / 4);
  CHECK(s.bytes_fetched <= SIZE); /* none twice */
  mu_map_close(m);
  tsrc_free(t);
}

/* A mapping of a new source of SIZE bytes (*t) with readahead windows up
 * to ra, under a cache a quarter of the object. */
static struct mu_map *open_quarter_cache(struct tsrc **t, size_t ra) {
  *t = tsrc_new(SIZE, 0);
  struct mu_map_source src = tsrc_source(*t);
  struct mu_map_opts opts = {.block_size = BLOCK, .readahead_max = ra, .cache_max = SIZE / 4};
  return tmap_open_src(*t, &src, &opts);
}

/* The same four readers under a cache a quarter of the object: the early
 * blocks of each part are read and evicted long before the reader of the
 * part below gets there. Its window must stop at them, not fetch them
 * again for nobody; and a second pass over the whole object (one reader)
 * still reads ahead over blocks seen before. */
static void parts_small_cache(void) {
  struct tsrc *t;
  struct mu_map *m = open_quarter_cache(&t, 256 << 10);
  CHECK_INT(touch_quarters(m), 0);
  struct mu_map_stats s1, s2;
  mu_map_stats(m, &s1);
  printf("4 parts, cache a quarter of the object: %llu bytes fetched for %u, %llu evictions\n",
         (unsigned long long)s1.bytes_fetched, SIZE, (unsigned long long)s1.evictions);
  CHECK(s1.evictions > 0);
  CHECK_INT(s1.bytes_fetched, SIZE); /* every block once */
  CHECK_INT(scan(m, 0, SIZE), 0);    /* a second pass */
  mu_map_stats(m, &s2);
  printf("second pass: %llu fetches (%llu demand)\n",
         (unsigned long long)(s2.fetches - s1.fetches),
         (unsigned long long)(s2.demand_fetches - s1.demand_fetches));
  CHECK(s2.demand_fetches - s1.demand_fetches <= 8); /* read ahead, not block by block */
  mu_map_close(m);
  tsrc_free(t);
}

/* Scan the whole object: the demand fetches that took (printed as `what`). */
static uint64_t demands_of_scan(struct mu_map *m, const char *what) {
  struct mu_map_stats a, b;
  mu_map_stats(m, &a);
  CHECK_INT(scan(m, 0, SIZE), 0);
  mu_map_stats(m, &b);
  printf("%s: %llu demand fetches of %llu\n", what,
         (unsigned long long)(b.demand_fetches - a.demand_fetches),
         (unsigned long long)(b.fetches - a.fetches));
  return b.demand_fetches - a.demand_fetches;
}

/* Under SEQUENTIAL advice and a cache a quarter of the object, a second
 * pass over blocks read and evicted still reads ahead; so does a pass
 * after a few scattered blocks were read first (an index, a footer). */
static void passes_small_cache(void) {
  struct tsrc *t;
  struct mu_map *m = open_quarter_cache(&t, 4 << 20);
  CHECK_INT(mu_map_advise(m, 0, 0, MU_MAP_SEQUENTIAL), 0);
  CHECK_INT(scan(m, 0, SIZE), 0);
  CHECK(demands_of_scan(m, "SEQUENTIAL, second pass, cache a quarter") <= 4);
  mu_map_close(m);
  tsrc_free(t);

  m = open_quarter_cache(&t, 4 << 20);
  for (uint64_t b = 7; b < NBLOCKS; b += 32) /* every 32nd block, then dropped */
    CHECK_INT(tmap_verify(m, b * BLOCK, 4096), 0);
  CHECK_INT(mu_map_advise(m, 0, SIZE, MU_MAP_DONTNEED), 0);
  CHECK(demands_of_scan(m, "pass after every 32nd block was read") <= 4);
  mu_map_close(m);
  tsrc_free(t);
}

/* readahead_max below the block size: one fetch per block. */
static void disabled(void) {
  struct tsrc *t = tsrc_new(2 << 20, 0);
  struct mu_map *m = tmap_open(t, BLOCK, 1);
  CHECK_INT(scan(m, 0, 2 << 20), 0);
  CHECK_INT(atomic_load(&t->calls), (2 << 20) / BLOCK);
  mu_map_close(m);
  tsrc_free(t);
}

int main(void) {
  sequential();
  two_readers();
  jump();
  two_ahead(0);
  two_ahead(2000);
  slow_marker(0, 16);
  slow_marker(2000, 32);
  slow_stream(0, 8);
  slow_stream(2000, 16);
  interleaved_streams();
  parts_small_cache();
  passes_small_cache();
  disabled();
  mu_map_shutdown();
  return check_done();
}
