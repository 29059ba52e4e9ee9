#!/usr/bin/env bash
# A local Cerulean cluster: one meta and N storage processes, R = 3 (or N if smaller).
#
#   scripts/cluster.sh start N [--netns]   start it (N storage nodes, default 3)
#   scripts/cluster.sh status              processes, then `cerulean cluster status`
#   scripts/cluster.sh stop                SIGTERM everything, wait, remove namespaces
#   scripts/cluster.sh kill NAME           SIGKILL meta or storage node sI, e.g. s2 (failure drills)
#   scripts/cluster.sh revive NAME         start a killed process again, with the same flags
#
# Without --netns every process binds 127.0.0.1: meta on port 7400, storage node i on 7400+i.
# With --netns (root only) each process runs in a network namespace of its own, with its own
# address on a bridge: meta at 10.77.0.10, node i at 10.77.0.(10+i), the host at 10.77.0.1.
#
# Environment: CERULEAN_BIN (default build/release/cerulean), CERULEAN_CLUSTER_DIR (default
# ./cerulean-cluster: data, logs, pids), CERULEAN_PORT (default 7400).
# docs/OPERATIONS.md has the rest.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${CERULEAN_BIN:-$root/build/release/cerulean}
dir=${CERULEAN_CLUSTER_DIR:-./cerulean-cluster}
port=${CERULEAN_PORT:-7400}
bridge=cerulean-br0
subnet=10.77.0

die() { echo "cluster.sh: $*" >&2; exit 1; }
usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

# host_of NAME: the address NAME binds (meta, s1, s2, ...).
# alive PID: running (a zombie that nobody has reaped yet counts as dead).
alive() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; }

host_of() {
  if [ ! -f "$dir/netns" ]; then echo 127.0.0.1; return; fi
  case "$1" in
    meta) echo "$subnet.10" ;;
    s*) echo "$subnet.$((10 + ${1#s}))" ;;
  esac
}
port_of() { case "$1" in meta) echo "$port" ;; s*) echo $((port + ${1#s})) ;; esac; }

make_namespaces() {
  local count="$1"
  [ "$(id -u)" = 0 ] || die "--netns needs root"
  ip link add "$bridge" type bridge 2>/dev/null || true
  ip addr add "$subnet.1/24" dev "$bridge" 2>/dev/null || true
  ip link set "$bridge" up
  local names=(meta)
  for i in $(seq "$count"); do names+=("s$i"); done
  for name in "${names[@]}"; do
    local ns="cerulean-$name" host; host=$(host_of "$name")
    ip netns add "$ns" 2>/dev/null || true
    # Idempotent, so that a start after an unclean stop does not trip on what is left.
    ip link add "veth-$name" type veth peer name eth0 netns "$ns" 2>/dev/null || true
    ip link set "veth-$name" master "$bridge" up
    ip netns exec "$ns" ip addr add "$host/24" dev eth0 2>/dev/null || true
    ip netns exec "$ns" ip link set eth0 up
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" ip route add default via "$subnet.1" 2>/dev/null || true
  done
}

remove_namespaces() {  # the namespaces of this script's layout (one netns cluster per host)
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^cerulean-(meta|s[0-9]+)$' || true); do
    ip netns delete "$ns"
  done
  ip link delete "$bridge" 2>/dev/null || true
}

# wait_healthy NAME: until the node answers health, or its process dies.
wait_healthy() {
  local name="$1" address; address="$(host_of "$name"):$(port_of "$name")"
  for _ in $(seq 100); do
    if "$bin" health --target "$address" > /dev/null 2>&1; then return 0; fi
    alive "$(cat "$dir/pids/$name.pid")" || die "$name exited at start: $(tail -3 "$dir/logs/$name.log")"
    sleep 0.1
  done
  die "$name did not become healthy at $address"
}

start_process() {  # start_process NAME args...: the server itself is the recorded pid
  local name="$1"; shift
  mkdir -p "$dir/args"
  printf '%s\n' "$@" > "$dir/args/$name"
  if [ -f "$dir/netns" ]; then
    ip netns exec "cerulean-$name" "$bin" server "$@" > "$dir/logs/$name.log" 2>&1 &
  else
    "$bin" server "$@" > "$dir/logs/$name.log" 2>&1 &
  fi
  echo $! > "$dir/pids/$name.pid"
}

start() {
  local count="${1:-3}" netns="${2:-}"
  [[ "$count" =~ ^[1-9][0-9]*$ ]] || die "N must be a positive number"
  [ -x "$bin" ] || die "no binary at $bin (build it: make release, or set CERULEAN_BIN)"
  if [ -d "$dir/pids" ] && ls "$dir/pids/"*.pid > /dev/null 2>&1; then die "already running in $dir (stop it first)"; fi
  mkdir -p "$dir/pids" "$dir/logs"
  rm -f "$dir/netns"
  if [ "$netns" = "--netns" ]; then
    touch "$dir/netns"
    make_namespaces "$count"
  elif [ -n "$netns" ]; then
    usage
  fi
  local replicas=$(( count < 3 ? count : 3 ))
  local meta_address; meta_address="$(host_of meta):$port"
  start_process meta --role meta --host "$(host_of meta)" --rpc-port "$port" --data "$dir/meta" --replicas "$replicas"
  wait_healthy meta
  for i in $(seq "$count"); do
    start_process "s$i" --role storage --host "$(host_of "s$i")" --rpc-port "$(port_of "s$i")" \
      --data "$dir/storage$i" --meta "$meta_address"
  done
  for i in $(seq "$count"); do wait_healthy "s$i"; done
  # Healthy is not registered: wait until meta counts every node up, so a put can start at once.
  for _ in $(seq 100); do
    if "$bin" cluster status --meta "$meta_address" --json 2>/dev/null | grep -q '"nodes_down":0' &&
       [ "$("$bin" cluster status --meta "$meta_address" --json | grep -o '"node_id"' | wc -l)" -ge "$count" ]; then
      break
    fi
    sleep 0.1
  done
  echo "$meta_address" > "$dir/meta_address"
  echo "cluster up: meta $meta_address, $count storage nodes, $replicas replicas; CERULEAN_META=$meta_address"
}

stop() {
  [ -d "$dir/pids" ] || { echo "nothing running in $dir"; return 0; }
  local pids=()
  for file in "$dir/pids/"*.pid; do
    [ -e "$file" ] || continue
    local pid; pid=$(cat "$file")
    if alive "$pid"; then kill -TERM "$pid"; pids+=("$pid"); fi
    rm -f "$file"
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -KILL "$pid"; fi
  done
  if [ -f "$dir/netns" ]; then remove_namespaces; rm -f "$dir/netns"; fi
  echo "cluster stopped"
}

status() {
  [ -d "$dir/pids" ] || die "no cluster in $dir"
  for file in "$dir/pids/"*.pid; do
    [ -e "$file" ] || continue
    local name; name=$(basename "$file" .pid)
    if alive "$(cat "$file")"; then state=running; else state=DEAD; fi
    printf '%-6s pid %-8s %-8s %s:%s\n' "$name" "$(cat "$file")" "$state" "$(host_of "$name")" "$(port_of "$name")"
  done
  "$bin" cluster status --meta "$(cat "$dir/meta_address")"
}

kill_node() {
  local file="$dir/pids/$1.pid"
  [ -f "$file" ] || die "no process $1 (meta, s1, s2, ...)"
  local pid; pid=$(cat "$file")
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
  echo "$1 killed"
}

revive() {
  local name="$1"
  [ -f "$dir/args/$name" ] || die "no process $name was started here"
  if alive "$(cat "$dir/pids/$name.pid")"; then die "$name is running"; fi
  local args=()
  mapfile -t args < "$dir/args/$name"
  start_process "$name" "${args[@]}"
  wait_healthy "$name"
  echo "$name revived"
}

case "${1:-}" in
  start) start "${2:-3}" "${3:-}" ;;
  stop) stop ;;
  status) status ;;
  kill) kill_node "${2:?which process}" ;;
  revive) revive "${2:?which process}" ;;
  *) usage ;;
esac
