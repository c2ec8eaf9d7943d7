/*
 * Text protocol with VERIFY_KEY off (the default): keys that would change the meaning of the
 * command line ("a b", "a\r\nflush_all", "a\nb", ...) must be rejected with
 * MEMCACHED_BAD_KEY_PROVIDED before anything is sent. Otherwise the server reads a second
 * command (here: flush_all) or an argument out of place, and the handle reads the reply
 * meant for an earlier request as the reply to the next one.
 *
 * "Nothing was sent" is measured with the server's bytes_read counter: the change across the
 * rejected calls must equal the change across two consecutive stats requests alone. Then
 * the next valid request on the same handle must get its own reply, and a value stored
 * before must still be there (no flush happened).
 *
 * System library (libmemcached 1.1.4): FAILS for every key. Without VERIFY_KEY it sends the
 * keys as they are. The server replies ERROR or CLIENT_ERROR, later calls on the handle read
 * replies meant for earlier requests, the stored value no longer reads back after several
 * of the keys, and the keys with "\r\nflush_all" make the library abort on an assertion in
 * storage.cc.
 *
 * Servers: MC_PORT1 (memcached). Nothing else may use it while the test runs.
 */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

static unsigned long long bytes_read(memcached_st *stats) {
  memcached_return_t rc;
  memcached_stat_st *st = memcached_stat(stats, NULL, &rc);
  unsigned long long value = st != NULL && rc == MEMCACHED_SUCCESS ? st[0].bytes_read : 0;
  memcached_stat_free(stats, st);
  return value;
}

/* The value of KEEP must read back unchanged; this also shows that the reply the handle
 * reads belongs to this request. */
static int keep_is_intact(memcached_st *mc) {
  size_t len = 0;
  memcached_return_t rc;
  char *value = memcached_get(mc, "keep", 4, &len, NULL, &rc);
  int intact =
      rc == MEMCACHED_SUCCESS && value != NULL && len == 4 && memcmp(value, "kept", 4) == 0;
  free(value);
  return intact;
}

static const struct {
  const char *name;
  const char *key;
  size_t length;
} bad_keys[] = {
    {"space", "a b", 3},
    {"CRLF and a command", "a\r\nflush_all", 12},
    {"CRLF, a command and CRLF", "a\r\nflush_all\r\n", 14},
    {"newline", "a\nb", 3},
    {"carriage return", "a\rb", 3},
    {"tab", "a\tb", 3},
    {"NUL", "a\0b", 3},
    {"leading space", " a", 2},
    {"only a space", " ", 1},
};

static in_port_t server_port;

/* Runs every data call with bad key number *ARG on fresh handles; returns non-zero when a
 * check failed. Runs in a child process, because a desynchronised connection can make a
 * library abort. */
static int check_key(void *arg) {
  size_t index = *(const size_t *)arg;
  const char *key = bad_keys[index].key;
  size_t len = bad_keys[index].length;
  const char *name = bad_keys[index].name;

  memcached_st *mc = single_server_handle(server_port, 0);
  memcached_st *stats = single_server_handle(server_port, 0);
  memcached_return_t rc = memcached_set(mc, "keep", 4, "kept", 4, 0, 0);
  check_that(rc == MEMCACHED_SUCCESS, "key with %s: set keep rc=%s", name, rc_name(rc));
  unsigned long long first = bytes_read(stats);
  unsigned long long stats_only = bytes_read(stats) - first;
  unsigned long long before = bytes_read(stats);

  uint64_t counter = 0;
  size_t value_len = 0;
  rc = memcached_set(mc, key, len, "v", 1, 0, 0);
  check_that(rc == MEMCACHED_BAD_KEY_PROVIDED, "key with %s: set rc=%s", name, rc_name(rc));
  rc = memcached_add(mc, key, len, "v", 1, 0, 0);
  check_that(rc == MEMCACHED_BAD_KEY_PROVIDED, "key with %s: add rc=%s", name, rc_name(rc));
  char *value = memcached_get(mc, key, len, &value_len, NULL, &rc);
  check_that(rc == MEMCACHED_BAD_KEY_PROVIDED && value == NULL, "key with %s: get rc=%s", name,
             rc_name(rc));
  free(value);
  rc = memcached_delete(mc, key, len, 0);
  check_that(rc == MEMCACHED_BAD_KEY_PROVIDED, "key with %s: delete rc=%s", name, rc_name(rc));
  rc = memcached_increment(mc, key, len, 1, &counter);
  check_that(rc == MEMCACHED_BAD_KEY_PROVIDED, "key with %s: increment rc=%s", name,
             rc_name(rc));
  rc = memcached_decrement(mc, key, len, 1, &counter);
  check_that(rc == MEMCACHED_BAD_KEY_PROVIDED, "key with %s: decrement rc=%s", name,
             rc_name(rc));

  unsigned long long received = bytes_read(stats) - before;
  check_that(received == stats_only,
             "key with %s: the server received only the stats request (%llu bytes, "
             "expected %llu)",
             name, received, stats_only);
  check_that(keep_is_intact(mc),
             "key with %s: the next valid get returns its own value, and no flush happened",
             name);

  rc = memcached_set(mc, "after", 5, "fine", 4, 0, 0);
  check_that(rc == MEMCACHED_SUCCESS, "key with %s: set of a valid key afterwards rc=%s", name,
             rc_name(rc));
  value = memcached_get(mc, "after", 5, &value_len, NULL, &rc);
  check_that(rc == MEMCACHED_SUCCESS && value != NULL && value_len == 4 &&
                 memcmp(value, "fine", 4) == 0,
             "key with %s: get of a valid key afterwards returns its value (rc=%s)", name,
             rc_name(rc));
  free(value);

  memcached_free(stats);
  memcached_free(mc);
  return checks_failed;
}

int main(void) {
  start_test();
  server_port = env_port("MC_PORT1");

  memcached_st *mc = new_handle(0);
  check_that(memcached_behavior_get(mc, MEMCACHED_BEHAVIOR_VERIFY_KEY) == 0,
             "VERIFY_KEY is off by default");
  memcached_free(mc);

  for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
    char name[64];
    fmt(name, sizeof(name), "all checks for the key with %s", bad_keys[i].name);
    run_isolated(name, check_key, &i, 30);
  }
  return finish("text_bad_key_rejected_before_send");
}
