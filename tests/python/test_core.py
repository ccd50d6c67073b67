"""The core S3 API through boto3: every operation of the foundation, its main errors, both
addressing styles, and restart persistence."""

import base64
import datetime
import hashlib
import os
import subprocess

import pytest
from botocore.exceptions import ClientError

from conftest import Server, error_code, status


def md5_etag(data):
    return '"' + hashlib.md5(data).hexdigest() + '"'


def test_bucket_lifecycle(s3):
    s3.create_bucket(Bucket="photos")
    s3.create_bucket(Bucket="videos")
    listed = s3.list_buckets()
    assert [b["Name"] for b in listed["Buckets"]] == ["photos", "videos"]
    assert isinstance(listed["Buckets"][0]["CreationDate"], datetime.datetime)
    assert len(listed["Owner"]["ID"]) == 64
    # us-east-1: re-creating your own bucket succeeds and keeps it as it was.
    s3.put_object(Bucket="photos", Key="kept", Body=b"x")
    s3.create_bucket(Bucket="photos")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="photos")["Contents"]] == ["kept"]
    s3.delete_object(Bucket="photos", Key="kept")
    page = s3.list_buckets(MaxBuckets=1)
    assert [b["Name"] for b in page["Buckets"]] == ["photos"]
    page = s3.list_buckets(MaxBuckets=1, ContinuationToken=page["ContinuationToken"])
    assert [b["Name"] for b in page["Buckets"]] == ["videos"] and "ContinuationToken" not in page
    assert s3.head_bucket(Bucket="photos")["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    assert s3.get_bucket_location(Bucket="photos")["LocationConstraint"] is None
    assert "Status" not in s3.get_bucket_versioning(Bucket="photos")
    s3.put_object(Bucket="photos", Key="cat.jpg", Body=b"meow")
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket="photos")
    assert error_code(e) == "BucketNotEmpty"
    s3.delete_object(Bucket="photos", Key="cat.jpg")
    s3.delete_bucket(Bucket="photos")
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket="photos")
    assert status(e) == 404
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket="photos")
    assert error_code(e) == "NoSuchBucket"


@pytest.mark.parametrize("name", ["ab", "UPPER", "under_score", "ends-", "1.2.3.4", "x" * 64, "a..b"])
def test_invalid_bucket_names(s3, name):
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=name)
    assert error_code(e) == "InvalidBucketName"
    assert status(e) == 400


def test_location_constraint_on_us_east_1_is_refused(s3):
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="west", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    assert error_code(e) == "IllegalLocationConstraintException"
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="east", CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert error_code(e) == "InvalidLocationConstraint"
    assert s3.list_buckets()["Buckets"] == []


def test_put_get_head_metadata(s3):
    s3.create_bucket(Bucket="meta")
    expires = datetime.datetime(2031, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    put = s3.put_object(
        Bucket="meta",
        Key="a/b.txt",
        Body=b"hello",
        ContentType="text/plain",
        ContentDisposition="inline",
        ContentLanguage="de",
        ContentEncoding="identity",
        CacheControl="no-store",
        Expires=expires,
        Metadata={"Color": "Red", "x": "y z"},
    )
    assert put["ETag"] == md5_etag(b"hello")
    got = s3.get_object(Bucket="meta", Key="a/b.txt")
    assert got["Body"].read() == b"hello"
    assert got["ContentType"] == "text/plain"
    assert got["ContentDisposition"] == "inline"
    assert got["ContentLanguage"] == "de"
    assert got["ContentEncoding"] == "identity"
    assert got["CacheControl"] == "no-store"
    assert got["Expires"] == expires
    assert got["Metadata"] == {"color": "Red", "x": "y z"}
    assert got["ContentLength"] == 5
    head = s3.head_object(Bucket="meta", Key="a/b.txt")
    assert head["ETag"] == put["ETag"]
    assert head["ContentLength"] == 5
    assert head["LastModified"] == got["LastModified"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="meta", Key="missing")
    assert error_code(e) == "NoSuchKey" and status(e) == 404
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket="meta", Key="missing")
    assert status(e) == 404
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="meta", Key="big-meta", Body=b"x", Metadata={"k": "v" * 2100})
    assert error_code(e) == "MetadataTooLarge"


def test_ranges_and_conditionals(s3):
    s3.create_bucket(Bucket="rng")
    etag = s3.put_object(Bucket="rng", Key="k", Body=b"abcdefghij")["ETag"]
    r = s3.get_object(Bucket="rng", Key="k", Range="bytes=2-4")
    assert r["Body"].read() == b"cde"
    assert r["ContentRange"] == "bytes 2-4/10"
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert s3.get_object(Bucket="rng", Key="k", Range="bytes=-3")["Body"].read() == b"hij"
    assert s3.get_object(Bucket="rng", Key="k", Range="bytes=8-")["Body"].read() == b"ij"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="rng", Key="k", Range="bytes=20-30")
    assert error_code(e) == "InvalidRange" and status(e) == 416
    assert s3.get_object(Bucket="rng", Key="k", IfMatch=etag)["Body"].read() == b"abcdefghij"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="rng", Key="k", IfMatch='"nope"')
    assert error_code(e) == "PreconditionFailed" and status(e) == 412
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="rng", Key="k", IfNoneMatch=etag)
    assert status(e) == 304
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    earlier = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="rng", Key="k", IfModifiedSince=later)
    assert status(e) == 304
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="rng", Key="k", IfUnmodifiedSince=earlier)
    assert status(e) == 412
    r = s3.get_object(Bucket="rng", Key="k", ResponseContentType="image/png", ResponseCacheControl="max-age=1")
    assert r["ContentType"] == "image/png" and r["CacheControl"] == "max-age=1"


def test_content_md5(s3):
    s3.create_bucket(Bucket="digest")
    good = base64.b64encode(hashlib.md5(b"payload").digest()).decode()
    s3.put_object(Bucket="digest", Key="ok", Body=b"payload", ContentMD5=good)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="digest", Key="bad", Body=b"other", ContentMD5=good)
    assert error_code(e) == "BadDigest"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="digest", Key="bad", Body=b"other", ContentMD5="%%%")
    assert error_code(e) == "InvalidDigest"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="digest").get("Contents", [])]
    assert keys == ["ok"]


def test_delete_objects(s3):
    s3.create_bucket(Bucket="del")
    for k in ["a", "b", "c"]:
        s3.put_object(Bucket="del", Key=k, Body=k.encode())
    r = s3.delete_objects(Bucket="del", Delete={"Objects": [{"Key": "a"}, {"Key": "zz"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["a", "zz"]
    r = s3.delete_objects(Bucket="del", Delete={"Objects": [{"Key": "b"}], "Quiet": True})
    assert "Deleted" not in r
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="del")["Contents"]] == ["c"]
    with pytest.raises(ClientError) as e:
        s3.delete_objects(Bucket="del", Delete={"Objects": [{"Key": f"k{i}"} for i in range(1001)]})
    assert error_code(e) == "MalformedXML"


def test_copy_object(s3):
    s3.create_bucket(Bucket="cpy")
    etag = s3.put_object(Bucket="cpy", Key="src", Body=b"data", ContentType="a/b", Metadata={"m": "1"})["ETag"]
    r = s3.copy_object(Bucket="cpy", Key="dst", CopySource={"Bucket": "cpy", "Key": "src"})
    assert r["CopyObjectResult"]["ETag"] == etag
    head = s3.head_object(Bucket="cpy", Key="dst")
    assert head["ContentType"] == "a/b" and head["Metadata"] == {"m": "1"}
    s3.copy_object(
        Bucket="cpy", Key="dst", CopySource="cpy/src", MetadataDirective="REPLACE", ContentType="c/d", Metadata={"n": "2"}
    )
    head = s3.head_object(Bucket="cpy", Key="dst")
    assert head["ContentType"] == "c/d" and head["Metadata"] == {"n": "2"}
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket="cpy", Key="src", CopySource="cpy/src")
    assert error_code(e) == "InvalidRequest"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket="cpy", Key="x", CopySource="cpy/src", CopySourceIfMatch='"zzz"')
    assert error_code(e) == "PreconditionFailed"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket="cpy", Key="x", CopySource="cpy/nothing")
    assert error_code(e) == "NoSuchKey"
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket="cpy", Key="x", CopySource="cpy/src", MetadataDirective="MERGE")
    assert error_code(e) == "InvalidArgument"


def test_listing_v1_and_v2(s3):
    s3.create_bucket(Bucket="lst")
    keys = ["a/1", "a/2", "b/1", "c", "d e", "f+g", "h%i"]
    for k in keys:
        s3.put_object(Bucket="lst", Key=k, Body=b"")
    r = s3.list_objects_v2(Bucket="lst", Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "b/"]
    assert [o["Key"] for o in r["Contents"]] == ["c", "d e", "f+g", "h%i"]
    assert r["KeyCount"] == 6
    # boto3 asks for url encoding on its own and decodes it (all the calls above); asked explicitly,
    # the encoded keys come back as S3 sends them.
    r = s3.list_objects_v2(Bucket="lst", EncodingType="url")
    assert [o["Key"] for o in r["Contents"]] == ["a/1", "a/2", "b/1", "c", "d%20e", "f%2Bg", "h%25i"]
    paginator = s3.get_paginator("list_objects_v2")
    pages = list(paginator.paginate(Bucket="lst", PaginationConfig={"PageSize": 2}))
    assert len(pages) == 4
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == keys
    r = s3.list_objects_v2(Bucket="lst", StartAfter="c", MaxKeys=1)
    assert [o["Key"] for o in r["Contents"]] == ["d e"] and r["IsTruncated"]
    r = s3.list_objects_v2(Bucket="lst", Prefix="a/", FetchOwner=True)
    assert all("Owner" in o for o in r["Contents"])
    v1 = list(s3.get_paginator("list_objects").paginate(Bucket="lst", Delimiter="/", PaginationConfig={"PageSize": 2}))
    flat = [o["Key"] for p in v1 for o in p.get("Contents", [])] + [
        c["Prefix"] for p in v1 for c in p.get("CommonPrefixes", [])
    ]
    assert sorted(flat) == ["a/", "b/", "c", "d e", "f+g", "h%i"]
    r = s3.list_objects(Bucket="lst", Marker="b/1")
    assert [o["Key"] for o in r["Contents"]] == ["c", "d e", "f+g", "h%i"]
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="lst", MaxKeys=-1)
    assert error_code(e) == "InvalidArgument"


def test_multipart(s3):
    s3.create_bucket(Bucket="mpu")
    up = s3.create_multipart_upload(Bucket="mpu", Key="big", ContentType="application/x-big")
    uid = up["UploadId"]
    p1 = os.urandom(5 * 1024 * 1024)
    p2 = b"end"
    e1 = s3.upload_part(Bucket="mpu", Key="big", UploadId=uid, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket="mpu", Key="big", UploadId=uid, PartNumber=2, Body=p2)["ETag"]
    assert e1 == md5_etag(p1)
    parts = s3.list_parts(Bucket="mpu", Key="big", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, len(p1)), (2, 3)]
    uploads = s3.list_multipart_uploads(Bucket="mpu")["Uploads"]
    assert [u["UploadId"] for u in uploads] == [uid]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket="mpu",
            Key="big",
            UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]},
        )
    assert error_code(e) == "InvalidPartOrder"
    done = s3.complete_multipart_upload(
        Bucket="mpu",
        Key="big",
        UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
    )
    expected = hashlib.md5(hashlib.md5(p1).digest() + hashlib.md5(p2).digest()).hexdigest() + "-2"
    assert done["ETag"] == f'"{expected}"'
    got = s3.get_object(Bucket="mpu", Key="big")
    assert got["Body"].read() == p1 + p2
    assert got["ContentType"] == "application/x-big"
    with pytest.raises(ClientError) as e:
        s3.list_parts(Bucket="mpu", Key="big", UploadId=uid)
    assert error_code(e) == "NoSuchUpload"

    # EntityTooSmall, UploadPartCopy and Abort.
    uid = s3.create_multipart_upload(Bucket="mpu", Key="small")["UploadId"]
    a = s3.upload_part(Bucket="mpu", Key="small", UploadId=uid, PartNumber=1, Body=b"tiny")["ETag"]
    b = s3.upload_part_copy(
        Bucket="mpu", Key="small", UploadId=uid, PartNumber=2, CopySource="mpu/big", CopySourceRange="bytes=0-9"
    )["CopyPartResult"]["ETag"]
    assert b == md5_etag(p1[:10])
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket="mpu",
            Key="small",
            UploadId=uid,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": a}, {"PartNumber": 2, "ETag": b}]},
        )
    assert error_code(e) == "EntityTooSmall"
    s3.abort_multipart_upload(Bucket="mpu", Key="small", UploadId=uid)
    with pytest.raises(ClientError) as e:
        s3.abort_multipart_upload(Bucket="mpu", Key="small", UploadId=uid)
    assert error_code(e) == "NoSuchUpload"
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket="mpu", Key="small", UploadId="bogus", PartNumber=1, Body=b"x")
    assert error_code(e) == "NoSuchUpload"


def test_transfer_manager_multipart(s3, tmp_path):
    """boto3's upload_file/download_file split large files into parts and ranges."""
    from boto3.s3.transfer import TransferConfig

    s3.create_bucket(Bucket="xfer")
    src = tmp_path / "src.bin"
    data = os.urandom(17 * 1024 * 1024)
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_file(str(src), "xfer", "file.bin", Config=cfg)
    assert s3.head_object(Bucket="xfer", Key="file.bin")["ETag"].endswith('-4"')
    dst = tmp_path / "dst.bin"
    s3.download_file("xfer", "file.bin", str(dst), Config=cfg)
    assert dst.read_bytes() == data


def test_virtual_hosted_style(server):
    vs = server.client(addressing_style="virtual")
    vs.create_bucket(Bucket="vhost")
    vs.put_object(Bucket="vhost", Key="deep/key.txt", Body=b"via host")
    assert vs.get_object(Bucket="vhost", Key="deep/key.txt")["Body"].read() == b"via host"
    assert [o["Key"] for o in vs.list_objects_v2(Bucket="vhost")["Contents"]] == ["deep/key.txt"]
    path = server.client()
    assert path.get_object(Bucket="vhost", Key="deep/key.txt")["Body"].read() == b"via host"
    vs.delete_object(Bucket="vhost", Key="deep/key.txt")
    vs.delete_bucket(Bucket="vhost")
    assert path.list_buckets()["Buckets"] == []


def test_restart_keeps_everything(tmp_path):
    data = os.urandom(2 * 1024 * 1024 + 7)
    first = Server(tmp_path / "d")
    s3 = first.client()
    s3.create_bucket(Bucket="durable")
    etag = s3.put_object(Bucket="durable", Key="blob", Body=data, Metadata={"v": "1"})["ETag"]
    uid = s3.create_multipart_upload(Bucket="durable", Key="pending")["UploadId"]
    s3.upload_part(Bucket="durable", Key="pending", UploadId=uid, PartNumber=1, Body=b"part")
    assert first.stop() == 0
    second = Server(tmp_path / "d")
    try:
        s3 = second.client()
        got = s3.get_object(Bucket="durable", Key="blob")
        assert got["Body"].read() == data
        assert got["ETag"] == etag and got["Metadata"] == {"v": "1"}
        assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="durable")["Uploads"]] == [uid]
        assert list((tmp_path / "d" / "tmp").iterdir()) == []
    finally:
        second.stop()


def test_memory_mode_writes_nothing(tmp_path):
    srv = Server(tmp_path / "never", "--memory")
    try:
        s3 = srv.client()
        s3.create_bucket(Bucket="volatile")
        s3.put_object(Bucket="volatile", Key="k", Body=b"v")
        assert s3.get_object(Bucket="volatile", Key="k")["Body"].read() == b"v"
    finally:
        srv.stop()
    assert not (tmp_path / "never").exists()


def test_wrong_credentials(server):
    import boto3

    bad = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id="nobody",
        aws_secret_access_key="x",
        region_name="us-east-1",
    )
    with pytest.raises(ClientError) as e:
        bad.list_buckets()
    assert error_code(e) == "InvalidAccessKeyId" and status(e) == 403


def test_aws_cli(server, tmp_path):
    env = dict(
        os.environ,
        AWS_ACCESS_KEY_ID="s3cors",
        AWS_SECRET_ACCESS_KEY="s3cors-secret",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
    )
    ep = ["--endpoint-url", server.endpoint]

    def aws(*args):
        return subprocess.run(["aws", *ep, *args], env=env, check=True, capture_output=True, text=True).stdout

    aws("s3", "mb", "s3://cli-bucket")
    src = tmp_path / "f.txt"
    src.write_bytes(b"from the cli\n" * 1000)
    aws("s3", "cp", str(src), "s3://cli-bucket/dir/f.txt", "--only-show-errors")
    assert "dir/f.txt" in aws("s3", "ls", "s3://cli-bucket", "--recursive")
    dst = tmp_path / "back.txt"
    aws("s3", "cp", "s3://cli-bucket/dir/f.txt", str(dst), "--only-show-errors")
    assert dst.read_bytes() == src.read_bytes()
    head = aws("s3api", "head-object", "--bucket", "cli-bucket", "--key", "dir/f.txt", "--checksum-mode", "ENABLED")
    assert '"ContentLength": 13000' in head
    assert '"ChecksumCRC32"' in head, "the CLI's default CRC32 checksum was stored and read back"
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 * 1024 * 1024))
    aws("s3", "cp", str(big), "s3://cli-bucket/big.bin", "--only-show-errors")
    assert '"PartsCount": 2' in aws("s3api", "head-object", "--bucket", "cli-bucket", "--key", "big.bin")
    back = tmp_path / "big-back.bin"
    aws("s3", "cp", "s3://cli-bucket/big.bin", str(back), "--only-show-errors")
    assert back.read_bytes() == big.read_bytes()
    aws("s3", "rm", "s3://cli-bucket/big.bin", "--only-show-errors")
    aws("s3", "rm", "s3://cli-bucket/dir/f.txt", "--only-show-errors")
    aws("s3", "rb", "s3://cli-bucket")


def test_regional_endpoint_refuses_recreation(tmp_path):
    srv = Server(tmp_path / "d", "--region", "eu-west-1")
    try:
        s3 = srv.client()
        cfg = {"LocationConstraint": "eu-west-1"}
        s3.create_bucket(Bucket="euro", CreateBucketConfiguration=cfg)
        assert s3.get_bucket_location(Bucket="euro")["LocationConstraint"] == "eu-west-1"
        with pytest.raises(ClientError) as e:
            s3.create_bucket(Bucket="euro", CreateBucketConfiguration=cfg)
        assert error_code(e) == "BucketAlreadyOwnedByYou" and status(e) == 409
    finally:
        srv.stop()


def test_get_and_head_by_part_number(s3):
    s3.create_bucket(Bucket="parts")
    uid = s3.create_multipart_upload(Bucket="parts", Key="mp")["UploadId"]
    p1, p2 = os.urandom(5 * 1024 * 1024), b"second part"
    etags = [
        s3.upload_part(Bucket="parts", Key="mp", UploadId=uid, PartNumber=n, Body=b)["ETag"]
        for n, b in [(1, p1), (2, p2)]
    ]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="parts", Key="mp", PartNumber=1)
    assert error_code(e) == "NoSuchKey"
    parts = {"Parts": [{"PartNumber": n + 1, "ETag": t} for n, t in enumerate(etags)]}
    done = s3.complete_multipart_upload(Bucket="parts", Key="mp", UploadId=uid, MultipartUpload=parts)
    r = s3.get_object(Bucket="parts", Key="mp", PartNumber=2)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert r["Body"].read() == p2
    assert r["ContentRange"] == f"bytes {len(p1)}-{len(p1) + len(p2) - 1}/{len(p1) + len(p2)}"
    assert r["PartsCount"] == 2 and r["ETag"] == done["ETag"]
    h = s3.head_object(Bucket="parts", Key="mp", PartNumber=1)
    assert h["ContentLength"] == len(p1) and h["PartsCount"] == 2
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="parts", Key="mp", PartNumber=3)
    assert error_code(e) == "InvalidPart" and status(e) == 400
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="parts", Key="mp", PartNumber=1, Range="bytes=0-1")
    assert error_code(e) == "InvalidRequest"
    # A repeated CompleteMultipartUpload answers as the first did.
    again = s3.complete_multipart_upload(Bucket="parts", Key="mp", UploadId=uid, MultipartUpload=parts)
    assert again["ETag"] == done["ETag"]
    # An object not uploaded in parts: part 1 is the whole object, part 2 does not exist.
    s3.put_object(Bucket="parts", Key="single", Body=b"body")
    assert s3.get_object(Bucket="parts", Key="single", PartNumber=1)["Body"].read() == b"body"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="parts", Key="single", PartNumber=2)
    assert error_code(e) == "InvalidPart"


def test_conditional_writes(s3):
    s3.create_bucket(Bucket="condw")
    first = s3.put_object(Bucket="condw", Key="k", Body=b"one", IfNoneMatch="*")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="condw", Key="k", Body=b"two", IfNoneMatch="*")
    assert error_code(e) == "PreconditionFailed" and status(e) == 412
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="condw", Key="k", Body=b"two", IfMatch='"00000000000000000000000000000000"')
    assert error_code(e) == "PreconditionFailed"
    s3.put_object(Bucket="condw", Key="k", Body=b"two", IfMatch=first)
    assert s3.get_object(Bucket="condw", Key="k")["Body"].read() == b"two"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="condw", Key="missing", Body=b"x", IfMatch=first)
    assert error_code(e) == "NoSuchKey"
    uid = s3.create_multipart_upload(Bucket="condw", Key="k")["UploadId"]
    etag = s3.upload_part(Bucket="condw", Key="k", UploadId=uid, PartNumber=1, Body=b"p")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket="condw", Key="k", UploadId=uid, IfNoneMatch="*",
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
        )
    assert error_code(e) == "PreconditionFailed"
    assert s3.get_object(Bucket="condw", Key="k")["Body"].read() == b"two"


def test_content_encoding_and_raw_metadata(s3):
    s3.create_bucket(Bucket="enc")
    for sent, kept in [("gzip", "gzip"), ("deflate, gzip", "deflate, gzip"), ("gzip, aws-chunked", "gzip"),
                       ("aws-chunked, gzip", "gzip"), ("aws-chunked", None)]:
        s3.put_object(Bucket="enc", Key="k", Body=b"x", ContentEncoding=sent)
        assert s3.head_object(Bucket="enc", Key="k").get("ContentEncoding") == kept, sent

    # Non-ASCII metadata travels as an RFC 2047 encoded-word, as S3 carries it.
    def raw_metadata(**kwargs):
        kwargs["params"]["headers"]["x-amz-meta-word"] = "=?UTF-8?B?5Lit5paH?="

    s3.meta.events.register("before-call.s3.PutObject", raw_metadata)
    try:
        s3.put_object(Bucket="enc", Key="meta", Body=b"x")
    finally:
        s3.meta.events.unregister("before-call.s3.PutObject", raw_metadata)
    meta = s3.get_object(Bucket="enc", Key="meta")["Metadata"]
    assert meta["word"] == "=?UTF-8?B?5Lit5paH?="


def test_list_objects_v1_url_encoding_leaves_prefix_plain(server):
    server.client().create_bucket(Bucket="v1enc")
    server.client().put_object(Bucket="v1enc", Key="a b/c", Body=b"")
    raw = server.signed("GET", "/v1enc?encoding-type=url&prefix=a%20b%2F&delimiter=%2F").text
    assert "<Prefix>a b/</Prefix>" in raw
    assert "<Key>a%20b/c</Key>" in raw


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA1", "SHA256"])
def test_flexible_checksums_are_verified_stored_and_returned(s3, algorithm):
    s3.create_bucket(Bucket="sums")
    put = s3.put_object(Bucket="sums", Key="k", Body=b"checksummed body", ChecksumAlgorithm=algorithm)
    value = put[f"Checksum{algorithm}"]
    head = s3.head_object(Bucket="sums", Key="k", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == value
    assert head["ChecksumType"] == "FULL_OBJECT"
    got = s3.get_object(Bucket="sums", Key="k", ChecksumMode="ENABLED")
    assert got[f"Checksum{algorithm}"] == value and got["Body"].read() == b"checksummed body"
    attrs = s3.get_object_attributes(Bucket="sums", Key="k", ObjectAttributes=["ETag", "Checksum", "ObjectSize"])
    assert attrs["Checksum"][f"Checksum{algorithm}"] == value
    assert attrs["ObjectSize"] == 16 and attrs["ETag"] == put["ETag"].strip('"')
    assert "ChecksumCRC32" not in s3.head_object(Bucket="sums", Key="k"), "only with ChecksumMode ENABLED"


def test_default_checksum_and_mismatch(server, s3):
    import base64
    import hashlib

    s3.create_bucket(Bucket="sums2")
    # A client that sends no checksum still gets one: CRC64NVME, as S3 computes by default.
    assert server.signed("PUT", "/sums2/plain", body=b"x").status_code == 200
    assert "ChecksumCRC64NVME" in s3.head_object(Bucket="sums2", Key="plain", ChecksumMode="ENABLED")
    wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="sums2", Key="bad", Body=b"data", ChecksumSHA256=wrong)
    assert error_code(e) == "BadDigest"
    assert e.value.response["Error"]["Message"] == "The SHA256 you specified did not match the calculated checksum."
    with pytest.raises(ClientError):
        s3.head_object(Bucket="sums2", Key="bad")


def test_multipart_checksums_composite_and_full_object(s3):
    import base64
    import hashlib

    s3.create_bucket(Bucket="mpsums")
    p1, p2 = os.urandom(5 * 1024 * 1024), b"last"
    up = s3.create_multipart_upload(Bucket="mpsums", Key="c", ChecksumAlgorithm="SHA256")
    assert up["ChecksumAlgorithm"] == "SHA256"
    parts = []
    for n, body in [(1, p1), (2, p2)]:
        r = s3.upload_part(Bucket="mpsums", Key="c", UploadId=up["UploadId"], PartNumber=n, Body=body,
                           ChecksumAlgorithm="SHA256")
        parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumSHA256": r["ChecksumSHA256"]})
    listed = s3.list_parts(Bucket="mpsums", Key="c", UploadId=up["UploadId"])["Parts"]
    assert [p["ChecksumSHA256"] for p in listed] == [p["ChecksumSHA256"] for p in parts]
    done = s3.complete_multipart_upload(Bucket="mpsums", Key="c", UploadId=up["UploadId"],
                                        MultipartUpload={"Parts": parts})
    composite = hashlib.sha256(hashlib.sha256(p1).digest() + hashlib.sha256(p2).digest()).digest()
    assert done["ChecksumSHA256"] == base64.b64encode(composite).decode() + "-2"
    head = s3.head_object(Bucket="mpsums", Key="c", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == done["ChecksumSHA256"] and head["ChecksumType"] == "COMPOSITE"


def test_sigv2_signed_requests_from_botocore(server):
    """botocore's SigV2 (HmacV1) signer, which signs a bucket-only resource as `/bucket/`."""
    import boto3
    from botocore.config import Config

    v2 = boto3.client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id="s3cors", aws_secret_access_key="s3cors-secret",
        config=Config(signature_version="s3", retries={"max_attempts": 1}),
    )
    v2.create_bucket(Bucket="sigv2-bucket")
    v2.put_object(Bucket="sigv2-bucket", Key="k", Body=b"v")
    assert [o["Key"] for o in v2.list_objects(Bucket="sigv2-bucket")["Contents"]] == ["k"]
    v2.head_bucket(Bucket="sigv2-bucket")
    assert v2.get_object(Bucket="sigv2-bucket", Key="k")["Body"].read() == b"v"
    wrong = boto3.client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id="s3cors", aws_secret_access_key="wrong",
        config=Config(signature_version="s3", retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as e:
        wrong.list_objects(Bucket="sigv2-bucket")
    assert error_code(e) == "SignatureDoesNotMatch"
