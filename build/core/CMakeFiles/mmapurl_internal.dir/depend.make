# Empty dependencies file for mmapurl_internal.
# This may be replaced when dependencies are built.
