/*
 * thread.h - starting the library's own threads (fault readers, fetch
 * workers) with every signal blocked.
 */
#ifndef MU_THREAD_H
#define MU_THREAD_H

#include <pthread.h>

/* pthread_create(t, NULL, fn, arg), the new thread with every signal
 * blocked; the caller's mask is left as it was. 0 or pthread_create's
 * error (the caller's mask restored either way). */
int mu_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

#endif
