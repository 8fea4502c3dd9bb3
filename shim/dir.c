/*
 * dir.c - directories of ours: the root (the buckets), a bucket, and key
 * prefixes ending in '/', listed once at open with ListObjectsV2 (delimiter
 * '/'), with "." and ".." first as a local directory has them; and the DIR
 * streams that readdir() walks. Listing results also fill the stat cache.
 * A DIR* of ours is our own structure: it is only ever handed to our
 * interposers, which tell it from libc's by the set of ours.
 * Must never hand a DIR* of ours to libc, nor list anything the server did
 * not return.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "mmapurl.h"
#include "s3/list.h"
#include "shim.h"
#include "util/log.h"

_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64),
               "readdir and readdir64 share one entry layout on this ABI");

struct shim_dirstream {
  int fd;
  struct shim_file *f;
  size_t pos; /* next entry: 0 ".", 1 "..", then f->ents */
  struct dirent64 ent;
  struct shim_dirstream *next;
};

static struct shim_dirstream *streams;
static atomic_int nstreams;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void fork_lock(void) { pthread_mutex_lock(&lock); }
static void fork_unlock(void) { pthread_mutex_unlock(&lock); }
void shim_dir_init(void) { pthread_atfork(fork_lock, fork_unlock, fork_unlock); }

static int add_entry(struct shim_file *f, const char *where, size_t *cap, const char *name,
                     size_t len, int is_dir, uint64_t ino) {
  if (len == 0)
    return 0; /* the "dir/" marker object of the listed prefix itself */
  if (len > 255) { /* no dirent can hold it: say so rather than hide it */
    MU_WARN("shim: %s: an entry of %zu bytes is longer than a directory entry (255) "
            "allows and is left out of the listing; open it by its full path",
            where, len);
    return 0;
  }
  if (f->nents == *cap) {
    size_t ncap = *cap ? *cap * 2 : 64;
    struct shim_dirent *v = realloc(f->ents, ncap * sizeof *v);
    if (!v)
      return -ENOMEM;
    f->ents = v;
    *cap = ncap;
  }
  char *copy = strndup(name, len);
  if (!copy)
    return -ENOMEM;
  f->ents[f->nents++] = (struct shim_dirent){.name = copy, .is_dir = is_dir, .ino = ino};
  return 0;
}

/* List p into f->ents; remember each entry's metadata. */
static int list_into(struct shim_file *f, const struct shim_path *p) {
  struct mu_s3_listing l = {0};
  size_t cap = 0;
  int rc;
  if (p->kind == SHIM_ROOT) {
    rc = mu_s3_list_buckets(&l);
    for (size_t i = 0; rc == 0 && i < l.n; i++)
      if (add_entry(f, p->display, &cap, l.v[i].name, strlen(l.v[i].name), 1,
                    shim_meta_ino(l.v[i].name, "")) != 0)
        rc = MMAPURL_E_NOMEM;
    mu_s3_listing_free(&l);
    return rc ? shim_errno(rc, p->display) : 0;
  }
  char *prefix = shim_path_list_prefix(p);
  if (!prefix)
    return -ENOMEM;
  const char *pfx = prefix;
  size_t plen = strlen(prefix);
  rc = mu_s3_list(p->bucket, pfx, "/", 0, 0, &l);
  int err = rc ? shim_errno(rc, p->display) : 0;
  for (size_t i = 0; err == 0 && i < l.n; i++) {
    const struct mu_s3_entry *e = &l.v[i];
    size_t n = strlen(e->name);
    if (n < plen || strncmp(e->name, pfx, plen) != 0)
      continue;
    const char *name = e->name + plen;
    size_t len = n - plen;
    if (e->is_prefix && len > 0 && name[len - 1] == '/')
      len--;
    char *key = strndup(e->name, e->is_prefix && n > 0 ? n - 1 : n);
    if (!key) {
      err = -ENOMEM;
      break;
    }
    struct shim_meta m = {.is_dir = e->is_prefix, .size = e->size, .mtime = e->mtime,
                          .ino = shim_meta_ino(p->bucket, key)};
    if (len > 0 && memchr(name, '/', len) == NULL) {
      shim_meta_remember(p->bucket, key, &m);
      err = add_entry(f, p->display, &cap, name, len, e->is_prefix, m.ino);
    }
    free(key);
  }
  /* An empty listing of a prefix means no such directory (S3 has none). */
  if (err == 0 && p->kind == SHIM_KEY && l.n == 0)
    err = -ENOENT;
  mu_s3_listing_free(&l);
  free(prefix);
  return err;
}

int shim_dir_open(const struct shim_path *p, struct shim_file **out) {
  *out = NULL;
  struct shim_file *f = shim_file_new(SHIM_DIR);
  if (!f)
    return -ENOMEM;
  int rc = list_into(f, p);
  if (rc != 0) {
    for (size_t i = 0; i < f->nents; i++)
      free(f->ents[i].name);
    free(f->ents);
    pthread_mutex_destroy(&f->pos);
    free(f);
    return rc;
  }
  f->path = *p;
  f->meta.is_dir = 1;
  f->meta.ino = p->kind == SHIM_ROOT ? 2 : shim_meta_ino(p->bucket, p->key ? p->key : "");
  *out = f;
  return 0;
}

int shim_dir_ours(const DIR *d) {
  if (!d || atomic_load_explicit(&nstreams, memory_order_relaxed) == 0)
    return 0;
  int found = 0;
  pthread_mutex_lock(&lock);
  for (struct shim_dirstream *s = streams; s && !found; s = s->next)
    found = (const void *)s == (const void *)d;
  pthread_mutex_unlock(&lock);
  return found;
}

DIR *shim_dir_stream(int fd, struct shim_file *f) {
  struct shim_dirstream *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->fd = fd;
  s->f = shim_file_ref(f);
  pthread_mutex_lock(&lock);
  s->next = streams;
  streams = s;
  atomic_fetch_add(&nstreams, 1);
  pthread_mutex_unlock(&lock);
  return (DIR *)(void *)s;
}

struct dirent64 *shim_dir_read(DIR *d) {
  struct shim_dirstream *s = (struct shim_dirstream *)(void *)d;
  struct shim_file *f = s->f;
  if (s->pos >= f->nents + 2)
    return NULL; /* end: errno untouched */
  struct dirent64 *e = &s->ent;
  memset(e, 0, sizeof *e);
  if (s->pos < 2) {
    e->d_ino = s->pos == 0 ? f->meta.ino : 1;
    e->d_type = DT_DIR;
    memcpy(e->d_name, s->pos == 0 ? "." : "..", s->pos == 0 ? 2 : 3);
  } else {
    const struct shim_dirent *de = &f->ents[s->pos - 2];
    e->d_ino = de->ino;
    e->d_type = de->is_dir ? DT_DIR : DT_REG;
    memcpy(e->d_name, de->name, strlen(de->name) + 1);
  }
  e->d_reclen = sizeof *e;
  e->d_off = (off64_t)(++s->pos);
  return e;
}

int shim_dir_close(DIR *d) {
  struct shim_dirstream *s = (struct shim_dirstream *)(void *)d;
  pthread_mutex_lock(&lock);
  for (struct shim_dirstream **pp = &streams; *pp; pp = &(*pp)->next)
    if (*pp == s) {
      *pp = s->next;
      atomic_fetch_sub(&nstreams, 1);
      break;
    }
  pthread_mutex_unlock(&lock);
  int fd = s->fd;
  shim_file_put(s->f);
  free(s);
  return fd;
}

void shim_dir_rewind(DIR *d) { ((struct shim_dirstream *)(void *)d)->pos = 0; }
long shim_dir_tell(DIR *d) { return (long)((struct shim_dirstream *)(void *)d)->pos; }
void shim_dir_seek(DIR *d, long pos) {
  ((struct shim_dirstream *)(void *)d)->pos = pos < 0 ? 0 : (size_t)pos;
}
int shim_dir_fd(DIR *d) { return ((struct shim_dirstream *)(void *)d)->fd; }
