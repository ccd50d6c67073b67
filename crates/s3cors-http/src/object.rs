//! Object operations: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects, CopyObject.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html> and its siblings.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode};
use s3cors_proto::checksum::ChecksumAlgorithm;
use s3cors_proto::http::{
    ByteRange, Conditions, Precondition, evaluate_conditions, evaluate_copy_conditions, parse_range,
};
use s3cors_proto::xml::XmlWriter;
use s3cors_proto::{S3Error, S3ErrorCode};
use s3cors_store::{
    BlobReader, NewObject, ObjectMeta, ObjectRecord, ObjectRecordOf, ObjectView, StoredChecksum,
    StoredChecksumOf, WriteCondition, WrittenBlob,
};
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;

use crate::body::{Checksum, MAX_SINGLE_PUT, ingest};
use crate::meta;
use crate::response::{self, set_header};
use crate::service::{Ctx, blocking, no_content};

pub(crate) async fn put(ctx: &Ctx, body: Body) -> Result<Response, S3Error> {
    let meta = meta::from_headers(&ctx.headers)?;
    let store = ctx.app.store.clone();
    store.bucket(&ctx.bucket)?;
    let cond = write_condition(ctx)?;
    let acl = crate::acl::acl_header(ctx)?.as_str().to_owned();
    // Every new object gets a checksum: the one the client sent, else CRC64NVME, as S3 does.
    let blob = ingest(
        &store,
        &ctx.headers,
        body,
        MAX_SINGLE_PUT,
        ctx.chunks.as_deref(),
        Some(ChecksumAlgorithm::Crc64Nvme),
    )
    .await?;
    let new = new_object(blob, meta, acl);
    let (bucket, key) = (ctx.bucket.clone(), ctx.key.clone());
    let rec = blocking(&ctx.app.store, move || {
        Ok(store.put_object(&bucket, &key, new, &cond)?)
    })
    .await?;
    let mut resp = response::empty(StatusCode::OK);
    set_header(&mut resp, http::header::ETAG, &rec.etag);
    if let Some(c) = &rec.checksum {
        checksum_headers(&mut resp, c);
    }
    Ok(resp)
}

/// A new single-part object from a written blob: its ETag is the MD5, its checksum the one computed.
pub(crate) fn new_object(blob: WrittenBlob, meta: ObjectMeta, acl: String) -> NewObject {
    let etag = s3cors_proto::etag_of(&blob.md5);
    let checksum = full_object_checksum(&blob.checksum);
    NewObject {
        blob,
        etag,
        meta,
        part_sizes: Vec::new(),
        acl,
        checksum,
    }
}

/// A checksum computed over a whole body, as stored.
pub(crate) fn full_object_checksum(c: &Option<(ChecksumAlgorithm, Vec<u8>)>) -> Option<StoredChecksum> {
    c.as_ref().map(|(a, d)| StoredChecksum {
        algorithm: a.name().to_owned(),
        value: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, d),
        full_object: true,
    })
}

/// `x-amz-checksum-ALGO` and `x-amz-checksum-type`.
pub(crate) fn checksum_headers<S: AsRef<str>>(resp: &mut Response, c: &StoredChecksumOf<S>) {
    if let Some(a) = ChecksumAlgorithm::from_name(c.algorithm.as_ref()) {
        set_header(resp, crate::names::checksum(a), c.value.as_ref());
        set_header(
            resp,
            &crate::names::X_AMZ_CHECKSUM_TYPE,
            if c.full_object { "FULL_OBJECT" } else { "COMPOSITE" },
        );
    }
}

/// `If-Match` / `If-None-Match` on a write (PutObject, CompleteMultipartUpload). S3 supports only `*`
/// for `If-None-Match` there.
pub(crate) fn write_condition(ctx: &Ctx) -> Result<WriteCondition, S3Error> {
    let if_none_match = match ctx.header(http::header::IF_NONE_MATCH).map(str::trim) {
        None => false,
        Some("*") => true,
        Some(_) => {
            return Err(S3Error::with_message(
                S3ErrorCode::NotImplemented,
                "A header you provided implies functionality that is not implemented",
            )
            .with_element("Header", "If-None-Match"));
        }
    };
    Ok(WriteCondition {
        if_match: ctx.header(http::header::IF_MATCH).map(str::to_owned),
        if_none_match,
    })
}

/// The bytes of part `partNumber` of an object: `None` is the whole object (part 1 of an object that
/// was not uploaded in parts).
fn part_range<S>(value: &str, rec: &ObjectRecordOf<S>) -> Result<Option<ByteRange>, S3Error> {
    let n = match value.parse::<usize>() {
        Ok(n) if (1..=10_000).contains(&n) => n,
        _ => {
            return Err(S3Error::invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive",
                "partNumber",
                value,
            ));
        }
    };
    let invalid = || {
        S3Error::with_message(
            S3ErrorCode::InvalidPart,
            "The requested partnumber is not satisfiable",
        )
    };
    if rec.part_sizes.is_empty() {
        return if n == 1 { Ok(None) } else { Err(invalid()) };
    }
    let size = *rec.part_sizes.get(n - 1).ok_or_else(invalid)?;
    let start: u64 = rec.part_sizes[..n - 1].iter().sum();
    if size == 0 {
        return Err(invalid());
    }
    Ok(Some(ByteRange {
        start,
        end: start + size - 1,
    }))
}

/// The request's conditional headers: `If-*`, or for a copy source `x-amz-copy-source-if-*`.
fn conditions(ctx: &Ctx, copy_source: bool) -> Conditions<'_> {
    if copy_source {
        Conditions {
            if_match: ctx.header("x-amz-copy-source-if-match"),
            if_none_match: ctx.header("x-amz-copy-source-if-none-match"),
            if_modified_since: ctx.header("x-amz-copy-source-if-modified-since"),
            if_unmodified_since: ctx.header("x-amz-copy-source-if-unmodified-since"),
        }
    } else {
        conditions_of(&ctx.headers)
    }
}

/// `If-Match`, `If-None-Match`, `If-Modified-Since` and `If-Unmodified-Since`, found in one pass over
/// the request's few headers in place of four lookups that each hash a name (these are standard
/// names, compared as enum values). The first of repeated fields counts, as with a lookup, and a
/// value that is not visible ASCII is absent.
fn conditions_of(headers: &http::HeaderMap) -> Conditions<'_> {
    use http::header::{IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_UNMODIFIED_SINCE};
    // `found[i]` is set once, at the field's first occurrence.
    let mut found: [Option<Option<&str>>; 4] = [None; 4];
    for (name, value) in headers {
        let i = if name == IF_MATCH {
            0
        } else if name == IF_NONE_MATCH {
            1
        } else if name == IF_MODIFIED_SINCE {
            2
        } else if name == IF_UNMODIFIED_SINCE {
            3
        } else {
            continue;
        };
        found[i].get_or_insert(value.to_str().ok());
    }
    let [if_match, if_none_match, if_modified_since, if_unmodified_since] = found.map(Option::flatten);
    Conditions {
        if_match,
        if_none_match,
        if_modified_since,
        if_unmodified_since,
    }
}

fn validators<S: AsRef<str>>(resp: &mut Response, rec: &ObjectRecordOf<S>) {
    set_header(resp, http::header::ETAG, rec.etag.as_ref());
    if let Ok(v) = HeaderValue::from_bytes(&s3cors_proto::http::http_date_bytes(rec.modified())) {
        resp.headers_mut().insert(http::header::LAST_MODIFIED, v);
    }
}

/// GetObject and HeadObject. Nothing here waits: the bytes are read as the body is sent. The record is
/// read in place, its text borrowed from the store while the response is built.
pub(crate) fn get(ctx: &Ctx, head: bool) -> Result<Response, S3Error> {
    ctx.app
        .store
        .read_object(&ctx.bucket, &ctx.key, |rec| get_response(ctx, head, rec))?
}

fn get_response(ctx: &Ctx, head: bool, rec: &ObjectView<'_>) -> Result<Response, S3Error> {
    let c = conditions(ctx, false);
    match evaluate_conditions(&c, rec.etag, rec.modified()) {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            let mut resp = response::empty(StatusCode::NOT_MODIFIED);
            validators(&mut resp, rec);
            return Ok(resp);
        }
        Precondition::Failed => {
            return Err(
                S3Error::new(S3ErrorCode::PreconditionFailed).with_element("Condition", condition_name(&c))
            );
        }
    }
    let range = match ctx.query.get("partNumber") {
        Some(_) if ctx.header("range").is_some() => {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Cannot specify both Range header and partNumber query parameter",
            ));
        }
        Some(n) => part_range(n, rec)?,
        None => parse_range(ctx.header(http::header::RANGE), rec.size)?,
    };
    let (start, len) = match range {
        Some(r) => (r.start, r.len()),
        None => (0, rec.size),
    };
    let mut resp = if head {
        response::head_with_length(len)
    } else {
        match ctx.app.store.open_blob(rec.blob)? {
            BlobReader::Memory(b) => {
                let end = usize::try_from(start + len).map_err(|_| S3Error::internal())?;
                // hyper writes `Content-Length` from the body's exact size.
                response::new(response::bytes(b.slice(start as usize..end)))
            }
            BlobReader::File(mut f) => {
                // Moving the offset of a regular file never blocks.
                std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(start))
                    .map_err(|_| S3Error::internal())?;
                let f = tokio::fs::File::from_std(f);
                let body = Body::from_stream(ReaderStream::with_capacity(f.take(len), 256 * 1024));
                response::stream(body, len)
            }
        }
    };
    if let Some(r) = range {
        *resp.status_mut() = StatusCode::PARTIAL_CONTENT;
        set_header(
            &mut resp,
            "content-range",
            &format!("bytes {}-{}/{}", r.start, r.end, rec.size),
        );
    }
    validators(&mut resp, rec);
    resp.headers_mut()
        .insert(http::header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    meta::apply(&mut resp, &rec.meta, &ctx.query);
    let whole = range.is_none() && !ctx.query.has("partNumber");
    if whole
        && ctx
            .header(&crate::names::X_AMZ_CHECKSUM_MODE)
            .is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"))
        && let Some(c) = &rec.checksum
    {
        checksum_headers(&mut resp, c);
    }
    if !rec.part_sizes.is_empty() {
        set_header(
            &mut resp,
            "x-amz-mp-parts-count",
            &rec.part_sizes.len().to_string(),
        );
    }
    Ok(resp)
}

fn condition_name(c: &Conditions<'_>) -> &'static str {
    if c.if_match.is_some() {
        "If-Match"
    } else {
        "If-Unmodified-Since"
    }
}

pub(crate) async fn delete(ctx: &Ctx) -> Result<Response, S3Error> {
    let (store, bucket, key) = (ctx.app.store.clone(), ctx.bucket.clone(), ctx.key.clone());
    blocking(&ctx.app.store, move || Ok(store.delete_object(&bucket, &key)?)).await?;
    Ok(no_content())
}

pub(crate) async fn delete_many(ctx: &Ctx, body: Body) -> Result<Response, S3Error> {
    let body = ctx
        .read_body(body, ctx.app.config.limits.max_xml_bytes, Checksum::Required)
        .await?;
    let req = s3cors_proto::docs::parse_delete(&body)?;
    ctx.app.store.bucket(&ctx.bucket)?;
    let store = ctx.app.store.clone();
    let bucket = ctx.bucket.clone();
    let results = blocking(&ctx.app.store, move || {
        Ok(req
            .objects
            .into_iter()
            .map(|o| {
                let outcome = match s3cors_proto::names::validate_key(&o.key) {
                    Ok(()) => store.delete_object(&bucket, &o.key).map_err(S3Error::from),
                    Err(e) => Err(e),
                };
                (o, outcome)
            })
            .collect::<Vec<_>>())
    })
    .await?;
    let mut w = XmlWriter::new();
    w.start_root("DeleteResult");
    for (o, outcome) in &results {
        match outcome {
            Ok(()) if !req.quiet => {
                w.start("Deleted");
                w.elem("Key", &o.key);
                if let Some(v) = &o.version_id {
                    w.elem("VersionId", v);
                }
                w.end("Deleted");
            }
            Ok(()) => {}
            Err(e) => {
                w.start("Error");
                w.elem("Key", &o.key);
                w.elem("Code", e.code().as_str());
                w.elem("Message", e.message());
                w.end("Error");
            }
        }
    }
    w.end("DeleteResult");
    Ok(response::xml(w.finish()))
}

/// The source named by `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, URL-encoded.
pub(crate) fn copy_source(ctx: &Ctx) -> Result<(String, String), S3Error> {
    let invalid = || {
        S3Error::with_message(S3ErrorCode::InvalidArgument, "Invalid copy source object key")
            .with_element("ArgumentName", "x-amz-copy-source")
    };
    let raw = ctx.header("x-amz-copy-source").ok_or_else(invalid)?;
    let (path, version) = match raw.split_once("?versionId=") {
        Some((p, v)) => (p, Some(v)),
        None => (raw, None),
    };
    if version.is_some_and(|v| v != "null") {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Invalid version id specified",
        ));
    }
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| invalid())?;
    let decoded = decoded.strip_prefix('/').unwrap_or(&decoded);
    let (bucket, key) = decoded.split_once('/').ok_or_else(invalid)?;
    if bucket.is_empty() || key.is_empty() {
        return Err(invalid());
    }
    s3cors_proto::names::validate_key(key)?;
    Ok((bucket.to_owned(), key.to_owned()))
}

/// Loads the copy source and checks `x-amz-copy-source-if-*`.
pub(crate) fn copy_source_record(ctx: &Ctx) -> Result<(String, String, ObjectRecord), S3Error> {
    let (bucket, key) = copy_source(ctx)?;
    crate::access::authorize(
        &ctx.app.store,
        &ctx.app.policies,
        &ctx.caller,
        s3cors_proto::Op::GetObject,
        Some(&bucket),
        Some(&key),
    )?;
    let rec = ctx.app.store.object(&bucket, &key)?;
    let c = conditions(ctx, true);
    evaluate_copy_conditions(&c, &rec.etag, rec.modified())?;
    Ok((bucket, key, rec))
}

pub(crate) async fn copy(ctx: &Ctx) -> Result<Response, S3Error> {
    let (src_bucket, src_key, src) = copy_source_record(ctx)?;
    ctx.app.store.bucket(&ctx.bucket)?;
    let replace = match ctx.header("x-amz-metadata-directive") {
        None => false,
        Some(d) if d.eq_ignore_ascii_case("COPY") => false,
        Some(d) if d.eq_ignore_ascii_case("REPLACE") => true,
        Some(d) => {
            return Err(S3Error::invalid_argument(
                "Unknown metadata directive.",
                "x-amz-metadata-directive",
                d,
            ));
        }
    };
    if src_bucket == ctx.bucket && src_key == ctx.key && !replace {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing \
             the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    if src.size > MAX_SINGLE_PUT {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "The specified copy source is larger than the maximum allowable size for a copy source: 5368709120",
        ));
    }
    let acl = crate::acl::acl_header(ctx)?.as_str().to_owned();
    let meta = if replace {
        meta::from_headers(&ctx.headers)?
    } else {
        src.meta.clone()
    };
    let store = ctx.app.store.clone();
    let (bucket, key) = (ctx.bucket.clone(), ctx.key.clone());
    let rec = blocking(&ctx.app.store, move || {
        // The copy keeps the source's algorithm when it covers the whole object, else CRC64NVME.
        let algo = src
            .checksum
            .as_ref()
            .filter(|c| c.full_object)
            .and_then(|c| ChecksumAlgorithm::from_name(&c.algorithm))
            .unwrap_or(ChecksumAlgorithm::Crc64Nvme);
        let blob = store.copy_blob(&src.blob, None, Some(algo))?;
        let new = new_object(blob, meta, acl);
        Ok(store.put_object(&bucket, &key, new, &WriteCondition::default())?)
    })
    .await?;
    let mut w = XmlWriter::new();
    w.start_root("CopyObjectResult");
    w.elem("LastModified", &s3cors_proto::http::iso8601(rec.modified()));
    w.elem("ETag", &rec.etag);
    w.end("CopyObjectResult");
    Ok(response::xml(w.finish()))
}

/// GetObjectAttributes (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html>):
/// the attributes named in `x-amz-object-attributes`.
pub(crate) fn attributes(ctx: &Ctx) -> Result<Response, S3Error> {
    let wanted: Vec<String> = ctx
        .header("x-amz-object-attributes")
        .unwrap_or("")
        .split(',')
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty())
        .collect();
    if wanted.is_empty() {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Invalid attribute name specified.",
        ));
    }
    const KNOWN: [&str; 5] = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"];
    if let Some(bad) = wanted.iter().find(|w| !KNOWN.contains(&w.as_str())) {
        return Err(S3Error::invalid_argument(
            "Invalid attribute name specified.",
            "x-amz-object-attributes",
            bad,
        ));
    }
    let rec = ctx.app.store.object(&ctx.bucket, &ctx.key)?;
    let has = |a: &str| wanted.iter().any(|w| w == a);
    let mut w = XmlWriter::new();
    w.start_root("GetObjectAttributesResponse");
    if has("ETag") {
        w.elem("ETag", rec.etag.trim_matches('"'));
    }
    if has("Checksum")
        && let Some(c) = &rec.checksum
    {
        w.start("Checksum");
        w.elem(&format!("Checksum{}", c.algorithm), &c.value);
        w.elem(
            "ChecksumType",
            if c.full_object { "FULL_OBJECT" } else { "COMPOSITE" },
        );
        w.end("Checksum");
    }
    if has("ObjectParts") && !rec.part_sizes.is_empty() {
        w.start("ObjectParts");
        w.elem("TotalPartsCount", &rec.part_sizes.len().to_string());
        w.end("ObjectParts");
    }
    if has("StorageClass") {
        w.elem("StorageClass", "STANDARD");
    }
    if has("ObjectSize") {
        w.elem("ObjectSize", &rec.size.to_string());
    }
    w.end("GetObjectAttributesResponse");
    let mut resp = response::xml(w.finish());
    set_header(
        &mut resp,
        "last-modified",
        &s3cors_proto::http::http_date(rec.modified()),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use http::header::{IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_UNMODIFIED_SINCE};
    use http::{HeaderMap, HeaderValue};

    /// What four lookups give, the reference for the one pass.
    fn by_lookup(h: &HeaderMap) -> [Option<&str>; 4] {
        [IF_MATCH, IF_NONE_MATCH, IF_MODIFIED_SINCE, IF_UNMODIFIED_SINCE]
            .map(|n| h.get(n).and_then(|v| v.to_str().ok()))
    }

    #[test]
    fn conditional_headers_in_one_pass_are_those_a_lookup_finds() {
        let v = |s: &[u8]| HeaderValue::from_bytes(s).expect("a header value");
        let mut cases: Vec<HeaderMap> = Vec::new();
        // None of them, among other headers.
        let mut h = HeaderMap::new();
        h.insert(http::header::HOST, v(b"b.localhost"));
        h.insert(http::header::RANGE, v(b"bytes=0-1"));
        cases.push(h.clone());
        // All four.
        h.insert(IF_MATCH, v(b"\"a\""));
        h.insert(IF_NONE_MATCH, v(b"\"b\""));
        h.insert(IF_MODIFIED_SINCE, v(b"Sat, 01 Jan 2000 00:00:00 GMT"));
        h.insert(IF_UNMODIFIED_SINCE, v(b"Sun, 02 Jan 2000 00:00:00 GMT"));
        cases.push(h.clone());
        // Repeated fields: the first counts, also when it is not visible ASCII.
        h.append(IF_MATCH, v(b"\"second\""));
        h.insert(IF_NONE_MATCH, v("\"caf\u{e9}\"".as_bytes()));
        h.append(IF_NONE_MATCH, v(b"\"ascii\""));
        cases.push(h);
        for h in &cases {
            let c = super::conditions_of(h);
            assert_eq!(
                [
                    c.if_match,
                    c.if_none_match,
                    c.if_modified_since,
                    c.if_unmodified_since
                ],
                by_lookup(h),
                "{h:?}"
            );
        }
        let c = super::conditions_of(&cases[2]);
        assert_eq!((c.if_match, c.if_none_match), (Some("\"a\""), None));
    }
}
