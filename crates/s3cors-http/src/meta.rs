//! Object metadata from request headers, and back onto responses.

use axum::response::Response;
use http::HeaderMap;
use s3cors_proto::{Query, S3Error, S3ErrorCode};
use s3cors_store::ObjectMeta;

use crate::response::set_header;

/// S3's limit on user metadata: names and values together.
const MAX_USER_METADATA: usize = 2048;

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Reads content headers and `x-amz-meta-*` from a request.
pub(crate) fn from_headers(headers: &HeaderMap) -> Result<ObjectMeta, S3Error> {
    let mut user = Vec::new();
    let mut total = 0;
    for (name, value) in headers {
        if let Some(short) = name.as_str().strip_prefix("x-amz-meta-") {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            total += short.len() + value.len();
            user.push((short.to_owned(), value));
        }
    }
    if total > MAX_USER_METADATA {
        return Err(S3Error::new(S3ErrorCode::MetadataTooLarge)
            .with_element("MaxSizeAllowed", MAX_USER_METADATA.to_string()));
    }
    Ok(ObjectMeta {
        content_type: header(headers, "content-type"),
        content_encoding: header(headers, "content-encoding")
            .map(|v| {
                // `aws-chunked` describes the request framing, not the object.
                v.split(',')
                    .map(str::trim)
                    .filter(|c| !c.eq_ignore_ascii_case("aws-chunked"))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .filter(|v| !v.is_empty()),
        content_disposition: header(headers, "content-disposition"),
        content_language: header(headers, "content-language"),
        cache_control: header(headers, "cache-control"),
        expires: header(headers, "expires"),
        user,
    })
}

/// Puts an object's stored headers on a GET/HEAD response, with `response-*` overrides.
pub(crate) fn apply(resp: &mut Response, meta: &ObjectMeta, query: &Query) {
    let pick =
        |stored: &Option<String>, param: &str| query.get(param).map(str::to_owned).or_else(|| stored.clone());
    let content_type = pick(&meta.content_type, "response-content-type");
    set_header(
        resp,
        "content-type",
        content_type.as_deref().unwrap_or("binary/octet-stream"),
    );
    let pairs = [
        (
            "content-encoding",
            pick(&meta.content_encoding, "response-content-encoding"),
        ),
        (
            "content-disposition",
            pick(&meta.content_disposition, "response-content-disposition"),
        ),
        (
            "content-language",
            pick(&meta.content_language, "response-content-language"),
        ),
        (
            "cache-control",
            pick(&meta.cache_control, "response-cache-control"),
        ),
        ("expires", pick(&meta.expires, "response-expires")),
    ];
    for (name, value) in pairs {
        if let Some(v) = value {
            set_header(resp, name, &v);
        }
    }
    for (k, v) in &meta.user {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(format!("x-amz-meta-{k}")),
            http::HeaderValue::from_str(v),
        ) {
            resp.headers_mut().append(name, value);
        }
    }
}
