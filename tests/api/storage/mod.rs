mod invariants;
mod redis_cost;
mod redis_errors;
mod redis_faults;
