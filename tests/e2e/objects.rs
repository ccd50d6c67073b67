//! PutObject, GetObject, HeadObject, DeleteObject(s), CopyObject and listing, through aws-sdk-rust.

use crate::harness::{Server, body_bytes, code, md5_hex, status};
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::DateTime;
use aws_sdk_s3::types::{Delete, EncodingType, MetadataDirective, ObjectIdentifier};

async fn setup(bucket: &str) -> (Server, Client) {
    let server = Server::start();
    let s3 = server.client();
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("create bucket");
    (server, s3)
}

async fn put(s3: &Client, bucket: &str, key: &str, body: &[u8]) -> String {
    let out = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.to_vec().into())
        .send()
        .await
        .expect("put");
    out.e_tag().expect("etag").to_owned()
}

#[tokio::test]
async fn put_get_head_with_metadata_and_content_headers() {
    let (_server, s3) = setup("objs").await;
    let out = s3
        .put_object()
        .bucket("objs")
        .key("docs/report 2024+final.txt")
        .body(b"hello world".to_vec().into())
        .content_type("text/plain; charset=utf-8")
        .content_encoding("identity")
        .content_disposition("attachment; filename=\"r.txt\"")
        .content_language("en-GB")
        .cache_control("max-age=60")
        .expires(DateTime::from_secs(1_900_000_000))
        .metadata("author", "ada")
        .metadata("project", "s3cors")
        .send()
        .await
        .expect("put");
    assert_eq!(
        out.e_tag(),
        Some(format!("\"{}\"", md5_hex(b"hello world")).as_str())
    );

    let got = s3
        .get_object()
        .bucket("objs")
        .key("docs/report 2024+final.txt")
        .send()
        .await
        .expect("get");
    assert_eq!(got.content_type(), Some("text/plain; charset=utf-8"));
    assert_eq!(got.content_encoding(), Some("identity"));
    assert_eq!(got.content_disposition(), Some("attachment; filename=\"r.txt\""));
    assert_eq!(got.content_language(), Some("en-GB"));
    assert_eq!(got.cache_control(), Some("max-age=60"));
    assert_eq!(got.expires_string(), Some("Sun, 17 Mar 2030 17:46:40 GMT"));
    assert_eq!(got.accept_ranges(), Some("bytes"));
    let meta = got.metadata().expect("metadata").clone();
    assert_eq!(meta.get("author").map(String::as_str), Some("ada"));
    assert_eq!(meta.get("project").map(String::as_str), Some("s3cors"));
    assert!(got.last_modified().is_some());
    assert_eq!(body_bytes(got).await, b"hello world");

    let head = s3
        .head_object()
        .bucket("objs")
        .key("docs/report 2024+final.txt")
        .send()
        .await
        .expect("head");
    assert_eq!(head.content_length(), Some(11));
    assert_eq!(head.e_tag(), out.e_tag());

    let missing = s3
        .get_object()
        .bucket("objs")
        .key("nope")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(code(&missing), "NoSuchKey");
    assert_eq!(status(&missing), 404);
    let missing = s3
        .head_object()
        .bucket("objs")
        .key("nope")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(status(&missing), 404);
    let no_bucket = s3
        .get_object()
        .bucket("no-bucket")
        .key("k")
        .send()
        .await
        .expect_err("no bucket");
    assert_eq!(code(&no_bucket), "NoSuchBucket");
}

#[tokio::test]
async fn default_content_type_and_empty_objects() {
    let (_server, s3) = setup("empty").await;
    put(&s3, "empty", "zero", b"").await;
    let got = s3
        .get_object()
        .bucket("empty")
        .key("zero")
        .send()
        .await
        .expect("get");
    assert_eq!(
        got.content_type(),
        Some("application/octet-stream"),
        "what the SDK sent"
    );
    assert_eq!(got.content_length(), Some(0));
    assert_eq!(got.e_tag(), Some("\"d41d8cd98f00b204e9800998ecf8427e\""));
    let err = s3
        .get_object()
        .bucket("empty")
        .key("zero")
        .range("bytes=0-")
        .send()
        .await
        .expect_err("416");
    assert_eq!(code(&err), "InvalidRange");
    assert_eq!(status(&err), 416);
}

#[tokio::test]
async fn ranges() {
    let (_server, s3) = setup("ranges").await;
    put(&s3, "ranges", "digits", b"0123456789").await;
    for (range, body, content_range) in [
        ("bytes=0-3", &b"0123"[..], "bytes 0-3/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-2", b"89", "bytes 8-9/10"),
        ("bytes=5-100", b"56789", "bytes 5-9/10"),
    ] {
        let got = s3
            .get_object()
            .bucket("ranges")
            .key("digits")
            .range(range)
            .send()
            .await
            .expect(range);
        assert_eq!(got.content_range(), Some(content_range), "{range}");
        assert_eq!(got.content_length(), Some(body.len() as i64), "{range}");
        assert_eq!(body_bytes(got).await, body, "{range}");
    }
    let err = s3
        .get_object()
        .bucket("ranges")
        .key("digits")
        .range("bytes=10-")
        .send()
        .await
        .expect_err("416");
    assert_eq!(code(&err), "InvalidRange");
    // A malformed range is ignored: the whole object, 200.
    let got = s3
        .get_object()
        .bucket("ranges")
        .key("digits")
        .range("bytes=x-y")
        .send()
        .await
        .expect("ignored");
    assert_eq!(got.content_range(), None);
    assert_eq!(body_bytes(got).await, b"0123456789");
}

#[tokio::test]
async fn conditional_reads() {
    let (_server, s3) = setup("cond").await;
    let etag = put(&s3, "cond", "k", b"list-v1").await;
    let got = s3
        .get_object()
        .bucket("cond")
        .key("k")
        .if_match(&etag)
        .send()
        .await
        .expect("if-match");
    assert_eq!(body_bytes(got).await, b"list-v1");
    let err = s3
        .get_object()
        .bucket("cond")
        .key("k")
        .if_match("\"0000\"")
        .send()
        .await
        .expect_err("412");
    assert_eq!(status(&err), 412);
    assert_eq!(code(&err), "PreconditionFailed");
    let err = s3
        .get_object()
        .bucket("cond")
        .key("k")
        .if_none_match(&etag)
        .send()
        .await
        .expect_err("304");
    assert_eq!(status(&err), 304);
    let future = DateTime::from_secs(4_000_000_000);
    let past = DateTime::from_secs(1_000_000_000);
    let err = s3
        .get_object()
        .bucket("cond")
        .key("k")
        .if_modified_since(future)
        .send()
        .await
        .expect_err("304");
    assert_eq!(status(&err), 304);
    s3.get_object()
        .bucket("cond")
        .key("k")
        .if_modified_since(past)
        .send()
        .await
        .expect("modified since");
    let err = s3
        .get_object()
        .bucket("cond")
        .key("k")
        .if_unmodified_since(past)
        .send()
        .await
        .expect_err("412");
    assert_eq!(status(&err), 412);
    let err = s3
        .head_object()
        .bucket("cond")
        .key("k")
        .if_match("\"0000\"")
        .send()
        .await
        .expect_err("412");
    assert_eq!(status(&err), 412);
}

#[tokio::test]
async fn response_header_overrides() {
    let (_server, s3) = setup("over").await;
    put(&s3, "over", "k", b"body").await;
    let got = s3
        .get_object()
        .bucket("over")
        .key("k")
        .response_content_type("text/csv")
        .response_content_disposition("inline")
        .response_cache_control("no-cache")
        .response_content_language("fr")
        .response_content_encoding("gzip")
        .response_expires(DateTime::from_secs(2_000_000_000))
        .send()
        .await
        .expect("get");
    assert_eq!(got.content_type(), Some("text/csv"));
    assert_eq!(got.content_disposition(), Some("inline"));
    assert_eq!(got.cache_control(), Some("no-cache"));
    assert_eq!(got.content_language(), Some("fr"));
    assert_eq!(got.content_encoding(), Some("gzip"));
    assert_eq!(got.expires_string(), Some("Wed, 18 May 2033 03:33:20 GMT"));
}

#[tokio::test]
async fn content_md5_is_verified() {
    let (_server, s3) = setup("md5").await;
    let err = s3
        .put_object()
        .bucket("md5")
        .key("k")
        .content_md5("not-base64!")
        .body(b"data".to_vec().into())
        .send()
        .await
        .expect_err("invalid digest");
    assert_eq!(code(&err), "InvalidDigest");
    let err = s3
        .put_object()
        .bucket("md5")
        .key("k")
        .content_md5("1B2M2Y8AsgTpgAmY7PhCfg==")
        .body(b"data".to_vec().into())
        .send()
        .await
        .expect_err("bad digest");
    assert_eq!(code(&err), "BadDigest");
    let err = s3
        .head_object()
        .bucket("md5")
        .key("k")
        .send()
        .await
        .expect_err("nothing stored");
    assert_eq!(status(&err), 404);
    s3.put_object()
        .bucket("md5")
        .key("k")
        .content_md5("jXd/OF09/siBXSD3SWAm3A==") // base64 MD5 of "data"
        .body(b"data".to_vec().into())
        .send()
        .await
        .expect("good digest");
}

#[tokio::test]
async fn keys_are_opaque_and_bounded() {
    let (_server, s3) = setup("keys").await;
    for key in [
        "../../etc/passwd",
        "/abs",
        "a//b",
        "a/../../b",
        "%2e%2e/",
        "ünïcødé/ключ",
        " spaced ",
    ] {
        put(&s3, "keys", key, key.as_bytes()).await;
        let got = s3.get_object().bucket("keys").key(key).send().await.expect(key);
        assert_eq!(body_bytes(got).await, key.as_bytes(), "{key}");
    }
    let listed: Vec<String> = s3
        .list_objects_v2()
        .bucket("keys")
        .send()
        .await
        .expect("list")
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    assert_eq!(listed.len(), 7);
    assert!(listed.contains(&"../../etc/passwd".to_owned()));
    let long = "k".repeat(1025);
    let err = s3
        .put_object()
        .bucket("keys")
        .key(&long)
        .body(b"x".to_vec().into())
        .send()
        .await
        .expect_err("long");
    assert_eq!(code(&err), "KeyTooLongError");
    put(&s3, "keys", &"k".repeat(1024), b"max").await;
}

#[tokio::test]
async fn delete_and_delete_objects() {
    let (_server, s3) = setup("del").await;
    for k in ["a", "b", "c"] {
        put(&s3, "del", k, k.as_bytes()).await;
    }
    s3.delete_object()
        .bucket("del")
        .key("a")
        .send()
        .await
        .expect("delete");
    s3.delete_object()
        .bucket("del")
        .key("a")
        .send()
        .await
        .expect("deleting a missing key succeeds");
    let ids = |keys: &[&str]| {
        Delete::builder()
            .set_objects(Some(
                keys.iter()
                    .map(|k| ObjectIdentifier::builder().key(*k).build().expect("id"))
                    .collect(),
            ))
            .build()
            .expect("delete")
    };
    let out = s3
        .delete_objects()
        .bucket("del")
        .delete(ids(&["b", "missing"]))
        .send()
        .await
        .expect("delete many");
    let deleted: Vec<_> = out.deleted().iter().filter_map(|d| d.key()).collect();
    assert_eq!(deleted, ["b", "missing"]);
    assert!(out.errors().is_empty());
    let mut quiet = ids(&["c"]);
    quiet.quiet = Some(true);
    let out = s3
        .delete_objects()
        .bucket("del")
        .delete(quiet)
        .send()
        .await
        .expect("quiet");
    assert!(out.deleted().is_empty());
    let left = s3.list_objects_v2().bucket("del").send().await.expect("list");
    assert_eq!(left.key_count(), Some(0));
    let keys: Vec<String> = (0..1001).map(|i| format!("k{i}")).collect();
    let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let err = s3
        .delete_objects()
        .bucket("del")
        .delete(ids(&refs))
        .send()
        .await
        .expect_err("1001 keys");
    assert_eq!(code(&err), "MalformedXML");
}

#[tokio::test]
async fn copy_object_directives_and_conditions() {
    let (_server, s3) = setup("copy").await;
    let etag = s3
        .put_object()
        .bucket("copy")
        .key("src key")
        .content_type("text/plain")
        .metadata("m", "1")
        .body(b"copy me".to_vec().into())
        .send()
        .await
        .expect("put")
        .e_tag()
        .expect("etag")
        .to_owned();
    s3.create_bucket().bucket("other").send().await.expect("bucket");
    let out = s3
        .copy_object()
        .bucket("other")
        .key("dst")
        .copy_source("copy/src key")
        .send()
        .await
        .expect("copy");
    assert_eq!(
        out.copy_object_result().and_then(|r| r.e_tag()),
        Some(etag.as_str())
    );
    let got = s3
        .get_object()
        .bucket("other")
        .key("dst")
        .send()
        .await
        .expect("get");
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(
        got.metadata().and_then(|m| m.get("m")).map(String::as_str),
        Some("1")
    );
    assert_eq!(body_bytes(got).await, b"copy me");

    s3.copy_object()
        .bucket("other")
        .key("dst2")
        .copy_source("copy/src%20key")
        .metadata_directive(MetadataDirective::Replace)
        .content_type("application/json")
        .metadata("n", "2")
        .send()
        .await
        .expect("copy replace");
    let head = s3
        .head_object()
        .bucket("other")
        .key("dst2")
        .send()
        .await
        .expect("head");
    assert_eq!(head.content_type(), Some("application/json"));
    assert_eq!(head.metadata().and_then(|m| m.get("m")), None);
    assert_eq!(
        head.metadata().and_then(|m| m.get("n")).map(String::as_str),
        Some("2")
    );

    let err = s3
        .copy_object()
        .bucket("copy")
        .key("src key")
        .copy_source("copy/src key")
        .send()
        .await
        .expect_err("self");
    assert_eq!(code(&err), "InvalidRequest");
    s3.copy_object()
        .bucket("copy")
        .key("src key")
        .copy_source("copy/src key")
        .metadata_directive(MetadataDirective::Replace)
        .send()
        .await
        .expect("self copy with REPLACE");
    let err = s3
        .copy_object()
        .bucket("other")
        .key("dst3")
        .copy_source("copy/src key")
        .copy_source_if_match("\"nope\"")
        .send()
        .await
        .expect_err("412");
    assert_eq!(code(&err), "PreconditionFailed");
    let err = s3
        .copy_object()
        .bucket("other")
        .key("dst3")
        .copy_source("copy/src key")
        .copy_source_if_none_match(&etag)
        .send()
        .await
        .expect_err("412");
    assert_eq!(status(&err), 412);
    let err = s3
        .copy_object()
        .bucket("other")
        .key("dst3")
        .copy_source("copy/absent")
        .send()
        .await
        .expect_err("404");
    assert_eq!(code(&err), "NoSuchKey");
}

#[tokio::test]
async fn list_objects_v2_prefix_delimiter_paging() {
    let (_server, s3) = setup("list").await;
    for k in [
        "photos/2023/a.jpg",
        "photos/2024/b.jpg",
        "photos/2024/c.jpg",
        "readme",
        "videos/x.mp4",
        "z",
    ] {
        put(&s3, "list", k, b"x").await;
    }
    let out = s3
        .list_objects_v2()
        .bucket("list")
        .delimiter("/")
        .send()
        .await
        .expect("list");
    let keys: Vec<_> = out.contents().iter().filter_map(|o| o.key()).collect();
    let prefixes: Vec<_> = out.common_prefixes().iter().filter_map(|p| p.prefix()).collect();
    assert_eq!(keys, ["readme", "z"]);
    assert_eq!(prefixes, ["photos/", "videos/"]);
    assert_eq!(out.key_count(), Some(4));
    assert!(
        out.contents()[0].owner().is_none(),
        "no owner without fetch-owner"
    );

    let out = s3
        .list_objects_v2()
        .bucket("list")
        .prefix("photos/")
        .delimiter("/")
        .send()
        .await
        .expect("list");
    let prefixes: Vec<_> = out.common_prefixes().iter().filter_map(|p| p.prefix()).collect();
    assert_eq!(prefixes, ["photos/2023/", "photos/2024/"]);

    // Page two at a time and collect everything.
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let out = s3
            .list_objects_v2()
            .bucket("list")
            .max_keys(2)
            .set_continuation_token(token.clone())
            .fetch_owner(true)
            .send()
            .await
            .expect("page");
        assert!(out.contents().iter().all(|o| o.owner().is_some()));
        all.extend(out.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
        if out.is_truncated() != Some(true) {
            break;
        }
        token = out.next_continuation_token().map(str::to_owned);
    }
    assert_eq!(all.len(), 6);
    let out = s3
        .list_objects_v2()
        .bucket("list")
        .start_after("readme")
        .send()
        .await
        .expect("start-after");
    let keys: Vec<_> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["videos/x.mp4", "z"]);
    let out = s3
        .list_objects_v2()
        .bucket("list")
        .max_keys(0)
        .send()
        .await
        .expect("max-keys 0");
    assert_eq!(out.key_count(), Some(0));
    assert_eq!(out.is_truncated(), Some(false));
}

#[tokio::test]
async fn list_objects_v1_marker_and_url_encoding() {
    let (_server, s3) = setup("list-v1").await;
    for k in ["a/1", "a/2", "b c", "d+e"] {
        put(&s3, "list-v1", k, b"x").await;
    }
    let out = s3
        .list_objects()
        .bucket("list-v1")
        .delimiter("/")
        .max_keys(1)
        .send()
        .await
        .expect("list");
    assert_eq!(out.is_truncated(), Some(true));
    assert_eq!(out.next_marker(), Some("a/"));
    let out = s3
        .list_objects()
        .bucket("list-v1")
        .delimiter("/")
        .marker("a/")
        .send()
        .await
        .expect("list");
    let keys: Vec<_> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["b c", "d+e"]);
    assert!(out.contents()[0].owner().is_some());
    // With encoding-type=url keys come percent-encoded (aws-sdk-rust hands them over as sent).
    let out = s3
        .list_objects()
        .bucket("list-v1")
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .expect("url");
    let keys: Vec<_> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["a/1", "a/2", "b%20c", "d%2Be"]);
    assert_eq!(out.encoding_type(), Some(&EncodingType::Url));
    let err = s3
        .list_objects()
        .bucket("nope-bucket")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(code(&err), "NoSuchBucket");
}

/// aws-sdk-rust's default upload path (a CRC32 checksum, in an aws-chunked trailer or a header) for a
/// single PUT and a multipart upload, with the checksums read back.
#[tokio::test]
async fn sdk_default_checksums_are_stored_and_read_back() {
    use aws_sdk_s3::types::{
        ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedMultipartUpload, CompletedPart,
    };
    let (_server, s3) = setup("sums").await;
    let put = s3
        .put_object()
        .bucket("sums")
        .key("one")
        .body(b"hello world".to_vec().into())
        .send()
        .await
        .expect("put");
    assert_eq!(put.checksum_crc32(), Some("DUoRhQ=="), "CRC32 of \"hello world\"");
    let head = s3
        .head_object()
        .bucket("sums")
        .key("one")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("head");
    assert_eq!(head.checksum_crc32(), Some("DUoRhQ=="));
    assert_eq!(head.checksum_type(), Some(&ChecksumType::FullObject));
    let got = s3
        .get_object()
        .bucket("sums")
        .key("one")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("get");
    assert_eq!(
        body_bytes(got).await,
        b"hello world",
        "the SDK validated the returned checksum"
    );

    let up = s3
        .create_multipart_upload()
        .bucket("sums")
        .key("multi")
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .expect("create");
    let id = up.upload_id().expect("id");
    let mut parts = Vec::new();
    for (n, body) in [(1, vec![1u8; 5 * 1024 * 1024]), (2, b"end".to_vec())] {
        let out = s3
            .upload_part()
            .bucket("sums")
            .key("multi")
            .upload_id(id)
            .part_number(n)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(body.into())
            .send()
            .await
            .expect("part");
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(out.e_tag().expect("etag"))
                .checksum_crc32(out.checksum_crc32().expect("part checksum"))
                .build(),
        );
    }
    let done = s3
        .complete_multipart_upload()
        .bucket("sums")
        .key("multi")
        .upload_id(id)
        .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
        .send()
        .await
        .expect("complete");
    let composite = done.checksum_crc32().expect("composite checksum").to_owned();
    assert!(composite.ends_with("-2"), "{composite}");
    let head = s3
        .head_object()
        .bucket("sums")
        .key("multi")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("head");
    assert_eq!(head.checksum_crc32(), Some(composite.as_str()));
    assert_eq!(head.checksum_type(), Some(&ChecksumType::Composite));
}
