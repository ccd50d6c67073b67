//! Findings about a (valid) configuration that S3 accepts but that will not do what its author meant:
//! rules that can never apply, origins no browser sends, and rules that block what the AWS SDK for
//! JavaScript v3 and browsers need. S3 itself says nothing about any of these
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/ManageCorsUsing.html>).

use serde::Serialize;

use crate::compile::Glob;
use crate::model::{CorsConfiguration, CorsRule};

/// One finding, with the rule it is about and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// 1-based rule position.
    pub rule: usize,
    /// The rule's `ID`.
    pub id: Option<String>,
    /// A stable name for the kind of finding (kebab-case).
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// What to change.
    pub fix: String,
}

/// Headers the AWS SDK for JavaScript v3 sends from a browser on S3 requests (the checksum headers are
/// represented by one member of `x-amz-checksum-*`).
pub const SDK_V3_HEADERS: [&str; 9] = [
    "authorization",
    "content-type",
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-user-agent",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
    "x-amz-checksum-crc32",
    "x-amz-sdk-checksum-algorithm",
];

/// The `Access-Control-Max-Age` Chromium honours at most.
pub const CHROMIUM_MAX_AGE: i64 = 7200;
/// The `Access-Control-Max-Age` Firefox honours at most.
pub const FIREFOX_MAX_AGE: i64 = 86400;

/// Every finding for `config`, by rule, in a fixed order per rule.
pub fn lint(config: &CorsConfiguration) -> Vec<Finding> {
    let mut out = Vec::new();
    for (i, rule) in config.rules.iter().enumerate() {
        let mut add = |code: &'static str, message: String, fix: String| {
            out.push(Finding {
                rule: i + 1,
                id: rule.id.clone(),
                code,
                message,
                fix,
            });
        };
        let earlier = &config.rules[..i];
        if let Some(j) = earlier.iter().position(|e| covers(e, rule)) {
            add(
                "unreachable-rule",
                format!(
                    "rule {} already matches every request this rule matches, so this rule never applies",
                    j + 1
                ),
                format!("delete this rule, or move it before rule {}", j + 1),
            );
        } else if let Some(j) = earlier
            .iter()
            .position(|e| e.allowed_origins.iter().any(|o| o == "*"))
            && !rule.allowed_origins.iter().any(|o| o == "*")
        {
            add(
                "shadowed-by-wildcard-origin",
                format!(
                    "rule {} allows every origin (*) before this rule's specific origins: this rule \
                     only applies to requests rule {} refuses for their method or headers",
                    j + 1,
                    j + 1
                ),
                format!("move this rule before rule {}", j + 1),
            );
        }
        for origin in &rule.allowed_origins {
            if let Some((problem, fixed)) = origin_problem(origin) {
                add(
                    "origin-never-sent",
                    format!(
                        "AllowedOrigin {origin} {problem}; browsers never send such an Origin, so it never matches"
                    ),
                    format!("use {fixed}"),
                );
            }
        }
        for origin in &rule.allowed_origins {
            if let Some(twin) = loopback_twin(origin)
                && !config.rules.iter().any(|r| {
                    r.allowed_origins
                        .iter()
                        .any(|o| Glob::new(o, false).matches(&twin))
                })
            {
                add(
                    "loopback-look-alike",
                    format!(
                        "AllowedOrigin {origin} is allowed but {twin} is not: browsers treat them as different \
                         origins, so a page opened on the other name is refused"
                    ),
                    format!("add {twin} as an AllowedOrigin if the page may be opened that way"),
                );
            }
        }
        let writes = rule.allowed_methods.iter().any(|m| m == "PUT" || m == "POST");
        if writes && !rule.expose_headers.iter().any(|h| h.eq_ignore_ascii_case("etag")) {
            add(
                "etag-not-exposed",
                "PUT or POST is allowed but ETag is not an ExposeHeader: browser scripts cannot read part \
                 ETags, so multipart uploads (the SDK's Upload, Uppy, …) cannot complete"
                    .to_owned(),
                "add <ExposeHeader>ETag</ExposeHeader>".to_owned(),
            );
        }
        // A rule that neither allows writes nor lists headers serves simple requests (a public <img>,
        // a plain fetch) and needs none.
        let scripted = rule.allowed_methods.iter().any(|m| m != "GET" && m != "HEAD");
        let globs: Vec<Glob> = rule.allowed_headers.iter().map(|h| Glob::new(h, true)).collect();
        let missing: Vec<&str> = SDK_V3_HEADERS
            .iter()
            .copied()
            .filter(|h| !globs.iter().any(|g| g.matches_ignore_case(h)))
            .collect();
        if (scripted || !globs.is_empty()) && !missing.is_empty() {
            let shown: Vec<String> = missing
                .iter()
                .map(|h| {
                    if *h == "x-amz-checksum-crc32" {
                        "x-amz-checksum-*".to_owned()
                    } else {
                        (*h).to_owned()
                    }
                })
                .collect();
            add(
                "sdk-headers-not-allowed",
                format!(
                    "AllowedHeader does not cover {}, which the AWS SDK for JavaScript v3 sends: its preflights \
                     are refused",
                    shown.join(", ")
                ),
                "add <AllowedHeader>*</AllowedHeader>, or each of the headers named".to_owned(),
            );
        }
        if let Some(age) = rule.max_age_seconds {
            if age > FIREFOX_MAX_AGE {
                add(
                    "max-age-above-browser-cap",
                    format!(
                        "MaxAgeSeconds {age} is above what browsers honour (Chromium {CHROMIUM_MAX_AGE} s, \
                         Firefox {FIREFOX_MAX_AGE} s); they cache the preflight for less"
                    ),
                    format!("use at most {FIREFOX_MAX_AGE}"),
                );
            } else if age > CHROMIUM_MAX_AGE {
                add(
                    "max-age-above-browser-cap",
                    format!(
                        "MaxAgeSeconds {age} is above what Chromium honours ({CHROMIUM_MAX_AGE} s); Chromium \
                         caches the preflight for {CHROMIUM_MAX_AGE} s"
                    ),
                    format!("use at most {CHROMIUM_MAX_AGE} for the same behaviour in every browser"),
                );
            }
        }
    }
    out
}

/// Whether `earlier` matches every request `later` matches: each origin, method and header pattern
/// of `later` is covered by one of `earlier`'s.
fn covers(earlier: &CorsRule, later: &CorsRule) -> bool {
    let origins: Vec<Glob> = earlier
        .allowed_origins
        .iter()
        .map(|o| Glob::new(o, false))
        .collect();
    let headers: Vec<Glob> = earlier
        .allowed_headers
        .iter()
        .map(|h| Glob::new(h, true))
        .collect();
    later
        .allowed_origins
        .iter()
        .all(|o| origins.iter().any(|g| g.covers(&Glob::new(o, false), false)))
        && later
            .allowed_methods
            .iter()
            .all(|m| earlier.allowed_methods.contains(m))
        && later
            .allowed_headers
            .iter()
            .all(|h| headers.iter().any(|g| g.covers(&Glob::new(h, true), true)))
}

/// Why a browser never sends `origin`, and the form it would send.
fn origin_problem(origin: &str) -> Option<(&'static str, String)> {
    if origin == "*" || origin.contains('*') {
        return None;
    }
    let (scheme, rest) = origin.split_once("://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let lower_scheme = scheme.to_ascii_lowercase();
    let lower_authority = authority.to_ascii_lowercase();
    let default_port = match lower_scheme.as_str() {
        "http" => Some(":80"),
        "https" => Some(":443"),
        _ => None,
    };
    let bare_authority = default_port
        .and_then(|p| lower_authority.strip_suffix(p))
        .unwrap_or(&lower_authority);
    let fixed = format!("{lower_scheme}://{bare_authority}");
    if path == "/" {
        Some(("ends with a slash", fixed))
    } else if !path.is_empty() {
        Some(("has a path", fixed))
    } else if scheme != lower_scheme || authority != lower_authority {
        Some(("has upper-case letters in its scheme or host", fixed))
    } else if bare_authority != lower_authority {
        Some(("names the scheme's default port", fixed))
    } else {
        None
    }
}

/// `http://localhost:3000` ↔ `http://127.0.0.1:3000`.
fn loopback_twin(origin: &str) -> Option<String> {
    let (scheme, rest) = origin.split_once("://")?;
    let (host, port) = match rest.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    let twin = match host {
        "localhost" => "127.0.0.1",
        "127.0.0.1" => "localhost",
        _ => return None,
    };
    Some(match port {
        Some(p) => format!("{scheme}://{twin}:{p}"),
        None => format!("{scheme}://{twin}"),
    })
}
