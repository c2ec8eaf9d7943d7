/*
 * Replays the libmemcached calls of ProFTPD 1.3.8 (mod_memcache, mod_tls_memcache, mod_ban)
 * in their order: parse the configured servers, create a handle, push the list, set options
 * (each set only when the get differs), check liveness on a clone with
 * libmemcached_util_ping and keep only the servers that reply, probe the statistics, then per
 * session quit+clone+free and per operation set the namespace, call, clear the namespace.
 *
 * Scenarios: binary protocol (ProFTPD's default), text protocol (NoBinaryProtocol), and
 * binary with a dead server in the list plus MemcacheConnectFailures, ejection and replicas.
 *
 * Servers: MC_PORT1, MC_PORT2 (memcached), MC_DEAD_PORT (nothing listening).
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

struct config {
  const char *name;
  int binary;
  int connect_failures; /* MemcacheConnectFailures; 0 leaves SERVER_FAILURE_LIMIT alone */
  int ejected_seconds;  /* MemcacheTimeouts "ejected" value */
  uint64_t replicas;    /* MemcacheReplicas */
  int random_replica_reads; /* 0 for the NoRandomReplicaReads option */
};

static const char *scenario = "";

static void log_rc(const char *what, memcached_return_t rc) {
  printf("%s: %s rc=%d %s\n", scenario, what, (int)rc, rc_name(rc));
}

/* mod_memcache's pattern: read the option and set it only when it differs. */
static void ensure_behavior(memcached_st *mc, memcached_behavior_t behavior, uint64_t wanted) {
  uint64_t current = memcached_behavior_get(mc, behavior);
  printf("%s: behavior_get %s=%llu\n", scenario, behavior_name(behavior),
         (unsigned long long)current);
  if (current != wanted) {
    memcached_return_t rc = memcached_behavior_set(mc, behavior, wanted);
    printf("%s: behavior_set %s=%llu rc=%d %s\n", scenario, behavior_name(behavior),
           (unsigned long long)wanted, (int)rc, rc_name(rc));
    if (rc != MEMCACHED_SUCCESS) {
      printf("%s: logged \"%s\"\n", scenario, memcached_strerror(mc, rc));
    }
  }
}

static void set_always(memcached_st *mc, memcached_behavior_t behavior, uint64_t value) {
  memcached_return_t rc = memcached_behavior_set(mc, behavior, value);
  printf("%s: behavior_set %s=%llu rc=%d %s\n", scenario, behavior_name(behavior),
         (unsigned long long)value, (int)rc, rc_name(rc));
}

static void set_options(memcached_st *mc, const struct config *config) {
  ensure_behavior(mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
  ensure_behavior(mc, MEMCACHED_BEHAVIOR_CACHE_LOOKUPS, 1);
  ensure_behavior(mc, MEMCACHED_BEHAVIOR_VERIFY_KEY, 1);
  ensure_behavior(mc, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT);
  ensure_behavior(mc, MEMCACHED_BEHAVIOR_NO_BLOCK, 0);
  if (config->connect_failures > 0) {
    ensure_behavior(mc, MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT,
                    (uint64_t)config->connect_failures);
    if (config->ejected_seconds > 0) {
      ensure_behavior(mc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, (uint64_t)config->ejected_seconds);
      ensure_behavior(mc, MEMCACHED_BEHAVIOR_AUTO_EJECT_HOSTS, 1);
    }
  } else {
    printf("%s: behavior_get SERVER_FAILURE_LIMIT=%llu\n", scenario,
           (unsigned long long)memcached_behavior_get(mc,
                                                      MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT));
  }
  if (config->binary) {
    ensure_behavior(mc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1);
  }
  printf("%s: VERIFY_KEY after protocol choice=%llu\n", scenario,
         (unsigned long long)memcached_behavior_get(mc, MEMCACHED_BEHAVIOR_VERIFY_KEY));
  set_always(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, 500);
  set_always(mc, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, 500);
  set_always(mc, MEMCACHED_BEHAVIOR_SND_TIMEOUT, 500);

  uint32_t count = memcached_server_count(mc);
  printf("%s: server_count=%u\n", scenario, count);
  uint64_t replicas = config->replicas < count ? config->replicas : count;
  if (replicas > 0 && config->binary) {
    ensure_behavior(mc, MEMCACHED_BEHAVIOR_NUMBER_OF_REPLICAS, replicas);
  }
  if (config->random_replica_reads) {
    ensure_behavior(mc, MEMCACHED_BEHAVIOR_RANDOMIZE_REPLICA_READ, 1);
  }
}

/* Pings every configured server on a clone and gives MC only the servers that replied.
 * Returns 0 when none replied, and ProFTPD 1.3.8 then keeps the original list. */
static int check_liveness(memcached_st *mc, memcached_server_list_st configured) {
  memcached_st *clone = memcached_clone(NULL, mc);
  printf("%s: clone for ping: %s\n", scenario, clone ? "handle" : "NULL");
  memcached_servers_reset(clone);
  log_rc("server_push(clone, configured)", memcached_server_push(clone, configured));

  memcached_server_list_st alive = NULL;
  uint32_t count = memcached_server_count(clone);
  for (uint32_t i = 0; i < count; i++) {
    const memcached_instance_st *server = memcached_server_instance_by_position(clone, i);
    const char *name = memcached_server_name(server);
    in_port_t port = memcached_server_port(server);
    memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
    bool replied = libmemcached_util_ping(name, port, &rc);
    printf("%s: ping %s:%s=%s rc=%d %s\n", scenario, name, port_label(port),
           replied ? "true" : "false", (int)rc, rc_name(rc));
    if (replied) {
      rc = MEMCACHED_MAXIMUM_RETURN;
      alive = memcached_server_list_append(alive, name, port, &rc);
      printf("%s: list_append %s rc=%d %s\n", scenario, alive ? "list" : "NULL", (int)rc,
             rc_name(rc));
    }
  }

  int any = alive != NULL;
  if (any) {
    memcached_servers_reset(mc);
    log_rc("server_push(mc, alive)", memcached_server_push(mc, alive));
    printf("%s: list_count(alive)=%u\n", scenario, memcached_server_list_count(alive));
    memcached_server_list_free(alive);
  } else {
    printf("%s: no server replied to the ping, keeping the configured list\n", scenario);
  }
  memcached_free(clone);
  printf("%s: server_count after liveness check=%u\n", scenario, memcached_server_count(mc));
  return any;
}

static void log_failure(memcached_st *mc, const char *what, memcached_return_t rc) {
  if (rc == MEMCACHED_SERVER_MARKED_DEAD || rc == MEMCACHED_CONNECTION_FAILURE) {
    const memcached_instance_st *server = memcached_server_get_last_disconnect(mc);
    printf("%s: %s failed, last_disconnect=%s\n", scenario, what,
           server ? port_label(memcached_server_port(server)) : "NULL");
  } else if (rc != MEMCACHED_SUCCESS) {
    printf("%s: %s failed: \"%s\"\n", scenario, what, memcached_strerror(mc, rc));
  }
}

static void probe_stats(memcached_st *mc, unsigned long long expected_maxbytes) {
  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  memcached_stat_st *st = memcached_stat(mc, NULL, &rc);
  log_rc("stat", rc);
  if (st != NULL && rc == MEMCACHED_SUCCESS) {
    static const char *const names[] = {"version",    "uptime", "curr_connections",
                                        "curr_items", "bytes",  "limit_maxbytes"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
      char *value = memcached_stat_get_value(mc, st, names[i], &rc);
      if (value == NULL) {
        printf("%s: stat_get_value %s NULL rc=%d\n", scenario, names[i], (int)rc);
        continue;
      }
      if (strcmp(names[i], "limit_maxbytes") == 0) {
        printf("%s: stat_get_value limit_maxbytes matches -m: %s\n", scenario,
               strtoull(value, NULL, 10) == expected_maxbytes ? "yes" : "no");
      } else {
        printf("%s: stat_get_value %s non-empty: %s\n", scenario, names[i],
               value[0] != '\0' ? "yes" : "no");
      }
      free(value);
    }
  } else if (rc == MEMCACHED_SOME_ERRORS || rc == MEMCACHED_SERVER_MARKED_DEAD ||
             rc == MEMCACHED_CONNECTION_FAILURE) {
    log_failure(mc, "stat", rc);
  }
  memcached_stat_free(mc, st);
}

static memcached_st *conn_new(const struct config *config, memcached_server_list_st configured,
                              unsigned long long expected_maxbytes) {
  memcached_st *mc = memcached_create(NULL);
  printf("%s: create: %s\n", scenario, mc ? "handle" : "NULL");
  log_rc("server_push(configured)", memcached_server_push(mc, configured));
  printf("%s: list_count(configured)=%u\n", scenario, memcached_server_list_count(configured));
  set_options(mc, config);
  check_liveness(mc, configured);
  probe_stats(mc, expected_maxbytes);
  return mc;
}

/* pr_memcache_conn_clone: what every forked session does first. */
static memcached_st *conn_clone(memcached_st *mc) {
  memcached_quit(mc);
  memcached_st *copy = memcached_clone(NULL, mc);
  printf("%s: session clone: %s\n", scenario, copy ? "handle" : "NULL");
  memcached_free(mc);
  return copy;
}

static void with_namespace(memcached_st *mc, const char *ns) {
  memcached_return_t rc = memcached_callback_set(mc, MEMCACHED_CALLBACK_PREFIX_KEY, ns);
  if (rc != MEMCACHED_SUCCESS) {
    log_rc("callback_set PREFIX_KEY", rc);
  }
}

static void clear_namespace(memcached_st *mc) {
  memcached_return_t rc = memcached_callback_set(mc, MEMCACHED_CALLBACK_PREFIX_KEY, NULL);
  if (rc != MEMCACHED_SUCCESS) {
    log_rc("callback_set PREFIX_KEY NULL", rc);
  }
}

static void kset(memcached_st *mc, const char *ns, const char *what, const char *key,
                 size_t key_len, const void *value, size_t value_len) {
  with_namespace(mc, ns);
  memcached_return_t rc =
      memcached_set(mc, key, key_len, (const char *)value, value_len, 0, 0);
  clear_namespace(mc);
  log_rc(what, rc);
  log_failure(mc, what, rc);
}

static void kadd(memcached_st *mc, const char *ns, const char *what, const char *key,
                 size_t key_len, const void *value, size_t value_len) {
  with_namespace(mc, ns);
  memcached_return_t rc =
      memcached_add(mc, key, key_len, (const char *)value, value_len, 0, 0);
  clear_namespace(mc);
  log_rc(what, rc);
  log_failure(mc, what, rc);
}

static void kget(memcached_st *mc, const char *ns, const char *what, const char *key,
                 size_t key_len) {
  size_t len = 0;
  uint32_t flags = 0;
  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  with_namespace(mc, ns);
  char *value = memcached_get(mc, key, key_len, &len, &flags, &rc);
  clear_namespace(mc);
  if (value != NULL) {
    char label[128];
    fmt(label, sizeof(label), "%s: %s data rc=%d %s", scenario, what, (int)rc, rc_name(rc));
    print_bytes(label, value, len);
    free(value);
  } else {
    printf("%s: %s NULL rc=%d %s%s\n", scenario, what, (int)rc, rc_name(rc),
           rc == MEMCACHED_NOTFOUND ? " (ENOENT)" : "");
    if (rc != MEMCACHED_NOTFOUND) {
      log_failure(mc, what, rc);
    }
  }
}

/* pr_memcache_kincr: a missing counter is created by storing the increment itself. */
static void kincr(memcached_st *mc, const char *ns, const char *what, const char *key,
                  size_t key_len, uint32_t incr) {
  uint64_t value = 0;
  with_namespace(mc, ns);
  memcached_return_t rc = memcached_increment(mc, key, key_len, incr, &value);
  clear_namespace(mc);
  printf("%s: %s rc=%d %s value=%llu\n", scenario, what, (int)rc, rc_name(rc),
         (unsigned long long)value);
  if (rc == MEMCACHED_NOTFOUND) {
    kset(mc, ns, "kincr fallback set of the raw increment", key, key_len, &incr, sizeof(incr));
  } else {
    log_failure(mc, what, rc);
  }
}

static void kdecr(memcached_st *mc, const char *ns, const char *what, const char *key,
                  size_t key_len, uint32_t decr) {
  uint64_t value = 0;
  with_namespace(mc, ns);
  memcached_return_t rc = memcached_decrement(mc, key, key_len, decr, &value);
  clear_namespace(mc);
  printf("%s: %s rc=%d %s value=%llu%s\n", scenario, what, (int)rc, rc_name(rc),
         (unsigned long long)value, rc == MEMCACHED_NOTFOUND ? " (ENOENT)" : "");
  if (rc != MEMCACHED_NOTFOUND) {
    log_failure(mc, what, rc);
  }
}

static void kremove(memcached_st *mc, const char *ns, const char *what, const char *key,
                    size_t key_len) {
  with_namespace(mc, ns);
  memcached_return_t rc = memcached_delete(mc, key, key_len, 0);
  clear_namespace(mc);
  printf("%s: %s rc=%d %s%s\n", scenario, what, (int)rc, rc_name(rc),
         rc == MEMCACHED_NOTFOUND || rc == MEMCACHED_BAD_KEY_PROVIDED ? " (ENOENT)" : "");
  if (rc != MEMCACHED_NOTFOUND && rc != MEMCACHED_BAD_KEY_PROVIDED) {
    log_failure(mc, what, rc);
  }
}

/* A key of LEN bytes in the shape mod_ban uses: text ending in the NUL of a JSON string. */
static size_t ban_key(char *buf, const char *tag, size_t len) {
  memset(buf, '-', len);
  memcpy(buf, tag, strlen(tag) < len ? strlen(tag) : len);
  buf[len - 1] = '\0';
  return len;
}

/* A key of LEN bytes in the shape of a TPL-packed TLS session id: binary, with NULs. */
static size_t tls_key(char *buf, unsigned seed, size_t len) {
  for (size_t i = 0; i < len; i++) {
    buf[i] = (char)((seed * 131 + i * 29) % 256);
  }
  buf[0] = 't';
  buf[4] = '\0';
  return len;
}

static void session_operations(memcached_st *mc, const struct config *config) {
  char key[128];
  size_t len;
  const char *ban = "mod_ban.";
  const char *sessions = "mod_tls_memcache.sessions.";

  /* mod_ban: lookups of lists that do not exist yet, then one entry stored. */
  len = ban_key(key, "ban-user-list", 26);
  kget(mc, ban, "mod_ban get(26)", key, len);
  len = ban_key(key, "ban-host-list", 24);
  kget(mc, ban, "mod_ban get(24)", key, len);
  len = ban_key(key, "ban-class-list-for-anyone", 34);
  kget(mc, ban, "mod_ban get(34)", key, len);
  len = ban_key(key, "ban-event-entry", 27);
  kset(mc, ban, "mod_ban set(27)", key, len, "{\"ban\":1}", 10);
  kget(mc, ban, "mod_ban get(27) after set", key, len);
  kremove(mc, ban, "mod_ban delete(27)", key, len);

  /* mod_tls_memcache: a session of 10 KiB, the session counter, a lookup. */
  static char session_data[10 * 1024];
  for (size_t i = 0; i < sizeof(session_data); i++) {
    session_data[i] = (char)(i * 7 % 256);
  }
  len = tls_key(key, 1, 78);
  kadd(mc, sessions, "tls add(78)", key, len, session_data, sizeof(session_data));
  kset(mc, sessions, "tls set(78)", key, len, session_data, sizeof(session_data));
  char counter[12];
  size_t counter_len = tls_key(counter, 2, sizeof(counter));
  kincr(mc, sessions, "tls increment(12)", counter, counter_len, 1);
  kincr(mc, sessions, "tls increment(12) of the raw value", counter, counter_len, 1);
  kget(mc, sessions, "tls get(78)", key, len);
  len = tls_key(key, 3, 78);
  kget(mc, sessions, "tls get(78) of a missing session", key, len);
  kremove(mc, sessions, "tls delete(78) of a missing session", key, len);
  kdecr(mc, sessions, "tls decrement(12)", counter, counter_len, 1);

  /* ProFTPD's API tests use printable keys, which work in both protocols. */
  kset(mc, NULL, "api set counter 31", "api.counter", 11, "31", 2);
  kincr(mc, NULL, "api increment 31 by 2", "api.counter", 11, 2);
  kincr(mc, NULL, "api increment by 2 again", "api.counter", 11, 2);
  kget(mc, NULL, "api get counter", "api.counter", 11);
  kdecr(mc, NULL, "api decrement by 5", "api.counter", 11, 5);
  kdecr(mc, NULL, "api decrement by 5 again", "api.counter", 11, 5);
  kget(mc, NULL, "api get counter after decrements", "api.counter", 11);
  kset(mc, NULL, "api set Hello, World!", "api.text", 8, "Hello, World!", 13);
  kincr(mc, NULL, "api increment non-numeric", "api.text", 8, 1);
  kdecr(mc, NULL, "api decrement non-numeric", "api.text", 8, 1);
  kget(mc, NULL, "api get missing", "api.missing", 11);
  kdecr(mc, NULL, "api decrement missing", "api.missing", 11, 1);
  kremove(mc, NULL, "api delete missing", "api.missing", 11);
  kincr(mc, NULL, "api increment missing", "api.missing.counter", 19, 1);
  (void)config;
}

static void run_scenario(const struct config *config, const char *servers,
                         unsigned long long expected_maxbytes) {
  scenario = config->name;
  printf("%s: lib_version equals LIBMEMCACHED_VERSION_STRING: %s\n", scenario,
         strcmp(memcached_lib_version(), LIBMEMCACHED_VERSION_STRING) == 0 ? "yes" : "no");
  memcached_server_list_st configured = memcached_servers_parse(servers);
  printf("%s: servers_parse: %s count=%u\n", scenario, configured ? "list" : "NULL",
         memcached_server_list_count(configured));

  /* The daemon's handle, then one session cloned from it, as with a TLS session cache. */
  memcached_st *daemon = conn_new(config, configured, expected_maxbytes);
  memcached_st *session = conn_clone(daemon);
  session_operations(session, config);
  memcached_free(session);

  /* Without a TLS cache each session builds its own handle from scratch. */
  memcached_st *fresh = conn_new(config, configured, expected_maxbytes);
  session_operations(fresh, config);
  memcached_free(fresh);

  memcached_server_list_free(configured);
}

/* ProFTPD's API test of the namespace, with its single server: a value stored under
 * "prefix.testkey" is found as "testkey" in namespace "prefix.". With several servers the
 * two spellings could be placed on different servers, since the namespace is not hashed. */
static void run_namespace_test(const struct config *config, in_port_t port,
                               unsigned long long expected_maxbytes) {
  scenario = config->name;
  char servers[64];
  fmt(servers, sizeof(servers), "127.0.0.1:%u", (unsigned)port);
  memcached_server_list_st configured = memcached_servers_parse(servers);
  memcached_st *mc = conn_new(config, configured, expected_maxbytes);
  kset(mc, NULL, "api set prefix.testkey", "prefix.testkey", 14, "testval", 7);
  kget(mc, "prefix.", "api get testkey with namespace prefix.", "testkey", 7);
  kget(mc, "prefix.", "api get prefix.testkey with namespace prefix.", "prefix.testkey", 14);
  memcached_free(mc);
  memcached_server_list_free(configured);
}

int main(void) {
  start_test();
  in_port_t port1 = env_port("MC_PORT1");
  in_port_t port2 = env_port("MC_PORT2");
  in_port_t dead = env_port("MC_DEAD_PORT");
  unsigned long long expected_maxbytes =
      strtoull(env_text("MC_MEMORY_MB"), NULL, 10) * 1024 * 1024;

  char two_servers[128];
  fmt(two_servers, sizeof(two_servers), "127.0.0.1:%u, 127.0.0.1:%u", (unsigned)port1,
      (unsigned)port2);
  char with_dead[160];
  fmt(with_dead, sizeof(with_dead), "127.0.0.1:%u, 127.0.0.1:%u, 127.0.0.1:%u", (unsigned)port1,
      (unsigned)dead, (unsigned)port2);

  /* Random replica reads would make the replica scenario depend on random(), so it runs
   * with NoRandomReplicaReads. */
  struct config binary = {"binary", 1, 0, 0, 0, 1};
  struct config text = {"text", 0, 0, 0, 0, 1};
  struct config failover = {"binary+dead", 1, 3, 2, 1, 0};
  struct config api_binary = {"api binary", 1, 0, 0, 0, 1};
  struct config api_text = {"api text", 0, 0, 0, 0, 1};
  run_scenario(&binary, two_servers, expected_maxbytes);
  run_scenario(&text, two_servers, expected_maxbytes);
  run_scenario(&failover, with_dead, expected_maxbytes);
  run_namespace_test(&api_binary, port1, expected_maxbytes);
  run_namespace_test(&api_text, port1, expected_maxbytes);
  return 0;
}
