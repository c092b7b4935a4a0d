mod benchmark;
mod properties;
mod soak;
