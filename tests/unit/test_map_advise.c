/*
 * test_map_advise.c - mu_map_advise: RANDOM makes a sequential scan fetch
 * one block per block touched (no readahead); SEQUENTIAL makes the first
 * fault plan a full window; WILLNEED fetches a range without any fault,
 * without blocking, never twice, within the budget, and a later scan of it
 * takes no demand fetch; DONTNEED drops installed pages (mincore), which the
 * next touch fetches again byte-exact, and leaves blocks in flight alone;
 * a block dropped and installed again is evicted by its new age;
 * NULL and unknown advice give MMAPURL_E_INVALID_ARG. Each mode is compared
 * with NORMAL on the same access, so the checks fail without the advice.
 */
#include <sys/mman.h>

#include "test_map_source.c"

#define BLOCK 65536
#define RA (4 << 20)           /* full window: 64 blocks */
#define RA_BLOCKS (RA / BLOCK)
#define SIZE ((8u << 20) + 1000) /* 129 blocks, the last one partial */
#define NBLOCKS ((SIZE + BLOCK - 1) / BLOCK)

/* Read every page of [from, to) in order; mismatching bytes. */
static size_t scan(const struct mu_map *m, uint64_t from, uint64_t to) {
  size_t bad = 0;
  for (uint64_t off = from; off < to; off += 4096)
    bad += tmap_verify(m, off, to - off < 4096 ? to - off : 4096);
  return bad;
}

/* Sequential scan of the whole object under advice; its stats. */
static struct mu_map_stats scan_with(enum mu_map_advice advice, unsigned long *calls) {
  struct tsrc *t = tsrc_new(SIZE, 0);
  struct mu_map *m = tmap_open(t, BLOCK, RA);
  CHECK_INT(mu_map_advise(m, 0, 0, advice), 0);
  CHECK_INT(scan(m, 0, SIZE), 0);
  usleep(50000); /* let readahead in flight land */
  struct mu_map_stats s = stats_of(m);
  *calls = atomic_load(&t->calls);
  CHECK(tsrc_max_page_fetches(t) <= 1);
  mu_map_close(m);
  tsrc_free(t);
  return s;
}

static void random_mode(void) {
  unsigned long calls = 0;
  struct mu_map_stats n = scan_with(MU_MAP_NORMAL, &calls);
  CHECK(n.readahead_blocks > 0); /* the control: NORMAL reads ahead */
  struct mu_map_stats r = scan_with(MU_MAP_RANDOM, &calls);
  printf("sequential scan: NORMAL %llu fetches (%llu readahead blocks), RANDOM %llu fetches\n",
         (unsigned long long)n.fetches, (unsigned long long)n.readahead_blocks,
         (unsigned long long)r.fetches);
  CHECK_INT(calls, NBLOCKS);
  CHECK_INT(r.fetches, NBLOCKS);
  CHECK_INT(r.demand_fetches, NBLOCKS);
  CHECK_INT(r.readahead_blocks, 0);
  CHECK_INT(r.bytes_fetched, SIZE);
}

/* Touch byte 0 under advice: the stats right after the first fault. */
static struct mu_map_stats first_fault(enum mu_map_advice advice, unsigned long *max_len) {
  struct tsrc *t = tsrc_new(SIZE, 0);
  struct mu_map *m = tmap_open(t, BLOCK, RA);
  CHECK_INT(mu_map_advise(m, 0, 0, advice), 0);
  CHECK_INT(tmap_verify(m, 0, 1), 0);
  struct mu_map_stats s = stats_of(m); /* planned under the fault's lock */
  CHECK_INT(scan(m, 0, SIZE), 0);
  CHECK(tsrc_max_page_fetches(t) <= 1);
  *max_len = atomic_load(&t->max_len);
  mu_map_close(m);
  tsrc_free(t);
  return s;
}

static void sequential_mode(void) {
  unsigned long max_len = 0;
  struct mu_map_stats n = first_fault(MU_MAP_NORMAL, &max_len);
  CHECK_INT(n.readahead_blocks, 0); /* the control: NORMAL waits for a second miss */
  struct mu_map_stats s = first_fault(MU_MAP_SEQUENTIAL, &max_len);
  printf("first fault: NORMAL %llu readahead blocks, SEQUENTIAL %llu (%llu fetches)\n",
         (unsigned long long)n.readahead_blocks, (unsigned long long)s.readahead_blocks,
         (unsigned long long)s.fetches);
  CHECK_INT(s.faults, 1);
  CHECK_INT(s.demand_fetches, 1);
  CHECK_INT(s.readahead_blocks, 2 * RA_BLOCKS);         /* two full windows at once */
  CHECK_INT(s.fetches, 1 + 2 * MU_MAP_RA_PIECES);       /* each split in pieces */
  CHECK(max_len <= (unsigned long)RA / MU_MAP_RA_PIECES); /* in pieces, still */
}

static void willneed(void) {
  struct tsrc *t = tsrc_new(SIZE, 300000); /* 300 ms per fetch */
  struct mu_map *m = tmap_open(t, BLOCK, RA);
  double t0 = tnow();
  CHECK_INT(mu_map_advise(m, 1 << 20, 2 << 20, MU_MAP_WILLNEED), 0); /* blocks 16..47 */
  double took = tnow() - t0;
  CHECK(took < 0.15); /* never waits for a fetch (a margin for sanitizers) */
  CHECK(tmap_wait_resident(m, 1 << 20, 2 << 20));
  struct mu_map_stats s = stats_of(m);
  printf("WILLNEED 2 MiB: returned in %.1f ms, %llu fetches, %llu faults\n", took * 1000,
         (unsigned long long)s.fetches, (unsigned long long)s.faults);
  CHECK_INT(s.faults, 0);
  CHECK_INT(s.demand_fetches, 0);
  CHECK_INT(s.readahead_blocks, 32);
  CHECK_INT(s.bytes_fetched, 2 << 20);
  CHECK_INT(tmap_resident_pages(m, 0, 1 << 20), 0); /* nothing outside the range */
  /* Again, and overlapping: only the blocks not yet fetched (48..63). */
  CHECK_INT(mu_map_advise(m, 1 << 20, 2 << 20, MU_MAP_WILLNEED), 0);
  CHECK_INT(mu_map_advise(m, 2 << 20, 2 << 20, MU_MAP_WILLNEED), 0);
  CHECK(tmap_wait_resident(m, 1 << 20, 3 << 20));
  CHECK_INT(stats_of(m).readahead_blocks, 48);
  unsigned long calls = atomic_load(&t->calls);
  CHECK_INT(scan(m, 1 << 20, 4 << 20), 0); /* the bytes are right */
  s = stats_of(m);
  CHECK_INT(s.faults, 0);
  CHECK_INT(s.demand_fetches, 0);
  CHECK_INT(atomic_load(&t->calls), calls);
  CHECK(tsrc_max_page_fetches(t) <= 1);
  /* Ranges past the end, empty or overflowing are clipped. */
  CHECK_INT(mu_map_advise(m, SIZE, 1, MU_MAP_WILLNEED), 0);
  CHECK_INT(mu_map_advise(m, 0, 0, MU_MAP_WILLNEED), 0);
  CHECK_INT(mu_map_advise(m, SIZE - 1, UINT64_MAX, MU_MAP_WILLNEED), 0); /* the last block */
  CHECK(tmap_wait_resident(m, SIZE - 1, 1));
  CHECK_INT(stats_of(m).readahead_blocks, 49);
  CHECK_INT(tmap_verify(m, SIZE - 1000, 1000), 0);
  mu_map_close(m);
  tsrc_free(t);
}

/* With a cache max, WILLNEED of more than fits claims only what fits below
 * the eviction watermark (3/4 of max). */
static void willneed_budget(void) {
  size_t cap = 1 << 20;
  mu_map_set_cache_max(cap);
  struct tsrc *t = tsrc_new(SIZE, 0);
  struct mu_map *m = tmap_open(t, BLOCK, RA);
  CHECK_INT(mu_map_advise(m, 0, SIZE, MU_MAP_WILLNEED), 0);
  CHECK(tmap_wait_resident(m, 0, cap * 3 / 4));
  CHECK_INT(stats_of(m).readahead_blocks, cap * 3 / 4 / BLOCK);
  CHECK(mu_map_cache_bytes() <= cap * 3 / 4);
  CHECK_INT(scan(m, 0, SIZE), 0);
  mu_map_close(m);
  tsrc_free(t);
  CHECK_INT(mu_map_cache_bytes(), 0);
  mu_map_set_cache_max(0);
}

static void dontneed(void) {
  struct tsrc *t = tsrc_new(2 << 20, 0);
  struct mu_map *m = tmap_open(t, BLOCK, RA);
  CHECK_INT(scan(m, 0, 2 << 20), 0);
  CHECK(tmap_wait_resident(m, 0, 2 << 20));
  size_t before = mu_map_cache_bytes();
  CHECK_INT(mu_map_advise(m, 512 << 10, 512 << 10, MU_MAP_DONTNEED), 0); /* blocks 8..15 */
  CHECK_INT(tmap_resident_pages(m, 512 << 10, 512 << 10), 0);
  CHECK_INT(tmap_resident_pages(m, 0, 512 << 10), 128);
  CHECK_INT(tmap_resident_pages(m, 1 << 20, 1 << 20), 256);
  CHECK_INT(mu_map_cache_bytes(), before - (512 << 10)); /* left the budget */
  unsigned long calls = atomic_load(&t->calls);
  CHECK_INT(scan(m, 512 << 10, 1 << 20), 0); /* fetched again, right bytes */
  CHECK(atomic_load(&t->calls) > calls);
  CHECK_INT(atomic_load(&t->page_fetches[(512 << 10) / 4096]), 2);
  CHECK_INT(atomic_load(&t->page_fetches[0]), 1); /* the rest stayed */
  CHECK_INT(atomic_load(&t->page_fetches[(1 << 20) / 4096]), 1);
  /* Part of one block: the whole block goes (the unit of a mapping). */
  CHECK_INT(mu_map_advise(m, 3 * BLOCK + 100, 1, MU_MAP_DONTNEED), 0);
  CHECK_INT(tmap_resident_pages(m, 3 * BLOCK, BLOCK), 0);
  CHECK_INT(tmap_resident_pages(m, 2 * BLOCK, BLOCK), 16);
  CHECK_INT(tmap_verify(m, 3 * BLOCK, BLOCK), 0);
  mu_map_close(m);
  tsrc_free(t);
}

/* Read blocks [from, to) with mu_map_read, one at a time: each is fetched
 * and installed (and queued for eviction) before the call returns, so the
 * queue's order is the order of the calls. Mismatching bytes. */
static size_t read_blocks(struct mu_map *m, size_t from, size_t to) {
  static unsigned char buf[BLOCK];
  size_t bad = 0;
  for (size_t b = from; b < to; b++) {
    CHECK_INT(mu_map_read(m, buf, BLOCK, (uint64_t)b * BLOCK), 0);
    for (size_t i = 0; i < BLOCK; i++)
      bad += buf[i] != tsrc_byte((uint64_t)b * BLOCK + i);
  }
  return bad;
}

/* A block dropped by DONTNEED and touched again is as young as its new
 * install: under a cache of 8 blocks (evicting from 6 down to 5), the
 * next eviction takes the two oldest blocks, 1 and 2, not block 0, whose
 * first install's eviction candidate would have stood for it. */
static void dontneed_age(void) {
  struct tsrc *t = tsrc_new(2 << 20, 0);
  struct mu_map_source src = tsrc_source(t);
  struct mu_map_opts opts = {.block_size = BLOCK, .readahead_max = 1, .cache_max = 8 * BLOCK};
  struct mu_map *m = tmap_open_src(t, &src, &opts);
  CHECK_INT(read_blocks(m, 0, 4), 0); /* blocks 0..3 */
  CHECK_INT(mu_map_advise(m, 0, BLOCK, MU_MAP_DONTNEED), 0);
  CHECK_INT(read_blocks(m, 0, 1), 0); /* block 0 again */
  CHECK_INT(read_blocks(m, 4, 6), 0); /* 4, 5: 6 blocks, no eviction yet */
  CHECK_INT(stats_of(m).evictions, 0);
  CHECK_INT(read_blocks(m, 6, 7), 0); /* 7 blocks: evict 2 */
  CHECK_INT(stats_of(m).evictions, 2);
  CHECK_INT(tmap_resident_pages(m, 0, BLOCK), BLOCK / 4096);
  CHECK_INT(tmap_resident_pages(m, BLOCK, 2 * BLOCK), 0);
  CHECK_INT(tmap_resident_pages(m, 3 * BLOCK, 4 * BLOCK), 4 * BLOCK / 4096);
  mu_map_close(m);
  tsrc_free(t);
}

/* DONTNEED of blocks in flight leaves them: they land once, and stay. */
static void dontneed_inflight(void) {
  struct tsrc *t = tsrc_new(2 << 20, 50000); /* 50 ms per fetch */
  struct mu_map *m = tmap_open(t, BLOCK, RA);
  CHECK_INT(mu_map_advise(m, 0, 1 << 20, MU_MAP_WILLNEED), 0);
  CHECK_INT(mu_map_advise(m, 0, 1 << 20, MU_MAP_DONTNEED), 0);
  CHECK(tmap_wait_resident(m, 0, 1 << 20));
  CHECK_INT(mu_map_cache_bytes(), 1 << 20);
  CHECK_INT(scan(m, 0, 1 << 20), 0);
  CHECK_INT(stats_of(m).faults, 0);
  CHECK_INT(tsrc_max_page_fetches(t), 1);
  mu_map_close(m);
  tsrc_free(t);
}

static void invalid(void) {
  CHECK_INT(mu_map_advise(NULL, 0, 1, MU_MAP_NORMAL), MMAPURL_E_INVALID_ARG);
  CHECK_INT(mu_map_advise(NULL, 0, 1, MU_MAP_WILLNEED), MMAPURL_E_INVALID_ARG);
  struct tsrc *t = tsrc_new(1 << 20, 0);
  struct mu_map *m = tmap_open(t, BLOCK, RA);
  CHECK_INT(mu_map_advise(m, 0, 1, (enum mu_map_advice)5), MMAPURL_E_INVALID_ARG);
  CHECK_INT(mu_map_advise(m, 0, 1, (enum mu_map_advice)-1), MMAPURL_E_INVALID_ARG);
  CHECK_INT(mu_map_advise(m, 0, 1, (enum mu_map_advice)1000), MMAPURL_E_INVALID_ARG);
  CHECK_INT(stats_of(m).fetches, 0);
  for (int a = MU_MAP_NORMAL; a <= MU_MAP_DONTNEED; a++)
    CHECK_INT(mu_map_advise(m, 0, 1 << 20, (enum mu_map_advice)a), 0);
  mu_map_close(m);
  tsrc_free(t);
  /* An empty mapping takes advice (there is nothing to do). */
  struct mu_map_source src = {.size = 0, .fetch = tsrc_fetch};
  CHECK_INT(mu_map_open(&src, NULL, &m), 0);
  CHECK_INT(mu_map_advise(m, 0, 100, MU_MAP_WILLNEED), 0);
  CHECK_INT(mu_map_advise(m, 0, 100, MU_MAP_DONTNEED), 0);
  CHECK_INT(mu_map_advise(m, 0, 0, MU_MAP_SEQUENTIAL), 0);
  mu_map_close(m);
}

int main(void) {
  random_mode();
  sequential_mode();
  willneed();
  willneed_budget();
  dontneed();
  dontneed_age();
  dontneed_inflight();
  invalid();
  mu_map_shutdown();
  return check_done();
}
