mod original_sessions;
mod original_users;
