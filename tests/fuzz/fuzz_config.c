/*
 * fuzz_config - mu_config_parse over an environment taken from the input:
 * one "NAME=VALUE" per line (the first definition of a name wins; a line
 * without '=' is ignored), served by the getenv callback. Nothing reads the
 * real environment.
 * Invariants: on failure the code is MMAPURL_E_CONFIG (or NOMEM), *cfg is all
 * zero (nothing to free) and there is a detail; on success every field is in
 * its documented range and the credentials, profile and region are the
 * variables' values in their order of precedence; and the value of a secret
 * variable never shows in the detail: replacing each secret by a placeholder
 * that is valid or invalid alike gives the same result and the same detail.
 */
#include <stdio.h>
#include <strings.h>

#include "fuzz.h"
#include "mmapurl.h"
#include "util/config.h"
#include "util/error.h"
#include "util/log.h"

#define MAX_VARS 64

struct table {
  size_t n;
  char *name[MAX_VARS];
  char *value[MAX_VARS];
  int secret_swap;   /* second pass: answer secrets with a placeholder */
};

static const char *const secrets[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                      "AWS_SESSION_TOKEN"};

static int is_secret(const char *name) {
  for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++)
    if (strcmp(name, secrets[i]) == 0)
      return 1;
  return 0;
}

static const char *lookup(const struct table *t, const char *name) {
  for (size_t i = 0; i < t->n; i++)
    if (strcmp(t->name[i], name) == 0)
      return t->value[i];
  return NULL;
}

/* A value as good or as bad as v for a secret: "" stays unset, a value with a
 * space or control byte becomes " ", any other becomes "PLACEHOLDER". */
static const char *placeholder(const char *v) {
  if (!*v)
    return v;
  for (const unsigned char *p = (const unsigned char *)v; *p; p++)
    if (*p <= 0x20 || *p == 0x7F)
      return " ";
  return "PLACEHOLDER";
}

static const char *fuzz_getenv(const char *name, void *ctx) {
  const struct table *t = ctx;
  const char *v = lookup(t, name);
  if (v && t->secret_swap && is_secret(name))
    return placeholder(v);
  return v;
}

/* The value of a variable, "" counted as unset. */
static const char *set_value(const struct table *t, const char *name) {
  const char *v = lookup(t, name);
  return v && *v ? v : NULL;
}

static int same(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_success(const struct mu_config *c, const struct table *t) {
  for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++) {
    const char *got = i == 0 ? c->access_key_id : i == 1 ? c->secret_access_key : c->session_token;
    FUZZ_CHECK(same(got, set_value(t, secrets[i])));
    for (const unsigned char *p = (const unsigned char *)got; p && *p; p++)
      FUZZ_CHECK(*p > 0x20 && *p != 0x7F);
  }
  const char *profile = set_value(t, "AWS_PROFILE");
  if (!profile)
    profile = set_value(t, "AWS_DEFAULT_PROFILE");
  FUZZ_CHECK(same(c->profile, profile ? profile : "default"));
  const char *region = set_value(t, "AWS_REGION");
  if (!region)
    region = set_value(t, "AWS_DEFAULT_REGION");
  FUZZ_CHECK(same(c->region, region));
  if (!set_value(t, "HOME")) {
    FUZZ_CHECK(same(c->config_file, set_value(t, "AWS_CONFIG_FILE")));
    FUZZ_CHECK(same(c->credentials_file, set_value(t, "AWS_SHARED_CREDENTIALS_FILE")));
  } else {
    FUZZ_CHECK(c->config_file && c->credentials_file);
  }
  FUZZ_CHECK(c->no_sign == 0 || c->no_sign == 1);
  if (c->endpoint_url) {
    const char *e = c->endpoint_url;
    size_t scheme = strncasecmp(e, "http://", 7) == 0 ? 7 : strncasecmp(e, "https://", 8) == 0 ? 8 : 0;
    size_t len = strlen(e);
    FUZZ_CHECK(scheme && len > scheme && e[len - 1] != '/');
    for (const unsigned char *p = (const unsigned char *)e; *p; p++)
      FUZZ_CHECK(*p > 0x20 && *p != 0x7F);
  } else {
    FUZZ_CHECK(!set_value(t, "AWS_ENDPOINT_URL_S3") && !set_value(t, "AWS_ENDPOINT_URL"));
  }
  FUZZ_CHECK(c->max_attempts >= 1 && c->max_attempts <= 100);
  FUZZ_CHECK(c->addressing == MU_ADDR_AUTO || c->addressing == MU_ADDR_PATH ||
             c->addressing == MU_ADDR_VIRTUAL);
  FUZZ_CHECK(c->log_level >= MU_LOG_ERROR && c->log_level <= MU_LOG_DEBUG);
  FUZZ_CHECK(!c->stats || (c->stats[0] && strcmp(c->stats, "0") != 0));
  FUZZ_CHECK(c->block_size >= 4096 && c->block_size <= 64 * 1024 * 1024 && c->block_size % 4096 == 0);
  FUZZ_CHECK(c->cache_max == 0 || (c->cache_max >= ((size_t)1 << 20) && c->cache_max <= ((size_t)1 << 40)));
  FUZZ_CHECK(c->readahead_max <= ((size_t)1 << 30));
  FUZZ_CHECK(c->connect_timeout_ms > 0 && c->stall_timeout_ms > 0);
  FUZZ_CHECK(c->retry_base_ms >= 0 && c->retry_max_ms >= 0);
  FUZZ_CHECK(c->max_connections >= 1 && c->max_connections <= 1024);
}

static int all_zero(const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i])
      return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_cstr(data, size);
  struct table t = {0};
  for (char *line = text, *next; line && t.n < MAX_VARS; line = next) {
    char *nl = strchr(line, '\n');
    next = nl ? nl + 1 : NULL;
    if (nl)
      *nl = '\0';
    char *eq = strchr(line, '=');
    if (!eq)
      continue;
    *eq = '\0';
    t.name[t.n] = line;
    t.value[t.n++] = eq + 1;
  }

  struct mu_config c;
  memset(&c, 0x5A, sizeof c);
  int rc = mu_config_parse(&c, fuzz_getenv, &t);
  char detail[1024];
  snprintf(detail, sizeof detail, "%s", rc ? mu_err_detail() : "");
  if (rc != 0) {
    FUZZ_CHECK(rc == MMAPURL_E_CONFIG || rc == MMAPURL_E_NOMEM);
    FUZZ_CHECK(all_zero(&c, sizeof c));
    FUZZ_CHECK(detail[0] != '\0');
  } else {
    check_success(&c, &t);
  }
  mu_config_free(&c);
  FUZZ_CHECK(all_zero(&c, sizeof c));

  /* The secrets' values must not matter beyond being valid or not. */
  t.secret_swap = 1;
  struct mu_config c2;
  int rc2 = mu_config_parse(&c2, fuzz_getenv, &t);
  FUZZ_CHECK(rc2 == rc);
  if (rc2 != 0)
    FUZZ_CHECK(strncmp(detail, mu_err_detail(), sizeof detail - 1) == 0);
  mu_config_free(&c2);
  free(text);
  return 0;
}
