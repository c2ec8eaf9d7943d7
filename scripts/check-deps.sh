#!/usr/bin/env bash
# Checks the dynamic sections of our libmemcached and libmemcachedutil: the SONAMEs, and that
# they need nothing beyond the C runtime (and libmemcachedutil additionally libmemcached).
#
# Usage: scripts/check-deps.sh [LIBDIR]
#   LIBDIR  an installed PREFIX/lib or a cargo profile directory; default target/release.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
libdir=${1:-${CARGO_TARGET_DIR:-$repo/target}/release}
runtime='libc.so.6 libgcc_s.so.1 ld-linux-x86-64.so.2'

status=0
# check_library SONAME "ALLOWED NEEDED ..." [REQUIRED NEEDED]
check_library() {
    local soname=$1 allowed=$2 required=${3:-} file=
    for candidate in "$libdir/$soname" "$libdir/${soname%.so.*}.so"; do
        if [[ -e $candidate ]]; then
            file=$candidate
            break
        fi
    done
    if [[ -z $file ]]; then
        echo "$soname: not found in $libdir" >&2
        status=1
        return
    fi

    local dynamic actual_soname needed
    dynamic=$(readelf -d "$file")
    actual_soname=$(sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p' <<<"$dynamic")
    needed=$(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' <<<"$dynamic" | tr '\n' ' ')
    echo "$soname: SONAME ${actual_soname:-none}; NEEDED ${needed:-none}"

    if [[ $actual_soname != "$soname" ]]; then
        echo "  FAIL: SONAME should be $soname" >&2
        status=1
    fi
    local library
    for library in $needed; do
        if [[ " $allowed " != *" $library "* ]]; then
            echo "  FAIL: unexpected dependency $library" >&2
            status=1
        fi
    done
    if [[ -n $required && " $needed " != *" $required "* ]]; then
        echo "  FAIL: $required is not among the dependencies" >&2
        status=1
    fi
}

check_library libmemcached.so.11 "$runtime"
check_library libmemcachedutil.so.2 "$runtime libmemcached.so.11" libmemcached.so.11

if [[ $status -eq 0 ]]; then
    echo "check-deps: ok"
else
    echo "check-deps: FAILED" >&2
fi
exit "$status"
