#----------------------------------------------------------------
# Generated CMake target import file for configuration "Debug".
#----------------------------------------------------------------

# Commands may need to know the format version.
set(CMAKE_IMPORT_FILE_VERSION 1)

# Import target "mmapurl::mmapurl" for configuration "Debug"
set_property(TARGET mmapurl::mmapurl APPEND PROPERTY IMPORTED_CONFIGURATIONS DEBUG)
set_target_properties(mmapurl::mmapurl PROPERTIES
  IMPORTED_LOCATION_DEBUG "${_IMPORT_PREFIX}/lib/libmmapurl.so.0.1.0"
  IMPORTED_SONAME_DEBUG "libmmapurl.so.0"
  )

list(APPEND _cmake_import_check_targets mmapurl::mmapurl )
list(APPEND _cmake_import_check_files_for_mmapurl::mmapurl "${_IMPORT_PREFIX}/lib/libmmapurl.so.0.1.0" )

# Commands beyond this point should not need to know the version.
set(CMAKE_IMPORT_FILE_VERSION)
