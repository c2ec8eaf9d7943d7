#!/usr/bin/env bash
# Runs the C test suite.
#
#   run.sh PREFIX        compare an installed libmemcached-rs (PREFIX/include, PREFIX/lib)
#                        with the system's libmemcached
#   run.sh --oracle-only build and run only against the system's libmemcached, twice, to
#                        check that every differential test prints the same output each run
#
# Differential tests (*.c here) are built against both libraries, run against the same
# freshly flushed memcached servers, and their outputs must be equal except for the lines
# listed in intended-differences.txt. Regression tests (regression/*.c) must pass against
# PREFIX; their results against the system library are printed for information only. Each
# test is also compiled as C++ (syntax only) against PREFIX's headers.
#
# The script starts its own memcached servers on 127.0.0.1, on free ports between 31000 and
# 31999, plus one on a unix socket, and stops them by pid on exit. The last line of output
# is "N passed, M failed"; the exit status is non-zero when anything failed.
#
# Environment: KEEP_OUTPUT_DIR=DIR copies every test's output and build log to DIR;
# MC_VECTORS_DIR overrides the directory that contains distribution.tsv (default ../tests/data).
set -euo pipefail
shopt -s nullglob

usage() {
  echo "usage: $0 PREFIX | --oracle-only" >&2
  exit 2
}

[[ $# -eq 1 ]] || usage
here=$(cd "$(dirname "$0")" && pwd)
if [[ $1 == --oracle-only ]]; then
  mode=oracle
  prefix=
elif [[ $1 == -* ]]; then
  usage
else
  mode=compare
  [[ -d $1/include && -d $1/lib ]] || {
    echo "run.sh: $1 has no include/ and lib/ directories; run 'make install PREFIX=$1' first" >&2
    exit 2
  }
  prefix=$(cd "$1" && pwd)
fi

cflags=(-std=c99 -Wall -Wextra -Werror -O1 -g)
cxxflags=(-x c++ -Wall -Wextra -Werror -fsyntax-only)
libs=(-lmemcached -lmemcachedutil)
test_timeout=60
memory_mb=64

# shellcheck source=scripts/lib/servers.sh
. "$here/../scripts/lib/servers.sh"
# shellcheck source=c-tests/lib/servers.sh
. "$here/lib/servers.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/c-tests.XXXXXX")
cleanup() {
  servers_stop_all
  if [[ -n ${KEEP_OUTPUT_DIR:-} && -d $work/out ]]; then
    mkdir -p "$KEEP_OUTPUT_DIR"
    cp -r "$work/out/." "$KEEP_OUTPUT_DIR/"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

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

cc "${cflags[@]}" -o "$work/mcctl" "$here/tools/mcctl.c"

# TCP servers on free ports of 31000-31999. The other MC_*_PORT variables name ports of that
# range that nothing listens on.
c_tests_start_servers "$work" "$memory_mb" 31000 31999
echo "servers: memcached on 3 TCP ports and a unix socket; tests see MC_PORT1..3, MC_SOCKET"

flush_servers() {
  "$work/mcctl" flush "${all_servers[@]}"
}

# ---- build --------------------------------------------------------------------------------

mkdir -p "$work/oracle" "$work/ours" "$work/out"
differential=()
regression=()
for src in "$here"/*.c; do
  differential+=("$(basename "$src" .c)")
done
for src in "$here"/regression/*.c; do
  regression+=("$(basename "$src" .c)")
done

source_of() {
  if [[ -f $here/$1.c ]]; then
    echo "$here/$1.c"
  else
    echo "$here/regression/$1.c"
  fi
}

# Builds test $1 against the system library into $work/oracle.
build_oracle() {
  cc "${cflags[@]}" -o "$work/oracle/$1" "$(source_of "$1")" "${libs[@]}" \
    >"$work/out/$1.oracle.build" 2>&1
}

# Builds test $1 against PREFIX into $work/ours, and checks that neither a header nor a
# shared library was silently taken from the system installation instead.
build_ours() {
  local src log
  src=$(source_of "$1")
  log="$work/out/$1.ours.build"
  cc "${cflags[@]}" -I "$prefix/include" -MD -MF "$work/out/$1.deps" -o "$work/ours/$1" "$src" \
    -L "$prefix/lib" -Wl,-rpath,"$prefix/lib" "${libs[@]}" >"$log" 2>&1 || return 1
  if grep -oE '[^ ]*/lib(memcached|hashkit)[^ /]*/[^ ]*\.h' "$work/out/$1.deps" |
    grep -v "^$prefix/" >>"$log"; then
    echo "headers above were taken from outside $prefix" >>"$log"
    return 1
  fi
  if ldd "$work/ours/$1" | grep -E 'lib(memcached|memcachedutil)\.so' |
    grep -v "=> $prefix/lib/" >>"$log"; then
    echo "shared libraries above are loaded from outside $prefix" >>"$log"
    return 1
  fi
}

# Checks that test $1 compiles as C++ against the headers in $2 (empty: system headers).
check_cxx() {
  local include=()
  if [[ -n $2 ]]; then
    include=(-I "$2/include")
  fi
  c++ "${cxxflags[@]}" "${include[@]}" "$(source_of "$1")" >"$work/out/$1.cxx.build" 2>&1
}

show_log() {
  sed 's/^/    /' "$1" | head -n 40
}

# ---- run ----------------------------------------------------------------------------------

# Runs binary $1 with its output in $2; the last line records how the program ended.
run_test() {
  local status=0
  flush_servers
  timeout "$test_timeout" "$1" >"$2" 2>"$2.stderr" </dev/null || status=$?
  if ((status == 124)); then
    echo "exit: timed out after ${test_timeout} s" >>"$2"
  elif ((status > 128)); then
    echo "exit: killed by signal $((status - 128))" >>"$2"
  else
    echo "exit: status $status" >>"$2"
  fi
}

# Prints the "result:" line of regression output $1 (if any) and how the program ended.
summarize() {
  local result
  result=$(grep '^result: ' "$1" | tail -n 1 | sed 's/^result: //' || true)
  echo "${result:-no result line}; $(tail -n 1 "$1" | sed 's/^exit: //')"
}

# Prints the check-line prefixes listed for test $1 in intended-differences.txt.
intended_prefixes() {
  local file="$here/intended-differences.txt"
  [[ -f $file ]] || return 0
  awk -v test="$1" -F ' [|] ' '
    /^[ \t]*(#|$)/ { next }
    $1 == test && NF >= 3 { print $2 }' "$file"
}

# Copies output $1 to $2 without the lines that start with a prefix listed in file $3.
drop_intended() {
  # awk's NR == FNR idiom treats the second file as the first when the first is empty, so an
  # empty prefix list must be handled here, not left to awk.
  if [[ ! -s $3 ]]; then
    cp "$1" "$2"
    return
  fi
  awk 'NR == FNR { if ($0 != "") prefixes[++n] = $0; next }
       { for (i = 1; i <= n; i++) if (index($0, prefixes[i]) == 1) next; print }' \
    "$3" "$1" >"$2"
}

compare_outputs() {
  local name=$1 left=$2 right=$3 left_label=$4 right_label=$5
  local prefixes="$work/out/$name.intended"
  intended_prefixes "$name" >"$prefixes"
  drop_intended "$left" "$left.cmp" "$prefixes"
  drop_intended "$right" "$right.cmp" "$prefixes"
  if ! grep -q '^exit: status 0$' "$left"; then
    fail "differential $name: $left_label build did not exit with status 0"
    tail -n 5 "$left.stderr" "$left" | sed 's/^/    /'
  elif diff -q "$left.cmp" "$right.cmp" >/dev/null; then
    local ignored
    ignored=$(diff "$left" "$right" | grep -c '^[<>]' || true)
    if ((ignored > 0)); then
      pass "differential $name ($ignored lines differ as listed in intended-differences.txt)"
    else
      pass "differential $name"
    fi
  else
    fail "differential $name: output differs (< $left_label, > $right_label)"
    diff "$left.cmp" "$right.cmp" | head -n 40 | sed 's/^/    /' || true
    if [[ -s $right.stderr ]]; then
      tail -n 5 "$right.stderr" | sed 's/^/    stderr: /'
    fi
  fi
}

for name in "${differential[@]}"; do
  if ! build_oracle "$name"; then
    fail "build $name against the system library"
    show_log "$work/out/$name.oracle.build"
    continue
  fi
  first="$work/out/$name.oracle"
  run_test "$work/oracle/$name" "$first"
  if [[ $mode == oracle ]]; then
    run_test "$work/oracle/$name" "$first.again"
    compare_outputs "$name" "$first" "$first.again" "first run" "second run"
    continue
  fi
  if ! build_ours "$name"; then
    fail "build $name against $prefix"
    show_log "$work/out/$name.ours.build"
    continue
  fi
  run_test "$work/ours/$name" "$work/out/$name.ours"
  compare_outputs "$name" "$first" "$work/out/$name.ours" "system library" "libmemcached-rs"
done

for name in "${regression[@]}"; do
  oracle_result="not built"
  if build_oracle "$name"; then
    run_test "$work/oracle/$name" "$work/out/$name.oracle"
    oracle_result=$(summarize "$work/out/$name.oracle")
  fi
  if [[ $mode == oracle ]]; then
    if [[ $oracle_result == "not built" ]]; then
      fail "build regression $name against the system library"
      show_log "$work/out/$name.oracle.build"
    else
      pass "build regression $name"
      echo "    system library: $oracle_result"
      grep -h '^FAIL' "$work/out/$name.oracle" | head -n 12 | sed 's/^/      /' || true
    fi
    continue
  fi
  echo "INFO regression $name against the system library: $oracle_result"
  if ! build_ours "$name"; then
    fail "build regression $name against $prefix"
    show_log "$work/out/$name.ours.build"
    continue
  fi
  out="$work/out/$name.ours"
  run_test "$work/ours/$name" "$out"
  if grep -q '^exit: status 0$' "$out"; then
    pass "regression $name"
  else
    fail "regression $name: $(summarize "$out")"
    grep -v -e '^ok: ' -e '^result: ' -e '^exit: ' "$out" | head -n 20 | sed 's/^/    /' || true
    if [[ -s $out.stderr ]]; then
      tail -n 5 "$out.stderr" | sed 's/^/    stderr: /'
    fi
  fi
done

# C++ compilation of every test: against PREFIX's headers, or the system's in oracle mode.
for name in "${differential[@]}" "${regression[@]}"; do
  if check_cxx "$name" "$prefix"; then
    pass "c++ syntax $name"
  else
    fail "c++ syntax $name"
    show_log "$work/out/$name.cxx.build"
  fi
done

echo "$passed passed, $failed failed"
((failed == 0))
