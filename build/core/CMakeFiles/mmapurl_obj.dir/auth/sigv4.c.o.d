core/CMakeFiles/mmapurl_obj.dir/auth/sigv4.c.o: \
 /work/main/core/auth/sigv4.c /usr/include/stdc-predef.h
