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

/// An error unless `component`, which had an escape decoded into it, is UTF-8. A component without
/// escapes is a slice of the request's `&str`, so it needs no check.
fn check_decoded(escaped: bool, component: &[u8]) -> Result<(), S3Error> {
    if escaped && std::str::from_utf8(component).is_err() {
        return Err(S3Error::new(S3ErrorCode::InvalidURI));
    }
    Ok(())
}

impl Query {
    /// The query of a request without one.
    pub const EMPTY: Query = Query {
        text: String::new(),
        spans: Vec::new(),
    };

    /// Parses a raw query string (without `?`) in one pass. `%XX` becomes its byte; anything else,
    /// a `%` not followed by two hex digits included, is kept as it is. Each decoded name and value
    /// must be UTF-8 on its own (`InvalidURI` otherwise).
    pub fn parse(raw: &str) -> Result<Self, S3Error> {
        let raw = raw.as_bytes();
        let mut text = Vec::with_capacity(raw.len());
        // Presigned requests carry seven parameters.
        let mut spans = Vec::with_capacity(8);
        // The current parameter: where it starts in `raw`, where its name starts and its value
        // starts in `text`, and whether the current component had an escape decoded.
        let (mut part_start, mut name_start, mut value_start) = (0, 0, None);
        let mut escaped = false;
        let mut i = 0;
        // The parser stops at `&` (ends a parameter), `=` (the first ends its name) and `%` (starts
        // an escape); everything between is copied in runs. One search over the whole query finds
        // the stops many bytes at a time (an escape's two hex digits are never one).
        let mut stops = memchr::memchr3_iter(b'&', b'=', b'%', raw);
        loop {
            let stop = stops.find(|&j| j >= i);
            let end = stop.unwrap_or(raw.len());
            text.extend_from_slice(&raw[i..end]);
            match stop.map(|j| raw[j]) {
                Some(b'%') => match (
                    raw.get(end + 1).copied().and_then(hex_value),
                    raw.get(end + 2).copied().and_then(hex_value),
                ) {
                    (Some(hi), Some(lo)) => {
                        text.push(hi << 4 | lo);
                        escaped = true;
                        i = end + 3;
                    }
                    _ => {
                        text.push(b'%');
                        i = end + 1;
                    }
                },
                Some(b'=') if value_start.is_none() => {
                    check_decoded(escaped, &text[name_start..])?;
                    value_start = Some(text.len());
                    escaped = false;
                    i = end + 1;
                }
                Some(b'=') => {
                    text.push(b'=');
                    i = end + 1;
                }
                // `&` or the end: the parameter is complete (an empty one, `&&`, is skipped).
                _ => {
                    // The component that just ended: the value, or the name of a bare flag.
                    check_decoded(escaped, &text[value_start.unwrap_or(name_start)..])?;
                    let value = value_start.unwrap_or(text.len());
                    if end > part_start {
                        spans.push([name_start, value, text.len()]);
                    }
                    if stop.is_none() {
                        break;
                    }
                    i = end + 1;
                    (part_start, name_start, value_start, escaped) = (i, text.len(), None, false);
                }
            }
        }
        // Each name and value is UTF-8 on its own, so the whole is too.
        let text = String::from_utf8(text).map_err(|_| S3Error::new(S3ErrorCode::InvalidURI))?;
        Ok(Query { text, spans })
    }

    /// The span of the first parameter called `name`. Names are compared as bytes: routing asks
    /// for a dozen names per request, and a `&str` slice would check character boundaries each time.
    fn find(&self, name: &str) -> Option<&[usize; 3]> {
        let text = self.text.as_bytes();
        self.spans
            .iter()
            .find(|&&[start, mid, _]| text.get(start..mid) == Some(name.as_bytes()))
    }

    /// Whether the parameter is present.
    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    /// The first value of the parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.find(name).and_then(|&[_, mid, end]| self.text.get(mid..end))
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
        assert!(Query::parse("%ff").is_err(), "an invalid flag name");
        assert!(
            Query::parse("a=1&%ff&b").is_err(),
            "an invalid flag name between others"
        );
        assert!(
            Query::parse("%e2%82&%ac").is_err(),
            "a character split across a flag and the next name"
        );
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
            [
                ("a", "%"),
                ("b", "%4"),
                ("c", "%zz1"),
                ("d", "100%"),
                ("e", "%4g")
            ]
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
