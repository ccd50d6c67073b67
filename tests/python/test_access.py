"""Accounts, canned ACLs, bucket policies and anonymous access, through boto3 and plain HTTP."""

import json

import boto3
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import Server, error_code, status

ALT_ID = "111111111111"


@pytest.fixture
def two_accounts(tmp_path):
    accounts = tmp_path / "accounts.toml"
    accounts.write_text(
        f'[[account]]\nid = "{ALT_ID}"\nname = "alt"\naccess_key_id = "alt-key"\nsecret_access_key = "alt-secret"\n'
    )
    srv = Server(tmp_path / "data", "--accounts", str(accounts))
    owner = srv.client()
    alt = boto3.client(
        "s3", endpoint_url=srv.endpoint, region_name="us-east-1",
        aws_access_key_id="alt-key", aws_secret_access_key="alt-secret",
        config=Config(retries={"max_attempts": 1}),
    )
    anon = boto3.client(
        "s3", endpoint_url=srv.endpoint, region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    yield srv, owner, alt, anon
    srv.stop()


def denied(call, **kwargs):
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    return error_code(e), status(e)


def test_accounts_see_only_their_own_buckets(two_accounts):
    _, owner, alt, anon = two_accounts
    owner.create_bucket(Bucket="mine")
    owner.put_object(Bucket="mine", Key="secret", Body=b"s")
    alt.create_bucket(Bucket="theirs")
    assert [b["Name"] for b in owner.list_buckets()["Buckets"]] == ["mine"]
    assert [b["Name"] for b in alt.list_buckets()["Buckets"]] == ["theirs"]
    assert denied(alt.create_bucket, Bucket="mine") == ("BucketAlreadyExists", 409)
    assert denied(alt.list_objects_v2, Bucket="mine") == ("AccessDenied", 403)
    assert denied(alt.get_object, Bucket="mine", Key="secret") == ("AccessDenied", 403)
    assert denied(alt.put_object, Bucket="mine", Key="x", Body=b"x") == ("AccessDenied", 403)
    assert denied(alt.delete_bucket, Bucket="mine") == ("AccessDenied", 403)
    assert denied(anon.get_object, Bucket="mine", Key="secret") == ("AccessDenied", 403)
    assert denied(anon.list_buckets) == ("AccessDenied", 403)
    # The expected-owner check on ordinary operations.
    assert denied(owner.get_object, Bucket="mine", Key="secret", ExpectedBucketOwner=ALT_ID) == ("AccessDenied", 403)
    owner.get_object(Bucket="mine", Key="secret", ExpectedBucketOwner="000000000000")


def test_canned_acls_grant_reads_and_writes(two_accounts):
    srv, owner, alt, anon = two_accounts
    owner.create_bucket(Bucket="acls")
    owner.put_object(Bucket="acls", Key="private", Body=b"p")
    owner.put_object(Bucket="acls", Key="public", Body=b"hello world", ACL="public-read")
    assert anon.get_object(Bucket="acls", Key="public")["Body"].read() == b"hello world"
    assert requests.get(f"{srv.endpoint}/acls/public").content == b"hello world"
    assert denied(anon.get_object, Bucket="acls", Key="private") == ("AccessDenied", 403)
    assert denied(anon.list_objects_v2, Bucket="acls") == ("AccessDenied", 403)
    owner.put_object_acl(Bucket="acls", Key="private", ACL="public-read")
    assert anon.get_object(Bucket="acls", Key="private")["Body"].read() == b"p"
    grants = owner.get_object_acl(Bucket="acls", Key="private")["Grants"]
    assert {(g["Grantee"].get("URI"), g["Permission"]) for g in grants} == {
        (None, "FULL_CONTROL"), ("http://acs.amazonaws.com/groups/global/AllUsers", "READ")}
    owner.put_bucket_acl(Bucket="acls", ACL="public-read")
    assert [o["Key"] for o in anon.list_objects_v2(Bucket="acls")["Contents"]] == ["private", "public"]
    assert denied(anon.put_object, Bucket="acls", Key="w", Body=b"w") == ("AccessDenied", 403)
    owner.put_bucket_acl(Bucket="acls", ACL="public-read-write")
    anon.put_object(Bucket="acls", Key="w", Body=b"w")
    owner.put_bucket_acl(Bucket="acls", ACL="authenticated-read")
    alt.list_objects_v2(Bucket="acls")
    assert denied(anon.list_objects_v2, Bucket="acls") == ("AccessDenied", 403)
    grants = owner.get_bucket_acl(Bucket="acls")["Grants"]
    assert ("http://acs.amazonaws.com/groups/global/AuthenticatedUsers", "READ") in {
        (g["Grantee"].get("URI"), g["Permission"]) for g in grants}
    assert denied(owner.put_bucket_acl, Bucket="acls", ACL="nonsense") == ("InvalidArgument", 400)
    owner.create_bucket(Bucket="public-from-start", ACL="public-read")
    anon.list_objects_v2(Bucket="public-from-start")


def test_bucket_policies(two_accounts):
    srv, owner, alt, anon = two_accounts
    owner.create_bucket(Bucket="site")
    owner.put_object(Bucket="site", Key="index.html", Body=b"<h1>hi</h1>")
    assert denied(owner.get_bucket_policy, Bucket="site") == ("NoSuchBucketPolicy", 404)
    public = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::site/*"},
            {"Sid": "AltManagesCors", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ALT_ID}:root"},
             "Action": ["s3:PutBucketCORS", "s3:GetBucketCORS"], "Resource": "arn:aws:s3:::site"},
        ],
    }
    owner.put_bucket_policy(Bucket="site", Policy=json.dumps(public))
    assert json.loads(owner.get_bucket_policy(Bucket="site")["Policy"]) == public
    assert requests.get(f"{srv.endpoint}/site/index.html").content == b"<h1>hi</h1>"
    assert denied(anon.list_objects_v2, Bucket="site") == ("AccessDenied", 403)
    # R31: s3:PutBucketCORS covers PutBucketCors and DeleteBucketCors; s3:GetBucketCORS GetBucketCors.
    rules = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}
    alt.put_bucket_cors(Bucket="site", CORSConfiguration=rules)
    assert alt.get_bucket_cors(Bucket="site")["CORSRules"] == rules["CORSRules"]
    alt.delete_bucket_cors(Bucket="site")
    assert denied(alt.put_object, Bucket="site", Key="x", Body=b"x") == ("AccessDenied", 403)
    assert denied(anon.put_bucket_cors, Bucket="site", CORSConfiguration=rules) == ("AccessDenied", 403)
    # An explicit Deny wins over the ACL and the Allow.
    owner.put_object_acl(Bucket="site", Key="index.html", ACL="public-read")
    deny = dict(public)
    deny["Statement"] = public["Statement"] + [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/index.html"}]
    owner.put_bucket_policy(Bucket="site", Policy=json.dumps(deny))
    assert requests.get(f"{srv.endpoint}/site/index.html").status_code == 403
    assert denied(owner.get_object, Bucket="site", Key="index.html") == ("AccessDenied", 403)
    # The owner can always manage the policy.
    owner.delete_bucket_policy(Bucket="site")
    owner.get_object(Bucket="site", Key="index.html")
    with pytest.raises(ClientError) as e:
        owner.put_bucket_policy(Bucket="site", Policy=json.dumps({"Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*",
             "Condition": {"Bool": {"aws:SecureTransport": "true"}}}]}))
    assert error_code(e) == "MalformedPolicy"
    assert "Condition" in e.value.response["Error"]["Message"]
    assert denied(owner.get_bucket_policy, Bucket="site") == ("NoSuchBucketPolicy", 404)


def test_cors_on_a_public_bucket_for_anonymous_requests(two_accounts):
    """The ceph s3-tests case: an anonymous cross-origin GET on a public-read bucket gets CORS headers."""
    srv, owner, _, _ = two_accounts
    owner.create_bucket(Bucket="cdn", ACL="public-read")
    owner.put_object(Bucket="cdn", Key="app.js", Body=b"1", ACL="public-read")
    owner.put_bucket_cors(Bucket="cdn", CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*suffix"], "AllowedMethods": ["GET"]}]})
    r = requests.get(f"{srv.endpoint}/cdn/app.js", headers={"Origin": "foo.suffix"})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "foo.suffix"
    r = requests.put(f"{srv.endpoint}/cdn/app.js", data=b"x", headers={"Origin": "foo.suffix",
                                                                      "Access-Control-Request-Method": "GET"})
    assert r.status_code == 403  # anonymous PUT on a public-read bucket
    assert r.headers["Access-Control-Allow-Origin"] == "foo.suffix"  # R62, R64


def test_expected_bucket_owner_on_every_operation_family(two_accounts):
    _, owner, alt, _ = two_accounts
    owner.create_bucket(Bucket="owned")
    owner.put_object(Bucket="owned", Key="k", Body=b"v")
    uid = owner.create_multipart_upload(Bucket="owned", Key="m")["UploadId"]
    calls = {
        "bucket": lambda e: owner.head_bucket(Bucket="owned", ExpectedBucketOwner=e),
        "listing": lambda e: owner.list_objects_v2(Bucket="owned", ExpectedBucketOwner=e),
        "object read": lambda e: owner.get_object(Bucket="owned", Key="k", ExpectedBucketOwner=e),
        "object write": lambda e: owner.put_object(Bucket="owned", Key="k2", Body=b"x", ExpectedBucketOwner=e),
        "copy": lambda e: owner.copy_object(Bucket="owned", Key="k3", CopySource="owned/k", ExpectedBucketOwner=e),
        "multipart": lambda e: owner.list_parts(Bucket="owned", Key="m", UploadId=uid, ExpectedBucketOwner=e),
        "cors": lambda e: owner.put_bucket_cors(Bucket="owned", ExpectedBucketOwner=e, CORSConfiguration={
            "CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}),
        "acl": lambda e: owner.get_bucket_acl(Bucket="owned", ExpectedBucketOwner=e),
        "delete": lambda e: owner.delete_object(Bucket="owned", Key="k2", ExpectedBucketOwner=e),
    }
    for family, call in calls.items():
        # HEAD answers carry no body, so only the status tells.
        with pytest.raises(ClientError) as e:
            call(ALT_ID)
        assert status(e) == 403 and error_code(e) in ("AccessDenied", "403"), family
        with pytest.raises(ClientError) as e:
            call("not-an-id")
        assert status(e) == 400 and error_code(e) in ("InvalidBucketOwnerAWSAccountID", "400"), family
        call("000000000000")
    # The other account, naming the right owner, is still not allowed in.
    assert denied(alt.get_object, Bucket="owned", Key="k", ExpectedBucketOwner="000000000000") == ("AccessDenied", 403)
