/*
 * After the memcached server restarts, the first request on the handle's idle connection
 * must succeed: the library has to notice that the old connection is gone and reconnect,
 * instead of returning the failure of the dead socket to the caller. Checked for get and
 * set as the first request, in both protocols.
 *
 * System library (libmemcached 1.1.4): FAILS. The first request after the restart returns
 * a connection error and only the request after it reconnects.
 *
 * The test runs its own memcached (found in PATH) on 127.0.0.1:MC_RESTART_PORT, and stops
 * it by pid.
 */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static pid_t server_pid = -1;

static int accepts_connections(in_port_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return 0;
  }
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int connected = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
  close(fd);
  return connected;
}

static void stop_server(void) {
  if (server_pid > 0) {
    kill(server_pid, SIGTERM);
    while (waitpid(server_pid, NULL, 0) < 0 && errno == EINTR) {
    }
    server_pid = -1;
  }
}

static void start_server(in_port_t port) {
  char port_text[16];
  snprintf(port_text, sizeof(port_text), "%u", (unsigned)port);
  fflush(stdout);
  server_pid = fork();
  if (server_pid < 0) {
    die("fork failed: %s", strerror(errno));
  }
  if (server_pid == 0) {
    /* memcached does not start as root unless -u names the user to run as. */
    if (geteuid() == 0) {
      execlp("memcached", "memcached", "-p", port_text, "-l", "127.0.0.1", "-U", "0", "-m", "16",
             "-u", "root", (char *)NULL);
    } else {
      execlp("memcached", "memcached", "-p", port_text, "-l", "127.0.0.1", "-U", "0", "-m", "16",
             (char *)NULL);
    }
    fprintf(stderr, "cannot run memcached: %s\n", strerror(errno));
    _exit(127);
  }
  for (int attempt = 0; attempt < 100; attempt++) {
    if (accepts_connections(port)) {
      return;
    }
    sleep_seconds(0.05);
  }
  stop_server();
  die("memcached on port %u did not start within 5 s", (unsigned)port);
}

static void restart_server(in_port_t port) {
  stop_server();
  start_server(port);
}

static void check_first_request(in_port_t port, int binary, int first_is_get) {
  const char *p = protocol_name(binary);
  const char *op = first_is_get ? "get" : "set";
  const char *key = "restart.key";

  memcached_st *mc = single_server_handle(port, binary);
  memcached_return_t rc = memcached_set(mc, key, strlen(key), "before", 6, 0, 0);
  check_that(rc == MEMCACHED_SUCCESS, "%s %s: set before the restart rc=%s", p, op,
             rc_name(rc));

  restart_server(port);

  if (first_is_get) {
    /* The restarted server is empty, so the correct reply is NOTFOUND. */
    size_t len = 0;
    rc = MEMCACHED_MAXIMUM_RETURN;
    char *value = memcached_get(mc, key, strlen(key), &len, NULL, &rc);
    check_that(rc == MEMCACHED_NOTFOUND && value == NULL,
               "%s: first get after the restart returns NOTFOUND (rc=%s)", p, rc_name(rc));
    free(value);
  } else {
    rc = memcached_set(mc, key, strlen(key), "after", 5, 0, 0);
    check_that(rc == MEMCACHED_SUCCESS, "%s: first set after the restart rc=%s", p,
               rc_name(rc));
  }

  rc = memcached_set(mc, "restart.second", 14, "2", 1, 0, 0);
  check_that(rc == MEMCACHED_SUCCESS, "%s %s: second request after the restart rc=%s", p, op,
             rc_name(rc));
  memcached_free(mc);
}

int main(void) {
  start_test();
  in_port_t port = env_port("MC_RESTART_PORT");
  start_server(port);
  atexit(stop_server);

  for (int binary = 0; binary <= 1; binary++) {
    check_first_request(port, binary, 1);
    check_first_request(port, binary, 0);
  }
  stop_server();
  return finish("server_restart_first_request_succeeds");
}
