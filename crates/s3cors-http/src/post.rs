//! POST Object: browser form uploads (`multipart/form-data` to the bucket URL).
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html> and
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-UsingHTTPPOST.html>. The form carries its own
//! credentials: a SigV4 (`x-amz-credential`, `x-amz-date`, `x-amz-signature`) or SigV2
//! (`AWSAccessKeyId`, `signature`) signature over the base64 `policy` field, whose conditions every
//! field must meet. Without credentials the upload is anonymous and needs a grant. The file streams
//! into the store; nothing is stored when anything fails.

use std::time::SystemTime;

use axum::body::Body;
use axum::response::Response;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::StatusCode;
use s3cors_proto::checksum::ChecksumAlgorithm;
use s3cors_proto::post_policy::PostPolicy;
use s3cors_proto::sigv4::{self, parse_credential};
use s3cors_proto::xml::XmlWriter;
use s3cors_proto::{Op, S3Error, S3ErrorCode};
use s3cors_store::{ObjectMeta, WriteCondition};

use crate::auth::Caller;
use crate::body::{MAX_SINGLE_PUT, store_field};
use crate::object::{checksum_headers, new_object};
use crate::response::{self, set_header};
use crate::service::{Ctx, blocking};

/// The most bytes of form fields before the file.
const MAX_FIELDS: usize = 64 * 1024;

fn bad(message: &str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidArgument, message.to_owned())
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Verifies the form's signature over its policy; `None` when the form carries no credentials.
fn form_caller(ctx: &Ctx, fields: &[(String, String)]) -> Result<Option<Caller>, S3Error> {
    let policy = field(fields, "policy");
    if let Some(credential) = field(fields, "x-amz-credential") {
        if field(fields, "x-amz-algorithm") != Some("AWS4-HMAC-SHA256") {
            return Err(bad("Only AWS4-HMAC-SHA256 is supported in x-amz-algorithm"));
        }
        let c = parse_credential(credential)?;
        let acct = crate::auth::account(&ctx.app.config, c.access_key_id)?;
        let policy = policy.ok_or_else(|| bad("Bucket POST must contain a field named 'policy'."))?;
        let signature = field(fields, "x-amz-signature").unwrap_or("");
        let expected = sigv4::signing_key(&acct.secret_access_key, &c).sign(policy);
        if !sigv4::signatures_equal(&expected, signature) {
            return Err(S3Error::new(S3ErrorCode::SignatureDoesNotMatch));
        }
        return Ok(Some(Caller {
            account_id: Some(acct.id.clone()),
        }));
    }
    if let Some(akid) = field(fields, "awsaccesskeyid") {
        let acct = crate::auth::account(&ctx.app.config, akid)?;
        let policy = policy.ok_or_else(|| bad("Bucket POST must contain a field named 'policy'."))?;
        let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(acct.secret_access_key.as_bytes())
            .unwrap_or_else(|_| unreachable!());
        mac.update(policy.as_bytes());
        let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        if !sigv4::signatures_equal(&expected, field(fields, "signature").unwrap_or("")) {
            return Err(S3Error::new(S3ErrorCode::SignatureDoesNotMatch));
        }
        return Ok(Some(Caller {
            account_id: Some(acct.id.clone()),
        }));
    }
    Ok(None)
}

fn meta_of(fields: &[(String, String)]) -> Result<ObjectMeta, S3Error> {
    let get = |n: &str| field(fields, n).map(str::to_owned);
    let user: Vec<(String, String)> = fields
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("x-amz-meta-").map(|n| (n.to_owned(), v.clone())))
        .collect();
    if user.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>() > 2048 {
        return Err(S3Error::new(S3ErrorCode::MetadataTooLarge));
    }
    Ok(ObjectMeta {
        content_type: get("content-type"),
        content_encoding: get("content-encoding"),
        content_disposition: get("content-disposition"),
        content_language: get("content-language"),
        cache_control: get("cache-control"),
        expires: get("expires"),
        user,
    })
}

pub(crate) async fn post_object(ctx: &Ctx, body: Body) -> Result<Response, S3Error> {
    let bucket = ctx.app.store.bucket(&ctx.bucket)?;
    let content_type = ctx.header("content-type").unwrap_or("");
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        S3Error::with_message(
            S3ErrorCode::PreconditionFailed,
            "Bucket POST must be of the enclosure-type multipart/form-data",
        )
        .with_element(
            "Condition",
            "Bucket POST must be of the enclosure-type multipart/form-data",
        )
    })?;
    let constraints =
        multer::Constraints::new().size_limit(multer::SizeLimit::new().per_field(MAX_SINGLE_PUT));
    let mut form = multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut fields_len = 0usize;
    let mut file = None;
    while let Some(f) = form
        .next_field()
        .await
        .map_err(|_| S3Error::new(S3ErrorCode::MalformedPOSTRequest))?
    {
        let name = f.name().unwrap_or("").to_ascii_lowercase();
        if name == "file" {
            file = Some(f);
            break;
        }
        let value = f
            .text()
            .await
            .map_err(|_| S3Error::new(S3ErrorCode::MalformedPOSTRequest))?;
        fields_len += name.len() + value.len();
        if fields_len > MAX_FIELDS {
            return Err(S3Error::new(S3ErrorCode::MaxPostPreDataLengthExceededError));
        }
        if fields.iter().any(|(k, _)| *k == name) {
            return Err(bad(&format!(
                "Bucket POST may not contain a field named '{name}' more than once"
            )));
        }
        fields.push((name, value));
    }
    let mut file = file.ok_or_else(|| bad("Bucket POST must contain a file field."))?;
    // The policy's `bucket` condition is checked against the bucket of the URL.
    match field(&fields, "bucket") {
        Some(b) if b != ctx.bucket => return Err(S3Error::new(S3ErrorCode::AccessDenied)),
        Some(_) => {}
        None => fields.push(("bucket".to_owned(), ctx.bucket.clone())),
    }
    let filename = file.file_name().unwrap_or("").to_owned();
    let key_template = field(&fields, "key").ok_or_else(|| bad("Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields."))?;
    let key = key_template.replace("${filename}", &filename);
    s3cors_proto::names::validate_key(&key)?;
    if let Some((_, v)) = fields.iter_mut().find(|(k, _)| k == "key") {
        *v = key.clone();
    }
    // Who is uploading, and may they?
    let caller = match form_caller(ctx, &fields)? {
        Some(c) => c,
        None => Caller { account_id: None },
    };
    let policy = match field(&fields, "policy") {
        Some(p) => Some(PostPolicy::decode(p)?),
        None if caller.account_id.is_some() => {
            return Err(bad("Bucket POST must contain a field named 'policy'."));
        }
        None => None,
    };
    if let Some(p) = &policy {
        p.check(&fields, SystemTime::now())?;
    }
    crate::access::authorize(
        &ctx.app.store,
        &ctx.app.policies,
        &caller,
        Op::PostObject,
        Some(&ctx.bucket),
        Some(&key),
    )?;
    let acl = field(&fields, "acl").map_or(
        Ok(s3cors_proto::access::CannedAcl::Private),
        s3cors_proto::access::CannedAcl::parse,
    )?;
    let meta = meta_of(&fields)?;
    let declared = ChecksumAlgorithm::ALL
        .into_iter()
        .find_map(|a| field(&fields, a.header()).map(|v| (a, v)));
    let algo = declared.map_or(ChecksumAlgorithm::Crc64Nvme, |(a, _)| a);
    let (min, max) = policy
        .as_ref()
        .and_then(|p| p.length_range)
        .unwrap_or((0, MAX_SINGLE_PUT));
    let blob = store_field(&ctx.app.store, &mut file, max.min(MAX_SINGLE_PUT), algo).await?;
    let discard = |e: S3Error| {
        ctx.app.store.discard_blob(&blob.id);
        e
    };
    if blob.size < min {
        return Err(discard(
            S3Error::new(S3ErrorCode::EntityTooSmall)
                .with_element("ProposedSize", blob.size.to_string())
                .with_element("MinSizeAllowed", min.to_string()),
        ));
    }
    if let Some((a, v)) = declared {
        let expected = a.decode(v).map_err(discard)?;
        if blob.checksum.as_ref().is_some_and(|(_, d)| *d != expected) {
            return Err(discard(a.mismatch()));
        }
    }
    let new = new_object(blob, meta, acl.as_str().to_owned());
    let (store, bucket_name, k) = (ctx.app.store.clone(), ctx.bucket.clone(), key.clone());
    let rec = blocking(&ctx.app.store, move || {
        Ok(store.put_object(&bucket_name, &k, new, &WriteCondition::default())?)
    })
    .await?;
    let host = ctx.header("host").unwrap_or("localhost");
    let location = format!("http://{host}/{}/{}", bucket.name, encode(&key));
    if let Some(redirect) = field(&fields, "success_action_redirect").or_else(|| field(&fields, "redirect")) {
        let sep = if redirect.contains('?') { '&' } else { '?' };
        let target = format!(
            "{redirect}{sep}bucket={}&key={}&etag={}",
            encode(&bucket.name),
            encode(&key),
            encode(&rec.etag)
        );
        let mut resp = response::empty(StatusCode::SEE_OTHER);
        set_header(&mut resp, "location", &target);
        set_header(&mut resp, "etag", &rec.etag);
        return Ok(resp);
    }
    let mut resp = match field(&fields, "success_action_status") {
        Some("200") => response::empty(StatusCode::OK),
        Some("201") => {
            let mut w = XmlWriter::new();
            w.start("PostResponse");
            w.elem("Location", &location);
            w.elem("Bucket", &bucket.name);
            w.elem("Key", &key);
            w.elem("ETag", &rec.etag);
            w.end("PostResponse");
            let mut r = response::xml(w.finish());
            *r.status_mut() = StatusCode::CREATED;
            r
        }
        _ => response::empty(StatusCode::NO_CONTENT),
    };
    set_header(&mut resp, "etag", &rec.etag);
    set_header(&mut resp, "location", &location);
    if let Some(c) = &rec.checksum {
        checksum_headers(&mut resp, c);
    }
    Ok(resp)
}

/// Percent-encodes all but the unreserved characters of RFC 3986.
fn encode(s: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}
