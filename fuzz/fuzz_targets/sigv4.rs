#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| s3cors_fuzz::sigv4(data));
