//! Request bodies: streamed into blobs (objects, parts) or read whole with a limit (XML documents),
//! with their integrity checked either way.
//!
//! The framing is chosen by `x-amz-content-sha256`, as S3 does: a `STREAMING-…` value means the body is
//! `aws-chunked` and `x-amz-decoded-content-length` gives the payload size; otherwise the body is the
//! payload and `Content-Length` is required. Only decoded bytes reach the store. `Content-MD5`, an
//! `x-amz-checksum-*` header or a trailer checksum, when declared, must match the payload.

use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use http::HeaderMap;
use http_body_util::BodyExt;
use md5::{Digest as _, Md5};
use s3cors_proto::checksum::{ChecksumAlgorithm, Hasher, Integrity};
use s3cors_proto::chunked::{ChunkEvent, ChunkedDecoder};
use s3cors_proto::sigv4;
use s3cors_proto::{S3Error, S3ErrorCode};
use sha2::{Digest as _, Sha256};

use crate::auth::ChunkSigning;
use crate::names::header;
use crate::service::blocking;
use s3cors_store::{BlobWriter, Store, WrittenBlob};

/// The largest object a single PUT may carry (5 GiB).
pub const MAX_SINGLE_PUT: u64 = 5 * 1024 * 1024 * 1024;

/// Bytes gathered before they are handed to a blocking write.
const WRITE_BATCH: usize = 1024 * 1024;

/// Whether the body uses the `aws-chunked` framing.
pub fn is_streaming(headers: &HeaderMap) -> bool {
    header(headers, &crate::names::X_AMZ_CONTENT_SHA256).is_some_and(|v| v.starts_with("STREAMING-"))
}

/// The payload length the request declares, if it declares one.
fn declared_length(headers: &HeaderMap) -> Result<Option<u64>, S3Error> {
    let name = if is_streaming(headers) {
        &crate::names::X_AMZ_DECODED_CONTENT_LENGTH
    } else {
        &http::header::CONTENT_LENGTH
    };
    header(headers, name)
        .map(|v| {
            v.trim().parse::<u64>().map_err(|_| {
                let name = name.as_str();
                S3Error::invalid_argument(format!("Invalid {name} header"), name, v)
            })
        })
        .transpose()
}

/// The integrity headers of a request.
pub fn integrity(headers: &HeaderMap) -> Result<Integrity, S3Error> {
    Integrity::from_headers(
        |n| crate::names::get(headers, n),
        headers.keys().map(|k| k.as_str()),
    )
}

fn b64(bytes: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
}

fn incomplete() -> S3Error {
    S3Error::new(S3ErrorCode::IncompleteBody)
}

/// A body that could not be read: it stalled ([`crate::serve::BodyStalled`], S3's `RequestTimeout`) or
/// ended early.
pub(crate) fn unreadable(e: &(dyn std::error::Error + 'static)) -> S3Error {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.is::<crate::serve::BodyStalled>() {
            return S3Error::new(S3ErrorCode::RequestTimeout);
        }
        cause = c.source();
    }
    incomplete()
}

fn internal(e: impl std::fmt::Display) -> S3Error {
    tracing::error!(error = %e, "writing a body failed");
    S3Error::internal()
}

/// Verifies the signature chain of an `aws-chunked` body: each chunk signs its data and the signature
/// before it, starting from the request's own signature.
struct ChunkChain {
    signing: ChunkSigning,
    previous: String,
    /// The chunk being read: its claimed signature and the running hash of its data.
    current: Option<(String, Sha256)>,
}

fn chain_broken() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::SignatureDoesNotMatch,
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    )
}

impl ChunkChain {
    fn close_chunk(&mut self) -> Result<(), S3Error> {
        if let Some((claimed, hash)) = self.current.take() {
            let s = &self.signing;
            let sts = sigv4::chunk_string_to_sign(
                &s.amz_date,
                &s.scope,
                &self.previous,
                &s3cors_proto::hex(&hash.finalize()),
            );
            if !sigv4::signatures_equal(&s.key.sign(&sts), &claimed) {
                return Err(chain_broken());
            }
            self.previous = claimed;
        }
        Ok(())
    }

    fn open_chunk(&mut self, signature: Option<String>) -> Result<(), S3Error> {
        self.close_chunk()?;
        self.current = Some((signature.ok_or_else(chain_broken)?, Sha256::new()));
        Ok(())
    }

    /// The trailer signature signs the trailing headers and the last chunk's signature.
    fn check_trailer(&self, trailers: &[(String, String)]) -> Result<(), S3Error> {
        let claimed = trailers
            .iter()
            .find(|(n, _)| n == "x-amz-trailer-signature")
            .map(|(_, v)| v.as_str());
        let Some(claimed) = claimed else { return Ok(()) };
        let text: String = trailers
            .iter()
            .filter(|(n, _)| n != "x-amz-trailer-signature")
            .map(|(n, v)| format!("{n}:{v}\n"))
            .collect();
        let s = &self.signing;
        let sts = sigv4::trailer_string_to_sign(
            &s.amz_date,
            &s.scope,
            &self.previous,
            &sigv4::sha256_hex(text.as_bytes()),
        );
        if sigv4::signatures_equal(&s.key.sign(&sts), claimed) {
            Ok(())
        } else {
            Err(chain_broken())
        }
    }
}

/// The payload of a request, decoded from its framing, with digests computed on the way.
struct Payload {
    body: Body,
    decoder: Option<ChunkedDecoder>,
    chain: Option<ChunkChain>,
    trailers: Vec<(String, String)>,
    md5: Md5,
    checksum: Option<(ChecksumAlgorithm, Hasher)>,
    /// `x-amz-content-sha256` as a hex digest, with the running hash of the payload.
    content_sha256: Option<(String, Sha256)>,
    size: u64,
    integrity: Integrity,
}

impl Payload {
    /// `compute` is the checksum to compute when the request declares none.
    fn new(
        headers: &HeaderMap,
        body: Body,
        signing: Option<&ChunkSigning>,
        compute: Option<ChecksumAlgorithm>,
    ) -> Result<Payload, S3Error> {
        let integrity = integrity(headers)?;
        let algo = integrity
            .checksum
            .as_ref()
            .map(|(a, _)| *a)
            .or(integrity.trailer)
            .or(compute);
        let declared_sha = header(headers, &crate::names::X_AMZ_CONTENT_SHA256)
            .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|v| (v.to_ascii_lowercase(), Sha256::new()));
        let decoder = is_streaming(headers).then(ChunkedDecoder::new);
        Ok(Payload {
            body,
            chain: signing.filter(|_| decoder.is_some()).map(|s| ChunkChain {
                signing: s.clone(),
                previous: s.seed.clone(),
                current: None,
            }),
            decoder,
            trailers: Vec::new(),
            md5: Md5::new(),
            checksum: algo.map(|a| (a, a.hasher())),
            content_sha256: declared_sha,
            size: 0,
            integrity,
        })
    }

    fn account(&mut self, data: &Bytes) {
        self.size += data.len() as u64;
        self.md5.update(data);
        if let Some((_, h)) = &mut self.checksum {
            h.update(data);
        }
        if let Some((_, h)) = &mut self.content_sha256 {
            h.update(data);
        }
        if let Some((_, h)) = self.chain.as_mut().and_then(|c| c.current.as_mut()) {
            h.update(data);
        }
    }

    /// The next decoded bytes, or `None` at the end of the payload.
    async fn next(&mut self) -> Result<Option<Bytes>, S3Error> {
        loop {
            if let Some(d) = &mut self.decoder {
                let chunk_error = |e| {
                    S3Error::with_message(
                        S3ErrorCode::IncompleteBody,
                        format!("Invalid aws-chunked body: {e}"),
                    )
                };
                while let Some(ev) = d.next_event().map_err(chunk_error)? {
                    match ev {
                        ChunkEvent::Data(b) => {
                            self.account(&b);
                            return Ok(Some(b));
                        }
                        ChunkEvent::Trailer { name, value } => self.trailers.push((name, value)),
                        ChunkEvent::Chunk { signature, .. } => {
                            if let Some(chain) = &mut self.chain {
                                chain.open_chunk(signature)?;
                            }
                        }
                        ChunkEvent::End => {}
                    }
                }
            }
            match self.body.frame().await {
                None => {
                    if let Some(d) = &self.decoder {
                        d.finish().map_err(|_| incomplete())?;
                    }
                    if let Some(chain) = &mut self.chain {
                        chain.close_chunk()?;
                        chain.check_trailer(&self.trailers)?;
                    }
                    return Ok(None);
                }
                Some(frame) => {
                    let Ok(data) = frame.map_err(|e| unreadable(&e))?.into_data() else {
                        continue;
                    };
                    match &mut self.decoder {
                        Some(d) => d.push(&data),
                        None => {
                            self.account(&data);
                            return Ok(Some(data));
                        }
                    }
                }
            }
        }
    }

    /// Checks every declared digest; returns the MD5 and the flexible checksum computed.
    fn verify(self) -> Result<([u8; 16], Option<(ChecksumAlgorithm, Vec<u8>)>), S3Error> {
        if let Some((claimed, hash)) = self.content_sha256 {
            let computed = s3cors_proto::hex(&hash.finalize());
            if computed != claimed {
                return Err(S3Error::new(S3ErrorCode::XAmzContentSHA256Mismatch)
                    .with_element("ClientComputedContentSHA256", claimed)
                    .with_element("S3ComputedContentSHA256", computed));
            }
        }
        let md5: [u8; 16] = self.md5.finalize().into();
        if let Some(expected) = self.integrity.content_md5
            && expected != md5
        {
            return Err(S3Error::new(S3ErrorCode::BadDigest)
                .with_element("ExpectedDigest", b64(&expected))
                .with_element("CalculatedDigest", b64(&md5)));
        }
        let Some((algo, hasher)) = self.checksum else {
            return Ok((md5, None));
        };
        let digest = hasher.finish();
        let declared_trailer = self.integrity.trailer == Some(algo);
        let expected = match self.integrity.checksum {
            Some((_, expected)) => Some(expected),
            None if declared_trailer => {
                let value = self
                    .trailers
                    .iter()
                    .find(|(n, _)| n == algo.header())
                    .map(|(_, v)| v.as_str())
                    .ok_or_else(|| {
                        S3Error::with_message(
                            S3ErrorCode::InvalidRequest,
                            format!("The {} trailer was not found.", algo.header()),
                        )
                    })?;
                Some(algo.decode(value)?)
            }
            None => None,
        };
        if expected.is_some_and(|e| e != digest) {
            return Err(algo.mismatch());
        }
        Ok((md5, Some((algo, digest))))
    }
}

fn write_all(writer: &mut dyn BlobWriter, pending: &[Bytes]) -> std::io::Result<()> {
    pending.iter().try_for_each(|b| writer.write(b))
}

async fn flush(
    store: &Store,
    mut writer: Box<dyn BlobWriter>,
    pending: Vec<Bytes>,
) -> Result<Box<dyn BlobWriter>, S3Error> {
    blocking(store, move || {
        write_all(writer.as_mut(), &pending)
            .map(|()| writer)
            .map_err(internal)
    })
    .await
}

/// Writes the last bytes and commits the blob (fsync and rename, off the async threads), in one
/// hand-off.
async fn commit(
    store: &Store,
    mut writer: Box<dyn BlobWriter>,
    pending: Vec<Bytes>,
) -> Result<String, S3Error> {
    blocking(store, move || {
        write_all(writer.as_mut(), &pending).map_err(internal)?;
        writer.commit().map_err(internal)
    })
    .await
}

/// Streams a payload into a new committed blob, checking its length and declared digests.
pub async fn ingest(
    store: &Arc<Store>,
    headers: &HeaderMap,
    body: Body,
    max: u64,
    signing: Option<&ChunkSigning>,
    compute: Option<ChecksumAlgorithm>,
) -> Result<WrittenBlob, S3Error> {
    let declared =
        declared_length(headers)?.ok_or_else(|| S3Error::new(S3ErrorCode::MissingContentLength))?;
    if declared > max {
        return Err(S3Error::new(S3ErrorCode::EntityTooLarge)
            .with_element("ProposedSize", declared.to_string())
            .with_element("MaxSizeAllowed", max.to_string()));
    }
    let mut payload = Payload::new(headers, body, signing, compute)?;
    let mut writer = store.create_blob().map_err(internal)?;
    let mut pending: Vec<Bytes> = Vec::new();
    let mut pending_len = 0usize;
    while let Some(data) = payload.next().await? {
        if payload.size > declared {
            return Err(incomplete());
        }
        pending_len += data.len();
        pending.push(data);
        if pending_len >= WRITE_BATCH {
            writer = flush(store, writer, std::mem::take(&mut pending)).await?;
            pending_len = 0;
        }
    }
    if payload.size != declared {
        return Err(incomplete());
    }
    let size = payload.size;
    let (md5, checksum) = payload.verify()?;
    let id = commit(store, writer, pending).await?;
    Ok(WrittenBlob {
        id,
        size,
        md5,
        checksum,
    })
}

/// Streams the file of a form upload into a new committed blob: at most `max` bytes (more is
/// `EntityTooLarge` at once), with MD5 and `algo`'s checksum computed on the way.
pub(crate) async fn store_field(
    store: &Arc<Store>,
    field: &mut multer::Field<'_>,
    max: u64,
    algo: ChecksumAlgorithm,
) -> Result<WrittenBlob, S3Error> {
    let mut writer = store.create_blob().map_err(internal)?;
    let (mut md5, mut hasher) = (Md5::new(), algo.hasher());
    let (mut size, mut pending, mut pending_len) = (0u64, Vec::new(), 0usize);
    while let Some(data) = field.chunk().await.map_err(|e| unreadable(&e))? {
        size += data.len() as u64;
        if size > max {
            return Err(S3Error::new(S3ErrorCode::EntityTooLarge)
                .with_element("ProposedSize", size.to_string())
                .with_element("MaxSizeAllowed", max.to_string()));
        }
        md5.update(&data);
        hasher.update(&data);
        pending_len += data.len();
        pending.push(data);
        if pending_len >= WRITE_BATCH {
            writer = flush(store, writer, std::mem::take(&mut pending)).await?;
            pending_len = 0;
        }
    }
    let id = commit(store, writer, pending).await?;
    Ok(WrittenBlob {
        id,
        size,
        md5: md5.finalize().into(),
        checksum: Some((algo, hasher.finish())),
    })
}

/// What a small body must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// Digests are checked when declared.
    Optional,
    /// `Content-MD5` or an `x-amz-checksum-*` is required (configuration PUTs such as PutBucketCors).
    Required,
}

/// Reads a whole (small) body, decoding `aws-chunked`; longer than `limit` is
/// `MaxMessageLengthExceeded`. Declared digests must match; with [`Checksum::Required`] one must be
/// declared.
pub async fn read_small(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    checksum: Checksum,
    signing: Option<&ChunkSigning>,
) -> Result<Bytes, S3Error> {
    let too_big = || S3Error::new(S3ErrorCode::MaxMessageLengthExceeded);
    if declared_length(headers)?.is_some_and(|n| n > limit as u64) {
        return Err(too_big());
    }
    let mut payload = Payload::new(headers, body, signing, None)?;
    let mut out = Vec::new();
    while let Some(data) = payload.next().await? {
        if out.len() + data.len() > limit {
            return Err(too_big());
        }
        out.extend_from_slice(&data);
    }
    if checksum == Checksum::Required {
        if out.is_empty() {
            return Err(S3Error::new(S3ErrorCode::MissingRequestBodyError));
        }
        if !payload.integrity.is_declared() {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Missing required header for this request: Content-MD5 OR x-amz-checksum-*",
            ));
        }
    }
    payload.verify()?;
    Ok(Bytes::from(out))
}
