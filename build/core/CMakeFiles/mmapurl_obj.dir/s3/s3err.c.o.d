core/CMakeFiles/mmapurl_obj.dir/s3/s3err.c.o: /work/main/core/s3/s3err.c \
 /usr/include/stdc-predef.h
