#!/usr/bin/env bash
# Compares the dynamic symbols of our libmemcached and libmemcachedutil with Debian's.
#
# Usage: scripts/check-exports.sh [LIBDIR]
#   LIBDIR  where our libraries are: an installed PREFIX/lib (libmemcached.so.11, ...) or a
#           cargo profile directory (libmemcached.so, ...); default target/release.
# Environment: REAL_LIBDIR (default /usr/lib/x86_64-linux-gnu) is where the original
# libmemcached.so.11, libmemcachedutil.so.2 and libhashkit.so.2 are.
#
# Fails, listing them, when the original exports a function that ours lacks. Symbols only
# ours exports are printed as warnings. Original libhashkit symbols that our libmemcached
# exports are reported on their own line, since this project ships no libhashkit.so.2.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
libdir=${1:-${CARGO_TARGET_DIR:-$repo/target}/release}
real_libdir=${REAL_LIBDIR:-/usr/lib/x86_64-linux-gnu}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The file for SONAME in $1, named either by its SONAME (installed) or by its link name.
find_ours() {
    local soname=$1 link_name=${1%.so.*}.so
    for candidate in "$libdir/$soname" "$libdir/$link_name"; do
        if [[ -e $candidate ]]; then
            echo "$candidate"
            return
        fi
    done
    echo "check-exports: neither $soname nor $link_name in $libdir" >&2
    return 1
}

defined_symbols() {
    nm -D --defined-only "$1" | awk 'NF >= 3 { print $3 }' | sed 's/@.*//' | sort -u
}

hashkit_real=$real_libdir/libhashkit.so.2
if [[ -e $hashkit_real ]]; then
    defined_symbols "$hashkit_real" >"$work/hashkit"
else
    : >"$work/hashkit"
fi

status=0
for soname in libmemcached.so.11 libmemcachedutil.so.2; do
    real=$real_libdir/$soname
    ours=$(find_ours "$soname")
    defined_symbols "$real" >"$work/real"
    defined_symbols "$ours" >"$work/ours"

    comm -23 "$work/real" "$work/ours" >"$work/missing"
    comm -13 "$work/real" "$work/ours" >"$work/extra"
    comm -12 "$work/extra" "$work/hashkit" >"$work/extra-hashkit"
    comm -23 "$work/extra" "$work/hashkit" >"$work/extra-other"

    echo "$soname: original exports $(wc -l <"$work/real"), ours $(wc -l <"$work/ours") ($ours)"
    if [[ -s $work/missing ]]; then
        echo "  MISSING ($(wc -l <"$work/missing")):"
        sed 's/^/    /' "$work/missing"
        status=1
    fi
    if [[ -s $work/extra-hashkit ]]; then
        echo "  libhashkit.so.2 functions exported here: $(wc -l <"$work/extra-hashkit")" \
            "of $(wc -l <"$work/hashkit")"
    fi
    if [[ -s $work/extra-other ]]; then
        echo "  warning: exported only by ours ($(wc -l <"$work/extra-other")):"
        sed 's/^/    /' "$work/extra-other"
    fi
done

if [[ $status -eq 0 ]]; then
    echo "check-exports: every exported function of the originals is present"
else
    echo "check-exports: FAILED, functions missing" >&2
fi
exit "$status"
