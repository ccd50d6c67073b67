//! Multipart uploads: Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html>.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;
use s3cors_proto::checksum::ChecksumAlgorithm;
use s3cors_proto::xml::XmlWriter;
use s3cors_proto::{S3Error, S3ErrorCode};
use s3cors_store::{StoredChecksum, UploadRecord};

use crate::body::{Checksum, MAX_SINGLE_PUT, ingest};
use crate::meta;
use crate::object::{copy_source_record, write_condition};
use crate::response::{self, set_header};
use crate::service::{Ctx, blocking, no_content, owner_xml};

const MAX_PART_NUMBER: u32 = 10_000;

fn part_number(ctx: &Ctx) -> Result<u32, S3Error> {
    let raw = ctx.query.get("partNumber").unwrap_or("");
    match raw.parse::<u32>() {
        Ok(n) if (1..=MAX_PART_NUMBER).contains(&n) => Ok(n),
        _ => Err(S3Error::invalid_argument(
            "Part number must be an integer between 1 and 10000, inclusive",
            "partNumber",
            raw,
        )),
    }
}

fn upload(ctx: &Ctx) -> Result<UploadRecord, S3Error> {
    let id = ctx.query.get("uploadId").unwrap_or("");
    Ok(ctx.app.store.upload(&ctx.bucket, &ctx.key, id)?)
}

pub(crate) async fn create(ctx: &Ctx) -> Result<Response, S3Error> {
    let meta = meta::from_headers(&ctx.headers)?;
    let store = ctx.app.store.clone();
    let acl = crate::acl::acl_header(ctx)?;
    let checksum = upload_checksum(ctx)?;
    let (bucket, key, owner) = (ctx.bucket.clone(), ctx.key.clone(), ctx.account());
    let rec = blocking(&ctx.app.store, move || {
        Ok(store.create_upload(&bucket, &key, meta, acl.as_str(), &owner, checksum)?)
    })
    .await?;
    let mut w = XmlWriter::new();
    w.start_root("InitiateMultipartUploadResult");
    w.elem("Bucket", &ctx.bucket);
    w.elem("Key", &ctx.key);
    w.elem("UploadId", &rec.upload_id);
    w.end("InitiateMultipartUploadResult");
    let mut resp = response::xml(w.finish());
    if let Some((algo, full)) = checksum {
        set_header(&mut resp, "x-amz-checksum-algorithm", algo.name());
        set_header(
            &mut resp,
            "x-amz-checksum-type",
            if full { "FULL_OBJECT" } else { "COMPOSITE" },
        );
    }
    Ok(resp)
}

/// `x-amz-checksum-algorithm` and `x-amz-checksum-type` of CreateMultipartUpload. CRC64NVME is always
/// full-object; SHA1 and SHA256 cannot be (`InvalidRequest`, as S3 answers).
fn upload_checksum(ctx: &Ctx) -> Result<Option<(ChecksumAlgorithm, bool)>, S3Error> {
    let Some(name) = ctx.header("x-amz-checksum-algorithm") else {
        return Ok(None);
    };
    let algo = ChecksumAlgorithm::from_name(name).ok_or_else(|| {
        S3Error::invalid_argument(
            "Checksum algorithm provided is unsupported.",
            "x-amz-checksum-algorithm",
            name,
        )
    })?;
    let full = match ctx.header("x-amz-checksum-type") {
        None => algo == ChecksumAlgorithm::Crc64Nvme,
        Some(t) if t.eq_ignore_ascii_case("FULL_OBJECT") => true,
        Some(t) if t.eq_ignore_ascii_case("COMPOSITE") => false,
        Some(t) => {
            return Err(S3Error::invalid_argument(
                "Value for x-amz-checksum-type header is invalid.",
                "x-amz-checksum-type",
                t,
            ));
        }
    };
    if full && matches!(algo, ChecksumAlgorithm::Sha1 | ChecksumAlgorithm::Sha256)
        || !full && algo == ChecksumAlgorithm::Crc64Nvme
    {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            format!(
                "The {} checksum algorithm does not support this checksum type.",
                algo.name()
            ),
        ));
    }
    Ok(Some((algo, full)))
}

pub(crate) async fn upload_part(ctx: &Ctx, body: Body) -> Result<Response, S3Error> {
    let number = part_number(ctx)?;
    let up = upload(ctx)?;
    let store = ctx.app.store.clone();
    let algo = up
        .checksum_algorithm
        .as_deref()
        .and_then(ChecksumAlgorithm::from_name);
    let blob = ingest(
        &store,
        &ctx.headers,
        body,
        MAX_SINGLE_PUT,
        ctx.chunks.as_deref(),
        algo,
    )
    .await?;
    let part = blocking(&ctx.app.store, move || Ok(store.put_part(&up, number, &blob)?)).await?;
    let mut resp = response::empty(StatusCode::OK);
    set_header(&mut resp, http::header::ETAG, &part.etag());
    if let (Some(a), Some(c)) = (algo, &part.checksum) {
        set_header(&mut resp, crate::names::checksum(a), c);
    }
    Ok(resp)
}

/// Parses `x-amz-copy-source-range: bytes=first-last` against the source size.
fn copy_range(value: &str, size: u64) -> Result<(u64, u64), S3Error> {
    let invalid = || {
        S3Error::invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are \
             the zero-based offsets of the first and last bytes to copy",
            "x-amz-copy-source-range",
            value,
        )
    };
    let spec = value.trim().strip_prefix("bytes=").ok_or_else(invalid)?;
    let (a, b) = spec.split_once('-').ok_or_else(invalid)?;
    let (a, b) = (
        a.parse::<u64>().map_err(|_| invalid())?,
        b.parse::<u64>().map_err(|_| invalid())?,
    );
    if a > b {
        return Err(invalid());
    }
    if b >= size {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRange,
            format!("Range specified is not valid for source object of size: {size}"),
        ));
    }
    Ok((a, b))
}

pub(crate) async fn upload_part_copy(ctx: &Ctx) -> Result<Response, S3Error> {
    let number = part_number(ctx)?;
    let up = upload(ctx)?;
    let (_, _, src) = copy_source_record(ctx)?;
    let range = ctx
        .header("x-amz-copy-source-range")
        .map(|r| copy_range(r, src.size))
        .transpose()?;
    let store = ctx.app.store.clone();
    let algo = up
        .checksum_algorithm
        .as_deref()
        .and_then(ChecksumAlgorithm::from_name);
    let part = blocking(&ctx.app.store, move || {
        let blob = store.copy_blob(&src.blob, range, algo)?;
        Ok(store.put_part(&up, number, &blob)?)
    })
    .await?;
    let mut w = XmlWriter::new();
    w.start_root("CopyPartResult");
    w.elem(
        "LastModified",
        &s3cors_proto::http::iso8601(s3cors_store::record::from_millis(part.modified_ms)),
    );
    w.elem("ETag", &part.etag());
    w.end("CopyPartResult");
    Ok(response::xml(w.finish()))
}

pub(crate) async fn complete(ctx: &Ctx, body: Body) -> Result<Response, S3Error> {
    let cond = write_condition(ctx)?;
    let up = match upload(ctx) {
        Ok(up) => up,
        Err(e) if e.code() == S3ErrorCode::NoSuchUpload => {
            // A repeated CompleteMultipartUpload answers as the first one did.
            let id = ctx.query.get("uploadId").unwrap_or("");
            return match ctx.app.store.completed_upload(&ctx.bucket, &ctx.key, id)? {
                Some(done) => Ok(complete_result(ctx, &done.etag, None)),
                None => Err(e),
            };
        }
        Err(e) => return Err(e),
    };
    let body = ctx
        .read_body(body, ctx.app.config.limits.max_xml_bytes, Checksum::Optional)
        .await?;
    let parts = s3cors_proto::docs::parse_complete_multipart(&body)?;
    let listed: Vec<(u32, String)> = parts.into_iter().map(|p| (p.part_number, p.etag)).collect();
    let store = ctx.app.store.clone();
    let rec = blocking(&ctx.app.store, move || {
        Ok(store.complete_upload(&up, &listed, &cond)?)
    })
    .await?;
    Ok(complete_result(ctx, &rec.etag, rec.checksum.as_ref()))
}

fn complete_result(ctx: &Ctx, etag: &str, checksum: Option<&StoredChecksum>) -> Response {
    let mut w = XmlWriter::new();
    w.start_root("CompleteMultipartUploadResult");
    let host = ctx.header("host").unwrap_or("localhost");
    w.elem("Location", &format!("http://{host}/{}/{}", ctx.bucket, ctx.key));
    w.elem("Bucket", &ctx.bucket);
    w.elem("Key", &ctx.key);
    w.elem("ETag", etag);
    if let Some(c) = checksum {
        w.elem(&format!("Checksum{}", c.algorithm), &c.value);
        w.elem(
            "ChecksumType",
            if c.full_object { "FULL_OBJECT" } else { "COMPOSITE" },
        );
    }
    w.end("CompleteMultipartUploadResult");
    response::xml(w.finish())
}

pub(crate) async fn abort(ctx: &Ctx) -> Result<Response, S3Error> {
    let up = upload(ctx)?;
    let store = ctx.app.store.clone();
    blocking(&ctx.app.store, move || Ok(store.abort_upload(&up)?)).await?;
    Ok(no_content())
}

pub(crate) fn list_parts(ctx: &Ctx) -> Result<Response, S3Error> {
    let up = upload(ctx)?;
    let max = match ctx.query.get("max-parts") {
        None => 1000,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => n.min(1000) as usize,
            _ => {
                return Err(S3Error::invalid_argument(
                    "Provided max-parts not an integer or within integer range",
                    "max-parts",
                    v,
                ));
            }
        },
    };
    let marker = match ctx.query.get("part-number-marker") {
        None | Some("") => 0,
        Some(v) => v.parse::<u32>().map_err(|_| {
            S3Error::invalid_argument(
                "Provided part-number-marker not an integer or within integer range",
                "part-number-marker",
                v,
            )
        })?,
    };
    let parts: Vec<_> = ctx
        .app
        .store
        .parts(&up.upload_id)?
        .into_iter()
        .filter(|p| p.number > marker)
        .collect();
    let truncated = parts.len() > max;
    let shown = &parts[..parts.len().min(max)];
    let mut w = XmlWriter::new();
    w.start_root("ListPartsResult");
    w.elem("Bucket", &ctx.bucket);
    w.elem("Key", &ctx.key);
    w.elem("UploadId", &up.upload_id);
    owner_xml(&mut w, "Initiator", &up.owner);
    owner_xml(&mut w, "Owner", &up.owner);
    w.elem("StorageClass", "STANDARD");
    w.elem("PartNumberMarker", &marker.to_string());
    w.elem(
        "NextPartNumberMarker",
        &shown.last().map_or(0, |p| p.number).to_string(),
    );
    w.elem("MaxParts", &max.to_string());
    w.elem("IsTruncated", if truncated { "true" } else { "false" });
    for p in shown {
        w.start("Part");
        w.elem("PartNumber", &p.number.to_string());
        w.elem(
            "LastModified",
            &s3cors_proto::http::iso8601(s3cors_store::record::from_millis(p.modified_ms)),
        );
        w.elem("ETag", &p.etag());
        w.elem("Size", &p.size.to_string());
        if let (Some(a), Some(c)) = (&up.checksum_algorithm, &p.checksum) {
            w.elem(&format!("Checksum{a}"), c);
        }
        w.end("Part");
    }
    w.end("ListPartsResult");
    Ok(response::xml(w.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_ranges() {
        assert_eq!(copy_range("bytes=0-9", 10).expect("ok"), (0, 9));
        assert_eq!(
            copy_range("bytes=0-10", 10).unwrap_err().code(),
            S3ErrorCode::InvalidRange
        );
        assert_eq!(
            copy_range("bytes=5-1", 10).unwrap_err().code(),
            S3ErrorCode::InvalidArgument
        );
        assert_eq!(
            copy_range("0-1", 10).unwrap_err().code(),
            S3ErrorCode::InvalidArgument
        );
    }
}
