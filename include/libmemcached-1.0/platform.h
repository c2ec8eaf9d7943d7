/* Part of the libmemcached C interface, all of which memcached.h declares. */
#include <libmemcached-1.0/memcached.h>
