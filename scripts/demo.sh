#!/usr/bin/env bash
# The main job: builds libmemcached-rs, installs it into build/prefix, starts a memcached on a
# free loopback port, and runs Debian's prebuilt libmemcached-tools (memccp, memccat, memcstat,
# memcexist, memcrm) on this library instead of Debian's libmemcached.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/servers.sh
. "$root/scripts/lib/servers.sh"
prefix="$root/build/prefix"
work=$(mktemp -d)

cleanup() {
    servers_stop_all
    rm -rf "$work"
}
trap cleanup EXIT

"$root/scripts/install-deps.sh"
make -C "$root" install PREFIX="$prefix"

servers_name=demo
servers_user=nobody
servers_use_ports 25200 25299
servers_start_free -m 64
port=$servers_port

export LD_LIBRARY_PATH="$prefix/lib"
servers="--servers=127.0.0.1:$port"

echo "== memccat resolves libmemcached to:"
ldd "$(command -v memccat)" | grep libmemcached

echo "== memccp + memccat round trip"
echo "stored through libmemcached-rs at $(date -u +%FT%TZ)" > "$work/greeting.txt"
memccp "$servers" "$work/greeting.txt"
(cd "$work" && memccat "$servers" greeting.txt)

echo "== memcexist, memcrm, memcexist"
(cd "$work" && memcexist "$servers" greeting.txt && echo "greeting.txt exists")
(cd "$work" && memcrm "$servers" greeting.txt && echo "greeting.txt removed")
if (cd "$work" && memcexist "$servers" greeting.txt); then
    echo "demo: greeting.txt still exists after memcrm" >&2
    exit 1
fi
echo "greeting.txt is gone"

echo "== memcstat (first lines)"
memcstat "$servers" | head -n 6

echo "demo: all steps succeeded on $prefix/lib"
