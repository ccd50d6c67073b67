//! The ceiling server: the least an HTTP server can do for each workload, with the same stack s3cors
//! uses (tokio, hyper). OPTIONS answers fixed `Access-Control-*` headers, GET a fixed body, PUT drains
//! the body. No routing, authentication, storage or CORS decision. Every s3cors figure is a ratio to it.
//!
//! `ceiling LISTEN BODY_BYTES [SPIN_NS]`
//!
//! With `SPIN_NS`, each answer first spends that many nanoseconds of CPU in user space: the control run
//! of `s3cors-bench --control-spin NS` uses it to show what a given amount of extra user-space work per
//! request costs in the ratio (docs/performance.md, "What a microsecond is worth").

use std::convert::Infallible;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;

/// Busy for `spin` of CPU time in user space (a clock read per turn, which the vDSO answers).
fn spin(spin: Duration) {
    if spin.is_zero() {
        return;
    }
    let until = Instant::now() + spin;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

async fn answer(
    req: Request<Incoming>,
    body: Bytes,
    busy: Duration,
) -> Result<Response<Full<Bytes>>, Infallible> {
    spin(busy);
    let method = req.method().clone();
    let resp = match method {
        Method::OPTIONS => Response::builder()
            .header("access-control-allow-origin", "http://localhost:3000")
            .header("access-control-allow-credentials", "true")
            .header("access-control-allow-methods", "GET, PUT")
            .header(
                "access-control-allow-headers",
                "content-type, x-amz-date, authorization, x-amz-content-sha256",
            )
            .header("access-control-max-age", "3000")
            .header(
                "vary",
                "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
            )
            .body(Full::new(Bytes::new())),
        Method::PUT => {
            let _ = req.into_body().collect().await;
            Response::builder()
                .header("etag", "\"00000000000000000000000000000000\"")
                .body(Full::new(Bytes::new()))
        }
        _ => Response::builder()
            .header("content-type", "binary/octet-stream")
            .body(Full::new(body)),
    };
    Ok(resp.unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let listen = args.next().unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let size: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1024);
    let busy = Duration::from_nanos(args.next().and_then(|s| s.parse().ok()).unwrap_or(0));
    let body = Bytes::from(vec![b'x'; size]);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("ceiling listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(req, body.clone(), busy));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
