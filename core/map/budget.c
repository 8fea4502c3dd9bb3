/*
 * budget.c - the byte budget and its eviction queue (FIFO of installed
 * blocks: MISSING faults only reveal first touches, so age of install is
 * what we know). Eviction runs on a worker, in batches between watermarks,
 * and drops pages with MADV_DONTNEED through region.c, which refuses
 * blocks that are not installed (in flight, parked, failed, closing).
 * Lock order: registry -> mapping -> `q.lock`; the evictor pops under
 * q.lock alone, then takes registry -> mapping. Never evicts from a mapping
 * not in the registry (it may be closed and freed).
 */
#include "map/budget.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "map/reader.h"
#include "map/region.h"
#include "util/stats.h"

/* Counters: atomics, any thread. */
static size_t used, peak, max_bytes, evictions;
static int evicting; /* one evictor at a time (atomic flag) */

/* The candidates, a ring buffer guarded by q.lock. */
struct cand {
  struct mu_map *m; /* compared only: it may have been freed */
  uintptr_t addr;   /* m's address, to find it in the registry */
  size_t block;
};
static struct {
  pthread_mutex_t lock;
  struct cand *ring;
  size_t head, n, cap;
} q = {.lock = PTHREAD_MUTEX_INITIALIZER};

void mu_budget_set(size_t max) { __atomic_store_n(&max_bytes, max, __ATOMIC_RELAXED); }
size_t mu_budget_max(void) { return __atomic_load_n(&max_bytes, __ATOMIC_RELAXED); }
size_t mu_budget_used(void) { return __atomic_load_n(&used, __ATOMIC_RELAXED); }
size_t mu_budget_peak(void) { return __atomic_load_n(&peak, __ATOMIC_RELAXED); }
size_t mu_budget_evictions(void) { return __atomic_load_n(&evictions, __ATOMIC_RELAXED); }

void mu_budget_add(size_t n) {
  size_t now = __atomic_add_fetch(&used, n, __ATOMIC_RELAXED);
  mu_stat_add(MU_STAT_CACHE_BYTES, n);
  mu_stat_max(MU_STAT_CACHE_PEAK, now);
  size_t old = __atomic_load_n(&peak, __ATOMIC_RELAXED);
  while (now > old && !__atomic_compare_exchange_n(&peak, &old, now, 1, __ATOMIC_RELAXED,
                                                   __ATOMIC_RELAXED)) {
  }
}

void mu_budget_sub(size_t n) {
  __atomic_sub_fetch(&used, n, __ATOMIC_RELAXED);
  mu_stat_sub(MU_STAT_CACHE_BYTES, n);
}

/* Under q.lock: make room for one more candidate. 0 or -1 (no memory). */
static int grow_locked(void) {
  size_t cap = q.cap ? q.cap * 2 : 1024;
  struct cand *ring = malloc(cap * sizeof *ring);
  if (!ring)
    return -1;
  for (size_t i = 0; i < q.n; i++)
    ring[i] = q.ring[(q.head + i) % q.cap];
  free(q.ring);
  q.ring = ring;
  q.head = 0;
  q.cap = cap;
  return 0;
}

int mu_budget_note(struct mu_map *m, size_t b) {
  if (mu_budget_max() == 0)
    return 0;
  pthread_mutex_lock(&q.lock);
  int rc = q.n == q.cap ? grow_locked() : 0;
  if (rc == 0)
    q.ring[(q.head + q.n++) % q.cap] =
        (struct cand){.m = m, .addr = (uintptr_t)m->addr, .block = b};
  pthread_mutex_unlock(&q.lock);
  return rc;
}

void mu_budget_forget(const struct mu_map *m) {
  pthread_mutex_lock(&q.lock);
  size_t kept = 0;
  for (size_t i = 0; i < q.n; i++) {
    struct cand c = q.ring[(q.head + i) % q.cap];
    if (c.m != m)
      q.ring[(q.head + kept++) % q.cap] = c;
  }
  q.n = kept;
  pthread_mutex_unlock(&q.lock);
}

static int pop(struct cand *out) {
  pthread_mutex_lock(&q.lock);
  int got = q.n > 0;
  if (got) {
    *out = q.ring[q.head];
    q.head = (q.head + 1) % q.cap;
    q.n--;
  }
  pthread_mutex_unlock(&q.lock);
  return got;
}

void mu_budget_evict(void) {
  size_t max = mu_budget_max();
  size_t high = max - max / 4, low = high - max / 8;
  if (max == 0 || mu_budget_used() <= high ||
      __atomic_exchange_n(&evicting, 1, __ATOMIC_ACQUIRE))
    return;
  struct cand c;
  while (mu_budget_used() > low && pop(&c)) {
    mu_reader_lock();
    if (mu_reader_has_locked(c.m, c.addr) && mu_region_evict(c.m, c.block)) {
      __atomic_add_fetch(&evictions, 1, __ATOMIC_RELAXED);
      mu_stat_add(MU_STAT_EVICTIONS, 1);
    }
    mu_reader_unlock();
  }
  __atomic_store_n(&evicting, 0, __ATOMIC_RELEASE);
}

void mu_budget_fork_lock(void) { pthread_mutex_lock(&q.lock); }

void mu_budget_fork_unlock(int in_child) {
  if (in_child)
    evicting = 0;
  pthread_mutex_unlock(&q.lock);
}
