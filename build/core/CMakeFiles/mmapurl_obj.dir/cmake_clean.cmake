file(REMOVE_RECURSE
  "CMakeFiles/mmapurl_obj.dir/api.c.o"
  "CMakeFiles/mmapurl_obj.dir/api.c.o.d"
  "CMakeFiles/mmapurl_obj.dir/auth/creds.c.o"
  "CMakeFiles/mmapurl_obj.dir/auth/creds.c.o.d"
  "CMakeFiles/mmapurl_obj.dir/auth/ini.c.o"
  "CMakeFiles/mmapurl_obj.dir/auth/ini.c.o.d"
  "CMakeFiles/mmapurl_obj.dir/auth/sigv4.c.o"
  "CMakeFiles/mmapurl_obj.dir/auth/sigv4.c.o.d"
  "CMakeFiles/mmapurl_obj.dir/http/http.c.o"
  "CMakeFiles/mmapurl_obj.dir/http/http.c.o.d"
  "CMakeFiles/mmapurl_obj.dir/http/retry.c.o"
  "CMakeFiles/mmapurl_obj.dir/http/retry.c.o.d"
  "CMakeFiles/mmapurl_obj.dir/s3/s3.c.o"
  "CMakeFiles/mmapurl_obj.dir/s3/s3.c.o.d"
  "CMakeFiles/mmapurl_obj.dir/s3/s3err.c.o"
  "CMakeFiles/mmapurl_obj.dir/s3/s3err.c.o.d"
  "CMakeFiles/mmapurl_obj.dir/util/buf.c.o"
  "CMakeFiles/mmapurl_obj.dir/util/buf.c.o.d"
  "CMakeFiles/mmapurl_obj.dir/util/config.c.o"
  "CMakeFiles/mmapurl_obj.dir/util/config.c.o.d"
  "CMakeFiles/mmapurl_obj.dir/util/error.c.o"
  "CMakeFiles/mmapurl_obj.dir/util/error.c.o.d"
  "CMakeFiles/mmapurl_obj.dir/util/log.c.o"
  "CMakeFiles/mmapurl_obj.dir/util/log.c.o.d"
  "CMakeFiles/mmapurl_obj.dir/util/stats.c.o"
  "CMakeFiles/mmapurl_obj.dir/util/stats.c.o.d"
  "CMakeFiles/mmapurl_obj.dir/util/url.c.o"
  "CMakeFiles/mmapurl_obj.dir/util/url.c.o.d"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/mmapurl_obj.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
