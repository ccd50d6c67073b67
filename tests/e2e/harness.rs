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
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("s3cors", "s3cors-secret", None, None, "e2e"))
        .force_path_style(path_style)
        .build();
    Client::from_conf(conf)
}

/// A virtual-hosted-style client: requests go to `BUCKET.localhost:PORT`, resolved to 127.0.0.1 here
/// (the machine's resolver does not know `*.localhost`).
pub(crate) fn vhost_client(port: u16) -> Client {
    use aws_smithy_http_client::{Builder, tls};
    use aws_smithy_runtime_api::client::dns::{DnsFuture, ResolveDns};

    #[derive(Debug, Clone)]
    struct Loopback;
    impl ResolveDns for Loopback {
        fn resolve_dns<'a>(&'a self, _name: &'a str) -> DnsFuture<'a> {
            DnsFuture::ready(Ok(vec![std::net::IpAddr::from([127, 0, 0, 1])]))
        }
    }
    let http = Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
        .build_with_resolver(Loopback);
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://localhost:{port}"))
        .credentials_provider(Credentials::new("s3cors", "s3cors-secret", None, None, "e2e"))
        .force_path_style(false)
        .http_client(http)
        .build();
    Client::from_conf(conf)
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
