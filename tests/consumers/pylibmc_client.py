#!/usr/bin/python3
"""Exercise pylibmc (Debian's python3-pylibmc, built on libmemcached) against
real memcached servers on 127.0.0.1, checking every value read.

Usage:
  pylibmc_client.py functional PORTS BINARY
  pylibmc_client.py placement PORTS CONFIG
PORTS is a comma-separated list of three ports, BINARY is 0 or 1, CONFIG is
one of the keys of PLACEMENT_BEHAVIORS.

Both modes first print "mapped PATH" for every libmemcached* file in
/proc/self/maps, so the caller can check which library ran.

functional prints "ok - NAME" or "not ok - NAME: DETAIL" per check and exits 1
if any check failed. placement writes keys through pylibmc, queries each server
directly (raw text protocol) which keys it holds, and prints
"KEY PORT SERVER_INDEX" lines, sorted, where SERVER_INDEX is what
Client.hash (memcached_generate_hash) returns. The caller compares them
between libraries.
"""

import hashlib
import os
import re
import socket
import sys
import threading

import pylibmc

HOST = "127.0.0.1"
PLACEMENT_KEYS = 300
THREADS = 4
THREAD_ROUNDS = 100

PLACEMENT_BEHAVIORS = {
    "ketama": {"ketama": True},
    "ketama-weighted": {"ketama_weighted": True},
    "consistent-md5": {"distribution": "consistent", "hash": "md5"},
    "modula-crc": {"hash": "crc"},
    "modula-fnv1a_32": {"hash": "fnv1a_32"},
    "modula-default": {},
}

failures = 0


def check(name, passed, detail=""):
    global failures
    if passed:
        print(f"ok - {name}")
        return
    failures += 1
    print(f"not ok - {name}: {detail}")


def describe(value):
    if isinstance(value, (bytes, str)) and len(value) > 60:
        data = value.encode() if isinstance(value, str) else value
        return f"{type(value).__name__}({len(value)}) md5 {hashlib.md5(data).hexdigest()}"
    return repr(value)


def check_same(name, expected, actual):
    check(name, expected == actual and type(expected) is type(actual),
          f"expected {describe(expected)}, got {describe(actual)}")


def check_raises(name, exception, call):
    try:
        result = call()
    except exception:
        check(name, True)
        return
    except Exception as error:  # a different pylibmc error is a failure too
        check(name, False, f"expected {exception.__name__}, got {type(error).__name__}: {error}")
        return
    check(name, False, f"expected {exception.__name__}, got return value {describe(result)}")


def print_mapped_libraries():
    paths = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and re.search(r"/libmemcached[^/]*$", fields[5]):
                if fields[5] not in paths:
                    paths.append(fields[5])
    for path in paths:
        print(f"mapped {path}")


def raw_request(port, line, ends):
    """Send one request on a fresh socket and return the reply lines up to the first in *ends*."""
    with socket.create_connection((HOST, port), timeout=5) as sock:
        sock.sendall(line.encode() + b"\r\n")
        buffer = b""
        lines = []
        while True:
            while b"\r\n" not in buffer:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError(f"no complete reply to {line!r} from port {port}")
                buffer += chunk
            reply, buffer = buffer.split(b"\r\n", 1)
            lines.append(reply.decode("latin-1"))
            if any(lines[-1].startswith(end) for end in ends):
                return lines


def raw_ports_of(ports, key):
    return [port for port in ports if raw_request(port, f"mg {key}", ["HD", "EN"])[0] == "HD"]


def raw_ttl(port, key):
    """Return the remaining TTL in seconds, -1 for none, None when the key is missing."""
    match = re.match(r"HD t(-?\d+)", raw_request(port, f"mg {key} t", ["HD", "EN"])[0])
    return int(match.group(1)) if match else None


def raw_stat(port, name):
    for line in raw_request(port, "stats", ["END"]):
        fields = line.split(" ")
        if len(fields) == 3 and fields[1] == name:
            return fields[2]
    return None


def flush_all(ports):
    for port in ports:
        raw_request(port, "flush_all", ["OK"])


def new_client(ports, binary, behaviors=None):
    settings = {"ketama": True, "cas": True, "connect_timeout": 2000, "_poll_timeout": 2000}
    settings.update(behaviors or {})
    return pylibmc.Client([f"{HOST}:{port}" for port in ports], binary=binary, behaviors=settings)


def test_storage(client, ports):
    binary_value = b"\0\r\nEND\r\n\xff" + b"\x80\x01" * 100
    check_same("set str", True, client.set("str", "hello world"))
    check_same("get str", "hello world", client.get("str"))
    check_same("set unicode", True, client.set("uni", "grüße ☃"))
    check_same("get unicode", "grüße ☃", client.get("uni"))
    check_same("set bytes", True, client.set("bin", binary_value))
    check_same("get bytes", binary_value, client.get("bin"))
    check_same("set int", True, client.set("int", 42))
    check_same("get int", 42, client.get("int"))
    check_same("set dict", True, client.set("dict", {"a": [1, 2], "b": None}))
    check_same("get dict", {"a": [1, 2], "b": None}, client.get("dict"))
    big = os.urandom(300000)
    check_same("set 300KB", True, client.set("big", big))
    check_same("get 300KB", big, client.get("big"))
    check_same("get missing", None, client.get("missing"))
    check_same("key on one server", 1, len(raw_ports_of(ports, "str")))

    check_same("add new", True, client.add("added", b"first"))
    check_same("add existing", False, client.add("added", b"second"))
    check_same("value after add", b"first", client.get("added"))
    check_same("replace existing", True, client.replace("added", b"replaced"))
    check_same("value after replace", b"replaced", client.get("added"))
    # pylibmc returns False for NOT_STORED, but the binary protocol reports a
    # failed replace as NOT_FOUND, which pylibmc raises.
    if client.binary:
        check_raises("replace missing", pylibmc.NotFound, lambda: client.replace("never-set", b"x"))
    else:
        check_same("replace missing", False, client.replace("never-set", b"x"))
    check_same("get after failed replace", None, client.get("never-set"))

    check_same("append", True, client.append("added", b"-end"))
    check_same("prepend", True, client.prepend("added", b"start-"))
    check_same("get appended", b"start-replaced-end", client.get("added"))
    check_same("append missing", False, client.append("no-text", b"x"))
    check_same("prepend missing", False, client.prepend("no-text", b"x"))
    check_same("get after failed append", None, client.get("no-text"))

    check_same("delete existing", True, client.delete("added"))
    check_same("get deleted", None, client.get("added"))
    check_same("delete missing", False, client.delete("added"))


def test_counters(client):
    check_same("set counter", True, client.set("counter", 10))
    check_same("incr by 1", 11, client.incr("counter"))
    check_same("incr by 5", 16, client.incr("counter", 5))
    check_same("decr by 3", 13, client.decr("counter", 3))
    check_same("decr below zero", 0, client.decr("counter", 100))
    check_same("get counter", 0, client.get("counter"))
    # pylibmc takes the delta as a C int, so reach past 32 bits in two steps.
    client.incr("counter", 2**31 - 1)
    check_same("incr past 32 bits", 2**32 - 2, client.incr("counter", 2**31 - 1))
    check_raises("incr missing", pylibmc.NotFound, lambda: client.incr("no-counter"))
    check_raises("decr missing", pylibmc.NotFound, lambda: client.decr("no-counter"))
    check_same("get after failed incr", None, client.get("no-counter"))
    client.set("c1", 1)
    client.set("c2", 2)
    check_same("incr_multi", None, client.incr_multi(["c1", "c2"], delta=10))
    check_same("get_multi after incr_multi", {"c1": 11, "c2": 12}, client.get_multi(["c1", "c2"]))


def test_cas(client):
    check_same("set for cas", True, client.set("cas-key", b"v1"))
    value, token = client.gets("cas-key")
    check_same("gets value", b"v1", value)
    check("gets token nonzero", isinstance(token, int) and token != 0, describe(token))
    check_same("cas with current token", True, client.cas("cas-key", b"v2", token))
    check_same("value after cas", b"v2", client.get("cas-key"))
    check_same("cas with stale token", False, client.cas("cas-key", b"v3", token))
    check_same("value after stale cas", b"v2", client.get("cas-key"))
    check_same("gets missing", (None, None), client.gets("missing"))
    _, token = client.gets("cas-key")
    client.delete("cas-key")
    check_raises("cas after delete", pylibmc.NotFound, lambda: client.cas("cas-key", b"v4", token))
    check_same("get after cas on deleted", None, client.get("cas-key"))


def test_multi(client, ports):
    items = {f"multi-{i}": b"value-%d-" % i + b"x" * (i * 37) for i in range(50)}
    check_same("set_multi", [], client.set_multi(items))
    spread = {port for key in items for port in raw_ports_of(ports, key)}
    check_same("set_multi spread over servers", len(ports), len(spread))
    found = client.get_multi(list(items) + ["multi-missing-1", "multi-missing-2"])
    check_same("get_multi values", items, found)
    check_same("get_multi empty", {}, client.get_multi([]))

    check_same("set_multi with prefix", [], client.set_multi({"a": b"A", "b": b"B"}, key_prefix="pfx:"))
    check_same("prefixed key stored", 1, len(raw_ports_of(ports, "pfx:a")))
    check_same("get_multi with prefix", {"a": b"A", "b": b"B"}, client.get_multi(["a", "b", "c"], key_prefix="pfx:"))
    check_same("get full prefixed key", b"B", client.get("pfx:b"))

    check_same("delete_multi", True, client.delete_multi(["multi-0", "multi-1"]))
    check_same("get after delete_multi", {}, client.get_multi(["multi-0", "multi-1"]))
    check_same("neighbour survives delete_multi", items["multi-2"], client.get("multi-2"))
    check_same("add_multi", ["multi-2"], client.add_multi({"multi-2": b"new", "multi-new": b"n"}))
    check_same("add_multi kept old", items["multi-2"], client.get("multi-2"))
    check_same("add_multi stored new", b"n", client.get("multi-new"))


def test_touch(client, ports):
    check_same("set without expiry", True, client.set("touched", b"t"))
    located = raw_ports_of(ports, "touched")
    check_same("touched key on one server", 1, len(located))
    if not located:
        return
    check_same("ttl before touch", -1, raw_ttl(located[0], "touched"))
    check_same("touch", True, client.touch("touched", 500))
    ttl = raw_ttl(located[0], "touched")
    check("ttl after touch", ttl is not None and 490 < ttl <= 500, describe(ttl))
    check_same("value after touch", b"t", client.get("touched"))
    check_same("touch missing", False, client.touch("never-touched", 500))
    check_same("set with expiry", True, client.set("expiring", b"e", time=300))
    located = raw_ports_of(ports, "expiring")
    ttl = raw_ttl(located[0], "expiring") if located else None
    check("ttl of set with expiry", ttl is not None and 290 < ttl <= 300, describe(ttl))


def test_stats(client, ports):
    stats = client.get_stats()
    check_same("get_stats server count", len(ports), len(stats))
    by_name = {}
    for name, values in stats:
        match = re.match(rb"(\S+):(\d+) \((\d+)\)$", name)
        check(f"get_stats name {name!r}", match is not None)
        if match:
            by_name[int(match.group(2))] = values
    for port in ports:
        values = by_name.get(port, {})
        check_same(f"get_stats pid {port}", raw_stat(port, "pid").encode(), values.get("pid"))
        check_same(f"get_stats version {port}", raw_stat(port, "version").encode(), values.get("version"))
        check(f"get_stats curr_items {port}", values.get("curr_items", b"").isdigit(), describe(values.get("curr_items")))


def test_behaviors(client, binary):
    behaviors = client.get_behaviors()
    check_same("behavior ketama", 1, behaviors.get("ketama"))
    check_same("behavior cas", 1, behaviors.get("cas"))
    check_same("behavior connect_timeout", 2000, behaviors.get("connect_timeout"))
    check_same("binary attribute", binary, client.binary)
    client.set_behaviors({"tcp_nodelay": True, "retry_timeout": 7})
    behaviors = client.get_behaviors()
    check_same("behavior tcp_nodelay", 1, behaviors.get("tcp_nodelay"))
    check_same("behavior retry_timeout", 7, behaviors.get("retry_timeout"))
    check_same("get after set_behaviors", "hello world", client.get("str"))


def pool_worker(reserve, name, errors):
    """Each worker owns keys NAME-i and adds 1 to the shared counter per round."""
    try:
        for i in range(THREAD_ROUNDS):
            with reserve() as client:
                key = f"{name}-{i}"
                if not client.set(key, f"{name}:{i}".encode()):
                    errors.append(f"{key}: set failed")
                value = client.get(key)
                if value != f"{name}:{i}".encode():
                    errors.append(f"{key}: read back {value!r}")
                client.incr(f"{name.split('-')[0]}-counter")
    except Exception as error:  # reported as a check failure below
        errors.append(f"{name}: {type(error).__name__}: {error}")


def run_pool(label, reserve, client):
    client.set(f"{label}-counter", 0)
    errors = []
    threads = [threading.Thread(target=pool_worker, args=(reserve, f"{label}-{n}", errors))
               for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    check_same(f"{label} threads finished", False, any(thread.is_alive() for thread in threads))
    check_same(f"{label} errors", [], errors[:5])
    check_same(f"{label} counter", THREADS * THREAD_ROUNDS, client.get(f"{label}-counter"))
    sample = client.get_multi([f"{label}-{n}-{THREAD_ROUNDS - 1}" for n in range(THREADS)])
    check_same(f"{label} values", {f"{label}-{n}-{THREAD_ROUNDS - 1}": f"{label}-{n}:{THREAD_ROUNDS - 1}".encode()
                                   for n in range(THREADS)}, sample)


def test_pools(client):
    pool = pylibmc.ClientPool()
    pool.fill(client, THREADS)
    run_pool("clientpool", lambda: pool.reserve(block=True), client)
    mapped = pylibmc.ThreadMappedPool(client)
    run_pool("threadmapped", mapped.reserve, client)


def run_step(name, step, *args):
    """Run one group of checks; an exception counts as one failed check."""
    try:
        step(*args)
    except Exception as error:  # report and go on with the next group
        check(f"{name} completes", False, f"{type(error).__name__}: {error}")


def run_functional(ports, binary):
    flush_all(ports)
    client = new_client(ports, binary)
    run_step("storage", test_storage, client, ports)
    run_step("counters", test_counters, client)
    run_step("cas", test_cas, client)
    run_step("multi", test_multi, client, ports)
    run_step("touch", test_touch, client, ports)
    run_step("stats", test_stats, client, ports)
    run_step("behaviors", test_behaviors, client, binary)
    run_step("pools", test_pools, client)

    clone = client.clone()
    check_same("clone reads", "hello world", clone.get("str"))
    client.disconnect_all()
    check_same("get after disconnect_all", "hello world", client.get("str"))
    check_same("flush_all", True, client.flush_all())
    check_same("get after flush_all", None, client.get("str"))
    check_same("clone after flush_all", None, clone.get("str"))


def run_placement(ports, config):
    flush_all(ports)
    client = new_client(ports, False, PLACEMENT_BEHAVIORS[config])
    lines = []
    for i in range(PLACEMENT_KEYS):
        key = f"place-{i}"
        if not client.set(key, b"v"):
            raise RuntimeError(f"set {key} failed")
        found = raw_ports_of(ports, key)
        where = str(found[0]) if len(found) == 1 else f"on-{len(found)}-servers"
        lines.append(f"{key} {where} {client.hash(key)}")
    print("\n".join(sorted(lines)))


def main(argv):
    if len(argv) != 4 or argv[1] not in ("functional", "placement"):
        print(__doc__, file=sys.stderr)
        return 2
    ports = [int(port) for port in argv[2].split(",")]
    print_mapped_libraries()
    if argv[1] == "placement":
        run_placement(ports, argv[3])
        return 0
    run_functional(ports, argv[3] == "1")
    print(f"pylibmc functional: {failures} failed")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
