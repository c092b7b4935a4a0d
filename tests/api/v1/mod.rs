mod idempotency;
mod sessions;
pub mod token_storage;
pub mod users;
