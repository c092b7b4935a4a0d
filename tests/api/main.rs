//! HTTP tests of the service, run against the real `.wasm` under the project's Spin test host
//! (`tests/spin-test-host`) with a redis-server of their own — or, when `APP_URL` is set, against an
//! already running server such as a real `spin up` (see README.md). One file per resource.

mod helpers;

mod access;
mod benchmark;
mod bodies;
mod deploy;
mod hostile_input;
mod idempotency;
mod invariants;
mod methods;
mod openapi;
mod operations;
mod original_sessions;
mod original_users;
mod properties;
mod real_spin_facts;
mod redis_cost;
mod redis_errors;
mod redis_faults;
mod reply;
mod request_log;
mod sessions;
mod soak;
mod token_storage;
mod users;
