/*
 * stream.c - stdio on our fds. glibc's FILE reads through its internal
 * __read, which no interposer sees, so a FILE of ours is a fopencookie()
 * stream whose functions call the shim's read, lseek and close on the fd;
 * its _fileno is set to that fd so fileno() (then fstat, posix_fadvise)
 * still names it.
 * Must never let a glibc FILE read our placeholder fd directly (that would
 * fail, or worse), and never close the fd twice.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

/* Each FILE of ours has a cookie; the list of them tells our FILEs from
 * glibc's (whose freopen cannot handle a cookie stream). */
struct cookie {
  int fd;
  FILE *fp;
  struct cookie *next;
};
static struct cookie *cookies;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int shim_stream_ours(const FILE *fp) {
  int found = 0;
  pthread_mutex_lock(&lock);
  for (struct cookie *c = cookies; c && !found; c = c->next)
    found = c->fp == fp;
  pthread_mutex_unlock(&lock);
  return found;
}

static ssize_t cookie_read(void *c, char *buf, size_t n) {
  return read(((struct cookie *)c)->fd, buf, n);
}

static ssize_t cookie_write(void *c, const char *buf, size_t n) {
  errno = EBADF;
  return -1;
}

static int cookie_seek(void *c, off64_t *off, int whence) {
  off64_t r = lseek64(((struct cookie *)c)->fd, *off, whence);
  if (r < 0)
    return -1;
  *off = r;
  return 0;
}

static int cookie_close(void *cv) {
  struct cookie *c = cv;
  pthread_mutex_lock(&lock);
  for (struct cookie **pp = &cookies; *pp; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      break;
    }
  pthread_mutex_unlock(&lock);
  int fd = c->fd;
  free(c);
  return close(fd);
}

FILE *shim_stream_open(int fd, const char *mode) {
  if (strpbrk(mode, "wa+")) {
    errno = EINVAL; /* our fds are read-only: glibc's fdopen says EINVAL */
    return NULL;
  }
  struct cookie *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->fd = fd;
  cookie_io_functions_t io = {.read = cookie_read, .write = cookie_write,
                              .seek = cookie_seek, .close = cookie_close};
  FILE *fp = fopencookie(c, "r", io);
  if (!fp) {
    free(c);
    return NULL;
  }
  fp->_fileno = fd;
  c->fp = fp;
  pthread_mutex_lock(&lock);
  c->next = cookies;
  cookies = c;
  pthread_mutex_unlock(&lock);
  return fp;
}

void shim_stream_fix_stdin(void) {
  struct shim_file *f = shim_fd_get(0);
  if (!f)
    return;
  shim_file_put(f);
  FILE *fp = shim_stream_open(0, "r");
  if (fp)
    stdin = fp; /* glibc's own stdin would read fd 0 behind our back */
}
