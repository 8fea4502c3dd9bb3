/* test_faults - transient failures are retried and final ones reported
 * with the right code, without a crash or a hang, against the fault
 * endpoint (tests/servers/s3_test_endpoint.py in origin mode).
 * usage: test_faults MANIFEST MODE  (modes: see main) */
#include <pthread.h>
#include <time.h>

#include "testlib.h"

static struct tl_manifest m;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static mmapurl_object *open_key(const char *key) {
  char url[1024];
  mmapurl_object *h = NULL;
  tl_url(url, sizeof url, key);
  int rc = mmapurl_object_open(url, &h);
  tl_explain(url, rc);
  CHECK_INT(rc, 0);
  return h;
}

static void arm(const char *json) {
  CHECK_INT(tl_control("/__reset", "{}"), 200);
  if (json)
    CHECK_INT(tl_control("/__fault", json), 200);
}

/* Read [off, off+len) of key through h and compare with the local copy;
 * returns the library's code. */
static int read_check(mmapurl_object *h, const char *key, uint64_t off, size_t len) {
  const struct tl_object *o = tl_find(&m, key);
  unsigned char *want = tl_read_file(o->path, o->size), *buf = malloc(len);
  int rc = mmapurl_object_read(h, buf, len, off);
  tl_explain("read", rc);
  if (rc == 0)
    CHECK(memcmp(buf, want + off, len) == 0);
  free(want);
  free(buf);
  return rc;
}

#define BIG "size-5MiB"

/* 503 SlowDown twice, then success; both retries counted. */
static void mode_slowdown(void) {
  mmapurl_object *h = open_key(BIG);
  struct mmapurl_stats a, b;
  mmapurl_stats_get(&a);
  arm("{\"action\":\"status\",\"status\":503,\"code\":\"SlowDown\",\"count\":2}");
  CHECK_INT(read_check(h, BIG, 100000, 3000000), 0);
  mmapurl_stats_get(&b);
  CHECK_INT(b.retries - a.retries, 2);
  CHECK_INT(b.requests - a.requests, 3);
  mmapurl_object_close(h);
}

/* Connection reset in the middle of the body, then success. */
static void mode_reset(void) {
  mmapurl_object *h = open_key(BIG);
  struct mmapurl_stats a, b;
  mmapurl_stats_get(&a);
  arm("{\"action\":\"reset\",\"after_bytes\":100000,\"count\":1}");
  CHECK_INT(read_check(h, BIG, 0, 5000000), 0);
  mmapurl_stats_get(&b);
  CHECK_INT(b.retries - a.retries, 1);
  mmapurl_object_close(h);
}

/* A server answering 200 with the whole body: we take our bytes and cut
 * the transfer, on open and on a read. */
static void mode_ignore_range(void) {
  const struct tl_object *o = tl_find(&m, BIG);
  struct mmapurl_stats a, b;
  mmapurl_stats_get(&a);
  arm("{\"action\":\"ignore_range\",\"count\":2}");
  mmapurl_object *h = open_key(BIG);
  CHECK(h && mmapurl_object_size(h) == o->size);
  CHECK_INT(read_check(h, BIG, 0, 4096), 0);   /* served from the first block */
  CHECK_INT(read_check(h, BIG, 300000, 4096), 0);
  mmapurl_stats_get(&b);
  /* far less than the 2 x 5 MiB the server tried to send */
  fprintf(stderr, "downloaded %llu bytes\n",
          (unsigned long long)(b.bytes_downloaded - a.bytes_downloaded));
  CHECK(b.bytes_downloaded - a.bytes_downloaded < 2 * 1024 * 1024);
  mmapurl_object_close(h);
}

/* A stalled response is abandoned after MMAPURL_STALL_TIMEOUT and retried;
 * a server that always stalls gives MMAPURL_E_TIMEOUT. */
static void mode_stall(void) {
  mmapurl_object *h = open_key(BIG);
  arm("{\"action\":\"stall\",\"seconds\":30,\"after_bytes\":1000,\"count\":1}");
  double t0 = now_s();
  CHECK_INT(read_check(h, BIG, 200000, 100000), 0);
  CHECK(now_s() - t0 < 15);
  arm("{\"action\":\"stall\",\"seconds\":30,\"after_bytes\":0,\"count\":10}");
  t0 = now_s();
  CHECK_INT(read_check(h, BIG, 200000, 100000), MMAPURL_E_TIMEOUT);
  CHECK(now_s() - t0 < 15);
  arm(NULL);
  mmapurl_object_close(h);
}

/* Retries run out: the code says why, the request count is the limit, and
 * the library still works afterwards. */
static void mode_exhausted(void) {
  mmapurl_object *h = open_key(BIG);
  struct mmapurl_stats a, b;
  mmapurl_stats_get(&a);
  arm("{\"action\":\"status\",\"status\":503,\"code\":\"SlowDown\",\"count\":100}");
  CHECK_INT(read_check(h, BIG, 70000, 1000), MMAPURL_E_THROTTLED);
  mmapurl_stats_get(&b);
  CHECK_INT(b.requests - a.requests, 3);   /* AWS_MAX_ATTEMPTS=3 */
  arm("{\"action\":\"status\",\"status\":500,\"code\":\"InternalError\",\"count\":100}");
  CHECK_INT(read_check(h, BIG, 70000, 1000), MMAPURL_E_SERVER);
  arm("{\"action\":\"reset\",\"after_bytes\":10,\"count\":100}");
  CHECK_INT(read_check(h, BIG, 70000, 100000), MMAPURL_E_NETWORK);
  arm(NULL);
  CHECK_INT(read_check(h, BIG, 70000, 100000), 0);
  mmapurl_object_close(h);
}

/* The object replaced while open: If-Match fails, never mixed bytes. */
static void mode_replace(void) {
  mmapurl_object *h = open_key(BIG);
  arm("{\"action\":\"replace\",\"key\":\"" TL_BUCKET "/" BIG "\"}");
  CHECK_INT(read_check(h, BIG, 100000, 1000), MMAPURL_E_OBJECT_CHANGED);
  CHECK(strstr(mmapurl_errdetail(), "412") != NULL);
  mmapurl_object_close(h);
  arm(NULL);
}

/* The bucket is in another region: one redirect is followed and the
 * request signed for that region. */
static void mode_redirect(void) {
  arm("{\"action\":\"redirect_region\",\"region\":\"eu-west-1\",\"count\":1}");
  mmapurl_object *h = open_key(BIG);
  CHECK(h != NULL);
  if (h)
    CHECK_INT(read_check(h, BIG, 100000, 1000), 0);
  mmapurl_object_close(h);
  /* a bucket that keeps redirecting fails with the region in the detail */
  arm("{\"action\":\"redirect_region\",\"region\":\"ap-south-1\",\"count\":100}");
  mmapurl_object *h2 = NULL;
  CHECK_INT(mmapurl_object_open("s3://" TL_BUCKET "/" BIG, &h2), MMAPURL_E_WRONG_REGION);
  CHECK(strstr(mmapurl_errdetail(), "ap-south-1") != NULL);
  arm(NULL);
}

static void *reader(void *arg) {
  mmapurl_object *h = arg;
  for (int i = 0; i < 50; i++)
    CHECK_INT(read_check(h, BIG, (uint64_t)i * 70001 + 65536, 4096), 0);
  return NULL;
}

/* Keep-alive: 200 reads in a row use one connection; 4 threads at once use
 * at most 4 (the pool is shared, connections are reused, not re-opened). */
static void mode_reuse(void) {
  arm(NULL);   /* also zeroes the endpoint's counters */
  mmapurl_object *h = open_key(BIG);
  for (int i = 0; i < 200; i++)
    CHECK_INT(read_check(h, BIG, (uint64_t)i * 20011 + 65536, 4096), 0);
  /* each tl_endpoint_stat call is one more connection (curl's own) */
  long long one = tl_endpoint_stat("connections") - 1;
  fprintf(stderr, "201 requests from one thread: %lld connection(s)\n", one);
  CHECK_INT(one, 1);
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, reader, h);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  long long four = tl_endpoint_stat("connections") - 2;
  fprintf(stderr, "then 200 requests from 4 threads: %lld connection(s) in all\n", four);
  CHECK(four >= 1 && four <= 5);
  mmapurl_object_close(h);
}

/* Servers without a strong ETag: with none, reads require Last-Modified
 * (If-Unmodified-Since); with a weak one, If-Match is never sent (it would
 * never match). Either way reads work, and a replaced object is an error. */
static void mode_validators(void) {
  static const char *const styles[] = {"none", "weak"};
  for (int i = 0; i < 2; i++) {
    char json[256];
    arm(NULL);
    snprintf(json, sizeof json,
             "{\"action\":\"etag_style\",\"key\":\"" TL_BUCKET "/" BIG "\",\"style\":\"%s\"}",
             styles[i]);
    CHECK_INT(tl_control("/__fault", json), 200);
    mmapurl_object *h = open_key(BIG);
    if (!h)
      continue;
    fprintf(stderr, "etag style %s: ETag [%s]\n", styles[i], mmapurl_object_etag(h));
    CHECK_INT(read_check(h, BIG, 100000, 1000), 0);
    CHECK_INT(tl_control("/__fault", "{\"action\":\"replace\",\"key\":\"" TL_BUCKET "/" BIG "\"}"),
              200);
    CHECK_INT(read_check(h, BIG, 200000, 1000), MMAPURL_E_OBJECT_CHANGED);
    mmapurl_object_close(h);
  }
  arm(NULL);
}

/* Nothing listening: a network error after the attempts, quickly. */
static void mode_refused(void) {
  mmapurl_object *h = NULL;
  double t0 = now_s();
  CHECK_INT(mmapurl_object_open("s3://" TL_BUCKET "/" BIG, &h), MMAPURL_E_NETWORK);
  CHECK(now_s() - t0 < 10);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MANIFEST MODE\n", argv[0]);
    return 2;
  }
  tl_manifest_load(argv[1], &m);
  const char *mode = argv[2];
  setenv("MMAPURL_RETRY_BASE", "20ms", 1);
  setenv("MMAPURL_RETRY_MAX", "200ms", 1);
  setenv("MMAPURL_STALL_TIMEOUT", "1s", 1);
  setenv("AWS_MAX_ATTEMPTS", "3", 1);
  if (!strcmp(mode, "refused"))
    setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:1", 1);
  static const struct {
    const char *name;
    void (*fn)(void);
  } modes[] = {{"slowdown", mode_slowdown}, {"reset", mode_reset},
               {"ignore_range", mode_ignore_range}, {"stall", mode_stall},
               {"exhausted", mode_exhausted}, {"replace", mode_replace},
               {"redirect", mode_redirect}, {"refused", mode_refused},
               {"reuse", mode_reuse}, {"validators", mode_validators}};
  for (size_t i = 0; i < sizeof modes / sizeof *modes; i++)
    if (!strcmp(mode, modes[i].name)) {
      modes[i].fn();
      return check_done();
    }
  fprintf(stderr, "unknown mode %s\n", mode);
  return 2;
}
