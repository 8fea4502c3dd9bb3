/*
 * sigv4_tool.c - test-only: signs S3 GET requests read from stdin, one per
 * line, so test_sigv4_botocore.py can compare them with botocore's signer.
 * Test credentials only: it prints what it is given, secrets never.
 *
 * Input line, tab-separated:
 *   method host bucket key query amz_date region access_key secret token
 *   [Name:value ...]
 * key is the raw (unencoded, UTF-8) object key: the path is built exactly as
 * the S3 layer does, path-style "/" bucket "/" mu_uri_encode(key, keep_slash=1).
 * query is sent as is, "-" for none; token "-" for none. Extra fields are
 * headers to sign (range, if-match, ...). The tool adds host and
 * x-amz-content-sha256 (SHA-256 of the empty body); the signer adds
 * x-amz-date and x-amz-security-token.
 *
 * Output, per request: "AUTH\t<Authorization value>", "CR\t<canonical
 * request>", "STS\t<string to sign>", each backslash written as two
 * backslashes and each newline as backslash-n. Exit 0, or 1 with a message
 * on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sigv4.h"
#include "util/buf.h"
#include "util/url.h"

#define NF 10     /* fixed fields */
#define MAXF 32   /* fields in all */

/* Split line in place on tabs into f; returns the count. */
static int split(char *line, char **f) {
  int n = 0;
  for (char *s = line; n < MAXF;) {
    f[n++] = s;
    char *t = strchr(s, '\t');
    if (!t)
      break;
    *t = '\0';
    s = t + 1;
  }
  return n;
}

static void put_escaped(const char *tag, const char *s) {
  printf("%s\t", tag);
  for (; *s; s++) {
    if (*s == '\\')
      fputs("\\\\", stdout);
    else if (*s == '\n')
      fputs("\\n", stdout);
    else
      putchar(*s);
  }
  putchar('\n');
}

/* Headers: host, x-amz-content-sha256, then the extra "Name:value" fields. */
static int headers(char **f, int nf, struct mu_header *h) {
  int n = 0;
  h[n++] = (struct mu_header){"host", f[1]};
  h[n++] = (struct mu_header){"x-amz-content-sha256", MU_EMPTY_SHA256};
  for (int i = NF; i < nf; i++) {
    char *colon = strchr(f[i], ':');
    if (!colon)
      return -1;
    *colon = '\0';
    h[n++] = (struct mu_header){f[i], colon + 1};
  }
  return n;
}

/* Sign one request line and print the results. 0 or -1. */
static int sign_line(char *line, long lineno) {
  char *f[MAXF];
  struct mu_header h[MAXF];
  int nf = split(line, f);
  int nh = nf >= NF ? headers(f, nf, h) : -1;
  if (nh < 0) {
    fprintf(stderr, "sigv4_tool: line %ld: bad fields\n", lineno);
    return -1;
  }
  struct mu_buf path = MU_BUF_INIT;
  int rc = mu_buf_printf(&path, "/%s/", f[2]);
  if (!rc)
    rc = mu_uri_encode(&path, f[3], 1);
  struct mu_sigv4_req q = {
      .method = f[0], .path = path.p, .query = strcmp(f[4], "-") ? f[4] : NULL,
      .headers = h, .nheaders = (size_t)nh, .payload_hash = MU_EMPTY_SHA256,
      .amz_date = f[5], .region = f[6], .service = "s3", .access_key_id = f[7],
      .secret_access_key = f[8], .session_token = strcmp(f[9], "-") ? f[9] : NULL,
  };
  struct mu_sigv4_out o;
  if (!rc)
    rc = mu_sigv4_sign(&q, &o);
  mu_buf_free(&path);
  if (rc) {
    fprintf(stderr, "sigv4_tool: line %ld: signing failed (%d)\n", lineno, rc);
    return -1;
  }
  put_escaped("AUTH", o.authorization);
  put_escaped("CR", o.canonical_request);
  put_escaped("STS", o.string_to_sign);
  mu_sigv4_out_free(&o);
  return 0;
}

int main(void) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  long lineno = 0;
  int rc = 0;
  while (rc == 0 && (n = getline(&line, &cap, stdin)) >= 0) {
    lineno++;
    if (n > 0 && line[n - 1] == '\n')
      line[--n] = '\0';
    if (n > 0)
      rc = sign_line(line, lineno);
  }
  free(line);
  return fflush(stdout) == 0 && rc == 0 ? 0 : 1;
}
