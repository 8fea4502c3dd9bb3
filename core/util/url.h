/*
 * url.h - parsing of the URLs users give: s3://bucket/key and http(s)://...
 * Pure functions on strings: no I/O, no configuration, no allocation beyond
 * the result.
 */
#ifndef MU_URL_H
#define MU_URL_H

#include <stddef.h>

enum mu_url_kind { MU_URL_S3 = 1, MU_URL_HTTP = 2 };

struct mu_url {
  enum mu_url_kind kind;
  char *bucket; /* S3: the bucket name, validated by S3's naming rules */
  char *key;    /* S3: the raw key (UTF-8, unencoded), never empty */
  char *http;   /* HTTP: the URL as given */
};

/* Parse url into *out (which the caller frees with mu_url_free).
 * Returns 0 or MMAPURL_E_URL with a precise detail (mu_fail). */
int mu_url_parse(const char *url, struct mu_url *out);
void mu_url_free(struct mu_url *u);

/* Whether name is a valid S3 bucket name (3-63 chars, [a-z0-9.-], starts and
 * ends with a letter/digit, no "..", not an IP address, no "xn--" prefix,
 * no "-s3alias" / "--ol-s3" suffix). On failure *why says which rule. */
int mu_bucket_name_valid(const char *name, const char **why);
/* Whether a valid bucket name can be a DNS label for virtual-hosted
 * addressing over TLS (no dots). */
int mu_bucket_dns_compatible(const char *name);

/* url as it may appear in messages and logs: "scheme://host/path", with any
 * user:password@ dropped and the query replaced by "?..." (a presigned
 * URL's query is a credential). Truncated to cap-1 bytes. */
void mu_url_for_log(const char *url, char *out, size_t cap);

/* URI-encode s per SigV4 / S3 rules into b: unreserved A-Z a-z 0-9 - _ . ~
 * kept, everything else %XX (uppercase hex); '/' kept when keep_slash.
 * Returns 0 or MMAPURL_E_NOMEM. */
struct mu_buf;
int mu_uri_encode(struct mu_buf *b, const char *s, int keep_slash);

#endif
