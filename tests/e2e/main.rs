//! End-to-end tests: the real `s3cors` binary on a real socket, driven by aws-sdk-rust.
