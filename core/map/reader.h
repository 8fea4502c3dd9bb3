/*
 * reader.h - the process's one fault-reading thread and the registry of
 * registered mappings it dispatches to. The reader never does I/O: it reads
 * events in batches and hands each to its mapping (mu_region_fault).
 */
#ifndef MU_MAP_READER_H
#define MU_MAP_READER_H

#include <stdint.h>

struct mu_map;

/* Start the reader thread (no-op if running). 0 or MMAPURL_E_INTERNAL. */
int mu_reader_start(void);
/* Wake the reader through its eventfd and join it. */
void mu_reader_stop(void);
/* Make m's faults reach it. 0 or MMAPURL_E_NOMEM. */
int mu_reader_add(struct mu_map *m);
/* After this returns, the reader never touches m again. */
void mu_reader_remove(const struct mu_map *m);
/* In a forked child: forget the parent's thread and eventfd (keep the
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
