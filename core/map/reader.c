/*
 * reader.c - the fault-reading threads: MU_READERS threads wait on the
 * userfaultfd (epoll, EPOLLEXCLUSIVE: one is woken per event) and on an
 * eventfd (shutdown), read uffd_msg events in batches, look each address
 * up in the registry (sorted by address) and hand it to its mapping. A
 * demand fault's one-block fetch is run by the thread that read it, with
 * no lock held (no hand-off to a worker: two thread switches less on the
 * way to the page), while at least one other reader is left waiting for
 * the next event; otherwise, and for readahead, the workers fetch.
 * Must never hold a lock across a fetch, leave no reader waiting on the
 * userfaultfd, or dispatch to a mapping that has been removed (removal
 * takes the registry lock; a fetch run here holds its own reference).
 */
#include "map/reader.h"

#include <errno.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "map/region.h"
#include "map/uffd.h"
#include "map/workers.h"
#include "util/error.h"
#include "util/log.h"
#include "util/thread.h"

#define READ_BATCH 64
/* Fault-reading threads: up to MU_READERS - 1 fetch at once. */
#define MU_READERS 4

/* `lock` guards maps/n/cap (readers, openers, closers); threads, running
 * and efd are touched by start/stop only (serialized by map.c); `inline_slots`
 * counts the readers that may still run a fetch themselves. */
static struct {
  pthread_mutex_t lock;
  struct mu_map **maps; /* sorted by addr, non-overlapping */
  size_t n, cap;
  pthread_t threads[MU_READERS];
  int epfd[MU_READERS]; /* each reader's epoll set, made by mu_reader_start */
  int nthreads;
  int running;
  int efd;
  atomic_int inline_slots;
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

/* Take one of the slots for running a fetch on a reader; 1 if taken. */
static int take_slot(void) {
  int n = atomic_load(&rd.inline_slots);
  while (n > 0 && !atomic_compare_exchange_weak(&rd.inline_slots, &n, n - 1)) {
  }
  return n > 0;
}

/* Hand one event to its mapping. A fetch the mapping leaves for this
 * thread to run (*run, holding a slot) is returned through *run. */
static void dispatch(const struct uffd_msg *msg, struct mu_fetch **run) {
  if (msg->event != UFFD_EVENT_PAGEFAULT)
    return;
  uintptr_t addr = (uintptr_t)msg->arg.pagefault.address;
  int may_run = !*run && take_slot();
  struct mu_fetch *f = NULL;
  pthread_mutex_lock(&rd.lock);
  size_t i = lower_bound(addr);
  if (i < rd.n && (uintptr_t)rd.maps[i]->addr <= addr)
    f = mu_region_fault(rd.maps[i], addr, (pid_t)msg->arg.pagefault.feat.ptid, may_run);
  else
    MU_DEBUG("userfaultfd: fault at %#lx outside any mapping (closed)", (unsigned long)addr);
  pthread_mutex_unlock(&rd.lock);
  if (f)
    *run = f;
  else if (may_run)
    atomic_fetch_add(&rd.inline_slots, 1);
}

/* Read the pending events, a batch per read(), and run the fetch one of
 * them left to this thread (after the batch: the others are dispatched
 * first). 0, or -1 on a fatal error. */
static int drain(int fd) {
  struct uffd_msg msgs[READ_BATCH];
  struct mu_fetch *run = NULL;
  int rc = 0;
  for (;;) {
    ssize_t got = read(fd, msgs, sizeof msgs);
    if (got < 0) {
      rc = errno == EAGAIN || errno == EINTR ? 0 : -1;
      break;
    }
    for (size_t i = 0; i < (size_t)got / sizeof msgs[0]; i++)
      dispatch(&msgs[i], &run);
    if (run)
      break; /* the other readers take what comes next */
  }
  if (run) {
    mu_region_run(run);
    atomic_fetch_add(&rd.inline_slots, 1);
  }
  return rc;
}

/* An epoll set of the userfaultfd (one reader woken per event) and the
 * eventfd efd (every reader woken): the fd, or -1 with errno set. */
static int epoll_set(int efd) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event in = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = mu_uffd_fd()};
  struct epoll_event stop = {.events = EPOLLIN, .data.fd = efd};
  if (ep >= 0 && (epoll_ctl(ep, EPOLL_CTL_ADD, mu_uffd_fd(), &in) != 0 ||
                  epoll_ctl(ep, EPOLL_CTL_ADD, efd, &stop) != 0)) {
    int e = errno;
    close(ep);
    errno = e;
    return -1;
  }
  return ep;
}

/* arg: the index of this reader's epoll set. */
static void *reader_main(void *arg) {
  int ep = rd.epfd[(intptr_t)arg], efd = rd.efd;
  for (;;) {
    struct epoll_event ev[2];
    int n = epoll_wait(ep, ev, 2, -1);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      MU_ERROR("userfaultfd reader: epoll_wait: %s", strerror(errno));
      break;
    }
    int quit = 0, fault = 0;
    for (int i = 0; i < n; i++) {
      quit |= ev[i].data.fd == efd;
      fault |= ev[i].data.fd != efd;
    }
    if (quit)
      break;
    if (fault && drain(mu_uffd_fd()) < 0) {
      MU_ERROR("userfaultfd reader: read: %s", strerror(errno));
      break;
    }
  }
  mu_pool_scratch_free(); /* the fetches it ran */
  return NULL;
}

int mu_reader_start(void) {
  if (rd.running)
    return 0;
  rd.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (rd.efd < 0)
    return mu_fail(MMAPURL_E_INTERNAL, "userfaultfd reader: eventfd: %s", strerror(errno));
  atomic_store(&rd.inline_slots, MU_READERS - 1);
  rd.nthreads = 0;
  rd.running = 1;
  const char *failed = NULL;
  for (int i = 0; i < MU_READERS && !failed; i++) {
    if ((rd.epfd[i] = epoll_set(rd.efd)) < 0)
      failed = "epoll";
    else if ((errno = mu_thread_start(&rd.threads[i], reader_main, (void *)(intptr_t)i)))
      failed = "pthread_create";
    else
      rd.nthreads++;
    if (failed && rd.epfd[i] >= 0)
      close(rd.epfd[i]);
  }
  if (!failed)
    return 0;
  int e = errno;
  mu_reader_stop();
  return mu_fail(MMAPURL_E_INTERNAL, "userfaultfd readers: %s: %s", failed, strerror(e));
}

void mu_reader_stop(void) {
  if (!rd.running)
    return;
  uint64_t one = 1;
  if (write(rd.efd, &one, sizeof one) != (ssize_t)sizeof one)
    MU_ERROR("userfaultfd reader: eventfd write: %s", strerror(errno));
  for (int i = 0; i < rd.nthreads; i++) {
    pthread_join(rd.threads[i], NULL);
    close(rd.epfd[i]);
  }
  rd.nthreads = 0;
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
  for (int i = 0; i < rd.nthreads; i++)
    close(rd.epfd[i]);
  rd.nthreads = 0;
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
