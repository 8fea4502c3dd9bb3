/*
 * bench_common.h - shared by scripts/bench's helper programs (bench_io.c,
 * bench_map.c): the clock, the fixed-seed offsets of the random reads, and
 * the two checksums ("folds") that let scripts/bench compare what a program
 * read with the same reads of the local copy.
 *
 *   page fold:  XOR over the object's 4 KiB pages i of (first 8 bytes of
 *               page i, little-endian) * (2i+1). Order-independent, so one
 *               thread or many, mapping or read(), give the same value.
 *   read fold:  sum over the random reads of FNV-1a-64(the 4 KiB read) XOR
 *               its offset. Order-independent as well.
 */
#ifndef MU_BENCH_COMMON_H
#define MU_BENCH_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MU_PAGE 4096u

static inline double mu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: the same offsets on every machine for the same seed. */
static inline uint64_t mu_rand(uint64_t *s) {
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1DULL;
}

/* n page-aligned offsets of 4 KiB reads inside an object of `size` bytes
 * (size >= 4096); malloc'd. */
static inline uint64_t *mu_offsets(uint64_t size, size_t n, uint64_t seed) {
  uint64_t *o = malloc(n * sizeof *o);
  uint64_t s = seed ? seed : 1, pages = size / MU_PAGE;
  if (!o)
    return NULL;
  for (size_t i = 0; i < n; i++)
    o[i] = (mu_rand(&s) % pages) * MU_PAGE;
  return o;
}

static inline uint64_t mu_page_word(const unsigned char *p, size_t avail) {
  unsigned char b[8] = {0};
  memcpy(b, p, avail < 8 ? avail : 8);
  uint64_t w = 0;
  for (int i = 7; i >= 0; i--)
    w = (w << 8) | b[i];
  return w;
}

/* Page fold term of page index i whose first bytes are p (avail of them). */
static inline uint64_t mu_page_term(uint64_t i, const unsigned char *p, size_t avail) {
  return mu_page_word(p, avail) * (2 * i + 1);
}

/* Read fold term of one read of len bytes at off. */
static inline uint64_t mu_read_term(const unsigned char *p, size_t len, uint64_t off) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h ^ off;
}

static int mu_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Percentile q (0..100) of v[0..n), which is sorted in place. */
static inline double mu_pct(double *v, size_t n, double q) {
  if (n == 0)
    return 0;
  qsort(v, n, sizeof *v, mu_cmp_double);
  size_t i = (size_t)(q / 100.0 * (double)(n - 1) + 0.5);
  return v[i < n ? i : n - 1];
}

#endif
