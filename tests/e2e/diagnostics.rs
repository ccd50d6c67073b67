//! CORS diagnostics against the running server: `s3cors cors explain` and `s3cors cors lint` (offline
//! and through `--endpoint`), the `x-s3cors-cors-decision` header with `--cors-debug`, and its absence
//! by default. The decisions themselves are the engine's (R41–R68).

use std::process::{Command, Output};

use crate::harness::Server;
use crate::raw::{AUTH, Reply, send};

const CONFIG: &str = "<CORSConfiguration><CORSRule><ID>uploads</ID>\
    <AllowedOrigin>http://app.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod>\
    <AllowedMethod>PUT</AllowedMethod><AllowedHeader>content-type</AllowedHeader>\
    </CORSRule><CORSRule><AllowedOrigin>https://*.example.com</AllowedOrigin>\
    <AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>";

fn put_cors(port: u16, bucket: &str, xml: &str) -> Reply {
    let md5 = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        <md5::Md5 as md5::Digest>::digest(xml.as_bytes()),
    );
    send(
        port,
        &format!("PUT /{bucket}?cors HTTP/1.1\n{AUTH}Content-MD5: {md5}\n"),
        xml.as_bytes(),
    )
}

fn setup(extra: &[&str]) -> (Server, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start_on(&tmp.path().join("data"), extra);
    assert_eq!(
        send(server.port, &format!("PUT /web HTTP/1.1\n{AUTH}"), b"").status,
        200
    );
    assert_eq!(
        send(server.port, &format!("PUT /web/obj HTTP/1.1\n{AUTH}"), b"hello").status,
        200
    );
    assert_eq!(put_cors(server.port, "web", CONFIG).status, 200);
    (server, tmp)
}

fn s3cors(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_s3cors"))
        .args(args)
        .env_remove("S3CORS_ACCESS_KEY_ID")
        .env_remove("S3CORS_SECRET_ACCESS_KEY")
        .output()
        .expect("run s3cors")
}

/// `s3cors cors COMMAND --endpoint ENDPOINT --bucket BUCKET ARGS…`.
fn remote(command: &str, endpoint: &str, bucket: &str, args: &[&str]) -> Output {
    let mut all = vec!["cors", command, "--endpoint", endpoint, "--bucket", bucket];
    all.extend_from_slice(args);
    s3cors(&all)
}

fn explain_web(endpoint: &str, args: &[&str]) -> Output {
    remote("explain", endpoint, "web", args)
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

#[test]
fn explain_against_the_running_server_names_rule_and_field() {
    let (server, _tmp) = setup(&[]);
    let endpoint = server.endpoint();
    // R55: denied; rule 1 fails on the header, rule 2 on the origin.
    let out = explain_web(
        &endpoint,
        &[
            "--origin",
            "http://app.example",
            "--method",
            "PUT",
            "--headers",
            "content-type,x-amz-date",
            "--key",
            "obj",
            "--json",
        ],
    );
    let doc = json(&out);
    assert_eq!(
        doc["summary"],
        "denied: rule 1 (id=uploads) origin ok, method ok, header x-amz-date not allowed; rule 2 origin mismatch"
    );
    assert_eq!(doc["decision"]["status"], 403);
    assert_eq!(doc["decision"]["error"][0], "AccessForbidden");
    assert_eq!(doc["rules"][0]["origin_matched_by"], "http://app.example");
    // R47–R49, R68: allowed by the second rule, with the exact headers.
    let out = explain_web(
        &endpoint,
        &["--origin", "https://a.example.com", "--method", "GET", "--json"],
    );
    let doc = json(&out);
    assert_eq!(doc["decision"]["rule"], 2);
    assert_eq!(doc["decision"]["headers"][0][1], "https://a.example.com");
    // Human output.
    let out = explain_web(
        &endpoint,
        &["--origin", "http://app.example", "--method", "DELETE"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("rule 1 (id=uploads): origin ok (http://app.example), method DELETE not in [GET, PUT]"),
        "{text}"
    );
    assert!(
        text.contains("denied: 403 AccessForbidden: CORSResponse: This CORS request is not allowed."),
        "{text}"
    );
}

#[test]
fn explain_endpoint_is_for_the_bucket_owner_only() {
    let (server, _tmp) = setup(&[]);
    // Wrong secret: the signature does not verify.
    let out = remote(
        "explain",
        &server.endpoint(),
        "web",
        &[
            "--origin",
            "http://a",
            "--method",
            "GET",
            "--secret-access-key",
            "wrong",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SignatureDoesNotMatch"));
    // Unsigned.
    let r = send(
        server.port,
        "POST /_s3cors/cors/explain HTTP/1.1\nContent-Type: application/json\n",
        br#"{"bucket":"web","origin":"http://app.example","method":"GET"}"#,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("<Code>AccessDenied</Code>"));
    // No such bucket.
    let out = remote(
        "explain",
        &server.endpoint(),
        "nope",
        &["--origin", "http://a", "--method", "GET"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("NoSuchBucket"));
}

#[test]
fn explain_and_lint_offline_from_xml_and_json_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let xml = tmp.path().join("cors.xml");
    std::fs::write(&xml, CONFIG).expect("write");
    let out = s3cors(&[
        "cors",
        "explain",
        "--config",
        &xml.to_string_lossy(),
        "--origin",
        "http://app.example",
        "--method",
        "PUT",
        "--headers",
        "Content-Type",
        "--json",
    ]);
    assert_eq!(json(&out)["summary"], "allowed: rule 1 (id=uploads) matches");
    let json_file = tmp.path().join("cors.json");
    std::fs::write(
        &json_file,
        r#"{"CORSRules": [{"AllowedOrigins": ["http://localhost:3000/"], "AllowedMethods": ["PUT"],
                           "AllowedHeaders": ["*"], "MaxAgeSeconds": 90000}]}"#,
    )
    .expect("write");
    let out = s3cors(&["cors", "lint", &json_file.to_string_lossy(), "--json"]);
    assert_eq!(out.status.code(), Some(1), "findings exit 1");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let codes: Vec<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert_eq!(
        codes,
        [
            "origin-never-sent",
            "loopback-look-alike",
            "etag-not-exposed",
            "max-age-above-browser-cap"
        ]
    );
    // An invalid configuration is refused with S3's message (exit 2).
    std::fs::write(
        &json_file,
        r#"{"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]}"#,
    )
    .expect("write");
    let out = s3cors(&["cors", "lint", &json_file.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Found unsupported HTTP method in CORS config"));
}

#[test]
fn lint_against_the_running_server() {
    let (server, _tmp) = setup(&[]);
    let out = remote("lint", &server.endpoint(), "web", &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("rule 1 (id=uploads) [etag-not-exposed]"), "{text}");
    assert!(
        text.contains("rule 1 (id=uploads) [sdk-headers-not-allowed]"),
        "{text}"
    );
    assert!(
        text.contains("fix: add <ExposeHeader>ETag</ExposeHeader>"),
        "{text}"
    );
    // A clean configuration: exit 0.
    let clean = "<CORSConfiguration><CORSRule><AllowedOrigin>http://localhost:3000</AllowedOrigin>\
        <AllowedOrigin>http://127.0.0.1:3000</AllowedOrigin><AllowedMethod>PUT</AllowedMethod>\
        <AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader></CORSRule></CORSConfiguration>";
    assert_eq!(put_cors(server.port, "web", clean).status, 200);
    let out = remote("lint", &server.endpoint(), "web", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn options(port: u16, headers: &str) -> Reply {
    send(port, &format!("OPTIONS /web/obj HTTP/1.1\n{headers}"), b"")
}

#[test]
fn debug_header_with_cors_debug_on_preflights_and_actual_requests() {
    let (server, _tmp) = setup(&["--cors-debug"]);
    // R55: a refused preflight says why.
    let r = options(
        server.port,
        "Origin: http://app.example\nAccess-Control-Request-Method: DELETE\n",
    );
    assert_eq!(r.status, 403);
    assert_eq!(
        r.header("x-s3cors-cors-decision"),
        Some(
            "denied: rule 1 (id=uploads) origin ok, method DELETE not in [GET, PUT]; rule 2 origin mismatch"
        )
    );
    // R46: an allowed one too; preflight answers are otherwise unchanged.
    let r = options(
        server.port,
        "Origin: http://app.example\nAccess-Control-Request-Method: PUT\n",
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("x-s3cors-cors-decision"),
        Some("allowed: rule 1 (id=uploads) matches")
    );
    // R58–R60: an allowed actual request exposes the header to scripts.
    let r = send(
        server.port,
        &format!("GET /web/obj HTTP/1.1\n{AUTH}Origin: https://x.example.com\n"),
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("x-s3cors-cors-decision"),
        Some("allowed: rule 1 (id=uploads) origin mismatch; rule 2 matches")
    );
    assert_eq!(
        r.header("access-control-expose-headers"),
        Some("x-s3cors-cors-decision")
    );
    // R61: a refused actual request carries no CORS headers, only the explanation.
    let r = send(
        server.port,
        &format!("GET /web/obj HTTP/1.1\n{AUTH}Origin: http://evil.example\n"),
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_eq!(
        r.header("x-s3cors-cors-decision"),
        Some("denied: rule 1 (id=uploads) origin mismatch; rule 2 origin mismatch")
    );
    // R43: a bucket without a configuration.
    assert_eq!(
        send(server.port, &format!("PUT /plain HTTP/1.1\n{AUTH}"), b"").status,
        200
    );
    let r = send(
        server.port,
        "OPTIONS /plain HTTP/1.1\nOrigin: http://app.example\nAccess-Control-Request-Method: GET\n",
        b"",
    );
    assert_eq!(
        r.header("x-s3cors-cors-decision"),
        Some("denied: the bucket has no CORS configuration")
    );
}

#[test]
fn no_debug_header_by_default() {
    let (server, _tmp) = setup(&[]);
    let r = options(
        server.port,
        "Origin: http://app.example\nAccess-Control-Request-Method: DELETE\n",
    );
    assert_eq!(r.status, 403);
    assert_eq!(r.header("x-s3cors-cors-decision"), None);
    let r = send(
        server.port,
        &format!("GET /web/obj HTTP/1.1\n{AUTH}Origin: http://app.example\n"),
        b"",
    );
    assert_eq!(r.header("x-s3cors-cors-decision"), None);
    assert_eq!(r.header("access-control-expose-headers"), None);
}
