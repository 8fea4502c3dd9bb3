/*
 * retry.c - the retry policy: which failures are transient, and exponential
 * backoff with full jitter between attempts. Must never retry a request
 * whose failure another attempt cannot change (4xx other than throttling,
 * TLS verification).
 */
#include "http/retry.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "mmapurl.h"

static const char *const throttle_codes[] = {
    "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
    "RequestThrottled", "RequestTimeout", "InternalError", "ServiceUnavailable",
};

int mu_retry_retryable(int code, long http_status, const char *s3_code) {
  if (code == MMAPURL_E_NETWORK || code == MMAPURL_E_TIMEOUT)
    return 1;
  if (http_status >= 500 || http_status == 429)
    return 1;
  for (size_t i = 0; s3_code && i < sizeof throttle_codes / sizeof *throttle_codes; i++)
    if (strcmp(s3_code, throttle_codes[i]) == 0)
      return 1;
  return 0;
}

/* xorshift64*: cheap, thread-local, seeded from the clock and the stack. */
static uint64_t rand64(void) {
  static __thread uint64_t state;
  if (state == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    state = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&ts;
    state |= 1;
  }
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 2685821657736338717ULL;
}

long mu_retry_backoff_ms(int attempt, long base_ms, long cap_ms) {
  if (attempt < 1 || base_ms <= 0 || cap_ms <= 0)
    return 0;
  long ceiling = base_ms;
  for (int i = 1; i < attempt && ceiling < cap_ms; i++)
    ceiling *= 2;
  if (ceiling > cap_ms)
    ceiling = cap_ms;
  return (long)(rand64() % ((uint64_t)ceiling + 1));
}

void mu_retry_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}
