"""POST Object: browser form uploads with a signed POST policy (boto3's generate_presigned_post)."""

import boto3
import pytest
import requests
from botocore.config import Config

from conftest import ACCESS_KEY, SECRET_KEY


def v4_client(server):
    return boto3.client(
        "s3", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        config=Config(signature_version="s3v4"),
    )


def code_of(r):
    return r.text.split("<Code>")[1].split("</Code>")[0] if "<Code>" in r.text else None


@pytest.mark.parametrize("signature", ["s3v4", "s3"])
def test_presigned_post_uploads_with_policy_conditions(server, signature):
    s3 = server.client(signature_version=signature) if signature == "s3" else v4_client(server)
    s3.create_bucket(Bucket="forms")
    post = s3.generate_presigned_post(
        Bucket="forms",
        Key="uploads/${filename}",
        Fields={"Content-Type": "image/png", "x-amz-meta-origin": "form", "success_action_status": "201"},
        Conditions=[
            ["starts-with", "$key", "uploads/"],
            {"Content-Type": "image/png"},
            {"x-amz-meta-origin": "form"},
            {"success_action_status": "201"},
            ["content-length-range", 1, 1024],
        ],
        ExpiresIn=600,
    )
    r = requests.post(post["url"], data=post["fields"], files={"file": ("cat.png", b"PNG bytes")})
    assert r.status_code == 201, r.text
    assert "<Key>uploads/cat.png</Key>" in r.text and "<Bucket>forms</Bucket>" in r.text
    got = s3.get_object(Bucket="forms", Key="uploads/cat.png")
    assert got["Body"].read() == b"PNG bytes"
    assert got["ContentType"] == "image/png" and got["Metadata"] == {"origin": "form"}

    # Too large for content-length-range: nothing stored.
    r = requests.post(post["url"], data=post["fields"], files={"file": ("big.png", b"x" * 2000)})
    assert (r.status_code, code_of(r)) == (400, "EntityTooLarge")
    r = requests.post(post["url"], data=post["fields"], files={"file": ("empty.png", b"")})
    assert (r.status_code, code_of(r)) == (400, "EntityTooSmall")
    # A field the policy does not allow.
    fields = dict(post["fields"], **{"x-amz-meta-extra": "1"})
    r = requests.post(post["url"], data=fields, files={"file": ("a.png", b"x")})
    assert (r.status_code, code_of(r)) == (403, "AccessDenied")
    assert "Invalid according to Policy: Extra input fields: x-amz-meta-extra" in r.text
    # A condition that fails.
    fields = dict(post["fields"], **{"Content-Type": "text/html"})
    r = requests.post(post["url"], data=fields, files={"file": ("a.png", b"x")})
    assert "Policy Condition failed" in r.text
    # A tampered policy breaks the signature.
    fields = dict(post["fields"], policy=post["fields"]["policy"][:-4] + "AAAA")
    r = requests.post(post["url"], data=fields, files={"file": ("a.png", b"x")})
    assert r.status_code in (400, 403)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="forms")["Contents"]]
    assert keys == ["uploads/cat.png"]


def test_expired_policy_and_anonymous_forms(server):
    s3 = v4_client(server)
    s3.create_bucket(Bucket="forms2")
    post = s3.generate_presigned_post(Bucket="forms2", Key="k", ExpiresIn=-10)
    r = requests.post(post["url"], data=post["fields"], files={"file": ("f", b"x")})
    assert (r.status_code, code_of(r)) == (403, "AccessDenied")
    assert "Policy expired" in r.text
    # No credentials: a private bucket refuses, a public-read-write one accepts (204 by default).
    r = requests.post(f"{server.endpoint}/forms2", data={"key": "anon"}, files={"file": ("f", b"x")})
    assert (r.status_code, code_of(r)) == (403, "AccessDenied")
    s3.put_bucket_acl(Bucket="forms2", ACL="public-read-write")
    r = requests.post(f"{server.endpoint}/forms2", data={"key": "anon"}, files={"file": ("f", b"anonymous")})
    assert r.status_code == 204 and r.headers["ETag"]
    assert s3.get_object(Bucket="forms2", Key="anon")["Body"].read() == b"anonymous"


def test_redirect_after_upload(server):
    s3 = v4_client(server)
    s3.create_bucket(Bucket="forms3")
    post = s3.generate_presigned_post(
        Bucket="forms3", Key="r.txt",
        Fields={"success_action_redirect": "http://localhost:3000/done"},
        Conditions=[{"success_action_redirect": "http://localhost:3000/done"}],
    )
    r = requests.post(post["url"], data=post["fields"], files={"file": ("r.txt", b"x")}, allow_redirects=False)
    assert r.status_code == 303
    assert r.headers["Location"].startswith("http://localhost:3000/done?bucket=forms3&key=r.txt&etag=")
