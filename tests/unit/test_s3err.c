/* test_s3err - S3 XML error bodies are parsed and statuses/codes map to the
 * right MMAPURL_E_* codes; truncated and non-XML bodies are survived. */
#include "check.h"
#include "mmapurl.h"
#include "s3/s3err.h"

static void parse_full(void) {
  /* a complete S3 error body */
  const char *b = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
                  "<Message>The specified key does not exist.</Message><Key>a b</Key>"
                  "<RequestId>4442587FB7D0A2F9</RequestId></Error>";
  struct mu_s3_error e;
  mu_s3err_parse(b, strlen(b), &e);
  CHECK_STR(e.code, "NoSuchKey");
  CHECK_STR(e.message, "The specified key does not exist.");
  CHECK_STR(e.request_id, "4442587FB7D0A2F9");
  CHECK_STR(e.region, "");
}

static void parse_redirect(void) {
  /* a wrong-region answer carries the bucket's region */
  const char *b = "<Error><Code>AuthorizationHeaderMalformed</Code><Message>the region "
                  "'us-east-1' is wrong; expecting 'eu-west-1'</Message>"
                  "<Region>eu-west-1</Region></Error>";
  struct mu_s3_error e;
  mu_s3err_parse(b, strlen(b), &e);
  CHECK_STR(e.region, "eu-west-1");
  CHECK_INT(mu_s3err_map(400, e.code), MMAPURL_E_WRONG_REGION);
}

static void parse_broken(void) {
  /* truncated, empty, and non-XML bodies leave fields empty */
  struct mu_s3_error e;
  const char *t = "<Error><Code>SlowDo";
  mu_s3err_parse(t, strlen(t), &e);
  CHECK_STR(e.code, "");
  mu_s3err_parse(NULL, 0, &e);
  CHECK_STR(e.code, "");
  const char *h = "<html><body>Bad Gateway</body></html>";
  mu_s3err_parse(h, strlen(h), &e);
  CHECK_STR(e.code, "");
  /* a code longer than the field is cut, not overflowed */
  char big[600] = "<Code>";
  memset(big + 6, 'A', 500);
  memcpy(big + 506, "</Code>", 8);
  mu_s3err_parse(big, strlen(big), &e);
  CHECK_INT(strlen(e.code), sizeof e.code - 1);
}

static void mapping(void) {
  /* S3 codes win over statuses; statuses alone still map */
  CHECK_INT(mu_s3err_map(404, "NoSuchKey"), MMAPURL_E_NO_SUCH_KEY);
  CHECK_INT(mu_s3err_map(404, "NoSuchBucket"), MMAPURL_E_NO_SUCH_BUCKET);
  CHECK_INT(mu_s3err_map(404, ""), MMAPURL_E_NO_SUCH_KEY);
  CHECK_INT(mu_s3err_map(403, "AccessDenied"), MMAPURL_E_ACCESS_DENIED);
  CHECK_INT(mu_s3err_map(403, "InvalidAccessKeyId"), MMAPURL_E_INVALID_KEY_ID);
  CHECK_INT(mu_s3err_map(403, "SignatureDoesNotMatch"), MMAPURL_E_SIGNATURE);
  CHECK_INT(mu_s3err_map(400, "ExpiredToken"), MMAPURL_E_TOKEN_EXPIRED);
  CHECK_INT(mu_s3err_map(403, "RequestTimeTooSkewed"), MMAPURL_E_CLOCK_SKEW);
  CHECK_INT(mu_s3err_map(301, "PermanentRedirect"), MMAPURL_E_WRONG_REGION);
  CHECK_INT(mu_s3err_map(412, "PreconditionFailed"), MMAPURL_E_OBJECT_CHANGED);
  CHECK_INT(mu_s3err_map(412, NULL), MMAPURL_E_OBJECT_CHANGED);
  CHECK_INT(mu_s3err_map(503, "SlowDown"), MMAPURL_E_THROTTLED);
  CHECK_INT(mu_s3err_map(429, ""), MMAPURL_E_THROTTLED);
  CHECK_INT(mu_s3err_map(503, ""), MMAPURL_E_SERVER);
  CHECK_INT(mu_s3err_map(500, "InternalError"), MMAPURL_E_SERVER);
  CHECK_INT(mu_s3err_map(403, ""), MMAPURL_E_ACCESS_DENIED);
  CHECK_INT(mu_s3err_map(400, "InvalidArgument"), MMAPURL_E_HTTP);
}

static void messages(void) {
  /* every code has its own message; unknown codes get a generic one */
  for (int a = 0; a <= MMAPURL_E_INTERNAL; a++) {
    CHECK(strcmp(mmap_s3_errstr(a), "unknown mmapurl error code") != 0);
    for (int b = 0; b < a; b++)
      CHECK(strcmp(mmap_s3_errstr(a), mmap_s3_errstr(b)) != 0);
  }
  CHECK_STR(mmap_s3_errstr(-1), "unknown mmapurl error code");
  CHECK_STR(mmap_s3_errstr(100000), "unknown mmapurl error code");
  CHECK(strstr(mmap_s3_errstr(MMAPURL_E_NO_CREDENTIALS), "AWS_ACCESS_KEY_ID") != NULL);
}

int main(void) {
  parse_full();
  parse_redirect();
  parse_broken();
  mapping();
  messages();
  return check_done();
}
