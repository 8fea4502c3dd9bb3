/*
 * log.h - leveled logging to stderr (MMAPURL_LOG=error|warn|info|debug).
 * Every line passes through the redactor: Authorization, X-Amz-Security-Token,
 * X-Amz-Signature and AWS secret keys never reach the output.
 */
#ifndef MU_LOG_H
#define MU_LOG_H

enum mu_log_level { MU_LOG_ERROR = 0, MU_LOG_WARN = 1, MU_LOG_INFO = 2, MU_LOG_DEBUG = 3 };

void mu_log(enum mu_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Whether a message at level would be printed (to skip costly formatting). */
int mu_log_enabled(enum mu_log_level level);
/* Set the threshold (done once from the configuration). */
void mu_log_set_level(enum mu_log_level level);

/* Redact secrets in place in a NUL-terminated line: header values of
 * Authorization and X-Amz-Security-Token, query values of X-Amz-Signature,
 * X-Amz-Credential's and X-Amz-Security-Token, and any registered secret. */
void mu_log_redact(char *line);
/* Register a secret string (e.g. the secret access key) to be masked
 * wherever it appears. The string is copied. At most a few are kept. */
void mu_log_add_secret(const char *secret);

#define MU_ERROR(...) mu_log(MU_LOG_ERROR, __VA_ARGS__)
#define MU_WARN(...) mu_log(MU_LOG_WARN, __VA_ARGS__)
#define MU_INFO(...) mu_log(MU_LOG_INFO, __VA_ARGS__)
#define MU_DEBUG(...)                                                          \
  do {                                                                         \
    if (mu_log_enabled(MU_LOG_DEBUG))                                          \
      mu_log(MU_LOG_DEBUG, __VA_ARGS__);                                       \
  } while (0)

#endif
