//! A user's sessions as a whole (issue 15): the per-user cap that evicts the oldest session, the
//! index that drops expired entries when it is written, revoking all sessions but one, and the
//! paged listing.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};

use super::session_kit::*;
use crate::helpers::{assert_problem, eventually, redis_snapshot, TestApp};

/// The members of a user's index, in score order.
fn index_members(redis: &mut redis::Connection, key: &str) -> Vec<String> {
    redis::cmd("ZRANGE").arg(key).arg(0).arg(-1).query(redis).unwrap()
}

fn alive(app: &TestApp, session: &Value) -> bool {
    let res = header_get(app, &token(session));
    assert!(matches!(res.status, 200 | 404), "{}", res.text());
    res.status == 200
}

/// Waits until Redis has expired a session's record.
fn wait_until_expired(redis: &mut redis::Connection, session: &Value) {
    let key = record_key(&token(session));
    let gone = eventually(Duration::from_secs(10), || redis::cmd("EXISTS").arg(&key).query::<u32>(redis).unwrap() == 0);
    assert!(gone, "a session of one second still in Redis after 10 s");
}

#[test]
fn creating_past_the_cap_evicts_the_users_oldest_session() {
    let Some(app) = TestApp::spawn_private(&[("SPIN_VARIABLE_TUNING", "max_sessions_per_user=3")]) else { return };
    let mut redis = app.redis().unwrap();
    let user = user(&app);
    let other = super::session_kit::user(&app);
    let mine: Vec<Value> = (0..3).map(|i| create(&app, &json!({ "user_id": user["id"], "data": i }))).collect();
    let theirs: Vec<Value> = (0..3).map(|_| create(&app, &json!({ "user_id": other["id"] }))).collect();
    let anonymous: Vec<Value> = (0..5).map(|_| create(&app, &json!({}))).collect();
    // The oldest by creation goes, even when a refresh made it the one that expires last.
    let res = header_patch(&app, &token(&mine[0]), &json!({ "ttl_seconds": 86_400 }));
    assert_eq!(res.status, 200, "{}", res.text());

    let fourth = create(&app, &json!({ "user_id": user["id"], "data": 3 }));
    assert!(!alive(&app, &mine[0]), "the oldest session survived a fourth");
    assert!(mine[1..].iter().chain([&fourth]).all(|s| alive(&app, s)));
    assert!(theirs.iter().chain(&anonymous).all(|s| alive(&app, s)), "another user's or no user's session went");
    let expected: Vec<String> = mine[1..].iter().chain([&fourth]).map(public_id).collect();
    assert_eq!(listed_public_ids(&app, &user["id"]), expected, "oldest first");

    let digests: Vec<String> = mine[1..].iter().chain([&fourth]).map(|s| digest(&token(s))).collect();
    assert_eq!(index_members(&mut redis, &by_creation_key(&user["id"])), digests);
    let by_expiry: BTreeSet<String> = index_members(&mut redis, &by_expiry_key(&user["id"])).into_iter().collect();
    assert_eq!(by_expiry, digests.iter().cloned().collect());
    assert_eq!(redis::cmd("EXISTS").arg(record_key(&token(&mine[0]))).query::<u32>(&mut redis).unwrap(), 0);

    // And again: the next oldest.
    let fifth = create(&app, &json!({ "user_id": user["id"] }));
    assert!(!alive(&app, &mine[1]));
    assert_eq!(listed_public_ids(&app, &user["id"]), vec![public_id(&mine[2]), public_id(&fourth), public_id(&fifth)]);
}

/// A rotated session keeps its creation time, so it keeps its place among the user's sessions:
/// in the listing, and as the next to be evicted.
#[test]
fn a_rotated_session_keeps_its_place_in_creation_order() {
    let Some(app) = TestApp::spawn_private(&[("SPIN_VARIABLE_TUNING", "max_sessions_per_user=2")]) else { return };
    let user = user(&app);
    let first = create(&app, &json!({ "user_id": user["id"] }));
    let second = create(&app, &json!({ "user_id": user["id"] }));
    let first = rotated(header_rotate(&app, &token(&first)));
    assert_eq!(listed_public_ids(&app, &user["id"]), vec![public_id(&first), public_id(&second)]);
    let third = create(&app, &json!({ "user_id": user["id"] }));
    assert!(!alive(&app, &first), "the oldest session, though rotated last, goes first");
    assert_eq!(listed_public_ids(&app, &user["id"]), vec![public_id(&second), public_id(&third)]);
}

/// Redis expires a session's record on its own, but not its entries in the user's index: the next
/// script that writes the index drops them, and they never count against the cap.
#[test]
fn expired_sessions_leave_the_index_when_it_is_written_and_do_not_count() {
    let Some(app) = TestApp::spawn_private(&[("SPIN_VARIABLE_TUNING", "max_sessions_per_user=2")]) else { return };
    let mut redis = app.redis().unwrap();
    let user = user(&app);
    let short = create(&app, &json!({ "user_id": user["id"], "ttl_seconds": 1 }));
    let long = create(&app, &json!({ "user_id": user["id"], "ttl_seconds": 600 }));
    wait_until_expired(&mut redis, &short);
    assert_problem(&header_get(&app, &token(&short)), 404);
    assert_eq!(listed_public_ids(&app, &user["id"]), vec![public_id(&long)], "the listing skips what expired");

    let newer = create(&app, &json!({ "user_id": user["id"] }));
    assert!(alive(&app, &long), "the expired session, not a live one, made room");
    let live = vec![digest(&token(&long)), digest(&token(&newer))];
    assert_eq!(index_members(&mut redis, &by_creation_key(&user["id"])), live);
    let by_expiry: BTreeSet<String> = index_members(&mut redis, &by_expiry_key(&user["id"])).into_iter().collect();
    assert_eq!(by_expiry, live.into_iter().collect());
}

#[test]
fn revoking_all_sessions_but_one() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    let user = user(&app);
    let other = super::session_kit::user(&app);
    let mine: Vec<Value> = (0..3).map(|i| create(&app, &json!({ "user_id": user["id"], "data": i }))).collect();
    let theirs = create(&app, &json!({ "user_id": other["id"] }));
    let anonymous = create(&app, &json!({}));
    let kept = &mine[1];
    let path = format!("/v1/users/{}/sessions", user["id"]);

    let res = app.delete(&format!("{path}?except={}", public_id(kept)));
    assert_eq!((res.status, res.json()), (200, json!({ "revoked": 2 })), "{}", res.text());
    assert!(alive(&app, kept) && alive(&app, &theirs) && alive(&app, &anonymous));
    assert!(!alive(&app, &mine[0]) && !alive(&app, &mine[2]));
    assert_eq!(listed_public_ids(&app, &user["id"]), vec![public_id(kept)]);
    assert_eq!(index_members(&mut redis, &by_creation_key(&user["id"])), vec![digest(&token(kept))]);
    assert_eq!(index_members(&mut redis, &by_expiry_key(&user["id"])), vec![digest(&token(kept))]);

    // A public id that names no live session of this user: 404, and nothing is revoked.
    let another = create(&app, &json!({ "user_id": user["id"] }));
    let before = redis_snapshot(&mut redis);
    for except in [
        public_id_of(&unknown_token()),
        public_id(&theirs),
        public_id(&anonymous),
        public_id(&mine[0]),
        token(kept),
        "x".to_owned(),
    ] {
        assert_problem(&app.delete(&format!("{path}?except={except}")), 404);
    }
    assert_problem(&app.delete(&format!("/v1/users/999999999/sessions?except={}", public_id(kept))), 404);
    assert_eq!(redis_snapshot(&mut redis), before, "a refused revocation wrote nothing");
    assert!(alive(&app, kept) && alive(&app, &another));

    // Nothing but the kept one left: none revoked.
    let res = app.delete(&format!("{path}?except={}", public_id(&another)));
    assert_eq!(res.json(), json!({ "revoked": 1 }));
    let res = app.delete(&format!("{path}?except={}", public_id(&another)));
    assert_eq!(res.json(), json!({ "revoked": 0 }));
    assert!(alive(&app, &another) && !alive(&app, kept));
}

/// An expired session is no longer one of the user's: it cannot be the one kept.
#[test]
fn the_session_kept_must_be_live() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    let user = user(&app);
    let short = create(&app, &json!({ "user_id": user["id"], "ttl_seconds": 1 }));
    let long = create(&app, &json!({ "user_id": user["id"] }));
    wait_until_expired(&mut redis, &short);
    let res = app.delete(&format!("/v1/users/{}/sessions?except={}", user["id"], public_id(&short)));
    assert_problem(&res, 404);
    assert!(alive(&app, &long), "nothing revoked");
}

/// Walks a user's sessions with this `limit`; returns the pages' sizes and the public ids seen.
fn walk(app: &TestApp, user_id: &Value, limit: u32) -> (Vec<usize>, Vec<String>) {
    let (mut sizes, mut seen) = (Vec::new(), Vec::new());
    let mut cursor = String::new();
    loop {
        let res = app.get(&format!("/v1/users/{user_id}/sessions?limit={limit}{cursor}"));
        assert_eq!(res.status, 200, "{}", res.text());
        let page = res.json();
        let items = page["items"].as_array().expect("items");
        for item in items {
            assert_representation(item, false);
            assert_eq!(item["user_id"], *user_id);
        }
        sizes.push(items.len());
        seen.extend(items.iter().map(public_id));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return (sizes, seen),
        }
        assert!(sizes.len() < 100, "the walk does not end");
    }
}

#[test]
fn the_listing_pages_through_a_users_sessions_oldest_first() {
    let app = TestApp::spawn();
    let user = user(&app);
    let sessions: Vec<Value> = (0..7).map(|i| create(&app, &json!({ "user_id": user["id"], "data": i }))).collect();
    let all: Vec<String> = sessions.iter().map(public_id).collect();
    let (sizes, seen) = walk(&app, &user["id"], 3);
    assert_eq!((sizes, &seen), (vec![3, 3, 1], &all));
    assert_eq!(walk(&app, &user["id"], 7), (vec![7], all.clone()));
    assert_eq!(walk(&app, &user["id"], 1000).1, all);

    // A cursor names a place, not an offset: sessions revoked between two pages, one already
    // seen and one not, make the walk skip nothing that is still there.
    let first = app.get(&format!("/v1/users/{}/sessions?limit=3", user["id"])).json();
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    for gone in [&sessions[1], &sessions[3]] {
        assert_eq!(app.delete(&format!("/v1/users/{}/sessions/{}", user["id"], public_id(gone))).status, 204);
    }
    let rest = app.get(&format!("/v1/users/{}/sessions?limit=3&cursor={cursor}", user["id"])).json();
    let rest: Vec<String> = rest["items"].as_array().unwrap().iter().map(public_id).collect();
    assert_eq!(rest, vec![all[4].clone(), all[5].clone(), all[6].clone()]);
}

#[test]
fn the_default_page_holds_fifty() {
    let app = TestApp::spawn();
    let user = user(&app);
    for _ in 0..51 {
        create(&app, &json!({ "user_id": user["id"], "ttl_seconds": 60 }));
    }
    let page = app.get(&format!("/v1/users/{}/sessions", user["id"])).json();
    assert_eq!(page["items"].as_array().unwrap().len(), 50);
    let cursor = page["next_cursor"].as_str().expect("a next page").to_owned();
    let last = app.get(&format!("/v1/users/{}/sessions?cursor={cursor}", user["id"])).json();
    assert_eq!((last["items"].as_array().unwrap().len(), &last["next_cursor"]), (1, &Value::Null));
}

#[test]
fn a_bad_limit_or_cursor_is_400_and_an_unknown_user_404() {
    let app = TestApp::spawn();
    let user = user(&app);
    create(&app, &json!({ "user_id": user["id"] }));
    let path = format!("/v1/users/{}/sessions", user["id"]);
    for query in ["limit=0", "limit=1001", "limit=-1", "limit=abc", "limit=1.5", "limit=", "cursor=!!!", "cursor=%00"] {
        assert_problem(&app.get(&format!("{path}?{query}")), 400);
    }
    assert_eq!(app.get(&format!("{path}?limit=1000")).status, 200);
    assert_problem(&app.get("/v1/users/999999999/sessions?limit=10"), 404);
}

/// A page costs one round trip to Redis, whatever its size: no reply grows without bound, and no
/// page is read session by session.
#[test]
fn each_page_is_one_round_trip() {
    let Some(app) = TestApp::spawn_observed(&[]) else { return };
    let user = user(&app);
    for i in 0..5 {
        create(&app, &json!({ "user_id": user["id"], "data": { "device": i } }));
    }
    // Load the listing's script into Redis's cache first: a script's very first run costs an extra
    // `EVAL` after the `EVALSHA` Redis did not know (`storage::redis_cost` measures that).
    assert_eq!(app.get(&format!("/v1/users/{}/sessions", user["id"])).status, 200);
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let seen = app.observe(|| app.get(&format!("/v1/users/{}/sessions?limit=2{cursor}", user["id"])));
        assert_eq!(seen.response.status, 200, "{}", seen.response.text());
        assert_eq!(seen.round_trips.len(), 1, "{:?}", seen.round_trips);
        pages += 1;
        match seen.response.json()["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let seen = app.observe(|| app.get(&format!("/v1/users/{}/sessions?limit=1000", user["id"])));
    assert_eq!((seen.response.json()["items"].as_array().unwrap().len(), seen.round_trips.len()), (5, 1));
}
