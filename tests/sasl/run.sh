#!/usr/bin/env bash
# Runs sasl.c against a memcached started with SASL (-S, PLAIN over a sasldb file) on
# 127.0.0.1, once built against libmemcached-rs in PREFIX and once against Debian's
# libmemcached, and requires identical output. Needs sasl2-bin (saslpasswd2).
#
# Usage: tests/sasl/run.sh PREFIX
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 PREFIX" >&2
    exit 2
fi
prefix=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
memcached_pid=

cleanup() {
    if [[ -n $memcached_pid ]]; then
        kill "$memcached_pid" 2>/dev/null || true
        wait "$memcached_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Ports below 32768 stay clear of the kernel's ephemeral range, so no client socket holds them.
port=
for candidate in $(seq 29000 29099); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
        port=$candidate
        break
    fi
done
[[ -n $port ]] || { echo "no free port in 29000-29099" >&2; exit 1; }

user=alice
password="sasl-$RANDOM-secret"
echo "$password" | saslpasswd2 -p -a memcached -c -f "$work/sasldb" "$user"
chmod 0644 "$work/sasldb"
printf 'mech_list: plain\nsasldb_path: %s\n' "$work/sasldb" >"$work/memcached.conf"
chmod 0755 "$work"

SASL_CONF_PATH="$work" memcached -S -l 127.0.0.1 -p "$port" -U 0 -m 16 -u nobody &
memcached_pid=$!
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$memcached_pid" 2>/dev/null || { echo "memcached -S did not start" >&2; exit 1; }
    sleep 0.1
done

cc -std=c99 -Wall -Wextra -Werror -I "$prefix/include" "$here/sasl.c" -o "$work/sasl-ours" \
    -L "$prefix/lib" -Wl,-rpath,"$prefix/lib" -lmemcached -lmemcachedutil
cc -std=c99 -Wall -Wextra -Werror "$here/sasl.c" -o "$work/sasl-debian" -lmemcached -lmemcachedutil

"$work/sasl-ours" "$port" "$user" "$password" >"$work/ours.out"
"$work/sasl-debian" "$port" "$user" "$password" >"$work/debian.out"

cat "$work/ours.out"
if diff "$work/debian.out" "$work/ours.out"; then
    echo "1 passed, 0 failed"
else
    echo "output differs (< Debian's libmemcached, > libmemcached-rs)"
    echo "0 passed, 1 failed"
    exit 1
fi
