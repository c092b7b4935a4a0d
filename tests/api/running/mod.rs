mod deploy;
mod openapi;
mod operations;
mod real_spin_facts;
