/* test_mmap_advise - mmapurl_advise on a real mapping: RANDOM turns
 * readahead off, WILLNEED fetches ahead so a later scan takes no fault and
 * no download, DONTNEED drops pages that come back right on the next touch,
 * and bad arguments are refused; mmapurl_map's per-mapping options.
 * usage: test_mmap_advise MANIFEST */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#define KEY "size-5MiB"
#define DEFAULT_BLOCK 16384 /* MMAPURL_BLOCK_SIZE unset */

/* Sum of bytes, touching every page of p[0..n). */
static unsigned long scan(const unsigned char *p, size_t n, const unsigned char *want) {
  unsigned long bad = 0;
  for (size_t i = 0; i < n; i += 4096)
    bad += p[i] != want[i];
  return bad;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int advising = 1; /* atomic */

static void *advise_loop(void *p) {
  while (__atomic_load_n(&advising, __ATOMIC_RELAXED))
    mmapurl_advise(p, 0, 1 << 20, MMAPURL_ADV_NORMAL);
  return NULL;
}

/* Regression: fork while other threads are inside mmapurl_advise; the
 * child must be able to use the registry (it once inherited its lock held
 * and hung in munmap_s3). A hung child is killed by alarm(). */
static void fork_during_advise(void *p) {
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, advise_loop, p);
  for (int round = 0; round < 20; round++) {
    pid_t pid = fork();
    if (pid == 0) {
      alarm(10);
      _exit(munmap_s3(p) == 0 ? 0 : 3);
    }
    int status = 0;
    CHECK_INT(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  __atomic_store_n(&advising, 0, __ATOMIC_RELAXED);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
}

int main(int argc, char **argv) {
  if (argc < 2)
    return 2;
  static struct tl_manifest m;
  tl_manifest_load(argv[1], &m);
  const struct tl_object *o = tl_find(&m, KEY);
  unsigned char *want = tl_read_file(o->path, o->size);
  size_t sz;
  int err;
  unsigned char *p = mmap_s3("s3://" TL_BUCKET "/" KEY, &sz, &err);
  tl_explain("mmap_s3", err);
  if (p == MAP_FAILED)
    return check_done() ? check_done() : 1;
  CHECK_INT(sz, o->size);
  struct mmapurl_stats a, b;

  /* RANDOM: a sequential scan of the first MiB takes one request per block */
  CHECK_INT(mmapurl_advise(p, 0, sz, MMAPURL_ADV_RANDOM), 0);
  mmapurl_stats_get(&a);
  CHECK_INT(scan(p, 1 << 20, want), 0);
  mmapurl_stats_get(&b);
  CHECK_INT(b.requests - a.requests, (1 << 20) / DEFAULT_BLOCK - 1); /* block 0 came with the open */

  /* WILLNEED: the rest arrives without faults; a later scan downloads nothing */
  CHECK_INT(mmapurl_advise(p, 1 << 20, sz - (1 << 20), MMAPURL_ADV_WILLNEED), 0);
  for (int i = 0; i < 500; i++) {
    mmapurl_stats_get(&a);
    if (a.bytes_downloaded - b.bytes_downloaded >= sz - (1 << 20))
      break;
    sleep_ms(10);
  }
  sleep_ms(50);   /* let the last install finish after its bytes arrived */
  mmapurl_stats_get(&a);
  CHECK_INT(scan(p + (1 << 20), sz - (1 << 20), want + (1 << 20)), 0);
  mmapurl_stats_get(&b);
  CHECK_INT(b.requests - a.requests, 0);
  CHECK_INT(b.bytes_downloaded - a.bytes_downloaded, 0);

  /* DONTNEED: dropped pages are fetched again, with the right bytes */
  CHECK_INT(mmapurl_advise(p, 2 << 20, 1 << 20, MMAPURL_ADV_DONTNEED), 0);
  mmapurl_stats_get(&a);
  CHECK_INT(scan(p + (2 << 20), 1 << 20, want + (2 << 20)), 0);
  mmapurl_stats_get(&b);
  CHECK(b.faults - a.faults >= 16);
  CHECK(b.bytes_downloaded - a.bytes_downloaded >= 1 << 20);

  fork_during_advise(p);

  /* bad arguments */
  CHECK_INT(mmapurl_advise(p, 0, sz, 99), MMAPURL_E_INVALID_ARG);
  CHECK_INT(mmapurl_advise(want, 0, 1, MMAPURL_ADV_NORMAL), MMAPURL_E_INVALID_ARG);
  CHECK_INT(munmap_s3(p), 0);
  CHECK_INT(mmapurl_advise(p, 0, 1, MMAPURL_ADV_NORMAL), MMAPURL_E_INVALID_ARG);

  /* per-mapping options: a 1 MiB cache limit on this mapping alone */
  struct mmapurl_map_opts opts = {.cache_max = 1 << 20};
  mmapurl_stats_get(&a);
  p = mmapurl_map("s3://" TL_BUCKET "/" KEY, &opts, &sz, &err);
  CHECK(p != MAP_FAILED);
  if (p != MAP_FAILED) {
    CHECK_INT(scan(p, sz, want), 0);
    mmapurl_stats_get(&b);
    CHECK(b.evictions - a.evictions > 0);
    CHECK_INT(munmap_s3(p), 0);
  }
  /* a block size that is not a multiple of 4096 is refused */
  struct mmapurl_map_opts bad = {.block_size = 5000};
  CHECK(mmapurl_map("s3://" TL_BUCKET "/" KEY, &bad, &sz, &err) == MAP_FAILED);
  CHECK_INT(err, MMAPURL_E_INVALID_ARG);
  free(want);
  return check_done();
}
