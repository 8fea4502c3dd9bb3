/* test_s3_address - endpoint and addressing style: virtual-hosted for AWS
 * and DNS-compatible buckets, path-style for custom endpoints and dotted
 * names, overrides, and keys encoded once per segment. */
#include "check.h"
#include "mmapurl.h"
#include "s3/s3.h"
#include "util/config.h"

static void addr(const char *ep, const char *region, int mode, const char *bucket,
                 const char *key, const char *want_base, const char *want_host,
                 const char *want_path) {
  char *base = NULL, *host = NULL, *path = NULL;
  CHECK_INT(mu_s3_address(ep, region, mode, bucket, key, &base, &host, &path), 0);
  CHECK_STR(base, want_base);
  CHECK_STR(host, want_host);
  CHECK_STR(path, want_path);
  free(base), free(host), free(path);
}

int main(void) {
  /* AWS endpoint, DNS-compatible bucket: virtual-hosted */
  addr(NULL, "eu-west-1", MU_ADDR_AUTO, "my-bucket", "a/b c.txt",
       "https://my-bucket.s3.eu-west-1.amazonaws.com", "my-bucket.s3.eu-west-1.amazonaws.com",
       "/a/b%20c.txt");
  /* AWS endpoint, dotted bucket: path-style (TLS wildcard cannot cover dots) */
  addr(NULL, "us-east-1", MU_ADDR_AUTO, "my.bucket", "k", "https://s3.us-east-1.amazonaws.com",
       "s3.us-east-1.amazonaws.com", "/my.bucket/k");
  /* custom endpoint: path-style, port kept in Host */
  addr("http://127.0.0.1:4568", "us-east-1", MU_ADDR_AUTO, "b-1", "x+y=z", "http://127.0.0.1:4568",
       "127.0.0.1:4568", "/b-1/x%2By%3Dz");
  /* custom endpoint with a base path */
  addr("http://minio.local:9000/s3", "us-east-1", MU_ADDR_AUTO, "bkt", "k",
       "http://minio.local:9000", "minio.local:9000", "/s3/bkt/k");
  /* overrides: virtual on a custom endpoint, path on AWS */
  addr("http://localhost:9000", "us-east-1", MU_ADDR_VIRTUAL, "bkt", "k",
       "http://bkt.localhost:9000", "bkt.localhost:9000", "/k");
  addr(NULL, "us-west-2", MU_ADDR_PATH, "bkt", "k", "https://s3.us-west-2.amazonaws.com",
       "s3.us-west-2.amazonaws.com", "/bkt/k");
  /* keys: reserved characters, UTF-8, leading/trailing/double slashes */
  addr("http://h:1", "r", MU_ADDR_PATH, "bkt", "/lead//double/trail/", "http://h:1", "h:1",
       "/bkt//lead//double/trail/");
  addr("http://h:1", "r", MU_ADDR_PATH, "bkt", "~(!*')%#?\xc3\xbc", "http://h:1", "h:1",
       "/bkt/~%28%21%2A%27%29%25%23%3F%C3%BC");
  /* a malformed endpoint is a configuration error */
  char *b, *h, *p;
  CHECK_INT(mu_s3_address("localhost:9000", "r", MU_ADDR_AUTO, "bkt", "k", &b, &h, &p),
            MMAPURL_E_CONFIG);
  return check_done();
}
