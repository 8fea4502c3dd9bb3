/*
 * fuzz_ini - the AWS shared config/credentials parser on arbitrary text.
 * Invariants: success gives an ini, failure gives none, a documented code and
 * a "FILE:LINE: ..." detail; once parsed, every "[name]" header of the text
 * is a section, every "key = value" below one that does not continue a pair
 * is answered by mu_ini_get (a string), and lookups of arbitrary names, NULL
 * included, never crash; mu_ini_get answering implies the section exists.
 */
#include "auth/ini.h"
#include "fuzz.h"
#include "mmapurl.h"
#include "util/error.h"

/* Trim as the parser does: spaces and tabs in front, spaces, tabs and '\r'
 * behind. */
static void trim(const char **s, size_t *n) {
  while (*n && (**s == ' ' || **s == '\t'))
    (*s)++, (*n)--;
  while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
    (*n)--;
}

/* Query the parsed ini with what the text's lines say must be there. */
static void check_lines(const struct mu_ini *ini, const char *text) {
  char *section = NULL;
  int open = 0; /* whether indented lines continue a pair, as in the parser */
  const char *p = text;
  if (strncmp(p, "\xEF\xBB\xBF", 3) == 0)
    p += 3;
  while (*p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    const char *s = p;
    size_t n = len;
    p += len + (nl ? 1 : 0);
    int indented = n && (*s == ' ' || *s == '\t');
    trim(&s, &n);
    if (n == 0) {
      open = 0; /* a blank line ends the pair */
      continue;
    }
    if (*s == '#' || *s == ';' || (indented && open))
      continue; /* a comment, or a continuation / sub-section line */
    open = *s != '[';
    if (*s == '[') {
      const char *close = memchr(s, ']', n);
      FUZZ_CHECK(close != NULL);
      const char *name = s + 1;
      size_t nn = (size_t)(close - name);
      trim(&name, &nn);
      free(section);
      section = strndup(name, nn);
      if (!section)
        abort();
      FUZZ_CHECK(mu_ini_has_section(ini, section));
      continue;
    }
    const char *eq = memchr(s, '=', n);
    FUZZ_CHECK(section != NULL && eq != NULL);
    const char *key = s;
    size_t kn = (size_t)(eq - s);
    trim(&key, &kn);
    char *k = strndup(key, kn);
    if (!k)
      abort();
    const char *v = mu_ini_get(ini, section, k);
    FUZZ_CHECK(v != NULL && fuzz_terminated(v, strlen(text) + 1));
    free(k);
  }
  free(section);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = fuzz_cstr(data, size);
  struct mu_ini *ini = (struct mu_ini *)1;
  int rc = mu_ini_parse(text, "fuzz.ini", &ini);
  if (rc != 0) {
    FUZZ_CHECK(ini == NULL);
    FUZZ_CHECK(rc == MMAPURL_E_CREDENTIALS_FILE || rc == MMAPURL_E_NOMEM);
    if (rc == MMAPURL_E_CREDENTIALS_FILE)
      FUZZ_CHECK(strncmp(mu_err_detail(), "fuzz.ini:", 9) == 0);
    free(text);
    return 0;
  }
  FUZZ_CHECK(ini != NULL);
  check_lines(ini, text);

  /* Arbitrary lookups: the first two lines of the input as section and key,
   * the usual names, and NULLs. */
  const char *nl = strchr(text, '\n');
  char *sec = strndup(text, nl ? (size_t)(nl - text) : strlen(text));
  const char *rest = nl ? nl + 1 : "";
  const char *nl2 = strchr(rest, '\n');
  char *key = strndup(rest, nl2 ? (size_t)(nl2 - rest) : strlen(rest));
  if (!sec || !key)
    abort();
  static const char *const sections[] = {"default", "profile default", "profile dev", "", " "};
  static const char *const keys[] = {"aws_access_key_id", "aws_secret_access_key",
                                     "aws_session_token", "region", "s3.addressing_style", "s3",
                                     ""};
  for (size_t i = 0; i < sizeof sections / sizeof *sections + 1; i++) {
    const char *s = i < sizeof sections / sizeof *sections ? sections[i] : sec;
    int has = mu_ini_has_section(ini, s);
    for (size_t j = 0; j < sizeof keys / sizeof *keys + 1; j++) {
      const char *v = mu_ini_get(ini, s, j < sizeof keys / sizeof *keys ? keys[j] : key);
      if (v)
        FUZZ_CHECK(has && fuzz_terminated(v, strlen(text) + 1));
    }
    FUZZ_CHECK(mu_ini_get(ini, s, NULL) == NULL);
  }
  FUZZ_CHECK(mu_ini_get(ini, NULL, key) == NULL);
  FUZZ_CHECK(mu_ini_get(NULL, sec, key) == NULL);
  FUZZ_CHECK(!mu_ini_has_section(ini, NULL) && !mu_ini_has_section(NULL, sec));
  free(sec);
  free(key);
  mu_ini_free(ini);
  free(text);
  return 0;
}
