/*
 * With replicas on (binary protocol) and every server down, memcached_get must report a
 * connection error, never NOTFOUND. A caller that sees NOTFOUND treats the key as absent
 * instead of reporting an outage, so ProFTPD's mod_ban would then let a banned client in.
 *
 * System library (libmemcached 1.1.4): FAILS. The replica read path turns the failed
 * requests into misses, so get returns NOTFOUND.
 *
 * Servers: MC_DEAD_PORT, MC_DEAD_PORT2, MC_DEAD_PORT3 (nothing listening).
 */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

static void check_gets(const in_port_t dead[3], int randomize) {
  const char *mode = randomize ? "randomized replica reads" : "ordered replica reads";
  memcached_st *mc = new_handle(1);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT);
  for (int i = 0; i < 3; i++) {
    add_server(mc, dead[i]);
  }
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_NUMBER_OF_REPLICAS, 2);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_RANDOMIZE_REPLICA_READ, randomize ? 1 : 0);

  /* The first get meets refused connects, later ones servers in their retry window. */
  for (int attempt = 0; attempt < 4; attempt++) {
    char key[32];
    fmt(key, sizeof(key), "replicas.down.%d", attempt);
    size_t len = 0;
    memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
    char *value = memcached_get(mc, key, strlen(key), &len, NULL, &rc);
    check_that(value == NULL && is_connection_error(rc),
               "%s: get #%d with all servers down returns a connection error (rc=%d %s)", mode,
               attempt, (int)rc, rc_name(rc));
    free(value);
  }

  memcached_return_t rc = memcached_set(mc, "replicas.down.set", 17, "v", 1, 0, 0);
  check_that(is_connection_error(rc), "%s: set with all servers down rc=%d %s", mode, (int)rc,
             rc_name(rc));
  memcached_free(mc);
}

int main(void) {
  start_test();
  in_port_t dead[3];
  dead[0] = env_port("MC_DEAD_PORT");
  dead[1] = env_port("MC_DEAD_PORT2");
  dead[2] = env_port("MC_DEAD_PORT3");
  check_gets(dead, 0);
  check_gets(dead, 1);
  return finish("replicas_all_down_no_notfound");
}
