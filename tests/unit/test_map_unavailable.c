/*
 * test_map_unavailable.c - where userfaultfd is not permitted at all (here:
 * a seccomp filter refusing userfaultfd(2) and USERFAULTFD_IOC_NEW, as a
 * container profile would), mu_map_open fails with
 * MMAPURL_E_UFFD_UNAVAILABLE and a message giving the remedy; no crash, and
 * an empty mapping still works. Runs in a forked child (seccomp is for
 * life).
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/userfaultfd.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "test_map_source.c"
#include "util/error.h"

#if defined(__x86_64__)
#define TEST_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TEST_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef TEST_ARCH
/* Refuse userfaultfd(2) and ioctl(USERFAULTFD_IOC_NEW) with EPERM. */
static int deny_userfaultfd(void) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, TEST_ARCH, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_userfaultfd, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ioctl, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, USERFAULTFD_IOC_NEW, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return -1;
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static int child(void) {
  if (deny_userfaultfd() != 0) {
    printf("skipped: seccomp unavailable: %s\n", strerror(errno));
    fflush(stdout);
    return 77;
  }
  struct tsrc *t = tsrc_new(10000, 0);
  struct mu_map_source src = tsrc_source(t);
  struct mu_map *m = NULL;
  /* Refused with its own code, twice (the result is kept), no crash. */
  for (int i = 0; i < 2; i++) {
    CHECK_INT(mu_map_open(&src, NULL, &m), MMAPURL_E_UFFD_UNAVAILABLE);
    CHECK(m == NULL);
  }
  const char *msg = mmap_s3_errstr(MMAPURL_E_UFFD_UNAVAILABLE);
  printf("message: %s\ndetail: %s\n", msg, mu_err_detail());
  CHECK(strstr(msg, "sysctl -w vm.unprivileged_userfaultfd=1") != NULL);
  CHECK(strstr(msg, "/dev/userfaultfd") != NULL);
  CHECK(strstr(msg, "seccomp") != NULL);
  CHECK(strstr(mu_err_detail(), "userfaultfd(2)") != NULL);
  CHECK_STR(mu_map_uffd_mode(), "none");
  CHECK_INT(atomic_load(&t->released), 0); /* the caller keeps its source */
  /* An empty object needs no userfaultfd. */
  struct tsrc *e = tsrc_new(0, 0);
  struct mu_map_source esrc = tsrc_source(e);
  CHECK_INT(mu_map_open(&esrc, NULL, &m), 0);
  mu_map_close(m);
  tsrc_free(e);
  tsrc_free(t);
  fflush(stdout);
  return check_done();
}
#endif

int main(void) {
#ifdef TEST_ARCH
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0)
    _exit(child());
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  return WIFEXITED(status) ? WEXITSTATUS(status) : check_done();
#else
  printf("skipped: no seccomp filter for this architecture\n");
  return 77;
#endif
}
