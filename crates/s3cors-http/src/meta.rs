//! Object metadata from request headers, and back onto responses.

use axum::response::Response;
use http::HeaderMap;
use s3cors_proto::{Query, S3Error, S3ErrorCode};
use s3cors_store::{ObjectMeta, ObjectMetaOf};

use crate::response::set_header;

/// S3's limit on user metadata: names and values together.
const MAX_USER_METADATA: usize = 2048;

fn header(headers: &HeaderMap, name: impl http::header::AsHeaderName) -> Option<String> {
    crate::names::header(headers, name).map(str::to_owned)
}

/// Reads content headers and `x-amz-meta-*` from a request.
pub(crate) fn from_headers(headers: &HeaderMap) -> Result<ObjectMeta, S3Error> {
    let mut user = Vec::new();
    let mut total = 0;
    for (name, value) in headers {
        if let Some(short) = name.as_str().strip_prefix("x-amz-meta-") {
            total += short.len() + value.len();
            user.push((short.to_owned(), s3cors_proto::rfc2047::decode(value.as_bytes())));
        }
    }
    if total > MAX_USER_METADATA {
        return Err(S3Error::new(S3ErrorCode::MetadataTooLarge)
            .with_element("MaxSizeAllowed", MAX_USER_METADATA.to_string()));
    }
    Ok(ObjectMeta {
        content_type: header(headers, http::header::CONTENT_TYPE),
        content_encoding: header(headers, http::header::CONTENT_ENCODING).and_then(|v| content_encoding(&v)),
        content_disposition: header(headers, http::header::CONTENT_DISPOSITION),
        content_language: header(headers, http::header::CONTENT_LANGUAGE),
        cache_control: header(headers, http::header::CACHE_CONTROL),
        expires: header(headers, http::header::EXPIRES),
        user,
    })
}

/// The stored `Content-Encoding`: as sent, less `aws-chunked`, which describes the request's framing,
/// not the object.
fn content_encoding(sent: &str) -> Option<String> {
    let is_chunked = |c: &str| c.trim().eq_ignore_ascii_case("aws-chunked");
    if !sent.split(',').any(is_chunked) {
        return Some(sent.to_owned());
    }
    let rest: Vec<&str> = sent
        .split(',')
        .filter(|c| !is_chunked(c))
        .map(str::trim)
        .collect();
    (!rest.is_empty()).then(|| rest.join(", "))
}

/// A `response-*` override when there are any, else the stored value.
fn override_or<'a, S: AsRef<str>>(
    query: &'a Query,
    overrides: bool,
    stored: &'a Option<S>,
    param: &str,
) -> Option<&'a str> {
    overrides
        .then(|| query.get(param))
        .flatten()
        .or(stored.as_ref().map(AsRef::as_ref))
}

/// Puts an object's stored headers on a GET/HEAD response, with `response-*` overrides.
pub(crate) fn apply<S: AsRef<str>>(resp: &mut Response, meta: &ObjectMetaOf<S>, query: &Query) {
    use http::header::{
        CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_ENCODING, CONTENT_LANGUAGE, CONTENT_TYPE, EXPIRES,
    };
    // Without `response-*` parameters (most GETs) no parameter is looked for.
    let overrides = query.pairs().any(|(k, _)| k.starts_with("response-"));
    let pick = |stored, param| override_or(query, overrides, stored, param);
    set_header(
        resp,
        CONTENT_TYPE,
        pick(&meta.content_type, "response-content-type").unwrap_or("binary/octet-stream"),
    );
    let pairs = [
        (
            CONTENT_ENCODING,
            pick(&meta.content_encoding, "response-content-encoding"),
        ),
        (
            CONTENT_DISPOSITION,
            pick(&meta.content_disposition, "response-content-disposition"),
        ),
        (
            CONTENT_LANGUAGE,
            pick(&meta.content_language, "response-content-language"),
        ),
        (CACHE_CONTROL, pick(&meta.cache_control, "response-cache-control")),
        (EXPIRES, pick(&meta.expires, "response-expires")),
    ];
    for (name, value) in pairs {
        if let Some(v) = value {
            set_header(resp, name, v);
        }
    }
    for (k, v) in &meta.user {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(format!("x-amz-meta-{}", k.as_ref())),
            http::HeaderValue::from_str(&s3cors_proto::rfc2047::encode(v.as_ref())),
        ) {
            resp.headers_mut().append(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::content_encoding;

    #[test]
    fn aws_chunked_is_removed_and_the_rest_kept() {
        assert_eq!(content_encoding("gzip").as_deref(), Some("gzip"));
        assert_eq!(
            content_encoding("deflate, gzip").as_deref(),
            Some("deflate, gzip")
        );
        assert_eq!(content_encoding("gzip, aws-chunked").as_deref(), Some("gzip"));
        assert_eq!(content_encoding("aws-chunked, gzip").as_deref(), Some("gzip"));
        assert_eq!(content_encoding("aws-chunked"), None);
        assert_eq!(content_encoding("aws-chunked, aws-chunked"), None);
    }
}
