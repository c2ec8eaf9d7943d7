/*
 * memcached_stat_execute must pass NUL-terminated key and value strings to
 * its callback: libmemcached 1.1.4 does, and php-memcached's getStats()
 * relies on it (it builds array keys with strlen(key) and parses numbers
 * with strtol(value) up to the NUL).
 *
 * Usage: stat_execute_nul_terminated PORT   (a memcached on 127.0.0.1:PORT)
 * Exits 0 when every callback got terminated strings in both protocols.
 */
#include <libmemcached/memcached.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tally {
    const char *protocol;
    unsigned calls;
    unsigned bad;
};

static memcached_return_t check_stat(const memcached_instance_st *server, const char *key,
                                     size_t key_length, const char *value, size_t value_length,
                                     void *context)
{
    struct tally *tally = context;
    (void) server;
    tally->calls++;
    if (key[key_length] != '\0' || value[value_length] != '\0') {
        if (tally->bad++ < 3) {
            printf("%s: stat '%.*s' (key_length %zu, value_length %zu): key[key_length] = 0x%02x, "
                   "value[value_length] = 0x%02x, expected 0x00 for both\n",
                   tally->protocol, (int) key_length, key, key_length, value_length,
                   (unsigned char) key[key_length], (unsigned char) value[value_length]);
        }
    }
    return MEMCACHED_SUCCESS;
}

static int run(int port, int binary)
{
    struct tally tally = {binary ? "binary" : "text", 0, 0};
    memcached_st *memc = memcached_create(NULL);
    memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, (uint64_t) binary);
    memcached_server_add(memc, "127.0.0.1", (in_port_t) port);

    memcached_return_t rc = memcached_stat_execute(memc, NULL, check_stat, &tally);
    int failed = 0;
    if (rc != MEMCACHED_SUCCESS) {
        printf("%s: memcached_stat_execute returned %s\n", tally.protocol, memcached_strerror(memc, rc));
        failed = 1;
    }
    if (tally.calls == 0) {
        printf("%s: the callback was never called\n", tally.protocol);
        failed = 1;
    }
    if (tally.bad) {
        printf("%s: %u of %u callbacks got unterminated strings\n", tally.protocol, tally.bad, tally.calls);
        failed = 1;
    }
    memcached_free(memc);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]);
    int failed = run(port, 0);
    failed |= run(port, 1);
    return failed;
}
