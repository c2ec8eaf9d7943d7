/*
 * Server placement: memcached_generate_hash for every row of the CONSISTENT cases in
 * distribution.tsv, the placement vectors recorded from libmemcached 1.1.4. ProFTPD uses
 * MEMCACHED_DISTRIBUTION_CONSISTENT, and a client that places keys differently cannot
 * share a pool with libmemcached clients.
 *
 * The file is read from $MC_VECTORS_DIR/distribution.tsv (run.sh sets the variable). When
 * the file is missing, the program prints one "skipped" line, so both builds still agree.
 *
 * Columns: case_id, servers, distribution, hash, ketama_hash, key_hex, server_index. The
 * setup after the last '@' of case_id describes how the client was built:
 *   bf    behaviors first, then memcached_server_add[_with_weight] for each entry
 *   add   servers first, then behaviors
 *   push  memcached_server_push(memcached_servers_parse(servers)), then behaviors
 *
 * Servers: none (nothing connects; the hosts in the file are only hashed).
 */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

#define MAX_LINE 8192
#define MAX_SHOWN_MISMATCHES 3

static int hash_by_name(const char *name, memcached_hash_t *hash) {
  static const struct {
    const char *name;
    memcached_hash_t value;
  } hashes[] = {
      {"DEFAULT", MEMCACHED_HASH_DEFAULT}, {"MD5", MEMCACHED_HASH_MD5},
      {"CRC", MEMCACHED_HASH_CRC},         {"FNV1_64", MEMCACHED_HASH_FNV1_64},
      {"FNV1A_64", MEMCACHED_HASH_FNV1A_64}, {"FNV1_32", MEMCACHED_HASH_FNV1_32},
      {"FNV1A_32", MEMCACHED_HASH_FNV1A_32}, {"MURMUR", MEMCACHED_HASH_MURMUR},
      {"JENKINS", MEMCACHED_HASH_JENKINS}, {"MURMUR3", MEMCACHED_HASH_MURMUR3},
  };
  for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
    if (strcmp(name, hashes[i].name) == 0) {
      *hash = hashes[i].value;
      return 1;
    }
  }
  return 0;
}

static void set_behaviors(memcached_st *mc, memcached_hash_t hash, const char *ketama_hash) {
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_HASH, hash);
  memcached_hash_t distribution_hash;
  if (strcmp(ketama_hash, "-") != 0 && hash_by_name(ketama_hash, &distribution_hash)) {
    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_KETAMA_HASH, distribution_hash);
  }
}

/* Adds "host[:port[:weight]]" entries one by one, the way the "bf" and "add" setups do. */
static int add_servers(memcached_st *mc, const char *servers) {
  char copy[MAX_LINE];
  snprintf(copy, sizeof(copy), "%s", servers);
  char *save = NULL;
  for (char *entry = strtok_r(copy, ",", &save); entry; entry = strtok_r(NULL, ",", &save)) {
    char *port_text = strchr(entry, ':');
    char *weight_text = NULL;
    in_port_t port = 0;
    if (port_text != NULL) {
      *port_text++ = '\0';
      weight_text = strchr(port_text, ':');
      if (weight_text != NULL) {
        *weight_text++ = '\0';
      }
      port = (in_port_t)strtoul(port_text, NULL, 10);
    }
    memcached_return_t rc;
    if (weight_text != NULL) {
      rc = memcached_server_add_with_weight(mc, entry, port,
                                            (uint32_t)strtoul(weight_text, NULL, 10));
    } else {
      rc = memcached_server_add(mc, entry, port);
    }
    if (rc != MEMCACHED_SUCCESS) {
      return 0;
    }
  }
  return 1;
}

/* Builds the client a case describes; NULL when the case cannot be set up. */
static memcached_st *build_client(const char *case_id, const char *servers, const char *hash_name,
                                  const char *ketama_hash) {
  const char *at = strrchr(case_id, '@');
  memcached_hash_t hash;
  if (at == NULL || !hash_by_name(hash_name, &hash)) {
    return NULL;
  }
  const char *setup = at + 1;
  memcached_st *mc = memcached_create(NULL);
  int ok = 1;
  if (strcmp(setup, "bf") == 0) {
    set_behaviors(mc, hash, ketama_hash);
    ok = add_servers(mc, servers);
  } else if (strcmp(setup, "add") == 0) {
    ok = add_servers(mc, servers);
    set_behaviors(mc, hash, ketama_hash);
  } else if (strcmp(setup, "push") == 0) {
    memcached_server_st *list = memcached_servers_parse(servers);
    ok = list != NULL && memcached_server_push(mc, list) == MEMCACHED_SUCCESS;
    memcached_server_list_free(list);
    set_behaviors(mc, hash, ketama_hash);
  } else {
    ok = 0;
  }
  if (!ok) {
    memcached_free(mc);
    return NULL;
  }
  return mc;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

/* Decodes lowercase hex into KEY; returns the byte count or -1 for malformed input. */
static long decode_hex(const char *hex, char *key, size_t size) {
  size_t len = strlen(hex);
  if (len % 2 != 0 || len / 2 > size) {
    return -1;
  }
  for (size_t i = 0; i < len / 2; i++) {
    int high = hex_value(hex[2 * i]);
    int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) {
      return -1;
    }
    key[i] = (char)(high * 16 + low);
  }
  return (long)(len / 2);
}

/* Splits LINE at tabs in place; empty fields are kept (the empty key is an empty field). */
static int split_tabs(char *line, char *fields[], int max_fields) {
  int count = 0;
  char *start = line;
  while (count < max_fields) {
    fields[count++] = start;
    char *tab = strchr(start, '\t');
    if (tab == NULL) {
      break;
    }
    *tab = '\0';
    start = tab + 1;
  }
  return count;
}

struct case_state {
  char id[512];
  memcached_st *mc;
  long rows;
  long mismatches;
};

static void finish_case(struct case_state *state) {
  if (state->id[0] != '\0') {
    printf("case %s: rows=%ld mismatches=%ld%s\n", state->id, state->rows, state->mismatches,
           state->mc == NULL ? " (client could not be built)" : "");
  }
  memcached_free(state->mc);
  state->mc = NULL;
  state->rows = 0;
  state->mismatches = 0;
  state->id[0] = '\0';
}

int main(void) {
  start_test();
  const char *dir = getenv("MC_VECTORS_DIR");
  char path[4096];
  fmt(path, sizeof(path), "%s/distribution.tsv", dir ? dir : ".");
  FILE *file = fopen(path, "r");
  if (file == NULL) {
    printf("distribution: skipped, distribution.tsv not found in MC_VECTORS_DIR\n");
    return 0;
  }

  static char line[MAX_LINE];
  struct case_state state;
  memset(&state, 0, sizeof(state));
  long total_rows = 0;
  long total_mismatches = 0;
  long malformed = 0;
  int cases = 0;

  while (fgets(line, sizeof(line), file) != NULL) {
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] == '\n') {
      line[--len] = '\0';
    }
    char *fields[8];
    if (split_tabs(line, fields, 8) != 7) {
      malformed++;
      continue;
    }
    const char *case_id = fields[0];
    if (strcmp(case_id, "case_id") == 0 || strcmp(fields[2], "CONSISTENT") != 0) {
      continue;
    }
    if (strcmp(case_id, state.id) != 0) {
      finish_case(&state);
      snprintf(state.id, sizeof(state.id), "%s", case_id);
      state.mc = build_client(case_id, fields[1], fields[3], fields[4]);
      cases++;
    }

    char key[512];
    long key_len = decode_hex(fields[5], key, sizeof(key));
    if (key_len < 0 || state.mc == NULL) {
      malformed++;
      continue;
    }
    uint32_t expected = (uint32_t)strtoul(fields[6], NULL, 10);
    uint32_t got = memcached_generate_hash(state.mc, key, (size_t)key_len);
    state.rows++;
    total_rows++;
    if (got != expected) {
      if (state.mismatches < MAX_SHOWN_MISMATCHES) {
        printf("mismatch case %s key %s: expected server %u, got %u\n", case_id, fields[5],
               expected, got);
      }
      state.mismatches++;
      total_mismatches++;
    }
  }
  finish_case(&state);
  fclose(file);

  printf("distribution CONSISTENT: cases=%d rows=%ld mismatches=%ld malformed=%ld\n", cases,
         total_rows, total_mismatches, malformed);
  return 0;
}
