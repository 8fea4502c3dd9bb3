/*
 * region.c - one mapping: serving its faults (on the fault reader), running
 * its fetches (on the workers), installing pages, failing loudly, teardown.
 *
 * Threads and locks: `m->lock` guards the block states, the fetch list, the
 * parked block, the readahead state, the stats, `closing` and `refs`. The
 * reader takes it per fault; a fetching thread each time whole blocks have
 * landed and once when the fetch ends (the page copy itself runs with it
 * dropped, see region.h); the closer once; an advising thread once per
 * mu_map_advise (claiming fetches or dropping pages, never waiting). The
 * source's fetch runs with no lock held.
 * Every byte is accounted in m's own budget (`m->own`), which passes it on
 * to the process-wide one.
 * Lock order: registry (reader.c) -> m->lock -> pool (workers.c), and
 * m->lock -> a budget's queue lock (budget.c).
 *
 * Must never: install bytes into a closing mapping (the address may be
 * reused), fetch a block that is not absent, leave a faulting thread blocked
 * when its fetch failed (SIGBUS: poison, else tgkill), or let a missing page
 * become a silent zero page.
 */
#include "map/region.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "map/budget.h"
#include "map/reader.h"
#include "map/uffd.h"
#include "map/vm.h"
#include "util/error.h"
#include "util/log.h"
#include "util/stats.h"

static size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int st(const struct mu_map *m, size_t b) { return m->state[b] & MU_BLK_STATE; }

/* Under lock: wake the threads in mu_region_read on a block of [from, to). */
static void wake_readers(struct mu_map *m, size_t from, size_t to) {
  for (struct mu_reading *r = m->readers; r; r = r->next)
    if (r->block >= from && r->block < to)
      pthread_cond_signal(&r->wake);
}

/* Set block b's state; leaving the in-flight state clears WANTED and wakes
 * the readers waiting on b (the only way out of their wait but a close);
 * the queue bits stay (they follow the queues, not the state). */
static void set_st(struct mu_map *m, size_t b, int s) {
  int keep = MU_BLK_QPROC | MU_BLK_QOWN | MU_BLK_SEEN | (s == MU_BLK_INFLIGHT ? MU_BLK_WANTED : 0);
  if ((m->state[b] & MU_BLK_STATE) == MU_BLK_INFLIGHT && s != MU_BLK_INFLIGHT)
    wake_readers(m, b, b + 1);
  m->state[b] = (uint8_t)(s | (m->state[b] & keep));
}

/* Bytes of the mapping covered by count blocks from b (page multiple). */
static size_t span_bytes(const struct mu_map *m, size_t b, size_t count) {
  size_t off = b * m->block, n = count * m->block;
  return n < m->len - off ? n : m->len - off;
}

/* Bytes of the object covered by count blocks from b (what a fetch asks). */
static size_t src_bytes(const struct mu_map *m, size_t b, size_t count) {
  uint64_t off = (uint64_t)b * m->block, n = (uint64_t)count * m->block;
  return (size_t)(n < m->src.size - off ? n : m->src.size - off);
}

/* Block b's bytes leave memory (it becomes absent or failed). */
static void unaccount(struct mu_map *m, size_t b) { mu_budget_sub(&m->own, span_bytes(m, b, 1)); }

/* Free m; the caller dropped the last reference, outside the lock. */
static void region_free(struct mu_map *m) {
  if (m->src.release)
    m->src.release(m->src.ctx);
  free(m->state);
  free(m->parked);
  mu_budget_fini(&m->own);
  pthread_cond_destroy(&m->settled);
  pthread_mutex_destroy(&m->lock);
  free(m);
}

/* Under lock: unlink and free f; 1 if that dropped the last reference. */
static int drop_fetch_locked(struct mu_map *m, struct mu_fetch *f) {
  for (struct mu_fetch **pp = &m->fetches; *pp; pp = &(*pp)->next) {
    if (*pp == f) {
      *pp = f->next;
      break;
    }
  }
  free(f->waiters);
  free(f);
  return --m->refs == 0;
}

static void signal_thread(pid_t tid) {
  if (tgkill(getpid(), tid, SIGBUS) != 0)
    MU_DEBUG("map: tgkill(%d, SIGBUS): %s", (int)tid, strerror(errno));
}

/* Under lock: block b cannot be served; make its touchers get SIGBUS.
 * Poison: the page range is poisoned (every touch, now and later, SIGBUS).
 * Otherwise: tid (if any) is signalled and the block is absent again. */
static void fail_block(struct mu_map *m, size_t b, pid_t tid) {
  if (mu_uffd_has_poison()) {
    int rc = mu_uffd_poison(m->addr + b * m->block, span_bytes(m, b, 1));
    if (rc == 0) {
      set_st(m, b, MU_BLK_FAILED);
      return;
    }
    MU_ERROR("map: UFFDIO_POISON failed (%s); signalling the thread", strerror(-rc));
  }
  set_st(m, b, MU_BLK_ABSENT);
  if (tid > 0)
    signal_thread(tid);
}

/* Under lock: blocks [b, b+count) were installed; each becomes an eviction
 * candidate of each budget with a maximum (the process-wide one and m's
 * own), unless it has one there already (that older candidate stands for
 * it). Queued in batches, one budget lock each. */
static void note(struct mu_map *m, size_t b, size_t count) {
  struct mu_budget *budgets[2] = {mu_budget_proc(), &m->own};
  const uint8_t bits[2] = {MU_BLK_QPROC, MU_BLK_QOWN};
  for (int i = 0; i < 2; i++) {
    if (mu_budget_max(budgets[i]) == 0)
      continue;
    size_t batch[64], n = 0;
    for (size_t blk = b; blk < b + count; blk++) {
      if (!(m->state[blk] & bits[i]))
        batch[n++] = blk;
      if (n == 64 || (n > 0 && blk + 1 == b + count)) {
        size_t queued = mu_budget_note(budgets[i], m, batch, n);
        for (size_t k = 0; k < queued; k++)
          m->state[batch[k]] |= bits[i];
        if (queued < n)
          MU_DEBUG("map: no memory to track %zu blocks for eviction", n - queued);
        n = 0;
      }
    }
  }
}

/* Under lock: mark count blocks from b present, once their pages are in. */
static void mark_present(struct mu_map *m, size_t b, size_t count) {
  for (size_t i = b; i < b + count; i++) {
    set_st(m, i, MU_BLK_PRESENT);
    m->state[i] |= MU_BLK_SEEN;
  }
  note(m, b, count);
}

/* Under lock: install the parked block (one block, copied with the lock
 * held: the readahead marker, touched by the thread that waits for it). */
void mu_region_unpark(struct mu_map *m, pid_t tid) {
  size_t b = m->parked_block;
  if (b == MU_NONE)
    return;
  m->parked_block = MU_NONE;
  int rc = mu_uffd_copy(m->addr + b * m->block, m->parked, span_bytes(m, b, 1));
  if (rc == 0) {
    mark_present(m, b, 1);
    return;
  }
  MU_ERROR("map: UFFDIO_COPY of the held-back block %zu: %s", b, strerror(-rc));
  unaccount(m, b);
  fail_block(m, b, tid);
}

/* Under lock: hold block b's bytes back as the readahead marker. 1 if parked. */
static int park(struct mu_map *m, size_t b, const char *data) {
  mu_region_unpark(m, 0);
  if (!m->parked && posix_memalign((void **)&m->parked, page_size(), m->block) != 0) {
    m->parked = NULL;
    return 0;
  }
  memcpy(m->parked, data, m->block);
  m->parked_block = b;
  set_st(m, b, MU_BLK_PARKED);
  return 1;
}

/* Under lock: the fetch f failed with rc (or could not be installed). Blocks
 * a thread waits on fail loudly; the others become absent (a later touch
 * retries). Blocks already installed stay. */
static void fail_fetch(struct mu_map *m, struct mu_fetch *f, int rc) {
  m->stats.failures++;
  m->last_error = rc;
  for (struct mu_reading *r = m->readers; r; r = r->next) {
    if (r->block >= f->first && r->block < f->first + f->count) {
      r->failures++; /* a failure of the block it reads, not an eviction */
      r->rc = rc;
    }
  }
  MU_WARN("map: fetch of blocks %zu..%zu failed (%s); SIGBUS to the threads touching them",
          f->first, f->first + f->count - 1, mmap_s3_errstr(rc));
  for (size_t b = f->first; b < f->first + f->count; b++) {
    if (st(m, b) != MU_BLK_INFLIGHT)
      continue;
    unaccount(m, b);
    if ((m->state[b] & MU_BLK_WANTED) && mu_uffd_has_poison())
      fail_block(m, b, 0);
    else
      set_st(m, b, MU_BLK_ABSENT);
  }
  /* Poisoned blocks wake their waiters with SIGBUS; a waiter on any other
   * block (no poison here, or poisoning failed) gets the signal from us. */
  for (size_t i = 0; i < f->nwaiters; i++) {
    int s = st(m, f->waiters[i].block);
    if (s != MU_BLK_PRESENT && s != MU_BLK_FAILED)
      signal_thread(f->waiters[i].tid);
  }
}

/* Under lock: the threads waiting on f for blocks in [from, to), now
 * installed, were woken by the copy and went on: no longer f's waiters
 * (a close or a failure of f's other blocks must not signal them). */
static void forget_waiters(struct mu_fetch *f, size_t from, size_t to) {
  size_t n = 0;
  for (size_t i = 0; i < f->nwaiters; i++)
    if (f->waiters[i].block < from || f->waiters[i].block >= to)
      f->waiters[n++] = f->waiters[i];
  f->nwaiters = n;
}

/* Under lock (dropped around each page copy): install f's blocks from
 * f->done up to `upto` out of data (their bytes, block after block),
 * parking the readahead marker unless a thread already waits on it. 0, or
 * MMAPURL_E_INTERNAL (a copy failed: f's other blocks are still in flight,
 * for the caller to fail), or MMAPURL_E_INVALID_ARG if m started closing
 * (f->done says how far it got). */
static int install_upto(struct mu_map *m, struct mu_fetch *f, size_t upto, const char *data) {
  while (f->done < upto) {
    if (m->closing)
      return MMAPURL_E_INVALID_ARG;
    size_t b = f->first + f->done, j = f->done + 1;
    if (b == m->ra_marker && !(m->state[b] & MU_BLK_WANTED) && park(m, b, data)) {
      f->done++;
      data += m->block;
      continue;
    }
    while (j < upto && f->first + j != m->ra_marker)
      j++;
    size_t count = j - f->done;
    m->installing++;
    pthread_mutex_unlock(&m->lock);
    int rc = mu_uffd_copy(m->addr + b * m->block, data, span_bytes(m, b, count));
    pthread_mutex_lock(&m->lock);
    if (--m->installing == 0 && m->closing)
      pthread_cond_broadcast(&m->settled); /* the closer waits for this */
    if (rc != 0) {
      MU_ERROR("map: UFFDIO_COPY at block %zu: %s", b, strerror(-rc));
      return MMAPURL_E_INTERNAL;
    }
    /* The marker among these blocks: a reader waits on it (so it was not
     * parked), or it became the marker while they were being copied. */
    size_t marker = m->ra_marker;
    int on_marker = marker >= b && marker < b + count;
    int reader_there = on_marker && (m->state[marker] & MU_BLK_WANTED);
    /* Recorded even if m started closing meanwhile: the closer waits for
     * this before it accounts the present blocks and signals waiters. */
    mark_present(m, b, count);
    forget_waiters(f, b, b + count);
    f->done = j;
    data += count * m->block;
    if (!m->closing && reader_there)
      mu_ra_on_marker(m, marker);
    else if (!m->closing && on_marker)
      mu_ra_on_landed(m, marker);
  }
  return 0;
}

/* Install the next k blocks of f from data, under m's own limit first
 * (f keeps m alive; the threads waiting on f go on only once m is back
 * under its limit, so a late evictor cannot let them run past it). */
static void install_next(struct mu_fetch *f, size_t k, const char *data) {
  struct mu_map *m = f->m;
  mu_budget_evict(&m->own);
  pthread_mutex_lock(&m->lock);
  if (f->ttfb_ns) { /* how fast the origin answered this fetch */
    if (m->ttfb_min_ns == 0 || f->ttfb_ns < m->ttfb_min_ns)
      m->ttfb_min_ns = f->ttfb_ns;
    f->ttfb_ns = 0;
  }
  f->install_rc = install_upto(m, f, f->done + k, data);
  pthread_mutex_unlock(&m->lock);
}

/* The source's put(): bytes [at, at+n) of f's range, in order, as they
 * arrive (a retry may hand over bytes already seen: skipped). Whole blocks
 * go into the mapping straight from the source's buffer, one copy, and a
 * thread touching them goes on at once; a block split across calls, the
 * object's partial last block, and every block of a fetch that keeps its
 * bytes (`keep`: mu_map_read's) are gathered in f->carry first. Returns
 * f->install_rc: once installing stopped (m closing, a copy failed), the
 * source stops its transfer instead of downloading the rest for nothing. */
static int fetch_put(void *ctx, const void *data, size_t n, size_t at) {
  struct mu_fetch *f = ctx;
  struct mu_map *m = f->m;
  const char *p = data;
  if (f->started_ns) { /* its first bytes */
    uint64_t took = mono_ns() - f->started_ns;
    f->ttfb_ns = took ? took : 1;
    f->started_ns = 0;
  }
  size_t total = src_bytes(m, f->first, f->count);
  size_t pos = f->done * m->block + f->carry_len; /* bytes taken so far */
  if (f->install_rc || at > pos || at >= total)
    return f->install_rc; /* stopped; or not in order (the fetch fails); or past the range */
  if (n > total - at)
    n = total - at; /* past the range: not ours */
  if (at + n <= pos)
    return 0; /* seen already (a retry) */
  p += pos - at;
  n -= pos - at;
  while (n > 0 && !f->install_rc) {
    size_t in_blk = f->done + 1 < f->count ? m->block : total - f->done * m->block;
    if (f->carry_len == 0 && !f->keep && in_blk == m->block && n >= m->block) {
      size_t k = n / m->block, last = total - (f->count - 1) * m->block;
      if (f->done + k > f->count - (last < m->block))
        k = f->count - (last < m->block) - f->done; /* a partial last block: carried */
      if (k > 0) {
        install_next(f, k, p);
        p += k * m->block, n -= k * m->block;
        continue;
      }
    }
    size_t take = in_blk - f->carry_len < n ? in_blk - f->carry_len : n;
    memcpy(f->carry + f->carry_len, p, take);
    f->carry_len += take;
    p += take, n -= take;
    if (f->carry_len == in_blk) {
      memset(f->carry + in_blk, 0, m->block - in_blk); /* past the end: zeros */
      f->carry_len = 0;
      install_next(f, 1, f->carry);
    }
  }
  return f->install_rc; /* the mapping closing, or a copy failed: no more */
}

/* The thread that ran fetch f (a worker, a fault reader or a thread in
 * mu_map_read): the source returned rc; every block it handed over is
 * installed. Fail the rest, or drop them if m is closing; then evict. */
static void fetch_finish(struct mu_fetch *f, int rc) {
  struct mu_map *m = f->m;
  pthread_mutex_lock(&m->lock);
  if (rc == 0 && f->done < f->count && !m->closing)
    rc = f->install_rc ? f->install_rc
                       : mu_fail(MMAPURL_E_INTERNAL, "map: the source returned %zu of %zu blocks",
                                 f->done, f->count);
  if (m->closing) {
    /* The closer counted no in-flight blocks. It may still be waiting for
     * copies, before its fence: the threads blocked on f's blocks that
     * will never be installed get their SIGBUS here. */
    mu_budget_sub(&m->own, span_bytes(m, f->first + f->done, f->count - f->done));
    if (m->registered)
      for (size_t i = 0; i < f->nwaiters; i++)
        signal_thread(f->waiters[i].tid);
    f->nwaiters = 0;
  } else if (rc != 0 && f->done < f->count) { /* all handed over: nothing failed */
    fail_fetch(m, f, rc);
  }
  int last = drop_fetch_locked(m, f);
  pthread_mutex_unlock(&m->lock);
  if (last)
    region_free(m);
  mu_budget_evict(mu_budget_proc());
}

/* Run fetch f with no lock held, its split blocks gathered in carry (one
 * block; NULL: out of memory), then finish it. With keep (a one-block
 * fetch), carry ends up holding that block. 1 if every block was
 * installed, else 0. */
static int fetch_exec(struct mu_fetch *f, char *carry, int keep) {
  struct mu_map *m = f->m;
  uint64_t off = (uint64_t)f->first * m->block;
  size_t len = src_bytes(m, f->first, f->count);
  pthread_mutex_lock(&m->lock);
  int closing = m->closing;
  pthread_mutex_unlock(&m->lock);
  int rc = 0;
  if (!closing && !carry)
    rc = mu_fail(MMAPURL_E_NOMEM, "map: fetch buffer of %zu bytes", m->block);
  if (!closing && carry) {
    f->carry = carry;
    f->keep = keep;
    f->started_ns = off + len <= m->src.in_memory ? 0 : mono_ns();
    rc = m->src.fetch(m->src.ctx, len, off, fetch_put, f);
  }
  int all = !closing && carry && rc == 0 && f->done == f->count;
  fetch_finish(f, rc);
  return all;
}

/* Worker: run one queued fetch. */
static void fetch_run(struct mu_job *job) {
  struct mu_fetch *f = (struct mu_fetch *)job;
  (void)fetch_exec(f, mu_pool_scratch(f->m->block), 0);
}

/* Under lock: claim count absent blocks from first for a fetch that the
 * caller runs (queued, or on its own thread). NULL on allocation failure
 * (nothing claimed). */
static struct mu_fetch *fetch_claim(struct mu_map *m, size_t first, size_t count, int urgent) {
  struct mu_fetch *f = calloc(1, sizeof *f);
  if (!f)
    return NULL;
  f->job.run = fetch_run;
  f->m = m;
  f->first = first;
  f->count = count;
  for (size_t b = first; b < first + count; b++)
    set_st(m, b, MU_BLK_INFLIGHT);
  f->next = m->fetches;
  m->fetches = f;
  m->refs++;
  mu_budget_add(&m->own, span_bytes(m, first, count));
  m->stats.fetches++;
  m->stats.bytes_fetched += src_bytes(m, first, count);
  if (urgent)
    m->stats.demand_fetches++;
  else
    m->stats.readahead_blocks += count;
  return f;
}

/* Under lock: claim count absent blocks from first and queue their fetch.
 * NULL on allocation failure (nothing claimed). */
static struct mu_fetch *fetch_new(struct mu_map *m, size_t first, size_t count, int urgent) {
  struct mu_fetch *f = fetch_claim(m, first, count, urgent);
  if (f)
    mu_pool_push(&f->job, urgent);
  return f;
}

void mu_region_queue_range(struct mu_map *m, size_t from, size_t to, size_t chunk) {
  if (to > m->nblocks)
    to = m->nblocks;
  size_t i = from;
  while (i < to) {
    if (st(m, i) != MU_BLK_ABSENT) {
      i++;
      continue;
    }
    size_t j = i + 1;
    while (j < to && j - i < chunk && st(m, j) == MU_BLK_ABSENT)
      j++;
    if (!fetch_new(m, i, j - i, 0))
      return; /* out of memory: readahead is only an optimisation */
    i = j;
  }
}

/* Under lock: thread tid waits for block b, which f is fetching. */
static void wait_on(struct mu_map *m, struct mu_fetch *f, size_t b, pid_t tid) {
  m->state[b] |= MU_BLK_WANTED;
  if (!f)
    return;
  if (f->nwaiters == f->capwaiters) {
    size_t cap = f->capwaiters ? f->capwaiters * 2 : 4;
    struct mu_waiter *w = realloc(f->waiters, cap * sizeof *w);
    if (!w) {
      MU_ERROR("map: out of memory recording thread %d: it cannot get SIGBUS", (int)tid);
      return;
    }
    f->waiters = w;
    f->capwaiters = cap;
  }
  f->waiters[f->nwaiters++] = (struct mu_waiter){.tid = tid, .block = b};
}

static struct mu_fetch *fetch_of(const struct mu_map *m, size_t b) {
  for (struct mu_fetch *f = m->fetches; f; f = f->next)
    if (b >= f->first && b < f->first + f->count)
      return f;
  return NULL;
}

/* Whether the page at addr is in memory (a fault on a present block is
 * either a race with its install, or a page dropped behind our back). */
static int resident(uintptr_t addr) {
  unsigned char vec = 0;
  void *page = (void *)(addr & ~(uintptr_t)(page_size() - 1));
  return mincore(page, page_size(), &vec) == 0 && (vec & 1);
}

/* Under lock, on a reader: a first demand touch of block b. With may_run,
 * the fetch is returned for the reader to run, not queued. */
static struct mu_fetch *demand(struct mu_map *m, size_t b, pid_t tid, int may_run) {
  struct mu_fetch *f = may_run ? fetch_claim(m, b, 1, 1) : fetch_new(m, b, 1, 1);
  if (!f) {
    fail_block(m, b, tid);
    return NULL;
  }
  wait_on(m, f, b, tid);
  mu_ra_on_miss(m, b);
  return may_run ? f : NULL;
}

/* Under lock, on a reader: serve a fault on block b by its state. */
static struct mu_fetch *serve(struct mu_map *m, size_t b, uintptr_t addr, pid_t tid,
                              int may_run) {
  switch (st(m, b)) {
  case MU_BLK_PRESENT:
    if (resident(addr)) {
      mu_uffd_wake((void *)(addr & ~(uintptr_t)(page_size() - 1)), page_size());
      return NULL;
    }
    set_st(m, b, MU_BLK_ABSENT); /* dropped behind our back: fetch again */
    unaccount(m, b);
    return demand(m, b, tid, may_run);
  case MU_BLK_ABSENT:
    return demand(m, b, tid, may_run);
  case MU_BLK_INFLIGHT:
    wait_on(m, fetch_of(m, b), b, tid);
    mu_ra_on_inflight(m, b);
    return NULL;
  case MU_BLK_PARKED:
    mu_region_unpark(m, tid);   /* tid is blocked on it: SIGBUS if it fails */
    mu_ra_on_marker(m, b);
    return NULL;
  default: /* failed: keep failing */
    fail_block(m, b, tid);
    return NULL;
  }
}

struct mu_fetch *mu_region_fault(struct mu_map *m, uintptr_t addr, pid_t tid, int may_run) {
  size_t b = (addr - (uintptr_t)m->addr) / m->block;
  struct mu_fetch *f = NULL;
  pthread_mutex_lock(&m->lock);
  if (!m->closing && b < m->nblocks) {
    m->stats.faults++;
    mu_stat_add(MU_STAT_FAULTS, 1);
    f = serve(m, b, addr, tid, may_run);
  }
  pthread_mutex_unlock(&m->lock);
  return f;
}

void mu_region_run(struct mu_fetch *f) { fetch_run(&f->job); }

/* How many bytes of [p, p+len) are in memory from p on, up to the first
 * missing page (len if all are): a copy under the lock must never take a
 * missing-page fault (the reader would need the lock to serve it). */
static size_t resident_prefix(const char *p, size_t len) {
  size_t pg = page_size();
  uintptr_t start = (uintptr_t)p, a = start & ~(uintptr_t)(pg - 1);
  size_t n = (start + len - a + pg - 1) / pg;
  unsigned char vec[256];
  while (n > 0) {
    size_t k = n < sizeof vec ? n : sizeof vec;
    if (mincore((void *)a, k * pg, vec) != 0)
      return a > start ? a - start : 0;
    for (size_t i = 0; i < k; i++)
      if (!(vec[i] & 1))
        return a + i * pg > start ? a + i * pg - start : 0;
    a += k * pg;
    n -= k;
  }
  return len;
}

/* Under lock: copy into dst what the installed blocks from b on hold of
 * [off, end) (off is in b), as far as they run without a gap: one
 * residency check and one copy for the run, or for its whole blocks before
 * a missing page (the next call starts at that page's block: each page is
 * checked once per read, not once per block before it). The bytes copied;
 * 0 if b is not installed (or its pages are gone: b is absent).
 * A page swapped out is not resident but not missing either (a touch swaps
 * it in, no userfault; a fetch could not replace it): MADV_WILLNEED reads
 * it into the swap cache, where mincore sees it. */
static size_t copy_installed(struct mu_map *m, size_t b, char *dst, uint64_t off, uint64_t end) {
  uint64_t bend = (uint64_t)(b + 1) * m->block;
  size_t len = (size_t)((bend < end ? bend : end) - off); /* b's part */
  if (st(m, b) == MU_BLK_PARKED) {
    memcpy(dst, m->parked + (off - (uint64_t)b * m->block), len);
    mu_region_unpark(m, 0);
    mu_ra_on_marker(m, b);
    return len;
  }
  size_t e = b;
  while (e < m->nblocks && (uint64_t)e * m->block < end && st(m, e) == MU_BLK_PRESENT)
    e++;
  if (e == b)
    return 0;
  uint64_t run_end = (uint64_t)e * m->block;
  size_t run = (size_t)((run_end < end ? run_end : end) - off);
  size_t have = resident_prefix(m->addr + off, run);
  if (have >= len) {
    /* all of the run, or its blocks before the one with the gap */
    size_t n = have >= run ? run : (size_t)((off + have) / m->block * m->block - off);
    memcpy(dst, m->addr + off, n);
    return n;
  }
  /* b itself has a page gone: the careful way */
  uintptr_t a = (uintptr_t)(m->addr + off) & ~(uintptr_t)(page_size() - 1);
  (void)mu_vm_madvise((void *)a, (uintptr_t)(m->addr + off) + len - a, MADV_WILLNEED);
  if (resident_prefix(m->addr + off, len) < len) {
    set_st(m, b, MU_BLK_ABSENT); /* dropped behind our back: fetch again */
    unaccount(m, b);
    return 0;
  }
  memcpy(dst, m->addr + off, len);
  return len;
}

/* Fetches of one block a read may start, none failing, before it gives up:
 * each was installed, then dropped (evicted, DONTNEED) before the reader
 * could copy it; a bound, so such a race can never loop forever. */
#define READ_MAX_REFETCH 16

/* The reader holds a reference (a close while it waits does not free m
 * under it; it frees m if it is the last) and is listed in m->readers, so
 * that only a failed fetch of its block counts as a failure (an eviction
 * between the install and its copy only means fetching again). */
int mu_region_read(struct mu_map *m, void *dst, size_t len, uint64_t off) {
  char *out = dst;
  uint64_t end = off + len;
  int rc = 0;
  unsigned fetches = 0;
  size_t copied;
  struct mu_reading r = {.block = (size_t)(off / m->block)};
  pthread_cond_init(&r.wake, NULL);
  pthread_mutex_lock(&m->lock);
  m->refs++;
  r.next = m->readers;
  /* r lives on this stack until it is unlinked below, before returning. */
  m->readers = &r; // cppcheck-suppress autoVariables
  while (off < end && rc == 0) {
    size_t b = r.block;
    uint64_t bend = (uint64_t)(b + 1) * m->block;
    size_t n = (size_t)((bend < end ? bend : end) - off);
    if (m->closing) {
      rc = mu_fail(MMAPURL_E_INVALID_ARG, "map: read from a mapping being closed");
    } else if ((copied = copy_installed(m, b, out, off, end)) > 0) {
      out += copied, off += copied;
      r.block = (size_t)(off / m->block), r.failures = 0, r.rc = 0;
      fetches = 0;
    } else if (st(m, b) == MU_BLK_INFLIGHT) {
      mu_ra_on_inflight(m, b);
      pthread_cond_wait(&r.wake, &m->lock);
    } else if (st(m, b) == MU_BLK_FAILED || r.failures >= 2) {
      rc = r.rc ? r.rc : m->last_error ? m->last_error : MMAPURL_E_NETWORK;
      mu_fail(rc, "map: block %zu could not be fetched: %s", b, mmap_s3_errstr(rc));
    } else if (++fetches > READ_MAX_REFETCH) {
      rc = mu_fail(MMAPURL_E_INTERNAL, "map: block %zu was dropped %d times before it was read",
                   b, READ_MAX_REFETCH);
    } else {
      /* Fetch it here: a hand-off to a worker and back costs two context
       * switches per miss. Readahead still goes to the workers. The bytes
       * are copied out of the fetch's own carry buffer: an eviction right
       * after the install cannot make the reader fetch again. */
      char *buf = NULL;
      struct mu_fetch *f = NULL;
      if (posix_memalign((void **)&buf, page_size(), m->block) != 0 ||
          !(f = fetch_claim(m, b, 1, 1))) {
        free(buf);
        rc = mu_fail(MMAPURL_E_NOMEM, "map: no memory for a fetch");
        continue;
      }
      mu_ra_on_miss(m, b);
      pthread_mutex_unlock(&m->lock);
      int got = fetch_exec(f, buf, 1);
      if (got)
        memcpy(out, buf + (off - (uint64_t)b * m->block), n);
      free(buf);
      pthread_mutex_lock(&m->lock);
      if (got && !m->closing) { /* closed meanwhile: fails as any read then */
        out += n, off += n;
        r.block = b + 1, r.failures = 0, r.rc = 0;
        fetches = 0;
      }
    }
  }
  for (struct mu_reading **pp = &m->readers; *pp; pp = &(*pp)->next) {
    if (*pp == &r) {
      *pp = r.next;
      break;
    }
  }
  int last = --m->refs == 0;
  pthread_mutex_unlock(&m->lock);
  pthread_cond_destroy(&r.wake);
  if (last)
    region_free(m);
  return rc;
}

/* Under lock, closing: make every thread blocked on m, or touching it
 * before it is unmapped, get a signal instead of a zero page. The threads
 * known to wait get SIGBUS: pending before they run again, it is delivered
 * instead of a retried fault. Then PROT_NONE: a thread whose fault the
 * reader has not seen yet, woken by the unregister, retries into SIGSEGV,
 * as on an unmapped address; a missing page can no longer become a zero
 * page. (Poisoning every missing page instead costs ~35 ms per sparse GiB:
 * not prompt.) */
static void fence(struct mu_map *m) {
  for (struct mu_fetch *f = m->fetches; f; f = f->next) {
    for (size_t i = 0; i < f->nwaiters; i++)
      signal_thread(f->waiters[i].tid);
    f->nwaiters = 0; /* signalled once: a fetch ending later does not again */
  }
  if (mu_vm_mprotect(m->addr, m->len, PROT_NONE) != 0)
    MU_ERROR("map: mprotect(PROT_NONE) on close: %s", strerror(errno));
}

/* Under lock, closing: forget the fetches no worker has started. */
static void cancel_queued(struct mu_map *m) {
  struct mu_fetch *f = m->fetches, *next;
  for (; f; f = next) {
    next = f->next;
    if (mu_pool_cancel(&f->job)) {
      mu_budget_sub(&m->own, span_bytes(m, f->first, f->count));
      drop_fetch_locked(m, f); /* never the last reference: the closer has one */
    }
  }
}

/* Under lock, closing: the installed blocks leave the budget (in-flight
 * ones leave it when their fetch is dropped). */
static void unaccount_present(struct mu_map *m) {
  for (size_t b = 0; b < m->nblocks; b++)
    if (st(m, b) == MU_BLK_PRESENT)
      unaccount(m, b);
}

void mu_region_close(struct mu_map *m) {
  pthread_mutex_lock(&m->lock);
  mu_region_unpark(m, 0);
  m->closing = 1;
  wake_readers(m, 0, MU_NONE); /* each meets `closing` and fails */
  /* Page copies in progress end soon (memory only); until their blocks
   * are recorded, the threads they woke still look like waiters. */
  while (m->installing > 0)
    pthread_cond_wait(&m->settled, &m->lock);
  if (m->registered)
    fence(m);
  cancel_queued(m);
  unaccount_present(m);
  pthread_mutex_unlock(&m->lock);
  /* Unregister (wakes any thread still blocked: it meets its pending
   * SIGBUS or PROT_NONE), stop dispatching to m, and only then unmap. */
  if (m->registered) {
    int rc = mu_uffd_unregister(m->addr, m->len);
    if (rc != 0)
      MU_ERROR("map: UFFDIO_UNREGISTER: %s", strerror(-rc));
    mu_reader_remove(m);
    mu_budget_forget(mu_budget_proc(), m);
  }
  mu_vm_munmap(m->addr, m->len);
  pthread_mutex_lock(&m->lock);
  int last = --m->refs == 0;
  pthread_mutex_unlock(&m->lock);
  if (last)
    region_free(m);
}

/* Validate opts into block size, readahead blocks and the mapping's own
 * cache maximum (0, or at least MU_MAP_MIN_CACHE_BLOCKS blocks). */
static int parse_opts(const struct mu_map_opts *opts, size_t *block, size_t *ra_max,
                      size_t *cache_max) {
  size_t bs = opts && opts->block_size ? opts->block_size : MU_MAP_DEFAULT_BLOCK;
  size_t ra = opts && opts->readahead_max ? opts->readahead_max : MU_MAP_DEFAULT_READAHEAD;
  if (bs % page_size() != 0 || bs > ((size_t)64 << 20))
    return mu_fail(MMAPURL_E_INVALID_ARG,
                   "map: block size %zu is not a page multiple of at most 64 MiB", bs);
  *block = bs;
  *ra_max = ra / bs;
  *cache_max = opts ? opts->cache_max : 0;
  if (*cache_max && *cache_max < MU_MAP_MIN_CACHE_BLOCKS * bs)
    *cache_max = MU_MAP_MIN_CACHE_BLOCKS * bs;
  return 0;
}

/* Map m's memory and, unless empty, register it and make its faults ours. */
static int map_memory(struct mu_map *m) {
  int empty = m->src.size == 0;
  m->addr = mu_vm_mmap(NULL, m->len, empty ? PROT_NONE : PROT_READ,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m->addr == MAP_FAILED)
    return mu_fail(MMAPURL_E_NOMEM, "map: mmap of %zu bytes: %s", m->len, strerror(errno));
  if (empty)
    return 0;
  int rc = mu_uffd_register(m->addr, m->len);
  if (rc != 0) {
    mu_vm_munmap(m->addr, m->len);
    return mu_fail(MMAPURL_E_INTERNAL, "map: UFFDIO_REGISTER: %s", strerror(-rc));
  }
  if ((rc = mu_reader_add(m)) != 0) {
    mu_uffd_unregister(m->addr, m->len);
    mu_vm_munmap(m->addr, m->len);
    return rc;
  }
  m->registered = 1;
  return 0;
}

int mu_region_open(const struct mu_map_source *src, const struct mu_map_opts *opts,
                   struct mu_map **out) {
  size_t block = 0, ra_max = 0, cache_max = 0;
  MU_TRY(parse_opts(opts, &block, &ra_max, &cache_max));
  if (src->size > (uint64_t)(SIZE_MAX / 2))
    return mu_fail(MMAPURL_E_INVALID_ARG, "map: size %llu too large",
                   (unsigned long long)src->size);
  struct mu_map *m = calloc(1, sizeof *m);
  size_t size = (size_t)src->size, pg = page_size();
  size_t nblocks = (size + block - 1) / block;
  if (!m || !(m->state = calloc(nblocks ? nblocks : 1, 1))) {
    free(m);
    return mu_fail(MMAPURL_E_NOMEM, "map: %zu block states", nblocks);
  }
  m->src = *src;
  m->len = size ? (size + pg - 1) / pg * pg : pg;
  m->block = block;
  m->nblocks = nblocks;
  m->ra_max = ra_max;
  m->parked_block = MU_NONE;
  mu_ra_init(m);
  m->refs = 1;
  pthread_mutex_init(&m->lock, NULL);
  pthread_cond_init(&m->settled, NULL);
  mu_budget_init(&m->own, cache_max);
  int rc = map_memory(m);
  if (rc != 0) {
    m->src.release = NULL; /* the caller keeps its source on failure */
    region_free(m);
    return rc;
  }
  *out = m;
  return 0;
}

/* Under lock: drop the pages of count installed blocks from b (one
 * madvise); they become absent and leave the budget. 1, or 0 if madvise
 * failed (they stay installed). The caller checked they are present. */
static int drop_blocks(struct mu_map *m, size_t b, size_t count) {
  if (mu_vm_madvise(m->addr + b * m->block, span_bytes(m, b, count), MADV_DONTNEED) != 0) {
    MU_ERROR("map: madvise(MADV_DONTNEED): %s", strerror(errno));
    return 0;
  }
  for (size_t i = b; i < b + count; i++) {
    set_st(m, i, MU_BLK_ABSENT);
    unaccount(m, i);
  }
  return 1;
}

/* Under lock: drop each run of installed blocks in [from, to) (one
 * madvise per run); in-flight, parked (held back, no pages) and failed
 * blocks stay. The number dropped. */
static size_t drop_present(struct mu_map *m, size_t from, size_t to) {
  size_t i = from, dropped = 0;
  while (i < to) {
    if (st(m, i) != MU_BLK_PRESENT) {
      i++;
      continue;
    }
    size_t j = i + 1;
    while (j < to && st(m, j) == MU_BLK_PRESENT)
      j++;
    if (drop_blocks(m, i, j - i))
      dropped += j - i;
    i = j;
  }
  return dropped;
}

size_t mu_region_evict(struct mu_map *m, size_t b, size_t n, const struct mu_budget *from) {
  pthread_mutex_lock(&m->lock);
  size_t dropped = 0, end = b + n < m->nblocks ? b + n : m->nblocks;
  if (!m->closing && b < end) {
    for (size_t i = b; i < end; i++)
      m->state[i] &= (uint8_t) ~(from == &m->own ? MU_BLK_QOWN : MU_BLK_QPROC);
    dropped = drop_present(m, b, end);
  }
  m->stats.evictions += dropped;
  pthread_mutex_unlock(&m->lock);
  return dropped;
}

/* The blocks overlapping [off, off+len) clipped to the size: [*from, *to).
 * 0 if the range is empty there. */
static int advice_blocks(const struct mu_map *m, uint64_t off, uint64_t len, size_t *from,
                         size_t *to) {
  uint64_t size = m->src.size;
  if (off >= size || len == 0)
    return 0;
  uint64_t end = len < size - off ? off + len : size;
  *from = (size_t)(off / m->block);
  *to = (size_t)((end + m->block - 1) / m->block);
  return 1;
}

/* Under lock: blocks [from, to) were dropped by advice. Their eviction
 * candidates are stale: left in a queue, one would evict the block as
 * soon as it is installed again, read or not (a pass over an object after
 * a DONTNEED fetched blocks ahead of the reader twice). Dropped from each
 * queue that can afford the scan; the evictor re-checks the others. */
static void forget_candidates(struct mu_map *m, size_t from, size_t to) {
  struct mu_budget *budgets[2] = {mu_budget_proc(), &m->own};
  const uint8_t bits[2] = {MU_BLK_QPROC, MU_BLK_QOWN};
  for (int i = 0; i < 2; i++)
    if (mu_budget_forget_range(budgets[i], m, from, to))
      for (size_t b = from; b < to; b++)
        m->state[b] &= (uint8_t)~bits[i];
  /* A block the drop left in place (madvise failed) is still accounted:
   * queued again, or it could never be evicted. */
  for (size_t b = from; b < to; b++)
    if (st(m, b) == MU_BLK_PRESENT)
      note(m, b, 1);
}

void mu_region_advise(struct mu_map *m, uint64_t off, uint64_t len, int advice) {
  size_t from = 0, to = 0;
  int any = advice_blocks(m, off, len, &from, &to);
  pthread_mutex_lock(&m->lock); /* held as briefly as a fault's: no I/O, no waiting */
  if (m->closing) {
    /* a mapping being closed takes no advice */
  } else if (advice == MU_MAP_WILLNEED) {
    if (any)
      mu_ra_willneed(m, from, to);
  } else if (advice == MU_MAP_DONTNEED) {
    if (any) {
      drop_present(m, from, to);
      forget_candidates(m, from, to);
    }
  } else {
    mu_ra_set_mode(m, advice);
  }
  pthread_mutex_unlock(&m->lock);
}

void mu_region_stats(struct mu_map *m, struct mu_map_stats *out) {
  pthread_mutex_lock(&m->lock);
  *out = m->stats;
  pthread_mutex_unlock(&m->lock);
  out->cache_max = mu_budget_max(&m->own);
  out->cache_bytes = mu_budget_used(&m->own);
  out->cache_peak = mu_budget_peak(&m->own);
}

/* Lock order as everywhere: m->lock, then its own budget's queue lock. */
void mu_region_fork_lock(struct mu_map *m) {
  pthread_mutex_lock(&m->lock);
  mu_budget_fork_lock(&m->own);
}

void mu_region_fork_unlock(struct mu_map *m) {
  mu_budget_fork_unlock(&m->own, 0);
  pthread_mutex_unlock(&m->lock);
}

/* In the forked child (one thread, m and its own budget locked by the fork
 * prologue; the budget is released first, its evictor gone): the
 * parent's fetches do not run here, and the child's copy of the range lost
 * its registration. Forget those fetches (their blocks become absent) and
 * register again with the child's own userfaultfd, so pages nobody loaded
 * are fetched, not read as zeros. Without a userfaultfd, PROT_NONE: loud. */
void mu_region_after_fork_child(struct mu_map *m) {
  mu_budget_fork_unlock(&m->own, 1);
  if (!m->registered || m->closing) {
    /* Empty, or being closed by the parent, whose closer may have been
     * waiting for copies, not fenced yet: inaccessible here either way,
     * never zeros (the child's range is not registered). */
    if (m->registered)
      mu_vm_mprotect(m->addr, m->len, PROT_NONE);
    pthread_mutex_unlock(&m->lock);
    return;
  }
  struct mu_fetch *f = m->fetches, *next;
  for (; f; f = next) {
    next = f->next;
    free(f->waiters);
    free(f);
    m->refs--;
  }
  m->fetches = NULL;
  /* Nor do the parent's threads in mu_region_read: drop their references
   * and forget them (their conditions live on the parent's stacks), and
   * forget the parent's closer as a waiter of `settled`. */
  for (struct mu_reading *r = m->readers; r; r = r->next)
    m->refs--;
  m->readers = NULL;
  pthread_cond_init(&m->settled, NULL);
  /* A parent's thread may have been copying pages in, the lock dropped:
   * such a block is in flight with some pages; drop them with the rest. */
  m->installing = 0;
  for (size_t b = 0; b < m->nblocks; b++) {
    if (st(m, b) == MU_BLK_INFLIGHT) {
      (void)mu_vm_madvise(m->addr + b * m->block, span_bytes(m, b, 1), MADV_DONTNEED);
      set_st(m, b, MU_BLK_ABSENT);
      unaccount(m, b);
    }
  }
  int rc = mu_uffd_fd() >= 0 ? mu_uffd_register(m->addr, m->len) : -ENOSYS;
  if (rc != 0) {
    MU_ERROR("map: forked child cannot serve %p (%s): pages made inaccessible", (void *)m->addr,
             strerror(-rc));
    mu_vm_mprotect(m->addr, m->len, PROT_NONE);
    m->closing = 1;
  }
  pthread_mutex_unlock(&m->lock);
}
