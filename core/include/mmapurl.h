/*
 * mmapurl.h - the public API of libmmapurl.
 *
 * libmmapurl reads S3 objects (and any HTTP(S) resource that honours Range)
 * lazily, with ranged GETs over a shared keep-alive connection pool, SigV4
 * signing, retries with backoff, and errors that say what to do.
 *
 * This header is the only one installed. It compiles as C and as C++.
 * Every function is thread-safe unless its comment says otherwise.
 *
 * CONFIGURATION
 *   Read once from the environment, at the first call into the library; see
 *   the table in README.md (AWS_* variables and MMAPURL_*). An invalid value is
 *   reported as MMAPURL_E_CONFIG by the first call that needs it.
 *
 * ERRORS
 *   Functions return 0 (MMAPURL_OK) or one of the codes below. The numbers are
 *   stable and never reused. mmap_s3_errstr(code) gives a sentence telling the
 *   user what to do; mmapurl_errdetail() gives the specifics of this thread's
 *   last failure (HTTP status, S3 error code, bucket and key). Neither ever
 *   contains a secret.
 */
#ifndef MMAPURL_H
#define MMAPURL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h> /* MAP_FAILED, which mmap_s3 returns on failure */

#ifdef __cplusplus
extern "C" {
#endif

#if defined(MMAPURL_BUILDING)
#define MMAPURL_API __attribute__((visibility("default")))
#else
#define MMAPURL_API
#endif

/* Error codes. Stable numbers: append, never renumber. */
enum mmapurl_error {
  MMAPURL_OK = 0,
  MMAPURL_E_URL = 1,              /* the URL is malformed (bucket, key, scheme) */
  MMAPURL_E_CONFIG = 2,           /* an environment variable has an invalid value */
  MMAPURL_E_NO_CREDENTIALS = 3,   /* no AWS credentials were found */
  MMAPURL_E_CREDENTIALS_FILE = 4, /* a credentials/config file is malformed */
  MMAPURL_E_NO_SUCH_KEY = 5,      /* 404 NoSuchKey (or 404 on a plain URL) */
  MMAPURL_E_NO_SUCH_BUCKET = 6,   /* 404 NoSuchBucket */
  MMAPURL_E_ACCESS_DENIED = 7,    /* 403 AccessDenied */
  MMAPURL_E_INVALID_KEY_ID = 8,   /* 403 InvalidAccessKeyId: unknown access key */
  MMAPURL_E_SIGNATURE = 9,        /* 403 SignatureDoesNotMatch: wrong secret key */
  MMAPURL_E_TOKEN_EXPIRED = 10,   /* ExpiredToken / InvalidToken */
  MMAPURL_E_CLOCK_SKEW = 11,      /* RequestTimeTooSkewed */
  MMAPURL_E_WRONG_REGION = 12,    /* bucket lives in another region */
  MMAPURL_E_OBJECT_CHANGED = 13,  /* 412: the object was replaced while open */
  MMAPURL_E_THROTTLED = 14,       /* 503 SlowDown / 429, retries exhausted */
  MMAPURL_E_NETWORK = 15,         /* connection failed or broke, retries exhausted */
  MMAPURL_E_TIMEOUT = 16,         /* connect or stall timeout, retries exhausted */
  MMAPURL_E_TLS = 17,             /* TLS handshake or certificate verification */
  MMAPURL_E_SERVER = 18,          /* 5xx, retries exhausted */
  MMAPURL_E_HTTP = 19,            /* another unexpected HTTP status */
  MMAPURL_E_PROTOCOL = 20,        /* a malformed or inconsistent response */
  MMAPURL_E_RANGE = 21,           /* read past the end of the object */
  MMAPURL_E_NOMEM = 22,           /* out of memory */
  MMAPURL_E_INVALID_ARG = 23,     /* a NULL or out-of-range argument */
  MMAPURL_E_INTERNAL = 24,        /* a bug in mmapurl: please report it */
  MMAPURL_E_UFFD_UNAVAILABLE = 25, /* userfaultfd not permitted (sysctl, seccomp) */
  MMAPURL_E_LIBRARY = 26           /* libcurl or libcrypto could not be loaded */
};

/*
 * mmap_s3_errstr - what an error code means and what to do about it.
 * Returns a static string for every code, including unknown ones.
 */
MMAPURL_API const char *mmap_s3_errstr(int err);

/*
 * mmapurl_errdetail - specifics of the calling thread's last failure
 * (operation, bucket/key, HTTP status, S3 error code, request id), or "" when
 * none. Valid until this thread's next call into the library.
 */
MMAPURL_API const char *mmapurl_errdetail(void);

/* ---- Mappings: the whole object, pages fetched on first touch ------------ */

/*
 * mmap_s3 - map "s3://bucket/key" (or an http:// / https:// URL of a server
 * that honours Range) read-only, as one contiguous range of *size bytes.
 *
 *   size_t sz; int err;
 *   void *p = mmap_s3("s3://bucket/key", &sz, &err);
 *   if (p == MAP_FAILED) fprintf(stderr, "%s\n", mmap_s3_errstr(err));
 *
 * Nothing is downloaded but the first block (the opening request tells the
 * size and ETag). Each page is fetched on its first touch, through Linux
 * userfaultfd, in blocks (MMAPURL_BLOCK_SIZE); sequential access is detected
 * and read ahead in parallel (up to MMAPURL_READAHEAD_MAX). Memory of all
 * mappings stays under MMAPURL_CACHE_MAX: older pages are dropped and fetched
 * again if touched again. Writing to the mapping is a SIGSEGV (PROT_READ).
 *
 * When a page cannot be fetched after the retries (network down, object
 * replaced: every request carries If-Match), the thread touching it gets
 * SIGBUS, exactly as with a local file's mapping on an I/O error. The
 * library never aborts and never shows zeros in place of data.
 *
 * fork(): the child's mappings keep working (they are re-registered before
 * fork() returns in the child).
 *
 * Returns the address, or MAP_FAILED ((void *)-1) with *err set (a code of
 * enum mmapurl_error; MMAPURL_E_UFFD_UNAVAILABLE says how to permit
 * userfaultfd). size and err may be NULL. A 0-byte object gives a valid
 * address that must not be touched. Thread-safe.
 */
MMAPURL_API void *mmap_s3(const char *url, size_t *size, int *err);

/*
 * munmap_s3 - release a mapping made by mmap_s3 or mmapurl_map; ptr must be
 * the address they returned. Prompt: does not wait for downloads in flight.
 * Safe while other threads fault on the mapping: they get SIGBUS, never
 * zeros and never a hang; touching it afterwards is a SIGSEGV, as after
 * munmap. Returns 0, or MMAPURL_E_INVALID_ARG for an unknown address.
 */
MMAPURL_API int munmap_s3(void *ptr);

/* Per-mapping options; zero fields take the environment's settings. */
struct mmapurl_map_opts {
  size_t block_size;    /* fetch unit, a multiple of 4096 (MMAPURL_BLOCK_SIZE) */
  size_t readahead_max; /* largest readahead window (MMAPURL_READAHEAD_MAX) */
  int no_readahead;     /* 1: one block per fault, never ahead (random access) */
  size_t cache_max;     /* bytes this mapping may keep resident or in flight;
                           0: only MMAPURL_CACHE_MAX applies; a value below 4
                           blocks is raised to 4 blocks */
};

/* mmap_s3 with options (opts may be NULL). */
MMAPURL_API void *mmapurl_map(const char *url, const struct mmapurl_map_opts *opts,
                              size_t *size, int *err);

/* Access advice for mmapurl_advise, like madvise(2)'s. */
enum mmapurl_advice {
  MMAPURL_ADV_NORMAL = 0,     /* adaptive readahead (the default) */
  MMAPURL_ADV_SEQUENTIAL = 1, /* read ahead at the full window from the first fault */
  MMAPURL_ADV_RANDOM = 2,     /* no readahead: one block per fault */
  MMAPURL_ADV_WILLNEED = 3,   /* fetch the range now, in the background */
  MMAPURL_ADV_DONTNEED = 4    /* drop the range's pages (fetched again if touched) */
};

/*
 * mmapurl_advise - advise how [off, off+len) of the mapping at addr (as
 * returned by mmap_s3 / mmapurl_map) will be used. NORMAL, SEQUENTIAL and
 * RANDOM apply to the whole mapping; WILLNEED and DONTNEED to whole blocks
 * overlapping the range (clipped to the object). Never blocks on the
 * network. Returns 0 or MMAPURL_E_INVALID_ARG (unknown address or advice).
 */
MMAPURL_API int mmapurl_advise(void *addr, size_t off, size_t len, int advice);

/* ---- Objects: open once, read any range (pread semantics) ---------------- */

typedef struct mmapurl_object mmapurl_object;

/*
 * mmapurl_object_open - open "s3://bucket/key" (or an http:// / https:// URL
 * of a server that honours Range, such as a presigned URL).
 * Costs one request: a ranged GET of the first block, which tells the size
 * and ETag and keeps those bytes. Later reads carry If-Match: <ETag>, so a
 * replaced object fails with MMAPURL_E_OBJECT_CHANGED instead of mixing
 * versions. On success *out owns the handle; close it with
 * mmapurl_object_close. On failure *out is NULL.
 */
MMAPURL_API int mmapurl_object_open(const char *url, mmapurl_object **out);

/* Size of the object in bytes, as the first response reported it. */
MMAPURL_API uint64_t mmapurl_object_size(const mmapurl_object *obj);

/* The object's ETag (with its quotes), or "" if the server sent none. */
MMAPURL_API const char *mmapurl_object_etag(const mmapurl_object *obj);

/*
 * mmapurl_object_read - read exactly len bytes at offset off into buf.
 * A range that ends past the object fails with MMAPURL_E_RANGE (reading
 * nothing); len 0 succeeds. Transient failures are retried with backoff
 * (AWS_MAX_ATTEMPTS). Safe to call from many threads on one handle.
 */
MMAPURL_API int mmapurl_object_read(mmapurl_object *obj, void *buf, size_t len,
                                    uint64_t off);

/* Release the handle. NULL is allowed. */
MMAPURL_API void mmapurl_object_close(mmapurl_object *obj);

/* ---- Statistics ---------------------------------------------------------- */

/* Process-wide counters since the library was loaded. */
struct mmapurl_stats {
  uint64_t requests;          /* HTTP requests sent, retries included */
  uint64_t bytes_downloaded;  /* body bytes received from servers */
  uint64_t retries;           /* requests repeated after a transient failure */
  uint64_t errors;            /* operations that failed for good */
  uint64_t objects_opened;    /* successful opens (object API and mappings) */
  uint64_t faults;            /* page faults served on mappings */
  uint64_t evictions;         /* blocks dropped to stay under a cache limit */
  uint64_t cache_bytes;       /* bytes of mappings resident or in flight now */
  uint64_t cache_peak_bytes;  /* the largest cache_bytes seen */
  const char *uffd_mode;      /* "syscall", "device", "user-mode-only" or "none" */
};

/* Fill *out with a consistent-enough snapshot (each counter is atomic). */
MMAPURL_API void mmapurl_stats_get(struct mmapurl_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* MMAPURL_H */
