/*
 * error.h - the error idiom of the whole library.
 * Internal functions return 0 or a public MMAPURL_E_* code; the details
 * (HTTP status, S3 code, bucket/key, errno text) go to a thread-local string
 * that mmapurl_errdetail() returns. Never put a secret in a detail.
 */
#ifndef MU_ERROR_H
#define MU_ERROR_H

#include "mmapurl.h"

/* Record the detail of a failure and return code, for `return mu_fail(...)`. */
int mu_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clear this thread's detail (at the start of each public call). */
void mu_err_clear(void);
/* This thread's detail, "" when none. */
const char *mu_err_detail(void);

/* Propagate a non-zero code: `MU_TRY(f(x));` */
#define MU_TRY(expr)                                                            \
  do {                                                                         \
    int mu_try_rc_ = (expr);                                                   \
    if (mu_try_rc_ != 0)                                                       \
      return mu_try_rc_;                                                       \
  } while (0)

#endif
