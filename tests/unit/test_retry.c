/* test_retry - which failures are retried, and that backoff is full jitter
 * under an exponentially growing, capped ceiling. */
#include "check.h"
#include "http/retry.h"
#include "mmapurl.h"

static void classify(void) {
  /* transport failures and server errors are transient */
  CHECK(mu_retry_retryable(MMAPURL_E_NETWORK, 0, NULL));
  CHECK(mu_retry_retryable(MMAPURL_E_TIMEOUT, 0, NULL));
  CHECK(mu_retry_retryable(0, 500, NULL));
  CHECK(mu_retry_retryable(0, 503, "SlowDown"));
  CHECK(mu_retry_retryable(0, 429, ""));
  CHECK(mu_retry_retryable(0, 400, "RequestTimeout"));
  /* other 4xx and TLS never are */
  CHECK(!mu_retry_retryable(MMAPURL_E_TLS, 0, NULL));
  CHECK(!mu_retry_retryable(0, 404, "NoSuchKey"));
  CHECK(!mu_retry_retryable(0, 403, "AccessDenied"));
  CHECK(!mu_retry_retryable(0, 403, "SignatureDoesNotMatch"));
  CHECK(!mu_retry_retryable(0, 412, "PreconditionFailed"));
  CHECK(!mu_retry_retryable(MMAPURL_E_PROTOCOL, 0, NULL));
}

static void backoff(void) {
  /* attempt n waits in [0, min(cap, base * 2^(n-1))] and is not constant */
  for (int attempt = 1; attempt <= 12; attempt++) {
    long ceiling = 100L << (attempt - 1);
    if (ceiling > 5000)
      ceiling = 5000;
    long lo = ceiling, hi = 0;
    for (int i = 0; i < 2000; i++) {
      long ms = mu_retry_backoff_ms(attempt, 100, 5000);
      CHECK(ms >= 0 && ms <= ceiling);
      lo = ms < lo ? ms : lo;
      hi = ms > hi ? ms : hi;
    }
    CHECK(lo < ceiling / 4);
    CHECK(hi > ceiling * 3 / 4);
  }
  /* degenerate inputs give no wait rather than garbage */
  CHECK_INT(mu_retry_backoff_ms(0, 100, 5000), 0);
  CHECK_INT(mu_retry_backoff_ms(3, 0, 5000), 0);
  /* a huge attempt number does not overflow past the cap */
  CHECK(mu_retry_backoff_ms(1000, 100, 5000) <= 5000);
}

int main(void) {
  classify();
  backoff();
  return check_done();
}
