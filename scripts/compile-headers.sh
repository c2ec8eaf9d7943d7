#!/usr/bin/env bash
# Compiles every header under an include directory on its own, as C99 and as C++11, with
# -Wall -Wextra -Werror, plus one file that includes the two main headers twice each.
#
# Usage: scripts/compile-headers.sh [INCLUDE_DIR]   (default: include/ of this repository)
# Environment: CC (default cc), CXX (default c++).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
include_dir=$(realpath "${1:-$repo/include}")
cc=${CC:-cc}
cxx=${CXX:-c++}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failures=0
compile_both() {
    local name=$1 source=$2
    printf '%s\n' "$source" >"$work/unit.c"
    cp "$work/unit.c" "$work/unit.cc"
    if ! "$cc" -std=c99 -Wall -Wextra -Werror -I"$include_dir" -c "$work/unit.c" \
        -o /dev/null; then
        echo "FAIL (C99): $name" >&2
        failures=$((failures + 1))
    fi
    if ! "$cxx" -std=c++11 -Wall -Wextra -Werror -I"$include_dir" -c "$work/unit.cc" \
        -o /dev/null; then
        echo "FAIL (C++11): $name" >&2
        failures=$((failures + 1))
    fi
}

count=0
while read -r header; do
    compile_both "$header" "#include <$header>"
    count=$((count + 1))
done < <(cd "$include_dir" && find . -name '*.h' | sed 's|^\./||' | sort)

compile_both "both main headers, twice" '#include <libmemcached/memcached.h>
#include <libmemcached/util.h>
#include <libmemcached/memcached.h>
#include <libmemcached/util.h>'

if [[ $failures -gt 0 ]]; then
    echo "compile-headers: $failures compilation(s) failed" >&2
    exit 1
fi
echo "compile-headers: $count headers compile as C99 and C++11 in $include_dir"
