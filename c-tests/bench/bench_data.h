/*
 * Keys and values shared by bench.c and minimal.c, so that both store and check the same
 * data: key `index` of a workload with values of `value_size` bytes is
 * "bench:<family><value_size>:<index>", its value is fill_value(..., value_size, index) and
 * its flags are `index`.
 */
#ifndef BENCH_DATA_H
#define BENCH_DATA_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Fills the value of key `index` with pseudo-random bytes, so that every key and every size
 * has its own content and a value delivered for the wrong key is detected. All byte values,
 * including \r, \n and NUL, occur. */
static inline void fill_value(unsigned char *out, size_t size, uint32_t index)
{
    uint64_t state = ((uint64_t)index + 1) * 0x9E3779B97F4A7C15u ^ (uint64_t)size;
    for (size_t i = 0; i < size; i++) {
        if (i % 8 == 0) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
        }
        out[i] = (unsigned char)(state >> (8 * (i % 8)));
    }
}

/* Writes the NUL-terminated name of key `index` to out and returns its length, as snprintf
 * does. bench.c uses the family "v" for stored values and "proftpd" for its proftpd
 * workload. */
static inline int format_key(char *out, size_t size, const char *family, size_t value_size,
                             uint32_t index)
{
    return snprintf(out, size, "bench:%s%zu:%" PRIu32, family, value_size, index);
}

/* The steps of the proftpd workload. A session of ProFTPD's mod_ban mostly looks up ban
 * entries that do not exist and now and then stores one, so each cycle of four operations
 * stores a key, reads it back and looks up two absent keys. */
enum proftpd_step { PROFTPD_SET, PROFTPD_GET_HIT, PROFTPD_GET_MISS };

/* Returns the step of operation `op` in the proftpd cycle and stores in *index the key it
 * uses, out of key_count stored keys or key_count absent ones. */
static inline enum proftpd_step proftpd_step_of(uint64_t op, uint32_t key_count,
                                                uint32_t *index)
{
    switch (op % 4) {
    case 0:
        *index = (uint32_t)((op / 4) % key_count);
        return PROFTPD_SET;
    case 1:
        *index = (uint32_t)((op / 4) % key_count);
        return PROFTPD_GET_HIT;
    default:
        *index = (uint32_t)((op / 2) % key_count);
        return PROFTPD_GET_MISS;
    }
}

#endif
