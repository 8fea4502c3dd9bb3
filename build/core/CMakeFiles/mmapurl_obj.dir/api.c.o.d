core/CMakeFiles/mmapurl_obj.dir/api.c.o: /work/main/core/api.c \
 /usr/include/stdc-predef.h
