/*
 * bench_map - scripts/bench's helper for the C API (mmap_s3) and for the
 * reference ranged GET. Each command prints one line of KEY=VALUE pairs,
 * with the library's counters (mmapurl_stats_get) after the work.
 *
 *   bench_map touch URL          mmap_s3, read one word of every page in order
 *                                (the faults are the reads): "wall= size= fold="
 *   bench_map random URL N SEED [REF_URL]
 *                                mmap_s3, copy N 4 KiB pages at the same
 *                                offsets as `bench_io pread`: latencies, fold;
 *                                with REF_URL, each copy after a reference
 *                                GET (bench_ref.h): ref_p50_us
 *   bench_map threads URL T      mmap_s3, T threads touch disjoint 1/T slices
 *   bench_map first URL          mmap_s3 + copy of the first 4 KiB: "ttfb_us="
 *   bench_map rangeget HTTP_URL N SEED
 *                                libcurl, one keep-alive connection: one warm-up
 *                                GET, then N ranged GETs of 4 KiB at the same
 *                                offsets (the reference latency of one request)
 *
 * Folds are defined in bench_common.h; wall times exclude nothing but
 * process start-up (they include mmap_s3's open request), but random's,
 * the sum of its reads (not the reference GETs between them).
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmapurl.h>

#include "bench_common.h"
#include "bench_ref.h"

static void stats_line(void) {
  struct mmapurl_stats st;
  mmapurl_stats_get(&st);
  printf(" requests=%" PRIu64 " downloaded=%" PRIu64 " faults=%" PRIu64 " evictions=%" PRIu64
         " cache_peak=%" PRIu64 " uffd=%s\n",
         st.requests, st.bytes_downloaded, st.faults, st.evictions, st.cache_peak_bytes,
         st.uffd_mode);
}

static const unsigned char *map(const char *url, size_t *size) {
  int err;
  void *p = mmap_s3(url, size, &err);
  if (p == MAP_FAILED) {
    fprintf(stderr, "bench_map: %s: %s (%s)\n", url, mmap_s3_errstr(err), mmapurl_errdetail());
    exit(1);
  }
  return p;
}

static uint64_t touch_range(const volatile unsigned char *p, size_t size, size_t a, size_t b) {
  uint64_t f = 0;
  for (size_t o = a; o < b; o += MU_PAGE) {
    unsigned char w[8];
    size_t n = size - o < 8 ? size - o : 8;
    for (size_t i = 0; i < n; i++)
      w[i] = p[o + i];
    f ^= mu_page_term(o / MU_PAGE, w, n);
  }
  return f;
}

static int cmd_touch(const char *url) {
  size_t size;
  double t0 = mu_now();
  const unsigned char *p = map(url, &size);
  uint64_t f = touch_range(p, size, 0, size);
  double wall = mu_now() - t0;
  munmap_s3((void *)p);
  printf("wall=%.6f size=%zu fold=%016" PRIx64, wall, size, f);
  stats_line();
  return 0;
}

/* With ref_url, each read is preceded by a reference GET of another page
 * from ref_url (bench_ref.h), timed apart: ref_p50_us. */
static int cmd_random(const char *url, size_t n, uint64_t seed, const char *ref_url) {
  size_t size;
  struct mu_ref r;
  if (ref_url && mu_ref_open(&r, ref_url) != 0)
    return 1;
  const unsigned char *p = map(url, &size);
  uint64_t *off = mu_offsets(size, n, seed), fold = 0;
  double *lat = malloc(n * sizeof *lat), *rlat = malloc(n * sizeof *rlat), sum = 0, wall = 0;
  unsigned char buf[MU_PAGE];
  if (!off || !lat || !rlat)
    return 1;
  for (size_t i = 0; i < n; i++) {
    if (ref_url) {
      double a = mu_now();
      if (mu_ref_get(&r, off[(i + n / 2) % n]) < 0) {
        fprintf(stderr, "bench_map: reference GET of %s failed\n", ref_url);
        return 1;
      }
      rlat[i] = (mu_now() - a) * 1e6;
    }
    double a = mu_now();
    memcpy(buf, p + off[i], MU_PAGE);
    lat[i] = (mu_now() - a) * 1e6;
    sum += lat[i];
    wall += lat[i] / 1e6;
    fold += mu_read_term(buf, MU_PAGE, off[i]);
  }
  munmap_s3((void *)p);
  double p50 = mu_pct(lat, n, 50), p90 = mu_pct(lat, n, 90), p99 = mu_pct(lat, n, 99);
  printf("reads=%zu p50_us=%.1f p90_us=%.1f p99_us=%.1f mean_us=%.1f wall=%.6f size=%zu"
         " fold=%016" PRIx64,
         n, p50, p90, p99, n ? sum / (double)n : 0, wall, size, fold);
  if (ref_url) {
    printf(" ref_p50_us=%.1f", mu_pct(rlat, n, 50));
    mu_ref_close(&r);
  }
  stats_line();
  free(off);
  free(lat);
  free(rlat);
  return 0;
}

struct slice {
  const unsigned char *p;
  size_t size, a, b;
  uint64_t fold;
};

static void *slice_main(void *arg) {
  struct slice *s = arg;
  s->fold = touch_range(s->p, s->size, s->a, s->b);
  return NULL;
}

static int cmd_threads(const char *url, int t) {
  size_t size;
  struct slice s[64];
  pthread_t th[64];
  uint64_t fold = 0;
  double t0 = mu_now();
  const unsigned char *p = map(url, &size);
  size_t pages = (size + MU_PAGE - 1) / MU_PAGE;
  for (int i = 0; i < t; i++) {
    size_t a = pages * (size_t)i / (size_t)t * MU_PAGE;
    size_t b = pages * (size_t)(i + 1) / (size_t)t * MU_PAGE;
    s[i] = (struct slice){p, size, a, b < size ? b : size, 0};
    if (pthread_create(&th[i], NULL, slice_main, &s[i]) != 0)
      return 1;
  }
  for (int i = 0; i < t; i++) {
    pthread_join(th[i], NULL);
    fold ^= s[i].fold;
  }
  double wall = mu_now() - t0;
  munmap_s3((void *)p);
  printf("threads=%d wall=%.6f bytes=%zu fold=%016" PRIx64, t, wall, size, fold);
  stats_line();
  return 0;
}

static int cmd_first(const char *url) {
  size_t size;
  unsigned char buf[MU_PAGE];
  double t0 = mu_now();
  const unsigned char *p = map(url, &size);
  size_t n = size < MU_PAGE ? size : MU_PAGE;
  memcpy(buf, p, n);
  double t1 = mu_now();
  munmap_s3((void *)p);
  printf("ttfb_us=%.1f bytes=%zu fold=%016" PRIx64, (t1 - t0) * 1e6, n,
         mu_read_term(buf, n, 0));
  stats_line();
  return 0;
}

static int cmd_rangeget(const char *url, size_t n, uint64_t seed) {
  struct mu_ref r;
  if (mu_ref_open(&r, url) != 0)
    return 1;
  uint64_t *off = mu_offsets(r.size, n, seed), fold = 0;
  double *lat = malloc(n * sizeof *lat), sum = 0;
  if (!off || !lat)
    return 1;
  for (size_t i = 0; i < n; i++) {
    double a = mu_now();
    if (mu_ref_get(&r, off[i]) < 0) {
      fprintf(stderr, "bench_map: rangeget %s at %" PRIu64 " failed\n", url, off[i]);
      return 1;
    }
    lat[i] = (mu_now() - a) * 1e6;
    sum += lat[i];
    fold += mu_read_term(r.buf, MU_PAGE, off[i]);
  }
  double p50 = mu_pct(lat, n, 50), p90 = mu_pct(lat, n, 90), p99 = mu_pct(lat, n, 99);
  printf("reads=%zu p50_us=%.1f p90_us=%.1f p99_us=%.1f mean_us=%.1f size=%" PRIu64
         " fold=%016" PRIx64 "\n",
         n, p50, p90, p99, n ? sum / (double)n : 0, r.size, fold);
  mu_ref_close(&r);
  free(off);
  free(lat);
  return 0;
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "";
  if (!strcmp(cmd, "touch") && argc == 3)
    return cmd_touch(argv[2]);
  if (!strcmp(cmd, "random") && (argc == 5 || argc == 6))
    return cmd_random(argv[2], strtoul(argv[3], NULL, 10), strtoull(argv[4], NULL, 10),
                      argc == 6 ? argv[5] : NULL);
  if (!strcmp(cmd, "threads") && argc == 4) {
    long t = strtol(argv[3], NULL, 10);
    if (t < 1 || t > 64)
      return 2;
    return cmd_threads(argv[2], (int)t);
  }
  if (!strcmp(cmd, "first") && argc == 3)
    return cmd_first(argv[2]);
  if (!strcmp(cmd, "rangeget") && argc == 5)
    return cmd_rangeget(argv[2], strtoul(argv[3], NULL, 10), strtoull(argv[4], NULL, 10));
  fprintf(stderr, "usage: bench_map touch|random|threads|first|rangeget ... (see bench_map.c)\n");
  return 2;
}
