core/CMakeFiles/mmapurl_obj.dir/s3/s3.c.o: /work/main/core/s3/s3.c \
 /usr/include/stdc-predef.h
