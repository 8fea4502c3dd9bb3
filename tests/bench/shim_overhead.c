/*
 * shim_overhead.c - benchmark of what the LD_PRELOAD shim costs programs on
 * local files: loops open+fstat+read(4 KiB)+close over a set of small files,
 * stat() over the same files, and a 1 MiB sequential read (64 KiB read()s),
 * and prints nanoseconds per operation. scripts/bench-shim-overhead runs it
 * with and without the shim and compares. It only prints, never judges, and
 * never touches a file outside the scratch directory it makes and removes.
 *
 *   shim_overhead [-n ITERATIONS] [-f FILES] [-d PARENT_DIR]
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SMALL_SIZE (16 * 1024)
#define BIG_SIZE (1024 * 1024)
#define CHUNK (64 * 1024)
#define MAX_FILES 1024

struct bench {
  char dir[PATH_MAX];
  char small[MAX_FILES][PATH_MAX + 32];
  char big[PATH_MAX + 32];
  int nfiles;
  long iterations;
};

static unsigned char buf[CHUNK];

/* Print what failed with errno and exit 1 (a benchmark has no recovery). */
static void die(const char *what, const char *path) {
  fprintf(stderr, "shim_overhead: %s %s: %s\n", what, path, strerror(errno));
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Write size bytes of a fixed pattern to a new file at path. */
static void make_file(const char *path, size_t size) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    die("create", path);
  memset(buf, 'm', sizeof buf);
  for (size_t done = 0; done < size;) {
    size_t n = size - done < sizeof buf ? size - done : sizeof buf;
    ssize_t w = write(fd, buf, n);
    if (w <= 0)
      die("write", path);
    done += (size_t)w;
  }
  if (close(fd) != 0)
    die("close", path);
}

/* One open+fstat+read(4 KiB)+close of small file i. */
static void op_open_read(const struct bench *b, long i) {
  const char *path = b->small[i % b->nfiles];
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0 || read(fd, buf, 4096) != 4096)
    die("open/fstat/read", path);
  close(fd);
}

/* One stat() of small file i. */
static void op_stat(const struct bench *b, long i) {
  struct stat st;
  if (stat(b->small[i % b->nfiles], &st) != 0 || st.st_size != SMALL_SIZE)
    die("stat", b->small[i % b->nfiles]);
}

/* One open, read of the whole 1 MiB file in 64 KiB read()s, close. */
static void op_read_big(const struct bench *b, long i) {
  size_t total = 0;
  ssize_t n;
  int fd = open(b->big, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    die("open", b->big);
  while ((n = read(fd, buf, sizeof buf)) > 0)
    total += (size_t)n;
  if (n < 0 || total != BIG_SIZE)
    die("read", b->big);
  close(fd);
}

/* Run op iterations times after a tenth as many warm-up rounds; print the
 * mean ns per operation as one table row. */
static void measure(const struct bench *b, const char *name, long iterations,
                    void (*op)(const struct bench *, long)) {
  for (long i = 0; i < iterations / 10; i++)
    op(b, i);
  uint64_t t0 = now_ns();
  for (long i = 0; i < iterations; i++)
    op(b, i);
  uint64_t t1 = now_ns();
  printf("%-24s %12ld %14.1f\n", name, iterations, (double)(t1 - t0) / (double)iterations);
}

/* Parse a positive decimal option value, or exit 2. */
static long positive(const char *opt, const char *s, long max) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < 1 || v > max) {
    fprintf(stderr, "shim_overhead: %s '%s': must be from 1 to %ld\n", opt, s, max);
    exit(2);
  }
  return v;
}

/* Make the scratch directory and its files under parent. */
static void setup(struct bench *b, const char *parent) {
  snprintf(b->dir, sizeof b->dir, "%s/shim-overhead.XXXXXX", parent);
  if (!mkdtemp(b->dir))
    die("mkdtemp", b->dir);
  for (int i = 0; i < b->nfiles; i++) {
    snprintf(b->small[i], sizeof b->small[i], "%s/small-%d", b->dir, i);
    make_file(b->small[i], SMALL_SIZE);
  }
  snprintf(b->big, sizeof b->big, "%s/big", b->dir);
  make_file(b->big, BIG_SIZE);
}

static void teardown(const struct bench *b) {
  for (int i = 0; i < b->nfiles; i++)
    unlink(b->small[i]);
  unlink(b->big);
  rmdir(b->dir);
}

int main(int argc, char **argv) {
  static struct bench b = {.nfiles = 16, .iterations = 100000};
  const char *parent = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  int c;
  while ((c = getopt(argc, argv, "n:f:d:")) != -1) {
    if (c == 'n')
      b.iterations = positive("-n", optarg, 1000000000L);
    else if (c == 'f')
      b.nfiles = (int)positive("-f", optarg, MAX_FILES);
    else if (c == 'd')
      parent = optarg;
    else {
      fprintf(stderr, "usage: shim_overhead [-n ITERATIONS] [-f FILES] [-d PARENT_DIR]\n");
      return 2;
    }
  }
  setup(&b, parent);
  printf("# %d files of %d KiB, 1 MiB file read in %d KiB read()s; mean of each row\n",
         b.nfiles, SMALL_SIZE / 1024, CHUNK / 1024);
  printf("%-24s %12s %14s\n", "operation", "iterations", "ns/op");
  measure(&b, "open_fstat_read4k_close", b.iterations, op_open_read);
  measure(&b, "stat", b.iterations, op_stat);
  measure(&b, "read_1mib_seq", b.iterations / 64 > 0 ? b.iterations / 64 : 1, op_read_big);
  teardown(&b);
  return 0;
}
