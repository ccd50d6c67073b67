//! Building responses: XML documents, S3 errors, request ids, streamed object bodies.

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, IntoHeaderName, SERVER};
use http::{HeaderMap, HeaderValue, StatusCode};
use s3cors_proto::S3Error;
use s3cors_store::unique::Unique;

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

impl RequestIds {
    /// Fresh ids: unique within the process, unpredictable across processes.
    pub fn new() -> Self {
        Self::of(Unique::next())
    }

    /// The ids of one of the process's unique numbers: the request id is its mix of seed and counter,
    /// the host id their 16 bytes in base64, written from tables (the `base64` engine's setup cost
    /// more than the encoding, on every request).
    fn of(u: Unique) -> Self {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let Unique { seed, n } = u;
        let mixed = u.mixed();
        let mut request_id = [0u8; 16];
        for (i, b) in request_id.iter_mut().enumerate() {
            *b = HEX[((mixed >> (60 - 4 * i)) & 0xF) as usize];
        }
        let mut raw = [0u8; 18];
        raw[..8].copy_from_slice(&seed.to_be_bytes());
        raw[8..16].copy_from_slice(&n.to_be_bytes());
        // Six groups of three bytes, the last padded with two zero bytes: its final two characters
        // become the padding `==`.
        let mut host_id = [0u8; 24];
        for (chars, bytes) in host_id.chunks_exact_mut(4).zip(raw.chunks_exact(3)) {
            let v = u32::from(bytes[0]) << 16 | u32::from(bytes[1]) << 8 | u32::from(bytes[2]);
            for (k, c) in chars.iter_mut().enumerate() {
                *c = BASE64[(v >> (18 - 6 * k) & 0x3F) as usize];
            }
        }
        host_id[22..].copy_from_slice(b"==");
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

#[cfg(test)]
mod tests {
    use super::RequestIds;
    use s3cors_store::unique::Unique;

    #[test]
    fn host_id_is_the_base64_of_seed_and_sequence() {
        use base64::Engine as _;
        let samples = [0, 1, 0xFF, 0x0123_4567_89AB_CDEF, u64::MAX - 1, u64::MAX];
        for seed in samples {
            for n in samples {
                let ids = RequestIds::of(Unique { seed, n });
                let raw = [seed.to_be_bytes(), n.to_be_bytes()].concat();
                let expected = base64::engine::general_purpose::STANDARD.encode(raw);
                assert_eq!(ids.host_id(), expected, "seed {seed:#x}, n {n}");
                assert_eq!(ids.request_id().len(), 16);
                assert!(
                    ids.request_id()
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase())
                );
            }
        }
    }

    #[test]
    fn request_ids_differ_between_requests() {
        let a = RequestIds::new();
        let b = RequestIds::new();
        assert_ne!(a.request_id(), b.request_id());
        assert_ne!(a.host_id(), b.host_id());
    }
}
