/*
 * test_config.c - unit tests of core/util/config.c: defaults, every variable
 * valid and invalid, precedence, the size and duration parsers, error
 * details (naming variable and value, never a secret), and mu_config_get.
 * Uses a fake getenv over a table; the real environment is touched only in
 * forked children.
 */
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "mmapurl.h"
#include "util/config.h"
#include "util/error.h"
#include "util/log.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

struct kv {
  const char *name, *value;
};

/* getenv over a NULL-terminated table of struct kv. */
static const char *fake_getenv(const char *name, void *ctx) {
  for (const struct kv *t = ctx; t->name; t++)
    if (strcmp(t->name, name) == 0)
      return t->value;
  return NULL;
}

/* Parse a table holding HOME and one variable. */
static int parse1(struct mu_config *cfg, const char *name, const char *value) {
  struct kv env[] = {{"HOME", "/home/u"}, {name, value}, {NULL, NULL}};
  return mu_config_parse(cfg, fake_getenv, env);
}

/* name=value is refused with a detail naming both, and cfg left empty. */
static void check_invalid(const char *name, const char *value) {
  struct mu_config cfg;
  CHECK_INT(parse1(&cfg, name, value), MMAPURL_E_CONFIG);
  if (!strstr(mu_err_detail(), name) || !strstr(mu_err_detail(), value))
    fprintf(stderr, "  detail for %s=\"%s\": %s\n", name, value, mu_err_detail());
  CHECK(strstr(mu_err_detail(), name) != NULL);
  CHECK(strstr(mu_err_detail(), value) != NULL);
  CHECK(cfg.profile == NULL && cfg.config_file == NULL && cfg.block_size == 0);
}

/* Nothing set but HOME: every default. */
static void test_defaults(void) {
  struct kv env[] = {{"HOME", "/home/u"}, {NULL, NULL}};
  struct mu_config cfg;
  CHECK_INT(mu_config_parse(&cfg, fake_getenv, env), 0);
  CHECK(!cfg.access_key_id && !cfg.secret_access_key && !cfg.session_token);
  CHECK_STR(cfg.profile, "default");
  CHECK_STR(cfg.config_file, "/home/u/.aws/config");
  CHECK_STR(cfg.credentials_file, "/home/u/.aws/credentials");
  CHECK_INT(cfg.no_sign, 0);
  CHECK(!cfg.region && !cfg.endpoint_url && !cfg.ca_bundle && !cfg.stats);
  CHECK_INT(cfg.max_attempts, 5);
  CHECK_INT(cfg.addressing, MU_ADDR_AUTO);
  CHECK_INT(cfg.log_level, MU_LOG_WARN);
  CHECK_INT(cfg.block_size, 16384);
  CHECK_INT(cfg.cache_max, 1 << 30);
  CHECK_INT(cfg.readahead_max, 64 << 20);
  CHECK_INT(cfg.connect_timeout_ms, 10000);
  CHECK_INT(cfg.stall_timeout_ms, 30000);
  CHECK_INT(cfg.retry_base_ms, 100);
  CHECK_INT(cfg.retry_max_ms, 10000);
  CHECK_INT(cfg.max_connections, 32);
  mu_config_free(&cfg);
  CHECK(cfg.profile == NULL);
}

/* Credentials are copied; empty AWS_* values count as unset. */
static void test_credentials(void) {
  struct kv env[] = {{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY", SECRET},
                     {"AWS_SESSION_TOKEN", ""}, {"AWS_REGION", ""}, {NULL, NULL}};
  struct mu_config cfg;
  CHECK_INT(mu_config_parse(&cfg, fake_getenv, env), 0);
  CHECK_STR(cfg.access_key_id, "AKIDEXAMPLE");
  CHECK_STR(cfg.secret_access_key, SECRET);
  CHECK(cfg.session_token == NULL);
  CHECK(cfg.region == NULL);
  mu_config_free(&cfg);
}

/* A secret with a newline is refused, and its value is not in the detail. */
static void test_secret_not_echoed(void) {
  static const char *const names[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                      "AWS_SESSION_TOKEN"};
  for (size_t i = 0; i < 3; i++) {
    struct mu_config cfg;
    CHECK_INT(parse1(&cfg, names[i], SECRET "\n"), MMAPURL_E_CONFIG);
    CHECK(strstr(mu_err_detail(), names[i]) != NULL);
    CHECK(strstr(mu_err_detail(), "wJalr") == NULL);
    CHECK(strstr(mu_err_detail(), "EXAMPLEKEY") == NULL);
  }
}

/* AWS_PROFILE > AWS_DEFAULT_PROFILE > "default". */
static void test_profile(void) {
  struct kv both[] = {{"AWS_PROFILE", "a"}, {"AWS_DEFAULT_PROFILE", "b"}, {NULL, NULL}};
  struct kv legacy[] = {{"AWS_PROFILE", ""}, {"AWS_DEFAULT_PROFILE", "b"}, {NULL, NULL}};
  struct mu_config cfg;
  CHECK_INT(mu_config_parse(&cfg, fake_getenv, both), 0);
  CHECK_STR(cfg.profile, "a");
  mu_config_free(&cfg);
  CHECK_INT(mu_config_parse(&cfg, fake_getenv, legacy), 0);
  CHECK_STR(cfg.profile, "b");
  mu_config_free(&cfg);
}

/* File paths: given, "~/" expanded, and NULL without HOME. */
static void test_files(void) {
  struct kv given[] = {{"HOME", "/h"}, {"AWS_CONFIG_FILE", "/etc/c"},
                       {"AWS_SHARED_CREDENTIALS_FILE", "~/creds"}, {NULL, NULL}};
  struct kv nohome[] = {{NULL, NULL}};
  struct mu_config cfg;
  CHECK_INT(mu_config_parse(&cfg, fake_getenv, given), 0);
  CHECK_STR(cfg.config_file, "/etc/c");
  CHECK_STR(cfg.credentials_file, "/h/creds");
  mu_config_free(&cfg);
  CHECK_INT(mu_config_parse(&cfg, fake_getenv, nohome), 0);
  CHECK(cfg.config_file == NULL && cfg.credentials_file == NULL);
  mu_config_free(&cfg);
}

/* AWS_NO_SIGN_REQUEST spellings, and a wrong one. */
static void test_no_sign(void) {
  static const char *const yes[] = {"true", "TRUE", "1", "yes", "Yes"};
  static const char *const no[] = {"false", "False", "0", "no", ""};
  struct mu_config cfg;
  for (size_t i = 0; i < 5; i++) {
    CHECK_INT(parse1(&cfg, "AWS_NO_SIGN_REQUEST", yes[i]), 0);
    CHECK_INT(cfg.no_sign, 1);
    mu_config_free(&cfg);
    CHECK_INT(parse1(&cfg, "AWS_NO_SIGN_REQUEST", no[i]), 0);
    CHECK_INT(cfg.no_sign, 0);
    mu_config_free(&cfg);
  }
  check_invalid("AWS_NO_SIGN_REQUEST", "maybe");
}

/* AWS_REGION > AWS_DEFAULT_REGION. */
static void test_region(void) {
  struct kv both[] = {{"AWS_REGION", "eu-west-1"}, {"AWS_DEFAULT_REGION", "us-west-2"}, {NULL, NULL}};
  struct kv dflt[] = {{"AWS_DEFAULT_REGION", "us-west-2"}, {NULL, NULL}};
  struct mu_config cfg;
  CHECK_INT(mu_config_parse(&cfg, fake_getenv, both), 0);
  CHECK_STR(cfg.region, "eu-west-1");
  mu_config_free(&cfg);
  CHECK_INT(mu_config_parse(&cfg, fake_getenv, dflt), 0);
  CHECK_STR(cfg.region, "us-west-2");
  mu_config_free(&cfg);
}

/* AWS_ENDPOINT_URL_S3 > AWS_ENDPOINT_URL; trailing '/' cut; bad URLs refused. */
static void test_endpoint(void) {
  struct kv both[] = {{"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000//"},
                      {"AWS_ENDPOINT_URL", "https://other"}, {NULL, NULL}};
  struct kv generic[] = {{"AWS_ENDPOINT_URL", "HTTPS://minio.local/"}, {NULL, NULL}};
  struct mu_config cfg;
  CHECK_INT(mu_config_parse(&cfg, fake_getenv, both), 0);
  CHECK_STR(cfg.endpoint_url, "http://127.0.0.1:9000");
  mu_config_free(&cfg);
  CHECK_INT(mu_config_parse(&cfg, fake_getenv, generic), 0);
  CHECK_STR(cfg.endpoint_url, "HTTPS://minio.local");
  mu_config_free(&cfg);
  check_invalid("AWS_ENDPOINT_URL_S3", "s3.example.com");
  check_invalid("AWS_ENDPOINT_URL", "ftp://host");
  check_invalid("AWS_ENDPOINT_URL", "https://");
  check_invalid("AWS_ENDPOINT_URL", "https:///");
}

/* AWS_CA_BUNDLE must name an existing file. */
static void test_ca_bundle(void) {
  struct mu_config cfg;
  CHECK_INT(parse1(&cfg, "AWS_CA_BUNDLE", MU_TESTS_DIR "/check.h"), 0);
  CHECK_STR(cfg.ca_bundle, MU_TESTS_DIR "/check.h");
  mu_config_free(&cfg);
  check_invalid("AWS_CA_BUNDLE", "/nonexistent/ca.pem");
  check_invalid("AWS_CA_BUNDLE", MU_TESTS_DIR);
}

/* AWS_MAX_ATTEMPTS and MMAPURL_MAX_CONNECTIONS: ranges and garbage. */
static void test_integers(void) {
  struct mu_config cfg;
  CHECK_INT(parse1(&cfg, "AWS_MAX_ATTEMPTS", "100"), 0);
  CHECK_INT(cfg.max_attempts, 100);
  mu_config_free(&cfg);
  CHECK_INT(parse1(&cfg, "MMAPURL_MAX_CONNECTIONS", "1024"), 0);
  CHECK_INT(cfg.max_connections, 1024);
  mu_config_free(&cfg);
  check_invalid("AWS_MAX_ATTEMPTS", "0");
  check_invalid("AWS_MAX_ATTEMPTS", "101");
  check_invalid("AWS_MAX_ATTEMPTS", "-1");
  check_invalid("AWS_MAX_ATTEMPTS", "3x");
  check_invalid("AWS_MAX_ATTEMPTS", "99999999999999999999999");
  check_invalid("MMAPURL_MAX_CONNECTIONS", "0");
  check_invalid("MMAPURL_MAX_CONNECTIONS", "1025");
  check_invalid("MMAPURL_MAX_CONNECTIONS", " 8");
}

/* MMAPURL_ADDRESSING and MMAPURL_LOG words; "" is not a word. */
static void test_modes(void) {
  struct mu_config cfg;
  CHECK_INT(parse1(&cfg, "MMAPURL_ADDRESSING", "path"), 0);
  CHECK_INT(cfg.addressing, MU_ADDR_PATH);
  mu_config_free(&cfg);
  CHECK_INT(parse1(&cfg, "MMAPURL_ADDRESSING", "Virtual"), 0);
  CHECK_INT(cfg.addressing, MU_ADDR_VIRTUAL);
  mu_config_free(&cfg);
  CHECK_INT(parse1(&cfg, "MMAPURL_LOG", "debug"), 0);
  CHECK_INT(cfg.log_level, MU_LOG_DEBUG);
  mu_config_free(&cfg);
  CHECK_INT(parse1(&cfg, "MMAPURL_LOG", "ERROR"), 0);
  CHECK_INT(cfg.log_level, MU_LOG_ERROR);
  mu_config_free(&cfg);
  check_invalid("MMAPURL_ADDRESSING", "dns");
  check_invalid("MMAPURL_LOG", "verbose");
  CHECK_INT(parse1(&cfg, "MMAPURL_LOG", ""), MMAPURL_E_CONFIG);
}

/* MMAPURL_STATS: kept as given; "" and "0" mean none. */
static void test_stats(void) {
  struct mu_config cfg;
  CHECK_INT(parse1(&cfg, "MMAPURL_STATS", "/tmp/s.json"), 0);
  CHECK_STR(cfg.stats, "/tmp/s.json");
  mu_config_free(&cfg);
  CHECK_INT(parse1(&cfg, "MMAPURL_STATS", "1"), 0);
  CHECK_STR(cfg.stats, "1");
  mu_config_free(&cfg);
  CHECK_INT(parse1(&cfg, "MMAPURL_STATS", "0"), 0);
  CHECK(cfg.stats == NULL);
  mu_config_free(&cfg);
  CHECK_INT(parse1(&cfg, "MMAPURL_STATS", ""), 0);
  CHECK(cfg.stats == NULL);
  mu_config_free(&cfg);
}

/* MMAPURL_BLOCK_SIZE: sizes, bounds and the 4096 multiple. */
static void test_block_size(void) {
  struct mu_config cfg;
  CHECK_INT(parse1(&cfg, "MMAPURL_BLOCK_SIZE", "4K"), 0);
  CHECK_INT(cfg.block_size, 4096);
  mu_config_free(&cfg);
  CHECK_INT(parse1(&cfg, "MMAPURL_BLOCK_SIZE", "64MiB"), 0);
  CHECK_INT(cfg.block_size, 64 << 20);
  mu_config_free(&cfg);
  CHECK_INT(parse1(&cfg, "MMAPURL_BLOCK_SIZE", "1048576"), 0);
  CHECK_INT(cfg.block_size, 1 << 20);
  mu_config_free(&cfg);
  check_invalid("MMAPURL_BLOCK_SIZE", "12Q");
  CHECK(strstr(mu_err_detail(), "MMAPURL_BLOCK_SIZE=\"12Q\": expected a size such as 64K") != NULL);
  check_invalid("MMAPURL_BLOCK_SIZE", "5000");
  check_invalid("MMAPURL_BLOCK_SIZE", "2K");
  check_invalid("MMAPURL_BLOCK_SIZE", "128M");
  check_invalid("MMAPURL_BLOCK_SIZE", "0");
}

/* MMAPURL_CACHE_MAX and MMAPURL_READAHEAD_MAX: sizes, 0, bounds. */
static void test_cache_and_readahead(void) {
  struct mu_config cfg;
  CHECK_INT(parse1(&cfg, "MMAPURL_CACHE_MAX", "64M"), 0);
  CHECK_INT(cfg.cache_max, 64 << 20);
  mu_config_free(&cfg);
  CHECK_INT(parse1(&cfg, "MMAPURL_CACHE_MAX", "0"), 0);   /* no limit */
  CHECK_INT(cfg.cache_max, 0);
  mu_config_free(&cfg);
  check_invalid("MMAPURL_CACHE_MAX", "512K");               /* too small to work */
  CHECK(strstr(mu_err_detail(), "MMAPURL_CACHE_MAX=\"512K\"") != NULL);
  check_invalid("MMAPURL_CACHE_MAX", "2T");
  check_invalid("MMAPURL_CACHE_MAX", "lots");
  CHECK_INT(parse1(&cfg, "MMAPURL_READAHEAD_MAX", "16M"), 0);
  CHECK_INT(cfg.readahead_max, 16 << 20);
  mu_config_free(&cfg);
  CHECK_INT(parse1(&cfg, "MMAPURL_READAHEAD_MAX", "0"), 0); /* random access only */
  CHECK_INT(cfg.readahead_max, 0);
  mu_config_free(&cfg);
  check_invalid("MMAPURL_READAHEAD_MAX", "2G");
}

/* Durations of the four timing variables, and refusals. */
static void test_durations(void) {
  struct kv env[] = {{"MMAPURL_CONNECT_TIMEOUT", "250ms"}, {"MMAPURL_STALL_TIMEOUT", "2"},
                     {"MMAPURL_RETRY_BASE", "0"}, {"MMAPURL_RETRY_MAX", "1s"}, {NULL, NULL}};
  struct mu_config cfg;
  CHECK_INT(mu_config_parse(&cfg, fake_getenv, env), 0);
  CHECK_INT(cfg.connect_timeout_ms, 250);
  CHECK_INT(cfg.stall_timeout_ms, 2000);
  CHECK_INT(cfg.retry_base_ms, 0);
  CHECK_INT(cfg.retry_max_ms, 1000);
  mu_config_free(&cfg);
  check_invalid("MMAPURL_CONNECT_TIMEOUT", "0");
  check_invalid("MMAPURL_STALL_TIMEOUT", "10m");
  check_invalid("MMAPURL_RETRY_BASE", "-5ms");
  check_invalid("MMAPURL_RETRY_MAX", "fast");
}

/* A long or control-laden value is quoted safely in the detail. */
static void test_detail_quoting(void) {
  char longv[400];
  memset(longv, 'x', sizeof longv - 1);
  longv[sizeof longv - 1] = '\0';
  struct mu_config cfg;
  CHECK_INT(parse1(&cfg, "MMAPURL_LOG", longv), MMAPURL_E_CONFIG);
  CHECK(strstr(mu_err_detail(), "...") != NULL);
  CHECK(strstr(mu_err_detail(), "expected error, warn") != NULL);
  CHECK_INT(parse1(&cfg, "MMAPURL_LOG", "a\nb"), MMAPURL_E_CONFIG);
  CHECK(strstr(mu_err_detail(), "a\\x0Ab") != NULL);
}

/* mu_parse_size: units, suffixes, overflow and garbage. */
static void test_parse_size(void) {
  static const struct {
    const char *s;
    uint64_t v;
  } good[] = {{"0", 0}, {"4096", 4096}, {"4096B", 4096}, {"64K", 65536}, {"64k", 65536},
              {"64KB", 65536}, {"64KiB", 65536}, {"64kib", 65536}, {"8M", 8u << 20},
              {"1G", 1u << 30}, {"1gb", 1u << 30}, {"16777215G", 16777215ull << 30},
              {"18446744073709551615", UINT64_MAX}};
  static const char *const bad[] = {"", "K", "-1", "+1", " 1", "1 ", "1.5M", "12Q", "1T",
                                    "1KK", "1Bi", "1iB", "1Ki", "0x10", "18446744073709551616",
                                    "17179869184G"};
  uint64_t v;
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    v = 1;
    CHECK_INT(mu_parse_size(good[i].s, &v), 0);
    CHECK(v == good[i].v);
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (mu_parse_size(bad[i], &v) != MMAPURL_E_CONFIG)
      fprintf(stderr, "  size \"%s\" accepted\n", bad[i]);
    CHECK_INT(mu_parse_size(bad[i], &v), MMAPURL_E_CONFIG);
  }
}

/* mu_parse_duration_ms: ms, s, bare seconds, overflow and garbage. */
static void test_parse_duration(void) {
  static const struct {
    const char *s;
    long v;
  } good[] = {{"0", 0}, {"250ms", 250}, {"250MS", 250}, {"10s", 10000}, {"10", 10000},
              {"9223372036854775807ms", 9223372036854775807L}};
  static const char *const bad[] = {"", "ms", "s", "-1", "1.5s", "10m", "10 s", "10sec",
                                    "9223372036854775807s", "99999999999999999999ms"};
  long v;
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    v = -1;
    CHECK_INT(mu_parse_duration_ms(good[i].s, &v), 0);
    CHECK_INT(v, good[i].v);
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (mu_parse_duration_ms(bad[i], &v) != MMAPURL_E_CONFIG)
      fprintf(stderr, "  duration \"%s\" accepted\n", bad[i]);
    CHECK_INT(mu_parse_duration_ms(bad[i], &v), MMAPURL_E_CONFIG);
  }
}

/* Run fn in a child process (it may change the real environment); the
 * child's exit status is its number of failed checks. */
static void in_child(void (*fn)(void)) {
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    fn();
    _exit(check_done());
  }
  int status = -1;
  CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Clear the real environment of every variable mmapurl reads. */
static void clear_env(void) {
  static const char *const names[] = {
      "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
      "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
      "AWS_NO_SIGN_REQUEST", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_S3",
      "AWS_ENDPOINT_URL", "AWS_CA_BUNDLE", "AWS_MAX_ATTEMPTS", "MMAPURL_ADDRESSING",
      "MMAPURL_LOG", "MMAPURL_STATS", "MMAPURL_BLOCK_SIZE", "MMAPURL_CONNECT_TIMEOUT",
      "MMAPURL_STALL_TIMEOUT", "MMAPURL_RETRY_BASE", "MMAPURL_RETRY_MAX",
      "MMAPURL_MAX_CONNECTIONS"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    unsetenv(names[i]);
}

/* mu_config_get: parsed once, the same pointer each call, log level applied. */
static void get_ok(void) {
  const struct mu_config *a = NULL, *b = NULL;
  clear_env();
  setenv("MMAPURL_LOG", "info", 1);
  setenv("AWS_REGION", "eu-north-1", 1);
  CHECK_INT(mu_config_get(&a), 0);
  setenv("AWS_REGION", "changed", 1);
  CHECK_INT(mu_config_get(&b), 0);
  CHECK(a != NULL && a == b);
  CHECK_STR(b->region, "eu-north-1");
  CHECK(mu_log_enabled(MU_LOG_INFO) && !mu_log_enabled(MU_LOG_DEBUG));
}

/* mu_config_get: an invalid value gives the same error and detail each call. */
static void get_error(void) {
  const struct mu_config *c = NULL;
  clear_env();
  setenv("MMAPURL_BLOCK_SIZE", "12Q", 1);
  CHECK_INT(mu_config_get(&c), MMAPURL_E_CONFIG);
  CHECK(c == NULL);
  mu_err_clear();
  unsetenv("MMAPURL_BLOCK_SIZE");
  CHECK_INT(mu_config_get(&c), MMAPURL_E_CONFIG);
  CHECK(strstr(mu_err_detail(), "MMAPURL_BLOCK_SIZE=\"12Q\"") != NULL);
}

int main(void) {
  test_defaults();
  test_credentials();
  test_secret_not_echoed();
  test_profile();
  test_files();
  test_no_sign();
  test_region();
  test_endpoint();
  test_ca_bundle();
  test_integers();
  test_modes();
  test_stats();
  test_block_size();
  test_cache_and_readahead();
  test_durations();
  test_detail_quoting();
  test_parse_size();
  test_parse_duration();
  in_child(get_ok);
  in_child(get_error);
  return check_done();
}
