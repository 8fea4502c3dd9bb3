core/CMakeFiles/mmapurl_obj.dir/auth/ini.c.o: /work/main/core/auth/ini.c \
 /usr/include/stdc-predef.h
