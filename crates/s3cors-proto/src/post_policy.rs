//! The POST policy of a browser form upload (POST Object).
//!
//! Implements <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html>:
//! a base64 JSON document with an `expiration` and `conditions` — exact matches (`{"field": "value"}` or
//! `["eq", "$field", "value"]`), prefixes (`["starts-with", "$field", "prefix"]`) and
//! `["content-length-range", min, max]`. Every form field must be covered by a condition. Errors are S3's
//! `AccessDenied` "Invalid according to Policy: …". Pure: no IO.

use std::time::SystemTime;

use base64::Engine as _;
use serde_json::Value;

use crate::error::{S3Error, S3ErrorCode};

fn invalid(why: impl std::fmt::Display) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AccessDenied,
        format!("Invalid according to Policy: {why}"),
    )
}

fn malformed(why: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidPolicyDocument,
        format!("Invalid Policy: {why}"),
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Condition {
    Eq(String, String, String),
    StartsWith(String, String, String),
}

/// A decoded POST policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostPolicy {
    expiration: SystemTime,
    conditions: Vec<Condition>,
    /// `content-length-range`, inclusive.
    pub length_range: Option<(u64, u64)>,
}

/// Fields a policy need not mention.
fn exempt(name: &str) -> bool {
    matches!(
        name,
        "policy" | "x-amz-signature" | "signature" | "awsaccesskeyid" | "file" | "x-amz-security-token"
    ) || name.starts_with("x-ignore-")
}

impl PostPolicy {
    /// Decodes the base64 `policy` form field.
    pub fn decode(policy_b64: &str) -> Result<PostPolicy, S3Error> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(policy_b64.trim())
            .map_err(|_| malformed("Invalid JSON."))?;
        let doc: Value = serde_json::from_slice(&bytes).map_err(|_| malformed("Invalid JSON."))?;
        let expiration = doc
            .get("expiration")
            .and_then(Value::as_str)
            .and_then(crate::http::parse_iso8601)
            .ok_or_else(|| malformed("Policy missing expiration."))?;
        let list = doc
            .get("conditions")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed("Policy missing conditions."))?;
        let mut conditions = Vec::new();
        let mut length_range = None;
        for c in list {
            let text = c.to_string();
            match c {
                Value::Object(o) => {
                    for (k, v) in o {
                        let v = v.as_str().ok_or_else(|| malformed("Invalid condition value."))?;
                        conditions.push(Condition::Eq(k.to_ascii_lowercase(), v.to_owned(), text.clone()));
                    }
                }
                Value::Array(a) => match a.as_slice() {
                    [Value::String(op), Value::String(field), Value::String(value)] => {
                        let field = field
                            .strip_prefix('$')
                            .ok_or_else(|| malformed("Invalid condition field."))?;
                        let field = field.to_ascii_lowercase();
                        match op.to_ascii_lowercase().as_str() {
                            "eq" => conditions.push(Condition::Eq(field, value.clone(), text)),
                            "starts-with" => {
                                conditions.push(Condition::StartsWith(field, value.clone(), text))
                            }
                            _ => return Err(malformed("Invalid condition operator.")),
                        }
                    }
                    [Value::String(op), min, max] if op.eq_ignore_ascii_case("content-length-range") => {
                        let n = |v: &Value| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
                        match (n(min), n(max)) {
                            (Some(lo), Some(hi)) => length_range = Some((lo, hi)),
                            _ => return Err(malformed("Invalid content-length-range.")),
                        }
                    }
                    _ => return Err(malformed("Invalid condition.")),
                },
                _ => return Err(malformed("Invalid condition.")),
            }
        }
        Ok(PostPolicy {
            expiration,
            conditions,
            length_range,
        })
    }

    /// Checks the form `fields` (names lower case; `bucket` included) at `now`.
    pub fn check(&self, fields: &[(String, String)], now: SystemTime) -> Result<(), S3Error> {
        if now > self.expiration {
            return Err(invalid("Policy expired."));
        }
        let value = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        };
        for c in &self.conditions {
            let ok = match c {
                Condition::Eq(f, v, _) => value(f) == v,
                Condition::StartsWith(f, p, _) if f == "content-type" => value(f)
                    .split(',')
                    .all(|part| part.trim().starts_with(p.as_str())),
                Condition::StartsWith(f, p, _) => value(f).starts_with(p.as_str()),
            };
            if !ok {
                let text = match c {
                    Condition::Eq(.., t) | Condition::StartsWith(.., t) => t,
                };
                return Err(invalid(format!("Policy Condition failed: {text}")));
            }
        }
        let covered = |name: &str| {
            self.conditions.iter().any(|c| match c {
                Condition::Eq(f, ..) | Condition::StartsWith(f, ..) => f == name,
            })
        };
        for (name, _) in fields {
            if name != "bucket" && !exempt(name) && !covered(name) {
                return Err(invalid(format!("Extra input fields: {name}")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn b64(json: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(json)
    }

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The example policy of the AWS page "Example: Browser-Based Upload using HTTP POST".
    #[test]
    fn aws_doc_example() {
        let policy = b64(r#"{ "expiration": "2015-12-30T12:00:00.000Z",
  "conditions": [
    {"bucket": "sigv4examplebucket"},
    ["starts-with", "$key", "user/user1/"],
    {"acl": "public-read"},
    {"success_action_redirect": "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html"},
    ["starts-with", "$Content-Type", "image/"],
    {"x-amz-meta-uuid": "14365123651274"},
    {"x-amz-server-side-encryption": "AES256"},
    ["starts-with", "$x-amz-meta-tag", ""],
    {"x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"},
    {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
    {"x-amz-date": "20151229T000000Z" }
  ]
}"#);
        let p = PostPolicy::decode(&policy).expect("valid");
        let form = fields(&[
            ("bucket", "sigv4examplebucket"),
            ("key", "user/user1/my.jpg"),
            ("acl", "public-read"),
            (
                "success_action_redirect",
                "http://sigv4examplebucket.s3.amazonaws.com/successful_upload.html",
            ),
            ("content-type", "image/jpeg"),
            ("x-amz-meta-uuid", "14365123651274"),
            ("x-amz-server-side-encryption", "AES256"),
            ("x-amz-meta-tag", "anything"),
            (
                "x-amz-credential",
                "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request",
            ),
            ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
            ("x-amz-date", "20151229T000000Z"),
            ("policy", &policy),
            (
                "x-amz-signature",
                "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e",
            ),
        ]);
        let before = crate::http::parse_iso8601("2015-12-29T12:00:00Z").expect("date");
        p.check(&form, before).expect("allowed");
        let after = before + Duration::from_secs(86_400 * 2);
        assert_eq!(
            p.check(&form, after).unwrap_err().message(),
            "Invalid according to Policy: Policy expired."
        );
        let mut wrong_key = form.clone();
        wrong_key[1].1 = "user/user2/my.jpg".into();
        assert_eq!(
            p.check(&wrong_key, before).unwrap_err().message(),
            r#"Invalid according to Policy: Policy Condition failed: ["starts-with","$key","user/user1/"]"#
        );
        let mut extra = form;
        extra.push(("x-amz-meta-other".into(), "x".into()));
        assert_eq!(
            p.check(&extra, before).unwrap_err().message(),
            "Invalid according to Policy: Extra input fields: x-amz-meta-other"
        );
    }

    #[test]
    fn length_range_and_malformed_policies() {
        let p = PostPolicy::decode(&b64(
            r#"{"expiration":"2099-01-01T00:00:00Z","conditions":[["content-length-range", 1, "1024"],{"key":"k"}]}"#,
        ))
        .expect("valid");
        assert_eq!(p.length_range, Some((1, 1024)));
        for bad in [
            "not base64!",
            &b64("{}"),
            &b64(r#"{"expiration":"2099-01-01T00:00:00Z"}"#),
            &b64(r#"{"expiration":"x","conditions":[]}"#),
        ] {
            assert_eq!(
                PostPolicy::decode(bad).unwrap_err().code(),
                S3ErrorCode::InvalidPolicyDocument,
                "{bad}"
            );
        }
    }
}
