/*
 * Data calls in both protocols: memcached_set, memcached_add, memcached_get, memcached_delete,
 * memcached_increment and memcached_decrement. Each outcome is checked with its return code:
 * stored, exists, missing, empty value, flags, non-numeric counters, wrap-around, expiration,
 * item too big, key length limits, NUL bytes in binary keys, and characters rejected by
 * VERIFY_KEY in the text protocol. The same calls then run over a unix socket and across
 * three servers.
 *
 * Servers: MC_PORT1, MC_PORT2, MC_PORT3 (memcached, -m 64, default 1 MiB item limit),
 * MC_SOCKET (memcached on a unix socket).
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

static char proto_key_buffer[512];

/* "data.<proto>.<name>", so the two protocols never share keys. */
static const char *key_of(int binary, const char *name) {
  return fmt(proto_key_buffer, sizeof(proto_key_buffer), "data.%s.%s", protocol_name(binary),
             name);
}

static void show_set(const char *label, memcached_return_t rc) {
  print_rc(label, rc);
}

/* Get KEY (KEY_LEN bytes) and print code, flags and value. */
static void show_get_n(const char *label, memcached_st *mc, const char *key, size_t key_len) {
  size_t len = 12345;
  uint32_t flags = 12345;
  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  char *value = memcached_get(mc, key, key_len, &len, &flags, &rc);
  char line[200];
  if (value == NULL) {
    printf("%s get rc=%d %s value=NULL len=%zu\n", label, (int)rc, rc_name(rc), len);
    if (rc == MEMCACHED_SUCCESS) {
      printf("%s get flags=%u\n", label, flags);
    }
    return;
  }
  printf("%s get rc=%d %s flags=%u nul-terminated=%s\n", label, (int)rc, rc_name(rc), flags,
         value[len] == '\0' ? "yes" : "no");
  print_bytes(fmt(line, sizeof(line), "%s get", label), value, len);
  free(value);
}

static void show_get(const char *label, memcached_st *mc, const char *key) {
  show_get_n(label, mc, key, strlen(key));
}

/* VALUE is read through a pointer because the call that fills it is another argument of
 * the same call, and C leaves the order of argument evaluation unspecified. */
static void show_arith(const char *label, memcached_return_t rc, const uint64_t *value) {
  printf("%s rc=%d %s value=%llu\n", label, (int)rc, rc_name(rc), (unsigned long long)*value);
}

static void check_store_and_get(memcached_st *mc, int binary) {
  const char *p = protocol_name(binary);
  char label[200];
  const char *key;

  key = key_of(binary, "hello");
  show_set(fmt(label, sizeof(label), "%s set hello flags=0xdeadbeef", p),
           memcached_set(mc, key, strlen(key), "hello", 5, 0, 0xdeadbeefU));
  show_get(fmt(label, sizeof(label), "%s hello", p), mc, key);
  show_set(fmt(label, sizeof(label), "%s set hello again flags=0", p),
           memcached_set(mc, key, strlen(key), "world!", 6, 0, 0));
  show_get(fmt(label, sizeof(label), "%s hello after overwrite", p), mc, key);

  key = key_of(binary, "flags.max");
  memcached_set(mc, key, strlen(key), "f", 1, 0, UINT32_MAX);
  show_get(fmt(label, sizeof(label), "%s flags.max", p), mc, key);

  key = key_of(binary, "empty");
  show_set(fmt(label, sizeof(label), "%s set empty value flags=42", p),
           memcached_set(mc, key, strlen(key), "", 0, 0, 42));
  show_get(fmt(label, sizeof(label), "%s empty", p), mc, key);
  key = key_of(binary, "empty.null");
  show_set(fmt(label, sizeof(label), "%s set NULL value length 0", p),
           memcached_set(mc, key, strlen(key), NULL, 0, 0, 0));
  show_get(fmt(label, sizeof(label), "%s empty.null", p), mc, key);

  key = key_of(binary, "binary.value");
  const char bytes[] = {'a', '\0', 'b', '\r', '\n', 'E', 'N', 'D', '\r', '\n', (char)0xff};
  show_set(fmt(label, sizeof(label), "%s set value with NUL and CRLF", p),
           memcached_set(mc, key, strlen(key), bytes, sizeof(bytes), 0, 1));
  show_get(fmt(label, sizeof(label), "%s binary.value", p), mc, key);

  key = key_of(binary, "missing");
  show_get(fmt(label, sizeof(label), "%s missing", p), mc, key);

  /* value_length, flags and error may all be NULL. */
  key = key_of(binary, "hello");
  char *value = memcached_get(mc, key, strlen(key), NULL, NULL, NULL);
  printf("%s get with NULL out-pointers: %s\n", p,
         value && strcmp(value, "world!") == 0 ? "value returned" : "no value");
  free(value);
  key = key_of(binary, "missing");
  value = memcached_get(mc, key, strlen(key), NULL, NULL, NULL);
  printf("%s get missing with NULL out-pointers: %s\n", p, value ? "value" : "NULL");
  free(value);
}

static void check_add(memcached_st *mc, int binary) {
  const char *p = protocol_name(binary);
  char label[200];
  const char *key = key_of(binary, "add");
  show_set(fmt(label, sizeof(label), "%s add new", p),
           memcached_add(mc, key, strlen(key), "first", 5, 0, 5));
  show_set(fmt(label, sizeof(label), "%s add existing", p),
           memcached_add(mc, key, strlen(key), "second", 6, 0, 6));
  show_get(fmt(label, sizeof(label), "%s add", p), mc, key);
  key = key_of(binary, "add.empty");
  show_set(fmt(label, sizeof(label), "%s add empty value", p),
           memcached_add(mc, key, strlen(key), "", 0, 0, 0));
  show_set(fmt(label, sizeof(label), "%s add over empty value", p),
           memcached_add(mc, key, strlen(key), "x", 1, 0, 0));
}

static void check_delete(memcached_st *mc, int binary) {
  const char *p = protocol_name(binary);
  char label[200];
  const char *key = key_of(binary, "delete");
  memcached_set(mc, key, strlen(key), "d", 1, 0, 0);
  show_set(fmt(label, sizeof(label), "%s delete with expiration 5", p),
           memcached_delete(mc, key, strlen(key), 5));
  show_get(fmt(label, sizeof(label), "%s delete after refused delete", p), mc, key);
  show_set(fmt(label, sizeof(label), "%s delete existing", p),
           memcached_delete(mc, key, strlen(key), 0));
  show_get(fmt(label, sizeof(label), "%s delete after delete", p), mc, key);
  show_set(fmt(label, sizeof(label), "%s delete missing", p),
           memcached_delete(mc, key, strlen(key), 0));
  show_set(fmt(label, sizeof(label), "%s add after delete", p),
           memcached_add(mc, key, strlen(key), "again", 5, 0, 0));
}

static void check_arithmetic(memcached_st *mc, int binary) {
  const char *p = protocol_name(binary);
  char label[200];
  uint64_t value = 0;
  const char *key = key_of(binary, "counter");

  memcached_set(mc, key, strlen(key), "31", 2, 0, 0);
  for (int i = 0; i < 2; i++) {
    value = 0;
    show_arith(fmt(label, sizeof(label), "%s increment 31 by 2 #%d", p, i),
               memcached_increment(mc, key, strlen(key), 2, &value), &value);
  }
  for (int i = 0; i < 2; i++) {
    value = 0;
    show_arith(fmt(label, sizeof(label), "%s decrement by 5 #%d", p, i),
               memcached_decrement(mc, key, strlen(key), 5, &value), &value);
  }
  show_get(fmt(label, sizeof(label), "%s counter", p), mc, key);
  show_set(fmt(label, sizeof(label), "%s increment with NULL value pointer", p),
           memcached_increment(mc, key, strlen(key), 1, NULL));
  show_set(fmt(label, sizeof(label), "%s decrement with NULL value pointer", p),
           memcached_decrement(mc, key, strlen(key), 1, NULL));
  value = 0;
  show_arith(fmt(label, sizeof(label), "%s decrement below zero", p),
             memcached_decrement(mc, key, strlen(key), 1000, &value), &value);
  value = 0;
  show_arith(fmt(label, sizeof(label), "%s increment by 0", p),
             memcached_increment(mc, key, strlen(key), 0, &value), &value);
  value = 0;
  show_arith(fmt(label, sizeof(label), "%s increment by UINT32_MAX", p),
             memcached_increment(mc, key, strlen(key), UINT32_MAX, &value), &value);

  key = key_of(binary, "counter.max");
  memcached_set(mc, key, strlen(key), "18446744073709551615", 20, 0, 0);
  value = 0;
  show_arith(fmt(label, sizeof(label), "%s increment past 2^64-1", p),
             memcached_increment(mc, key, strlen(key), 1, &value), &value);

  key = key_of(binary, "counter.missing");
  value = 0;
  show_arith(fmt(label, sizeof(label), "%s increment missing", p),
             memcached_increment(mc, key, strlen(key), 1, &value), &value);
  value = 0;
  show_arith(fmt(label, sizeof(label), "%s decrement missing", p),
             memcached_decrement(mc, key, strlen(key), 1, &value), &value);
  show_get(fmt(label, sizeof(label), "%s counter.missing after increment", p), mc, key);
  show_set(fmt(label, sizeof(label), "%s increment missing with NULL value pointer", p),
           memcached_increment(mc, key, strlen(key), 1, NULL));

  key = key_of(binary, "counter.text");
  memcached_set(mc, key, strlen(key), "Hello, World!", 13, 0, 0);
  value = 0;
  show_arith(fmt(label, sizeof(label), "%s increment non-numeric", p),
             memcached_increment(mc, key, strlen(key), 1, &value), &value);
  value = 0;
  show_arith(fmt(label, sizeof(label), "%s decrement non-numeric", p),
             memcached_decrement(mc, key, strlen(key), 1, &value), &value);
  /* The connection must stay in step after the error reply. */
  show_get(fmt(label, sizeof(label), "%s counter.text after non-numeric", p), mc, key);

  /* ProFTPD stores a missing counter as the raw 4-byte increment, which memcached then
   * treats as non-numeric. */
  key = key_of(binary, "counter.raw");
  uint32_t raw = 1;
  memcached_set(mc, key, strlen(key), (const char *)&raw, sizeof(raw), 0, 0);
  value = 0;
  show_arith(fmt(label, sizeof(label), "%s increment 4-byte raw value", p),
             memcached_increment(mc, key, strlen(key), 1, &value), &value);

  key = key_of(binary, "counter.empty");
  memcached_set(mc, key, strlen(key), "", 0, 0, 0);
  value = 0;
  show_arith(fmt(label, sizeof(label), "%s increment empty value", p),
             memcached_increment(mc, key, strlen(key), 1, &value), &value);

  key = key_of(binary, "counter.spaces");
  memcached_set(mc, key, strlen(key), "7", 1, 0, 0);
  value = 0;
  show_arith(fmt(label, sizeof(label), "%s increment single digit to two digits", p),
             memcached_increment(mc, key, strlen(key), 5, &value), &value);
  show_get(fmt(label, sizeof(label), "%s counter.spaces", p), mc, key);
}

static void check_sizes(memcached_st *mc, int binary) {
  const char *p = protocol_name(binary);
  char label[200];
  const char *key = key_of(binary, "big");

  size_t big = 1000 * 1000;
  char *value = (char *)malloc(2 * 1024 * 1024 + 1);
  for (size_t i = 0; i < 2 * 1024 * 1024 + 1; i++) {
    value[i] = (char)('a' + i % 26);
  }
  show_set(fmt(label, sizeof(label), "%s set 1000000-byte value", p),
           memcached_set(mc, key, strlen(key), value, big, 0, 0));
  size_t len = 0;
  memcached_return_t rc;
  char *got = memcached_get(mc, key, strlen(key), &len, NULL, &rc);
  printf("%s get 1000000-byte value rc=%d %s len=%zu equal=%s\n", p, (int)rc, rc_name(rc), len,
         got && len == big && memcmp(got, value, big) == 0 ? "yes" : "no");
  free(got);

  show_set(fmt(label, sizeof(label), "%s set 1 MiB + 1 value", p),
           memcached_set(mc, key, strlen(key), value, 1024 * 1024 + 1, 0, 0));
  show_set(fmt(label, sizeof(label), "%s set 2 MiB value", p),
           memcached_set(mc, key, strlen(key), value, 2 * 1024 * 1024, 0, 0));
  key = key_of(binary, "big.add");
  show_set(fmt(label, sizeof(label), "%s add 2 MiB value", p),
           memcached_add(mc, key, strlen(key), value, 2 * 1024 * 1024, 0, 0));
  /* The connection stays usable after the server rejected the item. */
  key = key_of(binary, "after.big");
  show_set(fmt(label, sizeof(label), "%s set after E2BIG", p),
           memcached_set(mc, key, strlen(key), "small", 5, 0, 0));
  show_get(fmt(label, sizeof(label), "%s after.big", p), mc, key);
  free(value);
}

/* Key length rules: 1..250 bytes, the same in both protocols. */
static void check_key_lengths(memcached_st *mc, int binary) {
  const char *p = protocol_name(binary);
  char label[200];
  char key[300];
  uint64_t value;

  for (size_t length = 249; length <= 251; length++) {
    memset(key, 'k', sizeof(key));
    memcpy(key, p, strlen(p));
    show_set(fmt(label, sizeof(label), "%s set key of %zu bytes", p, length),
             memcached_set(mc, key, length, "5", 1, 0, 0));
    show_get_n(fmt(label, sizeof(label), "%s key of %zu bytes", p, length), mc, key, length);
    show_set(fmt(label, sizeof(label), "%s add key of %zu bytes", p, length),
             memcached_add(mc, key, length, "6", 1, 0, 0));
    value = 0;
    show_arith(fmt(label, sizeof(label), "%s increment key of %zu bytes", p, length),
               memcached_increment(mc, key, length, 1, &value), &value);
    value = 0;
    show_arith(fmt(label, sizeof(label), "%s decrement key of %zu bytes", p, length),
               memcached_decrement(mc, key, length, 1, &value), &value);
    show_set(fmt(label, sizeof(label), "%s delete key of %zu bytes", p, length),
             memcached_delete(mc, key, length, 0));
  }

  show_set(fmt(label, sizeof(label), "%s set key of 0 bytes", p),
           memcached_set(mc, "x", 0, "v", 1, 0, 0));
  show_get_n(fmt(label, sizeof(label), "%s key of 0 bytes", p), mc, "x", 0);
  show_set(fmt(label, sizeof(label), "%s add key of 0 bytes", p),
           memcached_add(mc, "x", 0, "v", 1, 0, 0));
  value = 0;
  show_arith(fmt(label, sizeof(label), "%s increment key of 0 bytes", p),
             memcached_increment(mc, "x", 0, 1, &value), &value);
  show_set(fmt(label, sizeof(label), "%s delete key of 0 bytes", p),
           memcached_delete(mc, "x", 0, 0));
}

/* Binary keys with NUL and control bytes, as mod_tls_memcache builds them. */
static void check_binary_keys(memcached_st *mc) {
  const char a_nul_b[] = {'b', 'k', '.', 'a', '\0', 'b'};
  const char a_nul_c[] = {'b', 'k', '.', 'a', '\0', 'c'};
  const char controls[] = {'b', 'k', '.', '\x01', '\r', '\n', ' ', '\x7f', (char)0x80, (char)0xff};
  const char trailing_nul[] = {'b', 'k', '.', 'j', 's', 'o', 'n', '\0'};
  char label[200];

  show_set("bin set key with NUL", memcached_set(mc, a_nul_b, sizeof(a_nul_b), "ab", 2, 0, 0));
  show_set("bin set other key with NUL",
           memcached_set(mc, a_nul_c, sizeof(a_nul_c), "ac", 2, 0, 0));
  show_get_n("bin key a\\0b", mc, a_nul_b, sizeof(a_nul_b));
  show_get_n("bin key a\\0c", mc, a_nul_c, sizeof(a_nul_c));
  show_get_n("bin key before the NUL", mc, a_nul_b, 4);
  show_set("bin set key with control bytes",
           memcached_set(mc, controls, sizeof(controls), "ctl", 3, 0, 0));
  show_get_n("bin key with control bytes", mc, controls, sizeof(controls));
  show_set("bin set key with trailing NUL",
           memcached_set(mc, trailing_nul, sizeof(trailing_nul), "json", 4, 0, 0));
  show_get_n("bin key with trailing NUL", mc, trailing_nul, sizeof(trailing_nul));
  show_get_n("bin key without trailing NUL", mc, trailing_nul, sizeof(trailing_nul) - 1);
  show_set("bin add key with NUL", memcached_add(mc, a_nul_b, sizeof(a_nul_b), "x", 1, 0, 0));
  uint64_t value = 0;
  memcached_set(mc, controls, sizeof(controls), "5", 1, 0, 0);
  show_arith("bin increment key with control bytes",
             memcached_increment(mc, controls, sizeof(controls), 2, &value), &value);
  show_set("bin delete key with NUL", memcached_delete(mc, a_nul_b, sizeof(a_nul_b), 0));
  show_get_n(fmt(label, sizeof(label), "bin key a\\0b after delete"), mc, a_nul_b,
             sizeof(a_nul_b));
  show_get_n("bin key a\\0c after deleting a\\0b", mc, a_nul_c, sizeof(a_nul_c));
}

/* Text protocol with VERIFY_KEY: keys with spaces, control or non-ASCII bytes are rejected
 * before anything is sent. */
static void check_verify_key(memcached_st *mc) {
  static const struct {
    const char *name;
    const char *key;
    size_t length;
  } bad[] = {
      {"space", "text.a b", 8},       {"newline", "text.a\nb", 8}, {"CRLF", "text.a\r\nb", 9},
      {"NUL", "text.a\0b", 8},        {"tab", "text.\tb", 7},      {"0x7f", "text.\x7f", 6},
      {"UTF-8", "text.caf\xc3\xa9", 10}, {"0x80", "text.\x80", 6},
  };
  char label[200];
  uint64_t value;

  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_VERIFY_KEY, 1);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    const char *key = bad[i].key;
    size_t len = bad[i].length;
    const char *name = bad[i].name;
    show_set(fmt(label, sizeof(label), "text verify set key with %s", name),
             memcached_set(mc, key, len, "v", 1, 0, 0));
    show_set(fmt(label, sizeof(label), "text verify add key with %s", name),
             memcached_add(mc, key, len, "v", 1, 0, 0));
    show_get_n(fmt(label, sizeof(label), "text verify key with %s", name), mc, key, len);
    value = 0;
    show_arith(fmt(label, sizeof(label), "text verify increment key with %s", name),
               memcached_increment(mc, key, len, 1, &value), &value);
    value = 0;
    show_arith(fmt(label, sizeof(label), "text verify decrement key with %s", name),
               memcached_decrement(mc, key, len, 1, &value), &value);
    show_set(fmt(label, sizeof(label), "text verify delete key with %s", name),
             memcached_delete(mc, key, len, 0));
  }
  const char *punctuation = "text.!#$%&'()*+,-./:;<=>?@[]^_`{|}~";
  show_set("text verify set key with printable punctuation",
           memcached_set(mc, punctuation, strlen(punctuation), "p", 1, 0, 0));
  show_get("text verify printable punctuation", mc, punctuation);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_VERIFY_KEY, 0);
}

static void check_expiration(memcached_st *mc, int binary) {
  const char *p = protocol_name(binary);
  char label[200];
  char short_key[64];
  char long_key[64];
  fmt(short_key, sizeof(short_key), "data.%s.expire.short", p);
  fmt(long_key, sizeof(long_key), "data.%s.expire.long", p);
  show_set(fmt(label, sizeof(label), "%s set expiration 1", p),
           memcached_set(mc, short_key, strlen(short_key), "s", 1, 1, 0));
  show_set(fmt(label, sizeof(label), "%s set expiration 100", p),
           memcached_set(mc, long_key, strlen(long_key), "l", 1, 100, 0));
  const char *add_key = key_of(binary, "expire.add");
  show_set(fmt(label, sizeof(label), "%s add expiration 1", p),
           memcached_add(mc, add_key, strlen(add_key), "a", 1, 1, 0));
  show_get(fmt(label, sizeof(label), "%s expire.short right away", p), mc, short_key);
  sleep_seconds(2.5);
  show_get(fmt(label, sizeof(label), "%s expire.short after 2.5 s", p), mc, short_key);
  show_get(fmt(label, sizeof(label), "%s expire.long after 2.5 s", p), mc, long_key);
  show_get(fmt(label, sizeof(label), "%s expire.add after 2.5 s", p), mc,
           key_of(binary, "expire.add"));
}

static void check_no_servers(int binary) {
  const char *p = protocol_name(binary);
  char label[200];
  memcached_st *mc = new_handle(binary);
  uint64_t value = 7;
  show_set(fmt(label, sizeof(label), "%s no servers set", p),
           memcached_set(mc, "k", 1, "v", 1, 0, 0));
  show_set(fmt(label, sizeof(label), "%s no servers add", p),
           memcached_add(mc, "k", 1, "v", 1, 0, 0));
  show_get(fmt(label, sizeof(label), "%s no servers", p), mc, "k");
  show_arith(fmt(label, sizeof(label), "%s no servers increment", p),
             memcached_increment(mc, "k", 1, 1, &value), &value);
  value = 7;
  show_arith(fmt(label, sizeof(label), "%s no servers decrement", p),
             memcached_decrement(mc, "k", 1, 1, &value), &value);
  show_set(fmt(label, sizeof(label), "%s no servers delete", p), memcached_delete(mc, "k", 1, 0));
  memcached_free(mc);
}

static void check_unix_socket(const char *path, int binary) {
  const char *p = protocol_name(binary);
  char label[200];
  memcached_st *mc = new_handle(binary);
  memcached_server_st *list = memcached_servers_parse(path);
  print_rc(fmt(label, sizeof(label), "%s socket push", p), memcached_server_push(mc, list));
  memcached_server_list_free(list);

  const char *key = key_of(binary, "socket");
  show_set(fmt(label, sizeof(label), "%s socket set", p),
           memcached_set(mc, key, strlen(key), "over a socket", 13, 0, 9));
  show_get(fmt(label, sizeof(label), "%s socket", p), mc, key);
  show_set(fmt(label, sizeof(label), "%s socket add existing", p),
           memcached_add(mc, key, strlen(key), "x", 1, 0, 0));
  key = key_of(binary, "socket.counter");
  memcached_set(mc, key, strlen(key), "1", 1, 0, 0);
  uint64_t value = 0;
  show_arith(fmt(label, sizeof(label), "%s socket increment", p),
             memcached_increment(mc, key, strlen(key), 41, &value), &value);
  key = key_of(binary, "socket");
  show_set(fmt(label, sizeof(label), "%s socket delete", p),
           memcached_delete(mc, key, strlen(key), 0));
  show_get(fmt(label, sizeof(label), "%s socket after delete", p), mc, key);
  memcached_free(mc);
}

/* Keys spread over three servers with ProFTPD's distribution; each reads back. */
static void check_three_servers(const in_port_t ports[3], int binary) {
  const char *p = protocol_name(binary);
  memcached_st *mc = new_handle(binary);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT);
  for (int i = 0; i < 3; i++) {
    add_server(mc, ports[i]);
  }

  int stored = 0;
  int read_back = 0;
  int deleted = 0;
  const int keys = 60;
  for (int k = 0; k < keys; k++) {
    char key[64];
    char value[64];
    fmt(key, sizeof(key), "data.%s.spread.%d", p, k);
    fmt(value, sizeof(value), "value %d", k);
    if (memcached_set(mc, key, strlen(key), value, strlen(value), 0, (uint32_t)k) ==
        MEMCACHED_SUCCESS) {
      stored++;
    }
  }

  for (int k = 0; k < keys; k++) {
    char key[64];
    char value[64];
    fmt(key, sizeof(key), "data.%s.spread.%d", p, k);
    fmt(value, sizeof(value), "value %d", k);
    size_t len;
    uint32_t flags;
    memcached_return_t rc;
    char *got = memcached_get(mc, key, strlen(key), &len, &flags, &rc);
    if (got && len == strlen(value) && memcmp(got, value, len) == 0 && flags == (uint32_t)k) {
      read_back++;
    }
    free(got);
    if (memcached_delete(mc, key, strlen(key), 0) == MEMCACHED_SUCCESS) {
      deleted++;
    }
  }

  printf("%s three servers: stored=%d read back=%d deleted=%d of %d\n", p, stored, read_back,
         deleted, keys);
  memcached_free(mc);
}

int main(void) {
  start_test();
  in_port_t ports[3];
  ports[0] = env_port("MC_PORT1");
  ports[1] = env_port("MC_PORT2");
  ports[2] = env_port("MC_PORT3");
  const char *socket_path = env_text("MC_SOCKET");

  for (int binary = 0; binary <= 1; binary++) {
    memcached_st *mc = single_server_handle(ports[0], binary);
    check_store_and_get(mc, binary);
    check_add(mc, binary);
    check_delete(mc, binary);
    check_arithmetic(mc, binary);
    check_sizes(mc, binary);
    check_key_lengths(mc, binary);
    if (binary) {
      check_binary_keys(mc);
    } else {
      check_verify_key(mc);
    }
    check_expiration(mc, binary);
    memcached_free(mc);

    check_no_servers(binary);
    check_unix_socket(socket_path, binary);
    check_three_servers(ports, binary);
  }
  return 0;
}
