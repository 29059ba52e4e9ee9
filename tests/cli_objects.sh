#!/usr/bin/env bash
# The object commands through the real binary against an all-in-one server: mb, put (file and
# stdin), ls (plain, recursive, JSON), stat, get, cp (all three ways), rm, rb, cluster status;
# exit codes for missing objects, bad names, non-empty containers; and a restart after SIGTERM
# that keeps every acknowledged object; as root, reads from a server in a pid namespace of its
# own, which cannot map the client's shared memory and is read by TCP.
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
expect_exit() {  # expect_exit CODE command...
  local want="$1"; shift
  set +e; "$@" > "$work/out" 2> "$work/err"; local got=$?; set -e
  [ "$got" = "$want" ] || fail "$* exited $got, not $want: $(cat "$work/err")"
}

start_server() {  # start_server [PREFIX...]: the command runs under PREFIX, if any
  "$@" "$cerulean" server --rpc-port 0 --resp-port 0 --s3-port 0 --azure-port 0 --data "$work/data" > "$work/server.log" 2>&1 &
  server_pid=$!
  address=""
  for _ in $(seq 100); do
    address=$(grep -o 'rpc=[0-9.]*:[0-9]*' "$work/server.log" | head -1 | cut -d= -f2 || true)
    [ -n "$address" ] && break
    kill -0 "$server_pid" 2>/dev/null || fail "server exited at start"
    sleep 0.1
  done
  [ -n "$address" ] || fail "server did not report its address"
  export CERULEAN_META="$address"
}
stop_server() {
  # The server itself, also when it runs under a prefix such as unshare.
  pkill -TERM -f -- "--data $work/data" || true
  kill -TERM "$server_pid" 2> /dev/null || true
  wait "$server_pid" || fail "server exited with an error"
  server_pid=""
}

start_server
head -c 20000000 /dev/urandom > "$work/big.bin"
: > "$work/empty.bin"

"$cerulean" mb models > /dev/null || fail "mb"
expect_exit 4 "$cerulean" mb models
expect_exit 2 "$cerulean" mb Bad_Name
"$cerulean" put "$work/big.bin" models/shards/big.bin > /dev/null || fail "put file"
"$cerulean" put "$work/empty.bin" models/empty > /dev/null || fail "put empty"
echo hello | "$cerulean" put - models/hello.txt --content-type text/plain > /dev/null || fail "put stdin"
expect_exit 3 "$cerulean" put "$work/big.bin" nothing/x
expect_exit 3 "$cerulean" put "$work/missing-file" models/x
expect_exit 2 "$cerulean" put "$work/big.bin" models

"$cerulean" ls | grep -q " models/$" || fail "ls containers"
"$cerulean" ls models > "$work/ls.txt"
grep -q "DIR  models/shards/" "$work/ls.txt" || fail "ls: no common prefix: $(cat "$work/ls.txt")"
grep -q "6 B  models/hello.txt" "$work/ls.txt" || fail "ls: hello.txt: $(cat "$work/ls.txt")"
"$cerulean" ls models/shards/ -r --json | grep -q '"name":"shards/big.bin","size":20000000' \
  || fail "ls --json: $("$cerulean" ls models/shards/ -r --json)"
"$cerulean" stat models/hello.txt | grep -q 'etag:          "b1946ac92492d2347c6235b4d2611184"' || fail "stat etag"
"$cerulean" stat models/hello.txt --json | grep -q '"content_type":"text/plain"' || fail "stat --json"
"$cerulean" stat models/shards/big.bin --json | grep -q '"pieces":3' || fail "stat --json pieces"
expect_exit 3 "$cerulean" stat models/nothing

"$cerulean" get models/shards/big.bin "$work/got.bin" > /dev/null || fail "get"
cmp -s "$work/big.bin" "$work/got.bin" || fail "get returned other bytes"
[ "$("$cerulean" get models/hello.txt -)" = "hello" ] || fail "get to stdout"
expect_exit 3 "$cerulean" get models/nothing "$work/nothing"
[ ! -e "$work/nothing" ] && [ ! -e "$work/nothing.cerulean-partial" ] || fail "a failed get left a file"
"$cerulean" cp "$work/big.bin" cerulean://models/copied-in > /dev/null || fail "cp local to remote"
"$cerulean" cp cerulean://models/copied-in cerulean://models/copied-twice > /dev/null || fail "cp remote to remote"
"$cerulean" cp cerulean://models/copied-twice "$work/copied.bin" > /dev/null || fail "cp remote to local"
cmp -s "$work/big.bin" "$work/copied.bin" || fail "cp returned other bytes"
expect_exit 2 "$cerulean" cp "$work/big.bin" "$work/other"

"$cerulean" cluster status | grep -q "1 storage nodes (0 down)" || fail "cluster status"
"$cerulean" cluster status --json | grep -q '"nodes_down":0' || fail "cluster status --json"

expect_exit 4 "$cerulean" rb models
"$cerulean" rm models/copied-in > /dev/null || fail "rm"
expect_exit 3 "$cerulean" rm models/copied-in

# Everything acknowledged survives a restart.
stop_server
start_server
"$cerulean" get models/shards/big.bin "$work/after.bin" > /dev/null || fail "get after restart"
cmp -s "$work/big.bin" "$work/after.bin" || fail "after restart, other bytes"
[ "$("$cerulean" get models/hello.txt -)" = "hello" ] || fail "hello after restart"

# A server in another pid namespace (a container of its own) cannot open the client's memfd
# through /proc: the client reads from it by TCP, the same bytes.
if [ "$(id -u)" = 0 ] && unshare --pid --fork --mount-proc true 2> /dev/null; then
  stop_server
  start_server unshare --pid --fork --mount-proc
  "$cerulean" get models/shards/big.bin "$work/unshared.bin" > /dev/null || fail "get from another pid namespace"
  cmp -s "$work/big.bin" "$work/unshared.bin" || fail "from another pid namespace, other bytes"
fi
for name in shards/big.bin empty hello.txt copied-twice; do "$cerulean" rm "models/$name" > /dev/null || fail "rm $name"; done
"$cerulean" rb models > /dev/null || fail "rb"
expect_exit 3 "$cerulean" rb models
stop_server
echo "cli objects: ok"
