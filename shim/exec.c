/*
 * exec.c - our open files across execve(). The placeholder fds survive
 * exec as any fd does (with their kernel offsets); what the new program's
 * shim needs besides is which fds are ours and what they name. We pass
 * that in MMAPURL_SHIM_FDS ("fd:inode:url-hex:etag-hex;..."), and keep
 * the shim in LD_PRELOAD even when a program passes an environment of its
 * own; a working directory of ours goes in MMAPURL_SHIM_CWD. At load the new shim reopens each handed-over object, refusing
 * (EIO on every read) one whose ETag changed meanwhile.
 * Must never trust an fd whose inode differs from the one handed over (it
 * was closed and reused), and never drop the caller's own variables.
 */
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

static void describe(int fd, struct shim_file *f, void *ctx) {
  struct sbuf *b = ctx;
  struct stat st = {0};
  if (f->kind != SHIM_FILE || REAL(fstatat)(fd, "", &st, AT_EMPTY_PATH) != 0)
    return;
  char head[64];
  int n = snprintf(head, sizeof head, "%d:%llu:", fd, (unsigned long long)st.st_ino);
  put(b, head, (size_t)n);
  put(b, "s3://", 5);
  put_hex(b, f->path.bucket);
  put_hex(b, "/");
  put_hex(b, f->path.key);
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
  put(&fds, FDS_VAR "=", sizeof FDS_VAR);
  shim_fd_each(describe, &fds);
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

/* One "fd:inode:url-hex:etag-hex" entry. */
static void restore_one(const char *e, size_t len) {
  char item[8192];
  if (len >= sizeof item)
    return;
  memcpy(item, e, len);
  item[len] = '\0';
  int fd;
  unsigned long long ino;
  int used = 0;
  if (sscanf(item, "%d:%llu:%n", &fd, &ino, &used) != 2 || used == 0)
    return;
  char *url_hex = item + used;
  if (strncmp(url_hex, "s3://", 5) != 0)
    return;
  char *colon = strchr(url_hex + 5, ':');
  if (!colon)
    return;
  char rest[4096], url[4200], etag[256];
  if (unhex(url_hex + 5, (size_t)(colon - url_hex - 5), rest, sizeof rest) != 0 ||
      unhex(colon + 1, strlen(colon + 1), etag, sizeof etag) != 0)
    return;
  snprintf(url, sizeof url, "s3://%s", rest);
  struct stat st = {0};
  if (REAL(fstatat)(fd, "", &st, AT_EMPTY_PATH) != 0 || st.st_ino != (ino_t)ino)
    return; /* closed on exec, or reused */
  struct shim_path p;
  struct shim_file *f = NULL;
  if (shim_path_parse(url, &p) != 0)
    return;
  int rc = shim_file_open(&p, &f);
  if (rc != 0) {
    shim_path_free(&p);
    MU_WARN("shim: fd %d (%s) handed over by the parent cannot be reopened: %s", fd, url,
            strerror(-rc));
    return;
  }
  if (strcmp(f->etag, etag) != 0) {
    MU_WARN("shim: fd %d: %s changed since the parent opened it; its reads fail with EIO", fd,
            url);
    f->broken = 1;
  }
  shim_fd_set(fd, f);
  shim_file_put(f);
}

void shim_exec_restore(void) {
  struct mu_shim_config c;
  mu_config_shim(&c);
  const char *s = c.handoff;
  while (s && *s) {
    const char *end = strchr(s, ';');
    size_t n = end ? (size_t)(end - s) : strlen(s);
    if (n)
      restore_one(s, n);
    s += n + (end ? 1 : 0);
  }
  shim_stream_fix_stdin();
}
