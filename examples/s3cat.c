/*
 * s3cat - write an S3 object (or an http(s) URL that honours Range) to
 * standard output with libmmapurl's object API: one request opens it, then
 * ranged reads of 8 MiB follow. Exit status 0, or 1 with the library's
 * message and detail on standard error.
 *
 *   s3cat s3://bucket/key > file
 *   s3cat --range OFFSET LENGTH s3://bucket/key
 *
 * Build against an installed library: cc s3cat.c $(pkg-config --cflags --libs mmapurl)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mmapurl.h>

#define CHUNK (8u << 20)

static int fail(const char *what, int rc) {
  fprintf(stderr, "s3cat: %s: %s\n", what, mmap_s3_errstr(rc));
  if (mmapurl_errdetail()[0])
    fprintf(stderr, "s3cat: detail: %s\n", mmapurl_errdetail());
  return 1;
}

static int write_all(const char *p, size_t n) {
  while (n) {
    ssize_t w = write(STDOUT_FILENO, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      perror("s3cat: write");
      return -1;
    }
    p += w, n -= (size_t)w;
  }
  return 0;
}

static int parse_u64(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-')
    return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  uint64_t off = 0, len = UINT64_MAX;
  int ranged = argc == 5 && strcmp(argv[1], "--range") == 0;
  if ((argc != 2 && !ranged) || (ranged && (parse_u64(argv[2], &off) || parse_u64(argv[3], &len)))) {
    fprintf(stderr, "usage: s3cat [--range OFFSET LENGTH] s3://BUCKET/KEY\n");
    return 2;
  }
  const char *url = argv[argc - 1];
  mmapurl_object *obj;
  int rc = mmapurl_object_open(url, &obj);
  if (rc)
    return fail(url, rc);
  uint64_t size = mmapurl_object_size(obj);
  uint64_t end = off > size ? off : (len > size - off ? size : off + len);
  char *buf = malloc(CHUNK);
  for (uint64_t pos = off; buf && rc == 0 && pos < end; pos += CHUNK) {
    size_t n = end - pos < CHUNK ? (size_t)(end - pos) : CHUNK;
    rc = mmapurl_object_read(obj, buf, n, pos);
    if (rc == 0 && write_all(buf, n))
      rc = -1;
  }
  free(buf);
  mmapurl_object_close(obj);
  if (!buf)
    return fail(url, MMAPURL_E_NOMEM);
  return rc > 0 ? fail(url, rc) : rc ? 1 : 0;
}
