/*
 * creds.c - the credential and region chain, resolved as the AWS CLI does:
 * anonymous (AWS_NO_SIGN_REQUEST) > environment > shared credentials file
 * [PROFILE] > shared config file [profile PROFILE] ([default]); region from
 * the environment > the config file's profile > us-east-1.
 * Must never log a secret or put one in an error detail: details name
 * variables, files, sections and keys, never values. Secrets found in files
 * are registered with the log redactor, and wiped when freed.
 */
#include "auth/creds.h"

#include <stdlib.h>
#include <string.h>

#include "auth/ini.h"
#include "mmapurl.h"
#include "util/buf.h"
#include "util/config.h"
#include "util/error.h"
#include "util/log.h"

#define DEFAULT_REGION "us-east-1"
#define KEY_ID "aws_access_key_id"
#define SECRET "aws_secret_access_key"
#define TOKEN "aws_session_token"

/* A shared file, read on first need. */
struct shared_file {
  const char *path;   /* from the configuration; NULL when unknown (no HOME) */
  struct mu_ini *ini; /* owned; NULL while not loaded or when missing */
  int loaded;
};

/* One resolution: the configuration, both files and the profile's names. */
struct chain {
  const struct mu_config *cfg;
  const char *profile;   /* cfg->profile, "default" when NULL */
  struct shared_file creds, config;
  char *config_section;  /* owned: "profile NAME" or "default" */
};

static int nomem(void) { return mu_fail(MMAPURL_E_NOMEM, "out of memory resolving AWS credentials"); }

/* s, or NULL when s is NULL or "" (an empty value is no value). */
static const char *nonempty(const char *s) { return s && *s ? s : NULL; }

/* Zero then free a string that may be secret. */
static void free_secret(char *s) {
  if (s)
    explicit_bzero(s, strlen(s));
  free(s);
}

/* Parse f on first call; a missing file (or no path) leaves f->ini NULL. */
static int load(struct shared_file *f) {
  if (f->loaded)
    return 0;
  if (f->path)
    MU_TRY(mu_ini_load(f->path, &f->ini));
  f->loaded = 1;
  return 0;
}

/* Load the config file and name the profile's section in it: "profile NAME",
 * or for the default profile "default" ("profile default" if only that
 * exists). */
static int load_config(struct chain *ch) {
  MU_TRY(load(&ch->config));
  if (ch->config_section)
    return 0;
  const struct mu_ini *ini = ch->config.ini;
  struct mu_buf name = MU_BUF_INIT;
  int plain = strcmp(ch->profile, "default") == 0 &&
              (mu_ini_has_section(ini, "default") || !mu_ini_has_section(ini, "profile default"));
  if (plain ? mu_buf_puts(&name, "default") : mu_buf_printf(&name, "profile %s", ch->profile))
    return nomem();
  ch->config_section = mu_buf_steal(&name);
  return ch->config_section ? 0 : nomem();
}

/* Fill out with copies of the pair (and token, which may be NULL). */
static int take(struct mu_creds *out, const char *id, const char *secret, const char *token,
                const char *source) {
  out->access_key_id = strdup(id);
  out->secret_access_key = strdup(secret);
  out->session_token = token ? strdup(token) : NULL;
  if (!out->access_key_id || !out->secret_access_key || (token && !out->session_token)) {
    mu_creds_free(out);
    return nomem();
  }
  out->source = source;
  return 0;
}

/* AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY: *found = 1 when both are set;
 * one without the other is an error naming the missing one. */
static int from_env(const struct chain *ch, struct mu_creds *out, int *found) {
  const char *id = nonempty(ch->cfg->access_key_id);
  const char *secret = nonempty(ch->cfg->secret_access_key);
  *found = id && secret;
  if (!id && !secret)
    return 0;
  if (!id || !secret)
    return mu_fail(MMAPURL_E_NO_CREDENTIALS,
                   "%s is set but %s is not: set both, or unset both to use profile \"%s\"",
                   id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                   id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID", ch->profile);
  return take(out, id, secret, nonempty(ch->cfg->session_token), "environment");
}

/* The key pair in section of f: *found = 1 when both keys are there; one
 * without the other is MMAPURL_E_CREDENTIALS_FILE naming file and profile. */
static int from_file(const struct chain *ch, const struct shared_file *f, const char *section,
                     const char *source, struct mu_creds *out, int *found) {
  const char *id = nonempty(mu_ini_get(f->ini, section, KEY_ID));
  const char *secret = nonempty(mu_ini_get(f->ini, section, SECRET));
  *found = id && secret;
  if (!id && !secret)
    return 0;
  if (!id || !secret)
    return mu_fail(MMAPURL_E_CREDENTIALS_FILE,
                   "%s: section [%s] (profile \"%s\") has %s but no %s: add the missing key "
                   "or remove both",
                   f->path, section, ch->profile, id ? KEY_ID : SECRET, id ? SECRET : KEY_ID);
  return take(out, id, secret, nonempty(mu_ini_get(f->ini, section, TOKEN)), source);
}

/* Append to b what became of f (called what) in the search for section. */
static void describe(struct mu_buf *b, const char *what, const struct shared_file *f,
                     const char *section) {
  if (!f->path)
    mu_buf_printf(b, "; %s: not looked for (HOME is unset)", what);
  else if (!f->ini)
    mu_buf_printf(b, "; %s %s does not exist", what, f->path);
  else if (mu_ini_has_section(f->ini, section))
    mu_buf_printf(b, "; %s %s has [%s] but no " KEY_ID "/" SECRET, what, f->path, section);
  else
    mu_buf_printf(b, "; %s %s has no [%s]", what, f->path, section);
}

/* Nothing found: name the profile and every place looked at. A profile
 * other than "default" that is in neither file is reported as not found. */
static int not_found(const struct chain *ch) {
  struct mu_buf b = MU_BUF_INIT;
  if (strcmp(ch->profile, "default") != 0 && !mu_ini_has_section(ch->creds.ini, ch->profile) &&
      !mu_ini_has_section(ch->config.ini, ch->config_section))
    mu_buf_printf(&b, "profile \"%s\" (AWS_PROFILE) not found", ch->profile);
  else
    mu_buf_printf(&b, "no credentials for profile \"%s\": AWS_ACCESS_KEY_ID and "
                      "AWS_SECRET_ACCESS_KEY are unset", ch->profile);
  describe(&b, "credentials file", &ch->creds, ch->profile);
  describe(&b, "config file", &ch->config, ch->config_section);
  int rc = b.p ? mu_fail(MMAPURL_E_NO_CREDENTIALS, "%s", b.p) : nomem();
  mu_buf_free(&b);
  return rc;
}

/* The credential chain, first match wins. */
static int resolve_creds(struct chain *ch, struct mu_creds *out) {
  int found;
  if (ch->cfg->no_sign) {
    out->anonymous = 1;
    out->source = "anonymous (AWS_NO_SIGN_REQUEST)";
    return 0;
  }
  MU_TRY(from_env(ch, out, &found));
  if (found)
    return 0;
  MU_TRY(load(&ch->creds));
  MU_TRY(load_config(ch));
  MU_TRY(from_file(ch, &ch->creds, ch->profile, "credentials file", out, &found));
  if (!found)
    MU_TRY(from_file(ch, &ch->config, ch->config_section, "config file", out, &found));
  if (!found)
    return not_found(ch);
  mu_log_add_secret(out->secret_access_key);
  mu_log_add_secret(out->session_token);
  return 0;
}

/* AWS_REGION/AWS_DEFAULT_REGION (in cfg) > the profile's "region" in the
 * config file > us-east-1. */
static int resolve_region(struct chain *ch, char **region) {
  const char *r = nonempty(ch->cfg->region);
  if (!r) {
    MU_TRY(load_config(ch));
    r = nonempty(mu_ini_get(ch->config.ini, ch->config_section, "region"));
  }
  *region = strdup(r ? r : DEFAULT_REGION);
  return *region ? 0 : nomem();
}

int mu_creds_resolve(const struct mu_config *cfg, struct mu_creds *out, char **region_out) {
  struct chain ch = {cfg, cfg->profile ? cfg->profile : "default",
                     {cfg->credentials_file, NULL, 0}, {cfg->config_file, NULL, 0}, NULL};
  memset(out, 0, sizeof *out);
  *region_out = NULL;
  int rc = resolve_creds(&ch, out);
  if (rc == 0)
    rc = resolve_region(&ch, region_out);
  if (rc != 0)
    mu_creds_free(out);
  mu_ini_free(ch.creds.ini);
  mu_ini_free(ch.config.ini);
  free(ch.config_section);
  return rc;
}

void mu_creds_free(struct mu_creds *c) {
  if (!c)
    return;
  free_secret(c->access_key_id);
  free_secret(c->secret_access_key);
  free_secret(c->session_token);
  memset(c, 0, sizeof *c);
}
