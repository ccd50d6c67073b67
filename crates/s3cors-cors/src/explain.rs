//! Why a request was allowed or denied: the decision of [`preflight`] / [`actual`] with, rule by rule,
//! what matched and what did not. S3 answers a refused preflight with one sentence
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors-troubleshooting.html>); this names
//! the rule and the field.
//!
//! The decision itself is always the engine's ([`preflight`] or [`actual`]); the per-rule reports
//! are computed beside it and agree with it (checked by a property test): the first rule whose three
//! checks pass is the rule the engine chose.

use std::fmt::Write as _;

use serde::Serialize;

use crate::compile::{CompiledCors, Glob};
use crate::decide::{BucketCors, PreflightRequest, actual, preflight, requested_headers};
use crate::model::CorsConfiguration;

/// The request to explain: the fields of a preflight, where for an actual request `method` is the
/// request's method (or its `Access-Control-Request-Method`, R62).
#[derive(Debug, Clone, Copy, Default)]
pub struct ExplainRequest<'a> {
    /// Origin, method, requested headers, and whether the URL names a key.
    pub request: PreflightRequest<'a>,
    /// An `OPTIONS` preflight (otherwise an actual request carrying `Origin`).
    pub preflight: bool,
}

/// What one rule made of the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleReport {
    /// 1-based position in the configuration.
    pub rule: usize,
    /// The rule's `ID`.
    pub id: Option<String>,
    /// The first `AllowedOrigin` matching the origin; `None` when none does.
    pub origin_matched_by: Option<String>,
    /// Whether the method is among the rule's `AllowedMethod`s.
    pub method_allowed: bool,
    /// The rule's `AllowedMethod`s.
    pub allowed_methods: Vec<String>,
    /// The first requested header no `AllowedHeader` covers.
    pub header_not_allowed: Option<String>,
    /// All three checks pass.
    pub matches: bool,
}

/// The outcome, as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// CORS allows the request (a preflight is answered 200; an actual response carries the headers).
    pub allowed: bool,
    /// The 1-based rule that decided it.
    pub rule: Option<usize>,
    /// The HTTP status of a preflight answer; `None` for an actual request (its status is the
    /// operation's).
    pub status: Option<u16>,
    /// The S3 error code and message of a refused preflight.
    pub error: Option<(String, String)>,
    /// The CORS response headers, in emission order.
    pub headers: Vec<(String, String)>,
}

/// A request explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// One line for the `x-s3cors-cors-decision` header, e.g. `denied: rule 1 (id=uploads) origin ok,
    /// method DELETE not in [GET, PUT]; rule 2 origin mismatch`. Visible ASCII only, at most 2000
    /// bytes.
    pub summary: String,
    /// The decision.
    pub decision: Decision,
    /// Every rule, in evaluation order (empty without a configuration).
    pub rules: Vec<RuleReport>,
    /// Why there was nothing to match against, when that is the reason.
    pub reason: Option<&'static str>,
}

/// The longest one-line summary ([`Explanation::summary`]).
const MAX_SUMMARY: usize = 2000;

/// Explains `req` against a bucket: `config` is its configuration (`None`: the bucket has none), and
/// `bucket_exists` whether there is a bucket at all.
pub fn explain(
    config: Option<&CorsConfiguration>,
    bucket_exists: bool,
    req: &ExplainRequest<'_>,
) -> Explanation {
    let compiled = config.map(CompiledCors::compile);
    let state = match (&compiled, bucket_exists) {
        (_, false) => BucketCors::NoBucket,
        (Some(c), true) => BucketCors::Configured(c),
        (None, true) => BucketCors::NotConfigured,
    };
    let pf = &req.request;
    let decision = if req.preflight {
        match preflight(state, pf) {
            Ok(h) => Decision {
                allowed: true,
                rule: Some(h.rule + 1),
                status: Some(200),
                error: None,
                headers: h.pairs().map(|(n, v)| (n.to_owned(), v.into_owned())).collect(),
            },
            Err(e) => Decision {
                allowed: false,
                rule: None,
                status: Some(e.status()),
                error: Some((e.code().to_owned(), e.to_string())),
                headers: Vec::new(),
            },
        }
    } else {
        match actual(state, pf.origin, pf.method.unwrap_or("GET"), None, pf.headers) {
            Some(h) => Decision {
                allowed: true,
                rule: Some(h.rule + 1),
                status: None,
                error: None,
                headers: h.pairs().map(|(n, v)| (n.to_owned(), v.into_owned())).collect(),
            },
            None => Decision {
                allowed: false,
                rule: None,
                status: None,
                error: None,
                headers: Vec::new(),
            },
        }
    };
    let origin = pf.origin.filter(|o| !o.is_empty());
    let reason = match state {
        _ if origin.is_none() => Some("the request has no Origin header"),
        BucketCors::NoBucket => Some("the bucket does not exist"),
        BucketCors::NotConfigured => Some("the bucket has no CORS configuration"),
        BucketCors::Configured(_) if req.preflight && pf.method.is_none() => {
            Some("the preflight has no Access-Control-Request-Method header")
        }
        BucketCors::Configured(_) => None,
    };
    let rules = match (config, origin) {
        (Some(config), Some(origin)) if bucket_exists => rule_reports(config, origin, req),
        _ => Vec::new(),
    };
    let summary = summary(&decision, &rules, reason, pf.method.unwrap_or("GET"));
    Explanation {
        summary,
        decision,
        rules,
        reason,
    }
}

fn rule_reports(config: &CorsConfiguration, origin: &str, req: &ExplainRequest<'_>) -> Vec<RuleReport> {
    let method = req.request.method.unwrap_or("GET");
    let requested: Vec<&str> = requested_headers(req.request.headers.unwrap_or("")).collect();
    config
        .rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let origin_matched_by = r
                .allowed_origins
                .iter()
                .find(|o| Glob::new(o, false).matches(origin))
                .cloned();
            let method_allowed = r.allowed_methods.iter().any(|m| m == method);
            let globs: Vec<Glob> = r.allowed_headers.iter().map(|h| Glob::new(h, true)).collect();
            let header_not_allowed = requested
                .iter()
                .find(|n| !globs.iter().any(|g| g.matches_ignore_case(n)))
                .map(|n| n.to_ascii_lowercase());
            RuleReport {
                rule: i + 1,
                id: r.id.clone(),
                matches: origin_matched_by.is_some() && method_allowed && header_not_allowed.is_none(),
                origin_matched_by,
                method_allowed,
                allowed_methods: r.allowed_methods.clone(),
                header_not_allowed,
            }
        })
        .collect()
}

impl RuleReport {
    fn name(&self) -> String {
        match &self.id {
            Some(id) => format!("rule {} (id={id})", self.rule),
            None => format!("rule {}", self.rule),
        }
    }

    /// What failed, in evaluation order: `origin mismatch`, `origin ok, method DELETE not in [GET, PUT]`,
    /// `origin ok, method ok, header x-foo not allowed`, or `matches`.
    pub fn verdict(&self, method: &str) -> String {
        if self.origin_matched_by.is_none() {
            return "origin mismatch".to_owned();
        }
        if !self.method_allowed {
            return format!(
                "origin ok, method {method} not in [{}]",
                self.allowed_methods.join(", ")
            );
        }
        match &self.header_not_allowed {
            Some(h) => format!("origin ok, method ok, header {h} not allowed"),
            None => "matches".to_owned(),
        }
    }
}

/// [`Explanation::summary`].
fn summary(decision: &Decision, rules: &[RuleReport], reason: Option<&str>, method: &str) -> String {
    let mut s = String::from(if decision.allowed { "allowed" } else { "denied" });
    if let Some(reason) = reason {
        let _ = write!(s, ": {reason}");
    } else {
        let shown = rules
            .iter()
            .position(|r| r.matches)
            .map_or(rules.len(), |i| i + 1);
        for (i, r) in rules[..shown].iter().enumerate() {
            let _ = write!(
                s,
                "{}{} {}",
                if i == 0 { ": " } else { "; " },
                r.name(),
                r.verdict(method)
            );
        }
    }
    let mut clean: String = s
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
        .collect();
    if clean.len() > MAX_SUMMARY {
        clean.truncate(MAX_SUMMARY - 3);
        clean.push_str("...");
    }
    clean
}
