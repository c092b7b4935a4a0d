//! HTTP tests of the service, run against the real `.wasm` under the project's Spin test host
//! (`tests/spin-test-host`) with a redis-server of their own, under the real Spin CLI when
//! `SPIN_BIN` names it, or, when `APP_URL` is set, against an already running server (see docs/TESTING.md).
//! One file per resource or concern, in a folder per concern:

mod helpers;

/// The request edge, before any handler: access tokens, bodies, methods, hostile input, request ids
/// and the access log, how a response reaches the host.
mod edge;
/// Long and random runs: property tests, and the soak and benchmark run on demand (`--ignored`).
mod load;
/// The original Flask service's six endpoints, byte for byte.
mod original;
/// Running it: `/healthz` and reindexing, the OpenAPI document, deployment, facts of real Spin.
mod running;
/// The service and its Redis: the cost of each endpoint in round trips, Redis refusing or going
/// away, and the data model's invariants under concurrent clients.
mod storage;
/// The versioned API: users, sessions, `Idempotency-Key`, how session tokens are stored.
mod v1;
