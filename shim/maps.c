/*
 * maps.c - mmap() of our fds. A read-only mapping is a view into the
 * file's own userfaultfd mapping (pages fetched on first touch, shared
 * with read()); the view holds the file open until munmap(). Mappings the
 * core cannot give that way (writable private copies, executable, fixed
 * addresses, or no userfaultfd here) are private anonymous memory filled
 * with the file's bytes at mmap() time, as a kernel would for MAP_PRIVATE
 * after a full read.
 * Must never unmap memory the core owns on the user's behalf, and never
 * grant a writable shared mapping of an object (EACCES, as for an O_RDONLY
 * fd).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "map/map.h"
#include "shim.h"
#include "util/log.h"

struct view {
  char *addr;
  size_t len;
  struct shim_file *f;
  size_t off; /* of addr in the file */
  struct view *next;
};

static struct view *views;
static atomic_int nviews;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void fork_lock(void) { pthread_mutex_lock(&lock); }
static void fork_unlock(void) { pthread_mutex_unlock(&lock); }
void shim_maps_init(void) { pthread_atfork(fork_lock, fork_unlock, fork_unlock); }

static size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

static size_t map_len(const struct shim_file *f) {
  size_t pg = page_size();
  return f->meta.size ? (size_t)((f->meta.size + pg - 1) / pg * pg) : pg;
}

/* A private anonymous copy of [off, off+len) of f. */
static void *copy_map(struct shim_file *f, void *addr, size_t len, int prot, int flags, off_t off,
                      int *err) {
  int aflags = (flags & ~(MAP_SHARED | MAP_SHARED_VALIDATE | MAP_PRIVATE)) | MAP_PRIVATE |
               MAP_ANONYMOUS;
  char *p = REAL(mmap)(addr, len, PROT_READ | PROT_WRITE, aflags, -1, 0);
  if (p == MAP_FAILED) {
    *err = errno;
    return MAP_FAILED;
  }
  MU_DEBUG("shim: mmap of %s: a private copy of %zu bytes", f->path.display, len);
  size_t done = 0;
  while (done < len) {
    ssize_t n = shim_file_pread(f, p + done, len - done, (uint64_t)off + done);
    if (n < 0) {
      REAL(munmap)(p, len);
      *err = (int)-n;
      return MAP_FAILED;
    }
    if (n == 0)
      break; /* past the end: zeros, as the last page of a file has */
    done += (size_t)n;
  }
  if (prot != (PROT_READ | PROT_WRITE) && mprotect(p, len, prot) != 0) {
    *err = errno;
    REAL(munmap)(p, len);
    return MAP_FAILED;
  }
  return p;
}

void *shim_maps_mmap(struct shim_file *f, void *addr, size_t len, int prot, int flags, off_t off,
                     int *err) {
  int shared = (flags & MAP_SHARED) || (flags & MAP_SHARED_VALIDATE) == MAP_SHARED_VALIDATE;
  if (f->kind != SHIM_FILE) {
    *err = ENODEV;
    return MAP_FAILED;
  }
  if (shared && (prot & PROT_WRITE)) {
    *err = EACCES;
    return MAP_FAILED;
  }
  if (len == 0 || off < 0 || (size_t)off % page_size() != 0) {
    *err = EINVAL;
    return MAP_FAILED;
  }
  if (f->broken) {
    *err = EIO;
    return MAP_FAILED;
  }
  int fixed = (flags & MAP_FIXED) || (flags & MAP_FIXED_NOREPLACE);
  if (!f->map || fixed || (prot & (PROT_WRITE | PROT_EXEC)) || (size_t)off > map_len(f) ||
      len > map_len(f) - (size_t)off || f->meta.size == 0)
    return copy_map(f, addr, len, prot, flags, off, err);
  struct view *v = calloc(1, sizeof *v);
  if (!v) {
    *err = ENOMEM;
    return MAP_FAILED;
  }
  v->addr = (char *)mu_map_addr(f->map) + off;
  v->len = len;
  v->off = (size_t)off;
  v->f = shim_file_ref(f);
  pthread_mutex_lock(&lock);
  v->next = views;
  views = v;
  atomic_fetch_add(&nviews, 1);
  pthread_mutex_unlock(&lock);
  return v->addr;
}

/* Under lock: the view containing [addr, addr+len), or NULL. */
static struct view *find(const void *addr, size_t len) {
  const char *a = addr;
  for (struct view *v = views; v; v = v->next)
    if (a >= v->addr && a < v->addr + v->len && len <= (size_t)(v->addr + v->len - a))
      return v;
  return NULL;
}

int shim_maps_munmap(void *addr, size_t len, int *rc) {
  if (atomic_load_explicit(&nviews, memory_order_relaxed) == 0)
    return 0;
  struct view *gone = NULL;
  int ours = 0;
  pthread_mutex_lock(&lock);
  for (struct view **pp = &views; *pp; pp = &(*pp)->next)
    if ((*pp)->addr == addr) {
      gone = *pp;
      *pp = gone->next;
      atomic_fetch_sub(&nviews, 1);
      break;
    }
  /* Part of a view: the pages stay until the whole view goes. */
  ours = gone || find(addr, 1);
  pthread_mutex_unlock(&lock);
  if (gone) {
    shim_file_put(gone->f);
    free(gone);
  }
  *rc = 0;
  return ours;
}

int shim_maps_madvise(void *addr, size_t len, int advice, int *rc) {
  if (atomic_load_explicit(&nviews, memory_order_relaxed) == 0)
    return 0;
  pthread_mutex_lock(&lock);
  struct view *v = find(addr, 1);
  struct shim_file *f = v ? shim_file_ref(v->f) : NULL;
  uint64_t off = v ? v->off + (size_t)((char *)addr - v->addr) : 0;
  pthread_mutex_unlock(&lock);
  if (!f)
    return 0;
  static const int map_advice[][2] = {
      {MADV_NORMAL, MU_MAP_NORMAL},     {MADV_SEQUENTIAL, MU_MAP_SEQUENTIAL},
      {MADV_RANDOM, MU_MAP_RANDOM},     {MADV_WILLNEED, MU_MAP_WILLNEED},
      {MADV_DONTNEED, MU_MAP_DONTNEED},
  };
  for (size_t i = 0; i < sizeof map_advice / sizeof map_advice[0]; i++)
    if (map_advice[i][0] == advice)
      mu_map_advise(f->map, off, len, (enum mu_map_advice)map_advice[i][1]);
  shim_file_put(f);
  *rc = 0; /* other advice is a hint we may ignore, as the kernel may */
  return 1;
}

int shim_maps_contains(const void *addr, size_t len) {
  if (atomic_load_explicit(&nviews, memory_order_relaxed) == 0 || len == 0)
    return 0;
  const char *a = addr, *end = a + len;
  int hit = 0;
  pthread_mutex_lock(&lock);
  for (struct view *v = views; v && !hit; v = v->next)
    hit = a < v->addr + v->len && end > v->addr;
  pthread_mutex_unlock(&lock);
  return hit;
}

int shim_maps_touch(const void *buf, size_t len) {
  if (!shim_maps_contains(buf, len))
    return 0;
  /* Only the parts inside our views: the rest of buf may be anything. */
  enum { MAX_PARTS = 16 };
  const char *from[MAX_PARTS], *to[MAX_PARTS];
  size_t n = 0;
  const char *a = buf, *end = a + len;
  pthread_mutex_lock(&lock);
  for (struct view *v = views; v && n < MAX_PARTS; v = v->next)
    if (a < v->addr + v->len && end > v->addr) {
      from[n] = a > v->addr ? a : v->addr;
      to[n] = end < v->addr + v->len ? end : v->addr + v->len;
      n++;
    }
  pthread_mutex_unlock(&lock);
  size_t pg = page_size();
  for (size_t i = 0; i < n; i++)
    for (const volatile char *p = from[i]; p < to[i];
         p = (const volatile char *)(((uintptr_t)p & ~(uintptr_t)(pg - 1)) + pg))
      (void)*p;
  return n > 0;
}
