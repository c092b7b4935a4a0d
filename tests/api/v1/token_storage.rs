//! `/v1` session tokens are never stored in clear: sessions live under the SHA-256 of their token,
//! listings show public ids, one session can be revoked by its public id, and sessions stored by
//! earlier versions are no longer found by `/v1` (their users log in again), while user records
//! stay.

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
    for index in ["user_sessions_by_creation", "user_sessions_by_expiry"] {
        let index = format!("{index}:{}", user["id"]);
        let members: Vec<String> = redis::cmd("ZRANGE").arg(&index).arg(0).arg(-1).query(&mut redis).unwrap();
        assert_eq!(members, vec![digest(&tokens[0])], "{index}");
    }
    assert_eq!(app.get(&users_sessions).json()["items"].as_array().unwrap().len(), 1);

    let dump = dump_everything(&mut redis);
    assert!(dump.iter().any(|(key, _)| key == &format!("session_record:{}", digest(&tokens[0]))), "{dump:?}");
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

/// A token as earlier versions made them (32 base64url characters, as now), different in every run
/// so that runs against one shared database never meet each other's sessions.
fn old_token() -> String {
    digest(&unique("old-token"))[..32].to_owned()
}

/// A `/v1` session as versions before token hashing wrote it (`git show 1a9eaec:src/store/sessions.rs`):
/// `session:<token>` with the data, `session_meta:<token>` with its owner, the token in
/// `user_sessions:<uid>`.
fn write_clear_layout_session(redis: &mut redis::Connection, token: &str, user_id: u64, data: &str) {
    redis::pipe()
        .cmd("SET")
        .arg(format!("session:{token}"))
        .arg(data)
        .arg("PX")
        .arg(600_000)
        .cmd("HSET")
        .arg(format!("session_meta:{token}"))
        .arg("user_id")
        .arg(user_id.to_string())
        .cmd("ZADD")
        .arg(format!("user_sessions:{user_id}"))
        .arg(1)
        .arg(token)
        .exec(redis)
        .unwrap();
}

/// A `/v1` session as the versions with digests before one-key sessions wrote it (`git show
/// a6d2ca4:src/store/sessions.rs`): `hashed_session:<digest>` with the data, and
/// `hashed_session_meta:<digest>` with its owner.
fn write_digest_layout_session(redis: &mut redis::Connection, token: &str, user_id: u64, data: &str) {
    let digest = digest(token);
    redis::pipe()
        .cmd("SET")
        .arg(format!("hashed_session:{digest}"))
        .arg(data)
        .arg("PX")
        .arg(600_000)
        .cmd("HSET")
        .arg(format!("hashed_session_meta:{digest}"))
        .arg("user_id")
        .arg(user_id.to_string())
        .cmd("ZADD")
        .arg(format!("user_sessions:{user_id}"))
        .arg(1)
        .arg(&digest)
        .exec(redis)
        .unwrap();
}

/// After an upgrade, the sessions earlier versions stored are not found by `/v1` (their users log
/// in again), and nothing of theirs is read into a listing; the users themselves are untouched. The
/// original `/get_session/<id>` still reads `session:<id>`, as the Flask service stored it.
#[test]
fn sessions_of_earlier_versions_are_not_found_and_users_stay() {
    let app = TestApp::spawn();
    let Some(mut redis) = app.redis_or_skip() else { return };
    let user = create_user(&app, "Doe", "John");
    let uid = user["id"].as_u64().unwrap();
    let (clear, hashed) = (old_token(), old_token());
    write_clear_layout_session(&mut redis, &clear, uid, r#"{"old":1}"#);
    write_digest_layout_session(&mut redis, &hashed, uid, r#"{"old":2}"#);
    for token in [&clear, &hashed] {
        assert_problem(&app.get(&format!("/v1/sessions/{token}")), 404);
        assert_problem(&app.send(app.request("GET", "/v1/session").header("x-session-token", token.as_str())), 404);
        let patch = app.request("PATCH", &format!("/v1/sessions/{token}")).json(&json!({ "ttl_seconds": 60 }));
        assert_problem(&app.send(patch), 404);
        assert_problem(&app.send(app.request("POST", &format!("/v1/sessions/{token}/rotate"))), 404);
    }
    assert_eq!(app.get(&format!("/v1/users/{uid}/sessions")).json(), json!({ "items": [], "next_cursor": null }));
    let got = app.get(&format!("/v1/users/{uid}"));
    assert_eq!((got.status, &got.json()["nom"]), (200, &json!("Doe")));
    app.get(&format!("/get_session/{clear}")).assert(200, json!({ "old": 1 }));
    assert_eq!(app.get(&format!("/get_session/{hashed}")).status, 404);
    // The user can still be deleted, and logs in again with a session of this version.
    let fresh = create_session(&app, &json!({ "user_id": uid }));
    assert_eq!(app.get(&format!("/v1/sessions/{}", token(&fresh))).status, 200);
    assert_eq!(app.delete(&format!("/v1/users/{uid}")).status, 204);
    assert_problem(&app.get(&format!("/v1/sessions/{}", token(&fresh))), 404);
}
