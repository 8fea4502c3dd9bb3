/*
 * bench-page-store.c - measure the two page stores mmapurl could use for a
 * mapping served through userfaultfd (docs/ARCHITECTURE.md, "Page store"):
 *
 *   anon    per-mapping MAP_PRIVATE|MAP_ANONYMOUS memory registered for
 *           MISSING faults, filled with UFFDIO_COPY, evicted with
 *           MADV_DONTNEED (what core/map/region.c does);
 *   memfd   one memfd (shmem) per object, mapped MAP_SHARED and registered
 *           for MISSING faults, filled with UFFDIO_COPY (or pwrite() into
 *           the memfd + UFFDIO_WAKE), evicted with
 *           fallocate(PUNCH_HOLE|KEEP_SIZE).
 *
 * Not part of the library and not built by CMake. Build and run (root, or
 * vm.unprivileged_userfaultfd=1):
 *
 *   cc -O2 -Wall -Wextra -pthread scripts/bench-page-store.c -o /tmp/bps
 *   /tmp/bps [size_MiB=1024] [random_faults=2048] [reps=3]
 *
 * One handler thread per store reads the userfaultfd and installs the
 * whole 64 KiB block around each faulting address; the main thread is the
 * faulting thread. The "object" is synthetic: the first 8 bytes of every
 * page hold a value derived from its offset, so every read is checked.
 * Each measurement runs `reps` times on fresh stores; the summary gives
 * medians. Before each store is made it writes and frees 2-3x the region
 * of anonymous memory (see warm_up()), so a VM host's first touch of guest
 * memory is not charged to a store. The fork and sharing checks print what the kernel did.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BLOCK ((size_t)64 << 10)
#define PAGE ((size_t)4096)
#define MAX_REPS 9
#define CHECK_BLOCKS 64 /* evicted blocks touched again to see them fault */

enum kind { K_ANON, K_MEMFD_COPY, K_MEMFD_PWRITE, K_N };
static const char *const kind_name[K_N] = {"anon + UFFDIO_COPY", "memfd + UFFDIO_COPY",
                                           "memfd + pwrite/UFFDIO_WAKE"};

struct store {
  enum kind kind;
  size_t len;
  int memfd;        /* -1 for anon */
  char *map[2];     /* mappings of the one object, all registered */
  int nmaps;
  int uffd, stopfd; /* stopfd: eventfd that ends the handler */
  char *src;        /* one block of staging bytes (what a fetch returned) */
  atomic_ulong faults, errors;
  pthread_t th;
};

static void die(const char *what) {
  fprintf(stderr, "bench-page-store: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The object's first 8 bytes of the page at offset off (never 0 in range). */
static uint64_t pat(size_t off) {
  return ((uint64_t)off * 0x9E3779B97F4A7C15ULL) ^ 0x5bd1e995ULL;
}

static uint64_t peek(const char *p) { return *(const volatile uint64_t *)p; }

/* ---- the fault handler ---------------------------------------------- */

/* UFFDIO_COPY [dst, dst+len) from src as the kernel allows (like
 * core/map/uffd.c: EAGAIN resumes, EEXIST skips a present page). */
static int copy_range(int uffd, char *dst, const char *src, size_t len) {
  size_t done = 0;
  while (done < len) {
    struct uffdio_copy c = {.dst = (uintptr_t)(dst + done),
                            .src = (uintptr_t)(src + done),
                            .len = len - done};
    if (ioctl(uffd, UFFDIO_COPY, &c) == 0)
      return 0;
    int e = errno;
    if (c.copy > 0)
      done += (size_t)c.copy;
    if (e == EEXIST && c.copy <= 0)
      done += PAGE;
    else if (e != EAGAIN && e != EEXIST)
      return -e;
  }
  return 0;
}

/* Install the block at object offset off into mapping base. */
static int install(struct store *s, char *base, size_t off, size_t len) {
  for (size_t p = 0; p < len; p += PAGE)
    memcpy(s->src + p, &(uint64_t){pat(off + p)}, sizeof(uint64_t));
  if (s->kind != K_MEMFD_PWRITE)
    return copy_range(s->uffd, base + off, s->src, len);
  if (pwrite(s->memfd, s->src, len, (off_t)off) != (ssize_t)len)
    return -EIO;
  struct uffdio_range r = {.start = (uintptr_t)(base + off), .len = len};
  return ioctl(s->uffd, UFFDIO_WAKE, &r) == 0 ? 0 : -errno;
}

static void *handler_main(void *arg) {
  struct store *s = arg;
  struct pollfd pfd[2] = {{.fd = s->uffd, .events = POLLIN}, {.fd = s->stopfd, .events = POLLIN}};
  for (;;) {
    if (poll(pfd, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      die("poll");
    }
    if (pfd[1].revents)
      return NULL;
    struct uffd_msg msg;
    ssize_t n = read(s->uffd, &msg, sizeof msg);
    if (n != (ssize_t)sizeof msg) {
      if (n < 0 && errno == EAGAIN)
        continue;
      die("read(userfaultfd)");
    }
    if (msg.event != UFFD_EVENT_PAGEFAULT)
      continue;
    uintptr_t a = (uintptr_t)msg.arg.pagefault.address;
    for (int i = 0; i < s->nmaps; i++) {
      uintptr_t base = (uintptr_t)s->map[i];
      if (a < base || a >= base + s->len)
        continue;
      size_t off = (a - base) & ~(BLOCK - 1);
      size_t len = s->len - off < BLOCK ? s->len - off : BLOCK;
      atomic_fetch_add(&s->faults, 1); /* before the install wakes the toucher */
      if (install(s, s->map[i], off, len) != 0)
        atomic_fetch_add(&s->errors, 1);
    }
  }
}

/* ---- stores ---------------------------------------------------------- */

static int open_uffd(void) {
  int fd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    die("userfaultfd (root or vm.unprivileged_userfaultfd=1 needed)");
  struct uffdio_api api = {.api = UFFD_API, .features = 0};
  if (ioctl(fd, UFFDIO_API, &api) != 0)
    die("UFFDIO_API");
  return fd;
}

static void register_range(int uffd, char *addr, size_t len) {
  struct uffdio_register reg = {.range = {.start = (uintptr_t)addr, .len = len},
                                .mode = UFFDIO_REGISTER_MODE_MISSING};
  if (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0)
    die("UFFDIO_REGISTER");
}

/* Map the object once more (anon: a second private copy; memfd: the same
 * page cache) and register the mapping. */
static char *store_map(struct store *s) {
  char *p = s->memfd < 0 ? mmap(NULL, s->len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                                -1, 0)
                         : mmap(NULL, s->len, PROT_READ, MAP_SHARED, s->memfd, 0);
  if (p == MAP_FAILED)
    die("mmap");
  register_range(s->uffd, p, s->len);
  s->map[s->nmaps++] = p;
  return p;
}

static void store_start(struct store *s) {
  s->stopfd = eventfd(0, EFD_CLOEXEC);
  if (s->stopfd < 0)
    die("eventfd");
  if (pthread_create(&s->th, NULL, handler_main, s) != 0)
    die("pthread_create");
}

static struct store *store_open(enum kind k, size_t len) {
  struct store *s = calloc(1, sizeof *s);
  if (!s)
    die("calloc");
  s->kind = k;
  s->len = len;
  s->memfd = -1;
  if (k != K_ANON) {
    s->memfd = memfd_create("bench-page-store", MFD_CLOEXEC);
    if (s->memfd < 0 || ftruncate(s->memfd, (off_t)len) != 0)
      die("memfd");
  }
  s->src = aligned_alloc(PAGE, BLOCK);
  if (!s->src)
    die("aligned_alloc");
  memset(s->src, 0xa5, BLOCK);
  s->uffd = open_uffd();
  store_map(s);
  store_start(s);
  return s;
}

static void store_stop(struct store *s) {
  if (eventfd_write(s->stopfd, 1) != 0)
    die("eventfd_write");
  pthread_join(s->th, NULL);
  close(s->stopfd);
}

static void store_close(struct store *s) {
  store_stop(s);
  for (int i = 0; i < s->nmaps; i++)
    munmap(s->map[i], s->len);
  close(s->uffd);
  if (s->memfd >= 0)
    close(s->memfd);
  if (atomic_load(&s->errors))
    fprintf(stderr, "bench-page-store: %lu install errors\n", atomic_load(&s->errors));
  free(s->src);
  free(s);
}

/* ---- memory ---------------------------------------------------------- */

struct mem {
  double anon, shmem, sys_shmem, memfd; /* MiB */
};

static double field_kb(const char *path, const char *name) {
  FILE *f = fopen(path, "r");
  char line[256];
  double kb = -1;
  size_t n = strlen(name);
  if (!f)
    return -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, name, n) == 0) {
      kb = strtod(line + n, NULL);
      break;
    }
  fclose(f);
  return kb;
}

static struct mem mem_now(const struct store *s) {
  struct mem m;
  struct stat sb;
  m.anon = field_kb("/proc/self/status", "RssAnon:") / 1024;
  m.shmem = field_kb("/proc/self/status", "RssShmem:") / 1024;
  m.sys_shmem = field_kb("/proc/meminfo", "Shmem:") / 1024;
  m.memfd = s && s->memfd >= 0 && fstat(s->memfd, &sb) == 0 ? (double)sb.st_blocks * 512 / 1048576 : 0;
  return m;
}

/* ---- touching -------------------------------------------------------- */

static unsigned long bad_reads;

static void check(const char *base, size_t off) {
  if (peek(base + off) != pat(off))
    bad_reads++;
}

/* Read every page of [0, len) in order; GiB/s. */
static double touch_seq(const char *base, size_t len) {
  double t0 = now();
  for (size_t off = 0; off < len; off += PAGE)
    check(base, off);
  return (double)len / (now() - t0) / (1 << 30);
}

static uint64_t rng = 0x853c49e6748fea9bULL;
static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Touch one random page in each of n distinct cold blocks; per-fault
 * latency (µs): median, mean, 99th percentile. */
static void touch_random(const char *base, size_t len, size_t n, double out[3]) {
  size_t nb = len / BLOCK;
  size_t *idx = malloc(nb * sizeof *idx);
  double *us = malloc(n * sizeof *us);
  if (!idx || !us)
    die("malloc");
  for (size_t i = 0; i < nb; i++)
    idx[i] = i;
  for (size_t i = nb - 1; i > 0; i--) {
    size_t j = (size_t)(next_rand() % (i + 1)), t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  double sum = 0;
  for (size_t i = 0; i < n; i++) {
    size_t off = idx[i] * BLOCK + (size_t)(next_rand() % (BLOCK / PAGE)) * PAGE;
    double t0 = now();
    check(base, off);
    us[i] = (now() - t0) * 1e6;
    sum += us[i];
  }
  qsort(us, n, sizeof *us, cmp_double);
  out[0] = us[n / 2];
  out[1] = sum / (double)n;
  out[2] = us[n * 99 / 100];
  free(us);
  free(idx);
}

/* Touch CHECK_BLOCKS evenly spaced blocks; how many faulted again. */
static unsigned long refaults(struct store *s, const char *base) {
  unsigned long f0 = atomic_load(&s->faults);
  size_t nb = s->len / BLOCK, step = nb / CHECK_BLOCKS ? nb / CHECK_BLOCKS : 1;
  for (size_t b = 0; b < nb; b += step)
    check(base, b * BLOCK + PAGE);
  return atomic_load(&s->faults) - f0;
}

/* Write n bytes of anonymous memory and free them, just before a store is
 * made: on a VM with free page reporting (this was written on Firecracker,
 * virtio-balloon F_REPORTING) memory freed for a few seconds goes back to
 * the host and its next first touch faults in the host too, which would
 * land on whichever store happened to get such pages. */
static void warm_up(size_t n) {
  char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    die("mmap (warm-up)");
  memset(p, 1, n);
  munmap(p, n);
}

/* ---- measurements ---------------------------------------------------- */

enum {
  M_SEQ_ANON, M_SEQ_MCOPY, M_SEQ_MPW,          /* GiB/s */
  M_RND_ANON, M_RND_MCOPY, M_RND_MPW,          /* µs median per fault */
  M_RNDMEAN_ANON, M_RNDMEAN_MCOPY, M_RNDMEAN_MPW,
  M_RND99_ANON, M_RND99_MCOPY, M_RND99_MPW,
  M_EV_ANON_DONTNEED, M_EV_MEMFD_DONTNEED, M_EV_MEMFD_PUNCH, /* µs per block */
  M_MEM_ANON_FULL, M_MEM_ANON_EVICTED,         /* RssAnon delta MiB */
  M_MEM_MEMFD_FULL, M_MEM_MEMFD_DONTNEED, M_MEM_MEMFD_PUNCH, /* Shmem (system) delta MiB */
  M_RSS_MEMFD_FULL, M_RSS_MEMFD_DONTNEED, M_RSS_MEMFD_PUNCH, /* RssShmem delta MiB */
  M_REF_ANON_DONTNEED, M_REF_MEMFD_DONTNEED, M_REF_MEMFD_PUNCH, /* of CHECK_BLOCKS */
  M_MAP2_ANON_GIBS, M_MAP2_MEMFD_GIBS,         /* second mapping, full touch */
  M_MAP2_ANON_FAULTS, M_MAP2_MEMFD_FAULTS,
  M_MAP2_ANON_MEM, M_MAP2_MEMFD_MEM,           /* real memory for both, MiB */
  M_MAP2_ANON_RSS, M_MAP2_MEMFD_RSS,           /* RssAnon+RssShmem delta, MiB */
  M_N
};
static double res[M_N][MAX_REPS];

static double median(const double *v, int n) {
  double t[MAX_REPS];
  memcpy(t, v, (size_t)n * sizeof *t);
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  return t[n / 2];
}

/* Evict every block of mapping 0 one call per block; µs per block. */
static double evict_all(struct store *s, int punch) {
  size_t nb = s->len / BLOCK;
  double t0 = now();
  for (size_t b = 0; b < nb; b++) {
    int rc = punch ? fallocate(s->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                               (off_t)(b * BLOCK), (off_t)BLOCK)
                   : madvise(s->map[0] + b * BLOCK, BLOCK, MADV_DONTNEED);
    if (rc != 0)
      die(punch ? "fallocate(PUNCH_HOLE)" : "madvise(MADV_DONTNEED)");
  }
  return (now() - t0) * 1e6 / (double)nb;
}

/* (a), (b), (c): sequential install, then eviction, on a fresh store. */
static void run_seq_evict(enum kind k, size_t len, int rep) {
  warm_up(2 * len);
  struct mem m0 = mem_now(NULL);
  struct store *s = store_open(k, len);
  res[M_SEQ_ANON + k][rep] = touch_seq(s->map[0], len);
  if (k == K_MEMFD_PWRITE) {
    store_close(s);
    return;
  }
  struct mem m1 = mem_now(s);
  if (k == K_ANON) {
    res[M_MEM_ANON_FULL][rep] = m1.anon - m0.anon;
    res[M_EV_ANON_DONTNEED][rep] = evict_all(s, 0);
    res[M_MEM_ANON_EVICTED][rep] = mem_now(s).anon - m0.anon;
    res[M_REF_ANON_DONTNEED][rep] = (double)refaults(s, s->map[0]);
  } else {
    res[M_MEM_MEMFD_FULL][rep] = m1.sys_shmem - m0.sys_shmem;
    res[M_RSS_MEMFD_FULL][rep] = m1.shmem - m0.shmem;
    res[M_EV_MEMFD_DONTNEED][rep] = evict_all(s, 0);
    struct mem m2 = mem_now(s);
    res[M_MEM_MEMFD_DONTNEED][rep] = m2.sys_shmem - m0.sys_shmem;
    res[M_RSS_MEMFD_DONTNEED][rep] = m2.shmem - m0.shmem;
    res[M_REF_MEMFD_DONTNEED][rep] = (double)refaults(s, s->map[0]);
    res[M_EV_MEMFD_PUNCH][rep] = evict_all(s, 1);
    struct mem m3 = mem_now(s);
    res[M_MEM_MEMFD_PUNCH][rep] = m3.sys_shmem - m0.sys_shmem;
    res[M_RSS_MEMFD_PUNCH][rep] = m3.shmem - m0.shmem;
    res[M_REF_MEMFD_PUNCH][rep] = (double)refaults(s, s->map[0]);
  }
  store_close(s);
}

/* (a), (b): random faults on cold blocks of a fresh store. */
static void run_random(enum kind k, size_t len, size_t n, int rep) {
  warm_up(2 * len);
  struct store *s = store_open(k, len);
  double out[3];
  touch_random(s->map[0], len, n, out);
  res[M_RND_ANON + k][rep] = out[0];
  res[M_RNDMEAN_ANON + k][rep] = out[1];
  res[M_RND99_ANON + k][rep] = out[2];
  store_close(s);
}

/* (d): the object mapped twice; install through the first mapping, then
 * read all of the second. */
static void run_two_maps(enum kind k, size_t len, int rep) {
  warm_up(3 * len);
  struct mem m0 = mem_now(NULL);
  struct store *s = store_open(k, len);
  char *second = store_map(s);
  touch_seq(s->map[0], len);
  unsigned long f0 = atomic_load(&s->faults);
  int i = k == K_ANON ? 0 : 1;
  res[M_MAP2_ANON_GIBS + i][rep] = touch_seq(second, len);
  res[M_MAP2_ANON_FAULTS + i][rep] = (double)(atomic_load(&s->faults) - f0);
  struct mem m1 = mem_now(s);
  res[M_MAP2_ANON_MEM + i][rep] = k == K_ANON ? m1.anon - m0.anon : m1.sys_shmem - m0.sys_shmem;
  res[M_MAP2_ANON_RSS + i][rep] = m1.anon + m1.shmem - m0.anon - m0.shmem;
  store_close(s);
}

/* ---- (e) fork --------------------------------------------------------- */

static sigjmp_buf probe_jb;
static volatile sig_atomic_t probe_sig;

static void on_probe_signal(int sig) {
  probe_sig = sig;
  siglongjmp(probe_jb, 1);
}

/* Read the page at base+off; describe what came back. */
static void probe(const char *base, size_t off, char *out, size_t n) {
  probe_sig = 0;
  if (sigsetjmp(probe_jb, 1) == 0) {
    alarm(3);
    uint64_t v = peek(base + off);
    alarm(0);
    if (v == 0)
      snprintf(out, n, "zeros");
    else if (v == pat(off))
      snprintf(out, n, "the object's bytes");
    else
      snprintf(out, n, "other bytes %#llx", (unsigned long long)v);
  } else if (probe_sig == SIGALRM) {
    snprintf(out, n, "blocked (no answer in 3 s)");
  } else {
    snprintf(out, n, "%s", strsignal(probe_sig));
  }
}

/* Block numbers of the fork check (16 blocks). */
enum { FB_LOADED = 1, FB_CHILD_PLAIN = 10, FB_CHILD_UFFD = 12, FB_N = 16 };

/* In the child: read a loaded page, a missing page as inherited, then a
 * missing page after registering with a new userfaultfd (what the library
 * does in its atfork child handler). Writes one report line to fd. */
static void fork_child(const struct store *parent, int fd) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_probe_signal;
  sigaction(SIGALRM, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGSEGV, &sa, NULL);
  char loaded[64], plain[64], reg[64], line[400];
  probe(parent->map[0], FB_LOADED * BLOCK + PAGE, loaded, sizeof loaded);
  probe(parent->map[0], FB_CHILD_PLAIN * BLOCK, plain, sizeof plain);
  struct store c = {.kind = parent->kind, .len = parent->len, .memfd = parent->memfd,
                    .map = {parent->map[0]}, .nmaps = 1, .src = parent->src};
  c.uffd = open_uffd();
  register_range(c.uffd, c.map[0], c.len);
  store_start(&c);
  probe(c.map[0], FB_CHILD_UFFD * BLOCK, reg, sizeof reg);
  store_stop(&c);
  snprintf(line, sizeof line,
           "    child, page the parent loaded:              %s\n"
           "    child, missing page, inherited mapping:     %s\n"
           "    child, missing page, after its own UFFDIO_REGISTER: %s (faults to the child's uffd: %lu)\n",
           loaded, plain, reg, atomic_load(&c.faults));
  if (write(fd, line, strlen(line)) < 0)
    _exit(1);
  _exit(0);
}

static void run_fork(enum kind k) {
  struct store *s = store_open(k, FB_N * BLOCK);
  for (size_t b = 0; b < FB_N / 2; b++)
    check(s->map[0], b * BLOCK);
  printf("  %s (blocks 0..7 loaded by the parent, then fork):\n", kind_name[k]);
  fflush(stdout);
  unsigned long f0 = atomic_load(&s->faults);
  int p[2];
  if (pipe(p) != 0)
    die("pipe");
  pid_t pid = fork();
  if (pid < 0)
    die("fork");
  if (pid == 0) {
    close(p[0]);
    fork_child(s, p[1]);
  }
  close(p[1]);
  char buf[1024];
  ssize_t n = read(p[0], buf, sizeof buf - 1);
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  buf[n > 0 ? n : 0] = 0;
  fputs(buf, stdout);
  printf("    faults the child's reads sent to the parent's uffd: %lu\n",
         atomic_load(&s->faults) - f0);
  char what[64];
  size_t blocks[2] = {FB_CHILD_PLAIN, FB_CHILD_UFFD};
  const char *names[2] = {"read without uffd", "installed via its uffd"};
  for (int i = 0; i < 2; i++) {
    unsigned long g0 = atomic_load(&s->faults);
    probe(s->map[0], blocks[i] * BLOCK, what, sizeof what);
    printf("    parent, afterwards, the page the child %s: %s (faults: %lu)\n", names[i], what,
           atomic_load(&s->faults) - g0);
  }
  store_close(s);
}

/* ---- main ------------------------------------------------------------- */

int main(int argc, char **argv) {
  size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
  size_t nrand = argc > 2 ? strtoul(argv[2], NULL, 10) : 2048;
  int reps = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 3;
  size_t len = mib << 20;
  if (len < CHECK_BLOCKS * BLOCK || reps < 1 || reps > MAX_REPS || nrand < 1 ||
      nrand > len / BLOCK) {
    fprintf(stderr, "usage: %s [size_MiB>=4] [random_faults<=blocks] [reps 1..%d]\n", argv[0],
            MAX_REPS);
    return 2;
  }
  struct utsname u;
  uname(&u);
  printf("bench-page-store: kernel %s, %ld CPUs, region %zu MiB, block %zu KiB, %zu random "
         "faults, %d reps\n",
         u.release, sysconf(_SC_NPROCESSORS_ONLN), mib, BLOCK >> 10, nrand, reps);
  for (int r = 0; r < reps; r++) {
    for (int k = 0; k < K_N; k++) {
      run_seq_evict((enum kind)k, len, r);
      run_random((enum kind)k, len, nrand, r);
    }
    run_two_maps(K_ANON, len, r);
    run_two_maps(K_MEMFD_COPY, len, r);
    printf("rep %d: seq GiB/s %.2f %.2f %.2f; random µs %.1f %.1f %.1f; evict µs %.2f %.2f\n",
           r + 1, res[M_SEQ_ANON][r], res[M_SEQ_MCOPY][r], res[M_SEQ_MPW][r], res[M_RND_ANON][r],
           res[M_RND_MCOPY][r], res[M_RND_MPW][r], res[M_EV_ANON_DONTNEED][r],
           res[M_EV_MEMFD_PUNCH][r]);
  }
#define MED(m) median(res[m], reps)
  printf("\nmedians of %d reps\n", reps);
  printf("(a,b) install                 seq GiB/s   random fault µs: median  mean   p99\n");
  for (int k = 0; k < K_N; k++)
    printf("  %-28s %8.2f   %27.1f %6.1f %6.1f\n", kind_name[k], MED(M_SEQ_ANON + k),
           MED(M_RND_ANON + k), MED(M_RNDMEAN_ANON + k), MED(M_RND99_ANON + k));
  printf("(c) eviction of %zu blocks, one call each   µs/block  memory after (MiB)  "
         "refaults/%d\n",
         len / BLOCK, CHECK_BLOCKS);
  printf("  loaded: anon RssAnon %.0f MiB; memfd Shmem %.0f MiB (RssShmem %.0f)\n",
         MED(M_MEM_ANON_FULL), MED(M_MEM_MEMFD_FULL), MED(M_RSS_MEMFD_FULL));
  printf("  anon  MADV_DONTNEED                %8.2f  RssAnon  %8.1f  %8.0f\n",
         MED(M_EV_ANON_DONTNEED), MED(M_MEM_ANON_EVICTED), MED(M_REF_ANON_DONTNEED));
  printf("  memfd MADV_DONTNEED                %8.2f  Shmem    %8.1f  %8.0f  (RssShmem %.1f)\n",
         MED(M_EV_MEMFD_DONTNEED), MED(M_MEM_MEMFD_DONTNEED), MED(M_REF_MEMFD_DONTNEED),
         MED(M_RSS_MEMFD_DONTNEED));
  printf("  memfd fallocate(PUNCH_HOLE)        %8.2f  Shmem    %8.1f  %8.0f  (RssShmem %.1f)\n",
         MED(M_EV_MEMFD_PUNCH), MED(M_MEM_MEMFD_PUNCH), MED(M_REF_MEMFD_PUNCH),
         MED(M_RSS_MEMFD_PUNCH));
  printf("(d) object mapped twice, second mapping read after the first\n"
         "                     GiB/s   faults   memory MiB   RssAnon+RssShmem MiB\n");
  printf("  anon           %10.2f %8.0f %12.0f %14.0f\n", MED(M_MAP2_ANON_GIBS),
         MED(M_MAP2_ANON_FAULTS), MED(M_MAP2_ANON_MEM), MED(M_MAP2_ANON_RSS));
  printf("  memfd          %10.2f %8.0f %12.0f %14.0f\n", MED(M_MAP2_MEMFD_GIBS),
         MED(M_MAP2_MEMFD_FAULTS), MED(M_MAP2_MEMFD_MEM), MED(M_MAP2_MEMFD_RSS));
  printf("(e) fork (no UFFD_FEATURE_EVENT_FORK, like the library)\n");
  run_fork(K_ANON);
  run_fork(K_MEMFD_COPY);
  printf("reads that returned wrong bytes: %lu\n", bad_reads);
  return bad_reads ? 1 : 0;
}
