/* test_mmap - the mapping API (mmap_s3, mmapurl_map, munmap_s3) against the
 * local servers, byte for byte against the manifest's local copies.
 * usage: test_mmap MANIFEST MODE [MMAP_TO_STDOUT]
 *   exact   (s3rver, verify) every object in every access order, threads
 *   fork    (s3rver) a forked child reads pages nobody had loaded
 *   many    (s3rver) 1000 mappings open at once
 *   stdout  (s3rver) examples/mmap_to_stdout reproduces an object
 *   unpriv  (s3rver, run through setpriv as nobody) exact + stdout, and the
 *           userfaultfd mode an unprivileged process gets */
#include <pthread.h>
#include <sys/mman.h>

#include "testlib.h"

static struct tl_manifest m;

#define BIG "size-5MiB"
#define PAGE 4096

static uint64_t downloaded(void) {
  struct mmapurl_stats s;
  mmapurl_stats_get(&s);
  return s.bytes_downloaded;
}

/* Map key; CHECKs success and the size. NULL on failure. */
static const unsigned char *map_key(const struct tl_object *o, size_t *sz) {
  char url[1100];
  int err = -1;
  tl_url(url, sizeof url, o->key);
  void *p = mmap_s3(url, sz, &err);
  if (p == MAP_FAILED) {
    tl_explain(url, err);
    CHECK(p != MAP_FAILED);
    return NULL;
  }
  CHECK_INT(err, 0);
  CHECK_INT(*sz, o->size);
  return p;
}

static void unmap(const void *p) { CHECK_INT(munmap_s3((void *)p), 0); }

/* The first differing offset of p and want over [from, to), or -1. */
static long long first_diff(const unsigned char *p, const unsigned char *want, size_t from,
                            size_t to) {
  if (memcmp(p + from, want + from, to - from) == 0)
    return -1;
  for (size_t i = from; i < to; i++)
    if (p[i] != want[i])
      return (long long)i;
  return -1;
}

#define CHECK_SAME(p, want, from, to, what)                                              \
  do {                                                                                   \
    long long d_ = first_diff(p, want, from, to);                                        \
    if (d_ >= 0)                                                                         \
      fprintf(stderr, "%s: %s: first wrong byte at %lld\n", o->key, what, d_);           \
    CHECK(d_ < 0);                                                                       \
  } while (0)

/* One object, each access order on a fresh mapping (so the order decides
 * which faults happen): sequential, random, reverse pages, strided. */
static void exact_object(const struct tl_object *o) {
  unsigned char *want = tl_read_file(o->path, o->size);
  size_t sz = 0, n = (size_t)o->size;
  const unsigned char *p;

  /* Sequential: one memcmp of everything. A fresh mapping downloads each
   * byte once (the opening block is reused, readahead never overlaps). */
  uint64_t d0 = downloaded();
  if ((p = map_key(o, &sz))) {
    CHECK_SAME(p, want, 0, n, "sequential");
    uint64_t got = downloaded() - d0;
    if (got != o->size)
      fprintf(stderr, "%s: sequential read downloaded %llu bytes\n", o->key,
              (unsigned long long)got);
    CHECK_INT(got, o->size);
    /* The rest of the last page reads as zeros (map.h). */
    int tail_zero = 1;
    for (size_t i = n; i % PAGE; i++)
      tail_zero &= p[i] == 0;
    CHECK(tail_zero);
    unmap(p);
  }

  /* Random: 300 offsets (with the 64 bytes after each), then everything. */
  if ((p = map_key(o, &sz))) {
    uint64_t x = 42;
    for (int i = 0; i < 300; i++) {
      size_t off = (size_t)((x = tl_mix64(x)) % n), end = off + 64 < n ? off + 64 : n;
      CHECK_SAME(p, want, off, end, "random");
    }
    CHECK_SAME(p, want, 0, n, "after random");
    unmap(p);
  }

  /* Reverse page order, last (partial) page first. */
  if ((p = map_key(o, &sz))) {
    for (size_t pg = (n - 1) / PAGE + 1; pg-- > 0;) {
      size_t end = (pg + 1) * PAGE < n ? (pg + 1) * PAGE : n;
      CHECK_SAME(p, want, pg * PAGE, end, "reverse");
    }
    unmap(p);
  }

  /* Strided: every 3 pages + 1 byte (crossing block edges at every phase),
   * then everything. */
  if ((p = map_key(o, &sz))) {
    for (size_t off = 0; off < n; off += 3 * PAGE + 1)
      CHECK_SAME(p, want, off, off + 1, "strided");
    CHECK_SAME(p, want, 0, n, "after strided");
    unmap(p);
  }
  free(want);
}

struct reader {
  pthread_t t;
  const unsigned char *p, *want;
  size_t size, from, len; /* read [from, from+len) mod size, page by page */
  long long wrong;        /* first wrong offset, -1 if none */
};

static void *reader_run(void *arg) {
  struct reader *r = arg;
  r->wrong = -1;
  for (size_t done = 0; done < r->len && r->wrong < 0;) {
    size_t off = (r->from + done) % r->size;
    size_t n = PAGE - off % PAGE;
    if (n > r->size - off)
      n = r->size - off;
    if (n > r->len - done)
      n = r->len - done;
    r->wrong = first_diff(r->p, r->want, off, off + n);
    done += n;
  }
  return NULL;
}

/* 8 threads on one fresh mapping: disjoint eighths, or (overlap) each
 * the whole object from its own starting eighth, so they meet on every
 * block. Either way each byte is downloaded once: concurrent faults on a
 * block share its fetch. */
static void exact_threads(const struct tl_object *o, int overlap) {
  unsigned char *want = tl_read_file(o->path, o->size);
  size_t sz, n = (size_t)o->size;
  uint64_t d0 = downloaded();
  const unsigned char *p = map_key(o, &sz);
  struct reader r[8];
  if (!p) {
    free(want);
    return;
  }
  for (int i = 0; i < 8; i++) {
    r[i] = (struct reader){.p = p, .want = want, .size = n, .from = n / 8 * i,
                           .len = overlap ? n : (i == 7 ? n - n / 8 * 7 : n / 8)};
    CHECK_INT(pthread_create(&r[i].t, NULL, reader_run, &r[i]), 0);
  }
  for (int i = 0; i < 8; i++) {
    pthread_join(r[i].t, NULL);
    if (r[i].wrong >= 0)
      fprintf(stderr, "%s: thread %d (%s): wrong byte at %lld\n", o->key, i,
              overlap ? "overlapping" : "disjoint", r[i].wrong);
    CHECK(r[i].wrong < 0);
  }
  uint64_t got = downloaded() - d0;
  fprintf(stderr, "%s: 8 %s threads downloaded %llu bytes\n", o->key,
          overlap ? "overlapping" : "disjoint", (unsigned long long)got);
  CHECK_INT(got, o->size);
  unmap(p);
  free(want);
}

/* Mode exact: every object in every order; the edge cases of the API. */
static void mode_exact(void) {
  const struct tl_object *big = &m.o[0];
  struct mmapurl_stats s0, s1;
  mmapurl_stats_get(&s0);
  for (int i = 0; i < m.n; i++) {
    const struct tl_object *o = &m.o[i];
    if (o->size > big->size)
      big = o;
    if (o->size == 0) {
      /* 0 bytes: a valid address and size 0, never touched. */
      size_t sz = 1;
      int err = -1;
      char url[1100];
      tl_url(url, sizeof url, o->key);
      void *p = mmap_s3(url, &sz, &err);
      tl_explain(url, p == MAP_FAILED ? err : 0);
      CHECK(p != MAP_FAILED && p != NULL);
      CHECK_INT(sz, 0);
      CHECK_INT(err, 0);
      if (p != MAP_FAILED)
        unmap(p);
      continue;
    }
    exact_object(o);
  }
  exact_threads(big, 0);
  exact_threads(big, 1);
  mmapurl_stats_get(&s1);
  CHECK(s1.faults > s0.faults);
  CHECK_STR(s1.uffd_mode, tl_expected_uffd_mode());

  /* A missing key: MAP_FAILED and its code; size and err may be NULL. */
  size_t sz = 77;
  int err = 0;
  CHECK(mmap_s3("s3://" TL_BUCKET "/no/such/key", &sz, &err) == MAP_FAILED);
  CHECK_INT(err, MMAPURL_E_NO_SUCH_KEY);
  CHECK(mmap_s3("s3://" TL_BUCKET "/no/such/key", NULL, NULL) == MAP_FAILED);

  /* munmap_s3 of anything mmap_s3 did not return. */
  int local = 0;
  CHECK_INT(munmap_s3(&local), MMAPURL_E_INVALID_ARG);
  CHECK_INT(munmap_s3(NULL), MMAPURL_E_INVALID_ARG);
  CHECK_INT(munmap_s3(MAP_FAILED), MMAPURL_E_INVALID_ARG);
  const unsigned char *p = map_key(big, &sz);
  if (p) {
    CHECK_INT(munmap_s3((void *)(p + PAGE)), MMAPURL_E_INVALID_ARG); /* inside a mapping */
    CHECK_INT(munmap_s3((void *)p), 0);
    CHECK_INT(munmap_s3((void *)p), MMAPURL_E_INVALID_ARG); /* twice */
  }
}

/* Mode fork: pages touched before fork(), then a child reads everything,
 * including pages nobody had loaded; then the parent does. */
static void mode_fork(void) {
  const struct tl_object *o = tl_find(&m, BIG);
  unsigned char *want = tl_read_file(o->path, o->size);
  size_t sz, n = (size_t)o->size;
  const unsigned char *p = map_key(o, &sz);
  if (!p)
    return;
  for (size_t off = 0; off < n; off += 7 * 65536 + 3 * PAGE) /* every 7th block or so */
    CHECK_SAME(p, want, off, off + 1, "before fork");
  tl_asan_settle_before_fork();
  pid_t pid = fork();
  if (pid == 0) {
    long long d = first_diff(p, want, 0, n);
    if (d >= 0)
      fprintf(stderr, "fork child: first wrong byte at %lld\n", d);
    _exit(d >= 0 ? 3 : munmap_s3((void *)p) == 0 ? 0 : 4);
  }
  int status = 0;
  CHECK(pid > 0);
  CHECK_INT(tl_wait_bounded(pid, 60, &status), 0);
  tl_explain_status("fork child", status);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK_SAME(p, want, 0, n, "parent after fork");
  unmap(p);
  free(want);
}

/* Mode many: 1000 mappings of the small objects open at once (made by 4
 * threads), each checked at its first, middle and last byte while all are
 * open, then all unmapped. */
#define MANY 1000
static const unsigned char *many_p[MANY];
static const struct tl_object *many_o[MANY];
static unsigned char *many_want[TL_MAX_OBJECTS];
static int many_fail[4];

static void *many_open(void *arg) {
  int t = (int)(intptr_t)arg;
  for (int i = t; i < MANY; i += 4) {
    char url[1100];
    size_t sz = 0;
    int err = 0;
    tl_url(url, sizeof url, many_o[i]->key);
    void *p = mmap_s3(url, &sz, &err);
    if (p == MAP_FAILED || sz != many_o[i]->size) {
      fprintf(stderr, "mapping %d (%s): %p, size %zu, err %d\n", i, url, p, sz, err);
      many_fail[t]++;
      p = NULL;
    }
    many_p[i] = p;
  }
  return NULL;
}

static void mode_many(void) {
  int small[TL_MAX_OBJECTS], nsmall = 0;
  for (int i = 0; i < m.n; i++)
    if (m.o[i].size > 0 && m.o[i].size <= 65537) {
      small[nsmall++] = i;
      many_want[i] = tl_read_file(m.o[i].path, m.o[i].size);
    }
  CHECK(nsmall > 5);
  if (nsmall == 0)
    return;
  for (int i = 0; i < MANY; i++)
    many_o[i] = &m.o[small[i % nsmall]];
  struct mmapurl_stats s0, s1;
  mmapurl_stats_get(&s0);
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    CHECK_INT(pthread_create(&t[i], NULL, many_open, (void *)(intptr_t)i), 0);
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    CHECK_INT(many_fail[i], 0);
  }
  mmapurl_stats_get(&s1);
  CHECK_INT(s1.objects_opened - s0.objects_opened, MANY);
  int open = 0, wrong = 0;
  for (int i = 0; i < MANY; i++) {
    if (!many_p[i])
      continue;
    open++;
    size_t n = (size_t)many_o[i]->size;
    const size_t at[3] = {0, n / 2, n - 1};
    const unsigned char *want = many_want[many_o[i] - m.o];
    for (int k = 0; k < 3; k++)
      wrong += many_p[i][at[k]] != want[at[k]];
  }
  CHECK_INT(open, MANY);
  CHECK_INT(wrong, 0);
  for (int i = 0; i < MANY; i++)
    if (many_p[i])
      unmap(many_p[i]);
  for (int i = 0; i < m.n; i++)
    free(many_want[i]);
}

/* Run examples/mmap_to_stdout on BIG with its standard output on a file
 * (to_file) or a pipe, and compare what it wrote with the local copy. Its
 * write()s read straight from the mapping: kernel-mode faults. */
static void stdout_case(const char *prog, int to_file) {
  const struct tl_object *o = tl_find(&m, BIG);
  unsigned char *want = tl_read_file(o->path, o->size);
  char dir[] = "/tmp/mmaptest-stdout-XXXXXX", out[64], url[1100];
  int fds[2] = {-1, -1}, fd = -1;
  tl_url(url, sizeof url, o->key);
  if (to_file) {
    CHECK(mkdtemp(dir) != NULL);
    snprintf(out, sizeof out, "%s/out", dir);
    fd = open(out, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
  } else {
    CHECK_INT(pipe2(fds, O_CLOEXEC), 0);
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(to_file ? fd : fds[1], STDOUT_FILENO);
    execl(prog, prog, url, (char *)NULL);
    perror(prog);
    _exit(127);
  }
  unsigned char *got = malloc(o->size + 1);
  size_t n = 0;
  if (!to_file) {
    close(fds[1]);
    ssize_t r;
    while ((r = read(fds[0], got + n, o->size + 1 - n)) > 0)
      n += (size_t)r;
    close(fds[0]);
  }
  int status = 0;
  CHECK_INT(tl_wait_bounded(pid, 60, &status), 0);
  tl_explain_status(to_file ? "mmap_to_stdout > file" : "mmap_to_stdout | pipe", status);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (to_file) {
    ssize_t r;
    while ((r = pread(fd, got + n, o->size + 1 - n, (off_t)n)) > 0)
      n += (size_t)r;
    close(fd);
    unlink(out);
    rmdir(dir);
  }
  CHECK_INT(n, o->size);
  CHECK(n == o->size && memcmp(got, want, n) == 0);
  free(got);
  free(want);
}

/* Mode stdout: as the caller (root here: faults served inside write()). */
static void mode_stdout(const char *prog) {
  stdout_case(prog, 1);
  stdout_case(prog, 0);
}

/* Mode unpriv: the exact mode's core and mmap_to_stdout as an unprivileged
 * user; the userfaultfd mode is the one such a process can get
 * (user-mode-only here: vm.unprivileged_userfaultfd=0, /dev/userfaultfd
 * 0600 root). */
static int mode_unpriv(const char *prog) {
  if (geteuid() == 0) {
    fprintf(stderr, "unpriv: running as root; run me through setpriv\n");
    return 77;
  }
  fprintf(stderr, "unpriv: uid %d, expecting userfaultfd mode %s\n", (int)geteuid(),
          tl_expected_uffd_mode());
  mode_exact(); /* checks stats.uffd_mode */
  mode_stdout(prog);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MANIFEST MODE [MMAP_TO_STDOUT]\n", argv[0]);
    return 2;
  }
  tl_manifest_load(argv[1], &m);
  const char *mode = argv[2];
  if (!strcmp(mode, "exact"))
    mode_exact();
  else if (!strcmp(mode, "fork"))
    mode_fork();
  else if (!strcmp(mode, "many"))
    mode_many();
  else if (!strcmp(mode, "stdout") && argc > 3)
    mode_stdout(argv[3]);
  else if (!strcmp(mode, "unpriv") && argc > 3) {
    int rc = mode_unpriv(argv[3]);
    if (rc)
      return rc;
  } else {
    fprintf(stderr, "unknown mode %s (or missing argument)\n", mode);
    return 2;
  }
  return check_done();
}
