/*
 * exec.c - our open files across execve(). The placeholder fds survive exec
 * as any fd does, with their kernel offsets, and each carries what it
 * names: its memfd holds "mmapurl 1\nf\n<url>\n<etag>\n" (or "d\n<path>\n"
 * for a directory), written and sealed before the fd was handed out (see
 * fdtab.c). At load the new program's shim walks /proc/self/fd, claims
 * every memfd named "mmapurl", reads that description and reopens the
 * object, once per placeholder however many fds share it. So it works
 * whoever exec'd it (execve, posix_spawn with file actions, system(),
 * popen(), a vfork child, an environment without our variables), with
 * whatever fd numbers the fds were moved to. An object whose ETag changed
 * meanwhile fails every read with EIO.
 * Exec also keeps the shim in LD_PRELOAD when a program passes its own
 * environment, and passes a working directory of ours in MMAPURL_SHIM_CWD.
 * Must never claim an fd that is not one of our placeholders, and never
 * drop the caller's own variables.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"
#include "util/log.h"

#define CWD_VAR "MMAPURL_SHIM_CWD"
#define DESC_MAGIC "mmapurl 1\n"

const char *shim_self_path(void) {
  static char path[4096];
  if (!path[0]) {
    Dl_info info;
    if (dladdr((void *)shim_self_path, &info) && info.dli_fname)
      snprintf(path, sizeof path, "%s", info.dli_fname);
  }
  return path;
}

char *shim_exec_describe(const struct shim_file *f) {
  char *url = f->kind == SHIM_FILE ? shim_path_url(&f->path) : NULL;
  const char *target = url ? url : f->path.display;
  size_t n = sizeof DESC_MAGIC + strlen(target) + strlen(f->etag) + 4;
  char *d = (url || f->kind != SHIM_FILE) ? malloc(n) : NULL;
  if (d && url)
    snprintf(d, n, DESC_MAGIC "f\n%s\n%s\n", url, f->etag);
  else if (d)
    snprintf(d, n, DESC_MAGIC "d\n%s\n", target);
  free(url);
  return d;
}

static int starts(const char *s, const char *name) {
  size_t n = strlen(name);
  return strncmp(s, name, n) == 0 && s[n] == '=';
}

/* "NAME=" prefix + value, malloc'ed. */
static char *entry(const char *name, const char *a, const char *sep, const char *b) {
  size_t n = strlen(name) + strlen(a) + strlen(sep) + strlen(b) + 2;
  char *e = malloc(n);
  if (e)
    snprintf(e, n, "%s=%s%s%s", name, a, sep, b);
  return e;
}

char **shim_exec_env(char *const envp[]) {
  size_t n = 0;
  while (envp && envp[n])
    n++;
  char **env = calloc(n + 3, sizeof *env);
  if (!env)
    return NULL;
  size_t k = 0;
  const char *preload = NULL, *self = shim_self_path();
  for (size_t i = 0; i < n; i++) {
    if (starts(envp[i], "LD_PRELOAD"))
      preload = envp[i] + 11;
    else if (!starts(envp[i], CWD_VAR))
      env[k++] = envp[i];
  }
  size_t mine = k; /* env[mine..] are ours to free */
  int ok = 1;
  if (preload || *self) {
    int has = preload && *self && strstr(preload, self);
    char *e = !preload || !*preload ? entry("LD_PRELOAD", self, "", "")
              : has || !*self      ? entry("LD_PRELOAD", preload, "", "")
                                   : entry("LD_PRELOAD", preload, ":", self);
    ok = (env[k] = e) != NULL;
    k += ok;
  }
  const char *cwd = shim_path_cwd();
  if (ok && cwd) {
    ok = (env[k] = entry(CWD_VAR, cwd, "", "")) != NULL;
    k += ok;
  }
  if (!ok) {
    while (k > mine)
      free(env[--k]);
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
    if (starts(env[i], "LD_PRELOAD") || starts(env[i], CWD_VAR))
      free(env[i]);
  free(env);
}

/* A placeholder found at load: its identity and the file reopened for it. */
struct claimed {
  dev_t dev;
  ino_t ino;
  struct shim_file *f; /* NULL: could not be reopened (its fds stay unclaimed) */
};

/* Reopen what the description d names. 0 and *out, or -errno. */
static int reopen(char *d, struct shim_file **out) {
  *out = NULL;
  if (strncmp(d, DESC_MAGIC, strlen(DESC_MAGIC)) != 0)
    return -EINVAL;
  char *kind = d + strlen(DESC_MAGIC), *target = strchr(kind, '\n');
  if (!target || (kind[0] != 'f' && kind[0] != 'd'))
    return -EINVAL;
  char *etag = strchr(++target, '\n');
  if (!etag)
    return -EINVAL;
  *etag++ = '\0';
  char *end = strchr(etag, '\n');
  if (end)
    *end = '\0';
  struct shim_path p;
  int rc = shim_path_parse(target, &p);
  if (rc == 0)
    rc = kind[0] == 'f' ? shim_file_open(&p, out) : shim_dir_open(&p, out);
  if (rc != 0) {
    shim_path_free(&p);
    MU_WARN("shim: %s, open in the parent, cannot be reopened: %s", target, strerror(-rc));
    return rc;
  }
  if (kind[0] == 'f' && strcmp((*out)->etag, etag) != 0) {
    MU_WARN("shim: %s changed since the parent opened it; reads of it fail with EIO", target);
    (*out)->broken = 1;
  }
  return 0;
}

/* fd's description (it is a memfd of ours), or NULL. */
static char *read_description(long fd) {
  char proc[64], link[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%ld", fd);
  ssize_t n = readlink(proc, link, sizeof link - 1);
  if (n <= 0)
    return NULL;
  link[n] = '\0';
  if (strncmp(link, "/memfd:mmapurl ", 15) != 0)
    return NULL;
  int ro = REAL(open)(proc, O_RDONLY | O_CLOEXEC);
  if (ro < 0)
    return NULL;
  char *d = calloc(1, 8192);
  ssize_t got = d ? REAL(pread)(ro, d, 8191, 0) : -1;
  REAL(close)(ro);
  if (got <= 0) {
    free(d);
    return NULL;
  }
  return d;
}

static void claim(long fd, const struct stat *st, struct claimed **v, size_t *n) {
  for (size_t i = 0; i < *n; i++)
    if ((*v)[i].dev == st->st_dev && (*v)[i].ino == st->st_ino) {
      if ((*v)[i].f)
        shim_fd_set((int)fd, (*v)[i].f);
      return;
    }
  char *d = read_description(fd);
  if (!d)
    return;
  struct claimed *nv = realloc(*v, (*n + 1) * sizeof **v);
  if (!nv) {
    free(d);
    return;
  }
  *v = nv;
  struct claimed *c = &nv[(*n)++];
  c->dev = st->st_dev;
  c->ino = st->st_ino;
  c->f = NULL;
  if (reopen(d, &c->f) == 0) {
    c->f->ph_dev = st->st_dev;
    c->f->ph_ino = st->st_ino;
    shim_fd_set((int)fd, c->f);
  }
  free(d);
}

void shim_exec_restore(void) {
  DIR *dir = REAL(opendir)("/proc/self/fd");
  if (!dir)
    return; /* no /proc: no placeholders either (fdtab.c makes them there) */
  struct claimed *v = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = REAL(readdir)(dir))) {
    char *end;
    long fd = strtol(e->d_name, &end, 10);
    struct stat st = {0};
    if (*end || end == e->d_name || fd == REAL(dirfd)(dir) ||
        REAL(fstatat)((int)fd, "", &st, AT_EMPTY_PATH) != 0 || !S_ISREG(st.st_mode))
      continue;
    claim(fd, &st, &v, &n);
  }
  REAL(closedir)(dir);
  for (size_t i = 0; i < n; i++)
    shim_file_put(v[i].f);
  free(v);
  shim_stream_fix_stdin();
}
