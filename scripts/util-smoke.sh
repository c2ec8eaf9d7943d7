#!/usr/bin/env bash
# Builds util-smoke.c against an installed libmemcached + libmemcachedutil and runs it against
# a memcached started here on 127.0.0.1.
#
# Usage: scripts/util-smoke.sh PREFIX [LIBDIR]
#   PREFIX  where include/libmemcached/ lives (for example the PREFIX of `make install`)
#   LIBDIR  where libmemcached.so and libmemcachedutil.so live (default PREFIX/lib)
# Environment: UTIL_SMOKE_PORT for memcached and UTIL_SMOKE_DEAD_PORT for a port that must stay
# closed (each by default a free port of 25100-25199), CC (default cc), and
# UTIL_SMOKE_STRICT_RELEASE=1 to include checks that only this project's libmemcachedutil
# passes.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 PREFIX [LIBDIR]" >&2
    exit 2
fi
prefix=$1
libdir=${2:-$prefix/lib}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib/servers.sh
. "$here/lib/servers.sh"

work=$(mktemp -d)
cleanup() {
    servers_stop_all
    rm -rf "$work"
}
trap cleanup EXIT

"${CC:-cc}" -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror \
    -I"$prefix/include" -o "$work/util-smoke" "$here/util-smoke.c" \
    -L"$libdir" -lmemcachedutil -lmemcached -lpthread

servers_use_ports 25100 25199
if [[ -n ${UTIL_SMOKE_PORT:-} ]]; then
    port=$UTIL_SMOKE_PORT
    if ! servers_start_tcp "$port" -m 16; then
        echo "util-smoke.sh: memcached did not start on 127.0.0.1:$port" >&2
        exit 1
    fi
else
    servers_start_free -m 16 || exit 1
    port=$servers_port
fi
server_pid=$servers_pid
if [[ -n ${UTIL_SMOKE_DEAD_PORT:-} ]]; then
    dead_port=$UTIL_SMOKE_DEAD_PORT
else
    servers_pick_port
    dead_port=$servers_port
fi

timeout 60 env LD_LIBRARY_PATH="$libdir" "$work/util-smoke" "$port" "$server_pid" "$dead_port"
