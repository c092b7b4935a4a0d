//! Many clients at once doing a random mix of user and session operations through both APIs, then
//! a check of the data model's invariants in Redis.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Instant;

use serde_json::json;

use crate::helpers::{indexed_users, session_indexes, walk_users, TestApp};

/// A tiny deterministic PRNG (xorshift) so a failing run can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn random_concurrent_mix_keeps_the_invariants() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let clients = 8;
    let ops_per_client = 60;
    // When each create was acknowledged, when each successful delete was *sent* (it may take effect
    // any time after), and each page walk with its start and end.
    let created: Mutex<Vec<(u64, Instant)>> = Mutex::new(Vec::new());
    let deleted: Mutex<HashMap<u64, Instant>> = Mutex::new(HashMap::new());
    let walked: Mutex<Vec<(Instant, Vec<u64>, Instant)>> = Mutex::new(Vec::new());

    std::thread::scope(|s| {
        for client in 0..clients {
            let (app, created, deleted, walked) = (&app, &created, &deleted, &walked);
            s.spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((client as u64 + 1) * 0x1000_0000_01B3));
                let mut sessions: Vec<String> = Vec::new();
                for _ in 0..ops_per_client {
                    let known: Vec<u64> = created.lock().unwrap().iter().map(|(id, _)| *id).collect();
                    let pick =
                        |rng: &mut Rng| known.get(rng.below(known.len().max(1) as u64) as usize).copied().unwrap_or(1);
                    match rng.below(10) {
                        0 | 1 => {
                            let res =
                                app.post_json("/v1/users", &json!({ "nom": format!("c{client}"), "prenom": "x" }));
                            assert_eq!(res.status, 201);
                            created.lock().unwrap().push((res.json()["id"].as_u64().unwrap(), Instant::now()));
                        }
                        2 => {
                            let res =
                                app.post_json("/create_user", &json!({ "nom": format!("c{client}"), "prenom": "y" }));
                            assert_eq!(res.status, 201);
                            created.lock().unwrap().push((res.json()["user_id"].as_u64().unwrap(), Instant::now()));
                        }
                        3 => {
                            let id = pick(&mut rng);
                            let res = app.send(
                                app.request("PATCH", &format!("/v1/users/{id}")).json(&json!({ "prenom": "patched" })),
                            );
                            assert!([200, 404].contains(&res.status), "{}", res.text());
                        }
                        4 => {
                            let id = pick(&mut rng);
                            let path = if rng.below(2) == 0 {
                                format!("/v1/users/{id}")
                            } else {
                                format!("/delete_user/{id}")
                            };
                            let sent = Instant::now();
                            let res = app.delete(&path);
                            assert!([200, 204, 404].contains(&res.status), "{}", res.text());
                            if res.status != 404 {
                                assert!(deleted.lock().unwrap().insert(id, sent).is_none(), "user {id} deleted twice");
                            }
                        }
                        5 | 6 => {
                            let id = pick(&mut rng);
                            let res = app.post_json("/v1/sessions", &json!({ "user_id": id, "data": { "c": client } }));
                            assert!([201, 422].contains(&res.status), "{}", res.text());
                            if res.status == 201 {
                                sessions.push(res.json()["id"].as_str().unwrap().to_owned());
                            }
                        }
                        7 => {
                            if let Some(sid) = sessions.pop() {
                                let res = app.delete(&format!("/v1/sessions/{sid}"));
                                assert!([204, 404].contains(&res.status));
                            }
                        }
                        8 => {
                            let id = pick(&mut rng);
                            let res = app.delete(&format!("/v1/users/{id}/sessions"));
                            assert!([200, 404].contains(&res.status));
                        }
                        _ => {
                            let start = Instant::now();
                            let ids = walk_users(app, 7);
                            walked.lock().unwrap().push((start, ids, Instant::now()));
                        }
                    }
                }
            });
        }
    });

    let created = created.into_inner().unwrap();
    let deleted = deleted.into_inner().unwrap();
    let mut redis = app.redis().unwrap();

    // No id was handed out twice.
    let distinct: BTreeSet<u64> = created.iter().map(|(id, _)| *id).collect();
    assert_eq!(distinct.len(), created.len(), "an id was reused");

    // Every index entry points to an existing user, and every surviving user is indexed.
    let indexed: BTreeSet<u64> = indexed_users(&mut redis);
    let surviving: BTreeSet<u64> = distinct.iter().filter(|id| !deleted.contains_key(id)).copied().collect();
    assert_eq!(indexed, surviving);
    for id in &surviving {
        let exists: bool = redis::cmd("EXISTS").arg(format!("user:{id}")).query(&mut redis).unwrap();
        assert!(exists, "user {id}");
    }
    for id in deleted.keys() {
        let exists: bool = redis::cmd("EXISTS").arg(format!("user:{id}")).query(&mut redis).unwrap();
        assert!(!exists, "deleted user {id} is back");
    }

    // No session outlives its user (`session_record:*`, whose second line is its user's id); every
    // session index belongs to a live user.
    let records: Vec<String> = redis::cmd("SCAN")
        .cursor_arg(0)
        .arg("MATCH")
        .arg("session_record:*")
        .clone()
        .iter(&mut redis)
        .unwrap()
        .collect();
    for key in &records {
        let record: Option<String> = redis::cmd("GET").arg(key).query(&mut redis).unwrap();
        let uid = record.as_deref().and_then(|r| r.split('\n').nth(1)).filter(|u| !u.is_empty());
        if let Some(uid) = uid {
            assert!(surviving.contains(&uid.parse().unwrap()), "{key} belongs to deleted user {uid}");
        }
    }
    for (index, uid) in session_indexes(&mut redis) {
        assert!(surviving.contains(&uid), "{index} outlived its user");
    }

    // Every walk returned ascending ids, each once, including every user that existed for the
    // whole walk: acknowledged before it started, and not deleted before it ended.
    let mut checked = 0;
    for (start, ids, end) in walked.into_inner().unwrap() {
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "a walk repeated or reordered users: {ids:?}");
        let returned: BTreeSet<u64> = ids.iter().copied().collect();
        for (id, acked) in &created {
            let deleted_during = deleted.get(id).is_some_and(|sent| *sent < end);
            if *acked < start && !deleted_during {
                assert!(returned.contains(id), "user {id} existed for the whole walk but was skipped");
                checked += 1;
            }
        }
    }
    assert!(checked > 0, "no walk overlapped existing users; the test proved nothing");
    // A final walk after the storm returns every surviving user exactly once.
    assert_eq!(walk_users(&app, 9), surviving.iter().copied().collect::<Vec<_>>());
}
