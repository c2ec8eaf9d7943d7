/*
 * Failure handling over time: the sequence of return codes while a server is down, with
 * ProFTPD's MemcacheConnectFailures/ejection settings (SERVER_FAILURE_LIMIT, RETRY_TIMEOUT,
 * AUTO_EJECT_HOSTS, CONSISTENT distribution) and with the defaults, plus POLL_TIMEOUT
 * against a server that accepts connections but never replies.
 *
 * Calls are made every 0.5 s starting 0.25 s after a whole second, because the library
 * measures retry windows in whole seconds of wall-clock time; each line names the call's
 * offset from the start (t=...).
 *
 * Servers: MC_PORT1 (memcached), MC_DEAD_PORT (nothing listening), MC_HANG_PORT (a free
 * port on which this program listens without ever accepting).
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static const char *last_disconnect(const memcached_st *mc) {
  const memcached_instance_st *s = memcached_server_get_last_disconnect(mc);
  return s ? port_label(memcached_server_port(s)) : "NULL";
}

static void print_timeouts(const char *label, memcached_st *mc) {
  printf("%s: CONNECT_TIMEOUT=%llu POLL_TIMEOUT=%llu RETRY_TIMEOUT=%llu "
         "SERVER_FAILURE_LIMIT=%llu AUTO_EJECT_HOSTS=%llu\n",
         label,
         (unsigned long long)memcached_behavior_get(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT),
         (unsigned long long)memcached_behavior_get(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT),
         (unsigned long long)memcached_behavior_get(mc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT),
         (unsigned long long)memcached_behavior_get(mc, MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT),
         (unsigned long long)memcached_behavior_get(mc, MEMCACHED_BEHAVIOR_AUTO_EJECT_HOSTS));
}

/* One live and one dead server, a key owned by the dead one, ejection after 2 failures.
 * The expected trace is a connect failure, then "disabled" until the retry, then "marked
 * dead" while the key moves to the live server, until the dead server's retry time puts it
 * back into the continuum. */
static void trace_ejection(in_port_t live, in_port_t dead, int binary) {
  const char *p = protocol_name(binary);
  char label[64];
  fmt(label, sizeof(label), "%s ejection", p);
  memcached_st *mc = new_handle(binary);
  add_server(mc, live);
  add_server(mc, dead);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT, 2);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 1);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_AUTO_EJECT_HOSTS, 1);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, 500);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 700);
  print_timeouts(label, mc);

  char key[64];
  int found = 0;
  for (int i = 0; i < 1000 && !found; i++) {
    fmt(key, sizeof(key), "failover.%s.%d", p, i);
    found = memcached_generate_hash(mc, key, strlen(key)) == 1;
  }
  printf("%s: found a key placed on the dead server: %s\n", label, found ? "yes" : "no");

  double start = align_to_second(0.25);
  for (int step = 0; step <= 12; step++) {
    sleep_seconds(start + 0.5 * step - now_seconds());
    memcached_return_t rc = memcached_set(mc, key, strlen(key), "v", 1, 0, 0);
    printf("%s t=%.1f set rc=%d %s last_disconnect=%s\n", label, 0.5 * step, (int)rc,
           rc_name(rc), last_disconnect(mc));
  }
  memcached_free(mc);
}

/* A single dead server with the default limits: no ejection, a retry every RETRY_TIMEOUT. */
static void trace_defaults(in_port_t dead, int binary) {
  const char *p = protocol_name(binary);
  char label[64];
  fmt(label, sizeof(label), "%s defaults", p);
  memcached_st *mc = single_server_handle(dead, binary);
  print_timeouts(label, mc);

  double start = align_to_second(0.25);
  for (int step = 0; step <= 8; step++) {
    sleep_seconds(start + 0.5 * step - now_seconds());
    memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
    size_t len = 0;
    char *value = memcached_get(mc, "failover.defaults", 17, &len, NULL, &rc);
    printf("%s t=%.1f get rc=%d %s value=%s\n", label, 0.5 * step, (int)rc, rc_name(rc),
           value ? "found" : "NULL");
    free(value);
  }

  /* memcached_quit ends the retry window: the next call tries to connect again. */
  memcached_quit(mc);
  memcached_return_t rc = memcached_set(mc, "failover.defaults", 17, "v", 1, 0, 0);
  print_rc(fmt(label, sizeof(label), "%s defaults after quit: set", p), rc);
  memcached_free(mc);
}

/* A socket that completes TCP handshakes (the kernel does that for a listening socket) but
 * never reads or replies. Returns the descriptor, or -1. */
static int listen_without_accepting(in_port_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return -1;
  }
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 16) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void check_poll_timeout(in_port_t hang, int binary) {
  const char *p = protocol_name(binary);
  char label[64];
  fmt(label, sizeof(label), "%s silent server", p);
  int fd = listen_without_accepting(hang);
  printf("%s: listening: %s\n", label, fd >= 0 ? "yes" : "no");
  if (fd < 0) {
    return;
  }
  memcached_st *mc = single_server_handle(hang, binary);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 300);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, 300);
  print_timeouts(label, mc);

  for (int i = 0; i < 2; i++) {
    double begin = now_seconds();
    memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
    size_t len = 0;
    char *value = memcached_get(mc, "failover.silent", 15, &len, NULL, &rc);
    double elapsed = now_seconds() - begin;
    printf("%s: get #%d rc=%d %s value=%s\n", label, i, (int)rc, rc_name(rc),
           value ? "found" : "NULL");
    /* 300 ms is the poll timeout; the upper bound only rules out waiting for the 5 s
     * default or for several polls in a row. */
    printf("%s: get #%d took between 0.2 s and 1.5 s: %s\n", label, i,
           elapsed >= 0.2 && elapsed <= 1.5 ? "yes" : "no");
    free(value);
  }
  memcached_free(mc);
  close(fd);
}

int main(void) {
  start_test();
  in_port_t live = env_port("MC_PORT1");
  in_port_t dead = env_port("MC_DEAD_PORT");
  in_port_t hang = env_port("MC_HANG_PORT");

  trace_ejection(live, dead, 0);
  trace_ejection(live, dead, 1);
  trace_defaults(dead, 0);
  trace_defaults(dead, 1);
  check_poll_timeout(hang, 0);
  check_poll_timeout(hang, 1);
  return 0;
}
