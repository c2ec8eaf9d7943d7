#!/usr/bin/env bash
# Runs the soak, fork and wire tests.
#
#   run.sh PREFIX [--seconds N] [--seed S] [--only soak|fork|wire]
#   run.sh --oracle [--seconds N] [--seed S] [--only soak|fork|wire]
#
# PREFIX is an installed libmemcached-rs (`make install PREFIX=...`): the tests are built
# against PREFIX/include and PREFIX/lib. --oracle builds them against the system's
# libmemcached instead, for information, and exits 0 whatever the result. Several checks
# are expected to fail there. In fork, children write on the parent's connections. In wire,
# keys with spaces or line breaks inject commands, and libmemcached aborts on some of them.
# In soak, error replies to quiet replica writes are taken as replies to later requests.
#
# 1. soak: three memcached servers; soak.c's workers run their checked workload for
#    --seconds N (default 120) while this script pauses (SIGSTOP/SIGCONT) or kills and
#    restarts one server at a time, never two at once. For a long run, pass e.g.
#    --seconds 3600; the servers are restarted empty, so memory use stays bounded.
# 2. fork: forked children use, quit, clone and free inherited handles while the parent
#    keeps using its own connections (fork.c).
# 3. wire: random keys and values through a capturing server and a real memcached, and the
#    error messages of failing calls (wire.c, capture_server.c).
#
# Each program writes its results to descriptor 3; its stdout and stderr must stay empty,
# which checks that the library prints nothing. The servers listen on 127.0.0.1, on free
# ports between 23000 and 23999, and are stopped by pid on exit. A default run takes about
# 2.5 minutes. The last line of output is "N passed, M failed"; the exit status is non-zero
# when anything failed (except with --oracle).
set -euo pipefail

usage() {
  echo "usage: $0 PREFIX|--oracle [--seconds N] [--seed S] [--only soak|fork|wire]" >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
here=$(cd "$(dirname "$0")" && pwd)
oracle=0
prefix=
if [[ $1 == --oracle ]]; then
  oracle=1
elif [[ $1 == -* ]]; then
  usage
else
  [[ -d $1/include && -d $1/lib ]] || {
    echo "run.sh: $1 has no include/ and lib/ directories; run 'make install PREFIX=$1' first" >&2
    exit 2
  }
  prefix=$(cd "$1" && pwd)
fi
shift
seconds=120
seed=$((RANDOM * 32768 + RANDOM))
only=
while [[ $# -gt 0 ]]; do
  case $1 in
  --seconds) seconds=${2:?}; shift 2 ;;
  --seed) seed=${2:?}; shift 2 ;;
  --only) only=${2:?}; shift 2 ;;
  *) usage ;;
  esac
done
[[ $seconds =~ ^[0-9]+$ && $seconds -ge 30 ]] || {
  echo "run.sh: --seconds must be a whole number of at least 30" >&2
  exit 2
}
RANDOM=$((seed % 32768))

# shellcheck source=scripts/lib/servers.sh
. "$here/../../scripts/lib/servers.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/soak.XXXXXX")
server_pids=(0 0 0)
server_ports=()
soak_pid=
cleanup() {
  if [[ -n $soak_pid ]]; then
    kill "$soak_pid" 2>/dev/null || true
  fi
  servers_stop_all
  wait 2>/dev/null || true
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

# ---- build ---------------------------------------------------------------------------------

cflags=(-std=c11 -Wall -Wextra -Werror -O2 -g -pthread)
if ((oracle)); then
  link=(-lmemcached -lmemcachedutil)
  echo "library: the system's libmemcached (informational run)"
else
  cflags+=(-I "$prefix/include")
  link=(-L "$prefix/lib" "-Wl,-rpath,$prefix/lib" -lmemcached -lmemcachedutil)
  echo "library: $prefix"
fi
build() {
  local name=$1
  shift
  if ! cc "${cflags[@]}" -o "$work/$name" "$@" "${link[@]}" >"$work/$name.build" 2>&1; then
    cat "$work/$name.build"
    echo "run.sh: building $name failed" >&2
    exit 1
  fi
}

# ---- ports and servers ----------------------------------------------------------------------

servers_use_ports 23000 23999
servers_log=$work/memcached.log

# Starts (or restarts, empty) memcached number $1 on its port.
start_server() {
  if ! servers_start_tcp "${server_ports[$1]}" -m 64 -t 2; then
    echo "run.sh: nothing listens on port ${server_ports[$1]}" >&2
    return 1
  fi
  server_pids[$1]=$servers_pid
}

for n in 0 1 2; do
  servers_pick_port
  server_ports[n]=$servers_port
  start_server "$n"
done
echo "servers: memcached on 127.0.0.1 ports ${server_ports[*]}; seed $seed"

# Folds the PASS/FAIL lines of program $1's report ($work/$1.report) into the totals and
# checks that it printed its summary line and wrote nothing to stdout or stderr. $2 is its
# exit status, for the message.
collect() {
  local name=$1 status=$2 line
  while IFS= read -r line; do
    case $line in
    PASS\ *) pass "${line#PASS }" ;;
    FAIL\ *) fail "${line#FAIL }" ;;
    [0-9]*\ passed,\ [0-9]*\ failed) ;;
    *) echo "$line" ;;
    esac
  done <"$work/$name.report"
  if grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$work/$name.report"; then
    pass "$name finished (exit status $status)"
  else
    fail "$name finished with a summary line (exit status $status)"
  fi
  local stream
  for stream in stdout stderr; do
    if [[ -s $work/$name.$stream ]]; then
      fail "$name wrote nothing to $stream: $(head -c 300 "$work/$name.$stream" | tr '\n' ' ')"
    else
      pass "$name wrote nothing to $stream"
    fi
  done
}

# ---- 1. soak --------------------------------------------------------------------------------

control_seq=0
# Publishes the server states ($1 $2 $3: up, paused or down) and waits until soak has read
# them, so that soak learns of an event before the event happens.
publish_states() {
  control_seq=$((control_seq + 1))
  printf '%d %s %s %s\n' "$control_seq" "$1" "$2" "$3" >"$work/control.tmp"
  mv "$work/control.tmp" "$work/control"
  local deadline=$((SECONDS + 10)) ack
  while ((SECONDS < deadline)); do
    ack=$(cat "$work/ack" 2>/dev/null || true)
    if [[ $ack == "$control_seq" ]]; then
      return 0
    fi
    if ! kill -0 "$soak_pid" 2>/dev/null; then
      return 1
    fi
    sleep 0.01
  done
  echo "run.sh: soak did not acknowledge state $control_seq" >&2
  return 1
}

# Prints a random duration between $1 and $2 tenths of a second, in seconds.
random_duration() {
  local tenths=$(($1 + RANDOM % ($2 - $1 + 1)))
  printf '%d.%d' $((tenths / 10)) $((tenths % 10))
}

states_with() {
  local states=(up up up)
  states[$1]=$2
  echo "${states[@]}"
}

run_chaos() {
  local deadline=$1 event=0 server action duration
  # The first event starts after soak's warm-up, the last one ends at least 10 s before
  # the workload stops, so the final checks see every server up and quiet.
  sleep 8
  while ((SECONDS + 10 + 4 < deadline)); do
    server=$(((event + seed) % 3))
    duration=$(random_duration 15 35)
    if ((event % 2 == 0)); then
      action=pause
      # shellcheck disable=SC2046
      publish_states $(states_with "$server" paused) || return 1
      kill -STOP "${server_pids[$server]}"
      sleep "$duration"
      kill -CONT "${server_pids[$server]}"
      publish_states up up up || return 1
    else
      action=kill
      # shellcheck disable=SC2046
      publish_states $(states_with "$server" down) || return 1
      servers_stop "${server_pids[$server]}" KILL
      sleep "$duration"
      # Published before the restart, because the new server replies (empty) from its
      # first accepted connection, and soak must not take it for the one that is down.
      publish_states up up up || return 1
      start_server "$server"
    fi
    echo "chaos: $action server $server for ${duration} s"
    event=$((event + 1))
    sleep "$(random_duration 25 45)"
  done
}

run_soak() {
  local ports_arg status=0
  build soak "$here/soak.c"
  ports_arg=$(IFS=,; echo "${server_ports[*]}")
  printf '0 up up up\n' >"$work/control"
  "$work/soak" --ports "$ports_arg" --seconds "$seconds" --seed "$seed" \
    --control "$work/control" --ack "$work/ack" \
    3>"$work/soak.report" >"$work/soak.stdout" 2>"$work/soak.stderr" &
  soak_pid=$!
  local deadline=$((SECONDS + seconds))
  run_chaos "$deadline" || fail "soak: server events could not be run"
  # The final checks take a few seconds after the workload stops. A soak still running 90 s
  # after its deadline hangs, so it is stopped.
  while kill -0 "$soak_pid" 2>/dev/null && ((SECONDS < deadline + 90)); do
    sleep 1
  done
  if kill -0 "$soak_pid" 2>/dev/null; then
    fail "soak finished within 90 s of its deadline (stopped with SIGKILL)"
    kill -KILL "$soak_pid" 2>/dev/null || true
  fi
  wait "$soak_pid" || status=$?
  soak_pid=
  collect soak "$status"
}

# ---- 2. fork and 3. wire ---------------------------------------------------------------------

run_fork() {
  local status=0
  build fork "$here/fork.c"
  timeout -s KILL 120 "$work/fork" --port "${server_ports[0]}" \
    3>"$work/fork.report" >"$work/fork.stdout" 2>"$work/fork.stderr" || status=$?
  collect fork "$status"
}

run_wire() {
  local status=0 capture_port dead_port
  build wire "$here/wire.c" "$here/capture_server.c"
  servers_pick_port
  capture_port=$servers_port
  servers_pick_port
  dead_port=$servers_port
  timeout -s KILL 120 "$work/wire" --capture-port "$capture_port" \
    --memcached-port "${server_ports[1]}" --dead-port "$dead_port" --seed "$seed" \
    3>"$work/wire.report" >"$work/wire.stdout" 2>"$work/wire.stderr" || status=$?
  collect wire "$status"
}

if [[ -z $only || $only == soak ]]; then
  run_soak
fi
if [[ -z $only || $only == fork ]]; then
  run_fork
fi
if [[ -z $only || $only == wire ]]; then
  run_wire
fi

echo "$passed passed, $failed failed"
if ((oracle)); then
  exit 0
fi
((failed == 0))
