//! The s3cors HTTP service.
//!
//! Requests flow `CORS → request ids → classify → authenticate → handler → store`; every failure becomes S3's
//! XML error document ([`response::error`]). Bodies stream in ([`body`]) and out ([`response`]): no
//! handler holds a whole object in memory.

mod access;
mod acl;
pub mod auth;
pub mod body;
mod bucket;
pub mod cors;
pub mod diagnostics;
pub mod layer;
mod list;
mod meta;
pub mod metrics;
mod multipart;
pub mod names;
mod object;
mod post;
pub mod response;
pub mod serve;
mod service;

use std::sync::Arc;

use s3cors_store::Store;

pub use serve::{Limits, serve};

/// What the service needs to know about its deployment.
#[derive(Debug, Clone)]
pub struct Config {
    /// The region this endpoint serves (`us-east-1` by default).
    pub region: String,
    /// Domains for virtual-hosted-style requests (`BUCKET.DOMAIN`).
    pub domains: Vec<String>,
    /// The accounts; the first is the default one.
    pub accounts: Vec<auth::Account>,
    /// Connection and request limits.
    pub limits: Limits,
    /// Add `x-s3cors-cors-decision` (why CORS allowed or denied) to every response CORS was evaluated
    /// for. Off by default: S3 sends no such header.
    pub cors_debug: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            region: "us-east-1".to_owned(),
            domains: vec!["localhost".to_owned()],
            accounts: vec![auth::Account {
                id: "000000000000".to_owned(),
                name: "s3cors".to_owned(),
                access_key_id: "s3cors".to_owned(),
                secret_access_key: "s3cors-secret".to_owned(),
            }],
            limits: Limits::default(),
            cors_debug: false,
        }
    }
}

/// The shared state of the service.
#[derive(Debug)]
pub struct App {
    /// The store.
    pub store: Arc<Store>,
    /// The configuration.
    pub config: Config,
    /// Compiled CORS configurations by bucket.
    pub cors: cors::CorsCache,
    /// Parsed bucket policies by bucket.
    pub policies: access::PolicyCache,
    /// Request counters.
    pub metrics: metrics::Metrics,
}

impl App {
    /// A service over `store`, with the stored CORS configurations loaded.
    pub fn new(store: Arc<Store>, config: Config) -> Result<Arc<Self>, s3cors_store::StoreError> {
        let cors = cors::CorsCache::load(&store)?;
        let policies = access::PolicyCache::load(&store)?;
        Ok(Arc::new(App {
            store,
            config,
            cors,
            policies,
            metrics: metrics::Metrics::default(),
        }))
    }
}
