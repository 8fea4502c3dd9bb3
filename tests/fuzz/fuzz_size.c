/*
 * fuzz_size - mu_parse_size and mu_parse_duration_ms on arbitrary strings.
 * Invariants: a failure is MMAPURL_E_CONFIG and leaves *out alone; a size that
 * parses re-parses to the same value from its decimal form (with "B" too), a
 * plain number N parses with K/M/G/KiB suffixes to N << 10/20/30 exactly when
 * that fits; a duration that parses is >= 0 and re-parses from "<ms>ms" (and
 * "<s>s" and "<s>" when whole seconds) to the same value.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>

#include "fuzz.h"
#include "mmapurl.h"
#include "util/config.h"

static void check_size(const char *s) {
  uint64_t v = 12345, again = 0;
  int rc = mu_parse_size(s, &v);
  if (rc != 0) {
    FUZZ_CHECK(rc == MMAPURL_E_CONFIG && v == 12345);
    return;
  }
  FUZZ_CHECK(s[0] >= '0' && s[0] <= '9');
  char dec[32];
  snprintf(dec, sizeof dec, "%" PRIu64, v);
  FUZZ_CHECK(mu_parse_size(dec, &again) == 0 && again == v);
  snprintf(dec, sizeof dec, "%" PRIu64 "B", v);
  again = 0;
  FUZZ_CHECK(mu_parse_size(dec, &again) == 0 && again == v);

  if (strspn(s, "0123456789") != strlen(s) || strlen(s) > 40)
    return;
  static const struct {
    const char *suffix;
    int shift;
  } units[] = {{"K", 10}, {"m", 20}, {"G", 30}, {"kb", 10}, {"MiB", 20}, {"gIB", 30}};
  for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s%s", s, units[i].suffix);
    uint64_t u = 7;
    int urc = mu_parse_size(buf, &u);
    if (v <= (UINT64_MAX >> units[i].shift))
      FUZZ_CHECK(urc == 0 && u == v << units[i].shift);
    else
      FUZZ_CHECK(urc == MMAPURL_E_CONFIG && u == 7);
  }
}

static void check_duration(const char *s) {
  long ms = 12345, again = -1;
  int rc = mu_parse_duration_ms(s, &ms);
  if (rc != 0) {
    FUZZ_CHECK(rc == MMAPURL_E_CONFIG && ms == 12345);
    return;
  }
  FUZZ_CHECK(ms >= 0);
  FUZZ_CHECK(s[0] >= '0' && s[0] <= '9');
  char buf[32];
  snprintf(buf, sizeof buf, "%ldms", ms);
  FUZZ_CHECK(mu_parse_duration_ms(buf, &again) == 0 && again == ms);
  if (ms % 1000 == 0) {
    snprintf(buf, sizeof buf, "%lds", ms / 1000);
    again = -1;
    FUZZ_CHECK(mu_parse_duration_ms(buf, &again) == 0 && again == ms);
    snprintf(buf, sizeof buf, "%ld", ms / 1000);
    again = -1;
    FUZZ_CHECK(mu_parse_duration_ms(buf, &again) == 0 && again == ms);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = fuzz_cstr(data, size);
  check_size(s);
  check_duration(s);
  free(s);
  return 0;
}
