//! The CORS subresource and the CORS layer against the running server. Test names cite the rules of the
//! CORS specification they check.

use aws_sdk_s3::types::{CorsConfiguration, CorsRule};

use crate::harness::{Server, code, status};
use crate::raw::{AUTH, Reply, send};

const VARY: &str = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

fn md5_b64(body: &[u8]) -> String {
    base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        <md5::Md5 as md5::Digest>::digest(body),
    )
}

/// PutBucketCors over raw HTTP with a Content-MD5.
fn put_cors(port: u16, bucket: &str, xml: &str) -> Reply {
    send(
        port,
        &format!(
            "PUT /{bucket}?cors HTTP/1.1\n{AUTH}Content-MD5: {}\n",
            md5_b64(xml.as_bytes())
        ),
        xml.as_bytes(),
    )
}

fn options(port: u16, path: &str, headers: &[(&str, &str)]) -> Reply {
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
    send(port, &format!("OPTIONS {path} HTTP/1.1\n{extra}"), b"")
}

fn cors_headers(r: &Reply) -> Vec<(String, String)> {
    r.headers
        .iter()
        .filter(|(k, _)| {
            k.to_ascii_lowercase().starts_with("access-control-") || k.eq_ignore_ascii_case("vary")
        })
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn setup() -> Server {
    let server = Server::start();
    assert_eq!(
        send(server.port, &format!("PUT /web HTTP/1.1\n{AUTH}"), b"").status,
        200
    );
    assert_eq!(
        send(
            server.port,
            &format!("PUT /web/obj HTTP/1.1\n{AUTH}"),
            b"object body"
        )
        .status,
        200
    );
    server
}

const LOCALHOST_4200: &str = "<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><CORSRule>\
    <AllowedOrigin>https://localhost:4200</AllowedOrigin><AllowedMethod>GET</AllowedMethod>\
    <AllowedMethod>PUT</AllowedMethod><MaxAgeSeconds>3000</MaxAgeSeconds><AllowedHeader>*</AllowedHeader>\
    </CORSRule></CORSConfiguration>";

fn rule(origins: &[&str], methods: &[&str]) -> CorsRule {
    let mut b = CorsRule::builder();
    for o in origins {
        b = b.allowed_origins(*o);
    }
    for m in methods {
        b = b.allowed_methods(*m);
    }
    b.build().expect("rule")
}

#[tokio::test]
async fn r3_r4_r5_r33_r37_r38_put_get_delete_through_aws_sdk_rust() {
    let server = setup();
    let s3 = server.client();
    let err = s3
        .get_bucket_cors()
        .bucket("web")
        .send()
        .await
        .expect_err("none yet");
    assert_eq!(
        (code(&err), status(&err)),
        ("NoSuchCORSConfiguration".to_owned(), 404)
    );
    let mut first = rule(
        &["http://test.com:80", "https://*.example.com"],
        &["PUT", "GET", "DELETE"],
    );
    first.id = Some("uploads".into());
    first.allowed_headers = Some(vec!["x-AMZ-server-SIDE-encryption".into(), "Content-Type".into()]);
    first.expose_headers = Some(vec!["ETag".into(), "x-amz-request-id".into()]);
    first.max_age_seconds = Some(600);
    let second = rule(&["*"], &["HEAD", "GET"]);
    let config = CorsConfiguration::builder()
        .cors_rules(first.clone())
        .cors_rules(second.clone())
        .build()
        .expect("config");
    s3.put_bucket_cors()
        .bucket("web")
        .cors_configuration(config)
        .send()
        .await
        .expect("put");
    let got = s3.get_bucket_cors().bucket("web").send().await.expect("get");
    assert_eq!(
        got.cors_rules(),
        [first, second.clone()],
        "R5: verbatim, in order, case kept"
    );
    // R4: a second PUT replaces the whole configuration.
    let only = CorsConfiguration::builder()
        .cors_rules(second.clone())
        .build()
        .expect("config");
    s3.put_bucket_cors()
        .bucket("web")
        .cors_configuration(only)
        .send()
        .await
        .expect("replace");
    assert_eq!(
        s3.get_bucket_cors()
            .bucket("web")
            .send()
            .await
            .expect("get")
            .cors_rules(),
        [second]
    );
    s3.delete_bucket_cors()
        .bucket("web")
        .send()
        .await
        .expect("delete");
    s3.delete_bucket_cors()
        .bucket("web")
        .send()
        .await
        .expect("R38: delete is idempotent");
    let err = s3.get_bucket_cors().bucket("web").send().await.expect_err("gone");
    assert_eq!(code(&err), "NoSuchCORSConfiguration");
}

#[test]
fn r3_r35_r37_wire_format() {
    let server = setup();
    let r = put_cors(server.port, "web", LOCALHOST_4200);
    assert_eq!(
        (r.status, r.body.as_str(), r.header("content-length")),
        (200, "", Some("0"))
    );
    let r = send(server.port, &format!("GET /web?cors HTTP/1.1\n{AUTH}"), b"");
    assert_eq!(r.header("content-type"), Some("application/xml"));
    assert_eq!(
        r.body,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
         <CORSRule><AllowedHeader>*</AllowedHeader><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>\
         <AllowedOrigin>https://localhost:4200</AllowedOrigin><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule></CORSConfiguration>"
    );
    let r = send(server.port, &format!("DELETE /web?cors HTTP/1.1\n{AUTH}"), b"");
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    let r = send(server.port, &format!("GET /web?cors HTTP/1.1\n{AUTH}"), b"");
    let id = r.header("x-amz-request-id").expect("id").to_owned();
    let host = r.header("x-amz-id-2").expect("host id").to_owned();
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchCORSConfiguration</Code><Message>The CORS \
             configuration does not exist</Message><BucketName>web</BucketName><RequestId>{id}</RequestId><HostId>{host}</HostId></Error>"
        )
    );
}

fn error_of(r: &Reply) -> (u16, String, String) {
    let code = r
        .body
        .split("<Code>")
        .nth(1)
        .and_then(|s| s.split("</Code>").next())
        .unwrap_or("")
        .to_owned();
    let msg = r
        .body
        .split("<Message>")
        .nth(1)
        .and_then(|s| s.split("</Message>").next())
        .unwrap_or("")
        .to_owned();
    (r.status, code, msg)
}

fn doc(rules: &str) -> String {
    format!("<CORSConfiguration>{rules}</CORSConfiguration>")
}

#[test]
fn r11_to_r24_validation_errors_change_nothing() {
    let server = setup();
    assert_eq!(put_cors(server.port, "web", LOCALHOST_4200).status, 200);
    let malformed =
        "The XML you provided was not well-formed or did not validate against our published schema";
    let ok_rule = "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>";
    let too_many = doc(&ok_rule.repeat(101));
    #[rustfmt::skip]
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("R11", "<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>".into(), "MalformedXML", malformed),
        ("R12", doc("<CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule>"), "MalformedXML", malformed),
        ("R12 empty rule", doc("<CORSRule></CORSRule>"), "MalformedXML", malformed),
        ("R13 unknown", doc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><Foo/></CORSRule>"), "MalformedXML", malformed),
        ("R13 max age", doc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>a</MaxAgeSeconds></CORSRule>"), "MalformedXML", malformed),
        ("R13 not xml", "{\"CORSRules\": []}".into(), "MalformedXML", malformed),
        ("R17", doc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>MYMETHOD</AllowedMethod></CORSRule>"),
            "InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is MYMETHOD"),
        ("R18", doc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod></AllowedMethod></CORSRule>"),
            "InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is "),
        ("R19", doc("<CORSRule><AllowedOrigin>*example*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"),
            "InvalidRequest", "AllowedOrigin \"*example*.com\" can not have more than one wildcard."),
        ("R20", doc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>*-amz-*</AllowedHeader></CORSRule>"),
            "InvalidRequest", "AllowedHeader \"*-amz-*\" can not have more than one wildcard."),
        ("R21", doc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>x-amz-meta-*</ExposeHeader></CORSRule>"),
            "InvalidRequest", "ExposeHeader \"x-amz-meta-*\" contains wildcard. We currently do not support wildcard for ExposeHeader."),
        ("R22", doc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>a b</ExposeHeader></CORSRule>"),
            "InvalidRequest", "AllowedHeader \"a b\" contains invalid character."),
        ("R24", too_many, "InvalidRequest", "The number of CORS rules should not exceed allowed limit of 100 rules."),
    ];
    for (rule, body, code, message) in cases {
        let r = put_cors(server.port, "web", &body);
        assert_eq!(error_of(&r), (400, code.to_owned(), message.to_owned()), "{rule}");
    }
    let long_id = doc(&format!(
        "<CORSRule><ID>{}</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>",
        "i".repeat(256)
    ));
    assert_eq!(put_cors(server.port, "web", &long_id).status, 400, "R23");
    // Nothing changed.
    let r = send(server.port, &format!("GET /web?cors HTTP/1.1\n{AUTH}"), b"");
    assert!(r.body.contains("https://localhost:4200"));
    // R24: exactly 100 rules, R23: an ID of 255, R6: an empty origin, R14: a negative max age are fine.
    assert_eq!(
        put_cors(server.port, "web", &doc(&ok_rule.repeat(100))).status,
        200
    );
    let edge = doc(&format!(
        "<CORSRule><ID>{}</ID><AllowedOrigin></AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>-100</MaxAgeSeconds></CORSRule>",
        "i".repeat(255)
    ));
    assert_eq!(put_cors(server.port, "web", &edge).status, 200);
}

#[test]
fn r15_r16_r25_to_r28_body_and_integrity() {
    let server = setup();
    let put = |headers: &str, body: &[u8]| {
        send(
            server.port,
            &format!("PUT /web?cors HTTP/1.1\n{AUTH}{headers}"),
            body,
        )
    };
    let r = put("Content-MD5: 1B2M2Y8AsgTpgAmY7PhCfg==\n", b"");
    assert_eq!(
        error_of(&r),
        (
            400,
            "MissingRequestBodyError".into(),
            "Request Body is empty".into()
        ),
        "R15"
    );
    let big = doc(&format!(
        "<CORSRule><AllowedOrigin>{}</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>",
        "a".repeat(65_536)
    ));
    let r = put(
        &format!("Content-MD5: {}\n", md5_b64(big.as_bytes())),
        big.as_bytes(),
    );
    assert_eq!(
        error_of(&r),
        (
            400,
            "MaxMessageLengthExceeded".into(),
            "Your request was too big.".into()
        ),
        "R16"
    );
    let r = put("", LOCALHOST_4200.as_bytes());
    assert_eq!(
        error_of(&r),
        (
            400,
            "InvalidRequest".into(),
            "Missing required header for this request: Content-MD5 OR x-amz-checksum-*".into()
        ),
        "R26"
    );
    let r = put("Content-MD5: nonsense\n", LOCALHOST_4200.as_bytes());
    assert_eq!(error_of(&r).1, "InvalidDigest", "R27");
    let r = put(
        "Content-MD5: 1B2M2Y8AsgTpgAmY7PhCfg==\n",
        LOCALHOST_4200.as_bytes(),
    );
    assert_eq!(error_of(&r).1, "BadDigest", "R27");
    let r = put(
        "x-amz-checksum-crc32: AAAAAA==\nx-amz-sdk-checksum-algorithm: CRC32\n",
        LOCALHOST_4200.as_bytes(),
    );
    assert_eq!(
        error_of(&r),
        (
            400,
            "BadDigest".into(),
            "The CRC32 you specified did not match the calculated checksum.".into()
        ),
        "R27"
    );
    let r = put("x-amz-checksum-crc32: !!\n", LOCALHOST_4200.as_bytes());
    assert_eq!(
        error_of(&r),
        (
            400,
            "InvalidRequest".into(),
            "Value for x-amz-checksum-crc32 header is invalid.".into()
        ),
        "R27"
    );
    let r = put("x-amz-sdk-checksum-algorithm: CRC32\n", LOCALHOST_4200.as_bytes());
    assert!(
        error_of(&r)
            .2
            .starts_with("x-amz-sdk-checksum-algorithm specified, but no corresponding"),
        "R28"
    );
    assert_eq!(
        send(server.port, &format!("GET /web?cors HTTP/1.1\n{AUTH}"), b"").status,
        404,
        "nothing stored"
    );
    // R25: a SHA-256 checksum header alone is enough.
    let sha = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, {
        use sha2::Digest;
        sha2::Sha256::digest(LOCALHOST_4200.as_bytes())
    });
    assert_eq!(
        put(
            &format!("x-amz-checksum-sha256: {sha}\n"),
            LOCALHOST_4200.as_bytes()
        )
        .status,
        200
    );
}

#[test]
fn r29_r30_bucket_and_owner() {
    let server = setup();
    for target in [
        "PUT /nobucket?cors",
        "GET /nobucket?cors",
        "DELETE /nobucket?cors",
    ] {
        let md5 = md5_b64(LOCALHOST_4200.as_bytes());
        let r = send(
            server.port,
            &format!("{target} HTTP/1.1\n{AUTH}Content-MD5: {md5}\n"),
            LOCALHOST_4200.as_bytes(),
        );
        assert_eq!(error_of(&r).1, "NoSuchBucket", "{target}");
        assert!(r.body.contains("<BucketName>nobucket</BucketName>"));
    }
    let r = send(
        server.port,
        &format!("GET /web?cors HTTP/1.1\n{AUTH}x-amz-expected-bucket-owner: 111111111111\n"),
        b"",
    );
    assert_eq!(error_of(&r), (403, "AccessDenied".into(), "Access Denied".into()));
    let r = send(
        server.port,
        &format!("DELETE /web?cors HTTP/1.1\n{AUTH}x-amz-expected-bucket-owner: abcd\n"),
        b"",
    );
    assert_eq!(
        error_of(&r),
        (
            400,
            "InvalidBucketOwnerAWSAccountID".into(),
            "The value of the expected bucket owner parameter must be an AWS Account ID... [abcd]".into()
        )
    );
    let r = send(
        server.port,
        &format!("GET /web?cors HTTP/1.1\n{AUTH}x-amz-expected-bucket-owner: 000000000000\n"),
        b"",
    );
    assert_eq!(
        r.status, 404,
        "the right owner gets through to NoSuchCORSConfiguration"
    );
}

fn forbidden(r: &Reply) -> (u16, String, String, String) {
    let el = |t: &str| {
        r.body
            .split(&format!("<{t}>"))
            .nth(1)
            .and_then(|s| s.split(&format!("</{t}>")).next())
            .unwrap_or("")
            .to_owned()
    };
    (r.status, el("Message"), el("Method"), el("ResourceType"))
}

#[test]
fn r41_to_r45_preflight_errors_in_s3_order() {
    let server = setup();
    let p = server.port;
    for path in ["/", "/web", "/web/obj", "/nobucket/k"] {
        let r = options(p, path, &[("Access-Control-Request-Method", "GET")]);
        assert_eq!(
            error_of(&r),
            (
                400,
                "BadRequest".into(),
                "Insufficient information. Origin request header needed.".into()
            ),
            "R41 {path}"
        );
        assert!(cors_headers(&r).is_empty());
        let r = options(p, path, &[("Origin", ""), ("Referer", "http://a/")]);
        assert_eq!(r.status, 400, "R41 empty origin {path}");
    }
    let r = options(p, "/nobucket/key", &[("Origin", "http://a")]);
    assert_eq!(
        forbidden(&r),
        (
            403,
            "CORSResponse: Bucket not found".into(),
            "OPTIONS".into(),
            "BUCKET".into()
        ),
        "R42"
    );
    let r = options(
        p,
        "/",
        &[("Origin", "http://a"), ("Access-Control-Request-Method", "PUT")],
    );
    assert_eq!(
        forbidden(&r),
        (
            403,
            "CORSResponse: Bucket not found".into(),
            "PUT".into(),
            "BUCKET".into()
        ),
        "R42 root"
    );
    let r = options(
        p,
        "/web/obj",
        &[("Origin", "http://a"), ("Access-Control-Request-Method", "PUT")],
    );
    assert_eq!(
        forbidden(&r),
        (
            403,
            "CORSResponse: CORS is not enabled for this bucket.".into(),
            "PUT".into(),
            "BUCKET".into()
        ),
        "R43"
    );
    assert_eq!(error_of(&r).1, "AccessForbidden");
    let r = options(
        p,
        "/web/obj",
        &[("Origin", "http://a"), ("Access-Control-Request-Method", "get")],
    );
    assert_eq!(
        error_of(&r),
        (
            400,
            "BadRequest".into(),
            "Invalid Access-Control-Request-Method: get".into()
        ),
        "R44 before R43"
    );
    assert_eq!(put_cors(p, "web", LOCALHOST_4200).status, 200);
    let r = options(p, "/web/obj", &[("Origin", "https://localhost:4200")]);
    assert_eq!(
        error_of(&r),
        (
            400,
            "BadRequest".into(),
            "Invalid Access-Control-Request-Method: null".into()
        ),
        "R45"
    );
}

#[test]
fn r46_to_r55_preflight_answers() {
    let server = setup();
    let p = server.port;
    assert_eq!(put_cors(p, "web", LOCALHOST_4200).status, 200);
    let r = options(
        p,
        "/web/obj",
        &[
            ("Origin", "https://localhost:4200"),
            ("Access-Control-Request-Method", "PUT"),
            ("Access-Control-Request-Headers", "x-AMZ-date,Content-Type"),
        ],
    );
    assert_eq!(
        (
            r.status,
            r.body.as_str(),
            r.header("content-length"),
            r.header("content-type")
        ),
        (200, "", Some("0"), None),
        "R46"
    );
    assert!(r.header("x-amz-request-id").is_some());
    assert_eq!(
        cors_headers(&r),
        pairs(&[
            ("access-control-allow-origin", "https://localhost:4200"),
            ("access-control-allow-credentials", "true"),
            ("access-control-allow-methods", "GET, PUT"),
            ("access-control-allow-headers", "x-amz-date, content-type"),
            ("access-control-max-age", "3000"),
            ("vary", VARY),
        ])
    );
    let r = options(
        p,
        "/web/obj",
        &[
            ("Origin", "http://localhost:4200"),
            ("Access-Control-Request-Method", "PUT"),
        ],
    );
    assert_eq!(forbidden(&r).0, 403, "R55");
    assert_eq!(forbidden(&r).3, "OBJECT", "R55 on a key");
    assert!(
        r.body.contains("the evalution of Origin"),
        "R55 message, S3's spelling"
    );
    assert!(cors_headers(&r).is_empty(), "R53: no Vary on failure");
    let r = options(
        p,
        "/web",
        &[
            ("Origin", "http://localhost:4200"),
            ("Access-Control-Request-Method", "PUT"),
        ],
    );
    assert_eq!(forbidden(&r).3, "BUCKET", "R55 on the bucket");
    // R54: the default-values rule.
    let default_rule =
        doc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>");
    assert_eq!(put_cors(p, "web", &default_rule).status, 200);
    let r = options(
        p,
        "/web/obj",
        &[
            ("Origin", "localhost:4566"),
            ("Access-Control-Request-Method", "GET"),
        ],
    );
    assert_eq!(
        cors_headers(&r),
        pairs(&[
            ("access-control-allow-origin", "*"),
            ("access-control-allow-methods", "GET"),
            ("vary", VARY)
        ])
    );
}

#[test]
fn r56_r57_preflights_ignore_auth_and_never_touch_the_object() {
    let server = setup();
    let p = server.port;
    let rules = doc(
        "<CORSRule><AllowedOrigin>http://app</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader></CORSRule>",
    );
    assert_eq!(put_cors(p, "web", &rules).status, 200);
    for path in [
        "/web/missing-key",
        "/web/k?uploads",
        "/web/k?partNumber=1&uploadId=abc",
        "/web/k?x-id=PutObject",
        "/web?delete",
        "/web/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=nobody%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=bad",
    ] {
        for auth in [
            "",
            "Authorization: AWS fakeKey:fakesignature\n",
            "Authorization: AWS4-HMAC-SHA256 Credential=x/y\n",
        ] {
            let r = send(
                p,
                &format!(
                    "OPTIONS {path} HTTP/1.1\nOrigin: http://app\nAccess-Control-Request-Method: PUT\n{auth}"
                ),
                b"",
            );
            assert_eq!(r.status, 200, "{path} {auth}: {}", r.body);
            assert_eq!(r.header("access-control-allow-origin"), Some("http://app"));
        }
    }
}

fn get_with(p: u16, path: &str, headers: &[(&str, &str)]) -> Reply {
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
    send(p, &format!("GET {path} HTTP/1.1\n{AUTH}{extra}"), b"")
}

#[test]
fn r58_to_r67_actual_requests() {
    let server = setup();
    let p = server.port;
    let r = get_with(p, "/web/obj", &[("Origin", "https://localhost:4200")]);
    assert_eq!((r.status, r.body.as_str()), (200, "object body"));
    assert!(
        cors_headers(&r).is_empty(),
        "R59: no configuration, served normally"
    );
    assert_eq!(put_cors(p, "web", LOCALHOST_4200).status, 200);
    let r = get_with(p, "/web/obj", &[]);
    assert!(cors_headers(&r).is_empty(), "R58");
    let r = get_with(p, "/web/obj", &[("Referer", "https://localhost:4200/")]);
    assert!(cors_headers(&r).is_empty(), "R58 referer");
    let r = get_with(p, "/web/obj", &[("Origin", "https://localhost:4200")]);
    assert_eq!(r.body, "object body");
    assert_eq!(
        cors_headers(&r),
        pairs(&[
            ("access-control-allow-origin", "https://localhost:4200"),
            ("access-control-allow-credentials", "true"),
            ("access-control-allow-methods", "GET, PUT"),
            ("access-control-max-age", "3000"),
            ("vary", VARY),
        ]),
        "R60"
    );
    let r = get_with(p, "/web/obj", &[("Origin", "https://evil")]);
    assert_eq!((r.status, r.body.as_str()), (200, "object body"));
    assert!(cors_headers(&r).is_empty(), "R61");
    let r = get_with(
        p,
        "/web/obj",
        &[
            ("Origin", "https://localhost:4200"),
            ("Access-Control-Request-Method", "DELETE"),
        ],
    );
    assert_eq!(r.status, 200);
    assert!(cors_headers(&r).is_empty(), "R62: ACRM replaces the method");
    let r = get_with(p, "/web/missing", &[("Origin", "https://localhost:4200")]);
    assert_eq!(r.status, 404);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://localhost:4200"),
        "R64: errors carry CORS headers"
    );
    let r = send(p, "GET /web/obj HTTP/1.1\nOrigin: https://localhost:4200\n", b"");
    assert_eq!(r.status, 403, "anonymous");
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET, PUT"),
        "R64 on 403"
    );
    let r = get_with(p, "/nobucket/k", &[("Origin", "https://localhost:4200")]);
    assert!(cors_headers(&r).is_empty(), "R65: missing bucket");
    let r = get_with(p, "/", &[("Origin", "https://localhost:4200")]);
    assert!(cors_headers(&r).is_empty(), "R65: service root");
    let r = send(
        p,
        &format!("HEAD /web/obj HTTP/1.1\n{AUTH}Origin: https://localhost:4200\n"),
        b"",
    );
    assert!(cors_headers(&r).is_empty(), "R67: HEAD needs HEAD");
    // R61: a PUT the rule does not allow is still stored; R60 on an allowed PUT.
    let r = send(
        p,
        &format!("DELETE /web/obj HTTP/1.1\n{AUTH}Origin: https://localhost:4200\n"),
        b"",
    );
    assert_eq!(r.status, 204);
    assert!(cors_headers(&r).is_empty());
    assert_eq!(
        get_with(p, "/web/obj", &[]).status,
        404,
        "the DELETE was carried out"
    );
    // R66: PutBucketCors from an allowed origin carries the previous configuration's headers.
    let next =
        doc("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod></CORSRule>");
    let r = send(
        p,
        &format!(
            "PUT /web?cors HTTP/1.1\n{AUTH}Origin: https://localhost:4200\nContent-MD5: {}\n",
            md5_b64(next.as_bytes())
        ),
        next.as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-methods"),
        Some("GET, PUT"),
        "R66: the old configuration"
    );
    let r = send(
        p,
        &format!("HEAD /web/missing HTTP/1.1\n{AUTH}Origin: https://localhost:4200\n"),
        b"",
    );
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("*"),
        "R80: the new one applies at once"
    );
    // R39: after DeleteBucketCors nothing is added.
    send(p, &format!("DELETE /web?cors HTTP/1.1\n{AUTH}"), b"");
    let r = send(
        p,
        &format!("HEAD /web/missing HTTP/1.1\n{AUTH}Origin: https://localhost:4200\n"),
        b"",
    );
    assert!(cors_headers(&r).is_empty(), "R39");
    let r = options(
        p,
        "/web/obj",
        &[
            ("Origin", "https://localhost:4200"),
            ("Access-Control-Request-Method", "HEAD"),
        ],
    );
    assert_eq!(
        forbidden(&r).1,
        "CORSResponse: CORS is not enabled for this bucket.",
        "R39"
    );
}

#[test]
fn r68_first_match_over_the_wire() {
    let server = setup();
    let p = server.port;
    let rules = doc(
        "<CORSRule><AllowedOrigin>http://o</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>\
         <CORSRule><AllowedOrigin>http://o</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><MaxAgeSeconds>20</MaxAgeSeconds></CORSRule>",
    );
    assert_eq!(put_cors(p, "web", &rules).status, 200);
    let r = options(
        p,
        "/web/k",
        &[("Origin", "http://o"), ("Access-Control-Request-Method", "PUT")],
    );
    assert_eq!(
        (
            r.header("access-control-allow-methods"),
            r.header("access-control-max-age")
        ),
        (Some("PUT"), Some("20"))
    );
    let r = options(
        p,
        "/web/k",
        &[("Origin", "http://o"), ("Access-Control-Request-Method", "GET")],
    );
    assert_eq!(
        (
            r.header("access-control-allow-methods"),
            r.header("access-control-max-age")
        ),
        (Some("GET"), None)
    );
    let r = options(
        p,
        "/web/k",
        &[
            ("Origin", "http://o"),
            ("Access-Control-Request-Method", "DELETE"),
        ],
    );
    assert_eq!(r.status, 403);
}

#[test]
fn virtual_hosted_preflight_and_persistence() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("d");
    {
        let mut server = Server::start_on(&dir, &[]);
        send(server.port, &format!("PUT /web HTTP/1.1\n{AUTH}"), b"");
        assert_eq!(put_cors(server.port, "web", LOCALHOST_4200).status, 200);
        server.stop();
    }
    let server = Server::start_on(&dir, &[]);
    let r = crate::raw::send_with_host(
        server.port,
        &format!("web.localhost:{}", server.port),
        "OPTIONS /some/key HTTP/1.1\nOrigin: https://localhost:4200\nAccess-Control-Request-Method: GET\n",
        b"",
    );
    assert_eq!(
        r.status, 200,
        "the configuration survived the restart: {}",
        r.body
    );
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("https://localhost:4200")
    );
}
