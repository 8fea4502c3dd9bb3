/*
 * api_map.h - what api_map.c offers inside the library besides the public
 * mapping API: mapping an S3 object already open, with the settings
 * mmap_s3 uses (the LD_PRELOAD shim maps the files it opens this way).
 */
#ifndef MU_API_MAP_H
#define MU_API_MAP_H

struct mu_map;
struct mu_s3_object;

/* Map obj with the environment's block size, readahead and cache limit
 * (mmap_s3's defaults). On success the mapping owns obj (it closes it when
 * released); on failure the caller keeps it. 0 or an MMAPURL_E_* code,
 * MMAPURL_E_UFFD_UNAVAILABLE when userfaultfd is not permitted. */
int mu_map_s3_object(struct mu_s3_object *obj, struct mu_map **out);

#endif
