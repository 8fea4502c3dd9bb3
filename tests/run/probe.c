/*
 * probe.c - test helper for tests/run, linked statically: prints its
 * environment ("NAME=value" lines), then each argument as "arg=VALUE".
 * Being static, no LD_PRELOAD (shim or sanitizer runtime) ever loads into
 * it, so it shows exactly what mmapurl-run passed. It must never do anything
 * else (no files, no network).
 */
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv) {
  for (char **e = environ; *e; e++)
    printf("%s\n", *e);
  for (int i = 1; i < argc; i++)
    printf("arg=%s\n", argv[i]);
  return 0;
}
