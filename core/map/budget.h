/*
 * budget.h - byte budgets of mappings: bytes installed or held back, plus
 * bytes being fetched. One instance is process-wide (all mappings); each
 * mapping has its own, whose bytes are accounted in the process-wide one as
 * well (its parent). Above an instance's high watermark (3/4 of its maximum:
 * the last quarter is for the two readahead windows in flight) its oldest
 * installed blocks are evicted, in one batch, down to the low watermark
 * (5/8). Blocks in flight are never evicted.
 * Lock order: an instance's `evicting` (taken with no other lock held) ->
 * registry (reader.c) -> mapping -> an instance's queue lock (`lock`).
 */
#ifndef MU_MAP_BUDGET_H
#define MU_MAP_BUDGET_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct mu_map;

/* An eviction candidate: block `block` of `m`, installed at `addr`. */
struct mu_budget_cand {
  struct mu_map *m; /* compared only: it may have been freed */
  uintptr_t addr;   /* m's address, to find it in the registry */
  size_t block;
  size_t bytes;     /* m's block size */
};

struct mu_budget {
  struct mu_budget *parent; /* also accounts our bytes; NULL: process-wide */
  /* Atomics, any thread. */
  size_t used, peak, max, evictions;
  pthread_mutex_t evicting; /* held by the one evictor; before the registry */
  /* The candidates (installed blocks, oldest first): a ring under `lock`. */
  pthread_mutex_t lock;
  struct mu_budget_cand *ring;
  size_t head, n, cap;
};

/* The process-wide instance (MMAPURL_CACHE_MAX). */
struct mu_budget *mu_budget_proc(void);
/* A mapping's instance, below the process-wide one, with maximum max
 * (0 = no limit of its own). mu_budget_fini frees it (no evictor running). */
void mu_budget_init(struct mu_budget *b, size_t max);
void mu_budget_fini(struct mu_budget *b);
/* Set the maximum (0 = unlimited). */
void mu_budget_set(struct mu_budget *b, size_t max);
/* The maximum (0 = unlimited), bytes accounted now, the most ever, and
 * blocks evicted (the process-wide one counts every mapping's). */
size_t mu_budget_max(const struct mu_budget *b);
size_t mu_budget_used(const struct mu_budget *b);
size_t mu_budget_peak(const struct mu_budget *b);
size_t mu_budget_evictions(const struct mu_budget *b);
/* Account n bytes in / out of b and its parent. */
void mu_budget_add(struct mu_budget *b, size_t n);
void mu_budget_sub(struct mu_budget *b, size_t n);
/* The smallest maximum of b and its parent (0: neither has one). */
size_t mu_budget_limit(const struct mu_budget *b);
/* Bytes that fit below quarters/4 of the maximum of b and of its parent
 * now (3: the high watermark; 4: the maximum; SIZE_MAX: no maximum). */
size_t mu_budget_room(const struct mu_budget *b, unsigned quarters);
/* Under m's lock: blocks blks[0..n) of m were installed; they become
 * candidates of b (oldest first), under one lock. The number queued: a
 * prefix of blks, all of them unless memory ran out. The caller skips
 * instances without a maximum. */
size_t mu_budget_note(struct mu_budget *b, struct mu_map *m, const size_t *blks, size_t n);
/* m is closing: drop its candidates. Called with no lock held. */
void mu_budget_forget(struct mu_budget *b, const struct mu_map *m);
/* Under m's lock: m's blocks [from, to) were dropped (advice). Drop their
 * candidates, unless the queue is over 16 times longer than the range
 * (the scan would cost more than the drop: they are left, stale). 1 if
 * dropped: the caller clears the blocks' queue bits, so that blocks
 * installed again get candidates of their new age. */
int mu_budget_forget_range(struct mu_budget *b, const struct mu_map *m, size_t from, size_t to);
/* If above b's high watermark, evict b's oldest candidates down to the low
 * watermark; if another thread is evicting from b, wait for it (then it is
 * usually below: nothing to do). On a worker with no lock held (the mapping
 * of an own instance kept alive by the caller). */
void mu_budget_evict(struct mu_budget *b);
/* fork(): hold b's queue in the prologue; release it after, in the child
 * also resetting `evicting` (its holder does not exist there). */
void mu_budget_fork_lock(struct mu_budget *b);
void mu_budget_fork_unlock(struct mu_budget *b, int in_child);

#endif
