//! Who is calling.
//!
//! For now s3cors reads the access key id a request is signed with — SigV4 header or presigned URL, or
//! the legacy SigV2 forms boto3 still uses for presigned URLs (`AWSAccessKeyId=…&Signature=…`) — and
//! accepts the default account's key without verifying the signature; anonymous requests are denied.
//! Signature verification replaces [`authenticate`]'s body, not its callers.

use http::HeaderMap;
use s3cors_proto::sigv4::{parse_authorization, parse_presigned};
use s3cors_proto::{Query, S3Error, S3ErrorCode};

use crate::Config;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    /// The caller's account id.
    pub(crate) account_id: String,
}

/// Identifies the caller of a request.
pub(crate) fn authenticate(config: &Config, headers: &HeaderMap, query: &Query) -> Result<Caller, S3Error> {
    let access_key_id = match headers.get(http::header::AUTHORIZATION) {
        Some(v) => {
            let v = v
                .to_str()
                .map_err(|_| S3Error::new(S3ErrorCode::AuthorizationHeaderMalformed))?;
            match v.strip_prefix("AWS ").and_then(|rest| rest.split_once(':')) {
                Some((akid, _signature)) => akid.to_owned(),
                None => parse_authorization(v)?.credential.access_key_id,
            }
        }
        None => match (parse_presigned(query)?, query.get("AWSAccessKeyId")) {
            (Some(claim), _) => claim.credential.access_key_id,
            (None, Some(akid)) if query.has("Signature") => akid.to_owned(),
            _ => return Err(S3Error::new(S3ErrorCode::AccessDenied)),
        },
    };
    if access_key_id != config.access_key_id {
        return Err(
            S3Error::new(S3ErrorCode::InvalidAccessKeyId).with_element("AWSAccessKeyId", access_key_id)
        );
    }
    Ok(Caller {
        account_id: config.account_id.clone(),
    })
}
