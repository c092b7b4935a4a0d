//! `/v1` session tokens are never stored in clear: sessions live under the SHA-256 of their token,
//! listings show public ids, one session can be revoked by its public id, and sessions stored in
//! clear by earlier versions keep working by their token until they expire.

use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::users::create_user;
use crate::helpers::{assert_problem, unique, TestApp};

/// What the service stores a session under: the SHA-256 of its token, base64url without padding.
pub fn digest(token: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// The hex SHA-1 of some text, as Redis's `sha1hex` writes it.
fn sha1_hex(text: &str) -> String {
    sha1_smol::Sha1::from(text).digest().to_string()
}

/// Every key of the database with its whole value, read in clear by type (`DUMP` may compress).
/// On a shared database other tests' keys expire or go between `SCAN` and the reads: a key gone by
/// then holds nothing, so it is left out.
fn dump_everything(redis: &mut redis::Connection) -> Vec<(String, String)> {
    let keys: Vec<String> = redis::cmd("SCAN").cursor_arg(0).clone().iter(redis).expect("SCAN").collect();
    keys.into_iter()
        .filter_map(|key| {
            let kind: String = redis::cmd("TYPE").arg(&key).query(redis).unwrap();
            let value: Vec<Vec<u8>> = match kind.as_str() {
                "none" => return None,
                "string" => redis::cmd("GET").arg(&key).query::<Option<Vec<u8>>>(redis).unwrap().into_iter().collect(),
                "hash" => redis::cmd("HGETALL").arg(&key).query(redis).unwrap(),
                "zset" => redis::cmd("ZRANGE").arg(&key).arg(0).arg(-1).arg("WITHSCORES").query(redis).unwrap(),
                "set" => redis::cmd("SMEMBERS").arg(&key).query(redis).unwrap(),
                "list" => redis::cmd("LRANGE").arg(&key).arg(0).arg(-1).query(redis).unwrap(),
                other => panic!("{key}: unexpected type {other}"),
            };
            let value = value.iter().map(|v| String::from_utf8_lossy(v).into_owned()).collect::<Vec<_>>().join("\n");
            Some((key, value))
        })
        .collect()
}

fn assert_nowhere(dump: &[(String, String)], tokens: &[String]) {
    for (key, value) in dump {
        for token in tokens {
            assert!(!key.contains(token.as_str()), "token {token} in the key {key}");
            assert!(!value.contains(token.as_str()), "token {token} in the value of {key}: {value}");
        }
    }
}

fn create_session(app: &TestApp, body: &Value) -> Value {
    let res = app.post_json("/v1/sessions", body);
    assert_eq!(res.status, 201, "{}", res.text());
    res.json()
}

fn token(session: &Value) -> String {
    session["id"].as_str().unwrap().to_owned()
}

#[test]
fn no_token_is_stored_anywhere_in_redis() {
    let app = TestApp::spawn();
    let Some(mut redis) = app.redis_or_skip() else { return };
    let user = create_user(&app, "Doe", "John");
    let users_sessions = format!("/v1/users/{}/sessions", user["id"]);
    let kept = create_session(&app, &json!({ "user_id": user["id"], "data": { "device": "phone" } }));
    let revoked = create_session(&app, &json!({ "user_id": user["id"], "ttl_seconds": 600 }));
    let anonymous = create_session(&app, &json!({ "data": [1] }));
    let tokens: Vec<String> = [&kept, &revoked, &anonymous].into_iter().map(token).collect();

    // The 201 shows the token once, with the public id derived from its digest.
    for (session, token) in [&kept, &revoked, &anonymous].into_iter().zip(&tokens) {
        assert_eq!(session["public_id"], json!(sha1_hex(&digest(token))), "{session}");
        assert_ne!(session["public_id"].as_str(), Some(token.as_str()));
    }

    // Touch, read and list them.
    let kept_path = format!("/v1/sessions/{}", tokens[0]);
    let res =
        app.send(app.request("PATCH", &kept_path).json(&json!({ "data": { "device": "tablet" }, "ttl_seconds": 900 })));
    assert_eq!(res.status, 200, "{}", res.text());
    let patched = res.json();
    assert_eq!((&patched["id"], &patched["public_id"]), (&json!(tokens[0]), &kept["public_id"]));
    assert_eq!(app.get(&kept_path).json()["data"], json!({ "device": "tablet" }));
    app.get(&format!("/get_session/{}", tokens[0])).assert(200, json!({ "device": "tablet" }));
    app.get(&format!("/get_session/{}", tokens[2])).assert(200, json!([1]));
    let listed = app.get(&users_sessions).json();
    let mut public_ids: Vec<&str> =
        listed["items"].as_array().unwrap().iter().map(|s| s["public_id"].as_str().unwrap()).collect();
    public_ids.sort();
    let mut expected = vec![kept["public_id"].as_str().unwrap(), revoked["public_id"].as_str().unwrap()];
    expected.sort();
    assert_eq!(public_ids, expected);
    for token in &tokens {
        assert!(!listed.to_string().contains(token.as_str()), "a listing shows a token: {listed}");
    }

    // Revoke one by its public id: it and its index entry go; its token no longer works.
    let revoke_path = format!("{users_sessions}/{}", revoked["public_id"].as_str().unwrap());
    assert_eq!(app.delete(&revoke_path).status, 204);
    assert_problem(&app.get(&format!("/v1/sessions/{}", tokens[1])), 404);
    app.get(&format!("/get_session/{}", tokens[1])).assert(404, json!({ "error": "Session introuvable ou expirée" }));
    assert_problem(&app.delete(&revoke_path), 404);
    let members: Vec<String> =
        redis::cmd("ZRANGE").arg(format!("user_sessions:{}", user["id"])).arg(0).arg(-1).query(&mut redis).unwrap();
    assert_eq!(members, vec![digest(&tokens[0])]);
    assert_eq!(app.get(&users_sessions).json()["items"].as_array().unwrap().len(), 1);

    let dump = dump_everything(&mut redis);
    assert!(dump.iter().any(|(key, _)| key == &format!("hashed_session:{}", digest(&tokens[0]))), "{dump:?}");
    assert_nowhere(&dump, &tokens);
}

#[test]
fn revoking_by_public_id_is_limited_to_the_users_own_live_sessions() {
    let app = TestApp::spawn();
    let user = create_user(&app, "Doe", "John");
    let other = create_user(&app, "Roe", "Jane");
    let theirs = create_session(&app, &json!({ "user_id": other["id"] }));
    let anonymous = create_session(&app, &json!({}));
    let public_id = |s: &Value| s["public_id"].as_str().unwrap().to_owned();
    let path = |uid: &Value, pid: &str| format!("/v1/users/{uid}/sessions/{pid}");
    // Another user's session, a session of no user, a token, malformed public ids: 404.
    assert_problem(&app.delete(&path(&user["id"], &public_id(&theirs))), 404);
    assert_problem(&app.delete(&path(&user["id"], &public_id(&anonymous))), 404);
    assert_problem(&app.delete(&path(&other["id"], &token(&theirs))), 404);
    for bad in ["x", "0123456789ABCDEF0123456789abcdef01234567", &"a".repeat(41)] {
        assert_problem(&app.delete(&path(&other["id"], bad)), 404);
    }
    assert_problem(&app.delete(&format!("/v1/users/999999999/sessions/{}", public_id(&theirs))), 404);
    assert_eq!(app.get(&format!("/v1/sessions/{}", token(&theirs))).status, 200);
    // The owner's path revokes it.
    assert_eq!(app.delete(&path(&other["id"], &public_id(&theirs))).status, 204);
    assert_problem(&app.get(&format!("/v1/sessions/{}", token(&theirs))), 404);
}

/// A token as versions before token hashing made them (32 base64url characters), different in
/// every run so that runs against one shared database never meet each other's sessions.
fn old_layout_token() -> String {
    digest(&unique("old-token"))[..32].to_owned()
}

/// A `/v1` session as versions before token hashing wrote it (`git show 1a9eaec:src/store/sessions.rs`):
/// `session:<token>` with the data, `session_meta:<token>` with its owner and creation time, both
/// expiring, and the token itself in `user_sessions:<uid>`, scored by its expiry in milliseconds.
fn write_old_layout_session(redis: &mut redis::Connection, token: &str, user_id: u64, data: &str, ttl_ms: u64) {
    let (seconds, micros): (u64, u64) = redis::cmd("TIME").query(redis).unwrap();
    let expires = seconds * 1000 + micros / 1000 + ttl_ms;
    let index = format!("user_sessions:{user_id}");
    redis::pipe()
        .atomic()
        .cmd("SET")
        .arg(format!("session:{token}"))
        .arg(data)
        .arg("PX")
        .arg(ttl_ms)
        .cmd("HSET")
        .arg(format!("session_meta:{token}"))
        .arg("user_id")
        .arg(user_id.to_string())
        .arg("created_at")
        .arg("2026-01-02T03:04:05Z")
        .cmd("PEXPIRE")
        .arg(format!("session_meta:{token}"))
        .arg(ttl_ms)
        .cmd("ZADD")
        .arg(&index)
        .arg(expires)
        .arg(token)
        .cmd("PEXPIREAT")
        .arg(&index)
        .arg(expires)
        .exec(redis)
        .unwrap();
}

#[test]
fn sessions_stored_in_clear_by_earlier_versions_keep_working_by_their_token() {
    let app = TestApp::spawn();
    let Some(mut redis) = app.redis_or_skip() else { return };
    let user = create_user(&app, "Doe", "John");
    let uid = user["id"].as_u64().unwrap();
    // Old tokens had the same shape as new ones: 32 base64url characters.
    let old: Vec<String> = (0..3).map(|_| old_layout_token()).collect();
    for token in &old {
        assert_eq!(token.len(), 32);
        write_old_layout_session(&mut redis, token, uid, r#"{"old":true}"#, 600_000);
    }
    let fresh = create_session(&app, &json!({ "user_id": uid }));

    // Readable by token, through both APIs.
    let path = format!("/v1/sessions/{}", old[0]);
    let got = app.get(&path).json();
    assert_eq!(
        (&got["id"], &got["public_id"], &got["user_id"], &got["data"], &got["created_at"]),
        (
            &json!(old[0]),
            &json!(sha1_hex(&old[0])),
            &json!(uid),
            &json!({ "old": true }),
            &json!("2026-01-02T03:04:05Z")
        )
    );
    app.get(&format!("/get_session/{}", old[0])).assert(200, json!({ "old": true }));

    // Listed with public ids beside new sessions, tokens not shown.
    let listed = app.get(&format!("/v1/users/{uid}/sessions")).json();
    let mut public_ids: Vec<String> =
        listed["items"].as_array().unwrap().iter().map(|s| s["public_id"].as_str().unwrap().to_owned()).collect();
    public_ids.sort();
    let mut expected: Vec<String> = old.iter().map(|t| sha1_hex(t)).collect();
    expected.push(fresh["public_id"].as_str().unwrap().to_owned());
    expected.sort();
    assert_eq!(public_ids, expected);
    assert!(old.iter().all(|t| !listed.to_string().contains(t.as_str())), "{listed}");

    // Patchable by token: data and a new expiry. The refresh moves it under its digest (expiry
    // and index score kept, then extended), so a session kept alive does not keep its token in Redis.
    let res = app.send(app.request("PATCH", &path).json(&json!({ "data": { "old": false }, "ttl_seconds": 1200 })));
    assert_eq!(res.status, 200, "{}", res.text());
    let patched = res.json();
    assert_eq!((&patched["data"], &patched["ttl_seconds"]), (&json!({ "old": false }), &json!(1200)));
    assert_eq!(
        (&patched["user_id"], &patched["created_at"], &patched["public_id"]),
        (&json!(uid), &json!("2026-01-02T03:04:05Z"), &json!(sha1_hex(&digest(&old[0]))))
    );
    assert_eq!(app.get(&path).json()["data"], json!({ "old": false }));
    app.get(&format!("/get_session/{}", old[0])).assert(200, json!({ "old": false }));
    let moved: u32 = redis::cmd("EXISTS")
        .arg(format!("hashed_session:{}", digest(&old[0])))
        .arg(format!("hashed_session_meta:{}", digest(&old[0])))
        .query(&mut redis)
        .unwrap();
    assert_eq!(moved, 2);
    let pttl: i64 =
        redis::cmd("PTTL").arg(format!("hashed_session_meta:{}", digest(&old[0]))).query(&mut redis).unwrap();
    assert!(pttl > 1_100_000, "{pttl}");
    let index = format!("user_sessions:{uid}");
    let score: f64 = redis::cmd("ZSCORE").arg(&index).arg(digest(&old[0])).query(&mut redis).unwrap();
    let (seconds, _): (u64, u64) = redis::cmd("TIME").query(&mut redis).unwrap();
    assert!(score > (seconds * 1000 + 1_100_000) as f64, "{score}");
    assert_nowhere(&dump_everything(&mut redis), &old[..1]);
    // A data-only refresh moves it too, keeping its expiry.
    let res = app.send(app.request("PATCH", &format!("/v1/sessions/{}", old[2])).json(&json!({ "data": 2 })));
    assert_eq!((res.status, &res.json()["data"]), (200, &json!(2)));
    let score: Option<f64> = redis::cmd("ZSCORE").arg(&index).arg(digest(&old[2])).query(&mut redis).unwrap();
    assert!(score.is_some());
    assert_nowhere(&dump_everything(&mut redis), &old[2..]);

    // Deletable by token, with its metadata and index entry.
    assert_eq!(app.delete(&path).status, 204);
    assert_problem(&app.get(&path), 404);
    let member: Option<f64> = redis::cmd("ZSCORE").arg(&index).arg(digest(&old[0])).query(&mut redis).unwrap();
    assert_eq!(member, None);
    // One not refreshed, deleted by token in its old layout.
    let untouched = &old[1];
    let before: u32 = redis::cmd("EXISTS").arg(format!("session_meta:{untouched}")).query(&mut redis).unwrap();
    assert_eq!(before, 1);

    // Revocable by the public id its listing shows, and with the user's other sessions.
    assert_eq!(app.delete(&format!("/v1/users/{uid}/sessions/{}", sha1_hex(untouched))).status, 204);
    assert_problem(&app.get(&format!("/v1/sessions/{untouched}")), 404);
    let exists: u32 = redis::cmd("EXISTS")
        .arg(format!("session:{untouched}"))
        .arg(format!("session_meta:{untouched}"))
        .query(&mut redis)
        .unwrap();
    assert_eq!(exists, 0);
    let res = app.delete(&format!("/v1/users/{uid}/sessions"));
    assert_eq!(res.json(), json!({ "revoked": 2 }), "the refreshed old session and the new one");
    assert_problem(&app.get(&format!("/v1/sessions/{}", old[2])), 404);
    assert_problem(&app.get(&format!("/v1/sessions/{}", token(&fresh))), 404);
    assert_nowhere(&dump_everything(&mut redis), &old);
}

/// An old-layout session of a user that is deleted goes with the user.
#[test]
fn sessions_stored_in_clear_go_with_their_user() {
    let app = TestApp::spawn();
    let Some(mut redis) = app.redis_or_skip() else { return };
    let user = create_user(&app, "Doe", "John");
    let uid = user["id"].as_u64().unwrap();
    let old = old_layout_token();
    write_old_layout_session(&mut redis, &old, uid, "{}", 600_000);
    assert_eq!(app.delete(&format!("/v1/users/{uid}")).status, 204);
    assert_problem(&app.get(&format!("/v1/sessions/{old}")), 404);
    assert_nowhere(&dump_everything(&mut redis), &[old]);
}

/// An id can name two sessions: a token's (under its digest) and one that `/create_session` stored
/// under the same text. Logging out by that id ends both, so nothing answers at it afterwards
/// (found by schemathesis: its stateful phase saw a deleted session still served).
#[test]
fn logging_out_ends_every_session_the_id_names() {
    let app = TestApp::spawn();
    let user = create_user(&app, "Doe", "John");
    let session = create_session(&app, &json!({ "user_id": user["id"] }));
    let id = token(&session);
    let original = app.post_json("/create_session", &json!({ "session_id": id, "data": { "theme": "dark" } }));
    assert_eq!(original.status, 201, "{}", original.text());

    assert_eq!(app.delete(&format!("/v1/sessions/{id}")).status, 204);
    assert_problem(&app.get(&format!("/v1/sessions/{id}")), 404);
    assert_problem(&app.send(app.request("PATCH", &format!("/v1/sessions/{id}")).json(&json!({}))), 404);
    assert_eq!(app.get(&format!("/get_session/{id}")).status, 404);
    assert_eq!(app.get(&format!("/v1/users/{}/sessions", user["id"])).json(), json!({ "items": [] }));
}
