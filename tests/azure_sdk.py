"""The Azure Blob gateway through Debian's python3-azure (azure-storage-blob 12.15): containers
and their metadata, upload_blob below and above 64 MiB (Put Blob, and Put Block + Put Block
List), downloads whole, ranged, parallel and empty, listings and walks with pages, properties
and metadata, conditions, staged blocks with committed ones reused, service and account SAS,
public containers, the authentication matrix (no signature, wrong key, an altered signed header,
an expired SAS, a skewed clock, an unknown x-ms-version), and objects shared with S3.
Run by tests/azure_clients.sh: azure_sdk.py AZURE_ENDPOINT ACCOUNT KEY S3_ENDPOINT S3_KEY S3_SECRET."""
import base64
import datetime
import hashlib
import http.client
import os
import sys
import urllib.parse

import boto3
from botocore.config import Config
from azure.core import MatchConditions
from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError, ResourceExistsError,
                                   ResourceModifiedError, ResourceNotFoundError)
from azure.core.pipeline import PipelineContext, PipelineRequest
from azure.core.pipeline.transport import HttpRequest
from azure.storage.blob import (AccountSasPermissions, BlobBlock, BlobClient, BlobSasPermissions, BlobServiceClient,
                                ContainerClient, ContainerSasPermissions, ContentSettings, ResourceTypes,
                                generate_account_sas, generate_blob_sas, generate_container_sas)
from azure.storage.blob._shared.authentication import SharedKeyCredentialPolicy

endpoint, account, key, s3_endpoint, s3_key, s3_secret = sys.argv[1:7]
connection = (f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={key};"
              f"BlobEndpoint={endpoint}/{account};")
service = BlobServiceClient.from_connection_string(connection, retry_total=0)
now = lambda: datetime.datetime.now(datetime.timezone.utc)  # noqa: E731


def expect(error_type, code, call):
    try:
        call()
    except error_type as error:
        got = getattr(error, "error_code", None)
        assert code is None or got == code, f"want {code}, got {got}: {error}"
        return error
    raise AssertionError(f"want {error_type.__name__} {code}, the call succeeded")


# --- containers
data = service.create_container("sdk-data", metadata={"Team": "vision", "cost_centre": "42"})
expect(ResourceExistsError, "ContainerAlreadyExists", lambda: service.create_container("sdk-data"))
expect(HttpResponseError, "InvalidResourceName", lambda: service.create_container("Bad_Name"))
expect(ResourceNotFoundError, "ContainerNotFound", lambda: service.get_container_client("absent").get_container_properties())
listed = {c.name: c for c in service.list_containers(name_starts_with="sdk", include_metadata=True)}
assert "sdk-data" in listed and listed["sdk-data"].metadata == {"Team": "vision", "cost_centre": "42"}, listed
properties = data.get_container_properties()
assert properties.metadata == {"Team": "vision", "cost_centre": "42"}, properties.metadata  # names keep their case
data.set_container_metadata({"Team": "speech"})
assert data.get_container_properties().metadata == {"Team": "speech"}
for i in range(5):
    service.create_container(f"sdk-page-{i}")
pages = list(service.list_containers(name_starts_with="sdk-page-", results_per_page=2).by_page())
assert len(pages) == 3 and [c.name for page in pages for c in page] == [f"sdk-page-{i}" for i in range(5)]

# --- Put Blob, properties, metadata, downloads
small = data.get_blob_client("dir/small file.txt")
settings = ContentSettings(content_type="text/plain", content_encoding="identity", content_language="en",
                           cache_control="no-cache", content_disposition="inline")
small.upload_blob(b"hello, blob world", metadata={"Owner": "ci"}, content_settings=settings)
props = small.get_blob_properties()
assert props.size == 17 and props.metadata == {"Owner": "ci"}, props
assert props.content_settings.content_type == "text/plain" and props.content_settings.cache_control == "no-cache"
assert props.content_settings.content_language == "en" and props.content_settings.content_disposition == "inline"
assert bytes(props.content_settings.content_md5) == hashlib.md5(b"hello, blob world").digest()
assert props.blob_type == "BlockBlob"
assert small.download_blob().readall() == b"hello, blob world"
assert small.download_blob(offset=7, length=4).readall() == b"blob"
assert small.download_blob(offset=7).readall() == b"blob world"
# upload_blob does not overwrite unless told to (If-None-Match: *).
expect(ResourceExistsError, "BlobAlreadyExists", lambda: small.upload_blob(b"again"))
small.upload_blob(b"replaced", overwrite=True)
assert small.download_blob().readall() == b"replaced"
expect(HttpResponseError, "Md5Mismatch",
       lambda: data.get_blob_client("md5").upload_blob(b"x", overwrite=True, content_settings=ContentSettings(),
                                                       headers={"Content-MD5": base64.b64encode(b"0" * 16).decode()}))
empty = data.get_blob_client("empty")
empty.upload_blob(b"")
assert empty.download_blob().readall() == b""  # the SDK's first ranged GET gets 416 and retries whole
assert empty.get_blob_properties().size == 0

# Over 64 MiB: Put Block in 4 MiB chunks (in parallel) and Put Block List.
large_bytes = os.urandom(72 * 1024 * 1024 + 12345)
large = data.get_blob_client("large.bin")
large.upload_blob(large_bytes, max_concurrency=4, metadata={"kind": "large"},
                  content_settings=ContentSettings(content_type="application/x-large", cache_control="max-age=60"))
committed, uncommitted = large.get_block_list("all")
assert len(committed) == 19 and not uncommitted, (len(committed), len(uncommitted))
assert sum(block.size for block in committed) == len(large_bytes)
assert large.download_blob(max_concurrency=4).readall() == large_bytes
assert large.download_blob(offset=40 * 1024 * 1024 - 3, length=10).readall() == large_bytes[40 * 1024 * 1024 - 3:][:10]
props = large.get_blob_properties()  # Put Block List carries the properties
assert props.metadata == {"kind": "large"} and props.content_settings.content_type == "application/x-large", props
assert props.content_settings.cache_control == "max-age=60", props.content_settings

# --- staged blocks, committed blocks reused without re-uploading them
staged = data.get_blob_client("staged")
block_a, block_b, block_c = (base64.b64encode(name.encode()).decode() for name in ("block-a", "block-b", "block-c"))
staged.stage_block(block_a, b"AAAA")
staged.stage_block(block_b, b"BB")
committed, uncommitted = staged.get_block_list("all")
assert not committed and sorted(b.id for b in uncommitted) == sorted([block_a, block_b])
expect(ResourceNotFoundError, "BlobNotFound", staged.get_blob_properties)  # invisible until committed
staged.commit_block_list([BlobBlock(block_a), BlobBlock(block_b)])
assert staged.download_blob().readall() == b"AAAABB"
staged.stage_block(block_c, b"C")
staged.commit_block_list([BlobBlock(block_b), BlobBlock(block_c), BlobBlock(block_a)])
assert staged.download_blob().readall() == b"BBCAAAA"
assert [b.id for b in staged.get_block_list("committed")[0]] == [block_b, block_c, block_a]
expect(HttpResponseError, "InvalidBlockList",
       lambda: staged.commit_block_list([BlobBlock(base64.b64encode(b"never-staged").decode())]))

# --- listings: prefixes, walks, pages, metadata
for name in ("walk/a/1", "walk/a/2", "walk/b", "walk/c/3", "walk/d"):
    data.upload_blob(name, name.encode(), metadata={"path": name.replace("/", "_")})
names = [b.name for b in data.list_blobs(name_starts_with="walk/")]
assert names == ["walk/a/1", "walk/a/2", "walk/b", "walk/c/3", "walk/d"], names
with_metadata = list(data.list_blobs(name_starts_with="walk/", include=["metadata"]))
assert with_metadata[0].metadata == {"path": "walk_a_1"}, with_metadata[0].metadata
assert with_metadata[0].etag.strip('"') == data.get_blob_client("walk/a/1").get_blob_properties().etag.strip('"')
pages = list(data.list_blobs(name_starts_with="walk/", results_per_page=2).by_page())
assert [len(list(page)) for page in pages] == [2, 2, 1]
top = sorted(item.name for item in data.walk_blobs(name_starts_with="walk/", delimiter="/"))
assert top == ["walk/a/", "walk/b", "walk/c/", "walk/d"], top
walked = []


def walk(prefix):
    for item in data.walk_blobs(name_starts_with=prefix, delimiter="/"):
        if item.name.endswith("/"):
            walk(item.name)
        else:
            walked.append(item.name)


walk("walk/")
assert sorted(walked) == names, walked

# --- properties, metadata and conditions
etag = small.get_blob_properties().etag
small.set_blob_metadata({"Stage": "two"}, etag=etag, match_condition=MatchConditions.IfNotModified)
assert small.get_blob_properties().metadata == {"Stage": "two"}
expect(ResourceModifiedError, "ConditionNotMet",
       lambda: small.set_blob_metadata({"x": "y"}, etag='"0x0"', match_condition=MatchConditions.IfNotModified))
small.set_http_headers(ContentSettings(content_type="application/json"))
props = small.get_blob_properties()
assert props.content_settings.content_type == "application/json" and props.content_settings.cache_control is None, props
assert small.download_blob().readall() == b"replaced"
expect(ResourceModifiedError, "ConditionNotMet",
       lambda: small.download_blob(etag='"0x0"', match_condition=MatchConditions.IfNotModified))
expect(ResourceModifiedError, "ConditionNotMet",  # 304, which the SDK reports so
       lambda: small.download_blob(etag=props.etag, match_condition=MatchConditions.IfModified))
expect(ResourceModifiedError, "ConditionNotMet",  # 304, which the SDK reports so
       lambda: small.download_blob(if_modified_since=now() + datetime.timedelta(hours=1)))
assert small.download_blob(if_unmodified_since=now() + datetime.timedelta(hours=1)).readall() == b"replaced"
expect(ResourceModifiedError, "ConditionNotMet",
       lambda: small.upload_blob(b"x", overwrite=True, if_unmodified_since=now() - datetime.timedelta(hours=1)))
expect(ResourceModifiedError, "ConditionNotMet",
       lambda: small.delete_blob(etag='"0x0"', match_condition=MatchConditions.IfNotModified))
assert small.exists()

# --- server-side copies (synchronous: the status is success at once)
copy = data.get_blob_client("copy of small")
result = copy.start_copy_from_url(small.url)
assert result["copy_status"] == "success", result
assert copy.download_blob().readall() == b"replaced"
assert copy.get_blob_properties().metadata == {"Stage": "two"}
copy.start_copy_from_url(staged.url, metadata={"Copied": "yes"}, requires_sync=True)
assert copy.download_blob().readall() == b"BBCAAAA" and copy.get_blob_properties().metadata == {"Copied": "yes"}
expect(ResourceNotFoundError, "CannotVerifyCopySource",
       lambda: copy.start_copy_from_url(data.get_blob_client("no such blob").url))

# --- SAS
start, expiry = now() - datetime.timedelta(minutes=5), now() + datetime.timedelta(hours=1)
read_sas = generate_blob_sas(account, "sdk-data", "large.bin", account_key=key,
                             permission=BlobSasPermissions(read=True), expiry=expiry, start=start)
by_sas = BlobClient.from_blob_url(f"{endpoint}/{account}/sdk-data/large.bin?{read_sas}")
assert by_sas.download_blob(offset=0, length=1000).readall() == large_bytes[:1000]
assert by_sas.get_blob_properties().size == len(large_bytes)
other = BlobClient.from_blob_url(f"{endpoint}/{account}/sdk-data/empty?{read_sas}")
expect(ClientAuthenticationError, "AuthenticationFailed", other.get_blob_properties)  # signed for another blob
expect(HttpResponseError, "AuthorizationPermissionMismatch", lambda: by_sas.upload_blob(b"x", overwrite=True))
expired_sas = generate_blob_sas(account, "sdk-data", "large.bin", account_key=key, permission=BlobSasPermissions(read=True),
                                expiry=now() - datetime.timedelta(minutes=1), start=now() - datetime.timedelta(hours=1))
expired = BlobClient.from_blob_url(f"{endpoint}/{account}/sdk-data/large.bin?{expired_sas}")
expect(ClientAuthenticationError, "AuthenticationFailed", expired.get_blob_properties)
forged = BlobClient.from_blob_url(f"{endpoint}/{account}/sdk-data/large.bin?{read_sas.replace('sp=r', 'sp=rw')}")
expect(ClientAuthenticationError, "AuthenticationFailed", forged.get_blob_properties)
container_sas = generate_container_sas(account, "sdk-data", account_key=key,
                                       permission=ContainerSasPermissions(read=True, write=True, list=True), expiry=expiry)
by_container_sas = ContainerClient.from_container_url(f"{endpoint}/{account}/sdk-data?{container_sas}")
assert len(list(by_container_sas.list_blobs(name_starts_with="walk/"))) == 5
by_container_sas.upload_blob("via-sas", b"written with a container SAS")
assert data.get_blob_client("via-sas").download_blob().readall() == b"written with a container SAS"
expect(HttpResponseError, "AuthorizationPermissionMismatch", lambda: by_container_sas.delete_blob("via-sas"))
account_sas = generate_account_sas(account, key, ResourceTypes(service=True, container=True, object=True),
                                   AccountSasPermissions(read=True, list=True), expiry=expiry)
by_account_sas = BlobServiceClient(f"{endpoint}/{account}", credential=account_sas)
assert "sdk-data" in [c.name for c in by_account_sas.list_containers()]
expect(HttpResponseError, "AuthorizationPermissionMismatch", lambda: by_account_sas.create_container("sdk-denied"))
object_only = generate_account_sas(account, key, ResourceTypes(object=True), AccountSasPermissions(read=True, list=True),
                                   expiry=expiry)
expect(HttpResponseError, "AuthorizationResourceTypeMismatch",
       lambda: list(BlobServiceClient(f"{endpoint}/{account}", credential=object_only).list_containers()))
create_sas = generate_blob_sas(account, "sdk-data", "created-by-sas", account_key=key,
                               permission=BlobSasPermissions(create=True), expiry=expiry)
created = BlobClient.from_blob_url(f"{endpoint}/{account}/sdk-data/created-by-sas?{create_sas}")
created.upload_blob(b"new")  # 'c' creates...
expect(ResourceExistsError, "BlobAlreadyExists", lambda: created.upload_blob(b"again", overwrite=True))  # ...never replaces
add_sas = generate_blob_sas(account, "sdk-data", "created-by-sas", account_key=key,
                            permission=BlobSasPermissions(add=True), expiry=expiry)
expect(HttpResponseError, "AuthorizationPermissionMismatch",  # 'a' is for append blobs
       lambda: BlobClient.from_blob_url(f"{endpoint}/{account}/sdk-data/created-by-sas?{add_sas}").upload_blob(
           b"x", overwrite=True))
https_only = generate_blob_sas(account, "sdk-data", "large.bin", account_key=key, permission=BlobSasPermissions(read=True),
                               expiry=expiry, protocol="https")
expect(HttpResponseError, "AuthorizationProtocolMismatch",
       BlobClient.from_blob_url(f"{endpoint}/{account}/sdk-data/large.bin?{https_only}").get_blob_properties)
ip_sas = generate_blob_sas(account, "sdk-data", "large.bin", account_key=key, permission=BlobSasPermissions(read=True),
                           expiry=expiry, ip="10.1.2.3")
expect(HttpResponseError, "AuthorizationSourceIPMismatch",
       BlobClient.from_blob_url(f"{endpoint}/{account}/sdk-data/large.bin?{ip_sas}").get_blob_properties)

# --- public containers and anonymous requests
public = service.create_container("sdk-public", public_access="container")
public.upload_blob("open.txt", b"anyone may read")
anonymous = ContainerClient.from_container_url(f"{endpoint}/{account}/sdk-public")
assert anonymous.get_blob_client("open.txt").download_blob().readall() == b"anyone may read"
assert [b.name for b in anonymous.list_blobs()] == ["open.txt"]
expect(HttpResponseError, "NoAuthenticationInformation", lambda: anonymous.upload_blob("x", b"no"))
blobs_only = service.create_container("sdk-public-blobs", public_access="blob")
blobs_only.upload_blob("open.txt", b"readable, not listable")
anonymous_blobs = ContainerClient.from_container_url(f"{endpoint}/{account}/sdk-public-blobs")
assert anonymous_blobs.get_blob_client("open.txt").download_blob().readall() == b"readable, not listable"
expect(HttpResponseError, "NoAuthenticationInformation", lambda: list(anonymous_blobs.list_blobs()))
assert blobs_only.get_container_properties().public_access == "blob"
private_anonymous = BlobClient.from_blob_url(f"{endpoint}/{account}/sdk-data/large.bin")
expect(HttpResponseError, "NoAuthenticationInformation", private_anonymous.get_blob_properties)

# --- the authentication matrix with SharedKey
wrong_key = base64.b64encode(os.urandom(64)).decode()
wrong = BlobServiceClient(f"{endpoint}/{account}", credential={"account_name": account, "account_key": wrong_key},
                          retry_total=0)
expect(ClientAuthenticationError, "AuthenticationFailed", lambda: list(wrong.list_containers()))
host = urllib.parse.urlparse(endpoint).netloc


def signed_request(method, path, headers, body=b""):
    """Headers signed by the SDK's own SharedKey policy, to be altered before they are sent."""
    request = HttpRequest(method, f"{endpoint}{path}", headers=headers)
    SharedKeyCredentialPolicy(account, key).on_request(PipelineRequest(request, PipelineContext(None)))
    return dict(request.headers)


def send(method, path, headers, body=b""):
    connection = http.client.HTTPConnection(host, timeout=30)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, response.getheader("x-ms-error-code")


date = now().strftime("%a, %d %b %Y %H:%M:%S GMT")
path = f"/{account}/sdk-data/dir/small%20file.txt"
headers = signed_request("GET", path, {"x-ms-version": "2021-12-02", "x-ms-date": date, "x-ms-meta-probe": "a"})
assert send("GET", path, headers) == (200, None)
assert send("GET", path, {**headers, "x-ms-meta-probe": "b"}) == (403, "AuthenticationFailed")  # altered header
assert send("GET", path, {k: v for k, v in headers.items() if k != "Authorization"}) == (403, "NoAuthenticationInformation")
old = (now() - datetime.timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
skewed = signed_request("GET", path, {"x-ms-version": "2021-12-02", "x-ms-date": old})
assert send("GET", path, skewed) == (403, "AuthenticationFailed")  # a skewed clock
future = signed_request("GET", path, {"x-ms-version": "2099-01-01", "x-ms-date": date})
assert send("GET", path, future) == (400, "InvalidHeaderValue")
bad_block = f"{path}?comp=block&blockid=not%20base64%21"
assert send("PUT", bad_block, signed_request("PUT", bad_block, {"x-ms-version": "2021-12-02", "x-ms-date": date,
                                                                 "Content-Length": "1"}), b"x") == (400, "InvalidQueryParameterValue")
bogus = signed_request("GET", f"/otheraccount/sdk-data/x", {"x-ms-version": "2021-12-02", "x-ms-date": date})
assert send("GET", "/otheraccount/sdk-data/x", bogus)[0] == 400

# --- one namespace: Azure and S3 see the same objects
s3 = boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id=s3_key, aws_secret_access_key=s3_secret,
                  region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
assert s3.get_object(Bucket="sdk-data", Key="large.bin")["Body"].read() == large_bytes
s3.put_object(Bucket="sdk-data", Key="from-s3.txt", Body=b"put through S3", ContentType="text/x-s3")
from_s3 = data.get_blob_client("from-s3.txt")
assert from_s3.download_blob().readall() == b"put through S3"
assert from_s3.get_blob_properties().content_settings.content_type == "text/x-s3"

# --- deletes
staged.delete_blob()
assert not staged.exists()
expect(ResourceNotFoundError, "BlobNotFound", staged.delete_blob)
service.delete_container("sdk-data")  # with its blobs, as the service does
expect(ResourceNotFoundError, "ContainerNotFound", data.get_container_properties)
print("azure_sdk: ok")
