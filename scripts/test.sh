#!/usr/bin/env bash
# Runs every test: Rust unit and vector tests, header and export checks, ProFTPD's configure
# checks, the libmemcachedutil smoke test, the C tests against this library and Debian's, the ProFTPD end-to-end suite, and a
# short benchmark run. Installs what it needs first. Each suite starts and stops its own
# servers on 127.0.0.1. Prints one PASS/FAIL line per suite and exits non-zero on any failure.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
prefix="$root/build/prefix"
logs="$root/build/test-logs"
passed=0
failed=0
failed_names=()

"$root/scripts/install-deps.sh" || exit 1
mkdir -p "$logs"

run_suite() {
    local name=$1
    shift
    local log="$logs/$name.log"
    local start=$SECONDS
    echo "== $name: $*"
    if "$@" >"$log" 2>&1; then
        passed=$((passed + 1))
        echo "PASS $name ($((SECONDS - start)) s)"
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        echo "FAIL $name ($((SECONDS - start)) s); last lines of $log:"
        tail -n 40 "$log" | sed 's/^/    /'
    fi
}

cd "$root"
run_suite rust-tests cargo test -p libmemcached-rs
run_suite check-headers make check-headers
run_suite install make install PREFIX="$prefix"
run_suite check-exports make check-exports LIBDIR="$prefix/lib"
run_suite check-deps make check-deps LIBDIR="$prefix/lib"
run_suite compile-headers make compile-headers
run_suite configure-snippet configure-snippet/run.sh "$prefix"
run_suite util-smoke scripts/util-smoke.sh "$prefix"
run_suite c-tests c-tests/run.sh "$prefix"
run_suite sasl tests/sasl/run.sh "$prefix"
run_suite encoding tests/encoding/run.sh "$prefix"
run_suite proftpd-e2e tests/e2e/run.sh --lib-dir "$prefix/lib"
run_suite consumers tests/consumers/run.sh --lib-dir "$prefix/lib"
run_suite faults tests/faults/run.sh "$prefix"
run_suite soak tests/soak/run.sh "$prefix" --seconds 120
run_suite sanitizers scripts/sanitize.sh "$prefix"
run_suite fuzz-smoke scripts/fuzz-smoke.sh 15
run_suite bench-smoke c-tests/bench/run.sh "$prefix" --short

echo
if [ "$failed" -gt 0 ]; then
    echo "failed suites: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
