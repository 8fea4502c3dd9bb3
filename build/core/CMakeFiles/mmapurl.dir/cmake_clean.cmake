file(REMOVE_RECURSE
  "libmmapurl.pdb"
  "libmmapurl.so"
  "libmmapurl.so.0"
  "libmmapurl.so.0.1.0"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/mmapurl.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
