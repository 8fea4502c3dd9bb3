
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/core/api.c" "core/CMakeFiles/mmapurl_obj.dir/api.c.o" "gcc" "core/CMakeFiles/mmapurl_obj.dir/api.c.o.d"
  "/work/main/core/auth/creds.c" "core/CMakeFiles/mmapurl_obj.dir/auth/creds.c.o" "gcc" "core/CMakeFiles/mmapurl_obj.dir/auth/creds.c.o.d"
  "/work/main/core/auth/ini.c" "core/CMakeFiles/mmapurl_obj.dir/auth/ini.c.o" "gcc" "core/CMakeFiles/mmapurl_obj.dir/auth/ini.c.o.d"
  "/work/main/core/auth/sigv4.c" "core/CMakeFiles/mmapurl_obj.dir/auth/sigv4.c.o" "gcc" "core/CMakeFiles/mmapurl_obj.dir/auth/sigv4.c.o.d"
  "/work/main/core/http/http.c" "core/CMakeFiles/mmapurl_obj.dir/http/http.c.o" "gcc" "core/CMakeFiles/mmapurl_obj.dir/http/http.c.o.d"
  "/work/main/core/http/retry.c" "core/CMakeFiles/mmapurl_obj.dir/http/retry.c.o" "gcc" "core/CMakeFiles/mmapurl_obj.dir/http/retry.c.o.d"
  "/work/main/core/s3/s3.c" "core/CMakeFiles/mmapurl_obj.dir/s3/s3.c.o" "gcc" "core/CMakeFiles/mmapurl_obj.dir/s3/s3.c.o.d"
  "/work/main/core/s3/s3err.c" "core/CMakeFiles/mmapurl_obj.dir/s3/s3err.c.o" "gcc" "core/CMakeFiles/mmapurl_obj.dir/s3/s3err.c.o.d"
  "/work/main/core/util/buf.c" "core/CMakeFiles/mmapurl_obj.dir/util/buf.c.o" "gcc" "core/CMakeFiles/mmapurl_obj.dir/util/buf.c.o.d"
  "/work/main/core/util/config.c" "core/CMakeFiles/mmapurl_obj.dir/util/config.c.o" "gcc" "core/CMakeFiles/mmapurl_obj.dir/util/config.c.o.d"
  "/work/main/core/util/error.c" "core/CMakeFiles/mmapurl_obj.dir/util/error.c.o" "gcc" "core/CMakeFiles/mmapurl_obj.dir/util/error.c.o.d"
  "/work/main/core/util/log.c" "core/CMakeFiles/mmapurl_obj.dir/util/log.c.o" "gcc" "core/CMakeFiles/mmapurl_obj.dir/util/log.c.o.d"
  "/work/main/core/util/stats.c" "core/CMakeFiles/mmapurl_obj.dir/util/stats.c.o" "gcc" "core/CMakeFiles/mmapurl_obj.dir/util/stats.c.o.d"
  "/work/main/core/util/url.c" "core/CMakeFiles/mmapurl_obj.dir/util/url.c.o" "gcc" "core/CMakeFiles/mmapurl_obj.dir/util/url.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
