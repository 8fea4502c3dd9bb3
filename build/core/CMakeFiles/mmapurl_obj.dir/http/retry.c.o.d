core/CMakeFiles/mmapurl_obj.dir/http/retry.c.o: \
 /work/main/core/http/retry.c /usr/include/stdc-predef.h
