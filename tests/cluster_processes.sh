#!/usr/bin/env bash
# A real cluster through scripts/cluster.sh: one meta and four storage processes, R = 3, each in
# a network namespace of its own when run as root (on loopback otherwise).
#   1. Objects from 0 B to 1 GiB put and read back byte for byte.
#   2. A storage node killed (SIGKILL) during a stream of puts: puts go on, on new chains, and
#      every acknowledged object reads back intact.
#   3. Meta killed (SIGKILL) during a stream of puts and restarted: every acknowledged put is
#      there and readable, and every listed object reads back whole.
set -euo pipefail
cerulean="$1"
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
export CERULEAN_BIN="$cerulean" CERULEAN_CLUSTER_DIR="$work/cluster" CERULEAN_PORT=$((20000 + $$ % 20000))
cluster() { "$root/scripts/cluster.sh" "$@"; }
cleanup() {
  cluster stop > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for log in "$work"/cluster/logs/*.log; do echo "--- $log"; tail -20 "$log"; done
  exit 1
}

mode=""
if [ "$(id -u)" = 0 ] && ip netns add cerulean-probe 2> /dev/null; then
  ip netns delete cerulean-probe
  mode="--netns"
fi
cluster start 4 $mode || fail "cluster start"
export CERULEAN_META; CERULEAN_META=$(cat "$work/cluster/meta_address")
echo "cluster: meta at $CERULEAN_META ${mode:-(loopback)}"

# 1. Sizes from 0 B to 1 GiB.
"$cerulean" mb objects > /dev/null || fail "mb"
# Sanitizer builds are many times slower: their runs stop at CERULEAN_TEST_OBJECT_MAX (CMake sets it).
largest=${CERULEAN_TEST_OBJECT_MAX:-$((1 << 30))}
for size in 0 1 4095 4097 1048576 8388609 $((100 << 20)) $((1 << 30)); do
  [ "$size" -le "$largest" ] || continue
  head -c "$size" /dev/urandom > "$work/in"
  "$cerulean" put --no-progress "$work/in" "objects/size-$size" > /dev/null || fail "put $size"
  "$cerulean" get --no-progress "objects/size-$size" "$work/out" > /dev/null || fail "get $size"
  cmp -s "$work/in" "$work/out" || fail "object of $size bytes came back changed"
  "$cerulean" rm "objects/size-$size" > /dev/null
done
rm -f "$work/in" "$work/out"
echo "sizes 0 B to $largest B: ok"

# put_stream FIRST LAST: puts objects stream/FIRST..LAST of 1-3 MB, noting each acknowledged one.
mkdir -p "$work/objects"
put_stream() {
  for i in $(seq "$1" "$2"); do
    head -c $((1000000 + (i % 3) * 1000000 + i)) /dev/urandom > "$work/objects/$i"
    if "$cerulean" put --no-progress "$work/objects/$i" "objects/stream/$i" > /dev/null 2>&1; then
      echo "$i" >> "$work/acknowledged"
    fi
  done
}
verify_acknowledged() {
  while read -r i; do
    "$cerulean" get --no-progress "objects/stream/$i" "$work/out" > /dev/null 2>&1 || fail "acknowledged object $i is gone"
    cmp -s "$work/objects/$i" "$work/out" || fail "acknowledged object $i came back changed"
  done < "$work/acknowledged"
}

# 2. A storage node dies during a stream of puts.
put_stream 1 60 &
writer=$!
sleep 1
cluster kill s2 > /dev/null
wait "$writer"
acknowledged=$(wc -l < "$work/acknowledged")
# At most the puts in flight at the kill may fail; everything after goes to healthy chains.
[ "$acknowledged" -ge 58 ] || fail "only $acknowledged of 60 puts succeeded after a storage node died"
verify_acknowledged
echo "storage node killed mid-stream: $acknowledged of 60 puts acknowledged, all intact"

# 3. Meta dies during a stream of puts and comes back.
put_stream 61 120 &
writer=$!
sleep 1
cluster kill meta > /dev/null
sleep 1
cluster revive meta > /dev/null || fail "meta did not restart"
wait "$writer"
verify_acknowledged
"$cerulean" ls -r --json objects/stream/ > "$work/listing" || fail "list after the meta restart"
for name in $(grep -o '"name":"stream/[0-9]*"' "$work/listing" | cut -d'"' -f4); do
  "$cerulean" get --no-progress "objects/$name" "$work/out" > /dev/null 2>&1 || fail "listed $name does not read back"
  cmp -s "$work/objects/${name#stream/}" "$work/out" || fail "listed $name came back changed"
done
echo "meta killed mid-stream: $(wc -l < "$work/acknowledged") puts acknowledged in all, every one and every listed object intact"
# The restarted meta knows s2 from its records and marks it down once it stays silent for
# down_after (10 s).
down=""
for _ in $(seq 150); do
  if ! "$cerulean" cluster status > /dev/null 2>&1; then down=yes; break; fi
  sleep 0.1
done
[ -n "$down" ] || fail "cluster status reports no node down after a kill"
cluster stop > /dev/null
echo "cluster processes: ok"
