//! The decision for a request: which rule matches (§7), which headers to send (R47–R53), and, for a
//! preflight, S3's errors in S3's order (§5.1).

use std::borrow::Cow;
use std::fmt;

use crate::compile::{Candidates, CompiledCors, method_bit};

/// The exact `Vary` value of every CORS answer (R53).
pub const VARY: &str = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method";

/// The CORS response headers of a matched rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsHeaders<'a> {
    /// Index of the matched rule.
    pub rule: usize,
    /// `Access-Control-Allow-Origin`: `*` or the request origin, echoed (R47).
    pub allow_origin: &'a str,
    /// `Access-Control-Allow-Credentials: true`, exactly when the origin is echoed (R48).
    pub allow_credentials: bool,
    /// `Access-Control-Allow-Methods`: all the rule's methods (R49).
    pub allow_methods: &'a str,
    /// `Access-Control-Allow-Headers`: the requested names, lower case, `", "` (R50).
    pub allow_headers: Option<String>,
    /// `Access-Control-Expose-Headers` (R51).
    pub expose_headers: Option<&'a str>,
    /// `Access-Control-Max-Age` (R52).
    pub max_age: Option<&'a str>,
}

impl CorsHeaders<'_> {
    /// The headers in emission order, `Vary` included.
    pub fn pairs(&self) -> impl Iterator<Item = (&'static str, Cow<'_, str>)> + '_ {
        [
            Some(("access-control-allow-origin", Cow::Borrowed(self.allow_origin))),
            self.allow_credentials
                .then_some(("access-control-allow-credentials", Cow::Borrowed("true"))),
            Some(("access-control-allow-methods", Cow::Borrowed(self.allow_methods))),
            self.allow_headers
                .as_deref()
                .map(|h| ("access-control-allow-headers", Cow::Borrowed(h))),
            self.expose_headers
                .map(|h| ("access-control-expose-headers", Cow::Borrowed(h))),
            self.max_age.map(|m| ("access-control-max-age", Cow::Borrowed(m))),
            Some(("vary", Cow::Borrowed(VARY))),
        ]
        .into_iter()
        .flatten()
    }
}

/// Why no rule matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// No rule allows this origin, method and header set.
    NoRuleMatches,
}

/// Distinct `AllowedOrigin` or `AllowedHeader` lists whose result is remembered within one decision
/// (a configuration has at most 100 rules, so every list is).
const MEMO_SETS: usize = 128;

/// Requested header names kept on the stack before spilling to the heap.
const MAX_STACK_NAMES: usize = 16;

/// The names of an `Access-Control-Request-Headers` value: split on `,`, trimmed, empties dropped (R50).
pub(crate) fn requested_headers(acrh: &str) -> impl Iterator<Item = &str> + Clone {
    acrh.split(',').map(trim).filter(|h| !h.is_empty())
}

/// `str::trim`, with the ASCII case (every name a browser sends) done on bytes.
fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    let start = b.iter().position(|c| !is_ascii_space(*c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !is_ascii_space(*c))
        .map_or(start, |i| i + 1);
    match s.get(start..end) {
        // Whitespace beyond ASCII is trimmed too; only a non-ASCII end can be one.
        Some(t)
            if t.as_bytes().first().is_none_or(u8::is_ascii)
                && t.as_bytes().last().is_none_or(u8::is_ascii) =>
        {
            t
        }
        _ => s.trim(),
    }
}

/// The ASCII characters `char::is_whitespace` accepts: tab, line feed, vertical tab, form feed,
/// carriage return and space.
fn is_ascii_space(c: u8) -> bool {
    matches!(c, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ')
}

/// Whether each of up to [`MEMO_SETS`] lists passes, decided at most once per decision.
struct Memo([u8; MEMO_SETS]);

impl Memo {
    fn pass(&mut self, set: usize, check: impl FnOnce() -> bool) -> bool {
        match self.0.get_mut(set) {
            Some(m) if *m == 0 => {
                let pass = check();
                *m = if pass { 1 } else { 2 };
                pass
            }
            Some(m) => *m == 1,
            None => check(),
        }
    }
}

/// Finds the first rule that matches origin, method and every requested header (R68) and returns its
/// headers. `origin` must be non-empty; `method` is the ACRM or the request method.
///
/// The index of the compiled configuration names the rules that can allow the origin and the method;
/// of those, in order, the first that the origin and the requested headers pass wins. Rules sharing
/// a list share one check of it, and the requested names are lower-cased once, so that each header
/// pattern is a plain comparison (R69).
pub fn evaluate<'a>(
    cors: &'a CompiledCors,
    origin: &'a str,
    method: &str,
    request_headers: Option<&str>,
) -> Result<CorsHeaders<'a>, Denial> {
    let bit = method_bit(method);
    if bit == 0 {
        return Err(Denial::NoRuleMatches);
    }
    // Nothing with control characters is ever echoed into a response header. The scans run over
    // whole strings without stopping early, which the compiler turns into a few vector steps.
    let control = |s: &str| s.bytes().fold(false, |c, b| c | (b < 0x20) | (b == 0x7f));
    if control(origin) {
        return Err(Denial::NoRuleMatches);
    }
    let acrh = request_headers.unwrap_or("");
    // Browsers send the names in lower case; anything else is lowered once, here.
    let lowered: Cow<'_, str> = if acrh.bytes().fold(false, |u, b| u | b.is_ascii_uppercase()) {
        Cow::Owned(acrh.to_ascii_lowercase())
    } else {
        Cow::Borrowed(acrh)
    };
    // Control characters around the names (tabs, line breaks) are trimmed away; only those inside a
    // name refuse the request, so a value with any is checked name by name.
    let check_names = control(acrh);
    // The requested names, split once (on the stack for the usual handful).
    let mut stack: [&str; MAX_STACK_NAMES] = [""; MAX_STACK_NAMES];
    let mut count = 0;
    let mut overflow = false;
    for n in requested_headers(&lowered) {
        if check_names && control(n) {
            return Err(Denial::NoRuleMatches);
        }
        match stack.get_mut(count) {
            Some(slot) => *slot = n,
            None => overflow = true,
        }
        count += 1;
    }
    let spilled: Vec<&str> = if overflow {
        requested_headers(&lowered).collect()
    } else {
        Vec::new()
    };
    let names: &[&str] = if overflow { &spilled } else { &stack[..count] };
    // Patterns and names are both lower case here.
    let headers_pass = |set: usize| {
        let globs = &cors.header_sets[set];
        names.iter().all(|n| globs.iter().any(|h| h.matches(n)))
    };
    let matched = match &cors.index {
        // The rules that can allow this origin and method, in order. The first one listing a
        // pattern with `*` has all such patterns matched at once; a header list that fails drops
        // every rule sharing it.
        Some(index) => {
            let Candidates { listed, mut possible } = index.candidates(origin, bit);
            let mut wild_matched = false;
            loop {
                let i = possible.trailing_zeros() as usize;
                let Some(rule) = cors.rules.get(i) else { break None };
                if listed & (1 << i) == 0 && !wild_matched {
                    possible = listed | index.wild_matches(origin, possible & !listed);
                    wild_matched = true;
                } else if headers_pass(rule.header_set) {
                    break Some(i);
                } else {
                    possible &= !(index.header_set_rules[rule.header_set] | (1 << i));
                }
            }
        }
        None => {
            let (mut origins, mut headers) = (Memo([0; MEMO_SETS]), Memo([0; MEMO_SETS]));
            cors.rules.iter().position(|rule| {
                rule.methods & bit != 0
                    && origins.pass(rule.origin_set, || {
                        cors.origin_sets[rule.origin_set]
                            .iter()
                            .any(|o| o.matches(origin))
                    })
                    && headers.pass(rule.header_set, || headers_pass(rule.header_set))
            })
        }
    };
    if let Some((i, rule)) = matched.and_then(|i| cors.rules.get(i).map(|r| (i, r))) {
        let allow_headers = (!names.is_empty()).then(|| {
            let mut s = String::with_capacity(names.iter().map(|n| n.len() + 2).sum());
            for n in names {
                if !s.is_empty() {
                    s.push_str(", ");
                }
                s.push_str(n);
            }
            s
        });
        let allow_origin = if rule.any_origin { "*" } else { origin };
        return Ok(CorsHeaders {
            rule: i,
            allow_origin,
            allow_credentials: !rule.any_origin,
            allow_methods: &rule.allow_methods,
            allow_headers,
            expose_headers: rule.expose_headers.as_deref(),
            max_age: rule.max_age.as_deref(),
        });
    }
    Err(Denial::NoRuleMatches)
}

/// What a request finds of its bucket's CORS.
#[derive(Debug, Clone, Copy)]
pub enum BucketCors<'a> {
    /// No bucket in the URL, or it does not exist.
    NoBucket,
    /// The bucket exists without a configuration.
    NotConfigured,
    /// The bucket's configuration.
    Configured(&'a CompiledCors),
}

/// The CORS-relevant parts of an `OPTIONS` request.
#[derive(Debug, Clone, Copy, Default)]
pub struct PreflightRequest<'a> {
    /// `Origin`.
    pub origin: Option<&'a str>,
    /// `Access-Control-Request-Method`.
    pub method: Option<&'a str>,
    /// `Access-Control-Request-Headers`.
    pub headers: Option<&'a str>,
    /// Whether the URL names an object key.
    pub has_key: bool,
}

/// `ResourceType` of an `AccessForbidden` error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceType {
    /// `BUCKET`
    Bucket,
    /// `OBJECT`
    Object,
}

impl ResourceType {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceType::Bucket => "BUCKET",
            ResourceType::Object => "OBJECT",
        }
    }
}

/// A refused preflight, with S3's status, code and message (§5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreflightError {
    /// R41: no `Origin`.
    MissingOrigin,
    /// R44: an ACRM S3 does not accept.
    InvalidMethod(String),
    /// R42: no such bucket.
    BucketNotFound {
        /// ACRM, or `OPTIONS`.
        method: String,
    },
    /// R43: no configuration.
    NotEnabled {
        /// ACRM, or `OPTIONS`.
        method: String,
    },
    /// R45: a configuration but no ACRM.
    MissingMethod,
    /// R55: no rule matches.
    NotAllowed {
        /// ACRM.
        method: String,
        /// `OBJECT` on a key URL, `BUCKET` otherwise.
        resource_type: ResourceType,
    },
}

impl PreflightError {
    /// HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            PreflightError::MissingOrigin
            | PreflightError::InvalidMethod(_)
            | PreflightError::MissingMethod => 400,
            _ => 403,
        }
    }

    /// The S3 error code.
    pub fn code(&self) -> &'static str {
        if self.status() == 400 {
            "BadRequest"
        } else {
            "AccessForbidden"
        }
    }

    /// `Method` and `ResourceType` elements of an `AccessForbidden` error.
    pub fn method_and_resource(&self) -> Option<(&str, ResourceType)> {
        match self {
            PreflightError::BucketNotFound { method } | PreflightError::NotEnabled { method } => {
                Some((method, ResourceType::Bucket))
            }
            PreflightError::NotAllowed {
                method,
                resource_type,
            } => Some((method, *resource_type)),
            _ => None,
        }
    }
}

impl fmt::Display for PreflightError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PreflightError::MissingOrigin => {
                f.write_str("Insufficient information. Origin request header needed.")
            }
            PreflightError::InvalidMethod(m) => write!(f, "Invalid Access-Control-Request-Method: {m}"),
            PreflightError::MissingMethod => f.write_str("Invalid Access-Control-Request-Method: null"),
            PreflightError::BucketNotFound { .. } => f.write_str("CORSResponse: Bucket not found"),
            PreflightError::NotEnabled { .. } => {
                f.write_str("CORSResponse: CORS is not enabled for this bucket.")
            }
            // "evalution" is S3's spelling (E25).
            PreflightError::NotAllowed { .. } => f.write_str(
                "CORSResponse: This CORS request is not allowed. This is usually because the evalution of \
                 Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers \
                 are not whitelisted by the resource's CORS spec.",
            ),
        }
    }
}

/// ACRM values S3 accepts before matching (R44): the five rule methods, and `PATCH` and `OPTIONS`,
/// which pass this check and then match no rule.
fn acceptable_request_method(m: &str) -> bool {
    matches!(
        m,
        "GET" | "PUT" | "HEAD" | "POST" | "DELETE" | "PATCH" | "OPTIONS"
    )
}

fn non_empty(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.is_empty())
}

/// Decides a preflight (`OPTIONS`) in S3's order (§5.1).
pub fn preflight<'a>(
    bucket: BucketCors<'a>,
    req: &PreflightRequest<'a>,
) -> Result<CorsHeaders<'a>, PreflightError> {
    let origin = non_empty(req.origin).ok_or(PreflightError::MissingOrigin)?;
    if let Some(m) = req.method
        && !acceptable_request_method(m)
    {
        return Err(PreflightError::InvalidMethod(m.to_owned()));
    }
    let method_or_options = || req.method.unwrap_or("OPTIONS").to_owned();
    let cors = match bucket {
        BucketCors::NoBucket => {
            return Err(PreflightError::BucketNotFound {
                method: method_or_options(),
            });
        }
        BucketCors::NotConfigured => {
            return Err(PreflightError::NotEnabled {
                method: method_or_options(),
            });
        }
        BucketCors::Configured(c) => c,
    };
    let method = req.method.ok_or(PreflightError::MissingMethod)?;
    evaluate(cors, origin, method, req.headers).map_err(|_| PreflightError::NotAllowed {
        method: method.to_owned(),
        resource_type: if req.has_key {
            ResourceType::Object
        } else {
            ResourceType::Bucket
        },
    })
}

/// Decides the CORS headers of an actual (non-`OPTIONS`) request (§6): `None` adds nothing and the
/// request is served as without CORS (R58, R59, R61, R65). An ACRM replaces the method (R62) and an
/// ACRH is checked as in a preflight (R63).
pub fn actual<'a>(
    bucket: BucketCors<'a>,
    origin: Option<&'a str>,
    method: &str,
    request_method: Option<&str>,
    request_headers: Option<&str>,
) -> Option<CorsHeaders<'a>> {
    let origin = non_empty(origin)?;
    let BucketCors::Configured(cors) = bucket else {
        return None;
    };
    evaluate(cors, origin, request_method.unwrap_or(method), request_headers).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-level trim is `str::trim` exactly, ASCII or not (R50's names are trimmed as S3 does).
    #[test]
    fn trim_is_str_trim() {
        use proptest::prelude::*;
        for s in [
            "",
            " ",
            "a",
            " a ",
            "\t\x0b\x0ca\r\n",
            "\u{a0}a",
            "a\u{3000}",
            " \u{85} x \u{2029}",
            "é ",
            " é",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
        proptest!(|(s in "[ \\t\\x0b\\x0c\\r\\na,é\\u{a0}\\u{2000}\\u{3000}]{0,12}")| {
            prop_assert_eq!(trim(&s), s.trim());
        });
    }
}
