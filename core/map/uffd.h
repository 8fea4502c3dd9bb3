/*
 * uffd.h - the process's one userfaultfd: opening it (with privilege
 * fallbacks), the mode in use, and the ioctls that install, poison and wake
 * pages. Never blocks on I/O; the fd is opened once and never closed while a
 * mapping may be registered with it (a closed uffd turns faults into zeros).
 */
#ifndef MU_MAP_UFFD_H
#define MU_MAP_UFFD_H

#include <stddef.h>

/* How the fd was obtained, in the order tried. */
enum mu_uffd_mode {
  MU_UFFD_NONE = 0,      /* not opened (yet), or not permitted */
  MU_UFFD_SYSCALL = 1,   /* userfaultfd(2), full features (kernel faults too) */
  MU_UFFD_DEVICE = 2,    /* /dev/userfaultfd USERFAULTFD_IOC_NEW, full features */
  MU_UFFD_USER_ONLY = 3  /* UFFD_USER_MODE_ONLY: faults inside syscalls get EFAULT */
};

/* Open the fd once per process (later calls return the first result).
 * 0, or MMAPURL_E_UFFD_UNAVAILABLE with a detail naming each refusal. */
int mu_uffd_open(void);
/* The fd (-1 before a successful mu_uffd_open). */
int mu_uffd_fd(void);
/* The mode in use; MU_UFFD_NONE before mu_uffd_open or after it failed. */
enum mu_uffd_mode mu_uffd_mode(void);
/* "syscall", "device", "user-mode-only" or "none". */
const char *mu_uffd_mode_name(enum mu_uffd_mode mode);
/* Whether UFFDIO_POISON is available (Linux 6.6+): failed pages then SIGBUS
 * every toucher; otherwise the caller signals the faulting threads itself. */
int mu_uffd_has_poison(void);

/* Never use UFFDIO_POISON: fail with targeted SIGBUS as older kernels do
 * (tests of that path; a kernel whose poison misbehaves). Before the first
 * mapping. */
void mu_uffd_disable_poison(void);

/* Register [addr, addr+len) (page-aligned) for MISSING faults. 0 or -errno. */
int mu_uffd_register(void *addr, size_t len);
/* Unregister; wakes every thread blocked on the range. 0 or -errno. */
int mu_uffd_unregister(void *addr, size_t len);
/* Install len bytes (page multiple) from src at dst and wake waiters. Pages
 * already present are skipped (EEXIST), EAGAIN resumes. 0 or -errno. */
int mu_uffd_copy(void *dst, const void *src, size_t len);
/* Mark [dst, dst+len) poisoned (touch = SIGBUS) and wake waiters; present
 * pages are skipped. 0, -errno, or -ENOSYS without poison support. */
int mu_uffd_poison(void *dst, size_t len);
/* Wake threads blocked on [dst, dst+len) so they retry their fault. */
void mu_uffd_wake(void *dst, size_t len);

/* In a forked child: the inherited fd belongs to the parent's address space;
 * forget it and open a fresh one (0 or MMAPURL_E_UFFD_UNAVAILABLE). */
int mu_uffd_reopen_in_child(void);
/* In a forked child that cannot serve faults: close the fd (mappings then
 * fail loudly instead of registering with a fd nobody reads). */
void mu_uffd_close_in_child(void);

#endif
