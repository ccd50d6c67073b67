//! The CORSConfiguration document (R7).

use serde::{Deserialize, Serialize};

/// The most rules a configuration may hold (R24).
pub const MAX_RULES: usize = 100;
/// The longest rule ID, in characters (R23).
pub const MAX_ID_LEN: usize = 255;
/// The only `AllowedMethod` values S3 accepts, case-sensitive (R17, R18).
pub const ALLOWED_METHODS: [&str; 5] = ["GET", "PUT", "HEAD", "POST", "DELETE"];

/// A bucket's CORS configuration: rules in document order, which is evaluation order (R68).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CorsConfiguration {
    /// The rules.
    pub rules: Vec<CorsRule>,
}

/// One `CORSRule`. Every value is kept exactly as sent, lists in their order (R5).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CorsRule {
    /// `ID`, optional.
    pub id: Option<String>,
    /// `AllowedOrigin` values (at least one).
    pub allowed_origins: Vec<String>,
    /// `AllowedMethod` values (at least one).
    pub allowed_methods: Vec<String>,
    /// `AllowedHeader` values.
    pub allowed_headers: Vec<String>,
    /// `ExposeHeader` values.
    pub expose_headers: Vec<String>,
    /// `MaxAgeSeconds`, optional; negative values are accepted (R14).
    pub max_age_seconds: Option<i64>,
}
