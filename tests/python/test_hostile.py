"""Hostile and malformed requests against the real server.

Each case sends one request and asserts the exact status and S3 error code a client would see
(or, where the HTTP layer refuses the bytes before S3 semantics apply, the status and that the
connection is closed); after every case the server must still answer and every stored byte, listing
and CORS configuration must be what it was before.
"""

import base64
import datetime
import hashlib
import http.client
import re
import socket
import threading
import time
import urllib.parse

import botocore.auth
import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ACCESS_KEY, SECRET_KEY, Server

BUCKET = "hostile"
CORS = (
    b"<CORSConfiguration><CORSRule><ID>app</ID><AllowedOrigin>http://app.example</AllowedOrigin>"
    b"<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader>"
    b"<ExposeHeader>ETag</ExposeHeader></CORSRule></CORSConfiguration>"
)
KEEP = b"the bytes that must never change\n" * 100


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def code(self):
        m = re.search(rb"<Code>([^<]*)</Code>", self.body)
        return m.group(1).decode() if m else None

    def header(self, name):
        return self.headers.get(name.lower())


def _send(port, method, target, headers, body, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        if body:
            try:
                conn.send(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # answered before the whole body was read: the answer is still there
        r = conn.getresponse()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


def signed(port, method, path, query="", headers=None, body=b"", md5=False, send_body=None, at=None):
    """A SigV4-signed request (botocore's signer); `path` and `query` go on the wire as given.
    `send_body` replaces the signed body on the wire; `at` signs as of that time."""
    headers = dict(headers or {})
    if md5:
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()
    url = f"http://127.0.0.1:{port}{path}" + (f"?{query}" if query else "")
    req = AWSRequest(method=method, url=url, data=body, headers=headers)
    real = botocore.auth.get_current_datetime
    if at is not None:
        botocore.auth.get_current_datetime = lambda: at
    try:
        S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", "us-east-1").add_auth(req)
    finally:
        botocore.auth.get_current_datetime = real
    target = path + (f"?{query}" if query else "")
    body = body if send_body is None else send_body
    sent = {k: v for k, v in req.headers.items()}
    sent.setdefault("Host", f"127.0.0.1:{port}")
    if body:
        sent["Content-Length"] = str(len(body))
    return _send(port, method, target, sent, body)


def presigned(port, method, path, expires=3600):
    req = AWSRequest(method=method, url=f"http://127.0.0.1:{port}{path}")
    S3SigV4QueryAuth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", "us-east-1", expires=expires).add_auth(req)
    return req.url


def plain(port, method, target, headers=None, body=b""):
    sent = {"Host": f"127.0.0.1:{port}", **(headers or {})}
    if body:
        sent["Content-Length"] = str(len(body))
    return _send(port, method, target, sent, body)


def raw(port, data, timeout=10, chunks=None, pause=0.0):
    """Sends raw bytes (optionally in `chunks` with `pause` between them) and reads until the server
    closes or `timeout` passes. Returns (bytes read, closed by the server)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        for part in chunks or [data]:
            try:
                s.sendall(part)
            except OSError:
                break
            if pause:
                time.sleep(pause)
        out = b""
        while True:
            try:
                got = s.recv(65536)
            except TimeoutError:
                return out, False
            except ConnectionResetError:
                return out, True
            if not got:
                return out, True
            out += got
    finally:
        s.close()


def parse_raw(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith(b"HTTP/") else None
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower().decode()] = v.strip().decode(errors="replace")
    return Response(status, headers, body)


# ---------------------------------------------------------------------------------------------
# The server and the data that must survive every case.


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(
        tmp_path_factory.mktemp("hostile") / "data",
        "--idle-timeout",
        "2",
        "--header-read-timeout",
        "2",
        "--max-header-bytes",
        "8192",
    )
    p = s.port
    assert signed(p, "PUT", f"/{BUCKET}").status == 200
    assert signed(p, "PUT", f"/{BUCKET}/keep.txt", headers={"x-amz-meta-owner": "me"}, body=KEEP).status == 200
    assert signed(p, "PUT", f"/{BUCKET}", query="cors", body=CORS, md5=True).status == 200
    r = signed(p, "POST", f"/{BUCKET}/mpu", query="uploads")
    s.upload_id = re.search(rb"<UploadId>([^<]+)</UploadId>", r.body).group(1).decode()
    yield s
    s.stop()


def fingerprint(port):
    """Everything a client could observe of the stored data."""
    buckets = signed(port, "GET", "/")
    listing = signed(port, "GET", f"/{BUCKET}", query="list-type=2")
    cors = signed(port, "GET", f"/{BUCKET}", query="cors")
    keep = signed(port, "GET", f"/{BUCKET}/keep.txt")
    uploads = signed(port, "GET", f"/{BUCKET}", query="uploads")
    strip = lambda b: re.sub(rb"<(LastModified|Initiated|CreationDate)>[^<]*</\1>", b"", b)  # noqa: E731
    return (
        strip(re.sub(rb"<Owner>.*?</Owner>", b"", buckets.body)),
        strip(listing.body),
        cors.body,
        keep.status,
        keep.body,
        keep.header("etag"),
        keep.header("x-amz-meta-owner"),
        strip(uploads.body),
    )


def assert_still_serving(srv, before):
    assert plain(srv.port, "GET", "/_s3cors/health").status == 200
    assert fingerprint(srv.port) == before


# ---------------------------------------------------------------------------------------------
# XML bodies: every operation that reads one.

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    + "]>"
)
XXE = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
PARAM_XXE = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x.dtd"> %p;]>'


def xml_ops(srv):
    """(name, method, path, query, root element, inner element, expected error code)."""
    acl = "MalformedACLError"
    return [
        ("PutBucketCors", "PUT", f"/{BUCKET}", "cors", "CORSConfiguration", "CORSRule", "MalformedXML"),
        ("DeleteObjects", "POST", f"/{BUCKET}", "delete", "Delete", "Object", "MalformedXML"),
        (
            "CompleteMultipartUpload",
            "POST",
            f"/{BUCKET}/mpu",
            f"uploadId={srv.upload_id}",
            "CompleteMultipartUpload",
            "Part",
            "MalformedXML",
        ),
        ("PutBucketAcl", "PUT", f"/{BUCKET}", "acl", "AccessControlPolicy", "Owner", acl),
        ("PutObjectAcl", "PUT", f"/{BUCKET}/keep.txt", "acl", "AccessControlPolicy", "Owner", acl),
        ("CreateBucket", "PUT", "/hostile-new", "", "CreateBucketConfiguration", "LocationConstraint", "MalformedXML"),
    ]


def xml_bodies(root, inner):
    deep = 5_000
    return {
        "billion-laughs": f"{BILLION_LAUGHS}<{root}><{inner}>&j;</{inner}></{root}>",
        "external-entity": f"{XXE}<{root}><{inner}>&x;</{inner}></{root}>",
        "parameter-entity": f"{PARAM_XXE}<{root}><{inner}>x</{inner}></{root}>",
        "deeply-nested": f"<{root}>" + "<a>" * deep + "</a>" * deep + f"</{root}>",
        "not-xml": "this is not xml {",
        "truncated": f"<{root}><{inner}>",
        "undefined-entity": f"<{root}><{inner}>&nope;</{inner}></{root}>",
        "invalid-utf8": f"<{root}><{inner}>".encode() + b"\xff\xfe" + f"</{inner}></{root}>".encode(),
    }


def xml_cases():
    # The upload id is only known once the server runs: the table names the operation, the test
    # resolves it.
    names = ["PutBucketCors", "DeleteObjects", "CompleteMultipartUpload", "PutBucketAcl", "PutObjectAcl", "CreateBucket"]
    kinds = list(xml_bodies("r", "i"))
    return [(op, kind) for op in names for kind in kinds]


@pytest.mark.parametrize(("op", "kind"), xml_cases())
def test_hostile_xml(srv, op, kind):
    before = fingerprint(srv.port)
    _, method, path, query, root, inner, code = next(o for o in xml_ops(srv) if o[0] == op)
    body = xml_bodies(root, inner)[kind]
    body = body if isinstance(body, bytes) else body.encode()
    r = signed(srv.port, method, path, query=query, body=body, md5=True)
    assert (r.status, r.code) == (400, code), r.body[:300]
    assert b"root:" not in r.body
    assert_still_serving(srv, before)
    assert signed(srv.port, "HEAD", "/hostile-new").status == 404


# ---------------------------------------------------------------------------------------------
# One request each: (name, request, expected status, expected code).


def big_cors():
    """A valid CORS document of exactly 64 KiB + 1 byte (cors-spec R16)."""
    rule = b"<CORSRule><AllowedOrigin>http://a.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
    head, tail = b"<CORSConfiguration>", b"</CORSConfiguration>"
    n = (65537 - len(head) - len(tail)) // len(rule)
    doc = head + rule * n + b" " * (65537 - len(head) - len(tail) - len(rule) * n) + tail
    assert len(doc) == 65537
    return doc


def delete_many(n):
    objects = "".join(f"<Object><Key>k{i}</Key></Object>" for i in range(n))
    return f"<Delete>{objects}</Delete>".encode()


K = f"/{BUCKET}/keep.txt"


def cases():
    c = []

    def case(name, status, code, send):
        c.append(pytest.param(send, status, code, id=name))

    # Sizes and counts.
    # cors-spec R16: over 64 KB.
    case("cors-64KiB-plus-1", 400, "MaxMessageLengthExceeded",
         lambda p, s: signed(p, "PUT", f"/{BUCKET}", "cors", body=big_cors(), md5=True))
    case("delete-objects-1001-keys", 400, "MalformedXML",
         lambda p, s: signed(p, "POST", f"/{BUCKET}", "delete", body=delete_many(1001), md5=True))
    case("delete-objects-no-md5", 400, "InvalidRequest",
         lambda p, s: signed(p, "POST", f"/{BUCKET}", "delete", body=delete_many(1)))
    case("delete-objects-wrong-md5", 400, "BadDigest",
         lambda p, s: signed(p, "POST", f"/{BUCKET}", "delete", body=delete_many(1),
                             headers={"Content-MD5": base64.b64encode(b"0" * 16).decode()}))
    case("xml-body-over-limit", 400, "MaxMessageLengthExceeded",
         lambda p, s: signed(p, "POST", f"/{BUCKET}", "delete", body=b"<Delete>" + b" " * (3 << 20) + b"</Delete>",
                             md5=True))
    case("cors-empty-body", 400, "MissingRequestBodyError",
         lambda p, s: signed(p, "PUT", f"/{BUCKET}", "cors", body=b"", md5=True))
    case("policy-not-json", 400, "MalformedPolicy",
         lambda p, s: signed(p, "PUT", f"/{BUCKET}", "policy", body=b"<xml/>"))
    case("policy-too-large", 400, "MaxMessageLengthExceeded",
         lambda p, s: signed(p, "PUT", f"/{BUCKET}", "policy", body=b"{" + b" " * 30000 + b"}"))

    # Keys.
    case("key-1025-bytes", 400, "KeyTooLongError", lambda p, s: signed(p, "PUT", f"/{BUCKET}/" + "k" * 1025, body=b"x"))
    case("key-1025-bytes-get", 400, "KeyTooLongError", lambda p, s: signed(p, "GET", f"/{BUCKET}/" + "k" * 1025))
    case("key-invalid-utf8", 400, "InvalidURI", lambda p, s: signed(p, "PUT", f"/{BUCKET}/bad%FFkey", body=b"x"))
    # An overlong UTF-8 encoding of '/' (a classic traversal trick) is not UTF-8 at all.
    case("key-overlong-utf8-slash", 400, "InvalidURI",
         lambda p, s: signed(p, "PUT", f"/{BUCKET}/..%C0%AF..%C0%AFetc", body=b"x"))
    case("bucket-invalid-utf8", 400, "InvalidURI", lambda p, s: signed(p, "GET", "/b%FFd/key"))
    case("copy-source-traversal", 404, "NoSuchKey",
         lambda p, s: signed(p, "PUT", f"/{BUCKET}/copy", headers={"x-amz-copy-source": f"/{BUCKET}/../../etc/passwd"}))
    case("copy-source-other-bucket-missing", 404, "NoSuchBucket",
         lambda p, s: signed(p, "PUT", f"/{BUCKET}/copy", headers={"x-amz-copy-source": "/nope-bucket/x"}))
    case("copy-source-malformed", 400, "InvalidArgument",
         lambda p, s: signed(p, "PUT", f"/{BUCKET}/copy", headers={"x-amz-copy-source": "no-slash"}))

    # Headers.
    case("metadata-too-large", 400, "MetadataTooLarge",
         lambda p, s: signed(p, "PUT", f"/{BUCKET}/meta", headers={"x-amz-meta-big": "v" * 2100}, body=b"x"))
    case("header-section-over-limit", 400, "RequestHeaderSectionTooLarge",
         lambda p, s: signed(p, "GET", K, headers={"x-pad": "p" * 9000}))
    case("content-md5-not-base64", 400, "InvalidDigest",
         lambda p, s: signed(p, "PUT", f"/{BUCKET}/x", headers={"Content-MD5": "***"}, body=b"x"))
    case("content-md5-mismatch", 400, "BadDigest",
         lambda p, s: signed(p, "PUT", f"/{BUCKET}/x", headers={"Content-MD5": base64.b64encode(b"1" * 16).decode()},
                             body=b"x"))
    case("checksum-crc32-mismatch", 400, "BadDigest",
         lambda p, s: signed(p, "PUT", f"/{BUCKET}/x", headers={"x-amz-checksum-crc32": "AAAAAA=="}, body=b"x"))
    case("content-sha256-mismatch", 400, "XAmzContentSHA256Mismatch",
         lambda p, s: signed(p, "PUT", f"/{BUCKET}/x", body=b"x", send_body=b"y"))
    case("two-checksums", 400, "InvalidRequest",
         lambda p, s: signed(p, "PUT", f"/{BUCKET}/x",
                             headers={"x-amz-checksum-crc32": "AAAAAA==", "x-amz-checksum-sha1": "AAAAAAAAAAAAAAAAAAAAAAAAAAA="},
                             body=b"x"))
    case("unknown-storage-class", 400, "InvalidStorageClass",
         lambda p, s: signed(p, "PUT", f"/{BUCKET}/x", headers={"x-amz-storage-class": "ZZZ"}, body=b"x"))
    case("expected-owner-wrong", 403, "AccessDenied",
         lambda p, s: signed(p, "GET", K, headers={"x-amz-expected-bucket-owner": "111111111111"}))

    # Ranges.
    for name, rng, status, code in [
        ("range-beyond-end", "bytes=999999-", 416, "InvalidRange"),
        ("range-suffix-zero", "bytes=-0", 416, "InvalidRange"),
    ]:
        case(name, status, code, lambda p, s, rng=rng: signed(p, "GET", K, headers={"Range": rng}))
    for name, rng in [
        ("range-garbage", "bytes=abc"),
        ("range-reversed", "bytes=5-1"),
        ("range-wrong-unit", "items=0-1"),
        ("range-multiple", "bytes=0-1,4-5"),
        ("range-negative-start", "bytes=--5"),
        ("range-huge-number", "bytes=0-99999999999999999999999"),
    ]:
        # S3 ignores a Range it cannot parse and sends the whole object.
        case(name, 200, None, lambda p, s, rng=rng: signed(p, "GET", K, headers={"Range": rng}))

    # Listings.
    for value, status, code in [
        ("-1", 400, "InvalidArgument"),
        ("0", 200, None),
        (str(2**63), 400, "InvalidArgument"),
        ("abc", 400, "InvalidArgument"),
    ]:
        case(f"max-keys-{value[:6]}", status, code,
             lambda p, s, v=value: signed(p, "GET", f"/{BUCKET}", f"list-type=2&max-keys={v}"))
    case("list-v2-bad-token", 400, "InvalidArgument",
         lambda p, s: signed(p, "GET", f"/{BUCKET}", "list-type=2&continuation-token=bogus"))
    case("list-bad-encoding-type", 400, "InvalidArgument",
         lambda p, s: signed(p, "GET", f"/{BUCKET}", "list-type=2&encoding-type=base64"))
    case("max-uploads-negative", 400, "InvalidArgument",
         lambda p, s: signed(p, "GET", f"/{BUCKET}", "uploads&max-uploads=-1"))
    case("max-parts-negative", 400, "InvalidArgument",
         lambda p, s: signed(p, "GET", f"/{BUCKET}/mpu", f"uploadId={s.upload_id}&max-parts=-1"))

    # Multipart.
    for n in ["0", "10001", "-1", "abc"]:
        case(f"part-number-{n}", 400, "InvalidArgument",
             lambda p, s, n=n: signed(p, "PUT", f"/{BUCKET}/mpu", f"partNumber={n}&uploadId={s.upload_id}", body=b"x"))
    case("upload-id-unknown", 404, "NoSuchUpload",
         lambda p, s: signed(p, "PUT", f"/{BUCKET}/mpu", "partNumber=1&uploadId=nope", body=b"x"))
    case("upload-id-other-key", 404, "NoSuchUpload",
         lambda p, s: signed(p, "PUT", f"/{BUCKET}/other", f"partNumber=1&uploadId={s.upload_id}", body=b"x"))
    case("complete-no-parts", 400, "MalformedXML",
         lambda p, s: signed(p, "POST", f"/{BUCKET}/mpu", f"uploadId={s.upload_id}",
                             body=b"<CompleteMultipartUpload></CompleteMultipartUpload>"))
    case("complete-unknown-part", 400, "InvalidPart",
         lambda p, s: signed(p, "POST", f"/{BUCKET}/mpu", f"uploadId={s.upload_id}",
                             body=b'<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"00"</ETag></Part>'
                                  b"</CompleteMultipartUpload>"))
    case("get-part-number-0", 400, "InvalidArgument", lambda p, s: signed(p, "GET", K, "partNumber=0"))
    case("get-part-number-10001", 400, "InvalidArgument", lambda p, s: signed(p, "GET", K, "partNumber=10001"))

    # Authentication.
    def tampered(p, change):
        url = presigned(p, "GET", K)
        parts = urllib.parse.urlsplit(url)
        q = dict(urllib.parse.parse_qsl(parts.query))
        change(q)
        return plain(p, "GET", parts.path + "?" + urllib.parse.urlencode(q))

    case("presigned-signature-tampered", 403, "SignatureDoesNotMatch",
         lambda p, s: tampered(p, lambda q: q.update({"X-Amz-Signature": "0" * 64})))
    case("presigned-expires-extended", 403, "SignatureDoesNotMatch",
         lambda p, s: tampered(p, lambda q: q.update({"X-Amz-Expires": "604800"})))
    case("presigned-date-changed", 403, "SignatureDoesNotMatch",
         lambda p, s: tampered(p, lambda q: q.update({"X-Amz-Date": q["X-Amz-Date"][:-3] + "00Z"})))
    case("presigned-key-changed", 403, "SignatureDoesNotMatch",
         lambda p, s: (lambda u: plain(p, "GET", u.replace("keep.txt", "keep.tx2")))(
             urllib.parse.urlsplit(presigned(p, "GET", K))._replace(scheme="", netloc="").geturl()))
    case("presigned-unknown-key-id", 403, "InvalidAccessKeyId",
         lambda p, s: tampered(p, lambda q: q.update({"X-Amz-Credential": q["X-Amz-Credential"].replace(ACCESS_KEY, "nobody", 1)})))
    case("presigned-expires-over-7-days", 400, "AuthorizationQueryParametersError",
         lambda p, s: tampered(p, lambda q: q.update({"X-Amz-Expires": "604801"})))
    case("presigned-expires-negative", 400, "AuthorizationQueryParametersError",
         lambda p, s: tampered(p, lambda q: q.update({"X-Amz-Expires": "-1"})))
    case("presigned-bad-algorithm", 400, "AuthorizationQueryParametersError",
         lambda p, s: tampered(p, lambda q: q.update({"X-Amz-Algorithm": "AWS4-HMAC-MD5"})))
    case("presigned-missing-signature", 400, "AuthorizationQueryParametersError",
         lambda p, s: tampered(p, lambda q: q.pop("X-Amz-Signature")))

    def expired(p, s):
        url = presigned(p, "GET", K, expires=1)
        time.sleep(2.1)
        parts = urllib.parse.urlsplit(url)
        return plain(p, "GET", parts.path + "?" + parts.query)

    case("presigned-expired", 403, "AccessDenied", expired)
    case("header-auth-garbage", 400, "AuthorizationHeaderMalformed",
         lambda p, s: plain(p, "GET", K, {"Authorization": "AWS4-HMAC-SHA256 garbage"}))
    case("header-auth-unknown-scheme", 400, "InvalidArgument",
         lambda p, s: plain(p, "GET", K, {"Authorization": "Bearer abc"}))
    case("header-auth-wrong-signature", 403, "SignatureDoesNotMatch",
         lambda p, s: plain(p, "GET", K, {
             "Authorization": f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{time.strftime('%Y%m%d', time.gmtime())}"
                              "/us-east-1/s3/aws4_request, "
                              "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
             "x-amz-date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
             "x-amz-content-sha256": "UNSIGNED-PAYLOAD"}))
    case("header-auth-skewed", 403, "RequestTimeTooSkewed",
         lambda p, s: signed(p, "GET", K, at=datetime.datetime(2000, 1, 1)))
    case("anonymous-put", 403, "AccessDenied", lambda p, s: plain(p, "PUT", f"/{BUCKET}/anon", body=b"x"))
    case("anonymous-delete-bucket", 403, "AccessDenied", lambda p, s: plain(p, "DELETE", f"/{BUCKET}"))

    # Operations that must not change anything.
    case("delete-non-empty-bucket", 409, "BucketNotEmpty", lambda p, s: signed(p, "DELETE", f"/{BUCKET}"))
    case("if-match-wrong-put", 412, "PreconditionFailed",
         lambda p, s: signed(p, "PUT", K, headers={"If-Match": '"0"'}, body=b"overwritten"))
    case("if-none-match-star-put", 412, "PreconditionFailed",
         lambda p, s: signed(p, "PUT", K, headers={"If-None-Match": "*"}, body=b"overwritten"))
    case("unknown-subresource-method", 405, "MethodNotAllowed", lambda p, s: signed(p, "PATCH", K))
    case("bucket-name-invalid", 400, "InvalidBucketName", lambda p, s: signed(p, "PUT", "/Bad_Bucket"))
    case("object-lock-not-implemented", 501, "NotImplemented",
         lambda p, s: signed(p, "PUT", f"/{BUCKET}", "object-lock", body=b"<ObjectLockConfiguration/>", md5=True))

    # CORS request headers: bytes HTTP forbids in a field value are refused by the HTTP layer (a bare 400,
    # the connection closed); nothing is reflected.
    case("preflight-origin-control-char", 400, None,
         lambda p, s: plain(p, "OPTIONS", K, {"Origin": "http://app.example\x01", "Access-Control-Request-Method": "GET"}))
    case("preflight-acrh-control-char", 400, None,
         lambda p, s: plain(p, "OPTIONS", K, {"Origin": "http://app.example", "Access-Control-Request-Method": "GET",
                                              "Access-Control-Request-Headers": "x-a\x7fb"}))
    # cors-spec R44: an ACRM S3 does not accept is a 400 naming it.
    case("preflight-method-garbage", 400, "BadRequest",
         lambda p, s: plain(p, "OPTIONS", K, {"Origin": "http://app.example", "Access-Control-Request-Method": "G E T"}))
    # cors-spec R41: OPTIONS without an Origin.
    case("preflight-no-origin", 400, "BadRequest",
         lambda p, s: plain(p, "OPTIONS", K, {"Access-Control-Request-Method": "GET"}))
    case("preflight-origin-8KiB", 403, "AccessForbidden",
         lambda p, s: plain(p, "OPTIONS", K, {"Origin": "http://" + "a" * 7000, "Access-Control-Request-Method": "GET"}))
    return c


@pytest.mark.parametrize(("send", "status", "code"), cases())
def test_hostile_request(srv, send, status, code):
    before = fingerprint(srv.port)
    r = send(srv.port, srv)
    assert (r.status, r.code) == (status, code), r.body[:400]
    for name in r.headers:
        assert "\x01" not in r.headers[name] and "\x7f" not in r.headers[name]
    assert_still_serving(srv, before)


# ---------------------------------------------------------------------------------------------
# The HTTP layer: bytes that never become an S3 request.


def test_crlf_in_origin_is_a_separate_header_never_reflected(srv):
    before = fingerprint(srv.port)
    data, _ = raw(
        srv.port,
        f"OPTIONS {K} HTTP/1.1\r\nHost: x\r\nOrigin: http://app.example\r\nX-Injected: yes\r\n"
        "Access-Control-Request-Method: GET\r\nConnection: close\r\n\r\n".encode(),
    )
    r = parse_raw(data)
    assert r.status == 200
    assert r.header("access-control-allow-origin") == "http://app.example"
    assert "x-injected" not in r.headers
    assert_still_serving(srv, before)


@pytest.mark.parametrize(
    "line",
    [
        b"Origin: http://app.example\x00evil",
        b"Origin: http://app.example\revil",
        b"Access-Control-Request-Headers: x-a\x00",
        b"x-amz-meta-a: \x01\x02",
    ],
    ids=["nul-in-origin", "bare-cr-in-origin", "nul-in-acrh", "control-in-metadata"],
)
def test_invalid_header_bytes_are_refused(srv, line):
    before = fingerprint(srv.port)
    data, closed = raw(
        srv.port,
        f"OPTIONS {K} HTTP/1.1\r\nHost: x\r\nAccess-Control-Request-Method: GET\r\n".encode() + line + b"\r\n\r\n",
    )
    r = parse_raw(data)
    assert r.status == 400 and closed
    assert b"evil" not in data
    assert_still_serving(srv, before)


def test_thousands_of_headers_are_refused(srv):
    before = fingerprint(srv.port)
    headers = b"".join(b"x-h%d: v\r\n" % i for i in range(3000))
    data, closed = raw(srv.port, f"GET {K} HTTP/1.1\r\nHost: x\r\n".encode() + headers + b"\r\n")
    assert parse_raw(data).status == 431 and closed
    assert_still_serving(srv, before)


def test_header_section_far_over_the_limit_is_refused_unread(srv):
    before = fingerprint(srv.port)
    data, closed = raw(srv.port, f"GET {K} HTTP/1.1\r\nHost: x\r\nx-pad: {'p' * 200_000}\r\n\r\n".encode())
    assert parse_raw(data).status == 431 and closed
    assert_still_serving(srv, before)


def test_garbage_request_line(srv):
    before = fingerprint(srv.port)
    data, closed = raw(srv.port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n")
    assert parse_raw(data).status == 400 and closed
    assert_still_serving(srv, before)


def put_raw(port, key, body, declared):
    url = presigned(port, "PUT", f"/{BUCKET}/{key}")
    target = url.split(f"127.0.0.1:{port}", 1)[1]
    return f"PUT {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {declared}\r\n\r\n".encode() + body


def test_content_length_longer_than_body_times_out_and_stores_nothing(srv):
    before = fingerprint(srv.port)
    started = time.monotonic()
    data, closed = raw(srv.port, put_raw(srv.port, "short-body", b"only ten b", 100), timeout=15)
    r = parse_raw(data)
    assert (r.status, r.code) == (400, "RequestTimeout")
    assert closed and time.monotonic() - started < 10
    assert signed(srv.port, "HEAD", f"/{BUCKET}/short-body").status == 404
    assert_still_serving(srv, before)


def test_content_length_shorter_than_body_stores_the_declared_bytes_and_refuses_the_rest(srv):
    data, _ = raw(srv.port, put_raw(srv.port, "long-body", b"0123456789 and then some garbage", 10), timeout=5)
    assert data.startswith(b"HTTP/1.1 200")
    assert b"HTTP/1.1 400" in data  # the trailing bytes are not a request
    got = signed(srv.port, "GET", f"/{BUCKET}/long-body")
    assert got.status == 200 and got.body == b"0123456789"
    assert signed(srv.port, "DELETE", f"/{BUCKET}/long-body").status == 204


def test_stalled_headers_are_closed_and_others_are_served_meanwhile(srv):
    before = fingerprint(srv.port)
    result = {}

    def slowloris():
        request = f"GET {K} HTTP/1.1\r\nHost: x\r\nx-slow: ".encode()
        started = time.monotonic()
        result["data"], result["closed"] = raw(srv.port, b"", chunks=[bytes([b]) for b in request], pause=0.2, timeout=15)
        result["seconds"] = time.monotonic() - started

    t = threading.Thread(target=slowloris)
    t.start()
    time.sleep(0.5)
    for _ in range(5):
        assert signed(srv.port, "GET", K).status == 200
    t.join()
    # Closed by the header read timeout (2 s), well before the byte-by-byte sender finished.
    assert result["closed"] and result["seconds"] < 10
    assert_still_serving(srv, before)


def test_stalled_body_is_request_timeout_and_others_are_served_meanwhile(srv):
    before = fingerprint(srv.port)
    result = {}

    def stall():
        request = put_raw(srv.port, "stalled", b"", 1000)
        result["data"], result["closed"] = raw(srv.port, b"", chunks=[request, b"a", b"b", b"c"], pause=0.3, timeout=15)

    t = threading.Thread(target=stall)
    t.start()
    time.sleep(0.3)
    for _ in range(5):
        assert signed(srv.port, "GET", K).status == 200
    t.join()
    r = parse_raw(result["data"])
    assert (r.status, r.code) == (400, "RequestTimeout") and result["closed"]
    assert signed(srv.port, "HEAD", f"/{BUCKET}/stalled").status == 404
    assert_still_serving(srv, before)


def test_idle_keep_alive_connection_is_closed(srv):
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=15)
    try:
        s.sendall(f"GET /_s3cors/health HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        first = s.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert s.recv(65536) == b""  # the server closes the idle connection
        assert time.monotonic() - started < 10
    finally:
        s.close()


def test_keep_alive_connection_with_requests_inside_the_header_timeout_stays_open(srv):
    # Each wait for a header section is shorter than the timeout (2 s); together they are longer,
    # so a deadline left over from an earlier request must not close the connection.
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=15)
    try:
        started = time.monotonic()
        for _ in range(9):
            s.sendall(b"GET /_s3cors/health HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(65536).startswith(b"HTTP/1.1 200")
            time.sleep(0.5)
        assert time.monotonic() - started > 4
        s.sendall(b"GET /_s3cors/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
    finally:
        s.close()


# ---------------------------------------------------------------------------------------------
# Keys shaped like paths are keys: stored and returned as given, never touching other files.


@pytest.mark.parametrize(
    "key",
    ["../../etc/passwd", "/abs", "a/../../b", "%2e%2e/x", "..", ".", "./x", "a//b", "\\..\\x", "nul\x00in-key"],
)
def test_traversal_shaped_keys_are_plain_keys(srv, key):
    data_dir = srv.data_dir.resolve()
    outside = data_dir.parent / "outside-canary"
    outside.write_bytes(b"canary")
    body = f"the object named {key!r}".encode()
    path = f"/{BUCKET}/" + urllib.parse.quote(key, safe="/")
    assert signed(srv.port, "PUT", path, body=body).status == 200
    got = signed(srv.port, "GET", path)
    assert got.status == 200 and got.body == body
    listing = signed(srv.port, "GET", f"/{BUCKET}", "list-type=2&encoding-type=url&prefix=" + urllib.parse.quote(key, safe=""))
    listed = [urllib.parse.unquote(k.decode()) for k in re.findall(rb"<Key>([^<]*)</Key>", listing.body)]
    assert key in listed, (key, listed)
    assert signed(srv.port, "DELETE", path).status == 204
    assert signed(srv.port, "GET", path).status == 404
    assert outside.read_bytes() == b"canary"
    for f in data_dir.parent.rglob("*"):
        assert f == outside or f.is_relative_to(data_dir), f


def test_connections_beyond_the_limit_wait_until_one_closes(tmp_path):
    s = Server(tmp_path / "data", "--max-connections", "2", "--header-read-timeout", "2")
    try:
        idle = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(2)]
        time.sleep(0.2)
        third = socket.create_connection(("127.0.0.1", s.port), timeout=0.8)
        third.sendall(b"GET /_s3cors/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        with pytest.raises(TimeoutError):
            third.recv(65536)  # not served while two connections are open
        third.settimeout(10)
        started = time.monotonic()
        # The two idle connections are closed by the header read timeout; then the third is served.
        assert third.recv(65536).startswith(b"HTTP/1.1 200")
        assert time.monotonic() - started < 5
        for c in idle + [third]:
            c.close()
    finally:
        s.stop()
