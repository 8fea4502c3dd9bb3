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
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shim.h"

static ssize_t cookie_read(void *c, char *buf, size_t n) {
  return read((int)(intptr_t)c, buf, n);
}

static ssize_t cookie_write(void *c, const char *buf, size_t n) {
  errno = EBADF;
  return -1;
}

static int cookie_seek(void *c, off64_t *off, int whence) {
  off64_t r = lseek64((int)(intptr_t)c, *off, whence);
  if (r < 0)
    return -1;
  *off = r;
  return 0;
}

static int cookie_close(void *c) { return close((int)(intptr_t)c); }

FILE *shim_stream_open(int fd, const char *mode) {
  if (strpbrk(mode, "wa+")) {
    errno = EBADF; /* our fds are read-only, as fdopen(3) of an O_RDONLY fd */
    return NULL;
  }
  cookie_io_functions_t io = {.read = cookie_read, .write = cookie_write,
                              .seek = cookie_seek, .close = cookie_close};
  FILE *fp = fopencookie((void *)(intptr_t)fd, "r", io);
  if (fp)
    fp->_fileno = fd;
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
