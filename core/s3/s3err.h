/*
 * s3err.h - S3 error responses: parse the XML error body
 * (<Error><Code>..</Code><Message>..</Message><Region>..</Region>) and map
 * status + code to an MMAPURL_E_* code. Pure string work; never echoes
 * anything but the code, message, region and request id.
 */
#ifndef MU_S3ERR_H
#define MU_S3ERR_H

#include <stddef.h>

struct mu_s3_error {
  char code[64];     /* e.g. "NoSuchKey"; "" when the body had none */
  char message[256];
  char region[64];   /* <Region> of a PermanentRedirect / AuthorizationHeaderMalformed */
  char request_id[128];
};

/* Parse an error body (may be truncated, empty, or not XML). Never fails:
 * fields it cannot find are left "". */
void mu_s3err_parse(const char *body, size_t len, struct mu_s3_error *out);
/* The MMAPURL_E_* code for an HTTP status and S3 error code. */
int mu_s3err_map(long status, const char *s3_code);

#endif
