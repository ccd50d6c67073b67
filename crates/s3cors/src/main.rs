//! The `s3cors` binary: configuration from flags and `S3CORS_*` variables, logging, the store, and the
//! server with graceful shutdown.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use s3cors_http::auth::Account;
use s3cors_http::{App, Config, Limits};

use s3cors_store::Store;

mod accounts;
mod cors_cli;
mod startup;

#[derive(Debug, Parser)]
#[command(
    name = "s3cors",
    version,
    about = "S3-compatible object storage with S3's bucket CORS, exactly"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve(Box<ServeArgs>),
    /// Check that a server answers its health endpoint; exit 0 when healthy.
    Health {
        /// The server's address.
        #[arg(long, env = "S3CORS_LISTEN", default_value = "127.0.0.1:9000")]
        listen: String,
    },
    /// CORS diagnostics: `explain` why a request is allowed or denied, `lint` a configuration.
    Cors {
        #[command(subcommand)]
        command: Box<cors_cli::CorsCommand>,
    },
}

#[derive(Debug, Clone, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "S3CORS_LISTEN", default_value = "127.0.0.1:9000")]
    listen: SocketAddr,
    /// Directory for metadata (sled) and object bytes.
    #[arg(long, env = "S3CORS_DATA_DIR", default_value = "./s3cors-data")]
    data_dir: PathBuf,
    /// Keep everything in memory; nothing is written to disk.
    #[arg(long, env = "S3CORS_MEMORY")]
    memory: bool,
    /// The region this endpoint serves.
    #[arg(long, env = "S3CORS_REGION", default_value = "us-east-1")]
    region: String,
    /// Domain for virtual-hosted-style requests (BUCKET.DOMAIN); comma-separated for several.
    #[arg(
        long,
        env = "S3CORS_DOMAIN",
        default_value = "localhost",
        value_delimiter = ','
    )]
    domain: Vec<String>,
    /// The default account's access key id.
    #[arg(long, env = "S3CORS_ACCESS_KEY_ID", default_value = "s3cors")]
    access_key_id: String,
    /// The default account's secret access key.
    #[arg(
        long,
        env = "S3CORS_SECRET_ACCESS_KEY",
        default_value = "s3cors-secret",
        hide_env_values = true
    )]
    secret_access_key: String,
    /// The default account's 12-digit id.
    #[arg(long, env = "S3CORS_ACCOUNT_ID", default_value = "000000000000")]
    account_id: String,
    /// A TOML file of further accounts (`[[account]]` tables with id, name, access_key_id,
    /// secret_access_key).
    #[arg(long, env = "S3CORS_ACCOUNTS")]
    accounts: Option<PathBuf>,
    /// Buckets to create at start (comma-separated; existing ones are kept).
    #[arg(long, env = "S3CORS_BUCKETS", value_delimiter = ',')]
    buckets: Vec<String>,
    /// A JSON file mapping bucket names to CORS configurations (the AWS JSON shape, or an XML string).
    #[arg(long, env = "S3CORS_CORS_FILE")]
    cors_file: Option<PathBuf>,
    /// The same map, inline.
    #[arg(long, env = "S3CORS_CORS")]
    cors: Option<String>,
    /// Log format: `text`, or `json` (one JSON object per line).
    #[arg(long, env = "S3CORS_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// Seconds to let in-flight requests finish after SIGTERM or SIGINT.
    #[arg(long, env = "S3CORS_SHUTDOWN_TIMEOUT", default_value_t = 10)]
    shutdown_timeout: u64,
    /// Largest request line and header section in bytes; larger is S3's RequestHeaderSectionTooLarge
    /// (four times larger, or more than --max-headers fields: 431 and the connection is closed).
    #[arg(long, env = "S3CORS_MAX_HEADER_BYTES", default_value_t = 16 * 1024)]
    max_header_bytes: usize,
    /// Most header fields in one request.
    #[arg(long, env = "S3CORS_MAX_HEADERS", default_value_t = 100)]
    max_headers: usize,
    /// Seconds a client has to send a complete header section once the connection is ready for one
    /// (this also closes idle keep-alive connections).
    #[arg(long, env = "S3CORS_HEADER_READ_TIMEOUT", default_value_t = 30)]
    header_read_timeout: u64,
    /// Seconds a request body may stall (S3's RequestTimeout) or a client may stop reading a response.
    #[arg(long, env = "S3CORS_IDLE_TIMEOUT", default_value_t = 20)]
    idle_timeout: u64,
    /// Connections served at once; more wait in the listen backlog.
    #[arg(long, env = "S3CORS_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// Largest XML body of DeleteObjects, CompleteMultipartUpload, CreateBucket and the ACL operations,
    /// in bytes (PutBucketCors and PutBucketPolicy keep S3's 64 KB and 20 KB).
    #[arg(long, env = "S3CORS_MAX_XML_BYTES", default_value_t = 2 * 1024 * 1024)]
    max_xml_bytes: usize,
    /// Add x-s3cors-cors-decision (why CORS allowed or denied the request, rule by rule) to every
    /// response CORS was evaluated for. Off by default: S3 sends no such header.
    #[arg(long, env = "S3CORS_CORS_DEBUG")]
    cors_debug: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Health { listen }) => health(&listen),
        Some(Command::Serve(args)) => serve(*args),
        Some(Command::Cors { command }) => cors_cli::run(*command),
        None => serve(cli.serve),
    }
}

/// `GET /_s3cors/health` over a plain socket: a minimal image has no curl.
fn health(listen: &str) -> ExitCode {
    let addr = listen.replace("0.0.0.0", "127.0.0.1");
    let check = || -> std::io::Result<bool> {
        let addr: SocketAddr = addr.parse().map_err(std::io::Error::other)?;
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        s.write_all(b"GET /_s3cors/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
        let mut out = String::new();
        s.read_to_string(&mut out)?;
        Ok(out.starts_with("HTTP/1.1 200"))
    };
    match check() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("s3cors at {addr} is not healthy");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("s3cors at {addr} does not answer: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("S3CORS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if args.log_format == "json" {
        logs.json().flatten_event(true).init();
    } else {
        logs.init();
    }
    // Disk work (fsync, rename, sled) runs on blocking threads. A few suffice — fsyncs queue in the
    // kernel anyway — and every extra thread would get its own malloc arena, which under sustained
    // writes grew the resident set by tens of MiB (docs/performance.md, the soak run).
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads((2 * cores).max(4))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("s3cors: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("s3cors: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: ServeArgs) -> Result<(), String> {
    let store = if args.memory {
        Store::memory()
    } else {
        Store::open_dir(&args.data_dir)
            .map_err(|e| format!("cannot open the data directory {}: {e}", args.data_dir.display()))?
    };
    let store = Arc::new(store);
    let mut accounts = vec![Account {
        id: args.account_id.clone(),
        name: "default".to_owned(),
        access_key_id: args.access_key_id.clone(),
        secret_access_key: args.secret_access_key.clone(),
    }];
    if let Some(path) = &args.accounts {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        accounts.extend(accounts::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    accounts::check(&accounts)?;
    let mut cors = Vec::new();
    if let Some(path) = &args.cors_file {
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        cors.extend(startup::parse_cors_map(&text).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    if let Some(text) = &args.cors {
        cors.extend(startup::parse_cors_map(text).map_err(|e| format!("S3CORS_CORS: {e}"))?);
    }
    startup::apply(&store, &accounts[0].id, &args.region, &args.buckets, &cors)?;
    let config = Config {
        region: args.region.clone(),
        domains: args.domain.clone(),
        accounts,
        limits: Limits {
            max_header_bytes: args.max_header_bytes,
            max_headers: args.max_headers,
            header_read_timeout: Duration::from_secs(args.header_read_timeout),
            idle_timeout: Duration::from_secs(args.idle_timeout),
            max_connections: args.max_connections,
            max_xml_bytes: args.max_xml_bytes,
        },
        cors_debug: args.cors_debug,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let storage = if args.memory {
        "memory (nothing is written to disk)".to_owned()
    } else {
        format!("{} (sled + files)", args.data_dir.display())
    };
    // The banner goes to stdout (tests and scripts read the first line for the address); a closed
    // stdout must not stop the server.
    let banner = format!(
        "s3cors {} listening on http://{local}\n  region:            {}\n  storage:           {storage}\n  \
         virtual hosts:     BUCKET.{}:{}\n  access key id:     {}\n  secret access key: {}\n",
        env!("CARGO_PKG_VERSION"),
        config.region,
        config.domains.join(", BUCKET."),
        local.port(),
        config.accounts[0].access_key_id,
        config.accounts[0].secret_access_key,
    );
    let mut out = std::io::stdout();
    let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
    let app = App::new(store.clone(), config).map_err(|e| format!("cannot load CORS configurations: {e}"))?;
    // After a signal, in-flight requests get `shutdown_timeout` seconds to finish.
    let stop = Arc::new(tokio::sync::Notify::new());
    let signalled = stop.clone();
    let server = s3cors_http::serve(listener, app, async move {
        shutdown_signal().await;
        signalled.notify_waiters();
    });
    let drain = Duration::from_secs(args.shutdown_timeout);
    tokio::select! {
        result = server => result.map_err(|e| format!("server error: {e}"))?,
        () = async { stop.notified().await; tokio::time::sleep(drain).await } => {
            tracing::warn!(seconds = args.shutdown_timeout, "in-flight requests did not finish in time; stopping");
        }
    }
    store
        .flush()
        .map_err(|e| format!("flushing the store failed: {e}"))?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
