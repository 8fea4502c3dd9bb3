/*
 * fuzz_list_xml - S3 listing answers (ListObjectsV2, ListBuckets): the input
 * is the body (in an allocation of exactly its size: the parser must never
 * read past len), parsed into a listing that already holds one entry.
 * Invariants: the answer is 0, MMAPURL_E_PROTOCOL or MMAPURL_E_NOMEM; on
 * failure the listing is as it was and no token comes back; on success the
 * old entry is untouched, every new name is a non-empty string, every ETag
 * is terminated within its array, prefixes carry no size or ETag, the flag
 * is 0 or 1, and parsing the same input again gives the same entries.
 */
#include "fuzz.h"
#include "mmapurl.h"
#include "s3/listxml.h"

static const char first[] =
    "<ListBucketResult><Contents><Key>old</Key><Size>7</Size></Contents></ListBucketResult>";

static void check_entries(const struct mu_s3_listing *l) {
  FUZZ_CHECK(l->n >= 1 && l->n <= l->cap);
  FUZZ_CHECK(strcmp(l->v[0].name, "old") == 0 && l->v[0].size == 7);
  for (size_t i = 1; i < l->n; i++) {
    const struct mu_s3_entry *e = &l->v[i];
    FUZZ_CHECK(e->name && e->name[0]);
    FUZZ_CHECK(fuzz_terminated(e->etag, sizeof e->etag));
    FUZZ_CHECK(e->is_prefix == 0 || e->is_prefix == 1);
    FUZZ_CHECK(!e->is_prefix || (e->size == 0 && e->etag[0] == '\0'));
  }
}

static int same_entries(const struct mu_s3_listing *a, const struct mu_s3_listing *b) {
  if (a->n != b->n)
    return 0;
  for (size_t i = 0; i < a->n; i++)
    if (strcmp(a->v[i].name, b->v[i].name) != 0 || a->v[i].size != b->v[i].size ||
        a->v[i].mtime != b->v[i].mtime || strcmp(a->v[i].etag, b->v[i].etag) != 0 ||
        a->v[i].is_prefix != b->v[i].is_prefix)
      return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *body = fuzz_exact(data, size);
  struct mu_s3_listing l = {0}, again = {0};
  int truncated = -1, t2;
  char *token = (char *)1, *tok2;
  FUZZ_CHECK(mu_s3_list_parse(first, sizeof first - 1, &l, &truncated, &token) == 0);
  FUZZ_CHECK(mu_s3_list_parse(first, sizeof first - 1, &again, &t2, &tok2) == 0);
  int rc = mu_s3_list_parse(body, size, &l, &truncated, &token);
  FUZZ_CHECK(rc == 0 || rc == MMAPURL_E_PROTOCOL || rc == MMAPURL_E_NOMEM);
  if (rc) {
    FUZZ_CHECK(token == NULL && l.n == 1);
  } else {
    FUZZ_CHECK(truncated == 0 || truncated == 1);
    FUZZ_CHECK(!token || strlen(token) <= size);
    FUZZ_CHECK(mu_s3_list_parse(body, size, &again, &t2, &tok2) == 0);
    FUZZ_CHECK(t2 == truncated && (!token) == (!tok2) && (!token || !strcmp(token, tok2)));
    FUZZ_CHECK(same_entries(&l, &again));
    free(tok2);
  }
  check_entries(&l);
  free(token);
  mu_s3_listing_free(&l);
  mu_s3_listing_free(&again);
  free(body);
  return 0;
}
