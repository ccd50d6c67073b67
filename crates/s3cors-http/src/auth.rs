//! Who is calling.
//!
//! For now s3cors reads the access key id a request is signed with (header or presigned URL) and
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
    let claim = match headers.get(http::header::AUTHORIZATION) {
        Some(v) => {
            let v = v
                .to_str()
                .map_err(|_| S3Error::new(S3ErrorCode::AuthorizationHeaderMalformed))?;
            parse_authorization(v)?
        }
        None => match parse_presigned(query)? {
            Some(claim) => claim,
            None => return Err(S3Error::new(S3ErrorCode::AccessDenied)),
        },
    };
    if claim.credential.access_key_id != config.access_key_id {
        return Err(S3Error::new(S3ErrorCode::InvalidAccessKeyId)
            .with_element("AWSAccessKeyId", claim.credential.access_key_id));
    }
    Ok(Caller {
        account_id: config.account_id.clone(),
    })
}
