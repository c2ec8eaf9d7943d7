/*
 * Wire safety of the text protocol, as a property test over random keys and values.
 *
 * Keys are random byte strings of 0..260 bytes: any byte, plus line breaks, spaces, NUL and
 * whole commands embedded in them. Values are random bytes of up to 100 KB with
 * "\r\nEND\r\n", "\r\n", NUL and reply lines embedded. Every call goes to the capturing
 * server of capture_server.c, which replies like memcached and records the raw bytes. The
 * test then parses what each connection received the way memcached reads it: a command line
 * ends at "\n" or at its first NUL, and a storage command with a valid length is followed by
 * exactly <bytes> + 2 bytes of data. It checks, for VERIFY_KEY off and on, each with and
 * without a namespace:
 *
 * - no call puts more commands on the wire than it requested (one for a single-key call,
 *   at most one per key for mget, none when the library rejects the key);
 * - every command sent is the requested one: its verb, exactly namespace + key as each key
 *   token, and for storage commands exactly the value as the data block;
 * - storage calls return the capturing server's reply (SUCCESS or NOTSTORED), and values
 *   stored through it read back intact with get and mget.
 *
 * Each configuration runs in its own child process, so that a library that aborts fails
 * only that part.
 *
 * Then, against a real memcached: values containing "\r\nEND\r\n" and the like round-trip
 * intact with get and mget. Last, calls that fail (server down, reply timeout, CLIENT_ERROR,
 * value too large, SASL rejected with memcached_set_sasl_auth_data("user", "s3cr3t-pass"))
 * leave an error message (memcached_last_error_message) that contains neither the value nor
 * the password. run.sh checks that nothing was written to stdout or stderr.
 *
 *   wire --capture-port P --memcached-port M --dead-port D [--seed S] [--iterations N]
 *
 * Results go to descriptor 3 (see report.h).
 */
#define _GNU_SOURCE
#include "capture_server.h"
#include "report.h"

#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_KEY 260
#define MAX_MGET_KEYS 6
/* More than the calls of one configuration, so the model has room for every key stored. */
#define MODEL_KEYS 1024
#define EXAMPLES 3

static unsigned short capture_port;
static unsigned short memcached_port;
static unsigned short dead_port;
static uint64_t rng_state = 1;
static unsigned iterations = 400;

static uint64_t next_random(void) {
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static size_t random_below(size_t n) {
  return n == 0 ? 0 : (size_t)(next_random() % n);
}

/* Escapes BYTES for a message: printable ASCII as is, the rest as \xHH, at most 48 bytes. */
static const char *escaped(const unsigned char *bytes, size_t len, char *out, size_t size) {
  size_t used = 0;
  size_t count = len < 48 ? len : 48;
  for (size_t i = 0; i < count && used + 5 < size; i++) {
    unsigned char c = bytes[i];
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out[used++] = (char)c;
    } else {
      used += (size_t)snprintf(out + used, size - used, "\\x%02x", c);
    }
  }
  snprintf(out + used, size - used, "%s (%zu bytes)", count < len ? "..." : "", len);
  return out;
}

/* ---- random keys and values ------------------------------------------------------------- */

struct piece {
  const char *bytes;
  size_t len;
};
#define PIECE(text) {text, sizeof(text) - 1}

static const struct piece key_injections[] = {
    PIECE("k\r\nflush_all"),    PIECE("k get other"),         PIECE("k\r\nset x 0 0 1\r\n1"),
    PIECE("k\n"),               PIECE("k\0tail"),             PIECE("k\r\n"),
    PIECE(" k"),                PIECE("k\tk"),                PIECE("k\r\ndelete other"),
    PIECE("k 0 0 1\r\nx\r\nget"), PIECE("\r\n"),               PIECE("k\x7f"),
};

static const struct piece value_pieces[] = {
    PIECE("\r\nEND\r\n"), PIECE("\r\n"), PIECE("END\r\n"), PIECE("VALUE k 0 3\r\nabc\r\nEND\r\n"),
    PIECE("STORED\r\n"), PIECE("\0"), PIECE("\n"), PIECE("\r"), PIECE("ERROR\r\n"),
};

struct bytes {
  unsigned char data[MAX_KEY + 1];
  size_t len;
};

static void random_key(struct bytes *key) {
  size_t roll = random_below(100);
  if (roll < 10) {
    const struct piece *pick =
        &key_injections[random_below(sizeof(key_injections) / sizeof(key_injections[0]))];
    memcpy(key->data, pick->bytes, pick->len);
    key->len = pick->len;
    return;
  }
  static const size_t edges[] = {0, 1, 2, 249, 250, 251, 252, 260};
  size_t len = roll < 25 ? edges[random_below(sizeof(edges) / sizeof(edges[0]))]
                         : 1 + random_below(roll < 60 ? 40 : MAX_KEY);
  size_t kind = random_below(4);
  for (size_t i = 0; i < len; i++) {
    unsigned char c;
    switch (kind) {
    case 0: /* visible ASCII */
      c = (unsigned char)(0x21 + random_below(0x7e - 0x21 + 1));
      break;
    case 1: /* visible ASCII with the odd space, line break, tab or NUL */
      c = random_below(12) == 0 ? (unsigned char)" \r\n\t\0"[random_below(5)]
                                : (unsigned char)(0x21 + random_below(0x5e));
      break;
    case 2: /* bytes >= 0x80 mixed with visible ASCII */
      c = random_below(2) ? (unsigned char)(0x80 + random_below(0x80))
                          : (unsigned char)(0x21 + random_below(0x5e));
      break;
    default:
      c = (unsigned char)random_below(256);
      break;
    }
    key->data[i] = c;
  }
  key->len = len;
}

/* A value of up to 4 KB (1 in 20: up to 100 KB) with protocol fragments spliced in. */
static size_t random_value(unsigned char *buf, size_t cap) {
  size_t len = random_below(20) == 0 ? random_below(100 * 1024) : random_below(4096);
  if (len > cap) {
    len = cap;
  }
  size_t pos = 0;
  while (pos < len) {
    if (random_below(8) == 0) {
      const struct piece *piece =
          &value_pieces[random_below(sizeof(value_pieces) / sizeof(value_pieces[0]))];
      if (pos + piece->len <= len) {
        memcpy(buf + pos, piece->bytes, piece->len);
        pos += piece->len;
        continue;
      }
    }
    buf[pos++] = (unsigned char)random_below(256);
  }
  return len;
}

/* ---- checking what reached the capturing server ----------------------------------------- */

struct expectation {
  const char *verb;
  size_t key_count;
  struct bytes keys[MAX_MGET_KEYS]; /* namespace + key */
  const unsigned char *value;       /* storage commands */
  size_t value_len;
};

struct wire_scan {
  const struct expectation *expected;
  size_t commands;
  size_t key_tokens_seen;
  int mismatch;
  char reason[256];
};

static void scan_command(const struct text_command *c, void *context) {
  struct wire_scan *scan = context;
  scan->commands++;
  if (scan->mismatch) {
    return;
  }
  const struct expectation *e = scan->expected;
  char printable[256];

  if (c->token_count == 0) {
    scan->mismatch = 1;
    snprintf(scan->reason, sizeof(scan->reason), "an empty command line");
    return;
  }
  if (c->truncated_at_nul) {
    scan->mismatch = 1;
    snprintf(scan->reason, sizeof(scan->reason), "a command line with a NUL byte");
    return;
  }

  const struct text_token *verb = &c->tokens[0];
  int is_get = strcmp(e->verb, "get") == 0;
  int verb_ok = verb->len == strlen(e->verb) && memcmp(verb->bytes, e->verb, verb->len) == 0;
  if (is_get && !verb_ok) {
    verb_ok = verb->len == 4 && memcmp(verb->bytes, "gets", 4) == 0;
  }
  if (!verb_ok) {
    scan->mismatch = 1;
    snprintf(scan->reason, sizeof(scan->reason), "command %s instead of %s",
             escaped(verb->bytes, verb->len, printable, sizeof(printable)), e->verb);
    return;
  }

  size_t key_tokens = is_get ? c->token_count - 1 : 1;
  for (size_t i = 0; i < key_tokens; i++) {
    const struct text_token *token = &c->tokens[1 + i];
    size_t index = scan->key_tokens_seen++;
    const struct bytes *want = index < e->key_count ? &e->keys[index] : NULL;
    if (1 + i >= c->token_count || want == NULL || token->len != want->len ||
        memcmp(token->bytes, want->data, want->len) != 0) {
      scan->mismatch = 1;
      const char *shown_token = "(missing)";
      if (1 + i < c->token_count) {
        shown_token = escaped(token->bytes, token->len, printable, sizeof(printable));
      }
      snprintf(scan->reason, sizeof(scan->reason), "key token %s is not the requested key",
               shown_token);
      return;
    }
  }

  if (e->value != NULL) {
    if (!c->storage || c->data_len != e->value_len || !c->data_terminated ||
        memcmp(c->data, e->value, e->value_len) != 0) {
      scan->mismatch = 1;
      snprintf(scan->reason, sizeof(scan->reason),
               "the data block is not the value (%zu bytes sent, %zu expected)",
               c->storage ? c->data_len : 0, e->value_len);
    }
  } else if (c->storage) {
    scan->mismatch = 1;
    snprintf(scan->reason, sizeof(scan->reason), "a data block after a non-storage command");
  }
}

struct wire_totals {
  unsigned calls;
  unsigned sent;
  unsigned rejected;
  unsigned too_many;
  unsigned mismatched;
  unsigned incomplete;
  unsigned roundtrip_checked;
  unsigned roundtrip_wrong;
};

/* Collects what the capturing server received for one call and checks it against E.
 * REJECTED: the library refused the call before sending (BAD_KEY_PROVIDED and the like).
 * Returns 1 when exactly the requested commands arrived. */
static int check_wire(const struct expectation *e, size_t max_commands, int rejected,
                      struct wire_totals *totals, const char *label) {
  struct capture_stream *streams;
  size_t count = capture_collect(&streams);
  struct wire_scan scan;
  memset(&scan, 0, sizeof(scan));
  scan.expected = e;
  int incomplete = 0;
  for (size_t i = 0; i < count; i++) {
    if (streams[i].binary) {
      continue;
    }
    size_t used = text_split(streams[i].data, streams[i].len, scan_command, &scan);
    incomplete |= used != streams[i].len;
  }
  capture_free(streams, count);

  totals->calls++;
  if (rejected) {
    totals->rejected++;
  } else if (scan.commands > 0) {
    totals->sent++;
  }
  size_t allowed = rejected ? 0 : max_commands;
  char printable[256];
  int ok = 1;
  if (scan.commands > allowed) {
    if (totals->too_many++ < EXAMPLES) {
      report_info("wire %s: %zu commands on the wire for one %s call (at most %zu expected), "
                  "key %s",
                  label, scan.commands, e->verb, allowed,
                  escaped(e->keys[0].data, e->keys[0].len, printable, sizeof(printable)));
    }
    ok = 0;
  }
  if (scan.mismatch) {
    if (totals->mismatched++ < EXAMPLES) {
      report_info("wire %s: %s call, key %s: %s", label, e->verb,
                  escaped(e->keys[0].data, e->keys[0].len, printable, sizeof(printable)),
                  scan.reason);
    }
    ok = 0;
  }
  if (incomplete) {
    if (totals->incomplete++ < EXAMPLES) {
      report_info("wire %s: %s call left an incomplete command on the wire", label, e->verb);
    }
    ok = 0;
  }
  return ok && scan.commands > 0 && !rejected;
}

/* ---- the property test on the capturing server ------------------------------------------ */

/* What the capturing server contains, for keys whose commands arrived exactly as requested. */
struct model_entry {
  struct bytes key;
  unsigned char *value;
  size_t value_len;
  uint32_t flags;
  int present;
  int unknown; /* a call on it went wrong, so its state on the server is unknown */
};

static struct model_entry model[MODEL_KEYS];
static size_t model_count;

static struct model_entry *model_find(const struct bytes *key) {
  for (size_t i = 0; i < model_count; i++) {
    if (model[i].key.len == key->len && memcmp(model[i].key.data, key->data, key->len) == 0) {
      return &model[i];
    }
  }
  return NULL;
}

static struct model_entry *model_add(const struct bytes *key) {
  struct model_entry *m = model_find(key);
  if (m != NULL) {
    return m;
  }
  if (model_count == MODEL_KEYS) {
    return NULL;
  }
  m = &model[model_count++];
  memset(m, 0, sizeof(*m));
  m->key = *key;
  return m;
}

static void model_forget(struct model_entry *m) {
  m->unknown = 1;
  m->present = 0;
}

static void model_clear(void) {
  for (size_t i = 0; i < model_count; i++) {
    free(model[i].value);
  }
  model_count = 0;
}

/* Picks a key from the model half the time, so that reads find something. */
static void pick_key(struct bytes *key) {
  if (model_count > 0 && random_below(2) == 0) {
    *key = model[random_below(model_count)].key;
  } else {
    random_key(key);
  }
}

static void wire_key(struct bytes *out, const char *namespace_text, const struct bytes *key) {
  size_t ns_len = namespace_text ? strlen(namespace_text) : 0;
  memcpy(out->data, namespace_text ? namespace_text : "", ns_len);
  size_t room = sizeof(out->data) - ns_len;
  size_t len = key->len < room ? key->len : room;
  memcpy(out->data + ns_len, key->data, len);
  out->len = ns_len + len;
}

static int client_rejected(memcached_return_t rc) {
  return rc == MEMCACHED_BAD_KEY_PROVIDED || rc == MEMCACHED_KEY_TOO_BIG ||
         rc == MEMCACHED_INVALID_ARGUMENTS;
}

/* Compares a read with the model. Returns 1 when it matches. */
static int check_read(const struct model_entry *m, int found, const char *value, size_t len,
                      uint32_t flags) {
  if (m != NULL && m->unknown) {
    return 1;
  }
  if (m == NULL || !m->present) {
    return !found;
  }
  return found && len == m->value_len && flags == m->flags &&
         (len == 0 || memcmp(value, m->value, len) == 0);
}

/* WHY, when not NULL, describes how the read differed. */
static void note_roundtrip(struct wire_totals *t, int ok, const char *label, const char *op,
                           const struct bytes *key, const char *reason) {
  t->roundtrip_checked++;
  if (!ok && t->roundtrip_wrong++ < EXAMPLES) {
    char printable[256];
    report_info("wire %s: %s of key %s did not return what the capturing server contains%s%s",
                label, op, escaped(key->data, key->len, printable, sizeof(printable)),
                reason ? ": " : "", reason ? reason : "");
  }
}

static void one_call(memcached_st *mc, const char *ns, unsigned char *value_buf, size_t value_cap,
                     struct wire_totals *t, const char *label) {
  struct expectation e;
  memset(&e, 0, sizeof(e));
  struct bytes key;
  pick_key(&key);
  wire_key(&e.keys[0], ns, &key);
  e.key_count = 1;
  size_t roll = random_below(100);

  if (roll < 35) {
    static const char *const verbs[] = {"set", "set", "set", "add", "replace", "append", "prepend"};
    e.verb = verbs[random_below(sizeof(verbs) / sizeof(verbs[0]))];
    size_t len = random_value(value_buf, value_cap);
    uint32_t flags = (uint32_t)next_random();
    e.value = value_buf;
    e.value_len = len;
    const char *k = (const char *)key.data;
    const char *v = (const char *)value_buf;
    memcached_return_t rc;
    if (strcmp(e.verb, "set") == 0) {
      rc = memcached_set(mc, k, key.len, v, len, 0, flags);
    } else if (strcmp(e.verb, "add") == 0) {
      rc = memcached_add(mc, k, key.len, v, len, 0, flags);
    } else if (strcmp(e.verb, "replace") == 0) {
      rc = memcached_replace(mc, k, key.len, v, len, 0, flags);
    } else if (strcmp(e.verb, "append") == 0) {
      rc = memcached_append(mc, k, key.len, v, len, 0, flags);
    } else {
      rc = memcached_prepend(mc, k, key.len, v, len, 0, flags);
    }
    int exact = check_wire(&e, 1, client_rejected(rc), t, label);
    struct model_entry *m = model_find(&key);
    int known = m == NULL || !m->unknown;
    int present = m != NULL && m->present;
    int plain_set = strcmp(e.verb, "set") == 0;
    int concatenation = strcmp(e.verb, "append") == 0 || strcmp(e.verb, "prepend") == 0;
    if (exact && known) {
      /* set always stores, add only a new key, the others only an existing one. */
      int stores = plain_set || (strcmp(e.verb, "add") == 0 ? !present : present);
      memcached_return_t expected = stores ? MEMCACHED_SUCCESS : MEMCACHED_NOTSTORED;
      char reason[96];
      snprintf(reason, sizeof(reason), "%s returned %s, %s expected", e.verb, rc_label(rc),
               rc_label(expected));
      note_roundtrip(t, rc == expected, label, e.verb, &key, reason);
    }
    if (exact && rc == MEMCACHED_SUCCESS && m == NULL) {
      m = model_add(&key);
    }
    if (m != NULL && m->unknown && concatenation) {
      /* Appending to an unknown value leaves it unknown. */
    } else if (m != NULL && exact && rc == MEMCACHED_SUCCESS) {
      m->unknown = 0;
      if (concatenation) {
        unsigned char *joined = malloc(m->value_len + len + 1);
        int append = strcmp(e.verb, "append") == 0;
        memcpy(joined + (append ? 0 : len), m->value, m->value_len);
        memcpy(joined + (append ? m->value_len : 0), value_buf, len);
        free(m->value);
        m->value = joined;
        m->value_len += len;
      } else {
        free(m->value);
        m->value = malloc(len + 1);
        memcpy(m->value, value_buf, len);
        m->value_len = len;
        m->flags = flags;
      }
      m->present = 1;
    } else if (!exact && m != NULL) {
      /* The item's state on the server is unknown now. */
      model_forget(m);
    }
  } else if (roll < 60) {
    e.verb = "get";
    size_t len = 0;
    uint32_t flags = 0;
    memcached_return_t rc;
    char *got = memcached_get(mc, (const char *)key.data, key.len, &len, &flags, &rc);
    int exact = check_wire(&e, 1, client_rejected(rc), t, label);
    const struct model_entry *m = model_find(&key);
    if (exact && (m == NULL || !m->unknown)) {
      int ok = (rc == MEMCACHED_SUCCESS || rc == MEMCACHED_NOTFOUND) &&
               check_read(m, rc == MEMCACHED_SUCCESS, got, len, flags);
      char reason[96];
      snprintf(reason, sizeof(reason), "get returned %s with %zu bytes", rc_label(rc), len);
      note_roundtrip(t, ok, label, "get", &key, reason);
    }
    free(got);
  } else if (roll < 80) {
    e.verb = "get";
    struct bytes keys[MAX_MGET_KEYS];
    const char *pointers[MAX_MGET_KEYS];
    size_t lengths[MAX_MGET_KEYS];
    size_t n = 1 + random_below(MAX_MGET_KEYS);
    for (size_t i = 0; i < n; i++) {
      if (i > 0) {
        pick_key(&keys[i]);
      } else {
        keys[0] = key;
      }
      wire_key(&e.keys[i], ns, &keys[i]);
      pointers[i] = (const char *)keys[i].data;
      lengths[i] = keys[i].len;
    }
    e.key_count = n;
    memcached_return_t rc = memcached_mget(mc, pointers, lengths, n);
    int seen[MAX_MGET_KEYS] = {0};
    int reads_ok = 1;
    char reason[512] = "";
    memcached_return_t fetch_rc = MEMCACHED_SUCCESS;
    for (;;) {
      memcached_result_st *r = memcached_fetch_result(mc, NULL, &fetch_rc);
      if (r == NULL) {
        break;
      }
      struct bytes got_key;
      got_key.len = memcached_result_key_length(r);
      if (got_key.len > MAX_KEY) {
        got_key.len = MAX_KEY;
      }
      memcpy(got_key.data, memcached_result_key_value(r), got_key.len);
      int matched = 0;
      for (size_t i = 0; i < n; i++) {
        if (!seen[i] && keys[i].len == got_key.len &&
            memcmp(keys[i].data, got_key.data, got_key.len) == 0) {
          seen[i] = 1;
          matched = 1;
          const struct model_entry *m = model_find(&keys[i]);
          if (!check_read(m, 1, memcached_result_value(r), memcached_result_length(r),
                          memcached_result_flags(r))) {
            reads_ok = 0;
            snprintf(reason, sizeof(reason),
                     "key %zu of %zu came back with %zu bytes, flags %u, but %s", i + 1, n,
                     memcached_result_length(r), memcached_result_flags(r),
                     m == NULL || !m->present ? "it should be absent" : "other bytes are stored");
          }
          break;
        }
      }
      if (!matched) {
        char printable[256];
        reads_ok = 0;
        snprintf(reason, sizeof(reason), "a result for key %s, which was not requested (or twice)",
                 escaped(got_key.data, got_key.len, printable, sizeof(printable)));
      }
      memcached_result_free(r);
    }
    int exact = check_wire(&e, n, client_rejected(rc), t, label);
    if (exact && rc == MEMCACHED_SUCCESS &&
        (fetch_rc == MEMCACHED_END || fetch_rc == MEMCACHED_NOTFOUND)) {
      for (size_t i = 0; i < n; i++) {
        if (!seen[i]) {
          struct model_entry *m = model_find(&keys[i]);
          int duplicate = 0;
          for (size_t j = 0; j < n; j++) {
            duplicate |= j != i && seen[j] && keys[j].len == keys[i].len &&
                         memcmp(keys[j].data, keys[i].data, keys[i].len) == 0;
          }
          if (!duplicate && m != NULL && m->present && !m->unknown) {
            reads_ok = 0;
            snprintf(reason, sizeof(reason),
                     "key %zu of %zu (%zu bytes stored) was not returned", i + 1, n,
                     m->value_len);
          }
        }
      }
      note_roundtrip(t, reads_ok, label, "mget", &keys[0], reason);
    }
  } else if (roll < 92) {
    e.verb = "delete";
    memcached_return_t rc = memcached_delete(mc, (const char *)key.data, key.len, 0);
    int exact = check_wire(&e, 1, client_rejected(rc), t, label);
    struct model_entry *m = model_find(&key);
    if (m != NULL && exact) {
      m->present = 0;
    } else if (m != NULL && !client_rejected(rc)) {
      model_forget(m);
    }
  } else {
    e.verb = "incr";
    uint64_t result = 0;
    memcached_return_t rc = memcached_increment(mc, (const char *)key.data, key.len, 1, &result);
    check_wire(&e, 1, client_rejected(rc), t, label);
    struct model_entry *m = model_find(&key);
    if (m != NULL) {
      /* An increment changes a numeric value, which the model does not track. */
      model_forget(m);
    }
  }
}

static void run_config(int verify, const char *ns, unsigned char *value_buf, size_t value_cap) {
  char label[96];
  snprintf(label, sizeof(label), "VERIFY_KEY %s, %s", verify ? "on" : "off",
           ns ? "namespace" : "no namespace");
  memcached_st *mc = memcached_create(NULL);
  memcached_server_add(mc, "127.0.0.1", capture_port);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_VERIFY_KEY, (uint64_t)verify);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 500);
  if (ns != NULL) {
    memcached_return_t rc = memcached_callback_set(mc, MEMCACHED_CALLBACK_PREFIX_KEY, ns);
    report_check(rc == MEMCACHED_SUCCESS, "wire %s: memcached_callback_set(PREFIX_KEY, \"%s\") %s",
                 label, ns, rc_label(rc));
  }
  capture_set_mode(CAPTURE_REPLY);
  capture_clear_store();
  model_clear();
  struct capture_stream *streams;
  capture_free(streams, capture_collect(&streams));

  struct wire_totals t;
  memset(&t, 0, sizeof(t));
  for (unsigned i = 0; i < iterations; i++) {
    one_call(mc, ns, value_buf, value_cap, &t, label);
  }
  report_info("wire %s: %u calls, %u sent, %u rejected by the library", label, t.calls, t.sent,
              t.rejected);
  report_check(t.too_many == 0, "wire %s: no call put more commands on the wire than requested "
                                "(%u did)",
               label, t.too_many);
  report_check(t.mismatched == 0 && t.incomplete == 0,
               "wire %s: every command sent carried exactly the requested verb, key and value "
               "(%u differed, %u incomplete)",
               label, t.mismatched, t.incomplete);
  report_check(t.roundtrip_checked > 20 && t.roundtrip_wrong == 0,
               "wire %s: %u reads through the capturing server returned what it contains (%u "
               "differed)",
               label, t.roundtrip_checked, t.roundtrip_wrong);
  memcached_free(mc);
  capture_free(streams, capture_collect(&streams));
}

/* ---- round trips through a real memcached ----------------------------------------------- */

static void run_memcached_roundtrip(unsigned char *value_buf, size_t value_cap) {
  enum { VALUES = 200, BATCH = 5 };
  memcached_st *mc = memcached_create(NULL);
  memcached_server_add(mc, "127.0.0.1", memcached_port);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, 2000);
  unsigned get_checked = 0;
  unsigned get_wrong = 0;
  unsigned mget_checked = 0;
  unsigned mget_wrong = 0;
  unsigned set_failed = 0;
  unsigned with_end = 0;
  static unsigned char *stored[BATCH];
  static size_t stored_len[BATCH];
  char keys[BATCH][64];

  for (unsigned round = 0; round < VALUES / BATCH; round++) {
    for (unsigned i = 0; i < BATCH; i++) {
      snprintf(keys[i], sizeof(keys[i]), "wire:real:%u:%u", round, i);
      size_t len = random_value(value_buf, value_cap);
      if (i == 0 && len >= 7) {
        memcpy(value_buf + len / 2 - 3, "\r\nEND\r\n", 7);
      }
      with_end += memmem(value_buf, len, "\r\nEND\r\n", 7) != NULL;
      free(stored[i]);
      stored[i] = malloc(len + 1);
      memcpy(stored[i], value_buf, len);
      stored_len[i] = len;
      memcached_return_t rc = memcached_set(mc, keys[i], strlen(keys[i]), (const char *)value_buf,
                                            len, 0, round);
      set_failed += rc != MEMCACHED_SUCCESS;
      size_t got_len = 0;
      uint32_t flags = 0;
      char *got = memcached_get(mc, keys[i], strlen(keys[i]), &got_len, &flags, &rc);
      get_checked++;
      int same = rc == MEMCACHED_SUCCESS && got_len == len && flags == round &&
                 (len == 0 || (got != NULL && memcmp(got, value_buf, len) == 0));
      if (!same && get_wrong++ < EXAMPLES) {
        report_info("wire memcached: get of %s returned %s, %zu bytes (%zu stored)", keys[i],
                    rc_label(rc), got_len, len);
      }
      free(got);
    }

    const char *pointers[BATCH];
    size_t lengths[BATCH];
    for (unsigned i = 0; i < BATCH; i++) {
      pointers[i] = keys[i];
      lengths[i] = strlen(keys[i]);
    }
    memcached_return_t rc = memcached_mget(mc, pointers, lengths, BATCH);
    unsigned matched = 0;
    for (;;) {
      memcached_result_st *r = memcached_fetch_result(mc, NULL, &rc);
      if (r == NULL) {
        break;
      }
      for (unsigned i = 0; i < BATCH; i++) {
        if (memcached_result_key_length(r) == strlen(keys[i]) &&
            memcmp(memcached_result_key_value(r), keys[i], strlen(keys[i])) == 0 &&
            memcached_result_length(r) == stored_len[i] &&
            (stored_len[i] == 0 ||
             memcmp(memcached_result_value(r), stored[i], stored_len[i]) == 0)) {
          matched++;
        }
      }
      memcached_result_free(r);
    }
    mget_checked++;
    if (matched != BATCH && mget_wrong++ < EXAMPLES) {
      report_info("wire memcached: mget round %u returned %u of %u values intact", round, matched,
                  BATCH);
    }
  }
  for (unsigned i = 0; i < BATCH; i++) {
    free(stored[i]);
    stored[i] = NULL;
  }

  report_check(set_failed == 0, "wire memcached: %u sets of values with protocol fragments "
                                "succeeded (%u failed)",
               VALUES - set_failed, set_failed);
  report_check(get_wrong == 0, "wire memcached: %u values (%u containing \"\\r\\nEND\\r\\n\") "
                               "read back intact with get (%u differed)",
               get_checked, with_end, get_wrong);
  report_check(mget_wrong == 0, "wire memcached: %u mget batches of %d read back intact (%u "
                                "differed)",
               mget_checked, BATCH, mget_wrong);
  memcached_free(mc);
}

/* ---- error messages --------------------------------------------------------------------- */

static const char password[] = "s3cr3t-pass";

/* Checks that MC's last error message after a failed call contains neither SECRET_VALUE nor
 * the password. RC is the call's result, which must be a failure. */
static void check_message(memcached_st *mc, memcached_return_t rc, const char *description,
                          const char *secret_value) {
  const char *message = memcached_last_error_message(mc);
  const char *text = message ? message : "";
  int leaks = strstr(text, password) != NULL || (secret_value && strstr(text, secret_value));
  report_check(rc != MEMCACHED_SUCCESS && !leaks,
               "wire error message after %s (%s) contains neither the value nor the password: "
               "\"%.160s\"",
               description, rc_label(rc), text);
}

static memcached_st *handle_for(unsigned short port, int binary, int timeout_ms) {
  memcached_st *mc = memcached_create(NULL);
  memcached_server_add(mc, "127.0.0.1", port);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, (uint64_t)binary);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, (uint64_t)timeout_ms);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, (uint64_t)timeout_ms);
  return mc;
}

static void set_and_check(memcached_st *mc, const char *description, const char *value,
                          size_t len) {
  memcached_return_t rc = memcached_set(mc, "wire:secret", 11, value, len, 0, 0);
  check_message(mc, rc, description, "value-secret-7f3a");
}

static void run_error_messages(void) {
  const char value[] = "value-secret-7f3a and more bytes";
  size_t value_len = sizeof(value) - 1;

  memcached_st *mc = handle_for(dead_port, 0, 300);
  set_and_check(mc, "a set to a port nothing listens on", value, value_len);
  memcached_free(mc);

  capture_set_mode(CAPTURE_SILENT);
  mc = handle_for(capture_port, 0, 300);
  set_and_check(mc, "a set the server never replies to", value, value_len);
  memcached_free(mc);

  capture_set_mode(CAPTURE_CLIENT_ERROR);
  mc = handle_for(capture_port, 0, 300);
  set_and_check(mc, "a set rejected with CLIENT_ERROR", value, value_len);
  memcached_free(mc);
  capture_set_mode(CAPTURE_REPLY);

  /* Larger than memcached's default 1 MB item limit. */
  size_t big_len = 2 * 1024 * 1024;
  char *big = malloc(big_len);
  for (size_t i = 0; i < big_len; i += value_len) {
    memcpy(big + i, value, i + value_len <= big_len ? value_len : big_len - i);
  }
  mc = handle_for(memcached_port, 0, 2000);
  set_and_check(mc, "a set of a value over the server's item size limit", big, big_len);
  memcached_free(mc);
  free(big);

  struct {
    unsigned short port;
    const char *description;
  } sasl_targets[] = {
      {capture_port, "SASL authentication rejected by the server"},
      {memcached_port, "SASL against a memcached without SASL"},
      {dead_port, "SASL with the server down"},
  };
  for (size_t i = 0; i < sizeof(sasl_targets) / sizeof(sasl_targets[0]); i++) {
    mc = handle_for(sasl_targets[i].port, 1, 500);
    memcached_return_t rc = memcached_set_sasl_auth_data(mc, "user", password);
    if (rc != MEMCACHED_SUCCESS) {
      report_check(0, "wire memcached_set_sasl_auth_data returned %s", rc_label(rc));
    }
    char description[128];
    snprintf(description, sizeof(description), "a set with %s", sasl_targets[i].description);
    set_and_check(mc, description, value, value_len);
    size_t len;
    uint32_t flags;
    char *got = memcached_get(mc, "wire:secret", 11, &len, &flags, &rc);
    free(got);
    snprintf(description, sizeof(description), "a get with %s", sasl_targets[i].description);
    check_message(mc, rc, description, "value-secret-7f3a");
    memcached_destroy_sasl_auth_data(mc);
    memcached_free(mc);
  }
  struct capture_stream *streams;
  capture_free(streams, capture_collect(&streams));
}

/* ---- main ------------------------------------------------------------------------------- */

struct phase {
  const char *name;
  int verify;          /* for the capturing-server phases */
  const char *ns;
  void (*run)(const struct phase *phase);
};

static unsigned char *value_buf;
static const size_t value_cap = 100 * 1024;

static void run_config_phase(const struct phase *phase) {
  run_config(phase->verify, phase->ns, value_buf, value_cap);
}

static void run_memcached_phase(const struct phase *phase) {
  (void)phase;
  run_memcached_roundtrip(value_buf, value_cap);
}

static void run_errors_phase(const struct phase *phase) {
  (void)phase;
  run_error_messages();
}

/* Runs PHASE in a child process with its own capturing server, so that a library that
 * crashes fails that phase only. The child sends its pass and fail counts back. */
static void run_isolated(const struct phase *phase, uint64_t seed) {
  int counts[2];
  if (pipe(counts) != 0) {
    report_check(0, "wire %s: pipe() for the child's results", phase->name);
    return;
  }
  fflush(report_out);
  pid_t pid = fork();
  if (pid == 0) {
    close(counts[0]);
    rng_state = seed;
    if (capture_start(capture_port) != 0) {
      report_check(0, "wire %s: the capturing server listens on port %u", phase->name,
                   capture_port);
    } else {
      value_buf = malloc(value_cap);
      phase->run(phase);
      free(value_buf);
      model_clear();
      capture_stop();
    }
    int totals[2] = {report_passed, report_failed};
    ssize_t written = write(counts[1], totals, sizeof(totals));
    fflush(report_out);
    _exit(written == (ssize_t)sizeof(totals) ? 0 : 1);
  }

  close(counts[1]);
  int totals[2] = {0, 0};
  ssize_t got = pid > 0 ? read(counts[0], totals, sizeof(totals)) : -1;
  close(counts[0]);
  int status = 0;
  if (pid > 0) {
    waitpid(pid, &status, 0);
  }

  if (got == (ssize_t)sizeof(totals)) {
    report_add_counts(totals[0], totals[1]);
  } else {
    report_check(0, "wire %s: the phase ran to completion (%s %d)", phase->name,
                 WIFSIGNALED(status) ? "killed by signal" : "exit status",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
  }
}

int main(int argc, char **argv) {
  report_open();
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--capture-port") == 0) {
      capture_port = (unsigned short)atoi(argv[i + 1]);
    } else if (strcmp(argv[i], "--memcached-port") == 0) {
      memcached_port = (unsigned short)atoi(argv[i + 1]);
    } else if (strcmp(argv[i], "--dead-port") == 0) {
      dead_port = (unsigned short)atoi(argv[i + 1]);
    } else if (strcmp(argv[i], "--seed") == 0) {
      rng_state = strtoull(argv[i + 1], NULL, 10);
    } else if (strcmp(argv[i], "--iterations") == 0) {
      iterations = (unsigned)atoi(argv[i + 1]);
    }
  }
  if (capture_port == 0 || memcached_port == 0 || dead_port == 0) {
    report_info("usage: wire --capture-port P --memcached-port M --dead-port D [--seed S] "
                "[--iterations N]");
    report_finish();
    return 2;
  }
  report_info("wire: seed %" PRIu64 ", %u calls per configuration", rng_state, iterations);
  static const struct phase phases[] = {
      {"VERIFY_KEY off, no namespace", 0, NULL, run_config_phase},
      {"VERIFY_KEY off, namespace", 0, "wire.ns:", run_config_phase},
      {"VERIFY_KEY on, no namespace", 1, NULL, run_config_phase},
      {"VERIFY_KEY on, namespace", 1, "wire.ns:", run_config_phase},
      {"memcached round trips", 0, NULL, run_memcached_phase},
      {"error messages", 0, NULL, run_errors_phase},
  };
  uint64_t seed = rng_state;
  for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
    run_isolated(&phases[i], seed + i);
  }
  return report_finish();
}
