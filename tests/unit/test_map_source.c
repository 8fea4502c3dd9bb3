/*
 * test_map_source.c - the in-memory source of the test_map_* programs
 * (#included by each, so it stays out of the library): fetch writes a
 * deterministic pattern, counts calls and bytes and how often each page was
 * fetched, and can sleep (latency, but not on a prefix it holds in memory)
 * or fail (a switch). Also the helpers to open a mapping or skip (exit 77)
 * when userfaultfd is unavailable, to catch SIGBUS in the touching thread,
 * to read a mapping's counters and to wait on a flag. Never used by the
 * library itself.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "map/map.h"
#include "mmapurl.h"

struct tsrc {
  uint64_t size;
  atomic_ulong calls, bytes, max_len;
  atomic_uchar *page_fetches; /* per 4 KiB of the object: times fetched */
  unsigned delay_us;          /* sleep per fetch */
  uint64_t fast_prefix;       /* fetches inside [0, fast_prefix) do not
                                 sleep: the source's in_memory bytes */
  atomic_int fail;            /* non-zero: fetch returns this code */
  atomic_int released;        /* the mapping is done with it */
  /* The bytes are handed over in pieces of this many bytes (default
   * TSRC_STEP: not a block multiple); with `whole`, in one piece. */
  size_t step;
  int whole;
  /* Non-zero: after the first piece of a fetch at this offset + 1, wait
   * until `go` is set (a fetch held open halfway). */
  uint64_t hold_off1;
  atomic_int go, holding;
  atomic_int stopped; /* put() asked a fetch to stop */
  int opened;                 /* a mapping was opened on it */
};

/* The pattern: every byte depends on its offset, pages differ. */
static inline unsigned char tsrc_byte(uint64_t i) {
  return (unsigned char)(i * 131 + (i >> 8) * 7 + (i >> 12) * 13 + (i >> 20));
}

#define TSRC_STEP (12u << 10)

static inline int tsrc_fetch(void *ctx, size_t len, uint64_t off,
                             int (*put)(void *pctx, const void *data, size_t n, size_t at),
                             void *pctx) {
  struct tsrc *t = ctx;
  if (t->delay_us && off + len > t->fast_prefix)
    usleep(t->delay_us);
  atomic_fetch_add(&t->calls, 1);
  int rc = atomic_load(&t->fail);
  if (rc)
    return rc;
  atomic_fetch_add(&t->bytes, len);
  unsigned long prev = atomic_load(&t->max_len);
  while (len > prev && !atomic_compare_exchange_weak(&t->max_len, &prev, len)) {
  }
  if (off + len > t->size)
    abort(); /* the map asked past the end: a bug the test must see */
  for (uint64_t p = off / 4096; p < (off + len + 4095) / 4096; p++)
    atomic_fetch_add(&t->page_fetches[p], 1);
  size_t step = t->whole ? len : t->step ? t->step : TSRC_STEP;
  unsigned char *piece = malloc(step < len ? step : len);
  if (!piece)
    return MMAPURL_E_NOMEM;
  for (size_t done = 0; done < len;) {
    size_t n = len - done < step ? len - done : step;
    for (size_t i = 0; i < n; i++)
      piece[i] = tsrc_byte(off + done + i);
    int stop = put(pctx, piece, n, done);
    if (stop) {
      atomic_store(&t->stopped, 1);
      free(piece);
      return stop;
    }
    done += n;
    if (t->hold_off1 == off + 1 && done < len) {
      atomic_store(&t->holding, 1);
      while (!atomic_load(&t->go))
        usleep(1000);
    }
  }
  free(piece);
  return 0;
}

static inline void tsrc_release(void *ctx) { atomic_store(&((struct tsrc *)ctx)->released, 1); }

static inline struct tsrc *tsrc_new(uint64_t size, unsigned delay_us) {
  struct tsrc *t = calloc(1, sizeof *t);
  t->size = size;
  t->delay_us = delay_us;
  t->page_fetches = calloc(size / 4096 + 1, 1);
  return t;
}

/* Free t once no mapping uses it (release may come after close returns,
 * when a fetch was still running). */
static inline void tsrc_free(struct tsrc *t) {
  for (int i = 0; i < 1000 && t->opened && !atomic_load(&t->released); i++)
    usleep(10000);
  CHECK(!t->opened || atomic_load(&t->released));
  free(t->page_fetches);
  free(t);
}

static inline struct mu_map_source tsrc_source(struct tsrc *t) {
  return (struct mu_map_source){
      .size = t->size, .fetch = tsrc_fetch, .release = tsrc_release, .ctx = t,
      .in_memory = t->fast_prefix};
}

/* Highest number of fetches of any page (1 = no byte fetched twice). */
static inline unsigned tsrc_max_page_fetches(const struct tsrc *t) {
  unsigned max = 0;
  for (uint64_t p = 0; p < t->size / 4096 + 1; p++)
    if (t->page_fetches[p] > max)
      max = t->page_fetches[p];
  return max;
}

/* Open a mapping of src (t's, maybe with another fetch) with opts, or exit
 * 77 (skip) if userfaultfd is unavailable. */
static inline struct mu_map *tmap_open_src(struct tsrc *t, const struct mu_map_source *src,
                                           const struct mu_map_opts *opts) {
  struct mu_map *m = NULL;
  atomic_store(&t->released, 0);
  int rc = mu_map_open(src, opts, &m);
  if (rc == MMAPURL_E_UFFD_UNAVAILABLE) {
    printf("skipped: %s\n", mmap_s3_errstr(rc));
    exit(77);
  }
  CHECK_INT(rc, 0);
  t->opened = 1;
  if (!m)
    exit(check_done() ? check_done() : 1);
  return m;
}

/* Open a mapping of t, or exit 77 (skip) if userfaultfd is unavailable. */
static inline struct mu_map *tmap_open(struct tsrc *t, size_t block, size_t ra) {
  struct mu_map_source src = tsrc_source(t);
  struct mu_map_opts opts = {.block_size = block, .readahead_max = ra};
  return tmap_open_src(t, &src, &opts);
}

/* Compare n bytes of the mapping at off with the pattern; mismatches. */
static inline size_t tmap_verify(const struct mu_map *m, uint64_t off, size_t n) {
  const volatile unsigned char *p = (const unsigned char *)mu_map_addr(m) + off;
  size_t bad = 0;
  for (size_t i = 0; i < n; i++)
    bad += p[i] != tsrc_byte(off + i);
  return bad;
}

/* ---- SIGBUS caught in the touching thread ---- */
static __thread sigjmp_buf tbus_jmp;
static __thread volatile int tbus_armed;
static atomic_int tbus_count;

static inline void tbus_handler(int sig, siginfo_t *si, void *uc) {
  (void)sig, (void)si, (void)uc;
  atomic_fetch_add(&tbus_count, 1);
  if (tbus_armed)
    siglongjmp(tbus_jmp, 1);
  _exit(99); /* SIGBUS where none was expected */
}

static inline void tbus_install(void) {
  struct sigaction sa = {.sa_sigaction = tbus_handler, .sa_flags = SA_SIGINFO};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, NULL);
}

/* Read the byte at p; 1 if that raised SIGBUS in this thread, else 0. */
static inline int tbus_touch(const volatile unsigned char *p, unsigned char *out) {
  if (sigsetjmp(tbus_jmp, 1)) {
    tbus_armed = 0;
    return 1;
  }
  tbus_armed = 1;
  *out = *p;
  tbus_armed = 0;
  return 0;
}

/* A hang turns into a failure: watchdog(sec) before each case; if the next
 * sec seconds do not reach the next watchdog (or alarm(0)), exit 98. */
static inline void twatch_expired(int sig) {
  (void)sig;
  static const char msg[] = "watchdog: a case hung\n";
  ssize_t w = write(2, msg, sizeof msg - 1);
  (void)w;
  _exit(98);
}

static inline void watchdog(unsigned sec) {
  signal(SIGALRM, twatch_expired);
  alarm(sec);
}

static inline double tnow(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* m's counters now. */
static inline struct mu_map_stats stats_of(const struct mu_map *m) {
  struct mu_map_stats s;
  mu_map_stats(m, &s);
  return s;
}

/* Wait (up to 5 s) for *flag to be set; its value. */
static inline int wait_flag(atomic_int *flag) {
  for (int i = 0; i < 5000 && !atomic_load(flag); i++)
    usleep(1000);
  return atomic_load(flag);
}

/* Resident pages of [off, off+len) of the mapping (mincore). */
static inline size_t tmap_resident_pages(const struct mu_map *m, uint64_t off, uint64_t len) {
  size_t first = off / 4096, last = (off + len + 4095) / 4096, n = 0;
  unsigned char *vec = calloc(last - first ? last - first : 1, 1);
  if (vec && mincore((char *)mu_map_addr(m) + first * 4096, (last - first) * 4096, vec) == 0)
    for (size_t i = 0; i < last - first; i++)
      n += vec[i] & 1;
  free(vec);
  return n;
}

/* Wait (up to 5 s) until every page of [off, off+len) is resident; 1 if
 * they all are. */
static inline int tmap_wait_resident(const struct mu_map *m, uint64_t off, uint64_t len) {
  size_t want = (off + len + 4095) / 4096 - off / 4096;
  for (int i = 0; i < 500; i++) {
    if (tmap_resident_pages(m, off, len) == want)
      return 1;
    usleep(10000);
  }
  return 0;
}
