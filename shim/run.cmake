# mmapurl-run, the launcher (shim/run.c): its target, defines and install rule.
# It must never link the core nor be built with sanitizers: sanitizer test
# runs preload the sanitizer's runtime into the programs they launch, and a
# launcher carrying its own (static) copy of that runtime would clash with it.

# Where the installed shim is, relative to the installed launcher ("../lib").
file(RELATIVE_PATH MMAPURL_RUN_BIN_TO_LIB ${CMAKE_INSTALL_FULL_BINDIR} ${CMAKE_INSTALL_FULL_LIBDIR})
if(MMAPURL_RUN_BIN_TO_LIB STREQUAL "")
  set(MMAPURL_RUN_BIN_TO_LIB .)
endif()
# Global, so tests/run can lay out a copy of the installed tree.
set(MMAPURL_RUN_BIN_TO_LIB ${MMAPURL_RUN_BIN_TO_LIB} CACHE INTERNAL "libdir relative to bindir")

add_executable(mmapurl-run ${CMAKE_CURRENT_LIST_DIR}/run.c)
target_compile_definitions(mmapurl-run PRIVATE _GNU_SOURCE
  MMAPURL_VERSION="${PROJECT_VERSION}"
  MMAPURL_SHIM_NAME="$<TARGET_FILE_NAME:mmapurl_shim>"
  MMAPURL_BIN_TO_LIB="${MMAPURL_RUN_BIN_TO_LIB}")
target_compile_options(mmapurl-run PRIVATE -fno-sanitize=all)
target_link_options(mmapurl-run PRIVATE -fno-sanitize=all)
install(TARGETS mmapurl-run RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
