/*
 * test_map_pool.c - the worker pool starts small and grows with the work:
 * the first open starts the fault readers and one worker, not all
 * MU_MAP_WORKERS of them (32 threads starting beside the opening one took
 * a third of the first byte's time); WILLNEED of a range in many pieces,
 * from a slow source, starts more workers, never more than the maximum,
 * and the bytes read afterwards are right; every thread the library
 * started blocks the application's signals.
 */
#include <dirent.h>
#include <signal.h>

#include "test_map_source.c"

#define BLOCK 65536
#define SIZE (8u << 20)

/* Threads of this process (entries of /proc/self/task). */
static int threads(void) {
  DIR *d = opendir("/proc/self/task");
  int n = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    n += e->d_name[0] != '.';
  if (d)
    closedir(d);
  return n;
}

/* Whether every thread but this one blocks sig (SigBlk in their status). */
static int others_block(int sig) {
  DIR *d = opendir("/proc/self/task");
  int all = d != NULL;
  char path[300], line[256];
  for (struct dirent *e; d && (e = readdir(d));) {
    if (e->d_name[0] == '.' || strtol(e->d_name, NULL, 10) == (long)gettid())
      continue;
    snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
    FILE *f = fopen(path, "r");
    unsigned long long blk = 0;
    while (f && fgets(line, sizeof line, f))
      if (sscanf(line, "SigBlk: %llx", &blk) == 1)
        break;
    if (f)
      fclose(f);
    all &= (int)((blk >> (sig - 1)) & 1);
  }
  if (d)
    closedir(d);
  return all;
}

int main(void) {
  watchdog(60);
  int before = threads();
  struct tsrc *t = tsrc_new(SIZE, 100000); /* 100 ms per fetch */
  struct mu_map *m = tmap_open(t, BLOCK, 1 << 20);
  int opened = threads();
  printf("threads: %d before the first open, %d after it\n", before, opened);
  CHECK(opened > before);                       /* the readers, a worker */
  CHECK(opened - before < MU_MAP_WORKERS / 2);  /* not every worker */

  /* 8 MiB in pieces of 256 KiB (a sixteenth of the 1 MiB window, at least
   * 256 KiB): 32 jobs queued at once, each 100 ms long. */
  CHECK_INT(mu_map_advise(m, 0, SIZE, MU_MAP_WILLNEED), 0);
  int busy = threads();
  printf("threads with the WILLNEED jobs queued: %d\n", busy);
  CHECK(busy >= opened + 4);
  CHECK(busy - before <= MU_MAP_WORKERS + 8);
  /* The library's threads, started from this thread (nothing blocked
   * here), take none of the application's signals. */
  CHECK(others_block(SIGINT));
  CHECK(others_block(SIGTERM));
  CHECK(others_block(SIGUSR1));
  CHECK_INT(tmap_verify(m, 0, SIZE), 0);
  CHECK(tsrc_max_page_fetches(t) <= 1);
  mu_map_close(m);
  tsrc_free(t);
  mu_map_shutdown();
  return check_done();
}
