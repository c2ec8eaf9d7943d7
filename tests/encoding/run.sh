#!/usr/bin/env bash
# Checks that values encrypted with memcached_set_encoding_key are readable across libraries:
# written by Debian's libmemcached and read by libmemcached-rs, and the other way round, in the
# text protocol; in the binary protocol, written by either and read by libmemcached-rs
# (Debian's libmemcached returns the stored ciphertext on binary gets, so it is not a reader
# there). Starts its own memcached on 127.0.0.1.
#
# Usage: tests/encoding/run.sh PREFIX
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
passed=0
failed=0

cleanup() {
    servers_stop_all
    rm -rf "$work"
}
trap cleanup EXIT

servers_user=nobody
servers_use_ports 29100 29199
if ! servers_start_free -m 16; then
    echo "memcached did not start" >&2
    exit 1
fi
port=$servers_port

cc -std=c99 -Wall -Wextra -Werror -I "$prefix/include" "$here/encoding.c" -o "$work/ours" \
    -L "$prefix/lib" -Wl,-rpath,"$prefix/lib" -lmemcached
cc -std=c99 -Wall -Wextra -Werror "$here/encoding.c" -o "$work/debian" -lmemcached

# check WRITER READER [binary]: every value read back matches, and append/increment are
# refused while the key is set.
check() {
    local writer=$1 reader=$2 mode=${3:-}
    local name="$writer writes, $reader reads${mode:+ ($mode)}"
    "$work/$writer" write "$port" $mode >/dev/null
    local output
    output=$("$work/$reader" read "$port" $mode)
    if [[ $(grep -c 'matches=yes' <<<"$output") -eq 4 ]] && grep -q '^append rc=28$' <<<"$output" \
        && grep -q '^increment rc=28$' <<<"$output"; then
        echo "PASS $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        sed 's/^/    /' <<<"$output"
        failed=$((failed + 1))
    fi
}

check debian ours
check ours debian
check ours ours
check debian ours binary
check ours ours binary

# Stored bytes are ciphertext: whole 16-byte blocks, longer than the values.
plain=$("$work/debian" plain "$port")
if grep -q 'enc.short: stored length 16' <<<"$plain" && grep -q 'enc.long: stored length 1008' <<<"$plain"; then
    echo "PASS stored values are AES blocks"
    passed=$((passed + 1))
else
    echo "FAIL stored values are AES blocks"
    sed 's/^/    /' <<<"$plain"
    failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
