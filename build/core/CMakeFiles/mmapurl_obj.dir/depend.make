# Empty dependencies file for mmapurl_obj.
# This may be replaced when dependencies are built.
