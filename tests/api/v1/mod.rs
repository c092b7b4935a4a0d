mod idempotency;
mod session_cap;
mod session_header;
mod session_kit;
mod session_lifetime;
mod sessions;
mod token_secrecy;
pub mod token_storage;
pub mod users;
