#!/usr/bin/env bash
# The Azure Blob gateway with real Azure clients, unchanged: Debian's python3-azure
# (tests/azure_sdk.py: round trips above 64 MiB, listings, conditions, SAS, the authentication
# matrix, objects shared with S3) and azure-cli's `az storage` commands. A blob put through
# Azure reads back through the native CLI.
set -euo pipefail
cerulean="$1"
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log"; tail -50 "$work/server.log" || true; exit 1; }

"$cerulean" server --rpc-port 0 --resp-port -1 --s3-port 0 --azure-port 0 --data "$work/data" > "$work/server.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 100); do
  port=$(grep -o ' azure=[0-9.]*:[0-9]*' "$work/server.log" | head -1 | cut -d: -f2 || true)
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || fail "server exited at start"
  sleep 0.1
done
[ -n "$port" ] || fail "server did not report its Azure port"
s3_port=$(grep -o ' s3=[0-9.]*:[0-9]*' "$work/server.log" | head -1 | cut -d: -f2)
rpc=$(grep -o ' rpc=[0-9.]*:[0-9]*' "$work/server.log" | head -1 | cut -d= -f2)
grep -q "azure key:" "$work/server.log" || fail "first start did not print the new credentials"

credential() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/data/credentials.json" "$1"; }
account=$(credential azure_account)
key=$(credential azure_key)
endpoint="http://127.0.0.1:$port"

# --- the Python SDK
/usr/bin/python3 "$here/azure_sdk.py" "$endpoint" "$account" "$key" "http://127.0.0.1:$s3_port" \
  "$(credential s3_access_key)" "$(credential s3_secret_key)" || fail "azure_sdk.py"

# --- azure-cli
if command -v az > /dev/null; then
  export AZURE_CONFIG_DIR="$work/az" AZURE_CORE_COLLECT_TELEMETRY=0 AZURE_CORE_ONLY_SHOW_ERRORS=1
  export AZURE_STORAGE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=$account;AccountKey=$key;BlobEndpoint=$endpoint/$account;"
  az storage container create --name cli-data --metadata team=ml > /dev/null || fail "az storage container create"
  out=$(az storage container list --query '[].name' --output tsv) || fail "az storage container list"
  echo "$out" | grep -qx cli-data || fail "container list: $out"
  head -c 5000000 /dev/urandom > "$work/upload.bin"
  az storage blob upload --container-name cli-data --name 'dir/file one.bin' --file "$work/upload.bin" \
    --metadata owner=cli --content-type application/x-cli --no-progress > /dev/null || fail "az storage blob upload"
  out=$(az storage blob list --container-name cli-data --prefix dir/ --query '[].name' --output tsv) || fail "blob list"
  [ "$out" = "dir/file one.bin" ] || fail "blob list: $out"
  az storage blob show --container-name cli-data --name 'dir/file one.bin' > "$work/show.json" || fail "blob show"
  grep -q '"contentLength": 5000000' "$work/show.json" || fail "blob show size: $(cat "$work/show.json")"
  grep -q '"contentType": "application/x-cli"' "$work/show.json" || fail "blob show content type"
  az storage blob metadata update --container-name cli-data --name 'dir/file one.bin' --metadata stage=two > /dev/null \
    || fail "blob metadata update"
  out=$(az storage blob metadata show --container-name cli-data --name 'dir/file one.bin' --query stage --output tsv)
  [ "$out" = "two" ] || fail "blob metadata show: $out"
  az storage blob download --container-name cli-data --name 'dir/file one.bin' --file "$work/download.bin" --no-progress > /dev/null \
    || fail "az storage blob download"
  cmp "$work/upload.bin" "$work/download.bin" || fail "downloaded bytes differ"
  # Through the native CLI too: one namespace.
  "$cerulean" get --meta "$rpc" 'cli-data/dir/file one.bin' "$work/native.bin" > /dev/null || fail "native get"
  cmp "$work/upload.bin" "$work/native.bin" || fail "native bytes differ"
  az storage blob delete --container-name cli-data --name 'dir/file one.bin' > /dev/null || fail "blob delete"
  out=$(az storage blob exists --container-name cli-data --name 'dir/file one.bin' --query exists --output tsv)
  [ "$out" = "false" ] || fail "blob exists after delete: $out"
  az storage container delete --name cli-data > /dev/null || fail "container delete"
else
  echo "azure_clients: azure-cli is not installed (scripts/setup.sh installs it)"; exit 1
fi

# --- rclone's azureblob remote, through an account SAS URL (its way to a custom endpoint)
sas=$(/usr/bin/python3 -c "
import datetime, sys
from azure.storage.blob import generate_account_sas, ResourceTypes, AccountSasPermissions
print(generate_account_sas(sys.argv[1], sys.argv[2], ResourceTypes(service=True, container=True, object=True),
      AccountSasPermissions(read=True, write=True, delete=True, list=True, add=True, create=True),
      expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)))" "$account" "$key")
export RCLONE_CONFIG=/dev/null RCLONE_CONFIG_AZ_TYPE=azureblob RCLONE_CONFIG_AZ_SAS_URL="$endpoint/$account?$sas"
mkdir -p "$work/tree/sub"
head -c 100000 /dev/urandom > "$work/tree/a"
head -c 9000000 /dev/urandom > "$work/tree/sub/b"
rclone mkdir az:rclone-data || fail "rclone mkdir"
rclone copy "$work/tree" az:rclone-data/tree || fail "rclone copy up"
out=$(rclone check "$work/tree" az:rclone-data/tree 2>&1) || fail "rclone check: $out"
echo "$out" | grep -q "0 differences found" || fail "rclone check: $out"
echo "$out" | grep -q "hashes could not be checked" && fail "rclone found no MD5s: $out"
rclone copy az:rclone-data/tree "$work/tree-back" || fail "rclone copy down"
diff -r "$work/tree" "$work/tree-back" || fail "rclone round trip"
rclone purge az:rclone-data || fail "rclone purge"

kill -TERM "$server_pid"
wait "$server_pid" || fail "server exit status $?"
server_pid=""
echo "azure_clients: ok"
