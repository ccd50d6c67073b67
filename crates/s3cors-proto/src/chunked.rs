//! Decoder for the `aws-chunked` body framing.
//!
//! Implements the framing of <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html> and
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html>:
//! `hex-size[;chunk-signature=SIG]\r\n DATA \r\n … 0[;chunk-signature=SIG]\r\n [name:value\r\n]* \r\n`.
//! The decoder is push-based and IO-free: feed it bytes as they arrive and pull events. It yields the
//! chunk signatures and trailers so that signature and checksum verification can sit on top of it.

use bytes::{Buf, Bytes, BytesMut};

/// Longest chunk-header or trailer line accepted.
const MAX_LINE: usize = 4096;

/// A malformed `aws-chunked` body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkedError {
    /// A chunk header that is not `hex-size[;chunk-signature=…]`.
    #[error("invalid chunk header")]
    BadHeader,
    /// A header or trailer line longer than the limit.
    #[error("chunk header line too long")]
    LineTooLong,
    /// Chunk data not followed by CRLF.
    #[error("chunk data not terminated by CRLF")]
    MissingCrlf,
    /// A trailer line without `:`.
    #[error("invalid trailer line")]
    BadTrailer,
    /// The body ended before the final chunk.
    #[error("body ended inside the chunk framing")]
    Truncated,
}

/// What the decoder found next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkEvent {
    /// A chunk header: its declared size and signature, if any. The final chunk has size 0.
    Chunk {
        /// Declared data size.
        size: u64,
        /// The `chunk-signature` value.
        signature: Option<String>,
    },
    /// Decoded payload bytes (a chunk's data may arrive as several events).
    Data(Bytes),
    /// A trailing header, e.g. `x-amz-checksum-crc32`, name lower-cased.
    Trailer {
        /// Header name, lower case.
        name: String,
        /// Header value, trimmed.
        value: String,
    },
    /// The end of the framing.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Data(u64),
    DataCrlf,
    Trailers,
    Done,
}

/// Push-based `aws-chunked` decoder.
#[derive(Debug)]
pub struct ChunkedDecoder {
    buf: BytesMut,
    state: State,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedDecoder {
    /// A decoder at the start of a body.
    pub fn new() -> Self {
        ChunkedDecoder {
            buf: BytesMut::new(),
            state: State::Header,
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Whether the final chunk and trailers have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Checks the state at the end of the input.
    pub fn finish(&self) -> Result<(), ChunkedError> {
        match self.state {
            State::Done => Ok(()),
            // A final chunk followed by nothing at all is accepted (some clients omit the last CRLF).
            State::Trailers if self.buf.is_empty() => Ok(()),
            _ => Err(ChunkedError::Truncated),
        }
    }

    fn take_line(&mut self) -> Result<Option<String>, ChunkedError> {
        match self.buf.windows(2).position(|w| w == b"\r\n") {
            Some(pos) => {
                if pos > MAX_LINE {
                    return Err(ChunkedError::LineTooLong);
                }
                let line = self.buf.split_to(pos);
                self.buf.advance(2);
                String::from_utf8(line.to_vec())
                    .map(Some)
                    .map_err(|_| ChunkedError::BadHeader)
            }
            None if self.buf.len() > MAX_LINE => Err(ChunkedError::LineTooLong),
            None => Ok(None),
        }
    }

    /// The next event, or `None` when more input is needed.
    pub fn next_event(&mut self) -> Result<Option<ChunkEvent>, ChunkedError> {
        loop {
            match self.state {
                State::Header => {
                    let Some(line) = self.take_line()? else {
                        return Ok(None);
                    };
                    let (size, ext) = line.split_once(';').unwrap_or((&line, ""));
                    let size = size.trim();
                    if size.is_empty() || size.len() > 16 {
                        return Err(ChunkedError::BadHeader);
                    }
                    let size = u64::from_str_radix(size, 16).map_err(|_| ChunkedError::BadHeader)?;
                    let signature = if ext.is_empty() {
                        None
                    } else {
                        let sig = ext
                            .trim()
                            .strip_prefix("chunk-signature=")
                            .ok_or(ChunkedError::BadHeader)?;
                        Some(sig.to_owned())
                    };
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::Data(size)
                    };
                    return Ok(Some(ChunkEvent::Chunk { size, signature }));
                }
                State::Data(remaining) => {
                    if self.buf.is_empty() {
                        return Ok(None);
                    }
                    let n = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(self.buf.len());
                    let data = self.buf.split_to(n).freeze();
                    let left = remaining - n as u64;
                    self.state = if left == 0 {
                        State::DataCrlf
                    } else {
                        State::Data(left)
                    };
                    return Ok(Some(ChunkEvent::Data(data)));
                }
                State::DataCrlf => {
                    if self.buf.len() < 2 {
                        return Ok(None);
                    }
                    if &self.buf[..2] != b"\r\n" {
                        return Err(ChunkedError::MissingCrlf);
                    }
                    self.buf.advance(2);
                    self.state = State::Header;
                }
                State::Trailers => {
                    let Some(line) = self.take_line()? else {
                        return Ok(None);
                    };
                    if line.is_empty() {
                        self.state = State::Done;
                        return Ok(Some(ChunkEvent::End));
                    }
                    let (name, value) = line.split_once(':').ok_or(ChunkedError::BadTrailer)?;
                    return Ok(Some(ChunkEvent::Trailer {
                        name: name.trim().to_ascii_lowercase(),
                        value: value.trim().to_owned(),
                    }));
                }
                State::Done => return Ok(None),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(input: &[u8], step: usize) -> Result<(Vec<u8>, Vec<ChunkEvent>), ChunkedError> {
        let mut d = ChunkedDecoder::new();
        let mut data = Vec::new();
        let mut other = Vec::new();
        for piece in input.chunks(step.max(1)) {
            d.push(piece);
            while let Some(ev) = d.next_event()? {
                match ev {
                    ChunkEvent::Data(b) => data.extend_from_slice(&b),
                    ev => other.push(ev),
                }
            }
        }
        d.finish()?;
        Ok((data, other))
    }

    /// The example of the AWS "Signature Calculations for the Authorization Header: Transferring
    /// Payload in Multiple Chunks" page: 65536 + 1024 bytes of `a`.
    #[test]
    fn aws_doc_signed_chunks() {
        let mut body = Vec::new();
        body.extend_from_slice(
            b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n",
        );
        body.extend(std::iter::repeat_n(b'a', 65536));
        body.extend_from_slice(
            b"\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n",
        );
        body.extend(std::iter::repeat_n(b'a', 1024));
        body.extend_from_slice(
            b"\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n",
        );
        for step in [1, 7, 4096, body.len()] {
            let (data, events) = decode_all(&body, step).expect("valid");
            assert_eq!(data.len(), 66560);
            assert!(data.iter().all(|&b| b == b'a'));
            assert_eq!(events.len(), 4);
            assert_eq!(
                events[0],
                ChunkEvent::Chunk {
                    size: 65536,
                    signature: Some(
                        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648".to_owned()
                    )
                }
            );
            assert_eq!(events[3], ChunkEvent::End);
        }
    }

    #[test]
    fn unsigned_with_trailer() {
        let body = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
        let (data, events) = decode_all(body, 3).expect("valid");
        assert_eq!(data, b"hello");
        assert!(events.contains(&ChunkEvent::Trailer {
            name: "x-amz-checksum-crc32".to_owned(),
            value: "NhCmhg==".to_owned()
        }));
    }

    #[test]
    fn malformed_framing() {
        assert_eq!(decode_all(b"zz\r\n", 100).unwrap_err(), ChunkedError::BadHeader);
        assert_eq!(
            decode_all(b"5\r\nhelloXX", 100).unwrap_err(),
            ChunkedError::MissingCrlf
        );
        assert_eq!(decode_all(b"5\r\nhel", 100).unwrap_err(), ChunkedError::Truncated);
        assert_eq!(
            decode_all(b"5;foo=bar\r\nhello\r\n", 100).unwrap_err(),
            ChunkedError::BadHeader
        );
        assert_eq!(
            decode_all(&[b'1'; 5000], 100).unwrap_err(),
            ChunkedError::LineTooLong
        );
        assert_eq!(
            decode_all(b"0\r\nnocolon\r\n\r\n", 100).unwrap_err(),
            ChunkedError::BadTrailer
        );
    }

    proptest! {
        #[test]
        fn roundtrips_any_chunking(data in proptest::collection::vec(any::<u8>(), 0..3000),
                                   sizes in proptest::collection::vec(1usize..500, 1..10),
                                   step in 1usize..600) {
            let mut body = Vec::new();
            let mut rest = &data[..];
            let mut i = 0;
            while !rest.is_empty() {
                let n = sizes[i % sizes.len()].min(rest.len());
                body.extend_from_slice(format!("{n:x}\r\n").as_bytes());
                body.extend_from_slice(&rest[..n]);
                body.extend_from_slice(b"\r\n");
                rest = &rest[n..];
                i += 1;
            }
            body.extend_from_slice(b"0\r\n\r\n");
            let (decoded, _) = decode_all(&body, step).expect("valid framing");
            prop_assert_eq!(decoded, data);
        }

        #[test]
        fn never_panics(input in proptest::collection::vec(any::<u8>(), 0..512), step in 1usize..64) {
            let _ = decode_all(&input, step);
        }
    }
}
