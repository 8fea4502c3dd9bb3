core/CMakeFiles/mmapurl_obj.dir/http/http.c.o: \
 /work/main/core/http/http.c /usr/include/stdc-predef.h
