/*
 * workers.h - the process's fetch workers: a small pool of threads that run
 * queued jobs (blocking fetches, then page installs). Demand jobs (a thread
 * is waiting) run before readahead jobs. The pool never looks inside a job.
 */
#ifndef MU_MAP_WORKERS_H
#define MU_MAP_WORKERS_H

#include <stddef.h>

/* A queued unit of work; embedded in the owner's struct, which it belongs to
 * (the pool never frees it). `next` is the pool's, under the pool lock. */
struct mu_job {
  void (*run)(struct mu_job *job);
  struct mu_job *next;
};

/* Start the pool, of up to n threads: one now, another whenever a job is
 * queued while more jobs wait than threads do (no-op if running). 0 or
 * MMAPURL_E_NOMEM/INTERNAL. */
int mu_pool_start(size_t n);
/* Run the queued jobs, then stop and join every thread. */
void mu_pool_stop(void);
/* Queue a job: urgent ones (a fault waits) ahead of all readahead. */
void mu_pool_push(struct mu_job *job, int urgent);
/* Remove a job not yet started: 1 if removed (the caller owns it again),
 * 0 if a worker already took it. */
int mu_pool_cancel(const struct mu_job *job);
/* On a worker in a job, or a fault reader running a fetch: a page-aligned
 * buffer of at least cap bytes, the thread's own, kept for its next jobs
 * (allocating and faulting in a new one per fetch cost more than the copy
 * into it); valid until the thread's next call. NULL when out of memory. */
void *mu_pool_scratch(size_t cap);
/* The calling thread is done: free its scratch buffer (at thread exit). */
void mu_pool_scratch_free(void);
/* In a forked child: forget the parent's threads and queue (they do not
 * exist here); the caller starts a new pool. */
void mu_pool_forget_in_child(void);

#endif
