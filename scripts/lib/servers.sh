# shellcheck shell=bash
# Starts and stops memcached servers on 127.0.0.1 for the test scripts. Source it from bash:
#
#   . "$(dirname "$0")/lib/servers.sh"  # from a script in scripts/
#   trap servers_stop_all EXIT          # or call servers_stop_all from the script's own trap
#   servers_use_ports 22000 22999
#   servers_start_free -m 64 -t 2       # sets servers_port and servers_pid
#
# Give every suite a range of its own below 32768. Linux hands out the local ports of client
# sockets from /proc/sys/net/ipv4/ip_local_port_range (32768-60999 by default), so a port
# picked there can be taken by an outgoing connection between the probe and memcached's bind.
#
# Settings. Functions read them when they run, so a script may change them between calls.
#   servers_command       Array with the command that runs memcached. Default: (memcached).
#                         Example: (taskset -c 1 memcached).
#   servers_user          User that memcached switches to when the script runs as root.
#                         Default: root, which can create unix sockets in a private directory.
#   servers_log           File that memcached's output is appended to. Default: empty, so
#                         memcached writes to the script's stdout and stderr.
#   servers_wait_seconds  Seconds to wait for a server to listen. Default: 5.
#   servers_name          Prefix of error messages. Default: the script's file name.
#
# Every server started here is recorded by pid. servers_stop and servers_stop_all signal only
# recorded pids that are still children of the main shell, so start servers from the main
# shell, not from a subshell.

if [[ -z ${servers_command+set} ]]; then
  servers_command=(memcached)
fi
servers_pids=()
servers_port=
servers_pid=
servers_low=
servers_high=
servers_next_port=
# Ports handed out so far, each followed by a space.
servers_taken_ports=" "

# Sets the range LOW-HIGH (inclusive) that servers_pick_port takes ports from. The search
# starts at a random port of the range, so two runs at the same time rarely probe the same
# ports. It draws $RANDOM once.
servers_use_ports() {
  servers_low=$1
  servers_high=$2
  servers_next_port=$((servers_low + RANDOM % (servers_high - servers_low + 1)))
}

servers_message_prefix() {
  echo "${servers_name:-$(basename "$0")}"
}

# Succeeds when a TCP socket in any state uses local port $1. Without ss (iproute2), only
# listeners on 127.0.0.1 are detected, by connecting to them.
servers_port_in_use() {
  if command -v ss >/dev/null; then
    [[ -n $(ss -Htan "( sport = :$1 )") ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# Sets servers_port to a port of the range that no socket uses and that this script has not
# handed out before. Exits the script with status 1 when the range has no such port.
servers_pick_port() {
  local tries=0 size=$((servers_high - servers_low + 1))
  while ((tries < size)); do
    servers_next_port=$((servers_next_port >= servers_high ? servers_low : servers_next_port + 1))
    tries=$((tries + 1))
    if [[ $servers_taken_ports != *" $servers_next_port "* ]] &&
      ! servers_port_in_use "$servers_next_port"; then
      servers_taken_ports+="$servers_next_port "
      servers_port=$servers_next_port
      return 0
    fi
  done
  echo "$(servers_message_prefix): no free port in $servers_low-$servers_high" >&2
  exit 1
}

# Starts "${servers_command[@]}" with the arguments given, in the background, with -u
# servers_user added when the script runs as root. Records the pid and sets servers_pid.
servers_start() {
  local user_args=()
  if ((EUID == 0)); then
    user_args=(-u "${servers_user:-root}")
  fi
  if [[ -n ${servers_log:-} ]]; then
    "${servers_command[@]}" "$@" "${user_args[@]}" >>"$servers_log" 2>&1 &
  else
    "${servers_command[@]}" "$@" "${user_args[@]}" &
  fi
  servers_pid=$!
  servers_pids+=("$servers_pid")
}

# Succeeds when process $2 listens on 127.0.0.1:$1. Without ss, any process that accepts a
# connection there counts.
servers_listening() {
  if command -v ss >/dev/null; then
    [[ $(ss -Htlnp "( sport = :$1 )") == *"127.0.0.1:$1 "*"pid=$2,"* ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# Waits until process $2 listens on 127.0.0.1:$1, for up to servers_wait_seconds. Fails at
# once when the process has exited, as memcached does when it cannot bind the port.
servers_wait_port() {
  local port=$1 pid=$2 deadline=$((SECONDS + ${servers_wait_seconds:-5}))
  while ((SECONDS < deadline)); do
    if servers_listening "$port" "$pid"; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    sleep 0.05
  done
  return 1
}

# Starts memcached on 127.0.0.1:$1 (TCP only, -U 0) with the further arguments given and
# waits until it listens. Sets servers_pid. On failure, stops that memcached and returns 1.
servers_start_tcp() {
  local port=$1
  shift
  servers_start -l 127.0.0.1 -p "$port" -U 0 "$@"
  if servers_wait_port "$port" "$servers_pid"; then
    return 0
  fi
  servers_stop "$servers_pid"
  return 1
}

# Starts memcached with the arguments given on a free port of the range (servers_use_ports)
# and waits until it listens. Sets servers_port and servers_pid. A port that memcached fails
# to bind, because something took it after the probe, is skipped. Returns 1 after 10 failed
# starts.
servers_start_free() {
  local _
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    servers_pick_port
    if servers_start_tcp "$servers_port" "$@"; then
      return 0
    fi
  done
  echo "$(servers_message_prefix): could not start memcached on a free port in" \
    "$servers_low-$servers_high" >&2
  return 1
}

# Succeeds when process $1 is a child of this shell. A recorded server that exited by itself
# may have had its pid reused by another process, which must not get the signal.
servers_is_child() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  # Fields after the command name, which is in parentheses: state, then the parent's pid.
  stat=${stat##*) }
  stat=${stat#* }
  [[ ${stat%% *} == "$$" ]]
}

# Removes $1 from the recorded pids.
servers_forget() {
  local kept=() pid
  for pid in "${servers_pids[@]}"; do
    if [[ $pid != "$1" ]]; then
      kept+=("$pid")
    fi
  done
  servers_pids=("${kept[@]}")
}

# Sends signal $2 (default TERM) to the server with pid $1, waits for it to exit and removes
# it from the recorded pids. A server stopped with SIGSTOP is continued, so it acts on the
# signal.
servers_stop() {
  local pid=$1 signal=${2:-TERM}
  if servers_is_child "$pid"; then
    kill -s "$signal" "$pid" 2>/dev/null || true
    kill -CONT "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  servers_forget "$pid"
}

# Stops every server still recorded, all at once, and waits for them.
servers_stop_all() {
  local pid
  for pid in "${servers_pids[@]}"; do
    if servers_is_child "$pid"; then
      kill "$pid" 2>/dev/null || true
      kill -CONT "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${servers_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  servers_pids=()
}
