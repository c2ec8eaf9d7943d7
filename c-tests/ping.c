/*
 * libmemcached_util_ping from libmemcachedutil: a live server, a refused port, a NULL
 * return-code pointer, and the time a refused port takes.
 *
 * Servers: MC_PORT1 (memcached), MC_DEAD_PORT (nothing listening).
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

static void ping(const char *label, const char *host, in_port_t port) {
  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  double start = now_seconds();
  bool alive = libmemcached_util_ping(host, port, &rc);
  double elapsed = now_seconds() - start;
  printf("%s ping=%s rc=%d %s\n", label, alive ? "true" : "false", (int)rc, rc_name(rc));
  /* A refused loopback connect fails at once; a few seconds would mean a retry loop. */
  printf("%s returned within 2 s: %s\n", label, elapsed < 2.0 ? "yes" : "no");
}

int main(void) {
  start_test();
  in_port_t live = env_port("MC_PORT1");
  in_port_t dead = env_port("MC_DEAD_PORT");

  ping("live 127.0.0.1", "127.0.0.1", live);
  ping("live again", "127.0.0.1", live);
  ping("dead 127.0.0.1", "127.0.0.1", dead);
  ping("dead again", "127.0.0.1", dead);
  ping("live after dead", "127.0.0.1", live);

  bool alive = libmemcached_util_ping("127.0.0.1", live, NULL);
  printf("live with NULL rc pointer ping=%s\n", alive ? "true" : "false");
  alive = libmemcached_util_ping("127.0.0.1", dead, NULL);
  printf("dead with NULL rc pointer ping=%s\n", alive ? "true" : "false");
  return 0;
}
