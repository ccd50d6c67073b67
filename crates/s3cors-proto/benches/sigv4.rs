//! Micro-benchmarks of SigV4 verification as the server does it for the signed workloads of the
//! benchmark suite (docs/performance.md): W3's presigned GET of `/last/small` and W3h's GET signed in
//! the `Authorization` header. The signing key is derived beforehand, as the server caches it. Beside
//! the two whole verifications, W3's is taken apart: parsing the query (which the server does once
//! per request for routing too), reading the claim from it, building the canonical request, and the
//! hashing (SHA-256 of the canonical request, HMAC-SHA-256 of the string to sign).
//!
//! `cargo bench -p s3cors-proto --bench sigv4`

use criterion::{Criterion, criterion_group, criterion_main};
use s3cors_proto::Query;
use s3cors_proto::sigv4::{self, CanonicalInput, Credential, SigningKey};
use std::hint::black_box;

const SECRET: &str = "s3cors-secret";
const AMZ_DATE: &str = "20261129T041119Z";
const HOST: &str = "127.0.0.1:43215";
const PATH: &str = "/last/small";

fn credential() -> Credential<'static> {
    Credential {
        access_key_id: "s3cors",
        date: "20261129",
        region: "us-east-1",
        service: "s3",
    }
}

/// The string to sign of a GET of [`PATH`] with `raw_query`, signing the headers `signed` whose
/// values `header` gives, for the claimed date and credential: what the client signs and what the
/// server recomputes.
fn get_string_to_sign<I: IntoIterator<Item = &'static str>>(
    raw_query: &str,
    signed: &str,
    header: impl Fn(&str) -> I,
    date: &str,
    credential: &Credential<'_>,
) -> String {
    let input = CanonicalInput {
        method: "GET",
        raw_path: PATH,
        raw_query,
    };
    let cr = sigv4::canonical_request(&input, signed, header, "UNSIGNED-PAYLOAD");
    sigv4::string_to_sign(date, credential, &cr)
}

/// The W3 request target's query: the presigned parameters in the order SDKs send them.
fn presigned_query(key: &SigningKey) -> String {
    let query = format!(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=s3cors%2F20261129%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date={AMZ_DATE}&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
    );
    let sig = key.sign(&get_string_to_sign(
        &query,
        "host",
        |_| [HOST],
        AMZ_DATE,
        &credential(),
    ));
    format!("{query}&X-Amz-Signature={sig}")
}

/// The W3h request's `Authorization` header, signing host, x-amz-content-sha256 and x-amz-date.
fn authorization(key: &SigningKey) -> String {
    let signed = "host;x-amz-content-sha256;x-amz-date";
    let sig = key.sign(&get_string_to_sign(
        "",
        signed,
        header_w3h,
        AMZ_DATE,
        &credential(),
    ));
    format!(
        "AWS4-HMAC-SHA256 Credential=s3cors/20261129/us-east-1/s3/aws4_request, SignedHeaders={signed}, Signature={sig}"
    )
}

fn header_w3h(name: &str) -> Option<&'static str> {
    match name {
        "host" => Some(HOST),
        "x-amz-content-sha256" => Some("UNSIGNED-PAYLOAD"),
        "x-amz-date" => Some(AMZ_DATE),
        _ => None,
    }
}

/// W3: the query parsed, the claim read from it, the canonical request, the string to sign, the
/// signature compared.
fn verify_presigned(key: &SigningKey, raw_query: &str) -> bool {
    let Ok(query) = Query::parse(raw_query) else {
        return false;
    };
    let Ok(Some(claim)) = sigv4::parse_presigned(&query) else {
        return false;
    };
    let date = query.get("X-Amz-Date").unwrap_or("");
    let expected = get_string_to_sign(
        raw_query,
        claim.signed_headers,
        |_| [HOST],
        date,
        &claim.credential,
    );
    key.matches(&expected, claim.signature)
}

/// W3h: the claim parsed from the header, then as above (the request has no query).
fn verify_header(key: &SigningKey, authorization: &str) -> bool {
    let Ok(claim) = sigv4::parse_authorization(authorization) else {
        return false;
    };
    let expected = get_string_to_sign("", claim.signed_headers, header_w3h, AMZ_DATE, &claim.credential);
    key.matches(&expected, claim.signature)
}

fn bench(c: &mut Criterion) {
    let key = sigv4::signing_key(SECRET, &credential());
    let query = presigned_query(&key);
    let authorization = authorization(&key);
    assert!(verify_presigned(&key, &query), "the W3 signature verifies");
    assert!(verify_header(&key, &authorization), "the W3h signature verifies");
    let forged = query.replace("X-Amz-Expires=3600", "X-Amz-Expires=3601");
    assert!(!verify_presigned(&key, &forged), "a changed parameter fails");

    c.bench_function("verify_presigned_get_w3", |b| {
        b.iter(|| verify_presigned(black_box(&key), black_box(&query)))
    });
    c.bench_function("verify_header_signed_get_w3h", |b| {
        b.iter(|| verify_header(black_box(&key), black_box(&authorization)))
    });
    // The parts of W3's verification.
    c.bench_function("query_parse_w3", |b| b.iter(|| Query::parse(black_box(&query))));
    let parsed = Query::parse(&query).expect("valid");
    c.bench_function("parse_presigned_w3", |b| {
        b.iter(|| sigv4::parse_presigned(black_box(&parsed)).map(|c| c.map(|c| c.signature.len())))
    });
    let input = CanonicalInput {
        method: "GET",
        raw_path: PATH,
        raw_query: &query,
    };
    c.bench_function("canonical_request_w3", |b| {
        b.iter(|| sigv4::canonical_request(black_box(&input), "host", |_| [HOST], "UNSIGNED-PAYLOAD"))
    });
    let cr = sigv4::canonical_request(&input, "host", |_| [HOST], "UNSIGNED-PAYLOAD");
    let signature = query.rsplit_once('=').map_or("", |(_, s)| s);
    c.bench_function("hash_and_hmac_w3", |b| {
        b.iter(|| {
            key.matches(
                &sigv4::string_to_sign(AMZ_DATE, &credential(), black_box(&cr)),
                black_box(signature),
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
