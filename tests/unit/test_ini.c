/*
 * test_ini.c - unit tests of core/auth/ini.c: sections, pairs, comments,
 * whitespace, CRLF, continuation lines and sub-sections, malformed lines
 * (with the line number in the detail and no value in it), and loading
 * files (missing, unreadable, present).
 */
#include <stdlib.h>
#include <unistd.h>

#include "auth/ini.h"
#include "check.h"
#include "mmapurl.h"
#include "util/error.h"

/* Parse text that must be valid. */
static struct mu_ini *parse_ok(const char *text) {
  struct mu_ini *ini = NULL;
  CHECK_INT(mu_ini_parse(text, "t.ini", &ini), 0);
  CHECK(ini != NULL);
  return ini;
}

/* text is malformed: MMAPURL_E_CREDENTIALS_FILE, detail starts "t.ini:LINE: ",
 * and no secret value leaks into it. */
static void check_malformed(const char *text, const char *where) {
  struct mu_ini *ini = (struct mu_ini *)1;
  CHECK_INT(mu_ini_parse(text, "t.ini", &ini), MMAPURL_E_CREDENTIALS_FILE);
  CHECK(ini == NULL);
  if (strncmp(mu_err_detail(), where, strlen(where)) != 0)
    fprintf(stderr, "  expected \"%s...\", got \"%s\"\n", where, mu_err_detail());
  CHECK(strncmp(mu_err_detail(), where, strlen(where)) == 0);
  CHECK(strstr(mu_err_detail(), "SECRETVALUE") == NULL);
}

/* Sections, both header forms, pairs, and lookups that miss. */
static void test_basic(void) {
  struct mu_ini *ini = parse_ok("[default]\n"
                                "aws_access_key_id = AKID\n"
                                "aws_secret_access_key=secret/with=equals\n"
                                "[profile dev]\n"
                                "region = eu-west-1\n"
                                "[empty]\n");
  CHECK_STR(mu_ini_get(ini, "default", "aws_access_key_id"), "AKID");
  CHECK_STR(mu_ini_get(ini, "default", "aws_secret_access_key"), "secret/with=equals");
  CHECK_STR(mu_ini_get(ini, "profile dev", "region"), "eu-west-1");
  CHECK(mu_ini_get(ini, "default", "region") == NULL);
  CHECK(mu_ini_get(ini, "dev", "region") == NULL);
  CHECK(mu_ini_get(ini, "nope", "region") == NULL);
  CHECK(mu_ini_has_section(ini, "empty"));
  CHECK(mu_ini_has_section(ini, "profile dev"));
  CHECK(!mu_ini_has_section(ini, "profile"));
  mu_ini_free(ini);
}

/* Comments ('#', ';', indented), blank lines, an inline '#' kept in a value. */
static void test_comments(void) {
  struct mu_ini *ini = parse_ok("# top comment\n"
                                "; another\n"
                                "\n"
                                "[a] # trailing comment\n"
                                "   # indented comment\n"
                                "k = v # not a comment\n"
                                "\t\n"
                                "; end\n");
  CHECK_STR(mu_ini_get(ini, "a", "k"), "v # not a comment");
  mu_ini_free(ini);
}

/* Whitespace around names and values is stripped; empty values are kept. */
static void test_whitespace(void) {
  struct mu_ini *ini = parse_ok("  [  spaced name  ]  \n"
                                "\t key \t=\t value with inner spaces \t\n"
                                "empty =\n"
                                "empty2=   \n");
  CHECK_STR(mu_ini_get(ini, "spaced name", "key"), "value with inner spaces");
  CHECK_STR(mu_ini_get(ini, "spaced name", "empty"), "");
  CHECK_STR(mu_ini_get(ini, "spaced name", "empty2"), "");
  mu_ini_free(ini);
}

/* CRLF line endings, a byte order mark and a last line without '\n'. */
static void test_crlf(void) {
  struct mu_ini *ini = parse_ok("\xEF\xBB\xBF[default]\r\n"
                                "a = 1\r\n"
                                "\r\n"
                                "# c\r\n"
                                "b = 2");
  CHECK_STR(mu_ini_get(ini, "default", "a"), "1");
  CHECK_STR(mu_ini_get(ini, "default", "b"), "2");
  mu_ini_free(ini);
}

/* An indented line continues a non-empty value; "key =" opens a sub-section. */
static void test_continuation(void) {
  struct mu_ini *ini = parse_ok("[profile p]\n"
                                "s3 =\n"
                                "  addressing_style = path\n"
                                "  # comment inside\n"
                                "\tmax_concurrent_requests=20\n"
                                "region = us-east-2\n"
                                "multi = first\n"
                                "   second line\n"
                                "\n"
                                "  after_blank = x\n");
  CHECK_STR(mu_ini_get(ini, "profile p", "s3.addressing_style"), "path");
  CHECK_STR(mu_ini_get(ini, "profile p", "s3.max_concurrent_requests"), "20");
  CHECK_STR(mu_ini_get(ini, "profile p", "s3"), "");
  CHECK_STR(mu_ini_get(ini, "profile p", "region"), "us-east-2");
  CHECK_STR(mu_ini_get(ini, "profile p", "multi"), "first\nsecond line");
  CHECK_STR(mu_ini_get(ini, "profile p", "after_blank"), "x");
  mu_ini_free(ini);
}

/* A repeated section continues the first; a repeated key keeps the last value. */
static void test_repeats(void) {
  struct mu_ini *ini = parse_ok("[a]\nk = 1\nx = 0\n[b]\nk = 2\n[a]\nk = 3\n");
  CHECK_STR(mu_ini_get(ini, "a", "k"), "3");
  CHECK_STR(mu_ini_get(ini, "a", "x"), "0");
  CHECK_STR(mu_ini_get(ini, "b", "k"), "2");
  mu_ini_free(ini);
}

/* Empty text and comment-only text give an ini with no sections. */
static void test_empty(void) {
  struct mu_ini *ini = parse_ok("");
  CHECK(!mu_ini_has_section(ini, "default"));
  mu_ini_free(ini);
  ini = parse_ok("# only a comment\n\n");
  CHECK(mu_ini_get(ini, "default", "k") == NULL);
  mu_ini_free(ini);
  CHECK(mu_ini_get(NULL, "default", "k") == NULL);
  CHECK(!mu_ini_has_section(NULL, "default"));
  mu_ini_free(NULL);
}

/* Malformed lines: detail "FILE:LINE: ...", never the value. */
static void test_malformed(void) {
  check_malformed("aws_secret_access_key = SECRETVALUE\n", "t.ini:1: ");
  check_malformed("[default]\nSECRETVALUE\n", "t.ini:2: ");
  check_malformed("# c\n\n[default\nk = SECRETVALUE\n", "t.ini:3: unterminated");
  check_malformed("[default]\r\nk = 1\r\n[]\r\n", "t.ini:3: empty section");
  check_malformed("[a] junk\n", "t.ini:1: unexpected text");
  check_malformed("[a]\n= SECRETVALUE\n", "t.ini:2: ");
  check_malformed("[a]\ns3 =\n  SECRETVALUE\n", "t.ini:3: ");
  check_malformed("[a]\nk = v\n\n   SECRETVALUE\n", "t.ini:4: ");
}

/* Write text to a new file in dir; returns its path (static buffer). */
static const char *write_file(const char *dir, const char *name, const char *text) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f) {
    fputs(text, f);
    fclose(f);
  }
  return path;
}

/* mu_ini_load: present, empty, malformed (named by path), missing (ENOENT and
 * ENOTDIR), and a directory (unreadable). */
static void test_load(void) {
  char dir[] = "/tmp/test_ini.XXXXXX";
  struct mu_ini *ini = (struct mu_ini *)1;
  CHECK(mkdtemp(dir) != NULL);
  CHECK_INT(mu_ini_load(write_file(dir, "good", "[default]\nregion = r\n"), &ini), 0);
  CHECK_STR(mu_ini_get(ini, "default", "region"), "r");
  mu_ini_free(ini);
  CHECK_INT(mu_ini_load(write_file(dir, "empty", ""), &ini), 0);
  CHECK(ini != NULL);
  mu_ini_free(ini);
  const char *bad = write_file(dir, "bad", "[default]\nnope\n");
  CHECK_INT(mu_ini_load(bad, &ini), MMAPURL_E_CREDENTIALS_FILE);
  CHECK(strstr(mu_err_detail(), "/bad:2: ") != NULL);
  CHECK_INT(mu_ini_load("/nonexistent/dir/credentials", &ini), 0);
  CHECK(ini == NULL);
  write_file(dir, "plain", "");
  char sub[600];
  snprintf(sub, sizeof sub, "%s/plain/x", dir); /* below a file: ENOTDIR */
  CHECK_INT(mu_ini_load(sub, &ini), 0);
  CHECK(ini == NULL);
  CHECK_INT(mu_ini_load(dir, &ini), MMAPURL_E_CREDENTIALS_FILE);
  CHECK(ini == NULL);
  CHECK(strstr(mu_err_detail(), dir) != NULL);
  static const char *const names[] = {"good", "empty", "bad", "plain"};
  for (size_t i = 0; i < 4; i++) {
    snprintf(sub, sizeof sub, "%s/%s", dir, names[i]);
    CHECK_INT(unlink(sub), 0);
  }
  CHECK_INT(rmdir(dir), 0);
}

int main(void) {
  test_basic();
  test_comments();
  test_whitespace();
  test_crlf();
  test_continuation();
  test_repeats();
  test_empty();
  test_malformed();
  test_load();
  return check_done();
}
