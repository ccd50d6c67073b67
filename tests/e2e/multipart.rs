//! The multipart family: Create, UploadPart, UploadPartCopy, ListParts, ListMultipartUploads,
//! Complete (with S3's validation) and Abort.

use crate::harness::{Server, body_bytes, code, md5_hex, status};
use aws_sdk_s3::Client;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

const MIB: usize = 1024 * 1024;

fn completed(parts: &[(i32, &str)]) -> CompletedMultipartUpload {
    CompletedMultipartUpload::builder()
        .set_parts(Some(
            parts
                .iter()
                .map(|(n, e)| CompletedPart::builder().part_number(*n).e_tag(*e).build())
                .collect(),
        ))
        .build()
}

async fn upload_part(s3: &Client, key: &str, id: &str, n: i32, data: &[u8]) -> String {
    s3.upload_part()
        .bucket("mpu")
        .key(key)
        .upload_id(id)
        .part_number(n)
        .body(data.to_vec().into())
        .send()
        .await
        .expect("upload part")
        .e_tag()
        .expect("etag")
        .to_owned()
}

#[tokio::test]
async fn multipart_upload_end_to_end() {
    let server = Server::start();
    let s3 = server.client();
    s3.create_bucket().bucket("mpu").send().await.expect("bucket");
    let create = s3
        .create_multipart_upload()
        .bucket("mpu")
        .key("video.bin")
        .content_type("video/mp4")
        .metadata("take", "3")
        .send()
        .await
        .expect("create");
    let id = create.upload_id().expect("upload id").to_owned();
    assert_eq!(create.key(), Some("video.bin"));

    let p1: Vec<u8> = (0..5 * MIB).map(|i| (i % 251) as u8).collect();
    let p2: Vec<u8> = (0..5 * MIB).map(|i| (i % 241) as u8).collect();
    let p3 = b"the tail".to_vec();
    let e1 = upload_part(&s3, "video.bin", &id, 1, &p1).await;
    let e2 = upload_part(&s3, "video.bin", &id, 2, &p2).await;
    let e3 = upload_part(&s3, "video.bin", &id, 3, &p3).await;
    assert_eq!(e1, format!("\"{}\"", md5_hex(&p1)));

    let parts = s3
        .list_parts()
        .bucket("mpu")
        .key("video.bin")
        .upload_id(&id)
        .send()
        .await
        .expect("list parts");
    let listed: Vec<_> = parts
        .parts()
        .iter()
        .map(|p| (p.part_number(), p.size()))
        .collect();
    assert_eq!(
        listed,
        [
            (Some(1), Some(5 * MIB as i64)),
            (Some(2), Some(5 * MIB as i64)),
            (Some(3), Some(8))
        ]
    );
    let page = s3
        .list_parts()
        .bucket("mpu")
        .key("video.bin")
        .upload_id(&id)
        .max_parts(2)
        .send()
        .await
        .expect("page");
    assert_eq!(page.is_truncated(), Some(true));
    assert_eq!(page.next_part_number_marker(), Some("2"));

    let uploads = s3
        .list_multipart_uploads()
        .bucket("mpu")
        .send()
        .await
        .expect("list uploads");
    assert_eq!(uploads.uploads().len(), 1);
    assert_eq!(uploads.uploads()[0].upload_id(), Some(id.as_str()));

    // S3's validation, before the good completion.
    let err = s3
        .complete_multipart_upload()
        .bucket("mpu")
        .key("video.bin")
        .upload_id(&id)
        .multipart_upload(completed(&[(2, &e2), (1, &e1)]))
        .send()
        .await
        .expect_err("order");
    assert_eq!(code(&err), "InvalidPartOrder");
    let err = s3
        .complete_multipart_upload()
        .bucket("mpu")
        .key("video.bin")
        .upload_id(&id)
        .multipart_upload(completed(&[(1, "\"0123456789abcdef0123456789abcdef\"")]))
        .send()
        .await
        .expect_err("etag");
    assert_eq!(code(&err), "InvalidPart");
    let err = s3
        .complete_multipart_upload()
        .bucket("mpu")
        .key("video.bin")
        .upload_id(&id)
        .multipart_upload(completed(&[(3, &e3), (4, &e3)]))
        .send()
        .await
        .expect_err("missing part");
    assert_eq!(code(&err), "InvalidPart");
    let err = s3
        .complete_multipart_upload()
        .bucket("mpu")
        .key("video.bin")
        .upload_id(&id)
        .multipart_upload(CompletedMultipartUpload::builder().build())
        .send()
        .await
        .expect_err("no parts");
    assert_eq!(code(&err), "MalformedXML");

    let done = s3
        .complete_multipart_upload()
        .bucket("mpu")
        .key("video.bin")
        .upload_id(&id)
        .multipart_upload(completed(&[(1, &e1), (2, &e2), (3, &e3)]))
        .send()
        .await
        .expect("complete");
    let mut md5s = Vec::new();
    for p in [&p1, &p2, &p3] {
        md5s.extend(hex::decode(md5_hex(p)).expect("hex"));
    }
    assert_eq!(done.e_tag(), Some(format!("\"{}-3\"", md5_hex(&md5s)).as_str()));

    let got = s3
        .get_object()
        .bucket("mpu")
        .key("video.bin")
        .send()
        .await
        .expect("get");
    assert_eq!(got.content_type(), Some("video/mp4"));
    assert_eq!(
        got.metadata().and_then(|m| m.get("take")).map(String::as_str),
        Some("3")
    );
    assert_eq!(got.e_tag(), done.e_tag());
    let body = body_bytes(got).await;
    assert_eq!(body.len(), 10 * MIB + 8);
    assert_eq!(&body[..5 * MIB], &p1[..]);
    assert_eq!(&body[5 * MIB..10 * MIB], &p2[..]);
    assert_eq!(&body[10 * MIB..], &p3[..]);

    let err = s3
        .list_parts()
        .bucket("mpu")
        .key("video.bin")
        .upload_id(&id)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(code(&err), "NoSuchUpload");
    assert_eq!(status(&err), 404);
    assert!(
        s3.list_multipart_uploads()
            .bucket("mpu")
            .send()
            .await
            .expect("list")
            .uploads()
            .is_empty()
    );
}

#[tokio::test]
async fn entity_too_small_abort_and_bad_part_numbers() {
    let server = Server::start();
    let s3 = server.client();
    s3.create_bucket().bucket("mpu").send().await.expect("bucket");
    let id = s3
        .create_multipart_upload()
        .bucket("mpu")
        .key("k")
        .send()
        .await
        .expect("create")
        .upload_id
        .expect("id");
    let e1 = upload_part(&s3, "k", &id, 1, b"small").await;
    let e2 = upload_part(&s3, "k", &id, 2, b"tail").await;
    let err = s3
        .complete_multipart_upload()
        .bucket("mpu")
        .key("k")
        .upload_id(&id)
        .multipart_upload(completed(&[(1, &e1), (2, &e2)]))
        .send()
        .await
        .expect_err("too small");
    assert_eq!(code(&err), "EntityTooSmall");
    for n in [0, 10001] {
        let err = s3
            .upload_part()
            .bucket("mpu")
            .key("k")
            .upload_id(&id)
            .part_number(n)
            .body(b"x".to_vec().into())
            .send()
            .await
            .expect_err("bad part number");
        assert_eq!(code(&err), "InvalidArgument", "part {n}");
    }
    let err = s3
        .upload_part()
        .bucket("mpu")
        .key("k")
        .upload_id("not-an-upload")
        .part_number(1)
        .body(b"x".to_vec().into())
        .send()
        .await
        .expect_err("no upload");
    assert_eq!(code(&err), "NoSuchUpload");
    s3.abort_multipart_upload()
        .bucket("mpu")
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .expect("abort");
    let err = s3
        .abort_multipart_upload()
        .bucket("mpu")
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .expect_err("again");
    assert_eq!(code(&err), "NoSuchUpload");
    let err = s3
        .head_object()
        .bucket("mpu")
        .key("k")
        .send()
        .await
        .expect_err("nothing stored");
    assert_eq!(status(&err), 404);
    // A single-part upload below 5 MiB is fine: the last part may be small.
    let id = s3
        .create_multipart_upload()
        .bucket("mpu")
        .key("one")
        .send()
        .await
        .expect("create")
        .upload_id
        .expect("id");
    let e = upload_part(&s3, "one", &id, 1, b"only").await;
    s3.complete_multipart_upload()
        .bucket("mpu")
        .key("one")
        .upload_id(&id)
        .multipart_upload(completed(&[(1, &e)]))
        .send()
        .await
        .expect("complete one part");
}

#[tokio::test]
async fn upload_part_copy_with_ranges() {
    let server = Server::start();
    let s3 = server.client();
    s3.create_bucket().bucket("mpu").send().await.expect("bucket");
    let src: Vec<u8> = (0..6 * MIB).map(|i| (i % 253) as u8).collect();
    s3.put_object()
        .bucket("mpu")
        .key("source")
        .body(src.clone().into())
        .send()
        .await
        .expect("put source");
    let id = s3
        .create_multipart_upload()
        .bucket("mpu")
        .key("dst")
        .send()
        .await
        .expect("create")
        .upload_id
        .expect("id");
    let c1 = s3
        .upload_part_copy()
        .bucket("mpu")
        .key("dst")
        .upload_id(&id)
        .part_number(1)
        .copy_source("mpu/source")
        .send()
        .await
        .expect("copy whole");
    let e1 = c1
        .copy_part_result()
        .and_then(|r| r.e_tag())
        .expect("etag")
        .to_owned();
    assert_eq!(e1, format!("\"{}\"", md5_hex(&src)));
    let c2 = s3
        .upload_part_copy()
        .bucket("mpu")
        .key("dst")
        .upload_id(&id)
        .part_number(2)
        .copy_source("mpu/source")
        .copy_source_range("bytes=10-19")
        .send()
        .await
        .expect("copy range");
    let e2 = c2
        .copy_part_result()
        .and_then(|r| r.e_tag())
        .expect("etag")
        .to_owned();
    let err = s3
        .upload_part_copy()
        .bucket("mpu")
        .key("dst")
        .upload_id(&id)
        .part_number(3)
        .copy_source("mpu/source")
        .copy_source_range(format!("bytes=0-{}", 6 * MIB))
        .send()
        .await
        .expect_err("out of range");
    assert_eq!(code(&err), "InvalidRange");
    s3.complete_multipart_upload()
        .bucket("mpu")
        .key("dst")
        .upload_id(&id)
        .multipart_upload(completed(&[(1, &e1), (2, &e2)]))
        .send()
        .await
        .expect("complete");
    let body = body_bytes(
        s3.get_object()
            .bucket("mpu")
            .key("dst")
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(&body[..6 * MIB], &src[..]);
    assert_eq!(&body[6 * MIB..], &src[10..20]);
}
