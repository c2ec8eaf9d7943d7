/*
 * Bad arguments to the data calls ProFTPD uses (set, add, get, delete, increment,
 * decrement, the stat functions) and to the handle and server calls. The inputs are NULL
 * handles, NULL keys, NULL values with a length, keys of 0, 251 and SIZE_MAX bytes, NULL
 * out-pointers, and huge value_length values with a 16-byte buffer that ends at an
 * inaccessible page, so that any read past the buffer faults.
 *
 * Each call must return a documented code and must not crash. When the code is one the
 * library records (memcached_fatal), memcached_last_error_message must explain it. After a
 * rejected call the handle must still work. Every case runs in its own process, so a crash
 * is reported for that case only.
 *
 * System library (libmemcached 1.1.4): FAILS. It crashes with SIGSEGV on the first call
 * with a NULL key of length 5 (set), on a NULL value of length 10 (set), on a value_length
 * of SIZE_MAX / 2 (it reads past the buffer; SIZE_MAX itself gives
 * MEMORY_ALLOCATION_FAILURE) and on memcached_stat_get_value with a NULL name. In the text
 * protocol, a 250-byte key under a 100-byte namespace leaves the connection out of step, so
 * the next get misses a stored value. The NULL-handle, key-length and NULL-out-pointer cases
 * pass.
 *
 * Servers: MC_PORT1 (memcached).
 */
#define _POSIX_C_SOURCE 200809L
#include "check.h"

#include <sys/mman.h>

#define END_OF_CODES MEMCACHED_MAXIMUM_RETURN

static in_port_t server_port;

/* Checks that RC is one of the codes listed after it (ended by END_OF_CODES) and, for a
 * code the library records, that MC (when not NULL) has a non-empty error message. */
static void expect(memcached_st *mc, const char *what, memcached_return_t rc, ...) {
  va_list args;
  va_start(args, rc);
  int allowed = 0;
  for (;;) {
    memcached_return_t code = (memcached_return_t)va_arg(args, int);
    if (code == END_OF_CODES) {
      break;
    }
    if (code == rc) {
      allowed = 1;
    }
  }
  va_end(args);
  check_that(allowed, "%s: rc=%d %s", what, (int)rc, rc_name(rc));
  if (mc != NULL && is_fatal(rc)) {
    const char *message = memcached_last_error_message(mc);
    check_that(message != NULL && message[0] != '\0' && strcmp(message, "SUCCESS") != 0,
               "%s: last_error_message explains %s", what, rc_name(rc));
  }
}

/* A handle that works: one server, and a first request already made. */
static memcached_st *working_handle(int binary) {
  memcached_st *mc = single_server_handle(server_port, binary);
  memcached_return_t rc = memcached_set(mc, "bad.counter", 11, "5", 1, 0, 0);
  if (rc != MEMCACHED_SUCCESS) {
    die("set on 127.0.0.1:MC_PORT1 failed: rc=%d", (int)rc);
  }
  return mc;
}

/* The handle still works correctly after the rejected calls. */
static void expect_still_works(memcached_st *mc, const char *what) {
  memcached_return_t rc = memcached_set(mc, "bad.after", 9, "works", 5, 0, 0);
  size_t len = 0;
  char *value = memcached_get(mc, "bad.after", 9, &len, NULL, &rc);
  check_that(rc == MEMCACHED_SUCCESS && value != NULL && len == 5 && memcmp(value, "works", 5) == 0,
             "%s: a set and get afterwards work (rc=%s)", what, rc_name(rc));
  free(value);
}

static int null_handle(void *arg) {
  (void)arg;
  uint64_t counter = 0;
  size_t len = 99;
  uint32_t flags = 0;
  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;

  expect(NULL, "set(NULL handle)", memcached_set(NULL, "k", 1, "v", 1, 0, 0),
         MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  expect(NULL, "add(NULL handle)", memcached_add(NULL, "k", 1, "v", 1, 0, 0),
         MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  char *value = memcached_get(NULL, "k", 1, &len, &flags, &rc);
  check_that(value == NULL, "get(NULL handle) returns NULL");
  expect(NULL, "get(NULL handle)", rc, MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  value = memcached_get(NULL, "k", 1, NULL, NULL, NULL);
  check_that(value == NULL, "get(NULL handle, NULL out-pointers) returns NULL");
  expect(NULL, "delete(NULL handle)", memcached_delete(NULL, "k", 1, 0),
         MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  expect(NULL, "increment(NULL handle)", memcached_increment(NULL, "k", 1, 1, &counter),
         MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  expect(NULL, "decrement(NULL handle)", memcached_decrement(NULL, "k", 1, 1, NULL),
         MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);

  memcached_stat_st *st = memcached_stat(NULL, NULL, &rc);
  check_that(st == NULL, "stat(NULL handle) returns NULL");
  expect(NULL, "stat(NULL handle)", rc, MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  char **keys = memcached_stat_get_keys(NULL, NULL, &rc);
  check_that(keys == NULL, "stat_get_keys(NULL handle) returns NULL");
  free(keys);

  expect(NULL, "callback_set(NULL handle)",
         memcached_callback_set(NULL, MEMCACHED_CALLBACK_PREFIX_KEY, "ns."),
         MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  expect(NULL, "behavior_set(NULL handle)",
         memcached_behavior_set(NULL, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1),
         MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  memcached_server_st *list = memcached_server_list_append(NULL, "127.0.0.1", server_port, NULL);
  expect(NULL, "server_push(NULL handle)", memcached_server_push(NULL, list),
         MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  memcached_server_list_free(list);

  memcached_quit(NULL);
  memcached_servers_reset(NULL);
  memcached_free(NULL);
  check_that(memcached_server_count(NULL) == 0, "server_count(NULL) is 0");
  check_that(memcached_server_instance_by_position(NULL, 0) == NULL,
             "server_instance_by_position(NULL, 0) is NULL");
  check_that(memcached_server_get_last_disconnect(NULL) == NULL,
             "server_get_last_disconnect(NULL) is NULL");
  check_that(memcached_server_name(NULL) == NULL, "server_name(NULL) is NULL");
  check_that(memcached_server_port(NULL) == 0, "server_port(NULL) is 0");
  const char *message = memcached_last_error_message(NULL);
  check_that(message != NULL && message[0] != '\0', "last_error_message(NULL) is non-empty");
  check_that(memcached_strerror(NULL, (memcached_return_t)1000) != NULL,
             "strerror of an out-of-range code is not NULL");
  return checks_failed;
}

static void bad_key_calls(memcached_st *mc, const char *what, const char *key, size_t len) {
  char label[128];
  uint64_t counter = 0;
  size_t value_len = 0;
  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;

  expect(mc, fmt(label, sizeof(label), "%s: set", what),
         memcached_set(mc, key, len, "v", 1, 0, 0), MEMCACHED_BAD_KEY_PROVIDED,
         MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  expect(mc, fmt(label, sizeof(label), "%s: add", what),
         memcached_add(mc, key, len, "v", 1, 0, 0), MEMCACHED_BAD_KEY_PROVIDED,
         MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  char *value = memcached_get(mc, key, len, &value_len, NULL, &rc);
  check_that(value == NULL, "%s: get returns NULL", what);
  free(value);
  expect(mc, fmt(label, sizeof(label), "%s: get", what), rc, MEMCACHED_BAD_KEY_PROVIDED,
         MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  expect(mc, fmt(label, sizeof(label), "%s: delete", what), memcached_delete(mc, key, len, 0),
         MEMCACHED_BAD_KEY_PROVIDED, MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  expect(mc, fmt(label, sizeof(label), "%s: increment", what),
         memcached_increment(mc, key, len, 1, &counter), MEMCACHED_BAD_KEY_PROVIDED,
         MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  expect(mc, fmt(label, sizeof(label), "%s: decrement", what),
         memcached_decrement(mc, key, len, 1, &counter), MEMCACHED_BAD_KEY_PROVIDED,
         MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  expect_still_works(mc, what);
}

static int null_key(void *arg) {
  int binary = *(const int *)arg;
  memcached_st *mc = working_handle(binary);
  char what[64];
  bad_key_calls(mc, fmt(what, sizeof(what), "%s NULL key of length 5", protocol_name(binary)),
                NULL, 5);
  bad_key_calls(mc, fmt(what, sizeof(what), "%s NULL key of length 0", protocol_name(binary)),
                NULL, 0);
  memcached_free(mc);
  return checks_failed;
}

static int bad_key_lengths(void *arg) {
  int binary = *(const int *)arg;
  memcached_st *mc = working_handle(binary);
  char what[64];
  char key[300];
  memset(key, 'k', sizeof(key));
  bad_key_calls(mc, fmt(what, sizeof(what), "%s key of 251 bytes", protocol_name(binary)), key,
                251);
  bad_key_calls(mc, fmt(what, sizeof(what), "%s key of 0 bytes", protocol_name(binary)), key, 0);
  bad_key_calls(mc, fmt(what, sizeof(what), "%s key of SIZE_MAX bytes", protocol_name(binary)),
                key, SIZE_MAX);
  memcached_free(mc);
  return checks_failed;
}

static int null_value(void *arg) {
  int binary = *(const int *)arg;
  const char *p = protocol_name(binary);
  char label[96];
  memcached_st *mc = working_handle(binary);
  expect(mc, fmt(label, sizeof(label), "%s set NULL value of length 10", p),
         memcached_set(mc, "bad.null", 8, NULL, 10, 0, 0), MEMCACHED_INVALID_ARGUMENTS,
         END_OF_CODES);
  expect(mc, fmt(label, sizeof(label), "%s add NULL value of length 10", p),
         memcached_add(mc, "bad.null", 8, NULL, 10, 0, 0), MEMCACHED_INVALID_ARGUMENTS,
         END_OF_CODES);
  expect(mc, fmt(label, sizeof(label), "%s set NULL value of length 0", p),
         memcached_set(mc, "bad.null", 8, NULL, 0, 0, 0), MEMCACHED_SUCCESS,
         MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  expect_still_works(mc, fmt(label, sizeof(label), "%s NULL values", p));
  memcached_free(mc);
  return checks_failed;
}

/* A 16-byte value that ends where an inaccessible page begins, so reading past it faults. */
static char *guarded_buffer(void **block, size_t *page) {
  *page = (size_t)sysconf(_SC_PAGESIZE);
  if (posix_memalign(block, *page, 2 * *page) != 0) {
    die("posix_memalign failed");
  }
  if (mprotect((char *)*block + *page, *page, PROT_NONE) != 0) {
    die("mprotect failed: %s", strerror(errno));
  }
  char *value = (char *)*block + *page - 16;
  memcpy(value, "sixteen bytes!!!", 16);
  return value;
}

static int huge_value_length(void *arg) {
  int binary = *(const int *)arg;
  const char *p = protocol_name(binary);
  char label[96];
  void *block;
  size_t page;
  char *value = guarded_buffer(&block, &page);
  memcached_st *mc = working_handle(binary);

  static const size_t lengths[] = {SIZE_MAX, SIZE_MAX / 2, (size_t)1 << 40, 64 * 1024 * 1024};
  for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
    expect(mc, fmt(label, sizeof(label), "%s set value_length %zu", p, lengths[i]),
           memcached_set(mc, "bad.huge", 8, value, lengths[i], 0, 0), MEMCACHED_E2BIG,
           MEMCACHED_INVALID_ARGUMENTS, MEMCACHED_MEMORY_ALLOCATION_FAILURE, END_OF_CODES);
    expect(mc, fmt(label, sizeof(label), "%s add value_length %zu", p, lengths[i]),
           memcached_add(mc, "bad.huge", 8, value, lengths[i], 0, 0), MEMCACHED_E2BIG,
           MEMCACHED_INVALID_ARGUMENTS, MEMCACHED_MEMORY_ALLOCATION_FAILURE, END_OF_CODES);
    expect_still_works(mc, fmt(label, sizeof(label), "%s after value_length %zu", p,
                               lengths[i]));
  }
  memcached_free(mc);
  mprotect((char *)block + page, page, PROT_READ | PROT_WRITE);
  free(block);
  return checks_failed;
}

static int null_out_pointers(void *arg) {
  int binary = *(const int *)arg;
  const char *p = protocol_name(binary);
  memcached_st *mc = working_handle(binary);

  memcached_set(mc, "bad.present", 11, "here", 4, 0, 0);
  char *value = memcached_get(mc, "bad.present", 11, NULL, NULL, NULL);
  check_that(value != NULL && memcmp(value, "here", 4) == 0,
             "%s get hit with NULL value_length, flags and error", p);
  free(value);
  value = memcached_get(mc, "bad.absent", 10, NULL, NULL, NULL);
  check_that(value == NULL, "%s get miss with NULL value_length, flags and error", p);
  value = memcached_get(mc, "bad.absent", 0, NULL, NULL, NULL);
  check_that(value == NULL, "%s get of a 0-byte key with NULL out-pointers", p);

  expect(mc, "increment with NULL value pointer",
         memcached_increment(mc, "bad.counter", 11, 1, NULL), MEMCACHED_SUCCESS, END_OF_CODES);
  expect(mc, "decrement with NULL value pointer",
         memcached_decrement(mc, "bad.counter", 11, 1, NULL), MEMCACHED_SUCCESS, END_OF_CODES);
  expect(mc, "increment of a missing key with NULL value pointer",
         memcached_increment(mc, "bad.absent", 10, 1, NULL), MEMCACHED_NOTFOUND, END_OF_CODES);

  memcached_stat_st *st = memcached_stat(mc, NULL, NULL);
  check_that(st != NULL, "%s stat with NULL error pointer returns the array", p);
  char *stat_value = memcached_stat_get_value(mc, st, "pid", NULL);
  check_that(stat_value != NULL, "%s stat_get_value with NULL error pointer", p);
  free(stat_value);
  stat_value = memcached_stat_get_value(mc, st, "no_such_stat", NULL);
  check_that(stat_value == NULL, "%s stat_get_value of an unknown name, NULL error pointer", p);
  char **keys = memcached_stat_get_keys(mc, st, NULL);
  check_that(keys != NULL, "%s stat_get_keys with NULL error pointer", p);
  free(keys);
  memcached_stat_free(mc, st);
  expect_still_works(mc, "NULL out-pointers");
  memcached_free(mc);
  return checks_failed;
}

static int stat_arguments(void *arg) {
  (void)arg;
  memcached_st *mc = working_handle(0);
  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  memcached_stat_st *st = memcached_stat(mc, NULL, &rc);
  expect(mc, "stat", rc, MEMCACHED_SUCCESS, END_OF_CODES);

  char *value = memcached_stat_get_value(mc, st, NULL, &rc);
  check_that(value == NULL, "stat_get_value with a NULL name returns NULL");
  expect(mc, "stat_get_value with a NULL name", rc, MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  free(value);
  value = memcached_stat_get_value(mc, NULL, "pid", &rc);
  check_that(value == NULL, "stat_get_value with a NULL stat returns NULL");
  expect(mc, "stat_get_value with a NULL stat", rc, MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  free(value);
  value = memcached_stat_get_value(NULL, st, "no_such_stat", &rc);
  check_that(value == NULL, "stat_get_value of an unknown name without a handle returns NULL");
  expect(NULL, "stat_get_value of an unknown name without a handle", rc,
         MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);
  free(value);
  value = memcached_stat_get_value(NULL, st, "pid", &rc);
  check_that(value != NULL, "stat_get_value of pid without a handle works");
  free(value);
  memcached_stat_free(NULL, st);

  st = memcached_stat(mc, (char *)"bad group with spaces", &rc);
  memcached_stat_free(mc, st);
  check_that(rc != MEMCACHED_SUCCESS, "stat with a group name containing spaces: rc=%s",
             rc_name(rc));
  expect_still_works(mc, "stat arguments");
  memcached_free(mc);
  return checks_failed;
}

static int namespace_arguments(void *arg) {
  int binary = *(const int *)arg;
  const char *p = protocol_name(binary);
  char label[96];
  memcached_st *mc = working_handle(binary);
  char long_ns[300];
  memset(long_ns, 'n', sizeof(long_ns) - 1);
  long_ns[sizeof(long_ns) - 1] = '\0';
  expect(mc, fmt(label, sizeof(label), "%s namespace of 299 bytes", p),
         memcached_callback_set(mc, MEMCACHED_CALLBACK_PREFIX_KEY, long_ns),
         MEMCACHED_BAD_KEY_PROVIDED, MEMCACHED_KEY_TOO_BIG, END_OF_CODES);
  expect(mc, fmt(label, sizeof(label), "%s empty namespace", p),
         memcached_callback_set(mc, MEMCACHED_CALLBACK_PREFIX_KEY, ""),
         MEMCACHED_INVALID_ARGUMENTS, END_OF_CODES);

  /* A namespace plus key longer than 250 bytes cannot be stored. The failure must not leave
   * the connection out of step, so the next request must get its own reply. */
  expect(mc, fmt(label, sizeof(label), "%s namespace of 100 bytes", p),
         memcached_callback_set(mc, MEMCACHED_CALLBACK_PREFIX_KEY, long_ns + 199),
         MEMCACHED_SUCCESS, END_OF_CODES);
  char key[251];
  memset(key, 'k', sizeof(key));
  memcached_return_t rc = memcached_set(mc, key, 250, "v", 1, 0, 0);
  check_that(rc != MEMCACHED_SUCCESS,
             "%s set of a 250-byte key under a 100-byte namespace fails (rc=%s)", p,
             rc_name(rc));
  memcached_callback_set(mc, MEMCACHED_CALLBACK_PREFIX_KEY, NULL);
  expect_still_works(mc, fmt(label, sizeof(label), "%s after an over-long namespaced key", p));
  memcached_free(mc);
  return checks_failed;
}

int main(void) {
  start_test();
  server_port = env_port("MC_PORT1");
  static const int protocols[] = {0, 1};

  run_isolated("NULL handle", null_handle, NULL, 30);
  run_isolated("stat arguments", stat_arguments, NULL, 30);
  for (int i = 0; i < 2; i++) {
    const int *binary = &protocols[i];
    char name[64];
    const char *p = protocol_name(*binary);
    run_isolated(fmt(name, sizeof(name), "%s NULL keys", p), null_key, (void *)binary, 30);
    run_isolated(fmt(name, sizeof(name), "%s key lengths", p), bad_key_lengths, (void *)binary,
                 30);
    run_isolated(fmt(name, sizeof(name), "%s NULL values", p), null_value, (void *)binary, 30);
    run_isolated(fmt(name, sizeof(name), "%s huge value_length", p), huge_value_length,
                 (void *)binary, 30);
    run_isolated(fmt(name, sizeof(name), "%s NULL out-pointers", p), null_out_pointers,
                 (void *)binary, 30);
    run_isolated(fmt(name, sizeof(name), "%s namespace arguments", p), namespace_arguments,
                 (void *)binary, 30);
  }
  return finish("bad_input_documented_codes");
}
