//! ACLs and bucket policies: GetBucketAcl, PutBucketAcl, GetObjectAcl, PutObjectAcl,
//! GetBucketPolicy, PutBucketPolicy, DeleteBucketPolicy.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketAcl.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketPolicy.html>. ACLs are the canned
//! ones (`x-amz-acl`, or an `AccessControlPolicy` body whose grants are those of a canned ACL); grants
//! to individual accounts answer `501 NotImplemented`.

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode};
use s3cors_proto::access::{CannedAcl, Policy};
use s3cors_proto::xml::{self, XmlWriter};
use s3cors_proto::{S3Error, S3ErrorCode};

use crate::body::Checksum;
use crate::response;
use crate::service::{Ctx, blocking, canonical_id, no_content};

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

fn acl_document(owner: &str, acl: CannedAcl) -> String {
    let mut w = XmlWriter::new();
    w.start_root("AccessControlPolicy");
    w.start("Owner");
    w.elem("ID", &canonical_id(owner));
    w.elem("DisplayName", owner);
    w.end("Owner");
    w.start("AccessControlList");
    w.raw(&format!(
        "<Grant><Grantee xmlns:xsi=\"{XSI}\" xsi:type=\"CanonicalUser\">"
    ));
    w.elem("ID", &canonical_id(owner));
    w.elem("DisplayName", owner);
    w.raw("</Grantee><Permission>FULL_CONTROL</Permission></Grant>");
    for (uri, permission) in acl.group_grants() {
        w.raw(&format!(
            "<Grant><Grantee xmlns:xsi=\"{XSI}\" xsi:type=\"Group\">"
        ));
        w.elem("URI", uri);
        w.raw("</Grantee>");
        w.elem("Permission", permission);
        w.raw("</Grant>");
    }
    w.end("AccessControlList");
    w.end("AccessControlPolicy");
    w.finish()
}

/// The canned ACL an `AccessControlPolicy` body amounts to.
fn canned_from_body(body: &[u8], owner: &str) -> Result<CannedAcl, S3Error> {
    let malformed = || S3Error::new(S3ErrorCode::MalformedACLError);
    let root = xml::parse(body).map_err(|_| malformed())?;
    if root.name != "AccessControlPolicy" {
        return Err(malformed());
    }
    let mut groups: Vec<(String, String)> = Vec::new();
    let list = root.child("AccessControlList").ok_or_else(malformed)?;
    for grant in list.children_named("Grant") {
        let grantee = grant.child("Grantee").ok_or_else(malformed)?;
        let permission = grant.child_text("Permission").unwrap_or("").to_owned();
        match (grantee.child_text("URI"), grantee.child_text("ID")) {
            (Some(uri), _) => groups.push((uri.to_owned(), permission)),
            (None, Some(id)) if id == canonical_id(owner) && permission == "FULL_CONTROL" => {}
            _ => {
                return Err(S3Error::with_message(
                    S3ErrorCode::NotImplemented,
                    "Grants to individual accounts are not implemented; use a canned ACL",
                ));
            }
        }
    }
    groups.sort();
    for acl in [
        CannedAcl::Private,
        CannedAcl::PublicRead,
        CannedAcl::PublicReadWrite,
        CannedAcl::AuthenticatedRead,
    ] {
        let mut expected: Vec<(String, String)> = acl
            .group_grants()
            .iter()
            .map(|(u, p)| ((*u).to_owned(), (*p).to_owned()))
            .collect();
        expected.sort();
        if expected == groups {
            return Ok(acl);
        }
    }
    Err(S3Error::with_message(
        S3ErrorCode::NotImplemented,
        "Only the grants of a canned ACL are implemented",
    ))
}

/// The ACL a PutBucketAcl/PutObjectAcl asks for: the `x-amz-acl` header or the body.
async fn requested_acl(ctx: &Ctx, body: Body, owner: &str) -> Result<CannedAcl, S3Error> {
    if let Some(v) = ctx.header("x-amz-acl") {
        return CannedAcl::parse(v);
    }
    let body = ctx
        .read_body(body, ctx.app.config.limits.max_xml_bytes, Checksum::Optional)
        .await?;
    if body.is_empty() {
        return Err(S3Error::with_message(
            S3ErrorCode::MissingSecurityHeader,
            "Your request was missing a required header",
        )
        .with_element("MissingHeaderName", "x-amz-acl"));
    }
    canned_from_body(&body, owner)
}

/// The `x-amz-acl` of a request that creates something; private by default.
pub(crate) fn acl_header(ctx: &Ctx) -> Result<CannedAcl, S3Error> {
    ctx.header(&crate::names::X_AMZ_ACL)
        .map_or(Ok(CannedAcl::Private), CannedAcl::parse)
}

pub(crate) fn get_bucket_acl(ctx: &Ctx) -> Result<Response, S3Error> {
    let b = ctx.app.store.bucket(&ctx.bucket)?;
    Ok(response::xml(acl_document(
        &b.owner,
        CannedAcl::parse(&b.acl).unwrap_or_default(),
    )))
}

pub(crate) async fn put_bucket_acl(ctx: &Ctx, body: Body) -> Result<Response, S3Error> {
    let b = ctx.app.store.bucket(&ctx.bucket)?;
    let acl = requested_acl(ctx, body, &b.owner).await?;
    let (store, bucket) = (ctx.app.store.clone(), ctx.bucket.clone());
    blocking(&ctx.app.store, move || {
        Ok(store.set_bucket_acl(&bucket, acl.as_str())?)
    })
    .await?;
    Ok(response::empty(StatusCode::OK))
}

pub(crate) fn get_object_acl(ctx: &Ctx) -> Result<Response, S3Error> {
    let b = ctx.app.store.bucket(&ctx.bucket)?;
    let o = ctx.app.store.object(&ctx.bucket, &ctx.key)?;
    Ok(response::xml(acl_document(
        &b.owner,
        CannedAcl::parse(&o.acl).unwrap_or_default(),
    )))
}

pub(crate) async fn put_object_acl(ctx: &Ctx, body: Body) -> Result<Response, S3Error> {
    let b = ctx.app.store.bucket(&ctx.bucket)?;
    ctx.app.store.object(&ctx.bucket, &ctx.key)?;
    let acl = requested_acl(ctx, body, &b.owner).await?;
    let (store, bucket, key) = (ctx.app.store.clone(), ctx.bucket.clone(), ctx.key.clone());
    blocking(&ctx.app.store, move || {
        Ok(store.set_object_acl(&bucket, &key, acl.as_str())?)
    })
    .await?;
    Ok(response::empty(StatusCode::OK))
}

pub(crate) fn get_policy(ctx: &Ctx) -> Result<Response, S3Error> {
    ctx.app.store.bucket(&ctx.bucket)?;
    let text = ctx.app.store.policy(&ctx.bucket)?.ok_or_else(|| {
        S3Error::new(S3ErrorCode::NoSuchBucketPolicy).with_element("BucketName", ctx.bucket.clone())
    })?;
    let mut resp = Response::new(Body::from(text));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

pub(crate) async fn put_policy(ctx: &Ctx, body: Body) -> Result<Response, S3Error> {
    ctx.app.store.bucket(&ctx.bucket)?;
    let body = ctx.read_body(body, 20 * 1024, Checksum::Optional).await?;
    let policy = Policy::parse(&body, &ctx.bucket)?;
    let text = String::from_utf8(body.to_vec()).map_err(|_| S3Error::new(S3ErrorCode::MalformedPolicy))?;
    let (app, bucket) = (ctx.app.clone(), ctx.bucket.clone());
    blocking(&ctx.app.store, move || {
        app.store.put_policy(&bucket, &text)?;
        app.policies.set(&bucket, Some(policy));
        Ok(())
    })
    .await?;
    Ok(no_content())
}

pub(crate) async fn delete_policy(ctx: &Ctx) -> Result<Response, S3Error> {
    let (app, bucket) = (ctx.app.clone(), ctx.bucket.clone());
    blocking(&ctx.app.store, move || {
        app.store.delete_policy(&bucket)?;
        app.policies.set(&bucket, None);
        Ok(())
    })
    .await?;
    Ok(no_content())
}
