/* test_http_headers - response header lines: status lines reset state,
 * Content-Range strictly parsed (forms S3 and s3rver send, and garbage
 * refused), Content-Length only for 200, values trimmed and bounded. */
#include "check.h"
#include "http/headers.h"
#include "http/http.h"

static int line(struct mu_http_response *rs, const char *s) {
  return mu_http_parse_header(s, strlen(s), rs);
}

static void content_ranges(void) {
  int has;
  uint64_t a, b, t;
  /* the normal partial answer */
  has = 0;
  CHECK_INT(mu_http_parse_content_range("bytes 0-65535/5242880", &has, &a, &b, &t), 0);
  CHECK(has && a == 0 && b == 65535 && t == 5242880);
  /* an unsatisfiable range tells the total only */
  has = 0;
  CHECK_INT(mu_http_parse_content_range("bytes */0", &has, &a, &b, &t), 0);
  CHECK(!has && t == 0);
  /* s3rver's empty object */
  has = 0, t = 9;
  CHECK_INT(mu_http_parse_content_range("bytes 0-0/0", &has, &a, &b, &t), 0);
  CHECK(!has && t == 0);
  /* largest values that fit; one past overflows */
  CHECK_INT(mu_http_parse_content_range("bytes 0-1/18446744073709551615", &has, &a, &b, &t), 0);
  CHECK(t == UINT64_MAX);
  CHECK_INT(mu_http_parse_content_range("bytes 0-1/18446744073709551616", &has, &a, &b, &t), -1);
  /* refused: inverted, past the end, signs, spaces, junk, other units */
  const char *bad[] = {"bytes 5-4/10", "bytes 0-10/10", "bytes -1-4/10", "bytes 0-4/10x",
                       "bytes 0 -4/10", "bytes +0-4/10", "bytes 0-4/", "bytes */", "bytes *",
                       "items 0-4/10", "bytes", "", "bytes 0-4/10 ", "bytes 00000000000000000000001-2/3"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CHECK_INT(mu_http_parse_content_range(bad[i], &has, &a, &b, &t), -1);
}

static void lines(void) {
  struct mu_http_response rs;
  memset(&rs, 0, sizeof rs);
  /* a 100 Continue, then the real answer: the second status wins */
  CHECK_INT(line(&rs, "HTTP/1.1 100 Continue\r\n"), 0);
  CHECK_INT(rs.status, 100);
  CHECK_INT(line(&rs, "HTTP/1.1 206 Partial Content\r\n"), 0);
  CHECK_INT(rs.status, 206);
  line(&rs, "content-range:   bytes 10-19/100  \r\n");
  CHECK(rs.has_range && rs.range_first == 10 && rs.range_last == 19 && rs.total == 100);
  line(&rs, "ETag: \"abc\"\r\n");
  CHECK_STR(rs.etag, "\"abc\"");
  line(&rs, "x-amz-bucket-region: eu-west-1\r\n");
  CHECK_STR(rs.bucket_region, "eu-west-1");
  /* Content-Length of a 206 is not the object's size */
  line(&rs, "Content-Length: 10\r\n");
  CHECK_INT(rs.total, 100);
  /* the blank line ends the headers */
  CHECK_INT(line(&rs, "\r\n"), 1);
  /* a new status line resets what the previous answer said */
  line(&rs, "HTTP/2 200\r\n");
  CHECK(rs.status == 200 && !rs.has_range && !rs.has_total && rs.etag[0] == '\0');
  line(&rs, "Content-Length: 4096\r\n");
  CHECK(rs.has_total && rs.total == 4096);
  /* garbage status and over-long values are bounded */
  line(&rs, "HTTP/1.1 2000000000000 nonsense\r\n");
  CHECK_INT(rs.status, 0);
  char longv[1000] = "ETag: ";
  memset(longv + 6, 'e', 900);
  longv[906] = '\0';
  line(&rs, longv);
  CHECK_INT(strlen(rs.etag), sizeof rs.etag - 1);
}

/* Regressions found by fuzz_headers (reproducers in tests/fuzz/corpus/headers). */
static void fuzz_findings(void) {
  struct mu_http_response rs;
  memset(&rs, 0, sizeof rs);
  line(&rs, "HTTP/1.1 200 OK\r\n");
  /* a short line without a colon is not the end of the headers */
  CHECK_INT(line(&rs, "X\n"), 0);
  CHECK_INT(line(&rs, "XY"), 0);
  /* an empty Content-Length tells no size */
  line(&rs, "Content-Length: \r\n");
  CHECK_INT(rs.has_total, 0);
  /* a NUL inside a value does not let a prefix pass for the value */
  static const char cl[] = "Content-Length: 1048577\0!\r\n";
  mu_http_parse_header(cl, sizeof cl - 1, &rs);
  CHECK_INT(rs.has_total, 0);
  line(&rs, "HTTP/1.1 206 Partial Content\r\n");
  static const char cr[] = "Content-Range: bytes 0-99/1000\0junk\r\n";
  mu_http_parse_header(cr, sizeof cr - 1, &rs);
  CHECK(!rs.has_range && !rs.has_total);
}

int main(void) {
  fuzz_findings();
  content_ranges();
  lines();
  return check_done();
}
