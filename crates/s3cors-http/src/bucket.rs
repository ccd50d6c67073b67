//! Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation,
//! GetBucketVersioning.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html> and its siblings.

use axum::body::Body;
use axum::response::Response;
use s3cors_proto::xml::XmlWriter;
use s3cors_proto::{S3Error, S3ErrorCode};

use crate::response::{self, set_header};
use crate::service::{Ctx, blocking, no_content, owner_xml};

const US_EAST_1: &str = "us-east-1";

pub(crate) fn list_buckets(ctx: &Ctx) -> Result<Response, S3Error> {
    let max = match ctx.query.get("max-buckets") {
        None => usize::MAX,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=10_000).contains(&n) => n,
            _ => {
                return Err(S3Error::invalid_argument(
                    "Max buckets must be between 1 and 10000",
                    "max-buckets",
                    v,
                ));
            }
        },
    };
    let after = ctx
        .query
        .get("continuation-token")
        .map(crate::list::decode_token)
        .transpose()?;
    let prefix = ctx.query.get("prefix").unwrap_or("");
    let region = ctx.query.get("bucket-region");
    let mut buckets = ctx.app.store.list_buckets()?.into_iter().filter(|b| {
        Some(&b.owner) == ctx.caller.account_id.as_ref()
            && b.name.starts_with(prefix)
            && after.as_deref().is_none_or(|a| b.name.as_str() > a)
            && region.is_none_or(|r| b.region == r)
    });
    let page: Vec<_> = buckets.by_ref().take(max).collect();
    let more = buckets.next().is_some();
    let mut w = XmlWriter::new();
    w.start_root("ListAllMyBucketsResult");
    w.start("Buckets");
    for b in &page {
        w.start("Bucket");
        w.elem("Name", &b.name);
        w.elem(
            "CreationDate",
            &s3cors_proto::http::iso8601(s3cors_store::record::from_millis(b.created_ms)),
        );
        w.elem("BucketRegion", &b.region);
        w.end("Bucket");
    }
    w.end("Buckets");
    owner_xml(&mut w, "Owner", &ctx.account());
    if more && let Some(last) = page.last() {
        w.elem("ContinuationToken", &crate::list::encode_token(&last.name));
    }
    if ctx.query.has("prefix") {
        w.elem("Prefix", prefix);
    }
    w.end("ListAllMyBucketsResult");
    Ok(response::xml(w.finish()))
}

/// The region a CreateBucket request asks for, checked against the endpoint's region as S3 does.
fn requested_region(constraint: Option<String>, endpoint_region: &str) -> Result<String, S3Error> {
    match constraint {
        None if endpoint_region == US_EAST_1 => Ok(US_EAST_1.to_owned()),
        None => Err(S3Error::new(S3ErrorCode::IllegalLocationConstraintException)),
        Some(c) if c == US_EAST_1 => {
            Err(S3Error::new(S3ErrorCode::InvalidLocationConstraint).with_element("LocationConstraint", c))
        }
        Some(c) if c == endpoint_region => Ok(c),
        Some(c) => Err(S3Error::with_message(
            S3ErrorCode::IllegalLocationConstraintException,
            format!(
                "The {c} location constraint is incompatible for the region specific endpoint this request was sent to."
            ),
        )),
    }
}

pub(crate) async fn create(ctx: &Ctx, body: Body) -> Result<Response, S3Error> {
    s3cors_proto::names::validate_bucket_name(&ctx.bucket)?;
    let body = ctx
        .read_body(
            body,
            ctx.app.config.limits.max_xml_bytes,
            crate::body::Checksum::Optional,
        )
        .await?;
    let constraint = s3cors_proto::docs::parse_create_bucket(&body)?;
    let region = requested_region(constraint, &ctx.app.config.region)?;
    let store = ctx.app.store.clone();
    let acl = crate::acl::acl_header(ctx)?;
    let (bucket, owner) = (ctx.bucket.clone(), ctx.account());
    match blocking(&ctx.app.store, move || {
        Ok(store.create_bucket(&bucket, &owner, &region, acl.as_str())?)
    })
    .await
    {
        Ok(_) => {}
        // In us-east-1, re-creating a bucket you own succeeds and changes nothing (S3's legacy
        // behaviour there); other regions answer 409 BucketAlreadyOwnedByYou.
        Err(e) if e.code() == S3ErrorCode::BucketAlreadyOwnedByYou && ctx.app.config.region == US_EAST_1 => {}
        Err(e) => return Err(e),
    }
    let mut resp = response::empty(http::StatusCode::OK);
    set_header(&mut resp, "location", &format!("/{}", ctx.bucket));
    Ok(resp)
}

pub(crate) fn head(ctx: &Ctx) -> Result<Response, S3Error> {
    let b = ctx.app.store.bucket(&ctx.bucket)?;
    let mut resp = response::empty(http::StatusCode::OK);
    set_header(&mut resp, "x-amz-bucket-region", &b.region);
    Ok(resp)
}

pub(crate) async fn delete(ctx: &Ctx) -> Result<Response, S3Error> {
    let (app, bucket) = (ctx.app.clone(), ctx.bucket.clone());
    blocking(&ctx.app.store, move || {
        app.cors.delete_bucket(&app.store, &bucket)?;
        app.policies.set(&bucket, None);
        Ok(())
    })
    .await?;
    Ok(no_content())
}

pub(crate) fn location(ctx: &Ctx) -> Result<Response, S3Error> {
    let b = ctx.app.store.bucket(&ctx.bucket)?;
    let mut w = XmlWriter::new();
    if b.region == US_EAST_1 {
        w.raw(&format!(
            "<LocationConstraint xmlns=\"{}\"/>",
            s3cors_proto::xml::S3_NS
        ));
    } else {
        w.start_root("LocationConstraint");
        w.text(&b.region);
        w.end("LocationConstraint");
    }
    Ok(response::xml(w.finish()))
}

pub(crate) fn versioning(ctx: &Ctx) -> Result<Response, S3Error> {
    ctx.app.store.bucket(&ctx.bucket)?;
    let mut w = XmlWriter::new();
    w.raw(&format!(
        "<VersioningConfiguration xmlns=\"{}\"/>",
        s3cors_proto::xml::S3_NS
    ));
    Ok(response::xml(w.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_constraints_follow_s3() {
        assert_eq!(requested_region(None, "us-east-1").expect("default"), "us-east-1");
        assert_eq!(
            requested_region(Some("eu-west-1".into()), "eu-west-1").expect("match"),
            "eu-west-1"
        );
        let code = |c: Option<&str>, r: &str| requested_region(c.map(str::to_owned), r).unwrap_err().code();
        assert_eq!(
            code(Some("us-east-1"), "us-east-1"),
            S3ErrorCode::InvalidLocationConstraint
        );
        assert_eq!(
            code(Some("eu-west-1"), "us-east-1"),
            S3ErrorCode::IllegalLocationConstraintException
        );
        assert_eq!(
            code(None, "eu-west-1"),
            S3ErrorCode::IllegalLocationConstraintException
        );
    }
}
