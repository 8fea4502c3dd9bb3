/*
 * client.c - process-wide, lazily built S3 client state (configuration,
 * transport, credentials). Must never re-read the environment after the
 * first use, and never put a credential in an error detail.
 */
#include "s3/client.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "auth/creds.h"
#include "http/http.h"
#include "util/config.h"
#include "util/error.h"

static pthread_once_t client_once = PTHREAD_ONCE_INIT;
static struct mu_client client;
static int client_rc;
static char client_detail[512];

static pthread_once_t creds_once = PTHREAD_ONCE_INIT;
static struct mu_creds creds;
static char *region;
static int creds_rc;
static char creds_detail[512];

static void client_init(void) {
  const struct mu_config *cfg;
  client_rc = mu_config_get(&cfg);
  if (client_rc == 0) {
    struct mu_http_opts o = {
        .connect_timeout_ms = cfg->connect_timeout_ms,
        .stall_timeout_ms = cfg->stall_timeout_ms,
        .max_connections = cfg->max_connections,
        .ca_bundle = cfg->ca_bundle,
    };
    client.cfg = cfg;
    client_rc = mu_http_create(&o, &client.http);
  }
  snprintf(client_detail, sizeof client_detail, "%s", mu_err_detail());
}

int mu_client_get(const struct mu_client **out) {
  pthread_once(&client_once, client_init);
  if (client_rc)
    return mu_fail(client_rc, "%s", client_detail);
  *out = &client;
  return 0;
}

static void creds_init(void) {
  const struct mu_client *c;
  creds_rc = mu_client_get(&c);
  if (creds_rc == 0)
    creds_rc = mu_creds_resolve(c->cfg, &creds, &region);
  snprintf(creds_detail, sizeof creds_detail, "%s", mu_err_detail());
}

int mu_client_creds(const struct mu_creds **out, const char **region_out) {
  pthread_once(&creds_once, creds_init);
  if (creds_rc)
    return mu_fail(creds_rc, "%s", creds_detail);
  *out = &creds;
  *region_out = region;
  return 0;
}
