/*
 * Large and oversized server lists: 10,000 servers added one by one, one
 * memcached_servers_parse of a 10,000-entry string pushed into a handle, and single entries
 * with host names longer than the 1025-byte field or than the parser's 8196-byte buffer.
 * Each call may return an error or work, but must never crash or abort. Every case runs in
 * its own process, so a crash is reported for that case only.
 *
 * System library (libmemcached 1.1.4): FAILS. Adding 10,000 servers one by one works, and so
 * does pushing the parsed 10,000-entry list under MODULA. Under CONSISTENT the push aborts
 * on an assertion, because the continuum has room for fewer points. A host name of 1025
 * bytes or more crashes memcached_servers_parse and memcached_server_list_append (SIGSEGV),
 * and from 8196 bytes on memcached_servers_parse overflows a stack buffer, which the
 * fortified build detects and aborts.
 *
 * Every server in the lists is 127.0.0.1:MC_DEAD_PORT (nothing listening), so the one
 * request each case makes fails fast and touches no other port.
 */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

#define SERVER_COUNT 10000

static in_port_t dead_port;

/* One set on a handle with many copies of the dead server: a connection error is the
 * correct outcome. */
static int check_request(memcached_st *mc, const char *what) {
  memcached_return_t rc = memcached_set(mc, "many.key", 8, "v", 1, 0, 0);
  check_that(is_connection_error(rc) || rc == MEMCACHED_NO_SERVERS,
             "%s: a set fails with a connection error (rc=%s)", what, rc_name(rc));
  return checks_failed;
}

static int add_one_by_one(void *arg) {
  (void)arg;
  memcached_st *mc = new_handle(0);
  int failures = 0;
  memcached_return_t first_error = MEMCACHED_SUCCESS;
  for (int i = 0; i < SERVER_COUNT; i++) {
    memcached_return_t rc = memcached_server_add(mc, "127.0.0.1", dead_port);
    if (rc != MEMCACHED_SUCCESS && failures++ == 0) {
      first_error = rc;
    }
  }
  uint32_t count = memcached_server_count(mc);
  check_that(count + (uint32_t)failures == SERVER_COUNT,
             "server_add x%d: %u servers, %d adds returned an error (first: %s)", SERVER_COUNT,
             count, failures, rc_name(first_error));
  check_request(mc, "server_add x10000");
  memcached_free(mc);
  return checks_failed;
}

static char *long_server_string(void) {
  char entry[32];
  int entry_len = snprintf(entry, sizeof(entry), "127.0.0.1:%u, ", (unsigned)dead_port);
  char *text = (char *)malloc((size_t)entry_len * SERVER_COUNT + 1);
  if (text == NULL) {
    die("out of memory");
  }
  for (int i = 0; i < SERVER_COUNT; i++) {
    memcpy(text + (size_t)i * entry_len, entry, (size_t)entry_len);
  }
  text[(size_t)entry_len * SERVER_COUNT] = '\0';
  return text;
}

static int parse_and_push(void *arg) {
  memcached_server_distribution_t distribution = *(memcached_server_distribution_t *)arg;
  char *text = long_server_string();
  memcached_server_st *list = memcached_servers_parse(text);
  free(text);
  uint32_t listed = memcached_server_list_count(list);
  check_that(list == NULL || listed == SERVER_COUNT,
             "servers_parse of a %d-entry string: %s with %u entries", SERVER_COUNT,
             list ? "list" : "NULL", listed);

  memcached_st *mc = new_handle(0);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_DISTRIBUTION, distribution);
  memcached_return_t rc = memcached_server_push(mc, list);
  memcached_server_list_free(list);
  uint32_t count = memcached_server_count(mc);
  check_that(rc == MEMCACHED_SUCCESS ? count == listed : count == 0,
             "server_push of the list (distribution %d): rc=%s, %u servers", (int)distribution,
             rc_name(rc), count);
  if (count > 0) {
    check_request(mc, "parsed list of 10000");
  }
  memcached_free(mc);
  return checks_failed;
}

/* A single entry whose host name has LENGTH bytes. */
static int parse_long_host(void *arg) {
  size_t length = *(const size_t *)arg;
  char *text = (char *)malloc(length + 16);
  memset(text, 'h', length);
  snprintf(text + length, 16, ":%u", (unsigned)dead_port);
  memcached_server_st *list = memcached_servers_parse(text);
  free(text);
  uint32_t count = memcached_server_list_count(list);
  int host_fits = list == NULL || strlen(list[0].hostname) < sizeof(list[0].hostname);
  check_that(host_fits, "servers_parse of a %zu-byte host: %s with %u entries", length,
             list ? "list" : "NULL", count);
  memcached_server_list_free(list);
  return checks_failed;
}

static int append_long_host(void *arg) {
  size_t length = *(const size_t *)arg;
  char *host = (char *)malloc(length + 1);
  memset(host, 'h', length);
  host[length] = '\0';

  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  memcached_server_st *list = memcached_server_list_append(NULL, "127.0.0.1", dead_port, &rc);
  memcached_server_st *longer = memcached_server_list_append(list, host, dead_port, &rc);
  if (longer == NULL) {
    /* A failed append leaves the old list valid and owned by the caller. */
    check_that(memcached_server_list_count(list) == 1,
               "server_list_append of a %zu-byte host: NULL (rc=%s), old list intact", length,
               rc_name(rc));
    memcached_server_list_free(list);
  } else {
    check_that(memcached_server_list_count(longer) == 2,
               "server_list_append of a %zu-byte host: list of %u (rc=%s)", length,
               memcached_server_list_count(longer), rc_name(rc));
    memcached_server_list_free(longer);
  }

  memcached_st *mc = new_handle(0);
  rc = memcached_server_add(mc, host, dead_port);
  check_that(rc != MEMCACHED_SUCCESS || memcached_server_count(mc) == 1,
             "server_add of a %zu-byte host: rc=%s", length, rc_name(rc));
  memcached_free(mc);
  free(host);
  return checks_failed;
}

int main(void) {
  start_test();
  dead_port = env_port("MC_DEAD_PORT");

  run_isolated("10000 servers added one by one", add_one_by_one, NULL, 60);
  memcached_server_distribution_t modula = MEMCACHED_DISTRIBUTION_MODULA;
  memcached_server_distribution_t consistent = MEMCACHED_DISTRIBUTION_CONSISTENT;
  run_isolated("10000-entry string parsed and pushed (modula)", parse_and_push, &modula, 60);
  run_isolated("10000-entry string parsed and pushed (consistent)", parse_and_push, &consistent,
               60);

  static const size_t host_lengths[] = {1024, 1025, 2000, 8196, 9000, 100000};
  for (size_t i = 0; i < sizeof(host_lengths) / sizeof(host_lengths[0]); i++) {
    char name[96];
    size_t length = host_lengths[i];
    fmt(name, sizeof(name), "servers_parse with a %zu-byte host name", length);
    run_isolated(name, parse_long_host, &length, 30);
    fmt(name, sizeof(name), "server_list_append and server_add with a %zu-byte host", length);
    run_isolated(name, append_long_host, &length, 30);
  }
  return finish("many_servers_no_abort");
}
