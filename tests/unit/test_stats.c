/*
 * test_stats.c - unit tests of core/util/stats.c: counters added from many
 * threads, the JSON report (written, then read back as text), and the at-exit
 * reports, observed from a forked child whose stderr goes to a pipe.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "mmapurl.h"
#include "util/error.h"
#include "util/stats.h"

#define THREADS 8
#define ADDS 100000

static char tmpdir[] = "/tmp/mu-test-stats-XXXXXX";

/* Raise counter which to exactly target (counters only grow). */
static void set_counter(enum mu_stat which, uint64_t target) {
  mu_stat_add(which, target - mu_stat_read(which));
}

/* Read a whole small file into buf (NUL-terminated); bytes read or -1. */
static ssize_t slurp(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  size_t n = fread(buf, 1, size - 1, f);
  fclose(f);
  buf[n] = '\0';
  return (ssize_t)n;
}

/* The number after "\"name\":" in the JSON text, or UINT64_MAX. */
static uint64_t json_field(const char *text, const char *name) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", name);
  const char *p = strstr(text, pat);
  return p ? strtoull(p + strlen(pat), NULL, 10) : UINT64_MAX;
}

/* Fork a child that sets the counters, installs the reports dests[0..n) in
 * order and exits; return what it wrote on stderr (into out). */
static void run_child(const char *const *dests, int n, uint64_t bytes, char *out, size_t size) {
  int fds[2];
  CHECK_INT(pipe(fds), 0);
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    set_counter(MU_STAT_REQUESTS, 12);
    set_counter(MU_STAT_BYTES_DOWNLOADED, bytes);
    set_counter(MU_STAT_OBJECTS_OPENED, 1);
    for (int i = 0; i < n; i++)
      mu_stats_install_report(dests[i]);
    exit(0);
  }
  close(fds[1]);
  size_t got = 0;
  ssize_t r;
  while (got + 1 < size && (r = read(fds[0], out + got, size - 1 - got)) > 0)
    got += (size_t)r;
  out[got] = '\0';
  close(fds[0]);
  int status = -1;
  CHECK_INT(waitpid(pid, &status, 0), pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_report_stderr(void) {
  char out[512], path[256];
  snprintf(path, sizeof path, "%s/ignored.json", tmpdir);
  /* "1" prints the one-line summary at exit; a second install is ignored */
  const char *const once[] = {"1", path};
  run_child(once, 2, 3250586, out, sizeof out);
  CHECK_STR(out, "mmapurl: 12 requests, 3.1 MiB downloaded, 0 retries, 0 errors, 1 objects opened"
            ", 0 faults, 0 evictions, cache peak 0 B (userfaultfd: none)\n");
  CHECK(access(path, F_OK) != 0);
  /* NULL and "" install nothing (and do not use up the one install) */
  const char *const none_then_one[] = {NULL, "", "1"};
  run_child(none_then_one, 3, 512, out, sizeof out);
  CHECK_STR(out, "mmapurl: 12 requests, 512 B downloaded, 0 retries, 0 errors, 1 objects opened"
            ", 0 faults, 0 evictions, cache peak 0 B (userfaultfd: none)\n");
  /* NULL and "" alone: nothing at exit */
  const char *const none[] = {NULL, ""};
  run_child(none, 2, 0, out, sizeof out);
  CHECK_STR(out, "");
}

static void test_report_json_at_exit(void) {
  char out[512], path[256], text[512];
  snprintf(path, sizeof path, "%s/exit.json", tmpdir);
  /* any other value is a JSON path written at exit, nothing on stderr */
  const char *const dests[] = {path};
  run_child(dests, 1, 2048, out, sizeof out);
  CHECK_STR(out, "");
  CHECK(slurp(path, text, sizeof text) > 0);
  CHECK_INT(json_field(text, "requests"), 12);
  CHECK_INT(json_field(text, "bytes_downloaded"), 2048);
  CHECK_INT(json_field(text, "objects_opened"), 1);
  unlink(path);
  /* an unwritable path at exit is reported on stderr, naming it */
  const char *const bad[] = {"/nonexistent-dir-mu/stats.json"};
  run_child(bad, 1, 0, out, sizeof out);
  CHECK(strstr(out, "/nonexistent-dir-mu/stats.json.tmp") != NULL);
  CHECK(strstr(out, "No such file or directory") != NULL);
}

/* Thread body: ADDS additions to two counters. */
static void *adder(void *arg) {
  (void)arg;
  for (int i = 0; i < ADDS; i++) {
    mu_stat_add(MU_STAT_REQUESTS, 1);
    mu_stat_add(MU_STAT_BYTES_DOWNLOADED, 3);
  }
  return NULL;
}

static void test_threads(void) {
  /* counters added from several threads add up exactly */
  uint64_t req0 = mu_stat_read(MU_STAT_REQUESTS), bytes0 = mu_stat_read(MU_STAT_BYTES_DOWNLOADED);
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    CHECK_INT(pthread_create(&t[i], NULL, adder, NULL), 0);
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  CHECK_INT(mu_stat_read(MU_STAT_REQUESTS) - req0, (uint64_t)THREADS * ADDS);
  CHECK_INT(mu_stat_read(MU_STAT_BYTES_DOWNLOADED) - bytes0, (uint64_t)THREADS * ADDS * 3);
  /* the public snapshot agrees with the counters */
  mu_stat_add(MU_STAT_RETRIES, 2);
  mu_stat_add(MU_STAT_ERRORS, 5);
  struct mmapurl_stats s;
  mmapurl_stats_get(&s);
  CHECK_INT(s.requests, mu_stat_read(MU_STAT_REQUESTS));
  CHECK_INT(s.bytes_downloaded, mu_stat_read(MU_STAT_BYTES_DOWNLOADED));
  CHECK_INT(s.retries, mu_stat_read(MU_STAT_RETRIES));
  CHECK_INT(s.errors, mu_stat_read(MU_STAT_ERRORS));
  CHECK_INT(s.objects_opened, mu_stat_read(MU_STAT_OBJECTS_OPENED));
  /* out-of-range counters read 0 and adding to them is ignored; NULL is allowed */
  mu_stat_add(MU_STAT_COUNT, 1);
  CHECK_INT(mu_stat_read(MU_STAT_COUNT), 0);
  mmapurl_stats_get(NULL);
}

static void test_write_json(void) {
  char path[256], tmp[300], text[512], expect[512];
  snprintf(path, sizeof path, "%s/now.json", tmpdir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  struct mmapurl_stats s;
  mmapurl_stats_get(&s);
  /* the JSON text has every counter, in order, and no temporary remains */
  CHECK_INT(mu_stats_write_json(path), 0);
  CHECK(slurp(path, text, sizeof text) > 0);
  snprintf(expect, sizeof expect,
           "{\"requests\":%" PRIu64 ",\"bytes_downloaded\":%" PRIu64 ",\"retries\":%" PRIu64
           ",\"errors\":%" PRIu64 ",\"objects_opened\":%" PRIu64 ",\"faults\":%" PRIu64
           ",\"evictions\":%" PRIu64 ",\"cache_bytes\":%" PRIu64 ",\"cache_peak_bytes\":%" PRIu64
           ",\"uffd_mode\":\"%s\"}\n",
           s.requests, s.bytes_downloaded, s.retries, s.errors, s.objects_opened, s.faults,
           s.evictions, s.cache_bytes, s.cache_peak_bytes, s.uffd_mode);
  CHECK_STR(text, expect);
  CHECK_INT(json_field(text, "retries"), s.retries);
  CHECK(access(tmp, F_OK) != 0);
  /* rewriting replaces the file with current numbers */
  mu_stat_add(MU_STAT_ERRORS, 1);
  CHECK_INT(mu_stats_write_json(path), 0);
  CHECK(slurp(path, text, sizeof text) > 0);
  CHECK_INT(json_field(text, "errors"), s.errors + 1);
  unlink(path);
  /* an unwritable path is MMAPURL_E_CONFIG naming the path and the errno text */
  CHECK_INT(mu_stats_write_json("/nonexistent-dir-mu/s.json"), MMAPURL_E_CONFIG);
  CHECK(strstr(mu_err_detail(), "/nonexistent-dir-mu/s.json") != NULL);
  CHECK(strstr(mu_err_detail(), strerror(ENOENT)) != NULL);
  /* NULL or empty path is MMAPURL_E_CONFIG */
  CHECK_INT(mu_stats_write_json(NULL), MMAPURL_E_CONFIG);
  CHECK_INT(mu_stats_write_json(""), MMAPURL_E_CONFIG);
}

static void test_write_json_rename_fails(void) {
  char path[256], file[300], tmp[300];
  snprintf(path, sizeof path, "%s/dir", tmpdir);
  snprintf(file, sizeof file, "%s/dir/f", tmpdir);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  /* a failing rename (the target is a non-empty directory) is
   * MMAPURL_E_CONFIG naming the target, and removes the temporary */
  CHECK_INT(mkdir(path, 0700), 0);
  FILE *f = fopen(file, "w");
  CHECK(f != NULL);
  if (f)
    fclose(f);
  CHECK_INT(mu_stats_write_json(path), MMAPURL_E_CONFIG);
  CHECK(strstr(mu_err_detail(), path) != NULL);
  CHECK(access(tmp, F_OK) != 0);
  unlink(file);
  rmdir(path);
}

static void test_gauges(void) {
  /* a gauge goes up and down; its high-water mark only up; the mode is kept */
  mu_stat_add(MU_STAT_CACHE_BYTES, 1000);
  mu_stat_max(MU_STAT_CACHE_PEAK, 1000);
  mu_stat_sub(MU_STAT_CACHE_BYTES, 400);
  mu_stat_max(MU_STAT_CACHE_PEAK, 600);
  mu_stats_set_uffd_mode("syscall");
  struct mmapurl_stats s;
  mmapurl_stats_get(&s);
  CHECK_INT(s.cache_bytes, 600);
  CHECK_INT(s.cache_peak_bytes, 1000);
  CHECK_STR(s.uffd_mode, "syscall");
  mu_stat_sub(MU_STAT_CACHE_BYTES, 600);
  mu_stats_set_uffd_mode("none");
}

int main(void) {
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  test_report_stderr();
  test_gauges();
  test_report_json_at_exit();
  test_threads();
  test_write_json();
  test_write_json_rename_fails();
  rmdir(tmpdir);
  return check_done();
}
