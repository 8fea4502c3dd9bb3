/*
 * file.c - an object opened through the shim: one request to open it (its
 * size, ETag, Last-Modified and first block), then a mapping of it, out of
 * which read() copies without faulting (mu_map_read: the mapping's
 * readahead, parallel fetches and cache limit serve read() too). Without
 * userfaultfd (not permitted here), reads go straight to ranged GETs.
 * Must never return bytes of another version of the object (the core sends
 * If-Match), and never raise SIGBUS from read(): failures are -EIO.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api_map.h"
#include "map/map.h"
#include "mmapurl.h"
#include "s3/s3.h"
#include "shim.h"
#include "util/config.h"
#include "util/error.h"
#include "util/log.h"
#include "util/stats.h"

/* Map f's object; leave f->map NULL when userfaultfd is not available. */
static int map_object(struct shim_file *f) {
  int rc = mu_map_s3_object(f->obj, &f->map);
  if (rc == MMAPURL_E_UFFD_UNAVAILABLE) {
    static int said;
    if (!said++)
      MU_INFO("shim: %s; reads go straight to S3, without readahead", mu_err_detail());
    return 0;
  }
  return rc;
}

int shim_file_open(const struct shim_path *p, struct shim_file **out) {
  *out = NULL;
  char *url = shim_path_url(p);
  struct shim_file *f = url ? shim_file_new(SHIM_FILE) : NULL;
  if (!f) {
    free(url);
    return -ENOMEM;
  }
  const struct mu_config *c;
  int rc = mu_config_get(&c);
  if (rc == 0)
    rc = mu_s3_open(url, c->block_size, &f->obj);
  free(url);
  if (rc == 0)
    rc = map_object(f);
  if (rc != 0) {
    int e = shim_errno(rc, p->display);
    if (f->obj)
      mu_s3_close(f->obj);
    pthread_mutex_destroy(&f->pos);
    free(f);
    return e;
  }
  f->path = *p;
  f->meta.size = f->obj->size;
  f->meta.mtime = f->obj->last_modified;
  f->meta.ino = shim_meta_ino(p->bucket, p->key);
  snprintf(f->etag, sizeof f->etag, "%s", f->obj->etag);
  shim_meta_remember(p->bucket, p->key, &f->meta);
  mu_stat_add(MU_STAT_OBJECTS_OPENED, 1);
  *out = f;
  return 0;
}

ssize_t shim_file_pread(struct shim_file *f, void *buf, size_t n, uint64_t off) {
  if (f->kind != SHIM_FILE)
    return -EISDIR;
  if (f->broken)
    return -EIO;
  if (off >= f->meta.size || n == 0)
    return 0;
  if (n > f->meta.size - off)
    n = (size_t)(f->meta.size - off);
  if (n > (size_t)SSIZE_MAX)
    n = (size_t)SSIZE_MAX;
  int rc = f->map ? mu_map_read(f->map, buf, n, off) : mu_s3_read(f->obj, buf, n, off);
  return rc ? shim_errno(rc, f->path.display) : (ssize_t)n;
}

void shim_file_advise(struct shim_file *f, uint64_t off, uint64_t len, int advice) {
  if (f->kind != SHIM_FILE || !f->map)
    return;
  if (len == 0)
    len = f->meta.size > off ? f->meta.size - off : 0;
  switch (advice) {
  case POSIX_FADV_SEQUENTIAL:
    mu_map_advise(f->map, off, len, MU_MAP_SEQUENTIAL);
    break;
  case POSIX_FADV_RANDOM:
    mu_map_advise(f->map, off, len, MU_MAP_RANDOM);
    break;
  case POSIX_FADV_NORMAL:
    mu_map_advise(f->map, off, len, MU_MAP_NORMAL);
    break;
  case POSIX_FADV_WILLNEED:
    mu_map_advise(f->map, off, len, MU_MAP_WILLNEED);
    break;
  case POSIX_FADV_DONTNEED:
    mu_map_advise(f->map, off, len, MU_MAP_DONTNEED);
    break;
  default:
    break;
  }
}
