/* test_http_url - plain http(s):// URLs (here s3rver's, with and without a
 * presigned query string): mapped and read byte-exact, opened with one
 * request, no credentials needed, a missing object is MMAPURL_E_NO_SUCH_KEY.
 * usage: test_http_url MANIFEST URL LOCAL_COPY MISSING_URL */
#include "testlib.h"

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s MANIFEST URL LOCAL_COPY MISSING_URL\n", argv[0]);
    return 2;
  }
  const char *url = argv[2], *missing = argv[4];
  /* a URL needs no credentials: take them away */
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
  setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
  FILE *f = fopen(argv[3], "rb");
  CHECK(f != NULL);
  if (!f)
    return check_done();
  fseek(f, 0, SEEK_END);
  uint64_t size = (uint64_t)ftell(f);
  fclose(f);
  unsigned char *want = tl_read_file(argv[3], size);

  /* the object API: one request opens it; ranges read exactly */
  struct mmapurl_stats a, b;
  mmapurl_stats_get(&a);
  mmapurl_object *h = NULL;
  int rc = mmapurl_object_open(url, &h);
  tl_explain(url, rc);
  CHECK_INT(rc, 0);
  mmapurl_stats_get(&b);
  CHECK_INT(b.requests - a.requests, 1);
  if (h) {
    CHECK_INT(mmapurl_object_size(h), size);
    unsigned char *buf = malloc(size);
    CHECK_INT(mmapurl_object_read(h, buf, size - 1000, 1000), 0);
    CHECK(memcmp(buf, want + 1000, size - 1000) == 0);
    free(buf);
    mmapurl_object_close(h);
  }

  /* the mapping API on the same URL */
  size_t sz = 0;
  int err = -1;
  unsigned char *p = mmap_s3(url, &sz, &err);
  tl_explain("mmap_s3", err);
  CHECK(p != MAP_FAILED);
  if (p != MAP_FAILED) {
    CHECK_INT(sz, size);
    CHECK(memcmp(p, want, size) == 0);
    CHECK_INT(munmap_s3(p), 0);
  }

  /* a missing object */
  CHECK_INT(mmapurl_object_open(missing, &h), MMAPURL_E_NO_SUCH_KEY);
  free(want);
  return check_done();
}
