#!/usr/bin/env bash
# check_exports - libmmapurl.so exports the public API and nothing else,
# and carries a versioned SONAME.
set -euo pipefail
lib=$1
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' \
      | sed "s/@.*//" | grep -vE '^(mmap_s3|munmap_s3|mmap_s3_errstr|mmapurl_[a-z_]+)$' || true)
if [ -n "$bad" ]; then
  echo "unexpected exported symbols:"; echo "$bad"; exit 1
fi
for sym in mmap_s3 munmap_s3 mmapurl_map mmapurl_advise mmap_s3_errstr mmapurl_errdetail mmapurl_object_open mmapurl_object_read \
           mmapurl_object_close mmapurl_object_size mmapurl_object_etag mmapurl_stats_get; do
  nm -D --defined-only "$lib" | grep -qw "$sym" || { echo "missing export: $sym"; exit 1; }
done
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
[[ "$soname" =~ ^libmmapurl\.so\.[0-9]+$ ]] || { echo "bad SONAME: '$soname'"; exit 1; }
echo "exports ok, SONAME $soname"
