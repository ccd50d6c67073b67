//! The CORS subresource — PutBucketCors, GetBucketCors, DeleteBucketCors — and the per-bucket cache of
//! compiled configurations that [`crate::layer::CorsLayer`] decides from.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketCors.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketCors.html>.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, CONTENT_LENGTH,
    SERVER, VARY,
};
use http::{HeaderMap, HeaderValue, StatusCode};
use parking_lot::{Mutex, RwLock};
use s3cors_cors::{CompiledCors, CorsConfiguration, CorsHeaders, ValidationError};
use s3cors_proto::{S3Error, S3ErrorCode};
use s3cors_store::Store;

use crate::body::Checksum;
use crate::names::{X_AMZ_ID_2, X_AMZ_REQUEST_ID};
use crate::response;
use crate::service::{Ctx, blocking, no_content};

/// The largest CORS document S3 accepts (R16).
pub const MAX_CORS_DOCUMENT: usize = 64 * 1024;

/// A stored configuration with its compiled form.
#[derive(Debug)]
pub struct CorsEntry {
    /// As stored (for GetBucketCors).
    pub config: CorsConfiguration,
    /// For deciding requests.
    pub compiled: CompiledCors,
    /// Per rule, the header values that do not depend on the request, built once: answering a
    /// request clones them (a reference count) instead of copying strings.
    pub values: Vec<RuleValues>,
}

/// A rule's fixed response header values.
#[derive(Debug)]
pub struct RuleValues {
    /// `Access-Control-Allow-Methods`.
    pub allow_methods: Option<HeaderValue>,
    /// `Access-Control-Expose-Headers`.
    pub expose_headers: Option<HeaderValue>,
    /// `Access-Control-Max-Age`.
    pub max_age: Option<HeaderValue>,
    /// The headers of a preflight this rule allows, in emission order, with empty values where the
    /// request's own go (an echoed origin, the requested headers, the request ids): answering one
    /// clones this and fills those in.
    preflight: HeaderMap,
}

impl CorsEntry {
    /// Compiles `config` and its header values.
    pub fn new(config: CorsConfiguration) -> CorsEntry {
        let compiled = CompiledCors::compile(&config);
        let value = |s: &str| HeaderValue::from_str(s).ok();
        let values = compiled
            .fixed_headers()
            .zip(&config.rules)
            .map(|((allow_methods, expose_headers, max_age), rule)| {
                let mut values = RuleValues {
                    allow_methods: value(allow_methods),
                    expose_headers: expose_headers.and_then(value),
                    max_age: max_age.and_then(value),
                    preflight: HeaderMap::new(),
                };
                values.preflight = values.preflight_template(rule.allowed_origins.iter().any(|o| o == "*"));
                values
            })
            .collect();
        CorsEntry {
            config,
            compiled,
            values,
        }
    }
}

impl RuleValues {
    /// The headers of an allowed preflight: `Content-Length`, then those of
    /// [`CorsHeaders::pairs`](s3cors_cors::CorsHeaders::pairs) (R47–R53), then the ids and `Server` that
    /// [`RequestIds::stamp`](crate::response::RequestIds::stamp) sets.
    fn preflight_template(&self, any_origin: bool) -> HeaderMap {
        let fill = HeaderValue::from_static("");
        let mut h = HeaderMap::with_capacity(12);
        h.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
        let origin = if any_origin {
            HeaderValue::from_static("*")
        } else {
            fill.clone()
        };
        h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if !any_origin {
            h.insert(ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        }
        let fixed = [
            (ACCESS_CONTROL_ALLOW_METHODS, self.allow_methods.clone()),
            (ACCESS_CONTROL_ALLOW_HEADERS, Some(fill.clone())),
            (ACCESS_CONTROL_EXPOSE_HEADERS, self.expose_headers.clone()),
            (ACCESS_CONTROL_MAX_AGE, self.max_age.clone()),
            (VARY, Some(HeaderValue::from_static(s3cors_cors::VARY))),
            (X_AMZ_REQUEST_ID.clone(), Some(fill.clone())),
            (X_AMZ_ID_2.clone(), Some(fill)),
            (SERVER, Some(HeaderValue::from_static("AmazonS3"))),
        ];
        for (name, value) in fixed {
            if let Some(v) = value {
                h.insert(name, v);
            }
        }
        h
    }

    /// The headers of a preflight this rule allowed (`cors`), before the ids are stamped: one copy of
    /// the template with the echoed origin and the requested headers filled in.
    pub fn preflight(&self, cors: CorsHeaders<'_>, origin: Option<&HeaderValue>) -> HeaderMap {
        let mut h = self.preflight.clone();
        if cors.allow_origin != "*"
            && let Some(o) = origin
        {
            h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, o.clone());
        }
        // The list is built per request; its buffer becomes the value without a copy.
        match cors
            .allow_headers
            .and_then(|v| HeaderValue::from_maybe_shared(bytes::Bytes::from(v)).ok())
        {
            Some(v) => {
                h.insert(ACCESS_CONTROL_ALLOW_HEADERS, v);
            }
            None => {
                h.remove(ACCESS_CONTROL_ALLOW_HEADERS);
            }
        }
        h
    }
}

/// Compiled configurations by bucket. Replaced whole on Put/Delete, so a request works with the
/// configuration in force when it arrived (R66) and a change applies to the next request (R80).
#[derive(Debug, Default)]
pub struct CorsCache {
    map: RwLock<HashMap<String, Arc<CorsEntry>>>,
    /// Serialises store-and-cache updates so that the cache always ends as the store does.
    writes: Mutex<()>,
}

impl CorsCache {
    /// Loads every stored configuration.
    pub fn load(store: &Store) -> Result<CorsCache, s3cors_store::StoreError> {
        let map = store
            .all_cors()?
            .into_iter()
            .map(|(bucket, config)| (bucket, Arc::new(CorsEntry::new(config))))
            .collect();
        Ok(CorsCache {
            map: RwLock::new(map),
            writes: Mutex::new(()),
        })
    }

    /// The configuration of a bucket.
    pub fn get(&self, bucket: &str) -> Option<Arc<CorsEntry>> {
        self.map.read().get(bucket).cloned()
    }

    /// Stores a configuration durably, then makes it current.
    pub(crate) fn put(&self, store: &Store, bucket: &str, config: CorsConfiguration) -> Result<(), S3Error> {
        let _w = self.writes.lock();
        store.put_cors(bucket, &config)?;
        self.map
            .write()
            .insert(bucket.to_owned(), Arc::new(CorsEntry::new(config)));
        Ok(())
    }

    /// Removes a configuration durably, then from the cache.
    pub(crate) fn delete(&self, store: &Store, bucket: &str) -> Result<(), S3Error> {
        let _w = self.writes.lock();
        store.delete_cors(bucket)?;
        self.map.write().remove(bucket);
        Ok(())
    }

    /// Deletes a bucket and forgets its configuration.
    pub(crate) fn delete_bucket(&self, store: &Store, bucket: &str) -> Result<(), S3Error> {
        let _w = self.writes.lock();
        store.delete_bucket(bucket)?;
        self.map.write().remove(bucket);
        Ok(())
    }
}

fn validation_error(e: &ValidationError) -> S3Error {
    let code = match e.code() {
        "MalformedXML" => S3ErrorCode::MalformedXML,
        "InvalidArgument" => S3ErrorCode::InvalidArgument,
        _ => S3ErrorCode::InvalidRequest,
    };
    S3Error::with_message(code, e.to_string())
}

pub(crate) async fn put(ctx: &Ctx, body: Body) -> Result<Response, S3Error> {
    ctx.app.store.bucket(&ctx.bucket)?;
    let body = ctx.read_body(body, MAX_CORS_DOCUMENT, Checksum::Required).await?;
    let config = s3cors_proto::cors_xml::parse_cors(&body)?;
    s3cors_cors::validate(&config).map_err(|e| validation_error(&e))?;
    // Accepted as S3 accepts it; what will not work as meant is logged (`s3cors cors lint` explains).
    for f in s3cors_cors::lint(&config) {
        tracing::warn!(
            bucket = %ctx.bucket,
            rule = f.rule,
            id = f.id.as_deref(),
            finding = f.code,
            fix = %f.fix,
            "CORS configuration: {}",
            f.message
        );
    }
    let app = ctx.app.clone();
    let bucket = ctx.bucket.clone();
    blocking(&ctx.app.store, move || app.cors.put(&app.store, &bucket, config)).await?;
    Ok(response::empty(StatusCode::OK))
}

pub(crate) fn get(ctx: &Ctx) -> Result<Response, S3Error> {
    ctx.app.store.bucket(&ctx.bucket)?;
    let entry = ctx.app.cors.get(&ctx.bucket).ok_or_else(|| {
        S3Error::new(S3ErrorCode::NoSuchCORSConfiguration).with_element("BucketName", ctx.bucket.clone())
    })?;
    Ok(response::xml(s3cors_proto::cors_xml::serialize_cors(
        &entry.config,
    )))
}

pub(crate) async fn delete(ctx: &Ctx) -> Result<Response, S3Error> {
    let app = ctx.app.clone();
    let bucket = ctx.bucket.clone();
    blocking(&ctx.app.store, move || app.cors.delete(&app.store, &bucket)).await?;
    Ok(no_content())
}
