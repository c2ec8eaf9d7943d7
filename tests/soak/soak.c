/*
 * Soak test: worker threads run a checked workload (set, get, mget, increment, delete)
 * against three memcached servers while run.sh pauses (SIGSTOP) or kills and restarts one
 * server at a time. Binary protocol, CONSISTENT distribution, NUMBER_OF_REPLICAS 1,
 * POLL_TIMEOUT and CONNECT_TIMEOUT 300 ms, RETRY_TIMEOUT 1 s. Half of the workers own a
 * handle, a clone of one master. The other half take a handle from a memcached_pool for
 * every operation, alternating memcached_pool_fetch/release with memcached_pool_pop/push.
 *
 *   soak --ports P1,P2,P3 --seconds N --control FILE --ack FILE [--threads T] [--seed S]
 *
 * Results go to descriptor 3 (see report.h).
 *
 * Keys are unique per worker and slot ("soak:<worker>:<slot>:<generation>"). A stored value
 * starts with "soak t=<worker> s=<slot> g=<generation> v=<version>|" and continues with
 * bytes (any of 0..255, up to 60 KB) derived from those four numbers. So every reply is
 * checked byte for byte, and a reply meant for another worker, key or version is recognised.
 * Counter slots contain a decimal number that encodes worker, slot, generation and count.
 *
 * Server events. run.sh writes the state of every server (up, paused, down) to the control
 * file before it acts, and waits until the monitor thread has read it and written the
 * sequence number to the ack file. Every operation takes a snapshot of these states before
 * and after it runs. The checker can then tell whether a server was paused, down, killed
 * since a write, or back for less than RECENT_EVENT_S seconds, when its retry window may
 * still be open in some handle.
 *
 * What the library can guarantee with one replica, and how each read is judged:
 *
 * - A write (set, delete, increment) that returned an error may or may not have been
 *   applied, now or later. Its bytes can sit in a stopped server's socket until it resumes,
 *   and a set may have reached the replica while the primary failed. So after a failed
 *   write a slot accepts both the acknowledged state and the failed write's state. Its next
 *   write goes to a new key (a new generation), because memcached does not order requests
 *   across connections and the failed write could still overtake it.
 * - Otherwise a read must return exactly the state of the last acknowledged write. The
 *   exceptions below follow from how replication works, not from library faults. They are
 *   printed as LIMIT lines (counted, not failed):
 *   * the key's primary was killed after the write and is back: a restarted memcached is
 *     empty, and nothing copies the replica's data back to it;
 *   * the replica may have served the read without having the write. The primary was
 *     paused, down, or back for less than RECENT_EVENT_S. The replica was paused, down or
 *     recently back during the write, was killed since, or memcached_flush_buffers failed
 *     after the write;
 *   * as above, but the read started less than REPLICA_IN_FLIGHT_S after the write, and
 *     replica copies are sent without waiting for a reply, so a read on another connection
 *     can overtake them;
 *   * as above, but an earlier write of the key went through another handle less than
 *     REPLICA_IN_FLIGHT_S before this one, so its copy could reach the replica after this
 *     write's copy;
 *   * a counter read from the replica: increments are not replicated, only sets are.
 *   A read that must have been served by the primary (no event near it), or by a replica
 *   that has the write (primary down for the whole read, replica undisturbed), gets no
 *   exception: NOTFOUND or an older version there is a lost acknowledged write and fails.
 * - libmemcached 1.1.4 only queues replica copies until the handle is flushed, so every
 *   acknowledged set and delete is followed by memcached_flush_buffers. Without it a copy
 *   can wait in a handle's buffer while the primary fails.
 * - An increment returns the new value from the primary. A result other than the previous
 *   value plus one fails (the increment was applied twice, or to a replica's stale copy).
 * - Return codes: SUCCESS, NOTFOUND (judged as a read) and the connection class
 *   CONNECTION_FAILURE, WRITE_FAILURE, READ_FAILURE, ERRNO, TIMEOUT and
 *   SERVER_TEMPORARILY_DISABLED, plus SOME_ERRORS from mget (keys not delivered then count
 *   as unknown, not as misses). A connection-class error while no server had an event in
 *   the last RECENT_EVENT_S seconds fails, and so does every other code.
 * - During the warm-up (no server event yet) no connection may be closed and opened again:
 *   the servers' total_connections minus curr_connections must not grow.
 * - After the run, with every server up, each worker reads every slot once more (judged as
 *   above), then writes and reads back every slot, which must succeed exactly.
 * - Descriptors: during the run and before the handles are freed, the process holds at
 *   most one socket per handle and server more than before the first handle was made.
 *   After every handle and the pool are freed, it holds exactly as many as before. RSS at
 *   the end is at most RSS_GROWTH_LIMIT_MB above the RSS after the warm-up (WARMUP_S). The
 *   result line prints the growth per operation: a leak has to exceed the limit divided by
 *   the operation count to be caught, and a few bytes per failure are not.
 */
#define _GNU_SOURCE
#include "report.h"

#include <libmemcached/util.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SERVERS 3
#define MAX_WORKERS 16
#define SLOTS 64
/* Every COUNTER_EVERY-th slot is a counter. */
#define COUNTER_EVERY 8
#define MAX_VALUE 61440
#define TIMEOUT_MS 300
/* Longer than RETRY_TIMEOUT (1 s, counted in whole seconds by the library) plus a connect
 * and a poll timeout: after this long without an event no handle skips a server. */
#define RECENT_EVENT_S 4.0
#define REPLICA_IN_FLIGHT_S 0.1
#define WARMUP_S 6.0
#define RSS_GROWTH_LIMIT_MB 16
/* A new generation starts before versions outgrow the counter encoding. */
#define MAX_VERSION 900000
#define DETAILS_PER_KIND 5

/* ---- time and process measurements ------------------------------------------------------ */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double seconds) {
  struct timespec ts;
  ts.tv_sec = (time_t)seconds;
  ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Open descriptors of this process, without the one used to list them. */
static int count_fds(void) {
  DIR *dir = opendir("/proc/self/fd");
  if (dir == NULL) {
    return -1;
  }
  int count = 0;
  struct dirent *entry;
  while ((entry = readdir(dir)) != NULL) {
    if (entry->d_name[0] != '.') {
      count++;
    }
  }
  closedir(dir);
  return count - 1;
}

static long rss_kb(void) {
  FILE *file = fopen("/proc/self/statm", "r");
  if (file == NULL) {
    return -1;
  }
  long size = 0;
  long resident = 0;
  int fields = fscanf(file, "%ld %ld", &size, &resident);
  fclose(file);
  if (fields != 2) {
    return -1;
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ---- server states from run.sh ---------------------------------------------------------- */

struct server_view {
  uint64_t kills;  /* kill events begun */
  uint64_t events; /* pause and kill events begun */
  int in_event;    /* paused or down */
  int down;        /* killed and not yet restarted */
  double last_end; /* when the last event ended; 0 before the first */
};

struct snapshot {
  double t;
  struct server_view server[SERVERS];
};

static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static struct server_view servers_now[SERVERS];
static uint64_t pauses_seen[SERVERS];

static void take_snapshot(struct snapshot *snap) {
  pthread_mutex_lock(&state_lock);
  memcpy(snap->server, servers_now, sizeof(servers_now));
  pthread_mutex_unlock(&state_lock);
  snap->t = now_s();
}

/* True when a handle may have skipped server I during the interval BEFORE..AFTER: it was
 * paused or down, an event began meanwhile, or its last event ended recently. */
static int disturbed(unsigned i, const struct snapshot *before, const struct snapshot *after) {
  const struct server_view *b = &before->server[i];
  const struct server_view *a = &after->server[i];
  return b->in_event || a->in_event || b->events != a->events ||
         (b->last_end > 0 && before->t - b->last_end < RECENT_EVENT_S);
}

static int any_disturbed(const struct snapshot *before, const struct snapshot *after) {
  for (unsigned i = 0; i < SERVERS; i++) {
    if (disturbed(i, before, after)) {
      return 1;
    }
  }
  return 0;
}

/* Applies one control line "SEQ STATE STATE STATE" (up, paused, down). Returns SEQ, or -1
 * when the line is malformed. */
static long apply_control_line(const char *line) {
  long seq;
  char names[SERVERS][16];
  if (sscanf(line, "%ld %15s %15s %15s", &seq, names[0], names[1], names[2]) != 4) {
    return -1;
  }
  double t = now_s();
  pthread_mutex_lock(&state_lock);
  for (unsigned i = 0; i < SERVERS; i++) {
    struct server_view *s = &servers_now[i];
    int paused = strcmp(names[i], "paused") == 0;
    int down = strcmp(names[i], "down") == 0;
    if ((paused || down) && !s->in_event) {
      s->events++;
      s->in_event = 1;
      if (down) {
        s->kills++;
      } else {
        pauses_seen[i]++;
      }
    } else if (!paused && !down && s->in_event) {
      s->in_event = 0;
      s->last_end = t;
    }
    s->down = down;
  }
  pthread_mutex_unlock(&state_lock);
  return seq;
}

/* ---- configuration and shared state ----------------------------------------------------- */

static in_port_t ports[SERVERS];
static double run_seconds = 120;
static const char *control_path;
static const char *ack_path;
static unsigned worker_count = 6;
static uint64_t seed = 1;

static atomic_int stop_workload;
static atomic_int stop_monitor;
static double start_time;

static memcached_pool_st *pool;

static long rss_after_warmup = -1;
static long warmup_closed_start = -1;
static long warmup_closed_end = -1;
static long rss_max = -1;
static int fds_max = -1;

static int details_printed[32];

/* Prints one detail line for outcome class KIND; the first DETAILS_PER_KIND of each only. */
static void detail(unsigned kind, const char *format, ...) {
  pthread_mutex_lock(&report_lock);
  int show = details_printed[kind % 32] < DETAILS_PER_KIND;
  details_printed[kind % 32]++;
  pthread_mutex_unlock(&report_lock);
  if (show) {
    va_list args;
    va_start(args, format);
    report_vline("INFO detail:", format, args);
    va_end(args);
  }
}

/* ---- values ----------------------------------------------------------------------------- */

static uint64_t splitmix(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/* The value stored by version VERSION of a value slot; returns its length. */
static size_t make_value(char *buf, unsigned worker, unsigned slot, unsigned gen,
                         uint64_t version) {
  int header = snprintf(buf, 96, "soak t=%u s=%u g=%u v=%" PRIu64 "|", worker, slot, gen,
                        version);
  uint64_t state = ((uint64_t)worker << 48) ^ ((uint64_t)slot << 40) ^ ((uint64_t)gen << 24) ^
                   version ^ 0x5EED;
  uint64_t pick = splitmix(&state);
  size_t filler = (pick % 32 == 0) ? 2000 + (size_t)(pick >> 8) % (MAX_VALUE - 2100)
                                   : (size_t)(pick >> 8) % 300;
  for (size_t i = 0; i < filler; i++) {
    buf[header + i] = (char)(splitmix(&state) & 0xff);
  }
  return (size_t)header + filler;
}

static uint32_t value_flags(unsigned worker, unsigned slot, uint64_t version) {
  return ((uint32_t)worker << 24) | ((uint32_t)slot << 16) | (uint32_t)(version & 0xffff);
}

static uint32_t counter_flags(unsigned worker, unsigned slot) {
  return ((uint32_t)worker << 24) | ((uint32_t)slot << 16) | 0xffffu;
}

/* A counter's number: identity in the high digits, COUNT (< 10^9) in the low nine. */
static uint64_t counter_number(unsigned worker, unsigned slot, unsigned gen, uint64_t count) {
  return ((uint64_t)(worker + 1) * 1000 + slot) * 1000000000000ULL +
         (uint64_t)(gen % 1000) * 1000000000ULL + count;
}

/* ---- slots and their expected state ----------------------------------------------------- */

/* A key's state: absent, or present with ID. For values the ID is version * 1000. For
 * counters it is the count: version * 1000 at a set, plus one per increment. A delete gets
 * ID version * 1000 too, so the IDs of one generation are ordered like its writes. */
struct state {
  int present;
  uint64_t id;
};

struct write_context {
  uint64_t primary_kills; /* see surviving_kills */
  uint64_t replica_kills;
  int replica_doubtful;   /* the replica may not have received the copy */
  int copies_may_cross;   /* an earlier write's copy may reach the replica after this one */
  double end;
  const void *handle;     /* the handle that sent it */
  /* The latest earlier write sent by a handle other than `handle` (NULL: none). */
  double other_end;
  const void *other_handle;
};

/* One operation on a slot, kept for failure details. */
struct history_entry {
  double start;  /* seconds since the program started */
  double duration;
  int op;
  memcached_return_t rc;
  uint64_t id;   /* state written, or read (UINT64_MAX: none, absent: UINT64_MAX - 1) */
  const void *handle;
  /* Local ports of the handle's connections to the primary and the replica, before and after
   * the operation (0: not connected), which show reconnections. */
  in_port_t primary_port[2];
  in_port_t replica_port[2];
};

#define HISTORY 8

struct slot {
  unsigned index;
  unsigned gen;
  int counter;
  char key[64];
  size_t key_len;
  unsigned primary;
  unsigned replica;
  uint64_t next_version;
  struct state acked; /* absent with ID 0: never written */
  uint64_t seed_id;   /* counters: ID stored by the last acknowledged set */
  int unsettled;      /* the last write failed, and FAILED is the state it would leave */
  struct state failed;
  int needs_write;    /* data known lost: the next operation stores it again */
  struct write_context written;
  struct history_entry history[HISTORY];
  unsigned history_count;
};

enum outcome {
  OK_EXACT,
  OK_FAILED_WRITE,
  LIMIT_PRIMARY_RESTARTED,
  LIMIT_REPLICA_MISSED,
  LIMIT_REPLICA_IN_FLIGHT,
  LIMIT_REPLICA_ORDER,
  LIMIT_COUNTER_NOT_REPLICATED,
  FAIL_FOREIGN,
  FAIL_CORRUPT,
  FAIL_PHANTOM,
  FAIL_LOST,
  FAIL_STALE,
  FAIL_BAD_CODE,
  FAIL_ERROR_WHILE_HEALTHY,
  FAIL_POOL,
  FAIL_INCREMENT,
  FAIL_DUPLICATE,
  FAIL_FINAL_WRITE,
  OUTCOMES
};

static const char *const outcome_names[OUTCOMES] = {
    "exact",
    "failed write seen",
    "primary restarted empty since the write",
    "read from a replica that missed the write",
    "read overtook the replica copy",
    "replica copies of two writes may have crossed",
    "counter read from a replica (increments are not replicated)",
    "value of another key or worker",
    "value bytes or flags differ from what was stored",
    "version that was never written",
    "acknowledged write lost (NOTFOUND)",
    "older version than the last acknowledged write",
    "unexpected return code",
    "connection error while every server was healthy",
    "pool fetch failed",
    "increment result is not the previous value plus one",
    "mget returned a key twice",
    "write or read-back after the run failed",
};

enum op { OP_SET, OP_GET, OP_MGET, OP_INCR, OP_DELETE, OPS };
static const char *const op_names[OPS] = {"set", "get", "mget", "increment", "delete"};

#define RC_SLOTS 64

struct worker {
  unsigned id;
  int pooled;
  pthread_t thread;
  memcached_st *own;
  memcached_st *hasher; /* unconnected clone, only for memcached_generate_hash */
  struct slot slots[SLOTS];
  uint64_t rng;
  uint64_t op_count[OPS];
  uint64_t rc_count[RC_SLOTS];
  uint64_t outcomes[OUTCOMES];
  uint64_t read_errors_with_healthy_replica;
  uint64_t handle_uses;
  char *buf;
};

static struct worker workers[MAX_WORKERS];

static void new_generation(struct worker *w, struct slot *s) {
  s->gen++;
  s->key_len = (size_t)snprintf(s->key, sizeof(s->key), "soak:%u:%u:%u", w->id, s->index, s->gen);
  s->primary = memcached_generate_hash(w->hasher, s->key, s->key_len) % SERVERS;
  s->replica = (s->primary + 1) % SERVERS;
  s->next_version = 1;
  s->acked.present = 0;
  s->acked.id = 0;
  s->seed_id = 0;
  s->unsettled = 0;
  s->needs_write = 0;
  memset(&s->written, 0, sizeof(s->written));
}

static int connection_class(memcached_return_t rc) {
  switch (rc) {
  case MEMCACHED_CONNECTION_FAILURE:
  case MEMCACHED_WRITE_FAILURE:
  case MEMCACHED_READ_FAILURE:
  case MEMCACHED_ERRNO:
  case MEMCACHED_TIMEOUT:
  case MEMCACHED_SERVER_TEMPORARILY_DISABLED:
    return 1;
  default:
    return 0;
  }
}

static enum outcome decode_value(const struct worker *w, const struct slot *s, const char *value,
                                 size_t len, uint32_t flags, uint64_t *id, char *reason,
                                 size_t why_size);

static void describe_server(char *out, size_t size, const char *role, unsigned i,
                            const struct snapshot *snap) {
  const struct server_view *v = &snap->server[i];
  const char *state = "up";
  if (v->down) {
    state = "down";
  } else if (v->in_event) {
    state = "paused";
  }
  snprintf(out, size, "%s %u %s, last event end %.2f s before", role, i, state,
           v->last_end > 0 ? snap->t - v->last_end : -1.0);
}

/* Failure descriptions open files and sockets of their own. This counter is odd while one
 * runs and grows with each, and the monitor drops a descriptor count made while it changed. */
static atomic_ulong probe_activity;
static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
/* Connections the probes opened and closed, left out of the reconnection check. */
static atomic_long probe_connections;

/* Appends what each server has for S's key, read through a new single-server handle. Only
 * used for failure details. */
static void describe_copies(const struct worker *w, const struct slot *s, char *out, size_t size) {
  size_t used = strlen(out);
  for (unsigned i = 0; i < SERVERS && used < size; i++) {
    memcached_st *mc = memcached_create(NULL);
    memcached_server_add(mc, "127.0.0.1", ports[i]);
    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1);
    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, TIMEOUT_MS);
    memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, TIMEOUT_MS);
    size_t len = 0;
    uint32_t flags = 0;
    memcached_return_t rc;
    char *value = memcached_get(mc, s->key, s->key_len, &len, &flags, &rc);
    char held[64];
    uint64_t id = 0;
    char reason[160];
    enum outcome decoded = FAIL_FOREIGN;
    if (rc == MEMCACHED_SUCCESS) {
      decoded = decode_value(w, s, value ? value : "", len, flags, &id, reason, sizeof(reason));
    }
    if (decoded == OK_EXACT) {
      snprintf(held, sizeof(held), "id %" PRIu64, id);
    } else {
      snprintf(held, sizeof(held), "%s", rc == MEMCACHED_SUCCESS ? "undecodable" : rc_label(rc));
    }
    free(value);
    memcached_free(mc);
    if (rc == MEMCACHED_SUCCESS || rc == MEMCACHED_NOTFOUND) {
      atomic_fetch_add(&probe_connections, 1);
    }
    used += (size_t)snprintf(out + used, size - used, "%sserver %u: %s", i ? ", " : "; now ", i,
                             held);
  }
}

static in_port_t local_port(memcached_st *mc, unsigned server) {
  return memcached_server_srcport(memcached_server_instance_by_position(mc, server));
}

/* Starts a history entry for an operation on S through MC. */
static struct history_entry history_begin(const struct slot *s, memcached_st *mc, int op) {
  struct history_entry e;
  memset(&e, 0, sizeof(e));
  e.start = now_s() - start_time;
  e.op = op;
  e.handle = mc;
  e.primary_port[0] = local_port(mc, s->primary);
  e.replica_port[0] = local_port(mc, s->replica);
  e.id = UINT64_MAX;
  return e;
}

static void history_end(struct slot *s, memcached_st *mc, struct history_entry *e,
                        memcached_return_t rc, uint64_t id) {
  e->duration = now_s() - start_time - e->start;
  e->rc = rc;
  e->id = id;
  e->primary_port[1] = local_port(mc, s->primary);
  e->replica_port[1] = local_port(mc, s->replica);
  s->history[s->history_count++ % HISTORY] = *e;
}

static int history_dumps;

/* Prints the last operations on S, for the first few failures only. */
static void dump_history(const struct worker *w, const struct slot *s) {
  pthread_mutex_lock(&report_lock);
  int show = history_dumps < 8;
  history_dumps++;
  pthread_mutex_unlock(&report_lock);
  if (!show) {
    return;
  }
  unsigned first = s->history_count > HISTORY ? s->history_count - HISTORY : 0;
  for (unsigned i = first; i < s->history_count; i++) {
    const struct history_entry *e = &s->history[i % HISTORY];
    char id[32];
    if (e->id == UINT64_MAX) {
      snprintf(id, sizeof(id), "-");
    } else if (e->id == UINT64_MAX - 1) {
      snprintf(id, sizeof(id), "absent");
    } else {
      snprintf(id, sizeof(id), "%" PRIu64, e->id);
    }
    report_info("history: worker %u key %s: at %.3f s for %.3f s %s -> %s id %s, handle %p, "
                "primary port %u->%u, replica port %u->%u",
                w->id, s->key, e->start, e->duration, op_names[e->op], rc_label(e->rc), id,
                e->handle, e->primary_port[0], e->primary_port[1], e->replica_port[0],
                e->replica_port[1]);
  }
}

/* The handle of the operation being judged, for failure details. */
static __thread memcached_st *current_handle;

/* The remote port of this host's TCP connection with local port LOCAL, from /proc/net/tcp
 * (0 when none is found). */
static unsigned peer_port(in_port_t local) {
  FILE *file = fopen("/proc/net/tcp", "r");
  if (file == NULL || local == 0) {
    if (file != NULL) {
      fclose(file);
    }
    return 0;
  }
  char line[512];
  unsigned found = 0;
  while (fgets(line, sizeof(line), file) != NULL) {
    unsigned local_addr;
    unsigned local_port_value;
    unsigned remote_addr;
    unsigned remote_port;
    if (sscanf(line, " %*d: %8X:%4X %8X:%4X", &local_addr, &local_port_value, &remote_addr,
               &remote_port) == 4 &&
        local_port_value == local && remote_port != 0) {
      found = remote_port;
    }
  }
  fclose(file);
  return found;
}

/* Appends the handle's last error for servers P and R. */
static void describe_handle(const struct slot *s, char *out, size_t size) {
  size_t used = strlen(out);
  if (current_handle == NULL || used >= size) {
    return;
  }
  const memcached_instance_st *p =
      memcached_server_instance_by_position(current_handle, s->primary);
  const memcached_instance_st *r =
      memcached_server_instance_by_position(current_handle, s->replica);
  const char *p_error = p ? memcached_server_error(p) : NULL;
  const char *r_error = r ? memcached_server_error(r) : NULL;
  uint32_t mapped = memcached_generate_hash(current_handle, s->key, s->key_len);
  unsigned p_peer = peer_port(local_port(current_handle, s->primary));
  unsigned r_peer = peer_port(local_port(current_handle, s->replica));
  snprintf(out + used, size - used,
           "; the handle maps the key to server %u; its connection for the primary (port %u) "
           "goes to port %u, for the replica (port %u) to port %u; its last errors: primary "
           "\"%s\", replica \"%s\"",
           mapped, ports[s->primary], p_peer, ports[s->replica], r_peer, p_error ? p_error : "",
           r_error ? r_error : "");
}

static void count_outcome_at(struct worker *w, enum outcome o, const struct slot *s,
                             const char *description, const struct snapshot *before,
                             const struct snapshot *after) {
  w->outcomes[o]++;
  if (o < LIMIT_PRIMARY_RESTARTED) {
    return;
  }
  char context[1024] = "";
  if (s != NULL && before != NULL) {
    char primary[96];
    char replica[96];
    describe_server(primary, sizeof(primary), "primary", s->primary, after);
    describe_server(replica, sizeof(replica), "replica", s->replica, after);
    snprintf(context, sizeof(context),
             "; %s; %s; last write ended %.3f s before the request, read took %.3f s", primary,
             replica, s->written.end > 0 ? before->t - s->written.end : -1.0,
             after->t - before->t);
    if (o >= FAIL_FOREIGN && details_printed[o % 32] < DETAILS_PER_KIND) {
      pthread_mutex_lock(&probe_lock);
      atomic_fetch_add(&probe_activity, 1);
      describe_handle(s, context, sizeof(context));
      describe_copies(w, s, context, sizeof(context));
      atomic_fetch_add(&probe_activity, 1);
      pthread_mutex_unlock(&probe_lock);
    }
  }
  int with_history = s != NULL && o >= FAIL_FOREIGN && details_printed[o % 32] < DETAILS_PER_KIND;
  detail(o, "worker %u key %s: %s: %s%s", w->id, s ? s->key : "-", outcome_names[o], description,
         context);
  if (with_history) {
    dump_history(w, s);
  }
}

static void count_outcome(struct worker *w, enum outcome o, const struct slot *s,
                          const char *description) {
  count_outcome_at(w, o, s, description, NULL, NULL);
}

/* Judges a state read for slot S that differs from what the slot accepts. */
static enum outcome judge_difference(const struct slot *s, const struct state *read,
                                     const struct snapshot *before, const struct snapshot *after) {
  unsigned p = s->primary;
  unsigned r = s->replica;
  int primary_down_throughout = before->server[p].down && after->server[p].down &&
                                before->server[p].events == after->server[p].events;
  if (after->server[p].kills != s->written.primary_kills && !primary_down_throughout) {
    return LIMIT_PRIMARY_RESTARTED;
  }
  if (!disturbed(p, before, after)) {
    return read->present ? FAIL_STALE : FAIL_LOST;
  }
  if (s->written.replica_doubtful || after->server[r].kills != s->written.replica_kills) {
    return LIMIT_REPLICA_MISSED;
  }
  if (s->counter && read->present && read->id == s->seed_id) {
    return LIMIT_COUNTER_NOT_REPLICATED;
  }
  if (before->t - s->written.end < REPLICA_IN_FLIGHT_S) {
    return LIMIT_REPLICA_IN_FLIGHT;
  }
  if (s->written.copies_may_cross) {
    return LIMIT_REPLICA_ORDER;
  }
  return read->present ? FAIL_STALE : FAIL_LOST;
}

static enum outcome judge_state(const struct slot *s, const struct state *read,
                                const struct snapshot *before, const struct snapshot *after) {
  if (read->present == s->acked.present && (!read->present || read->id == s->acked.id)) {
    return OK_EXACT;
  }
  if (s->unsettled && read->present == s->failed.present &&
      (!read->present || read->id == s->failed.id)) {
    return OK_FAILED_WRITE;
  }
  if (read->present && read->id > s->acked.id) {
    return FAIL_PHANTOM;
  }
  return judge_difference(s, read, before, after);
}

/* Decodes a stored value or counter for slot S. Returns OK_EXACT when it is well formed
 * and belongs to S (ID in *ID), or the failure outcome. */
static enum outcome decode_value(const struct worker *w, const struct slot *s, const char *value,
                                 size_t len, uint32_t flags, uint64_t *id, char *reason,
                                 size_t why_size) {
  if (s->counter) {
    char digits[24];
    /* memcached pads a counter with spaces when an increment shortens it in place. */
    while (len > 0 && value[len - 1] == ' ') {
      len--;
    }
    if (len == 0 || len >= sizeof(digits)) {
      snprintf(reason, why_size, "counter value of %zu bytes", len);
      return FAIL_FOREIGN;
    }
    for (size_t i = 0; i < len; i++) {
      if (value[i] < '0' || value[i] > '9') {
        snprintf(reason, why_size, "counter value is not a number");
        return FAIL_FOREIGN;
      }
    }
    memcpy(digits, value, len);
    digits[len] = '\0';
    uint64_t number = strtoull(digits, NULL, 10);
    uint64_t base = counter_number(w->id, s->index, s->gen, 0);
    if (number < base || number - base >= 1000000000ULL) {
      snprintf(reason, why_size, "counter %" PRIu64 " outside this key's range", number);
      return FAIL_FOREIGN;
    }
    if (flags != counter_flags(w->id, s->index)) {
      snprintf(reason, why_size, "counter flags 0x%x", flags);
      return FAIL_CORRUPT;
    }
    *id = number - base;
    return OK_EXACT;
  }

  char header[96];
  size_t shown = len < sizeof(header) - 1 ? len : sizeof(header) - 1;
  memcpy(header, value, shown);
  header[shown] = '\0';
  unsigned worker;
  unsigned slot;
  unsigned gen;
  uint64_t version;
  int used = 0;
  if (sscanf(header, "soak t=%u s=%u g=%u v=%" SCNu64 "|%n", &worker, &slot, &gen, &version,
             &used) != 4 ||
      used == 0) {
    snprintf(reason, why_size, "value of %zu bytes without a soak header", len);
    return FAIL_FOREIGN;
  }
  if (worker != w->id || slot != s->index || gen != s->gen) {
    snprintf(reason, why_size, "value of worker %u slot %u generation %u", worker, slot, gen);
    return FAIL_FOREIGN;
  }
  char *expected = malloc(MAX_VALUE + 128);
  size_t expected_len = make_value(expected, worker, slot, gen, version);
  int same = expected_len == len && memcmp(expected, value, len) == 0;
  free(expected);
  if (!same) {
    snprintf(reason, why_size, "version %" PRIu64 ": %zu bytes, %zu expected, or other bytes",
             version, len, expected_len);
    return FAIL_CORRUPT;
  }
  if (flags != value_flags(worker, slot, version)) {
    snprintf(reason, why_size, "version %" PRIu64 ": flags 0x%x", version, flags);
    return FAIL_CORRUPT;
  }
  *id = version * 1000;
  return OK_EXACT;
}

/* Judges one read of slot S: FOUND with VALUE, or a miss. */
/* HISTORY, when not NULL, is the operation's history entry, completed here with what was
 * read before the read is judged. */
static enum outcome check_read(struct worker *w, struct slot *s, int found, const char *value,
                               size_t len, uint32_t flags, const struct snapshot *before,
                               const struct snapshot *after, const char *op,
                               struct history_entry *history, memcached_st *mc) {
  struct state read = {0, 0};
  char reason[160];
  enum outcome decoded = OK_EXACT;
  if (found) {
    decoded = decode_value(w, s, value, len, flags, &read.id, reason, sizeof(reason));
    read.present = 1;
  }
  if (history != NULL) {
    uint64_t seen = read.present ? read.id : UINT64_MAX - 1;
    history_end(s, mc, history, found ? MEMCACHED_SUCCESS : MEMCACHED_NOTFOUND,
                decoded != OK_EXACT ? UINT64_MAX : seen);
  }
  if (decoded != OK_EXACT) {
    count_outcome_at(w, decoded, s, reason, before, after);
    return decoded;
  }
  enum outcome o = judge_state(s, &read, before, after);
  if (o == LIMIT_PRIMARY_RESTARTED) {
    s->needs_write = 1;
  }
  char description[200];
  snprintf(description, sizeof(description),
           "%s read %s id %" PRIu64 ", acknowledged %s id %" PRIu64 "%s, replica doubtful %d",
           op, read.present ? "present" : "absent", read.id,
           s->acked.present ? "present" : "absent", s->acked.id,
           s->unsettled ? " (after a failed write)" : "", s->written.replica_doubtful);
  count_outcome_at(w, o, s, description, before, after);
  return o;
}

/* Counts RC. Returns 1 when it is SUCCESS, NOTFOUND (if ALLOW_NOTFOUND) or a
 * connection-class error, which the caller then handles; fails the check otherwise. */
static int acceptable_code(struct worker *w, const struct slot *s, memcached_return_t rc,
                           int allow_notfound, const struct snapshot *before,
                           const struct snapshot *after, const char *op) {
  w->rc_count[(size_t)rc < RC_SLOTS ? (size_t)rc : RC_SLOTS - 1]++;
  if (rc == MEMCACHED_SUCCESS || (allow_notfound && rc == MEMCACHED_NOTFOUND)) {
    return 1;
  }
  char description[128];
  /* mget reports that some servers could not be asked with SOME_ERRORS. */
  int multi_server = strcmp(op, "mget") == 0 && rc == MEMCACHED_SOME_ERRORS;
  if (!connection_class(rc) && !multi_server) {
    snprintf(description, sizeof(description), "%s returned %s", op, rc_label(rc));
    count_outcome(w, FAIL_BAD_CODE, s, description);
    return 0;
  }
  if (!any_disturbed(before, after)) {
    snprintf(description, sizeof(description), "%s returned %s", op, rc_label(rc));
    count_outcome(w, FAIL_ERROR_WHILE_HEALTHY, s, description);
  }
  return 1;
}

/* ---- handles ---------------------------------------------------------------------------- */

static memcached_st *acquire(struct worker *w) {
  if (!w->pooled) {
    return w->own;
  }
  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  memcached_st *mc;
  w->handle_uses++;
  if (w->handle_uses % 2 == 0) {
    struct timespec wait = {5, 0};
    mc = memcached_pool_fetch(pool, &wait, &rc);
  } else {
    mc = memcached_pool_pop(pool, true, &rc);
  }
  if (mc == NULL || rc != MEMCACHED_SUCCESS) {
    char description[96];
    snprintf(description, sizeof(description), "returned %s, handle %s", rc_label(rc),
             mc ? "set" : "NULL");
    count_outcome(w, FAIL_POOL, NULL, description);
    if (mc != NULL) {
      memcached_pool_release(pool, mc);
    }
    return NULL;
  }
  return mc;
}

static void release(struct worker *w, memcached_st *mc) {
  if (!w->pooled) {
    return;
  }
  memcached_return_t rc = (w->handle_uses % 2 == 0) ? memcached_pool_release(pool, mc)
                                                    : memcached_pool_push(pool, mc);
  if (rc != MEMCACHED_SUCCESS) {
    char description[96];
    snprintf(description, sizeof(description), "giving the handle back returned %s", rc_label(rc));
    count_outcome(w, FAIL_POOL, NULL, description);
  }
}

/* ---- operations ------------------------------------------------------------------------- */

/* Kills of server P that the data of a write acknowledged after BEFORE survives. A kill is
 * announced before it happens, so a write that starts after the announcement can still be
 * acknowledged by the process about to be killed. */
static uint64_t surviving_kills(const struct snapshot *before, unsigned p) {
  const struct server_view *v = &before->server[p];
  return v->kills - (v->down ? 1 : 0);
}

/* After an acknowledged set or delete: sends queued replica copies and records the write. */
static void record_write(struct worker *w, struct slot *s, memcached_st *mc,
                         const struct snapshot *before, struct state result) {
  memcached_return_t flush_rc = memcached_flush_buffers(mc);
  struct snapshot after;
  take_snapshot(&after);
  acceptable_code(w, s, flush_rc, 0, before, &after, "memcached_flush_buffers");
  /* A recent write's copy, sent on another handle's connection, may not have reached the
   * replica yet, and memcached does not order requests across connections. The latest write
   * by another handle is the last write, or `other_handle`'s when this handle sent the last. */
  const void *other = s->written.handle;
  double other_end = s->written.end;
  if (other == (const void *)mc) {
    other = s->written.other_handle;
    other_end = s->written.other_end;
  }
  int copies_may_cross = other != NULL && before->t - other_end < REPLICA_IN_FLIGHT_S;
  if (s->written.handle != NULL && s->written.handle != (const void *)mc) {
    s->written.other_handle = s->written.handle;
    s->written.other_end = s->written.end;
  }

  s->acked = result;
  s->unsettled = 0;
  s->needs_write = 0;
  s->written.primary_kills = surviving_kills(before, s->primary);
  s->written.replica_kills = before->server[s->replica].kills;
  s->written.replica_doubtful = disturbed(s->replica, before, &after) ||
                                flush_rc != MEMCACHED_SUCCESS;
  s->written.copies_may_cross = copies_may_cross;
  s->written.end = after.t;
  s->written.handle = mc;
}

static void do_set(struct worker *w, struct slot *s, memcached_st *mc, int strict) {
  uint64_t version = s->next_version++;
  size_t len;
  uint32_t flags;
  uint64_t id = version * 1000;
  if (s->counter) {
    len = (size_t)sprintf(w->buf, "%" PRIu64, counter_number(w->id, s->index, s->gen, id));
    flags = counter_flags(w->id, s->index);
  } else {
    len = make_value(w->buf, w->id, s->index, s->gen, version);
    flags = value_flags(w->id, s->index, version);
  }

  struct snapshot before;
  struct snapshot after;
  struct history_entry history = history_begin(s, mc, OP_SET);
  take_snapshot(&before);
  memcached_return_t rc = memcached_set(mc, s->key, s->key_len, w->buf, len, 0, flags);
  take_snapshot(&after);
  history_end(s, mc, &history, rc, id);
  w->op_count[OP_SET]++;

  struct state result = {1, id};
  if (rc == MEMCACHED_SUCCESS) {
    record_write(w, s, mc, &before, result);
    if (s->counter) {
      s->seed_id = id;
    }
    return;
  }
  if (strict) {
    char description[96];
    snprintf(description, sizeof(description), "set returned %s", rc_label(rc));
    count_outcome(w, FAIL_FINAL_WRITE, s, description);
  } else {
    acceptable_code(w, s, rc, 0, &before, &after, "set");
  }
  s->unsettled = 1;
  s->failed = result;
}

/* Reads slot S. STRICT (after the run): anything but the exact acknowledged value fails. */
static void do_get(struct worker *w, struct slot *s, memcached_st *mc, int strict) {
  struct snapshot before;
  struct snapshot after;
  size_t len = 0;
  uint32_t flags = 0;
  memcached_return_t rc = MEMCACHED_MAXIMUM_RETURN;
  struct history_entry history = history_begin(s, mc, OP_GET);
  take_snapshot(&before);
  char *value = memcached_get(mc, s->key, s->key_len, &len, &flags, &rc);
  take_snapshot(&after);
  w->op_count[OP_GET]++;

  enum outcome o = OUTCOMES;
  if (rc == MEMCACHED_SUCCESS || rc == MEMCACHED_NOTFOUND) {
    w->rc_count[rc]++;
    int found = rc == MEMCACHED_SUCCESS;
    /* No stored value is empty, so a NULL value with SUCCESS is judged as an empty one. */
    o = check_read(w, s, found, value ? value : "", found ? len : 0, flags, &before, &after,
                   "get", &history, mc);
  } else if (!strict) {
    history_end(s, mc, &history, rc, UINT64_MAX);
    acceptable_code(w, s, rc, 0, &before, &after, "get");
    if (!disturbed(s->replica, &before, &after)) {
      w->read_errors_with_healthy_replica++;
    }
  }
  if (strict && o == OUTCOMES) {
    history_end(s, mc, &history, rc, UINT64_MAX);
  }
  if (strict && (o != OK_EXACT || !s->acked.present)) {
    char description[96];
    snprintf(description, sizeof(description), "read-back returned %s", rc_label(rc));
    count_outcome(w, FAIL_FINAL_WRITE, s, description);
  }
  free(value);
}

static struct slot *slot_of_key(struct worker *w, const char *key, size_t key_len) {
  for (unsigned i = 0; i < SLOTS; i++) {
    struct slot *s = &w->slots[i];
    if (s->key_len == key_len && memcmp(s->key, key, key_len) == 0) {
      return s;
    }
  }
  return NULL;
}

static void do_mget(struct worker *w, memcached_st *mc) {
  enum { MAX_KEYS = 8 };
  struct slot *chosen[MAX_KEYS];
  const char *keys[MAX_KEYS];
  size_t lengths[MAX_KEYS];
  int seen[MAX_KEYS] = {0};
  unsigned count = 2 + (unsigned)(splitmix(&w->rng) % (MAX_KEYS - 1));
  unsigned n = 0;
  while (n < count) {
    struct slot *s = &w->slots[splitmix(&w->rng) % SLOTS];
    int duplicate = 0;
    for (unsigned i = 0; i < n; i++) {
      duplicate |= chosen[i] == s;
    }
    if (!duplicate) {
      chosen[n] = s;
      keys[n] = s->key;
      lengths[n] = s->key_len;
      n++;
    }
  }

  struct snapshot before;
  struct snapshot after;
  struct history_entry history[MAX_KEYS];
  for (unsigned i = 0; i < n; i++) {
    history[i] = history_begin(chosen[i], mc, OP_MGET);
  }
  take_snapshot(&before);
  memcached_return_t rc = memcached_mget(mc, keys, lengths, n);
  w->op_count[OP_MGET]++;
  memcached_return_t fetch_rc = MEMCACHED_SUCCESS;
  for (;;) {
    memcached_result_st *result = memcached_fetch_result(mc, NULL, &fetch_rc);
    if (result == NULL) {
      break;
    }
    const char *key = memcached_result_key_value(result);
    size_t key_len = memcached_result_key_length(result);
    struct slot *s = slot_of_key(w, key, key_len);
    unsigned index = MAX_KEYS;
    for (unsigned i = 0; i < n; i++) {
      if (chosen[i] == s) {
        index = i;
      }
    }
    struct snapshot now;
    take_snapshot(&now);
    if (index == MAX_KEYS) {
      count_outcome(w, FAIL_FOREIGN, NULL, "mget returned a key that was not requested");
    } else if (seen[index]) {
      count_outcome(w, FAIL_DUPLICATE, s, "second result for the key");
    } else {
      seen[index] = 1;
      const char *value = memcached_result_value(result);
      check_read(w, s, 1, value ? value : "", memcached_result_length(result),
                 memcached_result_flags(result), &before, &now, "mget", &history[index], mc);
    }
    memcached_result_free(result);
  }
  take_snapshot(&after);
  if (!acceptable_code(w, NULL, rc, 0, &before, &after, "mget")) {
    return;
  }
  int clean_end = fetch_rc == MEMCACHED_END || fetch_rc == MEMCACHED_NOTFOUND;
  if (!clean_end) {
    acceptable_code(w, NULL, fetch_rc, 0, &before, &after, "memcached_fetch_result");
  }
  if (rc != MEMCACHED_SUCCESS || !clean_end) {
    /* Keys not delivered are unknown, not absent. */
    for (unsigned i = 0; i < n; i++) {
      if (!seen[i]) {
        history_end(chosen[i], mc, &history[i], rc != MEMCACHED_SUCCESS ? rc : fetch_rc,
                    UINT64_MAX);
      }
    }
    return;
  }
  for (unsigned i = 0; i < n; i++) {
    if (!seen[i]) {
      check_read(w, chosen[i], 0, "", 0, 0, &before, &after, "mget", &history[i], mc);
    }
  }
}

static void do_increment(struct worker *w, struct slot *s, memcached_st *mc) {
  struct snapshot before;
  struct snapshot after;
  uint64_t value = 0;
  struct history_entry history = history_begin(s, mc, OP_INCR);
  take_snapshot(&before);
  memcached_return_t rc = memcached_increment(mc, s->key, s->key_len, 1, &value);
  take_snapshot(&after);
  uint64_t base = counter_number(w->id, s->index, s->gen, 0);
  history_end(s, mc, &history, rc,
              rc == MEMCACHED_SUCCESS && value >= base ? value - base : UINT64_MAX);
  w->op_count[OP_INCR]++;

  if (!acceptable_code(w, s, rc, 1, &before, &after, "increment")) {
    s->unsettled = 1;
    s->failed = (struct state){1, s->acked.id + 1};
    return;
  }
  if (rc == MEMCACHED_NOTFOUND) {
    check_read(w, s, 0, "", 0, 0, &before, &after, "increment", NULL, mc);
    s->needs_write = 1;
    return;
  }
  if (rc != MEMCACHED_SUCCESS) {
    s->unsettled = 1;
    s->failed = (struct state){1, s->acked.id + 1};
    return;
  }
  if (value < base || value - base >= 1000000000ULL) {
    char description[96];
    snprintf(description, sizeof(description), "increment returned %" PRIu64, value);
    count_outcome(w, FAIL_FOREIGN, s, description);
    s->needs_write = 1;
    return;
  }

  uint64_t id = value - base;
  if (id == s->acked.id + 1) {
    w->outcomes[OK_EXACT]++;
  } else {
    /* Applied twice, or applied to a copy other than the primary's. */
    char description[128];
    snprintf(description, sizeof(description),
             "increment returned count %" PRIu64 ", expected %" PRIu64, id, s->acked.id + 1);
    count_outcome_at(w, FAIL_INCREMENT, s, description, &before, &after);
  }
  s->acked.id = id;
  s->written.primary_kills = surviving_kills(&before, s->primary);
}

static void do_delete(struct worker *w, struct slot *s, memcached_st *mc) {
  uint64_t version = s->next_version++;
  struct snapshot before;
  struct snapshot after;
  struct history_entry history = history_begin(s, mc, OP_DELETE);
  take_snapshot(&before);
  memcached_return_t rc = memcached_delete(mc, s->key, s->key_len, 0);
  take_snapshot(&after);
  history_end(s, mc, &history, rc, UINT64_MAX - 1);
  w->op_count[OP_DELETE]++;
  struct state result = {0, version * 1000};
  if (!acceptable_code(w, s, rc, 1, &before, &after, "delete") ||
      (rc != MEMCACHED_SUCCESS && rc != MEMCACHED_NOTFOUND)) {
    s->unsettled = 1;
    s->failed = result;
    return;
  }
  if (rc == MEMCACHED_NOTFOUND && s->acked.present) {
    check_read(w, s, 0, "", 0, 0, &before, &after, "delete", NULL, mc);
  } else if (rc == MEMCACHED_SUCCESS && !s->acked.present) {
    /* The key existed although the last acknowledged write removed it (or none happened). */
    struct state read = {1, s->acked.id > 0 ? s->acked.id - 1 : 0};
    enum outcome o = s->acked.id == 0 ? FAIL_PHANTOM : judge_difference(s, &read, &before, &after);
    count_outcome_at(w, o, s, "delete found a key that should be absent", &before, &after);
  } else {
    w->outcomes[OK_EXACT]++;
  }
  record_write(w, s, mc, &before, result);
}

/* ---- worker threads --------------------------------------------------------------------- */

static enum op choose_op(struct worker *w, struct slot *s) {
  unsigned roll = (unsigned)(splitmix(&w->rng) % 20);
  if (s->needs_write) {
    return OP_SET;
  }
  if (s->counter) {
    if (!s->acked.present || s->acked.id % 1000 >= 500) {
      return OP_SET;
    }
    /* 50% increment, 25% get, 10% mget, 10% set, 5% delete */
    static const enum op counter_ops[20] = {
        OP_INCR, OP_INCR, OP_INCR, OP_INCR, OP_INCR, OP_INCR, OP_INCR, OP_INCR, OP_INCR, OP_INCR,
        OP_GET,  OP_GET,  OP_GET,  OP_GET,  OP_GET,  OP_MGET, OP_MGET, OP_SET,  OP_SET,  OP_DELETE,
    };
    return counter_ops[roll];
  }
  /* 40% set, 30% get, 15% mget, 15% delete */
  static const enum op value_ops[20] = {
      OP_SET, OP_SET, OP_SET, OP_SET, OP_SET,  OP_SET,  OP_SET,  OP_SET,    OP_GET,    OP_GET,
      OP_GET, OP_GET, OP_GET, OP_GET, OP_MGET, OP_MGET, OP_MGET, OP_DELETE, OP_DELETE, OP_DELETE,
  };
  return value_ops[roll];
}

static void run_one(struct worker *w) {
  struct slot *s = &w->slots[splitmix(&w->rng) % SLOTS];
  enum op op = choose_op(w, s);
  if (op != OP_GET && op != OP_MGET && (s->unsettled || s->next_version >= MAX_VERSION)) {
    new_generation(w, s);
    if (s->counter) {
      op = OP_SET;
    }
  }
  memcached_st *mc = acquire(w);
  if (mc == NULL) {
    sleep_s(0.01);
    return;
  }
  current_handle = mc;
  switch (op) {
  case OP_SET:
    do_set(w, s, mc, 0);
    break;
  case OP_GET:
    do_get(w, s, mc, 0);
    break;
  case OP_MGET:
    do_mget(w, mc);
    break;
  case OP_INCR:
    do_increment(w, s, mc);
    break;
  case OP_DELETE:
    do_delete(w, s, mc);
    break;
  default:
    break;
  }
  release(w, mc);
}

/* Waits until every server is up and had no event for RECENT_EVENT_S. */
static int wait_until_quiet(double max_wait) {
  double deadline = now_s() + max_wait;
  while (now_s() < deadline) {
    struct snapshot snap;
    take_snapshot(&snap);
    if (!any_disturbed(&snap, &snap)) {
      return 1;
    }
    sleep_s(0.1);
  }
  return 0;
}

/* After the run: reads every slot once more, then writes and reads back every slot. */
static void final_pass(struct worker *w) {
  for (unsigned i = 0; i < SLOTS; i++) {
    memcached_st *mc = acquire(w);
    if (mc != NULL) {
      do_get(w, &w->slots[i], mc, 0);
      release(w, mc);
    }
  }
  for (unsigned i = 0; i < SLOTS; i++) {
    struct slot *s = &w->slots[i];
    if (s->unsettled) {
      new_generation(w, s);
    }
    memcached_st *mc = acquire(w);
    if (mc == NULL) {
      continue;
    }
    do_set(w, s, mc, 1);
    release(w, mc);
    mc = acquire(w);
    if (mc != NULL) {
      do_get(w, s, mc, 1);
      release(w, mc);
    }
  }
}

static void *worker_main(void *arg) {
  struct worker *w = arg;
  while (!stop_workload) {
    run_one(w);
  }
  if (wait_until_quiet(30)) {
    final_pass(w);
  }
  return NULL;
}

/* ---- monitor thread: control file, ack file, descriptors, RSS ---------------------------- */

static void write_ack(long seq) {
  char tmp[4096];
  snprintf(tmp, sizeof(tmp), "%s.tmp", ack_path);
  FILE *file = fopen(tmp, "w");
  if (file == NULL) {
    return;
  }
  fprintf(file, "%ld\n", seq);
  fclose(file);
  rename(tmp, ack_path);
}

/* Connections the servers accepted and that are closed again (total_connections minus
 * curr_connections, summed, without those of failure probes), read through the monitor's
 * own handle, whose one connection per server stays open. A first connection raises both
 * numbers, a reconnection only the difference. Returns -1 when a server did not reply. */
static long closed_connections(memcached_st *mc) {
  memcached_return_t rc;
  memcached_stat_st *stats = memcached_stat(mc, NULL, &rc);
  if (stats == NULL || rc != MEMCACHED_SUCCESS) {
    memcached_stat_free(mc, stats);
    return -1;
  }
  long sum = -atomic_load(&probe_connections);
  for (unsigned i = 0; i < SERVERS; i++) {
    sum += (long)stats[i].total_connections - (long)stats[i].curr_connections;
  }
  memcached_stat_free(mc, stats);
  return sum;
}

static void *monitor_main(void *arg) {
  memcached_st *stats_handle = arg;
  long last_seq = -1;
  double next_sample = now_s();
  int connections_measured = 0;
  while (!stop_monitor) {
    FILE *file = fopen(control_path, "r");
    if (file != NULL) {
      char line[256];
      if (fgets(line, sizeof(line), file) != NULL) {
        long seq;
        if (sscanf(line, "%ld", &seq) == 1 && seq != last_seq) {
          if (apply_control_line(line) == seq) {
            last_seq = seq;
            fclose(file);
            file = NULL;
            write_ack(seq);
          }
        }
      }
      if (file != NULL) {
        fclose(file);
      }
    }
    double t = now_s();
    if (t >= next_sample) {
      next_sample = t + 0.25;
      unsigned long activity = atomic_load(&probe_activity);
      int fds = count_fds();
      if (activity % 2 == 1 || atomic_load(&probe_activity) != activity) {
        fds = -1;
      }
      long rss = rss_kb();
      if (fds > fds_max) {
        fds_max = fds;
      }
      if (rss > rss_max) {
        rss_max = rss;
      }
      if (rss_after_warmup < 0 && t - start_time >= WARMUP_S) {
        rss_after_warmup = rss;
      }
      /* Reconnections while every server is healthy: counted between 1 s and the end of
       * the warm-up, when no server event has happened yet. */
      if (connections_measured == 0 && t - start_time >= 1.0) {
        warmup_closed_start = closed_connections(stats_handle);
        connections_measured = 1;
      } else if (connections_measured == 1 && t - start_time >= WARMUP_S) {
        warmup_closed_end = closed_connections(stats_handle);
        connections_measured = 2;
      }
    }
    sleep_s(0.002);
  }
  return NULL;
}

/* ---- main ------------------------------------------------------------------------------- */

static void usage(void) {
  report_info("usage: soak --ports P1,P2,P3 --seconds N --control FILE --ack FILE "
              "[--threads T] [--seed S]");
  report_finish();
  exit(2);
}

static void parse_args(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    if (next == NULL) {
      usage();
    }
    if (strcmp(arg, "--ports") == 0) {
      unsigned a;
      unsigned b;
      unsigned c;
      if (sscanf(next, "%u,%u,%u", &a, &b, &c) != 3) {
        usage();
      }
      ports[0] = (in_port_t)a;
      ports[1] = (in_port_t)b;
      ports[2] = (in_port_t)c;
    } else if (strcmp(arg, "--seconds") == 0) {
      run_seconds = atof(next);
    } else if (strcmp(arg, "--control") == 0) {
      control_path = next;
    } else if (strcmp(arg, "--ack") == 0) {
      ack_path = next;
    } else if (strcmp(arg, "--threads") == 0) {
      worker_count = (unsigned)atoi(next);
    } else if (strcmp(arg, "--seed") == 0) {
      seed = strtoull(next, NULL, 10);
    } else {
      usage();
    }
    i++;
  }
  if (ports[0] == 0 || control_path == NULL || ack_path == NULL || worker_count < 2 ||
      worker_count > MAX_WORKERS || run_seconds < WARMUP_S + 2) {
    usage();
  }
}

static memcached_st *make_master(void) {
  memcached_st *mc = memcached_create(NULL);
  for (unsigned i = 0; i < SERVERS; i++) {
    memcached_server_add(mc, "127.0.0.1", ports[i]);
  }
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_NUMBER_OF_REPLICAS, 1);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, TIMEOUT_MS);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, TIMEOUT_MS);
  memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 1);
  return mc;
}

static void sum_and_report(void) {
  uint64_t outcomes[OUTCOMES] = {0};
  uint64_t ops[OPS] = {0};
  uint64_t codes[RC_SLOTS] = {0};
  uint64_t read_errors = 0;
  for (unsigned i = 0; i < worker_count; i++) {
    for (unsigned o = 0; o < OUTCOMES; o++) {
      outcomes[o] += workers[i].outcomes[o];
    }
    for (unsigned o = 0; o < OPS; o++) {
      ops[o] += workers[i].op_count[o];
    }
    for (unsigned c = 0; c < RC_SLOTS; c++) {
      codes[c] += workers[i].rc_count[c];
    }
    read_errors += workers[i].read_errors_with_healthy_replica;
  }

  uint64_t total_ops = 0;
  char line[512];
  size_t used = 0;
  for (unsigned o = 0; o < OPS; o++) {
    total_ops += ops[o];
    used += (size_t)snprintf(line + used, sizeof(line) - used, " %s=%" PRIu64, op_names[o], ops[o]);
  }
  report_info("soak operations:%s", line);
  used = 0;
  line[0] = '\0';
  for (unsigned c = 0; c < RC_SLOTS; c++) {
    if (codes[c] > 0 && used < sizeof(line)) {
      used += (size_t)snprintf(line + used, sizeof(line) - used, " %s=%" PRIu64,
                               rc_label((memcached_return_t)c), codes[c]);
    }
  }
  report_info("soak return codes:%s", line);
  report_info("soak reads: exact=%" PRIu64 " failed-write-seen=%" PRIu64, outcomes[OK_EXACT],
              outcomes[OK_FAILED_WRITE]);
  report_info("soak reads that returned a connection error while the key's replica server was "
              "healthy: %" PRIu64,
              read_errors);
  for (unsigned o = LIMIT_PRIMARY_RESTARTED; o <= LIMIT_COUNTER_NOT_REPLICATED; o++) {
    report_limit("soak %s: %" PRIu64, outcome_names[o], outcomes[o]);
  }
  report_check(total_ops >= 1000, "soak made progress: %" PRIu64 " operations", total_ops);
  for (unsigned o = FAIL_FOREIGN; o < OUTCOMES; o++) {
    report_check(outcomes[o] == 0, "soak no %s: %" PRIu64, outcome_names[o], outcomes[o]);
  }
}

int main(int argc, char **argv) {
  report_open();
  parse_args(argc, argv);
  start_time = now_s();

  int fds_before = count_fds();
  unsigned pooled = worker_count / 2;
  unsigned pool_max = pooled > 1 ? pooled - 1 : 1;
  /* The workers' handles plus the monitor's statistics handle. */
  unsigned handles = (worker_count - pooled) + pool_max + 1;

  memcached_st *master = make_master();
  pool = memcached_pool_create(master, 1, pool_max);
  if (pool == NULL) {
    report_check(0, "soak memcached_pool_create(master, 1, %u) returned a pool", pool_max);
    return report_finish();
  }
  for (unsigned i = 0; i < worker_count; i++) {
    struct worker *w = &workers[i];
    w->id = i;
    w->pooled = i % 2 == 1;
    w->own = w->pooled ? NULL : memcached_clone(NULL, master);
    w->hasher = memcached_clone(NULL, master);
    w->rng = seed * 1000003 + i;
    w->buf = malloc(MAX_VALUE + 128);
    for (unsigned j = 0; j < SLOTS; j++) {
      w->slots[j].index = j;
      w->slots[j].counter = j % COUNTER_EVERY == COUNTER_EVERY - 1;
      new_generation(w, &w->slots[j]);
    }
  }

  memcached_st *stats_handle = memcached_create(NULL);
  for (unsigned i = 0; i < SERVERS; i++) {
    memcached_server_add(stats_handle, "127.0.0.1", ports[i]);
  }
  memcached_behavior_set(stats_handle, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, TIMEOUT_MS);
  pthread_t monitor;
  pthread_create(&monitor, NULL, monitor_main, stats_handle);
  while (access(ack_path, F_OK) != 0) {
    sleep_s(0.01);
  }
  for (unsigned i = 0; i < worker_count; i++) {
    pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
  }
  report_info("soak: %u workers (%u with their own handle, %u sharing a pool of at most %u), "
              "%u slots each, %.0f s, seed %" PRIu64,
              worker_count, worker_count - pooled, pooled, pool_max, SLOTS, run_seconds, seed);

  sleep_s(run_seconds);
  stop_workload = 1;
  for (unsigned i = 0; i < worker_count; i++) {
    pthread_join(workers[i].thread, NULL);
  }
  struct snapshot end;
  take_snapshot(&end);
  int fds_end = count_fds();
  long rss_end = rss_kb();
  stop_monitor = 1;
  pthread_join(monitor, NULL);

  sum_and_report();
  report_check(!any_disturbed(&end, &end), "soak every server was up and quiet at the end");
  uint64_t pauses = 0;
  uint64_t kills = 0;
  for (unsigned i = 0; i < SERVERS; i++) {
    pauses += pauses_seen[i];
    kills += end.server[i].kills;
    report_info("soak server %u: %" PRIu64 " pauses, %" PRIu64 " kills", i, pauses_seen[i],
                end.server[i].kills);
  }
  report_check(pauses > 0 && kills > 0,
               "soak saw server pauses (%" PRIu64 ") and kills (%" PRIu64 ")", pauses, kills);

  int fd_limit = fds_before + (int)handles * SERVERS;
  report_check(fds_max <= fd_limit,
               "soak descriptors during the run: at most %d (before the handles %d, limit %d)",
               fds_max, fds_before, fd_limit);
  report_check(fds_end <= fd_limit, "soak descriptors after the run: %d (limit %d)", fds_end,
               fd_limit);
  long growth_kb = rss_end - rss_after_warmup;
  uint64_t all_ops = 0;
  for (unsigned i = 0; i < worker_count; i++) {
    for (unsigned o = 0; o < OPS; o++) {
      all_ops += workers[i].op_count[o];
    }
  }
  double growth_per_op = all_ops > 0 ? (double)growth_kb * 1024.0 / (double)all_ops : 0.0;
  report_check(rss_after_warmup > 0 && growth_kb <= RSS_GROWTH_LIMIT_MB * 1024,
               "soak RSS after the warm-up %ld KiB, at the end %ld KiB, max %ld KiB (limit +%d "
               "MiB; %.2f bytes per operation)",
               rss_after_warmup, rss_end, rss_max, RSS_GROWTH_LIMIT_MB, growth_per_op);

  long reconnections = warmup_closed_end - warmup_closed_start;
  report_check(warmup_closed_start >= 0 && warmup_closed_end >= 0 && reconnections == 0,
               "soak no connection closed while every server was healthy (%.0f-%.0f s): %ld "
               "closed",
               1.0, WARMUP_S, reconnections);
  memcached_free(stats_handle);
  for (unsigned i = 0; i < worker_count; i++) {
    memcached_free(workers[i].own);
    memcached_free(workers[i].hasher);
    free(workers[i].buf);
  }
  memcached_st *returned = memcached_pool_destroy(pool);
  report_check(returned == master, "soak memcached_pool_destroy returned the caller's master");
  memcached_free(master);
  int fds_freed = count_fds();
  report_check(fds_freed == fds_before,
               "soak descriptors after freeing every handle: %d (before the handles %d)", fds_freed,
               fds_before);
  return report_finish();
}
