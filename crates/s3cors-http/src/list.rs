//! Listing: ListObjects (v1), ListObjectsV2 and ListMultipartUploads.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html>.

use axum::response::Response;
use base64::Engine as _;
use s3cors_proto::S3Error;
use s3cors_proto::xml::XmlWriter;
use s3cors_store::{ListParams, Listed, ObjectRecord};

use crate::response;
use crate::service::{Ctx, owner_xml};

const MAX_KEYS: usize = 1000;

/// Characters S3 leaves alone under `encoding-type=url`.
const URL_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

fn max_param(ctx: &Ctx, name: &'static str) -> Result<usize, S3Error> {
    match ctx.query.get(name) {
        None => Ok(MAX_KEYS),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 0 => Ok((n as u64).min(MAX_KEYS as u64) as usize),
            _ => Err(S3Error::invalid_argument(
                format!("Provided {name} not an integer or within integer range"),
                name,
                v,
            )),
        },
    }
}

/// Writes names plainly or URL-encoded, per `encoding-type`.
struct Names {
    url: bool,
}

impl Names {
    fn from(ctx: &Ctx) -> Result<Self, S3Error> {
        match ctx.query.get("encoding-type") {
            None => Ok(Names { url: false }),
            Some(v) if v.eq_ignore_ascii_case("url") => Ok(Names { url: true }),
            Some(v) => Err(S3Error::invalid_argument(
                "Invalid Encoding Method specified in Request",
                "encoding-type",
                v,
            )),
        }
    }

    fn elem(&self, w: &mut XmlWriter, tag: &str, value: &str) {
        if self.url {
            w.elem(
                tag,
                &percent_encoding::utf8_percent_encode(value, URL_ENCODE).to_string(),
            );
        } else {
            w.elem(tag, value);
        }
    }

    fn header(&self, w: &mut XmlWriter) {
        if self.url {
            w.elem("EncodingType", "url");
        }
    }
}

fn contents(w: &mut XmlWriter, names: &Names, key: &str, rec: &ObjectRecord, owner: Option<&str>) {
    w.start("Contents");
    names.elem(w, "Key", key);
    w.elem("LastModified", &s3cors_proto::http::iso8601(rec.modified()));
    w.elem("ETag", &rec.etag);
    w.elem("Size", &rec.size.to_string());
    if let Some(owner) = owner {
        owner_xml(w, "Owner", owner);
    }
    w.elem("StorageClass", "STANDARD");
    w.end("Contents");
}

fn prefixes<V>(w: &mut XmlWriter, names: &Names, items: &[Listed<V>]) {
    for item in items {
        if let Listed::Prefix(p) = item {
            w.start("CommonPrefixes");
            names.elem(w, "Prefix", p);
            w.end("CommonPrefixes");
        }
    }
}

fn params(ctx: &Ctx, after: Option<String>, max: usize) -> ListParams {
    ListParams {
        prefix: ctx.query.get("prefix").unwrap_or("").to_owned(),
        delimiter: ctx
            .query
            .get("delimiter")
            .filter(|d| !d.is_empty())
            .map(str::to_owned),
        after,
        max,
    }
}

pub(crate) fn objects_v1(ctx: &Ctx) -> Result<Response, S3Error> {
    let names = Names::from(ctx)?;
    let bucket_owner = ctx.app.store.bucket(&ctx.bucket)?.owner.clone();
    let max = max_param(ctx, "max-keys")?;
    let marker = ctx
        .query
        .get("marker")
        .filter(|m| !m.is_empty())
        .map(str::to_owned);
    let p = params(ctx, marker.clone(), max);
    let page = ctx.app.store.list_objects(&ctx.bucket, &p)?;
    let mut w = XmlWriter::new();
    w.start_root("ListBucketResult");
    w.elem("Name", &ctx.bucket);
    // ListObjects (v1) never encodes Prefix, unlike V2.
    w.elem("Prefix", &p.prefix);
    names.elem(&mut w, "Marker", marker.as_deref().unwrap_or(""));
    if page.truncated
        && p.delimiter.is_some()
        && let Some(last) = page.items.last()
    {
        names.elem(&mut w, "NextMarker", last.name());
    }
    w.elem("MaxKeys", &max.to_string());
    if let Some(d) = &p.delimiter {
        names.elem(&mut w, "Delimiter", d);
    }
    names.header(&mut w);
    w.elem("IsTruncated", if page.truncated { "true" } else { "false" });
    for item in &page.items {
        if let Listed::Entry(key, rec) = item {
            contents(&mut w, &names, key, rec, Some(&bucket_owner));
        }
    }
    prefixes(&mut w, &names, &page.items);
    w.end("ListBucketResult");
    Ok(response::xml(w.finish()))
}

pub(crate) fn decode_token(token: &str) -> Result<String, S3Error> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "The continuation token provided is incorrect",
                "continuation-token",
                token,
            )
        })
}

/// The continuation token naming the last item of a page.
pub(crate) fn encode_token(last: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last)
}

pub(crate) fn objects_v2(ctx: &Ctx) -> Result<Response, S3Error> {
    let names = Names::from(ctx)?;
    let max = max_param(ctx, "max-keys")?;
    let token = ctx.query.get("continuation-token");
    let start_after = ctx.query.get("start-after").filter(|s| !s.is_empty());
    let after = match token {
        Some(t) => Some(decode_token(t)?),
        None => start_after.map(str::to_owned),
    };
    let p = params(ctx, after, max);
    let page = ctx.app.store.list_objects(&ctx.bucket, &p)?;
    let fetch_owner = ctx.query.get("fetch-owner") == Some("true");
    let mut w = XmlWriter::new();
    w.start_root("ListBucketResult");
    w.elem("Name", &ctx.bucket);
    names.elem(&mut w, "Prefix", &p.prefix);
    if let Some(t) = token {
        w.elem("ContinuationToken", t);
    }
    if page.truncated
        && let Some(last) = page.items.last()
    {
        w.elem("NextContinuationToken", &encode_token(last.name()));
    }
    w.elem("KeyCount", &page.items.len().to_string());
    w.elem("MaxKeys", &max.to_string());
    if let Some(d) = &p.delimiter {
        names.elem(&mut w, "Delimiter", d);
    }
    if let Some(s) = start_after {
        names.elem(&mut w, "StartAfter", s);
    }
    names.header(&mut w);
    w.elem("IsTruncated", if page.truncated { "true" } else { "false" });
    let bucket_owner = ctx.app.store.bucket(&ctx.bucket)?.owner.clone();
    let owner = fetch_owner.then_some(bucket_owner.as_str());
    for item in &page.items {
        if let Listed::Entry(key, rec) = item {
            contents(&mut w, &names, key, rec, owner);
        }
    }
    prefixes(&mut w, &names, &page.items);
    w.end("ListBucketResult");
    Ok(response::xml(w.finish()))
}

pub(crate) fn uploads(ctx: &Ctx) -> Result<Response, S3Error> {
    let names = Names::from(ctx)?;
    let max = max_param(ctx, "max-uploads")?;
    let key_marker = ctx.query.get("key-marker").filter(|s| !s.is_empty());
    let id_marker = ctx
        .query
        .get("upload-id-marker")
        .filter(|s| !s.is_empty() && key_marker.is_some());
    let p = params(ctx, key_marker.map(str::to_owned), max);
    let page = ctx.app.store.list_uploads(&ctx.bucket, &p, id_marker)?;
    let mut w = XmlWriter::new();
    w.start_root("ListMultipartUploadsResult");
    w.elem("Bucket", &ctx.bucket);
    names.elem(&mut w, "KeyMarker", key_marker.unwrap_or(""));
    w.elem("UploadIdMarker", id_marker.unwrap_or(""));
    let (next_key, next_id) = match page.items.last() {
        Some(Listed::Entry(key, rec)) if page.truncated => (key.as_str(), rec.upload_id.as_str()),
        Some(Listed::Prefix(p)) if page.truncated => (p.as_str(), ""),
        _ => ("", ""),
    };
    names.elem(&mut w, "NextKeyMarker", next_key);
    w.elem("NextUploadIdMarker", next_id);
    if let Some(d) = &p.delimiter {
        names.elem(&mut w, "Delimiter", d);
    }
    names.elem(&mut w, "Prefix", &p.prefix);
    w.elem("MaxUploads", &max.to_string());
    names.header(&mut w);
    w.elem("IsTruncated", if page.truncated { "true" } else { "false" });
    for item in &page.items {
        if let Listed::Entry(key, rec) = item {
            w.start("Upload");
            names.elem(&mut w, "Key", key);
            w.elem("UploadId", &rec.upload_id);
            owner_xml(&mut w, "Initiator", &rec.owner);
            owner_xml(&mut w, "Owner", &rec.owner);
            w.elem("StorageClass", "STANDARD");
            w.elem(
                "Initiated",
                &s3cors_proto::http::iso8601(s3cors_store::record::from_millis(rec.initiated_ms)),
            );
            w.end("Upload");
        }
    }
    prefixes(&mut w, &names, &page.items);
    w.end("ListMultipartUploadsResult");
    Ok(response::xml(w.finish()))
}
