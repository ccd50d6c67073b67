//! S3's semantic validation of a configuration (§2.3), with its exact messages (§1, R2).

use std::fmt;

use crate::model::{ALLOWED_METHODS, CorsConfiguration, MAX_ID_LEN, MAX_RULES};

/// Why S3 refuses a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidationError {
    /// No rules at all (R11).
    NoRules,
    /// A rule without `AllowedOrigin` or `AllowedMethod` (R12).
    MissingElement,
    /// More than 100 rules (R24, E7).
    TooManyRules,
    /// An `AllowedMethod` outside GET, PUT, HEAD, POST, DELETE (R17, R18, E2).
    UnsupportedMethod(String),
    /// An `AllowedOrigin` with more than one `*` (R19, E3).
    OriginWildcards(String),
    /// An `AllowedHeader` with more than one `*` (R20, E4).
    HeaderWildcards(String),
    /// An `ExposeHeader` with a `*` (R21, E5).
    ExposeWildcard(String),
    /// A header value with a character that cannot be in a header name (R22, E6).
    InvalidHeaderCharacter(String),
    /// An `ID` longer than 255 characters (R23).
    IdTooLong,
}

impl ValidationError {
    /// The S3 error code.
    pub fn code(&self) -> &'static str {
        match self {
            ValidationError::NoRules | ValidationError::MissingElement => "MalformedXML",
            ValidationError::IdTooLong => "InvalidArgument",
            _ => "InvalidRequest",
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidationError::NoRules | ValidationError::MissingElement => f.write_str(
                "The XML you provided was not well-formed or did not validate against our published schema",
            ),
            ValidationError::TooManyRules => {
                f.write_str("The number of CORS rules should not exceed allowed limit of 100 rules.")
            }
            ValidationError::UnsupportedMethod(m) => {
                write!(
                    f,
                    "Found unsupported HTTP method in CORS config. Unsupported method is {m}"
                )
            }
            ValidationError::OriginWildcards(o) => {
                write!(f, "AllowedOrigin \"{o}\" can not have more than one wildcard.")
            }
            ValidationError::HeaderWildcards(h) => {
                write!(f, "AllowedHeader \"{h}\" can not have more than one wildcard.")
            }
            ValidationError::ExposeWildcard(h) => write!(
                f,
                "ExposeHeader \"{h}\" contains wildcard. We currently do not support wildcard for ExposeHeader."
            ),
            // S3 names AllowedHeader even when the value is an ExposeHeader (R22).
            ValidationError::InvalidHeaderCharacter(h) => {
                write!(f, "AllowedHeader \"{h}\" contains invalid character.")
            }
            ValidationError::IdTooLong => f.write_str("ID length should not exceed allowed limit of 255"),
        }
    }
}

impl std::error::Error for ValidationError {}

/// Whether `c` may appear in an HTTP header name (an RFC 9110 `tchar`).
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Checks a configuration as S3 does: rules in document order, the first defect reported, and within
/// a rule: required elements, methods, origins, allowed headers, expose headers, ID (§2.3).
pub fn validate(config: &CorsConfiguration) -> Result<(), ValidationError> {
    if config.rules.is_empty() {
        return Err(ValidationError::NoRules);
    }
    if config.rules.len() > MAX_RULES {
        return Err(ValidationError::TooManyRules);
    }
    for rule in &config.rules {
        if rule.allowed_origins.is_empty() || rule.allowed_methods.is_empty() {
            return Err(ValidationError::MissingElement);
        }
        if let Some(m) = rule
            .allowed_methods
            .iter()
            .find(|m| !ALLOWED_METHODS.contains(&m.as_str()))
        {
            return Err(ValidationError::UnsupportedMethod(m.clone()));
        }
        if let Some(o) = rule.allowed_origins.iter().find(|o| o.matches('*').count() > 1) {
            return Err(ValidationError::OriginWildcards(o.clone()));
        }
        for h in &rule.allowed_headers {
            if h.matches('*').count() > 1 {
                return Err(ValidationError::HeaderWildcards(h.clone()));
            }
            if !h.chars().all(is_token_char) {
                return Err(ValidationError::InvalidHeaderCharacter(h.clone()));
            }
        }
        for h in &rule.expose_headers {
            if h.contains('*') {
                return Err(ValidationError::ExposeWildcard(h.clone()));
            }
            if !h.chars().all(is_token_char) {
                return Err(ValidationError::InvalidHeaderCharacter(h.clone()));
            }
        }
        if rule.id.as_ref().is_some_and(|id| id.chars().count() > MAX_ID_LEN) {
            return Err(ValidationError::IdTooLong);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CorsRule;

    fn rule() -> CorsRule {
        CorsRule {
            allowed_origins: vec!["*".into()],
            allowed_methods: vec!["GET".into()],
            ..CorsRule::default()
        }
    }

    fn check(edit: impl FnOnce(&mut CorsRule)) -> Result<(), (String, &'static str)> {
        let mut r = rule();
        edit(&mut r);
        validate(&CorsConfiguration { rules: vec![r] }).map_err(|e| (e.to_string(), e.code()))
    }

    /// `(rule number, edit, expected message or None for valid)`.
    #[test]
    fn validation_table() {
        type Edit = fn(&mut CorsRule);
        #[rustfmt::skip]
        let cases: &[(&str, Edit, Option<(&str, &str)>)] = &[
            ("R6", |r| r.allowed_origins = vec![String::new()], None),
            ("R14", |r| r.max_age_seconds = Some(-100), None),
            ("R17", |r| r.allowed_methods = vec!["MYMETHOD".into()],
                Some(("InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is MYMETHOD"))),
            ("R17 first bad", |r| r.allowed_methods = vec!["GET".into(), "NOTREAL".into(), "FAKE".into()],
                Some(("InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is NOTREAL"))),
            ("R18 lower case", |r| r.allowed_methods = vec!["get".into()],
                Some(("InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is get"))),
            ("R18 OPTIONS", |r| r.allowed_methods = vec!["OPTIONS".into()],
                Some(("InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is OPTIONS"))),
            ("R18 PATCH", |r| r.allowed_methods = vec!["PATCH".into()],
                Some(("InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"))),
            ("R18 star", |r| r.allowed_methods = vec!["*".into()],
                Some(("InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is *"))),
            ("R18 empty", |r| r.allowed_methods = vec![String::new()],
                Some(("InvalidRequest", "Found unsupported HTTP method in CORS config. Unsupported method is "))),
            ("R19", |r| r.allowed_origins = vec!["*example*.com".into()],
                Some(("InvalidRequest", "AllowedOrigin \"*example*.com\" can not have more than one wildcard."))),
            ("R19 one star anywhere", |r| r.allowed_origins = vec!["http://*.example.com".into(), "https://a*".into()], None),
            ("R20", |r| r.allowed_headers = vec!["*-amz-*".into()],
                Some(("InvalidRequest", "AllowedHeader \"*-amz-*\" can not have more than one wildcard."))),
            ("R20 one star", |r| r.allowed_headers = vec!["x-amz-*".into(), "*".into()], None),
            ("R21", |r| r.expose_headers = vec!["x-amz-meta-*".into()],
                Some(("InvalidRequest", "ExposeHeader \"x-amz-meta-*\" contains wildcard. We currently do not support wildcard for ExposeHeader."))),
            ("R21 star", |r| r.expose_headers = vec!["*".into()],
                Some(("InvalidRequest", "ExposeHeader \"*\" contains wildcard. We currently do not support wildcard for ExposeHeader."))),
            ("R22", |r| r.expose_headers = vec!["x amz".into()],
                Some(("InvalidRequest", "AllowedHeader \"x amz\" contains invalid character."))),
            ("R22 colon", |r| r.expose_headers = vec!["a:b".into()],
                Some(("InvalidRequest", "AllowedHeader \"a:b\" contains invalid character."))),
            ("R22 odd token", |r| r.expose_headers = vec!["GET".into(), "ETag".into()], None),
            ("R22 allowed header", |r| r.allowed_headers = vec!["a/b".into()],
                Some(("InvalidRequest", "AllowedHeader \"a/b\" contains invalid character."))),
            ("R23 255", |r| r.id = Some("i".repeat(255)), None),
            ("R23 256", |r| r.id = Some("i".repeat(256)),
                Some(("InvalidArgument", "ID length should not exceed allowed limit of 255"))),
            ("R12 no origin", |r| r.allowed_origins.clear(),
                Some(("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"))),
            ("R12 no method", |r| r.allowed_methods.clear(),
                Some(("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema"))),
        ];
        for (name, edit, expected) in cases {
            let got = check(*edit);
            match expected {
                None => assert!(got.is_ok(), "{name}: {got:?}"),
                Some((code, msg)) => assert_eq!(got, Err(((*msg).to_owned(), *code)), "{name}"),
            }
        }
    }

    #[test]
    fn r11_r24_rule_counts() {
        assert_eq!(
            validate(&CorsConfiguration::default()),
            Err(ValidationError::NoRules)
        );
        let hundred = CorsConfiguration {
            rules: vec![rule(); 100],
        };
        assert!(validate(&hundred).is_ok());
        let too_many = CorsConfiguration {
            rules: vec![rule(); 101],
        };
        let err = validate(&too_many).unwrap_err();
        assert_eq!(err.code(), "InvalidRequest");
        assert_eq!(
            err.to_string(),
            "The number of CORS rules should not exceed allowed limit of 100 rules."
        );
    }

    #[test]
    fn first_invalid_rule_is_reported() {
        let mut a = rule();
        a.allowed_origins = vec!["**".into()];
        let mut b = rule();
        b.allowed_methods = vec!["BAD".into()];
        let err = validate(&CorsConfiguration {
            rules: vec![rule(), b, a],
        })
        .unwrap_err();
        assert_eq!(err, ValidationError::UnsupportedMethod("BAD".into()));
    }
}
