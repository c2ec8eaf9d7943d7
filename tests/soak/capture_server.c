/* The capturing memcached stand-in described in capture_server.h. */
#define _GNU_SOURCE
#include "capture_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNECTIONS 64
#define MAX_ITEMS 8192
#define KEY_MAX_LENGTH 250

/* ---- byte buffers ----------------------------------------------------------------------- */

struct buffer {
  unsigned char *data;
  size_t len;
  size_t cap;
};

static void buffer_append(struct buffer *b, const void *data, size_t len) {
  if (b->len + len > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + len) {
      cap *= 2;
    }
    b->data = realloc(b->data, cap);
    b->cap = cap;
  }
  memcpy(b->data + b->len, data, len);
  b->len += len;
}

static void buffer_consume(struct buffer *b, size_t len) {
  memmove(b->data, b->data + len, b->len - len);
  b->len -= len;
}

/* ---- the text protocol splitter --------------------------------------------------------- */

static int parse_unsigned(const struct text_token *t, uint64_t max, uint64_t *out) {
  if (t->len == 0 || t->len > 20) {
    return 0;
  }
  uint64_t value = 0;
  for (size_t i = 0; i < t->len; i++) {
    if (t->bytes[i] < '0' || t->bytes[i] > '9') {
      return 0;
    }
    uint64_t digit = (uint64_t)(t->bytes[i] - '0');
    if (value > (max - digit) / 10) {
      return 0;
    }
    value = value * 10 + digit;
  }
  *out = value;
  return 1;
}

static int parse_signed(const struct text_token *t) {
  struct text_token digits = *t;
  if (digits.len > 0 && digits.bytes[0] == '-') {
    digits.bytes++;
    digits.len--;
  }
  uint64_t ignored;
  return parse_unsigned(&digits, INT32_MAX, &ignored);
}

static int token_is(const struct text_token *t, const char *word) {
  return t->len == strlen(word) && memcmp(t->bytes, word, t->len) == 0;
}

/* For a storage command line: sets *DATA_LEN and returns 1 when memcached would read a data
 * block after it. */
static int storage_length(const struct text_command *c, size_t *data_len) {
  if (c->token_count == 0) {
    return 0;
  }
  const struct text_token *verb = &c->tokens[0];
  int plain = token_is(verb, "set") || token_is(verb, "add") || token_is(verb, "replace") ||
              token_is(verb, "append") || token_is(verb, "prepend");
  int cas = token_is(verb, "cas");
  uint64_t value;
  if (token_is(verb, "ms")) {
    /* meta set: ms <key> <datalen> <flags>* */
    if (c->token_count < 3 || c->tokens[1].len > KEY_MAX_LENGTH ||
        !parse_unsigned(&c->tokens[2], INT32_MAX - 2, &value)) {
      return 0;
    }
    *data_len = (size_t)value;
    return 1;
  }
  if (!(plain && (c->token_count == 5 || c->token_count == 6)) &&
      !(cas && (c->token_count == 6 || c->token_count == 7))) {
    return 0;
  }
  if (c->tokens[1].len > KEY_MAX_LENGTH || !parse_unsigned(&c->tokens[2], UINT32_MAX, &value) ||
      !parse_signed(&c->tokens[3]) || !parse_unsigned(&c->tokens[4], INT32_MAX - 2, &value)) {
    return 0;
  }
  *data_len = (size_t)value;
  if (cas && !parse_unsigned(&c->tokens[5], UINT64_MAX, &value)) {
    return 0;
  }
  return 1;
}

size_t text_split(const unsigned char *buf, size_t len, text_command_fn fn, void *context) {
  size_t pos = 0;
  while (pos < len) {
    const unsigned char *newline = memchr(buf + pos, '\n', len - pos);
    if (newline == NULL) {
      break;
    }
    size_t line_end = (size_t)(newline - buf);
    size_t next = line_end + 1;
    size_t content_end = line_end;
    if (content_end > pos && buf[content_end - 1] == '\r') {
      content_end--;
    }
    struct text_command c;
    memset(&c, 0, sizeof(c));
    const unsigned char *nul = memchr(buf + pos, '\0', content_end - pos);
    if (nul != NULL) {
      c.truncated_at_nul = 1;
      content_end = (size_t)(nul - buf);
    }
    size_t start = pos;
    for (size_t i = pos; i <= content_end; i++) {
      if (i == content_end || buf[i] == ' ') {
        if (i > start && c.token_count < TEXT_MAX_TOKENS) {
          c.tokens[c.token_count].bytes = buf + start;
          c.tokens[c.token_count].len = i - start;
          c.token_count++;
        }
        start = i + 1;
      }
    }
    size_t data_len;
    if (storage_length(&c, &data_len)) {
      if (len - next < data_len + 2) {
        break;
      }
      c.storage = 1;
      c.data = buf + next;
      c.data_len = data_len;
      c.data_terminated = buf[next + data_len] == '\r' && buf[next + data_len + 1] == '\n';
      next += data_len + 2;
    }
    fn(&c, context);
    pos = next;
  }
  return pos;
}

/* ---- items ------------------------------------------------------------------------------ */

struct item {
  unsigned char key[KEY_MAX_LENGTH];
  size_t key_len;
  uint32_t flags;
  unsigned char *value;
  size_t value_len;
  uint64_t cas;
};

static struct item items[MAX_ITEMS];
static size_t item_count;
static uint64_t next_cas = 1;

static struct item *find_item(const struct text_token *key) {
  for (size_t i = 0; i < item_count; i++) {
    if (items[i].key_len == key->len && memcmp(items[i].key, key->bytes, key->len) == 0) {
      return &items[i];
    }
  }
  return NULL;
}

static void remove_item(struct item *it) {
  free(it->value);
  *it = items[--item_count];
}

static struct item *new_item(const struct text_token *key) {
  if (item_count == MAX_ITEMS) {
    remove_item(&items[0]);
  }
  struct item *it = &items[item_count++];
  memcpy(it->key, key->bytes, key->len);
  it->key_len = key->len;
  it->value = NULL;
  it->value_len = 0;
  return it;
}

/* ---- connections and replies ------------------------------------------------------------ */

struct connection {
  int fd;
  int open;
  int binary;
  int kind_known;
  struct buffer pending;  /* received, not yet processed */
  struct buffer captured; /* received since the last capture_collect */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t drained = PTHREAD_COND_INITIALIZER;
static struct connection connections[MAX_CONNECTIONS];
static size_t connection_count;
static enum capture_mode mode = CAPTURE_REPLY;
static int listen_fd = -1;
static int wake_pipe[2] = {-1, -1};
static unsigned long drain_requests;
static unsigned long drains_done;
static int stopping;
static pthread_t server_thread;

static void send_all(struct connection *c, const void *data, size_t len) {
  const unsigned char *p = data;
  while (len > 0 && c->open) {
    ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd pfd = {c->fd, POLLOUT, 0};
      poll(&pfd, 1, 1000);
      continue;
    }
    if (n <= 0) {
      c->open = 0;
      return;
    }
    p += n;
    len -= (size_t)n;
  }
}

static void send_text(struct connection *c, const char *text) {
  send_all(c, text, strlen(text));
}

static int has_noreply(const struct text_command *cmd) {
  return cmd->token_count > 0 && token_is(&cmd->tokens[cmd->token_count - 1], "noreply");
}

static void reply_storage(struct connection *c, const struct text_command *cmd) {
  const struct text_token *verb = &cmd->tokens[0];
  int quiet = has_noreply(cmd);

  if (mode == CAPTURE_CLIENT_ERROR) {
    send_text(c, "CLIENT_ERROR bad data chunk\r\n");
    return;
  }
  if (!cmd->data_terminated) {
    send_text(c, "CLIENT_ERROR bad data chunk\r\n");
    return;
  }
  if (token_is(verb, "ms")) {
    send_text(c, "CLIENT_ERROR meta commands are not supported here\r\n");
    return;
  }

  uint64_t flags = 0;
  parse_unsigned(&cmd->tokens[2], UINT32_MAX, &flags);
  struct item *it = find_item(&cmd->tokens[1]);
  const char *reply = "STORED\r\n";
  if (token_is(verb, "add") && it != NULL) {
    reply = "NOT_STORED\r\n";
  } else if ((token_is(verb, "replace") || token_is(verb, "append") ||
              token_is(verb, "prepend")) &&
             it == NULL) {
    reply = "NOT_STORED\r\n";
  } else if (token_is(verb, "cas")) {
    uint64_t cas = 0;
    parse_unsigned(&cmd->tokens[5], UINT64_MAX, &cas);
    if (it == NULL) {
      reply = "NOT_FOUND\r\n";
    } else if (it->cas != cas) {
      reply = "EXISTS\r\n";
    }
  }

  if (strcmp(reply, "STORED\r\n") == 0) {
    if (token_is(verb, "append") || token_is(verb, "prepend")) {
      unsigned char *joined = malloc(it->value_len + cmd->data_len + 1);
      int append = token_is(verb, "append");
      memcpy(joined + (append ? 0 : cmd->data_len), it->value, it->value_len);
      memcpy(joined + (append ? it->value_len : 0), cmd->data, cmd->data_len);
      free(it->value);
      it->value = joined;
      it->value_len += cmd->data_len;
    } else {
      if (it == NULL) {
        it = new_item(&cmd->tokens[1]);
      }
      free(it->value);
      it->value = malloc(cmd->data_len + 1);
      memcpy(it->value, cmd->data, cmd->data_len);
      it->value_len = cmd->data_len;
      it->flags = (uint32_t)flags;
    }
    it->cas = next_cas++;
  }
  if (!quiet) {
    send_text(c, reply);
  }
}

static void reply_get(struct connection *c, const struct text_command *cmd, int with_cas) {
  for (size_t i = 1; i < cmd->token_count; i++) {
    if (cmd->tokens[i].len > KEY_MAX_LENGTH) {
      send_text(c, "CLIENT_ERROR bad command line format\r\n");
      return;
    }
  }
  for (size_t i = 1; i < cmd->token_count; i++) {
    struct item *it = find_item(&cmd->tokens[i]);
    if (it == NULL) {
      continue;
    }
    char header[64];
    send_text(c, "VALUE ");
    send_all(c, it->key, it->key_len);
    if (with_cas) {
      snprintf(header, sizeof(header), " %u %zu %llu\r\n", it->flags, it->value_len,
               (unsigned long long)it->cas);
    } else {
      snprintf(header, sizeof(header), " %u %zu\r\n", it->flags, it->value_len);
    }
    send_text(c, header);
    send_all(c, it->value, it->value_len);
    send_text(c, "\r\n");
  }
  send_text(c, "END\r\n");
}

static void reply_arithmetic(struct connection *c, const struct text_command *cmd, int incr) {
  uint64_t delta;
  if (cmd->token_count < 3 || !parse_unsigned(&cmd->tokens[2], UINT64_MAX, &delta)) {
    send_text(c, "CLIENT_ERROR invalid numeric delta argument\r\n");
    return;
  }
  struct item *it = find_item(&cmd->tokens[1]);
  if (it == NULL) {
    if (!has_noreply(cmd)) {
      send_text(c, "NOT_FOUND\r\n");
    }
    return;
  }
  struct text_token number = {it->value, it->value_len};
  uint64_t value;
  if (!parse_unsigned(&number, UINT64_MAX, &value)) {
    send_text(c, "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
    return;
  }
  value = incr ? value + delta : (delta > value ? 0 : value - delta);
  char text[32];
  int len = snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
  free(it->value);
  it->value = malloc((size_t)len + 1);
  memcpy(it->value, text, (size_t)len);
  it->value_len = (size_t)len;
  if (!has_noreply(cmd)) {
    send_all(c, text, (size_t)len);
    send_text(c, "\r\n");
  }
}

static void reply_text(const struct text_command *cmd, void *context) {
  struct connection *c = context;
  if (mode == CAPTURE_SILENT) {
    return;
  }
  if (cmd->token_count == 0) {
    send_text(c, "ERROR\r\n");
    return;
  }
  const struct text_token *verb = &cmd->tokens[0];
  if (cmd->storage) {
    reply_storage(c, cmd);
  } else if (token_is(verb, "set") || token_is(verb, "add") || token_is(verb, "replace") ||
             token_is(verb, "append") || token_is(verb, "prepend") || token_is(verb, "cas")) {
    send_text(c, "CLIENT_ERROR bad command line format\r\n");
  } else if ((token_is(verb, "get") || token_is(verb, "gets")) && cmd->token_count >= 2) {
    reply_get(c, cmd, token_is(verb, "gets"));
  } else if (token_is(verb, "delete") && cmd->token_count >= 2) {
    struct item *it = find_item(&cmd->tokens[1]);
    if (it != NULL) {
      remove_item(it);
    }
    if (!has_noreply(cmd)) {
      send_text(c, it != NULL ? "DELETED\r\n" : "NOT_FOUND\r\n");
    }
  } else if ((token_is(verb, "incr") || token_is(verb, "decr")) && cmd->token_count >= 3) {
    reply_arithmetic(c, cmd, token_is(verb, "incr"));
  } else if (token_is(verb, "touch") && cmd->token_count >= 3) {
    send_text(c, find_item(&cmd->tokens[1]) != NULL ? "TOUCHED\r\n" : "NOT_FOUND\r\n");
  } else if (token_is(verb, "version")) {
    send_text(c, "VERSION 1.6.18\r\n");
  } else if (token_is(verb, "flush_all") || token_is(verb, "verbosity")) {
    if (!has_noreply(cmd)) {
      send_text(c, "OK\r\n");
    }
  } else if (token_is(verb, "stats")) {
    send_text(c, "STAT pid 1\r\nEND\r\n");
  } else if (token_is(verb, "quit")) {
    c->open = 0;
  } else {
    send_text(c, "ERROR\r\n");
  }
}

/* Binary protocol: a server that requires SASL and rejects every credential. */
static size_t reply_binary(struct connection *c, const unsigned char *buf, size_t len) {
  size_t pos = 0;
  while (len - pos >= 24) {
    const unsigned char *h = buf + pos;
    uint32_t body =
        ((uint32_t)h[8] << 24) | ((uint32_t)h[9] << 16) | ((uint32_t)h[10] << 8) | h[11];
    if (h[0] != 0x80) {
      c->open = 0;
      return len;
    }
    if (len - pos < 24 + (size_t)body) {
      break;
    }
    unsigned char opcode = h[1];
    const char *text = "Auth failure";
    unsigned short status = 0x20;
    if (opcode == 0x20) { /* SASL list mechanisms */
      text = "PLAIN";
      status = 0;
    } else if (opcode == 0x0b) { /* version */
      text = "1.6.18";
      status = 0;
    } else if (opcode == 0x07 || opcode == 0x17) { /* quit */
      c->open = 0;
      return len;
    }
    if (mode != CAPTURE_SILENT) {
      size_t text_len = strlen(text);
      unsigned char reply[24 + 64];
      memset(reply, 0, 24);
      reply[0] = 0x81;
      reply[1] = opcode;
      reply[6] = (unsigned char)(status >> 8);
      reply[7] = (unsigned char)status;
      reply[11] = (unsigned char)text_len;
      memcpy(reply + 12, h + 12, 4); /* opaque */
      memcpy(reply + 24, text, text_len);
      send_all(c, reply, 24 + text_len);
    }
    pos += 24 + body;
  }
  return pos;
}

static void process(struct connection *c) {
  if (!c->kind_known && c->pending.len > 0) {
    c->kind_known = 1;
    c->binary = c->pending.data[0] == 0x80;
  }
  size_t used = c->binary ? reply_binary(c, c->pending.data, c->pending.len)
                          : text_split(c->pending.data, c->pending.len, reply_text, c);
  buffer_consume(&c->pending, used);
}

/* Reads every byte the connection has received. Returns 0 once it is closed. */
static int read_connection(struct connection *c) {
  unsigned char chunk[65536];
  for (;;) {
    ssize_t n = recv(c->fd, chunk, sizeof(chunk), MSG_DONTWAIT);
    if (n > 0) {
      buffer_append(&c->captured, chunk, (size_t)n);
      buffer_append(&c->pending, chunk, (size_t)n);
      process(c);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return c->open;
    }
    c->open = 0;
    return 0;
  }
}

static void accept_pending(void) {
  for (;;) {
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      return;
    }
    if (connection_count == MAX_CONNECTIONS) {
      /* Reuse the oldest closed slot whose bytes were already collected. */
      size_t i;
      for (i = 0; i < connection_count; i++) {
        if (!connections[i].open && connections[i].fd < 0 && connections[i].captured.len == 0) {
          break;
        }
      }
      if (i == connection_count) {
        close(fd);
        continue;
      }
      free(connections[i].pending.data);
      free(connections[i].captured.data);
      memmove(&connections[i], &connections[i + 1],
              (connection_count - i - 1) * sizeof(connections[0]));
      connection_count--;
    }
    struct connection *c = &connections[connection_count++];
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    c->open = 1;
  }
}

static void close_finished(void) {
  for (size_t i = 0; i < connection_count; i++) {
    struct connection *c = &connections[i];
    if (!c->open && c->fd >= 0) {
      close(c->fd);
      c->fd = -1;
    }
  }
}

static void *serve(void *arg) {
  (void)arg;
  pthread_mutex_lock(&lock);
  while (!stopping) {
    struct pollfd fds[MAX_CONNECTIONS + 2];
    size_t count = 0;
    fds[count++] = (struct pollfd){listen_fd, POLLIN, 0};
    fds[count++] = (struct pollfd){wake_pipe[0], POLLIN, 0};
    for (size_t i = 0; i < connection_count; i++) {
      fds[count++] = (struct pollfd){connections[i].open ? connections[i].fd : -1, POLLIN, 0};
    }
    pthread_mutex_unlock(&lock);
    poll(fds, count, 1000);
    pthread_mutex_lock(&lock);
    char drain[64];
    while (read(wake_pipe[0], drain, sizeof(drain)) > 0) {
    }
    unsigned long requested = drain_requests;
    accept_pending();
    for (size_t i = 0; i < connection_count; i++) {
      if (connections[i].open) {
        read_connection(&connections[i]);
      }
    }
    close_finished();
    if (drains_done != requested) {
      drains_done = requested;
      pthread_cond_broadcast(&drained);
    }
  }
  pthread_mutex_unlock(&lock);
  return NULL;
}

int capture_start(unsigned short port) {
  listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int enable = 1;
  setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &enable, sizeof(enable));
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(listen_fd, 64) != 0 ||
      pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
    close(listen_fd);
    listen_fd = -1;
    return -1;
  }
  pthread_create(&server_thread, NULL, serve, NULL);
  return 0;
}

void capture_stop(void) {
  pthread_mutex_lock(&lock);
  stopping = 1;
  pthread_mutex_unlock(&lock);
  if (write(wake_pipe[1], "x", 1) < 0) {
    /* The server thread still wakes up within a second. */
  }
  pthread_join(server_thread, NULL);
  for (size_t i = 0; i < connection_count; i++) {
    if (connections[i].fd >= 0) {
      close(connections[i].fd);
    }
    free(connections[i].pending.data);
    free(connections[i].captured.data);
  }
  connection_count = 0;
  capture_clear_store();
  close(listen_fd);
  close(wake_pipe[0]);
  close(wake_pipe[1]);
}

void capture_set_mode(enum capture_mode new_mode) {
  pthread_mutex_lock(&lock);
  mode = new_mode;
  pthread_mutex_unlock(&lock);
}

void capture_clear_store(void) {
  pthread_mutex_lock(&lock);
  while (item_count > 0) {
    remove_item(&items[item_count - 1]);
  }
  pthread_mutex_unlock(&lock);
}

size_t capture_collect(struct capture_stream **streams) {
  pthread_mutex_lock(&lock);
  unsigned long target = ++drain_requests;
  if (write(wake_pipe[1], "x", 1) < 0) {
    /* The server thread still drains within a second. */
  }
  while (drains_done < target) {
    pthread_cond_wait(&drained, &lock);
  }
  size_t count = 0;
  struct capture_stream *out = calloc(connection_count + 1, sizeof(*out));
  for (size_t i = 0; i < connection_count; i++) {
    struct connection *c = &connections[i];
    if (c->captured.len == 0) {
      continue;
    }
    out[count].data = malloc(c->captured.len);
    memcpy(out[count].data, c->captured.data, c->captured.len);
    out[count].len = c->captured.len;
    out[count].binary = c->binary;
    count++;
    c->captured.len = 0;
  }
  pthread_mutex_unlock(&lock);
  *streams = out;
  return count;
}

void capture_free(struct capture_stream *streams, size_t count) {
  for (size_t i = 0; i < count; i++) {
    free(streams[i].data);
  }
  free(streams);
}
