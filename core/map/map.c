/*
 * map.c - the mapping API (map.h) and the process-wide fault service it
 * needs: the userfaultfd, the fault reader and the fetch workers, started
 * together by the first non-empty mu_map_open and stopped by
 * mu_map_shutdown; and fork(): the child gets its own userfaultfd, reader
 * and workers, and its copies of the mappings are registered again before
 * fork() returns (pthread_atfork), so it reads right bytes, never zeros.
 * Must never start the service twice or stop it under a mapping that is
 * still open.
 */
#include "map/map.h"

#include <pthread.h>

#include "map/budget.h"
#include "map/reader.h"
#include "map/region.h"
#include "map/uffd.h"
#include "map/workers.h"
#include "util/error.h"

/* `svc_lock` guards svc_running and serializes start/stop. */
static pthread_mutex_t svc_lock = PTHREAD_MUTEX_INITIALIZER;
static int svc_running;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* fork() prologue: take every lock a fork could catch half-held, in the
 * global order (service, registry, each mapping and its own eviction queue,
 * the process-wide eviction queue; the pool's is not needed: its state is
 * dropped in the child). */
static void fork_prepare(void) {
  pthread_mutex_lock(&svc_lock);
  mu_reader_lock();
  mu_reader_each(mu_region_fork_lock);
  mu_budget_fork_lock(mu_budget_proc());
}

static void fork_parent(void) {
  mu_budget_fork_unlock(mu_budget_proc(), 0);
  mu_reader_each(mu_region_fork_unlock);
  mu_reader_unlock();
  pthread_mutex_unlock(&svc_lock);
}

/* The child has only this thread: new fd, new threads, mappings
 * re-registered. The registry lock is re-initialized by the reader. */
static void fork_child(void) {
  mu_budget_fork_unlock(mu_budget_proc(), 1);
  int was_running = svc_running;
  svc_running = 0;
  mu_pool_forget_in_child();
  mu_reader_forget_in_child();
  if (was_running && mu_uffd_reopen_in_child() == 0 && mu_pool_start(MU_MAP_WORKERS) == 0) {
    if (mu_reader_start() == 0)
      svc_running = 1;
    else
      mu_pool_stop();
  }
  if (!svc_running)
    mu_uffd_close_in_child();
  mu_reader_each(mu_region_after_fork_child);
  pthread_mutex_init(&svc_lock, NULL);
}

static void install_atfork(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

void mu_map_install_atfork(void) { pthread_once(&atfork_once, install_atfork); }

static int service_start(void) {
  mu_map_install_atfork();
  pthread_mutex_lock(&svc_lock);
  int rc = 0;
  if (!svc_running) {
    rc = mu_uffd_open();
    if (rc == 0)
      rc = mu_pool_start(MU_MAP_WORKERS);
    if (rc == 0 && (rc = mu_reader_start()) != 0)
      mu_pool_stop();
    svc_running = rc == 0;
  }
  pthread_mutex_unlock(&svc_lock);
  return rc;
}

int mu_map_open(const struct mu_map_source *src, const struct mu_map_opts *opts,
                struct mu_map **out) {
  if (!out)
    return mu_fail(MMAPURL_E_INVALID_ARG, "mu_map_open: out is NULL");
  *out = NULL;
  if (!src || !src->fetch)
    return mu_fail(MMAPURL_E_INVALID_ARG, "mu_map_open: no source or no fetch function");
  if (src->size > 0)
    MU_TRY(service_start());
  return mu_region_open(src, opts, out);
}

void *mu_map_addr(const struct mu_map *m) { return m->addr; }

uint64_t mu_map_size(const struct mu_map *m) { return m->src.size; }

void mu_map_stats(const struct mu_map *m, struct mu_map_stats *out) {
  mu_region_stats((struct mu_map *)m, out);
}

int mu_map_advise(struct mu_map *m, uint64_t off, uint64_t len, enum mu_map_advice advice) {
  if (!m)
    return mu_fail(MMAPURL_E_INVALID_ARG, "mu_map_advise: mapping is NULL");
  if ((unsigned)advice > (unsigned)MU_MAP_DONTNEED) /* negative ones too */
    return mu_fail(MMAPURL_E_INVALID_ARG, "mu_map_advise: unknown advice %d", (int)advice);
  mu_region_advise(m, off, len, (int)advice);
  return 0;
}

int mu_map_read(struct mu_map *m, void *dst, size_t len, uint64_t off) {
  if (!m || (!dst && len))
    return mu_fail(MMAPURL_E_INVALID_ARG, "mu_map_read: mapping or buffer is NULL");
  if (off > m->src.size || len > m->src.size - off)
    return mu_fail(MMAPURL_E_INVALID_ARG, "mu_map_read: range past the end of the object");
  return len ? mu_region_read(m, dst, len, off) : 0;
}

void mu_map_close(struct mu_map *m) {
  if (m)
    mu_region_close(m);
}

void mu_map_set_cache_max(size_t max) { mu_budget_set(mu_budget_proc(), max); }
size_t mu_map_cache_bytes(void) { return mu_budget_used(mu_budget_proc()); }
size_t mu_map_cache_peak(void) { return mu_budget_peak(mu_budget_proc()); }
size_t mu_map_evictions(void) { return mu_budget_evictions(mu_budget_proc()); }

const char *mu_map_uffd_mode(void) { return mu_uffd_mode_name(mu_uffd_mode()); }

void mu_map_shutdown(void) {
  pthread_mutex_lock(&svc_lock);
  if (svc_running) {
    mu_reader_stop();
    mu_pool_stop();
    svc_running = 0;
  }
  pthread_mutex_unlock(&svc_lock);
}
