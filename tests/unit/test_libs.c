/* test_libs - libcurl and libcrypto are loaded at first use, not at start
 * (util/libs.c): neither is mapped before the first call, each is after the
 * call that needs it, and the tables call the real functions. A library
 * that cannot be opened, or lacks a function, is MMAPURL_E_LIBRARY with a
 * detail naming it, dlerror()'s reason and the package to install. The
 * order of the cases matters: loading is once per process. */
#include <stdio.h>
#include <string.h>

#include "auth/sigv4.h"
#include "check.h"
#include "mmapurl.h"
#include "util/error.h"
#include "util/libs.h"

/* Whether a file whose path contains name is mapped in this process. */
static int mapped(const char *name) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[4096];
  int found = 0;
  if (!f)
    return -1;
  while (!found && fgets(line, sizeof line, f))
    found = strstr(line, name) != NULL;
  fclose(f);
  return found;
}

static int has(const char *s, const char *part) { return strstr(s, part) != NULL; }

static void nothing_at_start(void) {
  /* the test links neither: only a call may bring them in */
  CHECK_INT(mapped("/libcurl.so"), 0);
  CHECK_INT(mapped("/libcrypto.so"), 0);
}

static void crypto_on_first_hash(void) {
  char hex[65];
  /* a hash loads libcrypto, and only libcrypto */
  mu_sha256_hex("abc", 3, hex);
  CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK_INT(mapped("/libcrypto.so"), 1);
  CHECK_INT(mapped("/libcurl.so"), 0);
  /* the table is the same on every call */
  const struct mu_crypto *a = NULL, *b = NULL;
  CHECK_INT(mu_libs_crypto(&a), 0);
  CHECK_INT(mu_libs_crypto(&b), 0);
  CHECK(a && a == b && a->sha256() != NULL);
}

static void curl_on_first_use(void) {
  const struct mu_curl *c = NULL;
  CHECK_INT(mu_libs_curl(&c), 0);
  CHECK_INT(mapped("/libcurl.so"), 1);
  if (!c)
    return;
  /* the functions are libcurl's own */
  CHECK_STR(c->easy_strerror(CURLE_OK), "No error");
  CHECK_INT(c->getdate("Sun, 06 Nov 1994 08:49:37 GMT", NULL), 784111777);
  CURL *h = c->easy_init();
  CHECK(h != NULL);
  CHECK_INT(c->easy_setopt(h, CURLOPT_URL, "http://127.0.0.1/"), CURLE_OK);
  c->easy_cleanup(h);
}

static void missing_library(void) {
  static const struct mu_lib_sym syms[] = {{"curl_easy_init", 0}};
  void *table[1] = {NULL};
  mu_err_clear();
  /* not installed: the soname, the loader's reason and the package */
  CHECK_INT(mu_libs_open("libmmapurl-test-absent.so.9", "mmapurl-test-absent", syms, 1, table),
            MMAPURL_E_LIBRARY);
  CHECK(has(mu_err_detail(), "libmmapurl-test-absent.so.9"));
  CHECK(has(mu_err_detail(), "cannot open shared object file"));
  CHECK(has(mu_err_detail(), "apt-get install mmapurl-test-absent"));
  CHECK(table[0] == NULL);
}

static void missing_function(void) {
  static const struct mu_lib_sym syms[] = {{"curl_easy_init", 0},
                                            {"curl_mmapurl_test_absent", sizeof(void *)}};
  void *table[2] = {NULL, NULL};
  mu_err_clear();
  /* too old (a function missing): named, with the loader's reason */
  CHECK_INT(mu_libs_open("libcurl.so.4", "libcurl4", syms, 2, table), MMAPURL_E_LIBRARY);
  CHECK(has(mu_err_detail(), "curl_mmapurl_test_absent"));
  CHECK(has(mu_err_detail(), "undefined symbol"));
  CHECK(has(mu_err_detail(), "apt-get install libcurl4"));
  CHECK(table[1] == NULL);
}

static void message(void) {
  const char *msg = mmap_s3_errstr(MMAPURL_E_LIBRARY);
  /* its own message, which says what to install */
  for (int e = MMAPURL_OK; e < MMAPURL_E_LIBRARY; e++)
    CHECK(strcmp(msg, mmap_s3_errstr(e)) != 0);
  CHECK(has(msg, "libcurl.so.4") && has(msg, "apt-get install libcurl4"));
  CHECK(has(msg, "libcrypto.so.3") && has(msg, "apt-get install libssl3"));
}

int main(void) {
  nothing_at_start();
  crypto_on_first_hash();
  curl_on_first_use();
  missing_library();
  missing_function();
  message();
  return check_done();
}
