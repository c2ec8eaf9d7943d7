/*
 * A memcached stand-in that records every byte it receives, for wire.c. It runs on its own
 * thread in the test process and listens on 127.0.0.1. It replies to the text protocol like
 * memcached 1.6 (set, add, replace, append, prepend, cas, get, gets, delete, incr, decr,
 * touch, version, flush_all, verbosity, stats, quit). A connection whose first byte is 0x80
 * uses the binary protocol, and gets a server that requires SASL and rejects every
 * authentication.
 */
#ifndef SOAK_CAPTURE_SERVER_H
#define SOAK_CAPTURE_SERVER_H

#include <stddef.h>

enum capture_mode {
  CAPTURE_REPLY,        /* reply like memcached */
  CAPTURE_SILENT,       /* record, never reply, so requests time out */
  CAPTURE_CLIENT_ERROR, /* reply to storage commands with "CLIENT_ERROR bad data chunk" */
};

/* Starts the server on 127.0.0.1:PORT. Returns 0, or -1 when the port cannot be bound. */
int capture_start(unsigned short port);
void capture_stop(void);
void capture_set_mode(enum capture_mode mode);
/* Forgets every stored item. */
void capture_clear_store(void);

/* The bytes one connection received. */
struct capture_stream {
  unsigned char *data;
  size_t len;
  int binary;
};

/* Waits until the server has read every byte sent to it so far (loopback delivers a write
 * before send() returns), then returns what each connection received since the previous
 * call, in order of connection. Free the array with capture_free. */
size_t capture_collect(struct capture_stream **streams);
void capture_free(struct capture_stream *streams, size_t count);

/* One command as memcached reads the text protocol. */
#define TEXT_MAX_TOKENS 64
struct text_token {
  const unsigned char *bytes;
  size_t len;
};
struct text_command {
  size_t token_count;
  struct text_token tokens[TEXT_MAX_TOKENS];
  int truncated_at_nul; /* memcached ends the command line at its first NUL byte */
  int storage;          /* a storage command with a valid length: DATA follows */
  const unsigned char *data;
  size_t data_len;      /* <bytes> of the command line */
  int data_terminated;  /* the data block ends with \r\n */
};

typedef void (*text_command_fn)(const struct text_command *command, void *context);

/* Splits BUF into commands the way memcached 1.6 reads them: a command line ends at "\n"
 * (a "\r" before it is dropped) and at its first NUL, tokens are separated by spaces, and a
 * storage command (set, add, replace, append, prepend, cas) whose key is at most 250 bytes
 * and whose numbers parse is followed by exactly <bytes> + 2 bytes of data. A malformed
 * storage command has no data block, so memcached reads its data as further commands.
 * Calls FN for each complete command; returns the number of bytes consumed. */
size_t text_split(const unsigned char *buf, size_t len, text_command_fn fn, void *context);

#endif
