#!/usr/bin/env bash
# End-to-end test: Debian's prebuilt ProFTPD 1.3.8 (mod_memcache, mod_ban,
# mod_tls_memcache) sharing bans and TLS sessions through real memcached.
#
# Usage (as root):
#   tests/e2e/run.sh                  use the system libmemcached (reference run)
#   tests/e2e/run.sh --lib-dir DIR    run proftpd with LD_LIBRARY_PATH=DIR, where
#                                     DIR holds libmemcached.so.11 and
#                                     libmemcachedutil.so.2 (e.g. PREFIX/lib)
#
# Needs: proftpd-core, proftpd-mod-crypto, memcached, openssl, python3 (standard
# library only). Environment: PYTHON (default python3).
#
# Each scenario first reads /proc/PID/maps of both proftpd masters and of one
# session process on A. With --lib-dir, libmemcached.so.11 and
# libmemcachedutil.so.2 must be mapped from the files they resolve to in DIR.
# Without it they must be the system copies. No other libmemcached* file may
# be mapped.
#
# Two instances, A and B, run in the foreground on 127.0.0.1 with their own
# configs and logs; FTP clients bind 127.0.0.x source addresses to act as
# different hosts. Every process and file lives in a fresh temporary
# directory, and every server started here is stopped by pid on exit.
# Ports are taken from 30000-30999 after probing. Prints PASS/FAIL per
# scenario and ends with "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python3}
PROFTPD=/usr/sbin/proftpd
MEMCACHED=/usr/bin/memcached
# A login (connect, USER/PASS, LIST, RETR) slower than this counts as failed
# in the failover scenario. In reference runs a login took 30-150 ms.
LOGIN_LIMIT_MS=3000
# Scenarios take 1-10 s each. A library that hangs could stretch every client
# step to STEP_LIMIT seconds, so no scenario starts after TIME_BUDGET seconds.
TIME_BUDGET=150
STEP_LIMIT=30
TLS_CACHE_LINE='  TLSSessionCache       memcache: 1800'

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
die() { echo "run.sh: $*" >&2; exit 2; }

LIB_DIR=""
while (($#)); do
  case $1 in
    --lib-dir) (($# >= 2)) || die "missing directory after --lib-dir"; LIB_DIR=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) usage 2 >&2 ;;
  esac
done

[[ $(id -u) == 0 ]] || die "must run as root (proftpd binds, chroots and switches to nobody)"
for tool in "$PROFTPD" "$MEMCACHED" openssl "$PY" ps timeout realpath ldconfig; do
  command -v "$tool" >/dev/null || die "missing $tool"
done
[[ -e /usr/lib/proftpd/mod_tls_memcache.so ]] || die "missing mod_tls_memcache (proftpd-mod-crypto)"
getent passwd memcache >/dev/null || die "missing user memcache (memcached package)"

system_lib() {
  local path
  path=$(ldconfig -p | awk -v so="$1" '$1 == so && /x86-64/ { print $NF; exit }')
  [[ -n $path ]] || die "$1 not found in the ldconfig cache"
  realpath "$path"
}

# The exact files the proftpd processes must map. Any other libmemcached*
# file in their maps fails the check.
if [[ -n $LIB_DIR ]]; then
  [[ -d $LIB_DIR ]] || die "directory not found: $LIB_DIR"
  LIB_DIR=$(realpath "$LIB_DIR")
  for so in libmemcached.so.11 libmemcachedutil.so.2; do
    [[ -e $LIB_DIR/$so ]] || die "$so not found in $LIB_DIR"
  done
  WANT_MC=$(realpath "$LIB_DIR/libmemcached.so.11")
  WANT_UTIL=$(realpath "$LIB_DIR/libmemcachedutil.so.2")
  for want in "$WANT_MC" "$WANT_UTIL"; do
    for system in "$(system_lib libmemcached.so.11)" "$(system_lib libmemcachedutil.so.2)"; do
      [[ $want != "$system" ]] || die "$LIB_DIR resolves to the system library $want"
    done
  done
else
  WANT_MC=$(system_lib libmemcached.so.11)
  WANT_UTIL=$(system_lib libmemcachedutil.so.2)
fi

TMP=$(mktemp -d /tmp/libmemcached-e2e.XXXXXX)
# Sessions run as user nobody and must reach the unix socket below. Log
# directories must not be world-writable, or proftpd does not open the logs.
chmod 755 "$TMP"

STARTED=()       # pids of every memcached and proftpd master started here
CLIENTS=()       # pids of background FTP clients
declare -A MC_PID=()
declare -A FTPD_PID=()

proc_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# Stop one process by pid: SIGTERM, up to 5 s to exit, then SIGKILL.
stop_pid() {
  local pid=$1 i
  if proc_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      proc_alive "$pid" || break
      sleep 0.05
    done
    if proc_alive "$pid"; then
      echo "  pid $pid ignored SIGTERM for 5 s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
  local kept=() p
  for p in "${STARTED[@]}"; do [[ $p == "$pid" ]] || kept+=("$p"); done
  STARTED=("${kept[@]}")
}

# A proftpd master forks one process per FTP session. Stop those too, by the
# pids they had as its children.
stop_proftpd() {
  local master=$1 kids kid
  kids=$(ps -o pid= --ppid "$master" 2>/dev/null || true)
  stop_pid "$master"
  for kid in $kids; do
    if [[ $(cat "/proc/$kid/comm" 2>/dev/null) == proftpd ]]; then
      stop_pid "$kid"
    fi
  done
  return 0
}

stop_all() {
  local name pid
  for pid in "${CLIENTS[@]}"; do
    if proc_alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  CLIENTS=()
  for name in "${!FTPD_PID[@]}"; do stop_proftpd "${FTPD_PID[$name]}"; done
  FTPD_PID=()
  for name in "${!MC_PID[@]}"; do stop_pid "${MC_PID[$name]}"; done
  MC_PID=()
  for pid in "${STARTED[@]}"; do stop_pid "$pid"; done
  return 0
}

cleanup() {
  trap - EXIT INT TERM
  # Keep going on errors: every process and the temporary directory must go.
  set +e
  stop_all
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- ports

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# One block of 25 consecutive free ports: 3 memcached, 2 control ports and
# 10 passive data ports per instance.
pick_ports() {
  local attempt base p ok
  for ((attempt = 0; attempt < 50; attempt++)); do
    base=$((30000 + RANDOM % 976))
    ok=1
    for ((p = base; p < base + 25; p++)); do
      port_free "$p" || { ok=0; break; }
    done
    if ((ok)); then
      MC_PORTS=("$base" "$((base + 1))" "$((base + 2))")
      A_PORT=$((base + 3)) B_PORT=$((base + 4))
      A_PASV="$((base + 5)) $((base + 14))" B_PASV="$((base + 15)) $((base + 24))"
      return 0
    fi
  done
  die "no block of 25 free ports found in 30000-30999; free some and retry"
}

# ---------------------------------------------------------------- fixtures

make_fixtures() {
  local c=$TMP/common
  mkdir -p "$c/home"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
    -keyout "$c/server.key" -out "$c/server.crt" 2>/dev/null
  CONTENT="known content $RANDOM$RANDOM"
  printf '%s' "$CONTENT" >"$c/home/hello.txt"
  chown -R 65534:65534 "$c/home"
  echo "ftpuser:$(openssl passwd -6 -salt e2esalt secret123):65534:65534::$c/home:/bin/sh" \
    >"$c/ftpd.passwd"
  echo "nogroup:x:65534:" >"$c/ftpd.group"
  chmod 600 "$c/ftpd.passwd" "$c/ftpd.group" "$c/server.key"
}

# ---------------------------------------------------------------- steps

# Run one client step with a hard time limit. Its output goes to STEP_OUT and
# to the scenario's step log, which is printed when the scenario fails.
step() {
  local rc=0
  STEP_OUT=$(timeout "$STEP_LIMIT" "$@" 2>&1) || rc=$?
  printf '$ %s  [exit %d]\n%s\n' "${*:2}" "$rc" "$STEP_OUT" >>"$SDIR/steps.log"
  return "$rc"
}
ftp() { step "$PY" "$HERE/ftp_client.py" "$@"; }
mc() { step "$PY" "$HERE/mc_tool.py" "$@"; }

# ok WHAT CMD...: CMD must succeed, or REASON describes the failure.
ok() {
  local what=$1
  shift
  "$@" && return 0
  REASON="$what: $STEP_OUT"
  return 1
}

# rejected WHAT REPLY CMD...: the server must reject CMD with a reply
# containing REPLY.
rejected() {
  local what=$1 want=$2 rc=0
  shift 2
  "$@" || rc=$?
  [[ $rc == 1 && $STEP_OUT == *"rejected: $want"* ]] && return 0
  REASON="$what: expected \"$want\", got: $STEP_OUT"
  return 1
}

# has_line FILE TEXT WHAT: FILE must contain TEXT.
has_line() {
  grep -qF -- "$2" "$1" 2>/dev/null && return 0
  REASON="$3: no \"$2\" in ${1#"$SDIR"/}"
  return 1
}

# has_match FILE REGEX WHAT: FILE must have a line matching the extended REGEX.
has_match() {
  grep -qE -- "$2" "$1" 2>/dev/null && return 0
  REASON="$3: nothing matches /$2/ in ${1#"$SDIR"/}"
  return 1
}

# ---------------------------------------------------------------- servers

# start_memcached NAME PORT|SOCKET_PATH
start_memcached() {
  local name=$1 where=$2 listen
  if [[ $where == /* ]]; then
    # memcached creates the socket after switching to user memcache.
    mkdir -p "$(dirname "$where")"
    chown memcache "$(dirname "$where")"
    listen=(-s "$where" -a 0766)
  else
    listen=(-l 127.0.0.1 -p "$where" -U 0)
    where=127.0.0.1:$where
  fi
  "$MEMCACHED" "${listen[@]}" -u memcache -m 64 -vv >"$SDIR/mc/$name.log" 2>&1 &
  MC_PID[$name]=$!
  STARTED+=("$!")
  mc wait "$where" 5 || { REASON="memcached $name did not start: $STEP_OUT"; return 1; }
}

stop_memcached() {
  stop_pid "${MC_PID[$1]}"
  unset "MC_PID[$1]"
}

render_conf() {
  local out=$1 text
  shift
  text=$(<"$HERE/proftpd.conf.in")
  while (($#)); do
    text=${text//"@$1@"/"$2"}
    shift 2
  done
  printf '%s\n' "$text" >"$out"
  if grep -q '@[A-Z_]*@' "$out"; then
    REASON="unfilled field in $out: $(grep -o '@[A-Z_]*@' "$out" | head -1)"
    return 1
  fi
}

# check_maps ROLE FILE...: the libmemcached* files a process maps must be
# exactly the wanted libmemcached.so.11 and libmemcachedutil.so.2.
check_maps() {
  local role=$1 path seen_mc=0 seen_util=0
  shift
  for path in "$@"; do
    if [[ $path == "$WANT_MC" ]]; then seen_mc=1
    elif [[ $path == "$WANT_UTIL" ]]; then seen_util=1
    else REASON="library: $role maps $path"; return 1
    fi
  done
  # Both sonames may resolve to one file.
  [[ $WANT_MC == "$WANT_UTIL" ]] && seen_util=$seen_mc
  ((seen_mc)) || { REASON="library: $role does not map $WANT_MC"; return 1; }
  ((seen_util)) || { REASON="library: $role does not map $WANT_UTIL"; return 1; }
}

# Print the libmemcached* files mapped by process $1, one per line. The path
# is everything after the fifth field of a maps line.
mapped_files() {
  local _ path
  while read -r _ _ _ _ _ path; do
    if [[ ${path##*/} == libmemcached* ]]; then
      echo "$path"
    fi
  done <"/proc/$1/maps" | sort -u
}

# start_proftpd NAME PORT PASSIVE SERVERS EXTRA TLS_CACHE
start_proftpd() {
  local name=$1 port=$2 pasv=$3 dir=$SDIR/$1 envs=(-u LD_PRELOAD -u LD_LIBRARY_PATH)
  mkdir -p "$dir"
  render_conf "$dir/proftpd.conf" NAME "$name" DIR "$dir" PORT "$port" \
    PASV_LO "${pasv% *}" PASV_HI "${pasv#* }" PASSWD "$TMP/common/ftpd.passwd" \
    GROUP "$TMP/common/ftpd.group" CERT "$TMP/common/server.crt" \
    KEY "$TMP/common/server.key" MC_SERVERS "$4" MC_EXTRA "$5" TLS_CACHE "$6" || return 1
  [[ -n $LIB_DIR ]] && envs+=(LD_LIBRARY_PATH="$LIB_DIR")
  env "${envs[@]}" "$PROFTPD" -n -c "$dir/proftpd.conf" >"$dir/stdout.log" 2>&1 &
  FTPD_PID[$name]=$!
  STARTED+=("$!")
  ftp probe "$port" 10 || { REASON="proftpd $name did not start: $STEP_OUT"; return 1; }
  local files
  mapfile -t files < <(mapped_files "${FTPD_PID[$name]}")
  check_maps "proftpd $name master" "${files[@]}"
}

# start_instances SERVERS EXTRA TLS_CACHE: A and B with the same memcache
# settings, then one session on A to check the session's libraries too.
start_instances() {
  start_proftpd a "$A_PORT" "$A_PASV" "$@" || return 1
  start_proftpd b "$B_PORT" "$B_PASV" "$@" || return 1
  ok "session library check on A" ftp session-libs "$A_PORT" 127.0.0.1 "${FTPD_PID[a]}" ||
    return 1
  local files
  mapfile -t files < <(sed -n 's/^session [0-9]* //p' <<<"$STEP_OUT")
  check_maps "proftpd a session" "${files[@]}" || return 1
  if [[ -z $LIBS_SHOWN ]]; then
    LIBS_SHOWN=1
    echo "library check: proftpd masters and a session map only ${files[*]}"
  fi
}

# Keys in memcached -vv logs contain NUL and control bytes, shown as '.'.
printable() { LC_ALL=C tr -c '\11\12\40-\176' '.' | cut -c1-220 | sed 's/^/    /'; }

dump_logs() {
  local f
  echo "  ---- client steps"
  tail -n 40 "$SDIR/steps.log" 2>/dev/null | printable
  for f in "$SDIR"/a/{stdout,system,ban,memcache}.log "$SDIR"/b/{stdout,system,ban,memcache}.log \
    "$SDIR"/a/trace.log "$SDIR"/b/trace.log "$SDIR"/mc/*.log; do
    [[ -s $f ]] || continue
    echo "  ---- tail ${f#"$SDIR"/}"
    tail -n 15 "$f" | printable
  done
}

# ---------------------------------------------------------------- scenarios

scenario_1() {
  start_memcached m1 "${MC_PORTS[0]}" || return 1
  start_instances "127.0.0.1:${MC_PORTS[0]}" "" "$TLS_CACHE_LINE" || return 1
  ok "bad logins from 127.0.0.2 on A" ftp badlogin "$A_PORT" 127.0.0.2 || return 1
  ok "ban entry in memcached" mc ban-where 127.0.0.2 any 5 "127.0.0.1:${MC_PORTS[0]}" ||
    return 1
  rejected "127.0.0.2 on B" "530 Banned by instance a" \
    ftp login "$B_PORT" 127.0.0.2 "$CONTENT" || return 1
  ok "127.0.0.1 on B" ftp login "$B_PORT" 127.0.0.1 "$CONTENT" || return 1
  REASON="B rejected 127.0.0.2 with A's ban message; 127.0.0.1 did LIST+RETR on B"
}

scenario_2() {
  start_memcached m1 "${MC_PORTS[0]}" || return 1
  start_instances "127.0.0.1:${MC_PORTS[0]}" "" "$TLS_CACHE_LINE" || return 1
  ok "TLS session from A resumed on B" ftp tls-resume "$A_PORT" "$B_PORT" "$CONTENT" ||
    return 1
  local resumed=$STEP_OUT
  has_line "$SDIR/b/trace.log" "retrieved session data from cache" "B's cache lookup" || return 1
  ok "key listing" mc keys "127.0.0.1:${MC_PORTS[0]}" || return 1
  [[ $STEP_OUT == *"mod_tls_memcache.sessions.tpl"* ]] ||
    { REASON="no TLS session entry in memcached: $STEP_OUT"; return 1; }
  REASON="TLS 1.2 without tickets; $resumed"
}

scenario_3() {
  local servers=() s
  for s in 0 1 2; do
    start_memcached "m$s" "${MC_PORTS[$s]}" || return 1
    servers+=("127.0.0.1:${MC_PORTS[$s]}")
  done
  start_instances "${servers[*]}" "  MemcacheReplicas      2" "" || return 1
  ok "bad logins from 127.0.0.2 on A" ftp badlogin "$A_PORT" 127.0.0.2 || return 1
  ok "ban entry on all three servers" mc ban-where 127.0.0.2 all 5 "${servers[@]}" || return 1
  local digests messages
  digests=$(grep -o 'sha256 [0-9a-f]*' <<<"$STEP_OUT" | sort -u | wc -l)
  messages=$(grep -c "message 'Banned by instance a'" <<<"$STEP_OUT" || true)
  [[ $digests == 1 && $messages == 3 ]] ||
    { REASON="ban copies differ or do not contain A's message: $STEP_OUT"; return 1; }
  rejected "127.0.0.2 on B" "530 Banned by instance a" \
    ftp login "$B_PORT" 127.0.0.2 "$CONTENT" || return 1
  REASON="identical ban entry under the exact binary key on all 3 servers; B enforced it"
}

scenario_4() {
  local server=127.0.0.1:${MC_PORTS[0]}
  local bad_key="A BAD KEY WAS PROVIDED/CHARACTERS OUT OF RANGE"
  start_memcached m1 "${MC_PORTS[0]}" || return 1
  start_instances "$server" "  MemcacheOptions       NoBinaryProtocol" "" || return 1
  ok "bad logins from 127.0.0.2 on A" ftp badlogin "$A_PORT" 127.0.0.2 || return 1
  rejected "127.0.0.2 on A (local ban)" "530 Banned by instance a" \
    ftp login "$A_PORT" 127.0.0.2 "$CONTENT" || return 1
  ok "127.0.0.2 on B (ban cannot be shared)" ftp login "$B_PORT" 127.0.0.2 "$CONTENT" ||
    return 1
  has_match "$SDIR/a/trace.log" "error setting key \([0-9]+ bytes\).*: $bad_key" \
    "A's rejected set" || return 1
  has_match "$SDIR/b/trace.log" "error getting data for key \([0-9]+ bytes\): \[33\] $bad_key" \
    "B's rejected get" || return 1
  has_line "$SDIR/a/ban.log" "unable to add memcache entry for name 127.0.0.2" \
    "A's failed cache add" || return 1
  ok "stats" mc stats "$server" \
    cmd_get cmd_set get_misses delete_misses incr_misses total_items || return 1
  local nonzero
  nonzero=$(awk '$2 != "0"' <<<"$STEP_OUT")
  [[ -z $nonzero ]] || { REASON="memcached saw key traffic: $nonzero"; return 1; }
  REASON="keys rejected client-side ($bad_key), memcached saw no get/set,"
  REASON+=" A banned locally, B let 127.0.0.2 in"
}

scenario_5() {
  local sock=$SDIR/mcsock/memcached.sock
  start_memcached sock "$sock" || return 1
  start_instances "$sock" "" "$TLS_CACHE_LINE" || return 1
  ok "bad logins from 127.0.0.2 on A" ftp badlogin "$A_PORT" 127.0.0.2 || return 1
  ok "ban entry behind the unix socket" mc ban-where 127.0.0.2 any 5 "$sock" || return 1
  rejected "127.0.0.2 on B" "530 Banned by instance a" \
    ftp login "$B_PORT" 127.0.0.2 "$CONTENT" || return 1
  ok "127.0.0.1 on B" ftp login "$B_PORT" 127.0.0.1 "$CONTENT" || return 1
  REASON="ban stored through the unix socket and enforced by B"
}

# timed_login PORT SRC: login must work within LOGIN_LIMIT_MS.
timed_login() {
  ok "login from $2 on port $1 after the kill" ftp login "$1" "$2" "$CONTENT" || return 1
  local ms
  [[ $STEP_OUT =~ in\ ([0-9]+)\ ms ]] && ms=${BASH_REMATCH[1]} ||
    { REASON="no timing in: $STEP_OUT"; return 1; }
  ((ms <= LOGIN_LIMIT_MS)) ||
    { REASON="login from $2 on port $1 took $ms ms (limit $LOGIN_LIMIT_MS)"; return 1; }
  LOGIN_TIMES+=("$ms")
}

scenario_6() {
  local servers=() s victim="" i
  for s in 0 1 2; do
    start_memcached "m$s" "${MC_PORTS[$s]}" || return 1
    servers+=("127.0.0.1:${MC_PORTS[$s]}")
  done
  start_instances "${servers[*]}" "" "$TLS_CACHE_LINE" || return 1
  ok "bad logins from 127.0.0.2 on A" ftp badlogin "$A_PORT" 127.0.0.2 || return 1
  ok "ban entry in the fleet" mc ban-where 127.0.0.2 any 5 "${servers[@]}" || return 1
  for s in 0 1 2; do
    [[ $STEP_OUT == *"${servers[$s]}: present"* ]] && victim=$s
  done
  [[ -n $victim ]] || { REASON="cannot tell which server holds the ban: $STEP_OUT"; return 1; }

  # A session logged in before the kill must keep working after it.
  local ready=$SDIR/hold.ready go=$SDIR/hold.go hold_pid rc=0
  "$PY" "$HERE/ftp_client.py" hold "$A_PORT" 127.0.0.3 "$CONTENT" "$ready" "$go" 20 \
    >"$SDIR/hold.out" 2>&1 &
  hold_pid=$!
  CLIENTS+=("$hold_pid")
  for ((i = 0; i < 200; i++)); do
    [[ -e $ready ]] && break
    sleep 0.05
  done
  [[ -e $ready ]] || { REASON="held session did not log in: $(<"$SDIR/hold.out")"; return 1; }

  stop_memcached "m$victim"
  touch "$go"
  wait "$hold_pid" || rc=$?
  CLIENTS=()
  ((rc == 0)) || { REASON="held session after the kill: $(<"$SDIR/hold.out")"; return 1; }

  LOGIN_TIMES=()
  timed_login "$A_PORT" 127.0.0.1 || return 1
  timed_login "$B_PORT" 127.0.0.1 || return 1
  timed_login "$A_PORT" 127.0.0.5 || return 1
  timed_login "$B_PORT" 127.0.0.5 || return 1

  start_memcached "m$victim" "${MC_PORTS[$victim]}" || return 1
  ok "bad logins from 127.0.0.4 on A" ftp badlogin "$A_PORT" 127.0.0.4 || return 1
  ok "new ban entry after the restart" mc ban-where 127.0.0.4 any 5 "${servers[@]}" ||
    return 1
  rejected "127.0.0.4 on B" "530 Banned by instance a" \
    ftp login "$B_PORT" 127.0.0.4 "$CONTENT" || return 1
  REASON="killed ${servers[$victim]}, which held the ban; logins took ${LOGIN_TIMES[*]} ms;"
  REASON+=" after the restart a new ban was stored and enforced by B"
}

SCENARIOS=(
  "1 ban across instances"
  "2 TLS session cache across instances"
  "3 three servers, MemcacheReplicas 2"
  "4 MemcacheOptions NoBinaryProtocol"
  "5 memcached on a unix socket"
  "6 failover with a memcached killed"
)

pick_ports
make_fixtures
if [[ -n $LIB_DIR ]]; then
  echo "library under test: $WANT_MC, $WANT_UTIL (LD_LIBRARY_PATH=$LIB_DIR)"
else
  echo "library under test: system $WANT_MC, $WANT_UTIL"
fi
echo "ports: memcached ${MC_PORTS[*]}, proftpd A $A_PORT (data $A_PASV), B $B_PORT (data $B_PASV)"

passed=0 failed=0 LIBS_SHOWN=""
for entry in "${SCENARIOS[@]}"; do
  n=${entry%% *}
  SDIR=$TMP/s$n
  mkdir -p "$SDIR/mc"
  REASON=""
  started=$SECONDS
  if ((started > TIME_BUDGET)); then
    echo "FAIL $entry: not run, the time budget of $TIME_BUDGET s is used up"
    failed=$((failed + 1))
    continue
  fi
  if "scenario_$n"; then
    echo "PASS $entry ($((SECONDS - started)) s): $REASON"
    passed=$((passed + 1))
  else
    echo "FAIL $entry ($((SECONDS - started)) s): $REASON"
    dump_logs
    failed=$((failed + 1))
  fi
  stop_all
done

echo "$passed passed, $failed failed"
((failed == 0))
