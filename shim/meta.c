/*
 * meta.c - what a path of ours is (a regular file with a size and an
 * mtime, or a directory), as stat(2) reports it, and a small cache of
 * those answers (MMAPURL_STAT_TTL) fed by lookups and listings, so that
 * `ls -l` costs one listing, not one request per file.
 * An object is probed with a 2-byte ranged GET; a key that is no object is
 * a directory when a listing of "key/" finds anything. Errors map to the
 * errno a local file system would give.
 * Must never report a missing object as present or give a size it did
 * not get from S3; must never print anything but the core's redacted detail.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "mmapurl.h"
#include "s3/list.h"
#include "s3/s3.h"
#include "shim.h"
#include "util/error.h"
#include "util/log.h"

#define CACHE_SLOTS 4096
#define SHIM_DEV_MAJOR 0
#define SHIM_DEV_MINOR 0xfffff /* the last minor of the unnamed devices (major 0),
                                 which the kernel hands out from the bottom */

struct entry {
  char *name; /* "bucket/key", NULL when the slot is free */
  int err;    /* 0, or the negative errno remembered (ENOENT) */
  struct shim_meta m;
  long long expires_ms;
};

static struct entry cache[CACHE_SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void fork_lock(void) { pthread_mutex_lock(&lock); }
static void fork_unlock(void) { pthread_mutex_unlock(&lock); }
void shim_meta_init(void) { pthread_atfork(fork_lock, fork_unlock, fork_unlock); }

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long cache_ttl(void) { return shim_stat_ttl_ms(); }

/* FNV-1a over "bucket/key": stable across processes and runs. */
static uint64_t hash2(const char *a, const char *b) {
  uint64_t h = 1469598103934665603ULL;
  for (const char *p = a; p && *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ULL;
  h = (h ^ '/') * 1099511628211ULL;
  for (const char *p = b; p && *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ULL;
  return h;
}

uint64_t shim_meta_ino(const char *bucket, const char *key) {
  uint64_t h = hash2(bucket, key);
  return h > 2 ? h : h + 3; /* 0 is "no inode"; 1 and 2 are reserved */
}

static void cache_put(const char *bucket, const char *key, int err, const struct shim_meta *m) {
  long ttl = cache_ttl();
  if (ttl <= 0)
    return;
  size_t n = strlen(bucket) + strlen(key ? key : "") + 2;
  char *name = malloc(n);
  if (!name)
    return;
  snprintf(name, n, "%s/%s", bucket, key ? key : "");
  struct entry *e = &cache[hash2(bucket, key) % CACHE_SLOTS];
  pthread_mutex_lock(&lock);
  free(e->name);
  e->name = name;
  e->err = err;
  if (m)
    e->m = *m;
  e->expires_ms = now_ms() + ttl;
  pthread_mutex_unlock(&lock);
}

/* 1 and *m / *err when bucket/key is cached and fresh. */
static int cache_get(const char *bucket, const char *key, struct shim_meta *m, int *err) {
  if (cache_ttl() <= 0)
    return 0;
  struct entry *e = &cache[hash2(bucket, key) % CACHE_SLOTS];
  size_t bl = strlen(bucket);
  int hit = 0;
  pthread_mutex_lock(&lock);
  if (e->name && strncmp(e->name, bucket, bl) == 0 && e->name[bl] == '/' &&
      strcmp(e->name + bl + 1, key ? key : "") == 0 && e->expires_ms > now_ms()) {
    *m = e->m;
    *err = e->err;
    hit = 1;
  }
  pthread_mutex_unlock(&lock);
  return hit;
}

void shim_meta_remember(const char *bucket, const char *key, const struct shim_meta *m) {
  cache_put(bucket, key, 0, m);
}

int shim_errno(int rc, const char *what) {
  int e;
  switch (rc) {
  case MMAPURL_OK:
    return 0;
  case MMAPURL_E_NO_SUCH_KEY:
  case MMAPURL_E_NO_SUCH_BUCKET:
    return -ENOENT; /* programs probe paths all the time: not worth a line */
  case MMAPURL_E_URL:
    e = -ENOENT;
    break;
  case MMAPURL_E_ACCESS_DENIED:
  case MMAPURL_E_INVALID_KEY_ID:
  case MMAPURL_E_SIGNATURE:
  case MMAPURL_E_TOKEN_EXPIRED:
  case MMAPURL_E_NO_CREDENTIALS:
  case MMAPURL_E_CREDENTIALS_FILE:
  case MMAPURL_E_CLOCK_SKEW:
    e = -EACCES;
    break;
  case MMAPURL_E_NOMEM:
    e = -ENOMEM;
    break;
  default:
    e = -EIO;
  }
  MU_WARN("%s: %s", what, mu_err_detail());
  return e;
}

/* Whether the prefix "key/" of p has anything under it (a directory). */
static int probe_dir(const struct shim_path *p, int *is_dir) {
  char *prefix = shim_path_list_prefix(p);
  if (!prefix)
    return MMAPURL_E_NOMEM;
  struct mu_s3_listing l = {0};
  int rc = mu_s3_list(p->bucket, prefix, "/", 1, 1, &l);
  *is_dir = rc == 0 && l.n > 0;
  mu_s3_listing_free(&l);
  free(prefix);
  return rc;
}

/* Probe bucket/key as an object: 0 and out filled, or an MMAPURL_E_* code. */
static int probe_object(const char *bucket, const char *key, struct shim_meta *out) {
  size_t n = strlen(bucket) + strlen(key) + 7;
  char *url = malloc(n);
  if (!url)
    return MMAPURL_E_NOMEM;
  snprintf(url, n, "s3://%s/%s", bucket, key);
  struct mu_s3_object *o = NULL;
  /* 2 bytes, not 1: s3rver answers "bytes=0-0" with the whole object */
  int rc = mu_s3_open(url, 2, &o);
  free(url);
  if (rc == 0) {
    memset(out, 0, sizeof *out);
    out->ino = shim_meta_ino(bucket, key);
    out->size = o->size;
    out->mtime = o->last_modified;
    mu_s3_close(o);
  }
  return rc;
}

/* p names nothing: ENOTDIR when p ends in '/' but is an object, or when
 * the component before its last is an object (as "file/child" locally);
 * else ENOENT. Costs at most one probe (of the parent, when not cached). */
static int not_dir(const struct shim_path *p) {
  struct shim_meta m;
  int err = 0;
  const char *cut = strrchr(p->key, '/');
  if (!cut)
    return -ENOENT;
  char *parent = strndup(p->key, (size_t)(cut - p->key));
  if (!parent)
    return -ENOMEM;
  int rc;
  if (cache_get(p->bucket, parent, &m, &err)) {
    rc = err == 0 && !m.is_dir ? -ENOTDIR : -ENOENT;
  } else {
    rc = probe_object(p->bucket, parent, &m) == 0 ? -ENOTDIR : -ENOENT;
    if (rc == -ENOTDIR)
      cache_put(p->bucket, parent, 0, &m);
  }
  free(parent);
  return rc;
}

/* A key is an object, else a directory when "key/" lists anything; with a
 * trailing '/', the directory is asked first (S3 may hold both). */
static int lookup_key(const struct shim_path *p, struct shim_meta *out) {
  int rc = MMAPURL_E_NO_SUCH_KEY;
  if (!p->slash) {
    rc = probe_object(p->bucket, p->key, out);
    if (rc == 0)
      return 0;
    if (rc != MMAPURL_E_NO_SUCH_KEY)
      return shim_errno(rc, p->display);
  }
  memset(out, 0, sizeof *out);
  out->ino = shim_meta_ino(p->bucket, p->key);
  int is_dir = 0;
  rc = probe_dir(p, &is_dir);
  if (rc != 0)
    return shim_errno(rc, p->display);
  if (is_dir) {
    out->is_dir = 1;
    return 0;
  }
  if (p->slash) { /* "file/" names no directory */
    struct shim_meta m;
    return probe_object(p->bucket, p->key, &m) == 0 ? -ENOTDIR : -ENOENT;
  }
  return not_dir(p);
}

static int lookup_bucket(const struct shim_path *p, struct shim_meta *out) {
  memset(out, 0, sizeof *out);
  out->is_dir = 1;
  out->ino = shim_meta_ino(p->bucket, "");
  struct mu_s3_listing l = {0};
  int rc = mu_s3_list(p->bucket, "", "/", 1, 1, &l);
  mu_s3_listing_free(&l);
  return rc ? shim_errno(rc, p->display) : 0;
}

int shim_meta_lookup(const struct shim_path *p, struct shim_meta *out) {
  if (p->kind == SHIM_ROOT) {
    memset(out, 0, sizeof *out);
    out->is_dir = 1;
    out->ino = 2;
    return 0;
  }
  const char *key = p->kind == SHIM_KEY ? p->key : "";
  int err = 0;
  if (cache_get(p->bucket, key, out, &err)) {
    if (err == 0 && p->slash && !out->is_dir)
      return -ENOTDIR;
    return err;
  }
  int rc = p->kind == SHIM_KEY ? lookup_key(p, out) : lookup_bucket(p, out);
  if (rc == 0 || rc == -ENOENT)
    cache_put(p->bucket, key, rc, out);
  return rc;
}

static dev_t shim_dev(void) { return makedev(SHIM_DEV_MAJOR, SHIM_DEV_MINOR); }

void shim_meta_to_stat(const struct shim_meta *m, struct stat *st) {
  memset(st, 0, sizeof *st);
  st->st_dev = shim_dev();
  st->st_ino = (ino_t)m->ino;
  st->st_mode = m->is_dir ? (S_IFDIR | 0555) : (S_IFREG | 0444);
  st->st_nlink = m->is_dir ? 2 : 1;
  st->st_uid = getuid();
  st->st_gid = getgid();
  st->st_size = m->is_dir ? 0 : (off_t)m->size;
  st->st_blksize = 65536;
  st->st_blocks = (blkcnt_t)((m->size + 511) / 512);
  st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = m->mtime;
}

void shim_meta_to_statx(const struct shim_meta *m, struct statx *stx) {
  struct stat st;
  shim_meta_to_stat(m, &st);
  memset(stx, 0, sizeof *stx);
  stx->stx_mask = STATX_BASIC_STATS;
  stx->stx_blksize = (uint32_t)st.st_blksize;
  stx->stx_nlink = (uint32_t)st.st_nlink;
  stx->stx_uid = st.st_uid;
  stx->stx_gid = st.st_gid;
  stx->stx_mode = (uint16_t)st.st_mode;
  stx->stx_ino = st.st_ino;
  stx->stx_size = (uint64_t)st.st_size;
  stx->stx_blocks = (uint64_t)st.st_blocks;
  stx->stx_atime.tv_sec = stx->stx_mtime.tv_sec = stx->stx_ctime.tv_sec = m->mtime;
  stx->stx_dev_major = SHIM_DEV_MAJOR;
  stx->stx_dev_minor = SHIM_DEV_MINOR;
}
