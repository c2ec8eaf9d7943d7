/*
 * Throughput benchmark for the libmemcached 1.1 C API.
 *
 * The same source is compiled against any library that provides <libmemcached/memcached.h>,
 * so two builds can be compared on equal terms (see run.sh next to this file). Each run
 * executes one workload against running memcached servers and prints one line of
 * space-separated key=value pairs:
 *
 *   workload=get-100B protocol=text servers=1 value_size=100 ops=N seconds=S
 *   ops_per_sec=R cpu_us_per_op=C library=1.1.4
 *
 * cpu_us_per_op is user plus system CPU time of this process (getrusage) during the timed
 * loop, in microseconds per operation. Every value read back is compared byte for byte with
 * what was stored. A mismatch or an unexpected return code prints an error and exits with 1.
 *
 * With BENCH_SERVER_PIDS set to a comma-separated list of the servers' process ids, the line
 * also has server_cpu_us_per_op: the CPU time of every thread of those processes during the
 * timed loop (from /proc/PID/task/TID/schedstat), per operation.
 *
 * Two workloads test limits rather than speed. mget-100k fetches 100,000 keys with one
 * memcached_mget. After the timed mget it fetches the same keys again, 100 at a time with one
 * mget each, and adds the mean time of one of those mgets: slice_mget_us=T. soak-1m runs
 * 1,000,000 operations (or the count given with -n), alternating between a text and a binary
 * handle. It adds the resident set size after
 * 10,000 operations and at the end to its line: rss_kib_at_10k=A rss_kib_at_end=B.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench_data.h"

#include <libmemcached/memcached.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum op_kind {
    OP_SET,
    OP_SET_NOREPLY,
    OP_GET_HIT,
    OP_GET_MISS,
    OP_MGET,
    OP_INCR,
    OP_PROFTPD,
    OP_SOAK
};

/* Operations run before the timed loop so that connections are open when timing starts. */
enum { WARMUP_OPS = 8 };

/* Keys per mget of mget-100k's second pass over its keys. */
enum { MGET_SLICE_KEYS = 100 };

struct workload {
    const char *name;
    enum op_kind kind;
    size_t default_value_size;
    /* Keys that exist on the server, or 0 for a count derived from the value size. An mget
     * workload fetches all of them in one call. */
    uint32_t key_count;
    uint32_t warmup_ops;
    /* Operations to run when -n is not given, or 0 to run for -t seconds. */
    uint64_t default_ops;
};

static const struct workload workloads[] = {
    {"set-100B", OP_SET, 100, 0, WARMUP_OPS, 0},
    {"get-100B", OP_GET_HIT, 100, 0, WARMUP_OPS, 0},
    {"get-miss", OP_GET_MISS, 100, 0, WARMUP_OPS, 0},
    {"mget-100", OP_MGET, 100, 100, WARMUP_OPS, 0},
    {"set-noreply", OP_SET_NOREPLY, 100, 0, WARMUP_OPS, 0},
    {"incr", OP_INCR, 0, 1, WARMUP_OPS, 0},
    {"set-10KB", OP_SET, 10 * 1024, 0, WARMUP_OPS, 0},
    {"get-10KB", OP_GET_HIT, 10 * 1024, 0, WARMUP_OPS, 0},
    {"set-500KB", OP_SET, 500 * 1024, 0, WARMUP_OPS, 0},
    {"get-500KB", OP_GET_HIT, 500 * 1024, 0, WARMUP_OPS, 0},
    {"proftpd", OP_PROFTPD, 100, 0, WARMUP_OPS, 0},
    /* One warm-up mget is enough to size the library's buffers for the timed one. */
    {"mget-100k", OP_MGET, 100, 100000, 1, 0},
    {"soak-1m", OP_SOAK, 100, 0, WARMUP_OPS, 1000000},
};

enum { WORKLOAD_COUNT = sizeof workloads / sizeof workloads[0] };

/* soak-1m samples its resident set size after this many timed operations, when the
 * library's buffers and the allocator's arenas have reached their working size. */
enum { SOAK_SAMPLE_OPS = 10000 };

/* Sizes the key set of every workload without a fixed key_count: about VALUE_TABLE_BYTES of
 * values, within [MIN_KEYS, MAX_KEYS], which gives 100 keys of 100 B or 10 KiB and 4 keys of
 * 500 KiB. The set stays small because the get workloads store all of it before timing. */
enum { VALUE_TABLE_BYTES = 2 * 1024 * 1024, MIN_KEYS = 4, MAX_KEYS = 100 };

/* ProFTPD's mod_ban sets this namespace before each call and clears it afterwards. */
static const char proftpd_prefix[] = "mod_ban.";

struct bench {
    const struct workload *workload;
    /* The handle and protocol of the current operation. soak-1m switches both between
     * handles[0] (text) and handles[1] (binary); other workloads use handles[0] only. */
    const char *protocol;
    memcached_st *memc;
    memcached_st *handles[2];
    size_t server_count;
    size_t value_size;

    /* Keys that exist on the server; the value of key i starts at values + i * value_size. */
    uint32_t key_count;
    char **keys;
    size_t *key_lengths;
    unsigned char *values;

    /* Keys that are never stored, for get-miss and the misses of the proftpd workload. */
    char **miss_keys;
    size_t *miss_key_lengths;

    /* Live in caller storage, because libmemcached frees a result made by
     * memcached_result_create(memc, NULL) when memcached_fetch_result reaches the end.
     * results[i] belongs to handles[i], and result points to the current one. */
    memcached_result_st results[2];
    memcached_result_st *result;
    /* Flags of the keys that the current mget has returned, one per key. */
    bool *seen;
    uint64_t counter;
    uint32_t last_set_index;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bench -s HOST:PORT[,HOST:PORT...] -w WORKLOAD [-p text|binary]\n"
            "             [-t SECONDS | -n OPS] [-v BYTES]\n"
            "       bench -l\n"
            "  -s  memcached servers; repeat the option or separate with commas\n"
            "      (the proftpd workload requires exactly 3)\n"
            "  -w  workload to run (list them with -l)\n"
            "  -p  protocol, text (default) or binary; proftpd always uses binary and\n"
            "      soak-1m both\n"
            "  -t  run for this many seconds (default 1)\n"
            "  -n  run exactly this many operations instead of a fixed time\n"
            "      (soak-1m runs 1000000 unless this is given)\n"
            "  -v  value size in bytes (default depends on the workload)\n");
}

static void fail_rc(const struct bench *b, const char *step, memcached_return_t rc)
{
    fprintf(stderr, "bench: %s %s: %s failed: %s (%s)\n", b->workload->name, b->protocol, step,
            memcached_strerror(b->memc, rc), memcached_last_error_message(b->memc));
    exit(1);
}

static void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL) {
        fprintf(stderr, "bench: out of memory allocating %zu bytes\n", size);
        exit(1);
    }
    return p;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
           (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

/* Returns the CPU time in nanoseconds that the threads of one process have used, from the
 * first field of /proc/PID/task/TID/schedstat, or -1 when it cannot be read. */
static double process_cpu_ns(const char *pid)
{
    char path[128];
    snprintf(path, sizeof path, "/proc/%s/task", pid);
    DIR *tasks = opendir(path);
    if (tasks == NULL) {
        return -1;
    }
    double total = 0;
    struct dirent *entry;
    while ((entry = readdir(tasks)) != NULL) {
        if (entry->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof path, "/proc/%s/task/%.20s/schedstat", pid, entry->d_name);
        FILE *stat = fopen(path, "r");
        unsigned long long on_cpu_ns = 0;
        /* A thread that ended since readdir has no file any more and counts as nothing. */
        if (stat != NULL) {
            if (fscanf(stat, "%llu", &on_cpu_ns) == 1) {
                total += (double)on_cpu_ns;
            }
            fclose(stat);
        }
    }
    closedir(tasks);
    return total;
}

/* Sums process_cpu_ns over the pids in BENCH_SERVER_PIDS; -1 when the variable is unset or
 * one of them cannot be read. */
static double servers_cpu_ns(void)
{
    const char *list = getenv("BENCH_SERVER_PIDS");
    if (list == NULL || *list == '\0') {
        return -1;
    }
    double total = 0;
    while (*list != '\0') {
        char pid[24];
        size_t length = strcspn(list, ",");
        if (length == 0 || length >= sizeof pid) {
            return -1;
        }
        memcpy(pid, list, length);
        pid[length] = '\0';
        double ns = process_cpu_ns(pid);
        if (ns < 0) {
            return -1;
        }
        total += ns;
        list += length + (list[length] == ',');
    }
    return total;
}

/* Returns the resident set size of this process in KiB, from /proc/self/statm, or -1 when
 * that file cannot be read. */
static long resident_kib(void)
{
    long total_pages = 0;
    long resident_pages = -1;
    FILE *statm = fopen("/proc/self/statm", "r");
    if (statm == NULL) {
        return -1;
    }
    if (fscanf(statm, "%ld %ld", &total_pages, &resident_pages) != 2) {
        resident_pages = -1;
    }
    fclose(statm);
    return resident_pages < 0 ? -1 : resident_pages * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Copies a key into its own allocation. Keys of the proftpd workload end with a NUL byte
 * that is part of the key, as ProFTPD's JSON-encoded keys do, so the length is explicit. */
static char *make_key(const char *text, bool with_nul, size_t *length)
{
    size_t text_length = strlen(text);
    *length = text_length + (with_nul ? 1 : 0);
    char *key = xmalloc(*length + 1);
    memcpy(key, text, text_length + 1);
    return key;
}

static void make_keys(struct bench *b)
{
    bool proftpd = b->workload->kind == OP_PROFTPD;
    const char *family = proftpd ? "proftpd" : "v";
    char text[64];

    b->keys = xmalloc(b->key_count * sizeof *b->keys);
    b->key_lengths = xmalloc(b->key_count * sizeof *b->key_lengths);
    b->miss_keys = xmalloc(b->key_count * sizeof *b->miss_keys);
    b->miss_key_lengths = xmalloc(b->key_count * sizeof *b->miss_key_lengths);
    b->values = xmalloc((size_t)b->key_count * b->value_size);

    for (uint32_t i = 0; i < b->key_count; i++) {
        format_key(text, sizeof text, family, b->value_size, i);
        b->keys[i] = make_key(text, proftpd, &b->key_lengths[i]);
        snprintf(text, sizeof text, "bench:miss:%" PRIu32, i);
        b->miss_keys[i] = make_key(text, proftpd, &b->miss_key_lengths[i]);
        fill_value(b->values + (size_t)i * b->value_size, b->value_size, i);
    }
}

static const unsigned char *expected_value(const struct bench *b, uint32_t index)
{
    return b->values + (size_t)index * b->value_size;
}

static void check_value(const struct bench *b, uint32_t index, const char *value, size_t length,
                        uint32_t flags)
{
    const unsigned char *expected = expected_value(b, index);

    if (value == NULL && length > 0) {
        fprintf(stderr, "bench: %s %s: key %s returned a NULL value of length %zu\n",
                b->workload->name, b->protocol, b->keys[index], length);
        exit(1);
    }
    if (length != b->value_size) {
        fprintf(stderr, "bench: %s %s: key %s returned %zu bytes, expected %zu\n",
                b->workload->name, b->protocol, b->keys[index], length, b->value_size);
        exit(1);
    }
    if (flags != index) {
        fprintf(stderr, "bench: %s %s: key %s returned flags %" PRIu32 ", expected %" PRIu32 "\n",
                b->workload->name, b->protocol, b->keys[index], flags, index);
        exit(1);
    }
    if (length > 0 && memcmp(value, expected, length) != 0) {
        size_t i = 0;
        while ((unsigned char)value[i] == expected[i]) {
            i++;
        }
        fprintf(stderr,
                "bench: %s %s: value of key %s differs at byte %zu: expected 0x%02x, got 0x%02x\n",
                b->workload->name, b->protocol, b->keys[index], i, expected[i],
                (unsigned char)value[i]);
        exit(1);
    }
}

/* Sets the key prefix for the proftpd workload, which wraps each call in a namespace change.
 * Other workloads use no namespace. */
static void begin_call(struct bench *b)
{
    if (b->workload->kind != OP_PROFTPD) {
        return;
    }
    memcached_return_t rc = memcached_callback_set(b->memc, MEMCACHED_CALLBACK_PREFIX_KEY,
                                                   (void *)proftpd_prefix);
    if (rc != MEMCACHED_SUCCESS) {
        fail_rc(b, "memcached_callback_set(PREFIX_KEY, \"mod_ban.\")", rc);
    }
}

static void end_call(struct bench *b)
{
    if (b->workload->kind != OP_PROFTPD) {
        return;
    }
    memcached_return_t rc = memcached_callback_set(b->memc, MEMCACHED_CALLBACK_PREFIX_KEY, NULL);
    if (rc != MEMCACHED_SUCCESS) {
        fail_rc(b, "memcached_callback_set(PREFIX_KEY, NULL)", rc);
    }
}

static void set_key(struct bench *b, uint32_t index)
{
    begin_call(b);
    memcached_return_t rc =
        memcached_set(b->memc, b->keys[index], b->key_lengths[index],
                      (const char *)expected_value(b, index), b->value_size, 0, index);
    if (rc != MEMCACHED_SUCCESS) {
        fail_rc(b, "memcached_set", rc);
    }
    end_call(b);
    b->last_set_index = index;
}

static void get_hit(struct bench *b, uint32_t index)
{
    size_t length = 0;
    uint32_t flags = 0;
    memcached_return_t rc = MEMCACHED_FAILURE;

    begin_call(b);
    char *value = memcached_get(b->memc, b->keys[index], b->key_lengths[index], &length, &flags,
                                &rc);
    if (rc != MEMCACHED_SUCCESS) {
        fail_rc(b, "memcached_get of a stored key", rc);
    }
    end_call(b);

    check_value(b, index, value, length, flags);
    free(value);
}

static void get_miss(struct bench *b, uint32_t index)
{
    size_t length = 0;
    uint32_t flags = 0;
    memcached_return_t rc = MEMCACHED_FAILURE;

    begin_call(b);
    char *value = memcached_get(b->memc, b->miss_keys[index], b->miss_key_lengths[index],
                                &length, &flags, &rc);
    end_call(b);

    if (rc != MEMCACHED_NOTFOUND) {
        fail_rc(b, "memcached_get of a missing key (expected NOT FOUND)", rc);
    }
    if (value != NULL) {
        fprintf(stderr, "bench: %s %s: memcached_get of missing key %s returned a value\n",
                b->workload->name, b->protocol, b->miss_keys[index]);
        exit(1);
    }
}

/* Returns the index encoded after the last ':' of a benchmark key, or UINT32_MAX if the key
 * is not one of b->keys. */
static uint32_t key_index(const struct bench *b, const char *key, size_t length)
{
    size_t start = length;
    while (start > 0 && key[start - 1] != ':') {
        start--;
    }

    uint64_t index = 0;
    if (start == length) {
        return UINT32_MAX;
    }
    for (size_t i = start; i < length; i++) {
        if (key[i] < '0' || key[i] > '9' || index >= b->key_count) {
            return UINT32_MAX;
        }
        index = index * 10 + (uint64_t)(key[i] - '0');
    }
    if (index >= b->key_count || b->key_lengths[index] != length ||
        memcmp(b->keys[index], key, length) != 0) {
        return UINT32_MAX;
    }
    return (uint32_t)index;
}

/* Fetches keys first to first + count - 1 with one memcached_mget, then
 * memcached_fetch_result until the library reports the end. Each of those keys must come
 * back exactly once with its value, and no other key may come back. */
static void mget_range(struct bench *b, uint32_t first, uint32_t count)
{
    uint32_t received = 0;
    memset(b->seen + first, 0, count * sizeof *b->seen);
    memcached_return_t rc = memcached_mget(b->memc, (const char *const *)b->keys + first,
                                           b->key_lengths + first, count);
    if (rc != MEMCACHED_SUCCESS) {
        fail_rc(b, "memcached_mget", rc);
    }

    memcached_result_st *result;
    while ((result = memcached_fetch_result(b->memc, b->result, &rc)) != NULL) {
        if (rc != MEMCACHED_SUCCESS) {
            fail_rc(b, "memcached_fetch_result", rc);
        }
        const char *key = memcached_result_key_value(result);
        size_t key_length = memcached_result_key_length(result);
        uint32_t index = key_index(b, key, key_length);
        if (index < first || index - first >= count) {
            index = UINT32_MAX;
        }
        if (index == UINT32_MAX || b->seen[index]) {
            fprintf(stderr, "bench: %s %s: memcached_fetch_result returned %s key '%.*s'\n",
                    b->workload->name, b->protocol,
                    index != UINT32_MAX ? "duplicate" : "unrequested", (int)key_length, key);
            exit(1);
        }
        b->seen[index] = true;
        received++;
        check_value(b, index, memcached_result_value(result), memcached_result_length(result),
                    memcached_result_flags(result));
    }
    if (rc != MEMCACHED_END) {
        fail_rc(b, "memcached_fetch_result (expected END after the last item)", rc);
    }
    if (received != count) {
        fprintf(stderr, "bench: %s %s: memcached_mget of %" PRIu32 " keys returned %" PRIu32
                " items\n", b->workload->name, b->protocol, count, received);
        exit(1);
    }
}

/* One mget operation: every stored key. */
static void mget_batch(struct bench *b)
{
    mget_range(b, 0, b->key_count);
}

static void increment(struct bench *b)
{
    uint64_t value = 0;
    memcached_return_t rc = memcached_increment(b->memc, b->keys[0], b->key_lengths[0], 1, &value);
    if (rc != MEMCACHED_SUCCESS) {
        fail_rc(b, "memcached_increment", rc);
    }
    b->counter++;
    if (value != b->counter) {
        fprintf(stderr, "bench: %s %s: memcached_increment returned %" PRIu64 ", expected %" PRIu64
                "\n", b->workload->name, b->protocol, value, b->counter);
        exit(1);
    }
}

/* Runs one operation of the proftpd cycle (see proftpd_step_of). */
static void proftpd_op(struct bench *b, uint64_t op)
{
    uint32_t index;
    switch (proftpd_step_of(op, b->key_count, &index)) {
    case PROFTPD_SET:
        set_key(b, index);
        break;
    case PROFTPD_GET_HIT:
        get_hit(b, index);
        break;
    case PROFTPD_GET_MISS:
        get_miss(b, index);
        break;
    }
}

/* Selects handles[i] and its result for the next operation. */
static void use_handle(struct bench *b, int i)
{
    b->memc = b->handles[i];
    b->result = &b->results[i];
    b->protocol = i == 0 ? "text" : "binary";
}

/* soak-1m alternates between the text and the binary handle. On each handle, every fourth
 * operation stores a key, two read stored keys back and one looks up an absent key, and
 * every 100th operation is instead an mget of all keys. */
static void soak_op(struct bench *b, uint64_t op)
{
    uint64_t step = op / 2;
    use_handle(b, (int)(op % 2));
    if (step % 100 == 99) {
        mget_batch(b);
        return;
    }
    uint32_t index = (uint32_t)((step / 4) % b->key_count);
    switch (step % 4) {
    case 0:
        set_key(b, index);
        break;
    case 1:
        get_hit(b, index);
        break;
    case 2:
        get_hit(b, (uint32_t)((index + b->key_count / 2) % b->key_count));
        break;
    default:
        get_miss(b, index);
        break;
    }
}

static void run_op(struct bench *b, uint64_t op)
{
    uint32_t index = (uint32_t)(op % b->key_count);
    switch (b->workload->kind) {
    case OP_SET:
    case OP_SET_NOREPLY:
        set_key(b, index);
        break;
    case OP_GET_HIT:
        get_hit(b, index);
        break;
    case OP_GET_MISS:
        get_miss(b, index);
        break;
    case OP_MGET:
        mget_batch(b);
        break;
    case OP_INCR:
        increment(b);
        break;
    case OP_PROFTPD:
        proftpd_op(b, op);
        break;
    case OP_SOAK:
        soak_op(b, op);
        break;
    }
}

static void set_behavior(struct bench *b, memcached_behavior_t flag, uint64_t data,
                         const char *name)
{
    memcached_return_t rc = memcached_behavior_set(b->memc, flag, data);
    if (rc != MEMCACHED_SUCCESS) {
        fail_rc(b, name, rc);
    }
}

/* Applies the options in the order ProFTPD 1.3.8's pr_memcache_conn_new sets them for a
 * binary-protocol handle with MemcacheReplicas 2 and its default timeouts, all 500. */
static void configure_like_proftpd(struct bench *b)
{
    set_behavior(b, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1, "behavior TCP_NODELAY");
    set_behavior(b, MEMCACHED_BEHAVIOR_VERIFY_KEY, 1, "behavior VERIFY_KEY");
    set_behavior(b, MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT,
                 "behavior DISTRIBUTION");
    set_behavior(b, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1, "behavior BINARY_PROTOCOL");
    set_behavior(b, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, 500, "behavior CONNECT_TIMEOUT");
    set_behavior(b, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, 500, "behavior RCV_TIMEOUT");
    set_behavior(b, MEMCACHED_BEHAVIOR_SND_TIMEOUT, 500, "behavior SND_TIMEOUT");
    set_behavior(b, MEMCACHED_BEHAVIOR_NUMBER_OF_REPLICAS, 2, "behavior NUMBER_OF_REPLICAS");
    set_behavior(b, MEMCACHED_BEHAVIOR_RANDOMIZE_REPLICA_READ, 1,
                 "behavior RANDOMIZE_REPLICA_READ");
}

/* Adds the servers of a comma-separated HOST:PORT list. IPv6 hosts are written [addr]:port. */
static void add_servers(struct bench *b, const char *list)
{
    if (b->workload->kind == OP_PROFTPD) {
        /* ProFTPD hands its MemcacheServers string to memcached_servers_parse. */
        memcached_server_st *parsed = memcached_servers_parse(list);
        if (parsed == NULL) {
            fprintf(stderr, "bench: invalid server list '%s'\n", list);
            exit(2);
        }
        memcached_return_t rc = memcached_server_push(b->memc, parsed);
        memcached_server_list_free(parsed);
        if (rc != MEMCACHED_SUCCESS) {
            fail_rc(b, "memcached_server_push", rc);
        }
        b->server_count = memcached_server_count(b->memc);
        return;
    }

    char *copy = xmalloc(strlen(list) + 1);
    strcpy(copy, list);
    for (char *item = strtok(copy, ","); item != NULL; item = strtok(NULL, ",")) {
        char *colon = strrchr(item, ':');
        char *end = NULL;
        unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
        if (colon == NULL || end == colon + 1 || *end != '\0' || port == 0 || port > 65535) {
            fprintf(stderr, "bench: invalid server '%s': expected HOST:PORT\n", item);
            exit(2);
        }
        *colon = '\0';
        char *host = item;
        size_t host_length = strlen(host);
        if (host_length >= 2 && host[0] == '[' && host[host_length - 1] == ']') {
            host[host_length - 1] = '\0';
            host++;
        }
        memcached_return_t rc = memcached_server_add(b->memc, host, (in_port_t)port);
        if (rc != MEMCACHED_SUCCESS) {
            fail_rc(b, "memcached_server_add", rc);
        }
        b->server_count++;
    }
    free(copy);
}

/* Stores what the timed loop reads, and the counter for incr. */
static void preload(struct bench *b)
{
    switch (b->workload->kind) {
    case OP_GET_HIT:
    case OP_MGET:
    case OP_PROFTPD:
    case OP_SOAK:
        if (b->key_count > MAX_KEYS) {
            /* Large key sets are stored without waiting for each reply. Reading the last key
             * back makes sure the server has processed them all, and the mget checks every
             * value anyway. */
            set_behavior(b, MEMCACHED_BEHAVIOR_NOREPLY, 1, "behavior NOREPLY");
            for (uint32_t i = 0; i < b->key_count; i++) {
                set_key(b, i);
            }
            set_behavior(b, MEMCACHED_BEHAVIOR_NOREPLY, 0, "behavior NOREPLY off");
            get_hit(b, b->key_count - 1);
            break;
        }
        for (uint32_t i = 0; i < b->key_count; i++) {
            set_key(b, i);
        }
        break;
    case OP_INCR: {
        memcached_return_t rc = memcached_set(b->memc, b->keys[0], b->key_lengths[0], "0", 1, 0, 0);
        if (rc != MEMCACHED_SUCCESS) {
            fail_rc(b, "memcached_set of the counter", rc);
        }
        break;
    }
    case OP_SET:
    case OP_SET_NOREPLY:
    case OP_GET_MISS:
        break;
    }
}

/* Reads back the last key a set workload stored. With NOREPLY this also waits until the
 * server has processed every earlier command on the connection, so it runs inside the timed
 * interval for set-noreply. */
static void verify_last_set(struct bench *b)
{
    if (b->workload->kind == OP_SET || b->workload->kind == OP_SET_NOREPLY) {
        get_hit(b, b->last_set_index);
    }
}

static uint32_t key_count_for(const struct workload *workload, size_t value_size)
{
    if (workload->key_count > 0) {
        return workload->key_count;
    }
    size_t count = VALUE_TABLE_BYTES / (value_size ? value_size : 1);
    if (count < MIN_KEYS) {
        count = MIN_KEYS;
    }
    if (count > MAX_KEYS) {
        count = MAX_KEYS;
    }
    return (uint32_t)count;
}

static const struct workload *find_workload(const char *name)
{
    for (size_t i = 0; i < WORKLOAD_COUNT; i++) {
        if (strcmp(workloads[i].name, name) == 0) {
            return &workloads[i];
        }
    }
    return NULL;
}

static double parse_positive(const char *text, const char *option)
{
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(value > 0)) {
        fprintf(stderr, "bench: invalid %s '%s': expected a positive number\n", option, text);
        exit(2);
    }
    return value;
}

int main(int argc, char **argv)
{
    struct bench b = {0};
    char *servers = NULL;
    const char *workload_name = NULL;
    double duration = 1.0;
    uint64_t op_limit = 0;
    double value_size = -1;
    int opt;

    b.protocol = "text";
    while ((opt = getopt(argc, argv, "s:w:p:t:n:v:lh")) != -1) {
        switch (opt) {
        case 's': {
            size_t old_length = servers ? strlen(servers) : 0;
            char *joined = xmalloc(old_length + strlen(optarg) + 2);
            sprintf(joined, "%s%s%s", servers ? servers : "", servers ? "," : "", optarg);
            free(servers);
            servers = joined;
            break;
        }
        case 'w':
            workload_name = optarg;
            break;
        case 'p':
            b.protocol = optarg;
            break;
        case 't':
            duration = parse_positive(optarg, "duration (-t)");
            break;
        case 'n':
            op_limit = (uint64_t)parse_positive(optarg, "operation count (-n)");
            break;
        case 'v':
            value_size = parse_positive(optarg, "value size (-v)");
            break;
        case 'l':
            for (size_t i = 0; i < WORKLOAD_COUNT; i++) {
                printf("%s\n", workloads[i].name);
            }
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || servers == NULL || workload_name == NULL) {
        usage(stderr);
        return 2;
    }

    b.workload = find_workload(workload_name);
    if (b.workload == NULL) {
        fprintf(stderr, "bench: unknown workload '%s' (list them with -l)\n", workload_name);
        return 2;
    }
    if (strcmp(b.protocol, "text") != 0 && strcmp(b.protocol, "binary") != 0) {
        fprintf(stderr, "bench: invalid protocol '%s': expected text or binary\n", b.protocol);
        return 2;
    }
    if (b.workload->kind == OP_PROFTPD) {
        if (strcmp(b.protocol, "binary") != 0) {
            fprintf(stderr, "bench: the proftpd workload uses the binary protocol only\n");
            return 2;
        }
    }
    b.value_size = value_size > 0 ? (size_t)value_size : b.workload->default_value_size;
    b.key_count = key_count_for(b.workload, b.value_size);

    /* soak-1m uses both protocols, each on its own handle. */
    int handle_count = b.workload->kind == OP_SOAK ? 2 : 1;
    const char *requested_protocol = b.protocol;
    for (int i = 0; i < handle_count; i++) {
        b.handles[i] = memcached_create(NULL);
        if (b.handles[i] == NULL) {
            fprintf(stderr, "bench: memcached_create returned NULL\n");
            return 1;
        }
        b.memc = b.handles[i];
        if (b.workload->kind == OP_SOAK) {
            b.protocol = i == 0 ? "text" : "binary";
        }
        b.server_count = 0;
        add_servers(&b, servers);
        if (b.workload->kind == OP_PROFTPD && b.server_count != 3) {
            fprintf(stderr, "bench: the proftpd workload needs exactly 3 servers, got %zu\n",
                    b.server_count);
            return 2;
        }
        if (b.workload->kind == OP_PROFTPD) {
            configure_like_proftpd(&b);
        } else if (strcmp(b.protocol, "binary") == 0) {
            set_behavior(&b, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1, "behavior BINARY_PROTOCOL");
        }
        if (memcached_result_create(b.memc, &b.results[i]) == NULL) {
            fprintf(stderr, "bench: memcached_result_create returned NULL\n");
            return 1;
        }
    }
    use_handle(&b, 0);
    if (b.workload->kind != OP_SOAK) {
        b.protocol = requested_protocol;
    }

    make_keys(&b);
    b.seen = xmalloc(b.key_count * sizeof *b.seen);
    if (b.workload->kind == OP_INCR) {
        /* The counter gets its own name so that it never collides with a stored value. */
        free(b.keys[0]);
        b.keys[0] = make_key("bench:counter", false, &b.key_lengths[0]);
    }
    preload(&b);
    if (b.workload->kind == OP_SET_NOREPLY) {
        set_behavior(&b, MEMCACHED_BEHAVIOR_NOREPLY, 1, "behavior NOREPLY");
    }
    if (op_limit == 0) {
        op_limit = b.workload->default_ops;
    }

    uint64_t op = 0;
    for (; op < b.workload->warmup_ops; op++) {
        run_op(&b, op);
    }

    double server_cpu_start = servers_cpu_ns();
    double start = now_seconds();
    double cpu_start = cpu_seconds();
    uint64_t ops = 0;
    long rss_kib_at_sample = -1;
    if (op_limit > 0) {
        for (; ops < op_limit; ops++) {
            if (ops == SOAK_SAMPLE_OPS && b.workload->kind == OP_SOAK) {
                rss_kib_at_sample = resident_kib();
            }
            run_op(&b, op++);
        }
    } else {
        double deadline = start + duration;
        do {
            run_op(&b, op++);
            ops++;
        } while (now_seconds() < deadline);
    }
    if (b.workload->kind == OP_SET_NOREPLY) {
        verify_last_set(&b);
    }
    double elapsed = now_seconds() - start;
    double cpu = cpu_seconds() - cpu_start;
    double server_cpu_end = servers_cpu_ns();
    if (b.workload->kind == OP_SET) {
        verify_last_set(&b);
    }
    /* The server has the same items to find as in the big mget, in mgets of mget-100's size. */
    double slice_us = -1;
    if (b.workload->kind == OP_MGET && b.key_count > MGET_SLICE_KEYS) {
        uint32_t slices = b.key_count / MGET_SLICE_KEYS;
        double slices_start = now_seconds();
        for (uint32_t i = 0; i < slices; i++) {
            mget_range(&b, i * MGET_SLICE_KEYS, MGET_SLICE_KEYS);
        }
        slice_us = (now_seconds() - slices_start) * 1e6 / slices;
    }

    printf("workload=%s protocol=%s servers=%zu value_size=%zu ops=%" PRIu64
           " seconds=%.6f ops_per_sec=%.1f cpu_us_per_op=%.3f library=%s",
           b.workload->name, b.workload->kind == OP_SOAK ? "text+binary" : b.protocol,
           b.server_count, b.value_size, ops, elapsed, (double)ops / elapsed,
           cpu * 1e6 / (double)ops, memcached_lib_version());
    if (slice_us >= 0) {
        printf(" slice_mget_us=%.3f", slice_us);
    }
    if (server_cpu_start >= 0 && server_cpu_end >= 0) {
        printf(" server_cpu_us_per_op=%.3f",
               (server_cpu_end - server_cpu_start) / 1e3 / (double)ops);
    }
    if (b.workload->kind == OP_SOAK) {
        printf(" rss_kib_at_10k=%ld rss_kib_at_end=%ld", rss_kib_at_sample, resident_kib());
    }
    printf("\n");

    for (int i = 0; i < handle_count; i++) {
        memcached_result_free(&b.results[i]);
        memcached_free(b.handles[i]);
    }
    for (uint32_t i = 0; i < b.key_count; i++) {
        free(b.keys[i]);
        free(b.miss_keys[i]);
    }
    free(b.keys);
    free(b.key_lengths);
    free(b.miss_keys);
    free(b.miss_key_lengths);
    free(b.values);
    free(b.seen);
    free(servers);
    return 0;
}
