"""PUT and GET of 64 MiB objects through the gateways with the SDKs users run (boto3's managed
transfers with threads, the Azure SDK's upload_blob/download_blob with max_concurrency), each
timed over several objects; the median of the repeats is printed as JSON for bench/http/run.sh.
Also prepares the public bucket that wrk reads. Usage:
  sdk_bench.py setup S3_ENDPOINT S3_KEY S3_SECRET DIR     (bucket 'wrk' from DIR's files)
  sdk_bench.py sdk S3_ENDPOINT S3_KEY S3_SECRET AZURE_ENDPOINT ACCOUNT AZURE_KEY SIZE COUNT REPEATS"""
import io
import json
import os
import statistics
import sys
import time

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config


def s3_client(endpoint, key, secret):
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
                        region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"}, max_pool_connections=16,
                                      retries={"max_attempts": 1}))


def setup(endpoint, key, secret, directory):
    s3 = s3_client(endpoint, key, secret)
    s3.create_bucket(Bucket="wrk", ACL="public-read")
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as f:
            s3.put_object(Bucket="wrk", Key=name, Body=f.read())


def rate(seconds_list, total_bytes):
    return total_bytes / statistics.median(seconds_list)


def sdk(endpoint, key, secret, azure_endpoint, account, azure_key, size, count, repeats):
    from azure.storage.blob import BlobServiceClient
    data = os.urandom(size)
    s3 = s3_client(endpoint, key, secret)
    s3.create_bucket(Bucket="sdk-bench")
    transfer = TransferConfig(multipart_threshold=8 << 20, multipart_chunksize=8 << 20, max_concurrency=8)
    azure = BlobServiceClient.from_connection_string(
        f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={azure_key};"
        f"BlobEndpoint={azure_endpoint}/{account};")
    container = azure.create_container("sdk-bench-az")
    results = {}

    def timed(name, action):
        runs = []
        action(-1)  # warm-up: connections, first-touch memory
        for _ in range(repeats):
            start = time.perf_counter()
            for i in range(count):
                action(i)
            runs.append(time.perf_counter() - start)
        results[name] = rate(runs, size * count)

    timed("boto3_put", lambda i: s3.upload_fileobj(io.BytesIO(data), "sdk-bench", f"o{i}", Config=transfer))

    def boto3_get(i):
        out = io.BytesIO()
        s3.download_fileobj("sdk-bench", f"o{max(i, 0)}", out, Config=transfer)
        assert out.getbuffer().nbytes == size

    timed("boto3_get", boto3_get)
    timed("azure_put", lambda i: container.upload_blob(f"o{i}", data, overwrite=True, max_concurrency=8))

    def azure_get(i):
        assert len(container.download_blob(f"o{max(i, 0)}", max_concurrency=8).readall()) == size

    timed("azure_get", azure_get)
    print(json.dumps(results))


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        setup(*sys.argv[2:6])
    else:
        args = sys.argv[2:]
        sdk(*args[:6], int(args[6]), int(args[7]), int(args[8]))
