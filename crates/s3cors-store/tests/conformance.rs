//! One conformance suite, run against every backend: the memory store and the sled + files store.

use s3cors_store::{
    BlobReader, ListParams, Listed, MIN_PART_SIZE, NewObject, ObjectMeta, Store, StoreError, WriteCondition,
    WrittenBlob,
};

use md5::{Digest, Md5};
use std::io::Read;

fn write(store: &Store, data: &[u8]) -> WrittenBlob {
    let mut w = store.create_blob().expect("create blob");
    w.write(data).expect("write");
    let id = w.commit().expect("commit");
    WrittenBlob {
        id,
        size: data.len() as u64,
        md5: Md5::digest(data).into(),
        checksum: None,
    }
}

fn read(store: &Store, bucket: &str, key: &str) -> Vec<u8> {
    let rec = store.object(bucket, key).expect("object");
    match store.open_blob(&rec.blob).expect("open") {
        BlobReader::Memory(b) => b.to_vec(),
        BlobReader::File(mut f) => {
            let mut v = Vec::new();
            f.read_to_end(&mut v).expect("read");
            v
        }
    }
}

fn put(store: &Store, bucket: &str, key: &str, data: &[u8]) {
    let blob = write(store, data);
    let etag = s3cors_proto::etag_of(&blob.md5);
    let new = NewObject {
        blob,
        etag,
        meta: ObjectMeta::default(),
        part_sizes: Vec::new(),
        acl: "private".into(),
        checksum: None,
    };
    store
        .put_object(bucket, key, new, &WriteCondition::default())
        .expect("put");
}

fn buckets_lifecycle(store: &Store) {
    store
        .create_bucket("one", "owner", "us-east-1", "private")
        .expect("create");
    assert!(matches!(
        store.create_bucket("one", "owner", "us-east-1", "private"),
        Err(StoreError::BucketAlreadyOwnedByYou(_))
    ));
    assert!(matches!(
        store.create_bucket("one", "other", "us-east-1", "private"),
        Err(StoreError::BucketAlreadyExists(_))
    ));
    store
        .create_bucket("two", "owner", "eu-west-1", "private")
        .expect("create");
    let names: Vec<_> = store
        .list_buckets()
        .expect("list")
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, ["one", "two"]);
    assert_eq!(store.bucket("two").expect("bucket").region, "eu-west-1");
    put(store, "one", "k", b"v");
    assert!(matches!(
        store.delete_bucket("one"),
        Err(StoreError::BucketNotEmpty(_))
    ));
    store.delete_object("one", "k").expect("delete");
    store.delete_bucket("one").expect("delete bucket");
    assert!(matches!(store.bucket("one"), Err(StoreError::NoSuchBucket(_))));
    assert!(matches!(
        store.delete_bucket("one"),
        Err(StoreError::NoSuchBucket(_))
    ));
}

fn objects_overwrite_and_delete(store: &Store) {
    store
        .create_bucket("b", "owner", "us-east-1", "private")
        .expect("create");
    put(store, "b", "../../etc/passwd", b"first");
    put(store, "b", "../../etc/passwd", b"second, longer");
    assert_eq!(read(store, "b", "../../etc/passwd"), b"second, longer");
    let rec = store.object("b", "../../etc/passwd").expect("object");
    assert_eq!(rec.size, 14);
    assert_eq!(rec.etag, s3cors_proto::etag_of(&Md5::digest(b"second, longer")));
    // Read in place, the record is the one `object` decodes.
    let (blob, size, etag) = store
        .read_object("b", "../../etc/passwd", |v| {
            (v.blob.to_owned(), v.size, v.etag.to_owned())
        })
        .expect("read in place");
    assert_eq!((blob, size, etag), (rec.blob, rec.size, rec.etag));
    store.delete_object("b", "../../etc/passwd").expect("delete");
    store
        .delete_object("b", "../../etc/passwd")
        .expect("deleting twice is fine");
    assert!(matches!(
        store.object("b", "../../etc/passwd"),
        Err(StoreError::NoSuchKey(_))
    ));
    assert!(matches!(
        store.object("nope", "k"),
        Err(StoreError::NoSuchBucket(_))
    ));
    assert!(matches!(
        store.read_object("b", "../../etc/passwd", |_| ()),
        Err(StoreError::NoSuchKey(_))
    ));
    assert!(matches!(
        store.read_object("nope", "k", |_| ()),
        Err(StoreError::NoSuchBucket(_))
    ));
    let blob = write(store, b"x");
    assert!(matches!(
        store.put_object(
            "nope",
            "k",
            NewObject {
                blob,
                etag: String::new(),
                meta: ObjectMeta::default(),
                part_sizes: Vec::new(),
                acl: "private".into(),
                checksum: None,
            },
            &WriteCondition::default()
        ),
        Err(StoreError::NoSuchBucket(_))
    ));
}

fn listing(store: &Store) {
    store
        .create_bucket("l", "owner", "us-east-1", "private")
        .expect("create");
    for k in ["a", "b/1", "b/2", "c"] {
        put(store, "l", k, k.as_bytes());
    }
    let params = ListParams {
        delimiter: Some("/".into()),
        max: 1000,
        ..Default::default()
    };
    let page = store.list_objects("l", &params).expect("list");
    let names: Vec<_> = page.items.iter().map(|i| i.name().to_owned()).collect();
    assert_eq!(names, ["a", "b/", "c"]);
    assert!(matches!(page.items[1], Listed::Prefix(_)));
    let params = ListParams {
        max: 2,
        after: Some("a".into()),
        ..Default::default()
    };
    let page = store.list_objects("l", &params).expect("list");
    assert!(page.truncated);
    assert_eq!(
        page.items.iter().map(|i| i.name()).collect::<Vec<_>>(),
        ["b/1", "b/2"]
    );
}

fn multipart(store: &Store) {
    store
        .create_bucket("m", "owner", "us-east-1", "private")
        .expect("create");
    let up = store
        .create_upload("m", "big", ObjectMeta::default(), "private", "owner", None)
        .expect("create upload");
    assert_eq!(store.upload("m", "big", &up.upload_id).expect("upload"), up);
    assert!(matches!(
        store.upload("m", "other", &up.upload_id),
        Err(StoreError::NoSuchUpload(_))
    ));
    let p1 = vec![1u8; MIN_PART_SIZE as usize];
    let p2 = b"tail".to_vec();
    let r1 = store.put_part(&up, 1, &write(store, &p1)).expect("part 1");
    let r2 = store.put_part(&up, 2, &write(store, &p2)).expect("part 2");
    let small = store.put_part(&up, 3, &write(store, b"small")).expect("part 3");
    // Too small a part that is not last.
    let err = store
        .complete_upload(
            &up,
            &[(3, small.etag()), (2, r2.etag())],
            &WriteCondition::default(),
        )
        .expect_err("order");
    assert!(
        matches!(err, StoreError::Rejected(e) if e.code() == s3cors_proto::S3ErrorCode::InvalidPartOrder)
    );
    let err = store
        .complete_upload(
            &up,
            &[(2, r2.etag()), (3, small.etag())],
            &WriteCondition::default(),
        )
        .expect_err("too small");
    assert!(matches!(err, StoreError::Rejected(e) if e.code() == s3cors_proto::S3ErrorCode::EntityTooSmall));
    let err = store
        .complete_upload(&up, &[(1, "\"bad\"".into())], &WriteCondition::default())
        .expect_err("bad etag");
    assert!(matches!(err, StoreError::Rejected(e) if e.code() == s3cors_proto::S3ErrorCode::InvalidPart));
    let uploads = store
        .list_uploads(
            "m",
            &ListParams {
                max: 10,
                ..Default::default()
            },
            None,
        )
        .expect("list");
    assert_eq!(uploads.items.len(), 1);
    let rec = store
        .complete_upload(&up, &[(1, r1.etag()), (2, r2.etag())], &WriteCondition::default())
        .expect("complete");
    assert_eq!(rec.size, p1.len() as u64 + 4);
    assert_eq!(rec.etag, s3cors_proto::multipart_etag([&r1.md5, &r2.md5]));
    assert_eq!(rec.part_sizes, vec![MIN_PART_SIZE, 4]);
    let body = read(store, "m", "big");
    assert_eq!(&body[..p1.len()], &p1[..]);
    assert_eq!(&body[p1.len()..], b"tail");
    assert!(matches!(
        store.upload("m", "big", &up.upload_id),
        Err(StoreError::NoSuchUpload(_))
    ));
    assert!(store.parts(&up.upload_id).expect("parts").is_empty());
    let up2 = store
        .create_upload("m", "gone", ObjectMeta::default(), "private", "owner", None)
        .expect("create upload");
    store.put_part(&up2, 1, &write(store, b"x")).expect("part");
    store.abort_upload(&up2).expect("abort");
    assert!(matches!(
        store.upload("m", "gone", &up2.upload_id),
        Err(StoreError::NoSuchUpload(_))
    ));
}

fn copy(store: &Store) {
    store
        .create_bucket("c", "owner", "us-east-1", "private")
        .expect("create");
    put(store, "c", "src", b"0123456789");
    let src = store.object("c", "src").expect("src");
    let part = store
        .copy_blob(&src.blob, Some((2, 5)), None)
        .expect("copy range");
    assert_eq!(part.size, 4);
    assert_eq!(part.md5, <[u8; 16]>::from(Md5::digest(b"2345")));
    let whole = store.copy_blob(&src.blob, None, None).expect("copy");
    assert_eq!(whole.size, 10);
}

fn acls_and_policies(store: &Store) {
    store
        .create_bucket("acl", "owner", "us-east-1", "public-read")
        .expect("create");
    assert_eq!(store.bucket("acl").expect("bucket").acl, "public-read");
    store.set_bucket_acl("acl", "private").expect("set");
    assert_eq!(store.bucket("acl").expect("bucket").acl, "private");
    put(store, "acl", "k", b"v");
    store
        .set_object_acl("acl", "k", "public-read")
        .expect("object acl");
    assert_eq!(store.object("acl", "k").expect("object").acl, "public-read");
    assert!(matches!(
        store.set_object_acl("acl", "nope", "private"),
        Err(StoreError::NoSuchKey(_))
    ));
    assert_eq!(store.policy("acl").expect("policy"), None);
    store.put_policy("acl", "{}").expect("put policy");
    assert_eq!(store.policy("acl").expect("policy").as_deref(), Some("{}"));
    store.delete_policy("acl").expect("delete policy");
    assert_eq!(store.policy("acl").expect("policy"), None);
}

fn cors_configurations(store: &Store) {
    use s3cors_cors::{CorsConfiguration, CorsRule};
    store
        .create_bucket("web", "owner", "us-east-1", "private")
        .expect("create");
    assert_eq!(store.cors("web").expect("read"), None);
    let config = CorsConfiguration {
        rules: vec![CorsRule {
            id: Some("r1".into()),
            allowed_origins: vec!["http://localhost:3000".into()],
            allowed_methods: vec!["PUT".into(), "GET".into()],
            max_age_seconds: Some(-5),
            ..CorsRule::default()
        }],
    };
    store.put_cors("web", &config).expect("put");
    assert_eq!(store.cors("web").expect("read"), Some(config.clone()));
    assert_eq!(store.all_cors().expect("all"), vec![("web".to_owned(), config)]);
    store.delete_cors("web").expect("delete");
    store.delete_cors("web").expect("delete is idempotent");
    assert_eq!(store.cors("web").expect("read"), None);
    assert!(matches!(
        store.put_cors("nope", &CorsConfiguration::default()),
        Err(StoreError::NoSuchBucket(_))
    ));
    store.put_cors("web", &CorsConfiguration::default()).expect("put");
    store.delete_bucket("web").expect("delete bucket");
    store
        .create_bucket("web", "owner", "us-east-1", "private")
        .expect("recreate");
    assert_eq!(
        store.cors("web").expect("read"),
        None,
        "a deleted bucket's configuration does not come back"
    );
}

fn conditional_writes(store: &Store) {
    store
        .create_bucket("cw", "owner", "us-east-1", "private")
        .expect("create");
    let attempt = |data: &[u8], cond: WriteCondition| {
        let blob = write(store, data);
        let etag = s3cors_proto::etag_of(&blob.md5);
        store.put_object(
            "cw",
            "k",
            NewObject {
                blob,
                etag,
                meta: ObjectMeta::default(),
                part_sizes: Vec::new(),
                acl: "private".into(),
                checksum: None,
            },
            &cond,
        )
    };
    let none_match = WriteCondition {
        if_none_match: true,
        ..Default::default()
    };
    let first = attempt(b"one", none_match.clone()).expect("creates");
    let err = attempt(b"two", none_match).expect_err("exists");
    assert!(
        matches!(err, StoreError::Rejected(e) if e.code() == s3cors_proto::S3ErrorCode::PreconditionFailed)
    );
    let err = attempt(
        b"two",
        WriteCondition {
            if_match: Some("\"nope\"".into()),
            ..Default::default()
        },
    );
    assert!(matches!(err, Err(StoreError::Rejected(_))));
    attempt(
        b"two",
        WriteCondition {
            if_match: Some(first.etag.clone()),
            ..Default::default()
        },
    )
    .expect("matches");
    assert_eq!(read(store, "cw", "k"), b"two");
    store.delete_object("cw", "k").expect("delete");
    let err = attempt(
        b"three",
        WriteCondition {
            if_match: Some(first.etag),
            ..Default::default()
        },
    );
    assert!(
        matches!(err, Err(StoreError::NoSuchKey(_))),
        "If-Match on a missing key is NoSuchKey"
    );
}

fn multipart_checksums(store: &Store) {
    use s3cors_proto::checksum::ChecksumAlgorithm;
    store
        .create_bucket("ck", "owner", "us-east-1", "private")
        .expect("create");
    let digest = |a: ChecksumAlgorithm, data: &[u8]| {
        let mut h = a.hasher();
        h.update(data);
        h.finish()
    };
    let with_checksum = |data: &[u8], a: ChecksumAlgorithm| {
        let mut b = write(store, data);
        b.checksum = Some((a, digest(a, data)));
        b
    };
    let part1 = vec![7u8; MIN_PART_SIZE as usize];
    // Composite SHA-256: the digest of the parts' digests, then -N.
    let up = store
        .create_upload(
            "ck",
            "composite",
            ObjectMeta::default(),
            "private",
            "owner",
            Some((ChecksumAlgorithm::Sha256, false)),
        )
        .expect("upload");
    let p1 = store
        .put_part(&up, 1, &with_checksum(&part1, ChecksumAlgorithm::Sha256))
        .expect("part");
    let p2 = store
        .put_part(&up, 2, &with_checksum(b"end", ChecksumAlgorithm::Sha256))
        .expect("part");
    let rec = store
        .complete_upload(&up, &[(1, p1.etag()), (2, p2.etag())], &WriteCondition::default())
        .expect("complete");
    let mut both = digest(ChecksumAlgorithm::Sha256, &part1);
    both.extend(digest(ChecksumAlgorithm::Sha256, b"end"));
    let expected = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        digest(ChecksumAlgorithm::Sha256, &both),
    );
    let c = rec.checksum.expect("checksum");
    assert_eq!(
        (c.algorithm.as_str(), c.value, c.full_object),
        ("SHA256", format!("{expected}-2"), false)
    );
    // No algorithm: CRC64NVME over the whole object, as S3 does by default.
    let up = store
        .create_upload("ck", "default", ObjectMeta::default(), "private", "owner", None)
        .expect("upload");
    let p1 = store.put_part(&up, 1, &write(store, &part1)).expect("part");
    let p2 = store.put_part(&up, 2, &write(store, b"end")).expect("part");
    let rec = store
        .complete_upload(&up, &[(1, p1.etag()), (2, p2.etag())], &WriteCondition::default())
        .expect("complete");
    let whole = [part1.as_slice(), b"end"].concat();
    let expected = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        digest(ChecksumAlgorithm::Crc64Nvme, &whole),
    );
    let c = rec.checksum.expect("checksum");
    assert_eq!(
        (c.algorithm.as_str(), c.value, c.full_object),
        ("CRC64NVME", expected, true)
    );
}

fn repeated_completion(store: &Store) {
    store
        .create_bucket("rc", "owner", "us-east-1", "private")
        .expect("create");
    let up = store
        .create_upload("rc", "k", ObjectMeta::default(), "private", "owner", None)
        .expect("upload");
    let part = store.put_part(&up, 1, &write(store, b"only part")).expect("part");
    let rec = store
        .complete_upload(&up, &[(1, part.etag())], &WriteCondition::default())
        .expect("complete");
    let done = store
        .completed_upload("rc", "k", &up.upload_id)
        .expect("read")
        .expect("remembered");
    assert_eq!((done.etag, done.size), (rec.etag, rec.size));
    assert_eq!(
        store
            .completed_upload("rc", "other", &up.upload_id)
            .expect("read"),
        None
    );
}

macro_rules! suite {
    ($($name:ident),*) => {
        mod memory {
            $(#[test] fn $name() { super::$name(&s3cors_store::Store::memory()); })*
        }
        mod sled_files {
            $(#[test] fn $name() {
                let dir = tempfile::tempdir().expect("tempdir");
                super::$name(&s3cors_store::Store::open_dir(dir.path()).expect("open"));
            })*
        }
    };
}

suite!(
    buckets_lifecycle,
    objects_overwrite_and_delete,
    listing,
    multipart,
    copy,
    cors_configurations,
    conditional_writes,
    acls_and_policies,
    repeated_completion,
    multipart_checksums
);

#[test]
fn sled_store_survives_reopen_and_sweeps_leftovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = Store::open_dir(dir.path()).expect("open");
        store
            .create_bucket("p", "owner", "us-east-1", "private")
            .expect("create");
        put(&store, "p", "kept", b"persisted bytes");
        let cors = s3cors_cors::CorsConfiguration {
            rules: vec![s3cors_cors::CorsRule {
                allowed_origins: vec!["*".into()],
                allowed_methods: vec!["GET".into()],
                ..Default::default()
            }],
        };
        store.put_cors("p", &cors).expect("cors");
        // An uncommitted temp file and an unreferenced blob, as a crash would leave them.
        std::fs::write(
            dir.path().join("tmp").join("0123456789abcdef0123456789abcdef"),
            b"partial",
        )
        .expect("tmp");
        let orphan = write(&store, b"orphan");
        let orphan_path = dir.path().join("objects").join(&orphan.id[..2]).join(&orphan.id);
        assert!(orphan_path.exists());
    }
    let store = Store::open_dir(dir.path()).expect("reopen");
    assert_eq!(read(&store, "p", "kept"), b"persisted bytes");
    assert_eq!(store.cors("p").expect("cors").map(|c| c.rules.len()), Some(1));
    assert_eq!(std::fs::read_dir(dir.path().join("tmp")).expect("tmp").count(), 0);
    let blobs: usize = std::fs::read_dir(dir.path().join("objects"))
        .expect("objects")
        .map(|d| std::fs::read_dir(d.expect("dir").path()).expect("shard").count())
        .sum();
    assert_eq!(blobs, 1, "only the referenced blob is left");
}
