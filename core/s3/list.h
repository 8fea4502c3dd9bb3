/*
 * list.h - S3 listings over the request path (signing, retries, error
 * mapping, one region redirect): ListObjectsV2 of a bucket under a prefix,
 * following continuation tokens, and ListBuckets. What a directory listing
 * of /s3/<bucket>/<prefix>/ needs. Entries and their parser: listxml.h.
 */
#ifndef MU_LIST_H
#define MU_LIST_H

#include <stddef.h>

#include "s3/listxml.h"

/*
 * ListObjectsV2 of bucket under prefix (NULL or "" = the whole bucket),
 * with delimiter (NULL or "" = none: every key below prefix), following
 * continuation tokens until the listing ends or *out holds max_entries
 * entries (0 = no limit). page_keys: max-keys per request (0 = the server's
 * default, 1000 on S3). Keys and common prefixes come sorted together by
 * name in byte order (S3's order, whatever the page size), names exact
 * (URL-decoded and entity-decoded).
 * Returns 0 with *out filled (the caller frees it with mu_s3_listing_free;
 * a prefix without keys gives n = 0), or an MMAPURL_E_* code with the
 * thread's detail set and *out empty: MMAPURL_E_URL for a bucket name S3
 * never accepts, MMAPURL_E_NO_SUCH_BUCKET, MMAPURL_E_ACCESS_DENIED and the
 * other codes of request.h, MMAPURL_E_PROTOCOL for a malformed answer or
 * one larger than 16 MiB. Runs on the calling thread; any thread may call.
 */
int mu_s3_list(const char *bucket, const char *prefix, const char *delimiter,
               size_t max_entries, size_t page_keys, struct mu_s3_listing *out);

/* ListBuckets (GET / on the endpoint, path-style): the buckets the
 * credentials own, as entries with is_prefix = 1 and mtime = CreationDate.
 * Returns and owns as mu_s3_list. */
int mu_s3_list_buckets(struct mu_s3_listing *out);

#endif
