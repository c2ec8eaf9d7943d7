#!/usr/bin/env bash
# Builds util-smoke.c against an installed libmemcached + libmemcachedutil and runs it against
# a memcached started here on 127.0.0.1.
#
# Usage: scripts/util-smoke.sh PREFIX [LIBDIR]
#   PREFIX  where include/libmemcached/ lives (for example the PREFIX of `make install`)
#   LIBDIR  where libmemcached.so and libmemcachedutil.so live (default PREFIX/lib)
# Environment: UTIL_SMOKE_PORT (default 33101) for memcached, UTIL_SMOKE_DEAD_PORT (default
# 33199) for a port that must stay closed, CC (default cc), and UTIL_SMOKE_STRICT_RELEASE=1
# to include checks that only this project's libmemcachedutil passes.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 PREFIX [LIBDIR]" >&2
    exit 2
fi
prefix=$1
libdir=${2:-$prefix/lib}
port=${UTIL_SMOKE_PORT:-33101}
dead_port=${UTIL_SMOKE_DEAD_PORT:-33199}
here=$(cd "$(dirname "$0")" && pwd)

work=$(mktemp -d)
server_pid=
cleanup() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"${CC:-cc}" -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror \
    -I"$prefix/include" -o "$work/util-smoke" "$here/util-smoke.c" \
    -L"$libdir" -lmemcachedutil -lmemcached -lpthread

memcached -l 127.0.0.1 -p "$port" -U 0 -u "$(id -un)" -m 16 &
server_pid=$!

# Wait up to 5 s for the listener.
for _ in $(seq 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        break
    fi
    sleep 0.1
done

timeout 60 env LD_LIBRARY_PATH="$libdir" "$work/util-smoke" "$port" "$server_pid" "$dead_port"
