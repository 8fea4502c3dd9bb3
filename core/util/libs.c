/*
 * libs.c - libcurl and libcrypto opened with dlopen, by SONAME, the first
 * time a transport or a signature needs them; their function tables filled
 * once (pthread_once) and a failure kept for every later caller.
 * Must never: dlclose a library whose functions were handed out (handles,
 * shares and callbacks into it live until exit), open a library by any name
 * but its SONAME (no development symlink, no path), or run at start-up.
 */
#include "util/libs.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "util/error.h"

/* The headers we compile against must describe the library we load. */
_Static_assert(OPENSSL_VERSION_MAJOR == 3,
               "libs.c loads libcrypto.so.3: build against the OpenSSL 3 headers (libssl-dev)");
#define CURL_SONAME "libcurl.so.4"
#define CURL_PACKAGE "libcurl4"
#define CRYPTO_SONAME "libcrypto.so.3"
#define CRYPTO_PACKAGE "libssl3"

_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
               "dlsym's object pointers must hold function pointers");

#define CURL_SYM(sym, field) {#sym, offsetof(struct mu_curl, field)},
#define CRYPTO_SYM(sym, field) {#sym, offsetof(struct mu_crypto, field)},
static const struct mu_lib_sym curl_syms[] = {MU_CURL_FUNCTIONS(CURL_SYM)};
static const struct mu_lib_sym crypto_syms[] = {MU_CRYPTO_FUNCTIONS(CRYPTO_SYM)};

/* A library's load, run once: its outcome and, on failure, the detail. */
struct load {
  pthread_once_t once;
  int rc;
  char detail[512];
};

static struct mu_curl curl_table;     /* written once, in curl_once */
static struct mu_crypto crypto_table; /* written once, in crypto_once */
static struct load curl_load = {.once = PTHREAD_ONCE_INIT};
static struct load crypto_load = {.once = PTHREAD_ONCE_INIT};

int mu_libs_open(const char *soname, const char *package, const struct mu_lib_sym *syms,
                 size_t nsyms, void *table) {
  /* Lazy binding, as the loader does at start-up: RTLD_NOW resolved every
   * symbol of libcurl's ~30 libraries at once, 0.5-3 ms more per process. */
  void *h = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
  if (!h)
    return mu_fail(MMAPURL_E_LIBRARY,
                   "cannot load %s (%s): install it (Debian: apt-get install %s)", soname,
                   dlerror(), package);
  for (size_t i = 0; i < nsyms; i++) {
    dlerror();
    void *fn = dlsym(h, syms[i].name);
    if (!fn) {
      const char *why = dlerror();
      int rc = mu_fail(MMAPURL_E_LIBRARY,
                       "%s has no %s (%s): install a current one (Debian: apt-get install %s)",
                       soname, syms[i].name, why ? why : "NULL symbol", package);
      dlclose(h); /* nothing of it was handed out */
      return rc;
    }
    memcpy((char *)table + syms[i].offset, &fn, sizeof fn);
  }
  return 0;
}

/* Record a load's outcome, keeping the detail for the threads that ask later
 * (the detail itself is per thread). */
static void finish(struct load *l, int rc) {
  l->rc = rc;
  if (rc)
    snprintf(l->detail, sizeof l->detail, "%s", mu_err_detail());
}

/* A finished load's outcome, re-recorded as this thread's detail. */
static int outcome(const struct load *l) {
  return l->rc ? mu_fail(l->rc, "%s", l->detail) : 0;
}

static void crypto_once(void) {
  int rc = mu_libs_open(CRYPTO_SONAME, CRYPTO_PACKAGE, crypto_syms,
                        sizeof crypto_syms / sizeof *crypto_syms, &crypto_table);
  /* Before anything else initialises OpenSSL (libcurl's global init does),
   * so that its state is never freed under a thread still using it. */
  if (rc == 0)
    crypto_table.init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
  finish(&crypto_load, rc);
}

static void curl_once(void) {
  const struct mu_crypto *crypto;
  int rc = mu_libs_crypto(&crypto);
  if (rc == 0)
    rc = mu_libs_open(CURL_SONAME, CURL_PACKAGE, curl_syms, sizeof curl_syms / sizeof *curl_syms,
                      &curl_table);
  finish(&curl_load, rc);
}

int mu_libs_crypto(const struct mu_crypto **out) {
  pthread_once(&crypto_load.once, crypto_once);
  MU_TRY(outcome(&crypto_load));
  *out = &crypto_table;
  return 0;
}

int mu_libs_curl(const struct mu_curl **out) {
  pthread_once(&curl_load.once, curl_once);
  MU_TRY(outcome(&curl_load));
  *out = &curl_table;
  return 0;
}
