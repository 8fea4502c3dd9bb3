/* test_s3_auth - credential failures give their own codes and messages,
 * and a session token is signed correctly. Each mode changes the
 * environment before the library's first call (the configuration is read
 * once per process).
 * usage: test_s3_auth MANIFEST MODE
 *   badkey    unknown access key id      -> MMAPURL_E_INVALID_KEY_ID
 *   badsecret wrong secret (verifier)    -> MMAPURL_E_SIGNATURE
 *   nocreds   nothing configured         -> MMAPURL_E_NO_CREDENTIALS
 *   anonymous unsigned request (verifier)-> MMAPURL_E_ACCESS_DENIED
 *   token     session token (verifier)   -> success, byte-exact
 *   profile   credentials from a profile file (verifier) -> success */
#include <unistd.h>

#include "testlib.h"

static int open_first(const struct tl_manifest *m, mmapurl_object **h) {
  char url[1024];
  tl_url(url, sizeof url, tl_find(m, "size-4097")->key);
  int rc = mmapurl_object_open(url, h);
  tl_explain(url, rc);
  return rc;
}

static void expect_error(const struct tl_manifest *m, int want, const char *msg_part) {
  mmapurl_object *h = NULL;
  CHECK_INT(open_first(m, &h), want);
  CHECK(h == NULL);
  CHECK(strstr(mmap_s3_errstr(want), msg_part) != NULL);
}

static void expect_success(const struct tl_manifest *m) {
  const struct tl_object *o = tl_find(m, "size-4097");
  unsigned char *want = tl_read_file(o->path, o->size), buf[4097];
  mmapurl_object *h = NULL;
  CHECK_INT(open_first(m, &h), 0);
  if (h) {
    CHECK_INT(mmapurl_object_read(h, buf, sizeof buf, 0), 0);
    CHECK(memcmp(buf, want, sizeof buf) == 0);
    mmapurl_object_close(h);
  }
  free(want);
}

/* Move the environment's keys into a profile of a temporary credentials file. */
static void use_profile_file(char *dir) {
  char path[1100];
  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/credentials", dir);
  FILE *f = fopen(path, "w");
  fprintf(f, "[default]\naws_access_key_id = nobody\naws_secret_access_key = x\n\n"
             "[testing]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
          getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"));
  fclose(f);
  setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
  setenv("AWS_PROFILE", "testing", 1);
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MANIFEST MODE\n", argv[0]);
    return 2;
  }
  static struct tl_manifest m;
  char dir[] = "/tmp/mmapurl-auth-XXXXXX";
  tl_manifest_load(argv[1], &m);
  const char *mode = argv[2];
  if (!strcmp(mode, "badkey")) {
    setenv("AWS_ACCESS_KEY_ID", "AKIDNOBODYKNOWS", 1);
    expect_error(&m, MMAPURL_E_INVALID_KEY_ID, "AWS_ACCESS_KEY_ID");
  } else if (!strcmp(mode, "badsecret")) {
    setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret", 1);
    expect_error(&m, MMAPURL_E_SIGNATURE, "AWS_SECRET_ACCESS_KEY");
    /* the secret never appears in the detail */
    CHECK(strstr(mmapurl_errdetail(), "not-the-secret") == NULL);
  } else if (!strcmp(mode, "nocreds")) {
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_PROFILE");
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent/config", 1);
    expect_error(&m, MMAPURL_E_NO_CREDENTIALS, "AWS_ACCESS_KEY_ID");
    /* the detail lists where it looked */
    CHECK(strstr(mmapurl_errdetail(), "/nonexistent/credentials") != NULL);
  } else if (!strcmp(mode, "anonymous")) {
    setenv("AWS_NO_SIGN_REQUEST", "true", 1);
    expect_error(&m, MMAPURL_E_ACCESS_DENIED, "access denied");
  } else if (!strcmp(mode, "token")) {
    setenv("AWS_SESSION_TOKEN", "FQoGZXIvYXdzEJr//////////wEaDAbcd+/=token", 1);
    expect_success(&m);
  } else if (!strcmp(mode, "profile")) {
    use_profile_file(dir);
    expect_success(&m);
  } else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  if (!strcmp(mode, "profile")) {
    char path[1100];
    snprintf(path, sizeof path, "%s/credentials", dir);
    unlink(path);
    rmdir(dir);
  }
  return check_done();
}
