//! Raw HTTP checks of what no SDK shows: the error document, request ids, 501 for what is not
//! implemented, anonymous and unknown-key requests, and the health endpoint.

use std::io::{Read, Write};
use std::net::TcpStream;

use crate::harness::Server;

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request with `Connection: close` and reads the whole reply.
pub(crate) fn send(port: u16, head: &str, body: &[u8]) -> Reply {
    send_with_host(port, &format!("127.0.0.1:{port}"), head, body)
}

/// [`send`] with a given `Host`.
pub(crate) fn send_with_host(port: u16, host: &str, head: &str, body: &[u8]) -> Reply {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut req = head.replace('\n', "\r\n");
    req.push_str(&format!(
        "Host: {host}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    s.write_all(req.as_bytes()).expect("write");
    s.write_all(body).expect("write body");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("header end");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

const AUTH: &str = "Authorization: AWS4-HMAC-SHA256 Credential=s3cors/20260101/us-east-1/s3/aws4_request, \
                    SignedHeaders=host, Signature=00\n";

#[test]
fn errors_are_s3_documents_with_request_ids() {
    let server = Server::start();
    let r = send(
        server.port,
        &format!("GET /no-such-bucket/key HTTP/1.1\n{AUTH}"),
        b"",
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.header("content-type"), Some("application/xml"));
    let id = r.header("x-amz-request-id").expect("request id").to_owned();
    assert_eq!(id.len(), 16);
    assert!(r.header("x-amz-id-2").is_some());
    assert_eq!(
        r.body,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified \
             bucket does not exist</Message><BucketName>no-such-bucket</BucketName><RequestId>{id}</RequestId>\
             <HostId>{}</HostId></Error>",
            r.header("x-amz-id-2").unwrap_or_default()
        )
    );
    let again = send(
        server.port,
        &format!("GET /no-such-bucket/key HTTP/1.1\n{AUTH}"),
        b"",
    );
    assert_ne!(
        again.header("x-amz-request-id"),
        Some(id.as_str()),
        "ids are unique"
    );
}

#[test]
fn unimplemented_operations_answer_501() {
    let server = Server::start();
    assert_eq!(
        send(server.port, &format!("PUT /bkt HTTP/1.1\n{AUTH}"), b"").status,
        200
    );
    for target in [
        "GET /bkt?lifecycle",
        "PUT /bkt?tagging",
        "GET /bkt/obj?acl",
        "PUT /bkt?policy",
        "GET /bkt/k?tagging",
    ] {
        let r = send(server.port, &format!("{target} HTTP/1.1\n{AUTH}"), b"");
        assert_eq!(r.status, 501, "{target}");
        assert!(
            r.body.contains("<Code>NotImplemented</Code>"),
            "{target}: {}",
            r.body
        );
    }
    let r = send(server.port, &format!("PATCH /bkt/k HTTP/1.1\n{AUTH}"), b"");
    assert_eq!(r.status, 405);
    assert!(r.body.contains("<Code>MethodNotAllowed</Code>"));
}

#[test]
fn anonymous_and_unknown_keys_are_refused() {
    let server = Server::start();
    let r = send(server.port, "GET / HTTP/1.1\n", b"");
    assert_eq!(r.status, 403);
    assert!(r.body.contains("<Code>AccessDenied</Code>"));
    let r = send(
        server.port,
        "GET / HTTP/1.1\nAuthorization: AWS4-HMAC-SHA256 Credential=intruder/20260101/us-east-1/s3/aws4_request, \
         SignedHeaders=host, Signature=00\n",
        b"",
    );
    assert_eq!(r.status, 403);
    assert!(r.body.contains("<Code>InvalidAccessKeyId</Code>"));
    assert!(r.body.contains("<AWSAccessKeyId>intruder</AWSAccessKeyId>"));
}

#[test]
fn put_without_content_length_is_411_and_malformed_xml_is_400() {
    let server = Server::start();
    send(server.port, &format!("PUT /bkt HTTP/1.1\n{AUTH}"), b"");
    // Chunked transfer encoding without aws-chunked: S3 wants a length.
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    let req = format!(
        "PUT /bkt/k HTTP/1.1\r\nHost: 127.0.0.1\r\n{}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        AUTH.replace('\n', "\r\n")
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    assert!(out.starts_with("HTTP/1.1 411"), "{out}");
    assert!(out.contains("<Code>MissingContentLength</Code>"));
    let delete = |body: &[u8]| {
        let md5 = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            <md5::Md5 as md5::Digest>::digest(body),
        );
        send(
            server.port,
            &format!("POST /bkt?delete HTTP/1.1\n{AUTH}Content-MD5: {md5}\n"),
            body,
        )
    };
    let r = delete(b"<Delete><Object>");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("<Code>MalformedXML</Code>"));
    let bomb = br#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><Delete><Object><Key>&b;</Key></Object></Delete>"#;
    let r = delete(bomb);
    assert!(r.body.contains("<Code>MalformedXML</Code>"), "{}", r.body);
    // DeleteObjects requires an integrity header, as S3 does.
    let r = send(
        server.port,
        &format!("POST /bkt?delete HTTP/1.1\n{AUTH}"),
        b"<Delete><Object><Key>k</Key></Object></Delete>",
    );
    assert_eq!(r.status, 400);
    assert!(
        r.body
            .contains("Missing required header for this request: Content-MD5 OR x-amz-checksum-*"),
        "{}",
        r.body
    );
}

#[test]
fn health_and_head_errors_have_no_body() {
    let server = Server::start();
    let r = send(server.port, "GET /_s3cors/health HTTP/1.1\n", b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, "{\"status\":\"ok\"}");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_s3cors"))
        .args(["health", "--listen", &format!("127.0.0.1:{}", server.port)])
        .status()
        .expect("run health");
    assert!(status.success());
    let r = send(server.port, &format!("HEAD /nope/k HTTP/1.1\n{AUTH}"), b"");
    assert_eq!(r.status, 404);
    assert_eq!(r.body, "");
}

#[test]
fn aws_chunked_bodies_are_stored_decoded() {
    let server = Server::start();
    send(server.port, &format!("PUT /bkt HTTP/1.1\n{AUTH}"), b"");
    let body = b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
    let r = send(
        server.port,
        &format!(
            "PUT /bkt/chunked HTTP/1.1\n{AUTH}x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\n\
             Content-Encoding: aws-chunked\nx-amz-decoded-content-length: 11\nx-amz-trailer: x-amz-checksum-crc32\n"
        ),
        body,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let r = send(server.port, &format!("GET /bkt/chunked HTTP/1.1\n{AUTH}"), b"");
    assert_eq!(r.body, "hello world");
    assert_eq!(
        r.header("content-type"),
        Some("binary/octet-stream"),
        "S3's default content type"
    );
    assert_eq!(
        r.header("content-encoding"),
        None,
        "aws-chunked is framing, not content"
    );
}

#[test]
fn non_ascii_metadata_is_read_as_latin1_and_returned_as_an_encoded_word() {
    let server = Server::start();
    send(server.port, &format!("PUT /bkt HTTP/1.1\n{AUTH}"), b"");
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    let mut req = format!(
        "PUT /bkt/k HTTP/1.1\r\nHost: x\r\n{}Content-Length: 0\r\nConnection: close\r\n",
        AUTH.replace('\n', "\r\n")
    )
    .into_bytes();
    req.extend_from_slice(b"x-amz-meta-latin: Hello World\xe9\r\n\r\n");
    s.write_all(&req).expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    assert!(
        out.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&out)
    );
    let r = send(server.port, &format!("HEAD /bkt/k HTTP/1.1\n{AUTH}"), b"");
    assert_eq!(
        r.header("x-amz-meta-latin"),
        Some("=?UTF-8?B?SGVsbG8gV29ybGTDqQ==?=")
    );
}
