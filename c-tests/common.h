/*
 * Helpers shared by the C tests: return-code names, server addresses taken from the
 * environment, handle construction and deterministic printing.
 *
 * Every program prints one line per check. Lines never contain pointers, pids, times or
 * port numbers that change between runs: ports are printed as the name of the environment
 * variable they came from (PORT1, DEAD, ...), so two runs against different servers print
 * the same text.
 *
 * The file is valid C99 and C++, because run.sh also compiles every test as C++ to check
 * the library headers.
 */
#ifndef CTESTS_COMMON_H
#define CTESTS_COMMON_H

#include <libmemcached/memcached.h>
#include <libmemcached/util.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Names of memcached_return_t values 0..48, in enum order. */
static const char *const test_rc_names[] = {
    "SUCCESS",
    "FAILURE",
    "HOST_LOOKUP_FAILURE",
    "CONNECTION_FAILURE",
    "CONNECTION_BIND_FAILURE",
    "WRITE_FAILURE",
    "READ_FAILURE",
    "UNKNOWN_READ_FAILURE",
    "PROTOCOL_ERROR",
    "CLIENT_ERROR",
    "SERVER_ERROR",
    "ERROR",
    "DATA_EXISTS",
    "DATA_DOES_NOT_EXIST",
    "NOTSTORED",
    "STORED",
    "NOTFOUND",
    "MEMORY_ALLOCATION_FAILURE",
    "PARTIAL_READ",
    "SOME_ERRORS",
    "NO_SERVERS",
    "END",
    "DELETED",
    "VALUE",
    "STAT",
    "ITEM",
    "ERRNO",
    "FAIL_UNIX_SOCKET",
    "NOT_SUPPORTED",
    "NO_KEY_PROVIDED",
    "FETCH_NOTFINISHED",
    "TIMEOUT",
    "BUFFERED",
    "BAD_KEY_PROVIDED",
    "INVALID_HOST_PROTOCOL",
    "SERVER_MARKED_DEAD",
    "UNKNOWN_STAT_KEY",
    "E2BIG",
    "INVALID_ARGUMENTS",
    "KEY_TOO_BIG",
    "AUTH_PROBLEM",
    "AUTH_FAILURE",
    "AUTH_CONTINUE",
    "PARSE_ERROR",
    "PARSE_USER_ERROR",
    "DEPRECATED",
    "IN_PROGRESS",
    "SERVER_TEMPORARILY_DISABLED",
    "SERVER_MEMORY_ALLOCATION_FAILURE",
};

static inline const char *rc_name(memcached_return_t rc) {
  size_t count = sizeof(test_rc_names) / sizeof(test_rc_names[0]);
  if ((size_t)rc < count) {
    return test_rc_names[rc];
  }
  return "OUT_OF_RANGE";
}

/* Names of memcached_behavior_t values 0..37 without the MEMCACHED_BEHAVIOR_ prefix. */
static const char *const test_behavior_names[] = {
    "NO_BLOCK",
    "TCP_NODELAY",
    "HASH",
    "KETAMA",
    "SOCKET_SEND_SIZE",
    "SOCKET_RECV_SIZE",
    "CACHE_LOOKUPS",
    "SUPPORT_CAS",
    "POLL_TIMEOUT",
    "DISTRIBUTION",
    "BUFFER_REQUESTS",
    "USER_DATA",
    "SORT_HOSTS",
    "VERIFY_KEY",
    "CONNECT_TIMEOUT",
    "RETRY_TIMEOUT",
    "KETAMA_WEIGHTED",
    "KETAMA_HASH",
    "BINARY_PROTOCOL",
    "SND_TIMEOUT",
    "RCV_TIMEOUT",
    "SERVER_FAILURE_LIMIT",
    "IO_MSG_WATERMARK",
    "IO_BYTES_WATERMARK",
    "IO_KEY_PREFETCH",
    "HASH_WITH_PREFIX_KEY",
    "NOREPLY",
    "USE_UDP",
    "AUTO_EJECT_HOSTS",
    "NUMBER_OF_REPLICAS",
    "RANDOMIZE_REPLICA_READ",
    "CORK",
    "TCP_KEEPALIVE",
    "TCP_KEEPIDLE",
    "LOAD_FROM_FILE",
    "REMOVE_FAILED_SERVERS",
    "DEAD_TIMEOUT",
    "SERVER_TIMEOUT_LIMIT",
};

static inline const char *behavior_name(memcached_behavior_t behavior) {
  size_t count = sizeof(test_behavior_names) / sizeof(test_behavior_names[0]);
  if ((size_t)behavior < count) {
    return test_behavior_names[behavior];
  }
  return "OUT_OF_RANGE";
}

/* Print "LABEL rc=N NAME" for a check whose outcome is a return code. */
static inline void print_rc(const char *label, memcached_return_t rc) {
  printf("%s rc=%d %s\n", label, (int)rc, rc_name(rc));
}

/* printf into a caller buffer; keeps labels readable at the call sites. */
static inline const char *fmt(char *buf, size_t size, const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(buf, size, format, args);
  va_end(args);
  return buf;
}

/* Print LEN bytes with non-printable bytes as \xHH, at most 64 bytes, then a newline. */
static inline void print_bytes(const char *label, const char *data, size_t len) {
  size_t shown = len < 64 ? len : 64;
  printf("%s len=%zu value=\"", label, len);
  for (size_t i = 0; i < shown; i++) {
    unsigned char c = (unsigned char)data[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      putchar(c);
    } else {
      printf("\\x%02x", c);
    }
  }
  printf("\"%s\n", shown < len ? "..." : "");
}

/* Call first in main: line buffering keeps every printed check when a test crashes. */
static inline void start_test(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
}

static inline void die(const char *format, ...) {
  va_list args;
  va_start(args, format);
  vfprintf(stderr, format, args);
  va_end(args);
  fputc('\n', stderr);
  exit(2);
}

/* Port number from an environment variable set by run.sh; exits when it is missing. */
static inline in_port_t env_port(const char *name) {
  const char *text = getenv(name);
  if (text == NULL || *text == '\0') {
    die("environment variable %s is not set; run this test through run.sh", name);
  }
  long value = strtol(text, NULL, 10);
  if (value <= 0 || value > 65535) {
    die("environment variable %s=%s is not a TCP port", name, text);
  }
  return (in_port_t)value;
}

static inline const char *env_text(const char *name) {
  const char *text = getenv(name);
  if (text == NULL || *text == '\0') {
    die("environment variable %s is not set; run this test through run.sh", name);
  }
  return text;
}

/* Name of the environment variable a port came from, for printing ("PORT1", "DEAD", ...). */
static inline const char *port_label(in_port_t port) {
  static const char *const names[] = {"MC_PORT1",     "MC_PORT2",     "MC_PORT3",
                                      "MC_DEAD_PORT", "MC_DEAD_PORT2", "MC_DEAD_PORT3",
                                      "MC_HANG_PORT"};
  static char other[16];
  if (port == 0) {
    return "0";
  }
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    const char *text = getenv(names[i]);
    if (text != NULL && strtol(text, NULL, 10) == (long)port) {
      return names[i] + 3;
    }
  }
  snprintf(other, sizeof(other), "%u", (unsigned)port);
  return other;
}

/* A new heap handle; exits when memcached_create fails, since nothing else can run then. */
static inline memcached_st *new_handle(int binary) {
  memcached_st *mc = memcached_create(NULL);
  if (mc == NULL) {
    die("memcached_create(NULL) returned NULL");
  }
  if (binary) {
    memcached_return_t rc = memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1);
    if (rc != MEMCACHED_SUCCESS) {
      die("setting BINARY_PROTOCOL failed: rc=%d", (int)rc);
    }
  }
  return mc;
}

/* Add 127.0.0.1:PORT to MC; exits on failure. */
static inline void add_server(memcached_st *mc, in_port_t port) {
  memcached_server_st *list = memcached_server_list_append(NULL, "127.0.0.1", port, NULL);
  if (list == NULL) {
    die("memcached_server_list_append failed for port %u", (unsigned)port);
  }
  memcached_return_t rc = memcached_server_push(mc, list);
  memcached_server_list_free(list);
  if (rc != MEMCACHED_SUCCESS) {
    die("memcached_server_push failed: rc=%d", (int)rc);
  }
}

/* Handle with one server at 127.0.0.1:PORT, text or binary protocol. */
static inline memcached_st *single_server_handle(in_port_t port, int binary) {
  memcached_st *mc = new_handle(binary);
  add_server(mc, port);
  return mc;
}

static inline const char *protocol_name(int binary) {
  return binary ? "bin" : "text";
}

/* Seconds since an arbitrary fixed point, with microsecond resolution. */
static inline double now_seconds(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static inline void sleep_seconds(double seconds) {
  if (seconds <= 0) {
    return;
  }
  struct timespec ts;
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Sleep until the wall clock is FRACTION seconds past a whole second. The library counts
 * retry windows in whole seconds, so traces are only reproducible when every call is made
 * well away from a second boundary. */
static inline double align_to_second(double fraction) {
  double now = now_seconds();
  double whole = (double)(long)now;
  double target = whole + fraction;
  if (target < now + 0.05) {
    target += 1.0;
  }
  sleep_seconds(target - now_seconds());
  return target;
}

/* True when the value is one of the codes that report a failed connection or I/O. */
static inline int is_connection_error(memcached_return_t rc) {
  switch (rc) {
  case MEMCACHED_HOST_LOOKUP_FAILURE:
  case MEMCACHED_CONNECTION_FAILURE:
  case MEMCACHED_CONNECTION_BIND_FAILURE:
  case MEMCACHED_WRITE_FAILURE:
  case MEMCACHED_READ_FAILURE:
  case MEMCACHED_UNKNOWN_READ_FAILURE:
  case MEMCACHED_ERRNO:
  case MEMCACHED_FAIL_UNIX_SOCKET:
  case MEMCACHED_TIMEOUT:
  case MEMCACHED_SERVER_MARKED_DEAD:
  case MEMCACHED_SERVER_TEMPORARILY_DISABLED:
    return 1;
  default:
    return 0;
  }
}

#endif
