/*
 * The key namespace (memcached_callback_set with MEMCACHED_CALLBACK_PREFIX_KEY), in both
 * protocols. The namespace is prepended on the wire, stripped from fetched keys, not used
 * for server selection, cleared by NULL and copied by clone. An empty namespace is invalid,
 * 128 bytes is KEY_TOO_BIG, and characters are checked in the text protocol only.
 *
 * Servers: MC_PORT1, MC_PORT2, MC_PORT3 (memcached).
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

static memcached_return_t set_namespace(memcached_st *mc, const char *ns) {
  return memcached_callback_set(mc, MEMCACHED_CALLBACK_PREFIX_KEY, ns);
}

static void print_namespace(const char *label, memcached_st *mc) {
  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  const char *ns = (const char *)memcached_callback_get(mc, MEMCACHED_CALLBACK_PREFIX_KEY, &rc);
  if (ns == NULL) {
    printf("%s namespace=NULL rc=%d\n", label, (int)rc);
  } else {
    printf("%s namespace len=%zu \"%.40s\" rc=%d\n", label, strlen(ns), ns, (int)rc);
  }
}

/* Get KEY through MC and print the code and value. */
static void show_get(const char *label, memcached_st *mc, const char *key) {
  char line[200];
  size_t len = 0;
  uint32_t flags = 0;
  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  char *value = memcached_get(mc, key, strlen(key), &len, &flags, &rc);
  print_rc(fmt(line, sizeof(line), "%s get key=%s", label, key), rc);
  if (value != NULL) {
    print_bytes(fmt(line, sizeof(line), "%s get key=%s", label, key), value, len);
    free(value);
  }
}

static void check_values(int binary, in_port_t port) {
  const char *proto = protocol_name(binary);
  char label[160];
  memcached_st *mc = single_server_handle(port, binary);

  print_namespace(fmt(label, sizeof(label), "%s fresh", proto), mc);
  print_rc(fmt(label, sizeof(label), "%s set namespace NULL on fresh handle", proto),
           set_namespace(mc, NULL));
  print_rc(fmt(label, sizeof(label), "%s set namespace \"prefix.\"", proto),
           set_namespace(mc, "prefix."));
  print_namespace(proto, mc);
  print_rc(fmt(label, sizeof(label), "%s set namespace \"\"", proto), set_namespace(mc, ""));
  print_namespace(fmt(label, sizeof(label), "%s after \"\"", proto), mc);

  char long_ns[130];
  memset(long_ns, 'n', sizeof(long_ns));
  long_ns[127] = '\0';
  print_rc(fmt(label, sizeof(label), "%s set namespace of 127 bytes", proto),
           set_namespace(mc, long_ns));
  print_namespace(proto, mc);
  long_ns[127] = 'n';
  long_ns[128] = '\0';
  print_rc(fmt(label, sizeof(label), "%s set namespace of 128 bytes", proto),
           set_namespace(mc, long_ns));
  print_namespace(fmt(label, sizeof(label), "%s after 128 bytes", proto), mc);

  static const char *const odd[] = {"bad key", "tab\tkey", "nl\nkey", "caf\xc3\xa9", "\x7f"};
  for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
    print_rc(fmt(label, sizeof(label), "%s set namespace with odd byte #%zu", proto, i),
             set_namespace(mc, odd[i]));
  }
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_VERIFY_KEY, 0);
  print_rc(fmt(label, sizeof(label), "%s VERIFY_KEY off, set namespace \"bad key\"", proto),
           set_namespace(mc, "bad key"));

  /* The library must keep its own copy of the string. */
  char scratch[32];
  strcpy(scratch, "copied.");
  print_rc(fmt(label, sizeof(label), "%s set namespace from scratch buffer", proto),
           set_namespace(mc, scratch));
  strcpy(scratch, "overwritten.");
  print_namespace(fmt(label, sizeof(label), "%s after overwriting the buffer", proto), mc);

  print_rc(fmt(label, sizeof(label), "%s set namespace NULL", proto), set_namespace(mc, NULL));
  print_namespace(fmt(label, sizeof(label), "%s after NULL", proto), mc);
  memcached_free(mc);
}

/* A value stored under namespace+key is the plain key NS+KEY on the server. */
static void check_wire(int binary, in_port_t port) {
  const char *proto = protocol_name(binary);
  char label[160];
  char ns[32];
  fmt(ns, sizeof(ns), "prefix.%s.", proto);
  char full[64];
  fmt(full, sizeof(full), "%stestkey", ns);

  memcached_st *plain = single_server_handle(port, binary);
  memcached_st *mc = single_server_handle(port, binary);

  print_rc(fmt(label, sizeof(label), "%s set without namespace key=%s", proto, full),
           memcached_set(plain, full, strlen(full), "stored plain", 12, 0, 0));
  set_namespace(mc, ns);
  show_get(fmt(label, sizeof(label), "%s with namespace", proto), mc, "testkey");

  print_rc(fmt(label, sizeof(label), "%s set with namespace key=other", proto),
           memcached_set(mc, "other", 5, "stored namespaced", 17, 0, 3));
  show_get(fmt(label, sizeof(label), "%s without namespace", proto), plain, "other");
  char other_full[64];
  fmt(other_full, sizeof(other_full), "%sother", ns);
  show_get(fmt(label, sizeof(label), "%s without namespace", proto), plain, other_full);

  uint64_t counter = 0;
  char counter_key[64];
  fmt(counter_key, sizeof(counter_key), "%scounter", ns);
  memcached_set(plain, counter_key, strlen(counter_key), "10", 2, 0, 0);
  memcached_return_t rc = memcached_increment(mc, "counter", 7, 5, &counter);
  printf("%s increment with namespace rc=%d %s value=%llu\n", proto, (int)rc, rc_name(rc),
         (unsigned long long)counter);
  rc = memcached_decrement(mc, "counter", 7, 3, &counter);
  printf("%s decrement with namespace rc=%d %s value=%llu\n", proto, (int)rc, rc_name(rc),
         (unsigned long long)counter);
  print_rc(fmt(label, sizeof(label), "%s delete with namespace key=testkey", proto),
           memcached_delete(mc, "testkey", 7, 0));
  show_get(fmt(label, sizeof(label), "%s without namespace after delete", proto), plain, full);
  print_rc(fmt(label, sizeof(label), "%s add with namespace key=added", proto),
           memcached_add(mc, "added", 5, "a", 1, 0, 0));
  show_get(fmt(label, sizeof(label), "%s without namespace", proto), plain,
           fmt(other_full, sizeof(other_full), "%sadded", ns));

  /* Clones copy the namespace. */
  memcached_st *copy = memcached_clone(NULL, mc);
  show_get(fmt(label, sizeof(label), "%s clone with namespace", proto), copy, "other");
  memcached_free(copy);

  /* Fetched keys come back without the namespace. */
  const char *keys[] = {"other", "added"};
  size_t lengths[] = {5, 5};
  print_rc(fmt(label, sizeof(label), "%s mget with namespace", proto),
           memcached_mget(mc, keys, lengths, 2));
  int fetched = 0;
  int stripped = 0;
  memcached_result_st *result;
  while ((result = memcached_fetch_result(mc, NULL, &rc)) != NULL) {
    size_t key_len = memcached_result_key_length(result);
    const char *key = memcached_result_key_value(result);
    fetched++;
    if ((key_len == 5 && memcmp(key, "other", 5) == 0) ||
        (key_len == 5 && memcmp(key, "added", 5) == 0)) {
      stripped++;
    }
    memcached_result_free(result);
  }
  printf("%s fetch with namespace: results=%d keys without namespace=%d end rc=%d %s\n", proto,
         fetched, stripped, (int)rc, rc_name(rc));

  /* After NULL the key goes to the server as given. */
  set_namespace(mc, NULL);
  show_get(fmt(label, sizeof(label), "%s after namespace NULL", proto), mc, "other");
  show_get(fmt(label, sizeof(label), "%s after namespace NULL", proto), mc, other_full);

  memcached_free(mc);
  memcached_free(plain);
}

/* Server selection hashes the key without the namespace: with three servers, each value is
 * found on the server that memcached_generate_hash picks for the bare key. */
static void check_not_hashed(int binary, const in_port_t ports[3]) {
  const char *proto = protocol_name(binary);
  memcached_st *mc = new_handle(binary);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT);
  memcached_st *single[3];
  for (int i = 0; i < 3; i++) {
    add_server(mc, ports[i]);
    single[i] = single_server_handle(ports[i], binary);
  }
  const char *ns = "mod_tls_memcache.sessions.";
  set_namespace(mc, ns);

  int matches = 0;
  int differing = 0;
  const int keys = 30;
  for (int k = 0; k < keys; k++) {
    char key[32];
    char full[80];
    fmt(key, sizeof(key), "nohash.%s.%d", proto, k);
    fmt(full, sizeof(full), "%s%s", ns, key);
    uint32_t bare = memcached_generate_hash(mc, key, strlen(key));
    uint32_t with_ns = memcached_generate_hash(mc, full, strlen(full));
    if (bare != with_ns) {
      differing++;
    }
    memcached_set(mc, key, strlen(key), "x", 1, 0, 0);
    int found_on = -1;
    for (int i = 0; i < 3; i++) {
      memcached_return_t rc;
      size_t len;
      char *value = memcached_get(single[i], full, strlen(full), &len, NULL, &rc);
      if (value != NULL) {
        found_on = found_on == -1 ? i : 9;
        free(value);
      }
    }
    if (found_on == (int)bare) {
      matches++;
    }
  }
  printf("%s namespaced keys stored on the server chosen for the bare key: %d of %d\n", proto,
         matches, keys);
  /* The check only shows something when the namespace would move some keys. */
  printf("%s some keys would move if the namespace were hashed: %s\n", proto,
         differing > 0 ? "yes" : "no");
  for (int i = 0; i < 3; i++) {
    memcached_free(single[i]);
  }
  memcached_free(mc);
}

int main(void) {
  start_test();
  in_port_t ports[3];
  ports[0] = env_port("MC_PORT1");
  ports[1] = env_port("MC_PORT2");
  ports[2] = env_port("MC_PORT3");

  for (int binary = 0; binary <= 1; binary++) {
    check_values(binary, ports[0]);
    check_wire(binary, ports[0]);
    check_not_hashed(binary, ports);
  }
  return 0;
}
