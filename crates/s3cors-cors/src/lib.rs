//! Amazon S3 bucket CORS, as a pure decision: no IO, no async.
//!
//! Implements the CORS behaviour of
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html> and
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html>, rule for rule as the project's
//! CORS specification states it (the `R…` numbers in comments and tests refer to its rules).
//!
//! - [`CorsConfiguration`] / [`CorsRule`]: the model, values kept verbatim and in order (R5).
//! - [`validate`]: S3's semantic checks with its exact error codes and messages (R17–R24).
//! - [`CompiledCors`]: built once per configuration; matching allocates nothing.
//! - [`evaluate`]: the first rule that fully matches (R68) and the exact response headers (R47–R53).
//! - [`preflight`] and [`actual`]: the whole decision for an `OPTIONS` request (§5, in S3's order) and
//!   for any other request carrying an `Origin` (§6).
//! - [`explain`]: the same decision with, rule by rule, what matched and what did not.
//! - [`lint`]: findings about configurations S3 accepts that will not do what was meant.
//!
//! ```
//! use s3cors_cors::{CorsConfiguration, CorsRule, CompiledCors, BucketCors, PreflightRequest, preflight};
//!
//! let config = CorsConfiguration {
//!     rules: vec![CorsRule {
//!         allowed_origins: vec!["http://localhost:3000".into()],
//!         allowed_methods: vec!["GET".into(), "PUT".into()],
//!         allowed_headers: vec!["*".into()],
//!         expose_headers: vec!["ETag".into()],
//!         ..CorsRule::default()
//!     }],
//! };
//! s3cors_cors::validate(&config).unwrap();
//! let compiled = CompiledCors::compile(&config);
//! let req = PreflightRequest {
//!     origin: Some("http://localhost:3000"),
//!     method: Some("PUT"),
//!     headers: Some("content-type,x-amz-date"),
//!     has_key: true,
//! };
//! let ok = preflight(BucketCors::Configured(&compiled), &req).unwrap();
//! assert_eq!(ok.allow_origin, "http://localhost:3000");
//! assert_eq!(ok.allow_methods, "GET, PUT");
//! assert_eq!(ok.allow_headers.as_deref(), Some("content-type, x-amz-date"));
//! ```

mod compile;
mod decide;
mod explain;
mod lint;
mod model;
mod validate;

pub use compile::{CompiledCors, FixedHeaders};
pub use decide::{
    BucketCors, CorsHeaders, Denial, PreflightError, PreflightRequest, ResourceType, VARY, actual, evaluate,
    preflight,
};
pub use explain::{Decision, ExplainRequest, Explanation, RuleReport, explain};
pub use lint::{CHROMIUM_MAX_AGE, FIREFOX_MAX_AGE, Finding, SDK_V3_HEADERS, lint};
pub use model::{ALLOWED_METHODS, CorsConfiguration, CorsRule, MAX_ID_LEN, MAX_RULES};
pub use validate::{ValidationError, validate};
