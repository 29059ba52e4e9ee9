#!/usr/bin/env bash
# End to end through the cerulean binary: server, health, version, bench rpc --target, SIGTERM.
set -euo pipefail
cerulean="$1"
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log"; cat "$work/server.log" || true; exit 1; }

# Bad flags and bad config files are refused with a clear message.
if "$cerulean" server --rpc-port 99999 > "$work/bad.log" 2>&1; then fail "port 99999 accepted"; fi
echo '{"rpc_prot": 1}' > "$work/bad.json"
if "$cerulean" server --config "$work/bad.json" > "$work/bad.log" 2>&1; then fail "bad config accepted"; fi
grep -q "unknown key 'rpc_prot'" "$work/bad.log" || fail "bad config message: $(cat "$work/bad.log")"

"$cerulean" server --rpc-port 0 --resp-port 0 --s3-port 0 --azure-port 0 --data "$work/data" > "$work/server.log" 2>&1 &
server_pid=$!
address=""
for _ in $(seq 100); do
  address=$(grep -o 'rpc=[0-9.]*:[0-9]*' "$work/server.log" | head -1 | cut -d= -f2 || true)
  [ -n "$address" ] && break
  kill -0 "$server_pid" 2>/dev/null || fail "server exited at start"
  sleep 0.1
done
[ -n "$address" ] || fail "server did not report its address"
[ -d "$work/data" ] || fail "data directory not created"

"$cerulean" health --target "$address" | grep -q "serving role=all-in-one" || fail "health"
"$cerulean" version --target "$address" | grep -q "protocol 1" || fail "version"
if "$cerulean" health --target 127.0.0.1:1 > /dev/null 2>&1; then fail "health of nothing succeeded"; fi

"$cerulean" bench rpc --target "$address" --json --repeats 1 --duration-ms 200 --round-trips 300 > "$work/bench.json" \
  || fail "bench rpc"
for key in '"suite": "rpc"' '"case": "ping_0B_1_inflight"' '"metric": "p50_latency"' \
           '"case": "ping_0B_64_inflight_4_conns"' '"case": "sink_1MiB_8_inflight"' '"baseline"' '"ratio"' '"target"'; do
  grep -q "$key" "$work/bench.json" || fail "bench json lacks $key: $(cat "$work/bench.json")"
done

kill -TERM "$server_pid"
wait "$server_pid" || fail "server exit code $?"
server_pid=""
grep -q "server stopped" "$work/server.log" || fail "no clean stop"
[ -d "$work/data/storage/extents" ] || fail "all-in-one server did not open its extent store"

# A storage node keeps its extents in --data itself.
"$cerulean" server --role storage --rpc-port 0 --data "$work/node" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  grep -q 'rpc=' "$work/server.log" && break
  sleep 0.1
done
address=$(grep -o 'rpc=[0-9.]*:[0-9]*' "$work/server.log" | head -1 | cut -d= -f2 || true)
"$cerulean" health --target "$address" | grep -q "serving role=storage" || fail "storage node health"
[ -d "$work/node/extents" ] || fail "storage node did not open its extent store in --data"
kill -TERM "$server_pid"
wait "$server_pid" || fail "storage node exit code $?"
server_pid=""
echo "cli end to end: ok"
