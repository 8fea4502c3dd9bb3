/*
 * thread.c - the library's threads start with every signal blocked. They
 * inherit the mask of whichever thread starts them: the first opener, an
 * application thread whose read() queued a fetch, a fault reader. With
 * signals open, a signal meant for the application (SIGINT, SIGTERM,
 * SIGCHLD, a timer) could run its handler on one of our threads, and a
 * program that blocks signals everywhere but in one sigwait() thread would
 * lose them to ours. Faults on our own threads are not blockable anyway
 * (the kernel delivers them regardless), and libcurl is used with
 * CURLOPT_NOSIGNAL.
 * Must never: leave the calling thread's mask changed.
 */
#include "util/thread.h"

#include <signal.h>

int mu_thread_start(pthread_t *t, void *(*fn)(void *), void *arg) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(t, NULL, fn, arg);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return rc;
}
