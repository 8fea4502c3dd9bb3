/*
 * s3err.c - S3 error bodies and the mapping of HTTP status + S3 error code
 * to MMAPURL_E_* codes. Tolerates truncated, empty and non-XML bodies; only
 * ever copies the Code, Message, Region and RequestId elements.
 */
#include "s3/s3err.h"

#include <stdio.h>
#include <string.h>

#include "mmapurl.h"

/* Copy the text of the first <tag>...</tag> in body[0..len) into out. */
static void xml_elem(const char *body, size_t len, const char *tag, char *out, size_t cap) {
  char open[40], close[40];
  snprintf(open, sizeof open, "<%s>", tag);
  snprintf(close, sizeof close, "</%s>", tag);
  out[0] = '\0';
  const char *s = memmem(body, len, open, strlen(open));
  if (!s)
    return;
  s += strlen(open);
  const char *e = memmem(s, len - (size_t)(s - body), close, strlen(close));
  if (!e)
    return;
  size_t n = (size_t)(e - s) < cap - 1 ? (size_t)(e - s) : cap - 1;
  memcpy(out, s, n);
  out[n] = '\0';
}

void mu_s3err_parse(const char *body, size_t len, struct mu_s3_error *out) {
  memset(out, 0, sizeof *out);
  if (!body || !len)
    return;
  xml_elem(body, len, "Code", out->code, sizeof out->code);
  xml_elem(body, len, "Message", out->message, sizeof out->message);
  xml_elem(body, len, "Region", out->region, sizeof out->region);
  xml_elem(body, len, "RequestId", out->request_id, sizeof out->request_id);
}

struct code_map {
  const char *s3_code;
  int err;
};

static const struct code_map code_table[] = {
    {"NoSuchKey", MMAPURL_E_NO_SUCH_KEY},
    {"NoSuchBucket", MMAPURL_E_NO_SUCH_BUCKET},
    {"AccessDenied", MMAPURL_E_ACCESS_DENIED},
    {"AllAccessDisabled", MMAPURL_E_ACCESS_DENIED},
    {"AccountProblem", MMAPURL_E_ACCESS_DENIED},
    {"InvalidAccessKeyId", MMAPURL_E_INVALID_KEY_ID},
    {"SignatureDoesNotMatch", MMAPURL_E_SIGNATURE},
    {"ExpiredToken", MMAPURL_E_TOKEN_EXPIRED},
    {"InvalidToken", MMAPURL_E_TOKEN_EXPIRED},
    {"TokenRefreshRequired", MMAPURL_E_TOKEN_EXPIRED},
    {"RequestTimeTooSkewed", MMAPURL_E_CLOCK_SKEW},
    {"PermanentRedirect", MMAPURL_E_WRONG_REGION},
    {"AuthorizationHeaderMalformed", MMAPURL_E_WRONG_REGION},
    {"IllegalLocationConstraintException", MMAPURL_E_WRONG_REGION},
    {"PreconditionFailed", MMAPURL_E_OBJECT_CHANGED},
    {"SlowDown", MMAPURL_E_THROTTLED},
    {"Throttling", MMAPURL_E_THROTTLED},
    {"RequestLimitExceeded", MMAPURL_E_THROTTLED},
};

int mu_s3err_map(long status, const char *s3_code) {
  for (size_t i = 0; s3_code && i < sizeof code_table / sizeof *code_table; i++)
    if (strcmp(s3_code, code_table[i].s3_code) == 0)
      return code_table[i].err;
  if (status == 404)
    return MMAPURL_E_NO_SUCH_KEY;
  if (status == 403 || status == 401)
    return MMAPURL_E_ACCESS_DENIED;
  if (status == 412)
    return MMAPURL_E_OBJECT_CHANGED;
  if (status == 429)
    return MMAPURL_E_THROTTLED;
  if (status == 301 || status == 307)
    return MMAPURL_E_WRONG_REGION;
  if (status >= 500)
    return MMAPURL_E_SERVER;
  return MMAPURL_E_HTTP;
}
