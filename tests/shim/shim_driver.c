/*
 * shim_driver.c - the LD_PRELOAD shim (libmmapurl_shim.so) exercised from C:
 * every interposed call family a program uses on /s3/shim-test (open, read,
 * pread/readv, lseek, stat/statx, access, realpath, dup/fcntl, mmap, the
 * write refusals, stdio, directories, chdir, fork, exec/posix_spawn with an
 * fd of ours as stdin, threads), each byte compared with the local copy of
 * the object read through the same libc calls (paths outside /s3 pass
 * through the shim untouched). Built with the project's flags, so in a
 * -DMMAPURL_SANITIZE=ON build it carries the ASan/UBSan runtime itself and
 * the sanitized shim is checked from inside an instrumented program (the
 * shell tests cannot do that: see CMakeLists.txt).
 *
 *   shim_driver SHIM_LIB LOCAL_OBJECTS_DIR   (under tests/with-env ENVFILE)
 *
 * It re-executes itself with LD_PRELOAD=SHIM_LIB (MU_SHIM_DRIVER_PRELOADED
 * marks the second run), so only this instrumented program ever loads the
 * shim, never with-env's bash. "--child-stdin OFFSET LOCAL" is the mode its
 * exec checks start it in. Exit status: the number of failed CHECKs; 77 when
 * the fixture (S3 endpoint, local copies) is unreachable.
 *
 * Must never link the core (only libc; the shim is preloaded), never write
 * under /s3 except to check that it is refused, never hide a wrong byte or
 * a sanitizer report, and must stay leak-free (it runs under detect_leaks=1).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "shim_driver_abi.h"

#define MARKER "MU_SHIM_DRIVER_PRELOADED"
#define B "/s3/shim-test"
#define RANDOM_SIZE (3 * 1048576 + 12345)

extern char **environ;

static const char *local_dir;   /* the local copies of bucket shim-test */
static char self_exe[PATH_MAX]; /* this program, for the exec checks */
static const char *cur = "setup";

/* ---- reporting ------------------------------------------------------------ */

#define FAILF(...)                                                   \
  do {                                                               \
    fprintf(stderr, "%s:%d: [%s] ", __FILE__, __LINE__, cur);        \
    fprintf(stderr, __VA_ARGS__);                                    \
    fputc('\n', stderr);                                             \
    check_failures++;                                                \
  } while (0)

/* expr must succeed (not -1). */
#define EXPECT_OK(expr)                                                                   \
  do {                                                                                    \
    errno = 0;                                                                            \
    long long ok_r_ = (long long)(expr);                                                  \
    if (ok_r_ == -1)                                                                      \
      FAILF("%s failed: %s", #expr, strerror(errno));                                     \
  } while (0)

/* expr must fail: -1 with errno err. */
#define EXPECT_ERR(expr, err)                                                             \
  do {                                                                                    \
    errno = 0;                                                                            \
    long long er_r_ = (long long)(expr);                                                  \
    int er_e_ = errno;                                                                    \
    if (er_r_ != -1 || er_e_ != (err))                                                    \
      FAILF("%s: want -1 with errno %s, got %lld (errno %d %s)", #expr, strerror(err),   \
            er_r_, er_e_, er_r_ == -1 ? strerror(er_e_) : "-");                           \
  } while (0)

/* expr (a pointer) must be NULL with errno err. */
#define EXPECT_NULL_ERR(expr, err)                                                        \
  do {                                                                                    \
    errno = 0;                                                                            \
    const void *en_p_ = (const void *)(expr);                                             \
    int en_e_ = errno;                                                                    \
    if (en_p_ != NULL || en_e_ != (err))                                                  \
      FAILF("%s: want NULL with errno %s, got %p (errno %d %s)", #expr, strerror(err),   \
            en_p_, en_e_, strerror(en_e_));                                               \
  } while (0)

/* got[0..n) must equal want[0..n); off is the position in the object. */
static int same_bytes(const char *what, const void *got, const void *want, size_t n,
                      uint64_t off) {
  if (n == 0 || memcmp(got, want, n) == 0)
    return 1;
  const unsigned char *g = got, *w = want;
  size_t i = 0;
  while (g[i] == w[i])
    i++;
  FAILF("%s: wrong bytes: %zu bytes at offset %llu differ first at offset %llu "
        "(got 0x%02x, want 0x%02x)",
        what, n, (unsigned long long)off, (unsigned long long)(off + i), g[i], w[i]);
  return 0;
}

/* ---- local copies ---------------------------------------------------------- */

struct blob {
  unsigned char *p;
  size_t n;
};

static char *local_path(const char *key) {
  size_t n = strlen(local_dir) + strlen(key) + 2;
  char *s = malloc(n);
  if (!s) {
    perror("malloc");
    exit(1);
  }
  snprintf(s, n, "%s/%s", local_dir, key);
  return s;
}

/* The whole file at path (malloc'ed, never NULL); exits when unreadable. */
static struct blob read_file(const char *path) {
  struct blob b = {0};
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    fprintf(stderr, "shim_driver: %s: %s\n", path, strerror(errno));
    exit(1);
  }
  b.p = malloc((size_t)st.st_size + 1);
  if (!b.p) {
    perror("malloc");
    exit(1);
  }
  while (b.n < (size_t)st.st_size) {
    ssize_t r = read(fd, b.p + b.n, (size_t)st.st_size - b.n);
    if (r <= 0) {
      fprintf(stderr, "shim_driver: reading %s: %s\n", path, r ? strerror(errno) : "EOF");
      exit(1);
    }
    b.n += (size_t)r;
  }
  close(fd);
  return b;
}

static struct blob local(const char *key) {
  char *p = local_path(key);
  struct blob b = read_file(p);
  free(p);
  return b;
}

static void blob_free(struct blob *b) {
  free(b->p);
  b->p = NULL;
  b->n = 0;
}

/* The manifest (LOCAL.tsv): key, size, Last-Modified, ETag per object. */
struct entry {
  char key[256];
  unsigned long long size;
  long long mtime;
};
static struct entry manifest[64];
static size_t nmanifest;

static void load_manifest(void) {
  size_t n = strlen(local_dir) + 5;
  char *path = malloc(n);
  if (!path)
    exit(1);
  snprintf(path, n, "%s.tsv", local_dir);
  FILE *fp = fopen(path, "re");
  if (!fp) {
    fprintf(stderr, "shim_driver: %s: %s (the shim_objects fixture did not run)\n", path,
            strerror(errno));
    free(path);
    exit(77);
  }
  char line[1024];
  while (fgets(line, sizeof line, fp) && nmanifest < sizeof manifest / sizeof manifest[0]) {
    struct entry *e = &manifest[nmanifest];
    char *tab = strchr(line, '\t');
    if (!tab || (size_t)(tab - line) >= sizeof e->key)
      continue;
    memcpy(e->key, line, (size_t)(tab - line));
    e->key[tab - line] = '\0';
    if (sscanf(tab + 1, "%llu\t%lld", &e->size, &e->mtime) == 2)
      nmanifest++;
  }
  fclose(fp);
  free(path);
}

static const struct entry *manifest_get(const char *key) {
  for (size_t i = 0; i < nmanifest; i++)
    if (strcmp(manifest[i].key, key) == 0)
      return &manifest[i];
  FAILF("%s is not in the manifest", key);
  return NULL;
}

/* ---- helpers --------------------------------------------------------------- */

/* Read fd to EOF in odd-sized chunks; compare with want (from offset from). */
static void read_loop_check(int fd, const struct blob *want, size_t from, const char *what) {
  static const size_t sizes[] = {1, 7, 4093, 65537, 100003, 3, 262147, 131072, 5};
  size_t cap = want->n - from + 65536, got = 0, k = 0;
  unsigned char *buf = malloc(cap);
  if (!buf)
    exit(1);
  for (;;) {
    size_t want_n = sizes[k++ % (sizeof sizes / sizeof sizes[0])];
    if (want_n > cap - got)
      want_n = cap - got;
    ssize_t r = read(fd, buf + got, want_n);
    if (r < 0) {
      FAILF("%s: read at %zu: %s", what, from + got, strerror(errno));
      break;
    }
    if (r == 0 || want_n == 0)
      break;
    got += (size_t)r;
  }
  if (got != want->n - from)
    FAILF("%s: read %zu bytes to EOF, want %zu", what, got, want->n - from);
  same_bytes(what, buf, want->p + from, got < want->n - from ? got : want->n - from, from);
  char c;
  CHECK_INT(read(fd, &c, 1), 0); /* still at EOF */
  free(buf);
}

/* fd, just opened, must read as want from its start to the end; closed. */
static void read_whole_fd(int fd, const struct blob *want, const char *what) {
  if (fd < 0) {
    FAILF("%s: %s", what, strerror(errno));
    return;
  }
  read_loop_check(fd, want, 0, what);
  close(fd);
}

static int open_ok(const char *path, int flags) {
  int fd = open(path, flags);
  if (fd < 0)
    FAILF("open(%s, 0x%x): %s", path, (unsigned)flags, strerror(errno));
  return fd;
}

static off_t pos(int fd) { return lseek(fd, 0, SEEK_CUR); }

/* A fresh empty local file (unlinked already); its fd. */
static int temp_file(void) {
  char tmpl[] = "/tmp/mu-shim-driver.XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd < 0) {
    FAILF("mkstemp in /tmp: %s", strerror(errno));
    return -1;
  }
  unlink(tmpl);
  return fd;
}

static off_t fd_size(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? st.st_size : -1;
}

/* ---- the checks ------------------------------------------------------------ */

static void t_open_read(void) {
  struct blob rnd = local("random.bin"), c = local("a/b/c.txt"), d = local("a/d.txt");
  CHECK_INT(rnd.n, RANDOM_SIZE);
  int fd = open_ok(B "/random.bin", O_RDONLY);
  if (fd >= 0) {
    read_loop_check(fd, &rnd, 0, "open+read random.bin");
    close(fd);
  }
  fd = open64(B "/random.bin", O_RDONLY | O_CLOEXEC);
  CHECK(fd >= 0);
  if (fd >= 0) {
    CHECK_INT(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    read_loop_check(fd, &rnd, 0, "open64+read random.bin");
    close(fd);
  }
  read_whole_fd(openat(AT_FDCWD, B "/a/b/c.txt", O_RDONLY), &c, "openat(AT_FDCWD) a/b/c.txt");
  /* Relative to a directory fd of ours. */
  int dfd = open_ok(B "/a", O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    read_whole_fd(openat(dfd, "d.txt", O_RDONLY), &d, "openat(dirfd a, d.txt)");
    read_whole_fd(openat(dfd, "b/c.txt", O_RDONLY), &c, "openat(dirfd a, b/c.txt)");
    read_whole_fd(openat(dfd, "../random.bin", O_RDONLY), &rnd,
                  "openat(dirfd a, ../random.bin)");
    EXPECT_ERR(openat(dfd, "missing", O_RDONLY), ENOENT);
    char buf[8];
    EXPECT_ERR(read(dfd, buf, sizeof buf), EISDIR);
    close(dfd);
  }
  /* A directory opened without O_DIRECTORY is still one. */
  dfd = open(B "/a", O_RDONLY);
  CHECK(dfd >= 0);
  if (dfd >= 0) {
    struct stat st;
    EXPECT_OK(fstat(dfd, &st));
    CHECK(S_ISDIR(st.st_mode));
    close(dfd);
  }
  EXPECT_ERR(open(B "/text.txt", O_RDONLY | O_DIRECTORY), ENOTDIR);
  EXPECT_ERR(open(B "/no-such-key", O_RDONLY), ENOENT);
  EXPECT_ERR(open(B "/text.txt/x", O_RDONLY), ENOTDIR);
  EXPECT_ERR(open("/s3/no-such-bucket-mu/x", O_RDONLY), ENOENT);
  blob_free(&rnd);
  blob_free(&c);
  blob_free(&d);
}

/* Every object of the manifest, whole, through read() and through mmap. */
static void t_all_objects(void) {
  for (size_t i = 0; i < nmanifest; i++) {
    const char *key = manifest[i].key;
    if (key[0] && key[strlen(key) - 1] == '/')
      continue; /* a folder marker */
    struct blob want = local(key);
    CHECK_INT(want.n, manifest[i].size);
    char path[512];
    snprintf(path, sizeof path, B "/%s", key);
    int fd = open_ok(path, O_RDONLY);
    if (fd < 0) {
      blob_free(&want);
      continue;
    }
    read_loop_check(fd, &want, 0, path);
    if (want.n) {
      void *m = mmap(NULL, want.n, PROT_READ, MAP_SHARED, fd, 0);
      if (m == MAP_FAILED) {
        FAILF("mmap %s: %s", path, strerror(errno));
      } else {
        same_bytes(path, m, want.p, want.n, 0);
        EXPECT_OK(munmap(m, want.n));
      }
    }
    close(fd);
    blob_free(&want);
  }
}

static void t_pread_readv(void) {
  struct blob rnd = local("random.bin");
  size_t n = rnd.n;
  int fd = open_ok(B "/random.bin", O_RDONLY);
  if (fd < 0) {
    blob_free(&rnd);
    return;
  }
  unsigned char *buf = malloc(300000);
  if (!buf)
    exit(1);
  static const struct {
    size_t off, len;
  } cases[] = {{0, 1},          {1, 65535},      {65535, 2},       {65536, 65536},
               {100000, 299999}, {1048575, 3},    {2097152, 131073}, {RANDOM_SIZE - 10, 10},
               {RANDOM_SIZE - 1, 1}, {12345, 7}};
  CHECK_INT(pos(fd), 0);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    ssize_t r = pread(fd, buf, cases[i].len, (off_t)cases[i].off);
    CHECK_INT(r, cases[i].len);
    if (r > 0)
      same_bytes("pread", buf, rnd.p + cases[i].off, (size_t)r, cases[i].off);
    r = pread64(fd, buf, cases[i].len, (off64_t)cases[i].off);
    CHECK_INT(r, cases[i].len);
    if (r > 0)
      same_bytes("pread64", buf, rnd.p + cases[i].off, (size_t)r, cases[i].off);
  }
  /* Clipped at the end, nothing past it, EINVAL before the start. */
  CHECK_INT(pread(fd, buf, 1000, (off_t)n - 100), 100);
  same_bytes("pread at the end", buf, rnd.p + n - 100, 100, n - 100);
  CHECK_INT(pread(fd, buf, 1000, (off_t)n), 0);
  CHECK_INT(pread(fd, buf, 1000, (off_t)n + 4096), 0);
  EXPECT_ERR(pread(fd, buf, 10, -1), EINVAL);
  CHECK_INT(pos(fd), 0); /* pread never moves the offset */

  /* readv at the offset, which advances. */
  CHECK_INT(lseek(fd, 777, SEEK_SET), 777);
  unsigned char *a = buf, *b = buf + 10, *c = buf + 100000;
  struct iovec iov[3] = {{a, 3}, {b, 65536}, {c, 1000}};
  CHECK_INT(readv(fd, iov, 3), 3 + 65536 + 1000);
  same_bytes("readv iov[0]", a, rnd.p + 777, 3, 777);
  same_bytes("readv iov[1]", b, rnd.p + 780, 65536, 780);
  same_bytes("readv iov[2]", c, rnd.p + 780 + 65536, 1000, 780 + 65536);
  off_t after = 777 + 3 + 65536 + 1000;
  CHECK_INT(pos(fd), after);
  /* preadv at an offset: the fd's offset stays. */
  CHECK_INT(preadv(fd, iov, 3, 1048570), 3 + 65536 + 1000);
  same_bytes("preadv iov[0]", a, rnd.p + 1048570, 3, 1048570);
  same_bytes("preadv iov[1]", b, rnd.p + 1048573, 65536, 1048573);
  same_bytes("preadv iov[2]", c, rnd.p + 1048573 + 65536, 1000, 1048573 + 65536);
  CHECK_INT(pos(fd), after);
  /* preadv across the end: short. */
  CHECK_INT(preadv(fd, iov, 3, (off_t)n - 50), 50);
  same_bytes("preadv at the end", a, rnd.p + n - 50, 3, n - 50);
  same_bytes("preadv at the end", b, rnd.p + n - 47, 47, n - 47);
  EXPECT_ERR(preadv(fd, iov, 3, -5), EINVAL);
  /* preadv2 at an offset, and with -1: the fd's offset, advanced. */
  CHECK_INT(preadv2(fd, iov, 3, 5, 0), 3 + 65536 + 1000);
  same_bytes("preadv2(5) iov[1]", b, rnd.p + 8, 65536, 8);
  CHECK_INT(pos(fd), after);
  CHECK_INT(preadv2(fd, iov, 3, -1, 0), 3 + 65536 + 1000);
  same_bytes("preadv2(-1) iov[0]", a, rnd.p + after, 3, (uint64_t)after);
  same_bytes("preadv2(-1) iov[1]", b, rnd.p + after + 3, 65536, (uint64_t)after + 3);
  same_bytes("preadv2(-1) iov[2]", c, rnd.p + after + 3 + 65536, 1000,
             (uint64_t)after + 3 + 65536);
  CHECK_INT(pos(fd), after + 3 + 65536 + 1000);
  /* readv at EOF: 0. */
  CHECK_INT(lseek(fd, 0, SEEK_END), (off_t)n);
  CHECK_INT(readv(fd, iov, 3), 0);
  close(fd);
  free(buf);
  blob_free(&rnd);
}

static void t_lseek(void) {
  struct blob rnd = local("random.bin");
  off_t n = (off_t)rnd.n;
  int fd = open_ok(B "/random.bin", O_RDONLY);
  if (fd < 0) {
    blob_free(&rnd);
    return;
  }
  unsigned char buf[4096];
  CHECK_INT(lseek(fd, 100, SEEK_SET), 100);
  CHECK_INT(read(fd, buf, 50), 50);
  same_bytes("read after SEEK_SET 100", buf, rnd.p + 100, 50, 100);
  CHECK_INT(lseek(fd, 1000, SEEK_CUR), 1150);
  CHECK_INT(lseek(fd, -150, SEEK_CUR), 1000);
  CHECK_INT(read(fd, buf, 10), 10);
  same_bytes("read after SEEK_CUR", buf, rnd.p + 1000, 10, 1000);
  CHECK_INT(lseek(fd, -10, SEEK_END), n - 10);
  CHECK_INT(read(fd, buf, sizeof buf), 10);
  same_bytes("read after SEEK_END -10", buf, rnd.p + n - 10, 10, (uint64_t)n - 10);
  CHECK_INT(lseek(fd, 0, SEEK_END), n);
  CHECK_INT(read(fd, buf, 1), 0);
  CHECK_INT(lseek(fd, 100, SEEK_END), n + 100); /* past the end is allowed */
  CHECK_INT(read(fd, buf, 1), 0);
  CHECK_INT(lseek(fd, 5, SEEK_DATA), 5);
  CHECK_INT(lseek(fd, 5, SEEK_HOLE), n);
  CHECK_INT(lseek(fd, n - 1, SEEK_DATA), n - 1);
  EXPECT_ERR(lseek(fd, n, SEEK_DATA), ENXIO);
  EXPECT_ERR(lseek(fd, n, SEEK_HOLE), ENXIO);
  EXPECT_ERR(lseek(fd, n + 10, SEEK_DATA), ENXIO);
  CHECK_INT(lseek(fd, 42, SEEK_SET), 42);
  EXPECT_ERR(lseek(fd, -1, SEEK_SET), EINVAL);
  EXPECT_ERR(lseek(fd, -100, SEEK_CUR), EINVAL);
  EXPECT_ERR(lseek(fd, 0, 12345), EINVAL);
  CHECK_INT(pos(fd), 42); /* failed seeks leave it */
  CHECK_INT(lseek64(fd, 2097152, SEEK_SET), 2097152);
  CHECK_INT(read(fd, buf, sizeof buf), sizeof buf);
  same_bytes("read after lseek64", buf, rnd.p + 2097152, sizeof buf, 2097152);
  close(fd);
  /* The empty object: EOF at once, no data anywhere. */
  fd = open_ok(B "/empty", O_RDONLY);
  if (fd >= 0) {
    CHECK_INT(read(fd, buf, sizeof buf), 0);
    CHECK_INT(lseek(fd, 0, SEEK_END), 0);
    EXPECT_ERR(lseek(fd, 0, SEEK_DATA), ENXIO);
    CHECK_INT(fd_size(fd), 0);
    close(fd);
  }
  blob_free(&rnd);
}

static void check_file_stat(const struct stat *st, const char *key, const char *what) {
  const struct entry *e = manifest_get(key);
  if (!S_ISREG(st->st_mode))
    FAILF("%s %s: mode 0%o is not S_IFREG", what, key, (unsigned)st->st_mode);
  if (e && (unsigned long long)st->st_size != e->size)
    FAILF("%s %s: size %lld, want %llu", what, key, (long long)st->st_size, e->size);
  if (e && (long long)st->st_mtime != e->mtime)
    FAILF("%s %s: mtime %lld, want the Last-Modified %lld", what, key, (long long)st->st_mtime,
          e->mtime);
  if (st->st_blksize != 65536)
    FAILF("%s %s: st_blksize %ld, want 65536", what, key, (long)st->st_blksize);
  if (st->st_nlink != 1)
    FAILF("%s %s: st_nlink %lu, want 1", what, key, (unsigned long)st->st_nlink);
  if ((st->st_mode & 0222) != 0)
    FAILF("%s %s: mode 0%o is writable", what, key, (unsigned)st->st_mode);
}

static void t_stat(void) {
  static const char *const keys[] = {"random.bin", "text.txt", "a/b/c.txt", "a/d.txt",
                                     "empty", "with space.txt", "db.sqlite"};
  ino_t inos[sizeof keys / sizeof keys[0]];
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    char path[256];
    snprintf(path, sizeof path, B "/%s", keys[i]);
    struct stat st, fst, lst, ast;
    memset(&st, 0, sizeof st);
    inos[i] = 0;
    if (stat(path, &st) != 0) {
      FAILF("stat(%s): %s", path, strerror(errno));
      continue;
    }
    check_file_stat(&st, keys[i], "stat");
    inos[i] = st.st_ino;
    EXPECT_OK(lstat(path, &lst));
    check_file_stat(&lst, keys[i], "lstat");
    CHECK_INT(lst.st_ino, st.st_ino);
    EXPECT_OK(fstatat(AT_FDCWD, path, &ast, 0));
    check_file_stat(&ast, keys[i], "fstatat");
    CHECK_INT(ast.st_ino, st.st_ino);
    int fd = open_ok(path, O_RDONLY);
    if (fd < 0)
      continue;
    EXPECT_OK(fstat(fd, &fst));
    check_file_stat(&fst, keys[i], "fstat");
    if (fst.st_ino != st.st_ino || fst.st_dev != st.st_dev)
      FAILF("%s: fstat gives ino %lu dev %lu, stat ino %lu dev %lu", path,
            (unsigned long)fst.st_ino, (unsigned long)fst.st_dev, (unsigned long)st.st_ino,
            (unsigned long)st.st_dev);
    EXPECT_OK(fstatat(fd, "", &ast, AT_EMPTY_PATH));
    CHECK_INT(ast.st_ino, st.st_ino);
    struct statx sx;
    memset(&sx, 0, sizeof sx);
    EXPECT_OK(statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, &sx));
    CHECK((sx.stx_mask & (STATX_TYPE | STATX_MODE | STATX_SIZE | STATX_INO | STATX_NLINK)) ==
          (STATX_TYPE | STATX_MODE | STATX_SIZE | STATX_INO | STATX_NLINK));
    CHECK(S_ISREG(sx.stx_mode));
    CHECK_INT(sx.stx_size, st.st_size);
    CHECK_INT(sx.stx_ino, st.st_ino);
    CHECK_INT(sx.stx_blksize, 65536);
    CHECK_INT(sx.stx_nlink, 1);
    CHECK_INT(sx.stx_mtime.tv_sec, st.st_mtime);
    memset(&sx, 0, sizeof sx);
    EXPECT_OK(statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
    CHECK_INT(sx.stx_size, st.st_size);
    CHECK_INT(sx.stx_ino, st.st_ino);
    close(fd);
  }
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    for (size_t j = i + 1; j < sizeof keys / sizeof keys[0]; j++)
      if (inos[i] && inos[i] == inos[j])
        FAILF("%s and %s have the same st_ino %lu", keys[i], keys[j], (unsigned long)inos[i]);
  /* Relative to a directory fd of ours. */
  int dfd = open_ok(B "/a", O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    struct stat st;
    EXPECT_OK(fstatat(dfd, "d.txt", &st, 0));
    check_file_stat(&st, "a/d.txt", "fstatat(dirfd a)");
    EXPECT_OK(fstatat(dfd, "b", &st, 0));
    CHECK(S_ISDIR(st.st_mode));
    EXPECT_ERR(fstatat(dfd, "nope", &st, 0), ENOENT);
    struct statx sx;
    EXPECT_OK(statx(dfd, "b/c.txt", 0, STATX_BASIC_STATS, &sx));
    CHECK(S_ISREG(sx.stx_mode));
    CHECK_INT(sx.stx_size, manifest_get("a/b/c.txt") ? manifest_get("a/b/c.txt")->size : 0);
    close(dfd);
  }
  /* Directories: prefixes, the folder marker, the bucket, the root. */
  static const char *const dirs[] = {B "/a", B "/a/", B "/a/b", B "/a/e", B "/a/e/",
                                     B,      B "/",  "/s3",    "/s3/"};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    struct stat st;
    memset(&st, 0, sizeof st);
    if (stat(dirs[i], &st) != 0) {
      FAILF("stat(%s): %s", dirs[i], strerror(errno));
      continue;
    }
    if (!S_ISDIR(st.st_mode))
      FAILF("stat(%s): mode 0%o is not S_IFDIR", dirs[i], (unsigned)st.st_mode);
    struct statx sx;
    EXPECT_OK(statx(AT_FDCWD, dirs[i], 0, STATX_BASIC_STATS, &sx));
    CHECK(S_ISDIR(sx.stx_mode));
  }
  struct stat s1, s2;
  if (stat(B "/a", &s1) == 0 && stat(B "/a/", &s2) == 0)
    CHECK_INT(s1.st_ino, s2.st_ino);
  struct stat st;
  EXPECT_ERR(stat(B "/no-such-key", &st), ENOENT);
  EXPECT_ERR(stat(B "/a/no-such-key", &st), ENOENT);
  EXPECT_ERR(stat(B "/text.txt/x", &st), ENOTDIR);
  EXPECT_ERR(stat(B "/text.txt/", &st), ENOTDIR);
  EXPECT_ERR(lstat(B "/no-such-key", &st), ENOENT);
  struct statx sx;
  EXPECT_ERR(statx(AT_FDCWD, B "/no-such-key", 0, STATX_BASIC_STATS, &sx), ENOENT);
  EXPECT_ERR(stat("/s3/no-such-bucket-mu", &st), ENOENT);
}

static void t_access_realpath(void) {
  EXPECT_OK(access(B "/text.txt", R_OK));
  EXPECT_OK(access(B "/text.txt", F_OK));
  EXPECT_OK(access(B "/a", R_OK | X_OK));
  EXPECT_ERR(access(B "/text.txt", W_OK), EROFS);
  EXPECT_ERR(access(B "/text.txt", R_OK | W_OK), EROFS);
  EXPECT_ERR(access(B "/no-such-key", R_OK), ENOENT);
  EXPECT_OK(faccessat(AT_FDCWD, B "/a/d.txt", R_OK, 0));
  EXPECT_ERR(faccessat(AT_FDCWD, B "/a/d.txt", W_OK, 0), EROFS);
  int dfd = open_ok(B "/a", O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    EXPECT_OK(faccessat(dfd, "d.txt", R_OK, 0));
    EXPECT_OK(faccessat(dfd, "b/c.txt", R_OK, AT_EACCESS));
    EXPECT_ERR(faccessat(dfd, "d.txt", W_OK, 0), EROFS);
    EXPECT_ERR(faccessat(dfd, "nope", R_OK, 0), ENOENT);
    close(dfd);
  }
  char buf[PATH_MAX];
  char *r = realpath("/s3//shim-test/a/../text.txt", buf);
  CHECK(r == buf);
  if (r)
    CHECK_STR(buf, B "/text.txt");
  r = realpath(B "/a/./b//../d.txt", NULL);
  CHECK_STR(r, B "/a/d.txt");
  free(r);
  r = realpath(B "//a/b/", NULL);
  CHECK_STR(r, B "/a/b");
  free(r);
  EXPECT_NULL_ERR(realpath(B "/a/../no-such-key", buf), ENOENT);
  EXPECT_ERR(readlink(B "/text.txt", buf, sizeof buf), EINVAL);
  EXPECT_ERR(readlink(B "/a", buf, sizeof buf), EINVAL);
  EXPECT_ERR(readlink(B "/no-such-key", buf, sizeof buf), ENOENT);
  EXPECT_ERR(readlinkat(AT_FDCWD, B "/a/d.txt", buf, sizeof buf), EINVAL);
}

static void t_dup_fcntl(void) {
  struct blob rnd = local("random.bin");
  int fd = open_ok(B "/random.bin", O_RDONLY);
  if (fd < 0) {
    blob_free(&rnd);
    return;
  }
  unsigned char buf[1000];
  CHECK_INT(read(fd, buf, 100), 100);
  int d1 = dup(fd);
  CHECK(d1 >= 0);
  CHECK_INT(pos(d1), 100);
  CHECK_INT(read(d1, buf, 50), 50);
  same_bytes("read from dup", buf, rnd.p + 100, 50, 100);
  CHECK_INT(pos(fd), 150);
  int d2 = dup2(fd, 100);
  CHECK_INT(d2, 100);
  CHECK_INT(read(d2, buf, 10), 10);
  same_bytes("read from dup2", buf, rnd.p + 150, 10, 150);
  int d3 = dup3(fd, 101, O_CLOEXEC);
  CHECK_INT(d3, 101);
  CHECK_INT(fcntl(d3, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  CHECK_INT(read(d3, buf, 10), 10);
  same_bytes("read from dup3", buf, rnd.p + 160, 10, 160);
  int d4 = fcntl(fd, F_DUPFD_CLOEXEC, 110);
  CHECK(d4 >= 110);
  CHECK_INT(fcntl(d4, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  CHECK_INT(read(d4, buf, 30), 30);
  same_bytes("read from F_DUPFD_CLOEXEC", buf, rnd.p + 170, 30, 170);
  CHECK_INT(pos(fd), 200);
  CHECK_INT(lseek(d2, 5000, SEEK_SET), 5000);
  CHECK_INT(pos(d4), 5000);
  int fl = fcntl(fd, F_GETFL);
  CHECK(fl >= 0);
  CHECK_INT(fl & O_ACCMODE, O_RDONLY);
  struct flock lk = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 100};
  EXPECT_OK(fcntl(fd, F_SETLK, &lk));
  struct flock q = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
  EXPECT_OK(fcntl(fd, F_GETLK, &q));
  CHECK_INT(q.l_type, F_UNLCK);
  lk.l_type = F_UNLCK;
  EXPECT_OK(fcntl(fd, F_SETLK, &lk));
  /* Closing one dup leaves the others. */
  EXPECT_OK(close(d1));
  CHECK_INT(read(fd, buf, 20), 20);
  same_bytes("read after closing a dup", buf, rnd.p + 5000, 20, 5000);
  /* dup2 of a local fd over a number of ours: that number is local now. */
  int lfd = open(local_dir, O_RDONLY | O_DIRECTORY);
  char *tpath = local_path("text.txt");
  int tfd = open(tpath, O_RDONLY);
  free(tpath);
  CHECK(tfd >= 0 && lfd >= 0);
  if (tfd >= 0) {
    CHECK_INT(dup2(tfd, d2), d2);
    struct blob txt = local("text.txt");
    CHECK_INT(read(d2, buf, 100), 100);
    same_bytes("read of a local fd dup2'ed over ours", buf, txt.p, 100, 0);
    CHECK_INT(fd_size(d2), (off_t)txt.n);
    blob_free(&txt);
    close(tfd);
  }
  if (lfd >= 0)
    close(lfd);
  /* close_range: the range goes, the rest stays ours. */
  int lo = fcntl(fd, F_DUPFD, 200), hi = fcntl(fd, F_DUPFD, 210);
  CHECK(lo >= 200 && hi > lo);
  EXPECT_OK(close_range((unsigned)lo, (unsigned)hi, 0));
  EXPECT_ERR(fcntl(lo, F_GETFD), EBADF);
  EXPECT_ERR(fcntl(hi, F_GETFD), EBADF);
  EXPECT_ERR(read(lo, buf, 1), EBADF);
  CHECK_INT(read(d3, buf, 10), 10);
  same_bytes("read after close_range", buf, rnd.p + 5020, 10, 5020);
  /* close_range(CLOSE_RANGE_CLOEXEC) keeps them open and ours. */
  int ce = fcntl(fd, F_DUPFD, 220);
  CHECK(ce >= 220);
  EXPECT_OK(close_range((unsigned)ce, (unsigned)ce, CLOSE_RANGE_CLOEXEC));
  CHECK_INT(fcntl(ce, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  CHECK_INT(read(ce, buf, 10), 10);
  same_bytes("read after CLOSE_RANGE_CLOEXEC", buf, rnd.p + 5030, 10, 5030);
  close(ce);
  close(d2);
  close(d3);
  close(d4);
  close(fd);
  EXPECT_ERR(read(fd, buf, 1), EBADF);
  blob_free(&rnd);
}

static void t_mmap(void) {
  struct blob rnd = local("random.bin");
  size_t n = rnd.n, pg = (size_t)sysconf(_SC_PAGESIZE);
  int fd = open_ok(B "/random.bin", O_RDONLY);
  if (fd < 0) {
    blob_free(&rnd);
    return;
  }
  static const int kinds[] = {MAP_SHARED, MAP_PRIVATE};
  for (size_t k = 0; k < 2; k++) {
    const char *what = kinds[k] == MAP_SHARED ? "mmap MAP_SHARED" : "mmap MAP_PRIVATE";
    unsigned char *m = mmap(NULL, n, PROT_READ, kinds[k], fd, 0);
    if (m == MAP_FAILED) {
      FAILF("%s: %s", what, strerror(errno));
      continue;
    }
    same_bytes(what, m, rnd.p, n, 0);
    EXPECT_OK(madvise(m, n, MADV_WILLNEED));
    same_bytes("after MADV_WILLNEED", m, rnd.p, n, 0);
    EXPECT_OK(madvise(m + 65536, 1048576, MADV_DONTNEED));
    same_bytes("after MADV_DONTNEED", m, rnd.p, n, 0);
    EXPECT_OK(posix_madvise(m, n, POSIX_MADV_SEQUENTIAL));
    EXPECT_OK(munmap(m, n));
    /* A page-aligned offset. */
    size_t off = 5 * pg + 65536;
    m = mmap(NULL, n - off, PROT_READ, kinds[k], fd, (off_t)off);
    if (m == MAP_FAILED) {
      FAILF("%s at offset %zu: %s", what, off, strerror(errno));
      continue;
    }
    same_bytes(what, m, rnd.p + off, n - off, off);
    EXPECT_OK(munmap(m, n - off));
  }
  EXPECT_ERR((intptr_t)mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 1), EINVAL);
  /* A private writable copy: writes stay in it. */
  unsigned char *w = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  if (w == MAP_FAILED) {
    FAILF("mmap MAP_PRIVATE|PROT_WRITE: %s", strerror(errno));
  } else {
    same_bytes("mmap MAP_PRIVATE|PROT_WRITE", w, rnd.p, n, 0);
    memset(w + 4096, 0xA5, 70000);
    w[n - 1] ^= 0xFF;
    CHECK_INT(w[4096 + 69999], 0xA5);
    CHECK_INT(w[n - 1], rnd.p[n - 1] ^ 0xFF);
    unsigned char *buf = malloc(70000);
    if (!buf)
      exit(1);
    CHECK_INT(pread(fd, buf, 70000, 4096), 70000);
    same_bytes("pread after writing a private copy", buf, rnd.p + 4096, 70000, 4096);
    free(buf);
    unsigned char *r = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0);
    if (r == MAP_FAILED) {
      FAILF("mmap after the private write: %s", strerror(errno));
    } else {
      same_bytes("mmap after writing a private copy", r, rnd.p, n, 0);
      EXPECT_OK(munmap(r, n));
    }
    EXPECT_OK(munmap(w, n));
  }
  EXPECT_ERR((intptr_t)mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
  /* A mapping outlives its fd. */
  unsigned char *m = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (m == MAP_FAILED) {
    FAILF("mmap: %s", strerror(errno));
  } else {
    same_bytes("mmap after close(fd)", m, rnd.p, n, 0);
    EXPECT_OK(munmap(m, n));
  }
  /* Not a file: a directory fd. */
  int dfd = open_ok(B "/a", O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    EXPECT_ERR((intptr_t)mmap(NULL, pg, PROT_READ, MAP_SHARED, dfd, 0), ENODEV);
    close(dfd);
  }
  blob_free(&rnd);
}

static void t_refusals(void) {
  int fd = open_ok(B "/text.txt", O_RDONLY);
  if (fd < 0)
    return;
  const char msg[] = "must not be written";
  struct iovec iov = {(void *)msg, sizeof msg};
  EXPECT_ERR(write(fd, msg, sizeof msg), EBADF);
  EXPECT_ERR(pwrite(fd, msg, sizeof msg, 0), EBADF);
  EXPECT_ERR(writev(fd, &iov, 1), EBADF);
  EXPECT_ERR(pwritev(fd, &iov, 1, 0), EBADF);
  EXPECT_ERR(ftruncate(fd, 0), EINVAL);
  EXPECT_ERR(fchmod(fd, 0666), EROFS);
  EXPECT_ERR(fallocate(fd, 0, 0, 4096), EBADF);
  CHECK_INT(pos(fd), 0);
  EXPECT_ERR(open(B "/text.txt", O_WRONLY), EROFS);
  EXPECT_ERR(open(B "/text.txt", O_RDWR), EROFS);
  EXPECT_ERR(open(B "/text.txt", O_RDONLY | O_TRUNC), EROFS);
  EXPECT_ERR(open(B "/text.txt", O_WRONLY | O_APPEND), EROFS);
  EXPECT_ERR(open(B "/new-file", O_WRONLY | O_CREAT, 0644), EROFS);
  EXPECT_ERR(open(B "/new-file", O_RDONLY | O_CREAT, 0644), EROFS);
  EXPECT_ERR(openat(AT_FDCWD, B "/new-file", O_RDWR | O_CREAT | O_EXCL, 0644), EROFS);
  EXPECT_ERR(creat(B "/new-file", 0644), EROFS);
  EXPECT_ERR(mkdir(B "/new-dir", 0755), EROFS);
  EXPECT_ERR(mkdirat(AT_FDCWD, B "/new-dir", 0755), EROFS);
  EXPECT_ERR(rmdir(B "/a/e"), EROFS);
  EXPECT_ERR(unlink(B "/text.txt"), EROFS);
  EXPECT_ERR(unlinkat(AT_FDCWD, B "/text.txt", 0), EROFS);
  EXPECT_ERR(rename(B "/text.txt", B "/text2.txt"), EROFS);
  EXPECT_ERR(rename(B "/text.txt", "/tmp/mu-shim-driver-never"), EROFS);
  EXPECT_ERR(rename("/tmp/mu-shim-driver-never", B "/text2.txt"), EROFS);
  EXPECT_ERR(truncate(B "/text.txt", 0), EROFS);
  EXPECT_ERR(chmod(B "/text.txt", 0666), EROFS);
  EXPECT_ERR(symlink("/etc/passwd", B "/link"), EROFS);
  char tmpl[] = B "/tmp.XXXXXX";
  EXPECT_ERR(mkstemp(tmpl), EROFS);
  char dtmpl[] = B "/dtmp.XXXXXX";
  EXPECT_NULL_ERR(mkdtemp(dtmpl), EROFS);
  /* Copies from our fd fail before anything moves. */
  int out = temp_file();
  if (out >= 0) {
    EXPECT_ERR(copy_file_range(fd, NULL, out, NULL, 100, 0), EXDEV);
    CHECK_INT(fd_size(out), 0);
    off_t o = 0;
    EXPECT_ERR(sendfile(out, fd, &o, 100), EINVAL);
    EXPECT_ERR(sendfile(out, fd, NULL, 100), EINVAL);
    CHECK_INT(fd_size(out), 0);
    CHECK_INT(o, 0);
    /* and into it */
    EXPECT_ERR(sendfile(fd, out, NULL, 100), EBADF);
    EXPECT_ERR(copy_file_range(out, NULL, fd, NULL, 100, 0), EBADF);
    close(out);
  }
  int p[2];
  if (pipe2(p, O_NONBLOCK) == 0) {
    EXPECT_ERR(splice(fd, NULL, p[1], NULL, 100, 0), EINVAL);
    char c;
    EXPECT_ERR(read(p[0], &c, 1), EAGAIN); /* nothing reached the pipe */
    close(p[0]);
    close(p[1]);
  } else {
    FAILF("pipe2: %s", strerror(errno));
  }
  CHECK_INT(pos(fd), 0);
  close(fd);
  /* Nothing appeared. */
  struct stat st;
  EXPECT_ERR(stat(B "/new-file", &st), ENOENT);
  EXPECT_ERR(stat(B "/text2.txt", &st), ENOENT);
  CHECK_INT(stat(B "/text.txt", &st), 0);
  CHECK_INT(st.st_size, manifest_get("text.txt") ? (long long)manifest_get("text.txt")->size : 0);
}

static void t_stdio(void) {
  struct blob txt = local("text.txt");
  FILE *fp = fopen(B "/text.txt", "r");
  if (!fp) {
    FAILF("fopen(text.txt): %s", strerror(errno));
    blob_free(&txt);
    return;
  }
  char buf[8192];
  CHECK_INT(fread(buf, 1, 1000, fp), 1000);
  same_bytes("fread", buf, txt.p, 1000, 0);
  CHECK_INT(ftell(fp), 1000);
  CHECK_INT(fseek(fp, 12345, SEEK_SET), 0);
  CHECK_INT(ftell(fp), 12345);
  if (fgets(buf, sizeof buf, fp)) {
    const unsigned char *nl = memchr(txt.p + 12345, '\n', txt.n - 12345);
    size_t len = nl ? (size_t)(nl - (txt.p + 12345)) + 1 : txt.n - 12345;
    CHECK_INT(strlen(buf), len);
    same_bytes("fgets after fseek", buf, txt.p + 12345, len, 12345);
    CHECK_INT(ftell(fp), 12345 + (long)len);
  } else {
    FAILF("fgets after fseek: %s", strerror(errno));
  }
  CHECK_INT(fseek(fp, -100, SEEK_END), 0);
  CHECK_INT(ftell(fp), (long)txt.n - 100);
  CHECK_INT(fread(buf, 1, sizeof buf, fp), 100);
  same_bytes("fread at the end", buf, txt.p + txt.n - 100, 100, txt.n - 100);
  CHECK(feof(fp));
  CHECK(!ferror(fp));
  rewind(fp);
  /* The whole file line by line. */
  size_t at = 0;
  while (fgets(buf, sizeof buf, fp)) {
    size_t len = strlen(buf);
    if (at + len > txt.n || !same_bytes("fgets loop", buf, txt.p + at, len, at))
      break;
    at += len;
  }
  CHECK_INT(at, txt.n);
  int fd = fileno(fp);
  CHECK(fd > 2);
  CHECK_INT(fd_size(fd), (off_t)txt.n);
  struct stat st;
  EXPECT_OK(fstat(fd, &st));
  CHECK(S_ISREG(st.st_mode));
  EXPECT_OK(fclose(fp));
  EXPECT_ERR(fcntl(fd, F_GETFD), EBADF); /* fclose closed the fd */
  /* fdopen on our fd, at its offset. */
  fd = open_ok(B "/text.txt", O_RDONLY);
  if (fd >= 0) {
    CHECK_INT(lseek(fd, 500, SEEK_SET), 500);
    EXPECT_NULL_ERR(fdopen(fd, "w"), EINVAL); /* as glibc for an O_RDONLY fd */
    fp = fdopen(fd, "r");
    if (!fp) {
      FAILF("fdopen: %s", strerror(errno));
      close(fd);
    } else {
      CHECK_INT(fileno(fp), fd);
      size_t got = fread(buf, 1, 3000, fp);
      CHECK_INT(got, 3000);
      same_bytes("fread after fdopen", buf, txt.p + 500, got, 500);
      int c = fgetc(fp);
      CHECK_INT(c, txt.p[3500]);
      CHECK_INT(ungetc(c, fp), c);
      CHECK_INT(fgetc(fp), txt.p[3500]);
      EXPECT_OK(fclose(fp));
    }
  }
  /* getline over with space.txt */
  struct blob ws = local("with space.txt");
  fp = fopen(B "/with space.txt", "re");
  if (!fp) {
    FAILF("fopen(with space.txt): %s", strerror(errno));
  } else {
    char *line = NULL;
    size_t cap = 0, total = 0;
    ssize_t r;
    while ((r = getline(&line, &cap, fp)) > 0) {
      if (total + (size_t)r > ws.n || !same_bytes("getline", line, ws.p + total, (size_t)r, total))
        break;
      total += (size_t)r;
    }
    CHECK_INT(total, ws.n);
    free(line);
    fclose(fp);
  }
  blob_free(&ws);
  EXPECT_NULL_ERR(fopen(B "/text.txt", "w"), EROFS);
  EXPECT_NULL_ERR(fopen(B "/text.txt", "r+"), EROFS);
  EXPECT_NULL_ERR(fopen(B "/text.txt", "a"), EROFS);
  EXPECT_NULL_ERR(fopen(B "/new-file", "w"), EROFS);
  EXPECT_NULL_ERR(fopen(B "/no-such-key", "r"), ENOENT);
  blob_free(&txt);
}

/* ---- directories ----------------------------------------------------------- */

struct name_type {
  char name[256];
  int is_dir;
};

static int cmp_nt(const void *a, const void *b) {
  return strcmp(((const struct name_type *)a)->name, ((const struct name_type *)b)->name);
}

/* The entries of the local copy of prefix (without "." and ".."), sorted. */
static size_t local_entries(const char *prefix, struct name_type *v, size_t cap) {
  char *path = local_path(prefix);
  DIR *d = opendir(path);
  size_t n = 0;
  if (!d) {
    FAILF("opendir(local %s): %s", path, strerror(errno));
    free(path);
    return 0;
  }
  struct dirent *e;
  while ((e = readdir(d)) && n < cap) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    struct stat st;
    snprintf(v[n].name, sizeof v[n].name, "%s", e->d_name);
    v[n].is_dir = fstatat(dirfd(d), e->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
    n++;
  }
  closedir(d);
  free(path);
  qsort(v, n, sizeof *v, cmp_nt);
  return n;
}

/* Read d to the end: "." and ".." first (DT_DIR), then the entries, which
 * must be those of the local copy of prefix with the right d_type. */
static void check_listing(DIR *d, const char *prefix, const char *what) {
  struct name_type want[64] = {{"", 0}}, got[64] = {{"", 0}};
  size_t nw = local_entries(prefix, want, 64), ng = 0, i = 0;
  struct dirent *e;
  errno = 0;
  while ((e = readdir(d))) {
    if (i < 2) {
      const char *dot = i == 0 ? "." : "..";
      if (strcmp(e->d_name, dot) != 0 || e->d_type != DT_DIR)
        FAILF("%s: entry %zu is \"%s\" (d_type %d), want \"%s\" (DT_DIR)", what, i, e->d_name,
              e->d_type, dot);
    } else if (ng < 64) {
      snprintf(got[ng].name, sizeof got[ng].name, "%s", e->d_name);
      if (e->d_type != DT_DIR && e->d_type != DT_REG)
        FAILF("%s: %s has d_type %d", what, e->d_name, e->d_type);
      got[ng].is_dir = e->d_type == DT_DIR;
      if (e->d_ino == 0)
        FAILF("%s: %s has d_ino 0", what, e->d_name);
      ng++;
    }
    i++;
  }
  if (errno)
    FAILF("%s: readdir: %s", what, strerror(errno));
  qsort(got, ng, sizeof *got, cmp_nt);
  int same = ng == nw;
  for (size_t k = 0; same && k < ng; k++)
    same = !strcmp(got[k].name, want[k].name) && got[k].is_dir == want[k].is_dir;
  if (!same) {
    FAILF("%s: listing differs from the local copy", what);
    for (size_t k = 0; k < ng; k++)
      fprintf(stderr, "    got:  %s%s\n", got[k].name, got[k].is_dir ? "/" : "");
    for (size_t k = 0; k < nw; k++)
      fprintf(stderr, "    want: %s%s\n", want[k].name, want[k].is_dir ? "/" : "");
  }
}

static int no_dots(const struct dirent *e) { return e->d_name[0] != '.'; }

static void t_dirs(void) {
  DIR *d = opendir(B "/a");
  if (!d) {
    FAILF("opendir(a): %s", strerror(errno));
  } else {
    int fd = dirfd(d);
    CHECK(fd >= 0);
    struct stat st;
    EXPECT_OK(fstat(fd, &st));
    CHECK(S_ISDIR(st.st_mode));
    check_listing(d, "a", "opendir a");
    CHECK(readdir(d) == NULL);
    /* rewinddir, telldir, seekdir */
    rewinddir(d);
    struct dirent *e = readdir(d);
    CHECK(e && !strcmp(e->d_name, "."));
    e = readdir(d);
    CHECK(e && !strcmp(e->d_name, ".."));
    long at = telldir(d);
    e = readdir(d);
    char third[256] = "";
    if (e)
      snprintf(third, sizeof third, "%s", e->d_name);
    CHECK(e != NULL);
    e = readdir(d);
    CHECK(e != NULL);
    seekdir(d, at);
    e = readdir(d);
    CHECK(e != NULL);
    if (e)
      CHECK_STR(e->d_name, third);
    EXPECT_OK(closedir(d));
  }
  /* The bucket, a/b, the empty folder a/e, the root's entry. */
  static const struct {
    const char *path, *prefix;
  } dirs[] = {{B, "."}, {B "/", "."}, {B "/a/b", "a/b"}, {B "/a/e", "a/e"}, {B "/a/e/", "a/e"}};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    d = opendir(dirs[i].path);
    if (!d) {
      FAILF("opendir(%s): %s", dirs[i].path, strerror(errno));
      continue;
    }
    check_listing(d, dirs[i].prefix, dirs[i].path);
    closedir(d);
  }
  d = opendir("/s3");
  if (!d) {
    FAILF("opendir(/s3): %s", strerror(errno));
  } else {
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)))
      found |= !strcmp(e->d_name, "shim-test") && e->d_type == DT_DIR;
    if (!found)
      FAILF("opendir(/s3) does not list shim-test as a directory");
    closedir(d);
  }
  /* fdopendir(openat(O_DIRECTORY)), and readdir64. */
  int fd = openat(AT_FDCWD, B "/a", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  CHECK(fd >= 0);
  if (fd >= 0) {
    d = fdopendir(fd);
    if (!d) {
      FAILF("fdopendir: %s", strerror(errno));
      close(fd);
    } else {
      CHECK_INT(dirfd(d), fd);
      check_listing(d, "a", "fdopendir a");
      rewinddir(d);
      struct dirent64 *e64;
      int n = 0;
      while ((e64 = readdir64(d)))
        n++;
      CHECK_INT(n, 5);
      EXPECT_OK(closedir(d));
      EXPECT_ERR(fcntl(fd, F_GETFD), EBADF); /* closedir closed it */
    }
  }
  fd = open_ok(B "/text.txt", O_RDONLY);
  if (fd >= 0) {
    EXPECT_NULL_ERR(fdopendir(fd), ENOTDIR);
    close(fd);
  }
  /* scandir with alphasort, and with a filter. */
  struct dirent **list = NULL;
  int n = scandir(B "/a", &list, NULL, alphasort);
  CHECK_INT(n, 5);
  static const char *const sorted[] = {".", "..", "b", "d.txt", "e"};
  static const unsigned char types[] = {DT_DIR, DT_DIR, DT_DIR, DT_REG, DT_DIR};
  for (int i = 0; i < n; i++) {
    if (i < 5 && (strcmp(list[i]->d_name, sorted[i]) || list[i]->d_type != types[i]))
      FAILF("scandir a: entry %d is \"%s\" (d_type %d), want \"%s\" (%d)", i, list[i]->d_name,
            list[i]->d_type, sorted[i], types[i]);
    free(list[i]);
  }
  free(list);
  list = NULL;
  n = scandir(B, &list, no_dots, alphasort);
  struct name_type want[64] = {{"", 0}};
  size_t nw = local_entries(".", want, 64);
  CHECK_INT(n, nw);
  for (int i = 0; i < n; i++) {
    if ((size_t)i < nw && strcmp(list[i]->d_name, want[i].name) != 0)
      FAILF("scandir bucket: entry %d is \"%s\", want \"%s\"", i, list[i]->d_name, want[i].name);
    free(list[i]);
  }
  free(list);
  EXPECT_ERR(scandir(B "/no-such-dir", &list, NULL, alphasort), ENOENT);
  EXPECT_NULL_ERR(opendir(B "/no-such-dir"), ENOENT);
  EXPECT_NULL_ERR(opendir(B "/text.txt"), ENOTDIR);
}

static void t_chdir(void) {
  char saved[PATH_MAX];
  if (!getcwd(saved, sizeof saved)) {
    FAILF("getcwd: %s", strerror(errno));
    return;
  }
  struct blob d = local("a/d.txt"), c = local("a/b/c.txt"), txt = local("text.txt");
  EXPECT_ERR(chdir(B "/text.txt"), ENOTDIR);
  EXPECT_ERR(chdir(B "/no-such-dir"), ENOENT);
  if (chdir(B "/a") != 0) {
    FAILF("chdir(%s): %s", B "/a", strerror(errno));
  } else {
    char buf[PATH_MAX];
    CHECK_STR(getcwd(buf, sizeof buf), B "/a");
    char *dyn = getcwd(NULL, 0);
    CHECK_STR(dyn, B "/a");
    free(dyn);
    EXPECT_NULL_ERR(getcwd(buf, 3), ERANGE);
    read_whole_fd(open("d.txt", O_RDONLY), &d, "open(d.txt) relative to /s3/shim-test/a");
    read_whole_fd(openat(AT_FDCWD, "b/c.txt", O_RDONLY), &c,
                  "openat(AT_FDCWD, b/c.txt) in /s3/shim-test/a");
    read_whole_fd(open("../text.txt", O_RDONLY), &txt, "open(../text.txt) in /s3/shim-test/a");
    struct stat st;
    EXPECT_OK(stat("d.txt", &st));
    check_file_stat(&st, "a/d.txt", "stat relative");
    EXPECT_OK(stat("e", &st));
    CHECK(S_ISDIR(st.st_mode));
    EXPECT_ERR(stat("nope", &st), ENOENT);
    EXPECT_OK(access("d.txt", R_OK));
    DIR *dir = opendir(".");
    if (!dir) {
      FAILF("opendir(.) in /s3/shim-test/a: %s", strerror(errno));
    } else {
      check_listing(dir, "a", "opendir(.) in a");
      closedir(dir);
    }
    if (chdir("b") == 0) {
      CHECK_STR(getcwd(buf, sizeof buf), B "/a/b");
    } else {
      FAILF("chdir(b) relative: %s", strerror(errno));
    }
    EXPECT_OK(chdir(saved));
    CHECK_STR(getcwd(buf, sizeof buf), saved);
    EXPECT_ERR(open("d.txt", O_RDONLY), ENOENT); /* relative paths are local again */
    /* fchdir into a directory fd of ours, and back. */
    int dfd = open_ok(B "/a/b", O_RDONLY | O_DIRECTORY);
    int home = open(saved, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0 && home >= 0) {
      EXPECT_OK(fchdir(dfd));
      CHECK_STR(getcwd(buf, sizeof buf), B "/a/b");
      read_whole_fd(open("c.txt", O_RDONLY), &c, "open(c.txt) after fchdir");
      EXPECT_OK(fchdir(home));
      CHECK_STR(getcwd(buf, sizeof buf), saved);
    }
    if (dfd >= 0)
      close(dfd);
    if (home >= 0)
      close(home);
  }
  if (chdir(saved) != 0)
    FAILF("chdir back to %s: %s", saved, strerror(errno));
  blob_free(&d);
  blob_free(&c);
  blob_free(&txt);
}

/* ---- processes ------------------------------------------------------------- */

static int wait_child(pid_t pid, const char *what) {
  int st = 0;
  if (waitpid(pid, &st, 0) != pid) {
    FAILF("%s: waitpid: %s", what, strerror(errno));
    return -1;
  }
  if (WIFSIGNALED(st)) {
    FAILF("%s: the child died of signal %d", what, WTERMSIG(st));
    return -1;
  }
  if (WEXITSTATUS(st) != 0)
    FAILF("%s: the child exited %d (its failures are above)", what, WEXITSTATUS(st));
  return WEXITSTATUS(st);
}

static void t_fork(void) {
  struct blob rnd = local("random.bin");
  size_t n = rnd.n;
  int fd = open_ok(B "/random.bin", O_RDONLY);
  if (fd < 0) {
    blob_free(&rnd);
    return;
  }
  unsigned char *m = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) {
    FAILF("mmap before fork: %s", strerror(errno));
    m = NULL;
  } else {
    same_bytes("mmap before fork (first 64 KiB)", m, rnd.p, 65536, 0);
  }
  CHECK_INT(lseek(fd, 1000, SEEK_SET), 1000);
  fflush(NULL);
  int failures_at_fork = check_failures;
  pid_t pid = fork();
  if (pid < 0) {
    FAILF("fork: %s", strerror(errno));
  } else if (pid == 0) {
    cur = "fork (child)";
    unsigned char *buf = malloc(100000);
    if (!buf)
      _exit(99);
    CHECK_INT(pos(fd), 1000);
    CHECK_INT(read(fd, buf, 5000), 5000);
    same_bytes("child read", buf, rnd.p + 1000, 5000, 1000);
    CHECK_INT(pread(fd, buf, 100000, 2000000), 100000);
    same_bytes("child pread", buf, rnd.p + 2000000, 100000, 2000000);
    if (m) /* pages the parent never touched, and some it did */
      same_bytes("child reads the mmap made before fork", m, rnd.p, n, 0);
    int fd2 = open(B "/text.txt", O_RDONLY); /* and opens work in the child */
    CHECK(fd2 >= 0);
    if (fd2 >= 0) {
      struct blob txt = local("text.txt");
      read_loop_check(fd2, &txt, 0, "child open+read text.txt");
      blob_free(&txt);
      close(fd2);
    }
    free(buf);
    fflush(NULL);
    _exit(check_failures != failures_at_fork ? 1 : 0);
  } else {
    wait_child(pid, "fork");
    CHECK_INT(pos(fd), 6000); /* the child's read moved the shared offset */
    unsigned char buf[100];
    CHECK_INT(read(fd, buf, sizeof buf), sizeof buf);
    same_bytes("parent read after the child's", buf, rnd.p + 6000, sizeof buf, 6000);
    if (m)
      same_bytes("parent mmap after fork", m, rnd.p, n, 0);
  }
  if (m)
    munmap(m, n);
  close(fd);
  blob_free(&rnd);
}

/* --child-stdin OFFSET LOCAL: fd 0 is ours, at OFFSET; read it to the end
 * through read() and then stdio, comparing with LOCAL. */
static int child_stdin(const char *offset, const char *path) {
  cur = "exec child (stdin)";
  struct blob want = read_file(path);
  off_t off = (off_t)strtoll(offset, NULL, 10);
  CHECK_INT(pos(0), off);
  struct stat st;
  EXPECT_OK(fstat(0, &st));
  CHECK(S_ISREG(st.st_mode));
  CHECK_INT(st.st_size, (off_t)want.n);
  CHECK_INT(st.st_blksize, 65536);
  size_t at = (size_t)off;
  unsigned char *buf = malloc(want.n + 4096);
  if (!buf)
    exit(1);
  ssize_t r = read(0, buf, 4099);
  CHECK_INT(r, 4099);
  if (r > 0) {
    same_bytes("read(0) in the exec'd child", buf, want.p + at, (size_t)r, at);
    at += (size_t)r;
  }
  CHECK_INT(fileno(stdin), 0);
  size_t got = fread(buf, 1, want.n + 4096, stdin);
  CHECK_INT(got, want.n - at);
  same_bytes("fread(stdin) in the exec'd child", buf, want.p + at,
             got < want.n - at ? got : want.n - at, at);
  CHECK(feof(stdin));
  CHECK_INT(pos(0), (off_t)want.n);
  free(buf);
  blob_free(&want);
  return check_done();
}

static void t_exec(void) {
  struct blob rnd = local("random.bin");
  char *lpath = local_path("random.bin");
  int fd = open_ok(B "/random.bin", O_RDONLY);
  if (fd < 0) {
    free(lpath);
    blob_free(&rnd);
    return;
  }
  /* fork + dup2 onto 0 + execv of ourselves. */
  CHECK_INT(lseek(fd, 777, SEEK_SET), 777);
  char *argv[] = {self_exe, "--child-stdin", "777", lpath, NULL};
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    FAILF("fork: %s", strerror(errno));
  } else if (pid == 0) {
    if (dup2(fd, 0) != 0)
      _exit(98);
    close(fd);
    execv(self_exe, argv);
    fprintf(stderr, "execv %s: %s\n", self_exe, strerror(errno));
    _exit(97);
  } else {
    wait_child(pid, "fork+execv with our fd as stdin");
    CHECK_INT(pos(fd), (off_t)rnd.n); /* the child read it all */
  }
  /* posix_spawn with a dup2 file action onto 0. */
  CHECK_INT(lseek(fd, 4242, SEEK_SET), 4242);
  char *argv2[] = {self_exe, "--child-stdin", "4242", lpath, NULL};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fd, 0);
  int rc = posix_spawn(&pid, self_exe, &fa, NULL, argv2, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    FAILF("posix_spawn: %s", strerror(rc));
  } else {
    wait_child(pid, "posix_spawn with our fd dup2'ed onto stdin");
    CHECK_INT(pos(fd), (off_t)rnd.n);
  }
  close(fd);
  free(lpath);
  blob_free(&rnd);
}

/* ---- threads --------------------------------------------------------------- */

struct worker {
  int fd;                     /* shared or own */
  const unsigned char *map;   /* a shared view, or NULL */
  const struct blob *want;
  uint64_t seed;
  int failures;
  pthread_t tid;
};

static uint64_t xorshift(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void *worker_run(void *arg) {
  struct worker *w = arg;
  size_t n = w->want->n;
  unsigned char *buf = malloc(262144);
  if (!buf) {
    w->failures++;
    return NULL;
  }
  for (int i = 0; i < 300 && w->failures < 5; i++) {
    size_t off = (size_t)(xorshift(&w->seed) % n);
    size_t len = (size_t)(xorshift(&w->seed) % 262144) + 1;
    size_t want_n = len < n - off ? len : n - off;
    ssize_t r = pread(w->fd, buf, len, (off_t)off);
    if (r != (ssize_t)want_n) {
      fprintf(stderr, "[threads] pread(%zu, %zu) = %zd (%s), want %zu\n", len, off, r,
              r < 0 ? strerror(errno) : "short", want_n);
      w->failures++;
    } else if (memcmp(buf, w->want->p + off, want_n) != 0) {
      fprintf(stderr, "[threads] pread(%zu, %zu): wrong bytes\n", len, off);
      w->failures++;
    }
    if (w->map && memcmp(w->map + off, w->want->p + off, want_n) != 0) {
      fprintf(stderr, "[threads] mmap [%zu, +%zu): wrong bytes\n", off, want_n);
      w->failures++;
    }
  }
  free(buf);
  return NULL;
}

static void t_threads(void) {
  struct blob rnd = local("random.bin");
  int shared = open_ok(B "/random.bin", O_RDONLY);
  if (shared < 0) {
    blob_free(&rnd);
    return;
  }
  const unsigned char *m = mmap(NULL, rnd.n, PROT_READ, MAP_SHARED, shared, 0);
  if (m == MAP_FAILED) {
    FAILF("mmap: %s", strerror(errno));
    m = NULL;
  }
  struct worker w[4];
  for (int i = 0; i < 4; i++) {
    w[i] = (struct worker){.fd = i < 2 ? shared : open_ok(B "/random.bin", O_RDONLY),
                           .map = i % 2 ? m : NULL, .want = &rnd,
                           .seed = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1)};
    if (w[i].fd < 0 || pthread_create(&w[i].tid, NULL, worker_run, &w[i]) != 0) {
      FAILF("thread %d did not start", i);
      w[i].fd = -1;
    }
  }
  for (int i = 0; i < 4; i++) {
    if (w[i].fd < 0)
      continue;
    pthread_join(w[i].tid, NULL);
    if (w[i].failures)
      FAILF("thread %d: %d wrong reads", i, w[i].failures);
    if (i >= 2)
      close(w[i].fd);
  }
  CHECK_INT(pos(shared), 0);
  if (m)
    munmap((void *)m, rnd.n);
  close(shared);
  blob_free(&rnd);
}

/* ---- setup ----------------------------------------------------------------- */

/* Whether the S3 endpoint (AWS_ENDPOINT_URL_S3, http://host:port) accepts
 * a connection; prints why not. */
static int endpoint_reachable(void) {
  const char *url = getenv("AWS_ENDPOINT_URL_S3");
  if (!url || strncmp(url, "http://", 7) != 0) {
    fprintf(stderr, "shim_driver: AWS_ENDPOINT_URL_S3 is '%s', not http://host:port "
                    "(run under tests/with-env with the s3rver env file)\n",
            url ? url : "");
    return 0;
  }
  char host[256], port[16] = "80";
  const char *h = url + 7, *end = h + strcspn(h, "/");
  const char *colon = memchr(h, ':', (size_t)(end - h));
  size_t hl = (size_t)((colon ? colon : end) - h);
  if (hl == 0 || hl >= sizeof host)
    return 0;
  memcpy(host, h, hl);
  host[hl] = '\0';
  if (colon && (size_t)(end - colon - 1) < sizeof port) {
    memcpy(port, colon + 1, (size_t)(end - colon - 1));
    port[end - colon - 1] = '\0';
  }
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
  int ok = 0;
  if (getaddrinfo(host, port, &hints, &ai) == 0) {
    for (struct addrinfo *a = ai; a && !ok; a = a->ai_next) {
      int s = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      ok = s >= 0 && connect(s, a->ai_addr, a->ai_addrlen) == 0;
      if (s >= 0)
        close(s);
    }
    freeaddrinfo(ai);
  }
  if (!ok)
    fprintf(stderr, "shim_driver: %s does not answer (is the s3rver fixture running?)\n", url);
  return ok;
}

static int shim_seen;
static int find_shim(struct dl_phdr_info *info, size_t size, void *data) {
  if (info->dlpi_name && strstr(info->dlpi_name, "libmmapurl_shim"))
    shim_seen = 1;
  return 0;
}

/* Fortified and pre-2.33 entry points (shim_driver_abi.c). */
static void t_abi(void) {
  struct blob rnd = local("random.bin");
  char msg[512];
  if (abi_fortified(B "/random.bin", rnd.p, rnd.n, msg, sizeof msg))
    FAILF("%s", msg);
  if (abi_old_stat(B "/random.bin", (long long)rnd.n, msg, sizeof msg))
    FAILF("%s", msg);
  blob_free(&rnd);
}

struct check {
  const char *name;
  void (*fn)(void);
};

/* A check that hangs (a deadlock in the shim) fails by name, not by
 * ctest's timeout. */
enum { CHECK_SECONDS = 60 };
static void on_alarm(int sig) {
  static const char head[] = "shim_driver: HANG: check ";
  static const char tail[] = " did not finish within 60 s (a deadlock in the shim?)\n";
  ssize_t w = write(2, head, sizeof head - 1);
  w = write(2, cur, strlen(cur));
  w = write(2, tail, sizeof tail - 1);
  (void)w;
  _exit(99);
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "--child-stdin") == 0)
    return child_stdin(argv[2], argv[3]);
  if (argc != 3) {
    fprintf(stderr, "usage: %s SHIM_LIB LOCAL_OBJECTS_DIR\n", argv[0]);
    return 2;
  }
  local_dir = argv[2];
  if (!getenv(MARKER)) {
    /* First run: not preloaded. Check the inputs, then run again with the
     * shim (only this program: never the shell that started it). */
    struct stat st;
    if (stat(argv[1], &st) != 0) {
      fprintf(stderr, "shim_driver: %s: %s (build the target mmapurl_shim)\n", argv[1],
              strerror(errno));
      return 1;
    }
    if (stat("/s3", &st) == 0) {
      fprintf(stderr, "shim_driver: /s3 exists on this machine: remove it (a call the shim "
                      "let through would read local files instead of failing)\n");
      return 1;
    }
    if (stat(local_dir, &st) != 0) {
      fprintf(stderr, "shim_driver: %s: %s (the shim_objects fixture did not run): skipped\n",
              local_dir, strerror(errno));
      return 77;
    }
    if (!endpoint_reachable())
      return 77;
    if (setenv("LD_PRELOAD", argv[1], 1) != 0 || setenv(MARKER, "1", 1) != 0) {
      perror("setenv");
      return 1;
    }
    execv("/proc/self/exe", argv);
    fprintf(stderr, "shim_driver: re-exec with LD_PRELOAD: %s\n", strerror(errno));
    return 1;
  }
  dl_iterate_phdr(find_shim, NULL);
  if (!shim_seen) {
    fprintf(stderr, "shim_driver: libmmapurl_shim.so is not loaded (LD_PRELOAD=%s)\n",
            getenv("LD_PRELOAD") ? getenv("LD_PRELOAD") : "");
    return 1;
  }
  /* Out of our environment again: programs the sanitizer runtime starts
   * (llvm-symbolizer) are not instrumented and cannot load an ASan shim.
   * Our exec checks still get it: the shim puts itself back in LD_PRELOAD
   * of what it execs. */
  unsetenv("LD_PRELOAD");
  ssize_t sl = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
  if (sl <= 0) {
    perror("readlink /proc/self/exe");
    return 1;
  }
  self_exe[sl] = '\0';
  load_manifest();

  static const struct check checks[] = {
      {"open_read", t_open_read},   {"all_objects", t_all_objects},
      {"pread_readv", t_pread_readv}, {"lseek", t_lseek},
      {"stat", t_stat},             {"access_realpath", t_access_realpath},
      {"dup_fcntl", t_dup_fcntl},   {"mmap", t_mmap},
      {"refusals", t_refusals},     {"stdio", t_stdio},
      {"dirs", t_dirs},             {"chdir", t_chdir},
      {"fork", t_fork},             {"exec", t_exec},
      {"threads", t_threads},       {"abi", t_abi},
  };
  signal(SIGALRM, on_alarm);
  const char *only = getenv("MU_SHIM_DRIVER_ONLY"); /* debugging: one check */
  int failed = 0;
  for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
    if (only && strcmp(only, checks[i].name) != 0)
      continue;
    cur = checks[i].name;
    int before = check_failures;
    alarm(CHECK_SECONDS);
    checks[i].fn();
    alarm(0);
    if (check_failures != before) {
      printf("FAIL: %s (%d failed checks, above)\n", checks[i].name, check_failures - before);
      failed++;
    } else {
      printf("ok: %s\n", checks[i].name);
    }
    fflush(stdout);
  }
  printf("shim_driver: %zu checks, %d failed\n", sizeof checks / sizeof checks[0], failed);
  return check_done();
}
