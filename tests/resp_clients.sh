#!/usr/bin/env bash
# The RESP front end with real Redis clients, unchanged: redis-cli (every command, exact
# replies), redis-py (Debian's python3-redis), and redis-benchmark; malformed RESP gets an error
# and the server stays up.
set -euo pipefail
cerulean="$1"
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log"; tail -50 "$work/server.log" || true; exit 1; }

"$cerulean" server --rpc-port 0 --resp-port 0 --s3-port 0 --azure-port 0 --data "$work/data" > "$work/server.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 100); do
  port=$(grep -o 'resp=[0-9.]*:[0-9]*' "$work/server.log" | head -1 | cut -d: -f2 || true)
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || fail "server exited at start"
  sleep 0.1
done
[ -n "$port" ] || fail "server did not report its RESP port"

r() { redis-cli -p "$port" "$@"; }
expect() {  # expect WANT redis-cli args...
  local want="$1"; shift
  local got
  got=$(r "$@" 2>&1) || fail "redis-cli $* failed: $got"
  [ "$got" = "$want" ] || fail "redis-cli $*: got '$got', want '$want'"
}

# --- redis-cli
expect PONG ping
expect hello ping hello
expect OK set greeting "hello world"
expect "hello world" get greeting
expect OK set greeting replaced
expect replaced get greeting
expect "" set greeting other NX
expect OK set fresh v NX
expect "" set absent v XX
expect OK set fresh w XX
expect w get fresh
expect "" get missing
expect OK mset a 1 b 2 c 3
printf '1\n2\n\n3\n' > "$work/want"
r mget a b missing c > "$work/got"
diff -u "$work/want" "$work/got" || fail "mget"
expect 3 exists a b c missing
expect 2 del a b missing
expect 0 exists a b
expect -1 ttl c
expect -2 ttl missing
expect 1 expire c 100
ttl=$(r ttl c)
[ "$ttl" -ge 99 ] && [ "$ttl" -le 100 ] || fail "ttl after expire 100 is $ttl"
expect OK set short v EX 1
sleep 2.2
expect "" get short
expect OK set short2 v PX 500
expect OK setex withex 100 v
expect 1 setnx once 1
expect 0 setnx once 2
expect 1 get once
expect OK select 0
# (Replies are captured before they are looked at: with pipefail, a grep -q that stops reading
# early could fail the pipeline through redis-cli's SIGPIPE.)
info=$(r info)
[[ "$info" == *redis_version:* ]] || fail "info has no redis_version"
[[ "$(r dbsize)" =~ ^[0-9]+$ ]] || fail "dbsize is not a number"
# binary-safe values, and a 3 MiB one
head -c 3145728 /dev/urandom > "$work/big"
[ "$(r -x set big < "$work/big")" = OK ] || fail "SET of 3 MiB"
r --raw get big > "$work/got_big"
[ "$(head -c 3145728 "$work/got_big" | cmp - "$work/big" && echo same)" = same ] || fail "3 MiB value changed"
# errors, not crashes
[[ "$(r incr counter)" == *"unknown command"* ]] || fail "unknown command"
[[ "$(r get)" == *"wrong number of arguments"* ]] || fail "arity"
[[ "$(r set k v EX notanumber)" == *"invalid expire time"* ]] || fail "bad EX"
[[ "$(r set k v NX XX)" == *"syntax error"* ]] || fail "NX XX"

# --- malformed RESP: a protocol error, the connection closes, the server stays up
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf '*1\r\n$x\r\n' >&3
reply=$(timeout 5 head -c 200 <&3 || true)
exec 3<&-
[[ "$reply" == *"Protocol error"* ]] || fail "malformed RESP got '$reply'"
expect PONG ping

# --- redis-py
/usr/bin/python3 - "$port" <<'PY' || fail "redis-py"
import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]))
assert r.ping()
assert r.set("py:k", b"\x00\x01binary\xff")
assert r.get("py:k") == b"\x00\x01binary\xff"
assert r.set("py:nx", "1", nx=True)
assert r.set("py:nx", "2", nx=True) is None
assert r.get("py:nx") == b"1"
assert r.set("py:ex", "v", ex=50) and 49 <= r.ttl("py:ex") <= 50
assert r.mset({"py:a": "1", "py:b": "2"})
assert r.mget(["py:a", "py:b", "py:none"]) == [b"1", b"2", None]
assert r.exists("py:a", "py:b", "py:none") == 2
assert r.delete("py:a", "py:none") == 1
assert r.get("py:a") is None
pipe = r.pipeline(transaction=False)
for i in range(100):
    pipe.set(f"py:p{i}", str(i) * 100)
assert all(pipe.execute())
pipe = r.pipeline(transaction=False)
for i in range(100):
    pipe.get(f"py:p{i}")
assert pipe.execute() == [(str(i) * 100).encode() for i in range(100)]
big = bytes(range(256)) * 8192  # 2 MiB
assert r.set("py:big", big) and r.get("py:big") == big
assert "redis_version" in r.info()
try:
    r.incr("py:counter")
    raise SystemExit("incr should fail")
except redis.ResponseError as error:
    assert "unknown command" in str(error)
print("redis-py ok")
PY

# --- redis-benchmark, a short run of each command the front end serves
timeout 120 redis-benchmark -p "$port" -t ping,set,get,mset -n 2000 -c 8 -d 1024 -q > "$work/bench" 2>&1 || fail "redis-benchmark: $(cat "$work/bench")"
for test in PING_INLINE PING_MBULK SET GET MSET; do
  grep -q "^$test.*requests per second" <(tr '\r' '\n' < "$work/bench") || fail "redis-benchmark: no $test figure: $(cat "$work/bench")"
done
if grep -qi "error" "$work/bench"; then fail "redis-benchmark errors: $(cat "$work/bench")"; fi
expect PONG ping

kill -TERM "$server_pid"
wait "$server_pid" || fail "server exited with an error"
server_pid=""
echo "resp clients: ok"
