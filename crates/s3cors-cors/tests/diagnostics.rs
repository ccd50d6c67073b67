//! Table tests of `explain` and `lint`. The decisions they explain are the engine's (R41–R68 in the
//! CORS specification); these tests check the per-rule reports, the one-line summaries and each lint
//! finding with a configuration that triggers it and one that does not.

use s3cors_cors::{CorsConfiguration, CorsRule, ExplainRequest, PreflightRequest, explain, lint};

fn rule(id: Option<&str>, origins: &[&str], methods: &[&str], headers: &[&str], expose: &[&str]) -> CorsRule {
    CorsRule {
        id: id.map(str::to_owned),
        allowed_origins: origins.iter().map(|s| (*s).to_owned()).collect(),
        allowed_methods: methods.iter().map(|s| (*s).to_owned()).collect(),
        allowed_headers: headers.iter().map(|s| (*s).to_owned()).collect(),
        expose_headers: expose.iter().map(|s| (*s).to_owned()).collect(),
        max_age_seconds: None,
    }
}

fn config(rules: Vec<CorsRule>) -> CorsConfiguration {
    CorsConfiguration { rules }
}

fn uploads() -> CorsConfiguration {
    config(vec![
        rule(
            Some("uploads"),
            &["http://app.example"],
            &["GET", "PUT"],
            &["content-type"],
            &["ETag"],
        ),
        rule(None, &["https://*.example.com"], &["GET", "DELETE"], &["*"], &[]),
    ])
}

fn preflight<'a>(origin: &'a str, method: &'a str, headers: Option<&'a str>) -> ExplainRequest<'a> {
    ExplainRequest {
        request: PreflightRequest {
            origin: Some(origin),
            method: Some(method),
            headers,
            has_key: true,
        },
        preflight: true,
    }
}

#[test]
fn explain_table() {
    let c = uploads();
    #[rustfmt::skip]
    let cases: &[(ExplainRequest<'_>, bool, Option<usize>, &str)] = &[
        // R55: no rule matches; rule 1 fails on the method, rule 2 on the origin.
        (preflight("http://app.example", "DELETE", None), false, None,
         "denied: rule 1 (id=uploads) origin ok, method DELETE not in [GET, PUT]; rule 2 origin mismatch"),
        // R68: the first matching rule decides; the rules after it are not shown.
        (preflight("http://app.example", "PUT", Some("Content-Type")), true, Some(1),
         "allowed: rule 1 (id=uploads) matches"),
        // R69/R55: the first requested header no AllowedHeader covers is named.
        (preflight("http://app.example", "PUT", Some("content-type, x-amz-date")), false, None,
         "denied: rule 1 (id=uploads) origin ok, method ok, header x-amz-date not allowed; rule 2 origin mismatch"),
        // R70: a wildcard origin.
        (preflight("https://a.example.com", "DELETE", Some("x-anything")), true, Some(2),
         "allowed: rule 1 (id=uploads) origin mismatch; rule 2 matches"),
        // R41: no Origin.
        (ExplainRequest { request: PreflightRequest { origin: None, method: Some("GET"), headers: None, has_key: true }, preflight: true },
         false, None, "denied: the request has no Origin header"),
        // R45: no ACRM on a configured bucket.
        (ExplainRequest { request: PreflightRequest { origin: Some("http://app.example"), method: None, headers: None, has_key: true }, preflight: true },
         false, None, "denied: the preflight has no Access-Control-Request-Method header"),
        // R62/R63 do not apply: an actual GET is checked on origin and method only.
        (ExplainRequest { request: PreflightRequest { origin: Some("http://app.example"), method: Some("GET"), headers: None, has_key: true }, preflight: false },
         true, Some(1), "allowed: rule 1 (id=uploads) matches"),
    ];
    for (req, allowed, rule, summary) in cases {
        let e = explain(Some(&c), true, req);
        assert_eq!(e.decision.allowed, *allowed, "{req:?}");
        assert_eq!(e.decision.rule, *rule, "{req:?}");
        assert_eq!(e.summary, *summary, "{req:?}");
        assert_eq!(e.rules.len(), if req.request.origin.is_some() { 2 } else { 0 });
    }
}

#[test]
fn explain_names_the_matching_origin_pattern_and_the_exact_headers() {
    let e = explain(
        Some(&uploads()),
        true,
        &preflight("https://x.example.com", "GET", None),
    );
    assert_eq!(
        e.rules[1].origin_matched_by.as_deref(),
        Some("https://*.example.com")
    );
    assert_eq!(e.rules[0].origin_matched_by, None);
    assert_eq!(e.decision.status, Some(200));
    // R47, R48, R49, R53: the exact response headers.
    assert_eq!(
        e.decision.headers,
        vec![
            (
                "access-control-allow-origin".to_owned(),
                "https://x.example.com".to_owned()
            ),
            ("access-control-allow-credentials".to_owned(), "true".to_owned()),
            (
                "access-control-allow-methods".to_owned(),
                "GET, DELETE".to_owned()
            ),
            (
                "vary".to_owned(),
                "Origin, Access-Control-Request-Headers, Access-Control-Request-Method".to_owned()
            ),
        ]
    );
}

#[test]
fn explain_without_a_bucket_or_configuration() {
    let req = preflight("http://app.example", "GET", None);
    // R42.
    let e = explain(None, false, &req);
    assert_eq!(e.summary, "denied: the bucket does not exist");
    assert_eq!(e.decision.status, Some(403));
    assert_eq!(
        e.decision.error.as_ref().map(|(c, m)| (c.as_str(), m.as_str())),
        Some(("AccessForbidden", "CORSResponse: Bucket not found"))
    );
    // R43.
    let e = explain(None, true, &req);
    assert_eq!(e.summary, "denied: the bucket has no CORS configuration");
}

#[test]
fn summary_is_one_visible_line_of_bounded_length() {
    let many = config(
        (0..100)
            .map(|i| {
                rule(
                    Some(&format!("rule-{i}")),
                    &[&format!("http://o{i}.example")],
                    &["GET"],
                    &[],
                    &[],
                )
            })
            .collect(),
    );
    let s = explain(
        Some(&many),
        true,
        &preflight("http://nope\u{1}.example", "GET", None),
    )
    .summary;
    assert!(s.len() <= 2000 && s.ends_with("..."), "{}", s.len());
    assert!(s.bytes().all(|b| b == b' ' || b.is_ascii_graphic()));
}

#[test]
fn lint_findings_each_with_a_trigger_and_a_clean_counterpart() {
    let good = rule(
        Some("app"),
        &["http://localhost:3000", "http://127.0.0.1:3000"],
        &["GET", "PUT"],
        &["*"],
        &["ETag"],
    );
    #[rustfmt::skip]
    let cases: Vec<(&str, CorsConfiguration, CorsConfiguration)> = vec![
        ("unreachable-rule",
         config(vec![good.clone(), rule(None, &["http://localhost:3000"], &["GET"], &["content-type"], &["ETag"])]),
         config(vec![good.clone(), rule(None, &["http://localhost:3000"], &["DELETE"], &["*"], &["ETag"])])),
        ("unreachable-rule",
         config(vec![rule(None, &["https://*.example.com"], &["GET"], &[], &[]), rule(None, &["https://a.b.example.com"], &["GET"], &[], &[])]),
         config(vec![rule(None, &["https://*.example.com"], &["GET"], &[], &[]), rule(None, &["https://*.example.org"], &["GET"], &[], &[])])),
        ("shadowed-by-wildcard-origin",
         config(vec![rule(None, &["*"], &["GET"], &[], &[]), rule(None, &["http://app.example"], &["GET", "PUT"], &["*"], &["ETag"])]),
         config(vec![rule(None, &["http://app.example"], &["GET", "PUT"], &["*"], &["ETag"]), rule(None, &["*"], &["GET"], &[], &[])])),
        ("origin-never-sent",
         config(vec![rule(None, &["http://app.example/"], &["GET"], &[], &[])]),
         config(vec![rule(None, &["http://app.example"], &["GET"], &[], &[])])),
        ("origin-never-sent",
         config(vec![rule(None, &["https://app.example/upload"], &["GET"], &[], &[])]),
         config(vec![rule(None, &["https://app.example:8443"], &["GET"], &[], &[])])),
        ("origin-never-sent",
         config(vec![rule(None, &["HTTP://App.Example"], &["GET"], &[], &[])]),
         config(vec![rule(None, &["http://app.example"], &["GET"], &[], &[])])),
        ("origin-never-sent",
         config(vec![rule(None, &["https://app.example:443"], &["GET"], &[], &[])]),
         config(vec![rule(None, &["http://app.example:443"], &["GET"], &[], &[])])),
        ("loopback-look-alike",
         config(vec![rule(None, &["http://localhost:5173"], &["GET"], &[], &[])]),
         config(vec![rule(None, &["http://localhost:5173", "http://127.0.0.1:5173"], &["GET"], &[], &[])])),
        ("etag-not-exposed",
         config(vec![rule(None, &["http://app.example"], &["PUT"], &["*"], &[])]),
         config(vec![rule(None, &["http://app.example"], &["PUT"], &["*"], &["etag"])])),
        ("sdk-headers-not-allowed",
         config(vec![rule(None, &["http://app.example"], &["PUT"], &["content-type", "authorization"], &["ETag"])]),
         config(vec![rule(None, &["http://app.example"], &["PUT"], &["authorization", "content-type", "x-amz-*", "amz-sdk-*"], &["ETag"])])),
        ("max-age-above-browser-cap",
         config(vec![CorsRule { max_age_seconds: Some(7201), ..good.clone() }]),
         config(vec![CorsRule { max_age_seconds: Some(7200), ..good.clone() }])),
        ("max-age-above-browser-cap",
         config(vec![CorsRule { max_age_seconds: Some(86401), ..good.clone() }]),
         config(vec![CorsRule { max_age_seconds: Some(3000), ..good }])),
    ];
    for (code, triggers, clean) in cases {
        let found = lint(&triggers);
        assert!(found.iter().any(|f| f.code == code), "{code}: {found:#?}");
        let f = found.iter().find(|f| f.code == code).expect("found");
        assert!(!f.message.is_empty() && !f.fix.is_empty() && f.rule >= 1);
        let none = lint(&clean);
        assert!(
            none.iter().all(|f| f.code != code),
            "{code} on the clean one: {none:#?}"
        );
    }
}

#[test]
fn lint_names_rule_index_and_id_and_the_missing_sdk_headers() {
    let c = config(vec![
        rule(Some("assets"), &["*"], &["GET"], &[], &[]),
        rule(
            Some("uploads"),
            &["http://app.example"],
            &["PUT"],
            &["content-type"],
            &["ETag"],
        ),
    ]);
    let found = lint(&c);
    let sdk = found
        .iter()
        .find(|f| f.code == "sdk-headers-not-allowed")
        .expect("finding");
    assert_eq!((sdk.rule, sdk.id.as_deref()), (2, Some("uploads")));
    assert!(
        sdk.message
            .contains("authorization, x-amz-date, x-amz-content-sha256"),
        "{}",
        sdk.message
    );
    assert!(sdk.message.contains("x-amz-checksum-*"), "{}", sdk.message);
    // A GET-only rule without AllowedHeaders serves simple requests: no SDK finding for rule 1.
    assert!(found.iter().all(|f| f.rule != 1));
    // The clean configuration of the README's recipe has no finding at all.
    let recipe = config(vec![rule(
        None,
        &["http://localhost:3000", "http://127.0.0.1:3000"],
        &["GET", "PUT", "POST", "DELETE", "HEAD"],
        &["*"],
        &["ETag"],
    )]);
    assert_eq!(lint(&recipe), vec![]);
}
