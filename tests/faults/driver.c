/*
 * Fault-injection driver: runs every (fault mode, operation, protocol) case against
 * fake_server.py and checks how the library under test copes.
 *
 *   driver DATA_PORT CONTROL_PORT NOACCEPT_PORT [FILTER]
 *
 * FILTER, when given, runs only the cases whose name ("mode/op/protocol") contains it.
 *
 * Each case runs in its own child process (so a crash or a hang costs one case, and memory
 * growth is measured per case) with a fresh handle:
 *   1. the fake server's store is reset and seeded with this case's keys;
 *   2. the fault mode is switched on and the operation runs once. The call must return
 *      within its bound, with the code the mode calls for, and with RSS growth below
 *      RSS_LIMIT_KIB;
 *   3. the server is seeded again, which also switches it back to mode good (after a late
 *      reply had time to arrive), and on the SAME handle the operation runs again, then a
 *      get of a check key. Both must succeed quickly with their own results, never with a
 *      stale or extra reply from step 2.
 * The noaccept mode points the handle at a port whose accept queue is full, so the connect
 * itself times out. That mode has no good mode to switch to. Its step 3 checks only that a
 * second call, made inside the server's retry window, fails at once without connecting.
 *
 * Codes: a faulted call must return a connection-class code (see connection_class), and
 * stat and version must return SOME_ERRORS, as libmemcached does for its all-server calls.
 *
 * One line per case: "PASS name: what happened" or "FAIL name: reasons [what happened]".
 * A case that failed only on time bounds runs again, up to CASE_ATTEMPTS times; each such
 * attempt prints a "REPEAT" line first. Last line: "N passed, M failed". The exit status is
 * 1 when a case failed, 2 when the setup failed.
 */
#define _GNU_SOURCE

#include <libmemcached/memcached.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Timeouts given to the library, in milliseconds. */
#define POLL_TIMEOUT_MS 300
#define CONNECT_TIMEOUT_MS 300
/* Slack on top of every bound, for scheduling on a loaded 2-CPU machine. With four busy
 * processes on two CPUs, calls of one poll took up to 420 ms. Rarer, longer stalls are
 * what the repeats of CASE_ATTEMPTS absorb. The margin stays below POLL_TIMEOUT_MS, so a
 * call that waits twice still fails its bound. */
#define MARGIN_MS 250
/* These mirror fake_server.py. A late reply comes LATE_DELAY_MS after the request, and
 * mode slow sends SLOW_BYTES bytes SLOW_GAP_MS apart before the rest. */
#define LATE_DELAY_MS 600
#define SLOW_BYTES 4
#define SLOW_GAP_MS 150
/* After a late reply is due, wait this much longer before checking that it is ignored. */
#define LATE_SETTLE_MS 150
/* Largest RSS growth accepted during one faulted call. */
#define RSS_LIMIT_KIB (64 * 1024)
/* Value size for set in mode stall: far more than the socket buffers on both sides hold,
 * so the library's writes must block. */
#define STALL_VALUE_BYTES (16 * 1024 * 1024)
/* Time allowed for copying that value into the socket buffers before they fill: about
 * 15 ms when idle, up to 150 ms seen with both CPUs busy. */
#define STALL_COPY_MS 200
/* Length of the seeded values. fake_server.py's stale values have the same length. */
#define VALUE_BYTES 64
/* A child still running after this many seconds is killed and the case fails. */
#define CASE_KILL_SECONDS 10

enum protocol { TEXT, BINARY };
static const char *const protocol_names[] = {"text", "binary"};

/* What a mode demands of the faulted call. */
enum expectation {
  EXPECT_ANSWER,            /* SUCCESS with the expected result: the server is slow or chatty */
  EXPECT_ANSWER_OR_TIMEOUT, /* either is right: every byte comes within the poll timeout */
  EXPECT_FAILURE,           /* a connection-class code, never SUCCESS or NOTFOUND */
};

struct mode {
  const char *name;
  enum expectation expect;
  bool binary_only;
  int bound_ms; /* without MARGIN_MS */
  const char *bound_reason;
};

static const struct mode modes[] = {
    {"good", EXPECT_ANSWER, false, POLL_TIMEOUT_MS, "1 poll"},
    {"silent", EXPECT_FAILURE, false, POLL_TIMEOUT_MS, "1 poll"},
    {"trickle", EXPECT_ANSWER, false, POLL_TIMEOUT_MS, "1 poll"},
    {"slow", EXPECT_ANSWER_OR_TIMEOUT, false, SLOW_BYTES * SLOW_GAP_MS + POLL_TIMEOUT_MS,
     "4 gaps of 150 ms + 1 poll"},
    {"close", EXPECT_FAILURE, false, POLL_TIMEOUT_MS, "1 poll"},
    {"reset", EXPECT_FAILURE, false, POLL_TIMEOUT_MS, "1 poll"},
    {"truncate", EXPECT_FAILURE, false, POLL_TIMEOUT_MS, "1 poll"},
    {"huge", EXPECT_FAILURE, false, POLL_TIMEOUT_MS, "1 poll"},
    {"garbage", EXPECT_FAILURE, false, POLL_TIMEOUT_MS, "1 poll"},
    {"opaque", EXPECT_FAILURE, true, POLL_TIMEOUT_MS, "1 poll"},
    {"opcode", EXPECT_FAILURE, true, POLL_TIMEOUT_MS, "1 poll"},
    {"extra", EXPECT_ANSWER, false, POLL_TIMEOUT_MS, "1 poll"},
    {"stall", EXPECT_FAILURE, false, POLL_TIMEOUT_MS + STALL_COPY_MS,
     "1 poll + 200 ms to copy the value"},
    {"late", EXPECT_FAILURE, false, POLL_TIMEOUT_MS, "1 poll"},
    {"noaccept", EXPECT_FAILURE, false, CONNECT_TIMEOUT_MS, "1 connect poll"},
};
#define MODE_COUNT (sizeof modes / sizeof modes[0])

enum op { OP_GET, OP_MGET, OP_SET, OP_ADD, OP_DELETE, OP_INCR, OP_STAT, OP_VERSION };
static const char *const op_names[] = {"get", "mget", "set", "add", "delete", "incr", "stat",
                                       "version"};
#define OP_COUNT (sizeof op_names / sizeof op_names[0])

/* Version and pid that fake_server.py reports in mode good. */
#define GOOD_MAJOR 1
#define GOOD_MINOR 6
#define GOOD_MICRO 18
#define GOOD_PID 4242

static in_port_t data_port, control_port, noaccept_port;
static char *stall_value;

/* ---- small helpers ------------------------------------------------------------------- */

static const char *rc_name(memcached_return_t rc) {
  static const char *const names[] = {
      "SUCCESS", "FAILURE", "HOST_LOOKUP_FAILURE", "CONNECTION_FAILURE",
      "CONNECTION_BIND_FAILURE", "WRITE_FAILURE", "READ_FAILURE", "UNKNOWN_READ_FAILURE",
      "PROTOCOL_ERROR", "CLIENT_ERROR", "SERVER_ERROR", "ERROR", "DATA_EXISTS",
      "DATA_DOES_NOT_EXIST", "NOTSTORED", "STORED", "NOTFOUND", "MEMORY_ALLOCATION_FAILURE",
      "PARTIAL_READ", "SOME_ERRORS", "NO_SERVERS", "END", "DELETED", "VALUE", "STAT", "ITEM",
      "ERRNO", "FAIL_UNIX_SOCKET", "NOT_SUPPORTED", "NO_KEY_PROVIDED", "FETCH_NOTFINISHED",
      "TIMEOUT", "BUFFERED", "BAD_KEY_PROVIDED", "INVALID_HOST_PROTOCOL",
      "SERVER_MARKED_DEAD", "UNKNOWN_STAT_KEY", "E2BIG", "INVALID_ARGUMENTS", "KEY_TOO_BIG",
      "AUTH_PROBLEM", "AUTH_FAILURE", "AUTH_CONTINUE", "PARSE_ERROR", "PARSE_USER_ERROR",
      "DEPRECATED", "IN_PROGRESS", "SERVER_TEMPORARILY_DISABLED",
      "SERVER_MEMORY_ALLOCATION_FAILURE"};
  static char other[32];
  if ((unsigned)rc < sizeof names / sizeof names[0]) {
    return names[rc];
  }
  snprintf(other, sizeof other, "code %d", (int)rc);
  return other;
}

/* Codes that mean "the server or the connection failed". SOME_ERRORS is how the
 * all-server calls (stat, version) report a failed server. (Mode huge also accepts
 * MEMORY_ALLOCATION_FAILURE, because declining to allocate 4 GiB is a fair reaction to that
 * claim.) */
static bool connection_class(memcached_return_t rc, enum op op) {
  switch (rc) {
  case MEMCACHED_CONNECTION_FAILURE:
  case MEMCACHED_WRITE_FAILURE:
  case MEMCACHED_READ_FAILURE:
  case MEMCACHED_UNKNOWN_READ_FAILURE:
  case MEMCACHED_PROTOCOL_ERROR:
  case MEMCACHED_ERRNO:
  case MEMCACHED_TIMEOUT:
  case MEMCACHED_SERVER_MARKED_DEAD:
  case MEMCACHED_SERVER_TEMPORARILY_DISABLED:
    return true;
  case MEMCACHED_SOME_ERRORS:
    return op == OP_STAT || op == OP_VERSION;
  default:
    return false;
  }
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void sleep_ms(double ms) {
  if (ms <= 0) {
    return;
  }
  struct timespec ts = {(time_t)(ms / 1000), (long)((ms - (time_t)(ms / 1000) * 1000) * 1e6)};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
  }
}

/* The larger of the growth of current RSS and of peak RSS, in KiB. */
struct rss {
  long current_kib;
  long peak_kib;
};

static struct rss rss_now(void) {
  struct rss out = {0, 0};
  long pages = 0, resident = 0;
  FILE *statm = fopen("/proc/self/statm", "r");
  if (statm) {
    if (fscanf(statm, "%ld %ld", &pages, &resident) == 2) {
      out.current_kib = resident * (sysconf(_SC_PAGESIZE) / 1024);
    }
    fclose(statm);
  }
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) == 0) {
    out.peak_kib = usage.ru_maxrss;
  }
  return out;
}

static long rss_growth_kib(struct rss before, struct rss after) {
  long current = after.current_kib - before.current_kib;
  long peak = after.peak_kib - before.peak_kib;
  return current > peak ? current : peak;
}

/* Appends printf-style text to a fixed buffer, silently truncating. */
static void appendf(char *buf, size_t size, const char *fmt, ...) {
  size_t used = strlen(buf);
  if (used + 1 >= size) {
    return;
  }
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf + used, size - used, fmt, ap);
  va_end(ap);
}

/* Why a case failed. Timing reasons alone let the case run again (see CASE_ATTEMPTS):
 * on a busy machine a process can lose the CPU for hundreds of milliseconds, while a
 * library that waits too long does so every time. */
enum reason_kind { TIMING, WRONG };
struct verdict {
  char why[1200];
  int timing, wrong;
};

static void add_reason(struct verdict *v, enum reason_kind kind, const char *fmt, ...) {
  size_t used = strlen(v->why);
  if (kind == TIMING) {
    v->timing++;
  } else {
    v->wrong++;
  }
  if (used + 1 < sizeof v->why) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->why + used, sizeof v->why - used, fmt, ap);
    va_end(ap);
  }
}

/* Printable prefix of a returned value, for messages. */
static void describe_value(char *out, size_t size, const char *value, size_t length) {
  size_t prefix_length = length < 24 ? length : 24, i;
  char text[25];
  for (i = 0; i < prefix_length; i++) {
    text[i] = (value[i] >= 0x20 && value[i] < 0x7f) ? value[i] : '?';
  }
  text[prefix_length] = '\0';
  snprintf(out, size, "'%s%s' (%zu bytes)", text, length > prefix_length ? "..." : "", length);
}

/* ---- control connection to fake_server.py -------------------------------------------- */

static int control_fd = -1;

static int control_open(void) {
  struct sockaddr_in addr;
  struct timeval limit = {5, 0};
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons(control_port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  control_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (control_fd < 0) {
    return -1;
  }
  setsockopt(control_fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  setsockopt(control_fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  return connect(control_fd, (struct sockaddr *)&addr, sizeof addr);
}

/* Sends one command line and copies the reply (without "ok " and the newline) to RESULT.
 * Returns false when the reply is not "ok". */
static bool control(char *result, size_t size, const char *fmt, ...) {
  char line[512], reply[512];
  size_t used = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line - 1, fmt, ap);
  va_end(ap);
  strcat(line, "\n");
  if (send(control_fd, line, strlen(line), MSG_NOSIGNAL) != (ssize_t)strlen(line)) {
    return false;
  }
  while (used + 1 < sizeof reply) {
    ssize_t got = recv(control_fd, reply + used, 1, 0);
    if (got <= 0) {
      return false;
    }
    if (reply[used] == '\n') {
      break;
    }
    used++;
  }
  reply[used] = '\0';
  if (strncmp(reply, "ok", 2) != 0) {
    return false;
  }
  if (result) {
    snprintf(result, size, "%s", reply[2] == ' ' ? reply + 3 : "");
  }
  return true;
}

/* ---- one case ------------------------------------------------------------------------ */

/* Keys and values of one case; every case uses its own names. */
struct fixture {
  char get_key[64], get_value[VALUE_BYTES + 1];
  char mget_keys[2][64], mget_values[2][VALUE_BYTES + 1];
  char set_key[64], set_value[64];
  char add_key[64];
  char delete_key[64];
  char incr_key[64];
  char check_key[64], check_value[VALUE_BYTES + 1];
};

static void make_value(char *out, const char *tag) {
  memset(out, 'v', VALUE_BYTES);
  out[VALUE_BYTES] = '\0';
  memcpy(out, tag, strlen(tag) < VALUE_BYTES ? strlen(tag) : VALUE_BYTES);
}

static void make_fixture(struct fixture *f, int number) {
  char tag[64];
  snprintf(f->get_key, sizeof f->get_key, "c%d-get", number);
  snprintf(tag, sizeof tag, "good-%d-get-", number);
  make_value(f->get_value, tag);
  for (int i = 0; i < 2; i++) {
    snprintf(f->mget_keys[i], sizeof f->mget_keys[i], "c%d-mget%d", number, i);
    snprintf(tag, sizeof tag, "good-%d-mget%d-", number, i);
    make_value(f->mget_values[i], tag);
  }
  snprintf(f->set_key, sizeof f->set_key, "c%d-set", number);
  snprintf(f->set_value, sizeof f->set_value, "set-by-case-%d", number);
  snprintf(f->add_key, sizeof f->add_key, "c%d-add", number);
  snprintf(f->delete_key, sizeof f->delete_key, "c%d-delete", number);
  snprintf(f->incr_key, sizeof f->incr_key, "c%d-incr", number);
  snprintf(f->check_key, sizeof f->check_key, "c%d-check", number);
  snprintf(tag, sizeof tag, "good-%d-check-", number);
  make_value(f->check_value, tag);
}

static bool seed(const struct fixture *f) {
  return control(NULL, 0, "reset") && control(NULL, 0, "put %s %s", f->get_key, f->get_value) &&
         control(NULL, 0, "put %s %s", f->mget_keys[0], f->mget_values[0]) &&
         control(NULL, 0, "put %s %s", f->mget_keys[1], f->mget_values[1]) &&
         control(NULL, 0, "put %s doomed", f->delete_key) &&
         control(NULL, 0, "put %s 41", f->incr_key) &&
         control(NULL, 0, "put %s %s", f->check_key, f->check_value);
}

/* What one call returned: its code, whether the result was the expected one, and a note. */
struct outcome {
  memcached_return_t rc;
  bool result_ok;
  bool wrong_data; /* a value or number was delivered that the request did not ask for */
  char note[200];
};

static void get_key(memcached_st *mc, const char *key, const char *expected,
                    struct outcome *out) {
  size_t length = 0;
  uint32_t flags = 0;
  char *value = memcached_get(mc, key, strlen(key), &length, &flags, &out->rc);
  if (value) {
    bool same = length == strlen(expected) && memcmp(value, expected, length) == 0;
    out->result_ok = out->rc == MEMCACHED_SUCCESS && same;
    out->wrong_data = !same;
    if (!same) {
      char value_text[64];
      describe_value(value_text, sizeof value_text, value, length);
      appendf(out->note, sizeof out->note, "returned value %s", value_text);
    }
    free(value);
  } else if (out->rc == MEMCACHED_SUCCESS) {
    out->wrong_data = true;
    appendf(out->note, sizeof out->note, "SUCCESS without a value");
  }
}

static void run_mget(memcached_st *mc, const struct fixture *f, struct outcome *out) {
  const char *keys[2] = {f->mget_keys[0], f->mget_keys[1]};
  size_t lengths[2] = {strlen(keys[0]), strlen(keys[1])};
  int right = 0, wrong = 0;
  memcached_result_st *result;

  out->rc = memcached_mget(mc, keys, lengths, 2);
  if (out->rc != MEMCACHED_SUCCESS) {
    return;
  }
  /* At most two results can be real. The cap keeps a library that never stops returning
   * results from looping here until the case is killed. */
  for (int round = 0; round < 8; round++) {
    result = memcached_fetch_result(mc, NULL, &out->rc);
    if (!result) {
      break;
    }
    const char *key = memcached_result_key_value(result);
    size_t key_length = memcached_result_key_length(result);
    const char *value = memcached_result_value(result);
    size_t length = memcached_result_length(result);
    bool matched = false;
    for (int i = 0; i < 2; i++) {
      if (key_length == strlen(keys[i]) && memcmp(key, keys[i], key_length) == 0 &&
          length == VALUE_BYTES && memcmp(value, f->mget_values[i], length) == 0) {
        matched = true;
      }
    }
    if (matched) {
      right++;
    } else {
      char value_text[64];
      describe_value(value_text, sizeof value_text, value ? value : "", value ? length : 0);
      appendf(out->note, sizeof out->note, "fetched %.*s=%s ", (int)key_length, key, value_text);
      wrong++;
    }
    memcached_result_free(result);
  }
  out->wrong_data = wrong > 0;
  /* libmemcached ends a fetch loop with END, or with NOTFOUND when each call made a new
   * result (as here, passing NULL). */
  out->result_ok = right == 2 && wrong == 0 &&
                   (out->rc == MEMCACHED_END || out->rc == MEMCACHED_NOTFOUND);
  if (!out->result_ok) {
    appendf(out->note, sizeof out->note, "%d of 2 right, ended with %s", right,
            rc_name(out->rc));
  }
}

static void run_stat(memcached_st *mc, struct outcome *out) {
  memcached_stat_st *stats = memcached_stat(mc, NULL, &out->rc);
  if (stats) {
    bool same = stats[0].pid == GOOD_PID;
    out->result_ok = out->rc == MEMCACHED_SUCCESS && same;
    out->wrong_data = out->rc == MEMCACHED_SUCCESS && !same;
    if (out->rc == MEMCACHED_SUCCESS && !same) {
      appendf(out->note, sizeof out->note, "stat pid %ld", (long)stats[0].pid);
    }
    memcached_stat_free(mc, stats);
  }
}

static void run_version(memcached_st *mc, struct outcome *out) {
  out->rc = memcached_version(mc);
  const memcached_instance_st *server = memcached_server_instance_by_position(mc, 0);
  unsigned major = memcached_server_major_version(server);
  unsigned minor = memcached_server_minor_version(server);
  unsigned micro = memcached_server_micro_version(server);
  bool same = major == GOOD_MAJOR && minor == GOOD_MINOR && micro == GOOD_MICRO;
  out->result_ok = out->rc == MEMCACHED_SUCCESS && same;
  /* 255.255.255 means "no version known", which a failed call rightly leaves. */
  out->wrong_data = !same && !(major == 255 && minor == 255 && micro == 255);
  if (!same) {
    appendf(out->note, sizeof out->note, "version %u.%u.%u", major, minor, micro);
  }
}

/* Runs OP once. BIG_SET sends the stall-sized value for set. */
static struct outcome run_op(memcached_st *mc, enum op op, const struct fixture *f,
                             bool big_set) {
  struct outcome out;
  uint64_t number = 0;
  memset(&out, 0, sizeof out);
  switch (op) {
  case OP_GET:
    get_key(mc, f->get_key, f->get_value, &out);
    break;
  case OP_MGET:
    run_mget(mc, f, &out);
    break;
  case OP_SET:
    if (big_set) {
      out.rc = memcached_set(mc, f->set_key, strlen(f->set_key), stall_value,
                             STALL_VALUE_BYTES, 0, 0);
    } else {
      out.rc = memcached_set(mc, f->set_key, strlen(f->set_key), f->set_value,
                             strlen(f->set_value), 0, 0);
    }
    out.result_ok = out.rc == MEMCACHED_SUCCESS;
    break;
  case OP_ADD:
    out.rc = memcached_add(mc, f->add_key, strlen(f->add_key), "added", 5, 0, 0);
    out.result_ok = out.rc == MEMCACHED_SUCCESS;
    break;
  case OP_DELETE:
    out.rc = memcached_delete(mc, f->delete_key, strlen(f->delete_key), 0);
    out.result_ok = out.rc == MEMCACHED_SUCCESS;
    break;
  case OP_INCR:
    out.rc = memcached_increment(mc, f->incr_key, strlen(f->incr_key), 1, &number);
    out.result_ok = out.rc == MEMCACHED_SUCCESS && number == 42;
    out.wrong_data = out.rc == MEMCACHED_SUCCESS && number != 42;
    if (out.rc == MEMCACHED_SUCCESS && number != 42) {
      appendf(out.note, sizeof out.note, "incremented to %llu", (unsigned long long)number);
    }
    break;
  case OP_STAT:
    run_stat(mc, &out);
    break;
  case OP_VERSION:
    run_version(mc, &out);
    break;
  }
  return out;
}

static memcached_st *make_handle(enum protocol protocol, in_port_t port) {
  memcached_st *mc = memcached_create(NULL);
  if (!mc || memcached_server_add(mc, "127.0.0.1", port) != MEMCACHED_SUCCESS ||
      memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, POLL_TIMEOUT_MS) !=
          MEMCACHED_SUCCESS ||
      memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, CONNECT_TIMEOUT_MS) !=
          MEMCACHED_SUCCESS ||
      memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, protocol == BINARY) !=
          MEMCACHED_SUCCESS) {
    return NULL;
  }
  return mc;
}

/* Judges the faulted call against the mode's expectation; adds reasons to V. */
static void judge_fault(const struct mode *mode, enum op op, const struct outcome *out,
                        double elapsed, int bound, long growth, struct verdict *v) {
  /* A call still waiting when the late reply came may take it as its result. That reply
   * belongs to this request, so only the wait was wrong, which is a timing failure. */
  enum reason_kind kind =
      strcmp(mode->name, "late") == 0 && elapsed >= LATE_DELAY_MS ? TIMING : WRONG;
  if (elapsed > bound) {
    add_reason(v, TIMING, "took %.0f ms, bound %d ms; ", elapsed, bound);
  }
  if (growth > RSS_LIMIT_KIB) {
    add_reason(v, WRONG, "RSS grew %ld KiB, limit %d KiB; ", growth, RSS_LIMIT_KIB);
  }
  if (out->wrong_data) {
    add_reason(v, kind, "delivered data nobody asked for (%s); ", out->note);
  }
  bool failed_well = connection_class(out->rc, op) ||
                     (strcmp(mode->name, "huge") == 0 &&
                      out->rc == MEMCACHED_MEMORY_ALLOCATION_FAILURE);
  switch (mode->expect) {
  case EXPECT_ANSWER:
    if (!out->result_ok) {
      add_reason(v, WRONG, "expected SUCCESS with the expected result, got %s %s; ",
              rc_name(out->rc), out->note);
    }
    break;
  case EXPECT_ANSWER_OR_TIMEOUT:
    if (!out->result_ok && out->rc != MEMCACHED_TIMEOUT &&
        !(out->rc == MEMCACHED_SOME_ERRORS && (op == OP_STAT || op == OP_VERSION))) {
      add_reason(v, WRONG, "expected SUCCESS with the expected result or TIMEOUT, got %s %s; ",
              rc_name(out->rc), out->note);
    }
    break;
  case EXPECT_FAILURE:
    if (!failed_well) {
      add_reason(v, kind, "expected a connection-class code, got %s %s; ", rc_name(out->rc),
              out->note);
    } else if ((op == OP_STAT || op == OP_VERSION) && out->rc != MEMCACHED_SOME_ERRORS) {
      add_reason(v, WRONG, "expected SOME_ERRORS (how libmemcached's %s reports a failed "
              "server), got %s; ", op_names[op], rc_name(out->rc));
    }
    break;
  }
}

/* The second call in mode noaccept: the server is inside its retry window, so the call
 * must not try to connect again (no blocking step) and reports it as disabled. */
static void judge_retry_window(enum op op, const struct outcome *out, double elapsed,
                               struct verdict *v) {
  memcached_return_t expected = (op == OP_STAT || op == OP_VERSION)
                                    ? MEMCACHED_SOME_ERRORS
                                    : MEMCACHED_SERVER_TEMPORARILY_DISABLED;
  if (elapsed > MARGIN_MS) {
    add_reason(v, TIMING, "second call took %.0f ms, bound %d ms (no connect inside the retry "
            "window); ", elapsed, MARGIN_MS);
  }
  if (out->rc != expected) {
    add_reason(v, WRONG, "second call returned %s, expected %s; ", rc_name(out->rc),
            rc_name(expected));
  }
}

/* The good-mode calls after the fault, on the same handle. */
static void check_recovery(memcached_st *mc, enum op op, const struct fixture *f,
                           struct verdict *v, char *summary, size_t summary_size) {
  int bound = POLL_TIMEOUT_MS + MARGIN_MS;
  double start = now_ms();
  struct outcome again = run_op(mc, op, f, false);
  double elapsed = now_ms() - start;
  appendf(summary, summary_size, "again %s %.0f ms", rc_name(again.rc), elapsed);
  if (!again.result_ok) {
    add_reason(v, WRONG, "in mode good the same %s returned %s %s; ", op_names[op],
            rc_name(again.rc), again.note);
  }
  if (elapsed > bound) {
    add_reason(v, TIMING, "in mode good the same %s took %.0f ms, bound %d ms; ", op_names[op],
            elapsed, bound);
  }
  if (op == OP_SET && again.result_ok) {
    char stored[128] = "";
    if (!control(stored, sizeof stored, "get %s", f->set_key) ||
        strcmp(stored, f->set_value) != 0) {
      add_reason(v, WRONG, "after set the server holds '%s', expected '%s'; ", stored,
              f->set_value);
    }
  }

  struct outcome check;
  memset(&check, 0, sizeof check);
  start = now_ms();
  get_key(mc, f->check_key, f->check_value, &check);
  elapsed = now_ms() - start;
  appendf(summary, summary_size, ", check get %s %.0f ms", rc_name(check.rc), elapsed);
  if (!check.result_ok) {
    add_reason(v, WRONG, "then get of the check key returned %s %s; ", rc_name(check.rc),
            check.note);
  }
  if (elapsed > bound) {
    add_reason(v, TIMING, "then get of the check key took %.0f ms, bound %d ms; ", elapsed,
            bound);
  }
}

enum case_result { CASE_PASSED, CASE_FAILED, CASE_RETRY };

/* How often a case whose only failures are timing ones runs before it counts as failed. */
#define CASE_ATTEMPTS 3

/* Runs one case in the calling (child) process and prints its line. */
static enum case_result run_case(int number, const struct mode *mode, enum op op,
                                 enum protocol protocol, int attempt) {
  char name[64], summary[400] = "";
  struct verdict v;
  struct fixture f;
  bool noaccept = strcmp(mode->name, "noaccept") == 0;
  int bound = mode->bound_ms + MARGIN_MS;

  memset(&v, 0, sizeof v);
  snprintf(name, sizeof name, "%s/%s/%s", mode->name, op_names[op], protocol_names[protocol]);
  make_fixture(&f, number);
  if (control_open() != 0 || !seed(&f)) {
    printf("FAIL %s: could not reach the fake server's control port\n", name);
    return CASE_FAILED;
  }
  memcached_st *mc = make_handle(protocol, noaccept ? noaccept_port : data_port);
  if (!mc) {
    printf("FAIL %s: could not set up the handle\n", name);
    return CASE_FAILED;
  }
  if (!noaccept && !control(NULL, 0, "mode %s", mode->name)) {
    printf("FAIL %s: the fake server refused mode %s\n", name, mode->name);
    return CASE_FAILED;
  }

  struct rss before = rss_now();
  double start = now_ms();
  struct outcome out = run_op(mc, op, &f, strcmp(mode->name, "stall") == 0);
  double elapsed = now_ms() - start;
  long growth = rss_growth_kib(before, rss_now());
  memcached_return_t last = memcached_last_error(mc);
  appendf(summary, sizeof summary, "%s %.0f ms (bound %d ms: %s + %d), rss +%ld KiB",
          rc_name(out.rc), elapsed, bound, mode->bound_reason, MARGIN_MS, growth);
  if (out.rc != last) {
    appendf(summary, sizeof summary, ", last error %s", rc_name(last));
  }
  judge_fault(mode, op, &out, elapsed, bound, growth, &v);

  if (noaccept) {
    start = now_ms();
    struct outcome again = run_op(mc, op, &f, false);
    elapsed = now_ms() - start;
    appendf(summary, sizeof summary, "; again %s %.0f ms (bound %d ms)", rc_name(again.rc),
            elapsed, MARGIN_MS);
    judge_retry_window(op, &again, elapsed, &v);
  } else {
    if (strcmp(mode->name, "late") == 0) {
      sleep_ms(start + LATE_DELAY_MS + LATE_SETTLE_MS - now_ms());
    }
    /* Seeding again resets the mode to good and undoes what a successful first call
     * changed, so the second call finds the same state. */
    if (!seed(&f)) {
      add_reason(&v, WRONG, "could not reseed the fake server; ");
    }
    appendf(summary, sizeof summary, "; ");
    check_recovery(mc, op, &f, &v, summary, sizeof summary);
  }
  memcached_free(mc);

  const char *retried = attempt > 1 ? " (passed on a repeat after timing failures)" : "";
  if (v.wrong == 0 && v.timing == 0) {
    printf("PASS %s: %s%s\n", name, summary, retried);
    return CASE_PASSED;
  }
  v.why[strlen(v.why) - 2] = '\0';
  bool again = v.wrong == 0 && attempt < CASE_ATTEMPTS;
  printf("%s %s: %s [%s]\n", again ? "REPEAT" : "FAIL", name, v.why, summary);
  return again ? CASE_RETRY : CASE_FAILED;
}

/* Runs one attempt of the case in a child process, killed after CASE_KILL_SECONDS. */
static enum case_result run_attempt(int number, const struct mode *mode, enum op op,
                                    enum protocol protocol, int attempt) {
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) {
    printf("FAIL %s/%s/%s: fork: %s\n", mode->name, op_names[op], protocol_names[protocol],
           strerror(errno));
    return CASE_FAILED;
  }
  if (child == 0) {
    signal(SIGPIPE, SIG_IGN);
    alarm(CASE_KILL_SECONDS);
    enum case_result result = run_case(number, mode, op, protocol, attempt);
    fflush(stdout);
    _exit((int)result);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) <= CASE_RETRY) {
    return (enum case_result)WEXITSTATUS(status);
  }
  const char *cause = "exited on its own";
  int number_shown = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
  if (WIFSIGNALED(status)) {
    cause = WTERMSIG(status) == SIGALRM ? "still running after the per-case limit, killed"
                                       : "crashed";
  }
  printf("FAIL %s/%s/%s: %s (%s %d)\n", mode->name, op_names[op], protocol_names[protocol],
         cause, WIFEXITED(status) ? "status" : "signal", number_shown);
  return CASE_FAILED;
}

static bool run_case_isolated(int number, const struct mode *mode, enum op op,
                              enum protocol protocol) {
  for (int attempt = 1;; attempt++) {
    enum case_result result = run_attempt(number, mode, op, protocol, attempt);
    if (result != CASE_RETRY) {
      return result == CASE_PASSED;
    }
  }
}

static in_port_t parse_port(const char *text) {
  char *end;
  long port = strtol(text, &end, 10);
  return (*end || port <= 0 || port > 65535) ? 0 : (in_port_t)port;
}

int main(int argc, char **argv) {
  if (argc < 4 || argc > 5) {
    fprintf(stderr, "usage: %s DATA_PORT CONTROL_PORT NOACCEPT_PORT [FILTER]\n", argv[0]);
    return 2;
  }
  data_port = parse_port(argv[1]);
  control_port = parse_port(argv[2]);
  noaccept_port = parse_port(argv[3]);
  const char *filter = argc == 5 ? argv[4] : NULL;
  if (!data_port || !control_port || !noaccept_port) {
    fprintf(stderr, "driver: invalid port number among %s %s %s\n", argv[1], argv[2], argv[3]);
    return 2;
  }
  stall_value = malloc(STALL_VALUE_BYTES);
  if (!stall_value) {
    return 2;
  }
  memset(stall_value, 's', STALL_VALUE_BYTES);
  setvbuf(stdout, NULL, _IOLBF, 0);

  printf("# POLL_TIMEOUT %d ms, CONNECT_TIMEOUT %d ms; a call's bound is its blocking steps "
         "plus %d ms margin\n",
         POLL_TIMEOUT_MS, CONNECT_TIMEOUT_MS, MARGIN_MS);
  printf("# RSS growth limit per faulted call: %d KiB\n", RSS_LIMIT_KIB);
  int passed = 0, failed = 0, number = 0;
  for (int p = TEXT; p <= BINARY; p++) {
    for (size_t m = 0; m < MODE_COUNT; m++) {
      if (modes[m].binary_only && p != BINARY) {
        continue;
      }
      for (size_t o = 0; o < OP_COUNT; o++) {
        char name[64];
        snprintf(name, sizeof name, "%s/%s/%s", modes[m].name, op_names[o], protocol_names[p]);
        number++;
        if (filter && !strstr(name, filter)) {
          continue;
        }
        if (run_case_isolated(number, &modes[m], (enum op)o, (enum protocol)p)) {
          passed++;
        } else {
          failed++;
        }
      }
    }
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
