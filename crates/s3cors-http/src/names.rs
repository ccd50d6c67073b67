//! Header names of the request path that the `http` crate does not define, built at compile time:
//! looking a header up or setting it by one of these skips parsing and validating the name. The
//! headers are S3's common ones
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/RESTCommonRequestHeaders.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTCommonResponseHeaders.html>).

use http::HeaderName;

/// `x-amz-request-id`.
pub static X_AMZ_REQUEST_ID: HeaderName = HeaderName::from_static("x-amz-request-id");
/// `x-amz-id-2`.
pub static X_AMZ_ID_2: HeaderName = HeaderName::from_static("x-amz-id-2");
/// `x-amz-date`.
pub static X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
/// `x-amz-content-sha256`.
pub static X_AMZ_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-amz-content-sha256");
/// `x-amz-copy-source`.
pub static X_AMZ_COPY_SOURCE: HeaderName = HeaderName::from_static("x-amz-copy-source");
/// `x-amz-storage-class`.
pub static X_AMZ_STORAGE_CLASS: HeaderName = HeaderName::from_static("x-amz-storage-class");
/// `x-amz-expected-bucket-owner`.
pub static X_AMZ_EXPECTED_BUCKET_OWNER: HeaderName = HeaderName::from_static("x-amz-expected-bucket-owner");
/// `x-amz-checksum-mode`.
pub static X_AMZ_CHECKSUM_MODE: HeaderName = HeaderName::from_static("x-amz-checksum-mode");
