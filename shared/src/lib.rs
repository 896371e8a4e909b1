//! Types shared by the aTES server and its clients: the HTTP API's shapes (`api`), roles,
//! money, and the events the bounded contexts exchange together with their JSON Schemas
//! (`events`). Changing a shape here changes the contract in `API.md`: add, never rename.

pub mod api;
pub mod events;
pub mod money;
pub mod role;
pub mod time;

pub use money::Cents;
pub use role::Role;
