/*
 * stats.c - process-wide counters (one relaxed atomic uint64 each) and the
 * at-exit report chosen by MMAPURL_STATS: a one-line summary on stderr, or a
 * JSON file replaced atomically (written to PATH.tmp, then renamed).
 * Must never take a lock or allocate on the counting path, and never hold
 * anything but numbers.
 */
#include "util/stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmapurl.h"
#include "util/error.h"
#include "util/log.h"

static uint64_t counters[MU_STAT_COUNT];
static const char *uffd_mode = "none"; /* static strings only */

/* The at-exit report: installed is set once (atomically); report_path is
 * written before atexit() and read only by the handler. */
static int installed;
static char *report_path; /* NULL: summary on stderr; else the JSON path */

void mu_stat_add(enum mu_stat which, uint64_t n) {
  if ((unsigned)which < MU_STAT_COUNT)
    __atomic_fetch_add(&counters[which], n, __ATOMIC_RELAXED);
}

void mu_stat_sub(enum mu_stat which, uint64_t n) {
  if ((unsigned)which < MU_STAT_COUNT)
    __atomic_fetch_sub(&counters[which], n, __ATOMIC_RELAXED);
}

void mu_stat_max(enum mu_stat which, uint64_t n) {
  if ((unsigned)which >= MU_STAT_COUNT)
    return;
  uint64_t old = __atomic_load_n(&counters[which], __ATOMIC_RELAXED);
  while (n > old && !__atomic_compare_exchange_n(&counters[which], &old, n, 1,
                                                 __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
}

void mu_stats_set_uffd_mode(const char *mode) {
  __atomic_store_n(&uffd_mode, mode, __ATOMIC_RELEASE);
}

uint64_t mu_stat_read(enum mu_stat which) {
  if ((unsigned)which >= MU_STAT_COUNT)
    return 0;
  return __atomic_load_n(&counters[which], __ATOMIC_RELAXED);
}

void mmapurl_stats_get(struct mmapurl_stats *out) {
  if (!out)
    return;
  out->requests = mu_stat_read(MU_STAT_REQUESTS);
  out->bytes_downloaded = mu_stat_read(MU_STAT_BYTES_DOWNLOADED);
  out->retries = mu_stat_read(MU_STAT_RETRIES);
  out->errors = mu_stat_read(MU_STAT_ERRORS);
  out->objects_opened = mu_stat_read(MU_STAT_OBJECTS_OPENED);
  out->faults = mu_stat_read(MU_STAT_FAULTS);
  out->evictions = mu_stat_read(MU_STAT_EVICTIONS);
  out->cache_bytes = mu_stat_read(MU_STAT_CACHE_BYTES);
  out->cache_peak_bytes = mu_stat_read(MU_STAT_CACHE_PEAK);
  out->uffd_mode = __atomic_load_n(&uffd_mode, __ATOMIC_ACQUIRE);
}

/* Write the JSON document to f; 0 or an errno value. */
static int write_json_to(FILE *f) {
  struct mmapurl_stats s;
  mmapurl_stats_get(&s);
  int n = fprintf(f,
                  "{\"requests\":%" PRIu64 ",\"bytes_downloaded\":%" PRIu64 ",\"retries\":%" PRIu64
                  ",\"errors\":%" PRIu64 ",\"objects_opened\":%" PRIu64 ",\"faults\":%" PRIu64
                  ",\"evictions\":%" PRIu64 ",\"cache_bytes\":%" PRIu64
                  ",\"cache_peak_bytes\":%" PRIu64 ",\"uffd_mode\":\"%s\"}\n",
                  s.requests, s.bytes_downloaded, s.retries, s.errors, s.objects_opened, s.faults,
                  s.evictions, s.cache_bytes, s.cache_peak_bytes, s.uffd_mode);
  int err = n < 0 || fflush(f) != 0 ? (errno ? errno : EIO) : 0;
  if (fclose(f) != 0 && !err)
    err = errno ? errno : EIO;
  return err;
}

int mu_stats_write_json(const char *path) {
  if (!path || !*path)
    return mu_fail(MMAPURL_E_CONFIG, "MMAPURL_STATS: no path to write the JSON report to");
  size_t len = strlen(path);
  char *tmp = malloc(len + 5);
  if (!tmp)
    return mu_fail(MMAPURL_E_NOMEM, "out of memory writing the stats report \"%s\"", path);
  memcpy(tmp, path, len);
  memcpy(tmp + len, ".tmp", 5);
  errno = 0;
  FILE *f = fopen(tmp, "we");
  const char *failed = tmp;
  int err = f ? write_json_to(f) : errno;
  if (!err && rename(tmp, path) != 0) {
    err = errno;
    failed = path;
  }
  int rc = 0;
  if (err) {
    rc = mu_fail(MMAPURL_E_CONFIG, "MMAPURL_STATS: cannot write the JSON report \"%s\": %s", failed,
                 strerror(err));
    if (f)
      unlink(tmp);
  }
  free(tmp);
  return rc;
}

/* Format n bytes for people: "512 B", "3.1 MiB", ... into dst. */
static void human_bytes(char *dst, size_t size, uint64_t n) {
  static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (n < 1024) {
    snprintf(dst, size, "%" PRIu64 " B", n);
    return;
  }
  double v = (double)n / 1024.0;
  size_t u = 0;
  while (v >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
    v /= 1024.0;
    u++;
  }
  snprintf(dst, size, "%.1f %s", v, units[u]);
}

/* At exit: the one-line summary on stderr (one write), or the JSON file. */
static void report_at_exit(void) {
  if (report_path) {
    if (mu_stats_write_json(report_path) != 0)
      MU_ERROR("%s", mu_err_detail());
    return;
  }
  struct mmapurl_stats s;
  mmapurl_stats_get(&s);
  char bytes[32], peak[32], line[320];
  human_bytes(bytes, sizeof bytes, s.bytes_downloaded);
  human_bytes(peak, sizeof peak, s.cache_peak_bytes);
  int n = snprintf(line, sizeof line,
                   "mmapurl: %" PRIu64 " requests, %s downloaded, %" PRIu64 " retries, %" PRIu64
                   " errors, %" PRIu64 " objects opened, %" PRIu64 " faults, %" PRIu64
                   " evictions, cache peak %s (userfaultfd: %s)\n",
                   s.requests, bytes, s.retries, s.errors, s.objects_opened, s.faults,
                   s.evictions, peak, s.uffd_mode);
  if (n > 0) {
    ssize_t w = write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    (void)w;
  }
}

void mu_stats_install_report(const char *dest) {
  if (!dest || !*dest || __atomic_exchange_n(&installed, 1, __ATOMIC_ACQ_REL))
    return;
  if (strcmp(dest, "1") != 0 && !(report_path = strdup(dest))) {
    MU_ERROR("MMAPURL_STATS: out of memory, no report will be written to \"%s\"", dest);
    return;
  }
  if (atexit(report_at_exit) != 0)
    MU_ERROR("MMAPURL_STATS: cannot register the at-exit report");
}
