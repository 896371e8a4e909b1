//! The events the contexts exchange: the envelope, one payload type per event and version,
//! and the schema registry (`shared/schemas/<context>/<EventName>/<version>.json`).
//!
//! Two kinds travel: data streaming (CUD: `UserCreated`, `UserUpdated`, `TaskCreated`) that
//! lets a context keep its own copy of another's records, and business events
//! (`TaskAssigned`, `TaskCompleted`, ...) that say something happened.
//! Producers publish the newest version; consumers accept every version in the registry,
//! upcasting old ones on read (see [`tracker::TaskCreated::from_envelope`]).

pub mod accounting;
pub mod auth;
mod envelope;
pub mod schemas;
pub mod tracker;

pub use envelope::{Envelope, EventPayload};
