/*
 * retry.h - when to try a request again and how long to wait: exponential
 * backoff with full jitter (sleep a uniform random time in
 * [0, min(cap, base * 2^attempt)]). Pure, apart from the thread-local
 * random state of mu_retry_backoff_ms.
 */
#ifndef MU_RETRY_H
#define MU_RETRY_H

/* Whether a failed attempt may be retried: transport failures
 * (NETWORK, TIMEOUT), 5xx statuses, 429, and S3 throttling codes
 * (SlowDown, Throttling, RequestTimeout...). TLS errors and other 4xx: never. */
int mu_retry_retryable(int code, long http_status, const char *s3_code);

/* Milliseconds to sleep before attempt number `attempt` (1 = first retry). */
long mu_retry_backoff_ms(int attempt, long base_ms, long cap_ms);

/* Sleep ms milliseconds (restarting after signals). */
void mu_retry_sleep_ms(long ms);

#endif
