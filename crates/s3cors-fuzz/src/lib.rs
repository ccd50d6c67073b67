//! Fuzz harnesses: each takes arbitrary bytes, drives one input-facing part of s3cors, and checks the
//! invariants that must hold for any input. The cargo-fuzz targets in `fuzz/` call these; the test
//! below replays the committed corpora (`fuzz/corpus/TARGET/`) as ordinary tests.
//!
//! A harness never returns an error: a bug shows as a panic.

use s3cors_cors::{BucketCors, CompiledCors, PreflightRequest};
use s3cors_proto::chunked::{ChunkEvent, ChunkedDecoder};
use s3cors_proto::{Query, RequestTarget};

/// Splits fuzz input into fields at `0xFF` (a byte no UTF-8 text contains).
fn fields(data: &[u8]) -> Vec<&str> {
    data.split(|&b| b == 0xFF)
        .map(|f| std::str::from_utf8(f).unwrap_or(""))
        .collect()
}

/// The CORSConfiguration parser: anything parses or is refused; what parses and validates
/// serialises and parses back to itself.
pub fn cors_xml(data: &[u8]) {
    let Ok(config) = s3cors_proto::cors_xml::parse_cors(data) else {
        return;
    };
    if s3cors_cors::validate(&config).is_ok() {
        let again =
            s3cors_proto::cors_xml::parse_cors(s3cors_proto::cors_xml::serialize_cors(&config).as_bytes());
        assert_eq!(
            again.ok().as_ref(),
            Some(&config),
            "serialise then parse is the identity"
        );
    }
}

/// The CORS decision: fields `config XML, origin, ACRM, ACRH, method`; whatever they are, deciding
/// never panics and every emitted header value is a valid header value.
pub fn cors_decide(data: &[u8]) {
    let f = fields(data);
    let get = |i: usize| f.get(i).copied();
    let Some(Ok(config)) = get(0).map(|x| s3cors_proto::cors_xml::parse_cors(x.as_bytes())) else {
        return;
    };
    if s3cors_cors::validate(&config).is_err() {
        return;
    }
    let compiled = CompiledCors::compile(&config);
    let req = PreflightRequest {
        origin: get(1),
        method: get(2),
        headers: get(3),
        has_key: data.len().is_multiple_of(2),
    };
    let state = BucketCors::Configured(&compiled);
    let check = |h: &s3cors_cors::CorsHeaders<'_>| {
        for (_, v) in h.pairs() {
            assert!(!v.contains(['\r', '\n']), "no line breaks in a header value");
        }
        assert!(
            h.allow_origin == "*" || Some(h.allow_origin) == get(1),
            "ACAO is * or the origin"
        );
    };
    if let Ok(h) = s3cors_cors::preflight(state, &req) {
        check(&h);
    }
    if let Some(h) = s3cors_cors::actual(state, get(1), get(4).unwrap_or("GET"), get(2), get(3)) {
        check(&h);
    }
}

/// Request classification: fields `method, host, path, query`; classifying never panics, and a key,
/// when found, is at most what the path held.
pub fn classify(data: &[u8]) {
    let f = fields(data);
    let get = |i: usize| f.get(i).copied().unwrap_or("");
    let Ok(query) = Query::parse(get(3)) else { return };
    let target = RequestTarget {
        method: get(0),
        host: Some(get(1)),
        path: get(2),
        query: &query,
        copy_source: data.len().is_multiple_of(3),
    };
    if let Ok(ep) = s3cors_proto::classify(&target, &["localhost".to_owned()])
        && let Some(key) = ep.key
    {
        assert!(key.len() <= get(2).len(), "decoding never grows a key");
    }
    let _ = s3cors_proto::endpoint::locate(Some(get(1)), get(2), &["localhost".to_owned()]);
}

/// The `aws-chunked` decoder, fed in pieces of every size from the first byte: the decoded payload
/// never exceeds the input and does not depend on how the input was split.
pub fn aws_chunked(data: &[u8]) {
    let Some((&step, body)) = data.split_first() else {
        return;
    };
    let decode = |step: usize| {
        let mut d = ChunkedDecoder::new();
        let mut out = Vec::new();
        for piece in body.chunks(step.max(1)) {
            d.push(piece);
            loop {
                match d.next_event() {
                    Ok(Some(ChunkEvent::Data(b))) => out.extend_from_slice(&b),
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => return None,
                }
            }
        }
        d.finish().ok().map(|()| out)
    };
    let whole = decode(body.len());
    let pieces = decode(usize::from(step));
    assert_eq!(whole, pieces, "the split of the input does not matter");
    if let Some(out) = whole {
        assert!(out.len() <= body.len());
    }
}

/// SigV4 parsing and canonicalisation: fields `Authorization header, query string, path, X-Amz-Date`;
/// parsing never panics, a parsed claim names its credential and is read from the header, and
/// canonicalisation is ASCII and idempotent (a canonical form is its own canonical form).
pub fn sigv4(data: &[u8]) {
    use s3cors_proto::sigv4;
    let f = fields(data);
    let get = |i: usize| f.get(i).copied().unwrap_or("");
    if let Ok(claim) = sigv4::parse_authorization(get(0)) {
        assert!(!claim.credential.access_key_id.is_empty());
        assert!(get(0).contains(claim.signed_headers) && get(0).contains(claim.signature));
    }
    if let Ok(query) = Query::parse(get(1))
        && let Ok(Some(claim)) = sigv4::parse_presigned(&query)
    {
        assert!(claim.presigned && !claim.credential.access_key_id.is_empty());
    }
    let uri = sigv4::canonical_uri(get(2));
    assert!(uri.is_ascii());
    if get(2).starts_with('/') {
        assert!(uri.starts_with('/'));
    }
    assert_eq!(sigv4::canonical_uri(&uri), uri, "canonical_uri is idempotent");
    let query = sigv4::canonical_query(get(1));
    assert!(query.is_ascii());
    assert_eq!(
        sigv4::canonical_query(&query),
        query,
        "canonical_query is idempotent"
    );
    let _ = sigv4::parse_amz_date(get(3));
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn replay(target: &str, harness: fn(&[u8])) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/corpus")
            .join(target);
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("entry").path();
            harness(&std::fs::read(&path).expect("read"));
            n += 1;
        }
        assert!(n > 0, "the corpus of {target} is empty");
    }

    #[test]
    fn replay_cors_xml_corpus() {
        replay("cors_xml", super::cors_xml);
    }

    #[test]
    fn replay_cors_decide_corpus() {
        replay("cors_decide", super::cors_decide);
    }

    #[test]
    fn replay_classify_corpus() {
        replay("classify", super::classify);
    }

    #[test]
    fn replay_sigv4_corpus() {
        replay("sigv4", super::sigv4);
    }

    #[test]
    fn replay_aws_chunked_corpus() {
        replay("aws_chunked", super::aws_chunked);
    }
}
