/*
 * config.c - every setting mmapurl takes from the environment (AWS_* and
 * MMAPURL_*), parsed and validated in one place, once per process.
 * This is the only file that may call getenv. It must never echo the value
 * of a secret variable (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN) in an error detail, and never leave a half-filled
 * configuration behind on failure.
 */
#include "util/config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "mmapurl.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/stats.h"

#define QUOTE_MAX 100 /* bytes of a value quoted in a detail before "..." */
#define SIZE_HELP "expected a size such as 64K, 8M or 1G"
#define DURATION_HELP "expected a duration such as 250ms, 10s or 10 (seconds)"

/* The source of the variables: a getenv-like function and its context. */
struct env {
  mu_getenv_fn get;
  void *ctx;
};

/* The value of name as given ("" included), or NULL when unset. */
static const char *env_raw(const struct env *e, const char *name) { return e->get(name, e->ctx); }

/* The value of name, with "" counted as unset (as the AWS CLI does). */
static const char *env_set(const struct env *e, const char *name) {
  const char *v = env_raw(e, name);
  return v && *v ? v : NULL;
}

/* Copy v into dst (QUOTE_MAX + 8 bytes) for a detail: control bytes become
 * \xNN and a long value is cut with "...". */
static void quote(char *dst, const char *v) {
  size_t o = 0;
  const unsigned char *p = (const unsigned char *)v;
  for (; *p && o < QUOTE_MAX; p++) {
    if (*p < 0x20 || *p == 0x7F || *p == '"')
      o += (size_t)snprintf(dst + o, 5, "\\x%02X", *p);
    else
      dst[o++] = (char)*p;
  }
  memcpy(dst + o, *p ? "..." : "", *p ? 4 : 1);
}

/* Fail with MMAPURL_E_CONFIG: `NAME="value": why`. */
static int bad_value(const char *name, const char *value, const char *why) {
  char q[QUOTE_MAX + 8];
  quote(q, value);
  return mu_fail(MMAPURL_E_CONFIG, "%s=\"%s\": %s", name, q, why);
}

/* Parse decimal digits at *s (at least one) into *out, advancing *s.
 * Returns 0, or -1 on no digits or overflow. */
static int parse_digits(const char **s, uint64_t *out) {
  const char *p = *s;
  uint64_t v = 0;
  if (*p < '0' || *p > '9')
    return -1;
  for (; *p >= '0' && *p <= '9'; p++) {
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  *s = p;
  *out = v;
  return 0;
}

/* The power of 1024 a size unit letter stands for, or -1. */
static int unit_shift(char c) {
  switch (c) {
  case 'k': case 'K': return 10;
  case 'm': case 'M': return 20;
  case 'g': case 'G': return 30;
  default: return -1;
  }
}

/* The shift the suffix of a size stands for ("", "B", "K", "KB", "KiB", ...,
 * case-insensitive), or -1 when it is not one. */
static int size_suffix_shift(const char *p) {
  if (*p == '\0' || strcasecmp(p, "b") == 0)
    return 0;
  int shift = unit_shift(*p);
  if (shift < 0)
    return -1;
  p++;
  if (*p == '\0' || strcasecmp(p, "b") == 0 || strcasecmp(p, "ib") == 0)
    return shift;
  return -1;
}

int mu_parse_size(const char *s, uint64_t *out) {
  const char *p = s;
  uint64_t v;
  if (!s || parse_digits(&p, &v) != 0)
    return bad_value("size", s ? s : "", SIZE_HELP);
  int shift = size_suffix_shift(p);
  if (shift < 0 || v > (UINT64_MAX >> shift))
    return bad_value("size", s, SIZE_HELP);
  *out = v << shift;
  return 0;
}

int mu_parse_duration_ms(const char *s, long *out) {
  const char *p = s;
  uint64_t v;
  if (!s || parse_digits(&p, &v) != 0)
    return bad_value("duration", s ? s : "", DURATION_HELP);
  uint64_t scale;
  if (strcasecmp(p, "ms") == 0)
    scale = 1;
  else if (*p == '\0' || strcasecmp(p, "s") == 0)
    scale = 1000;
  else
    return bad_value("duration", s, DURATION_HELP);
  if (v > (uint64_t)LONG_MAX / scale)
    return bad_value("duration", s, DURATION_HELP);
  *out = (long)(v * scale);
  return 0;
}

/* Copy src (NULL allowed: *dst = NULL) into *dst. 0 or MMAPURL_E_NOMEM. */
static int dup_opt(char **dst, const char *src) {
  *dst = src ? strdup(src) : NULL;
  if (src && !*dst)
    return mu_fail(MMAPURL_E_NOMEM, "out of memory while reading the configuration");
  return 0;
}

/* A secret variable ("" is unset): copied, its value never echoed. Spaces
 * and control bytes (a pasted newline) are rejected: they could never sign. */
static int get_secret(const struct env *e, const char *name, char **dst) {
  const char *v = env_set(e, name);
  *dst = NULL;
  for (const unsigned char *p = (const unsigned char *)v; p && *p; p++)
    if (*p <= 0x20 || *p == 0x7F)
      return mu_fail(MMAPURL_E_CONFIG,
                     "%s contains a space or a control character (a stray newline?); "
                     "its value is not shown",
                     name);
  return dup_opt(dst, v);
}

/* A file path from name ("~/" expanded with $HOME), else $HOME/home_rel;
 * NULL when neither is available (HOME unset). */
static int get_path(const struct env *e, const char *name, const char *home_rel, char **dst) {
  const char *v = env_set(e, name), *home = env_set(e, "HOME");
  int tilde = v && v[0] == '~' && (v[1] == '/' || v[1] == '\0');
  *dst = NULL;
  if (v && (!tilde || !home))
    return dup_opt(dst, v);
  if (!home)
    return 0;
  struct mu_buf b = MU_BUF_INIT;
  if (mu_buf_printf(&b, "%s/%s", home, v ? v + (v[1] ? 2 : 1) : home_rel) != 0)
    return mu_fail(MMAPURL_E_NOMEM, "out of memory while reading the configuration");
  *dst = mu_buf_steal(&b);
  return 0;
}

/* One accepted spelling of an enumerated variable and its value. */
struct choice {
  const char *word;
  int value;
};

/* Set *out from v matched case-insensitively against choices (n of them),
 * or to dflt when v is NULL. MMAPURL_E_CONFIG with help otherwise. */
static int get_choice(const char *name, const char *v, const struct choice *choices, size_t n,
                      const char *help, int dflt, int *out) {
  *out = dflt;
  if (!v)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(v, choices[i].word) == 0) {
      *out = choices[i].value;
      return 0;
    }
  return bad_value(name, v, help);
}

/* An integer variable in [lo, hi], dflt when unset. */
static int get_int(const char *name, const char *v, int lo, int hi, int dflt, int *out) {
  const char *p = v;
  uint64_t n;
  *out = dflt;
  if (!v)
    return 0;
  if (parse_digits(&p, &n) != 0 || *p != '\0' || n < (uint64_t)lo || n > (uint64_t)hi) {
    char help[64];
    snprintf(help, sizeof help, "expected an integer from %d to %d", lo, hi);
    return bad_value(name, v, help);
  }
  *out = (int)n;
  return 0;
}

/* A duration variable, dflt_ms when unset; 0 is refused unless zero_ok. */
static int get_duration(const struct env *e, const char *name, long dflt_ms, int zero_ok,
                        long *out) {
  const char *v = env_raw(e, name);
  *out = dflt_ms;
  if (!v)
    return 0;
  if (mu_parse_duration_ms(v, out) != 0)
    return bad_value(name, v, DURATION_HELP);
  if (*out == 0 && !zero_ok)
    return bad_value(name, v, "must be more than 0");
  return 0;
}

/* AWS_ENDPOINT_URL_S3 > AWS_ENDPOINT_URL: an http(s) URL, trailing '/' cut. */
static int get_endpoint(const struct env *e, char **dst) {
  const char *name = "AWS_ENDPOINT_URL_S3", *v = env_set(e, name);
  if (!v) {
    name = "AWS_ENDPOINT_URL";
    v = env_set(e, name);
  }
  *dst = NULL;
  if (!v)
    return 0;
  size_t scheme = strncasecmp(v, "http://", 7) == 0 ? 7 : strncasecmp(v, "https://", 8) == 0 ? 8 : 0;
  size_t len = strlen(v);
  while (len > scheme && v[len - 1] == '/')
    len--;
  int blank = 0;
  for (const unsigned char *p = (const unsigned char *)v; *p; p++)
    blank |= *p <= 0x20 || *p == 0x7F;
  if (scheme == 0 || len == scheme || blank)
    return bad_value(name, v, "expected an http:// or https:// URL such as https://s3.example.com");
  *dst = strndup(v, len);
  return *dst ? 0 : mu_fail(MMAPURL_E_NOMEM, "out of memory while reading the configuration");
}

/* AWS_CA_BUNDLE: a file that must exist. */
static int get_ca_bundle(const struct env *e, char **dst) {
  const char *v = env_set(e, "AWS_CA_BUNDLE");
  struct stat st;
  *dst = NULL;
  if (!v)
    return 0;
  if (stat(v, &st) != 0)
    return bad_value("AWS_CA_BUNDLE", v,
                     errno == ENOENT ? "no such file" : "the file cannot be accessed");
  if (S_ISDIR(st.st_mode))
    return bad_value("AWS_CA_BUNDLE", v, "is a directory; expected a PEM file of certificates");
  return dup_opt(dst, v);
}

/* MMAPURL_BLOCK_SIZE: 4K..64M, a multiple of 4096, default 16K. */
static int get_block_size(const struct env *e, size_t *out) {
  const char *name = "MMAPURL_BLOCK_SIZE", *v = env_raw(e, name);
  uint64_t n = 16 * 1024;
  if (v && mu_parse_size(v, &n) != 0)
    return bad_value(name, v, SIZE_HELP);
  if (n < 4096 || n > 64 * 1024 * 1024)
    return bad_value(name, v, "must be from 4K to 64M");
  if (n % 4096 != 0)
    return bad_value(name, v, "must be a multiple of 4096 (4K)");
  *out = (size_t)n;
  return 0;
}

/* A size variable in [min, max], default def; max bounds typos like 64T. */
static int get_size(const struct env *e, const char *name, uint64_t def, uint64_t min,
                    uint64_t max, const char *range, size_t *out) {
  const char *v = env_raw(e, name);
  uint64_t n = def;
  if (v && mu_parse_size(v, &n) != 0)
    return bad_value(name, v, SIZE_HELP);
  if (n != 0 && (n < min || n > max))
    return bad_value(name, v, range);
  *out = (size_t)n;
  return 0;
}

/* Credentials, profile and the two shared files. */
static int parse_aws_identity(struct mu_config *cfg, const struct env *e) {
  const char *profile = env_set(e, "AWS_PROFILE");
  if (!profile)
    profile = env_set(e, "AWS_DEFAULT_PROFILE");
  MU_TRY(get_secret(e, "AWS_ACCESS_KEY_ID", &cfg->access_key_id));
  MU_TRY(get_secret(e, "AWS_SECRET_ACCESS_KEY", &cfg->secret_access_key));
  MU_TRY(get_secret(e, "AWS_SESSION_TOKEN", &cfg->session_token));
  MU_TRY(dup_opt(&cfg->profile, profile ? profile : "default"));
  MU_TRY(get_path(e, "AWS_CONFIG_FILE", ".aws/config", &cfg->config_file));
  return get_path(e, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials", &cfg->credentials_file);
}

/* Anonymous access, region, endpoint, CA bundle, attempts. */
static int parse_aws_service(struct mu_config *cfg, const struct env *e) {
  static const struct choice bools[] = {{"true", 1}, {"1", 1}, {"yes", 1},
                                        {"false", 0}, {"0", 0}, {"no", 0}};
  const char *region = env_set(e, "AWS_REGION");
  if (!region)
    region = env_set(e, "AWS_DEFAULT_REGION");
  MU_TRY(get_choice("AWS_NO_SIGN_REQUEST", env_set(e, "AWS_NO_SIGN_REQUEST"), bools,
                    sizeof bools / sizeof bools[0], "expected true or false", 0, &cfg->no_sign));
  MU_TRY(dup_opt(&cfg->region, region));
  MU_TRY(get_endpoint(e, &cfg->endpoint_url));
  MU_TRY(get_ca_bundle(e, &cfg->ca_bundle));
  return get_int("AWS_MAX_ATTEMPTS", env_set(e, "AWS_MAX_ATTEMPTS"), 1, 100, 5,
                 &cfg->max_attempts);
}

/* MMAPURL_ADDRESSING, MMAPURL_LOG and MMAPURL_STATS. */
static int parse_mmapurl_modes(struct mu_config *cfg, const struct env *e) {
  static const struct choice addressing[] = {
      {"auto", MU_ADDR_AUTO}, {"path", MU_ADDR_PATH}, {"virtual", MU_ADDR_VIRTUAL}};
  static const struct choice levels[] = {
      {"error", MU_LOG_ERROR}, {"warn", MU_LOG_WARN}, {"info", MU_LOG_INFO}, {"debug", MU_LOG_DEBUG}};
  int mode;
  MU_TRY(get_choice("MMAPURL_ADDRESSING", env_raw(e, "MMAPURL_ADDRESSING"), addressing,
                    sizeof addressing / sizeof addressing[0], "expected path, virtual or auto",
                    MU_ADDR_AUTO, &mode));
  cfg->addressing = (enum mu_addressing)mode;
  MU_TRY(get_choice("MMAPURL_LOG", env_raw(e, "MMAPURL_LOG"), levels,
                    sizeof levels / sizeof levels[0], "expected error, warn, info or debug",
                    MU_LOG_WARN, &cfg->log_level));
  const char *stats = env_raw(e, "MMAPURL_STATS");
  if (stats && (*stats == '\0' || strcmp(stats, "0") == 0))
    stats = NULL;
  return dup_opt(&cfg->stats, stats);
}

/* Block size, cache, readahead, timeouts, backoff and the connection pool. */
static int parse_mmapurl_tuning(struct mu_config *cfg, const struct env *e) {
  MU_TRY(get_block_size(e, &cfg->block_size));
  MU_TRY(get_size(e, "MMAPURL_CACHE_MAX", (uint64_t)1 << 30, (uint64_t)1 << 20,
                  (uint64_t)1 << 40, "must be 0 (no limit) or from 1M to 1T", &cfg->cache_max));
  MU_TRY(get_size(e, "MMAPURL_READAHEAD_MAX", (uint64_t)64 << 20, 0, (uint64_t)1 << 30,
                  "must be at most 1G (0: no readahead)", &cfg->readahead_max));
  MU_TRY(get_duration(e, "MMAPURL_CONNECT_TIMEOUT", 10000, 0, &cfg->connect_timeout_ms));
  MU_TRY(get_duration(e, "MMAPURL_STALL_TIMEOUT", 30000, 0, &cfg->stall_timeout_ms));
  MU_TRY(get_duration(e, "MMAPURL_RETRY_BASE", 100, 1, &cfg->retry_base_ms));
  MU_TRY(get_duration(e, "MMAPURL_RETRY_MAX", 10000, 1, &cfg->retry_max_ms));
  return get_int("MMAPURL_MAX_CONNECTIONS", env_raw(e, "MMAPURL_MAX_CONNECTIONS"), 1, 1024, 32,
                 &cfg->max_connections);
}

int mu_config_parse(struct mu_config *cfg, mu_getenv_fn get, void *ctx) {
  struct env e = {get, ctx};
  memset(cfg, 0, sizeof *cfg);
  int rc = parse_aws_identity(cfg, &e);
  if (rc == 0)
    rc = parse_aws_service(cfg, &e);
  if (rc == 0)
    rc = parse_mmapurl_modes(cfg, &e);
  if (rc == 0)
    rc = parse_mmapurl_tuning(cfg, &e);
  if (rc != 0)
    mu_config_free(cfg);
  return rc;
}

/* Zero then free a string that may hold a secret. */
static void free_secret(char *s) {
  if (s)
    explicit_bzero(s, strlen(s));
  free(s);
}

void mu_config_free(struct mu_config *cfg) {
  if (!cfg)
    return;
  free_secret(cfg->access_key_id);
  free_secret(cfg->secret_access_key);
  free_secret(cfg->session_token);
  free(cfg->profile);
  free(cfg->config_file);
  free(cfg->credentials_file);
  free(cfg->region);
  free(cfg->endpoint_url);
  free(cfg->ca_bundle);
  free(cfg->stats);
  memset(cfg, 0, sizeof *cfg);
}

/* The process's configuration: written once under config_once, read-only
 * afterwards. On failure the code and detail are kept to be reported again. */
static pthread_once_t config_once = PTHREAD_ONCE_INIT;
static struct mu_config config;
static int config_rc;
static char config_detail[512];

/* The real environment, for mu_config_parse. The one getenv of mmapurl. */
static const char *real_getenv(const char *name, void *ctx) { return getenv(name); }

/* First use: parse the environment, then apply logging, redaction, stats. */
static void config_load(void) {
  config_rc = mu_config_parse(&config, real_getenv, NULL);
  if (config_rc != 0) {
    snprintf(config_detail, sizeof config_detail, "%s", mu_err_detail());
    return;
  }
  mu_log_set_level((enum mu_log_level)config.log_level);
  mu_log_add_secret(config.secret_access_key);
  mu_log_add_secret(config.session_token);
  mu_stats_install_report(config.stats);
}

int mu_config_get(const struct mu_config **out) {
  pthread_once(&config_once, config_load);
  if (config_rc != 0) {
    *out = NULL;
    return mu_fail(config_rc, "%s", config_detail);
  }
  *out = &config;
  return 0;
}

int mu_config_shim(struct mu_shim_config *out) {
  struct env e = {.get = real_getenv, .ctx = NULL};
  int rc = 0;
  memset(out, 0, sizeof *out);
  snprintf(out->prefix, sizeof out->prefix, "/s3");
  const char *p = env_set(&e, "MMAPURL_PREFIX");
  if (p) {
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
      n--;
    if (p[0] != '/' || n < 2 || n >= sizeof out->prefix)
      rc = bad_value("MMAPURL_PREFIX", p, "expected an absolute path other than /, such as /s3");
    else
      snprintf(out->prefix, sizeof out->prefix, "%.*s", (int)n, p);
  }
  out->prefix_len = strlen(out->prefix);
  int ttl_rc = get_duration(&e, "MMAPURL_STAT_TTL", 60000, 1, &out->stat_ttl_ms);
  if (ttl_rc != 0) {
    out->stat_ttl_ms = 60000;
    rc = rc ? rc : ttl_rc;
  }
  out->ld_preload = env_set(&e, "LD_PRELOAD");
  out->cwd = env_set(&e, "MMAPURL_SHIM_CWD");
  return rc;
}
