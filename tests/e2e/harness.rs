//! Starting the real server and pointing aws-sdk-rust at it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

/// A running `s3cors` process. Stopped (SIGTERM, then waited for) when dropped.
pub(crate) struct Server {
    child: Option<Child>,
    pub(crate) port: u16,
    _tmp: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts a server with a fresh data directory.
    pub(crate) fn start() -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("data");
        let mut s = Server::start_on(&dir, &[]);
        s._tmp = Some(tmp);
        s
    }

    /// Starts a server on `dir` with extra arguments.
    pub(crate) fn start_on(dir: &Path, extra: &[&str]) -> Server {
        let mut args = vec![std::ffi::OsStr::new("--data-dir"), dir.as_os_str()];
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        Server::start_with(&args)
    }

    /// Starts a server with the in-memory store (`--memory`).
    pub(crate) fn start_memory() -> Server {
        Server::start_with(&[std::ffi::OsStr::new("--memory")])
    }

    fn start_with(args: &[&std::ffi::OsStr]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_s3cors"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env_remove("S3CORS_MEMORY")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start s3cors");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut first = String::new();
        reader.read_line(&mut first).expect("read banner");
        // Keep draining stdout so the server never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let port = first
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected banner: {first:?}"));
        Server {
            child: Some(child),
            port,
            _tmp: None,
        }
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// A path-style client with the default credentials.
    pub(crate) fn client(&self) -> Client {
        client_for(&self.endpoint(), true)
    }

    /// Sends SIGTERM and waits; returns the exit status code.
    pub(crate) fn stop(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().ok().and_then(|s| s.code())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

pub(crate) fn client_for(endpoint: &str, path_style: bool) -> Client {
    client_in_region(endpoint, path_style, "us-east-1")
}

/// A client signing for `region`.
pub(crate) fn client_in_region(endpoint: &str, path_style: bool, region: &'static str) -> Client {
    sdk_client(endpoint, path_style, region, "s3cors-secret")
}

/// A path-style client signing with `secret` as the secret key of the access key `s3cors`.
pub(crate) fn client_with_secret(endpoint: &str, secret: &str) -> Client {
    sdk_client(endpoint, true, "us-east-1", secret)
}

/// A virtual-hosted-style client: requests go to `BUCKET.localhost:PORT`, which the transport
/// connects to on 127.0.0.1 (the machine's resolver does not know `*.localhost`).
pub(crate) fn vhost_client(port: u16) -> Client {
    sdk_client(
        &format!("http://localhost:{port}"),
        false,
        "us-east-1",
        "s3cors-secret",
    )
}

fn sdk_client(endpoint: &str, path_style: bool, region: &'static str, secret: &str) -> Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("s3cors", secret, None, None, "e2e"))
        .force_path_style(path_style)
        .http_client(loopback::http_client())
        .build();
    Client::from_conf(conf)
}

/// The SDK's transport for these tests: hyper's pooled HTTP/1.1 client (what the SDK's default
/// client is built on) without TLS, since s3cors is reached over plain HTTP on loopback, and with
/// every host name resolved to 127.0.0.1. Everything above the socket — endpoint resolution,
/// serialization, signing, checksums, retries — is the SDK's own.
mod loopback {
    use std::future::Future;
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use aws_sdk_s3::config::{RuntimeComponents, SharedHttpClient};
    use aws_sdk_s3::primitives::SdkBody;
    use aws_smithy_runtime_api::client::http::{
        HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector, http_client_fn,
    };
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::HttpConnector as HyperConnector;
    use hyper_util::client::legacy::connect::dns::Name;
    use hyper_util::rt::TokioExecutor;

    /// Resolves every name to 127.0.0.1; the connector takes the port from the URI.
    #[derive(Debug, Clone, Copy)]
    struct Loopback;

    impl tower_service::Service<Name> for Loopback {
        type Response = std::iter::Once<SocketAddr>;
        type Error = std::io::Error;
        type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

        fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _name: Name) -> Self::Future {
            let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
            Box::pin(std::future::ready(Ok(std::iter::once(addr))))
        }
    }

    #[derive(Debug, Clone)]
    struct Transport(Client<HyperConnector<Loopback>, SdkBody>);

    impl HttpConnector for Transport {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let client = self.0.clone();
            HttpConnectorFuture::new(async move {
                let request = request
                    .try_into_http1x()
                    .map_err(|e| ConnectorError::other(e.into(), None))?;
                let response = client
                    .request(request)
                    .await
                    .map_err(|e| ConnectorError::io(e.into()))?;
                let (parts, body) = response.into_parts();
                let response = http::Response::from_parts(parts, SdkBody::from_body_1_x(body));
                response
                    .try_into()
                    .map_err(|e: aws_smithy_runtime_api::http::HttpError| {
                        ConnectorError::other(e.into(), None)
                    })
            })
        }
    }

    pub(super) fn http_client() -> SharedHttpClient {
        let mut connector = HyperConnector::new_with_resolver(Loopback);
        connector.set_nodelay(true);
        let transport = Transport(Client::builder(TokioExecutor::new()).build(connector));
        http_client_fn(move |_: &HttpConnectorSettings, _: &RuntimeComponents| {
            SharedHttpConnector::new(transport.clone())
        })
    }
}

/// The S3 error code of an SDK error.
pub(crate) fn code<E, R>(err: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match err.as_service_error() {
        Some(e) => e.code().unwrap_or("<no code>").to_owned(),
        None => format!("<not a service error: {err:?}>"),
    }
}

/// The HTTP status of an SDK error.
pub(crate) fn status<E>(err: &aws_sdk_s3::error::SdkError<E, aws_smithy_runtime_api::http::Response>) -> u16 {
    err.raw_response().map(|r| r.status().as_u16()).unwrap_or(0)
}

pub(crate) async fn body_bytes(out: aws_sdk_s3::operation::get_object::GetObjectOutput) -> Vec<u8> {
    out.body.collect().await.expect("read body").into_bytes().to_vec()
}

pub(crate) fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(data))
}
