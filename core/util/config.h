/*
 * config.h - every setting mmapurl takes from the environment, read in this
 * one module and nowhere else (nothing else calls getenv). README.md has the
 * table of variables and defaults; keep it and mu_config_parse in step.
 * An invalid value is an error naming the variable and the value (except
 * for secrets, whose values are never echoed).
 */
#ifndef MU_CONFIG_H
#define MU_CONFIG_H

#include <stddef.h>
#include <stdint.h>

enum mu_addressing { MU_ADDR_AUTO = 0, MU_ADDR_PATH = 1, MU_ADDR_VIRTUAL = 2 };

struct mu_config {
  /* Credentials as given in the environment (NULL when unset). Owned. */
  char *access_key_id;     /* AWS_ACCESS_KEY_ID */
  char *secret_access_key; /* AWS_SECRET_ACCESS_KEY */
  char *session_token;     /* AWS_SESSION_TOKEN */
  char *profile;           /* AWS_PROFILE, else "default" */
  char *config_file;       /* AWS_CONFIG_FILE, else $HOME/.aws/config */
  char *credentials_file;  /* AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials */
  int no_sign;             /* AWS_NO_SIGN_REQUEST=true: anonymous requests */
  char *region;            /* AWS_REGION > AWS_DEFAULT_REGION; NULL: ask the profile */
  char *endpoint_url;      /* AWS_ENDPOINT_URL_S3 > AWS_ENDPOINT_URL; NULL: AWS */
  char *ca_bundle;         /* AWS_CA_BUNDLE; NULL: system default */
  int max_attempts;        /* AWS_MAX_ATTEMPTS, >= 1 (default 5) */
  enum mu_addressing addressing; /* MMAPURL_ADDRESSING */
  int log_level;           /* MMAPURL_LOG, an enum mu_log_level (default warn) */
  char *stats;             /* MMAPURL_STATS: NULL, "1" (stderr) or a .json path */
  size_t block_size;       /* MMAPURL_BLOCK_SIZE: bytes, multiple of 4096 */
  size_t cache_max;        /* MMAPURL_CACHE_MAX: bytes of all mappings; 0 = no limit */
  size_t readahead_max;    /* MMAPURL_READAHEAD_MAX: largest readahead window;
                              0 = no readahead */
  long connect_timeout_ms; /* MMAPURL_CONNECT_TIMEOUT */
  long stall_timeout_ms;   /* MMAPURL_STALL_TIMEOUT: no byte received for this long */
  long retry_base_ms;      /* MMAPURL_RETRY_BASE: first backoff ceiling */
  long retry_max_ms;       /* MMAPURL_RETRY_MAX: backoff ceiling cap */
  int max_connections;     /* MMAPURL_MAX_CONNECTIONS: keep-alive pool size */
};

/* Returns the value of an environment variable or NULL; ctx is opaque. */
typedef const char *(*mu_getenv_fn)(const char *name, void *ctx);

/* Fill *cfg from get (defaults for unset variables). Returns 0, or
 * MMAPURL_E_CONFIG / MMAPURL_E_NOMEM with a detail naming the variable and
 * its value. On failure *cfg holds nothing to free. */
int mu_config_parse(struct mu_config *cfg, mu_getenv_fn get, void *ctx);
void mu_config_free(struct mu_config *cfg);

/* The process's configuration, parsed from the real environment on first
 * use (thread-safe, once). Returns 0 and sets *out, or the parse error
 * (the same error again on every call). Also applies the log level and
 * installs the stats report. */
int mu_config_get(const struct mu_config **out);

/* The LD_PRELOAD shim's own settings, read from the real environment when
 * the shim loads (before anything else of mmapurl runs). */
struct mu_shim_config {
  char prefix[256];       /* MMAPURL_PREFIX without a trailing '/' (default "/s3") */
  size_t prefix_len;
  long stat_ttl_ms;       /* MMAPURL_STAT_TTL: how long stat and listing
                             results are reused (default 60s; 0: never) */
  const char *ld_preload; /* LD_PRELOAD as this process got it, or NULL */
  const char *cwd;        /* MMAPURL_SHIM_CWD: the parent's working directory
                             when it was one of ours (internal), or NULL */
};
/* Fill *out. 0, or MMAPURL_E_CONFIG with a detail naming the variable
 * (*out then holds the defaults for the invalid settings). */
int mu_config_shim(struct mu_shim_config *out);

/* "64K", "8M", "1G", "4096" (K/M/G are powers of 1024, case-insensitive,
 * an optional trailing "B" or "iB" accepted). 0 or MMAPURL_E_CONFIG. */
int mu_parse_size(const char *s, uint64_t *out);
/* "250ms", "10s", "10" (seconds). 0 or MMAPURL_E_CONFIG. */
int mu_parse_duration_ms(const char *s, long *out);

#endif
