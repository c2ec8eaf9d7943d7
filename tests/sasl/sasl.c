/*
 * SASL PLAIN authentication in the binary protocol against a memcached started with -S.
 * Prints one line per check; run.sh runs it on libmemcached-rs and on Debian's libmemcached
 * and compares the output.
 *
 * Usage: sasl PORT USER PASSWORD
 */
#include <libmemcached/memcached.h>
#include <libmemcached/util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static memcached_st *handle(in_port_t port, const char *user, const char *password) {
  memcached_st *mc = memcached_create(NULL);
  memcached_server_add(mc, "127.0.0.1", port);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1);
  memcached_return_t rc = memcached_set_sasl_auth_data(mc, user, password);
  printf("set_sasl_auth_data rc=%d\n", (int)rc);
  return mc;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s PORT USER PASSWORD\n", argv[0]);
    return 2;
  }
  in_port_t port = (in_port_t)atoi(argv[1]);
  const char *user = argv[2];
  const char *password = argv[3];

  memcached_st *mc = handle(port, user, password);
  memcached_return_t rc = memcached_set(mc, "sasl.key", 8, "sasl value", 10, 0, 5);
  printf("good password: set rc=%d %s\n", (int)rc, memcached_strerror(mc, rc));
  size_t length = 0;
  uint32_t flags = 0;
  char *value = memcached_get(mc, "sasl.key", 8, &length, &flags, &rc);
  printf("good password: get rc=%d value=%.*s flags=%u\n", (int)rc, (int)length,
         value ? value : "", flags);
  free(value);
  rc = memcached_destroy_sasl_auth_data(mc);
  printf("destroy_sasl_auth_data rc=%d\n", (int)rc);
  memcached_free(mc);

  mc = handle(port, user, "not the password");
  rc = memcached_set(mc, "sasl.key", 8, "other", 5, 0, 0);
  printf("wrong password: set rc=%d %s\n", (int)rc, memcached_strerror(mc, rc));
  const char *message = memcached_last_error_message(mc);
  printf("wrong password: message mentions the password: %s\n",
         strstr(message, "not the password") ? "yes" : "no");
  memcached_free(mc);

  mc = memcached_create(NULL);
  memcached_server_add(mc, "127.0.0.1", port);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1);
  rc = memcached_set(mc, "sasl.key", 8, "other", 5, 0, 0);
  printf("no credentials: set failed: %s\n", rc == MEMCACHED_SUCCESS ? "no" : "yes");
  memcached_free(mc);

  bool alive = libmemcached_util_ping2("127.0.0.1", port, user, password, &rc);
  printf("ping2 good password: %s rc=%d\n", alive ? "alive" : "failed", (int)rc);
  return 0;
}
