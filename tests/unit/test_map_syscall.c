/*
 * test_map_syscall.c - faults taken inside the kernel: write(fd, mapped,
 * n) from pages never touched, to a pipe and to a memfd. With full
 * userfaultfd features the bytes arrive exact; under user-mode-only the
 * kernel refuses (EFAULT), loudly, never with zeros.
 */
#include <errno.h>
#include <sys/mman.h>

#include "test_map_source.c"

#define SIZE (3u << 20)

/* Write n bytes at off of the mapping into a memfd, read them back. */
static void via_memfd(const struct mu_map *m, int full, uint64_t off, size_t n) {
  int fd = memfd_create("test_map_syscall", MFD_CLOEXEC);
  const char *p = (const char *)mu_map_addr(m) + off;
  ssize_t w = write(fd, p, n);
  if (!full) {
    CHECK(w < 0 ? errno == EFAULT : (size_t)w < n); /* refused, not zeros */
    close(fd);
    return;
  }
  CHECK_INT(w, n);
  unsigned char *back = malloc(n);
  CHECK_INT(pread(fd, back, n, 0), n);
  size_t bad = 0;
  for (size_t i = 0; i < n; i++)
    bad += back[i] != tsrc_byte(off + i);
  CHECK_INT(bad, 0);
  free(back);
  close(fd);
}

/* 60 KiB through a pipe (fits its buffer), read back; or, without full
 * features, refused with EFAULT. */
static void via_pipe(const struct mu_map *m, int full, uint64_t off) {
  int fds[2];
  CHECK_INT(pipe(fds), 0);
  unsigned char buf[61440];
  ssize_t w = write(fds[1], (const char *)mu_map_addr(m) + off, sizeof buf);
  if (full) {
    CHECK_INT(w, sizeof buf);
    if (w > 0)
      CHECK_INT(read(fds[0], buf, sizeof buf), sizeof buf);
    size_t bad = 0;
    for (size_t i = 0; i < sizeof buf; i++)
      bad += buf[i] != tsrc_byte(off + i);
    CHECK_INT(bad, 0);
  } else {
    CHECK(w < 0 && errno == EFAULT);
  }
  close(fds[0]);
  close(fds[1]);
}

int main(void) {
  struct tsrc *t = tsrc_new(SIZE, 0);
  struct mu_map *m = tmap_open(t, 65536, 0);
  int full = strcmp(mu_map_uffd_mode(), "user-mode-only") != 0;
  printf("mode %s: kernel-side faults %s\n", mu_map_uffd_mode(),
         full ? "served" : "expected to fail with EFAULT");
  via_memfd(m, full, 0, SIZE);         /* the whole object, all untouched */
  via_pipe(m, full, SIZE - 61440);
  /* Touched from user space first (what the shim does under
   * user-mode-only): the kernel then reads present pages, in every mode. */
  CHECK_INT(tmap_verify(m, 0, SIZE), 0);
  via_memfd(m, 1, 0, SIZE);
  via_pipe(m, 1, 12345);
  mu_map_close(m);

  m = tmap_open(t, 65536, 0);          /* fresh: nothing present */
  via_pipe(m, full, 5 * 65536 + 100);
  mu_map_close(m);
  tsrc_free(t);
  mu_map_shutdown();
  return check_done();
}
