#!/usr/bin/env python3
"""Talk to one memcached server over the raw text protocol, without libmemcached.

The consumer suite uses this to check what a client program really stored
(key, value bytes, TTL) and to find free loopback ports. Standard library only.

Usage:
  mcraw.py free-ports LOW HIGH COUNT   print COUNT ports in [LOW, HIGH] that bind on 127.0.0.1
  mcraw.py wait PORT [SECONDS]         wait until the server replies to "version", print it
  mcraw.py version PORT                print the server's version string
  mcraw.py stat PORT NAME              print one value of "stats" (e.g. get_hits)
  mcraw.py has PORT KEY                exit 0 if KEY is stored, 1 if not
  mcraw.py ttl PORT KEY                print the remaining TTL in seconds (-1: none); exit 1 if missing
  mcraw.py get PORT KEY                write the value bytes of KEY to stdout; exit 1 if missing
  mcraw.py flush PORT                  flush_all
"""

import random
import socket
import sys
import time

HOST = "127.0.0.1"
TIMEOUT_S = 5.0


class Connection:
    def __init__(self, port):
        self.sock = socket.create_connection((HOST, port), timeout=TIMEOUT_S)
        self.buffer = b""

    def send(self, line):
        self.sock.sendall(line.encode() + b"\r\n")

    def read_line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line.decode("latin-1")

    def read_exact(self, count):
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def meta_get(self, key, flags):
        """Send "mg KEY FLAGS" and return None on a miss, else (flag tokens, value or None)."""
        self.send(f"mg {key} {flags}".rstrip())
        header = self.read_line().split()
        if header[0] == "EN":
            return None
        if header[0] == "HD":
            return header[1:], None
        if header[0] == "VA":
            value = self.read_exact(int(header[1]) + 2)[:-2]
            return header[2:], value
        raise RuntimeError(f"unexpected reply to mg {key}: {' '.join(header)}")

    def stats(self):
        self.send("stats")
        values = {}
        while True:
            line = self.read_line()
            if line == "END":
                return values
            _, name, value = line.split(" ", 2)
            values[name] = value


def free_ports(low, high, count):
    """Pick COUNT distinct ports that bind now, scanning from a random offset to spread runs."""
    candidates = list(range(low, high + 1))
    start = random.randrange(len(candidates))
    found = []
    for port in candidates[start:] + candidates[:start]:
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            probe.bind((HOST, port))
        except OSError:
            continue
        finally:
            probe.close()
        found.append(port)
        if len(found) == count:
            return found
    raise SystemExit(f"mcraw.py: fewer than {count} free ports in {low}-{high}")


def wait_ready(port, seconds):
    deadline = time.monotonic() + seconds
    while True:
        try:
            connection = Connection(port)
            connection.send("version")
            return connection.read_line().split(" ", 1)[1]
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"mcraw.py: no memcached answered on {HOST}:{port}")
            time.sleep(0.05)


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    command, args = argv[1], argv[2:]

    if command == "free-ports":
        print(" ".join(str(p) for p in free_ports(int(args[0]), int(args[1]), int(args[2]))))
        return 0
    if command == "wait":
        print(wait_ready(int(args[0]), float(args[1]) if len(args) > 1 else 5.0))
        return 0

    connection = Connection(int(args[0]))
    if command == "version":
        connection.send("version")
        print(connection.read_line().split(" ", 1)[1])
    elif command == "stat":
        print(connection.stats()[args[1]])
    elif command == "has":
        return 0 if connection.meta_get(args[1], "") is not None else 1
    elif command == "ttl":
        reply = connection.meta_get(args[1], "t")
        if reply is None:
            return 1
        print(next(token[1:] for token in reply[0] if token.startswith("t")))
    elif command == "get":
        reply = connection.meta_get(args[1], "v")
        if reply is None:
            return 1
        sys.stdout.buffer.write(reply[1])
    elif command == "flush":
        connection.send("flush_all")
        reply = connection.read_line()
        if reply != "OK":
            raise SystemExit(f"mcraw.py: flush_all returned {reply}")
    else:
        raise SystemExit(f"mcraw.py: unknown command {command}\n{__doc__}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
