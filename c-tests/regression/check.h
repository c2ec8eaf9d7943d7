/*
 * Assertion helpers for the regression tests. A test prints "ok: ..." or "FAIL: ..." per
 * check and ends with finish(), which prints a summary and returns the exit status: 0 when
 * every check passed, 1 otherwise.
 *
 * run_isolated() runs one case in a forked child, so that a case that crashes or aborts the
 * process is reported as a failure of that case and the remaining cases still run.
 */
#ifndef CTESTS_REGRESSION_CHECK_H
#define CTESTS_REGRESSION_CHECK_H

#include "../common.h"

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

static int checks_run;
static int checks_failed;

static inline void check_that(int condition, const char *format, ...) {
  va_list args;
  va_start(args, format);
  checks_run++;
  if (!condition) {
    checks_failed++;
  }
  fputs(condition ? "ok: " : "FAIL: ", stdout);
  vprintf(format, args);
  putchar('\n');
  va_end(args);
}

static inline int finish(const char *test) {
  if (checks_failed > 0) {
    printf("result: %s failed %d of %d checks\n", test, checks_failed, checks_run);
    return 1;
  }
  printf("result: %s passed all %d checks\n", test, checks_run);
  return 0;
}

/* Runs CASE_FN(ARG) in a child process with a time limit of LIMIT seconds. The child's exit
 * status is 0 when its own checks passed. Records one check for the case as a whole. */
static inline void run_isolated(const char *name, int (*case_fn)(void *), void *arg,
                                unsigned limit) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    check_that(0, "%s: fork failed: %s", name, strerror(errno));
    return;
  }
  if (pid == 0) {
    /* The child counts only its own checks. */
    checks_run = 0;
    checks_failed = 0;
    alarm(limit);
    int failed = case_fn(arg);
    fflush(stdout);
    _exit(failed ? 1 : 0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    check_that(0, "%s: the process was killed by signal %d%s", name, sig,
               sig == SIGALRM ? " (time limit)" : sig == SIGABRT ? " (abort)" : "");
  } else {
    check_that(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", name);
  }
}

/* The codes for which the library records an error message (the header's memcached_fatal). */
static inline int is_fatal(memcached_return_t rc) {
  switch (rc) {
  case MEMCACHED_AUTH_CONTINUE:
  case MEMCACHED_BUFFERED:
  case MEMCACHED_CLIENT_ERROR:
  case MEMCACHED_DATA_EXISTS:
  case MEMCACHED_DELETED:
  case MEMCACHED_E2BIG:
  case MEMCACHED_END:
  case MEMCACHED_ITEM:
  case MEMCACHED_ERROR:
  case MEMCACHED_NOTFOUND:
  case MEMCACHED_NOTSTORED:
  case MEMCACHED_SERVER_MEMORY_ALLOCATION_FAILURE:
  case MEMCACHED_STAT:
  case MEMCACHED_STORED:
  case MEMCACHED_SUCCESS:
  case MEMCACHED_VALUE:
    return 0;
  default:
    return 1;
  }
}

#endif
