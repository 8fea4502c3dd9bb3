/*
 * budget.c - byte budgets and their eviction queues (FIFO of installed
 * blocks: MISSING faults only reveal first touches, so age of install is
 * what we know). One instance is process-wide; a mapping with a limit of its
 * own has another, whose bytes count in the process-wide one too. Eviction
 * runs on a worker, in batches between watermarks, and drops pages with
 * MADV_DONTNEED through region.c, which refuses blocks that are not
 * installed (in flight, parked, failed, closing).
 * Lock order: registry -> mapping -> an instance's `lock`; the evictor holds
 * the instance's `evicting` (taken with no other lock held) and pops under
 * `lock` alone, then takes registry -> mapping. Never evicts from a mapping
 * not in the registry (it may be closed and freed).
 */
#include "map/budget.h"

#include <stdlib.h>

#include "map/reader.h"
#include "map/region.h"
#include "util/stats.h"

static struct mu_budget proc = {.lock = PTHREAD_MUTEX_INITIALIZER,
                                 .evicting = PTHREAD_MUTEX_INITIALIZER};

struct mu_budget *mu_budget_proc(void) { return &proc; }

void mu_budget_init(struct mu_budget *b, size_t max) {
  *b = (struct mu_budget){.parent = &proc, .max = max};
  pthread_mutex_init(&b->lock, NULL);
  pthread_mutex_init(&b->evicting, NULL);
}

void mu_budget_fini(struct mu_budget *b) {
  free(b->ring);
  pthread_mutex_destroy(&b->lock);
  pthread_mutex_destroy(&b->evicting);
}

void mu_budget_set(struct mu_budget *b, size_t max) { __atomic_store_n(&b->max, max, __ATOMIC_RELAXED); }
size_t mu_budget_max(const struct mu_budget *b) { return __atomic_load_n(&b->max, __ATOMIC_RELAXED); }
size_t mu_budget_used(const struct mu_budget *b) { return __atomic_load_n(&b->used, __ATOMIC_RELAXED); }
size_t mu_budget_peak(const struct mu_budget *b) { return __atomic_load_n(&b->peak, __ATOMIC_RELAXED); }
size_t mu_budget_evictions(const struct mu_budget *b) {
  return __atomic_load_n(&b->evictions, __ATOMIC_RELAXED);
}

void mu_budget_add(struct mu_budget *b, size_t n) {
  for (; b; b = b->parent) {
    size_t now = __atomic_add_fetch(&b->used, n, __ATOMIC_RELAXED);
    size_t old = __atomic_load_n(&b->peak, __ATOMIC_RELAXED);
    while (now > old && !__atomic_compare_exchange_n(&b->peak, &old, now, 1, __ATOMIC_RELAXED,
                                                     __ATOMIC_RELAXED)) {
    }
    if (b == &proc) {
      mu_stat_add(MU_STAT_CACHE_BYTES, n);
      mu_stat_max(MU_STAT_CACHE_PEAK, now);
    }
  }
}

void mu_budget_sub(struct mu_budget *b, size_t n) {
  for (; b; b = b->parent)
    __atomic_sub_fetch(&b->used, n, __ATOMIC_RELAXED);
  mu_stat_sub(MU_STAT_CACHE_BYTES, n);
}

size_t mu_budget_limit(const struct mu_budget *b) {
  size_t limit = 0;
  for (; b; b = b->parent) {
    size_t max = mu_budget_max(b);
    if (max && (limit == 0 || max < limit))
      limit = max;
  }
  return limit;
}

size_t mu_budget_room(const struct mu_budget *b, unsigned quarters) {
  size_t room = SIZE_MAX;
  for (; b; b = b->parent) {
    size_t max = mu_budget_max(b), used = mu_budget_used(b);
    size_t mark = max - max / 4 * (4 - quarters);
    size_t here = used < mark ? mark - used : 0;
    if (max && here < room)
      room = here;
  }
  return room;
}

/* Under b->lock: make room for one more candidate. 0 or -1 (no memory). */
static int grow_locked(struct mu_budget *b) {
  size_t cap = b->cap ? b->cap * 2 : 1024;
  struct mu_budget_cand *ring = malloc(cap * sizeof *ring);
  if (!ring)
    return -1;
  for (size_t i = 0; i < b->n; i++)
    ring[i] = b->ring[(b->head + i) % b->cap];
  free(b->ring);
  b->ring = ring;
  b->head = 0;
  b->cap = cap;
  return 0;
}

size_t mu_budget_note(struct mu_budget *b, struct mu_map *m, const size_t *blks, size_t n) {
  pthread_mutex_lock(&b->lock);
  size_t i = 0;
  for (; i < n; i++) {
    if (b->n == b->cap && grow_locked(b) != 0)
      break;
    b->ring[(b->head + b->n++) % b->cap] = (struct mu_budget_cand){
        .m = m, .addr = (uintptr_t)m->addr, .block = blks[i], .bytes = m->block};
  }
  pthread_mutex_unlock(&b->lock);
  return i;
}

/* Under b->lock: drop m's candidates for blocks in [from, to). */
static void forget_locked(struct mu_budget *b, const struct mu_map *m, size_t from, size_t to) {
  size_t kept = 0;
  for (size_t i = 0; i < b->n; i++) {
    struct mu_budget_cand c = b->ring[(b->head + i) % b->cap];
    if (c.m != m || c.block < from || c.block >= to)
      b->ring[(b->head + kept++) % b->cap] = c;
  }
  b->n = kept;
}

void mu_budget_forget(struct mu_budget *b, const struct mu_map *m) {
  pthread_mutex_lock(&b->lock);
  forget_locked(b, m, 0, SIZE_MAX);
  pthread_mutex_unlock(&b->lock);
}

int mu_budget_forget_range(struct mu_budget *b, const struct mu_map *m, size_t from, size_t to) {
  pthread_mutex_lock(&b->lock);
  int scan = b->n / 16 <= to - from;
  if (scan)
    forget_locked(b, m, from, to);
  pthread_mutex_unlock(&b->lock);
  return scan;
}

/* The most one eviction run drops: one madvise holds the registry lock and
 * the mapping's (128 MiB took about 10 ms; the fault readers wait). */
#define EVICT_RUN_MAX ((size_t)2 << 20)

/* Candidates popped at once (8 KiB on the evicting thread's stack).
 * Sixteen pieces in flight install their blocks in turn, so consecutive
 * candidates are rarely consecutive blocks: popped one run at a time, a
 * 1 GiB stream under a 64 MiB cache took 20k madvise calls (and TLB
 * shootdowns) of 3 blocks on average; sorted, a batch falls into long
 * runs (1.9k calls). */
#define EVICT_BATCH 256

/* Pop the oldest candidates, up to `need` bytes and EVICT_BATCH of them,
 * into out. How many. */
static size_t pop_batch(struct mu_budget *b, struct mu_budget_cand *out, size_t need) {
  pthread_mutex_lock(&b->lock);
  size_t n = 0, bytes = 0;
  while (b->n > 0 && n < EVICT_BATCH && bytes < need) {
    out[n] = b->ring[b->head];
    bytes += out[n++].bytes;
    b->head = (b->head + 1) % b->cap;
    b->n--;
  }
  pthread_mutex_unlock(&b->lock);
  return n;
}

/* Order: by mapping, then block (runs of one mapping's blocks line up). */
static int cand_cmp(const void *pa, const void *pb) {
  const struct mu_budget_cand *a = pa, *b = pb;
  if (a->addr != b->addr)
    return a->addr < b->addr ? -1 : 1;
  if (a->m != b->m)
    return (uintptr_t)a->m < (uintptr_t)b->m ? -1 : 1;
  return a->block < b->block ? -1 : a->block > b->block;
}

/* The length of the run of batch[i..n): the same mapping, the next blocks,
 * at most EVICT_RUN_MAX. */
static size_t run_len(const struct mu_budget_cand *batch, size_t i, size_t n) {
  size_t k = 1;
  while (i + k < n && batch[i + k].m == batch[i].m && batch[i + k].addr == batch[i].addr &&
         batch[i + k].block == batch[i].block + k && (k + 1) * batch[i].bytes <= EVICT_RUN_MAX)
    k++;
  return k;
}

/* n blocks were evicted from b: count them in b and in the process-wide
 * total. */
static void count_evictions(struct mu_budget *b, size_t n) {
  __atomic_add_fetch(&b->evictions, n, __ATOMIC_RELAXED);
  if (b != &proc)
    __atomic_add_fetch(&proc.evictions, n, __ATOMIC_RELAXED);
  mu_stat_add(MU_STAT_EVICTIONS, n);
}

void mu_budget_evict(struct mu_budget *b) {
  size_t max = mu_budget_max(b);
  size_t high = max - max / 4, low = high - max / 8;
  if (max == 0 || mu_budget_used(b) <= high)
    return;
  pthread_mutex_lock(&b->evicting);
  struct mu_budget_cand batch[EVICT_BATCH];
  size_t used, n;
  while ((used = mu_budget_used(b)) > low && (n = pop_batch(b, batch, used - low)) > 0) {
    qsort(batch, n, sizeof *batch, cand_cmp);
    for (size_t i = 0, k; i < n; i += k) {
      k = run_len(batch, i, n);
      mu_reader_lock();
      if (mu_reader_has_locked(batch[i].m, batch[i].addr))
        count_evictions(b, mu_region_evict(batch[i].m, batch[i].block, k, b));
      mu_reader_unlock();
    }
  }
  pthread_mutex_unlock(&b->evicting);
}

void mu_budget_fork_lock(struct mu_budget *b) { pthread_mutex_lock(&b->lock); }

void mu_budget_fork_unlock(struct mu_budget *b, int in_child) {
  if (in_child)
    pthread_mutex_init(&b->evicting, NULL);
  pthread_mutex_unlock(&b->lock);
}
