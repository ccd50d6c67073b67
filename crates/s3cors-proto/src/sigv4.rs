//! Parsing of AWS Signature Version 4 credentials from a request.
//!
//! Implements the `Authorization` header form of
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-auth-using-authorization-header.html> and the
//! query form of <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>.
//! This module only reads what the request claims; verification builds on it.

use crate::error::{S3Error, S3ErrorCode};
use crate::query::Query;
use std::borrow::Cow;

/// The credential a request presents, borrowed from the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credential<'a> {
    /// The access key id.
    pub access_key_id: &'a str,
    /// `YYYYMMDD` of the credential scope.
    pub date: &'a str,
    /// Region of the scope.
    pub region: &'a str,
    /// Service of the scope (`s3`).
    pub service: &'a str,
}

/// A SigV4 signature claim, from the header or the query, borrowed from the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureClaim<'a> {
    /// The credential.
    pub credential: Credential<'a>,
    /// The lower-case names of the signed headers, `;`-separated, as the request gives them.
    pub signed_headers: &'a str,
    /// Hex signature.
    pub signature: &'a str,
    /// Whether it came from the query string (presigned URL).
    pub presigned: bool,
}

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

fn malformed(msg: &'static str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidArgument, msg)
}

/// Parses `AKID/DATE/REGION/SERVICE/aws4_request`.
pub fn parse_credential(value: &str) -> Result<Credential<'_>, S3Error> {
    // The four `/`, found in one pass over a short string.
    let mut cuts = [0; 4];
    let mut found = 0;
    for (i, b) in value.bytes().enumerate() {
        if b == b'/' {
            if let Some(cut) = cuts.get_mut(found) {
                *cut = i;
            }
            found += 1;
        }
    }
    match (found, cuts) {
        (4, [a, d, r, s]) if a > 0 && &value[s + 1..] == "aws4_request" => Ok(Credential {
            access_key_id: &value[..a],
            date: &value[a + 1..d],
            region: &value[d + 1..r],
            service: &value[r + 1..s],
        }),
        _ => Err(S3Error::with_message(
            S3ErrorCode::AuthorizationHeaderMalformed,
            "The authorization header is malformed; the Credential is mal-formed; expecting \
             \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
        )),
    }
}

/// Parses an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header.
pub fn parse_authorization(header: &str) -> Result<SignatureClaim<'_>, S3Error> {
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
    // Each part is `name=value`: the short name is found by a byte search for `=`, and the end of
    // the long value (a 64-digit signature, a scope, a list of headers) by `memchr` for `,`.
    let bytes = rest.as_bytes();
    let mut start = 0;
    while start <= rest.len() {
        let end = memchr::memchr(b',', &bytes[start..]).map_or(rest.len(), |p| start + p);
        let part = rest[start..end].trim();
        start = end + 1;
        let (k, v) = match part.as_bytes().iter().position(|&b| b == b'=') {
            Some(eq) => (&part[..eq], &part[eq + 1..]),
            None => (part, ""),
        };
        match k {
            "Credential" => credential = Some(parse_credential(v)?),
            "SignedHeaders" => signed_headers = Some(v),
            "Signature" => signature = Some(v),
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
pub fn parse_presigned(query: &Query) -> Result<Option<SignatureClaim<'_>>, S3Error> {
    let Some(algorithm) = query.get("X-Amz-Algorithm") else {
        return Ok(None);
    };
    if algorithm != ALGORITHM {
        return Err(S3Error::with_message(
            S3ErrorCode::AuthorizationQueryParametersError,
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
        ));
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
        signed_headers: get("X-Amz-SignedHeaders")?,
        signature: get("X-Amz-Signature")?,
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
        assert_eq!(claim.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
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

    /// [`parse_authorization`] as `str::split` writes it: the signed headers and the signature, or
    /// `None` where it fails.
    fn split_authorization(header: &str) -> Option<(&str, &str)> {
        let rest = header.trim().strip_prefix(ALGORITHM)?;
        let (mut c, mut h, mut s) = (None, None, None);
        for part in rest.split(',') {
            let part = part.trim();
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            match k {
                "Credential" => c = Some(parse_credential(v).ok()?),
                "SignedHeaders" => h = Some(v),
                "Signature" => s = Some(v),
                _ => {}
            }
        }
        c?;
        Some((h?, s?))
    }

    proptest::proptest! {
        /// The hand-split `Authorization` parser finds what splitting with `str::split` finds.
        #[test]
        fn authorization_parses_as_split(
            parts in proptest::collection::vec(
                (
                    "( ?)(Credential|SignedHeaders|Signature|Other|)",
                    proptest::prop_oneof![
                        proptest::strategy::Just("=AKID/20130524/us-east-1/s3/aws4_request".to_owned()),
                        "(=?)([a-z0-9;=/_]{0,8})( ?)",
                    ],
                ),
                0..5,
            ),
            lead in "( ?)",
        ) {
            let parts: Vec<String> = parts.into_iter().map(|(k, v)| format!("{k}{v}")).collect();
            let header = format!("{ALGORITHM}{lead}{}", parts.join(","));
            let ours = parse_authorization(&header).ok().map(|c| (c.signed_headers, c.signature));
            proptest::prop_assert_eq!(ours, split_authorization(&header), "{}", header);
        }

        /// The one-pass credential parser agrees with splitting at every `/`.
        #[test]
        fn credentials_parse_as_split(value in "([A-Za-z0-9]{0,3}/){0,6}(aws4_request|[a-z]{0,3})") {
            let parts: Vec<&str> = value.split('/').collect();
            let expected = match parts.as_slice() {
                [akid, date, region, service, "aws4_request"] if !akid.is_empty() => {
                    Some((*akid, *date, *region, *service))
                }
                _ => None,
            };
            let got = parse_credential(&value)
                .ok()
                .map(|c| (c.access_key_id, c.date, c.region, c.service));
            proptest::prop_assert_eq!(got, expected);
        }
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

// ---- Canonicalisation and signing (pure) ----

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The hex SHA-256 of the empty string.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Characters SigV4 leaves unencoded: the unreserved set of RFC 3986.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// The same, keeping `/` (paths).
const UNRESERVED_PATH: &percent_encoding::AsciiSet = &UNRESERVED.remove(b'/');

fn uri_encode(bytes: &[u8], set: &'static percent_encoding::AsciiSet) -> String {
    percent_encoding::percent_encode(bytes, set).to_string()
}

/// Lower-case hex of 32 bytes, on the stack.
fn hex32(bytes: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&crate::hex_pair(b));
    }
    out
}

/// Hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    crate::hex(&Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The request as SigV4 sees it.
#[derive(Debug, Clone, Copy)]
pub struct CanonicalInput<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// The path as received (percent-encoded).
    pub raw_path: &'a str,
    /// The query string as received, without `?`.
    pub raw_query: &'a str,
}

/// The canonical URI: the path decoded and encoded again with S3's rules (each byte outside the
/// unreserved set and `/` as `%XX`), so that clients' different escaping of the same key agrees.
pub fn canonical_uri(raw_path: &str) -> String {
    let mut out = String::with_capacity(raw_path.len());
    push_canonical_uri(&mut out, raw_path);
    out
}

fn push_canonical_uri(out: &mut String, raw_path: &str) {
    // Most paths need no escaping: they are their own canonical form.
    if !raw_path.is_empty() && raw_path.bytes().all(|b| is_unreserved(b) || b == b'/') {
        out.push_str(raw_path);
        return;
    }
    let decoded: Vec<u8> = percent_encoding::percent_decode_str(raw_path).collect();
    if decoded.is_empty() {
        out.push('/');
    }
    out.extend(percent_encoding::percent_encode(&decoded, UNRESERVED_PATH));
}

/// The canonical query string: parameters sorted, names and values encoded; `X-Amz-Signature` left
/// out (presigned URLs).
pub fn canonical_query(raw_query: &str) -> String {
    let mut out = String::with_capacity(raw_query.len());
    push_canonical_query(&mut out, raw_query);
    out
}

fn push_canonical_query(out: &mut String, raw_query: &str) {
    if push_query_as_sent(out, raw_query) {
        return;
    }
    // Presigned requests carry seven parameters; the signature is not signed.
    let mut pairs: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::with_capacity(8);
    let mut rest = Some(raw_query);
    while let Some(query) = rest {
        let (part, tail) = split_at_byte(query, b'&');
        rest = tail;
        if part.is_empty() {
            continue;
        }
        let (k, v) = split_at_byte(part, b'=');
        let k = canonical_component(k);
        if k != "X-Amz-Signature" {
            pairs.push((k, canonical_component(v.unwrap_or(""))));
        }
    }
    pairs.sort_unstable();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
}

/// The common case, written without sorting or re-encoding: SDKs send every parameter as `name=value`,
/// already in SigV4's encoding and in canonical order, a presigned URL's `X-Amz-Signature` last (it
/// is left out). Such a query is its own canonical form. Returns false, having written nothing, for
/// any other query.
fn push_query_as_sent(out: &mut String, raw: &str) -> bool {
    let bytes = raw.as_bytes();
    // Unreserved bytes, escapes and the separators: compared without branches, so that the
    // compiler checks many bytes at a time.
    let allowed = |b: u8| {
        ((b | 0x20).wrapping_sub(b'a') < 26)
            | (b.wrapping_sub(b'0') < 10)
            | (b == b'-')
            | (b == b'_')
            | (b == b'.')
            | (b == b'~')
            | (b == b'%')
            | (b == b'=')
            | (b == b'&')
    };
    if bytes.is_empty() || !bytes.iter().fold(true, |ok, &b| ok & allowed(b)) {
        return false;
    }
    // Every escape upper-case, of a byte SigV4 does not leave as it is.
    let upper_hex = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    for at in memchr::memchr_iter(b'%', bytes) {
        match (
            bytes.get(at + 1).copied().and_then(upper_hex),
            bytes.get(at + 2).copied().and_then(upper_hex),
        ) {
            (Some(hi), Some(lo)) if !is_unreserved(hi << 4 | lo) => {}
            _ => return false,
        }
    }
    // Each parameter `name=value` with exactly one `=`, in order by name and then value; the
    // separators alternate `=`, `&`, `=`, … and end with `=`.
    let mut previous: Option<(&[u8], &[u8])> = None;
    let mut signature = None;
    let mut pair_start = 0;
    let mut eq = None;
    for at in memchr::memchr2_iter(b'=', b'&', bytes).chain(std::iter::once(bytes.len())) {
        if at < bytes.len() && bytes[at] == b'=' {
            if eq.replace(at).is_some() {
                return false;
            }
            continue;
        }
        let Some(eq) = eq.take() else {
            return false;
        };
        let (k, v) = (&bytes[pair_start..eq], &bytes[eq + 1..at]);
        if k == b"X-Amz-Signature" {
            signature.get_or_insert(pair_start..at);
        } else {
            if previous.is_some_and(|p| p > (k, v)) {
                return false;
            }
            previous = Some((k, v));
        }
        pair_start = at + 1;
    }
    match signature {
        None => out.push_str(raw),
        // Presigned URLs put it last; anywhere else, the general path takes it out.
        Some(sig) if sig.end == raw.len() => out.push_str(&raw[..sig.start.saturating_sub(1)]),
        Some(_) => return false,
    }
    true
}

/// `s` split at the first `at`: what comes before, and what comes after if `at` is there.
fn split_at_byte(s: &str, at: u8) -> (&str, Option<&str>) {
    s.bytes()
        .position(|b| b == at)
        .map_or((s, None), |i| (&s[..i], Some(&s[i + 1..])))
}

/// The bytes SigV4 leaves as they are: `A-Z a-z 0-9 - _ . ~`.
static UNRESERVED_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~');
        b += 1;
    }
    table
};

/// Whether SigV4 leaves a byte as it is: `A-Z a-z 0-9 - _ . ~`.
fn is_unreserved(b: u8) -> bool {
    UNRESERVED_BYTES[usize::from(b)]
}

/// Whether `s` is already in SigV4's encoding: unreserved bytes as they are, every other byte as
/// `%XX` with upper-case hex (what SDKs send).
fn is_canonical(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if is_unreserved(b[i]) {
            i += 1;
            continue;
        }
        let hex = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        };
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) if !is_unreserved(hi << 4 | lo) => i += 3,
            _ => return false,
        }
    }
    true
}

/// A query name or value decoded and encoded again; one already canonical is borrowed.
fn canonical_component(s: &str) -> Cow<'_, str> {
    if is_canonical(s) {
        return Cow::Borrowed(s);
    }
    let decoded: Vec<u8> = percent_encoding::percent_decode_str(s).collect();
    Cow::Owned(uri_encode(&decoded, UNRESERVED))
}

/// Appends a header value as SigV4 canonicalises it: trimmed, inner runs of spaces collapsed.
fn push_canonical_header_value(out: &mut String, v: &str) {
    // Most values have no whitespace at all.
    if v.is_ascii() && !v.bytes().any(|b| b.is_ascii_whitespace()) {
        out.push_str(v);
        return;
    }
    for (i, word) in v.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
}

/// The canonical request. `signed_headers` is the `;`-separated list of the request; `header` returns
/// every value of a header, by lower-case name.
pub fn canonical_request<'h, I: IntoIterator<Item = &'h str>>(
    input: &CanonicalInput<'_>,
    signed_headers: &str,
    header: impl Fn(&str) -> I,
    payload_hash: &str,
) -> String {
    let mut out =
        String::with_capacity(256 + input.raw_path.len() + input.raw_query.len() + payload_hash.len());
    out.push_str(input.method);
    out.push('\n');
    push_canonical_uri(&mut out, input.raw_path);
    out.push('\n');
    push_canonical_query(&mut out, input.raw_query);
    out.push('\n');
    for name in signed_headers.split(';') {
        out.push_str(name);
        out.push(':');
        for (i, value) in header(name).into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_canonical_header_value(&mut out, value);
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str(signed_headers);
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// The credential scope: `DATE/REGION/SERVICE/aws4_request`.
pub fn scope(c: &Credential<'_>) -> String {
    let mut out =
        String::with_capacity(c.date.len() + c.region.len() + c.service.len() + 2 + TERMINATOR.len());
    push_scope(&mut out, c);
    out
}

const TERMINATOR: &str = "/aws4_request";

fn push_scope(out: &mut String, c: &Credential<'_>) {
    for (i, part) in [c.date, c.region, c.service].into_iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(part);
    }
    out.push_str(TERMINATOR);
}

/// The string to sign of a request whose credential is `c`.
pub fn string_to_sign(amz_date: &str, c: &Credential<'_>, canonical_request: &str) -> String {
    let scope_len = c.date.len() + c.region.len() + c.service.len() + 2 + TERMINATOR.len();
    let mut out = String::with_capacity(ALGORITHM.len() + amz_date.len() + scope_len + 67);
    for part in [ALGORITHM, amz_date] {
        out.push_str(part);
        out.push('\n');
    }
    push_scope(&mut out, c);
    out.push('\n');
    crate::push_hex(&mut out, &Sha256::digest(canonical_request.as_bytes()));
    out
}

/// The signing key of a secret for a credential scope.
pub fn signing_key(secret: &str, c: &Credential<'_>) -> SigningKey {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), c.date.as_bytes());
    let k_region = hmac(&k_date, c.region.as_bytes());
    let k_service = hmac(&k_region, c.service.as_bytes());
    SigningKey::new(&hmac(&k_service, b"aws4_request"))
}

/// A derived signing key, kept as HMAC-SHA-256 state with the key already absorbed: each signature
/// then hashes only the string to sign, not the key's two padded blocks again.
#[derive(Clone)]
pub struct SigningKey {
    mac: Hmac<Sha256>,
}

impl SigningKey {
    /// The key of the 32 bytes `kSigning`.
    pub fn new(key: &[u8; 32]) -> Self {
        SigningKey {
            // HMAC accepts keys of any length.
            mac: <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!()),
        }
    }

    fn mac(&self, string_to_sign: &str) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(string_to_sign.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The hex signature of a string to sign.
    pub fn sign(&self, string_to_sign: &str) -> String {
        crate::hex(&self.mac(string_to_sign))
    }

    /// Whether `provided` is the hex signature of `string_to_sign`, compared in constant time,
    /// without allocating.
    pub fn matches(&self, string_to_sign: &str, provided: &str) -> bool {
        let expected = hex32(&self.mac(string_to_sign));
        signatures_equal(std::str::from_utf8(&expected).unwrap_or_default(), provided)
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

/// The string to sign of one `aws-chunked` chunk, chained to the previous signature.
pub fn chunk_string_to_sign(amz_date: &str, scope: &str, previous: &str, chunk_sha256_hex: &str) -> String {
    format!("AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{EMPTY_SHA256}\n{chunk_sha256_hex}")
}

/// The string to sign of the trailer of a signed streaming upload.
pub fn trailer_string_to_sign(
    amz_date: &str,
    scope: &str,
    previous: &str,
    trailer_sha256_hex: &str,
) -> String {
    format!("AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n{trailer_sha256_hex}")
}

/// Compares two signatures in constant time.
pub fn signatures_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Parses `YYYYMMDDTHHMMSSZ` (a valid calendar date and a time of day; no leap second).
pub fn parse_amz_date(s: &str) -> Option<std::time::SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| {
        b[range].iter().try_fold(0i64, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
        })
    };
    let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hour, minute, second) = (num(9..11)?, num(11..13)?, num(13..15)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day < 1 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days from the civil date (proleptic Gregorian), after Howard Hinnant's `days_from_civil`.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    let epoch = std::time::UNIX_EPOCH;
    match u64::try_from(secs) {
        Ok(after) => epoch.checked_add(std::time::Duration::from_secs(after)),
        Err(_) => epoch.checked_sub(std::time::Duration::from_secs(secs.unsigned_abs())),
    }
}

#[cfg(test)]
mod signing_tests {
    use super::*;

    fn example_credential() -> Credential<'static> {
        Credential {
            access_key_id: "AKIAIOSFODNN7EXAMPLE",
            date: "20130524",
            region: "us-east-1",
            service: "s3",
        }
    }

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

    fn headers<'a>(list: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Vec<&'a str> + 'a {
        move |n| list.iter().filter(|(k, _)| *k == n).map(|(_, v)| *v).collect()
    }

    /// "Example: GET Object" of the AWS page "Signature Calculations for the Authorization Header:
    /// Transferring Payload in a Single Chunk".
    #[test]
    fn aws_doc_get_object() {
        let hs = [
            ("host", "examplebucket.s3.amazonaws.com"),
            ("range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", "20130524T000000Z"),
        ];
        let signed = "host;range;x-amz-content-sha256;x-amz-date";
        let input = CanonicalInput {
            method: "GET",
            raw_path: "/test.txt",
            raw_query: "",
        };
        let cr = canonical_request(&input, signed, headers(&hs), EMPTY_SHA256);
        assert_eq!(
            cr,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n\
             x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
             x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let c = example_credential();
        let sts = string_to_sign("20130524T000000Z", &c, &cr);
        assert_eq!(
            sts,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\
             7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
        );
        assert_eq!(
            signing_key(SECRET, &c).sign(&sts),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    /// "Example: PUT Object" of the same page.
    #[test]
    fn aws_doc_put_object() {
        let body_hash = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
        let hs = [
            ("date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-content-sha256", body_hash),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ];
        let signed = "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class";
        let input = CanonicalInput {
            method: "PUT",
            raw_path: "/test%24file.text",
            raw_query: "",
        };
        let cr = canonical_request(&input, signed, headers(&hs), body_hash);
        let c = example_credential();
        let sts = string_to_sign("20130524T000000Z", &c, &cr);
        assert_eq!(
            signing_key(SECRET, &c).sign(&sts),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        );
        assert_eq!(sha256_hex(b"Welcome to Amazon S3."), body_hash);
    }

    /// "Example: GET Bucket Lifecycle" (a sub-resource with an empty value) and "Get Bucket (List
    /// Objects)" (a sorted query).
    #[test]
    fn aws_doc_query_strings() {
        assert_eq!(canonical_query("lifecycle"), "lifecycle=");
        assert_eq!(canonical_query("max-keys=2&prefix=J"), "max-keys=2&prefix=J");
        assert_eq!(canonical_query("prefix=J&max-keys=2"), "max-keys=2&prefix=J");
        assert_eq!(canonical_query("a=b%20c&x=%7e&X-Amz-Signature=zz"), "a=b%20c&x=~");
        assert_eq!(canonical_uri("/my%20key/a+b~"), "/my%20key/a%2Bb~");
        assert_eq!(canonical_uri(""), "/");
    }

    /// The borrowed fast paths give what decoding and re-encoding every component gives.
    fn slow_query(raw: &str) -> String {
        let dec = |s: &str| -> Vec<u8> { percent_encoding::percent_decode_str(s).collect() };
        let mut pairs: Vec<(String, String)> = raw
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
            .map(|(k, v)| (uri_encode(&dec(k), UNRESERVED), uri_encode(&dec(v), UNRESERVED)))
            .filter(|(k, _)| k != "X-Amz-Signature")
            .collect();
        pairs.sort();
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    proptest::proptest! {
        #[test]
        fn canonical_forms_match_the_slow_reference(raw in "[a-zA-Z0-9~._%/+ =&-]{0,40}") {
            proptest::prop_assert_eq!(canonical_query(&raw), slow_query(&raw));
            let path = format!("/{raw}");
            let decoded: Vec<u8> = percent_encoding::percent_decode_str(&path).collect();
            proptest::prop_assert_eq!(canonical_uri(&path), uri_encode(&decoded, UNRESERVED_PATH));
            let once = canonical_query(&raw);
            proptest::prop_assert_eq!(canonical_query(&once), once);
        }

        /// The same with well-formed escapes, canonical or not (`%2F`, `%2f`, `%41`), as SDKs and
        /// hand-written URLs send them.
        #[test]
        fn escaped_queries_match_the_slow_reference(raw in "([a-zA-Z0-9~._/+ =&-]|%[0-9A-Fa-f]{2}){0,24}") {
            proptest::prop_assert_eq!(canonical_query(&raw), slow_query(&raw));
        }

        /// Queries as SDKs send them (canonical, sorted, the signature anywhere), which take the
        /// path that copies the query as it is, and near misses of them that must not.
        #[test]
        fn sent_queries_match_the_slow_reference(
            mut pairs in proptest::collection::vec(
                (
                    proptest::prop_oneof![
                        4 => proptest::strategy::Strategy::boxed("[a-zA-Z0-9~._-]{0,6}"),
                        2 => proptest::strategy::Strategy::boxed(proptest::strategy::Just("X-Amz-Signature".to_owned())),
                        1 => proptest::strategy::Strategy::boxed("%2[0-9A-F]"),
                    ],
                    proptest::prop_oneof![
                        8 => "[a-zA-Z0-9~._-]{0,6}",
                        2 => "[a-zA-Z0-9~._-]{0,3}%[2-7][0-9A-F]",
                        1 => "[a-z]{0,2}=[a-z]{0,2}",
                    ],
                ),
                1..6,
            ),
            sort in proptest::bool::weighted(0.75),
        ) {
            if sort {
                pairs.sort();
            }
            let raw = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
            proptest::prop_assert_eq!(canonical_query(&raw), slow_query(&raw));
        }
    }

    /// The presigned URL example of "Authenticating Requests: Using Query Parameters".
    #[test]
    fn aws_doc_presigned_url() {
        let hs = [("host", "examplebucket.s3.amazonaws.com")];
        let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
                     &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host";
        let input = CanonicalInput {
            method: "GET",
            raw_path: "/test.txt",
            raw_query: query,
        };
        let cr = canonical_request(&input, "host", headers(&hs), "UNSIGNED-PAYLOAD");
        let c = example_credential();
        let sts = string_to_sign("20130524T000000Z", &c, &cr);
        assert_eq!(
            signing_key(SECRET, &c).sign(&sts),
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
    }

    /// The chunk signatures of "Transferring Payload in Multiple Chunks": seed, then 64 KiB, 1 KiB, 0.
    #[test]
    fn aws_doc_chunk_signatures() {
        let c = example_credential();
        let key = signing_key(SECRET, &c);
        let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
        let chunk1 = vec![b'a'; 65536];
        let sig1 = key.sign(&chunk_string_to_sign(
            "20130524T000000Z",
            &scope(&c),
            seed,
            &sha256_hex(&chunk1),
        ));
        assert_eq!(
            sig1,
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
        );
        let sig2 = key.sign(&chunk_string_to_sign(
            "20130524T000000Z",
            &scope(&c),
            &sig1,
            &sha256_hex(&[b'a'; 1024]),
        ));
        assert_eq!(
            sig2,
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
        );
        let sig3 = key.sign(&chunk_string_to_sign(
            "20130524T000000Z",
            &scope(&c),
            &sig2,
            EMPTY_SHA256,
        ));
        assert_eq!(
            sig3,
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
        );
    }

    proptest::proptest! {
        /// The hand-written date parser agrees with the `time` crate's on strings shaped like dates.
        #[test]
        fn amz_dates_agree_with_time(
            date in "[0-9]{8}T[0-9]{6}Z|[0-9]{4}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]Z"
        ) {
            let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
            let reference = time::PrimitiveDateTime::parse(&date, &fmt)
                .ok()
                .map(|t| std::time::SystemTime::from(t.assume_utc()));
            proptest::prop_assert_eq!(parse_amz_date(&date), reference);
        }
    }

    #[test]
    fn dates_and_comparison() {
        let day = |s: &str| {
            parse_amz_date(s)
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs())
        };
        assert_eq!(day("19700101T000000Z"), Some(0));
        assert_eq!(day("20130524T000000Z"), Some(1_369_353_600));
        assert_eq!(day("20240229T235959Z"), Some(1_709_251_199));
        assert!(parse_amz_date("20230229T000000Z").is_none());
        assert!(parse_amz_date("20130524T240000Z").is_none());
        assert!(parse_amz_date("20130524T000060Z").is_none());
        assert!(parse_amz_date("2013052AT000000Z").is_none());
        assert!(parse_amz_date("+20130524T000000Z").is_none());
        assert!(parse_amz_date("19690101T000000Z").is_some_and(|t| t < std::time::UNIX_EPOCH));
        assert!(parse_amz_date("20130524T000000Z").is_some());
        assert!(parse_amz_date("2013-05-24").is_none());
        assert!(signatures_equal("abc", "abc"));
        assert!(!signatures_equal("abc", "abd"));
        assert!(!signatures_equal("abc", "ab"));
    }
}
