/*
 * creds.h - the credential and region chain, as the AWS CLI resolves them:
 *   credentials: environment (AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
 *   [+ AWS_SESSION_TOKEN]) > shared credentials file [profile] > shared config
 *   file [profile NAME] (or [default]); anonymous when AWS_NO_SIGN_REQUEST.
 *   region: AWS_REGION > AWS_DEFAULT_REGION > profile "region" in the config
 *   file > us-east-1.
 * Never logs or puts secret values in error details.
 */
#ifndef MU_CREDS_H
#define MU_CREDS_H

struct mu_config;

struct mu_creds {
  int anonymous;           /* 1: send unsigned requests */
  char *access_key_id;     /* owned; NULL when anonymous */
  char *secret_access_key; /* owned; NULL when anonymous */
  char *session_token;     /* owned; NULL when none */
  const char *source;      /* static text: "environment", "credentials file", ... */
};

/* Resolve credentials and region from cfg (which names the files to read).
 * Returns 0, or MMAPURL_E_NO_CREDENTIALS with a detail listing every place
 * looked at, or MMAPURL_E_CREDENTIALS_FILE for a malformed file or a profile
 * that has only half a key pair. *region_out is always set on success
 * (owned by the caller). */
int mu_creds_resolve(const struct mu_config *cfg, struct mu_creds *out, char **region_out);
/* Wipe and free. */
void mu_creds_free(struct mu_creds *c);

#endif
