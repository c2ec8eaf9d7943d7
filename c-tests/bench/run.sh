#!/usr/bin/env bash
# Compares the throughput of two builds of bench.c: "ours", linked against the libmemcached
# installed under PREFIX, and "theirs", linked against the system libmemcached in
# /usr/lib/x86_64-linux-gnu. Both run the same workloads against memcached servers that this
# script starts on 127.0.0.1.
#
#   run.sh PREFIX [--short] [--rounds N] [--write-doc]
#
# PREFIX is the directory given to `make install PREFIX=...` (headers in PREFIX/include,
# libraries in PREFIX/lib). PREFIX=/usr builds both binaries against the system library,
# which tests this script itself: every ratio should then be close to 1.0.
#
# --short      every workload once and briefly (CI smoke test, under 60 s). The exit status
#              reports only whether every run completed with correct values.
# --rounds N   timed rounds per workload and build (default 9, or 1 with --short).
# --write-doc  write the results to docs/benchmarks.md in this repository.
#
# System calls are counted with perf when `perf stat -e raw_syscalls:sys_enter` works, else
# with strace, else not at all. SYSCALL_COUNTER=perf or SYSCALL_COUNTER=strace in the
# environment picks one.
#
# Exit status: 0 when every run completed, 1 when a run failed or a check failed, 2 on
# invalid arguments.
set -euo pipefail

script_dir=$(cd "$(dirname "$0")" && pwd)
repo_dir=$(cd "$script_dir/../.." && pwd)
system_lib_dir=/usr/lib/x86_64-linux-gnu

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

# ---------------------------------------------------------------------------------------
# Arguments

prefix=""
short=0
rounds=""
write_doc=0
options=""
while [ $# -gt 0 ]; do
    case "$1" in
    --short)
        short=1
        options+=" --short"
        ;;
    --rounds)
        [ $# -ge 2 ] || { echo "run.sh: --rounds needs a number" >&2; exit 2; }
        rounds=$2
        options+=" --rounds $2"
        shift
        ;;
    --write-doc) write_doc=1 ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    *)
        [ -z "$prefix" ] || { echo "run.sh: more than one PREFIX given" >&2; exit 2; }
        prefix=$1
        ;;
    esac
    shift
done
if [ -z "$prefix" ]; then
    echo "run.sh: missing PREFIX" >&2
    usage >&2
    exit 2
fi
if [ -n "$rounds" ] && ! [[ "$rounds" =~ ^[1-9][0-9]*$ ]]; then
    echo "run.sh: invalid --rounds '$rounds': expected a positive integer" >&2
    exit 2
fi
prefix=$(cd "$prefix" && pwd)

# Timed seconds per run. The full run is 21 workload/protocol pairs x 2 builds x 9 rounds of
# 0.5 s, about 190 s, plus start-up and system call counting, which keeps it under 5 minutes.
# Many short rounds give the medians more samples than a few long ones.
if [ "$short" = 1 ]; then
    rounds=${rounds:-1}
    run_seconds=0.2
else
    rounds=${rounds:-9}
    run_seconds=0.5
fi

# ---------------------------------------------------------------------------------------
# Cleanup: servers are stopped by the pids recorded when they were started.

load_at_start=$(cut -d ' ' -f 1 /proc/loadavg)
work_dir=$(mktemp -d "${TMPDIR:-/tmp}/libmemcached-bench.XXXXXX")
server_pids=()
cleanup() {
    local pid
    for pid in "${server_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${server_pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work_dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Servers and clients run on CPU 1, so that every run gets the same placement instead of
# whatever the scheduler picks. A single-CPU machine is not pinned.
cpu_count=$(nproc)
if [ "$cpu_count" -gt 1 ]; then
    pin=(taskset -c 1)
else
    pin=()
fi

# ---------------------------------------------------------------------------------------
# Build both binaries and check which library each one loads.

# Finds the directory under PREFIX that contains libmemcached.so: PREFIX/lib for
# `make install`, or the multiarch directory for PREFIX=/usr on Debian.
find_lib_dir() {
    local dir
    for dir in "$1/lib" "$1/lib/$(${CC:-cc} -print-multiarch 2>/dev/null || true)"; do
        if [ -e "$dir/libmemcached.so" ]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

if ! ours_lib_dir=$(find_lib_dir "$prefix"); then
    echo "run.sh: no libmemcached.so in $prefix/lib; run 'make install PREFIX=$prefix' first" >&2
    exit 1
fi
if [ ! -e "$prefix/include/libmemcached/memcached.h" ]; then
    echo "run.sh: missing $prefix/include/libmemcached/memcached.h" >&2
    exit 1
fi

cflags=(-std=c99 -O2 -Wall -Wextra -Wpedantic)
echo "building bench (theirs: $system_lib_dir, ours: $ours_lib_dir)"
"${CC:-cc}" "${cflags[@]}" -o "$work_dir/bench-theirs" "$script_dir/bench.c" -lmemcached
"${CC:-cc}" "${cflags[@]}" -I "$prefix/include" -o "$work_dir/bench-ours" \
    "$script_dir/bench.c" -L "$ours_lib_dir" -Wl,-rpath,"$ours_lib_dir" -lmemcached

# Prints the directory from which the binary's libmemcached is loaded.
loaded_lib_dir() {
    local path
    path=$(env -u LD_LIBRARY_PATH -u LD_PRELOAD ldd "$1" | awk '/libmemcached\.so/ { print $3; exit }')
    if [ -z "$path" ] || [ ! -e "$path" ]; then
        echo "run.sh: ldd lists no libmemcached for $1" >&2
        return 1
    fi
    dirname "$(readlink -f "$path")"
}

check_loads() {
    local binary=$1 expected
    expected=$(readlink -f "$2")
    local actual
    actual=$(loaded_lib_dir "$binary")
    if [ "$actual" != "$expected" ]; then
        echo "run.sh: $(basename "$binary") loads libmemcached from $actual, expected $expected" >&2
        exit 1
    fi
    echo "  $(basename "$binary") loads libmemcached from $actual"
}
check_loads "$work_dir/bench-theirs" "$system_lib_dir"
check_loads "$work_dir/bench-ours" "$ours_lib_dir"
self_test=0
if [ "$(readlink -f "$ours_lib_dir")" = "$(readlink -f "$system_lib_dir")" ]; then
    self_test=1
    echo "  both builds load the same library: this is a self-test and ratios should be near 1.0"
fi

# ---------------------------------------------------------------------------------------
# memcached servers on free ports in 32000-32999.

memcached_args=(-l 127.0.0.1 -U 0 -m 1024 -t 1)
if [ "$(id -u)" = 0 ]; then
    memcached_args+=(-u nobody)
fi

port_accepts() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Starts one memcached and sets server_port to its port. A port that is in use, or that
# memcached fails to bind, is skipped.
next_port=$((32000 + RANDOM % 1000))
start_server() {
    local port pid
    for _ in $(seq 1 50); do
        port=$next_port
        next_port=$((32000 + (next_port - 32000 + 1) % 1000))
        if port_accepts "$port"; then
            continue
        fi
        "${pin[@]}" memcached "${memcached_args[@]}" -p "$port" \
            >"$work_dir/memcached-$port.log" 2>&1 &
        pid=$!
        for _ in $(seq 1 50); do
            if ! kill -0 "$pid" 2>/dev/null; then
                break
            fi
            if port_accepts "$port"; then
                server_pids+=("$pid")
                server_port=$port
                return 0
            fi
            sleep 0.05
        done
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    echo "run.sh: could not start memcached on a free port in 32000-32999" >&2
    cat "$work_dir"/memcached-*.log >&2 || true
    exit 1
}

ports=()
for _ in 1 2 3; do
    start_server
    ports+=("$server_port")
done
single_server="127.0.0.1:${ports[0]}"
three_servers="127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}"
memcached_version=$(memcached -V | awk '{ print $2 }')
pin_note="not pinned"
[ ${#pin[@]} = 0 ] || pin_note="pinned with ${pin[*]}"
echo "memcached $memcached_version on ports ${ports[*]} (pids ${server_pids[*]}), $pin_note"

# ---------------------------------------------------------------------------------------
# Runs

workloads=$("$work_dir/bench-theirs" -l)
configs=()
for workload in $workloads; do
    if [ "$workload" = proftpd ]; then
        configs+=("proftpd/binary")
    else
        configs+=("$workload/text" "$workload/binary")
    fi
done

servers_for() {
    if [ "$1" = proftpd ]; then echo "$three_servers"; else echo "$single_server"; fi
}

# Field value from a bench output line: field NAME LINE.
field() {
    tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"
}

results="$work_dir/results"
failures="$work_dir/failures"
: >"$results"
: >"$failures"

# Runs one build on one workload and appends "config build round ops_per_sec cpu_us" to
# the results file. A failed run is recorded with its output.
run_bench() {
    local build=$1 config=$2 round=$3
    local workload=${config%/*} protocol=${config#*/} output
    if output=$(timeout 60 "${pin[@]}" "$work_dir/bench-$build" -s "$(servers_for "$workload")" \
        -w "$workload" -p "$protocol" -t "$run_seconds" 2>&1); then
        echo "$config $build $round $(field ops_per_sec "$output") $(field cpu_us_per_op "$output")" \
            >>"$results"
    else
        echo "$config $build round $round: $output" >>"$failures"
        echo "  FAILED: $config $build: $output" >&2
    fi
}

echo "running ${#configs[@]} workloads x 2 builds x $rounds rounds of ${run_seconds} s"
for round in $(seq 1 "$rounds"); do
    # Alternate which build goes first, so slow drift of the machine hits both alike.
    if [ $((round % 2)) = 1 ]; then order=(theirs ours); else order=(ours theirs); fi
    for config in "${configs[@]}"; do
        for build in "${order[@]}"; do
            run_bench "$build" "$config" "$round"
        done
    done
    echo "  round $round of $rounds done"
done

# ---------------------------------------------------------------------------------------
# System calls per operation, by difference between a short and a long run, so that process
# start-up and preloading cancel out.

case "${SYSCALL_COUNTER:-}" in
perf) syscall_method="perf stat -e raw_syscalls:sys_enter" ;;
strace) syscall_method="strace -c -f (chosen with SYSCALL_COUNTER=strace)" ;;
"")
    if perf stat -e raw_syscalls:sys_enter true >/dev/null 2>&1; then
        syscall_method="perf stat -e raw_syscalls:sys_enter"
    elif strace -c -f -o /dev/null true >/dev/null 2>&1; then
        syscall_method="strace -c -f (fallback, because perf stat -e raw_syscalls:sys_enter failed)"
    else
        syscall_method="none"
    fi
    ;;
*)
    echo "run.sh: invalid SYSCALL_COUNTER '$SYSCALL_COUNTER': expected perf or strace" >&2
    exit 2
    ;;
esac

# Prints the number of system calls of one bench process running exactly OPS operations.
# NOTE: strace slows the client enough that replies are usually waiting when it reads, so it
# counts fewer EAGAIN reads and polls than perf does (2.0 against about 3.1 per get).
count_syscalls() {
    local build=$1 config=$2 ops=$3
    local workload=${config%/*} protocol=${config#*/} counts="$work_dir/syscalls.out"
    local command=("$work_dir/bench-$build" -s "$(servers_for "$workload")" -w "$workload"
        -p "$protocol" -n "$ops")
    if [[ "$syscall_method" == perf* ]]; then
        timeout 60 "${pin[@]}" perf stat -x, -o "$counts" -e raw_syscalls:sys_enter \
            "${command[@]}" >/dev/null || return 1
        awk -F, '/raw_syscalls:sys_enter/ { print $1 }' "$counts"
    else
        timeout 60 "${pin[@]}" strace -c -f -o "$counts" "${command[@]}" >/dev/null || return 1
        awk '$NF == "total" { print $4 }' "$counts"
    fi
}

# Picks the two operation counts from the measured rate: about 0.02 s and 0.1 s of work, and
# at least 10 and 50 operations. Fewer operations make the per-operation figure noisy,
# because how often a read finds no data yet and has to poll depends on timing.
syscall_ops() {
    awk -v rate="$1" 'BEGIN { low = int(rate * 0.02); if (low < 10) low = 10; print low, low * 5 }'
}

median() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "-"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Prints the median of column COLUMN of the results of one config and build.
result_median() {
    awk -v config="$1" -v build="$2" -v column="$3" \
        '$1 == config && $2 == build { print $column }' "$results" | median
}

syscalls="$work_dir/syscalls"
: >"$syscalls"
if [ "$syscall_method" = none ]; then
    echo "not counting system calls: neither perf stat -e raw_syscalls:sys_enter nor strace works" >&2
    configs_to_count=()
else
    echo "counting system calls per operation with $syscall_method"
    configs_to_count=("${configs[@]}")
fi
for config in "${configs_to_count[@]}"; do
    rate=$(result_median "$config" theirs 4)
    [ "$rate" != "-" ] || rate=$(result_median "$config" ours 4)
    [ "$rate" != "-" ] || rate=100
    read -r low_ops high_ops <<<"$(syscall_ops "$rate")"
    for build in theirs ours; do
        if low=$(count_syscalls "$build" "$config" "$low_ops") &&
            high=$(count_syscalls "$build" "$config" "$high_ops") &&
            [ -n "$low" ] && [ -n "$high" ]; then
            awk -v c="$config" -v b="$build" -v l="$low" -v h="$high" -v lo="$low_ops" -v ho="$high_ops" \
                'BEGIN { printf "%s %s %.2f\n", c, b, (h - l) / (ho - lo) }' >>"$syscalls"
        else
            echo "$config $build system call count failed" >>"$failures"
            echo "  FAILED: counting system calls of $config $build" >&2
        fi
    done
done

# ---------------------------------------------------------------------------------------
# Report

# Prints min-max of the per-round ratios ours/theirs of one config.
ratio_range() {
    awk -v config="$1" '$1 == config { rate[$2, $3] = $4; seen[$3] = 1 }
        END {
            n = 0
            for (r in seen) {
                if ((("ours", r) in rate) && (("theirs", r) in rate) && rate["theirs", r] > 0) {
                    x = rate["ours", r] / rate["theirs", r]
                    if (n == 0 || x < lo) lo = x
                    if (n == 0 || x > hi) hi = x
                    n++
                }
            }
            if (n == 0) print "-"; else printf "%.2f-%.2f\n", lo, hi
        }' "$results"
}

two_decimals() {
    awk -v x="$1" 'BEGIN { if (x == "-") print x; else printf "%.2f", x }'
}

syscall_value() {
    awk -v config="$1" -v build="$2" '$1 == config && $2 == build { print $3; found = 1 }
        END { if (!found) print "-" }' "$syscalls"
}

table="$work_dir/table.md"
{
    echo "| workload | protocol | theirs ops/s | ours ops/s | ours/theirs | per-round ratio" \
        "| theirs CPU µs/op | ours CPU µs/op | theirs syscalls/op | ours syscalls/op |"
    echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"
    for config in "${configs[@]}"; do
        theirs_rate=$(result_median "$config" theirs 4)
        ours_rate=$(result_median "$config" ours 4)
        ratio=$(awk -v o="$ours_rate" -v t="$theirs_rate" \
            'BEGIN { if (o == "-" || t == "-" || t == 0) print "-"; else printf "%.2f", o / t }')
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
            "${config%/*}" "${config#*/}" \
            "$(awk -v x="$theirs_rate" 'BEGIN { if (x == "-") print x; else printf "%.0f", x }')" \
            "$(awk -v x="$ours_rate" 'BEGIN { if (x == "-") print x; else printf "%.0f", x }')" \
            "$ratio" "$(ratio_range "$config")" \
            "$(two_decimals "$(result_median "$config" theirs 5)")" \
            "$(two_decimals "$(result_median "$config" ours 5)")" \
            "$(syscall_value "$config" theirs)" "$(syscall_value "$config" ours)"
    done
} >"$table"

load_at_end=$(cut -d ' ' -f 1 /proc/loadavg)
load_note="1-minute load average $load_at_start at start, $load_at_end at end, on $cpu_count CPUs"

echo
echo "median of $rounds rounds; system calls per operation counted with $syscall_method"
echo "$load_note (other processes make the numbers noisier)"
cat "$table"

if [ "$write_doc" = 1 ]; then
    doc="$repo_dir/docs/benchmarks.md"
    mkdir -p "$(dirname "$doc")"
    cpu_model=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)
    debian_version=$(dpkg-query -W -f '${Version}' libmemcached11 2>/dev/null || echo unknown)
    commit=$(git -C "$repo_dir" rev-parse --short HEAD 2>/dev/null || echo "none")
    if [ "$self_test" = 1 ]; then
        ours_description="self-test: both builds load the system libmemcached, so ratios only show noise"
    else
        ours_description="libmemcached-rs from this repository (commit $commit), installed with make install"
    fi
    mode="full"
    [ "$short" = 0 ] || mode="short (smoke test; numbers are only indicative)"
    {
        echo "# Benchmarks"
        echo
        echo "Throughput of the C API, measured by \`c-tests/bench/run.sh\`: one C program"
        echo "(\`c-tests/bench/bench.c\`) is built twice from the same source and run against"
        echo "memcached on 127.0.0.1. \"theirs\" is linked against Debian's libmemcached,"
        echo "\"ours\" against the library under test. Each run is a fresh process. The two builds"
        echo "alternate, and which goes first changes every round."
        echo
        echo "| | |"
        echo "|---|---|"
        echo "| Date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
        echo "| CPU | $cpu_model |"
        echo "| CPUs (nproc) | $cpu_count |"
        echo "| Kernel | $(uname -r) |"
        echo "| memcached | $memcached_version, \`-U 0 -m 1024 -t 1\` |"
        echo "| theirs | Debian libmemcached11 $debian_version |"
        echo "| ours | $ours_description |"
        echo "| Pinning | ${pin[*]:-none (one CPU)} for servers and clients |"
        echo "| Run | $mode, $rounds rounds of $run_seconds s per workload and build |"
        echo "| System calls | $syscall_method, difference between two operation counts |"
        echo "| Load | $load_note |"
        echo "| Command | \`c-tests/bench/run.sh PREFIX$options --write-doc\` |"
        echo
        echo "ops/s and CPU µs/op (user + system time of the client, from getrusage) are medians"
        echo "over the rounds. The per-round ratio column is the range of ours/theirs over the"
        echo "rounds. mget-100 counts one memcached_mget of 100 keys plus its fetch loop as one"
        echo "operation. proftpd uses 3 servers with ProFTPD's options (binary protocol,"
        echo "consistent distribution, 2 replicas, random replica reads, TCP_NODELAY) and sets"
        echo "and clears the key prefix around each call."
        echo
        echo "set-500KB is slow and noisy with the default options, which leave TCP_NODELAY off."
        echo "strace against Debian's library shows a set often waiting about 40 ms for its reply."
        echo "That matches Nagle's algorithm holding back the last segment until the server's"
        echo "delayed ACK arrives."
        echo
        cat "$table"
    } >"$doc"
    echo
    echo "wrote $doc"
fi

if [ -s "$failures" ]; then
    echo
    echo "run.sh: $(wc -l <"$failures") run(s) failed:" >&2
    cat "$failures" >&2
    exit 1
fi
echo
echo "all runs completed with correct values"
