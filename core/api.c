/*
 * api.c - the public functions: argument checks, the thread's error detail,
 * and error counting around the internal modules. Must never abort or print;
 * failures are returned as codes.
 */
#include "mmapurl.h"

#include <stdlib.h>

#include "s3/client.h"
#include "s3/s3.h"
#include "util/config.h"
#include "util/error.h"
#include "util/stats.h"

struct mmapurl_object {
  struct mu_s3_object *o;
};

/* Count a failure and pass its code on. */
static int failed(int rc) {
  if (rc)
    mu_stat_add(MU_STAT_ERRORS, 1);
  return rc;
}

const char *mmapurl_errdetail(void) { return mu_err_detail(); }

int mmapurl_object_open(const char *url, mmapurl_object **out) {
  mu_err_clear();
  if (!out)
    return failed(mu_fail(MMAPURL_E_INVALID_ARG, "mmapurl_object_open: out is NULL"));
  *out = NULL;
  const struct mu_client *c;
  int rc = mu_client_get(&c);
  if (rc)
    return failed(rc);
  mmapurl_object *h = malloc(sizeof *h);
  if (!h)
    return failed(MMAPURL_E_NOMEM);
  rc = mu_s3_open(url, c->cfg->block_size, &h->o);
  if (rc) {
    free(h);
    return failed(rc);
  }
  mu_stat_add(MU_STAT_OBJECTS_OPENED, 1);
  *out = h;
  return 0;
}

uint64_t mmapurl_object_size(const mmapurl_object *obj) { return obj ? obj->o->size : 0; }

const char *mmapurl_object_etag(const mmapurl_object *obj) { return obj ? obj->o->etag : ""; }

int mmapurl_object_read(mmapurl_object *obj, void *buf, size_t len, uint64_t off) {
  mu_err_clear();
  if (!obj || (!buf && len))
    return failed(mu_fail(MMAPURL_E_INVALID_ARG, "mmapurl_object_read: NULL handle or buffer"));
  return failed(mu_s3_read(obj->o, buf, len, off));
}

void mmapurl_object_close(mmapurl_object *obj) {
  if (!obj)
    return;
  mu_s3_close(obj->o);
  free(obj);
}
