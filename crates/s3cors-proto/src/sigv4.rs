//! Parsing of AWS Signature Version 4 credentials from a request.
//!
//! Implements the `Authorization` header form of
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html> and the
//! query form of <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>.
//! This module only reads what the request claims; verification builds on it.

use crate::error::{S3Error, S3ErrorCode};
use crate::query::Query;

/// The credential a request presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The access key id.
    pub access_key_id: String,
    /// `YYYYMMDD` of the credential scope.
    pub date: String,
    /// Region of the scope.
    pub region: String,
    /// Service of the scope (`s3`).
    pub service: String,
}

/// A SigV4 signature claim, from the header or the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureClaim {
    /// The credential.
    pub credential: Credential,
    /// Lower-case names of the signed headers.
    pub signed_headers: Vec<String>,
    /// Hex signature.
    pub signature: String,
    /// Whether it came from the query string (presigned URL).
    pub presigned: bool,
}

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

fn malformed(msg: &'static str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidArgument, msg)
}

/// Parses `AKID/DATE/REGION/SERVICE/aws4_request`.
pub fn parse_credential(value: &str) -> Result<Credential, S3Error> {
    let parts: Vec<&str> = value.split('/').collect();
    match parts.as_slice() {
        [akid, date, region, service, "aws4_request"] if !akid.is_empty() => Ok(Credential {
            access_key_id: (*akid).to_owned(),
            date: (*date).to_owned(),
            region: (*region).to_owned(),
            service: (*service).to_owned(),
        }),
        _ => Err(S3Error::with_message(
            S3ErrorCode::AuthorizationHeaderMalformed,
            "The authorization header is malformed; the Credential is mal-formed; expecting \
             \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
        )),
    }
}

/// Parses an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header.
pub fn parse_authorization(header: &str) -> Result<SignatureClaim, S3Error> {
    let Some(rest) = header.trim().strip_prefix(ALGORITHM) else {
        if header.starts_with("AWS ") {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
            ));
        }
        return Err(malformed("Unsupported Authorization Type"));
    };
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        match k {
            "Credential" => credential = Some(parse_credential(v)?),
            "SignedHeaders" => signed_headers = Some(v.split(';').map(str::to_owned).collect()),
            "Signature" => signature = Some(v.to_owned()),
            _ => {}
        }
    }
    let missing = || {
        S3Error::with_message(
            S3ErrorCode::AuthorizationHeaderMalformed,
            "The authorization header is malformed; it must contain Credential, SignedHeaders and Signature.",
        )
    };
    Ok(SignatureClaim {
        credential: credential.ok_or_else(missing)?,
        signed_headers: signed_headers.ok_or_else(missing)?,
        signature: signature.ok_or_else(missing)?,
        presigned: false,
    })
}

/// Parses the `X-Amz-*` parameters of a presigned URL; `None` when the query carries no signature.
pub fn parse_presigned(query: &Query) -> Result<Option<SignatureClaim>, S3Error> {
    let Some(algorithm) = query.get("X-Amz-Algorithm") else {
        return Ok(None);
    };
    if algorithm != ALGORITHM {
        return Err(malformed("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""));
    }
    let get = |name: &'static str| {
        query.get(name).ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::AuthorizationQueryParametersError,
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, \
                 X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
            )
        })
    };
    Ok(Some(SignatureClaim {
        credential: parse_credential(get("X-Amz-Credential")?)?,
        signed_headers: get("X-Amz-SignedHeaders")?
            .split(';')
            .map(str::to_owned)
            .collect(),
        signature: get("X-Amz-Signature")?.to_owned(),
        presigned: true,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The GET Object example of the AWS SigV4 header documentation.
    #[test]
    fn parses_aws_doc_authorization_header() {
        let claim = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,\
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,\
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        )
        .expect("valid");
        assert_eq!(claim.credential.access_key_id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(claim.credential.date, "20130524");
        assert_eq!(claim.credential.region, "us-east-1");
        assert_eq!(
            claim.signed_headers,
            ["host", "range", "x-amz-content-sha256", "x-amz-date"]
        );
        assert!(!claim.presigned);
    }

    /// The presigned URL example of the AWS query-string authentication documentation.
    #[test]
    fn parses_aws_doc_presigned_url() {
        let q = Query::parse(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
             &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
        )
        .expect("query");
        let claim = parse_presigned(&q).expect("valid").expect("present");
        assert_eq!(claim.credential.access_key_id, "AKIAIOSFODNN7EXAMPLE");
        assert!(claim.presigned);
        assert!(parse_presigned(&Query::default()).expect("ok").is_none());
    }

    #[test]
    fn malformed_claims() {
        assert!(parse_authorization("AWS4-HMAC-SHA256 Credential=a/b").is_err());
        assert!(parse_authorization("Bearer x").is_err());
        assert!(
            parse_authorization("AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request").is_err()
        );
        let q = Query::parse("X-Amz-Algorithm=AWS4-HMAC-SHA256").expect("query");
        assert!(parse_presigned(&q).is_err());
    }
}
