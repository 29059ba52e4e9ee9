"""The S3 gateway through boto3 (Debian's python3-boto3): round trips, ranges, conditions,
listings with awkward keys, presigned URLs, public-read buckets, and the authentication matrix
(no signature, wrong key, wrong secret, an altered signed header, an expired presigned URL, a
skewed clock). Run by tests/s3_clients.sh: s3_boto3.py ENDPOINT ACCESS_KEY SECRET_KEY."""
import base64
import datetime
import hashlib
import hmac
import http.client
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, access_key, secret_key = sys.argv[1:4]


def client(key=access_key, secret=secret_key):
    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret,
        region_name="us-east-1",
        # SigV4 for presigned URLs too (this botocore presigns S3 with SigV2 unless told).
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, signature_version="s3v4"))


def expect_error(code, status, call):
    try:
        call()
    except ClientError as error:
        got = error.response["Error"]["Code"]
        got_status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        assert (got, got_status) == (code, status), f"want {code} {status}, got {got} {got_status}: {error}"
        return
    raise AssertionError(f"want {code}, the call succeeded")


def http_status(url):
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


s3 = client()
bucket = "boto-bucket"
s3.create_bucket(Bucket=bucket)
body = bytes(range(256)) * 4000
put = s3.put_object(Bucket=bucket, Key="a/b.bin", Body=body, Metadata={"m": "1"}, ContentType="text/x-test")
got = s3.get_object(Bucket=bucket, Key="a/b.bin")
assert got["Body"].read() == body
assert got["Metadata"] == {"m": "1"} and got["ContentType"] == "text/x-test"
assert got["ETag"] == put["ETag"]

# Bodies of several pieces, which the gateway receives while it appends the piece before: every
# size round the piece boundary reads back whole, with the MD5 ETag; a Content-MD5 or a signed
# SHA-256 the body does not match stores nothing (and leaves an older object in place).
big_bucket = "boto-big"
s3.create_bucket(Bucket=big_bucket)
for size in [(8 << 20) - 1, 8 << 20, (8 << 20) + 1, (16 << 20) + 4097]:
    data = hashlib.sha256(str(size).encode()).digest() * (size // 32) + b"t" * (size % 32)
    put_big = s3.put_object(Bucket=big_bucket, Key=f"big/{size}", Body=data)
    assert put_big["ETag"] == f'"{hashlib.md5(data).hexdigest()}"', size
    assert s3.get_object(Bucket=big_bucket, Key=f"big/{size}")["Body"].read() == data, size
wrong_md5 = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
expect_error("BadDigest", 400, lambda: s3.put_object(Bucket=big_bucket, Key="big/bad-md5", Body=data, ContentMD5=wrong_md5))
expect_error("NoSuchKey", 404, lambda: s3.get_object(Bucket=big_bucket, Key="big/bad-md5"))
tampering = client()


def tamper_body(request, **kwargs):
    # After signing: the same length, one byte changed, so only the payload hash can tell.
    raw = request.body if isinstance(request.body, (bytes, bytearray)) else request.body.read()
    request.body = b"X" + raw[1:]


tampering.meta.events.register("before-send.s3.PutObject", tamper_body)
expect_error("XAmzContentSHA256Mismatch", 400, lambda: tampering.put_object(Bucket=big_bucket, Key=f"big/{len(data)}", Body=data))
assert s3.get_object(Bucket=big_bucket, Key=f"big/{len(data)}")["Body"].read() == data
tail = s3.get_object(Bucket=bucket, Key="a/b.bin", Range="bytes=-10")
assert tail["Body"].read() == body[-10:] and tail["ContentRange"] == f"bytes {len(body) - 10}-{len(body) - 1}/{len(body)}"
head = s3.head_object(Bucket=bucket, Key="a/b.bin")
assert head["ContentLength"] == len(body)
empty = s3.put_object(Bucket=bucket, Key="empty", Body=b"")
assert s3.get_object(Bucket=bucket, Key="empty")["Body"].read() == b""

# Conditions.
expect_error("PreconditionFailed", 412, lambda: s3.get_object(Bucket=bucket, Key="a/b.bin", IfMatch='"0123"'))
assert s3.get_object(Bucket=bucket, Key="a/b.bin", IfMatch=put["ETag"])["Body"].read() == body
try:
    s3.get_object(Bucket=bucket, Key="a/b.bin", IfNoneMatch=put["ETag"])
    raise AssertionError("If-None-Match of the current ETag served the object")
except ClientError as error:
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 304, error
expect_error("NoSuchKey", 404, lambda: s3.get_object(Bucket=bucket, Key="nothing"))
expect_error("NoSuchBucket", 404, lambda: s3.get_object(Bucket="no-such-bucket", Key="x"))
expect_error("NoSuchBucket", 404, lambda: s3.list_objects_v2(Bucket="no-such-bucket"))

# Listings with keys that need encoding, across pages (boto3 asks for encoding-type=url).
awkward = ["sp ace/one", "plus+and&amp.txt", "ünïcode/ключ", "percent%20literal", "tilde~/x", "a/b.bin", "empty"]
for key in awkward[:5]:
    s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
listed = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2})
          for o in page.get("Contents", [])]
assert sorted(listed) == sorted(awkward), listed
listed_v1 = [o["Key"] for page in s3.get_paginator("list_objects").paginate(Bucket=bucket, PaginationConfig={"PageSize": 3})
             for o in page.get("Contents", [])]
assert sorted(listed_v1) == sorted(awkward), listed_v1
for key in awkward[:5]:
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode(), key
folders = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
assert sorted(p["Prefix"] for p in folders["CommonPrefixes"]) == ["a/", "sp ace/", "tilde~/", "ünïcode/"], folders

# Multipart uploads: parts in any order, the S3 rules on completion, abort.
part_size = 5 * 1024 * 1024
parts_data = [bytes([65 + i]) * part_size for i in range(2)] + [b"tail"]
upload = s3.create_multipart_upload(Bucket=bucket, Key="multi.bin", ContentType="application/x-multi",
                                    Metadata={"kind": "multipart"})
upload_id = upload["UploadId"]
assert upload_id in [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
etags = {}
for number in (3, 1, 2):
    etags[number] = s3.upload_part(Bucket=bucket, Key="multi.bin", UploadId=upload_id, PartNumber=number,
                                   Body=parts_data[number - 1])["ETag"]
listed_parts = s3.list_parts(Bucket=bucket, Key="multi.bin", UploadId=upload_id)["Parts"]
assert [p["PartNumber"] for p in listed_parts] == [1, 2, 3] and listed_parts[2]["Size"] == 4, listed_parts
def complete(parts):
    return s3.complete_multipart_upload(Bucket=bucket, Key="multi.bin", UploadId=upload_id,
                                        MultipartUpload={"Parts": parts})
expect_error("InvalidPartOrder", 400, lambda: complete([{"PartNumber": 2, "ETag": etags[2]}, {"PartNumber": 1, "ETag": etags[1]}]))
expect_error("InvalidPart", 400, lambda: complete([{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]))
small_id = s3.create_multipart_upload(Bucket=bucket, Key="small.bin")["UploadId"]
small_etags = [s3.upload_part(Bucket=bucket, Key="small.bin", UploadId=small_id, PartNumber=n, Body=b"tiny")["ETag"]
               for n in (1, 2)]
expect_error("EntityTooSmall", 400, lambda: s3.complete_multipart_upload(
    Bucket=bucket, Key="small.bin", UploadId=small_id,
    MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), small_etags)]}))
s3.abort_multipart_upload(Bucket=bucket, Key="small.bin", UploadId=small_id)
done = complete([{"PartNumber": n, "ETag": etags[n]} for n in (1, 2, 3)])
assert done["ETag"].endswith('-3"'), done
whole = s3.get_object(Bucket=bucket, Key="multi.bin")
assert whole["Body"].read() == b"".join(parts_data)
assert whole["ContentType"] == "application/x-multi" and whole["Metadata"] == {"kind": "multipart"}
assert s3.get_object(Bucket=bucket, Key="multi.bin", Range=f"bytes={part_size - 2}-{part_size + 1}")["Body"].read() == b"AABB"
aborted = s3.create_multipart_upload(Bucket=bucket, Key="aborted.bin")["UploadId"]
s3.upload_part(Bucket=bucket, Key="aborted.bin", UploadId=aborted, PartNumber=1, Body=b"x")
s3.abort_multipart_upload(Bucket=bucket, Key="aborted.bin", UploadId=aborted)
expect_error("NoSuchUpload", 404, lambda: s3.list_parts(Bucket=bucket, Key="aborted.bin", UploadId=aborted))
expect_error("NoSuchKey", 404, lambda: s3.get_object(Bucket=bucket, Key="aborted.bin"))
s3.delete_object(Bucket=bucket, Key="multi.bin")

# aws-chunked bodies (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), signed here chunk by chunk as the
# S3 documentation describes: accepted whole, refused when a chunk is altered in flight.
def streaming_put(key_name, data, chunk_bytes=65536, tamper=False):
    host = urllib.parse.urlparse(endpoint).netloc
    amz_date = datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    chunks = [data[i:i + chunk_bytes] for i in range(0, len(data), chunk_bytes)] + [b""]
    body_bytes = sum(len(f"{len(c):x};chunk-signature=") + 64 + 2 + len(c) + 2 for c in chunks)
    path = f"/{bucket}/{key_name}"
    headers = {"host": host, "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "x-amz-date": amz_date,
               "x-amz-decoded-content-length": str(len(data)), "content-length": str(body_bytes),
               "content-encoding": "aws-chunked"}
    names = sorted(headers)
    canonical = "\n".join(["PUT", path, "", "".join(f"{h}:{headers[h]}\n" for h in names), ";".join(names),
                           "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret_key).encode()
    for part in (amz_date[:8], "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    previous = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                                f"SignedHeaders={';'.join(names)}, Signature={previous}")
    body = b""
    for index, chunk in enumerate(chunks):
        chunk_to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous,
                                   hashlib.sha256(b"").hexdigest(), hashlib.sha256(chunk).hexdigest()])
        previous = hmac.new(key, chunk_to_sign.encode(), hashlib.sha256).hexdigest()
        sent = chunk[:-1] + b"X" if tamper and index == 1 else chunk
        body += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + sent + b"\r\n"
    connection = http.client.HTTPConnection(host)
    connection.request("PUT", path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()

streamed = bytes(range(256)) * 800  # 204,800 bytes: three full chunks and a short one
status, data = streaming_put("streamed.bin", streamed)
assert status == 200, (status, data)
assert s3.get_object(Bucket=bucket, Key="streamed.bin")["Body"].read() == streamed
status, data = streaming_put("tampered.bin", streamed, tamper=True)
assert status == 403 and b"SignatureDoesNotMatch" in data, (status, data)
expect_error("NoSuchKey", 404, lambda: s3.get_object(Bucket=bucket, Key="tampered.bin"))
s3.delete_object(Bucket=bucket, Key="streamed.bin")

# Presigned URLs, and their expiry.
url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a/b.bin"}, ExpiresIn=60)
status, data = http_status(url)
assert status == 200 and data == body, (status, data[:300])
short = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a/b.bin"}, ExpiresIn=1)
time.sleep(2.1)
status, data = http_status(short)
assert status == 403 and b"AccessDenied" in data and b"expired" in data, (status, data)

# The authentication matrix.
status, data = http_status(f"{endpoint}/{bucket}/a/b.bin")
assert status == 403 and b"<Code>AccessDenied</Code>" in data, (status, data)
expect_error("InvalidAccessKeyId", 403, lambda: client(key="AKIAWRONGWRONGWRONG0").list_buckets())
expect_error("SignatureDoesNotMatch", 403, lambda: client(secret="x" * 40).list_buckets())
altered = client()
altered.meta.events.register(
    "before-send.s3.ListObjectsV2",
    lambda request, **_: request.headers.__setitem__("x-amz-content-sha256", "UNSIGNED-PAYLOAD"))
expect_error("SignatureDoesNotMatch", 403, lambda: altered.list_objects_v2(Bucket=bucket))
# A clock an hour behind: the request's time is checked before its signature.
skewed = client()
hour_ago = (datetime.datetime.utcnow() - datetime.timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ")
skewed.meta.events.register("before-send.s3.ListBuckets",
                            lambda request, **_: request.headers.__setitem__("X-Amz-Date", hour_ago))
expect_error("RequestTimeTooSkewed", 403, lambda: skewed.list_buckets())

# A public-read bucket serves anonymous reads, and only reads.
s3.create_bucket(Bucket="public-bucket", ACL="public-read")
s3.put_object(Bucket="public-bucket", Key="open.txt", Body=b"for all")
status, data = http_status(f"{endpoint}/public-bucket/open.txt")
assert status == 200 and data == b"for all", (status, data)
request = urllib.request.Request(f"{endpoint}/public-bucket/open.txt", data=b"no", method="PUT")
status, _ = http_status(request)
assert status == 403, status

# Server-side copies: COPY keeps the source's properties, REPLACE takes the request's; a copy onto
# itself must change something; copy conditions; part copies of ranges; multi-delete.
s3.put_object(Bucket=bucket, Key="copy/src", Body=body, Metadata={"m": "1"}, ContentType="text/x-test",
              ContentEncoding="gzip", CacheControl="max-age=5")
copied = s3.copy_object(Bucket=bucket, Key="copy/dst", CopySource={"Bucket": bucket, "Key": "copy/src"})
assert copied["CopyObjectResult"]["ETag"] == put["ETag"]  # the same bytes, the same MD5
dst = s3.get_object(Bucket=bucket, Key="copy/dst")
assert dst["Body"].read() == body and dst["Metadata"] == {"m": "1"} and dst["ContentType"] == "text/x-test"
assert dst["ContentEncoding"] == "gzip" and dst["CacheControl"] == "max-age=5"
s3.copy_object(Bucket=bucket, Key="copy/dst", CopySource=f"{bucket}/copy/src", MetadataDirective="REPLACE",
               Metadata={"n": "2"}, ContentType="application/x-new")
dst = s3.head_object(Bucket=bucket, Key="copy/dst")
assert dst["Metadata"] == {"n": "2"} and dst["ContentType"] == "application/x-new"
expect_error("InvalidRequest", 400, lambda: s3.copy_object(Bucket=bucket, Key="copy/src", CopySource=f"{bucket}/copy/src"))
s3.copy_object(Bucket=bucket, Key="copy/src", CopySource=f"{bucket}/copy/src", MetadataDirective="REPLACE",
               Metadata={"renamed": "yes"})
assert s3.head_object(Bucket=bucket, Key="copy/src")["Metadata"] == {"renamed": "yes"}
expect_error("PreconditionFailed", 412, lambda: s3.copy_object(Bucket=bucket, Key="copy/x", CopySource=f"{bucket}/copy/src",
                                                               CopySourceIfMatch='"0123"'))
expect_error("NoSuchKey", 404, lambda: s3.copy_object(Bucket=bucket, Key="copy/x", CopySource=f"{bucket}/copy/none"))
upload = s3.create_multipart_upload(Bucket=bucket, Key="copy/parts")["UploadId"]
big = bytes(range(251)) * 25000  # 6.3 MB: a first part of 5 MiB, then the rest
s3.put_object(Bucket=bucket, Key="copy/big", Body=big)
first = s3.upload_part_copy(Bucket=bucket, Key="copy/parts", UploadId=upload, PartNumber=1,
                            CopySource=f"{bucket}/copy/big", CopySourceRange=f"bytes=0-{5 * 1024 * 1024 - 1}")
second = s3.upload_part_copy(Bucket=bucket, Key="copy/parts", UploadId=upload, PartNumber=2,
                             CopySource=f"{bucket}/copy/big", CopySourceRange=f"bytes={5 * 1024 * 1024}-{len(big) - 1}")
expect_error("InvalidArgument", 400, lambda: s3.upload_part_copy(Bucket=bucket, Key="copy/parts", UploadId=upload, PartNumber=3,
                                                                 CopySource=f"{bucket}/copy/big",
                                                                 CopySourceRange=f"bytes=0-{len(big)}"))
s3.complete_multipart_upload(Bucket=bucket, Key="copy/parts", UploadId=upload, MultipartUpload={"Parts": [
    {"PartNumber": 1, "ETag": first["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": second["CopyPartResult"]["ETag"]}]})
assert s3.get_object(Bucket=bucket, Key="copy/parts")["Body"].read() == big
versions = s3.list_object_versions(Bucket=bucket, Prefix="copy/")
assert [v["Key"] for v in versions["Versions"]] == ["copy/big", "copy/dst", "copy/parts", "copy/src"]
assert all(v["VersionId"] == "null" and v["IsLatest"] for v in versions["Versions"])
deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in ("copy/big", "copy/dst", "copy/none")]})
assert sorted(d["Key"] for d in deleted["Deleted"]) == ["copy/big", "copy/dst", "copy/none"] and not deleted.get("Errors")
quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "copy/parts"}, {"Key": "copy/src"}], "Quiet": True})
assert not quiet.get("Deleted") and not quiet.get("Errors")
assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="copy/")
expect_error("NoSuchBucket", 404, lambda: s3.delete_objects(Bucket="no-such-bucket", Delete={"Objects": [{"Key": "k"}]}))

# Cleanup.
for key in awkward:
    s3.delete_object(Bucket=bucket, Key=key)
s3.delete_object(Bucket="public-bucket", Key="open.txt")
s3.delete_bucket(Bucket=bucket)
s3.delete_bucket(Bucket="public-bucket")
assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
print("s3_boto3: ok")
