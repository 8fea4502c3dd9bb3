file(REMOVE_RECURSE
  "libmmapurl_internal.a"
)
