/*
 * memcached_st.flags.binary_protocol must follow
 * MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, also in a memcached_clone() into
 * caller memory. Debian's memcslap reads the bit directly (libmemcached's
 * internal memcached_is_binary() macro, compiled into the tool) to choose
 * between memcached_mget_execute (binary only) and memcached_mget: with the
 * bit wrong, "memcslap -t mget" on the text protocol fails with "Failed mget:
 * ACTION NOT SUPPORTED".
 *
 * Usage: struct_flags_binary_protocol [PORT]   (PORT is ignored)
 * Exits 0 when the bit matches the behavior in every case.
 */
#include <libmemcached/memcached.h>
#include <stdio.h>
#include <string.h>

static int expect_bit(const char *what, const memcached_st *memc, int expected)
{
    int actual = memc->flags.binary_protocol;
    if (actual == expected) {
        return 0;
    }
    printf("%s: flags.binary_protocol is %d, expected %d\n", what, actual, expected);
    return 1;
}

int main(void)
{
    int failed = 0;
    memcached_st *root = memcached_create(NULL);
    failed |= expect_bit("memcached_create", root, 0);

    memcached_behavior_set(root, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1);
    failed |= expect_bit("after BINARY_PROTOCOL=1", root, 1);

    /* memcslap clones into a value-initialized memcached_st of its own. */
    memcached_st clone;
    memset(&clone, 0, sizeof clone);
    memcached_clone(&clone, root);
    failed |= expect_bit("clone of a binary handle", &clone, 1);
    memcached_free(&clone);

    memcached_behavior_set(root, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 0);
    failed |= expect_bit("after BINARY_PROTOCOL=0", root, 0);
    memset(&clone, 0, sizeof clone);
    memcached_clone(&clone, root);
    failed |= expect_bit("clone of a text handle", &clone, 0);
    memcached_free(&clone);

    memcached_st on_stack;
    memcached_create(&on_stack);
    failed |= expect_bit("memcached_create on the stack", &on_stack, 0);
    memcached_free(&on_stack);

    memcached_free(root);
    return failed;
}
