//! Storage for s3cors.
//!
//! [`Store`] implements S3's object semantics (buckets, objects, multipart uploads, listing) over two
//! seams: [`kv::Kv`], an ordered key-value store for metadata (sled on disk, a map in memory), and
//! [`blob::Blobs`], where object bytes live (files under the data directory, or buffers). Every backend
//! passes the same conformance suite (`tests/conformance.rs`).

pub mod blob;
pub mod error;
pub mod kv;
pub mod list;
pub mod record;
mod store;
pub mod unique;

pub use blob::{BlobReader, BlobWriter};
pub use error::{Result, StoreError};
pub use list::{ListParams, Listed, Page};
pub use record::{
    BucketRecord, CompletedUpload, ObjectMeta, ObjectMetaOf, ObjectRecord, ObjectRecordOf, ObjectView,
    PartRecord, StoredChecksum, StoredChecksumOf, UploadRecord,
};
pub use store::{MIN_PART_SIZE, NewObject, Store, UploadPage, WriteCondition, WrittenBlob};

/// A hash map keyed by names looked up on every request (buckets, blob ids): foldhash, seeded per
/// process, instead of SipHash.
pub type NameMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
