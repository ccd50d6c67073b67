//! The compiled form of a configuration: built once when it is stored, so that deciding a request
//! neither parses nor allocates per rule (§7).

use crate::model::CorsConfiguration;

/// A pattern with at most one `*`, which matches any sequence including the empty one (R70, R69).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Glob {
    /// No `*`: the whole value must be equal.
    Exact(String),
    /// `prefix*suffix`.
    Wild { prefix: String, suffix: String },
}

impl Glob {
    pub(crate) fn new(pattern: &str, lower: bool) -> Glob {
        let p = if lower {
            pattern.to_ascii_lowercase()
        } else {
            pattern.to_owned()
        };
        match p.split_once('*') {
            Some((prefix, suffix)) => Glob::Wild {
                prefix: prefix.to_owned(),
                suffix: suffix.to_owned(),
            },
            None => Glob::Exact(p),
        }
    }

    /// Case-sensitive match (origins, R70–R71; header names once lower-cased, R69).
    pub(crate) fn matches(&self, s: &str) -> bool {
        let (s, n) = (s.as_bytes(), s.len());
        match self {
            Glob::Exact(e) => same(e.as_bytes(), s),
            Glob::Wild { prefix, suffix } => {
                let (p, x) = (prefix.as_bytes(), suffix.as_bytes());
                n >= p.len() + x.len() && same(&s[..p.len()], p) && same(&s[n - x.len()..], x)
            }
        }
    }

    /// Whether every value `other` matches, this pattern matches too (both built alike; `lower` for
    /// header patterns).
    pub(crate) fn covers(&self, other: &Glob, lower: bool) -> bool {
        let starts = |s: &str, p: &str| {
            s.len() >= p.len() && s.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
        };
        let ends = |s: &str, x: &str| {
            s.len() >= x.len() && s.as_bytes()[s.len() - x.len()..].eq_ignore_ascii_case(x.as_bytes())
        };
        match (self, other) {
            (_, Glob::Exact(x)) if lower => self.matches_ignore_case(x),
            (_, Glob::Exact(x)) => self.matches(x),
            (Glob::Exact(_), Glob::Wild { .. }) => false,
            (
                Glob::Wild { prefix, suffix },
                Glob::Wild {
                    prefix: p2,
                    suffix: s2,
                },
            ) if lower => starts(p2, prefix) && ends(s2, suffix),
            (
                Glob::Wild { prefix, suffix },
                Glob::Wild {
                    prefix: p2,
                    suffix: s2,
                },
            ) => p2.starts_with(prefix.as_str()) && s2.ends_with(suffix.as_str()),
        }
    }

    /// ASCII case-insensitive match against a lower-case pattern (headers, R69).
    pub(crate) fn matches_ignore_case(&self, s: &str) -> bool {
        let (s, n) = (s.as_bytes(), s.len());
        match self {
            Glob::Exact(e) => e.as_bytes().eq_ignore_ascii_case(s),
            Glob::Wild { prefix, suffix } => {
                let (p, x) = (prefix.as_bytes(), suffix.as_bytes());
                n >= p.len() + x.len()
                    && s[..p.len()].eq_ignore_ascii_case(p)
                    && s[n - x.len()..].eq_ignore_ascii_case(x)
            }
        }
    }
}

/// Byte equality for the short strings of origins and header names: one pass without early exit,
/// which compiles to a few vector steps instead of a call to `memcmp`.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |d, (x, y)| d | (x ^ y)) == 0
}

/// The five methods as bits.
pub(crate) fn method_bit(method: &str) -> u8 {
    match method {
        "GET" => 1,
        "PUT" => 2,
        "HEAD" => 4,
        "POST" => 8,
        "DELETE" => 16,
        _ => 0,
    }
}

/// One rule, ready to match, with its response header values precomputed.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    /// Index of this rule's `AllowedOrigin` list in [`CompiledCors::origin_sets`].
    pub(crate) origin_set: usize,
    /// The rule lists the literal origin `*`: ACAO is `*` (R47).
    pub(crate) any_origin: bool,
    pub(crate) methods: u8,
    /// Index of this rule's `AllowedHeader` list in [`CompiledCors::header_sets`].
    pub(crate) header_set: usize,
    /// ACAM: all methods, configured order, `", "` (R49).
    pub(crate) allow_methods: String,
    /// ACEH: verbatim, configured order, `", "` (R51).
    pub(crate) expose_headers: Option<String>,
    /// ACMA (R52).
    pub(crate) max_age: Option<String>,
}

/// A rule's response header values that do not depend on the request.
#[derive(Debug, Clone, Copy)]
pub struct FixedHeaders<'a> {
    /// The rule lists the origin `*`: `Access-Control-Allow-Origin: *` and no
    /// `Access-Control-Allow-Credentials` (R47, R48); otherwise the origin is echoed.
    pub any_origin: bool,
    /// `Access-Control-Allow-Methods` (R49).
    pub allow_methods: &'a str,
    /// `Access-Control-Expose-Headers` (R51).
    pub expose_headers: Option<&'a str>,
    /// `Access-Control-Max-Age` (R52).
    pub max_age: Option<&'a str>,
}

/// A configuration compiled for matching.
#[derive(Debug, Clone)]
pub struct CompiledCors {
    pub(crate) rules: Vec<CompiledRule>,
    /// The distinct `AllowedHeader` lists (lower-cased globs): rules sharing a list share one check
    /// per request.
    pub(crate) header_sets: Vec<Vec<Glob>>,
    /// The distinct `AllowedOrigin` lists, shared the same way.
    pub(crate) origin_sets: Vec<Vec<Glob>>,
}

/// The index of `set` in `sets`, added if it is new.
fn intern(sets: &mut Vec<Vec<Glob>>, set: Vec<Glob>) -> usize {
    match sets.iter().position(|s| *s == set) {
        Some(i) => i,
        None => {
            sets.push(set);
            sets.len() - 1
        }
    }
}

impl CompiledCors {
    /// Compiles a (validated) configuration.
    pub fn compile(config: &CorsConfiguration) -> CompiledCors {
        let (mut header_sets, mut origin_sets) = (Vec::new(), Vec::new());
        let rules = config
            .rules
            .iter()
            .map(|r| CompiledRule {
                header_set: intern(
                    &mut header_sets,
                    r.allowed_headers.iter().map(|h| Glob::new(h, true)).collect(),
                ),
                origin_set: intern(
                    &mut origin_sets,
                    r.allowed_origins.iter().map(|o| Glob::new(o, false)).collect(),
                ),
                any_origin: r.allowed_origins.iter().any(|o| o == "*"),
                methods: r.allowed_methods.iter().fold(0, |bits, m| bits | method_bit(m)),
                allow_methods: r.allowed_methods.join(", "),
                expose_headers: (!r.expose_headers.is_empty()).then(|| r.expose_headers.join(", ")),
                max_age: r.max_age_seconds.map(|s| s.to_string()),
            })
            .collect();
        CompiledCors {
            rules,
            header_sets,
            origin_sets,
        }
    }

    /// Each rule's response header values that do not depend on the request, in rule order, as
    /// [`CorsHeaders`](crate::CorsHeaders) carries them.
    pub fn fixed_headers(&self) -> impl Iterator<Item = FixedHeaders<'_>> {
        self.rules.iter().map(|r| FixedHeaders {
            any_origin: r.any_origin,
            allow_methods: &r.allow_methods,
            expose_headers: r.expose_headers.as_deref(),
            max_age: r.max_age.as_deref(),
        })
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules (never true for a validated configuration).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R70's examples: one `*` matches any sequence, including the empty one, across `.`, `/`, `:`.
    #[test]
    fn r70_origin_globs() {
        #[rustfmt::skip]
        let cases: &[(&str, &str, bool)] = &[
            ("http://*.origin.com", "http://test.origin.com", true),
            ("http://*.origin.com", "http://test.origin.com/", false),
            ("https://localhost:4200", "http://localhost:4200", false),
            ("http://www.example.com", "https://www.example.com", false),
            ("http://www.example.com", "http://www.example.com:80", false),
            ("*suffix", "foo.suffix", true),
            ("*suffix", "foo.suffix.get", false),
            ("start*end", "startend", true),
            ("start*end", "start1end", true),
            ("start*end", "start12end", true),
            ("start*end", "0start12end", false),
            ("prefix*", "prefix", true),
            ("prefix*", "prefix.suffix", true),
            ("prefix*", "bla.prefix", false),
            ("http://www.allowedorigin.*", "http://www.allowedorigin.", true),
            ("http://www.allowedorigin.*", "http://www.allowedorigin.test", true),
            ("*.allowedorigin.com", ".allowedorigin.com", true),
            ("*", "localhost:4566", true),
            ("*", "example.origin", true),
            ("ab*ba", "aba", false),
            ("HTTP://A.COM", "http://a.com", false),
        ];
        for (pattern, origin, expected) in cases {
            assert_eq!(
                Glob::new(pattern, false).matches(origin),
                *expected,
                "{pattern} vs {origin}"
            );
        }
    }

    /// R69: header globs are case-insensitive, one `*` anywhere.
    #[test]
    fn r69_header_globs() {
        #[rustfmt::skip]
        let cases: &[(&str, &str, bool)] = &[
            ("x-amz-*", "X-Amz-Date", true),
            ("x-amz-*", "x-amz-", true),
            ("amz-*", "x-amz-date", false),
            ("*", "anything", true),
            ("x-AMZ-server-SIDE-encryption", "x-amz-server-side-encryption", true),
            ("*-id", "amz-sdk-invocation-ID", true),
            ("content-*-md5", "content-x-md5", true),
            ("content-type", "content-typ", false),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(
                Glob::new(pattern, true).matches_ignore_case(name),
                *expected,
                "{pattern} vs {name}"
            );
        }
    }
}
