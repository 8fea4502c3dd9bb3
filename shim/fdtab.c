/*
 * fdtab.c - the table of our open files by kernel fd number, and their
 * placeholders. Every fd of ours is a real kernel fd (so dup2, close,
 * select and F_GETFD behave): a memfd reopened write-only. Its kernel file
 * offset is the file's offset, shared by dup'ed fds, across fork and
 * across exec, as a real file's is; anything that reaches it behind our
 * back fails loudly (read, mmap, sendfile: EBADF or EACCES), never a
 * silent EOF.
 * The table has pages of fds allocated on first use and never freed, so
 * the fast path (is this fd ours?) reads without a lock. A file is freed
 * when its last fd is closed and the last call using it returns.
 * Must never hold its lock across I/O, or call into the core under it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "map/map.h"
#include "s3/s3.h"
#include "shim.h"

#define PAGE_FDS 1024
#define PAGES 4096 /* fds up to 4M */

typedef _Atomic(struct shim_file *) fd_slot;
static _Atomic(fd_slot *) pages[PAGES];
static atomic_int nfds;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* The process whose table this is. A vfork child shares the parent's
 * memory (and this table) but not its fds: its dup2 and close must not
 * change what the parent sees. fork children run fork_child and own their
 * copy. */
static pid_t owner;

static void fork_prepare(void) { pthread_mutex_lock(&lock); }
static void fork_parent(void) { pthread_mutex_unlock(&lock); }
static void fork_child(void) {
  owner = getpid();
  /* A thread of the parent may have been reading: its offset locks are
   * held for ever in the child unless made anew. */
  for (int pg = 0; pg < PAGES; pg++) {
    fd_slot *p = atomic_load(&pages[pg]);
    for (int i = 0; p && i < PAGE_FDS; i++) {
      struct shim_file *f = atomic_load(&p[i]);
      if (f)
        pthread_mutex_init(&f->pos, NULL);
    }
  }
  pthread_mutex_unlock(&lock);
}

void shim_fd_init(void) {
  owner = getpid();
  /* After the mapping layer's handlers are registered, so ours (prepare
   * runs in reverse order) lock first and never wait on the core's. */
  mu_map_install_atfork();
  pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* Whether this process may change the table (not a vfork child). */
static int owned(void) { return getpid() == owner; }
int shim_fd_owned(void) { return owned(); }

struct shim_file *shim_file_new(enum shim_kind kind) {
  struct shim_file *f = calloc(1, sizeof *f);
  if (f) {
    f->refs = 1;
    f->kind = kind;
    pthread_mutex_init(&f->pos, NULL);
  }
  return f;
}

int shim_fd_any(void) { return atomic_load_explicit(&nfds, memory_order_relaxed) > 0; }

/* fd's slot; create (under lock): allocate its page if missing. */
static fd_slot *slot(int fd, int create) {
  if (fd < 0 || fd / PAGE_FDS >= PAGES)
    return NULL;
  fd_slot *p = atomic_load_explicit(&pages[fd / PAGE_FDS], memory_order_acquire);
  if (!p && create) {
    p = calloc(PAGE_FDS, sizeof *p);
    if (!p)
      return NULL;
    atomic_store_explicit(&pages[fd / PAGE_FDS], p, memory_order_release);
  }
  return p ? &p[fd % PAGE_FDS] : NULL;
}

struct shim_file *shim_file_ref(struct shim_file *f) {
  pthread_mutex_lock(&lock);
  f->refs++;
  pthread_mutex_unlock(&lock);
  return f;
}

static void file_free(struct shim_file *f) {
  if (f->map)
    mu_map_close(f->map); /* releases f->obj */
  else if (f->obj)
    mu_s3_close(f->obj);
  for (size_t i = 0; i < f->nents; i++)
    free(f->ents[i].name);
  free(f->ents);
  shim_path_free(&f->path);
  pthread_mutex_destroy(&f->pos);
  free(f);
}

void shim_file_put(struct shim_file *f) {
  if (!f)
    return;
  pthread_mutex_lock(&lock);
  int last = --f->refs == 0;
  pthread_mutex_unlock(&lock);
  if (last)
    file_free(f);
}

struct shim_file *shim_fd_get(int fd) {
  if (!shim_fd_any())
    return NULL;
  fd_slot *s = slot(fd, 0);
  if (!s || !atomic_load_explicit(s, memory_order_relaxed))
    return NULL;
  pthread_mutex_lock(&lock);
  struct shim_file *f = atomic_load(s);
  if (f)
    f->refs++;
  pthread_mutex_unlock(&lock);
  return f;
}

int shim_fd_set(int fd, struct shim_file *f) {
  if (!owned())
    return 0;
  pthread_mutex_lock(&lock);
  fd_slot *s = slot(fd, 1);
  if (!s) {
    pthread_mutex_unlock(&lock);
    return -ENOMEM;
  }
  struct shim_file *old = atomic_exchange(s, f);
  f->refs++;
  if (!old)
    atomic_fetch_add(&nfds, 1);
  int last = old && --old->refs == 0;
  pthread_mutex_unlock(&lock);
  if (last)
    file_free(old);
  return 0;
}

struct shim_file *shim_fd_take(int fd) {
  if (!shim_fd_any() || !owned())
    return NULL;
  fd_slot *s = slot(fd, 0);
  if (!s || !atomic_load_explicit(s, memory_order_relaxed))
    return NULL;
  pthread_mutex_lock(&lock);
  struct shim_file *f = atomic_exchange(s, NULL);
  if (f)
    atomic_fetch_sub(&nfds, 1);
  pthread_mutex_unlock(&lock);
  return f;
}

void shim_fd_take_range(unsigned lo, unsigned hi) {
  if (!shim_fd_any() || !owned())
    return;
  for (unsigned fd = lo; fd <= hi && fd < PAGES * PAGE_FDS && shim_fd_any(); fd++) {
    if (!atomic_load(&pages[fd / PAGE_FDS])) {
      fd |= PAGE_FDS - 1; /* skip the whole missing page */
      continue;
    }
    shim_file_put(shim_fd_take((int)fd));
  }
}

void shim_fd_each(void (*fn)(int fd, struct shim_file *f, void *ctx), void *ctx) {
  pthread_mutex_lock(&lock);
  for (int pg = 0; pg < PAGES && atomic_load(&nfds) > 0; pg++) {
    fd_slot *p = atomic_load(&pages[pg]);
    if (!p)
      continue;
    for (int i = 0; i < PAGE_FDS; i++) {
      struct shim_file *f = atomic_load(&p[i]);
      if (f)
        fn(pg * PAGE_FDS + i, f, ctx);
    }
  }
  pthread_mutex_unlock(&lock);
}

int shim_fd_reserve(void) {
  int fd = memfd_create("mmapurl", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  return fd >= 0 ? fd : -errno;
}

int shim_fd_finish(int fd, int cloexec, const char *desc, dev_t *dev, ino_t *ino) {
  size_t len = strlen(desc);
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  int wo = -1, err = 0;
  /* Sealed: a write that reaches the placeholder behind our back (glibc's
   * internal calls, a program without the shim) fails with EPERM and
   * moves no offset. Write-only: so does any read. */
  if (REAL(write)(fd, desc, len) != (ssize_t)len ||
      REAL(fcntl)(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0 ||
      (wo = REAL(open)(proc, O_WRONLY | (cloexec ? O_CLOEXEC : 0))) < 0 ||
      REAL(dup3)(wo, fd, cloexec ? O_CLOEXEC : 0) < 0)
    err = errno ? errno : EIO;
  if (wo >= 0)
    REAL(close)(wo);
  struct stat st = {0};
  if (!err && REAL(fstatat)(fd, "", &st, AT_EMPTY_PATH) != 0)
    err = errno;
  if (err) {
    REAL(close)(fd);
    return -err;
  }
  *dev = st.st_dev;
  *ino = st.st_ino;
  return fd;
}
