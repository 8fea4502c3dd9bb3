/*
 * test_map_readers.c - the fault readers start with the first mapping: if
 * they cannot (no file descriptor left for their epoll sets), that open
 * fails with an error naming why, instead of returning a mapping whose
 * faults no thread would ever serve (a touch hanging forever); once fds
 * are back, the next open starts them and its pages are served.
 */
#include <sys/resource.h>

#include "test_map_source.c"
#include "util/error.h"

int main(void) {
  watchdog(30);
  struct tsrc *t = tsrc_new(1 << 20, 0);
  struct mu_map_source src = tsrc_source(t);
  struct mu_map_opts opts = {.block_size = 16384, .readahead_max = 1 << 20};
  struct rlimit saved;
  CHECK_INT(getrlimit(RLIMIT_NOFILE, &saved), 0);
  int lowest = dup(0);
  close(lowest);
  /* Room for the userfaultfd and the readers' eventfd, not their epoll sets. */
  struct rlimit few = {.rlim_cur = (rlim_t)lowest + 2, .rlim_max = saved.rlim_max};
  CHECK_INT(setrlimit(RLIMIT_NOFILE, &few), 0);
  struct mu_map *m = NULL;
  int rc = mu_map_open(&src, &opts, &m);
  CHECK_INT(setrlimit(RLIMIT_NOFILE, &saved), 0);
  if (rc == MMAPURL_E_UFFD_UNAVAILABLE) {
    printf("skipped: %s\n", mmap_s3_errstr(rc));
    return 77;
  }
  printf("open with %d fds: rc %d (%s)\n", lowest + 2, rc, mu_err_detail());
  CHECK_INT(rc, MMAPURL_E_INTERNAL);
  CHECK(m == NULL);
  CHECK(strstr(mu_err_detail(), "epoll") != NULL);

  m = tmap_open_src(t, &src, &opts);
  CHECK_INT(tmap_verify(m, 100, 4096), 0); /* served: no hang */
  mu_map_close(m);
  tsrc_free(t);
  alarm(0);
  mu_map_shutdown();
  return check_done();
}
