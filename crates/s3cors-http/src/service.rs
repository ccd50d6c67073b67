//! The service: one entry point that classifies every request and dispatches it.
//!
//! Routing by path alone cannot tell S3 operations apart (`?cors`, `?uploads`, `x-amz-copy-source`
//! decide), so every request goes through [`s3cors_proto::classify`]; the few `/_s3cors/…` endpoints
//! are answered first, unless the request is virtual-hosted (then the path is a key).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use s3cors_proto::endpoint::virtual_host_bucket;
use s3cors_proto::{Op, Query, RequestTarget, S3Error, S3ErrorCode, classify};
use s3cors_store::Store;

use crate::auth::{Caller, ChunkSigning, SignedRequest, authenticate};
use crate::names::{X_AMZ_COPY_SOURCE, X_AMZ_EXPECTED_BUCKET_OWNER, X_AMZ_STORAGE_CLASS};
use crate::response::{self, RequestIds};
use crate::{App, acl, bucket, cors, list, multipart, object};

/// What a handler gets to work with.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) app: Arc<App>,
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) query: Query,
    pub(crate) headers: HeaderMap,
    pub(crate) caller: Caller,
    /// Present when the body is `aws-chunked` with signed chunks.
    pub(crate) chunks: Option<Box<ChunkSigning>>,
}

impl Ctx {
    pub(crate) fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        crate::names::header(&self.headers, name)
    }

    /// Reads a small request body (an XML or JSON document) with its integrity checked.
    pub(crate) async fn read_body(
        &self,
        body: Body,
        limit: usize,
        checksum: crate::body::Checksum,
    ) -> Result<bytes::Bytes, S3Error> {
        crate::body::read_small(&self.headers, body, limit, checksum, self.chunks.as_deref()).await
    }

    /// The caller's account, or for an anonymous caller the bucket owner's (who owns what anonymous
    /// writers create).
    pub(crate) fn account(&self) -> String {
        match &self.caller.account_id {
            Some(a) => a.clone(),
            None => self
                .app
                .store
                .bucket(&self.bucket)
                .map(|b| b.owner.clone())
                .unwrap_or_default(),
        }
    }
}

/// What the request log records of a request besides its outcome; only kept when the log is on.
#[derive(Debug, Default)]
struct Logged {
    method: Method,
    path: String,
    bucket: Option<String>,
    key: Option<String>,
}

pub(crate) async fn handle(app: Arc<App>, req: Request) -> Response {
    let started = Instant::now();
    let ids = RequestIds::new();
    let head = req.method() == Method::HEAD;
    let mut logged = tracing::enabled!(tracing::Level::INFO).then(|| Logged {
        method: req.method().clone(),
        path: req.uri().path().to_owned(),
        ..Logged::default()
    });
    let cors = req.extensions().get::<crate::layer::CorsDecision>().map(|d| d.0);
    let bytes_in = body_length(req.body(), req.headers());
    let (op, mut resp) = match dispatch(app.clone(), req, logged.as_mut()).await {
        Ok((op, resp)) => (op, resp),
        Err((op, e)) => (op, response::error(&e, &ids, head)),
    };
    ids.stamp(&mut resp);
    let (status, elapsed) = (resp.status().as_u16(), started.elapsed());
    let name = op.map(Op::name).unwrap_or("-");
    app.metrics.request(
        name,
        status,
        elapsed,
        bytes_in,
        body_length(resp.body(), resp.headers()),
    );
    if let Some(logged) = logged {
        tracing::info!(
            request_id = ids.request_id(),
            op = name,
            method = %logged.method,
            path = logged.path.as_str(),
            bucket = logged.bucket.as_deref(),
            key = logged.key.as_deref(),
            status,
            micros = elapsed.as_micros() as u64,
            cors,
            "request"
        );
    }
    resp
}

/// The bytes of a body, for the byte counters: its exact size when known (a buffer, a body of known
/// length, none for HEAD), else its `Content-Length` (a streamed file), else 0.
fn body_length(body: &Body, headers: &HeaderMap) -> u64 {
    use http_body::Body as _;
    body.size_hint().exact().unwrap_or_else(|| {
        headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .unwrap_or(0)
    })
}

/// The storage classes S3 accepts in `x-amz-storage-class` (every object here is stored alike).
const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "GLACIER_IR",
    "SNOW",
    "EXPRESS_ONEZONE",
];

type Outcome = Result<(Option<Op>, Response), (Option<Op>, S3Error)>;

/// The size of the request line and header fields, as S3 counts it against its limit.
fn header_section_bytes(parts: &http::request::Parts) -> usize {
    let line = parts.method.as_str().len() + parts.uri.path_and_query().map_or(1, |p| p.as_str().len()) + 11;
    parts
        .headers
        .iter()
        .fold(line, |n, (name, value)| n + name.as_str().len() + value.len() + 4)
}

fn internal_endpoint(app: &App, path: &str) -> Option<Response> {
    let (status, body, content_type) = match path {
        "/_s3cors/health" => (
            StatusCode::OK,
            "{\"status\":\"ok\"}".to_owned(),
            "application/json",
        ),
        // Ready once the store answers.
        "/_s3cors/ready" => match app.store.list_buckets() {
            Ok(_) => (
                StatusCode::OK,
                "{\"status\":\"ready\"}".to_owned(),
                "application/json",
            ),
            Err(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "{\"status\":\"unavailable\"}".to_owned(),
                "application/json",
            ),
        },
        "/_s3cors/metrics" => (StatusCode::OK, app.metrics.render(), "text/plain; version=0.0.4"),
        _ => return None,
    };
    let mut r = response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(http::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Some(r)
}

/// Classifies, authenticates, authorises and routes a request; `logged` receives its bucket and key
/// for the request log.
async fn dispatch(app: Arc<App>, req: Request, logged: Option<&mut Logged>) -> Outcome {
    let (parts, body) = req.into_parts();
    if header_section_bytes(&parts) > app.config.limits.max_header_bytes {
        return Err((None, S3Error::new(S3ErrorCode::RequestHeaderSectionTooLarge)));
    }
    let host = crate::names::host(&parts.uri, &parts.headers);
    let vhost = host
        .and_then(|h| virtual_host_bucket(h, &app.config.domains))
        .is_some();
    if !vhost && let Some(resp) = internal_endpoint(&app, parts.uri.path()) {
        return Ok((None, resp));
    }
    let query = Query::parse(parts.uri.query().unwrap_or("")).map_err(|e| (None, e))?;
    if !vhost && parts.uri.path() == crate::diagnostics::EXPLAIN_PATH {
        let resp = Box::pin(crate::diagnostics::explain(&app, &parts, &query, body)).await;
        return resp.map(|r| (None, r)).map_err(|e| (None, e));
    }
    let target = RequestTarget {
        method: parts.method.as_str(),
        host,
        path: parts.uri.path(),
        query: &query,
        copy_source: parts.headers.contains_key(&X_AMZ_COPY_SOURCE),
    };
    let ep = classify(&target, &app.config.domains).map_err(|e| (None, e))?;
    let op = ep.op;
    if let Some(logged) = logged {
        (logged.bucket, logged.key) = (ep.bucket.clone(), ep.key.clone());
    }
    let fail = |e: S3Error| (Some(op), e);
    if op == Op::Preflight {
        return Err(fail(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            "CORS is not available yet",
        )));
    }
    let signed = SignedRequest {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query().unwrap_or(""),
        headers: &parts.headers,
        query: &query,
        vhost_bucket: if ep.style == s3cors_proto::Style::VirtualHosted {
            ep.bucket.as_deref()
        } else {
            None
        },
    };
    let auth = authenticate(&app.config, &signed, std::time::SystemTime::now()).map_err(fail)?;
    // A form upload carries its credentials in the form; it is authorised once they are read.
    if op != Op::PostObject {
        crate::access::authorize(
            &app.store,
            &app.policies,
            &auth.caller,
            op,
            ep.bucket.as_deref(),
            ep.key.as_deref(),
        )
        .map_err(fail)?;
    }
    if let Some(bucket) = &ep.bucket
        && op != Op::CreateBucket
        && op != Op::ListBuckets
    {
        // Names that can never exist are simply absent, as in S3.
        if s3cors_proto::names::validate_bucket_name(bucket).is_err() {
            return Err(fail(S3Error::no_such_bucket(bucket)));
        }
    }
    if let Some(key) = &ep.key {
        s3cors_proto::names::validate_key(key).map_err(fail)?;
    }
    if matches!(op, Op::PutObject | Op::CopyObject | Op::CreateMultipartUpload)
        && let Some(class) = parts.headers.get(&X_AMZ_STORAGE_CLASS)
        && !STORAGE_CLASSES.iter().any(|c| c.as_bytes() == class.as_bytes())
    {
        return Err(fail(S3Error::new(S3ErrorCode::InvalidStorageClass)));
    }
    if let (Some(bucket), Some(expected)) = (&ep.bucket, parts.headers.get(&X_AMZ_EXPECTED_BUCKET_OWNER)) {
        expected_bucket_owner(&app, bucket, expected.to_str().unwrap_or("")).map_err(fail)?;
    }
    let ctx = Ctx {
        app,
        bucket: ep.bucket.unwrap_or_default(),
        key: ep.key.unwrap_or_default(),
        query,
        headers: parts.headers,
        caller: auth.caller,
        chunks: auth.chunks,
    };
    let resp = route(op, ctx, body).await.map_err(fail)?;
    Ok((Some(op), resp))
}

/// Runs the handler of `op`. Every handler but the GET path's is boxed, so that the request future
/// (moved and allocated once per request) stays the size of the GET path, not of the largest handler.
async fn route(op: Op, ctx: Ctx, body: Body) -> Result<Response, S3Error> {
    match op {
        Op::ListBuckets => bucket::list_buckets(&ctx),
        Op::CreateBucket => Box::pin(bucket::create(&ctx, body)).await,
        Op::HeadBucket => bucket::head(&ctx),
        Op::DeleteBucket => Box::pin(bucket::delete(&ctx)).await,
        Op::GetBucketLocation => bucket::location(&ctx),
        Op::GetBucketVersioning => bucket::versioning(&ctx),
        Op::ListObjects => list::objects_v1(&ctx),
        Op::ListObjectsV2 => list::objects_v2(&ctx),
        Op::ListMultipartUploads => list::uploads(&ctx),
        Op::DeleteObjects => Box::pin(object::delete_many(&ctx, body)).await,
        Op::PutObject => Box::pin(object::put(&ctx, body)).await,
        Op::CopyObject => Box::pin(object::copy(&ctx)).await,
        Op::GetObject => object::get(&ctx, false),
        Op::HeadObject => object::get(&ctx, true),
        Op::DeleteObject => Box::pin(object::delete(&ctx)).await,
        Op::CreateMultipartUpload => Box::pin(multipart::create(&ctx)).await,
        Op::UploadPart => Box::pin(multipart::upload_part(&ctx, body)).await,
        Op::UploadPartCopy => Box::pin(multipart::upload_part_copy(&ctx)).await,
        Op::CompleteMultipartUpload => Box::pin(multipart::complete(&ctx, body)).await,
        Op::AbortMultipartUpload => Box::pin(multipart::abort(&ctx)).await,
        Op::ListParts => multipart::list_parts(&ctx),
        Op::GetBucketAcl => acl::get_bucket_acl(&ctx),
        Op::PutBucketAcl => Box::pin(acl::put_bucket_acl(&ctx, body)).await,
        Op::GetObjectAcl => acl::get_object_acl(&ctx),
        Op::GetObjectAttributes => object::attributes(&ctx),
        Op::PutObjectAcl => Box::pin(acl::put_object_acl(&ctx, body)).await,
        Op::GetBucketPolicy => acl::get_policy(&ctx),
        Op::PutBucketPolicy => Box::pin(acl::put_policy(&ctx, body)).await,
        Op::DeleteBucketPolicy => Box::pin(acl::delete_policy(&ctx)).await,
        Op::PutBucketCors => Box::pin(cors::put(&ctx, body)).await,
        Op::GetBucketCors => cors::get(&ctx),
        Op::DeleteBucketCors => Box::pin(cors::delete(&ctx)).await,
        // Preflights are answered by the CORS layer before routing.
        Op::PostObject => Box::pin(crate::post::post_object(&ctx, body)).await,
        Op::Preflight => Err(not_implemented(op.name())),
        Op::NotImplemented(what) => Err(not_implemented(what)),
    }
}

/// `x-amz-expected-bucket-owner`: a malformed id is 400, another owner's bucket 403 (R30).
fn expected_bucket_owner(app: &App, bucket: &str, expected: &str) -> Result<(), S3Error> {
    if expected.len() != 12 || !expected.bytes().all(|b| b.is_ascii_digit()) {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidBucketOwnerAWSAccountID,
            format!(
                "The value of the expected bucket owner parameter must be an AWS Account ID... [{expected}]"
            ),
        ));
    }
    match app.store.bucket(bucket) {
        Ok(b) if b.owner != expected => Err(S3Error::new(S3ErrorCode::AccessDenied)),
        _ => Ok(()),
    }
}

fn not_implemented(what: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NotImplemented,
        format!("A header you provided implies functionality that is not implemented ({what})"),
    )
}

/// `204 No Content`.
pub(crate) fn no_content() -> Response {
    response::empty(StatusCode::NO_CONTENT)
}

/// The owner element values for an account.
pub(crate) fn owner_xml(w: &mut s3cors_proto::xml::XmlWriter, tag: &str, account: &str) {
    w.start(tag);
    w.elem("ID", &canonical_id(account));
    w.elem("DisplayName", account);
    w.end(tag);
}

/// A stable 64-hex canonical user id for an account, in the form S3 uses.
pub(crate) fn canonical_id(account: &str) -> String {
    use md5::{Digest, Md5};
    let a = Md5::digest(format!("s3cors:{account}"));
    let b = Md5::digest(format!("{account}:s3cors"));
    [a, b].iter().map(|d| s3cors_proto::hex(d)).collect()
}

/// Runs store work that may block off the async threads; with the memory store, which never blocks,
/// it runs in place (a thread hand-off costs more than the work).
pub(crate) async fn blocking<T: Send + 'static>(
    store: &Store,
    f: impl FnOnce() -> Result<T, S3Error> + Send + 'static,
) -> Result<T, S3Error> {
    if !store.is_durable() {
        return f();
    }
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "blocking task failed");
        S3Error::internal()
    })?
}
