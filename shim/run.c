/*
 * run.c - mmapurl-run, the launcher: puts the shim's settings in the
 * environment, appends libmmapurl_shim.so to LD_PRELOAD and execs the
 * command, so the command keeps this pid and its exit status and signals are
 * its own. It warns when the loader cannot bring the shim into the command.
 *
 * It must never link the core (it is built unsanitized and must stay small),
 * never fork (it execs or exits), and never print a secret: it only prints
 * what it set itself, with any user:password in the endpoint URL hidden.
 *
 * Exit status: the command's own; 125 when the launcher itself fails (bad
 * option or value, no shim found), 126 when the command cannot be run, 127
 * when it is not found (as env(1), timeout(1) and shells do).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#define RUN_EXIT_FAIL 125
#define RUN_EXIT_CANNOT_RUN 126
#define RUN_EXIT_NOT_FOUND 127

#define PROG "mmapurl-run"
#define DEFAULT_PREFIX "/s3"

/* The variables the options set, in the order -v prints them. */
enum run_var { V_CACHE_MAX, V_STATS, V_ENDPOINT, V_PROFILE, V_REGION, V_PREFIX, V_LOG, V_COUNT };

static const char *const var_names[V_COUNT] = {
    "MMAPURL_CACHE_MAX", "MMAPURL_STATS", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE",
    "AWS_REGION",        "MMAPURL_PREFIX", "MMAPURL_LOG"};

struct run_opts {
  const char *value[V_COUNT]; /* NULL: leave the inherited value alone */
  char *owned[V_COUNT];       /* values built here (freed never: we exec) */
  int verbose;
};

/* What an ELF header says about how the loader would treat a program. */
struct elf_info {
  unsigned char cls; /* ELFCLASS32 or ELFCLASS64 */
  uint16_t machine;  /* e_machine */
  int has_interp;    /* a PT_INTERP program header: dynamically linked */
};

static void usage(FILE *f) {
  fprintf(f,
          "Usage: " PROG " [options] [--] CMD [ARGS...]\n"
          "Run CMD with libmmapurl_shim.so preloaded, so it can open S3 objects as\n"
          "files under " DEFAULT_PREFIX "/BUCKET/KEY. Options stop at the first non-option.\n"
          "\n"
          "  --cache-max SIZE  MMAPURL_CACHE_MAX: memory for all objects (64M, 1G; 0: no limit)\n"
          "  --stats[=FILE]    MMAPURL_STATS: a summary on stderr at exit, or JSON to FILE\n"
          "  --endpoint URL    AWS_ENDPOINT_URL_S3: S3 endpoint (wins over inherited ones)\n"
          "  --profile NAME    AWS_PROFILE: profile in the AWS shared files\n"
          "  --region NAME     AWS_REGION: signing region\n"
          "  --prefix DIR      MMAPURL_PREFIX: where buckets appear (default " DEFAULT_PREFIX ")\n"
          "  -v, --verbose     MMAPURL_LOG=info (twice: debug); print the settings applied\n"
          "  -h, --help        this help\n"
          "  --version         the version\n"
          "\n"
          "Other settings come from the environment (AWS_*, MMAPURL_*). The shim is\n"
          "looked for next to " PROG ", then in ../lib relative to it as installed.\n"
          "Static, setuid and setgid programs cannot be reached: " PROG " warns.\n"
          "Exit status: CMD's; 125 if " PROG " fails, 126 if CMD cannot run, 127 if\n"
          "it is not found.\n");
}

/* Report a launcher failure (one line on stderr) and return RUN_EXIT_FAIL. */
__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs(PROG ": ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return RUN_EXIT_FAIL;
}

/* Parse a size exactly as the core's mu_parse_size (core/util/config.c) does:
 * decimal digits, then nothing, "B", or K/M/G (powers of 1024) optionally
 * followed by "B" or "iB", case-insensitive. Keep the two in step. */
static int parse_size(const char *s, uint64_t *out) {
  uint64_t v = 0;
  const char *p = s;
  if (*p < '0' || *p > '9')
    return -1;
  for (; *p >= '0' && *p <= '9'; p++) {
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - d) / 10)
      return -1;
    v = v * 10 + d;
  }
  int shift = 0;
  if (*p != '\0' && strcasecmp(p, "b") != 0) {
    switch (*p++) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    default: return -1;
    }
    if (*p != '\0' && strcasecmp(p, "b") != 0 && strcasecmp(p, "ib") != 0)
      return -1;
  }
  if (v > (UINT64_MAX >> shift))
    return -1;
  *out = v << shift;
  return 0;
}

/* --cache-max: a size, 0 (no limit) or from 1M to 1T, as the core requires. */
static int check_cache_max(const char *s) {
  uint64_t n;
  if (parse_size(s, &n) != 0)
    return fail("--cache-max '%s': not a size (a number, optionally followed by K, M or G)", s);
  if (n != 0 && (n < ((uint64_t)1 << 20) || n > ((uint64_t)1 << 40)))
    return fail("--cache-max '%s': must be 0 (no limit) or from 1M to 1T", s);
  return 0;
}

/* Whether s holds a space, a control byte or DEL. */
static int has_blank(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if (*p <= 0x20 || *p == 0x7F)
      return 1;
  return 0;
}

/* --endpoint: an http(s) URL with a host, as the core requires. The value is
 * never echoed: it may carry a user:password. */
static int check_endpoint(const char *url) {
  size_t scheme = strncasecmp(url, "http://", 7) == 0    ? 7
                  : strncasecmp(url, "https://", 8) == 0 ? 8
                                                         : 0;
  if (scheme == 0 || url[scheme] == '\0' || url[scheme] == '/' || has_blank(url))
    return fail("--endpoint: must be an http:// or https:// URL with a host, no spaces");
  return 0;
}

/* --stats=FILE: the report goes where the user meant even if CMD changes
 * directory, so a relative FILE is made absolute. Sets *out (owned). */
static int stats_file(const char *file, char **out) {
  char cwd[PATH_MAX];
  if (file[0] == '\0')
    return fail("--stats=: the file name is empty");
  if (file[0] == '/')
    return (*out = strdup(file)) ? 0 : fail("out of memory");
  if (!getcwd(cwd, sizeof cwd))
    return fail("--stats=%s: the current directory is unreachable (%s)", file, strerror(errno));
  return asprintf(out, "%s/%s", cwd, file) >= 0 ? 0 : fail("out of memory");
}

/* --prefix: an absolute directory other than "/", trailing slashes cut.
 * Sets *out (owned). */
static int prefix_dir(const char *dir, char **out) {
  size_t len = strlen(dir);
  while (len > 1 && dir[len - 1] == '/')
    len--;
  if (dir[0] != '/' || len == 1 || has_blank(dir))
    return fail("--prefix '%s': must be an absolute directory other than /, no spaces", dir);
  *out = strndup(dir, len);
  return *out ? 0 : fail("out of memory");
}

/* A plain name (profile, region): not empty, no blanks. */
static int check_name(const char *opt, const char *v) {
  if (v[0] == '\0' || has_blank(v))
    return fail("%s '%s': must be a non-empty name without spaces", opt, v);
  return 0;
}

/* One option (getopt_long's code c, argument arg) into *o. Returns 0, -1
 * for --help/--version (done, exit 0), or an exit status. */
static int take_option(struct run_opts *o, int c, const char *arg) {
  switch (c) {
  case 'c': o->value[V_CACHE_MAX] = arg; return check_cache_max(arg);
  case 's':
    if (!arg) {
      o->value[V_STATS] = "1";
      return 0;
    }
    return stats_file(arg, &o->owned[V_STATS]);
  case 'e': o->value[V_ENDPOINT] = arg; return check_endpoint(arg);
  case 'p': o->value[V_PROFILE] = arg; return check_name("--profile", arg);
  case 'r': o->value[V_REGION] = arg; return check_name("--region", arg);
  case 'P': return prefix_dir(arg, &o->owned[V_PREFIX]);
  case 'v': o->value[V_LOG] = ++o->verbose == 1 ? "info" : "debug"; return 0;
  case 'h': usage(stdout); return -1;
  case 'V': printf(PROG " (mmapurl) %s\n", MMAPURL_VERSION); return -1;
  default: fprintf(stderr, "Try '" PROG " --help'.\n"); return RUN_EXIT_FAIL;
  }
}

/* Parse the options; *cmd_index is argv's index of CMD. Returns 0, -1 when
 * --help or --version was handled, or an exit status. */
static int parse_options(int argc, char **argv, struct run_opts *o, int *cmd_index) {
  static const struct option longs[] = {
      {"cache-max", required_argument, NULL, 'c'}, {"stats", optional_argument, NULL, 's'},
      {"endpoint", required_argument, NULL, 'e'},  {"profile", required_argument, NULL, 'p'},
      {"region", required_argument, NULL, 'r'},    {"prefix", required_argument, NULL, 'P'},
      {"verbose", no_argument, NULL, 'v'},         {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},         {NULL, 0, NULL, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "+hv", longs, NULL)) != -1) {
    int rc = take_option(o, c, optarg);
    if (rc != 0)
      return rc;
  }
  for (int i = 0; i < V_COUNT; i++)
    if (o->owned[i])
      o->value[i] = o->owned[i];
  if (optind >= argc) {
    fprintf(stderr, PROG ": no command given\nTry '" PROG " --help'.\n");
    return RUN_EXIT_FAIL;
  }
  *cmd_index = optind;
  return 0;
}

/* The directory holding the running executable (symlinks resolved by the
 * kernel), into buf. Returns 0 or an exit status. */
static int self_dir(char *buf, size_t size) {
  ssize_t n = readlink("/proc/self/exe", buf, size - 1);
  if (n <= 0 || (size_t)n >= size - 1)
    return fail("cannot find its own executable through /proc/self/exe (%s); "
                "is /proc mounted?",
                n < 0 ? strerror(errno) : "name too long");
  buf[n] = '\0';
  *strrchr(buf, '/') = '\0';
  return 0;
}

/* The shim's absolute, canonical path: next to the executable (build tree),
 * else in the libdir relative to the bindir (installed). Sets *out (owned).
 * Returns 0 or an exit status. */
static int find_shim(char **out) {
  char dir[PATH_MAX], here[PATH_MAX + 64], lib[2 * PATH_MAX];
  int rc = self_dir(dir, sizeof dir);
  if (rc != 0)
    return rc;
  snprintf(here, sizeof here, "%s/%s", dir, MMAPURL_SHIM_NAME);
  snprintf(lib, sizeof lib, "%s/%s/%s", dir, MMAPURL_BIN_TO_LIB, MMAPURL_SHIM_NAME);
  const char *candidates[] = {here, lib};
  for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
    struct stat st;
    *out = realpath(candidates[i], NULL);
    if (*out && stat(*out, &st) == 0 && S_ISREG(st.st_mode))
      return 0;
    free(*out);
  }
  fprintf(stderr,
          PROG ": cannot find the shim " MMAPURL_SHIM_NAME ": looked for %s and %s; "
               "install it next to " PROG " or in the library directory\n",
          here, lib);
  return RUN_EXIT_FAIL;
}

/* Whether the LD_PRELOAD list (':' or ' ' separated) already names the shim,
 * by the same path or as the same file (st) by another one. */
static int preload_has(const char *list, const char *shim, const struct stat *st) {
  for (const char *p = list; *p;) {
    size_t len = strcspn(p, ": ");
    char entry[PATH_MAX];
    struct stat est;
    if (len == strlen(shim) && memcmp(p, shim, len) == 0)
      return 1;
    if (len > 0 && len < sizeof entry && memchr(p, '/', len)) {
      memcpy(entry, p, len);
      entry[len] = '\0';
      if (stat(entry, &est) == 0 && est.st_dev == st->st_dev && est.st_ino == st->st_ino)
        return 1;
    }
    p += len + (p[len] != '\0');
  }
  return 0;
}

/* Append the shim to LD_PRELOAD, after whatever is there, unless it is
 * already listed. Returns 0 or an exit status. */
static int set_preload(const char *shim) {
  const char *old = getenv("LD_PRELOAD");
  struct stat st;
  char *v = NULL;
  if (stat(shim, &st) != 0)
    return fail("cannot stat the shim %s (%s)", shim, strerror(errno));
  if (!old || old[strspn(old, ": ")] == '\0')
    return setenv("LD_PRELOAD", shim, 1) == 0 ? 0 : fail("LD_PRELOAD: %s", strerror(errno));
  if (preload_has(old, shim, &st))
    return 0;
  size_t n = strlen(old);
  int sep = old[n - 1] != ':' && old[n - 1] != ' ';
  if (asprintf(&v, "%s%s%s", old, sep ? ":" : "", shim) < 0 || setenv("LD_PRELOAD", v, 1) != 0)
    return fail("LD_PRELOAD: %s", strerror(errno));
  free(v);
  return 0;
}

/* CMD's path as execvp finds it: CMD itself when it holds a '/', else the
 * first executable regular file in PATH ("/bin:/usr/bin" when PATH is unset;
 * an empty entry is the current directory). Returns a malloc'd path, or
 * NULL with errno ENOENT (nothing there) or EACCES (only entries that cannot
 * be executed), or ENOMEM. */
static char *resolve_cmd(const char *cmd) {
  if (strchr(cmd, '/'))
    return strdup(cmd);
  const char *path = getenv("PATH");
  int denied = 0;
  if (!path)
    path = "/bin:/usr/bin";
  errno = ENOENT;
  if (cmd[0] == '\0')
    return NULL;
  for (const char *p = path;;) {
    size_t len = strcspn(p, ":");
    char *cand = NULL;
    struct stat st;
    if (asprintf(&cand, "%.*s%s%s", (int)len, p, len ? "/" : "", cmd) < 0)
      return NULL;
    if (stat(cand, &st) == 0) {
      if (S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
        return cand;
      denied = 1;
    }
    free(cand);
    if (p[len] == '\0')
      break;
    p += len + 1;
  }
  errno = denied ? EACCES : ENOENT;
  return NULL;
}

/* Read the ELF header of fd into *info. Returns 0, or -1 when fd is not an
 * ELF file in this machine's byte order or its program headers are
 * unreadable (then no claim is made about it). p_type is the first 32-bit
 * word of a program header in both classes. */
static int elf_read(int fd, struct elf_info *info) {
  union {
    unsigned char ident[EI_NIDENT];
    Elf32_Ehdr h32;
    Elf64_Ehdr h64;
  } eh;
  const unsigned char host_data =
      __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;
  if (pread(fd, &eh, sizeof eh, 0) < (ssize_t)sizeof eh.h32 ||
      memcmp(eh.ident, ELFMAG, SELFMAG) != 0 || eh.ident[EI_DATA] != host_data)
    return -1;
  uint64_t phoff;
  unsigned phnum, phentsize;
  info->cls = eh.ident[EI_CLASS];
  info->machine = eh.h32.e_machine; /* same offset in both classes */
  if (info->cls == ELFCLASS64 && eh.h64.e_phentsize == sizeof(Elf64_Phdr)) {
    phoff = eh.h64.e_phoff, phnum = eh.h64.e_phnum, phentsize = eh.h64.e_phentsize;
  } else if (info->cls == ELFCLASS32 && eh.h32.e_phentsize == sizeof(Elf32_Phdr)) {
    phoff = eh.h32.e_phoff, phnum = eh.h32.e_phnum, phentsize = eh.h32.e_phentsize;
  } else {
    return -1;
  }
  info->has_interp = 0;
  for (unsigned i = 0; i < phnum; i++) {
    uint32_t type;
    if (pread(fd, &type, sizeof type, (off_t)(phoff + (uint64_t)i * phentsize)) != sizeof type)
      return -1;
    info->has_interp |= type == PT_INTERP;
  }
  return phnum > 0 ? 0 : -1;
}

/* Why the kernel would run the file (open as fd, status st) in secure mode,
 * where the loader ignores LD_PRELOAD paths; NULL when it would not. */
static const char *secure_exec_reason(int fd, const struct stat *st) {
  struct statvfs vfs;
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ||
      (fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_NOSUID)))
    return NULL; /* set-ID bits and file capabilities are ignored */
  if ((st->st_mode & S_ISUID) && (st->st_uid != getuid() || st->st_uid != geteuid()))
    return "is set-user-ID";
  if ((st->st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) &&
      (st->st_gid != getgid() || st->st_gid != getegid()))
    return "is set-group-ID";
  if (getuid() != 0 && geteuid() != 0 && fgetxattr(fd, "security.capability", NULL, 0) > 0)
    return "has file capabilities";
  return NULL;
}

/* Warn (one line on stderr) when the loader will not bring the shim into
 * the program at path: a static ELF, another class or machine than ours, or
 * a secure (set-ID) execution. Scripts and unreadable files: no claim. */
static void warn_unreachable(const char *path, const char *prefix) {
  static const char tail[] = "LD_PRELOAD cannot reach it, so it will see no files under";
  struct elf_info prog, self;
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC), self_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  const char *why = NULL;
  if (fd >= 0 && fstat(fd, &st) == 0)
    why = secure_exec_reason(fd, &st);
  if (!why && fd >= 0 && elf_read(fd, &prog) == 0) {
    if (self_fd >= 0 && elf_read(self_fd, &self) == 0 &&
        (prog.cls != self.cls || prog.machine != self.machine))
      why = "is built for another machine or word size than the shim";
    else if (!prog.has_interp)
      why = "is statically linked";
  }
  if (why)
    fprintf(stderr, PROG ": warning: %s %s: %s %s\n", path, why, tail, prefix);
  if (fd >= 0)
    close(fd);
  if (self_fd >= 0)
    close(self_fd);
}

/* Print the settings applied (-v): the variables set here and LD_PRELOAD.
 * None holds a secret; the endpoint's user:password, if any, is hidden. */
static void print_settings(const struct run_opts *o, const char *path) {
  for (int i = 0; i < V_COUNT; i++) {
    const char *v = o->value[i];
    const char *at = i == V_ENDPOINT && v ? strchr(v, '@') : NULL;
    const char *host = v ? strstr(v, "://") : NULL;
    if (!v)
      continue;
    if (at && host && at < host + 3 + strcspn(host + 3, "/?#"))
      fprintf(stderr, PROG ": %s=%.*s***@%s\n", var_names[i], (int)(host + 3 - v), v, at + 1);
    else
      fprintf(stderr, PROG ": %s=%s\n", var_names[i], v);
  }
  fprintf(stderr, PROG ": LD_PRELOAD=%s\n" PROG ": exec %s\n", getenv("LD_PRELOAD"), path);
}

/* Whether the file at path starts with the ELF magic. */
static int is_elf(const char *path) {
  char magic[SELFMAG];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? pread(fd, magic, sizeof magic, 0) : -1;
  if (fd >= 0)
    close(fd);
  return n == SELFMAG && memcmp(magic, ELFMAG, SELFMAG) == 0;
}

/* Exec path with argv (argv[0] as given). A file the kernel does not know
 * how to run and that is not ELF runs under /bin/sh, as execvp does. Returns
 * only on failure, with the exit status after reporting it. */
static int exec_cmd(const char *path, char **argv, int argc) {
  execv(path, argv);
  int err = errno;
  if (err == ENOEXEC && !is_elf(path)) {
    char **sh = calloc((size_t)argc + 2, sizeof *sh);
    if (sh) {
      sh[0] = "/bin/sh";
      sh[1] = (char *)path;
      memcpy(sh + 2, argv + 1, (size_t)argc * sizeof *sh); /* argv[argc] is NULL */
      execv(sh[0], sh);
      err = errno;
    }
  }
  struct stat st;
  if (err == ENOENT && stat(path, &st) == 0) {
    fprintf(stderr, PROG ": %s: cannot run it: its interpreter or loader is missing (%s)\n",
            path, strerror(err));
    return RUN_EXIT_CANNOT_RUN;
  }
  fprintf(stderr, PROG ": %s: %s\n", path, strerror(err));
  return err == ENOENT ? RUN_EXIT_NOT_FOUND : RUN_EXIT_CANNOT_RUN;
}

int main(int argc, char **argv) {
  struct run_opts o = {0};
  int cmd = 0, rc = parse_options(argc, argv, &o, &cmd);
  char *shim = NULL;
  if (rc != 0)
    return rc < 0 ? 0 : rc;
  if ((rc = find_shim(&shim)) != 0)
    return rc;
  for (int i = 0; i < V_COUNT; i++)
    if (o.value[i] && setenv(var_names[i], o.value[i], 1) != 0)
      return fail("%s: %s", var_names[i], strerror(errno));
  if ((rc = set_preload(shim)) != 0)
    return rc;
  char *path = resolve_cmd(argv[cmd]);
  if (!path) {
    int err = errno;
    fprintf(stderr, PROG ": %s: %s\n", argv[cmd],
            err == ENOENT ? "command not found" : strerror(err));
    return err == ENOENT ? RUN_EXIT_NOT_FOUND : RUN_EXIT_CANNOT_RUN;
  }
  const char *prefix = getenv("MMAPURL_PREFIX");
  warn_unreachable(path, prefix && *prefix ? prefix : DEFAULT_PREFIX);
  if (o.verbose)
    print_settings(&o, path);
  return exec_cmd(path, argv + cmd, argc - cmd);
}
