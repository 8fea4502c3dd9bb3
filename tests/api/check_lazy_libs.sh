#!/usr/bin/env bash
# check_lazy_libs - LIB... list neither libcurl nor libcrypto (nor libssl) as
# NEEDED: the core loads them with dlopen at the first request
# (core/util/libs.c), so a program that preloads the shim, or links
# libmmapurl, and never touches S3 never loads their ~30 libraries.
set -euo pipefail
status=0
for lib in "$@"; do
  needed=$(readelf -d "$lib" | awk '/\(NEEDED\)/ { gsub(/[][]/, "", $NF); print $NF }')
  [[ -n $needed ]] || { echo "$lib: readelf shows no NEEDED entry at all"; exit 1; }
  bad=$(grep -E '^lib(curl|crypto|ssl)[.-]' <<<"$needed" || true)
  if [[ -n $bad ]]; then
    echo "$lib: NEEDED $(paste -sd' ' <<<"$bad"): link without them (they are loaded on first use)"
    status=1
  else
    echo "$lib: NEEDED $(paste -sd' ' <<<"$needed")"
  fi
done
exit $status
