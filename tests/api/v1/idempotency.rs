//! `Idempotency-Key` on `POST /v1/users`: a retry gets the same answer and creates nothing; the
//! same key with another body is 422; malformed keys are 400; concurrent retries create one user.

use std::sync::Barrier;

use reqwest::header::HeaderValue;
use serde_json::{json, Value};

use super::token_storage::digest;
use crate::helpers::{assert_problem, redis_snapshot, skip, spin_bin, unique, TestApp, TestResponse};

fn create_with_key(app: &TestApp, key: impl Into<HeaderValue>, body: &Value) -> TestResponse {
    app.send(app.request("POST", "/v1/users").header("idempotency-key", key.into()).json(body))
}

/// Status, body and the headers that describe the answer.
fn answer(res: &TestResponse) -> (u16, String, Option<String>, Option<String>) {
    (res.status, res.text(), res.header("etag").map(str::to_owned), res.header("location").map(str::to_owned))
}

fn users_indexed(redis: &mut redis::Connection) -> u64 {
    redis::cmd("ZCARD").arg("users:index").query(redis).unwrap()
}

/// What a replay must leave as it was, read from keys this test owns (other tests write to a
/// shared database meanwhile): the user's record, the key's record, and the users created after
/// `user_id` that carry one of the test's own `noms` (ids only grow, so a user a replay made would
/// be among them).
fn owned_state(
    redis: &mut redis::Connection,
    user_id: u64,
    key: &str,
    noms: &[&str],
) -> (Vec<Option<Vec<u8>>>, Vec<u64>) {
    // DUMP, as the user is a string and the key's record a hash.
    let records: Vec<Option<Vec<u8>>> = [format!("user:{user_id}"), format!("idempotency_key:{}", digest(key))]
        .iter()
        .map(|k| redis::cmd("DUMP").arg(k).query(redis).unwrap())
        .collect();
    assert!(records.iter().all(Option::is_some), "the user and the key's record are where this test looks");
    let later: Vec<u64> =
        redis::cmd("ZRANGEBYSCORE").arg("users:index").arg(format!("({user_id}")).arg("+inf").query(redis).unwrap();
    let namesakes = later
        .into_iter()
        .filter(|id| {
            // A user deleted by another test since the ZRANGEBYSCORE is not a namesake.
            let record: Option<String> = redis::cmd("GET").arg(format!("user:{id}")).query(redis).unwrap();
            record.is_some_and(|r| noms.iter().any(|nom| serde_json::from_str::<Value>(&r).unwrap()["nom"] == *nom))
        })
        .collect();
    (records, namesakes)
}

#[test]
fn a_retry_with_the_same_key_gets_the_same_answer_and_creates_nothing() {
    let app = TestApp::spawn();
    let key = unique("retry");
    let nom = unique("Doe");
    let body = json!({ "nom": nom, "prenom": "John" });
    let first = create_with_key(&app, HeaderValue::from_str(&key).unwrap(), &body);
    assert_eq!(first.status, 201, "{}", first.text());
    assert_eq!(first.header("idempotent-replayed"), None);
    let id = first.json()["id"].as_u64().unwrap();
    let mut redis = app.redis();
    let before = redis.as_mut().map(|redis| owned_state(redis, id, &key, &[&nom]));

    // The same request, with its fields in another order: the same user, nothing written.
    let retry = create_with_key(&app, HeaderValue::from_str(&key).unwrap(), &json!({ "prenom": "John", "nom": nom }));
    assert_eq!(answer(&retry), answer(&first));
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    match (before, redis.as_mut()) {
        (Some(before), Some(redis)) => {
            assert_eq!(owned_state(redis, id, &key, &[&nom]), before, "a replay writes nothing");
            assert_eq!(before.1, Vec::<u64>::new(), "no namesake before the replay either");
        }
        _ => skip("checks inside Redis that a replay writes nothing, and APP_URL is set without REDIS_URL"),
    }

    // The answer stays the first one even after the user changed.
    let path = first.header("location").unwrap().to_owned();
    let res = app.send(app.request("PATCH", &path).json(&json!({ "prenom": "Jane" })));
    assert_eq!(res.status, 200);
    assert_eq!(answer(&create_with_key(&app, HeaderValue::from_str(&key).unwrap(), &body)), answer(&first));

    // Without a key, or with another, the same body creates another user.
    let other = app.post_json("/v1/users", &body).json();
    assert_ne!(other["id"], first.json()["id"]);
    let another = create_with_key(&app, HeaderValue::from_str(&unique("other")).unwrap(), &body).json();
    assert_ne!(another["id"], first.json()["id"]);
}

#[test]
fn the_same_key_with_another_body_is_422_and_writes_nothing() {
    let app = TestApp::spawn();
    let key = unique("reused");
    let (nom, other_nom) = (unique("Doe"), unique("Roe"));
    let first = create_with_key(&app, HeaderValue::from_str(&key).unwrap(), &json!({ "nom": nom, "prenom": "John" }));
    assert_eq!(first.status, 201);
    let id = first.json()["id"].as_u64().unwrap();
    let mut redis = app.redis();
    let before = redis.as_mut().map(|redis| owned_state(redis, id, &key, &[&nom, &other_nom]));
    for body in [json!({ "nom": nom, "prenom": "Jane" }), json!({ "nom": other_nom, "prenom": "John" })] {
        let res = create_with_key(&app, HeaderValue::from_str(&key).unwrap(), &body);
        assert_problem(&res, 422);
        assert!(res.json()["detail"].as_str().unwrap().contains("Idempotency-Key"), "{}", res.text());
    }
    match (before, redis.as_mut()) {
        (Some(before), Some(redis)) => assert_eq!(owned_state(redis, id, &key, &[&nom, &other_nom]), before),
        _ => skip("checks inside Redis that a refused key writes nothing, and APP_URL is set without REDIS_URL"),
    }
    // The first request can still be replayed.
    assert_eq!(
        answer(&create_with_key(&app, HeaderValue::from_str(&key).unwrap(), &json!({ "nom": nom, "prenom": "John" }))),
        answer(&first)
    );
}

#[test]
fn malformed_keys_are_400_and_write_nothing() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    let before = redis_snapshot(&mut redis);
    let body = json!({ "nom": "Doe", "prenom": "John" });
    let too_long = "k".repeat(256);
    let malformed: Vec<HeaderValue> = vec![
        HeaderValue::from_static(""),
        HeaderValue::from_str(&too_long).unwrap(),
        HeaderValue::from_bytes("clé".as_bytes()).unwrap(),
        HeaderValue::from_bytes(b"a\tb").unwrap(),
    ];
    for key in malformed {
        let res = create_with_key(&app, key.clone(), &body);
        assert_problem(&res, 400);
        assert!(res.json()["detail"].as_str().unwrap().contains("Idempotency-Key"), "{key:?}: {}", res.text());
    }
    // A value that is not UTF-8: the service answers 400 under the test host; real Spin (4.0.2)
    // answers 500 with an empty body itself, without running the component. Nothing is written
    // either way.
    let res = create_with_key(&app, HeaderValue::from_bytes(b"\xff").unwrap(), &body);
    if spin_bin().is_some() {
        assert_eq!((res.status, res.text()), (500, String::new()), "{:?}", app.traps());
    } else {
        assert_problem(&res, 400);
    }
    assert_eq!(redis_snapshot(&mut redis), before);
    // The longest key and every printable character are accepted.
    let longest = "~".repeat(255);
    assert_eq!(create_with_key(&app, HeaderValue::from_str(&longest).unwrap(), &body).status, 201);
    let printable: String = (b' '..=b'~').map(char::from).collect::<String>().trim().to_owned();
    assert_eq!(create_with_key(&app, HeaderValue::from_str(&printable).unwrap(), &body).status, 201);
    assert_eq!(users_indexed(&mut redis), 2);
    // The key is not stored: only its digest names its record.
    let keys: Vec<String> = redis::cmd("SCAN").cursor_arg(0).clone().iter(&mut redis).unwrap().collect();
    assert_eq!(keys.iter().filter(|k| k.starts_with("idempotency_key:")).count(), 2, "{keys:?}");
    assert!(keys.iter().all(|k| !k.contains(&longest)));
    let ttl: i64 = redis::cmd("TTL")
        .arg(keys.iter().find(|k| k.starts_with("idempotency_key:")).unwrap())
        .query(&mut redis)
        .unwrap();
    assert!((86_390..=86_400).contains(&ttl), "remembered for 24 hours: {ttl}");
}

#[test]
fn twenty_concurrent_requests_with_one_key_create_one_user() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    let key = unique("storm");
    let body = json!({ "nom": "Storm", "prenom": "Twenty" });
    let barrier = Barrier::new(20);
    let answers: Vec<TestResponse> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..20)
            .map(|_| {
                let (app, barrier, key, body) = (&app, &barrier, &key, &body);
                s.spawn(move || {
                    barrier.wait();
                    create_with_key(app, HeaderValue::from_str(key).unwrap(), body)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert_eq!(users_indexed(&mut redis), 1, "exactly one user");
    let created: Vec<&TestResponse> = answers.iter().filter(|r| r.status == 201).collect();
    // The key's record is written by the script that creates the user, and Redis runs scripts one at
    // a time: no request can see the first one in flight, so none is 409 here.
    for res in &answers {
        assert!(res.status == 201 || res.status == 409, "{}: {}", res.status, res.text());
        if res.status == 409 {
            assert_problem(res, 409);
        }
    }
    assert!(!created.is_empty());
    assert!(created.iter().all(|r| answer(r) == answer(created[0])), "identical answers");
    assert_eq!(created.iter().filter(|r| r.header("idempotent-replayed").is_none()).count(), 1, "one creation");
}
