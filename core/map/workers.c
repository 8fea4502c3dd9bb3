/*
 * workers.c - the fetch worker pool: up to N pthreads taking jobs from two
 * FIFO queues, urgent first. One thread starts with the pool; another is
 * started when a job is queued while more jobs wait than threads idle (32
 * threads started at the first open took 0.5 ms of a 1.5 ms first byte:
 * two CPUs, the new threads starting up beside the opening one). Jobs run
 * without the pool lock. The pool must never run a job twice, drop a
 * queued job, or hold its lock while a job runs.
 */
#include "map/workers.h"

#include <pthread.h>
#include <stdlib.h>

#include "util/error.h"
#include "util/log.h"
#include "util/thread.h"

/* `lock` guards every field; workers sleep on `cv`. */
static struct {
  pthread_mutex_t lock;
  pthread_cond_t cv;
  struct mu_job *head[2], *tail[2]; /* [0] urgent, [1] readahead */
  size_t queued;                    /* jobs in the queues */
  size_t idle;                      /* threads waiting on cv */
  pthread_t *threads;               /* max of them */
  size_t nthreads, max;
  int stopping;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

/* Pop the first job, urgent queue first; NULL if both are empty. */
static struct mu_job *pop_locked(void) {
  for (int q = 0; q < 2; q++) {
    struct mu_job *j = pool.head[q];
    if (j) {
      pool.head[q] = j->next;
      if (!pool.head[q])
        pool.tail[q] = NULL;
      j->next = NULL;
      pool.queued--;
      return j;
    }
  }
  return NULL;
}

/* The calling worker's scratch buffer (see workers.h). */
static __thread char *scratch;
static __thread size_t scratch_cap;

void *mu_pool_scratch(size_t cap) {
  if (cap <= scratch_cap)
    return scratch;
  free(scratch);
  scratch_cap = 0;
  if (posix_memalign((void **)&scratch, 4096, cap) != 0) {
    scratch = NULL;
    return NULL;
  }
  scratch_cap = cap;
  return scratch;
}

void mu_pool_scratch_free(void) {
  free(scratch);
  scratch = NULL;
  scratch_cap = 0;
}

static void *worker_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&pool.lock);
  for (;;) {
    struct mu_job *j = pop_locked();
    if (j) {
      pthread_mutex_unlock(&pool.lock);
      j->run(j);
      pthread_mutex_lock(&pool.lock);
    } else if (pool.stopping) {
      break;
    } else {
      pool.idle++;
      pthread_cond_wait(&pool.cv, &pool.lock);
      pool.idle--;
    }
  }
  pthread_mutex_unlock(&pool.lock);
  mu_pool_scratch_free();
  return NULL;
}

/* Under the pool lock: start one more thread (signals blocked). 0, or
 * pthread_create's error. */
static int spawn_locked(void) {
  int rc = mu_thread_start(&pool.threads[pool.nthreads], worker_main, NULL);
  if (rc == 0)
    pool.nthreads++;
  return rc;
}

int mu_pool_start(size_t n) {
  pthread_mutex_lock(&pool.lock);
  int rc = 0;
  if (!pool.threads && n > 0) {
    pool.threads = calloc(n, sizeof *pool.threads);
    pool.max = n;
    pool.stopping = 0;
    if (!pool.threads)
      rc = mu_fail(MMAPURL_E_NOMEM, "worker pool: %zu threads", n);
    else if (spawn_locked() != 0)
      rc = mu_fail(MMAPURL_E_INTERNAL, "worker pool: pthread_create failed");
  }
  pthread_mutex_unlock(&pool.lock);
  if (rc != 0)
    mu_pool_stop();
  return rc;
}

void mu_pool_stop(void) {
  pthread_mutex_lock(&pool.lock);
  pool.stopping = 1;
  pthread_cond_broadcast(&pool.cv);
  pthread_t *threads = pool.threads;
  size_t n = pool.nthreads;
  pthread_mutex_unlock(&pool.lock);
  for (size_t i = 0; i < n; i++)
    pthread_join(threads[i], NULL);
  pthread_mutex_lock(&pool.lock);
  free(pool.threads);
  pool.threads = NULL;
  pool.nthreads = pool.max = 0;
  pthread_mutex_unlock(&pool.lock);
}

void mu_pool_push(struct mu_job *job, int urgent) {
  int q = urgent ? 0 : 1;
  job->next = NULL;
  pthread_mutex_lock(&pool.lock);
  if (pool.tail[q])
    pool.tail[q]->next = job;
  else
    pool.head[q] = job;
  pool.tail[q] = job;
  pool.queued++;
  /* More jobs than threads waiting for one: a thread more (if that fails,
   * the running ones take the job in turn). */
  if (pool.queued > pool.idle && pool.nthreads < pool.max && !pool.stopping &&
      spawn_locked() != 0)
    MU_DEBUG("worker pool: no thread %zu (pthread_create failed)", pool.nthreads + 1);
  pthread_cond_signal(&pool.cv);
  pthread_mutex_unlock(&pool.lock);
}

int mu_pool_cancel(const struct mu_job *job) {
  int found = 0;
  pthread_mutex_lock(&pool.lock);
  for (int q = 0; q < 2 && !found; q++) {
    struct mu_job *prev = NULL;
    for (struct mu_job *j = pool.head[q]; j; prev = j, j = j->next) {
      if (j != job)
        continue;
      if (prev)
        prev->next = j->next;
      else
        pool.head[q] = j->next;
      if (pool.tail[q] == j)
        pool.tail[q] = prev;
      pool.queued--;
      found = 1;
      break;
    }
  }
  pthread_mutex_unlock(&pool.lock);
  return found;
}

void mu_pool_forget_in_child(void) {
  /* The child has one thread; the parent's workers and jobs are not ours. */
  pthread_mutex_init(&pool.lock, NULL);
  pthread_cond_init(&pool.cv, NULL);
  pool.head[0] = pool.head[1] = pool.tail[0] = pool.tail[1] = NULL;
  pool.queued = pool.idle = 0;
  pool.threads = NULL; /* leaked on purpose: freeing parent state is unsafe */
  pool.nthreads = pool.max = 0;
  pool.stopping = 0;
}
