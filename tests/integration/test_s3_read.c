/* test_s3_read - open and ranged reads of every fixture object (0, 1, 4095,
 * 4096, 4097, 64K+-1, several MiB, special-character keys), byte-exact
 * against the local copies; one request per open; errors for missing keys
 * and buckets; reads handed over as they arrive (mu_s3_read_to), whole and
 * stopped by the receiver. Run against s3rver and through the signature
 * verifier.
 * usage: test_s3_read MANIFEST */
#include "s3/s3.h"
#include "testlib.h"
#include "util/error.h"

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

/* mu_s3_read_to's receiver: checks each piece against the local copy at
 * its offset; with stop_after, stops the read once that many bytes came. */
struct taker {
  const unsigned char *want;
  uint64_t off;
  size_t got, bad, stop_after;
};

static int take(void *ctx, const void *data, size_t n, size_t at) {
  struct taker *t = ctx;
  t->bad += at != t->got || memcmp(data, t->want + t->off + at, n) != 0;
  t->got = at + n;
  if (t->stop_after && t->got >= t->stop_after)
    return mu_fail(MMAPURL_E_INVALID_ARG, "stopped by the test's receiver");
  return 0;
}

/* Reads handed over as they arrive (the mapping's path), of the largest
 * object: every byte, in order; and a receiver that stops the read gets
 * its own code and message back, after one request (no retry). */
static void check_read_to(const struct tl_manifest *m) {
  const struct tl_object *o = &m->o[0];
  for (int i = 1; i < m->n; i++)
    if (m->o[i].size > o->size)
      o = &m->o[i];
  if (o->size < (2u << 20))
    return;
  char url[1024];
  tl_url(url, sizeof url, o->key);
  unsigned char *want = tl_read_file(o->path, o->size);
  struct mu_s3_object *obj = NULL;
  int rc = mu_s3_open(url, 65536, &obj);
  tl_explain(url, rc);
  CHECK_INT(rc, 0);
  if (!obj) {
    free(want);
    return;
  }
  size_t len = (size_t)o->size - 100;
  struct taker all = {.want = want, .off = 100};
  CHECK_INT(mu_s3_read_to(obj, len, 100, take, &all), 0);
  CHECK_INT(all.got, len);
  CHECK_INT(all.bad, 0);
  struct mmapurl_stats before, after;
  mmapurl_stats_get(&before);
  struct taker part = {.want = want, .off = 100, .stop_after = 1};
  CHECK_INT(mu_s3_read_to(obj, len, 100, take, &part), MMAPURL_E_INVALID_ARG);
  mmapurl_stats_get(&after);
  CHECK_INT(after.requests - before.requests, 1);
  CHECK(part.got < len);
  CHECK_INT(part.bad, 0);
  CHECK(strstr(mmapurl_errdetail(), "stopped by the test's receiver") != NULL);
  mu_s3_close(obj);
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
  check_read_to(&m);
  check_errors();
  return check_done();
}
