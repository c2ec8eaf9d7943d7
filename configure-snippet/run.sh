#!/usr/bin/env bash
# Runs ProFTPD's libmemcached configure checks (configure.ac beside this script) against one
# installation, and fails unless they found both libraries and both headers there and the
# LIBMEMCACHED_VERSION_HEX test passed.
#
# Usage: configure-snippet/run.sh PREFIX [LIBDIR]
#   PREFIX  contains include/libmemcached/ (for example the PREFIX of `make install`)
#   LIBDIR  contains libmemcached.so and libmemcachedutil.so (default PREFIX/lib; for Debian's
#           own packages: run.sh /usr /usr/lib/x86_64-linux-gnu)
#
# configure's checks pass just as well with libraries from the compiler's default paths, so
# this also checks where the header and the libraries actually came from.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
    echo "usage: $0 PREFIX [LIBDIR]" >&2
    exit 2
fi
prefix=$(realpath -m "$1")
libdir=$(realpath -m "${2:-$prefix/lib}")
here=$(cd "$(dirname "$0")" && pwd)
cc=${CC:-cc}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/configure.ac" "$work/"
cd "$work"

autoconf
if ! ./configure --with-includes="$prefix/include" --with-libraries="$libdir" >configure.out 2>&1
then
    cat configure.out
    echo "run.sh: configure failed; see above" >&2
    exit 1
fi
grep -E '^checking (for (memcached_create|libmemcached_util_ping|libmemcached/)|whether (LIBM|a pro))' \
    configure.out

failures=0
fail() {
    echo "run.sh: FAIL: $*" >&2
    failures=$((failures + 1))
}

declare -A detected=()
while IFS='=' read -r key value; do
    [[ -n $key ]] && detected[$key]=$value
done <detected
for result in lib_memcached lib_memcachedutil header_memcached header_util version_hex link; do
    if [[ ${detected[$result]:-} != yes ]]; then
        fail "$result: ${detected[$result]:-not checked}"
    fi
done

# Where did the header come from? The preprocessor's dependency list names the files.
printf '#include <libmemcached/memcached.h>\n#include <libmemcached/util.h>\n' >probe.c
headers=$("$cc" ${detected[CPPFLAGS]} -M probe.c | tr ' \\' '\n\n' | grep -E '/libmemcached(util)?(-1\.0)?/' \
    || true)
for wanted in libmemcached/memcached.h libmemcached/util.h; do
    if ! grep -qx "$prefix/include/$wanted" <<<"$headers"; then
        fail "<$wanted> did not come from $prefix/include"
    fi
done

# Which shared objects did the link use? The linker's trace lists each input file.
printf 'char memcached_create(void);\nchar libmemcached_util_ping(void);\n' >probe-link.c
printf 'int main(void) { return memcached_create() + libmemcached_util_ping(); }\n' \
    >>probe-link.c
"$cc" -o probe-link probe-link.c ${detected[LDFLAGS]} ${detected[LIBS]} -Wl,--trace >link-trace 2>&1 || true
for library in libmemcached.so libmemcachedutil.so; do
    expected=$(realpath -m "$libdir/$library")
    found=
    while read -r input; do
        if [[ $(basename "$input") == "$library" ]]; then
            found=$(realpath -m "$input")
            break
        fi
    done <link-trace
    if [[ -z $found ]]; then
        fail "the link did not use any $library"
    elif [[ $found != "$expected" ]]; then
        fail "the link used $found, not $expected"
    fi
done

if [[ $failures -gt 0 ]]; then
    echo "run.sh: $failures check(s) failed for $prefix" >&2
    exit 1
fi
echo "run.sh: ProFTPD's checks found libmemcached in $prefix ($libdir)"
