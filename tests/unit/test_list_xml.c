/* test_list_xml - S3 listing answers (ListObjectsV2, ListBuckets) parse into
 * the right entries: common prefixes, truncation and continuation tokens,
 * entities, URL encoding, UTF-8 keys, empty results; malformed and cut-short
 * documents fail with MMAPURL_E_PROTOCOL and leave the listing as it was.
 * Each document is parsed from an allocation of exactly its length, so an
 * ASan build catches any read past it. */
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "mmapurl.h"
#include "s3/listxml.h"

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define OPEN "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
#define CLOSE "</ListBucketResult>"

/* Parse doc[0..len) from an exact-size copy. */
static int parse_n(const char *doc, size_t len, struct mu_s3_listing *l, int *truncated,
                   char **token) {
  char *copy = malloc(len ? len : 1);
  memcpy(copy, doc, len);
  int rc = mu_s3_list_parse(copy, len, l, truncated, token);
  free(copy);
  return rc;
}

static int parse(const char *doc, struct mu_s3_listing *l, int *truncated, char **token) {
  return parse_n(doc, strlen(doc), l, truncated, token);
}

static void page_with_prefixes(void) {
  /* a delimited root listing as AWS sends it: keys, then common prefixes */
  const char *doc =
      HEAD OPEN "<Name>mmapurl-test</Name><Prefix></Prefix><KeyCount>4</KeyCount>"
      "<MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>false</IsTruncated>"
      "<Contents><Key>size-0</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>"
      "<ETag>&quot;d41d8cd98f00b204e9800998ecf8427e&quot;</ETag>"
      "<ChecksumAlgorithm>CRC64NVME</ChecksumAlgorithm><Size>0</Size>"
      "<Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>"
      "</Owner><StorageClass>STANDARD</StorageClass></Contents>"
      "<Contents><Key>size-5MiB</Key><LastModified>2026-11-20T10:11:12Z</LastModified>"
      "<ETag>\"9b2cf535f27731c974343645a3985328-2\"</ETag><Size>5242903</Size>"
      "<StorageClass>STANDARD</StorageClass></Contents>"
      "<CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes>"
      "<CommonPrefixes><Prefix>données/</Prefix></CommonPrefixes>" CLOSE;
  struct mu_s3_listing l = {0};
  int truncated = -1;
  char *token = (char *)1;
  CHECK_INT(parse(doc, &l, &truncated, &token), 0);
  CHECK_INT(l.n, 4);
  CHECK_INT(truncated, 0);
  CHECK(token == NULL);
  if (l.n == 4) {
    CHECK_STR(l.v[0].name, "size-0");
    CHECK_INT(l.v[0].is_prefix, 0);
    CHECK_INT(l.v[0].size, 0);
    CHECK_INT(l.v[0].mtime, 1255369830);
    CHECK_STR(l.v[0].etag, "\"d41d8cd98f00b204e9800998ecf8427e\"");
    CHECK_STR(l.v[1].name, "size-5MiB");
    CHECK_INT(l.v[1].size, 5242903);
    CHECK_INT(l.v[1].mtime, 1795169472);
    CHECK_STR(l.v[1].etag, "\"9b2cf535f27731c974343645a3985328-2\"");
    CHECK_STR(l.v[2].name, "dir/");
    CHECK_INT(l.v[2].is_prefix, 1);
    CHECK_STR(l.v[2].etag, "");
    CHECK_INT(l.v[2].mtime, 0);
    CHECK_STR(l.v[3].name, "données/");
    CHECK_INT(l.v[3].is_prefix, 1);
  }
  mu_s3_listing_free(&l);
  CHECK(l.v == NULL && l.n == 0);
}

static void pages_append(void) {
  /* a truncated page gives its token; the next page appends after it */
  const char *p1 = OPEN "<IsTruncated>true</IsTruncated><Contents><Key>a</Key><Size>1</Size>"
                        "</Contents><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/"
                        "wm36Hy4vbOwM=</NextContinuationToken>" CLOSE;
  const char *p2 = OPEN "<ContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
                        "</ContinuationToken><Contents><Key>b</Key><Size>2</Size></Contents>"
                        "<IsTruncated>false</IsTruncated>" CLOSE;
  struct mu_s3_listing l = {0};
  int truncated;
  char *token;
  CHECK_INT(parse(p1, &l, &truncated, &token), 0);
  CHECK_INT(truncated, 1);
  CHECK_STR(token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  free(token);
  CHECK_INT(parse(p2, &l, &truncated, &token), 0);
  CHECK_INT(truncated, 0);
  CHECK(token == NULL);
  CHECK_INT(l.n, 2);
  if (l.n == 2) {
    CHECK_STR(l.v[0].name, "a");
    CHECK_STR(l.v[1].name, "b");
    CHECK_INT(l.v[1].size, 2);
  }
  /* truncating frees the tail */
  mu_s3_listing_truncate(&l, 1);
  CHECK_INT(l.n, 1);
  mu_s3_listing_truncate(&l, 5);
  CHECK_INT(l.n, 1);
  mu_s3_listing_free(&l);
  mu_s3_listing_free(NULL);
}

static void entities(void) {
  /* the predefined entities and character references, in keys and ETags */
  const char *doc = OPEN "<Contents><Key>a&amp;b&lt;c&gt;d&quot;e&apos;f &#233;&#x65E5;&#x1F600;"
                         "&#X41;</Key><Size>3</Size><ETag>&#34;x&#x22;</ETag></Contents>" CLOSE;
  struct mu_s3_listing l = {0};
  int truncated;
  char *token;
  /* "&#X41;" (uppercase X) is not a character reference */
  CHECK_INT(parse(doc, &l, &truncated, &token), MMAPURL_E_PROTOCOL);
  const char *ok = OPEN "<Contents><Key>a&amp;b&lt;c&gt;d&quot;e&apos;f &#233;&#x65E5;&#x1F600;"
                        "&#65;</Key><Size>3</Size><ETag>&#34;x&#x22;</ETag></Contents>" CLOSE;
  CHECK_INT(parse(ok, &l, &truncated, &token), 0);
  CHECK_INT(l.n, 1);
  if (l.n == 1) {
    CHECK_STR(l.v[0].name, "a&b<c>d\"e'f \xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80" "A");
    CHECK_STR(l.v[0].etag, "\"x\"");
  }
  mu_s3_listing_free(&l);
}

static void url_encoded(void) {
  /* encoding-type=url: names decoded ('+' is a space), even when
   * <EncodingType> comes after the keys; the token is left alone */
  const char *doc =
      OPEN "<Name>mmapurl-test</Name><Prefix></Prefix><Delimiter>%2F</Delimiter>"
      "<IsTruncated>true</IsTruncated>"
      "<Contents><Key>with+space.bin</Key><Size>10000</Size></Contents>"
      "<Contents><Key>plus%2Bsign.bin</Key><Size>10000</Size></Contents>"
      "<Contents><Key>percent%2525.bin</Key><Size>10000</Size></Contents>"
      "<Contents><Key>q%3Fmark%23hash.bin</Key><Size>10000</Size></Contents>"
      "<Contents><Key>%E6%97%A5%E6%9C%AC%E8%AA%9E.bin</Key><Size>10000</Size></Contents>"
      "<Contents><Key>bang%21star%2Aquote%27.bin</Key><Size>10000</Size></Contents>"
      "<CommonPrefixes><Prefix>donn%C3%A9es%2F</Prefix></CommonPrefixes>"
      "<NextContinuationToken>a+b%2F</NextContinuationToken>"
      "<EncodingType>url</EncodingType>" CLOSE;
  static const char *const want[] = {"with space.bin", "plus+sign.bin", "percent%25.bin",
                                     "q?mark#hash.bin", "日本語.bin",
                                     "bang!star*quote'.bin", "données/"};
  struct mu_s3_listing l = {0};
  int truncated;
  char *token;
  CHECK_INT(parse(doc, &l, &truncated, &token), 0);
  CHECK_INT(l.n, 7);
  for (size_t i = 0; i < l.n && i < 7; i++)
    CHECK_STR(l.v[i].name, want[i]);
  CHECK_STR(token, "a+b%2F");
  free(token);
  mu_s3_listing_free(&l);
}

static void not_url_encoded(void) {
  /* without <EncodingType>url (s3rver ignores the parameter), names are
   * taken as they are: '+' and '%' stay; raw UTF-8 passes through */
  const char *doc = OPEN "<Contents><Key>plus+sign.bin</Key><Size>1</Size></Contents>"
                         "<Contents><Key>percent%25.bin</Key><Size>1</Size></Contents>"
                         "<Contents><Key>日本語.bin</Key><Size>1</Size></Contents>"
                         "<Contents><Key> lead and trail </Key><Size>1</Size></Contents>"
                         "<EncodingType>none</EncodingType>" CLOSE;
  struct mu_s3_listing l = {0};
  int truncated;
  char *token;
  CHECK_INT(parse(doc, &l, &truncated, &token), 0);
  CHECK_INT(l.n, 4);
  if (l.n == 4) {
    CHECK_STR(l.v[0].name, "plus+sign.bin");
    CHECK_STR(l.v[1].name, "percent%25.bin");
    CHECK_STR(l.v[2].name, "日本語.bin");
    CHECK_STR(l.v[3].name, " lead and trail ");
  }
  mu_s3_listing_free(&l);
}

static void empty_result(void) {
  /* a prefix with no keys: nothing appended, not truncated */
  const char *doc = HEAD OPEN "<Name>mmapurl-test</Name><Prefix>no/such/</Prefix>"
                              "<KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys>"
                              "<Delimiter>/</Delimiter><IsTruncated>false</IsTruncated>" CLOSE
                              "\n";
  struct mu_s3_listing l = {0};
  int truncated = -1;
  char *token = (char *)1;
  CHECK_INT(parse(doc, &l, &truncated, &token), 0);
  CHECK_INT(l.n, 0);
  CHECK_INT(truncated, 0);
  CHECK(token == NULL);
  /* a bare root element, self-closed, is an empty listing too */
  CHECK_INT(parse("<ListBucketResult/>", &l, &truncated, &token), 0);
  CHECK_INT(l.n, 0);
  mu_s3_listing_free(&l);
}

static void xml_forms(void) {
  /* comments, CDATA, attributes holding '>', self-closed and unknown
   * elements, whitespace between elements */
  const char *doc = "<?xml version='1.0'?>\n<!-- listing -->\n"
                    "<ListBucketResult a='x>y' b=\"<!--\">\n  <Prefix/>\n"
                    "  <Contents>\n    <Key>k<!-- c -->ey<![CDATA[&<]]></Key>\n"
                    "    <Size>0012</Size>\n    <Extra><Key>ignored</Key></Extra>\n"
                    "    <ETag/>\n  </Contents >\n</ListBucketResult >\n<!-- end -->\n";
  struct mu_s3_listing l = {0};
  int truncated;
  char *token;
  CHECK_INT(parse(doc, &l, &truncated, &token), 0);
  CHECK_INT(l.n, 1);
  if (l.n == 1) {
    CHECK_STR(l.v[0].name, "key&<");
    CHECK_INT(l.v[0].size, 12);
    CHECK_STR(l.v[0].etag, "");
    CHECK_INT(l.v[0].mtime, 0);
  }
  mu_s3_listing_free(&l);
}

static void buckets(void) {
  /* ListBuckets: bucket names as prefix entries with their creation dates */
  const char *doc =
      HEAD "<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
      "<Owner><ID>123</ID><DisplayName>S3rver</DisplayName></Owner><Buckets>"
      "<Bucket><Name>demo</Name><CreationDate>2009-10-12T17:50:30.000Z</CreationDate></Bucket>"
      "<Bucket><Name>mmapurl-test</Name><CreationDate>bad</CreationDate>"
      "<BucketRegion>us-east-1</BucketRegion></Bucket></Buckets></ListAllMyBucketsResult>";
  struct mu_s3_listing l = {0};
  int truncated;
  char *token;
  CHECK_INT(parse(doc, &l, &truncated, &token), 0);
  CHECK_INT(l.n, 2);
  if (l.n == 2) {
    CHECK_STR(l.v[0].name, "demo");
    CHECK_INT(l.v[0].is_prefix, 1);
    CHECK_INT(l.v[0].mtime, 1255369830);
    CHECK_STR(l.v[1].name, "mmapurl-test");
    CHECK_INT(l.v[1].mtime, 0);
  }
  mu_s3_listing_free(&l);
}

static void dates(void) {
  /* LastModified: with or without fractions; anything else reads as 0 */
  static const struct {
    const char *text;
    time_t want;
  } cases[] = {{"2009-10-12T17:50:30Z", 1255369830},
               {"2009-10-12T17:50:30.123456Z", 1255369830},
               {"2009-10-12T17:50:30.000+00:00", 0},
               {"2009-10-12 17:50:30Z", 0},
               {"2009-13-12T17:50:30Z", 0},
               {"1969-12-31T23:59:59Z", 0},
               {"2009-1x-12T17:50:30Z", 0},
               {"", 0}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char doc[512];
    snprintf(doc, sizeof doc, OPEN "<Contents><Key>k</Key><Size>1</Size><LastModified>%s"
             "</LastModified></Contents>" CLOSE, cases[i].text);
    struct mu_s3_listing l = {0};
    int truncated;
    char *token;
    CHECK_INT(parse(doc, &l, &truncated, &token), 0);
    CHECK(l.n == 1 && l.v[0].mtime == cases[i].want);
    mu_s3_listing_free(&l);
  }
}

/* Documents that must be refused. */
static const char *const malformed[] = {
    "",
    "   \n",
    "<Error><Code>NoSuchBucket</Code></Error>",
    "<ListBucketResult>",
    OPEN "<Contents><Key>a</Key><Size>1</Size></Contents>",
    OPEN "<Contents><Key>a</Key><Size>1</Size></Contents></ListBucketResul>",
    OPEN "<Contents><Key>a</Size></Contents>" CLOSE,
    OPEN "</Contents>" CLOSE,
    OPEN "<Contents><Key>a&nbsp;</Key><Size>1</Size></Contents>" CLOSE,
    OPEN "<Contents><Key>a&amp</Key><Size>1</Size></Contents>" CLOSE,
    OPEN "<Contents><Key>a&#0;</Key><Size>1</Size></Contents>" CLOSE,
    OPEN "<Contents><Key>a&#xD800;</Key><Size>1</Size></Contents>" CLOSE,
    OPEN "<Contents><Key>a&#x110000;</Key><Size>1</Size></Contents>" CLOSE,
    OPEN "<Contents><Key>a&#;</Key><Size>1</Size></Contents>" CLOSE,
    OPEN "<Contents><Key>a&#x;</Key><Size>1</Size></Contents>" CLOSE,
    OPEN "<Contents><Key>a</Key><Size>12a</Size></Contents>" CLOSE,
    OPEN "<Contents><Key>a</Key><Size>-1</Size></Contents>" CLOSE,
    OPEN "<Contents><Key>a</Key><Size></Size></Contents>" CLOSE,
    OPEN "<Contents><Key>a</Key><Size>18446744073709551616</Size></Contents>" CLOSE,
    OPEN "<Contents><Key>a</Key></Contents>" CLOSE,
    OPEN "<Contents><Size>1</Size></Contents>" CLOSE,
    OPEN "<Contents><Key></Key><Size>1</Size></Contents>" CLOSE,
    OPEN "<Contents><Key>a</Key><Key>b</Key><Size>1</Size></Contents>" CLOSE,
    OPEN "<Contents><Key>a<b/></Key><Size>1</Size></Contents>" CLOSE,
    OPEN "<CommonPrefixes></CommonPrefixes>" CLOSE,
    OPEN "<IsTruncated>yes</IsTruncated>" CLOSE,
    OPEN "<IsTruncated>true</IsTruncated><IsTruncated>false</IsTruncated>" CLOSE,
    "<!DOCTYPE x [<!ENTITY e \"boom\">]>" OPEN CLOSE,
    OPEN CLOSE "trailing",
    OPEN CLOSE OPEN CLOSE,
    "text" OPEN CLOSE,
    OPEN "<Contents><Key>a</Key><Size>1</Size><ETag>\"" /* 256 bytes of ETag */
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\"</ETag></Contents>" CLOSE,
    OPEN "<Contents><Key>a</Key><Size>1</Size></Contents><EncodingType>url</EncodingType>"
    "<Contents><Key>b%zz</Key><Size>1</Size></Contents>" CLOSE,
    OPEN "<EncodingType>url</EncodingType><Contents><Key>b%00</Key><Size>1</Size></Contents>" CLOSE,
    OPEN "<EncodingType>url</EncodingType><Contents><Key>b%4</Key><Size>1</Size></Contents>" CLOSE,
    OPEN "<Contents><Key>a<</Key><Size>1</Size></Contents>" CLOSE,
    OPEN "<Contents><Key>a</Key><Size>1</Size></Contents><Contents a=\"x>" CLOSE,
    OPEN "<Contents><Key><![CDATA[a]]</Key><Size>1</Size></Contents>" CLOSE,
    OPEN "<!-- open comment" CLOSE,
    OPEN "<?pi " CLOSE,
    OPEN "< Contents>" CLOSE,
    OPEN "<a" CLOSE,
    "<![CDATA[x]]>" OPEN CLOSE,
    OPEN "<a><b><c><d><e><f><g><h><i><j><k><l><m><n><o><p></p></o></n></m></l></k></j></i>"
    "</h></g></f></e></d></c></b></a>" CLOSE,
};

static void refused(void) {
  /* every malformed document: PROTOCOL, the listing untouched, no token */
  struct mu_s3_listing l = {0};
  int truncated;
  char *token;
  CHECK_INT(parse(OPEN "<Contents><Key>kept</Key><Size>7</Size></Contents>" CLOSE, &l,
                  &truncated, &token), 0);
  for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++) {
    token = (char *)1;
    int rc = parse(malformed[i], &l, &truncated, &token);
    if (rc != MMAPURL_E_PROTOCOL)
      fprintf(stderr, "malformed[%zu] accepted: %s\n", i, malformed[i]);
    CHECK_INT(rc, MMAPURL_E_PROTOCOL);
    CHECK(token == NULL);
    CHECK(l.n == 1 && strcmp(l.v[0].name, "kept") == 0 && l.v[0].size == 7);
  }
  /* a NUL byte inside a value */
  static const char nul[] = OPEN "<Contents><Key>a\0b</Key><Size>1</Size></Contents>" CLOSE;
  CHECK_INT(parse_n(nul, sizeof nul - 1, &l, &truncated, &token), MMAPURL_E_PROTOCOL);
  CHECK(strstr(mmapurl_errdetail(), "malformed") != NULL);
  CHECK_INT(mu_s3_list_parse(NULL, 0, &l, &truncated, &token), MMAPURL_E_PROTOCOL);
  CHECK_INT(l.n, 1);
  mu_s3_listing_free(&l);
}

static void cut_short(void) {
  /* every proper prefix of a valid answer is refused, the whole accepted */
  const char *doc = HEAD OPEN "<Name>b</Name><IsTruncated>true</IsTruncated>"
                    "<Contents><Key>a&amp;b</Key><LastModified>2009-10-12T17:50:30.000Z"
                    "</LastModified><ETag>&quot;e&quot;</ETag><Size>10</Size></Contents>"
                    "<CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes>"
                    "<NextContinuationToken>t</NextContinuationToken>" CLOSE;
  size_t len = strlen(doc);
  struct mu_s3_listing l = {0};
  int truncated;
  char *token;
  for (size_t i = 0; i < len; i++) {
    int rc = parse_n(doc, i, &l, &truncated, &token);
    if (rc != MMAPURL_E_PROTOCOL)
      fprintf(stderr, "prefix of %zu bytes accepted\n", i);
    CHECK_INT(rc, MMAPURL_E_PROTOCOL);
    CHECK_INT(l.n, 0);
  }
  CHECK_INT(parse_n(doc, len, &l, &truncated, &token), 0);
  CHECK_INT(l.n, 2);
  CHECK_INT(truncated, 1);
  CHECK_STR(token, "t");
  free(token);
  mu_s3_listing_free(&l);
}

static void largest_size(void) {
  /* the largest 64-bit size and a 255-byte ETag are taken */
  char doc[1024];
  char etag[256];
  memset(etag, 'e', 255);
  etag[255] = '\0';
  snprintf(doc, sizeof doc, OPEN "<Contents><Key>a</Key><Size>18446744073709551615</Size>"
           "<ETag>%s</ETag></Contents>" CLOSE, etag);
  struct mu_s3_listing l = {0};
  int truncated;
  char *token;
  CHECK_INT(parse(doc, &l, &truncated, &token), 0);
  CHECK(l.n == 1 && l.v[0].size == UINT64_MAX && strcmp(l.v[0].etag, etag) == 0);
  mu_s3_listing_free(&l);
}

static void many_entries(void) {
  /* 1000 keys with long names: the array grows, order is kept */
  size_t cap = 1000 * 1200 + 200, n = 0;
  char *doc = malloc(cap);
  n += (size_t)snprintf(doc + n, cap - n, OPEN);
  char name[1025];
  for (int i = 0; i < 1000; i++) {
    memset(name, 'x', 1000);
    snprintf(name + 1000, sizeof name - 1000, "%04d", i);
    n += (size_t)snprintf(doc + n, cap - n, "<Contents><Key>%s</Key><Size>%d</Size></Contents>",
                          name, i);
  }
  n += (size_t)snprintf(doc + n, cap - n, CLOSE);
  struct mu_s3_listing l = {0};
  int truncated;
  char *token;
  CHECK_INT(parse_n(doc, n, &l, &truncated, &token), 0);
  CHECK_INT(l.n, 1000);
  for (size_t i = 0; i < l.n; i++)
    CHECK(strlen(l.v[i].name) == 1004 && strtol(l.v[i].name + 1000, NULL, 10) == (long)i &&
          l.v[i].size == i);
  mu_s3_listing_free(&l);
  free(doc);
}

int main(void) {
  page_with_prefixes();
  pages_append();
  entities();
  url_encoded();
  not_url_encoded();
  empty_result();
  xml_forms();
  buckets();
  dates();
  refused();
  cut_short();
  largest_size();
  many_entries();
  return check_done();
}
