/*
 * listxml.h - the answers of S3 listings: the XML of ListObjectsV2
 * (<ListBucketResult>) and of ListBuckets (<ListAllMyBucketsResult>) parsed
 * into entries. Pure functions of their input: no I/O, no configuration.
 */
#ifndef MU_LISTXML_H
#define MU_LISTXML_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct mu_s3_entry {
  char *name;     /* owned: the full key, a common prefix (ending with the
                     delimiter) or a bucket name; never empty, UTF-8 as sent */
  int is_prefix;  /* 1: a CommonPrefixes entry ("directory") or a bucket */
  uint64_t size;  /* keys only */
  time_t mtime;   /* keys: LastModified, buckets: CreationDate; UTC; 0 if
                     absent or unreadable */
  char etag[256]; /* keys only, with its quotes; "" if absent */
};

struct mu_s3_listing {
  struct mu_s3_entry *v; /* owned, n of them: in document order from the
                            parser, sorted by name from mu_s3_list */
  size_t n;
  size_t cap;            /* entries allocated in v */
};

/*
 * Parse one listing answer xml[0..len) (never read past len; no NUL needed)
 * and append its keys, common prefixes or buckets to *append_to, in
 * document order. Entities (&amp; &lt; &gt; &quot; &apos; &#N; &#xN;) are
 * decoded; when the answer says <EncodingType>url</EncodingType>, key and
 * prefix names are URL-decoded too ('+' is a space). *truncated is set from
 * <IsTruncated> (0 if absent) and *next_token to a malloc'd copy of
 * <NextContinuationToken> (NULL if absent; the caller frees it).
 * Returns 0, MMAPURL_E_PROTOCOL (detail set) for anything malformed or
 * truncated, or MMAPURL_E_NOMEM; on failure *append_to is as it was and
 * *next_token is NULL.
 */
int mu_s3_list_parse(const char *xml, size_t len, struct mu_s3_listing *append_to,
                     int *truncated, char **next_token);

/* Free the entries past the first n (none if l->n <= n). */
void mu_s3_listing_truncate(struct mu_s3_listing *l, size_t n);
/* Free every entry and the array; *l becomes empty. NULL is fine. */
void mu_s3_listing_free(struct mu_s3_listing *l);

#endif
