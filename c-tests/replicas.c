/*
 * Replication with MEMCACHED_BEHAVIOR_NUMBER_OF_REPLICAS 2 over three servers (binary
 * protocol): where each write lands, read directly from each server with a separate
 * single-server handle, and how reads behave when the primary misses or is down.
 *
 * The system library only queues the replica copies of a set until the handle is flushed,
 * quit or freed, so right after memcached_set only the primary has the value. The line
 * "servers holding the value right after set" therefore differs from libmemcached-rs,
 * which writes the copies before returning; intended-differences.txt lists it.
 *
 * Servers: MC_PORT1, MC_PORT2, MC_PORT3 (memcached), MC_DEAD_PORT (nothing listening).
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

static memcached_st *replica_handle(const in_port_t ports[3], int binary, int randomize) {
  memcached_st *mc = new_handle(binary);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT);
  for (int i = 0; i < 3; i++) {
    add_server(mc, ports[i]);
  }
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_NUMBER_OF_REPLICAS, 2);
  if (randomize) {
    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_RANDOMIZE_REPLICA_READ, 1);
  }
  return mc;
}

/* Number of servers in SINGLE that have KEY, read each through its own handle. */
static int copies(memcached_st *single[3], const char *key) {
  int count = 0;
  for (int i = 0; i < 3; i++) {
    size_t len;
    memcached_return_t rc;
    char *value = memcached_get(single[i], key, strlen(key), &len, NULL, &rc);
    if (value != NULL) {
      count++;
      free(value);
    }
  }
  return count;
}

/* Waits until quiet replica writes sent on other connections have been processed.
 * memcached serves each connection on one of its worker threads, so a read on another
 * connection can overtake a write that was already sent. 200 ms is generous on loopback. */
static void settle(void) {
  sleep_seconds(0.2);
}

static int has_key(memcached_st *server, const char *key) {
  size_t len;
  memcached_return_t rc;
  char *value = memcached_get(server, key, strlen(key), &len, NULL, &rc);
  free(value);
  return value != NULL;
}

static void check_writes(const in_port_t ports[3], memcached_st *single[3]) {
  memcached_st *mc = replica_handle(ports, 1, 0);
  const char *key = "replicas.bin.set";
  uint32_t primary = memcached_generate_hash(mc, key, strlen(key));

  print_rc("bin set", memcached_set(mc, key, strlen(key), "replicated", 10, 0, 0));
  printf("bin set: primary has the value: %s\n", has_key(single[primary], key) ? "yes" : "no");
  printf("bin set: servers holding the value right after set=%d\n", copies(single, key));
  memcached_quit(mc);
  settle();
  printf("bin set: servers holding the value after quit=%d\n", copies(single, key));

  print_rc("bin delete", memcached_delete(mc, key, strlen(key), 0));
  settle();
  printf("bin delete: servers holding the value after delete=%d\n", copies(single, key));

  const char *added = "replicas.bin.add";
  print_rc("bin add", memcached_add(mc, added, strlen(added), "added", 5, 0, 0));
  memcached_quit(mc);
  settle();
  printf("bin add: servers holding the value after quit=%d\n", copies(single, added));

  const char *counter = "replicas.bin.counter";
  memcached_set(mc, counter, strlen(counter), "10", 2, 0, 0);
  memcached_quit(mc);
  settle();
  uint64_t value = 0;
  memcached_return_t rc = memcached_increment(mc, counter, strlen(counter), 5, &value);
  printf("bin increment rc=%d %s value=%llu\n", (int)rc, rc_name(rc), (unsigned long long)value);
  memcached_quit(mc);
  int incremented = 0;
  for (int i = 0; i < 3; i++) {
    size_t len;
    char *got = memcached_get(single[i], counter, strlen(counter), &len, NULL, &rc);
    if (got != NULL && len == 2 && memcmp(got, "15", 2) == 0) {
      incremented++;
    }
    free(got);
  }
  printf("bin increment: servers holding the incremented value=%d\n", incremented);
  memcached_free(mc);

  /* The text protocol has no replication. */
  mc = replica_handle(ports, 0, 0);
  const char *text_key = "replicas.text.set";
  print_rc("text set", memcached_set(mc, text_key, strlen(text_key), "plain", 5, 0, 0));
  memcached_quit(mc);
  settle();
  printf("text set: servers holding the value after quit=%d\n", copies(single, text_key));
  memcached_free(mc);

  /* Freeing the handle must deliver the copies as well. */
  mc = replica_handle(ports, 1, 0);
  const char *freed = "replicas.bin.free";
  print_rc("bin set before free", memcached_set(mc, freed, strlen(freed), "f", 1, 0, 0));
  memcached_free(mc);
  settle();
  printf("bin set: servers holding the value after free=%d\n", copies(single, freed));
}

static void check_reads(const in_port_t ports[3], memcached_st *single[3]) {
  memcached_st *mc = replica_handle(ports, 1, 0);
  const char *key = "replicas.bin.read";
  uint32_t primary = memcached_generate_hash(mc, key, strlen(key));
  memcached_set(mc, key, strlen(key), "everywhere", 10, 0, 0);
  memcached_quit(mc);
  settle();
  printf("read: servers holding the value=%d\n", copies(single, key));

  /* A miss on the primary is final: the replicas are not asked. */
  print_rc("read: delete on the primary only",
           memcached_delete(single[primary], key, strlen(key), 0));
  size_t len = 0;
  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  char *value = memcached_get(mc, key, strlen(key), &len, NULL, &rc);
  printf("read: get after the primary lost the item rc=%d %s value=%s\n", (int)rc, rc_name(rc),
         value ? "found" : "NULL");
  free(value);
  memcached_free(mc);

  /* With every server holding the value, randomized reads always find it. */
  mc = replica_handle(ports, 1, 1);
  const char *everywhere = "replicas.bin.random";
  memcached_set(mc, everywhere, strlen(everywhere), "r", 1, 0, 0);
  memcached_quit(mc);
  settle();
  int found = 0;
  for (int i = 0; i < 20; i++) {
    value = memcached_get(mc, everywhere, strlen(everywhere), &len, NULL, &rc);
    if (value != NULL && rc == MEMCACHED_SUCCESS) {
      found++;
    }
    free(value);
  }
  printf("read: randomized replica reads found the value %d of 20 times\n", found);
  memcached_free(mc);
}

/* The primary is a port where nothing listens: writes fail, reads go to the replicas. */
static void check_dead_primary(const in_port_t ports[3], in_port_t dead,
                               memcached_st *single[3]) {
  in_port_t with_dead[3];
  with_dead[0] = dead;
  with_dead[1] = ports[1];
  with_dead[2] = ports[2];
  memcached_st *mc = replica_handle(with_dead, 1, 0);

  char key[64];
  int found_key = 0;
  for (int i = 0; i < 1000 && !found_key; i++) {
    fmt(key, sizeof(key), "replicas.dead.%d", i);
    found_key = memcached_generate_hash(mc, key, strlen(key)) == 0;
  }
  printf("dead primary: found a key placed on the dead server: %s\n", found_key ? "yes" : "no");

  memcached_set(single[1], key, strlen(key), "from replica", 12, 0, 0);
  memcached_set(single[2], key, strlen(key), "from replica", 12, 0, 0);

  memcached_return_t rc = memcached_set(mc, key, strlen(key), "new", 3, 0, 0);
  printf("dead primary: set is a connection error: %s (rc=%d %s)\n",
         is_connection_error(rc) ? "yes" : "no", (int)rc, rc_name(rc));
  size_t len = 0;
  char *value = memcached_get(mc, key, strlen(key), &len, NULL, &rc);
  printf("dead primary: get rc=%d %s\n", (int)rc, rc_name(rc));
  if (value != NULL) {
    print_bytes("dead primary: get", value, len);
    free(value);
  }
  memcached_free(mc);
}

int main(void) {
  start_test();
  in_port_t ports[3];
  ports[0] = env_port("MC_PORT1");
  ports[1] = env_port("MC_PORT2");
  ports[2] = env_port("MC_PORT3");
  in_port_t dead = env_port("MC_DEAD_PORT");

  memcached_st *single[3];
  for (int i = 0; i < 3; i++) {
    single[i] = single_server_handle(ports[i], 1);
  }
  check_writes(ports, single);
  check_reads(ports, single);
  check_dead_primary(ports, dead, single);
  for (int i = 0; i < 3; i++) {
    memcached_free(single[i]);
  }
  return 0;
}
