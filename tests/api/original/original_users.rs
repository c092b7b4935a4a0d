//! The original service's user endpoints: `/create_user`, `/get_user/<id>`, `/delete_user/<id>`,
//! `/list_users`, with the exact statuses and bodies their users know.

use serde_json::{json, Value};

use crate::helpers::{redis_snapshot, unique, TestApp};

const NOT_FOUND: &str = "Utilisateur non trouvé";
const FIELDS_REQUIRED: &str = "Les champs 'nom' et 'prenom' sont obligatoires";

fn create(app: &TestApp, nom: &str, prenom: &str) -> u64 {
    let res = app.post_json("/create_user", &json!({ "nom": nom, "prenom": prenom }));
    assert_eq!(res.status, 201, "{}", res.text());
    let body = res.json();
    assert_eq!(body["message"], "Utilisateur créé");
    body["user_id"].as_u64().expect("user_id is an integer")
}

#[test]
fn create_then_get_returns_the_user() {
    let app = TestApp::spawn();
    let nom = unique("Doe");
    let id = create(&app, &nom, "John");
    app.get(&format!("/get_user/{id}")).assert(200, json!({ "id": id, "nom": nom, "prenom": "John" }));
}

#[test]
fn first_user_of_an_empty_database_gets_id_1_and_flask_bytes() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let res = app.post_json("/create_user", &json!({ "nom": "Doe", "prenom": "John" }));
    assert_eq!(res.status, 201);
    assert_eq!(res.header("content-type"), Some("application/json"));
    // Byte-for-byte what Flask's jsonify answered.
    assert_eq!(res.text(), "{\"message\":\"Utilisateur cr\\u00e9\\u00e9\",\"user_id\":1}\n");
    let res = app.get("/get_user/1");
    assert_eq!(res.text(), "{\"id\":1,\"nom\":\"Doe\",\"prenom\":\"John\"}\n");
}

#[test]
fn the_original_keys_are_written() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let id = create(&app, "Doe", "John");
    let mut redis = app.redis().unwrap();
    let counter: u64 = redis::cmd("GET").arg("user_id_counter").query(&mut redis).unwrap();
    assert_eq!(counter, id);
    let stored: String = redis::cmd("GET").arg(format!("user:{id}")).query(&mut redis).unwrap();
    let stored: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!((&stored["id"], &stored["nom"], &stored["prenom"]), (&json!(id), &json!("Doe"), &json!("John")));
}

#[test]
fn a_user_written_by_the_flask_service_is_readable_and_deletable() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    // Exactly what redis-py stored: json.dumps with its default separators and ASCII escapes.
    redis::cmd("SET")
        .arg("user:7")
        .arg(r#"{"id": 7, "nom": "Z\u00fcrcher", "prenom": "Ana"}"#)
        .exec(&mut redis)
        .unwrap();
    app.get("/get_user/7").assert(200, json!({ "id": 7, "nom": "Zürcher", "prenom": "Ana" }));
    app.delete("/delete_user/7").assert(200, json!({ "message": "Utilisateur supprimé" }));
    app.get("/get_user/7").assert(404, json!({ "error": NOT_FOUND }));
}

#[test]
fn unknown_and_malformed_ids_are_not_found() {
    let app = TestApp::spawn();
    for path in ["999999999999", "abc", "0", "-1", "007", "1.5", "99999999999999999999999", "1%2F2"] {
        app.get(&format!("/get_user/{path}")).assert(404, json!({ "error": NOT_FOUND }));
        app.delete(&format!("/delete_user/{path}")).assert(404, json!({ "error": NOT_FOUND }));
    }
}

#[test]
fn delete_removes_the_user_once() {
    let app = TestApp::spawn();
    let id = create(&app, &unique("Doe"), "John");
    app.delete(&format!("/delete_user/{id}")).assert(200, json!({ "message": "Utilisateur supprimé" }));
    app.get(&format!("/get_user/{id}")).assert(404, json!({ "error": NOT_FOUND }));
    app.delete(&format!("/delete_user/{id}")).assert(404, json!({ "error": NOT_FOUND }));
    let listed = app.get("/list_users").json();
    assert!(!listed.as_array().unwrap().iter().any(|u| u["id"] == json!(id)));
}

#[test]
fn missing_or_empty_fields_are_rejected() {
    let app = TestApp::spawn();
    for body in [
        json!({}),
        json!({ "nom": "Doe" }),
        json!({ "prenom": "John" }),
        json!({ "nom": "", "prenom": "John" }),
        json!({ "nom": "Doe", "prenom": "" }),
        json!({ "nom": null, "prenom": "John" }),
        json!({ "nom": 5, "prenom": "John" }),
    ] {
        app.post_json("/create_user", &body).assert(400, json!({ "error": FIELDS_REQUIRED }));
    }
}

#[test]
fn list_users_returns_every_user_in_ascending_id_order() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let ids: Vec<u64> = (0..5).map(|i| create(&app, &format!("Nom{i}"), &format!("Prenom{i}"))).collect();
    app.delete(&format!("/delete_user/{}", ids[2])).assert(200, json!({ "message": "Utilisateur supprimé" }));
    let expected: Vec<Value> = [0, 1, 3, 4]
        .iter()
        .map(|&i| json!({ "id": ids[i], "nom": format!("Nom{i}"), "prenom": format!("Prenom{i}") }))
        .collect();
    app.get("/list_users").assert(200, Value::Array(expected));
}

#[test]
fn list_users_of_an_empty_database_is_an_empty_array() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let res = app.get("/list_users");
    assert_eq!((res.status, res.text().as_str()), (200, "[]\n"));
}

#[test]
fn list_users_of_thousands_is_in_numeric_id_order() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    // 2,500 users written straight into Redis the way the service writes them, without 2,500 HTTP
    // calls: enough for ids whose text order is not their numeric order (9 < 10 < 100), and for a
    // large index (Redis keeps small sorted sets in another encoding).
    let mut pipe = redis::pipe();
    for id in 1..=2500u64 {
        pipe.cmd("SET")
            .arg(format!("user:{id}"))
            .arg(json!({ "id": id, "nom": "N", "prenom": "P" }).to_string())
            .ignore();
        pipe.cmd("ZADD").arg("users:index").arg(id).arg(id).ignore();
    }
    pipe.exec(&mut redis).unwrap();
    let listed = app.get("/list_users").json();
    let ids: Vec<u64> = listed.as_array().unwrap().iter().map(|u| u["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, (1..=2500).collect::<Vec<_>>());
}

#[test]
fn concurrent_creates_get_distinct_ids_that_are_all_listed() {
    let app = TestApp::spawn();
    let prenom = unique("concurrent");
    let ids: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..50)
            .map(|i| {
                let (app, prenom) = (&app, &prenom);
                s.spawn(move || create(app, &format!("Nom{i}"), prenom))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 50, "ids: {ids:?}");
    let listed = app.get("/list_users").json();
    let listed_ids: Vec<u64> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["prenom"] == json!(prenom))
        .map(|u| u["id"].as_u64().unwrap())
        .collect();
    assert_eq!(listed_ids, distinct, "listed in ascending order, all 50 present");
}

#[test]
fn malformed_bodies_are_rejected_and_write_nothing() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    create(&app, "Doe", "John");
    let mut redis = app.redis().unwrap();
    let before = redis_snapshot(&mut redis);

    let cases: [(&str, Option<&str>, u16, &str); 7] = [
        ("not json", Some("application/json"), 400, "Le corps de la requête n'est pas un JSON valide"),
        ("{\"nom\": \"Doe\", ", Some("application/json"), 400, "Le corps de la requête n'est pas un JSON valide"),
        ("", Some("application/json"), 400, "Le corps de la requête n'est pas un JSON valide"),
        ("[\"Doe\", \"John\"]", Some("application/json"), 400, "Le corps de la requête doit être un objet JSON"),
        ("\"Doe\"", Some("application/json"), 400, "Le corps de la requête doit être un objet JSON"),
        (
            "{\"nom\": \"Doe\", \"prenom\": \"John\"}",
            Some("text/plain"),
            415,
            "Le corps de la requête doit être du JSON (Content-Type: application/json)",
        ),
        (
            "{\"nom\": \"Doe\", \"prenom\": \"John\"}",
            None,
            415,
            "Le corps de la requête doit être du JSON (Content-Type: application/json)",
        ),
    ];
    for (body, content_type, status, message) in cases {
        let mut req = app.request("POST", "/create_user").body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        app.send(req).assert(status, json!({ "error": message }));
    }
    assert_eq!(redis_snapshot(&mut redis), before, "a rejected request changed Redis");
}

#[test]
fn wrong_methods_get_405_with_allow() {
    let app = TestApp::spawn();
    for (method, path, allow) in [
        ("GET", "/create_user", "OPTIONS, POST"),
        ("PUT", "/create_user", "OPTIONS, POST"),
        ("POST", "/get_user/1", "GET, HEAD, OPTIONS"),
        ("DELETE", "/get_user/1", "GET, HEAD, OPTIONS"),
        ("GET", "/delete_user/1", "DELETE, OPTIONS"),
        ("POST", "/list_users", "GET, HEAD, OPTIONS"),
    ] {
        let res = app.send(app.request(method, path));
        assert_eq!(res.header("allow"), Some(allow), "{method} {path}");
        res.assert(405, json!({ "error": "Méthode non autorisée" }));
    }
}

#[test]
fn unicode_names_round_trip() {
    let app = TestApp::spawn();
    let nom = format!("{} Zoë 李 🦀 e\u{301}", unique("u"));
    let id = create(&app, &nom, "Łukasz");
    app.get(&format!("/get_user/{id}")).assert(200, json!({ "id": id, "nom": nom, "prenom": "Łukasz" }));
}

/// Stores records as another program (or a reindexed old database) may have left them, indexed,
/// beside one user of the service: fields of other types, a record that is not an object, and
/// one that is not JSON. Returns the service's user's id.
fn store_foreign_records(app: &TestApp) -> u64 {
    let id = create(app, "Doe", "John");
    let mut redis = app.redis().unwrap();
    let records: [(u64, &[u8]); 5] = [
        (777, br#"{"id":777,"nom":42,"prenom":null}"#),
        (778, br#"[1, 2]"#),
        (779, br#"{"prenom": 1.5, "nom": {"b": [true], "a": "\u00e9"}, "extra": "hidden", "id": "779"}"#),
        (780, b"not json \x1e at all"),
        (781, br#"{"id": 781, "nom": "Only"}"#),
    ];
    let mut pipe = redis::pipe();
    for (key_id, record) in records {
        pipe.cmd("SET").arg(format!("user:{key_id}")).arg(record).ignore();
        pipe.cmd("ZADD").arg("users:index").arg(key_id).arg(key_id).ignore();
    }
    pipe.exec(&mut redis).unwrap();
    id
}

#[test]
fn records_another_program_wrote_are_shown_as_stored() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let id = store_foreign_records(&app);
    // Flask's jsonify(json.loads(record)), limited to the three fields the endpoints always showed.
    let res = app.get("/get_user/777");
    assert_eq!((res.status, res.text().as_str()), (200, "{\"id\":777,\"nom\":42,\"prenom\":null}\n"));
    let res = app.get("/get_user/779");
    let shown = "{\"id\":\"779\",\"nom\":{\"a\":\"\\u00e9\",\"b\":[true]},\"prenom\":1.5}";
    assert_eq!((res.status, res.text()), (200, format!("{shown}\n")));
    let res = app.get("/get_user/781");
    assert_eq!((res.status, res.text().as_str()), (200, "{\"id\":781,\"nom\":\"Only\"}\n"));

    // Records that are not JSON objects: a clear error for the one asked for, logged by its key.
    for key_id in [778, 780] {
        app.get(&format!("/get_user/{key_id}")).assert(500, json!({ "error": "Erreur interne du serveur" }));
        assert!(app.stderr_says(&format!("user:{key_id} is not a JSON object")));
    }
    assert_eq!(app.traps(), Vec::<String>::new());

    // The listing shows everyone else, as stored, in id order, and says what it left out.
    let res = app.get("/list_users");
    let expected = format!(
        "[{{\"id\":{id},\"nom\":\"Doe\",\"prenom\":\"John\"}},{{\"id\":777,\"nom\":42,\"prenom\":null}},{shown},{{\"id\":781,\"nom\":\"Only\"}}]\n"
    );
    assert_eq!((res.status, res.text()), (200, expected));
    for key_id in [778, 780] {
        assert!(app.stderr_says(&format!("user:{key_id} is not a JSON object: left out of /list_users")));
    }

    // They can be deleted like any user.
    for key_id in [777, 778, 779, 780, 781] {
        app.delete(&format!("/delete_user/{key_id}")).assert(200, json!({ "message": "Utilisateur supprimé" }));
    }
    assert_eq!(app.get("/list_users").json(), json!([{ "id": id, "nom": "Doe", "prenom": "John" }]));
}

#[test]
fn ids_past_ten_to_the_fourteen_are_exact() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    redis::cmd("SET").arg("user_id_counter").arg(99_999_999_999_998u64).exec(&mut redis).unwrap();
    // Both APIs take ids from the same counter.
    let ids = [
        create(&app, "A", "a"),
        crate::v1::users::create_user(&app, "B", "b")["id"].as_u64().unwrap(),
        create(&app, "C", "c"),
        crate::v1::users::create_user(&app, "D", "d")["id"].as_u64().unwrap(),
    ];
    assert_eq!(ids, [99_999_999_999_999, 100_000_000_000_000, 100_000_000_000_001, 100_000_000_000_002]);
    for (id, nom) in ids.iter().zip(["A", "B", "C", "D"]) {
        let stored: String = redis::cmd("GET").arg(format!("user:{id}")).query(&mut redis).unwrap();
        let stored: Value = serde_json::from_str(&stored).unwrap();
        assert_eq!((&stored["id"], &stored["nom"]), (&json!(id), &json!(nom)));
        app.get(&format!("/get_user/{id}")).assert(200, json!({ "id": id, "nom": nom, "prenom": nom.to_lowercase() }));
    }
    assert_eq!(crate::helpers::indexed_users(&mut redis), ids.into_iter().collect());
    let listed: Vec<u64> =
        app.get("/list_users").json().as_array().unwrap().iter().map(|u| u["id"].as_u64().unwrap()).collect();
    assert_eq!(listed, ids);
    let counter: u64 = redis::cmd("GET").arg("user_id_counter").query(&mut redis).unwrap();
    assert_eq!(counter, 100_000_000_000_002);
    let written: Vec<String> =
        redis::cmd("SCAN").cursor_arg(0).arg("MATCH").arg("user:*").clone().iter(&mut redis).unwrap().collect();
    assert_eq!(written.len(), 4, "{written:?}");
}

/// 2^53 − 1: the largest id every JSON client reads exactly.
const MAX_USER_ID: u64 = 9_007_199_254_740_991;

#[test]
fn the_last_id_is_handed_out_then_creates_are_refused_and_write_nothing() {
    let Some(app) = TestApp::spawn_private(&[]) else { return };
    let mut redis = app.redis().unwrap();
    redis::cmd("SET").arg("user_id_counter").arg(MAX_USER_ID - 1).exec(&mut redis).unwrap();
    assert_eq!(create(&app, "Last", "One"), MAX_USER_ID);
    app.get(&format!("/get_user/{MAX_USER_ID}"))
        .assert(200, json!({ "id": MAX_USER_ID, "nom": "Last", "prenom": "One" }));
    let res = app.get(&format!("/get_user/{MAX_USER_ID}"));
    assert_eq!(res.text(), format!("{{\"id\":{MAX_USER_ID},\"nom\":\"Last\",\"prenom\":\"One\"}}\n"));

    let before = redis_snapshot(&mut redis);
    let refused = json!({ "error": "Plus aucun identifiant d'utilisateur disponible" });
    app.post_json("/create_user", &json!({ "nom": "One", "prenom": "Too many" })).assert(507, refused.clone());
    let res = app.post_json("/v1/users", &json!({ "nom": "One", "prenom": "Too many" }));
    crate::helpers::assert_problem(&res, 507);
    assert!(res.json()["detail"].as_str().unwrap().contains(&MAX_USER_ID.to_string()), "{}", res.text());
    let keyed = app.request("POST", "/v1/users").header("idempotency-key", "last-one");
    let res = app.send(keyed.json(&json!({ "nom": "One", "prenom": "Too many" })));
    crate::helpers::assert_problem(&res, 507);
    app.post_json("/create_user", &json!({ "nom": "One", "prenom": "Too many" })).assert(507, refused);
    assert_eq!(redis_snapshot(&mut redis), before, "a refused create changed Redis");
    assert!(app.stderr_says("user_id_counter has reached 9007199254740991"));
}
