//! `POST /_s3cors/cors/explain`: explains a request against a bucket's stored CORS configuration
//! (see [`s3cors_cors::explain`]) for `s3cors cors explain --endpoint`. Signed like any S3 request;
//! only the bucket's owner may ask.
//!
//! The body is JSON: `{"bucket": "b", "origin": "http://app.example", "method": "PUT",
//! "headers": "content-type,x-amz-date", "key": "k", "preflight": true}`; the answer is the
//! explanation as JSON with its one-line `summary`.

use std::time::SystemTime;

use axum::body::Body;
use axum::response::Response;
use http::request::Parts;
use http::{HeaderValue, StatusCode};
use s3cors_cors::{ExplainRequest, PreflightRequest};
use s3cors_proto::{Query, S3Error, S3ErrorCode};
use serde::Deserialize;

use crate::App;
use crate::auth::{SignedRequest, authenticate};
use crate::body::{Checksum, read_small};

/// The path of the endpoint.
pub const EXPLAIN_PATH: &str = "/_s3cors/cors/explain";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplainBody {
    bucket: String,
    origin: Option<String>,
    method: Option<String>,
    headers: Option<String>,
    key: Option<String>,
    #[serde(default = "yes")]
    preflight: bool,
}

fn yes() -> bool {
    true
}

pub(crate) async fn explain(
    app: &App,
    parts: &Parts,
    query: &Query,
    body: Body,
) -> Result<Response, S3Error> {
    if parts.method != http::Method::POST {
        return Err(S3Error::new(S3ErrorCode::MethodNotAllowed));
    }
    let signed = SignedRequest {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        query,
        vhost_bucket: None,
    };
    let auth = authenticate(&app.config, &signed, SystemTime::now())?;
    let caller = auth
        .caller
        .account_id
        .ok_or_else(|| S3Error::new(S3ErrorCode::AccessDenied))?;
    let bytes = read_small(
        &parts.headers,
        body,
        16 * 1024,
        Checksum::Optional,
        auth.chunks.as_deref(),
    )
    .await?;
    let asked: ExplainBody = serde_json::from_slice(&bytes).map_err(|e| {
        S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            format!("not an explain request: {e}"),
        )
    })?;
    let bucket = app.store.bucket(&asked.bucket)?;
    if bucket.owner != caller {
        return Err(S3Error::new(S3ErrorCode::AccessDenied));
    }
    let entry = app.cors.get(&asked.bucket);
    let req = ExplainRequest {
        request: PreflightRequest {
            origin: asked.origin.as_deref(),
            method: asked.method.as_deref(),
            headers: asked.headers.as_deref(),
            has_key: asked.key.as_deref().is_some_and(|k| !k.is_empty()),
        },
        preflight: asked.preflight,
    };
    let e = s3cors_cors::explain(entry.as_deref().map(|e| &e.config), true, &req);
    let doc = serde_json::to_string(&e).map_err(|_| S3Error::internal())?;
    let mut resp = Response::new(Body::from(doc));
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}
