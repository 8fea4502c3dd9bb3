core/CMakeFiles/mmapurl_obj.dir/auth/creds.c.o: \
 /work/main/core/auth/creds.c /usr/include/stdc-predef.h
