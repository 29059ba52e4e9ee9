#!/usr/bin/env bash
# The REST gateways' benchmark (docs/BENCHMARKS.md, "http"), against baselines measured in the
# same run:
#   - wrk GETs of public-read objects (4 KiB, 1 MiB, 64 MiB) from the S3 gateway, against nginx
#     serving the same bytes from files with sendfile on; server on core 0, wrk on core 1;
#   - PUT and GET of 64 MiB objects with boto3 (threads) and the Azure SDK, against the native
#     client (`cerulean put/get`) moving the same sizes.
# Usage: bench/http/run.sh [CERULEAN_BINARY] ; env REPEATS (3), SECONDS_PER_RUN (5), COUNT (4).
# Prints a table and writes the figures as JSON lines to $OUT (default bench-http.jsonl).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cerulean=$(realpath "${1:-$here/../../build/release/cerulean}")
repeats=${REPEATS:-3}
seconds=${SECONDS_PER_RUN:-5}
count=${COUNT:-4}
out=${OUT:-bench-http.jsonl}
python=/usr/bin/python3
for tool in wrk nginx taskset; do
  command -v "$tool" > /dev/null || { echo "bench/http: $tool is missing (scripts/setup.sh installs it)"; exit 1; }
done
work=$(mktemp -d)
chmod 755 "$work"  # nginx's workers may run as another user
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { $python -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }

# The objects, as files for nginx and as public-read objects for the gateway.
mkdir -p "$work/www"
head -c 4096 /dev/urandom > "$work/www/4k.bin"
head -c $((1 << 20)) /dev/urandom > "$work/www/1m.bin"
head -c $((64 << 20)) /dev/urandom > "$work/www/64m.bin"

nginx_port=$(free_port)
cat > "$work/nginx.conf" <<CONFIG
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$nginx_port; root $work/www; }
}
CONFIG
taskset -c 0 nginx -c "$work/nginx.conf" -p "$work" &
pids+=($!)

taskset -c 0 "$cerulean" server --rpc-port 0 --resp-port -1 --s3-port 0 --azure-port 0 --data "$work/data" \
  --log-level warn > "$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  grep -q ' azure=' "$work/server.log" && break
  sleep 0.1
done
s3=$(grep -o ' s3=[0-9.]*:[0-9]*' "$work/server.log" | cut -d= -f2)
azure=$(grep -o ' azure=[0-9.]*:[0-9]*' "$work/server.log" | cut -d= -f2)
rpc=$(grep -o ' rpc=[0-9.]*:[0-9]*' "$work/server.log" | cut -d= -f2)
credential() { $python -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/data/credentials.json" "$1"; }
s3_key=$(credential s3_access_key)
s3_secret=$(credential s3_secret_key)
$python "$here/sdk_bench.py" setup "http://$s3" "$s3_key" "$s3_secret" "$work/www"

# wrk: requests/s of one run, on core 1.
wrk_rate() {  # url connections seconds
  local report
  report=$(taskset -c 1 wrk -t1 -c"$2" -d"$3s" "$1")
  if echo "$report" | grep -q "Non-2xx"; then echo "bench/http: $1 answered errors: $report" >&2; exit 1; fi
  echo "$report" | awk '/Requests\/sec/ {print $2}'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

: > "$out"
printf '%-28s %14s %14s %8s %s\n' case cerulean nginx ratio target
for spec in "4k.bin 4096 32 0.5 req/s" "1m.bin 1048576 8 0.8 bytes/s" "64m.bin 67108864 2 0.8 bytes/s"; do
  read -r name bytes connections target unit <<< "$spec"
  ours_url="http://$s3/wrk/$name"
  nginx_url="http://127.0.0.1:$nginx_port/$name"
  wrk_rate "$ours_url" "$connections" 1 > /dev/null  # warm-up
  wrk_rate "$nginx_url" "$connections" 1 > /dev/null
  ours=() theirs=()
  for _ in $(seq "$repeats"); do  # interleaved, so that noise hits both
    ours+=("$(wrk_rate "$ours_url" "$connections" "$seconds")")
    theirs+=("$(wrk_rate "$nginx_url" "$connections" "$seconds")")
  done
  a=$(printf '%s\n' "${ours[@]}" | median)
  b=$(printf '%s\n' "${theirs[@]}" | median)
  if [ "$unit" = "bytes/s" ]; then a=$(awk -v r="$a" -v n="$bytes" 'BEGIN {print r * n}'); b=$(awk -v r="$b" -v n="$bytes" 'BEGIN {print r * n}'); fi
  ratio=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", a / b}')
  printf '%-28s %14.0f %14.0f %8s >= %s (%s, %s conns)\n' "wrk_get_$name" "$a" "$b" "$ratio" "$target" "$unit" "$connections"
  printf '{"suite": "http", "case": "wrk_get_%s", "metric": "%s", "value": %s, "baseline": {"name": "nginx_sendfile", "value": %s}, "ratio": %s, "target": "ratio >= %s"}\n' \
    "$name" "$unit" "$a" "$b" "$ratio" "$target" >> "$out"
done

# SDKs against the native client, 64 MiB objects.
size=$((64 << 20))
sdk=$($python "$here/sdk_bench.py" sdk "http://$s3" "$s3_key" "$s3_secret" "http://$azure" "$(credential azure_account)" \
        "$(credential azure_key)" "$size" "$count" "$repeats")
head -c "$size" /dev/urandom > /dev/shm/cerulean-bench-64m
"$cerulean" mb --meta "$rpc" native-bench > /dev/null
native_run() {  # put|get -> seconds for $count objects
  local start end
  start=$(date +%s.%N)
  for i in $(seq "$count"); do
    if [ "$1" = put ]; then
      "$cerulean" put --meta "$rpc" --no-progress /dev/shm/cerulean-bench-64m "native-bench/o$i" > /dev/null
    else
      "$cerulean" get --meta "$rpc" --no-progress "native-bench/o$i" /dev/shm/cerulean-bench-64m.back > /dev/null
    fi
  done
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN {print e - s}'
}
native_run put > /dev/null  # warm-up
for op in put get; do
  runs=()
  for _ in $(seq "$repeats"); do runs+=("$(native_run "$op")"); done
  secs=$(printf '%s\n' "${runs[@]}" | median)
  declare "native_$op=$(awk -v s="$secs" -v n="$((size * count))" 'BEGIN {print n / s}')"
done
rm -f /dev/shm/cerulean-bench-64m /dev/shm/cerulean-bench-64m.back
for client in boto3 azure; do
  for op in put get; do
    value=$($python -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$sdk" "${client}_$op")
    native_var="native_$op"
    native=${!native_var}
    ratio=$(awk -v a="$value" -v b="$native" 'BEGIN {printf "%.3f", a / b}')
    printf '%-28s %14.0f %14.0f %8s >= 0.75 (bytes/s vs native %s)\n' "${client}_${op}_64MiB" "$value" "$native" "$ratio" "$op"
    printf '{"suite": "http", "case": "%s_%s_64MiB", "metric": "bytes/s", "value": %s, "baseline": {"name": "native_client_%s", "value": %s}, "ratio": %s, "target": "ratio >= 0.75"}\n' \
      "$client" "$op" "$value" "$op" "$native" "$ratio" >> "$out"
  done
done
echo "figures: $out"
