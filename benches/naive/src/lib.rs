//! The naive peer of `benches/run`: the original Flask service's six endpoints, ported to Spin the
//! way Spin's documentation shows (`examples/http-router` of spin-rust-sdk): a `Router` built on
//! every request, one `variables::get` and one `Connection::open` per request, and the Redis
//! commands the Flask code sent, one per endpoint where it sent one.
//!
//! It answers the same statuses and JSON values as the service's original endpoints (its own
//! bytes: serde_json's, not Flask's `jsonify`'s), on the same Redis keys, so `benches/run` seeds its
//! Redis with the service's data. It skips everything the service adds: access control, request
//! ids, the access log, input limits, atomic writes, the `users:index` set, careful errors.
//!
//! Its `GET /get_session/{id}` is also the minimal Spin component that answers a session with one
//! variable lookup and one `GET`.
//!
//! One departure from the documentation, in how the answer is handed to the host (`send`): the
//! SDK's own way (`#[http_component]` on a function returning a `Response`) gives Spin the headers
//! before the body, and Spin 4.0.2 then stalls about 15% of keep-alive requests for 40 ms (Nagle's
//! algorithm against the client's delayed ACK; `wrk -t1 -c1` on `/get_user/2`: p50 0.8 ms, p99
//! 42 ms). A peer that stalls would flatter the service, which fixed that (`src/reply.rs`), so the
//! peer writes the body first too.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use spin_sdk::http::conversions::TryFromIncomingRequest;
use spin_sdk::http::{
    IncomingRequest, IntoResponse, OutgoingBody, OutgoingResponse, Params, Request, Response, ResponseOutparam, Router,
};
use spin_sdk::http_component;
use spin_sdk::redis::{Connection, RedisParameter, RedisResult};
use spin_sdk::variables;

#[derive(Serialize, Deserialize)]
struct User {
    id: u64,
    nom: String,
    prenom: String,
}

#[derive(Deserialize)]
struct NewUser {
    nom: Option<String>,
    prenom: Option<String>,
}

#[derive(Deserialize)]
struct NewSession {
    session_id: Option<Value>,
    data: Option<Value>,
}

#[http_component]
async fn entry(req: IncomingRequest, out: ResponseOutparam) {
    let response = match Request::try_from_incoming_request(req).await {
        Ok(req) => handle(req),
        Err(e) => e.into_response(),
    };
    send(out, response);
}

fn handle(req: Request) -> Response {
    let mut router = Router::new();
    router.post("/create_user", create_user);
    router.get("/get_user/:id", get_user);
    router.delete("/delete_user/:id", delete_user);
    router.get("/list_users", list_users);
    router.post("/create_session", create_session);
    router.get("/get_session/:session_id", get_session);
    router.handle(req)
}

/// Writes the whole body into the host's buffer (every answer here fits in it), then hands the
/// response over, so that Spin sends headers and body together.
fn send(out: ResponseOutparam, mut response: Response) {
    let body = std::mem::take(response.body_mut());
    let outgoing = OutgoingResponse::try_from(response).expect("the router builds valid responses");
    let outgoing_body = outgoing.body().expect("the body is taken once");
    let stream = outgoing_body.write().expect("the body is written once");
    match stream.check_write() {
        Ok(room) if room >= body.len() as u64 => stream.write(&body).expect("the host has room for it"),
        _ => panic!("an answer of {} bytes does not fit in the host's buffer", body.len()),
    }
    drop(stream);
    OutgoingBody::finish(outgoing_body, None).expect("the body is complete");
    out.set(outgoing);
}

fn redis() -> anyhow::Result<Connection> {
    let address = variables::get("redis_address")?;
    Ok(Connection::open(&address)?)
}

fn reply(status: u16, body: &Value) -> anyhow::Result<Response> {
    Ok(Response::builder().status(status).header("content-type", "application/json").body(body.to_string()).build())
}

fn error(status: u16, message: &str) -> anyhow::Result<Response> {
    reply(status, &json!({ "error": message }))
}

fn create_user(req: Request, _: Params) -> anyhow::Result<Response> {
    let Ok(NewUser { nom: Some(nom), prenom: Some(prenom) }) = serde_json::from_slice(req.body()) else {
        return error(400, "Les champs 'nom' et 'prenom' sont obligatoires");
    };
    if nom.is_empty() || prenom.is_empty() {
        return error(400, "Les champs 'nom' et 'prenom' sont obligatoires");
    }
    let conn = redis()?;
    let id = conn.incr("user_id_counter")?;
    let user = User { id: id as u64, nom, prenom };
    conn.set(&format!("user:{id}"), &serde_json::to_vec(&user)?)?;
    reply(201, &json!({ "message": "Utilisateur créé", "user_id": id }))
}

fn get_user(_: Request, params: Params) -> anyhow::Result<Response> {
    let Some(id) = params.get("id").and_then(|id| id.parse::<u64>().ok()) else {
        return error(404, "Utilisateur non trouvé");
    };
    match redis()?.get(&format!("user:{id}"))? {
        Some(stored) => reply(200, &serde_json::to_value(serde_json::from_slice::<User>(&stored)?)?),
        None => error(404, "Utilisateur non trouvé"),
    }
}

fn delete_user(_: Request, params: Params) -> anyhow::Result<Response> {
    let Some(id) = params.get("id").and_then(|id| id.parse::<u64>().ok()) else {
        return error(404, "Utilisateur non trouvé");
    };
    if redis()?.del(&[format!("user:{id}")])? == 0 {
        return error(404, "Utilisateur non trouvé");
    }
    reply(200, &json!({ "message": "Utilisateur supprimé" }))
}

/// The Flask service listed `KEYS user:*` and read each key; the simplest faithful read here is
/// the same `KEYS` and one `MGET` of the keys it names.
fn list_users(_: Request, _: Params) -> anyhow::Result<Response> {
    let conn = redis()?;
    let keys: Vec<RedisParameter> = conn
        .execute("KEYS", &[RedisParameter::Binary(b"user:*".to_vec())])?
        .into_iter()
        .filter_map(|key| match key {
            RedisResult::Binary(key) => Some(RedisParameter::Binary(key)),
            _ => None,
        })
        .collect();
    let mut users = Vec::new();
    if !keys.is_empty() {
        for stored in conn.execute("MGET", &keys)? {
            if let RedisResult::Binary(stored) = stored {
                users.push(serde_json::from_slice::<User>(&stored)?);
            }
        }
    }
    users.sort_by_key(|user| user.id);
    reply(200, &serde_json::to_value(users)?)
}

fn create_session(req: Request, _: Params) -> anyhow::Result<Response> {
    let Ok(body) = serde_json::from_slice::<NewSession>(req.body()) else {
        return error(400, "session_id manquant");
    };
    let session_id = match body.session_id {
        Some(Value::String(id)) if !id.is_empty() => id,
        Some(Value::Number(id)) if id.is_u64() || id.is_i64() => id.to_string(),
        _ => return error(400, "session_id manquant"),
    };
    let data = body.data.unwrap_or_else(|| json!({})).to_string();
    redis()?.execute(
        "SET",
        &[
            RedisParameter::Binary(format!("session:{session_id}").into_bytes()),
            RedisParameter::Binary(data.into_bytes()),
            RedisParameter::Binary(b"EX".to_vec()),
            RedisParameter::Int64(3600),
        ],
    )?;
    reply(201, &json!({ "message": "Session enregistrée" }))
}

fn get_session(_: Request, params: Params) -> anyhow::Result<Response> {
    let session_id = params.get("session_id").unwrap_or_default();
    match redis()?.get(&format!("session:{session_id}"))? {
        Some(stored) => reply(200, &serde_json::from_slice::<Value>(&stored)?),
        None => error(404, "Session introuvable ou expirée"),
    }
}
