/*
 * test_url.c - unit tests of core/util/url.c: s3:// parsing (keys taken
 * literally, every bucket naming rule, empty parts), http(s) URLs, rejected
 * schemes, and SigV4 URI encoding. No network, no environment.
 */
#include <string.h>

#include "check.h"
#include "mmapurl.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/url.h"

/* Parse an s3 URL expected to be valid and check its bucket and key. */
static void expect_s3(const char *url, const char *bucket, const char *key) {
  struct mu_url u;
  int rc = mu_url_parse(url, &u);
  CHECK_INT(rc, 0);
  if (rc) {
    fprintf(stderr, "  url \"%s\": %s\n", url, mu_err_detail());
    return;
  }
  CHECK_INT(u.kind, MU_URL_S3);
  CHECK_STR(u.bucket, bucket);
  CHECK_STR(u.key, key);
  CHECK(u.http == NULL);
  mu_url_free(&u);
}

/* Parse url expecting MMAPURL_E_URL with a detail containing frag1 and frag2
 * (either may be NULL), and nothing left in the result. */
static void expect_bad(const char *url, const char *frag1, const char *frag2) {
  struct mu_url u;
  mu_err_clear();
  int rc = mu_url_parse(url, &u);
  CHECK_INT(rc, MMAPURL_E_URL);
  CHECK(u.bucket == NULL && u.key == NULL && u.http == NULL);
  const char *d = mu_err_detail();
  if (frag1 && !strstr(d, frag1))
    fprintf(stderr, "  url \"%s\": detail \"%s\" lacks \"%s\"\n", url ? url : "(null)", d, frag1);
  CHECK(!frag1 || strstr(d, frag1));
  if (frag2 && !strstr(d, frag2))
    fprintf(stderr, "  url \"%s\": detail \"%s\" lacks \"%s\"\n", url ? url : "(null)", d, frag2);
  CHECK(!frag2 || strstr(d, frag2));
  mu_url_free(&u);
}

/* Check the bucket name rule that name breaks (why contains frag). */
static void expect_bucket_bad(const char *name, const char *frag) {
  const char *why = NULL;
  CHECK_INT(mu_bucket_name_valid(name, &why), 0);
  CHECK(why && strstr(why, frag));
  if (!why || !strstr(why, frag))
    fprintf(stderr, "  bucket \"%s\": why \"%s\" lacks \"%s\"\n", name ? name : "(null)",
            why ? why : "(null)", frag);
}

/* Encode s and compare with want. */
static void expect_enc(const char *s, int keep_slash, const char *want) {
  struct mu_buf b = MU_BUF_INIT;
  CHECK_INT(mu_uri_encode(&b, s, keep_slash), 0);
  CHECK_STR(b.p ? b.p : "", want);
  mu_buf_free(&b);
}

static void test_s3_valid(void) {
  /* plain bucket and key */
  expect_s3("s3://my-bucket/data.bin", "my-bucket", "data.bin");
  /* scheme is case-insensitive */
  expect_s3("S3://my-bucket/data.bin", "my-bucket", "data.bin");
  /* nested slashes stay in the key */
  expect_s3("s3://b12/a/b/c/d.txt", "b12", "a/b/c/d.txt");
  /* a leading slash in the key is kept: s3://b//k is key "/k" */
  expect_s3("s3://b12//k", "b12", "/k");
  /* a trailing slash is part of the key */
  expect_s3("s3://b12/dir/", "b12", "dir/");
  /* spaces, '+', '%', '?', '#' are taken literally, never decoded */
  expect_s3("s3://b12/my file+x%20y?versionId=3#frag", "b12", "my file+x%20y?versionId=3#frag");
  /* UTF-8 keys (2-, 3- and 4-byte sequences) */
  expect_s3("s3://b12/caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x98\x80", "b12",
            "caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x98\x80");
  /* dotted bucket names are valid S3 names */
  expect_s3("s3://my.bucket.example/k", "my.bucket.example", "k");
  /* bucket of exactly 3 and 63 characters */
  expect_s3("s3://abc/k", "abc", "k");
  expect_s3("s3://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/k",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "k");
  /* a name that resembles an IP but is not a dotted quad is fine */
  expect_s3("s3://192.168.5/k", "192.168.5", "k");
  /* "xn--" / "sthree-" inside the name (not as a prefix) are fine */
  expect_s3("s3://a-xn--b-sthree-c/k", "a-xn--b-sthree-c", "k");
}

static void test_bucket_rules(void) {
  /* every rule, with the phrase naming it */
  expect_bucket_bad(NULL, "empty");
  expect_bucket_bad("", "empty");
  expect_bucket_bad("ab", "shorter than 3");
  expect_bucket_bad("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "longer than 63");
  expect_bucket_bad("MyBucket", "uppercase");
  expect_bucket_bad("my_bucket", "character other than");
  expect_bucket_bad("my bucket", "character other than");
  expect_bucket_bad("-bucket", "begin with");
  expect_bucket_bad(".bucket", "begin with");
  expect_bucket_bad("bucket-", "end with a lowercase letter or a digit");
  expect_bucket_bad("bucket.", "end with a lowercase letter or a digit");
  expect_bucket_bad("my..bucket", "two adjacent periods");
  expect_bucket_bad("192.168.5.4", "IP address");
  expect_bucket_bad("999.1.22.333", "IP address");
  expect_bucket_bad("xn--bucket", "\"xn--\"");
  expect_bucket_bad("sthree-bucket", "\"sthree-\"");
  expect_bucket_bad("sthree-configurator", "\"sthree-\"");
  expect_bucket_bad("amzn-s3-demo-bucket", "\"amzn-s3-demo-\"");
  expect_bucket_bad("bucket-s3alias", "\"-s3alias\"");
  expect_bucket_bad("bucket--ol-s3", "\"--ol-s3\"");
  expect_bucket_bad("bucket.mrap", "\".mrap\"");
  expect_bucket_bad("bucket--use1-az4--x-s3", "\"--x-s3\"");
  expect_bucket_bad("bucket--table-s3", "\"--table-s3\"");
  /* valid names leave *why NULL; why may be NULL */
  const char *why = "unset";
  CHECK_INT(mu_bucket_name_valid("my-bucket.1", &why), 1);
  CHECK(why == NULL);
  CHECK_INT(mu_bucket_name_valid("my-bucket.1", NULL), 1);
  CHECK_INT(mu_bucket_name_valid("Bad", NULL), 0);
  /* DNS compatibility: valid and without dots */
  CHECK_INT(mu_bucket_dns_compatible("my-bucket"), 1);
  CHECK_INT(mu_bucket_dns_compatible("my.bucket"), 0);
  CHECK_INT(mu_bucket_dns_compatible("My-Bucket"), 0);
  CHECK_INT(mu_bucket_dns_compatible(NULL), 0);
}

static void test_s3_invalid(void) {
  /* each bucket rule surfaces in the parse detail, with the name and URL */
  expect_bad("s3://My-Bucket/k", "invalid bucket name \"My-Bucket\" in \"s3://My-Bucket/k\"", "uppercase");
  expect_bad("s3://ab/k", "\"ab\"", "shorter than 3");
  expect_bad("s3://a_b/k", "\"s3://a_b/k\"", "character other than");
  expect_bad("s3://my..b/k", "\"s3://my..b/k\"", "two adjacent periods");
  expect_bad("s3://10.0.0.1/k", "\"s3://10.0.0.1/k\"", "IP address");
  expect_bad("s3://xn--abc/k", "\"s3://xn--abc/k\"", "\"xn--\"");
  expect_bad("s3://abc-s3alias/k", "\"s3://abc-s3alias/k\"", "\"-s3alias\"");
  expect_bad("s3://abc--ol-s3/k", "\"s3://abc--ol-s3/k\"", "\"--ol-s3\"");
  expect_bad("s3://abc.mrap/k", "\"s3://abc.mrap/k\"", "\".mrap\"");
  expect_bad("s3://abc--x-s3/k", "\"s3://abc--x-s3/k\"", "\"--x-s3\"");
  expect_bad("s3://amzn-s3-demo-x/k", "\"s3://amzn-s3-demo-x/k\"", "\"amzn-s3-demo-\"");
  /* a query or fragment glued to the bucket is an invalid character */
  expect_bad("s3://bucket?x=1", "\"bucket?x=1\"", "character other than");
  /* empty key: no slash, or nothing after it */
  expect_bad("s3://bucket", "empty key in \"s3://bucket\"", "non-empty KEY");
  expect_bad("s3://bucket/", "empty key in \"s3://bucket/\"", NULL);
  /* empty bucket */
  expect_bad("s3:///key", "empty bucket name in \"s3:///key\"", "s3://BUCKET/KEY");
  expect_bad("s3://", "empty bucket name in \"s3://\"", NULL);
  /* invalid UTF-8 in the key: lone continuation, truncated, overlong,
   * surrogate, past U+10FFFF; the quoted URL escapes the bad byte */
  expect_bad("s3://bucket/a\x80z", "not valid UTF-8", "byte 0x80 at offset 1");
  expect_bad("s3://bucket/a\xc3", "not valid UTF-8", "s3://bucket/a\\xC3");
  expect_bad("s3://bucket/\xc0\xaf", "not valid UTF-8", "byte 0xC0 at offset 0");
  expect_bad("s3://bucket/\xed\xa0\x80", "not valid UTF-8", "byte 0xED");
  expect_bad("s3://bucket/\xf4\x90\x80\x80", "not valid UTF-8", "byte 0xF4");
  expect_bad("s3://bucket/\xff", "not valid UTF-8", NULL);
}

static void test_http_and_schemes(void) {
  struct mu_url u;
  /* http and https URLs are kept verbatim, any case of scheme */
  const char *urls[] = {"http://localhost:9000/b/k?x=1", "https://example.com/a%20b",
                        "HTTPS://Example.COM", "http://user:pw@host/x", "http://[::1]:8080/x",
                        "http://h?q", "Http://h#f"};
  for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
    CHECK_INT(mu_url_parse(urls[i], &u), 0);
    CHECK_INT(u.kind, MU_URL_HTTP);
    CHECK_STR(u.http, urls[i]);
    CHECK(u.bucket == NULL && u.key == NULL);
    mu_url_free(&u);
  }
  /* http(s) without a host */
  expect_bad("http://", "no host in \"http://\"", "http://HOST");
  expect_bad("https:///path", "no host in \"https:///path\"", NULL);
  expect_bad("http://user@/x", "no host", NULL);
  expect_bad("http://:80/x", "no host", NULL);
  expect_bad("http://[]/x", "no host", NULL);
  /* other schemes, no scheme, empty and NULL name the accepted schemes */
  expect_bad("ftp://host/file", "unsupported scheme \"ftp\" in \"ftp://host/file\"", "s3://BUCKET/KEY");
  expect_bad("bucket/key", "no scheme in \"bucket/key\"", "https://");
  expect_bad("/s3/bucket/key", "no scheme in \"/s3/bucket/key\"", "s3://BUCKET/KEY");
  expect_bad("s3:/bucket/key", "must be followed by \"//\"", "s3://BUCKET/KEY");
  expect_bad("", "empty URL", "s3://BUCKET/KEY");
  expect_bad(NULL, "no URL given", "s3://BUCKET/KEY");
  /* a NULL result pointer is an invalid argument */
  CHECK_INT(mu_url_parse("s3://b12/k", NULL), MMAPURL_E_INVALID_ARG);
  /* control bytes in a quoted URL are escaped */
  expect_bad("ftp://a\nb", "ftp://a\\x0Ab", NULL);
  /* mu_url_free accepts NULL and an already freed value */
  mu_url_free(NULL);
  CHECK_INT(mu_url_parse("s3://b12/k", &u), 0);
  mu_url_free(&u);
  mu_url_free(&u);
}

static void test_uri_encode(void) {
  /* unreserved characters are kept, including '~' */
  expect_enc("AZaz09-_.~", 0, "AZaz09-_.~");
  /* reserved characters are escaped in uppercase hex */
  expect_enc("a b+c=d&e?f#g:h@i!$'()*,;[]", 0,
             "a%20b%2Bc%3Dd%26e%3Ff%23g%3Ah%40i%21%24%27%28%29%2A%2C%3B%5B%5D");
  /* '%' itself is escaped (keys are never pre-decoded) */
  expect_enc("100%25", 0, "100%2525");
  /* '/' escaped without keep_slash, kept with it */
  expect_enc("a/b c/d", 0, "a%2Fb%20c%2Fd");
  expect_enc("a/b c/d", 1, "a/b%20c/d");
  expect_enc("/k", 1, "/k");
  /* UTF-8 bytes escaped one by one */
  expect_enc("caf\xc3\xa9 \xf0\x9f\x98\x80", 1, "caf%C3%A9%20%F0%9F%98%80");
  /* empty input leaves the buffer empty */
  expect_enc("", 1, "");
}

/* URLs in messages: no user:password, no query (a presigned URL's query
 * is a credential); the rest kept. */
static void test_url_for_log(void) {
  char out[256];
  mu_url_for_log("https://alice:Hunter2@h.example:8443/b/k.bin?X-Amz-Signature=ab&sig=cd", out,
                 sizeof out);
  CHECK_STR(out, "https://h.example:8443/b/k.bin?...");
  mu_url_for_log("http://127.0.0.1:9000/bucket/key", out, sizeof out);
  CHECK_STR(out, "http://127.0.0.1:9000/bucket/key");
  mu_url_for_log("http://user@host?q=1", out, sizeof out);
  CHECK_STR(out, "http://host?...");
  mu_url_for_log("http://host/p#frag", out, sizeof out);
  CHECK_STR(out, "http://host/p?...");
  mu_url_for_log("https://h/very/long/path", out, 12);
  CHECK_STR(out, "https://h/v");
}

int main(void) {
  test_url_for_log();
  test_s3_valid();
  test_bucket_rules();
  test_s3_invalid();
  test_http_and_schemes();
  test_uri_encode();
  return check_done();
}
