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

/// Sends one request with `Connection: close` and reads the whole reply. A head containing the
/// [`AUTH`] line is signed with SigV4 for the default account (by aws-sigv4, the SDKs' signer).
pub(crate) fn send(port: u16, head: &str, body: &[u8]) -> Reply {
    send_with_host(port, &format!("127.0.0.1:{port}"), head, body)
}

/// Signs a request head (`METHOD TARGET HTTP/1.1\nName: value\n…`) and returns the head with
/// `Authorization`, `x-amz-date` and `x-amz-content-sha256` added.
pub(crate) fn sign_head(host: &str, head: &str, body: &[u8]) -> String {
    sign_head_at(host, head, body, std::time::SystemTime::now())
}

/// [`sign_head`] as of a given time.
pub(crate) fn sign_head_at(host: &str, head: &str, body: &[u8], time: std::time::SystemTime) -> String {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let mut lines = head.lines();
    let request_line = lines.next().expect("request line");
    let mut parts = request_line.split(' ');
    let (method, target) = (parts.next().expect("method"), parts.next().expect("target"));
    let mut headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty() && *l != SIGN_MARKER)
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        })
        .collect();
    let payload_hash = match headers.iter().find(|(k, _)| k == "x-amz-content-sha256") {
        Some((_, v)) => v.clone(),
        None => {
            let h = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body));
            headers.push(("x-amz-content-sha256".into(), h.clone()));
            h
        }
    };
    headers.push(("host".into(), host.to_owned()));
    let identity =
        aws_credential_types::Credentials::new("s3cors", "s3cors-secret", None, None, "e2e").into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = aws_sigv4::http_request::PercentEncodingMode::Single;
    settings.payload_checksum_kind = aws_sigv4::http_request::PayloadChecksumKind::XAmzSha256;
    settings.uri_path_normalization_mode = aws_sigv4::http_request::UriPathNormalizationMode::Disabled;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(time)
        .settings(settings)
        .build()
        .expect("params")
        .into();
    let uri = format!("http://{host}{target}");
    let signable = SignableRequest::new(
        method,
        uri.as_str(),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Precomputed(payload_hash),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let mut out = format!("{request_line}\n");
    for (k, v) in headers.iter().filter(|(k, _)| k != "host") {
        out.push_str(&format!("{k}: {v}\n"));
    }
    for h in instructions
        .headers()
        .filter(|h| !headers.iter().any(|(k, _)| k == h.0))
    {
        out.push_str(&format!("{}: {}\n", h.0, h.1));
    }
    out
}

/// [`send`] with a given `Host`.
pub(crate) fn send_with_host(port: u16, host: &str, head: &str, body: &[u8]) -> Reply {
    let head = if head.lines().any(|l| l == SIGN_MARKER) {
        sign_head(host, head, body)
    } else {
        head.to_owned()
    };
    send_raw_head(port, host, &head, body)
}

/// Sends a head exactly as given (plus `Host`, `Connection: close` and `Content-Length`).
pub(crate) fn send_raw_head(port: u16, host: &str, head: &str, body: &[u8]) -> Reply {
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

/// The line that asks [`send`] to sign a request.
const SIGN_MARKER: &str = "X-Test-Sign: sigv4";
/// Put in a request head to have it signed.
pub(crate) const AUTH: &str = "X-Test-Sign: sigv4\n";

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
        "GET /bkt?website",
        "PUT /bkt?encryption",
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
    let host = format!("127.0.0.1:{}", server.port);
    let head = sign_head(
        &host,
        "PUT /bkt/k HTTP/1.1\nx-amz-content-sha256: UNSIGNED-PAYLOAD\n",
        b"",
    );
    let req = format!(
        "{}Host: {host}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        head.replace('\n', "\r\n")
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

/// `Content-Length` of whole and ranged GETs and of HEAD, on both stores (the memory store's bodies
/// leave the header to hyper, which writes it from the body's exact size).
#[test]
fn object_reads_carry_their_content_length_on_both_stores() {
    for server in [Server::start(), Server::start_memory()] {
        send(server.port, &format!("PUT /bkt HTTP/1.1\n{AUTH}"), b"");
        for (key, body) in [("five", &b"hello"[..]), ("empty", &b""[..])] {
            let r = send(server.port, &format!("PUT /bkt/{key} HTTP/1.1\n{AUTH}"), body);
            assert_eq!(r.status, 200, "{}", r.body);
            let r = send(server.port, &format!("GET /bkt/{key} HTTP/1.1\n{AUTH}"), b"");
            assert_eq!((r.status, r.body.as_bytes()), (200, body));
            assert_eq!(r.header("content-length"), Some(body.len().to_string().as_str()));
            let r = send(server.port, &format!("HEAD /bkt/{key} HTTP/1.1\n{AUTH}"), b"");
            assert_eq!(r.header("content-length"), Some(body.len().to_string().as_str()));
        }
        let r = send(
            server.port,
            &format!("GET /bkt/five HTTP/1.1\n{AUTH}Range: bytes=1-3\n"),
            b"",
        );
        assert_eq!((r.status, r.body.as_str()), (206, "ell"));
        assert_eq!(r.header("content-length"), Some("3"));
        assert_eq!(r.header("content-range"), Some("bytes 1-3/5"));
    }
}

#[test]
fn non_ascii_metadata_is_read_as_latin1_and_returned_as_an_encoded_word() {
    let server = Server::start();
    send(server.port, &format!("PUT /bkt HTTP/1.1\n{AUTH}"), b"");
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    // The latin-1 header cannot go through the signer (it takes text), so it is added unsigned.
    let host = format!("127.0.0.1:{}", server.port);
    let head = sign_head(&host, "PUT /bkt/k HTTP/1.1\n", b"");
    let mut req = format!(
        "{}Host: {host}\r\nContent-Length: 0\r\nConnection: close\r\n",
        head.replace('\n', "\r\n")
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

/// Reads one HTTP/1.1 response with a Content-Length body from a kept-alive connection.
fn read_one(s: &mut TcpStream) -> (u16, String) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).expect("read head");
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).expect("read body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// boto3 sends `Expect: 100-continue` even for an empty body; the connection must stay usable.
#[test]
fn expect_continue_with_an_empty_body_keeps_the_connection() {
    let server = Server::start();
    send(server.port, &format!("PUT /cont HTTP/1.1\n{AUTH}"), b"");
    let host = format!("127.0.0.1:{}", server.port);
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    let put = sign_head(&host, "PUT /cont/empty HTTP/1.1\nExpect: 100-continue\n", b"");
    s.write_all(
        format!(
            "{}Host: {host}\r\nContent-Length: 0\r\n\r\n",
            put.replace('\n', "\r\n")
        )
        .as_bytes(),
    )
    .expect("write");
    let (status, _) = read_one(&mut s);
    assert_eq!(status, 200);
    let get = sign_head(&host, "HEAD /cont/empty HTTP/1.1\n", b"");
    s.write_all(format!("{}Host: {host}\r\n\r\n", get.replace('\n', "\r\n")).as_bytes())
        .expect("write");
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf)
        .expect("second response on the same connection");
    assert_eq!(&buf, b"HTTP/1.1 200");
}
