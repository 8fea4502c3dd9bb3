/*
 * test_creds.c - unit tests of core/auth/creds.c: the credential chain
 * (anonymous, environment, credentials file, config file), its precedence,
 * profiles, session tokens, half key pairs, missing files and profiles, and
 * the region chain. Files are written under a mkdtemp directory and removed.
 * No secret value may appear in any error detail.
 */
#include <stdlib.h>
#include <unistd.h>

#include "auth/creds.h"
#include "check.h"
#include "mmapurl.h"
#include "util/config.h"
#include "util/error.h"

/* Fake keys, as long as real ones (the log redactor ignores short strings). */
#define ENV_ID "AKIAENVENVENVENVENV1"
#define ENV_SECRET "envSecretenvSecretenvSecretenvSecret0001"
#define CRED_ID "AKIACREDCREDCREDCRE2"
#define CRED_SECRET "credSecretcredSecretcredSecretcredSecre2"
#define CONF_ID "AKIACONFCONFCONFCON3"
#define CONF_SECRET "confSecretconfSecretconfSecretconfSecre3"
#define TOKEN_VALUE "tokenValuetokenValuetokenValuetokenValue"

static char dir[] = "/tmp/test_creds.XXXXXX";
static char creds_path[256], config_path[256];

/* Write text to path, or remove path when text is NULL. */
static void put(const char *path, const char *text) {
  if (!text) {
    unlink(path);
    return;
  }
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f) {
    fputs(text, f);
    fclose(f);
  }
}

/* A configuration naming the two test files, for profile (NULL: default),
 * after writing them (NULL: absent). */
static struct mu_config setup(const char *profile, const char *creds, const char *config) {
  struct mu_config cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.profile = (char *)(profile ? profile : "default");
  cfg.credentials_file = creds_path;
  cfg.config_file = config_path;
  put(creds_path, creds);
  put(config_path, config);
  return cfg;
}

/* The detail holds none of the test secrets. */
static void check_no_secret(void) {
  const char *d = mu_err_detail();
  CHECK(!strstr(d, ENV_SECRET) && !strstr(d, CRED_SECRET) && !strstr(d, CONF_SECRET));
  CHECK(!strstr(d, ENV_ID) && !strstr(d, CRED_ID) && !strstr(d, CONF_ID));
  CHECK(!strstr(d, TOKEN_VALUE));
}

/* Resolve cfg; expect rc, and on success the key id, secret and source. */
static void expect(const struct mu_config *cfg, int rc, const char *id, const char *secret,
                   const char *source) {
  struct mu_creds c;
  char *region = NULL;
  CHECK_INT(mu_creds_resolve(cfg, &c, &region), rc);
  if (rc == 0) {
    CHECK_STR(c.access_key_id, id);
    CHECK_STR(c.secret_access_key, secret);
    CHECK_STR(c.source, source);
    CHECK(region != NULL);
  } else {
    CHECK(region == NULL && c.access_key_id == NULL);
    check_no_secret();
  }
  mu_creds_free(&c);
  free(region);
}

/* AWS_NO_SIGN_REQUEST: anonymous, even with keys in the environment. */
static void test_anonymous(void) {
  struct mu_config cfg = setup(NULL, "[default]\naws_access_key_id = x\n", NULL);
  cfg.no_sign = 1;
  cfg.access_key_id = ENV_ID;
  cfg.secret_access_key = ENV_SECRET;
  struct mu_creds c;
  char *region = NULL;
  CHECK_INT(mu_creds_resolve(&cfg, &c, &region), 0);
  CHECK_INT(c.anonymous, 1);
  CHECK(c.access_key_id == NULL && c.secret_access_key == NULL && c.session_token == NULL);
  CHECK(c.source != NULL);
  CHECK_STR(region, "us-east-1");
  mu_creds_free(&c);
  free(region);
}

/* Environment keys and session token. */
static void test_env(void) {
  struct mu_config cfg = setup(NULL, NULL, NULL);
  cfg.access_key_id = ENV_ID;
  cfg.secret_access_key = ENV_SECRET;
  cfg.session_token = TOKEN_VALUE;
  struct mu_creds c;
  char *region = NULL;
  CHECK_INT(mu_creds_resolve(&cfg, &c, &region), 0);
  CHECK_INT(c.anonymous, 0);
  CHECK_STR(c.access_key_id, ENV_ID);
  CHECK_STR(c.secret_access_key, ENV_SECRET);
  CHECK_STR(c.session_token, TOKEN_VALUE);
  CHECK_STR(c.source, "environment");
  mu_creds_free(&c);
  CHECK(c.access_key_id == NULL && c.secret_access_key == NULL && c.session_token == NULL);
  free(region);
}

/* Half a pair in the environment: an error naming the missing variable. */
static void test_env_half(void) {
  struct mu_config cfg = setup(NULL, "[default]\naws_access_key_id=" CRED_ID
                                     "\naws_secret_access_key=" CRED_SECRET "\n", NULL);
  cfg.access_key_id = ENV_ID;
  expect(&cfg, MMAPURL_E_NO_CREDENTIALS, NULL, NULL, NULL);
  CHECK(strstr(mu_err_detail(), "AWS_SECRET_ACCESS_KEY is not") != NULL);
  cfg.access_key_id = NULL;
  cfg.secret_access_key = ENV_SECRET;
  expect(&cfg, MMAPURL_E_NO_CREDENTIALS, NULL, NULL, NULL);
  CHECK(strstr(mu_err_detail(), "AWS_ACCESS_KEY_ID is not") != NULL);
}

/* Credentials file [default], with a session token. */
static void test_credentials_file(void) {
  struct mu_config cfg = setup(NULL, "[default]\naws_access_key_id = " CRED_ID
                                     "\naws_secret_access_key = " CRED_SECRET
                                     "\naws_session_token = " TOKEN_VALUE "\n", NULL);
  struct mu_creds c;
  char *region = NULL;
  CHECK_INT(mu_creds_resolve(&cfg, &c, &region), 0);
  CHECK_STR(c.access_key_id, CRED_ID);
  CHECK_STR(c.secret_access_key, CRED_SECRET);
  CHECK_STR(c.session_token, TOKEN_VALUE);
  CHECK_STR(c.source, "credentials file");
  CHECK_STR(region, "us-east-1");
  mu_creds_free(&c);
  free(region);
}

/* Config file: [default] for the default profile, [profile x] for x, and
 * [profile default] when there is no [default]. */
static void test_config_file(void) {
  const char *conf = "[default]\naws_access_key_id=" CONF_ID "\naws_secret_access_key=" CONF_SECRET
                     "\n[profile x]\naws_access_key_id=" CRED_ID "\naws_secret_access_key=" CRED_SECRET
                     "\n[x]\naws_access_key_id=wrong\naws_secret_access_key=wrong\n";
  struct mu_config cfg = setup(NULL, NULL, conf);
  expect(&cfg, 0, CONF_ID, CONF_SECRET, "config file");
  cfg = setup("x", NULL, conf);
  expect(&cfg, 0, CRED_ID, CRED_SECRET, "config file");
  cfg = setup(NULL, NULL, "[profile default]\naws_access_key_id=" CONF_ID
                          "\naws_secret_access_key=" CONF_SECRET "\n");
  expect(&cfg, 0, CONF_ID, CONF_SECRET, "config file");
}

/* Precedence: environment > credentials file > config file. */
static void test_precedence(void) {
  struct mu_config cfg = setup(NULL, "[default]\naws_access_key_id=" CRED_ID
                                     "\naws_secret_access_key=" CRED_SECRET "\n",
                               "[default]\naws_access_key_id=" CONF_ID
                               "\naws_secret_access_key=" CONF_SECRET "\n");
  expect(&cfg, 0, CRED_ID, CRED_SECRET, "credentials file");
  cfg.access_key_id = ENV_ID;
  cfg.secret_access_key = ENV_SECRET;
  expect(&cfg, 0, ENV_ID, ENV_SECRET, "environment");
  /* A credentials-file section without keys falls through to the config file. */
  cfg = setup(NULL, "[default]\nregion = ignored\naws_access_key_id =\n",
              "[default]\naws_access_key_id=" CONF_ID "\naws_secret_access_key=" CONF_SECRET "\n");
  expect(&cfg, 0, CONF_ID, CONF_SECRET, "config file");
}

/* AWS_PROFILE selects the section; the environment still wins over it. */
static void test_profile_selects(void) {
  const char *creds = "[default]\naws_access_key_id=" CONF_ID "\naws_secret_access_key=" CONF_SECRET
                      "\n[dev]\naws_access_key_id=" CRED_ID "\naws_secret_access_key=" CRED_SECRET
                      "\n";
  struct mu_config cfg = setup("dev", creds, NULL);
  expect(&cfg, 0, CRED_ID, CRED_SECRET, "credentials file");
  cfg = setup("ghost", NULL, NULL);
  cfg.access_key_id = ENV_ID;
  cfg.secret_access_key = ENV_SECRET;
  expect(&cfg, 0, ENV_ID, ENV_SECRET, "environment");
}

/* Half a pair in either file: MMAPURL_E_CREDENTIALS_FILE naming file and profile. */
static void test_file_half(void) {
  struct mu_config cfg = setup("dev", "[dev]\naws_access_key_id=" CRED_ID "\n", NULL);
  expect(&cfg, MMAPURL_E_CREDENTIALS_FILE, NULL, NULL, NULL);
  CHECK(strstr(mu_err_detail(), creds_path) != NULL);
  CHECK(strstr(mu_err_detail(), "\"dev\"") != NULL);
  CHECK(strstr(mu_err_detail(), "no aws_secret_access_key") != NULL);
  cfg = setup("dev", NULL, "[profile dev]\naws_secret_access_key=" CONF_SECRET "\n");
  expect(&cfg, MMAPURL_E_CREDENTIALS_FILE, NULL, NULL, NULL);
  CHECK(strstr(mu_err_detail(), config_path) != NULL);
  CHECK(strstr(mu_err_detail(), "no aws_access_key_id") != NULL);
}

/* A named profile in neither file: "not found", naming both files. */
static void test_missing_profile(void) {
  struct mu_config cfg = setup("ghost", "[default]\naws_access_key_id=" CRED_ID
                                        "\naws_secret_access_key=" CRED_SECRET "\n", NULL);
  expect(&cfg, MMAPURL_E_NO_CREDENTIALS, NULL, NULL, NULL);
  CHECK(strstr(mu_err_detail(), "profile \"ghost\"") != NULL);
  CHECK(strstr(mu_err_detail(), "not found") != NULL);
  CHECK(strstr(mu_err_detail(), creds_path) != NULL);
  CHECK(strstr(mu_err_detail(), config_path) != NULL);
}

/* Nothing anywhere: the detail lists the variables, both files, the profile. */
static void test_nothing_found(void) {
  struct mu_config cfg = setup(NULL, NULL, "[default]\nregion = eu-west-3\n");
  expect(&cfg, MMAPURL_E_NO_CREDENTIALS, NULL, NULL, NULL);
  const char *d = mu_err_detail();
  CHECK(strstr(d, "AWS_ACCESS_KEY_ID") && strstr(d, "AWS_SECRET_ACCESS_KEY"));
  CHECK(strstr(d, creds_path) && strstr(d, "does not exist"));
  CHECK(strstr(d, config_path) && strstr(d, "has [default] but no"));
  CHECK(strstr(d, "\"default\"") != NULL);
  /* Without HOME the configuration names no file at all. */
  cfg.credentials_file = cfg.config_file = NULL;
  expect(&cfg, MMAPURL_E_NO_CREDENTIALS, NULL, NULL, NULL);
  CHECK(strstr(mu_err_detail(), "HOME is unset") != NULL);
}

/* A malformed file is reported as such, by path and line. */
static void test_malformed_file(void) {
  struct mu_config cfg = setup(NULL, "[default]\n" CRED_SECRET "\n", NULL);
  expect(&cfg, MMAPURL_E_CREDENTIALS_FILE, NULL, NULL, NULL);
  CHECK(strstr(mu_err_detail(), ":2: ") != NULL);
}

/* Region: configuration > config file profile "region" > us-east-1; the
 * credentials file's region is not used. */
static void test_region(void) {
  const char *creds = "[dev]\nregion = from-creds\naws_access_key_id=" CRED_ID
                      "\naws_secret_access_key=" CRED_SECRET "\n";
  const char *conf = "[default]\nregion = eu-west-3\n[profile dev]\nregion = ap-south-1\n";
  struct mu_creds c;
  char *region = NULL;
  struct mu_config cfg = setup("dev", creds, conf);
  CHECK_INT(mu_creds_resolve(&cfg, &c, &region), 0);
  CHECK_STR(region, "ap-south-1");
  mu_creds_free(&c);
  free(region);
  cfg.region = "sa-east-1";
  CHECK_INT(mu_creds_resolve(&cfg, &c, &region), 0);
  CHECK_STR(region, "sa-east-1");
  mu_creds_free(&c);
  free(region);
  cfg = setup("dev", creds, "[default]\nregion = eu-west-3\n");
  CHECK_INT(mu_creds_resolve(&cfg, &c, &region), 0);
  CHECK_STR(region, "us-east-1");
  mu_creds_free(&c);
  free(region);
}

int main(void) {
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(creds_path, sizeof creds_path, "%s/credentials", dir);
  snprintf(config_path, sizeof config_path, "%s/config", dir);
  test_anonymous();
  test_env();
  test_env_half();
  test_credentials_file();
  test_config_file();
  test_precedence();
  test_profile_selects();
  test_file_half();
  test_missing_profile();
  test_nothing_found();
  test_malformed_file();
  test_region();
  unlink(creds_path);
  unlink(config_path);
  CHECK_INT(rmdir(dir), 0);
  return check_done();
}
