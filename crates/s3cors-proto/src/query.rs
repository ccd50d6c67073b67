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

/// Percent-decodes `s` onto `out`; the decoded bytes must be UTF-8.
fn decode_onto(out: &mut String, s: &str) -> Result<(), S3Error> {
    match percent_encoding::percent_decode_str(s).decode_utf8() {
        Ok(decoded) => {
            out.push_str(&decoded);
            Ok(())
        }
        Err(_) => Err(S3Error::new(S3ErrorCode::InvalidURI)),
    }
}

impl Query {
    /// Parses a raw query string (without `?`).
    pub fn parse(raw: &str) -> Result<Self, S3Error> {
        let mut text = String::with_capacity(raw.len());
        let mut spans = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            let start = text.len();
            decode_onto(&mut text, k)?;
            let mid = text.len();
            decode_onto(&mut text, v)?;
            spans.push([start, mid, text.len()]);
        }
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
}
