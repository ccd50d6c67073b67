//! ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, in both addressing styles.

use crate::harness::{Server, code, status, vhost_client};
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};

#[tokio::test]
async fn bucket_lifecycle_path_style() {
    let server = Server::start();
    let s3 = server.client();
    s3.create_bucket()
        .bucket("alpha")
        .send()
        .await
        .expect("create alpha");
    s3.create_bucket()
        .bucket("beta")
        .send()
        .await
        .expect("create beta");
    let list = s3.list_buckets().send().await.expect("list");
    let names: Vec<_> = list.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["alpha", "beta"]);
    assert!(list.buckets()[0].creation_date().is_some());
    assert_eq!(list.owner().and_then(|o| o.id()).map(str::len), Some(64));

    // us-east-1: re-creating your own bucket succeeds and changes nothing (S3's legacy behaviour).
    s3.create_bucket()
        .bucket("alpha")
        .send()
        .await
        .expect("re-create in us-east-1");
    assert_eq!(s3.list_buckets().send().await.expect("list").buckets().len(), 2);
    let page = s3.list_buckets().max_buckets(1).send().await.expect("page 1");
    assert_eq!(
        page.buckets().iter().filter_map(|b| b.name()).collect::<Vec<_>>(),
        ["alpha"]
    );
    let token = page.continuation_token().expect("more buckets").to_owned();
    let page = s3
        .list_buckets()
        .max_buckets(1)
        .continuation_token(token)
        .send()
        .await
        .expect("page 2");
    assert_eq!(
        page.buckets().iter().filter_map(|b| b.name()).collect::<Vec<_>>(),
        ["beta"]
    );
    assert_eq!(page.continuation_token(), None);
    let page = s3.list_buckets().prefix("be").send().await.expect("prefix");
    assert_eq!(page.buckets().len(), 1);

    let head = s3.head_bucket().bucket("alpha").send().await.expect("head");
    assert_eq!(head.bucket_region(), Some("us-east-1"));
    let missing = s3
        .head_bucket()
        .bucket("gamma")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(status(&missing), 404);

    let loc = s3
        .get_bucket_location()
        .bucket("alpha")
        .send()
        .await
        .expect("location");
    // us-east-1 is the empty LocationConstraint element, as S3 sends it.
    assert_eq!(loc.location_constraint().map(|c| c.as_str()).unwrap_or(""), "");

    s3.put_object()
        .bucket("alpha")
        .key("k")
        .body(b"v".to_vec().into())
        .send()
        .await
        .expect("put");
    let not_empty = s3
        .delete_bucket()
        .bucket("alpha")
        .send()
        .await
        .expect_err("not empty");
    assert_eq!(code(&not_empty), "BucketNotEmpty");
    assert_eq!(status(&not_empty), 409);
    s3.delete_object()
        .bucket("alpha")
        .key("k")
        .send()
        .await
        .expect("delete object");
    s3.delete_bucket()
        .bucket("alpha")
        .send()
        .await
        .expect("delete bucket");
    let gone = s3.delete_bucket().bucket("alpha").send().await.expect_err("gone");
    assert_eq!(code(&gone), "NoSuchBucket");
    let names: Vec<_> = s3
        .list_buckets()
        .send()
        .await
        .expect("list")
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect();
    assert_eq!(names, ["beta"]);
}

#[tokio::test]
async fn invalid_bucket_names_and_location_constraints() {
    let server = Server::start();
    let s3 = server.client();
    for bad in ["ab", "Upper", "under_score", "-dash", "192.168.1.1", "a..b"] {
        let err = s3.create_bucket().bucket(bad).send().await.expect_err(bad);
        assert_eq!(code(&err), "InvalidBucketName", "{bad}");
        assert_eq!(status(&err), 400, "{bad}");
    }
    let conf = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::EuWest1)
        .build();
    let err = s3
        .create_bucket()
        .bucket("euro")
        .create_bucket_configuration(conf)
        .send()
        .await
        .expect_err("region");
    assert_eq!(code(&err), "IllegalLocationConstraintException");
    assert!(
        s3.list_buckets().send().await.expect("list").buckets().is_empty(),
        "nothing was created"
    );
}

#[tokio::test]
async fn regional_endpoint_records_the_location() {
    let tmp = tempfile::tempdir().expect("tmp");
    let server = Server::start_on(&tmp.path().join("d"), &["--region", "eu-west-1"]);
    let wrong = server.client();
    let err = wrong
        .list_buckets()
        .send()
        .await
        .expect_err("signed for us-east-1");
    assert_eq!(code(&err), "AuthorizationHeaderMalformed");
    let s3 = crate::harness::client_in_region(&server.endpoint(), true, "eu-west-1");
    let conf = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::EuWest1)
        .build();
    s3.create_bucket()
        .bucket("euro")
        .create_bucket_configuration(conf)
        .send()
        .await
        .expect("create");
    let loc = s3
        .get_bucket_location()
        .bucket("euro")
        .send()
        .await
        .expect("location");
    assert_eq!(
        loc.location_constraint(),
        Some(&BucketLocationConstraint::EuWest1)
    );
    let err = s3
        .create_bucket()
        .bucket("nowhere")
        .send()
        .await
        .expect_err("no constraint");
    assert_eq!(code(&err), "IllegalLocationConstraintException");
    let again = CreateBucketConfiguration::builder()
        .location_constraint(BucketLocationConstraint::EuWest1)
        .build();
    let err = s3
        .create_bucket()
        .bucket("euro")
        .create_bucket_configuration(again)
        .send()
        .await
        .expect_err("exists");
    assert_eq!(
        (code(&err), status(&err)),
        ("BucketAlreadyOwnedByYou".to_owned(), 409),
        "outside us-east-1"
    );
}

#[tokio::test]
async fn virtual_hosted_style_covers_buckets_and_objects() {
    let server = Server::start();
    let s3 = vhost_client(server.port);
    s3.create_bucket()
        .bucket("vhost-bucket")
        .send()
        .await
        .expect("create");
    s3.put_object()
        .bucket("vhost-bucket")
        .key("dir/file.txt")
        .body(b"virtual".to_vec().into())
        .send()
        .await
        .expect("put");
    let got = s3
        .get_object()
        .bucket("vhost-bucket")
        .key("dir/file.txt")
        .send()
        .await
        .expect("get");
    assert_eq!(crate::harness::body_bytes(got).await, b"virtual");
    let list = s3
        .list_objects_v2()
        .bucket("vhost-bucket")
        .send()
        .await
        .expect("list");
    assert_eq!(list.contents().len(), 1);
    // The same object through path style.
    let path = server.client();
    let got = path
        .get_object()
        .bucket("vhost-bucket")
        .key("dir/file.txt")
        .send()
        .await
        .expect("get");
    assert_eq!(crate::harness::body_bytes(got).await, b"virtual");
    s3.delete_object()
        .bucket("vhost-bucket")
        .key("dir/file.txt")
        .send()
        .await
        .expect("delete");
    s3.delete_bucket()
        .bucket("vhost-bucket")
        .send()
        .await
        .expect("delete bucket");
}
