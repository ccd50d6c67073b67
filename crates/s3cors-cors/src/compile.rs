//! The compiled form of a configuration: built once when it is stored, so that deciding a request
//! neither parses nor allocates per rule (§7).

use std::collections::HashMap;

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
    #[inline]
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

/// The five methods as bits, in the order of [`RuleIndex`]'s per-method sets.
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
    /// The rules an origin and a method can match, for configurations of up to [`RuleBits::BITS`]
    /// rules (S3 allows 100, R24).
    pub(crate) index: Option<RuleIndex>,
}

/// A set of rules, bit `i` for rule `i`: ascending bits are rule order.
pub(crate) type RuleBits = u128;

/// Which rules can allow an origin and a method, found without visiting the others: an exact origin
/// is one hash lookup, and the patterns with `*` are matched only when a rule listing one is reached.
#[derive(Debug, Clone)]
pub(crate) struct RuleIndex {
    /// Per method (the bit positions of [`method_bit`]), the rules listing it.
    by_method: [RuleBits; 5],
    /// Each exact `AllowedOrigin`, with the rules listing it.
    exact: HashMap<Box<str>, RuleBits, foldhash::fast::RandomState>,
    /// Each distinct pattern with a `*` (the literal `*` included), with the rules listing it.
    wild: Vec<(Prefilter, Glob, RuleBits)>,
    /// The rules listing one of those.
    wild_rules: RuleBits,
    /// Per `AllowedHeader` list ([`CompiledRule::header_set`]), the rules sharing it: once a request
    /// fails it, none of them can match.
    pub(crate) header_set_rules: Vec<RuleBits>,
}

/// The rules [`RuleIndex::candidates`] finds for a request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidates {
    /// The rules listing the method and the origin itself.
    pub(crate) listed: RuleBits,
    /// Those, and the rules listing the method and a pattern with `*`.
    pub(crate) possible: RuleBits,
}

impl RuleIndex {
    /// `None` when there are more rules than [`RuleBits`] holds.
    fn new(rules: &[CompiledRule], origin_sets: &[Vec<Glob>], header_sets: usize) -> Option<RuleIndex> {
        if rules.len() > RuleBits::BITS as usize {
            return None;
        }
        let mut index = RuleIndex {
            by_method: [0; 5],
            exact: HashMap::default(),
            wild: Vec::new(),
            wild_rules: 0,
            header_set_rules: vec![0; header_sets],
        };
        for (i, rule) in rules.iter().enumerate() {
            let bit: RuleBits = 1 << i;
            for (m, set) in index.by_method.iter_mut().enumerate() {
                if rule.methods & (1 << m) != 0 {
                    *set |= bit;
                }
            }
            *index.header_set_rules.get_mut(rule.header_set)? |= bit;
            for glob in origin_sets.get(rule.origin_set)? {
                match glob {
                    Glob::Exact(o) => *index.exact.entry(o.as_str().into()).or_default() |= bit,
                    Glob::Wild { prefix, suffix } => {
                        index.wild_rules |= bit;
                        match index.wild.iter_mut().find(|(_, g, _)| g == glob) {
                            Some((_, _, set)) => *set |= bit,
                            None => index
                                .wild
                                .push((Prefilter::new(prefix, suffix), glob.clone(), bit)),
                        }
                    }
                }
            }
        }
        Some(index)
    }

    /// The rules that can allow `origin` with the method `bit` (one of [`method_bit`]'s).
    pub(crate) fn candidates(&self, origin: &str, bit: u8) -> Candidates {
        let by_method = self.by_method[(bit.trailing_zeros() as usize).min(4)];
        let listed = self.exact.get(origin).copied().unwrap_or(0) & by_method;
        Candidates {
            listed,
            possible: listed | (self.wild_rules & by_method),
        }
    }

    /// Of the rules `wanted`, those listing a pattern with `*` that `origin` matches (R70–R71).
    pub(crate) fn wild_matches(&self, origin: &str, wanted: RuleBits) -> RuleBits {
        let ends = Ends::of(origin.as_bytes());
        self.wild.iter().fold(0, |found, (pre, glob, rules)| {
            if rules & wanted & !found != 0 && pre.admits(&ends) && glob.matches(origin) {
                found | (rules & wanted)
            } else {
                found
            }
        })
    }
}

/// A value's length and its first and last eight bytes as words (zero-padded when shorter).
#[derive(Debug, Clone, Copy)]
struct Ends {
    len: usize,
    head: u64,
    tail: u64,
}

impl Ends {
    fn of(s: &[u8]) -> Ends {
        let (mut head, mut tail) = ([0u8; 8], [0u8; 8]);
        let n = s.len().min(8);
        head[..n].copy_from_slice(&s[..n]);
        tail[8 - n..].copy_from_slice(&s[s.len() - n..]);
        Ends {
            len: s.len(),
            head: u64::from_le_bytes(head),
            tail: u64::from_le_bytes(tail),
        }
    }
}

/// A cheap necessary condition for `prefix*suffix` to match: the length, and the prefix's first and
/// the suffix's last eight bytes, compared as masked words. Most non-matching origins fail it
/// without the pattern's strings being read.
#[derive(Debug, Clone, Copy)]
struct Prefilter {
    min_len: usize,
    head: u64,
    head_mask: u64,
    tail: u64,
    tail_mask: u64,
}

impl Prefilter {
    fn new(prefix: &str, suffix: &str) -> Prefilter {
        let (p, x) = (prefix.len().min(8), suffix.len().min(8));
        // The low `p` bytes of the head, the high `x` bytes of the tail.
        let head_mask = u64::MAX.checked_shr(64 - 8 * p as u32).unwrap_or(0);
        let tail_mask = u64::MAX.checked_shl(64 - 8 * x as u32).unwrap_or(0);
        let (h, t) = (Ends::of(prefix.as_bytes()), Ends::of(suffix.as_bytes()));
        Prefilter {
            min_len: prefix.len() + suffix.len(),
            head: h.head & head_mask,
            head_mask,
            tail: t.tail & tail_mask,
            tail_mask,
        }
    }

    fn admits(&self, e: &Ends) -> bool {
        (e.len >= self.min_len)
            & (e.head & self.head_mask == self.head)
            & (e.tail & self.tail_mask == self.tail)
    }
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
            .collect::<Vec<_>>();
        CompiledCors {
            index: RuleIndex::new(&rules, &origin_sets, header_sets.len()),
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

    /// The prefilter never refuses an origin the pattern matches (it is a necessary condition), across
    /// prefixes and suffixes shorter and longer than its eight-byte words.
    #[test]
    fn prefilter_admits_every_match() {
        use proptest::prelude::*;
        proptest!(|(prefix in "[ab:/.]{0,11}", suffix in "[ab:/.]{0,11}", s in "[ab:/.]{0,24}",
                    middle in "[ab]{0,3}")| {
            let pre = Prefilter::new(&prefix, &suffix);
            let glob = Glob::new(&format!("{prefix}*{suffix}"), false);
            // A value built to match, and an arbitrary one.
            let built = format!("{prefix}{middle}{suffix}");
            prop_assert!(glob.matches(&built) && pre.admits(&Ends::of(built.as_bytes())), "{built}");
            if glob.matches(&s) {
                prop_assert!(pre.admits(&Ends::of(s.as_bytes())), "{s}");
            }
        });
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
