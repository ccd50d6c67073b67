"""Bucket CORS through boto3, starting with the call the project was created from (boto3's
``BucketCors.put``), then preflights and actual requests over plain HTTP. Rule numbers refer to the
CORS specification."""

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import error_code, status

VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

RULES = [
    {
        "ID": "uploads",
        "AllowedHeaders": ["Content-Type", "x-amz-*"],
        "AllowedMethods": ["PUT", "POST", "GET"],
        "AllowedOrigins": ["http://localhost:3000", "https://*.example.com"],
        "ExposeHeaders": ["ETag", "x-amz-request-id"],
        "MaxAgeSeconds": 3000,
    },
    {"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": ["*"]},
]


def test_seed_bucket_cors_resource(server):
    """The seed's own call: s3.BucketCors(name).put(..., ChecksumAlgorithm='CRC32', ExpectedBucketOwner=...),
    then .cors_rules, .reload() and .delete() (R3, R4, R5, R25, R30, R33, R35, R37)."""
    s3 = server.resource()
    s3.create_bucket(Bucket="site")
    cors = s3.BucketCors("site")
    response = cors.put(
        CORSConfiguration={"CORSRules": RULES},
        ChecksumAlgorithm="CRC32",
        ExpectedBucketOwner="000000000000",
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert cors.cors_rules == RULES
    # Replace (R4) and reload.
    cors.put(CORSConfiguration={"CORSRules": RULES[1:]}, ChecksumAlgorithm="CRC32")
    cors.reload()
    assert cors.cors_rules == RULES[1:]
    # Every checksum algorithm boto3 offers is accepted (R25).
    for algorithm in ["SHA1", "SHA256"]:
        cors.put(CORSConfiguration={"CORSRules": RULES}, ChecksumAlgorithm=algorithm)
    cors.reload()
    assert cors.cors_rules == RULES
    with pytest.raises(ClientError) as e:
        cors.put(CORSConfiguration={"CORSRules": RULES}, ExpectedBucketOwner="111111111111")
    assert error_code(e) == "AccessDenied" and status(e) == 403
    with pytest.raises(ClientError) as e:
        cors.put(CORSConfiguration={"CORSRules": RULES}, ExpectedBucketOwner="abcd")
    assert error_code(e) == "InvalidBucketOwnerAWSAccountID" and status(e) == 400
    cors.delete()
    with pytest.raises(ClientError) as e:
        cors.reload()
    assert error_code(e) == "NoSuchCORSConfiguration" and status(e) == 404
    cors.delete()  # R38: idempotent


def test_client_api_errors(s3):
    s3.create_bucket(Bucket="errs")
    with pytest.raises(ClientError) as e:
        s3.put_bucket_cors(Bucket="errs", CORSConfiguration={"CORSRules": []})
    assert error_code(e) == "MalformedXML"  # R11
    with pytest.raises(ClientError) as e:
        s3.put_bucket_cors(
            Bucket="errs", CORSConfiguration={"CORSRules": [{"AllowedMethods": ["MYMETHOD"], "AllowedOrigins": ["*"]}]}
        )
    assert error_code(e) == "InvalidRequest"  # R17
    assert e.value.response["Error"]["Message"] == (
        "Found unsupported HTTP method in CORS config. Unsupported method is MYMETHOD"
    )
    with pytest.raises(ClientError) as e:
        s3.put_bucket_cors(
            Bucket="errs",
            CORSConfiguration={"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}] * 101},
        )
    assert error_code(e) == "InvalidRequest"  # R24
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket="errs")
    assert error_code(e) == "NoSuchCORSConfiguration"  # R35
    with pytest.raises(ClientError) as e:
        s3.get_bucket_cors(Bucket="nothere")
    assert error_code(e) == "NoSuchBucket"  # R29


def test_preflight_and_actual_requests(server, s3):
    s3.create_bucket(Bucket="assets")
    s3.put_object(Bucket="assets", Key="app.js", Body=b"console.log(1)")
    url = f"{server.endpoint}/assets/app.js"
    r = requests.options(url, headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"})
    assert r.status_code == 403 and "CORS is not enabled for this bucket." in r.text  # R43
    s3.put_bucket_cors(Bucket="assets", CORSConfiguration={"CORSRules": RULES})

    r = requests.options(
        url,
        headers={
            "Origin": "https://cdn.example.com",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type,x-amz-date,x-amz-content-sha256",
        },
    )
    assert r.status_code == 200 and r.content == b""  # R46
    assert r.headers["Access-Control-Allow-Origin"] == "https://cdn.example.com"  # R47
    assert r.headers["Access-Control-Allow-Credentials"] == "true"  # R48
    assert r.headers["Access-Control-Allow-Methods"] == "PUT, POST, GET"  # R49
    assert r.headers["Access-Control-Allow-Headers"] == "content-type, x-amz-date, x-amz-content-sha256"  # R50
    assert r.headers["Access-Control-Expose-Headers"] == "ETag, x-amz-request-id"  # R51
    assert r.headers["Access-Control-Max-Age"] == "3000"  # R52
    assert r.headers["Vary"] == VARY  # R53

    # Not in the first rule's headers, and the second rule does not allow PUT: 403 (R55, R68).
    r = requests.options(
        url,
        headers={"Origin": "https://cdn.example.com", "Access-Control-Request-Method": "PUT",
                 "Access-Control-Request-Headers": "authorization"},
    )
    assert r.status_code == 403 and "<ResourceType>OBJECT</ResourceType>" in r.text

    # Falls through to the `*` rule (R68, R47, R48).
    r = requests.options(url, headers={"Origin": "https://elsewhere.test", "Access-Control-Request-Method": "HEAD"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers

    # Actual requests: a presigned GET from an allowed origin (R60, R74).
    presigned = s3.generate_presigned_url("get_object", Params={"Bucket": "assets", "Key": "app.js"})
    r = requests.get(presigned, headers={"Origin": "http://localhost:3000"})
    assert r.status_code == 200 and r.content == b"console.log(1)"
    assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert r.headers["Access-Control-Allow-Methods"] == "PUT, POST, GET"
    assert "Access-Control-Allow-Headers" not in r.headers
    # The preflight of a presigned PUT is answered from the rules, never authenticated (R56, R74).
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "assets", "Key": "upload.bin"})
    r = requests.options(put_url, headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "PUT"})
    assert r.status_code == 200
    r = requests.put(put_url, data=b"uploaded", headers={"Origin": "http://localhost:3000"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert s3.get_object(Bucket="assets", Key="upload.bin")["Body"].read() == b"uploaded"
    # A missing key still carries the headers (R64).
    r = requests.get(f"{server.endpoint}/assets/missing", headers={"Origin": "http://localhost:3000"})
    assert r.status_code == 403  # anonymous
    assert r.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    # No Origin, no headers (R58).
    assert "Access-Control-Allow-Origin" not in requests.get(presigned).headers


def test_r32_configuration_belongs_to_the_bucket_not_the_endpoint_region(server, s3):
    """A client configured for another region reads the same configuration (R32)."""
    import boto3

    s3.create_bucket(Bucket="regional")
    s3.put_bucket_cors(Bucket="regional", CORSConfiguration={"CORSRules": RULES[1:]})
    west = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-west-2",
        aws_access_key_id="s3cors",
        aws_secret_access_key="s3cors-secret",
    )
    assert west.get_bucket_cors(Bucket="regional")["CORSRules"] == RULES[1:]
