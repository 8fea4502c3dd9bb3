/*
 * fuzz_s3err - S3 error bodies: the input is the body (in an allocation of
 * exactly its size: the parser must never read past len), then mapped with a
 * spread of HTTP statuses.
 * Invariants: every field is terminated within its array and is exactly the
 * text of the first <Tag>...</Tag> (truncated to fit), or "" when there is
 * none; mu_s3err_map always answers a defined MMAPURL_E_* code that is an S3
 * or HTTP error.
 */
#include <stdio.h>

#include "fuzz.h"
#include "mmapurl.h"
#include "s3/s3err.h"

/* Reference for one field: the first "<tag>" then the first "</tag>" after it. */
static void check_field(const char *body, size_t len, const char *tag, const char *field,
                        size_t cap) {
  FUZZ_CHECK(fuzz_terminated(field, cap));
  char open[40], close[40];
  size_t olen = (size_t)snprintf(open, sizeof open, "<%s>", tag);
  size_t clen = (size_t)snprintf(close, sizeof close, "</%s>", tag);
  const char *s = memmem(body, len, open, olen);
  const char *e = s ? memmem(s + olen, len - (size_t)(s + olen - body), close, clen) : NULL;
  if (!e) {
    FUZZ_CHECK(field[0] == '\0');
    return;
  }
  s += olen;
  size_t n = (size_t)(e - s) < cap - 1 ? (size_t)(e - s) : cap - 1;
  FUZZ_CHECK(memcmp(field, s, n) == 0 && field[n] == '\0');
}

static void check_map(long status, const char *code) {
  int err = mu_s3err_map(status, code);
  FUZZ_CHECK(err >= MMAPURL_E_NO_SUCH_KEY && err <= MMAPURL_E_HTTP);
  FUZZ_CHECK(err != MMAPURL_E_NETWORK && err != MMAPURL_E_TIMEOUT && err != MMAPURL_E_TLS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *body = fuzz_exact(data, size);
  struct mu_s3_error e;
  memset(&e, 0x5A, sizeof e);
  mu_s3err_parse(body, size, &e);
  if (size == 0) {
    FUZZ_CHECK(!e.code[0] && !e.message[0] && !e.region[0] && !e.request_id[0]);
  } else {
    check_field(body, size, "Code", e.code, sizeof e.code);
    check_field(body, size, "Message", e.message, sizeof e.message);
    check_field(body, size, "Region", e.region, sizeof e.region);
    check_field(body, size, "RequestId", e.request_id, sizeof e.request_id);
  }
  static const long statuses[] = {0, 100, 200, 206, 301, 307, 400, 401, 403, 404,
                                  409, 412, 416, 429, 500, 503, -1, 99999};
  long own = size >= 2 ? (long)data[0] << 8 | data[1] : 0;
  for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++)
    check_map(statuses[i], e.code);
  check_map(own, e.code);
  check_map(own, NULL);
  free(body);
  return 0;
}
