/*
 * uffd.c - the process's one userfaultfd and the ioctls on it.
 * Opening tries, in order: userfaultfd(2) with full features (root,
 * CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1), /dev/userfaultfd
 * (USERFAULTFD_IOC_NEW, Linux 6.1+, needs access to the device), then
 * UFFD_USER_MODE_ONLY (faults taken inside syscalls fail with EFAULT).
 * Must never close the fd while mappings may be registered, never block on
 * I/O, and never copy past the range it is given.
 */
#include "map/uffd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/error.h"
#include "util/log.h"
#include "util/stats.h"

/* UFFDIO_POISON (Linux 6.6) is newer than the oldest headers we build with. */
#define MU_UFFD_FEATURE_POISON (1ULL << 14)
#define MU_UFFDIO_POISON_NR 0x08
struct mu_uffdio_poison {
  struct uffdio_range range;
  __u64 mode;
  __s64 updated;
};
#define MU_UFFDIO_POISON _IOWR(UFFDIO, MU_UFFDIO_POISON_NR, struct mu_uffdio_poison)

/* Process-wide state. `lock` guards the opening; after it, the fields are
 * only read (published by the mutex to every thread that opened through it). */
static pthread_mutex_t uffd_lock = PTHREAD_MUTEX_INITIALIZER;
static int uffd_tried;                  /* an open was attempted */
static int uffd_result;                 /* its result code */
static int uffd_fd = -1;
static enum mu_uffd_mode uffd_mode_v = MU_UFFD_NONE;
static int uffd_poison;                 /* UFFDIO_POISON usable */
static int uffd_no_poison;              /* mu_uffd_disable_poison() */
static char uffd_why[256];              /* why opening failed, for every caller */

/* Negotiate the API on fd: poison and thread ids if the kernel has them. */
static int api_handshake(int fd, uint64_t *features) {
  uint64_t wanted[] = {UFFD_FEATURE_THREAD_ID | MU_UFFD_FEATURE_POISON,
                       UFFD_FEATURE_THREAD_ID, 0};
  for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
    struct uffdio_api api = {.api = UFFD_API, .features = wanted[i]};
    if (ioctl(fd, UFFDIO_API, &api) == 0) {
      *features = wanted[i];
      return 0;
    }
    if (errno != EINVAL)
      return -errno;
  }
  return -EINVAL;
}

static int open_syscall(int extra_flags) {
  return (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | extra_flags);
}

static int open_device(void) {
  int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
  if (dev < 0)
    return -1;
  int fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
  int saved = errno;
  close(dev);
  errno = saved;
  return fd;
}

/* Try the three ways in order; fill the process state on success. */
static int open_locked(void) {
  int err[3];
  for (int way = 0; way < 3; way++) {
    int fd = way == 0 ? open_syscall(0) : way == 1 ? open_device()
                                                   : open_syscall(UFFD_USER_MODE_ONLY);
    if (fd < 0) {
      err[way] = errno;
      continue;
    }
    uint64_t features = 0;
    int rc = api_handshake(fd, &features);
    if (rc < 0) {
      err[way] = -rc;
      close(fd);
      continue;
    }
    uffd_fd = fd;
    uffd_mode_v = (enum mu_uffd_mode)(way + 1);
    mu_stats_set_uffd_mode(mu_uffd_mode_name(uffd_mode_v));
    uffd_poison = (features & MU_UFFD_FEATURE_POISON) != 0 && !uffd_no_poison;
    MU_DEBUG("userfaultfd: mode %s, poison %s, fd %d", mu_uffd_mode_name(uffd_mode_v),
             uffd_poison ? "yes" : "no (targeted SIGBUS instead)", fd);
    return 0;
  }
  snprintf(uffd_why, sizeof uffd_why,
           "userfaultfd(2): %s; /dev/userfaultfd: %s; user-mode-only: %s",
           strerror(err[0]), strerror(err[1]), strerror(err[2]));
  MU_DEBUG("userfaultfd: unavailable: %s", uffd_why);
  return MMAPURL_E_UFFD_UNAVAILABLE;
}

int mu_uffd_open(void) {
  pthread_mutex_lock(&uffd_lock);
  if (!uffd_tried) {
    uffd_result = open_locked();
    uffd_tried = 1;
  }
  int rc = uffd_result;
  pthread_mutex_unlock(&uffd_lock);
  if (rc != 0)
    return mu_fail(rc, "%s", uffd_why);
  return 0;
}

int mu_uffd_reopen_in_child(void) {
  /* Single-threaded child: the parent's fd acts on the parent's memory. */
  pthread_mutex_init(&uffd_lock, NULL);
  if (uffd_fd >= 0)
    close(uffd_fd);
  uffd_fd = -1;
  uffd_mode_v = MU_UFFD_NONE;
  uffd_tried = 0;
  return mu_uffd_open();
}

void mu_uffd_close_in_child(void) {
  if (uffd_fd >= 0)
    close(uffd_fd);
  uffd_fd = -1;
  uffd_mode_v = MU_UFFD_NONE;
  uffd_tried = 0;
}

void mu_uffd_disable_poison(void) {
  pthread_mutex_lock(&uffd_lock);
  uffd_no_poison = 1;
  uffd_poison = 0;
  pthread_mutex_unlock(&uffd_lock);
}

int mu_uffd_fd(void) { return uffd_fd; }
enum mu_uffd_mode mu_uffd_mode(void) { return uffd_mode_v; }
int mu_uffd_has_poison(void) { return uffd_poison; }

const char *mu_uffd_mode_name(enum mu_uffd_mode mode) {
  switch (mode) {
  case MU_UFFD_NONE:
    return "none";
  case MU_UFFD_SYSCALL:
    return "syscall";
  case MU_UFFD_DEVICE:
    return "device";
  case MU_UFFD_USER_ONLY:
    return "user-mode-only";
  }
  return "none";
}

int mu_uffd_register(void *addr, size_t len) {
  struct uffdio_register reg = {
      .range = {.start = (uintptr_t)addr, .len = len}, .mode = UFFDIO_REGISTER_MODE_MISSING};
  if (ioctl(uffd_fd, UFFDIO_REGISTER, &reg) != 0)
    return -errno;
  if (uffd_poison && !(reg.ioctls & (1ULL << MU_UFFDIO_POISON_NR)))
    uffd_poison = 0; /* the kernel offers the feature but not on this memory */
  return 0;
}

int mu_uffd_unregister(void *addr, size_t len) {
  struct uffdio_range r = {.start = (uintptr_t)addr, .len = len};
  return ioctl(uffd_fd, UFFDIO_UNREGISTER, &r) == 0 ? 0 : -errno;
}

/* One attempt of COPY (src != NULL) or POISON at dst+done; sets *progress to
 * the bytes the kernel reports done (negative: none). 0 or errno. */
static int mfill_once(char *dst, const char *src, size_t len, long long *progress) {
  if (src) {
    struct uffdio_copy c = {.dst = (uintptr_t)dst, .src = (uintptr_t)src, .len = len};
    int rc = ioctl(uffd_fd, UFFDIO_COPY, &c) == 0 ? 0 : errno;
    *progress = c.copy;
    return rc;
  }
  struct mu_uffdio_poison p = {.range = {.start = (uintptr_t)dst, .len = len}};
  int rc = ioctl(uffd_fd, MU_UFFDIO_POISON, &p) == 0 ? 0 : errno;
  *progress = p.updated;
  return rc;
}

/* Fill [dst, dst+len) page by page as the kernel allows: EAGAIN resumes
 * after the part done, EEXIST skips the page already present. */
static int mfill(char *dst, const char *src, size_t len) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE), done = 0;
  while (done < len) {
    long long progress = 0;
    int e = mfill_once(dst + done, src ? src + done : NULL, len - done, &progress);
    if (e == 0)
      return 0;
    if (progress > 0)
      done += (size_t)progress;
    if (e == EEXIST && progress <= 0)
      done += page;
    else if (e != EAGAIN && e != EEXIST)
      return -e;
  }
  return 0;
}

int mu_uffd_copy(void *dst, const void *src, size_t len) { return mfill(dst, src, len); }

int mu_uffd_poison(void *dst, size_t len) {
  return uffd_poison ? mfill(dst, NULL, len) : -ENOSYS;
}

void mu_uffd_wake(void *dst, size_t len) {
  struct uffdio_range r = {.start = (uintptr_t)dst, .len = len};
  if (ioctl(uffd_fd, UFFDIO_WAKE, &r) != 0)
    MU_DEBUG("userfaultfd: UFFDIO_WAKE %p+%zu: %s", dst, len, strerror(errno));
}
