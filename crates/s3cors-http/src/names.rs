//! Header names of the request path that the `http` crate does not define, built at compile time:
//! looking a header up or setting it by one of these skips parsing and validating the name. The
//! headers are S3's common ones
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/RESTCommonRequestHeaders.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTCommonResponseHeaders.html>).

use http::header::GetAll;
use http::{HeaderMap, HeaderName, HeaderValue};

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
/// `content-md5`.
pub static CONTENT_MD5: HeaderName = HeaderName::from_static("content-md5");
/// `x-amz-acl`.
pub static X_AMZ_ACL: HeaderName = HeaderName::from_static("x-amz-acl");
/// `x-amz-decoded-content-length`.
pub static X_AMZ_DECODED_CONTENT_LENGTH: HeaderName = HeaderName::from_static("x-amz-decoded-content-length");
/// `x-amz-trailer`.
pub static X_AMZ_TRAILER: HeaderName = HeaderName::from_static("x-amz-trailer");
/// `x-amz-sdk-checksum-algorithm`.
pub static X_AMZ_SDK_CHECKSUM_ALGORITHM: HeaderName = HeaderName::from_static("x-amz-sdk-checksum-algorithm");
/// `x-amz-checksum-type`.
pub static X_AMZ_CHECKSUM_TYPE: HeaderName = HeaderName::from_static("x-amz-checksum-type");

/// A header's value as a string; absent, or not visible ASCII, is `None`.
pub(crate) fn header(headers: &HeaderMap, name: impl http::header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The request's host: the `Host` header, or the authority of an absolute request target.
pub(crate) fn host<'a>(uri: &'a http::Uri, headers: &'a HeaderMap) -> Option<&'a str> {
    header(headers, http::header::HOST).or_else(|| uri.authority().map(|a| a.as_str()))
}

/// The prebuilt name for a lower-case header name that arrives as a string (a signed-headers list,
/// a name the protocol crate asks for), when there is one: looking it up then skips parsing it.
fn prebuilt(name: &str) -> Option<&'static HeaderName> {
    Some(match name {
        "host" => &http::header::HOST,
        "content-md5" => &CONTENT_MD5,
        "x-amz-date" => &X_AMZ_DATE,
        "x-amz-content-sha256" => &X_AMZ_CONTENT_SHA256,
        "x-amz-trailer" => &X_AMZ_TRAILER,
        "x-amz-sdk-checksum-algorithm" => &X_AMZ_SDK_CHECKSUM_ALGORITHM,
        _ => return None,
    })
}

/// Every value of the header `name` (lower case), by its prebuilt name when it has one.
pub(crate) fn get_all<'a>(headers: &'a HeaderMap, name: &str) -> GetAll<'a, HeaderValue> {
    match prebuilt(name) {
        Some(n) => headers.get_all(n),
        None => headers.get_all(name),
    }
}

/// The header `name` (lower case) as a string, by its prebuilt name when it has one.
pub(crate) fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    match prebuilt(name) {
        Some(n) => header(headers, n),
        None => header(headers, name),
    }
}

/// The `x-amz-checksum-*` header of an algorithm.
pub fn checksum(algorithm: s3cors_proto::checksum::ChecksumAlgorithm) -> &'static HeaderName {
    use s3cors_proto::checksum::ChecksumAlgorithm as A;
    static CRC32: HeaderName = HeaderName::from_static("x-amz-checksum-crc32");
    static CRC32C: HeaderName = HeaderName::from_static("x-amz-checksum-crc32c");
    static CRC64NVME: HeaderName = HeaderName::from_static("x-amz-checksum-crc64nvme");
    static SHA1: HeaderName = HeaderName::from_static("x-amz-checksum-sha1");
    static SHA256: HeaderName = HeaderName::from_static("x-amz-checksum-sha256");
    match algorithm {
        A::Crc32 => &CRC32,
        A::Crc32c => &CRC32C,
        A::Crc64Nvme => &CRC64NVME,
        A::Sha1 => &SHA1,
        A::Sha256 => &SHA256,
    }
}

#[cfg(test)]
mod tests {
    use s3cors_proto::checksum::ChecksumAlgorithm;

    #[test]
    fn prebuilt_names_are_the_names_asked_for() {
        for name in [
            "host",
            "content-md5",
            "x-amz-date",
            "x-amz-content-sha256",
            "x-amz-trailer",
            "x-amz-sdk-checksum-algorithm",
        ] {
            assert_eq!(super::prebuilt(name).map(|n| n.as_str()), Some(name));
        }
        assert!(super::prebuilt("x-amz-meta-colour").is_none());
    }

    #[test]
    fn checksum_names_match_the_protocol_crate() {
        for a in ChecksumAlgorithm::ALL {
            assert_eq!(super::checksum(a).as_str(), a.header());
        }
    }
}
