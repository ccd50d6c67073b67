//! `s3cors cors explain` and `s3cors cors lint`: why a request is allowed or denied, and what in a
//! configuration will not work as meant, offline against a file or against a running server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{Args, Subcommand};
use s3cors_cors::{CorsConfiguration, ExplainRequest, PreflightRequest};
use s3cors_proto::sigv4::{self, CanonicalInput, Credential};
use serde_json::{Value, json};

use crate::startup::parse_cors_document;

#[derive(Debug, Subcommand)]
pub(crate) enum CorsCommand {
    /// Explain why a request is allowed or denied: rule by rule, which origin pattern matched, whether
    /// the method is allowed, the first requested header no rule covers, and the exact answer.
    ///
    /// Offline: `s3cors cors explain --config cors.xml --origin http://localhost:3000 --method PUT
    /// --headers content-type,x-amz-date`. Against a running server (owner credentials):
    /// `s3cors cors explain --endpoint http://127.0.0.1:9000 --bucket uploads --origin … --method PUT`.
    Explain(ExplainArgs),
    /// Find what in a CORS configuration will not work as meant (unreachable rules, origins browsers
    /// never send, look-alike loopback origins, ETag not exposed for uploads, AWS SDK headers not
    /// allowed, MaxAgeSeconds above browser caps). Exit status 1 when there are findings.
    ///
    /// `s3cors cors lint cors.json`, or `s3cors cors lint --endpoint http://127.0.0.1:9000 --bucket B`.
    Lint(LintArgs),
}

/// Where the configuration comes from.
#[derive(Debug, Args)]
pub(crate) struct Source {
    /// A running s3cors, e.g. http://127.0.0.1:9000 (with --bucket).
    #[arg(long, requires = "bucket")]
    endpoint: Option<String>,
    /// The bucket on --endpoint.
    #[arg(long)]
    bucket: Option<String>,
    /// Access key id of the bucket's owner.
    #[arg(long, env = "S3CORS_ACCESS_KEY_ID", default_value = "s3cors")]
    access_key_id: String,
    /// Secret access key of the bucket's owner.
    #[arg(
        long,
        env = "S3CORS_SECRET_ACCESS_KEY",
        default_value = "s3cors-secret",
        hide_env_values = true
    )]
    secret_access_key: String,
    /// Region to sign for.
    #[arg(long, env = "S3CORS_REGION", default_value = "us-east-1")]
    region: String,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// A CORSConfiguration file (XML, or the AWS JSON shape {"CORSRules": […]}), instead of --endpoint.
    #[arg(long, conflicts_with = "endpoint", required_unless_present = "endpoint")]
    config: Option<PathBuf>,
    /// The Origin the browser sends.
    #[arg(long)]
    origin: String,
    /// The method (for a preflight, what the browser puts in Access-Control-Request-Method).
    #[arg(long)]
    method: String,
    /// The requested headers, comma-separated (Access-Control-Request-Headers).
    #[arg(long)]
    headers: Option<String>,
    /// The object key, if the request is for an object.
    #[arg(long)]
    key: Option<String>,
    /// Explain an actual request carrying Origin instead of a preflight.
    #[arg(long)]
    actual: bool,
    #[command(flatten)]
    source: Source,
}

#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    /// A CORSConfiguration file (XML, or the AWS JSON shape), instead of --endpoint.
    #[arg(conflicts_with = "endpoint", required_unless_present = "endpoint")]
    file: Option<PathBuf>,
    #[command(flatten)]
    source: Source,
}

pub(crate) fn run(command: CorsCommand) -> ExitCode {
    let result = match command {
        CorsCommand::Explain(args) => explain(&args),
        CorsCommand::Lint(args) => lint(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("s3cors cors: {e}");
            ExitCode::from(2)
        }
    }
}

fn read_config(path: &PathBuf) -> Result<CorsConfiguration, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_cors_document(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn explain(args: &ExplainArgs) -> Result<ExitCode, String> {
    let doc = match (&args.config, &args.source.endpoint, &args.source.bucket) {
        (Some(path), _, _) => {
            let config = read_config(path)?;
            let req = ExplainRequest {
                request: PreflightRequest {
                    origin: Some(&args.origin),
                    method: Some(&args.method),
                    headers: args.headers.as_deref(),
                    has_key: args.key.as_deref().is_some_and(|k| !k.is_empty()),
                },
                preflight: !args.actual,
            };
            serde_json::to_value(s3cors_cors::explain(Some(&config), true, &req))
                .map_err(|e| e.to_string())?
        }
        (None, Some(endpoint), Some(bucket)) => {
            let body = json!({
                "bucket": bucket, "origin": args.origin, "method": args.method, "headers": args.headers,
                "key": args.key, "preflight": !args.actual,
            })
            .to_string();
            let (status, answer) = send(
                endpoint,
                &args.source,
                "POST",
                s3cors_http::diagnostics::EXPLAIN_PATH,
                "",
                body.as_bytes(),
            )?;
            if status != 200 {
                return Err(format!(
                    "{endpoint} answered {status}: {}",
                    String::from_utf8_lossy(&answer)
                ));
            }
            serde_json::from_slice(&answer).map_err(|e| format!("{endpoint}: not an explanation: {e}"))?
        }
        _ => return Err("give --config FILE, or --endpoint URL and --bucket B".to_owned()),
    };
    if args.source.json {
        println!("{doc:#}");
    } else {
        print!("{}", render_explanation(&doc, &args.method, !args.actual));
    }
    Ok(ExitCode::SUCCESS)
}

fn render_explanation(doc: &Value, method: &str, preflight: bool) -> String {
    let mut out = String::new();
    let kind = if preflight { "preflight" } else { "actual request" };
    out.push_str(&format!("{kind}, method {method}\n"));
    if let Some(reason) = doc["reason"].as_str() {
        out.push_str(&format!("  {reason}\n"));
    }
    for r in doc["rules"].as_array().into_iter().flatten() {
        let name = match r["id"].as_str() {
            Some(id) => format!("rule {} (id={id})", r["rule"]),
            None => format!("rule {}", r["rule"]),
        };
        let origin = match r["origin_matched_by"].as_str() {
            Some(p) => format!("origin ok ({p})"),
            None => "origin mismatch".to_owned(),
        };
        let methods: Vec<&str> = r["allowed_methods"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let method_text = if r["method_allowed"].as_bool() == Some(true) {
            "method ok".to_owned()
        } else {
            format!("method {method} not in [{}]", methods.join(", "))
        };
        let headers = match r["header_not_allowed"].as_str() {
            Some(h) => format!("header {h} not allowed"),
            None => "headers ok".to_owned(),
        };
        let mark = if r["matches"].as_bool() == Some(true) {
            "  <- matches"
        } else {
            ""
        };
        out.push_str(&format!("  {name}: {origin}, {method_text}, {headers}{mark}\n"));
    }
    let d = &doc["decision"];
    if d["allowed"].as_bool() == Some(true) {
        out.push_str(&format!("allowed by rule {}", d["rule"]));
        if let Some(status) = d["status"].as_u64() {
            out.push_str(&format!(" ({status})"));
        }
        out.push('\n');
        for pair in d["headers"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "  {}: {}\n",
                pair[0].as_str().unwrap_or(""),
                pair[1].as_str().unwrap_or("")
            ));
        }
    } else {
        match (d["status"].as_u64(), d["error"].as_array()) {
            (Some(status), Some(e)) => out.push_str(&format!(
                "denied: {status} {}: {}\n",
                e.first().and_then(Value::as_str).unwrap_or(""),
                e.get(1).and_then(Value::as_str).unwrap_or("")
            )),
            _ => out.push_str(
                "denied: the response carries no CORS headers, so the browser hides it from the page\n",
            ),
        }
    }
    out
}

fn lint(args: &LintArgs) -> Result<ExitCode, String> {
    let config = match (&args.file, &args.source.endpoint, &args.source.bucket) {
        (Some(path), _, _) => read_config(path)?,
        (None, Some(endpoint), Some(bucket)) => {
            let (status, body) = send(endpoint, &args.source, "GET", &format!("/{bucket}"), "cors=", b"")?;
            if status != 200 {
                return Err(format!(
                    "GetBucketCors {bucket} on {endpoint}: {status}: {}",
                    String::from_utf8_lossy(&body)
                ));
            }
            s3cors_proto::cors_xml::parse_cors(&body).map_err(|e| format!("{}: {}", e.code(), e.message()))?
        }
        _ => return Err("give FILE, or --endpoint URL and --bucket B".to_owned()),
    };
    let findings = s3cors_cors::lint(&config);
    if args.source.json {
        println!("{:#}", json!({ "findings": findings }));
    } else {
        for f in &findings {
            let name = match &f.id {
                Some(id) => format!("rule {} (id={id})", f.rule),
                None => format!("rule {}", f.rule),
            };
            println!("{name} [{}]: {}\n  fix: {}", f.code, f.message, f.fix);
        }
        match findings.len() {
            0 => println!("no findings"),
            1 => println!("1 finding"),
            n => println!("{n} findings"),
        }
    }
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One SigV4-signed request to `endpoint` (plain HTTP), answered whole.
fn send(
    endpoint: &str,
    source: &Source,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
) -> Result<(u16, Vec<u8>), String> {
    let authority = endpoint
        .strip_prefix("http://")
        .ok_or_else(|| format!("{endpoint}: only http:// endpoints are supported"))?
        .trim_end_matches('/');
    // 2026-11-28T03:16:02.000Z → 20261128T031602Z
    let iso = s3cors_proto::http::iso8601(SystemTime::now());
    let amz = format!(
        "{}{}{}T{}{}{}Z",
        &iso[0..4],
        &iso[5..7],
        &iso[8..10],
        &iso[11..13],
        &iso[14..16],
        &iso[17..19]
    );
    let credential = Credential {
        access_key_id: &source.access_key_id,
        date: &amz[..8],
        region: &source.region,
        service: "s3",
    };
    let payload = sigv4::sha256_hex(body);
    let names = ["host", "x-amz-content-sha256", "x-amz-date"];
    let values = [authority, payload.as_str(), amz.as_str()];
    let input = CanonicalInput {
        method,
        raw_path: path,
        raw_query: query,
    };
    let canonical = sigv4::canonical_request(
        &input,
        &names.join(";"),
        |n| {
            names
                .iter()
                .position(|x| *x == n)
                .map(|i| vec![values[i]])
                .unwrap_or_default()
        },
        &payload,
    );
    let signature = sigv4::signing_key(&source.secret_access_key, &credential).sign(&sigv4::string_to_sign(
        &amz,
        &credential,
        &canonical,
    ));
    let target = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {authority}\r\nx-amz-date: {amz}\r\nx-amz-content-sha256: {payload}\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={}, Signature={signature}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        source.access_key_id,
        sigv4::scope(&credential),
        names.join(";"),
        body.len()
    );
    let mut s = TcpStream::connect(authority).map_err(|e| format!("cannot connect to {endpoint}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    s.write_all(head.as_bytes())
        .and_then(|()| s.write_all(body))
        .map_err(|e| format!("{endpoint}: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| format!("{endpoint}: {e}"))?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("{endpoint}: not an HTTP response"))?;
    let status = std::str::from_utf8(&raw[..split])
        .ok()
        .and_then(|h| h.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("{endpoint}: not an HTTP response"))?;
    // s3cors answers these requests with a Content-Length and closes the connection: the rest is the body.
    Ok((status, raw[split + 4..].to_vec()))
}
