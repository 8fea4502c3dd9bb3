/*
 * reader.h - the process's fault-reading threads and the registry of
 * registered mappings they dispatch to. A reader reads events in batches
 * and hands each to its mapping (mu_region_fault); the only I/O it does is
 * a demand fault's fetch, run with no lock held (reader.c).
 */
#ifndef MU_MAP_READER_H
#define MU_MAP_READER_H

#include <stdint.h>

struct mu_map;

/* Start the reader threads (no-op if running). 0 or MMAPURL_E_INTERNAL. */
int mu_reader_start(void);
/* Wake the readers through their eventfd and join them. */
void mu_reader_stop(void);
/* Make m's faults reach it. 0 or MMAPURL_E_NOMEM. */
int mu_reader_add(struct mu_map *m);
/* After this returns, no reader dispatches to m again (a fetch of m that
 * a reader runs holds its own reference). */
void mu_reader_remove(const struct mu_map *m);
/* In a forked child: forget the parent's threads and eventfd (keep the
 * registry, whose mappings exist in the child too). */
void mu_reader_forget_in_child(void);
/* Registry locked by the caller (or a single-threaded child): call fn on
 * every registered mapping (fork handlers). */
void mu_reader_each(void (*fn)(struct mu_map *m));
/* Registry locked by the caller: whether m (possibly freed: compared, not
 * read) is registered at addr. */
int mu_reader_has_locked(const struct mu_map *m, uintptr_t addr);
/* Hold / release the registry lock (fork handlers, the evictor). */
void mu_reader_lock(void);
void mu_reader_unlock(void);

#endif
