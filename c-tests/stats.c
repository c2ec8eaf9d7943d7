/*
 * Statistics: memcached_stat (every server replies, one dead server, no servers, argument
 * checks), memcached_stat_get_value for the 22 known names, memcached_stat_get_keys and
 * memcached_stat_free, in both protocols.
 *
 * Values that change between runs (pids, times, counters) are printed as "present" or as a
 * format check; values the test controls are printed exactly: limit_maxbytes comes from
 * memcached -m (MC_MEMORY_MB), threads from -t 4, pointer_size from the 64-bit build.
 *
 * Servers: MC_PORT1, MC_PORT2, MC_PORT3 (memcached), MC_DEAD_PORT (nothing listening).
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <ctype.h>

static const char *const stat_names[] = {
    "pid",           "uptime",          "time",
    "version",       "pointer_size",    "rusage_user",
    "rusage_system", "curr_items",      "total_items",
    "bytes",         "curr_connections", "total_connections",
    "connection_structures", "cmd_get", "cmd_set",
    "get_hits",      "get_misses",      "evictions",
    "bytes_read",    "bytes_written",   "limit_maxbytes",
    "threads",
};

static int is_decimal(const char *text) {
  if (*text == '\0') {
    return 0;
  }
  for (; *text; text++) {
    if (!isdigit((unsigned char)*text)) {
      return 0;
    }
  }
  return 1;
}

/* "<seconds>.<microseconds>": digits, one dot, digits. */
static int is_seconds_dot_micros(const char *text) {
  const char *dot = strchr(text, '.');
  if (dot == NULL || dot == text || dot[1] == '\0') {
    return 0;
  }
  for (const char *c = text; *c; c++) {
    if (c != dot && !isdigit((unsigned char)*c)) {
      return 0;
    }
  }
  return 1;
}

/* Prints one named value of element ST. Exact text for the names this run controls, or
 * for all names when EXACT is set, and a format description for the rest. */
static void print_value(const char *label, memcached_st *mc, memcached_stat_st *st,
                        const char *name, int exact) {
  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  char *value = memcached_stat_get_value(mc, st, name, &rc);
  if (value == NULL) {
    printf("%s %s: NULL rc=%d %s\n", label, name, (int)rc, rc_name(rc));
    return;
  }
  const char *shown;
  char quoted[64];
  if (exact || strcmp(name, "limit_maxbytes") == 0 || strcmp(name, "threads") == 0 ||
      strcmp(name, "pointer_size") == 0) {
    shown = fmt(quoted, sizeof(quoted), "\"%s\"", value);
  } else if (strcmp(name, "version") == 0) {
    shown = strcmp(value, st->version) == 0 && value[0] != '\0' ? "non-empty, equals st.version"
                                                                : "WRONG";
  } else if (strcmp(name, "rusage_user") == 0 || strcmp(name, "rusage_system") == 0) {
    shown = is_seconds_dot_micros(value) ? "seconds.microseconds" : "WRONG FORMAT";
  } else if (strcmp(name, "pid") == 0) {
    shown = is_decimal(value) && strtol(value, NULL, 10) == (long)st->pid ? "equals st.pid"
                                                                          : "WRONG";
  } else {
    shown = is_decimal(value) ? "decimal" : "WRONG FORMAT";
  }
  printf("%s %s: %s rc=%d %s\n", label, name, shown, (int)rc, rc_name(rc));
  free(value);
}

static void print_element(const char *label, const memcached_stat_st *st,
                          unsigned long long expected_maxbytes) {
  printf("%s pid positive: %s\n", label, st->pid > 0 ? "yes" : "no");
  printf("%s version non-empty: %s\n", label, st->version[0] != '\0' ? "yes" : "no");
  printf("%s limit_maxbytes matches -m: %s\n", label,
         st->limit_maxbytes == expected_maxbytes ? "yes" : "no");
  printf("%s threads=%lu pointer_size=%lu\n", label, st->threads, st->pointer_size);
  printf("%s curr_connections positive: %s\n", label, st->curr_connections > 0 ? "yes" : "no");
  printf("%s time positive: %s\n", label, st->time > 0 ? "yes" : "no");
}

static void check_all_alive(int binary, const in_port_t ports[3],
                            unsigned long long expected_maxbytes) {
  const char *p = protocol_name(binary);
  char label[128];
  memcached_st *mc = new_handle(binary);
  for (int i = 0; i < 3; i++) {
    add_server(mc, ports[i]);
  }

  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  memcached_stat_st *st = memcached_stat(mc, NULL, &rc);
  print_rc(fmt(label, sizeof(label), "%s stat three servers", p), rc);
  printf("%s stat three servers returned an array: %s\n", p, st ? "yes" : "no");
  if (st != NULL) {
    for (int i = 0; i < 3; i++) {
      print_element(fmt(label, sizeof(label), "%s stat[%d]", p, i), &st[i], expected_maxbytes);
    }
    for (size_t n = 0; n < sizeof(stat_names) / sizeof(stat_names[0]); n++) {
      print_value(fmt(label, sizeof(label), "%s get_value stat[0]", p), mc, &st[0],
                  stat_names[n], 0);
    }
    print_value(fmt(label, sizeof(label), "%s get_value stat[2]", p), mc, &st[2],
                "limit_maxbytes", 0);
    print_value(fmt(label, sizeof(label), "%s get_value unknown", p), mc, &st[0],
                "no_such_stat", 0);
    print_value(fmt(label, sizeof(label), "%s get_value unknown", p), mc, &st[0], "", 0);
    print_value(fmt(label, sizeof(label), "%s get_value NULL stat", p), mc, NULL, "pid", 0);

    char **keys = memcached_stat_get_keys(mc, st, &rc);
    print_rc(fmt(label, sizeof(label), "%s get_keys", p), rc);
    if (keys != NULL) {
      size_t count = 0;
      for (; keys[count] != NULL; count++) {
        printf("%s get_keys[%zu]=%s\n", p, count, keys[count]);
      }
      printf("%s get_keys count=%zu\n", p, count);
      free(keys);
    }
    memcached_stat_free(mc, st);
  }

  /* args names a stats group; an unknown group is an error that leaves the handle usable. */
  st = memcached_stat(mc, (char *)"nosuchgroup", &rc);
  print_rc(fmt(label, sizeof(label), "%s stat unknown group", p), rc);
  printf("%s stat unknown group returned an array: %s\n", p, st ? "yes" : "no");
  memcached_stat_free(mc, st);
  print_rc(fmt(label, sizeof(label), "%s set after unknown group", p),
           memcached_set(mc, "stats.after", 11, "v", 1, 0, 0));
  st = memcached_stat(mc, NULL, &rc);
  print_rc(fmt(label, sizeof(label), "%s stat after unknown group", p), rc);
  memcached_stat_free(mc, st);

  if (!binary) {
    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_VERIFY_KEY, 1);
    st = memcached_stat(mc, (char *)"bad group", &rc);
    print_rc("text stat with VERIFY_KEY and a space in args", rc);
    printf("text stat with a space in args returned an array: %s\n", st ? "yes" : "no");
    memcached_stat_free(mc, st);
  }
  memcached_free(mc);
}

static void check_dead_server(int binary, in_port_t live, in_port_t dead,
                              unsigned long long expected_maxbytes) {
  const char *p = protocol_name(binary);
  char label[128];
  memcached_st *mc = new_handle(binary);
  add_server(mc, live);
  add_server(mc, dead);

  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  memcached_stat_st *st = memcached_stat(mc, NULL, &rc);
  print_rc(fmt(label, sizeof(label), "%s stat live+dead", p), rc);
  printf("%s stat live+dead returned an array: %s\n", p, st ? "yes" : "no");
  if (st != NULL) {
    print_element(fmt(label, sizeof(label), "%s stat live+dead [0]", p), &st[0],
                  expected_maxbytes);
    printf("%s stat live+dead [1] pid=%d version=\"%s\" limit_maxbytes=%llu uptime=%lu\n", p,
           (int)st[1].pid, st[1].version, st[1].limit_maxbytes, st[1].uptime);
    for (size_t n = 0; n < sizeof(stat_names) / sizeof(stat_names[0]); n++) {
      print_value(fmt(label, sizeof(label), "%s get_value dead element", p), mc, &st[1],
                  stat_names[n], 1);
    }
    memcached_stat_free(mc, st);
  }
  const memcached_instance_st *last = memcached_server_get_last_disconnect(mc);
  printf("%s stat live+dead last_disconnect port=%s\n", p,
         last ? port_label(memcached_server_port(last)) : "NULL");
  memcached_free(mc);

  mc = new_handle(binary);
  add_server(mc, dead);
  st = memcached_stat(mc, NULL, &rc);
  print_rc(fmt(label, sizeof(label), "%s stat dead only", p), rc);
  printf("%s stat dead only returned an array: %s\n", p, st ? "yes" : "no");
  memcached_stat_free(mc, st);
  memcached_free(mc);
}

static void check_no_servers(void) {
  memcached_st *mc = new_handle(0);
  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  memcached_stat_st *st = memcached_stat(mc, NULL, &rc);
  print_rc("stat no servers", rc);
  printf("stat no servers returned an array: %s\n", st ? "yes" : "no");
  memcached_stat_free(mc, st);
  memcached_stat_free(NULL, NULL);
  printf("stat_free(NULL, NULL) returned\n");

  char **keys = memcached_stat_get_keys(mc, NULL, &rc);
  print_rc("get_keys with NULL stat", rc);
  printf("get_keys with NULL stat returned an array: %s\n", keys ? "yes" : "no");
  free(keys);
  memcached_free(mc);
}

int main(void) {
  start_test();
  in_port_t ports[3];
  ports[0] = env_port("MC_PORT1");
  ports[1] = env_port("MC_PORT2");
  ports[2] = env_port("MC_PORT3");
  in_port_t dead = env_port("MC_DEAD_PORT");
  unsigned long long memory_mb = strtoull(env_text("MC_MEMORY_MB"), NULL, 10);
  unsigned long long expected_maxbytes = memory_mb * 1024 * 1024;

  for (int binary = 0; binary <= 1; binary++) {
    check_all_alive(binary, ports, expected_maxbytes);
    check_dead_server(binary, ports[0], dead, expected_maxbytes);
  }
  check_no_servers();
  return 0;
}
