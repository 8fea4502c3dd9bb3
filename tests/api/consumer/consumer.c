/* consumer - links the installed libmmapurl through find_package. */
#include <mmapurl.h>
#include <stdio.h>

int main(void) {
  mmapurl_object *o;
  int rc = mmapurl_object_open("s3://", &o);
  printf("consumer: %s\n", mmap_s3_errstr(rc));
  return rc == MMAPURL_E_URL ? 0 : 1;
}
