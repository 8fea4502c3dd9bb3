core/CMakeFiles/mmapurl_obj.dir/util/stats.c.o: \
 /work/main/core/util/stats.c /usr/include/stdc-predef.h
