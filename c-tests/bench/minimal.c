/*
 * Baseline client for the benchmark: the fewest system calls a memcached client can make,
 * with no client library. It runs the workloads set-100B, get-100B and mget-100 of bench.c
 * against one server, on the same keys, values and flags (bench_data.h), checks every value
 * the same way, and prints its result line in bench.c's format with library=minimal.
 *
 * proftpd runs bench.c's proftpd cycle (a set, a get of that key, two gets of absent keys)
 * against three servers in the binary protocol, with the keys ProFTPD's prefix gives them on
 * the wire. Each set writes the key's two replica copies before it returns, as one send()
 * of a quiet SETQ to each of the other servers after the primary's reply, and each get reads
 * one of the three copies, picked at random. Keys go to servers by index rather than by ketama: the
 * number and size of the messages are what count.
 *
 * Each single-key get or set is one blocking send() of the whole request and one recv() of
 * the reply. recv() is repeated only when the reply has not fully arrived, which on loopback
 * is rare for 100-byte values. mget-100 is pipelined: the text protocol sends one
 * "get k0 ... k99\r\n", the binary protocol sends 100 GETKQ requests and a NOOP in one
 * send(), then reads until the END line or the NOOP response.
 *
 * The socket keeps the kernel's defaults (Nagle's algorithm on), as libmemcached does unless
 * MEMCACHED_BEHAVIOR_TCP_NODELAY is set. proftpd sets TCP_NODELAY, as ProFTPD does.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench_data.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

enum op_kind { OP_SET, OP_GET, OP_MGET, OP_PROFTPD };

static const struct {
    const char *name;
    enum op_kind kind;
} workloads[] = {
    {"set-100B", OP_SET},
    {"get-100B", OP_GET},
    {"mget-100", OP_MGET},
    {"proftpd", OP_PROFTPD},
};

enum { WORKLOAD_COUNT = sizeof workloads / sizeof workloads[0] };

/* The key set of every workload is the one bench.c uses for them: 100 keys. */
enum { KEY_COUNT = 100, DEFAULT_VALUE_SIZE = 100, WARMUP_OPS = 8 };

/* proftpd: servers, and copies of each key besides the primary one. */
enum { PROFTPD_SERVERS = 3, PROFTPD_REPLICAS = 2 };
static const char proftpd_prefix[] = "mod_ban.";

/* Binary protocol constants from memcached's protocol_binary.h. */
enum {
    BINARY_REQUEST = 0x80,
    BINARY_RESPONSE = 0x81,
    OPCODE_GET = 0x00,
    OPCODE_SET = 0x01,
    OPCODE_NOOP = 0x0a,
    OPCODE_GETKQ = 0x0d,
    OPCODE_SETQ = 0x11,
    STATUS_KEY_NOT_FOUND = 0x0001,
    BINARY_HEADER_SIZE = 24,
};

struct buffer {
    unsigned char *data;
    size_t length;
    size_t capacity;
};

struct client {
    const char *workload;
    enum op_kind kind;
    bool binary;
    /* The connection the next request goes to: one of fds. */
    int fd;
    int fds[PROFTPD_SERVERS];
    size_t server_count;
    size_t value_size;
    char *keys[KEY_COUNT];
    size_t key_lengths[KEY_COUNT];
    /* proftpd: keys that are never stored, and the state of the replica choice. */
    char *miss_keys[KEY_COUNT];
    size_t miss_key_lengths[KEY_COUNT];
    uint64_t random_state;
    unsigned char *values;
    struct buffer request;
    /* Bytes received and not yet consumed start at reply.data + reply_start. */
    struct buffer reply;
    size_t reply_start;
};

static void fail(const struct client *c, const char *format, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void fail(const struct client *c, const char *format, ...)
{
    va_list args;
    fprintf(stderr, "minimal: %s %s: ", c->workload, c->binary ? "binary" : "text");
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    exit(1);
}

static void *xrealloc(void *pointer, size_t size)
{
    void *p = realloc(pointer, size ? size : 1);
    if (p == NULL) {
        fprintf(stderr, "minimal: out of memory allocating %zu bytes\n", size);
        exit(1);
    }
    return p;
}

static void reserve(struct buffer *buffer, size_t extra)
{
    if (buffer->length + extra <= buffer->capacity) {
        return;
    }
    size_t capacity = buffer->capacity ? buffer->capacity : 4096;
    while (capacity < buffer->length + extra) {
        capacity *= 2;
    }
    buffer->data = xrealloc(buffer->data, capacity);
    buffer->capacity = capacity;
}

static void append(struct buffer *buffer, const void *bytes, size_t length)
{
    reserve(buffer, length);
    memcpy(buffer->data + buffer->length, bytes, length);
    buffer->length += length;
}

static void append_decimal(struct buffer *buffer, uint64_t value)
{
    char digits[20];
    size_t count = 0;
    do {
        digits[sizeof digits - 1 - count++] = (char)('0' + value % 10);
        value /= 10;
    } while (value > 0);
    append(buffer, digits + sizeof digits - count, count);
}

static void put_be16(unsigned char *out, uint16_t value)
{
    out[0] = (unsigned char)(value >> 8);
    out[1] = (unsigned char)value;
}

static void put_be32(unsigned char *out, uint32_t value)
{
    put_be16(out, (uint16_t)(value >> 16));
    put_be16(out + 2, (uint16_t)value);
}

static uint32_t get_be32(const unsigned char *in)
{
    return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

static void append_binary_header(struct buffer *buffer, uint8_t opcode, size_t key_length,
                                 uint8_t extras_length, size_t value_length, uint32_t opaque)
{
    unsigned char header[BINARY_HEADER_SIZE] = {0};
    header[0] = BINARY_REQUEST;
    header[1] = opcode;
    put_be16(header + 2, (uint16_t)key_length);
    header[4] = extras_length;
    put_be32(header + 8, (uint32_t)(extras_length + key_length + value_length));
    put_be32(header + 12, opaque);
    append(buffer, header, sizeof header);
}

static void send_request(struct client *c)
{
    size_t sent = 0;
    while (sent < c->request.length) {
        ssize_t n = send(c->fd, c->request.data + sent, c->request.length - sent, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            fail(c, "send failed: %s", n < 0 ? strerror(errno) : "returned 0");
        }
        sent += (size_t)n;
    }
    c->request.length = 0;
}

/* Appends what one recv() returns to the reply buffer. */
static void receive(struct client *c)
{
    if (c->reply_start == c->reply.length) {
        c->reply_start = 0;
        c->reply.length = 0;
    }
    reserve(&c->reply, 64 * 1024);
    ssize_t n;
    do {
        n = recv(c->fd, c->reply.data + c->reply.length, c->reply.capacity - c->reply.length, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        fail(c, "recv failed: %s", strerror(errno));
    }
    if (n == 0) {
        fail(c, "the server closed the connection");
    }
    c->reply.length += (size_t)n;
}

static void check_value(const struct client *c, uint32_t index, const unsigned char *value,
                        size_t length, uint32_t flags)
{
    const unsigned char *expected = c->values + (size_t)index * c->value_size;
    if (length != c->value_size) {
        fail(c, "key %s returned %zu bytes, expected %zu", c->keys[index], length, c->value_size);
    }
    if (flags != index) {
        fail(c, "key %s returned flags %" PRIu32 ", expected %" PRIu32, c->keys[index], flags,
             index);
    }
    if (memcmp(value, expected, length) != 0) {
        size_t i = 0;
        while (value[i] == expected[i]) {
            i++;
        }
        fail(c, "value of key %s differs at byte %zu: expected 0x%02x, got 0x%02x",
             c->keys[index], i, expected[i], value[i]);
    }
}

/* Returns the index of the benchmark key named by bytes, or -1. */
static int key_index(const struct client *c, const unsigned char *bytes, size_t length)
{
    for (size_t start = length; start > 0; start--) {
        if (bytes[start - 1] != ':') {
            continue;
        }
        uint32_t index = 0;
        if (start == length || length - start > 9) {
            return -1;
        }
        for (size_t i = start; i < length; i++) {
            if (bytes[i] < '0' || bytes[i] > '9') {
                return -1;
            }
            index = index * 10 + (uint32_t)(bytes[i] - '0');
        }
        if (index >= KEY_COUNT || c->key_lengths[index] != length ||
            memcmp(c->keys[index], bytes, length) != 0) {
            return -1;
        }
        return (int)index;
    }
    return -1;
}

/* Text replies */

enum parse_status { PARSE_NEED_MORE, PARSE_VALUE, PARSE_END };

/* Parses the next item of a text get reply: a VALUE line with its data block, or END.
 * On PARSE_VALUE, *index is the key's index and the value has been checked. */
static enum parse_status parse_text_item(struct client *c, int *index)
{
    const unsigned char *start = c->reply.data + c->reply_start;
    size_t available = c->reply.length - c->reply_start;
    const unsigned char *line_end = NULL;
    for (size_t i = 0; i + 1 < available; i++) {
        if (start[i] == '\r' && start[i + 1] == '\n') {
            line_end = start + i;
            break;
        }
    }
    if (line_end == NULL) {
        return PARSE_NEED_MORE;
    }
    size_t line_length = (size_t)(line_end - start);
    if (line_length == 3 && memcmp(start, "END", 3) == 0) {
        c->reply_start += 5;
        return PARSE_END;
    }
    if (line_length < 6 || memcmp(start, "VALUE ", 6) != 0) {
        fail(c, "unexpected reply line '%.*s'", (int)line_length, (const char *)start);
    }

    /* VALUE <key> <flags> <bytes> */
    const unsigned char *key = start + 6;
    const unsigned char *key_end = memchr(key, ' ', line_length - 6);
    if (key_end == NULL) {
        fail(c, "malformed VALUE line '%.*s'", (int)line_length, (const char *)start);
    }
    char numbers[64];
    size_t numbers_length = (size_t)(line_end - key_end);
    if (numbers_length >= sizeof numbers) {
        fail(c, "malformed VALUE line '%.*s'", (int)line_length, (const char *)start);
    }
    memcpy(numbers, key_end, numbers_length);
    numbers[numbers_length] = '\0';
    char *end = NULL;
    unsigned long flags = strtoul(numbers, &end, 10);
    unsigned long bytes = strtoul(end, &end, 10);
    if (*end != '\0') {
        fail(c, "malformed VALUE line '%.*s'", (int)line_length, (const char *)start);
    }
    size_t item_length = line_length + 2 + bytes + 2;
    if (available < item_length) {
        return PARSE_NEED_MORE;
    }
    const unsigned char *data = line_end + 2;
    if (data[bytes] != '\r' || data[bytes + 1] != '\n') {
        fail(c, "data block of %lu bytes does not end with \\r\\n", bytes);
    }
    *index = key_index(c, key, (size_t)(key_end - key));
    if (*index < 0) {
        fail(c, "reply for unrequested key '%.*s'", (int)(key_end - key), (const char *)key);
    }
    check_value(c, (uint32_t)*index, data, bytes, (uint32_t)flags);
    c->reply_start += item_length;
    return PARSE_VALUE;
}

/* Reads a one-line reply, such as STORED, and fails unless it equals expected. */
static void expect_text_line(struct client *c, const char *expected)
{
    const unsigned char *newline;
    while ((newline = memchr(c->reply.data + c->reply_start, '\n',
                             c->reply.length - c->reply_start)) == NULL) {
        receive(c);
    }
    const unsigned char *line = c->reply.data + c->reply_start;
    size_t line_length = (size_t)(newline + 1 - line);
    size_t expected_length = strlen(expected);
    if (line_length != expected_length + 2 || memcmp(line, expected, expected_length) != 0 ||
        line[expected_length] != '\r') {
        fail(c, "expected %s, got '%.*s'", expected, (int)line_length - 2, (const char *)line);
    }
    c->reply_start += line_length;
}

/* Reads text get replies until END and returns how many values arrived. seen, when not
 * NULL, marks each key that arrived and must not arrive twice. */
static unsigned read_text_values(struct client *c, bool *seen)
{
    unsigned received = 0;
    for (;;) {
        int index = -1;
        enum parse_status status = parse_text_item(c, &index);
        if (status == PARSE_NEED_MORE) {
            receive(c);
        } else if (status == PARSE_END) {
            return received;
        } else {
            if (seen != NULL) {
                if (seen[index]) {
                    fail(c, "key %s returned twice", c->keys[index]);
                }
                seen[index] = true;
            }
            received++;
        }
    }
}

/* Binary responses */

struct binary_response {
    uint8_t opcode;
    uint16_t status;
    uint32_t opaque;
    const unsigned char *extras;
    uint8_t extras_length;
    const unsigned char *key;
    size_t key_length;
    const unsigned char *value;
    size_t value_length;
};

/* Reads the next whole binary response into *response. Its pointers stay valid until the
 * next read. */
static void read_binary_response(struct client *c, struct binary_response *response)
{
    while (c->reply.length - c->reply_start < BINARY_HEADER_SIZE) {
        receive(c);
    }
    const unsigned char *header = c->reply.data + c->reply_start;
    if (header[0] != BINARY_RESPONSE) {
        fail(c, "response starts with 0x%02x, expected 0x81", header[0]);
    }
    size_t key_length = (size_t)header[2] << 8 | header[3];
    uint8_t extras_length = header[4];
    uint32_t body_length = get_be32(header + 8);
    if (extras_length + key_length > body_length) {
        fail(c, "response body of %" PRIu32 " bytes is shorter than its key and extras",
             body_length);
    }
    while (c->reply.length - c->reply_start < BINARY_HEADER_SIZE + (size_t)body_length) {
        receive(c);
    }
    header = c->reply.data + c->reply_start;
    response->opcode = header[1];
    response->status = (uint16_t)(header[6] << 8 | header[7]);
    response->opaque = get_be32(header + 12);
    response->extras = header + BINARY_HEADER_SIZE;
    response->extras_length = extras_length;
    response->key = response->extras + extras_length;
    response->key_length = key_length;
    response->value = response->key + key_length;
    response->value_length = body_length - extras_length - key_length;
    c->reply_start += BINARY_HEADER_SIZE + (size_t)body_length;
}

static void expect_binary_success(const struct client *c, const struct binary_response *response,
                                  uint8_t opcode)
{
    if (response->opcode != opcode) {
        fail(c, "response opcode 0x%02x, expected 0x%02x", response->opcode, opcode);
    }
    if (response->status != 0) {
        fail(c, "response status 0x%04x to opcode 0x%02x: %.*s", response->status, opcode,
             (int)response->value_length, (const char *)response->value);
    }
}

static uint32_t binary_flags(const struct client *c, const struct binary_response *response)
{
    if (response->extras_length != 4) {
        fail(c, "get response has %u bytes of extras, expected 4", response->extras_length);
    }
    return get_be32(response->extras);
}

/* Operations */

static const unsigned char *value_of(const struct client *c, uint32_t index)
{
    return c->values + (size_t)index * c->value_size;
}

static void set_key(struct client *c, uint32_t index)
{
    const char *key = c->keys[index];
    size_t key_length = c->key_lengths[index];
    if (c->binary) {
        unsigned char extras[8] = {0};
        put_be32(extras, index);
        append_binary_header(&c->request, OPCODE_SET, key_length, sizeof extras, c->value_size,
                             index);
        append(&c->request, extras, sizeof extras);
        append(&c->request, key, key_length);
        append(&c->request, value_of(c, index), c->value_size);
        send_request(c);
        struct binary_response response;
        read_binary_response(c, &response);
        expect_binary_success(c, &response, OPCODE_SET);
    } else {
        append(&c->request, "set ", 4);
        append(&c->request, key, key_length);
        append(&c->request, " ", 1);
        append_decimal(&c->request, index);
        append(&c->request, " 0 ", 3);
        append_decimal(&c->request, c->value_size);
        append(&c->request, "\r\n", 2);
        append(&c->request, value_of(c, index), c->value_size);
        append(&c->request, "\r\n", 2);
        send_request(c);
        expect_text_line(c, "STORED");
    }
}

static void get_key(struct client *c, uint32_t index)
{
    const char *key = c->keys[index];
    size_t key_length = c->key_lengths[index];
    if (c->binary) {
        append_binary_header(&c->request, OPCODE_GET, key_length, 0, 0, index);
        append(&c->request, key, key_length);
        send_request(c);
        struct binary_response response;
        read_binary_response(c, &response);
        expect_binary_success(c, &response, OPCODE_GET);
        if (response.opaque != index) {
            fail(c, "response opaque %" PRIu32 ", expected %" PRIu32, response.opaque, index);
        }
        check_value(c, index, response.value, response.value_length,
                    binary_flags(c, &response));
    } else {
        append(&c->request, "get ", 4);
        append(&c->request, key, key_length);
        append(&c->request, "\r\n", 2);
        send_request(c);
        bool seen[KEY_COUNT] = {false};
        if (read_text_values(c, seen) != 1 || !seen[index]) {
            fail(c, "get of key %s did not return exactly that key", key);
        }
    }
}

static void mget(struct client *c)
{
    bool seen[KEY_COUNT] = {false};
    unsigned received = 0;
    if (c->binary) {
        for (uint32_t i = 0; i < KEY_COUNT; i++) {
            append_binary_header(&c->request, OPCODE_GETKQ, c->key_lengths[i], 0, 0, i);
            append(&c->request, c->keys[i], c->key_lengths[i]);
        }
        append_binary_header(&c->request, OPCODE_NOOP, 0, 0, 0, KEY_COUNT);
        send_request(c);
        for (;;) {
            struct binary_response response;
            read_binary_response(c, &response);
            if (response.opcode == OPCODE_NOOP) {
                expect_binary_success(c, &response, OPCODE_NOOP);
                break;
            }
            expect_binary_success(c, &response, OPCODE_GETKQ);
            int index = key_index(c, response.key, response.key_length);
            if (index < 0 || seen[index]) {
                fail(c, "GETKQ response for %s key '%.*s'", index < 0 ? "unrequested" : "duplicate",
                     (int)response.key_length, (const char *)response.key);
            }
            seen[index] = true;
            received++;
            check_value(c, (uint32_t)index, response.value, response.value_length,
                        binary_flags(c, &response));
        }
    } else {
        append(&c->request, "get", 3);
        for (uint32_t i = 0; i < KEY_COUNT; i++) {
            append(&c->request, " ", 1);
            append(&c->request, c->keys[i], c->key_lengths[i]);
        }
        append(&c->request, "\r\n", 2);
        send_request(c);
        received = read_text_values(c, seen);
    }
    if (received != KEY_COUNT) {
        fail(c, "mget of %d keys returned %u values", KEY_COUNT, received);
    }
}

/* proftpd: a binary request for key index's copy on server `server`, without a value. */
static void proftpd_get(struct client *c, size_t server, const char *key, size_t key_length,
                        uint32_t opaque)
{
    c->fd = c->fds[server];
    append_binary_header(&c->request, OPCODE_GET, key_length, 0, 0, opaque);
    append(&c->request, key, key_length);
    send_request(c);
}

static void append_binary_set(struct client *c, uint8_t opcode, uint32_t index)
{
    unsigned char extras[8] = {0};
    put_be32(extras, index);
    append_binary_header(&c->request, opcode, c->key_lengths[index], sizeof extras,
                         c->value_size, index);
    append(&c->request, extras, sizeof extras);
    append(&c->request, c->keys[index], c->key_lengths[index]);
    append(&c->request, value_of(c, index), c->value_size);
}

/* Stores key index on its primary server and waits for the reply, then sends the quiet
 * copies to the other servers. */
static void proftpd_set(struct client *c, uint32_t index)
{
    size_t primary = index % PROFTPD_SERVERS;
    c->fd = c->fds[primary];
    append_binary_set(c, OPCODE_SET, index);
    send_request(c);
    struct binary_response response;
    read_binary_response(c, &response);
    expect_binary_success(c, &response, OPCODE_SET);
    for (size_t r = 1; r <= PROFTPD_REPLICAS; r++) {
        c->fd = c->fds[(primary + r) % PROFTPD_SERVERS];
        append_binary_set(c, OPCODE_SETQ, index);
        send_request(c);
    }
}

/* Reads key index from one of its three copies, picked at random. */
static void proftpd_get_hit(struct client *c, uint32_t index)
{
    c->random_state ^= c->random_state << 13;
    c->random_state ^= c->random_state >> 7;
    c->random_state ^= c->random_state << 17;
    size_t server = (index + (size_t)(c->random_state % PROFTPD_SERVERS)) % PROFTPD_SERVERS;
    proftpd_get(c, server, c->keys[index], c->key_lengths[index], index);
    struct binary_response response;
    read_binary_response(c, &response);
    expect_binary_success(c, &response, OPCODE_GET);
    check_value(c, index, response.value, response.value_length, binary_flags(c, &response));
}

static void proftpd_get_miss(struct client *c, uint32_t index)
{
    proftpd_get(c, index % PROFTPD_SERVERS, c->miss_keys[index], c->miss_key_lengths[index],
                index);
    struct binary_response response;
    read_binary_response(c, &response);
    if (response.opcode != OPCODE_GET || response.status != STATUS_KEY_NOT_FOUND) {
        fail(c, "get of an absent key: opcode 0x%02x status 0x%04x, expected 0x%02x 0x%04x",
             response.opcode, response.status, OPCODE_GET, STATUS_KEY_NOT_FOUND);
    }
}

/* Runs one operation of bench.c's proftpd cycle (see proftpd_step_of). */
static void proftpd_op(struct client *c, uint64_t op)
{
    uint32_t index;
    switch (proftpd_step_of(op, KEY_COUNT, &index)) {
    case PROFTPD_SET:
        proftpd_set(c, index);
        break;
    case PROFTPD_GET_HIT:
        proftpd_get_hit(c, index);
        break;
    case PROFTPD_GET_MISS:
        proftpd_get_miss(c, index);
        break;
    }
}

static void run_op(struct client *c, uint64_t op)
{
    uint32_t index = (uint32_t)(op % KEY_COUNT);
    switch (c->kind) {
    case OP_SET:
        set_key(c, index);
        break;
    case OP_GET:
        get_key(c, index);
        break;
    case OP_MGET:
        mget(c);
        break;
    case OP_PROFTPD:
        proftpd_op(c, op);
        break;
    }
}

/* Setup */

static int connect_to(const char *server)
{
    char *copy = xrealloc(NULL, strlen(server) + 1);
    strcpy(copy, server);
    char *colon = strrchr(copy, ':');
    if (colon == NULL || colon[1] == '\0') {
        fprintf(stderr, "minimal: invalid server '%s': expected HOST:PORT\n", server);
        exit(2);
    }
    *colon = '\0';
    char *host = copy;
    size_t host_length = strlen(host);
    if (host_length >= 2 && host[0] == '[' && host[host_length - 1] == ']') {
        host[host_length - 1] = '\0';
        host++;
    }

    struct addrinfo hints = {0};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo *addresses = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &addresses);
    if (rc != 0) {
        fprintf(stderr, "minimal: cannot resolve %s: %s\n", server, gai_strerror(rc));
        exit(1);
    }
    int fd = -1;
    int saved_errno = 0;
    for (struct addrinfo *a = addresses; a != NULL && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            saved_errno = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(addresses);
    if (fd < 0) {
        fprintf(stderr, "minimal: cannot connect to %s: %s\n", server, strerror(saved_errno));
        exit(1);
    }
    free(copy);
    return fd;
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

static double parse_positive(const char *text, const char *option)
{
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(value > 0)) {
        fprintf(stderr, "minimal: invalid %s '%s': expected a positive number\n", option, text);
        exit(2);
    }
    return value;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: minimal -s HOST:PORT[,HOST:PORT...] -w WORKLOAD [-p text|binary]\n"
            "               [-t SECONDS | -n OPS] [-v BYTES]\n"
            "       minimal -l\n"
            "  -s  the memcached server; proftpd needs 3, separated by commas\n"
            "  -w  workload to run (list them with -l)\n"
            "  -p  protocol, text (default) or binary; proftpd is binary only\n"
            "  -t  run for this many seconds (default 1)\n"
            "  -n  run exactly this many operations instead of a fixed time\n"
            "  -v  value size in bytes (default 100)\n");
}

int main(int argc, char **argv)
{
    struct client c = {0};
    const char *server = NULL;
    const char *protocol = "text";
    double duration = 1.0;
    uint64_t op_limit = 0;
    double value_size = DEFAULT_VALUE_SIZE;
    int opt;

    while ((opt = getopt(argc, argv, "s:w:p:t:n:v:lh")) != -1) {
        switch (opt) {
        case 's':
            server = optarg;
            break;
        case 'w':
            c.workload = optarg;
            break;
        case 'p':
            protocol = optarg;
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
    if (optind != argc || server == NULL || c.workload == NULL) {
        usage(stderr);
        return 2;
    }
    size_t w = 0;
    while (w < WORKLOAD_COUNT && strcmp(workloads[w].name, c.workload) != 0) {
        w++;
    }
    if (w == WORKLOAD_COUNT) {
        fprintf(stderr, "minimal: unknown workload '%s' (list them with -l)\n", c.workload);
        return 2;
    }
    c.kind = workloads[w].kind;
    if (strcmp(protocol, "text") != 0 && strcmp(protocol, "binary") != 0) {
        fprintf(stderr, "minimal: invalid protocol '%s': expected text or binary\n", protocol);
        return 2;
    }
    c.binary = strcmp(protocol, "binary") == 0;
    c.value_size = (size_t)value_size;
    bool proftpd = c.kind == OP_PROFTPD;
    if (proftpd && !c.binary) {
        fprintf(stderr, "minimal: the proftpd workload uses the binary protocol only\n");
        return 2;
    }

    /* Connect to each server of the comma-separated list. */
    char *servers = xrealloc(NULL, strlen(server) + 1);
    strcpy(servers, server);
    for (char *next = servers, *comma; next != NULL; next = comma) {
        comma = strchr(next, ',');
        if (comma != NULL) {
            *comma++ = '\0';
        }
        if (c.server_count == PROFTPD_SERVERS) {
            fprintf(stderr, "minimal: at most %d servers\n", PROFTPD_SERVERS);
            return 2;
        }
        c.fds[c.server_count] = connect_to(next);
        int on = 1;
        if (proftpd &&
            setsockopt(c.fds[c.server_count], IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0) {
            fprintf(stderr, "minimal: setsockopt TCP_NODELAY: %s\n", strerror(errno));
            return 1;
        }
        c.server_count++;
    }
    free(servers);
    size_t servers_needed = proftpd ? PROFTPD_SERVERS : 1;
    if (c.server_count != servers_needed) {
        fprintf(stderr, "minimal: the %s workload needs %zu server(s), got %zu\n", c.workload,
                servers_needed, c.server_count);
        return 2;
    }
    c.fd = c.fds[0];
    c.random_state = 0x2545F4914F6CDD1Du;

    /* proftpd's keys carry its prefix on the wire and end with a NUL byte that is part of
     * the key, as in bench.c. */
    const char *prefix = proftpd ? proftpd_prefix : "";
    size_t nul = proftpd ? 1 : 0;
    c.values = xrealloc(NULL, (size_t)KEY_COUNT * c.value_size);
    for (uint32_t i = 0; i < KEY_COUNT; i++) {
        char text[80];
        int length = snprintf(text, sizeof text, "%s", prefix);
        length += format_key(text + length, sizeof text - (size_t)length,
                             proftpd ? "proftpd" : "v", c.value_size, i);
        c.key_lengths[i] = (size_t)length + nul;
        c.keys[i] = xrealloc(NULL, (size_t)length + 1);
        memcpy(c.keys[i], text, (size_t)length + 1);
        length = snprintf(text, sizeof text, "%sbench:miss:%" PRIu32, prefix, i);
        c.miss_key_lengths[i] = (size_t)length + nul;
        c.miss_keys[i] = xrealloc(NULL, (size_t)length + 1);
        memcpy(c.miss_keys[i], text, (size_t)length + 1);
        fill_value(c.values + (size_t)i * c.value_size, c.value_size, i);
    }

    if (c.kind != OP_SET) {
        for (uint32_t i = 0; i < KEY_COUNT; i++) {
            if (proftpd) {
                proftpd_set(&c, i);
            } else {
                set_key(&c, i);
            }
        }
    }

    uint64_t op = 0;
    for (; op < WARMUP_OPS; op++) {
        run_op(&c, op);
    }
    double start = now_seconds();
    double cpu_start = cpu_seconds();
    uint64_t ops = 0;
    if (op_limit > 0) {
        for (; ops < op_limit; ops++) {
            run_op(&c, op++);
        }
    } else {
        double deadline = start + duration;
        do {
            run_op(&c, op++);
            ops++;
        } while (now_seconds() < deadline);
    }
    double elapsed = now_seconds() - start;
    double cpu = cpu_seconds() - cpu_start;
    if (c.kind == OP_SET) {
        /* Reads back the last key stored, as bench.c does. */
        get_key(&c, (uint32_t)((op - 1) % KEY_COUNT));
    }

    printf("workload=%s protocol=%s servers=%zu value_size=%zu ops=%" PRIu64
           " seconds=%.6f ops_per_sec=%.1f cpu_us_per_op=%.3f library=minimal\n",
           c.workload, protocol, c.server_count, c.value_size, ops, elapsed,
           (double)ops / elapsed, cpu * 1e6 / (double)ops);

    for (size_t i = 0; i < c.server_count; i++) {
        close(c.fds[i]);
    }
    for (uint32_t i = 0; i < KEY_COUNT; i++) {
        free(c.keys[i]);
        free(c.miss_keys[i]);
    }
    free(c.values);
    free(c.request.data);
    free(c.reply.data);
    return 0;
}
