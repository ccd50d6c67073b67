//! The examples of the CORS specification, rule by rule (§5–§7), against the pure engine.

use s3cors_cors::{
    BucketCors, CompiledCors, CorsConfiguration, CorsRule, PreflightError, PreflightRequest, ResourceType,
    VARY, actual, evaluate, preflight,
};

fn rule(origins: &[&str], methods: &[&str]) -> CorsRule {
    CorsRule {
        allowed_origins: origins.iter().map(|s| (*s).to_owned()).collect(),
        allowed_methods: methods.iter().map(|s| (*s).to_owned()).collect(),
        ..CorsRule::default()
    }
}

fn compile(rules: Vec<CorsRule>) -> CompiledCors {
    let config = CorsConfiguration { rules };
    s3cors_cors::validate(&config).expect("valid");
    CompiledCors::compile(&config)
}

fn pf<'a>(
    origin: Option<&'a str>,
    method: Option<&'a str>,
    headers: Option<&'a str>,
) -> PreflightRequest<'a> {
    PreflightRequest {
        origin,
        method,
        headers,
        has_key: true,
    }
}

fn headers_of(h: &s3cors_cors::CorsHeaders<'_>) -> Vec<(String, String)> {
    h.pairs().map(|(k, v)| (k.to_owned(), v.into_owned())).collect()
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The rule LocalStack's validated snapshots use: a specific origin, GET and PUT, max age, all headers.
fn localhost_4200() -> CompiledCors {
    let mut r = rule(&["https://localhost:4200"], &["GET", "PUT"]);
    r.max_age_seconds = Some(3000);
    r.allowed_headers = vec!["*".into()];
    compile(vec![r])
}

#[test]
fn r41_missing_or_empty_origin_is_400_whatever_the_bucket() {
    let c = localhost_4200();
    for bucket in [
        BucketCors::NoBucket,
        BucketCors::NotConfigured,
        BucketCors::Configured(&c),
    ] {
        for origin in [None, Some("")] {
            let err = preflight(bucket, &pf(origin, Some("GET"), None)).unwrap_err();
            assert_eq!(err, PreflightError::MissingOrigin);
            assert_eq!((err.status(), err.code()), (400, "BadRequest"));
            assert_eq!(
                err.to_string(),
                "Insufficient information. Origin request header needed."
            );
        }
    }
}

#[test]
fn r42_no_bucket_is_403_bucket_not_found() {
    let err = preflight(BucketCors::NoBucket, &pf(Some("http://a"), None, None)).unwrap_err();
    assert_eq!((err.status(), err.code()), (403, "AccessForbidden"));
    assert_eq!(err.to_string(), "CORSResponse: Bucket not found");
    assert_eq!(err.method_and_resource(), Some(("OPTIONS", ResourceType::Bucket)));
    let err = preflight(BucketCors::NoBucket, &pf(Some("http://a"), Some("PUT"), None)).unwrap_err();
    assert_eq!(err.method_and_resource(), Some(("PUT", ResourceType::Bucket)));
}

#[test]
fn r43_no_configuration_is_403_not_enabled() {
    let err = preflight(
        BucketCors::NotConfigured,
        &pf(Some("http://a"), Some("PUT"), None),
    )
    .unwrap_err();
    assert_eq!(err.status(), 403);
    assert_eq!(
        err.to_string(),
        "CORSResponse: CORS is not enabled for this bucket."
    );
    assert_eq!(err.method_and_resource(), Some(("PUT", ResourceType::Bucket)));
    let err = preflight(BucketCors::NotConfigured, &pf(Some("http://a"), None, None)).unwrap_err();
    assert_eq!(err.method_and_resource(), Some(("OPTIONS", ResourceType::Bucket)));
}

#[test]
fn r44_invalid_request_method_is_400_before_the_configuration_check() {
    for m in ["get", "Get", "TRACE", "junk", ""] {
        for bucket in [BucketCors::NoBucket, BucketCors::NotConfigured] {
            let err = preflight(bucket, &pf(Some("http://a"), Some(m), None)).unwrap_err();
            assert_eq!(err, PreflightError::InvalidMethod(m.to_owned()));
            assert_eq!(err.status(), 400);
            assert_eq!(
                err.to_string(),
                format!("Invalid Access-Control-Request-Method: {m}")
            );
        }
    }
}

#[test]
fn r45_configured_bucket_without_request_method_is_400_null() {
    let c = localhost_4200();
    let err = preflight(
        BucketCors::Configured(&c),
        &pf(Some("https://localhost:4200"), None, None),
    )
    .unwrap_err();
    assert_eq!(err, PreflightError::MissingMethod);
    assert_eq!(err.to_string(), "Invalid Access-Control-Request-Method: null");
}

#[test]
fn r46_to_r53_matching_preflight_headers() {
    let c = localhost_4200();
    let ok = preflight(
        BucketCors::Configured(&c),
        &pf(Some("https://localhost:4200"), Some("PUT"), None),
    )
    .expect("allowed");
    assert_eq!(
        headers_of(&ok),
        owned(&[
            ("access-control-allow-origin", "https://localhost:4200"),
            ("access-control-allow-credentials", "true"),
            ("access-control-allow-methods", "GET, PUT"),
            ("access-control-max-age", "3000"),
            ("vary", VARY),
        ])
    );
    assert_eq!(
        VARY,
        "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
    );
}

#[test]
fn r47_r48_wildcard_origin_gives_star_and_no_credentials() {
    let c = compile(vec![rule(&["https://specific", "*"], &["GET"])]);
    let ok = preflight(
        BucketCors::Configured(&c),
        &pf(Some("https://specific"), Some("GET"), None),
    )
    .expect("ok");
    assert_eq!(ok.allow_origin, "*");
    assert!(!ok.allow_credentials);
    let c = compile(vec![rule(&["http://*.origin.com"], &["GET"])]);
    let ok = preflight(
        BucketCors::Configured(&c),
        &pf(Some("http://test.origin.com"), Some("GET"), None),
    )
    .expect("ok");
    assert_eq!(
        ok.allow_origin, "http://test.origin.com",
        "the origin, never the pattern"
    );
    assert!(ok.allow_credentials);
}

#[test]
fn r49_allow_methods_lists_all_rule_methods_in_order() {
    let c = compile(vec![rule(&["*"], &["PUT", "POST", "DELETE", "GET"])]);
    let ok = preflight(BucketCors::Configured(&c), &pf(Some("x"), Some("GET"), None)).expect("ok");
    assert_eq!(ok.allow_methods, "PUT, POST, DELETE, GET");
}

#[test]
fn r50_allow_headers_echo_the_request_lower_cased() {
    let mut r = rule(&["*"], &["GET"]);
    r.allowed_headers = vec!["*".into()];
    let c = compile(vec![r]);
    #[rustfmt::skip]
    let cases = [
        ("x-amz-request-payer", "x-amz-request-payer"),
        ("x-amz-request-payer, x-amz-expected-bucket-owner", "x-amz-request-payer, x-amz-expected-bucket-owner"),
        ("x-AMZ-expected-BUCKET-owner, x-amz-server-side-encryption", "x-amz-expected-bucket-owner, x-amz-server-side-encryption"),
        ("x-amz-expected-bucket-owner,x-amz-server-side-encryption", "x-amz-expected-bucket-owner, x-amz-server-side-encryption"),
        ("Content-Type", "content-type"),
        ("content-type,,expires", "content-type, expires"),
    ];
    for (acrh, expected) in cases {
        let ok = preflight(
            BucketCors::Configured(&c),
            &pf(Some("o"), Some("GET"), Some(acrh)),
        )
        .expect(acrh);
        assert_eq!(ok.allow_headers.as_deref(), Some(expected), "{acrh}");
    }
    let ok = preflight(BucketCors::Configured(&c), &pf(Some("o"), Some("GET"), None)).expect("ok");
    assert_eq!(ok.allow_headers, None);
    let ok = preflight(
        BucketCors::Configured(&c),
        &pf(Some("o"), Some("GET"), Some(" , ")),
    )
    .expect("ok");
    assert_eq!(ok.allow_headers, None, "an ACRH of only separators is empty");
}

#[test]
fn r51_expose_headers_verbatim_in_order() {
    let mut r = rule(&["*"], &["GET"]);
    r.expose_headers = vec![
        "x-amz-id-2".into(),
        "x-amz-request-id".into(),
        "x-amz-request-payer".into(),
    ];
    let c = compile(vec![r]);
    let ok = preflight(BucketCors::Configured(&c), &pf(Some("o"), Some("GET"), None)).expect("ok");
    assert_eq!(
        ok.expose_headers,
        Some("x-amz-id-2, x-amz-request-id, x-amz-request-payer")
    );
    let c = compile(vec![rule(&["*"], &["GET"])]);
    let ok = preflight(BucketCors::Configured(&c), &pf(Some("o"), Some("GET"), None)).expect("ok");
    assert_eq!(
        ok.expose_headers, None,
        "nothing exposed by default, not even ETag (R76)"
    );
}

#[test]
fn r52_max_age_zero_is_sent() {
    let mut r = rule(&["*"], &["GET"]);
    r.max_age_seconds = Some(0);
    let c = compile(vec![r]);
    let ok = preflight(BucketCors::Configured(&c), &pf(Some("o"), Some("GET"), None)).expect("ok");
    assert_eq!(ok.max_age, Some("0"));
}

#[test]
fn r54_default_values_rule() {
    let c = compile(vec![rule(&["*"], &["GET"])]);
    let ok = preflight(
        BucketCors::Configured(&c),
        &pf(Some("localhost:4566"), Some("GET"), None),
    )
    .expect("ok");
    assert_eq!(
        headers_of(&ok),
        owned(&[
            ("access-control-allow-origin", "*"),
            ("access-control-allow-methods", "GET"),
            ("vary", VARY)
        ])
    );
}

#[test]
fn r55_no_match_is_403_with_resource_type() {
    let c = localhost_4200();
    for (origin, method, headers) in [
        ("http://localhost:4200", "GET", None),
        ("https://localhost:4200", "DELETE", None),
    ] {
        let mut req = pf(Some(origin), Some(method), headers);
        let err = preflight(BucketCors::Configured(&c), &req).unwrap_err();
        assert_eq!(err.status(), 403);
        assert_eq!(
            err.to_string(),
            "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, \
             request method / Access-Control-Request-Method or Access-Control-Request-Headers are not \
             whitelisted by the resource's CORS spec."
        );
        assert_eq!(err.method_and_resource(), Some((method, ResourceType::Object)));
        req.has_key = false;
        let err = preflight(BucketCors::Configured(&c), &req).unwrap_err();
        assert_eq!(err.method_and_resource(), Some((method, ResourceType::Bucket)));
    }
    // PATCH and OPTIONS pass the method check, then match nothing (R44's edge).
    let err = preflight(
        BucketCors::Configured(&c),
        &pf(Some("https://localhost:4200"), Some("PATCH"), None),
    );
    assert_eq!(err.unwrap_err().status(), 403);
}

#[test]
fn r58_r59_r61_actual_requests_without_match_get_nothing() {
    let c = localhost_4200();
    assert!(
        actual(BucketCors::Configured(&c), None, "GET", None, None).is_none(),
        "R58"
    );
    assert!(
        actual(BucketCors::Configured(&c), Some(""), "GET", None, None).is_none(),
        "R73"
    );
    assert!(
        actual(
            BucketCors::NotConfigured,
            Some("https://localhost:4200"),
            "GET",
            None,
            None
        )
        .is_none(),
        "R59"
    );
    assert!(
        actual(
            BucketCors::NoBucket,
            Some("https://localhost:4200"),
            "GET",
            None,
            None
        )
        .is_none(),
        "R65"
    );
    assert!(
        actual(
            BucketCors::Configured(&c),
            Some("https://evil"),
            "GET",
            None,
            None
        )
        .is_none(),
        "R61"
    );
    assert!(
        actual(
            BucketCors::Configured(&c),
            Some("https://localhost:4200"),
            "DELETE",
            None,
            None
        )
        .is_none()
    );
}

#[test]
fn r60_actual_request_headers() {
    let c = localhost_4200();
    let h = actual(
        BucketCors::Configured(&c),
        Some("https://localhost:4200"),
        "GET",
        None,
        None,
    )
    .expect("match");
    assert_eq!(
        headers_of(&h),
        owned(&[
            ("access-control-allow-origin", "https://localhost:4200"),
            ("access-control-allow-credentials", "true"),
            ("access-control-allow-methods", "GET, PUT"),
            ("access-control-max-age", "3000"),
            ("vary", VARY),
        ])
    );
}

#[test]
fn r62_request_method_header_replaces_the_method() {
    let c = compile(vec![rule(&["*suffix"], &["GET"])]);
    assert!(
        actual(
            BucketCors::Configured(&c),
            Some("foo.suffix"),
            "GET",
            Some("PUT"),
            None
        )
        .is_none()
    );
    let h = actual(
        BucketCors::Configured(&c),
        Some("foo.suffix"),
        "PUT",
        Some("GET"),
        None,
    )
    .expect("match");
    assert_eq!((h.allow_origin, h.allow_methods), ("foo.suffix", "GET"));
}

#[test]
fn r63_request_headers_on_actual_requests_are_checked() {
    let c = compile(vec![rule(&["*"], &["GET"])]);
    assert!(
        actual(
            BucketCors::Configured(&c),
            Some("o"),
            "GET",
            None,
            Some("x-amz-request-payer")
        )
        .is_none()
    );
    assert!(actual(BucketCors::Configured(&c), Some("o"), "GET", None, None).is_some());
}

#[test]
fn r67_head_needs_head() {
    let c = compile(vec![rule(&["*"], &["GET"])]);
    assert!(actual(BucketCors::Configured(&c), Some("o"), "HEAD", None, None).is_none());
    let c = compile(vec![rule(&["*"], &["GET", "HEAD"])]);
    assert!(actual(BucketCors::Configured(&c), Some("o"), "HEAD", None, None).is_some());
}

#[test]
fn r68_first_full_match_wins() {
    let mut second = rule(&["http://o"], &["PUT"]);
    second.max_age_seconds = Some(20);
    let c = compile(vec![rule(&["http://o"], &["GET"]), second]);
    let put = preflight(
        BucketCors::Configured(&c),
        &pf(Some("http://o"), Some("PUT"), None),
    )
    .expect("PUT");
    assert_eq!((put.rule, put.allow_methods, put.max_age), (1, "PUT", Some("20")));
    let get = preflight(
        BucketCors::Configured(&c),
        &pf(Some("http://o"), Some("GET"), None),
    )
    .expect("GET");
    assert_eq!((get.rule, get.allow_methods, get.max_age), (0, "GET", None));
    let del = preflight(
        BucketCors::Configured(&c),
        &pf(Some("http://o"), Some("DELETE"), None),
    )
    .unwrap_err();
    assert_eq!(del.status(), 403);
}

#[test]
fn r69_header_matching_examples() {
    let mut r = rule(&["*"], &["GET"]);
    r.allowed_headers = vec![
        "x-amz-expected-bucket-owner".into(),
        "x-amz-server-side-encryption-customer-algorithm".into(),
        "x-AMZ-server-SIDE-encryption".into(),
    ];
    let c = compile(vec![r, rule(&["https://other"], &["GET"])]);
    let cfg = BucketCors::Configured(&c);
    assert!(preflight(cfg, &pf(Some("o"), Some("GET"), Some("x-amz-request-payer"))).is_err());
    let ok = preflight(
        cfg,
        &pf(
            Some("o"),
            Some("GET"),
            Some("x-AMZ-expected-BUCKET-owner, x-amz-server-side-encryption"),
        ),
    );
    assert!(ok.is_ok());
    // A rule without AllowedHeader matches only requests without ACRH.
    let c = compile(vec![rule(&["*"], &["GET"])]);
    assert!(
        preflight(
            BucketCors::Configured(&c),
            &pf(Some("o"), Some("GET"), Some("x-amz-request-payer"))
        )
        .is_err()
    );
    // The AWS SDK for JavaScript v3's preflight (R75), against `*`.
    let mut r = rule(&["http://localhost:3000"], &["PUT"]);
    r.allowed_headers = vec!["*".into()];
    let c = compile(vec![r]);
    let acrh = "amz-sdk-invocation-id,amz-sdk-request,authorization,content-type,x-amz-checksum-crc32,\
                x-amz-content-sha256,x-amz-date,x-amz-sdk-checksum-algorithm,x-amz-security-token,x-amz-user-agent";
    let ok = preflight(
        BucketCors::Configured(&c),
        &pf(Some("http://localhost:3000"), Some("PUT"), Some(acrh)),
    )
    .expect("SDK preflight");
    assert_eq!(
        ok.allow_headers.as_deref(),
        Some(acrh.replace(',', ", ").as_str())
    );
}

#[test]
fn r70_partial_wildcard_preflight() {
    let c = compile(vec![rule(&["http://*.origin.com"], &["GET"])]);
    assert!(
        preflight(
            BucketCors::Configured(&c),
            &pf(Some("http://test.origin.com"), Some("GET"), None)
        )
        .is_ok()
    );
    let err = preflight(
        BucketCors::Configured(&c),
        &pf(Some("http://test.origin.com/"), Some("GET"), None),
    );
    assert!(err.is_err());
}

#[test]
fn evaluate_directly() {
    let c = compile(vec![rule(&["a"], &["GET"])]);
    assert!(evaluate(&c, "a", "GET", None).is_ok());
    assert!(evaluate(&c, "a", "OPTIONS", None).is_err());
}

#[test]
fn control_characters_are_never_echoed() {
    let mut r = rule(&["http://a*"], &["GET"]);
    r.allowed_headers = vec!["*".into()];
    let c = compile(vec![r]);
    let cfg = BucketCors::Configured(&c);
    assert!(preflight(cfg, &pf(Some("http://a\r\nset-cookie: x"), Some("GET"), None)).is_err());
    assert!(preflight(cfg, &pf(Some("http://a"), Some("GET"), Some("x\u{1}y"))).is_err());
    assert!(actual(cfg, Some("http://a\u{7f}"), "GET", None, None).is_none());
    assert!(preflight(cfg, &pf(Some("http://a"), Some("GET"), Some("x-ok"))).is_ok());
    // Tabs and line breaks around a name are trimmed away like spaces (R50); only inside one they refuse.
    let ok = preflight(cfg, &pf(Some("http://a"), Some("GET"), Some("x-ok,\tX-Two\r\n"))).expect("trimmed");
    assert_eq!(ok.allow_headers.as_deref(), Some("x-ok, x-two"));
    assert!(preflight(cfg, &pf(Some("http://a"), Some("GET"), Some("x-ok,\tx\t2"))).is_err());
}
