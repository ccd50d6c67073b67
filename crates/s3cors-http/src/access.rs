//! Authorisation: the bucket owner may do everything; anyone else — another account or an anonymous
//! caller — only what the bucket policy or a canned ACL grants, and an explicit `Deny` in the policy
//! wins over every grant (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-auth-workflow-bucket-operation.html>).
//! Policies are parsed once when stored and kept per bucket, like CORS configurations.

use std::sync::Arc;

use parking_lot::RwLock;
use s3cors_proto::access::{CannedAcl, Policy, PolicyDecision, action};
use s3cors_proto::{Op, S3Error, S3ErrorCode};
use s3cors_store::{NameMap, Store};

use crate::auth::Caller;

/// Parsed bucket policies by bucket.
#[derive(Debug, Default)]
pub struct PolicyCache {
    map: RwLock<NameMap<String, Arc<Policy>>>,
}

impl PolicyCache {
    /// Loads every stored policy.
    pub fn load(store: &Store) -> Result<PolicyCache, s3cors_store::StoreError> {
        let mut map = NameMap::default();
        for (bucket, text) in store.all_policies()? {
            match Policy::parse(text.as_bytes(), &bucket) {
                Ok(p) => {
                    map.insert(bucket, Arc::new(p));
                }
                Err(e) => {
                    tracing::warn!(bucket, error = %e, "stored bucket policy no longer parses; ignored")
                }
            }
        }
        Ok(PolicyCache {
            map: RwLock::new(map),
        })
    }

    /// A bucket's policy.
    pub fn get(&self, bucket: &str) -> Option<Arc<Policy>> {
        self.map.read().get(bucket).cloned()
    }

    pub(crate) fn set(&self, bucket: &str, policy: Option<Policy>) {
        let mut map = self.map.write();
        match policy {
            Some(p) => map.insert(bucket.to_owned(), Arc::new(p)),
            None => map.remove(bucket),
        };
    }
}

fn denied() -> S3Error {
    S3Error::new(S3ErrorCode::AccessDenied)
}

/// Decides whether `caller` may perform `op` on `bucket` (and `key`).
pub(crate) fn authorize(
    store: &Store,
    policies: &PolicyCache,
    caller: &Caller,
    op: Op,
    bucket: Option<&str>,
    key: Option<&str>,
) -> Result<(), S3Error> {
    let account = caller.account_id.as_deref();
    let Some(bucket) = bucket else {
        // ListBuckets and friends: any signed-in account, for its own buckets.
        return if account.is_some() { Ok(()) } else { Err(denied()) };
    };
    if op == Op::CreateBucket {
        return if account.is_some() { Ok(()) } else { Err(denied()) };
    }
    // A bucket that does not exist is the handler's NoSuchBucket, whoever asks.
    let Ok(record) = store.bucket(bucket) else {
        return Ok(());
    };
    let owner = account == Some(record.owner.as_str());
    let act = action(op);
    let decision = policies.get(bucket).map_or(PolicyDecision::NotApplicable, |p| {
        let resource = match key {
            Some(k) => format!("arn:aws:s3:::{bucket}/{k}"),
            None => format!("arn:aws:s3:::{bucket}"),
        };
        p.evaluate(account, act, &resource)
    });
    let policy_op = matches!(
        op,
        Op::GetBucketPolicy | Op::PutBucketPolicy | Op::DeleteBucketPolicy
    );
    match decision {
        // The owner can always manage the policy, so a Deny cannot lock it out.
        PolicyDecision::Deny if !(owner && policy_op) => return Err(denied()),
        PolicyDecision::Allow => return Ok(()),
        _ => {}
    }
    if owner {
        return Ok(());
    }
    let anonymous = account.is_none();
    let bucket_acl = CannedAcl::parse(&record.acl).unwrap_or_default();
    let granted = match op {
        Op::ListObjects | Op::ListObjectsV2 | Op::HeadBucket | Op::ListMultipartUploads => {
            bucket_acl.grants_read(anonymous)
        }
        Op::PutObject
        | Op::PostObject
        | Op::DeleteObject
        | Op::DeleteObjects
        | Op::CreateMultipartUpload
        | Op::UploadPart
        | Op::CompleteMultipartUpload
        | Op::AbortMultipartUpload
        | Op::ListParts => bucket_acl.grants_write(),
        Op::GetObject | Op::HeadObject => match key.map(|k| store.object(bucket, k)) {
            Some(Ok(obj)) => CannedAcl::parse(&obj.acl)
                .unwrap_or_default()
                .grants_read(anonymous),
            // A missing object: a reader of the bucket may learn that (404), others get 403.
            _ => bucket_acl.grants_read(anonymous),
        },
        _ => false,
    };
    if granted { Ok(()) } else { Err(denied()) }
}
