//! The S3 wire protocol as s3cors speaks it: pure functions and types, no IO.
//!
//! - [`endpoint`]: which operation a request is ([`endpoint::classify`]).
//! - [`error`]: S3 error codes and the XML error document.
//! - [`xml`]: response writer and bounded request reader; [`docs`]: request documents;
//!   [`cors_xml`]: the `CORSConfiguration` document.
//! - [`checksum`]: `Content-MD5` and the `x-amz-checksum-*` family.
//! - [`http`]: ranges, conditional requests, dates.
//! - [`chunked`]: the `aws-chunked` body framing; [`sigv4`]: signature claims.
//! - [`names`]: bucket-name and key rules.
//!
//! The API reference this implements: <https://docs.aws.amazon.com/AmazonS3/latest/API/Welcome.html>.

pub mod access;
pub mod checksum;
pub mod chunked;
pub mod cors_xml;
pub mod docs;
pub mod endpoint;
pub mod error;
pub mod http;
pub mod names;
pub mod post_policy;
pub mod query;
pub mod rfc2047;
pub mod sigv4;
pub mod xml;

pub use endpoint::{Endpoint, Op, RequestTarget, Style, classify};
pub use error::{S3Error, S3ErrorCode};
pub use query::Query;

use base64::Engine as _;
use md5::{Digest, Md5};

/// The two lower-case hex digits of a byte.
fn hex_pair(b: u8) -> [u8; 2] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]]
}

/// Appends the lower-case hex of `bytes`.
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    // Written 32 bytes at a time through a buffer on the stack rather than character by character.
    let mut buf = [0u8; 64];
    for chunk in bytes.chunks(32) {
        for (pair, &b) in buf.chunks_exact_mut(2).zip(chunk) {
            pair.copy_from_slice(&hex_pair(b));
        }
        // Hex digits are ASCII.
        out.push_str(std::str::from_utf8(&buf[..2 * chunk.len()]).unwrap_or_default());
    }
}

/// The lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 * bytes.len());
    push_hex(&mut out, bytes);
    out
}

/// The quoted hex MD5 ETag of a whole body.
pub fn etag_of(md5: &[u8]) -> String {
    let mut out = String::with_capacity(2 * md5.len() + 2);
    out.push('"');
    push_hex(&mut out, md5);
    out.push('"');
    out
}

/// The multipart ETag: MD5 of the concatenated binary part MD5s, then `-N`.
pub fn multipart_etag<'a>(part_md5s: impl IntoIterator<Item = &'a [u8; 16]>) -> String {
    let mut h = Md5::new();
    let mut n = 0usize;
    for m in part_md5s {
        h.update(m);
        n += 1;
    }
    format!("\"{}-{n}\"", hex(&h.finalize()))
}

/// Decodes a `Content-MD5` header: base64 of 16 bytes, otherwise `InvalidDigest`.
pub fn parse_content_md5(value: &str) -> Result<[u8; 16], S3Error> {
    base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|v| <[u8; 16]>::try_from(v).ok())
        .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidDigest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_etag_is_md5_of_md5s() {
        let a: [u8; 16] = Md5::digest(b"part one").into();
        let b: [u8; 16] = Md5::digest(b"part two").into();
        let mut cat = Vec::new();
        cat.extend_from_slice(&a);
        cat.extend_from_slice(&b);
        let expected = format!("\"{}-2\"", hex::encode(Md5::digest(&cat)));
        assert_eq!(multipart_etag([&a, &b]), expected);
    }

    #[test]
    fn etag_is_quoted_lower_hex() {
        // MD5 of the empty body, as S3 gives it.
        assert_eq!(etag_of(&Md5::digest(b"")), "\"d41d8cd98f00b204e9800998ecf8427e\"");
        let mut out = String::from("x");
        push_hex(&mut out, &[0x00, 0x0f, 0xa0, 0xff]);
        assert_eq!(out, "x000fa0ff");
        // Lengths around the 32-byte chunks it writes in.
        let bytes: Vec<u8> = (0..=100u8).map(|b| b.wrapping_mul(37)).collect();
        for len in [0, 1, 31, 32, 33, 64, 65, 101] {
            assert_eq!(hex(&bytes[..len]), hex::encode(&bytes[..len]), "{len} bytes");
        }
    }

    #[test]
    fn content_md5() {
        assert_eq!(
            parse_content_md5("1B2M2Y8AsgTpgAmY7PhCfg==").expect("md5 of empty"),
            <[u8; 16]>::from(Md5::digest(b""))
        );
        assert_eq!(
            parse_content_md5("nope").unwrap_err().code(),
            S3ErrorCode::InvalidDigest
        );
        assert_eq!(
            parse_content_md5("AAAA").unwrap_err().code(),
            S3ErrorCode::InvalidDigest
        );
    }
}
