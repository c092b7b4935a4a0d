//! Operations for whoever runs the service.

use serde_json::json;

use crate::routing::Context;

use crate::error::{ApiError, ParameterProblem};
use crate::http::Response;
use crate::store;
use crate::{request, response};

/// Keys `SCAN` looks at per batch (one Redis round trip each), and batches per request: a request
/// stays short, and a large database is adopted over several calls.
const SCAN_COUNT: u32 = 1000;
const BATCHES_PER_REQUEST: u32 = 100;

/// Unrepresentable ids named in one answer: enough to find a few stray keys, while a database
/// full of them cannot make the answer large (the count is always whole).
const UNREPRESENTABLE_IDS_SHOWN: usize = 100;

/// `POST /v1/admin/reindex-users[?cursor=]`: adopts a database written by the original Flask
/// service (users without index entries) by scanning `user:*` in bounded batches, never `KEYS`.
/// Answers `{"indexed", "complete", "cursor", "unrepresentable", "unrepresentable_ids"}`; while
/// `complete` is false, call again with `cursor`. Safe to repeat.
///
/// `unrepresentable` counts the `user:<id>` records met in this call whose id is above
/// `store::MAX_USER_ID` (2^53 − 1): they are not indexed and do not raise the counter, so they
/// stay out of listings but are still read by their paths; `unrepresentable_ids` names the first
/// of them, as strings (as numbers, JSON clients would round them).
pub fn reindex_users(cx: &Context) -> Result<Response, ApiError> {
    let req = cx.req;
    let start = match request::query_param(req, "cursor") {
        None => 0,
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|c| *c > 0)
            .ok_or(ApiError::InvalidParameter { name: "cursor", problem: ParameterProblem::NotAReindexCursor })?,
    };
    let store = cx.store()?;
    let (mut cursor, mut indexed, mut unrepresentable, mut unrepresentable_ids) = (start, 0, 0, Vec::new());
    for _ in 0..BATCHES_PER_REQUEST {
        let batch = store.reindex_users_batch(cursor, SCAN_COUNT)?;
        indexed += batch.indexed;
        unrepresentable += batch.unrepresentable.len();
        let room = UNREPRESENTABLE_IDS_SHOWN.saturating_sub(unrepresentable_ids.len());
        unrepresentable_ids.extend(batch.unrepresentable.into_iter().take(room));
        cursor = batch.cursor;
        if cursor == 0 {
            break;
        }
    }
    if unrepresentable > 0 {
        eprintln!(
            "reindex: {unrepresentable} user ids above {} left unindexed: {unrepresentable_ids:?}",
            store::MAX_USER_ID
        );
    }
    let complete = cursor == 0;
    let body = json!({
        "indexed": indexed,
        "complete": complete,
        "cursor": (!complete).then(|| cursor.to_string()),
        "unrepresentable": unrepresentable,
        "unrepresentable_ids": unrepresentable_ids,
    });
    Ok(response::json(200, &body))
}
