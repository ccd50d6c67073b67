//! Bucket-name and key rules.
//!
//! Implements <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html> for
//! general-purpose buckets and the 1024-byte key limit of
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html>.

use crate::error::{S3Error, S3ErrorCode};

/// The longest key S3 accepts, in bytes of UTF-8.
pub const MAX_KEY_LEN: usize = 1024;

/// Checks a bucket name against S3's rules for general-purpose buckets.
pub fn validate_bucket_name(name: &str) -> Result<(), S3Error> {
    let invalid = || S3Error::new(S3ErrorCode::InvalidBucketName).with_element("BucketName", name);
    let bytes = name.as_bytes();
    if !(3..=63).contains(&bytes.len()) {
        return Err(invalid());
    }
    if !bytes
        .iter()
        .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return Err(invalid());
    }
    let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !edge_ok(bytes[0]) || !edge_ok(bytes[bytes.len() - 1]) {
        return Err(invalid());
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return Err(invalid());
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(invalid());
    }
    const PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
    const SUFFIXES: [&str; 4] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3"];
    if PREFIXES.iter().any(|p| name.starts_with(p)) || SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return Err(invalid());
    }
    Ok(())
}

/// Checks a key's length; any other UTF-8 is an ordinary key.
pub fn validate_key(key: &str) -> Result<(), S3Error> {
    if key.len() > MAX_KEY_LEN {
        return Err(S3Error::new(S3ErrorCode::KeyTooLongError)
            .with_element("MaxSizeAllowed", MAX_KEY_LEN.to_string())
            .with_element("Size", key.len().to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3_rules() {
        for ok in [
            "abc",
            "my-bucket",
            "my.bucket.name",
            "a1b2",
            "123",
            &"a".repeat(63),
        ] {
            assert!(validate_bucket_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "My-Bucket",
            "my_bucket",
            "-abc",
            "abc-",
            ".abc",
            "a..b",
            "a.-b",
            "a-.b",
            "192.168.5.4",
            "xn--abc",
            "sthree-abc",
            "abc-s3alias",
            "abc--ol-s3",
            "abc.mrap",
            "abc--x-s3",
            "a b",
        ] {
            let err = validate_bucket_name(bad).expect_err(bad);
            assert_eq!(err.code(), S3ErrorCode::InvalidBucketName);
        }
    }

    #[test]
    fn keys_up_to_1024_bytes() {
        assert!(validate_key(&"k".repeat(1024)).is_ok());
        assert_eq!(
            validate_key(&"k".repeat(1025)).unwrap_err().code(),
            S3ErrorCode::KeyTooLongError
        );
        assert!(validate_key("../../etc/passwd").is_ok());
    }
}
