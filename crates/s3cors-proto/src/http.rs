//! Header-level semantics of GetObject and HeadObject: byte ranges, conditional requests and dates.
//!
//! Implements the `Range` and `If-*` behaviour documented for
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html> (RFC 9110 §13–14 with S3's
//! precedence rules), as pure functions.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{S3Error, S3ErrorCode};

/// A byte range resolved against an object's size: `start..=end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// Last byte, inclusive.
    pub end: u64,
}

impl ByteRange {
    /// Number of bytes.
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    /// Always false: a resolved range holds at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Resolves a `Range` header against an object of `size` bytes.
///
/// `Ok(None)` means "serve the whole object" (no header, or one S3 ignores: not `bytes=`, several
/// ranges, or syntactically invalid). An unsatisfiable range is `InvalidRange` (416).
pub fn parse_range(header: Option<&str>, size: u64) -> Result<Option<ByteRange>, S3Error> {
    let Some(header) = header else { return Ok(None) };
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (first, last) = (first.trim(), last.trim());
    let unsatisfiable = || {
        S3Error::new(S3ErrorCode::InvalidRange)
            .with_element("RangeRequested", header)
            .with_element("ActualObjectSize", size.to_string())
    };
    let range = if first.is_empty() {
        let Ok(suffix) = last.parse::<u64>() else {
            return Ok(None);
        };
        if suffix == 0 || size == 0 {
            return Err(unsatisfiable());
        }
        ByteRange {
            start: size.saturating_sub(suffix),
            end: size - 1,
        }
    } else {
        let Ok(start) = first.parse::<u64>() else {
            return Ok(None);
        };
        let end = if last.is_empty() {
            u64::MAX
        } else {
            let Ok(end) = last.parse::<u64>() else {
                return Ok(None);
            };
            if end < start {
                return Ok(None);
            }
            end
        };
        if start >= size {
            return Err(unsatisfiable());
        }
        ByteRange {
            start,
            end: end.min(size - 1),
        }
    };
    Ok(Some(range))
}

/// What the conditional headers make of a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Serve the object.
    Proceed,
    /// 304 Not Modified.
    NotModified,
    /// 412 Precondition Failed.
    Failed,
}

/// The conditional request headers of a read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Conditions<'a> {
    /// `If-Match`
    pub if_match: Option<&'a str>,
    /// `If-None-Match`
    pub if_none_match: Option<&'a str>,
    /// `If-Modified-Since`
    pub if_modified_since: Option<&'a str>,
    /// `If-Unmodified-Since`
    pub if_unmodified_since: Option<&'a str>,
}

fn etag_list_matches(list: &str, etag: &str) -> bool {
    let etag = etag.trim_matches('"');
    list.split(',').map(|t| t.trim()).any(|t| {
        let t = t.strip_prefix("W/").unwrap_or(t);
        t == "*" || t.trim_matches('"') == etag
    })
}

/// Evaluates the conditions against an object's ETag and Last-Modified (whole seconds count, as in
/// HTTP dates). S3's precedence: a true `If-Match` overrides a false `If-Unmodified-Since`, and a false
/// `If-None-Match` overrides a true `If-Modified-Since`. Unparseable dates are ignored.
pub fn evaluate_conditions(c: &Conditions<'_>, etag: &str, last_modified: SystemTime) -> Precondition {
    let modified = truncate_to_seconds(last_modified);
    if let Some(list) = c.if_match {
        if !etag_list_matches(list, etag) {
            return Precondition::Failed;
        }
    } else if let Some(since) = c.if_unmodified_since.and_then(parse_http_date)
        && modified > since
    {
        return Precondition::Failed;
    }
    if let Some(list) = c.if_none_match {
        if etag_list_matches(list, etag) {
            return Precondition::NotModified;
        }
    } else if let Some(since) = c.if_modified_since.and_then(parse_http_date)
        && modified <= since
    {
        return Precondition::NotModified;
    }
    Precondition::Proceed
}

/// Evaluates `x-amz-copy-source-if-*`: any failed condition is 412, as S3 answers for copies.
pub fn evaluate_copy_conditions(
    c: &Conditions<'_>,
    etag: &str,
    last_modified: SystemTime,
) -> Result<(), S3Error> {
    let modified = truncate_to_seconds(last_modified);
    let failed = || S3Error::new(S3ErrorCode::PreconditionFailed);
    let match_ok = c.if_match.map(|l| etag_list_matches(l, etag));
    let none_match_ok = c.if_none_match.map(|l| !etag_list_matches(l, etag));
    let unmodified_ok = c
        .if_unmodified_since
        .and_then(parse_http_date)
        .map(|d| modified <= d);
    let modified_ok = c
        .if_modified_since
        .and_then(parse_http_date)
        .map(|d| modified > d);
    if match_ok == Some(false) || none_match_ok == Some(false) {
        return Err(failed());
    }
    if match_ok.is_none() && unmodified_ok == Some(false) {
        return Err(failed());
    }
    if none_match_ok.is_none() && modified_ok == Some(false) {
        return Err(failed());
    }
    Ok(())
}

fn truncate_to_seconds(t: SystemTime) -> SystemTime {
    let secs = t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// Parses an HTTP date (IMF-fixdate, RFC 850 or asctime).
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(s.trim()).ok()
}

/// The last second an HTTP date's four-digit year can show: 9999-12-31T23:59:59Z.
const LAST_HTTP_DATE_SECOND: u64 = 253_402_300_799;

/// Formats an HTTP date (RFC 9110's IMF-fixdate): `Wed, 12 Oct 2009 17:50:00 GMT`.
///
/// Written out by hand: every GetObject and HeadObject answer carries one, and going through `fmt`
/// cost about 500 instructions more per answer. Times before 1970 or after 9999, which no object
/// record holds, are clamped to those years rather than refused.
pub fn http_date(t: SystemTime) -> String {
    let bytes = http_date_bytes(t);
    std::str::from_utf8(&bytes).map(str::to_owned).unwrap_or_default()
}

/// [`http_date`] as its 29 ASCII bytes, for a header value built without a `String` in between.
pub fn http_date_bytes(t: SystemTime) -> [u8; 29] {
    const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
    ];
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .min(LAST_HTTP_DATE_SECOND);
    let days = secs / 86_400;
    let (year, month, day) = civil_from_days(days);
    let in_day = secs % 86_400;
    let two = |n: u64| [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
    let mut out = [0u8; 29];
    out[..3].copy_from_slice(DAYS[(days % 7) as usize]);
    out[3..5].copy_from_slice(b", ");
    out[5..7].copy_from_slice(&two(day));
    out[7] = b' ';
    out[8..11].copy_from_slice(MONTHS[(month - 1) as usize]);
    out[11] = b' ';
    out[12..14].copy_from_slice(&two(year / 100));
    out[14..16].copy_from_slice(&two(year % 100));
    out[16] = b' ';
    out[17..19].copy_from_slice(&two(in_day / 3600));
    out[19] = b':';
    out[20..22].copy_from_slice(&two(in_day / 60 % 60));
    out[22] = b':';
    out[23..25].copy_from_slice(&two(in_day % 60));
    out[25..].copy_from_slice(b" GMT");
    out
}

/// The proleptic Gregorian `(year, month, day)` of a count of days since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, for non-negative counts).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Formats the ISO 8601 timestamp S3 uses in XML: `2009-10-12T17:50:30.000Z`.
pub fn iso8601(t: SystemTime) -> String {
    let dt = OffsetDateTime::from(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.millisecond()
    )
}

/// Parses an RFC 3339 timestamp (as sent in `Expires` by some clients), for tests and tools.
pub fn parse_iso8601(s: &str) -> Option<SystemTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok().map(SystemTime::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(h: &str, size: u64) -> Result<Option<(u64, u64)>, S3ErrorCode> {
        parse_range(Some(h), size)
            .map(|o| o.map(|r| (r.start, r.end)))
            .map_err(|e| e.code())
    }

    #[test]
    fn ranges() {
        assert_eq!(r("bytes=0-9", 100), Ok(Some((0, 9))));
        assert_eq!(r("bytes=90-", 100), Ok(Some((90, 99))));
        assert_eq!(r("bytes=90-200", 100), Ok(Some((90, 99))));
        assert_eq!(r("bytes=-10", 100), Ok(Some((90, 99))));
        assert_eq!(r("bytes=-200", 100), Ok(Some((0, 99))));
        assert_eq!(r("bytes=100-", 100), Err(S3ErrorCode::InvalidRange));
        assert_eq!(r("bytes=-0", 100), Err(S3ErrorCode::InvalidRange));
        assert_eq!(r("bytes=0-", 0), Err(S3ErrorCode::InvalidRange));
        assert_eq!(r("bytes=5-1", 100), Ok(None));
        assert_eq!(r("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(r("items=0-1", 100), Ok(None));
        assert_eq!(r("bytes=a-b", 100), Ok(None));
        assert_eq!(parse_range(None, 5).map_err(|e| e.code()), Ok(None));
    }

    #[test]
    fn conditions_follow_s3_precedence() {
        let t = UNIX_EPOCH + Duration::from_secs(1_000_000_000) + Duration::from_millis(500);
        let before = "Sat, 08 Sep 2001 00:00:00 GMT";
        let after = "Mon, 10 Sep 2001 00:00:00 GMT";
        let exact = http_date(t);
        let etag = "\"abc\"";
        let eval = |c: Conditions<'_>| evaluate_conditions(&c, etag, t);
        use Precondition::*;
        assert_eq!(eval(Conditions::default()), Proceed);
        assert_eq!(
            eval(Conditions {
                if_match: Some("\"abc\""),
                ..Default::default()
            }),
            Proceed
        );
        assert_eq!(
            eval(Conditions {
                if_match: Some("\"x\", \"abc\""),
                ..Default::default()
            }),
            Proceed
        );
        assert_eq!(
            eval(Conditions {
                if_match: Some("*"),
                ..Default::default()
            }),
            Proceed
        );
        assert_eq!(
            eval(Conditions {
                if_match: Some("\"zzz\""),
                ..Default::default()
            }),
            Failed
        );
        assert_eq!(
            eval(Conditions {
                if_none_match: Some("\"abc\""),
                ..Default::default()
            }),
            NotModified
        );
        assert_eq!(
            eval(Conditions {
                if_none_match: Some("abc"),
                ..Default::default()
            }),
            NotModified
        );
        assert_eq!(
            eval(Conditions {
                if_none_match: Some("\"zzz\""),
                ..Default::default()
            }),
            Proceed
        );
        assert_eq!(
            eval(Conditions {
                if_modified_since: Some(after),
                ..Default::default()
            }),
            NotModified
        );
        assert_eq!(
            eval(Conditions {
                if_modified_since: Some(&exact),
                ..Default::default()
            }),
            NotModified
        );
        assert_eq!(
            eval(Conditions {
                if_modified_since: Some(before),
                ..Default::default()
            }),
            Proceed
        );
        assert_eq!(
            eval(Conditions {
                if_modified_since: Some("garbage"),
                ..Default::default()
            }),
            Proceed
        );
        assert_eq!(
            eval(Conditions {
                if_unmodified_since: Some(before),
                ..Default::default()
            }),
            Failed
        );
        assert_eq!(
            eval(Conditions {
                if_unmodified_since: Some(after),
                ..Default::default()
            }),
            Proceed
        );
        // If-Match true wins over If-Unmodified-Since false.
        let c = Conditions {
            if_match: Some(etag),
            if_unmodified_since: Some(before),
            ..Default::default()
        };
        assert_eq!(eval(c), Proceed);
        // If-None-Match false (no match) wins over If-Modified-Since (not modified).
        let c = Conditions {
            if_none_match: Some("\"zzz\""),
            if_modified_since: Some(after),
            ..Default::default()
        };
        assert_eq!(eval(c), Proceed);
    }

    #[test]
    fn copy_conditions_fail_with_412() {
        let t = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let etag = "\"abc\"";
        let ok = |c: Conditions<'_>| evaluate_copy_conditions(&c, etag, t).is_ok();
        assert!(ok(Conditions {
            if_match: Some(etag),
            ..Default::default()
        }));
        assert!(!ok(Conditions {
            if_match: Some("\"x\""),
            ..Default::default()
        }));
        assert!(!ok(Conditions {
            if_none_match: Some(etag),
            ..Default::default()
        }));
        assert!(!ok(Conditions {
            if_modified_since: Some("Mon, 10 Sep 2001 00:00:00 GMT"),
            ..Default::default()
        }));
        assert!(!ok(Conditions {
            if_unmodified_since: Some("Sat, 08 Sep 2001 00:00:00 GMT"),
            ..Default::default()
        }));
    }

    #[test]
    fn dates() {
        let t = UNIX_EPOCH + Duration::from_millis(1_255_369_830_123);
        assert_eq!(iso8601(t), "2009-10-12T17:50:30.123Z");
        assert_eq!(http_date(t), "Mon, 12 Oct 2009 17:50:30 GMT");
        assert_eq!(parse_iso8601("2009-10-12T17:50:30.123Z"), Some(t));
    }

    /// The hand-written HTTP date at the edges: the epoch, leap days, century years, the last
    /// second it can show, and the clamping on either side.
    #[test]
    fn http_dates_at_the_edges() {
        let at = |secs: u64| http_date(UNIX_EPOCH + Duration::from_secs(secs));
        #[rustfmt::skip]
        let cases: &[(u64, &str)] = &[
            (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
            (4_107_542_399, "Sun, 28 Feb 2100 23:59:59 GMT"),
            (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),
            (1_709_164_800, "Thu, 29 Feb 2024 00:00:00 GMT"),
            (LAST_HTTP_DATE_SECOND, "Fri, 31 Dec 9999 23:59:59 GMT"),
            (LAST_HTTP_DATE_SECOND + 1, "Fri, 31 Dec 9999 23:59:59 GMT"),
        ];
        for &(secs, want) in cases {
            assert_eq!(at(secs), want, "{secs}");
        }
        assert_eq!(
            http_date(UNIX_EPOCH - Duration::from_secs(1)),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
    }

    proptest::proptest! {
        /// Any second from 1970 to 9999 formats as the `httpdate` crate formats it, and parses back.
        #[test]
        fn http_date_matches_httpdate(secs in 0..=LAST_HTTP_DATE_SECOND, nanos in 0u32..1_000_000_000) {
            let t = UNIX_EPOCH + Duration::new(secs, nanos);
            let ours = http_date(t);
            proptest::prop_assert_eq!(&ours, &httpdate::fmt_http_date(t));
            proptest::prop_assert_eq!(parse_http_date(&ours), Some(UNIX_EPOCH + Duration::from_secs(secs)));
        }
    }
}
