/*
 * real.c - the definitions our interposers stand in front of, found once
 * with dlsym(RTLD_NEXT) (libc's, or another preloaded library's).
 * Must never call an interposed function (it runs before the shim is
 * ready) and never fail loudly: a name libc lacks stays NULL and its
 * interposer reports ENOSYS.
 */
#include <dlfcn.h>
#include <pthread.h>

#include "shim.h"

struct shim_real shim_real;

static pthread_once_t real_once = PTHREAD_ONCE_INIT;

#define RESOLVE(f) (*(void **)&shim_real.f = dlsym(RTLD_NEXT, #f))

static void resolve(void) {
  RESOLVE(open);
  RESOLVE(openat);
  RESOLVE(close);
  RESOLVE(close_range);
  RESOLVE(closefrom);
  RESOLVE(dup);
  RESOLVE(dup2);
  RESOLVE(dup3);
  RESOLVE(fcntl);
  RESOLVE(read);
  RESOLVE(pread);
  RESOLVE(readv);
  RESOLVE(preadv);
  RESOLVE(preadv2);
  RESOLVE(write);
  RESOLVE(pwrite);
  RESOLVE(writev);
  RESOLVE(pwritev);
  RESOLVE(pwritev2);
  RESOLVE(sendmsg);
  RESOLVE(send);
  RESOLVE(sendto);
  RESOLVE(lseek);
  RESOLVE(fstatat);
  RESOLVE(statx);
  RESOLVE(faccessat);
  RESOLVE(realpath);
  RESOLVE(readlinkat);
  RESOLVE(mmap);
  RESOLVE(munmap);
  RESOLVE(mremap);
  RESOLVE(madvise);
  RESOLVE(posix_fadvise);
  RESOLVE(readahead);
  RESOLVE(copy_file_range);
  RESOLVE(sendfile);
  RESOLVE(splice);
  RESOLVE(fopen);
  RESOLVE(freopen);
  RESOLVE(fdopen);
  RESOLVE(opendir);
  RESOLVE(fdopendir);
  RESOLVE(readdir);
  RESOLVE(readdir64);
  RESOLVE(closedir);
  RESOLVE(rewinddir);
  RESOLVE(telldir);
  RESOLVE(seekdir);
  RESOLVE(dirfd);
  RESOLVE(execve);
  RESOLVE(execvpe);
  RESOLVE(fexecve);
  RESOLVE(posix_spawn);
  RESOLVE(posix_spawnp);
}

void shim_real_init(void) { pthread_once(&real_once, resolve); }
