/*
 * fuzz.h - helpers shared by the libFuzzer targets: copies of the input that
 * ASan bounds exactly (so a parser reading one byte too far is caught), and
 * FUZZ_CHECK, which traps when an invariant the parser promises is broken.
 */
#ifndef MU_FUZZ_H
#define MU_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Trap (a crash libFuzzer records with its input) when cond is false. */
#define FUZZ_CHECK(cond)                                                        \
  do {                                                                         \
    if (!(cond))                                                               \
      __builtin_trap();                                                        \
  } while (0)

/* data[0..size) as a NUL-terminated string in its own allocation (aborts on
 * allocation failure: the fuzzer's rss limit is the real bound). Embedded NUL
 * bytes simply end the string early, as they would for a C caller. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s)
    abort();
  if (size)
    memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

/* data[0..size) in an allocation of exactly size bytes (no terminator), for
 * APIs that take a pointer and a length. */
static inline char *fuzz_exact(const uint8_t *data, size_t size) {
  char *s = malloc(size ? size : 1);
  if (!s)
    abort();
  if (size)
    memcpy(s, data, size);
  return s;
}

/* Whether s (NUL-terminated) ends within cap bytes. */
static inline int fuzz_terminated(const char *s, size_t cap) { return memchr(s, '\0', cap) != NULL; }

#endif
