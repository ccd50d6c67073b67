//! The query string of a request, decoded.

use crate::error::{S3Error, S3ErrorCode};

/// Query parameters in request order, percent-decoded. A parameter without `=` has an empty value
/// (`?cors`, `?uploads`). The decoded text lives in one buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Every decoded name and value, back to back.
    text: String,
    /// For each parameter: where its name starts, where its name ends and its value starts, where
    /// its value ends, in `text`.
    spans: Vec<[usize; 3]>,
}

/// The value of one hex digit.
fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes `s` onto `out`: `%XX` becomes its byte, anything else (a `%` not followed by two
/// hex digits included) is copied as it is. The bytes are copied in runs between escapes.
fn percent_decode_onto(out: &mut Vec<u8>, s: &[u8]) {
    let mut rest = s;
    while let Some(at) = rest.iter().position(|&b| b == b'%') {
        out.extend_from_slice(&rest[..at]);
        match (
            rest.get(at + 1).copied().and_then(hex_value),
            rest.get(at + 2).copied().and_then(hex_value),
        ) {
            (Some(hi), Some(lo)) => {
                out.push(hi << 4 | lo);
                rest = &rest[at + 3..];
            }
            _ => {
                out.push(b'%');
                rest = &rest[at + 1..];
            }
        }
    }
    out.extend_from_slice(rest);
}

/// Percent-decodes `s` onto `out`; the decoded bytes on their own must be UTF-8.
fn decode_onto(out: &mut Vec<u8>, s: &str) -> Result<(), S3Error> {
    let start = out.len();
    percent_decode_onto(out, s.as_bytes());
    match std::str::from_utf8(&out[start..]) {
        Ok(_) => Ok(()),
        Err(_) => Err(S3Error::new(S3ErrorCode::InvalidURI)),
    }
}

impl Query {
    /// Parses a raw query string (without `?`).
    pub fn parse(raw: &str) -> Result<Self, S3Error> {
        let mut text = Vec::with_capacity(raw.len());
        let mut spans = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let start = text.len();
            decode_onto(&mut text, k)?;
            let mid = text.len();
            decode_onto(&mut text, v)?;
            spans.push([start, mid, text.len()]);
        }
        // Each span is UTF-8 on its own, so the whole is too.
        let text = String::from_utf8(text).map_err(|_| S3Error::new(S3ErrorCode::InvalidURI))?;
        Ok(Query { text, spans })
    }

    /// Whether the parameter is present.
    pub fn has(&self, name: &str) -> bool {
        self.pairs().any(|(k, _)| k == name)
    }

    /// The first value of the parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// All parameters in order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.spans.iter().map(|&[start, mid, end]| {
            (
                self.text.get(start..mid).unwrap_or_default(),
                self.text.get(mid..end).unwrap_or_default(),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flags_and_values() {
        let q = Query::parse("uploads&prefix=a%2Fb&max-keys=10&empty=").expect("valid");
        assert!(q.has("uploads"));
        assert_eq!(q.get("uploads"), Some(""));
        assert_eq!(q.get("prefix"), Some("a/b"));
        assert_eq!(q.get("max-keys"), Some("10"));
        assert_eq!(q.get("empty"), Some(""));
        assert!(!q.has("cors"));
        assert!(Query::parse("").expect("valid").is_empty());
        assert!(Query::parse("a=%ff").is_err());
        assert!(
            Query::parse("%e2%82=%ac").is_err(),
            "a character split across name and value"
        );
        let q = Query::parse("k=%E2%82%AC&%41=b&flag").expect("valid");
        assert_eq!(
            q.pairs().collect::<Vec<_>>(),
            [("k", "€"), ("A", "b"), ("flag", "")]
        );
    }

    #[test]
    fn malformed_escapes_pass_through() {
        let q = Query::parse("a=%&b=%4&c=%zz1&d=100%25&e=%4g").expect("valid");
        assert_eq!(
            q.pairs().collect::<Vec<_>>(),
            [("a", "%"), ("b", "%4"), ("c", "%zz1"), ("d", "100%"), ("e", "%4g")]
        );
    }

    proptest::proptest! {
        /// The decoder agrees with the `percent-encoding` crate on any input.
        #[test]
        fn decoding_matches_percent_encoding(s in "([a-zA-Z0-9=&%~._-]|%[0-9a-fA-F]{2}|%[0-9a-zA-Z]?)*") {
            let ours = Query::parse(&s);
            let reference: Option<Vec<(String, String)>> = s
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    let dec = |x: &str| percent_encoding::percent_decode_str(x).decode_utf8().ok().map(String::from);
                    Some((dec(k)?, dec(v)?))
                })
                .collect();
            match (ours, reference) {
                (Ok(q), Some(r)) => proptest::prop_assert!(q.pairs().eq(r.iter().map(|(k, v)| (k.as_str(), v.as_str())))),
                (Err(_), None) => {}
                (ours, reference) => proptest::prop_assert!(false, "{ours:?} against {reference:?}"),
            }
        }
    }
}
