#!/usr/bin/env bash
# Fault-injection tests: a misbehaving fake memcached (fake_server.py) against the client
# library, driven by driver.c.
#
#   run.sh PREFIX [FILTER]     test the libmemcached installed under PREFIX (PREFIX/include,
#                              PREFIX/lib, as from 'make install PREFIX=...')
#   run.sh --oracle [FILTER]   test the system's libmemcached, for information only: it is
#                              expected to fail many cases, and the exit status is 0
#                              whatever it prints, unless the setup itself failed
#
# FILTER runs only the cases whose name ("mode/op/protocol", e.g. "late/get/binary")
# contains it. The fake server listens on 127.0.0.1, on the first free ports in
# 21000-21999, and is stopped by pid on exit. Needs gcc and python3 (standard library).
# Environment: PYTHON (default python3), CC (default gcc).
#
# Prints one line per case and ends with "N passed, M failed". The exit status is 1 when a
# case failed (0 with --oracle) and 2 when the setup failed. A full run takes about a
# minute.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
cc=${CC:-gcc}
port_range=21000-21999
# Upper limit for the driver: every case is also killed after 10 s on its own.
driver_limit=200

(($# >= 1 && $# <= 2)) || usage
filter=${2:-}
if [[ $1 == --oracle ]]; then
  oracle=1
  link=(-lmemcached)
elif [[ $1 == -* ]]; then
  usage
else
  oracle=0
  [[ -d $1/include && -d $1/lib ]] || {
    echo "run.sh: $1 has no include/ and lib/; run 'make install PREFIX=$1' first" >&2
    exit 2
  }
  prefix=$(cd "$1" && pwd)
  link=(-I"$prefix/include" -L"$prefix/lib" "-Wl,-rpath,$prefix/lib" -lmemcached)
fi
for tool in "$cc" "$python" timeout; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found; install it" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/faults.XXXXXX")
server_pid=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if ! "$cc" -std=c99 -Wall -Wextra -Werror -O1 -g -o "$work/driver" "$here/driver.c" \
  "${link[@]}" 2>"$work/build.log"; then
  cat "$work/build.log" >&2
  echo "run.sh: building the driver failed" >&2
  exit 2
fi

"$python" "$here/fake_server.py" --port-range "$port_range" --ports-file "$work/ports" \
  2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
  [[ -f $work/ports ]] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ ! -f $work/ports ]]; then
  cat "$work/server.log" >&2
  echo "run.sh: the fake server did not start" >&2
  exit 2
fi
declare -A port
while read -r name number; do
  port[$name]=$number
done <"$work/ports"

if ((oracle)); then
  echo "# system libmemcached, for information: failures here do not count"
fi
status=0
timeout "$driver_limit" "$work/driver" "${port[data]}" "${port[control]}" "${port[noaccept]}" \
  ${filter:+"$filter"} || status=$?
if ((status == 124)); then
  echo "run.sh: the driver did not finish within $driver_limit s" >&2
fi
if [[ -s $work/server.log ]]; then
  echo "# fake server messages:" >&2
  cat "$work/server.log" >&2
fi
if ((oracle && status == 1)); then
  exit 0
fi
exit "$status"
