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
# shellcheck source=scripts/lib/servers.sh
. "$here/../../scripts/lib/servers.sh"
work=$(mktemp -d)

cleanup() {
    servers_stop_all
    rm -rf "$work"
}
trap cleanup EXIT

user=alice
password="sasl-$RANDOM-secret"
echo "$password" | saslpasswd2 -p -a memcached -c -f "$work/sasldb" "$user"
chmod 0644 "$work/sasldb"
printf 'mech_list: plain\nsasldb_path: %s\n' "$work/sasldb" >"$work/memcached.conf"
chmod 0755 "$work"

# As root, memcached runs as user nobody. The modes set above let that user read the SASL
# files.
servers_user=nobody
servers_use_ports 29000 29099
if ! SASL_CONF_PATH="$work" servers_start_free -S -m 16; then
    echo "memcached -S did not start" >&2
    exit 1
fi
port=$servers_port

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
