#!/usr/bin/env bash
# The main job: builds libmemcached-rs, installs it into build/prefix, starts a memcached on a
# free loopback port, and runs Debian's prebuilt libmemcached-tools (memccp, memccat, memcstat,
# memcexist, memcrm) on this library instead of Debian's libmemcached.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
prefix="$root/build/prefix"
work=$(mktemp -d)
memcached_pid=

cleanup() {
    if [ -n "$memcached_pid" ]; then
        kill "$memcached_pid" 2>/dev/null || true
        wait "$memcached_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"$root/scripts/install-deps.sh"
make -C "$root" install PREFIX="$prefix"

# A free port on 127.0.0.1: the first port of the range nobody answers on.
port=
for candidate in $(seq 21400 21499); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
        port=$candidate
        break
    fi
done
[ -n "$port" ] || { echo "demo: no free port in 21400-21499" >&2; exit 1; }

memcached -l 127.0.0.1 -p "$port" -U 0 -m 64 -u nobody &
memcached_pid=$!
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done

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
