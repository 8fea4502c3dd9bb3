/* test_mmap_fail - failures after mapping: the thread touching a page that
 * cannot be fetched gets SIGBUS, never zeros, never bytes of two versions,
 * never a hang. Against the fault endpoint (origin mode).
 * usage: test_mmap_fail MANIFEST MODE
 *   killed    the server is killed during a scan (an endpoint of our own)
 *   replaced  the object is replaced during a scan (If-Match: 412)
 *   race      munmap_s3 while 4 threads fault on a slow object */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <sys/mman.h>

#include "testlib.h"

static struct tl_manifest m;

#define BIG "size-5MiB"
#define PAGE 4096
#define BLOCK 65536 /* the default MMAPURL_BLOCK_SIZE */

/* ---- SIGBUS / SIGSEGV caught per thread --------------------------------- */

/* volatile: the compiler knows memcmp reads neither, so without it the
 * store arming catch_jb could be moved past the memcmp (seen with gcc -O2:
 * a SIGBUS met catch_jb still NULL). */
static __thread sigjmp_buf *volatile catch_jb; /* armed by the thread touching pages */
static __thread volatile int caught;  /* the signal that ended its scan */

static void on_signal(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  if (!catch_jb) { /* not a touch of ours: say where (snprintf: we are
                      about to die anyway), and die of it */
    char msg[160];
    int n = snprintf(msg, sizeof msg, "unexpected signal %d (si_code %d, addr %p) in thread %d\n",
                     sig, si->si_code, si->si_addr, (int)gettid());
    ssize_t w = write(STDERR_FILENO, msg, (size_t)n);
    (void)w;
    signal(sig, SIG_DFL);
    raise(sig);
    return;
  }
  caught = sig;
  siglongjmp(*catch_jb, 1);
}

static void catch_signals(void) {
  struct sigaction sa = {.sa_sigaction = on_signal, .sa_flags = SA_SIGINFO};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGSEGV, &sa, NULL);
}

/* Compare the page at off of p with want; 0 if equal, -1 if wrong, or the
 * signal (SIGBUS, SIGSEGV) taken touching it. */
static int probe_page(const unsigned char *p, const unsigned char *want, size_t size,
                      size_t off) {
  sigjmp_buf jb;
  size_t n = size - off < PAGE ? size - off : PAGE;
  caught = 0;
  if (sigsetjmp(jb, 1)) {
    catch_jb = NULL;
    return caught;
  }
  catch_jb = &jb;
  int same = memcmp(p + off, want + off, n) == 0;
  catch_jb = NULL;
  return same ? 0 : -1;
}

static const unsigned char *map_big(const struct tl_object *o, int no_readahead) {
  char url[1100];
  size_t sz = 0;
  int err = 0;
  struct mmapurl_map_opts opts = {.no_readahead = no_readahead};
  tl_url(url, sizeof url, o->key);
  void *p = mmapurl_map(url, &opts, &sz, &err);
  if (p == MAP_FAILED) {
    tl_explain(url, err);
    CHECK(p != MAP_FAILED);
    return NULL;
  }
  CHECK_INT(sz, o->size);
  return p;
}

/* ---- killed ------------------------------------------------------------- */

static char killed_dir[64];
static pid_t server_pid;

static int run_script(char *const argv[]) {
  pid_t pid = fork();
  if (pid == 0) {
    execv(argv[0], argv);
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || tl_wait_bounded(pid, 60, &status) != 0)
    return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Stop our endpoint (if still alive) and remove its folder; at exit too. */
static void killed_cleanup(void) {
  static char script[] = MU_TESTS_DIR "/../scripts/test-endpoint";
  static char stop[] = "stop", name[] = "killed";
  if (!killed_dir[0])
    return;
  if (server_pid > 0)
    kill(server_pid, SIGKILL);
  char *argv[] = {script, stop, killed_dir, name, NULL};
  run_script(argv);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", killed_dir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", killed_dir);
  killed_dir[0] = '\0';
}

/* Start an endpoint of our own over the fixture objects (so killing it
 * harms no other test) and point the library at it. 0 or -1. */
static int killed_start(const char *manifest) {
  static char script[] = MU_TESTS_DIR "/../scripts/test-endpoint";
  static char start[] = "start", name[] = "killed", root_opt[] = "--root",
              sig_opt[] = "--verify-secret", secret[] = "S3RVER";
  char root[1024], file[128], line[256];
  snprintf(killed_dir, sizeof killed_dir, "/tmp/mmaptest-killed-XXXXXX");
  if (!mkdtemp(killed_dir)) {
    killed_dir[0] = '\0';
    return -1;
  }
  atexit(killed_cleanup);
  const char *slash = strrchr(manifest, '/');
  snprintf(root, sizeof root, "%.*s", slash ? (int)(slash - manifest) : 1, slash ? manifest : ".");
  char exit_opt[] = "--exit-with", self[24];
  snprintf(self, sizeof self, "%d", (int)getpid());   /* gone with us, even if we crash */
  char *argv[] = {script, start,  killed_dir, name, root_opt, root,
                  sig_opt, secret, exit_opt,   self, NULL};
  if (run_script(argv) != 0)
    return -1;
  snprintf(file, sizeof file, "%s/killed.env", killed_dir);
  FILE *f = fopen(file, "r");
  while (f && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    if (!strncmp(line, "AWS_ENDPOINT_URL_S3=", 20))
      setenv("AWS_ENDPOINT_URL_S3", line + 20, 1);
  }
  if (f)
    fclose(f);
  snprintf(file, sizeof file, "%s/killed.pid", killed_dir);
  if ((f = fopen(file, "r"))) {
    if (fscanf(f, "%d", &server_pid) != 1)
      server_pid = 0;
    fclose(f);
  }
  return server_pid > 0 ? 0 : -1;
}

/* Mode killed: a child scans BIG page by page (readahead off, 1 ms per
 * page), verifying each and reporting progress through a pipe; after 100
 * pages the server is killed (SIGKILL). The child must die of SIGBUS soon
 * after (2 attempts, 10 ms backoff, 1 s timeouts), never finish, and what it
 * read before must be right (exit 3 otherwise). */
static void mode_killed(const char *manifest) {
  const struct tl_object *o = tl_find(&m, BIG);
  unsigned char *want = tl_read_file(o->path, o->size);
  setenv("AWS_MAX_ATTEMPTS", "2", 1);
  setenv("MMAPURL_CONNECT_TIMEOUT", "1s", 1);
  setenv("MMAPURL_STALL_TIMEOUT", "1s", 1);
  setenv("MMAPURL_RETRY_BASE", "10ms", 1);
  if (killed_start(manifest) != 0) {
    fprintf(stderr, "killed: could not start an endpoint\n");
    CHECK(0);
    return;
  }
  const unsigned char *p = map_big(o, 1);
  int fds[2];
  if (!p || pipe(fds) != 0)
    return;
  tl_asan_settle_before_fork();
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    signal(SIGBUS, SIG_DFL); /* die of it (a sanitizer's handler would exit 1) */
    for (size_t off = 0, pages = 0; off < o->size; off += PAGE) {
      size_t n = o->size - off < PAGE ? o->size - off : PAGE;
      if (memcmp(p + off, want + off, n) != 0) {
        fprintf(stderr, "killed child: wrong bytes in the page at %zu\n", off);
        _exit(3);
      }
      pages++;
      if (write(fds[1], &pages, sizeof pages) != sizeof pages)
        _exit(5);
      usleep(1000);
    }
    _exit(0); /* the whole object although the server died: wrong */
  }
  close(fds[1]);
  size_t pages = 0;
  double until = tl_now() + 30;
  struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
  while (pages < 100 && tl_now() < until && poll(&pfd, 1, 100) >= 0)
    if ((pfd.revents & (POLLIN | POLLHUP)) && read(fds[0], &pages, sizeof pages) <= 0)
      break;
  fprintf(stderr, "killed: child read %zu pages; killing the server (pid %d)\n", pages,
          (int)server_pid);
  CHECK(pages >= 100);
  double t0 = tl_now();
  CHECK_INT(kill(server_pid, SIGKILL), 0);
  int status = 0;
  /* (The pipe holds all 1281 reports: the child never blocks on it.) */
  CHECK_INT(tl_wait_bounded(pid, 30, &status), 0);
  double secs = tl_now() - t0;
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  for (ssize_t r; (r = read(fds[0], &pages, sizeof pages)) > 0;) {
  }
  close(fds[0]);
  tl_explain_status("killed child", status);
  fprintf(stderr, "killed: child ended %.3f s after the kill, at page %zu of %zu\n", secs,
          pages, (size_t)((o->size + PAGE - 1) / PAGE));
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);
  CHECK(secs < 15);
  CHECK_INT(munmap_s3((void *)p), 0);
  free(want);
  killed_cleanup();
}

/* ---- replaced ----------------------------------------------------------- */

/* Mode replaced: BIG mapped with readahead off; the first 3 blocks read;
 * the object replaced (new ETag): an unread page is a SIGBUS (the GET's
 * If-Match answers 412), again on a second touch, while the pages read
 * before stay readable and right. (The origin serves the same bytes under
 * the new ETag: a library ignoring If-Match would read on, not SIGBUS.) */
static void mode_replaced(void) {
  const struct tl_object *o = tl_find(&m, BIG);
  unsigned char *want = tl_read_file(o->path, o->size);
  CHECK_INT(tl_control("/__reset", "{}"), 200);
  catch_signals();
  const unsigned char *p = map_big(o, 1);
  if (!p)
    return;
  for (size_t off = 0; off < 3 * BLOCK; off += PAGE)
    CHECK_INT(probe_page(p, want, o->size, off), 0);
  CHECK_INT(tl_control("/__fault", "{\"action\":\"replace\",\"key\":\"" TL_BUCKET "/" BIG "\"}"),
            200);
  CHECK_INT(probe_page(p, want, o->size, 10 * BLOCK), SIGBUS);
  CHECK_INT(probe_page(p, want, o->size, 10 * BLOCK + PAGE), SIGBUS); /* same block */
  CHECK_INT(probe_page(p, want, o->size, 40 * BLOCK), SIGBUS);
  CHECK_INT(probe_page(p, want, o->size, 10 * BLOCK), SIGBUS);       /* again */
  CHECK_INT(probe_page(p, want, o->size, BLOCK + PAGE), 0);          /* read before */
  CHECK(tl_endpoint_stat("412") >= 2);
  CHECK_INT(munmap_s3((void *)p), 0);
  CHECK_INT(tl_control("/__reset", "{}"), 200);
  free(want);
}

/* ---- race --------------------------------------------------------------- */

struct racer {
  pthread_t t;
  const unsigned char *p, *want;
  size_t size, from, to;
  int sig;   /* the signal that ended the scan, 0 if it finished */
  int wrong; /* pages with wrong bytes */
  size_t pages;
};

static void *racer_run(void *arg) {
  struct racer *r = arg;
  for (size_t off = r->from; off < r->to; off += PAGE) {
    int rc = probe_page(r->p, r->want, r->size, off);
    if (rc > 0) {
      r->sig = rc;
      break;
    }
    r->wrong += rc < 0;
    r->pages++;
  }
  return NULL;
}

/* One race in this (forked) process: map BIG, make every GET of it take
 * `delay` seconds, start 4 threads scanning its quarters, munmap_s3 after
 * `after` seconds. A PROT_NONE guard then takes the freed range (so a late
 * touch faults instead of reading whatever might be mapped there next).
 * Returns the exit code for the parent: 0, 3 wrong bytes, 4 munmap_s3
 * failed or was not prompt, 5 setup. */
static int race_once(const struct tl_object *o, const unsigned char *want, double delay,
                     double after) {
  const unsigned char *p = map_big(o, 0);
  if (!p)
    return 5;
  char fault[256];
  snprintf(fault, sizeof fault,
           "{\"action\":\"delay\",\"seconds\":%.3f,\"count\":-1,\"key\":\"%s/%s\"}", delay,
           TL_BUCKET, BIG);
  if (tl_control("/__reset", "{}") != 200 || tl_control("/__fault", fault) != 200)
    return 5;
  struct racer r[4];
  for (int i = 0; i < 4; i++) {
    r[i] = (struct racer){.p = p, .want = want, .size = o->size,
                          .from = o->size / 4 / PAGE * PAGE * i};
    r[i].to = i == 3 ? o->size : o->size / 4 / PAGE * PAGE * (i + 1);
    pthread_create(&r[i].t, NULL, racer_run, &r[i]);
  }
  usleep((useconds_t)(after * 1e6));
  double t0 = tl_now();
  int rc = munmap_s3((void *)p);
  double took = tl_now() - t0;
  size_t len = (o->size + PAGE - 1) / PAGE * PAGE;
  void *guard = mmap((void *)p, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                     -1, 0);
  int code = rc != 0 || took > 2 ? 4 : 0;
  int sigbus = 0, sigsegv = 0, done = 0, wrong = 0;
  size_t pages = 0;
  for (int i = 0; i < 4; i++) {
    pthread_join(r[i].t, NULL);
    sigbus += r[i].sig == SIGBUS;
    sigsegv += r[i].sig == SIGSEGV;
    done += r[i].sig == 0;
    wrong += r[i].wrong;
    pages += r[i].pages;
  }
  tl_control("/__reset", "{}"); /* wake the delayed requests */
  fprintf(stderr,
          "race (delay %.2f s, munmap after %.2f s): munmap_s3 %d in %.3f s; threads: %d "
          "SIGBUS, %d SIGSEGV, %d finished; %zu pages read, %d wrong; guard %s\n",
          delay, after, rc, took, sigbus, sigsegv, done, pages, wrong,
          guard == p ? "placed" : "not placed (range reused)");
  if (guard != MAP_FAILED)
    munmap(guard, len);
  return wrong ? 3 : code;
}

/* Mode race: in forked children (bounded: a hang is a failure), races with
 * munmap_s3 at different points: before the first fetch returns, while
 * threads wait on slow fetches, and mid-scan with fast fetches. */
static void mode_race(void) {
  const struct tl_object *o = tl_find(&m, BIG);
  unsigned char *want = tl_read_file(o->path, o->size);
  static const double cases[][2] = {{2.0, 0.0}, {2.0, 0.3}, {0.5, 0.6}, {0.02, 0.1},
                                     {0.005, 0.05}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      catch_signals();
      _exit(race_once(o, want, cases[i][0], cases[i][1]));
    }
    int status = 0;
    CHECK(pid > 0);
    CHECK_INT(tl_wait_bounded(pid, 30, &status), 0);
    tl_explain_status("race child", status);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  CHECK_INT(tl_control("/__reset", "{}"), 200);
  free(want);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MANIFEST MODE\n", argv[0]);
    return 2;
  }
  tl_manifest_load(argv[1], &m);
  const char *mode = argv[2];
  if (!strcmp(mode, "killed"))
    mode_killed(argv[1]);
  else if (!strcmp(mode, "replaced"))
    mode_replaced();
  else if (!strcmp(mode, "race"))
    mode_race();
  else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  return check_done();
}
