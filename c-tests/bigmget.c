/*
 * Multi-gets of 8,000 keys, in both protocols. Every stored key comes back once with its
 * value, and absent keys are skipped wherever they are in the request. That includes a request
 * whose last keys are all absent, so the reply ends with less data than its start predicts. A
 * fetch left unfinished does not disturb the requests that follow on the same handle.
 *
 * Servers: MC_PORT1, MC_PORT2 (memcached).
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

enum { KEY_COUNT = 8000, VALUE_SIZE = 120 };

static char keys[KEY_COUNT][24];
static size_t key_lengths[KEY_COUNT];
static const char *key_pointers[KEY_COUNT];

static void fill_value(char *out, unsigned index) {
  for (size_t i = 0; i < VALUE_SIZE; i++) {
    out[i] = (char)('a' + (index * 7 + i) % 26);
  }
}

/* Returns whether the first pass stores key INDEX under PATTERN: "all", "head" (all but the
 * last quarter) or "odd" (every odd index). */
static int stored(const char *pattern, unsigned index) {
  if (strcmp(pattern, "head") == 0) {
    return index < KEY_COUNT - KEY_COUNT / 4;
  }
  if (strcmp(pattern, "odd") == 0) {
    return index % 2 == 1;
  }
  return 1;
}

/* Parses the index out of a key "bm:<pattern>:<index>", or returns -1. */
static long key_index(const char *key, size_t length) {
  size_t start = length;
  while (start > 0 && key[start - 1] != ':') {
    start--;
  }
  if (start == 0 || start == length || length - start > 6) {
    return -1;
  }
  long index = 0;
  for (size_t i = start; i < length; i++) {
    if (key[i] < '0' || key[i] > '9') {
      return -1;
    }
    index = index * 10 + (key[i] - '0');
  }
  return index < KEY_COUNT ? index : -1;
}

static void run_pattern(memcached_st *mc, const char *proto, const char *pattern) {
  char label[160];
  char value[VALUE_SIZE];
  unsigned stores_failed = 0;
  for (unsigned i = 0; i < KEY_COUNT; i++) {
    key_lengths[i] = (size_t)snprintf(keys[i], sizeof(keys[i]), "bm:%s:%u", pattern, i);
    key_pointers[i] = keys[i];
    if (!stored(pattern, i)) {
      continue;
    }
    fill_value(value, i);
    if (memcached_set(mc, keys[i], key_lengths[i], value, VALUE_SIZE, 0, i) != MEMCACHED_SUCCESS) {
      stores_failed++;
    }
  }
  printf("%s %s stores failed=%u\n", proto, pattern, stores_failed);

  double start = now_seconds();
  memcached_return_t rc = memcached_mget(mc, key_pointers, key_lengths, KEY_COUNT);
  print_rc(fmt(label, sizeof(label), "%s %s mget of %d keys", proto, pattern, KEY_COUNT), rc);
  static unsigned char seen[KEY_COUNT];
  memset(seen, 0, sizeof(seen));
  unsigned received = 0, wrong = 0, duplicates = 0, unexpected = 0;
  /* A result on the stack: one from the heap would be freed by the fetch at the end. */
  memcached_result_st storage;
  memcached_result_st *result = memcached_result_create(mc, &storage);
  while (memcached_fetch_result(mc, result, &rc) != NULL) {
    long index = key_index(memcached_result_key_value(result), memcached_result_key_length(result));
    if (index < 0 || !stored(pattern, (unsigned)index)) {
      unexpected++;
      continue;
    }
    if (seen[index]++) {
      duplicates++;
    }
    fill_value(value, (unsigned)index);
    if (memcached_result_length(result) != VALUE_SIZE ||
        memcmp(memcached_result_value(result), value, VALUE_SIZE) != 0 ||
        memcached_result_flags(result) != (uint32_t)index) {
      wrong++;
    }
    received++;
  }
  double elapsed = now_seconds() - start;
  memcached_result_free(result);
  print_rc(fmt(label, sizeof(label), "%s %s fetch end", proto, pattern), rc);
  unsigned expected = 0;
  for (unsigned i = 0; i < KEY_COUNT; i++) {
    expected += (unsigned)stored(pattern, i);
  }
  printf("%s %s received=%u expected=%u wrong=%u duplicates=%u unexpected=%u\n", proto, pattern,
         received, expected, wrong, duplicates, unexpected);
  /* Far above the time either library needs. A reply that waits for data that never comes
   * would stop here for the poll timeout instead. */
  printf("%s %s completed in under 5 s: %s\n", proto, pattern, elapsed < 5 ? "yes" : "no");
}

/* Starts an mget of every key and fetches only ten items. */
static void start_and_abandon(memcached_st *mc, const char *proto) {
  char label[160];
  memcached_return_t rc = memcached_mget(mc, key_pointers, key_lengths, KEY_COUNT);
  print_rc(fmt(label, sizeof(label), "%s abandon: mget", proto), rc);
  memcached_result_st storage;
  memcached_result_st *result = memcached_result_create(mc, &storage);
  unsigned fetched = 0;
  while (fetched < 10 && memcached_fetch_result(mc, result, &rc) != NULL) {
    fetched++;
  }
  memcached_result_free(result);
  printf("%s abandon: fetched %u items\n", proto, fetched);
}

/* Leaves fetches unfinished and then uses the handle for other requests: a small mget, and
 * a set and a get of a key with replies still unread on its connection. */
static void abandon_fetch(memcached_st *mc, const char *proto) {
  char label[160];
  memcached_return_t rc;
  memcached_result_st storage;
  memcached_result_st *result;
  start_and_abandon(mc, proto);

  /* A new mget of three keys must return exactly those. */
  const char *few[] = {keys[1], keys[3], keys[5]};
  size_t few_lengths[] = {key_lengths[1], key_lengths[3], key_lengths[5]};
  rc = memcached_mget(mc, few, few_lengths, 3);
  print_rc(fmt(label, sizeof(label), "%s abandon: mget of 3 keys", proto), rc);
  result = memcached_result_create(mc, &storage);
  unsigned got = 0, wrong = 0;
  while (memcached_fetch_result(mc, result, &rc) != NULL) {
    long index = key_index(memcached_result_key_value(result), memcached_result_key_length(result));
    if (index != 1 && index != 3 && index != 5) {
      wrong++;
    }
    got++;
  }
  memcached_result_free(result);
  printf("%s abandon: 3-key mget got=%u wrong=%u\n", proto, got, wrong);

  start_and_abandon(mc, proto);
  /* Then single-key requests on the same connections. */
  char value[VALUE_SIZE];
  fill_value(value, 7);
  print_rc(fmt(label, sizeof(label), "%s abandon: set", proto),
           memcached_set(mc, keys[7], key_lengths[7], value, VALUE_SIZE, 0, 7));
  size_t length = 0;
  uint32_t flags = 0;
  char *got_value = memcached_get(mc, keys[7], key_lengths[7], &length, &flags, &rc);
  print_rc(fmt(label, sizeof(label), "%s abandon: get", proto), rc);
  printf("%s abandon: get length=%zu flags=%u equal=%s\n", proto, length, flags,
         got_value != NULL && length == VALUE_SIZE && memcmp(got_value, value, VALUE_SIZE) == 0
             ? "yes"
             : "no");
  free(got_value);
}

int main(void) {
  start_test();
  in_port_t port1 = env_port("MC_PORT1");
  in_port_t port2 = env_port("MC_PORT2");
  for (int binary = 0; binary <= 1; binary++) {
    const char *proto = protocol_name(binary);
    memcached_st *mc = new_handle(binary);
    add_server(mc, port1);
    add_server(mc, port2);
    /* Every key's reply must arrive within this time; it bounds a stalled wait. */
    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 10000);
    run_pattern(mc, proto, "all");
    run_pattern(mc, proto, "head");
    run_pattern(mc, proto, "odd");
    abandon_fetch(mc, proto);
    memcached_free(mc);
  }
  return 0;
}
