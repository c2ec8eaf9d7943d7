/* Part of the libmemcachedutil C interface, all of which util.h declares. */
#include <libmemcachedutil-1.0/util.h>
