/*
 * test_map_fork.c - fork() after mapping: the child reads right bytes,
 * including pages nobody had loaded before the fork and a block whose fetch
 * was in flight at the fork; the parent keeps working. (Without the fork
 * handling the child's untouched pages read as zeros.)
 */
#include <sys/wait.h>

#include "test_map_source.c"

#define SIZE ((4u << 20) + 77)

struct slow {
  const struct mu_map *m;
  size_t bad;
};

static void *touch_far(void *arg) {
  struct slow *s = arg;
  s->bad = tmap_verify(s->m, SIZE - 10, 10);
  return NULL;
}

/* In a child: verify everything; the exit status is the mismatch count. */
static int child_checks(const struct mu_map *m) {
  size_t bad = tmap_verify(m, 0, SIZE);
  return bad ? 1 : 0;
}

int main(void) {
  struct tsrc *t = tsrc_new(SIZE, 100000); /* 100 ms per fetch */
  struct mu_map *m = tmap_open(t, 65536, 0);
  CHECK_INT(tmap_verify(m, 0, 3 * 65536), 0); /* a few blocks present */

  /* A thread is blocked on the last block when we fork. */
  struct slow s = {.m = m};
  pthread_t th;
  pthread_create(&th, NULL, touch_far, &s);
  usleep(20000);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0)
    _exit(child_checks(m));
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0); /* exact bytes in the child */

  pthread_join(th, NULL);
  CHECK_INT(s.bad, 0);
  CHECK_INT(tmap_verify(m, 0, SIZE), 0); /* the parent is unaffected */

  /* A second generation: fork from the child of a child. */
  pid = fork();
  if (pid == 0) {
    pid_t grandchild = fork();
    if (grandchild == 0)
      _exit(child_checks(m));
    int st = 0;
    waitpid(grandchild, &st, 0);
    _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 2);
  }
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  mu_map_close(m);
  tsrc_free(t);
  mu_map_shutdown();
  return check_done();
}
