//! S3's CORS around the whole service: [`answer_preflight`] and [`respond`].
//!
//! It sits outside authentication, so preflights are never authenticated (R56), and it wraps the
//! handler, so the headers of a matching rule reach every response to an actual request, errors
//! included (R64). Every `OPTIONS` is answered here from the bucket's CORS configuration (§5), never
//! from the object (R57). Deciding reads one `Arc` from the cache and allocates nothing per rule.

use std::sync::Arc;

use axum::extract::Request;
use axum::response::Response;
use http::header::{ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use s3cors_cors::{BucketCors, ExplainRequest, PreflightError, PreflightRequest};
use s3cors_proto::endpoint::{locate, virtual_host_bucket};
use s3cors_proto::{S3Error, S3ErrorCode};

use crate::App;
use crate::cors::{CorsEntry, requested_value};
use crate::names::{header, host};
use crate::response::{self, RequestIds};
use crate::service::handle;

/// What CORS decided for a request with an `Origin`, for the request log.
#[derive(Debug, Clone, Copy)]
pub struct CorsDecision(pub &'static str);

/// What a request finds of its bucket's CORS; the entry is kept for the whole request.
fn bucket_state(app: &App, bucket: Option<&str>) -> (Option<Arc<CorsEntry>>, bool) {
    let Some(bucket) = bucket else {
        return (None, false);
    };
    match app.cors.get(bucket) {
        Some(entry) => (Some(entry), true),
        None => (None, app.store.bucket(bucket).is_ok()),
    }
}

fn is_internal(app: &App, uri: &Uri, headers: &HeaderMap) -> bool {
    uri.path().starts_with("/_s3cors/")
        && host(uri, headers)
            .and_then(|h| virtual_host_bucket(h, &app.config.domains))
            .is_none()
}

/// The name of the opt-in diagnostic header (`--cors-debug`).
pub const DEBUG_HEADER: &str = "x-s3cors-cors-decision";

/// The one-line explanation of `req` and whether CORS allowed it.
fn debug_decision(
    entry: Option<&CorsEntry>,
    bucket_exists: bool,
    req: &ExplainRequest<'_>,
) -> (String, bool) {
    let e = s3cors_cors::explain(entry.map(|e| &e.config), bucket_exists, req);
    (e.summary, e.decision.allowed)
}

/// Adds `x-s3cors-cors-decision`; on an allowed actual response (`expose`) scripts may read it too.
fn add_debug_header(resp: &mut Response, (summary, allowed): &(String, bool), expose: bool) {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(summary) {
        h.insert(DEBUG_HEADER, v);
    }
    if expose && *allowed {
        let exposed = match header(h, http::header::ACCESS_CONTROL_EXPOSE_HEADERS) {
            Some(list) => format!("{list}, {DEBUG_HEADER}"),
            None => DEBUG_HEADER.to_owned(),
        };
        if let Ok(v) = HeaderValue::from_str(&exposed) {
            h.insert(http::header::ACCESS_CONTROL_EXPOSE_HEADERS, v);
        }
    }
}

/// S3's answer to an `OPTIONS` request (every one except to the `/_s3cors/` endpoints), or `None` for
/// any other request. The connection loop calls this before the service: a preflight needs nothing else.
pub fn answer_preflight(app: &App, method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Response> {
    if method != Method::OPTIONS || is_internal(app, uri, headers) {
        return None;
    }
    let ids = RequestIds::new();
    let located = locate(host(uri, headers), uri.path(), &app.config.domains);
    let (entry, exists) = bucket_state(app, located.as_ref().map(|(b, _)| b.as_ref()));
    let state = match (&entry, exists) {
        (Some(e), _) => BucketCors::Configured(&e.compiled),
        (None, true) => BucketCors::NotConfigured,
        (None, false) => BucketCors::NoBucket,
    };
    let origin = headers.get(ORIGIN);
    let pf = PreflightRequest {
        origin: origin.and_then(|v| v.to_str().ok()),
        method: header(headers, ACCESS_CONTROL_REQUEST_METHOD),
        headers: header(headers, ACCESS_CONTROL_REQUEST_HEADERS),
        has_key: located.as_ref().is_some_and(|(_, k)| *k),
    };
    let decision = s3cors_cors::preflight(state, &pf);
    app.metrics.preflight(decision.is_ok());
    tracing::info!(
        request_id = ids.request_id(),
        op = "Preflight",
        path = uri.path(),
        cors = if decision.is_ok() { "allowed" } else { "denied" },
        "request"
    );
    let mut resp = match decision {
        // The rule's prebuilt headers carry the ids already.
        Ok(allowed) => match entry.as_ref().and_then(|e| e.values.get(allowed.rule)) {
            Some(rule) => {
                let mut resp = Response::new(axum::body::Body::empty());
                *resp.headers_mut() = rule.preflight(allowed, origin, &ids);
                resp
            }
            None => stamped(response::empty(StatusCode::OK), &ids),
        },
        Err(e) => stamped(response::error(&preflight_error(&e), &ids, false), &ids),
    };
    if app.config.cors_debug {
        let req = ExplainRequest {
            request: pf,
            preflight: true,
        };
        add_debug_header(&mut resp, &debug_decision(entry.as_deref(), exists, &req), false);
    }
    Some(resp)
}

/// `resp` with the request's ids and `Server: AmazonS3`.
fn stamped(mut resp: Response, ids: &RequestIds) -> Response {
    ids.stamp(&mut resp);
    resp
}

fn preflight_error(e: &PreflightError) -> S3Error {
    let code = if e.status() == 400 {
        S3ErrorCode::BadRequest
    } else {
        S3ErrorCode::AccessForbidden
    };
    let err = S3Error::with_message(code, e.to_string());
    match e.method_and_resource() {
        Some((method, resource)) => err
            .with_element("Method", method.to_owned())
            .with_element("ResourceType", resource.as_str()),
        None => err,
    }
}

/// Serves a request that is not a preflight: the handler's answer, with the headers of the rule that
/// matches the request's `Origin` added (R58–R65), decided from the request alone with the
/// configuration in force when it arrived (R66).
pub async fn respond(app: Arc<App>, mut req: Request) -> Response {
    let cors = match req.headers().get(ORIGIN).filter(|o| !o.is_empty()) {
        Some(origin) => decide_actual(&app, &req, origin),
        None => None,
    };
    // Only the request log reads it.
    if let Some(d) = cors.as_ref().and_then(|c| c.decision)
        && tracing::enabled!(tracing::Level::INFO)
    {
        req.extensions_mut().insert(d);
    }
    // One call, so that the request's future holds one handler's state, not one per branch.
    let mut resp = handle(app, req).await;
    if let Some(cors) = cors {
        if let Some(m) = cors.matched
            && let Some(values) = m.entry.values.get(m.rule)
        {
            for (name, value) in values.headers(Some(&m.origin), m.requested) {
                resp.headers_mut().insert(name, value);
            }
        }
        if let Some(d) = &cors.debug {
            add_debug_header(&mut resp, d, true);
        }
    }
    resp
}

/// What CORS adds to an actual request with an `Origin`.
struct ActualCors {
    /// The rule that matched, whose headers go on the answer.
    matched: Option<Matched>,
    /// The `--cors-debug` explanation.
    debug: Option<(String, bool)>,
    /// For the request log, when the bucket has a configuration.
    decision: Option<CorsDecision>,
}

/// The rule an actual request matched, and what its headers echo from the request.
struct Matched {
    entry: Arc<CorsEntry>,
    rule: usize,
    /// The request's `Origin`.
    origin: HeaderValue,
    /// The decision's `Access-Control-Allow-Headers` value, if any.
    requested: Option<HeaderValue>,
}

/// What CORS adds to an actual request with an `Origin`; `None` when the bucket has no configuration
/// and nothing is explained.
fn decide_actual(app: &App, req: &Request, origin_value: &HeaderValue) -> Option<ActualCors> {
    let origin = origin_value.to_str().ok()?;
    let located = locate(
        host(req.uri(), req.headers()),
        req.uri().path(),
        &app.config.domains,
    );
    let (bucket, has_key) = located.map_or((None, false), |(b, k)| (Some(b), k));
    let entry = bucket.as_deref().and_then(|b| app.cors.get(b));
    let h = req.headers();
    let acrm = header(h, ACCESS_CONTROL_REQUEST_METHOD);
    let acrh = header(h, ACCESS_CONTROL_REQUEST_HEADERS);
    let debug = app.config.cors_debug.then(|| {
        let exists = entry.is_some() || bucket.as_deref().is_some_and(|b| app.store.bucket(b).is_ok());
        let explained = ExplainRequest {
            request: PreflightRequest {
                origin: Some(origin),
                method: Some(acrm.unwrap_or(req.method().as_str())),
                headers: acrh,
                has_key,
            },
            preflight: false,
        };
        debug_decision(entry.as_deref(), exists, &explained)
    });
    let entry = match entry {
        Some(entry) => entry,
        None => {
            return debug.map(|d| ActualCors {
                matched: None,
                debug: Some(d),
                decision: None,
            });
        }
    };
    let state = BucketCors::Configured(&entry.compiled);
    let matched = s3cors_cors::actual(state, Some(origin), req.method().as_str(), acrm, acrh)
        .map(|cors| (cors.rule, requested_value(cors)));
    let decision = CorsDecision(if matched.is_some() {
        "allowed"
    } else {
        "no rule matched"
    });
    Some(ActualCors {
        matched: matched.map(|(rule, requested)| Matched {
            entry,
            rule,
            origin: origin_value.clone(),
            requested,
        }),
        debug,
        decision: Some(decision),
    })
}
