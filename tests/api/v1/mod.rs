mod idempotency;
mod session_cap;
mod session_header;
mod session_kit;
mod session_lifetime;
mod sessions;
pub mod token_storage;
mod token_secrecy;
pub mod users;
