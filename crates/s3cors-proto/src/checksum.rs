//! Integrity headers: `Content-MD5` and the `x-amz-checksum-*` family.
//!
//! Implements the checksum rules of
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>: one
//! `x-amz-checksum-ALGO` header (or a trailer announced by `x-amz-trailer`), base64 of the digest;
//! `x-amz-sdk-checksum-algorithm` without either is an error. Pure: the caller supplies header lookup.

use base64::Engine as _;
use sha1::Digest as _;

use crate::error::{S3Error, S3ErrorCode};

/// A flexible-checksum algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlgorithm {
    /// CRC-32 (ISO-HDLC).
    Crc32,
    /// CRC-32C (Castagnoli).
    Crc32c,
    /// CRC-64/NVME.
    Crc64Nvme,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

impl ChecksumAlgorithm {
    /// Every algorithm.
    pub const ALL: [ChecksumAlgorithm; 5] = [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32c,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ];

    /// The upper-case name (`CRC32`), as in `x-amz-sdk-checksum-algorithm` and error messages.
    pub fn name(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "CRC32",
            ChecksumAlgorithm::Crc32c => "CRC32C",
            ChecksumAlgorithm::Crc64Nvme => "CRC64NVME",
            ChecksumAlgorithm::Sha1 => "SHA1",
            ChecksumAlgorithm::Sha256 => "SHA256",
        }
    }

    /// The header carrying it: `x-amz-checksum-crc32`.
    pub fn header(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Crc32 => "x-amz-checksum-crc32",
            ChecksumAlgorithm::Crc32c => "x-amz-checksum-crc32c",
            ChecksumAlgorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            ChecksumAlgorithm::Sha1 => "x-amz-checksum-sha1",
            ChecksumAlgorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// The algorithm of an upper-case name (`CRC32`), as in `x-amz-checksum-algorithm`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// The algorithm a header name names.
    pub fn from_header(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.header().eq_ignore_ascii_case(name))
    }

    fn digest_len(self) -> usize {
        match self {
            ChecksumAlgorithm::Crc32 | ChecksumAlgorithm::Crc32c => 4,
            ChecksumAlgorithm::Crc64Nvme => 8,
            ChecksumAlgorithm::Sha1 => 20,
            ChecksumAlgorithm::Sha256 => 32,
        }
    }

    /// A running digest.
    pub fn hasher(self) -> Hasher {
        Hasher(match self {
            ChecksumAlgorithm::Crc32 => {
                State::Crc(crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32IsoHdlc), 4)
            }
            ChecksumAlgorithm::Crc32c => {
                State::Crc(crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi), 4)
            }
            ChecksumAlgorithm::Crc64Nvme => {
                State::Crc(crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme), 8)
            }
            ChecksumAlgorithm::Sha1 => State::Sha1(sha1::Sha1::new()),
            ChecksumAlgorithm::Sha256 => State::Sha256(sha2::Sha256::new()),
        })
    }

    /// Decodes a header value: base64 of exactly the digest length, else `InvalidRequest` (E13).
    pub fn decode(self, value: &str) -> Result<Vec<u8>, S3Error> {
        base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()
            .filter(|d| d.len() == self.digest_len())
            .ok_or_else(|| {
                S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    format!("Value for {} header is invalid.", self.header()),
                )
            })
    }

    /// `BadDigest` for this algorithm (E12).
    pub fn mismatch(self) -> S3Error {
        S3Error::with_message(
            S3ErrorCode::BadDigest,
            format!(
                "The {} you specified did not match the calculated checksum.",
                self.name()
            ),
        )
    }
}

#[derive(Clone)]
enum State {
    Crc(crc_fast::Digest, usize),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

/// A running checksum.
#[derive(Clone)]
pub struct Hasher(State);

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hasher")
    }
}

impl Hasher {
    /// Adds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            State::Crc(d, _) => d.update(data),
            State::Sha1(d) => d.update(data),
            State::Sha256(d) => d.update(data),
        }
    }

    /// The digest bytes (big-endian for CRCs).
    pub fn finish(self) -> Vec<u8> {
        match self.0 {
            State::Crc(d, width) => {
                let v = d.finalize();
                v.to_be_bytes()[8 - width..].to_vec()
            }
            State::Sha1(d) => d.finalize().to_vec(),
            State::Sha256(d) => d.finalize().to_vec(),
        }
    }
}

/// What a request declares about the integrity of its body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Integrity {
    /// `Content-MD5`, decoded.
    pub content_md5: Option<[u8; 16]>,
    /// One `x-amz-checksum-*` header: algorithm and expected digest.
    pub checksum: Option<(ChecksumAlgorithm, Vec<u8>)>,
    /// A checksum announced by `x-amz-trailer`, to be found in the body's trailer.
    pub trailer: Option<ChecksumAlgorithm>,
}

impl Integrity {
    /// Whether any checksum is declared (what PutBucketCors and other configuration PUTs require).
    pub fn is_declared(&self) -> bool {
        self.content_md5.is_some() || self.checksum.is_some() || self.trailer.is_some()
    }

    /// Reads the integrity headers. `header` looks a header up by lower-case name; `names` lists the
    /// lower-case names present.
    pub fn from_headers<'a>(
        header: impl Fn(&str) -> Option<&'a str>,
        names: impl Iterator<Item = &'a str>,
    ) -> Result<Integrity, S3Error> {
        let content_md5 = header("content-md5").map(crate::parse_content_md5).transpose()?;
        let mut checksum = None;
        for name in names {
            let Some(algo) = ChecksumAlgorithm::from_header(name) else {
                continue;
            };
            if checksum.is_some() {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidRequest,
                    "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
                ));
            }
            checksum = Some((algo, algo.decode(header(name).unwrap_or(""))?));
        }
        let trailer = header("x-amz-trailer").and_then(|t| ChecksumAlgorithm::from_header(t.trim()));
        if checksum.is_none() && trailer.is_none() && header("x-amz-sdk-checksum-algorithm").is_some() {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer \
                 headers were found.",
            ));
        }
        Ok(Integrity {
            content_md5,
            checksum,
            trailer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(algo: ChecksumAlgorithm, data: &[u8]) -> String {
        let mut h = algo.hasher();
        h.update(data);
        base64::engine::general_purpose::STANDARD.encode(h.finish())
    }

    /// Known values: "hello world" in every algorithm (as the AWS SDKs compute them).
    #[test]
    fn known_digests() {
        assert_eq!(digest(ChecksumAlgorithm::Crc32, b"hello world"), "DUoRhQ==");
        assert_eq!(digest(ChecksumAlgorithm::Crc32c, b"hello world"), "yZRlqg==");
        assert_eq!(
            digest(ChecksumAlgorithm::Sha1, b"hello world"),
            "Kq5sNclPz7QV2+lfQIuc6R7oRu0="
        );
        assert_eq!(
            digest(ChecksumAlgorithm::Sha256, b"hello world"),
            "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="
        );
        assert_eq!(digest(ChecksumAlgorithm::Crc64Nvme, b"hello world").len(), 12);
        assert_eq!(digest(ChecksumAlgorithm::Crc32, b""), "AAAAAA==");
    }

    fn integrity(pairs: &[(&str, &str)]) -> Result<Integrity, S3Error> {
        Integrity::from_headers(
            |n| pairs.iter().find(|(k, _)| *k == n).map(|(_, v)| *v),
            pairs.iter().map(|(k, _)| *k),
        )
    }

    #[test]
    fn header_rules() {
        assert!(!integrity(&[]).expect("none").is_declared());
        let i = integrity(&[
            ("x-amz-checksum-crc32", "DUoRhQ=="),
            ("x-amz-sdk-checksum-algorithm", "CRC32"),
        ])
        .expect("ok");
        assert_eq!(i.checksum.as_ref().map(|c| c.0), Some(ChecksumAlgorithm::Crc32));
        let e = integrity(&[
            ("x-amz-checksum-crc32", "DUoRhQ=="),
            ("x-amz-checksum-sha1", "Kq5sNclPz7QV2+lfQIuc6R7oRu0="),
        ]);
        assert_eq!(
            e.unwrap_err().message(),
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
        );
        let e = integrity(&[("x-amz-checksum-crc32", "nope")]);
        assert_eq!(
            e.unwrap_err().message(),
            "Value for x-amz-checksum-crc32 header is invalid."
        );
        let e = integrity(&[("x-amz-sdk-checksum-algorithm", "CRC32")]);
        assert!(
            e.unwrap_err()
                .message()
                .starts_with("x-amz-sdk-checksum-algorithm specified, but no corresponding")
        );
        let i = integrity(&[
            ("x-amz-sdk-checksum-algorithm", "CRC32"),
            ("x-amz-trailer", "x-amz-checksum-crc32"),
        ]);
        assert_eq!(i.expect("trailer").trailer, Some(ChecksumAlgorithm::Crc32));
        assert_eq!(
            integrity(&[("content-md5", "")]).unwrap_err().code(),
            S3ErrorCode::InvalidDigest
        );
        assert_eq!(
            ChecksumAlgorithm::Crc32.mismatch().message(),
            "The CRC32 you specified did not match the calculated checksum."
        );
        // x-amz-checksum-mode and -type are not checksums.
        assert!(
            !integrity(&[
                ("x-amz-checksum-mode", "ENABLED"),
                ("x-amz-checksum-type", "FULL_OBJECT")
            ])
            .expect("ok")
            .is_declared()
        );
    }
}
