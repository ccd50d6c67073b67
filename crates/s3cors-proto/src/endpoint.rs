//! Request classification: which S3 operation a request is, and on which bucket and key.
//!
//! Implements the addressing rules of
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html> (path-style and
//! virtual-hosted-style) and the operation selection of the S3 REST API
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html>):
//! method, then the presence of a key, then the sub-resource keyword in the query string. Pure: no IO.

use crate::error::{S3Error, S3ErrorCode};
use crate::query::Query;

/// An S3 operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Op {
    ListBuckets,
    CreateBucket,
    HeadBucket,
    DeleteBucket,
    GetBucketLocation,
    GetBucketVersioning,
    ListObjects,
    ListObjectsV2,
    ListMultipartUploads,
    DeleteObjects,
    PutBucketCors,
    GetBucketCors,
    DeleteBucketCors,
    GetBucketAcl,
    PutBucketAcl,
    GetBucketPolicy,
    PutBucketPolicy,
    DeleteBucketPolicy,
    GetObjectAcl,
    PutObjectAcl,
    GetObjectAttributes,
    PostObject,
    PutObject,
    CopyObject,
    GetObject,
    HeadObject,
    DeleteObject,
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
    /// A CORS preflight (`OPTIONS`) on any resource.
    Preflight,
    /// A known S3 operation that s3cors does not implement; the name is the sub-resource or operation.
    NotImplemented(&'static str),
}

impl Op {
    /// The operation's S3 name, for logs and metrics.
    pub fn name(self) -> &'static str {
        use Op::*;
        match self {
            ListBuckets => "ListBuckets",
            CreateBucket => "CreateBucket",
            HeadBucket => "HeadBucket",
            DeleteBucket => "DeleteBucket",
            GetBucketLocation => "GetBucketLocation",
            GetBucketVersioning => "GetBucketVersioning",
            ListObjects => "ListObjects",
            ListObjectsV2 => "ListObjectsV2",
            ListMultipartUploads => "ListMultipartUploads",
            DeleteObjects => "DeleteObjects",
            PutBucketCors => "PutBucketCors",
            GetBucketCors => "GetBucketCors",
            DeleteBucketCors => "DeleteBucketCors",
            GetBucketAcl => "GetBucketAcl",
            PutBucketAcl => "PutBucketAcl",
            GetBucketPolicy => "GetBucketPolicy",
            PutBucketPolicy => "PutBucketPolicy",
            DeleteBucketPolicy => "DeleteBucketPolicy",
            GetObjectAcl => "GetObjectAcl",
            PutObjectAcl => "PutObjectAcl",
            GetObjectAttributes => "GetObjectAttributes",
            PostObject => "PostObject",
            PutObject => "PutObject",
            CopyObject => "CopyObject",
            GetObject => "GetObject",
            HeadObject => "HeadObject",
            DeleteObject => "DeleteObject",
            CreateMultipartUpload => "CreateMultipartUpload",
            UploadPart => "UploadPart",
            UploadPartCopy => "UploadPartCopy",
            CompleteMultipartUpload => "CompleteMultipartUpload",
            AbortMultipartUpload => "AbortMultipartUpload",
            ListParts => "ListParts",
            Preflight => "Preflight",
            NotImplemented(_) => "NotImplemented",
        }
    }
}

/// How the bucket was named in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `http://host/bucket/key`
    Path,
    /// `http://bucket.domain/key`
    VirtualHosted,
}

/// A classified request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The operation.
    pub op: Op,
    /// The bucket, absent for service-level requests.
    pub bucket: Option<String>,
    /// The object key (decoded, opaque UTF-8), absent for bucket- and service-level requests.
    pub key: Option<String>,
    /// The addressing style.
    pub style: Style,
}

/// The request line facts that classification needs.
#[derive(Debug, Clone, Copy)]
pub struct RequestTarget<'a> {
    /// The HTTP method, upper case.
    pub method: &'a str,
    /// The `Host` header (or `:authority`), if any.
    pub host: Option<&'a str>,
    /// The raw (percent-encoded) path.
    pub path: &'a str,
    /// The parsed query string.
    pub query: &'a Query,
    /// Whether `x-amz-copy-source` is present.
    pub copy_source: bool,
}

/// Bucket sub-resources S3 knows but s3cors does not implement (answered `501 NotImplemented`).
const UNIMPLEMENTED_BUCKET_SUBRESOURCES: &[&str] = &[
    "accelerate",
    "analytics",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "lifecycle",
    "logging",
    "metadataTable",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "tagging",
    "versions",
    "website",
];

/// Object sub-resources S3 knows but s3cors does not implement.
const UNIMPLEMENTED_OBJECT_SUBRESOURCES: &[&str] = &[
    "legal-hold",
    "renameObject",
    "restore",
    "retention",
    "select",
    "tagging",
    "torrent",
];

/// Strips a port from a `Host` value (`host:port`, `[v6]:port`).
fn host_without_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// The bucket named by a virtual-hosted `Host`, if the host is `BUCKET.DOMAIN` for one of `domains`.
pub fn virtual_host_bucket<'h>(host: &'h str, domains: &[String]) -> Option<&'h str> {
    let host = host_without_port(host);
    domains.iter().find_map(|domain| {
        let prefix = host.strip_suffix(domain.as_str())?.strip_suffix('.')?;
        (!prefix.is_empty()).then_some(prefix)
    })
}

fn decode_path(raw: &str) -> Result<String, S3Error> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| S3Error::new(S3ErrorCode::InvalidURI))
}

/// The bucket a request names and whether it names a key, without classifying the operation (what
/// CORS needs, §5.1 step 3). `None` when the URL names no bucket or cannot be decoded.
pub fn locate<'a>(
    host: Option<&'a str>,
    path: &'a str,
    domains: &[String],
) -> Option<(std::borrow::Cow<'a, str>, bool)> {
    use std::borrow::Cow;
    let path = path.strip_prefix('/').unwrap_or(path);
    match host.and_then(|h| virtual_host_bucket(h, domains)) {
        Some(bucket) => Some((Cow::Borrowed(bucket), !path.is_empty())),
        None => {
            let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
            // Most bucket names need no decoding: borrowed, nothing allocated.
            let bucket = if bucket.contains('%') {
                Cow::Owned(decode_path(bucket).ok()?)
            } else {
                Cow::Borrowed(bucket)
            };
            (!bucket.is_empty()).then_some((bucket, !key.is_empty()))
        }
    }
}

/// Classifies a request. `domains` are the virtual-host domains (e.g. `localhost`).
pub fn classify(target: &RequestTarget<'_>, domains: &[String]) -> Result<Endpoint, S3Error> {
    let path = target.path.strip_prefix('/').unwrap_or(target.path);
    let vhost = target.host.and_then(|h| virtual_host_bucket(h, domains));
    let (bucket, key, style) = match vhost {
        Some(bucket) => {
            let key = decode_path(path)?;
            (
                Some(bucket.to_owned()),
                (!key.is_empty()).then_some(key),
                Style::VirtualHosted,
            )
        }
        None => match path.split_once('/') {
            None if path.is_empty() => (None, None, Style::Path),
            None => (Some(decode_path(path)?), None, Style::Path),
            Some((b, k)) => {
                let key = decode_path(k)?;
                (
                    Some(decode_path(b)?),
                    (!key.is_empty()).then_some(key),
                    Style::Path,
                )
            }
        },
    };
    let op = match (&bucket, &key) {
        _ if target.method == "OPTIONS" => Op::Preflight,
        (None, _) => service_op(target.method)?,
        (Some(_), None) => bucket_op(target.method, target.query)?,
        (Some(_), Some(_)) => {
            // A presigned request's own parameters are all `X-Amz-*`, none of them a sub-resource.
            let q = if target.query.pairs().all(|(name, _)| name.starts_with("X-Amz-")) {
                &Query::EMPTY
            } else {
                target.query
            };
            object_op(target.method, q, target.copy_source)?
        }
    };
    Ok(Endpoint {
        op,
        bucket,
        key,
        style,
    })
}

fn method_not_allowed() -> S3Error {
    S3Error::new(S3ErrorCode::MethodNotAllowed)
}

fn service_op(method: &str) -> Result<Op, S3Error> {
    match method {
        "GET" => Ok(Op::ListBuckets),
        _ => Err(method_not_allowed()),
    }
}

fn bucket_op(method: &str, q: &Query) -> Result<Op, S3Error> {
    let unimplemented = UNIMPLEMENTED_BUCKET_SUBRESOURCES.iter().find(|s| q.has(s));
    Ok(match method {
        "GET" if q.has("cors") => Op::GetBucketCors,
        "PUT" if q.has("cors") => Op::PutBucketCors,
        "DELETE" if q.has("cors") => Op::DeleteBucketCors,
        "GET" if q.has("location") => Op::GetBucketLocation,
        "GET" if q.has("versioning") => Op::GetBucketVersioning,
        "GET" if q.has("acl") => Op::GetBucketAcl,
        "PUT" if q.has("acl") => Op::PutBucketAcl,
        "GET" if q.has("policy") => Op::GetBucketPolicy,
        "PUT" if q.has("policy") => Op::PutBucketPolicy,
        "DELETE" if q.has("policy") => Op::DeleteBucketPolicy,
        "PUT" if q.has("versioning") => Op::NotImplemented("versioning"),
        _ if ["cors", "location", "versioning", "acl", "policy"]
            .iter()
            .any(|s| q.has(s)) =>
        {
            return Err(method_not_allowed());
        }
        _ if unimplemented.is_some() => Op::NotImplemented(unimplemented.copied().unwrap_or("unknown")),
        "GET" if q.has("uploads") => Op::ListMultipartUploads,
        "POST" if q.has("delete") => Op::DeleteObjects,
        "GET" if q.get("list-type") == Some("2") => Op::ListObjectsV2,
        "GET" => Op::ListObjects,
        "HEAD" => Op::HeadBucket,
        "PUT" => Op::CreateBucket,
        "DELETE" => Op::DeleteBucket,
        "POST" if q.is_empty() => Op::PostObject,
        _ => return Err(method_not_allowed()),
    })
}

fn object_op(method: &str, q: &Query, copy_source: bool) -> Result<Op, S3Error> {
    if let Some(sub) = UNIMPLEMENTED_OBJECT_SUBRESOURCES.iter().find(|s| q.has(s)) {
        return Ok(Op::NotImplemented(sub));
    }
    if q.has("attributes") {
        return if method == "GET" {
            Ok(Op::GetObjectAttributes)
        } else {
            Err(method_not_allowed())
        };
    }
    if q.has("acl") {
        return match method {
            "GET" => Ok(Op::GetObjectAcl),
            "PUT" => Ok(Op::PutObjectAcl),
            _ => Err(method_not_allowed()),
        };
    }
    let upload = q.has("uploadId");
    Ok(match method {
        "PUT" if upload && q.has("partNumber") && copy_source => Op::UploadPartCopy,
        "PUT" if upload && q.has("partNumber") => Op::UploadPart,
        "PUT" if upload => {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "This operation does not accept partNumber without uploadId",
            ));
        }
        "PUT" if copy_source => Op::CopyObject,
        "PUT" => Op::PutObject,
        "GET" if upload => Op::ListParts,
        "GET" => Op::GetObject,
        "HEAD" => Op::HeadObject,
        "POST" if q.has("uploads") => Op::CreateMultipartUpload,
        "POST" if upload => Op::CompleteMultipartUpload,
        "DELETE" if upload => Op::AbortMultipartUpload,
        "DELETE" => Op::DeleteObject,
        _ => return Err(method_not_allowed()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domains() -> Vec<String> {
        vec!["localhost".to_owned(), "s3.example.test".to_owned()]
    }

    fn run(method: &str, host: &str, uri: &str, copy: bool) -> Result<Endpoint, S3Error> {
        let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
        let query = Query::parse(query).expect("query");
        classify(
            &RequestTarget {
                method,
                host: Some(host),
                path,
                query: &query,
                copy_source: copy,
            },
            &domains(),
        )
    }

    /// `(method, host, uri, copy-source?, op, bucket, key)`, from the request examples of the S3 API
    /// reference, in both addressing styles.
    #[test]
    fn classifies_aws_doc_examples() {
        use Op::*;
        let h = "127.0.0.1:9000";
        let v = "examplebucket.localhost:9000";
        #[rustfmt::skip]
        let cases: &[(&str, &str, &str, bool, Op, Option<&str>, Option<&str>)] = &[
            ("GET", h, "/", false, ListBuckets, None, None),
            ("GET", "localhost:9000", "/", false, ListBuckets, None, None),
            ("PUT", h, "/examplebucket", false, CreateBucket, Some("examplebucket"), None),
            ("PUT", v, "/", false, CreateBucket, Some("examplebucket"), None),
            ("HEAD", h, "/examplebucket/", false, HeadBucket, Some("examplebucket"), None),
            ("DELETE", v, "/", false, DeleteBucket, Some("examplebucket"), None),
            ("GET", h, "/examplebucket?location", false, GetBucketLocation, Some("examplebucket"), None),
            ("GET", v, "/?location", false, GetBucketLocation, Some("examplebucket"), None),
            ("GET", h, "/examplebucket?list-type=2&prefix=photos/", false, ListObjectsV2, Some("examplebucket"), None),
            ("GET", v, "/?list-type=2&max-keys=2", false, ListObjectsV2, Some("examplebucket"), None),
            ("GET", h, "/examplebucket?marker=a&prefix=b", false, ListObjects, Some("examplebucket"), None),
            ("GET", v, "/?uploads&max-uploads=3", false, ListMultipartUploads, Some("examplebucket"), None),
            ("POST", v, "/?delete", false, DeleteObjects, Some("examplebucket"), None),
            ("PUT", v, "/?cors", false, PutBucketCors, Some("examplebucket"), None),
            ("GET", h, "/examplebucket?cors", false, GetBucketCors, Some("examplebucket"), None),
            ("DELETE", v, "/?cors", false, DeleteBucketCors, Some("examplebucket"), None),
            ("GET", v, "/?versioning", false, GetBucketVersioning, Some("examplebucket"), None),
            ("POST", v, "/", false, PostObject, Some("examplebucket"), None),
            ("PUT", v, "/my-image.jpg", false, PutObject, Some("examplebucket"), Some("my-image.jpg")),
            ("PUT", h, "/examplebucket/my%20image.jpg", false, PutObject, Some("examplebucket"), Some("my image.jpg")),
            ("PUT", v, "/my-second-image.jpg", true, CopyObject, Some("examplebucket"), Some("my-second-image.jpg")),
            ("GET", v, "/my-image.jpg", false, GetObject, Some("examplebucket"), Some("my-image.jpg")),
            ("GET", v, "/my-image.jpg?response-content-type=text/plain&x-id=GetObject", false, GetObject, Some("examplebucket"), Some("my-image.jpg")),
            ("HEAD", h, "/examplebucket/my-image.jpg", false, HeadObject, Some("examplebucket"), Some("my-image.jpg")),
            ("DELETE", v, "/my-second-image.jpg", false, DeleteObject, Some("examplebucket"), Some("my-second-image.jpg")),
            ("POST", v, "/example-object?uploads", false, CreateMultipartUpload, Some("examplebucket"), Some("example-object")),
            ("PUT", v, "/my-movie.m2ts?partNumber=1&uploadId=VCVsb2FkIElE", false, UploadPart, Some("examplebucket"), Some("my-movie.m2ts")),
            ("PUT", v, "/newobject?partNumber=2&uploadId=VCVsb2FkIElE", true, UploadPartCopy, Some("examplebucket"), Some("newobject")),
            ("POST", v, "/example-object?uploadId=AAAsb2FkIElE", false, CompleteMultipartUpload, Some("examplebucket"), Some("example-object")),
            ("DELETE", v, "/example-object?uploadId=VXBsb2FkIElE", false, AbortMultipartUpload, Some("examplebucket"), Some("example-object")),
            ("GET", v, "/example-object?uploadId=XXBsb2FkIEl&max-parts=2", false, ListParts, Some("examplebucket"), Some("example-object")),
            ("OPTIONS", v, "/photo.jpg?uploads", false, Preflight, Some("examplebucket"), Some("photo.jpg")),
            ("OPTIONS", h, "/", false, Preflight, None, None),
            ("GET", v, "/photo.jpg?tagging", false, NotImplemented("tagging"), Some("examplebucket"), Some("photo.jpg")),
            ("GET", h, "/examplebucket?lifecycle", false, NotImplemented("lifecycle"), Some("examplebucket"), None),
            ("GET", "bucket.s3.example.test", "/a//b/../c", false, GetObject, Some("bucket"), Some("a//b/../c")),
            ("GET", h, "/examplebucket//leading", false, GetObject, Some("examplebucket"), Some("/leading")),
            ("GET", h, "/examplebucket/%2e%2e/x", false, GetObject, Some("examplebucket"), Some("../x")),
            // Presigned: the signing parameters are no sub-resource, and beside one they change nothing.
            ("GET", v, "/photo.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20130524T000000Z&X-Amz-Signature=ab", false, GetObject, Some("examplebucket"), Some("photo.jpg")),
            ("PUT", h, "/examplebucket/photo.jpg?X-Amz-Date=20130524T000000Z", true, CopyObject, Some("examplebucket"), Some("photo.jpg")),
            ("GET", v, "/photo.jpg?X-Amz-Date=20130524T000000Z&tagging", false, NotImplemented("tagging"), Some("examplebucket"), Some("photo.jpg")),
            ("PUT", v, "/photo.jpg?partNumber=1&X-Amz-Date=20130524T000000Z&uploadId=VCVsb2FkIElE", false, UploadPart, Some("examplebucket"), Some("photo.jpg")),
            ("GET", v, "/photo.jpg?X-Amz-Date=20130524T000000Z&acl", false, GetObjectAcl, Some("examplebucket"), Some("photo.jpg")),
            ("POST", v, "/?X-Amz-Date=20130524T000000Z&delete", false, DeleteObjects, Some("examplebucket"), None),
        ];
        for &(method, host, uri, copy, op, bucket, key) in cases {
            let ep = run(method, host, uri, copy).unwrap_or_else(|e| panic!("{method} {host}{uri}: {e}"));
            assert_eq!(ep.op, op, "{method} {host}{uri}");
            assert_eq!(ep.bucket.as_deref(), bucket, "{method} {host}{uri}");
            assert_eq!(ep.key.as_deref(), key, "{method} {host}{uri}");
            let style = if host == h || host == "localhost:9000" {
                Style::Path
            } else {
                Style::VirtualHosted
            };
            assert_eq!(ep.style, style, "{method} {host}{uri}");
        }
    }

    #[test]
    fn rejects_what_s3_rejects() {
        assert_eq!(
            run("POST", "h", "/", false).unwrap_err().code(),
            S3ErrorCode::MethodNotAllowed
        );
        assert_eq!(
            run("PATCH", "h", "/b/k", false).unwrap_err().code(),
            S3ErrorCode::MethodNotAllowed
        );
        assert_eq!(
            run("GET", "h", "/b/%ff", false).unwrap_err().code(),
            S3ErrorCode::InvalidURI
        );
        assert_eq!(
            run("POST", "h", "/b?cors", false).unwrap_err().code(),
            S3ErrorCode::MethodNotAllowed
        );
    }

    #[test]
    fn locate_finds_bucket_and_key_presence() {
        let d = domains();
        assert_eq!(locate(Some("h"), "/", &d), None);
        assert_eq!(locate(Some("h"), "/b", &d), Some(("b".into(), false)));
        assert_eq!(locate(Some("h"), "/b/", &d), Some(("b".into(), false)));
        assert_eq!(locate(Some("h"), "/b/k/x", &d), Some(("b".into(), true)));
        assert_eq!(
            locate(Some("b.localhost:9000"), "/", &d),
            Some(("b".into(), false))
        );
        assert_eq!(
            locate(Some("b.localhost:9000"), "/k", &d),
            Some(("b".into(), true))
        );
        assert_eq!(locate(None, "/b/k", &d), Some(("b".into(), true)));
    }

    #[test]
    fn host_ports_and_ipv6() {
        assert_eq!(virtual_host_bucket("a.localhost:9000", &domains()), Some("a"));
        assert_eq!(virtual_host_bucket("a.b.localhost", &domains()), Some("a.b"));
        assert_eq!(virtual_host_bucket("localhost:9000", &domains()), None);
        assert_eq!(virtual_host_bucket("[::1]:9000", &domains()), None);
        assert_eq!(virtual_host_bucket("xlocalhost", &domains()), None);
    }
}
