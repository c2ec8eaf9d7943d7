#!/usr/bin/env python3
"""Look inside a memcached server directly, without libmemcached.

SERVER is HOST:PORT or the path of a unix socket.

  wait SERVER TIMEOUT            wait until the server replies to "version"
  stats SERVER NAME...           print "NAME VALUE" for the named general stats
  keys SERVER                    list every key (exact bytes) with its expiry
  ban-where HOST any|all TIMEOUT SERVER...
                                 wait until mod_ban's host-ban entry for HOST
                                 is on any / all of the servers, then print
                                 what each server holds; exit 1 on timeout

Keys come from "lru_crawler metadump all" (URL-encoded there, so NUL and
control bytes survive) and values from a binary-protocol GET of the exact key
bytes. The text protocol cannot fetch mod_ban's keys at all.
"""

import hashlib
import re
import socket
import struct
import sys
import time
import urllib.parse

TIMEOUT = 5
# Binary protocol header: magic, opcode, key length, extras length, data
# type, vbucket/status, total body length, opaque, cas.
HEADER = struct.Struct("!BBHBBHIIQ")
OPCODE_GET = 0x00
STATUS_KEY_NOT_FOUND = 0x0001
BAN_TYPE_HOST = 2


def connect(server):
    if server.startswith("/"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(TIMEOUT)
        s.connect(server)
        return s
    host, port = server.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=TIMEOUT)


def text_command(server, line, end):
    """Send one text-protocol command and read until the reply ends with END."""
    with connect(server) as s:
        s.sendall(line + b"\r\n")
        buf = b""
        while not buf.endswith(end):
            chunk = s.recv(65536)
            if not chunk:
                raise OSError("connection closed during %r" % line)
            buf += chunk
    return buf


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise OSError("connection closed in a binary reply")
        buf += chunk
    return buf


def binary_get(server, key):
    """Fetch KEY with a binary GET and return (status, value or None)."""
    with connect(server) as s:
        s.sendall(HEADER.pack(0x80, OPCODE_GET, len(key), 0, 0, 0, len(key), 0, 0) + key)
        magic, _, key_len, extras_len, _, status, body_len, _, _ = HEADER.unpack(
            recv_exact(s, HEADER.size))
        body = recv_exact(s, body_len)
    if magic != 0x81:
        raise OSError("bad response magic 0x%02x" % magic)
    if status != 0:
        return status, None
    return status, body[extras_len + key_len:]


def list_keys(server):
    """Return {key bytes: expiry} from the LRU crawler's metadata dump."""
    keys = {}
    dump = text_command(server, b"lru_crawler metadump all", b"END\r\n")
    for line in dump.decode().splitlines():
        if line.startswith("key="):
            fields = dict(kv.split("=", 1) for kv in line.split())
            keys[urllib.parse.unquote_to_bytes(fields["key"])] = int(fields["exp"])
    return keys


def ban_key(host):
    """Build mod_ban's memcache key for a host ban (TPL encoding, format "vs").

    TPL image: "tpl", version 2, u32 total image length, the format string
    with its NUL, then u16 ban type, u32 string length including the NUL,
    and the string without it. Integers are native (little-endian) order.
    """
    name = host.encode()
    body = b"vs\x00" + struct.pack("<HI", BAN_TYPE_HOST, len(name) + 1) + name
    return b"mod_ban." + b"tpl\x02" + struct.pack("<I", 8 + len(body)) + body


def describe_ban(server, key):
    """Describe KEY on SERVER in one line, and return whether it is present."""
    try:
        listed = key in list_keys(server)
        status, value = binary_get(server, key)
    except OSError as e:
        return "%s: unreachable (%s)" % (server, e), False
    if status == STATUS_KEY_NOT_FOUND and not listed:
        return "%s: absent" % server, False
    if status != 0 or not listed:
        return "%s: inconsistent (listed %s, GET status 0x%04x)" % (server, listed, status), False
    message = re.search(rb"Banned by instance [a-z]", value)
    return "%s: present, %d value bytes, sha256 %s, message %r" % (
        server, len(value), hashlib.sha256(value).hexdigest()[:16],
        message.group().decode() if message else None), True


def cmd_wait(server, timeout):
    deadline = time.monotonic() + float(timeout)
    while True:
        try:
            reply = text_command(server, b"version", b"\r\n")
            print("ready: %s" % reply.decode().strip())
            return 0
        except OSError as e:
            if time.monotonic() > deadline:
                print("not ready after %ss: %s" % (timeout, e))
                return 2
        time.sleep(0.05)


def cmd_stats(server, *names):
    stats = {}
    for line in text_command(server, b"stats", b"END\r\n").decode().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "STAT":
            stats[parts[1]] = parts[2]
    for name in names:
        print("%s %s" % (name, stats.get(name, "missing")))
    return 0


def cmd_keys(server):
    for key, exp in sorted(list_keys(server).items()):
        print("%r exp=%d" % (key, exp))
    return 0


def cmd_ban_where(host, mode, timeout, *servers):
    key = ban_key(host)
    need = len(servers) if mode == "all" else 1
    deadline = time.monotonic() + float(timeout)
    while True:
        results = [describe_ban(s, key) for s in servers]
        found = sum(present for _, present in results)
        if found >= need or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    print("ban key %r on %d of %d server(s)" % (key, found, len(servers)))
    for line, _ in results:
        print("  " + line)
    return 0 if found >= need else 1


COMMANDS = {"wait": cmd_wait, "stats": cmd_stats, "keys": cmd_keys, "ban-where": cmd_ban_where}


def main(argv):
    if len(argv) < 3 or argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    try:
        return COMMANDS[argv[1]](*argv[2:])
    except (OSError, ValueError, TypeError) as e:
        print("error: %s: %s" % (type(e).__name__, e))
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
