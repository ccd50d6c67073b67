//! The CORS subresource — PutBucketCors, GetBucketCors, DeleteBucketCors — and the per-bucket cache of
//! compiled configurations that [`crate::layer::CorsLayer`] decides from.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketCors.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketCors.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteBucketCors.html>.

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, SERVER, VARY,
};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use parking_lot::{Mutex, RwLock};
use s3cors_cors::{CompiledCors, CorsConfiguration, CorsHeaders, FixedHeaders, ValidationError};
use s3cors_proto::{S3Error, S3ErrorCode};
use s3cors_store::{NameMap, Store};

use crate::body::Checksum;
use crate::names::{X_AMZ_ID_2, X_AMZ_REQUEST_ID};
use crate::response::{self, RequestIds};
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
    /// Per rule, its response headers, built once: answering a request clones values (a reference
    /// count) instead of copying strings.
    pub values: Vec<RuleValues>,
}

/// Where a CORS header's value comes from.
#[derive(Debug)]
enum Fill {
    /// The same for every request the rule matches.
    Fixed(HeaderValue),
    /// The request's `Origin`, echoed (R47).
    Origin,
    /// The requested header names (R50), only when there are some.
    RequestHeaders,
}

/// A rule's response headers.
#[derive(Debug)]
pub struct RuleValues {
    /// The CORS headers in emission order (those of
    /// [`CorsHeaders::pairs`](s3cors_cors::CorsHeaders::pairs), R47–R53).
    cors: Vec<(HeaderName, Fill)>,
    /// The headers of a preflight this rule allows, without and with `Access-Control-Allow-Headers`:
    /// the CORS headers, then the ids and `Server` of
    /// [`RequestIds::stamp`](crate::response::RequestIds::stamp), with empty values where the
    /// request's own go. Answering one clones a template and fills those in where they lie. hyper
    /// writes `Content-Length: 0` from the empty body.
    preflight: [Template; 2],
}

/// A preflight's headers, and where in them the request's values go.
#[derive(Debug)]
struct Template {
    headers: HeaderMap,
    /// The echoed origin's position, when the rule echoes it (R47).
    origin: Option<usize>,
    /// The requested headers' position (R50).
    requested: Option<usize>,
    /// The positions of `x-amz-request-id` and `x-amz-id-2`.
    ids: (usize, usize),
}

impl Template {
    fn new(cors: &[(HeaderName, Fill)], with_requested: bool) -> Template {
        let empty = HeaderValue::from_static("");
        let mut t = Template {
            headers: HeaderMap::with_capacity(10),
            origin: None,
            requested: None,
            ids: (0, 0),
        };
        let push = |t: &mut Template, name: &HeaderName, value: HeaderValue| {
            t.headers.insert(name.clone(), value);
            t.headers.len() - 1
        };
        for (name, f) in cors {
            match f {
                Fill::Fixed(v) => {
                    push(&mut t, name, v.clone());
                }
                Fill::Origin => t.origin = Some(push(&mut t, name, empty.clone())),
                Fill::RequestHeaders if with_requested => {
                    t.requested = Some(push(&mut t, name, empty.clone()));
                }
                Fill::RequestHeaders => {}
            }
        }
        t.ids = (
            push(&mut t, &X_AMZ_REQUEST_ID, empty.clone()),
            push(&mut t, &X_AMZ_ID_2, empty),
        );
        push(&mut t, &SERVER, HeaderValue::from_static("AmazonS3"));
        t
    }
}

impl CorsEntry {
    /// Compiles `config` and its header values.
    pub fn new(config: CorsConfiguration) -> CorsEntry {
        let compiled = CompiledCors::compile(&config);
        let values = compiled.fixed_headers().map(RuleValues::new).collect();
        CorsEntry {
            config,
            compiled,
            values,
        }
    }
}

impl RuleValues {
    fn new(fixed: FixedHeaders<'_>) -> Self {
        let any_origin = fixed.any_origin;
        let value = |s: &str| HeaderValue::from_str(s).ok().map(Fill::Fixed);
        let cors: Vec<(HeaderName, Fill)> = [
            (
                ACCESS_CONTROL_ALLOW_ORIGIN,
                Some(if any_origin {
                    Fill::Fixed(HeaderValue::from_static("*"))
                } else {
                    Fill::Origin
                }),
            ),
            (
                ACCESS_CONTROL_ALLOW_CREDENTIALS,
                (!any_origin).then(|| Fill::Fixed(HeaderValue::from_static("true"))),
            ),
            (ACCESS_CONTROL_ALLOW_METHODS, value(fixed.allow_methods)),
            (ACCESS_CONTROL_ALLOW_HEADERS, Some(Fill::RequestHeaders)),
            (
                ACCESS_CONTROL_EXPOSE_HEADERS,
                fixed.expose_headers.and_then(value),
            ),
            (ACCESS_CONTROL_MAX_AGE, fixed.max_age.and_then(value)),
            (
                VARY,
                Some(Fill::Fixed(HeaderValue::from_static(s3cors_cors::VARY))),
            ),
        ]
        .into_iter()
        .filter_map(|(name, fill)| Some((name, fill?)))
        .collect();
        let preflight = [Template::new(&cors, false), Template::new(&cors, true)];
        RuleValues { cors, preflight }
    }

    /// The CORS headers of a request this rule matched, in emission order (at most seven): `origin`
    /// is the request's `Origin` (echoed, R47), `requested` the decision's
    /// `Access-Control-Allow-Headers` value ([`requested_value`]). Built as they are inserted, so
    /// that nothing sized for all seven is kept or moved while the handler runs.
    pub fn headers<'a>(
        &'a self,
        origin: Option<&'a HeaderValue>,
        mut requested: Option<HeaderValue>,
    ) -> impl Iterator<Item = (HeaderName, HeaderValue)> + 'a {
        self.cors.iter().filter_map(move |(name, f)| {
            let v = match f {
                Fill::Fixed(v) => v.clone(),
                Fill::Origin => origin?.clone(),
                Fill::RequestHeaders => requested.take()?,
            };
            Some((name.clone(), v))
        })
    }

    /// The headers of a preflight this rule allowed (`cors`), ids and `Server` included: one copy of
    /// the template with the echoed origin, the requested headers and the ids written where they lie.
    pub fn preflight(
        &self,
        cors: CorsHeaders<'_>,
        origin: Option<&HeaderValue>,
        ids: &RequestIds,
    ) -> HeaderMap {
        let echo = cors.allow_origin != "*";
        let mut requested = requested_value(cors);
        let t = &self.preflight[usize::from(requested.is_some())];
        let (mut request_id, mut host_id) = ids.values();
        let mut h = t.headers.clone();
        for (i, (_, v)) in h.iter_mut().enumerate() {
            let fill = if Some(i) == t.origin && echo {
                origin.cloned()
            } else if Some(i) == t.requested {
                requested.take()
            } else if i == t.ids.0 {
                request_id.take()
            } else if i == t.ids.1 {
                host_id.take()
            } else {
                None
            };
            if let Some(fill) = fill {
                *v = fill;
            }
        }
        h
    }
}

/// `Access-Control-Allow-Headers`, when the request names headers. The list is built per request; its
/// buffer becomes the value without a copy.
pub(crate) fn requested_value(cors: CorsHeaders<'_>) -> Option<HeaderValue> {
    cors.allow_headers
        .and_then(|v| HeaderValue::from_maybe_shared(bytes::Bytes::from(v)).ok())
}

/// Compiled configurations by bucket. Replaced whole on Put/Delete, so a request works with the
/// configuration in force when it arrived (R66) and a change applies to the next request (R80).
#[derive(Debug, Default)]
pub struct CorsCache {
    map: RwLock<NameMap<String, Arc<CorsEntry>>>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use s3cors_cors::{BucketCors, CorsRule, PreflightRequest, preflight};

    fn rule(origin: &str, expose: &[&str], max_age: Option<i64>, headers: &[&str]) -> CorsRule {
        CorsRule {
            allowed_origins: vec![origin.to_owned()],
            allowed_methods: vec!["GET".to_owned(), "PUT".to_owned()],
            allowed_headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            expose_headers: expose.iter().map(|h| (*h).to_owned()).collect(),
            max_age_seconds: max_age,
            ..CorsRule::default()
        }
    }

    fn names_and_values<'a>(
        h: impl Iterator<Item = (&'a HeaderName, &'a HeaderValue)>,
    ) -> Vec<(String, String)> {
        h.map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("?").to_owned()))
            .collect()
    }

    /// The prebuilt headers of both paths are exactly the engine's (R47–R53), in its order; a preflight
    /// adds the request's ids and `Server` last (its `Content-Length: 0` is hyper's, checked on the
    /// wire by the e2e test of R46).
    #[test]
    fn prebuilt_headers_are_the_engines() {
        let origin = HeaderValue::from_static("https://app.example");
        #[rustfmt::skip]
        let cases: &[(CorsRule, Option<&str>)] = &[
            (rule("https://app.example", &["ETag", "x-amz-request-id"], Some(3000), &["*"]), Some("Content-Type, x-amz-date")),
            (rule("https://app.example", &[], None, &["*"]), None),
            (rule("*", &["ETag"], Some(0), &["content-type"]), Some("content-type")),
            (rule("*", &[], None, &[]), None),
            (rule("https://*.example", &[], Some(-1), &["x-*"]), Some("x-a,x-b")),
        ];
        for (r, acrh) in cases {
            let entry = CorsEntry::new(CorsConfiguration {
                rules: vec![r.clone()],
            });
            let req = PreflightRequest {
                origin: Some("https://app.example"),
                method: Some("PUT"),
                headers: *acrh,
                has_key: true,
            };
            let cors = preflight(BucketCors::Configured(&entry.compiled), &req).expect("allowed");
            let expected: Vec<(String, String)> = cors
                .pairs()
                .map(|(n, v)| (n.to_owned(), v.into_owned()))
                .collect();
            let values = &entry.values[cors.rule];

            let actual: Vec<_> = values
                .headers(Some(&origin), requested_value(cors.clone()))
                .collect();
            let actual = names_and_values(actual.iter().map(|(n, v)| (n, v)));
            assert_eq!(actual, expected, "{r:?} {acrh:?}");

            let ids = RequestIds::new();
            let pre = values.preflight(cors.clone(), Some(&origin), &ids);
            let pre = names_and_values(pre.iter());
            let (mut cors_part, mut rest) = (Vec::new(), Vec::new());
            for (n, v) in &pre {
                let is_cors = n.starts_with("access-control-") || n == "vary";
                if is_cors { &mut cors_part } else { &mut rest }.push((n.as_str(), v.as_str()));
            }
            let expected: Vec<(&str, &str)> =
                expected.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            assert_eq!(cors_part, expected, "{r:?} {acrh:?}");
            assert_eq!(
                rest,
                [
                    ("x-amz-request-id", ids.request_id()),
                    ("x-amz-id-2", ids.host_id()),
                    ("server", "AmazonS3"),
                ],
                "{r:?} {acrh:?}"
            );
        }
    }
}
