//! No session token leaves the service by a side door (issue 15): no Redis command of any `/v1`
//! session operation carries one (seen through `MONITOR`, commands run by scripts included), and
//! under real Spin with OpenTelemetry export on, nothing exported for the header form holds one.
//! The path form, by contrast, puts its token in the URL path that Spin's spans record: the
//! OTLP test shows that too, which also proves its receiver would see a leak.

use std::time::Duration;

use serde_json::{json, Value};

use super::session_kit::*;
use crate::helpers::otlp_receiver::OtlpReceiver;
use crate::helpers::secrets::{contains, find_token};
use crate::helpers::{eventually, skip, spin_bin, unique, MonitorCommand, Observation, TestApp, TestResponse};

/// Every command Redis showed for each request, by the operation that sent it.
struct Capture<'a> {
    app: &'a TestApp,
    seen: Vec<(String, MonitorCommand)>,
}

impl Capture<'_> {
    /// Runs one request under observation, checks its status, keeps its commands.
    fn run(&mut self, what: &str, status: u16, send: impl FnOnce() -> TestResponse) -> Observation {
        let seen = self.app.observe(send);
        assert_eq!(seen.response.status, status, "{what}: {}", seen.response.text());
        self.seen.extend(seen.commands.iter().map(|c| (what.to_owned(), c.clone())));
        seen
    }

    fn create(&mut self, what: &str, body: &Value) -> Value {
        let app = self.app;
        self.run(what, 201, || app.post_json("/v1/sessions", body)).response.json()
    }
}

/// Asserts that a session read sent exactly one command: a plain `GET` of the session's one key,
/// from the component itself (no script ran).
#[track_caller]
fn assert_one_get(seen: &Observation, token: &str) {
    let sent: Vec<&MonitorCommand> =
        seen.commands.iter().filter(|c| !matches!(c.name().as_str(), "CLIENT" | "HELLO" | "SELECT" | "AUTH")).collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_ne!(sent[0].client, "lua");
    assert_eq!(sent[0].name(), "GET");
    assert_eq!(&sent[0].args[1..], &[record_key(token).into_bytes()], "{sent:?}");
    assert_eq!(seen.round_trips, ["GET"]);
}

#[test]
fn no_redis_command_of_any_v1_session_operation_carries_a_token() {
    let Some(app) = TestApp::spawn_observed(&[]) else { return };
    let user = user(&app);
    let uid = &user["id"];
    let users_sessions = format!("/v1/users/{uid}/sessions");
    let mut tokens = Vec::new();
    let mut c = Capture { app: &app, seen: Vec::new() };

    // Create, with a user and without.
    let a = token(&c.create("create with a user", &json!({ "user_id": uid, "data": { "n": 1 } })));
    let b = token(&c.create("create without a user", &json!({ "data": [1] })));
    tokens.extend([a.clone(), b.clone()]);

    // Read: one GET each, in both forms, found or not.
    let seen = c.run("GET /v1/session", 200, || header_get(&app, &a));
    assert_one_get(&seen, &a);
    let seen = c.run("GET /v1/sessions/{token}", 200, || app.get(&format!("/v1/sessions/{a}")));
    assert_one_get(&seen, &a);
    let unknown = unknown_token();
    tokens.push(unknown.clone());
    let seen = c.run("GET /v1/session, unknown token", 404, || header_get(&app, &unknown));
    assert_one_get(&seen, &unknown);
    let seen = c.run("GET /v1/sessions/{token}, unknown token", 404, || app.get(&format!("/v1/sessions/{unknown}")));
    assert_one_get(&seen, &unknown);

    // Refresh, rotate and delete, in both forms.
    c.run("PATCH /v1/session", 200, || header_patch(&app, &a, &json!({ "data": 2, "ttl_seconds": 900 })));
    c.run("PATCH /v1/sessions/{token}", 200, || path_patch(&app, &a, &json!({ "data": 3 })));
    c.run("PATCH /v1/session, unknown token", 404, || header_patch(&app, &unknown, &json!({ "data": 3 })));
    let a2 = token(&c.run("POST /v1/session/rotate", 201, || header_rotate(&app, &a)).response.json());
    let a3 = token(&c.run("POST /v1/sessions/{token}/rotate", 201, || path_rotate(&app, &a2)).response.json());
    let b2 = token(&c.run("POST /v1/session/rotate, no user", 201, || header_rotate(&app, &b)).response.json());
    tokens.extend([a2.clone(), a3.clone(), b2.clone()]);
    c.run("POST /v1/session/rotate, dead token", 404, || header_rotate(&app, &a));
    c.run("DELETE /v1/session", 204, || header_delete(&app, &b2));
    c.run("DELETE /v1/sessions/{token}", 204, || app.delete(&format!("/v1/sessions/{a3}")));
    c.run("DELETE /v1/session, dead token", 404, || header_delete(&app, &a3));

    // A user's sessions: list, revoke one, all but one, all; delete a user who has sessions.
    let mut mine: Vec<Value> = (0..4).map(|i| c.create("create", &json!({ "user_id": uid, "data": i }))).collect();
    c.run("GET /v1/users/{id}/sessions", 200, || app.get(&format!("{users_sessions}?limit=2")));
    c.run("DELETE /v1/users/{id}/sessions/{public_id}", 204, || {
        app.delete(&format!("{users_sessions}/{}", public_id(&mine[0])))
    });
    c.run("DELETE /v1/users/{id}/sessions?except=", 200, || {
        app.delete(&format!("{users_sessions}?except={}", public_id(&mine[1])))
    });
    c.run("DELETE /v1/users/{id}/sessions", 200, || app.delete(&users_sessions));
    mine.extend((0..2).map(|i| c.create("create", &json!({ "user_id": uid, "data": i }))));
    c.run("DELETE /v1/users/{id}", 204, || app.delete(&format!("/v1/users/{uid}")));
    tokens.extend(mine.iter().map(token));

    // The capture saw what it had to: the scripts' own commands, and digests where tokens would be.
    assert!(c.seen.iter().any(|(_, cmd)| cmd.client == "lua"), "no command run by a script was captured");
    let digests: Vec<String> = tokens.iter().map(|t| digest(t)).collect();
    for (token, digest) in tokens.iter().zip(&digests).filter(|(t, _)| **t != unknown) {
        let named = c.seen.iter().any(|(_, cmd)| cmd.args.iter().any(|arg| contains(arg, digest.as_bytes())));
        assert!(named, "no command named the session of {token} by its digest {digest}");
    }
    for (what, cmd) in &c.seen {
        for arg in &cmd.args {
            if let Some((token, form)) = find_token(arg, &tokens) {
                panic!("{what}: Redis saw token {token} (as {form:?}) in {cmd:?}");
            }
        }
    }
}

/// Under real Spin with OTLP export on (the variables Spin reads, `crates/telemetry/src/env.rs`:
/// `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_PROTOCOL`; Spin's default protocol is
/// `http/protobuf`, uncompressed), a session driven through the header form leaves no token in
/// any exported byte, while the receiver does get those requests' spans. The same export carries
/// a path-form token in clear: the reason the header form is the recommended one.
#[test]
fn spins_telemetry_carries_no_token_of_the_header_form() {
    if spin_bin().is_none() {
        skip("needs real Spin (SPIN_BIN): the test host exports no telemetry");
        return;
    }
    let receiver = OtlpReceiver::start();
    let endpoint = receiver.url();
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        // Spin's default, said outright (4.0.2 sends uncompressed bodies even when asked for gzip);
        // every export's `content-encoding` is checked below, as a byte search needs plain bytes.
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "none"),
        // The span processor waits 5 s by default before an export (seen: the test takes 5 s more
        // without this), the log processor 1 s.
        ("OTEL_BSP_SCHEDULE_DELAY", "200"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "200"),
    ];
    let Some(app) = TestApp::spawn_private(&env) else { return };

    let created = app.send(app.request("POST", "/v1/sessions").header("user-agent", "otlp-test/1").json(&json!({})));
    assert_eq!(created.status, 201, "{}", created.text());
    let first = token(&created.json());
    assert_eq!(header_get(&app, &first).status, 200);
    assert_eq!(header_patch(&app, &first, &json!({ "data": 1, "ttl_seconds": 600 })).status, 200);
    let second = token(&rotated(header_rotate(&app, &first)));
    assert_eq!(header_get(&app, &first).status, 404);
    assert_eq!(header_get(&app, &second).status, 200);
    assert_eq!(header_delete(&app, &second).status, 204);
    let unknown = unknown_token();
    assert_eq!(header_get(&app, &unknown).status, 404);
    let tokens = [first, second, unknown];

    // Last, a path-form read: once its token shows in a span, and its access-log line (found by
    // its request id) in the exported logs, everything before it has been exported too (each batch
    // processor exports in the order its records were made).
    let visible = token(&create(&app, &json!({})));
    let last_request = unique("otlp-last");
    let res = app.send(app.request("GET", &format!("/v1/sessions/{visible}")).header("x-request-id", &last_request));
    assert_eq!(res.status, 200, "{}", res.text());
    let exported = eventually(Duration::from_secs(60), || {
        receiver.has("/v1/traces", visible.as_bytes()) && receiver.has("/v1/logs", last_request.as_bytes())
    });
    let received = receiver.received();
    let paths: Vec<&str> = received.iter().map(|e| e.path.as_str()).collect();
    assert!(exported, "the last request's span and log line were not both exported within 60 s: {paths:?}");
    // What the header form's requests exported: spans with their url.path, and the component's
    // access-log lines (which name routes, not paths).
    assert!(receiver.has("/v1/traces", b"/v1/session/rotate"), "no span of POST /v1/session/rotate");
    assert!(receiver.has("/v1/logs", br#""route":"/v1/session/rotate""#), "no log line of the rotation");
    // Spin's outbound Redis spans name the keys of the commands: a session's key is its digest.
    let read_key = record_key(&tokens[0]);
    assert!(receiver.has("/v1/traces", read_key.as_bytes()), "no Redis span naming {read_key}");

    for export in &received {
        assert_eq!(export.method, "POST", "{}", export.path);
        let encoding = export.header("content-encoding").unwrap_or("identity");
        assert_eq!(encoding, "identity", "{}: compressed, so a byte search would prove nothing", export.path);
        if let Some((token, form)) = find_token(&export.body, &tokens) {
            panic!("{} exported token {token} (as {form:?})", export.path);
        }
    }
}
