# Empty dependencies file for mmapurl.
# This may be replaced when dependencies are built.
