//! The event pipeline every context uses: the schema registry, the transactional outbox,
//! transports that carry an outbox log to consumers, and the consumer runtime with its
//! positions, inbox (idempotency), retries and dead letters.
//!
//! Producing: inside a write transaction, [`Outbox::publish`] validates the payload against
//! its schema and appends it to the context's `outbox` table, so the business row and its
//! event commit together or not at all.
//!
//! Consuming: a [`consumer::Consumer`] follows one producer's log through an
//! [`transport::EventLog`], and applies batches of events with a [`consumer::Handler`]
//! inside one transaction of its own database, together with its new position and the ids
//! of the events it applied. A redelivered event is found in the inbox and skipped.

pub mod applied;
pub mod broker;
pub mod consumer;
pub mod outbox;
pub mod rebuild;
pub mod routes;
pub mod schema;
pub mod system;
pub mod tables;
pub mod transport;

#[cfg(test)]
pub(crate) mod test_log;
#[cfg(test)]
mod tests;

pub use ates_shared::events::{Envelope, EventPayload};
pub use consumer::{Batch, Consumer, Handler, Prepared};
pub use outbox::Outbox;
pub use system::EventSystem;
