//! Who may do what: the S3 action of each operation, canned ACLs, and bucket policies.
//!
//! Implements the subset of <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-policies.html>
//! and <https://docs.aws.amazon.com/AmazonS3/latest/userguide/acl-overview.html#canned-acl> that
//! s3cors supports: `Version`, `Statement`, `Sid`, `Effect`, `Principal` (`*`, an account id or
//! `arn:aws:iam::ID:root`), `Action` and `Resource` with `*`/`?` wildcards. Anything else in a policy is
//! refused with `MalformedPolicy` naming it, never silently ignored. Pure: no IO.

use serde_json::Value;

use crate::endpoint::Op;
use crate::error::{S3Error, S3ErrorCode};

/// The IAM action an operation needs (`s3:GetObject`, …). DeleteBucketCors needs `s3:PutBucketCORS`,
/// as in S3.
pub fn action(op: Op) -> &'static str {
    use Op::*;
    match op {
        ListBuckets => "s3:ListAllMyBuckets",
        CreateBucket => "s3:CreateBucket",
        HeadBucket | ListObjects | ListObjectsV2 => "s3:ListBucket",
        DeleteBucket => "s3:DeleteBucket",
        GetBucketLocation => "s3:GetBucketLocation",
        GetBucketVersioning => "s3:GetBucketVersioning",
        ListMultipartUploads => "s3:ListBucketMultipartUploads",
        PutBucketCors | DeleteBucketCors => "s3:PutBucketCORS",
        GetBucketCors => "s3:GetBucketCORS",
        GetBucketAcl => "s3:GetBucketAcl",
        PutBucketAcl => "s3:PutBucketAcl",
        GetBucketPolicy => "s3:GetBucketPolicy",
        PutBucketPolicy => "s3:PutBucketPolicy",
        DeleteBucketPolicy => "s3:DeleteBucketPolicy",
        GetObject | HeadObject => "s3:GetObject",
        GetObjectAcl => "s3:GetObjectAcl",
        GetObjectAttributes => "s3:GetObjectAttributes",
        PutObjectAcl => "s3:PutObjectAcl",
        PutObject
        | PostObject
        | CopyObject
        | CreateMultipartUpload
        | UploadPart
        | UploadPartCopy
        | CompleteMultipartUpload => "s3:PutObject",
        DeleteObject | DeleteObjects => "s3:DeleteObject",
        AbortMultipartUpload => "s3:AbortMultipartUpload",
        ListParts => "s3:ListMultipartUploadParts",
        Preflight | NotImplemented(_) => "s3:*",
    }
}

/// A canned ACL (`x-amz-acl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CannedAcl {
    /// Owner only.
    #[default]
    Private,
    /// Anyone may read.
    PublicRead,
    /// Anyone may read and write.
    PublicReadWrite,
    /// Any authenticated account may read.
    AuthenticatedRead,
}

impl CannedAcl {
    /// Parses `x-amz-acl`. The object-only canned ACLs about the bucket owner grant nothing beyond
    /// the owner here (the bucket owner owns every object), so they are private.
    pub fn parse(value: &str) -> Result<CannedAcl, S3Error> {
        Ok(match value.trim() {
            "private"
            | "bucket-owner-read"
            | "bucket-owner-full-control"
            | "aws-exec-read"
            | "log-delivery-write" => CannedAcl::Private,
            "public-read" => CannedAcl::PublicRead,
            "public-read-write" => CannedAcl::PublicReadWrite,
            "authenticated-read" => CannedAcl::AuthenticatedRead,
            _ => {
                return Err(S3Error::invalid_argument(
                    "Invalid canned ACL",
                    "x-amz-acl",
                    value,
                ));
            }
        })
    }

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            CannedAcl::Private => "private",
            CannedAcl::PublicRead => "public-read",
            CannedAcl::PublicReadWrite => "public-read-write",
            CannedAcl::AuthenticatedRead => "authenticated-read",
        }
    }

    /// Whether the ACL lets a non-owner read (`anonymous` when the caller is not signed in).
    pub fn grants_read(self, anonymous: bool) -> bool {
        match self {
            CannedAcl::Private => false,
            CannedAcl::PublicRead | CannedAcl::PublicReadWrite => true,
            CannedAcl::AuthenticatedRead => !anonymous,
        }
    }

    /// Whether the ACL lets a non-owner write (bucket ACLs only).
    pub fn grants_write(self) -> bool {
        self == CannedAcl::PublicReadWrite
    }

    /// The grants as `(grantee URI, permission)` pairs beside the owner's FULL_CONTROL.
    pub fn group_grants(self) -> &'static [(&'static str, &'static str)] {
        const ALL: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
        const AUTH: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
        match self {
            CannedAcl::Private => &[],
            CannedAcl::PublicRead => &[(ALL, "READ")],
            CannedAcl::PublicReadWrite => &[(ALL, "READ"), (ALL, "WRITE")],
            CannedAcl::AuthenticatedRead => &[(AUTH, "READ")],
        }
    }
}

/// What a policy says about a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyDecision {
    /// An explicit `Deny` matched; it wins over everything.
    Deny,
    /// An `Allow` matched and no `Deny`.
    Allow,
    /// No statement applies.
    NotApplicable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Statement {
    allow: bool,
    /// `None` is `*` (everyone, anonymous included); otherwise account ids.
    principals: Option<Vec<String>>,
    actions: Vec<String>,
    resources: Vec<String>,
}

/// A parsed bucket policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    statements: Vec<Statement>,
}

fn malformed(msg: impl Into<String>) -> S3Error {
    S3Error::with_message(S3ErrorCode::MalformedPolicy, msg.into())
}

fn strings(v: &Value, what: &str) -> Result<Vec<String>, S3Error> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| malformed(format!("{what} must be strings")))
            })
            .collect(),
        _ => Err(malformed(format!("{what} must be a string or a list of strings"))),
    }
}

fn account_of(principal: &str) -> Result<Option<String>, S3Error> {
    if principal == "*" {
        return Ok(None);
    }
    let id = principal
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.strip_suffix(":root"))
        .unwrap_or(principal);
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Some(id.to_owned()))
    } else {
        Err(malformed("Invalid principal in policy"))
    }
}

/// `*` and `?` wildcards, as IAM matches actions and resources. Actions compare case-insensitively.
fn wildcard(pattern: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

impl Policy {
    /// Parses and checks a policy document for `bucket`.
    pub fn parse(text: &[u8], bucket: &str) -> Result<Policy, S3Error> {
        let doc: Value = serde_json::from_slice(text)
            .map_err(|_| malformed("Policies must be valid JSON and the first byte must be '{'"))?;
        let obj = doc
            .as_object()
            .ok_or_else(|| malformed("Policies must be valid JSON and the first byte must be '{'"))?;
        for key in obj.keys() {
            if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
                return Err(malformed(format!("Unknown field {key}")));
            }
        }
        if let Some(v) = obj.get("Version")
            && v.as_str() != Some("2012-10-17")
            && v.as_str() != Some("2008-10-17")
        {
            return Err(malformed("Invalid policy version"));
        }
        let list = match obj.get("Statement") {
            Some(Value::Array(a)) if !a.is_empty() => a.clone(),
            Some(v @ Value::Object(_)) => vec![v.clone()],
            _ => return Err(malformed("Missing required field Statement")),
        };
        let mut statements = Vec::new();
        for st in &list {
            let st = st
                .as_object()
                .ok_or_else(|| malformed("Statement must be an object"))?;
            for key in st.keys() {
                match key.as_str() {
                    "Sid" | "Effect" | "Principal" | "Action" | "Resource" => {}
                    "Condition" => return Err(malformed("Policy has an unsupported element: Condition")),
                    other => return Err(malformed(format!("Policy has an unsupported element: {other}"))),
                }
            }
            let allow = match st.get("Effect").and_then(Value::as_str) {
                Some("Allow") => true,
                Some("Deny") => false,
                _ => return Err(malformed("Invalid effect")),
            };
            let principals = match st.get("Principal") {
                Some(Value::String(s)) if s == "*" => None,
                Some(Value::Object(p)) => {
                    if p.keys().any(|k| k != "AWS") {
                        return Err(malformed("Policy has an unsupported principal type"));
                    }
                    let ids = strings(p.get("AWS").unwrap_or(&Value::Null), "Principal")?
                        .iter()
                        .map(|s| account_of(s))
                        .collect::<Result<Vec<_>, _>>()?;
                    if ids.iter().any(Option::is_none) {
                        None
                    } else {
                        Some(ids.into_iter().flatten().collect())
                    }
                }
                _ => return Err(malformed("Missing required field Principal")),
            };
            let actions = strings(st.get("Action").unwrap_or(&Value::Null), "Action")?;
            if actions.iter().any(|a| !a.to_ascii_lowercase().starts_with("s3:")) {
                return Err(malformed("Policy has invalid action"));
            }
            let resources = strings(st.get("Resource").unwrap_or(&Value::Null), "Resource")?;
            let arn = format!("arn:aws:s3:::{bucket}");
            if resources
                .iter()
                .any(|r| !(r == &arn || r.starts_with(&format!("{arn}/")) || wildcard(r, &arn)))
            {
                return Err(malformed("Policy has invalid resource"));
            }
            statements.push(Statement {
                allow,
                principals,
                actions,
                resources,
            });
        }
        Ok(Policy { statements })
    }

    /// What the policy says about `action` on `resource` (an ARN) by `account` (`None`: anonymous).
    pub fn evaluate(&self, account: Option<&str>, action: &str, resource: &str) -> PolicyDecision {
        let mut allowed = false;
        for st in &self.statements {
            let principal = match (&st.principals, account) {
                (None, _) => true,
                (Some(ids), Some(a)) => ids.iter().any(|i| i == a),
                (Some(_), None) => false,
            };
            let act = st
                .actions
                .iter()
                .any(|p| wildcard(&p.to_ascii_lowercase(), &action.to_ascii_lowercase()));
            let res = st.resources.iter().any(|p| wildcard(p, resource));
            if principal && act && res {
                if !st.allow {
                    return PolicyDecision::Deny;
                }
                allowed = true;
            }
        }
        if allowed {
            PolicyDecision::Allow
        } else {
            PolicyDecision::NotApplicable
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(json: &str) -> Result<Policy, String> {
        Policy::parse(json.as_bytes(), "web").map_err(|e| e.message().to_owned())
    }

    #[test]
    fn public_read_policy() {
        let p = policy(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*",
               "Action":["s3:GetObject"],"Resource":["arn:aws:s3:::web/*"]}]}"#,
        )
        .expect("valid");
        assert_eq!(
            p.evaluate(None, "s3:GetObject", "arn:aws:s3:::web/a/b.png"),
            PolicyDecision::Allow
        );
        assert_eq!(
            p.evaluate(None, "s3:PutObject", "arn:aws:s3:::web/a"),
            PolicyDecision::NotApplicable
        );
        assert_eq!(
            p.evaluate(None, "s3:ListBucket", "arn:aws:s3:::web"),
            PolicyDecision::NotApplicable
        );
    }

    #[test]
    fn explicit_deny_wins_and_principals_match_accounts() {
        let p = policy(
            r#"{"Statement":[
                {"Effect":"Allow","Principal":{"AWS":["111111111111","arn:aws:iam::222222222222:root"]},"Action":"s3:*","Resource":["arn:aws:s3:::web","arn:aws:s3:::web/*"]},
                {"Effect":"Deny","Principal":{"AWS":"222222222222"},"Action":"s3:Delete*","Resource":"arn:aws:s3:::web/*"}]}"#,
        )
        .expect("valid");
        assert_eq!(
            p.evaluate(Some("111111111111"), "s3:DeleteObject", "arn:aws:s3:::web/k"),
            PolicyDecision::Allow
        );
        assert_eq!(
            p.evaluate(Some("222222222222"), "s3:DeleteObject", "arn:aws:s3:::web/k"),
            PolicyDecision::Deny
        );
        assert_eq!(
            p.evaluate(Some("222222222222"), "s3:GetObject", "arn:aws:s3:::web/k"),
            PolicyDecision::Allow
        );
        assert_eq!(
            p.evaluate(Some("333333333333"), "s3:GetObject", "arn:aws:s3:::web/k"),
            PolicyDecision::NotApplicable
        );
        assert_eq!(
            p.evaluate(None, "s3:GetObject", "arn:aws:s3:::web/k"),
            PolicyDecision::NotApplicable
        );
        assert_eq!(
            p.evaluate(Some("111111111111"), "s3:ListBucket", "arn:aws:s3:::web"),
            PolicyDecision::Allow
        );
    }

    #[test]
    fn unsupported_parts_are_refused_by_name() {
        let cond = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::web/*","Condition":{"IpAddress":{"aws:SourceIp":"1.2.3.4"}}}]}"#;
        assert_eq!(
            policy(cond).expect_err("condition"),
            "Policy has an unsupported element: Condition"
        );
        let not_action = r#"{"Statement":[{"Effect":"Allow","Principal":"*","NotAction":"s3:GetObject","Resource":"arn:aws:s3:::web/*"}]}"#;
        assert_eq!(
            policy(not_action).expect_err("NotAction"),
            "Policy has an unsupported element: NotAction"
        );
        assert!(policy("not json").is_err());
        assert!(policy(r#"{"Statement":[]}"#).is_err());
        let other_bucket = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}]}"#;
        assert_eq!(
            policy(other_bucket).expect_err("resource"),
            "Policy has invalid resource"
        );
        let bad_effect = r#"{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::web/*"}]}"#;
        assert!(policy(bad_effect).is_err());
        let bad_principal = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::web/*"}]}"#;
        assert!(policy(bad_principal).is_err());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard("s3:get*", "s3:getobject"));
        assert!(wildcard("arn:aws:s3:::web/*.png", "arn:aws:s3:::web/a/b.png"));
        assert!(!wildcard("arn:aws:s3:::web/*.png", "arn:aws:s3:::web/a/b.jpg"));
        assert!(wildcard("arn:aws:s3:::we?", "arn:aws:s3:::web"));
        assert!(wildcard("*", ""));
    }

    #[test]
    fn canned_acls() {
        assert_eq!(
            CannedAcl::parse("public-read").expect("valid"),
            CannedAcl::PublicRead
        );
        assert!(CannedAcl::parse("public").is_err());
        assert!(CannedAcl::AuthenticatedRead.grants_read(false));
        assert!(!CannedAcl::AuthenticatedRead.grants_read(true));
        assert!(CannedAcl::PublicReadWrite.grants_write());
        assert!(!CannedAcl::PublicRead.grants_write());
        assert_eq!(action(Op::DeleteBucketCors), "s3:PutBucketCORS");
    }
}
