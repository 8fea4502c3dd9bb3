/*
 * budget.h - the process-wide byte budget of all mappings: bytes installed
 * or held back, plus bytes being fetched. Above the high watermark (3/4 of
 * the maximum: the last quarter is for the two readahead windows in flight) the
 * oldest installed blocks are evicted, in one batch, down to the low
 * watermark (5/8). Blocks in flight are never evicted.
 */
#ifndef MU_MAP_BUDGET_H
#define MU_MAP_BUDGET_H

#include <stddef.h>

struct mu_map;

/* Set the maximum (0 = unlimited, the default). */
void mu_budget_set(size_t max);
/* The maximum (0 = unlimited). */
size_t mu_budget_max(void);
/* Account n bytes in / out. */
void mu_budget_add(size_t n);
void mu_budget_sub(size_t n);
/* Bytes accounted now, and the most ever. */
size_t mu_budget_used(void);
size_t mu_budget_peak(void);
/* Under m->lock: block b of m was installed; it becomes an eviction
 * candidate (oldest first). No-op without a maximum. */
int mu_budget_note(struct mu_map *m, size_t b);
/* m is closing: drop its candidates. Called with no lock held. */
void mu_budget_forget(const struct mu_map *m);
/* If above the high watermark, evict the oldest candidates down to the low
 * watermark. Called on a worker with no lock held; one evictor at a time. */
void mu_budget_evict(void);
/* fork(): hold the candidate queue in the prologue; release it after, in
 * the child also clearing the evictor flag (its evictor does not exist). */
void mu_budget_fork_lock(void);
void mu_budget_fork_unlock(int in_child);
/* Process-wide evictions so far (blocks). */
size_t mu_budget_evictions(void);

#endif
