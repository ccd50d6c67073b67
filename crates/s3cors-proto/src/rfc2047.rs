//! Non-ASCII user metadata in headers, as S3 carries it.
//!
//! S3 reads a raw `x-amz-meta-*` value byte by byte as ISO-8859-1, except a value made only of RFC 2047
//! encoded-words (`=?UTF-8?B?…?=`, `=?ISO-8859-1?Q?…?=`), which it decodes; on the way out a value that
//! is not printable US-ASCII is sent as one `=?UTF-8?B?…?=` encoded-word
//! (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html#UserMetadata>).

use std::borrow::Cow;

use base64::Engine as _;

fn latin1(raw: &[u8]) -> String {
    raw.iter().map(|&b| char::from(b)).collect()
}

fn decode_q(text: &str) -> Option<Vec<u8>> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

/// Decodes one `=?charset?enc?text?=` word.
fn decode_word(word: &str) -> Option<String> {
    let inner = word.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut parts = inner.splitn(3, '?');
    let (charset, encoding, text) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = match encoding {
        "B" | "b" => base64::engine::general_purpose::STANDARD.decode(text).ok()?,
        "Q" | "q" => decode_q(text)?,
        _ => return None,
    };
    if charset.eq_ignore_ascii_case("utf-8") {
        String::from_utf8(bytes).ok()
    } else if charset.eq_ignore_ascii_case("iso-8859-1") || charset.eq_ignore_ascii_case("us-ascii") {
        Some(latin1(&bytes))
    } else {
        None
    }
}

/// The stored value of a raw header value.
pub fn decode(raw: &[u8]) -> String {
    let Ok(text) = std::str::from_utf8(raw) else {
        return latin1(raw);
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() || !words.iter().all(|w| w.starts_with("=?") && w.ends_with("?=")) {
        return latin1(raw);
    }
    words
        .iter()
        .map(|w| decode_word(w))
        .collect::<Option<String>>()
        .unwrap_or_else(|| latin1(raw))
}

/// The header value for a stored value.
pub fn encode(value: &str) -> Cow<'_, str> {
    if value.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)) {
        Cow::Borrowed(value)
    } else {
        Cow::Owned(format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(value)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_bytes_are_latin1_and_encoded_words_are_decoded() {
        assert_eq!(decode(b"plain ascii"), "plain ascii");
        assert_eq!(decode(b"Hello World\xe9"), "Hello World\u{e9}");
        assert_eq!(decode("Hello Worldé".as_bytes()), "Hello World\u{c3}\u{a9}");
        assert_eq!(decode(b"=?UTF-8?B?SGVsbG8gV29ybGTDqQ==?="), "Hello World\u{e9}");
        assert_eq!(decode(b"=?UTF-8?Q?caf=C3=A9_au_lait?="), "caf\u{e9} au lait");
        assert_eq!(decode(b"=?UTF-8?B?5Lit?= =?UTF-8?B?5paH?="), "中文");
        assert_eq!(decode(b"=?UTF-8?B?not base64?="), "=?UTF-8?B?not base64?=");
    }

    #[test]
    fn non_ascii_goes_out_as_one_encoded_word() {
        assert_eq!(encode("plain"), "plain");
        assert_eq!(encode("Hello World\u{e9}"), "=?UTF-8?B?SGVsbG8gV29ybGTDqQ==?=");
        for v in ["中文", "tab\there", "a\u{1}b", "naïve"] {
            assert_eq!(decode(encode(v).as_bytes()), v);
        }
    }
}
