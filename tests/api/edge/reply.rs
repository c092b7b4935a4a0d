//! How responses reach the host (`src/reply.rs`): a body that fits the host's buffer is written
//! whole before the response is handed over (`TestApp::observe` checks that on every observed
//! request); a larger one is streamed after it, and must arrive just as whole.

use serde_json::json;

use crate::helpers::TestApp;

/// wasmtime's wasi-http, under Spin and the test host, buffers one chunk of 1 MiB before the
/// response is handed over; this session's data is larger, so its body takes the streaming path.
#[test]
fn a_body_larger_than_the_host_buffer_arrives_whole() {
    let Some(app) =
        TestApp::spawn_private(&[("SPIN_VARIABLE_TUNING", "max_body_bytes=4000000,max_session_data_bytes=4000000")])
    else {
        return;
    };
    let data = json!({ "blob": "x".repeat(1_500_000) });
    let created = app.post_json("/v1/sessions", &json!({ "data": data }));
    assert_eq!(created.status, 201, "{}", created.text());
    let token = created.json()["id"].as_str().expect("a session id").to_owned();

    app.clear_host_records();
    let read = app.get(&format!("/v1/sessions/{token}"));
    assert_eq!(read.status, 200);
    assert!(read.body.len() > 1 << 20, "a body of {} bytes does not test the streaming path", read.body.len());
    assert_eq!(read.json()["data"], data);
    match app.host_records() {
        Some(records) => {
            assert_eq!(records.len(), 1, "{records:?}");
            assert!(!records[0].body_complete_when_set, "expected the streaming path: {:?}", records[0]);
        }
        // Real Spin shows nothing of how the body was handed over; a body over the 1 MiB buffer
        // (checked above) can only take the streaming path, and it arrived whole.
        None => assert!(app.real_spin().is_some(), "a private app runs under the test host or real Spin"),
    }
}
