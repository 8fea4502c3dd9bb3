/* shim_driver_abi.h - the checks of shim_driver_abi.c (fortified and
 * pre-2.33 entry points). Each returns 0, or 1 with a message in msg. */
#ifndef SHIM_DRIVER_ABI_H
#define SHIM_DRIVER_ABI_H

#include <stddef.h>

int abi_fortified(const char *path, const unsigned char *want, size_t wantn, char *msg,
                  size_t msgn);
int abi_old_stat(const char *path, long long size, char *msg, size_t msgn);

#endif
