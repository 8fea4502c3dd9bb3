/*
 * region.h - internals of one mapping (struct mu_map): its blocks, their
 * states, the fetches in flight and the readahead state, shared by region.c
 * (faults, fetches, installs, teardown) and readahead.c (planning).
 * Nothing here does I/O while holding `lock`. A fetch's pages are copied in
 * with it dropped, its blocks still in flight until the copy is done (and
 * `installing` keeps the closer from unregistering under it), so a present
 * block always has its pages; only the held-back marker block is installed
 * under it.
 */
#ifndef MU_MAP_REGION_H
#define MU_MAP_REGION_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "map/budget.h"
#include "map/map.h"
#include "map/workers.h"

/* Block states (low bits of a state byte); MU_BLK_SEEN, a block installed
 * before (a window that runs into absent blocks seen before stops there:
 * another reader's part, already read); MU_BLK_WANTED marks a block a
 * thread is blocked on (it gets SIGBUS if the fetch fails); MU_BLK_QPROC and
 * MU_BLK_QOWN, a block with an eviction candidate in the process-wide queue
 * or in the mapping's own (set when queued, cleared when popped: a queue
 * holds a block once, so it stays bounded). */
enum {
  MU_BLK_ABSENT = 0,   /* not fetched: the first touch starts a fetch */
  MU_BLK_INFLIGHT = 1, /* a fetch covers it; touchers wait for that fetch */
  MU_BLK_PRESENT = 2,  /* installed */
  MU_BLK_PARKED = 3,   /* fetched, held in `parked`: the readahead marker */
  MU_BLK_FAILED = 4,   /* poisoned after a failed fetch: touch = SIGBUS */
  MU_BLK_STATE = 0x0f,
  MU_BLK_SEEN = 0x10, /* installed once already (kept through eviction) */
  MU_BLK_QPROC = 0x20,
  MU_BLK_QOWN = 0x40,
  MU_BLK_WANTED = 0x80
};
#define MU_NONE SIZE_MAX
/* Sequential readers tracked besides the main one (readahead.c). */
#define MU_RA_STREAMS 8
/* Windows the main reader has planned ahead of it (readahead.c). */
#define MU_RA_AHEAD 2

/* A thread blocked on a block: signalled if the fetch fails without poison,
 * or if the mapping is closed under it. */
struct mu_waiter {
  pid_t tid;
  size_t block;
};

/* One fetch of blocks [first, first+count): queued, then run by a worker
 * (or claimed and run by a fault reader or a thread in mu_map_read). Owned
 * by the region's `fetches` list until that thread (or close) drops it;
 * every field but `job` is guarded by the region lock, except those the
 * thread running the fetch alone writes (carry ... ttfb_ns). */
struct mu_fetch {
  struct mu_job job;
  struct mu_map *m;
  size_t first, count;
  /* Set by the thread running the fetch (read without the lock there):
   * one block's buffer for bytes split across the source's calls; how many
   * it holds; whether every block goes through it (kept for the caller);
   * the blocks from `first` already installed or parked (so the bytes
   * taken so far are done * block + carry_len); the failure of such an
   * install (the fetch fails with it, or stops as m closes); when the
   * source call began (CLOCK_MONOTONIC; 0: untimed, or its first bytes
   * came) and how long its first bytes took (0 once noted in
   * m->ttfb_min_ns, at the next install, under the lock). */
  char *carry;
  size_t carry_len;
  int keep;
  size_t done;
  int install_rc;
  uint64_t started_ns, ttfb_ns;
  struct mu_waiter *waiters;
  size_t nwaiters, capwaiters;
  struct mu_fetch *next;
};

/* A thread in mu_region_read (on its stack), linked in its mapping's
 * `readers` while it works on block `block`: each failed fetch of that
 * block counts in `failures`, with its code in `rc` (an eviction or drop
 * of the installed block does not count). */
struct mu_reading {
  size_t block;
  unsigned failures;
  int rc;
  pthread_cond_t wake; /* signalled when `block` leaves the in-flight state,
                          and on close (its thread waits on it) */
  struct mu_reading *next;
};

struct mu_map {
  /* Immutable after open. */
  struct mu_map_source src;
  char *addr;          /* mmap'ed, page-aligned */
  size_t len;          /* mapped bytes: size rounded up to pages (>= 1 page) */
  size_t block;        /* block size, page multiple */
  size_t nblocks;
  size_t ra_max;       /* readahead window limit in blocks; 0 = none */
  int registered;      /* registered with the userfaultfd */

  /* Guarded by lock (the fault reader, the workers and the closer). */
  pthread_mutex_t lock;
  pthread_cond_t settled; /* broadcast when the last page copy of a closing
                             mapping ends (the closer waits) */
  int last_error;      /* the MMAPURL_E_* code of the last failed fetch */
  struct mu_reading *readers; /* the threads in mu_region_read */
  uint8_t *state;      /* per block */
  struct mu_fetch *fetches;
  int closing;         /* no more installs, no new fetches */
  unsigned refs;       /* the opener + one per fetch not yet dropped + one
                          per thread in mu_region_read */
  unsigned installing; /* threads copying pages in with the lock dropped
                          (the closer waits for none before unregistering) */
  struct mu_map_stats stats;
  /* Readahead (readahead.c): last demand miss, current window size, first
   * block after the last planned window, the marker block; the first
   * blocks of the windows planned ahead of the reader (nearest first) and
   * how many. */
  size_t ra_last, ra_win, ra_next, ra_marker;
  size_t ra_ahead[MU_RA_AHEAD];
  unsigned ra_nahead;
  int ra_fresh;        /* as a stream's `fresh`, for the main window */
  size_t ra_waited;    /* the marker a thread waited on while in flight,
                          or MU_NONE */
  uint64_t ttfb_min_ns; /* the fastest first bytes of any fetch since open
                           (the origin's round trip at best); 0: none yet */
  /* Other sequential readers of the mapping (threads on other parts of
   * it), without markers: each its last miss, the end of its last window,
   * and that window's size. Slots with last == MU_NONE are free. */
  struct mu_ra_stream {
    size_t last, next, win;
    int fresh; /* its last window began on blocks never installed before */
  } ra_streams[MU_RA_STREAMS];
  unsigned ra_stream_pos; /* the slot a new stream takes next */
  int ra_mode;         /* MU_MAP_NORMAL, _SEQUENTIAL or _RANDOM (advice) */
  char *parked;        /* one block's bytes held back (the marker) */
  size_t parked_block; /* MU_NONE when `parked` is free */

  /* m's own budget (opts.cache_max; its own locks: its queue's after
   * `lock`); its counters are atomics. Evicted from only by a thread
   * running one of m's fetches (which keeps m alive). */
  struct mu_budget own;
};

/* Open a mapping of src (mu_map_open's contract, the service running). */
int mu_region_open(const struct mu_map_source *src, const struct mu_map_opts *opts,
                   struct mu_map **out);
/* Tear m down (mu_map_close's contract). */
void mu_region_close(struct mu_map *m);
/* Snapshot m's counters. */
void mu_region_stats(struct mu_map *m, struct mu_map_stats *out);
/* fork(): lock m (then its own budget's queue) in the prologue; unlock in
 * the parent; in the child, re-register m with the child's userfaultfd and
 * unlock (region.c). */
void mu_region_fork_lock(struct mu_map *m);
void mu_region_fork_unlock(struct mu_map *m);
void mu_region_after_fork_child(struct mu_map *m);
/* Reader thread, registry locked: serve a missing-page fault at addr from
 * thread tid. With may_run, a demand fetch it needs is claimed but not
 * queued: returned for the caller to run (mu_region_run) once it holds no
 * lock. Else NULL. */
struct mu_fetch *mu_region_fault(struct mu_map *m, uintptr_t addr, pid_t tid, int may_run);
/* Run a fetch mu_region_fault returned, on the calling thread, no lock held. */
void mu_region_run(struct mu_fetch *f);
/* Under lock: queue fetches for the absent blocks in [from, to), in pieces
 * of at most `chunk` blocks. Never claims a block twice. */
void mu_region_queue_range(struct mu_map *m, size_t from, size_t to, size_t chunk);
/* Evictor of budget `from`, registry locked, m registered: blocks
 * [b, b+n) left from's queue; drop the pages of those installed
 * (MADV_DONTNEED, one call per run; the next touch fetches them again).
 * The number dropped. */
size_t mu_region_evict(struct mu_map *m, size_t b, size_t n, const struct mu_budget *from);
/* Under lock: install the parked block (if any) as a present block. If
 * that fails, tid (> 0: a thread blocked on it) gets SIGBUS. */
void mu_region_unpark(struct mu_map *m, pid_t tid);
/* mu_map_read's contract; takes m's lock, waits for blocks in flight. */
int mu_region_read(struct mu_map *m, void *dst, size_t len, uint64_t off);
/* mu_map_advise's contract, advice already validated; takes m's lock. */
void mu_region_advise(struct mu_map *m, uint64_t off, uint64_t len, int advice);

/* readahead.c, all under lock. Initial state of m's readahead. */
void mu_ra_init(struct mu_map *m);
/* A demand miss at block b (a fetch for b was
 * just queued): detect sequential access, plan the next window. */
void mu_ra_on_miss(struct mu_map *m, size_t b);
/* A thread waits on block b, in flight: if b is the marker, note it; if
 * b is in another stream's last window near its end, plan that stream's
 * next window now. */
void mu_ra_on_inflight(struct mu_map *m, size_t b);
/* The reader reached the marker block b: plan the next window (doubled;
 * four times as large if the reader waited on it and the origin is slow:
 * its fastest first bytes took 1 ms or more). */
void mu_ra_on_marker(struct mu_map *m, size_t b);
/* Block b was installed with no reader waiting on it: if it is the marker
 * (made one while its bytes were being copied in), move the marker on. */
void mu_ra_on_landed(struct mu_map *m, size_t b);
/* Advice NORMAL, SEQUENTIAL or RANDOM: the mapping's readahead mode. */
void mu_ra_set_mode(struct mu_map *m, int mode);
/* Advice WILLNEED: queue the absent blocks of [from, to) as readahead,
 * as many as the budget has room for. */
void mu_ra_willneed(struct mu_map *m, size_t from, size_t to);

#endif
