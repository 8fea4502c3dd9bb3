/*
 * test_map_basic.c - a mapping reads back exactly the source's bytes, for
 * the sizes at the page edges (0, 1, 4095, 4096, 4097) and a several-MiB
 * object scanned sequentially; the tail of the last page reads zero; the
 * userfaultfd mode is reported.
 */
#include "test_map_source.c"

/* Map size bytes, scan them in order, compare, check the zero tail. */
static void scan_size(uint64_t size) {
  struct tsrc *t = tsrc_new(size, 0);
  struct mu_map *m = tmap_open(t, 0, 0);
  CHECK(mu_map_addr(m) != NULL);
  CHECK_INT(mu_map_size(m), size);
  CHECK_INT(tmap_verify(m, 0, size), 0);
  const volatile unsigned char *p = mu_map_addr(m);
  for (uint64_t i = size; i % 4096 != 0; i++)
    CHECK_INT(p[i], 0); /* past the object, up to the page end: zeros */
  CHECK(atomic_load(&t->bytes) <= size);   /* never asked past the end */
  CHECK(tsrc_max_page_fetches(t) <= 1);    /* no byte fetched twice */
  mu_map_close(m);
  tsrc_free(t); /* checks the source was released */
}

int main(void) {
  /* The edges around one page, then 5 MiB + 123 bytes (many blocks,
   * partial last block, readahead on). */
  uint64_t sizes[] = {1, 4095, 4096, 4097, 65536 + 1, (5u << 20) + 123};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    scan_size(sizes[i]);
  printf("userfaultfd mode: %s\n", mu_map_uffd_mode());
  CHECK(strcmp(mu_map_uffd_mode(), "none") != 0);

  /* Size 0: a valid non-NULL address, nothing fetched, close works. */
  struct tsrc *t = tsrc_new(0, 0);
  struct mu_map *m = tmap_open(t, 0, 0);
  CHECK(mu_map_addr(m) != NULL);
  CHECK_INT(mu_map_size(m), 0);
  mu_map_close(m);
  CHECK_INT(atomic_load(&t->calls), 0);
  tsrc_free(t);

  /* Bad options are refused, not guessed. */
  struct tsrc *b = tsrc_new(10, 0);
  struct mu_map_source src = tsrc_source(b);
  struct mu_map_opts bad = {.block_size = 1000};
  CHECK_INT(mu_map_open(&src, &bad, &m), MMAPURL_E_INVALID_ARG);
  CHECK(m == NULL);
  CHECK_INT(mu_map_open(NULL, NULL, &m), MMAPURL_E_INVALID_ARG);
  tsrc_free(b);

  mu_map_shutdown();
  return check_done();
}
