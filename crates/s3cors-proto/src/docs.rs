//! Request documents of the core operations, parsed from XML.
//!
//! - CreateBucket: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html>
//! - DeleteObjects: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>
//! - CompleteMultipartUpload: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html>

use crate::error::{S3Error, S3ErrorCode};
use crate::xml::{self, Element};

fn malformed() -> S3Error {
    S3Error::new(S3ErrorCode::MalformedXML)
}

fn root(body: &[u8], name: &str) -> Result<Element, S3Error> {
    let el = xml::parse(body)?;
    if el.name != name {
        return Err(malformed());
    }
    Ok(el)
}

/// `<CreateBucketConfiguration><LocationConstraint>…</LocationConstraint></CreateBucketConfiguration>`:
/// the location constraint, `None` when the body is empty or the element absent or empty.
pub fn parse_create_bucket(body: &[u8]) -> Result<Option<String>, S3Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let el = root(body, "CreateBucketConfiguration")?;
    Ok(el
        .child_text("LocationConstraint")
        .filter(|s| !s.is_empty())
        .map(str::to_owned))
}

/// One entry of a DeleteObjects request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteEntry {
    /// The key.
    pub key: String,
    /// The version id, if given.
    pub version_id: Option<String>,
}

/// A parsed `<Delete>` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRequest {
    /// The objects, in request order.
    pub objects: Vec<DeleteEntry>,
    /// Quiet mode: report only errors.
    pub quiet: bool,
}

/// The most keys one DeleteObjects request may name.
pub const MAX_DELETE_KEYS: usize = 1000;

/// Parses a DeleteObjects body. More than 1000 keys, none at all, or an object without a key is
/// `MalformedXML`, as S3 answers.
pub fn parse_delete(body: &[u8]) -> Result<DeleteRequest, S3Error> {
    let el = root(body, "Delete")?;
    let quiet = match el.child_text("Quiet") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(_) => return Err(malformed()),
    };
    let mut objects = Vec::new();
    for o in el.children_named("Object") {
        // Keys are taken verbatim: leading and trailing spaces are part of a key.
        let key = o.child("Key").map(|k| k.text.clone()).ok_or_else(malformed)?;
        let version_id = o.child_text("VersionId").map(str::to_owned);
        objects.push(DeleteEntry { key, version_id });
    }
    if objects.is_empty() || objects.len() > MAX_DELETE_KEYS {
        return Err(malformed());
    }
    Ok(DeleteRequest { objects, quiet })
}

/// One part named in a CompleteMultipartUpload request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    /// Part number, 1–10000.
    pub part_number: u32,
    /// The part's ETag as sent (quotes optional).
    pub etag: String,
}

/// Parses a CompleteMultipartUpload body into its parts, in request order. An empty list is
/// `MalformedXML`; order and existence are checked against the upload by the caller.
pub fn parse_complete_multipart(body: &[u8]) -> Result<Vec<CompletedPart>, S3Error> {
    let el = root(body, "CompleteMultipartUpload")?;
    let mut parts = Vec::new();
    for p in el.children_named("Part") {
        let part_number = p
            .child_text("PartNumber")
            .and_then(|n| n.parse::<u32>().ok())
            .ok_or_else(malformed)?;
        let etag = p.child_text("ETag").ok_or_else(malformed)?.to_owned();
        parts.push(CompletedPart { part_number, etag });
    }
    if parts.is_empty() {
        return Err(malformed());
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_bucket_configuration() {
        assert_eq!(parse_create_bucket(b"").expect("empty"), None);
        let doc = br#"<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
            <LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>"#;
        assert_eq!(
            parse_create_bucket(doc).expect("valid").as_deref(),
            Some("eu-west-1")
        );
        assert!(parse_create_bucket(b"<Other/>").is_err());
    }

    /// The sample request of the DeleteObjects API reference.
    #[test]
    fn delete_objects_doc_example() {
        let doc = br#"<Delete>
            <Object><Key>sample1.txt</Key></Object>
            <Object><Key>sample2.txt</Key><VersionId>OYcLXagmS.WaD..oyH4KRguB95_YhLs7</VersionId></Object>
            <Quiet>true</Quiet></Delete>"#;
        let d = parse_delete(doc).expect("valid");
        assert!(d.quiet);
        assert_eq!(d.objects.len(), 2);
        assert_eq!(d.objects[1].key, "sample2.txt");
        assert_eq!(
            d.objects[1].version_id.as_deref(),
            Some("OYcLXagmS.WaD..oyH4KRguB95_YhLs7")
        );
    }

    #[test]
    fn delete_objects_limits() {
        let many = format!(
            "<Delete>{}</Delete>",
            "<Object><Key>k</Key></Object>".repeat(1001)
        );
        assert_eq!(
            parse_delete(many.as_bytes()).unwrap_err().code(),
            S3ErrorCode::MalformedXML
        );
        let max = format!(
            "<Delete>{}</Delete>",
            "<Object><Key>k</Key></Object>".repeat(1000)
        );
        assert_eq!(
            parse_delete(max.as_bytes())
                .expect("1000 is allowed")
                .objects
                .len(),
            1000
        );
        assert!(parse_delete(b"<Delete></Delete>").is_err());
        assert!(parse_delete(b"<Delete><Object></Object></Delete>").is_err());
        assert_eq!(
            parse_delete(b"<Delete><Object><Key> a </Key></Object></Delete>")
                .expect("ok")
                .objects[0]
                .key,
            " a "
        );
    }

    /// The sample request of the CompleteMultipartUpload API reference.
    #[test]
    fn complete_multipart_doc_example() {
        let doc = br#"<CompleteMultipartUpload>
            <Part><PartNumber>1</PartNumber><ETag>"a54357aff0632cce46d942af68356b38"</ETag></Part>
            <Part><PartNumber>2</PartNumber><ETag>"0c78aef83f66abc1fa1e8477f296d394"</ETag></Part>
            </CompleteMultipartUpload>"#;
        let parts = parse_complete_multipart(doc).expect("valid");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].part_number, 2);
        assert_eq!(parts[0].etag, "\"a54357aff0632cce46d942af68356b38\"");
        assert!(parse_complete_multipart(b"<CompleteMultipartUpload/>").is_err());
    }
}
