//! Authentication: SigV4 (header, presigned, signed aws-chunked bodies) and SigV2 presigned URLs,
//! verified as S3 verifies them.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::presigning::PresigningConfig;

use crate::harness::{Server, client_with_secret, code, status};
use crate::raw::{AUTH, send, sign_head};

fn element<'a>(body: &'a str, tag: &str) -> &'a str {
    body.split(&format!("<{tag}>"))
        .nth(1)
        .and_then(|s| s.split(&format!("</{tag}>")).next())
        .unwrap_or("")
}

#[tokio::test]
async fn a_wrong_secret_is_signature_does_not_match() {
    let server = Server::start();
    let err = client_with_secret(&server.endpoint(), "not-the-secret")
        .list_buckets()
        .send()
        .await
        .expect_err("wrong secret");
    assert_eq!(
        (code(&err), status(&err)),
        ("SignatureDoesNotMatch".to_owned(), 403)
    );
    let err = client_with_secret(&server.endpoint(), "not-the-secret")
        .create_bucket()
        .bucket("nope")
        .send()
        .await
        .expect_err("wrong");
    assert_eq!(code(&err), "SignatureDoesNotMatch");
    assert!(
        server
            .client()
            .list_buckets()
            .send()
            .await
            .expect("list")
            .buckets()
            .is_empty(),
        "nothing created"
    );
}

#[tokio::test]
async fn presigned_urls_work_until_they_expire() {
    let server = Server::start();
    let s3 = server.client();
    s3.create_bucket().bucket("pre").send().await.expect("bucket");
    s3.put_object()
        .bucket("pre")
        .key("k")
        .body(b"presigned body".to_vec().into())
        .send()
        .await
        .expect("put");
    let fresh = s3
        .get_object()
        .bucket("pre")
        .key("k")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(60)).expect("config"))
        .await
        .expect("presign");
    let path = fresh
        .uri()
        .split_once(&server.endpoint())
        .map(|(_, p)| p.to_owned())
        .expect("path");
    let r = send(server.port, &format!("GET {path} HTTP/1.1\n"), b"");
    assert_eq!((r.status, r.body.as_str()), (200, "presigned body"));
    // Tampering with any signed part breaks the signature.
    let tampered = path.replace("/pre/k", "/pre/other");
    let r = send(server.port, &format!("GET {tampered} HTTP/1.1\n"), b"");
    assert_eq!(
        (r.status, element(&r.body, "Code")),
        (403, "SignatureDoesNotMatch")
    );
    let r = send(
        server.port,
        &format!(
            "GET {} HTTP/1.1\n",
            path.replace("X-Amz-Expires=60", "X-Amz-Expires=61")
        ),
        b"",
    );
    assert_eq!(element(&r.body, "Code"), "SignatureDoesNotMatch");
    // Signed two hours ago for one hour: expired.
    let past = PresigningConfig::builder()
        .start_time(SystemTime::now() - Duration::from_secs(7200))
        .expires_in(Duration::from_secs(3600))
        .build()
        .expect("config");
    let old = s3
        .get_object()
        .bucket("pre")
        .key("k")
        .presigned(past)
        .await
        .expect("presign");
    let path = old
        .uri()
        .split_once(&server.endpoint())
        .map(|(_, p)| p.to_owned())
        .expect("path");
    let r = send(server.port, &format!("GET {path} HTTP/1.1\n"), b"");
    assert_eq!(
        (r.status, element(&r.body, "Code"), element(&r.body, "Message")),
        (403, "AccessDenied", "Request has expired")
    );
    // More than seven days is refused outright.
    let long = path.replace("X-Amz-Expires=3600", "X-Amz-Expires=604801");
    let r = send(server.port, &format!("GET {long} HTTP/1.1\n"), b"");
    assert_eq!(
        (r.status, element(&r.body, "Code")),
        (400, "AuthorizationQueryParametersError")
    );
}

#[test]
fn clock_skew_and_payload_hash_are_checked() {
    let server = Server::start();
    let p = server.port;
    assert_eq!(send(p, &format!("PUT /skew HTTP/1.1\n{AUTH}"), b"").status, 200);
    // A request signed 20 minutes ago.
    let host = format!("127.0.0.1:{p}");
    let head = crate::raw::sign_head_at(
        &host,
        "GET /skew HTTP/1.1\n",
        b"",
        SystemTime::now() - Duration::from_secs(1200),
    );
    let r = crate::raw::send_raw_head(p, &host, &head, b"");
    assert_eq!(
        (r.status, element(&r.body, "Code")),
        (403, "RequestTimeTooSkewed")
    );
    // A body that does not hash to the signed x-amz-content-sha256.
    let claimed = "0000000000000000000000000000000000000000000000000000000000000000";
    let head = sign_head(
        &host,
        &format!("PUT /skew/k HTTP/1.1\nx-amz-content-sha256: {claimed}\n"),
        b"body",
    );
    let r = crate::raw::send_raw_head(p, &host, &head, b"body");
    assert_eq!(
        (r.status, element(&r.body, "Code")),
        (400, "XAmzContentSHA256Mismatch")
    );
    assert_eq!(
        send(p, &format!("GET /skew/k HTTP/1.1\n{AUTH}"), b"").status,
        404,
        "nothing stored"
    );
    // A signature over other headers than those sent.
    let head = sign_head(&host, "PUT /skew/k HTTP/1.1\nx-amz-meta-a: 1\n", b"");
    let r = crate::raw::send_raw_head(p, &host, &head.replace("x-amz-meta-a: 1", "x-amz-meta-a: 2"), b"");
    assert_eq!(element(&r.body, "Code"), "SignatureDoesNotMatch");
    assert!(
        !element(&r.body, "CanonicalRequest").is_empty(),
        "S3 shows the canonical request it computed"
    );
}

/// A body in `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` framing, chunk signatures computed here with the
/// algorithm of the AWS documentation; a broken link in the chain is refused and nothing is stored.
#[test]
fn signed_chunks_are_verified() {
    use hmac::{Hmac, Mac};
    use sha2::{Digest, Sha256};
    let server = Server::start();
    let p = server.port;
    let host = format!("127.0.0.1:{p}");
    assert_eq!(send(p, &format!("PUT /chunks HTTP/1.1\n{AUTH}"), b"").status, 200);
    let hmac = |key: &[u8], data: &str| {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("key");
        m.update(data.as_bytes());
        m.finalize().into_bytes().to_vec()
    };
    #[derive(PartialEq, Clone, Copy)]
    enum Break {
        Nothing,
        Signature,
        DataByte,
        Truncate,
        TrailerChecksum,
    }
    let chunked = |fault: Break, trailer: bool| {
        let data: [&[u8]; 2] = [&[b'x'; 70_000], b"tail"];
        let mode = if trailer {
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER\nx-amz-trailer: x-amz-checksum-crc32"
        } else {
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
        };
        let head = sign_head(
            &host,
            &format!(
                "PUT /chunks/signed HTTP/1.1\nx-amz-content-sha256: {mode}\n\
                 content-encoding: aws-chunked\nx-amz-decoded-content-length: 70004\n"
            ),
            b"",
        );
        let field = |name: &str| {
            head.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                .expect(name)
                .to_owned()
        };
        let amz_date = field("x-amz-date");
        let seed = field("authorization")
            .rsplit("Signature=")
            .next()
            .expect("signature")
            .to_owned();
        let scope = format!("{}/us-east-1/s3/aws4_request", &amz_date[..8]);
        let key = hmac(
            &hmac(
                &hmac(&hmac(b"AWS4s3cors-secret", &amz_date[..8]), "us-east-1"),
                "s3",
            ),
            "aws4_request",
        );
        let empty = hex::encode(Sha256::digest(b""));
        let mut previous = seed;
        let mut body = Vec::new();
        for (i, chunk) in data.iter().copied().chain(std::iter::once(&b""[..])).enumerate() {
            let sts = format!(
                "AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{empty}\n{}",
                hex::encode(Sha256::digest(chunk))
            );
            let mut sig = hex::encode(hmac(&key, &sts));
            if fault == Break::Signature && i == 1 {
                sig = sig.replace(&sig[..1], if &sig[..1] == "0" { "1" } else { "0" });
            }
            body.extend_from_slice(format!("{:x};chunk-signature={sig}\r\n", chunk.len()).as_bytes());
            let mut bytes = chunk.to_vec();
            if fault == Break::DataByte && i == 0 {
                bytes[100] ^= 1;
            }
            body.extend_from_slice(&bytes);
            if !chunk.is_empty() {
                body.extend_from_slice(b"\r\n");
            }
            previous = sig;
        }
        if trailer {
            let mut crc = crc32fast::Hasher::new();
            crc.update(&data.concat());
            let mut value = base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                crc.finalize().to_be_bytes(),
            );
            if fault == Break::TrailerChecksum {
                value = "AAAAAA==".to_owned();
            }
            let text = format!("x-amz-checksum-crc32:{value}\n");
            let sts = format!(
                "AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n{}",
                hex::encode(Sha256::digest(text.as_bytes()))
            );
            let sig = hex::encode(hmac(&key, &sts));
            body.extend_from_slice(
                format!("x-amz-checksum-crc32:{value}\r\nx-amz-trailer-signature:{sig}\r\n").as_bytes(),
            );
        }
        body.extend_from_slice(b"\r\n");
        if fault == Break::Truncate {
            body.truncate(body.len() / 2);
        }
        crate::raw::send_raw_head(p, &host, &head, &body)
    };
    let stored = || send(p, &format!("HEAD /chunks/signed HTTP/1.1\n{AUTH}"), b"").status;
    for (fault, code) in [
        (Break::Signature, "SignatureDoesNotMatch"),
        (Break::DataByte, "SignatureDoesNotMatch"),
        (Break::Truncate, "IncompleteBody"),
    ] {
        let r = chunked(fault, false);
        assert_eq!(element(&r.body, "Code"), code, "{}", r.body);
        assert_eq!(stored(), 404, "nothing stored after {code}");
    }
    let r = chunked(Break::TrailerChecksum, true);
    assert_eq!(
        (r.status, element(&r.body, "Code")),
        (400, "BadDigest"),
        "{}",
        r.body
    );
    assert_eq!(stored(), 404, "nothing stored after a wrong trailer checksum");
    let r = chunked(Break::Nothing, true);
    assert_eq!(r.status, 200, "signed chunks with a signed trailer: {}", r.body);
    let r = chunked(Break::Nothing, false);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = send(p, &format!("GET /chunks/signed HTTP/1.1\n{AUTH}"), b"");
    assert_eq!(r.body.len(), 70_004);
    assert!(r.body.ends_with("xxtail"));
}

#[test]
fn sigv2_presigned_urls_from_boto3_style_query() {
    use hmac::{Hmac, Mac};
    let server = Server::start();
    let p = server.port;
    assert_eq!(send(p, &format!("PUT /sigv2 HTTP/1.1\n{AUTH}"), b"").status, 200);
    assert_eq!(
        send(p, &format!("PUT /sigv2/k HTTP/1.1\n{AUTH}"), b"v2 body").status,
        200
    );
    let url = |expires: u64, secret: &str| {
        let sts = format!("GET\n\n\n{expires}\n/sigv2/k");
        let mut m = <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret.as_bytes()).expect("key");
        m.update(sts.as_bytes());
        let sig = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            m.finalize().into_bytes(),
        );
        let sig: String = url_escape(&sig);
        format!("/sigv2/k?AWSAccessKeyId=s3cors&Expires={expires}&Signature={sig}")
    };
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let r = send(
        p,
        &format!("GET {} HTTP/1.1\n", url(now + 60, "s3cors-secret")),
        b"",
    );
    assert_eq!((r.status, r.body.as_str()), (200, "v2 body"));
    let r = send(p, &format!("GET {} HTTP/1.1\n", url(now + 60, "wrong")), b"");
    assert_eq!(element(&r.body, "Code"), "SignatureDoesNotMatch");
    let r = send(
        p,
        &format!("GET {} HTTP/1.1\n", url(now - 60, "s3cors-secret")),
        b"",
    );
    assert_eq!(
        (element(&r.body, "Code"), element(&r.body, "Message")),
        ("AccessDenied", "Request has expired")
    );
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
