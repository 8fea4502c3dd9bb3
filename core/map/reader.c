/*
 * reader.c - the fault-reading thread: poll() on the userfaultfd and an
 * eventfd (shutdown), read() uffd_msg events in batches, look each address up
 * in the registry (sorted by address) and hand it to its mapping.
 * Must never do I/O or sleep other than in poll(); must never dispatch to a
 * mapping that has been removed (removal takes the registry lock).
 */
#include "map/reader.h"

#include <errno.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "map/region.h"
#include "map/uffd.h"
#include "util/error.h"
#include "util/log.h"

#define READ_BATCH 64

/* `lock` guards maps/n/cap (reader thread, openers, closers); thread,
 * running and efd are touched by start/stop only (serialized by map.c). */
static struct {
  pthread_mutex_t lock;
  struct mu_map **maps; /* sorted by addr, non-overlapping */
  size_t n, cap;
  pthread_t thread;
  int running;
  int efd;
} rd = {.lock = PTHREAD_MUTEX_INITIALIZER, .efd = -1};

/* Index of the first map whose end is above addr (binary search). */
static size_t lower_bound(uintptr_t addr) {
  size_t lo = 0, hi = rd.n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if ((uintptr_t)rd.maps[mid]->addr + rd.maps[mid]->len <= addr)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static void dispatch(const struct uffd_msg *msg) {
  if (msg->event != UFFD_EVENT_PAGEFAULT)
    return;
  uintptr_t addr = (uintptr_t)msg->arg.pagefault.address;
  pthread_mutex_lock(&rd.lock);
  size_t i = lower_bound(addr);
  if (i < rd.n && (uintptr_t)rd.maps[i]->addr <= addr)
    mu_region_fault(rd.maps[i], addr, (pid_t)msg->arg.pagefault.feat.ptid);
  else
    MU_DEBUG("userfaultfd: fault at %#lx outside any mapping (closed)", (unsigned long)addr);
  pthread_mutex_unlock(&rd.lock);
}

/* Read every pending event, a batch per read(). 0, or -1 on a fatal error. */
static int drain(int fd) {
  struct uffd_msg msgs[READ_BATCH];
  for (;;) {
    ssize_t got = read(fd, msgs, sizeof msgs);
    if (got < 0)
      return errno == EAGAIN || errno == EINTR ? 0 : -1;
    for (size_t i = 0; i < (size_t)got / sizeof msgs[0]; i++)
      dispatch(&msgs[i]);
  }
}

static void *reader_main(void *arg) {
  int efd = (int)(intptr_t)arg;
  struct pollfd pfd[2] = {{.fd = mu_uffd_fd(), .events = POLLIN}, {.fd = efd, .events = POLLIN}};
  for (;;) {
    if (poll(pfd, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      MU_ERROR("userfaultfd reader: poll: %s", strerror(errno));
      break;
    }
    if (pfd[1].revents)
      break;
    if ((pfd[0].revents & POLLIN) && drain(pfd[0].fd) < 0) {
      MU_ERROR("userfaultfd reader: read: %s", strerror(errno));
      break;
    }
  }
  return NULL;
}

int mu_reader_start(void) {
  if (rd.running)
    return 0;
  rd.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (rd.efd < 0)
    return mu_fail(MMAPURL_E_INTERNAL, "userfaultfd reader: eventfd: %s", strerror(errno));
  if (pthread_create(&rd.thread, NULL, reader_main, (void *)(intptr_t)rd.efd) != 0) {
    close(rd.efd);
    rd.efd = -1;
    return mu_fail(MMAPURL_E_INTERNAL, "userfaultfd reader: pthread_create failed");
  }
  rd.running = 1;
  return 0;
}

void mu_reader_stop(void) {
  if (!rd.running)
    return;
  uint64_t one = 1;
  if (write(rd.efd, &one, sizeof one) != (ssize_t)sizeof one)
    MU_ERROR("userfaultfd reader: eventfd write: %s", strerror(errno));
  pthread_join(rd.thread, NULL);
  close(rd.efd);
  rd.efd = -1;
  rd.running = 0;
}

int mu_reader_add(struct mu_map *m) {
  pthread_mutex_lock(&rd.lock);
  if (rd.n == rd.cap) {
    size_t cap = rd.cap ? rd.cap * 2 : 16;
    struct mu_map **grown = realloc(rd.maps, cap * sizeof *grown);
    if (!grown) {
      pthread_mutex_unlock(&rd.lock);
      return mu_fail(MMAPURL_E_NOMEM, "mapping registry");
    }
    rd.maps = grown;
    rd.cap = cap;
  }
  size_t i = lower_bound((uintptr_t)m->addr);
  memmove(&rd.maps[i + 1], &rd.maps[i], (rd.n - i) * sizeof rd.maps[0]);
  rd.maps[i] = m;
  rd.n++;
  pthread_mutex_unlock(&rd.lock);
  return 0;
}

void mu_reader_remove(const struct mu_map *m) {
  pthread_mutex_lock(&rd.lock);
  for (size_t i = 0; i < rd.n; i++) {
    if (rd.maps[i] == m) {
      memmove(&rd.maps[i], &rd.maps[i + 1], (rd.n - i - 1) * sizeof rd.maps[0]);
      rd.n--;
      break;
    }
  }
  pthread_mutex_unlock(&rd.lock);
}

void mu_reader_forget_in_child(void) {
  pthread_mutex_init(&rd.lock, NULL);
  if (rd.efd >= 0)
    close(rd.efd);
  rd.efd = -1;
  rd.running = 0;
}

void mu_reader_each(void (*fn)(struct mu_map *m)) {
  for (size_t i = 0; i < rd.n; i++)
    fn(rd.maps[i]);
}

int mu_reader_has_locked(const struct mu_map *m, uintptr_t addr) {
  size_t i = lower_bound(addr);
  return i < rd.n && rd.maps[i] == m;
}

void mu_reader_lock(void) { pthread_mutex_lock(&rd.lock); }
void mu_reader_unlock(void) { pthread_mutex_unlock(&rd.lock); }
