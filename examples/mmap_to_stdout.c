/*
 * mmap_to_stdout - the example of the original project: map an S3 object
 * and write() it to standard output straight from the mapping.
 *
 *   mmap_to_stdout s3://bucket/key > file
 *
 * The pages are touched by the kernel inside write(), so the faults happen
 * in kernel mode; with userfaultfd's full features (root, CAP_SYS_PTRACE,
 * vm.unprivileged_userfaultfd=1 or /dev/userfaultfd access) they are served
 * like any other. Under UFFD_USER_MODE_ONLY they would fail with EFAULT, so
 * the program then touches each chunk from user space first.
 *
 * Build against an installed library:
 *   cc mmap_to_stdout.c $(pkg-config --cflags --libs mmapurl)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mmapurl.h>

#define CHUNK (1u << 20)

/* Read one byte of every page of p[0..n), so their faults happen here. */
static void touch_pages(const volatile char *p, size_t n) {
  long page = sysconf(_SC_PAGESIZE);
  for (size_t i = 0; i < n; i += (size_t)page)
    (void)p[i];
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: mmap_to_stdout s3://BUCKET/KEY\n");
    return 2;
  }
  size_t sz;
  int err;
  const char *p = mmap_s3(argv[1], &sz, &err);
  if (p == (const char *)-1) {
    fprintf(stderr, "mmap_to_stdout: %s: %s\n", argv[1], mmap_s3_errstr(err));
    fprintf(stderr, "mmap_to_stdout: detail: %s\n", mmapurl_errdetail());
    return 1;
  }
  struct mmapurl_stats st;
  mmapurl_stats_get(&st);
  int user_mode_only = strcmp(st.uffd_mode, "user-mode-only") == 0;
  for (size_t off = 0; off < sz;) {
    size_t n = sz - off < CHUNK ? sz - off : CHUNK;
    if (user_mode_only)
      touch_pages(p + off, n);
    ssize_t w = write(STDOUT_FILENO, p + off, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      perror("mmap_to_stdout: write");
      munmap_s3((void *)p);
      return 1;
    }
    off += (size_t)w;
  }
  munmap_s3((void *)p);
  return 0;
}
