/*
 * log.c - leveled logging to stderr, one write(2) per line, every line
 * redacted first. Must never print a secret: Authorization and
 * X-Amz-Security-Token values, X-Amz-Signature/X-Amz-Credential/
 * X-Amz-Security-Token query values and registered secrets are masked.
 */
#include "util/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_SECRETS 4
#define MASK "***"

static int log_level = MU_LOG_WARN;
static pthread_mutex_t secrets_lock = PTHREAD_MUTEX_INITIALIZER;
static char *secrets[MAX_SECRETS];

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void mu_log_set_level(enum mu_log_level level) {
  __atomic_store_n(&log_level, (int)level, __ATOMIC_RELAXED);
}

int mu_log_enabled(enum mu_log_level level) {
  return (int)level <= __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

void mu_log_add_secret(const char *secret) {
  if (!secret || strlen(secret) < 4)
    return;
  pthread_mutex_lock(&secrets_lock);
  for (int i = 0; i < MAX_SECRETS; i++) {
    if (secrets[i] && strcmp(secrets[i], secret) == 0)
      break;
    if (!secrets[i]) {
      secrets[i] = strdup(secret);
      break;
    }
  }
  pthread_mutex_unlock(&secrets_lock);
}

/* Replace s[0..n) by MASK, shifting the rest of the string left. */
static void mask_span(char *s, size_t n) {
  size_t mlen = strlen(MASK);
  if (n < mlen) {
    memset(s, '*', n);
    return;
  }
  memcpy(s, MASK, mlen);
  memmove(s + mlen, s + n, strlen(s + n) + 1);
}

/* Mask the value after each case-insensitive occurrence of name up to one of
 * the stop characters. */
static void mask_after(char *line, const char *name, const char *stops) {
  size_t nlen = strlen(name);
  for (char *p = strcasestr(line, name); p; p = strcasestr(p, name)) {
    p += nlen;
    while (*p == ' ' || *p == '\t')
      p++;
    size_t n = strcspn(p, stops);
    if (n)
      mask_span(p, n);
    p += n < strlen(MASK) ? n : strlen(MASK);
  }
}

/* A line cut short may end with the start of a secret: mask that too. */
static void mask_secret_tail(char *line, const char *secret) {
  size_t len = strlen(line), slen = strlen(secret);
  for (size_t k = slen - 1 < len ? slen - 1 : len; k >= 4; k--)
    if (memcmp(line + len - k, secret, k) == 0) {
      mask_span(line + len - k, k);
      return;
    }
}

void mu_log_redact(char *line) {
  mask_after(line, "authorization:", "\r\n");
  mask_after(line, "x-amz-security-token:", "\r\n");
  mask_after(line, "x-amz-security-token=", "&\r\n ");
  mask_after(line, "x-amz-signature=", "&\r\n ");
  mask_after(line, "x-amz-credential=", "&\r\n ");
  pthread_mutex_lock(&secrets_lock);
  for (int i = 0; i < MAX_SECRETS && secrets[i]; i++) {
    size_t n = strlen(secrets[i]);
    for (char *p = strstr(line, secrets[i]); p; p = strstr(p + strlen(MASK), secrets[i]))
      mask_span(p, n);
    mask_secret_tail(line, secrets[i]);
  }
  pthread_mutex_unlock(&secrets_lock);
}

void mu_log(enum mu_log_level level, const char *fmt, ...) {
  if (!mu_log_enabled(level))
    return;
  char line[2048];
  int n = snprintf(line, sizeof line, "mmapurl[%d] %s: ", (int)getpid(),
                   level_names[level]);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  va_end(ap);
  mu_log_redact(line);
  size_t len = strlen(line);
  line[len++] = '\n';
  ssize_t w = write(STDERR_FILENO, line, len);
  (void)w;
}
