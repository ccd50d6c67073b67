//! Building responses: XML documents, S3 errors, request ids, streamed object bodies.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, IntoHeaderName, SERVER};
use http::{HeaderMap, HeaderValue, StatusCode};
use s3cors_proto::S3Error;

use crate::names::{X_AMZ_ID_2, X_AMZ_REQUEST_ID};

/// Room for the headers of a typical answer (ids, server, length, type, validators, and up to seven
/// of CORS), so that building one does not grow the map. `http` rounds capacities up to a power of two
/// with a quarter spare: 24 is the most that fits its 32-slot table, and a GET with CORS needs more
/// than the 12 of a 16-slot one.
const HEADERS: usize = 24;

/// A response with room for its headers.
pub fn new(body: Body) -> Response {
    let mut resp = Response::new(body);
    *resp.headers_mut() = HeaderMap::with_capacity(HEADERS);
    resp
}

/// The ids S3 puts on every response: `x-amz-request-id` and `x-amz-id-2`, kept inline (no allocation
/// until they are written into headers).
#[derive(Debug, Clone, Copy)]
pub struct RequestIds {
    /// 16 upper-case hex digits.
    request_id: [u8; 16],
    /// Base64 of 16 bytes.
    host_id: [u8; 24],
}

static NEXT: AtomicU64 = AtomicU64::new(0);

impl RequestIds {
    /// Fresh ids: unique within the process, unpredictable across processes.
    pub fn new() -> Self {
        static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        let seed = *SEED.get_or_init(rand::random::<u64>);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let mixed = seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut request_id = [0u8; 16];
        for (i, b) in request_id.iter_mut().enumerate() {
            *b = b"0123456789ABCDEF"[((mixed >> (60 - 4 * i)) & 0xF) as usize];
        }
        let mut raw = [0u8; 16];
        raw[..8].copy_from_slice(&seed.to_be_bytes());
        raw[8..].copy_from_slice(&n.to_be_bytes());
        let mut host_id = [0u8; 24];
        let _ = base64::Engine::encode_slice(&base64::engine::general_purpose::STANDARD, raw, &mut host_id);
        RequestIds { request_id, host_id }
    }

    /// The request id (16 upper-case hex digits).
    pub fn request_id(&self) -> &str {
        std::str::from_utf8(&self.request_id).unwrap_or_default()
    }

    /// The host id.
    pub fn host_id(&self) -> &str {
        std::str::from_utf8(&self.host_id).unwrap_or_default()
    }

    /// The values of `x-amz-request-id` and `x-amz-id-2` (always valid: hex and base64 digits).
    pub fn values(&self) -> (Option<HeaderValue>, Option<HeaderValue>) {
        (
            HeaderValue::from_bytes(&self.request_id).ok(),
            HeaderValue::from_bytes(&self.host_id).ok(),
        )
    }

    /// Adds both ids and `Server: AmazonS3` to a response.
    pub fn stamp(&self, resp: &mut Response) {
        let h = resp.headers_mut();
        let (request_id, host_id) = self.values();
        if let Some(v) = request_id {
            h.insert(X_AMZ_REQUEST_ID.clone(), v);
        }
        if let Some(v) = host_id {
            h.insert(X_AMZ_ID_2.clone(), v);
        }
        h.insert(SERVER, HeaderValue::from_static("AmazonS3"));
    }
}

impl Default for RequestIds {
    fn default() -> Self {
        Self::new()
    }
}

/// A 200 response with an XML document.
pub fn xml(body: String) -> Response {
    let mut resp = new(Body::from(body));
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    resp
}

/// An empty response with a status.
pub fn empty(status: StatusCode) -> Response {
    let mut resp = new(Body::empty());
    *resp.status_mut() = status;
    resp
}

/// The S3 error document for `err`; for a HEAD request, the status and headers only.
pub fn error(err: &S3Error, ids: &RequestIds, head: bool) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = if head || status == StatusCode::NOT_MODIFIED {
        empty(status)
    } else {
        let mut r = xml(err.to_xml(ids.request_id(), ids.host_id()));
        *r.status_mut() = status;
        r
    };
    for (name, value) in err.headers() {
        if let Ok(v) = HeaderValue::from_str(value) {
            resp.headers_mut().insert(*name, v);
        }
    }
    resp
}

/// Sets a header from a string, skipping values that are not valid header bytes.
pub fn set_header(resp: &mut Response, name: impl IntoHeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().insert(name, v);
    }
}

/// A body of known length, for HEAD: the length header without the bytes.
pub fn head_with_length(len: u64) -> Response {
    let mut resp = new(Body::empty());
    resp.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(len));
    resp
}

/// A streamed body of `len` bytes.
pub fn stream(body: Body, len: u64) -> Response {
    let mut resp = new(body);
    resp.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(len));
    resp
}

/// A body from bytes.
pub fn bytes(b: Bytes) -> Body {
    Body::from(b)
}
