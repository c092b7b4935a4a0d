//! The methods every route takes as Flask's did: `HEAD` wherever there is `GET` (the `GET` answer's
//! status and headers, no body) and `OPTIONS` everywhere (`200` with `Allow`, no body).

use serde_json::json;

use crate::helpers::TestApp;

#[test]
fn head_answers_what_get_would_without_the_body() {
    let app = TestApp::spawn();
    let id = app.post_json("/create_user", &json!({ "nom": "Head", "prenom": "Less" })).json()["user_id"].clone();
    for path in [format!("/get_user/{id}"), "/get_user/0".into(), "/list_users".into(), format!("/v1/users/{id}")] {
        let get = app.get(&path);
        let head = app.send(app.request("HEAD", &path));
        assert_eq!(head.status, get.status, "{path}");
        assert!(head.body.is_empty(), "{path}: {:?}", head.text());
        for name in ["content-type", "etag"] {
            assert_eq!(head.header(name), get.header(name), "{name} of {path}");
        }
    }
    // HEAD where there is no GET is a method like any other the route does not take.
    let res = app.send(app.request("HEAD", "/create_user"));
    assert_eq!((res.status, res.header("allow")), (405, Some("OPTIONS, POST")));
}

#[test]
fn options_lists_the_methods_of_every_route() {
    let app = TestApp::spawn();
    for (path, allow) in [
        ("/create_user", "OPTIONS, POST"),
        ("/get_user/1", "GET, HEAD, OPTIONS"),
        ("/delete_user/1", "DELETE, OPTIONS"),
        ("/list_users", "GET, HEAD, OPTIONS"),
        ("/create_session", "OPTIONS, POST"),
        ("/get_session/abc", "GET, HEAD, OPTIONS"),
        ("/v1/users", "GET, HEAD, OPTIONS, POST"),
        ("/v1/users/1", "DELETE, GET, HEAD, OPTIONS, PATCH"),
        ("/v1/sessions/abc", "DELETE, GET, HEAD, OPTIONS, PATCH"),
        ("/healthz", "GET, HEAD, OPTIONS"),
    ] {
        let res = app.send(app.request("OPTIONS", path));
        assert_eq!((res.status, res.header("allow")), (200, Some(allow)), "{path}");
        assert!(res.body.is_empty(), "{path}: {:?}", res.text());
    }
}
