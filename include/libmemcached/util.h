/* The libmemcachedutil C interface (ping, flush, pid, version check, pool). */
#include <libmemcachedutil-1.0/util.h>
