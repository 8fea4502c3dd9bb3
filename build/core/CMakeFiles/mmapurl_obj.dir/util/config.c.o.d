core/CMakeFiles/mmapurl_obj.dir/util/config.c.o: \
 /work/main/core/util/config.c /usr/include/stdc-predef.h
