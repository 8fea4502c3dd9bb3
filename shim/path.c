/*
 * path.c - which paths belong to the shim (MMAPURL_PREFIX, default /s3,
 * and s3:// URLs) and what they name: the root, a bucket, or a key (an
 * object or a "directory" prefix). Paths under the prefix are normalised
 * as a local file system would ("//", "." and ".." collapse); an s3:// URL
 * names its key exactly.
 * Must never touch the network or the file system, and must cost paths
 * that are not ours one prefix compare.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"
#include "util/config.h"
#include "util/error.h"
#include "util/log.h"

static struct mu_shim_config cfg = {.prefix = "/s3", .prefix_len = 3, .stat_ttl_ms = 60000};

/* The working directory when a chdir() went into ours (the kernel's stays
 * where it was), or NULL; a string of cwd_names (below). */
static _Atomic(char *) vcwd;

void shim_path_init(void) {
  if (mu_config_shim(&cfg) != 0)
    MU_ERROR("shim: %s; using %s", mu_err_detail(), cfg.prefix);
  if (cfg.cwd && shim_path_ours(cfg.cwd))
    shim_path_set_cwd(cfg.cwd);
}

/* A vfork child shares vcwd with its parent: its chdir is kept apart,
 * under its pid, for its exec to pass on. */
static _Atomic pid_t child_pid;
static _Atomic(char *) child_cwd;

/* Our working directories, each allocated once and never freed (a thread
 * may still be reading the one a chdir replaced), on a list that keeps them
 * reachable (no leak for LSan) and reuses them: chdir back and forth costs
 * nothing, and the memory is bounded by the distinct directories entered.
 * Push-only and lock-free, so fork and vfork children can always add. */
struct cwd_name {
  struct cwd_name *next;
  char path[];
};
static _Atomic(struct cwd_name *) cwd_names;

static char *cwd_copy(const char *display) {
  if (!display)
    return NULL;
  for (struct cwd_name *c = atomic_load(&cwd_names); c; c = c->next)
    if (strcmp(c->path, display) == 0)
      return c->path;
  size_t n = strlen(display) + 1;
  struct cwd_name *c = malloc(sizeof *c + n);
  if (!c)
    return NULL;
  memcpy(c->path, display, n);
  c->next = atomic_load(&cwd_names);
  while (!atomic_compare_exchange_weak(&cwd_names, &c->next, c))
    ;
  return c->path;
}

void shim_path_set_cwd(const char *display) {
  char *copy = cwd_copy(display);
  if (shim_fd_owned()) {
    atomic_store(&vcwd, copy);
  } else {
    atomic_store(&child_cwd, copy);
    atomic_store(&child_pid, getpid());
  }
}

const char *shim_path_cwd(void) {
  if (atomic_load_explicit(&child_pid, memory_order_relaxed) != 0 &&
      atomic_load(&child_pid) == getpid())
    return atomic_load(&child_cwd);
  return atomic_load_explicit(&vcwd, memory_order_relaxed);
}

const char *shim_prefix(void) { return cfg.prefix; }

long shim_stat_ttl_ms(void) { return cfg.stat_ttl_ms; }

int shim_path_ours(const char *path) {
  if (!path)
    return 0;
  if (path[0] == '/')
    return strncmp(path, cfg.prefix, cfg.prefix_len) == 0 &&
           (path[cfg.prefix_len] == '/' || path[cfg.prefix_len] == '\0');
  if (path[0] == 's' && strncmp(path, "s3://", 5) == 0)
    return 1;
  return path[0] != '\0' && shim_path_cwd() != NULL; /* relative to ours */
}

/* path made absolute against our working directory (malloc'ed). */
static char *from_cwd(const char *path) {
  const char *cwd = shim_path_cwd();
  size_t n = strlen(cwd) + strlen(path) + 2;
  char *abs = malloc(n);
  if (abs)
    snprintf(abs, n, "%s/%s", cwd, path);
  return abs;
}

void shim_path_free(struct shim_path *p) {
  free(p->bucket);
  free(p->key);
  free(p->display);
  memset(p, 0, sizeof *p);
}

/* Collapse "//", "." and ".." in the components after the prefix (in
 * place); ".." never climbs above the prefix, as "/.." stays "/". */
static void normalise(char *rest) {
  char *out = rest, *in = rest;
  while (*in) {
    while (*in == '/')
      in++;
    if (!*in)
      break;
    char *end = strchr(in, '/');
    size_t n = end ? (size_t)(end - in) : strlen(in);
    if (n == 1 && in[0] == '.') {
      /* skip */
    } else if (n == 2 && in[0] == '.' && in[1] == '.') {
      while (out > rest && out[-1] != '/')
        out--;
      if (out > rest)
        out--;
    } else {
      *out++ = '/';
      memmove(out, in, n);
      out += n;
    }
    in += n;
  }
  *out = '\0';
}

static int fill(struct shim_path *out, const char *bucket, size_t blen, const char *key,
                size_t klen, int slash) {
  memset(out, 0, sizeof *out);
  out->slash = slash;
  out->kind = blen == 0 ? SHIM_ROOT : klen == 0 ? SHIM_BUCKET : SHIM_KEY;
  if (blen && !(out->bucket = strndup(bucket, blen)))
    return -ENOMEM;
  if (klen && !(out->key = strndup(key, klen))) {
    shim_path_free(out);
    return -ENOMEM;
  }
  size_t dlen = cfg.prefix_len + 2 + blen + klen + 1;
  if (!(out->display = malloc(dlen))) {
    shim_path_free(out);
    return -ENOMEM;
  }
  if (!blen)
    snprintf(out->display, dlen, "%s", cfg.prefix);
  else if (!klen)
    snprintf(out->display, dlen, "%s/%.*s", cfg.prefix, (int)blen, bucket);
  else
    snprintf(out->display, dlen, "%s/%.*s/%.*s", cfg.prefix, (int)blen, bucket, (int)klen, key);
  return 0;
}

int shim_path_parse(const char *path, struct shim_path *out) {
  memset(out, 0, sizeof *out);
  if (strnlen(path, 4096) >= 4096)
    return -ENAMETOOLONG;
  if (path[0] != '/' && strncmp(path, "s3://", 5) != 0) {
    if (!shim_path_cwd())
      return -ENOENT;
    char *abs = from_cwd(path);
    if (!abs)
      return -ENOMEM;
    int rc = shim_path_parse(abs, out);
    free(abs);
    return rc;
  }
  if (strncmp(path, "s3://", 5) == 0) {
    const char *b = path + 5, *slash = strchr(b, '/');
    size_t blen = slash ? (size_t)(slash - b) : strlen(b);
    const char *k = slash ? slash + 1 : "";
    size_t klen = strlen(k);
    int dir = klen > 0 && k[klen - 1] == '/';
    while (klen > 0 && k[klen - 1] == '/')
      klen--;
    return blen ? fill(out, b, blen, k, klen, dir || !slash) : -ENOENT;
  }
  char *rest = strdup(path + cfg.prefix_len);
  if (!rest)
    return -ENOMEM;
  size_t given = strlen(rest);
  int slash = given > 0 && rest[given - 1] == '/';
  normalise(rest);
  /* rest is "" or "/bucket[/key...]" */
  const char *b = rest[0] ? rest + 1 : rest;
  const char *sep = strchr(b, '/');
  size_t blen = sep ? (size_t)(sep - b) : strlen(b);
  const char *k = sep ? sep + 1 : "";
  int rc = fill(out, b, blen, k, strlen(k), slash);
  free(rest);
  return rc;
}

char *shim_path_url(const struct shim_path *p) {
  if (p->kind != SHIM_KEY)
    return NULL;
  size_t n = strlen(p->bucket) + strlen(p->key) + 7;
  char *u = malloc(n);
  if (u)
    snprintf(u, n, "s3://%s/%s", p->bucket, p->key);
  return u;
}

char *shim_path_list_prefix(const struct shim_path *p) {
  if (p->kind != SHIM_KEY)
    return strdup("");
  size_t n = strlen(p->key) + 2;
  char *s = malloc(n);
  if (s)
    snprintf(s, n, "%s/", p->key);
  return s;
}

int shim_path_at(int dirfd, const char *path, char **out) {
  *out = NULL;
  if (!path)
    return 0;
  if (path[0] == '/' || strncmp(path, "s3://", 5) == 0) {
    if (!shim_path_ours(path))
      return 0;
    return (*out = strdup(path)) ? 0 : -ENOMEM;
  }
  if (!path[0]) { /* "" names nothing (AT_EMPTY_PATH is the caller's) */
    struct shim_file *f = dirfd == AT_FDCWD ? NULL : shim_fd_get(dirfd);
    shim_file_put(f);
    return f ? -ENOENT : 0;
  }
  if (dirfd == AT_FDCWD) {
    if (!shim_path_cwd())
      return 0;
    return (*out = from_cwd(path)) ? 0 : -ENOMEM;
  }
  if (!shim_fd_any())
    return 0;
  struct shim_file *f = shim_fd_get(dirfd);
  if (!f)
    return 0;
  int rc = 0;
  if (f->kind == SHIM_DIR) {
    size_t n = strlen(f->path.display) + strlen(path) + 2;
    if ((*out = malloc(n)))
      snprintf(*out, n, "%s/%s", f->path.display, path);
    else
      rc = -ENOMEM;
  } else {
    rc = -ENOTDIR;
  }
  shim_file_put(f);
  return rc;
}
