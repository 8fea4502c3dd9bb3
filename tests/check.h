/*
 * check.h - the assertions of mmapurl's test programs. Each failed CHECK
 * prints where and what, and the program's exit status is the number of
 * failures (capped), so ctest reports it. Exit 77 means skipped.
 */
#ifndef MU_CHECK_H
#define MU_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      check_failures++;                                                        \
    }                                                                          \
  } while (0)

#define CHECK_INT(a, b)                                                        \
  do {                                                                         \
    long long check_a_ = (long long)(a), check_b_ = (long long)(b);            \
    if (check_a_ != check_b_) {                                                \
      fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n",        \
              __FILE__, __LINE__, #a, #b, check_a_, check_b_);                 \
      check_failures++;                                                        \
    }                                                                          \
  } while (0)

#define CHECK_STR(a, b)                                                        \
  do {                                                                         \
    const char *check_a_ = (a), *check_b_ = (b);                               \
    if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {           \
      fprintf(stderr, "%s:%d: CHECK failed: %s == %s (\"%s\" != \"%s\")\n",    \
              __FILE__, __LINE__, #a, #b, check_a_ ? check_a_ : "(null)",      \
              check_b_ ? check_b_ : "(null)");                                 \
      check_failures++;                                                        \
    }                                                                          \
  } while (0)

/* End main with: return check_done(); */
static inline int check_done(void) {
  if (check_failures)
    fprintf(stderr, "%d check(s) failed\n", check_failures);
  return check_failures > 100 ? 100 : check_failures;
}

#endif
