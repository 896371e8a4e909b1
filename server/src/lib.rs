//! aTES server: auth, task tracker, accounting and analytics as
//! bounded contexts over SQLite, talking only through versioned events carried by a
//! transactional outbox. `main.rs` is thin: everything lives here so tests can start the
//! real application on a random port.

// Denied, not forbidden: `memory` and `priority` alone call C (the allocators' tuning,
// a thread's scheduling priority).
#![deny(unsafe_code)]

pub mod accounting;
pub mod analytics;
pub mod app;
pub mod auth;
pub mod backup;
pub mod clock;
pub mod config;
pub mod dates;
pub mod db;
pub mod error;
pub mod events;
pub mod gateway;
pub mod http;
pub mod lock;
#[allow(unsafe_code)]
pub mod memory;
pub mod paging;
#[allow(unsafe_code)]
pub mod priority;
pub mod text;
pub mod tracker;

pub use app::Application;
pub use config::Config;
