/*
 * Handle life cycle: memcached_create (heap and caller storage), memcached_clone (of NULL,
 * into caller storage, of a configured handle, after memcached_quit), memcached_free and
 * memcached_quit, plus the sizes of the public structs that callers allocate themselves.
 *
 * Servers: MC_PORT1, MC_PORT2 (memcached on 127.0.0.1).
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

static void print_sizes(void) {
  printf("sizeof memcached_st=%zu\n", sizeof(memcached_st));
  printf("sizeof memcached_server_st=%zu\n", sizeof(memcached_server_st));
  printf("sizeof memcached_stat_st=%zu\n", sizeof(memcached_stat_st));
  printf("sizeof memcached_result_st=%zu\n", sizeof(memcached_result_st));
  printf("MEMCACHED_MAX_KEY=%d MEMCACHED_DEFAULT_PORT=%d\n", (int)MEMCACHED_MAX_KEY,
         (int)MEMCACHED_DEFAULT_PORT);
}

static void print_servers(const char *label, const memcached_st *mc) {
  uint32_t count = memcached_server_count(mc);
  printf("%s server_count=%u\n", label, count);
  for (uint32_t i = 0; i < count; i++) {
    const memcached_instance_st *s = memcached_server_instance_by_position(mc, i);
    const char *name = memcached_server_name(s);
    printf("%s server %u: %s port=%s\n", label, i, name ? name : "(null)",
           port_label(memcached_server_port(s)));
  }
}

/* Store KEY=VALUE and read it back; prints the codes and the value. */
static void round_trip(const char *label, memcached_st *mc, const char *key, const char *value) {
  char line[200];
  memcached_return_t rc =
      memcached_set(mc, key, strlen(key), value, strlen(value), 0, 7);
  print_rc(fmt(line, sizeof(line), "%s set key=%s", label, key), rc);

  size_t len = 99;
  uint32_t flags = 99;
  char *got = memcached_get(mc, key, strlen(key), &len, &flags, &rc);
  print_rc(fmt(line, sizeof(line), "%s get key=%s", label, key), rc);
  if (got != NULL) {
    print_bytes(fmt(line, sizeof(line), "%s get key=%s flags=%u", label, key, flags), got, len);
    free(got);
  } else {
    printf("%s get key=%s returned NULL len=%zu\n", label, key, len);
  }
}

static void check_create_heap(void) {
  memcached_st *mc = memcached_create(NULL);
  printf("create(NULL) returned a handle: %s\n", mc ? "yes" : "no");
  print_servers("create(NULL)", mc);
  printf("create(NULL) POLL_TIMEOUT=%llu\n",
         (unsigned long long)memcached_behavior_get(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT));
  memcached_free(mc);
  memcached_free(NULL);
  printf("free(NULL) returned\n");
}

/* Caller storage: zeroed and 0xff-filled storage must both be accepted by create. */
static void check_create_caller_storage(in_port_t port) {
  memcached_st storage;
  const unsigned char fills[] = {0x00, 0xff};
  for (size_t i = 0; i < sizeof(fills); i++) {
    memset(&storage, fills[i], sizeof(storage));
    memcached_st *mc = memcached_create(&storage);
    char label[64];
    fmt(label, sizeof(label), "create(&storage filled 0x%02x)", fills[i]);
    printf("%s returned the storage: %s\n", label, mc == &storage ? "yes" : "no");
    if (mc != &storage) {
      continue;
    }
    print_servers(label, mc);
    printf("%s CONNECT_TIMEOUT=%llu\n", label,
           (unsigned long long)memcached_behavior_get(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT));
    add_server(mc, port);
    round_trip(label, mc, "lifecycle.stack", "on the stack");
    memcached_free(mc);
    printf("%s freed\n", label);
  }
}

static void check_clone_of_null(void) {
  memcached_st *mc = memcached_clone(NULL, NULL);
  printf("clone(NULL, NULL) returned a handle: %s\n", mc ? "yes" : "no");
  print_servers("clone(NULL, NULL)", mc);
  printf("clone(NULL, NULL) RETRY_TIMEOUT=%llu\n",
         (unsigned long long)memcached_behavior_get(mc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT));
  memcached_free(mc);

  memcached_st storage;
  memset(&storage, 0, sizeof(storage));
  mc = memcached_clone(&storage, NULL);
  printf("clone(&zeroed storage, NULL) returned the storage: %s\n",
         mc == &storage ? "yes" : "no");
  memcached_free(mc);
}

static memcached_st *configured_handle(in_port_t port1, in_port_t port2) {
  memcached_st *mc = new_handle(1);
  add_server(mc, port1);
  add_server(mc, port2);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 1234);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, 567);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT, 3);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 9);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_AUTO_EJECT_HOSTS, 1);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_NUMBER_OF_REPLICAS, 1);
  memcached_callback_set(mc, MEMCACHED_CALLBACK_PREFIX_KEY, "lifecycle.ns.");
  return mc;
}

static void print_configuration(const char *label, memcached_st *mc) {
  static const memcached_behavior_t shown[] = {
      MEMCACHED_BEHAVIOR_BINARY_PROTOCOL,      MEMCACHED_BEHAVIOR_TCP_NODELAY,
      MEMCACHED_BEHAVIOR_DISTRIBUTION,         MEMCACHED_BEHAVIOR_POLL_TIMEOUT,
      MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT,      MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT,
      MEMCACHED_BEHAVIOR_RETRY_TIMEOUT,        MEMCACHED_BEHAVIOR_AUTO_EJECT_HOSTS,
      MEMCACHED_BEHAVIOR_NUMBER_OF_REPLICAS,   MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS,
      MEMCACHED_BEHAVIOR_LOAD_FROM_FILE,
  };
  for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++) {
    printf("%s behavior %s=%llu\n", label, behavior_name(shown[i]),
           (unsigned long long)memcached_behavior_get(mc, shown[i]));
  }
  memcached_return_t rc = MEMCACHED_FAILURE;
  const char *ns = (const char *)memcached_callback_get(mc, MEMCACHED_CALLBACK_PREFIX_KEY, &rc);
  printf("%s namespace=\"%s\" rc=%d\n", label, ns ? ns : "(null)", (int)rc);
  print_servers(label, mc);
}

static void check_clone_configured(in_port_t port1, in_port_t port2) {
  memcached_st *original = configured_handle(port1, port2);
  memcached_st *copy = memcached_clone(NULL, original);
  printf("clone(NULL, configured) returned a handle: %s\n", copy ? "yes" : "no");
  print_configuration("clone", copy);

  /* The copy must be independent: changing or freeing the original leaves it working. */
  memcached_behavior_set(original, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 4321);
  memcached_servers_reset(original);
  print_configuration("original after reset", original);
  memcached_free(original);
  print_configuration("clone after original freed", copy);
  round_trip("clone after original freed", copy, "lifecycle.clone", "cloned");

  memcached_st storage;
  memset(&storage, 0, sizeof(storage));
  memcached_st *second = memcached_clone(&storage, copy);
  printf("clone(&zeroed storage, configured) returned the storage: %s\n",
         second == &storage ? "yes" : "no");
  if (second == &storage) {
    round_trip("clone in caller storage", second, "lifecycle.clone", "second");
    memcached_free(second);
  }
  memcached_free(copy);
}

/* ProFTPD's per-session pattern: quit the connected handle, clone it, free the original. */
static void check_clone_after_quit(in_port_t port1, int binary) {
  char label[64];
  fmt(label, sizeof(label), "%s clone after quit", protocol_name(binary));
  memcached_st *mc = single_server_handle(port1, binary);
  round_trip(label, mc, "lifecycle.quit", "before quit");
  memcached_quit(mc);
  memcached_st *copy = memcached_clone(NULL, mc);
  memcached_free(mc);
  printf("%s returned a handle: %s\n", label, copy ? "yes" : "no");
  round_trip(label, copy, "lifecycle.quit", "after quit");

  /* quit twice in a row and quit of a handle without servers must be harmless */
  memcached_quit(copy);
  memcached_quit(copy);
  round_trip(label, copy, "lifecycle.quit", "after two quits");
  memcached_free(copy);

  memcached_st *empty = new_handle(binary);
  memcached_quit(empty);
  printf("%s quit of a handle without servers returned\n", protocol_name(binary));
  memcached_free(empty);
}

int main(void) {
  start_test();
  in_port_t port1 = env_port("MC_PORT1");
  in_port_t port2 = env_port("MC_PORT2");

  print_sizes();
  check_create_heap();
  check_create_caller_storage(port1);
  check_clone_of_null();
  check_clone_configured(port1, port2);
  check_clone_after_quit(port1, 0);
  check_clone_after_quit(port1, 1);
  return 0;
}
