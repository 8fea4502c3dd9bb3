/*
 * testlib.h - shared helpers of the integration tests: the fixture
 * manifest (key, local copy, size), whole-file reads of local copies, and
 * the fault endpoint's control API. Test-only; header-only.
 */
#ifndef MU_TESTLIB_H
#define MU_TESTLIB_H

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mmapurl.h"

#define TL_BUCKET "mmapurl-test"
#define TL_MAX_OBJECTS 64

struct tl_object {
  char key[512];
  char path[1024];
  uint64_t size;
};

struct tl_manifest {
  struct tl_object o[TL_MAX_OBJECTS];
  int n;
};

/* Load manifest.tsv (key TAB local-path TAB size). Exits 1 on failure. */
static inline void tl_manifest_load(const char *file, struct tl_manifest *m) {
  FILE *f = fopen(file, "r");
  char line[2048];
  m->n = 0;
  if (!f) {
    perror(file);
    exit(1);
  }
  while (fgets(line, sizeof line, f) && m->n < TL_MAX_OBJECTS) {
    struct tl_object *o = &m->o[m->n];
    char *k = line, *p = strchr(k, '\t'), *s = p ? strchr(p + 1, '\t') : NULL;
    if (!p || !s)
      continue;
    *p++ = '\0';
    *s++ = '\0';
    snprintf(o->key, sizeof o->key, "%.*s", (int)sizeof o->key - 1, k);
    snprintf(o->path, sizeof o->path, "%.*s", (int)sizeof o->path - 1, p);
    o->size = strtoull(s, NULL, 10);
    m->n++;
  }
  fclose(f);
  if (m->n == 0) {
    fprintf(stderr, "%s: no objects\n", file);
    exit(1);
  }
}

/* The manifest entry for key, or exit 1. */
static inline const struct tl_object *tl_find(const struct tl_manifest *m, const char *key) {
  for (int i = 0; i < m->n; i++)
    if (strcmp(m->o[i].key, key) == 0)
      return &m->o[i];
  fprintf(stderr, "manifest has no key %s\n", key);
  exit(1);
}

/* The whole local copy in a malloc'd buffer (at least 1 byte). */
static inline unsigned char *tl_read_file(const char *path, uint64_t size) {
  unsigned char *b = malloc(size ? size : 1);
  FILE *f = fopen(path, "rb");
  if (!b || !f || fread(b, 1, size, f) != size) {
    perror(path);
    exit(1);
  }
  fclose(f);
  return b;
}

static inline void tl_url(char *out, size_t cap, const char *key) {
  snprintf(out, cap, "s3://%s/%s", TL_BUCKET, key);
}

static size_t tl_sink(char *p, size_t s, size_t n, void *u) {
  (void)p, (void)u;
  return s * n;
}

/* POST body to the fault endpoint's control path (e.g. "/__fault").
 * Returns the HTTP status. The control URL comes from MU_TEST_CONTROL_URL. */
static inline long tl_control(const char *path, const char *json) {
  const char *base = getenv("MU_TEST_CONTROL_URL");
  char url[512];
  long status = 0;
  if (!base) {
    fprintf(stderr, "MU_TEST_CONTROL_URL is not set\n");
    exit(1);
  }
  snprintf(url, sizeof url, "%s%s", base, path);
  CURL *c = curl_easy_init();
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, json ? json : "{}");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, tl_sink);
  if (curl_easy_perform(c) == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return status;
}

/* Print the library's error for a failed call (for test logs). */
static inline void tl_explain(const char *what, int rc) {
  if (rc)
    fprintf(stderr, "%s: error %d: %s [%s]\n", what, rc, mmap_s3_errstr(rc), mmapurl_errdetail());
}

#endif
