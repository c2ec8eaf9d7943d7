/*
 * A forked child that calls memcached_quit and memcached_free on a handle it inherited
 * with an open connection must not break the parent's next operations. ProFTPD does this in
 * every session process (quit, clone, free on the daemon's handle).
 *
 * System library (libmemcached 1.1.4): FAILS. The child's quit sends the protocol's quit
 * command over the socket it shares with the parent, so the server closes the connection
 * and the parent's next request fails with a connection error.
 *
 * Servers: MC_PORT1 (memcached).
 */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

enum child_action { QUIT_AND_FREE, FREE_ONLY, QUIT_CLONE_FREE };

static const char *action_name(enum child_action action) {
  switch (action) {
  case QUIT_AND_FREE:
    return "quit+free";
  case FREE_ONLY:
    return "free";
  default:
    return "quit+clone+free";
  }
}

static void run_child(memcached_st *mc, enum child_action action) {
  if (action == QUIT_AND_FREE || action == QUIT_CLONE_FREE) {
    memcached_quit(mc);
  }
  if (action == QUIT_CLONE_FREE) {
    memcached_st *copy = memcached_clone(NULL, mc);
    memcached_free(mc);
    memcached_free(copy);
    return;
  }
  memcached_free(mc);
}

static void check_parent(in_port_t port, int binary, enum child_action action) {
  const char *p = protocol_name(binary);
  const char *what = action_name(action);
  char key[64];
  fmt(key, sizeof(key), "fork.%s.%s", p, what);

  memcached_st *mc = single_server_handle(port, binary);
  memcached_return_t rc = memcached_set(mc, key, strlen(key), "parent", 6, 0, 0);
  check_that(rc == MEMCACHED_SUCCESS, "%s %s: set before fork rc=%s", p, what, rc_name(rc));

  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    run_child(mc, action);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  check_that(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s %s: child exited cleanly", p,
             what);

  /* The parent's first request after the child is done is the one that breaks. */
  size_t len = 0;
  rc = MEMCACHED_MAXIMUM_RETURN;
  char *value = memcached_get(mc, key, strlen(key), &len, NULL, &rc);
  check_that(rc == MEMCACHED_SUCCESS && value != NULL && len == 6 &&
                 memcmp(value, "parent", 6) == 0,
             "%s %s: parent's first get after the child returns the value (rc=%s)", p, what,
             rc_name(rc));
  free(value);
  rc = memcached_set(mc, key, strlen(key), "again", 5, 0, 0);
  check_that(rc == MEMCACHED_SUCCESS, "%s %s: parent's next set rc=%s", p, what, rc_name(rc));
  uint64_t counter = 0;
  memcached_set(mc, "fork.counter", 12, "1", 1, 0, 0);
  rc = memcached_increment(mc, "fork.counter", 12, 1, &counter);
  check_that(rc == MEMCACHED_SUCCESS && counter == 2, "%s %s: parent's increment rc=%s value=%llu",
             p, what, rc_name(rc), (unsigned long long)counter);
  memcached_free(mc);
}

int main(void) {
  start_test();
  in_port_t port = env_port("MC_PORT1");
  for (int binary = 0; binary <= 1; binary++) {
    check_parent(port, binary, QUIT_AND_FREE);
    check_parent(port, binary, FREE_ONLY);
    check_parent(port, binary, QUIT_CLONE_FREE);
  }
  return finish("fork_child_quit_keeps_parent");
}
