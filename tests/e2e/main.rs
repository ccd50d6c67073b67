//! End-to-end tests: the real `s3cors` binary on a real socket, driven by aws-sdk-rust.
//!
//! Each test starts its own server on `127.0.0.1:0` with a fresh data directory, so tests run in
//! parallel without sharing state.

mod harness;

mod auth;
mod buckets;
mod cors;
mod diagnostics;
mod multipart;
mod objects;
mod persistence;
mod raw;
