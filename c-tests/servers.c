/*
 * Server lists and a handle's servers: memcached_servers_parse, memcached_server_list_append,
 * memcached_server_list_count, memcached_server_list_free, memcached_server_push,
 * memcached_servers_reset, memcached_server_count, memcached_server_instance_by_position,
 * memcached_server_name, memcached_server_port and memcached_server_get_last_disconnect.
 *
 * Servers: MC_PORT1 (memcached), MC_DEAD_PORT (nothing listening), MC_SOCKET (unix socket).
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

static void print_list(const char *label, memcached_server_list_st list) {
  if (list == NULL) {
    printf("%s: NULL\n", label);
    return;
  }
  uint32_t count = memcached_server_list_count(list);
  printf("%s: count=%u number_of_hosts[0]=%u\n", label, count, list[0].number_of_hosts);
  for (uint32_t i = 0; i < count; i++) {
    char line[256];
    fmt(line, sizeof(line), "%s: [%u] port=%u weight=%u type=%d host", label, i,
        (unsigned)list[i].port, list[i].weight, (int)list[i].type);
    print_bytes(line, list[i].hostname, strlen(list[i].hostname));
  }
}

/* Copies TEXT with tabs written as \t, so that every output line is plain text. */
static const char *escape(const char *text, char *buf, size_t size) {
  size_t used = 0;
  for (; *text != '\0' && used + 3 < size; text++) {
    if (*text == '\t') {
      buf[used++] = '\\';
      buf[used++] = 't';
    } else {
      buf[used++] = *text;
    }
  }
  buf[used] = '\0';
  return buf;
}

static void check_parse(void) {
  static const char *const inputs[] = {
      "localhost",
      "127.0.0.1:11212",
      "10.0.0.1:11212, 10.0.0.2:11213:5,10.0.0.3 4",
      "a:1, b:2",
      "a,  b",
      "a,\tb",
      "a, b, c",
      "[::1]:11999, [fe80::1]",
      "[::1]",
      "::1",
      "/var/run/memcached.sock",
      "/var/run/mc.sock:2",
      "h:abc",
      "h:70000",
      "h:65535",
      "h:0",
      "h:1:0",
      "host1:1234 7",
      "10.0.0.2:11213:5",
      ",a",
      "a,,b",
      "a,",
      "h:99999999999999999999999",
  };
  for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
    memcached_server_st *list = memcached_servers_parse(inputs[i]);
    char label[128];
    char escaped[64];
    fmt(label, sizeof(label), "parse \"%s\"", escape(inputs[i], escaped, sizeof(escaped)));
    print_list(label, list);
    memcached_server_list_free(list);
  }

  memcached_server_st *empty = memcached_servers_parse("");
  print_list("parse \"\"", empty);
  memcached_server_list_free(empty);

  /* Host names are stored in a 1025-byte field, so 1024 characters fit. Longer names
   * crash the system library and are covered by a regression test. */
  char host[1100];
  memset(host, 'h', 1024);
  strcpy(host + 1024, ":11300");
  memcached_server_st *list = memcached_servers_parse(host);
  printf("parse 1024-byte host: %s count=%u port=%u host length=%zu\n",
         list ? "list" : "NULL", memcached_server_list_count(list),
         list ? (unsigned)list[0].port : 0U, list ? strlen(list[0].hostname) : (size_t)0);
  memcached_server_list_free(list);
}

static void check_list_append(void) {
  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  memcached_server_st *list = memcached_server_list_append(NULL, "127.0.0.1", 11300, &rc);
  print_rc("append to NULL list", rc);
  print_list("append to NULL list", list);

  rc = MEMCACHED_MAXIMUM_RETURN;
  list = memcached_server_list_append(list, NULL, 11301, &rc);
  print_rc("append NULL host", rc);
  rc = MEMCACHED_MAXIMUM_RETURN;
  list = memcached_server_list_append(list, "example.invalid", 0, &rc);
  print_rc("append port 0", rc);
  rc = MEMCACHED_MAXIMUM_RETURN;
  list = memcached_server_list_append(list, "/tmp/memcached-test.sock", 5, &rc);
  print_rc("append unix path", rc);
  list = memcached_server_list_append(list, "127.0.0.2", 65535, NULL);
  printf("append with NULL rc pointer: %s\n", list ? "list" : "NULL");
  print_list("appended list", list);
  memcached_server_list_free(list);

  printf("list_count(NULL)=%u\n", memcached_server_list_count(NULL));
  memcached_server_list_free(NULL);
  printf("list_free(NULL) returned\n");
}

static void print_handle_servers(const char *label, const memcached_st *mc) {
  uint32_t count = memcached_server_count(mc);
  printf("%s: server_count=%u\n", label, count);
  for (uint32_t i = 0; i < count; i++) {
    const memcached_instance_st *s = memcached_server_instance_by_position(mc, i);
    const char *name = memcached_server_name(s);
    printf("%s: [%u] name=\"%s\" port=%s\n", label, i, name ? name : "(null)",
           port_label(memcached_server_port(s)));
  }
}

static void check_push(in_port_t live, const char *socket_path) {
  memcached_st *mc = new_handle(0);

  print_rc("push NULL list", memcached_server_push(mc, NULL));
  print_handle_servers("after push NULL list", mc);

  memcached_server_st *list = memcached_servers_parse("127.0.0.1:11300, localhost, ,x");
  print_rc("push NULL handle", memcached_server_push(NULL, list));
  print_rc("push parsed list", memcached_server_push(mc, list));
  /* The handle must own copies: the list is freed before the servers are read. */
  memcached_server_list_free(list);
  print_handle_servers("after push parsed list", mc);

  list = memcached_server_list_append(NULL, "127.0.0.1", live, NULL);
  list = memcached_server_list_append(list, socket_path, 0, NULL);
  print_rc("push second list", memcached_server_push(mc, list));
  memcached_server_list_free(list);
  uint32_t count = memcached_server_count(mc);
  printf("after push second list: server_count=%u\n", count);
  const memcached_instance_st *last = memcached_server_instance_by_position(mc, count - 1);
  printf("after push second list: last server is the socket path: %s port=%u\n",
         strcmp(memcached_server_name(last), socket_path) == 0 ? "yes" : "no",
         (unsigned)memcached_server_port(last));

  memcached_servers_reset(mc);
  print_handle_servers("after servers_reset", mc);
  memcached_servers_reset(mc);
  printf("servers_reset twice returned\n");
  memcached_servers_reset(NULL);
  printf("servers_reset(NULL) returned\n");

  /* The handle stays usable after a reset. */
  add_server(mc, live);
  print_handle_servers("after reset and push", mc);
  print_rc("set after reset and push", memcached_set(mc, "servers.k", 9, "v", 1, 0, 0));
  memcached_free(mc);

  printf("server_count(NULL)=%u\n", memcached_server_count(NULL));
  printf("instance_by_position(NULL, 0) is NULL: %s\n",
         memcached_server_instance_by_position(NULL, 0) == NULL ? "yes" : "no");
  printf("server_name(NULL) is NULL: %s\n", memcached_server_name(NULL) == NULL ? "yes" : "no");
  printf("server_port(NULL)=%u\n", (unsigned)memcached_server_port(NULL));
}

/* Returns a key that the handle places on server INDEX (modula: depends on the key only). */
static const char *key_for_index(memcached_st *mc, uint32_t index, char *buf, size_t size) {
  for (int i = 0; i < 1000; i++) {
    fmt(buf, size, "servers.k%d", i);
    if (memcached_generate_hash(mc, buf, strlen(buf)) == index) {
      return buf;
    }
  }
  die("no key maps to server %u", index);
  return NULL;
}

static void print_last_disconnect(const char *label, const memcached_st *mc) {
  const memcached_instance_st *s = memcached_server_get_last_disconnect(mc);
  if (s == NULL) {
    printf("%s: last_disconnect NULL\n", label);
    return;
  }
  const char *name = memcached_server_name(s);
  printf("%s: last_disconnect name=\"%s\" port=%s\n", label, name ? name : "(null)",
         port_label(memcached_server_port(s)));
}

static void check_last_disconnect(in_port_t live, in_port_t dead, int binary) {
  const char *proto = protocol_name(binary);
  char label[128];
  char live_key[32];
  char dead_key[32];
  memcached_st *mc = new_handle(binary);
  add_server(mc, live);
  add_server(mc, dead);
  key_for_index(mc, 0, live_key, sizeof(live_key));
  key_for_index(mc, 1, dead_key, sizeof(dead_key));

  print_last_disconnect(fmt(label, sizeof(label), "%s fresh handle", proto), mc);
  print_rc(fmt(label, sizeof(label), "%s set on live server", proto),
           memcached_set(mc, live_key, strlen(live_key), "v", 1, 0, 0));
  print_last_disconnect(fmt(label, sizeof(label), "%s after live set", proto), mc);
  print_rc(fmt(label, sizeof(label), "%s set on dead server", proto),
           memcached_set(mc, dead_key, strlen(dead_key), "v", 1, 0, 0));
  print_last_disconnect(fmt(label, sizeof(label), "%s after dead set", proto), mc);
  print_rc(fmt(label, sizeof(label), "%s set on live server again", proto),
           memcached_set(mc, live_key, strlen(live_key), "w", 1, 0, 0));
  print_last_disconnect(fmt(label, sizeof(label), "%s after later success", proto), mc);

  memcached_st *copy = memcached_clone(NULL, mc);
  print_last_disconnect(fmt(label, sizeof(label), "%s clone", proto), copy);
  memcached_free(copy);

  memcached_servers_reset(mc);
  print_last_disconnect(fmt(label, sizeof(label), "%s after servers_reset", proto), mc);
  memcached_free(mc);
  printf("last_disconnect(NULL) is NULL: %s\n",
         memcached_server_get_last_disconnect(NULL) == NULL ? "yes" : "no");
}

int main(void) {
  start_test();
  in_port_t live = env_port("MC_PORT1");
  in_port_t dead = env_port("MC_DEAD_PORT");
  const char *socket_path = env_text("MC_SOCKET");

  check_parse();
  check_list_append();
  check_push(live, socket_path);
  check_last_disconnect(live, dead, 0);
  check_last_disconnect(live, dead, 1);
  return 0;
}
