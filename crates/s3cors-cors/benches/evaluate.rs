//! Micro-benchmarks of the pure CORS engine: deciding the W1/W2 preflights of the benchmark suite
//! (100 rules, the match last or first) and parse + validate + compile of a 64 KB configuration.
//!
//! `cargo bench -p s3cors-cors`

use criterion::{Criterion, criterion_group, criterion_main};
use s3cors_cors::{BucketCors, CompiledCors, CorsConfiguration, CorsRule, PreflightRequest, preflight};
use std::hint::black_box;

/// 99 decoys failing in turn on the exact origin, the wildcard origin, the method and the headers,
/// then the rule that matches (W1); or the matching rule first (W2).
pub fn hundred_rules(match_first: bool) -> CorsConfiguration {
    let target = CorsRule {
        id: Some("app".into()),
        allowed_origins: vec!["http://localhost:3000".into()],
        allowed_methods: vec!["GET".into(), "PUT".into()],
        allowed_headers: vec!["content-type".into(), "x-amz-*".into(), "authorization".into()],
        expose_headers: vec!["ETag".into()],
        max_age_seconds: Some(3000),
    };
    let mut rules: Vec<CorsRule> = (0..99)
        .map(|i| {
            let mut r = target.clone();
            r.id = Some(format!("decoy-{i}"));
            match i % 4 {
                0 => r.allowed_origins = vec![format!("http://decoy-{i}.example.com")],
                1 => r.allowed_origins = vec![format!("https://*.decoy-{i}.example.com")],
                2 => r.allowed_methods = vec!["GET".into(), "HEAD".into()],
                _ => r.allowed_headers = vec!["content-type".into(), "x-amz-date".into()],
            }
            r
        })
        .collect();
    if match_first {
        rules.insert(0, target);
    } else {
        rules.push(target);
    }
    CorsConfiguration { rules }
}

fn bench(c: &mut Criterion) {
    let request = PreflightRequest {
        origin: Some("http://localhost:3000"),
        method: Some("PUT"),
        headers: Some("content-type,x-amz-date,authorization,x-amz-content-sha256"),
        has_key: true,
    };
    for (name, first) in [
        ("evaluate_100_rules_last_match", false),
        ("evaluate_100_rules_first_match", true),
    ] {
        let compiled = CompiledCors::compile(&hundred_rules(first));
        assert!(preflight(BucketCors::Configured(&compiled), &request).is_ok());
        c.bench_function(name, |b| {
            b.iter(|| preflight(BucketCors::Configured(black_box(&compiled)), black_box(&request)))
        });
    }
    // A configuration of about 64 KB: 100 rules with long origin lists.
    let mut big = hundred_rules(false);
    for r in &mut big.rules {
        r.allowed_origins
            .extend((0..3).map(|i| format!("https://subdomain-{i}.some-long-example-domain.test")));
    }
    let xml = s3cors_proto::cors_xml::serialize_cors(&big);
    assert!(xml.len() > 50_000 && xml.len() <= 65_536, "{} bytes", xml.len());
    c.bench_function("parse_validate_compile_64k", |b| {
        b.iter(|| {
            let config = s3cors_proto::cors_xml::parse_cors(black_box(xml.as_bytes())).expect("valid");
            s3cors_cors::validate(&config).expect("valid");
            CompiledCors::compile(&config)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
