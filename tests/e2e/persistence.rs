//! Restart persistence, graceful shutdown, and a 1 GiB object streamed with flat memory.

use crate::harness::{Server, body_bytes, md5_hex};
use aws_sdk_s3::primitives::{ByteStream, SdkBody};

#[tokio::test]
async fn data_survives_a_restart_byte_for_byte() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let payload: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let etag;
    {
        let mut server = Server::start_on(&dir, &[]);
        let s3 = server.client();
        s3.create_bucket().bucket("keep").send().await.expect("create");
        let put = s3
            .put_object()
            .bucket("keep")
            .key("a/b/../c.bin")
            .content_type("application/x-test")
            .metadata("colour", "blue")
            .body(payload.clone().into())
            .send()
            .await
            .expect("put");
        etag = put.e_tag().expect("etag").to_owned();
        assert_eq!(server.stop(), Some(0), "SIGTERM exits cleanly");
    }
    let server = Server::start_on(&dir, &[]);
    let s3 = server.client();
    let got = s3
        .get_object()
        .bucket("keep")
        .key("a/b/../c.bin")
        .send()
        .await
        .expect("get after restart");
    assert_eq!(got.e_tag(), Some(etag.as_str()));
    assert_eq!(got.content_type(), Some("application/x-test"));
    assert_eq!(
        got.metadata().and_then(|m| m.get("colour")).map(String::as_str),
        Some("blue")
    );
    assert_eq!(body_bytes(got).await, payload);
    assert_eq!(etag, format!("\"{}\"", md5_hex(&payload)));
    // No stray temporary files after start-up.
    assert_eq!(std::fs::read_dir(dir.join("tmp")).expect("tmp dir").count(), 0);
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmHWM")
}

/// A body of `blocks` MiB, made as it is sent: a pattern that differs in every MiB, so a misplaced
/// block is caught. The test needs no 1 GiB source file (disk on a CI machine can be tight).
struct Pattern {
    next: u64,
    blocks: u64,
}

impl Pattern {
    const BLOCK: usize = 1024 * 1024;

    /// Block `i`: the bytes 0..=255 repeated, each XORed with a key that differs between
    /// neighbouring blocks.
    fn block(i: u64) -> Vec<u8> {
        let key = i.wrapping_mul(0x9E37_79B9) as u8;
        let cycle: Vec<u8> = (0..=255u8).map(|b| b ^ key).collect();
        cycle.repeat(Self::BLOCK / cycle.len())
    }
}

impl http_body::Body for Pattern {
    type Data = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Self::Error>>> {
        if self.next == self.blocks {
            return std::task::Poll::Ready(None);
        }
        let block = Self::block(self.next);
        self.next += 1;
        std::task::Poll::Ready(Some(Ok(http_body::Frame::data(block.into()))))
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact((self.blocks - self.next) * Self::BLOCK as u64)
    }
}

/// A 1 GiB PUT and GET stream through the server; its peak RSS stays under 100 MiB.
#[tokio::test]
async fn one_gib_object_streams_with_flat_memory() {
    const BLOCKS: u64 = 1024;
    const SIZE: u64 = BLOCKS * Pattern::BLOCK as u64;
    let server = Server::start();
    let s3 = server.client();
    s3.create_bucket().bucket("big").send().await.expect("create");
    let expected = {
        use md5::{Digest, Md5};
        let mut h = Md5::new();
        for i in 0..BLOCKS {
            h.update(Pattern::block(i));
        }
        hex::encode(h.finalize())
    };
    let body = ByteStream::new(SdkBody::retryable(|| {
        SdkBody::from_body_1_x(Pattern {
            next: 0,
            blocks: BLOCKS,
        })
    }));
    let put = s3
        .put_object()
        .bucket("big")
        .key("gib")
        .body(body)
        .send()
        .await
        .expect("put 1 GiB");
    assert_eq!(put.e_tag(), Some(format!("\"{expected}\"").as_str()));
    let got = s3
        .get_object()
        .bucket("big")
        .key("gib")
        .send()
        .await
        .expect("get 1 GiB");
    assert_eq!(got.content_length(), Some(SIZE as i64));
    let mut stream = got.body;
    let mut h = <md5::Md5 as md5::Digest>::new();
    let mut total = 0u64;
    while let Some(chunk) = stream.try_next().await.expect("chunk") {
        md5::Digest::update(&mut h, &chunk);
        total += chunk.len() as u64;
    }
    assert_eq!(total, SIZE);
    assert_eq!(hex::encode(md5::Digest::finalize(h)), expected);
    let peak = peak_rss_kib(server.pid());
    assert!(peak < 100 * 1024, "peak RSS {peak} KiB is not under 100 MiB");
}
