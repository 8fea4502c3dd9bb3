/*
 * api_map.c - the mapping API (mmap_s3, mmapurl_map, munmap_s3): an S3
 * object opened by the S3 layer becomes the source of a userfaultfd mapping,
 * and a registry finds the mapping again from its address; and, for the
 * shim, the mapping of an object already open (api_map.h).
 * Must never: abort, return a mapping whose source is not open, or leave an
 * address in the registry after its mapping is closed.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "api_map.h"
#include "map/map.h"
#include "mmapurl.h"
#include "s3/client.h"
#include "s3/s3.h"
#include "util/config.h"
#include "util/error.h"
#include "util/stats.h"

/* The registry of open mappings: address -> mapping. A plain array: munmap
 * is rare next to faults, and a thousand entries scan in a microsecond. */
static struct {
  pthread_mutex_t lock; /* guards everything below */
  struct mu_map **maps;
  size_t n, cap;
} reg = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* fork(): the registry lock is taken around the fork so a child never
 * inherits it held (mmapurl_advise holds it while waiting for a mapping's
 * lock). Registered after the mapping layer's handlers, so this prepare
 * runs first, keeping the order registry -> mapping. */
static void reg_fork_lock(void) { pthread_mutex_lock(&reg.lock); }
static void reg_fork_unlock(void) { pthread_mutex_unlock(&reg.lock); }
static pthread_once_t reg_fork_once = PTHREAD_ONCE_INIT;
static void reg_fork_init(void) {
  mu_map_install_atfork();
  pthread_atfork(reg_fork_lock, reg_fork_unlock, reg_fork_unlock);
}

static int reg_add(struct mu_map *m) {
  pthread_once(&reg_fork_once, reg_fork_init);
  pthread_mutex_lock(&reg.lock);
  int rc = 0;
  if (reg.n == reg.cap) {
    size_t cap = reg.cap ? reg.cap * 2 : 64;
    struct mu_map **maps = realloc(reg.maps, cap * sizeof *maps);
    if (maps)
      reg.maps = maps, reg.cap = cap;
    else
      rc = MMAPURL_E_NOMEM;
  }
  if (rc == 0)
    reg.maps[reg.n++] = m;
  pthread_mutex_unlock(&reg.lock);
  return rc;
}

/* Remove and return the mapping at addr, or NULL. */
static struct mu_map *reg_take(const void *addr) {
  struct mu_map *m = NULL;
  pthread_mutex_lock(&reg.lock);
  for (size_t i = 0; i < reg.n && !m; i++)
    if (mu_map_addr(reg.maps[i]) == addr) {
      m = reg.maps[i];
      reg.maps[i] = reg.maps[--reg.n];
    }
  pthread_mutex_unlock(&reg.lock);
  return m;
}

static int source_fetch(void *ctx, size_t len, uint64_t off,
                        int (*put)(void *pctx, const void *data, size_t n, size_t at),
                        void *pctx) {
  return mu_s3_read_to(ctx, len, off, put, pctx);
}

static void source_release(void *ctx) { mu_s3_close(ctx); }

/* The mapping layer's options from the configuration and the caller's. */
static void map_opts(const struct mu_config *cfg, const struct mmapurl_map_opts *o,
                     struct mu_map_opts *out) {
  out->block_size = o && o->block_size ? o->block_size : cfg->block_size;
  out->readahead_max = o && o->readahead_max ? o->readahead_max : cfg->readahead_max;
  out->cache_max = o ? o->cache_max : 0;
  /* The mapping layer reads a window smaller than a block as "no readahead". */
  if ((o && o->no_readahead) || out->readahead_max == 0)
    out->readahead_max = 1;
}

/* MMAPURL_CACHE_MAX, given to the mapping layer once. */
static pthread_once_t budget_once = PTHREAD_ONCE_INIT;
static void budget_init(void) {
  const struct mu_client *c;
  if (mu_client_get(&c) == 0)
    mu_map_set_cache_max(c->cfg->cache_max);
}

/* Map obj with options o (NULL: the configuration's). The mapping owns obj
 * on success; the caller keeps it on failure. */
static int map_object(const struct mu_config *cfg, struct mu_s3_object *obj,
                      const struct mmapurl_map_opts *o, struct mu_map **out) {
  pthread_once(&budget_once, budget_init);
  struct mu_map_opts mo;
  map_opts(cfg, o, &mo);
  struct mu_map_source src = {.size = obj->size, .fetch = source_fetch,
                              .release = source_release, .ctx = obj,
                              .in_memory = obj->head_len};
  return mu_map_open(&src, &mo, out);
}

int mu_map_s3_object(struct mu_s3_object *obj, struct mu_map **out) {
  const struct mu_client *c;
  MU_TRY(mu_client_get(&c));
  return map_object(c->cfg, obj, NULL, out);
}

/* Open the object and map it. 0 and *out, or an error code. */
static int map_url(const char *url, const struct mmapurl_map_opts *o, struct mu_map **out) {
  const struct mu_client *c;
  MU_TRY(mu_client_get(&c));
  if (o && o->block_size && (o->block_size % 4096 || o->block_size > ((size_t)64 << 20)))
    return mu_fail(MMAPURL_E_INVALID_ARG, "block_size %zu: must be a multiple of 4096, at most 64M",
                   o->block_size);
  struct mu_s3_object *obj;
  MU_TRY(mu_s3_open(url, o && o->block_size ? o->block_size : c->cfg->block_size, &obj));
  int rc = map_object(c->cfg, obj, o, out);
  if (rc) {
    mu_s3_close(obj);
    return rc;
  }
  if ((rc = reg_add(*out)) != 0)
    mu_map_close(*out);
  return rc;
}

void *mmapurl_map(const char *url, const struct mmapurl_map_opts *opts, size_t *size, int *err) {
  mu_err_clear();
  struct mu_map *m = NULL;
  int rc = map_url(url, opts, &m);
  if (err)
    *err = rc;
  if (rc) {
    mu_stat_add(MU_STAT_ERRORS, 1);
    return MAP_FAILED;
  }
  mu_stat_add(MU_STAT_OBJECTS_OPENED, 1);
  if (size)
    *size = (size_t)mu_map_size(m);
  return mu_map_addr(m);
}

void *mmap_s3(const char *url, size_t *size, int *err) {
  return mmapurl_map(url, NULL, size, err);
}

int mmapurl_advise(void *addr, size_t off, size_t len, int advice) {
  mu_err_clear();
  int rc = MMAPURL_E_INVALID_ARG;
  /* Under the registry lock, so a concurrent munmap_s3 cannot free it. */
  pthread_mutex_lock(&reg.lock);
  for (size_t i = 0; i < reg.n; i++)
    if (mu_map_addr(reg.maps[i]) == addr) {
      rc = mu_map_advise(reg.maps[i], off, len, (enum mu_map_advice)advice);
      break;
    }
  pthread_mutex_unlock(&reg.lock);
  if (rc)
    return mu_fail(rc, "mmapurl_advise(%p, advice %d): unknown mapping or advice", addr, advice);
  return 0;
}

int munmap_s3(void *ptr) {
  mu_err_clear();
  struct mu_map *m = ptr && ptr != MAP_FAILED ? reg_take(ptr) : NULL;
  if (!m)
    return mu_fail(MMAPURL_E_INVALID_ARG, "munmap_s3(%p): not an address mmap_s3 returned", ptr);
  mu_map_close(m);
  return 0;
}
