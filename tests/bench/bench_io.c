/*
 * bench_io - scripts/bench's plain-libc helper. It never links libmmapurl:
 * run under `mmapurl-run` it reads /s3/... through the shim, on an s3fs mount
 * through FUSE, and on a local file as the reference. Each command prints one
 * line of KEY=VALUE pairs on stdout.
 *
 *   bench_io run -r RESULT [-o OUT] -- CMD ARGS...
 *       run CMD (stdout to OUT if given), wait4() it and write
 *       "wall=S user=S sys=S maxrss_kb=N status=N" to RESULT; exits 0 unless
 *       CMD could not be started (CMD's status is in RESULT).
 *   bench_io pread PATH N SEED [REF_URL]
 *       N preads of 4 KiB at fixed-seed page offsets:
 *       "reads= p50_us= p90_us= p99_us= mean_us= wall= size= fold=" (wall:
 *       the preads' sum); with REF_URL, each pread after a reference GET
 *       (bench_ref.h): "ref_p50_us=" too
 *   bench_io threads PATH T       T threads, each pread()s its 1/T of the file
 *       in 1 MiB chunks: "threads= wall= bytes= fold=" (page fold)
 *   bench_io first PATH           open + pread 4 KiB at 0: "ttfb_us= fold="
 *   bench_io fold PATH            page fold of a whole file: "size= fold="
 *
 * Folds are defined in bench_common.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"
#include "bench_ref.h"

#define CHUNK (1u << 20)

static void die(const char *what, const char *arg) {
  fprintf(stderr, "bench_io: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
  exit(1);
}

static int open_size(const char *path, uint64_t *size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    die("open", path);
  struct stat st;
  if (fstat(fd, &st) < 0)
    die("fstat", path);
  *size = (uint64_t)st.st_size;
  return fd;
}

/* pread exactly len bytes (short reads continue); 0 or -1. */
static int pread_full(int fd, unsigned char *buf, size_t len, uint64_t off) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      if (n == 0)
        errno = EIO;
      return -1;
    }
    got += (size_t)n;
  }
  return 0;
}

/* Page fold of [off, off+len) given its bytes (off page-aligned). */
static uint64_t fold_range(const unsigned char *p, size_t len, uint64_t off) {
  uint64_t f = 0;
  for (size_t i = 0; i < len; i += MU_PAGE)
    f ^= mu_page_term((off + i) / MU_PAGE, p + i, len - i);
  return f;
}

static int cmd_run(int argc, char **argv) {
  const char *result = NULL, *out = NULL;
  int i = 0;
  for (; i < argc; i++) {
    if (!strcmp(argv[i], "-r") && i + 1 < argc)
      result = argv[++i];
    else if (!strcmp(argv[i], "-o") && i + 1 < argc)
      out = argv[++i];
    else if (!strcmp(argv[i], "--")) {
      i++;
      break;
    } else
      break;
  }
  if (!result || i >= argc) {
    fprintf(stderr, "usage: bench_io run -r RESULT [-o OUT] -- CMD ARGS...\n");
    return 2;
  }
  double t0 = mu_now();
  pid_t pid = fork();
  if (pid < 0)
    die("fork", NULL);
  if (pid == 0) {
    if (out) {
      int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
        die("open", out);
    }
    execvp(argv[i], argv + i);
    fprintf(stderr, "bench_io: exec %s: %s\n", argv[i], strerror(errno));
    _exit(127);
  }
  int status;
  struct rusage ru;
  while (wait4(pid, &status, 0, &ru) < 0)
    if (errno != EINTR)
      die("wait4", NULL);
  double wall = mu_now() - t0;
  FILE *f = fopen(result, "w");
  if (!f)
    die("open", result);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  fprintf(f, "wall=%.6f user=%.6f sys=%.6f maxrss_kb=%ld status=%d\n", wall,
          (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
          (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss,
          code);
  if (fclose(f) != 0)
    die("write", result);
  return code == 127 ? 1 : 0;
}

/* With ref_url, each pread is preceded by a reference GET of another page
 * from ref_url (bench_ref.h), timed apart: ref_p50_us. */
static int cmd_pread(const char *path, size_t n, uint64_t seed, const char *ref_url) {
  uint64_t size;
  struct mu_ref r;
  if (ref_url && mu_ref_open(&r, ref_url) != 0)
    return 1;
  int fd = open_size(path, &size);
  if (size < MU_PAGE) {
    fprintf(stderr, "bench_io: %s is smaller than 4 KiB\n", path);
    return 1;
  }
  uint64_t *off = mu_offsets(size, n, seed);
  double *lat = malloc(n * sizeof *lat), *rlat = malloc(n * sizeof *rlat);
  unsigned char buf[MU_PAGE];
  uint64_t fold = 0;
  double sum = 0, wall = 0;
  if (!off || !lat || !rlat)
    die("malloc", NULL);
  for (size_t i = 0; i < n; i++) {
    if (ref_url) {
      double a = mu_now();
      if (mu_ref_get(&r, off[(i + n / 2) % n]) < 0)
        die("reference GET", ref_url);
      rlat[i] = (mu_now() - a) * 1e6;
    }
    double a = mu_now();
    if (pread_full(fd, buf, MU_PAGE, off[i]) < 0)
      die("pread", path);
    lat[i] = (mu_now() - a) * 1e6;
    sum += lat[i];
    wall += lat[i] / 1e6;
    fold += mu_read_term(buf, MU_PAGE, off[i]);
  }
  double p50 = mu_pct(lat, n, 50), p90 = mu_pct(lat, n, 90), p99 = mu_pct(lat, n, 99);
  printf("reads=%zu p50_us=%.1f p90_us=%.1f p99_us=%.1f mean_us=%.1f wall=%.6f size=%" PRIu64
         " fold=%016" PRIx64,
         n, p50, p90, p99, n ? sum / (double)n : 0, wall, size, fold);
  if (ref_url) {
    printf(" ref_p50_us=%.1f", mu_pct(rlat, n, 50));
    mu_ref_close(&r);
  }
  printf("\n");
  close(fd);
  free(off);
  free(lat);
  free(rlat);
  return 0;
}

struct slice {
  int fd;
  uint64_t off, len, fold;
  const char *path;
};

static void *slice_main(void *arg) {
  struct slice *s = arg;
  unsigned char *buf = malloc(CHUNK);
  if (!buf)
    die("malloc", NULL);
  for (uint64_t o = s->off; o < s->off + s->len;) {
    size_t n = s->off + s->len - o < CHUNK ? (size_t)(s->off + s->len - o) : CHUNK;
    if (pread_full(s->fd, buf, n, o) < 0)
      die("pread", s->path);
    s->fold ^= fold_range(buf, n, o);
    o += n;
  }
  free(buf);
  return NULL;
}

static int cmd_threads(const char *path, int t) {
  uint64_t size;
  int fd = open_size(path, &size);
  struct slice s[64];
  pthread_t th[64];
  uint64_t pages = (size + MU_PAGE - 1) / MU_PAGE, fold = 0;
  double t0 = mu_now();
  for (int i = 0; i < t; i++) {
    uint64_t a = pages * (uint64_t)i / (uint64_t)t * MU_PAGE;
    uint64_t b = pages * (uint64_t)(i + 1) / (uint64_t)t * MU_PAGE;
    if (b > size)
      b = size;
    s[i] = (struct slice){fd, a, b > a ? b - a : 0, 0, path};
    if (pthread_create(&th[i], NULL, slice_main, &s[i]) != 0)
      die("pthread_create", NULL);
  }
  for (int i = 0; i < t; i++) {
    pthread_join(th[i], NULL);
    fold ^= s[i].fold;
  }
  printf("threads=%d wall=%.6f bytes=%" PRIu64 " fold=%016" PRIx64 "\n", t, mu_now() - t0, size,
         fold);
  close(fd);
  return 0;
}

static int cmd_first(const char *path) {
  unsigned char buf[MU_PAGE];
  double t0 = mu_now();
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    die("open", path);
  ssize_t n = pread(fd, buf, sizeof buf, 0);
  double t1 = mu_now();
  if (n <= 0)
    die("pread", path);
  printf("ttfb_us=%.1f bytes=%zd fold=%016" PRIx64 "\n", (t1 - t0) * 1e6, n,
         mu_read_term(buf, (size_t)n, 0));
  close(fd);
  return 0;
}

static int cmd_fold(const char *path) {
  uint64_t size;
  int fd = open_size(path, &size);
  struct slice s = {fd, 0, size, 0, path};
  slice_main(&s);
  printf("size=%" PRIu64 " fold=%016" PRIx64 "\n", size, s.fold);
  close(fd);
  return 0;
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "";
  if (!strcmp(cmd, "run"))
    return cmd_run(argc - 2, argv + 2);
  if (!strcmp(cmd, "pread") && (argc == 5 || argc == 6))
    return cmd_pread(argv[2], strtoul(argv[3], NULL, 10), strtoull(argv[4], NULL, 10),
                     argc == 6 ? argv[5] : NULL);
  if (!strcmp(cmd, "threads") && argc == 4) {
    long t = strtol(argv[3], NULL, 10);
    if (t < 1 || t > 64)
      return 2;
    return cmd_threads(argv[2], (int)t);
  }
  if (!strcmp(cmd, "first") && argc == 3)
    return cmd_first(argv[2]);
  if (!strcmp(cmd, "fold") && argc == 3)
    return cmd_fold(argv[2]);
  fprintf(stderr, "usage: bench_io run|pread|threads|first|fold ... (see bench_io.c)\n");
  return 2;
}
