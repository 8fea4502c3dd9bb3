/*
 * map.h - read-only memory mappings whose pages are fetched on first touch
 * (userfaultfd), independent of where the bytes come from.
 *
 * A mapping covers a source's size rounded up to whole pages; the bytes past
 * the size in the last page read as zero. A page is fetched in blocks of
 * opts.block_size, once: concurrent faults on a block share one fetch, and a
 * fault waits for its own block only. Sequential access starts a readahead
 * window that doubles up to opts.readahead_max, split into parallel fetches.
 * When a block cannot be fetched, the thread touching it gets SIGBUS, as with
 * a local file's mapping on an I/O error; never zeros, never an abort().
 *
 * Threads: a few fault-reading threads and a pool of fetch workers per
 * process, started by the first mu_map_open. Every function here is
 * thread-safe. The source's fetch runs on the workers (readahead), on a
 * fault reader (a demand fault's block) or on a thread in mu_map_read,
 * many at once.
 */
#ifndef MU_MAP_H
#define MU_MAP_H

#include <stddef.h>
#include <stdint.h>

/* Where bytes come from. The mapping copies this struct. */
struct mu_map_source {
  uint64_t size; /* object size in bytes */
  /* Fetch [off, off+len): hand the bytes to put(pctx, data, n, at) on the
     fetching thread, in order, as they arrive (at: their offset from off;
     data is only valid during the call). The mapping installs whole blocks
     straight from data: a thread touching them goes on at once. put
     returns 0, or an MMAPURL_E_* code (never one a source retries) when
     it wants no more (the mapping is closing): the source then stops the
     transfer and returns that code. After a
     retry the source may hand over bytes again from a smaller at (the same
     bytes): they are skipped. Blocking; called on those threads, many at
     once. Returns 0 once every byte was handed over, or an MMAPURL_E_*
     code (already retried by the source): the blocks not installed by
     then fail. off+len never exceeds size. */
  int (*fetch)(void *ctx, size_t len, uint64_t off,
               int (*put)(void *pctx, const void *data, size_t n, size_t at), void *pctx);
  /* Optional: called once when the mapping no longer uses ctx, which may be
     after mu_map_close has returned (a fetch still running then finishes in
     the background and its bytes are dropped). On a worker or the closer. */
  void (*release)(void *ctx);
  void *ctx;
  /* Optional: the bytes from offset 0 the source holds already (fetched
     with the object's size); a fetch inside them makes no request, so it
     says nothing about how fast the origin answers: not timed (region.c;
     readahead.c grows windows faster on a slow origin). */
  uint64_t in_memory;
};

#define MU_MAP_DEFAULT_BLOCK ((size_t)16 << 10)
#define MU_MAP_DEFAULT_READAHEAD ((size_t)64 << 20)
/* Fetch threads, and the pieces a readahead window is split into: two
 * windows in flight (the one being read, the next) each get a worker per
 * piece, so the next window's requests never queue behind the current's. */
#define MU_MAP_WORKERS 32
#define MU_MAP_RA_PIECES 16
/* The smallest per-mapping cache maximum, in blocks. */
#define MU_MAP_MIN_CACHE_BLOCKS 4

struct mu_map_opts {
  /* Fetch unit: a multiple of the page size, at most 64 MiB;
     0 = MU_MAP_DEFAULT_BLOCK. */
  size_t block_size;
  /* Largest readahead window in bytes; 0 = MU_MAP_DEFAULT_READAHEAD; less
     than block_size disables readahead (random access). */
  size_t readahead_max;
  /* This mapping's own byte budget (installed, held back and in flight),
     kept as the process-wide one is (see mu_map_set_cache_max), within
     it: 0 = none; less than MU_MAP_MIN_CACHE_BLOCKS blocks is raised to
     that. */
  size_t cache_max;
};

/* Counters of one mapping (a snapshot). */
struct mu_map_stats {
  uint64_t faults;         /* missing-page events served */
  uint64_t fetches;        /* fetch calls made */
  uint64_t demand_fetches; /* of which a fault waited for from the start */
  uint64_t bytes_fetched;  /* bytes asked of the source */
  uint64_t readahead_blocks; /* blocks fetched ahead of a fault */
  uint64_t failures;       /* fetches that failed (SIGBUS to touchers) */
  uint64_t evictions;      /* blocks dropped to stay under a budget (either) */
  uint64_t cache_max;      /* opts.cache_max in force (raised); 0 = none */
  uint64_t cache_bytes;    /* this mapping's bytes accounted now */
  uint64_t cache_peak;     /* the most this mapping ever had accounted */
};

struct mu_map;

/*
 * mu_map_open - map src read-only. opts may be NULL (defaults). A size-0
 * source gives a valid, non-NULL, one-page PROT_NONE address that must not be
 * touched (SIGSEGV). On success *out owns the mapping. Returns 0,
 * MMAPURL_E_UFFD_UNAVAILABLE (the message says how to permit userfaultfd),
 * MMAPURL_E_INVALID_ARG, MMAPURL_E_NOMEM or MMAPURL_E_INTERNAL.
 */
int mu_map_open(const struct mu_map_source *src, const struct mu_map_opts *opts,
                struct mu_map **out);
/* The first byte of the mapping. */
void *mu_map_addr(const struct mu_map *m);
/* The source's size. */
uint64_t mu_map_size(const struct mu_map *m);
void mu_map_stats(const struct mu_map *m, struct mu_map_stats *out);

/*
 * mu_map_close - unmap m and free it; NULL is allowed. Prompt: it does not
 * wait for running fetches. Safe while other threads are blocked faulting on
 * the mapping: they get SIGBUS (never zeros, never a hang); a thread whose
 * fault the reader had not yet seen gets SIGSEGV, as does any touch after
 * close, as after munmap.
 */
void mu_map_close(struct mu_map *m);

/*
 * mu_map_read - copy [off, off+len) of m's source into dst (clipped to the
 * size; the caller clips) without touching the mapping's missing pages:
 * installed blocks are copied under the lock; an absent block is fetched
 * on the calling thread itself (no hand-off to a worker: two context
 * switches less per miss), its sequential readahead queued to the workers
 * as a fault's would be; blocks another thread is fetching are waited for. A block whose fetch fails is fetched once more; if that fails too,
 * returns that fetch's MMAPURL_E_* code (a read of a local file gets EIO
 * where its mapping gets SIGBUS). Returns 0, that code, or
 * MMAPURL_E_INVALID_ARG (range past the size, m closing).
 * Thread-safe; blocks only for fetches. A reader running its own fetch
 * returns when that fetch ends (bounded by the source's retries), also if
 * m is closed meanwhile; readers waiting on other fetches return at once.
 */
int mu_map_read(struct mu_map *m, void *dst, size_t len, uint64_t off);

/* Access advice for a mapping, as madvise(2) for ours. */
enum mu_map_advice {
  MU_MAP_NORMAL = 0,     /* the default adaptive readahead */
  MU_MAP_SEQUENTIAL = 1, /* the first fault plans a full window, no ramp */
  MU_MAP_RANDOM = 2,     /* no readahead: one block per fault */
  MU_MAP_WILLNEED = 3,   /* fetch the range's blocks now, in the background */
  MU_MAP_DONTNEED = 4    /* drop the range's installed pages */
};

/*
 * mu_map_advise - advise how [off, off+len) of m will be used (bytes,
 * clipped to the size; the range is widened to whole blocks, the unit a
 * mapping fetches and drops). NORMAL, SEQUENTIAL and RANDOM set the
 * readahead mode of the whole mapping (off/len ignored) until the next such
 * call; with opts.readahead_max below the block size, SEQUENTIAL does not
 * enable readahead. WILLNEED queues fetches of the range's absent blocks as
 * readahead and returns at once: counted in the budget, never fetching a
 * block twice; with a cache max (process-wide or the mapping's own), only
 * as many blocks as fit below its eviction watermark (3/4 of max) now; the
 * others are fetched on touch.
 * DONTNEED drops the range's installed pages (MADV_DONTNEED; fetched again
 * on their next touch) and their bytes leave the budget; blocks in flight,
 * held back or failed are left as they are. Never blocks on I/O. Returns 0,
 * or MMAPURL_E_INVALID_ARG (m NULL, advice unknown).
 */
int mu_map_advise(struct mu_map *m, uint64_t off, uint64_t len, enum mu_map_advice advice);

/* The userfaultfd mode in use ("syscall", "device", "user-mode-only" or
 * "none" before the first successful open). Under user-mode-only a fault
 * taken inside a syscall (write(fd, addr, n)) fails with EFAULT. */
const char *mu_map_uffd_mode(void);

/* The process-wide byte budget of all mappings (installed bytes, bytes held
 * back and bytes being fetched). The readahead window is kept to a sixth
 * of max (three fit below 5/8); above 3/4 of max the oldest installed blocks are evicted in a
 * batch down to 5/8 of max; evicted blocks are fetched again on their next
 * touch. The total can pass max only by the demand blocks of threads
 * faulting at once (one block each). 0 = unlimited (the default). A mapping
 * with opts.cache_max is kept under that as well, the same way, with its
 * own blocks only, and its window is a sixth of the smaller maximum. */
void mu_map_set_cache_max(size_t max);
/* Bytes accounted now, the peak, and blocks evicted, process-wide. */
size_t mu_map_cache_bytes(void);
size_t mu_map_cache_peak(void);
size_t mu_map_evictions(void);

/* Register the mapping layer's fork handlers now (once; mu_map_open does it
 * too). A caller whose own handlers must run before them at fork (prepare
 * handlers run in reverse order of registration) calls this first. */
void mu_map_install_atfork(void);

/* Stop the fault reader and the workers (joining them); only when no mapping
 * is open. The next mu_map_open starts them again. */
void mu_map_shutdown(void);

#endif
