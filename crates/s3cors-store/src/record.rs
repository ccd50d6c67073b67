//! Persisted records. Every value starts with a format-version byte; the body is postcard.
//!
//! Version 1 is the first format. A later format adds a module beside `v1` and a migration in
//! [`decode`], so that a data directory written by an older s3cors keeps working.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};

/// The current record format.
pub const FORMAT_VERSION: u8 = 1;

/// Encodes a record with its version byte.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Sized for a typical object record, so that it is written without growing, then trimmed (the
    // memory store keeps it as it is).
    let mut out = Vec::with_capacity(256);
    out.push(FORMAT_VERSION);
    // Serialising plain structs to a Vec cannot fail.
    let mut out = postcard::to_extend(value, out).unwrap_or_default();
    out.shrink_to_fit();
    out
}

/// Decodes a record, checking its version byte. A view ([`ObjectView`]) borrows its text from `bytes`.
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T> {
    match bytes.split_first() {
        Some((&FORMAT_VERSION, body)) => {
            postcard::from_bytes(body).map_err(|e| StoreError::Corrupt(format!("undecodable record: {e}")))
        }
        Some((v, _)) => Err(StoreError::Corrupt(format!("unknown record format {v}"))),
        None => Err(StoreError::Corrupt("empty record".to_owned())),
    }
}

/// Milliseconds since the Unix epoch, as stored.
pub fn to_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The stored milliseconds as a time.
pub fn from_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// A bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketRecord {
    /// Bucket name.
    pub name: String,
    /// Creation time, ms since the epoch.
    pub created_ms: u64,
    /// Owning account id.
    pub owner: String,
    /// The region (LocationConstraint) it was created in.
    pub region: String,
    /// The canned ACL (`private`, `public-read`, …).
    pub acl: String,
}

/// Content headers and user metadata stored with an object, its text owned ([`ObjectMeta`]) or
/// borrowed from the stored record.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ObjectMetaOf<S> {
    /// `Content-Type`
    pub content_type: Option<S>,
    /// `Content-Encoding`
    pub content_encoding: Option<S>,
    /// `Content-Disposition`
    pub content_disposition: Option<S>,
    /// `Content-Language`
    pub content_language: Option<S>,
    /// `Cache-Control`
    pub cache_control: Option<S>,
    /// `Expires`, as sent.
    pub expires: Option<S>,
    /// `x-amz-meta-*` pairs, names lower case without the prefix, in request order; values decoded as
    /// S3 decodes them (see `s3cors_proto::rfc2047`).
    pub user: Vec<(S, S)>,
}

/// Content headers and user metadata, owned.
pub type ObjectMeta = ObjectMetaOf<String>;

/// An object, its text owned ([`ObjectRecord`]) or borrowed from the stored bytes ([`ObjectView`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRecordOf<S> {
    /// The blob holding the bytes.
    pub blob: S,
    /// Size in bytes.
    pub size: u64,
    /// The quoted ETag.
    pub etag: S,
    /// Last-Modified, ms since the epoch.
    pub modified_ms: u64,
    /// Headers and metadata.
    pub meta: ObjectMetaOf<S>,
    /// For a multipart object, the size of each part in order; empty otherwise.
    pub part_sizes: Vec<u64>,
    /// The canned ACL.
    pub acl: S,
    /// The object's checksum.
    pub checksum: Option<StoredChecksumOf<S>>,
}

/// An object record, owned.
pub type ObjectRecord = ObjectRecordOf<String>;

/// An object record read in place: its text borrowed from the stored bytes, so that reading it
/// allocates nothing for its strings (GetObject and HeadObject).
pub type ObjectView<'a> = ObjectRecordOf<&'a str>;

/// The leading fields of an [`ObjectRecord`], decoded without the rest (postcard stores fields in
/// order): what replacing or deleting an object needs to know about the one it replaces.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ObjectHead {
    /// The blob holding the bytes.
    pub blob: String,
    /// Size in bytes.
    pub size: u64,
    /// The quoted ETag.
    pub etag: String,
}

/// A flexible checksum as S3 keeps it: the algorithm (`CRC32`, …), the base64 value (with `-N` for a
/// composite checksum of N parts) and whether it covers the whole object or is composed of parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredChecksumOf<S> {
    /// `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1` or `SHA256`.
    pub algorithm: S,
    /// Base64 digest, `-N` suffixed when composite.
    pub value: S,
    /// `FULL_OBJECT` rather than `COMPOSITE`.
    pub full_object: bool,
}

/// A stored checksum, owned.
pub type StoredChecksum = StoredChecksumOf<String>;

impl<S> ObjectRecordOf<S> {
    /// Last-Modified.
    pub fn modified(&self) -> SystemTime {
        from_millis(self.modified_ms)
    }
}

/// A multipart upload in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadRecord {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Upload id.
    pub upload_id: String,
    /// Initiation time, ms since the epoch.
    pub initiated_ms: u64,
    /// Headers and metadata for the final object.
    pub meta: ObjectMeta,
    /// The canned ACL for the final object.
    pub acl: String,
    /// The checksum algorithm the upload was created with (`x-amz-checksum-algorithm`).
    pub checksum_algorithm: Option<String>,
    /// `x-amz-checksum-type: FULL_OBJECT` rather than `COMPOSITE`.
    pub checksum_full_object: bool,
    /// Initiating account.
    pub owner: String,
}

/// What a completed multipart upload produced, kept so that a repeated CompleteMultipartUpload answers
/// as the first one did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletedUpload {
    /// The key.
    pub key: String,
    /// The object's ETag.
    pub etag: String,
    /// The object's size.
    pub size: u64,
}

/// An uploaded part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRecord {
    /// Part number, 1–10000.
    pub number: u32,
    /// The blob holding the bytes.
    pub blob: String,
    /// Size in bytes.
    pub size: u64,
    /// Binary MD5 of the part.
    pub md5: [u8; 16],
    /// Upload time, ms since the epoch.
    pub modified_ms: u64,
    /// The part's digest in the upload's checksum algorithm, base64.
    pub checksum: Option<String>,
}

impl PartRecord {
    /// The part's quoted ETag.
    pub fn etag(&self) -> String {
        s3cors_proto::etag_of(&self.md5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_roundtrip_and_carry_their_version() {
        let rec = BucketRecord {
            name: "b".into(),
            created_ms: 5,
            owner: "o".into(),
            region: "r".into(),
            acl: "private".into(),
        };
        let bytes = encode(&rec);
        assert_eq!(bytes[0], FORMAT_VERSION);
        assert_eq!(decode::<BucketRecord>(&bytes).expect("roundtrip"), rec);
        let mut future = bytes;
        future[0] = 99;
        assert!(matches!(
            decode::<BucketRecord>(&future),
            Err(StoreError::Corrupt(_))
        ));
        assert!(decode::<BucketRecord>(&[]).is_err());
    }

    #[test]
    fn an_object_head_and_view_read_the_stored_record() {
        let rec = ObjectRecord {
            blob: "blob-1".into(),
            size: 1 << 40,
            etag: "\"abc\"".into(),
            modified_ms: 7,
            meta: ObjectMeta {
                content_type: Some("text/plain".into()),
                user: vec![("k".into(), "v".into())],
                ..ObjectMeta::default()
            },
            part_sizes: vec![5, 6],
            acl: "private".into(),
            checksum: Some(StoredChecksum {
                algorithm: "CRC32".into(),
                value: "AAAAAA==".into(),
                full_object: true,
            }),
        };
        let bytes = encode(&rec);
        // Read in place, every field is the owned record's, borrowed from the stored bytes.
        let view: ObjectView<'_> = decode(&bytes).expect("view");
        assert_eq!(view.blob, rec.blob);
        assert_eq!(view.etag, rec.etag);
        assert_eq!((view.size, view.modified_ms), (rec.size, rec.modified_ms));
        assert_eq!(view.meta.content_type, rec.meta.content_type.as_deref());
        assert_eq!(view.meta.user, [("k", "v")]);
        assert_eq!(view.part_sizes, rec.part_sizes);
        assert_eq!(view.acl, rec.acl);
        let checksum = view
            .checksum
            .as_ref()
            .map(|c| (c.algorithm, c.value, c.full_object));
        assert_eq!(checksum, Some(("CRC32", "AAAAAA==", true)));
        assert!(bytes.as_ptr_range().contains(&view.etag.as_ptr()));
        let head: ObjectHead = decode(&bytes).expect("head");
        assert_eq!(
            head,
            ObjectHead {
                blob: rec.blob,
                size: rec.size,
                etag: rec.etag
            }
        );
    }
}
