/*
 * Result reporting shared by soak.c, fork.c and wire.c.
 *
 * The programs write their results to file descriptor 3, never to stdout or stderr: run.sh
 * sends stdout and stderr to files and fails when either is non-empty, which checks that
 * the library itself prints nothing. Lines are "PASS name: detail", "FAIL name: detail",
 * "LIMIT name: detail" (a documented limit of what the library can guarantee, counted but
 * not failed), "INFO ..." and a last line "N passed, M failed".
 */
#ifndef SOAK_REPORT_H
#define SOAK_REPORT_H

#include <libmemcached/memcached.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static FILE *report_out;
static int report_passed;
static int report_failed;
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

/* Opens descriptor 3 for the results; exits with status 2 when the caller did not open it. */
static inline void report_open(void) {
  report_out = fdopen(3, "w");
  if (report_out == NULL) {
    /* The only message any of these programs writes to stderr. */
    fputs("results go to file descriptor 3: run with 3>FILE (see run.sh)\n", stderr);
    exit(2);
  }
  setvbuf(report_out, NULL, _IOLBF, 0);
}

static inline void report_vline(const char *tag, const char *format, va_list args) {
  pthread_mutex_lock(&report_lock);
  fprintf(report_out, "%s ", tag);
  vfprintf(report_out, format, args);
  fputc('\n', report_out);
  pthread_mutex_unlock(&report_lock);
}

static inline void report_info(const char *format, ...) {
  va_list args;
  va_start(args, format);
  report_vline("INFO", format, args);
  va_end(args);
}

static inline void report_limit(const char *format, ...) {
  va_list args;
  va_start(args, format);
  report_vline("LIMIT", format, args);
  va_end(args);
}

/* Records one check: PASS when CONDITION holds, FAIL otherwise. Returns CONDITION. */
static inline int report_check(int condition, const char *format, ...) {
  va_list args;
  va_start(args, format);
  report_vline(condition ? "PASS" : "FAIL", format, args);
  va_end(args);
  pthread_mutex_lock(&report_lock);
  if (condition) {
    report_passed++;
  } else {
    report_failed++;
  }
  pthread_mutex_unlock(&report_lock);
  return condition;
}

/* Adds the results of checks made elsewhere (for example in a child process). */
static inline void report_add_counts(int passed, int failed) {
  pthread_mutex_lock(&report_lock);
  report_passed += passed;
  report_failed += failed;
  pthread_mutex_unlock(&report_lock);
}

/* Prints the summary line and returns the exit status: 0 when nothing failed. */
static inline int report_finish(void) {
  fprintf(report_out, "%d passed, %d failed\n", report_passed, report_failed);
  fflush(report_out);
  return report_failed == 0 ? 0 : 1;
}

/* Name of a memcached_return_t value, for messages. */
static inline const char *rc_label(memcached_return_t rc) {
  static const char *const names[] = {
      "SUCCESS",          "FAILURE",
      "HOST_LOOKUP_FAILURE", "CONNECTION_FAILURE",
      "CONNECTION_BIND_FAILURE", "WRITE_FAILURE",
      "READ_FAILURE",     "UNKNOWN_READ_FAILURE",
      "PROTOCOL_ERROR",   "CLIENT_ERROR",
      "SERVER_ERROR",     "ERROR",
      "DATA_EXISTS",      "DATA_DOES_NOT_EXIST",
      "NOTSTORED",        "STORED",
      "NOTFOUND",         "MEMORY_ALLOCATION_FAILURE",
      "PARTIAL_READ",     "SOME_ERRORS",
      "NO_SERVERS",       "END",
      "DELETED",          "VALUE",
      "STAT",             "ITEM",
      "ERRNO",            "FAIL_UNIX_SOCKET",
      "NOT_SUPPORTED",    "NO_KEY_PROVIDED",
      "FETCH_NOTFINISHED", "TIMEOUT",
      "BUFFERED",         "BAD_KEY_PROVIDED",
      "INVALID_HOST_PROTOCOL", "SERVER_MARKED_DEAD",
      "UNKNOWN_STAT_KEY", "E2BIG",
      "INVALID_ARGUMENTS", "KEY_TOO_BIG",
      "AUTH_PROBLEM",     "AUTH_FAILURE",
      "AUTH_CONTINUE",    "PARSE_ERROR",
      "PARSE_USER_ERROR", "DEPRECATED",
      "IN_PROGRESS",      "SERVER_TEMPORARILY_DISABLED",
      "SERVER_MEMORY_ALLOCATION_FAILURE",
  };
  if ((size_t)rc < sizeof(names) / sizeof(names[0])) {
    return names[rc];
  }
  return "OUT_OF_RANGE";
}

#endif
