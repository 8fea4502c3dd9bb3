/*
 * client.h - the process-wide S3 client: configuration, the HTTP transport
 * and (for s3:// URLs only) credentials and region, each set up once, on
 * first use, from any thread. Failures are sticky: the same error (and
 * detail) on every later call, since the environment does not change.
 */
#ifndef MU_CLIENT_H
#define MU_CLIENT_H

struct mu_config;
struct mu_http;
struct mu_creds;

struct mu_client {
  const struct mu_config *cfg;
  struct mu_http *http;
};

/* Configuration and transport. 0 or an MMAPURL_E_* code (detail set). */
int mu_client_get(const struct mu_client **out);
/* Credentials and default region for S3 requests. The pointers live for
 * the rest of the process. 0 or an MMAPURL_E_* code (detail set). */
int mu_client_creds(const struct mu_creds **creds, const char **region);

#endif
