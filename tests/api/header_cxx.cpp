// header_cxx - the public header compiles as C++ and its API is usable
// there (linkage, enum, struct, opaque handle).
#include <mmapurl.h>

#include <cstdio>
#include <cstring>

int main() {
  // messages are reachable from C++ with C linkage
  const char *m = mmap_s3_errstr(MMAPURL_E_NO_SUCH_KEY);
  mmapurl_stats st;
  mmapurl_stats_get(&st);
  mmapurl_object *obj = nullptr;
  // a malformed URL fails before any network use
  int rc = mmapurl_object_open("not-a-url", &obj);
  if (rc != MMAPURL_E_URL || obj != nullptr || std::strlen(m) == 0) {
    std::fprintf(stderr, "unexpected: rc=%d\n", rc);
    return 1;
  }
  return 0;
}
