/*
 * exec.c - our open files across execve(). The placeholder fds survive
 * exec as any fd does (with their kernel offsets); what the new program's
 * shim needs besides is which fds are ours and what they name. We pass
 * that in MMAPURL_SHIM_FDS (per file: its placeholder's device and inode,
 * what it names and its ETag), and keep
 * the shim in LD_PRELOAD even when a program passes an environment of its
 * own; a working directory of ours goes in MMAPURL_SHIM_CWD. At load the new shim reopens each handed-over object, refusing
 * (EIO on every read) one whose ETag changed meanwhile.
 * The new shim claims fds by the placeholder's identity, not by number:
 * whatever moved them between the listing and exec (a vfork child's dup2,
 * posix_spawn's file actions) is followed.
 * Must never claim an fd whose device and inode are not one handed over,
 * and never drop the caller's own variables.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "shim.h"
#include "util/config.h"
#include "util/log.h"

#define FDS_VAR "MMAPURL_SHIM_FDS"
#define CWD_VAR "MMAPURL_SHIM_CWD"

const char *shim_self_path(void) {
  static char path[4096];
  if (!path[0]) {
    Dl_info info;
    if (dladdr((void *)shim_self_path, &info) && info.dli_fname)
      snprintf(path, sizeof path, "%s", info.dli_fname);
  }
  return path;
}

struct sbuf {
  char *p;
  size_t len, cap;
  int failed;
};

static void put(struct sbuf *b, const char *s, size_t n) {
  if (b->failed)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->len + n + 1) * 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->failed = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void put_hex(struct sbuf *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  for (; *s; s++) {
    char two[2] = {hex[(unsigned char)*s >> 4], hex[(unsigned char)*s & 15]};
    put(b, two, 2);
  }
}

/* The distinct files of ours (dup'ed fds share one), gathered under the
 * table lock. */
struct files {
  struct shim_file **v;
  size_t n, cap;
  int failed;
};

static void gather(int fd, struct shim_file *f, void *ctx) {
  struct files *fs = ctx;
  for (size_t i = 0; i < fs->n; i++)
    if (fs->v[i] == f)
      return;
  if (fs->n == fs->cap) {
    size_t cap = fs->cap ? fs->cap * 2 : 8;
    struct shim_file **v = realloc(fs->v, cap * sizeof *v);
    if (!v) {
      fs->failed = 1;
      return;
    }
    fs->v = v;
    fs->cap = cap;
  }
  fs->v[fs->n++] = f;
}

/* "f:dev:ino:url-hex:etag-hex;" for a file, "d:dev:ino:path-hex:;" for a
 * directory: what the new program needs to find and reopen it. */
static void describe(struct sbuf *b, const struct shim_file *f) {
  char head[96];
  int n = snprintf(head, sizeof head, "%c:%llu:%llu:", f->kind == SHIM_FILE ? 'f' : 'd',
                   (unsigned long long)f->ph_dev, (unsigned long long)f->ph_ino);
  put(b, head, (size_t)n);
  if (f->kind == SHIM_FILE) {
    put_hex(b, "s3://");
    put_hex(b, f->path.bucket);
    put_hex(b, "/");
    put_hex(b, f->path.key);
  } else {
    put_hex(b, f->path.display);
  }
  put(b, ":", 1);
  put_hex(b, f->etag);
  put(b, ";", 1);
}

static int starts(const char *s, const char *name) {
  size_t n = strlen(name);
  return strncmp(s, name, n) == 0 && s[n] == '=';
}

/* LD_PRELOAD=<value> with the shim in it (appended when missing). */
static char *preload_entry(const char *value) {
  const char *self = shim_self_path();
  struct sbuf b = {0};
  put(&b, "LD_PRELOAD=", 11);
  if (value && *value) {
    put(&b, value, strlen(value));
    if (*self && !strstr(value, self)) {
      put(&b, ":", 1);
      put(&b, self, strlen(self));
    }
  } else {
    put(&b, self, strlen(self));
  }
  if (b.failed)
    free(b.p);
  return b.failed ? NULL : b.p;
}

char **shim_exec_env(char *const envp[]) {
  size_t n = 0;
  while (envp && envp[n])
    n++;
  char **env = calloc(n + 4, sizeof *env);
  if (!env)
    return NULL;
  size_t k = 0;
  const char *preload = NULL;
  for (size_t i = 0; i < n; i++) {
    if (starts(envp[i], "LD_PRELOAD"))
      preload = envp[i] + 11;
    else if (!starts(envp[i], FDS_VAR) && !starts(envp[i], CWD_VAR))
      env[k++] = envp[i];
  }
  int ok = 1;
  if (*shim_self_path() || preload) {
    char *pre = preload_entry(preload);
    if (pre)
      env[k++] = pre;
    else
      ok = 0;
  }
  struct sbuf fds = {0};
  struct files fs = {0};
  put(&fds, FDS_VAR "=", sizeof FDS_VAR);
  shim_fd_each(gather, &fs);
  for (size_t i = 0; i < fs.n; i++)
    describe(&fds, fs.v[i]);
  free(fs.v);
  fds.failed |= fs.failed;
  if (!fds.failed && fds.len > sizeof FDS_VAR)
    env[k++] = fds.p;
  else
    free(fds.p);
  ok = ok && !fds.failed;
  const char *cwd = shim_path_cwd();
  if (ok && cwd) {
    struct sbuf c = {0};
    put(&c, CWD_VAR "=", sizeof CWD_VAR);
    put(&c, cwd, strlen(cwd));
    if (c.failed) {
      free(c.p);
      ok = 0;
    } else {
      env[k++] = c.p;
    }
  }
  if (!ok) {
    for (size_t i = 0; i < k; i++)
      if (starts(env[i], "LD_PRELOAD") || starts(env[i], FDS_VAR) || starts(env[i], CWD_VAR))
        free(env[i]);
    free(env);
    return NULL;
  }
  env[k] = NULL;
  return env;
}

void shim_exec_env_free(char **env) {
  if (!env)
    return;
  for (size_t i = 0; env[i]; i++)
    if (starts(env[i], "LD_PRELOAD") || starts(env[i], FDS_VAR) || starts(env[i], CWD_VAR))
      free(env[i]);
  free(env);
}

static int unhex(const char *s, size_t n, char *out, size_t cap) {
  if (n % 2 || n / 2 >= cap)
    return -1;
  for (size_t i = 0; i < n / 2; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1)
      return -1;
    out[i] = (char)v;
  }
  out[n / 2] = '\0';
  return 0;
}

/* One handed-over file: its placeholder's identity and what it names. */
struct handed {
  char kind; /* 'f' or 'd' */
  dev_t dev;
  ino_t ino;
  char target[4096]; /* "s3://bucket/key" or the directory's path */
  char etag[256];
  struct shim_file *f; /* reopened on its first fd, then shared */
  int failed;
};

static int parse_entry(const char *e, size_t len, struct handed *h) {
  char item[9000];
  if (len >= sizeof item)
    return -1;
  memcpy(item, e, len);
  item[len] = '\0';
  unsigned long long dev, ino;
  int used = 0;
  if (sscanf(item, "%c:%llu:%llu:%n", &h->kind, &dev, &ino, &used) != 3 || used == 0 ||
      (h->kind != 'f' && h->kind != 'd'))
    return -1;
  char *target = item + used, *colon = strchr(target, ':');
  if (!colon || unhex(target, (size_t)(colon - target), h->target, sizeof h->target) != 0 ||
      unhex(colon + 1, strlen(colon + 1), h->etag, sizeof h->etag) != 0)
    return -1;
  h->dev = (dev_t)dev;
  h->ino = (ino_t)ino;
  return 0;
}

/* Reopen what h names (once). 0, or -errno. */
static int reopen(struct handed *h) {
  struct shim_path p;
  int rc = shim_path_parse(h->target, &p);
  if (rc == 0)
    rc = h->kind == 'f' ? shim_file_open(&p, &h->f) : shim_dir_open(&p, &h->f);
  if (rc != 0) {
    shim_path_free(&p);
    return rc;
  }
  h->f->ph_dev = h->dev;
  h->f->ph_ino = h->ino;
  if (h->kind == 'f' && strcmp(h->f->etag, h->etag) != 0) {
    MU_WARN("shim: %s changed since the parent opened it; reads of it fail with EIO", h->target);
    h->f->broken = 1;
  }
  return 0;
}

/* Claim every fd whose placeholder is one handed over: by identity, not by
 * number, so fds the parent (or a vfork child, or posix_spawn's file
 * actions) moved after listing them are found too. */
static void claim_fds(struct handed *hs, size_t n) {
  DIR *d = REAL(opendir)("/proc/self/fd");
  if (!d) {
    MU_WARN("shim: /proc/self/fd: %s; files handed over by the parent are unreadable",
            strerror(errno));
    return;
  }
  struct dirent *e;
  while ((e = REAL(readdir)(d))) {
    char *end;
    long fd = strtol(e->d_name, &end, 10);
    struct stat st = {0};
    if (*end || end == e->d_name || fd == REAL(dirfd)(d) ||
        REAL(fstatat)((int)fd, "", &st, AT_EMPTY_PATH) != 0)
      continue;
    for (size_t i = 0; i < n; i++) {
      struct handed *h = &hs[i];
      if (h->failed || st.st_dev != h->dev || st.st_ino != h->ino)
        continue;
      int rc = h->f ? 0 : reopen(h);
      if (rc != 0) {
        h->failed = 1;
        MU_WARN("shim: fd %ld (%s) handed over by the parent cannot be reopened: %s", fd,
                h->target, strerror(-rc));
      } else {
        shim_fd_set((int)fd, h->f);
      }
      break;
    }
  }
  REAL(closedir)(d);
}

void shim_exec_restore(void) {
  struct mu_shim_config c;
  mu_config_shim(&c);
  const char *s = c.handoff;
  struct handed *hs = NULL;
  size_t n = 0;
  while (s && *s) {
    const char *end = strchr(s, ';');
    size_t len = end ? (size_t)(end - s) : strlen(s);
    struct handed *v = len ? realloc(hs, (n + 1) * sizeof *hs) : NULL;
    if (v) {
      hs = v;
      memset(&hs[n], 0, sizeof hs[n]);
      if (parse_entry(s, len, &hs[n]) == 0)
        n++;
    }
    s += len + (end ? 1 : 0);
  }
  if (n)
    claim_fds(hs, n);
  for (size_t i = 0; i < n; i++)
    shim_file_put(hs[i].f);
  free(hs);
  shim_stream_fix_stdin();
}
