/*
 * interpose.c - the libc names libmmapurl_shim.so exports (shim.map lists
 * them): each checks whether its path or fd is ours, serves it through the
 * other shim modules if so, and otherwise calls the next definition
 * unchanged. Also the shim's constructor.
 * Must never change behaviour for paths and fds that are not ours (one
 * prefix compare, or one table read, then the real call), never copy
 * anything before refusing (copy_file_range, sendfile, splice), and never
 * let a write reach an object (EROFS, EBADF).
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <linux/close_range.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "shim.h"
#include "util/log.h"

#define EXPORT __attribute__((visibility("default")))

extern char **environ;
void __chk_fail(void) __attribute__((noreturn));

/* The next definition of a name we pass through only (resolved once). */
#define NEXT(name)                                                              \
  static __typeof__(name) *next_##name;                                         \
  if (!__atomic_load_n(&next_##name, __ATOMIC_ACQUIRE))                         \
    __atomic_store_n(&next_##name, (__typeof__(name) *)dlsym(RTLD_NEXT, #name), \
                     __ATOMIC_RELEASE);                                         \
  if (!next_##name) {                                                           \
    errno = ENOSYS;                                                             \
    return -1;                                                                  \
  }

static int fail(int neg_errno) {
  errno = -neg_errno;
  return -1;
}

__attribute__((constructor)) static void shim_init(void) {
  shim_real_init();
  shim_fd_init(); /* first: the other locks are taken before its at fork */
  shim_meta_init();
  shim_dir_init();
  shim_maps_init();
  shim_path_init();
  shim_exec_restore();
}

/* ---- open ---------------------------------------------------------------- */

static int is_write_open(int flags) {
  return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC | O_APPEND)) ||
         (flags & O_TMPFILE) == O_TMPFILE;
}

/* Open the path of ours: an fd, or -1 with errno. The placeholder is made
 * first, so it gets the lowest free number (as open(2) gives) before the
 * core's own descriptors (userfaultfd, sockets) take any. */
static int open_ours(const char *path, int flags) {
  if (is_write_open(flags))
    return fail(-EROFS);
  struct shim_path p;
  int rc = shim_path_parse(path, &p);
  if (rc)
    return fail(rc);
  int fd = shim_fd_reserve();
  if (fd < 0) {
    shim_path_free(&p);
    return fail(fd);
  }
  struct shim_file *f = NULL;
  struct shim_meta m;
  int want_dir = (flags & O_DIRECTORY) || p.kind != SHIM_KEY || p.slash;
  if (!want_dir) {
    rc = shim_file_open(&p, &f);
    if (rc == -ENOENT) { /* a directory, or ENOTDIR under an object */
      int lrc = shim_meta_lookup(&p, &m);
      if (lrc == 0 && m.is_dir)
        want_dir = 1;
      else if (lrc != 0)
        rc = lrc;
    }
  }
  if (want_dir) {
    rc = shim_meta_lookup(&p, &m);
    if (rc == 0 && !m.is_dir)
      rc = -ENOTDIR;
    if (rc == 0)
      rc = shim_dir_open(&p, &f);
  }
  char *desc = rc == 0 ? shim_exec_describe(f) : NULL;
  if (rc == 0 && !desc)
    rc = -ENOMEM;
  if (rc == 0) {
    rc = shim_fd_finish(fd, flags & O_CLOEXEC, desc, &f->ph_dev, &f->ph_ino);
    if (rc >= 0)
      rc = shim_fd_set(fd, f);
    else
      fd = -1; /* closed by finish */
  }
  free(desc);
  if (rc) {
    if (f)
      shim_file_put(f); /* it owns p */
    else
      shim_path_free(&p);
    if (fd >= 0)
      REAL(close)(fd);
    return fail(rc);
  }
  shim_file_put(f);
  return fd;
}

static int do_openat(int dirfd, const char *path, int flags, mode_t mode) {
  char *abs = NULL;
  int rc = shim_path_at(dirfd, path, &abs);
  if (rc)
    return fail(rc);
  if (!abs)
    return REAL(openat)(dirfd, path, flags, mode);
  int fd = open_ours(abs, flags);
  free(abs);
  return fd;
}

static mode_t mode_arg(int flags, va_list ap) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

EXPORT int open(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  if (!shim_path_ours(path))
    return REAL(open)(path, flags, mode);
  return open_ours(path, flags);
}

EXPORT int open64(const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  if (!shim_path_ours(path))
    return REAL(open)(path, flags | O_LARGEFILE, mode);
  return open_ours(path, flags);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return do_openat(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return do_openat(dirfd, path, flags | O_LARGEFILE, mode);
}

EXPORT int creat(const char *path, mode_t mode) {
  return open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}
EXPORT int creat64(const char *path, mode_t mode) {
  return open(path, O_CREAT | O_WRONLY | O_TRUNC | O_LARGEFILE, mode);
}
EXPORT int __open_2(const char *path, int flags) { return open(path, flags); }
EXPORT int __open64_2(const char *path, int flags) { return open64(path, flags); }
EXPORT int __openat_2(int dirfd, const char *path, int flags) {
  return do_openat(dirfd, path, flags, 0);
}
EXPORT int __openat64_2(int dirfd, const char *path, int flags) {
  return do_openat(dirfd, path, flags | O_LARGEFILE, 0);
}

/* ---- fds: close, dup, fcntl ---------------------------------------------- */

EXPORT int close(int fd) {
  shim_file_put(shim_fd_take(fd));
  return REAL(close)(fd);
}

EXPORT int close_range(unsigned lo, unsigned hi, int flags) {
  if (!REAL(close_range))
    return fail(-ENOSYS);
  int rc = REAL(close_range)(lo, hi, flags);
  if (rc == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
    shim_fd_take_range(lo, hi);
  return rc;
}

EXPORT void closefrom(int lo) {
  if (lo >= 0)
    shim_fd_take_range((unsigned)lo, UINT_MAX);
  if (REAL(closefrom))
    REAL(closefrom)(lo);
}

/* newfd now names what oldfd names (or, if oldfd is not ours, not ours). */
static void dup_to(int oldfd, int newfd) {
  struct shim_file *f = shim_fd_get(oldfd);
  if (f) {
    shim_fd_set(newfd, f);
    shim_file_put(f);
  } else {
    shim_file_put(shim_fd_take(newfd));
  }
}

EXPORT int dup(int fd) {
  int r = REAL(dup)(fd);
  if (r >= 0 && shim_fd_any())
    dup_to(fd, r);
  return r;
}

EXPORT int dup2(int oldfd, int newfd) {
  int r = REAL(dup2)(oldfd, newfd);
  if (r >= 0 && oldfd != newfd && shim_fd_any())
    dup_to(oldfd, newfd);
  return r;
}

EXPORT int dup3(int oldfd, int newfd, int flags) {
  int r = REAL(dup3)(oldfd, newfd, flags);
  if (r >= 0 && shim_fd_any())
    dup_to(oldfd, newfd);
  return r;
}

static int do_fcntl(int fd, int cmd, void *arg) {
  struct shim_file *f = shim_fd_get(fd);
  if (!f)
    return REAL(fcntl)(fd, cmd, arg);
  int r;
  switch (cmd) {
  case F_GETFL:
    r = REAL(fcntl)(fd, cmd);
    if (r >= 0)
      r = (r & ~O_ACCMODE) | O_RDONLY;
    break;
  case F_GETLK:
  case F_OFD_GETLK:
    ((struct flock *)arg)->l_type = F_UNLCK; /* nobody else can lock an object */
    r = 0;
    break;
  case F_SETLK:
  case F_SETLKW:
  case F_OFD_SETLK:
  case F_OFD_SETLKW: /* read locks succeed; a write lock needs a writable fd */
    r = arg && ((struct flock *)arg)->l_type == F_WRLCK ? fail(-EBADF) : 0;
    break;
  case F_DUPFD:
  case F_DUPFD_CLOEXEC:
    r = REAL(fcntl)(fd, cmd, arg);
    if (r >= 0)
      shim_fd_set(r, f);
    break;
  default:
    r = REAL(fcntl)(fd, cmd, arg);
  }
  shim_file_put(f);
  return r;
}

EXPORT int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  return do_fcntl(fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  return do_fcntl(fd, cmd, arg);
}

/* ---- reads ---------------------------------------------------------------- */

/* Read at the fd's offset and advance it, one step for this process's
 * threads (the offset lives in the kernel: processes sharing it are not
 * serialised, see ARCHITECTURE.md). */
static ssize_t read_at_offset(int fd, struct shim_file *f, void *buf, size_t n) {
  pthread_mutex_lock(&f->pos);
  off_t off = REAL(lseek)(fd, 0, SEEK_CUR);
  ssize_t r = off < 0 ? -errno : shim_file_pread(f, buf, n, (uint64_t)off);
  if (r > 0)
    REAL(lseek)(fd, off + r, SEEK_SET);
  pthread_mutex_unlock(&f->pos);
  return r < 0 ? fail((int)r) : r;
}

EXPORT ssize_t read(int fd, void *buf, size_t n) {
  struct shim_file *f = shim_fd_get(fd);
  if (!f)
    return REAL(read)(fd, buf, n);
  ssize_t r = read_at_offset(fd, f, buf, n);
  shim_file_put(f);
  return r;
}

static ssize_t pread_ours(struct shim_file *f, void *buf, size_t n, off_t off) {
  if (off < 0)
    return fail(-EINVAL);
  ssize_t r = shim_file_pread(f, buf, n, (uint64_t)off);
  return r < 0 ? fail((int)r) : r;
}

EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off) {
  struct shim_file *f = shim_fd_get(fd);
  if (!f)
    return REAL(pread)(fd, buf, n, off);
  ssize_t r = pread_ours(f, buf, n, off);
  shim_file_put(f);
  return r;
}

EXPORT ssize_t pread64(int fd, void *buf, size_t n, off_t off) { return pread(fd, buf, n, off); }

EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen) {
  if (n > buflen)
    __chk_fail();
  return read(fd, buf, n);
}
EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen) {
  if (n > buflen)
    __chk_fail();
  return pread(fd, buf, n, off);
}
EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen) {
  return __pread_chk(fd, buf, n, off, buflen);
}

/* Scatter reads of ours at off (-1: at the fd's offset, advancing it). */
static ssize_t readv_ours(int fd, struct shim_file *f, const struct iovec *iov, int cnt,
                          off_t off) {
  if (cnt < 0 || cnt > IOV_MAX)
    return fail(-EINVAL);
  if (off < 0)
    pthread_mutex_lock(&f->pos);
  off_t pos = off >= 0 ? off : REAL(lseek)(fd, 0, SEEK_CUR);
  ssize_t total = 0, err = pos < 0 ? -errno : 0;
  for (int i = 0; i < cnt && err == 0; i++) {
    ssize_t r = shim_file_pread(f, iov[i].iov_base, iov[i].iov_len, (uint64_t)(pos + total));
    if (r < 0) {
      if (total == 0)
        err = r; /* an error only if nothing was read, as read(2) */
      break;
    }
    total += r;
    if ((size_t)r < iov[i].iov_len)
      break;
  }
  if (off < 0 && total > 0)
    REAL(lseek)(fd, pos + total, SEEK_SET);
  if (off < 0)
    pthread_mutex_unlock(&f->pos);
  return err ? fail((int)err) : total;
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt) {
  struct shim_file *f = shim_fd_get(fd);
  if (!f)
    return REAL(readv)(fd, iov, cnt);
  ssize_t r = readv_ours(fd, f, iov, cnt, -1);
  shim_file_put(f);
  return r;
}

EXPORT ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off) {
  struct shim_file *f = shim_fd_get(fd);
  if (!f)
    return REAL(preadv)(fd, iov, cnt, off);
  ssize_t r = off < 0 ? fail(-EINVAL) : readv_ours(fd, f, iov, cnt, off);
  shim_file_put(f);
  return r;
}
EXPORT ssize_t preadv64(int fd, const struct iovec *iov, int cnt, off_t off) {
  return preadv(fd, iov, cnt, off);
}

EXPORT ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags) {
  struct shim_file *f = shim_fd_get(fd);
  if (!f)
    return REAL(preadv2)(fd, iov, cnt, off, flags);
  ssize_t r = readv_ours(fd, f, iov, cnt, off); /* off -1: the fd's offset */
  shim_file_put(f);
  return r;
}
EXPORT ssize_t preadv64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags) {
  return preadv2(fd, iov, cnt, off, flags);
}

EXPORT off_t lseek(int fd, off_t off, int whence) {
  struct shim_file *f = shim_fd_get(fd);
  if (!f)
    return REAL(lseek)(fd, off, whence);
  off_t size = f->kind == SHIM_FILE ? (off_t)f->meta.size : 0, pos = -1;
  int err = 0;
  switch (whence) {
  case SEEK_SET:
    pos = off;
    break;
  case SEEK_CUR: /* relative to an offset a read may be moving: wait for it */
    pthread_mutex_lock(&f->pos);
    pos = REAL(lseek)(fd, 0, SEEK_CUR);
    if (pos < 0)
      err = errno;
    else if (pos + off >= 0)
      pos = REAL(lseek)(fd, pos + off, SEEK_SET);
    else
      err = EINVAL;
    pthread_mutex_unlock(&f->pos);
    shim_file_put(f);
    if (err)
      return fail(-err);
    return pos;
  case SEEK_END:
    pos = size + off;
    break;
  case SEEK_DATA:
  case SEEK_HOLE:
    if (off < 0 || off >= size)
      err = ENXIO;
    else
      pos = whence == SEEK_DATA ? off : size;
    break;
  default:
    err = EINVAL;
  }
  shim_file_put(f);
  if (!err && pos < 0)
    err = EINVAL;
  if (err)
    return fail(-err);
  return REAL(lseek)(fd, pos, SEEK_SET);
}
EXPORT off_t lseek64(int fd, off_t off, int whence) { return lseek(fd, off, whence); }

/* ---- writes: never to ours; retried after EFAULT on our pages ------------ */

#define WRITE_BODY(realcall, buf, len)                              \
  ssize_t r;                                                        \
  for (int tries = 0;; tries++) {                                   \
    r = realcall;                                                   \
    if (r >= 0 || errno != EFAULT || tries == 3 ||                  \
        !shim_maps_touch(buf, len))                                 \
      break;                                                        \
  }                                                                 \
  return r;

static int refuse_write(int fd) {
  struct shim_file *f = shim_fd_get(fd);
  shim_file_put(f);
  return f != NULL;
}

EXPORT ssize_t write(int fd, const void *buf, size_t n) {
  if (refuse_write(fd))
    return fail(-EBADF);
  WRITE_BODY(REAL(write)(fd, buf, n), buf, n)
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  if (refuse_write(fd))
    return fail(-EBADF);
  WRITE_BODY(REAL(pwrite)(fd, buf, n, off), buf, n)
}
EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off) {
  return pwrite(fd, buf, n, off);
}

/* Touch our pages in every iovec; 1 if any. */
static int touch_iov(const struct iovec *iov, int cnt) {
  int any = 0;
  for (int i = 0; i < cnt; i++)
    any |= shim_maps_touch(iov[i].iov_base, iov[i].iov_len);
  return any;
}

#define WRITEV_BODY(realcall, iov, cnt)                                       \
  ssize_t r;                                                                  \
  for (int tries = 0;; tries++) {                                             \
    r = realcall;                                                             \
    if (r >= 0 || errno != EFAULT || tries == 3 || !touch_iov(iov, cnt))      \
      break;                                                                  \
  }                                                                           \
  return r;

EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt) {
  if (refuse_write(fd))
    return fail(-EBADF);
  WRITEV_BODY(REAL(writev)(fd, iov, cnt), iov, cnt)
}

EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off) {
  if (refuse_write(fd))
    return fail(-EBADF);
  WRITEV_BODY(REAL(pwritev)(fd, iov, cnt, off), iov, cnt)
}
EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off) {
  return pwritev(fd, iov, cnt, off);
}

EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags) {
  if (refuse_write(fd))
    return fail(-EBADF);
  WRITEV_BODY(REAL(pwritev2)(fd, iov, cnt, off, flags), iov, cnt)
}
EXPORT ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off_t off, int flags) {
  return pwritev2(fd, iov, cnt, off, flags);
}

EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags) {
  WRITE_BODY(REAL(send)(fd, buf, n, flags), buf, n)
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
                      const struct sockaddr *to, socklen_t tolen) {
  WRITE_BODY(REAL(sendto)(fd, buf, n, flags, to, tolen), buf, n)
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
  if (!msg)
    return REAL(sendmsg)(fd, msg, flags);
  WRITEV_BODY(REAL(sendmsg)(fd, msg, flags), msg->msg_iov, (int)msg->msg_iovlen)
}

EXPORT int ftruncate(int fd, off_t len) {
  NEXT(ftruncate)
  return refuse_write(fd) ? fail(-EINVAL) : next_ftruncate(fd, len);
}
EXPORT int ftruncate64(int fd, off_t len) { return ftruncate(fd, len); }

EXPORT int fallocate(int fd, int mode, off_t off, off_t len) {
  NEXT(fallocate)
  return refuse_write(fd) ? fail(-EBADF) : next_fallocate(fd, mode, off, len);
}
EXPORT int fallocate64(int fd, int mode, off_t off, off_t len) {
  return fallocate(fd, mode, off, len);
}

EXPORT int fchmod(int fd, mode_t mode) {
  NEXT(fchmod)
  return refuse_write(fd) ? fail(-EROFS) : next_fchmod(fd, mode);
}

EXPORT int fchown(int fd, uid_t uid, gid_t gid) {
  NEXT(fchown)
  return refuse_write(fd) ? fail(-EROFS) : next_fchown(fd, uid, gid);
}

EXPORT int futimens(int fd, const struct timespec t[2]) {
  NEXT(futimens)
  return refuse_write(fd) ? fail(-EROFS) : next_futimens(fd, t);
}

/* ---- copies: refused on ours before anything moves (callers fall back) -- */

/* -1 with errno when in_fd or out_fd is ours; 0 otherwise. */
static int refuse_copy(int in_fd, int out_fd, int in_errno) {
  if (refuse_write(out_fd))
    return fail(-EBADF);
  if (refuse_write(in_fd))
    return fail(-in_errno);
  return 0;
}

EXPORT ssize_t copy_file_range(int in_fd, off64_t *in_off, int out_fd, off64_t *out_off,
                               size_t len, unsigned flags) {
  if (refuse_copy(in_fd, out_fd, EXDEV))
    return -1;
  if (!REAL(copy_file_range))
    return fail(-ENOSYS);
  return REAL(copy_file_range)(in_fd, in_off, out_fd, out_off, len, flags);
}

EXPORT ssize_t sendfile(int out_fd, int in_fd, off_t *off, size_t count) {
  if (refuse_copy(in_fd, out_fd, EINVAL))
    return -1;
  return REAL(sendfile)(out_fd, in_fd, off, count);
}
EXPORT ssize_t sendfile64(int out_fd, int in_fd, off_t *off, size_t count) {
  return sendfile(out_fd, in_fd, off, count);
}

EXPORT ssize_t splice(int in_fd, off64_t *in_off, int out_fd, off64_t *out_off, size_t len,
                      unsigned flags) {
  if (refuse_copy(in_fd, out_fd, EINVAL))
    return -1;
  return REAL(splice)(in_fd, in_off, out_fd, out_off, len, flags);
}

/* ---- advice --------------------------------------------------------------- */

EXPORT int posix_fadvise(int fd, off_t off, off_t len, int advice) {
  struct shim_file *f = shim_fd_get(fd);
  if (!f)
    return REAL(posix_fadvise)(fd, off, len, advice);
  if (off >= 0 && len >= 0)
    shim_file_advise(f, (uint64_t)off, (uint64_t)len, advice);
  shim_file_put(f);
  return off < 0 || len < 0 ? EINVAL : 0;
}
EXPORT int posix_fadvise64(int fd, off_t off, off_t len, int advice) {
  return posix_fadvise(fd, off, len, advice);
}

EXPORT ssize_t readahead(int fd, off64_t off, size_t count) {
  struct shim_file *f = shim_fd_get(fd);
  if (!f)
    return REAL(readahead)(fd, off, count);
  if (off >= 0)
    shim_file_advise(f, (uint64_t)off, count, POSIX_FADV_WILLNEED);
  shim_file_put(f);
  return off < 0 ? fail(-EINVAL) : 0;
}

/* ---- stat ----------------------------------------------------------------- */

/* 1 if (dirfd, path) is ours (then 0/-errno in *rc and *m filled). */
static int meta_at(int dirfd, const char *path, int flags, struct shim_meta *m, int *rc) {
  if ((flags & AT_EMPTY_PATH) && path && !*path) {
    struct shim_file *f = shim_fd_get(dirfd);
    if (!f)
      return 0;
    *m = f->meta;
    shim_file_put(f);
    *rc = 0;
    return 1;
  }
  char *abs = NULL;
  *rc = shim_path_at(dirfd, path, &abs);
  if (*rc)
    return 1;
  if (!abs)
    return 0;
  struct shim_path p;
  *rc = shim_path_parse(abs, &p);
  free(abs);
  if (*rc == 0) {
    *rc = shim_meta_lookup(&p, m);
    shim_path_free(&p);
  }
  return 1;
}

EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags) {
  struct shim_meta m;
  int rc;
  if (!meta_at(dirfd, path, flags, &m, &rc))
    return REAL(fstatat)(dirfd, path, st, flags);
  if (rc)
    return fail(rc);
  shim_meta_to_stat(&m, st);
  return 0;
}
_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "one stat layout on this ABI");
EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags) {
  return fstatat(dirfd, path, (struct stat *)(void *)st, flags);
}
EXPORT int stat(const char *path, struct stat *st) { return fstatat(AT_FDCWD, path, st, 0); }
EXPORT int stat64(const char *path, struct stat64 *st) {
  return stat(path, (struct stat *)(void *)st);
}
EXPORT int lstat(const char *path, struct stat *st) {
  return fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}
EXPORT int lstat64(const char *path, struct stat64 *st) {
  return lstat(path, (struct stat *)(void *)st);
}
EXPORT int fstat(int fd, struct stat *st) { return fstatat(fd, "", st, AT_EMPTY_PATH); }
EXPORT int fstat64(int fd, struct stat64 *st) { return fstat(fd, (struct stat *)(void *)st); }
/* The pre-2.33 glibc ABI, which older binaries still call. */
EXPORT int __xstat(int ver, const char *path, struct stat *st) { return stat(path, st); }
EXPORT int __xstat64(int ver, const char *path, struct stat *st) { return stat(path, st); }
EXPORT int __lxstat(int ver, const char *path, struct stat *st) { return lstat(path, st); }
EXPORT int __lxstat64(int ver, const char *path, struct stat *st) { return lstat(path, st); }
EXPORT int __fxstat(int ver, int fd, struct stat *st) { return fstat(fd, st); }
EXPORT int __fxstat64(int ver, int fd, struct stat *st) { return fstat(fd, st); }
EXPORT int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags) {
  return fstatat(dirfd, path, st, flags);
}
EXPORT int __fxstatat64(int ver, int dirfd, const char *path, struct stat *st, int flags) {
  return fstatat(dirfd, path, st, flags);
}

EXPORT int statx(int dirfd, const char *path, int flags, unsigned mask, struct statx *stx) {
  struct shim_meta m;
  int rc;
  if (!meta_at(dirfd, path, flags, &m, &rc)) {
    if (!REAL(statx))
      return fail(-ENOSYS);
    return REAL(statx)(dirfd, path, flags, mask, stx);
  }
  if (rc)
    return fail(rc);
  shim_meta_to_statx(&m, stx);
  return 0;
}

/* ---- access, realpath, readlink ------------------------------------------ */

EXPORT int faccessat(int dirfd, const char *path, int mode, int flags) {
  struct shim_meta m;
  int rc;
  if (!meta_at(dirfd, path, flags, &m, &rc))
    return REAL(faccessat)(dirfd, path, mode, flags);
  if (rc)
    return fail(rc);
  if (mode & W_OK)
    return fail(-EROFS);
  if ((mode & X_OK) && !m.is_dir)
    return fail(-EACCES);
  return 0;
}
EXPORT int access(const char *path, int mode) { return faccessat(AT_FDCWD, path, mode, 0); }
EXPORT int euidaccess(const char *path, int mode) {
  return faccessat(AT_FDCWD, path, mode, AT_EACCESS);
}
EXPORT int eaccess(const char *path, int mode) { return euidaccess(path, mode); }

EXPORT char *realpath(const char *path, char *resolved) {
  if (!shim_path_ours(path))
    return REAL(realpath)(path, resolved);
  struct shim_path p;
  struct shim_meta m;
  int rc = shim_path_parse(path, &p);
  if (rc == 0 && (rc = shim_meta_lookup(&p, &m)) == 0 && strlen(p.display) >= PATH_MAX)
    rc = -ENAMETOOLONG;
  char *out = NULL;
  if (rc == 0) {
    out = resolved ? memcpy(resolved, p.display, strlen(p.display) + 1) : strdup(p.display);
    if (!out)
      rc = -ENOMEM;
  }
  shim_path_free(&p);
  if (rc)
    errno = -rc;
  return out;
}
EXPORT char *canonicalize_file_name(const char *path) { return realpath(path, NULL); }
EXPORT char *__realpath_chk(const char *path, char *resolved, size_t len) {
  if (resolved && len < PATH_MAX)
    __chk_fail();
  return realpath(path, resolved);
}

EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size) {
  struct shim_meta m;
  int rc;
  if (!meta_at(dirfd, path, 0, &m, &rc))
    return REAL(readlinkat)(dirfd, path, buf, size);
  return fail(rc ? rc : -EINVAL); /* nothing of ours is a symbolic link */
}
EXPORT ssize_t readlink(const char *path, char *buf, size_t size) {
  return readlinkat(AT_FDCWD, path, buf, size);
}
EXPORT ssize_t __readlink_chk(const char *path, char *buf, size_t size, size_t buflen) {
  if (size > buflen)
    __chk_fail();
  return readlink(path, buf, size);
}
EXPORT ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t size,
                                size_t buflen) {
  if (size > buflen)
    __chk_fail();
  return readlinkat(dirfd, path, buf, size);
}

/* ---- the working directory: a directory of ours is kept here ------------ */

EXPORT int chdir(const char *path) {
  NEXT(chdir)
  if (!shim_path_ours(path)) {
    int r = next_chdir(path);
    if (r == 0)
      shim_path_set_cwd(NULL);
    return r;
  }
  struct shim_path p;
  struct shim_meta m;
  int rc = shim_path_parse(path, &p);
  if (rc == 0 && (rc = shim_meta_lookup(&p, &m)) == 0 && !m.is_dir)
    rc = -ENOTDIR;
  if (rc == 0)
    shim_path_set_cwd(p.display);
  shim_path_free(&p);
  return rc ? fail(rc) : 0;
}

EXPORT int fchdir(int fd) {
  struct shim_file *f = shim_fd_get(fd);
  if (f) {
    int dir = f->kind == SHIM_DIR;
    if (dir)
      shim_path_set_cwd(f->path.display);
    shim_file_put(f);
    return dir ? 0 : fail(-ENOTDIR);
  }
  NEXT(fchdir)
  int r = next_fchdir(fd);
  if (r == 0)
    shim_path_set_cwd(NULL);
  return r;
}

EXPORT char *getcwd(char *buf, size_t size) {
  const char *cwd = shim_path_cwd();
  if (!cwd) {
    static __typeof__(getcwd) *next_getcwd;
    if (!__atomic_load_n(&next_getcwd, __ATOMIC_ACQUIRE))
      __atomic_store_n(&next_getcwd, (__typeof__(getcwd) *)dlsym(RTLD_NEXT, "getcwd"),
                       __ATOMIC_RELEASE);
    return next_getcwd(buf, size);
  }
  size_t n = strlen(cwd) + 1;
  if (!buf) /* glibc's extension: allocate (at least size bytes) */
    return (buf = malloc(size > n ? size : n)) ? memcpy(buf, cwd, n) : NULL;
  if (size < n) {
    errno = size ? ERANGE : EINVAL;
    return NULL;
  }
  return memcpy(buf, cwd, n);
}
EXPORT char *__getcwd_chk(char *buf, size_t size, size_t buflen) {
  if (size > buflen)
    __chk_fail();
  return getcwd(buf, size);
}
EXPORT char *get_current_dir_name(void) {
  const char *cwd = shim_path_cwd();
  if (cwd)
    return strdup(cwd);
  return getcwd(NULL, 0);
}

/* ---- the rest of the file system: read-only under the prefix ------------ */

static int ours_at(int dirfd, const char *path) {
  char *abs = NULL;
  int rc = shim_path_at(dirfd, path, &abs);
  free(abs);
  return rc != 0 || abs != NULL;
}

#define ROFS1(ret, name, decl, path, args) \
  EXPORT ret name decl {                   \
    if (shim_path_ours(path))              \
      return fail(-EROFS);                 \
    NEXT(name)                             \
    return next_##name args;               \
  }
#define ROFS_AT(ret, name, decl, dirfd, path, args) \
  EXPORT ret name decl {                            \
    if (ours_at(dirfd, path))                       \
      return fail(-EROFS);                          \
    NEXT(name)                                      \
    return next_##name args;                        \
  }

ROFS1(int, mkdir, (const char *p, mode_t m), p, (p, m))
ROFS_AT(int, mkdirat, (int d, const char *p, mode_t m), d, p, (d, p, m))
ROFS1(int, unlink, (const char *p), p, (p))
ROFS_AT(int, unlinkat, (int d, const char *p, int fl), d, p, (d, p, fl))
ROFS1(int, rmdir, (const char *p), p, (p))
ROFS1(int, truncate, (const char *p, off_t l), p, (p, l))
ROFS1(int, truncate64, (const char *p, off_t l), p, (p, l))
ROFS1(int, chmod, (const char *p, mode_t m), p, (p, m))
ROFS_AT(int, fchmodat, (int d, const char *p, mode_t m, int fl), d, p, (d, p, m, fl))
ROFS1(int, chown, (const char *p, uid_t u, gid_t g), p, (p, u, g))
ROFS1(int, lchown, (const char *p, uid_t u, gid_t g), p, (p, u, g))
ROFS_AT(int, fchownat, (int d, const char *p, uid_t u, gid_t g, int fl), d, p, (d, p, u, g, fl))
ROFS_AT(int, utimensat, (int d, const char *p, const struct timespec t[2], int fl), d, p,
        (d, p, t, fl))
ROFS1(int, utimes, (const char *p, const struct timeval t[2]), p, (p, t))
ROFS1(int, lutimes, (const char *p, const struct timeval t[2]), p, (p, t))
ROFS1(int, mknod, (const char *p, mode_t m, dev_t dv), p, (p, m, dv))
ROFS_AT(int, mknodat, (int d, const char *p, mode_t m, dev_t dv), d, p, (d, p, m, dv))
ROFS1(int, mkfifo, (const char *p, mode_t m), p, (p, m))
ROFS1(int, symlink, (const char *t, const char *p), p, (t, p))
ROFS_AT(int, symlinkat, (const char *t, int d, const char *p), d, p, (t, d, p))

/* Temporary files: glibc creates them with internal calls no interposer
 * sees, so the templates are checked here (sed -i, sort -o, editors). */
ROFS1(int, mkstemp, (char *t), t, (t))
ROFS1(int, mkstemp64, (char *t), t, (t))
ROFS1(int, mkostemp, (char *t, int fl), t, (t, fl))
ROFS1(int, mkostemp64, (char *t, int fl), t, (t, fl))
ROFS1(int, mkstemps, (char *t, int n), t, (t, n))
ROFS1(int, mkstemps64, (char *t, int n), t, (t, n))
ROFS1(int, mkostemps, (char *t, int n, int fl), t, (t, n, fl))
ROFS1(int, mkostemps64, (char *t, int n, int fl), t, (t, n, fl))

EXPORT char *mkdtemp(char *t) {
  if (shim_path_ours(t)) {
    errno = EROFS;
    return NULL;
  }
  static __typeof__(mkdtemp) *next_mkdtemp;
  if (!__atomic_load_n(&next_mkdtemp, __ATOMIC_ACQUIRE))
    __atomic_store_n(&next_mkdtemp, (__typeof__(mkdtemp) *)dlsym(RTLD_NEXT, "mkdtemp"),
                     __ATOMIC_RELEASE);
  return next_mkdtemp(t);
}

EXPORT int rename(const char *a, const char *b) {
  if (shim_path_ours(a) || shim_path_ours(b))
    return fail(-EROFS);
  NEXT(rename)
  return next_rename(a, b);
}
EXPORT int renameat(int da, const char *a, int db, const char *b) {
  if (ours_at(da, a) || ours_at(db, b))
    return fail(-EROFS);
  NEXT(renameat)
  return next_renameat(da, a, db, b);
}
EXPORT int renameat2(int da, const char *a, int db, const char *b, unsigned fl) {
  if (ours_at(da, a) || ours_at(db, b))
    return fail(-EROFS);
  NEXT(renameat2)
  return next_renameat2(da, a, db, b, fl);
}
EXPORT int link(const char *a, const char *b) {
  if (shim_path_ours(a) || shim_path_ours(b))
    return fail(shim_path_ours(b) ? -EROFS : -EXDEV);
  NEXT(link)
  return next_link(a, b);
}
EXPORT int linkat(int da, const char *a, int db, const char *b, int fl) {
  if (ours_at(da, a) || ours_at(db, b))
    return fail(ours_at(db, b) ? -EROFS : -EXDEV);
  NEXT(linkat)
  return next_linkat(da, a, db, b, fl);
}

/* Extended attributes: objects have none ("not supported", as ls expects). */
#define NOXATTR(ret, name, decl, path, args) \
  EXPORT ret name decl {                     \
    if (shim_path_ours(path))                \
      return fail(-ENOTSUP);                 \
    NEXT(name)                               \
    return next_##name args;                 \
  }
NOXATTR(ssize_t, getxattr, (const char *p, const char *n, void *v, size_t s), p, (p, n, v, s))
NOXATTR(ssize_t, lgetxattr, (const char *p, const char *n, void *v, size_t s), p, (p, n, v, s))
NOXATTR(ssize_t, listxattr, (const char *p, char *l, size_t s), p, (p, l, s))
NOXATTR(ssize_t, llistxattr, (const char *p, char *l, size_t s), p, (p, l, s))

EXPORT ssize_t fgetxattr(int fd, const char *n, void *v, size_t s) {
  if (refuse_write(fd))
    return fail(-ENOTSUP);
  NEXT(fgetxattr)
  return next_fgetxattr(fd, n, v, s);
}
EXPORT ssize_t flistxattr(int fd, char *l, size_t s) {
  if (refuse_write(fd))
    return fail(-ENOTSUP);
  NEXT(flistxattr)
  return next_flistxattr(fd, l, s);
}

/* ---- mmap ------------------------------------------------------------------ */

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  struct shim_file *f = fd >= 0 && !(flags & MAP_ANONYMOUS) ? shim_fd_get(fd) : NULL;
  if (!f)
    return REAL(mmap)(addr, len, prot, flags, fd, off);
  int err = 0;
  void *p = shim_maps_mmap(f, addr, len, prot, flags, off, &err);
  shim_file_put(f);
  if (p == MAP_FAILED)
    errno = err;
  return p;
}
EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  return mmap(addr, len, prot, flags, fd, off);
}

EXPORT int munmap(void *addr, size_t len) {
  int rc;
  if (shim_maps_munmap(addr, len, &rc))
    return rc;
  return REAL(munmap)(addr, len);
}

EXPORT void *mremap(void *old, size_t oldlen, size_t newlen, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  void *newaddr = (flags & MREMAP_FIXED) ? va_arg(ap, void *) : NULL;
  va_end(ap);
  if (shim_maps_contains(old, 1)) {
    errno = ENOMEM; /* a view into an object's mapping cannot move or grow */
    return MAP_FAILED;
  }
  return REAL(mremap)(old, oldlen, newlen, flags, newaddr);
}

EXPORT int madvise(void *addr, size_t len, int advice) {
  int rc;
  if (shim_maps_madvise(addr, len, advice, &rc))
    return rc;
  return REAL(madvise)(addr, len, advice);
}

EXPORT int posix_madvise(void *addr, size_t len, int advice) {
  int rc;
  if (shim_maps_madvise(addr, len, advice, &rc))
    return rc;
  return REAL(madvise)(addr, len, advice) == 0 ? 0 : errno;
}

/* ---- stdio ---------------------------------------------------------------- */

static FILE *fopen_ours(const char *path, const char *mode) {
  if (strpbrk(mode, "wa+")) {
    errno = EROFS;
    return NULL;
  }
  int fd = open_ours(path, O_RDONLY | (strchr(mode, 'e') ? O_CLOEXEC : 0));
  if (fd < 0)
    return NULL;
  FILE *fp = shim_stream_open(fd, mode); /* a directory's reads fail: EISDIR */
  if (!fp) {
    int e = errno;
    close(fd);
    errno = e;
  }
  return fp;
}

EXPORT FILE *fopen(const char *path, const char *mode) {
  if (!shim_path_ours(path))
    return REAL(fopen)(path, mode);
  return fopen_ours(path, mode);
}
EXPORT FILE *fopen64(const char *path, const char *mode) { return fopen(path, mode); }

/* Put newfd's file at fd number target (our table follows), closing newfd. */
static void move_fd(int newfd, int target) {
  if (newfd == target || target < 0)
    return;
  dup3(newfd, target, 0);
  close(newfd);
}

/* freopen where ours is involved: path is ours, or stream is a FILE of ours
 * (glibc's freopen cannot reopen a cookie stream). The new stream keeps
 * the old one's fd number, as freopen does. It is a new FILE: only the
 * standard streams (whose variables we update) can be reopened so; for
 * any other, EOPNOTSUPP and the stream stays as it was. */
static FILE *freopen_ours(const char *path, const char *mode, FILE *stream) {
  FILE **std = stream == stdin ? &stdin : stream == stdout ? &stdout
             : stream == stderr ? &stderr : NULL;
  if (!std) {
    MU_WARN("shim: freopen(%s) of a stream other than stdin/stdout/stderr involving %s "
            "is not supported", path, shim_prefix());
    errno = EOPNOTSUPP;
    return NULL;
  }
  int ours = shim_path_ours(path);
  if (ours && strpbrk(mode, "wa+")) {
    errno = EROFS;
    return NULL;
  }
  int target = fileno(stream);
  FILE *fp = ours ? fopen_ours(path, mode) : REAL(fopen)(path, mode);
  if (!fp)
    return NULL;
  int newfd = fileno(fp);
  fflush(stream);
  fclose(stream); /* closes target */
  if (ours) {
    /* A FILE of ours reads through its cookie's fd: build it on target. */
    int fd = dup(newfd);
    fclose(fp);
    fp = NULL;
    if (fd >= 0) {
      move_fd(fd, target);
      fp = shim_stream_open(target >= 0 ? target : fd, mode);
    }
  } else if (target >= 0 && newfd != target) {
    move_fd(newfd, target);
    fp->_fileno = target; /* glibc's FILE calls the kernel with _fileno */
  }
  if (fp)
    *std = fp;
  return fp;
}

EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream) {
  int ours_stream = shim_stream_ours(stream);
  if (!path && ours_stream) { /* another mode for ours: it stays read-only */
    if (strpbrk(mode, "wa+")) {
      errno = EROFS;
      return NULL;
    }
    return stream;
  }
  if (ours_stream || shim_path_ours(path))
    return freopen_ours(path, mode, stream);
  FILE *fp = REAL(freopen)(path, mode, stream);
  if (fp) /* its fd now names a file of the kernel's, whatever it held before */
    shim_file_put(shim_fd_take(fileno(fp)));
  return fp;
}

EXPORT FILE *freopen64(const char *path, const char *mode, FILE *stream) {
  return freopen(path, mode, stream);
}

EXPORT FILE *fdopen(int fd, const char *mode) {
  struct shim_file *f = shim_fd_get(fd);
  if (!f)
    return REAL(fdopen)(fd, mode);
  shim_file_put(f);
  return shim_stream_open(fd, mode);
}

/* ---- directories ----------------------------------------------------------- */

EXPORT DIR *opendir(const char *path) {
  if (!shim_path_ours(path))
    return REAL(opendir)(path);
  int fd = open_ours(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  struct shim_file *f = shim_fd_get(fd);
  DIR *d = f ? shim_dir_stream(fd, f) : NULL;
  shim_file_put(f);
  if (!d) {
    close(fd);
    errno = ENOMEM;
  }
  return d;
}

EXPORT DIR *fdopendir(int fd) {
  struct shim_file *f = shim_fd_get(fd);
  if (!f)
    return REAL(fdopendir)(fd);
  DIR *d = NULL;
  if (f->kind != SHIM_DIR)
    errno = ENOTDIR;
  else if (!(d = shim_dir_stream(fd, f)))
    errno = ENOMEM;
  shim_file_put(f);
  return d;
}

EXPORT struct dirent *readdir(DIR *d) {
  if (shim_dir_ours(d))
    return (struct dirent *)(void *)shim_dir_read(d);
  return REAL(readdir)(d);
}
EXPORT struct dirent64 *readdir64(DIR *d) {
  if (shim_dir_ours(d))
    return shim_dir_read(d);
  return REAL(readdir64)(d);
}

EXPORT int closedir(DIR *d) {
  if (shim_dir_ours(d))
    return close(shim_dir_close(d));
  return REAL(closedir)(d);
}
EXPORT void rewinddir(DIR *d) {
  if (shim_dir_ours(d))
    shim_dir_rewind(d);
  else
    REAL(rewinddir)(d);
}
EXPORT long telldir(DIR *d) { return shim_dir_ours(d) ? shim_dir_tell(d) : REAL(telldir)(d); }
EXPORT void seekdir(DIR *d, long pos) {
  if (shim_dir_ours(d))
    shim_dir_seek(d, pos);
  else
    REAL(seekdir)(d, pos);
}
EXPORT int dirfd(DIR *d) { return shim_dir_ours(d) ? shim_dir_fd(d) : REAL(dirfd)(d); }

typedef int (*scan_filter)(const struct dirent *);
typedef int (*scan_compar)(const struct dirent **, const struct dirent **);

static int scandir_ours(const char *path, struct dirent ***list, scan_filter filter,
                        scan_compar compar) {
  DIR *d = opendir(path);
  if (!d)
    return -1;
  struct dirent **v = NULL, *e;
  size_t n = 0, cap = 0;
  int err = 0;
  while ((e = readdir(d))) {
    if (filter && !filter(e))
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      struct dirent **nv = realloc(v, cap * sizeof *nv);
      if (!nv) {
        err = ENOMEM;
        break;
      }
      v = nv;
    }
    if (!(v[n] = malloc(sizeof *e))) {
      err = ENOMEM;
      break;
    }
    memcpy(v[n++], e, sizeof *e);
  }
  closedir(d);
  if (err || n > INT_MAX) {
    while (n)
      free(v[--n]);
    free(v);
    errno = err ? err : EOVERFLOW;
    return -1;
  }
  if (compar && n > 1)
    qsort(v, n, sizeof *v, (int (*)(const void *, const void *))compar);
  *list = v;
  return (int)n;
}

EXPORT int scandir(const char *path, struct dirent ***list, scan_filter filter,
                   scan_compar compar) {
  if (shim_path_ours(path))
    return scandir_ours(path, list, filter, compar);
  NEXT(scandir)
  return next_scandir(path, list, filter, compar);
}
EXPORT int scandir64(const char *path, struct dirent64 ***list,
                     int (*filter)(const struct dirent64 *),
                     int (*compar)(const struct dirent64 **, const struct dirent64 **)) {
  if (shim_path_ours(path))
    return scandir_ours(path, (struct dirent ***)list, (scan_filter)filter, (scan_compar)compar);
  NEXT(scandir64)
  return next_scandir64(path, list, filter, compar);
}

/* glob(3) opens directories with internal calls: for a pattern of ours it
 * gets our directory functions through GLOB_ALTDIRFUNC. */
static void *glob_opendir(const char *path) { return opendir(path); }
static struct dirent *glob_readdir(void *d) { return readdir(d); }
static struct dirent64 *glob_readdir64(void *d) { return readdir64(d); }
static void glob_closedir(void *d) { closedir(d); }
static int glob_stat(const char *path, struct stat *st) { return stat(path, st); }
static int glob_lstat(const char *path, struct stat *st) { return lstat(path, st); }
static int glob_stat64(const char *restrict path, struct stat64 *restrict st) {
  return stat64(path, st);
}
static int glob_lstat64(const char *restrict path, struct stat64 *restrict st) {
  return lstat64(path, st);
}

EXPORT int glob(const char *pattern, int flags, int (*errfunc)(const char *, int),
                glob_t *g) {
  NEXT(glob)
  if (!shim_path_ours(pattern) || (flags & GLOB_ALTDIRFUNC))
    return next_glob(pattern, flags, errfunc, g);
  g->gl_opendir = glob_opendir;
  g->gl_readdir = glob_readdir;
  g->gl_closedir = glob_closedir;
  g->gl_stat = glob_stat;
  g->gl_lstat = glob_lstat;
  return next_glob(pattern, flags | GLOB_ALTDIRFUNC, errfunc, g);
}

EXPORT int glob64(const char *pattern, int flags, int (*errfunc)(const char *, int),
                  glob64_t *g) {
  NEXT(glob64)
  if (!shim_path_ours(pattern) || (flags & GLOB_ALTDIRFUNC))
    return next_glob64(pattern, flags, errfunc, g);
  g->gl_opendir = glob_opendir;
  g->gl_readdir = glob_readdir64;
  g->gl_closedir = glob_closedir;
  g->gl_stat = glob_stat64;
  g->gl_lstat = glob_lstat64;
  return next_glob64(pattern, flags | GLOB_ALTDIRFUNC, errfunc, g);
}

/* ---- exec ------------------------------------------------------------------ */

EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
  char **env = shim_exec_env(envp);
  if (!env)
    return REAL(execve)(path, argv, envp);
  int r = REAL(execve)(path, argv, env);
  int e = errno;
  shim_exec_env_free(env);
  errno = e;
  return r;
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
  char **env = shim_exec_env(envp);
  if (!env)
    return REAL(execvpe)(file, argv, envp);
  int r = REAL(execvpe)(file, argv, env);
  int e = errno;
  shim_exec_env_free(env);
  errno = e;
  return r;
}

EXPORT int execv(const char *path, char *const argv[]) { return execve(path, argv, environ); }
EXPORT int execvp(const char *file, char *const argv[]) { return execvpe(file, argv, environ); }

EXPORT int fexecve(int fd, char *const argv[], char *const envp[]) {
  char **env = shim_exec_env(envp);
  if (!env)
    return REAL(fexecve)(fd, argv, envp);
  int r = REAL(fexecve)(fd, argv, env);
  int e = errno;
  shim_exec_env_free(env);
  errno = e;
  return r;
}

/* execl and friends: their arguments as a NULL-terminated vector. */
#define VARGV(first, ap, out)                                  \
  size_t n_ = 1;                                               \
  va_list cp_;                                                 \
  va_copy(cp_, ap);                                            \
  while (va_arg(cp_, char *))                                  \
    n_++;                                                      \
  va_end(cp_);                                                 \
  char **out = calloc(n_ + 1, sizeof *out);                    \
  if (!out) {                                                  \
    va_end(ap);                                                \
    errno = ENOMEM;                                            \
    return -1;                                                 \
  }                                                            \
  out[0] = (char *)(first);                                    \
  for (size_t i_ = 1; i_ < n_; i_++)                           \
    out[i_] = va_arg(ap, char *);                              \
  (void)va_arg(ap, char *);

EXPORT int execl(const char *path, const char *arg, ...) {
  va_list ap;
  va_start(ap, arg);
  VARGV(arg, ap, argv)
  va_end(ap);
  int r = execve(path, argv, environ);
  free(argv);
  return r;
}

EXPORT int execlp(const char *file, const char *arg, ...) {
  va_list ap;
  va_start(ap, arg);
  VARGV(arg, ap, argv)
  va_end(ap);
  int r = execvpe(file, argv, environ);
  free(argv);
  return r;
}

EXPORT int execle(const char *path, const char *arg, ...) {
  va_list ap;
  va_start(ap, arg);
  VARGV(arg, ap, argv)
  char *const *envp = va_arg(ap, char *const *);
  va_end(ap);
  int r = execve(path, argv, envp);
  free(argv);
  return r;
}

EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                       const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  char **env = shim_exec_env(envp);
  int r = REAL(posix_spawn)(pid, path, fa, attr, argv, env ? env : envp);
  shim_exec_env_free(env);
  return r;
}

EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *attr, char *const argv[], char *const envp[]) {
  char **env = shim_exec_env(envp);
  int r = REAL(posix_spawnp)(pid, file, fa, attr, argv, env ? env : envp);
  shim_exec_env_free(env);
  return r;
}
