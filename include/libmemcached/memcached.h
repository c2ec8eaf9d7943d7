/* The libmemcached C interface under its traditional path. */
#include <libmemcached-1.0/memcached.h>
