/*
 * mcctl: talks to memcached servers for run.sh without using any client library, so the
 * test harness does not depend on the library under test.
 *
 *   mcctl wait  SERVER...   wait up to 10 s until every server replies to "version"
 *   mcctl flush SERVER...   send "flush_all" to every server and check for "OK"
 *
 * SERVER is a TCP port on 127.0.0.1 or the path of a unix socket (anything with a '/').
 * Exit status 0 on success, 1 when a server did not reply, 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int connect_server(const char *server) {
  int fd;
  if (strchr(server, '/') != NULL) {
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    if (strlen(server) >= sizeof(addr.sun_path)) {
      return -1;
    }
    strcpy(addr.sun_path, server);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) {
      return -1;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }

  long port = strtol(server, NULL, 10);
  if (port <= 0 || port > 65535) {
    return -1;
  }
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return -1;
  }
  if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Send COMMAND and read one reply line into REPLY; returns 0 when a full line arrived
 * within 2 s. */
static int request(const char *server, const char *command, char *reply, size_t size) {
  int fd = connect_server(server);
  if (fd < 0) {
    return -1;
  }
  size_t len = strlen(command);
  if (write(fd, command, len) != (ssize_t)len) {
    close(fd);
    return -1;
  }

  size_t used = 0;
  while (used + 1 < size) {
    struct pollfd pfd;
    pfd.fd = fd;
    pfd.events = POLLIN;
    if (poll(&pfd, 1, 2000) <= 0) {
      break;
    }
    ssize_t got = read(fd, reply + used, size - 1 - used);
    if (got <= 0) {
      break;
    }
    used += (size_t)got;
    reply[used] = '\0';
    if (strchr(reply, '\n') != NULL) {
      close(fd);
      return 0;
    }
  }
  close(fd);
  return -1;
}

static int wait_ready(const char *server) {
  char reply[256];
  for (int attempt = 0; attempt < 100; attempt++) {
    if (request(server, "version\r\n", reply, sizeof(reply)) == 0 &&
        strncmp(reply, "VERSION ", 8) == 0) {
      return 0;
    }
    struct timespec pause = {0, 100 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  fprintf(stderr, "mcctl: server %s did not reply to \"version\" within 10 s\n", server);
  return -1;
}

static int flush(const char *server) {
  char reply[256];
  if (request(server, "flush_all\r\n", reply, sizeof(reply)) != 0 ||
      strncmp(reply, "OK", 2) != 0) {
    fprintf(stderr, "mcctl: flush_all failed on server %s\n", server);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3 || (strcmp(argv[1], "wait") != 0 && strcmp(argv[1], "flush") != 0)) {
    fprintf(stderr, "usage: mcctl wait|flush SERVER...\n");
    return 2;
  }
  int failed = 0;
  for (int i = 2; i < argc; i++) {
    int result = strcmp(argv[1], "wait") == 0 ? wait_ready(argv[i]) : flush(argv[i]);
    if (result != 0) {
      failed = 1;
    }
  }
  return failed;
}
