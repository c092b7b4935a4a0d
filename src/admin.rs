//! Operations for whoever runs the service.

use serde_json::json;
use spin_sdk::http::{Request, Response};

use crate::config::Config;

use crate::error::ApiError;
use crate::store::Store;
use crate::{request, response};

/// Keys `SCAN` looks at per batch (one Redis round trip each), and batches per request: a request
/// stays short, and a large database is adopted over several calls.
const SCAN_COUNT: u32 = 1000;
const BATCHES_PER_REQUEST: u32 = 100;

/// `POST /v1/admin/reindex-users[?cursor=]`: adopts a database written by the original Flask
/// service (users without index entries) by scanning `user:*` in bounded batches, never `KEYS`.
/// Answers `{"indexed", "complete", "cursor"}`; while `complete` is false, call again with `cursor`.
/// Safe to repeat.
pub fn reindex_users(req: &Request, _: &str, config: &Config) -> Result<Response, ApiError> {
    let start = match request::query_param(req, "cursor") {
        None => 0,
        Some(raw) => raw.parse::<u64>().ok().filter(|c| *c > 0).ok_or_else(|| ApiError::InvalidParameter {
            name: "cursor",
            reason: "must be the cursor a previous call returned".into(),
        })?,
    };
    let store = Store::open(&config.redis_url()?)?;
    let (mut cursor, mut indexed) = (start, 0);
    for _ in 0..BATCHES_PER_REQUEST {
        let (next, newly_indexed) = store.reindex_users_batch(cursor, SCAN_COUNT)?;
        indexed += newly_indexed;
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    let complete = cursor == 0;
    let body = json!({ "indexed": indexed, "complete": complete, "cursor": (!complete).then(|| cursor.to_string()) });
    Ok(response::json(200, &body))
}
