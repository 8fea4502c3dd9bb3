/*
 * sigv4.h - AWS Signature Version 4 with OpenSSL: canonical request, string
 * to sign, signing key, signature; as an Authorization header or as a
 * presigned query string. Pure functions of their inputs: no clock, no I/O
 * (the first hash loads libcrypto: util/libs.h), no configuration. The
 * secret key is never copied into any output.
 */
#ifndef MU_SIGV4_H
#define MU_SIGV4_H

#include <stddef.h>

struct mu_header {
  const char *name;  /* any case; canonicalised to lowercase */
  const char *value; /* trimmed, inner runs of spaces folded, when canonicalised */
};

struct mu_sigv4_req {
  const char *method;       /* "GET" */
  const char *path;         /* the request path as sent, already URI-encoded
                               (for S3: each key segment encoded once) */
  const char *query;        /* the query string as sent, without '?', or NULL */
  const struct mu_header *headers; /* headers to sign; must include host.
                               Duplicate names are joined with ',' in order. */
  size_t nheaders;
  const char *payload_hash; /* hex SHA-256 of the body, or "UNSIGNED-PAYLOAD" */
  const char *amz_date;     /* "YYYYMMDDTHHMMSSZ" */
  const char *region;
  const char *service;      /* "s3" */
  const char *access_key_id;
  const char *secret_access_key;
  const char *session_token; /* or NULL; for presigning it goes in the query */
  int normalize_path;       /* 1: fold "." "..", "//" (non-S3 services); S3: 0 */
  long expires;             /* presign only: X-Amz-Expires seconds */
  /* Added after the first version; zero (S3) leaves the behaviour above. */
  int encode_path;          /* 1: URI-encode the (normalized) path once more
                               before signing, as non-S3 services require
                               ("double encoding"; the AWS suite's request
                               paths are unencoded, so they get encoded once).
                               S3: 0, the path is signed as sent. */
  int session_token_unsigned; /* 1: the session token is sent but not signed
                               (the AWS suite's "omit_session_token"): header
                               mode leaves x-amz-security-token out of the
                               signed headers; presign adds X-Amz-Security-Token
                               to out->query only. S3: 0 */
};

/* Header mode signs, besides headers: x-amz-date (from amz_date) and, with a
 * session token, x-amz-security-token, each unless headers already has it;
 * the caller sends both as X-Amz-Date / X-Amz-Security-Token. It never adds
 * x-amz-content-sha256 (S3 callers pass it in headers). Presign signs exactly
 * headers. Query params are decoded then re-encoded (RFC 3986 unreserved kept,
 * '+' is a plus). A NULL required field fails with MMAPURL_E_INVALID_ARG. */

struct mu_sigv4_out {
  char *canonical_request; /* owned */
  char *string_to_sign;    /* owned */
  char signature[65];      /* lowercase hex */
  char *authorization;     /* header mode: the Authorization header value */
  char *query;             /* presign mode: the full signed query string
                              (the request's own query params plus X-Amz-*,
                              sorted as the canonical query), without '?' */
};

/* Header signing. Returns 0 or MMAPURL_E_NOMEM / MMAPURL_E_INTERNAL /
 * MMAPURL_E_LIBRARY (libcrypto could not be loaded).
 * On failure out holds nothing to free. */
int mu_sigv4_sign(const struct mu_sigv4_req *req, struct mu_sigv4_out *out);
/* Query (presigned URL) signing: adds X-Amz-Algorithm, X-Amz-Credential,
 * X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders [, X-Amz-Security-Token],
 * X-Amz-Signature. payload_hash is normally "UNSIGNED-PAYLOAD". */
int mu_sigv4_presign(const struct mu_sigv4_req *req, struct mu_sigv4_out *out);
void mu_sigv4_out_free(struct mu_sigv4_out *out);

/* Lowercase hex SHA-256 of data into hex[65]. */
void mu_sha256_hex(const void *data, size_t len, char hex[65]);
/* The hex SHA-256 of the empty string. */
#define MU_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

#endif
