#!/usr/bin/env bash
# The gateways over HTTPS (--tls-cert/--tls-key) with real clients: awscli (a multipart upload
# and its download) and the Azure SDK (a parallel block upload, a download, a SAS that demands
# https); plain HTTP on the TLS port fails without harming the server; a bad certificate flag
# stops the server at start with a clear error.
set -euo pipefail
cerulean="$1"
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- server log"; tail -30 "$work/server.log" || true; exit 1; }

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2> /dev/null || fail "openssl req"

out=$("$cerulean" server --rpc-port 0 --resp-port -1 --s3-port 0 --azure-port 0 --data "$work/bad" \
        --tls-cert "$work/missing.pem" --tls-key "$work/key.pem" 2>&1) && fail "a missing certificate was accepted"
echo "$out" | grep -q "TLS certificate" || fail "missing certificate: $out"

"$cerulean" server --rpc-port 0 --resp-port -1 --s3-port 0 --azure-port 0 --data "$work/data" \
  --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  grep -q ' azure=' "$work/server.log" && break
  kill -0 "$server_pid" 2>/dev/null || fail "server exited at start"
  sleep 0.1
done
s3=$(grep -o ' s3=[0-9.]*:[0-9]*' "$work/server.log" | cut -d= -f2)
azure=$(grep -o ' azure=[0-9.]*:[0-9]*' "$work/server.log" | cut -d= -f2)
credential() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/data/credentials.json" "$1"; }
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
AWS_ACCESS_KEY_ID=$(credential s3_access_key)
AWS_SECRET_ACCESS_KEY=$(credential s3_secret_key)
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
aws() { /usr/bin/aws --endpoint-url "https://$s3" --ca-bundle "$work/cert.pem" "$@"; }

# --- S3 over HTTPS
aws s3 mb s3://tls-bucket > /dev/null || fail "s3 mb over https"
head -c 20000000 /dev/urandom > "$work/big.bin"
aws s3 cp "$work/big.bin" s3://tls-bucket/big.bin --no-progress > /dev/null || fail "multipart upload over https"
aws s3 cp s3://tls-bucket/big.bin "$work/big.back" --no-progress > /dev/null || fail "download over https"
cmp "$work/big.bin" "$work/big.back" || fail "bytes over https"

# --- plain HTTP to a TLS port: refused, and the server carries on
if curl -s --max-time 5 "http://$s3/" > /dev/null 2>&1; then fail "plain HTTP was answered on the TLS port"; fi
aws s3 ls s3://tls-bucket > /dev/null || fail "https after a plain HTTP attempt"

# --- Azure over HTTPS, with a SAS that demands https
/usr/bin/python3 - "$azure" "$(credential azure_account)" "$(credential azure_key)" "$work/cert.pem" <<'PYTHON' || fail "Azure SDK over https"
import datetime, os, sys
from azure.storage.blob import BlobClient, BlobServiceClient, BlobSasPermissions, generate_blob_sas
address, account, key, ca = sys.argv[1:5]
service = BlobServiceClient.from_connection_string(
    f"DefaultEndpointsProtocol=https;AccountName={account};AccountKey={key};BlobEndpoint=https://{address}/{account};",
    connection_verify=ca)
container = service.create_container("tls-data")
data = os.urandom(70 * 1024 * 1024)
blob = container.get_blob_client("big.bin")
blob.upload_blob(data, max_concurrency=4)
assert blob.download_blob(max_concurrency=4).readall() == data
sas = generate_blob_sas(account, "tls-data", "big.bin", account_key=key, permission=BlobSasPermissions(read=True),
                        expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1), protocol="https")
by_sas = BlobClient.from_blob_url(f"https://{address}/{account}/tls-data/big.bin?{sas}", connection_verify=ca)
assert by_sas.download_blob(offset=0, length=4096).readall() == data[:4096]
print("tls azure: ok")
PYTHON

kill -TERM "$server_pid"
wait "$server_pid" || fail "server exit status $?"
server_pid=""
echo "tls_clients: ok"
