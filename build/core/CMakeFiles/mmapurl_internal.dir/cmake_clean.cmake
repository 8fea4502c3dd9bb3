file(REMOVE_RECURSE
  "libmmapurl_internal.a"
  "libmmapurl_internal.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/mmapurl_internal.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
