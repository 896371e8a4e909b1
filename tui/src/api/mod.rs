//! Talking to the server: a typed HTTP client, the change stream, and the error type both share.

pub mod client;
pub mod error;
pub mod sse;
pub mod tls;

pub use client::Client;
pub use error::ApiError;
