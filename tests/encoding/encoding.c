/*
 * Value encryption (memcached_set_encoding_key) between two libraries: "write" stores values
 * with an encoding key, "read" reads them back with the same key and prints them, "plain"
 * reads them without a key and prints their lengths. run.sh builds this program against
 * libmemcached-rs and against Debian's libmemcached and writes with one, reads with the other.
 *
 * Usage: encoding write|read|plain PORT [binary]
 */
#include <libmemcached/memcached.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *keys[] = {"enc.empty", "enc.short", "enc.block", "enc.long"};

static void value_for(size_t index, char *out, size_t *length) {
  static const size_t lengths[] = {0, 5, 16, 1000};
  *length = lengths[index];
  for (size_t i = 0; i < *length; i++) {
    out[i] = (char)('a' + (i * 7 + index) % 26);
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s write|read|plain PORT [binary]\n", argv[0]);
    return 2;
  }
  memcached_st *mc = memcached_create(NULL);
  memcached_server_add(mc, "127.0.0.1", (in_port_t)atoi(argv[2]));
  if (argc > 3) {
    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1);
  }
  static const char secret[] = "an encoding key of 32 bytes.....";
  if (strcmp(argv[1], "plain") != 0) {
    memcached_return_t rc = memcached_set_encoding_key(mc, secret, strlen(secret));
    printf("set_encoding_key rc=%d\n", (int)rc);
  }
  char value[1000];
  for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    size_t length;
    value_for(i, value, &length);
    memcached_return_t rc;
    if (strcmp(argv[1], "write") == 0) {
      rc = memcached_set(mc, keys[i], strlen(keys[i]), value, length, 0, (uint32_t)i);
      printf("%s: set rc=%d\n", keys[i], (int)rc);
      continue;
    }
    size_t got_length = 0;
    uint32_t flags = 0;
    char *got = memcached_get(mc, keys[i], strlen(keys[i]), &got_length, &flags, &rc);
    if (strcmp(argv[1], "plain") == 0) {
      printf("%s: stored length %zu\n", keys[i], got_length);
    } else {
      int same = got_length == length && (length == 0 || memcmp(got, value, length) == 0);
      printf("%s: get rc=%d length=%zu flags=%u matches=%s\n", keys[i], (int)rc, got_length, flags,
             same ? "yes" : "no");
    }
    free(got);
  }
  memcached_return_t rc = memcached_append(mc, keys[1], strlen(keys[1]), "x", 1, 0, 0);
  printf("append rc=%d\n", (int)rc);
  uint64_t number = 0;
  rc = memcached_increment(mc, "enc.counter", 11, 1, &number);
  printf("increment rc=%d\n", (int)rc);
  memcached_free(mc);
  return 0;
}
