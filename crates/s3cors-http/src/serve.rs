//! Accepting connections: HTTP/1.1 (the protocol S3 speaks) with the limits that keep a slow or hostile
//! client from holding the server.
//!
//! - The header section: above [`Limits::max_header_bytes`] a request is answered with S3's
//!   `RequestHeaderSectionTooLarge` (checked in the service, so the answer is S3's XML document;
//!   preflights, answered before it, are bounded only by the next limit);
//!   above four times that, or with more than [`Limits::max_headers`] fields, hyper answers
//!   `431 Request Header Fields Too Large` and closes the connection without reading further.
//! - [`Limits::header_read_timeout`]: the header section must arrive within this time of the server
//!   being ready for it, which also closes idle keep-alive connections.
//! - [`Limits::idle_timeout`]: a request body that stalls this long is answered with S3's
//!   `RequestTimeout` (<https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>); a
//!   client that stops reading a response for this long is disconnected.
//! - [`Limits::max_connections`]: beyond it, new connections wait in the listen backlog.
//! - [`Limits::max_xml_bytes`]: the largest XML request body where S3 sets no limit of its own.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::Either;
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::time::Sleep;

use crate::App;

/// Connection and request limits (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The request line and header fields, in bytes.
    pub max_header_bytes: usize,
    /// Header fields per request.
    pub max_headers: usize,
    /// Time allowed for a header section to arrive.
    pub header_read_timeout: Duration,
    /// Time a request body or a response may stall.
    pub idle_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// The largest XML body of DeleteObjects, CompleteMultipartUpload, CreateBucket and the ACL
    /// operations (`MaxMessageLengthExceeded` above it). PutBucketCors (64 KB) and PutBucketPolicy
    /// (20 KB) keep S3's own limits.
    pub max_xml_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_bytes: 16 * 1024,
            max_headers: 100,
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(20),
            max_connections: 1024,
            max_xml_bytes: 2 * 1024 * 1024,
        }
    }
}

impl Limits {
    /// The size at which hyper stops reading a header section and answers 431.
    fn hard_header_bytes(&self) -> usize {
        self.max_header_bytes.saturating_mul(4).max(64 * 1024)
    }
}

/// A request body ended because it stalled for longer than the idle timeout.
#[derive(Debug, thiserror::Error)]
#[error("the request body stalled for longer than the idle timeout")]
pub struct BodyStalled;

/// Serves `app` on `listener` until `shutdown` completes, then waits for open connections to finish
/// their requests.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let limits = app.config.limits;
    let mut http = hyper::server::conn::http1::Builder::new();
    http.header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.hard_header_bytes())
        .max_buf_size((limits.hard_header_bytes() + 8192).max(417_792));
    if limits.max_headers != 100 {
        // hyper's default; any other value moves its header array to the heap.
        http.max_headers(limits.max_headers);
    }
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => permit.map_err(io::Error::other)?,
        };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let idle = limits.idle_timeout;
        let per_request = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            if let Some(resp) = crate::layer::answer_preflight(&app, req.method(), req.uri(), req.headers()) {
                return Either::Left(std::future::ready(Ok(resp)));
            }
            let req = req.map(|body| {
                if body.is_end_stream() {
                    Body::new(body)
                } else {
                    Body::new(StallTimeout::new(body, idle))
                }
            });
            // Boxed, so that a preflight's answer does not move a slot sized for a whole request;
            // boxed before it is mapped, so that the 3 KB future is moved once, into its box.
            Either::Right(Box::pin(crate::layer::respond(app.clone(), req)).map(Ok::<_, Infallible>))
        });
        let conn = http
            .clone()
            .timer(HeaderTimer::default())
            .serve_connection(TokioIo::new(WriteStall::new(stream, idle)), per_request);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// A connection's timer for hyper's header-read timeout, which hyper starts afresh for every request
/// (a new sleep, dropped once the header section is in). Each of those sleeps shares the connection's
/// one tokio timer, left armed for an earlier request's deadline and moved on to the current one only
/// when it fires: a request costs no timer registration, no cancellation and no clock read beyond
/// hyper's own, about 300 instructions fewer than a tokio sleep of its own (a preflight costs 19,000).
#[derive(Debug, Default)]
struct HeaderTimer {
    sleep: Arc<parking_lot::Mutex<Option<Pin<Box<Sleep>>>>>,
}

impl hyper::rt::Timer for HeaderTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep_until(std::time::Instant::now() + duration)
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(HeaderSleep {
            sleep: self.sleep.clone(),
            deadline: deadline.into(),
        })
    }
}

/// One request's wait for its header section: ready once `deadline` has passed.
#[derive(Debug)]
struct HeaderSleep {
    sleep: Arc<parking_lot::Mutex<Option<Pin<Box<Sleep>>>>>,
    deadline: tokio::time::Instant,
}

impl Future for HeaderSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline;
        let mut slot = self.sleep.lock();
        let sleep = slot.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        // The shared timer never waits past this deadline; it may be due earlier (an earlier request's).
        if sleep.deadline() > deadline {
            sleep.as_mut().reset(deadline);
        }
        loop {
            ready!(sleep.as_mut().poll(cx));
            if sleep.deadline() >= deadline {
                return Poll::Ready(());
            }
            // It fired for an earlier request's deadline: on to this one's.
            sleep.as_mut().reset(deadline);
        }
    }
}

impl hyper::rt::Sleep for HeaderSleep {}

/// A sleep armed when its owner first waits and re-armed, in place, on the first wait after progress:
/// one timer per body or connection however many frames pass, and no timer while nothing waits.
#[derive(Debug)]
struct Stall {
    after: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    /// Progress since the sleep was last armed.
    moved: bool,
}

impl Stall {
    fn new(after: Duration) -> Self {
        Stall {
            after,
            sleep: None,
            moved: false,
        }
    }

    fn progressed(&mut self) {
        self.moved = true;
    }

    /// True once the owner has waited `after` since its last progress.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        let after = self.after;
        let moved = std::mem::take(&mut self.moved);
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(after)));
        if moved {
            sleep.as_mut().reset(tokio::time::Instant::now() + after);
        }
        sleep.as_mut().poll(cx).is_ready()
    }
}

/// A request body whose frames must keep coming.
#[derive(Debug)]
struct StallTimeout {
    inner: Incoming,
    stall: Stall,
}

impl StallTimeout {
    fn new(inner: Incoming, after: Duration) -> Self {
        StallTimeout {
            inner,
            stall: Stall::new(after),
        }
    }
}

impl HttpBody for StallTimeout {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                self.stall.progressed();
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending if self.stall.expired(cx) => Poll::Ready(Some(Err(Box::new(BodyStalled)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A connection whose writes must keep draining: a client that stops reading is disconnected.
#[derive(Debug)]
struct WriteStall<T> {
    inner: T,
    stall: Stall,
}

impl<T> WriteStall<T> {
    fn new(inner: T, after: Duration) -> Self {
        WriteStall {
            inner,
            stall: Stall::new(after),
        }
    }

    fn check<R>(&mut self, cx: &mut Context<'_>, polled: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        match polled {
            Poll::Ready(r) => {
                self.stall.progressed();
                Poll::Ready(r)
            }
            Poll::Pending if self.stall.expired(cx) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WriteStall<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WriteStall<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.check(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.check(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.check(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(Pin::new(&mut self.inner).poll_shutdown(cx))?;
        Poll::Ready(Ok(()))
    }
}
