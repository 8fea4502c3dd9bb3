/* test_s3_read - open and ranged reads of every fixture object (0, 1, 4095,
 * 4096, 4097, 64K+-1, several MiB, special-character keys), byte-exact
 * against the local copies; one request per open; errors for missing keys
 * and buckets. Run against s3rver and through the signature verifier.
 * usage: test_s3_read MANIFEST */
#include "testlib.h"

/* Read the whole object in chunks of `chunk` bytes and compare. */
static void read_all(mmapurl_object *h, const unsigned char *want, uint64_t size, size_t chunk) {
  unsigned char *buf = malloc(chunk);
  for (uint64_t off = 0; off < size; off += chunk) {
    size_t n = size - off < chunk ? (size_t)(size - off) : chunk;
    int rc = mmapurl_object_read(h, buf, n, off);
    tl_explain("read", rc);
    CHECK_INT(rc, 0);
    if (rc)
      break;
    CHECK(memcmp(buf, want + off, n) == 0);
  }
  free(buf);
}

/* Reads at awkward offsets: last byte, spans crossing the first block. */
static void read_edges(mmapurl_object *h, const unsigned char *want, uint64_t size) {
  unsigned char buf[8192];
  const uint64_t offs[] = {0, 1, 4095, 4096, 65535, 65536, size / 2, size - 1};
  for (size_t i = 0; i < sizeof offs / sizeof *offs; i++) {
    if (offs[i] >= size)
      continue;
    size_t n = size - offs[i] < sizeof buf ? (size_t)(size - offs[i]) : sizeof buf;
    memset(buf, 0xAA, sizeof buf);
    int rc = mmapurl_object_read(h, buf, n, offs[i]);
    tl_explain("edge read", rc);
    CHECK_INT(rc, 0);
    CHECK(rc || memcmp(buf, want + offs[i], n) == 0);
  }
  /* past the end: an error, and nothing read */
  CHECK_INT(mmapurl_object_read(h, buf, 1, size), MMAPURL_E_RANGE);
  CHECK_INT(mmapurl_object_read(h, buf, 2, size ? size - 1 : 0), MMAPURL_E_RANGE);
  CHECK_INT(mmapurl_object_read(h, buf, 0, size), 0);
}

static void check_object(const struct tl_object *o) {
  char url[1024];
  tl_url(url, sizeof url, o->key);
  unsigned char *want = tl_read_file(o->path, o->size);
  struct mmapurl_stats before, after;
  mmapurl_stats_get(&before);
  mmapurl_object *h = NULL;
  int rc = mmapurl_object_open(url, &h);
  tl_explain(url, rc);
  CHECK_INT(rc, 0);
  if (rc == 0) {
    mmapurl_stats_get(&after);
    /* open costs exactly one request */
    CHECK_INT(after.requests - before.requests, 1);
    CHECK_INT(mmapurl_object_size(h), o->size);
    CHECK(mmapurl_object_size(h) == 0 || mmapurl_object_etag(h)[0] == '"');
    read_all(h, want, o->size, 4096);
    read_all(h, want, o->size, 1000003);
    read_edges(h, want, o->size);
    mmapurl_object_close(h);
  }
  free(want);
}

static void check_errors(void) {
  mmapurl_object *h = (mmapurl_object *)1;
  /* missing key */
  CHECK_INT(mmapurl_object_open("s3://" TL_BUCKET "/no/such/key", &h), MMAPURL_E_NO_SUCH_KEY);
  CHECK(h == NULL);
  CHECK(strstr(mmapurl_errdetail(), "404") != NULL);
  /* missing bucket */
  CHECK_INT(mmapurl_object_open("s3://no-such-bucket-here/k", &h), MMAPURL_E_NO_SUCH_BUCKET);
  /* malformed URLs fail before any request */
  CHECK_INT(mmapurl_object_open("s3://" TL_BUCKET "/", &h), MMAPURL_E_URL);
  CHECK_INT(mmapurl_object_open("s3://Bad_Bucket/k", &h), MMAPURL_E_URL);
  CHECK_INT(mmapurl_object_open(NULL, &h), MMAPURL_E_INVALID_ARG);
  CHECK_INT(mmapurl_object_open("s3://" TL_BUCKET "/k", NULL), MMAPURL_E_INVALID_ARG);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MANIFEST\n", argv[0]);
    return 2;
  }
  static struct tl_manifest m;
  tl_manifest_load(argv[1], &m);
  for (int i = 0; i < m.n; i++) {
    fprintf(stderr, "object %s (%llu bytes)\n", m.o[i].key, (unsigned long long)m.o[i].size);
    check_object(&m.o[i]);
  }
  check_errors();
  return check_done();
}
