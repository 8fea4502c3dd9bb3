/*
 * shim_driver_abi.c - the entry points a distribution's binaries reach the
 * shim by that the rest of shim_driver never calls: compiled with
 * _FORTIFY_SOURCE=2 and -O2 (tests/shim/CMakeLists.txt), so read, pread,
 * open with variable flags, openat, readlink, realpath and getcwd become
 * __read_chk, __pread64_chk, __open_2, __openat_2, __readlink_chk,
 * __realpath_chk and __getcwd_chk; and the stat ABI of binaries built
 * before glibc 2.33 (__xstat, __lxstat, __fxstat, __fxstatat), looked up
 * at run time since new programs cannot link against it.
 * Must never report success for a call it could not check.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim_driver_abi.h"

#if !defined(_FORTIFY_SOURCE) || _FORTIFY_SOURCE < 2
#error "compile with -D_FORTIFY_SOURCE=2 (and optimisation): the point is the _chk entry points"
#endif

#define FAIL(...)                                          \
  do {                                                     \
    snprintf(msg, msgn, __VA_ARGS__);                      \
    return 1;                                              \
  } while (0)

/* Values the compiler cannot see: open() becomes __open_2 rather than
 * open, and sizes it cannot prove to fit keep the _chk calls. */
static volatile int rdonly = O_RDONLY;
static volatile size_t opaque;

static size_t hide(size_t n) {
  opaque = n;
  return opaque;
}

int abi_fortified(const char *path, const unsigned char *want, size_t wantn, char *msg,
                  size_t msgn) {
  unsigned char buf[4096];
  size_t n = wantn < sizeof buf ? wantn : sizeof buf;
  int fd = open(path, rdonly);
  if (fd < 0)
    FAIL("__open_2(%s): %s", path, strerror(errno));
  ssize_t r = read(fd, buf, hide(n));
  int ok = r == (ssize_t)n && memcmp(buf, want, n) == 0;
  close(fd);
  if (!ok)
    FAIL("__read_chk of %zu bytes: got %zd or wrong bytes", n, r);
  fd = openat(AT_FDCWD, path, rdonly);
  if (fd < 0)
    FAIL("__openat_2(%s): %s", path, strerror(errno));
  size_t off = wantn > 100 ? 100 : 0, m = wantn - off < 1000 ? wantn - off : 1000;
  r = pread(fd, buf, hide(m), (off_t)off);
  ok = r == (ssize_t)m && memcmp(buf, want + off, m) == 0;
  close(fd);
  if (!ok)
    FAIL("__pread64_chk of %zu bytes at %zu: got %zd or wrong bytes", m, off, r);
  char link[64];
  errno = 0;
  r = readlink(path, link, hide(sizeof link));
  if (r != -1 || errno != EINVAL)
    FAIL("__readlink_chk(%s): want EINVAL, got %zd (%s)", path, r, strerror(errno));
  char real[PATH_MAX];
  if (!realpath(path, real) || strcmp(real, path) != 0)
    FAIL("__realpath_chk(%s): got %s", path, real);
  char cwd[PATH_MAX];
  if (!getcwd(cwd, hide(sizeof cwd)))
    FAIL("__getcwd_chk: %s", strerror(errno));
  return 0;
}

int abi_old_stat(const char *path, long long size, char *msg, size_t msgn) {
  typedef int (*xstat_fn)(int, const char *, struct stat *);
  typedef int (*fxstat_fn)(int, int, struct stat *);
  typedef int (*fxstatat_fn)(int, int, const char *, struct stat *, int);
  xstat_fn xstat = (xstat_fn)dlsym(RTLD_DEFAULT, "__xstat");
  xstat_fn lxstat = (xstat_fn)dlsym(RTLD_DEFAULT, "__lxstat");
  fxstat_fn fxstat = (fxstat_fn)dlsym(RTLD_DEFAULT, "__fxstat");
  fxstatat_fn fxstatat = (fxstatat_fn)dlsym(RTLD_DEFAULT, "__fxstatat");
  if (!xstat || !lxstat || !fxstat || !fxstatat)
    FAIL("the pre-2.33 stat ABI is not exported (%p %p %p %p)", (void *)xstat,
         (void *)lxstat, (void *)fxstat, (void *)fxstatat);
  struct stat st[4];
  memset(st, 0, sizeof st);
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    FAIL("open(%s): %s", path, strerror(errno));
  int rc = xstat(1, path, &st[0]) | lxstat(1, path, &st[1]) | fxstat(1, fd, &st[2]) |
           fxstatat(1, AT_FDCWD, path, &st[3], 0);
  close(fd);
  if (rc != 0)
    FAIL("__xstat family on %s: %s", path, strerror(errno));
  for (int i = 0; i < 4; i++)
    if (!S_ISREG(st[i].st_mode) || st[i].st_size != size || st[i].st_ino != st[0].st_ino)
      FAIL("__xstat family result %d: mode %o size %lld ino %llu (want a %lld-byte file)", i,
           (unsigned)st[i].st_mode, (long long)st[i].st_size,
           (unsigned long long)st[i].st_ino, size);
  return 0;
}
