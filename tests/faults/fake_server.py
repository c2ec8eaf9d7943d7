#!/usr/bin/env python3
"""A memcached stand-in that misbehaves on request, for fault-injection tests of a client.

It speaks enough of the text and binary protocols (chosen per connection by the first
byte, as memcached does) to serve get, gets, set, add, replace, delete, incr, decr,
stats, version, noop, flush_all and quit from an in-memory store. A control port decides,
per reply, how the reply goes wrong.

Ports: the server binds the first free ports in --port-range on 127.0.0.1 and writes
"NAME PORT" lines to --ports-file once it is ready:
  data      the memcached port
  control   line commands, each replied to with one line starting with "ok" or "error"
  noaccept  a listening socket whose accept queue is kept full, so connects never finish

Control commands (one per line):
  mode NAME         how every reply from now on is sent, see MODES
  put KEY VALUE     store VALUE (flags 0) under KEY
  get KEY           reply "ok VALUE", or "ok -" when KEY is missing
  reset             empty the store and go back to mode good
  stats             reply "ok connections=N commands=M"

A "reply" is everything one request batch produces: one text command line, or in the
binary protocol everything up to and including the reply to a non-quiet request (the
replies to an mget's quiet GETKQ requests go out together with the reply to its NOOP).
A request changes the store only in the modes that deliver its whole good reply (good,
trickle, slow, extra), so after any other fault the same request sent again in mode good
finds the state the test set up.

Replies on one connection leave in request order: a reply waiting for its time (mode late,
slow, trickle) holds back the replies to later requests on that connection.

The server is one thread around poll(2). Threads would be simpler, but on a busy 2-CPU
machine Python threads served a new connection up to 0.8 s late, which is longer than
the client timeouts under test; this loop stays within about 15 ms.
"""

import argparse
import collections
import os
import select
import socket
import struct
import sys
import time

# What each mode does with a reply.
MODES = {
    "good": "send the reply",
    "silent": "read requests, never reply",
    "trickle": "send TRICKLE_BYTES bytes one per write, TRICKLE_GAP apart, then the rest",
    "slow": "send the first SLOW_BYTES bytes one by one, SLOW_GAP apart, then the rest",
    "close": "send the first half of the reply, then close the connection",
    "reset": "reset the connection (SO_LINGER 0) instead of replying",
    "truncate": "send the first half of the reply and keep the connection open",
    "huge": "claim a 4 GiB - 1 value (or body) and send only HUGE_SENT bytes of it",
    "garbage": "send GARBAGE instead of the reply",
    "opaque": "binary: send the reply with every opaque field changed",
    "opcode": "binary: send the reply with the first packet's opcode changed",
    "extra": "send the reply followed by a second, unrequested stale reply",
    "stall": "at a request other than stats settings: shrink SO_RCVBUF, never read again",
    "late": "send a stale reply LATE_DELAY seconds after the request",
}

# 64 bytes (a header and the start of a value) take about 70 ms when idle. That stays
# inside a 300 ms poll timeout on a busy machine, even for a client that counts the
# timeout per call rather than per wait.
TRICKLE_BYTES = 64
TRICKLE_GAP = 0.001
SLOW_BYTES = 4
SLOW_GAP = 0.150
HUGE_LENGTH = 0xFFFFFFFF
HUGE_SENT = 100
LATE_DELAY = 0.600
# Starts with a byte that is neither a text reply nor the binary response magic (0x81).
GARBAGE = b"#\x00\xfe garbage from a confused server \x07\x1b[0m !!!!!!!!!!!!!!!!!!\r\n"
# How long a stalled connection may sit unread when the client never closes it.
STALL_LIMIT = 20.0

GOOD_VERSION = "1.6.18"
STALE_VERSION = "9.9.9"
GOOD_PID = 4242
STALE_PID = 99999
STALE_NUMBER = 990099
ITEM_SIZE_MAX = 64 << 20

REQ_MAGIC = 0x80
RES_MAGIC = 0x81
OP_GET, OP_SET, OP_ADD, OP_REPLACE, OP_DELETE = 0x00, 0x01, 0x02, 0x03, 0x04
OP_INCREMENT, OP_DECREMENT, OP_QUIT, OP_FLUSH = 0x05, 0x06, 0x07, 0x08
OP_GETQ, OP_NOOP, OP_VERSION, OP_GETK, OP_GETKQ = 0x09, 0x0A, 0x0B, 0x0C, 0x0D
OP_STAT = 0x10
QUIET_STORAGE = {0x11: OP_SET, 0x12: OP_ADD, 0x13: OP_REPLACE, 0x14: OP_DELETE}
ST_OK, ST_ENOENT, ST_EEXISTS, ST_NOT_STORED = 0x00, 0x01, 0x02, 0x05
ST_NON_NUMERIC, ST_UNKNOWN = 0x06, 0x81


class State:
    """The store, the current mode and counters."""

    def __init__(self):
        self.store = {}
        self.mode = "good"
        self.connections = 0
        self.commands = 0


STATE = State()


def stale_value(value):
    """Returns 'STALE' repeated to the length of VALUE (at least 5 bytes), a value that no
    test stores."""
    return (b"STALE" * (len(value) // 5 + 1))[: max(len(value), 5)]


# ---- text protocol -------------------------------------------------------------------------


def text_value(key, value, cas, with_cas):
    head = b"VALUE %s 0 %d" % (key, len(value))
    if with_cas:
        head += b" %d" % cas
    return head + b"\r\n" + value + b"\r\n"


def stat_pairs(group, pid, version):
    """Returns the (name, value) pairs of "stats GROUP". Only the default group and
    "settings" exist. The item_size_max in "settings" lets a client send mode stall's large
    value."""
    if group == b"settings":
        return [(b"item_size_max", b"%d" % ITEM_SIZE_MAX)]
    return [
        (b"pid", b"%d" % pid),
        (b"version", version.encode()),
        (b"curr_items", b"%d" % len(STATE.store)),
    ]


def text_stats(group, pid, version):
    lines = [b"STAT %s %s\r\n" % pair for pair in stat_pairs(group, pid, version)]
    return b"".join(lines) + b"END\r\n"


def text_command(words, data):
    """Executes one text command. Returns (good reply, stale reply, close after, change),
    where change is the (key, value) to store once the good reply goes out, or None."""
    if not words:
        return b"ERROR\r\n", b"ERROR\r\n", False, None
    verb = words[0]
    store = STATE.store

    if verb in (b"get", b"gets"):
        good, stale = b"", b""
        for key in words[1:]:
            if key in store:
                value = store[key]
                good += text_value(key, value, 1, verb == b"gets")
                stale += text_value(key, stale_value(value), 1, verb == b"gets")
        return good + b"END\r\n", stale + b"END\r\n", False, None

    if verb in (b"set", b"add", b"replace"):
        return storage_reply(verb, words[1], data, words[-1] == b"noreply")

    if verb == b"delete" and len(words) > 1:
        good = b"DELETED\r\n" if words[1] in store else b"NOT_FOUND\r\n"
        return good, b"NOT_FOUND\r\n", False, (words[1], None) if words[1] in store else None

    if verb in (b"incr", b"decr") and len(words) > 2:
        key = words[1]
        if key not in store:
            return b"NOT_FOUND\r\n", b"%d\r\n" % STALE_NUMBER, False, None
        number = int(store[key]) + int(words[2]) * (1 if verb == b"incr" else -1)
        return b"%d\r\n" % number, b"%d\r\n" % STALE_NUMBER, False, (key, b"%d" % number)

    if verb == b"stats":
        group = words[1] if len(words) > 1 else b""
        good = text_stats(group, GOOD_PID, GOOD_VERSION)
        stale = text_stats(group, STALE_PID, STALE_VERSION)
        return good, stale, False, None

    if verb == b"version":
        return (
            b"VERSION %s\r\n" % GOOD_VERSION.encode(),
            b"VERSION %s\r\n" % STALE_VERSION.encode(),
            False,
            None,
        )

    if verb == b"flush_all":
        return b"OK\r\n", b"ERROR\r\n", False, None

    if verb == b"quit":
        return b"", b"", True, None

    return b"ERROR\r\n", b"ERROR\r\n", False, None


def storage_reply(verb, key, data, noreply):
    """Text set/add/replace."""
    exists = key in STATE.store
    if verb == b"add" and exists or verb == b"replace" and not exists:
        good, change = b"NOT_STORED\r\n", None
    else:
        good, change = b"STORED\r\n", (key, data)
    return (b"" if noreply else good), b"NOT_STORED\r\n", False, change


# ---- binary protocol -----------------------------------------------------------------------


def bin_packet(opcode, status, opaque, key=b"", extras=b"", value=b"", cas=0):
    header = struct.pack(
        ">BBHBBHIIQ",
        RES_MAGIC,
        opcode,
        len(key),
        len(extras),
        0,
        status,
        len(extras) + len(key) + len(value),
        opaque,
        cas,
    )
    return header + extras + key + value


def bin_item(opcode, opaque, key, value):
    return bin_packet(opcode, ST_OK, opaque, key, struct.pack(">I", 0), value, cas=1)


def bin_stats(opaque, group, pid, version):
    out = b""
    for name, value in stat_pairs(group, pid, version):
        out += bin_packet(OP_STAT, ST_OK, opaque, name, b"", value)
    return out + bin_packet(OP_STAT, ST_OK, opaque)


def bin_command(opcode, opaque, key, extras, value):
    """Executes one binary request. Returns (good, stale, quiet, close after, change)."""
    store = STATE.store
    not_found = b"Not found"

    if opcode in (OP_GETK, OP_GETKQ, OP_GET, OP_GETQ):
        quiet = opcode in (OP_GETKQ, OP_GETQ)
        reply_key = key if opcode in (OP_GETK, OP_GETKQ) else b""
        if key not in store:
            if quiet:
                return b"", b"", True, False, None
            miss = bin_packet(opcode, ST_ENOENT, opaque, reply_key, b"", not_found)
            return miss, miss, False, False, None
        item = store[key]
        good = bin_item(opcode, opaque, reply_key, item)
        stale = bin_item(opcode, opaque, reply_key, stale_value(item))
        return good, stale, quiet, False, None

    if opcode in (OP_SET, OP_ADD, OP_REPLACE) or opcode in QUIET_STORAGE:
        quiet = opcode in QUIET_STORAGE
        base = QUIET_STORAGE.get(opcode, opcode)
        if base == OP_DELETE:
            return bin_delete(opcode, opaque, key, quiet)
        exists = key in store
        stale = bin_packet(opcode, ST_NOT_STORED, opaque, b"", b"", b"Not stored")
        if base == OP_ADD and exists:
            good = bin_packet(opcode, ST_EEXISTS, opaque, b"", b"", b"Data exists for key.")
            return good, stale, False, False, None
        if base == OP_REPLACE and not exists:
            good = bin_packet(opcode, ST_ENOENT, opaque, b"", b"", not_found)
            return good, stale, False, False, None
        good = b"" if quiet else bin_packet(opcode, ST_OK, opaque, cas=1)
        return good, stale, quiet, False, (key, value)

    if opcode == OP_DELETE:
        return bin_delete(opcode, opaque, key, False)

    if opcode in (OP_INCREMENT, OP_DECREMENT):
        delta = struct.unpack(">Q", extras[:8])[0] if len(extras) >= 8 else 0
        stale = bin_packet(opcode, ST_OK, opaque, b"", b"", struct.pack(">Q", STALE_NUMBER))
        if key not in store:
            miss = bin_packet(opcode, ST_ENOENT, opaque, b"", b"", not_found)
            return miss, stale, False, False, None
        number = int(store[key]) + (delta if opcode == OP_INCREMENT else -delta)
        good = bin_packet(opcode, ST_OK, opaque, b"", b"", struct.pack(">Q", number), cas=1)
        return good, stale, False, False, (key, b"%d" % number)

    if opcode == OP_STAT:
        return (
            bin_stats(opaque, key, GOOD_PID, GOOD_VERSION),
            bin_stats(opaque, key, STALE_PID, STALE_VERSION),
            False,
            False,
            None,
        )

    if opcode == OP_VERSION:
        good = bin_packet(opcode, ST_OK, opaque, b"", b"", GOOD_VERSION.encode())
        stale = bin_packet(opcode, ST_OK, opaque, b"", b"", STALE_VERSION.encode())
        return good, stale, False, False, None

    if opcode == OP_NOOP:
        noop = bin_packet(opcode, ST_OK, opaque)
        return noop, noop, False, False, None

    if opcode == OP_FLUSH:
        return bin_packet(opcode, ST_OK, opaque), b"", False, False, None

    if opcode == OP_QUIT:
        return bin_packet(opcode, ST_OK, opaque), b"", False, True, None

    unknown = bin_packet(opcode, ST_UNKNOWN, opaque, b"", b"", b"Unknown command")
    return unknown, unknown, False, False, None


def bin_delete(opcode, opaque, key, quiet):
    stale = bin_packet(opcode, ST_ENOENT, opaque, b"", b"", b"Not found")
    if key not in STATE.store:
        return stale, stale, False, False, None
    good = b"" if quiet else bin_packet(opcode, ST_OK, opaque)
    return good, stale, quiet, False, (key, None)


# ---- fault application ---------------------------------------------------------------------


def huge_text(good):
    """A text reply that claims a value of HUGE_LENGTH bytes and carries HUGE_SENT: the
    reply's own first VALUE line with the length replaced, or one for key "key"."""
    words = good.split(b"\r\n", 1)[0].split() if good.startswith(b"VALUE ") else []
    key = words[1] if len(words) >= 4 else b"key"
    return b"VALUE %s 0 %d\r\n" % (key, HUGE_LENGTH) + b"h" * HUGE_SENT


def huge_binary(good):
    """The first packet's header with the body length replaced, then HUGE_SENT bytes."""
    header = bytearray(good[:24]) if len(good) >= 24 else bytearray(bin_packet(OP_GETK, 0, 0))
    struct.pack_into(">I", header, 8, HUGE_LENGTH)
    return bytes(header) + b"h" * HUGE_SENT


def rewrite_packets(reply, edit):
    """Applies EDIT(bytearray header, index) to the header of every packet in REPLY."""
    out, offset, index = bytearray(), 0, 0
    while offset + 24 <= len(reply):
        header = bytearray(reply[offset : offset + 24])
        bodylen = struct.unpack_from(">I", header, 8)[0]
        edit(header, index)
        out += header + reply[offset + 24 : offset + 24 + bodylen]
        offset += 24 + bodylen
        index += 1
    return bytes(out)


def change_opaque(header, _index):
    struct.pack_into(">I", header, 12, struct.unpack_from(">I", header, 12)[0] ^ 0x5A5A5A5A)


def change_opcode(header, index):
    if index == 0:
        header[1] = OP_NOOP if header[1] == OP_VERSION else OP_VERSION


def apply_changes(changes):
    for key, value in changes:
        if value is None:
            STATE.store.pop(key, None)
        else:
            STATE.store[key] = value


def schedule_reply(conn, good, stale, changes, binary):
    """Queues one reply on CONN as the current mode requires."""
    mode = STATE.mode
    if mode in ("good", "stall", "trickle", "slow", "extra"):
        apply_changes(changes)
    if mode in ("good", "stall"):
        conn.queue(0, good)
    elif mode == "silent":
        pass
    elif mode == "trickle":
        for i, byte in enumerate(good[:TRICKLE_BYTES]):
            conn.queue(i * TRICKLE_GAP, bytes([byte]))
        conn.queue(min(TRICKLE_BYTES, len(good)) * TRICKLE_GAP, good[TRICKLE_BYTES:])
    elif mode == "slow":
        for i, byte in enumerate(good[:SLOW_BYTES]):
            conn.queue(i * SLOW_GAP, bytes([byte]))
        conn.queue(min(SLOW_BYTES, len(good)) * SLOW_GAP, good[SLOW_BYTES:])
    elif mode == "close":
        conn.queue(0, good[: max(1, len(good) // 2)])
        conn.queue(0, CLOSE)
    elif mode == "reset":
        conn.queue(0, RESET)
    elif mode == "truncate":
        conn.queue(0, good[: max(1, len(good) // 2)])
    elif mode == "huge":
        conn.queue(0, huge_binary(good) if binary else huge_text(good))
    elif mode == "garbage":
        conn.queue(0, GARBAGE)
    elif mode == "opaque":
        conn.queue(0, rewrite_packets(good, change_opaque) if binary else good)
    elif mode == "opcode":
        conn.queue(0, rewrite_packets(good, change_opcode) if binary else good)
    elif mode == "extra":
        conn.queue(0, good + stale)
    elif mode == "late":
        conn.queue(LATE_DELAY, stale)


# ---- connections ---------------------------------------------------------------------------

# Queue entries that are not bytes. CLOSE closes after what came before is sent, and
# RESET resets the connection at once.
CLOSE = "close"
RESET = "reset"


class Connection:
    """A nonblocking socket with an input buffer and a queue of timed output."""

    def __init__(self, sock):
        self.sock = sock
        sock.setblocking(False)
        self.inbuf = b""
        self.outbuf = b""
        self.timed = collections.deque()  # (due, bytes or CLOSE or RESET), due in order
        self.closed = False
        self.stalled_until = None  # set while the connection is deliberately not read

    def queue(self, delay, item):
        """Queues ITEM to go out DELAY seconds from now, but never before earlier items."""
        due = time.monotonic() + delay
        if self.timed:
            due = max(due, self.timed[-1][0])
        self.timed.append((due, item))

    def next_due(self):
        return self.timed[0][0] if self.timed and not self.outbuf else None

    def events(self):
        if self.stalled_until is not None:
            return select.POLLRDHUP
        mask = select.POLLIN
        if self.outbuf:
            mask |= select.POLLOUT
        return mask

    def close(self):
        if not self.closed:
            self.closed = True
            self.sock.close()

    def run_due(self, now):
        """Sends every queued item that is due, one send(2) each, stopping when the socket
        buffer is full."""
        while self.timed and not self.outbuf and self.timed[0][0] <= now and not self.closed:
            _, item = self.timed.popleft()
            if item == RESET:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close()
            elif item == CLOSE:
                try:
                    self.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # the client closed first, which is as good
                self.close()
            else:
                self.outbuf = item
                self.flush()

    def flush(self):
        while self.outbuf and not self.closed:
            try:
                sent = self.sock.send(self.outbuf)
            except BlockingIOError:
                return
            self.outbuf = self.outbuf[sent:]

    def readable(self):
        try:
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            return
        if not chunk:
            self.close()
            return
        self.inbuf += chunk
        self.parse()

    def stall(self):
        """Stops reading for good: the client's writes block once the bytes in flight fill
        what both sides already buffer (a smaller receive buffer stops the window from
        growing). The connection closes when the client closes it or after STALL_LIMIT."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
        self.stalled_until = time.monotonic() + STALL_LIMIT


def stalls_here(is_settings):
    """Mode stall stops reading at the first request other than "stats settings", which a
    client may send to learn the item size limit before it sends a large value."""
    return not is_settings and STATE.mode == "stall"


class DataConnection(Connection):
    """A memcached client; the protocol is chosen by the first byte, as memcached does."""

    def __init__(self, sock):
        super().__init__(sock)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.binary = None
        # Replies to quiet binary requests wait for the next non-quiet request.
        self.pending_good, self.pending_stale, self.pending_changes = b"", b"", []
        STATE.connections += 1

    def parse(self):
        while self.inbuf and not self.closed and self.stalled_until is None:
            if self.binary is None:
                self.binary = self.inbuf[0] == REQ_MAGIC
            done = self.parse_binary() if self.binary else self.parse_text()
            if not done:
                return

    def parse_text(self):
        """Handles one complete text request. Returns False when more input is needed."""
        end = self.inbuf.find(b"\n")
        if end < 0:
            if len(self.inbuf) > 1 << 20:
                log(self, "text request line longer than 1 MiB, closing")
                self.close()
            return False

        words = self.inbuf[:end].rstrip(b"\r").split()
        if stalls_here(words == [b"stats", b"settings"]):
            self.stall()
            return False

        data, used = None, end + 1
        if words and words[0] in (b"set", b"add", b"replace"):
            if len(words) < 5 or not words[4].isdigit():
                log(self, "invalid storage request %r, closing" % words)
                self.close()
                return False
            used = end + 1 + int(words[4]) + 2
            if len(self.inbuf) < used:
                return False
            data = self.inbuf[end + 1 : used - 2]
        self.inbuf = self.inbuf[used:]
        STATE.commands += 1

        try:
            good, stale, close_after, change = text_command(words, data)
        except ValueError:
            good, stale, close_after, change = b"CLIENT_ERROR invalid number\r\n", b"", False, None
        if close_after:
            self.queue(0, CLOSE)
        else:
            schedule_reply(self, good, stale, [change] if change else [], binary=False)
        return True

    def parse_binary(self):
        """Handles one complete binary request. Returns False when more input is needed."""
        if len(self.inbuf) < 24:
            return False
        magic, opcode, keylen, extlen, _, _, bodylen, opaque, _ = struct.unpack(
            ">BBHBBHIIQ", self.inbuf[:24]
        )
        if magic != REQ_MAGIC:
            log(self, "invalid request magic 0x%02x, closing" % magic)
            self.close()
            return False

        # Only a STAT request's body is read before deciding, so a large value stays unread.
        if opcode != OP_STAT and stalls_here(False):
            self.stall()
            return False
        if len(self.inbuf) < 24 + bodylen:
            return False
        body = self.inbuf[24 : 24 + bodylen]
        extras = body[:extlen]
        key = body[extlen : extlen + keylen]
        value = body[extlen + keylen :]
        if opcode == OP_STAT and stalls_here(key == b"settings"):
            self.stall()
            return False
        self.inbuf = self.inbuf[24 + bodylen :]
        STATE.commands += 1

        try:
            result = bin_command(opcode, opaque, key, extras, value)
            good, stale, quiet, close_after, change = result
        except ValueError:
            invalid = bin_packet(opcode, ST_NON_NUMERIC, opaque, b"", b"", b"Non-numeric value")
            good, stale, quiet, close_after, change = invalid, invalid, False, False, None
        self.pending_good += good
        self.pending_stale += stale
        if change:
            self.pending_changes.append(change)
        if quiet:
            return True

        good, stale, changes = self.pending_good, self.pending_stale, self.pending_changes
        self.pending_good, self.pending_stale, self.pending_changes = b"", b"", []
        if close_after:
            self.queue(0, good)
            self.queue(0, CLOSE)
        else:
            schedule_reply(self, good, stale, changes, binary=True)
        return True


def log(conn, message):
    """Writes one line about CONN to stderr."""
    print("fake_server: connection fd %d: %s" % (conn.sock.fileno(), message), file=sys.stderr)


class ControlConnection(Connection):
    def parse(self):
        while b"\n" in self.inbuf:
            line, _, self.inbuf = self.inbuf.partition(b"\n")
            reply = control_command(line.decode(errors="replace").strip())
            self.queue(0, reply.encode() + b"\n")
            self.run_due(time.monotonic())


def control_command(line):
    words = line.split(None, 2)
    if not words:
        return "error empty command"
    verb = words[0]
    if verb == "mode" and len(words) == 2 and words[1] in MODES:
        STATE.mode = words[1]
        return "ok"
    if verb == "put" and len(words) == 3:
        STATE.store[words[1].encode()] = words[2].encode()
        return "ok"
    if verb == "get" and len(words) == 2:
        value = STATE.store.get(words[1].encode())
        return "ok " + (value.decode(errors="replace") if value is not None else "-")
    if verb == "reset":
        STATE.store.clear()
        STATE.mode = "good"
        return "ok"
    if verb == "stats":
        return "ok connections=%d commands=%d" % (STATE.connections, STATE.commands)
    return "error unknown command: " + line


# ---- event loop ----------------------------------------------------------------------------


def serve(data, control):
    """Runs forever: accepts on DATA and CONTROL, serves their connections."""
    listeners = {
        data.fileno(): (data, DataConnection),
        control.fileno(): (control, ControlConnection),
    }
    connections = {}
    for listener, _ in listeners.values():
        listener.setblocking(False)
    while True:
        poller = select.poll()
        for fd in listeners:
            poller.register(fd, select.POLLIN)
        for fd, conn in connections.items():
            poller.register(fd, conn.events())
        now = time.monotonic()
        deadlines = [conn.next_due() for conn in connections.values()]
        deadlines += [conn.stalled_until for conn in connections.values()]
        deadlines = [due for due in deadlines if due is not None]
        wait = max(0.0, min(deadlines) - now) if deadlines else None
        ready = poller.poll(None if wait is None else wait * 1000 + 0.5)

        for fd, revents in ready:
            if fd in listeners:
                listener, kind = listeners[fd]
                try:
                    sock, _ = listener.accept()
                except BlockingIOError:
                    continue
                conn = kind(sock)
                connections[sock.fileno()] = conn
                continue
            conn = connections.get(fd)
            if conn is None or conn.closed:
                continue
            try:
                if conn.stalled_until is not None:
                    conn.close()  # the client hung up or reset
                    continue
                if revents & select.POLLOUT:
                    conn.flush()
                if revents & (select.POLLIN | select.POLLHUP | select.POLLERR):
                    conn.readable()
            except OSError as error:
                drop(conn, error)

        now = time.monotonic()
        for fd, conn in list(connections.items()):
            try:
                if conn.stalled_until is not None and now >= conn.stalled_until:
                    conn.close()
                if not conn.closed:
                    conn.run_due(now)
            except OSError as error:
                drop(conn, error)
            if conn.closed:
                del connections[fd]


def drop(conn, error):
    """Closes CONN after a socket error. Resets and broken pipes are what a client under
    test does after a fault, so only other errors are logged."""
    if not isinstance(error, ConnectionError):
        log(conn, "closing after %s" % error)
    conn.close()


def bind_free(ports, backlog):
    """Binds a listener on 127.0.0.1 to the first free port taken from the iterator PORTS."""
    for port in ports:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Connections of an earlier run in TIME_WAIT must not make the port look busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(backlog)
            return sock, port
        except OSError:
            sock.close()
    raise SystemExit("fake_server: no free port left in --port-range; pass a wider range")


def fill_accept_queue(port):
    """Connects once to PORT, whose listener has backlog 0. That one queued connection fills
    the accept queue, so the kernel drops every further SYN and a client's connect stays
    pending until the client's own timeout."""
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-range", default="21000-21999", help="FIRST-LAST")
    parser.add_argument("--ports-file", required=True)
    args = parser.parse_args()

    first, last = (int(part) for part in args.port_range.split("-"))
    ports = iter(range(first, last + 1))
    data, data_port = bind_free(ports, 64)
    control, control_port = bind_free(ports, 8)
    noaccept, noaccept_port = bind_free(ports, 0)
    filler = fill_accept_queue(noaccept_port)

    scratch = args.ports_file + ".tmp"
    with open(scratch, "w") as out:
        out.write("data %d\ncontrol %d\nnoaccept %d\n" % (data_port, control_port, noaccept_port))
    os.rename(scratch, args.ports_file)

    try:
        serve(data, control)
    except KeyboardInterrupt:
        pass
    finally:
        filler.close()
        noaccept.close()


if __name__ == "__main__":
    sys.exit(main())
