//! Black-box tests: each starts the real application on a random port with a temporary
//! data directory and talks HTTP to it. One test binary keeps linking cheap.

mod accounting;
mod analytics;
mod auth;
mod billing_days;
mod crash;
mod errors;
mod events;
mod fuzzing;
mod helpers;
mod operations;
mod properties;
mod roles;
mod split;
mod tracker;
