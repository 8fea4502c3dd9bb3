core/CMakeFiles/mmapurl_obj.dir/util/url.c.o: /work/main/core/util/url.c \
 /usr/include/stdc-predef.h
