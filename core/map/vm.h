/*
 * vm.h - the mapping layer's memory system calls, made with syscall(2).
 * Inside libmmapurl_shim.so the libc names mmap, munmap and madvise are the
 * shim's own interposers, which may take a mapping's lock (a view's
 * madvise becomes mu_map_advise): the core calling them while holding that
 * lock would deadlock. These never go through any interposer.
 * Must never be replaced by the libc names in core/map.
 */
#ifndef MU_MAP_VM_H
#define MU_MAP_VM_H

#include <errno.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* mmap(2); MAP_FAILED and errno on failure. */
static inline void *mu_vm_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  long r = syscall(SYS_mmap, addr, len, prot, flags, fd, off);
  return r == -1 ? MAP_FAILED : (void *)r;
}
static inline int mu_vm_munmap(void *addr, size_t len) {
  return (int)syscall(SYS_munmap, addr, len);
}
static inline int mu_vm_madvise(void *addr, size_t len, int advice) {
  return (int)syscall(SYS_madvise, addr, len, advice);
}
static inline int mu_vm_mprotect(void *addr, size_t len, int prot) {
  return (int)syscall(SYS_mprotect, addr, len, prot);
}

#endif
