/*
 * test_map_sigbus.c - a block that cannot be fetched gives SIGBUS to the
 * thread touching it (never zeros, never a hang, never abort), in a worker
 * thread and in the main thread; other blocks keep working; a process with
 * no handler dies of SIGBUS. Run twice: with UFFDIO_POISON (when the kernel
 * has it) and, in a child, with the targeted-signal fallback.
 */
#include <sys/wait.h>

#include "map/uffd.h"
#include "test_map_source.c"

struct toucher {
  const unsigned char *p;
  int got_bus;
};

static void *touch_thread(void *arg) {
  struct toucher *t = arg;
  unsigned char v;
  t->got_bus = tbus_touch(t->p, &v);
  return NULL;
}

/* The whole scenario; returns the number of failed checks. */
static int scenario(void) {
  tbus_install();
  struct tsrc *t = tsrc_new(1 << 20, 0);
  struct mu_map *m = tmap_open(t, 65536, 0);
  const unsigned char *base = mu_map_addr(m);

  /* Block 0 is fine. */
  CHECK_INT(tmap_verify(m, 0, 100), 0);

  /* The source fails: a thread touching block 3 gets SIGBUS. */
  atomic_store(&t->fail, MMAPURL_E_NETWORK);
  struct toucher tt = {.p = base + 3 * 65536 + 5};
  pthread_t th;
  pthread_create(&th, NULL, touch_thread, &tt);
  pthread_join(th, NULL);
  CHECK_INT(tt.got_bus, 1);

  /* The main thread touching block 5 gets SIGBUS too (it is delivered to
   * the toucher, not to another thread). */
  unsigned char v = 0;
  CHECK_INT(tbus_touch(base + 5 * 65536, &v), 1);
  CHECK_INT(atomic_load(&tbus_count), 2);

  /* The source recovers: untouched blocks read right, block 0 still does. */
  atomic_store(&t->fail, 0);
  CHECK_INT(tmap_verify(m, 7 * 65536, 65536), 0);
  CHECK_INT(tmap_verify(m, 0, 4096), 0);
  struct mu_map_stats s;
  mu_map_stats(m, &s);
  CHECK_INT(s.failures, 2);

  /* A child without a handler that touches a failing block dies of SIGBUS. */
  atomic_store(&t->fail, MMAPURL_E_SERVER);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGBUS, SIG_DFL);
    struct tsrc *c = tsrc_new(1 << 20, 0);
    atomic_store(&c->fail, MMAPURL_E_SERVER);
    struct mu_map *cm = tmap_open(c, 65536, 0);
    volatile unsigned char x = ((const volatile unsigned char *)mu_map_addr(cm))[9000];
    (void)x;
    _exit(0); /* read something: wrong */
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);

  /* With the fallback, a failed block is retried on the next touch. */
  atomic_store(&t->fail, 0);
  if (!mu_uffd_has_poison())
    CHECK_INT(tmap_verify(m, 3 * 65536, 65536), 0);
  mu_map_close(m);
  tsrc_free(t);
  mu_map_shutdown();
  return check_done();
}

int main(void) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) { /* a fresh process: the fallback before any mapping */
    mu_uffd_disable_poison();
    _exit(scenario());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0); /* targeted signals */
  int rc = scenario();                                   /* poison if available */
  printf("poison: %s\n", mu_uffd_has_poison() ? "used" : "unavailable (signals)");
  return rc ? rc : check_done();
}
