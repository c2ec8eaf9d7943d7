#!/usr/bin/env bash
# Runs the C tests (c-tests/*.c and c-tests/regression/*.c) under AddressSanitizer and
# UndefinedBehaviorSanitizer, and under valgrind.
#
#   sanitize.sh PREFIX              both runs against an installed libmemcached-rs
#   sanitize.sh --asan PREFIX       only the ASAN/UBSAN run
#   sanitize.sh --valgrind PREFIX   only the valgrind run
#   sanitize.sh --rust-asan         builds the library itself with -Zsanitizer=address (into
#                                   target/asan, installed into a scratch prefix) and runs the
#                                   ASAN/UBSAN run against that build
#
# ASAN/UBSAN run: every test is compiled with c-tests/run.sh's flags plus
# -fsanitize=address,undefined -fno-omit-frame-pointer (and -Wno-error=format-truncation, see
# below) and linked against PREFIX. The library is not instrumented unless --rust-asan built
# it, but ASAN still replaces malloc and free for it, so leaks, double frees and frees of
# foreign pointers across the C boundary are found either way. A test fails on a non-zero
# exit status or any sanitizer report.
#
# valgrind run: the same tests built without sanitizers run under
#   valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
#            --trace-children=no
# Every process writes its own log, so a child that a test forks is checked too. A test fails
# on a non-zero exit status, on a valgrind error or definitely lost bytes in any log, or on a
# process that died of a signal. The leak summary of such a process is not shown, because it
# lists what the process held when it died. --trace-children=no keeps the memcached that
# server_restart_first_request_succeeds execs out of valgrind. No test is skipped.
#
# Servers: memcached on three free TCP ports of 127.0.0.1 in 22000-22999 and on a unix
# socket, with the environment c-tests/run.sh gives the tests (MC_PORT1..3, MC_SOCKET,
# MC_DEAD_PORT, MC_DEAD_PORT2, MC_DEAD_PORT3, MC_HANG_PORT, MC_RESTART_PORT, MC_MEMORY_MB,
# MC_VECTORS_DIR). They are flushed before every test and stopped by pid on exit.
#
# --rust-asan needs RUSTC_BOOTSTRAP=1 (set here) because -Zsanitizer is a nightly flag, and
# --target so that build scripts are not instrumented. The C tests then run with gcc's
# libasan, which provides the ASAN runtime for the instrumented library as well.
#
# Takes about 3 minutes for the ASAN/UBSAN run and 4 for the valgrind run on 2 cores, plus
# about 3 minutes for the first --rust-asan build. Prints PASS/FAIL per test and run, and
# "N passed, M failed" last. The exit status is non-zero when anything failed.
# KEEP_OUTPUT_DIR=DIR keeps all outputs and logs in DIR.
set -euo pipefail
shopt -s nullglob

usage() {
  echo "usage: $0 [--asan|--valgrind] PREFIX | --rust-asan" >&2
  exit 2
}

root=$(cd "$(dirname "$0")/.." && pwd)
tests=$root/c-tests
run_asan=1
run_valgrind=1
rust_asan=0
case ${1:-} in
  --asan)
    run_valgrind=0
    shift
    ;;
  --valgrind)
    run_asan=0
    shift
    ;;
  --rust-asan)
    rust_asan=1
    run_valgrind=0
    shift
    ;;
  -*) usage ;;
esac
if ((rust_asan)); then
  [[ $# -eq 0 ]] || usage
else
  [[ $# -eq 1 ]] || usage
fi

if ((run_valgrind)) && ! command -v valgrind >/dev/null; then
  echo "sanitize.sh: valgrind is not installed (apt-get install valgrind)" >&2
  exit 2
fi

# The compile flags are c-tests/run.sh's own, read from its `cflags=(...)` line so the two
# scripts cannot drift apart.
cflags_line=$(grep -m 1 '^cflags=(' "$tests/run.sh" || true)
if ! [[ $cflags_line =~ ^cflags=\(([-A-Za-z0-9=\ ]+)\)$ ]]; then
  echo "sanitize.sh: cannot read the cflags line of c-tests/run.sh" >&2
  exit 1
fi
read -r -a cflags <<<"${BASH_REMATCH[1]}"
# gcc's -fsanitize=nonnull-attribute adds a path on which a string already passed to strcmp
# is NULL, and -Wformat-truncation then warns about that path (in distribution.c). The warning
# stays visible in the build log but does not fail the build.
sanitize_flags=("-fsanitize=address,undefined" -fno-omit-frame-pointer -Wno-error=format-truncation)
libs=(-lmemcached -lmemcachedutil)
# Valgrind and the sanitizers make the tests several times slower.
test_timeout=300
memory_mb=64

# shellcheck source=scripts/lib/servers.sh
. "$root/scripts/lib/servers.sh"
# shellcheck source=c-tests/lib/servers.sh
. "$tests/lib/servers.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/sanitize.XXXXXX")
cleanup() {
  servers_stop_all
  if [[ -n ${KEEP_OUTPUT_DIR:-} && -d $work/out ]]; then
    mkdir -p "$KEEP_OUTPUT_DIR"
    cp -r "$work/out/." "$KEEP_OUTPUT_DIR/"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/out" "$work/asan" "$work/plain"

if ((rust_asan)); then
  # cargo puts --target builds under target/asan/<triple>/release, and the Makefile installs
  # from TARGET_DIR/release.
  triple=x86_64-unknown-linux-gnu
  asan_target=$root/target/asan
  prefix=$work/prefix
  echo "building libmemcached-rs with -Zsanitizer=address into target/asan"
  if ! RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zsanitizer=address" CARGO_BUILD_TARGET=$triple \
    CARGO_TARGET_DIR=$asan_target make -C "$root" install PREFIX="$prefix" \
    TARGET_DIR="$asan_target/$triple" >"$work/out/rust-asan.build" 2>&1; then
    tail -n 40 "$work/out/rust-asan.build" >&2
    echo "sanitize.sh: the ASAN build of the library failed" >&2
    exit 1
  fi
  # Not grep -q: it would exit at the first match and fail the pipeline with nm's SIGPIPE.
  if ! nm -D "$prefix/lib/libmemcached.so" | grep ' U __asan_report' >/dev/null; then
    echo "sanitize.sh: target/asan's libmemcached.so is not instrumented" >&2
    exit 1
  fi
else
  [[ -d $1/include && -d $1/lib ]] || {
    echo "sanitize.sh: $1 has no include/ and lib/ directories; run 'make install PREFIX=$1' first" >&2
    exit 2
  }
  prefix=$(cd "$1" && pwd)
fi

passed=0
failed=0
pass() {
  passed=$((passed + 1))
  echo "PASS $*"
}
fail() {
  failed=$((failed + 1))
  echo "FAIL $*"
}

# ---- servers ------------------------------------------------------------------------------

cc "${cflags[@]}" -o "$work/mcctl" "$tests/tools/mcctl.c"

c_tests_start_servers "$work" "$memory_mb" 22000 22999
echo "servers: memcached on 127.0.0.1 ports ${tcp_ports[*]} and a unix socket"

# ---- build --------------------------------------------------------------------------------

names=()
for src in "$tests"/*.c "$tests"/regression/*.c; do
  names+=("$(basename "$src" .c)")
done

source_of() {
  if [[ -f $tests/$1.c ]]; then
    echo "$tests/$1.c"
  else
    echo "$tests/regression/$1.c"
  fi
}

# Builds test $1 into directory $2 with the extra compiler flags that follow.
build_test() {
  local name=$1 dir=$2
  shift 2
  cc "${cflags[@]}" "$@" -I "$prefix/include" -o "$work/$dir/$name" "$(source_of "$name")" \
    -L "$prefix/lib" -Wl,-rpath,"$prefix/lib" "${libs[@]}" >"$work/out/$name.$dir.build" 2>&1
}

show() {
  sed 's/^/    /' "$1" | head -n "${2:-30}"
}

# Prints the end of test output $1 and its stderr, for a failed test.
show_output() {
  if [[ -s $1.stderr ]]; then
    show "$1.stderr" 30
  fi
  grep -v -e '^ok: ' "$1" | tail -n 10 | sed 's/^/    /' || true
}

# Runs command "$@" with output in $out (set by the caller) and sets $status.
run_bounded() {
  status=0
  "$work/mcctl" flush "${all_servers[@]}"
  timeout "$test_timeout" "$@" >"$out" 2>"$out.stderr" </dev/null || status=$?
}

describe_status() {
  if ((status == 124)); then
    echo "timed out after ${test_timeout} s"
  elif ((status > 128)); then
    echo "killed by signal $((status - 128))"
  else
    echo "exit status $status"
  fi
}

# ---- ASAN/UBSAN ---------------------------------------------------------------------------

# halt_on_error turns every UBSAN report into a non-zero exit. The reports are also matched in
# the output, because a test may catch the failed exit of a child it forked.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
sanitizer_pattern='ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (Address|UndefinedBehavior|Leak)Sanitizer'

if ((run_asan)); then
  label=asan
  if ((rust_asan)); then
    label=rust-asan
  fi
  for name in "${names[@]}"; do
    if ! build_test "$name" asan "${sanitize_flags[@]}"; then
      fail "$label $name: build failed"
      show "$work/out/$name.asan.build"
      continue
    fi
    out=$work/out/$name.asan
    run_bounded "$work/asan/$name"
    if grep -qE "$sanitizer_pattern" "$out.stderr" "$out"; then
      fail "$label $name: sanitizer report ($(describe_status))"
      grep -hE -A 12 "$sanitizer_pattern" "$out.stderr" "$out" | head -n 40 | sed 's/^/    /'
    elif ((status != 0)); then
      fail "$label $name: $(describe_status)"
      show_output "$out"
    else
      pass "$label $name"
    fi
  done
fi
unset ASAN_OPTIONS UBSAN_OPTIONS

# ---- valgrind -----------------------------------------------------------------------------

valgrind_args=(--error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
  --trace-children=no --num-callers=30)

valgrind_pattern='ERROR SUMMARY: [1-9]|definitely lost: [1-9]'
killed_pattern='Process terminating with default action of signal'

# Prints valgrind log $1 from its command line on, without blank lines and without the frames
# of Rust's standard library, which inlining repeats for every library frame.
show_valgrind_log() {
  grep -vE '^==[0-9]+== *$|\(library/(core|std|alloc)/' "$1" | sed -n '/^==[0-9]*== Command:/,$p' |
    head -n "${2:-60}" | sed 's/^/    /'
}

# Checks the valgrind logs of test $1 (one per process) and fails the test when one reports
# an error or definitely lost bytes, or when valgrind saw a process die of a signal. The leak
# summary of a killed process lists the memory it held when it died, so only its signal and
# stack are shown.
check_valgrind_logs() {
  local name=$1 log reported=0
  for log in "$work/out/$name.valgrind".*; do
    if grep -q "$killed_pattern" "$log"; then
      if ((!reported)); then
        fail "valgrind $name: a process was killed by a signal ($(describe_status))"
        reported=1
      fi
      sed -n -e '/Command:/p' -e "/$killed_pattern/,/HEAP SUMMARY/p" "$log" |
        grep -v 'HEAP SUMMARY' >"$log.killed"
      show_valgrind_log "$log.killed" 20
    elif grep -qE "$valgrind_pattern" "$log"; then
      if ((!reported)); then
        fail "valgrind $name: valgrind report ($(describe_status))"
        reported=1
      fi
      show_valgrind_log "$log"
    fi
  done
  ((reported))
}

if ((run_valgrind)); then
  for name in "${names[@]}"; do
    if ! build_test "$name" plain; then
      fail "valgrind $name: build failed"
      show "$work/out/$name.plain.build"
      continue
    fi
    out=$work/out/$name.valgrind-run
    run_bounded valgrind "${valgrind_args[@]}" --log-file="$work/out/$name.valgrind.%p" \
      "$work/plain/$name"
    if check_valgrind_logs "$name"; then
      continue
    elif ((status != 0)); then
      fail "valgrind $name: $(describe_status)"
      show_output "$out"
    else
      pass "valgrind $name"
    fi
  done
fi

echo "$passed passed, $failed failed"
((failed == 0))
