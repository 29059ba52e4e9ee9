#!/usr/bin/env bash
# The S3 gateway with real S3 clients, unchanged: awscli (s3api, and s3 cp / sync / ls / rm / mv),
# s3cmd, rclone's S3 remote and boto3 (tests/s3_boto3.py: round trips, listings, conditions, presigned URLs and the
# authentication matrix). An object put through S3 reads back through the native CLI.
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
server_alive() { kill -0 "$server_pid" 2>/dev/null || fail "the server died"; }

"$cerulean" server --rpc-port 0 --resp-port -1 --s3-port 0 --azure-port -1 --data "$work/data" > "$work/server.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 100); do
  port=$(grep -o ' s3=[0-9.]*:[0-9]*' "$work/server.log" | head -1 | cut -d: -f2 || true)
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || fail "server exited at start"
  sleep 0.1
done
[ -n "$port" ] || fail "server did not report its S3 port"
rpc=$(grep -o ' rpc=[0-9.]*:[0-9]*' "$work/server.log" | head -1 | cut -d= -f2)
grep -q "s3 access key:" "$work/server.log" || fail "first start did not print the new credentials"

credential() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/data/credentials.json" "$1"; }
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
AWS_ACCESS_KEY_ID=$(credential s3_access_key)
AWS_SECRET_ACCESS_KEY=$(credential s3_secret_key)
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
endpoint="http://127.0.0.1:$port"
aws() { /usr/bin/aws --endpoint-url "$endpoint" "$@"; }

# --- awscli s3api
aws s3api create-bucket --bucket cli-bucket > /dev/null || fail "create-bucket"
out=$(aws s3api create-bucket --bucket cli-bucket 2>&1) && fail "second create-bucket succeeded"
echo "$out" | grep -q BucketAlreadyOwnedByYou || fail "second create-bucket: $out"
out=$(aws s3api create-bucket --bucket Bad_Name 2>&1) && fail "bad bucket name accepted"
echo "$out" | grep -q InvalidBucketName || fail "bad bucket name: $out"
# (Output is captured before it is matched: with pipefail, grep -q stopping early would fail
# the pipeline through the writer's SIGPIPE now and then.)
out=$(aws s3api list-buckets --query 'Buckets[].Name' --output text)
echo "$out" | grep -qw cli-bucket || fail "list-buckets: $out"
aws s3api head-bucket --bucket cli-bucket || fail "head-bucket"
head -c 3000000 /dev/urandom > "$work/random.bin"
etag=$(aws s3api put-object --bucket cli-bucket --key 'dir/ümlaut file.bin' --body "$work/random.bin" \
         --content-type application/x-test --metadata owner=ci --query ETag --output text)
[ "$etag" = "\"$(md5sum < "$work/random.bin" | cut -d' ' -f1)\"" ] || fail "ETag $etag is not the MD5"
aws s3api head-object --bucket cli-bucket --key 'dir/ümlaut file.bin' > "$work/head.json"
grep -q '"ContentLength": 3000000' "$work/head.json" || fail "head-object size"
grep -q '"owner": "ci"' "$work/head.json" || fail "head-object metadata"
grep -q '"ContentType": "application/x-test"' "$work/head.json" || fail "head-object content type"
aws s3api get-object --bucket cli-bucket --key 'dir/ümlaut file.bin' "$work/back.bin" > /dev/null
cmp "$work/random.bin" "$work/back.bin" || fail "get-object bytes"
aws s3api get-object --bucket cli-bucket --key 'dir/ümlaut file.bin' --range bytes=1000-1999 "$work/part.bin" > /dev/null
cmp <(tail -c +1001 "$work/random.bin" | head -c 1000) "$work/part.bin" || fail "ranged get-object"
out=$(aws s3api get-object --bucket cli-bucket --key missing "$work/x" 2>&1) && fail "missing key read"
echo "$out" | grep -q NoSuchKey || fail "missing key: $out"
out=$(aws s3api get-object --bucket cli-bucket --key 'dir/ümlaut file.bin' --range bytes=5000000-5000001 "$work/x" 2>&1) \
  && fail "unsatisfiable range served"
echo "$out" | grep -q InvalidRange || fail "unsatisfiable range: $out"
for i in $(seq 1 12); do
  echo "object $i" > "$work/small"
  aws s3api put-object --bucket cli-bucket --key "list/k$(printf %02d "$i")" --body "$work/small" > /dev/null
done
count=$(aws s3api list-objects-v2 --bucket cli-bucket --prefix list/ --page-size 5 --query 'length(Contents)' --output json)
[ "$count" = 12 ] || fail "list-objects-v2 across pages gave $count"
count=$(aws s3api list-objects --bucket cli-bucket --prefix list/ --page-size 5 --query 'length(Contents)' --output json)
[ "$count" = 12 ] || fail "list-objects (v1) across pages gave $count"
prefixes=$(aws s3api list-objects-v2 --bucket cli-bucket --delimiter / --query 'CommonPrefixes[].Prefix' --output text)
[ "$prefixes" = "$(printf 'dir/\tlist/')" ] || fail "common prefixes: $prefixes"
aws s3api delete-object --bucket cli-bucket --key list/k01 || fail "delete-object"
aws s3api delete-object --bucket cli-bucket --key list/k01 || fail "delete of a missing key must succeed"
out=$(aws s3api delete-bucket --bucket cli-bucket 2>&1) && fail "non-empty bucket deleted"
echo "$out" | grep -q BucketNotEmpty || fail "non-empty delete: $out"

# --- awscli s3: cp, sync, ls, rm (files over 8 MiB go as multipart uploads)
mkdir -p "$work/tree/sub"
for i in 1 2 3; do head -c $((i * 100000)) /dev/urandom > "$work/tree/f$i"; done
head -c 17000000 /dev/urandom > "$work/tree/sub/large"
head -c 21000000 /dev/urandom > "$work/big.bin"
aws s3 cp "$work/big.bin" s3://cli-bucket/big.bin --no-progress > /dev/null || fail "s3 cp (multipart) up"
etag=$(aws s3api head-object --bucket cli-bucket --key big.bin --query ETag --output text)
[[ "$etag" == *-3\" ]] || fail "a 21 MB upload in 8 MiB parts should have a 3-part ETag, not $etag"
aws s3 cp s3://cli-bucket/big.bin "$work/big.back" --no-progress > /dev/null || fail "s3 cp (multipart) down"
cmp "$work/big.bin" "$work/big.back" || fail "multipart bytes"
[ -z "$(aws s3api list-multipart-uploads --bucket cli-bucket --query 'Uploads[].UploadId' --output text | grep -v None)" ] \
  || fail "completed uploads are still listed"
head -c 5000 /dev/urandom > "$work/tree/sub/g"
aws s3 cp "$work/random.bin" s3://cli-bucket/copied.bin > /dev/null || fail "s3 cp up"
aws s3 cp s3://cli-bucket/copied.bin "$work/copied.bin" > /dev/null || fail "s3 cp down"
cmp "$work/random.bin" "$work/copied.bin" || fail "s3 cp bytes"
aws s3 sync "$work/tree" s3://cli-bucket/tree > /dev/null || fail "s3 sync up"
aws s3 sync s3://cli-bucket/tree "$work/tree-back" > /dev/null || fail "s3 sync down"
diff -r "$work/tree" "$work/tree-back" || fail "s3 sync round trip"
again=$(aws s3 sync "$work/tree" s3://cli-bucket/tree)
[ -z "$again" ] || fail "a second sync copied again: $again"
out=$(aws s3 ls s3://cli-bucket/tree/ --recursive)
echo "$out" | grep -q "tree/sub/g" || fail "s3 ls: $out"
aws s3 rm s3://cli-bucket/tree --recursive > /dev/null || fail "s3 rm --recursive"

# --- server-side copies (over 8 MiB, awscli copies in parts: UploadPartCopy), multi-delete, versions
out=$(aws s3 cp s3://cli-bucket/big.bin s3://cli-bucket/big-copy.bin --no-progress 2>&1) || fail "s3 cp (part copy): $out"
aws s3 cp s3://cli-bucket/big-copy.bin "$work/big.copy" --no-progress > /dev/null || fail "s3 cp of the copy down"
cmp "$work/big.bin" "$work/big.copy" || fail "part-copied bytes"
aws s3api copy-object --bucket cli-bucket --key small-copy.bin --copy-source 'cli-bucket/dir/ümlaut file.bin' > /dev/null \
  || fail "copy-object"
out=$(aws s3api head-object --bucket cli-bucket --key small-copy.bin --query '[ContentLength,ContentType,Metadata.owner]' --output json)
[ "$(echo $out | tr -d ' \n')" = '[3000000,"application/x-test","ci"]' ] || fail "copy-object kept: $out"
aws s3 mv s3://cli-bucket/small-copy.bin s3://cli-bucket/moved.bin > /dev/null || fail "s3 mv"
out=$(aws s3api list-object-versions --bucket cli-bucket --prefix moved --query 'Versions[].[Key,VersionId,IsLatest]' --output json)
[ "$(echo $out | tr -d ' \n')" = '[["moved.bin","null",true]]' ] || fail "list-object-versions: $out"
out=$(aws s3api delete-objects --bucket cli-bucket --delete 'Objects=[{Key=moved.bin},{Key=big-copy.bin},{Key=never-there}]' \
        --query 'length(Deleted)' --output json) || fail "delete-objects"
[ "$out" = 3 ] || fail "delete-objects deleted $out"
out=$(aws s3api head-object --bucket cli-bucket --key moved.bin 2>&1) && fail "a multi-deleted object is still there"

# --- s3cmd (path style, SigV4, multipart in 5 MiB chunks)
cat > "$work/s3cfg" <<CONFIG
[default]
access_key = $AWS_ACCESS_KEY_ID
secret_key = $AWS_SECRET_ACCESS_KEY
host_base = 127.0.0.1:$port
host_bucket = 127.0.0.1:$port
use_https = False
signature_v2 = False
bucket_location = us-east-1
CONFIG
s3cmd() { command s3cmd -c "$work/s3cfg" --no-progress "$@"; }
s3cmd mb s3://s3cmd-bucket > /dev/null || fail "s3cmd mb"
s3cmd put --multipart-chunk-size-mb=5 "$work/big.bin" s3://s3cmd-bucket/big.bin > /dev/null || fail "s3cmd put (multipart)"
s3cmd put "$work/random.bin" s3://s3cmd-bucket/dir/random.bin > /dev/null || fail "s3cmd put"
out=$(s3cmd ls --recursive s3://s3cmd-bucket) || fail "s3cmd ls"
echo "$out" | grep -q "s3://s3cmd-bucket/dir/random.bin" || fail "s3cmd ls: $out"
s3cmd get s3://s3cmd-bucket/big.bin "$work/s3cmd.bin" > /dev/null || fail "s3cmd get"
cmp "$work/big.bin" "$work/s3cmd.bin" || fail "s3cmd bytes"
s3cmd info s3://s3cmd-bucket/dir/random.bin > /dev/null || fail "s3cmd info"
s3cmd del --recursive --force s3://s3cmd-bucket > /dev/null || fail "s3cmd del"
s3cmd rb s3://s3cmd-bucket > /dev/null || fail "s3cmd rb"

# --- rclone's S3 remote (rclone refuses AWS_CA_BUNDLE with its own transport; plain HTTP needs none)
(
  unset AWS_CA_BUNDLE
  export RCLONE_CONFIG=/dev/null RCLONE_CONFIG_S3_TYPE=s3 RCLONE_CONFIG_S3_PROVIDER=Other \
    RCLONE_CONFIG_S3_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" RCLONE_CONFIG_S3_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" \
    RCLONE_CONFIG_S3_ENDPOINT="$endpoint"
  rclone mkdir s3:rclone-bucket || fail "rclone mkdir"
  rclone copy "$work/tree" s3:rclone-bucket/tree || fail "rclone copy up"
  out=$(rclone check "$work/tree" s3:rclone-bucket/tree 2>&1) || fail "rclone check: $out"
  echo "$out" | grep -q "0 differences found" || fail "rclone check: $out"
  rclone copy s3:rclone-bucket/tree "$work/rclone-back" || fail "rclone copy down"
  diff -r "$work/tree" "$work/rclone-back" || fail "rclone round trip"
  rclone purge s3:rclone-bucket || fail "rclone purge"
) || exit 1

# --- the same objects through the native CLI
"$cerulean" get --meta "$rpc" "cli-bucket/copied.bin" "$work/native.bin" > /dev/null || fail "native get of an S3 object"
cmp "$work/random.bin" "$work/native.bin" || fail "native bytes of an S3 object"

# --- boto3: round trips, conditions, presigned URLs, the authentication matrix
/usr/bin/python3 "$here/s3_boto3.py" "$endpoint" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" || fail "boto3"

kill -TERM "$server_pid"
wait "$server_pid" || fail "server exit status"
server_pid=""
echo "s3_clients: ok"
