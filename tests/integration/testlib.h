/*
 * testlib.h - shared helpers of the integration tests: the fixture
 * manifest (key, local copy, size), whole-file reads of local copies, and
 * the fault endpoint's control API. Test-only; header-only.
 */
#ifndef MU_TESTLIB_H
#define MU_TESTLIB_H

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mmapurl.h"

#define TL_BUCKET "mmapurl-test"
#define TL_MAX_OBJECTS 64

struct tl_object {
  char key[512];
  char path[1024];
  uint64_t size;
};

struct tl_manifest {
  struct tl_object o[TL_MAX_OBJECTS];
  int n;
};

/* Load manifest.tsv (key TAB local-path TAB size). Exits 1 on failure. */
static inline void tl_manifest_load(const char *file, struct tl_manifest *m) {
  FILE *f = fopen(file, "r");
  char line[2048];
  m->n = 0;
  if (!f) {
    perror(file);
    exit(1);
  }
  while (fgets(line, sizeof line, f) && m->n < TL_MAX_OBJECTS) {
    struct tl_object *o = &m->o[m->n];
    char *k = line, *p = strchr(k, '\t'), *s = p ? strchr(p + 1, '\t') : NULL;
    if (!p || !s)
      continue;
    *p++ = '\0';
    *s++ = '\0';
    snprintf(o->key, sizeof o->key, "%.*s", (int)sizeof o->key - 1, k);
    snprintf(o->path, sizeof o->path, "%.*s", (int)sizeof o->path - 1, p);
    o->size = strtoull(s, NULL, 10);
    m->n++;
  }
  fclose(f);
  if (m->n == 0) {
    fprintf(stderr, "%s: no objects\n", file);
    exit(1);
  }
}

/* The manifest entry for key, or exit 1. */
static inline const struct tl_object *tl_find(const struct tl_manifest *m, const char *key) {
  for (int i = 0; i < m->n; i++)
    if (strcmp(m->o[i].key, key) == 0)
      return &m->o[i];
  fprintf(stderr, "manifest has no key %s\n", key);
  exit(1);
}

/* The whole local copy in a malloc'd buffer (at least 1 byte). */
static inline unsigned char *tl_read_file(const char *path, uint64_t size) {
  unsigned char *b = malloc(size ? size : 1);
  FILE *f = fopen(path, "rb");
  if (!b || !f || fread(b, 1, size, f) != size) {
    perror(path);
    exit(1);
  }
  fclose(f);
  return b;
}

static inline void tl_url(char *out, size_t cap, const char *key) {
  snprintf(out, cap, "s3://%s/%s", TL_BUCKET, key);
}

static size_t tl_sink(char *p, size_t s, size_t n, void *u) {
  (void)p, (void)u;
  return s * n;
}

/* POST body to the fault endpoint's control path (e.g. "/__fault").
 * Returns the HTTP status. The control URL comes from MU_TEST_CONTROL_URL;
 * an https:// one is verified against the CA file MU_TEST_CA when set (the
 * tls fixture's env file sets it). */
static inline long tl_control(const char *path, const char *json) {
  const char *base = getenv("MU_TEST_CONTROL_URL");
  char url[512];
  long status = 0;
  if (!base) {
    fprintf(stderr, "MU_TEST_CONTROL_URL is not set\n");
    exit(1);
  }
  snprintf(url, sizeof url, "%s%s", base, path);
  CURL *c = curl_easy_init();
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, json ? json : "{}");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tl_sink);
  if (getenv("MU_TEST_CA"))
    curl_easy_setopt(c, CURLOPT_CAINFO, getenv("MU_TEST_CA"));
  if (curl_easy_perform(c) == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return status;
}

/* Print the library's error for a failed call (for test logs). */
static inline void tl_explain(const char *what, int rc) {
  if (rc)
    fprintf(stderr, "%s: error %d: %s [%s]\n", what, rc, mmap_s3_errstr(rc), mmapurl_errdetail());
}

/* ---- Helpers of the mapping tests (test_mmap*.c) ------------------------- */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* TL_ASAN: 1 in an AddressSanitizer build (gcc or clang). */
#if defined(__SANITIZE_ADDRESS__)
#define TL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TL_ASAN 1
#endif
#endif
#ifndef TL_ASAN
#define TL_ASAN 0
#endif

/* TL_TSAN: 1 in a ThreadSanitizer build (its shadow memory inflates RSS). */
#if defined(__SANITIZE_THREAD__)
#define TL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TL_TSAN 1
#endif
#endif
#ifndef TL_TSAN
#define TL_TSAN 0
#endif

/* Before a fork() in an ASan build: clang 14's ASan allocator has no fork
 * handler, so a child forked while another thread is inside malloc (such
 * as the library's fetch threads, started by the first mapping, still
 * initialising) deadlocks in its first malloc. glibc's malloc has no such
 * problem: elsewhere this does nothing. */
static inline void tl_asan_settle_before_fork(void) {
  if (TL_ASAN)
    usleep(200 * 1000);
}

static inline double tl_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* splitmix64's finalizer: a cheap, well-mixed 64-bit hash. */
static inline uint64_t tl_mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/* A generated object's content: the byte at `off` depends only on (seed,
 * off): byte (off % 8) of tl_mix64(seed ^ (off rounded down to 8)). */
static inline unsigned char tl_gen_byte(uint64_t seed, uint64_t off) {
  return (unsigned char)(tl_mix64(seed ^ (off & ~(uint64_t)7)) >> ((off & 7) * 8));
}

/* Fill buf with the generated bytes [off, off+len). */
static inline void tl_gen_fill(uint64_t seed, uint64_t off, unsigned char *buf, size_t len) {
  size_t i = 0;
  for (; i < len && ((off + i) & 7); i++)
    buf[i] = tl_gen_byte(seed, off + i);
  for (; i + 8 <= len; i += 8) {
    uint64_t w = tl_mix64(seed ^ (off + i));
    memcpy(buf + i, &w, 8); /* little-endian: byte k is bits 8k..8k+7 */
  }
  for (; i < len; i++)
    buf[i] = tl_gen_byte(seed, off + i);
}

/* Whether `path` holds exactly the generated object (size, and three
 * sampled 4 KiB pieces: first, middle, last). */
static inline int tl_gen_file_ok(const char *path, uint64_t size, uint64_t seed) {
  struct stat st;
  if (stat(path, &st) != 0 || (uint64_t)st.st_size != size)
    return 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC), ok = fd >= 0;
  unsigned char got[4096], want[4096];
  uint64_t at[3] = {0, size / 2 & ~(uint64_t)4095, size > 4096 ? size - 4096 : 0};
  for (int i = 0; i < 3 && ok; i++) {
    size_t n = size - at[i] < sizeof got ? (size_t)(size - at[i]) : sizeof got;
    tl_gen_fill(seed, at[i], want, n);
    ok = pread(fd, got, n, (off_t)at[i]) == (ssize_t)n && memcmp(got, want, n) == 0;
  }
  if (fd >= 0)
    close(fd);
  return ok;
}

/* Create (unless it is already there) the generated object of `size`
 * bytes at `path`: written in 1 MiB pieces to a temporary name, then
 * renamed, so a reader never sees half of it. Exits 1 on failure. */
static inline void tl_gen_file(const char *path, uint64_t size, uint64_t seed) {
  if (tl_gen_file_ok(path, size, seed))
    return;
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  size_t piece = (size_t)1 << 20;
  unsigned char *buf = malloc(piece);
  if (fd < 0 || !buf) {
    perror(tmp);
    exit(1);
  }
  for (uint64_t off = 0; off < size; off += piece) {
    size_t n = size - off < piece ? (size_t)(size - off) : piece;
    tl_gen_fill(seed, off, buf, n);
    if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n) {
      perror(tmp);
      exit(1);
    }
  }
  free(buf);
  if (close(fd) != 0 || rename(tmp, path) != 0) {
    perror(path);
    exit(1);
  }
}

/* The folder holding the local copies of bucket TL_BUCKET: the faults
 * origin serves <root>/<bucket>/<key> with <root> = the manifest's folder. */
static inline void tl_bucket_dir(const char *manifest, char *out, size_t cap) {
  const char *slash = strrchr(manifest, '/');
  int n = slash ? (int)(slash - manifest) : 1;
  snprintf(out, cap, "%.*s/%s", n, slash ? manifest : ".", TL_BUCKET);
}

struct tl_body {
  char *p;
  size_t n;
};

static size_t tl_body_sink(char *p, size_t s, size_t n, void *u) {
  struct tl_body *b = u;
  char *q = realloc(b->p, b->n + s * n + 1);
  if (!q)
    return 0;
  memcpy(q + b->n, p, s * n);
  b->p = q;
  b->n += s * n;
  b->p[b->n] = '\0';
  return s * n;
}

/* The fault endpoint's GET /__stats JSON (malloc'd; the caller frees it),
 * or NULL if it did not answer. */
static inline char *tl_endpoint_stats_json(void) {
  const char *base = getenv("MU_TEST_CONTROL_URL");
  char url[512];
  struct tl_body b = {NULL, 0};
  if (!base || !*base)
    return NULL;
  snprintf(url, sizeof url, "%s/__stats", base);
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tl_body_sink);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  if (curl_easy_perform(c) != CURLE_OK) {
    free(b.p);
    b.p = NULL;
  }
  curl_easy_cleanup(c);
  return b.p;
}

/* A counter of the fault endpoint's GET /__stats ("object_gets",
 * "bytes_sent", "requests", ...) or, for a status such as "412", its count
 * in "statuses" (0 when absent). -1 if the endpoint did not answer. */
static inline long long tl_endpoint_stat(const char *name) {
  char *json = tl_endpoint_stats_json(), needle[64];
  if (!json)
    return -1;
  snprintf(needle, sizeof needle, "\"%s\": ", name);
  const char *at = strstr(json, needle);
  long long v = at ? strtoll(at + strlen(needle), NULL, 10) : 0;
  free(json);
  return v;
}

/* The object GETs the fault endpoint saw since its last /__reset (at most
 * 1000): their number in *count and the bytes their Range headers asked
 * for (a GET without Range counts 0 bytes). Recorded when a request
 * arrives, so, unlike "bytes_sent", never after the client has its answer.
 * -1 if the endpoint did not answer. */
static inline long long tl_endpoint_range_bytes(long long *count) {
  char *json = tl_endpoint_stats_json();
  const char *at = json ? strstr(json, "\"ranges\": [") : NULL;
  long long total = -1;
  *count = -1;
  if (at) {
    at += strlen("\"ranges\": [");
    total = 0;
    *count = 0;
    while (*at && *at != ']') {
      unsigned long long first, last;
      if (!strncmp(at, "null", 4)) {
        ++*count;
        at += 4;
      } else if (sscanf(at, "\"bytes=%llu-%llu\"", &first, &last) == 2) {
        ++*count;
        total += (long long)(last - first + 1);
        at = strchr(at + 1, '"') + 1;
      } else {
        at++;
      }
    }
  }
  free(json);
  return total;
}

/* Wait for child pid at most `seconds`; on timeout kill it (SIGKILL), reap
 * it and return -1. Otherwise 0 with its wait status in *status. */
static inline int tl_wait_bounded(pid_t pid, double seconds, int *status) {
  double end = tl_now() + seconds;
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid)
      return 0;
    if (r < 0 && errno != EINTR) {
      perror("waitpid");
      return -1;
    }
    if (tl_now() > end) {
      kill(pid, SIGKILL);
      waitpid(pid, status, 0);
      return -1;
    }
    usleep(2000);
  }
}

/* Describe a wait status (for test logs). */
static inline void tl_explain_status(const char *what, int status) {
  if (WIFEXITED(status))
    fprintf(stderr, "%s: exited %d\n", what, WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    fprintf(stderr, "%s: killed by signal %d (%s)\n", what, WTERMSIG(status),
            strsignal(WTERMSIG(status)));
}

/* The userfaultfd mode this process should get: the syscall with full
 * features as root or with vm.unprivileged_userfaultfd=1, else
 * /dev/userfaultfd when it is ours to open, else user-mode-only. (A
 * non-root user with CAP_SYS_PTRACE is not a case these tests create.) */
static inline const char *tl_expected_uffd_mode(void) {
  FILE *f = fopen("/proc/sys/vm/unprivileged_userfaultfd", "r");
  int sysctl = 0;
  if (f) {
    if (fscanf(f, "%d", &sysctl) != 1)
      sysctl = 0;
    fclose(f);
  }
  if (geteuid() == 0 || sysctl == 1)
    return "syscall";
  if (access("/dev/userfaultfd", R_OK | W_OK) == 0)
    return "device";
  return "user-mode-only";
}

#endif
