//! The query string of a request, decoded.

use crate::error::{S3Error, S3ErrorCode};

/// Query parameters in request order, percent-decoded. A parameter without `=` has an empty value
/// (`?cors`, `?uploads`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

fn decode(s: &str) -> Result<String, S3Error> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| S3Error::new(S3ErrorCode::InvalidURI))
}

impl Query {
    /// Parses a raw query string (without `?`).
    pub fn parse(raw: &str) -> Result<Self, S3Error> {
        let mut pairs = Vec::new();
        for part in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode(k)?, decode(v)?));
        }
        Ok(Query { pairs })
    }

    /// Whether the parameter is present.
    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }

    /// The first value of the parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// All parameters in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
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
    }
}
