/*
 * shim.h - the LD_PRELOAD shim's internal interfaces, one section per
 * module (real.c, path.c, meta.c, fdtab.c, file.c, dir.c, stream.c,
 * maps.c, exec.c; interpose.c holds the exported libc names and calls
 * these). Nothing declared here is exported from libmmapurl_shim.so.
 *
 * Conventions: functions returning int give 0 (or a count) on success and
 * -errno on failure; they never set errno themselves, interpose.c does.
 */
#ifndef MU_SHIM_H
#define MU_SHIM_H

#include <dirent.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

struct iovec;
struct statx;
struct mu_map;
struct mu_s3_object;

/* ---- real.c: the next definitions of the names we interpose ----------- */

struct shim_real {
  int (*open)(const char *, int, ...);
  int (*openat)(int, const char *, int, ...);
  int (*close)(int);
  int (*close_range)(unsigned, unsigned, int);
  void (*closefrom)(int);
  int (*dup)(int);
  int (*dup2)(int, int);
  int (*dup3)(int, int, int);
  int (*fcntl)(int, int, ...);
  ssize_t (*read)(int, void *, size_t);
  ssize_t (*pread)(int, void *, size_t, off_t);
  ssize_t (*readv)(int, const struct iovec *, int);
  ssize_t (*preadv)(int, const struct iovec *, int, off_t);
  ssize_t (*preadv2)(int, const struct iovec *, int, off_t, int);
  ssize_t (*write)(int, const void *, size_t);
  ssize_t (*pwrite)(int, const void *, size_t, off_t);
  ssize_t (*writev)(int, const struct iovec *, int);
  ssize_t (*pwritev)(int, const struct iovec *, int, off_t);
  ssize_t (*pwritev2)(int, const struct iovec *, int, off_t, int);
  ssize_t (*sendmsg)(int, const void *, int);
  ssize_t (*send)(int, const void *, size_t, int);
  ssize_t (*sendto)(int, const void *, size_t, int, const void *, unsigned);
  off_t (*lseek)(int, off_t, int);
  int (*fstatat)(int, const char *, struct stat *, int);
  int (*statx)(int, const char *, int, unsigned, struct statx *);
  int (*faccessat)(int, const char *, int, int);
  char *(*realpath)(const char *, char *);
  ssize_t (*readlinkat)(int, const char *, char *, size_t);
  void *(*mmap)(void *, size_t, int, int, int, off_t);
  int (*munmap)(void *, size_t);
  void *(*mremap)(void *, size_t, size_t, int, ...);
  int (*madvise)(void *, size_t, int);
  int (*posix_fadvise)(int, off_t, off_t, int);
  ssize_t (*readahead)(int, off64_t, size_t);
  ssize_t (*copy_file_range)(int, off64_t *, int, off64_t *, size_t, unsigned);
  ssize_t (*sendfile)(int, int, off_t *, size_t);
  ssize_t (*splice)(int, off64_t *, int, off64_t *, size_t, unsigned);
  FILE *(*fopen)(const char *, const char *);
  FILE *(*freopen)(const char *, const char *, FILE *);
  FILE *(*fdopen)(int, const char *);
  DIR *(*opendir)(const char *);
  DIR *(*fdopendir)(int);
  struct dirent *(*readdir)(DIR *);
  struct dirent64 *(*readdir64)(DIR *);
  int (*closedir)(DIR *);
  void (*rewinddir)(DIR *);
  long (*telldir)(DIR *);
  void (*seekdir)(DIR *, long);
  int (*dirfd)(DIR *);
  int (*execve)(const char *, char *const[], char *const[]);
  int (*execvpe)(const char *, char *const[], char *const[]);
  int (*fexecve)(int, char *const[], char *const[]);
  int (*posix_spawn)(pid_t *, const char *, const void *, const void *, char *const[],
                     char *const[]);
  int (*posix_spawnp)(pid_t *, const char *, const void *, const void *, char *const[],
                      char *const[]);
};
extern struct shim_real shim_real;
/* Resolve every entry once (dlsym RTLD_NEXT); safe to call repeatedly. */
void shim_real_init(void);
#define REAL(f) (shim_real.f ? shim_real.f : (shim_real_init(), shim_real.f))

/* ---- path.c: which paths are ours, what they name, the shim's settings -- */

enum shim_path_kind { SHIM_ROOT = 1, SHIM_BUCKET, SHIM_KEY };

struct shim_path {
  enum shim_path_kind kind;
  int slash;      /* the path ended in '/': it must be a directory */
  char *bucket;   /* SHIM_BUCKET, SHIM_KEY */
  char *key;      /* SHIM_KEY: never empty, no trailing '/' */
  char *display;  /* the normalised path, "/s3/b/k" (for messages, dir fds) */
};

/* Read the configuration (once, at load). */
void shim_path_init(void);
/* Whether path is under the prefix or an s3:// URL (the fast check). */
int shim_path_ours(const char *path);
/* Parse an absolute path of ours. 0 or -ENOENT / -ENAMETOOLONG / -ENOMEM. */
int shim_path_parse(const char *path, struct shim_path *out);
/* The path that (dirfd, path) names, if ours: path itself when absolute,
 * else joined to the directory fd's path when dirfd is one of our
 * directories. *out is malloc'ed (free it) or NULL when not ours. -ENOMEM. */
int shim_path_at(int dirfd, const char *path, char **out);
void shim_path_free(struct shim_path *p);
/* "s3://bucket/key" for p (malloc'ed), or NULL. */
char *shim_path_url(const struct shim_path *p);
/* The listing prefix of the directory p names: "key/", or "" for a bucket
 * (malloc'ed), or NULL (ENOMEM). */
char *shim_path_list_prefix(const struct shim_path *p);
/* chdir() into ours: relative paths resolve against display from now on
 * (NULL: the kernel's working directory again). */
void shim_path_set_cwd(const char *display);
/* Our working directory, or NULL when it is the kernel's. */
const char *shim_path_cwd(void);
/* The configured prefix ("/s3"). */
const char *shim_prefix(void);
/* MMAPURL_STAT_TTL in milliseconds (0: no stat cache). */
long shim_stat_ttl_ms(void);

/* ---- meta.c: stat results and the cache of them ------------------------ */

struct shim_meta {
  int is_dir;
  uint64_t size;
  time_t mtime;
  uint64_t ino;
};

/* At load, after shim_fd_init: fork handlers for the module's lock (the
 * same three in dir.c and maps.c). */
void shim_meta_init(void);
/* What p names. 0, or -ENOENT / -EACCES / -EIO / -ENOMEM / -ENOTDIR. */
int shim_meta_lookup(const struct shim_path *p, struct shim_meta *out);
/* Remember what a listing or an open learned (bucket, key without '/'). */
void shim_meta_remember(const char *bucket, const char *key, const struct shim_meta *m);
/* The stable inode number of bucket/key. */
uint64_t shim_meta_ino(const char *bucket, const char *key);
void shim_meta_to_stat(const struct shim_meta *m, struct stat *st);
void shim_meta_to_statx(const struct shim_meta *m, struct statx *stx);
/* The errno for an MMAPURL_E_* code; logs the core's detail when the
 * failure is one a user must act on (credentials, network, ...). */
int shim_errno(int rc, const char *what);

/* ---- fdtab.c: our open files, by kernel fd number ---------------------- */

enum shim_kind { SHIM_FILE = 1, SHIM_DIR = 2 };

struct shim_dirent {
  char *name;
  int is_dir;
  uint64_t ino;
};

struct shim_file {
  int refs;                 /* fds naming it + calls using it (fdtab lock) */
  pthread_mutex_t pos;      /* makes "take the offset, read, advance it" one
                               step for the threads of this process */
  enum shim_kind kind;
  struct shim_path path;
  struct shim_meta meta;
  char etag[256];           /* files: the version opened */
  struct mu_s3_object *obj; /* files: owned by map when map is set */
  struct mu_map *map;       /* files: NULL without userfaultfd */
  int broken;               /* handed over but the object changed: EIO */
  dev_t ph_dev;             /* the placeholder's identity (one description, */
  ino_t ph_ino;             /* shared by every dup of it), for exec handover */
  struct shim_dirent *ents; /* dirs: the listing, taken at open */
  size_t nents;
};

/* At load: the process owning the table (fork children take it over; a
 * vfork child, which shares the parent's memory, never changes it). */
void shim_fd_init(void);
/* Whether this process owns the table (0 in a vfork child). */
int shim_fd_owned(void);
/* A new file (one reference), or NULL. */
struct shim_file *shim_file_new(enum shim_kind kind);
/* Whether any fd of ours is open (a relaxed read: the fast path). */
int shim_fd_any(void);
/* The file behind fd with a reference taken (shim_file_put it), or NULL. */
struct shim_file *shim_fd_get(int fd);
/* Make fd name f (takes a new reference). -ENOMEM. */
int shim_fd_set(int fd, struct shim_file *f);
/* Forget fd; returns its file (the caller owns that reference) or NULL. */
struct shim_file *shim_fd_take(int fd);
/* Forget every fd in [lo, hi]; drops their references. */
void shim_fd_take_range(unsigned lo, unsigned hi);
/* Call fn(fd, f) for each fd of ours (table locked: fn must not call back). */
void shim_fd_each(void (*fn)(int fd, struct shim_file *f, void *ctx), void *ctx);
struct shim_file *shim_file_ref(struct shim_file *f);
void shim_file_put(struct shim_file *f);
/* A placeholder, in two steps. Reserve: the lowest free fd number (a new
 * memfd), before anything else of ours takes fds. Finish: write desc (what
 * it names, for exec.c) into it, seal it against writes, and make fd a
 * write-only reopening of it (reads fail; its seekable kernel offset is
 * the file's offset); *dev and *ino identify it. Both: fd or -errno; on
 * failure of finish, fd is closed. */
int shim_fd_reserve(void);
int shim_fd_finish(int fd, int cloexec, const char *desc, dev_t *dev, ino_t *ino);

/* ---- file.c: object files ---------------------------------------------- */

/* Open the object p names into a new file (one reference). -errno. */
int shim_file_open(const struct shim_path *p, struct shim_file **out);
/* Read up to n bytes at off (clipped to the size). Count or -errno. */
ssize_t shim_file_pread(struct shim_file *f, void *buf, size_t n, uint64_t off);
/* Advice for [off, off+len) as posix_fadvise's (POSIX_FADV_*). */
void shim_file_advise(struct shim_file *f, uint64_t off, uint64_t len, int advice);

/* ---- dir.c: directories ------------------------------------------------ */

/* Open the directory p names into a new file (listing it). -errno. */
int shim_dir_open(const struct shim_path *p, struct shim_file **out);
void shim_dir_init(void);
/* Whether d is a DIR* of ours. */
int shim_dir_ours(const DIR *d);
DIR *shim_dir_stream(int fd, struct shim_file *f);
struct dirent64 *shim_dir_read(DIR *d);
int shim_dir_close(DIR *d);
void shim_dir_rewind(DIR *d);
long shim_dir_tell(DIR *d);
void shim_dir_seek(DIR *d, long pos);
int shim_dir_fd(DIR *d);

/* ---- stream.c: stdio over our fds -------------------------------------- */

/* A FILE reading fd through the shim, fileno() giving fd. NULL + errno. */
FILE *shim_stream_open(int fd, const char *mode);
/* Whether fp is a FILE of ours. */
int shim_stream_ours(const FILE *fp);
/* After a handover: make stdin read through us when fd 0 is ours. */
void shim_stream_fix_stdin(void);

/* ---- maps.c: mmap of our fds ------------------------------------------- */

void shim_maps_init(void);
void *shim_maps_mmap(struct shim_file *f, void *addr, size_t len, int prot, int flags,
                     off_t off, int *err);
/* 1 if [addr, addr+len) was a mapping of ours (then *rc is the result). */
int shim_maps_munmap(void *addr, size_t len, int *rc);
/* 1 if addr is in a mapping of ours; then *rc is madvise's result. */
int shim_maps_madvise(void *addr, size_t len, int advice, int *rc);
int shim_maps_contains(const void *addr, size_t len);
/* Fault in our pages of [buf, buf+len) from user space (a syscall that got
 * EFAULT on them under user-mode-only userfaultfd can then be retried). */
int shim_maps_touch(const void *buf, size_t len);

/* ---- exec.c: handing open files to exec'ed programs -------------------- */

/* What a placeholder of f holds, so a new program can reopen f (malloc'ed). */
char *shim_exec_describe(const struct shim_file *f);
/* envp plus LD_PRELOAD (the shim kept) and the handover of our fds;
 * malloc'ed (shim_exec_env_free), or NULL (ENOMEM). */
char **shim_exec_env(char *const envp[]);
void shim_exec_env_free(char **env);
/* At load: take over the placeholders this process inherited. */
void shim_exec_restore(void);
/* The shim's own file name (for LD_PRELOAD). */
const char *shim_self_path(void);

#endif
