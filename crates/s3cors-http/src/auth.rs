//! Who is calling, proven: AWS Signature Version 4 (header and presigned URL) and the legacy
//! Signature Version 2 that boto3 still uses for presigned URLs.
//!
//! Implements <https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html>
//! and <https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html> (SigV2). The
//! canonicalisation and the signing are pure functions in `s3cors_proto::sigv4`; this module reads the
//! request, checks time and expiry, looks the key up and compares. Preflights never come here (the CORS
//! layer answers them first). For `aws-chunked` bodies signed chunk by chunk it hands the body reader a
//! [`ChunkSigning`] that verifies every chunk signature in the chain.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use std::borrow::Cow;

use http::HeaderMap;
use http::header::{AUTHORIZATION, AsHeaderName, DATE};
use s3cors_proto::sigv4::{self, CanonicalInput, Credential, parse_authorization, parse_presigned};
use s3cors_proto::{Query, S3Error, S3ErrorCode};

use crate::Config;
use crate::names::{X_AMZ_CONTENT_SHA256, X_AMZ_DATE};

/// The most a request's clock may differ from the server's (15 minutes).
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
/// The longest validity of a presigned URL (7 days).
const MAX_EXPIRES: u64 = 7 * 24 * 3600;

/// An account: its id and its key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// 12-digit account id.
    pub id: String,
    /// A display name.
    pub name: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Caller {
    /// The caller's account id; `None` for an anonymous (unsigned) request.
    pub(crate) account_id: Option<String>,
}

/// What verifying an `aws-chunked` body needs: the chain starts at the request signature.
#[derive(Debug, Clone)]
pub struct ChunkSigning {
    pub(crate) key: sigv4::SigningKey,
    pub(crate) scope: String,
    pub(crate) amz_date: String,
    pub(crate) seed: String,
}

/// The request facts authentication reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignedRequest<'a> {
    pub(crate) method: &'a str,
    pub(crate) raw_path: &'a str,
    pub(crate) raw_query: &'a str,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) query: &'a Query,
    /// The bucket, when the request is virtual-hosted (SigV2 signs it as part of the resource).
    pub(crate) vhost_bucket: Option<&'a str>,
}

impl SignedRequest<'_> {
    fn header(&self, name: impl AsHeaderName) -> Option<&str> {
        crate::names::header(self.headers, name)
    }
}

fn access_denied(message: &'static str) -> S3Error {
    S3Error::with_message(S3ErrorCode::AccessDenied, message)
}

/// The account of an access key, or `InvalidAccessKeyId`.
pub(crate) fn account<'c>(config: &'c Config, access_key_id: &str) -> Result<&'c Account, S3Error> {
    config
        .accounts
        .iter()
        .find(|a| a.access_key_id == access_key_id)
        .ok_or_else(|| {
            S3Error::new(S3ErrorCode::InvalidAccessKeyId)
                .with_element("AWSAccessKeyId", access_key_id.to_owned())
        })
}

fn skewed(request_time: &str, now: SystemTime) -> S3Error {
    S3Error::new(S3ErrorCode::RequestTimeTooSkewed)
        .with_element("RequestTime", request_time.to_owned())
        .with_element("ServerTime", s3cors_proto::http::iso8601(now))
        .with_element("MaxAllowedSkewMilliseconds", "900000")
}

fn check_skew(t: SystemTime, shown: &str, now: SystemTime) -> Result<(), S3Error> {
    let diff = now.duration_since(t).unwrap_or_else(|e| e.duration());
    if diff > MAX_SKEW {
        Err(skewed(shown, now))
    } else {
        Ok(())
    }
}

fn mismatch(access_key_id: &str, string_to_sign: &str, provided: &str, canonical: Option<&str>) -> S3Error {
    let bytes = |s: &str| {
        s.bytes()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut e = S3Error::new(S3ErrorCode::SignatureDoesNotMatch)
        .with_element("AWSAccessKeyId", access_key_id.to_owned())
        .with_element("StringToSign", string_to_sign.to_owned())
        .with_element("SignatureProvided", provided.to_owned())
        .with_element("StringToSignBytes", bytes(string_to_sign));
    if let Some(c) = canonical {
        e = e
            .with_element("CanonicalRequest", c.to_owned())
            .with_element("CanonicalRequestBytes", bytes(c));
    }
    e
}

/// The outcome of authentication.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated {
    pub(crate) caller: Caller,
    /// Boxed: rare, and a few hundred bytes that every request's future would otherwise carry.
    pub(crate) chunks: Option<Box<ChunkSigning>>,
}

/// Authenticates a request at `now`.
pub(crate) fn authenticate(
    config: &Config,
    req: &SignedRequest<'_>,
    now: SystemTime,
) -> Result<Authenticated, S3Error> {
    if let Some(auth) = req.header(AUTHORIZATION) {
        return match auth.strip_prefix("AWS ") {
            Some(v2) => sigv2_header(config, req, v2, now),
            None => sigv4(config, req, &parse_authorization(auth)?, now),
        };
    }
    if req.headers.contains_key(AUTHORIZATION) {
        return Err(S3Error::new(S3ErrorCode::AuthorizationHeaderMalformed));
    }
    if let Some(claim) = parse_presigned(req.query)? {
        return sigv4(config, req, &claim, now);
    }
    if req.query.has("AWSAccessKeyId") || req.query.has("Signature") {
        return sigv2_query(config, req, now);
    }
    // Anonymous: what it may do is for authorisation to decide.
    Ok(Authenticated {
        caller: Caller { account_id: None },
        chunks: None,
    })
}

fn sigv4(
    config: &Config,
    req: &SignedRequest<'_>,
    claim: &sigv4::SignatureClaim<'_>,
    now: SystemTime,
) -> Result<Authenticated, S3Error> {
    let c: &Credential<'_> = &claim.credential;
    let acct = account(config, c.access_key_id)?;
    if c.region != config.region {
        return Err(S3Error::with_message(
            S3ErrorCode::AuthorizationHeaderMalformed,
            format!(
                "The authorization header is malformed; the region '{}' is wrong; expecting '{}'",
                c.region, config.region
            ),
        )
        .with_element("Region", config.region.clone()));
    }
    if !claim.signed_headers.split(';').any(|h| h == "host") {
        return Err(access_denied(
            "There were headers present in the request which were not signed",
        ));
    }
    let (amz_date, payload_hash) = if claim.presigned {
        let date = req.query.get("X-Amz-Date").unwrap_or("");
        let t = sigv4::parse_amz_date(date).ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::AuthorizationQueryParametersError,
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
            )
        })?;
        let expires = req.query.get("X-Amz-Expires").unwrap_or("");
        let secs = match expires.parse::<i64>() {
            Ok(n) if n < 0 => {
                return Err(S3Error::with_message(
                    S3ErrorCode::AuthorizationQueryParametersError,
                    "X-Amz-Expires must be non-negative",
                ));
            }
            Ok(n) if n as u64 > MAX_EXPIRES => {
                return Err(S3Error::with_message(
                    S3ErrorCode::AuthorizationQueryParametersError,
                    "X-Amz-Expires must be less than a week (in seconds) that is 604800",
                ));
            }
            Ok(n) => n as u64,
            Err(_) => {
                return Err(S3Error::with_message(
                    S3ErrorCode::AuthorizationQueryParametersError,
                    "X-Amz-Expires should be a number",
                ));
            }
        };
        let expiry = t + Duration::from_secs(secs);
        if now > expiry {
            return Err(access_denied("Request has expired")
                .with_element("X-Amz-Expires", expires.to_owned())
                .with_element("Expires", s3cors_proto::http::iso8601(expiry))
                .with_element("ServerTime", s3cors_proto::http::iso8601(now)));
        }
        if t > now + MAX_SKEW {
            return Err(access_denied("Request is not valid yet"));
        }
        (
            Cow::Borrowed(date),
            req.header(&X_AMZ_CONTENT_SHA256).unwrap_or("UNSIGNED-PAYLOAD"),
        )
    } else {
        let (date, t) = match req.header(&X_AMZ_DATE) {
            Some(d) => (Cow::Borrowed(d), sigv4::parse_amz_date(d)),
            None => match req.header(DATE).and_then(s3cors_proto::http::parse_http_date) {
                Some(t) => (Cow::Owned(amz_date_of(t)), Some(t)),
                None => (Cow::Borrowed(""), None),
            },
        };
        let t =
            t.ok_or_else(|| access_denied("AWS authentication requires a valid Date or x-amz-date header"))?;
        check_skew(t, &date, now)?;
        let hash = req.header(&X_AMZ_CONTENT_SHA256).ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Missing required header for this request: x-amz-content-sha256",
            )
        })?;
        (date, hash)
    };
    if !amz_date.starts_with(c.date) {
        return Err(S3Error::with_message(
            S3ErrorCode::AuthorizationHeaderMalformed,
            "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.",
        ));
    }
    let input = CanonicalInput {
        method: req.method,
        raw_path: req.raw_path,
        raw_query: req.raw_query,
    };
    let header_values = |name: &str| {
        crate::names::get_all(req.headers, name)
            .into_iter()
            .filter_map(|v| v.to_str().ok())
    };
    let canonical = sigv4::canonical_request(&input, claim.signed_headers, header_values, payload_hash);
    let string_to_sign = sigv4::string_to_sign(&amz_date, c, &canonical);
    let key = cached_signing_key(&acct.secret_access_key, c);
    if !key.matches(&string_to_sign, claim.signature) {
        return Err(mismatch(
            c.access_key_id,
            &string_to_sign,
            claim.signature,
            Some(&canonical),
        ));
    }
    let chunks = payload_hash
        .starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
        .then(|| {
            Box::new(ChunkSigning {
                key,
                scope: sigv4::scope(c),
                amz_date: amz_date.into_owned(),
                seed: claim.signature.to_owned(),
            })
        });
    Ok(Authenticated {
        caller: Caller {
            account_id: Some(acct.id.clone()),
        },
        chunks,
    })
}

fn amz_date_of(t: SystemTime) -> String {
    let dt = time::OffsetDateTime::from(t);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// Sub-resources that are part of a SigV2 canonical resource.
const V2_SUBRESOURCES: &[&str] = &[
    "acl",
    "cors",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// Verifies a SigV2 signature. A bucket-only resource is accepted as `/bucket` and as `/bucket/`
/// (botocore signs the latter); on failure, the string to sign of the first form.
fn sigv2_verify(
    secret: &str,
    req: &SignedRequest<'_>,
    date_line: &str,
    provided: &str,
) -> Result<(), String> {
    let path = match req.vhost_bucket {
        Some(b) => format!("/{b}{}", req.raw_path),
        None => req.raw_path.to_owned(),
    };
    let bucket_only = path.len() > 1 && !path[1..].trim_end_matches('/').contains('/');
    let mut forms = vec![path.clone()];
    if bucket_only {
        let trimmed = path.trim_end_matches('/');
        forms = vec![trimmed.to_owned(), format!("{trimmed}/")];
    }
    let first = sigv2_string_to_sign(req, date_line, &forms[0]);
    for form in &forms {
        let sts = sigv2_string_to_sign(req, date_line, form);
        if sigv4::signatures_equal(&sigv2_sign(secret, &sts), provided) {
            return Ok(());
        }
    }
    Err(first)
}

fn sigv2_string_to_sign(req: &SignedRequest<'_>, date_line: &str, path: &str) -> String {
    let mut amz: Vec<(String, String)> = req
        .headers
        .iter()
        .filter(|(k, _)| k.as_str().starts_with("x-amz-"))
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).trim().to_owned(),
            )
        })
        .collect();
    amz.sort();
    let mut merged: Vec<(String, String)> = Vec::new();
    for (k, v) in amz {
        match merged.last_mut() {
            Some((lk, lv)) if *lk == k => {
                lv.push(',');
                lv.push_str(&v);
            }
            _ => merged.push((k, v)),
        }
    }
    let mut resource = path.to_owned();
    let mut subs: Vec<(&str, &str)> = req
        .query
        .pairs()
        .filter(|(k, _)| V2_SUBRESOURCES.contains(k))
        .collect();
    subs.sort();
    for (i, (k, v)) in subs.iter().enumerate() {
        resource.push(if i == 0 { '?' } else { '&' });
        resource.push_str(k);
        if !v.is_empty() {
            resource.push('=');
            resource.push_str(v);
        }
    }
    let mut s = format!(
        "{}\n{}\n{}\n{date_line}\n",
        req.method,
        req.header("content-md5").unwrap_or(""),
        req.header("content-type").unwrap_or("")
    );
    for (k, v) in merged {
        s.push_str(&format!("{k}:{v}\n"));
    }
    s.push_str(&resource);
    s
}

fn sigv2_sign(secret: &str, string_to_sign: &str) -> String {
    let mut mac =
        <Hmac<sha1::Sha1> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn sigv2_header(
    config: &Config,
    req: &SignedRequest<'_>,
    v2: &str,
    now: SystemTime,
) -> Result<Authenticated, S3Error> {
    let (akid, signature) = v2
        .split_once(':')
        .ok_or_else(|| S3Error::new(S3ErrorCode::AuthorizationHeaderMalformed))?;
    let acct = account(config, akid)?;
    let (date_line, t) = match (req.header(&X_AMZ_DATE), req.header(DATE)) {
        (Some(d), _) => (
            "",
            s3cors_proto::http::parse_http_date(d).or_else(|| sigv4::parse_amz_date(d)),
        ),
        (None, Some(d)) => (d, s3cors_proto::http::parse_http_date(d)),
        (None, None) => ("", None),
    };
    let t =
        t.ok_or_else(|| access_denied("AWS authentication requires a valid Date or x-amz-date header"))?;
    check_skew(t, date_line, now)?;
    if let Err(sts) = sigv2_verify(&acct.secret_access_key, req, date_line, signature) {
        return Err(mismatch(akid, &sts, signature, None));
    }
    Ok(Authenticated {
        caller: Caller {
            account_id: Some(acct.id.clone()),
        },
        chunks: None,
    })
}

fn sigv2_query(config: &Config, req: &SignedRequest<'_>, now: SystemTime) -> Result<Authenticated, S3Error> {
    let akid = req.query.get("AWSAccessKeyId").unwrap_or("");
    let signature = req.query.get("Signature").unwrap_or("");
    let expires = req.query.get("Expires").unwrap_or("");
    let acct = account(config, akid)?;
    let expiry = expires.parse::<u64>().map_err(|_| {
        access_denied(
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
        )
    })?;
    let now_secs = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if now_secs > expiry {
        return Err(access_denied("Request has expired")
            .with_element(
                "Expires",
                s3cors_proto::http::iso8601(SystemTime::UNIX_EPOCH + Duration::from_secs(expiry)),
            )
            .with_element("ServerTime", s3cors_proto::http::iso8601(now)));
    }
    if let Err(sts) = sigv2_verify(&acct.secret_access_key, req, expires, signature) {
        return Err(mismatch(akid, &sts, signature, None));
    }
    Ok(Authenticated {
        caller: Caller {
            account_id: Some(acct.id.clone()),
        },
        chunks: None,
    })
}

/// The signing key of a secret for a credential scope, from a small cache: it changes once a day per
/// account and region, and deriving it costs four HMACs (SDKs cache it the same way). A hit compares
/// borrowed strings and allocates nothing.
fn cached_signing_key(secret: &str, c: &Credential<'_>) -> sigv4::SigningKey {
    struct Entry {
        secret: String,
        date: String,
        region: String,
        service: String,
        key: sigv4::SigningKey,
    }
    static KEYS: Mutex<Vec<Entry>> = Mutex::new(Vec::new());
    let same =
        |e: &Entry| e.secret == secret && e.date == c.date && e.region == c.region && e.service == c.service;
    if let Some(key) = KEYS
        .lock()
        .ok()
        .and_then(|k| k.iter().find(|e| same(e)).map(|e| e.key.clone()))
    {
        return key;
    }
    let key = sigv4::signing_key(secret, c);
    if let Ok(mut keys) = KEYS.lock() {
        if keys.len() >= 64 {
            keys.remove(0);
        }
        keys.push(Entry {
            secret: secret.to_owned(),
            date: c.date.to_owned(),
            region: c.region.to_owned(),
            service: c.service.to_owned(),
            key: key.clone(),
        });
    }
    key
}
