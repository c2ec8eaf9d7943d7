/*
 * memcached_strerror for every code 0..50, with and without a handle, and
 * memcached_lib_version against the header's version macros.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

int main(void) {
  start_test();
  memcached_st *mc = new_handle(0);

  for (int code = 0; code <= 50; code++) {
    memcached_return_t rc = (memcached_return_t)code;
    const char *without = memcached_strerror(NULL, rc);
    const char *with = memcached_strerror(mc, rc);
    printf("strerror %d (%s): \"%s\"\n", code, rc_name(rc), without ? without : "(null)");
    if (without == NULL || with == NULL || strcmp(without, with) != 0) {
      printf("strerror %d: text differs when a handle is given\n", code);
    }
  }
  printf("MEMCACHED_MAXIMUM_RETURN=%d\n", (int)MEMCACHED_MAXIMUM_RETURN);

  const char *version = memcached_lib_version();
  printf("lib_version \"%s\"\n", version ? version : "(null)");
  printf("lib_version equals LIBMEMCACHED_VERSION_STRING: %s\n",
         version && strcmp(version, LIBMEMCACHED_VERSION_STRING) == 0 ? "yes" : "no");
  printf("LIBMEMCACHED_VERSION_STRING \"%s\"\n", LIBMEMCACHED_VERSION_STRING);
  printf("LIBMEMCACHED_VERSION_HEX 0x%09llx\n", (unsigned long long)LIBMEMCACHED_VERSION_HEX);

  memcached_free(mc);
  return 0;
}
