//! Request bodies: streamed into blobs (objects, parts) or read whole with a limit (XML documents).
//!
//! The framing is chosen by `x-amz-content-sha256`, as S3 does: a `STREAMING-…` value means the body is
//! `aws-chunked` and `x-amz-decoded-content-length` gives the payload size; otherwise the body is the
//! payload and `Content-Length` is required. Only decoded bytes reach the store.

use axum::body::Body;
use bytes::Bytes;
use http::HeaderMap;
use http_body_util::BodyExt;
use md5::{Digest, Md5};
use s3cors_proto::chunked::{ChunkEvent, ChunkedDecoder};
use s3cors_proto::{S3Error, S3ErrorCode};
use s3cors_store::{BlobWriter, Store, WrittenBlob};
use std::sync::Arc;

/// The largest object a single PUT may carry (5 GiB).
pub const MAX_SINGLE_PUT: u64 = 5 * 1024 * 1024 * 1024;

/// Bytes gathered before they are handed to a blocking write.
const WRITE_BATCH: usize = 1024 * 1024;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether the body uses the `aws-chunked` framing.
pub fn is_streaming(headers: &HeaderMap) -> bool {
    header(headers, "x-amz-content-sha256").is_some_and(|v| v.starts_with("STREAMING-"))
}

/// The payload length the request declares.
pub fn declared_length(headers: &HeaderMap) -> Result<u64, S3Error> {
    let name = if is_streaming(headers) {
        "x-amz-decoded-content-length"
    } else {
        "content-length"
    };
    match header(headers, name) {
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map_err(|_| S3Error::invalid_argument(format!("Invalid {name} header"), name, v)),
        None => Err(S3Error::new(S3ErrorCode::MissingContentLength)),
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
}

fn incomplete() -> S3Error {
    S3Error::new(S3ErrorCode::IncompleteBody)
}

fn internal(e: impl std::fmt::Display) -> S3Error {
    tracing::error!(error = %e, "writing a body failed");
    S3Error::internal()
}

async fn flush(writer: Box<dyn BlobWriter>, pending: Vec<Bytes>) -> Result<Box<dyn BlobWriter>, S3Error> {
    tokio::task::spawn_blocking(move || {
        let mut writer = writer;
        for b in pending {
            writer.write(&b)?;
        }
        Ok::<_, std::io::Error>(writer)
    })
    .await
    .map_err(internal)?
    .map_err(internal)
}

/// Streams a payload into a new committed blob, checking its length and `Content-MD5`.
pub async fn ingest(
    store: &Arc<Store>,
    headers: &HeaderMap,
    body: Body,
    max: u64,
) -> Result<WrittenBlob, S3Error> {
    let declared = declared_length(headers)?;
    if declared > max {
        return Err(S3Error::new(S3ErrorCode::EntityTooLarge)
            .with_element("ProposedSize", declared.to_string())
            .with_element("MaxSizeAllowed", max.to_string()));
    }
    let expected_md5 = header(headers, "content-md5")
        .map(s3cors_proto::parse_content_md5)
        .transpose()?;
    let mut decoder = is_streaming(headers).then(ChunkedDecoder::new);
    let mut writer = store.create_blob().map_err(internal)?;
    let mut md5 = Md5::new();
    let mut size = 0u64;
    let mut pending: Vec<Bytes> = Vec::new();
    let mut pending_len = 0usize;
    let mut body = body;
    let mut accept =
        |data: Bytes, pending: &mut Vec<Bytes>, pending_len: &mut usize| -> Result<(), S3Error> {
            size += data.len() as u64;
            if size > declared {
                return Err(incomplete());
            }
            md5.update(&data);
            *pending_len += data.len();
            pending.push(data);
            Ok(())
        };
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| incomplete())?;
        let Ok(data) = frame.into_data() else { continue };
        match &mut decoder {
            None => accept(data, &mut pending, &mut pending_len)?,
            Some(d) => {
                d.push(&data);
                while let Some(ev) = d.next_event().map_err(|e| {
                    S3Error::with_message(
                        S3ErrorCode::IncompleteBody,
                        format!("Invalid aws-chunked body: {e}"),
                    )
                })? {
                    if let ChunkEvent::Data(b) = ev {
                        accept(b, &mut pending, &mut pending_len)?;
                    }
                }
            }
        }
        if pending_len >= WRITE_BATCH {
            writer = flush(writer, std::mem::take(&mut pending)).await?;
            pending_len = 0;
        }
    }
    if let Some(d) = &decoder {
        d.finish().map_err(|_| incomplete())?;
    }
    if size != declared {
        return Err(incomplete());
    }
    let md5: [u8; 16] = md5.finalize().into();
    if let Some(expected) = expected_md5
        && expected != md5
    {
        return Err(S3Error::new(S3ErrorCode::BadDigest)
            .with_element("ExpectedDigest", b64(&expected))
            .with_element("CalculatedDigest", b64(&md5)));
    }
    let writer = flush(writer, pending).await?;
    let id = tokio::task::spawn_blocking(move || writer.commit())
        .await
        .map_err(internal)?
        .map_err(internal)?;
    Ok(WrittenBlob { id, size, md5 })
}

/// Reads a whole (small) body, decoding `aws-chunked`; longer than `limit` is
/// `MaxMessageLengthExceeded`. A `Content-MD5`, when sent, must match.
pub async fn read_small(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, S3Error> {
    let too_big = || S3Error::new(S3ErrorCode::MaxMessageLengthExceeded);
    let limited = http_body_util::Limited::new(body, limit.saturating_mul(2).max(4096));
    let raw = limited.collect().await.map_err(|_| too_big())?.to_bytes();
    let payload = if is_streaming(headers) {
        let mut d = ChunkedDecoder::new();
        d.push(&raw);
        let mut out = Vec::with_capacity(raw.len());
        while let Some(ev) = d.next_event().map_err(|_| incomplete())? {
            if let ChunkEvent::Data(b) = ev {
                out.extend_from_slice(&b);
            }
        }
        d.finish().map_err(|_| incomplete())?;
        Bytes::from(out)
    } else {
        raw
    };
    if payload.len() > limit {
        return Err(too_big());
    }
    if let Some(v) = header(headers, "content-md5") {
        let expected = s3cors_proto::parse_content_md5(v)?;
        if <[u8; 16]>::from(Md5::digest(&payload)) != expected {
            return Err(S3Error::new(S3ErrorCode::BadDigest));
        }
    }
    Ok(payload)
}
