/*
 * libs.h - libcurl and libcrypto, loaded when first needed (dlopen of their
 * SONAMEs) instead of when the process starts, so a program that runs under
 * the shim but never touches S3 loads neither (libcurl's ~30 dependencies
 * are most of a preloaded shim's start-up cost). Their headers still give
 * the types and constants; the functions we call come from the tables below,
 * typed from those same headers. Each library is loaded once per process;
 * a failure is MMAPURL_E_LIBRARY, the same every time.
 */
#ifndef MU_LIBS_H
#define MU_LIBS_H

#include <stddef.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* X(symbol, field): every libcurl function the core calls. */
#define MU_CURL_FUNCTIONS(X)                                                   \
  X(curl_global_init, global_init)                                             \
  X(curl_easy_init, easy_init)                                                 \
  X(curl_easy_reset, easy_reset)                                               \
  X(curl_easy_cleanup, easy_cleanup)                                           \
  X(curl_easy_setopt, easy_setopt)                                             \
  X(curl_easy_perform, easy_perform)                                           \
  X(curl_easy_getinfo, easy_getinfo)                                           \
  X(curl_easy_strerror, easy_strerror)                                         \
  X(curl_share_init, share_init)                                               \
  X(curl_share_setopt, share_setopt)                                           \
  X(curl_share_cleanup, share_cleanup)                                         \
  X(curl_slist_append, slist_append)                                           \
  X(curl_slist_free_all, slist_free_all)                                       \
  X(curl_getdate, getdate)

/* X(symbol, field): every libcrypto function the core calls. */
#define MU_CRYPTO_FUNCTIONS(X)                                                 \
  X(OPENSSL_init_crypto, init_crypto)                                          \
  X(EVP_Digest, digest)                                                        \
  X(EVP_sha256, sha256)                                                        \
  X(HMAC, hmac)

/* Fields are named without the library's prefix: curl.h makes some of the
 * full names (curl_easy_setopt, curl_easy_getinfo) function-like macros. */
#define MU_LIBS_FIELD(sym, field) __typeof__(sym) *field;
struct mu_curl {
  MU_CURL_FUNCTIONS(MU_LIBS_FIELD)
};
struct mu_crypto {
  MU_CRYPTO_FUNCTIONS(MU_LIBS_FIELD)
};
#undef MU_LIBS_FIELD

/* The libcrypto table, loading libcrypto.so.3 on the first call (and then
 * initialising OpenSSL without its atexit cleanup: fetch workers may still
 * be signing or in a TLS read while exit() runs). Thread-safe. 0, or
 * MMAPURL_E_LIBRARY with a detail naming the library, the loader's reason
 * and the package to install. */
int mu_libs_crypto(const struct mu_crypto **out);
/* The libcurl table, loading libcrypto first (as above), then libcurl.so.4.
 * Thread-safe. 0 or MMAPURL_E_LIBRARY, as mu_libs_crypto. */
int mu_libs_curl(const struct mu_curl **out);

/* One function to look up: its name and where its pointer goes. */
struct mu_lib_sym {
  const char *name;
  size_t offset; /* in the table given to mu_libs_open */
};

/* dlopen(soname) and store each of syms' functions at its offset in table.
 * 0, or MMAPURL_E_LIBRARY with a detail naming soname (or the missing
 * function), dlerror()'s text and `apt-get install package`; table is then
 * partly written and must not be used. The two loaders above run it once
 * each; it is exposed for tests. */
int mu_libs_open(const char *soname, const char *package, const struct mu_lib_sym *syms,
                 size_t nsyms, void *table);

#endif
