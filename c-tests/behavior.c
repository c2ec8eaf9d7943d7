/*
 * memcached_behavior_get and memcached_behavior_set: the defaults of a fresh handle, and each
 * behavior 0..37 set to 1 and back to 0. Then the quirks ProFTPD runs into: CACHE_LOOKUPS is
 * deprecated, BINARY_PROTOCOL clears VERIFY_KEY, VERIFY_KEY is rejected in binary mode, and
 * AUTO_EJECT_HOSTS and REMOVE_FAILED_SERVERS are one flag. Last, rejected values.
 *
 * Servers: none. No handle in this program has a server, so nothing connects and the
 * socket buffer sizes read back as stored rather than as the kernel's defaults.
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#define BEHAVIOR_COUNT 38

static memcached_behavior_t behavior_at(int value) {
  return (memcached_behavior_t)value;
}

static unsigned long long get(memcached_st *mc, memcached_behavior_t behavior) {
  return (unsigned long long)memcached_behavior_get(mc, behavior);
}

/* Set BEHAVIOR to VALUE and print the result and what reads back. */
static void set_and_get(const char *label, memcached_st *mc, memcached_behavior_t behavior,
                        uint64_t value) {
  char line[160];
  memcached_return_t rc = memcached_behavior_set(mc, behavior, value);
  fmt(line, sizeof(line), "%s set %s=%llu", label, behavior_name(behavior),
      (unsigned long long)value);
  print_rc(line, rc);
  printf("%s get %s=%llu\n", label, behavior_name(behavior), get(mc, behavior));
}

static void check_defaults(void) {
  memcached_st *mc = new_handle(0);
  for (int b = 0; b < BEHAVIOR_COUNT; b++) {
    printf("default %s=%llu\n", behavior_name(behavior_at(b)), get(mc, behavior_at(b)));
  }
  /* Reading USER_DATA above records a DEPRECATED error on the handle. */
  print_rc("last_error after reading the defaults", memcached_last_error(mc));
  memcached_free(mc);

  memcached_st storage;
  memset(&storage, 0, sizeof(storage));
  mc = memcached_create(&storage);
  for (int b = 0; b < BEHAVIOR_COUNT; b++) {
    if (b == MEMCACHED_BEHAVIOR_USER_DATA) {
      continue;
    }
    printf("caller storage default %s=%llu\n", behavior_name(behavior_at(b)),
           get(mc, behavior_at(b)));
  }
  memcached_free(mc);
}

/* Every behavior, each on a fresh handle: set 1, read, set 0, read, and the other flags
 * the change touched. */
static void check_each_behavior(void) {
  for (int b = 0; b < BEHAVIOR_COUNT; b++) {
    memcached_behavior_t behavior = behavior_at(b);
    memcached_st *mc = new_handle(0);
    set_and_get("each", mc, behavior, 1);
    set_and_get("each", mc, behavior, 0);
    memcached_free(mc);
  }
}

static void check_null_handle(void) {
  printf("get(NULL, POLL_TIMEOUT)=%llu\n", get(NULL, MEMCACHED_BEHAVIOR_POLL_TIMEOUT));
  printf("get(NULL, NO_BLOCK)=%llu\n", get(NULL, MEMCACHED_BEHAVIOR_NO_BLOCK));
  print_rc("set(NULL, TCP_NODELAY, 1)",
           memcached_behavior_set(NULL, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1));
}

/* The behaviors mod_memcache sets, in its order, with the values it uses. */
static void check_proftpd_behaviors(void) {
  memcached_st *mc = new_handle(0);
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_USE_UDP, 0);
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_CACHE_LOOKUPS, 1);
  print_rc("proftpd last_error after CACHE_LOOKUPS", memcached_last_error(mc));
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_CACHE_LOOKUPS, 0);
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_VERIFY_KEY, 1);
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT);
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_NO_BLOCK, 0);
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT, 3);
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT, 0);
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 7);

  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_AUTO_EJECT_HOSTS, 1);
  printf("proftpd after AUTO_EJECT_HOSTS=1: REMOVE_FAILED_SERVERS=%llu\n",
         get(mc, MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS));
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS, 0);
  printf("proftpd after REMOVE_FAILED_SERVERS=0: AUTO_EJECT_HOSTS=%llu\n",
         get(mc, MEMCACHED_BEHAVIOR_AUTO_EJECT_HOSTS));
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS, 1);
  printf("proftpd after REMOVE_FAILED_SERVERS=1: AUTO_EJECT_HOSTS=%llu\n",
         get(mc, MEMCACHED_BEHAVIOR_AUTO_EJECT_HOSTS));

  printf("proftpd before BINARY_PROTOCOL: VERIFY_KEY=%llu\n",
         get(mc, MEMCACHED_BEHAVIOR_VERIFY_KEY));
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1);
  printf("proftpd after BINARY_PROTOCOL=1: VERIFY_KEY=%llu\n",
         get(mc, MEMCACHED_BEHAVIOR_VERIFY_KEY));
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_VERIFY_KEY, 1);
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, 500);
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, 500);
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_SND_TIMEOUT, 500);
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_NUMBER_OF_REPLICAS, 2);
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_RANDOMIZE_REPLICA_READ, 1);
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 0);
  printf("proftpd after BINARY_PROTOCOL=0: VERIFY_KEY=%llu\n",
         get(mc, MEMCACHED_BEHAVIOR_VERIFY_KEY));
  set_and_get("proftpd", mc, MEMCACHED_BEHAVIOR_VERIFY_KEY, 1);
  memcached_free(mc);
}

static void check_odd_values(void) {
  memcached_st *mc = new_handle(0);

  /* HASH: HSIEH is not available in Debian's build (libmemcached-rs offers it), 12 (MAX) is
   * rejected and resets to DEFAULT, values above 12 are accepted without effect. */
  set_and_get("hash hsieh", mc, MEMCACHED_BEHAVIOR_HASH, MEMCACHED_HASH_HSIEH);
  set_and_get("hash", mc, MEMCACHED_BEHAVIOR_HASH, MEMCACHED_HASH_MD5);
  set_and_get("hash", mc, MEMCACHED_BEHAVIOR_HASH, MEMCACHED_HASH_CUSTOM);
  set_and_get("hash", mc, MEMCACHED_BEHAVIOR_HASH, MEMCACHED_HASH_MURMUR3);
  set_and_get("hash", mc, MEMCACHED_BEHAVIOR_HASH, MEMCACHED_HASH_MAX);
  set_and_get("hash", mc, MEMCACHED_BEHAVIOR_HASH, MEMCACHED_HASH_CRC);
  set_and_get("hash", mc, MEMCACHED_BEHAVIOR_HASH, 13);
  set_and_get("ketama_hash", mc, MEMCACHED_BEHAVIOR_KETAMA_HASH, MEMCACHED_HASH_FNV1A_32);
  printf("ketama_hash: HASH=%llu\n", get(mc, MEMCACHED_BEHAVIOR_HASH));

  for (int d = 0; d <= 7; d++) {
    set_and_get("distribution", mc, MEMCACHED_BEHAVIOR_DISTRIBUTION, (uint64_t)d);
    printf("distribution %d: KETAMA=%llu KETAMA_WEIGHTED=%llu\n", d,
           get(mc, MEMCACHED_BEHAVIOR_KETAMA), get(mc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED));
  }

  set_and_get("ketama", mc, MEMCACHED_BEHAVIOR_KETAMA, 1);
  printf("ketama: DISTRIBUTION=%llu HASH=%llu\n", get(mc, MEMCACHED_BEHAVIOR_DISTRIBUTION),
         get(mc, MEMCACHED_BEHAVIOR_HASH));
  set_and_get("ketama", mc, MEMCACHED_BEHAVIOR_KETAMA, 0);
  printf("ketama: DISTRIBUTION=%llu\n", get(mc, MEMCACHED_BEHAVIOR_DISTRIBUTION));
  set_and_get("ketama_weighted", mc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1);
  printf("ketama_weighted: DISTRIBUTION=%llu HASH=%llu KETAMA_HASH=%llu\n",
         get(mc, MEMCACHED_BEHAVIOR_DISTRIBUTION), get(mc, MEMCACHED_BEHAVIOR_HASH),
         get(mc, MEMCACHED_BEHAVIOR_KETAMA_HASH));
  set_and_get("ketama_weighted", mc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 0);
  printf("ketama_weighted: DISTRIBUTION=%llu\n", get(mc, MEMCACHED_BEHAVIOR_DISTRIBUTION));

  /* Timeouts are stored as 32-bit signed numbers. */
  set_and_get("timeout", mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 700);
  set_and_get("timeout", mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, (uint64_t)-1);
  set_and_get("timeout", mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 0);
  set_and_get("timeout", mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, 250);
  set_and_get("timeout", mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, 0);
  set_and_get("timeout", mc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 0);
  set_and_get("timeout", mc, MEMCACHED_BEHAVIOR_DEAD_TIMEOUT, 3);

  set_and_get("udp", mc, MEMCACHED_BEHAVIOR_USE_UDP, 1);
  printf("udp on: NOREPLY=%llu BUFFER_REQUESTS=%llu\n", get(mc, MEMCACHED_BEHAVIOR_NOREPLY),
         get(mc, MEMCACHED_BEHAVIOR_BUFFER_REQUESTS));
  set_and_get("udp", mc, MEMCACHED_BEHAVIOR_BUFFER_REQUESTS, 1);
  set_and_get("udp", mc, MEMCACHED_BEHAVIOR_NOREPLY, 0);
  set_and_get("udp", mc, MEMCACHED_BEHAVIOR_USE_UDP, 0);
  printf("udp off: NOREPLY=%llu\n", get(mc, MEMCACHED_BEHAVIOR_NOREPLY));

  set_and_get("deprecated", mc, MEMCACHED_BEHAVIOR_CORK, 0);
  set_and_get("deprecated", mc, MEMCACHED_BEHAVIOR_USER_DATA, 1);
  set_and_get("deprecated", mc, MEMCACHED_BEHAVIOR_LOAD_FROM_FILE, 1);
  memcached_free(mc);
}

int main(void) {
  start_test();
  check_defaults();
  check_each_behavior();
  check_null_handle();
  check_proftpd_behaviors();
  check_odd_values();
  return 0;
}
