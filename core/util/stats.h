/*
 * stats.h - process-wide counters (atomic, lock-free) and their reports:
 * MMAPURL_STATS=1 prints a summary to stderr at exit, MMAPURL_STATS=/path.json
 * writes JSON there at exit. Counters hold numbers only (plus the name of
 * the userfaultfd mode): never a URL, key or credential.
 */
#ifndef MU_STATS_H
#define MU_STATS_H

#include <stdint.h>

enum mu_stat {
  MU_STAT_REQUESTS,
  MU_STAT_BYTES_DOWNLOADED,
  MU_STAT_RETRIES,
  MU_STAT_ERRORS,
  MU_STAT_OBJECTS_OPENED,
  MU_STAT_FAULTS,       /* page faults served by the mapping layer */
  MU_STAT_EVICTIONS,    /* blocks dropped to stay under a cache limit */
  MU_STAT_CACHE_BYTES,  /* gauge: bytes resident or in flight, all mappings */
  MU_STAT_CACHE_PEAK,   /* high-water mark of MU_STAT_CACHE_BYTES */
  MU_STAT_COUNT
};

void mu_stat_add(enum mu_stat which, uint64_t n);
void mu_stat_sub(enum mu_stat which, uint64_t n);
/* Raise which to n if n is larger (for high-water marks). */
void mu_stat_max(enum mu_stat which, uint64_t n);
/* The userfaultfd mode in use, a static string, for the reports. */
void mu_stats_set_uffd_mode(const char *mode);
uint64_t mu_stat_read(enum mu_stat which);
/* Install the at-exit report for MMAPURL_STATS (value as configured; NULL or
 * "" for none). Called once, from the configuration's first load. */
void mu_stats_install_report(const char *dest);
/* Write the JSON report to path now; 0 or MMAPURL_E_CONFIG. */
int mu_stats_write_json(const char *path);

#endif
