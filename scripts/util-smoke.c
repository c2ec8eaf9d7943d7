/*
 * Behaviour checks for libmemcachedutil (ping, flush, pid, version check, pool), run against a
 * live memcached on 127.0.0.1.
 *
 * Usage: util-smoke PORT SERVER_PID DEAD_PORT
 *   PORT        a memcached listening on 127.0.0.1 (it gets flushed)
 *   SERVER_PID  that memcached's process id
 *   DEAD_PORT   a port on 127.0.0.1 where nothing listens
 * With UTIL_SMOKE_STRICT_RELEASE=1 it also checks that releasing a handle twice, or one the
 * pool never lent, is refused (a safety check the original libmemcachedutil lacks).
 *
 * Prints one line per check and ends with "N passed, N failed"; exits non-zero on failure.
 */
/* <time.h> first: the original pool.h names struct timespec without including it. */
#include <time.h>

#include <libmemcached/memcached.h>
#include <libmemcached/util.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed;
static int failed;

static void check(int ok, const char *what) {
  if (ok) {
    passed++;
    printf("ok - %s\n", what);
  } else {
    failed++;
    printf("FAIL - %s\n", what);
  }
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static in_port_t port;
static in_port_t dead_port;

static memcached_st *master_for(in_port_t server_port) {
  memcached_st *mc = memcached_create(NULL);
  memcached_server_add(mc, "127.0.0.1", server_port);
  return mc;
}

static void check_ping(void) {
  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  check(libmemcached_util_ping("127.0.0.1", port, &rc) && rc == MEMCACHED_SUCCESS,
        "ping of a live server succeeds");

  rc = MEMCACHED_MAXIMUM_RETURN;
  check(!libmemcached_util_ping("127.0.0.1", dead_port, &rc) && rc == MEMCACHED_CONNECTION_FAILURE,
        "ping of a closed port fails with CONNECTION_FAILURE");

  check(libmemcached_util_ping("127.0.0.1", port, NULL), "ping accepts a NULL return slot");

  rc = MEMCACHED_MAXIMUM_RETURN;
  check(libmemcached_util_ping2("127.0.0.1", port, NULL, NULL, &rc) && rc == MEMCACHED_SUCCESS,
        "ping2 without a user name is ping");
}

static void check_flush(void) {
  memcached_st *mc = master_for(port);
  memcached_set(mc, "smoke-flush", 11, "v", 1, 0, 0);

  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  check(libmemcached_util_flush("127.0.0.1", port, &rc) && rc == MEMCACHED_SUCCESS,
        "flush of a live server succeeds");

  size_t length = 0;
  uint32_t flags = 0;
  char *value = memcached_get(mc, "smoke-flush", 11, &length, &flags, &rc);
  check(value == NULL && rc == MEMCACHED_NOTFOUND, "a flushed key is gone");
  free(value);
  memcached_free(mc);

  rc = MEMCACHED_MAXIMUM_RETURN;
  check(!libmemcached_util_flush("127.0.0.1", dead_port, &rc) && rc != MEMCACHED_SUCCESS,
        "flush of a closed port fails");
}

static void check_pid(pid_t server_pid) {
  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  pid_t pid = libmemcached_util_getpid("127.0.0.1", port, &rc);
  check(pid == server_pid && rc == MEMCACHED_SUCCESS, "getpid returns the server's pid");

  rc = MEMCACHED_MAXIMUM_RETURN;
  pid = libmemcached_util_getpid2("127.0.0.1", port, NULL, NULL, &rc);
  check(pid == server_pid && rc == MEMCACHED_SUCCESS, "getpid2 without a user name is getpid");

  rc = MEMCACHED_MAXIMUM_RETURN;
  pid = libmemcached_util_getpid("127.0.0.1", dead_port, &rc);
  check(pid == -1 && rc == MEMCACHED_CONNECTION_FAILURE,
        "getpid of a closed port gives -1 and CONNECTION_FAILURE");
}

static void check_version(void) {
  memcached_st *mc = master_for(port);
  check(libmemcached_util_version_check(mc, 1, 0, 0), "server is at least 1.0.0");
  check(!libmemcached_util_version_check(mc, 9, 0, 0), "server is not 9.0.0");
  check(!libmemcached_util_version_check(mc, 1, 255, 0), "server is not 1.255.0");
  memcached_free(mc);

  mc = master_for(dead_port);
  check(!libmemcached_util_version_check(mc, 1, 0, 0), "version check fails for a dead server");
  memcached_free(mc);
  check(!libmemcached_util_version_check(NULL, 1, 0, 0), "version check of NULL is false");
}

static void check_pool_sizes(void) {
  memcached_st *master = master_for(port);
  check(memcached_pool_create(master, 0, 1) == NULL, "pool with initial 0 is refused");
  check(memcached_pool_create(master, 1, 0) == NULL, "pool with max 0 is refused");
  check(memcached_pool_create(master, 2, 1) == NULL, "pool with initial > max is refused");
  memcached_free(master);
}

/* Fetch/release order, exhaustion, timeouts and destroy on a pool of at most 2. */
static void check_pool_lending(void) {
  memcached_st *master = master_for(port);
  memcached_pool_st *pool = memcached_pool_create(master, 1, 2);
  check(pool != NULL, "pool of 1..2 is created");

  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  memcached_st *first = memcached_pool_fetch(pool, NULL, &rc);
  check(first != NULL && rc == MEMCACHED_SUCCESS, "first fetch gives the initial clone");
  check(first != master, "a fetched handle is a clone, not the master");

  memcached_st *second = memcached_pool_pop(pool, false, &rc);
  check(second != NULL && second != first && rc == MEMCACHED_SUCCESS,
        "second fetch makes a new clone");

  rc = MEMCACHED_MAXIMUM_RETURN;
  check(memcached_pool_pop(pool, false, &rc) == NULL && rc == MEMCACHED_NOTFOUND,
        "exhausted pool without waiting gives NOTFOUND");

  struct timespec zero = {0, 0};
  rc = MEMCACHED_MAXIMUM_RETURN;
  check(memcached_pool_fetch(pool, &zero, &rc) == NULL && rc == MEMCACHED_NOTFOUND,
        "a {0, 0} timeout means no wait");

  struct timespec short_wait = {0, 200 * 1000 * 1000};
  double started = now_seconds();
  rc = MEMCACHED_MAXIMUM_RETURN;
  memcached_st *none = memcached_pool_fetch(pool, &short_wait, &rc);
  double waited = now_seconds() - started;
  check(none == NULL && rc == MEMCACHED_TIMEOUT, "exhausted pool with a timeout gives TIMEOUT");
  check(waited > 0.15 && waited < 2.0, "the timed fetch waited about 200 ms");

  check(memcached_pool_release(pool, first) == MEMCACHED_SUCCESS, "release succeeds");
  rc = MEMCACHED_MAXIMUM_RETURN;
  check(memcached_pool_fetch(pool, NULL, &rc) == first && rc == MEMCACHED_SUCCESS,
        "the released handle is handed out again");

  check(memcached_pool_push(pool, first) == MEMCACHED_SUCCESS, "push is release");
  check(memcached_pool_release(pool, second) == MEMCACHED_SUCCESS, "second release succeeds");
  check(memcached_pool_release(NULL, second) == MEMCACHED_INVALID_ARGUMENTS,
        "release into a NULL pool is refused");
  check(memcached_pool_release(pool, NULL) == MEMCACHED_INVALID_ARGUMENTS,
        "release of NULL is refused");

  if (getenv("UTIL_SMOKE_STRICT_RELEASE")) {
    check(memcached_pool_release(pool, second) == MEMCACHED_INVALID_ARGUMENTS,
          "releasing a handle twice is refused");
    check(memcached_pool_release(pool, master) == MEMCACHED_INVALID_ARGUMENTS,
          "releasing a handle the pool never lent is refused");
  }

  check(memcached_pool_destroy(pool) == master, "destroy returns the caller's master");
  check(memcached_pool_destroy(NULL) == NULL, "destroy of NULL is NULL");
  check(memcached_pool_fetch(NULL, NULL, &rc) == NULL, "fetch from a NULL pool is NULL");
  memcached_free(master);
}

/* Behaviour changes reach the master, idle clones, and lent clones once released. */
static void check_pool_behaviors(void) {
  memcached_st *master = master_for(port);
  memcached_pool_st *pool = memcached_pool_create(master, 2, 2);
  memcached_return_t rc;

  memcached_st *lent = memcached_pool_fetch(pool, NULL, &rc);
  check(memcached_pool_behavior_set(pool, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 1234)
            == MEMCACHED_SUCCESS,
        "pool behavior set succeeds");

  uint64_t value = 0;
  check(memcached_pool_behavior_get(pool, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, &value)
                == MEMCACHED_SUCCESS
            && value == 1234,
        "pool behavior get reads the new value");
  check(memcached_behavior_get(master, MEMCACHED_BEHAVIOR_POLL_TIMEOUT) == 1234,
        "the master got the new value");
  check(memcached_behavior_get(lent, MEMCACHED_BEHAVIOR_POLL_TIMEOUT) != 1234,
        "a lent clone keeps its old value while lent");

  memcached_st *idle = memcached_pool_fetch(pool, NULL, &rc);
  check(idle != NULL && memcached_behavior_get(idle, MEMCACHED_BEHAVIOR_POLL_TIMEOUT) == 1234,
        "an idle clone got the new value");

  memcached_pool_release(pool, lent);
  memcached_st *renewed = memcached_pool_fetch(pool, NULL, &rc);
  check(renewed != NULL
            && memcached_behavior_get(renewed, MEMCACHED_BEHAVIOR_POLL_TIMEOUT) == 1234,
        "a clone lent during the change comes back with the new value");

  memcached_pool_release(pool, renewed);
  memcached_pool_release(pool, idle);
  check(memcached_pool_behavior_get(NULL, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, &value)
            == MEMCACHED_INVALID_ARGUMENTS,
        "behavior get on a NULL pool is refused");
  check(memcached_pool_behavior_set(NULL, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 1)
            == MEMCACHED_INVALID_ARGUMENTS,
        "behavior set on a NULL pool is refused");

  memcached_pool_destroy(pool);
  memcached_free(master);
}

/* A pool from a configuration string owns its master and takes its sizes from the string. */
static void check_pool_from_string(void) {
  char config[128];
  snprintf(config, sizeof config, "--SERVER=127.0.0.1:%u --POOL-MIN=2 --POOL-MAX=3",
           (unsigned) port);
  memcached_pool_st *pool = memcached_pool(config, strlen(config));
  check(pool != NULL, "pool from a configuration string is created");

  memcached_return_t rc;
  memcached_st *handles[3];
  int fetched = 0;
  for (int i = 0; i < 3; i++) {
    handles[i] = memcached_pool_fetch(pool, NULL, &rc);
    fetched += handles[i] != NULL;
  }
  check(fetched == 3, "--POOL-MAX=3 allows three handles");
  check(memcached_pool_fetch(pool, NULL, &rc) == NULL && rc == MEMCACHED_NOTFOUND,
        "and no fourth");

  rc = memcached_set(handles[0], "smoke-pool", 10, "pooled", 6, 0, 0);
  size_t length = 0;
  uint32_t flags = 0;
  char *value = memcached_get(handles[1], "smoke-pool", 10, &length, &flags, &rc);
  check(value != NULL && length == 6 && memcmp(value, "pooled", 6) == 0,
        "pooled handles talk to the configured server");
  free(value);

  for (int i = 0; i < 3; i++) {
    memcached_pool_release(pool, handles[i]);
  }
  check(memcached_pool_destroy(pool) == NULL, "destroy of a string pool returns NULL");

  snprintf(config, sizeof config, "--SERVER=127.0.0.1:%u", (unsigned) port);
  pool = memcached_pool(config, strlen(config));
  memcached_st *only = memcached_pool_fetch(pool, NULL, &rc);
  check(only != NULL && memcached_pool_fetch(pool, NULL, &rc) == NULL,
        "without --POOL-MAX a pool holds one handle");
  memcached_pool_release(pool, only);
  memcached_pool_destroy(pool);

  check(memcached_pool("--NO-SUCH-OPTION", 16) == NULL, "a bad configuration string gives NULL");
}

struct waiter {
  memcached_pool_st *pool;
  memcached_st *got;
  memcached_return_t rc;
};

static void *wait_for_handle(void *arg) {
  struct waiter *waiter = arg;
  struct timespec patience = {5, 0};
  waiter->got = memcached_pool_fetch(waiter->pool, &patience, &waiter->rc);
  return NULL;
}

struct worker {
  memcached_pool_st *pool;
  int failures;
};

/* The handles currently lent out, to catch one handle given to two threads at once. */
static pthread_mutex_t lent_lock = PTHREAD_MUTEX_INITIALIZER;
static memcached_st *lent[64];
static size_t distinct_handles;
static memcached_st *seen[64];

/* Records MC as lent; returns 0 if another thread already holds it. */
static int lend(memcached_st *mc) {
  int fresh = 1;
  pthread_mutex_lock(&lent_lock);
  for (size_t i = 0; i < 64; i++) {
    if (lent[i] == mc) {
      fresh = 0;
    }
  }
  for (size_t i = 0; fresh && i < 64; i++) {
    if (lent[i] == NULL) {
      lent[i] = mc;
      break;
    }
  }
  int known = 0;
  for (size_t i = 0; i < distinct_handles; i++) {
    known |= seen[i] == mc;
  }
  if (!known && distinct_handles < 64) {
    seen[distinct_handles++] = mc;
  }
  pthread_mutex_unlock(&lent_lock);
  return fresh;
}

static void give_back(memcached_st *mc) {
  pthread_mutex_lock(&lent_lock);
  for (size_t i = 0; i < 64; i++) {
    if (lent[i] == mc) {
      lent[i] = NULL;
    }
  }
  pthread_mutex_unlock(&lent_lock);
}

static void *borrow_repeatedly(void *arg) {
  struct worker *worker = arg;
  for (int i = 0; i < 200; i++) {
    memcached_return_t rc;
    memcached_st *mc = memcached_pool_pop(worker->pool, true, &rc);
    if (mc == NULL) {
      worker->failures++;
      continue;
    }
    if (!lend(mc)) {
      worker->failures++;
    }
    if (i % 50 == 0 && memcached_set(mc, "smoke-worker", 12, "x", 1, 0, 0) != MEMCACHED_SUCCESS) {
      worker->failures++;
    }
    give_back(mc);
    if (memcached_pool_release(worker->pool, mc) != MEMCACHED_SUCCESS) {
      worker->failures++;
    }
  }
  return NULL;
}

static void check_pool_threads(void) {
  memcached_st *master = master_for(port);
  memcached_pool_st *pool = memcached_pool_create(master, 1, 1);
  memcached_return_t rc;
  memcached_st *held = memcached_pool_fetch(pool, NULL, &rc);

  struct waiter waiter = {pool, NULL, MEMCACHED_MAXIMUM_RETURN};
  pthread_t thread;
  pthread_create(&thread, NULL, wait_for_handle, &waiter);
  struct timespec pause = {0, 100 * 1000 * 1000};
  nanosleep(&pause, NULL);
  memcached_pool_release(pool, held);
  pthread_join(thread, NULL);
  check(waiter.got == held && waiter.rc == MEMCACHED_SUCCESS,
        "a waiting fetch gets the handle released by another thread");
  memcached_pool_release(pool, waiter.got);
  memcached_pool_destroy(pool);

  pool = memcached_pool_create(master, 1, 2);
  struct worker workers[8];
  pthread_t threads[8];
  for (int i = 0; i < 8; i++) {
    workers[i].pool = pool;
    workers[i].failures = 0;
    pthread_create(&threads[i], NULL, borrow_repeatedly, &workers[i]);
  }
  int failures = 0;
  for (int i = 0; i < 8; i++) {
    pthread_join(threads[i], NULL);
    failures += workers[i].failures;
  }
  check(failures == 0, "eight threads share a pool of two, no handle lent to two at once");
  check(distinct_handles <= 2, "the pool of at most two never made more than two handles");
  memcached_pool_destroy(pool);
  memcached_free(master);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s PORT SERVER_PID DEAD_PORT\n", argv[0]);
    return 2;
  }
  port = (in_port_t) atoi(argv[1]);
  pid_t server_pid = (pid_t) atoi(argv[2]);
  dead_port = (in_port_t) atoi(argv[3]);

  check_ping();
  check_flush();
  check_pid(server_pid);
  check_version();
  check_pool_sizes();
  check_pool_lending();
  check_pool_behaviors();
  check_pool_from_string();
  check_pool_threads();

  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
