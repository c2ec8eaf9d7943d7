/*
 * Forked children and inherited handles: the parent opens its connection to one memcached,
 * forks children that each do one of the following with the inherited handle while the
 * parent keeps working on its own keys:
 *
 *   use         runs requests on the inherited handle directly
 *   quit        memcached_quit, then requests on the same handle
 *   clone       memcached_clone of the inherited handle, requests on the clone, then
 *               memcached_free of both
 *   free        memcached_free of the inherited handle, then requests on a new handle
 *
 * once with the text protocol and once with the binary protocol. Every value names its
 * owner, key and sequence number, so a reply meant for another process is recognised.
 * Checked: every reply each process gets is its own and exact, and every child exits
 * cleanly. The parent's requests all succeed while the children run, and afterwards it
 * still uses the same connection (same local port), so no child closed it or made the
 * server close it.
 *
 * libmemcached 1.1.4 is expected to fail: a child's requests and its quit go over the socket
 * it shares with the parent.
 *
 *   fork --port PORT [--children N] [--seconds S]
 *
 * Results go to descriptor 3 (see report.h).
 */
#define _GNU_SOURCE
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum child_mode { USE, QUIT, CLONE, FREE, MODES };
static const char *const mode_names[MODES] = {"use", "quit", "clone", "free"};

static in_port_t port;
static unsigned child_count = 4;
static double run_seconds = 1.5;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static memcached_st *new_handle(int binary) {
  memcached_st *mc = memcached_create(NULL);
  memcached_server_add(mc, "127.0.0.1", port);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, (uint64_t)binary);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 1000);
  return mc;
}

static in_port_t local_port(memcached_st *mc) {
  return memcached_server_srcport(memcached_server_instance_by_position(mc, 0));
}

struct tally {
  uint64_t ops;
  uint64_t errors;
  uint64_t wrong;
};

/* One round on OWNER's keys: set, get and check, increment and check. Failures are counted
 * in T; the first few are described with WHO as the prefix. */
static void one_round(memcached_st *mc, const char *owner, const char *who, uint64_t n,
                      struct tally *t) {
  char key[96];
  char value[160];
  snprintf(key, sizeof(key), "fork:%s:%" PRIu64, owner, n % 16);
  int len = snprintf(value, sizeof(value), "owner=%s key=%s n=%" PRIu64 " \r\nEND\r\n", owner,
                     key, n);
  memcached_return_t rc = memcached_set(mc, key, strlen(key), value, (size_t)len, 0, 7);
  t->ops++;
  if (rc != MEMCACHED_SUCCESS) {
    if (t->errors++ < 3) {
      report_info("%s: set %s returned %s", who, key, rc_label(rc));
    }
    return;
  }
  size_t got_len = 0;
  uint32_t flags = 0;
  char *got = memcached_get(mc, key, strlen(key), &got_len, &flags, &rc);
  t->ops++;
  if (rc != MEMCACHED_SUCCESS) {
    if (t->errors++ < 3) {
      report_info("%s: get %s returned %s", who, key, rc_label(rc));
    }
  } else if (got == NULL || got_len != (size_t)len || memcmp(got, value, got_len) != 0 ||
             flags != 7) {
    if (t->wrong++ < 3) {
      report_info("%s: get %s returned %zu bytes \"%.60s\" (flags %u), not its own value", who,
                  key, got_len, got ? got : "", flags);
    }
  }
  free(got);

  char counter[96];
  snprintf(counter, sizeof(counter), "fork:%s:counter", owner);
  uint64_t before = n * 10;
  char text[32];
  int text_len = snprintf(text, sizeof(text), "%" PRIu64, before);
  rc = memcached_set(mc, counter, strlen(counter), text, (size_t)text_len, 0, 0);
  uint64_t after = 0;
  if (rc == MEMCACHED_SUCCESS) {
    rc = memcached_increment(mc, counter, strlen(counter), 3, &after);
  }
  t->ops += 2;
  if (rc != MEMCACHED_SUCCESS) {
    if (t->errors++ < 3) {
      report_info("%s: counter %s: %s", who, counter, rc_label(rc));
    }
  } else if (after != before + 3) {
    if (t->wrong++ < 3) {
      report_info("%s: increment of %s returned %" PRIu64 ", expected %" PRIu64, who, counter,
                  after, before + 3);
    }
  }
}

static void run_rounds(memcached_st *mc, const char *owner, const char *who, double seconds,
                       struct tally *t) {
  double deadline = now_s() + seconds;
  for (uint64_t n = 1; now_s() < deadline; n++) {
    one_round(mc, owner, who, n, t);
  }
}

/* The child's part; returns its exit status (0: every reply was its own and exact). */
static int run_child(memcached_st *inherited, enum child_mode mode, int binary, unsigned index) {
  char owner[64];
  char who[96];
  snprintf(owner, sizeof(owner), "%s-child%u-%s", binary ? "binary" : "text", index,
           mode_names[mode]);
  snprintf(who, sizeof(who), "fork %s child %u (%s)", binary ? "binary" : "text", index,
           mode_names[mode]);
  struct tally t = {0, 0, 0};
  memcached_st *mc = inherited;
  memcached_st *extra = NULL;

  switch (mode) {
  case USE:
    break;
  case QUIT:
    memcached_quit(inherited);
    break;
  case CLONE:
    extra = memcached_clone(NULL, inherited);
    mc = extra;
    break;
  case FREE:
    memcached_free(inherited);
    inherited = NULL;
    mc = new_handle(binary);
    extra = mc;
    break;
  default:
    break;
  }

  run_rounds(mc, owner, who, run_seconds, &t);
  memcached_free(extra);
  if (mode == CLONE || mode == USE || mode == QUIT) {
    memcached_free(inherited);
  }

  if (t.errors + t.wrong > 0) {
    report_info("%s: %" PRIu64 " requests, %" PRIu64 " errors, %" PRIu64
                " foreign or wrong replies",
                who, t.ops, t.errors, t.wrong);
  }
  if (t.wrong > 0) {
    return 2;
  }
  return t.errors > 0 ? 1 : 0;
}

static void run_protocol(int binary) {
  const char *protocol = binary ? "binary" : "text";
  char owner[32];
  char who[64];
  snprintf(owner, sizeof(owner), "%s-parent", protocol);
  snprintf(who, sizeof(who), "fork %s parent", protocol);

  memcached_st *mc = new_handle(binary);
  struct tally warmup = {0, 0, 0};
  one_round(mc, owner, who, 0, &warmup);
  in_port_t port_before = local_port(mc);
  report_check(warmup.errors == 0 && warmup.wrong == 0 && port_before != 0,
               "fork %s: the parent is connected before forking", protocol);

  pid_t children[MODES * 4];
  unsigned started = 0;
  fflush(report_out);
  for (unsigned i = 0; i < child_count && started < sizeof(children) / sizeof(children[0]); i++) {
    pid_t pid = fork();
    if (pid == 0) {
      int status = run_child(mc, (enum child_mode)(i % MODES), binary, i);
      fflush(report_out);
      _exit(status);
    }
    children[started++] = pid;
  }

  struct tally during = {0, 0, 0};
  run_rounds(mc, owner, who, run_seconds, &during);
  report_check(during.errors == 0 && during.wrong == 0,
               "fork %s: the parent's %" PRIu64 " requests while the children ran succeeded with "
               "its own values (%" PRIu64 " errors, %" PRIu64 " foreign or wrong replies)",
               protocol, during.ops, during.errors, during.wrong);

  for (unsigned i = 0; i < started; i++) {
    int status = 0;
    while (waitpid(children[i], &status, 0) < 0 && errno == EINTR) {
    }
    const char *mode = mode_names[i % MODES];
    report_check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                 "fork %s: child %u (%s) got only its own values and no errors (%s %d)", protocol,
                 i, mode, WIFEXITED(status) ? "exit status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
  }

  struct tally after = {0, 0, 0};
  run_rounds(mc, owner, who, 0.2, &after);
  in_port_t port_after = local_port(mc);
  report_check(after.errors == 0 && after.wrong == 0,
               "fork %s: the parent's requests after the children exited succeed (%" PRIu64
               " requests, %" PRIu64 " errors, %" PRIu64 " wrong)",
               protocol, after.ops, after.errors, after.wrong);
  report_check(port_after == port_before,
               "fork %s: the parent kept its connection (local port %u before, %u after)", protocol,
               port_before, port_after);
  memcached_free(mc);
}

int main(int argc, char **argv) {
  report_open();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--port") == 0) {
      port = (in_port_t)atoi(argv[i + 1]);
    } else if (strcmp(argv[i], "--children") == 0) {
      child_count = (unsigned)atoi(argv[i + 1]);
    } else if (strcmp(argv[i], "--seconds") == 0) {
      run_seconds = atof(argv[i + 1]);
    }
  }
  if (port == 0 || child_count == 0 || child_count > MODES * 4) {
    report_info("usage: fork --port PORT [--children 1..%d] [--seconds S]", MODES * 4);
    report_finish();
    return 2;
  }
  run_protocol(0);
  run_protocol(1);
  return report_finish();
}
