/*
 * test_log.c - unit tests of core/util/log.c: redaction of Authorization and
 * X-Amz-Security-Token headers, X-Amz-Signature / X-Amz-Credential /
 * X-Amz-Security-Token query values and registered secrets; redaction of
 * mu_fail details; level filtering, observed by sending stderr into a pipe.
 */
#include <unistd.h>

#include "check.h"
#include "mmapurl.h"
#include "util/error.h"
#include "util/log.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define SECRET2 "another-secret-value"

/* Redact a copy of in and compare with want. */
static void expect_redact(const char *in, const char *want) {
  char line[1024];
  snprintf(line, sizeof line, "%s", in);
  mu_log_redact(line);
  CHECK_STR(line, want);
}

/* Capture of stderr: start() sends fd 2 into a pipe, stop() restores it and
 * returns what was written (into out). */
static int saved_stderr = -1, pipe_fds[2];

static void capture_start(void) {
  CHECK_INT(pipe(pipe_fds), 0);
  saved_stderr = dup(STDERR_FILENO);
  dup2(pipe_fds[1], STDERR_FILENO);
  close(pipe_fds[1]);
}

static void capture_stop(char *out, size_t size) {
  dup2(saved_stderr, STDERR_FILENO);
  close(saved_stderr);
  size_t got = 0;
  ssize_t r;
  while (got + 1 < size && (r = read(pipe_fds[0], out + got, size - 1 - got)) > 0)
    got += (size_t)r;
  out[got] = '\0';
  close(pipe_fds[0]);
}

static void test_headers(void) {
  /* Authorization header value masked up to the end of the line */
  expect_redact("Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/s3/"
                "aws4_request, SignedHeaders=host;range, Signature=0123abcd",
                "Authorization: ***");
  /* header names are matched case-insensitively, with or without spaces */
  expect_redact("AUTHORIZATION:Bearer abcdef", "AUTHORIZATION:***");
  expect_redact("authorization:   AWS4-HMAC-SHA256 x", "authorization:   ***");
  expect_redact("x-amz-security-token: FwoGZXIvYXdzEJr//////////wEaDH", "x-amz-security-token: ***");
  expect_redact("X-AMZ-SECURITY-TOKEN: FwoGZXIvYXdz", "X-AMZ-SECURITY-TOKEN: ***");
  /* in a header block, only the secret lines change */
  expect_redact("GET /k HTTP/1.1\r\nHost: b.s3.amazonaws.com\r\nAuthorization: AWS4-HMAC-SHA256 "
                "Signature=abc\r\nX-Amz-Security-Token: tok123\r\nRange: bytes=0-99\r\n",
                "GET /k HTTP/1.1\r\nHost: b.s3.amazonaws.com\r\nAuthorization: ***\r\n"
                "X-Amz-Security-Token: ***\r\nRange: bytes=0-99\r\n");
}

static void test_query(void) {
  /* a presigned URL keeps everything but the credential, token and signature */
  expect_redact("https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                "&X-Amz-Credential=AKIDEXAMPLE%2F20240101%2Fus-east-1%2Fs3%2Faws4_request"
                "&X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
                "&X-Amz-Security-Token=FwoGZXIvYXdzEJr%2F&X-Amz-Signature=abcdef0123456789",
                "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                "&X-Amz-Credential=***&X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600"
                "&X-Amz-SignedHeaders=host&X-Amz-Security-Token=***&X-Amz-Signature=***");
  /* query names are matched case-insensitively; a value stops at a space */
  expect_redact("GET /k?x-amz-signature=abc123def HTTP/1.1", "GET /k?x-amz-signature=*** HTTP/1.1");
  expect_redact("?X-AMZ-CREDENTIAL=AKID%2Fx&a=1", "?X-AMZ-CREDENTIAL=***&a=1");
  /* an empty value stays empty */
  expect_redact("?X-Amz-Signature=&a=1", "?X-Amz-Signature=&a=1");
}

static void test_secrets_and_plain_text(void) {
  mu_log_add_secret(SECRET);
  mu_log_add_secret(SECRET2);
  mu_log_add_secret(SECRET); /* registering twice is harmless */
  mu_log_add_secret("abc");  /* too short to register: left alone */
  mu_log_add_secret(NULL);
  /* registered secrets are masked wherever they appear, every time */
  expect_redact("key=" SECRET ";again " SECRET "!", "key=***;again ***!");
  expect_redact("xx" SECRET2 "yy" SECRET, "xx***yy***");
  expect_redact("abc is not a secret", "abc is not a secret");
  /* other text is left alone, including near-miss names */
  const char *plain[] = {"Content-Type: text/plain", "Range: bytes=0-99",
                         "?X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600",
                         "the signature matched; authorization granted", "X-Amz-Signature-Version 4",
                         ""};
  for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
    expect_redact(plain[i], plain[i]);
}

static void test_fail_detail(void) {
  /* mu_fail details are redacted: query values, headers and secrets */
  int rc = mu_fail(MMAPURL_E_HTTP, "GET https://h/k?X-Amz-Signature=%s&a=1 key %s", "feedface", SECRET);
  CHECK_INT(rc, MMAPURL_E_HTTP);
  CHECK_STR(mu_err_detail(), "GET https://h/k?X-Amz-Signature=***&a=1 key ***");
  mu_fail(MMAPURL_E_ACCESS_DENIED, "sent Authorization: %s", "AWS4-HMAC-SHA256 Signature=1234");
  CHECK_STR(mu_err_detail(), "sent Authorization: ***");
  /* at debug level the logged copy of a detail is redacted too */
  char out[2048];
  mu_log_set_level(MU_LOG_DEBUG);
  capture_start();
  mu_fail(MMAPURL_E_HTTP, "token X-Amz-Security-Token=%s secret %s", "tok999", SECRET2);
  capture_stop(out, sizeof out);
  mu_log_set_level(MU_LOG_WARN);
  CHECK(strstr(out, "token X-Amz-Security-Token=*** secret ***") != NULL);
  CHECK(strstr(out, "tok999") == NULL && strstr(out, SECRET2) == NULL);
  /* mu_err_clear empties the detail */
  mu_err_clear();
  CHECK_STR(mu_err_detail(), "");
}

static void test_levels(void) {
  char out[4096], want[512];
  int evaluated = 0;
  /* at warn (the default) error and warn print, info and debug do not */
  mu_log_set_level(MU_LOG_WARN);
  CHECK(mu_log_enabled(MU_LOG_WARN) && !mu_log_enabled(MU_LOG_INFO));
  capture_start();
  MU_ERROR("e%d", 1);
  MU_WARN("w%d", 2);
  MU_INFO("i%d", 3);
  MU_DEBUG("d%d", ++evaluated);
  capture_stop(out, sizeof out);
  snprintf(want, sizeof want, "mmapurl[%d] error: e1\nmmapurl[%d] warn: w2\n", (int)getpid(),
           (int)getpid());
  CHECK_STR(out, want);
  /* MU_DEBUG does not evaluate its arguments when debug is off */
  CHECK_INT(evaluated, 0);
  /* at error only errors print */
  mu_log_set_level(MU_LOG_ERROR);
  capture_start();
  MU_WARN("w");
  MU_ERROR("only this");
  capture_stop(out, sizeof out);
  snprintf(want, sizeof want, "mmapurl[%d] error: only this\n", (int)getpid());
  CHECK_STR(out, want);
  /* at debug everything prints, and each line is redacted */
  mu_log_set_level(MU_LOG_DEBUG);
  capture_start();
  MU_INFO("i");
  MU_DEBUG("d%d Authorization: %s", ++evaluated, "AWS4 Signature=99");
  capture_stop(out, sizeof out);
  mu_log_set_level(MU_LOG_WARN);
  snprintf(want, sizeof want, "mmapurl[%d] info: i\nmmapurl[%d] debug: d1 Authorization: ***\n",
           (int)getpid(), (int)getpid());
  CHECK_STR(out, want);
  CHECK_INT(evaluated, 1);
}

static void test_short_values_and_cut_lines(void) {
  /* regression: a value shorter than the mask must not skip the next one */
  expect_redact("X-Amz-Signature=1&X-Amz-Signature=2", "X-Amz-Signature=*&X-Amz-Signature=*");
  /* regression: a one-byte header value at the end of the string (ASan) */
  char *heap = strdup("Authorization: a");
  mu_log_redact(heap);
  CHECK_STR(heap, "Authorization: *");
  free(heap);
  /* regression: a detail cut short must not keep the start of a secret */
  char prefix[491];
  memset(prefix, 'p', sizeof prefix - 1);
  prefix[sizeof prefix - 1] = '\0';
  mu_fail(MMAPURL_E_HTTP, "%s %s", prefix, SECRET);
  CHECK(strstr(mu_err_detail(), "wJalrXUtnFEM") == NULL);
  /* and a line that ends with a secret's first bytes is masked there */
  char line[64];
  snprintf(line, sizeof line, "cut here: %.12s", SECRET);
  mu_log_redact(line);
  CHECK_STR(line, "cut here: ***");
}

int main(void) {
  test_headers();
  test_query();
  test_secrets_and_plain_text();
  test_fail_detail();
  test_levels();
  test_short_values_and_cut_lines();
  return check_done();
}
