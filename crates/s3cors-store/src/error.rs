//! What can go wrong in the store.

use s3cors_proto::{S3Error, S3ErrorCode};

/// A store failure: either an expected S3 outcome or a fault of the machine.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The bucket does not exist.
    #[error("no such bucket: {0}")]
    NoSuchBucket(String),
    /// The bucket exists and belongs to the caller.
    #[error("bucket already owned by you: {0}")]
    BucketAlreadyOwnedByYou(String),
    /// The bucket exists and belongs to someone else.
    #[error("bucket already exists: {0}")]
    BucketAlreadyExists(String),
    /// The bucket still holds objects.
    #[error("bucket not empty: {0}")]
    BucketNotEmpty(String),
    /// The key does not exist.
    #[error("no such key: {0}")]
    NoSuchKey(String),
    /// The multipart upload does not exist (or no longer).
    #[error("no such upload: {0}")]
    NoSuchUpload(String),
    /// A CompleteMultipartUpload was refused; the S3 error says why.
    #[error("multipart completion refused: {0}")]
    Rejected(S3Error),
    /// A stored record could not be decoded.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The metadata database failed.
    #[error("metadata store: {0}")]
    Db(#[from] sled::Error),
    /// File IO failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

impl From<StoreError> for S3Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NoSuchBucket(b) => S3Error::no_such_bucket(&b),
            StoreError::BucketAlreadyOwnedByYou(b) => {
                S3Error::new(S3ErrorCode::BucketAlreadyOwnedByYou).with_element("BucketName", b)
            }
            StoreError::BucketAlreadyExists(b) => {
                S3Error::new(S3ErrorCode::BucketAlreadyExists).with_element("BucketName", b)
            }
            StoreError::BucketNotEmpty(b) => {
                S3Error::new(S3ErrorCode::BucketNotEmpty).with_element("BucketName", b)
            }
            StoreError::NoSuchKey(k) => S3Error::no_such_key(&k),
            StoreError::NoSuchUpload(id) => {
                S3Error::new(S3ErrorCode::NoSuchUpload).with_element("UploadId", id)
            }
            StoreError::Rejected(e) => e,
            StoreError::Corrupt(_) | StoreError::Db(_) | StoreError::Io(_) => {
                tracing::error!(error = %e, "store failure");
                S3Error::internal()
            }
        }
    }
}

/// Shorthand.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
