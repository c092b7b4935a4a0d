//! Fuzzes the service's pure request handling (parsing and validating bodies, ids, headers and
//! query strings, and encoding original-API responses), compiled natively. See
//! `user_session_service::fuzzing`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    user_session_service::fuzzing::request_handling(data);
});
