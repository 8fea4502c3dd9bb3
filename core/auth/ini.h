/*
 * ini.h - parser for the AWS shared config and credentials files
 * (~/.aws/config, ~/.aws/credentials): "[section]" headers, "key = value"
 * lines, '#' and ';' comments, and indented continuation lines that belong to
 * the previous key (nested sub-sections such as "s3 =\n  addressing_style =
 * path" are kept as "s3.addressing_style"). Pure: no I/O except reading the
 * one file it is given.
 */
#ifndef MU_INI_H
#define MU_INI_H

struct mu_ini;

/* Parse text (NUL-terminated). Returns 0 and a new *out, or
 * MMAPURL_E_CREDENTIALS_FILE with a detail "FILE:LINE: what is wrong" (name
 * is used only in that message), or MMAPURL_E_NOMEM. */
int mu_ini_parse(const char *text, const char *name, struct mu_ini **out);
/* Read and parse path. A missing file is not an error: *out = NULL, 0 is
 * returned. An unreadable file is MMAPURL_E_CREDENTIALS_FILE. */
int mu_ini_load(const char *path, struct mu_ini **out);
/* Value of key in section, or NULL. Section and key names compare exactly,
 * after surrounding whitespace is stripped. The pointer lives as long as ini. */
const char *mu_ini_get(const struct mu_ini *ini, const char *section, const char *key);
/* Whether the section exists (even empty). */
int mu_ini_has_section(const struct mu_ini *ini, const char *section);
/* Free, wiping values (they may be secret keys). NULL allowed. */
void mu_ini_free(struct mu_ini *ini);

#endif
