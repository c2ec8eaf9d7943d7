# shellcheck shell=bash
# Starts the memcached servers that every C test expects. Sourced by c-tests/run.sh and
# scripts/sanitize.sh after scripts/lib/servers.sh:
#
#   c_tests_start_servers WORK MEMORY_MB LOW HIGH
#
# Starts three servers on free TCP ports of LOW-HIGH and one on the unix socket
# WORK/memcached.sock, then waits until all four respond (WORK/mcctl must be built). Exports
# what the tests read: MC_PORT1..3, MC_SOCKET, MC_DEAD_PORT, MC_DEAD_PORT2, MC_DEAD_PORT3,
# MC_HANG_PORT and MC_RESTART_PORT (free ports of the range that nothing listens on),
# MC_MEMORY_MB, and MC_VECTORS_DIR unless it is set. Sets tcp_ports to the three ports and
# all_servers to them and the socket. Exits the script with status 1 when a server does not
# start.

c_tests_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

c_tests_start_servers() {
  local work=$1 memory_mb=$2 n name
  servers_use_ports "$3" "$4"
  servers_log=$work/memcached.log
  local memcached_args=(-m "$memory_mb" -t 4)

  tcp_ports=()
  for n in 1 2 3; do
    if ! servers_start_free "${memcached_args[@]}"; then
      cat "$servers_log" >&2
      exit 1
    fi
    tcp_ports+=("$servers_port")
    export "MC_PORT$n=$servers_port"
  done
  export MC_SOCKET="$work/memcached.sock"
  servers_start -s "$MC_SOCKET" -a 0700 -U 0 "${memcached_args[@]}"
  for name in MC_DEAD_PORT MC_DEAD_PORT2 MC_DEAD_PORT3 MC_HANG_PORT MC_RESTART_PORT; do
    servers_pick_port
    export "$name=$servers_port"
  done
  export MC_MEMORY_MB=$memory_mb
  export MC_VECTORS_DIR=${MC_VECTORS_DIR:-$c_tests_dir/../tests/data}

  all_servers=("${tcp_ports[@]}" "$MC_SOCKET")
  if ! "$work/mcctl" wait "${all_servers[@]}"; then
    cat "$servers_log" >&2
    echo "$(servers_message_prefix): memcached did not start (its log is above)" >&2
    exit 1
  fi
}
