#!/usr/bin/env bash
# Installs every build and test dependency of Cerulean from Debian 12 packages.
# Idempotent and non-interactive: it installs only what is missing, so a second run is a no-op.
set -euo pipefail

packages=(
  # toolchain and build
  g++ cmake ninja-build pkg-config make git openssl curl
  # libraries (see docs/ARCHITECTURE.md for why each one is here)
  liburing-dev libisal-dev librocksdb-dev libssl-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  libhttp-parser-dev libpugixml-dev
  # the Python package: its native core, and what its modules and tests use (docs/PYTHON.md)
  pybind11-dev python3-dev python3-numpy python3-torch python3-pytest python3-fsspec python3-pandas
  python3-pip python3-setuptools python3-venv
  # tests, sanitizers and fuzzing
  libgtest-dev libgmock-dev clang libclang-rt-14-dev
  # real clients the tests drive (redis-cli, redis-benchmark, redis-py against the RESP port)
  redis-tools python3 python3-redis awscli python3-boto3 python3-azure azure-cli s3cmd rclone
  # benchmark baselines
  iperf3 fio redis-server memcached wrk nginx
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

# redis-server, memcached and nginx are benchmark baselines, started by the benchmarks on ports
# of their own: a redis service on 6379 would take the port of the all-in-one server's Redis
# protocol front end, and none of them should hold memory or ports between benchmarks.
stop_redis_service() {
  for service in redis-server memcached nginx; do
    if command -v systemctl > /dev/null 2>&1 && systemctl is-enabled --quiet "$service" 2>/dev/null; then
      "${sudo_cmd[@]}" systemctl disable --now "$service" > /dev/null 2>&1 || true
    fi
  done
}
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

if [ ${#missing[@]} -eq 0 ]; then
  stop_redis_service
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
stop_redis_service
