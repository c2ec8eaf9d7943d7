#!/usr/bin/env bash
# Runs every cargo-fuzz target under fuzz/ for a bounded time and reports what each did.
#
#   scripts/fuzz-smoke.sh [SECONDS]    fuzz each target for SECONDS (default 20)
#
# Each target starts from its committed seeds (fuzz/corpus/TARGET) plus the inputs that once
# failed (fuzz/regressions/TARGET), so a regression input that still fails fails the target
# at once. New corpus entries go to a scratch directory and are dropped at the end; the
# committed corpus only changes by hand. An input that fails is copied to
# fuzz/artifacts/TARGET/ (not committed); reproduce it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-...
# and minimise it with `cargo fuzz tmin TARGET FILE`.
#
# cargo fuzz passes nightly-only flags to rustc (-Zsanitizer=address, the sancov passes).
# RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them, so no nightly toolchain is needed.
# cargo-fuzz itself is installed from crates.io when it is missing.
#
# Prints one line per target with its executions, and "N passed, M failed" last; the exit
# status is non-zero when a target failed.
set -euo pipefail

seconds=${1:-20}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [SECONDS]" >&2
  exit 2
fi

root=$(cd "$(dirname "$0")/.." && pwd)
fuzz_dir=$root/fuzz
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is missing; installing it with cargo install"
  cargo install --locked cargo-fuzz
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-smoke.XXXXXX")
cleanup() {
  rm -rf "$work"
}
trap cleanup EXIT

targets=()
for source in "$fuzz_dir"/fuzz_targets/*.rs; do
  targets+=("$(basename "$source" .rs)")
done

echo "building ${#targets[@]} fuzz targets"
if ! cargo fuzz build --fuzz-dir "$fuzz_dir" >"$work/build.log" 2>&1; then
  tail -n 40 "$work/build.log" >&2
  echo "fuzz-smoke: cargo fuzz build failed" >&2
  exit 1
fi

# Prints the executions of libFuzzer log $1: the "Done N runs" line of a run that ended
# normally, else the executed-units figure of the final statistics.
executions_in() {
  local done_line
  done_line=$(grep -oE '^Done [0-9]+ runs' "$1" | tail -n 1 || true)
  if [[ -n $done_line ]]; then
    echo "${done_line//[!0-9]/}"
  else
    grep -oE '^stat::number_of_executed_units: [0-9]+' "$1" | tail -n 1 | grep -oE '[0-9]+$' ||
      echo unknown
  fi
}

passed=0
failed=0
for target in "${targets[@]}"; do
  corpus=("$work/corpus/$target" "$fuzz_dir/corpus/$target")
  mkdir -p "$work/corpus/$target" "$work/artifacts/$target"
  if [[ -d $fuzz_dir/regressions/$target ]]; then
    corpus+=("$fuzz_dir/regressions/$target")
  fi
  log=$work/$target.log
  status=0
  # The outer timeout only guards against a hang outside libFuzzer's own time limit.
  timeout $((seconds + 120)) cargo fuzz run --fuzz-dir "$fuzz_dir" "$target" "${corpus[@]}" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/$target/" >"$log" 2>&1 || status=$?
  executions=$(executions_in "$log")
  if ((status == 0)); then
    passed=$((passed + 1))
    echo "PASS $target: $executions executions in $seconds s"
    continue
  fi
  failed=$((failed + 1))
  echo "FAIL $target: exit status $status after $executions executions"
  grep -A 1 -m 1 'panicked at' "$log" | sed 's/^/    /' ||
    grep -m 3 -E '^==[0-9]+==ERROR|^SUMMARY|deadly signal|timeout' "$log" | sed 's/^/    /' || true
  if compgen -G "$work/artifacts/$target/*" >/dev/null; then
    mkdir -p "$fuzz_dir/artifacts/$target"
    cp "$work/artifacts/$target"/* "$fuzz_dir/artifacts/$target/"
    for artifact in "$work/artifacts/$target"/*; do
      echo "    input kept as fuzz/artifacts/$target/$(basename "$artifact")"
    done
  else
    tail -n 20 "$log" | sed 's/^/    /'
  fi
done

echo "$passed passed, $failed failed"
((failed == 0))
